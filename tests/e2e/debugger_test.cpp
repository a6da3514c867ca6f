// debugger PID: the report of a live process through ptrace, and the
// promise that the process goes on running whatever happens to us.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "e2e/report_schema.h"
#include "engine/report.h"

namespace usercrash::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kHoldVariable = "USERCRASH_DEBUGGER_TEST_HOLD_MS";
std::vector<std::string> as_nobody(std::vector<std::string> argv) {
  std::vector<std::string> prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  argv.insert(argv.begin(), prefix.begin(), prefix.end());
  return argv;
}

// Starts argv with `env` added and stdout/stderr on pipes; does not wait.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int* out_fd, int* err_fd,
            int* in_fd = nullptr) {
  int out[2], err[2], in[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    exec_child(argv, env);
  }
  ::close(out[1]);
  ::close(err[1]);
  ::close(in[0]);
  *out_fd = out[0];
  *err_fd = err[0];
  if (in_fd) *in_fd = in[1];
  else ::close(in[1]);
  return pid;
}

struct Output {
  int status = -1;
  std::string out, err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

// Runs a program to its end; stdout and stderr kept apart.
Output run_split(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  int out_fd, err_fd;
  pid_t pid = spawn(argv, env, &out_fd, &err_fd);
  Output r;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buffer, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  ::waitpid(pid, &r.status, 0);
  return r;
}

Output debugger(std::vector<std::string> args, const std::vector<std::string>& env = {},
                const std::string& exe = program("debugger")) {
  args.insert(args.begin(), exe);
  return run_split(args, env);
}

// A crasher in one of its live modes, killed when the test ends.
class LiveProcess {
 public:
  explicit LiveProcess(const std::vector<std::string>& argv) {
    int err_fd;
    child_ = spawn(argv, {}, &out_fd_, &err_fd, &in_fd_);
    ::close(err_fd);
    std::string line = read_line();
    std::smatch m;
    if (!std::regex_search(line, m, std::regex("^ready (\\d+)"))) throw std::runtime_error("crasher said: " + line);
    pid_ = std::stoi(m[1]);
    // "ready" comes just before the main thread parks: wait until it has
    // (asleep in pause, read or vfork), or its backtrace is still printf's.
    auto main_state = [&] {
      std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
      size_t paren = stat.rfind(')');
      return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
    };
    if (!eventually([&] { return main_state() == 'S' || main_state() == 'D'; }))
      throw std::runtime_error("the crasher's main thread never parked");
  }
  ~LiveProcess() {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
    ::close(in_fd_);
    ::close(out_fd_);
  }
  LiveProcess(const LiveProcess&) = delete;
  LiveProcess& operator=(const LiveProcess&) = delete;

  pid_t pid() const { return pid_; }

  // "live" mode: how many times its workers have ticked so far. Only a
  // process whose threads run answers.
  long ticks() {
    if (::write(in_fd_, "\n", 1) != 1) return -1;
    std::string line = read_line(std::chrono::seconds(5));
    std::smatch m;
    return std::regex_search(line, m, std::regex("^alive (\\d+)")) ? std::stol(m[1]) : -1;
  }

  // True when the process went on running: its workers keep ticking.
  bool keeps_ticking() {
    long before = ticks();
    if (before < 0) return false;
    // A loaded machine may not schedule the workers for a while: wait for
    // progress rather than a fixed time.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      if (ticks() > before) return true;
    } while (Clock::now() < deadline);
    return false;
  }

 private:
  std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string line;
    auto deadline = Clock::now() + timeout;
    char c;
    while (Clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(out_fd_, &c, 1) != 1) break;
      if (c == '\n') break;
      line += c;
    }
    return line;
  }

  pid_t child_ = -1;
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
};

std::string fmt_path(pid_t pid, const char* name) { return "/proc/" + std::to_string(pid) + "/" + name; }

// State letter of every thread of `pid`, from /proc/<pid>/task/*/stat.
std::map<pid_t, char> thread_states(pid_t pid) {
  std::map<pid_t, char> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fmt_path(pid, "task"), ec)) {
    std::string stat = read_file(e.path().string() + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    out[std::stoi(e.path().filename().string())] = stat[paren + 2];
  }
  return out;
}

