// Every malformed case of every packet, and round trips of the good ones.
#include "ipc/packet_codec.h"

#include <csignal>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace usercrash::ipc {
namespace {

template <typename P>
std::vector<std::byte> bytes_of(const P& packet) {
  auto view = std::as_bytes(std::span(&packet, 1));
  return {view.begin(), view.end()};
}

std::span<const std::byte> view(const std::vector<std::byte>& v) { return v; }

template <typename T>
util::Result<T> check_fails(const util::Result<T>& r, const std::string& needle) {
  EXPECT_FALSE(r.has_value()) << "expected an error mentioning '" << needle << "'";
  if (!r) {
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
  return r;
}

DumpRequest good_request() { return make_dump_request(1234, 1235, SIGSEGV, 1000, "crasher", kWantCoreFd); }

PerformDump good_perform(uint32_t fds = 2) {
  auto p = make_packet<PerformDump>();
  p.fd_count = fds;
  return p;
}

Completed good_completed() {
  auto p = make_packet<Completed>();
  p.status = static_cast<uint32_t>(CompletionStatus::partial);
  p.text_bytes = 10;
  p.json_bytes = 20;
  p.core_bytes = 1ULL << 40;
  return p;
}

Rejected good_rejected(RejectReason reason = RejectReason::queue_full) {
  auto p = make_packet<Rejected>();
  p.reason = static_cast<uint32_t>(reason);
  return p;
}

// --- peek_type --------------------------------------------------------------

TEST(PeekType, NamesEveryType) {
  EXPECT_EQ(peek_type(view(bytes_of(good_request()))).value(), PacketType::dump_request);
  EXPECT_EQ(peek_type(view(bytes_of(good_perform()))).value(), PacketType::perform_dump);
  EXPECT_EQ(peek_type(view(bytes_of(good_completed()))).value(), PacketType::completed);
  EXPECT_EQ(peek_type(view(bytes_of(make_published("usercrash_00")))).value(), PacketType::published);
  EXPECT_EQ(peek_type(view(bytes_of(good_rejected()))).value(), PacketType::rejected);
}

TEST(PeekType, EmptyAndShortPacketsAreErrors) {
  check_fails(peek_type({}), "short packet: 0 bytes");
  auto b = bytes_of(good_request());
  b.resize(sizeof(PacketHeader) - 1);
  check_fails(peek_type(view(b)), "short packet: 15 bytes");
}

TEST(PeekType, WrongMagicVersionSizeAndType) {
  auto p = good_request();
  p.header.magic = 0x31524356;
  check_fails(peek_type(view(bytes_of(p))), "bad magic 0x31524356");
  p = good_request();
  p.header.version = 2;
  check_fails(peek_type(view(bytes_of(p))), "protocol version 2");
  p = good_request();
  p.header.size = sizeof p + 1;
  check_fails(peek_type(view(bytes_of(p))), "header says 105 bytes, packet has 104");
  p = good_request();
  p.header.type = 99;
  check_fails(peek_type(view(bytes_of(p))), "unknown packet type 99");
  p.header.type = 0;
  check_fails(peek_type(view(bytes_of(p))), "unknown packet type 0");
}

TEST(PeekType, AHeaderAloneWithItsOwnSizeIsReadable) {
  // peek_type checks only the header; the decoders check the rest.
  auto p = make_packet<Rejected>();
  p.header.size = sizeof(PacketHeader);
  auto b = bytes_of(p);
  b.resize(sizeof(PacketHeader));
  EXPECT_EQ(peek_type(view(b)).value(), PacketType::rejected);
  check_fails(decode_rejected(view(b)), "rejected packet has 16 bytes, expected 24");
}

// --- malformed cases common to every decoder ------------------------------

// Runs one decoder over the malformed variants of its own good packet.
template <typename P, typename Decode>
void common_malformed_cases(const P& good, Decode decode, const std::string& type_name) {
  SCOPED_TRACE(type_name);
  check_fails(decode(std::span<const std::byte>{}), "short packet");
  auto b = bytes_of(good);
  b.resize(sizeof(PacketHeader) - 4);
  check_fails(decode(view(b)), "short packet");

  // Shorter than the struct but the header agrees: the size check catches it.
  P cut = good;
  cut.header.size = sizeof(P) - 8;
  b = bytes_of(cut);
  b.resize(sizeof(P) - 8);
  check_fails(decode(view(b)), type_name + " packet has " + std::to_string(sizeof(P) - 8) + " bytes");

  // Oversized, header agreeing, and larger than any packet may be.
  P big = good;
  big.header.size = kMaxPacketSize + 8;
  b = bytes_of(big);
  b.resize(kMaxPacketSize + 8);
  check_fails(decode(view(b)), "expected " + std::to_string(sizeof(P)));

  // Header size disagrees with the bytes actually there.
  P lying = good;
  lying.header.size = sizeof(P) + 4;
  check_fails(decode(view(bytes_of(lying))), "header says");
  b = bytes_of(good);
  b.resize(sizeof(P) + 4);
  check_fails(decode(view(b)), "header says");

  P magic = good;
  magic.header.magic = 0;
  check_fails(decode(view(bytes_of(magic))), "bad magic");

  P version = good;
  version.header.version = 0;
  check_fails(decode(view(bytes_of(version))), "protocol version 0");

  P unknown = good;
  unknown.header.type = 99;
  check_fails(decode(view(bytes_of(unknown))), "unknown packet type 99");

  P reserved = good;
  reserved.header.reserved = 1;
  check_fails(decode(view(bytes_of(reserved))), "reserved header field");
}

TEST(Decoders, CommonMalformedCases) {
  common_malformed_cases(good_request(), decode_dump_request, "dump request");
  common_malformed_cases(good_perform(), decode_perform_dump, "perform dump");
  common_malformed_cases(good_completed(), decode_completed, "completed");
  common_malformed_cases(make_published("usercrash_01"), decode_published, "published");
  common_malformed_cases(good_rejected(), decode_rejected, "rejected");
}

TEST(Decoders, WrongTypeForTheDecoder) {
  check_fails(decode_dump_request(view(bytes_of(good_perform()))),
              "expected a dump request packet, got a perform dump packet");
  check_fails(decode_perform_dump(view(bytes_of(good_request()))),
              "expected a perform dump packet, got a dump request packet");
  check_fails(decode_completed(view(bytes_of(good_rejected()))), "expected a completed packet, got a rejected packet");
  check_fails(decode_published(view(bytes_of(good_completed()))),
              "expected a published packet, got a completed packet");
  check_fails(decode_rejected(view(bytes_of(make_published("x")))),
              "expected a rejected packet, got a published packet");
}

TEST(Decoders, WrongTypeWithTheRightSizeIsStillRefused) {
  // A perform dump and a rejected packet have the same size: only the type tells them apart.
  static_assert(sizeof(PerformDump) == sizeof(Rejected));
  auto p = good_perform();
  p.header.type = static_cast<uint16_t>(PacketType::rejected);
  check_fails(decode_perform_dump(view(bytes_of(p))), "expected a perform dump packet, got a rejected packet");
}

// --- DumpRequest ------------------------------------------------------------

TEST(DumpRequestCodec, RoundTrip) {
  auto p = make_dump_request(4242, 4243, SIGABRT, 1000, "my prog", kWantCoreFd);
  auto d = decode_dump_request(view(bytes_of(p)));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->pid, 4242);
  EXPECT_EQ(d->tid, 4243);
  EXPECT_EQ(d->signal, SIGABRT);
  EXPECT_EQ(d->uid, 1000u);
  EXPECT_EQ(d->flags, kWantCoreFd);
  EXPECT_EQ(field_string(d->comm), "my prog");
}

TEST(DumpRequestCodec, LimitsThatAreAccepted) {
  EXPECT_TRUE(decode_dump_request(view(bytes_of(make_dump_request(1, 0, 1, 0, "", 0)))));
  EXPECT_TRUE(decode_dump_request(view(bytes_of(make_dump_request(1, 0, SIGRTMAX, 0, "", 0)))));
  // A comm as long as the field: the builder keeps the terminating NUL.
  auto p = make_dump_request(1, 0, SIGSEGV, 0, std::string(200, 'c'), 0);
  auto d = decode_dump_request(view(bytes_of(p)));
  ASSERT_TRUE(d);
  EXPECT_EQ(field_string(d->comm), std::string(kCommSize - 1, 'c'));
}

TEST(DumpRequestCodec, BadFields) {
  auto p = good_request();
  p.pid = 0;
  check_fails(decode_dump_request(view(bytes_of(p))), "bad pid 0");
  p.pid = -5;
  check_fails(decode_dump_request(view(bytes_of(p))), "bad pid -5");
  p = good_request();
  p.tid = -1;
  check_fails(decode_dump_request(view(bytes_of(p))), "bad tid -1");
  p = good_request();
  p.signal = 0;
  check_fails(decode_dump_request(view(bytes_of(p))), "bad signal 0");
  p.signal = SIGRTMAX + 1;
  check_fails(decode_dump_request(view(bytes_of(p))), "bad signal");
  p.signal = -11;
  check_fails(decode_dump_request(view(bytes_of(p))), "bad signal -11");
  p = good_request();
  p.flags = 0x4;
  check_fails(decode_dump_request(view(bytes_of(p))), "unknown flags 0x4");
  p.flags = kWantCoreFd | 0x80000000u;
  check_fails(decode_dump_request(view(bytes_of(p))), "unknown flags 0x80000001");
  p = good_request();
  p.reserved = 7;
  check_fails(decode_dump_request(view(bytes_of(p))), "reserved field is not zero");
  p = good_request();
  std::memset(p.comm, 'A', sizeof p.comm);
  check_fails(decode_dump_request(view(bytes_of(p))), "comm is not NUL-terminated");
}

// --- PerformDump ------------------------------------------------------------

TEST(PerformDumpCodec, RoundTripAndFdCount) {
  for (uint32_t n : {2u, 3u}) {
    auto d = decode_perform_dump(view(bytes_of(good_perform(n))));
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->fd_count, n);
  }
  for (uint32_t n : {0u, 1u, 4u, 0xffffffffu})
    check_fails(decode_perform_dump(view(bytes_of(good_perform(n)))), "bad fd count " + std::to_string(n));
  auto p = good_perform();
  p.reserved = 1;
  check_fails(decode_perform_dump(view(bytes_of(p))), "reserved field is not zero");
}

