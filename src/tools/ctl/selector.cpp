#include "tools/ctl/selector.h"

#include <fcntl.h>
#include <unistd.h>

#include "store/slot_ring.h"
#include "util/escape.h"
#include "util/parse.h"
#include "util/uuid.h"

namespace usercrash::tools::ctl {

namespace {

// report_access=owner: an ordinary user sees the reports of their own
// crashes, the ones the server let them read, and no other.
bool visible_to_caller(int dirfd, const store::ReportSummary& r) {
  if (::geteuid() == 0) return true;
  if (::faccessat(dirfd, r.name.c_str(), R_OK, AT_EACCESS) != 0) return false;
  return !r.uid || *r.uid == static_cast<int64_t>(::getuid());
}

}  // namespace

std::expected<OpenedReports, Failure> open_reports(const config::Config& config) {
  auto dir = store::open_report_directory(config.directory);
  if (!dir) return failed(dir.error());
  OpenedReports out;
  out.reports = store::list_reports(dir->get());
  std::erase_if(out.reports, [&](const store::ReportSummary& r) { return !visible_to_caller(dir->get(), r); });
  out.dir = std::move(*dir);
  return out;
}

std::expected<void, Failure> check_selector(const std::string& verb, const std::string& arg, bool force_pid) {
  bool number = util::parse_int<uint64_t>(arg).has_value();
  if (number || (!force_pid && (store::slot_index(arg, store::kMaxSlots) || util::parse_uuid(arg)))) return {};
  return usage(
      fmt::format("{}: '{}' is neither a slot (7, usercrash_07), a report id nor a pid", verb, util::escape_text(arg)));
}

std::expected<store::ReportSummary, Failure> resolve(const OpenedReports& opened, const std::string& arg,
                                                     bool force_pid) {
  auto by_slot = [&](unsigned index) -> std::optional<store::ReportSummary> {
    for (const auto& r : opened.reports)
      if (r.slot == index) return r;
    return std::nullopt;
  };
  if (auto id = force_pid ? std::nullopt : util::parse_uuid(arg)) {
    for (const auto& r : opened.reports)
      if (r.id == *id) return r;
    return failed(fmt::format("no report with id {}", *id));
  }
  if (!force_pid) {
    if (auto index = store::slot_index(arg, store::kMaxSlots)) {
      if (auto r = by_slot(*index)) return *r;
      return failed(fmt::format("no report in slot {}", util::escape_text(arg)));
    }
  }
  auto number = util::parse_int<int64_t>(arg);
  if (!number || *number < 0) return usage(fmt::format("'{}' is neither a slot nor a pid", util::escape_text(arg)));
  auto with_pid = store::newest_with_pid(opened.reports, *number);
  if (force_pid) {
    if (!with_pid) return failed(fmt::format("no report of pid {}", *number));
    return *with_pid;
  }
  auto slot = *number < static_cast<int64_t>(store::kMaxSlots) ? by_slot(static_cast<unsigned>(*number)) : std::nullopt;
  if (slot && with_pid && slot->slot != with_pid->slot)
    return failed(fmt::format("{} is both slot {} and the pid of the report in {}; say {} or --pid {}", *number,
                              slot->name, with_pid->name, slot->name, *number));
  if (slot) return *slot;
  if (with_pid) return *with_pid;
  return failed(fmt::format("no report in slot {} and none of pid {}", *number, *number));
}

std::expected<SelectedReport, Failure> select_report(const Context& ctx, const std::string& verb,
                                                     const std::string& selector, bool force_pid) {
  if (auto ok = check_selector(verb, selector, force_pid); !ok) return std::unexpected(ok.error());
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  auto opened = open_reports(*config);
  if (!opened) return std::unexpected(opened.error());
  auto report = resolve(*opened, selector, force_pid);
  if (!report) return std::unexpected(report.error());
  return SelectedReport{std::move(*config), std::move(*opened), std::move(*report)};
}

}  // namespace usercrash::tools::ctl
