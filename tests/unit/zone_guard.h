// TZ set to a zone for a scope (a POSIX TZ such as "CET-1CEST,M3.5.0,M10.5.0/3"
// needs no tzdata), then put back.
#pragma once

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace usercrash::test {

class ZoneGuard {
 public:
  explicit ZoneGuard(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ZoneGuard() {
    if (old_) ::setenv("TZ", old_->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
  ZoneGuard(const ZoneGuard&) = delete;
  ZoneGuard& operator=(const ZoneGuard&) = delete;

 private:
  std::optional<std::string> old_;
};

}  // namespace usercrash::test
