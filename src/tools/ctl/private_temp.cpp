#include "tools/ctl/private_temp.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

namespace usercrash::tools::ctl {

util::Result<std::unique_ptr<PrivateTemp>> PrivateTemp::create() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && base[0] == '/' ? base : "/tmp") + "/usercrashctl-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data())) return util::fail_errno("mkdtemp " + pattern);
  std::unique_ptr<PrivateTemp> temp(new PrivateTemp(buffer.data()));
  temp->dir_.reset(::open(temp->path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!temp->dir_) return util::fail_errno("open " + temp->path_);
  return temp;
}

PrivateTemp::~PrivateTemp() {
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
