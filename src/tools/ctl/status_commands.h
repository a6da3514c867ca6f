// usercrashctl status and is-active: how crashes are handled right now.
#pragma once

#include "tools/ctl/command.h"

namespace usercrash::tools::ctl {

Outcome run_status(Context& ctx, const CommandArgs& args);
Outcome run_is_active(Context& ctx, const CommandArgs& args);

}  // namespace usercrash::tools::ctl
