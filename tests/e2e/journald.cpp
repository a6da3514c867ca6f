#include "e2e/journald.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "e2e/harness.h"

namespace usercrash::test {

namespace {

constexpr const char* kLock = "/run/usercrash-journald.lock";
constexpr const char* kJournald = "/lib/systemd/systemd-journald";
constexpr const char* kRunDir = "/run/systemd/journal";

bool socket_exists() {
  struct stat st {};
  return ::stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode);
}

bool journald_running() { return WEXITSTATUS(run({"pgrep", "-x", "systemd-journal"}).status) == 0; }

}  // namespace

Journald::Journald() {
  lock_fd_ = ::open(kLock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ >= 0) ::flock(lock_fd_, LOCK_EX);
  if (socket_exists() && journald_running()) {
    ready_ = true;  // the machine's own: used, never stopped
    return;
  }
  // Sockets a journald left behind would refuse connections.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kRunDir, ec))
    if (e.is_socket(ec)) std::filesystem::remove(e.path(), ec);
  pid_ = ::fork();
  if (pid_ == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(kJournald, kJournald, nullptr);
    ::_exit(127);
  }
  ready_ = eventually([] { return socket_exists(); }, std::chrono::seconds(10));
}

Journald::~Journald() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(kRunDir, ec))
      if (e.is_socket(ec)) std::filesystem::remove(e.path(), ec);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Journald::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void Journald::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::vector<nlohmann::json> Journald::entries(const std::vector<std::string>& matches, size_t at_least,
                                              std::chrono::milliseconds timeout, const std::string& file) {
  std::vector<nlohmann::json> out;
  eventually(
      [&] {
        out.clear();
        std::vector<std::string> argv = {"journalctl", "--all", "--no-pager", "-o", "json"};
        if (!file.empty()) argv.push_back("--file=" + file);
        argv.insert(argv.end(), matches.begin(), matches.end());
        RunResult r = run(argv);
        size_t start = 0;
        while (start < r.output.size()) {
          size_t nl = r.output.find('\n', start);
          auto doc = nlohmann::json::parse(r.output.substr(start, nl - start), nullptr, false);
          if (doc.is_object()) out.push_back(std::move(doc));
          if (nl == std::string::npos) break;
          start = nl + 1;
        }
        return out.size() >= at_least;
      },
      timeout);
  return out;
}

std::string journal_field(const nlohmann::json& entry, const std::string& name) {
  if (!entry.contains(name)) return "";
  const auto& v = entry[name];
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  if (v.is_array())
    for (const auto& b : v)
      if (b.is_number_unsigned()) out.push_back(static_cast<char>(b.get<unsigned>()));
  return out;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace usercrash::test

namespace usercrash::test {

bool tcp_listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace usercrash::test
