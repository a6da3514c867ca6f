// Debug files from debuginfod for the crash path (crash_debuginfod), which
// the engine's sandbox cannot fetch: it has no network, and must not get
// any. So the fetch happens between collecting and writing the report:
//
//   1. the engine child, once it has collected, names the build-ids of the
//      modules whose frames lack file:line (wanted_debug_files);
//   2. the caller, outside the sandbox, fetches them by build-id within the
//      crash_debuginfod_timeout (fetch_debug_files), into a cache of root's;
//   3. the open debug files go to the child over its channel, and the child,
//      still in its sandbox, symbolizes those frames with the engine's
//      Symbolizer (symbolize_late) before it renders the report.
//
// So the hostile parts (the frames, and the DWARF of the files) are still
// read only inside the sandbox, and the network only outside it. A server
// that is down or silent costs at most the timeout; its reason goes to the
// report's problems. The signature is not made again: a crash keeps its
// group whether a server answered or not.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "engine/debug_files.h"
#include "engine/report.h"
#include "util/limits.h"

namespace usercrash::collect {

// Whether and for which modules the child names build-ids to fetch.
struct LateSymbols {
  bool wanted = false;
  // none: no module; own: not the C/C++ runtime (engine::is_runtime_module);
  // all: every module but the vdso.
  limits::SourceLines lines = limits::kSourceLines;
  size_t max_modules = limits::kMaxLateDebugFiles;
};

// The distinct build-ids of the modules of `report`'s frames that have no
// file (the crashing thread's first, in frame order), as `policy` allows,
// at most policy.max_modules.
std::vector<std::string> wanted_debug_files(const engine::Report& report, const LateSymbols& policy);

// What the caller fetched: open debug files by build-id, and why the others
// were not found.
struct FetchedDebugFile {
  std::string build_id;
  engine::DebugFile file;
};
struct FetchedDebugFiles {
  std::vector<FetchedDebugFile> files;
  std::vector<std::pair<std::string, std::string>> missing;  // build-id, why
};

// Asks `remote` for each of `build_ids` (which the child named: checked
// again here, hex and at most limits::kMaxLateDebugFiles); a file whose own
// build-id differs is refused.
FetchedDebugFiles fetch_debug_files(const std::vector<std::string>& build_ids, engine::RemoteDebugFiles& remote);

// In the child: the frames of the fetched modules symbolized from `files`
// (build-id, where it came from, open fd), thread by thread, the crashing
// thread first, until `deadline`; `report.symbolized` says which modules
// had a file and why the others had none. Returns problems for the report.
std::vector<std::string> symbolize_late(engine::Report& report, std::vector<FetchedDebugFile> files,
                                        const std::vector<std::pair<std::string, std::string>>& missing,
                                        std::chrono::steady_clock::time_point deadline, int64_t now);

}  // namespace usercrash::collect
