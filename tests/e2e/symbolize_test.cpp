// usercrashctl symbolize (issue 11.4 and 11.5): a report of a stripped
// crasher (as on a device) gets, on this "build host", the functions,
// file:line and inlined calls the report of the unstripped build has: from
// a debug directory by build-id, and through a real debuginfod server and
// its cache. A down or silent server costs its budget and says so.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>
#include <gtest/gtest.h>

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

// crasher_opt as a device gets it: stripped of everything (symbols too),
// with a debuglink; its debug file in a build-id tree and, alone, in a
// directory a debuginfod server scans.
struct StrippedCrasher {
  std::string exe, debug_dir, served_dir, build_id;
};

StrippedCrasher strip_crasher(const TempDir& dir) {
  StrippedCrasher s{dir / "device/crasher", dir / "debug", dir / "served", ""};
  std::string debug = s.served_dir + "/crasher.debug";
  EXPECT_EQ(run({"mkdir", "-p", dir / "device", s.served_dir}).status, 0);
  EXPECT_EQ(run({"objcopy", "--only-keep-debug", crasher("crasher_opt"), debug}).status, 0);
  EXPECT_EQ(run({"objcopy", "--strip-all", "--add-gnu-debuglink=" + debug, crasher("crasher_opt"), s.exe}).status, 0);
  std::string notes = run({"readelf", "-n", s.exe}).output;
  size_t at = notes.find("Build ID: ");
  EXPECT_NE(at, std::string::npos) << notes;
  s.build_id = notes.substr(at + 10, notes.find('\n', at) - at - 10);
  std::string tree = fmt::format("{}/.build-id/{}", s.debug_dir, s.build_id.substr(0, 2));
  EXPECT_EQ(run({"mkdir", "-p", tree}).status, 0);
  EXPECT_EQ(run({"cp", debug, tree + "/" + s.build_id.substr(2) + ".debug"}).status, 0);
  return s;
}

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

// usercrashctl symbolize ARGS with `env` and no DEBUGINFOD_URLS of ours;
// stdout (the report) and stderr (the notes) apart.
Symbolized symbolize(const TempDir& dir, const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}) {
  std::string command = "exec env -u DEBUGINFOD_URLS";
  for (const auto& e : env) command += ' ' + quoted(e);
  command += ' ' + quoted(program("usercrashctl")) + " symbolize";
  for (const auto& a : args) command += ' ' + quoted(a);
  command += " >" + quoted(dir / "symbolized.out") + " 2>" + quoted(dir / "symbolized.err");
  auto start = Clock::now();
  Symbolized s;
  int status = run({"sh", "-c", command}).status;
  s.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  s.out = read_file(dir / "symbolized.out");
  s.err = read_file(dir / "symbolized.err");
  return s;
}

// The crashing thread's frames as the comparison sees them.
std::vector<std::string> frame_symbols(const json& report) {
  std::vector<std::string> out;
  for (const auto& f : report["threads"][0]["frames"])
    out.push_back(fmt::format("{} {} {} {}", f["function"].dump(), f["file"].dump(), f["line"].dump(),
                              f["method"].get<std::string>()));
  return out;
}

// The reports of the unstripped crasher_opt and of its stripped copy, both
// crashing in the same inlined call.
std::pair<json, json> crash_both(const TempDir& dir, const StrippedCrasher& stripped) {
  ServerProcess server(dir, {"count=4"});
  CorePatternGuard guard(client_pattern(server.config()));
  run_crasher(crasher("crasher_opt"), {"inline"});
  auto unstripped = wait_for_report(server.directory(), "usercrash_00");
  run_crasher(stripped.exe, {"inline"});
  auto device = wait_for_report(server.directory(), "usercrash_01");
  EXPECT_TRUE(unstripped && device) << server.log();
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

}  // namespace
}  // namespace usercrash::test