// --- Completed --------------------------------------------------------------

TEST(CompletedCodec, RoundTripAndStatus) {
  auto d = decode_completed(view(bytes_of(good_completed())));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->status, static_cast<uint32_t>(CompletionStatus::partial));
  EXPECT_EQ(d->text_bytes, 10u);
  EXPECT_EQ(d->json_bytes, 20u);
  EXPECT_EQ(d->core_bytes, 1ULL << 40);
  auto p = good_completed();
  p.status = static_cast<uint32_t>(CompletionStatus::ok);
  EXPECT_TRUE(decode_completed(view(bytes_of(p))));
  p.status = 2;
  check_fails(decode_completed(view(bytes_of(p))), "bad completion status 2");
  p.status = 0xffffffffu;
  check_fails(decode_completed(view(bytes_of(p))), "bad completion status 4294967295");
}

// Issue 11: the client says what its fetch from debuginfod came to, and why
// it failed; the server logs that reason, so it is checked like the rest.
TEST(CompletedCodec, DebuginfodOutcomeAndReason) {
  auto d = decode_completed(view(bytes_of(good_completed())));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->debuginfod, static_cast<uint32_t>(DebuginfodOutcome::not_asked));
  auto down = make_completed(CompletionStatus::ok, 1, 2, DebuginfodOutcome::failed,
                             "debuginfod (http://127.0.0.1:9): Connection refused");
  d = decode_completed(view(bytes_of(down)));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->debuginfod, static_cast<uint32_t>(DebuginfodOutcome::failed));
  EXPECT_EQ(field_string(d->debuginfod_reason), "debuginfod (http://127.0.0.1:9): Connection refused");
  EXPECT_EQ(d->text_bytes, 1u);
  EXPECT_EQ(d->json_bytes, 2u);
  for (auto o : {DebuginfodOutcome::timed_out, DebuginfodOutcome::paused})
    EXPECT_TRUE(decode_completed(view(bytes_of(make_completed(CompletionStatus::ok, 0, 0, o, "why")))));
  // Answered or not asked: no reason travels.
  auto answered = make_completed(CompletionStatus::ok, 0, 0, DebuginfodOutcome::answered, "ignored");
  EXPECT_EQ(field_string(answered.debuginfod_reason), "");
  EXPECT_TRUE(decode_completed(view(bytes_of(answered))));
  // A failure always says why, cut to the field on a character boundary,
  // control bytes replaced.
  EXPECT_EQ(field_string(make_completed(CompletionStatus::ok, 0, 0, DebuginfodOutcome::failed, "").debuginfod_reason),
            "(no reason given)");
  std::string long_reason(kReasonSize - 2, 'x');
  long_reason += "\xc3\xa9";  // é across the last byte
  auto cut = make_completed(CompletionStatus::ok, 0, 0, DebuginfodOutcome::failed, long_reason);
  EXPECT_EQ(field_string(cut.debuginfod_reason), std::string(kReasonSize - 2, 'x'));
  EXPECT_TRUE(decode_completed(view(bytes_of(cut))));
  auto nl = make_completed(CompletionStatus::ok, 0, 0, DebuginfodOutcome::failed, "a\nb\x1b[31m");
  EXPECT_EQ(field_string(nl.debuginfod_reason), "a?b?[31m");

  // Malformed.
  auto p = down;
  p.debuginfod = 5;
  check_fails(decode_completed(view(bytes_of(p))), "bad debuginfod outcome 5");
  p = down;
  std::memset(p.debuginfod_reason, 'r', sizeof p.debuginfod_reason);
  check_fails(decode_completed(view(bytes_of(p))), "debuginfod reason is not NUL-terminated");
  p = down;
  std::memset(p.debuginfod_reason, 0, sizeof p.debuginfod_reason);
  check_fails(decode_completed(view(bytes_of(p))), "debuginfod failure without a reason");
  p = down;
  p.debuginfod = static_cast<uint32_t>(DebuginfodOutcome::answered);
  check_fails(decode_completed(view(bytes_of(p))), "debuginfod reason without a failure");
  p = down;
  p.debuginfod_reason[3] = '\n';
  check_fails(decode_completed(view(bytes_of(p))), "debuginfod reason has a control byte");
  p = down;
  p.debuginfod_reason[3] = 0x7f;
  check_fails(decode_completed(view(bytes_of(p))), "debuginfod reason has a control byte");
}

