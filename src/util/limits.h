// The default of every cap on a report, once, next to its reason. The
// config's defaults (config/config.h) and the engine's option values start
// from these; collect/options.h is the one conversion from a Config.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace usercrash::limits {

// Threads unwound per report: more than any sane program runs, few enough
// that a fork bomb of threads cannot hold the client for long.
inline constexpr unsigned kMaxThreads = 1024;
// Frames per thread: a deep recursion (stack overflow) is cut here; the
// frames a developer needs are the top ones.
inline constexpr unsigned kMaxFrames = 256;
// Lines of /proc/<pid>/maps kept: a JVM or a browser maps a few thousand.
inline constexpr unsigned kMaxMaps = 20000;
// Open files listed.
inline constexpr unsigned kMaxOpenFiles = 4096;
// Bytes of file names kept from the maps, and again from the open files: a
// process can give tens of thousands of mappings 4 KB names each. Past it,
// entries are kept without their names, and the report says how many.
inline constexpr size_t kMaxPathBytes = 1 << 20;
// Module files (executable file mappings) opened before the engine drops its
// privileges: a big Python or Java process maps a few hundred; each costs an
// fd and ~15 us on the crash path whether or not a frame falls in it.
inline constexpr unsigned kMaxModules = 512;
// Debug files the crash path asks debuginfod for (crash_debuginfod), one per
// module whose frames lack file:line: the crashing thread's come first, and
// each is a download and a DWARF to load inside the crash's time.
inline constexpr unsigned kMaxLateDebugFiles = 16;
// Arguments of the command line kept.
inline constexpr size_t kMaxCmdlineArgs = 4096;
// Lines of the kernel stack kept.
inline constexpr size_t kMaxKernelStackLines = 128;
// Bytes of one report (text or JSON); beyond, it is cut with a note.
inline constexpr uint64_t kMaxReportSize = 16ULL << 20;
// Bytes of core (uncompressed) kept per crash with save_core.
inline constexpr uint64_t kMaxCoreSize = 2ULL << 30;
// How long usercrash_c may take to connect to the server (for a slot, or
// to hand a crash over): a server whose backlog is full is as good as down.
inline constexpr std::chrono::milliseconds kServerConnectTimeout{1000};
// How long usercrash_c waits for the warm collector to take a crash it
// hands over (client/warm_hand_off.h), and the collector's process for
// that crash for the go-ahead: the collector normally answers in well
// under a millisecond; one that is hung or overloaded costs the crash this
// much before usercrash_c collects it itself.
inline constexpr std::chrono::milliseconds kHandOffTimeout{1000};
// The whole report, crash to written: a hostile process must not hold a
// root helper (and the kernel's wait on it) for longer.
inline constexpr std::chrono::milliseconds kTimeBudget{5000};
// Memory the isolated job may take (RLIMIT_DATA: heap and private writable
// mappings): a report of the caps above fits well inside it; a hostile
// process that makes the collection grow past it gets the report without
// backtraces instead, saying why.
inline constexpr uint64_t kMemoryBudget = 64ULL << 20;

// The unprivileged user the engine child runs as while it parses the
// crashed process's ELF, DWARF and code (created by the package; `nobody`
// when it does not exist).
inline constexpr const char* kEngineUser = "usercrash";

// Which modules get their DWARF loaded for file:line. Loading libc's DWARF
// alone costs ~40 ms per crash, so by default (`automatic`) only modules
// that carry their own .debug_info (the program's own code) pay for it,
// unless the warm collector serves the crash: its parent holds the system
// libraries' line tables (engine/warm_modules.h), and then every module
// gets file:line (`all`).
enum class SourceLines { none, own, all, automatic };
inline constexpr SourceLines kSourceLines = SourceLines::automatic;

// What `lines` means for a crash collected with warm modules or without.
constexpr SourceLines effective_source_lines(SourceLines lines, bool warm) {
  if (lines != SourceLines::automatic) return lines;
  return warm ? SourceLines::all : SourceLines::own;
}

// The warm collector's modules (engine/warm_modules.h): the resident memory
// they may add to the long-lived parent (issue 14 allows the parent 64 MiB;
// libc's DWARF with its line tables takes about 33 MiB), and how many
// libraries it loads.
inline constexpr uint64_t kWarmMaxBytes = 48ull << 20;
inline constexpr size_t kWarmMaxModules = 64;

// Where separate debug files are looked up by build-id. Root-owned trees
// only: a module's own directory may belong to whoever crashed.
inline constexpr const char* kDebuginfoPath = "/usr/lib/debug";

}  // namespace usercrash::limits
