#include "server/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "ipc/fd_passing.h"
#include "ipc/kernel_coredump.h"
#include "ipc/packet_codec.h"
#include "publish/crash_entry.h"
#include "util/escape.h"
#include "util/file_io.h"
#include "util/log.h"
#include "util/phase_trace.h"
#include "util/spawn.h"

namespace usercrash::server {

namespace log = util::log;
using util::Result;
using util::UniqueFd;

namespace {

constexpr uint64_t kListenTag = 0;
constexpr uint64_t kSignalTag = UINT64_MAX;
constexpr uint64_t kKernelListenTag = UINT64_MAX - 1;
constexpr uint64_t kWarmCollectorTag = UINT64_MAX - 2;
// Connections waiting for their first packet, at most; beyond it new ones
// are refused so a flood of silent peers cannot exhaust our fds.
constexpr size_t kMaxPendingConnections = 256;
// Of those, at most this many from ordinary users (who may only ask for the
// status): a flood of them never takes the places of root's clients.
constexpr size_t kMaxPendingUserConnections = 16;
// On SIGTERM, in-flight dumps get this long to complete.
constexpr std::chrono::seconds kShutdownGrace{5};

}  // namespace

Result<std::unique_ptr<Server>> Server::create(const config::Config& config, WorkerSpec worker, UniqueFd listen_fd,
                                               UniqueFd kernel_fd) {
  // The signals the loop reads from its signalfd are blocked before any
  // socket exists: a SIGTERM sent as soon as the socket appears is then
  // a clean stop, never the default action.
  sigset_t mask;
  sigemptyset(&mask);
  for (int signo : {SIGTERM, SIGINT, SIGUSR1, SIGPIPE, SIGCHLD}) sigaddset(&mask, signo);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return util::fail_errno("sigprocmask");
  store::OpenOptions open_options;
  open_options.searchable_by_others = config.report_access == config::ReportAccess::owner;
  auto directory = store::CrashDirectory::open(config.directory, config.count, open_options);
  if (!directory) return std::unexpected(directory.error());
  directory->remove_stale_temporaries();
  bool owns_path = false;
  if (!listen_fd) {
    // Anyone may connect and ask how the server stands (StatusRequest); only
    // root's peers get a dump (checked on their request, SO_PEERCRED).
    auto sock = ipc::listen_unix(config.socket, SOCK_SEQPACKET, 128, 0666);
    if (!sock) return std::unexpected(sock.error());
    listen_fd = std::move(*sock);
    owns_path = true;
  }
  auto server = std::unique_ptr<Server>(
      new Server(config, std::move(worker), std::move(*directory), std::move(listen_fd), owns_path));
  // The kernel's coredump socket (core_pattern "@@path"): optional, a
  // failure here only means that mode is unavailable.
  if (kernel_fd) {
    server->kernel_listen_ = std::move(kernel_fd);
  } else if (auto ks = ipc::listen_unix(config.kernel_socket, SOCK_STREAM, 128)) {
    server->kernel_listen_ = std::move(*ks);
    server->owns_kernel_path_ = true;
  } else {
    log::warn("kernel coredump socket unavailable: {}", ks.error().message);
  }

  server->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!server->epoll_) return util::fail_errno("epoll_create1");
  server->signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!server->signals_) return util::fail_errno("signalfd");

  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  if (::epoll_ctl(server->epoll_.get(), EPOLL_CTL_ADD, server->listen_.get(), &ev) != 0)
    return util::fail_errno("epoll_ctl");
  ev.data.u64 = kSignalTag;
  if (::epoll_ctl(server->epoll_.get(), EPOLL_CTL_ADD, server->signals_.get(), &ev) != 0)
    return util::fail_errno("epoll_ctl");
  if (server->kernel_listen_) {
    ev.data.u64 = kKernelListenTag;
    if (::epoll_ctl(server->epoll_.get(), EPOLL_CTL_ADD, server->kernel_listen_.get(), &ev) != 0)
      return util::fail_errno("epoll_ctl");
  }
  if (config.warm_collector) {
    std::vector<std::string> argv = {server->worker_.client};
    argv.insert(argv.end(), server->worker_.args.begin(), server->worker_.args.end());
    server->warm_ = std::make_unique<WarmCollectorProcess>(std::move(argv), server->epoll_.get(), kWarmCollectorTag);
  }
  return server;
}

