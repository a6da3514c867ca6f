#include "ipc/fd_passing.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace usercrash::ipc {

using util::Result;

Result<void> send_message(int sock, std::span<const std::byte> bytes, std::span<const int> fds, size_t max_fds) {
  if (fds.size() > std::min(max_fds, kMaxMessageFds)) return util::fail("too many fds to send");
  iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMessageFds)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno("sendmsg");
    if (static_cast<size_t>(n) != bytes.size()) return util::fail("short send");
    return {};
  }
}

Result<Message> receive_message(int sock, size_t max_fds, size_t max_bytes) {
  Message out;
  out.bytes.resize(max_bytes);
  iovec iov{out.bytes.data(), out.bytes.size()};
  // Room for more fds than allowed, so a peer sending extra is caught and
  // every fd it sent is closed rather than leaked.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxMessageFds + 1))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return util::fail_errno("recvmsg");

  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        out.fds.emplace_back(fd);
      }
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) return util::fail("control data truncated (too many fds)");
  if (msg.msg_flags & MSG_TRUNC) return util::fail(fmt::format("packet larger than {} bytes", max_bytes));
  if (out.fds.size() > max_fds)
    return util::fail(fmt::format("{} fds attached, at most {} expected", out.fds.size(), max_fds));
  if (n == 0) return util::fail(util::ErrorKind::closed, "peer closed the connection");
  out.bytes.resize(static_cast<size_t>(n));
  return out;
}

Result<void> wait_readable(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return util::fail_errno("poll");
    if (r == 0) return util::fail(util::ErrorKind::timed_out, "timed out", ETIMEDOUT);
    return {};
  }
}

}  // namespace usercrash::ipc
