#include "collect/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "collect/syscall_filter.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::collect {
namespace {

// Landlock's file system rights by ABI version (the later bits are newer
// than Debian 12's linux/landlock.h).
constexpr uint64_t kLandlockFsV1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kLandlockFsRefer = 1ULL << 13;     // ABI 2
constexpr uint64_t kLandlockFsTruncate = 1ULL << 14;  // ABI 3
constexpr uint64_t kLandlockFsIoctlDev = 1ULL << 15;  // ABI 5
// The time zone file: glibc reads it whenever a time is formatted.
constexpr const char* kTimeZoneFile = "/etc/localtime";

int landlock_abi() {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v > 0 ? static_cast<int>(v) : 0;
}

uint64_t landlock_handled(int abi) {
  uint64_t fs = kLandlockFsV1;
  if (abi >= 2) fs |= kLandlockFsRefer;
  if (abi >= 3) fs |= kLandlockFsTruncate;
  if (abi >= 5) fs |= kLandlockFsIoctlDev;
  return fs;
}

int last_capability() {
  auto text = util::read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64);
  auto n = text ? util::parse_int<int>(util::trim(*text)) : std::nullopt;
  return n && *n >= CAP_LAST_CAP && *n < 64 ? *n : CAP_LAST_CAP;
}

// Sets both limits to `value`, or to the hard limit when that is lower:
// raising a hard limit would take CAP_SYS_RESOURCE, which the service
// does not keep.
util::Result<void> set_limit(int resource, uint64_t value, const char* name) {
  rlimit now{};
  if (::getrlimit(resource, &now) != 0) return util::fail_errno(name);
  rlim_t v = static_cast<rlim_t>(value);
  if (now.rlim_max != RLIM_INFINITY) v = std::min(v, now.rlim_max);
  rlimit limit{v, v};
  if (::setrlimit(resource, &limit) != 0) return util::fail_errno(name);
  return {};
}

util::Result<void> drop_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capset, &header, data) != 0) return util::fail_errno("capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return util::fail_errno("clearing ambient capabilities");
  return {};
}

// Closes every fd above 2 that is not in `keep` (sorted).
util::Result<void> close_all_but(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next && ::close_range(next, static_cast<unsigned>(fd) - 1, 0) != 0)
      return util::fail_errno("close_range");
    next = static_cast<unsigned>(fd) + 1;
  }
  if (::close_range(next, ~0U, 0) != 0) return util::fail_errno("close_range");
  return {};
}

// The user: groups, then gid, then the bounding set (CAP_SETPCAP is needed
// for it), then uid, which empties the other capability sets.
util::Result<void> become(const EngineUser& user, int last_capability) {
  if (::setgroups(0, nullptr) != 0) return util::fail_errno("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return util::fail_errno("setresgid");
  // (Dropping one already gone fails only without CAP_SETPCAP: then it is fine.)
  for (int cap = 0; cap <= last_capability; ++cap)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0)
      return util::fail_errno(fmt::format("dropping capability {} from the bounding set", cap));
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return util::fail_errno("setresuid");
  return {};
}

// That every id is the user's, no group is left and root cannot be taken back.
util::Result<void> check_credentials(const EngineUser& user) {
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0 || ru != user.uid || eu != user.uid ||
      su != user.uid || rg != user.gid || eg != user.gid || sg != user.gid || ::getgroups(0, nullptr) != 0)
    return util::fail("the credentials did not change as asked");
  if (::setresuid(0, 0, 0) == 0) return util::fail("root could be taken back");
  return {};
}

// Landlock: the files and trees of `readable` may be read, nothing else.
util::Result<void> restrict_reads(int abi, const std::vector<util::UniqueFd>& readable) {
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = landlock_handled(abi);
  util::UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (!ruleset) return util::fail_errno("landlock_create_ruleset");
  for (const auto& path : readable) {
    struct stat st {};
    if (::fstat(path.get(), &st) != 0) return util::fail_errno("landlock: fstat");
    landlock_path_beneath_attr rule{};
    rule.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | (S_ISDIR(st.st_mode) ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
    rule.parent_fd = path.get();
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
      return util::fail_errno("landlock_add_rule");
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) return util::fail_errno("landlock_restrict_self");
  return {};
}

}  // namespace

