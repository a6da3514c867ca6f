#include "ipc/kernel_coredump.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>

namespace usercrash::ipc {

namespace {
// From include/uapi/asm-generic/socket.h (Linux 6.5); absent from older headers.
constexpr int kSoPeerPidfd = 77;
// A request larger than this is not one the kernel would send.
constexpr size_t kMaxRequestSize = 4096;

// struct pidfd_info of include/uapi/linux/pidfd.h (Linux 6.16, size
// version 1), absent from Debian 12's headers.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
  uint32_t coredump_mask;
  uint32_t spare1;
};
static_assert(sizeof(PidfdInfo) == 72);
constexpr uint64_t kPidfdInfoCoredump = 1ULL << 4;  // PIDFD_INFO_COREDUMP
constexpr uint32_t kPidfdCoredumped = 1U << 0;      // PIDFD_COREDUMPED
// PIDFD_GET_INFO: _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info).
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
}  // namespace

util::Result<kernel::CoredumpReq> check_coredump_request(const void* bytes, size_t size) {
  if (size < kernel::kCoredumpReqSizeVer0)
    return util::fail(
        fmt::format("coredump request of {} bytes, at least {} expected", size, kernel::kCoredumpReqSizeVer0));
  kernel::CoredumpReq req;
  std::memcpy(&req, bytes, sizeof req);
  if (req.size < kernel::kCoredumpReqSizeVer0 || req.size > kMaxRequestSize || req.size != size)
    return util::fail(fmt::format("coredump request says {} bytes, {} arrived", req.size, size));
  if (req.size_ack < kernel::kCoredumpAckSizeVer0)
    return util::fail(fmt::format("the kernel accepts acks of {} bytes only", req.size_ack));
  uint64_t needed = kernel::kCoredumpKernel | kernel::kCoredumpWait;
  if ((req.mask & needed) != needed)
    return util::fail(
        fmt::format("the kernel offers features 0x{:x}; kernel-written cores with wait are needed", req.mask));
  return req;
}

kernel::CoredumpAck make_coredump_ack() {
  kernel::CoredumpAck ack{};
  ack.size = kernel::kCoredumpAckSizeVer0;
  ack.mask = kernel::kCoredumpKernel | kernel::kCoredumpWait;
  return ack;
}

const char* coredump_mark_name(uint32_t mark) {
  switch (mark) {
    case kernel::kMarkReqAck: return "accepted";
    case kernel::kMarkMinSize: return "ack too small";
    case kernel::kMarkMaxSize: return "ack too large";
    case kernel::kMarkUnsupported: return "unsupported features";
    case kernel::kMarkConflicting: return "conflicting features";
    default: return "unknown marker";
  }
}

util::Result<util::UniqueFd> peer_pidfd(int sock) {
  int fd = -1;
  socklen_t len = sizeof fd;
  if (::getsockopt(sock, SOL_SOCKET, kSoPeerPidfd, &fd, &len) != 0) return util::fail_errno("SO_PEERPIDFD");
  return util::UniqueFd(fd);
}

util::Result<bool> dumping_core(int pidfd) {
  PidfdInfo info{};
  info.mask = kPidfdInfoCoredump;
  if (::ioctl(pidfd, kPidfdGetInfo, &info) != 0) return util::fail_errno("PIDFD_GET_INFO");
  if (!(info.mask & kPidfdInfoCoredump)) return util::fail("the kernel does not say whether the task dumps core");
  return (info.coredump_mask & kPidfdCoredumped) != 0;
}

}  // namespace usercrash::ipc
