// usercrash_s: one single-threaded event loop that hands report fds to
// clients, at most max_concurrent at a time, with a visible bounded queue and
// a deadline on every wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "ipc/fd_passing.h"
#include "ipc/protocol.h"
#include "ipc/unix_socket.h"
#include "publish/report_hook.h"
#include "server/crash_admission.h"
#include "server/debuginfod_failures.h"
#include "server/metrics.h"
#include "server/warm_collector_process.h"
#include "store/crash_directory.h"
#include "store/report_head.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::server {

struct Counters {
  uint64_t accepted = 0;
  uint64_t refused_peer = 0;      // not root
  uint64_t malformed = 0;         // bad packet
  uint64_t request_timeouts = 0;  // connected, never asked
  uint64_t completed = 0;
  uint64_t partial = 0;             // client died or timed out; report kept with a note
  uint64_t lost = 0;                // client died before writing anything
  uint64_t queue_full = 0;          // dropped: queue at max_queue
  uint64_t rate_limited = 0;        // not stored: over rate_limit (per group or globally)
  uint64_t write_errors = 0;        // publish failed (disk full...)
  uint64_t kernel_connections = 0;  // coredump connections from the kernel
  uint64_t kernel_dropped = 0;      // refused: too many workers, or a bad handshake
  uint64_t worker_failures = 0;     // workers that exited with an error
};

// How the server starts a worker for a kernel coredump connection.
struct WorkerSpec {
  std::string client;             // usercrash_c
  std::vector<std::string> args;  // configuration arguments passed on
};

class Server {
 public:
  // Opens the crash directory and the socket; fails with a reason on a bad
  // directory, socket path or permissions. `listen_fd` (socket activation)
  // is used instead of creating the socket when valid.
  // `kernel_fd` likewise replaces the kernel coredump socket (a stream).
  static util::Result<std::unique_ptr<Server>> create(const config::Config& config, WorkerSpec worker,
                                                      util::UniqueFd listen_fd = {}, util::UniqueFd kernel_fd = {});
  ~Server();

  // Runs until SIGTERM or SIGINT; returns the exit status.
  int run();

  const Counters& counters() const { return counters_; }

 private:
  using Clock = std::chrono::steady_clock;

  enum class State { awaiting_request, queued, dumping, kernel_request, kernel_marker };

  struct Connection {
    uint64_t id = 0;
    util::UniqueFd sock;
    ipc::PeerCredentials peer{};
    State state = State::awaiting_request;
    std::optional<Clock::time_point> deadline;
    ipc::DumpRequest request{};
    std::optional<store::PendingReport> pending;
    Clock::time_point dump_started{};
  };

  Server(config::Config config, WorkerSpec worker, store::CrashDirectory directory, util::UniqueFd listen_fd,
         bool owns_socket_path);

  void on_accept();
  void on_kernel_accept();
  void on_kernel_readable(Connection& c);
  void start_worker(Connection& c);
  // usercrash_c hands its crash to the warm collector: passed on with the
  // connection, or refused at once (the client then collects it itself).
  void on_hand_off(Connection& c, ipc::Message& message);
  void reap_workers();
  void on_readable(Connection& c);
  void on_request(Connection& c, const ipc::DumpRequest& request);
  void answer_status(Connection& c, std::span<const std::byte> bytes);
  void start_dump(Connection& c);
  // What the client's crash_debuginfod fetch came to: counted, said once.
  void note_debuginfod(const Connection& c, const ipc::Completed& done);
  void finish(Connection& c, bool completed, const std::string& reason);
  // A report its client did not finish: the text so far, marked so, without
  // its JSON; false (the connection closed, counted lost) when there is none.
  bool end_incomplete(Connection& c, const std::string& reason);
  // A report over rate_limit (`why`, the group's `total`): counted, refused.
  void not_kept(Connection& c, const store::CrashFacts& facts, uint64_t total, const char* why);
  // After a report is stored: its log entry, the hook, the metrics.
  void announce(const Connection& c, const store::ReportHead& head, const store::Publication& published);
  void log_loops(Clock::time_point now);
  MetricsGauges gauges() const;
  void expire(Clock::time_point now);
  void close_connection(uint64_t id);
  void start_queued();
  void shutdown_begin();
  int next_timeout_ms() const;
  void log_counters() const;
  std::string describe(const Connection& c) const;

  config::Config config_;
  WorkerSpec worker_;
  store::CrashDirectory directory_;
  util::UniqueFd listen_;
  bool owns_socket_path_;
  util::UniqueFd kernel_listen_;
  bool owns_kernel_path_ = false;
  std::map<pid_t, std::string> workers_;        // running workers: pid → what they handle
  std::unique_ptr<WarmCollectorProcess> warm_;  // warm_collector=yes
  uint64_t warm_refused_ = 0;                   // hand-offs answered "no warm collector"
  util::UniqueFd epoll_;
  util::UniqueFd signals_;
  std::map<uint64_t, Connection> connections_;
  std::deque<uint64_t> queue_;
  unsigned active_ = 0;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::optional<Clock::time_point> stop_deadline_;
  CrashAdmission admission_;
  publish::ReportHook hook_;
  DebuginfodFailures debuginfod_failures_;
  MetricsFile metrics_file_;
  MetricsState metrics_;
  Counters counters_;
  Clock::time_point started_ = Clock::now();
};

}  // namespace usercrash::server
