// Listening and connecting on AF_UNIX SOCK_SEQPACKET sockets, and who is on the other end.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::ipc {

struct PeerCredentials {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};

// Creates the socket's parent directory if needed (root-only, 0700), refuses
// a parent that another user owns or can write, replaces a stale socket (only
// a socket: anything else at the path is an error), binds, sets `mode` and
// listens. `type` is SOCK_SEQPACKET or SOCK_STREAM (the kernel's coredump
// socket is a stream). A socket others may connect to (mode 0666) needs a
// directory they can search: one we create is then 0755.
util::Result<util::UniqueFd> listen_unix(const std::string& path, int type, int backlog, mode_t mode = 0600);

// Connects with a deadline; the returned socket is blocking.
util::Result<util::UniqueFd> connect_unix(const std::string& path, int type, std::chrono::milliseconds timeout);

util::Result<PeerCredentials> peer_credentials(int sock);

}  // namespace usercrash::ipc
