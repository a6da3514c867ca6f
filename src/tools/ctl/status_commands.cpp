#include "tools/ctl/status_commands.h"

#include "report/render.h"
#include "store/report_index.h"
#include "tools/core_pattern.h"
#include "tools/ctl/text.h"
#include "tools/enable_state.h"
#include "tools/enabler.h"
#include "tools/service_probe.h"
#include "util/escape.h"

namespace usercrash::tools::ctl {

namespace {

void print_handler(const Context& ctx, const std::string& pattern, const PatternInfo& info) {
  ctx.print("core_pattern:    {}\n", util::escape_text(pattern));
  switch (info.kind) {
    case PatternKind::usercrash_pipe:
      ctx.print("handler:         usercrash (pipe mode, {})\n", util::escape_text(info.target));
      break;
    case PatternKind::usercrash_socket:
      ctx.print("handler:         usercrash (socket mode, {})\n", util::escape_text(info.target));
      break;
    case PatternKind::other_pipe:
      ctx.print("handler:         another program: {}\n", util::escape_text(info.target));
      break;
    case PatternKind::other_socket:
      ctx.print("handler:         another socket: {}\n", util::escape_text(info.target));
      break;
    case PatternKind::file:
      ctx.print("handler:         none: the kernel writes core files named {}\n", single_quoted(pattern));
      break;
  }
}

void print_enable_state(const Context& ctx, const config::Config& config, const std::string& pattern) {
  auto dir = StateDirectory::open(config.state_directory, false);
  std::optional<EnableState> state;
  if (!dir) {
    ctx.print("enabled:         ? ({})\n", dir.error().message);
  } else if (*dir) {
    auto loaded = load_state(**dir);
    if (!loaded) ctx.print("enabled:         ? ({})\n", loaded.error().message);
    else state = *loaded;
  }
  if (!state) {
    if (dir) ctx.print("enabled:         no\n");
    return;
  }
  ctx.print("enabled:         yes, since {}; disable restores core_pattern {}, core_pipe_limit {}\n",
            report::iso8601_utc(state->enabled_at), single_quoted(state->saved_pattern), state->saved_pipe_limit);
  ctx.print("persistent:      {}\n", state->sysctl_file.empty() ? "no" : state->sysctl_file);
  const std::string& saved = state->saved_pattern;
  if (saved.starts_with('|'))
    ctx.print("passed on:       every core, to the previous handler {}\n", util::escape_text(saved.substr(1)));
  else if (!saved.empty() && !saved.starts_with('@'))
    ctx.print("passed on:       core files named {}, written as the kernel would (ulimit -c permitting)\n",
              single_quoted(saved));
  if (pattern != state->installed_pattern)
    ctx.print("warning:         core_pattern is no longer the line enable installed ({})\n",
              util::escape_text(state->installed_pattern));
}

void print_server(const Context& ctx, const config::Config& config, const PatternInfo& info) {
  auto answers = server_answers(config.socket);
  if (answers) ctx.print("server:          running (answers on {})\n", config.socket);
  else ctx.print("server:          not running ({}); usercrash_c writes reports itself\n", answers.error().message);
  if (info.kind == PatternKind::usercrash_socket) {
    if (socket_listening(config.kernel_socket)) ctx.print("kernel socket:   listening on {}\n", config.kernel_socket);
    else ctx.print("kernel socket:   nothing listens on {}: the kernel drops crashes\n", config.kernel_socket);
  }
}

void print_reports(const Context& ctx, const config::Config& config) {
  auto reports = store::open_report_directory(config.directory);
  if (!reports && reports.error().errno_value == ENOENT) {
    ctx.print("reports:         0 ({} does not exist yet)\n", config.directory);
  } else if (!reports) {
    ctx.print("reports:         ? ({})\n", reports.error().message);
  } else {
    auto usage = store::directory_usage(reports->get());
    ctx.print("reports:         {} in {} ({} slots), {} on disk\n", usage.reports, config.directory, config.count,
              human_bytes(usage.bytes));
  }
}

// Prints the status; returns whether usercrash is the active handler.
std::expected<bool, Failure> print_status(const Context& ctx, const config::Config& config) {
  auto pattern = read_setting(KernelFiles{}.core_pattern);
  if (!pattern) return failed(pattern.error());
  auto limit = read_setting(KernelFiles{}.core_pipe_limit);
  PatternInfo info = classify_pattern(*pattern, config.kernel_socket);
  print_handler(ctx, *pattern, info);
  ctx.print("core_pipe_limit: {}\n", limit ? *limit : "? (" + limit.error().message + ")");
  print_enable_state(ctx, config, *pattern);
  print_server(ctx, config, info);
  print_reports(ctx, config);
  return info.ours();
}

}  // namespace

Outcome run_status(Context& ctx, const CommandArgs&) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  auto active = print_status(ctx, *config);
  if (!active) return std::unexpected(active.error());
  return *active ? kExitOk : kExitInactive;
}

Outcome run_is_active(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  auto pattern = read_setting(KernelFiles{}.core_pattern);
  if (!pattern) return failed(pattern.error());
  bool active = classify_pattern(*pattern, config->kernel_socket).ours();
  if (!args.has("quiet")) {
    ctx.print("{}\n", active ? "active" : "inactive");
    if (auto shown = print_status(ctx, *config); !shown) return std::unexpected(shown.error());
  }
  return active ? kExitOk : kExitInactive;
}

}  // namespace usercrash::tools::ctl
