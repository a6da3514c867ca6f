// Attacks by the crashing process itself: what it controls (names, memory,
// module files) must be printed safely and read boundedly.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

class HostileProcess : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

// No raw control byte other than newline and tab reaches the text report.
void expect_no_control_bytes(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\t') continue;
    ASSERT_FALSE(c < 0x20 || c == 0x7f) << "control byte 0x" << std::hex << int(c) << " at " << std::dec << i << ": ..."
                                        << text.substr(i > 40 ? i - 40 : 0, 80);
  }
}

TEST_F(HostileProcess, NamesArgumentsEnvironmentAndFilesAreEscapedAndTheJsonStaysValid) {
  TempDir dir;
  ServerProcess server(dir, {"include_environment=yes"});
  CorePatternGuard guard(client_pattern(server.config()));
  ::setenv("CRASHER_HOSTILE", "1", 1);
  ::setenv("HOSTILE_VAR", "x\n\x1b[31mred\x07$(rm -rf /)\xff\xfe", 1);
  CrashResult crash = run_crasher(crasher("crasher"), {"null", "\n\x1b[2J", "$(reboot)", "%s%n%x", "\xc3\x28\xff"});
  ::unsetenv("CRASHER_HOSTILE");
  ::unsetenv("HOSTILE_VAR");
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  // wait_for_report parses the JSON strictly: invalid UTF-8 or a broken
  // escape would make it fail.
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  std::string text = read_file(server.directory() + "/usercrash_00");
  expect_no_control_bytes(text);
  EXPECT_NE(text.find("\\x1b"), std::string::npos) << "escapes are shown, not dropped";
  EXPECT_NE(text.find("$(reboot)"), std::string::npos);

  // The JSON keeps the data itself (escaped by JSON), with invalid UTF-8 replaced.
  std::string comm = (*r)["comm"];
  EXPECT_NE(comm.find('\n'), std::string::npos);
  EXPECT_NE(comm.find('\x1b'), std::string::npos);
  EXPECT_EQ((*r)["cmdline"][2], "\n\x1b[2J");
  EXPECT_EQ((*r)["cmdline"][3], "$(reboot)");
  EXPECT_EQ((*r)["cmdline"][5], "\xef\xbf\xbd(\xef\xbf\xbd");
  bool thread = false;
  for (const auto& t : (*r)["threads"]) thread = thread || t["name"] == "t\n\x1b[2J$(id)%n";
  EXPECT_TRUE(thread) << (*r)["threads"].dump();
  bool file = false;
  for (const auto& f : (*r)["open_files"])
    file = file || f["path"].get<std::string>().find("$(reboot)") != std::string::npos;
  EXPECT_TRUE(file);
  bool env = false;
  for (const auto& e : (*r)["environment"]) env = env || e.get<std::string>().starts_with("HOSTILE_VAR=x\n\x1b[31m");
  EXPECT_TRUE(env);
}

