// One trusted system library held warm (engine/warm_modules.h): its ELF,
// its symbol table as an address-sorted index, its separate debug file
// found by build-id, and that file's DWARF with every unit's line table
// decoded and the address-to-unit table read, all once. A crash whose
// module has the same build-id takes its function, file:line and inlined
// calls from here (engine/unwinder.h) instead of loading them again.
//
// Built only from trusted files (engine/trusted_file.h); after load()
// nothing here is changed by a lookup in the warm parent's own state, and a
// forked crash process that looks things up touches only its own
// copy-on-write pages.
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/subprogram_index.h"
#include "engine/symbol_index.h"
#include "util/result.h"

namespace usercrash::engine {

struct WarmModuleOptions {
  std::string debuginfo_path;  // DIR/.build-id/xx/rest.debug; "": no debug file
  // DWARF is loaded only if its estimated memory (11x the debug file, whose
  // sections are compressed: libc's 4.0 MiB take 35 MiB, the loader's 0.5
  // MiB 3.5 MiB, libm's 0.9 MiB 9.3 MiB) fits in this.
  uint64_t max_dwarf_bytes = UINT64_MAX;
};

class WarmModule {
 public:
  // `path` absolute, symlinks resolved (open_trusted_file refuses any).
  static util::Result<std::unique_ptr<WarmModule>> load(const std::string& path, const WarmModuleOptions& options);
  ~WarmModule();
  WarmModule(const WarmModule&) = delete;
  WarmModule& operator=(const WarmModule&) = delete;

  const std::string& path() const { return path_; }
  const std::string& build_id() const { return build_id_; }  // hex
  dev_t device() const { return device_; }
  ino_t inode() const { return inode_; }
  const std::optional<std::string>& debug_file() const { return debug_file_; }
  bool has_dwarf() const { return has_dwarf_; }
  // Why the DWARF is not here, when it is not.
  const std::optional<std::string>& dwarf_problem() const { return dwarf_problem_; }
  std::chrono::nanoseconds load_time() const { return load_time_; }

  // This module's address for `address` in a copy of the same file loaded
  // with load bias `bias` (a crash's module).
  uint64_t address_for(uint64_t address, uint64_t bias) const { return address - bias + bias_; }
  uint64_t bias() const { return bias_; }

  const SymbolIndex& symbols() const { return *symbols_; }
  // The libdwfl module, for DWARF lookups (engine/frame_symbols.h) when
  // has_dwarf(); lives as long as this object.
  Dwfl_Module* module() const { return mod_; }
  // Its functions by address, when has_dwarf().
  const SubprogramIndex* subprograms() const { return subprograms_.get(); }

  struct Loader;  // libdwfl's callbacks (warm_module.cpp)

 private:
  WarmModule() = default;

  std::string path_, build_id_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::optional<std::string> debug_file_;
  uint64_t debug_file_size_ = 0;
  std::string debuginfo_path_;
  bool has_dwarf_ = false;
  std::optional<std::string> dwarf_problem_;
  std::chrono::nanoseconds load_time_{0};
  uint64_t bias_ = 0;
  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* mod_ = nullptr;
  std::unique_ptr<SymbolIndex> symbols_;
  std::unique_ptr<SubprogramIndex> subprograms_;
};

}  // namespace usercrash::engine
