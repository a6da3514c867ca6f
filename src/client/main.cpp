// usercrash_c: run by the kernel for every crash (core_pattern), with the
// core on stdin while the dying process is still in /proc.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/client_context.h"
#include "client/report_job.h"
#include "engine/core_stream.h"
#include "engine/dying_process_target.h"
#include "engine/notes_target.h"
#include "ipc/fd_passing.h"
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

// Asks the server for report fds. `dropped`: the server refused on purpose
// (queue full, rate limit) and counted it; `unavailable`: write it ourselves.
ServerAnswer ask_server(const config::Config& config, const client::ClientContext& ctx,
                        const engine::CoreHead& head, const engine::Target& target, ServerSession& session,
                        std::string& why) {
  auto sock = ipc::connect_unix(config.socket, SOCK_SEQPACKET, std::chrono::milliseconds(1000));
  if (!sock) {
    why = sock.error().message;
    return ServerAnswer::unavailable;
  }
  pid_t tid = ctx.tid > 0 ? ctx.tid : (target.threads().empty() ? 0 : target.threads().front().tid);
  uint32_t flags = config.save_core ? ipc::kWantCoreFd : 0;
  uint32_t uid = ctx.uid.value_or(target.facts().uid.value_or(0));
  (void)head;
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

// Saves the rest of the core (config save_core) and records it in both reports.
void save_core(const config::Config& config, int core_in, const engine::CoreHead& head, int core_out,
               const client::ReportFiles& files) {
  auto saved = store::compress_core(head.bytes, core_in, core_out, config.max_core_size);
  std::string line;
  nlohmann::json info;
  if (saved) {
    line = fmt::format("\nCore: saved beside this report (.core.zst): {} bytes of core, {} compressed{}\n",
                       saved->bytes_in, saved->bytes_out, saved->truncated ? ", cut at max_core_size" : "");
    info = {{"saved", true}, {"bytes", saved->bytes_in}, {"compressed_bytes", saved->bytes_out},
            {"truncated", saved->truncated}};
  } else {
    line = "\nCore: not saved: " + saved.error().message + "\n";
    info = {{"saved", false}, {"error", saved.error().message}};
    log::warn("core not saved: {}", saved.error().message);
  }
  (void)util::write_all(files.text_fd, line);
  // The JSON is ours and whole: read it back, add the key, write it again.
  if (files.json_fd >= 0 && ::lseek(files.json_fd, 0, SEEK_SET) == 0) {
    auto text = util::read_all(files.json_fd, 1ULL << 30);
    if (text) {
      auto doc = nlohmann::json::parse(*text, nullptr, false);
      if (!doc.is_discarded()) {
        doc["core"] = info;
        std::string out = doc.dump(1) + "\n";
        if (::ftruncate(files.json_fd, 0) == 0 && ::lseek(files.json_fd, 0, SEEK_SET) == 0)
          (void)util::write_all(files.json_fd, out);
      }
    }
  }
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
  if (::isatty(ctx.core_fd))
    util::usage_error(kProgram, "the core must come on standard input (the kernel runs this from core_pattern)");
  config::Config config = util::load_config_or_exit(kProgram, ctx.config_path);

  // 1. The core's head: the kernel writes the notes first.
  engine::CoreLimits core_limits;
  core_limits.max_threads = config.max_threads;
  engine::CoreHead head = engine::read_core_head(ctx.core_fd, core_limits);

  // 2. The process, anchored to its pidfd when the kernel gave one.
  engine::ProcessLimits limits;
  limits.max_threads = config.max_threads;
  limits.max_maps = config.max_maps;
  limits.max_open_files = config.max_open_files;
  limits.include_environment = config.include_environment;
  std::unique_ptr<engine::Target> target;
  auto dir = proc::ProcessDir::open(ctx.pid, ctx.pidfd);
  if (dir) {
    auto dying = std::make_unique<engine::DyingProcessTarget>(std::move(*dir), head.notes, limits, ctx.source);
    if (ctx.dumpable) dying->mutable_facts().dumpable = *ctx.dumpable == 1;
    if (head.problem) dying->mutable_facts().problems.push_back("core: " + *head.problem);
    target = std::move(dying);
  } else {
    log::warn("pid {}: {}; the report has only what the core's notes say", ctx.pid, dir.error().message);
    auto notes = std::make_unique<engine::NotesTarget>(head.notes, ctx.pid, ctx.source);
    auto& f = notes->mutable_facts();
    if (f.comm.empty()) f.comm = ctx.comm;
    f.problems.push_back(fmt::format("/proc/{}: {}", ctx.pid, dir.error().message));
    if (head.problem) f.problems.push_back("core: " + *head.problem);
    if (ctx.dumpable) f.dumpable = *ctx.dumpable == 1;
    target = std::move(notes);
  }
  if (target->facts().comm.empty()) {
    if (auto* d = dynamic_cast<engine::DyingProcessTarget*>(target.get())) d->mutable_facts().comm = ctx.comm;
  }

  engine::CollectOptions options = engine::collect_options(config, started);
  if (ctx.time) options.time = *ctx.time;
  report::RenderOptions render;
  render.max_bytes = config.max_report_size;

  // 3. Report fds from the server, or our own when it cannot be reached.
  ServerSession session;
  std::string why;
  ServerAnswer answer = ask_server(config, ctx, head, *target, session, why);
  if (answer == ServerAnswer::dropped) {
    log::warn("pid {} ({}): no report: {}", ctx.pid, util::escape_text(ctx.comm), why);
    return 0;
  }

  if (answer == ServerAnswer::perform) {
    client::ReportFiles files{session.fds[ipc::kTextFd].get(), session.fds[ipc::kJsonFd].get()};
    client::JobResult result = client::run_report_job(*target, options, files, render);
    if (session.fds.size() > ipc::kCoreFd) save_core(config, ctx.core_fd, head, session.fds[ipc::kCoreFd].get(), files);
    auto done = ipc::make_packet<ipc::Completed>();
    done.status = static_cast<uint32_t>(result.complete ? ipc::CompletionStatus::ok : ipc::CompletionStatus::partial);
    done.text_bytes = result.text_bytes;
    done.json_bytes = result.json_bytes;
    if (auto sent = ipc::send_packet(session.sock.get(), done); !sent) {
      log::error("pid {}: could not tell the server the report is complete: {}", ctx.pid, sent.error().message);
      return 1;
    }
    std::string name = "?";
    if (ipc::wait_readable(session.sock.get(), kPublishWait)) {
      if (auto m = ipc::receive_message(session.sock.get(), 0))
        if (auto p = ipc::decode_published(m->bytes)) name = ipc::field_string(p->name);
    }
    log::info("pid {} ({}), signal {}: report {}/{}{}", ctx.pid, util::escape_text(ctx.comm), ctx.signal,
              config.directory, name, result.complete ? "" : " (partial: " + result.note + ")");
    return 0;
  }

  // The server is down or broken: write into the crash directory ourselves,
  // same ring and file rules, under the lock the server also takes.
  auto directory = store::CrashDirectory::open(config.directory, config.count);
  if (!directory) {
    log::error("pid {}: server unavailable ({}) and crash directory unusable: {}", ctx.pid, why,
               directory.error().message);
    return 1;
  }
  auto pending = directory->create_pending(config.save_core);
  if (!pending) {
    log::error("pid {}: server unavailable ({}) and cannot create report files: {}", ctx.pid, why,
               pending.error().message);
    return 1;
  }
  client::ReportFiles files{pending->fd(store::SlotFile::text), pending->fd(store::SlotFile::json)};
  client::JobResult result = client::run_report_job(*target, options, files, render);
  if (config.save_core) save_core(config, ctx.core_fd, head, pending->fd(store::SlotFile::core), files);
  auto published = directory->publish(*pending);
  if (!published) {
    log::error("pid {}: report not saved: {}", ctx.pid, published.error().message);
    return 1;
  }
  log::warn("pid {} ({}), signal {}: server unavailable ({}); wrote report {}/{} myself", ctx.pid,
            util::escape_text(ctx.comm), ctx.signal, why, config.directory, *published);
  return 0;
}
