#include "collect/syscall_filter.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "util/unique_fd.h"

namespace usercrash::collect {
namespace {

// Allowed with any arguments. The fds the child holds are the process's
// memory and module files (read-only) and the report files; it opens
// nothing but debug files (below).
constexpr int kAllowed[] = {
    // Reading what is open: module and debug files, process memory, the core file.
    SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(preadv), SCMP_SYS(lseek),
    // Writing the report into its files (the only writable fds left).
    SCMP_SYS(write), SCMP_SYS(pwrite64), SCMP_SYS(writev), SCMP_SYS(ftruncate),
    // libelf and libdwfl: sizes of files, and realpath() of the files it is given.
    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(close),
    // Memory (never executable: see the rules below).
    SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
    // glibc's qsort sizes its buffer from the machine's memory.
    SCMP_SYS(sysinfo),
    // Locks, time (the vdso's fallback), randomness, our own signals (abort()).
    SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
    SCMP_SYS(time), SCMP_SYS(getrandom), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
    SCMP_SYS(restart_syscall),
    // Who we are (harmless, asked by libraries).
    SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
    SCMP_SYS(exit), SCMP_SYS(exit_group)};

// What the sanitizer build's runtime needs on top (its allocator and its
// error reports); the release build does not have these.
constexpr int kSanitizerAllowed[] = {SCMP_SYS(sigaltstack), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
                                     SCMP_SYS(sched_getaffinity), SCMP_SYS(openat)};

// Only an attacker who took over the parser makes these: the child dies.
constexpr int kKilled[] = {SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
                           SCMP_SYS(process_vm_writev)};

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

util::Result<void> check(int rc, const char* what) {
  if (rc < 0) return util::fail_errno(std::string("seccomp: ") + what, -rc);
  return {};
}

}  // namespace

util::Result<std::vector<sock_filter>> engine_syscall_filter() {
  std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!ctx) return util::fail("seccomp_init failed");
  scmp_filter_ctx c = ctx.get();
  // no_new_privs is set by the sandbox itself, before the filter is loaded.
  if (auto r = check(seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 0), "attribute"); !r) return std::unexpected(r.error());
  // A binary tree of the calls: the kernel checks (and, loading it, caches)
  // each call in a few comparisons instead of a walk down the list; it
  // halves the time the child spends loading the filter (~170 to ~90 us).
  if (auto r = check(seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2), "attribute"); !r)
    return std::unexpected(r.error());

  for (int nr : kAllowed)
    if (auto r = check(seccomp_rule_add(c, SCMP_ACT_ALLOW, nr, 0), "allow"); !r) return std::unexpected(r.error());
  if (kSanitizerBuild)
    for (int nr : kSanitizerAllowed)
      if (auto r = check(seccomp_rule_add(c, SCMP_ACT_ALLOW, nr, 0), "allow"); !r) return std::unexpected(r.error());
  for (int nr : kKilled)
    if (auto r = check(seccomp_rule_add(c, SCMP_ACT_KILL_PROCESS, nr, 0), "kill"); !r)
      return std::unexpected(r.error());

  // One argument's comparison, every field given (libseccomp's SCMP_An
  // macros leave datum_b to a designated initializer's default).
  auto arg = [](unsigned index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
    return scmp_arg_cmp{index, op, a, b};
  };
  struct Rule {
    int nr;
    scmp_arg_cmp cmp;
    const char* what;
  };
  const Rule rules[] = {
      // Debug files, read-only: no write access, no creating, truncating or
      // appending. (Landlock limits where; see sandbox.cpp.)
      {SCMP_SYS(openat), arg(2, SCMP_CMP_MASKED_EQ, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0), "openat"},
      // Memory that never becomes code: a parser taken over cannot map a payload.
      {SCMP_SYS(mmap), arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0), "mmap"},
      {SCMP_SYS(mprotect), arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0), "mprotect"},
      // fcntl only to read and set fd flags and to duplicate (the module
      // files are handed out as duplicates); not F_SETOWN, F_SETSIG, leases.
      {SCMP_SYS(fcntl), arg(1, SCMP_CMP_EQ, F_GETFD), "fcntl"},
      {SCMP_SYS(fcntl), arg(1, SCMP_CMP_EQ, F_SETFD), "fcntl"},
      {SCMP_SYS(fcntl), arg(1, SCMP_CMP_EQ, F_GETFL), "fcntl"},
      {SCMP_SYS(fcntl), arg(1, SCMP_CMP_EQ, F_DUPFD), "fcntl"},
      {SCMP_SYS(fcntl), arg(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC), "fcntl"},
      // The channel to the parent (collect/job.cpp): send() and recv() on the
      // connected socket it holds, never to or from an address.
      {SCMP_SYS(sendto), arg(4, SCMP_CMP_EQ, 0), "sendto"},
      {SCMP_SYS(recvfrom), arg(4, SCMP_CMP_EQ, 0), "recvfrom"},
      // ... and the debug files the parent fetched from debuginfod
      // (collect/late_symbols.h), which come over that channel as fds.
      {SCMP_SYS(recvmsg), arg(2, SCMP_CMP_EQ, MSG_CMSG_CLOEXEC), "recvmsg"},
  };
  for (const auto& rule : rules) {
    if (kSanitizerBuild && rule.nr == SCMP_SYS(openat)) continue;  // allowed whole above
    if (auto r = check(seccomp_rule_add(c, SCMP_ACT_ALLOW, rule.nr, 1, rule.cmp), rule.what); !r)
      return std::unexpected(r.error());
  }

  // libseccomp 2.5 exports only into an fd.
  util::UniqueFd out(::memfd_create("usercrash-seccomp", MFD_CLOEXEC));
  if (!out) return util::fail_errno("seccomp: memfd_create");
  if (auto r = check(seccomp_export_bpf(c, out.get()), "export"); !r) return std::unexpected(r.error());
  off_t size = ::lseek(out.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) return util::fail("seccomp: bad export");
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(out.get(), program.data(), static_cast<size_t>(size), 0) != size)
    return util::fail_errno("seccomp: reading the export");
  return program;
}

}  // namespace usercrash::collect
