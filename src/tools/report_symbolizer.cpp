#include "tools/report_symbolizer.h"

#include <cstdlib>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "debuginfod/debuginfod_client.h"
#include "engine/symbolizer.h"
#include "report/json_reader.h"
#include "report/render.h"
#include "report/resymbolize.h"
#include "util/escape.h"
#include "util/parse.h"

namespace usercrash::tools {
namespace {

using nlohmann::json;

// Nesting deeper than any report's (report > threads > frame > value).
constexpr size_t kMaxDepth = 32;

bool nested_too_deep(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// What was found and what was not, for the error stream: the report on
// stdout stays the report.
std::vector<std::string> outcome_notes(const json& doc, size_t changed) {
  std::vector<std::string> notes;
  size_t found = 0, modules = 0;
  for (const auto& m : doc["symbolized"]["modules"]) {
    ++modules;
    if (m["debug_file"].is_string()) ++found;
    if (m["problem"].is_string())
      notes.push_back(fmt::format("{} {}: {}", m["build_id"].get<std::string>(),
                                  m["module"].is_string() ? util::escape_text(m["module"].get<std::string>()) : "?",
                                  util::escape_text(m["problem"].get<std::string>())));
  }
  notes.push_back(
      fmt::format("{} frames symbolized again, with debug files for {} of {} modules", changed, found, modules));
  return notes;
}

}  // namespace

std::optional<std::string> debuginfod_urls(const std::optional<std::string>& option, const config::Config& config) {
  if (option) return option;
  if (!config.debuginfod_urls.empty()) return config.debuginfod_urls;
  if (const char* env = std::getenv("DEBUGINFOD_URLS"); env && *env) return std::string(env);
  return std::nullopt;
}

util::Result<std::chrono::seconds> debuginfod_budget(const std::optional<std::string>& option) {
  if (!option) return std::chrono::seconds(30);
  auto n = util::parse_int<unsigned>(*option);
  if (!n || *n == 0 || *n > 3600) return util::fail("--debuginfod-timeout takes 1 to 3600 seconds");
  return std::chrono::seconds(*n);
}

util::Result<SymbolizedReport> symbolize_report(const std::string& json_text, SymbolizeRequest request) {
  std::unique_ptr<debuginfod::Client> remote;
  if (request.urls) {
    auto client = debuginfod::Client::open({.urls = *request.urls, .budget = request.budget});
    if (!client) return std::unexpected(client.error());
    remote = std::move(*client);
    request.search.remote = remote.get();
  }
  if (nested_too_deep(json_text)) return util::fail("nested too deep to be a report");
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return util::fail("not JSON");
  engine::Symbolizer symbolizer(std::move(request.search));
  auto changed = report::resymbolize_json(doc, symbolizer, static_cast<int64_t>(std::time(nullptr)));
  if (!changed) return std::unexpected(changed.error());
  SymbolizedReport out{"", outcome_notes(doc, *changed)};
  if (request.as_text) {
    auto r = report::report_from_json(doc);
    if (!r) return std::unexpected(r.error());
    report::RenderOptions render;
    render.max_bytes = UINT64_MAX;
    render.brief = request.brief;
    out.text = report::render_text(*r, render);
  } else {
    out.text = doc.dump(1, ' ', false, json::error_handler_t::replace) + '\n';
  }
  return out;
}

}  // namespace usercrash::tools
