#include "engine/core_notes.h"

#include <elf.h>

#include <csignal>

#include <algorithm>
#include <cstring>
#include <tuple>

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

// struct elf_prstatus: the same fields in both classes, at offsets that
// follow from the size of a long (pr_sigpend...) and of a timeval.
struct PrstatusLayout {
  size_t cursig, pid, reg;
};
constexpr PrstatusLayout kPrstatus64 = {12, 32, 112};
constexpr PrstatusLayout kPrstatus32 = {12, 24, 72};

// struct elf_prpsinfo. The 32-bit one (i386 and x32, the kernel's compat
// layout) has 16-bit uid and gid.
struct PsinfoLayout {
  size_t uid, gid, id_size, pid, ppid, fname, psargs, size;
};
constexpr PsinfoLayout kPsinfo64 = {16, 20, 4, 24, 28, 40, 56, 136};
constexpr PsinfoLayout kPsinfo32 = {8, 10, 2, 12, 16, 28, 44, 124};
constexpr size_t kPsinfoState = 0;

// siginfo_t: signo, errno, code, then the union (at 16 with 8-byte
// pointers, at 12 with 4-byte ones): si_addr, or si_pid and si_uid.
constexpr size_t kSiginfoSize = 128;

uint64_t load_word(std::span<const std::byte> bytes, size_t offset, unsigned word) {
  return word == 8 ? load<uint64_t>(bytes, offset) : load<uint32_t>(bytes, offset);
}

std::string fixed_string(std::span<const std::byte> bytes, size_t offset, size_t size) {
  const char* p = reinterpret_cast<const char*>(bytes.data() + offset);
  return std::string(p, strnlen(p, size));
}

bool is_fault_signal(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL || signo == SIGTRAP;
}

void parse_file_note(std::span<const std::byte> desc, const CoreLimits& limits, unsigned word, CoreNotes& out) {
  const size_t head = 2 * word, entry = 3 * word;
  if (desc.size() < head) {
    out.problems.push_back("NT_FILE note too short");
    return;
  }
  uint64_t count = load_word(desc, 0, word);
  uint64_t page_size = load_word(desc, word, word);
  if (page_size == 0 || page_size > (1u << 30) || (page_size & (page_size - 1))) {
    out.problems.push_back("NT_FILE note has a bad page size");
    return;
  }
  if (count > (desc.size() - head) / entry) {
    out.problems.push_back("NT_FILE note count exceeds its size");
    return;
  }
  // The cap is for the whole core: a second NT_FILE note only fills what is left.
  size_t room = limits.max_files - std::min(limits.max_files, out.files.size());
  if (count > room) {
    out.problems.push_back(fmt::format("NT_FILE lists {} files; kept {}", count, room));
  }
  size_t kept = std::min<uint64_t>(count, room);
  size_t names = head + count * entry;
  out.files.reserve(out.files.size() + kept);
  for (size_t i = 0; i < kept; ++i) {
    CoreFile f;
    f.start = load_word(desc, head + i * entry, word);
    f.end = load_word(desc, head + i * entry + word, word);
    uint64_t pages = load_word(desc, head + i * entry + 2 * word, word);
    f.file_offset = pages * page_size;
    if (names >= desc.size()) {
      out.problems.push_back("NT_FILE note ends before its file names");
      break;
    }
    const char* p = reinterpret_cast<const char*>(desc.data() + names);
    size_t len = strnlen(p, desc.size() - names);
    if (len == desc.size() - names) {
      out.problems.push_back("NT_FILE note ends inside a file name");
      break;
    }
    f.path.assign(p, len);
    names += len + 1;
    out.files.push_back(std::move(f));
  }
}

}  // namespace

