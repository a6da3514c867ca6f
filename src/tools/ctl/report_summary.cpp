#include "tools/ctl/report_summary.h"

namespace usercrash::tools::ctl {

namespace {

// The lines of TEXT from AT up to the first blank one (or the end).
std::string_view block(std::string_view text, size_t at) {
  size_t end = text.find("\n\n", at);
  return text.substr(at, end == std::string_view::npos ? std::string_view::npos : end + 1 - at);
}

}  // namespace

std::string summarize_report_text(std::string_view text) {
  std::string out(block(text, 0));
  if (!out.empty() && out.back() != '\n') out += '\n';
  size_t backtrace = text.starts_with("BackTrace:\n") ? 0 : text.find("\nBackTrace:\n");
  if (backtrace == std::string_view::npos) return out;
  if (backtrace > 0) ++backtrace;
  std::string_view section = block(text, backtrace);
  if (section.data() == text.data()) return out;  // the header itself
  out += '\n';
  out += section;
  if (out.back() != '\n') out += '\n';
  return out;
}

}  // namespace usercrash::tools::ctl
