// The one sparse writer (saved cores decompressed, core files written as the
// kernel would): zero pages become holes, the size counts them, the bytes
// read back the same, and a pipe gets the zeros.
#include "util/sparse_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/unique_fd.h"

namespace usercrash::util {
namespace {

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

TEST(SparseWriter, ZeroPagesBecomeHolesAndTheSizeCountsThem) {
  test::TempDir dir;
  std::string data = "head" + std::string(64 * 4096, '\0') + "middle" + std::string(3 * 4096, '\0');
  UniqueFd out(::open((dir / "core").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  SparseWriter writer(out.get());
  // In uneven pieces, as reads from a pipe arrive.
  for (size_t at = 0; at < data.size(); at += 777) ASSERT_TRUE(writer.write(bytes(data.substr(at, 777))));
  auto written = writer.finish();
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(*written, data.size());
  EXPECT_EQ(test::read_file(dir / "core"), data);
  struct stat st {};
  ASSERT_EQ(::fstat(out.get(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), data.size());
  EXPECT_LT(static_cast<size_t>(st.st_blocks) * 512, data.size() / 4) << "the zero pages take no room";
}

TEST(SparseWriter, APipeGetsTheZeros) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  std::string data = std::string(4096, '\0') + "x";
  SparseWriter writer(write_end.get());
  ASSERT_TRUE(writer.write(bytes(data)));
  ASSERT_TRUE(writer.finish());
  write_end.reset();
  std::string got;
  char buffer[8192];
  for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;) got.append(buffer, static_cast<size_t>(n));
  EXPECT_EQ(got, data);
}

TEST(SparseWriter, AFailedWriteIsAWritingError) {
  UniqueFd closed(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  SparseWriter writer(closed.get());
  auto w = writer.write(bytes(std::string(2 << 20, 'x')));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().kind, ErrorKind::writing);
}

}  // namespace
}  // namespace usercrash::util
