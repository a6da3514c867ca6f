#include "tools/ctl/report_filter.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "engine/signal_names.h"
#include "tools/ctl/time_display.h"
#include "util/escape.h"
#include "util/parse.h"
#include "util/time_spec.h"

namespace usercrash::tools::ctl {

namespace {

// Largest -n: the ring holds at most store::kMaxSlots reports.
constexpr size_t kMaxNewest = 1'000'000;

template <typename T>
bool any_of(const std::vector<T>& wanted, const std::optional<T>& value) {
  return wanted.empty() || (value && std::find(wanted.begin(), wanted.end(), *value) != wanted.end());
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool signature_matches(const std::vector<std::string>& prefixes, const std::optional<std::string>& signature) {
  if (prefixes.empty()) return true;
  if (!signature) return false;
  std::string have = lower(*signature);
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return have.starts_with(p); });
}

util::Result<void> add_number(std::vector<int64_t>& into, const std::string& option, const std::string& value) {
  auto n = util::parse_int<int64_t>(value);
  if (!n || *n < 0) return util::fail(fmt::format("{}: '{}' is not a number", option, util::escape_text(value)));
  into.push_back(*n);
  return {};
}

// One --FIELD VALUE option into the filter; false when OPTION is no match.
util::Result<bool> add_field(ReportFilter& f, const std::string& option, const std::string& value) {
  if (option == "pid" || option == "uid") {
    auto added = add_number(option == "pid" ? f.pids : f.uids, "--" + option, value);
    if (!added) return std::unexpected(added.error());
  } else if (option == "comm") {
    f.comms.push_back(value);
  } else if (option == "exe") {
    f.exes.push_back(value);
  } else if (option == "signal") {
    auto signo = parse_signal(value);
    if (!signo) return util::fail(fmt::format("--signal: '{}' is not a signal", util::escape_text(value)));
    f.signals.push_back(*signo);
  } else if (option == "signature") {
    std::string hex = lower(value);
    if (hex.empty() || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      return util::fail(fmt::format("--signature: '{}' is not hexadecimal", util::escape_text(value)));
    f.signatures.push_back(hex);
  } else {
    return false;
  }
  return true;
}

// -n, -1, -r, --since, --until into the filter.
util::Result<void> add_window(ReportFilter& f, const util::ParsedOption& o, int64_t now, bool utc) {
  if (o.name == "lines") {
    auto n = util::parse_int<size_t>(o.value);
    if (!n || *n == 0 || *n > kMaxNewest)
      return util::fail(fmt::format("-n: '{}' is not a count of reports (1 or more)", util::escape_text(o.value)));
    f.newest = *n;
  } else if (o.name == "newest") {
    f.newest = 1;
  } else if (o.name == "reverse") {
    f.oldest_first = true;
  } else if (o.name == "since" || o.name == "until") {
    auto t = util::parse_time_spec(o.value, now, utc);
    if (!t) return util::fail(fmt::format("--{}: '{}' is {}", o.name, util::escape_text(o.value), t.error().message));
    (o.name == "since" ? f.since : f.until) = *t;
  }
  return {};
}

// A bare MATCH: a number is a PID, a path an EXE, anything else a COMM.
void add_match(ReportFilter& f, const std::string& match) {
  if (auto pid = util::parse_int<int64_t>(match); pid && *pid >= 0) f.pids.push_back(*pid);
  else if (match.find('/') != std::string::npos) f.exes.push_back(match);
  else f.comms.push_back(match);
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (auto n = util::parse_int<int>(text)) return *n >= 1 && *n <= 64 ? n : std::nullopt;
  std::string name = lower(text);
  if (!name.starts_with("sig")) name = "sig" + name;
  for (int signo = 1; signo <= 64; ++signo)
    if (lower(engine::signal_name(signo)) == name) return signo;
  return std::nullopt;
}

int64_t crash_time(const store::ReportSummary& r) {
  if (r.time)
    if (auto seconds = parse_iso8601_utc(*r.time)) return *seconds;
  return r.mtime.tv_sec;
}

bool ReportFilter::matches(const store::ReportSummary& r) const {
  if (!any_of(pids, r.pid) || !any_of(uids, r.uid) || !any_of(signals, r.signal)) return false;
  if (!any_of(comms, r.comm) || !any_of(exes, r.exe) || !signature_matches(signatures, r.signature)) return false;
  int64_t t = crash_time(r);
  return (!since || t >= *since) && (!until || t <= *until);
}

bool ReportFilter::narrows() const {
  return !pids.empty() || !uids.empty() || !signals.empty() || !comms.empty() || !exes.empty() || !signatures.empty() ||
         since || until;
}

util::Result<ReportFilter> make_filter(const util::ParsedArgs& parsed, int64_t now, bool utc) {
  ReportFilter f;
  for (const auto& o : parsed.options) {
    auto field = add_field(f, o.name, o.value);
    if (!field) return std::unexpected(field.error());
    if (*field) continue;
    if (auto window = add_window(f, o, now, utc); !window) return std::unexpected(window.error());
  }
  for (const auto& match : parsed.operands) add_match(f, match);
  return f;
}

std::vector<store::ReportSummary> filter_reports(const std::vector<store::ReportSummary>& reports,
                                                 const ReportFilter& filter) {
  std::vector<store::ReportSummary> out;
  for (const auto& r : reports)
    if (filter.matches(r)) out.push_back(r);
  apply_window(out, filter);
  return out;
}

}  // namespace usercrash::tools::ctl
