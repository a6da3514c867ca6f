// on_report: its arguments and fixed environment, the timeout, bounded
// concurrency and its queue, with real programs (no root needed).
#include "publish/report_hook.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::publish {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

HookReport sample(const std::string& slot = "usercrash_07") {
  HookReport r;
  r.text_path = "/var/log/usercrashes/" + slot;
  r.json_path = r.text_path + ".json";
  r.slot = slot;
  r.signature = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  r.pid = "4242";
  r.uid = "1000";
  r.signal = "SIGSEGV";
  r.exe = "/opt/demo/bin/demo $(rm -rf /)";
  return r;
}

// Reaps the hook's children as the server's loop does, until none runs.
void drain(ReportHook& hook, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while ((hook.running() > 0 || hook.queued() > 0) && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) hook.on_exit(pid, status);
    hook.expire(std::chrono::steady_clock::now());
    std::this_thread::sleep_for(2ms);
  }
}

TEST(ReportHook, ArgumentsAndEnvironment) {
  HookReport r = sample();
  EXPECT_EQ(hook_arguments("/usr/local/bin/ship", r),
            (std::vector<std::string>{"/usr/local/bin/ship", "/var/log/usercrashes/usercrash_07",
                                      "/var/log/usercrashes/usercrash_07.json", "usercrash_07",
                                      "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "4242"}));
  auto env = hook_environment(r);
  EXPECT_NE(std::find(env.begin(), env.end(), "USERCRASH_SIGNATURE=0f1e2d3c4b5a69788796a5b4c3d2e1f0"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "USERCRASH_SLOT=usercrash_07"), env.end());
}

TEST(ReportHook, RunsTheProgramWithAFixedEnvironmentAndNoShell) {
  TempDir dir;
  // env(1) prints exactly the environment it got: nothing of ours leaks in.
  ::setenv("USERCRASH_SECRET_OF_THE_PARENT", "leak", 1);
  std::string out = dir / "env.txt";
  // The hook's stderr is ours: point it at a file for the check.
  int saved = ::dup(2);
  int file = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  ::dup2(file, 2);
  ReportHook hook("/bin/sh", 5s);
  // The program gets the report's values as plain arguments: a "$(...)" in them is never run.
  HookReport r = sample();
  r.text_path = "-c";
  r.json_path = "env >&2; echo \"args:$1|$2|$3|$4\" >&2";
  hook.run_and_wait(r);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(file);
  ::unsetenv("USERCRASH_SECRET_OF_THE_PARENT");
  std::string text = test::read_file(out);
  EXPECT_EQ(text.find("USERCRASH_SECRET_OF_THE_PARENT"), std::string::npos) << text;
  EXPECT_NE(text.find("USERCRASH_EXE=/opt/demo/bin/demo $(rm -rf /)"), std::string::npos) << text;
  EXPECT_NE(text.find("PATH=/sbin:/bin:/usr/sbin:/usr/bin"), std::string::npos) << text;
  EXPECT_NE(text.find("args:0f1e2d3c4b5a69788796a5b4c3d2e1f0|4242||"), std::string::npos) << text;
  EXPECT_EQ(hook.counts().succeeded, 1u);
}

TEST(ReportHook, ExitStatusTimeoutAndMissingProgramAreCounted) {
  ReportHook ok("/bin/true", 5s), bad("/bin/false", 5s), missing("/nonexistent/ship", 5s);
  ok.run_and_wait(sample());
  bad.run_and_wait(sample());
  missing.run_and_wait(sample());
  EXPECT_EQ(ok.counts().succeeded, 1u);
  EXPECT_EQ(bad.counts().failed, 1u);
  EXPECT_EQ(missing.counts().failed, 1u);

  // /bin/sleep 30 with its arguments: the report's paths are not a number,
  // so use a wrapper through sh that ignores them.
  ReportHook slow("/bin/sh", 200ms);
  HookReport r = sample();
  r.text_path = "-c";
  r.json_path = "sleep 30";
  auto started = std::chrono::steady_clock::now();
  slow.run_and_wait(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(slow.counts().timed_out, 1u);
  EXPECT_EQ(slow.counts().failed, 1u);
}

TEST(ReportHook, BoundedRunsAndQueueAndSubmittingNeverWaits) {
  EXPECT_EQ(ReportHook::kMaxRunning, 4u);
  ReportHook hook("/bin/sh", 300ms, 2, 3);
  HookReport r = sample();
  r.text_path = "-c";
  r.json_path = "sleep 30";
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) hook.submit(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(hook.running(), 2u);
  EXPECT_EQ(hook.queued(), 3u);
  EXPECT_EQ(hook.counts().dropped, 3u);
  EXPECT_TRUE(hook.next_deadline());
  // Each is killed at its timeout; the queued ones run (and are killed) in turn.
  drain(hook);
  EXPECT_EQ(hook.counts().started, 5u);
  EXPECT_EQ(hook.counts().timed_out, 5u);
}

TEST(ReportHook, QueuedRunsStartAsOthersEnd) {
  ReportHook hook("/bin/true", 10s);
  for (int i = 0; i < 10; ++i) hook.submit(sample("usercrash_0" + std::to_string(i)));
  drain(hook);
  EXPECT_EQ(hook.counts().started, 10u);
  EXPECT_EQ(hook.counts().succeeded, 10u);
}

TEST(ReportHook, DisabledDoesNothing) {
  ReportHook hook("", 1s);
  EXPECT_FALSE(hook.enabled());
  hook.submit(sample());
  hook.run_and_wait(sample());
  EXPECT_EQ(hook.counts().started, 0u);
}

}  // namespace
}  // namespace usercrash::publish
