#include "client/client_context.h"

#include <csignal>
#include <cstdio>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

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
      "  -o, --set KEY=VALUE  set one configuration key\n"
      "  -v, --verbose        log debug messages\n"
      "  -h, --help           show this help\n"
      "  -V, --version        show the version\n"
      "\n"
      "Run by hand it needs the same arguments and a core on standard input.\n",
      program);
}

Result<ClientContext> parse_client_args(int argc, char** argv) {
  ClientContext ctx;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) return nullptr;
      return argv[++i];
    };
    auto need = [&](const char* v) -> Result<const char*> {
      if (!v) return util::fail(arg + " needs a value");
      return v;
    };
    if (arg == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (arg == "-c" || arg == "--config") {
      auto v = need(value());
      if (!v) return std::unexpected(v.error());
      ctx.config_path = *v;
    } else if (arg == "--pidfd") {
      auto n = number<int>(arg, value());
      if (!n) return std::unexpected(n.error());
      if (*n < 0) return util::fail("--pidfd: negative fd");
      ctx.pidfd = *n;
    } else if (arg == "--tid") {
      auto n = number<pid_t>(arg, value());
      if (!n) return std::unexpected(n.error());
      ctx.tid = *n;
    } else if (arg == "--uid") {
      auto n = number<uid_t>(arg, value());
      if (!n) return std::unexpected(n.error());
      ctx.uid = *n;
    } else if (arg == "--gid") {
      auto n = number<gid_t>(arg, value());
      if (!n) return std::unexpected(n.error());
      ctx.gid = *n;
    } else if (arg == "--time") {
      auto n = number<int64_t>(arg, value());
      if (!n) return std::unexpected(n.error());
      ctx.time = *n;
    } else if (arg == "--dumpable") {
      auto n = number<int>(arg, value());
      if (!n) return std::unexpected(n.error());
      ctx.dumpable = *n;
    } else if (arg == "--core-limit") {
      const char* v = value();
      // The kernel prints an unlimited RLIMIT_CORE as a huge number; accept it.
      auto n = number<uint64_t>(arg, v);
      if (!n) return std::unexpected(n.error());
      ctx.core_limit = *n;
    } else if (arg == "--core-fd") {
      auto n = number<int>(arg, value());
      if (!n) return std::unexpected(n.error());
      if (*n < 0) return util::fail("--core-fd: negative fd");
      ctx.core_fd = *n;
    } else if (arg == "--source") {
      auto v = need(value());
      if (!v) return std::unexpected(v.error());
      std::string s = *v;
      if (s != "core_pattern" && s != "kernel_socket") return util::fail("--source: core_pattern or kernel_socket");
      ctx.source = s;
    } else if (arg.starts_with("-k") || arg == "--kernel") {
      // The compact form core_pattern uses (it holds at most 127 bytes):
      // -k%F:%I:%u:%g:%t:%d:%c. An empty field is a specifier the kernel
      // did not expand.
      std::string spec = arg == "--kernel" ? std::string(value() ? argv[i] : "") : arg.substr(2);
      if (auto r = parse_kernel_spec(spec, ctx); !r) return std::unexpected(r.error());
    } else if (arg == "--kernel-connection") {
      // Set by usercrash_s for the kernel's coredump socket: the connection is
      // the --core-fd, and the pid, comm and signal come from it.
      auto n = number<int>(arg, value());
      if (!n) return std::unexpected(n.error());
      if (*n < 0) return util::fail("--kernel-connection: negative fd");
      ctx.core_fd = *n;
      ctx.kernel_connection = true;
      ctx.source = "kernel_socket";
    } else if (arg == "-o" || arg == "--set") {
      auto v = need(value());
      if (!v) return std::unexpected(v.error());
      std::string kv = *v;
      size_t eq = kv.find('=');
      if (eq == std::string::npos) return util::fail(arg + " needs KEY=VALUE");
      ctx.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (arg == "-v" || arg == "--verbose") {
      ctx.verbose = true;
    } else if (arg.size() > 1 && arg[0] == '-' && !util::parse_int<long>(arg)) {
      return util::fail(fmt::format("unknown option '{}'", arg));
    } else {
      positional.push_back(arg);
    }
  }
  if (ctx.kernel_connection) {
    if (!positional.empty()) return util::fail("--kernel-connection takes no PID COMM SIGNAL");
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
