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
#include "client/own_slot.h"
#include "client/server_slot.h"
#include "collect/collect.h"
#include "config/config.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/log.h"

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

// --help and --version, before anything else is parsed.
std::optional<int> answer_info_options(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a == "--help") {
      client::print_client_help(kProgram);
      return 0;
    }
    if (a == "-V" || a == "--version") {
      fmt::print("{} {}\n", kProgram, util::version());
      return 0;
    }
  }
  return std::nullopt;
}

// Where this crash's report goes: the server's slot, our own when the
// server cannot be reached, or nowhere when the server dropped it on
// purpose (`status` is then what to exit with). Asked before anything
// costly is collected.
std::unique_ptr<collect::ReportDestination> choose_destination(const config::Config& config, const client::Crash& crash,
                                                               int& status) {
  const auto& ctx = crash.context();
  std::unique_ptr<client::ServerSlot> slot;
  std::string why;
  switch (client::ServerSlot::ask(config, crash, slot, why)) {
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
  auto own = client::OwnSlot::open(config, ctx.pid, owner, why);
  if (own) return std::move(*own);
  log::error("pid {}: server unavailable ({}) and {}", ctx.pid, why, own.error().message);
  status = 1;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  auto started = Clock::now();
  ensure_standard_fds();
  log::init(kProgram);
  ::signal(SIGPIPE, SIG_IGN);
  // Never dump ourselves: the kernel already gives core_pattern helpers
  // RLIMIT_CORE=1 so a crash here cannot recurse; non-dumpable makes sure.
  ::prctl(PR_SET_DUMPABLE, 0);
  if (auto status = answer_info_options(argc, argv)) return *status;
  auto parsed = client::parse_client_args(argc, argv);
  if (!parsed) util::usage_error(kProgram, parsed.error().message);
  log::set_verbose(parsed->verbose);
  if (!parsed->kernel_connection && ::isatty(parsed->core_fd))
    util::usage_error(kProgram, "the core must come on standard input (the kernel runs this from core_pattern)");
  config::Config config = config::load_or_exit(kProgram, parsed->config_path);
  for (const auto& [k, v] : parsed->overrides) config::override_or_exit(kProgram, config, k.c_str(), v.c_str());

  // 1. Who crashed, and the head of its core.
  auto crash = client::Crash::open(*parsed, config);
  if (!crash) {
    log::error("{}", crash.error().message);
    return 1;
  }
  const client::ClientContext& ctx = crash->context();
  client::CoreRelay relay(config, *crash);
  // 2. Where the report goes, asked before anything costly is read.
  int status = 0;
  auto destination = choose_destination(config, *crash, status);
  if (!destination) {
    relay.finish();
    return status;
  }
  // 3. The report, collected in the isolated job; the rest of the core
  //    passes on once it is collected.
  auto target = crash->target(config);
  collect::Plan plan = collect::make_plan(config, started);
  if (ctx.time) plan.options.time = *ctx.time;
  auto done = collect::collect(*target, plan, *destination, [&] { return relay.save(destination->core_fd()); });
  if (done.delivered)
    log::info("pid {} ({}), signal {}: report {}/{}{}", ctx.pid, util::escape_text(ctx.comm), ctx.signal,
              config.directory, *done.delivered, done.written.complete ? "" : " (partial: " + done.written.note + ")");
  else log::error("pid {}: report not saved: {}", ctx.pid, done.delivered.error().message);
  // 4. The previous handler, last: it never holds a slot.
  relay.finish();
  return done.delivered ? 0 : 1;
}
