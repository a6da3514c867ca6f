#include "store/report_head.h"

#include <unistd.h>

#include "util/parse.h"

namespace usercrash::store {
namespace {

// "KEY: value" at the start of a header line, up to `stop` (or the line's end).
std::optional<std::string_view> field(std::string_view line, std::string_view key, char stop = '\0') {
  if (!line.starts_with(key)) return std::nullopt;
  std::string_view value = line.substr(key.size());
  if (stop) value = value.substr(0, value.find(stop));
  return value;
}

}  // namespace

ReportHead parse_report_head(std::string_view text) {
  ReportHead h;
  enum class Part { header, registers, backtrace } part = Part::header;
  bool started = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) break;  // a cut line is not trusted
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (part == Part::backtrace) {
      if (line.starts_with("    #")) h.backtrace.emplace_back(line.substr(4));
      else if (!line.starts_with("    ")) break;  // the backtrace ends at the next section
      continue;
    }
    if (line == "BackTrace:") {
      part = Part::backtrace;
      continue;
    }
    if (line == "Registers:") part = Part::registers;
    if (part != Part::header) continue;
    if (line.empty()) {
      if (started) part = Part::registers;  // the header ends at its first blank line
      continue;
    }
    if (auto v = field(line, "pid: ", ',')) {
      started = true;
      h.pid = util::parse_int<int64_t>(*v);
      size_t comm = line.find(", comm: ");
      if (comm != std::string_view::npos) h.comm = std::string(line.substr(comm + 8));
    } else if (auto th = field(line, "thread: ")) {
      size_t comma = th->rfind(", tid: ");
      h.thread = std::string(th->substr(0, comma));
    } else if (auto u = field(line, "uid: ", ',')) {
      h.uid = util::parse_int<int64_t>(*u);
    } else if (auto e = field(line, "exe: ")) {
      h.exe = std::string(*e);
    } else if (auto i = field(line, "id: ")) {
      h.id = std::string(*i);
    } else if (auto b = field(line, "build id: ")) {
      h.build_id = std::string(*b);
    } else if (auto t = field(line, "time: ")) {
      h.time = std::string(*t);
    } else if (auto s = field(line, "signal: ")) {
      // "11 (SIGSEGV), code: ..."
      size_t space = s->find(' ');
      h.signal = util::parse_int<int>(s->substr(0, space));
      size_t open = s->find('('), close = s->find(')');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open)
        h.signal_name = std::string(s->substr(open + 1, close - open - 1));
    } else if (auto c = field(line, "cause: ")) {
      h.cause = std::string(*c);
    } else if (auto g = field(line, "signature: ")) {
      h.signature = std::string(*g);
    }
  }
  return h;
}

util::Result<ReportHead> read_report_head(int fd) {
  std::string buffer(kReportHeadBytes, '\0');
  size_t got = 0;
  while (got < buffer.size()) {
    ssize_t n = ::pread(fd, buffer.data() + got, buffer.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::fail_errno("read the report's head");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buffer.resize(got);
  return parse_report_head(buffer);
}

}  // namespace usercrash::store
