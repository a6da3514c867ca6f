// usercrashctl symbolize (issue 11.4 and 11.5): a report of a stripped
// crasher (as on a device) gets, on this "build host", the functions,
// file:line and inlined calls the report of the unstripped build has: from
// a debug directory by build-id, and through a real debuginfod server and
// its cache. A down or silent server costs its budget and says so.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/debuginfod_server.h"
#include "e2e/harness.h"
#include "e2e/journald.h"
#include "e2e/report_schema.h"
#include "util/unique_fd.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

class Symbolize : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Symbolized {
  int status = -1;
  std::string out, err;
  double seconds = 0;
  json doc() const { return json::parse(out, nullptr, false); }
};

// usercrashctl ARGS with `env` and no DEBUGINFOD_URLS of ours; stdout (the
// report) and stderr (the notes) apart.
Symbolized ctl(const TempDir& dir, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
               const std::string& input = "/dev/null") {
  std::string command = "exec env -u DEBUGINFOD_URLS";
  for (const auto& e : env) command += ' ' + quoted(e);
  command += ' ' + quoted(program("usercrashctl"));
  for (const auto& a : args) command += ' ' + quoted(a);
  command += " <" + quoted(input) + " >" + quoted(dir / "symbolized.out") + " 2>" + quoted(dir / "symbolized.err");
  auto start = Clock::now();
  Symbolized s;
  int status = run({"sh", "-c", command}).status;
  s.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  s.out = read_file(dir / "symbolized.out");
  s.err = read_file(dir / "symbolized.err");
  return s;
}

Symbolized symbolize(const TempDir& dir, std::vector<std::string> args, const std::vector<std::string>& env = {},
                     const std::string& input = "/dev/null") {
  args.insert(args.begin(), "symbolize");
  return ctl(dir, args, env, input);
}

// The crashing thread's frames as the comparison sees them (those of
// `module` only, when given).
std::vector<std::string> frame_symbols(const json& report, const std::string& module = "") {
  std::vector<std::string> out;
  for (const auto& f : report["threads"][0]["frames"])
    if (module.empty() || f["module"] == module)
      out.push_back(fmt::format("{} {} {} {}", f["function"].dump(), f["file"].dump(), f["line"].dump(),
                                f["method"].get<std::string>()));
  return out;
}

// The reports of the unstripped crasher_opt and of its stripped copy, both
// crashing in the same inlined call.
// The stripped one's core is kept (save_core) and unpacked to DIR/usercrash_01.core.
std::pair<json, json> crash_both(const TempDir& dir, const StrippedCrasher& stripped) {
  ServerProcess server(dir, {"count=4", "save_core=yes"});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher_opt"), {"inline"});
  auto unstripped = wait_for_report(server.directory(), "usercrash_00");
  run_crasher(stripped.exe, {"inline"});
  auto device = wait_for_report(server.directory(), "usercrash_01");
  EXPECT_TRUE(unstripped && device) << server.log();
  EXPECT_TRUE(eventually([&] { return exists(server.directory() + "/usercrash_01.core.zst"); })) << server.log();
  EXPECT_NE(unpack_saved_core(server.directory(), "usercrash_01", dir.path()), "");
  return {unstripped.value_or(json()), device.value_or(json())};
}

std::string report_file(const TempDir& dir, const json& report) {
  std::string path = dir / "device-report.json";
  write_file(path, report.dump(1));
  return path;
}