Server::Server(config::Config config, WorkerSpec worker, store::CrashDirectory directory, UniqueFd listen_fd,
               bool owns_socket_path)
    : config_(std::move(config)),
      worker_(std::move(worker)),
      directory_(std::move(directory)),
      listen_(std::move(listen_fd)),
      owns_socket_path_(owns_socket_path),
      admission_(config_.rate_limit),
      hook_(config_.on_report, config_.on_report_timeout),
      metrics_file_(config_.metrics_file) {
  metrics_.start_time = static_cast<int64_t>(std::time(nullptr));
  if (auto previous = previous_starts(metrics_file_.read_previous())) metrics_.server_starts = *previous + 1;
}

Server::~Server() {
  if (owns_socket_path_ && listen_) ::unlink(config_.socket.c_str());
  if (owns_kernel_path_ && kernel_listen_) ::unlink(config_.kernel_socket.c_str());
}

std::string Server::describe(const Connection& c) const {
  if (c.request.pid > 0)
    return fmt::format("connection {} (pid {}, comm '{}')", c.id, c.request.pid,
                       util::escape_text(ipc::field_string(c.request.comm)));
  return fmt::format("connection {} (peer pid {}, uid {})", c.id, c.peer.pid, c.peer.uid);
}

int Server::run() {
  log::info("listening on {}{}, reports in {} ({} slots, {} at once, queue {})", config_.socket,
            kernel_listen_ ? " and " + config_.kernel_socket + " (kernel coredump socket)" : std::string(),
            config_.directory, config_.count, config_.max_concurrent, config_.max_queue);
  if (hook_.enabled())
    log::info("on_report: {} after each report (timeout {} ms)", config_.on_report, config_.on_report_timeout.count());
  auto metrics_text = [&] { return render_metrics(metrics_, counters_, gauges()); };
  metrics_file_.write(metrics_text());
  if (warm_) warm_->start();
  sd_notify(0, "READY=1");
  epoll_event events[64];
  for (;;) {
    if (stopping_ && connections_.empty()) break;
    int n = ::epoll_wait(epoll_.get(), events, 64, next_timeout_ms());
    if (n > 0) metrics_file_.changed();
    if (n < 0 && errno != EINTR) {
      log::error("epoll_wait: {}", std::strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        on_accept();
      } else if (tag == kKernelListenTag) {
        on_kernel_accept();
      } else if (tag == kWarmCollectorTag) {
        if (warm_) warm_->on_readable();
      } else if (tag == kSignalTag) {
        signalfd_siginfo si{};
        while (::read(signals_.get(), &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGUSR1) log_counters();
          else if (si.ssi_signo == SIGCHLD) reap_workers();
          else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) shutdown_begin();
        }
      } else if (auto it = connections_.find(tag); it != connections_.end()) {
        if (it->second.state == State::kernel_request || it->second.state == State::kernel_marker)
          on_kernel_readable(it->second);
        else on_readable(it->second);
      }
    }
    auto now = Clock::now();
    expire(now);
    hook_.expire(now);
    if (warm_) warm_->restart_if_due(now);
    log_loops(now);
    metrics_.metrics_write_failures = metrics_file_.failures();
    metrics_file_.write_if_due(now, metrics_text);
    if (stopping_ && stop_deadline_ && Clock::now() > *stop_deadline_) {
      std::vector<uint64_t> ids;
      for (auto& [id, c] : connections_) ids.push_back(id);
      for (uint64_t id : ids) {
        auto it = connections_.find(id);
        if (it != connections_.end()) finish(it->second, false, "server shutting down");
      }
    }
  }
  log_loops(Clock::now() + CrashAdmission::kWindow);
  log_counters();
  metrics_file_.write(metrics_text());
  log::info("stopped");
  return 0;
}

int Server::next_timeout_ms() const {
  std::optional<Clock::time_point> soonest = stop_deadline_;
  auto consider = [&](std::optional<Clock::time_point> t) {
    if (t && (!soonest || *t < *soonest)) soonest = t;
  };
  for (const auto& [id, c] : connections_) consider(c.deadline);
  consider(hook_.next_deadline());
  consider(admission_.next_notes());
  consider(metrics_file_.next_write());
  if (warm_) consider(warm_->next_restart());
  if (!soonest) return -1;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*soonest - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms + 1, 0, 60'000));
}

