// ELF core layout and notes: the heads of real cores (fixtures/cores/) and
// corrupted variants of them.
#include "engine/core_notes.h"

#include <elf.h>

#include <csignal>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "unit/core_bytes.h"
#include "unit/test_support.h"

namespace usercrash::engine {
namespace {

using test::Bytes;
using test::load_head;
using test::read_at;
using test::write_at;

Bytes note_segment(const Bytes& head) {
  auto layout = parse_core_layout(head);
  EXPECT_TRUE(layout);
  if (!layout) return {};
  return Bytes(head.begin() + static_cast<long>(layout->note_offset),
               head.begin() + static_cast<long>(layout->note_offset + layout->note_size));
}

// Builds a note segment the way the kernel lays it out (4-byte alignment).
class NoteBuilder {
 public:
  NoteBuilder& add(const std::string& name, uint32_t type, const Bytes& desc) {
    Elf64_Nhdr h{static_cast<Elf64_Word>(name.size() + 1), static_cast<Elf64_Word>(desc.size()), type};
    append(&h, sizeof h);
    append(name.c_str(), name.size() + 1);
    pad();
    append(desc.data(), desc.size());
    pad();
    return *this;
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  void append(const void* p, size_t n) {
    auto* b = static_cast<const std::byte*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  void pad() {
    while (bytes_.size() % 4) bytes_.push_back(std::byte{0});
  }
  Bytes bytes_;
};

Bytes prstatus(int32_t pid, uint64_t rip, uint64_t rsp) {
  Bytes d(336);
  write_at<int16_t>(d, 12, SIGSEGV);
  write_at<int32_t>(d, 32, pid);
  write_at<uint64_t>(d, 112 + 16 * 8, rip);
  write_at<uint64_t>(d, 112 + 19 * 8, rsp);
  return d;
}

// NT_FILE: count, page size, (start, end, page offset) per file, then the names.
Bytes file_note(uint64_t count, uint64_t page_size, const std::vector<std::string>& names) {
  Bytes d(16 + count * 24);
  write_at<uint64_t>(d, 0, count);
  write_at<uint64_t>(d, 8, page_size);
  for (uint64_t i = 0; i < count; ++i) {
    write_at<uint64_t>(d, 16 + i * 24, 0x1000 * (i + 1));
    write_at<uint64_t>(d, 16 + i * 24 + 8, 0x1000 * (i + 2));
    write_at<uint64_t>(d, 16 + i * 24 + 16, i);
  }
  for (const auto& n : names) {
    auto b = std::as_bytes(std::span(n.c_str(), n.size() + 1));
    d.insert(d.end(), b.begin(), b.end());
  }
  return d;
}

bool has_problem(const CoreNotes& n, const std::string& needle) {
  for (const auto& p : n.problems)
    if (p.find(needle) != std::string::npos) return true;
  return false;
}

// --- layout -------------------------------------------------------------------

TEST(CoreLayout, RealCore) {
  Bytes head = load_head("regs.head");
  auto layout = parse_core_layout(head);
  ASSERT_TRUE(layout) << layout.error().message;
  EXPECT_EQ(layout->phoff, 64u);
  EXPECT_EQ(layout->phnum, 13u);
  EXPECT_EQ(layout->note_offset, 0x318u);
  EXPECT_EQ(layout->note_size, 0x1178u);
  EXPECT_EQ(layout->note_offset + layout->note_size, head.size());
  ASSERT_EQ(layout->loads.size(), 12u);
  EXPECT_EQ(layout->loads[0].vaddr, 0x400000u);
  EXPECT_EQ(layout->loads[0].file_offset, 0x2000u);
  EXPECT_EQ(layout->loads[0].file_size, 0x1000u);
  EXPECT_EQ(layout->loads[0].flags, static_cast<uint32_t>(PF_R));
  EXPECT_EQ(layout->loads[1].vaddr, 0x401000u);
  EXPECT_EQ(layout->loads[1].file_size, 0u) << "text is not dumped";
  EXPECT_EQ(layout->loads[1].mem_size, 0x8a000u);
  EXPECT_EQ(layout->loads[1].flags, static_cast<uint32_t>(PF_R | PF_X));
}

TEST(CoreLayout, PrefixHoldingOnlySomeProgramHeaders) {
  Bytes head = load_head("threads.head");
  head.resize(64 + 3 * 56 + 10);
  auto layout = parse_core_layout(head);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->phnum, 33u);
  EXPECT_EQ(layout->note_size, 0x483cu);
  EXPECT_EQ(layout->loads.size(), 2u);
  head.resize(64);
  layout = parse_core_layout(head);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->note_size, 0u);
  EXPECT_TRUE(layout->loads.empty());
}

TEST(CoreLayout, ProgramHeadersEndWhereTheNotesBegin) {
  Bytes head = load_head("regs.head");
  // Claim far more program headers than sit before the notes.
  write_at<uint16_t>(head, offsetof(Elf64_Ehdr, e_phnum), 60000);
  auto layout = parse_core_layout(head);
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->loads.size(), 12u);
}

TEST(CoreLayout, ProgramHeaderOffsetOutOfRange) {
  Bytes head = load_head("regs.head");
  for (uint64_t phoff : {uint64_t{0}, uint64_t{10}, uint64_t{1} << 40, ~uint64_t{0}}) {
    Bytes h = head;
    write_at<uint64_t>(h, offsetof(Elf64_Ehdr, e_phoff), phoff);
    auto layout = parse_core_layout(h);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->note_size, 0u) << phoff;
    EXPECT_TRUE(layout->loads.empty());
  }
}

