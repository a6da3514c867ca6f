// usercrashctl (also installed as crashlogctl, the seed's name): turns
// usercrash on and off in the kernel, says how it stands, and reads the crash
// directory back. Thin: the work is in tools/ and store/.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "collect/options.h"
#include "config/config.h"
#include "engine/core_file_target.h"
#include "engine/report_builder.h"
#include "report/render.h"
#include "store/core_archive.h"
#include "store/crash_directory.h"
#include "store/report_index.h"
#include "store/slot_ring.h"
#include "tools/core_pattern.h"
#include "tools/enabler.h"
#include "tools/service_probe.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace {

using namespace usercrash;
using nlohmann::json;

// Exit statuses: 0 done (status/is-active: active), 1 failed, 2 bad usage,
// 3 not active (as systemctl is-active).
constexpr int kExitFailure = 1;
constexpr int kExitInactive = 3;

std::string g_program = "usercrashctl";

[[noreturn]] void usage_error(const std::string& message) {
  fmt::print(stderr, "{}: {} (see '{} --help')\n", g_program, message, g_program);
  std::exit(util::kExitUsage);
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", g_program, message);
  std::exit(kExitFailure);
}

void note(const std::string& message) { fmt::print(stderr, "{}: note: {}\n", g_program, message); }

void print_help() {
  fmt::print(
      "Usage: {0} [--config FILE] COMMAND [OPTION]...\n"
      "Turns usercrash on and off in the kernel and reads the crash reports back.\n"
      "\n"
      "Commands:\n"
      "  enable [--mode pipe|socket|auto] [--persist] [--client PATH] [--sysctl-file PATH]\n"
      "        point kernel.core_pattern at usercrash_c (pipe) or at the server's kernel\n"
      "        socket (socket, Linux 6.17+; auto: socket when the kernel has it and the\n"
      "        server listens, else pipe), set kernel.core_pipe_limit to 0, and save the\n"
      "        previous values (an enable that follows another keeps the first saved ones).\n"
      "        --persist also writes /etc/sysctl.d/50-usercrash.conf for the next boots\n"
      "  disable [--force]\n"
      "        restore the saved core_pattern and core_pipe_limit byte for byte and remove\n"
      "        what enable installed; --force even when core_pattern was changed since\n"
      "  status\n"
      "        the active core_pattern, whether it is usercrash's and in which mode, the\n"
      "        server, the reports (exit status 0 when usercrash is active, 3 when not)\n"
      "  is-active [--quiet]\n"
      "        'active' or 'inactive' and the status (exit status 0 or 3)\n"
      "  list [--json]\n"
      "        the reports, newest first: slot, time, pid, uid, signal, core kept, exe\n"
      "  info [--json] [--pid] SLOT|PID\n"
      "        a report (text, or its JSON); SLOT is a slot number or name (usercrash_07),\n"
      "        PID the newest report of that process (--pid: the argument is a pid)\n"
      "  gdb [--exe PATH] [--pid] SLOT|PID [-- GDB-ARGUMENT...]\n"
      "        run gdb on the saved core of a report with its executable\n"
      "  analyze [--json] [--exe PATH] [--sysroot DIR] CORE\n"
      "        the report of any core file (plain or zstd-compressed), to stdout\n"
      "  clean [--older-than DURATION]\n"
      "        remove reports older than DURATION (30m, 12h, 7d), or all of them\n"
      "\n"
      "Options:\n"
      "  -c, --config FILE   configuration file (default /etc/usercrash.conf); enable puts\n"
      "                      it in the core_pattern line for usercrash_c\n"
      "  -h, --help          show this help\n"
      "  -V, --version       show the version\n"
      "\n"
      "crashlogctl is the seed's name for this program: crashlogctl enable|disable|is-active.\n"
      "Exit status: 0 done, 1 failed, 2 bad usage, 3 not active (status, is-active).\n",
      g_program);
}

// ---- arguments ------------------------------------------------------------

struct OptionSpec {
  const char* name;  // "--json"
  bool takes_value;
};

struct VerbArgs {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  std::vector<std::string> passthrough;  // after "--"
  bool has(const char* name) const { return options.contains(name); }
  std::optional<std::string> get(const char* name) const {
    auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
  }
};

struct Globals {
  std::string config_path;
};

