// The wire between usercrash_c and usercrash_s: AF_UNIX SOCK_SEQPACKET, one
// fixed-layout packet per message, every packet starting with a header that
// names its type and size and the protocol version. Nothing clever.
//
//   client                         server
//   DumpRequest          ───▶
//                        ◀───      PerformDump + report fds (SCM_RIGHTS)
//                                   or Rejected
//   (writes the report into the fds)
//   Completed            ───▶
//                        ◀───      Published (the slot the report went to)
//
//   usercrash_c, with the warm collector up (client/warm_hand_off.h)
//   HandOff              ───▶      (server passes it on, with the
//                                   connection, to the warm collector)
//                        ◀───      HandOffTaken (from the collector's process
//                                   for this crash) or Rejected
//   HandOffGo + core fd, pidfd ─▶  (the crash is the collector's now;
//                                   usercrash_c exits, or collects the crash
//                                   itself when no Taken came in time)
//
//   warm collector (started by the server on a socket pair)
//   CollectorReady       ───▶      (warm: hand-offs may come)
//
//   anyone (usercrashctl status)
//   StatusRequest        ───▶
//                        ◀───      StatusReply (what that peer may know)
#pragma once

#include <cstdint>
#include <type_traits>

namespace usercrash::ipc {

inline constexpr uint32_t kMagic = 0x31524355;  // "UCR1" little-endian
inline constexpr uint16_t kVersion = 1;

enum class PacketType : uint16_t {
  dump_request = 1,
  perform_dump = 2,
  completed = 3,
  published = 4,
  rejected = 5,
  status_request = 6,
  status_reply = 7,
  hand_off = 8,
  hand_off_taken = 9,
  hand_off_go = 10,
  collector_ready = 11,
};

struct PacketHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t type;      // PacketType
  uint32_t size;      // of the whole packet, header included
  uint32_t reserved;  // zero
};

inline constexpr unsigned kCommSize = 64;  // NUL-terminated, from the kernel's %e (<= 15 bytes today)
inline constexpr unsigned kNameSize = 64;

// DumpRequest.flags
inline constexpr uint32_t kWantCoreFd = 1u << 0;    // the client will stream a saved core
inline constexpr uint32_t kOwnerMayRead = 1u << 1;  // report_access=owner, and the crash is not a secure one

struct DumpRequest {
  static constexpr PacketType kType = PacketType::dump_request;
  PacketHeader header;
  int32_t pid;     // global pid of the crashed process
  int32_t tid;     // crashing thread, 0 when not known
  int32_t signal;  // 1..64
  uint32_t flags;
  uint32_t uid;  // real uid of the crashed process (for report_access=owner)
  uint32_t reserved;
  char comm[kCommSize];
};

// Index of each fd in a PerformDump message.
enum ReportFd : uint32_t { kTextFd = 0, kJsonFd = 1, kCoreFd = 2 };
inline constexpr uint32_t kMaxReportFds = 3;

struct PerformDump {
  static constexpr PacketType kType = PacketType::perform_dump;
  PacketHeader header;
  uint32_t fd_count;  // 2 (text, json) or 3 (+ core)
  uint32_t reserved;
};

// Completed.status
enum class CompletionStatus : uint32_t { ok = 0, partial = 1 };

// Completed.debuginfod: what the crash path's fetch from debuginfod
// (crash_debuginfod) came to, said by the client that made it, outside the
// collector's sandbox, so that the server counts and logs the failures.
enum class DebuginfodOutcome : uint32_t {
  not_asked = 0,  // crash_debuginfod off, or no module lacked file:line
  answered = 1,   // the servers answered (a file, or "not there")
  failed = 2,     // down, an error, or the cache unusable
  timed_out = 3,  // crash_debuginfod_timeout passed first
  paused = 4,     // not asked: the same servers let the timeout pass less than a minute ago
};
// Whether the outcome is a failure, which then says why.
inline constexpr bool is_failure(DebuginfodOutcome o) {
  return o == DebuginfodOutcome::failed || o == DebuginfodOutcome::timed_out || o == DebuginfodOutcome::paused;
}
inline constexpr unsigned kReasonSize = 256;

struct Completed {
  static constexpr PacketType kType = PacketType::completed;
  PacketHeader header;
  uint32_t status;      // CompletionStatus
  uint32_t debuginfod;  // DebuginfodOutcome
  uint64_t text_bytes;
  uint64_t json_bytes;
  uint64_t core_bytes;
  // Why, for a failure: NUL-terminated, printable, empty otherwise.
  char debuginfod_reason[kReasonSize];
};

