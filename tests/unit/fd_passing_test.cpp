// Messages and fds over a real AF_UNIX SOCK_SEQPACKET socketpair.
#include "ipc/fd_passing.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::ipc {
namespace {

using util::UniqueFd;

using test::open_fd_count;

struct Pair {
  UniqueFd a, b;
  Pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
      a.reset(sv[0]);
      b.reset(sv[1]);
    }
  }
};

UniqueFd memfd(const char* name) {
  int fd = ::memfd_create(name, MFD_CLOEXEC);
  return UniqueFd(fd);
}

ino_t inode_of(int fd) {
  struct stat st {};
  ::fstat(fd, &st);
  return st.st_ino;
}

// Sends `bytes` with any number of fds, bypassing send_message's own limit.
void raw_send(int sock, const std::vector<std::byte>& bytes, const std::vector<int>& fds) {
  iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ASSERT_EQ(::sendmsg(sock, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())) << std::strerror(errno);
}

TEST(FdPassing, PacketRoundTripWithoutFds) {
  Pair s;
  ASSERT_TRUE(s.a && s.b);
  auto request = make_dump_request(77, 78, SIGSEGV, 0, "prog", 0);
  ASSERT_TRUE(send_packet(s.a.get(), request));
  auto m = receive_message(s.b.get(), 0);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->fds.empty());
  ASSERT_EQ(m->bytes.size(), sizeof request);
  auto d = decode_dump_request(m->bytes);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->pid, 77);
  EXPECT_EQ(field_string(d->comm), "prog");
}

TEST(FdPassing, FdsArriveWithScmRightsAndCloseOnExec) {
  Pair s;
  UniqueFd text = memfd("text"), json = memfd("json"), core = memfd("core");
  ASSERT_TRUE(text && json && core);
  auto p = make_packet<PerformDump>();
  p.fd_count = 3;
  int fds[] = {text.get(), json.get(), core.get()};
  ASSERT_TRUE(send_packet(s.a.get(), p, fds));
  auto m = receive_message(s.b.get(), kMaxReportFds);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->fds.size(), 3u);
  EXPECT_EQ(inode_of(m->fds[kTextFd].get()), inode_of(text.get()));
  EXPECT_EQ(inode_of(m->fds[kJsonFd].get()), inode_of(json.get()));
  EXPECT_EQ(inode_of(m->fds[kCoreFd].get()), inode_of(core.get()));
  for (const auto& fd : m->fds) {
    EXPECT_NE(fd.get(), text.get());
    EXPECT_TRUE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
  }
  // The received fd writes into the sender's file.
  ASSERT_EQ(::write(m->fds[kTextFd].get(), "hello", 5), 5);
  char buffer[8] = {};
  ASSERT_EQ(::pread(text.get(), buffer, sizeof buffer, 0), 5);
  EXPECT_STREQ(buffer, "hello");
  EXPECT_TRUE(decode_perform_dump(m->bytes));
}

TEST(FdPassing, SendingMoreThanTheMaximumIsRefusedBeforeSending) {
  Pair s;
  UniqueFd f = memfd("f");
  int fds[] = {f.get(), f.get(), f.get(), f.get()};
  auto r = send_packet(s.a.get(), make_packet<PerformDump>(), fds);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "too many fds to send");
  ASSERT_TRUE(wait_readable(s.b.get(), std::chrono::milliseconds(0)).error().kind == util::ErrorKind::timed_out);
}

TEST(FdPassing, ExtraFdsAreRefusedAndClosed) {
  Pair s;
  UniqueFd f = memfd("f");
  size_t before = open_fd_count();
  auto packet = make_packet<PerformDump>();
  std::vector<std::byte> bytes(reinterpret_cast<std::byte*>(&packet), reinterpret_cast<std::byte*>(&packet + 1));
  raw_send(s.a.get(), bytes, {f.get(), f.get(), f.get(), f.get(), f.get()});
  auto m = receive_message(s.b.get(), 2);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, "5 fds attached, at most 2 expected");
  EXPECT_EQ(open_fd_count(), before) << "the fds that arrived must be closed";
}

