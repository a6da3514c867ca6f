// What usercrashctl does for a person at a terminal (issue 12.6), as
// coredumpctl does: long output goes through a pager, and a report's signal,
// cause and crashing frame are coloured. Neither happens when the output is
// a pipe or a file, so scripts read the same bytes as before.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace usercrash::tools::ctl {

enum class ColorMode { automatic, always, never };

// "auto", "always", "never"; nullopt for anything else.
std::optional<ColorMode> parse_color_mode(std::string_view text);

// always and never say it; auto colours a terminal unless NO_COLOR is set
// (non-empty, https://no-color.org) or TERM is "dumb" or unset.
bool use_color(ColorMode mode, bool out_is_terminal, const char* no_color, const char* term);

// A text report (already terminal-safe: no controls of its own) with its
// "signal:" line in bold red, its "cause:" line in bold, and the crashing
// frame (the first frame under "BackTrace:") in bold yellow.
std::string colorize_report(std::string_view text);

// The pager's command line: SYSTEMD_PAGER, else PAGER, else "less", split at
// blanks (it is run directly, never through a shell). Empty when the chosen
// variable is empty or "cat": no pager.
std::vector<std::string> pager_command(const char* systemd_pager, const char* pager);

// Runs the pager with our stdout going into it, from start() until the
// object ends (stdout is flushed and closed, and the pager waited for, so
// the shell prompt comes back after the pager is done). less gets LESS=FRSXMK
// unless LESS is set (quit at once when it fits on one screen, pass colours),
// and LESSSECURE=1 when we run with another user's rights (sudo, setuid), so
// its shell escapes are off.
class Pager {
 public:
  Pager() = default;
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;
  ~Pager();

  // Starts the pager when stdout is a terminal; false when it did not (not a
  // terminal, no pager wanted, or it could not be started: output then goes
  // to the terminal directly).
  bool start();

 private:
  pid_t pid_ = -1;
};

}  // namespace usercrash::tools::ctl
