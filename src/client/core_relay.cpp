#include "client/core_relay.h"

#include "client/core_forwarding.h"
#include "client/previous_handler.h"
#include "store/core_archive.h"
#include "util/log.h"

namespace usercrash::client {

namespace log = util::log;
using Clock = std::chrono::steady_clock;

CoreRelay::CoreRelay(const config::Config& config, const Crash& crash)
    : config_(config), crash_(crash), saved_(load_previous_handler(config.state_directory)) {}

void CoreRelay::start_handler() {
  if (!saved_ || started_) return;
  started_ = true;
  pid_t pid = crash_.context().pid;
  std::string why_none;
  auto handler = start_previous_handler(*saved_, crash_.specifier_values(), crash_.process(), crash_.context().pidfd,
                                        config_.client_timeout, name_, why_none);
  if (!handler) log::warn("pid {}: {}: {}", pid, name_, handler.error().message);
  else if (!*handler) log::info("pid {}: no {}, as the kernel would write none: {}", pid, name_, why_none);
  else handler_ = std::move(**handler);
}

std::optional<engine::CoreOutcome> CoreRelay::save(int core_fd) {
  if (core_fd < 0 || passed_) return std::nullopt;
  start_handler();
  passed_ = true;
  pid_t pid = crash_.context().pid;
  store::CoreWriter writer(core_fd, config_.max_core_size);
  CoreSinks sinks{&writer, handler_ ? &*handler_ : nullptr};
  auto forwarded = forward_core(crash_.head(), crash_.context().core_fd, sinks, Clock::now() + config_.client_timeout);
  if (!forwarded.problem.empty()) log::warn("pid {}: {}", pid, forwarded.problem);
  auto saved = writer.finish();
  if (!saved) {
    log::warn("pid {}: core not saved: {}", pid, saved.error().message);
    return engine::CoreOutcome{false, 0, 0, false, saved.error().message};
  }
  return engine::CoreOutcome{true, saved->bytes_in, saved->bytes_out, saved->truncated, ""};
}

void CoreRelay::finish() {
  start_handler();
  if (!handler_) return;
  pid_t pid = crash_.context().pid;
  if (!passed_) {
    passed_ = true;
    CoreSinks sinks{nullptr, &*handler_};
    auto forwarded =
        forward_core(crash_.head(), crash_.context().core_fd, sinks, Clock::now() + config_.client_timeout);
    if (!forwarded.problem.empty()) log::warn("pid {}: {}", pid, forwarded.problem);
  }
  auto status = handler_->finish(config_.client_timeout);
  if (!status) log::warn("pid {}: {} still running; left alone", pid, name_);
  else if (auto failure = previous_handler_failure(*saved_, *status)) log::warn("pid {}: {}: {}", pid, name_, *failure);
  else log::info("pid {}: {} done", pid, name_);
}

}  // namespace usercrash::client
