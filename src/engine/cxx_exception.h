// The exception std::terminate was called for, read from the crashed
// thread's memory without running any of its code. libstdc++ keeps the
// exceptions a thread has caught in its thread-local __cxa_eh_globals; when
// a throw finds no handler, __cxa_throw "catches" the exception itself
// before calling std::terminate, so the one the program died of is the top
// of that list. From its __cxa_exception header: the std::type_info (the
// demangled type), and for standard exceptions whose what() is
// std::logic_error's or std::runtime_error's, the message they hold.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "engine/memory_cache.h"
#include "engine/report.h"
#include "engine/unwinder.h"
#include "util/result.h"

namespace usercrash::engine {

// Whether a backtrace passes through std::terminate (libstdc++'s names).
bool called_terminate(const std::vector<Frame>& frames);

// The exception the thread with thread pointer `fs_base` had caught; nullopt
// when the thread had none (std::terminate called without an active
// exception); an error says why it cannot be known. A message longer than
// the cap is cut, and `cut` says by how much.
struct UncaughtExceptionRead {
  UncaughtException exception;
  std::optional<std::string> cut;  // "uncaught exception message: 4096 of 10000 bytes"
};
util::Result<std::optional<UncaughtExceptionRead>> read_uncaught_exception(Unwinder& unwinder, MemoryCache& memory,
                                                                           uint64_t fs_base, pid_t tid);

}  // namespace usercrash::engine
