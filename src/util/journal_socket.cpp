#include "util/journal_socket.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "util/unique_fd.h"

namespace usercrash::util::journal {
namespace {

// One socket per process, opened on first use.
int journal_fd() {
  static int fd = -1;
  static std::once_flag once;
  std::call_once(once, [] { fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  return fd;
}

bool address_of(const char* path, sockaddr_un& address, socklen_t& length) {
  size_t size = std::strlen(path);
  if (size >= sizeof address.sun_path) return false;
  address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path, size);
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + size + 1);
  return true;
}

// The entry in a sealed memfd, passed with an empty datagram.
int send_as_memfd(int fd, const std::string& data, sockaddr_un& address, socklen_t length) {
  UniqueFd memfd(::memfd_create("usercrash-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return -errno;
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(memfd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? -errno : -EIO;
    done += static_cast<size_t>(n);
  }
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) return -errno;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_name = &address;
  msg.msg_namelen = length;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int passed = memfd.get();
  std::memcpy(CMSG_DATA(c), &passed, sizeof passed);
  return ::sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

}  // namespace

std::string datagram(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& field : fields) {
    size_t eq = field.find('=');
    std::string_view name = std::string_view(field).substr(0, eq);
    std::string_view value = eq == std::string::npos ? std::string_view() : std::string_view(field).substr(eq + 1);
    out.append(name);
    if (value.find('\n') == std::string_view::npos) {
      out.push_back('=');
      out.append(value);
    } else {
      out.push_back('\n');
      uint64_t size = value.size();
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
      out.append(value);
    }
    out.push_back('\n');
  }
  return out;
}

int send(const std::vector<std::string>& fields, const char* socket_path) {
  int fd = journal_fd();
  if (fd < 0) return -EBADF;
  sockaddr_un address;
  socklen_t length;
  if (!address_of(socket_path, address, length)) return -ENAMETOOLONG;
  std::string data = datagram(fields);
  ssize_t n;
  do n = ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length);
  while (n < 0 && errno == EINTR);
  if (n >= 0) return 0;
  if (errno == EMSGSIZE || errno == ENOBUFS) return send_as_memfd(fd, data, address, length);
  return -errno;
}

}  // namespace usercrash::util::journal
