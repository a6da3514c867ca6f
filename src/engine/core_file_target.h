// A core file on disk (offline re-analysis: `usercrashctl analyze`, saved
// cores): registers and facts from its notes, memory from its PT_LOAD
// segments, module files by the paths NT_FILE names (optionally under a
// sysroot, or an explicit executable).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/notes_target.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

struct CoreFileOptions {
  std::optional<std::string> executable;  // use this file for the main program
  std::string sysroot;                    // prefix for module paths ("" = /)
};

class CoreFileTarget : public NotesTarget {
 public:
  // Opens and parses `path`. Errors name what is wrong with the file.
  static util::Result<std::unique_ptr<CoreFileTarget>> open(const std::string& path,
                                                            const CoreFileOptions& options = {});

  size_t read_memory(uint64_t address, std::span<std::byte> out) override;
  util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override;

 private:
  CoreFileTarget(util::UniqueFd fd, CoreLayout layout, const CoreNotes& notes, CoreFileOptions options);

  util::UniqueFd fd_;
  CoreLayout layout_;
  CoreFileOptions options_;
  std::string main_path_;  // the executable as NT_FILE names it (first file mapping)
};

}  // namespace usercrash::engine
