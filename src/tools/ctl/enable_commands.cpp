#include "tools/ctl/enable_commands.h"

#include <signal.h>

#include "tools/core_pattern.h"
#include "tools/ctl/client_path.h"
#include "tools/ctl/text.h"
#include "tools/enabler.h"
#include "tools/service_probe.h"
#include "util/escape.h"

namespace usercrash::tools::ctl {

namespace {

// Blocks the signals a person or a service manager sends for the few
// milliseconds enable/disable change the kernel settings: they then finish
// (or undo) their work before the signal takes effect.
class SignalShield {
 public:
  SignalShield() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP}) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalShield() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  SignalShield(const SignalShield&) = delete;
  SignalShield& operator=(const SignalShield&) = delete;

 private:
  sigset_t old_;
};

EnablePaths enable_paths(const Context& ctx, const config::Config& config) {
  EnablePaths paths;
  paths.kernel = ctx.kernel;
  paths.state_directory = config.state_directory;
  return paths;
}

// --mode auto: socket when the kernel takes it and the server listens.
std::expected<Mode, Failure> choose_mode(const Context& ctx, const std::string& mode_text, const config::Config& config,
                                         bool listening) {
  std::string release = kernel_release();
  bool kernel_socket_ok = kernel_has_coredump_socket(release);
  if (mode_text == "pipe") return Mode::pipe;
  if (mode_text == "socket") {
    if (!kernel_socket_ok)
      return failed(
          fmt::format("--mode socket: kernel {} does not take '@@' core_pattern sockets (Linux 6.17 and "
                      "later do)",
                      release.empty() ? "?" : release));
    return Mode::socket;
  }
  if (kernel_socket_ok && listening) return Mode::socket;
  ctx.note(kernel_socket_ok
               ? fmt::format("--mode auto: usercrash_s does not listen on {}; using pipe mode", config.kernel_socket)
               : fmt::format("--mode auto: kernel {} has no core_pattern sockets; using pipe mode", release));
  return Mode::pipe;
}

std::expected<std::string, Failure> pattern_for(const Context& ctx, Mode mode, const CommandArgs& args,
                                                const config::Config& config) {
  if (mode == Mode::socket) {
    auto pattern = socket_pattern(config.kernel_socket);
    if (!pattern) return failed("nothing changed: " + pattern.error().message);
    return *pattern;
  }
  auto client = find_client(args.value("client"));
  if (!client) return failed(client.error());
  std::string config_path;
  if (!ctx.config_path.empty()) {
    auto absolute = absolute_path(ctx.config_path);
    if (!absolute) return failed(absolute.error());
    config_path = *absolute;
  }
  auto pattern = pipe_pattern(*client, config_path);
  if (!pattern) return failed("nothing changed: " + pattern.error().message);
  return *pattern;
}

}  // namespace

Outcome run_enable(Context& ctx, const CommandArgs& args) {
  std::string mode_text = args.value("mode").value_or("pipe");
  if (mode_text != "pipe" && mode_text != "socket" && mode_text != "auto")
    return usage(fmt::format("enable: --mode must be pipe, socket or auto, not '{}'", util::escape_text(mode_text)));
  auto sysctl_file = args.value("sysctl-file");
  if (sysctl_file && (*sysctl_file)[0] != '/') return usage("enable: --sysctl-file needs an absolute path");
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());

  // Whether the server listens on the kernel socket: it says so itself.
  auto server = query_server(config->socket);
  bool listening = server && server->kernel_socket_listening;
  auto mode = choose_mode(ctx, mode_text, *config, listening);
  if (!mode) return std::unexpected(mode.error());
  EnableRequest request;
  request.mode = *mode;
  request.kernel_socket = config->kernel_socket;
  request.persist = args.has("persist");
  auto pattern = pattern_for(ctx, *mode, args, *config);
  if (!pattern) return std::unexpected(pattern.error());
  request.pattern = *pattern;

  EnablePaths paths = enable_paths(ctx, *config);
  if (sysctl_file) paths.sysctl_file = *sysctl_file;
  util::Result<EnableOutcome> outcome;
  {
    SignalShield shield;
    outcome = enable(paths, request);
  }
  if (!outcome) return failed(outcome.error());
  for (const auto& n : outcome->notes) ctx.note(n);
  const auto& s = outcome->state;
  ctx.print("usercrash enabled ({} mode)\n", mode_name(*mode));
  ctx.print("  core_pattern:    {}\n", util::escape_text(s.installed_pattern));
  ctx.print("  core_pipe_limit: {}\n", s.installed_pipe_limit);
  ctx.print("  saved:           core_pattern {}, core_pipe_limit {} in {}/{}{}\n", single_quoted(s.saved_pattern),
            s.saved_pipe_limit, config->state_directory, kSavedPatternName,
            outcome->first ? "" : " (kept from the first enable)");
  if (!s.sysctl_file.empty()) ctx.print("  persistent:      {}\n", s.sysctl_file);
  if (*mode == Mode::socket && !listening)
    ctx.note(fmt::format("nothing listens on {} yet: until usercrash_s does, the kernel drops crashes",
                         config->kernel_socket));
  return kExitOk;
}

Outcome run_disable(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  util::Result<DisableOutcome> outcome;
  {
    SignalShield shield;
    outcome = disable(enable_paths(ctx, *config), args.has("force"));
  }
  if (!outcome) return failed(outcome.error());
  for (const auto& n : outcome->notes) ctx.note(n);
  if (!outcome->was_enabled) {
    ctx.print("usercrash is not enabled (nothing saved in {}); nothing changed\n", config->state_directory);
    return kExitOk;
  }
  const auto& s = outcome->state;
  ctx.print("usercrash disabled\n");
  ctx.print("  core_pattern:    restored to {}\n", single_quoted(s.saved_pattern));
  ctx.print("  core_pipe_limit: restored to {}\n", s.saved_pipe_limit);
  if (!s.sysctl_file.empty()) ctx.print("  removed:         {}\n", s.sysctl_file);
  return kExitOk;
}

}  // namespace usercrash::tools::ctl
