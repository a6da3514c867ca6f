#include "tools/ctl/terminal.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "tools/ctl/text.h"

namespace usercrash::tools::ctl {

namespace {

constexpr std::string_view kReset = "\x1b[0m";

// The pager child: the command asked for, else less, else more, else a
// plain copy, so the output is never lost to a missing pager.
[[noreturn]] void run_pager(const std::vector<std::string>& command) {
  ::setenv("LESS", "FRSXMK", 0);
  if (::getuid() != ::geteuid() || ::getgid() != ::getegid() || std::getenv("SUDO_UID")) ::setenv("LESSSECURE", "1", 1);
  std::vector<char*> argv;
  for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  for (const char* fallback : {"less", "more"}) ::execlp(fallback, fallback, static_cast<char*>(nullptr));
  char buf[65536];
  for (ssize_t n; (n = ::read(STDIN_FILENO, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(STDOUT_FILENO, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) ::_exit(1);
      done += w;
    }
  }
  ::_exit(0);
}

}  // namespace

std::optional<ColorMode> parse_color_mode(std::string_view text) {
  if (text == "auto") return ColorMode::automatic;
  if (text == "always") return ColorMode::always;
  if (text == "never") return ColorMode::never;
  return std::nullopt;
}

bool use_color(ColorMode mode, bool out_is_terminal, const char* no_color, const char* term) {
  if (mode != ColorMode::automatic) return mode == ColorMode::always;
  if (no_color && *no_color) return false;
  if (!term || std::string_view(term).empty() || std::string_view(term) == "dumb") return false;
  return out_is_terminal;
}

std::string colorize_report(std::string_view text) {
  bool in_backtrace = false, frame_done = false, signal_done = false, cause_done = false;
  return map_lines(text, [&](std::string_view line, std::string& out) {
    std::string_view color;
    size_t indent = line.find_first_not_of(' ');
    if (!signal_done && line.starts_with("signal: ")) {
      color = "\x1b[1;31m";
      signal_done = true;
    } else if (!cause_done && line.starts_with("cause: ")) {
      color = "\x1b[1m";
      cause_done = true;
    } else if (line == "BackTrace:") {
      in_backtrace = !frame_done;
    } else if (line.empty()) {
      in_backtrace = false;  // the section ends: a backtrace without frames colours none of another's
    } else if (in_backtrace && indent != std::string_view::npos && line.substr(indent).starts_with('#')) {
      color = "\x1b[1;33m";
      in_backtrace = false;
      frame_done = true;
    }
    if (!color.empty()) out += color;
    out += line;
    if (!color.empty()) out += kReset;
  });
}

std::vector<std::string> pager_command(const char* systemd_pager, const char* pager) {
  const char* chosen = systemd_pager ? systemd_pager : pager ? pager : "less";
  std::vector<std::string> words;
  std::string_view rest(chosen);
  while (!rest.empty()) {
    size_t start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \t");
    words.emplace_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  if (words.size() == 1 && words[0] == "cat") words.clear();
  return words;
}

bool Pager::start() {
  if (pid_ >= 0 || !::isatty(STDOUT_FILENO)) return false;
  std::vector<std::string> command = pager_command(std::getenv("SYSTEMD_PAGER"), std::getenv("PAGER"));
  if (command.empty()) return false;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[1]);  // else a pager that copies would never see the end
    if (::dup2(fds[0], STDIN_FILENO) < 0) ::_exit(1);
    run_pager(command);
  }
  ::close(fds[0]);
  if (::dup2(fds[1], STDOUT_FILENO) < 0) {
    ::close(fds[1]);
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  ::close(fds[1]);
  pid_ = pid;
  return true;
}

Pager::~Pager() {
  if (pid_ < 0) return;
  std::fflush(stdout);
  // The pager sees the end of its input once our stdout is gone.
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
  } else {
    ::close(STDOUT_FILENO);
  }
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace usercrash::tools::ctl
