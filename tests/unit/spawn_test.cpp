// Starting a program as the kernel starts a core_pattern helper: nothing of
// ours leaks into it (signal dispositions included), and the one wait on a
// child by pidfd.
#include "util/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/file_io.h"

namespace usercrash::util {
namespace {

using Clock = std::chrono::steady_clock;

// What /proc/self/status says of the spawned program's signals.
std::string signal_lines_of_a_child() {
  test::TempDir dir;
  UniqueFd out(::open((dir / "status").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  SpawnFds fds;
  fds.map.emplace_back(out.get(), 1);
  auto pid = spawn_program({"/usr/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, fds);
  if (!pid) return "spawn failed: " + pid.error().message;
  auto status = wait_for_exit(*pid, Clock::now() + std::chrono::seconds(10));
  if (!status || !WIFEXITED(*status)) return "grep did not finish";
  return test::read_file(dir / "status");
}

TEST(Spawn, AHandlerDoesNotInheritOurIgnoredSignals) {
  struct sigaction ignore {
  }, old_pipe{}, old_hup{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  ::sigaction(SIGHUP, &ignore, &old_hup);
  std::string lines = signal_lines_of_a_child();
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  // Every signal at its default, except 32 and 33: glibc keeps its own two
  // out of sigfillset, so posix_spawn cannot reset them, and the test runner
  // may have inherited them ignored.
  auto at = lines.find("SigIgn:\t");
  ASSERT_NE(at, std::string::npos) << lines;
  uint64_t ignored = std::stoull(lines.substr(at + 8, 16), nullptr, 16);
  EXPECT_EQ(ignored & ~((1ULL << 31) | (1ULL << 32)), 0u) << lines;
  EXPECT_NE(lines.find("SigBlk:\t0000000000000000"), std::string::npos) << lines;
}

TEST(Spawn, WaitForExitEndsWhenTheChildDoesAndGivesUpAtTheDeadline) {
  auto sleeper = spawn_program({"/usr/bin/sleep", "10"}, {});
  ASSERT_TRUE(sleeper);
  auto start = Clock::now();
  EXPECT_FALSE(wait_for_exit(*sleeper, start + std::chrono::milliseconds(100))) << "still running";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ::kill(*sleeper, SIGKILL);
  auto status = wait_for_exit(*sleeper, Clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "the wait ends with the child, not at the deadline";
}

}  // namespace
}  // namespace usercrash::util
