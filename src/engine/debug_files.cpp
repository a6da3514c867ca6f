#include "engine/debug_files.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>

#include <fmt/format.h>

#include "engine/module_files.h"
#include "util/escape.h"

namespace usercrash::engine {

using util::Result;
using util::UniqueFd;

const char* debug_source_name(DebugSource source) {
  switch (source) {
    case DebugSource::debug_dir: return "debug_dir";
    case DebugSource::sysroot: return "sysroot";
    case DebugSource::system: return "system";
    case DebugSource::remote: return "debuginfod";
  }
  return "?";
}

bool is_build_id(std::string_view id) {
  if (id.size() < 2 || id.size() > 128 || id.size() % 2 != 0) return false;
  return id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::optional<std::string> file_build_id(int fd) {
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  if (!elf) return std::nullopt;
  const void* bits = nullptr;
  ssize_t len = elf_kind(elf) == ELF_K_ELF ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
  std::optional<std::string> id;
  if (len > 0) {
    id.emplace();
    for (ssize_t i = 0; i < len; ++i) *id += fmt::format("{:02x}", static_cast<const unsigned char*>(bits)[i]);
  }
  elf_end(elf);
  return id;
}

namespace {

struct Candidate {
  int dirfd;
  std::string path;
  bool in_root;
  std::string shown;
  DebugSource source;
};

std::string by_id(const std::string& root, const std::string& id) {
  return fmt::format("{}/.build-id/{}/{}.debug", root, id.substr(0, 2), id.substr(2));
}

std::vector<Candidate> candidates(const DebugSearch& search, const std::string& id,
                                  const std::optional<std::string>& module_path, int root) {
  std::vector<Candidate> out;
  for (const auto& dir : search.debug_dirs)
    out.push_back({AT_FDCWD, by_id(dir, id), false, by_id(dir, id), DebugSource::debug_dir});
  if (root >= 0) {
    out.push_back(
        {root, by_id("/usr/lib/debug", id), true, by_id(search.sysroot + "/usr/lib/debug", id), DebugSource::sysroot});
    // The unstripped module where the device had it, inside the sysroot
    // (RESOLVE_IN_ROOT: an absolute path or ".." from the report stays in).
    if (module_path && !module_path->empty() && module_path->front() == '/')
      out.push_back({root, *module_path, true, search.sysroot + *module_path, DebugSource::sysroot});
  }
  if (!search.system_dir.empty()) {
    std::string system = by_id(search.system_dir, id);
    out.push_back({AT_FDCWD, system, false, system, DebugSource::system});
  }
  return out;
}

}  // namespace

Result<DebugFile> find_debug_file(const DebugSearch& search, const std::string& build_id,
                                  const std::optional<std::string>& module_path) {
  if (!is_build_id(build_id)) return util::fail("not a build-id: '" + util::escape_text(build_id) + "'");
  UniqueFd root;
  if (!search.sysroot.empty()) {
    root = UniqueFd(::open(search.sysroot.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return util::fail_errno("the sysroot " + util::escape_text(search.sysroot));
  }
  std::vector<std::string> looked;
  for (auto& c : candidates(search, build_id, module_path, root ? root.get() : -1)) {
    looked.push_back(util::escape_text(c.shown));
    auto fd = open_regular_file(c.dirfd, c.path, c.in_root);
    if (!fd) continue;
    if (file_build_id(fd->get()) != build_id) continue;
    return DebugFile{std::move(*fd), c.shown, c.source};
  }
  std::string where = looked.empty() ? std::string("no debug directory given")
                                     : fmt::format("no debug file of that build-id at {}", fmt::join(looked, ", "));
  if (!search.remote) return util::fail(where);
  auto remote = search.remote->fetch(build_id);
  if (!remote) return util::fail(where + "; " + remote.error().message);
  if (file_build_id(remote->fd.get()) != build_id)
    return util::fail(where + "; debuginfod's file " + util::escape_text(remote->where) + " has another build-id");
  return remote;
}

}  // namespace usercrash::engine
