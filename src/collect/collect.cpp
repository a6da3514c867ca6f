#include "collect/collect.h"

#include "collect/options.h"

namespace usercrash::collect {

Plan make_plan(const config::Config& config, std::chrono::steady_clock::time_point started) {
  return Plan{process_limits(config, started), collect_options(config, started), render_options(config),
              budget(config, started), sandbox_options(config)};
}

Collected collect(engine::Target& target, const Plan& plan, ReportDestination& destination, const CoreStep& core_step) {
  Sandbox sandbox = Sandbox::prepare(plan.sandbox);
  Job job(target, plan.options, plan.render, destination.files(), plan.budget, sandbox);
  job.await_collected();
  LateFacts late;
  if (core_step) late.core = core_step();
  late.problems = destination.notes();
  JobResult written = job.write(late);
  Amend amend = [&](const std::string& problem) {
    late.problems.push_back(problem);
    return job.write(late);
  };
  auto delivered = destination.deliver(written, amend);
  return {written, std::move(delivered)};
}

}  // namespace usercrash::collect