int tracer_pid(pid_t pid) {
  std::string status = read_file(fmt_path(pid, "status"));
  std::smatch m;
  return std::regex_search(status, m, std::regex("TracerPid:\\s*(\\d+)")) ? std::stoi(m[1]) : -1;
}

// Every thread sleeping or running (S or R; never t, tracing stop, or T),
// and no tracer left. Waits up to `timeout` for it to become true.
::testing::AssertionResult running_untraced(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  auto deadline = Clock::now() + timeout;
  std::string why;
  do {
    auto states = thread_states(pid);
    why.clear();
    if (states.empty()) why = "no threads";
    for (auto [tid, state] : states)
      if (state != 'S' && state != 'R') why += " tid " + std::to_string(tid) + " in state " + state;
    int tracer = tracer_pid(pid);
    if (tracer != 0) why += " TracerPid " + std::to_string(tracer);
    if (why.empty()) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (Clock::now() < deadline);
  return ::testing::AssertionFailure() << "process " << pid << ":" << why;
}

const json* thread_named(const json& report, const std::string& name) {
  for (const auto& t : report["threads"])
    if (t["name"] == name) return &t;
  return nullptr;
}

// The wait-signal crasher's four threads, each blocked in its own function.
void expect_parked_threads(const json& r, pid_t pid) {
  ASSERT_EQ(r["threads"].size(), 4u) << r["threads"].dump(1);
  const json& main_thread = r["threads"][0];
  EXPECT_EQ(main_thread["tid"], pid) << "the main thread comes first";
  EXPECT_FALSE(main_thread["crashed"].get<bool>());
  EXPECT_TRUE(contains_in_order(function_names(main_thread), {"wait_for_signal", "main"})) << main_thread.dump(1);
  struct Parked {
    const char* name;
    std::vector<std::string> frames;
  };
  for (const Parked& p :
       {Parked{"parked-pause", {"park_in_pause", "pause_main"}}, Parked{"parked-read", {"park_in_read", "read_main"}},
        Parked{"parked-cond", {"park_in_cond_wait", "cond_main"}}}) {
    const json* t = thread_named(r, p.name);
    ASSERT_NE(t, nullptr) << p.name;
    EXPECT_TRUE(contains_in_order(function_names(*t), p.frames)) << p.name << ": " << (*t)["frames"].dump(1);
    EXPECT_FALSE((*t)["crashed"].get<bool>());
  }
  for (const auto& t : r["threads"]) {
    ASSERT_FALSE(t["frames"].empty()) << t.dump(1);
    EXPECT_EQ(t["frames"][0]["method"], "context");
    EXPECT_EQ(t["registers"]["rip"], t["frames"][0]["pc"]);
    EXPECT_EQ(t["state"], "S") << "the state read before attaching, not our tracing stop";
  }
}

// The built programs, where user `nobody` can reach them: copied into a
// 0755 directory when the build tree is not traversable for others.
class NobodyPrograms {
 public:
  NobodyPrograms() {
    debugger_ = program("debugger");
    crasher_ = ::usercrash::test::crasher("crasher");
    if (reachable(debugger_) && reachable(crasher_)) return;
    ::chmod(dir_.path().c_str(), 0755);
    fs::copy_file(debugger_, dir_ / "debugger");
    fs::copy_file(crasher_, dir_ / "crasher");
    debugger_ = dir_ / "debugger";
    crasher_ = dir_ / "crasher";
  }
  const std::string& debugger() const { return debugger_; }
  const std::string& crasher() const { return crasher_; }

 private:
  static bool reachable(const std::string& path) { return run(as_nobody({"test", "-x", path})).status == 0; }
  TempDir dir_;
  std::string debugger_, crasher_;
};

class Debugger : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

TEST_F(Debugger, ReportsEveryThreadOfALiveProcessAsJson) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output r = debugger({"--json", std::to_string(target.pid())});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  auto doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["version"], engine::kReportVersion);
  EXPECT_EQ(schema_errors_of(r.out), "");
  EXPECT_EQ(doc["source"], "live");
  EXPECT_EQ(doc["pid"], target.pid());
  EXPECT_EQ(doc["tid"], target.pid());
  EXPECT_EQ(doc["comm"], "crasher");
  EXPECT_EQ(doc["exe"], crasher("crasher"));
  EXPECT_EQ(doc["uid"], 0);
  EXPECT_TRUE(doc["signal"].is_null()) << "a live process was not crashing";
  EXPECT_TRUE(doc["abort_message"].is_null());
  expect_parked_threads(doc, target.pid());
  EXPECT_FALSE(doc["maps"].empty());
  EXPECT_FALSE(doc["open_files"].empty());
  EXPECT_FALSE(doc["memory_near_registers"].empty());
  EXPECT_FALSE(doc["disassembly"].empty());
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, TextReportIsTheCrashReportOfALiveProcess) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output r = debugger({std::to_string(target.pid())});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  const std::string& text = r.out;
  std::string pid = std::to_string(target.pid());
  EXPECT_TRUE(text.starts_with("*** *** ***"));
  EXPECT_NE(text.find("pid: " + pid + ", tgid: " + pid + ", comm: crasher\n"), std::string::npos);
  EXPECT_NE(text.find("\nsignal: none (live process)\n"), std::string::npos);
  EXPECT_NE(text.find("\nsource: live\n"), std::string::npos);
  for (const char* section : {"\nRegisters:\n", "\nBackTrace:\n", "\nCode around rip:\n", "\nThreads (4):\n",
                              "\nThreads backtrace:\n", "\nMaps:\n", "\nOpen files:\n"})
    EXPECT_NE(text.find(section), std::string::npos) << section;
  for (const char* function : {"(wait_for_signal+0x", "(park_in_pause+0x", "(park_in_read+0x", "(park_in_cond_wait+0x"})
    EXPECT_NE(text.find(function), std::string::npos) << function;
  EXPECT_EQ(text.find("Fault address"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, ThreadsGoOnRunningAfterTheReport) {
  LiveProcess target({crasher("crasher"), "live", "4"});
  ASSERT_TRUE(target.keeps_ticking());
  for (const char* mode : {"--verbose", "--all-stop"}) {
    SCOPED_TRACE(mode);
    Output r = debugger({"--json", mode, std::to_string(target.pid())});
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    auto doc = json::parse(r.out);
    ASSERT_EQ(doc["threads"].size(), 8u);
    EXPECT_TRUE(contains_in_order(function_names(doc["threads"][0]), {"serve_stdin", "main"}));
    for (int i = 0; i < 4; ++i) {
      const json* w = thread_named(doc, "worker-" + std::to_string(i));
      ASSERT_NE(w, nullptr) << i;
      EXPECT_TRUE(contains_in_order(function_names(*w), {"park_in_nanosleep", "worker_main"}))
          << (*w)["frames"].dump(1);
    }
    EXPECT_TRUE(running_untraced(target.pid()));
    // Interrupted in nanosleep and read, and none the worse for it.
    EXPECT_TRUE(target.keeps_ticking());
  }
}

// The kernel releases a dead tracer's threads: killing the debugger while it
// holds them (kept there by the test-only hold) leaves the process running.
TEST_F(Debugger, KilledWhileHoldingThreadsLeavesTheProcessRunning) {
  LiveProcess target({crasher("crasher"), "live", "4"});
  ASSERT_TRUE(target.keeps_ticking());
  for (bool all_stop : {false, true}) {
    SCOPED_TRACE(all_stop ? "--all-stop" : "one thread at a time");
    int out_fd, err_fd;
    std::vector<std::string> argv = {program("debugger_test_hooks"), std::to_string(target.pid())};
    if (all_stop) argv.insert(argv.begin() + 1, "--all-stop");
    pid_t dbg = spawn(argv, {std::string(kHoldVariable) + "=60000"}, &out_fd, &err_fd);
    // Wait for the hold: the main thread (every thread, with --all-stop) in
    // tracing stop, traced by the debugger.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    bool holding = false;
    while (!holding && Clock::now() < deadline) {
      auto states = thread_states(target.pid());
      size_t stopped = std::count_if(states.begin(), states.end(), [](auto& s) { return s.second == 't'; });
      holding =
          tracer_pid(target.pid()) == dbg && states[target.pid()] == 't' && (!all_stop || stopped == states.size());
      if (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(holding) << "the debugger never held the threads";
    ASSERT_EQ(::kill(dbg, SIGKILL), 0);
    int status = 0;
    ::waitpid(dbg, &status, 0);
    ::close(out_fd);
    ::close(err_fd);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_TRUE(running_untraced(target.pid()));
    EXPECT_TRUE(target.keeps_ticking());
  }
  // And it can be reported again.
  Output again = debugger({"--brief", std::to_string(target.pid())});
  EXPECT_EQ(again.exit_code(), 0) << again.err;
  EXPECT_TRUE(target.keeps_ticking());
}

// Issue 9.7: the hold is a test hook; the debugger that is installed does
// not know the variable, so nobody can make it keep a process stopped.
TEST_F(Debugger, TheInstalledDebuggerHasNoTestHold) {
  std::string binary = read_file(program("debugger"));
  EXPECT_EQ(binary.find(kHoldVariable), std::string::npos);
  EXPECT_NE(read_file(program("debugger_test_hooks")).find(kHoldVariable), std::string::npos);
  // Given the variable anyway, it reports and lets go at once.
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output r = run_split({program("debugger"), "--brief", std::to_string(target.pid())},
                       {std::string(kHoldVariable) + "=600000"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_TRUE(running_untraced(target.pid()));
}

// Job control is the process's business: stopped (T) before, stopped after.
TEST_F(Debugger, AStoppedProcessStaysStopped) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  ASSERT_EQ(::kill(target.pid(), SIGSTOP), 0);
  auto all_in = [&](char wanted) {
    auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      auto states = thread_states(target.pid());
      if (std::all_of(states.begin(), states.end(), [&](auto& s) { return s.second == wanted; })) return true;
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  ASSERT_TRUE(all_in('T'));
  for (const char* mode : {"--json", "--all-stop"}) {
    SCOPED_TRACE(mode);
    Output r = debugger({"--json", mode, std::to_string(target.pid())});
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    auto doc = json::parse(r.out);
    ASSERT_EQ(doc["threads"].size(), 4u);
    EXPECT_TRUE(contains_in_order(function_names(doc["threads"][0]), {"wait_for_signal", "main"}));
    for (const auto& t : doc["threads"]) EXPECT_EQ(t["state"], "T");
    EXPECT_TRUE(all_in('T'));
    EXPECT_EQ(tracer_pid(target.pid()), 0);
  }
  ASSERT_EQ(::kill(target.pid(), SIGCONT), 0);
  EXPECT_TRUE(running_untraced(target.pid()));
}

// A thread in uninterruptible sleep cannot be stopped: it is reported
// without registers after the stop budget, the others normally, and it
// carries on when it wakes.
TEST_F(Debugger, AThreadThatCannotStopIsReportedWithoutRegisters) {
  LiveProcess target({crasher("crasher"), "vfork", "3"});
  auto deadline = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < deadline && thread_states(target.pid())[target.pid()] != 'D')
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(thread_states(target.pid())[target.pid()], 'D');
  auto started = Clock::now();
  Output r = debugger({"--json", "--verbose", std::to_string(target.pid())});
  auto took = Clock::now() - started;
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_GE(took, std::chrono::milliseconds(900)) << "the stop budget is a second";
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_NE(r.err.find("1 thread(s) did not stop"), std::string::npos) << r.err;
  auto doc = json::parse(r.out);
  ASSERT_EQ(doc["threads"].size(), 4u);
  for (const char* name : {"parked-pause", "parked-read", "parked-cond"}) {
    const json* t = thread_named(doc, name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_FALSE((*t)["frames"].empty()) << name;
  }
  const json* main_thread = nullptr;
  for (const auto& t : doc["threads"])
    if (t["tid"] == target.pid()) main_thread = &t;
  ASSERT_NE(main_thread, nullptr);
  EXPECT_TRUE((*main_thread)["registers"].is_null());
  EXPECT_EQ((*main_thread)["unwind_stopped"], "no registers for this thread");
  bool noted = std::any_of(doc["problems"].begin(), doc["problems"].end(), [&](const json& p) {
    return p.get<std::string>().starts_with("thread " + std::to_string(target.pid()) + ": did not stop within");
  });
  EXPECT_TRUE(noted) << doc["problems"].dump(1);
  // The debugger is gone: nothing traces it, and once the vfork child exits
  // the main thread goes back to its ordinary sleep.
  EXPECT_EQ(tracer_pid(target.pid()), 0);
  EXPECT_TRUE(running_untraced(target.pid(), std::chrono::seconds(5)));
}

// A thread creating and ending threads without pause: some exit between
// the listing and the seize, or while seized, others are born meanwhile.
TEST_F(Debugger, ThreadsComingAndGoingWhileAttaching) {
  LiveProcess target({crasher("crasher"), "churn"});
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE(i);
    std::vector<std::string> args = {"--json", std::to_string(target.pid())};
    if (i % 2) args.insert(args.begin(), "--all-stop");
    Output r = debugger(args);
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    auto doc = json::parse(r.out);
    EXPECT_EQ(doc["threads"][0]["tid"], target.pid());
    const json* spawner = thread_named(doc, "spawner");
    ASSERT_NE(spawner, nullptr);
    for (const char* name : {"parked-pause", "parked-read", "parked-cond"}) EXPECT_NE(thread_named(doc, name), nullptr);
    // Threads that exited before their capture are left out, not listed
    // without registers.
    for (const auto& t : doc["threads"]) EXPECT_TRUE(t["registers"].is_object()) << t.dump(1);
  }
  auto states = thread_states(target.pid());
  for (auto [tid, state] : states) EXPECT_NE(state, 't') << tid;
  EXPECT_EQ(tracer_pid(target.pid()), 0);
}

TEST_F(Debugger, VerboseSaysHowLongEachThreadWasHeld) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output r = debugger({"--verbose", std::to_string(target.pid())});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  for (const char* name : {"crasher", "parked-pause", "parked-read", "parked-cond"})
    EXPECT_TRUE(std::regex_search(r.err, std::regex(std::string("tid \\d+ \\(") + name + "\\) held \\d+ us")))
        << name << "\n"
        << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("held 4 threads of pid \\d+ stopped for at most (\\d+) us")))
      << r.err;
  // Generous: other tests may load the machine; the bench measures it properly.
  EXPECT_LT(std::stol(m[1]), 500'000);
}

TEST_F(Debugger, OutputFileIsCreatedSafely) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  TempDir dir;
  std::string path = dir / "report.txt";
  Output r = debugger({"-o", path, std::to_string(target.pid())});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = read_file(path);
  EXPECT_TRUE(text.starts_with("*** *** ***"));
  EXPECT_NE(text.find("signal: none (live process)"), std::string::npos);

  // Never replaced.
  Output again = debugger({"-o", path, std::to_string(target.pid())});
  EXPECT_EQ(again.exit_code(), 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_file(path), text);

  // Never through a symlink, dangling or not.
  std::string victim = dir / "victim";
  std::string link = dir / "link";
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  Output through = debugger({"--json", "-o", link, std::to_string(target.pid())});
  EXPECT_EQ(through.exit_code(), 1);
  EXPECT_NE(through.err.find("symbolic link"), std::string::npos) << through.err;
  EXPECT_FALSE(exists(victim));

  // Issue 9.7: nor through a symlink in a directory on the way (root would
  // write where whoever planted it chose).
  std::string elsewhere = dir / "elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (dir / "via").c_str()), 0);
  Output via = debugger({"-o", dir / "via/report.txt", std::to_string(target.pid())});
  EXPECT_EQ(via.exit_code(), 1);
  EXPECT_NE(via.err.find("symbolic link"), std::string::npos) << via.err;
  EXPECT_FALSE(exists(elsewhere + "/report.txt"));

  // A failed report leaves no file behind.
  std::string failed = dir / "failed.json";
  Output refused = debugger({"--json", "-o", failed, "2147483647"});
  EXPECT_EQ(refused.exit_code(), 1);
  EXPECT_FALSE(exists(failed));
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, ThreadsOptionLimitsTheThreadsShown) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output all = debugger({"--json", std::to_string(target.pid())});
  ASSERT_EQ(all.exit_code(), 0) << all.err;
  auto doc = json::parse(all.out);
  pid_t read_tid = (*thread_named(doc, "parked-read"))["tid"];
  pid_t cond_tid = (*thread_named(doc, "parked-cond"))["tid"];

  Output some = debugger(
      {"--json", "--threads", std::to_string(cond_tid) + "," + std::to_string(read_tid), std::to_string(target.pid())});
  ASSERT_EQ(some.exit_code(), 0) << some.err;
  auto part = json::parse(some.out);
  ASSERT_EQ(part["threads"].size(), 2u) << part["threads"].dump(1);
  EXPECT_EQ(part["threads"][0]["tid"], read_tid);
  EXPECT_EQ(part["threads"][1]["tid"], cond_tid);
  EXPECT_TRUE(contains_in_order(function_names(part["threads"][0]), {"park_in_read"}));
  EXPECT_TRUE(contains_in_order(function_names(part["threads"][1]), {"park_in_cond_wait"}));

  // With the main thread, it comes first.
  Output with_main = debugger({"--threads", std::to_string(cond_tid) + "," + std::to_string(target.pid()), "--brief",
                               std::to_string(target.pid())});
  ASSERT_EQ(with_main.exit_code(), 0) << with_main.err;
  EXPECT_TRUE(with_main.out.starts_with("TID " + std::to_string(target.pid()) + " (crasher):\n")) << with_main.out;
  EXPECT_NE(with_main.out.find("TID " + std::to_string(cond_tid) + " (parked-cond):\n"), std::string::npos);
  EXPECT_EQ(with_main.out.find("parked-read"), std::string::npos);

  Output stranger = debugger({"--threads", "1", std::to_string(target.pid())});
  EXPECT_EQ(stranger.exit_code(), 1);
  EXPECT_NE(stranger.err.find("1 is not one of its threads"), std::string::npos) << stranger.err;
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, NoMemoryLeavesOutMemoryAndCode) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output r = debugger({"--json", "--no-memory", std::to_string(target.pid())});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  auto doc = json::parse(r.out);
  EXPECT_TRUE(doc["memory_near_registers"].empty());
  EXPECT_TRUE(doc["disassembly"].empty());
  expect_parked_threads(doc, target.pid());  // backtraces are still there

  Output text = debugger({"--no-memory", std::to_string(target.pid())});
  ASSERT_EQ(text.exit_code(), 0) << text.err;
  EXPECT_EQ(text.out.find("Memory near"), std::string::npos);
  EXPECT_EQ(text.out.find("Code around rip"), std::string::npos);
}

