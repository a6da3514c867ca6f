// What engine::WarmModules costs and saves (issue 14, items 2 and 3): the
// warm parent's load time and resident memory, fork() of a process holding
// it, and the per-crash cost of a libc-heavy backtrace symbolized cold
// (today: source_lines=own, and =all) and warm (source_lines=all from the
// warm modules), each in a freshly forked process as the warm collector
// would run it, alternating in one invocation. Benchmark code only; as root
// (the forked processes ptrace a sibling).
//
//   warm_modules_bench [ROUNDS]
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/disassembler.h"
#include "engine/live_process_target.h"
#include "engine/report_builder.h"
#include "engine/warm_modules.h"
#include "util/phase_trace.h"

using namespace usercrash;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// fork(): how long the call takes in the parent (copying the page
// tables), and to the child's first instruction (with the wake-up of a CPU
// on this busy 2-core machine); medians of 41.
struct ForkCost {
  double call = 0, child = 0;
};
ForkCost fork_ms() {
  std::vector<double> call, child;
  for (int i = 0; i < 41; ++i) {
    int p[2];
    if (::pipe(p) != 0) std::abort();
    auto t = Clock::now();
    pid_t c = ::fork();
    if (c == 0) {
      char b = 1;
      (void)!::write(p[1], &b, 1);
      ::_exit(0);
    }
    call.push_back(ms(Clock::now() - t));
    char b;
    (void)!::read(p[0], &b, 1);
    child.push_back(ms(Clock::now() - t));
    ::waitpid(c, nullptr, 0);
    ::close(p[0]);
    ::close(p[1]);
  }
  return {median(call), median(child)};
}

