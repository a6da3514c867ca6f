#include "client/client_context.h"

#include <csignal>
#include <cstdio>
#include <span>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "util/cli.h"
#include "util/parse.h"

namespace usercrash::client {

using util::Result;

namespace {

template <typename T>
Result<T> number(const std::string& flag, const char* value) {
  auto n = util::parse_int<T>(value ? value : "");
  if (!n) return util::fail(fmt::format("{}: '{}' is not a number", flag, value ? value : ""));
  return *n;
}

// Fields of -k, in order.
Result<void> parse_kernel_spec(const std::string& spec, ClientContext& ctx) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    size_t colon = spec.find(':', start);
    fields.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (fields.size() > 7) return util::fail("-k: more than 7 fields (pidfd:tid:uid:gid:time:dumpable:core-limit)");
  auto field = [&](size_t i, const char* name, auto& out) -> Result<void> {
    if (i >= fields.size() || fields[i].empty()) return {};
    using T = std::remove_reference_t<decltype(out)>;
    using V = std::conditional_t<std::is_same_v<T, int> || std::is_same_v<T, pid_t>, T, typename T::value_type>;
    auto n = util::parse_int<V>(fields[i]);
    if (!n) return util::fail(fmt::format("-k: {} '{}' is not a number", name, fields[i]));
    out = *n;
    return {};
  };
  std::optional<int> pidfd;
  std::optional<pid_t> tid;
  for (auto r :
       {field(0, "pidfd", pidfd), field(1, "tid", tid), field(2, "uid", ctx.uid), field(3, "gid", ctx.gid),
        field(4, "time", ctx.time), field(5, "dumpable", ctx.dumpable), field(6, "core limit", ctx.core_limit)})
    if (!r) return r;
  if (pidfd) {
    if (*pidfd < 0) return util::fail("-k: negative pidfd");
    ctx.pidfd = *pidfd;
  }
  if (tid) ctx.tid = *tid;
  return {};
}

}  // namespace

void print_client_help(const char* program) {
  fmt::print(
      "Usage: {} [OPTION]... PID COMM SIGNAL\n"
      "Crash report client, run by the kernel from /proc/sys/kernel/core_pattern with the\n"
      "core on standard input, e.g.\n"
      "  |/usr/sbin/usercrash_c -k%F:%I:%u:%g:%t:%d:%c %P %e %s\n"
      "It reads the core's notes, collects the report from /proc/PID while the kernel\n"
      "waits, and writes it through usercrash_s (or on its own when the server is down).\n"
      "\n"
      "  -c, --config FILE    configuration file (default /etc/usercrash.conf)\n"
      "  -k PIDFD:TID:UID:GID:TIME:DUMPABLE:CORELIMIT\n"
      "                       the kernel's %F:%I:%u:%g:%t:%d:%c in one argument (core_pattern\n"
      "                       holds at most 127 bytes); empty fields are allowed\n"
      "      --pidfd FD       pidfd of the crashed process (%F)\n"
      "      --tid TID        crashing thread (%I)\n"
      "      --uid UID        real uid of the crashed process (%u)\n"
      "      --gid GID        real gid of the crashed process (%g)\n"
      "      --time SECONDS   time of the crash (%t)\n"
      "      --dumpable N     the kernel's dumpable flag (%d)\n"
      "      --core-limit N   RLIMIT_CORE of the crashed process (%c)\n"
      "      --core-fd FD     read the core from FD instead of standard input\n"
      "      --source NAME    how the crash arrived (core_pattern, kernel_socket)\n"
      "      --kernel-connection FD\n"
      "                       the kernel's coredump socket connection (set by usercrash_s)\n"
      "      --warm-collector FD\n"
      "                       run as usercrash_s's warm collector on this socket (set by usercrash_s)\n"
      "  -o, --set KEY=VALUE  set one configuration key\n"
      "  -v, --verbose        log debug messages\n"
      "  -h, --help           show this help\n"
      "  -V, --version        show the version\n"
      "\n"
      "Run by hand it needs the same arguments and a core on standard input.\n",
      program);
}

