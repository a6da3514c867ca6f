#include "util/cli.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace usercrash::util {

config::Config load_config_or_exit(const char* program, const std::string& path) {
  bool explicit_path = !path.empty();
  auto loaded = config::load(explicit_path ? path : config::kDefaultPath, explicit_path);
  if (!loaded) {
    fmt::print(stderr, "{}: bad configuration: {}\n", program, loaded.error().message);
    std::exit(kExitUsage);
  }
  return *loaded;
}

void override_or_exit(const char* program, config::Config& config, const char* key, const char* value) {
  if (auto r = config::set(config, key, value); !r) usage_error(program, r.error().message);
}

void usage_error(const char* program, const std::string& message) {
  fmt::print(stderr, "{}: {}\nTry '{} --help' for more information.\n", program, message, program);
  std::exit(kExitUsage);
}

const char* version() { return USERCRASH_VERSION; }

}  // namespace usercrash::util
