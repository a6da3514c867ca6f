// The log entry of a crash: one structured journal entry per report, with a
// fixed MESSAGE_ID so that `journalctl MESSAGE_ID=...` (or a central log
// store fed by systemd-journal-upload) finds every crash of every machine.
// Where journald is not running, the same message goes to syslog, else
// stderr (util/log).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "store/report_head.h"
#include "util/log.h"

namespace usercrash::publish {

// MESSAGE_ID of a crash's entry (README, "Logs and the journal").
inline constexpr const char* kCrashMessageId = "76eb54f2cee04479a033d9849ff406a2";
// MESSAGE_ID of the once-a-minute note about a crash loop.
inline constexpr const char* kLoopMessageId = "cacffa13458e4fe39b0b8cd37f334ddf";

// USERCRASH_BACKTRACE keeps this many frames and bytes, at most: enough to
// read the crash in a log viewer; the report has the rest.
inline constexpr size_t kMaxBacktraceFrames = 64;
inline constexpr size_t kMaxBacktraceBytes = 8192;

// "Process PID (COMM) of user UID crashed with SIGNAME: CAUSE — report PATH"
std::string crash_message(const store::ReportHead& head, const std::string& report_path);

// MESSAGE_ID, USERCRASH_PID, _UID, _EXE, _COMM, _SIGNAL, _SIGNAL_NAME,
// _CAUSE, _SIGNATURE, _REPORT, _BUILD_ID, _BACKTRACE (absent facts leave
// their field out).
std::vector<util::log::Field> crash_fields(const store::ReportHead& head, const std::string& report_path);

// Sends the entry (PRIORITY 2, critical).
void log_crash(const store::ReportHead& head, const std::string& report_path);

}  // namespace usercrash::publish
