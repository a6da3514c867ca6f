// The warm collector against hostile peers and crashes: only root's
// usercrash_c may hand a crash over, a hand-off is checked before it is
// passed on, a crash inside a collector's process does not come back to
// us, and nothing a crash does reaches the warm collector itself.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "e2e/fake_client.h"
#include "e2e/harness.h"
#include "ipc/packet_codec.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;

std::string bytes(const ipc::HandOff& p) { return std::string(reinterpret_cast<const char*>(&p), sizeof p); }

class WarmCollectorAttack : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

TEST_F(WarmCollectorAttack, OnlyRootMayHandACrashOver) {
  TempDir dir;
  ServerProcess server(dir);
  ::chmod(dir.path().c_str(), 0755);
  ::chmod((dir / "run").c_str(), 0755);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  if (child == 0) {
    // nobody claims that pid 1 crashed: the collector would read /proc/1 as root.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    FakeClient c(server.socket());
    if (!c.connected()) ::_exit(4);
    auto p = ipc::make_hand_off({"usercrash_c", "1", "init", "11"}, 0).value();
    if (!c.send_raw(bytes(p))) ::_exit(5);
    ::_exit(c.closed_by_server() ? 0 : 6);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(server.log_shows("only root may request a dump")) << server.log();
  EXPECT_EQ(children_of(server.warm_collector_pid()).size(), 1u) << "nothing was passed on";
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_F(WarmCollectorAttack, MalformedHandOffsAreDroppedBeforeTheCollector) {
  TempDir dir;
  ServerProcess server(dir);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  auto good = ipc::make_hand_off({"usercrash_c", "1", "x", "11"}, 0).value();
  {
    // The core comes only with Go, to the process that took the crash:
    // a hand-off bringing fds is refused (they are closed with it).
    FakeClient c(server.socket());
    ASSERT_TRUE(c.send_raw(bytes(good), {pipe_fds[0]}));
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    // A flag the protocol does not know.
    FakeClient c(server.socket());
    auto p = good;
    p.flags = 2;
    ASSERT_TRUE(c.send_raw(bytes(p)));
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    // Arguments that run past their NULs.
    FakeClient c(server.socket());
    auto p = good;
    std::memset(p.args, 'A', sizeof p.args);
    ASSERT_TRUE(c.send_raw(bytes(p)));
    EXPECT_TRUE(c.closed_by_server());
  }
  EXPECT_TRUE(server.log_shows("unknown flags 0x2")) << server.log();
  EXPECT_TRUE(server.log_shows("not NUL-terminated")) << server.log();
  EXPECT_EQ(children_of(server.warm_collector_pid()).size(), 1u) << "nothing was passed on";
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_F(WarmCollectorAttack, ACollectorProcessCrashingDoesNotComeBackToUs) {
  TempDir dir;
  ServerProcess server(dir);
  pid_t warm = server.warm_collector_pid();
  ASSERT_GT(warm, 0);
  CorePatternGuard guard(client_pattern(server.config()));
  // A crash whose core never comes: the spare that took it waits reading
  // the core's head, and is then killed with a core-dumping signal.
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  pid_t sleeper = ::fork();
  if (sleeper == 0) {
    ::pause();
    ::_exit(0);
  }
  pid_t client = ::fork();
  if (client == 0) {
    ::dup2(in[0], 0);
    std::string exe = program("usercrash_c");
    ::execl(exe.c_str(), exe.c_str(), "-c", server.config().c_str(), std::to_string(sleeper).c_str(), "sleep", "11",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  int status = 0;
  ::waitpid(client, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "usercrash_c handed it over and left";
  pid_t taker = -1;
  ASSERT_TRUE(eventually(
      [&] {
        for (pid_t p : children_of(warm))
          if (read_file("/proc/" + std::to_string(p) + "/syscall").starts_with("0 ")) taker = p;
        return taker > 0;
      },
      10s))
      << "a spare is reading the core's head";
  EXPECT_NE(read_file("/proc/" + std::to_string(taker) + "/cmdline").find(std::to_string(sleeper)), std::string::npos)
      << "it shows the crash it collects";
  ::kill(taker, SIGABRT);
  EXPECT_TRUE(eventually([&] { return ::kill(taker, 0) != 0; }));
  ::close(in[1]);
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
  EXPECT_TRUE(eventually([&] { return !clients_running(server.config()); }));
  EXPECT_TRUE(list_reports(server.directory()).empty()) << "no report of our own crash, no loop";
  EXPECT_EQ(::kill(warm, 0), 0) << "the warm collector lives on";
  EXPECT_TRUE(eventually([&] { return children_of(warm).size() == 1; })) << "with a spare for the next crash";
}

}  // namespace
}  // namespace usercrash::test
