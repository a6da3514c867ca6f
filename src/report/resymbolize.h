// A report made elsewhere (a device with stripped binaries), symbolized
// here: its JSON is rewritten in place, every thread's frames replaced by
// what the engine's Symbolizer finds from debug files by build-id, each
// changed frame marked `resymbolized`, and `symbolized` added to say when,
// how many frames changed and where each module's debug info came from.
// Every other key is kept as the device wrote it (the signature too, so the
// crash stays in its group).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "engine/symbolizer.h"
#include "util/result.h"

namespace usercrash::report {

// Returns how many frames changed. A report that is not one (no version or
// threads, a frame without a valid pc or method) is refused untouched.
// Threads past limits::kMaxThreads and frames past limits::kMaxFrames are
// left as they are, with a problem saying so.
util::Result<size_t> resymbolize_json(nlohmann::json& doc, engine::Symbolizer& symbolizer, int64_t now);

}  // namespace usercrash::report
