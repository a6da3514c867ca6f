// Sending and receiving one SEQPACKET message with optional fds (SCM_RIGHTS).
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "ipc/packet_codec.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::ipc {

struct Message {
  std::vector<std::byte> bytes;
  std::vector<util::UniqueFd> fds;  // owned by the message; closed unless moved out
};

// Fds one message may carry: the report's (kMaxReportFds), or the debug
// files a collector is handed (collect/late_symbols.h).
inline constexpr size_t kMaxMessageFds = 16;

// Sends `bytes` as one message carrying `fds` (which stay owned by the
// caller): at most `max_fds`, and never more than kMaxMessageFds.
util::Result<void> send_message(int sock, std::span<const std::byte> bytes, std::span<const int> fds = {},
                                size_t max_fds = kMaxReportFds);

template <Packet P>
util::Result<void> send_packet(int sock, const P& packet, std::span<const int> fds = {}) {
  return send_message(sock, std::as_bytes(std::span(&packet, 1)), fds);
}

// Receives one message of at most `max_bytes`. More than `max_fds` fds
// (at most kMaxMessageFds), a truncated message or truncated control data
// is an error (any fds that did arrive are closed). A zero-length read
// means the peer closed: an error of kind `closed`.
util::Result<Message> receive_message(int sock, size_t max_fds, size_t max_bytes = kMaxPacketSize);

// Waits until `fd` is readable or `timeout` passes (an error of kind `timed_out`).
util::Result<void> wait_readable(int fd, std::chrono::milliseconds timeout);

}  // namespace usercrash::ipc
