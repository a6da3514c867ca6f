#include "tools/ctl/context.h"

namespace usercrash::tools::ctl {

std::expected<config::Config, Failure> Context::config() const {
  if (preloaded) return *preloaded;
  bool explicit_path = !config_path.empty();
  auto loaded = config::load(explicit_path ? config_path : config::kDefaultPath, explicit_path);
  if (!loaded)
    return std::unexpected(Failure{Failure::Kind::configuration, "bad configuration: " + loaded.error().message});
  return *loaded;
}

void Context::note(std::string_view message) const { fmt::print(err, "{}: note: {}\n", program, message); }

}  // namespace usercrash::tools::ctl