VerbArgs parse_verb_args(const std::string& verb, std::span<char*> args, std::vector<OptionSpec> specs,
                         size_t min_positional, size_t max_positional, bool passthrough, Globals& globals) {
  specs.push_back({"--config", true});
  VerbArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--") {
      if (!passthrough) usage_error(fmt::format("{}: unexpected '--'", verb));
      for (++i; i < args.size(); ++i) out.passthrough.emplace_back(args[i]);
      break;
    }
    if (arg == "-h" || arg == "--help") {
      print_help();
      std::exit(0);
    }
    if (arg == "-c") arg = "--config";
    if (arg.starts_with("--")) {
      std::string name = arg, value;
      bool inline_value = false;
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        inline_value = true;
      }
      auto spec = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return name == s.name; });
      if (spec == specs.end()) usage_error(fmt::format("{}: unknown option '{}'", verb, util::escape_text(name)));
      if (spec->takes_value && !inline_value) {
        if (i + 1 >= args.size()) usage_error(fmt::format("{}: {} needs a value", verb, name));
        value = args[++i];
      } else if (!spec->takes_value && inline_value) {
        usage_error(fmt::format("{}: {} takes no value", verb, name));
      }
      if (spec->takes_value && value.empty()) usage_error(fmt::format("{}: {} needs a value", verb, name));
      if (name == "--config") globals.config_path = value;
      else out.options[name] = value;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-')
      usage_error(fmt::format("{}: unknown option '{}'", verb, util::escape_text(arg)));
    out.positional.push_back(arg);
  }
  if (out.positional.size() < min_positional || out.positional.size() > max_positional) {
    if (max_positional == 0)
      usage_error(fmt::format("{}: unexpected argument '{}'", verb, util::escape_text(out.positional.front())));
    if (out.positional.size() < min_positional) usage_error(fmt::format("{}: missing argument", verb));
    usage_error(fmt::format("{}: too many arguments", verb));
  }
  return out;
}

config::Config load_config(const Globals& globals) {
  // A bad config is a usage error (exit 2) with its file, line and reason.
  return config::load_or_exit(g_program.c_str(), globals.config_path);
}

// ---- small helpers ----------------------------------------------------------

std::string single_quoted(std::string_view value) { return "'" + util::escape_text(value) + "'"; }

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

std::string absolute_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (!::realpath(path.c_str(), resolved)) fail(fmt::format("{}: {}", util::escape_text(path), std::strerror(errno)));
  return resolved;
}

std::string self_directory() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return {};
  std::string exe(buffer, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// The kernel runs the client as root for every crash: it and every directory
// above it must be root's and writable by nobody else (a sticky directory
// such as /tmp is fine: its root-owned entries cannot be replaced).
util::Result<void> check_trusted(const std::string& path) {
  std::string at = path;
  bool file = true;
  for (;;) {
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) return util::fail_errno(at);
    if (st.st_uid != 0) return util::fail(fmt::format("{} belongs to uid {}, not root", at, st.st_uid));
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir)
      return util::fail(fmt::format("{} is writable by group or others", at));
    if (file && (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)))
      return util::fail(fmt::format("{} is not an executable file", at));
    file = false;
    if (at == "/") return {};
    size_t slash = at.rfind('/');
    at = slash == 0 ? "/" : at.substr(0, slash);
  }
}

std::string find_client(const std::optional<std::string>& given) {
  std::vector<std::string> candidates;
  if (given) {
    candidates.push_back(*given);
  } else {
    // Beside us in a build tree; ../sbin beside ../bin once installed.
    std::string here = self_directory();
    candidates = {here + "/usercrash_c", here + "/../sbin/usercrash_c"};
  }
  for (const auto& c : candidates) {
    char resolved[PATH_MAX];
    if (!::realpath(c.c_str(), resolved)) continue;
    if (auto trusted = check_trusted(resolved); !trusted)
      fail(
          fmt::format("will not let the kernel run {} as root for every crash: {}", resolved, trusted.error().message));
    return resolved;
  }
  if (given) fail(fmt::format("--client {}: {}", util::escape_text(*given), std::strerror(ENOENT)));
  fail(fmt::format("usercrash_c not found (looked for {} and {}); name it with --client PATH", candidates[0],
                   candidates[1]));
}

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

