// One crash as it reaches usercrash_c: who crashed (the kernel's arguments,
// or its coredump connection), the head of the core, and the crashed
// process's /proc directory, checked against the pidfd or, without one,
// against the core's notes. Only a few small files are read here, so that
// the server can be asked for a slot before anything costly is collected;
// target() then reads the rest.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "client/chained_handler.h"
#include "client/client_context.h"
#include "config/config.h"
#include "engine/core_stream.h"
#include "engine/process_target.h"
#include "engine/target.h"
#include "proc/process_dir.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::client {

class Crash {
 public:
  // Reads the head of the core from ctx.core_fd. Fails only when a kernel
  // connection names no peer.
  static util::Result<Crash> open(ClientContext ctx, const config::Config& config);

  const ClientContext& context() const { return ctx_; }
  const engine::CoreHead& head() const { return head_; }
  // The crashing thread's global tid; the pid when not known.
  pid_t tid() const;
  // The crashed process's real uid (0 when not known).
  uid_t uid() const;
  // report_access=owner lets an ordinary user read the report of their own
  // process's crash, never of a setuid, setgid or non-dumpable one.
  bool owner_may_read(const config::Config& config) const;
  // What the previous handler's %-specifiers expand to.
  SpecifierValues specifier_values() const;
  // The crashed process's /proc directory, checked against its pidfd or its
  // core's notes; nullptr when it could not be.
  const proc::ProcessDir* process() const { return dir_ ? &*dir_ : nullptr; }

  // The crashed process with every fact /proc offers (the costly part), or
  // only what the core's notes say when /proc cannot be used.
  std::unique_ptr<engine::Target> target(const config::Config& config, engine::ProcessLimits limits);

 private:
  Crash() = default;
  void read_facts();

  ClientContext ctx_;
  util::UniqueFd peer_pidfd_;  // kernel socket mode: the crashed process
  engine::CoreHead head_;
  std::optional<proc::ProcessDir> dir_;
  std::string dir_problem_;     // why there is no dir_
  engine::ProcessFacts facts_;  // the few facts read so far
};

}  // namespace usercrash::client
