// /etc/usercrash.conf: every key, the defaults, every kind of bad line.
#include "config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::config {
namespace {

using std::chrono::milliseconds;
using test::TempDir;
using test::write_file;

Config parse_ok(std::string_view text) {
  auto c = parse(text, "test.conf");
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : Config{};
}

std::string parse_error(std::string_view text) {
  auto c = parse(text, "test.conf");
  EXPECT_FALSE(c) << "accepted: " << text;
  return c ? std::string() : c.error().message;
}

TEST(Config, Defaults) {
  Config c = parse_ok("");
  EXPECT_EQ(c.directory, "/var/log/usercrashes");
  EXPECT_EQ(c.socket, "/run/usercrash/usercrash.sock");
  EXPECT_EQ(c.kernel_socket, "/run/usercrash/coredump.sock");
  EXPECT_EQ(c.state_directory, "/var/lib/usercrash");
  EXPECT_EQ(c.count, 50u);
  EXPECT_EQ(c.max_concurrent, 1u);
  EXPECT_EQ(c.max_queue, 64u);
  EXPECT_EQ(c.request_timeout, milliseconds(1000));
  EXPECT_EQ(c.completion_timeout, milliseconds(100'000));
  EXPECT_EQ(c.client_timeout, milliseconds(50'000));
  EXPECT_FALSE(c.save_core);
  EXPECT_EQ(c.max_core_size, 2ULL << 30);
  EXPECT_FALSE(c.include_environment);
  EXPECT_EQ(c.time_budget, milliseconds(5000));
  EXPECT_EQ(c.source_lines, SourceLines::automatic);
  EXPECT_EQ(c.report_access, ReportAccess::root);
  EXPECT_FALSE(c.dump_secure_memory);
  EXPECT_EQ(c.rate_limit, 0u);
}

TEST(Config, CommentsBlankLinesAndSpaces) {
  Config c = parse_ok(
      "# a comment\n"
      "\n"
      "   \t\n"
      "  # indented comment\n"
      "  count = 7  \r\n"
      "directory=\"/srv/crashes\"\n");
  EXPECT_EQ(c.count, 7u);
  EXPECT_EQ(c.directory, "/srv/crashes");
}

TEST(Config, EveryKeyParses) {
  Config c = parse_ok(
      "directory=/srv/crash\n"
      "socket=/run/uc/s.sock\n"
      "kernel_socket=/run/uc/k.sock\n"
      "state_directory=/var/lib/uc\n"
      "count=100\n"
      "max_concurrent=4\n"
      "max_queue=0\n"
      "request_timeout=250ms\n"
      "completion_timeout=2m\n"
      "client_timeout=1h\n"
      "save_core=yes\n"
      "max_core_size=64M\n"
      "include_environment=true\n"
      "max_threads=10\n"
      "max_frames=20\n"
      "max_maps=30\n"
      "max_open_files=40\n"
      "max_report_size=1G\n"
      "time_budget=3\n"
      "source_lines=all\n"
      "report_access=owner\n"
      "dump_secure_memory=on\n"
      "rate_limit=60\n");
  EXPECT_EQ(c.directory, "/srv/crash");
  EXPECT_EQ(c.socket, "/run/uc/s.sock");
  EXPECT_EQ(c.kernel_socket, "/run/uc/k.sock");
  EXPECT_EQ(c.state_directory, "/var/lib/uc");
  EXPECT_EQ(c.count, 100u);
  EXPECT_EQ(c.max_concurrent, 4u);
  EXPECT_EQ(c.max_queue, 0u);
  EXPECT_EQ(c.request_timeout, milliseconds(250));
  EXPECT_EQ(c.completion_timeout, milliseconds(120'000));
  EXPECT_EQ(c.client_timeout, milliseconds(3'600'000));
  EXPECT_TRUE(c.save_core);
  EXPECT_EQ(c.max_core_size, 64ULL << 20);
  EXPECT_TRUE(c.include_environment);
  EXPECT_EQ(c.max_threads, 10u);
  EXPECT_EQ(c.max_frames, 20u);
  EXPECT_EQ(c.max_maps, 30u);
  EXPECT_EQ(c.max_open_files, 40u);
  EXPECT_EQ(c.max_report_size, 1ULL << 30);
  EXPECT_EQ(c.time_budget, milliseconds(3000));
  EXPECT_EQ(c.source_lines, SourceLines::all);
  EXPECT_EQ(c.report_access, ReportAccess::owner);
  EXPECT_TRUE(c.dump_secure_memory);
  EXPECT_EQ(c.rate_limit, 60u);
}

TEST(Config, OddValuesDumpBackThroughTheFileAndThroughSet) {
  Config c;
  c.directory = "/var/log/with spaces ";
  c.socket = "/run/\"quoted\" ";
  c.kernel_socket = "/run/crash #1";  // unquoted, ' #' reads as a comment
  for (const auto& [key, value] : dump(c)) {
    Config from_set;
    ASSERT_TRUE(set(from_set, key, value)) << key << "=" << value;
    Config from_file = parse_ok(key + "=" + value + "\n");
    if (key == "directory") {
      EXPECT_EQ(from_set.directory, c.directory);
      EXPECT_EQ(from_file.directory, c.directory);
    }
    if (key == "socket") {
      EXPECT_EQ(from_set.socket, c.socket);
      EXPECT_EQ(from_file.socket, c.socket);
    }
    if (key == "kernel_socket") {
      EXPECT_EQ(from_file.kernel_socket, c.kernel_socket);
    }
  }
}

TEST(Config, EveryKeyIsDocumentedAndDumpsBackToTheSameConfig) {
  const auto& names = keys();
  EXPECT_EQ(names.size(), 35u);
  Config c = parse_ok("count=9\nsave_core=yes\nsource_lines=none\ntime_budget=1500ms\nmax_core_size=8K\n");
  auto pairs = dump(c);
  ASSERT_EQ(pairs.size(), names.size());
  std::string text;
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(pairs[i].first, names[i]);
    text += pairs[i].first + "=" + pairs[i].second + "\n";
  }
  Config again = parse_ok(text);
  EXPECT_EQ(dump(again), pairs);
  EXPECT_EQ(again.count, 9u);
  EXPECT_EQ(again.source_lines, SourceLines::none);
  EXPECT_EQ(again.time_budget, milliseconds(1500));
  EXPECT_EQ(again.max_core_size, 8192u);
}

TEST(Config, BoolSpellings) {
  for (const char* yes : {"yes", "true", "1", "on"}) EXPECT_TRUE(parse_ok(std::string("save_core=") + yes).save_core);
  for (const char* no : {"no", "false", "0", "off"}) {
    Config base;
    base.save_core = true;
    auto c = parse(std::string("save_core=") + no, "x", base);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->save_core) << no;
  }
}

TEST(Config, BaseValuesAreKeptForKeysNotSet) {
  Config base;
  base.count = 3;
  base.directory = "/base";
  auto c = parse("count=4\n", "x", base);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->count, 4u);
  EXPECT_EQ(c->directory, "/base");
}

struct BadLine {
  std::string text;
  std::string error;  // expected message, exactly
};

class ConfigBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(ConfigBadLine, GivesFileLineAndReason) { EXPECT_EQ(parse_error(GetParam().text), GetParam().error); }

INSTANTIATE_TEST_SUITE_P(
    Config, ConfigBadLine,
    ::testing::Values(
        BadLine{"bogus=1\n", "test.conf:1: unknown key 'bogus'"},
        BadLine{"# ok\n\ncount 5\n", "test.conf:3: expected KEY=VALUE"},
        BadLine{"=5\n", "test.conf:1: missing key before '='"},
        BadLine{"count=1\nsave_core=no\ncount=2\n", "test.conf:3: 'count' already set on line 1"},
        BadLine{"count=five\n", "test.conf:1: count: not a whole number"},
        BadLine{"count=-1\n", "test.conf:1: count: not a whole number"},
        BadLine{"count=5x\n", "test.conf:1: count: not a whole number"},
        BadLine{"count=\n", "test.conf:1: count: not a whole number"},
        BadLine{"count=99999999999999999999\n", "test.conf:1: count: not a whole number"},
        BadLine{"\n\ncount=0\n", "test.conf:3: count: must be between 1 and 1000"},
        BadLine{"count=1001\n", "test.conf:1: count: must be between 1 and 1000"},
        BadLine{"max_concurrent=65\n", "test.conf:1: max_concurrent: must be between 1 and 64"},
        BadLine{"max_queue=4097\n", "test.conf:1: max_queue: must be between 0 and 4096"},
        BadLine{"request_timeout=5 s\n", "test.conf:1: request_timeout: not a duration (examples: 500ms, 5s, 2m)"},
        BadLine{"request_timeout=5w\n", "test.conf:1: request_timeout: not a duration (examples: 500ms, 5s, 2m)"},
        BadLine{"request_timeout=ms\n", "test.conf:1: request_timeout: not a duration (examples: 500ms, 5s, 2m)"},
        BadLine{"completion_timeout=0\n", "test.conf:1: completion_timeout: must be more than zero"},
        BadLine{"client_timeout=99999999999999999h\n",
                "test.conf:1: client_timeout: not a duration (examples: 500ms, 5s, 2m)"},
        BadLine{"max_core_size=12T\n", "test.conf:1: max_core_size: not a size (examples: 4096, 64K, 16M, 2G)"},
        BadLine{"max_core_size=4095\n", "test.conf:1: max_core_size: must be at least 4096"},
        BadLine{"max_report_size=17179869184G\n",
                "test.conf:1: max_report_size: not a size (examples: 4096, 64K, 16M, 2G)"},
        BadLine{"save_core=maybe\n", "test.conf:1: save_core: must be yes or no"},
        BadLine{"save_core=YES\n", "test.conf:1: save_core: must be yes or no"},
        BadLine{"source_lines=some\n", "test.conf:1: source_lines: must be one of: none, own, all, auto"},
        BadLine{"report_access=world\n", "test.conf:1: report_access: must be one of: root, owner"},
        BadLine{"directory=var/log\n", "test.conf:1: directory: must be an absolute path"},
        BadLine{"directory=\n", "test.conf:1: directory: must be an absolute path"},
        BadLine{"directory=/var/../etc\n", "test.conf:1: directory: must not contain '..'"},
        BadLine{"state_directory=/var/lib/..\n", "test.conf:1: state_directory: must not contain '..'"},
        BadLine{"socket=./s.sock\n", "test.conf:1: socket: must be an absolute path"},
        BadLine{"socket=/" + std::string(107, 's') + "\n", "test.conf:1: socket: longer than 107 characters"},
        BadLine{"kernel_socket=relative\n", "test.conf:1: kernel_socket: must be an absolute path"},
        BadLine{std::string("count=5\ndirectory=/a\0b\n", 22), "test.conf:2: contains a NUL byte"},
        BadLine{std::string("# comment \0 too\n", 16), "test.conf:1: contains a NUL byte"},
        BadLine{"socket=/run/x.sock\nkernel_socket=/run/x.sock\n", "test.conf: socket and kernel_socket must differ"}));

TEST(Config, DebuginfodUrlsAreHttpUrlsSeparatedBySpaces) {
  Config c = parse_ok("debuginfod_urls=http://127.0.0.1:8002 https://debuginfod.example.com\n");
  EXPECT_EQ(c.debuginfod_urls, "http://127.0.0.1:8002 https://debuginfod.example.com");
  EXPECT_EQ(parse_ok("debuginfod_urls=\n").debuginfod_urls, "");
  EXPECT_EQ(parse_error("debuginfod_urls=ftp://x\n"),
            "test.conf:1: debuginfod_urls: not space-separated http:// or https:// URLs");
}

TEST(Config, FirstErrorWins) { EXPECT_EQ(parse_error("count=1\nbad\nalso bad=\n"), "test.conf:2: expected KEY=VALUE"); }

TEST(Config, LineNumbersCountEveryLine) {
  std::string text;
  for (int i = 0; i < 41; ++i) text += (i % 2) ? "# comment\n" : "\n";
  text += "nope=1";  // line 42, no final newline
  EXPECT_EQ(parse_error(text), "test.conf:42: unknown key 'nope'");
}

TEST(Config, SetOverridesOneKeyWithTheSameChecks) {
  Config c;
  ASSERT_TRUE(set(c, "count", "12"));
  EXPECT_EQ(c.count, 12u);
  ASSERT_TRUE(set(c, "directory", "/x/y"));
  EXPECT_EQ(c.directory, "/x/y");
  ASSERT_TRUE(set(c, "time_budget", "2s"));
  EXPECT_EQ(c.time_budget, milliseconds(2000));
  auto bad = set(c, "count", "0");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "count: must be between 1 and 1000");
  EXPECT_EQ(c.count, 12u) << "a refused value leaves the old one";
  auto unknown = set(c, "colour", "blue");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown setting 'colour'");
}

TEST(ConfigLoad, MissingFile) {
  TempDir tmp;
  auto absent = load(tmp / "none.conf", false);
  ASSERT_TRUE(absent) << "absent and optional: the defaults";
  EXPECT_EQ(absent->count, 50u);
  auto required = load(tmp / "none.conf", true);
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().errno_value, ENOENT);
}

TEST(ConfigLoad, ReadsAFileAndNamesItInErrors) {
  TempDir tmp;
  write_file(tmp / "good.conf", "count=8\n", 0644);
  auto good = load(tmp / "good.conf", true);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->count, 8u);
  write_file(tmp / "bad.conf", "count=8\n\nwhat\n", 0644);
  auto bad = load(tmp / "bad.conf", true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, tmp / "bad.conf:3: expected KEY=VALUE");
}

TEST(ConfigLoad, RefusesFilesOthersCouldWriteWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "the ownership rule applies to root";
  TempDir tmp;
  std::string path = tmp / "usercrash.conf";
  write_file(path, "count=8\n", 0664);
  auto group = load(path, true);
  ASSERT_FALSE(group);
  EXPECT_NE(group.error().message.find("not writable by group or others"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0646), 0);
  EXPECT_FALSE(load(path, true));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::chown(path.c_str(), 4242, 0), 0);
  EXPECT_FALSE(load(path, true)) << "owned by another user";
  ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  EXPECT_TRUE(load(path, true));
}

