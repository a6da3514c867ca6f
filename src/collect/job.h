// The isolated job: the one place a report is built from a Target, and the
// seam of where that runs. Today it runs in a forked child of the caller,
// so that the parts that read hostile ELF, DWARF and code bytes can crash,
// or run out of their time or memory, without taking the caller (and the
// crash's core) with them. The child parses nothing before it has entered
// its sandbox (sandbox.h), with every module file opened for it beforehand
// (engine/preopened_target.h); one that cannot enter it parses nothing. A collector elsewhere (a warm one in the
// server) would be another implementation of the same three calls.
//
// The child builds the report and says so; then it renders the report each
// time the caller asks, with the late facts the caller learnt meanwhile
// (what became of the core, who published the report). When the child
// fails, the caller's side builds a report without backtraces itself and
// says why in it: a crash is never left without a report.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collect/late_symbols.h"
#include "collect/report_writer.h"
#include "collect/sandbox.h"
#include "engine/report.h"
#include "engine/report_builder.h"
#include "engine/target.h"
#include "report/render.h"
#include "util/unique_fd.h"

namespace usercrash::collect {

struct Budget {
  // The hard end of collecting: the child is killed here. The engine's own
  // deadline (CollectOptions::deadline) comes earlier, to leave time for
  // rendering, which gets what was left of the budget when collecting ended.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Bytes of data memory (RLIMIT_DATA: heap and private writable mappings)
  // the child may use; 0 for no limit.
  uint64_t memory_bytes = 0;
};

// Facts learnt after collecting, rendered with the report.
struct LateFacts {
  std::optional<engine::CoreOutcome> core;
  std::vector<std::string> problems;  // added to the report's problems
};

class Job {
 public:
  // Starts the child that builds the report of `target` in `sandbox`. The
  // target, the files and the options stay the caller's and must outlive
  // the job. With `late.wanted`, the child names the debug files it lacks
  // (late_symbols.h).
  Job(engine::Target& target, const engine::CollectOptions& options, const report::RenderOptions& render,
      const ReportFiles& files, const Budget& budget, const Sandbox& sandbox, const LateSymbols& late = {});
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // Waits until the report is built (call it first), or the child failed (then the report
  // without backtraces is built here, saying why).
  void await_collected();

  // Once collected: the build-ids of the debug files the child asked for
  // (checked: hex, at most limits::kMaxLateDebugFiles); none without
  // LateSymbols::wanted.
  const std::vector<std::string>& wanted_debug_files() const { return wanted_; }

  // Hands the fetched debug files to the child, which symbolizes the frames
  // of their modules (within half of the time left for rendering) before it
  // next renders. Call it before the first write().
  void give_debug_files(FetchedDebugFiles fetched);

  // Renders the report with `late` into the files, replacing what they held.
  // May be called again with more late facts.
  JobResult write(const LateFacts& late = {});

 private:
  bool child_running() const { return channel_.valid(); }
  // A message from the child by `deadline`; nullopt (and the fallback
  // built) when it failed, ended or ran out of time.
  std::optional<std::string> await_child(std::chrono::steady_clock::time_point deadline, const char* doing);
  void fall_back(const std::string& why);
  JobResult write_fallback(const LateFacts& late);

  engine::Target& target_;
  engine::CollectOptions options_;
  report::RenderOptions render_;
  ReportFiles files_;
  Budget budget_;
  pid_t child_ = -1;
  util::UniqueFd channel_;  // to the child; closed once it is gone
  // What rendering may take: the budget left when collecting ended.
  std::chrono::steady_clock::duration render_time_{};
  std::optional<engine::Report> fallback_;
  size_t own_problems_ = 0;  // the fallback's problems before late facts
  std::string why_;          // why the fallback was needed
  std::vector<std::string> wanted_;
};

}  // namespace usercrash::collect
