#include "store/core_archive.h"

#include <unistd.h>

#include <fmt/format.h>
#include <zstd.h>

#include <span>
#include <vector>

#include "util/file_io.h"
#include "util/sparse_writer.h"

namespace usercrash::store {

namespace {

struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Level 1: the stream is mostly zero pages and the report must not wait on
// compression; level 1 still shrinks zero runs by orders of magnitude.
constexpr int kLevel = 1;

}  // namespace

struct CoreWriter::Impl {
  int out_fd;
  uint64_t max_bytes;
  ZSTD_CCtx* cctx = nullptr;
  std::vector<char> out;
  CoreSaveResult result;

  util::Result<void> feed(const void* data, size_t size, ZSTD_EndDirective mode) {
    ZSTD_inBuffer input{data, size, 0};
    for (;;) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      size_t left = ZSTD_compressStream2(cctx, &output, &input, mode);
      if (ZSTD_isError(left)) return util::fail(std::string("zstd: ") + ZSTD_getErrorName(left));
      if (auto w = util::write_all(out_fd, std::string_view(out.data(), output.pos)); !w) return w;
      result.bytes_out += output.pos;
      bool done = mode == ZSTD_e_end ? left == 0 : input.pos == input.size;
      if (done) return {};
    }
  }
};

CoreWriter::CoreWriter(int out_fd, uint64_t max_bytes) : impl_(std::make_unique<Impl>()) {
  impl_->out_fd = out_fd;
  impl_->max_bytes = max_bytes;
  impl_->cctx = ZSTD_createCCtx();
  if (impl_->cctx) {
    ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_compressionLevel, kLevel);
    ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_checksumFlag, 1);
  }
  impl_->out.resize(ZSTD_CStreamOutSize());
}

CoreWriter::~CoreWriter() {
  if (impl_->cctx) ZSTD_freeCCtx(impl_->cctx);
}

util::Result<void> CoreWriter::add(std::span<const std::byte> bytes) {
  if (!impl_->cctx) return util::fail("zstd: out of memory");
  uint64_t room = impl_->max_bytes - impl_->result.bytes_in;
  size_t keep = static_cast<size_t>(std::min<uint64_t>(room, bytes.size()));
  if (keep < bytes.size()) impl_->result.truncated = true;
  if (keep == 0) return {};
  if (auto r = impl_->feed(bytes.data(), keep, ZSTD_e_continue); !r) return r;
  impl_->result.bytes_in += keep;
  return {};
}

bool CoreWriter::full() const { return impl_->result.truncated; }

util::Result<CoreSaveResult> CoreWriter::finish() {
  if (!impl_->cctx) return util::fail("zstd: out of memory");
  if (auto r = impl_->feed(nullptr, 0, ZSTD_e_end); !r) return std::unexpected(r.error());
  return impl_->result;
}

util::Result<uint64_t> decompress_core(int in_fd, int out_fd, uint64_t max_bytes) {
  std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) return util::fail("zstd: out of memory");
  std::vector<char> in(ZSTD_DStreamInSize());
  std::vector<char> out(ZSTD_DStreamOutSize());
  util::SparseWriter sparse(out_fd);
  size_t last = 0;
  for (;;) {
    ssize_t n = ::read(in_fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno(util::ErrorKind::reading, "read saved core");
    if (n == 0) break;
    ZSTD_inBuffer input{in.data(), static_cast<size_t>(n), 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &output, &input);
      if (ZSTD_isError(last)) return util::fail(std::string("zstd: ") + ZSTD_getErrorName(last));
      if (output.pos > max_bytes - sparse.size())
        return util::fail(fmt::format("saved core decompresses to more than {} bytes; not unpacking it", max_bytes),
                          EFBIG);
      if (auto w = sparse.write(std::as_bytes(std::span(out.data(), output.pos))); !w)
        return std::unexpected(w.error());
    }
  }
  if (last != 0) return util::fail("saved core is truncated");
  return sparse.finish();
}

}  // namespace usercrash::store
