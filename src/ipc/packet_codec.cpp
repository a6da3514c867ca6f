#include "ipc/packet_codec.h"

#include <csignal>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::ipc {
namespace {

using util::Result;

const char* type_name(uint16_t type) {
  switch (static_cast<PacketType>(type)) {
    case PacketType::dump_request: return "dump request";
    case PacketType::perform_dump: return "perform dump";
    case PacketType::completed: return "completed";
    case PacketType::published: return "published";
    case PacketType::rejected: return "rejected";
    case PacketType::status_request: return "status request";
    case PacketType::status_reply: return "status reply";
    case PacketType::hand_off: return "hand-off";
    case PacketType::hand_off_taken: return "hand-off taken";
    case PacketType::hand_off_go: return "hand-off go";
    case PacketType::collector_ready: return "collector ready";
  }
  return "unknown";
}

template <Packet P>
Result<P> decode_common(std::span<const std::byte> bytes) {
  auto type = peek_type(bytes);
  if (!type) return std::unexpected(type.error());
  if (*type != P::kType)
    return util::fail(fmt::format("expected a {} packet, got a {} packet", type_name(static_cast<uint16_t>(P::kType)),
                                  type_name(static_cast<uint16_t>(*type))));
  if (bytes.size() != sizeof(P))
    return util::fail(fmt::format("{} packet has {} bytes, expected {}", type_name(static_cast<uint16_t>(P::kType)),
                                  bytes.size(), sizeof(P)));
  P p;
  std::memcpy(&p, bytes.data(), sizeof p);
  if (p.header.reserved != 0) return util::fail("reserved header field is not zero");
  return p;
}

template <size_t N>
bool has_nul(const char (&field)[N]) {
  return std::memchr(field, '\0', N) != nullptr;
}

}  // namespace

Result<PacketType> peek_type(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(PacketHeader)) return util::fail(fmt::format("short packet: {} bytes", bytes.size()));
  PacketHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.magic != kMagic) return util::fail(fmt::format("bad magic 0x{:08x}", h.magic));
  if (h.version != kVersion)
    return util::fail(fmt::format("protocol version {} (this side speaks {})", h.version, kVersion));
  if (h.size != bytes.size())
    return util::fail(fmt::format("header says {} bytes, packet has {}", h.size, bytes.size()));
  switch (static_cast<PacketType>(h.type)) {
    case PacketType::dump_request:
    case PacketType::perform_dump:
    case PacketType::completed:
    case PacketType::published:
    case PacketType::rejected:
    case PacketType::status_request:
    case PacketType::status_reply:
    case PacketType::hand_off:
    case PacketType::hand_off_taken:
    case PacketType::hand_off_go:
    case PacketType::collector_ready: return static_cast<PacketType>(h.type);
  }
  return util::fail(fmt::format("unknown packet type {}", h.type));
}

Result<DumpRequest> decode_dump_request(std::span<const std::byte> bytes) {
  auto p = decode_common<DumpRequest>(bytes);
  if (!p) return p;
  if (p->pid <= 0) return util::fail(fmt::format("bad pid {}", p->pid));
  if (p->tid < 0) return util::fail(fmt::format("bad tid {}", p->tid));
  if (p->signal < 1 || p->signal > SIGRTMAX) return util::fail(fmt::format("bad signal {}", p->signal));
  if (p->flags & ~(kWantCoreFd | kOwnerMayRead)) return util::fail(fmt::format("unknown flags 0x{:x}", p->flags));
  if (p->reserved != 0) return util::fail("reserved field is not zero");
  if (!has_nul(p->comm)) return util::fail("comm is not NUL-terminated");
  return p;
}

Result<PerformDump> decode_perform_dump(std::span<const std::byte> bytes) {
  auto p = decode_common<PerformDump>(bytes);
  if (!p) return p;
  if (p->fd_count < 2 || p->fd_count > kMaxReportFds) return util::fail(fmt::format("bad fd count {}", p->fd_count));
  if (p->reserved != 0) return util::fail("reserved field is not zero");
  return p;
}

Result<Completed> decode_completed(std::span<const std::byte> bytes) {
  auto p = decode_common<Completed>(bytes);
  if (!p) return p;
  if (p->status > static_cast<uint32_t>(CompletionStatus::partial))
    return util::fail(fmt::format("bad completion status {}", p->status));
  if (p->debuginfod > static_cast<uint32_t>(DebuginfodOutcome::paused))
    return util::fail(fmt::format("bad debuginfod outcome {}", p->debuginfod));
  if (!has_nul(p->debuginfod_reason)) return util::fail("debuginfod reason is not NUL-terminated");
  std::string_view reason(p->debuginfod_reason);
  if (is_failure(static_cast<DebuginfodOutcome>(p->debuginfod)) == reason.empty())
    return util::fail(reason.empty() ? "debuginfod failure without a reason" : "debuginfod reason without a failure");
  for (char c : reason)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return util::fail("debuginfod reason has a control byte");
  return p;
}

Result<Published> decode_published(std::span<const std::byte> bytes) {
  auto p = decode_common<Published>(bytes);
  if (!p) return p;
  if (!has_nul(p->name)) return util::fail("name is not NUL-terminated");
  return p;
}

Result<Rejected> decode_rejected(std::span<const std::byte> bytes) {
  auto p = decode_common<Rejected>(bytes);
  if (!p) return p;
  if (p->reason < 1 || p->reason > static_cast<uint32_t>(RejectReason::no_warm_collector))
    return util::fail(fmt::format("bad reject reason {}", p->reason));
  if (p->reserved != 0) return util::fail("reserved field is not zero");
  return p;
}

