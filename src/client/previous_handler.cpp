#include "client/previous_handler.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "client/core_file.h"
#include "proc/process_dir.h"
#include "util/escape.h"
#include "util/log.h"

namespace usercrash::client {

std::optional<SavedHandler> load_previous_handler(const std::string& state_directory) {
  auto saved = load_saved_handler(state_directory);
  if (!saved) {
    util::log::warn("not passing the core on: {}", saved.error().message);
    return std::nullopt;
  }
  if (!*saved || (*saved)->kind != SavedHandler::Kind::pipe) return *saved;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0 && std::string_view(self, static_cast<size_t>(n)) == (*saved)->words[0]) {
    util::log::warn("the saved core_pattern handler is usercrash_c itself; not chaining to it");
    return std::nullopt;
  }
  return *saved;
}

util::Result<std::optional<ChainedHandler>> start_previous_handler(const SavedHandler& saved,
                                                                   const SpecifierValues& values,
                                                                   const proc::ProcessDir* process, int pidfd,
                                                                   std::chrono::milliseconds timeout, std::string& name,
                                                                   std::string& why_none) {
  if (saved.kind == SavedHandler::Kind::pipe) {
    name = "chained handler " + saved.words[0];
    return ChainedHandler::spawn(expand_specifiers(saved.words, values), pidfd);
  }
  name = "core file";
  // Its owner, root and cwd come from /proc: only from the entry proven to
  // be the crashed process, never from a pid opened again.
  if (!process) return util::fail("the crashed process's /proc entry could not be verified");
  auto plan = plan_core_file(saved.words[0], values, *process, why_none);
  if (!plan) return std::unexpected(plan.error());
  if (!*plan) return std::optional<ChainedHandler>();
  (*plan)->timeout = std::chrono::duration_cast<std::chrono::seconds>(timeout) + std::chrono::seconds(1);
  name = "core file " + util::escape_text((*plan)->path);
  return start_core_file_writer(std::move(**plan));
}

std::optional<std::string> previous_handler_failure(const SavedHandler& saved, int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (saved.kind == SavedHandler::Kind::file) return explain_core_file_status(status);
  return fmt::format("failed (status {})", status);
}

}  // namespace usercrash::client
