// Crashes of programs in other languages than C, through the real crash
// path, checked against gdb on the saved core of the same crash: Rust
// (names demangled as gdb prints them, inlined frames), Go (through the
// runtime's signal trampoline) and C++ (the uncaught exception named).
#include <signal.h>
#include <sys/wait.h>

#include <regex>

#include <gtest/gtest.h>

#include "e2e/gdb_oracle.h"
#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

std::vector<std::string> names(const json& thread) {
  std::vector<std::string> out;
  for (const auto& f : thread["frames"])
    out.push_back(f["function"].is_string() ? f["function"].get<std::string>() : "??");
  return out;
}

// A name the demangler should have turned into a path: still mangled, or a
// legacy Rust name that kept its hash.
bool looks_mangled(const std::string& name) {
  static const std::regex hash("::h[0-9a-f]{16}$");
  return name.starts_with("_R") || name.starts_with("_Z") || std::regex_search(name, hash);
}

// Index of `sequence` as consecutive frames of `thread`, or -1.
long find_sequence(const json& thread, const std::vector<std::string>& sequence) {
  auto all = names(thread);
  auto at = std::search(all.begin(), all.end(), sequence.begin(), sequence.end());
  return at == all.end() ? -1 : at - all.begin();
}

class RuntimesAgainstGdb : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }

  json crash(ServerProcess& server, const std::string& exe, const std::vector<std::string>& args, CrashResult& result,
             const std::vector<std::pair<std::string, std::string>>& env = {}) {
    EXPECT_TRUE(exists(exe)) << exe << " was not built (is its compiler installed? scripts/setup.sh)";
    CorePatternGuard guard(client_pattern(server.config()));
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    result = run_crasher(exe, args);
    for (const auto& [k, v] : env) ::unsetenv(k.c_str());
    EXPECT_TRUE(WIFSIGNALED(result.status)) << result.output;
    auto report = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(60));
    EXPECT_TRUE(report) << server.log();
    return report ? *report : json();
  }

  std::vector<GdbThread> gdb_of(const ServerProcess& server, const std::string& exe, const TempDir& scratch) {
    std::string core = unpack_saved_core(server.directory(), "usercrash_00", scratch.path());
    EXPECT_FALSE(core.empty()) << "no saved core";
    return core.empty() ? std::vector<GdbThread>{} : gdb_backtraces(exe, core, 256);
  }
};

// --- Rust ---------------------------------------------------------------

struct RustCase {
  const char* name;
  const char* exe;
};

class RustAgainstGdb : public RuntimesAgainstGdb, public ::testing::WithParamInterface<RustCase> {};

// panic=abort at -O: lookup and apply are inlined into the thread's
// closure, and expect into lookup. gdb shows each as a frame of its own;
// so must we, with the same names, in the same order.
TEST_P(RustAgainstGdb, PanicAbortShowsTheInlinedCallsAsGdbDoes) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  std::string exe = crasher(GetParam().exe);
  json r = crash(server, exe, {"expect"}, result);
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(WTERMSIG(result.status), SIGABRT);
  const json& t = r["threads"][0];
  EXPECT_EQ(t["name"], "ledger");
  long at = find_sequence(t, {"core::option::Option<&i64>::expect<&i64>", "rust_crasher::lookup", "rust_crasher::apply",
                              "rust_crasher::main::{closure#0}"});
  ASSERT_GE(at, 0) << t["frames"].dump(1);
  for (long i = at; i < at + 4; ++i) EXPECT_EQ(t["frames"][i]["method"], "inlined") << i;
  // lookup's line is the call of expect, in the crasher's source.
  EXPECT_TRUE(t["frames"][at + 1]["line"].is_number());
  EXPECT_TRUE(t["frames"][at + 1]["file"].get<std::string>().ends_with("rust_crasher.rs"));
  EXPECT_GE(find_sequence(t, {"core::option::expect_failed"}), 0);
  for (const auto& thread : r["threads"])
    for (const auto& name : names(thread)) EXPECT_FALSE(looks_mangled(name)) << name;
  TempDir scratch;
  auto gdb = gdb_of(server, exe, scratch);
  ASSERT_FALSE(gdb.empty());
  EXPECT_EQ(compare_with_gdb(r, gdb), "");
}

