#include "tools/service_probe.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <chrono>

#include "ipc/unix_socket.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::tools {

namespace {

constexpr std::chrono::milliseconds kProbeTimeout{500};
// /proc/net/unix lists every socket of the namespace; a busy machine has thousands.
constexpr size_t kMaxNetUnixSize = 64ULL << 20;
// __SO_ACCEPTCON in /proc/net/unix's Flags column: the socket listens.
constexpr unsigned kAcceptConnections = 1u << 16;

}  // namespace

util::Result<void> server_answers(const std::string& socket) {
  auto sock = ipc::connect_unix(socket, SOCK_SEQPACKET, kProbeTimeout);
  if (!sock) return std::unexpected(sock.error());
  return {};
}

bool socket_listening(const std::string& path) {
  auto fd = util::open_at(AT_FDCWD, "/proc/net/unix");
  if (!fd) return false;
  auto text = util::read_all(fd->get(), kMaxNetUnixSize);
  if (!text) return false;
  // "Num: RefCount Protocol Flags Type St Inode Path", the path last.
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    std::string_view fields[8];
    size_t n = 0, at = 0;
    while (n < 7 && at < line.size()) {
      size_t start = line.find_first_not_of(' ', at);
      if (start == std::string_view::npos) break;
      size_t end = line.find(' ', start);
      fields[n++] = line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
      at = end == std::string_view::npos ? line.size() : end;
    }
    if (n < 7 || at >= line.size()) continue;
    std::string_view socket_path = util::trim(line.substr(at));
    if (socket_path != path) continue;
    auto flags = util::parse_int<unsigned>(fields[3], 16);
    if (flags && (*flags & kAcceptConnections)) return true;
  }
  return false;
}

std::string kernel_release() {
  utsname u{};
  if (::uname(&u) != 0) return {};
  return u.release;
}

}  // namespace usercrash::tools
