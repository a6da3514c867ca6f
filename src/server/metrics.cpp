#include "server/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "server/server.h"
#include "util/file_io.h"
#include "util/parse.h"
#include "util/unique_fd.h"

namespace usercrash::server {

namespace log = util::log;

namespace {

// A label value as the text format wants it: \\, \" and \n escaped.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

void MetricsState::record_collection(double seconds) {
  ++collections;
  collection_seconds += seconds;
  for (size_t i = 0; i < kCollectionBuckets.size(); ++i)
    if (seconds <= kCollectionBuckets[i]) ++buckets[i];
}

std::string render_metrics(const MetricsState& s, const Counters& k, const MetricsGauges& g) {
  std::string out;
  family(out, "usercrash_reports_total", "counter", "Crash reports stored, by where they went.");
  out += fmt::format("usercrash_reports_total{{slot=\"new\"}} {}\n", s.recorded_new);
  out += fmt::format("usercrash_reports_total{{slot=\"replaced_group_newest\"}} {}\n", s.recorded_replaced);

  family(out, "usercrash_crashes_dropped_total", "counter", "Crashes not stored, by reason.");
  std::map<std::string, uint64_t> dropped = s.dropped;
  dropped["queue_full"] += k.queue_full;
  dropped["lost"] += k.lost;
  dropped["write_error"] += k.write_errors;
  dropped["kernel_dropped"] += k.kernel_dropped;
  dropped["rate_limit"] += 0;
  dropped["rate_limit_signature"] += 0;
  for (const auto& [reason, n] : dropped)
    out += fmt::format("usercrash_crashes_dropped_total{{reason=\"{}\"}} {}\n", label(reason), n);

  family(out, "usercrash_crashes_by_signal_total", "counter", "Crash reports stored, by signal.");
  for (const auto& [signal, n] : s.per_signal)
    out += fmt::format("usercrash_crashes_by_signal_total{{signal=\"{}\"}} {}\n", label(signal), n);

  family(out, "usercrash_signature_crashes_total", "counter",
         fmt::format("Crashes of the {} signatures seen most, kept or not.", kMetricsTopSignatures).c_str());
  std::vector<std::pair<std::string, MetricsState::Signature>> top(s.signatures.begin(), s.signatures.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second.total != b.second.total ? a.second.total > b.second.total : a.first < b.first;
  });
  if (top.size() > kMetricsTopSignatures) top.resize(kMetricsTopSignatures);
  for (const auto& [signature, v] : top)
    out += fmt::format("usercrash_signature_crashes_total{{signature=\"{}\",exe=\"{}\"}} {}\n", label(signature),
                       label(v.exe), v.total);

  family(out, "usercrash_collection_seconds", "histogram", "Time from handing out a report's files to its completion.");
  for (size_t i = 0; i < kCollectionBuckets.size(); ++i)
    out += fmt::format("usercrash_collection_seconds_bucket{{le=\"{}\"}} {}\n", kCollectionBuckets[i], s.buckets[i]);
  out += fmt::format("usercrash_collection_seconds_bucket{{le=\"+Inf\"}} {}\n", s.collections);
  out += fmt::format("usercrash_collection_seconds_sum {}\n", s.collection_seconds);
  out += fmt::format("usercrash_collection_seconds_count {}\n", s.collections);

  family(out, "usercrash_queue_depth", "gauge", "Dumps waiting for a turn.");
  out += fmt::format("usercrash_queue_depth {}\n", g.queue_depth);
  family(out, "usercrash_dumps_running", "gauge", "Dumps being written.");
  out += fmt::format("usercrash_dumps_running {}\n", g.dumps_running);
  family(out, "usercrash_kernel_workers_running", "gauge", "Workers for kernel coredump connections.");
  out += fmt::format("usercrash_kernel_workers_running {}\n", g.workers_running);

  family(out, "usercrash_connections_total", "counter", "Connections to the server, by outcome.");
  out += fmt::format("usercrash_connections_total{{outcome=\"accepted\"}} {}\n", k.accepted);
  out += fmt::format("usercrash_connections_total{{outcome=\"refused_peer\"}} {}\n", k.refused_peer);
  out += fmt::format("usercrash_connections_total{{outcome=\"malformed\"}} {}\n", k.malformed);
  out += fmt::format("usercrash_connections_total{{outcome=\"request_timeout\"}} {}\n", k.request_timeouts);
  out += fmt::format("usercrash_connections_total{{outcome=\"partial\"}} {}\n", k.partial);
  out += fmt::format("usercrash_connections_total{{outcome=\"kernel\"}} {}\n", k.kernel_connections);
  out += fmt::format("usercrash_connections_total{{outcome=\"worker_failure\"}} {}\n", k.worker_failures);

