// The engine child's sandbox, entered by a forked child exactly as the
// collect step does: what it is, seen from outside (/proc/<pid>/status) and
// from inside, what it may still do, and what fails.
//
// Run as root (as CI does), the child drops to the engine user; run as an
// ordinary user it keeps that uid and every other check still holds.
#include "collect/sandbox.h"

#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "collect/job.h"
#include "engine/report_builder.h"
#include "unit/fake_target.h"
#include "unit/test_support.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::collect {
namespace {

using util::UniqueFd;

struct Pipe {
  UniqueFd in, out;
  Pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    in.reset(p[0]);
    out.reset(p[1]);
  }
};

struct ChildResult {
  int status = 0;
  std::string said;  // what the child wrote on its pipe
};

// Forks a child that enters `sandbox` keeping `readable` plus a pipe it
// writes to, runs `body` (which writes what it finds on the fd it is
// given) and exits with what `body` returns. `outside` runs in the parent
// while the child, in its sandbox, waits for it.
ChildResult run_confined(const Sandbox& sandbox, std::vector<int> readable, const std::function<int(int)>& body,
                         const std::function<void(pid_t)>& outside = {}) {
  Pipe said, go;
  readable.push_back(go.in.get());
  pid_t child = ::fork();
  if (child == 0) {
    auto confined = sandbox.enter(readable, std::vector<int>{said.out.get()});
    if (!confined) {
      (void)util::write_all(said.out.get(), "enter: " + confined.error().message);
      ::_exit(100);
    }
    (void)util::write_all(said.out.get(), "in\n");
    char byte;
    if (::read(go.in.get(), &byte, 1) != 1) ::_exit(101);
    ::_exit(body(said.out.get()));
  }
  said.out.reset();
  go.in.reset();
  ChildResult result;
  char buffer[4096];
  std::string got;
  // Wait for the child to be in its sandbox.
  while (got.find('\n') == std::string::npos) {
    ssize_t n = ::read(said.in.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  if (got.starts_with("in\n")) {
    if (outside) outside(child);
    (void)util::write_all(go.out.get(), "g");
    got.erase(0, 3);
  }
  go.out.reset();
  for (ssize_t n; (n = ::read(said.in.get(), buffer, sizeof buffer)) > 0;) got.append(buffer, static_cast<size_t>(n));
  ::waitpid(child, &result.status, 0);
  result.said = got;
  return result;
}

void say(int fd, const std::string& text) { (void)util::write_all(fd, text + "\n"); }

std::map<std::string, std::string> status_fields(pid_t pid) {
  std::map<std::string, std::string> fields;
  std::string text = test::read_file("/proc/" + std::to_string(pid) + "/status");
  util::LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fields[std::string(line.substr(0, colon))] = std::string(util::trim(line.substr(colon + 1)));
  }
  return fields;
}

bool root() { return ::geteuid() == 0; }

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.readable_tree = tree_.path();
    test::write_file(tree_ / "debug.file", "debug bytes");
    // The engine user must be able to reach the tree, as /usr/lib/debug.
    ::chmod(tree_.path().c_str(), 0755);
  }
  Sandbox prepare() const { return Sandbox::prepare(options_); }

  test::TempDir tree_;
  SandboxOptions options_;
};

TEST_F(SandboxTest, ChildCredentialsSeenFromOutsideAreDropped) {
  Sandbox sandbox = prepare();
  const EngineUser& user = sandbox.user();
  if (root()) {
    EXPECT_NE(user.uid, 0u);
    EXPECT_NE(user.gid, 0u);
    EXPECT_EQ(user.uid, resolve_engine_user(limits::kEngineUser).uid);
  }
  std::map<std::string, std::string> seen;
  auto result = run_confined(
      sandbox, {}, [](int) { return 0; }, [&](pid_t child) { seen = status_fields(child); });
  ASSERT_EQ(result.status, 0) << result.said;
  std::string uid = std::to_string(user.uid), gid = std::to_string(user.gid);
  EXPECT_EQ(seen["Uid"], uid + "\t" + uid + "\t" + uid + "\t" + uid);
  EXPECT_EQ(seen["Gid"], gid + "\t" + gid + "\t" + gid + "\t" + gid);
  if (root()) {
    EXPECT_EQ(seen["Groups"], "");
    EXPECT_EQ(seen["CapBnd"], "0000000000000000");
  }
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) EXPECT_EQ(seen[set], "0000000000000000") << set;
  EXPECT_EQ(seen["NoNewPrivs"], "1");
  EXPECT_EQ(seen["Seccomp"], "2");  // a filter
  EXPECT_EQ(seen["Seccomp_filters"], "1");
}