Result<HandOff> decode_hand_off(std::span<const std::byte> bytes) {
  auto p = decode_common<HandOff>(bytes);
  if (!p) return p;
  if (p->flags & ~kHandOffPidfd) return util::fail(fmt::format("unknown flags 0x{:x}", p->flags));
  if (p->argc < 1 || p->argc > kMaxHandOffArgs) return util::fail(fmt::format("bad argument count {}", p->argc));
  // argc strings, each NUL-terminated, and nothing but NULs after them.
  size_t at = 0;
  for (uint32_t i = 0; i < p->argc; ++i) {
    const void* nul = std::memchr(p->args + at, '\0', kHandOffArgsSize - at);
    if (!nul) return util::fail(fmt::format("argument {} is not NUL-terminated", i));
    at = static_cast<size_t>(static_cast<const char*>(nul) - p->args) + 1;
  }
  for (; at < kHandOffArgsSize; ++at)
    if (p->args[at] != '\0') return util::fail("bytes past the last argument");
  return p;
}

Result<HandOffTaken> decode_hand_off_taken(std::span<const std::byte> bytes) {
  auto p = decode_common<HandOffTaken>(bytes);
  if (!p) return p;
  if (p->collector_pid <= 0) return util::fail(fmt::format("bad pid {}", p->collector_pid));
  if (p->reserved != 0) return util::fail("reserved field is not zero");
  return p;
}

Result<HandOffGo> decode_hand_off_go(std::span<const std::byte> bytes) {
  auto p = decode_common<HandOffGo>(bytes);
  if (!p) return p;
  if (p->reserved[0] != 0 || p->reserved[1] != 0) return util::fail("reserved field is not zero");
  return p;
}

Result<CollectorReady> decode_collector_ready(std::span<const std::byte> bytes) {
  auto p = decode_common<CollectorReady>(bytes);
  if (!p) return p;
  if (p->pid <= 0) return util::fail(fmt::format("bad pid {}", p->pid));
  if (p->reserved != 0) return util::fail("reserved field is not zero");
  return p;
}

Result<HandOff> make_hand_off(const std::vector<std::string>& args, uint32_t flags) {
  auto p = make_packet<HandOff>();
  p.flags = flags;
  if (args.empty() || args.size() > kMaxHandOffArgs)
    return util::fail(fmt::format("{} arguments (1 to {} fit a hand-off)", args.size(), kMaxHandOffArgs));
  size_t at = 0;
  for (const auto& a : args) {
    if (a.find('\0') != std::string::npos) return util::fail("an argument holds a NUL byte");
    if (a.size() + 1 > kHandOffArgsSize - at)
      return util::fail(fmt::format("the arguments take more than the {} bytes of a hand-off", kHandOffArgsSize));
    std::memcpy(p.args + at, a.data(), a.size());
    at += a.size() + 1;
  }
  p.argc = static_cast<uint32_t>(args.size());
  return p;
}

std::vector<std::string> hand_off_args(const HandOff& p) {
  std::vector<std::string> args;
  const char* at = p.args;
  for (uint32_t i = 0; i < p.argc; ++i) {
    size_t n = strnlen(at, kHandOffArgsSize - static_cast<size_t>(at - p.args));
    args.emplace_back(at, n);
    at += n + 1;
  }
  return args;
}

Result<StatusRequest> decode_status_request(std::span<const std::byte> bytes) {
  auto p = decode_common<StatusRequest>(bytes);
  if (!p) return p;
  if (p->reserved[0] != 0 || p->reserved[1] != 0) return util::fail("reserved field is not zero");
  return p;
}

Result<StatusReply> decode_status_reply(std::span<const std::byte> bytes) {
  auto p = decode_common<StatusReply>(bytes);
  if (!p) return p;
  if (p->flags & ~(kKernelSocketListening | kStatusDetails))
    return util::fail(fmt::format("bad flags {:#x}", p->flags));
  if (p->server_pid <= 0) return util::fail(fmt::format("bad server pid {}", p->server_pid));
  return p;
}

DumpRequest make_dump_request(int pid, int tid, int signal, uint32_t uid, std::string_view comm, uint32_t flags) {
  auto p = make_packet<DumpRequest>();
  p.pid = pid;
  p.tid = tid;
  p.signal = signal;
  p.uid = uid;
  p.flags = flags;
  std::memcpy(p.comm, comm.data(), std::min(comm.size(), sizeof p.comm - 1));
  return p;
}

Completed make_completed(CompletionStatus status, uint64_t text_bytes, uint64_t json_bytes,
                         DebuginfodOutcome debuginfod, std::string_view reason) {
  auto p = make_packet<Completed>();
  p.status = static_cast<uint32_t>(status);
  p.text_bytes = text_bytes;
  p.json_bytes = json_bytes;
  p.debuginfod = static_cast<uint32_t>(debuginfod);
  if (!is_failure(debuginfod)) return p;
  // Printable, whole UTF-8 characters, never empty: what decode_completed takes.
  std::string clean;
  for (char c : util::utf8_prefix(reason, sizeof p.debuginfod_reason - 1))
    clean += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  if (clean.empty()) clean = "(no reason given)";
  std::memcpy(p.debuginfod_reason, clean.data(), clean.size());
  return p;
}

Published make_published(std::string_view name) {
  auto p = make_packet<Published>();
  std::memcpy(p.name, name.data(), std::min(name.size(), sizeof p.name - 1));
  return p;
}

const char* reject_reason_name(RejectReason reason) {
  switch (reason) {
    case RejectReason::queue_full: return "queue full";
    case RejectReason::rate_limited: return "rate limited";
    case RejectReason::shutting_down: return "server shutting down";
    case RejectReason::internal: return "server error";
    case RejectReason::no_warm_collector: return "no warm collector";
  }
  return "unknown";
}

}  // namespace usercrash::ipc
