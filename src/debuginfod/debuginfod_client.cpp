#include "debuginfod/debuginfod_client.h"

#include <elfutils/debuginfod.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/shared_library.h"

namespace usercrash::debuginfod {

using Clock = std::chrono::steady_clock;

namespace {

// libdebuginfod, loaded on first use: usercrash_c links this layer for the
// crash path's opt-in fetches, and a crash must not pay for loading the
// client and the libcurl under it (with its TLS and HTTP libraries) unless
// crash_debuginfod is on. libdwfl loads it the same way.
struct Library {
  decltype(&debuginfod_begin) begin = nullptr;
  decltype(&debuginfod_end) end = nullptr;
  decltype(&debuginfod_set_user_data) set_user_data = nullptr;
  decltype(&debuginfod_get_user_data) get_user_data = nullptr;
  decltype(&debuginfod_set_progressfn) set_progressfn = nullptr;
  decltype(&debuginfod_find_debuginfo) find_debuginfo = nullptr;
  std::string error;  // why it could not be loaded
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    auto so = util::SharedLibrary::open("libdebuginfod.so.1");
    so.bind("debuginfod_begin", l.begin);
    so.bind("debuginfod_end", l.end);
    so.bind("debuginfod_set_user_data", l.set_user_data);
    so.bind("debuginfod_get_user_data", l.get_user_data);
    so.bind("debuginfod_set_progressfn", l.set_progressfn);
    so.bind("debuginfod_find_debuginfo", l.find_debuginfo);
    l.error = so.error();
    return l;
  }();
  return lib;
}

}  // namespace

struct Client::Impl {
  Options options;
  debuginfod_client* client = nullptr;
  Clock::time_point deadline;
  std::optional<std::string> gave_up;  // why the servers are asked no more

  ~Impl() {
    if (client) library().end(client);
  }

  // Called by the client while it waits and transfers: a nonzero answer
  // ends the transfer.
  static int progress(debuginfod_client* c, long, long) {
    auto* self = static_cast<Impl*>(library().get_user_data(c));
    return self && Clock::now() > self->deadline ? 1 : 0;
  }

  // The client reads its settings from the environment on every query.
  void set_environment() const {
    auto seconds = std::chrono::ceil<std::chrono::seconds>(std::max(Clock::duration::zero(), deadline - Clock::now()));
    std::string left = std::to_string(std::max<long long>(1, seconds.count()));
    ::setenv(DEBUGINFOD_URLS_ENV_VAR, options.urls.c_str(), 1);
    ::setenv(DEBUGINFOD_TIMEOUT_ENV_VAR, left.c_str(), 1);
    ::setenv(DEBUGINFOD_MAXTIME_ENV_VAR, left.c_str(), 1);
    ::setenv(DEBUGINFOD_MAXSIZE_ENV_VAR, std::to_string(options.max_file_size).c_str(), 1);
    ::unsetenv(DEBUGINFOD_PROGRESS_ENV_VAR);
    if (options.cache_path) ::setenv(DEBUGINFOD_CACHE_PATH_ENV_VAR, options.cache_path->c_str(), 1);
  }

  std::string failure(int err) const {
    std::string urls = util::escape_text(options.urls);
    switch (err) {
      case ENOENT: return fmt::format("debuginfod ({}) has no debug file of that build-id", urls);
      case EINTR:
      case ETIME:
      case ETIMEDOUT:
        return fmt::format("debuginfod ({}) gave no debug file within the {} ms budget", urls, options.budget.count());
      default: return fmt::format("debuginfod ({}): {}", urls, std::strerror(err));
    }
  }
};

namespace {

// The client's cache directory, as libdebuginfod 0.188 chooses it.
std::optional<std::string> cache_root() {
  if (const char* path = std::getenv(DEBUGINFOD_CACHE_PATH_ENV_VAR); path && *path) return path;
  const char* home = std::getenv("HOME");
  struct stat st {};
  if (home && *home && ::stat((std::string(home) + "/.debuginfod_client_cache").c_str(), &st) == 0)
    return std::string(home) + "/.debuginfod_client_cache";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/debuginfod_client";
  if (home && *home) return std::string(home) + "/.cache/debuginfod_client";
  return std::nullopt;
}

}  // namespace

// Removes CACHE/BUILD_ID/debuginfo when it is the empty file an interrupted
// fetch leaves (the build-id is hex: is_build_id was checked before).
void forget_cut_off_fetch(const std::string& build_id) {
  auto root = cache_root();
  if (!root || !engine::is_build_id(build_id)) return;
  util::UniqueFd dir(::open((*root + "/" + build_id).c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!dir || ::fstatat(dir.get(), "debuginfo", &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISREG(st.st_mode) && st.st_size == 0) ::unlinkat(dir.get(), "debuginfo", 0);
}

util::Result<std::unique_ptr<Client>> Client::open(Options options) {
  std::istringstream words(options.urls);
  std::string url;
  size_t count = 0;
  while (words >> url) {
    ++count;
    if (!url.starts_with("http://") && !url.starts_with("https://"))
      return util::fail("debuginfod: '" + util::escape_text(url) + "' is not an http:// or https:// URL");
  }
  if (count == 0) return util::fail("debuginfod: no server URL");
  const Library& lib = library();
  if (!lib.error.empty()) return util::fail("debuginfod: " + lib.error);
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->client = lib.begin();
  if (!impl->client) return util::fail("debuginfod: the client could not start");
  lib.set_user_data(impl->client, impl.get());
  lib.set_progressfn(impl->client, &Impl::progress);
  impl->deadline = Clock::now() + impl->options.budget;
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

util::Result<engine::DebugFile> Client::fetch(const std::string& build_id) {
  Impl& d = *impl_;
  if (d.gave_up) return util::fail(*d.gave_up);
  if (Clock::now() > d.deadline) return util::fail(util::ErrorKind::timed_out, d.failure(ETIME));
  d.set_environment();
  char* path = nullptr;
  int rc = library().find_debuginfo(d.client, reinterpret_cast<const unsigned char*>(build_id.c_str()), 0, &path);
  if (rc < 0 && Clock::now() > d.deadline) {
    // Cut off by the budget, which the client takes for "not there" and
    // caches so for 10 minutes: that entry is not an answer.
    forget_cut_off_fetch(build_id);
    rc = -ETIME;
  }
  if (rc < 0) {
    std::string why = d.failure(-rc);
    // Only "not there" leaves the server worth asking for the next module.
    if (-rc != ENOENT) d.gave_up = why + " (not asked again)";
    bool timed_out = -rc == ETIME || -rc == ETIMEDOUT || -rc == EINTR;
    return util::fail(timed_out ? util::ErrorKind::timed_out : util::ErrorKind::failed, why, -rc);
  }
  engine::DebugFile file{util::UniqueFd(rc), path ? path : "debuginfod", engine::DebugSource::remote};
  std::free(path);
  return file;
}

}  // namespace usercrash::debuginfod