// bench/qsort_blocked (next to this program), blocked in read() under
// qsort's merge sort: a backtrace of 16 libc frames (5 of them inlined
// calls) and 2 of its own.
pid_t start_blocked(const char* self) {
  std::string helper = std::string(self).substr(0, std::string(self).rfind('/') + 1) + "qsort_blocked";
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execl(helper.c_str(), helper.c_str(), nullptr);
    ::_exit(127);
  }
  char c;
  if (::read(out[0], &c, 1) != 1) {
    std::fprintf(stderr, "%s did not start\n", helper.c_str());
    std::exit(1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return pid;
}

constexpr int kCosts = static_cast<int>(util::trace::Cost::count);
const char* const kCostNames[kCosts] = {"module files", "CFI",    "frame steps", "symbols",
                                        "file:line",    "memory", "disassembly"};

struct Crash {
  double total = 0, engine = 0;  // ms: fork to report; build_report alone
  int libc_lines = 0;
  double costs[kCosts] = {};  // ms under each util::trace::Cost
};

// The engine's time by kind (util/phase_trace.h), from the lines a crash's
// process wrote to the trace file since `offset`.
void read_costs(int trace, off_t& offset, Crash& out) {
  char buffer[4096];
  ssize_t n = ::pread(trace, buffer, sizeof buffer - 1, offset);
  if (n <= 0) return;
  offset += n;
  buffer[n] = 0;
  std::string text(buffer);
  static const char* const names[kCosts] = {"module_elf",   "cfi",          "frame_step", "symbols",
                                            "source_lines", "memory_reads", "disassembly"};
  for (int i = 0; i < kCosts; ++i) {
    auto at = text.find(std::string(" total ") + names[i] + " ");
    if (at != std::string::npos) out.costs[i] = std::atof(text.c_str() + at + 8 + std::strlen(names[i])) / 1e6;
  }
}

// One crash collected by a freshly forked process, as the warm collector's
// per-crash process would.
Crash collect(pid_t blocked, limits::SourceLines lines, const engine::WarmModules* warm, int trace, off_t& offset) {
  int p[2];
  if (::pipe(p) != 0) std::abort();
  auto t0 = Clock::now();
  pid_t c = ::fork();
  if (c == 0) {
    Crash out;
    auto target = engine::LiveProcessTarget::attach(blocked, engine::LiveOptions{});
    if (target) {
      engine::CollectOptions o;
      o.source_lines = lines;
      o.warm = warm;
      auto t1 = Clock::now();
      engine::Report r = engine::build_report(**target, o);
      auto t2 = Clock::now();
      out.engine = ms(t2 - t1);
      util::trace::write_totals();
      for (const auto& t : r.threads)
        for (const auto& f : t.frames)
          if (f.module && f.module->find("/libc.so") != std::string::npos && f.file) ++out.libc_lines;
    }
    target = util::fail("detached");
    out.total = ms(Clock::now() - t0);
    (void)!::write(p[1], &out, sizeof out);
    ::_exit(0);
  }
  Crash out;
  (void)!::read(p[0], &out, sizeof out);
  ::waitpid(c, nullptr, 0);
  ::close(p[0]);
  ::close(p[1]);
  read_costs(trace, offset, out);
  return out;
}

struct Series {
  const char* name;
  limits::SourceLines lines;
  const engine::WarmModules* warm;
  std::vector<Crash> crashes;
  double median_of(double Crash::*field) const {
    std::vector<double> v;
    for (const auto& c : crashes) v.push_back(c.*field);
    return median(v);
  }
  double median_cost(int i) const {
    std::vector<double> v;
    for (const auto& c : crashes) v.push_back(c.costs[i]);
    return median(v);
  }
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 21;
  pid_t blocked = start_blocked(argv[0]);
  ForkCost fork_bare = fork_ms();
  // As the warm parent would, before any crash (the collector child's
  // sandbox cannot map it).
  engine::load_disassembler();
  long rss0 = status_kb("VmRSS:");
  ForkCost fork_cold = fork_ms();
  auto paths = engine::default_warm_libraries();
  auto warm = engine::WarmModules::load(paths);
  long rss1 = status_kb("VmRSS:");
  ForkCost fork_warm = fork_ms();
  std::printf(
      "warm parent: %zu libraries loaded in %.1f ms, resident %ld -> %ld KiB (+%.1f MiB), peak %ld KiB, data "
      "+%.1f MiB\n",
      warm.modules().size(), ms(warm.load_time()), rss0, rss1, warm.resident_bytes() / 1048576.0, status_kb("VmHWM:"),
      warm.data_bytes() / 1048576.0);
  for (const auto& m : warm.modules())
    std::printf("  %-60s %6zu symbols, DWARF %-3s %7.2f ms\n", m->path().c_str(), m->symbols().size(),
                m->has_dwarf() ? "yes" : "no", ms(m->load_time()));
  for (const auto& p : warm.problems()) std::printf("  problem: %s\n", p.c_str());
  std::printf(
      "fork() call | to the child's first instruction, medians of 41, ms: bare %.3f | %.3f, capstone loaded "
      "%.3f | %.3f, holding the warm modules too %.3f | %.3f\n",
      fork_bare.call, fork_bare.child, fork_cold.call, fork_cold.child, fork_warm.call, fork_warm.child);

  // The engine's time by kind: each crash's process writes its totals.
  int trace = ::memfd_create("trace", MFD_CLOEXEC);
  ::setenv("USERCRASH_TRACE_FD", std::to_string(trace).c_str(), 1);
  util::trace::init_from_environment();
  off_t offset = 0;
  std::vector<Series> series = {{"cold, source_lines=own (today's default)", limits::SourceLines::own, nullptr, {}},
                                {"cold, source_lines=all", limits::SourceLines::all, nullptr, {}},
                                {"warm, source_lines=auto (= all)", limits::SourceLines::automatic, &warm, {}}};
  for (int r = 0; r < rounds; ++r)
    for (auto& s : series) s.crashes.push_back(collect(blocked, s.lines, s.warm, trace, offset));
  std::printf("per crash, medians of %d rounds, ms: fork+attach+build_report+detach | build_report alone | of which",
              rounds);
  for (const char* name : kCostNames) std::printf(" / %s", name);
  std::printf("\n");
  for (const auto& s : series) {
    std::printf("  %-42s %6.2f | %6.2f |", s.name, s.median_of(&Crash::total), s.median_of(&Crash::engine));
    for (int i = 0; i < kCosts; ++i) std::printf(" %s%.2f", i ? "/ " : "", s.median_cost(i));
    std::printf("   libc frames with file:line: %d\n", s.crashes.back().libc_lines);
  }
  double own = series[0].median_of(&Crash::engine), all = series[1].median_of(&Crash::engine),
         hot = series[2].median_of(&Crash::engine);
  std::printf("build_report, warm against cold: %.2fx of source_lines=own, %.3fx of source_lines=all\n", hot / own,
              hot / all);
  ::kill(blocked, SIGKILL);
  ::waitpid(blocked, nullptr, 0);
  return 0;
}
