#include "engine/preopened_target.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "unit/fake_target.h"
#include "unit/test_support.h"

namespace usercrash::engine {
namespace {

using util::UniqueFd;

// A fake whose mapped files are real files, counting the opens. A file it
// cannot open is also noted in its problems, as a core file's target does.
class FileTarget : public test::FakeTarget {
 public:
  util::Result<UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override {
    ++opens_;
    int fd = ::open(mapping.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      facts_mut().problems.push_back("module " + mapping.path + ": not found");
      return util::fail_errno(mapping.path);
    }
    return UniqueFd(fd);
  }
  std::vector<int> fds() const override { return {123}; }
  int opens_ = 0;
};

ino_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

class PreopenedTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"prog", "libone.so", "libtwo.so", "data"}) test::write_file(dir_ / name, name);
  }
  test::TempDir dir_;
  FileTarget inner_;
};

TEST_F(PreopenedTargetTest, OpensEachExecutableFileOnceAndThenOnlyDuplicates) {
  inner_.map(0x1000, 0x1000, "r--p", dir_ / "prog");
  inner_.map(0x2000, 0x1000, "r-xp", dir_ / "prog");
  inner_.map(0x10000, 0x1000, "r-xp", dir_ / "libone.so");
  inner_.map(0x20000, 0x1000, "rw-p", dir_ / "data");  // no code: not a module
  inner_.map(0x30000, 0x1000, "r-xp", "[vdso]");
  PreopenedTarget opened(inner_);
  EXPECT_EQ(inner_.opens_, 2);
  EXPECT_EQ(opened.files_tried(), 2u);

  // The unwinder asks with a module's first mapping, not always the executable one.
  auto a = opened.open_mapped_file(inner_.mappings()[0]);
  auto b = opened.open_mapped_file(inner_.mappings()[1]);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_NE(a->get(), b->get());
  EXPECT_EQ(inode_of(a->get()), inode_of(b->get()));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "prog").c_str(), &st), 0);
  EXPECT_EQ(inode_of(a->get()), st.st_ino);
  EXPECT_FALSE(opened.open_mapped_file(inner_.mappings()[3]));  // data: never opened
  EXPECT_EQ(inner_.opens_, 2);                                  // asking opened nothing more

  // Its fds: the inner target's and the two files.
  auto fds = opened.fds();
  EXPECT_EQ(fds.size(), 3u);
  EXPECT_EQ(fds[0], 123);
}

TEST_F(PreopenedTargetTest, AFileThatCannotBeOpenedKeepsItsReason) {
  inner_.map(0x1000, 0x1000, "r-xp", dir_ / "gone");
  PreopenedTarget opened(inner_);
  auto fd = opened.open_mapped_file(inner_.mappings()[0]);
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().message.find("No such file"), std::string::npos) << fd.error().message;
}

// What the inner target notes while its files are opened, and later while
// the engine reads through it, is in the facts the engine reports (they
// were once copied before the opens, which lost why a core's module file
// was not taken).
TEST_F(PreopenedTargetTest, ProblemsTheInnerTargetNotesAtAnyTimeAreKept) {
  inner_.facts_mut().problems.push_back("from the start");
  inner_.map(0x1000, 0x1000, "r-xp", dir_ / "gone");
  PreopenedTarget opened(inner_);
  inner_.facts_mut().problems.push_back("while reading");
  inner_.facts_mut().truncated.push_back("cut while reading");
  const auto& facts = opened.facts();
  ASSERT_EQ(facts.problems.size(), 3u);
  EXPECT_EQ(facts.problems[0], "from the start");
  EXPECT_EQ(facts.problems[1], "module " + (dir_ / "gone") + ": not found");
  EXPECT_EQ(facts.problems[2], "while reading");
  ASSERT_EQ(facts.truncated.size(), 1u);
  EXPECT_EQ(facts.truncated[0], "cut while reading");
  EXPECT_EQ(opened.facts().problems.size(), 3u);  // asked again: nothing twice
}

TEST_F(PreopenedTargetTest, PastTheCapTheThreadsCodeComesFirstAndTheCutIsSaid) {
  inner_.map(0x1000, 0x1000, "r-xp", dir_ / "prog");
  inner_.map(0x10000, 0x1000, "r-xp", dir_ / "libone.so");
  inner_.map(0x20000, 0x1000, "r-xp", dir_ / "libtwo.so");
  inner_.add_thread(7).set(Reg::rip, 0x20010);  // the crash is in libtwo
  PreopenedTarget opened(inner_, 1);
  EXPECT_EQ(inner_.opens_, 1);
  EXPECT_TRUE(opened.open_mapped_file(inner_.mappings()[2]));
  auto cut = opened.open_mapped_file(inner_.mappings()[0]);
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("module cap"), std::string::npos);
  ASSERT_EQ(opened.facts().truncated.size(), 1u);
  EXPECT_NE(opened.facts().truncated[0].find("opened the first 1 of 3 module files"), std::string::npos);
}

}  // namespace
}  // namespace usercrash::engine
