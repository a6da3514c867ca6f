#include "tools/ctl/private_temp.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "util/private_directory.h"

namespace usercrash::tools::ctl {

namespace {

// Where the directory is made. $XDG_RUNTIME_DIR (a tmpfs of the user's,
// 0700, gone at logout) only when it is a directory of ours that no one
// else can write; otherwise $TMPDIR or /tmp, where mkdtemp's 0700 keeps
// others out.
std::string base_directory(PrivateTemp::Base base) {
  if (base == PrivateTemp::Base::runtime_dir) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    util::DirectoryRules rules;
    rules.what = "XDG_RUNTIME_DIR";
    if (runtime && runtime[0] == '/' && util::open_private_directory(runtime, rules)) return runtime;
  }
  const char* tmp = std::getenv("TMPDIR");
  return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

}  // namespace

util::Result<std::unique_ptr<PrivateTemp>> PrivateTemp::create(Base base) {
  std::string pattern = base_directory(base) + "/usercrashctl-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data())) return util::fail_errno("mkdtemp " + pattern);
  std::unique_ptr<PrivateTemp> temp(new PrivateTemp(buffer.data()));
  temp->dir_.reset(::open(temp->path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!temp->dir_) return util::fail_errno("open " + temp->path_);
  return temp;
}

PrivateTemp::~PrivateTemp() {
  if (kept_) return;
  if (dir_)
    for (const auto& name : names_) ::unlinkat(dir_.get(), name.c_str(), 0);
  dir_.reset();
  ::rmdir(path_.c_str());
}

util::Result<util::UniqueFd> PrivateTemp::file(const std::string& name) {
  util::UniqueFd fd(::openat(dir_.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return util::fail_errno(fmt::format("create {}/{}", path_, name));
  names_.push_back(name);
  return fd;
}

}  // namespace usercrash::tools::ctl
