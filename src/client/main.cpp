// usercrash_c: run by the kernel for every crash (core_pattern), with the
// core on stdin while the dying process is still in /proc; started by
// usercrash_s for a connection on the kernel's coredump socket; or started
// by usercrash_s as its warm collector.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "client/client_context.h"
#include "client/crash_run.h"
#include "client/process_title.h"
#include "client/warm_collector.h"
#include "client/warm_hand_off.h"
#include "config/config.h"
#include "util/cli.h"
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
  bool no_core = parsed && (parsed->kernel_connection || parsed->warm_channel >= 0);
  if (!no_core && ::isatty(parsed ? parsed->core_fd : STDIN_FILENO))
    util::usage_error(kProgram, parsed ? "the core must come on standard input (the kernel runs this from core_pattern)"
                                       : parsed.error().message);
  auto loaded = parsed ? client::load_config(*parsed) : util::Result<config::Config>(std::unexpected(parsed.error()));
  if (loaded) return {std::move(*parsed), std::move(*loaded), std::nullopt};
  if (parsed && parsed->warm_channel >= 0) {
    log::error("warm collector: {}", loaded.error().message);
    return {.ctx = {}, .config = {}, .exit = 1};
  }
  log::deliver_in_background();
  // What can still be used: the options, and the configuration they name.
  auto options = parsed ? parsed : client::parse_client_options(argc, argv);
  auto config =
      options ? client::load_config(*options) : util::Result<config::Config>(std::unexpected(options.error()));
  return {.ctx = {},
          .config = {},
          .exit = client::pass_on_only(options.value_or(client::ClientContext{}), config.value_or(config::Config{}),
                                       loaded.error().message, kProgram)};
}

// With the server's warm collector: the crash handed to it, or why it
// stays here (logged; nothing of the core was read).
bool handed_off(const config::Config& config, int argc, char** argv, const client::ClientContext& ctx) {
  if (!config.warm_collector || ctx.kernel_connection) return false;
  std::string why;
  if (client::hand_off(config, std::vector<std::string>(argv, argv + argc), ctx, why) ==
      client::HandOffOutcome::taken) {
    log::debug("pid {}: handed to the warm collector", ctx.pid);
    return true;
  }
  log::debug("pid {}: collecting here: {}", ctx.pid, why);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  auto started = Clock::now();
  client::remember_argument_area(argc, argv);
  util::trace::init_from_environment();
  util::trace::mark("main");
  ensure_standard_fds();
  log::init(kProgram);
  ::signal(SIGPIPE, SIG_IGN);
  // Never dump ourselves: the kernel already gives core_pattern helpers
  // RLIMIT_CORE=1 so a crash here cannot recurse; non-dumpable makes sure.
  ::prctl(PR_SET_DUMPABLE, 0);
  auto start = read_command_line(argc, argv);
  if (start.exit) return *start.exit;
  util::trace::mark("config");
  // The warm collector forks a process per crash: it keeps no log thread.
  if (start.ctx.warm_channel >= 0) return client::serve_warm_collector(start.ctx, start.config);
  // A journald that stopped reading must not hold a crash's helper.
  log::deliver_in_background();
  if (handed_off(start.config, argc, argv, start.ctx)) return 0;
  return client::run_crash(std::move(start.ctx), start.config, started);
}
