#include "client/warm_hand_off.h"

#include <sys/socket.h>

#include <span>

#include <fmt/format.h>

#include "ipc/fd_passing.h"
#include "ipc/packet_codec.h"
#include "ipc/unix_socket.h"
#include "util/limits.h"
#include "util/phase_trace.h"

namespace usercrash::client {

namespace {

// The collector's answer: Taken (then Go is sent, with the core and the
// pidfd: the crash is the collector's from here), or why not.
util::Result<void> await_taken(int sock, std::span<const int> fds) {
  if (auto ready = ipc::wait_readable(sock, limits::kHandOffTimeout); !ready)
    return util::fail(
        fmt::format("the warm collector did not take the crash within {} ms", limits::kHandOffTimeout.count()));
  auto answer = ipc::receive_message(sock, 0);
  if (!answer) return util::fail("the warm collector's answer: " + answer.error().message);
  if (auto rejected = ipc::decode_rejected(answer->bytes))
    return util::fail(
        fmt::format("the server: {}", ipc::reject_reason_name(static_cast<ipc::RejectReason>(rejected->reason))));
  auto taken = ipc::decode_hand_off_taken(answer->bytes);
  if (!taken) return util::fail("the warm collector's answer: " + taken.error().message);
  auto go = ipc::make_packet<ipc::HandOffGo>();
  if (auto sent = ipc::send_packet(sock, go, fds); !sent)
    return util::fail(
        fmt::format("the warm collector's process {} went away: {}", taken->collector_pid, sent.error().message));
  return {};
}

}  // namespace

HandOffOutcome hand_off(const config::Config& config, const std::vector<std::string>& args, const ClientContext& ctx,
                        std::string& why) {
  uint32_t flags = ctx.pidfd >= 0 ? ipc::kHandOffPidfd : 0;
  auto packet = ipc::make_hand_off(args, flags);
  if (!packet) {
    why = packet.error().message;
    return HandOffOutcome::declined;
  }
  auto sock = ipc::connect_unix(config.socket, SOCK_SEQPACKET, limits::kServerConnectTimeout);
  if (!sock) {
    why = sock.error().message;
    return HandOffOutcome::declined;
  }
  if (auto sent = ipc::send_packet(sock->get(), *packet); !sent) {
    why = "sending the hand-off: " + sent.error().message;
    return HandOffOutcome::declined;
  }
  util::trace::mark("handed_off");
  std::vector<int> fds = {ctx.core_fd};
  if (ctx.pidfd >= 0) fds.push_back(ctx.pidfd);
  if (auto taken = await_taken(sock->get(), fds); !taken) {
    // A collector's process that answers late must see that we gave up
    // before it reads anything: it waits for Go, and gets the end instead.
    ::shutdown(sock->get(), SHUT_RDWR);
    why = taken.error().message;
    return HandOffOutcome::declined;
  }
  return HandOffOutcome::taken;
}

}  // namespace usercrash::client
