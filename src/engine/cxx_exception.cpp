#include "engine/cxx_exception.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "engine/demangler.h"

namespace usercrash::engine {
namespace {

using util::fail;

// x86_64 libstdc++ (the Itanium C++ ABI's __cxa_exception as GCC lays it
// out): the header sits right below the thrown object, its
// _Unwind_Exception last.
constexpr uint64_t kHeaderSize = 112;                     // sizeof(__cxa_exception)
constexpr uint64_t kUnwindHeaderOffset = 80;              // offsetof(__cxa_exception, unwindHeader)
constexpr uint64_t kPrimaryClass = 0x474e5543432b2b00;    // "GNUCC++\0", first letter highest
constexpr uint64_t kDependentClass = 0x474e5543432b2b01;  // "GNUCC++\x01" (std::rethrow_exception)
// glibc's x86_64 thread control block: the DTV pointer after the TCB's own.
constexpr uint64_t kDtvOffset = 8;
constexpr uint64_t kDtvEntrySize = 16;  // dtv_t: { void* val; void* to_free; }
constexpr uint64_t kMaxModules = 1 << 16;
// A type name or message past these is not one a program wrote.
constexpr size_t kMaxTypeName = 1024;
constexpr size_t kMaxMessage = 4096;
constexpr uint64_t kMaxMessageClaim = uint64_t{1} << 32;
// libstdc++'s COW string keeps length, capacity and a reference count
// before its characters.
constexpr uint64_t kCowHeader = 24;

bool read_u64(MemoryCache& memory, uint64_t address, uint64_t& value) { return memory.read_word(address, value); }

// The NUL-terminated string at `address`, if it ends within `max` bytes.
std::optional<std::string> read_c_string(MemoryCache& memory, uint64_t address, size_t max) {
  std::string out;
  char chunk[64];
  while (out.size() < max) {
    size_t got = memory.read(address + out.size(), std::as_writable_bytes(std::span(chunk)));
    if (got == 0) return std::nullopt;
    const char* end = static_cast<const char*>(std::memchr(chunk, 0, got));
    out.append(chunk, end ? static_cast<size_t>(end - chunk) : got);
    if (end) return out.size() <= max ? std::optional(out) : std::nullopt;
  }
  return std::nullopt;
}

// Where __cxa_get_globals finds this thread's __cxa_eh_globals: libstdc++
// reaches it through __tls_get_addr with a (module, offset) pair in its GOT
// and then adds the variable's offset in the module's TLS block. Read from
// the function's code, which must be exactly that sequence:
//   [endbr64] [sub $n,%rsp] lea pair(%rip),%rdi; call __tls_get_addr;
//   [add $n,%rsp] [add $off,%rax] ret
struct TlsAccess {
  uint64_t pair = 0;    // address of the GOT's tls_index
  uint64_t offset = 0;  // added to __tls_get_addr's result
};

std::optional<TlsAccess> decode_get_globals(std::span<const uint8_t> code, uint64_t address) {
  size_t i = 0;
  auto at = [&](std::initializer_list<uint8_t> bytes) {
    if (i + bytes.size() > code.size()) return false;
    return std::equal(bytes.begin(), bytes.end(), code.begin() + static_cast<long>(i));
  };
  auto i32 = [&](size_t from) {
    int32_t v;
    std::memcpy(&v, code.data() + from, sizeof v);
    return v;
  };
  if (at({0xf3, 0x0f, 0x1e, 0xfa})) i += 4;                                 // endbr64
  if (at({0x48, 0x83, 0xec}) && i + 4 <= code.size()) i += 4;               // sub $imm8,%rsp
  if (!at({0x48, 0x8d, 0x3d}) || i + 7 > code.size()) return std::nullopt;  // lea disp32(%rip),%rdi
  TlsAccess access;
  access.pair = address + i + 7 + static_cast<uint64_t>(static_cast<int64_t>(i32(i + 3)));
  i += 7;
  if (!at({0xe8}) || i + 5 > code.size()) return std::nullopt;  // call rel32
  i += 5;
  if (at({0x48, 0x83, 0xc4}) && i + 4 <= code.size()) i += 4;  // add $imm8,%rsp
  if (at({0x48, 0x05}) && i + 6 <= code.size()) {              // add $imm32,%rax
    access.offset = static_cast<uint64_t>(static_cast<int64_t>(i32(i + 2)));
    i += 6;
  } else if (at({0x48, 0x83, 0xc0}) && i + 4 <= code.size()) {  // add $imm8,%rax
    access.offset = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(code[i + 3])));
    i += 4;
  }
  if (!at({0xc3})) return std::nullopt;  // ret
  return access;
}

util::Result<uint64_t> eh_globals(Unwinder& unwinder, MemoryCache& memory, uint64_t fs_base) {
  auto get_globals = unwinder.find_symbol("__cxa_get_globals", "libstdc++.so");
  if (!get_globals) return fail("libstdc++'s __cxa_get_globals not found (not a libstdc++ program?)");
  uint8_t code[48];
  size_t got = memory.read(*get_globals, std::as_writable_bytes(std::span(code)));
  auto access = decode_get_globals(std::span(code, got), *get_globals);
  if (!access) return fail("__cxa_get_globals is not the TLS access this reader knows");
  uint64_t module = 0, offset = 0, dtv = 0, slots = 0, block = 0;
  if (!read_u64(memory, access->pair, module) || !read_u64(memory, access->pair + 8, offset))
    return fail(fmt::format("libstdc++'s TLS index at 0x{:x} is unreadable", access->pair));
  if (fs_base == 0 || !read_u64(memory, fs_base + kDtvOffset, dtv) || dtv < kDtvEntrySize)
    return fail(fmt::format("the thread's DTV is unreadable (thread pointer 0x{:x})", fs_base));
  if (!read_u64(memory, dtv - kDtvEntrySize, slots) || module == 0 || module > std::min(slots, kMaxModules))
    return fail(fmt::format("libstdc++'s TLS module {} is not in the thread's DTV", module));
  if (!read_u64(memory, dtv + module * kDtvEntrySize, block) || block == 0 || block == ~uint64_t{0})
    return fail("libstdc++'s TLS block is not allocated in this thread");
  return block + offset + access->offset;
}

