// usercrash_c's first step when the server keeps a warm collector: hand the
// crash over (its command line, the core stream and the kernel's pidfd)
// and let the collector's fresh process for this crash do the rest, which
// saves this process's own collecting: the disassembler, the sandbox's
// plan, the engine child's warm-up.
//
// Nothing of the core is read before the collector's process says it has
// the crash (HandOffTaken) and is told to go on (HandOffGo); a collector
// that is not there, not warm yet, or does not answer in time leaves the
// crash untouched here, and usercrash_c collects it itself, as ever.
#pragma once

#include <string>
#include <vector>

#include "client/client_context.h"
#include "config/config.h"

namespace usercrash::client {

enum class HandOffOutcome {
  taken,     // the warm collector has the crash: nothing is left to do here
  declined,  // nothing was read: collect the crash here (why says why)
};

// `args` is usercrash_c's command line as the kernel gave it (argv[0]
// first); ctx.core_fd and ctx.pidfd (when set) go with it as fds.
HandOffOutcome hand_off(const config::Config& config, const std::vector<std::string>& args, const ClientContext& ctx,
                        std::string& why);

}  // namespace usercrash::client