TEST(CoreLayout, Refusals) {
  Bytes good = load_head("regs.head");
  auto refuse = [](const Bytes& b, const std::string& needle) {
    auto r = parse_core_layout(b);
    ASSERT_FALSE(r) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refuse({}, "shorter than an ELF header");
  refuse(Bytes(good.begin(), good.begin() + 63), "shorter than an ELF header");
  Bytes b = good;
  b[1] = std::byte{'X'};
  refuse(b, "not an ELF file");
  refuse(Bytes(100, std::byte{0}), "not an ELF file");
  b = good;
  b[EI_CLASS] = std::byte{ELFCLASS32};  // a 64-bit header read as a 32-bit one
  refuse(b, "unexpected program header size");
  b = good;
  b[EI_CLASS] = std::byte{7};
  refuse(b, "ELF class is neither 32 nor 64-bit");
  b = good;
  b[EI_DATA] = std::byte{ELFDATA2MSB};
  refuse(b, "not a little-endian ELF file");
  b = good;
  write_at<uint16_t>(b, offsetof(Elf64_Ehdr, e_type), ET_EXEC);
  refuse(b, "ELF type 2 is not a core");
  b = good;
  write_at<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_RISCV);
  refuse(b, "a core of ELF machine 243 (64-bit), an architecture usercrash does not read (x86_64, i386, aarch64");
  b = good;
  write_at<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
  auto aarch64 = parse_core_layout(b);
  ASSERT_TRUE(aarch64) << aarch64.error().message;
  EXPECT_EQ(aarch64->arch, ArchId::aarch64);
  b = good;
  write_at<uint16_t>(b, offsetof(Elf64_Ehdr, e_phentsize), 32);
  refuse(b, "unexpected program header size");
}

// --- notes of real cores --------------------------------------------------------

