// The facts an ELF core carries in its header and notes: every thread's
// registers (NT_PRSTATUS), the signal (NT_SIGINFO), the process (NT_PRPSINFO),
// the aux vector (NT_AUXV) and the mapped files (NT_FILE). The bytes come from
// the kernel for a dying process, but a core file on disk can be anything:
// parsing is bounded and never trusts a size or count.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/arch.h"
#include "engine/registers.h"
#include "proc/proc_types.h"
#include "util/result.h"

namespace usercrash::engine {

struct CoreSegment {
  uint64_t file_offset = 0;
  uint64_t vaddr = 0;
  uint64_t file_size = 0;
  uint64_t mem_size = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
};

// What the ELF header and program headers say about the core's layout.
struct CoreLayout {
  ArchId arch = ArchId::x86_64;  // from the ELF class and machine
  uint32_t phentsize = 56;       // 56 for ELFCLASS64, 32 for ELFCLASS32
  uint64_t phoff = 0;
  uint32_t phnum = 0;  // as read (PN_XNUM cores: what we could count)
  uint64_t note_offset = 0;
  uint64_t note_size = 0;
  std::vector<CoreSegment> loads;  // PT_LOAD, in file order
};

struct CoreThread {
  pid_t tid = 0;  // in the crashed process's pid namespace
  int cursig = 0;
  Registers regs;
};

struct CoreSiginfo {
  int signo = 0;
  int errno_value = 0;
  int code = 0;
  uint64_t address = 0;  // si_addr for fault signals
  pid_t sender_pid = 0;  // si_pid for signals sent by a process
  uid_t sender_uid = 0;
  bool code_known = true;  // false: only the number is known (no NT_SIGINFO)
};

struct CorePsinfo {
  char state = '?';
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  pid_t ppid = 0;
  std::string fname;   // comm, at most 16 bytes
  std::string psargs;  // start of the command line, at most 80 bytes
};

struct CoreFile {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t file_offset = 0;  // bytes
  std::string path;
};

struct CoreNotes {
  ArchId arch = ArchId::x86_64;     // the layouts the notes were read with
  std::vector<CoreThread> threads;  // the dumping (crashing) thread first, as the kernel writes them
  std::optional<CoreSiginfo> siginfo;
  std::optional<CorePsinfo> psinfo;
  std::vector<proc::AuxvEntry> auxv;
  std::vector<CoreFile> files;
  std::vector<std::string> problems;  // what was malformed or cut
};

struct CoreLimits {
  size_t max_threads = 100000;
  size_t max_files = 1000000;
};

// ELF header plus the program headers present in `bytes` (which may hold only
// a prefix of the core). Error when not a little-endian ELF core of an
// architecture in arch.h (the message names the machine and the ones read).
util::Result<CoreLayout> parse_core_layout(std::span<const std::byte> bytes);

// Bytes read first: enough for the ELF header of either class (52 or 64).
inline constexpr size_t kElfHeaderSize = 64;
// The largest program header (ELFCLASS64); CoreLayout::phentsize is the core's.
inline constexpr size_t kProgramHeaderSize = 56;

// Parses a PT_NOTE segment with the layouts of `arch` (32-bit cores have
// their own prstatus, psinfo and siginfo layouts and 4-byte words in
// NT_FILE and NT_AUXV). Never fails: malformed notes end the walk and are
// described in `problems`.
CoreNotes parse_core_notes(std::span<const std::byte> notes, const CoreLimits& limits = {},
                           ArchId arch = ArchId::x86_64);

}  // namespace usercrash::engine
