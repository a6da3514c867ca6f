#include "collect/options.h"

namespace usercrash::collect {

engine::CollectOptions collect_options(const config::Config& config, std::chrono::steady_clock::time_point started) {
  engine::CollectOptions o;
  o.max_threads = config.max_threads;
  o.max_frames = config.max_frames;
  o.source_lines = config.source_lines;
  o.debuginfo_path = config.debuginfo_path;
  o.dump_secure_memory = config.dump_secure_memory;
  auto render_reserve = std::min<std::chrono::milliseconds>(config.time_budget / 5, std::chrono::seconds(1));
  o.deadline = started + config.time_budget - render_reserve;
  return o;
}

Budget budget(const config::Config& config, std::chrono::steady_clock::time_point started) {
  Budget b;
  b.deadline = started + config.time_budget;
  b.memory_bytes = config.memory_budget;
  return b;
}

engine::ProcessLimits process_limits(const config::Config& config, std::chrono::steady_clock::time_point started) {
  engine::ProcessLimits limits;
  limits.deadline = started + config.time_budget * 2 / 5;
  limits.max_threads = config.max_threads;
  limits.max_maps = config.max_maps;
  limits.max_open_files = config.max_open_files;
  limits.include_environment = config.include_environment;
  return limits;
}

engine::CoreLimits core_limits(const config::Config& config) {
  engine::CoreLimits limits;
  limits.max_threads = config.max_threads;
  limits.max_files = config.max_maps;
  return limits;
}

report::RenderOptions render_options(const config::Config& config) {
  report::RenderOptions render;
  render.max_bytes = config.max_report_size;
  return render;
}

SandboxOptions sandbox_options(const config::Config& config) {
  SandboxOptions sandbox;
  sandbox.user = config.engine_user;
  sandbox.readable_tree = config.debuginfo_path;
  // A report is cut at max_report_size; the rest is slack for the note
  // that says so.
  constexpr uint64_t kReportSlack = 1 << 20;
  sandbox.max_file_size = config.max_report_size + kReportSlack;
  return sandbox;
}

LateSymbols late_symbols(const config::Config& config) {
  LateSymbols late;
  late.wanted = config.crash_debuginfod && !config.debuginfod_urls.empty();
  late.lines = config.source_lines;
  return late;
}

}  // namespace usercrash::collect