// A private directory (mkdtemp under $TMPDIR or /tmp, mode 0700), removed
// with what it holds when the object goes. Callers must not exit() while one
// lives (exit runs no destructors): they return, then report.
class PrivateTemp {
 public:
  static util::Result<std::unique_ptr<PrivateTemp>> create() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && base[0] == '/' ? base : "/tmp") + "/usercrashctl-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data())) return util::fail_errno("mkdtemp " + pattern);
    std::unique_ptr<PrivateTemp> temp(new PrivateTemp(buffer.data()));
    temp->dir_.reset(::open(temp->path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!temp->dir_) return util::fail_errno("open " + temp->path_);
    return temp;
  }
  ~PrivateTemp() {
    if (dir_)
      for (const auto& name : names_) ::unlinkat(dir_.get(), name.c_str(), 0);
    dir_.reset();
    ::rmdir(path_.c_str());
  }
  PrivateTemp(const PrivateTemp&) = delete;
  PrivateTemp& operator=(const PrivateTemp&) = delete;

  // Creates NAME inside (O_EXCL|O_NOFOLLOW, 0600).
  util::Result<util::UniqueFd> file(const std::string& name) {
    util::UniqueFd fd(::openat(dir_.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return util::fail_errno(fmt::format("create {}/{}", path_, name));
    names_.push_back(name);
    return fd;
  }
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit PrivateTemp(std::string path) : path_(std::move(path)) {}
  std::string path_;
  util::UniqueFd dir_;
  std::vector<std::string> names_;
};

// Decompresses a saved core (zstd) from `in` into TEMP/core; returns its path.
util::Result<std::string> decompress_into(PrivateTemp& temp, int in, const std::string& what) {
  auto out = temp.file("core");
  if (!out) return std::unexpected(out.error());
  auto bytes = store::decompress_core(in, out->get());
  if (!bytes) return util::fail(fmt::format("{}: {}", what, bytes.error().message));
  return temp.path("core");
}

// Copies a file to stdout.
int print_file(int dirfd, const std::string& name) {
  auto fd = util::open_at(dirfd, name.c_str(), O_NOFOLLOW);
  if (!fd) fail(fd.error().message);
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(fmt::format("read {}: {}", name, std::strerror(errno)));
    if (n == 0) break;
    if (auto w = util::write_all(STDOUT_FILENO, std::string_view(buffer, static_cast<size_t>(n))); !w)
      return kExitFailure;
  }
  return 0;
}

// ---- enable / disable / status ---------------------------------------------------

tools::EnablePaths enable_paths(const config::Config& config) {
  tools::EnablePaths paths;
  paths.state_directory = config.state_directory;
  return paths;
}

