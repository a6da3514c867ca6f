// The handler core_pattern had before usercrash, run for one crash: the
// program a pipe pattern named (chained_handler.h), or the core file a file
// pattern named (core_file.h). main() only feeds it the core and waits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "client/chained_handler.h"
#include "proc/process_dir.h"
#include "util/result.h"

namespace usercrash::client {

// The saved handler, when there is one to pass crashes on to; never
// usercrash_c itself (that would loop). Problems are logged.
std::optional<SavedHandler> load_previous_handler(const std::string& state_directory);

// Starts it for the crash. `process` is the crashed process's /proc
// directory as checked against its pidfd or its core (nullptr when it could
// not be: then no core file is written, since /proc may name another
// process). `name` is set to what it is, for the log ("chained handler
// /usr/lib/...", "core file core.1234"). nullopt, with `why_none`, when the
// kernel would have written no core file.
util::Result<std::optional<ChainedHandler>> start_previous_handler(const SavedHandler& saved,
                                                                   const SpecifierValues& values,
                                                                   const proc::ProcessDir* process, int pidfd,
                                                                   std::chrono::milliseconds timeout, std::string& name,
                                                                   std::string& why_none);

// What its exit status says went wrong; nullopt when it went well.
std::optional<std::string> previous_handler_failure(const SavedHandler& saved, int status);

}  // namespace usercrash::client
