#include "e2e/gdb_oracle.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

std::string plain(std::string name) {
  if (size_t at = name.find('@'); at != std::string::npos && at > 0) name.resize(at);
  return name;
}

// GCC names the pieces it splits out of a function "f.cold", "f.part.0",
// "f.isra.0", "f.constprop.0"; gdb names them by the function they belong to.
std::string base_function(std::string name) {
  for (const char* suffix : {".cold", ".part.", ".isra.", ".constprop."})
    if (size_t at = name.find(suffix); at != std::string::npos && at > 0) name.resize(at);
  return name;
}

// name → symbol values, from .symtab and .dynsym of one ELF file.
void read_symbols(const std::string& path, std::multimap<std::string, uint64_t>& by_name,
                  std::multimap<uint64_t, std::string>& by_value) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  for (Elf_Scn* scn = elf ? elf_nextscn(elf, nullptr) : nullptr; scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM)) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
    for (size_t i = 0; data && i < count; ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(i), &sym) || sym.st_value == 0) continue;
      const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (!name || !*name) continue;
      by_name.emplace(plain(name), sym.st_value);
      by_value.emplace(sym.st_value, plain(name));
    }
  }
  if (elf) elf_end(elf);
  ::close(fd);
}

struct SymbolTables {
  std::multimap<std::string, uint64_t> by_name;
  std::multimap<uint64_t, std::string> by_value;
};

const SymbolTables& tables_for(const std::string& module, const std::string& build_id) {
  static std::map<std::string, SymbolTables> cache;
  auto [it, inserted] = cache.try_emplace(module + "|" + build_id);
  if (inserted) {
    read_symbols(module, it->second.by_name, it->second.by_value);
    if (build_id.size() > 2)
      read_symbols("/usr/lib/debug/.build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2) + ".debug",
                   it->second.by_name, it->second.by_value);
  }
  return it->second;
}

// Every name at the address of `name` in the module.
std::set<std::string> aliases(const std::string& module, const std::string& build_id, const std::string& name) {
  const SymbolTables& t = tables_for(module, build_id);
  std::set<std::string> out = {name};
  auto [lo, hi] = t.by_name.equal_range(name);
  for (auto i = lo; i != hi; ++i) {
    auto [vlo, vhi] = t.by_value.equal_range(i->second);
    for (auto v = vlo; v != vhi; ++v) out.insert(v->second);
  }
  return out;
}

struct Group {
  std::vector<std::string> inlined;  // innermost first
  std::string function;              // the physical frame
  std::optional<uint64_t> pc;
  std::string module, build_id;
};

std::vector<Group> our_groups(const json& thread) {
  std::vector<Group> groups;
  Group g;
  for (const auto& f : thread["frames"]) {
    std::string name = f["function"].is_string() ? f["function"].get<std::string>() : "??";
    if (f["method"] == "inlined") {
      g.inlined.push_back(name);
      continue;
    }
    g.function = name;
    g.pc = std::stoull(f["pc"].get<std::string>(), nullptr, 16);
    g.module = f["module"].is_string() ? f["module"].get<std::string>() : "";
    g.build_id = f["build_id"].is_string() ? f["build_id"].get<std::string>() : "";
    groups.push_back(std::move(g));
    g = Group{};
  }
  return groups;
}

std::vector<Group> gdb_groups(const GdbThread& thread) {
  std::vector<Group> groups;
  std::vector<const GdbFrame*> current;
  auto flush = [&] {
    if (current.empty()) return;
    Group g;
    for (size_t i = 0; i + 1 < current.size(); ++i) g.inlined.push_back(current[i]->function);
    g.function = current.back()->function;
    g.pc = current.front()->pc;
    groups.push_back(std::move(g));
    current.clear();
  };
  for (size_t i = 0; i < thread.frames.size(); ++i) {
    if (i > 0 && thread.frames[i].pc) flush();
    current.push_back(&thread.frames[i]);
  }
  flush();
  return groups;
}

