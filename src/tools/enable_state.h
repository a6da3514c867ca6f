// What `usercrashctl enable` saved and installed, kept in the root-only state
// directory (config key state_directory, default /var/lib/usercrash):
//
//   core_pattern.saved  the core_pattern that was there before, byte for byte
//                       as the kernel keeps it (without the '\n' it appends
//                       when read). usercrash_c reads this file to chain to
//                       the previous handler: keep its name and content.
//   enable.state        KEY=VALUE lines: the previous core_pipe_limit, what
//                       enable installed (pattern, limit, mode) and the
//                       sysctl.d file `--persist` wrote.
//
// Every file is replaced atomically (a new name created O_EXCL|O_NOFOLLOW,
// then renamed over the old one through the directory's fd).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/saved_pattern.h"
#include "tools/core_pattern.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::tools {

using config::kSavedPatternName;
inline constexpr const char* kStateName = "enable.state";

// Writes `content` to DIRFD/NAME atomically: a hidden temporary created
// O_CREAT|O_EXCL|O_NOFOLLOW with `mode`, written and synced, then renamed
// over NAME (a symlink at NAME is replaced, never followed).
util::Result<void> replace_file_at(int dirfd, const std::string& name, std::string_view content, mode_t mode);

class StateDirectory {
 public:
  // Opens the directory (O_DIRECTORY|O_NOFOLLOW); with `create`, makes it
  // (mode 0700) when missing; its parent must exist. Refuses a directory not
  // owned by the caller's uid or writable by group or others.
  // Without `create`, a missing directory is returned as nullopt.
  static util::Result<std::optional<StateDirectory>> open(const std::string& path, bool create);

  const std::string& path() const { return path_; }
  int fd() const { return dir_.get(); }

  // Replaces NAME (mode 0600).
  util::Result<void> write(const char* name, std::string_view content);
  // The content of NAME (at most `max_bytes`), nullopt when absent.
  util::Result<std::optional<std::string>> read(const char* name, size_t max_bytes = 64 * 1024) const;
  // Removes NAME; absent is fine.
  util::Result<void> remove(const char* name);

 private:
  StateDirectory(std::string path, util::UniqueFd dir) : path_(std::move(path)), dir_(std::move(dir)) {}
  std::string path_;
  util::UniqueFd dir_;
};

struct EnableState {
  Mode mode = Mode::pipe;
  std::string saved_pattern;      // core_pattern before the first enable, without the trailing '\n'
  std::string saved_pipe_limit;   // core_pipe_limit before the first enable, as text ("0")
  std::string installed_pattern;  // what enable wrote
  std::string installed_pipe_limit;
  std::string sysctl_file;  // written by --persist; empty when none
  int64_t enabled_at = 0;   // seconds since the epoch, of the first enable
};

// The text of enable.state (the saved pattern lives in its own file).
std::string serialize_state(const EnableState& state);

// Parses enable.state; `saved_pattern` is core_pattern.saved's content.
util::Result<EnableState> parse_state(std::string_view text, std::string saved_pattern);

// The state when enable.state exists (nullopt otherwise). A state file
// without its saved pattern, or one that does not parse, is an error: it
// needs a person's look, not a guess.
util::Result<std::optional<EnableState>> load_state(const StateDirectory& dir);

// Writes core_pattern.saved (when `with_saved_pattern`) and then enable.state,
// so a state file never exists without the pattern it refers to.
util::Result<void> save_state(StateDirectory& dir, const EnableState& state, bool with_saved_pattern);

// Removes enable.state, then core_pattern.saved.
util::Result<void> remove_state(StateDirectory& dir);

}  // namespace usercrash::tools
