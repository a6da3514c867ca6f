#include "e2e/debuginfod_server.h"

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/journald.h"

namespace usercrash::test {

StrippedCrasher strip_crasher(const TempDir& dir) {
  StrippedCrasher s{dir / "device/crasher", dir / "debug", dir / "served", ""};
  std::string debug = s.served_dir + "/crasher.debug";
  EXPECT_EQ(run({"mkdir", "-p", dir / "device", s.served_dir}).status, 0);
  EXPECT_EQ(run({"objcopy", "--only-keep-debug", crasher("crasher_opt"), debug}).status, 0);
  EXPECT_EQ(run({"objcopy", "--strip-all", "--add-gnu-debuglink=" + debug, crasher("crasher_opt"), s.exe}).status, 0);
  std::string notes = run({"readelf", "-n", s.exe}).output;
  size_t at = notes.find("Build ID: ");
  EXPECT_NE(at, std::string::npos) << notes;
  s.build_id = notes.substr(at + 10, notes.find('\n', at) - at - 10);
  std::string tree = fmt::format("{}/.build-id/{}", s.debug_dir, s.build_id.substr(0, 2));
  EXPECT_EQ(run({"mkdir", "-p", tree}).status, 0);
  EXPECT_EQ(run({"cp", debug, tree + "/" + s.build_id.substr(2) + ".debug"}).status, 0);
  return s;
}

DebuginfodServer::DebuginfodServer(const TempDir& dir, const std::string& served) : port_(free_port()) {
  pid_ = spawn_logged({"debuginfod", "-p", std::to_string(port_), "-F", served, "-d", dir / "debuginfod.sqlite"},
                      dir / "debuginfod.log");
}

void DebuginfodServer::stop() {
  if (pid_ > 0) stop_process(pid_);
  pid_ = -1;
}

std::string DebuginfodServer::url() const { return fmt::format("http://127.0.0.1:{}", port_); }

bool DebuginfodServer::serves(const TempDir& dir, const std::string& build_id) const {
  for (int attempt = 0; attempt < 150; ++attempt) {
    std::string cache = dir / fmt::format("probe-cache-{}", attempt);
    if (run({"env", "DEBUGINFOD_URLS=" + url(), "DEBUGINFOD_CACHE_PATH=" + cache, "debuginfod-find", "debuginfo",
             build_id})
            .status == 0)
      return true;
    ::usleep(200 * 1000);
  }
  return false;
}

}  // namespace usercrash::test