int cmd_enable(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("enable", args,
                               {{"--mode", true}, {"--persist", false}, {"--client", true}, {"--sysctl-file", true}}, 0,
                               0, false, globals);
  std::string mode_text = a.get("--mode").value_or("pipe");
  if (mode_text != "pipe" && mode_text != "socket" && mode_text != "auto")
    usage_error(fmt::format("enable: --mode must be pipe, socket or auto, not '{}'", util::escape_text(mode_text)));
  config::Config config = load_config(globals);

  std::string release = tools::kernel_release();
  bool kernel_socket_ok = tools::kernel_has_coredump_socket(release);
  bool listening = tools::socket_listening(config.kernel_socket);
  tools::Mode mode = tools::Mode::pipe;
  if (mode_text == "socket") {
    if (!kernel_socket_ok)
      fail(fmt::format("--mode socket: kernel {} does not take '@@' core_pattern sockets (Linux 6.17 and later do)",
                       release.empty() ? "?" : release));
    mode = tools::Mode::socket;
  } else if (mode_text == "auto") {
    if (kernel_socket_ok && listening) {
      mode = tools::Mode::socket;
    } else {
      note(kernel_socket_ok
               ? fmt::format("--mode auto: nothing listens on {}; using pipe mode", config.kernel_socket)
               : fmt::format("--mode auto: kernel {} has no core_pattern sockets; using pipe mode", release));
    }
  }

  tools::EnableRequest request;
  request.mode = mode;
  request.kernel_socket = config.kernel_socket;
  request.persist = a.has("--persist");
  if (mode == tools::Mode::pipe) {
    std::string client = find_client(a.get("--client"));
    std::string config_path = globals.config_path.empty() ? "" : absolute_path(globals.config_path);
    auto pattern = tools::pipe_pattern(client, config_path);
    if (!pattern) fail("nothing changed: " + pattern.error().message);
    request.pattern = *pattern;
  } else {
    auto pattern = tools::socket_pattern(config.kernel_socket);
    if (!pattern) fail("nothing changed: " + pattern.error().message);
    request.pattern = *pattern;
  }

  tools::EnablePaths paths = enable_paths(config);
  if (auto f = a.get("--sysctl-file")) {
    if (f->empty() || (*f)[0] != '/') usage_error("enable: --sysctl-file needs an absolute path");
    paths.sysctl_file = *f;
  }

  util::Result<tools::EnableOutcome> outcome;
  {
    SignalShield shield;
    outcome = tools::enable(paths, request);
  }
  if (!outcome) fail(outcome.error().message);
  for (const auto& n : outcome->notes) note(n);
  const auto& s = outcome->state;
  fmt::print("usercrash enabled ({} mode)\n", tools::mode_name(mode));
  fmt::print("  core_pattern:    {}\n", util::escape_text(s.installed_pattern));
  fmt::print("  core_pipe_limit: {}\n", s.installed_pipe_limit);
  fmt::print("  saved:           core_pattern {}, core_pipe_limit {} in {}/{}{}\n", single_quoted(s.saved_pattern),
             s.saved_pipe_limit, config.state_directory, tools::kSavedPatternName,
             outcome->first ? "" : " (kept from the first enable)");
  if (!s.sysctl_file.empty()) fmt::print("  persistent:      {}\n", s.sysctl_file);
  if (mode == tools::Mode::socket && !listening)
    note(fmt::format("nothing listens on {} yet: until usercrash_s does, the kernel drops crashes",
                     config.kernel_socket));
  return 0;
}

int cmd_disable(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("disable", args, {{"--force", false}}, 0, 0, false, globals);
  config::Config config = load_config(globals);
  util::Result<tools::DisableOutcome> outcome;
  {
    SignalShield shield;
    outcome = tools::disable(enable_paths(config), a.has("--force"));
  }
  if (!outcome) fail(outcome.error().message);
  for (const auto& n : outcome->notes) note(n);
  if (!outcome->was_enabled) {
    fmt::print("usercrash is not enabled (nothing saved in {}); nothing changed\n", config.state_directory);
    return 0;
  }
  const auto& s = outcome->state;
  fmt::print("usercrash disabled\n");
  fmt::print("  core_pattern:    restored to {}\n", single_quoted(s.saved_pattern));
  fmt::print("  core_pipe_limit: restored to {}\n", s.saved_pipe_limit);
  if (!s.sysctl_file.empty()) fmt::print("  removed:         {}\n", s.sysctl_file);
  return 0;
}

