// usercrash_c's inputs, parsed once and validated: the kernel's
// %-specifiers from core_pattern and our own options.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

namespace usercrash::client {

struct ClientContext {
  std::string config_path;             // empty: the default
  pid_t pid = 0;                       // %P: global pid
  std::string comm;                    // %e
  int signal = 0;                      // %s; 0 in kernel socket mode until the notes say
  int pidfd = -1;                      // %F: a pidfd the kernel opened for us
  pid_t tid = 0;                       // %I: global tid of the crashing thread
  std::optional<uid_t> uid;            // %u
  std::optional<gid_t> gid;            // %g
  std::optional<int64_t> time;         // %t
  std::optional<int> dumpable;         // %d: 0, 1 or 2 (suid_dumpable)
  std::optional<uint64_t> core_limit;  // %c: RLIMIT_CORE of the crashed process
  // Where the core comes from: stdin, or (kernel socket mode) the kernel's
  // coredump connection the server handed us.
  int core_fd = 0;
  // Kernel socket mode: core_fd is that connection; pid, pidfd and signal
  // come from it and from the core's notes.
  bool kernel_connection = false;
  // --warm-collector FD: run as the server's warm collector
  // (client/warm_collector.h) on this end of a socket pair.
  int warm_channel = -1;
  // Single-key overrides of the config ("-o KEY=VALUE"), applied in order.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::string source = "core_pattern";
  bool verbose = false;
  bool help = false;     // --help: print it and do nothing else
  bool version = false;  // --version: likewise
};

// Parses argv. Errors describe the bad argument; the caller prints usage
// and exits 2.
util::Result<ClientContext> parse_client_args(int argc, char** argv);

// The options alone, operands not checked: what can still be used (the
// configuration) when the operands cannot.
util::Result<ClientContext> parse_client_options(int argc, char** argv);

void print_client_help(const char* program);

}  // namespace usercrash::client
