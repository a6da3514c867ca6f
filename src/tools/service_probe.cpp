#include "tools/service_probe.h"

#include <sys/socket.h>
#include <sys/utsname.h>

#include <chrono>

#include "ipc/fd_passing.h"
#include "ipc/packet_codec.h"
#include "ipc/unix_socket.h"

namespace usercrash::tools {

namespace {

constexpr std::chrono::milliseconds kProbeTimeout{1000};

ServerStatus::Details details_of(const ipc::StatusReply& r) {
  ServerStatus::Details d;
  d.active = r.active;
  d.queued = r.queued;
  d.max_concurrent = r.max_concurrent;
  d.count = r.count;
  d.uptime_seconds = r.uptime_seconds;
  d.accepted = r.accepted;
  d.completed = r.completed;
  d.partial = r.partial;
  d.lost = r.lost;
  d.dropped = r.dropped;
  d.refused = r.refused;
  d.kernel_connections = r.kernel_connections;
  return d;
}

}  // namespace

util::Result<ServerStatus> query_server(const std::string& socket) {
  auto sock = ipc::connect_unix(socket, SOCK_SEQPACKET, kProbeTimeout);
  if (!sock) return std::unexpected(sock.error());
  ServerStatus status;
  // Connected: something listens there. Whatever happens next, it runs.
  if (!ipc::send_packet(sock->get(), ipc::make_packet<ipc::StatusRequest>()) ||
      !ipc::wait_readable(sock->get(), kProbeTimeout)) {
    status.answered = false;
    return status;
  }
  auto message = ipc::receive_message(sock->get(), 0);
  if (!message) {
    status.answered = false;
    return status;
  }
  auto reply = ipc::decode_status_reply(message->bytes);
  if (!reply) {
    status.answered = false;
    return status;
  }
  status.pid = reply->server_pid;
  status.kernel_socket_listening = (reply->flags & ipc::kKernelSocketListening) != 0;
  if (reply->flags & ipc::kStatusDetails) status.details = details_of(*reply);
  return status;
}

std::string kernel_release() {
  utsname u{};
  if (::uname(&u) != 0) return {};
  return u.release;
}

}  // namespace usercrash::tools