// Prints the status; returns whether usercrash is the active handler.
bool print_status(const config::Config& config) {
  auto pattern = tools::read_setting(tools::KernelFiles{}.core_pattern);
  auto limit = tools::read_setting(tools::KernelFiles{}.core_pipe_limit);
  if (!pattern) fail(pattern.error().message);
  tools::PatternInfo info = tools::classify_pattern(*pattern, config.kernel_socket);
  fmt::print("core_pattern:    {}\n", util::escape_text(*pattern));
  switch (info.kind) {
    case tools::PatternKind::usercrash_pipe:
      fmt::print("handler:         usercrash (pipe mode, {})\n", util::escape_text(info.target));
      break;
    case tools::PatternKind::usercrash_socket:
      fmt::print("handler:         usercrash (socket mode, {})\n", util::escape_text(info.target));
      break;
    case tools::PatternKind::other_pipe:
      fmt::print("handler:         another program: {}\n", util::escape_text(info.target));
      break;
    case tools::PatternKind::other_socket:
      fmt::print("handler:         another socket: {}\n", util::escape_text(info.target));
      break;
    case tools::PatternKind::file:
      fmt::print("handler:         none: the kernel writes core files named {}\n", single_quoted(*pattern));
      break;
  }
  fmt::print("core_pipe_limit: {}\n", limit ? *limit : "? (" + limit.error().message + ")");

  auto dir = tools::StateDirectory::open(config.state_directory, false);
  std::optional<tools::EnableState> state;
  if (!dir) {
    fmt::print("enabled:         ? ({})\n", dir.error().message);
  } else if (*dir) {
    auto loaded = tools::load_state(**dir);
    if (!loaded) fmt::print("enabled:         ? ({})\n", loaded.error().message);
    else state = *loaded;
  }
  if (state) {
    fmt::print("enabled:         yes, since {}; disable restores core_pattern {}, core_pipe_limit {}\n",
               report::iso8601_utc(state->enabled_at), single_quoted(state->saved_pattern), state->saved_pipe_limit);
    fmt::print("persistent:      {}\n", state->sysctl_file.empty() ? "no" : state->sysctl_file);
    const std::string& saved = state->saved_pattern;
    if (saved.starts_with('|'))
      fmt::print("passed on:       every core, to the previous handler {}\n", util::escape_text(saved.substr(1)));
    else if (!saved.empty() && !saved.starts_with('@'))
      fmt::print("passed on:       core files named {}, written as the kernel would (ulimit -c permitting)\n",
                 single_quoted(saved));
    if (*pattern != state->installed_pattern)
      fmt::print("warning:         core_pattern is no longer the line enable installed ({})\n",
                 util::escape_text(state->installed_pattern));
  } else if (dir) {
    fmt::print("enabled:         no\n");
  }

  auto answers = tools::server_answers(config.socket);
  if (answers) fmt::print("server:          running (answers on {})\n", config.socket);
  else fmt::print("server:          not running ({}); usercrash_c writes reports itself\n", answers.error().message);
  if (info.kind == tools::PatternKind::usercrash_socket) {
    if (tools::socket_listening(config.kernel_socket))
      fmt::print("kernel socket:   listening on {}\n", config.kernel_socket);
    else fmt::print("kernel socket:   nothing listens on {}: the kernel drops crashes\n", config.kernel_socket);
  }

  auto reports = store::open_report_directory(config.directory);
  if (!reports && reports.error().errno_value == ENOENT) {
    fmt::print("reports:         0 ({} does not exist yet)\n", config.directory);
  } else if (!reports) {
    fmt::print("reports:         ? ({})\n", reports.error().message);
  } else {
    auto usage = store::directory_usage(reports->get());
    fmt::print("reports:         {} in {} ({} slots), {} on disk\n", usage.reports, config.directory, config.count,
               human_bytes(usage.bytes));
  }
  return info.ours();
}

int cmd_status(std::span<char*> args, Globals& globals) {
  parse_verb_args("status", args, {}, 0, 0, false, globals);
  config::Config config = load_config(globals);
  return print_status(config) ? 0 : kExitInactive;
}

int cmd_is_active(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("is-active", args, {{"--quiet", false}}, 0, 0, false, globals);
  config::Config config = load_config(globals);
  if (a.has("--quiet")) {
    auto pattern = tools::read_setting(tools::KernelFiles{}.core_pattern);
    if (!pattern) fail(pattern.error().message);
    return tools::classify_pattern(*pattern, config.kernel_socket).ours() ? 0 : kExitInactive;
  }
  auto pattern = tools::read_setting(tools::KernelFiles{}.core_pattern);
  if (!pattern) fail(pattern.error().message);
  bool active = tools::classify_pattern(*pattern, config.kernel_socket).ours();
  fmt::print("{}\n", active ? "active" : "inactive");
  print_status(config);
  return active ? 0 : kExitInactive;
}

// ---- inspection -------------------------------------------------------------------

struct OpenedReports {
  util::UniqueFd dir;
  std::vector<store::ReportSummary> reports;
};

OpenedReports open_reports(const config::Config& config) {
  auto dir = store::open_report_directory(config.directory);
  if (!dir) fail(dir.error().message);
  OpenedReports out;
  out.reports = store::list_reports(dir->get());
  out.dir = std::move(*dir);
  return out;
}

// SLOT|PID must look like one before anything is read: a bad one is a usage error.
void check_selector(const std::string& verb, const std::string& arg, bool force_pid) {
  bool number = util::parse_int<uint64_t>(arg).has_value();
  if (number || (!force_pid && store::slot_index(arg, store::kMaxSlots))) return;
  usage_error(fmt::format("{}: '{}' is neither a slot (7, usercrash_07) nor a pid", verb, util::escape_text(arg)));
}

