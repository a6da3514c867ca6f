// The warm collector: a long-lived usercrash_c that usercrash_s starts
// (`--warm-collector FD`, FD its end of a socket pair) and restarts when it
// dies. It loads once what every crash needs and nothing crash-specific:
// the configuration, the disassembler, the engine's sandbox (its user,
// seccomp program and Landlock paths). Then it keeps one spare process
// forked and waiting on the socket pair; the server passes each crash
// handed over to it (client/warm_hand_off.h) to that spare, which collects
// that one crash exactly as usercrash_c would (client/crash_run.h), with
// the same isolated, sandboxed engine child, and exits. A new spare is
// forked at once.
//
// No byte of a crash ever reaches the warm process itself: a spare is a
// copy, and whatever a hostile crash does to it dies with it. At most
// max_concurrent + max_queue spares collect at once; past that the crashes
// wait on the socket pair, and usercrash_c collects them itself when the
// wait is too long.
#pragma once

#include "client/client_context.h"
#include "config/config.h"

namespace usercrash::client {

// Runs until the server closes its end or SIGTERM; the exit status.
int serve_warm_collector(const ClientContext& own, const config::Config& config);

}  // namespace usercrash::client
