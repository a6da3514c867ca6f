// usercrashctl clean: removes old reports, under the directory's lock.
#pragma once

#include "tools/ctl/command.h"

namespace usercrash::tools::ctl {

Outcome run_clean(Context& ctx, const CommandArgs& args);

}  // namespace usercrash::tools::ctl