INSTANTIATE_TEST_SUITE_P(Mangling, RustAgainstGdb,
                         ::testing::Values(RustCase{"legacy", "rust_crasher"}, RustCase{"v0", "rust_crasher_v0"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(RuntimesAgainstGdb, RustNullDereferenceThroughUnsafe) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  std::string exe = crasher("rust_crasher");
  json r = crash(server, exe, {"null"}, result);
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r["signal"]["number"], SIGSEGV);
  EXPECT_NE(r["signal"]["cause"].get<std::string>().find("null-pointer"), std::string::npos);
  const json& t = r["threads"][0];
  // null_level1 ends in a tail call to write_through: gone from the stack,
  // as in gdb's backtrace.
  EXPECT_EQ(find_sequence(t, {"core::ptr::write_volatile<i64>", "rust_crasher::write_through",
                              "rust_crasher::main::{closure#0}"}),
            0)
      << t["frames"].dump(1);
  EXPECT_EQ(t["frames"][0]["method"], "inlined");
  TempDir scratch;
  auto gdb = gdb_of(server, exe, scratch);
  ASSERT_FALSE(gdb.empty());
  EXPECT_EQ(compare_with_gdb(r, gdb), "");
}

// Without DWARF, names come from the symbol table (the crate's and std's,
// in whichever scheme the toolchain mangled them), demangled as gdb prints
// them. The null write faults in the crate's own code, whose CFI every rustc
// emits (the panic=abort path has none in older toolchains' std).
TEST_F(RuntimesAgainstGdb, RustWithoutDebugInfoIsNamedFromDemangledSymbols) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  std::string exe = crasher("rust_crasher_nodebug");
  json r = crash(server, exe, {"null"}, result);
  ASSERT_FALSE(r.is_null());
  const json& t = r["threads"][0];
  EXPECT_EQ(find_sequence(t, {"rust_crasher::write_through"}), 0) << t["frames"].dump(1);
  bool main_seen = false;
  for (const auto& thread : r["threads"])
    for (const auto& name : names(thread)) main_seen = main_seen || name == "rust_crasher::main";
  EXPECT_TRUE(main_seen) << r["threads"].dump(1);
  for (const auto& thread : r["threads"])
    for (const auto& name : names(thread)) EXPECT_FALSE(looks_mangled(name)) << name;
  // gdb prints the symbol table's Rust names verbosely: legacy ones with
  // their hash, v0 ones with crate disambiguators ("std[e28293b1aa0f68bd]").
  // The names agree once those are taken off.
  TempDir scratch;
  auto gdb = gdb_of(server, exe, scratch);
  ASSERT_FALSE(gdb.empty());
  static const std::regex hash("::h[0-9a-f]{16}$"), disambiguator("\\[[0-9a-f]+\\]");
  for (auto& thread : gdb)
    for (auto& frame : thread.frames)
      frame.function = std::regex_replace(std::regex_replace(frame.function, hash, ""), disambiguator, "");
  EXPECT_EQ(compare_with_gdb(r, gdb), "");
}

// --- Go -----------------------------------------------------------------

// Whether gdb's named frames of every thread come, in order, among ours.
std::string gdb_frames_are_a_subset(const json& report, const std::vector<GdbThread>& gdb) {
  std::string diff;
  for (const auto& theirs : gdb) {
    const json* ours = nullptr;
    for (const auto& t : report["threads"])
      if (t["tid"] == theirs.lwp) ours = &t;
    if (!ours) {
      diff += "thread " + std::to_string(theirs.lwp) + ": not in the report\n";
      continue;
    }
    auto all = names(*ours);
    std::vector<uint64_t> pcs;
    for (const auto& f : (*ours)["frames"]) pcs.push_back(std::stoull(f["pc"].get<std::string>(), nullptr, 16));
    auto at = all.begin();
    for (const auto& f : theirs.frames) {
      if (f.function == "??") continue;
      auto found = std::find(at, all.end(), f.function);
      // gdb sometimes prints a Go frame under a name that is in neither the
      // symbol table nor DWARF ("runtime[scavenger]", seen once in a dozen
      // runs): such a frame is matched by its pc.
      if (found == all.end() && f.function.find('[') != std::string::npos && f.pc) {
        auto same_pc = std::find(pcs.begin() + (at - all.begin()), pcs.end(), *f.pc);
        found = all.begin() + (same_pc - pcs.begin());
      }
      if (found == all.end()) {
        diff += "thread " + std::to_string(theirs.lwp) + ": gdb's " + f.function + " missing or out of order\n";
        break;
      }
      at = found + 1;
    }
  }
  return diff;
}

