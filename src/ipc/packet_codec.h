// Building packets and checking every field of a received one.
#pragma once

#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/protocol.h"
#include "util/result.h"

namespace usercrash::ipc {

template <Packet P>
P make_packet() {
  P p;
  std::memset(&p, 0, sizeof p);
  p.header.magic = kMagic;
  p.header.version = kVersion;
  p.header.type = static_cast<uint16_t>(P::kType);
  p.header.size = sizeof(P);
  return p;
}

// Reads the header of any packet: magic, version and size must hold.
util::Result<PacketType> peek_type(std::span<const std::byte> bytes);

// Decoders: the exact size, magic, version and type, reserved fields zero, and
// each field in range; anything else is an error naming what was wrong.
util::Result<DumpRequest> decode_dump_request(std::span<const std::byte> bytes);
util::Result<PerformDump> decode_perform_dump(std::span<const std::byte> bytes);
util::Result<Completed> decode_completed(std::span<const std::byte> bytes);
util::Result<Published> decode_published(std::span<const std::byte> bytes);
util::Result<Rejected> decode_rejected(std::span<const std::byte> bytes);
util::Result<StatusRequest> decode_status_request(std::span<const std::byte> bytes);
util::Result<StatusReply> decode_status_reply(std::span<const std::byte> bytes);
util::Result<HandOff> decode_hand_off(std::span<const std::byte> bytes);
util::Result<HandOffTaken> decode_hand_off_taken(std::span<const std::byte> bytes);
util::Result<HandOffGo> decode_hand_off_go(std::span<const std::byte> bytes);
util::Result<CollectorReady> decode_collector_ready(std::span<const std::byte> bytes);

// A command line as a hand-off; fails when it does not fit (the caller then
// collects by itself).
util::Result<HandOff> make_hand_off(const std::vector<std::string>& args, uint32_t flags);
// The strings of a decoded hand-off.
std::vector<std::string> hand_off_args(const HandOff& p);

DumpRequest make_dump_request(int pid, int tid, int signal, uint32_t uid, std::string_view comm, uint32_t flags);
// A reason longer than the field is cut (on a UTF-8 boundary), a control
// byte becomes '?'; the reason is left out unless `debuginfod` is a failure.
Completed make_completed(CompletionStatus status, uint64_t text_bytes, uint64_t json_bytes,
                         DebuginfodOutcome debuginfod = DebuginfodOutcome::not_asked, std::string_view reason = {});
Published make_published(std::string_view name);

// The NUL-terminated string in a fixed field (decoders have checked the NUL).
template <size_t N>
std::string field_string(const char (&field)[N]) {
  return std::string(field, strnlen(field, N));
}

const char* reject_reason_name(RejectReason reason);

}  // namespace usercrash::ipc