void Server::on_accept() {
  for (;;) {
    int raw = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (raw < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) log::warn("accept: {}", std::strerror(errno));
      return;
    }
    UniqueFd sock(raw);
    auto peer = ipc::peer_credentials(sock.get());
    if (!peer) {
      log::warn("refusing a connection: {}", peer.error().message);
      ++counters_.refused_peer;
      continue;
    }
    if (stopping_) continue;
    size_t waiting = 0, users_waiting = 0;
    for (const auto& [id, c] : connections_) {
      waiting += c.state == State::awaiting_request;
      users_waiting += c.state == State::awaiting_request && c.peer.uid != 0;
    }
    if (waiting >= kMaxPendingConnections || (peer->uid != 0 && users_waiting >= kMaxPendingUserConnections)) {
      log::warn("refusing a connection from pid {} uid {}: {} connections already waiting for their request", peer->pid,
                peer->uid, peer->uid != 0 ? users_waiting : waiting);
      ++counters_.refused_peer;
      continue;
    }
    Connection c;
    c.id = next_id_++;
    c.sock = std::move(sock);
    c.peer = *peer;
    c.deadline = Clock::now() + config_.request_timeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = c.id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.sock.get(), &ev) != 0) {
      log::warn("epoll_ctl: {}", std::strerror(errno));
      continue;
    }
    ++counters_.accepted;
    connections_.emplace(c.id, std::move(c));
  }
}

void Server::on_readable(Connection& c) {
  // A queued client has nothing to say; readable means it hung up.
  size_t max_fds = 0;
  auto message = ipc::receive_message(c.sock.get(), max_fds);
  if (!message) {
    if (c.state == State::dumping) {
      finish(c, false, "client went away before completing: " + message.error().message);
    } else {
      if (message.error().kind != util::ErrorKind::closed) {
        ++counters_.malformed;
        log::warn("{}: dropped: {}", describe(c), message.error().message);
      }
      close_connection(c.id);
    }
    return;
  }
  switch (c.state) {
    case State::awaiting_request: {
      if (auto type = ipc::peek_type(message->bytes); type && *type == ipc::PacketType::status_request) {
        answer_status(c, message->bytes);
        return;
      }
      // Only root's usercrash_c (the kernel runs it as root) gets a slot.
      if (c.peer.uid != 0) {
        log::warn("refusing a connection from pid {} uid {}: only root may request a dump", c.peer.pid, c.peer.uid);
        ++counters_.refused_peer;
        close_connection(c.id);
        return;
      }
      if (auto type = ipc::peek_type(message->bytes); type && *type == ipc::PacketType::hand_off) {
        on_hand_off(c, *message);
        return;
      }
      auto request = ipc::decode_dump_request(message->bytes);
      if (!request) {
        ++counters_.malformed;
        log::warn("{}: dropped: {}", describe(c), request.error().message);
        close_connection(c.id);
        return;
      }
      on_request(c, *request);
      return;
    }
    case State::kernel_request:
    case State::kernel_marker: return;  // handled in on_kernel_readable
    case State::queued:
      ++counters_.malformed;
      log::warn("{}: dropped: sent a packet while queued", describe(c));
      close_connection(c.id);
      return;
    case State::dumping: {
      auto done = ipc::decode_completed(message->bytes);
      if (!done) {
        ++counters_.malformed;
        finish(c, false, "bad completion packet: " + done.error().message);
        return;
      }
      util::trace::mark("srv_completed");
      note_debuginfod(c, *done);
      finish(c, true, "");
      return;
    }
  }
}