// Issue 12.11: "directory = /x # old" is not the directory "/x # old".
TEST(Config, AHashAfterAValueIsRefusedWithFileAndLine) {
  EXPECT_EQ(parse_error("count = 8\ndirectory = /var/crash # where they go\n"),
            "test.conf:2: 'directory': a '#' after the value (comments take a line of their own; put a value "
            "holding ' #' in double quotes)");
  EXPECT_EQ(parse_error("count=8\t# ring\n").substr(0, 12), "test.conf:1:");
  // In double quotes, or not after a blank, it is part of the value.
  EXPECT_EQ(parse_ok("directory = \"/var/crash # kept\"\n").directory, "/var/crash # kept");
  EXPECT_EQ(parse_ok("directory = /var/crash#1\n").directory, "/var/crash#1");
  EXPECT_EQ(parse_ok("  # a comment line\ncount = 9\n").count, 9u);
}

TEST(ConfigLoad, DropInsAreReadInOrderOverTheFile) {
  TempDir tmp;
  std::string path = tmp / "usercrash.conf";
  write_file(path, "count = 8\nmax_concurrent = 2\n", 0644);
  ASSERT_EQ(::mkdir((path + ".d").c_str(), 0755), 0);
  write_file(path + ".d/50-local.conf", "count = 20\ndirectory = /srv/crashes\n", 0644);
  write_file(path + ".d/60-more.conf", "count = 30\n", 0644);  // later wins
  write_file(path + ".d/10-first.conf", "directory = /early\nmax_concurrent = 3\n", 0644);
  write_file(path + ".d/70-ignored.conf.orig", "count = 1\n", 0644);  // not *.conf
  write_file(path + ".d/.80-hidden.conf", "count = 2\n", 0644);
  auto config = load(path, true);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->count, 30u);
  EXPECT_EQ(config->directory, "/srv/crashes");
  EXPECT_EQ(config->max_concurrent, 3u);

  // A bad drop-in is named with its line.
  write_file(path + ".d/55-bad.conf", "\ncount = many\n", 0644);
  auto bad = load(path, true);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message.starts_with(path + ".d/55-bad.conf:2: count")) << bad.error().message;
  ASSERT_EQ(::unlink((path + ".d/55-bad.conf").c_str()), 0);

  // Drop-ins apply also without the file (the defaults under them).
  ASSERT_EQ(::unlink(path.c_str()), 0);
  auto without = load(path, false);
  ASSERT_TRUE(without) << without.error().message;
  EXPECT_EQ(without->count, 30u);
  EXPECT_EQ(without->max_concurrent, 3u);
}