// --- Published --------------------------------------------------------------

TEST(PublishedCodec, RoundTripAndName) {
  auto d = decode_published(view(bytes_of(make_published("usercrash_42"))));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(field_string(d->name), "usercrash_42");
  auto p = make_published("x");
  std::memset(p.name, 'n', sizeof p.name);
  check_fails(decode_published(view(bytes_of(p))), "name is not NUL-terminated");
  auto longest = make_published(std::string(100, 'z'));
  auto l = decode_published(view(bytes_of(longest)));
  ASSERT_TRUE(l);
  EXPECT_EQ(field_string(l->name).size(), kNameSize - 1);
}

// --- Rejected ---------------------------------------------------------------

TEST(RejectedCodec, RoundTripAndReason) {
  for (auto reason : {RejectReason::queue_full, RejectReason::rate_limited, RejectReason::shutting_down,
                      RejectReason::internal, RejectReason::no_warm_collector}) {
    auto d = decode_rejected(view(bytes_of(good_rejected(reason))));
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->reason, static_cast<uint32_t>(reason));
    EXPECT_STRNE(reject_reason_name(reason), "unknown");
  }
  for (uint32_t bad : {0u, 6u, 0xffffffffu}) {
    auto p = good_rejected();
    p.reason = bad;
    check_fails(decode_rejected(view(bytes_of(p))), "bad reject reason " + std::to_string(bad));
  }
  auto p = good_rejected();
  p.reserved = 3;
  check_fails(decode_rejected(view(bytes_of(p))), "reserved field is not zero");
  EXPECT_STREQ(reject_reason_name(static_cast<RejectReason>(77)), "unknown");
}