// Peak private memory (KiB: Private_Clean + Private_Dirty, what the
// memory budget is about) of the usercrash_c processes of `config`,
// sampled until `done`; `warm`, the warm collector itself, is left out:
// what it holds for every crash is shared, not copied, by its processes
// for crashes, which are measured.
class ClientMemory {
 public:
  ClientMemory(std::string config, pid_t warm)
      : config_(std::move(config)), warm_(std::to_string(warm)), thread_([this] { sample(); }) {}
  ~ClientMemory() { stop(); }
  long stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  void sample() {
    while (!done_) {
      RunResult pids = run({"pgrep", "-f", "usercrash_c .*" + config_});
      std::istringstream in(pids.output);
      for (std::string pid; in >> pid;) {
        if (pid == warm_) continue;
        std::istringstream rollup(read_file("/proc/" + pid + "/smaps_rollup"));
        long kib = 0;
        for (std::string line; std::getline(rollup, line);)
          if (line.starts_with("Private_Clean:") || line.starts_with("Private_Dirty:"))
            kib += std::stol(line.substr(line.find(':') + 1));
        peak_ = std::max(peak_, kib);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::string config_;
  std::string warm_;
  std::atomic<bool> done_{false};
  long peak_ = 0;
  std::thread thread_;
};

TEST_F(HostileProcess, ThirtyThousandMapsWithLongControlByteNamesGiveABoundedReport) {
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  ::setenv("CRASHER_WORKDIR", dir.path().c_str(), 1);
  ClientMemory memory(server.config(), server.warm_collector_pid());
  auto start = std::chrono::steady_clock::now();
  CrashResult crash = run_crasher(crasher("crasher"), {"hostile-maps", "30000"});
  ::unsetenv("CRASHER_WORKDIR");
  ASSERT_TRUE(WIFSIGNALED(crash.status)) << crash.output;
  auto r = wait_for_report(server.directory(), "usercrash_00", std::chrono::seconds(60));
  auto took = std::chrono::steady_clock::now() - start;
  eventually([&] { return !clients_running(server.config()); }, std::chrono::seconds(30));
  long peak_kib = memory.stop();
  ASSERT_TRUE(r) << server.log();
  std::cout << "[ hostile  ] 30000 maps of 3.8 KB control-byte names: report in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms, client peak private memory "
            << peak_kib << " KiB\n";
  EXPECT_EQ((*r)["pid"], crash.pid);
  auto names = function_names((*r)["threads"][0]);
  EXPECT_NE(std::find(names.begin(), names.end(), "null_level1"), names.end())
      << "the crash itself is still unwound: " << (*r)["problems"].dump() << (*r)["threads"][0]["frames"].dump();
  // Within the memory budget (64 MiB); the time budget shows as the maps
  // cut where reading them ran past it (the time is printed, not asserted:
  // this machine's timings are noisy).
  EXPECT_GT(peak_kib, 0);
  if (!programs_sanitized()) {
    EXPECT_LT(peak_kib, 64 * 1024);
  }
  // What was cut is said.
  bool said = false;
  for (const auto& t : (*r)["truncated"]) said = said || t.get<std::string>().starts_with("maps:");
  EXPECT_TRUE(said) << (*r)["truncated"].dump();
  std::string text = read_file(server.directory() + "/usercrash_00");
  expect_no_control_bytes(text);
  EXPECT_LE(text.size(), 16u << 20);
}

struct HostileMemory {
  const char* name;
  std::vector<std::string> args;
  int signal;
};

void PrintTo(const HostileMemory& h, std::ostream* os) { *os << h.name; }

class HostileMemoryTest : public HostileProcess, public ::testing::WithParamInterface<HostileMemory> {};

TEST_P(HostileMemoryTest, EndsInABoundedPartialReport) {
  const auto& h = GetParam();
  TempDir dir;
  ServerProcess server(dir);
  CorePatternGuard guard(client_pattern(server.config()));
  CrashResult crash = run_crasher(crasher("crasher"), h.args);
  ASSERT_TRUE(WIFSIGNALED(crash.status));
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], crash.pid);
  EXPECT_EQ((*r)["signal"]["number"], h.signal);
  const json& t = (*r)["threads"][0];
  EXPECT_TRUE(t["crashed"].get<bool>());
  EXPECT_LE(t["frames"].size(), 256u);
  EXPECT_GE(t["frames"].size(), 1u);
  EXPECT_LT((*r)["collection_ms"].get<double>(), 5000.0);
  EXPECT_EQ((*r)["threads"].size(), 4u) << "every other thread is still reported";
  if (h.args[0] == "bad-abort-msg") {
    if (h.args[1] == "1") EXPECT_TRUE((*r)["abort_message"].is_null());
    else EXPECT_LE((*r)["abort_message"].get<std::string>().size(), 4096u);
  }
  if (h.args[0] == "crafted-elf") {
    bool listed = false;
    for (const auto& m : (*r)["maps"])
      listed = listed || m["path"].get<std::string>().find("crasher-elf-") != std::string::npos;
    EXPECT_TRUE(listed);
  }
}

INSTANTIATE_TEST_SUITE_P(Attacks, HostileMemoryTest,
                         ::testing::Values(HostileMemory{"garbage_stack", {"garbage-stack"}, SIGSEGV},
                                           HostileMemory{"frame_pointer_loop", {"fp-loop"}, SIGSEGV},
                                           HostileMemory{"corrupt_elf_module", {"crafted-elf"}, SIGSEGV},
                                           HostileMemory{"abort_msg_unmapped", {"bad-abort-msg", "1"}, SIGABRT},
                                           HostileMemory{"abort_msg_endless", {"bad-abort-msg", "2"}, SIGABRT}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace usercrash::test