namespace {

// usercrash_c's options. The options come first: the first operand (PID)
// ends them, so a COMM that begins with '-' is never taken for an option.
const util::OptionSpec kClientOptions[] = {
    {"config", 'c', true},
    {"kernel", 'k', true},
    {"pidfd", 0, true},
    {"tid", 0, true},
    {"uid", 0, true},
    {"gid", 0, true},
    {"time", 0, true},
    {"dumpable", 0, true},
    {"core-limit", 0, true},
    {"core-fd", 0, true},
    {"source", 0, true},
    {"kernel-connection", 0, true},
    {"set", 'o', true},
    {"verbose", 'v', false},
    {"help", 'h', false},
    {"version", 'V', false},
    {"warm-collector", 0, true},
};

// The number type behind a field: T, or the T of an optional<T>.
template <typename T>
struct Value {
  using type = T;
};
template <typename T>
struct Value<std::optional<T>> {
  using type = T;
};

// Applies one parsed option to the context.
Result<void> apply_option(const util::ParsedOption& option, ClientContext& ctx) {
  const std::string& name = option.name;
  const char* value = option.value.c_str();
  std::string flag = "--" + name;
  auto assign = [&](auto& out) -> Result<void> {
    auto n = number<typename Value<std::remove_reference_t<decltype(out)>>::type>(flag, value);
    if (!n) return std::unexpected(n.error());
    out = *n;
    return {};
  };
  auto assign_fd = [&](int& out) -> Result<void> {
    auto n = number<int>(flag, value);
    if (!n) return std::unexpected(n.error());
    if (*n < 0) return util::fail(fmt::format("{}: negative fd", flag));
    out = *n;
    return {};
  };
  if (name == "config") ctx.config_path = option.value;
  else if (name == "kernel") return parse_kernel_spec(option.value, ctx);
  else if (name == "pidfd") return assign_fd(ctx.pidfd);
  else if (name == "tid") return assign(ctx.tid);
  else if (name == "uid") return assign(ctx.uid);
  else if (name == "gid") return assign(ctx.gid);
  else if (name == "time") return assign(ctx.time);
  else if (name == "dumpable") return assign(ctx.dumpable);
  else if (name == "core-limit") return assign(ctx.core_limit);  // unlimited is a huge number: fine
  else if (name == "core-fd") return assign_fd(ctx.core_fd);
  else if (name == "source") {
    if (option.value != "core_pattern" && option.value != "kernel_socket")
      return util::fail("--source: core_pattern or kernel_socket");
    ctx.source = option.value;
  } else if (name == "kernel-connection") {
    // Set by usercrash_s for the kernel's coredump socket: the connection is
    // the core fd, and the pid, comm and signal come from it.
    if (auto r = assign_fd(ctx.core_fd); !r) return r;
    ctx.kernel_connection = true;
    ctx.source = "kernel_socket";
  } else if (name == "warm-collector") {
    return assign_fd(ctx.warm_channel);
  } else if (name == "set") {
    size_t eq = option.value.find('=');
    if (eq == std::string::npos) return util::fail("--set needs KEY=VALUE");
    ctx.overrides.emplace_back(option.value.substr(0, eq), option.value.substr(eq + 1));
  } else if (name == "verbose") ctx.verbose = true;
  else if (name == "help") ctx.help = true;
  else if (name == "version") ctx.version = true;
  return {};
}

// The options alone, and the operands as given.
Result<ClientContext> parse_options_only(int argc, char** argv, std::vector<std::string>& operands) {
  ClientContext ctx;
  std::span<char* const> args(argv + (argc > 0 ? 1 : 0), argc > 0 ? static_cast<size_t>(argc - 1) : 0);
  auto parsed = util::parse_options(args, kClientOptions, util::OperandOrder::options_first);
  if (!parsed) return std::unexpected(parsed.error());
  for (const auto& option : parsed->options)
    if (auto r = apply_option(option, ctx); !r) return std::unexpected(r.error());
  operands = std::move(parsed->operands);
  return ctx;
}

}  // namespace

Result<ClientContext> parse_client_options(int argc, char** argv) {
  std::vector<std::string> operands;
  return parse_options_only(argc, argv, operands);
}

Result<ClientContext> parse_client_args(int argc, char** argv) {
  std::vector<std::string> positional;
  auto options = parse_options_only(argc, argv, positional);
  if (!options) return options;
  ClientContext ctx = std::move(*options);
  if (ctx.help || ctx.version) return ctx;
  if (ctx.warm_channel >= 0 && ctx.kernel_connection)
    return util::fail("--warm-collector and --kernel-connection exclude each other");
  if (ctx.kernel_connection || ctx.warm_channel >= 0) {
    if (!positional.empty())
      return util::fail(
          fmt::format("--{} takes no PID COMM SIGNAL", ctx.kernel_connection ? "kernel-connection" : "warm-collector"));
    return ctx;
  }
  if (positional.size() != 3)
    return util::fail(fmt::format("expected PID COMM SIGNAL, got {} argument{}", positional.size(),
                                  positional.size() == 1 ? "" : "s"));
  auto pid = util::parse_int<pid_t>(positional[0]);
  if (!pid || *pid <= 0) return util::fail(fmt::format("PID '{}' is not a process id", positional[0]));
  ctx.pid = *pid;
  ctx.comm = positional[1];
  auto sig = util::parse_int<int>(positional[2]);
  if (!sig || *sig < 1 || *sig > SIGRTMAX)
    return util::fail(fmt::format("SIGNAL '{}' is not a signal number", positional[2]));
  ctx.signal = *sig;
  return ctx;
}

}  // namespace usercrash::client