Sandbox Sandbox::prepare(const SandboxOptions& options) {
  Sandbox s;
  s.options_ = options;
  s.drop_user_ = ::geteuid() == 0;
  if (s.drop_user_) {
    s.user_ = resolve_engine_user(options.user);
  } else {
    // Without root there is no other user to become.
    s.user_.uid = ::geteuid();
    s.user_.gid = ::getegid();
    s.user_.name = std::to_string(s.user_.uid);
  }
  s.last_capability_ = last_capability();
  if (auto filter = engine_syscall_filter()) s.filter_ = std::move(*filter);
  else s.broken_ = filter.error();
  s.null_ = util::UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!s.null_ && !s.broken_) s.broken_ = util::fail_errno("/dev/null").error();
  s.landlock_abi_ = landlock_abi();
  if (s.landlock_abi_ > 0) {
    for (const std::string& path : {options.readable_tree, std::string(kTimeZoneFile)}) {
      if (path.empty()) continue;
      // Absent is fine: nothing there to read then.
      if (int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC); fd >= 0) s.readable_paths_.emplace_back(fd);
    }
  }
  return s;
}

util::Result<engine::Confinement> Sandbox::enter(std::span<const int> readable, std::span<const int> writable) const {
  if (broken_) return std::unexpected(*broken_);
  engine::Confinement c;
  std::vector<int> keep(readable.begin(), readable.end());
  keep.insert(keep.end(), writable.begin(), writable.end());
  // Only the report files may be written.
  for (int fd : readable) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return util::fail_errno(fmt::format("fd {}", fd));
    if ((flags & O_ACCMODE) != O_RDONLY) return util::fail(fmt::format("fd {} is open for writing", fd));
  }

  // The standard fds: nothing to write to but the report files (a terminal
  // left on stderr would be one). The sanitizer build reports on stderr.
  for (int fd = 0; fd <= 2; ++fd) {
    if (std::find(keep.begin(), keep.end(), fd) != keep.end() || (kSanitizerBuild && fd == STDERR_FILENO)) continue;
    if (::dup2(null_.get(), fd) < 0) return util::fail_errno("dup2 /dev/null");
  }

  // Resource limits, while we may still raise them. Memory is not one of
  // them: the job has already held the child to its memory budget
  // (RLIMIT_DATA, job.h), the one memory limit of the collection.
  if (options_.max_file_size > 0)
    if (auto r = set_limit(RLIMIT_FSIZE, options_.max_file_size, "RLIMIT_FSIZE"); !r) return std::unexpected(r.error());
  if (auto r = set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE"); !r) return std::unexpected(r.error());
  if (auto r = set_limit(RLIMIT_NOFILE, options_.max_open_files, "RLIMIT_NOFILE"); !r)
    return std::unexpected(r.error());

  // The engine's user (as root), then no capabilities, checked.
  if (drop_user_)
    if (auto r = become(user_, last_capability_); !r) return std::unexpected(r.error());
  if (auto r = drop_capabilities(); !r) return std::unexpected(r.error());
  if (drop_user_)
    if (auto r = check_credentials(user_); !r) return std::unexpected(r.error());
  c.user = user_.name;
  c.uid = user_.uid;
  c.gid = user_.gid;

  // A change of credentials makes the process dumpable again (per
  // fs.suid_dumpable) and clears the parent-death signal: set both again.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return util::fail_errno("PR_SET_DUMPABLE");
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return util::fail_errno("PR_SET_PDEATHSIG");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return util::fail_errno("PR_SET_NO_NEW_PRIVS");
  c.no_new_privs = true;

  if (landlock_abi_ > 0) {
    if (auto r = restrict_reads(landlock_abi_, readable_paths_); !r) return std::unexpected(r.error());
    c.landlock = true;
  }

  if (auto r = close_all_but(keep); !r) return std::unexpected(r.error());

  sock_fprog program{static_cast<unsigned short>(filter_.size()), const_cast<sock_filter*>(filter_.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return util::fail_errno("seccomp");
  c.seccomp = true;
  return c;
}

}  // namespace usercrash::collect
