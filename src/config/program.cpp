// What the programs call to get their configuration: load it or exit with
// a usage error. Kept apart from the parser, which the fuzzer links alone.
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "config/config.h"
#include "util/cli.h"

namespace usercrash::config {

Config load_or_exit(const char* program, const std::string& path) {
  bool explicit_path = !path.empty();
  auto loaded = load(explicit_path ? path : kDefaultPath, explicit_path);
  if (!loaded) {
    fmt::print(stderr, "{}: bad configuration: {}\n", program, loaded.error().message);
    std::exit(util::kExitUsage);
  }
  return *loaded;
}

void override_or_exit(const char* program, Config& config, const char* key, const char* value) {
  if (auto r = set(config, key, value); !r) util::usage_error(program, r.error().message);
}

}  // namespace usercrash::config
