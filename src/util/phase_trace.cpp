#include "util/phase_trace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "util/parse.h"

namespace usercrash::util::trace {
namespace {

int trace_fd = -1;

struct Total {
  int64_t ns = 0;
  uint64_t calls = 0;
};
std::array<Total, static_cast<size_t>(Cost::count)> totals;
Span* innermost = nullptr;

constexpr std::array<const char*, static_cast<size_t>(Cost::count)> kCostNames = {
    "module_elf", "cfi", "frame_step", "symbols", "source_lines", "memory_reads", "disassembly"};

int64_t now_ns(clockid_t clock) {
  timespec t{};
  ::clock_gettime(clock, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

void write_line(const std::string& line) { [[maybe_unused]] auto n = ::write(trace_fd, line.data(), line.size()); }

}  // namespace

void init_from_environment() {
  const char* value = std::getenv("USERCRASH_TRACE_FD");
  if (!value) return;
  auto n = parse_int<int>(value);
  ::unsetenv("USERCRASH_TRACE_FD");
  if (!n || *n <= STDERR_FILENO) return;
  int flags = ::fcntl(*n, F_GETFL);
  struct stat st {};
  if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || ::fstat(*n, &st) != 0) return;
  if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode)) return;
  if (::fcntl(*n, F_SETFD, FD_CLOEXEC) != 0) return;
  trace_fd = *n;
  write_line(fmt::format("{} mono-real {}\n", ::getpid(), now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC)));
}

int fd() { return trace_fd; }

void mark(std::string_view phase) {
  if (trace_fd < 0) return;
  write_line(fmt::format("{} mark {} {}\n", ::getpid(), phase, now_ns(CLOCK_MONOTONIC)));
}

// The spans of the one thread that collects: the outer one's clock stops
// while an inner one runs.
Span::Span(Cost cost) : cost_(cost) {
  if (trace_fd < 0) return;
  start_ = now_ns(CLOCK_MONOTONIC);
  outer_ = innermost;
  if (outer_) totals[static_cast<size_t>(outer_->cost_)].ns += start_ - outer_->start_;
  innermost = this;
}

Span::~Span() {
  if (start_ < 0) return;
  int64_t now = now_ns(CLOCK_MONOTONIC);
  Total& t = totals[static_cast<size_t>(cost_)];
  t.ns += now - start_;
  ++t.calls;
  innermost = outer_;
  if (outer_) outer_->start_ = now;
}

void write_totals() {
  if (trace_fd < 0) return;
  std::string text;
  for (size_t i = 0; i < totals.size(); ++i)
    text += fmt::format("{} total {} {} {}\n", ::getpid(), kCostNames[i], totals[i].ns, totals[i].calls);
  write_line(text);
}

}  // namespace usercrash::util::trace