TEST(MakePacket, HeaderIsFilledAndTheRestZeroed) {
  auto p = make_packet<Completed>();
  EXPECT_EQ(p.header.magic, kMagic);
  EXPECT_EQ(p.header.version, kVersion);
  EXPECT_EQ(p.header.type, static_cast<uint16_t>(PacketType::completed));
  EXPECT_EQ(p.header.size, sizeof(Completed));
  EXPECT_EQ(p.header.reserved, 0u);
  EXPECT_EQ(p.text_bytes + p.json_bytes + p.core_bytes + p.status + p.debuginfod, 0u);
  EXPECT_EQ(p.debuginfod_reason[0], '\0');
}

// Issue 9.8: any peer may ask the server how it stands.
TEST(Decoders, StatusRequestAndReply) {
  auto request = make_packet<StatusRequest>();
  EXPECT_EQ(peek_type(view(bytes_of(request))).value(), PacketType::status_request);
  EXPECT_TRUE(decode_status_request(view(bytes_of(request))));
  request.reserved[1] = 1;
  EXPECT_FALSE(decode_status_request(view(bytes_of(request))));

  auto reply = make_packet<StatusReply>();
  reply.server_pid = 42;
  reply.flags = kKernelSocketListening | kStatusDetails;
  reply.completed = 7;
  auto decoded = decode_status_reply(view(bytes_of(reply)));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->completed, 7u);
  reply.flags = 1u << 5;
  EXPECT_FALSE(decode_status_reply(view(bytes_of(reply))));
  reply.flags = 0;
  reply.server_pid = 0;
  EXPECT_FALSE(decode_status_reply(view(bytes_of(reply))));
  EXPECT_FALSE(decode_status_reply(view(bytes_of(request))));
}

