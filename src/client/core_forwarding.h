// The rest of the core stream after the report: to the saved core (zstd)
// and to the chained handler, read once, only as far as someone needs it.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

#include "client/chained_handler.h"
#include "engine/core_stream.h"
#include "store/core_archive.h"

namespace usercrash::client {

struct CoreSinks {
  store::CoreWriter* saved = nullptr;  // not owned
  ChainedHandler* chained = nullptr;   // not owned
};

struct ForwardResult {
  uint64_t bytes = 0;     // of the core passed on (head included)
  bool complete = false;  // the stream was read to its end
  std::string problem;    // a read error, when there was one
};

// Passes the head (from memory or its spill file) then the rest of `in_fd`
// to the sinks. Stops reading once no
// sink wants more (the saved core hit its cap and there is no live chained
// handler). A sink that fails is dropped; the others go on.
ForwardResult forward_core(const engine::CoreHead& head, int in_fd, const CoreSinks& sinks,
                           std::chrono::steady_clock::time_point deadline);

}  // namespace usercrash::client
