// usercrash_c: run by the kernel for every crash (core_pattern), with the
// core on stdin while the dying process is still in /proc; or started by
// usercrash_s for a connection on the kernel's coredump socket.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "client/client_context.h"
#include "client/core_relay.h"
#include "client/crash.h"
#include "client/crash_debuginfod.h"
#include "client/own_slot.h"
#include "client/server_slot.h"
#include "collect/collect.h"
#include "config/config.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/phase_trace.h"

namespace {

using namespace usercrash;
namespace log = util::log;
using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "usercrash_c";

// The kernel starts a core_pattern helper with only stdin open (and the
// pidfd, when asked for). Point 1 and 2 at /dev/null so nothing we open
// later lands there and receives stray writes.
void ensure_standard_fds() {
  for (int fd = 1; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) continue;
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

// The configuration the command line names, with its -o overrides.
util::Result<config::Config> load_config(const client::ClientContext& ctx) {
  bool named = !ctx.config_path.empty();
  auto config = config::load(named ? ctx.config_path : config::kDefaultPath, named);
  if (!config) return util::fail("bad configuration: " + config.error().message);
  for (const auto& [key, value] : ctx.overrides)
    if (auto r = config::set(*config, key, value); !r) return std::unexpected(r.error());
  return config;
}

// The command line or the configuration cannot be used: there is no
// report, but the core still goes where it went before usercrash. A crash
// is never kept from its previous handler by a bad argument.
int pass_on_only(client::ClientContext ctx, const config::Config& config, const std::string& why) {
  fmt::print(stderr, "{}", util::usage_error_text(kProgram, why));
  log::error("no report ({}); passing the core on to the previous handler only", why);
  if (auto crash = client::Crash::open(std::move(ctx), config)) client::CoreRelay(config, *crash).finish();
  return util::kExitUsage;
}

// The command line and the configuration it names; `exit` is set when
// there is nothing more to do: after --help or --version, or once the core
// went to the previous handler alone because either cannot be used.
struct CommandLine {
  client::ClientContext ctx;
  config::Config config;
  std::optional<int> exit;
};

CommandLine read_command_line(int argc, char** argv) {
  auto parsed = client::parse_client_args(argc, argv);
  if (parsed && (parsed->help || parsed->version)) {
    if (parsed->help) client::print_client_help(kProgram);
    else fmt::print("{} {}\n", kProgram, util::version());
    return {.ctx = {}, .config = {}, .exit = 0};
  }
  if (parsed) log::set_verbose(parsed->verbose);
  bool kernel_connection = parsed && parsed->kernel_connection;
  if (!kernel_connection && ::isatty(parsed ? parsed->core_fd : STDIN_FILENO))
    util::usage_error(kProgram, parsed ? "the core must come on standard input (the kernel runs this from core_pattern)"
                                       : parsed.error().message);
  auto loaded = parsed ? load_config(*parsed) : util::Result<config::Config>(std::unexpected(parsed.error()));
  if (loaded) return {std::move(*parsed), std::move(*loaded), std::nullopt};
  // What can still be used: the options, and the configuration they name.
  auto options = parsed ? parsed : client::parse_client_options(argc, argv);
  auto config = options ? load_config(*options) : util::Result<config::Config>(std::unexpected(options.error()));
  return {.ctx = {},
          .config = {},
          .exit = pass_on_only(options.value_or(client::ClientContext{}), config.value_or(config::Config{}),
                               loaded.error().message)};
}

// Where this crash's report goes: the server's slot, our own when the
// server cannot be reached, or nowhere when the server dropped it on
// purpose (`status` is then what to exit with). Asked before anything
// costly is collected.
std::unique_ptr<collect::ReportDestination> choose_destination(const config::Config& config, const client::Crash& crash,
                                                               const client::CrashDebuginfod* debuginfod, int& status) {
  const auto& ctx = crash.context();
  std::unique_ptr<client::ServerSlot> slot;
  std::string why;
  switch (client::ServerSlot::ask(config, crash, debuginfod, slot, why)) {
    case client::ServerSlot::Answer::perform: return slot;
    case client::ServerSlot::Answer::dropped:
      log::warn("pid {} ({}): no report: {}", ctx.pid, util::escape_text(ctx.comm), why);
      status = 0;
      return nullptr;
    case client::ServerSlot::Answer::unavailable: break;
  }
  // The server is down or broken: into the crash directory ourselves, same
  // ring and file rules, under the lock the server also takes.
  std::optional<uid_t> owner;
  if (crash.owner_may_read(config)) owner = crash.uid();
  auto own = client::OwnSlot::open(config, ctx.pid, crash.uid(), owner, why);
  if (own) return std::move(*own);
  log::error("pid {}: server unavailable ({}) and {}", ctx.pid, why, own.error().message);
  status = 1;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  auto started = Clock::now();
  util::trace::init_from_environment();
  util::trace::mark("main");
  ensure_standard_fds();
  log::init(kProgram);
  // A journald that stopped reading must not hold a crash's helper.
  log::deliver_in_background();
  ::signal(SIGPIPE, SIG_IGN);
  // Never dump ourselves: the kernel already gives core_pattern helpers
  // RLIMIT_CORE=1 so a crash here cannot recurse; non-dumpable makes sure.
  ::prctl(PR_SET_DUMPABLE, 0);
  auto start = read_command_line(argc, argv);
  if (start.exit) return *start.exit;
  const config::Config& config = start.config;
  util::trace::mark("config");

  // 1. Who crashed, and the head of its core.
  auto crash = client::Crash::open(std::move(start.ctx), config);
  if (!crash) {
    log::error("{}", crash.error().message);
    return 1;
  }
  const client::ClientContext& ctx = crash->context();
  client::CoreRelay relay(config, *crash);
  util::trace::mark("crash_facts");
  // crash_debuginfod: the debug files the collector lacks, fetched here,
  // outside its sandbox (collect/late_symbols.h); nothing is loaded or
  // asked before then. The server is told what came of it.
  auto debuginfod = client::CrashDebuginfod::from(config);
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
