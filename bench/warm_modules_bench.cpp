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
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/disassembler.h"
#include "engine/live_process_target.h"
#include "engine/report_builder.h"
#include "engine/warm_modules.h"

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

// fork() to the child's first instruction, median of 41.
double fork_ms() {
  std::vector<double> v;
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
    char b;
    (void)!::read(p[0], &b, 1);
    v.push_back(ms(Clock::now() - t));
    ::waitpid(c, nullptr, 0);
    ::close(p[0]);
    ::close(p[1]);
  }
  return median(v);
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

struct Crash {
  double total = 0, engine = 0;  // ms: fork to report; build_report alone
  int libc_lines = 0;
};

// One crash collected by a freshly forked process, as the warm collector's
// per-crash process would.
Crash collect(pid_t blocked, limits::SourceLines lines, const engine::WarmModules* warm) {
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
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 21;
  pid_t blocked = start_blocked(argv[0]);
  // As the warm parent would, before any crash (the collector child's
  // sandbox cannot map it).
  engine::load_disassembler();
  long rss0 = status_kb("VmRSS:");
  double fork_cold = fork_ms();
  auto paths = engine::default_warm_libraries();
  auto warm = engine::WarmModules::load(paths);
  long rss1 = status_kb("VmRSS:");
  double fork_warm = fork_ms();
  std::printf("warm parent: %zu libraries loaded in %.1f ms, resident %ld -> %ld KiB (+%.1f MiB), peak %ld KiB\n",
              warm.modules().size(), ms(warm.load_time()), rss0, rss1, warm.resident_bytes() / 1048576.0,
              status_kb("VmHWM:"));
  for (const auto& m : warm.modules())
    std::printf("  %-60s %6zu symbols, DWARF %-3s %7.2f ms\n", m->path().c_str(), m->symbols().size(),
                m->has_dwarf() ? "yes" : "no", ms(m->load_time()));
  for (const auto& p : warm.problems()) std::printf("  problem: %s\n", p.c_str());
  std::printf("fork to the child's first instruction: %.3f ms before loading, %.3f ms holding it (median of 41)\n",
              fork_cold, fork_warm);

  std::vector<double> own_total, own_engine, all_total, all_engine, warm_total, warm_engine;
  int own_lines = 0, all_lines = 0, warm_lines = 0;
  for (int r = 0; r < rounds; ++r) {
    Crash a = collect(blocked, limits::SourceLines::own, nullptr);
    Crash b = collect(blocked, limits::SourceLines::all, nullptr);
    Crash w = collect(blocked, limits::SourceLines::all, &warm);
    own_total.push_back(a.total), own_engine.push_back(a.engine), own_lines = a.libc_lines;
    all_total.push_back(b.total), all_engine.push_back(b.engine), all_lines = b.libc_lines;
    warm_total.push_back(w.total), warm_engine.push_back(w.engine), warm_lines = w.libc_lines;
  }
  std::printf("per crash, medians of %d rounds (fork, attach, build_report, detach | build_report alone), ms:\n", rounds);
  std::printf("  cold, source_lines=own (today's default) %7.2f | %7.2f   libc frames with file:line: %d\n",
              median(own_total), median(own_engine), own_lines);
  std::printf("  cold, source_lines=all                   %7.2f | %7.2f   libc frames with file:line: %d\n",
              median(all_total), median(all_engine), all_lines);
  std::printf("  warm, source_lines=all                   %7.2f | %7.2f   libc frames with file:line: %d\n",
              median(warm_total), median(warm_engine), warm_lines);
  std::printf("ratios of build_report: warm/cold-own %.2fx, warm/cold-all %.3fx\n",
              median(warm_engine) / median(own_engine), median(warm_engine) / median(all_engine));
  ::kill(blocked, SIGKILL);
  ::waitpid(blocked, nullptr, 0);
  return 0;
}
