#include "client/crash_debuginfod.h"

#include "util/private_directory.h"

namespace usercrash::client {

util::Result<void> make_private_cache(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (path.empty() || path[0] != '/' || slash == 0 || slash == std::string::npos || slash + 1 == path.size())
    return util::fail("crash_debuginfod_cache '" + path + "' is not an absolute path below a directory");
  util::DirectoryRules rules{.what = "crash_debuginfod_cache's parent", .must_be_ours = true, .create_mode = 0700};
  if (auto parent = util::open_private_directory(path.substr(0, slash), rules); !parent)
    return std::unexpected(parent.error());
  rules.what = "crash_debuginfod_cache";
  if (auto cache = util::open_private_directory(path, rules); !cache) return std::unexpected(cache.error());
  return {};
}

std::unique_ptr<CrashDebuginfod> CrashDebuginfod::from(const config::Config& config) {
  if (!config.crash_debuginfod || config.debuginfod_urls.empty()) return nullptr;
  return std::unique_ptr<CrashDebuginfod>(new CrashDebuginfod(config));
}

CrashDebuginfod::CrashDebuginfod(const config::Config& config)
    : urls_(config.debuginfod_urls), budget_(config.crash_debuginfod_timeout), cache_(config.crash_debuginfod_cache) {}

util::Result<engine::DebugFile> CrashDebuginfod::fetch(const std::string& build_id) {
  if (!client_ && !broken_) {
    if (auto cache = make_private_cache(cache_); !cache) {
      broken_ = "debuginfod cache: " + cache.error().message;
    } else {
      auto client = debuginfod::Client::open({.urls = urls_, .budget = budget_, .cache_path = cache_});
      if (client) client_ = std::move(*client);
      else broken_ = client.error().message;
    }
  }
  if (broken_) return util::fail(*broken_);
  return client_->fetch(build_id);
}

}  // namespace usercrash::client