TEST_F(SandboxTest, ChildKnowsWhoItIsInside) {
  Sandbox sandbox = prepare();
  uid_t uid = sandbox.user().uid;
  gid_t gid = sandbox.user().gid;
  auto result = run_confined(sandbox, {}, [&](int fd) {
    say(fd, ::getuid() == uid && ::geteuid() == uid && ::getgid() == gid && ::getegid() == gid ? "same" : "differs");
    return 0;
  });
  ASSERT_EQ(result.status, 0);
  EXPECT_EQ(result.said, "same\n");
}

TEST_F(SandboxTest, EnterSaysWhatItDid) {
  Sandbox sandbox = prepare();
  Pipe said;
  pid_t child = ::fork();
  if (child == 0) {
    auto c = sandbox.enter({}, std::vector<int>{said.out.get()});
    if (!c) ::_exit(1);
    say(said.out.get(),
        fmt::format("{} {} {} {} {} {}", c->user, c->uid, c->gid, c->no_new_privs, c->seccomp, c->landlock));
    ::_exit(0);
  }
  said.out.reset();
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(status, 0);
  auto text = util::read_all(said.in.get(), 1024);
  ASSERT_TRUE(text);
  // The test machine's kernel has Landlock (CI's does too).
  EXPECT_EQ(*text,
            fmt::format("{} {} {} true true true\n", sandbox.user().name, sandbox.user().uid, sandbox.user().gid));
}

