// The rest of the core stream once the report is collected: into the saved
// core beside the report (save_core), and to the handler core_pattern had
// before usercrash (a program, or the core file the kernel would have
// written), read once, only as far as someone needs it.
#pragma once

#include <optional>
#include <string>

#include "client/chained_handler.h"
#include "client/crash.h"
#include "config/config.h"
#include "engine/report.h"

namespace usercrash::client {

class CoreRelay {
 public:
  // Both must outlive the relay.
  CoreRelay(const config::Config& config, const Crash& crash);

  // Passes the core into the saved core at `core_fd`, and to the previous
  // handler in the same read; says what became of the saved core. With no
  // saved core (`core_fd` -1) nothing is read: the previous handler gets the
  // core in finish(), after the report is delivered, so that a slow handler
  // never holds a slot.
  std::optional<engine::CoreOutcome> save(int core_fd);

  // Passes the core to the previous handler if save() did not, then waits
  // for it (up to client_timeout; it is left running after that).
  void finish();

 private:
  void start_handler();

  const config::Config& config_;
  const Crash& crash_;
  std::optional<SavedHandler> saved_;
  std::optional<ChainedHandler> handler_;
  std::string name_;      // what the handler is, for the log
  bool started_ = false;  // the handler was started (or failed to start)
  bool passed_ = false;   // the core stream was read (it can be only once)
};

}  // namespace usercrash::client
