#include "engine/disassembler.h"

#include <capstone/capstone.h>

#include <memory>

#include "util/shared_library.h"

namespace usercrash::engine {
namespace {

// libcapstone, loaded on first use: its tables of pointers are about 77,000
// relocations, some 2 ms of every usercrash_c's start-up when linked, and
// only the collector child disassembles (one crash's "Code around").
struct Library {
  decltype(&cs_open) open = nullptr;
  decltype(&cs_option) option = nullptr;
  decltype(&cs_close) close = nullptr;
  decltype(&cs_malloc) malloc = nullptr;
  decltype(&cs_free) free = nullptr;
  decltype(&cs_disasm_iter) disasm_iter = nullptr;
  std::string error;  // why it could not be loaded
};

const Library& library() {
  static const Library lib = [] {
    Library l;
    auto so = util::SharedLibrary::open("libcapstone.so.4");
    so.bind("cs_open", l.open);
    so.bind("cs_option", l.option);
    so.bind("cs_close", l.close);
    so.bind("cs_malloc", l.malloc);
    so.bind("cs_free", l.free);
    so.bind("cs_disasm_iter", l.disasm_iter);
    l.error = so.error();
    return l;
  }();
  return lib;
}

// Capstone's name for each architecture, and the syntax gdb prints it in.
struct Mode {
  cs_arch arch;
  cs_mode mode;
  bool att;
};

Mode mode_of(ArchId id) {
  switch (id) {
    case ArchId::x86_64: return {CS_ARCH_X86, CS_MODE_64, true};
    case ArchId::x32: return {CS_ARCH_X86, CS_MODE_64, true};
    case ArchId::i386: return {CS_ARCH_X86, CS_MODE_32, true};
    case ArchId::aarch64: return {CS_ARCH_ARM64, CS_MODE_ARM, false};
  }
  return {CS_ARCH_X86, CS_MODE_64, true};
}

struct Capstone {
  const Library& cs = library();
  csh handle = 0;
  bool ok = false;
  explicit Capstone(ArchId id) {
    if (!cs.error.empty()) return;
    Mode m = mode_of(id);
    ok = cs.open(m.arch, m.mode, &handle) == CS_ERR_OK;
    if (ok && m.att) cs.option(handle, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
  }
  ~Capstone() {
    if (ok) cs.close(&handle);
  }
};

// Decodes from `start` until past `pc`; the instructions, or empty if
// decoding does not land on `pc` exactly.
std::vector<Instruction> decode_from(Capstone& cs, std::span<const uint8_t> code, uint64_t code_address, uint64_t start,
                                     uint64_t pc, size_t after) {
  std::vector<Instruction> out;
  size_t offset = static_cast<size_t>(start - code_address);
  const uint8_t* p = code.data() + offset;
  size_t size = code.size() - offset;
  uint64_t address = start;
  cs_insn* insn = cs.cs.malloc(cs.handle);
  if (!insn) return out;
  bool landed = false;
  size_t after_count = 0;
  while (size > 0 && cs.cs.disasm_iter(cs.handle, &p, &size, &address, insn)) {
    if (insn->address > pc && !landed) break;
    Instruction i;
    i.address = insn->address;
    i.bytes.assign(insn->bytes, insn->bytes + insn->size);
    i.text = insn->mnemonic;
    if (insn->op_str[0]) {
      i.text += ' ';
      i.text += insn->op_str;
    }
    if (insn->address == pc) {
      landed = true;
      i.faulting = true;
    } else if (landed && ++after_count > after) {
      break;
    }
    out.push_back(std::move(i));
  }
  cs.cs.free(insn, 1);
  if (!landed) out.clear();
  return out;
}

}  // namespace

std::optional<std::string> load_disassembler() {
  const Library& lib = library();
  if (lib.error.empty()) return std::nullopt;
  return lib.error;
}

std::vector<Instruction> disassemble_around(ArchId arch, std::span<const uint8_t> code, uint64_t code_address,
                                            uint64_t pc, std::optional<uint64_t> function_start, size_t before,
                                            size_t after) {
  if (pc < code_address || pc >= code_address + code.size()) return {};
  Capstone cs(arch);
  if (!cs.ok) return {};
  std::vector<Instruction> best;
  if (function_start && *function_start >= code_address && *function_start <= pc)
    best = decode_from(cs, code, code_address, *function_start, pc, after);
  // Otherwise the earliest start within reach whose decoding lands on pc
  // (fixed-size instructions: one aligned to them).
  constexpr uint64_t kBackReach = 64;
  const uint64_t step = engine::arch(arch).instruction_align;
  for (uint64_t back = std::min<uint64_t>(kBackReach, pc - code_address) / step * step; best.empty(); back -= step) {
    best = decode_from(cs, code, code_address, pc - back, pc, after);
    if (back == 0) break;
  }
  // Keep `before` instructions ahead of pc.
  size_t at = 0;
  while (at < best.size() && !best[at].faulting) ++at;
  if (at > before) best.erase(best.begin(), best.begin() + static_cast<long>(at - before));
  return best;
}

}  // namespace usercrash::engine