// SLOT (a number, or a name such as usercrash_07) or PID to one report.
store::ReportSummary resolve(const OpenedReports& opened, const std::string& arg, bool force_pid) {
  auto by_slot = [&](unsigned index) -> std::optional<store::ReportSummary> {
    for (const auto& r : opened.reports)
      if (r.slot == index) return r;
    return std::nullopt;
  };
  if (!force_pid) {
    if (auto index = store::slot_index(arg, store::kMaxSlots)) {
      if (auto r = by_slot(*index)) return *r;
      fail(fmt::format("no report in slot {}", arg));
    }
  }
  auto number = util::parse_int<int64_t>(arg);
  if (!number || *number < 0) usage_error(fmt::format("'{}' is neither a slot nor a pid", util::escape_text(arg)));
  auto with_pid = store::newest_with_pid(opened.reports, *number);
  if (force_pid) {
    if (!with_pid) fail(fmt::format("no report of pid {}", *number));
    return *with_pid;
  }
  auto slot = *number < static_cast<int64_t>(store::kMaxSlots) ? by_slot(static_cast<unsigned>(*number)) : std::nullopt;
  if (slot && with_pid && slot->slot != with_pid->slot)
    fail(fmt::format("{} is both slot {} and the pid of the report in {}; say {} or --pid {}", *number, slot->name,
                     with_pid->name, slot->name, *number));
  if (slot) return *slot;
  if (with_pid) return *with_pid;
  fail(fmt::format("no report in slot {} and none of pid {}", *number, *number));
}

std::string display_time(const store::ReportSummary& r) {
  if (r.time) return util::escape_text(*r.time);
  return report::iso8601_utc(r.mtime.tv_sec);
}

json summary_json(const store::ReportSummary& r, const std::string& directory) {
  auto opt = [](const auto& v) -> json { return v ? json(*v) : json(nullptr); };
  json j = {
      {"slot", r.name},
      {"index", r.slot},
      {"path", directory + "/" + r.name},
      {"time", r.time ? json(util::to_valid_utf8(*r.time)) : json(report::iso8601_utc(r.mtime.tv_sec))},
      {"pid", opt(r.pid)},
      {"uid", opt(r.uid)},
      {"signal", r.signal ? json{{"number", *r.signal}, {"name", opt(r.signal_name)}} : json(nullptr)},
      {"comm", r.comm ? json(util::to_valid_utf8(*r.comm)) : json(nullptr)},
      {"exe", r.exe ? json(util::to_valid_utf8(*r.exe)) : json(nullptr)},
      {"core", r.has_core},
      {"json", r.has_json},
      {"problem", opt(r.problem)},
      {"disk_bytes", r.disk_bytes},
  };
  return j;
}

int cmd_list(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("list", args, {{"--json", false}}, 0, 0, false, globals);
  config::Config config = load_config(globals);
  auto dir = store::open_report_directory(config.directory);
  if (!dir && dir.error().errno_value == ENOENT) {
    if (a.has("--json")) fmt::print("[]\n");
    else fmt::print("No reports ({} does not exist).\n", config.directory);
    return 0;
  }
  OpenedReports opened = open_reports(config);
  if (a.has("--json")) {
    json out = json::array();
    for (const auto& r : opened.reports) out.push_back(summary_json(r, config.directory));
    fmt::print("{}\n", out.dump(1));
    return 0;
  }
  if (opened.reports.empty()) {
    fmt::print("No reports in {}.\n", config.directory);
    return 0;
  }
  auto opt = [](const auto& v) { return v ? fmt::format("{}", *v) : std::string("?"); };
  fmt::print("{:<14}{:<22}{:>8} {:>6}  {:<9} {:<5} {}\n", "SLOT", "TIME", "PID", "UID", "SIGNAL", "CORE", "EXE");
  for (const auto& r : opened.reports) {
    std::string signal = r.signal_name ? util::escape_text(*r.signal_name) : opt(r.signal);
    std::string exe = r.exe ? util::escape_text(*r.exe) : r.comm ? util::escape_text(*r.comm) : "?";
    if (r.problem) exe += " (" + *r.problem + ")";
    fmt::print("{:<14}{:<22}{:>8} {:>6}  {:<9} {:<5} {}\n", r.name, display_time(r), opt(r.pid), opt(r.uid), signal,
               r.has_core ? "yes" : "-", exe);
  }
  return 0;
}

