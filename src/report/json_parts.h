// Pieces of the report's JSON that a report symbolized elsewhere is
// rewritten with (report/resymbolize.h), and read back from.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/report.h"
#include "util/result.h"

namespace usercrash::report {

nlohmann::json frame_json(const engine::Frame& frame);
nlohmann::json symbolization_json(const engine::Symbolization& symbolization);

// A frame of a report's JSON, checked: pc and offsets "0x..." hex, the
// build-id hex, strings strings. The report may come from anywhere.
util::Result<engine::Frame> frame_from_json(const nlohmann::json& frame);

}  // namespace usercrash::report