TEST_F(Symbolize, AStrippedCrashersFramesGetTheUnstrippedBuildsFunctionsLinesAndInlinedCalls) {
  TempDir dir;
  StrippedCrasher stripped = strip_crasher(dir);
  auto [unstripped, device] = crash_both(dir, stripped);
  ASSERT_TRUE(device.is_object());
  // On the device: module, build-id and offset on every frame of the
  // program, but neither function nor line.
  size_t own = 0;
  for (const auto& f : device["threads"][0]["frames"])
    if (f["module"] == stripped.exe) {
      ++own;
      EXPECT_EQ(f["build_id"], stripped.build_id);
      EXPECT_TRUE(f["module_offset"].is_string());
      EXPECT_TRUE(f["function"].is_null() && f["line"].is_null()) << f.dump();
    }
  ASSERT_GE(own, 2u);
  ASSERT_NE(frame_symbols(device), frame_symbols(unstripped));

  // --no-system: libc's frames keep what the device said (its lines
  // would come from /usr/lib/debug here, which the device left out).
  Symbolized s = symbolize(dir, {"--no-system", "--debug-dir", stripped.debug_dir, report_file(dir, device)});
  ASSERT_EQ(s.status, 0) << s.err;
  json doc = s.doc();
  ASSERT_TRUE(doc.is_object()) << s.out;
  EXPECT_EQ(frame_symbols(doc), frame_symbols(unstripped)) << doc["threads"][0]["frames"].dump(1);
  size_t inlined = 0, marked = 0;
  for (const auto& t : doc["threads"])
    for (const auto& f : t["frames"]) {
      inlined += f["inlined"].get<bool>();
      EXPECT_EQ(f["resymbolized"].get<bool>(), f["module"] == stripped.exe) << f.dump();
      marked += f["resymbolized"].get<bool>();
    }
  EXPECT_GE(inlined, 2u) << "store_inlined and call_inlined, inlined into crash_in_inline";
  EXPECT_EQ(doc["symbolized"]["frames_changed"], marked);
  EXPECT_EQ(doc["signature"], device["signature"]) << "the crash stays in its group";
  bool found = false;
  for (const auto& m : doc["symbolized"]["modules"])
    if (m["build_id"] == stripped.build_id) {
      found = true;
      EXPECT_EQ(m["source"], "debug_dir");
      EXPECT_TRUE(m["problem"].is_null());
    }
  EXPECT_TRUE(found) << doc["symbolized"].dump();
  EXPECT_EQ(schema_errors_of(s.out), "");
  EXPECT_NE(s.err.find("frames symbolized again"), std::string::npos) << s.err;
  // The same report named by its slot in the crash directory (the server's
  // configuration, uc.conf, says where).
  Symbolized by_slot =
      ctl(dir, {"--config", dir / "uc.conf", "symbolize", "--no-system", "--debug-dir", stripped.debug_dir, "1"});
  ASSERT_EQ(by_slot.status, 0) << by_slot.err;
  EXPECT_EQ(frame_symbols(by_slot.doc()), frame_symbols(unstripped));

  Symbolized text = symbolize(dir, {"--text", "--debug-dir", stripped.debug_dir, report_file(dir, device)});
  ASSERT_EQ(text.status, 0) << text.err;
  const json& top = unstripped["threads"][0]["frames"][0];
  EXPECT_NE(text.out.find(fmt::format("({}) ({}:{})", top["function"].get<std::string>(),
                                      top["file"].get<std::string>(), top["line"].get<int>())),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("[inlined] [symbolized]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("symbolized: "), std::string::npos);
}

TEST_F(Symbolize, RefusesWhatIsNoReportAndNeverFollowsTheReportsPaths) {
  TempDir dir;
  write_file(dir / "deep.json", std::string(100000, '['));
  Symbolized deep = symbolize(dir, {dir / "deep.json"});
  EXPECT_EQ(deep.status, 1);
  EXPECT_NE(deep.err.find("nested too deep"), std::string::npos) << deep.err;
  write_file(dir / "not.json", R"({"version": 4, "threads": [{"frames": [{"pc": 5}]}]})");
  Symbolized bad = symbolize(dir, {dir / "not.json"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("pc"), std::string::npos) << bad.err;
  // A build-id that is a path and a module outside the sysroot: looked up
  // nowhere, the frames left as they are.
  write_file(dir / "hostile.json", R"({"version": 4, "threads": [{"frames": [
    {"pc": "0x1000", "module": "/../../../../etc/passwd", "module_offset": "0x10", "build_id": "../../../etc/passwd",
     "function": null, "function_offset": null, "file": null, "line": null, "method": "context"}]}]})");
  Symbolized hostile = symbolize(dir, {"--sysroot", dir.path(), dir / "hostile.json"});
  ASSERT_EQ(hostile.status, 0) << hostile.err;
  EXPECT_TRUE(hostile.doc()["symbolized"]["modules"].empty());
  EXPECT_FALSE(hostile.doc()["threads"][0]["frames"][0]["resymbolized"].get<bool>());
}

