#include "util/cli.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace usercrash::util {

void usage_error(const char* program, const std::string& message) {
  fmt::print(stderr, "{}: {}\nTry '{} --help' for more information.\n", program, message, program);
  std::exit(kExitUsage);
}

const char* version() { return USERCRASH_VERSION; }

}  // namespace usercrash::util