TEST_F(Debugger, BriefPrintsOneLinePerFrame) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output r = debugger({"--brief", std::to_string(target.pid())});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> headers;
  size_t frames = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("TID ")) headers.push_back(line);
    else if (std::regex_search(line, std::regex("^#\\d\\d pc 0x[0-9a-f]{16} "))) ++frames;
    else ADD_FAILURE() << "unexpected line: " << line;
  }
  std::string pid = std::to_string(target.pid());
  ASSERT_EQ(headers.size(), 4u) << r.out;
  EXPECT_EQ(headers[0], "TID " + pid + " (crasher):");
  EXPECT_GE(frames, 4u * 3);
  EXPECT_NE(r.out.find("(park_in_cond_wait+0x"), std::string::npos);
  EXPECT_EQ(r.out.find("Registers"), std::string::npos);
}

TEST_F(Debugger, RefusesAProcessThatDoesNotExist) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  Output r = debugger({std::to_string(child)});
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.err, "debugger: cannot report process " + std::to_string(child) + ": no such process\n");
  EXPECT_TRUE(r.out.empty());
}

TEST_F(Debugger, RefusesAZombie) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline && thread_states(child)[child] != 'Z')
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  Output r = debugger({std::to_string(child)});
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("it is a zombie"), std::string::npos) << r.err;
}

