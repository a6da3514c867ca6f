// A Target whose module files are all opened up front, so that the engine
// can run in a child without the privileges those opens need
// (/proc/<pid>/map_files/ and /proc/<pid>/root/ are root's): every file
// behind an executable mapping is opened once, here, by whoever holds the
// privileges, and open_mapped_file() then hands out duplicates of those fds
// and opens nothing. Everything else is the wrapped target's.
//
// Files whose mappings hold a thread's pc come first; past `max_files`
// the rest are left unopened (their frames get no symbols) and the cut is
// listed in facts().truncated.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "engine/target.h"
#include "util/limits.h"

namespace usercrash::engine {

class PreopenedTarget : public Target {
 public:
  // `inner` must outlive this object. Opens the files now.
  explicit PreopenedTarget(Target& inner, size_t max_files = limits::kMaxModules);

  std::string kind() const override { return inner_.kind(); }
  // The inner target's facts, with the problems and cuts it notes later
  // (while the engine reads through it), and the cut of the files opened.
  const ProcessFacts& facts() const override;
  const std::vector<ThreadRegisters>& threads() const override { return inner_.threads(); }
  ArchId arch() const override { return inner_.arch(); }
  std::optional<CoreSiginfo> signal() const override { return inner_.signal(); }
  const std::vector<proc::MapEntry>& mappings() const override { return inner_.mappings(); }
  size_t read_memory(uint64_t address, std::span<std::byte> out) override { return inner_.read_memory(address, out); }
  // A duplicate of the fd opened for this mapping's file (the caller owns
  // it), or why there is none. Never opens a file.
  util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override;
  // The inner target's fds and every file opened here.
  std::vector<int> fds() const override;

  // Files opened (successfully or not), for tests and the bench.
  size_t files_tried() const { return files_.size(); }

 private:
  // One file, as the mappings name it: mappings of the same file share all three.
  using FileKey = std::tuple<std::string, uint64_t, std::string>;  // device, inode, path
  static FileKey key_of(const proc::MapEntry& m) { return {m.device, m.inode, m.path}; }

  Target& inner_;
  // The inner target's, plus the cut, when there is one; what the inner
  // target notes later is added when asked (facts()).
  mutable ProcessFacts facts_;
  mutable size_t problems_seen_ = 0, truncated_seen_ = 0;  // of the inner target's
  std::map<FileKey, util::Result<util::UniqueFd>> files_;
};

}  // namespace usercrash::engine
