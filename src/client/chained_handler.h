// The core_pattern handler that was configured before usercrash (saved by
// `usercrashctl enable`): when it was a pipe (systemd-coredump, apport, a
// script), every crash is passed on to it too, with its %-specifiers
// expanded from our own inputs, spawned directly (no shell), fed the whole
// core on its stdin. Its failure never touches our report.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::client {

// The values the kernel would have put in the handler's %-specifiers.
struct SpecifierValues {
  pid_t pid = 0, global_pid = 0, tid = 0, global_tid = 0;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  int signal = 0;
  int64_t time = 0;
  std::string hostname;
  std::string comm;
  std::string exe;  // full path of the executable
  std::optional<int> dumpable;
  std::optional<uint64_t> core_limit;
  int pidfd = -1;  // fd number the handler will find its pidfd at (-1: none)
};

// What core_pattern was before usercrash, as far as we pass crashes on to it.
struct SavedHandler {
  enum class Kind { pipe, file };
  Kind kind = Kind::pipe;
  // pipe: the program (an absolute path) and its arguments; file: the one
  // pattern ("core", "/var/crash/core.%e.%p"). Still with their %-specifiers.
  std::vector<std::string> words;
};

// The saved pattern (config/saved_pattern.h); nullopt when nothing was
// saved or it was a socket ("@path", which only its own server can take).
util::Result<std::optional<SavedHandler>> load_saved_handler(const std::string& state_directory);

// Splits a core_pattern pipe line ("|prog a b") into words, as the kernel does.
std::vector<std::string> split_pattern(const std::string& pattern);

// A name the process controls (comm, hostname, executable) made safe as
// part of a path, as the kernel makes it: '/' becomes '!', "." and ".."
// begin with '!', and an empty name is "!".
std::string escape_name_component(std::string value);

// Expands the kernel's %-specifiers in each word (core(5)); unknown ones are
// dropped, as the kernel drops them. %e %h %f %E are escaped as above.
std::vector<std::string> expand_specifiers(const std::vector<std::string>& words, const SpecifierValues& values);

class ChainedHandler {
 public:
  // Spawns argv[0] (an absolute path) with stdin a pipe we write the core
  // into, stdout/stderr on /dev/null, the kernel's helper environment, and
  // `pidfd` (if >= 0) as fd 3.
  static util::Result<ChainedHandler> spawn(const std::vector<std::string>& argv, int pidfd);

  // Forks a child that runs `body` with the read end of the core pipe and
  // exits with what it returns. The child shares nothing with us but that
  // pipe once `body` closes the rest.
  static util::Result<ChainedHandler> start_child(const std::function<int(int core_in)>& body);

  // Writes core bytes; false once the handler stopped reading or did not
  // take them by `deadline` (it is then left alone and gets no more).
  // The caller ignores SIGPIPE: a handler that exits early is an EPIPE here.
  bool write(std::span<const std::byte> bytes, std::chrono::steady_clock::time_point deadline);
  bool alive() const { return in_.valid(); }

  // Closes its stdin and waits up to `timeout` for it to exit; its exit
  // status, or nullopt if it is still running (it is left running).
  std::optional<int> finish(std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }

 private:
  ChainedHandler(pid_t pid, util::UniqueFd in) : pid_(pid), in_(std::move(in)) {}
  pid_t pid_;
  util::UniqueFd in_;
};

}  // namespace usercrash::client
