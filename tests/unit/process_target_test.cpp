// A process read through /proc/<pid>: module files opened through root/<path>
// when map_files/ does not name the mapping (no CAP_SYS_ADMIN) are the very
// file mapped, device and inode both.
#include "engine/process_target.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::engine {
namespace {

using test::TempDir;

// This very process, its constructor reachable.
class SelfTarget : public ProcessTarget {
 public:
  explicit SelfTarget(proc::ProcessDir dir) : ProcessTarget(std::move(dir), ProcessLimits{}) {}
  std::string kind() const override { return "self"; }
  const std::vector<ThreadRegisters>& threads() const override { return threads_; }
  std::optional<CoreSiginfo> signal() const override { return std::nullopt; }

 private:
  std::vector<ThreadRegisters> threads_;
};

// A mapping of `path` as /proc/<pid>/maps would list it, at an address no
// mapping has, so that map_files/ cannot name it and root/<path> is used.
proc::MapEntry mapping_of(const std::string& path, const struct stat& st) {
  proc::MapEntry m;
  m.start = 0x1000;
  m.end = 0x2000;
  m.perms = "r--p";
  m.device = fmt::format("{:02x}:{:02x}", major(st.st_dev), minor(st.st_dev));
  m.inode = st.st_ino;
  m.path = path;
  return m;
}

TEST(ProcessTarget, RootPathFallbackChecksDeviceAndInode) {
  TempDir tmp;
  std::string path = tmp / "module";
  test::write_file(path,
                   "\x7f"
                   "ELF",
                   0600);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  auto dir = proc::ProcessDir::open(::getpid());
  ASSERT_TRUE(dir) << dir.error().message;
  SelfTarget target(std::move(*dir));

  proc::MapEntry same = mapping_of(path, st);
  auto opened = target.open_mapped_file(same);
  ASSERT_TRUE(opened) << opened.error().message;
  struct stat got {};
  ASSERT_EQ(::fstat(opened->get(), &got), 0);
  EXPECT_EQ(got.st_ino, st.st_ino);
  EXPECT_EQ(got.st_dev, st.st_dev);

  // The same inode number on another device is another file.
  proc::MapEntry other_device = same;
  other_device.device = fmt::format("{:02x}:{:02x}", major(st.st_dev) + 1, minor(st.st_dev));
  auto refused = target.open_mapped_file(other_device);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("replaced"), std::string::npos) << refused.error().message;

  proc::MapEntry other_inode = same;
  other_inode.inode = st.st_ino + 1;
  EXPECT_FALSE(target.open_mapped_file(other_inode));

  // Not a regular file: refused before anything is opened for reading.
  proc::MapEntry fifo = same;
  std::string fifo_path = tmp / "fifo";
  ASSERT_EQ(::mkfifo(fifo_path.c_str(), 0600), 0);
  fifo.path = fifo_path;
  auto not_regular = target.open_mapped_file(fifo);
  ASSERT_FALSE(not_regular);
  EXPECT_NE(not_regular.error().message.find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace usercrash::engine
