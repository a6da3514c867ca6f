#include "ipc/unix_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace usercrash::ipc {

using util::Result;
using util::UniqueFd;

namespace {

Result<sockaddr_un> make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return util::fail(fmt::format("socket path '{}' is empty or too long", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// The socket's directory decides who can replace the socket: it must be ours alone.
Result<void> ensure_private_parent(const std::string& path, mode_t create_mode) {
  size_t slash = path.rfind('/');
  std::string parent(slash == 0 || slash == std::string::npos ? std::string_view("/")
                                                              : std::string_view(path).substr(0, slash));
  if (::mkdir(parent.c_str(), create_mode) != 0 && errno != EEXIST) return util::fail_errno("create " + parent);
  struct stat st {};
  if (::lstat(parent.c_str(), &st) != 0) return util::fail_errno(parent);
  if (!S_ISDIR(st.st_mode)) return util::fail(parent + " is not a directory");
  if (st.st_uid != ::geteuid()) return util::fail(fmt::format("{} belongs to uid {}, not to us", parent, st.st_uid));
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return util::fail(parent + " is writable by group or others; refusing to put the socket there");
  // A socket others may connect to: they must be able to search (not list) its directory.
  mode_t search = create_mode & (S_IXGRP | S_IXOTH);
  if ((st.st_mode & search) != search && ::chmod(parent.c_str(), (st.st_mode & 07777) | search) != 0)
    return util::fail_errno("make " + parent + " searchable");
  return {};
}

}  // namespace

Result<UniqueFd> listen_unix(const std::string& path, int type, int backlog, mode_t mode) {
  auto addr = make_address(path);
  if (!addr) return std::unexpected(addr.error());
  if (auto r = ensure_private_parent(path, (mode & 0066) ? 0755 : 0700); !r) return std::unexpected(r.error());

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return util::fail(path + " exists and is not a socket");
    // A socket nobody answers on is left over from a previous run.
    UniqueFd probe(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) == 0)
      return util::fail(path + ": another server is already listening");
    if (::unlink(path.c_str()) != 0) return util::fail_errno("remove stale " + path);
  }

  // Bound and listening under a temporary name, then renamed into place:
  // the path never names a socket that refuses connections.
  // (A short name in the same private directory: sun_path is small.)
  std::string temp = fmt::format("{}/.new-{}", path.substr(0, path.rfind('/')), ::getpid());
  auto temp_addr = make_address(temp);
  if (!temp_addr) return std::unexpected(temp_addr.error());
  ::unlink(temp.c_str());
  UniqueFd sock(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return util::fail_errno("socket");
  mode_t old = ::umask(0177);
  int rc = ::bind(sock.get(), reinterpret_cast<sockaddr*>(&*temp_addr), sizeof *temp_addr);
  int err = errno;
  ::umask(old);
  if (rc != 0) return util::fail_errno("bind " + temp, err);
  auto discard = [&](const std::string& what) {
    int e = errno;
    ::unlink(temp.c_str());
    return util::fail_errno(what, e);
  };
  if (::chmod(temp.c_str(), mode) != 0) return discard("chmod " + temp);
  if (::listen(sock.get(), backlog) != 0) return discard("listen " + path);
  if (::rename(temp.c_str(), path.c_str()) != 0) return discard("rename " + temp + " to " + path);
  return sock;
}

Result<UniqueFd> connect_unix(const std::string& path, int type, std::chrono::milliseconds timeout) {
  auto addr = make_address(path);
  if (!addr) return std::unexpected(addr.error());
  UniqueFd sock(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return util::fail_errno("socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) return util::fail_errno("connect " + path);
    // A full backlog on AF_UNIX returns EAGAIN for non-blocking sockets: wait and retry.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (std::chrono::steady_clock::now() >= deadline) return util::fail("connect " + path + ": timed out", ETIMEDOUT);
      pollfd p{sock.get(), POLLOUT, 0};
      ::poll(&p, 1, 10);
      if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) == 0 || errno == EISCONN) break;
      if (errno != EAGAIN && errno != EINPROGRESS && errno != EALREADY) return util::fail_errno("connect " + path);
    }
  }
  int flags = ::fcntl(sock.get(), F_GETFL);
  ::fcntl(sock.get(), F_SETFL, flags & ~O_NONBLOCK);
  return sock;
}

Result<PeerCredentials> peer_credentials(int sock) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return util::fail_errno("SO_PEERCRED");
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

}  // namespace usercrash::ipc
