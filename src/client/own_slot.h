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
#include "publish/lone_report.h"
#include "store/crash_directory.h"

namespace usercrash::client {

// Publishes `report` in the crash directory as the server would: under the
// directory's lock, by the ring's rules and crash groups (`uid` is the
// crashed process's), with its log entry. `owner` may read it
// (report_access=owner). `amend` first, unless the report is in a slot
// already (an error of kind `exists`).
util::Result<publish::LonePublication> publish_ourselves(const config::Config& config, store::PendingReport& report,
                                                         uid_t uid, std::optional<uid_t> owner,
                                                         const std::function<void()>& amend = {});

// A report published alone goes to on_report once the crash is otherwise
// done (the previous handler fed): the destination runs it, waiting up to
// on_report_timeout, when it is destroyed.
class PassOnLater {
 public:
  explicit PassOnLater(const config::Config& config) : config_(config) {}
  ~PassOnLater();
  PassOnLater(const PassOnLater&) = delete;
  PassOnLater& operator=(const PassOnLater&) = delete;
  void set(publish::LonePublication published) { published_ = std::move(published); }

 private:
  const config::Config& config_;
  std::optional<publish::LonePublication> published_;
};

class OwnSlot : public collect::ReportDestination {
 public:
  // For the crash of `pid`; `why_server`: why the server did not take it.
  // Waits (up to client_timeout) for one of max_concurrent writer slots
  // first, so that clients writing on their own are bounded as the
  // server's dumps are.
  static util::Result<std::unique_ptr<OwnSlot>> open(const config::Config& config, pid_t pid, uid_t uid,
                                                     std::optional<uid_t> owner, std::string why_server);

  collect::ReportFiles files() const override;
  int core_fd() const override;
  std::vector<std::string> notes() const override;
  util::Result<std::string> deliver(const collect::JobResult& written, const collect::Amend& amend) override;

 private:
  OwnSlot(const config::Config& config, store::DirectoryLock writer, store::CrashDirectory directory,
          store::PendingReport pending, pid_t pid, uid_t uid, std::optional<uid_t> owner, std::string why_server)
      : config_(config),
        writer_(std::move(writer)),
        pid_(pid),
        uid_(uid),
        directory_(std::move(directory)),
        pending_(std::move(pending)),
        owner_(owner),
        why_server_(std::move(why_server)),
        pass_on_(config) {}

  const config::Config& config_;
  store::DirectoryLock writer_;  // held until the report is published
  pid_t pid_;
  uid_t uid_;
  store::CrashDirectory directory_;
  store::PendingReport pending_;
  std::optional<uid_t> owner_;
  std::string why_server_;
  PassOnLater pass_on_;
};

}  // namespace usercrash::client
