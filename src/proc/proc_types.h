// Plain values read from /proc (or from a core's notes, for the same facts).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace usercrash::proc {

struct MapEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;  // "r-xp"
  uint64_t offset = 0;
  std::string device;  // "fd:01"
  uint64_t inode = 0;
  std::string path;  // may be empty, "[stack]", or end in " (deleted)"

  bool readable() const { return !perms.empty() && perms[0] == 'r'; }
  bool writable() const { return perms.size() > 1 && perms[1] == 'w'; }
  bool executable() const { return perms.size() > 2 && perms[2] == 'x'; }
  bool contains(uint64_t address) const { return address >= start && address < end; }
  // A regular file backs this mapping (not anonymous, not [heap] / [stack] / [vdso]).
  bool file_backed() const { return inode != 0 && !path.empty() && path[0] == '/'; }
};

struct Status {
  std::string name;
  std::string state;  // "S (sleeping)"
  std::optional<pid_t> tgid, pid, ppid, tracer_pid;
  std::optional<uid_t> uid, euid, suid, fsuid;
  std::optional<gid_t> gid, egid, sgid, fsgid;
  std::vector<pid_t> ns_pids;  // NSpid: outermost first
  std::vector<gid_t> groups;   // supplementary groups
  std::optional<unsigned> threads;
};

struct Stat {
  pid_t pid = 0;
  std::string comm;
  char state = '?';
  pid_t ppid = 0;
  uint64_t flags = 0;       // the kernel's PF_* task flags (PF_KTHREAD...)
  uint64_t start_time = 0;  // clock ticks after boot
};

struct OpenFile {
  int fd = -1;
  std::string path;  // readlink of /proc/<pid>/fd/<fd>
};

struct ThreadInfo {
  pid_t tid = 0;
  std::string name;
  std::string state;  // one letter, as in /proc/<pid>/stat ("S", "R", "D", "t")
};

struct AuxvEntry {
  uint64_t type = 0;
  uint64_t value = 0;
};

}  // namespace usercrash::proc
