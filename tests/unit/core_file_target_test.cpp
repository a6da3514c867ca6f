// A core file on disk as a Target: the heads of real cores, and hostile files.
#include "engine/core_file_target.h"

#include <elf.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>
#include <filesystem>

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
  EXPECT_NE(t.error().message.find("the note segment lies past the end of the file"), std::string::npos)
      << t.error().message;
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

// A core cut after its notes (here: only the head of a real one) still
// opens, and says it is truncated: how many bytes it has against what its
// headers describe, how many segments lost their memory, and whose stacks
// went with them (those backtraces end early), in problems and truncated.
TEST(CoreFileTarget, ATruncatedCoreSaysWhatIsMissingAndWhoseStacks) {
  TempDir tmp;
  const std::string core = head("threads.head");
  test::write_file(tmp / "core", core, 0600);
  auto t = CoreFileTarget::open(tmp / "core");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_FALSE((*t)->threads().empty());
  std::string said;
  for (const auto& p : (*t)->facts().problems)
    if (p.starts_with("the core file is truncated")) said = p;
  ASSERT_FALSE(said.empty()) << "no truncation problem among " << (*t)->facts().problems.size();
  EXPECT_NE(said.find("it has " + std::to_string(core.size()) + " bytes"), std::string::npos) << said;
  EXPECT_NE(said.find("segments is missing or cut"), std::string::npos) << said;
  EXPECT_NE(said.find("the stacks of threads " + std::to_string((*t)->threads()[0].tid)), std::string::npos) << said;
  bool counted = false;
  for (const auto& cut : (*t)->facts().truncated)
    counted = counted || cut.starts_with("core file: " + std::to_string(core.size()) + " of ");
  EXPECT_TRUE(counted);

  // The same core grown (sparsely) to the length its headers describe is whole.
  const std::string marker = "its headers describe ";
  const size_t at = said.find(marker);
  ASSERT_NE(at, std::string::npos) << said;
  const uint64_t expected = std::stoull(said.substr(at + marker.size()));
  test::write_file(tmp / "whole", core, 0600);
  std::filesystem::resize_file(tmp / "whole", expected);
  auto whole = CoreFileTarget::open(tmp / "whole");
  ASSERT_TRUE(whole) << whole.error().message;
  for (const auto& p : (*whole)->facts().problems) EXPECT_FALSE(p.starts_with("the core file is truncated")) << p;
  EXPECT_TRUE((*whole)->facts().truncated.empty());
}

TEST(CoreFileTarget, OptionsThatNameNothingAreRefused) {
  TempDir tmp;
  test::write_file(tmp / "core", head("regs.head"), 0600);
  CoreFileOptions o;
  o.executable = tmp / "missing";
  auto t = CoreFileTarget::open(tmp / "core", o);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("the executable"), std::string::npos) << t.error().message;
  o.executable = "/dev/null";
  t = CoreFileTarget::open(tmp / "core", o);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("not a regular file"), std::string::npos) << t.error().message;
  o = {};
  o.sysroot = tmp / "missing";
  t = CoreFileTarget::open(tmp / "core", o);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("the sysroot"), std::string::npos) << t.error().message;
  o = {};
  o.search_dirs = {tmp / "core"};
  t = CoreFileTarget::open(tmp / "core", o);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("the search directory"), std::string::npos) << t.error().message;
}

// A 184-byte core whose note segment claims 256 MiB: only what the file
// holds is read (the old reader allocated the claim, 269 MB for one such file).
TEST(CoreFileTarget, ANoteSegmentLargerThanTheFileIsNotAllocated) {
  TempDir tmp;
  std::string core(184, '\0');
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  std::memcpy(core.data(), &eh, sizeof eh);
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = 120;
  note.p_filesz = 255u << 20;
  std::memcpy(core.data() + sizeof eh, &note, sizeof note);
  test::write_file(tmp / "core", core, 0600);
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  auto t = CoreFileTarget::open(tmp / "core");
  ::getrusage(RUSAGE_SELF, &after);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 16 * 1024) << "KiB of peak memory for a 184-byte core";
  bool said = false;
  for (const auto& p : (*t)->facts().problems) said = said || p.find("64 of its 267386880 bytes") != std::string::npos;
  EXPECT_TRUE(said);
}

// The NT_FILE merge is indexed: a million entries (the old linear search
// took 22 s for 65,530 and never finished a million) are all kept when
// max_maps allows, in about a second.
TEST(CoreFileTarget, AMillionNtFileEntriesAreAllKeptWithMaxMapsAtAMillion) {
  TempDir tmp;
  constexpr uint64_t kEntries = 1000000;
  std::string files;
  auto word = [&](uint64_t v) { files.append(reinterpret_cast<const char*>(&v), 8); };
  word(kEntries);
  word(4096);
  std::vector<uint64_t> loads;
  for (uint64_t i = 0; i < kEntries; ++i) {
    uint64_t start = 0x10000000 + i * 0x2000;
    word(start);
    word(start + 4096);
    word(0);
    if (i % 17 == 0) loads.push_back(start);
  }
  for (uint64_t i = 0; i < kEntries; ++i) files += "/m" + std::to_string(i % 5000) + '\0';
  std::string notes;
  Elf64_Nhdr nh{5, static_cast<uint32_t>(files.size()), NT_FILE};
  notes.append(reinterpret_cast<const char*>(&nh), sizeof nh);
  notes.append("CORE\0\0\0\0", 8);
  notes += files;
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(1 + loads.size());
  std::string core(reinterpret_cast<const char*>(&eh), sizeof eh);
  uint64_t notes_at = sizeof eh + eh.e_phnum * sizeof(Elf64_Phdr);
  Elf64_Phdr ph{};
  ph.p_type = PT_NOTE;
  ph.p_offset = notes_at;
  ph.p_filesz = notes.size();
  core.append(reinterpret_cast<const char*>(&ph), sizeof ph);
  for (uint64_t start : loads) {
    Elf64_Phdr lp{};
    lp.p_type = PT_LOAD;
    lp.p_vaddr = start;
    lp.p_memsz = 4096;
    lp.p_flags = PF_R;
    core.append(reinterpret_cast<const char*>(&lp), sizeof lp);
  }
  test::write_file(tmp / "core", core + notes, 0600);

  CoreFileOptions all;
  all.max_maps = 1000000;
  auto t = CoreFileTarget::open(tmp / "core", all);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ((*t)->mappings().size(), kEntries);
  EXPECT_TRUE((*t)->facts().truncated.empty());
  EXPECT_EQ((*t)->mappings()[17].path, "/m17");
  EXPECT_EQ((*t)->mappings()[17].perms, "r--p") << "its PT_LOAD";

  auto capped = CoreFileTarget::open(tmp / "core");  // max_maps 20000
  ASSERT_TRUE(capped);
  EXPECT_LE((*capped)->mappings().size(), 20000u);
  EXPECT_FALSE((*capped)->facts().truncated.empty());
}

}  // namespace
}  // namespace usercrash::engine