void Server::answer_status(Connection& c, std::span<const std::byte> bytes) {
  if (auto request = ipc::decode_status_request(bytes); !request) {
    ++counters_.malformed;
    log::warn("{}: dropped: {}", describe(c), request.error().message);
    close_connection(c.id);
    return;
  }
  auto reply = ipc::make_packet<ipc::StatusReply>();
  reply.server_pid = ::getpid();
  if (kernel_listen_) reply.flags |= ipc::kKernelSocketListening;
  // What is going on with other people's crashes is root's business.
  if (c.peer.uid == 0) {
    const Counters& k = counters_;
    reply.flags |= ipc::kStatusDetails;
    reply.active = active_;
    reply.queued = static_cast<uint32_t>(queue_.size());
    reply.max_concurrent = config_.max_concurrent;
    reply.count = config_.count;
    reply.uptime_seconds =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_).count());
    reply.accepted = k.accepted;
    reply.completed = k.completed;
    reply.partial = k.partial;
    reply.lost = k.lost;
    reply.dropped = k.queue_full + k.rate_limited;
    reply.refused = k.refused_peer + k.malformed;
    reply.kernel_connections = k.kernel_connections;
  }
  if (auto sent = ipc::send_packet(c.sock.get(), reply); !sent)
    log::debug("{}: status reply not sent: {}", describe(c), sent.error().message);
  close_connection(c.id);
}

void Server::on_request(Connection& c, const ipc::DumpRequest& request) {
  util::trace::mark("srv_request");
  c.request = request;
  c.deadline.reset();
  auto reject = [&](ipc::RejectReason reason) {
    auto packet = ipc::make_packet<ipc::Rejected>();
    packet.reason = static_cast<uint32_t>(reason);
    (void)ipc::send_packet(c.sock.get(), packet);
    close_connection(c.id);
  };
  // rate_limit is applied once the report says which crash group it is of
  // (finish): per group before globally.
  if (active_ < config_.max_concurrent) {
    start_dump(c);
    return;
  }
  if (queue_.size() >= config_.max_queue) {
    ++counters_.queue_full;
    log::warn("{}: dropped: {} dumps running and {} queued (max_queue); {} dropped so far", describe(c), active_,
              queue_.size(), counters_.queue_full);
    reject(ipc::RejectReason::queue_full);
    return;
  }
  c.state = State::queued;
  queue_.push_back(c.id);
  log::debug("{}: queued at position {}", describe(c), queue_.size());
}

void Server::start_dump(Connection& c) {
  bool with_core = (c.request.flags & ipc::kWantCoreFd) != 0;
  auto pending = directory_.create_pending(with_core);
  if (!pending) {
    ++counters_.write_errors;
    log::error("{}: cannot create report files: {}", describe(c), pending.error().message);
    auto packet = ipc::make_packet<ipc::Rejected>();
    packet.reason = static_cast<uint32_t>(ipc::RejectReason::internal);
    (void)ipc::send_packet(c.sock.get(), packet);
    close_connection(c.id);
    return;
  }
  std::vector<int> fds;
  for (const auto& f : pending->files) fds.push_back(f.fd.get());
  auto packet = ipc::make_packet<ipc::PerformDump>();
  packet.fd_count = static_cast<uint32_t>(fds.size());
  if (auto sent = ipc::send_packet(c.sock.get(), packet, fds); !sent) {
    log::warn("{}: cannot hand over the report fds: {}", describe(c), sent.error().message);
    close_connection(c.id);
    return;
  }
  util::trace::mark("srv_slot_sent");
  c.pending = std::move(*pending);
  c.state = State::dumping;
  c.dump_started = Clock::now();
  c.deadline = c.dump_started + config_.completion_timeout;
  ++active_;
  log::debug("{}: dumping", describe(c));
}

bool Server::end_incomplete(Connection& c, const std::string& reason) {
  store::PendingReport& p = *c.pending;
  int text = p.fd(store::SlotFile::text);
  struct stat st {};
  bool has_text = text >= 0 && ::fstat(text, &st) == 0 && st.st_size > 0;
  if (!has_text) {
    ++counters_.lost;
    log::error("{}: no report: {}", describe(c), reason);
    close_connection(c.id);
    return false;
  }
  // Keep what the client wrote, say why it stops there, and leave out the
  // JSON, which is only written whole.
  std::string note = fmt::format("\n*** report incomplete: {} ***\n", reason);
  [[maybe_unused]] auto n = ::pwrite(text, note.data(), note.size(), st.st_size);
  std::erase_if(p.files, [](const store::PendingFile& f) { return f.kind == store::SlotFile::json; });
  return true;
}