TEST(ConfigLoad, RefusesADropInDirectoryOthersCouldWriteWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "the ownership rule applies to root";
  TempDir tmp;
  std::string path = tmp / "usercrash.conf";
  ASSERT_EQ(::mkdir((path + ".d").c_str(), 0755), 0);
  write_file(path + ".d/50-local.conf", "count = 20\n", 0644);
  ASSERT_TRUE(load(path, false));
  ASSERT_EQ(::chmod((path + ".d").c_str(), 0777), 0);
  auto open = load(path, false);
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message, path + ".d: must be owned by root and not writable by group or others");
  ASSERT_EQ(::chmod((path + ".d").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((path + ".d/50-local.conf").c_str(), 0666), 0);
  EXPECT_FALSE(load(path, false));
}

TEST(ConfigLoad, RefusesWhatIsNotARegularFile) {
  TempDir tmp;
  auto dir = load(tmp.path(), true);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);
}

TEST(ConfigLoad, RefusesHugeFiles) {
  TempDir tmp;
  std::string path = tmp / "big.conf";
  write_file(path, std::string((1 << 20) + 1, '#'), 0644);
  auto big = load(path, true);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("larger than 1 MiB"), std::string::npos);
}

TEST(Config, EngineUserIsAUserNameOrANumber) {
  EXPECT_EQ(Config{}.engine_user, "usercrash");
  EXPECT_EQ(parse_ok("engine_user=nobody").engine_user, "nobody");
  EXPECT_EQ(parse_ok("engine_user=65534").engine_user, "65534");
  EXPECT_EQ(parse_ok("engine_user=_crash-engine.1").engine_user, "_crash-engine.1");
  for (const char* bad : {"engine_user=", "engine_user=-x", "engine_user=a b", "engine_user=../x",
                          "engine_user=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    EXPECT_NE(parse_error(bad).find("engine_user"), std::string::npos) << bad;
}

}  // namespace
}  // namespace usercrash::config

