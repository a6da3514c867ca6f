// One crash, from its command line to its published report: what
// usercrash_c does when it collects a crash itself, and what the warm
// collector's process for one crash does with a crash handed to it.
#pragma once

#include <chrono>
#include <string>

#include "client/client_context.h"
#include "collect/sandbox.h"
#include "config/config.h"
#include "engine/warm_modules.h"
#include "util/result.h"

namespace usercrash::client {

// The configuration the command line names, with its -o overrides.
util::Result<config::Config> load_config(const ClientContext& ctx);

// The command line or the configuration cannot be used: there is no
// report, but the core still goes where it went before usercrash. A crash
// is never kept from its previous handler by a bad argument. Returns the
// exit status.
int pass_on_only(ClientContext ctx, const config::Config& config, const std::string& why, const char* program);

// Reads the crash, asks the server for its slot (or takes one of its own),
// collects the report in the isolated job, passes the core on; the exit
// status. `started` is when this crash's handling began.
// What the warm collector loaded once, for the crashes it forks a process
// for: the engine's sandbox prepared for its configuration (null when the
// crash's configuration is another), and the trusted libraries it holds.
struct WarmState {
  const collect::Sandbox* sandbox = nullptr;
  const engine::WarmModules* modules = nullptr;
};

int run_crash(ClientContext ctx, const config::Config& config, std::chrono::steady_clock::time_point started,
              const WarmState& warm = {});

}  // namespace usercrash::client