void Server::not_kept(Connection& c, const store::CrashFacts& facts, uint64_t total, const char* why) {
  ++counters_.rate_limited;
  metrics_.dropped[why]++;
  if (facts.group) {
    admission_.note_loop(*facts.group, facts.comm, "", false, total);
    metrics_.signatures[facts.group->signature] = {total, facts.exe};
  }
  log::debug("{}: not stored: over rate_limit ({})", describe(c), why);
  auto packet = ipc::make_packet<ipc::Rejected>();
  packet.reason = static_cast<uint32_t>(ipc::RejectReason::rate_limited);
  (void)ipc::send_packet(c.sock.get(), packet);
  close_connection(c.id);
}

void Server::note_debuginfod(const Connection& c, const ipc::Completed& done) {
  auto outcome = static_cast<ipc::DebuginfodOutcome>(done.debuginfod);
  if (outcome == ipc::DebuginfodOutcome::not_asked) return;  // crash_debuginfod off: nothing to do
  if (auto line = debuginfod_failures_.note(outcome, ipc::field_string(done.debuginfod_reason), describe(c)))
    log::write(line->level, line->message);
  metrics_.debuginfod_failures = debuginfod_failures_.count();
}

void Server::finish(Connection& c, bool completed, const std::string& reason) {
  if (!completed && !end_incomplete(c, reason)) return;
  store::PendingReport& p = *c.pending;
  int text = p.fd(store::SlotFile::text);
  double seconds = std::chrono::duration<double>(Clock::now() - c.dump_started).count();
  if (completed) metrics_.record_collection(seconds);
  metrics_file_.changed();
  // What the report says of itself: its crash group, and what to log.
  store::ReportHead head;
  if (auto h = store::read_report_head(text)) head = std::move(*h);
  store::CrashFacts facts;
  if (head.signature) facts.group = store::GroupKey{*head.signature, c.request.uid};
  facts.comm = head.comm.value_or(util::escape_text(ipc::field_string(c.request.comm)));
  facts.exe = head.exe.value_or("");

  // rate_limit, per crash group first.
  auto now = Clock::now();
  CrashAdmission::Decision decision = admission_.decide(facts.group, now);
  if (!decision.keep) {
    auto total = directory_.count_not_kept(facts);
    if (!total) log::warn("{}: cannot count it in the index: {}", describe(c), total.error().message);
    not_kept(c, facts, total.value_or(0), "rate_limit_signature");
    return;
  }

  store::PublishOptions options;
  options.facts = facts;
  options.keep_per_signature = config_.keep_per_signature;
  options.new_slot_allowed = decision.new_slot_allowed;
  // report_access=owner: the client vouched that the crash is an ordinary
  // user's own dumpable one; root's reports stay root's.
  if ((c.request.flags & ipc::kOwnerMayRead) && c.request.uid != 0) options.owner_uid = c.request.uid;
  auto published = directory_.publish(p, options);
  if (!published && published.error().kind == util::ErrorKind::exists) {
    log::info("{}: its client published the report itself", describe(c));
    close_connection(c.id);
    return;
  }
  if (!published) {
    ++counters_.write_errors;
    log::error("{}: report not saved: {}", describe(c), published.error().message);
    close_connection(c.id);
    return;
  }
  if (published->index_problem) log::warn("crash directory index: {}", *published->index_problem);
  if (!published->kept) {
    not_kept(c, facts, published->group_count, "rate_limit");
    return;
  }
  util::trace::mark("srv_published");
  admission_.stored(facts.group, !published->replaced_group_newest, now);
  if (!completed) {
    ++counters_.partial;
    log::warn("{}: partial report {}/{}: {}", describe(c), config_.directory, published->name, reason);
  }
  announce(c, head, *published);
  if (completed) {
    ++counters_.completed;
    (void)ipc::send_packet(c.sock.get(), ipc::make_published(published->name));
    util::trace::mark("srv_answered");
  }
  close_connection(c.id);
}

