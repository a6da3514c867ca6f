// A private scratch directory for usercrashctl (mkdtemp, mode 0700): the
// decompressed core of analyze or debug lives there. It goes with the
// object, unless kept (debug leaves the core for the debugger the person
// runs, and says how to remove it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::tools::ctl {

class PrivateTemp {
 public:
  enum class Base {
    tmp,          // $TMPDIR, else /tmp
    runtime_dir,  // $XDG_RUNTIME_DIR when it is ours and only ours, else as tmp
  };
  static util::Result<std::unique_ptr<PrivateTemp>> create(Base base = Base::tmp);
  ~PrivateTemp();
  PrivateTemp(const PrivateTemp&) = delete;
  PrivateTemp& operator=(const PrivateTemp&) = delete;

  // Creates NAME inside (O_EXCL|O_NOFOLLOW, 0600).
  util::Result<util::UniqueFd> file(const std::string& name);
  std::string path(const std::string& name) const { return path_ + "/" + name; }
  const std::string& directory() const { return path_; }
  // The directory and its files stay when the object goes.
  void keep() { kept_ = true; }

 private:
  explicit PrivateTemp(std::string path) : path_(std::move(path)) {}
  std::string path_;
  util::UniqueFd dir_;
  std::vector<std::string> names_;
  bool kept_ = false;
};

}  // namespace usercrash::tools::ctl
