// What the engine child's sandbox costs each report, apart from the rest of
// the crash path: Sandbox::prepare (run once per report by the collect
// step, in the parent) and Sandbox::enter in a forked child, against a
// fork alone. Medians of --runs rounds, in ms. Run as root to include the
// user change, as usercrash_c does: build/bench/sandbox_bench [RUNS]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "collect/sandbox.h"

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(std::vector<Clock::duration> v) {
  std::sort(v.begin(), v.end());
  return std::chrono::duration<double, std::milli>(v[v.size() / 2]).count();
}

// Forks a child that runs `in_child` (true: it worked) and says so on a
// pipe; the time until the parent hears it.
template <typename F>
Clock::duration fork_and_hear(F in_child) {
  int p[2];
  if (::pipe(p) != 0) std::exit(2);
  auto start = Clock::now();
  pid_t child = ::fork();
  if (child == 0) {
    char ok = in_child(p[1]) ? 1 : 0;
    (void)!::write(p[1], &ok, 1);
    ::_exit(0);
  }
  ::close(p[1]);
  char ok = 0;
  bool heard = ::read(p[0], &ok, 1) == 1;
  auto took = Clock::now() - start;
  ::close(p[0]);
  ::waitpid(child, nullptr, 0);
  if (!heard || !ok) {
    std::fputs("sandbox_bench: the child could not enter its sandbox\n", stderr);
    std::exit(1);
  }
  return took;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  if (runs < 1) runs = 1;
  std::vector<Clock::duration> prepare, enter, fork_only;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    auto sandbox = usercrash::collect::Sandbox::prepare({});
    prepare.push_back(Clock::now() - start);
    enter.push_back(fork_and_hear([&](int fd) {
      std::vector<int> writable{fd};
      return sandbox.enter({}, writable).has_value();
    }));
    fork_only.push_back(fork_and_hear([](int) { return true; }));
  }
  std::printf("median of %d: prepare %.3f ms, fork + enter %.3f ms, fork alone %.3f ms: the sandbox adds %.3f ms\n",
              runs, median_ms(prepare), median_ms(enter), median_ms(fork_only),
              median_ms(prepare) + median_ms(enter) - median_ms(fork_only));
}
