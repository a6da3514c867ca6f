// The Debian package (built by the package_build fixture: cpack in the build
// directory) and the install tree: what they hold, and that the programs
// run from where they were put.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

namespace fs = std::filesystem;

int exit_code(const RunResult& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

std::string deb_path() {
  std::string prefix = std::string("usercrash_") + USERCRASH_VERSION + "_";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(USERCRASH_PACKAGE_DIR, ec)) {
    std::string name = e.path().filename();
    if (name.starts_with(prefix) && name.ends_with(".deb")) return e.path();
  }
  return {};
}

// Every path the package must hold (as dpkg-deb -c prints them).
std::vector<std::string> expected_files() {
  std::vector<std::string> files = {
      "./usr/bin/usercrashctl",
      "./usr/bin/crashlogctl",
      "./usr/sbin/usercrash_s",
      "./usr/sbin/usercrash_c",
      "./etc/usercrash.conf",
      "./usr/lib/systemd/system/usercrash.service",
      "./usr/lib/systemd/system/usercrash.socket",
      "./usr/lib/sysctl.d/50-usercrash.conf",
      "./usr/lib/tmpfiles.d/usercrash.conf",
      "./usr/share/man/man1/usercrashctl.1.gz",
      "./usr/share/man/man1/crashlogctl.1.gz",
      "./usr/share/man/man5/usercrash.conf.5.gz",
      "./usr/share/man/man8/usercrash_s.8.gz",
      "./usr/share/man/man8/usercrash_c.8.gz",
      "./usr/share/man/man8/debugger.8.gz",
      "./usr/sbin/debugger",
  };
  return files;
}

class Package : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    deb_ = deb_path();
    ASSERT_FALSE(deb_.empty()) << "no usercrash .deb in " << USERCRASH_PACKAGE_DIR
                               << " (the package_build test makes it)";
  }

  // dpkg-deb -x into DIR/r (a short path: the core_pattern line must fit).
  std::string extract(const TempDir& dir) {
    std::string root = dir / "r";
    RunResult x = run({"dpkg-deb", "-x", deb_, root});
    EXPECT_EQ(exit_code(x), 0) << x.output;
    return root;
  }

  std::string deb_;
};

TEST_F(Package, HoldsEveryFileAndItsControlData) {
  RunResult list = run({"dpkg-deb", "-c", deb_});
  ASSERT_EQ(exit_code(list), 0) << list.output;
  std::set<std::string> paths;
  std::istringstream in(list.output);
  std::string line;
  while (std::getline(in, line)) {
    // "-rwxr-xr-x root/root 12345 2025-01-01 00:00 ./usr/bin/x[ -> target]"
    size_t at = line.find(" ./");
    if (at == std::string::npos) continue;
    std::string path = line.substr(at + 1);
    size_t arrow = path.find(" -> ");
    if (arrow != std::string::npos) path = path.substr(0, arrow);
    if (path.ends_with('/')) path.pop_back();
    paths.insert(path);
    if (path == "./usr/bin/crashlogctl") EXPECT_NE(line.find("-> usercrashctl"), std::string::npos) << line;
    if (path.starts_with("./usr/sbin/") || path == "./usr/bin/usercrashctl")
      EXPECT_TRUE(line.starts_with("-rwxr-xr-x root/root")) << line;
  }
  for (const auto& f : expected_files()) EXPECT_TRUE(paths.contains(f)) << f << " missing from\n" << list.output;
  // Nothing from the build or the tests.
  for (const auto& p : paths) {
    EXPECT_EQ(p.find("test"), std::string::npos) << p;
    EXPECT_EQ(p.find("crasher"), std::string::npos) << p;
  }

  RunResult fields = run({"dpkg-deb", "-f", deb_, "Package", "Version", "Depends", "Recommends"});
  ASSERT_EQ(exit_code(fields), 0) << fields.output;
  EXPECT_NE(fields.output.find("Package: usercrash\n"), std::string::npos) << fields.output;
  EXPECT_NE(fields.output.find(std::string("Version: ") + USERCRASH_VERSION), std::string::npos) << fields.output;
  // Computed by dpkg-shlibdeps from what the programs link.
  for (const char* lib : {"libdw1", "libelf1", "libcapstone", "libzstd1", "libsystemd0", "libc6"})
    EXPECT_NE(fields.output.find(lib), std::string::npos) << lib << " not in\n" << fields.output;
  EXPECT_NE(fields.output.find("Recommends: gdb"), std::string::npos) << fields.output;

  RunResult conffiles = run({"dpkg-deb", "-I", deb_, "conffiles"});
  EXPECT_EQ(conffiles.output, "/etc/usercrash.conf\n");
  RunResult prerm = run({"dpkg-deb", "-I", deb_, "prerm"});
  EXPECT_NE(prerm.output.find("usercrashctl disable"), std::string::npos) << prerm.output;
}

