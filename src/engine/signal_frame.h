// Stepping through a signal handler's frame on x86_64 Linux. The kernel
// starts a handler with a return address that points to the restorer the
// program registered (sa_restorer, which calls rt_sigreturn with
// `mov $15,%rax; syscall`), and puts the interrupted thread's registers (a
// ucontext) right above that return address. glibc's restorer has CFI that
// says so; the Go runtime's (runtime.sigreturn) has none, and neither gdb
// nor elfutils gets past it, so the unwinder recognises it and resumes from
// the saved registers itself.
//
// Everything read here comes from the crashed process: a frame is taken
// for a signal frame only when its pc is the first byte of a restorer
// symbol of the Go runtime and the code there is the rt_sigreturn sequence;
// every read is bounded and a short read means "not a signal frame".
//
// The Go runtime turns a fault in Go code into a call of runtime.sigpanic
// that its handler fakes: the return address above sigpanic is the
// faulting instruction itself, not one after a call, so the frame there is
// unwound and named at that exact pc (as Go's own traceback does).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/memory_cache.h"
#include "engine/registers.h"
#include "engine/report.h"

namespace usercrash::engine {

// struct ucontext on x86_64: uc_flags (8), uc_link (8), uc_stack (24), then
// the mcontext (struct sigcontext), whose general registers come first, in
// this order.
inline constexpr uint64_t kUcontextGregsOffset = 40;
inline constexpr std::array<Reg, 18> kSigcontextOrder = {Reg::r8,  Reg::r9,  Reg::r10, Reg::r11, Reg::r12, Reg::r13,
                                                         Reg::r14, Reg::r15, Reg::rdi, Reg::rsi, Reg::rbp, Reg::rbx,
                                                         Reg::rdx, Reg::rax, Reg::rcx, Reg::rsp, Reg::rip, Reg::eflags};
inline constexpr size_t kUcontextGregsBytes = kSigcontextOrder.size() * sizeof(uint64_t);

// `symbol` without the ".abi0" suffix Go's linker gives the symbols of
// assembly functions ("runtime.sigreturn.abi0"): gdb names them from DWARF,
// which has no suffix.
std::string_view without_abi_suffix(std::string_view symbol);

// Whether `symbol` (an ELF symbol name) is a signal restorer of the Go
// runtime: runtime.sigreturn, or runtime.sigreturn__sigaction (newer Go),
// with or without the linker's ".abi0" suffix.
bool is_go_restorer(std::string_view symbol);

// Whether the code at `pc` is the rt_sigreturn sequence (`mov $15,%rax;
// syscall`). False when fewer bytes than that can be read.
bool is_sigreturn_code(MemoryCache& memory, uint64_t pc);

// The interrupted registers from the first kUcontextGregsBytes bytes of a
// ucontext's mcontext; registers the frame does not hold (segments and
// their bases) are kept from `handler`. nullopt when `gregs` is short or
// holds a null pc or sp.
std::optional<Registers> registers_from_gregs(std::span<const std::byte> gregs, const Registers& handler);

// The same, read from the ucontext at `ucontext` (the stack pointer at the
// restorer, once the handler returned to it). nullopt when unreadable.
std::optional<Registers> interrupted_registers(MemoryCache& memory, uint64_t ucontext, const Registers& handler);

// Whether `symbol` is a call a runtime's signal handler fakes at the
// faulting instruction (Go's runtime.sigpanic and its ABI0 entry
// runtime.sigpanic0).
bool is_faked_fault_call(std::string_view symbol);

// Where a backtrace passes through such a call: the fault it stands for,
// in words ("a fault in main.greet at 0x481280"); nullopt otherwise.
std::optional<std::string> faked_fault(const std::vector<Frame>& frames);

}  // namespace usercrash::engine
