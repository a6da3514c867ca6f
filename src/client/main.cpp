// usercrash_c: run by the kernel for every crash (core_pattern), with the
// core on stdin while the dying process is still in /proc; or started by
// usercrash_s for a connection on the kernel's coredump socket.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/chained_handler.h"
#include "client/client_context.h"
#include "client/core_forwarding.h"
#include "client/previous_handler.h"
#include "collect/options.h"
#include "collect/report_job.h"
#include "config/config.h"
#include "engine/core_stream.h"
#include "engine/dying_process_target.h"
#include "engine/notes_target.h"
#include "engine/report_builder.h"
#include "ipc/fd_passing.h"
#include "ipc/kernel_coredump.h"
#include "ipc/packet_codec.h"
#include "ipc/unix_socket.h"
#include "proc/process_dir.h"
#include "store/core_archive.h"
#include "store/crash_directory.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/file_io.h"
#include "util/log.h"

namespace {

using namespace usercrash;
namespace log = util::log;
using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "usercrash_c";
// How long to wait for the server's "published" answer after completing.
constexpr std::chrono::seconds kPublishWait{5};

// The kernel starts a core_pattern helper with only stdin open (and the
// pidfd, when asked for). Point 1 and 2 at /dev/null so nothing we open
// later lands there and receives stray writes.
void ensure_standard_fds() {
  for (int fd = 1; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) continue;
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

struct ServerSession {
  util::UniqueFd sock;
  std::vector<util::UniqueFd> fds;  // text, json[, core]
};

enum class ServerAnswer { perform, dropped, unavailable };

// report_access=owner lets an ordinary user read the report of their own
// process's crash, never of a setuid, setgid or non-dumpable one.
bool owner_may_read(const config::Config& config, const engine::Target& target) {
  const auto& f = target.facts();
  return config.report_access == config::ReportAccess::owner && f.uid && *f.uid != 0 && f.dumpable && *f.dumpable &&
         !engine::is_secure_process(f);
}

// Asks the server for report fds. `dropped`: the server refused on purpose
// (queue full, rate limit) and counted it; `unavailable`: write it ourselves.
ServerAnswer ask_server(const config::Config& config, const client::ClientContext& ctx, const engine::Target& target,
                        ServerSession& session, std::string& why) {
  auto sock = ipc::connect_unix(config.socket, SOCK_SEQPACKET, std::chrono::milliseconds(1000));
  if (!sock) {
    why = sock.error().message;
    return ServerAnswer::unavailable;
  }
  pid_t tid = ctx.tid > 0 ? ctx.tid : (target.threads().empty() ? 0 : target.threads().front().tid);
  uint32_t flags = config.save_core ? ipc::kWantCoreFd : 0;
  uint32_t uid = ctx.uid.value_or(target.facts().uid.value_or(0));
  if (owner_may_read(config, target)) flags |= ipc::kOwnerMayRead;
  auto request = ipc::make_dump_request(ctx.pid, tid, ctx.signal, uid, ctx.comm, flags);
  if (auto sent = ipc::send_packet(sock->get(), request); !sent) {
    why = "sending the request: " + sent.error().message;
    return ServerAnswer::unavailable;
  }
  if (auto ready = ipc::wait_readable(sock->get(), config.client_timeout); !ready) {
    why = fmt::format("no answer within {} ms", config.client_timeout.count());
    return ServerAnswer::unavailable;
  }
  auto message = ipc::receive_message(sock->get(), ipc::kMaxReportFds);
  if (!message) {
    why = "reading the answer: " + message.error().message;
    return ServerAnswer::unavailable;
  }
  auto type = ipc::peek_type(message->bytes);
  if (type && *type == ipc::PacketType::rejected) {
    auto rejected = ipc::decode_rejected(message->bytes);
    auto reason = rejected ? static_cast<ipc::RejectReason>(rejected->reason) : ipc::RejectReason::internal;
    why = std::string("the server refused: ") + ipc::reject_reason_name(reason);
    bool on_purpose = reason == ipc::RejectReason::queue_full || reason == ipc::RejectReason::rate_limited;
    return on_purpose ? ServerAnswer::dropped : ServerAnswer::unavailable;
  }
  auto perform = ipc::decode_perform_dump(message->bytes);
  if (!perform) {
    why = "bad answer: " + perform.error().message;
    return ServerAnswer::unavailable;
  }
  if (message->fds.size() != perform->fd_count || (config.save_core && perform->fd_count < 3)) {
    why = fmt::format("the server sent {} fds, expected {}", message->fds.size(), perform->fd_count);
    return ServerAnswer::unavailable;
  }
  session.sock = std::move(*sock);
  session.fds = std::move(message->fds);
  return ServerAnswer::perform;
}

client::SpecifierValues specifier_values(const client::ClientContext& ctx, const engine::Target& target,
                                         const engine::CoreHead& head, int64_t now) {
  const auto& f = target.facts();
  client::SpecifierValues v;
  v.global_pid = ctx.pid;
  v.pid = f.namespace_pid.value_or(ctx.pid);
  v.global_tid = ctx.tid > 0 ? ctx.tid : (target.threads().empty() ? ctx.pid : target.threads().front().tid);
  v.tid = head.notes.threads.empty() ? v.global_tid : head.notes.threads.front().tid;
  v.uid = ctx.uid ? ctx.uid : f.uid;
  v.gid = ctx.gid ? ctx.gid : f.gid;
  v.signal = ctx.signal;
  v.time = ctx.time.value_or(now);
  v.hostname = f.hostname.value_or("");
  v.comm = ctx.comm;
  v.exe = f.exe.value_or("");
  constexpr std::string_view kDeleted = " (deleted)";
  if (v.exe.ends_with(kDeleted)) v.exe.resize(v.exe.size() - kDeleted.size());
  v.dumpable = ctx.dumpable;
  v.core_limit = ctx.core_limit;
  v.pidfd = ctx.pidfd >= 0 ? 3 : -1;
  return v;
}

// Records in both reports what happened to the core.
void note_core(const collect::ReportFiles& files, const nlohmann::json& info, const std::string& line) {
  (void)util::write_all(files.text_fd, line);
  // The JSON is ours and whole: read it back, add the key, write it again.
  if (files.json_fd < 0 || ::lseek(files.json_fd, 0, SEEK_SET) != 0) return;
  auto text = util::read_all(files.json_fd, 1ULL << 30);
  if (!text) return;
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return;
  doc["core"] = info;
  std::string out = doc.dump(1) + "\n";
  if (::ftruncate(files.json_fd, 0) == 0 && ::lseek(files.json_fd, 0, SEEK_SET) == 0)
    (void)util::write_all(files.json_fd, out);
}

// Everything after the report: the rest of the core to the saved core and
// to the chained handler.
void pass_core_on(const config::Config& config, const client::ClientContext& ctx, const engine::CoreHead& head,
                  int core_out, client::ChainedHandler* chained, const collect::ReportFiles* files) {
  std::optional<store::CoreWriter> writer;
  if (core_out >= 0) writer.emplace(core_out, config.max_core_size);
  client::CoreSinks sinks{writer ? &*writer : nullptr, chained};
  if (!sinks.saved && !sinks.chained) return;
  auto forwarded = client::forward_core(head.bytes, ctx.core_fd, sinks, Clock::now() + config.client_timeout);
  if (!forwarded.problem.empty()) log::warn("pid {}: {}", ctx.pid, forwarded.problem);
  if (!writer || !files) return;
  auto saved = writer->finish();
  if (saved) {
    note_core(*files,
              {{"saved", true},
               {"bytes", saved->bytes_in},
               {"compressed_bytes", saved->bytes_out},
               {"truncated", saved->truncated}},
              fmt::format("\nCore: saved beside this report (.core.zst): {} bytes of core, {} compressed{}\n",
                          saved->bytes_in, saved->bytes_out, saved->truncated ? ", cut at max_core_size" : ""));
  } else {
    log::warn("pid {}: core not saved: {}", ctx.pid, saved.error().message);
    note_core(*files, {{"saved", false}, {"error", saved.error().message}},
              "\nCore: not saved: " + saved.error().message + "\n");
  }
}

std::unique_ptr<engine::Target> make_target(const client::ClientContext& ctx, const config::Config& config,
                                            const engine::CoreHead& head) {
  engine::ProcessLimits limits = collect::process_limits(config);
  auto dir = proc::ProcessDir::open(ctx.pid, ctx.pidfd);
  // Without a pidfd, make sure the pid still names the crashed process
  // before reading a byte of it: a pid can be reused.
  std::optional<std::string> mismatch;
  if (dir) mismatch = engine::DyingProcessTarget::identity_mismatch(*dir, head.notes, ctx.time);
  if (dir && mismatch) dir = util::fail("not the crashed process: " + *mismatch);
  engine::ProcessFacts* facts = nullptr;
  std::unique_ptr<engine::Target> target;
  if (dir) {
    auto dying = std::make_unique<engine::DyingProcessTarget>(std::move(*dir), head.notes, limits, ctx.source);
    facts = &dying->mutable_facts();
    target = std::move(dying);
  } else {
    log::warn("pid {}: {}; the report has only what the core's notes say", ctx.pid, dir.error().message);
    auto notes = std::make_unique<engine::NotesTarget>(head.notes, ctx.pid, ctx.source);
    facts = &notes->mutable_facts();
    facts->problems.push_back(fmt::format("/proc/{}: {}", ctx.pid, dir.error().message));
    target = std::move(notes);
  }
  if (facts->comm.empty()) facts->comm = ctx.comm;
  if (head.problem) facts->problems.push_back("core: " + *head.problem);
  if (ctx.dumpable) facts->dumpable = *ctx.dumpable == 1;
  return target;
}

}  // namespace

int main(int argc, char** argv) {
  auto started = Clock::now();
  ensure_standard_fds();
  log::init(kProgram);
  ::signal(SIGPIPE, SIG_IGN);
  // Never dump ourselves: the kernel already gives core_pattern helpers
  // RLIMIT_CORE=1 so a crash here cannot recurse; non-dumpable makes sure.
  ::prctl(PR_SET_DUMPABLE, 0);

  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      client::print_client_help(kProgram);
      return 0;
    }
    if (a == "-V" || a == "--version") {
      fmt::print("{} {}\n", kProgram, util::version());
      return 0;
    }
  }
  auto parsed = client::parse_client_args(argc, argv);
  if (!parsed) util::usage_error(kProgram, parsed.error().message);
  client::ClientContext ctx = *parsed;
  log::set_verbose(ctx.verbose);
  if (!ctx.kernel_connection && ::isatty(ctx.core_fd))
    util::usage_error(kProgram, "the core must come on standard input (the kernel runs this from core_pattern)");
  config::Config config = config::load_or_exit(kProgram, ctx.config_path);
  for (const auto& [k, v] : ctx.overrides) config::override_or_exit(kProgram, config, k.c_str(), v.c_str());

  // Kernel socket mode: who crashed comes from the connection itself.
  util::UniqueFd peer_pidfd;
  if (ctx.kernel_connection) {
    auto peer = ipc::peer_credentials(ctx.core_fd);
    if (!peer) {
      log::error("kernel connection: {}", peer.error().message);
      return 1;
    }
    ctx.pid = peer->pid;
    if (auto pidfd = ipc::peer_pidfd(ctx.core_fd)) {
      peer_pidfd = std::move(*pidfd);
      ctx.pidfd = peer_pidfd.get();
    }
  }

  // 1. The core's head: the kernel writes the notes first.
  engine::CoreHead head = engine::read_core_head(ctx.core_fd, collect::core_limits(config));
  if (ctx.signal == 0) {
    if (head.notes.siginfo) ctx.signal = head.notes.siginfo->signo;
    else if (!head.notes.threads.empty()) ctx.signal = head.notes.threads.front().cursig;
  }

  // 2. The process, anchored to its pidfd when the kernel gave one.
  std::unique_ptr<engine::Target> target = make_target(ctx, config, head);
  if (ctx.comm.empty()) ctx.comm = target->facts().comm;

  engine::CollectOptions options = collect::collect_options(config, started);
  if (ctx.time) options.time = *ctx.time;
  report::RenderOptions render = collect::render_options(config);
  // The previous handler: a program fed the core, or the core file the
  // kernel would have written.
  std::optional<client::SavedHandler> chain = client::load_previous_handler(config.state_directory);
  std::string chain_name;
  auto spawn_chain = [&]() -> std::optional<client::ChainedHandler> {
    if (!chain) return std::nullopt;
    std::string why_none;
    auto handler = client::start_previous_handler(*chain, specifier_values(ctx, *target, head, std::time(nullptr)),
                                                  ctx.pid, ctx.pidfd, config.client_timeout, chain_name, why_none);
    if (!handler) {
      log::warn("pid {}: {}: {}", ctx.pid, chain_name, handler.error().message);
      return std::nullopt;
    }
    if (!*handler) log::info("pid {}: no {}, as the kernel would write none: {}", ctx.pid, chain_name, why_none);
    return std::move(*handler);
  };
  auto finish_chain = [&](std::optional<client::ChainedHandler>& handler) {
    if (!handler) return;
    auto status = handler->finish(config.client_timeout);
    if (!status) log::warn("pid {}: {} still running; left alone", ctx.pid, chain_name);
    else if (auto failure = client::previous_handler_failure(*chain, *status))
      log::warn("pid {}: {}: {}", ctx.pid, chain_name, *failure);
    else log::info("pid {}: {} done", ctx.pid, chain_name);
  };

  // 3. Report fds from the server, or our own when it cannot be reached.
  ServerSession session;
  std::string why;
  ServerAnswer answer = ask_server(config, ctx, *target, session, why);
  if (answer == ServerAnswer::dropped) {
    log::warn("pid {} ({}): no report: {}", ctx.pid, util::escape_text(ctx.comm), why);
    auto handler = spawn_chain();
    pass_core_on(config, ctx, head, -1, handler ? &*handler : nullptr, nullptr);
    finish_chain(handler);
    return 0;
  }

  if (answer == ServerAnswer::perform) {
    collect::ReportFiles files{session.fds[ipc::kTextFd].get(), session.fds[ipc::kJsonFd].get()};
    collect::JobResult result = collect::run_report_job(*target, options, files, render);
    auto handler = spawn_chain();
    int core_out = session.fds.size() > ipc::kCoreFd ? session.fds[ipc::kCoreFd].get() : -1;
    // The saved core is part of the slot: it is written before completing.
    // A chained handler alone does not hold the slot.
    pass_core_on(config, ctx, head, core_out, core_out >= 0 && handler ? &*handler : nullptr, &files);
    auto done = ipc::make_packet<ipc::Completed>();
    done.status = static_cast<uint32_t>(result.complete ? ipc::CompletionStatus::ok : ipc::CompletionStatus::partial);
    done.text_bytes = result.text_bytes;
    done.json_bytes = result.json_bytes;
    if (auto sent = ipc::send_packet(session.sock.get(), done); !sent)
      log::error("pid {}: could not tell the server the report is complete: {}", ctx.pid, sent.error().message);
    std::string name = "?";
    if (ipc::wait_readable(session.sock.get(), kPublishWait)) {
      if (auto m = ipc::receive_message(session.sock.get(), 0))
        if (auto p = ipc::decode_published(m->bytes)) name = ipc::field_string(p->name);
    }
    log::info("pid {} ({}), signal {}: report {}/{}{}", ctx.pid, util::escape_text(ctx.comm), ctx.signal,
              config.directory, name, result.complete ? "" : " (partial: " + result.note + ")");
    if (core_out < 0) pass_core_on(config, ctx, head, -1, handler ? &*handler : nullptr, nullptr);
    finish_chain(handler);
    return 0;
  }

  // The server is down or broken: write into the crash directory ourselves,
  // same ring and file rules, under the lock the server also takes.
  auto handler_for_fallback = [&] {
    auto handler = spawn_chain();
    pass_core_on(config, ctx, head, -1, handler ? &*handler : nullptr, nullptr);
    finish_chain(handler);
  };
  store::OpenOptions open_options;
  open_options.searchable_by_others = config.report_access == config::ReportAccess::owner;
  auto directory = store::CrashDirectory::open(config.directory, config.count, open_options);
  if (!directory) {
    log::error("pid {}: server unavailable ({}) and crash directory unusable: {}", ctx.pid, why,
               directory.error().message);
    handler_for_fallback();
    return 1;
  }
  auto pending = directory->create_pending(config.save_core);
  if (!pending) {
    log::error("pid {}: server unavailable ({}) and cannot create report files: {}", ctx.pid, why,
               pending.error().message);
    handler_for_fallback();
    return 1;
  }
  collect::ReportFiles files{pending->fd(store::SlotFile::text), pending->fd(store::SlotFile::json)};
  collect::run_report_job(*target, options, files, render);
  auto handler = spawn_chain();
  pass_core_on(config, ctx, head, config.save_core ? pending->fd(store::SlotFile::core) : -1,
               handler ? &*handler : nullptr, &files);
  std::optional<uid_t> owner;
  if (owner_may_read(config, *target)) owner = target->facts().uid;
  auto published = directory->publish(*pending, {}, owner);
  finish_chain(handler);
  if (!published) {
    log::error("pid {}: report not saved: {}", ctx.pid, published.error().message);
    return 1;
  }
  log::warn("pid {} ({}), signal {}: server unavailable ({}); wrote report {}/{} myself", ctx.pid,
            util::escape_text(ctx.comm), ctx.signal, why, config.directory, *published);
  return 0;
}