namespace usercrash::config {
namespace {

TEST(Config, FleetKeys) {
  Config c;
  EXPECT_EQ(c.keep_per_signature, 3u);
  EXPECT_EQ(c.on_report, "");
  EXPECT_EQ(c.on_report_timeout, milliseconds(30'000));
  EXPECT_EQ(c.metrics_file, "");
  auto set_ok = parse(
      "keep_per_signature=0\non_report=/usr/local/bin/ship\non_report_timeout=2s\n"
      "metrics_file=/var/lib/prometheus/node-exporter/usercrash.prom\n",
      "t");
  ASSERT_TRUE(set_ok) << set_ok.error().message;
  EXPECT_EQ(set_ok->keep_per_signature, 0u);
  EXPECT_EQ(set_ok->on_report, "/usr/local/bin/ship");
  EXPECT_EQ(set_ok->on_report_timeout, milliseconds(2000));
  EXPECT_TRUE(parse("on_report=\n", "t")) << "empty: none";
  for (const char* bad : {"on_report=ship.sh\n", "metrics_file=usercrash.prom\n", "on_report=/a/../b\n",
                          "keep_per_signature=1001\n", "on_report_timeout=0s\n"}) {
    auto r = parse(bad, "t");
    EXPECT_FALSE(r) << bad;
  }
  auto relative = parse("on_report=ship.sh\n", "t");
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().message.find("absolute path (or empty for none)"), std::string::npos)
      << relative.error().message;
}

}  // namespace
}  // namespace usercrash::config
