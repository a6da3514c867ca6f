// usercrash_c's inputs, parsed once and validated: the kernel's
// %-specifiers from core_pattern and our own options.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "util/result.h"

namespace usercrash::client {

struct ClientContext {
  std::string config_path;  // empty: the default
  pid_t pid = 0;            // %P: global pid
  std::string comm;         // %e
  int signal = 0;           // %s
  int pidfd = -1;           // %F: a pidfd the kernel opened for us
  pid_t tid = 0;            // %I: global tid of the crashing thread
  std::optional<uid_t> uid;  // %u
  std::optional<gid_t> gid;  // %g
  std::optional<int64_t> time;  // %t
  std::optional<int> dumpable;  // %d: 0, 1 or 2 (suid_dumpable)
  std::optional<uint64_t> core_limit;  // %c: RLIMIT_CORE of the crashed process
  // Kernel socket mode: the server hands us the kernel's coredump connection.
  int core_fd = 0;
  std::string source = "core_pattern";
  bool verbose = false;
};

// Parses argv. Errors describe the bad argument; the caller prints usage
// and exits 2.
util::Result<ClientContext> parse_client_args(int argc, char** argv);

void print_client_help(const char* program);

}  // namespace usercrash::client
