#include "engine/process_target.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "proc/proc_parsers.h"

namespace usercrash::engine {

using util::Result;
using util::UniqueFd;

namespace {

proc::ListLimits list_limits(const ProcessLimits& limits, size_t max_entries) {
  return {max_entries, limits.max_path_bytes, limits.deadline};
}

// What a bounded read of `what` (maps, open files) left out, in the report's words.
void say_cut(ProcessFacts& f, const char* what, const proc::ListCut& cut, size_t kept, const ProcessLimits& limits) {
  if (cut.entries) f.truncated.push_back(fmt::format("{}: kept the first {}", what, kept));
  if (cut.late)
    f.truncated.push_back(fmt::format("{}: kept the first {}, as reading more ran past the time budget", what, kept));
  if (cut.nameless)
    f.truncated.push_back(fmt::format("{}: {} kept without their file names, past {} bytes of names", what,
                                      cut.nameless, limits.max_path_bytes));
}

void note(ProcessFacts& f, const char* what, const util::Error& e) {
  f.problems.push_back(fmt::format("{}: {}", what, e.message));
}

// Who the process is: its name, ids and executable.
void read_identity(const proc::ProcessDir& dir, ProcessFacts& f) {
  if (auto st = dir.status()) {
    f.comm = st->name;  // escaped by the kernel; replaced by the raw one below
    f.tgid = st->tgid;
    f.uid = st->uid;
    f.euid = st->euid;
    f.gid = st->gid;
    f.egid = st->egid;
    if (st->ns_pids.size() > 1 && st->ns_pids.back() != f.pid) f.namespace_pid = st->ns_pids.back();
  } else {
    note(f, "status", st.error());
  }
  // The raw name: status escapes it, comm does not (rendering escapes it).
  if (auto comm = dir.read("comm", 64)) {
    std::string raw = *comm;
    if (!raw.empty() && raw.back() == '\n') raw.pop_back();
    f.comm = raw;
  }
  if (auto exe = dir.read_link("exe")) f.exe = *exe;
  else note(f, "exe", exe.error());
}

// Threads of a process in another pid namespace: the core's notes use its
// own numbering; /proc/<pid>/task uses ours. (namespace tid, global tid)
std::vector<std::pair<pid_t, pid_t>> namespace_tids(const proc::ProcessDir& dir,
                                                    const std::vector<proc::ThreadInfo>& threads) {
  std::vector<std::pair<pid_t, pid_t>> tids;
  for (const auto& t : threads) {
    std::string name = fmt::format("task/{}/status", t.tid);
    if (auto text = dir.read(name.c_str(), 64 * 1024)) {
      auto st = proc::parse_status(*text);
      if (!st.ns_pids.empty()) tids.emplace_back(st.ns_pids.back(), t.tid);
    }
  }
  return tids;
}

}  // namespace

ProcessTarget::ProcessTarget(proc::ProcessDir dir, const ProcessLimits& limits) : dir_(std::move(dir)) {
  collect_facts(limits);
  if (auto mem = dir_.open_mem()) mem_ = std::move(*mem);
  else facts_.problems.push_back("memory: " + mem.error().message);
}

void ProcessTarget::collect_facts(const ProcessLimits& limits) {
  ProcessFacts& f = facts_;
  f.pid = dir_.pid();

  read_identity(dir_, f);

  bool cut = false;
  if (auto args = dir_.cmdline(limits.max_cmdline_args, &cut)) {
    f.cmdline = std::move(*args);
    if (cut) f.truncated.push_back("cmdline");
  } else {
    note(f, "cmdline", args.error());
  }
  if (limits.include_environment) {
    if (auto env = dir_.environment(limits.max_cmdline_args, &cut)) {
      f.environment = std::move(*env);
      if (cut) f.truncated.push_back("environment");
    } else {
      note(f, "environ", env.error());
    }
  }
  if (auto threads = dir_.threads(limits.max_threads, &cut)) {
    f.thread_info = std::move(*threads);
    if (cut) f.truncated.push_back(fmt::format("threads: listed the first {}", limits.max_threads));
  } else {
    note(f, "task", threads.error());
  }
  proc::ListCut list_cut;
  if (auto files = dir_.open_files(list_limits(limits, limits.max_open_files), &list_cut)) {
    f.open_files = std::move(*files);
    say_cut(f, "open files", list_cut, f.open_files.size(), limits);
  } else {
    note(f, "fd", files.error());
  }
  if (!limits.kernel_stack)
    f.truncated.push_back("kernel stack: left out of a report its owner may read (the kernel keeps it from users)");
  else if (auto stack = dir_.kernel_stack(limits.max_kernel_stack_lines, limits.kernel_stack_wait))
    f.kernel_stack = std::move(*stack);
  else note(f, "stack", stack.error());
  if (auto auxv = dir_.auxv(exe_word_size())) f.auxv = std::move(*auxv);
  else note(f, "auxv", auxv.error());

  if (auto maps = dir_.maps(list_limits(limits, limits.max_maps), &list_cut)) {
    maps_ = std::move(*maps);
    say_cut(f, "maps", list_cut, maps_.size(), limits);
  } else {
    note(f, "maps", maps.error());
  }

  utsname u{};
  if (::uname(&u) == 0) {
    f.kernel = std::string(u.release);
    f.hostname = std::string(u.nodename);
  }

  if (f.namespace_pid) namespace_tids_ = namespace_tids(dir_, f.thread_info);
}

unsigned ProcessTarget::exe_word_size() const {
  // The ELF class of the running executable: a 32-bit process's auxv is
  // made of 4-byte words.
  UniqueFd fd(::openat(dir_.fd(), "exe", O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  unsigned char ident[EI_NIDENT] = {};
  if (fd && ::pread(fd.get(), ident, sizeof ident, 0) == static_cast<ssize_t>(sizeof ident) &&
      std::memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS32)
    return 4;
  return 8;
}

pid_t ProcessTarget::global_tid(pid_t namespace_tid) const {
  for (auto [ns, global] : namespace_tids_)
    if (ns == namespace_tid) return global;
  return namespace_tid;
}

size_t ProcessTarget::read_memory(uint64_t address, std::span<std::byte> out) {
  if (!mem_ || out.empty() || address > static_cast<uint64_t>(INT64_MAX)) return 0;
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(mem_.get(), out.data() + done, out.size() - done, static_cast<off_t>(address + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

std::vector<int> ProcessTarget::fds() const {
  if (mem_) return {mem_.get()};
  return {};
}

namespace {

// The device and inode /proc/<pid>/maps gives ("fd:01", 1234) against a
// stat of the file opened.
bool same_file(const struct stat& st, const proc::MapEntry& mapping) {
  if (st.st_ino != mapping.inode) return false;
  unsigned major_number = 0, minor_number = 0;
  if (std::sscanf(mapping.device.c_str(), "%x:%x", &major_number, &minor_number) != 2) return false;
  return major(st.st_dev) == major_number && minor(st.st_dev) == minor_number;
}

}  // namespace

Result<UniqueFd> ProcessTarget::open_mapped_file(const proc::MapEntry& mapping) {
  // map_files/ names the very file mapped, deleted or in another mount
  // namespace. stat first: opening a device node can have side effects.
  std::string name = fmt::format("map_files/{:x}-{:x}", mapping.start, mapping.end);
  struct stat st {};
  if (::fstatat(dir_.fd(), name.c_str(), &st, 0) == 0) {
    if (!S_ISREG(st.st_mode)) return util::fail(mapping.path + ": not a regular file");
    int fd = ::openat(dir_.fd(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) return UniqueFd(fd);
  }
  // Without map_files (no CAP_SYS_ADMIN): the path inside the process's root.
  if (mapping.path.empty() || mapping.path[0] != '/' || mapping.path.ends_with(" (deleted)"))
    return util::fail(mapping.path + ": cannot open the mapped file");
  // O_PATH first (opening a device can have side effects), then the same
  // inode for reading; it must be the very file mapped: same device and
  // inode as the maps line says, checked on the descriptor we read from.
  std::string rooted = "root" + mapping.path;
  UniqueFd where(::openat(dir_.fd(), rooted.c_str(), O_PATH | O_CLOEXEC));
  if (!where) return util::fail_errno(mapping.path);
  if (::fstat(where.get(), &st) != 0) return util::fail_errno(mapping.path);
  if (!S_ISREG(st.st_mode)) return util::fail(mapping.path + ": not a regular file");
  std::string self = fmt::format("/proc/self/fd/{}", where.get());
  int fd = ::open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return util::fail_errno(mapping.path);
  UniqueFd opened(fd);
  struct stat now {};
  if (::fstat(opened.get(), &now) != 0) return util::fail_errno(mapping.path);
  if (!same_file(now, mapping)) return util::fail(mapping.path + ": the file was replaced since it was mapped");
  return opened;
}

}  // namespace usercrash::engine
