// `usercrashctl enable` and `disable`: install the core_pattern line and the
// core_pipe_limit, save what was there first, and put it back byte for byte.
// Every failure after the first change undoes what this call changed, so a
// command either does all of its work or leaves things as it found them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/core_pattern.h"
#include "tools/enable_state.h"
#include "util/result.h"

namespace usercrash::tools {

// The two kernel settings (tests point these at plain files).
struct KernelFiles {
  std::string core_pattern = "/proc/sys/kernel/core_pattern";
  std::string core_pipe_limit = "/proc/sys/kernel/core_pipe_limit";
};

// A sysctl's value as the kernel keeps it: the text read, minus the one
// '\n' the kernel appends.
util::Result<std::string> read_setting(const std::string& path);

// Writes `value` and '\n' in one write (the kernel stores up to the newline)
// and reads it back: fails unless the setting now reads `value`.
util::Result<void> write_setting(const std::string& path, std::string_view value);

struct EnablePaths {
  KernelFiles kernel;
  std::string state_directory;            // config key state_directory
  std::string sysctl_file = kSysctlFile;  // where --persist writes
};

struct EnableRequest {
  Mode mode = Mode::pipe;
  std::string pattern;        // from pipe_pattern() or socket_pattern()
  std::string kernel_socket;  // config key kernel_socket, to recognise our socket pattern
  bool persist = false;       // also write the sysctl.d file
};

struct EnableOutcome {
  EnableState state;               // what is saved now
  bool first = true;               // this call saved the previous settings; false: an earlier enable had
  std::vector<std::string> notes;  // what a person should know
};

util::Result<EnableOutcome> enable(const EnablePaths& paths, const EnableRequest& request);

struct DisableOutcome {
  bool was_enabled = false;  // false: nothing saved, nothing changed
  EnableState state;         // what was restored (when was_enabled)
  std::vector<std::string> notes;
};

// Restores the saved core_pattern and core_pipe_limit and removes what
// enable installed. When core_pattern is no longer what enable installed
// (someone changed it since), changes nothing and fails unless `force`.
util::Result<DisableOutcome> disable(const EnablePaths& paths, bool force);

// The sysctl.d file --persist writes, and whether a file is one of those.
std::string sysctl_file_text(std::string_view pattern, std::string_view pipe_limit);
bool is_our_sysctl_file(std::string_view content);

}  // namespace usercrash::tools