// Where the argument list " (" after a frame's function name starts: the
// first one outside the name's template brackets (Rust names hold "(",
// as in "call_once<(), (dyn core::ops::function::FnOnce<()> + Send)>").
size_t argument_list(std::string_view rest) {
  int depth = 0;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '<') ++depth;
    else if (rest[i] == '>' && !(i > 0 && rest[i - 1] == '-') && depth > 0) --depth;
    else if (depth == 0 && rest.substr(i).starts_with(" (")) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<GdbThread> gdb_backtraces(const std::string& exe, const std::string& core, int max_frames,
                                      const std::string& gdb, const std::string& sysroot) {
  std::vector<std::string> argv = {gdb, "-nx", "-batch"};
  if (!sysroot.empty()) argv.insert(argv.end(), {"-iex", "set sysroot " + sysroot});
  argv.insert(argv.end(), {"-ex", "set pagination off", "-ex", "set width 0", "-ex",
                           "thread apply all bt " + std::to_string(max_frames), exe, core});
  RunResult r = run(argv);
  std::vector<GdbThread> threads;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    // "Thread 2 (Thread 0x7f… (LWP 1234)):"
    if (line.starts_with("Thread ")) {
      size_t lwp = line.find("(LWP ");
      if (lwp != std::string::npos) threads.push_back({static_cast<pid_t>(std::stol(line.substr(lwp + 5))), {}});
      continue;
    }
    // "#3  0x000055… in name (args) at file:line" or "#0  name (args) …"
    if (threads.empty() || line.size() < 2 || line[0] != '#' || !std::isdigit(static_cast<unsigned char>(line[1])))
      continue;
    std::string_view rest(line);
    rest.remove_prefix(rest.find_first_of(" \t") == std::string_view::npos ? rest.size() : rest.find_first_of(" \t"));
    rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t")));
    GdbFrame f;
    if (rest.starts_with("0x")) {
      size_t in_at = rest.find(" in ");
      if (in_at == std::string_view::npos) continue;
      f.pc = std::stoull(std::string(rest.substr(0, in_at)), nullptr, 16);
      rest.remove_prefix(in_at + 4);
    }
    size_t paren = argument_list(rest);
    if (paren == std::string_view::npos) continue;
    f.function = std::string(rest.substr(0, paren));
    threads.back().frames.push_back(std::move(f));
  }
  return threads;
}

std::string compare_with_gdb(const json& report, const std::vector<GdbThread>& gdb, size_t max_groups) {
  std::ostringstream diff;
  if (report["threads"].size() != gdb.size())
    diff << "thread count: report " << report["threads"].size() << ", gdb " << gdb.size() << "\n";
  for (const auto& t : report["threads"]) {
    pid_t tid = t["tid"];
    auto it = std::find_if(gdb.begin(), gdb.end(), [&](const GdbThread& g) { return g.lwp == tid; });
    if (it == gdb.end()) {
      diff << "thread " << tid << ": not in gdb's output\n";
      continue;
    }
    auto ours = our_groups(t);
    auto theirs = gdb_groups(*it);
    // The thread's pc, whatever the architecture names it.
    uint64_t pc = 0;
    for (const char* name : {"rip", "eip", "pc"})
      if (t["registers"].is_object() && t["registers"].contains(name))
        pc = std::stoull(t["registers"][name].get<std::string>(), nullptr, 16);
    if (!theirs.empty() && !theirs[0].pc) theirs[0].pc = pc;
    // gdb stops at main (its "backtrace past-main" is off); we go on to _start.
    if (!theirs.empty() && theirs.back().function == "main") {
      auto main_at = std::find_if(ours.begin(), ours.end(), [](const Group& g) { return g.function == "main"; });
      if (main_at != ours.end()) ours.erase(main_at + 1, ours.end());
    }
    std::string thread = "thread " + std::to_string(tid);
    size_t i = 0, j = 0;
    while (i < ours.size() && j < theirs.size() && i < max_groups && j < max_groups) {
      const Group& a = ours[i];
      const Group& b = theirs[j];
      std::string where = thread + " frame " + std::to_string(i) + ": ";
      if (a.pc && b.pc && *a.pc != *b.pc) {
        // gdb rebuilds frames for tail calls from DWARF call-site data; they
        // are not on the stack, so an unwinder does not see them. Skip one
        // when the next gdb frame is ours.
        if (j + 1 < theirs.size() && theirs[j + 1].pc == a.pc) {
          ++j;
          continue;
        }
        diff << where << "pc " << std::hex << *a.pc << " vs gdb " << *b.pc << std::dec << "\n";
      }
      std::string ours_name = base_function(a.function);
      bool same = ours_name == b.function || (a.function != "??" && !a.module.empty() &&
                                              aliases(a.module, a.build_id, ours_name).count(b.function));
      if (!same) diff << where << "function " << a.function << " vs gdb " << b.function << "\n";
      if (!a.inlined.empty() && a.inlined != b.inlined) {
        diff << where << "inlined [";
        for (auto& s : a.inlined) diff << s << " ";
        diff << "] vs gdb [";
        for (auto& s : b.inlined) diff << s << " ";
        diff << "]\n";
      }
      ++i;
      ++j;
    }
    bool capped = i >= max_groups || j >= max_groups;
    if (!capped && (i < ours.size() || j < theirs.size()))
      diff << thread << ": " << ours.size() << " frames, gdb " << theirs.size() << " (stopped matching at " << i
           << ")\n";
  }
  return diff.str();
}

}  // namespace usercrash::test
