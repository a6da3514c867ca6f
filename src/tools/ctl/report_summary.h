// What usercrashctl info prints by default (issue 12.6, as coredumpctl
// info): the text report's header (ids, process, time, signal with its code
// and fault address, the cause, abort message or exception) and the
// crashing thread's backtrace; --full prints the whole report.
#pragma once

#include <string>
#include <string_view>

namespace usercrash::tools::ctl {

// Bytes of a text report read for its summary: the header and a backtrace
// of hundreds of frames fit many times over.
inline constexpr size_t kSummaryReadBytes = 1 << 20;

// TEXT's lines up to its first blank line, then its first "BackTrace:"
// section (to the next blank line), each line as it was.
std::string summarize_report_text(std::string_view text);

}  // namespace usercrash::tools::ctl
