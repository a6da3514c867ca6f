// A core file on disk (offline re-analysis: `usercrashctl analyze`, saved
// cores): registers and facts from its notes, memory from its PT_LOAD
// segments, and where the core lacks it (the text the kernel does not dump)
// from the module files. Modules come from NT_FILE, or from the dynamic
// linker's list in the core's memory when there is no NT_FILE (qemu-user);
// their files are found as module_files.h says. A core of any size or shape
// is read with bounded work: counts capped, sizes checked against the file.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/elf_image.h"
#include "engine/module_files.h"
#include "engine/notes_target.h"
#include "util/limits.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::engine {

struct CoreFileOptions {
  std::optional<std::string> executable;  // use this file for the main program
  std::string sysroot;                    // module paths are resolved inside it ("" = /)
  std::vector<std::string> search_dirs;   // more places to look for module files, by name
  std::string debuginfo_path = limits::kDebuginfoPath;
  size_t max_threads = limits::kMaxThreads;
  size_t max_maps = limits::kMaxMaps;  // also caps NT_FILE and the link map
};

class CoreFileTarget : public NotesTarget {
 public:
  // Opens and parses `path`. Errors name what is wrong with the file, or
  // with an option (an executable or sysroot that names nothing).
  static util::Result<std::unique_ptr<CoreFileTarget>> open(const std::string& path,
                                                            const CoreFileOptions& options = {});

  size_t read_memory(uint64_t address, std::span<std::byte> out) override;
  util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override;
  // The core, and the module files kept open (found before the engine's
  // sandbox is entered, read through afterwards).
  std::vector<int> fds() const override;

 private:
  CoreFileTarget(util::UniqueFd fd, CoreLayout layout, const CoreNotes& notes, CoreFileOptions options,
                 ModuleFiles files);

  // Memory the core itself holds (no module files).
  size_t read_core(uint64_t address, std::span<std::byte> out);
  ReadAt core_reader();
  // The module file behind a path (cached); null when none was found.
  // `base`: where its first page is mapped, for the build-id in memory.
  std::shared_ptr<const ModuleFile> module_file(const std::string& path, std::optional<uint64_t> base);
  std::optional<uint64_t> module_base(size_t map_index) const;
  size_t map_index(const proc::MapEntry& mapping) const;
  std::optional<std::string> build_id_in_memory(uint64_t base);
  void note_truncation(uint64_t file_size);
  void refine_permissions();
  void modules_from_link_map();
  void add_file_mappings(const std::string& path, const ElfImage& image, uint64_t bias);

  util::UniqueFd fd_;
  CoreLayout layout_;
  std::vector<CoreSegment> by_address_;  // PT_LOADs sorted by vaddr
  CoreFileOptions options_;
  ModuleFiles files_;
  std::string main_path_;                                              // the executable as the core names it
  std::map<std::string, std::shared_ptr<const ModuleFile>> resolved_;  // null: not found (or not kept)
  size_t kept_open_ = 0;
  bool lookups_capped_ = false;
};

}  // namespace usercrash::engine