// Each call an attacker would try, from inside: EPERM, and nothing done.
TEST_F(SandboxTest, ForbiddenCallsFailWithEperm) {
  test::TempDir writable_dir;
  ::chmod(writable_dir.path().c_str(), 01777);  // even where anyone may create files
  UniqueFd dir(::open(writable_dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  auto result = run_confined(prepare(), {dir.get()}, [&](int fd) {
    auto check = [&](const char* what, long rc) { say(fd, fmt::format("{} {} {}", what, rc, rc < 0 ? errno : 0)); };
    check("socket", ::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    check("connect", ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
    check("open-for-write", ::openat(dir.get(), "x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    check("open-read-write", ::openat(dir.get(), "x", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    check("open-create-readonly", ::openat(dir.get(), "y", O_RDONLY | O_CREAT | O_CLOEXEC, 0644));
    check("kill", ::kill(::getppid(), 0));
    check("setuid", ::syscall(SYS_setresuid, 0, 0, 0));
    check("prctl", ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    check("ioctl", ::ioctl(0, TIOCSTI, "x"));
    check("clone", ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    check("unshare", ::unshare(CLONE_NEWUSER));
    io_uring_params params{};
    check("io_uring", ::syscall(SYS_io_uring_setup, 1, &params));
    check("mmap-exec",
          ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check("mprotect-exec", ::mprotect(page, 4096, PROT_READ | PROT_EXEC));
    check("fcntl-setown", ::fcntl(fd, F_SETOWN, ::getppid()));
    check("chdir", ::chdir("/"));
    return 0;
  });
  ASSERT_EQ(result.status, 0) << result.said;
  for (const char* call : {"socket", "connect", "kill", "setuid", "prctl", "ioctl", "clone", "unshare", "io_uring",
                           "mprotect-exec", "fcntl-setown", "chdir"})
    EXPECT_NE(result.said.find(fmt::format("{} -1 {}\n", call, EPERM)), std::string::npos) << call << "\n"
                                                                                           << result.said;
    // A sanitizer build's filter lets every openat through (the runtime opens
    // files of its own): Landlock refuses the writes then, with EACCES.
#if defined(USERCRASH_SANITIZED)
  constexpr int kOpenRefused = EACCES;
#else
  constexpr int kOpenRefused = EPERM;
#endif
  for (const char* call : {"open-for-write", "open-read-write", "open-create-readonly"})
    EXPECT_NE(result.said.find(fmt::format("{} -1 {}\n", call, kOpenRefused)), std::string::npos) << call << "\n"
                                                                                                  << result.said;
  EXPECT_NE(result.said.find(fmt::format("mmap-exec -1 {}\n", EPERM)), std::string::npos) << result.said;
  // Nothing was created.
  EXPECT_NE(::access((writable_dir / "x").c_str(), F_OK), 0);
  EXPECT_NE(::access((writable_dir / "y").c_str(), F_OK), 0);
}

// The calls only a parser taken over would make kill the child.
TEST_F(SandboxTest, AttackerCallsKillTheChild) {
  Sandbox sandbox = prepare();
  const std::map<std::string, std::function<void()>> attempts = {
      {"execve",
       [] {
         char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
         ::execve("/bin/true", argv, nullptr);
       }},
      {"ptrace", [] { ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); }},
      {"ptrace-attach", [] { ::ptrace(PTRACE_ATTACH, ::getppid(), nullptr, nullptr); }},
      {"process_vm_readv",
       [] {
         char buffer[8];
         iovec local{buffer, sizeof buffer}, remote{buffer, sizeof buffer};
         ::process_vm_readv(::getppid(), &local, 1, &remote, 1, 0);
       }},
      {"process_vm_writev",
       [] {
         char buffer[8] = {};
         iovec local{buffer, sizeof buffer}, remote{buffer, sizeof buffer};
         ::process_vm_writev(::getppid(), &local, 1, &remote, 1, 0);
       }},
  };
  for (const auto& [name, attempt] : attempts) {
    auto result = run_confined(sandbox, {}, [&](int) {
      attempt();
      return 0;  // survived: the test fails below
    });
    EXPECT_TRUE(WIFSIGNALED(result.status) && WTERMSIG(result.status) == SIGSYS)
        << name << ": status " << result.status << " " << result.said;
  }
}

// What the engine needs still works.
TEST_F(SandboxTest, WhatTheEngineNeedsStillWorks) {
  test::write_file(tree_ / "module", "module bytes");
  UniqueFd module(::open((tree_ / "module").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(module);
  auto result = run_confined(prepare(), {module.get()}, [&](int fd) {
    auto check = [&](const char* what, bool ok) { say(fd, fmt::format("{} {}", what, ok ? "ok" : strerror(errno))); };
    char buffer[32] = {};
    check("pread", ::pread(module.get(), buffer, sizeof buffer, 0) == 12 && std::string(buffer) == "module bytes");
    int copy = ::fcntl(module.get(), F_DUPFD_CLOEXEC, 0);
    check("dup", copy >= 0);
    check("close", ::close(copy) == 0);
    int debug = ::open((tree_ / "debug.file").c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    check("open-debug-file", debug >= 0);
    struct stat st {};
    check("fstat", ::fstat(debug, &st) == 0 && st.st_size == 11);
    void* mapped = ::mmap(nullptr, 11, PROT_READ | PROT_WRITE, MAP_PRIVATE, debug, 0);
    check("mmap-file", mapped != MAP_FAILED);
    std::vector<char> big(8 << 20, 'x');  // malloc's mmap path
    check("malloc", big[12345] == 'x');
    timespec now{};
    check("clock", ::clock_gettime(CLOCK_REALTIME, &now) == 0);
    time_t t = now.tv_sec;
    tm local{};
    char when[64];
    check("strftime", ::localtime_r(&t, &local) && std::strftime(when, sizeof when, "%F %T %Z", &local) > 0);
    return 0;
  });
  ASSERT_EQ(result.status, 0) << result.said;
  for (const char* what :
       {"pread", "dup", "close", "open-debug-file", "fstat", "mmap-file", "malloc", "clock", "strftime"})
    EXPECT_NE(result.said.find(std::string(what) + " ok\n"), std::string::npos) << what << "\n" << result.said;
}

// Files are readable only under the readable tree (Landlock).
TEST_F(SandboxTest, FilesOutsideTheReadableTreeCannotBeOpened) {
  test::TempDir elsewhere;
  ::chmod(elsewhere.path().c_str(), 0755);
  test::write_file(elsewhere / "file", "anyone may read this", 0644);
  auto result = run_confined(prepare(), {}, [&](int fd) {
    for (std::string path : {elsewhere / "file", std::string("/etc/passwd"), std::string("/proc/self/status")}) {
      int opened = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      say(fd, fmt::format("{} {}", path, opened >= 0 ? 0 : errno));
    }
    return 0;
  });
  ASSERT_EQ(result.status, 0) << result.said;
  EXPECT_NE(result.said.find(elsewhere / "file" + " " + std::to_string(EACCES)), std::string::npos) << result.said;
  EXPECT_NE(result.said.find("/etc/passwd " + std::to_string(EACCES)), std::string::npos) << result.said;
  EXPECT_NE(result.said.find("/proc/self/status " + std::to_string(EACCES)), std::string::npos) << result.said;
}

TEST_F(SandboxTest, EveryOtherFdIsClosed) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd a(pair[0]), b(pair[1]);
  UniqueFd kept(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto result = run_confined(prepare(), {kept.get()}, [&](int fd) {
    for (int probe : {a.get(), b.get(), kept.get(), 0, 1, 2})
      say(fd, fmt::format("{} {}", probe, ::fcntl(probe, F_GETFD) >= 0 ? "open" : "closed"));
    // stdout is /dev/null: writing to it goes nowhere and does not fail.
    say(fd, fmt::format("stdout {}", ::write(1, "x", 1)));
    return 0;
  });
  ASSERT_EQ(result.status, 0) << result.said;
  EXPECT_NE(result.said.find(fmt::format("{} closed\n", a.get())), std::string::npos) << result.said;
  EXPECT_NE(result.said.find(fmt::format("{} closed\n", b.get())), std::string::npos) << result.said;
  EXPECT_NE(result.said.find(fmt::format("{} open\n", kept.get())), std::string::npos) << result.said;
  for (int std_fd : {0, 1, 2}) EXPECT_NE(result.said.find(fmt::format("{} open\n", std_fd)), std::string::npos);
  EXPECT_NE(result.said.find("stdout 1\n"), std::string::npos) << result.said;
}

TEST_F(SandboxTest, RefusesAWritableFdAmongTheReadOnes) {
  test::TempDir dir;
  UniqueFd writable(::open((dir / "f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(writable);
  auto result = run_confined(prepare(), {writable.get()}, [](int) { return 0; });
  EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 100);
  EXPECT_NE(result.said.find("is open for writing"), std::string::npos) << result.said;
}

// A Target whose fds include one open for writing: the isolated job's child
// refuses to enter the sandbox, and the report says so without backtraces.
class WritableFdTarget : public test::FakeTarget {
 public:
  explicit WritableFdTarget(int fd) : fd_(fd) {}
  std::vector<int> fds() const override { return {fd_}; }

 private:
  int fd_;
};

TEST_F(SandboxTest, JobWhoseChildCannotEnterItsSandboxLeavesAReportSayingWhy) {
  test::TempDir dir;
  UniqueFd writable(::open((dir / "w").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  UniqueFd text(::open((dir / "report").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  WritableFdTarget target(writable.get());
  target.facts_mut().pid = 42;
  target.facts_mut().comm = "victim";
  engine::CollectOptions options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Sandbox sandbox = prepare();
  Job run(target, options, {}, {text.get(), -1}, Budget{options.deadline}, sandbox);
  run.await_collected();
  JobResult job = run.write();
  EXPECT_FALSE(job.complete);
  EXPECT_NE(job.note.find("could not enter its sandbox"), std::string::npos) << job.note;
  std::string report = test::read_file(dir / "report");
  EXPECT_NE(report.find("could not enter its sandbox"), std::string::npos) << report;
  EXPECT_NE(report.find("is open for writing"), std::string::npos) << report;
}

TEST_F(SandboxTest, JobRecordsTheSandboxInTheReport) {
  test::TempDir dir;
  UniqueFd text(::open((dir / "report").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  UniqueFd json_fd(::open((dir / "report.json").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  test::FakeTarget target;
  target.facts_mut().pid = 42;
  target.facts_mut().comm = "victim";
  engine::CollectOptions options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Sandbox sandbox = prepare();
  Job run(target, options, {}, {text.get(), json_fd.get()}, Budget{options.deadline}, sandbox);
  run.await_collected();
  JobResult job = run.write();
  ASSERT_TRUE(job.complete) << job.note;
  std::string report = test::read_file(dir / "report");
  EXPECT_NE(report.find(fmt::format("(backtraces built as uid {} ({}), gid {}, no_new_privs seccomp landlock)",
                                    sandbox.user().uid, sandbox.user().name, sandbox.user().gid)),
            std::string::npos)
      << report;
  std::string json_text = test::read_file(dir / "report.json");
  EXPECT_NE(json_text.find("\"seccomp\": true"), std::string::npos) << json_text;
}

}  // namespace
}  // namespace usercrash::collect
