// A report written into the files usercrash_s hands us (unnamed files in
// its crash directory) and published by the server once we say it is
// complete. When the server does not confirm (it died or went silent), we
// still hold its files: we publish them ourselves, under the directory's
// lock and by the ring's rules, and the report says so. A crash in flight is
// never lost with its server.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/crash.h"
#include "client/crash_debuginfod.h"
#include "client/own_slot.h"
#include "collect/destination.h"
#include "config/config.h"
#include "util/unique_fd.h"

namespace usercrash::client {

class ServerSlot : public collect::ReportDestination {
 public:
  enum class Answer {
    perform,      // `slot` is set
    dropped,      // the server refused on purpose (queue full, rate limit) and counted it
    unavailable,  // the server cannot be reached, or refused: write the report ourselves
  };

  // Asks the server for a slot for `crash`; `why` says why not when not.
  // `debuginfod` (crash_debuginfod; may be null, not owned) says at
  // completion what its fetches came to, for the server to count.
  static Answer ask(const config::Config& config, const Crash& crash, const CrashDebuginfod* debuginfod,
                    std::unique_ptr<ServerSlot>& slot, std::string& why);

  collect::ReportFiles files() const override;
  int core_fd() const override;
  util::Result<std::string> deliver(const collect::JobResult& written, const collect::Amend& amend) override;

 private:
  ServerSlot(const config::Config& config, pid_t pid, uid_t uid, util::UniqueFd sock, std::vector<util::UniqueFd> fds,
             std::optional<uid_t> owner, const CrashDebuginfod* debuginfod)
      : config_(config),
        pid_(pid),
        uid_(uid),
        sock_(std::move(sock)),
        fds_(std::move(fds)),
        owner_(owner),
        debuginfod_(debuginfod),
        pass_on_(config) {}

  // The slot's name once the server says it published the report; `refused`
  // is set when the server answered that it does not store it (over
  // rate_limit for its crash group: counted there).
  util::Result<std::string> await_published(bool& refused);
  // The server did not confirm (`why`): publish its files ourselves.
  util::Result<std::string> publish_unconfirmed(const std::string& why, const collect::Amend& amend);

  const config::Config& config_;
  pid_t pid_;
  uid_t uid_;  // the crashed process's: its crash group
  util::UniqueFd sock_;
  std::vector<util::UniqueFd> fds_;  // text, json[, core], as ipc::ReportFd numbers them
  std::optional<uid_t> owner_;       // report_access=owner: who may read it
  const CrashDebuginfod* debuginfod_;
  PassOnLater pass_on_;  // when we publish it ourselves
};

}  // namespace usercrash::client
