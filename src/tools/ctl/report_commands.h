// usercrashctl list and info: the reports in the crash directory.
#pragma once

#include "tools/ctl/command.h"

namespace usercrash::tools::ctl {

Outcome run_list(Context& ctx, const CommandArgs& args);
Outcome run_info(Context& ctx, const CommandArgs& args);

}  // namespace usercrash::tools::ctl
