// usercrashctl debug (gdb), dump and analyze: what a saved or given core file holds.
#pragma once

#include "tools/ctl/command.h"

namespace usercrash::tools::ctl {

Outcome run_debug(Context& ctx, const CommandArgs& args);
Outcome run_dump(Context& ctx, const CommandArgs& args);
Outcome run_analyze(Context& ctx, const CommandArgs& args);

}  // namespace usercrash::tools::ctl
