#include "engine/signal_frame.h"

#include <cstring>

#include <fmt/format.h>

namespace usercrash::engine {
namespace {

// mov $0xf,%rax (rt_sigreturn); syscall
constexpr std::array<uint8_t, 9> kSigreturn = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

}  // namespace

std::string_view without_abi_suffix(std::string_view symbol) {
  constexpr std::string_view kAbi0 = ".abi0";
  if (symbol.size() > kAbi0.size() && symbol.ends_with(kAbi0)) symbol.remove_suffix(kAbi0.size());
  return symbol;
}

bool is_go_restorer(std::string_view symbol) {
  symbol = without_abi_suffix(symbol);
  return symbol == "runtime.sigreturn" || symbol == "runtime.sigreturn__sigaction";
}

bool is_sigreturn_code(MemoryCache& memory, uint64_t pc) {
  std::array<uint8_t, kSigreturn.size()> code{};
  if (pc > UINT64_MAX - code.size()) return false;
  if (memory.read(pc, std::as_writable_bytes(std::span(code))) != code.size()) return false;
  return code == kSigreturn;
}

std::optional<Registers> registers_from_gregs(std::span<const std::byte> gregs, const Registers& handler) {
  if (handler.arch_id != ArchId::x86_64 || gregs.size() < kUcontextGregsBytes) return std::nullopt;
  Registers regs = handler;
  for (size_t i = 0; i < kSigcontextOrder.size(); ++i) {
    uint64_t value;
    std::memcpy(&value, gregs.data() + i * sizeof value, sizeof value);
    regs.set(kSigcontextOrder[i], value);
  }
  if (regs.pc() == 0 || regs.sp() == 0) return std::nullopt;
  return regs;
}

std::optional<Registers> interrupted_registers(MemoryCache& memory, uint64_t ucontext, const Registers& handler) {
  if (ucontext > UINT64_MAX - kUcontextGregsOffset - kUcontextGregsBytes) return std::nullopt;
  std::array<std::byte, kUcontextGregsBytes> gregs{};
  if (memory.read(ucontext + kUcontextGregsOffset, gregs) != gregs.size()) return std::nullopt;
  return registers_from_gregs(gregs, handler);
}

bool is_faked_fault_call(std::string_view symbol) {
  symbol = without_abi_suffix(symbol);
  return symbol == "runtime.sigpanic" || symbol == "runtime.sigpanic0";
}

std::optional<std::string> faked_fault(const std::vector<Frame>& frames) {
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    if (!frames[i].function || !is_faked_fault_call(*frames[i].function)) continue;
    const Frame& at = frames[i + 1];
    return fmt::format("a fault in {} at 0x{:x}", at.function.value_or("??"), at.pc);
  }
  return std::nullopt;
}

}  // namespace usercrash::engine
