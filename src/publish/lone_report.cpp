#include "publish/lone_report.h"

#include "publish/crash_entry.h"
#include "publish/report_hook.h"
#include "util/log.h"

namespace usercrash::publish {

util::Result<LonePublication> publish_alone(store::CrashDirectory& directory, store::PendingReport& report,
                                            const LoneOptions& options) {
  LonePublication out;
  int text = report.fd(store::SlotFile::text);
  if (auto head = store::read_report_head(text)) out.head = std::move(*head);
  store::PublishOptions publish;
  if (out.head.signature) publish.facts.group = store::GroupKey{*out.head.signature, options.uid};
  publish.facts.comm = out.head.comm.value_or("");
  publish.facts.exe = out.head.exe.value_or("");
  publish.keep_per_signature = options.keep_per_signature;
  publish.owner_uid = options.owner_uid;
  auto published = directory.publish(report, publish);
  if (!published) return std::unexpected(published.error());
  out.publication = std::move(*published);
  if (out.publication.index_problem) util::log::warn("crash directory index: {}", *out.publication.index_problem);
  std::string path = options.directory + "/" + out.publication.name;
  // A crash loop's further crashes are only counted in the index.
  if (!out.publication.replaced_group_newest) log_crash(out.head, path);
  return out;
}

void pass_on_alone(const LonePublication& published, const LoneOptions& options) {
  if (options.on_report.empty()) return;
  const auto& h = published.head;
  HookReport hook;
  hook.text_path = options.directory + "/" + published.publication.name;
  hook.json_path = hook.text_path + store::slot_suffix(store::SlotFile::json);
  hook.slot = published.publication.name;
  hook.signature = h.signature.value_or("");
  hook.pid = h.pid ? std::to_string(*h.pid) : "";
  hook.uid = h.uid ? std::to_string(*h.uid) : "";
  hook.signal = h.signal_name.value_or("");
  hook.exe = h.exe.value_or("");
  ReportHook(options.on_report, options.on_report_timeout).run_and_wait(hook);
}

}  // namespace usercrash::publish