// What std::logic_error / std::runtime_error hold: their what() returns it
// unchanged. Only when the object's what() is one of those two (a subclass
// that overrides what() may say something else).
struct Message {
  std::string text;
  uint64_t length = 0;  // as the string claims
};

std::optional<Message> standard_message(Unwinder& unwinder, MemoryCache& memory, uint64_t object) {
  uint64_t vtable = 0, what = 0, chars = 0, length = 0, capacity = 0;
  // Slot 2 of a std::exception's vtable: after the two destructors.
  if (!read_u64(memory, object, vtable) || !read_u64(memory, vtable + 16, what)) return std::nullopt;
  auto logic_what = unwinder.find_symbol("_ZNKSt11logic_error4whatEv", "libstdc++.so");
  auto runtime_what = unwinder.find_symbol("_ZNKSt13runtime_error4whatEv", "libstdc++.so");
  if (what != logic_what.value_or(0) && what != runtime_what.value_or(0)) return std::nullopt;
  if (!read_u64(memory, object + 8, chars) || chars < kCowHeader) return std::nullopt;
  if (!read_u64(memory, chars - kCowHeader, length) || !read_u64(memory, chars - kCowHeader + 8, capacity))
    return std::nullopt;
  if (length > capacity || length > kMaxMessageClaim) return std::nullopt;
  Message m;
  m.length = length;
  m.text.resize(std::min<uint64_t>(length, kMaxMessage));
  if (memory.read(chars, std::as_writable_bytes(std::span(m.text))) != m.text.size()) return std::nullopt;
  return m;
}

}  // namespace

bool called_terminate(const std::vector<Frame>& frames) {
  return std::any_of(frames.begin(), frames.end(), [](const Frame& f) {
    return f.function &&
           (f.function->starts_with("std::terminate()") || f.function->starts_with("__cxxabiv1::__terminate(") ||
            f.function->starts_with("__gnu_cxx::__verbose_terminate_handler()"));
  });
}

util::Result<std::optional<UncaughtExceptionRead>> read_uncaught_exception(Unwinder& unwinder, MemoryCache& memory,
                                                                           uint64_t fs_base, pid_t tid) {
  auto globals = eh_globals(unwinder, memory, fs_base);
  if (!globals) return std::unexpected(globals.error());
  uint64_t header = 0;
  if (!read_u64(memory, *globals, header))
    return fail(fmt::format("__cxa_eh_globals at 0x{:x} is unreadable", *globals));
  if (header == 0) return std::nullopt;
  uint64_t exception_class = 0, object = 0, type_info = 0;
  if (!read_u64(memory, header + kUnwindHeaderOffset, exception_class))
    return fail(fmt::format("the caught exception's header at 0x{:x} is unreadable", header));
  if (exception_class == kDependentClass) {
    // A rethrown std::exception_ptr: the header points to the primary exception's object.
    if (!read_u64(memory, header, object) || object < kHeaderSize)
      return fail("a dependent exception without a primary");
    header = object - kHeaderSize;
    if (!read_u64(memory, header + kUnwindHeaderOffset, exception_class)) exception_class = 0;
  }
  if (exception_class != kPrimaryClass)
    return fail(fmt::format("the caught exception at 0x{:x} is not a C++ exception of libstdc++ (class 0x{:x})", header,
                            exception_class));
  object = header + kHeaderSize;
  uint64_t name_pointer = 0;
  if (!read_u64(memory, header, type_info) || !read_u64(memory, type_info + 8, name_pointer))
    return fail("the exception's std::type_info is unreadable");
  auto mangled = read_c_string(memory, name_pointer, kMaxTypeName);
  if (!mangled || mangled->empty()) return fail("the exception's type name is unreadable");
  // Types local to a function have a '*' before their name.
  std::string_view name(*mangled);
  if (name.starts_with('*')) name.remove_prefix(1);
  UncaughtExceptionRead out;
  out.exception.type = demangle_type(name).value_or(std::string(name));
  out.exception.source = fmt::format(
      "libstdc++: the exception being handled when std::terminate was called (__cxa_eh_globals of thread {})", tid);
  // Class types only (their mangled names start with a length or a scope):
  // the object begins with a vtable pointer.
  bool class_type =
      !name.empty() && (name[0] == 'N' || name[0] == 'S' || name[0] == 'Z' || (name[0] >= '1' && name[0] <= '9'));
  if (class_type) {
    if (auto message = standard_message(unwinder, memory, object)) {
      out.exception.message = message->text;
      out.exception.source += "; message: the string std::logic_error/std::runtime_error holds, what() not overridden";
      if (message->length > message->text.size())
        out.cut = fmt::format("uncaught exception message: {} of {} bytes", message->text.size(), message->length);
    }
  }
  return out;
}

}  // namespace usercrash::engine
