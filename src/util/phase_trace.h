// Timestamps of the crash path's phases, for bench/crash_profile.py. Off
// unless the process starts with USERCRASH_TRACE_FD naming an fd it already
// holds open for writing, a pipe or a regular file: whoever sets the
// variable owns the fd, so nothing is ever opened by a path, and the
// kernel (which starts core_pattern helpers with a fixed environment) and
// the server (which spawns its workers with one) never set it. Off, each
// call is one test of a global.
//
// A line per event, each written whole by one write():
//   "PID mark PHASE NS"            CLOCK_MONOTONIC ns when PHASE began
//   "PID total NAME NS CALLS"      time spent under NAME (a Span) in all
//   "PID mono-real NS"             CLOCK_REALTIME - CLOCK_MONOTONIC, once
// A forked child writes to the same fd (the job keeps it open in its
// sandbox while tracing is on).
#pragma once

#include <cstdint>
#include <string_view>

namespace usercrash::util::trace {

// Reads USERCRASH_TRACE_FD once and removes it from the environment; the
// fd is made close-on-exec, so programs we run never inherit it.
void init_from_environment();

// The trace fd, or -1 when tracing is off.
int fd();
inline bool enabled() { return fd() >= 0; }

void mark(std::string_view phase);

// Where time goes in calls made many times (loading a module, its CFI, a
// symbol lookup): totals per name, written by write_totals(). Spans nest,
// and each counts only its own time: a module loaded while a frame is
// stepped counts as module_elf, not frame_step.
enum class Cost { module_elf, cfi, frame_step, symbols, source_lines, memory_reads, disassembly, count };

class Span {
 public:
  explicit Span(Cost cost);
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

 private:
  Cost cost_;
  int64_t start_ = -1;
  Span* outer_ = nullptr;
};

void write_totals();

}  // namespace usercrash::util::trace
