// The seccomp filter of the engine child: the system calls that unwinding,
// symbolizing, disassembling and writing the report need, and no other.
// The list was found by tracing the engine (strace -f) on real crashes (one
// thread, 16 threads, stack overflow, a deleted and a stripped executable),
// `debugger` on a live process and `usercrashctl analyze` on a core file,
// in the release and the sanitizer builds; README.md, "Security", has it.
//
// Anything else fails with EPERM, so that a library probing for something
// harmless (syslog's socket, a tty check) degrades instead of losing the
// report; the calls only an attacker who took over the parser would make
// (execve, execveat, ptrace, process_vm_readv, process_vm_writev) kill the
// child on the spot, which the parent then reports ("Bad system call").
#pragma once

#include <linux/filter.h>

#include <vector>

#include "util/result.h"

namespace usercrash::collect {

// The sanitizer build: its runtime reports on stderr and needs a few more
// calls (README.md, "Security"). USERCRASH_SANITIZED is the build's own mark
// (CMakeLists.txt, USERCRASH_SANITIZE): clang, unlike GCC, defines no
// __SANITIZE_ADDRESS__ of its own.
#if defined(USERCRASH_SANITIZED)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif

// The filter as a BPF program for seccomp(SECCOMP_SET_MODE_FILTER), built
// once (libseccomp) so that a forked child only has to load it.
util::Result<std::vector<sock_filter>> engine_syscall_filter();

}  // namespace usercrash::collect