// GOTRACEBACK=crash: after the nil dereference, the runtime prints the
// goroutines and raises SIGABRT from inside its own signal handler, which is
// the signal the kernel dumps. gdb stops at runtime.sigtramp; the report
// steps through the signal frame to the fault and on to the goroutine's
// callers.
TEST_F(RuntimesAgainstGdb, GoNilDereferenceInAGoroutineReachesTheFaultingFunction) {
  TempDir dir;
  ServerProcess server(dir, {"save_core=yes"});
  CrashResult result;
  std::string exe = crasher("go_crasher");
  json r = crash(server, exe, {}, result, {{"GOTRACEBACK", "crash"}});
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r["signal"]["number"], SIGABRT);
  const json& t = r["threads"][0];
  EXPECT_GE(find_sequence(t, {"runtime.sigtramp"}), 0) << t["frames"].dump(1);
  long fault = find_sequence(t, {"runtime.sigpanic", "main.greet", "main.main.func1"});
  ASSERT_GE(fault, 0) << t["frames"].dump(1);
  bool through_signal_frame = false;
  for (const auto& f : t["frames"]) through_signal_frame = through_signal_frame || f["method"] == "signal";
  EXPECT_TRUE(through_signal_frame) << t["frames"].dump(1);
  // main.greet is named at the faulting instruction (its first one here),
  // not the byte before it.
  EXPECT_EQ(t["frames"][fault + 1]["function_offset"], "0x0") << t["frames"][fault + 1].dump();
  std::string cause = r["signal"]["cause"].get<std::string>();
  EXPECT_NE(cause.find("the panic it made of a fault in main.greet at 0x"), std::string::npos) << cause;
  TempDir scratch;
  auto gdb = gdb_of(server, exe, scratch);
  ASSERT_FALSE(gdb.empty());
  EXPECT_EQ(gdb_frames_are_a_subset(r, gdb), "");
}

// --- C++ ----------------------------------------------------------------

struct CxxCase {
  const char* mode;
  const char* type;
  std::optional<std::string> message;
};

class UncaughtCxxException : public RuntimesAgainstGdb, public ::testing::WithParamInterface<CxxCase> {};

// std::terminate after a throw that found no handler: the cause names the
// exception's type, and its message where the object is a standard
// exception whose what() returns the string it holds; never otherwise.
TEST_P(UncaughtCxxException, CauseNamesTheExceptionAndWhereItCameFrom) {
  const CxxCase& c = GetParam();
  TempDir dir;
  ServerProcess server(dir);
  CrashResult result;
  json r = crash(server, crasher("cxx_crasher"), {c.mode}, result);
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(WTERMSIG(result.status), SIGABRT);
  std::string cause = std::string("uncaught exception: ") + c.type + (c.message ? ": " + *c.message : "");
  EXPECT_EQ(r["signal"]["cause"], cause) << r["problems"].dump();
  const json& e = r["uncaught_exception"];
  ASSERT_TRUE(e.is_object()) << r["problems"].dump();
  EXPECT_EQ(e["type"], c.type);
  if (c.message) EXPECT_EQ(e["message"], *c.message);
  else EXPECT_TRUE(e["message"].is_null()) << e.dump();
  EXPECT_NE(e["source"].get<std::string>().find("__cxa_eh_globals of thread " + std::to_string(r["tid"].get<int>())),
            std::string::npos)
      << e.dump();
  std::string text = read_file(server.directory() + "/usercrash_00");
  EXPECT_NE(text.find("\ncause: " + cause + "\n"), std::string::npos) << text.substr(0, 2000);
  EXPECT_NE(text.find("\nuncaught exception: " + std::string(c.type)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Libstdcxx, UncaughtCxxException,
    ::testing::Values(CxxCase{"out_of_range", "std::out_of_range", "no account named 'mallory'"},
                      CxxCase{"long_message", "std::runtime_error",
                              "the ledger could not be balanced: " + std::string(200, '#') + " (end)"},
                      CxxCase{"custom", "bank::AccountLocked", std::nullopt}, CxxCase{"int", "int", std::nullopt},
                      CxxCase{"own_what", "bank::Refused", std::nullopt}),
    [](const auto& param_info) { return std::string(param_info.param.mode); });

}  // namespace
}  // namespace usercrash::test
