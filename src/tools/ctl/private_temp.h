// A private scratch directory for usercrashctl (mkdtemp under $TMPDIR or
// /tmp, mode 0700): the decompressed core gdb reads lives there, and goes
// with the object.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::tools::ctl {

class PrivateTemp {
 public:
  static util::Result<std::unique_ptr<PrivateTemp>> create();
  ~PrivateTemp();
  PrivateTemp(const PrivateTemp&) = delete;
  PrivateTemp& operator=(const PrivateTemp&) = delete;

  // Creates NAME inside (O_EXCL|O_NOFOLLOW, 0600).
  util::Result<util::UniqueFd> file(const std::string& name);
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit PrivateTemp(std::string path) : path_(std::move(path)) {}
  std::string path_;
  util::UniqueFd dir_;
  std::vector<std::string> names_;
};

}  // namespace usercrash::tools::ctl