TEST(FdPassing, FdsToAReceiverExpectingNoneAreClosed) {
  Pair s;
  UniqueFd f = memfd("f");
  size_t before = open_fd_count();
  auto packet = make_packet<Completed>();
  std::vector<std::byte> bytes(reinterpret_cast<std::byte*>(&packet), reinterpret_cast<std::byte*>(&packet + 1));
  raw_send(s.a.get(), bytes, {f.get()});
  auto m = receive_message(s.b.get(), 0);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, "1 fds attached, at most 0 expected");
  EXPECT_EQ(open_fd_count(), before);
}

TEST(FdPassing, MoreFdsThanTheControlBufferHoldsAreRefusedAndClosed) {
  Pair s;
  UniqueFd f = memfd("f");
  size_t before = open_fd_count();
  std::vector<int> many(40, f.get());
  raw_send(s.a.get(), std::vector<std::byte>(24), many);
  auto m = receive_message(s.b.get(), kMaxReportFds);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, "control data truncated (too many fds)");
  EXPECT_EQ(open_fd_count(), before);
}

TEST(FdPassing, OversizedMessageIsReportedAsSuch) {
  Pair s;
  UniqueFd f = memfd("f");
  size_t before = open_fd_count();
  raw_send(s.a.get(), std::vector<std::byte>(kMaxPacketSize + 1, std::byte{0x55}), {f.get()});
  auto m = receive_message(s.b.get(), kMaxReportFds);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, "packet larger than 512 bytes");
  EXPECT_EQ(open_fd_count(), before);
  // The next message is read on its own: the oversized one was consumed whole.
  ASSERT_TRUE(send_packet(s.a.get(), make_packet<Completed>()));
  auto next = receive_message(s.b.get(), 0);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->bytes.size(), sizeof(Completed));
}

TEST(FdPassing, MessageOfExactlyTheMaximumSizeIsAccepted) {
  Pair s;
  raw_send(s.a.get(), std::vector<std::byte>(kMaxPacketSize, std::byte{1}), {});
  auto m = receive_message(s.b.get(), 0);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->bytes.size(), kMaxPacketSize);
  // Not a valid packet, which the decoder says.
  EXPECT_FALSE(peek_type(m->bytes));
}

TEST(FdPassing, PeerCloseIsReported) {
  Pair s;
  s.a.reset();
  auto m = receive_message(s.b.get(), 3);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, util::ErrorKind::closed) << m.error().message;
  EXPECT_EQ(m.error().errno_value, 0);
}

TEST(FdPassing, SendToAClosedPeerFailsWithoutSigpipe) {
  Pair s;
  s.b.reset();
  // MSG_NOSIGNAL: without it this test process would die of SIGPIPE.
  sighandler_t old = ::signal(SIGPIPE, SIG_DFL);
  auto r = send_packet(s.a.get(), make_packet<Completed>());
  ::signal(SIGPIPE, old);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errno_value, EPIPE);
}

TEST(FdPassing, ReceiveOnABadFdFails) {
  auto m = receive_message(-1, 0);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().errno_value, EBADF);
}

TEST(WaitReadable, TimesOutThenSeesData) {
  Pair s;
  auto start = std::chrono::steady_clock::now();
  auto r = wait_readable(s.b.get(), std::chrono::milliseconds(30));
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "timed out");
  EXPECT_EQ(r.error().errno_value, ETIMEDOUT);
  EXPECT_GE(waited, std::chrono::milliseconds(25));
  ASSERT_TRUE(send_packet(s.a.get(), make_packet<Completed>()));
  EXPECT_TRUE(wait_readable(s.b.get(), std::chrono::milliseconds(1000)));
}

TEST(WaitReadable, PeerCloseMakesItReadable) {
  Pair s;
  s.a.reset();
  EXPECT_TRUE(wait_readable(s.b.get(), std::chrono::milliseconds(1000)));
}

}  // namespace
}  // namespace usercrash::ipc
