// The crash path's debuginfod source (crash_debuginfod): elfutils' client,
// opened on the first fetch, so that the library is loaded and the
// crash_debuginfod_timeout starts only when the collector named a debug
// file it lacks. Its cache is root's alone (crash_debuginfod_cache, created
// 0700; a symlink, another owner or a directory others may write is
// refused): the client runs as root, and a file planted there would be
// taken for a module's debug info.
//
// A server that let the timeout pass is not asked again for
// kUnansweredPause by the crashes that follow (a note in the cache, with
// the servers' URLs): in a crash storm each crash would otherwise wait the
// whole timeout, and the queue behind it fill.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "debuginfod/debuginfod_client.h"
#include "engine/debug_files.h"
#include "ipc/protocol.h"
#include "util/unique_fd.h"

namespace usercrash::client {

inline constexpr std::chrono::seconds kUnansweredPause{60};

class CrashDebuginfod : public engine::RemoteDebugFiles {
 public:
  // Nullptr unless the configuration asks for it (crash_debuginfod and
  // debuginfod_urls).
  static std::unique_ptr<CrashDebuginfod> from(const config::Config& config);

  util::Result<engine::DebugFile> fetch(const std::string& build_id) override;

  // What the fetches of this crash came to, for the server to count and
  // log (ipc::Completed.debuginfod): the first failure and its reason, else
  // answered once a server answered (a file, or "not there"), else
  // not_asked.
  struct Outcome {
    ipc::DebuginfodOutcome kind = ipc::DebuginfodOutcome::not_asked;
    std::string reason;
  };
  const Outcome& outcome() const { return outcome_; }

 private:
  explicit CrashDebuginfod(const config::Config& config);
  void failed(ipc::DebuginfodOutcome kind, const std::string& reason);

  std::string urls_;
  std::chrono::milliseconds budget_;
  std::string cache_;
  std::unique_ptr<debuginfod::Client> client_;
  util::UniqueFd cache_dir_;
  std::optional<std::string> broken_;  // why there is no client
  Outcome outcome_;
};

// Creates `path` (absolute) and its parent when missing, mode 0700, and
// checks both: directories, not symlinks, root's (the caller's euid), not
// writable by group or others.
util::Result<util::UniqueFd> make_private_cache(const std::string& path);

}  // namespace usercrash::client
