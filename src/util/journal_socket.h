// journald's native protocol, spoken directly (it is a stable interface:
// systemd.io/JOURNAL_NATIVE_PROTOCOL) rather than through libsystemd, whose
// loading and relocation (with liblz4, libgcrypt, libgpg-error and libcap
// under it) cost every usercrash_c about 1.2 ms before it read a byte of
// the crash, for one call.
#pragma once

#include <string>
#include <vector>

namespace usercrash::util::journal {

// One entry's datagram: "NAME=value\n" per field, or, for a value with a
// newline, "NAME\n", its size as 64-bit little-endian, the value and "\n".
// Each field is "NAME=value".
std::string datagram(const std::vector<std::string>& fields);

// Sends the entry to `socket_path` (journald's socket); an entry too large
// for one datagram goes as a sealed memfd, as libsystemd sends it. 0, or
// the negative errno.
int send(const std::vector<std::string>& fields, const char* socket_path);

}  // namespace usercrash::util::journal
