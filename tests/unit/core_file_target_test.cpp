// A core file on disk as a Target: the heads of real cores, and hostile files.
#include "engine/core_file_target.h"

#include <elf.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::engine {
namespace {

using test::TempDir;

std::string head(const char* name) { return test::read_file(test::fixture(std::string("cores/") + name)); }

template <typename T>
void write_at(std::string& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

TEST(CoreFileTarget, FactsFromTheNotes) {
  TempDir tmp;
  test::write_file(tmp / "core", head("regs.head"), 0600);
  auto t = CoreFileTarget::open(tmp / "core");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ((*t)->kind(), "core_file");
  EXPECT_EQ((*t)->facts().pid, 29869);
  EXPECT_EQ((*t)->facts().comm, "regs_static");
  ASSERT_TRUE((*t)->facts().exe);
  EXPECT_TRUE((*t)->facts().exe->ends_with("/regs_static"));
  ASSERT_EQ((*t)->threads().size(), 1u);
  EXPECT_EQ((*t)->threads()[0].regs.pc(), 0x401705u);
  auto sig = (*t)->signal();
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->signo, SIGSEGV);
  EXPECT_EQ(sig->address, 0xdead0ff0u);
  const auto& maps = (*t)->mappings();
  ASSERT_FALSE(maps.empty());
  EXPECT_EQ(maps[0].start, 0x400000u);
  EXPECT_TRUE(maps[0].path.ends_with("/regs_static"));
  EXPECT_EQ(maps[1].perms, "r-xp");
  for (size_t i = 1; i < maps.size(); ++i) EXPECT_LE(maps[i - 1].start, maps[i].start);
  // Only the head was kept: no segment's bytes are in the file.
  std::byte buffer[16];
  EXPECT_EQ((*t)->read_memory(0x400000, buffer), 0u);
  EXPECT_EQ((*t)->read_memory(0x10, buffer), 0u);
}

TEST(CoreFileTarget, RefusesWhatIsNotACore) {
  TempDir tmp;
  test::write_file(tmp / "text", std::string(4096, 'x'));
  EXPECT_FALSE(CoreFileTarget::open(tmp / "text"));
  test::write_file(tmp / "short",
                   "\x7f"
                   "ELF");
  EXPECT_FALSE(CoreFileTarget::open(tmp / "short"));
  EXPECT_FALSE(CoreFileTarget::open(tmp / "absent"));
  auto dir = CoreFileTarget::open(tmp.path());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);
  ASSERT_EQ(::mkfifo((tmp / "fifo").c_str(), 0600), 0);
  EXPECT_FALSE(CoreFileTarget::open(tmp / "fifo")) << "and it does not block on a FIFO";
}

TEST(CoreFileTarget, ProgramHeadersInsideTheElfHeaderAreRefused) {
  TempDir tmp;
  for (uint64_t phoff : {uint64_t{0}, uint64_t{8}, uint64_t{63}}) {
    std::string core = head("regs.head");
    write_at<uint64_t>(core, offsetof(Elf64_Ehdr, e_phoff), phoff);
    write_at<uint16_t>(core, offsetof(Elf64_Ehdr, e_phnum), 1);
    test::write_file(tmp / "core", core, 0600);
    EXPECT_FALSE(CoreFileTarget::open(tmp / "core")) << phoff;
  }
}

TEST(CoreFileTarget, ProgramHeadersFarAwayAreRefusedWithoutAllocatingThem) {
  TempDir tmp;
  for (uint64_t phoff : {uint64_t{1} << 40, ~uint64_t{0} - 100, uint64_t{1} << 62}) {
    std::string core = head("regs.head");
    write_at<uint64_t>(core, offsetof(Elf64_Ehdr, e_phoff), phoff);
    test::write_file(tmp / "core", core, 0600);
    auto t = CoreFileTarget::open(tmp / "core");
    EXPECT_FALSE(t) << phoff;
  }
}

TEST(CoreFileTarget, NoteSegmentOutOfBounds) {
  TempDir tmp;
  std::string core = head("regs.head");
  write_at<uint64_t>(core, 64 + offsetof(Elf64_Phdr, p_offset), uint64_t{1} << 40);
  test::write_file(tmp / "core", core, 0600);
  auto t = CoreFileTarget::open(tmp / "core");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("note segment out of bounds"), std::string::npos) << t.error().message;
}

TEST(CoreFileTarget, CutNoteSegmentIsAProblemNotAFailure) {
  TempDir tmp;
  std::string core = head("threads.head");
  core.resize(core.size() - 3000);
  test::write_file(tmp / "core", core, 0600);
  auto t = CoreFileTarget::open(tmp / "core");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_FALSE((*t)->threads().empty());
  bool noted = false;
  for (const auto& p : (*t)->facts().problems) noted = noted || p.find("cut short") != std::string::npos;
  EXPECT_TRUE(noted);
}

}  // namespace
}  // namespace usercrash::engine
