// Is the server there, and how does it stand? `usercrashctl status` and
// `enable --mode auto` ask usercrash_s itself over its socket (a
// StatusRequest, which any user may send). /proc/net/unix cannot tell: a
// listening socket keeps the name it was bound to, and ours is bound under a
// temporary name and renamed into place.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "util/result.h"

namespace usercrash::tools {

struct ServerStatus {
  pid_t pid = 0;
  bool kernel_socket_listening = false;
  // Only for root, who may know how everyone's crashes fare; nullopt for
  // other users, and from a server too old to answer status requests.
  struct Details {
    unsigned active = 0, queued = 0, max_concurrent = 0, count = 0;
    uint64_t uptime_seconds = 0, accepted = 0, completed = 0, partial = 0, lost = 0, dropped = 0, refused = 0,
             kernel_connections = 0;
  };
  std::optional<Details> details;
  // The server took the connection but did not answer the request: it runs,
  // but predates status requests (or refused us for another reason).
  bool answered = true;
};

// Asks the server on `socket`. Fails (with the reason) when nothing accepts
// the connection: the server is not running.
util::Result<ServerStatus> query_server(const std::string& socket);

// uname's release, "" when unknown.
std::string kernel_release();

}  // namespace usercrash::tools
