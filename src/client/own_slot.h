// A report written into the crash directory by usercrash_c itself, when the
// server cannot be reached: the same unnamed files, ring and lock as the
// server's (store/crash_directory.h), and the report says who wrote it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/destination.h"
#include "config/config.h"
#include "store/crash_directory.h"

namespace usercrash::client {

// Publishes `report` in the crash directory as the server would: under the
// directory's lock, by the ring's rules. `owner` may read it
// (report_access=owner). `amend` first, unless the report is in a slot
// already (an error of kind `exists`).
util::Result<std::string> publish_ourselves(const config::Config& config, store::PendingReport& report,
                                            std::optional<uid_t> owner, const std::function<void()>& amend = {});

class OwnSlot : public collect::ReportDestination {
 public:
  // For the crash of `pid`; `why_server`: why the server did not take it.
  // Waits (up to client_timeout) for one of max_concurrent writer slots
  // first, so that clients writing on their own are bounded as the
  // server's dumps are.
  static util::Result<std::unique_ptr<OwnSlot>> open(const config::Config& config, pid_t pid,
                                                     std::optional<uid_t> owner, std::string why_server);

  collect::ReportFiles files() const override;
  int core_fd() const override;
  std::vector<std::string> notes() const override;
  util::Result<std::string> deliver(const collect::JobResult& written, const collect::Amend& amend) override;

 private:
  OwnSlot(store::DirectoryLock writer, store::CrashDirectory directory, store::PendingReport pending, pid_t pid,
          std::optional<uid_t> owner, std::string why_server)
      : writer_(std::move(writer)),
        pid_(pid),
        directory_(std::move(directory)),
        pending_(std::move(pending)),
        owner_(owner),
        why_server_(std::move(why_server)) {}

  store::DirectoryLock writer_;  // held until the report is published
  pid_t pid_;
  store::CrashDirectory directory_;
  store::PendingReport pending_;
  std::optional<uid_t> owner_;
  std::string why_server_;
};

}  // namespace usercrash::client
