#include "engine/notes_target.h"

#include <elf.h>

#include <algorithm>

namespace usercrash::engine {

namespace {

std::string perms_of(uint32_t flags) {
  std::string p = "---p";
  if (flags & PF_R) p[0] = 'r';
  if (flags & PF_W) p[1] = 'w';
  if (flags & PF_X) p[2] = 'x';
  return p;
}

}  // namespace

NotesTarget::NotesTarget(const CoreNotes& notes, pid_t pid, std::string kind, const std::vector<CoreSegment>& loads)
    : kind_(std::move(kind)), arch_(notes.arch), siginfo_(notes.siginfo) {
  facts_.pid = pid;
  if (notes.psinfo) {
    const auto& p = *notes.psinfo;
    facts_.comm = p.fname;
    facts_.uid = p.uid;
    facts_.gid = p.gid;
    if (pid != p.pid && p.pid > 0) facts_.namespace_pid = p.pid;
    if (facts_.pid <= 0) facts_.pid = p.pid;
    // psargs is the command line cut to 80 bytes, arguments joined by spaces.
    std::string args = p.psargs;
    while (!args.empty() && args.back() == ' ') args.pop_back();
    if (!args.empty()) facts_.cmdline.push_back(args);
    if (p.psargs.size() >= 79) facts_.truncated.push_back("cmdline: only the first 80 bytes are in the core");
  }
  for (const auto& t : notes.threads) threads_.push_back({t.tid, t.regs});
  facts_.auxv = notes.auxv;
  for (const auto& p : notes.problems) facts_.problems.push_back("core notes: " + p);
  if (!siginfo_ && !notes.threads.empty() && notes.threads.front().cursig > 0) {
    CoreSiginfo s;
    s.signo = notes.threads.front().cursig;
    siginfo_ = s;
  }

  // Mappings: every PT_LOAD with its permissions, named from NT_FILE where a
  // file backs it.
  for (const auto& seg : loads) {
    proc::MapEntry m;
    m.start = seg.vaddr;
    m.end = seg.vaddr + seg.mem_size;
    m.perms = perms_of(seg.flags);
    maps_.push_back(std::move(m));
  }
  for (const auto& f : notes.files) {
    auto it = std::find_if(maps_.begin(), maps_.end(), [&](const proc::MapEntry& m) { return m.start == f.start; });
    if (it == maps_.end()) {
      proc::MapEntry m;
      m.start = f.start;
      m.end = f.end;
      m.perms = "r--p";
      it = maps_.insert(maps_.end(), std::move(m));
    }
    it->offset = f.file_offset;
    it->path = f.path;
    it->inode = 1;  // file-backed; the real inode is not in the core
  }
  std::sort(maps_.begin(), maps_.end(),
            [](const proc::MapEntry& a, const proc::MapEntry& b) { return a.start < b.start; });
}

util::Result<util::UniqueFd> NotesTarget::open_mapped_file(const proc::MapEntry& mapping) {
  return util::fail(mapping.path + ": no access to the process's files");
}

}  // namespace usercrash::engine
