#include "client/own_slot.h"

#include "util/log.h"

namespace usercrash::client {

namespace {

util::Result<store::CrashDirectory> open_directory(const config::Config& config) {
  store::OpenOptions options;
  options.searchable_by_others = config.report_access == config::ReportAccess::owner;
  return store::CrashDirectory::open(config.directory, config.count, options);
}

publish::LoneOptions lone_options(const config::Config& config, uid_t uid, std::optional<uid_t> owner) {
  publish::LoneOptions alone;
  alone.directory = config.directory;
  alone.keep_per_signature = config.keep_per_signature;
  alone.on_report = config.on_report;
  alone.on_report_timeout = config.on_report_timeout;
  alone.uid = uid;
  alone.owner_uid = owner;
  return alone;
}

util::Result<publish::LonePublication> publish_in(store::CrashDirectory& directory, const config::Config& config,
                                                  store::PendingReport& report, uid_t uid, std::optional<uid_t> owner) {
  return publish::publish_alone(directory, report, lone_options(config, uid, owner));
}

}  // namespace

util::Result<publish::LonePublication> publish_ourselves(const config::Config& config, store::PendingReport& report,
                                                         uid_t uid, std::optional<uid_t> owner,
                                                         const std::function<void()>& amend) {
  auto directory = open_directory(config);
  if (!directory) return std::unexpected(directory.error());
  if (directory->is_published(report)) return util::fail(util::ErrorKind::exists, "the report is published already");
  if (amend) amend();
  return publish_in(*directory, config, report, uid, owner);
}

PassOnLater::~PassOnLater() {
  if (published_) publish::pass_on_alone(*published_, lone_options(config_, 0, std::nullopt));
}

util::Result<std::unique_ptr<OwnSlot>> OwnSlot::open(const config::Config& config, pid_t pid, uid_t uid,
                                                     std::optional<uid_t> owner, std::string why_server) {
  auto directory = open_directory(config);
  if (!directory) return util::fail("crash directory unusable: " + directory.error().message);
  auto writer = directory->writer_slot(config.max_concurrent, config.client_timeout);
  if (!writer) return util::fail("no report: " + writer.error().message);
  auto pending = directory->create_pending(config.save_core);
  if (!pending) return util::fail("cannot create report files: " + pending.error().message);
  return std::unique_ptr<OwnSlot>(new OwnSlot(config, std::move(*writer), std::move(*directory), std::move(*pending),
                                              pid, uid, owner, std::move(why_server)));
}

collect::ReportFiles OwnSlot::files() const {
  return {pending_.fd(store::SlotFile::text), pending_.fd(store::SlotFile::json)};
}

int OwnSlot::core_fd() const { return pending_.fd(store::SlotFile::core); }

std::vector<std::string> OwnSlot::notes() const {
  return {"the server was unavailable (" + why_server_ + "); usercrash_c wrote this report itself"};
}

util::Result<std::string> OwnSlot::deliver(const collect::JobResult&, const collect::Amend&) {
  auto published = publish_in(directory_, config_, pending_, uid_, owner_);
  writer_ = {};  // the next writer may start
  if (!published) return std::unexpected(published.error());
  std::string name = published->publication.name;
  util::log::warn("pid {}: server unavailable ({}); wrote report {}/{} myself", pid_, why_server_, directory_.path(),
                  name);
  pass_on_.set(std::move(*published));
  return name;
}

}  // namespace usercrash::client
