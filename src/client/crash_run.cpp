#include "client/crash_run.h"

#include <fmt/format.h>

#include "client/core_relay.h"
#include "client/crash.h"
#include "client/crash_debuginfod.h"
#include "client/own_slot.h"
#include "client/server_slot.h"
#include "collect/collect.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/phase_trace.h"

namespace usercrash::client {

namespace log = util::log;

util::Result<config::Config> load_config(const ClientContext& ctx) {
  bool named = !ctx.config_path.empty();
  auto config = config::load(named ? ctx.config_path : config::kDefaultPath, named);
  if (!config) return util::fail("bad configuration: " + config.error().message);
  for (const auto& [key, value] : ctx.overrides)
    if (auto r = config::set(*config, key, value); !r) return std::unexpected(r.error());
  return config;
}

int pass_on_only(ClientContext ctx, const config::Config& config, const std::string& why, const char* program) {
  fmt::print(stderr, "{}", util::usage_error_text(program, why));
  log::error("no report ({}); passing the core on to the previous handler only", why);
  if (auto crash = Crash::open(std::move(ctx), config)) CoreRelay(config, *crash).finish();
  return util::kExitUsage;
}

namespace {

// Where this crash's report goes: the server's slot, our own when the
// server cannot be reached, or nowhere when the server dropped it on
// purpose (`status` is then what to exit with). Asked before anything
// costly is collected.
std::unique_ptr<collect::ReportDestination> choose_destination(const config::Config& config, const Crash& crash,
                                                               const CrashDebuginfod* debuginfod, int& status) {
  const auto& ctx = crash.context();
  std::unique_ptr<ServerSlot> slot;
  std::string why;
  switch (ServerSlot::ask(config, crash, debuginfod, slot, why)) {
    case ServerSlot::Answer::perform: return slot;
    case ServerSlot::Answer::dropped:
      log::warn("pid {} ({}): no report: {}", ctx.pid, util::escape_text(ctx.comm), why);
      status = 0;
      return nullptr;
    case ServerSlot::Answer::unavailable: break;
  }
  // The server is down or broken: into the crash directory ourselves, same
  // ring and file rules, under the lock the server also takes.
  std::optional<uid_t> owner;
  if (crash.owner_may_read(config)) owner = crash.uid();
  auto own = OwnSlot::open(config, ctx.pid, crash.uid(), owner, why);
  if (own) return std::move(*own);
  log::error("pid {}: server unavailable ({}) and {}", ctx.pid, why, own.error().message);
  status = 1;
  return nullptr;
}

}  // namespace

int run_crash(ClientContext context, const config::Config& config, std::chrono::steady_clock::time_point started,
              const WarmState& warm) {
  // 1. Who crashed, and the head of its core.
  auto crash = Crash::open(std::move(context), config);
  if (!crash) {
    log::error("{}", crash.error().message);
    return 1;
  }
  const ClientContext& ctx = crash->context();
  CoreRelay relay(config, *crash);
  util::trace::mark("crash_facts");
  // crash_debuginfod: the debug files the collector lacks, fetched here,
  // outside its sandbox (collect/late_symbols.h); nothing is loaded or
  // asked before then. The server is told what came of it.
  auto debuginfod = CrashDebuginfod::from(config);
  // 2. Where the report goes, asked before anything costly is read.
  int status = 0;
  auto destination = choose_destination(config, *crash, debuginfod.get(), status);
  util::trace::mark("destination");
  if (!destination) {
    relay.finish();
    return status;
  }
  // 3. The report, collected in the isolated job; the rest of the core
  //    passes on once it is collected.
  collect::Plan plan = collect::make_plan(config, started);
  plan.remote_debug = debuginfod.get();
  plan.prepared_sandbox = warm.sandbox;
  if (warm.modules) {
    plan.options.warm = warm.modules;
    // The child inherits the warm libraries' private mappings, which its
    // data limit counts too (engine::WarmModules::data_bytes()).
    if (plan.budget.memory_bytes) plan.budget.memory_bytes += warm.modules->data_bytes();
  }
  auto target = crash->target(config, plan.process);
  if (ctx.time) plan.options.time = *ctx.time;
  auto done = collect::collect(*target, plan, *destination, [&] { return relay.save(destination->core_fd()); });
  util::trace::mark("child_ended");
  if (done.delivered)
    log::info("pid {} ({}), signal {}: report {}/{}{}", ctx.pid, util::escape_text(ctx.comm), ctx.signal,
              config.directory, *done.delivered, done.written.complete ? "" : " (partial: " + done.written.note + ")");
  else log::error("pid {}: report not saved: {}", ctx.pid, done.delivered.error().message);
  // 4. The previous handler, last: it never holds a slot.
  relay.finish();
  // A report we published alone goes to on_report now, last (client/own_slot.h).
  destination.reset();
  util::trace::mark("exit");
  return done.delivered ? 0 : 1;
}

}  // namespace usercrash::client
