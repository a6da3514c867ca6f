// The core_pattern lines `usercrashctl enable` installs, the core_pipe_limit
// it sets, and how to tell a pattern that runs usercrash from any other.
// Pure functions: no file is read or written here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "util/result.h"

namespace usercrash::tools {

// The kernel keeps CORENAME_MAX_SIZE - 1 = 127 bytes of core_pattern and
// silently drops the rest: a longer line is refused, never written cut.
inline constexpr size_t kMaxCorePattern = 127;

// The core_pipe_limit `enable` sets. 0, because:
//  - usercrash_c reads only the core's notes and collects from /proc/<pid>
//    while the kernel is still blocked writing the rest of the core into
//    the pipe, so the extra wait a non-zero limit buys (the kernel keeps the
//    dead process until the helper exits) is never needed;
//  - a non-zero N makes the kernel skip crash N+1 of a storm outright: no
//    helper runs, no report exists, only a line in the kernel log. A storm is
//    bounded in usercrash instead (max_queue, rate_limit), counted and logged.
inline constexpr unsigned kPipeLimit = 0;

// Where `enable --persist` writes its sysctl.d file. Same name as the
// packaged /usr/lib/sysctl.d file, which it overrides.
inline constexpr const char* kSysctlFile = "/etc/sysctl.d/50-usercrash.conf";

// How the kernel hands crashes over.
enum class Mode { pipe, socket };
const char* mode_name(Mode mode);

// "|CLIENT [-c CONFIG] -k%F:%I:%u:%g:%t:%d:%c -- %P %e %s" (the client's
// compact form, see client/client_context.h); without the "--" when only
// that makes it fit. `config_path` may be empty.
// Paths must be absolute and hold no whitespace, control byte or '%' (the
// kernel splits the line on spaces and expands '%'); the whole line must fit
// in kMaxCorePattern. Errors say which rule was broken.
util::Result<std::string> pipe_pattern(const std::string& client, const std::string& config_path);

// "@@KERNEL_SOCKET": the kernel connects to the server's socket itself
// (Linux 6.17 and later).
util::Result<std::string> socket_pattern(const std::string& kernel_socket);

// What a core_pattern does, as far as usercrash is concerned.
enum class PatternKind {
  usercrash_pipe,    // "|.../usercrash_c ..."
  usercrash_socket,  // "@@" or "@" followed by our kernel_socket
  other_pipe,        // some other helper program
  other_socket,      // some other socket
  file,              // a core file name ("core", "/var/crash/core.%p", "")
};

struct PatternInfo {
  PatternKind kind = PatternKind::file;
  std::string target;  // the helper program or socket path; empty for files
  bool ours() const { return kind == PatternKind::usercrash_pipe || kind == PatternKind::usercrash_socket; }
};

// `kernel_socket` is the configured one, to recognise our socket pattern.
PatternInfo classify_pattern(std::string_view pattern, std::string_view kernel_socket);

// "6.18.44-fc" → {6, 18}; nullopt when the release does not start with two numbers.
std::optional<std::pair<unsigned, unsigned>> kernel_version(std::string_view release);

// Whether a kernel of that release accepts "@@socket" patterns (6.17+).
bool kernel_has_coredump_socket(std::string_view release);

}  // namespace usercrash::tools
