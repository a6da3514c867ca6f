#include "client/own_slot.h"

#include "util/log.h"

namespace usercrash::client {

namespace {

util::Result<store::CrashDirectory> open_directory(const config::Config& config) {
  store::OpenOptions options;
  options.searchable_by_others = config.report_access == config::ReportAccess::owner;
  return store::CrashDirectory::open(config.directory, config.count, options);
}

}  // namespace

util::Result<std::string> publish_ourselves(const config::Config& config, store::PendingReport& report,
                                            std::optional<uid_t> owner, const std::function<void()>& amend) {
  auto directory = open_directory(config);
  if (!directory) return std::unexpected(directory.error());
  if (directory->is_published(report)) return util::fail(util::ErrorKind::exists, "the report is published already");
  if (amend) amend();
  return directory->publish(report, {}, owner);
}

util::Result<std::unique_ptr<OwnSlot>> OwnSlot::open(const config::Config& config, pid_t pid,
                                                     std::optional<uid_t> owner, std::string why_server) {
  auto directory = open_directory(config);
  if (!directory) return util::fail("crash directory unusable: " + directory.error().message);
  auto writer = directory->writer_slot(config.max_concurrent, config.client_timeout);
  if (!writer) return util::fail("no report: " + writer.error().message);
  auto pending = directory->create_pending(config.save_core);
  if (!pending) return util::fail("cannot create report files: " + pending.error().message);
  return std::unique_ptr<OwnSlot>(
      new OwnSlot(std::move(*writer), std::move(*directory), std::move(*pending), pid, owner, std::move(why_server)));
}

collect::ReportFiles OwnSlot::files() const {
  return {pending_.fd(store::SlotFile::text), pending_.fd(store::SlotFile::json)};
}

int OwnSlot::core_fd() const { return pending_.fd(store::SlotFile::core); }

std::vector<std::string> OwnSlot::notes() const {
  return {"the server was unavailable (" + why_server_ + "); usercrash_c wrote this report itself"};
}

util::Result<std::string> OwnSlot::deliver(const collect::JobResult&, const collect::Amend&) {
  auto published = directory_.publish(pending_, {}, owner_);
  writer_ = {};  // the next writer may start
  if (published)
    util::log::warn("pid {}: server unavailable ({}); wrote report {}/{} myself", pid_, why_server_, directory_.path(),
                    *published);
  return published;
}

}  // namespace usercrash::client