TEST(CoreNotes, RegistersSignalProcessAuxvAndFiles) {
  CoreNotes n = parse_core_notes(note_segment(load_head("regs.head")));
  EXPECT_TRUE(n.problems.empty()) << n.problems.front();
  ASSERT_EQ(n.threads.size(), 1u);
  const CoreThread& t = n.threads[0];
  EXPECT_EQ(t.tid, 29869);
  EXPECT_EQ(t.cursig, SIGSEGV);
  EXPECT_EQ(t.regs.pc(), 0x401705u) << "regs_fault in core_fixture.c";
  EXPECT_EQ(t.regs.sp(), 0x7ffc00001230u);
  EXPECT_EQ(t.regs.get(Reg::rax), 0xdead0ff0u);
  EXPECT_EQ(t.regs.get(Reg::rbx), 0x1111111111111111u);
  EXPECT_EQ(t.regs.get(Reg::rcx), 0x2222222222222222u);
  EXPECT_EQ(t.regs.get(Reg::rdx), 0x3333333333333333u);
  EXPECT_EQ(t.regs.get(Reg::rsi), 0x4444444444444444u);
  EXPECT_EQ(t.regs.get(Reg::rdi), 0x5555555555555555u);
  EXPECT_EQ(t.regs.get(Reg::rbp), 0x66666666u);
  EXPECT_EQ(t.regs.get(Reg::r8), 0x8888888888888888u);
  EXPECT_EQ(t.regs.get(Reg::r12), 0xccccccccccccccccu);
  EXPECT_EQ(t.regs.get(Reg::r15), 0xffffffffffffffffu);
  EXPECT_EQ(t.regs.get(Reg::cs), 0x33u);
  EXPECT_EQ(t.regs.get(Reg::ss), 0x2bu);
  EXPECT_EQ(t.regs.get(Reg::orig_rax), ~uint64_t{0});

  ASSERT_TRUE(n.siginfo);
  EXPECT_EQ(n.siginfo->signo, SIGSEGV);
  EXPECT_EQ(n.siginfo->code, SEGV_MAPERR);
  EXPECT_EQ(n.siginfo->address, 0xdead0ff0u);
  EXPECT_EQ(n.siginfo->sender_pid, 0);

  ASSERT_TRUE(n.psinfo);
  EXPECT_EQ(n.psinfo->fname, "regs_static");
  EXPECT_EQ(n.psinfo->pid, 29869);
  EXPECT_EQ(n.psinfo->uid, 0u);
  EXPECT_EQ(n.psinfo->gid, 0u);
  EXPECT_EQ(n.psinfo->ppid, 29849);
  EXPECT_EQ(n.psinfo->state, 0);
  EXPECT_NE(n.psinfo->psargs.find("/regs_static regs"), std::string::npos) << n.psinfo->psargs;

  ASSERT_EQ(n.auxv.size(), 22u);
  auto aux = [&](uint64_t type) -> std::optional<uint64_t> {
    for (const auto& e : n.auxv)
      if (e.type == type) return e.value;
    return std::nullopt;
  };
  EXPECT_EQ(aux(AT_PAGESZ), 4096u);
  EXPECT_EQ(aux(AT_PHDR), 0x400040u);
  EXPECT_EQ(aux(AT_ENTRY), 0x401540u);
  EXPECT_EQ(aux(AT_SECURE), 0u);

  ASSERT_EQ(n.files.size(), 5u);
  EXPECT_EQ(n.files[0].start, 0x400000u);
  EXPECT_EQ(n.files[0].end, 0x401000u);
  EXPECT_EQ(n.files[0].file_offset, 0u);
  EXPECT_EQ(n.files[1].start, 0x401000u);
  EXPECT_EQ(n.files[1].file_offset, 0x1000u);
  EXPECT_EQ(n.files[4].file_offset, 0xb9000u);
  for (const auto& f : n.files) {
    EXPECT_TRUE(f.path.starts_with("/tmp/usercrash-cores-")) << f.path;
    EXPECT_TRUE(f.path.ends_with("/regs_static")) << f.path;
  }
}

