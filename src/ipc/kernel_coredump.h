// The kernel's coredump socket (core_pattern "@@/path", Linux >= 6.17): the
// kernel connects to our listening AF_UNIX stream socket as the crashing
// task, sends a request, we answer with what we want, it confirms with a
// marker and then writes the core into the connection.
//
// The UAPI structs below mirror include/uapi/linux/coredump.h, which this
// machine's headers (Debian 12) do not have yet.
#pragma once

#include <cstdint>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::ipc {

namespace kernel {

// coredump_req / coredump_ack flags
inline constexpr uint64_t kCoredumpKernel = 1ULL << 0;     // the kernel writes the core
inline constexpr uint64_t kCoredumpUserspace = 1ULL << 1;  // userspace writes it
inline constexpr uint64_t kCoredumpReject = 1ULL << 2;     // no core at all
inline constexpr uint64_t kCoredumpWait = 1ULL << 3;       // the task waits until we close

struct CoredumpReq {
  uint32_t size;      // of this struct as the kernel sent it
  uint32_t size_ack;  // largest coredump_ack the kernel understands
  uint64_t mask;      // features the kernel supports
};
inline constexpr uint32_t kCoredumpReqSizeVer0 = 16;

struct CoredumpAck {
  uint32_t size;
  uint32_t spare;
  uint64_t mask;
};
inline constexpr uint32_t kCoredumpAckSizeVer0 = 16;

// enum coredump_mark: the 4-byte answer to our ack.
inline constexpr uint32_t kMarkReqAck = 0;
inline constexpr uint32_t kMarkMinSize = 1;
inline constexpr uint32_t kMarkMaxSize = 2;
inline constexpr uint32_t kMarkUnsupported = 3;
inline constexpr uint32_t kMarkConflicting = 4;

static_assert(sizeof(CoredumpReq) == kCoredumpReqSizeVer0);
static_assert(sizeof(CoredumpAck) == kCoredumpAckSizeVer0);

}  // namespace kernel

// Checks a request as received (`bytes` may be longer than version 0: the
// kernel says its size); error when it is short, inconsistent, or the
// kernel cannot write the core and wait for us.
util::Result<kernel::CoredumpReq> check_coredump_request(const void* bytes, size_t size);

// The ack we send: the kernel writes the core, the task waits until we close.
kernel::CoredumpAck make_coredump_ack();

// "accepted" for kMarkReqAck, else what the kernel objected to.
const char* coredump_mark_name(uint32_t mark);

// A pidfd for the peer of a connected AF_UNIX socket (SO_PEERPIDFD, 6.5+).
util::Result<util::UniqueFd> peer_pidfd(int sock);

// Whether the task behind `pidfd` is dumping core now, as the kernel marks
// it before it connects to the coredump socket (PIDFD_GET_INFO with
// PIDFD_INFO_COREDUMP, 6.16+; every kernel with the socket protocol has
// it). The only proof that a connection is the kernel's: its credentials
// are the crashing task's, any user's. Error when the kernel cannot say.
util::Result<bool> dumping_core(int pidfd);

}  // namespace usercrash::ipc
