// usercrashctl's commands run in-process over a crash directory of rendered
// reports: no root, no kernel settings, no server.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/render.h"
#include "store/core_archive.h"
#include "tools/ctl/command.h"
#include "tools/ctl/time_display.h"
#include "unit/ctl_run.h"
#include "unit/sample_report.h"
#include "unit/test_support.h"
#include "unit/zone_guard.h"
#include "util/unique_fd.h"

namespace usercrash::tools::ctl {
namespace {

using nlohmann::json;

using test::Result;

class Ctl : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(dir_.path().c_str(), 0700);
    config_.directory = dir_.path();
    config_.count = 10;
    config_.socket = dir_ / "no.sock";
    config_.kernel_socket = dir_ / "no-kernel.sock";
  }

  // Writes slot INDEX from `report`, published at `mtime`.
  void write_slot(unsigned index, const engine::Report& report, time_t mtime, bool with_json = true) {
    std::string name = fmt::format("usercrash_{:02}", index);
    std::ofstream(dir_ / name) << report::render_text(report);
    if (with_json) std::ofstream(dir_ / (name + ".json")) << report::render_json(report);
    timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ::utimensat(AT_FDCWD, (dir_ / name).c_str(), times, 0);
  }

  Result ctl(std::vector<std::string> args) {
    Context ctx;
    ctx.preloaded = config_;
    return test::run_captured(ctx, std::move(args));
  }

  // Slot NAME's text as info prints it: the report with its time shown in
  // the local zone (issue 12.8; TimesAreLocalWithTheZoneOrUtcAndJsonStaysUtc
  // checks that line).
  std::string shown(const std::string& name) { return show_report_times(test::read_file(dir_ / name), false); }

  test::TempDir dir_;
  config::Config config_;
};

engine::Report report_of(int pid, int signal, const std::string& exe) {
  engine::Report r = test::sample_report();
  r.pid = pid;
  r.tgid = pid;
  r.signal->number = signal;
  r.exe = exe;
  return r;
}

