// A report for a person (debugger, usercrashctl analyze): written into a
// memory file and read back whole once delivered, for the caller to print,
// so nothing half-written ever reaches them.
#pragma once

#include "collect/destination.h"
#include "util/unique_fd.h"

namespace usercrash::collect {

class OutputDestination : public ReportDestination {
 public:
  // The text report, or with `json` the JSON one.
  static util::Result<OutputDestination> create(bool json);

  ReportFiles files() const override;
  // Reads the report back. Fails when nothing at all was written; a partial
  // report is delivered.
  util::Result<std::string> deliver(const JobResult& written, const Amend& amend) override;

  // The delivered report, ending in a newline.
  const std::string& text() const { return text_; }

 private:
  OutputDestination(util::UniqueFd memory, bool json) : memory_(std::move(memory)), json_(json) {}

  util::UniqueFd memory_;
  bool json_;
  std::string text_;
};

}  // namespace usercrash::collect
