#include "client/chained_handler.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "config/saved_pattern.h"
#include "util/file_io.h"
#include "util/spawn.h"

namespace usercrash::client {

using util::Result;
using util::UniqueFd;

Result<std::optional<SavedHandler>> load_saved_handler(const std::string& state_directory) {
  auto text = config::read_saved_pattern(state_directory);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<SavedHandler>();
  std::string path = state_directory + "/" + config::kSavedPatternName;
  std::string pattern = std::move(**text);
  while (!pattern.empty() && (pattern.back() == '\n' || pattern.back() == '\0')) pattern.pop_back();
  if (pattern.empty() || pattern[0] == '@') return std::optional<SavedHandler>();
  if (pattern[0] != '|') return std::optional(SavedHandler{SavedHandler::Kind::file, {pattern}});
  auto words = split_pattern(pattern);
  if (words.empty() || words[0].empty() || words[0][0] != '/')
    return util::fail(path + ": the saved handler is not an absolute path");
  return std::optional(SavedHandler{SavedHandler::Kind::pipe, std::move(words)});
}

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> words;
  std::string_view rest(pattern);
  if (!rest.empty() && rest[0] == '|') rest.remove_prefix(1);
  while (!rest.empty()) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find(' ');
    words.emplace_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return words;
}

std::string escape_name_component(std::string value) {
  if (value.empty()) return "!";
  if (value == "." || value == "..") value[0] = '!';
  for (char& c : value)
    if (c == '/') c = '!';
  return value;
}

std::vector<std::string> expand_specifiers(const std::vector<std::string>& words, const SpecifierValues& v) {
  auto opt = [](const auto& o) { return o ? std::to_string(*o) : std::string(); };
  // Names the process chose (its comm, its file) can never add a directory.
  std::string exe_bang = escape_name_component(v.exe);
  std::string exe_file =
      escape_name_component(v.exe.substr(v.exe.rfind('/') == std::string::npos ? 0 : v.exe.rfind('/') + 1));
  std::string comm = escape_name_component(v.comm);
  std::string hostname = escape_name_component(v.hostname);
  std::vector<std::string> out;
  for (const auto& word : words) {
    std::string expanded;
    for (size_t i = 0; i < word.size(); ++i) {
      if (word[i] != '%' || i + 1 >= word.size()) {
        if (word[i] != '%') expanded += word[i];
        continue;
      }
      switch (word[++i]) {
        case '%': expanded += '%'; break;
        case 'p': expanded += std::to_string(v.pid); break;
        case 'P': expanded += std::to_string(v.global_pid); break;
        case 'i': expanded += std::to_string(v.tid); break;
        case 'I': expanded += std::to_string(v.global_tid); break;
        case 'u': expanded += opt(v.uid); break;
        case 'g': expanded += opt(v.gid); break;
        case 'd': expanded += opt(v.dumpable); break;
        case 's': expanded += std::to_string(v.signal); break;
        case 't': expanded += std::to_string(v.time); break;
        case 'h': expanded += hostname; break;
        case 'e': expanded += comm; break;
        case 'f': expanded += exe_file; break;
        case 'E': expanded += exe_bang; break;
        case 'c': expanded += opt(v.core_limit); break;
        case 'F':
          if (v.pidfd >= 0) expanded += std::to_string(v.pidfd);
          break;
        default: break;  // unknown: dropped, as the kernel does
      }
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

Result<ChainedHandler> ChainedHandler::spawn(const std::vector<std::string>& argv, int pidfd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return util::fail_errno("pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  util::SpawnFds fds;
  fds.map.emplace_back(read_end.get(), 0);
  if (pidfd >= 0) fds.map.emplace_back(pidfd, 3);
  auto pid = util::spawn_program(argv, fds);
  if (!pid) return std::unexpected(pid.error());
  // Non-blocking, so a handler that stops reading cannot hold us past a deadline.
  ::fcntl(write_end.get(), F_SETFL, ::fcntl(write_end.get(), F_GETFL) | O_NONBLOCK);
  return ChainedHandler(*pid, std::move(write_end));
}

Result<ChainedHandler> ChainedHandler::start_child(const std::function<int(int core_in)>& body) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return util::fail_errno("pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return util::fail_errno("fork");
  if (pid == 0) {
    write_end.reset();
    ::_exit(body(read_end.get()));
  }
  ::fcntl(write_end.get(), F_SETFL, ::fcntl(write_end.get(), F_GETFL) | O_NONBLOCK);
  return ChainedHandler(pid, std::move(write_end));
}

bool ChainedHandler::write(std::span<const std::byte> bytes, std::chrono::steady_clock::time_point deadline) {
  size_t done = 0;
  while (in_ && done < bytes.size()) {
    ssize_t n = ::write(in_.get(), bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{in_.get(), POLLOUT, 0};
      if (left.count() > 0 && ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000))) >= 0) continue;
    }
    in_.reset();  // EPIPE, an error, or too slow: it gets no more
  }
  return in_.valid();
}

std::optional<int> ChainedHandler::finish(std::chrono::milliseconds timeout) {
  in_.reset();
  return util::wait_for_exit(pid_, std::chrono::steady_clock::now() + timeout);
}

}  // namespace usercrash::client
