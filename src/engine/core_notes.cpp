#include "engine/core_notes.h"

#include <elf.h>

#include <csignal>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace usercrash::engine {
namespace {

using util::Result;

template <typename T>
T load(std::span<const std::byte> bytes, size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// Offsets in the x86_64 kernel's struct elf_prstatus.
constexpr size_t kPrstatusCursig = 12;
constexpr size_t kPrstatusPid = 32;
constexpr size_t kPrstatusReg = 112;
constexpr size_t kPrstatusMinSize = kPrstatusReg + kGregsetBytes;

// Offsets in struct elf_prpsinfo.
constexpr size_t kPsinfoState = 0;
constexpr size_t kPsinfoUid = 16;
constexpr size_t kPsinfoGid = 20;
constexpr size_t kPsinfoPid = 24;
constexpr size_t kPsinfoPpid = 28;
constexpr size_t kPsinfoFname = 40;
constexpr size_t kPsinfoPsargs = 56;
constexpr size_t kPsinfoSize = 136;

// siginfo_t: signo, errno, code, then the union at 16.
constexpr size_t kSiginfoSize = 128;

std::string fixed_string(std::span<const std::byte> bytes, size_t offset, size_t size) {
  const char* p = reinterpret_cast<const char*>(bytes.data() + offset);
  return std::string(p, strnlen(p, size));
}

bool is_fault_signal(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL || signo == SIGTRAP;
}

void parse_file_note(std::span<const std::byte> desc, const CoreLimits& limits, CoreNotes& out) {
  if (desc.size() < 16) {
    out.problems.push_back("NT_FILE note too short");
    return;
  }
  uint64_t count = load<uint64_t>(desc, 0);
  uint64_t page_size = load<uint64_t>(desc, 8);
  if (page_size == 0 || page_size > (1u << 30) || (page_size & (page_size - 1))) {
    out.problems.push_back("NT_FILE note has a bad page size");
    return;
  }
  if (count > (desc.size() - 16) / 24) {
    out.problems.push_back("NT_FILE note count exceeds its size");
    return;
  }
  // The cap is for the whole core: a second NT_FILE note only fills what is left.
  size_t room = limits.max_files - std::min(limits.max_files, out.files.size());
  if (count > room) {
    out.problems.push_back(fmt::format("NT_FILE lists {} files; kept {}", count, room));
  }
  size_t kept = std::min<uint64_t>(count, room);
  size_t names = 16 + count * 24;
  for (size_t i = 0; i < kept; ++i) {
    CoreFile f;
    f.start = load<uint64_t>(desc, 16 + i * 24);
    f.end = load<uint64_t>(desc, 16 + i * 24 + 8);
    uint64_t pages = load<uint64_t>(desc, 16 + i * 24 + 16);
    f.file_offset = pages * page_size;
    if (names >= desc.size()) {
      out.problems.push_back("NT_FILE note ends before its file names");
      break;
    }
    const char* p = reinterpret_cast<const char*>(desc.data() + names);
    size_t len = strnlen(p, desc.size() - names);
    f.path.assign(p, len);
    names += len + 1;
    out.files.push_back(std::move(f));
  }
}

}  // namespace

Result<CoreLayout> parse_core_layout(std::span<const std::byte> bytes) {
  if (bytes.size() < kElfHeaderSize) return util::fail("shorter than an ELF header");
  auto eh = load<Elf64_Ehdr>(bytes, 0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return util::fail("not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return util::fail("not a 64-bit little-endian ELF file");
  if (eh.e_type != ET_CORE) return util::fail(fmt::format("ELF type {} is not a core", eh.e_type));
  if (eh.e_machine != EM_X86_64) return util::fail(fmt::format("ELF machine {} is not x86_64", eh.e_machine));
  if (eh.e_phentsize != kProgramHeaderSize) return util::fail("unexpected program header size");
  CoreLayout layout;
  layout.phoff = eh.e_phoff;
  layout.phnum = eh.e_phnum;
  if (layout.phoff < kElfHeaderSize || layout.phoff > bytes.size()) return layout;
  size_t available = (bytes.size() - layout.phoff) / kProgramHeaderSize;
  // PN_XNUM: the real count sits in a section header at the end of the file;
  // walk what we have.
  size_t count = eh.e_phnum == PN_XNUM ? available : std::min<size_t>(eh.e_phnum, available);
  for (size_t i = 0; i < count; ++i) {
    auto ph = load<Elf64_Phdr>(bytes, layout.phoff + i * kProgramHeaderSize);
    if (ph.p_type == PT_NOTE && layout.note_size == 0) {
      layout.note_offset = ph.p_offset;
      layout.note_size = ph.p_filesz;
      // Program headers end where the notes begin (the kernel's layout).
      if (layout.note_offset > layout.phoff)
        count = std::min<size_t>(count, (layout.note_offset - layout.phoff) / kProgramHeaderSize);
    } else if (ph.p_type == PT_LOAD) {
      layout.loads.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz, ph.p_flags});
    } else if (eh.e_phnum == PN_XNUM && ph.p_type == PT_NULL) {
      break;
    }
  }
  return layout;
}

CoreNotes parse_core_notes(std::span<const std::byte> notes, const CoreLimits& limits) {
  CoreNotes out;
  size_t off = 0;
  bool threads_capped = false;
  while (off + sizeof(Elf64_Nhdr) <= notes.size()) {
    auto nh = load<Elf64_Nhdr>(notes, off);
    size_t name_off = off + sizeof(Elf64_Nhdr);
    size_t name_len = (static_cast<size_t>(nh.n_namesz) + 3) & ~size_t{3};
    if (nh.n_namesz > notes.size() || name_len > notes.size() - name_off) {
      out.problems.push_back(fmt::format("note at offset {} overruns the note segment", off));
      break;
    }
    size_t desc_off = name_off + name_len;
    size_t desc_len = (static_cast<size_t>(nh.n_descsz) + 3) & ~size_t{3};
    if (nh.n_descsz > notes.size() || nh.n_descsz > notes.size() - desc_off) {
      out.problems.push_back(fmt::format("note at offset {} overruns the note segment", off));
      break;
    }
    std::string name = fixed_string(notes, name_off, nh.n_namesz);
    auto desc = notes.subspan(desc_off, nh.n_descsz);
    off = desc_off + std::min(desc_len, notes.size() - desc_off);

    if (name != "CORE") continue;
    switch (nh.n_type) {
      case NT_PRSTATUS: {
        if (desc.size() < kPrstatusMinSize) {
          out.problems.push_back("NT_PRSTATUS note too short");
          break;
        }
        if (out.threads.size() >= limits.max_threads) {
          threads_capped = true;
          break;
        }
        CoreThread t;
        t.tid = load<int32_t>(desc, kPrstatusPid);
        t.cursig = load<int16_t>(desc, kPrstatusCursig);
        std::memcpy(t.regs.values.data(), desc.data() + kPrstatusReg, kGregsetBytes);
        out.threads.push_back(t);
        break;
      }
      case NT_PRPSINFO: {
        if (desc.size() < kPsinfoSize) {
          out.problems.push_back("NT_PRPSINFO note too short");
          break;
        }
        CorePsinfo p;
        p.state = load<char>(desc, kPsinfoState);
        p.uid = load<uint32_t>(desc, kPsinfoUid);
        p.gid = load<uint32_t>(desc, kPsinfoGid);
        p.pid = load<int32_t>(desc, kPsinfoPid);
        p.ppid = load<int32_t>(desc, kPsinfoPpid);
        p.fname = fixed_string(desc, kPsinfoFname, 16);
        p.psargs = fixed_string(desc, kPsinfoPsargs, 80);
        out.psinfo = std::move(p);
        break;
      }
      case NT_SIGINFO: {
        if (desc.size() < kSiginfoSize) {
          out.problems.push_back("NT_SIGINFO note too short");
          break;
        }
        CoreSiginfo s;
        s.signo = load<int32_t>(desc, 0);
        s.errno_value = load<int32_t>(desc, 4);
        s.code = load<int32_t>(desc, 8);
        if (is_fault_signal(s.signo) && s.code > 0) {
          s.address = load<uint64_t>(desc, 16);
        } else {
          s.sender_pid = load<int32_t>(desc, 16);
          s.sender_uid = load<uint32_t>(desc, 20);
        }
        if (!out.siginfo) out.siginfo = s;
        break;
      }
      case NT_AUXV: {
        constexpr size_t kMaxAuxv = 256;
        for (size_t i = 0; i + 16 <= desc.size() && out.auxv.size() < kMaxAuxv; i += 16) {
          proc::AuxvEntry e{load<uint64_t>(desc, i), load<uint64_t>(desc, i + 8)};
          if (e.type == AT_NULL) break;
          out.auxv.push_back(e);
        }
        break;
      }
      case NT_FILE: parse_file_note(desc, limits, out); break;
      default: break;
    }
  }
  if (threads_capped)
    out.problems.push_back(fmt::format("more than {} threads in the core; the rest were skipped", limits.max_threads));
  return out;
}

}  // namespace usercrash::engine
