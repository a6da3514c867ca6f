#include "client/server_slot.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "client/own_slot.h"
#include "ipc/fd_passing.h"
#include "ipc/packet_codec.h"
#include "ipc/unix_socket.h"
#include "util/limits.h"
#include "util/log.h"

namespace usercrash::client {

namespace log = util::log;

namespace {

// How long to wait for the server's "published" answer after completing.
constexpr std::chrono::seconds kPublishWait{5};

}  // namespace

ServerSlot::Answer ServerSlot::ask(const config::Config& config, const Crash& crash, const CrashDebuginfod* debuginfod,
                                   std::unique_ptr<ServerSlot>& slot, std::string& why) {
  auto sock = ipc::connect_unix(config.socket, SOCK_SEQPACKET, limits::kServerConnectTimeout);
  if (!sock) {
    why = sock.error().message;
    return Answer::unavailable;
  }
  const ClientContext& ctx = crash.context();
  bool owner_may_read = crash.owner_may_read(config);
  uint32_t flags = (config.save_core ? ipc::kWantCoreFd : 0) | (owner_may_read ? ipc::kOwnerMayRead : 0);
  auto request = ipc::make_dump_request(ctx.pid, crash.tid(), ctx.signal, crash.uid(), ctx.comm, flags);
  if (auto sent = ipc::send_packet(sock->get(), request); !sent) {
    why = "sending the request: " + sent.error().message;
    return Answer::unavailable;
  }
  if (auto ready = ipc::wait_readable(sock->get(), config.client_timeout); !ready) {
    why = fmt::format("no answer within {} ms", config.client_timeout.count());
    return Answer::unavailable;
  }
  auto message = ipc::receive_message(sock->get(), ipc::kMaxReportFds);
  if (!message) {
    why = "reading the answer: " + message.error().message;
    return Answer::unavailable;
  }
  auto type = ipc::peek_type(message->bytes);
  if (type && *type == ipc::PacketType::rejected) {
    auto rejected = ipc::decode_rejected(message->bytes);
    auto reason = rejected ? static_cast<ipc::RejectReason>(rejected->reason) : ipc::RejectReason::internal;
    why = std::string("the server refused: ") + ipc::reject_reason_name(reason);
    bool on_purpose = reason == ipc::RejectReason::queue_full || reason == ipc::RejectReason::rate_limited;
    return on_purpose ? Answer::dropped : Answer::unavailable;
  }
  auto perform = ipc::decode_perform_dump(message->bytes);
  if (!perform) {
    why = "bad answer: " + perform.error().message;
    return Answer::unavailable;
  }
  if (message->fds.size() != perform->fd_count || (config.save_core && perform->fd_count <= ipc::kCoreFd)) {
    why = fmt::format("the server sent {} fds, expected {}", message->fds.size(), perform->fd_count);
    return Answer::unavailable;
  }
  std::optional<uid_t> owner;
  if (owner_may_read) owner = crash.uid();
  slot.reset(
      new ServerSlot(config, ctx.pid, crash.uid(), std::move(*sock), std::move(message->fds), owner, debuginfod));
  return Answer::perform;
}

collect::ReportFiles ServerSlot::files() const { return {fds_[ipc::kTextFd].get(), fds_[ipc::kJsonFd].get()}; }

int ServerSlot::core_fd() const { return fds_.size() > ipc::kCoreFd ? fds_[ipc::kCoreFd].get() : -1; }

util::Result<std::string> ServerSlot::deliver(const collect::JobResult& written, const collect::Amend& amend) {
  CrashDebuginfod::Outcome fetched = debuginfod_ ? debuginfod_->outcome() : CrashDebuginfod::Outcome{};
  auto done = ipc::make_completed(written.complete ? ipc::CompletionStatus::ok : ipc::CompletionStatus::partial,
                                  written.text_bytes, written.json_bytes, fetched.kind, fetched.reason);
  if (auto sent = ipc::send_packet(sock_.get(), done); !sent)
    return publish_unconfirmed("telling it the report is complete: " + sent.error().message, amend);
  bool refused = false;
  auto name = await_published(refused);
  if (name || refused) return name;
  return publish_unconfirmed(name.error().message, amend);
}

util::Result<std::string> ServerSlot::await_published(bool& refused) {
  if (auto ready = ipc::wait_readable(sock_.get(), kPublishWait); !ready)
    return util::fail(fmt::format("no answer within {} s", kPublishWait.count()));
  auto message = ipc::receive_message(sock_.get(), 0);
  if (!message) return util::fail("waiting for its answer: " + message.error().message);
  auto type = ipc::peek_type(message->bytes);
  if (type && *type == ipc::PacketType::rejected) {
    auto rejected = ipc::decode_rejected(message->bytes);
    refused = true;
    auto reason = rejected ? static_cast<ipc::RejectReason>(rejected->reason) : ipc::RejectReason::internal;
    return util::fail(std::string("not stored: the server refused it (") + ipc::reject_reason_name(reason) +
                      ", counted in its crash group)");
  }
  auto published = ipc::decode_published(message->bytes);
  if (!published) return util::fail("bad answer: " + published.error().message);
  return ipc::field_string(published->name);
}

util::Result<std::string> ServerSlot::publish_unconfirmed(const std::string& why, const collect::Amend& amend) {
  log::warn("pid {}: the server did not confirm the report ({}); publishing it myself", pid_, why);
  store::PendingReport pending;
  const store::SlotFile kinds[] = {store::SlotFile::text, store::SlotFile::json, store::SlotFile::core};
  for (size_t i = 0; i < fds_.size() && i < std::size(kinds); ++i)
    pending.files.push_back({kinds[i], std::move(fds_[i]), ""});
  auto published = publish_ourselves(config_, pending, uid_, owner_, [&] {
    amend(fmt::format("the server did not confirm publication ({}); usercrash_c published this report itself", why));
  });
  if (!published && published.error().kind == util::ErrorKind::exists) {
    log::info("pid {}: the server had published the report before it went away", pid_);
    return std::string("(published by the server)");
  }
  if (!published) return std::unexpected(published.error());
  std::string name = published->publication.name;
  pass_on_.set(std::move(*published));
  return name;
}

}  // namespace usercrash::client