TEST_F(Debugger, RefusesAKernelThread) {
  pid_t kthread = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_file(e.path().string() + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    unsigned long flags = 0;
    for (int i = 0; i < 7 && fields >> field; ++i) flags = std::strtoul(field.c_str(), nullptr, 10);
    if (flags & 0x00200000 /* PF_KTHREAD */) {
      kthread = std::stoi(name);
      break;
    }
  }
  if (kthread < 0) GTEST_SKIP() << "no kernel thread visible in this pid namespace";
  Output r = debugger({std::to_string(kthread)});
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("it is a kernel thread"), std::string::npos) << r.err;
}

TEST_F(Debugger, RefusesItself) {
  // The shell's $$ is the pid the debugger runs as after exec.
  Output r = run_split({"sh", "-c", "exec \"$0\" $$", program("debugger")});
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("it is this debugger itself"), std::string::npos) << r.err;
}

TEST_F(Debugger, RefusesAThreadIdAndNamesItsProcess) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  Output all = debugger({"--json", std::to_string(target.pid())});
  ASSERT_EQ(all.exit_code(), 0) << all.err;
  pid_t tid = (*thread_named(json::parse(all.out), "parked-pause"))["tid"];
  Output r = debugger({std::to_string(tid)});
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("it is a thread of process " + std::to_string(target.pid())), std::string::npos) << r.err;
}

