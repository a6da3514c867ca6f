// What usercrash_c tells the server its debuginfod fetch came to
// (CrashDebuginfod::outcome): not asked, a refused connection, the pause
// after a timeout, an unusable cache (issue 11). No server answers here:
// the down one is a port nothing listens on.
#include "client/crash_debuginfod.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "unit/test_support.h"

#if defined(USERCRASH_SANITIZED)
#include <sanitizer/lsan_interface.h>
#endif

namespace usercrash::client {
namespace {

using ipc::DebuginfodOutcome;
using test::TempDir;

// A fetch from a refused server. In the sanitizer build, LeakSanitizer found
// at exit the 8 KiB buffer of a stdio stream that libdebuginfod's own
// dprintf left on that path (allocated in libc's _IO_file_doallocate under
// __vdprintf_internal, called from libdebuginfod.so, our fetch below it):
// elfutils' and libc's, not ours, so this call's allocations alone are not
// checked for leaks.
util::Result<engine::DebugFile> fetch_from_refusing(CrashDebuginfod& d, const std::string& build_id) {
#if defined(USERCRASH_SANITIZED)
  __lsan::ScopedDisabler not_ours;
#endif
  return d.fetch(build_id);
}

constexpr const char* kSomeBuildId = "0123456789abcdef0123456789abcdef01234567";

// A loopback URL whose port nothing listens on (bound, then closed).
std::string refusing_url() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return fmt::format("http://127.0.0.1:{}", ntohs(a.sin_port));
}

config::Config crash_debuginfod_config(const TempDir& dir, const std::string& urls) {
  config::Config c;
  c.crash_debuginfod = true;
  c.debuginfod_urls = urls;
  c.crash_debuginfod_timeout = std::chrono::milliseconds(2000);
  c.crash_debuginfod_cache = dir / "cache";
  return c;
}

TEST(CrashDebuginfodOutcome, NotAskedUntilAFetch) {
  TempDir dir;
  auto d = CrashDebuginfod::from(crash_debuginfod_config(dir, refusing_url()));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->outcome().kind, DebuginfodOutcome::not_asked);
  EXPECT_EQ(d->outcome().reason, "");
}

TEST(CrashDebuginfodOutcome, ARefusedConnectionIsAFailureWithItsReason) {
  ::unsetenv("DEBUGINFOD_URLS");
  TempDir dir;
  std::string url = refusing_url();
  auto d = CrashDebuginfod::from(crash_debuginfod_config(dir, url));
  ASSERT_TRUE(d);
  auto file = fetch_from_refusing(*d, kSomeBuildId);
  ASSERT_FALSE(file);
  EXPECT_EQ(d->outcome().kind, DebuginfodOutcome::failed);
  EXPECT_EQ(d->outcome().reason, file.error().message);
  EXPECT_NE(d->outcome().reason.find("debuginfod (" + url + "): "), std::string::npos) << d->outcome().reason;
  // The first failure is the one said; a refused server is not asked again.
  (void)fetch_from_refusing(*d, "89abcdef0123456789abcdef0123456789abcdef");
  EXPECT_EQ(d->outcome().reason, file.error().message);
}

TEST(CrashDebuginfodOutcome, ThePauseAfterATimeoutIsSaidAsSuch) {
  TempDir dir;
  std::string url = refusing_url();
  ASSERT_EQ(::mkdir((dir / "cache").c_str(), 0700), 0);
  // The note a timed-out fetch leaves (now, for the same URLs).
  test::write_file(dir / "cache/.usercrash-unanswered", url, 0600);
  auto d = CrashDebuginfod::from(crash_debuginfod_config(dir, url));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->fetch(kSomeBuildId));
  EXPECT_EQ(d->outcome().kind, DebuginfodOutcome::paused);
  EXPECT_NE(d->outcome().reason.find("let the timeout pass"), std::string::npos) << d->outcome().reason;
}

TEST(CrashDebuginfodOutcome, AnUnusableCacheIsAFailure) {
  TempDir dir;
  ASSERT_EQ(::mkdir((dir / "cache").c_str(), 0777), 0);
  ASSERT_EQ(::chmod((dir / "cache").c_str(), 0777), 0);
  auto d = CrashDebuginfod::from(crash_debuginfod_config(dir, refusing_url()));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->fetch(kSomeBuildId));
  EXPECT_EQ(d->outcome().kind, DebuginfodOutcome::failed);
  EXPECT_NE(d->outcome().reason.find("debuginfod cache: "), std::string::npos) << d->outcome().reason;
}

}  // namespace
}  // namespace usercrash::client
