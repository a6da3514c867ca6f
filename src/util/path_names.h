// Names of paths as the kernel gives them (in /proc and in a core's NT_FILE).
#pragma once

#include <string>
#include <string_view>

namespace usercrash::util {

// The last component of PATH (all of it when there is no '/').
std::string_view base_name(std::string_view path);

// PATH without the " (deleted)" the kernel appends once the file it names
// was unlinked.
std::string without_deleted_mark(std::string_view path);

}  // namespace usercrash::util