TEST_F(Debugger, RefusesAProcessSomeoneElseTraces) {
  LiveProcess target({crasher("crasher"), "wait-signal"});
  ASSERT_EQ(::ptrace(PTRACE_SEIZE, target.pid(), nullptr, nullptr), 0) << std::strerror(errno);
  Output r = debugger({std::to_string(target.pid())});
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("permission denied: it is already traced by pid " + std::to_string(::getpid())),
            std::string::npos)
      << r.err;
  // Let it go the way the debugger does: stop, detach.
  ASSERT_EQ(::ptrace(PTRACE_INTERRUPT, target.pid(), nullptr, nullptr), 0);
  ::waitpid(target.pid(), nullptr, __WALL);
  ASSERT_EQ(::ptrace(PTRACE_DETACH, target.pid(), nullptr, nullptr), 0);
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, UsageErrorsExitWithTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"abc"},
                                             {"0"},
                                             {"-5"},
                                             {"1", "2"},
                                             {"--bogus", "1"},
                                             {"--threads"},
                                             {"--threads", "1,x", "1"},
                                             {"--threads", ",", "1"},
                                             {"--json", "--brief", "1"},
                                             {"--config", "/nonexistent/usercrash.conf", "1"}}) {
    Output r = debugger(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code(), 2) << joined << "\n" << r.err;
    EXPECT_TRUE(r.err.starts_with("debugger: ")) << joined << "\n" << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  Output help = debugger({"--help"});
  EXPECT_EQ(help.exit_code(), 0);
  EXPECT_TRUE(help.out.starts_with("Usage: debugger [OPTION]... PID\n"));
  for (const char* option : {"--json", "--output", "--threads", "--brief", "--no-memory", "--config", "--all-stop"})
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  Output version = debugger({"--version"});
  EXPECT_EQ(version.exit_code(), 0);
  EXPECT_TRUE(version.out.starts_with("debugger ")) << version.out;
}

