// A report's JSON read back into a Report, so that a report rewritten
// elsewhere (usercrashctl symbolize) can be rendered as text. The JSON may
// come from anywhere: a value of the wrong type or form is left absent
// (or the report refused, where nothing sensible remains), never trusted.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/report.h"
#include "util/result.h"

namespace usercrash::report {

util::Result<engine::Report> report_from_json(const nlohmann::json& doc);

}  // namespace usercrash::report
