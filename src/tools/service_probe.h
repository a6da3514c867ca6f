// Is the server there? Probes that `usercrashctl status` and `enable --mode
// auto` use; neither sends the server a request.
#pragma once

#include <string>

#include "util/result.h"

namespace usercrash::tools {

// Connects to usercrash_s's SOCK_SEQPACKET socket and hangs up at once (the
// server drops such a connection without a word). Fails with the reason.
util::Result<void> server_answers(const std::string& socket);

// Whether some process listens on the AF_UNIX socket bound at `path`, from
// /proc/net/unix. Does not connect: a connection to the kernel socket would
// look like a crash to the server.
bool socket_listening(const std::string& path);

// uname's release, "" when unknown.
std::string kernel_release();

}  // namespace usercrash::tools
