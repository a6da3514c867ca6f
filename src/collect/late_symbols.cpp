#include "collect/late_symbols.h"

#include <fcntl.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "engine/signature.h"
#include "engine/symbolizer.h"

namespace usercrash::collect {

using Clock = std::chrono::steady_clock;

std::vector<std::string> wanted_debug_files(const engine::Report& report, const LateSymbols& policy) {
  std::vector<std::string> out;
  if (!policy.wanted || policy.lines == limits::SourceLines::none) return out;
  // Threads come crashing thread first.
  for (const auto& t : report.threads) {
    for (const auto& f : t.frames) {
      if (out.size() >= policy.max_modules) return out;
      if (f.file || !f.build_id || !f.module || !engine::is_build_id(*f.build_id) || *f.module == "[vdso]") continue;
      if (limits::effective_source_lines(policy.lines, false) == limits::SourceLines::own &&
          engine::is_runtime_module(*f.module))
        continue;
      if (std::find(out.begin(), out.end(), *f.build_id) == out.end()) out.push_back(*f.build_id);
    }
  }
  return out;
}

FetchedDebugFiles fetch_debug_files(const std::vector<std::string>& build_ids, engine::RemoteDebugFiles& remote) {
  FetchedDebugFiles out;
  for (const auto& id : build_ids) {
    if (out.files.size() + out.missing.size() >= limits::kMaxLateDebugFiles) break;
    if (!engine::is_build_id(id)) continue;
    // Not opened as ELF here: its build-id is checked in the child, which
    // reads it sandboxed (engine::find_debug_file).
    auto file = remote.fetch(id);
    if (file) out.files.push_back({id, std::move(*file)});
    else out.missing.emplace_back(id, file.error().message);
  }
  return out;
}

namespace {

// The files the caller fetched, handed to the Symbolizer as its remote
// source: each asked for again gets a duplicate (a build-id loaded at two
// addresses is two modules).
class GivenDebugFiles : public engine::RemoteDebugFiles {
 public:
  GivenDebugFiles(std::vector<FetchedDebugFile> files,
                  const std::vector<std::pair<std::string, std::string>>& missing) {
    for (auto& f : files) files_.emplace(f.build_id, std::move(f.file));
    for (const auto& [id, why] : missing) missing_.emplace(id, why);
  }

  util::Result<engine::DebugFile> fetch(const std::string& build_id) override {
    if (auto it = files_.find(build_id); it != files_.end()) {
      util::UniqueFd copy(::fcntl(it->second.fd.get(), F_DUPFD_CLOEXEC, 0));
      if (!copy) return util::fail_errno("duplicating the debug file");
      return engine::DebugFile{std::move(copy), it->second.where, engine::DebugSource::remote};
    }
    if (auto it = missing_.find(build_id); it != missing_.end()) return util::fail(it->second);
    return util::fail("not asked");
  }

  bool asked(const std::string& build_id) const { return files_.contains(build_id) || missing_.contains(build_id); }

 private:
  std::map<std::string, engine::DebugFile> files_;
  std::map<std::string, std::string> missing_;
};

}  // namespace

std::vector<std::string> symbolize_late(engine::Report& report, std::vector<FetchedDebugFile> files,
                                        const std::vector<std::pair<std::string, std::string>>& missing,
                                        Clock::time_point deadline, int64_t now) {
  std::vector<std::string> problems;
  if (files.empty() && missing.empty()) return problems;
  GivenDebugFiles given(std::move(files), missing);
  engine::DebugSearch search;  // no directory: the given files only
  search.remote = &given;
  engine::Symbolizer symbolizer(std::move(search));
  size_t changed = 0, threads = 0;
  for (auto& t : report.threads) {
    if (Clock::now() > deadline) break;
    std::vector<engine::Frame> fresh = symbolizer.frames(t.frames);
    for (const auto& f : fresh) changed += f.resymbolized;
    t.frames = std::move(fresh);
    ++threads;
  }
  if (threads < report.threads.size())
    problems.push_back(fmt::format("crash_debuginfod: out of time after symbolizing {} of {} threads", threads,
                                   report.threads.size()));
  engine::Symbolization s{now, changed, {}};
  // The modules the caller fetched for; the others were never asked.
  constexpr std::string_view kNoDirectory = "no debug directory given; ";
  for (auto m : symbolizer.modules()) {
    if (!given.asked(m.build_id)) continue;
    if (m.problem && m.problem->starts_with(kNoDirectory)) m.problem = m.problem->substr(kNoDirectory.size());
    s.modules.push_back(std::move(m));
  }
  report.symbolized = std::move(s);
  return problems;
}

}  // namespace usercrash::collect
