#include "store/crash_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "store/owner_access.h"
#include "store/slot_ring.h"
#include "util/directory_walk.h"
#include "util/log.h"
#include "util/private_directory.h"

namespace usercrash::store {

using util::Result;
using util::UniqueFd;

const char* slot_suffix(SlotFile kind) {
  switch (kind) {
    case SlotFile::text: return "";
    case SlotFile::json: return ".json";
    case SlotFile::core: return ".core.zst";
  }
  return "";
}

int PendingReport::fd(SlotFile kind) const {
  for (const auto& f : files)
    if (f.kind == kind) return f.fd.get();
  return -1;
}

Result<CrashDirectory> CrashDirectory::open(const std::string& path, unsigned count, const OpenOptions& options) {
  util::DirectoryRules rules;
  rules.what = "crash directory";
  if (options.create) rules.create_mode = options.searchable_by_others ? 0711 : 0750;
  struct stat st {};
  auto dir = util::open_private_directory(path, rules, &st);
  if (!dir) return std::unexpected(dir.error());

  if (options.searchable_by_others && (st.st_mode & 0011) != 0011 &&
      ::fchmod(dir->get(), (st.st_mode & 07777) | 0011) != 0)
    return util::fail_errno("make " + path + " searchable");

  bool named_temp = options.force_named_temp;
  if (!named_temp) {
    int probe = ::openat(dir->get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (probe >= 0) ::close(probe);
    else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) named_temp = true;
    else return util::fail_errno("create a file in " + path);
  }
  return CrashDirectory(path, std::move(*dir), count, named_temp);
}

Result<PendingFile> CrashDirectory::create_one(SlotFile kind) {
  PendingFile f;
  f.kind = kind;
  if (!named_temp_) {
    int fd = ::openat(dir_.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return util::fail_errno("create report file in " + path_);
    f.fd.reset(fd);
    return f;
  }
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  f.temp_name = fmt::format("{}{}-{}-{:08x}{}", kTempPrefix, ::getpid(), counter++, random(), slot_suffix(kind));
  ::unlinkat(dir_.get(), f.temp_name.c_str(), 0);
  int fd = ::openat(dir_.get(), f.temp_name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return util::fail_errno(fmt::format("create {}/{}", path_, f.temp_name));
  f.fd.reset(fd);
  return f;
}

Result<PendingReport> CrashDirectory::create_pending(bool with_core) {
  PendingReport report;
  std::vector<SlotFile> kinds = {SlotFile::text, SlotFile::json};
  if (with_core) kinds.push_back(SlotFile::core);
  for (SlotFile kind : kinds) {
    auto f = create_one(kind);
    if (!f) {
      for (auto& done : report.files)
        if (!done.temp_name.empty()) ::unlinkat(dir_.get(), done.temp_name.c_str(), 0);
      return std::unexpected(f.error());
    }
    report.files.push_back(std::move(*f));
  }
  return report;
}

std::vector<bool> CrashDirectory::slots_present() const {
  std::vector<bool> present(count_);
  for (unsigned i = 0; i < count_; ++i) {
    struct stat st {};
    present[i] = ::fstatat(dir_.get(), slot_name(i).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }
  return present;
}

Result<UniqueFd> CrashDirectory::open_lock_file(const char* name) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int raw = ::openat(dir_.get(), name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (raw < 0) {
      // A symlink or something we cannot open sits at the name: replace it.
      if (attempt == 0 && (errno == ELOOP || errno == ENXIO || errno == EACCES || errno == EISDIR)) {
        ::unlinkat(dir_.get(), name, 0);
        ::unlinkat(dir_.get(), name, AT_REMOVEDIR);
        continue;
      }
      return util::fail_errno(fmt::format("open {}/{}", path_, name));
    }
    UniqueFd candidate(raw);
    struct stat st {};
    if (::fstat(raw, &st) != 0) return util::fail_errno("stat lock file");
    // Only a plain file of ours with no other names will do: a FIFO would
    // block, a hard link would let someone else hold our lock.
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != ::geteuid()) {
      ::unlinkat(dir_.get(), name, 0);
      continue;
    }
    return candidate;
  }
  return util::fail(fmt::format("{}/{}: cannot create a usable lock file", path_, name));
}

Result<DirectoryLock> CrashDirectory::lock(std::chrono::milliseconds timeout) {
  auto fd = open_lock_file(kLockName);
  if (!fd) return std::unexpected(fd.error());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return util::fail_errno("flock");
    if (std::chrono::steady_clock::now() > deadline)
      return util::fail(util::ErrorKind::timed_out, "timed out waiting for the directory lock", ETIMEDOUT);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return DirectoryLock(std::move(*fd));
}

Result<DirectoryLock> CrashDirectory::writer_slot(unsigned count, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (unsigned i = 0; i < count; ++i) {
      std::string name = fmt::format("{}{}", kWriterPrefix, i);
      auto fd = open_lock_file(name.c_str());
      if (!fd) return std::unexpected(fd.error());
      if (::flock(fd->get(), LOCK_EX | LOCK_NB) == 0) return DirectoryLock(std::move(*fd));
    }
    if (std::chrono::steady_clock::now() > deadline)
      return util::fail(util::ErrorKind::timed_out,
                        fmt::format("{} clients were writing on their own for {} ms", count, timeout.count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<std::string> CrashDirectory::publish(PendingReport& report, const std::vector<bool>& busy,
                                            std::optional<uid_t> owner_uid) {
  PublishOptions options;
  options.busy = busy;
  options.owner_uid = owner_uid;
  auto published = publish(report, options);
  if (!published) return std::unexpected(published.error());
  return published->name;
}

Result<uint64_t> CrashDirectory::count_not_kept(const CrashFacts& facts) {
  auto held = lock();
  if (!held) return std::unexpected(held.error());
  RingIndex index = RingIndex::load(dir_.get());
  index.reconcile(slots_present());
  index.count_not_kept(facts, std::time(nullptr));
  if (auto saved = index.save(dir_.get()); !saved) return std::unexpected(saved.error());
  const GroupRecord* group = facts.group ? index.group(*facts.group) : nullptr;
  return group ? group->count : 0;
}

Result<Publication> CrashDirectory::publish(PendingReport& report, const PublishOptions& options) {
  auto held = lock();
  if (!held) return std::unexpected(held.error());
  // Linked once, never twice: a report the server published just before it
  // died (its client then publishes it too), or the other way round.
  if (is_published(report)) return util::fail(util::ErrorKind::exists, "the report is published already");
  Publication out;
  std::string problem;
  RingIndex index = RingIndex::load(dir_.get(), &problem);
  if (!problem.empty()) out.index_problem = problem;
  std::vector<bool> present = slots_present();
  index.reconcile(present);
  int64_t now = std::time(nullptr);
  SlotChoice choice = index.choose(options.facts.group, count_, options.keep_per_signature, present, options.busy);
  if (!choice.replaces_group_newest && !options.new_slot_allowed) {
    out.kept = false;
    index.count_not_kept(options.facts, now);
  } else {
    std::string name = slot_name(choice.slot);
    if (auto linked = link_into(report, name, options.owner_uid); !linked) return std::unexpected(linked.error());
    index.record(choice.slot, options.facts, now);
    out.name = name;
    out.replaced_group_newest = choice.replaces_group_newest;
  }
  const GroupRecord* group = options.facts.group ? index.group(*options.facts.group) : nullptr;
  out.group_count = group ? group->count : 0;
  // The report is in place whatever happens to the index: a failure here
  // only costs the ring its order (the next publication starts afresh).
  if (auto saved = index.save(dir_.get()); !saved) out.index_problem = saved.error().message;
  return out;
}

Result<void> CrashDirectory::link_into(PendingReport& report, const std::string& name, std::optional<uid_t> owner_uid) {
  // Empty the slot, report first, so a reader never pairs an old report
  // with new companions.
  for (SlotFile kind : {SlotFile::text, SlotFile::json, SlotFile::core}) {
    std::string file = name + slot_suffix(kind);
    if (::unlinkat(dir_.get(), file.c_str(), 0) != 0 && errno != ENOENT)
      return util::fail_errno(fmt::format("remove old {}/{}", path_, file));
  }
  // Companions first, the text report last: its name marks the slot complete.
  for (SlotFile kind : {SlotFile::json, SlotFile::core, SlotFile::text}) {
    for (auto& f : report.files) {
      if (f.kind != kind || !f.fd) continue;
      if (owner_uid) {
        // report_access=owner: the crashed process's owner may read it, and
        // nothing more: the file stays root's (see owner_access.h). Without
        // ACLs on this filesystem it stays root's alone; the report is kept.
        if (auto granted = grant_read(f.fd.get(), *owner_uid); !granted)
          util::log::warn("{}/{}: {}", path_, name, granted.error().message);
      }
      std::string file = name + slot_suffix(kind);
      int rc;
      if (f.temp_name.empty()) {
        rc = ::linkat(f.fd.get(), "", dir_.get(), file.c_str(), AT_EMPTY_PATH);
        if (rc != 0 && (errno == ENOENT || errno == EPERM)) {
          // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not.
          std::string self = fmt::format("/proc/self/fd/{}", f.fd.get());
          rc = ::linkat(AT_FDCWD, self.c_str(), dir_.get(), file.c_str(), AT_SYMLINK_FOLLOW);
        }
      } else {
        rc = ::renameat(dir_.get(), f.temp_name.c_str(), dir_.get(), file.c_str());
        if (rc == 0) f.temp_name.clear();
      }
      if (rc != 0) return util::fail_errno(fmt::format("publish {}/{}", path_, file));
    }
  }
  return {};
}

bool CrashDirectory::is_published(const PendingReport& report) const {
  int text = report.fd(SlotFile::text);
  struct stat st {};
  // An unnamed file gets its first link when published. (A named temporary
  // has one all along and is renamed: that case cannot be told.)
  return !named_temp_ && text >= 0 && ::fstat(text, &st) == 0 && st.st_nlink > 0;
}

void CrashDirectory::remove_stale_temporaries() {
  auto walk = util::DirectoryWalk::open(dir_.get());
  if (!walk) return;
  std::vector<std::string> stale;
  while (auto entry = walk->next())
    if (entry->starts_with(kTempPrefix)) stale.emplace_back(*entry);
  for (const auto& name : stale) ::unlinkat(dir_.get(), name.c_str(), 0);
}

}  // namespace usercrash::store
