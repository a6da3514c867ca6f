#include "collect/output_destination.h"

#include <sys/mman.h>
#include <unistd.h>

#include "util/file_io.h"

namespace usercrash::collect {

namespace {

// A report larger than this is not read back.
constexpr size_t kMaxOutput = 1ULL << 30;

}  // namespace

util::Result<OutputDestination> OutputDestination::create(bool json) {
  util::UniqueFd memory(::memfd_create("usercrash-report", MFD_CLOEXEC));
  if (!memory) return util::fail_errno("memfd_create");
  return OutputDestination(std::move(memory), json);
}

ReportFiles OutputDestination::files() const {
  return json_ ? ReportFiles{-1, memory_.get()} : ReportFiles{memory_.get(), -1};
}

util::Result<std::string> OutputDestination::deliver(const JobResult& written, const Amend&) {
  if (written.text_bytes == 0 && written.json_bytes == 0)
    return util::fail("collecting the report failed: " + written.note);
  if (::lseek(memory_.get(), 0, SEEK_SET) != 0) return util::fail_errno("reading the report back");
  auto text = util::read_all(memory_.get(), kMaxOutput);
  if (!text) return util::fail("reading the report back: " + text.error().message);
  text_ = std::move(*text);
  if (!text_.ends_with('\n')) text_ += '\n';
  return std::string("output");
}

}  // namespace usercrash::collect
