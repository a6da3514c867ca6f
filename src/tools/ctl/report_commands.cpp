#include "tools/ctl/report_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "report/render.h"
#include "store/crash_directory.h"
#include "store/ring_index.h"
#include "tools/ctl/report_field.h"
#include "tools/ctl/report_filter.h"
#include "tools/ctl/report_groups.h"
#include "tools/ctl/report_summary.h"
#include "tools/ctl/selector.h"
#include "tools/ctl/terminal.h"
#include "tools/ctl/time_display.h"
#include "util/escape.h"
#include "util/file_io.h"

namespace usercrash::tools::ctl {

namespace {

using nlohmann::json;

// Far above max_report_size's largest value; a file past it is not ours.
constexpr size_t kMaxPrintedReport = 1ULL << 30;

// The crash's time in the zone asked for (the publication time when the
// report gives none; the report's own words when they are no time).
std::string display_time(const store::ReportSummary& r, bool utc) {
  if (!r.time) return show_time(r.mtime.tv_sec, utc);
  if (auto seconds = parse_iso8601_utc(*r.time)) return show_time(*seconds, utc);
  return util::escape_text(*r.time);
}

json summary_json(const store::ReportSummary& r, const std::string& directory) {
  auto opt = [](const auto& v) -> json { return v ? json(*v) : json(nullptr); };
  return {
      {"version", engine::kReportVersion},
      {"slot", r.name},
      {"id", opt(r.id)},
      {"index", r.slot},
      {"path", directory + "/" + r.name},
      {"time", r.time ? json(util::to_valid_utf8(*r.time)) : json(report::iso8601_utc(r.mtime.tv_sec))},
      {"pid", opt(r.pid)},
      {"uid", opt(r.uid)},
      {"signal", r.signal ? json{{"number", *r.signal}, {"name", opt(r.signal_name)}} : json(nullptr)},
      {"comm", r.comm ? json(util::to_valid_utf8(*r.comm)) : json(nullptr)},
      {"exe", r.exe ? json(util::to_valid_utf8(*r.exe)) : json(nullptr)},
      {"signature", r.signature ? json(util::to_valid_utf8(*r.signature)) : json(nullptr)},
      {"core", r.has_core},
      {"json", r.has_json},
      {"problem", opt(r.problem)},
      {"disk_bytes", r.disk_bytes},
  };
}

void print_table(const Context& ctx, const std::vector<store::ReportSummary>& reports) {
  auto opt = [](const auto& v) { return v ? fmt::format("{}", *v) : std::string("?"); };
  ctx.print("{:<14}{:<37}{:<29}{:>8} {:>6}  {:<9} {:<5} {}\n", "SLOT", "ID", "TIME", "PID", "UID", "SIGNAL", "CORE",
            "EXE");
  for (const auto& r : reports) {
    std::string signal = r.signal_name ? util::escape_text(*r.signal_name) : opt(r.signal);
    std::string exe = r.exe ? util::escape_text(*r.exe) : r.comm ? util::escape_text(*r.comm) : "?";
    if (r.problem) exe += " (" + util::escape_text(*r.problem) + ")";
    ctx.print("{:<14}{:<37}{:<29}{:>8} {:>6}  {:<9} {:<5} {}\n", r.name, r.id.value_or("-"), display_time(r, ctx.utc),
              opt(r.pid), opt(r.uid), signal, r.has_core ? "yes" : "-", exe);
  }
}

json group_json(const ReportGroup& g, const std::string& directory) {
  auto opt = [](const auto& v) -> json { return v ? json(util::to_valid_utf8(*v)) : json(nullptr); };
  json slots = json::array();
  for (const auto& s : g.slots) slots.push_back(s);
  return {
      {"version", engine::kReportVersion},
      {"signature", opt(g.signature)},
      {"uid", g.uid ? json(*g.uid) : json(nullptr)},
      {"count", g.count},
      {"counted_by_index", g.counted_by_index},
      {"first_seen", util::to_valid_utf8(g.first_seen)},
      {"last_seen", util::to_valid_utf8(g.last_seen)},
      {"newest", g.slots.front()},
      {"newest_path", directory + "/" + g.slots.front()},
      {"slots", slots},
      {"comm", opt(g.comm)},
      {"exe", opt(g.exe)},
  };
}

void print_groups(const Context& ctx, const std::vector<ReportGroup>& groups) {
  ctx.print("{:<18}{:>7} {:>5}  {:<22}{:<22}{:<14}{}\n", "SIGNATURE", "COUNT", "KEPT", "FIRST SEEN", "LAST SEEN",
            "NEWEST", "EXE");
  for (const auto& g : groups) {
    std::string signature = g.signature ? util::escape_text(g.signature->substr(0, 16)) : "-";
    std::string exe = g.exe ? util::escape_text(*g.exe) : g.comm ? util::escape_text(*g.comm) : "?";
    if (g.uid) exe += fmt::format(" (uid {})", *g.uid);
    ctx.print("{:<18}{:>7} {:>5}  {:<22}{:<22}{:<14}{}\n", signature, g.count, g.slots.size(),
              util::escape_text(g.first_seen), util::escape_text(g.last_seen), g.slots.front(), exe);
  }
}

// Largest report JSON -F reads.
constexpr size_t kMaxFieldJson = 256ULL << 20;

// One report's value at PATH: from its JSON, else (a key the report does
// not have: slot, path, core...) from its summary in list --json.
std::string field_value(int dirfd, const store::ReportSummary& r, const std::string& directory,
                        const std::vector<std::string>& path) {
  json doc;
  if (r.has_json)
    if (auto text =
            util::read_file_at(dirfd, (r.name + store::slot_suffix(store::SlotFile::json)).c_str(), kMaxFieldJson))
      doc = json::parse(*text, nullptr, false);
  if (const json* value = doc.is_object() ? field_of(doc, path) : nullptr) return field_line(value);
  json summary = summary_json(r, directory);
  return field_line(field_of(summary, path));
}

std::string field_usage(const std::string& field) {
  return fmt::format("-F: '{}' is not a field (a key, or keys and indexes joined by dots: signal.name)",
                     util::escape_text(field));
}

// The line for an empty list: none in the directory, or none that matches.
void print_none(const Context& ctx, const config::Config& config, const ReportFilter& filter) {
  if (filter.narrows()) ctx.print("No report in {} matches.\n", config.directory);
  else ctx.print("No reports in {}.\n", config.directory);
}

// Prints TEXT, read from a report. A report is ours, but what it quotes
// came from the crashed process: nothing in it reaches the terminal as a
// control. A text report shows its time as --utc asks.
Outcome print_text(const Context& ctx, std::string_view text, bool text_report) {
  std::string safe = util::terminal_safe(text);
  if (text_report) safe = show_report_times(safe, ctx.utc);
  if (text_report && ctx.color) safe = colorize_report(safe);
  if (std::fwrite(safe.data(), 1, safe.size(), ctx.out) != safe.size() || std::fflush(ctx.out) != 0)
    return kExitFailure;
  return kExitOk;
}

Outcome print_file(const Context& ctx, int dirfd, const std::string& name, bool text_report) {
  auto text = util::read_file_at(dirfd, name.c_str(), kMaxPrintedReport);
  if (!text) return failed(text.error());
  return print_text(ctx, *text, text_report);
}

// info without --full: the header and the crashing thread's backtrace, then
// where the report and its core are.
Outcome print_summary(const Context& ctx, const SelectedReport& selected) {
  const store::ReportSummary& r = selected.report;
  bool truncated = false;
  auto text = util::read_file_at(selected.opened.dir.get(), r.name.c_str(), kSummaryReadBytes, &truncated);
  if (!text) return failed(text.error());
  std::string summary = summarize_report_text(*text);
  const std::string& dir = selected.config.directory;
  summary += fmt::format("\nreport: {}/{} ({} info --full {} for all of it)\n", dir, r.name, ctx.program, r.name);
  summary += r.has_core ? fmt::format("core: {}/{}{}\n", dir, r.name, store::slot_suffix(store::SlotFile::core))
                        : std::string("core: none\n");
  return print_text(ctx, summary, true);
}

Outcome print_groups_of(const Context& ctx, const OpenedReports& opened, const config::Config& config,
                        const ReportFilter& filter, bool as_json) {
  // The index is root's: others count what the ring still holds.
  store::RingIndex index = store::RingIndex::load(opened.dir.get());
  ReportFilter matches_only = filter;
  matches_only.newest.reset();
  matches_only.oldest_first = false;
  auto groups = group_reports(filter_reports(opened.reports, matches_only), &index);
  apply_window(groups, filter);
  if (as_json) {
    json out = json::array();
    for (const auto& g : groups) out.push_back(group_json(g, config.directory));
    ctx.print("{}\n", out.dump(1));
  } else if (groups.empty()) {
    print_none(ctx, config, filter);
  } else {
    print_groups(ctx, groups);
  }
  return kExitOk;
}

}  // namespace

Outcome run_list(Context& ctx, const CommandArgs& args) {
  auto filter = make_filter(args.parsed, static_cast<int64_t>(::time(nullptr)), ctx.utc);
  if (!filter) return usage("list: " + filter.error().message);
  auto field = args.value("field");
  auto path = field ? parse_field(*field) : std::nullopt;
  if (field && !path) return usage("list: " + field_usage(*field));
  if (path && args.has("group")) return usage("list: -F prints a field of each report; --group lists groups");
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  bool as_json = args.has("json");
  auto dir = store::open_report_directory(config->directory);
  if (!dir && dir.error().errno_value == ENOENT) {
    if (as_json) ctx.print("[]\n");
    else ctx.print("No reports ({} does not exist).\n", config->directory);
    return kExitOk;
  }
  auto opened = open_reports(*config);
  if (!opened) return std::unexpected(opened.error());
  if (args.has("group")) return print_groups_of(ctx, *opened, *config, *filter, as_json);
  auto reports = filter_reports(opened->reports, *filter);
  if (path) {
    for (const auto& r : reports) ctx.print("{}\n", field_value(opened->dir.get(), r, config->directory, *path));
    return kExitOk;
  }
  if (as_json) {
    json out = json::array();
    for (const auto& r : reports) out.push_back(summary_json(r, config->directory));
    ctx.print("{}\n", out.dump(1));
  } else if (reports.empty()) {
    print_none(ctx, *config, *filter);
  } else {
    print_table(ctx, reports);
  }
  return kExitOk;
}

Outcome run_info(Context& ctx, const CommandArgs& args) {
  auto field = args.value("field");
  auto path = field ? parse_field(*field) : std::nullopt;
  if (field && !path) return usage(field_usage(*field));
  auto selected = select_report(ctx, "info", args.operands()[0], args.has("pid"));
  if (!selected) return std::unexpected(selected.error());
  const store::ReportSummary& r = selected->report;
  int dirfd = selected->opened.dir.get();
  if (path) {
    ctx.print("{}\n", field_value(dirfd, r, selected->config.directory, *path));
    return kExitOk;
  }
  if (args.has("json")) {
    if (!r.has_json)
      return failed(fmt::format("{} has no JSON report (see '{} info {}' for its text)", r.name, ctx.program, r.name));
    return print_file(ctx, dirfd, r.name + store::slot_suffix(store::SlotFile::json), false);
  }
  if (args.has("full")) return print_file(ctx, dirfd, r.name, true);
  return print_summary(ctx, *selected);
}

}  // namespace usercrash::tools::ctl
