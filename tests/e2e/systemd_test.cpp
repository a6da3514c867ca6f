// usercrash_s under systemd's two protocols, without systemd as PID 1:
// socket activation (systemd-socket-activate hands it a listening
// SOCK_SEQPACKET socket, as usercrash.socket does) and readiness
// (sd_notify READY=1, what Type=notify waits for).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using Clock = std::chrono::steady_clock;

bool have(const char* tool) { return run({"sh", "-c", std::string("command -v ") + tool}).status == 0; }

TEST(Systemd, SocketActivatedServerServesTheClient) {
  REQUIRE_ROOT();
  if (!have("systemd-socket-activate")) GTEST_SKIP() << "systemd-socket-activate not installed";
  TempDir dir;
  ServerProcess config(dir, {}, /*start=*/false);
  ::mkdir((dir / "run").c_str(), 0700);
  std::string log = dir / "activate.log";
  pid_t activator = spawn_logged({"systemd-socket-activate", "--seqpacket", "-l", config.socket(),
                                  program("usercrash_s"), "--config", config.config(), "--verbose"},
                                 log);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!exists(config.socket()) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(exists(config.socket())) << read_file(log);
  // Nothing has connected yet: the server has not started.
  EXPECT_EQ(read_file(log).find("usercrash_s:"), std::string::npos) << read_file(log);

  Sleeper sleeper;
  auto started = Clock::now();
  RunResult client =
      run({program("usercrash_c"), "--config", config.config(), std::to_string(sleeper.pid()), "sleep", "11"});
  auto took = Clock::now() - started;
  EXPECT_EQ(WEXITSTATUS(client.status), 0) << client.output;
  auto report = wait_for_report(config.directory(), "usercrash_00");
  ASSERT_TRUE(report) << read_file(log);
  EXPECT_EQ((*report)["pid"], sleeper.pid());
  // Through the server, not the client's fallback.
  EXPECT_EQ(client.output.find("myself"), std::string::npos) << client.output;
  EXPECT_NE(read_file(log).find("report " + config.directory() + "/usercrash_00"), std::string::npos) << read_file(log);
  EXPECT_LT(took, std::chrono::seconds(10)) << "the client waited for an answer";

  // A second client is served by the same, now running, server.
  Sleeper second;
  RunResult again =
      run({program("usercrash_c"), "--config", config.config(), std::to_string(second.pid()), "sleep", "11"});
  EXPECT_EQ(WEXITSTATUS(again.status), 0) << again.output;
  auto second_report = wait_for_report(config.directory(), "usercrash_01");
  ASSERT_TRUE(second_report) << read_file(log);
  EXPECT_EQ((*second_report)["pid"], second.pid());
  stop_process(activator);
}

TEST(Systemd, ServerSignalsReadinessWithSdNotify) {
  REQUIRE_ROOT();
  TempDir dir;
  ServerProcess config(dir, {}, /*start=*/false);
  std::string notify_path = dir / "notify.sock";
  int notify = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(notify, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_path.c_str());
  ASSERT_EQ(::bind(notify, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  pid_t server = spawn_logged({program("usercrash_s"), "--config", config.config()}, dir / "server.log",
                              {"NOTIFY_SOCKET=" + notify_path});
  pollfd p{notify, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10'000), 1) << read_file(dir / "server.log");
  char buffer[512] = {};
  ssize_t n = ::recv(notify, buffer, sizeof buffer - 1, 0);
  ASSERT_GT(n, 0);
  std::string message(buffer, static_cast<size_t>(n));
  EXPECT_NE(message.find("READY=1"), std::string::npos) << message;
  // Ready means ready: the socket is there and answers.
  EXPECT_TRUE(exists(config.socket()));
  stop_process(server);
  ::close(notify);
}

}  // namespace
}  // namespace usercrash::test