TEST(CoreNotes, EveryThreadCrashingOneFirst) {
  CoreNotes n = parse_core_notes(note_segment(load_head("threads.head")));
  EXPECT_TRUE(n.problems.empty());
  ASSERT_EQ(n.threads.size(), 5u);
  EXPECT_EQ(n.threads[0].tid, 29882) << "the dumping thread comes first";
  ASSERT_TRUE(n.psinfo);
  EXPECT_EQ(n.psinfo->pid, 29878);
  EXPECT_EQ(n.psinfo->fname, "multi_thread");
  std::vector<pid_t> tids;
  for (const auto& t : n.threads) {
    tids.push_back(t.tid);
    EXPECT_EQ(t.cursig, SIGSEGV);
  }
  EXPECT_EQ(tids, (std::vector<pid_t>{29882, 29879, 29881, 29880, 29878}));
  ASSERT_TRUE(n.siginfo);
  EXPECT_EQ(n.siginfo->code, SEGV_MAPERR);
  EXPECT_EQ(n.siginfo->address, 0x10u);

  ASSERT_EQ(n.files.size(), 15u);
  auto mapping_of = [&](uint64_t pc) -> const CoreFile* {
    for (const auto& f : n.files)
      if (pc >= f.start && pc < f.end) return &f;
    return nullptr;
  };
  // The crasher's pc is in the program's text; the parked threads' are in libc's.
  const CoreFile* own = mapping_of(n.threads[0].regs.pc());
  ASSERT_NE(own, nullptr);
  EXPECT_TRUE(own->path.ends_with("/multi_thread"));
  EXPECT_EQ(own->file_offset, 0x1000u);
  for (size_t i = 1; i < 4; ++i) {
    const CoreFile* f = mapping_of(n.threads[i].regs.pc());
    ASSERT_NE(f, nullptr) << i;
    EXPECT_EQ(f->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_EQ(f->file_offset, 0x26000u) << "libc's text";
    EXPECT_NE(n.threads[i].regs.sp(), n.threads[0].regs.sp());
  }
  EXPECT_EQ(n.files[14].path, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
}

TEST(CoreNotes, GeneralProtectionFaultHasNoAddress) {
  CoreNotes n = parse_core_notes(note_segment(load_head("gp.head")));
  ASSERT_TRUE(n.siginfo);
  EXPECT_EQ(n.siginfo->signo, SIGSEGV);
  EXPECT_EQ(n.siginfo->code, SI_KERNEL);
  EXPECT_EQ(n.siginfo->address, 0u);
  ASSERT_EQ(n.threads.size(), 1u);
  EXPECT_EQ(n.threads[0].regs.get(Reg::rax), 0x8000000000001000u);
}

// --- caps -------------------------------------------------------------------------

TEST(CoreNotes, ThreadCap) {
  CoreLimits limits;
  limits.max_threads = 2;
  CoreNotes n = parse_core_notes(note_segment(load_head("threads.head")), limits);
  ASSERT_EQ(n.threads.size(), 2u);
  EXPECT_EQ(n.threads[0].tid, 29882) << "the crashing thread is kept";
  EXPECT_TRUE(has_problem(n, "more than 2 threads in the core")) << n.problems.size();
  EXPECT_TRUE(n.siginfo) << "notes after the cut threads are still read";
  EXPECT_EQ(n.files.size(), 15u);
}

TEST(CoreNotes, FileCap) {
  CoreLimits limits;
  limits.max_files = 3;
  CoreNotes n = parse_core_notes(note_segment(load_head("threads.head")), limits);
  ASSERT_EQ(n.files.size(), 3u);
  EXPECT_TRUE(has_problem(n, "NT_FILE lists 15 files; kept 3"));
  EXPECT_TRUE(n.files[2].path.ends_with("/multi_thread"));
}

TEST(CoreNotes, FileCapHoldsAcrossSeveralFileNotes) {
  CoreLimits limits;
  limits.max_files = 3;
  Bytes d = file_note(2, 4096, {"/a", "/b"});
  CoreNotes n = parse_core_notes(
      NoteBuilder().add("CORE", NT_FILE, d).add("CORE", NT_FILE, d).add("CORE", NT_FILE, d).bytes(), limits);
  ASSERT_EQ(n.files.size(), 3u);
  EXPECT_EQ(n.files[2].path, "/a");
  EXPECT_TRUE(has_problem(n, "NT_FILE lists 2 files; kept 1"));
  EXPECT_TRUE(has_problem(n, "NT_FILE lists 2 files; kept 0"));
}

// --- corrupted notes ---------------------------------------------------------------

TEST(CoreNotesCorrupt, DescSizeOverrunningTheSegment) {
  Bytes notes = note_segment(load_head("regs.head"));
  write_at<uint32_t>(notes, offsetof(Elf64_Nhdr, n_descsz), 0x7fffffff);
  CoreNotes n = parse_core_notes(notes);
  EXPECT_TRUE(n.threads.empty());
  EXPECT_TRUE(has_problem(n, "note at offset 0 overruns the note segment"));
  write_at<uint32_t>(notes, offsetof(Elf64_Nhdr, n_descsz), 0xffffffff);
  EXPECT_TRUE(has_problem(parse_core_notes(notes), "overruns"));
}

TEST(CoreNotesCorrupt, NameSizeOverrunningTheSegment) {
  Bytes notes = note_segment(load_head("regs.head"));
  for (uint32_t namesz : {0xffffffffu, 0xfffffffdu, static_cast<uint32_t>(notes.size())}) {
    write_at<uint32_t>(notes, offsetof(Elf64_Nhdr, n_namesz), namesz);
    CoreNotes n = parse_core_notes(notes);
    EXPECT_TRUE(n.threads.empty()) << namesz;
    EXPECT_TRUE(has_problem(n, "overruns")) << namesz;
  }
}

TEST(CoreNotesCorrupt, SegmentCutInsideANote) {
  Bytes notes = note_segment(load_head("threads.head"));
  // First note: PRSTATUS of the crasher (12 + 8 + 336 bytes); cut inside the second.
  Bytes cut(notes.begin(), notes.begin() + 356 + 12 + 8 + 100);
  CoreNotes n = parse_core_notes(cut);
  ASSERT_EQ(n.threads.size(), 1u);
  EXPECT_EQ(n.threads[0].tid, 29882);
  EXPECT_TRUE(has_problem(n, "note at offset 356 overruns"));
  // Cut inside a note header: nothing more, no crash.
  Bytes in_header(notes.begin(), notes.begin() + 356 + 5);
  EXPECT_EQ(parse_core_notes(in_header).threads.size(), 1u);
}

TEST(CoreNotesCorrupt, TruncatedDescs) {
  NoteBuilder b;
  b.add("CORE", NT_PRSTATUS, Bytes(327))
      .add("CORE", NT_PRPSINFO, Bytes(135))
      .add("CORE", NT_SIGINFO, Bytes(127))
      .add("CORE", NT_FILE, Bytes(15))
      .add("CORE", NT_AUXV, Bytes(23));
  CoreNotes n = parse_core_notes(b.bytes());
  EXPECT_TRUE(n.threads.empty());
  EXPECT_FALSE(n.psinfo);
  EXPECT_FALSE(n.siginfo);
  EXPECT_TRUE(n.files.empty());
  EXPECT_TRUE(n.auxv.empty()) << "a zero pair is AT_NULL";
  EXPECT_TRUE(has_problem(n, "NT_PRSTATUS note too short"));
  EXPECT_TRUE(has_problem(n, "NT_PRPSINFO note too short"));
  EXPECT_TRUE(has_problem(n, "NT_SIGINFO note too short"));
  EXPECT_TRUE(has_problem(n, "NT_FILE note too short"));
}

TEST(CoreNotesCorrupt, MinimalValidNotesAndOtherOwners) {
  NoteBuilder b;
  b.add("LINUX", NT_PRSTATUS, prstatus(1, 2, 3))  // not CORE: ignored
      .add("CORE", NT_PRSTATUS, prstatus(42, 0x401000, 0x7ffd0000))
      .add("CORE", 0x4242, Bytes(10))
      .add("COREX", NT_PRSTATUS, prstatus(5, 6, 7));
  CoreNotes n = parse_core_notes(b.bytes());
  ASSERT_EQ(n.threads.size(), 1u);
  EXPECT_EQ(n.threads[0].tid, 42);
  EXPECT_EQ(n.threads[0].cursig, SIGSEGV);
  EXPECT_EQ(n.threads[0].regs.pc(), 0x401000u);
  EXPECT_EQ(n.threads[0].regs.sp(), 0x7ffd0000u);
  EXPECT_TRUE(n.problems.empty());
}

TEST(CoreNotesCorrupt, EmptyAndTinySegments) {
  EXPECT_TRUE(parse_core_notes({}).threads.empty());
  EXPECT_TRUE(parse_core_notes({}).problems.empty());
  EXPECT_TRUE(parse_core_notes(Bytes(11)).threads.empty());
  // Zero-size notes one after the other: the walk moves on and ends.
  CoreNotes zeros = parse_core_notes(Bytes(12 * 1000));
  EXPECT_TRUE(zeros.threads.empty());
  EXPECT_TRUE(zeros.problems.empty());
}

TEST(CoreNotesCorrupt, FileNoteCountLargerThanItsSize) {
  Bytes d = file_note(2, 4096, {"/a", "/b"});
  write_at<uint64_t>(d, 0, 1000);
  CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, d).bytes());
  EXPECT_TRUE(n.files.empty());
  EXPECT_TRUE(has_problem(n, "NT_FILE note count exceeds its size"));
  write_at<uint64_t>(d, 0, ~uint64_t{0} / 24 + 2);  // count * 24 would wrap
  n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, d).bytes());
  EXPECT_TRUE(n.files.empty());
  EXPECT_TRUE(has_problem(n, "count exceeds"));
}

