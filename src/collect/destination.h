// Where a report goes: the files it is written into, and what happens once
// it is written (a slot of the crash directory, the server's or our own;
// standard output or a file for a person).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "collect/report_writer.h"
#include "util/result.h"

namespace usercrash::collect {

// Writes the report again with one more line in its problems, for a
// destination that learns something the report must say.
using Amend = std::function<JobResult(const std::string& problem)>;

class ReportDestination {
 public:
  virtual ~ReportDestination() = default;

  // The files the report is written into; owned by the destination.
  virtual ReportFiles files() const = 0;

  // Where the core is kept beside the report (save_core); -1 for nowhere.
  virtual int core_fd() const { return -1; }

  // What the report must say from the start about where it goes.
  virtual std::vector<std::string> notes() const { return {}; }

  // Hands the written report on. Returns where it went (a slot's name), or
  // why it could not.
  virtual util::Result<std::string> deliver(const JobResult& written, const Amend& amend) = 0;
};

}  // namespace usercrash::collect
