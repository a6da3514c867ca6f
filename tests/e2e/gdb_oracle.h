// gdb as the test oracle: the backtraces gdb prints for a core, and a
// comparison with the frames of a usercrash report of the same crash.
// (Only tests run gdb; the product never does.)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace usercrash::test {

struct GdbFrame {
  std::string function;        // "??" when gdb has no name
  std::optional<uint64_t> pc;  // printed for physical frames ("0x… in")
};

struct GdbThread {
  pid_t lwp = 0;
  std::vector<GdbFrame> frames;
};

// Runs `gdb -batch -ex 'thread apply all bt N'` on exe + core; `gdb` may be
// gdb-multiarch, `sysroot` where it finds a foreign core's libraries.
std::vector<GdbThread> gdb_backtraces(const std::string& exe, const std::string& core, int max_frames = 256,
                                      const std::string& gdb = "gdb", const std::string& sysroot = "");

// Compares every thread of `report` with gdb's. Frames are grouped by
// physical frame (a pc and the inlined calls at it): the groups must come in
// the same order with the same pcs and the same function names, a name
// matching when it is equal or names the same symbol address in that
// module (gdb says __GI_raise where the symbol table's preferred name is
// raise). Inlined frames are compared where the report has them; gdb's
// inlined frames inside modules whose DWARF we do not load (libc, with
// source_lines=own) are allowed to be absent. Returns "" on a match, else
// what differs.
std::string compare_with_gdb(const nlohmann::json& report, const std::vector<GdbThread>& gdb, size_t max_groups = 1000);

}  // namespace usercrash::test
