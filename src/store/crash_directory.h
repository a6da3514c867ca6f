// The crash directory: root's, checked on open, written only through its fd.
// A report is written into unnamed files (O_TMPFILE) and only linked into its
// slot when complete, so no half-written slot ever looks complete; where the
// filesystem lacks O_TMPFILE, a hidden name created O_EXCL|O_NOFOLLOW is
// renamed into place instead.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/ring_index.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace usercrash::store {

// File kinds of one slot: the text report, its JSON, and the saved core.
enum class SlotFile { text, json, core };
const char* slot_suffix(SlotFile kind);  // "", ".json", ".core.zst"

// Files being written for one report; not yet visible in the directory.
struct PendingFile {
  SlotFile kind = SlotFile::text;
  util::UniqueFd fd;
  std::string temp_name;  // non-empty only on the no-O_TMPFILE fallback
};

struct PendingReport {
  std::vector<PendingFile> files;
  int fd(SlotFile kind) const;
};

// An exclusive lock on the directory's ".lock" file (flock), shared by the
// server and a client that writes on its own when the server is down.
class DirectoryLock {
 public:
  DirectoryLock() = default;
  explicit DirectoryLock(util::UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

 private:
  util::UniqueFd fd_;  // closing it releases the lock
};

struct OpenOptions {
  bool create = true;  // mkdir (0750) when missing
  // report_access=owner: users must reach their own reports by name, so the
  // directory is searchable (but not listable) by others: 0711.
  bool searchable_by_others = false;
  // Test hook: behave as on a filesystem without O_TMPFILE.
  bool force_named_temp = false;
};

// How a report is published into the ring.
struct PublishOptions {
  CrashFacts facts;  // its group (signature and uid) and names, for the ring's index
  // Per group, the first K reports and the newest are kept; a group's
  // further crash replaces its newest. 0: no grouping.
  unsigned keep_per_signature = 0;
  // False (over the global rate_limit): only the group's own newest may be
  // replaced; a report that needs a slot of its own is counted, not kept.
  bool new_slot_allowed = true;
  std::vector<bool> busy;          // slots being written: skipped unless all are
  std::optional<uid_t> owner_uid;  // report_access=owner: may read the published files
};

struct Publication {
  std::string name;                          // "usercrash_07"; empty when not kept
  bool kept = true;                          // false: counted in its group only (new_slot_allowed)
  bool replaced_group_newest = false;        // it took the place of its group's newest report
  uint64_t group_count = 0;                  // crashes of its group so far (0 without a group)
  std::optional<std::string> index_problem;  // the index could not be read or written; the report is fine
};

class CrashDirectory {
 public:
  // Opens `path` (O_DIRECTORY|O_NOFOLLOW). Refuses a directory that is not
  // owned by us (root) or that group or others can write.
  static util::Result<CrashDirectory> open(const std::string& path, unsigned count, const OpenOptions& options = {});

  int fd() const { return dir_.get(); }
  const std::string& path() const { return path_; }
  unsigned count() const { return count_; }

  // Unnamed files for a new report (mode 0600 until published).
  util::Result<PendingReport> create_pending(bool with_core);

  // Takes the lock, chooses the slot from the ring's index (store/ring_index.h:
  // never from file times), replaces what the slot held, links the pending
  // files in, text last, and records the publication in the index. A report
  // published already is an error of kind `exists`.
  util::Result<Publication> publish(PendingReport& report, const PublishOptions& options);
  // The same for a report without a group; returns the slot's name.
  util::Result<std::string> publish(PendingReport& report, const std::vector<bool>& busy = {},
                                    std::optional<uid_t> owner_uid = std::nullopt);

  // Whether `report`'s files are in a slot already.
  bool is_published(const PendingReport& report) const;

  // Counts, under the lock, a crash of `facts.group` that was not kept;
  // returns the group's count.
  util::Result<uint64_t> count_not_kept(const CrashFacts& facts);

  util::Result<DirectoryLock> lock(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // One of `count` slots for clients that write on their own while the
  // server is down, so that a storm that outlives its server collects at
  // most `count` crashes at once, as the server would. Waits up to
  // `timeout` for one (then an error of kind `timed_out`).
  util::Result<DirectoryLock> writer_slot(unsigned count, std::chrono::milliseconds timeout);

  // Whether each slot holds something at its text report's name (a
  // planted symlink counts: it is unlinked, never followed, on reuse).
  std::vector<bool> slots_present() const;

  // Removes leftovers of interrupted writes (hidden temp names).
  void remove_stale_temporaries();

 private:
  CrashDirectory(std::string path, util::UniqueFd dir, unsigned count, bool named_temp)
      : path_(std::move(path)), dir_(std::move(dir)), count_(count), named_temp_(named_temp) {}

  util::Result<PendingFile> create_one(SlotFile kind);
  util::Result<util::UniqueFd> open_lock_file(const char* name);
  // Empties slot `name` and links the report's files into it.
  util::Result<void> link_into(PendingReport& report, const std::string& name, std::optional<uid_t> owner_uid);

  std::string path_;
  util::UniqueFd dir_;
  unsigned count_;
  bool named_temp_;
};

inline constexpr const char* kLockName = ".lock";
inline constexpr const char* kWriterPrefix = ".writer-";
inline constexpr const char* kTempPrefix = ".pending-";

}  // namespace usercrash::store
