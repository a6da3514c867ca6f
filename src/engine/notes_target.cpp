#include "engine/notes_target.h"

#include "engine/elf_image.h"

#include <elf.h>

#include <algorithm>

#include <fmt/format.h>

namespace usercrash::engine {

namespace {}  // namespace

NotesTarget::NotesTarget(const CoreNotes& notes, pid_t pid, std::string kind, const std::vector<CoreSegment>& loads,
                         size_t max_maps)
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
    // No NT_SIGINFO (qemu-user's cores, old kernels): the number alone.
    CoreSiginfo s;
    s.signo = notes.threads.front().cursig;
    s.code_known = false;
    siginfo_ = s;
  }

  build_mappings(notes, loads, max_maps);
}

void NotesTarget::build_mappings(const CoreNotes& notes, const std::vector<CoreSegment>& loads, size_t max_maps) {
  // Every PT_LOAD with its permissions (sorted by address), then named from
  // NT_FILE where a file backs it: each file found by a binary search, so a
  // core of a million mappings costs n log n, not n squared.
  std::vector<std::pair<proc::MapEntry, bool>> maps;  // (mapping, permissions known)
  for (const auto& seg : loads) {
    if (maps.size() >= max_maps) {
      facts_.truncated.push_back(fmt::format("maps: kept the first {} of {} segments", max_maps, loads.size()));
      break;
    }
    proc::MapEntry m;
    m.start = seg.vaddr;
    m.end = seg.vaddr + seg.mem_size;
    m.perms = segment_perms(seg.flags);
    maps.emplace_back(std::move(m), true);
  }
  auto by_start = [](const auto& a, const auto& b) { return a.first.start < b.first.start; };
  std::sort(maps.begin(), maps.end(), by_start);
  const size_t segments = maps.size();
  size_t unnamed = 0;
  for (const auto& f : notes.files) {
    auto it = std::lower_bound(maps.begin(), maps.begin() + static_cast<long>(segments), f.start,
                               [](const auto& m, uint64_t start) { return m.first.start < start; });
    proc::MapEntry* m = nullptr;
    if (it != maps.begin() + static_cast<long>(segments) && it->first.start == f.start) {
      m = &it->first;
    } else if (maps.size() < max_maps) {
      // No PT_LOAD (gdb's gcore leaves out what it did not dump): the file's
      // own program headers tell the permissions, where it can be read.
      proc::MapEntry added;
      added.start = f.start;
      added.end = f.end;
      added.perms = "r--p";
      maps.emplace_back(std::move(added), false);
      m = &maps.back().first;
    } else {
      ++unnamed;
      continue;
    }
    m->offset = f.file_offset;
    m->path = f.path;
    m->inode = 1;  // file-backed; the real inode is not in the core
  }
  if (unnamed) facts_.truncated.push_back(fmt::format("maps: {} files of NT_FILE left out past {}", unnamed, max_maps));
  std::sort(maps.begin(), maps.end(), by_start);
  // The vdso has no file: the aux vector says where it is.
  for (const auto& a : facts_.auxv) {
    if (a.type != AT_SYSINFO_EHDR || a.value == 0) continue;
    auto it = std::lower_bound(maps.begin(), maps.end(), a.value,
                               [](const auto& m, uint64_t start) { return m.first.start < start; });
    if (it != maps.end() && it->first.start == a.value && it->first.path.empty()) it->first.path = "[vdso]";
  }
  maps_.clear();
  perms_known_.clear();
  maps_.reserve(maps.size());
  for (auto& [m, known] : maps) {
    maps_.push_back(std::move(m));
    perms_known_.push_back(known);
  }
}

util::Result<util::UniqueFd> NotesTarget::open_mapped_file(const proc::MapEntry& mapping) {
  return util::fail(mapping.path + ": no access to the process's files");
}

}  // namespace usercrash::engine
