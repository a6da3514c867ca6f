// Prometheus text metrics for node_exporter's textfile collector
// (metrics_file=DIR/usercrash.prom, DIR being its
// --collector.textfile.directory): what the server counted, written
// atomically (a new file renamed over the old) at most once a second after
// a change. A missing or unwritable directory costs nothing but a log line
// (once per reason) and a count; reports never wait for it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/log.h"

namespace usercrash::server {

struct Counters;

// Signatures listed with their counts, at most: the ones with most crashes.
inline constexpr size_t kMetricsTopSignatures = 10;

// Seconds from handing out a report's files to its completion.
inline constexpr std::array<double, 11> kCollectionBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// What the metrics say besides the server's counters.
struct MetricsState {
  std::map<std::string, uint64_t> per_signal;  // "SIGSEGV" → crashes recorded
  struct Signature {
    uint64_t total = 0;  // of its group, kept or not, since it was first seen
    std::string exe;
  };
  std::map<std::string, Signature> signatures;
  std::array<uint64_t, kCollectionBuckets.size()> buckets{};  // cumulative, as Prometheus wants
  uint64_t collections = 0;
  double collection_seconds = 0;
  uint64_t recorded_new = 0;                // reports in a slot of their own
  uint64_t recorded_replaced = 0;           // reports over their group's newest
  std::map<std::string, uint64_t> dropped;  // reason → crashes not kept
  uint64_t server_starts = 1;
  int64_t start_time = 0;  // seconds since the epoch
  uint64_t metrics_write_failures = 0;
  uint64_t debuginfod_failures = 0;  // crashes whose crash_debuginfod fetch failed (DebuginfodFailures)

  void record_collection(double seconds);
};

// Gauges and counters owned elsewhere, read when the file is written.
struct MetricsGauges {
  uint64_t queue_depth = 0;
  uint64_t dumps_running = 0;
  uint64_t workers_running = 0;
  uint64_t hooks_running = 0;
  uint64_t hooks_started = 0, hooks_succeeded = 0, hooks_failed = 0, hooks_timed_out = 0, hooks_dropped = 0;
  // The warm collector (warm_collector_process.h): whether it is warm now,
  // crashes passed to it and refused (then collected by usercrash_c), its restarts.
  bool warm_ready = false;
  uint64_t warm_passed = 0, warm_refused = 0, warm_restarts = 0;
  util::log::Delivery log;
};

// The file's text (pure).
std::string render_metrics(const MetricsState& state, const Counters& counters, const MetricsGauges& gauges);

// usercrash_server_starts_total of a previous file's text, if there.
std::optional<uint64_t> previous_starts(const std::string& text);

class MetricsFile {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kMinInterval{1};

  explicit MetricsFile(std::string path);  // "" disables
  bool enabled() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

  // The previous file's text (for previous_starts), "" when none.
  std::string read_previous() const;

  void changed() { dirty_ = true; }
  // When write_if_due next wants to run.
  std::optional<Clock::time_point> next_write() const;
  // Writes `text()` if changed and at least kMinInterval after the last write.
  template <typename F>
  void write_if_due(Clock::time_point now, F&& text) {
    if (!enabled() || !dirty_ || (last_write_ && now - *last_write_ < kMinInterval)) return;
    write(text());
    last_write_ = now;
  }
  // Writes now (start, stop).
  void write(const std::string& text);

  uint64_t failures() const { return failures_; }

 private:
  std::string path_;
  bool dirty_ = false;
  std::optional<Clock::time_point> last_write_;
  uint64_t failures_ = 0;
  std::string last_error_;  // logged once until it changes or a write succeeds
};

}  // namespace usercrash::server