Result<CoreLayout> parse_core_layout(std::span<const std::byte> bytes) {
  if (bytes.size() < EI_NIDENT) return util::fail("shorter than an ELF header");
  if (std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) return util::fail("not an ELF file");
  auto elf_class = static_cast<uint8_t>(bytes[EI_CLASS]);
  if (elf_class != ELFCLASS64 && elf_class != ELFCLASS32) return util::fail("ELF class is neither 32 nor 64-bit");
  if (static_cast<uint8_t>(bytes[EI_DATA]) != ELFDATA2LSB) return util::fail("not a little-endian ELF file");
  const bool wide = elf_class == ELFCLASS64;
  if (bytes.size() < (wide ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) return util::fail("shorter than an ELF header");
  // The fields both classes share, widened.
  uint16_t type, machine, phentsize, phnum;
  uint64_t phoff;
  if (wide) {
    auto eh = load<Elf64_Ehdr>(bytes, 0);
    std::tie(type, machine, phoff, phentsize, phnum) =
        std::tuple(eh.e_type, eh.e_machine, eh.e_phoff, eh.e_phentsize, eh.e_phnum);
  } else {
    auto eh = load<Elf32_Ehdr>(bytes, 0);
    std::tie(type, machine, phoff, phentsize, phnum) =
        std::tuple(eh.e_type, eh.e_machine, eh.e_phoff, eh.e_phentsize, eh.e_phnum);
  }
  if (type != ET_CORE) return util::fail(fmt::format("ELF type {} is not a core", type));
  const Arch* arch = arch_for_elf(elf_class, machine);
  if (!arch)
    return util::fail(fmt::format("a core of ELF machine {} ({}-bit), an architecture usercrash does not read ({})",
                                  machine, wide ? 64 : 32, supported_architectures()));
  const size_t ph_size = wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
  if (phentsize != ph_size) return util::fail("unexpected program header size");
  CoreLayout layout;
  layout.arch = arch->id;
  layout.phentsize = static_cast<uint32_t>(ph_size);
  layout.phoff = phoff;
  layout.phnum = phnum;
  size_t header = wide ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (layout.phoff < header || layout.phoff > bytes.size()) return layout;
  size_t available = (bytes.size() - layout.phoff) / ph_size;
  // PN_XNUM: the real count sits in a section header at the end of the file;
  // walk what we have.
  size_t count = phnum == PN_XNUM ? available : std::min<size_t>(phnum, available);
  for (size_t i = 0; i < count; ++i) {
    size_t at = layout.phoff + i * ph_size;
    CoreSegment seg;
    uint32_t ptype;
    if (wide) {
      auto ph = load<Elf64_Phdr>(bytes, at);
      ptype = ph.p_type;
      seg = {ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz, ph.p_flags};
    } else {
      auto ph = load<Elf32_Phdr>(bytes, at);
      ptype = ph.p_type;
      seg = {ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz, ph.p_flags};
    }
    if (ptype == PT_NOTE && layout.note_size == 0) {
      layout.note_offset = seg.file_offset;
      layout.note_size = seg.file_size;
      // Program headers end where the notes begin (the kernel's layout).
      if (layout.note_offset > layout.phoff)
        count = std::min<size_t>(count, (layout.note_offset - layout.phoff) / ph_size);
    } else if (ptype == PT_LOAD) {
      layout.loads.push_back(seg);
    } else if (phnum == PN_XNUM && ptype == PT_NULL) {
      break;
    }
  }
  return layout;
}

namespace {

// One NT_PRSTATUS note: a thread's id, signal and registers. False when
// `out` already holds max_threads threads (this one is skipped).
bool add_prstatus(std::span<const std::byte> desc, const Arch& arch, const CoreLimits& limits, CoreNotes& out) {
  const PrstatusLayout& pr = arch.elf_class == ELFCLASS64 ? kPrstatus64 : kPrstatus32;
  const size_t gregset = arch.register_count() * arch.register_size;
  if (desc.size() < pr.reg + gregset) {
    out.problems.push_back("NT_PRSTATUS note too short");
    return true;
  }
  if (out.threads.size() >= limits.max_threads) return false;
  CoreThread t;
  t.tid = load<int32_t>(desc, pr.pid);
  t.cursig = load<int16_t>(desc, pr.cursig);
  t.regs.arch_id = arch.id;
  for (size_t i = 0; i < arch.register_count(); ++i)
    t.regs.values[i] =
        arch.register_size == 8 ? load<uint64_t>(desc, pr.reg + i * 8) : load<uint32_t>(desc, pr.reg + i * 4);
  out.threads.push_back(t);
  return true;
}

// The NT_PRPSINFO note: the process's state, ids, name and arguments.
void read_psinfo(std::span<const std::byte> desc, const Arch& arch, CoreNotes& out) {
  const PsinfoLayout& ps = arch.elf_class == ELFCLASS64 ? kPsinfo64 : kPsinfo32;
  if (desc.size() < ps.size) {
    out.problems.push_back("NT_PRPSINFO note too short");
    return;
  }
  CorePsinfo p;
  p.state = load<char>(desc, kPsinfoState);
  p.uid = ps.id_size == 4 ? load<uint32_t>(desc, ps.uid) : load<uint16_t>(desc, ps.uid);
  p.gid = ps.id_size == 4 ? load<uint32_t>(desc, ps.gid) : load<uint16_t>(desc, ps.gid);
  p.pid = load<int32_t>(desc, ps.pid);
  p.ppid = load<int32_t>(desc, ps.ppid);
  p.fname = fixed_string(desc, ps.fname, 16);
  p.psargs = fixed_string(desc, ps.psargs, 80);
  out.psinfo = std::move(p);
}

// An NT_SIGINFO note: the first one is the signal that killed the process.
void read_siginfo(std::span<const std::byte> desc, const Arch& arch, CoreNotes& out) {
  if (desc.size() < kSiginfoSize) {
    out.problems.push_back("NT_SIGINFO note too short");
    return;
  }
  CoreSiginfo s;
  s.signo = load<int32_t>(desc, 0);
  s.errno_value = load<int32_t>(desc, 4);
  s.code = load<int32_t>(desc, 8);
  const size_t fields = arch.elf_class == ELFCLASS64 ? 16 : 12;
  if (is_fault_signal(s.signo) && s.code > 0) {
    s.address = load_word(desc, fields, arch.word_size);
  } else {
    s.sender_pid = load<int32_t>(desc, fields);
    s.sender_uid = load<uint32_t>(desc, fields + 4);
  }
  if (!out.siginfo) out.siginfo = s;
}

// The NT_AUXV note, up to its AT_NULL and at most 256 entries.
void read_auxv(std::span<const std::byte> desc, unsigned word, CoreNotes& out) {
  constexpr size_t kMaxAuxv = 256;
  for (size_t i = 0; i + 2 * word <= desc.size() && out.auxv.size() < kMaxAuxv; i += 2 * word) {
    proc::AuxvEntry e{load_word(desc, i, word), load_word(desc, i + word, word)};
    if (e.type == AT_NULL) break;
    out.auxv.push_back(e);
  }
}

}  // namespace

CoreNotes parse_core_notes(std::span<const std::byte> notes, const CoreLimits& limits, ArchId arch_id) {
  CoreNotes out;
  out.arch = arch_id;
  const Arch& arch = engine::arch(arch_id);
  const unsigned word = arch.word_size;
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
      case NT_PRSTATUS:
        if (!add_prstatus(desc, arch, limits, out)) threads_capped = true;
        break;
      case NT_PRPSINFO: read_psinfo(desc, arch, out); break;
      case NT_SIGINFO: read_siginfo(desc, arch, out); break;
      case NT_AUXV: read_auxv(desc, word, out); break;
      case NT_FILE: parse_file_note(desc, limits, word, out); break;
      default: break;
    }
  }
  if (threads_capped)
    out.problems.push_back(fmt::format("more than {} threads in the core; the rest were skipped", limits.max_threads));
  return out;
}

}  // namespace usercrash::engine
