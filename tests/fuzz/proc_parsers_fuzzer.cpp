// Every /proc parser on the same arbitrary bytes: they never fail, and every
// cap holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "proc/proc_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace usercrash::proc;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  bool truncated = false;
  auto maps = parse_maps(text, 64, &truncated);
  FUZZ_CHECK(maps.size() <= 64);
  for (const auto& m : maps) {
    FUZZ_CHECK(m.start <= m.end);
    FUZZ_CHECK(m.perms.size() == 4);
    FUZZ_CHECK(m.path.find('\n') == std::string::npos);
  }
  if (auto line = parse_maps_line(text.substr(0, text.find('\n')))) FUZZ_CHECK(line->start <= line->end);

  Status status = parse_status(text);
  size_t nspid_lines = text.starts_with("NSpid:");
  for (size_t at = text.find("\nNSpid:"); at != std::string_view::npos; at = text.find("\nNSpid:", at + 1))
    ++nspid_lines;
  FUZZ_CHECK(status.ns_pids.size() <= 32 * nspid_lines);  // 32 levels per line (the kernel writes one line)
  FUZZ_CHECK(status.groups.size() <= size / 2 + 1);       // each group takes a digit and a separator
  (void)parse_core_limit(text);

  if (auto stat = parse_stat(text)) FUZZ_CHECK(stat->comm.size() < size);

  auto items = parse_nul_separated(text, 32, &truncated);
  FUZZ_CHECK(items.size() <= 32);
  size_t total = 0;
  for (const auto& i : items) total += i.size();
  FUZZ_CHECK(total <= size);

  auto stack = parse_kernel_stack(text, 16);
  FUZZ_CHECK(stack.size() <= 16);
  for (const auto& l : stack) FUZZ_CHECK(l.find('\n') == std::string::npos);

  auto auxv = parse_auxv(text);
  FUZZ_CHECK(auxv.size() <= 256 && auxv.size() <= size / 16);
  for (const auto& a : auxv) FUZZ_CHECK(a.type != 0);

  (void)parse_pidfd_fdinfo(text);
  return 0;
}
