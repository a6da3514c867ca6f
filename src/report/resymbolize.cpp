#include "report/resymbolize.h"

#include <fmt/format.h>

#include "report/json_parts.h"
#include "util/limits.h"

namespace usercrash::report {

using nlohmann::json;

namespace {

// Every thread's frames, read and checked before anything is changed.
util::Result<std::vector<std::vector<engine::Frame>>> read_frames(const json& threads) {
  std::vector<std::vector<engine::Frame>> out;
  for (const auto& t : threads) {
    if (out.size() == limits::kMaxThreads) break;
    out.emplace_back();
    const json* frames = t.is_object() && t.contains("frames") ? &t["frames"] : nullptr;
    if (!frames || !frames->is_array()) return util::fail(fmt::format("thread {} has no frames array", out.size() - 1));
    for (const auto& f : *frames) {
      if (out.back().size() == limits::kMaxFrames) break;
      auto frame = frame_from_json(f);
      if (!frame) return util::fail(fmt::format("thread {}: {}", out.size() - 1, frame.error().message));
      out.back().push_back(std::move(*frame));
    }
  }
  return out;
}

void add_problem(json& doc, std::string problem) {
  if (!doc.contains("problems") || !doc["problems"].is_array()) doc["problems"] = json::array();
  doc["problems"].push_back(std::move(problem));
}

}  // namespace

util::Result<size_t> resymbolize_json(json& doc, engine::Symbolizer& symbolizer, int64_t now) {
  if (!doc.is_object() || !doc.contains("version") || !doc.contains("threads") || !doc["threads"].is_array())
    return util::fail("not a usercrash report (no version or threads)");
  json& threads = doc["threads"];
  auto frames = read_frames(threads);
  if (!frames) return std::unexpected(frames.error());
  size_t changed = 0;
  bool cut = threads.size() > frames->size();
  for (size_t i = 0; i < frames->size(); ++i) {
    json& old = threads[i]["frames"];
    cut = cut || old.size() > (*frames)[i].size();
    json fresh = json::array();
    for (const auto& f : symbolizer.frames((*frames)[i])) {
      changed += f.resymbolized;
      fresh.push_back(frame_json(f));
    }
    // Frames past the cap stay as the device wrote them.
    for (size_t k = (*frames)[i].size(); k < old.size(); ++k) fresh.push_back(old[k]);
    old = std::move(fresh);
  }
  engine::Symbolization s{now, changed, symbolizer.modules()};
  doc["symbolized"] = symbolization_json(s);
  // A report of an older version gains this version's keys; a newer one stays newer.
  if (!doc["version"].is_number_integer() || doc["version"].get<int64_t>() < engine::kReportVersion)
    doc["version"] = engine::kReportVersion;
  if (symbolizer.modules_left_out() > 0)
    add_problem(doc, fmt::format("symbolize: {} frames of modules past the first {} left as they were",
                                 symbolizer.modules_left_out(), limits::kMaxModules));
  if (cut)
    add_problem(doc, fmt::format("symbolize: only the first {} threads and {} frames of each were symbolized",
                                 limits::kMaxThreads, limits::kMaxFrames));
  return changed;
}

}  // namespace usercrash::report