void Server::announce(const Connection& c, const store::ReportHead& head, const store::Publication& published) {
  std::string path = config_.directory + "/" + published.name;
  if (head.signal_name) metrics_.per_signal[*head.signal_name]++;
  if (head.signature) metrics_.signatures[*head.signature] = {published.group_count, head.exe.value_or("")};
  if (published.replaced_group_newest) {
    // A crash loop: said once a minute (log_loops), not per crash.
    ++metrics_.recorded_replaced;
    admission_.note_loop(store::GroupKey{*head.signature, c.request.uid}, head.comm.value_or("?"), published.name, true,
                         published.group_count);
    log::debug("{}: report {} (over its group's newest, {} crashes of it)", describe(c), path, published.group_count);
  } else {
    ++metrics_.recorded_new;
    publish::log_crash(head, path);
  }
  publish::HookReport hook;
  hook.text_path = path;
  hook.json_path = path + store::slot_suffix(store::SlotFile::json);
  bool has_json = false;
  for (const auto& f : c.pending->files) has_json = has_json || f.kind == store::SlotFile::json;
  if (!has_json) hook.json_path.clear();
  hook.slot = published.name;
  hook.signature = head.signature.value_or("");
  hook.pid = head.pid ? std::to_string(*head.pid) : std::to_string(c.request.pid);
  hook.uid = head.uid ? std::to_string(*head.uid) : std::to_string(c.request.uid);
  hook.signal = head.signal_name.value_or("");
  hook.exe = head.exe.value_or("");
  hook_.submit(hook);
}

void Server::log_loops(Clock::time_point now) {
  for (const auto& n : admission_.take_notes(now)) {
    std::string kept = n.newest_slot.empty() ? std::string("none kept")
                                             : fmt::format("newest in {}/{}", config_.directory, n.newest_slot);
    std::string message = fmt::format(
        "crash loop: {} more crashes of {} (uid {}, signature {}) in the last minute: {} stored over its newest "
        "report ({}), {} not stored (rate_limit); {} in all",
        n.replaced + n.not_kept, n.comm, n.group.uid, n.group.signature, n.replaced, kept, n.not_kept, n.total);
    util::log::entry(util::log::Level::warning, message,
                     {{"MESSAGE_ID", publish::kLoopMessageId},
                      {"USERCRASH_SIGNATURE", n.group.signature},
                      {"USERCRASH_UID", std::to_string(n.group.uid)},
                      {"USERCRASH_COMM", n.comm},
                      {"USERCRASH_COUNT", std::to_string(n.total)},
                      {"USERCRASH_REPORT", n.newest_slot.empty() ? "" : config_.directory + "/" + n.newest_slot}});
  }
}

MetricsGauges Server::gauges() const {
  MetricsGauges g;
  g.queue_depth = queue_.size();
  g.dumps_running = active_;
  g.workers_running = workers_.size();
  g.hooks_running = hook_.running();
  const auto& h = hook_.counts();
  g.hooks_started = h.started;
  g.hooks_succeeded = h.succeeded;
  g.hooks_failed = h.failed;
  g.hooks_timed_out = h.timed_out;
  g.hooks_dropped = h.dropped;
  g.log = util::log::delivery();
  if (warm_) {
    g.warm_ready = warm_->ready();
    g.warm_passed = warm_->handed_off();
    g.warm_restarts = warm_->restarts();
  }
  g.warm_refused = warm_refused_;
  return g;
}

void Server::expire(Clock::time_point now) {
  std::vector<uint64_t> expired;
  for (const auto& [id, c] : connections_)
    if (c.deadline && now >= *c.deadline) expired.push_back(id);
  for (uint64_t id : expired) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    Connection& c = it->second;
    if (c.state == State::dumping) {
      finish(c, false, fmt::format("the client did not complete within {} ms", config_.completion_timeout.count()));
    } else if (c.state == State::kernel_request || c.state == State::kernel_marker) {
      ++counters_.kernel_dropped;
      log::warn("{}: kernel coredump handshake timed out", describe(c));
      close_connection(id);
    } else {
      ++counters_.request_timeouts;
      log::warn("{}: dropped: no request within {} ms", describe(c), config_.request_timeout.count());
      close_connection(id);
    }
  }
}

void Server::close_connection(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (it->second.state == State::dumping) --active_;
  if (it->second.state == State::queued) std::erase(queue_, id);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.sock.get(), nullptr);
  connections_.erase(it);
  start_queued();
}

