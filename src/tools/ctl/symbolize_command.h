// usercrashctl symbolize: a report made on a device with stripped binaries,
// symbolized on a build host from debug files found by build-id (debug
// directories, a sysroot, /usr/lib/debug, debuginfod). The engine does the
// symbolizing (engine/symbolizer.h), the report layer the rewriting
// (report/resymbolize.h); this is the command line around them.
#pragma once

#include "tools/ctl/command.h"

namespace usercrash::tools::ctl {

Outcome run_symbolize(Context& ctx, const CommandArgs& args);

}  // namespace usercrash::tools::ctl
