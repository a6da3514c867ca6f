#include "store/core_archive.h"

#include <unistd.h>
#include <zstd.h>

#include <memory>
#include <vector>

#include "util/file_io.h"

namespace usercrash::store {

namespace {

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Level 1: the stream is mostly zero pages and the report must not wait on
// compression; level 1 still shrinks zero runs by orders of magnitude.
constexpr int kLevel = 1;

}  // namespace

util::Result<CoreSaveResult> compress_core(std::span<const std::byte> head, int in_fd, int out_fd, uint64_t max_bytes) {
  std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx(ZSTD_createCCtx());
  if (!cctx) return util::fail("zstd: out of memory");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kLevel);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  std::vector<char> out(ZSTD_CStreamOutSize());
  CoreSaveResult result;

  auto feed = [&](const void* data, size_t size, ZSTD_EndDirective mode) -> util::Result<void> {
    ZSTD_inBuffer input{data, size, 0};
    for (;;) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      size_t left = ZSTD_compressStream2(cctx.get(), &output, &input, mode);
      if (ZSTD_isError(left)) return util::fail(std::string("zstd: ") + ZSTD_getErrorName(left));
      if (auto w = util::write_all(out_fd, std::string_view(out.data(), output.pos)); !w) return w;
      result.bytes_out += output.pos;
      bool done = mode == ZSTD_e_end ? left == 0 : input.pos == input.size;
      if (done) return {};
    }
  };

  size_t head_keep = static_cast<size_t>(std::min<uint64_t>(head.size(), max_bytes));
  if (auto r = feed(head.data(), head_keep, ZSTD_e_continue); !r) return std::unexpected(r.error());
  result.bytes_in = head_keep;
  result.truncated = head_keep < head.size();

  std::vector<char> in(ZSTD_CStreamInSize() * 8);
  while (!result.truncated) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(in.size(), max_bytes - result.bytes_in));
    if (want == 0) {
      // At the cap: is there more?
      char probe;
      ssize_t n = ::read(in_fd, &probe, 1);
      result.truncated = n > 0;
      break;
    }
    ssize_t n = ::read(in_fd, in.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno("read core stream");
    if (n == 0) break;
    if (auto r = feed(in.data(), static_cast<size_t>(n), ZSTD_e_continue); !r) return std::unexpected(r.error());
    result.bytes_in += static_cast<uint64_t>(n);
  }
  if (auto r = feed(nullptr, 0, ZSTD_e_end); !r) return std::unexpected(r.error());
  return result;
}

util::Result<uint64_t> decompress_core(int in_fd, int out_fd) {
  std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) return util::fail("zstd: out of memory");
  std::vector<char> in(ZSTD_DStreamInSize());
  std::vector<char> out(ZSTD_DStreamOutSize());
  uint64_t total = 0;
  size_t last = 0;
  for (;;) {
    ssize_t n = ::read(in_fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno("read saved core");
    if (n == 0) break;
    ZSTD_inBuffer input{in.data(), static_cast<size_t>(n), 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &output, &input);
      if (ZSTD_isError(last)) return util::fail(std::string("zstd: ") + ZSTD_getErrorName(last));
      if (auto w = util::write_all(out_fd, std::string_view(out.data(), output.pos)); !w) return std::unexpected(w.error());
      total += output.pos;
    }
  }
  if (last != 0) return util::fail("saved core is truncated");
  return total;
}

}  // namespace usercrash::store
