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

// Sends `bytes` as one message carrying `fds` (which stay owned by the caller).
util::Result<void> send_message(int sock, std::span<const std::byte> bytes, std::span<const int> fds = {});

template <Packet P>
util::Result<void> send_packet(int sock, const P& packet, std::span<const int> fds = {}) {
  return send_message(sock, std::as_bytes(std::span(&packet, 1)), fds);
}

// Receives one message. More than `max_fds` fds, a truncated message or
// truncated control data is an error (any fds that did arrive are closed).
// A zero-length read means the peer closed: an error of kind `closed`.
util::Result<Message> receive_message(int sock, size_t max_fds);

// Waits until `fd` is readable or `timeout` passes (an error of kind `timed_out`).
util::Result<void> wait_readable(int fd, std::chrono::milliseconds timeout);

}  // namespace usercrash::ipc
