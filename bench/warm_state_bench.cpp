// What a warm collector would hold for one library (libc by default), and
// what it costs: loading its ELF, symbol table, DWARF and every line table
// (libc6-dbg's separate debug file, found by build-id under /usr/lib/debug),
// the resident memory that takes, fork() before and after (to the child's
// first instruction), and symbol and line lookups warm and in a forked
// child. Issue 14's warm collector design rests on these figures
// (bench/warm_state.results.txt). Benchmark code only.
//
//   warm_state_bench [LIBRARY]
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>
using Clock = std::chrono::steady_clock;
static double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
static long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string l;
  while (std::getline(f, l))
    if (l.rfind("VmRSS:", 0) == 0) return std::stol(l.substr(6));
  return -1;
}
static double fork_ms() {
  std::vector<double> v;
  for (int i = 0; i < 41; ++i) {
    int p[2];
    pipe(p);
    auto t = Clock::now();
    pid_t c = fork();
    if (c == 0) {
      char b = 1;
      write(p[1], &b, 1);
      _exit(0);
    }
    char b;
    read(p[0], &b, 1);
    auto t2 = Clock::now();
    waitpid(c, nullptr, 0);
    close(p[0]);
    close(p[1]);
    v.push_back(ms(t, t2));
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
int main(int argc, char** argv) {
  const char* lib = argc > 1 ? argv[1] : "/usr/lib/x86_64-linux-gnu/libc.so.6";
  char* debuginfo_path = nullptr;
  Dwfl_Callbacks cb{};
  cb.find_debuginfo = dwfl_standard_find_debuginfo;
  cb.section_address = dwfl_offline_section_address;
  cb.debuginfo_path = &debuginfo_path;
  printf("start: rss %ld KiB, fork %.3f ms\n", rss_kb(), fork_ms());
  auto t0 = Clock::now();
  Dwfl* dwfl = dwfl_begin(&cb);
  Dwfl_Module* mod = dwfl_report_offline(dwfl, "libc", lib, -1);
  dwfl_report_end(dwfl, nullptr, nullptr);
  GElf_Addr bias;
  dwfl_module_getelf(mod, &bias);
  auto t1 = Clock::now();
  int nsyms = dwfl_module_getsymtab(mod);
  auto t2 = Clock::now();
  Dwarf_Addr dbias;
  Dwarf* dw = dwfl_module_getdwarf(mod, &dbias);
  auto t3 = Clock::now();
  size_t lines = 0, cus = 0;
  for (Dwarf_Die* cu = nullptr; (cu = dwfl_module_nextcu(mod, cu, &dbias));) {
    Dwarf_Lines* l;
    size_t n;
    if (dwarf_getsrclines(cu, &l, &n) == 0) lines += n;
    ++cus;
  }
  auto t4 = Clock::now();
  Dwarf_Addr cb2;
  Dwarf_CFI* cfi = dwfl_module_eh_cfi(mod, &cb2);
  auto t5 = Clock::now();
  printf("elf %.2f ms, symtab %d syms %.2f ms, dwarf %s %.2f ms, %zu CUs %zu lines %.2f ms, eh_cfi %s %.2f ms\n",
         ms(t0, t1), nsyms, ms(t1, t2), dw ? "yes" : "no", ms(t2, t3), cus, lines, ms(t3, t4), cfi ? "yes" : "no",
         ms(t4, t5));
  printf("warm: rss %ld KiB, fork %.3f ms\n", rss_kb(), fork_ms());
  // Warm lookups: symbols and lines at 1000 addresses of libc's text.
  Dwarf_Addr start, end;
  dwfl_module_info(mod, nullptr, &start, &end, nullptr, nullptr, nullptr, nullptr);
  auto t6 = Clock::now();
  int found = 0;
  for (int i = 0; i < 1000; ++i) {
    Dwarf_Addr a = start + 0x28000 + (uint64_t)i * 1237 % 0x150000;
    GElf_Off off;
    GElf_Sym sym;
    if (dwfl_module_addrinfo(mod, a, &off, &sym, nullptr, nullptr, nullptr)) ++found;
    if (dwfl_module_getsrc(mod, a)) ++found;
  }
  auto t7 = Clock::now();
  printf("warm lookups: 1000 symbol+line pairs %.3f ms (%d answers)\n", ms(t6, t7), found);
  auto s0 = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    Dwarf_Addr a = start + 0x28000 + (uint64_t)i * 1237 % 0x150000;
    GElf_Off off;
    GElf_Sym sym;
    dwfl_module_addrinfo(mod, a, &off, &sym, nullptr, nullptr, nullptr);
  }
  auto s1 = Clock::now();
  for (int i = 0; i < 1000; ++i) dwfl_module_getsrc(mod, start + 0x28000 + (uint64_t)(i % 20) * 1237 % 0x150000);
  auto s2 = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    Dwarf_Addr a = start + 0x28000 + (uint64_t)i * 1237 % 0x150000, b;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, a, &b);
    (void)cu;
  }
  auto s3 = Clock::now();
  printf("1000 symbols again %.3f ms; 1000 lines at 20 addresses %.3f ms; 1000 addrdie %.3f ms\n", ms(s0, s1),
         ms(s1, s2), ms(s2, s3));
  // A forked child's first lookups (copy-on-write pages of the warm state).
  std::vector<double> v;
  for (int k = 0; k < 21; ++k) {
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
      auto a0 = Clock::now();
      for (int i = 0; i < 20; ++i) {
        Dwarf_Addr a = start + 0x30000 + (uint64_t)(i + k) * 7919 % 0x140000;
        GElf_Off off;
        GElf_Sym sym;
        dwfl_module_addrinfo(mod, a, &off, &sym, nullptr, nullptr, nullptr);
        dwfl_module_getsrc(mod, a);
      }
      double d = ms(a0, Clock::now());
      write(p[1], &d, sizeof d);
      _exit(0);
    }
    double d;
    read(p[0], &d, sizeof d);
    waitpid(c, nullptr, 0);
    close(p[0]);
    close(p[1]);
    v.push_back(d);
  }
  std::sort(v.begin(), v.end());
  printf("forked child: 20 symbol+line lookups %.3f ms (median of 21)\n", v[v.size() / 2]);
  return 0;
}
