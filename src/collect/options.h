// The one conversion from a Config to the values the engine and the
// renderers take: every cap and policy is read from the Config here and
// nowhere else.
#pragma once

#include <chrono>

#include "collect/job.h"
#include "collect/sandbox.h"
#include "config/config.h"
#include "engine/core_notes.h"
#include "engine/process_target.h"
#include "engine/report_builder.h"
#include "report/render.h"

namespace usercrash::collect {

// What to collect from a target. The engine's deadline leaves a fifth of
// time_budget (at most a second) for rendering.
engine::CollectOptions collect_options(
    const config::Config& config, std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

// The isolated job's budget: time_budget from `started`.
Budget budget(const config::Config& config, std::chrono::steady_clock::time_point started);

// What to read from /proc/<pid>.
engine::ProcessLimits process_limits(const config::Config& config);

// What to take from a core's notes.
engine::CoreLimits core_limits(const config::Config& config);

// How to render.
report::RenderOptions render_options(const config::Config& config);

// How the engine child is confined.
SandboxOptions sandbox_options(const config::Config& config);

}  // namespace usercrash::collect
