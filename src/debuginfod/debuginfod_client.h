// Debug files by build-id from debuginfod servers, through elfutils' own
// client (libdebuginfod: its cache, its negative answers cached too). Used
// on a build host (usercrashctl symbolize, analyze, debugger) and, when
// crash_debuginfod says so, by usercrash_c after the engine collected
// (collect/late_symbols.h). libdebuginfod (and libcurl under it) is loaded
// on the first Client::open only, so a crash without it never loads it.
//
// Every fetch of one client shares one time budget: a server that is down
// costs a refused connection, a slow one at most the budget (the client's
// progress callback aborts the transfer once it has passed), and after a
// server failed to answer in time, the next modules do not wait for it again.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "engine/debug_files.h"
#include "util/result.h"

namespace usercrash::debuginfod {

struct Options {
  std::string urls;  // space-separated, as DEBUGINFOD_URLS
  std::chrono::milliseconds budget{30000};
  // Bytes of one debug file at most (DEBUGINFOD_MAXSIZE).
  uint64_t max_file_size = 1ULL << 30;
  // The client's cache (DEBUGINFOD_CACHE_PATH); nullopt: the environment's
  // or the user's default.
  std::optional<std::string> cache_path = std::nullopt;
};

class Client : public engine::RemoteDebugFiles {
 public:
  // Refuses URLs that are empty or not http:// or https://.
  static util::Result<std::unique_ptr<Client>> open(Options options);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // An error of kind timed_out when the budget ran out first; errno_value
  // is what the client said (ENOENT: the servers have no such file).
  util::Result<engine::DebugFile> fetch(const std::string& build_id) override;

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An interrupted fetch leaves an empty file in the client's cache, which the
// client then takes for a cached "not there" for 10 minutes; removed here.
void forget_cut_off_fetch(const std::string& build_id);

}  // namespace usercrash::debuginfod
