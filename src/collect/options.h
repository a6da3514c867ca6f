// The one conversion from a Config to the values the engine and the
// renderers take: every cap and policy is read from the Config here and
// nowhere else.
#pragma once

#include <chrono>

#include "collect/job.h"
#include "collect/late_symbols.h"
#include "collect/sandbox.h"
#include "config/config.h"
#include "engine/core_notes.h"
#include "engine/process_target.h"
#include "engine/report_builder.h"
#include "report/render.h"

namespace usercrash::collect {

// time_budget, shared out from `started`: reading /proc's lists (maps, open
// files) ends at two fifths of it; collecting (unwinding) ends a fifth (at
// most a second) before its end, which leaves that for rendering; the
// isolated job is stopped at its end.
//
// What to collect from a target.
engine::CollectOptions collect_options(
    const config::Config& config, std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

// The isolated job's budget: time_budget from `started`.
Budget budget(const config::Config& config, std::chrono::steady_clock::time_point started);

// What to read from /proc/<pid>.
engine::ProcessLimits process_limits(const config::Config& config,
                                     std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

// What to take from a core's notes.
engine::CoreLimits core_limits(const config::Config& config);

// How to render.
report::RenderOptions render_options(const config::Config& config);

// How the engine child is confined.
SandboxOptions sandbox_options(const config::Config& config);

// Whether the crash path asks debuginfod (crash_debuginfod with
// debuginfod_urls), and for which modules (source_lines).
LateSymbols late_symbols(const config::Config& config);

}  // namespace usercrash::collect
