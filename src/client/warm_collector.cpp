#include "client/warm_collector.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "client/crash_run.h"
#include "client/process_title.h"
#include "collect/options.h"
#include "collect/sandbox.h"
#include "engine/disassembler.h"
#include "ipc/fd_passing.h"
#include "ipc/packet_codec.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/unique_fd.h"

namespace usercrash::client {

namespace log = util::log;
using Clock = std::chrono::steady_clock;

namespace {

// One crash, in a spare: what the server passed on, checked and parsed
// before the client is told the crash is taken, so that a hand-off this
// side cannot use is left to usercrash_c.
struct HandedCrash {
  ClientContext ctx;
  std::vector<std::string> args;  // usercrash_c's command line
  bool pidfd = false;             // Go brings one
  util::UniqueFd client;          // the connection usercrash_c waits on
  util::UniqueFd core;
  util::UniqueFd pid;
};

util::Result<HandedCrash> read_hand_off(ipc::Message& message) {
  auto packet = ipc::decode_hand_off(message.bytes);
  if (!packet) return std::unexpected(packet.error());
  if (message.fds.size() != 1)
    return util::fail(fmt::format("a hand-off with {} fds, expected the client's connection", message.fds.size()));
  HandedCrash crash;
  crash.client = std::move(message.fds[0]);
  crash.pidfd = packet->flags & ipc::kHandOffPidfd;
  auto args = ipc::hand_off_args(*packet);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  auto ctx = parse_client_args(static_cast<int>(args.size()), argv.data());
  if (!ctx) return util::fail("its command line: " + ctx.error().message);
  if (ctx->help || ctx->version || ctx->warm_channel >= 0 || ctx->kernel_connection)
    return util::fail("its command line is not a crash's");
  crash.ctx = std::move(*ctx);
  crash.args = std::move(args);
  return crash;
}

// Tells usercrash_c the crash is taken and waits for its go-ahead, which
// brings the core and the pidfd; false when it gave up meanwhile (its
// wait ran out), and the crash stays its own.
bool take_from_client(HandedCrash& crash) {
  int client = crash.client.get();
  auto taken = ipc::make_packet<ipc::HandOffTaken>();
  taken.collector_pid = ::getpid();
  if (!ipc::send_packet(client, taken)) return false;
  if (!ipc::wait_readable(client, limits::kHandOffTimeout)) return false;
  size_t fds = crash.pidfd ? 2 : 1;
  auto go = ipc::receive_message(client, fds);
  if (!go || !ipc::decode_hand_off_go(go->bytes) || go->fds.size() != fds) return false;
  crash.core = std::move(go->fds[0]);
  if (crash.pidfd) crash.pid = std::move(go->fds[1]);
  crash.ctx.core_fd = crash.core.get();
  crash.ctx.pidfd = crash.pidfd ? crash.pid.get() : -1;
  return true;
}

// A crash's process ends: what its log thread holds gets the moment
// usercrash_c's exit gives it, then _exit (nothing of the warm collector's
// state is torn down in a copy of it).
[[noreturn]] void end(int status) {
  log::flush(std::chrono::milliseconds(200));
  ::_exit(status);
}

class WarmCollector {
 public:
  WarmCollector(const ClientContext& own, const config::Config& config)
      : own_(own),
        config_(config),
        channel_(own.warm_channel),
        spare_limit_(config.max_concurrent + config.max_queue) {}

  int run();

 private:
  void warm_up();
  void fork_spare();
  [[noreturn]] void spare(util::UniqueFd notify);
  int collect_one(HandedCrash crash, Clock::time_point started);
  void reap();
  void read_notes();

