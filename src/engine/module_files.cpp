#include "engine/module_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/elf_image.h"
#include "util/escape.h"
#include "util/path_names.h"

namespace usercrash::engine {

using util::Result;
using util::UniqueFd;

Result<UniqueFd> open_regular_file(int dirfd, const std::string& path, bool in_root) {
  if (path.empty()) return util::fail("empty path");
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_MAGICLINKS | (in_root ? RESOLVE_IN_ROOT : 0);
  UniqueFd where(static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how)));
  if (!where) return util::fail_errno(util::escape_text(path));
  struct stat st {};
  if (::fstat(where.get(), &st) != 0) return util::fail_errno(util::escape_text(path));
  if (!S_ISREG(st.st_mode)) return util::fail(util::escape_text(path) + ": not a regular file");
  // Reopen that very inode for reading.
  std::string self = fmt::format("/proc/self/fd/{}", where.get());
  UniqueFd fd(::open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return util::fail_errno(util::escape_text(path));
  struct stat again {};
  if (::fstat(fd.get(), &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino)
    return util::fail(util::escape_text(path) + ": changed while it was opened");
  return fd;
}

namespace {

Result<UniqueFd> open_directory(const std::string& path, const char* what) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return util::fail_errno(fmt::format("{} {}", what, util::escape_text(path)));
  return fd;
}

std::string dir_name(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

struct FileIdentity {
  uint16_t machine = 0;
  std::optional<std::string> build_id;
};

std::optional<FileIdentity> identify(int fd) {
  ReadAt read = file_reader(fd);
  auto image = read_elf_image(read);
  if (!image) return std::nullopt;
  return FileIdentity{image->machine, elf_build_id(*image, read, true)};
}

}  // namespace

Result<ModuleFiles> ModuleFiles::open(ModuleSearch search) {
  ModuleFiles files;
  if (search.executable) {
    auto exe = open_regular_file(AT_FDCWD, *search.executable, false);
    if (!exe) return util::fail("the executable " + exe.error().message);
  }
  auto root = open_directory(search.sysroot.empty() ? "/" : search.sysroot, "the sysroot");
  if (!root) return std::unexpected(root.error());
  files.root_ = std::move(*root);
  for (const auto& dir : search.search_dirs) {
    auto fd = open_directory(dir, "the search directory");
    if (!fd) return std::unexpected(fd.error());
    files.search_fds_.push_back(std::move(*fd));
  }
  files.search_ = std::move(search);
  return files;
}

Result<ModuleFile> ModuleFiles::find(const std::string& path, bool main, const std::optional<std::string>& build_id,
                                     uint16_t machine) const {
  struct Candidate {
    int dirfd;
    std::string path;
    bool in_root;
    std::string shown;
  };
  std::vector<Candidate> candidates;
  const std::string base(util::base_name(path));
  const bool plain_base = !base.empty() && base != "." && base != "..";
  if (main && search_.executable) candidates.push_back({AT_FDCWD, *search_.executable, false, *search_.executable});
  if (!path.empty())
    candidates.push_back({root_.get(), path, true, search_.sysroot.empty() ? path : search_.sysroot + path});
  if (build_id && build_id->size() > 2 && !search_.debuginfo_path.empty()) {
    std::string by_id =
        fmt::format("{}/.build-id/{}/{}", search_.debuginfo_path, build_id->substr(0, 2), build_id->substr(2));
    candidates.push_back({AT_FDCWD, by_id, false, by_id});
  }
  if (plain_base && search_.executable) {
    std::string beside = dir_name(*search_.executable) + "/" + base;
    candidates.push_back({AT_FDCWD, beside, false, beside});
  }
  for (size_t i = 0; plain_base && i < search_fds_.size(); ++i)
    candidates.push_back({search_fds_[i].get(), base, false, search_.search_dirs[i] + "/" + base});

  std::optional<ModuleFile> fallback;
  std::string last_error = "no candidate";
  for (auto& c : candidates) {
    auto fd = open_regular_file(c.dirfd, c.path, c.in_root);
    if (!fd) {
      last_error = fd.error().message;
      continue;
    }
    auto identity = identify(fd->get());
    if (!identity) {
      last_error = util::escape_text(c.shown) + ": not an ELF file";
      continue;
    }
    if (identity->machine != machine) {
      last_error = fmt::format("{} is for ELF machine {}, the core's is {}", util::escape_text(c.shown),
                               identity->machine, machine);
      continue;
    }
    ModuleFile file;
    file.build_id = identity->build_id;
    file.fd = std::move(*fd);
    file.where = c.shown;
    if (!build_id || file.build_id == build_id) return file;
    if (!fallback) {
      file.mismatch = fmt::format("{} has build-id {}, the core's module has {}", util::escape_text(c.shown),
                                  file.build_id.value_or("none"), *build_id);
      fallback = std::move(file);
    }
  }
  if (fallback) return std::move(*fallback);
  return util::fail(last_error);
}

}  // namespace usercrash::engine
