#include "tools/ctl/symbolize_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

#include "debuginfod/debuginfod_client.h"
#include "report/json_reader.h"
#include "report/render.h"
#include "report/resymbolize.h"
#include "store/crash_directory.h"
#include "tools/ctl/selector.h"
#include "util/escape.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::tools::ctl {
namespace {

using nlohmann::json;

// A report's JSON is at most max_report_size (16 MiB by default); one past
// this is not a report, and is not read.
constexpr size_t kMaxInput = 256ULL << 20;
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

// The report file the operand names: a path (with a '/' or ending in
// .json), else a report of the crash directory (SLOT or ID) by its JSON.
std::expected<std::string, Failure> read_report(const Context& ctx, const std::string& operand) {
  util::UniqueFd fd;
  std::string shown = operand;
  if (operand == "-") {
    // usercrashctl analyze --json CORE | usercrashctl symbolize -
    bool truncated = false;
    auto text = util::read_all(STDIN_FILENO, kMaxInput, &truncated);
    if (!text) return failed(text.error());
    if (truncated) return failed(fmt::format("standard input: larger than {} MiB, not a report", kMaxInput >> 20));
    return std::move(*text);
  }
  if (operand.find('/') != std::string::npos || operand.ends_with(".json")) {
    fd = util::UniqueFd(::open(operand.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd) return failed(util::fail_errno(util::escape_text(operand)).error());
  } else {
    auto selected = select_report(ctx, "symbolize", operand, false);
    if (!selected) return std::unexpected(selected.error());
    if (!selected->report.has_json)
      return failed(fmt::format("{} has no JSON report to symbolize", selected->report.name));
    shown = selected->report.name + store::slot_suffix(store::SlotFile::json);
    auto opened = util::open_at(selected->opened.dir.get(), shown.c_str(), O_NOFOLLOW | O_NONBLOCK);
    if (!opened) return failed(opened.error());
    fd = std::move(*opened);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return failed(util::escape_text(shown) + ": not a regular file");
  bool truncated = false;
  auto text = util::read_all(fd.get(), kMaxInput, &truncated);
  if (!text) return failed(text.error());
  if (truncated)
    return failed(fmt::format("{}: larger than {} MiB, not a report", util::escape_text(shown), kMaxInput >> 20));
  return std::move(*text);
}

std::expected<json, Failure> parse_report(const std::string& operand, const std::string& text) {
  if (nested_too_deep(text)) return failed(util::escape_text(operand) + ": nested too deep to be a report");
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return failed(util::escape_text(operand) + ": not JSON");
  return doc;
}

// debuginfod, when asked for: --debuginfod URL, else DEBUGINFOD_URLS.
std::expected<std::unique_ptr<debuginfod::Client>, Failure> open_debuginfod(const CommandArgs& args) {
  std::optional<std::string> urls = args.value("debuginfod");
  if (!urls)
    if (const char* env = std::getenv("DEBUGINFOD_URLS"); env && *env) urls = env;
  if (!urls) return nullptr;
  debuginfod::Options options;
  options.urls = *urls;
  if (auto seconds = args.value("debuginfod-timeout")) {
    auto n = util::parse_int<unsigned>(*seconds);
    if (!n || *n == 0 || *n > 3600) return usage("symbolize: --debuginfod-timeout takes 1 to 3600 seconds");
    options.budget = std::chrono::seconds(*n);
  }
  auto client = debuginfod::Client::open(std::move(options));
  if (!client) return usage("symbolize: " + client.error().message);
  return std::move(*client);
}

// What was found and what was not, on the error stream: the report on
// stdout stays the report.
void say_outcome(const Context& ctx, const json& doc, size_t changed) {
  size_t found = 0, modules = 0;
  for (const auto& m : doc["symbolized"]["modules"]) {
    ++modules;
    if (m["debug_file"].is_string()) ++found;
    if (m["problem"].is_string())
      ctx.note(fmt::format("{} {}: {}", m["build_id"].get<std::string>(),
                           m["module"].is_string() ? util::escape_text(m["module"].get<std::string>()) : "?",
                           util::escape_text(m["problem"].get<std::string>())));
  }
  ctx.note(fmt::format("{} frames symbolized again, with debug files for {} of {} modules", changed, found, modules));
}

}  // namespace

Outcome run_symbolize(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  const std::string& operand = args.operands()[0];
  engine::DebugSearch search;
  for (const auto& o : args.parsed.options)
    if (o.name == "debug-dir") search.debug_dirs.push_back(o.value);
  search.sysroot = args.value("sysroot").value_or("");
  search.system_dir = args.has("no-system") ? "" : config->debuginfo_path;
  auto remote = open_debuginfod(args);
  if (!remote) return std::unexpected(remote.error());
  search.remote = remote->get();

  auto text = read_report(ctx, operand);
  if (!text) return std::unexpected(text.error());
  auto doc = parse_report(operand, *text);
  if (!doc) return std::unexpected(doc.error());
  std::string().swap(*text);
  engine::Symbolizer symbolizer(std::move(search));
  auto changed = report::resymbolize_json(*doc, symbolizer, static_cast<int64_t>(std::time(nullptr)));
  if (!changed) return failed(util::escape_text(operand) + ": " + changed.error().message);
  say_outcome(ctx, *doc, *changed);

  std::string out;
  if (args.has("text")) {
    auto r = report::report_from_json(*doc);
    if (!r) return failed(r.error());
    out = report::render_text(*r, {.max_bytes = kMaxInput});
  } else {
    out = doc->dump(1, ' ', false, json::error_handler_t::replace) + '\n';
  }
  if (std::fwrite(out.data(), 1, out.size(), ctx.out) != out.size() || std::fflush(ctx.out) != 0) return kExitFailure;
  return kExitOk;
}

}  // namespace usercrash::tools::ctl
