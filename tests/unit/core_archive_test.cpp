// Saved cores: zstd round trip, the size cap, and damaged archives.
#include "store/core_archive.h"

#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::store {
namespace {

using util::UniqueFd;

UniqueFd memfd_with(const std::string& content) {
  UniqueFd fd(::memfd_create("core", MFD_CLOEXEC));
  if (!content.empty()) {
    EXPECT_EQ(::write(fd.get(), content.data(), content.size()), static_cast<ssize_t>(content.size()));
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string contents(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

// A core-like stream: some noise, long zero runs.
std::string sample_core(size_t size) {
  std::string s(size, '\0');
  std::mt19937 rng(42);
  for (size_t i = 0; i < size; i += 4096)
    for (size_t k = 0; k < 256 && i + k < size; ++k) s[i + k] = static_cast<char>(rng());
  return s;
}

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

// `head` then the rest of `in_fd` through a CoreWriter, as usercrash_c feeds
// it: reading stops once it wants no more.
util::Result<CoreSaveResult> compress_core(std::span<const std::byte> head, int in_fd, int out_fd, uint64_t max_bytes) {
  CoreWriter writer(out_fd, max_bytes);
  if (auto r = writer.add(head); !r) return std::unexpected(r.error());
  std::vector<std::byte> in(1 << 16);
  while (!writer.full()) {
    ssize_t n = ::read(in_fd, in.data(), in.size());
    if (n <= 0) break;
    if (auto r = writer.add(std::span(in.data(), static_cast<size_t>(n))); !r) return std::unexpected(r.error());
  }
  return writer.finish();
}

TEST(CoreArchive, RoundTripOfHeadAndStream) {
  std::string core = sample_core(3 << 20);
  std::string head = core.substr(0, 10000);
  UniqueFd in = memfd_with(core.substr(head.size()));
  UniqueFd out = memfd_with("");
  auto r = compress_core(as_bytes(head), in.get(), out.get(), 1ULL << 30);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bytes_in, core.size());
  EXPECT_FALSE(r->truncated);
  EXPECT_GT(r->bytes_out, 0u);
  EXPECT_LT(r->bytes_out, core.size() / 4) << "zero runs must compress";
  EXPECT_EQ(contents(out.get()).size(), r->bytes_out);

  ::lseek(out.get(), 0, SEEK_SET);
  UniqueFd back = memfd_with("");
  auto d = decompress_core(out.get(), back.get());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, core.size());
  EXPECT_TRUE(contents(back.get()) == core);
}

TEST(CoreArchive, EmptyStreamRoundTrips) {
  UniqueFd in = memfd_with("");
  UniqueFd out = memfd_with("");
  auto r = compress_core({}, in.get(), out.get(), 4096);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes_in, 0u);
  EXPECT_FALSE(r->truncated);
  ::lseek(out.get(), 0, SEEK_SET);
  UniqueFd back = memfd_with("");
  auto d = decompress_core(out.get(), back.get());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, 0u);
}

TEST(CoreArchive, CapOnTheStreamSetsTruncated) {
  std::string core = sample_core(200000);
  UniqueFd in = memfd_with(core.substr(100));
  UniqueFd out = memfd_with("");
  auto r = compress_core(as_bytes(core.substr(0, 100)), in.get(), out.get(), 50000);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bytes_in, 50000u);
  EXPECT_TRUE(r->truncated);
  ::lseek(out.get(), 0, SEEK_SET);
  UniqueFd back = memfd_with("");
  auto d = decompress_core(out.get(), back.get());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(contents(back.get()) == core.substr(0, 50000)) << "the kept prefix is still a valid archive";
}

TEST(CoreArchive, CapInsideTheHead) {
  std::string core = sample_core(9000);
  UniqueFd in = memfd_with("more to come");
  UniqueFd out = memfd_with("");
  auto r = compress_core(as_bytes(core), in.get(), out.get(), 4096);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes_in, 4096u);
  EXPECT_TRUE(r->truncated);
  ::lseek(out.get(), 0, SEEK_SET);
  UniqueFd back = memfd_with("");
  ASSERT_TRUE(decompress_core(out.get(), back.get()));
  EXPECT_TRUE(contents(back.get()) == core.substr(0, 4096));
}

TEST(CoreArchive, StreamExactlyAtTheCapIsNotTruncated) {
  std::string core = sample_core(8192);
  UniqueFd in = memfd_with(core);
  UniqueFd out = memfd_with("");
  auto r = compress_core({}, in.get(), out.get(), 8192);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes_in, 8192u);
  EXPECT_FALSE(r->truncated);
}

TEST(CoreArchive, TruncatedArchiveIsAnError) {
  std::string core = sample_core(1 << 20);
  UniqueFd in = memfd_with(core);
  UniqueFd out = memfd_with("");
  ASSERT_TRUE(compress_core({}, in.get(), out.get(), 1ULL << 30));
  std::string archive = contents(out.get());
  ASSERT_GT(archive.size(), 100u);
  for (size_t keep : {archive.size() - 1, archive.size() / 2, size_t{10}}) {
    UniqueFd cut = memfd_with(archive.substr(0, keep));
    UniqueFd back = memfd_with("");
    auto d = decompress_core(cut.get(), back.get());
    ASSERT_FALSE(d) << "kept " << keep << " of " << archive.size();
    EXPECT_NE(d.error().message.find("truncated"), std::string::npos) << d.error().message;
  }
}

TEST(CoreArchive, GarbageIsAnError) {
  UniqueFd garbage = memfd_with("this is not a zstd frame at all, just text");
  UniqueFd back = memfd_with("");
  auto d = decompress_core(garbage.get(), back.get());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("zstd"), std::string::npos) << d.error().message;
}

TEST(CoreArchive, CorruptedPayloadFailsTheChecksum) {
  std::string core = sample_core(1 << 16);
  UniqueFd in = memfd_with(core);
  UniqueFd out = memfd_with("");
  ASSERT_TRUE(compress_core({}, in.get(), out.get(), 1ULL << 30));
  std::string archive = contents(out.get());
  archive[archive.size() - 2] ^= 0x5a;  // inside the 4-byte content checksum
  UniqueFd bad = memfd_with(archive);
  UniqueFd back = memfd_with("");
  EXPECT_FALSE(decompress_core(bad.get(), back.get()));
}

}  // namespace
}  // namespace usercrash::store
