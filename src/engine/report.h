// The one structured value a crash becomes. The engine fills it; renderers
// (text, JSON) are pure functions of it. Absent facts stay absent (nullopt),
// never invented.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proc/proc_types.h"
#include "util/uuid.h"

namespace usercrash::engine {

// The report's format version (JSON `version`, schema/report.schema.json):
// bumped on every change of the JSON's keys or their meaning.
// 2: signature, exe_build_id.
// 3: id, sandbox, uncaught_exception, frame method "signal", time null when
//    not known (a core file analyzed later), signal code and code_name null
//    when not known; usercrashctl list --json and list --group --json give
//    it in each element.
// 4: frame resymbolized, symbolized (usercrashctl symbolize).
inline constexpr int kReportVersion = 4;

// How the unwinder found a frame.
enum class FrameMethod {
  context,        // the thread's registers (frame #0)
  cfi,            // DWARF call frame information (.eh_frame / .debug_frame)
  frame_pointer,  // rbp chain, where no CFI covered the caller
  stack,          // the return address on top of the stack (after a call to a bad address)
  inlined,        // an inlined call inside the physical frame that follows
  signal,         // the registers a signal frame saved (stepped through by the engine)
};

struct Frame {
  uint64_t pc = 0;
  std::optional<std::string> module;      // file name of the module, as mapped
  std::optional<uint64_t> module_offset;  // pc relative to the module's load address
  std::optional<std::string> build_id;    // hex
  std::optional<std::string> function;
  std::optional<uint64_t> function_offset;
  std::optional<std::string> file;
  std::optional<int> line;
  FrameMethod method = FrameMethod::cfi;
  // usercrashctl symbolize changed its function, file, line or inlined
  // calls (from debug files found on a build host).
  bool resymbolized = false;
};

struct RegisterValue {
  std::string name;
  uint64_t value = 0;
};

struct ThreadReport {
  pid_t tid = 0;
  std::optional<std::string> name;
  std::optional<std::string> state;  // one letter as in /proc, expanded by renderers
  bool crashed = false;
  std::vector<RegisterValue> registers;  // display order
  std::vector<Frame> frames;
  std::optional<std::string> unwind_stopped;  // why the backtrace ends where it does, when not at the outermost frame
};

struct SignalReport {
  int number = 0;
  int code = 0;
  bool code_known = true;  // false: the source gave the number alone (`code` means nothing)
  std::optional<uint64_t> fault_address;
  std::optional<pid_t> sender_pid;
  std::optional<uid_t> sender_uid;
  std::optional<std::string> cause;  // "null-pointer dereference", "stack overflow", ...
};

// The exception std::terminate was called for (C++), as far as it could be
// read from memory.
struct UncaughtException {
  std::string type;                    // demangled, from the exception's std::type_info
  std::optional<std::string> message;  // what(), only where it is the string the object holds
  std::string source;                  // where type and message came from, in words
};

struct MemoryDump {
  std::string label;     // register name
  uint64_t address = 0;  // the register's value
  uint64_t start = 0;    // first byte dumped
  std::vector<uint8_t> bytes;
};

struct Instruction {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
  std::string text;  // "mov eax, dword ptr [rdi]"
  bool faulting = false;
};

// What became of the core when it was to be kept beside the report
// (save_core): learnt after collection, once the rest of the core stream
// has passed, and rendered with the report.
struct CoreOutcome {
  bool saved = false;
  uint64_t bytes = 0;             // bytes of core kept, uncompressed
  uint64_t compressed_bytes = 0;  // bytes on disk
  bool truncated = false;         // cut at max_core_size
  std::string error;              // why it was not saved, when not
};

// How the engine was confined while it parsed the process's ELF, DWARF and
// code (collect/sandbox.h). Absent when it did not run (a fallback report).
struct Confinement {
  std::string user;  // the user it ran as ("usercrash", "nobody", or a number)
  uid_t uid = 0;
  gid_t gid = 0;
  bool no_new_privs = false;
  bool seccomp = false;
  bool landlock = false;  // the kernel may not offer it
};

// One module of a report symbolized elsewhere (usercrashctl symbolize).
struct SymbolizedModule {
  std::string build_id;
  std::optional<std::string> module;      // as the report names it
  std::optional<std::string> debug_file;  // where its debug info was found
  std::optional<std::string> source;      // "debug_dir", "sysroot", "system", "debuginfod"
  std::optional<std::string> problem;     // why none was found or read
};

struct Symbolization {
  int64_t time = 0;  // seconds since the epoch, UTC
  size_t frames_changed = 0;
  std::vector<SymbolizedModule> modules;
};

struct Report {
  int version = kReportVersion;
  // A random UUID, made with the report: names it for good (its slot is
  // reused by the ring), in the JSON, the text and usercrashctl.
  std::string id = util::random_uuid();
  pid_t pid = 0;  // global pid
  std::optional<pid_t> tgid;
  std::optional<pid_t> namespace_pid;  // pid inside its own pid namespace, when different
  pid_t tid = 0;                       // crashing (or first) thread
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::string comm;
  std::optional<std::string> exe;
  std::optional<std::string> exe_build_id;  // hex, of the executable's module
  std::vector<std::string> cmdline;
  std::optional<std::vector<std::string>> environment;  // only when configured
  // Seconds since the epoch, UTC: of the crash, or of a live process's
  // capture; absent when not known (a core file read later).
  std::optional<int64_t> time;
  std::optional<std::string> kernel;
  std::optional<std::string> hostname;
  std::string source;           // "core_pattern", "kernel_socket", "live", "core_file"
  std::string arch = "x86_64";  // the process's architecture (engine/arch.h names)
  bool secure = false;          // setuid/setgid/non-dumpable: memory left out unless configured

  std::optional<SignalReport> signal;  // absent for a live process
  std::optional<std::string> abort_message;
  // engine/signature.h: the same for the same bug across runs and machines;
  // absent for a live process (no crash).
  std::optional<std::string> signature;
  std::optional<UncaughtException> uncaught_exception;

  std::vector<ThreadReport> threads;  // crashing thread first
  std::vector<MemoryDump> memory_near_registers;
  std::vector<Instruction> disassembly;
  std::vector<proc::MapEntry> maps;
  std::vector<proc::OpenFile> open_files;
  std::vector<std::string> kernel_stack;
  std::optional<CoreOutcome> core;  // absent when no core was to be kept

  std::vector<std::string> truncated;  // what was cut for size, in words
  std::vector<std::string> problems;   // what could not be collected, and why
  // Milliseconds spent collecting, for the report's footer and benchmarks.
  std::optional<double> collection_ms;
  std::optional<Confinement> sandbox;
  // Absent until usercrashctl symbolize symbolized the report elsewhere.
  std::optional<Symbolization> symbolized;
};

}  // namespace usercrash::engine
