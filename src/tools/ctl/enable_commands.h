// usercrashctl enable and disable: route the kernel's crashes to usercrash
// and put back what was there. The work is in tools/enabler.h.
#pragma once

#include "tools/ctl/command.h"

namespace usercrash::tools::ctl {

Outcome run_enable(Context& ctx, const CommandArgs& args);
Outcome run_disable(Context& ctx, const CommandArgs& args);

}  // namespace usercrash::tools::ctl
