// The collection step, one for every program that makes a report
// (usercrash_c and its kernel-socket worker, debugger, usercrashctl
// analyze): the plan from the configuration, the target the caller opened,
// the isolated job (job.h) and the destination (destination.h).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "collect/destination.h"
#include "collect/job.h"
#include "collect/late_symbols.h"
#include "collect/sandbox.h"
#include "config/config.h"
#include "engine/process_target.h"
#include "engine/report_builder.h"
#include "engine/target.h"
#include "report/render.h"

namespace usercrash::collect {

// What to collect, how to render it, the budget and the sandbox the job
// parses in: all from the configuration (options.h), for the caller to
// adjust.
struct Plan {
  engine::ProcessLimits process;  // for a target read from /proc
  engine::CollectOptions options;
  report::RenderOptions render;
  Budget budget;
  SandboxOptions sandbox;
  // crash_debuginfod: the child names the debug files it lacks, and
  // collect() asks `remote_debug` for them (late_symbols.h) when the
  // caller sets it (not owned; it keeps to its own time).
  LateSymbols late_symbols;
  engine::RemoteDebugFiles* remote_debug = nullptr;
  // The sandbox prepared once for this configuration by a long-lived
  // caller (the warm collector); prepared here per report when null.
  const Sandbox* prepared_sandbox = nullptr;
};

Plan make_plan(const config::Config& config,
               std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

// What the caller does once the report is collected and before it is
// written: passes the rest of the core on, and says what became of it.
using CoreStep = std::function<std::optional<engine::CoreOutcome>()>;

struct Collected {
  JobResult written;
  util::Result<std::string> delivered;  // where the report went, or why not
};

// Collects the report of `target` in the isolated job, writes it into the
// destination's files and hands it to the destination.
Collected collect(engine::Target& target, const Plan& plan, ReportDestination& destination,
                  const CoreStep& core_step = {});

}  // namespace usercrash::collect
