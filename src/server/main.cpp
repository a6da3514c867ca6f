// usercrash_s: the crash directory's owner. See server/server.h.
#include <fcntl.h>
#include <sys/prctl.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "server/server.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/phase_trace.h"

namespace {

constexpr const char* kProgram = "usercrash_s";

void print_help() {
  fmt::print(
      "Usage: {} [OPTION]...\n"
      "Crash report server: owns the crash directory and hands each crash reported by\n"
      "usercrash_c a report file in a ring of slots (usercrash_00, usercrash_01, ...).\n"
      "Runs in the foreground; logs to journald (else syslog, else stderr), and to\n"
      "stderr too when it is a file or a pipe; to stderr only when it is a terminal.\n"
      "\n"
      "  -c, --config FILE         configuration file (default /etc/usercrash.conf)\n"
      "  -d, --directory DIR       crash directory (config key: directory)\n"
      "  -s, --socket PATH         socket path (config key: socket)\n"
      "  -n, --count N             number of slots in the ring (config key: count)\n"
      "  -j, --max-concurrent N    dumps running at once (config key: max_concurrent)\n"
      "  -o, --set KEY=VALUE       set any configuration key\n"
      "      --client PATH         usercrash_c to start for kernel coredump connections\n"
      "                            (default: the one next to this program)\n"
      "  -v, --verbose             log debug messages\n"
      "  -h, --help                show this help\n"
      "  -V, --version             show the version\n"
      "\n"
      "It also listens on kernel_socket for the kernel's coredump connections\n"
      "(core_pattern \"@@PATH\", Linux 6.17 and later) and starts usercrash_c for each.\n"
      "\n"
      "Signals: SIGTERM/SIGINT stop (in-flight dumps get a few seconds to finish),\n"
      "SIGUSR1 logs the counters. Under systemd, socket activation is supported.\n",
      kProgram);
}

// What the command line asks for: the configuration to load and change, and
// the client for kernel connections.
struct CommandLine {
  std::string config_path;
  std::string client_path;
  std::vector<std::pair<std::string, std::string>> overrides;
};

// The command line; an exit status instead when it asked for help or the version.
std::optional<int> parse_command_line(int argc, char** argv, CommandLine& cl) {
  using namespace usercrash;
  static const util::OptionSpec specs[] = {
      {"config", 'c', true},         {"directory", 'd', true}, {"socket", 's', true}, {"count", 'n', true},
      {"max-concurrent", 'j', true}, {"set", 'o', true},       {"client", 0, true},   {"verbose", 'v', false},
      {"help", 'h', false},          {"version", 'V', false},
  };
  auto parsed = util::parse_options(std::span<char* const>(argv + 1, argc > 0 ? argc - 1 : 0), specs);
  if (!parsed) util::usage_error(kProgram, parsed.error().message);
  if (!parsed->operands.empty())
    util::usage_error(kProgram, fmt::format("unexpected argument '{}'", util::escape_text(parsed->operands[0])));
  for (const auto& [name, value] : parsed->options) {
    if (name == "config") cl.config_path = value;
    else if (name == "directory" || name == "socket" || name == "count") cl.overrides.emplace_back(name, value);
    else if (name == "max-concurrent") cl.overrides.emplace_back("max_concurrent", value);
    else if (name == "set") {
      size_t eq = value.find('=');
      if (eq == std::string::npos) util::usage_error(kProgram, "--set needs KEY=VALUE");
      cl.overrides.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (name == "client") cl.client_path = value;
    else if (name == "verbose") util::log::set_verbose(true);
    else if (name == "help") {
      print_help();
      return 0;
    } else if (name == "version") {
      fmt::print("{} {}\n", kProgram, util::version());
      return 0;
    }
  }
  return std::nullopt;
}

// Socket activation: systemd passes the listening sockets from fd 3 on:
// the SEQPACKET one for clients, a STREAM one for the kernel. False when the
// client one cannot be set up.
bool take_activated_sockets(usercrash::util::UniqueFd& activated, usercrash::util::UniqueFd& activated_kernel) {
  int n = sd_listen_fds(1);
  for (int fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n; ++fd) {
    if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, nullptr, 0) > 0 && !activated) activated.reset(fd);
    else if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) > 0 && !activated_kernel) activated_kernel.reset(fd);
  }
  // systemd hands the socket over blocking; the event loop accepts until
  // EAGAIN, which a blocking socket never says.
  if (activated) {
    int flags = ::fcntl(activated.get(), F_GETFL);
    if (flags < 0 || ::fcntl(activated.get(), F_SETFL, flags | O_NONBLOCK) != 0 ||
        ::fcntl(activated.get(), F_SETFD, FD_CLOEXEC) != 0) {
      usercrash::util::log::error("cannot set up the activated socket: {}", std::strerror(errno));
      return false;
    }
  }
  return true;
}

// Workers for kernel connections get our effective configuration.
usercrash::server::WorkerSpec worker_spec(const CommandLine& cl, const usercrash::config::Config& config) {
  usercrash::server::WorkerSpec worker;
  worker.client = cl.client_path;
  if (worker.client.empty()) {
    char self[4096];
    ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = len > 0 ? std::string(self, static_cast<size_t>(len)) : std::string("/usr/sbin/x");
    worker.client = dir.substr(0, dir.rfind('/')) + "/usercrash_c";
  }
  if (!cl.config_path.empty()) worker.args = {"-c", cl.config_path};
  for (const auto& [key, value] : usercrash::config::dump(config)) {
    worker.args.push_back("-o");
    worker.args.push_back(key + "=" + value);
  }
  return worker;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace usercrash;
  util::trace::init_from_environment();
  util::log::init(kProgram);
  CommandLine cl;
  if (auto status = parse_command_line(argc, argv, cl)) return *status;

  config::Config config = config::load_or_exit(kProgram, cl.config_path);
  for (const auto& [k, v] : cl.overrides) config::override_or_exit(kProgram, config, k.c_str(), v.c_str());

  if (::geteuid() != 0)
    util::log::warn("not running as root: only root's clients are served, so crashes will not reach us");

  // A crash of ours must not come back to us through the kernel socket.
  ::prctl(PR_SET_DUMPABLE, 0);

  util::UniqueFd activated, activated_kernel;
  if (!take_activated_sockets(activated, activated_kernel)) return 1;

  auto server =
      server::Server::create(config, worker_spec(cl, config), std::move(activated), std::move(activated_kernel));
  if (!server) {
    util::log::error("cannot start: {}", server.error().message);
    return 1;
  }
  // From here on a stuck journald must never stall the loop.
  util::log::deliver_in_background();
  int status = (*server)->run();
  util::log::flush(std::chrono::milliseconds(500));
  return status;
}
