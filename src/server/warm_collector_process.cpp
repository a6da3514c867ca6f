#include "server/warm_collector_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "ipc/fd_passing.h"
#include "ipc/packet_codec.h"
#include "util/log.h"
#include "util/spawn.h"

namespace usercrash::server {

namespace log = util::log;

namespace {
// A collector that died is started again after this long.
constexpr std::chrono::seconds kRestartDelay{1};
}  // namespace

WarmCollectorProcess::WarmCollectorProcess(std::vector<std::string> argv, int epoll, uint64_t tag)
    : argv_(std::move(argv)), epoll_(epoll), tag_(tag) {
  argv_.insert(argv_.begin() + 1, {"--warm-collector", "3"});
}

WarmCollectorProcess::~WarmCollectorProcess() { stop(); }

void WarmCollectorProcess::close_channel() {
  if (channel_) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, channel_.get(), nullptr);
  channel_.reset();
  ready_ = false;
}

void WarmCollectorProcess::start() {
  restart_at_.reset();
  if (stopped_) return;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    log::error("warm collector: socketpair: {}", std::strerror(errno));
    restart_at_ = Clock::now() + kRestartDelay;
    return;
  }
  channel_ = util::UniqueFd(pair[0]);
  util::UniqueFd theirs(pair[1]);
  ::fcntl(channel_.get(), F_SETFL, O_NONBLOCK);
  util::SpawnFds fds;
  fds.map.emplace_back(theirs.get(), 3);
  fds.map.emplace_back(STDERR_FILENO, STDERR_FILENO);  // its log lines beside ours
  auto spawned = util::spawn_program(argv_, fds);
  if (!spawned) {
    log::error("warm collector: {}", spawned.error().message);
    close_channel();
    restart_at_ = Clock::now() + kRestartDelay;
    return;
  }
  pid_ = *spawned;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = tag_;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, channel_.get(), &ev) != 0)
    log::warn("warm collector: epoll_ctl: {}", std::strerror(errno));
  log::debug("warm collector {} started", pid_);
}

void WarmCollectorProcess::on_readable() {
  auto message = ipc::receive_message(channel_.get(), 0);
  if (!message) {
    // It and its spare closed their ends: it is gone, and its exit
    // restarts it. Anything else is a bad message, dropped.
    if (message.error().kind == util::ErrorKind::closed) {
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, channel_.get(), nullptr);
      ready_ = false;
    } else {
      log::warn("warm collector {}: {}", pid_, message.error().message);
    }
    return;
  }
  auto ready = ipc::decode_collector_ready(message->bytes);
  if (!ready || ready->pid != pid_) {
    log::warn("warm collector {}: a bad message: {}", pid_, ready ? "not its pid" : ready.error().message);
    return;
  }
  ready_ = true;
  log::info("warm collector {} ready", pid_);
}

bool WarmCollectorProcess::on_exit(pid_t pid, int status) {
  if (pid != pid_) return false;
  pid_ = -1;
  close_channel();
  if (stopped_) return true;
  ++restarts_;
  log::warn("warm collector {} ended ({}); starting another in {} s", pid,
            WIFSIGNALED(status) ? std::string(strsignal(WTERMSIG(status)))
                                : fmt::format("exit status {}", WEXITSTATUS(status)),
            kRestartDelay.count());
  restart_at_ = Clock::now() + kRestartDelay;
  return true;
}

void WarmCollectorProcess::restart_if_due(Clock::time_point now) {
  if (restart_at_ && now >= *restart_at_) start();
}

void WarmCollectorProcess::stop() {
  stopped_ = true;
  restart_at_.reset();
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  close_channel();
}

util::Result<void> WarmCollectorProcess::pass(const ipc::HandOff& packet, std::span<const int> fds) {
  if (!ready_) return util::fail("no warm collector is ready");
  if (auto sent = ipc::send_message(channel_.get(), std::as_bytes(std::span(&packet, 1)), fds, fds.size()); !sent)
    return util::fail("passing it to the warm collector: " + sent.error().message);
  ++handed_off_;
  return {};
}

}  // namespace usercrash::server