int cmd_info(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("info", args, {{"--json", false}, {"--pid", false}}, 1, 1, false, globals);
  check_selector("info", a.positional[0], a.has("--pid"));
  config::Config config = load_config(globals);
  OpenedReports opened = open_reports(config);
  store::ReportSummary r = resolve(opened, a.positional[0], a.has("--pid"));
  if (a.has("--json")) {
    if (!r.has_json)
      fail(fmt::format("{} has no JSON report (see '{} info {}' for its text)", r.name, g_program, r.name));
    return print_file(opened.dir.get(), r.name + store::slot_suffix(store::SlotFile::json));
  }
  return print_file(opened.dir.get(), r.name);
}

int run_gdb(const std::vector<std::string>& argv) {
  // gdb owns the terminal while it runs: ^C and ^\ are for it, and we must
  // live on to remove the core we wrote.
  struct sigaction ignore {
  }, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  pid_t child = ::fork();
  if (child < 0) {
    fmt::print(stderr, "{}: fork: {}\n", g_program, std::strerror(errno));
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    return kExitFailure;
  }
  if (child == 0) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    std::vector<char*> raw;
    for (const auto& s : argv) raw.push_back(const_cast<char*>(s.c_str()));
    raw.push_back(nullptr);
    ::execvp(raw[0], raw.data());
    fmt::print(stderr, "{}: cannot run {}: {}\n", g_program, argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

int cmd_gdb(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("gdb", args, {{"--exe", true}, {"--pid", false}}, 1, 1, true, globals);
  check_selector("gdb", a.positional[0], a.has("--pid"));
  config::Config config = load_config(globals);
  OpenedReports opened = open_reports(config);
  store::ReportSummary r = resolve(opened, a.positional[0], a.has("--pid"));
  if (!r.has_core)
    fail(fmt::format(
        "{} has no saved core: the crash was collected with save_core=no. Set save_core=yes in {} to keep "
        "the cores of future crashes; the report itself is in {}/{}",
        r.name, globals.config_path.empty() ? config::kDefaultPath : globals.config_path, config.directory, r.name));
  std::optional<std::string> exe = a.get("--exe");
  if (!exe) exe = r.exe;
  if (!exe) fail(fmt::format("{}: the report does not name the executable; give it with --exe PATH", r.name));
  struct stat st {};
  bool have_exe = ::stat(exe->c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (!have_exe) note(fmt::format("{} is gone; gdb gets the core alone", util::escape_text(*exe)));

  std::string core_name = r.name + store::slot_suffix(store::SlotFile::core);
  auto in = util::open_at(opened.dir.get(), core_name.c_str(), O_NOFOLLOW);
  if (!in) fail(in.error().message);
  auto temp = PrivateTemp::create();
  if (!temp) fail(temp.error().message);
  auto core = decompress_into(**temp, in->get(), core_name);
  if (!core) {
    temp->reset();
    fail(core.error().message);
  }
  std::vector<std::string> argv = {"gdb"};
  argv.insert(argv.end(), a.passthrough.begin(), a.passthrough.end());
  if (have_exe) argv.push_back(*exe);
  argv.push_back("--core=" + *core);
  return run_gdb(argv);  // the temp directory goes when we return
}

// The report of a core file; a zstd-compressed one (a saved usercrash_NN.core.zst)
// goes through a private decompressed copy.
util::Result<std::string> analyze(const std::string& path, const engine::CoreFileOptions& options,
                                  const config::Config& config, bool as_json) {
  auto fd = util::open_at(AT_FDCWD, path.c_str());
  if (!fd) return std::unexpected(fd.error());
  unsigned char magic[4] = {};
  bool zstd = ::pread(fd->get(), magic, sizeof magic, 0) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 &&
              magic[2] == 0x2f && magic[3] == 0xfd;
  std::unique_ptr<PrivateTemp> temp;
  std::string core = path;
  if (zstd) {
    auto made = PrivateTemp::create();
    if (!made) return std::unexpected(made.error());
    temp = std::move(*made);
    auto decompressed = decompress_into(*temp, fd->get(), util::escape_text(path));
    if (!decompressed) return std::unexpected(decompressed.error());
    core = *decompressed;
  }
  auto target = engine::CoreFileTarget::open(core, options);
  if (!target)
    return util::fail(zstd ? util::escape_text(path) + " (decompressed): " + target.error().message
                           : target.error().message);
  engine::CollectOptions collect = collect::collect_options(config);
  // Whoever holds the core holds its memory already.
  collect.dump_secure_memory = true;
  engine::Report rep = engine::build_report(**target, collect);
  report::RenderOptions render = collect::render_options(config);
  std::string text = as_json ? report::render_json(rep, render) : report::render_text(rep, render);
  if (!text.ends_with('\n')) text += '\n';
  return text;
}

int cmd_analyze(std::span<char*> args, Globals& globals) {
  VerbArgs a =
      parse_verb_args("analyze", args, {{"--json", false}, {"--exe", true}, {"--sysroot", true}}, 1, 1, false, globals);
  config::Config config = load_config(globals);
  std::string path = a.positional[0];
  engine::CoreFileOptions options;
  options.executable = a.get("--exe");
  options.sysroot = a.get("--sysroot").value_or("");

  auto text = analyze(path, options, config, a.has("--json"));
  if (!text) fail(text.error().message);
  return util::write_all(STDOUT_FILENO, *text) ? 0 : kExitFailure;
}

int cmd_clean(std::span<char*> args, Globals& globals) {
  VerbArgs a = parse_verb_args("clean", args, {{"--older-than", true}}, 0, 0, false, globals);
  std::optional<std::chrono::milliseconds> older_than;
  if (auto d = a.get("--older-than")) {
    older_than = util::parse_duration(*d);
    if (!older_than)
      usage_error(
          fmt::format("clean: --older-than '{}' is not a duration (examples: 30m, 12h, 7d)", util::escape_text(*d)));
  }
  config::Config config = load_config(globals);
  store::OpenOptions open_options;
  open_options.create = false;
  auto dir = store::CrashDirectory::open(config.directory, config.count, open_options);
  if (!dir) {
    struct stat st {};
    if (::lstat(config.directory.c_str(), &st) != 0 && errno == ENOENT) {
      fmt::print("No reports ({} does not exist); nothing to clean.\n", config.directory);
      return 0;
    }
    fail(dir.error().message);
  }
  // The server and clients publish under this lock: no slot is emptied while being filled.
  auto lock = dir->lock();
  if (!lock) fail(fmt::format("{}: {}", config.directory, lock.error().message));
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  auto result = store::clean_reports(dir->fd(), older_than, now);
  if (!result) fail(result.error().message);
  fmt::print("Removed {} report{} ({} files, {}) from {}.\n", result->reports, result->reports == 1 ? "" : "s",
             result->removed.size(), human_bytes(result->bytes), config.directory);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string invoked = argc > 0 ? argv[0] : "usercrashctl";
  std::string base = invoked.substr(invoked.rfind('/') + 1);
  if (base == "crashlogctl") g_program = base;

  Globals globals;
  int i = 1;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      print_help();
      return 0;
    }
    if (arg == "-V" || arg == "--version") {
      fmt::print("{} {}\n", g_program, util::version());
      return 0;
    }
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argc || argv[i + 1][0] == '\0') usage_error(arg + " needs a value");
      globals.config_path = argv[++i];
      continue;
    }
    if (arg.starts_with("--config=")) {
      globals.config_path = arg.substr(9);
      if (globals.config_path.empty()) usage_error("--config needs a value");
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') usage_error(fmt::format("unknown option '{}'", util::escape_text(arg)));
    break;
  }
  if (i >= argc) usage_error("missing command (enable, disable, status, is-active, list, info, gdb, analyze, clean)");
  std::string verb = argv[i];
  std::span<char*> rest(argv + i + 1, static_cast<size_t>(argc - i - 1));

  if (verb == "enable") return cmd_enable(rest, globals);
  if (verb == "disable") return cmd_disable(rest, globals);
  if (verb == "status") return cmd_status(rest, globals);
  if (verb == "is-active") return cmd_is_active(rest, globals);
  if (verb == "list") return cmd_list(rest, globals);
  if (verb == "info") return cmd_info(rest, globals);
  if (verb == "gdb") return cmd_gdb(rest, globals);
  if (verb == "analyze") return cmd_analyze(rest, globals);
  if (verb == "clean") return cmd_clean(rest, globals);
  if (verb == "help") {
    print_help();
    return 0;
  }
  usage_error(fmt::format("unknown command '{}'", util::escape_text(verb)));
}