TEST_F(Ctl, ListShowsTheReportsNewestFirst) {
  write_slot(0, report_of(100, 11, "/usr/bin/older"), 1'700'000'000);
  write_slot(1, report_of(200, 6, "/usr/bin/newer"), 1'700'000'100);
  Result r = ctl({"list"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto newer = r.out.find("usercrash_01"), older = r.out.find("usercrash_00");
  ASSERT_NE(newer, std::string::npos) << r.out;
  ASSERT_NE(older, std::string::npos) << r.out;
  EXPECT_LT(newer, older);
  EXPECT_NE(r.out.find("/usr/bin/newer"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Ctl, ListJson) {
  write_slot(3, report_of(300, 11, "/usr/bin/x"), 1'700'000'000);
  Result r = ctl({"list", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  json list = json::parse(r.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["slot"], "usercrash_03");
  EXPECT_EQ(list[0]["pid"], 300);
}

TEST_F(Ctl, InfoBySlotOrPidPrintsTheReport) {
  write_slot(2, report_of(4242, 11, "/usr/bin/x"), 1'700'000'000);
  std::string text = shown("usercrash_02");
  for (const char* selector : {"2", "usercrash_02"}) {
    Result r = ctl({"info", "--full", selector});
    ASSERT_EQ(r.status, 0) << selector << ": " << r.err;
    EXPECT_EQ(r.out, text) << selector;
  }
  Result by_pid = ctl({"info", "--full", "--pid", "4242"});
  EXPECT_EQ(by_pid.status, 0) << by_pid.err;
  EXPECT_EQ(by_pid.out, text);
  Result as_json = ctl({"info", "--full", "--json", "2"});
  EXPECT_EQ(as_json.status, 0);
  EXPECT_EQ(json::parse(as_json.out)["pid"], 4242);
}

// Issue 12.7: the report's UUID names it in list and wherever a slot is
// accepted, also after its slot was reused.
TEST_F(Ctl, EveryReportHasAStableIdAcceptedWhereverASlotIs) {
  engine::Report first = report_of(100, 11, "/usr/bin/first");
  engine::Report second = report_of(200, 6, "/usr/bin/second");
  ASSERT_NE(first.id, second.id);
  write_slot(0, first, 1'700'000'000);
  write_slot(1, second, 1'700'000'100);
  Result table = ctl({"list"});
  EXPECT_NE(table.out.find("usercrash_00  " + first.id), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("usercrash_01  " + second.id), std::string::npos) << table.out;
  json list = json::parse(ctl({"list", "--json"}).out);
  EXPECT_EQ(list[0]["id"], second.id);
  EXPECT_EQ(list[1]["id"], first.id);

  std::string upper = first.id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& selector : {first.id, upper}) {
    Result info = ctl({"info", "--full", selector});
    EXPECT_EQ(info.status, 0) << info.err;
    EXPECT_EQ(info.out, shown("usercrash_00")) << selector;
  }
  EXPECT_EQ(json::parse(ctl({"info", "--full", "--json", second.id}).out)["pid"], 200);
  Result gdb = ctl({"gdb", second.id});  // found: it says the core is missing, not the report
  EXPECT_NE(gdb.err.find("usercrash_01"), std::string::npos) << gdb.err;

  // Slot 0 reused by another crash: the old id names nothing, the new one slot 0.
  engine::Report third = report_of(300, 11, "/usr/bin/third");
  write_slot(0, third, 1'700'000'200);
  Result gone = ctl({"info", "--full", first.id});
  EXPECT_EQ(gone.status, kExitFailure);
  EXPECT_EQ(gone.err, "usercrashctl: no report with id " + first.id + "\n");
  EXPECT_EQ(ctl({"info", "--full", third.id}).out, shown("usercrash_00"));
  // The text alone (no JSON) still gives the id.
  ASSERT_EQ(::unlink((dir_ / "usercrash_01.json").c_str()), 0);
  EXPECT_EQ(ctl({"info", "--full", second.id}).out, shown("usercrash_01"));
}

// Issue 12.8: times in the local zone with its name, --utc for UTC; JSON
// stays UTC.
TEST_F(Ctl, TimesAreLocalWithTheZoneOrUtcAndJsonStaysUtc) {
  test::ZoneGuard zone("CET-1CEST,M3.5.0,M10.5.0/3");  // a POSIX TZ: no tzdata needed
  engine::Report report = report_of(100, 11, "/usr/bin/x");
  report.time = 1'700'000'000;  // 2023-11-14T22:13:20Z
  write_slot(0, report, 1'700'000'000);
  Result list = ctl({"list"});
  EXPECT_NE(list.out.find("Tue 2023-11-14 23:13:20 CET"), std::string::npos) << list.out;
  Result list_utc = ctl({"--utc", "list"});
  EXPECT_NE(list_utc.out.find("Tue 2023-11-14 22:13:20 UTC"), std::string::npos) << list_utc.out;
  EXPECT_EQ(json::parse(ctl({"list", "--json"}).out)[0]["time"], "2023-11-14T22:13:20Z");

  Result info = ctl({"info", "0"});
  EXPECT_NE(info.out.find("\ntime: Tue 2023-11-14 23:13:20 CET\n"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("2023-11-14T22:13:20Z"), std::string::npos) << info.out;
  Result info_utc = ctl({"info", "--utc", "0"});
  EXPECT_NE(info_utc.out.find("\ntime: Tue 2023-11-14 22:13:20 UTC\n"), std::string::npos) << info_utc.out;
  EXPECT_EQ(json::parse(ctl({"info", "--json", "0"}).out)["time"], "2023-11-14T22:13:20Z");

  // Summer time: the zone's other name.
  report.time = 1'690'000'000;  // 2023-07-22T04:26:40Z
  write_slot(1, report, 1'690'000'000);
  EXPECT_NE(ctl({"info", "1"}).out.find("\ntime: Sat 2023-07-22 06:26:40 CEST\n"), std::string::npos);
}

TEST(TimeDisplay, OnlyTheHeadersIsoTimeIsRewritten) {
  EXPECT_EQ(parse_iso8601_utc("2023-11-14T22:13:20Z"), 1'700'000'000);
  for (const char* bad : {"", "2023-11-14 22:13:20", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z",
                          "2023-11-14T22:13:20Z ", "yesterdayyesterday!Z"})
    EXPECT_FALSE(parse_iso8601_utc(bad)) << bad;
  EXPECT_EQ(show_report_times("pid: 1\ntime: 2023-11-14T22:13:20Z\nx\ntime: 2023-11-14T22:13:20Z\n", true),
            "pid: 1\ntime: Tue 2023-11-14 22:13:20 UTC\nx\ntime: 2023-11-14T22:13:20Z\n");
  EXPECT_EQ(show_report_times("time: soon\nno newline", true), "time: soon\nno newline");
}

TEST_F(Ctl, ColorAlwaysColoursInfoNeverAndThePipeDoNot) {
  write_slot(0, report_of(100, 11, "/usr/bin/x"), 1'700'000'000);
  Result always = ctl({"--color=always", "info", "0"});
  EXPECT_NE(always.out.find("\x1b[1;31msignal: 11 (SIGSEGV)"), std::string::npos) << always.out;
  for (const char* off : {"--color=never", "--color=auto"}) {  // auto: this output is no terminal
    Result plain = ctl({off, "info", "0"});
    EXPECT_EQ(plain.out.find('\x1b'), std::string::npos) << off;
  }
  EXPECT_EQ(ctl({"--color=always", "info", "--json", "0"}).out.find('\x1b'), std::string::npos) << "JSON never";
  Result bad = ctl({"--color=sometimes", "list"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(bad.err.starts_with("usercrashctl: --color: 'sometimes' is not auto, always or never\n")) << bad.err;
  EXPECT_EQ(ctl({"--no-pager", "list"}).status, 0);
}

TEST_F(Ctl, FailuresAndUsageErrorsHaveTheirShapes) {
  Result missing = ctl({"info", "7"});
  EXPECT_EQ(missing.status, kExitFailure);
  EXPECT_EQ(missing.err, "usercrashctl: no report in slot 7 and none of pid 7\n");
  Result bad = ctl({"info", "latest"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err,
            "usercrashctl: info: 'latest' is neither a slot (7, usercrash_07), a report id nor a pid\n"
            "Try 'usercrashctl --help' for more information.\n");
  Result unknown = ctl({"frobnicate"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_TRUE(unknown.err.starts_with("usercrashctl: unknown command 'frobnicate'\nTry ")) << unknown.err;
  Result option = ctl({"list", "--bogus"});
  EXPECT_EQ(option.status, 2);
  EXPECT_TRUE(option.err.starts_with("usercrashctl: list: unknown option '--bogus'\n")) << option.err;
  EXPECT_TRUE(option.out.empty());
}

TEST_F(Ctl, GlobalOptionsBeforeOrAfterTheCommand) {
  for (auto args : std::vector<std::vector<std::string>>{{"--help"}, {"list", "--help"}, {"info", "-h"}}) {
    Result r = ctl(args);
    EXPECT_EQ(r.status, 0) << args[0];
    EXPECT_TRUE(r.out.starts_with("Usage: usercrashctl ")) << r.out;
  }
  Result version = ctl({"status", "-V"});
  EXPECT_EQ(version.out, std::string("usercrashctl ") + util::version() + "\n");
}

// Sets (or unsets, with nullptr) an environment variable for a scope.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Slot INDEX's saved core: BYTES, zstd-compressed as the server keeps it.
void write_core(const std::string& path, const std::string& bytes) {
  util::UniqueFd out(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  store::CoreWriter writer(out.get(), 1ULL << 40);
  ASSERT_TRUE(writer.add(std::as_bytes(std::span(bytes.data(), bytes.size()))));
  ASSERT_TRUE(writer.finish());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(Ctl, DebugWithoutACoreSaysHowToKeepOne) {
  write_slot(0, report_of(100, 11, "/usr/bin/x"), 1'700'000'000);
  for (const char* verb : {"debug", "gdb"}) {
    Result r = ctl({verb, "0"});
    EXPECT_EQ(r.status, kExitFailure) << verb;
    EXPECT_NE(r.err.find("has no saved core"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("save_core=yes"), std::string::npos) << r.err;
  }
}

// The product runs no debugger: debug unpacks the core into a new private
// directory and prints the command line, each word quoted for a shell. The
// line, run by a shell, gives the program exactly these words (printf
// stands for the debugger), and nothing in them runs.
TEST_F(Ctl, DebugPrintsTheCommandLineAndRunsNothing) {
  test::TempDir runtime;
  std::string exe = dir_ / "a b'$(touch pwned)";
  test::write_file(exe, "#!/bin/false\n", 0755);
  write_slot(0, report_of(100, 11, exe), 1'700'000'000);
  write_core(dir_ / "usercrash_00.core.zst", "ELF and more");
  EnvGuard xdg("XDG_RUNTIME_DIR", runtime.path().c_str());
  for (const char* verb : {"debug", "gdb"}) {
    Result r = ctl({verb, "0", "--debugger", "/usr/bin/printf", "-A", "'%s\\n'", "--", "after dashes"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto out = lines_of(r.out);
    ASSERT_EQ(out.size(), 2u) << r.out;
    std::string temp = out[1].substr(out[1].rfind(' ') + 1);
    EXPECT_TRUE(temp.starts_with(runtime.path() + "/usercrashctl-")) << r.out;
    EXPECT_EQ(out[0], "/usr/bin/printf '%s\\n' 'after dashes' -- '" + dir_.path() + "/a b'\\''$(touch pwned)' " + temp +
                          "/core");
    EXPECT_EQ(out[1], "# when done: rm -r -- " + temp);
    struct stat st {};
    ASSERT_EQ(::stat(temp.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(test::read_file(temp + "/core"), "ELF and more");
    std::string shell = "cd " + dir_.path() + " && " + out[0] + " > printed";
    ASSERT_EQ(std::system(shell.c_str()), 0) << shell;
    EXPECT_EQ(test::read_file(dir_ / "printed"), "after dashes\n--\n" + exe + "\n" + temp + "/core\n");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "pwned"));
    std::filesystem::remove_all(temp);
  }
}

// $XDG_RUNTIME_DIR only when it is the caller's alone; else $TMPDIR.
TEST_F(Ctl, DebugFallsBackOnTmpdirWhenTheRuntimeDirIsNotPrivate) {
  test::TempDir runtime, tmp;
  ::chmod(runtime.path().c_str(), 0777);
  write_slot(0, report_of(100, 11, "/bin/true"), 1'700'000'000);
  write_core(dir_ / "usercrash_00.core.zst", "core");
  EnvGuard xdg("XDG_RUNTIME_DIR", runtime.path().c_str());
  EnvGuard tmpdir("TMPDIR", tmp.path().c_str());
  Result r = ctl({"debug", "0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("gdb -- /bin/true " + tmp.path() + "/usercrashctl-")) << r.out;
  EXPECT_TRUE(std::filesystem::is_empty(runtime.path()));
}

// Issue 9.2: a report's "exe" (a tampered one, or one from before reports
// stayed root's) never reaches the debugger's command line as an option:
// "--eval-command=shell ..." as a relative path with a file of that name in
// the working directory was enough to run a command as root. A name no
// terminal shows as it is never reaches it either; neither leaves a
// directory behind.
TEST_F(Ctl, DebugTakesOnlyAnAbsoluteExecutableFromTheReport) {
  test::TempDir tmp;
  EnvGuard xdg("XDG_RUNTIME_DIR", nullptr);
  EnvGuard tmpdir("TMPDIR", tmp.path().c_str());
  write_slot(0, report_of(100, 11, "--eval-command=shell touch pwned"), 1'700'000'000);
  write_core(dir_ / "usercrash_00.core.zst", "core");
  Result r = ctl({"debug", "0"});
  EXPECT_EQ(r.status, kExitFailure);
  EXPECT_NE(r.err.find("is not an absolute path; give it with --exe PATH"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  write_slot(0, report_of(100, 11, "/bin/true\n-ex shell"), 1'700'000'000);
  Result hidden = ctl({"debug", "0"});
  EXPECT_EQ(hidden.status, kExitFailure);
  EXPECT_NE(hidden.err.find("characters a terminal would not show"), std::string::npos) << hidden.err;
  EXPECT_TRUE(hidden.out.empty()) << hidden.out;
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));

  Result given = ctl({"debug", "0", "--exe", "/bin/true"});
  EXPECT_EQ(given.status, 0) << given.err;
  EXPECT_TRUE(given.out.starts_with("gdb -- /bin/true " + tmp.path())) << given.out;
  Result bad_a = ctl({"debug", "0", "-A", "'open"});
  EXPECT_EQ(bad_a.status, 2);
  EXPECT_TRUE(bad_a.err.starts_with("usercrashctl: debug: -A: unterminated single quote\nTry ")) << bad_a.err;
}

// Issue 9.2: a small .core.zst that stands for far more than a core we
// would have kept is not unpacked.
TEST_F(Ctl, DebugDoesNotUnpackACoreLargerThanAnyWeKeep) {
  config_.max_core_size = 1 << 20;
  write_slot(0, report_of(100, 11, "/bin/true"), 1'700'000'000);
  {
    util::UniqueFd out(::open((dir_ / "usercrash_00.core.zst").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    store::CoreWriter writer(out.get(), 1ULL << 40);
    std::vector<std::byte> zeros(8 << 20);
    ASSERT_TRUE(writer.add(zeros));
    ASSERT_TRUE(writer.finish());
  }
  Result r = ctl({"debug", "0", "--", "-batch"});
  EXPECT_EQ(r.status, kExitFailure);
  EXPECT_NE(r.err.find("decompresses to more than 1048576 bytes"), std::string::npos) << r.err;
}

// Issue 9.2: info prints what the file holds, but never a terminal control
// or a character that reorders text, whoever wrote it.
TEST_F(Ctl, InfoNeverPrintsControlsOrBidiCharacters) {
  write_slot(0, report_of(100, 11, "/bin/true"), 1'700'000'000);
  std::ofstream(dir_ / "usercrash_00", std::ios::app) << "\x1b]0;title\x07 \u202Eevil\n";
  Result r = ctl({"info", "--full", "0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find("\u202E"), std::string::npos);
  EXPECT_NE(r.out.find("\\x1b]0;title\\x07 \\u202eevil"), std::string::npos) << r.out;
}

// dump writes the saved core, decompressed, into a new file: never over
// one that exists, never through a symlink; none is left when it fails.
TEST_F(Ctl, DumpWritesTheCoreToANewFileOnly) {
  write_slot(0, report_of(100, 11, "/bin/true"), 1'700'000'000);
  write_slot(1, report_of(101, 11, "/bin/true"), 1'700'000'100);
  std::string core(100000, '\0');
  core.replace(0, 12, "ELF and more");
  write_core(dir_ / "usercrash_00.core.zst", core);
  Result r = ctl({"dump", "0", "-o", dir_ / "out.core"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(test::read_file(dir_ / "out.core"), core);
  EXPECT_TRUE(r.out.empty() && r.err.empty()) << r.out << r.err;

  test::write_file(dir_ / "taken", "mine");
  Result exists = ctl({"dump", "0", "--output", dir_ / "taken"});
  EXPECT_EQ(exists.status, kExitFailure);
  EXPECT_EQ(exists.err, "usercrashctl: " + (dir_ / "taken") +
                            " exists; dump does not overwrite a file (choose another name or remove it)\n");
  EXPECT_EQ(test::read_file(dir_ / "taken"), "mine");
  ASSERT_EQ(::symlink((dir_ / "elsewhere").c_str(), (dir_ / "link").c_str()), 0);
  EXPECT_EQ(ctl({"dump", "0", "-o", dir_ / "link"}).status, kExitFailure);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "elsewhere"));

  Result none = ctl({"dump", "1", "-o", dir_ / "none.core"});
  EXPECT_EQ(none.status, kExitFailure);
  EXPECT_NE(none.err.find("usercrash_01 has no saved core"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.core"));

  config_.max_core_size = 4096;
  Result big = ctl({"dump", "0", "-o", dir_ / "big.core"});
  EXPECT_EQ(big.status, kExitFailure);
  EXPECT_NE(big.err.find("decompresses to more than 4096 bytes"), std::string::npos) << big.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "big.core")) << "the partial file is removed";
}

// Issue 12.6: info is a summary (header, signal, cause, the crashing
// thread's backtrace, where the report and core are); --full is the report.
TEST_F(Ctl, InfoSummarizesAndFullPrintsEverything) {
  write_slot(0, report_of(100, 11, "/usr/bin/x"), 1'700'000'000);
  Result r = ctl({"info", "0"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string full = shown("usercrash_00");
  EXPECT_LT(r.out.size(), full.size() / 2) << r.out;
  size_t registers = full.find("\n\nRegisters:");
  ASSERT_NE(registers, std::string::npos);
  EXPECT_TRUE(r.out.starts_with(full.substr(0, registers + 2))) << "the header as the report has it\n" << r.out;
  EXPECT_NE(r.out.find("signal: 11 (SIGSEGV)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nBackTrace:\n    #00 pc "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Registers:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Maps:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nreport: " + dir_.path() + "/usercrash_00 (usercrashctl info --full usercrash_00"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(r.out.ends_with("\ncore: none\n")) << r.out;
  write_core(dir_ / "usercrash_00.core.zst", "core");
  EXPECT_TRUE(ctl({"info", "0"}).out.ends_with("\ncore: " + dir_.path() + "/usercrash_00.core.zst\n"));
  EXPECT_EQ(ctl({"info", "--full", "0"}).out, full);
}

// Issue 12.6: -F FIELD, one line per report, from its JSON (dotted paths),
// else from its list entry; escaped.
TEST_F(Ctl, FieldPrintsOneValuePerReport) {
  engine::Report hostile = report_of(100, 11, "/usr/bin/a\x1b]0;t\x07");
  write_slot(0, hostile, 1'700'000'000);
  write_slot(1, report_of(200, 6, "/usr/bin/b"), 1'700'000'100);
  EXPECT_EQ(ctl({"list", "-F", "exe"}).out, "/usr/bin/b\n/usr/bin/a\\x1b]0;t\\x07\n");
  EXPECT_EQ(ctl({"list", "-F", "signal.name", "-r"}).out, "SIGSEGV\nSIGABRT\n");
  EXPECT_EQ(ctl({"list", "--field=pid", "100"}).out, "100\n");
  EXPECT_EQ(ctl({"list", "-F", "slot"}).out, "usercrash_01\nusercrash_00\n") << "from the list entry";
  EXPECT_EQ(ctl({"info", "-F", "threads.0.tid", "1"}).out,
            std::to_string(report_of(200, 6, "x").threads[0].tid) + "\n");
  EXPECT_EQ(ctl({"info", "-F", "no_such_key", "1"}).out, "\n");
  Result bad = ctl({"info", "-F", "a..b", "1"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(bad.err.starts_with("usercrashctl: -F: 'a..b' is not a field")) << bad.err;
  Result grouped = ctl({"list", "-F", "exe", "--group"});
  EXPECT_EQ(grouped.status, 2);
  EXPECT_TRUE(grouped.err.starts_with("usercrashctl: list: -F prints a field of each report; --group lists groups\n"))
      << grouped.err;
}

// Issue 12.6: list's matches, window and order over real report files;
// a bad time is a usage error in the one shape.
TEST_F(Ctl, ListMatchesWindowsAndOrders) {
  write_slot(0, report_of(100, 11, "/usr/bin/older"), 1'700'000'000);
  write_slot(1, report_of(200, 6, "/usr/bin/newer"), 1'700'000'100);
  auto slots = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"list", "-F", "slot"});
    Result r = ctl(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(slots({"-1"}), "usercrash_01\n");
  EXPECT_EQ(slots({"-r"}), "usercrash_00\nusercrash_01\n");
  EXPECT_EQ(slots({"/usr/bin/older"}), "usercrash_00\n");
  EXPECT_EQ(slots({"--signal", "ABRT"}), "usercrash_01\n");
  EXPECT_EQ(slots({"--pid", "100", "--pid", "200", "-n", "5"}), "usercrash_01\nusercrash_00\n");
  json only = json::parse(ctl({"list", "--json", "200"}).out);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0]["pid"], 200);
  json groups = json::parse(ctl({"list", "--group", "--json", "--exe", "/usr/bin/newer"}).out);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["newest"], "usercrash_01");
  Result none = ctl({"list", "nothing-like-it"});
  EXPECT_EQ(none.status, 0);
  EXPECT_EQ(none.out, "No report in " + dir_.path() + " matches.\n");
  Result bad = ctl({"list", "--since", "soonish"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(bad.err.starts_with("usercrashctl: list: --since: 'soonish' is not a time (")) << bad.err;
  EXPECT_TRUE(bad.err.ends_with("\nTry 'usercrashctl --help' for more information.\n")) << bad.err;
}

TEST_F(Ctl, CleanEmptiesTheDirectory) {
  write_slot(0, report_of(100, 11, "/usr/bin/x"), 1'700'000'000);
  Result r = ctl({"clean"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("Removed 1 report (2 files, ")) << r.out;
  EXPECT_EQ(ctl({"list"}).out, "No reports in " + dir_.path() + ".\n");
}

}  // namespace
}  // namespace usercrash::tools::ctl