TEST(CoreNotesCorrupt, FileNoteCountSmallerThanItsEntries) {
  Bytes d = file_note(3, 4096, {"/a", "/b", "/c"});
  write_at<uint64_t>(d, 0, 1);
  CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, d).bytes());
  ASSERT_EQ(n.files.size(), 1u);
  // The names start right after the one entry the count admits: the kernel's
  // layout is count-driven, so what was an entry is read as a name.
  EXPECT_TRUE(n.problems.empty());
}

TEST(CoreNotesCorrupt, FileNoteWithoutNames) {
  Bytes d = file_note(2, 4096, {});
  CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, d).bytes());
  EXPECT_TRUE(n.files.empty());
  EXPECT_TRUE(has_problem(n, "NT_FILE note ends before its file names"));
  Bytes one = file_note(2, 4096, {"/only"});
  n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, one).bytes());
  ASSERT_EQ(n.files.size(), 1u);
  EXPECT_EQ(n.files[0].path, "/only");
  EXPECT_TRUE(has_problem(n, "ends before its file names"));
}

TEST(CoreNotesCorrupt, FileNoteNameWithoutNul) {
  Bytes d = file_note(1, 4096, {});
  for (char c : std::string("/no/terminator")) d.push_back(static_cast<std::byte>(c));
  CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, d).bytes());
  EXPECT_TRUE(n.files.empty()) << "a name the note cuts off is not taken for a path";
  EXPECT_TRUE(has_problem(n, "NT_FILE note ends inside a file name"));
}

