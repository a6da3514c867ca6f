// /proc/<pid> through a directory fd: /proc/self, a fixture tree, and the
// pidfd check that tells a live process from a reused pid.
#include "proc/process_dir.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::proc {
namespace {

using util::UniqueFd;

UniqueFd pidfd_open(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

// A child that waits until it is killed.
struct Child {
  pid_t pid = -1;
  Child() {
    pid = ::fork();
    if (pid == 0) {
      for (;;) ::pause();
    }
  }
  void kill_and_reap() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~Child() { kill_and_reap(); }
};

const std::string kTree = test::fixture("proc_tree");
constexpr pid_t kFixturePid = 48213;

TEST(ProcessDirSelf, OpensAndReads) {
  auto d = ProcessDir::open(::getpid());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->pid(), ::getpid());
  EXPECT_FALSE(d->verified_by_pidfd());
  auto st = d->status();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->tgid, ::getpid());
  EXPECT_EQ(st->uid, ::getuid());
  auto stat = d->stat();
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, ::getpid());
  EXPECT_EQ(stat->state, 'R');
  bool truncated = true;
  ListCut cut;
  auto maps = d->maps({100000}, &cut);
  ASSERT_TRUE(maps);
  EXPECT_FALSE(cut.entries || cut.late || cut.nameless);
  auto here = reinterpret_cast<uint64_t>(&kFixturePid);
  bool found = false;
  for (const auto& m : *maps) found = found || m.contains(here);
  EXPECT_TRUE(found) << "a mapping holds our own data";
  auto exe = d->read_link("exe");
  ASSERT_TRUE(exe);
  EXPECT_TRUE(exe->ends_with("/unit_tests")) << *exe;
  auto threads = d->threads(1000, &truncated);
  ASSERT_TRUE(threads);
  ASSERT_FALSE(threads->empty());
  EXPECT_EQ(threads->front().tid, ::getpid());
  auto files = d->open_files({10000});
  ASSERT_TRUE(files);
  ASSERT_GE(files->size(), 3u);
  EXPECT_EQ(files->front().fd, 0);
  auto auxv = d->auxv();
  ASSERT_TRUE(auxv);
  EXPECT_FALSE(auxv->empty());
  auto mem = d->open_mem();
  ASSERT_TRUE(mem) << mem.error().message;
  uint64_t value = 0;
  ASSERT_EQ(::pread(mem->get(), &value, sizeof value, static_cast<off_t>(here)), 8);
}

TEST(ProcessDirSelf, BadPidsAndAbsentProcesses) {
  EXPECT_FALSE(ProcessDir::open(0));
  EXPECT_FALSE(ProcessDir::open(-1));
  auto none = ProcessDir::open(kFixturePid * 100);  // beyond pid_max (4194304)
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().errno_value, ESRCH);
}

TEST(ProcessDirFixture, EveryReader) {
  auto d = ProcessDir::open_at(kTree, kFixturePid);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->pid(), kFixturePid);

  auto st = d->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->name, "worker (x)");
  EXPECT_EQ(st->ns_pids.back(), 3);
  auto stat = d->stat();
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->comm, "my) prog (x");

  bool truncated = true;
  ListCut cut;
  auto maps = d->maps({1000}, &cut);
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->size(), 26u);
  EXPECT_FALSE(cut.entries);
  maps = d->maps({4}, &cut);
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->size(), 4u);
  EXPECT_TRUE(cut.entries);
  // A budget of names for all: past it, entries are kept without theirs.
  size_t first_path = (*d->maps({1000}))[0].path.size();
  maps = d->maps({1000, first_path}, &cut);
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->size(), 26u);
  EXPECT_FALSE((*maps)[0].path.empty());
  EXPECT_GT(cut.nameless, 0u);
  for (size_t i = 1; i < maps->size(); ++i) EXPECT_TRUE((*maps)[i].path.empty()) << "the budget of names is spent";
  // Past the deadline, no more lines are read than the first ones always are.
  auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  maps = d->maps({1000, SIZE_MAX, past, 5}, &cut);
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->size(), 5u);
  EXPECT_TRUE(cut.late);
  maps = d->maps({1000, SIZE_MAX, past}, &cut);
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->size(), 26u) << "a usual process's map is read whatever the time";
  EXPECT_FALSE(cut.late);

  auto args = d->cmdline(100, &truncated);
  ASSERT_TRUE(args);
  EXPECT_EQ(args->at(2), "two words");
  EXPECT_FALSE(truncated);
  auto env = d->environment(100, &truncated);
  ASSERT_TRUE(env);
  EXPECT_EQ(*env, (std::vector<std::string>{"HOME=/root", "LANG=C.UTF-8", "EVIL=$(rm -rf /)"}));
  env = d->environment(1, &truncated);
  ASSERT_TRUE(env);
  EXPECT_TRUE(truncated);

  auto stack = d->kernel_stack(100);
  ASSERT_TRUE(stack);
  EXPECT_EQ(stack->at(4), "elf_core_dump+0x9c4/0xd10");
  auto auxv = d->auxv();
  ASSERT_TRUE(auxv);
  EXPECT_EQ(auxv->size(), 22u);
  auto exe = d->read_link("exe");
  ASSERT_TRUE(exe);
  EXPECT_EQ(*exe, "/opt/demo/bin/demo");

  auto files = d->open_files({100}, &cut);
  ASSERT_TRUE(files);
  EXPECT_FALSE(cut.entries);
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[0].fd, 0);
  EXPECT_EQ((*files)[0].path, "/dev/null");
  EXPECT_EQ((*files)[1].path, "pipe:[123456]");
  EXPECT_EQ((*files)[2].path, "/opt/demo/log file.txt");
  EXPECT_EQ((*files)[3].fd, 10);
  EXPECT_EQ((*files)[3].path, "socket:[98765]");

  auto threads = d->threads(100, &truncated);
  ASSERT_TRUE(threads);
  EXPECT_FALSE(truncated);
  ASSERT_EQ(threads->size(), 3u);
  EXPECT_EQ((*threads)[0].tid, 48213);
  EXPECT_EQ((*threads)[0].name, "my) prog (x");
  EXPECT_EQ((*threads)[1].tid, 48215);
  EXPECT_EQ((*threads)[1].name, "worker (x)");
  EXPECT_EQ((*threads)[1].state, "S");
  EXPECT_EQ((*threads)[2].name, "io thread");
  EXPECT_EQ((*threads)[2].state, "D");
  threads = d->threads(2, &truncated);
  ASSERT_TRUE(threads);
  EXPECT_EQ(threads->size(), 2u);
  EXPECT_TRUE(truncated);

  EXPECT_FALSE(d->open_mem()) << "the fixture has no mem file";
  EXPECT_FALSE(d->read("no-such-file", 100));
}

