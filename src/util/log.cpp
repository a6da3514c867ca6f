#include "util/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "util/journal_socket.h"

namespace usercrash::util::log {
namespace {

constexpr const char* kJournalSocket = "/run/systemd/journal/socket";
constexpr const char* kSyslogSocket = "/dev/log";

struct Entry {
  Level level = Level::info;
  std::string message;
  std::vector<Field> fields;
  std::string plain_suffix;
};

// Where an entry can go now.
enum class Route { journal, syslog, none };

struct State {
  const char* ident = "usercrash";
  bool interactive = false;  // stderr only
  bool copy_to_stderr = true;
  bool verbose = false;
  bool syslog_open = false;
  std::optional<Route> last_route;  // to say once when the destination changes

  std::mutex mutex;
  std::condition_variable wake, drained;
  std::deque<Entry> queue;
  size_t max_queued = 0;
  bool background = false;
  bool busy = false;  // the thread is delivering one
  std::chrono::milliseconds exit_flush{0};
  Delivery counts;
};

State& state() {
  static State* s = new State;  // never destroyed: the thread may outlive main's statics
  return *s;
}

int priority(Level level) {
  switch (level) {
    case Level::debug: return LOG_DEBUG;
    case Level::info: return LOG_INFO;
    case Level::warning: return LOG_WARNING;
    case Level::error: return LOG_ERR;
    case Level::critical: return LOG_CRIT;
  }
  return LOG_INFO;
}

const char* prefix(Level level) {
  switch (level) {
    case Level::debug: return "debug: ";
    case Level::info: return "";
    case Level::warning: return "warning: ";
    case Level::error: return "error: ";
    case Level::critical: return "";
  }
  return "";
}

bool is_socket(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

// True when stderr is journald's stream (systemd sets JOURNAL_STREAM to
// its device and inode): a copy there would be a second journal entry.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (!stream || ::fstat(STDERR_FILENO, &st) != 0) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  return dev == st.st_dev && ino == st.st_ino;
}

void write_stderr(const State& s, Level level, std::string_view message, std::string_view suffix) {
  std::string line = std::string(s.ident) + ": " + prefix(level);
  line.append(message);
  line.append(suffix);
  line.push_back('\n');
  // One write per line so concurrent writers do not interleave mid-line.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

void to_syslog(State& s, const Entry& e) {
  if (!s.syslog_open) {
    // No LOG_CONS: never /dev/console.
    ::openlog(s.ident, LOG_PID, LOG_DAEMON);
    s.syslog_open = true;
  }
  std::string text = e.message + e.plain_suffix;
  ::syslog(priority(e.level), "%.*s", static_cast<int>(text.size()), text.data());
}

// 0 when journald took it, else the negative errno.
int to_journal(const State& s, const Entry& e) {
  std::vector<std::string> lines;
  lines.reserve(e.fields.size() + 3);
  lines.push_back("MESSAGE=" + e.message);
  lines.push_back("PRIORITY=" + std::to_string(priority(e.level)));
  lines.push_back(std::string("SYSLOG_IDENTIFIER=") + s.ident);
  for (const auto& f : e.fields) lines.push_back(f.name + "=" + f.value);
  return journal::send(lines, kJournalSocket);
}

const char* route_name(Route r) {
  switch (r) {
    case Route::journal: return "journald";
    case Route::syslog: return "syslog";
    case Route::none: return "stderr only";
  }
  return "?";
}

// Delivers one entry to journald or syslog; may block (a stuck journald).
// Returns a line to log when the destination changed, or journald refused.
std::optional<std::string> deliver(State& s, const Entry& e) {
  auto fallback = [] { return is_socket(kSyslogSocket) ? Route::syslog : Route::none; };
  Route route = is_socket(kJournalSocket) ? Route::journal : fallback();
  std::string refused;
  if (route == Route::journal) {
    if (int rc = to_journal(s, e); rc < 0) {
      refused = std::strerror(-rc);
      route = fallback();
    }
  }
  if (route == Route::syslog) to_syslog(s, e);
  std::lock_guard lock(s.mutex);
  if (route == Route::journal) s.counts.journal++;
  if (route == Route::syslog) s.counts.syslog++;
  if (!refused.empty()) s.counts.journal_failures++;
  bool changed = s.last_route && *s.last_route != route;
  bool first = !s.last_route;
  s.last_route = route;
  if (!refused.empty() && (changed || first))
    return fmt::format("journald refused an entry ({}); logging to {}", refused, route_name(route));
  if (changed) return fmt::format("logging to {} from now on", route_name(route));
  return std::nullopt;
}

void announce(State& s, const std::string& change) {
  Entry note{Level::warning, "log: " + change, {}, {}};
  if (s.copy_to_stderr) write_stderr(s, note.level, note.message, {});
  if (s.last_route == Route::syslog) to_syslog(s, note);
  else if (s.last_route == Route::journal) to_journal(s, note);
}

void run_queue() {
  State& s = state();
  for (;;) {
    Entry e;
    {
      std::unique_lock lock(s.mutex);
      s.wake.wait(lock, [&] { return !s.queue.empty(); });
      e = std::move(s.queue.front());
      s.queue.pop_front();
      s.busy = true;
    }
    if (auto change = deliver(s, e)) announce(s, *change);
    std::lock_guard lock(s.mutex);
    s.busy = false;
    if (s.queue.empty()) s.drained.notify_all();
  }
}

void submit(Entry e) {
  State& s = state();
  if (s.copy_to_stderr || s.interactive) write_stderr(s, e.level, e.message, e.plain_suffix);
  if (s.interactive) return;
  {
    std::lock_guard lock(s.mutex);
    if (s.background) {
      if (s.queue.size() >= s.max_queued) {
        s.counts.dropped++;
        return;
      }
      s.queue.push_back(std::move(e));
      s.wake.notify_one();
      return;
    }
  }
  if (auto change = deliver(s, e)) announce(s, *change);
}

}  // namespace

void init(const char* ident, Sink sink) {
  State& s = state();
  s.ident = ident;
  // stderr may be closed (the kernel starts core_pattern helpers with no fds
  // but the pipe); then only journald or syslog can have the line.
  bool have_stderr = ::fcntl(STDERR_FILENO, F_GETFD) != -1;
  s.interactive = sink == Sink::stderr_only || (have_stderr && ::isatty(STDERR_FILENO));
  s.copy_to_stderr = have_stderr && !s.interactive && !stderr_is_journal();
}

void set_verbose(bool verbose) { state().verbose = verbose; }

void write(Level level, std::string_view message) {
  if (level == Level::debug && !state().verbose) return;
  submit(Entry{level, std::string(message), {}, {}});
}

void entry(Level level, std::string_view message, const std::vector<Field>& fields, std::string_view plain_suffix) {
  submit(Entry{level, std::string(message), fields, std::string(plain_suffix)});
}

void deliver_in_background(size_t max_queued, std::chrono::milliseconds exit_flush) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (s.background || s.interactive) return;
  s.background = true;
  s.max_queued = max_queued;
  s.exit_flush = exit_flush;
  // A child forked while the thread holds the lock must not inherit it
  // held; the child has no thread, so it delivers on its own.
  ::pthread_atfork([] { state().mutex.lock(); }, [] { state().mutex.unlock(); },
                   [] {
                     State& c = state();
                     c.mutex.unlock();
                     c.background = false;
                     c.queue.clear();
                   });
  // At exit, what is queued gets a moment; a journald that does not take it
  // then does not hold the process.
  std::atexit([] { flush(state().exit_flush); });
  // A small stack: the default (RLIMIT_STACK, 8 MiB) is private writable
  // memory that a forked collector inherits and its memory budget
  // (RLIMIT_DATA) counts (HostileProcess.ThirtyThousandMaps... ran out of
  // it). Without a thread, entries are delivered where they are made.
  constexpr size_t kStackBytes = 256 * 1024;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  auto body = [](void*) -> void* {
    run_queue();
    return nullptr;
  };
  if (::pthread_create(&thread, &attr, body, nullptr) != 0) s.background = false;
  pthread_attr_destroy(&attr);
}

void flush(std::chrono::milliseconds timeout) {
  State& s = state();
  std::unique_lock lock(s.mutex);
  s.drained.wait_for(lock, timeout, [&] { return s.queue.empty() && !s.busy; });
}

Delivery delivery() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  return s.counts;
}

}  // namespace usercrash::util::log
