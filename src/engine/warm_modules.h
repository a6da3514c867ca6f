// The warm collector's modules (issue 14): trusted system libraries loaded
// once in a long-lived parent (engine/warm_module.h each), found by
// build-id by every crash the parent forks a process for. The parent loads
// them before any crash and never changes them afterwards; a crash's
// process only reads them (its copy-on-write view), and nothing from a
// crashed process ever reaches them: the paths come from the caller, each
// file is checked (engine/trusted_file.h), and a crash's module is matched
// by its build-id only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/warm_module.h"
#include "util/limits.h"

namespace usercrash::engine {

struct WarmOptions {
  // Separate debug files by build-id (as the crash path's debuginfo_path).
  std::string debuginfo_path = limits::kDebuginfoPath;
  // Resident memory the modules may add to the process; a module whose
  // DWARF would pass it keeps its symbols only.
  uint64_t max_bytes = limits::kWarmMaxBytes;
  size_t max_modules = limits::kWarmMaxModules;
};

class WarmModules {
 public:
  WarmModules() = default;
  WarmModules(WarmModules&&) = default;
  WarmModules& operator=(WarmModules&&) = default;

  // Loads each library of `paths` (symlinks resolved first) that is
  // trusted; the others are named in problems(). Duplicates (by build-id)
  // are loaded once.
  static WarmModules load(const std::vector<std::string>& paths, const WarmOptions& options = {});

  // The module whose build-id (hex) is `build_id`; null when none. The
  // pointer lives as long as this object.
  const WarmModule* find(std::string_view build_id) const;

  const std::vector<std::unique_ptr<WarmModule>>& modules() const { return modules_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // Resident memory the loading added (bytes), and how long it took.
  uint64_t resident_bytes() const { return resident_bytes_; }
  // Private writable memory (VmData) the loading added: what RLIMIT_DATA
  // counts in every process forked from this one, on top of its own use
  // (a collector child held to memory_budget needs this much more).
  uint64_t data_bytes() const { return data_bytes_; }
  std::chrono::nanoseconds load_time() const { return load_time_; }

 private:
  std::vector<std::unique_ptr<WarmModule>> modules_;
  std::unordered_map<std::string, const WarmModule*> by_build_id_;
  std::vector<std::string> problems_;
  uint64_t resident_bytes_ = 0;
  uint64_t data_bytes_ = 0;
  std::chrono::nanoseconds load_time_{0};
};

// The shared libraries the running process has loaded (dl_iterate_phdr),
// symlinks resolved, libc first and the dynamic loader second (the budget
// goes to them first), then the others in load order; the program itself
// and the vdso are left out. For the warm parent: what it maps itself is
// what most crashed programs map too.
std::vector<std::string> default_warm_libraries();

}  // namespace usercrash::engine
