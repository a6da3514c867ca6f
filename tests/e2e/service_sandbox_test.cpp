// usercrash.service's sandbox (packaging/usercrash.service.in), applied
// without systemd by tests/e2e/unit_sandbox.sh around a real usercrash_s in
// kernel socket mode: what needs privilege still works through it. The
// crash directory and sockets are under /var/lib here (the service's /tmp
// is its own), made writable as a ReadWritePaths= drop-in would.
//
// Not applied here (systemd as PID 1 only; unit_sandbox.sh names them):
// IPAddressDeny=, DevicePolicy=/DeviceAllow=, KeyringMode=, LockPersonality=,
// RestrictRealtime=, RestrictSUIDSGID=. `systemd-analyze security` scores
// the unit in PackagingSandbox below.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;
std::map<std::string, std::string> status_of(pid_t pid) {
  std::map<std::string, std::string> fields;
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t value = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return fields;
}

// The unit's [Service] values of `key`, every line of it, words split.
std::vector<std::string> unit_values(const std::string& key) {
  std::istringstream in(read_file(USERCRASH_UNIT_SOURCE));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(key + "=")) continue;
    std::istringstream words(line.substr(key.size() + 1));
    for (std::string w; words >> w;) out.push_back(w);
  }
  return out;
}

class ServiceSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    ::getrlimit(RLIMIT_CORE, &saved_limit_);
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &unlimited);
    ::mkdir(state_.c_str(), 0700);
    server_ = std::make_unique<ServerProcess>(dir_, std::vector<std::string>{"state_directory=" + state_}, false);
    server_->set_wrapper({UNIT_SANDBOX, USERCRASH_UNIT_SOURCE, UNIT_SECCOMP, "--read-write", dir_.path(), "--"});
    server_->start();
    ASSERT_TRUE(server_->running()) << server_->log();
  }
  void TearDown() override {
    server_.reset();
    ::setrlimit(RLIMIT_CORE, &saved_limit_);
  }

  // Crashes `crasher null` as nobody in `cwd`, through the kernel socket.
  std::pair<CrashResult, json> crash_as_nobody(const std::string& cwd) {
    CorePatternGuard guard("@@" + (dir_ / "run/core.sock"));
    CrashResult crash = run_crasher("/usr/bin/setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups",
                                                         "/usr/bin/env", "-C", cwd, program_.path, "null"});
    auto r = wait_for_report(server_->directory(), "usercrash_00");
    EXPECT_TRUE(eventually([] {
      return WEXITSTATUS(run({"pgrep", "-f", "usercrash_c --kernel-connection"}).status) != 0;
    }));
    return {crash, r.value_or(json())};
  }

  TempDir dir_{"/var/lib"};
  std::string state_ = dir_ / "state";
  PublicCopy program_{"crasher"};
  std::unique_ptr<ServerProcess> server_;
  rlimit saved_limit_{};
};

TEST_F(ServiceSandbox, TheServerRunsUnderTheUnitsSettings) {
  auto status = status_of(server_->pid());
  EXPECT_EQ(status["NoNewPrivs"], "1");
  EXPECT_EQ(status["Seccomp"], "2");
  // The bounding set is the unit's, capability for capability.
  std::map<std::string, int> numbers = {{"CAP_CHOWN", 0},
                                        {"CAP_DAC_OVERRIDE", 1},
                                        {"CAP_DAC_READ_SEARCH", 2},
                                        {"CAP_FOWNER", 3},
                                        {"CAP_SETGID", 6},
                                        {"CAP_SETUID", 7},
                                        {"CAP_SETPCAP", 8},
                                        {"CAP_SYS_CHROOT", 18},
                                        {"CAP_SYS_PTRACE", 19},
                                        {"CAP_SYS_ADMIN", 21},
                                        {"CAP_CHECKPOINT_RESTORE", 40}};
  uint64_t expected = 0;
  for (const auto& cap : unit_values("CapabilityBoundingSet")) {
    ASSERT_TRUE(numbers.contains(cap)) << cap << ": add its number here";
    expected |= 1ULL << numbers[cap];
  }
  EXPECT_EQ(std::stoull(status["CapBnd"], nullptr, 16), expected) << status["CapBnd"];
  // Its mounts: / read-only, a /tmp of its own, no /home.
  std::string mounts = read_file("/proc/" + std::to_string(server_->pid()) + "/mountinfo");
  std::istringstream lines(mounts);
  bool root_ro = false, own_tmp = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point, options;
    f >> id >> parent >> dev >> root >> point >> options;
    if (point == "/") root_ro = options.starts_with("ro");
    if (point == "/tmp" && line.find(" - tmpfs ") != std::string::npos) own_tmp = true;
  }
  EXPECT_TRUE(root_ro) << mounts;
  EXPECT_TRUE(own_tmp) << mounts;
  EXPECT_FALSE(exists("/proc/" + std::to_string(server_->pid()) + "/root/tmp/" +
                      std::filesystem::path(program_.path).parent_path().filename().string()));
}

