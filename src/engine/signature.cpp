#include "engine/signature.h"

#include <array>

#include <fmt/format.h>

#include "engine/signal_names.h"
#include "util/path_names.h"
#include "util/sha256.h"

namespace usercrash::engine {
namespace {

// Bumped whenever what goes in changes, so old and new signatures never meet.
constexpr std::string_view kScheme = "usercrash-signature-1";

// One frame's contribution: the module's build-id and the offset in it.
// Without a build-id, the module's file name stands in for it.
std::string frame_token(const Frame& f) {
  std::string module = f.build_id ? *f.build_id : "name:" + std::string(util::base_name(*f.module));
  return fmt::format("{}+0x{:x}", module, f.module_offset.value_or(f.pc));
}

bool usable(const Frame& f) { return f.method != FrameMethod::inlined && f.module && f.module_offset; }

const ThreadReport* crashing_thread(const Report& r) {
  for (const auto& t : r.threads)
    if (t.crashed) return &t;
  return r.threads.empty() ? nullptr : &r.threads.front();
}

}  // namespace

bool is_runtime_module(std::string_view path) {
  static constexpr std::array<std::string_view, 18> kPrefixes = {
      "libc.so",  "libc.musl", "ld-linux", "ld-musl", "ld64.so",   "ld.so",   "libpthread",  "libm.so",    "libdl.so",
      "librt.so", "libstdc++", "libgcc_s", "libc++",  "libunwind", "libasan", "libubsan.so", "linux-vdso", "linux-gate",
  };
  std::string_view name = util::base_name(path);
  if (name == "[vdso]" || name == "[vsyscall]") return true;
  for (auto prefix : kPrefixes)
    if (name.starts_with(prefix)) return true;
  return false;
}

std::optional<std::string> signature_input(const Report& r) {
  if (!r.signal) return std::nullopt;
  std::string in(kScheme);
  in += '\n';
  if (r.exe_build_id) in += "exe " + *r.exe_build_id + '\n';
  else in += "exe name:" + std::string(util::base_name(r.exe.value_or(r.comm))) + '\n';
  in += fmt::format("signal {}\n", signal_name(r.signal->number));
  const ThreadReport* t = crashing_thread(r);
  if (!t) return in;
  // The program's own frames; a crash wholly inside the runtime (no frame of
  // the program's own) uses the runtime's frames instead of none.
  for (bool own_only : {true, false}) {
    size_t taken = 0;
    for (const auto& f : t->frames) {
      if (taken == kSignatureFrames) break;
      if (!usable(f) || (own_only && is_runtime_module(*f.module))) continue;
      in += "frame " + frame_token(f) + '\n';
      ++taken;
    }
    if (taken > 0) break;
  }
  return in;
}

std::optional<std::string> crash_signature(const Report& r) {
  auto in = signature_input(r);
  if (!in) return std::nullopt;
  return util::sha256_hex(*in).substr(0, kSignatureLength);
}

bool is_signature_prefix(std::string_view s) {
  if (s.size() < 4 || s.size() > kSignatureLength) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace usercrash::engine
