#include "engine/warm_modules.h"

#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::engine {
namespace {

using Clock = std::chrono::steady_clock;

// This process's resident memory and its data (private writable) memory,
// in bytes.
uint64_t resident() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, pages = 0;
  if (!(statm >> size >> pages)) return 0;
  return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}
uint64_t data() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0, shared = 0, text = 0, lib = 0, data = 0;
  if (!(statm >> size >> resident >> shared >> text >> lib >> data)) return 0;
  return data * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

WarmModules WarmModules::load(const std::vector<std::string>& paths, const WarmOptions& options) {
  WarmModules out;
  auto started = Clock::now();
  uint64_t before = resident(), data_before = data();
  for (const auto& path : paths) {
    if (out.modules_.size() >= options.max_modules) {
      out.problems_.push_back(fmt::format("more than {} libraries: the rest left out", options.max_modules));
      break;
    }
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) {
      out.problems_.push_back(fmt::format("{}: not found", util::escape_text(path)));
      continue;
    }
    uint64_t now = resident();
    uint64_t used = now > before ? now - before : 0;
    WarmModuleOptions o{options.debuginfo_path, options.max_bytes > used ? options.max_bytes - used : 0};
    auto m = WarmModule::load(resolved, o);
    // The estimate was short: the module again, with its symbols only.
    if (m && (*m)->has_dwarf() && resident() > before + options.max_bytes) {
      m->reset();
      ::malloc_trim(0);
      o.max_dwarf_bytes = 0;
      m = WarmModule::load(resolved, o);
    }
    if (!m) {
      out.problems_.push_back(m.error().message);
      continue;
    }
    if (out.by_build_id_.contains((*m)->build_id())) continue;
    if ((*m)->dwarf_problem() && (*m)->debug_file())
      out.problems_.push_back(fmt::format("{}: {}", util::escape_text(resolved), *(*m)->dwarf_problem()));
    out.by_build_id_.emplace((*m)->build_id(), m->get());
    out.modules_.push_back(std::move(*m));
  }
  uint64_t after = resident();
  out.resident_bytes_ = after > before ? after - before : 0;
  uint64_t data_after = data();
  out.data_bytes_ = data_after > data_before ? data_after - data_before : 0;
  out.load_time_ = Clock::now() - started;
  return out;
}

const WarmModule* WarmModules::find(std::string_view build_id) const {
  auto it = by_build_id_.find(std::string(build_id));
  return it == by_build_id_.end() ? nullptr : it->second;
}

std::vector<std::string> default_warm_libraries() {
  std::vector<std::string> found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* arg) -> int {
        auto* out = static_cast<std::vector<std::string>*>(arg);
        std::string_view name = info->dlpi_name ? info->dlpi_name : "";
        if (name.empty() || name[0] != '/') return 0;  // the program itself, the vdso
        char resolved[PATH_MAX];
        if (::realpath(info->dlpi_name, resolved)) out->push_back(resolved);
        return 0;
      },
      &found);
  auto rank = [](const std::string& path) {
    std::string_view base(path);
    base.remove_prefix(base.rfind('/') + 1);
    if (base.starts_with("libc.so")) return 0;
    if (base.starts_with("ld-linux") || base.starts_with("ld64.so") || base.starts_with("ld-")) return 1;
    return 2;
  };
  std::stable_sort(found.begin(), found.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

}  // namespace usercrash::engine
