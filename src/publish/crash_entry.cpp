#include "publish/crash_entry.h"

#include <fmt/format.h>

namespace usercrash::publish {

std::string crash_message(const store::ReportHead& h, const std::string& report_path) {
  std::string who = h.pid ? std::to_string(*h.pid) : "?";
  std::string message = fmt::format("Process {} ({}) of user {} crashed with {}", who, h.comm.value_or("?"),
                                    h.uid ? std::to_string(*h.uid) : "?",
                                    h.signal_name.value_or(h.signal ? fmt::format("signal {}", *h.signal) : "?"));
  if (h.cause) message += ": " + *h.cause;
  message += " \u2014 report " + report_path;
  return message;
}

std::vector<util::log::Field> crash_fields(const store::ReportHead& h, const std::string& report_path) {
  std::vector<util::log::Field> f = {{"MESSAGE_ID", kCrashMessageId}, {"USERCRASH_REPORT", report_path}};
  auto add = [&](const char* name, const auto& value) {
    if (value) f.push_back({name, fmt::format("{}", *value)});
  };
  add("USERCRASH_PID", h.pid);
  add("USERCRASH_UID", h.uid);
  add("USERCRASH_EXE", h.exe);
  add("USERCRASH_COMM", h.comm);
  add("USERCRASH_SIGNAL", h.signal);
  add("USERCRASH_SIGNAL_NAME", h.signal_name);
  add("USERCRASH_CAUSE", h.cause);
  add("USERCRASH_SIGNATURE", h.signature);
  add("USERCRASH_BUILD_ID", h.build_id);
  std::string backtrace;
  size_t frames = 0;
  for (const auto& line : h.backtrace) {
    if (frames == kMaxBacktraceFrames || backtrace.size() + line.size() + 1 > kMaxBacktraceBytes) {
      backtrace += fmt::format("... {} more frames in the report\n", h.backtrace.size() - frames);
      break;
    }
    backtrace += line + '\n';
    ++frames;
  }
  if (!backtrace.empty()) {
    backtrace.pop_back();
    f.push_back({"USERCRASH_BACKTRACE", backtrace});
  }
  return f;
}

void log_crash(const store::ReportHead& head, const std::string& report_path) {
  std::string suffix = head.signature ? " (signature " + *head.signature + ")" : std::string();
  util::log::entry(util::log::Level::critical, crash_message(head, report_path), crash_fields(head, report_path),
                   suffix);
}

}  // namespace usercrash::publish
