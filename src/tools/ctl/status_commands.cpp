#include "tools/ctl/status_commands.h"

#include <nlohmann/json.hpp>

#include "report/render.h"
#include "store/report_index.h"
#include "tools/core_pattern.h"
#include "tools/ctl/text.h"
#include "tools/ctl/time_display.h"
#include "tools/enable_state.h"
#include "tools/enabler.h"
#include "tools/service_probe.h"
#include "util/escape.h"

namespace usercrash::tools::ctl {

namespace {

using nlohmann::json;

// Everything status says, gathered once; text and JSON are two views of it.
struct StatusFacts {
  std::string pattern;
  PatternInfo handler;
  util::Result<std::string> pipe_limit;
  util::Result<std::optional<EnableState>> enabled;  // nullopt: not enabled
  util::Result<ServerStatus> server;
  util::Result<store::DirectoryUsage> reports;
};

util::Result<std::optional<EnableState>> enable_state(const config::Config& config) {
  auto dir = StateDirectory::open(config.state_directory, false);
  if (!dir) return std::unexpected(dir.error());
  if (!*dir) return std::nullopt;
  return load_state(**dir);
}

util::Result<store::DirectoryUsage> report_usage(const config::Config& config) {
  auto dir = store::open_report_directory(config.directory);
  if (!dir && dir.error().errno_value == ENOENT) return store::DirectoryUsage{};
  if (!dir) return std::unexpected(dir.error());
  return store::directory_usage(dir->get());
}

std::expected<StatusFacts, Failure> gather(const KernelFiles& kernel, const config::Config& config) {
  auto pattern = read_setting(kernel.core_pattern);
  if (!pattern) return failed(pattern.error());
  return StatusFacts{*pattern,
                     classify_pattern(*pattern, config.kernel_socket),
                     read_setting(kernel.core_pipe_limit),
                     enable_state(config),
                     query_server(config.socket),
                     report_usage(config)};
}

std::string handler_text(const StatusFacts& f) {
  std::string target = util::escape_text(f.handler.target);
  switch (f.handler.kind) {
    case PatternKind::usercrash_pipe: return "usercrash (pipe mode, " + target + ")";
    case PatternKind::usercrash_socket: return "usercrash (socket mode, " + target + ")";
    case PatternKind::other_pipe: return "another program: " + target;
    case PatternKind::other_socket: return "another socket: " + target;
    case PatternKind::file: return "none: the kernel writes core files named " + single_quoted(f.pattern);
  }
  return "?";
}

const char* handler_kind(PatternKind kind) {
  switch (kind) {
    case PatternKind::usercrash_pipe: return "usercrash_pipe";
    case PatternKind::usercrash_socket: return "usercrash_socket";
    case PatternKind::other_pipe: return "other_pipe";
    case PatternKind::other_socket: return "other_socket";
    case PatternKind::file: return "file";
  }
  return "?";
}

std::string uptime(uint64_t seconds) {
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (seconds < 7200) return fmt::format("{}min", seconds / 60);
  if (seconds < 172800) return fmt::format("{}h", seconds / 3600);
  return fmt::format("{}d", seconds / 86400);
}

void print_enabled(const Context& ctx, const StatusFacts& f) {
  if (!f.enabled) return ctx.print("enabled:         ? ({})\n", f.enabled.error().message);
  if (!*f.enabled) return ctx.print("enabled:         no\n");
  const EnableState& state = **f.enabled;
  ctx.print("enabled:         yes, since {}; disable restores core_pattern {}, core_pipe_limit {}\n",
            show_time(state.enabled_at, ctx.utc), single_quoted(state.saved_pattern), state.saved_pipe_limit);
  ctx.print("persistent:      {}\n", state.sysctl_file.empty() ? "no" : state.sysctl_file);
  const std::string& saved = state.saved_pattern;
  if (saved.starts_with('|'))
    ctx.print("passed on:       every core, to the previous handler {}\n", util::escape_text(saved.substr(1)));
  else if (!saved.empty() && !saved.starts_with('@'))
    ctx.print("passed on:       core files named {}, written as the kernel would (ulimit -c permitting)\n",
              single_quoted(saved));
  if (f.pattern != state.installed_pattern)
    ctx.print("warning:         core_pattern is no longer the line enable installed ({})\n",
              util::escape_text(state.installed_pattern));
}

void print_server(const Context& ctx, const config::Config& config, const StatusFacts& f) {
  bool socket_mode = f.handler.kind == PatternKind::usercrash_socket;
  if (!f.server) {
    ctx.print("server:          not running ({}); usercrash_c writes reports itself\n", f.server.error().message);
    if (socket_mode)
      ctx.print("kernel socket:   nothing listens on {}: the kernel drops crashes\n", config.kernel_socket);
    return;
  }
  if (!f.server->answered)
    return ctx.print("server:          running (answers on {}, but not to status requests)\n", config.socket);
  ctx.print("server:          running, pid {} (answers on {})\n", f.server->pid, config.socket);
  if (const auto& d = f.server->details) {
    ctx.print("dumps:           {} running, {} queued (max_concurrent {}), up {}\n", d->active, d->queued,
              d->max_concurrent, uptime(d->uptime_seconds));
    ctx.print("since start:     {} accepted, {} completed, {} partial, {} lost, {} dropped, {} refused\n", d->accepted,
              d->completed, d->partial, d->lost, d->dropped, d->refused);
  }
  if (f.server->kernel_socket_listening) ctx.print("kernel socket:   listening on {}\n", config.kernel_socket);
  else if (socket_mode)
    ctx.print("kernel socket:   the server does not listen on {}: the kernel drops crashes\n", config.kernel_socket);
}

void print_text(const Context& ctx, const config::Config& config, const StatusFacts& f) {
  ctx.print("core_pattern:    {}\n", util::escape_text(f.pattern));
  ctx.print("handler:         {}\n", handler_text(f));
  ctx.print("core_pipe_limit: {}\n", f.pipe_limit ? *f.pipe_limit : "? (" + f.pipe_limit.error().message + ")");
  print_enabled(ctx, f);
  print_server(ctx, config, f);
  if (!f.reports) ctx.print("reports:         ? ({})\n", f.reports.error().message);
  else
    ctx.print("reports:         {} in {} ({} slots), {} on disk\n", f.reports->reports, config.directory, config.count,
              human_bytes(f.reports->bytes));
}

json server_json(const config::Config& config, const StatusFacts& f) {
  json server = {{"socket", config.socket}, {"running", f.server.has_value()}};
  if (!f.server) {
    server["error"] = f.server.error().message;
    return server;
  }
  server["answered"] = f.server->answered;
  server["pid"] = f.server->answered ? json(f.server->pid) : json(nullptr);
  server["kernel_socket_listening"] = f.server->kernel_socket_listening;
  if (const auto& d = f.server->details)
    server["details"] = {{"active", d->active},
                         {"queued", d->queued},
                         {"max_concurrent", d->max_concurrent},
                         {"slots", d->count},
                         {"uptime_seconds", d->uptime_seconds},
                         {"accepted", d->accepted},
                         {"completed", d->completed},
                         {"partial", d->partial},
                         {"lost", d->lost},
                         {"dropped", d->dropped},
                         {"refused", d->refused},
                         {"kernel_connections", d->kernel_connections}};
  else server["details"] = nullptr;
  return server;
}

// The JSON of status: a stable shape for scripts. Errors are strings where
// a value could not be read; absent facts are null.
json status_json(const config::Config& config, const StatusFacts& f) {
  auto or_error = [](const auto& result, auto&& value) -> json {
    return result ? json(value()) : json({{"error", result.error().message}});
  };
  json enabled = nullptr;
  if (!f.enabled) enabled = {{"error", f.enabled.error().message}};
  else if (*f.enabled)
    enabled = {{"mode", mode_name((*f.enabled)->mode)},
               {"since", report::iso8601_utc((*f.enabled)->enabled_at)},
               {"saved_core_pattern", util::to_valid_utf8((*f.enabled)->saved_pattern)},
               {"saved_core_pipe_limit", (*f.enabled)->saved_pipe_limit},
               {"installed_core_pattern", util::to_valid_utf8((*f.enabled)->installed_pattern)},
               {"sysctl_file", (*f.enabled)->sysctl_file.empty() ? json(nullptr) : json((*f.enabled)->sysctl_file)}};
  return {
      {"active", f.handler.ours()},
      {"core_pattern", util::to_valid_utf8(f.pattern)},
      {"handler", {{"kind", handler_kind(f.handler.kind)}, {"target", util::to_valid_utf8(f.handler.target)}}},
      {"core_pipe_limit", or_error(f.pipe_limit, [&] { return *f.pipe_limit; })},
      {"enabled", enabled},
      {"server", server_json(config, f)},
      {"reports", or_error(f.reports,
                           [&] {
                             return json{{"directory", config.directory},
                                         {"count", f.reports->reports},
                                         {"slots", config.count},
                                         {"bytes", f.reports->bytes}};
                           })},
  };
}

}  // namespace

Outcome run_status(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  auto facts = gather(ctx.kernel, *config);
  if (!facts) return std::unexpected(facts.error());
  if (args.has("json")) ctx.print("{}\n", status_json(*config, *facts).dump(1));
  else print_text(ctx, *config, *facts);
  return facts->handler.ours() ? kExitOk : kExitInactive;
}

// As systemctl is-active: one word, and the exit status.
Outcome run_is_active(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  auto pattern = read_setting(ctx.kernel.core_pattern);
  if (!pattern) return failed(pattern.error());
  bool active = classify_pattern(*pattern, config->kernel_socket).ours();
  if (!args.has("quiet")) ctx.print("{}\n", active ? "active" : "inactive");
  return active ? kExitOk : kExitInactive;
}

}  // namespace usercrash::tools::ctl