TEST_F(Debugger, OrdinaryUserReportsItsOwnProcess) {
  NobodyPrograms programs;
  LiveProcess target(as_nobody({programs.crasher(), "wait-signal"}));
  Output r = run_split(as_nobody({programs.debugger(), "--json", std::to_string(target.pid())}));
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  auto doc = json::parse(r.out);
  EXPECT_EQ(doc["uid"], kNobody);
  EXPECT_EQ(doc["source"], "live");
  expect_parked_threads(doc, target.pid());
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, OrdinaryUserIsRefusedAnotherUsersProcess) {
  NobodyPrograms programs;
  LiveProcess target({programs.crasher(), "wait-signal"});  // root's
  Output r = run_split(as_nobody({programs.debugger(), std::to_string(target.pid())}));
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("permission denied: it runs as uid 0 and you are uid 65534"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(running_untraced(target.pid()));
}

TEST_F(Debugger, OrdinaryUserIsRefusedANonDumpableProcess) {
  NobodyPrograms programs;
  LiveProcess target(as_nobody({programs.crasher(), "nodump"}));
  Output r = run_split(as_nobody({programs.debugger(), std::to_string(target.pid())}));
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_NE(r.err.find("permission denied: it is not dumpable"), std::string::npos) << r.err;
  // Root may, but leaves its memory out of the report, as for a crash.
  Output root = debugger({"--json", std::to_string(target.pid())});
  ASSERT_EQ(root.exit_code(), 0) << root.err;
  auto doc = json::parse(root.out);
  EXPECT_TRUE(doc["secure"].get<bool>());
  EXPECT_TRUE(doc["memory_near_registers"].empty());
  EXPECT_EQ(doc["threads"].size(), 4u);
}

}  // namespace
}  // namespace usercrash::test