void Server::start_queued() {
  while (!stopping_ && active_ < config_.max_concurrent && !queue_.empty()) {
    uint64_t id = queue_.front();
    queue_.pop_front();
    auto it = connections_.find(id);
    if (it != connections_.end()) start_dump(it->second);
  }
}

void Server::shutdown_begin() {
  if (stopping_) return;
  stopping_ = true;
  log::info("stopping: {} dumps in flight, {} queued", active_, queue_.size());
  if (warm_) warm_->stop();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listen_.get(), nullptr);
  if (owns_socket_path_) ::unlink(config_.socket.c_str());
  listen_.reset();
  if (kernel_listen_) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, kernel_listen_.get(), nullptr);
    if (owns_kernel_path_) ::unlink(config_.kernel_socket.c_str());
    kernel_listen_.reset();
  }
  // Queued and not-yet-asked clients are told to write on their own.
  std::vector<uint64_t> waiting;
  for (const auto& [id, c] : connections_)
    if (c.state != State::dumping) waiting.push_back(id);
  for (uint64_t id : waiting) {
    auto packet = ipc::make_packet<ipc::Rejected>();
    packet.reason = static_cast<uint32_t>(ipc::RejectReason::shutting_down);
    (void)ipc::send_packet(connections_.at(id).sock.get(), packet);
    close_connection(id);
  }
  stop_deadline_ = Clock::now() + std::min<std::chrono::milliseconds>(kShutdownGrace, config_.completion_timeout);
}

void Server::log_counters() const {
  const Counters& k = counters_;
  log::info(
      "counters: accepted {}, completed {}, partial {}, lost {}, refused (not root) {}, malformed {}, "
      "request timeouts {}, dropped (queue full) {}, dropped (rate limit) {}, write errors {}, "
      "kernel connections {}, kernel dropped {}, worker failures {}",
      k.accepted, k.completed, k.partial, k.lost, k.refused_peer, k.malformed, k.request_timeouts, k.queue_full,
      k.rate_limited, k.write_errors, k.kernel_connections, k.kernel_dropped, k.worker_failures);
}

// --- the kernel's coredump socket ---------------------------------------

namespace {

// Why the peer of `sock` is not the kernel dumping a task's core; nothing
// when it is.
std::optional<std::string> not_the_kernel(int sock) {
  auto pidfd = ipc::peer_pidfd(sock);
  if (!pidfd) return "no pidfd for the peer: " + pidfd.error().message;
  auto dumping = ipc::dumping_core(pidfd->get());
  if (!dumping) return dumping.error().message;
  if (!*dumping) return std::string("the peer is not dumping core (not a connection from the kernel)");
  return std::nullopt;
}

}  // namespace

void Server::on_kernel_accept() {
  for (;;) {
    int raw = ::accept4(kernel_listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (raw < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) log::warn("accept: {}", std::strerror(errno));
      return;
    }
    UniqueFd sock(raw);
    ++counters_.kernel_connections;
    auto peer = ipc::peer_credentials(sock.get());
    if (!peer || stopping_) {
      ++counters_.kernel_dropped;
      continue;
    }
    // Only the kernel may come here, for a task it is dumping: the socket
    // is root's, and its peer must be a task the kernel marks as dumping
    // core (a root process that connects is refused too, so that nothing
    // but a real crash gets a root worker).
    if (auto why = not_the_kernel(sock.get())) {
      ++counters_.refused_peer;
      log::warn("kernel coredump socket: pid {} (uid {}) refused: {}", peer->pid, peer->uid, *why);
      continue;
    }
    // One worker per crash, bounded like the dumps themselves; past it the
    // kernel is left without an answer and writes no core.
    size_t limit = config_.max_concurrent + config_.max_queue;
    if (workers_.size() >= limit) {
      ++counters_.kernel_dropped;
      log::warn("kernel coredump for pid {}: dropped: {} workers already running; {} dropped so far", peer->pid,
                workers_.size(), counters_.kernel_dropped);
      continue;
    }
    Connection c;
    c.id = next_id_++;
    c.sock = std::move(sock);
    c.peer = *peer;
    c.state = State::kernel_request;
    c.deadline = Clock::now() + config_.request_timeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = c.id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.sock.get(), &ev) != 0) continue;
    connections_.emplace(c.id, std::move(c));
  }
}