// --- the warm collector's hand-off ------------------------------------------

TEST(HandOffCodec, RoundTripKeepsEveryArgument) {
  std::vector<std::string> args = {
      "/usr/sbin/usercrash_c", "-k3:77:1000:1000:1700000000:1:0", "77", "-odd comm", "11", ""};
  auto p = make_hand_off(args, kHandOffPidfd);
  ASSERT_TRUE(p) << p.error().message;
  auto d = decode_hand_off(view(bytes_of(*p)));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->flags, kHandOffPidfd);
  EXPECT_EQ(hand_off_args(*d), args);
  EXPECT_EQ(peek_type(view(bytes_of(*p))).value(), PacketType::hand_off);
  common_malformed_cases(*p, decode_hand_off, "hand-off");
}

TEST(HandOffCodec, WhatDoesNotFitIsRefusedWhenMade) {
  check_fails(make_hand_off({}, 0), "0 arguments");
  check_fails(make_hand_off(std::vector<std::string>(kMaxHandOffArgs + 1, "x"), 0), "65 arguments");
  check_fails(make_hand_off({std::string(kHandOffArgsSize, 'a')}, 0), "more than the 480 bytes");
  // Exactly full: the last string's NUL is the last byte.
  EXPECT_TRUE(make_hand_off({std::string(kHandOffArgsSize - 1, 'a')}, 0));
  check_fails(make_hand_off({std::string("a\0b", 3)}, 0), "NUL byte");
}

TEST(HandOffCodec, BadFieldsAreRefusedWhenRead) {
  auto good = make_hand_off({"usercrash_c", "1", "x", "11"}, 0).value();
  auto p = good;
  p.flags = 4;
  check_fails(decode_hand_off(view(bytes_of(p))), "unknown flags 0x4");
  p = good;
  p.argc = 0;
  check_fails(decode_hand_off(view(bytes_of(p))), "bad argument count 0");
  p.argc = kMaxHandOffArgs + 1;
  check_fails(decode_hand_off(view(bytes_of(p))), "bad argument count 65");
  p = good;
  p.argc = 5;  // one more string than there is: the padding's NULs make it ""
  EXPECT_EQ(hand_off_args(decode_hand_off(view(bytes_of(p))).value()).back(), "");
  p = good;
  std::memset(p.args, 'a', kHandOffArgsSize);
  check_fails(decode_hand_off(view(bytes_of(p))), "argument 0 is not NUL-terminated");
  p = good;
  p.args[kHandOffArgsSize - 1] = 'z';
  check_fails(decode_hand_off(view(bytes_of(p))), "bytes past the last argument");
}

TEST(HandOffCodec, TakenGoAndReady) {
  auto taken = make_packet<HandOffTaken>();
  taken.collector_pid = 42;
  EXPECT_EQ(decode_hand_off_taken(view(bytes_of(taken))).value().collector_pid, 42);
  common_malformed_cases(taken, decode_hand_off_taken, "hand-off taken");
  taken.collector_pid = 0;
  check_fails(decode_hand_off_taken(view(bytes_of(taken))), "bad pid 0");
  auto go = make_packet<HandOffGo>();
  EXPECT_TRUE(decode_hand_off_go(view(bytes_of(go))));
  common_malformed_cases(go, decode_hand_off_go, "hand-off go");
  go.reserved[1] = 1;
  check_fails(decode_hand_off_go(view(bytes_of(go))), "reserved field is not zero");
  auto ready = make_packet<CollectorReady>();
  ready.pid = 7;
  EXPECT_EQ(decode_collector_ready(view(bytes_of(ready))).value().pid, 7);
  common_malformed_cases(ready, decode_collector_ready, "collector ready");
  ready.pid = -1;
  check_fails(decode_collector_ready(view(bytes_of(ready))), "bad pid -1");
}

}  // namespace
}  // namespace usercrash::ipc
