#include "client/crash_debuginfod.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/file_io.h"
#include "util/private_directory.h"

namespace usercrash::client {

util::Result<util::UniqueFd> make_private_cache(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (path.empty() || path[0] != '/' || slash == 0 || slash == std::string::npos || slash + 1 == path.size())
    return util::fail("crash_debuginfod_cache '" + path + "' is not an absolute path below a directory");
  util::DirectoryRules rules{.what = "crash_debuginfod_cache's parent", .must_be_ours = true, .create_mode = 0700};
  if (auto parent = util::open_private_directory(path.substr(0, slash), rules); !parent)
    return std::unexpected(parent.error());
  rules.what = "crash_debuginfod_cache";
  return util::open_private_directory(path, rules);
}

namespace {

// The note of a server that did not answer in time: a file of ours in the
// cache, holding the URLs, its time the time of the failure.
constexpr const char* kUnanswered = ".usercrash-unanswered";

// Why not to ask, when the same servers let the timeout pass less than
// kUnansweredPause ago.
std::optional<std::string> recently_unanswered(int cache, const std::string& urls) {
  util::UniqueFd note(::openat(cache, kUnanswered, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!note || ::fstat(note.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  auto age = std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtime);
  if (age < std::chrono::seconds(0) || age > kUnansweredPause) return std::nullopt;
  auto text = util::read_all(note.get(), 64 * 1024);
  if (!text || *text != urls) return std::nullopt;
  return fmt::format("debuginfod ({}) let the timeout pass {} s ago; not asked for {} s after that",
                     util::escape_text(urls), std::chrono::duration_cast<std::chrono::seconds>(age).count(),
                     kUnansweredPause.count());
}

void note_unanswered(int cache, const std::string& urls) {
  ::unlinkat(cache, kUnanswered, 0);
  util::UniqueFd note(::openat(cache, kUnanswered, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (note) (void)util::write_all(note.get(), urls);
}

}  // namespace

std::unique_ptr<CrashDebuginfod> CrashDebuginfod::from(const config::Config& config) {
  if (!config.crash_debuginfod || config.debuginfod_urls.empty()) return nullptr;
  return std::unique_ptr<CrashDebuginfod>(new CrashDebuginfod(config));
}

CrashDebuginfod::CrashDebuginfod(const config::Config& config)
    : urls_(config.debuginfod_urls), budget_(config.crash_debuginfod_timeout), cache_(config.crash_debuginfod_cache) {}

void CrashDebuginfod::failed(ipc::DebuginfodOutcome kind, const std::string& reason) {
  if (!ipc::is_failure(outcome_.kind)) outcome_ = {kind, reason};
}

util::Result<engine::DebugFile> CrashDebuginfod::fetch(const std::string& build_id) {
  using ipc::DebuginfodOutcome;
  if (!client_ && !broken_) {
    if (auto cache = make_private_cache(cache_); !cache) {
      broken_ = "debuginfod cache: " + cache.error().message;
      failed(DebuginfodOutcome::failed, *broken_);
    } else if (auto why = recently_unanswered(cache->get(), urls_)) {
      broken_ = *why;
      failed(DebuginfodOutcome::paused, *broken_);
    } else {
      cache_dir_ = std::move(*cache);
      auto client = debuginfod::Client::open({.urls = urls_, .budget = budget_, .cache_path = cache_});
      if (client) {
        client_ = std::move(*client);
      } else {
        broken_ = client.error().message;
        failed(DebuginfodOutcome::failed, *broken_);
      }
    }
  }
  if (broken_) return util::fail(*broken_);
  auto file = client_->fetch(build_id);
  if (file || file.error().errno_value == ENOENT) {
    if (outcome_.kind == DebuginfodOutcome::not_asked) outcome_.kind = DebuginfodOutcome::answered;
  } else if (file.error().kind == util::ErrorKind::timed_out) {
    note_unanswered(cache_dir_.get(), urls_);
    failed(DebuginfodOutcome::timed_out, file.error().message);
  } else {
    failed(DebuginfodOutcome::failed, file.error().message);
  }
  return file;
}

}  // namespace usercrash::client
