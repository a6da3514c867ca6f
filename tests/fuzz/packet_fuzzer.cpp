// Every packet decoder and peek_type on arbitrary bytes: no crash, and what a
// decoder accepts really is a well-formed packet of its type.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz/fuzz_check.h"
#include "ipc/packet_codec.h"

namespace {

using namespace usercrash::ipc;

template <typename P>
void check_accepted(const usercrash::util::Result<P>& decoded, std::span<const std::byte> bytes,
                    const usercrash::util::Result<PacketType>& type) {
  if (!decoded) {
    FUZZ_CHECK(!decoded.error().message.empty());
    return;
  }
  FUZZ_CHECK(type && *type == P::kType);
  FUZZ_CHECK(bytes.size() == sizeof(P));
  FUZZ_CHECK(std::memcmp(&*decoded, bytes.data(), sizeof(P)) == 0);
  FUZZ_CHECK(decoded->header.magic == kMagic && decoded->header.version == kVersion);
  FUZZ_CHECK(decoded->header.size == sizeof(P) && decoded->header.reserved == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  auto type = peek_type(bytes);
  if (type) FUZZ_CHECK(size >= sizeof(PacketHeader));

  auto request = decode_dump_request(bytes);
  check_accepted(request, bytes, type);
  if (request) {
    FUZZ_CHECK(request->pid > 0 && request->tid >= 0 && request->signal >= 1 && request->signal <= 64);
    FUZZ_CHECK((request->flags & ~(kWantCoreFd | kOwnerMayRead)) == 0);
    FUZZ_CHECK(field_string(request->comm).size() < kCommSize);
  }
  auto perform = decode_perform_dump(bytes);
  check_accepted(perform, bytes, type);
  if (perform) FUZZ_CHECK(perform->fd_count >= 2 && perform->fd_count <= kMaxReportFds);
  auto completed = decode_completed(bytes);
  check_accepted(completed, bytes, type);
  if (completed) FUZZ_CHECK(completed->status <= 1);
  auto published = decode_published(bytes);
  check_accepted(published, bytes, type);
  if (published) FUZZ_CHECK(field_string(published->name).size() < kNameSize);
  auto rejected = decode_rejected(bytes);
  check_accepted(rejected, bytes, type);
  if (rejected) FUZZ_CHECK(reject_reason_name(static_cast<RejectReason>(rejected->reason)) != std::string("unknown"));

  // At most one decoder accepts any input.
  int accepted = !!request + !!perform + !!completed + !!published + !!rejected;
  FUZZ_CHECK(accepted <= 1);
  return 0;
}