TEST(ProcessDirFixture, ReadsDoNotFollowSymlinks) {
  auto d = ProcessDir::open_at(kTree, kFixturePid);
  ASSERT_TRUE(d);
  auto through_link = d->read("exe", 100);
  ASSERT_FALSE(through_link);
  EXPECT_EQ(through_link.error().errno_value, ELOOP);
}

TEST(ProcessDirFixture, ReadCapSetsTruncated) {
  auto d = ProcessDir::open_at(kTree, kFixturePid);
  ASSERT_TRUE(d);
  bool truncated = false;
  auto text = d->read("status", 10, &truncated);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "Name:\twork");
  EXPECT_TRUE(truncated);
}

TEST(ProcessDirPidfd, VerifiedForALiveChild) {
  Child child;
  ASSERT_GT(child.pid, 0);
  UniqueFd pidfd = pidfd_open(child.pid);
  ASSERT_TRUE(pidfd) << std::strerror(errno);
  EXPECT_EQ(pidfd_pid(pidfd.get()), child.pid);
  auto d = ProcessDir::open(child.pid, pidfd.get());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->verified_by_pidfd());
  EXPECT_TRUE(::fcntl(pidfd.get(), F_GETFD) >= 0) << "the pidfd stays the caller's";
}

TEST(ProcessDirPidfd, FailsOnceTheChildIsReaped) {
  Child child;
  UniqueFd pidfd = pidfd_open(child.pid);
  ASSERT_TRUE(pidfd);
  pid_t pid = child.pid;
  child.kill_and_reap();
  EXPECT_EQ(pidfd_pid(pidfd.get()), -1);
  auto d = ProcessDir::open(pid, pidfd.get());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().errno_value, ESRCH);
}

TEST(ProcessDirPidfd, APidfdForAnotherPidFails) {
  Child a, b;
  UniqueFd pidfd_a = pidfd_open(a.pid);
  ASSERT_TRUE(pidfd_a);
  auto d = ProcessDir::open(b.pid, pidfd_a.get());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("pidfd names pid " + std::to_string(a.pid)), std::string::npos) << d.error().message;
  EXPECT_EQ(d.error().errno_value, ESRCH);
}

TEST(ProcessDirPidfd, AnFdThatIsNotAPidfdFails) {
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto d = ProcessDir::open(::getpid(), file.get());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("is not a pidfd"), std::string::npos) << d.error().message;
  EXPECT_FALSE(pidfd_pid(-1));
}

// The kernel prints no stack for a task that is on a CPU at that moment:
// this child spins on a CPU of its own for a while, then sleeps in pause().
// (Pinned apart: sharing our CPU, it would be off it whenever we read.)
TEST(ProcessDirKernelStack, WaitsUntilTheTaskIsOffTheCpu) {
  cpu_set_t mine;
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mine)) cpus.push_back(c);
  auto pin = [](int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ::sched_setaffinity(0, sizeof one, &one);
  };
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    pin(cpus.back());
    timespec start{}, now{};
    ::clock_gettime(CLOCK_MONOTONIC, &start);
    ssize_t ignored = ::write(ready[1], "x", 1);
    (void)ignored;
    do {
      ::clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 300);
    for (;;) ::pause();
  }
  ASSERT_GT(pid, 0);
  pin(cpus.front());
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  auto d = ProcessDir::open(pid);
  ASSERT_TRUE(d);
  auto stack = d->kernel_stack(100, std::chrono::seconds(20));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::sched_setaffinity(0, sizeof mine, &mine);
  ASSERT_TRUE(stack) << stack.error().message;
  EXPECT_FALSE(stack->empty()) << "asked again until the child was off its CPU";
}

TEST(ProcessDirKernelStack, AnExitedTaskIsNotWaitedFor) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ASSERT_GT(pid, 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);  // a zombie now
  auto d = ProcessDir::open(pid);
  ASSERT_TRUE(d);
  auto start = std::chrono::steady_clock::now();
  auto stack = d->kernel_stack(100, std::chrono::seconds(60));
  auto waited = std::chrono::steady_clock::now() - start;
  ::waitpid(pid, nullptr, 0);
  if (stack) {
    EXPECT_TRUE(stack->empty());
  }
  EXPECT_LT(waited, std::chrono::seconds(30)) << "a zombie has no kernel stack to wait for";
}

}  // namespace
}  // namespace usercrash::proc
