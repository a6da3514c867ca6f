// Attacks on the server: peers that are not root, malformed traffic,
// floods, and files planted in the crash directory.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/fake_client.h"
#include "e2e/harness.h"
#include "ipc/kernel_coredump.h"
#include "ipc/packet_codec.h"
#include "util/unique_fd.h"

namespace usercrash::test {
namespace {

using namespace std::chrono_literals;

class Peers : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }

  // A real crash still becomes a report: the server went on serving.
  void expect_a_real_crash_is_recorded(ServerProcess& server, const std::string& slot) {
    CorePatternGuard guard(client_pattern(server.config()));
    CrashResult crash = run_crasher(crasher("crasher"), {"null"});
    auto r = wait_for_report(server.directory(), slot);
    ASSERT_TRUE(r) << server.log();
    EXPECT_EQ((*r)["pid"], crash.pid);
    EXPECT_TRUE(server.running());
  }
};

// A process that connects to the kernel's coredump socket and speaks the
// kernel's handshake, even as root, is not a crash: it gets no ack and no
// worker; a real crash through the same socket still gets its report.
TEST_F(Peers, TheKernelSocketRefusesAPeerThatIsNotDumpingCore) {
  TempDir dir;
  ServerProcess server(dir);
  std::string path = dir / "run/core.sock";
  ASSERT_TRUE(wait_for_file(path)) << server.log();
  util::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ipc::kernel::CoredumpReq req{ipc::kernel::kCoredumpReqSizeVer0, ipc::kernel::kCoredumpAckSizeVer0,
                               ipc::kernel::kCoredumpKernel | ipc::kernel::kCoredumpUserspace |
                                   ipc::kernel::kCoredumpReject | ipc::kernel::kCoredumpWait};
  // The server may have refused the peer (closed) before the request
  // arrives: the send then fails, which is the refusal too.
  ssize_t sent = ::send(sock.get(), &req, sizeof req, MSG_NOSIGNAL);
  if (sent < 0) {
    EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET) << std::strerror(errno);
  } else {
    ASSERT_EQ(sent, static_cast<ssize_t>(sizeof req));
    pollfd p{sock.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "the server neither answered nor closed";
    char answer[64];
    EXPECT_LE(::recv(sock.get(), answer, sizeof answer, MSG_DONTWAIT), 0) << "an ack went to a peer not dumping core";
  }
  EXPECT_TRUE(eventually([&] { return server.log().find("is not dumping core") != std::string::npos; }, 10s))
      << server.log();
  EXPECT_TRUE(list_reports(server.directory()).empty());
  EXPECT_FALSE(clients_running(server.config())) << "no worker was started for it";

  CorePatternGuard guard("@@" + path, 0);
  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto r = wait_for_report(server.directory(), "usercrash_00");
  ASSERT_TRUE(r) << server.log();
  EXPECT_EQ((*r)["pid"], crash.pid);
}

TEST_F(Peers, ANonRootPeerGetsNoSlotEvenThroughAnOpenSocket) {
  TempDir dir;
  ServerProcess server(dir);
  // As if an administrator had opened the socket up.
  ::chmod((dir / "run").c_str(), 0755);
  ::chmod(server.socket().c_str(), 0666);
  ::chmod(dir.path().c_str(), 0755);
  int result[2];
  ASSERT_EQ(::pipe(result), 0);
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    FakeClient c(server.socket());
    char verdict = 'x';
    if (!c.connected()) {
      verdict = 'c';  // could not even connect
    } else {
      // The server may refuse at accept, before the request is sent: then
      // sending fails with EPIPE, which is as much a refusal as a close.
      (void)c.request();
      if (!c.await_fds(3000).empty()) verdict = 'g';     // got report fds
      else if (c.closed_by_server(3000)) verdict = 'r';  // refused
      else verdict = 'h';                                // left hanging
    }
    (void)!::write(result[1], &verdict, 1);
    ::_exit(0);
  }
  ::close(result[1]);
  char verdict = 0;
  ASSERT_EQ(::read(result[0], &verdict, 1), 1);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(verdict, 'r');
  EXPECT_TRUE(server.log_shows("only root may request a dump")) << server.log();
  EXPECT_TRUE(list_reports(server.directory()).empty());
  expect_a_real_crash_is_recorded(server, "usercrash_00");
}

