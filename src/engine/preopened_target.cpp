#include "engine/preopened_target.h"

#include <fcntl.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "util/phase_trace.h"

namespace usercrash::engine {

PreopenedTarget::PreopenedTarget(Target& inner, size_t max_files) : inner_(inner) {
  util::trace::mark("preopen");
  const auto& maps = inner_.mappings();
  util::trace::mark("proc_maps");
  // The files the unwinder may ask for: those with an executable mapping.
  std::vector<const proc::MapEntry*> wanted;
  std::set<FileKey> seen;
  for (const auto& m : maps)
    if (m.file_backed() && m.executable() && seen.insert(key_of(m)).second) wanted.push_back(&m);
  // The code the threads are in first: when the cap cuts, the crashing
  // frames keep their symbols.
  std::set<FileKey> with_pc;
  for (const auto& t : inner_.threads()) {
    uint64_t pc = t.regs.pc();
    // The mappings are in address order: the last one starting at or below pc.
    auto it =
        std::upper_bound(maps.begin(), maps.end(), pc, [](uint64_t a, const proc::MapEntry& m) { return a < m.start; });
    if (it != maps.begin() && std::prev(it)->contains(pc)) with_pc.insert(key_of(*std::prev(it)));
  }
  std::stable_partition(wanted.begin(), wanted.end(),
                        [&](const proc::MapEntry* m) { return with_pc.contains(key_of(*m)); });
  size_t found = wanted.size();
  if (found > max_files) wanted.resize(max_files);
  for (const auto* m : wanted) files_.emplace(key_of(*m), inner_.open_mapped_file(*m));
  util::trace::mark("modules_opened");
  // The inner target's facts as they are now: opening may have added
  // problems (why a core's module file was not taken), which the engine's
  // own notes then refer to.
  facts_ = inner_.facts();
  util::trace::mark("proc_facts");
  problems_seen_ = facts_.problems.size();
  truncated_seen_ = facts_.truncated.size();
  if (found > max_files)
    facts_.truncated.push_back(
        fmt::format("modules: opened the first {} of {} module files; frames in the others "
                    "have no symbols",
                    max_files, found));
}

const ProcessFacts& PreopenedTarget::facts() const {
  const ProcessFacts& inner = inner_.facts();
  for (; problems_seen_ < inner.problems.size(); ++problems_seen_)
    facts_.problems.push_back(inner.problems[problems_seen_]);
  for (; truncated_seen_ < inner.truncated.size(); ++truncated_seen_)
    facts_.truncated.push_back(inner.truncated[truncated_seen_]);
  return facts_;
}

util::Result<util::UniqueFd> PreopenedTarget::open_mapped_file(const proc::MapEntry& mapping) {
  auto it = files_.find(key_of(mapping));
  if (it == files_.end()) return util::fail(mapping.path + ": not opened before the engine started (module cap)");
  if (!it->second) return std::unexpected(it->second.error());
  int fd = ::fcntl(it->second->get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return util::fail_errno(mapping.path + ": dup");
  return util::UniqueFd(fd);
}

std::vector<int> PreopenedTarget::fds() const {
  std::vector<int> out = inner_.fds();
  for (const auto& [key, fd] : files_)
    if (fd) out.push_back(fd->get());
  return out;
}

}  // namespace usercrash::engine
