// What `ps` shows for a process of the warm collector: each process it
// forks for a crash takes that crash's command line (usercrash_c's, as the
// kernel gave it), written over its own argument area, so that it reads
// like the usercrash_c it stands in for.
#pragma once

#include <string>
#include <vector>

namespace usercrash::client {

// Remembers main's argument area; call first thing in main.
void remember_argument_area(int argc, char** argv);

// Writes `args` (NUL-separated, cut to fit) over the remembered area.
void set_process_title(const std::vector<std::string>& args);

}  // namespace usercrash::client