TEST_F(ServiceSandbox, AnotherUsersCrashIsReportedInFull) {
  auto [crash, report] = crash_as_nobody("/");
  ASSERT_FALSE(report.is_null()) << server_->log();
  EXPECT_EQ(report["source"], "kernel_socket");
  EXPECT_EQ(report["uid"], kNobody);
  EXPECT_TRUE(report["problems"].empty()) << report["problems"].dump() << "\n" << server_->log();
  // /proc of another user's process: memory, maps, files, the kernel stack.
  EXPECT_FALSE(report["maps"].empty());
  EXPECT_FALSE(report["open_files"].empty());
  EXPECT_FALSE(report["memory_near_registers"].empty());
  EXPECT_FALSE(report["kernel_stack"].empty());
  auto names = function_names(report["threads"][0]);
  EXPECT_NE(std::find(names.begin(), names.end(), "main"), names.end()) << report["threads"][0].dump();
  // And the engine's own sandbox, inside the service's.
  ASSERT_TRUE(report["sandbox"].is_object());
  EXPECT_NE(report["sandbox"]["uid"], 0);
  EXPECT_EQ(report["sandbox"]["seccomp"], true);
  EXPECT_EQ(report["sandbox"]["landlock"], true);
}

// The previous core_pattern was "core": the kernel would have written the
// core file into the process's cwd as its user. The service's /tmp is its
// own and /home is hidden from it, yet the file lands in the real ones.
TEST_F(ServiceSandbox, CoreFilesLandInTheUsersRealTmpAndHome) {
  write_file(state_ + "/core_pattern.saved", "core\n", 0600);
  for (const std::string parent : {"/tmp", "/home"}) {
    TempDir cwd(parent);
    ASSERT_EQ(::chown(cwd.path().c_str(), kNobody, kNobody), 0);
    ::unlink((server_->directory() + "/usercrash_00").c_str());
    ::unlink((server_->directory() + "/usercrash_00.json").c_str());
    auto [crash, report] = crash_as_nobody(cwd.path());
    ASSERT_FALSE(report.is_null()) << server_->log();
    std::string core = cwd / "core";
    if (read_file("/proc/sys/kernel/core_uses_pid") == "1\n") core += "." + std::to_string(crash.pid);
    struct stat st {};
    ASSERT_EQ(::stat(core.c_str(), &st), 0)
        << parent << ": " << run({"ls", "-la", cwd.path()}).output << server_->log();
    EXPECT_EQ(st.st_uid, kNobody);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_GT(st.st_size, 0);
  }
}

// The unit's score, as systemd-analyze gives it without systemd running.
TEST(PackagingSandbox, SystemdAnalyzeScoresTheUnitAtMostFive) {
  TempDir dir;
  std::string unit = dir / "usercrash.service";
  std::string text = read_file(USERCRASH_UNIT_SOURCE);
  for (size_t at; (at = text.find("@USERCRASH_SBINDIR@")) != std::string::npos;) text.replace(at, 19, "/usr/sbin");
  write_file(unit, text);
  RunResult r = run({"systemd-analyze", "security", "--offline=yes", unit});
  size_t at = r.output.find("Overall exposure level for usercrash.service: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  double score = std::stod(r.output.substr(at + 46));
  EXPECT_LE(score, 5.0) << r.output;
}

}  // namespace
}  // namespace usercrash::test