struct Published {
  static constexpr PacketType kType = PacketType::published;
  PacketHeader header;
  char name[kNameSize];  // slot file name, NUL-terminated
};

enum class RejectReason : uint32_t {
  queue_full = 1,
  rate_limited = 2,
  shutting_down = 3,
  internal = 4,
  no_warm_collector = 5,  // a hand-off: none is running or warm yet
};

struct Rejected {
  static constexpr PacketType kType = PacketType::rejected;
  PacketHeader header;
  uint32_t reason;  // RejectReason
  uint32_t reserved;
};

// Any peer may ask how the server stands; only root peers may ask for a dump.
struct StatusRequest {
  static constexpr PacketType kType = PacketType::status_request;
  PacketHeader header;
  uint32_t reserved[2];
};

// StatusReply.flags
inline constexpr uint32_t kKernelSocketListening = 1u << 0;  // the "@@" socket is open and listened on
inline constexpr uint32_t kStatusDetails = 1u << 1;          // the fields below `details` are filled (root peers)

struct StatusReply {
  static constexpr PacketType kType = PacketType::status_reply;
  PacketHeader header;
  uint32_t flags;
  int32_t server_pid;
  // details: for root peers only; zero for others.
  uint32_t active;          // dumps running
  uint32_t queued;          // dumps waiting
  uint32_t max_concurrent;  // config
  uint32_t count;           // ring slots
  uint64_t uptime_seconds;
  uint64_t accepted;
  uint64_t completed;
  uint64_t partial;
  uint64_t lost;
  uint64_t dropped;  // queue full or over rate_limit
  uint64_t refused;  // peers that were not root, malformed packets
  uint64_t kernel_connections;
};

// HandOff.flags
inline constexpr uint32_t kHandOffPidfd = 1u << 0;  // HandOffGo brings a pidfd after the core fd
inline constexpr unsigned kHandOffArgsSize = 480;

// A crash handed to the warm collector: usercrash_c's own command line
// (the kernel's %-specifiers and our options), which the collector parses
// as usercrash_c would. From the server to the collector it carries the
// client's connection as its one fd. The core stream and the pidfd come
// only with HandOffGo, from the client to the one process that took the
// crash: a hand-off left waiting (a hung collector) holds nothing the
// kernel waits on.
struct HandOff {
  static constexpr PacketType kType = PacketType::hand_off;
  PacketHeader header;
  uint32_t flags;
  uint32_t argc;                // 1..kMaxHandOffArgs strings in args
  char args[kHandOffArgsSize];  // argc NUL-terminated strings, then NULs
};
inline constexpr uint32_t kMaxHandOffArgs = 64;

// The collector's process for this crash waits for Go; the client may
// still give up (it then shuts the connection down, and that process
// drops the crash, which it never had a byte of).
struct HandOffTaken {
  static constexpr PacketType kType = PacketType::hand_off_taken;
  PacketHeader header;
  int32_t collector_pid;
  uint32_t reserved;
};

struct HandOffGo {
  static constexpr PacketType kType = PacketType::hand_off_go;
  PacketHeader header;
  uint32_t reserved[2];
};

struct CollectorReady {
  static constexpr PacketType kType = PacketType::collector_ready;
  PacketHeader header;
  int32_t pid;
  uint32_t reserved;
};

// Receive buffers are this large so an oversized packet is seen as such
// (MSG_TRUNC) rather than silently cut to a valid-looking prefix.
inline constexpr unsigned kMaxPacketSize = 512;

template <typename P>
concept Packet = std::is_standard_layout_v<P> && std::is_trivially_copyable_v<P> && requires {
  P::kType;
} && sizeof(P) <= kMaxPacketSize;

static_assert(sizeof(PacketHeader) == 16);
static_assert(sizeof(DumpRequest) == 104);
static_assert(sizeof(PerformDump) == 24);
static_assert(sizeof(Completed) == 304);
static_assert(sizeof(Published) == 80);
static_assert(sizeof(Rejected) == 24);
static_assert(sizeof(StatusRequest) == 24);
static_assert(sizeof(StatusReply) == 104);
static_assert(sizeof(HandOff) == 504);
static_assert(sizeof(HandOffTaken) == 24);
static_assert(sizeof(HandOffGo) == 24);
static_assert(sizeof(CollectorReady) == 24);

}  // namespace usercrash::ipc
