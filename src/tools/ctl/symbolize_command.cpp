#include "tools/ctl/symbolize_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/crash_directory.h"
#include "tools/ctl/selector.h"
#include "tools/report_symbolizer.h"
#include "util/escape.h"
#include "util/file_io.h"

namespace usercrash::tools::ctl {
namespace {

// A report's JSON is at most max_report_size (16 MiB by default); one past
// this is not a report, and is not read.
constexpr size_t kMaxInput = 256ULL << 20;

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

}  // namespace

Outcome run_symbolize(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  const std::string& operand = args.operands()[0];
  SymbolizeRequest request;
  for (const auto& o : args.parsed.options)
    if (o.name == "debug-dir") request.search.debug_dirs.push_back(o.value);
  request.search.sysroot = args.value("sysroot").value_or("");
  request.search.system_dir = args.has("no-system") ? "" : config->debuginfo_path;
  request.urls = debuginfod_urls(args.value("debuginfod"), *config);
  auto budget = debuginfod_budget(args.value("debuginfod-timeout"));
  if (!budget) return usage("symbolize: " + budget.error().message);
  request.budget = *budget;
  request.as_text = args.has("text");

  auto text = read_report(ctx, operand);
  if (!text) return std::unexpected(text.error());
  auto done = symbolize_report(*text, std::move(request));
  if (!done) return failed(util::escape_text(operand) + ": " + done.error().message);
  for (const auto& note : done->notes) ctx.note(note);
  if (std::fwrite(done->text.data(), 1, done->text.size(), ctx.out) != done->text.size() || std::fflush(ctx.out) != 0)
    return kExitFailure;
  return kExitOk;
}

}  // namespace usercrash::tools::ctl