  const ClientContext& own_;
  const config::Config& config_;
  int channel_;
  size_t spare_limit_;
  std::optional<collect::Sandbox> sandbox_;
  engine::WarmModules modules_;
  std::vector<std::pair<std::string, std::string>> own_dump_;  // config_, key by key
  util::UniqueFd notes_read_, notes_write_;                    // spares say here that they took a crash (their pid)
  util::UniqueFd signals_;
  std::set<pid_t> idle_, busy_;
};

void WarmCollector::warm_up() {
  // What every crash loads otherwise: the disassembler (capstone, about
  // 2.5 ms of relocations), and the sandbox's user, seccomp program and
  // Landlock paths.
  if (auto problem = engine::load_disassembler()) log::warn("warm collector: {}", *problem);
  sandbox_.emplace(collect::Sandbox::prepare(collect::sandbox_options(config_)));
  own_dump_ = config::dump(config_);
  // The trusted system libraries most crashed programs map (ours: libc,
  // the loader, libstdc++, libm, libgcc_s, elfutils' ...), with their
  // symbols, DWARF and line tables.
  engine::WarmOptions options;
  options.debuginfo_path = config_.debuginfo_path;
  modules_ = engine::WarmModules::load(engine::default_warm_libraries(), options);
  for (const auto& problem : modules_.problems()) log::debug("warm collector: {}", problem);
  log::info("warm collector: {} libraries held warm ({} MiB, {} ms)", modules_.modules().size(),
            modules_.resident_bytes() >> 20,
            std::chrono::duration_cast<std::chrono::milliseconds>(modules_.load_time()).count());
}

int WarmCollector::run() {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    log::error("warm collector: pipe: {}", std::strerror(errno));
    return 1;
  }
  notes_read_ = util::UniqueFd(pipe_fds[0]);
  notes_write_ = util::UniqueFd(pipe_fds[1]);
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signals_ = util::UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  warm_up();
  fork_spare();  // the first crash finds one waiting
  auto ready = ipc::make_packet<ipc::CollectorReady>();
  ready.pid = ::getpid();
  if (auto sent = ipc::send_packet(channel_, ready); !sent) {
    log::error("warm collector: telling the server it is ready: {}", sent.error().message);
    return 1;
  }
  log::info("warm collector {} ready", ::getpid());
  bool stop = false;
  while (!stop) {
    if (idle_.empty() && busy_.size() < spare_limit_) fork_spare();
    // The channel is the spares' to read: here only its end is watched.
    pollfd fds[3] = {{channel_, 0, 0}, {notes_read_.get(), POLLIN, 0}, {signals_.get(), POLLIN, 0}};
    int n = ::poll(fds, 3, -1);
    if (n < 0 && errno != EINTR) {
      log::error("warm collector: poll: {}", std::strerror(errno));
      break;
    }
    if (fds[0].revents & (POLLHUP | POLLERR)) break;  // the server is gone
    if (fds[1].revents & POLLIN) read_notes();
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si))
        if (si.ssi_signo == SIGCHLD) reap();
        else stop = true;
    }
  }
  // Spares are left alone: a busy one finishes its crash, and an idle one
  // takes what the server passed before it went, then ends when it finds
  // the server's end closed. (Killing the ones thought idle could kill one
  // that took a crash a moment ago.)
  return 0;
}

void WarmCollector::read_notes() {
  pid_t pids[64];
  ssize_t n = ::read(notes_read_.get(), pids, sizeof pids);
  for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof(pid_t)); ++i)
    if (idle_.erase(pids[i])) busy_.insert(pids[i]);
}

void WarmCollector::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    idle_.erase(pid);
    busy_.erase(pid);
  }
}

void WarmCollector::fork_spare() {
  pid_t pid = ::fork();
  if (pid < 0) {
    log::warn("warm collector: fork: {}", std::strerror(errno));
    return;
  }
  if (pid == 0) spare(std::move(notes_write_));
  idle_.insert(pid);
}

void WarmCollector::spare(util::UniqueFd notify) {
  // As usercrash_c starts: no blocked signals, default actions.
  signals_.reset();
  notes_read_.reset();
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  auto message = ipc::receive_message(channel_, 1);
  if (!message) ::_exit(0);  // the server closed its end
  auto started = Clock::now();
  pid_t self = ::getpid();
  (void)!::write(notify.get(), &self, sizeof self);
  notify.reset();
  ::close(channel_);
  // Now a crash's process like usercrash_c: a journald that stopped
  // reading must not hold it (the warm collector itself keeps no thread,
  // so that its forks are clean).
  log::deliver_in_background();
  auto crash = read_hand_off(*message);
  if (!crash) {
    log::error("warm collector: a hand-off left to usercrash_c: {}", crash.error().message);
    end(1);
  }
  if (!take_from_client(*crash)) {
    log::warn("warm collector: usercrash_c gave up the crash of pid {} before it was taken", crash->ctx.pid);
    end(0);
  }
  crash->client.reset();
  set_process_title(crash->args);
  end(collect_one(std::move(*crash), started));
}

int WarmCollector::collect_one(HandedCrash crash, Clock::time_point started) {
  log::set_verbose(crash.ctx.verbose || own_.verbose);
  // The configuration as usercrash_c would read it now (the file may have
  // changed since the collector started); the sandbox prepared at start
  // serves it when it is the same.
  auto config = load_config(crash.ctx);
  if (!config) return pass_on_only(std::move(crash.ctx), config::Config{}, config.error().message, "usercrash_c");
  // The warm libraries were checked against the collector's debuginfo_path.
  bool same = config::dump(*config) == own_dump_;
  WarmState warm;
  if (same) warm = {&*sandbox_, &modules_};
  return run_crash(std::move(crash.ctx), *config, started, warm);
}

}  // namespace

int serve_warm_collector(const ClientContext& own, const config::Config& config) {
  WarmCollector collector(own, config);
  return collector.run();
}

}  // namespace usercrash::client