TEST_F(Package, ExtractedProgramsRunFromTheirRoot) {
  TempDir dir;
  std::string root = extract(dir);
  for (auto [path, name] : std::vector<std::pair<std::string, std::string>>{{"/usr/bin/usercrashctl", "usercrashctl"},
                                                                            {"/usr/bin/crashlogctl", "crashlogctl"},
                                                                            {"/usr/sbin/usercrash_s", "usercrash_s"},
                                                                            {"/usr/sbin/usercrash_c", "usercrash_c"}}) {
    RunResult help = run({root + path, "--help"});
    EXPECT_EQ(exit_code(help), 0) << path << ": " << help.output;
    EXPECT_TRUE(help.output.starts_with("Usage: " + name)) << path << ": " << help.output;
    RunResult version = run({root + path, "--version"});
    EXPECT_EQ(version.output, name + " " + USERCRASH_VERSION + "\n") << path;
  }
  // The man pages are whole gzip files holding scdoc's output.
  for (const auto& f : expected_files()) {
    if (!f.ends_with(".gz")) continue;
    RunResult page = run({"gzip", "-dc", root + f.substr(1)});
    EXPECT_EQ(exit_code(page), 0) << f;
    EXPECT_TRUE(page.output.find(".TH ") != std::string::npos || page.output.starts_with(".so ")) << f;
  }
  // The unit starts the server where the package put it.
  std::string unit = read_file(root + "/usr/lib/systemd/system/usercrash.service");
  EXPECT_NE(unit.find("\nExecStart=/usr/sbin/usercrash_s\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos) << unit;
  std::string socket = read_file(root + "/usr/lib/systemd/system/usercrash.socket");
  EXPECT_NE(socket.find("\nListenSequentialPacket=/run/usercrash/usercrash.sock\n"), std::string::npos) << socket;
}

TEST_F(Package, ExtractedServerAndClientWriteAReport) {
  TempDir dir;
  std::string root = extract(dir);
  ServerProcess config(dir, {}, /*start=*/false);
  pid_t server = ::fork();
  if (server == 0) {
    std::string exe = root + "/usr/sbin/usercrash_s", log = dir / "server.log";
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(exe.c_str(), exe.c_str(), "--config", config.config().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!exists(config.socket()) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(exists(config.socket())) << read_file(dir / "server.log");

  Sleeper sleeping;
  pid_t sleeper = sleeping.pid();
  RunResult client =
      run({root + "/usr/sbin/usercrash_c", "--config", config.config(), std::to_string(sleeper), "sleep", "11"});
  sleeping.stop();
  EXPECT_EQ(exit_code(client), 0) << client.output;
  auto report = wait_for_report(config.directory(), "usercrash_00");
  ASSERT_TRUE(report) << read_file(dir / "server.log");
  EXPECT_EQ((*report)["pid"], sleeper);
  EXPECT_EQ(client.output.find("myself"), std::string::npos) << client.output;

  RunResult list = run({root + "/usr/bin/usercrashctl", "--config", config.config(), "list"});
  EXPECT_EQ(exit_code(list), 0) << list.output;
  EXPECT_NE(list.output.find(" " + std::to_string(sleeper) + " "), std::string::npos) << list.output;
  ::kill(server, SIGTERM);
  int status = 0;
  ::waitpid(server, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir / "server.log");
}

TEST_F(Package, ExtractedPackageCollectsACrashThroughTheKernel) {
  TempDir dir;
  std::string root = extract(dir);
  // The config at a short path: it goes into the core_pattern line.
  std::string conf = dir / "c";
  write_file(conf,
             "directory=" + dir / "crashes" + "\nsocket=" + dir / "s.sock" + "\nkernel_socket=" + dir / "k.sock" +
                 "\nstate_directory=" + dir / "state" + "\n",
             0644);
  CorePatternGuard guard("core", 0);
  RunResult on = run({root + "/usr/bin/usercrashctl", "--config", conf, "enable"});
  ASSERT_EQ(exit_code(on), 0) << on.output;
  // The installed usercrashctl found the installed client in ../sbin.
  std::string pattern = read_file("/proc/sys/kernel/core_pattern");
  EXPECT_TRUE(pattern.starts_with("|" + root + "/usr/sbin/usercrash_c -c " + conf + " ")) << pattern;

  CrashResult crash = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(dir / "crashes", "usercrash_00");
  ASSERT_TRUE(report);
  EXPECT_EQ((*report)["pid"], crash.pid);
  EXPECT_EQ((*report)["signal"]["name"], "SIGSEGV");

  RunResult off = run({root + "/usr/bin/usercrashctl", "--config", conf, "disable"});
  EXPECT_EQ(exit_code(off), 0) << off.output;
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), "core\n");
}

TEST(InstallTree, IsAnFhsTreeUnderThePrefixAndTheUnitsVerify) {
  REQUIRE_ROOT();
  TempDir dir;
  std::string prefix = dir / "prefix";
  RunResult install = run({CMAKE_COMMAND, "--install", USERCRASH_BUILD_DIR, "--prefix", prefix});
  ASSERT_EQ(exit_code(install), 0) << install.output;
  std::vector<std::string> files = {"bin/usercrashctl",
                                    "bin/crashlogctl",
                                    "sbin/usercrash_s",
                                    "sbin/usercrash_c",
                                    "etc/usercrash.conf",
                                    "lib/systemd/system/usercrash.service",
                                    "lib/systemd/system/usercrash.socket",
                                    "lib/sysctl.d/50-usercrash.conf",
                                    "lib/tmpfiles.d/usercrash.conf",
                                    "share/man/man1/usercrashctl.1.gz",
                                    "share/man/man5/usercrash.conf.5.gz",
                                    "share/man/man8/usercrash_s.8.gz"};
  for (const auto& f : files) EXPECT_TRUE(exists(prefix + "/" + f)) << f;
  std::string unit = read_file(prefix + "/lib/systemd/system/usercrash.service");
  EXPECT_NE(unit.find("\nExecStart=" + prefix + "/sbin/usercrash_s\n"), std::string::npos) << unit;
  EXPECT_EQ(read_file(prefix + "/etc/usercrash.conf"),
            read_file(std::string(USERCRASH_SOURCE_DIR) + "/packaging/usercrash.conf"));

  if (run({"sh", "-c", "command -v systemd-analyze"}).status != 0) GTEST_SKIP() << "systemd-analyze not installed";
  // With MANPATH on the tree, verify also finds every man page the units name.
  RunResult verify =
      run({"env", "MANPATH=" + prefix + "/share/man", "systemd-analyze", "verify",
           prefix + "/lib/systemd/system/usercrash.service", prefix + "/lib/systemd/system/usercrash.socket"});
  EXPECT_EQ(exit_code(verify), 0) << verify.output;
  EXPECT_EQ(verify.output, "") << "warnings:\n" << verify.output;
}

}  // namespace
}  // namespace usercrash::test