void Server::on_kernel_readable(Connection& c) {
  char buffer[4096];
  ssize_t n =
      ::recv(c.sock.get(), buffer, c.state == State::kernel_marker ? sizeof(uint32_t) : sizeof buffer, MSG_DONTWAIT);
  if (n <= 0) {
    ++counters_.kernel_dropped;
    log::warn("{}: kernel coredump connection closed during the handshake", describe(c));
    close_connection(c.id);
    return;
  }
  if (c.state == State::kernel_request) {
    auto req = ipc::check_coredump_request(buffer, static_cast<size_t>(n));
    if (!req) {
      ++counters_.kernel_dropped;
      log::warn("{}: bad coredump request: {}", describe(c), req.error().message);
      close_connection(c.id);
      return;
    }
    auto ack = ipc::make_coredump_ack();
    if (::send(c.sock.get(), &ack, sizeof ack, MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(sizeof ack)) {
      ++counters_.kernel_dropped;
      close_connection(c.id);
      return;
    }
    c.state = State::kernel_marker;
    return;
  }
  uint32_t mark = UINT32_MAX;
  if (n == sizeof mark) std::memcpy(&mark, buffer, sizeof mark);
  if (mark != ipc::kernel::kMarkReqAck) {
    ++counters_.kernel_dropped;
    log::warn("{}: the kernel refused our coredump ack: {}", describe(c), ipc::coredump_mark_name(mark));
    close_connection(c.id);
    return;
  }
  start_worker(c);
  close_connection(c.id);
}

void Server::on_hand_off(Connection& c, ipc::Message& message) {
  auto packet = ipc::decode_hand_off(message.bytes);
  if (!packet) {
    ++counters_.malformed;
    log::warn("{}: dropped: {}", describe(c), packet.error().message);
    close_connection(c.id);
    return;
  }
  // The collector's process for this crash answers the client on this
  // connection (and gets the core on it); ours is closed once it is passed on.
  int passed = c.sock.get();
  util::Result<void> sent = warm_ ? warm_->pass(*packet, std::span(&passed, 1)) : util::fail("warm_collector=no");
  if (!sent) {
    log::debug("{}: hand-off refused: {}", describe(c), sent.error().message);
    ++warm_refused_;
    auto rejected = ipc::make_packet<ipc::Rejected>();
    rejected.reason = static_cast<uint32_t>(ipc::RejectReason::no_warm_collector);
    (void)ipc::send_packet(c.sock.get(), rejected);
  }
  close_connection(c.id);
}

void Server::start_worker(Connection& c) {
  // The connection becomes the worker's fd 3; the worker reads the core from
  // it, collects with the same engine as usercrash_c, and asks us for a slot
  // like any client. A crash while collecting takes down the worker only.
  int flags = ::fcntl(c.sock.get(), F_GETFL);
  ::fcntl(c.sock.get(), F_SETFL, flags & ~O_NONBLOCK);
  std::vector<std::string> args = {worker_.client, "--kernel-connection", "3"};
  args.insert(args.end(), worker_.args.begin(), worker_.args.end());

  util::SpawnFds fds;
  fds.map.emplace_back(c.sock.get(), 3);
  auto spawned = util::spawn_program(args, fds);
  if (!spawned) {
    ++counters_.worker_failures;
    log::error("{}: {}", describe(c), spawned.error().message);
    return;
  }
  pid_t pid = *spawned;
  workers_.emplace(pid, fmt::format("kernel coredump of pid {}", c.peer.pid));
  log::debug("{}: worker {} started", describe(c), pid);
}

void Server::reap_workers() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (hook_.on_exit(pid, status)) continue;
    if (warm_ && warm_->on_exit(pid, status)) continue;
    auto it = workers_.find(pid);
    if (it == workers_.end()) continue;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++counters_.worker_failures;
      log::warn("worker {} ({}) failed: {}", pid, it->second,
                WIFSIGNALED(status) ? std::string(strsignal(WTERMSIG(status)))
                                    : fmt::format("exit status {}", WEXITSTATUS(status)));
    }
    workers_.erase(it);
  }
}

}  // namespace usercrash::server
