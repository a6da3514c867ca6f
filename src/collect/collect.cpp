#include "collect/collect.h"

#include <fmt/format.h>

#include "collect/options.h"
#include "util/phase_trace.h"

namespace usercrash::collect {

Plan make_plan(const config::Config& config, std::chrono::steady_clock::time_point started) {
  return Plan{process_limits(config, started),
              collect_options(config, started),
              render_options(config),
              budget(config, started),
              sandbox_options(config),
              late_symbols(config),
              nullptr,
              nullptr};
}

Collected collect(engine::Target& target, const Plan& plan, ReportDestination& destination, const CoreStep& core_step) {
  util::trace::mark("plan");
  std::optional<Sandbox> own_sandbox;
  const Sandbox& sandbox =
      plan.prepared_sandbox ? *plan.prepared_sandbox : own_sandbox.emplace(Sandbox::prepare(plan.sandbox));
  util::trace::mark("sandbox_prepared");
  Job job(target, plan.options, plan.render, destination.files(), plan.budget, sandbox,
          plan.remote_debug ? plan.late_symbols : LateSymbols{});
  job.await_collected();
  util::trace::mark("collected");
  LateFacts late;
  if (core_step) late.core = core_step();
  util::trace::mark("core_passed_on");
  late.problems = destination.notes();
  if (plan.remote_debug && !job.wanted_debug_files().empty()) {
    FetchedDebugFiles fetched = fetch_debug_files(job.wanted_debug_files(), *plan.remote_debug);
    for (const auto& [id, why] : fetched.missing)
      late.problems.push_back(fmt::format("crash_debuginfod: no debug file for build-id {}: {}", id, why));
    job.give_debug_files(std::move(fetched));
  }
  JobResult written = job.write(late);
  util::trace::mark("written");
  Amend amend = [&](const std::string& problem) {
    late.problems.push_back(problem);
    return job.write(late);
  };
  auto delivered = destination.deliver(written, amend);
  util::trace::mark("delivered");
  return {written, std::move(delivered)};
}

}  // namespace usercrash::collect
