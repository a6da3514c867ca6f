#include "tools/ctl/clean_command.h"

#include <sys/stat.h>

#include <ctime>

#include "store/crash_directory.h"
#include "store/report_index.h"
#include "tools/ctl/text.h"
#include "util/escape.h"
#include "util/parse.h"

namespace usercrash::tools::ctl {

Outcome run_clean(Context& ctx, const CommandArgs& args) {
  std::optional<std::chrono::milliseconds> older_than;
  if (auto d = args.value("older-than")) {
    older_than = util::parse_duration(*d);
    if (!older_than)
      return usage(
          fmt::format("clean: --older-than '{}' is not a duration (examples: 30m, 12h, 7d)", util::escape_text(*d)));
  }
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  store::OpenOptions open_options;
  open_options.create = false;
  auto dir = store::CrashDirectory::open(config->directory, config->count, open_options);
  if (!dir) {
    struct stat st {};
    if (::lstat(config->directory.c_str(), &st) != 0 && errno == ENOENT) {
      ctx.print("No reports ({} does not exist); nothing to clean.\n", config->directory);
      return kExitOk;
    }
    return failed(dir.error());
  }
  // The server and clients publish under this lock: no slot is emptied while being filled.
  auto lock = dir->lock();
  if (!lock) return failed(fmt::format("{}: {}", config->directory, lock.error().message));
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  auto result = store::clean_reports(dir->fd(), older_than, now);
  if (!result) return failed(result.error());
  ctx.print("Removed {} report{} ({} files, {}) from {}.\n", result->reports, result->reports == 1 ? "" : "s",
            result->removed.size(), human_bytes(result->bytes), config->directory);
  return kExitOk;
}

}  // namespace usercrash::tools::ctl
