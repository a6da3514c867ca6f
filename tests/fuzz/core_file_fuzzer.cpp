// The offline core-file reader on arbitrary bytes: CoreFileTarget::open on
// the input as a core file, then what the engine asks of it (every
// mapping's file, memory at the registers and around every mapping), with
// module files looked for only inside an empty sysroot.
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/core_file_target.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace usercrash::engine;

const std::string& empty_sysroot() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/core-file-fuzzer-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    return std::string(made ? made : "/nonexistent");
  }();
  return dir;
}

int core_fd() {
  static int fd = ::memfd_create("core", MFD_CLOEXEC);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = core_fd();
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(::ftruncate(fd, 0) == 0);
  FUZZ_CHECK(::pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  CoreFileOptions options;
  options.sysroot = empty_sysroot();
  options.debuginfo_path = empty_sysroot();
  options.max_threads = 64;
  options.max_maps = 256;
  auto target = CoreFileTarget::open("/proc/self/fd/" + std::to_string(fd), options);
  if (!target) {
    FUZZ_CHECK(!target.error().message.empty());
    return 0;
  }
  CoreFileTarget& t = **target;
  FUZZ_CHECK(t.threads().size() <= options.max_threads);
  FUZZ_CHECK(t.mappings().size() <= options.max_maps + 4096);  // plus what the link map adds, itself capped
  for (size_t i = 1; i < t.mappings().size(); ++i) FUZZ_CHECK(t.mappings()[i - 1].start <= t.mappings()[i].start);
  std::byte buffer[64];
  for (const auto& thread : t.threads()) {
    FUZZ_CHECK(t.read_memory(thread.regs.pc(), buffer) <= sizeof buffer);
    FUZZ_CHECK(t.read_memory(thread.regs.sp(), buffer) <= sizeof buffer);
  }
  size_t opened = 0;
  for (const auto& m : t.mappings()) {
    FUZZ_CHECK(t.read_memory(m.start, buffer) <= sizeof buffer);
    if (m.file_backed() && opened++ < 8) (void)t.open_mapped_file(m);
  }
  for (const auto& p : t.facts().problems) FUZZ_CHECK(!p.empty());
  return 0;
}