TEST_F(Peers, MalformedTrafficIsDroppedAndLoggedAndTheServerGoesOn) {
  TempDir dir;
  ServerProcess server(dir, {"request_timeout=300ms"});
  size_t fds_before = fd_count(server.pid());
  auto request = ipc::make_dump_request(1234, 1234, 11, 0, "x", 0);
  std::string good(reinterpret_cast<const char*>(&request), sizeof request);
  auto bad_version = request;
  bad_version.header.version = 99;
  auto completed = ipc::make_packet<ipc::Completed>();
  std::vector<std::string> garbage = {
      std::string(),                                                                 // empty
      good.substr(0, 7),                                                             // short
      std::string(400, 'A'),                                                         // garbage
      std::string(1000, 'A'),                                                        // larger than any packet
      std::string(reinterpret_cast<const char*>(&bad_version), sizeof bad_version),  // wrong version
      std::string(reinterpret_cast<const char*>(&completed), sizeof completed),      // completion before request
  };
  for (const auto& bytes : garbage) {
    FakeClient c(server.socket());
    ASSERT_TRUE(c.connected());
    c.send_raw(bytes);
    EXPECT_TRUE(c.closed_by_server(2000)) << "dropped: " << bytes.size() << " bytes";
  }
  {
    // A request carrying fds: refused, and the fds it carried closed, not kept.
    FakeClient c(server.socket());
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    c.send_raw(good, {pipe_fds[0], pipe_fds[1]});
    EXPECT_TRUE(c.closed_by_server(2000));
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
  }
  {
    // A flood of connections that never say anything.
    std::vector<std::unique_ptr<FakeClient>> silent;
    for (int i = 0; i < 200; ++i) silent.push_back(std::make_unique<FakeClient>(server.socket()));
    auto start = std::chrono::steady_clock::now();
    size_t dropped = 0;
    for (auto& c : silent) dropped += c->closed_by_server(3000);
    EXPECT_GE(dropped, 190u) << "each is dropped after request_timeout";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
  EXPECT_TRUE(eventually([&] { return fd_count(server.pid()) <= fds_before + 2; }, 5s))
      << "no fd kept for a dropped peer: " << fd_count(server.pid()) << " open, " << fds_before << " before";
  EXPECT_TRUE(server.log_shows("no request within 300 ms"));
  std::string log = server.log();
  EXPECT_NE(log.find("short packet"), std::string::npos) << log;
  EXPECT_NE(log.find("packet larger than"), std::string::npos);
  EXPECT_NE(log.find("bad magic"), std::string::npos);
  EXPECT_NE(log.find("protocol version 99"), std::string::npos);
  EXPECT_NE(log.find("expected a dump request packet, got a completed packet"), std::string::npos);
  EXPECT_NE(log.find("fds attached"), std::string::npos);
  EXPECT_NE(log.find("no request within 300 ms"), std::string::npos);
  expect_a_real_crash_is_recorded(server, "usercrash_00");
}

TEST_F(Peers, PlantedLinksAndFifosInTheCrashDirectoryAreNeverFollowedOrBlockedOn) {
  TempDir dir;
  ServerProcess server(dir, {"count=4"}, /*start=*/false);
  std::string crashes = server.directory();
  ASSERT_EQ(::mkdir(crashes.c_str(), 0750), 0);
  std::string victim = dir / "victim", victim2 = dir / "victim2";
  write_file(victim, "precious\n", 0644);
  write_file(victim2, "also precious\n", 0644);
  ASSERT_EQ(::symlink(victim.c_str(), (crashes + "/usercrash_00").c_str()), 0);
  ASSERT_EQ(::link(victim2.c_str(), (crashes + "/usercrash_01").c_str()), 0);
  ASSERT_EQ(::mkfifo((crashes + "/usercrash_02").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((crashes + "/.lock").c_str(), 0600), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (crashes + "/usercrash_03.json").c_str()), 0);
  struct stat before {};
  ::stat(victim.c_str(), &before);
  server.start();
  CorePatternGuard guard(client_pattern(server.config()));
  for (int i = 0; i < 4; ++i) run_crasher(crasher("crasher"), {"null"});
  ASSERT_TRUE(wait_for_report_count(crashes, 4, 30s)) << server.log();
  for (const char* slot : {"usercrash_00", "usercrash_01", "usercrash_02", "usercrash_03"}) {
    ASSERT_TRUE(wait_for_report(crashes, slot)) << slot << "\n" << server.log();
    struct stat st {};
    ASSERT_EQ(::lstat((crashes + "/" + slot).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode)) << slot;
    EXPECT_EQ(st.st_nlink, 1u) << slot;
  }
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_EQ(read_file(victim2), "also precious\n");
  struct stat after {};
  ::stat(victim.c_str(), &after);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  struct stat lock {};
  ASSERT_EQ(::lstat((crashes + "/.lock").c_str(), &lock), 0);
  EXPECT_TRUE(S_ISREG(lock.st_mode)) << "the FIFO lock was replaced by a plain file";
}

TEST_F(Peers, ACrashDirectoryOthersCanWriteOrOwnIsRefusedAtStart) {
  for (auto setup : {+[](const std::string& d) { ::chmod(d.c_str(), 0777); },
                     +[](const std::string& d) { ::chmod(d.c_str(), 0770); },
                     +[](const std::string& d) { (void)!::chown(d.c_str(), 65534, 65534); }}) {
    TempDir dir;
    ServerProcess server(dir, {}, /*start=*/false);
    ASSERT_EQ(::mkdir(server.directory().c_str(), 0750), 0);
    setup(server.directory());
    RunResult r = run({program("usercrash_s"), "--config", server.config()});
    EXPECT_EQ(WEXITSTATUS(r.status), 1) << r.output;
    EXPECT_NE(r.output.find("refusing it"), std::string::npos) << r.output;
    EXPECT_FALSE(exists(server.socket()));
  }
  {
    // A symlink where the directory should be.
    TempDir dir;
    ServerProcess server(dir, {}, /*start=*/false);
    ASSERT_EQ(::symlink("/etc", server.directory().c_str()), 0);
    RunResult r = run({program("usercrash_s"), "--config", server.config()});
    EXPECT_EQ(WEXITSTATUS(r.status), 1) << r.output;
    EXPECT_NE(r.output.find("symlink"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace usercrash::test