TEST(CoreNotesCorrupt, FileNoteBadPageSize) {
  for (uint64_t page : {uint64_t{0}, uint64_t{3000}, uint64_t{1} << 31, ~uint64_t{0}}) {
    CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_FILE, file_note(1, page, {"/a"})).bytes());
    EXPECT_TRUE(n.files.empty()) << page;
    EXPECT_TRUE(has_problem(n, "NT_FILE note has a bad page size")) << page;
  }
  CoreNotes big_offset = parse_core_notes(NoteBuilder()
                                              .add("CORE", NT_FILE,
                                                   [] {
                                                     Bytes d = file_note(1, 4096, {"/a"});
                                                     write_at<uint64_t>(d, 32, ~uint64_t{0});
                                                     return d;
                                                   }())
                                              .bytes());
  ASSERT_EQ(big_offset.files.size(), 1u) << "a page offset that overflows is kept as it wraps, not trusted";
}

TEST(CoreNotesCorrupt, SiginfoOfASentSignal) {
  Bytes s(128);
  write_at<int32_t>(s, 0, SIGABRT);
  write_at<int32_t>(s, 8, SI_TKILL);
  write_at<int32_t>(s, 16, 4321);
  write_at<uint32_t>(s, 20, 1000);
  CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_SIGINFO, s).add("CORE", NT_SIGINFO, Bytes(128)).bytes());
  ASSERT_TRUE(n.siginfo);
  EXPECT_EQ(n.siginfo->signo, SIGABRT);
  EXPECT_EQ(n.siginfo->code, SI_TKILL);
  EXPECT_EQ(n.siginfo->sender_pid, 4321);
  EXPECT_EQ(n.siginfo->sender_uid, 1000u);
  EXPECT_EQ(n.siginfo->address, 0u);
}

TEST(CoreNotesCorrupt, AuxvIsBounded) {
  Bytes aux;
  for (uint64_t i = 0; i < 1000; ++i) {
    uint64_t pair[] = {i + 1, i};
    auto b = std::as_bytes(std::span(pair));
    aux.insert(aux.end(), b.begin(), b.end());
  }
  CoreNotes n = parse_core_notes(NoteBuilder().add("CORE", NT_AUXV, aux).bytes());
  EXPECT_EQ(n.auxv.size(), 256u);
}

}  // namespace
}  // namespace usercrash::engine