TEST_F(Symbolize, ReadsStandardInputAndLooksUpAtMost512ModulesOfAReport) {
  TempDir dir;
  json threads = json::array();
  for (int t = 0; t < 3; ++t) {
    json frames = json::array();
    for (int i = 0; i < 200; ++i)
      frames.push_back({{"pc", "0x1000"},
                        {"module", "/m"},
                        {"module_offset", "0x10"},
                        {"build_id", fmt::format("{:040x}", t * 200 + i)},
                        {"method", "cfi"}});
    threads.push_back({{"tid", t + 1}, {"frames", frames}});
  }
  write_file(dir / "many.json", json({{"version", 4}, {"threads", threads}}).dump());
  Symbolized s = symbolize(dir, {"--debug-dir", dir.path(), "-"}, {}, dir / "many.json");
  ASSERT_EQ(s.status, 0) << s.err;
  json doc = s.doc();
  EXPECT_EQ(doc["symbolized"]["modules"].size(), 512u);
  ASSERT_TRUE(doc["problems"].is_array());
  EXPECT_NE(doc["problems"].back().get<std::string>().find("88 frames of modules past the first 512"),
            std::string::npos)
      << doc["problems"].dump();
}

const json* module_entry(const json& doc, const std::string& build_id) {
  for (const auto& m : doc["symbolized"]["modules"])
    if (m["build_id"] == build_id) return &m;
  return nullptr;
}

TEST_F(Symbolize, ThroughARealDebuginfodServerAndThenItsCache) {
  ::unsetenv("DEBUGINFOD_URLS");  // the server must not federate elsewhere
  TempDir dir;
  StrippedCrasher stripped = strip_crasher(dir);
  auto [unstripped, device] = crash_both(dir, stripped);
  ASSERT_TRUE(device.is_object());
  DebuginfodServer server(dir, stripped.served_dir);
  ASSERT_TRUE(server.serves(dir, stripped.build_id)) << read_file(dir / "debuginfod.log");
  std::vector<std::string> env = {"DEBUGINFOD_CACHE_PATH=" + dir / "cache"};
  // --no-system: libc too is asked of the server, which does not have it.
  std::vector<std::string> args = {"--no-system", "--debuginfod", server.url(), report_file(dir, device)};
  Symbolized first = symbolize(dir, args, env);
  ASSERT_EQ(first.status, 0) << first.err;
  json doc = first.doc();
  EXPECT_EQ(frame_symbols(doc), frame_symbols(unstripped));
  const json* exe = module_entry(doc, stripped.build_id);
  ASSERT_TRUE(exe) << doc["symbolized"].dump();
  EXPECT_EQ((*exe)["source"], "debuginfod");
  EXPECT_EQ((*exe)["debug_file"].get<std::string>().rfind(dir / "cache/", 0), 0u) << exe->dump();
  std::string libc_id = device["threads"][0]["frames"].back()["build_id"].get<std::string>();
  for (const auto& f : device["threads"][0]["frames"])
    if (f["module"] != stripped.exe) libc_id = f["build_id"];
  const json* libc = module_entry(doc, libc_id);
  ASSERT_TRUE(libc);
  EXPECT_NE((*libc)["problem"].get<std::string>().find("has no debug file of that build-id"), std::string::npos)
      << libc->dump();

  // analyze of the stripped crasher's core, with the server named by the
  // configuration: the same frames, through its own fresh cache.
  write_file(dir / "debuginfod.conf", "debuginfod_urls=" + server.url() + "\n");
  Symbolized analyzed = ctl(dir, {"--config", dir / "debuginfod.conf", "analyze", "--json", dir / "usercrash_01.core"},
                            {"DEBUGINFOD_CACHE_PATH=" + dir / "cache-analyze"});
  ASSERT_EQ(analyzed.status, 0) << analyzed.err;
  // (libc's frames have lines here too: analyze reads debuginfo_path.)
  EXPECT_EQ(frame_symbols(analyzed.doc(), stripped.exe), frame_symbols(unstripped, crasher("crasher_opt")))
      << analyzed.err;
  EXPECT_EQ(frame_symbols(analyzed.doc(), stripped.exe).size(), 5u);  // 2 inlined, crash_in_inline, main, _start
  ASSERT_TRUE(module_entry(analyzed.doc(), stripped.build_id));
  EXPECT_EQ((*module_entry(analyzed.doc(), stripped.build_id))["source"], "debuginfod");

  // debugger on the stripped program alive, the server named on its command line.
  pid_t live = ::fork();
  if (live == 0) exec_child({stripped.exe, "wait-signal"}, {});
  ASSERT_TRUE(eventually([&] { return read_file(fmt::format("/proc/{}/comm", live)) == "crasher\n"; }));
  ::usleep(200 * 1000);
  RunResult debugged = run({"env", "DEBUGINFOD_CACHE_PATH=" + dir / "cache-debugger", program("debugger"),
                            "--debuginfod", server.url(), std::to_string(live)});
  ::kill(live, SIGKILL);
  ::waitpid(live, nullptr, 0);
  EXPECT_EQ(WEXITSTATUS(debugged.status), 0) << debugged.output;
  EXPECT_NE(debugged.output.find("(wait_for_signal+0x"), std::string::npos) << debugged.output;
  EXPECT_NE(debugged.output.find("crasher.c:"), std::string::npos) << debugged.output;

  // The server gone, its answers are still in the cache: the debug file,
  // and that it had none for libc.
  server.stop();
  Symbolized second = symbolize(dir, args, env);
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(frame_symbols(second.doc()), frame_symbols(unstripped));
  EXPECT_EQ((*module_entry(second.doc(), stripped.build_id))["debug_file"], (*exe)["debug_file"]);
  EXPECT_EQ((*module_entry(second.doc(), libc_id))["problem"], (*libc)["problem"]) << "the miss was cached too";
}

