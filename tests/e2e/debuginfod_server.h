// A stripped crasher as a device gets it, and a real debuginfod serving its
// debug file on 127.0.0.1: for usercrashctl symbolize (symbolize_test.cpp)
// and the crash path's crash_debuginfod (crash_debuginfod_test.cpp).
#pragma once

#include <sys/types.h>

#include <string>

#include "e2e/harness.h"

namespace usercrash::test {

// crasher_opt stripped of everything (symbols too), with a debuglink; its
// debug file in a build-id tree (debug_dir) and, alone, in a directory a
// debuginfod server scans (served_dir).
struct StrippedCrasher {
  std::string exe, debug_dir, served_dir, build_id;
};
StrippedCrasher strip_crasher(const TempDir& dir);

// A real debuginfod on a private port, scanning (-F) a directory that
// holds the crasher's debug file; stopped when the test ends.
class DebuginfodServer {
 public:
  DebuginfodServer(const TempDir& dir, const std::string& served);
  ~DebuginfodServer() { stop(); }
  DebuginfodServer(const DebuginfodServer&) = delete;
  DebuginfodServer& operator=(const DebuginfodServer&) = delete;
  void stop();
  std::string url() const;
  // Until it serves `build_id` (its first scan is asynchronous): asked with
  // debuginfod-find and a throwaway cache each time, since a miss is cached.
  bool serves(const TempDir& dir, const std::string& build_id) const;

 private:
  int port_;
  pid_t pid_ = -1;
};

}  // namespace usercrash::test
