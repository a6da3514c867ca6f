// A real systemd-journald for the tests that read what usercrash logged.
// It runs without systemd as PID 1: /lib/systemd/systemd-journald creates
// /run/systemd/journal/{socket,stdout,dev-log}. Machine-wide, so it is
// held under /run/usercrash-journald.lock; a journald already running (a
// machine booted with systemd) is used as it is and left alone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace usercrash::test {

class Journald {
 public:
  Journald();
  ~Journald();
  Journald(const Journald&) = delete;
  Journald& operator=(const Journald&) = delete;

  bool ready() const { return ready_; }
  // Stops (SIGSTOP) or resumes (SIGCONT) the journald we started, to test a stuck one.
  void pause();
  void resume();
  bool ours() const { return pid_ > 0; }

  // `journalctl --all -o json MATCH...` (optionally on one journal file) as
  // objects; waits until at least `at_least` entries match or `timeout`.
  static std::vector<nlohmann::json> entries(const std::vector<std::string>& matches, size_t at_least = 1,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(20),
                                             const std::string& file = "");

 private:
  int lock_fd_ = -1;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// A field of a journalctl JSON entry as text (journalctl writes fields it
// deems binary as arrays of bytes).
std::string journal_field(const nlohmann::json& entry, const std::string& name);

// A free TCP port on 127.0.0.1 (bound and released: a race, good enough for tests).
int free_port();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool tcp_listening(int port);

}  // namespace usercrash::test
