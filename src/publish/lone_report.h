// A client that publishes its report alone (the server is down or broken)
// follows the server's rules where they live in the crash directory: the
// ring's index, crash groups and keep_per_signature, the crash's log entry
// and the on_report hook. rate_limit needs the server's memory of the last
// minute and does not apply.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "store/crash_directory.h"
#include "store/report_head.h"
#include "util/result.h"

namespace usercrash::publish {

struct LoneOptions {
  std::string directory;  // for the paths in the log entry and the hook's arguments
  unsigned keep_per_signature = 0;
  std::string on_report;  // "" for none
  std::chrono::milliseconds on_report_timeout{30'000};
  uid_t uid = 0;                   // the crashed process's, for its crash group
  std::optional<uid_t> owner_uid;  // report_access=owner
};

struct LonePublication {
  store::Publication publication;
  store::ReportHead head;
};

// Publishes `report` (its text already written) and logs it as the server would.
util::Result<LonePublication> publish_alone(store::CrashDirectory& directory, store::PendingReport& report,
                                            const LoneOptions& options);

// Runs on_report for it and waits (up to its timeout): call last, nothing
// waits on the client then.
void pass_on_alone(const LonePublication& published, const LoneOptions& options);

}  // namespace usercrash::publish
