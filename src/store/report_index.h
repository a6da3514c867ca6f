// Reading the crash directory back: which slots hold a report, a short
// summary of each (from its JSON, or from the text's first lines when the
// JSON is missing or broken), the space they take, and removing old ones.
// For usercrashctl; the crash path never reads reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::store {

// The largest ring the config allows: listing sees every slot any ring had,
// also after `count` was lowered.
inline constexpr unsigned kMaxSlots = 1000;

struct ReportSummary {
  unsigned slot = 0;
  std::string name;                 // "usercrash_07"
  std::optional<std::string> id;    // the report's UUID (lower case), when it has a well-formed one
  timespec mtime{};                 // of the text report: when it was published
  std::optional<std::string> time;  // the crash's time as the report gives it (ISO 8601 UTC)
  std::optional<int64_t> pid;
  std::optional<int64_t> uid;
  std::optional<int> signal;
  std::optional<std::string> signal_name;
  std::optional<std::string> comm;
  std::optional<std::string> exe;
  std::optional<std::string> signature;  // the crash signature (hex), when the report has one
  bool has_json = false;
  bool has_core = false;
  // Why the summary did not come from the JSON ("no JSON", "broken JSON: ..."); the text's head was used instead.
  std::optional<std::string> problem;
  uint64_t disk_bytes = 0;  // space taken by the slot's files
};

// Opens a crash directory to read (O_DIRECTORY|O_NOFOLLOW). Refuses one that
// group or others can write: its files could be anyone's. One we may search
// but not list (report_access=owner, opened by an ordinary user) is opened
// O_PATH, and list_reports tries each slot name in it.
util::Result<util::UniqueFd> open_report_directory(const std::string& path);

// Every slot whose text report exists, newest first (by publication time,
// then by slot number).
std::vector<ReportSummary> list_reports(int dirfd);

// The summary of one slot; nullopt when it holds no text report.
std::optional<ReportSummary> summarize_slot(int dirfd, unsigned slot);

// Fills the summary from a report's JSON (a SAX pass: the DOM of a large
// report is never built). False when it does not parse as a JSON object;
// `out.problem` then says why.
bool summary_from_json(std::string_view json, ReportSummary& out);

// Fills what the text report's header lines say (pid, comm, uid, exe, time,
// signal); fields it cannot find stay empty.
void summary_from_text(std::string_view head, ReportSummary& out);

// The newest report of process `pid`, if any.
std::optional<ReportSummary> newest_with_pid(const std::vector<ReportSummary>& reports, int64_t pid);

struct DirectoryUsage {
  size_t reports = 0;  // slots holding a text report
  uint64_t bytes = 0;  // disk space of every file in the directory
};
DirectoryUsage directory_usage(int dirfd);

struct CleanResult {
  std::vector<std::string> removed;  // file names
  size_t reports = 0;                // slots emptied
  uint64_t bytes = 0;                // disk space freed
};

// Empties every slot whose report was published before `now - older_than`
// (every slot when nullopt): the text first, so a reader never sees a
// complete-looking slot without its companions, then .json and .core.zst.
// Companions whose report is gone go too. Call under the directory's lock.
util::Result<CleanResult> clean_reports(int dirfd, std::optional<std::chrono::milliseconds> older_than, timespec now);

}  // namespace usercrash::store