  family(out, "usercrash_warm_collector_ready", "gauge", "1 when the warm collector is running and warm.");
  out += fmt::format("usercrash_warm_collector_ready {}\n", g.warm_ready ? 1 : 0);
  family(out, "usercrash_warm_collector_crashes_total", "counter",
         "Crashes handed to the warm collector: passed to it, or refused (collected by usercrash_c itself).");
  out += fmt::format("usercrash_warm_collector_crashes_total{{outcome=\"passed\"}} {}\n", g.warm_passed);
  out += fmt::format("usercrash_warm_collector_crashes_total{{outcome=\"refused\"}} {}\n", g.warm_refused);
  family(out, "usercrash_warm_collector_restarts_total", "counter",
         "Times the warm collector ended and was started again.");
  out += fmt::format("usercrash_warm_collector_restarts_total {}\n", g.warm_restarts);

  family(out, "usercrash_hook_runs_total", "counter", "Runs of the on_report program, by result.");
  out += fmt::format("usercrash_hook_runs_total{{result=\"started\"}} {}\n", g.hooks_started);
  out += fmt::format("usercrash_hook_runs_total{{result=\"succeeded\"}} {}\n", g.hooks_succeeded);
  out += fmt::format("usercrash_hook_runs_total{{result=\"failed\"}} {}\n", g.hooks_failed);
  out += fmt::format("usercrash_hook_runs_total{{result=\"timed_out\"}} {}\n", g.hooks_timed_out);
  out += fmt::format("usercrash_hook_runs_total{{result=\"dropped\"}} {}\n", g.hooks_dropped);
  family(out, "usercrash_hooks_running", "gauge", "Runs of the on_report program going on.");
  out += fmt::format("usercrash_hooks_running {}\n", g.hooks_running);

  family(out, "usercrash_log_entries_total", "counter", "Log entries, by where they went.");
  out += fmt::format("usercrash_log_entries_total{{sink=\"journald\"}} {}\n", g.log.journal);
  out += fmt::format("usercrash_log_entries_total{{sink=\"syslog\"}} {}\n", g.log.syslog);
  out += fmt::format("usercrash_log_entries_total{{sink=\"dropped\"}} {}\n", g.log.dropped);
  family(out, "usercrash_sink_failures_total", "counter",
         "Failures of the places reports are announced or symbolized from.");
  out += fmt::format("usercrash_sink_failures_total{{sink=\"journald\"}} {}\n", g.log.journal_failures);
  out += fmt::format("usercrash_sink_failures_total{{sink=\"metrics_file\"}} {}\n", s.metrics_write_failures);
  out += fmt::format("usercrash_sink_failures_total{{sink=\"on_report\"}} {}\n", g.hooks_failed + g.hooks_dropped);
  out += fmt::format("usercrash_sink_failures_total{{sink=\"debuginfod\"}} {}\n", s.debuginfod_failures);

  family(out, "usercrash_server_starts_total", "counter", "Times the server started with this metrics file.");
  out += fmt::format("usercrash_server_starts_total {}\n", s.server_starts);
  family(out, "usercrash_server_start_time_seconds", "gauge", "When the server started (seconds since the epoch).");
  out += fmt::format("usercrash_server_start_time_seconds {}\n", s.start_time);
  return out;
}

std::optional<uint64_t> previous_starts(const std::string& text) {
  constexpr std::string_view kKey = "\nusercrash_server_starts_total ";
  size_t at = text.find(kKey);
  if (at == std::string::npos) return std::nullopt;
  at += kKey.size();
  return util::parse_int<uint64_t>(std::string_view(text).substr(at, text.find('\n', at) - at));
}

MetricsFile::MetricsFile(std::string path) : path_(std::move(path)) {}

std::string MetricsFile::read_previous() const {
  if (!enabled()) return {};
  auto text = util::read_file_at(AT_FDCWD, path_.c_str(), 1 << 20);
  return text ? *text : std::string();
}

std::optional<MetricsFile::Clock::time_point> MetricsFile::next_write() const {
  if (!enabled() || !dirty_) return std::nullopt;
  return last_write_ ? *last_write_ + kMinInterval : Clock::now();
}

void MetricsFile::write(const std::string& text) {
  if (!enabled()) return;
  dirty_ = false;
  std::string dir = path_.substr(0, path_.rfind('/'));
  std::string base = path_.substr(path_.rfind('/') + 1);
  auto fail = [&](const std::string& why) {
    ++failures_;
    if (why != last_error_)
      log::warn("metrics: cannot write {}: {} (counted; said again only if it changes)", path_, why);
    last_error_ = why;
  };
  util::UniqueFd dirfd(::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return fail(std::strerror(errno));
  // A name of our own in that directory, never followed, then renamed over
  // the file: node_exporter never reads half a file.
  std::string temp = fmt::format(".{}.{}-{:08x}", base, ::getpid(), std::random_device{}());
  util::UniqueFd fd(::openat(dirfd.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return fail(std::strerror(errno));
  if (::fchmod(fd.get(), 0644) != 0 || !util::write_all(fd.get(), text)) {
    int err = errno;
    ::unlinkat(dirfd.get(), temp.c_str(), 0);
    return fail(std::strerror(err));
  }
  fd.reset();
  if (::renameat(dirfd.get(), temp.c_str(), dirfd.get(), base.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dirfd.get(), temp.c_str(), 0);
    return fail(std::strerror(err));
  }
  if (!last_error_.empty()) log::info("metrics: writing {} again", path_);
  last_error_.clear();
}

}  // namespace usercrash::server