// A report of two modules whose debug files only a server could give.
std::string two_module_report(const TempDir& dir) {
  json frame = {{"pc", "0x555555556000"},    {"module", "/usr/bin/app"},
                {"module_offset", "0x2000"}, {"build_id", std::string(40, 'a')},
                {"function", nullptr},       {"function_offset", nullptr},
                {"file", nullptr},           {"line", nullptr},
                {"method", "context"}};
  json other = frame;
  other["build_id"] = std::string(40, 'b');
  other["method"] = "cfi";
  json report = {{"version", 4}, {"threads", json::array({{{"tid", 1}, {"frames", json::array({frame, other})}}})}};
  write_file(dir / "two.json", report.dump());
  return dir / "two.json";
}

TEST_F(Symbolize, ADownOrSilentDebuginfodCostsAtMostItsBudgetAndSaysSo) {
  TempDir dir;
  std::string report = two_module_report(dir);
  std::vector<std::string> env = {"DEBUGINFOD_CACHE_PATH=" + dir / "cache"};
  // Down: nothing listens on the port.
  std::string down = fmt::format("http://127.0.0.1:{}", free_port());
  Symbolized refused = symbolize(dir, {"--no-system", "--debuginfod", down, report}, env);
  ASSERT_EQ(refused.status, 0) << refused.err;
  EXPECT_NE(refused.err.find("debuginfod (" + down + ")"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("not asked again"), std::string::npos) << refused.err;
  EXPECT_LT(refused.seconds, 10);

  // Silent: a socket that listens and never answers.
  util::UniqueFd silent(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(silent.get(), 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&a), &len);
  std::string url = fmt::format("http://127.0.0.1:{}", ntohs(a.sin_port));
  Symbolized slow = symbolize(dir, {"--no-system", "--debuginfod", url, "--debuginfod-timeout", "2", report}, env);
  ASSERT_EQ(slow.status, 0) << slow.err;
  EXPECT_NE(slow.err.find("gave no debug file within the 2000 ms budget"), std::string::npos) << slow.err;
  EXPECT_NE(slow.err.find("not asked again"), std::string::npos) << slow.err;
  // One budget for both modules, not one each (and never the client's 90 s default).
  EXPECT_GE(slow.seconds, 1.5);
  EXPECT_LT(slow.seconds, 10) << "bounded by the budget, not hung";
  json doc = slow.doc();
  ASSERT_TRUE(doc.is_object()) << "the report is still written";
  EXPECT_FALSE(doc["threads"][0]["frames"][0]["resymbolized"].get<bool>());
  EXPECT_NE(doc["symbolized"]["modules"][0]["problem"].get<std::string>().find("budget"), std::string::npos);
  // The cut-off fetch is not left in the cache as "not there".
  EXPECT_FALSE(exists(dir / ("cache-silent/" + std::string(40, 'a') + "/debuginfo")));
}

}  // namespace
}  // namespace usercrash::test
