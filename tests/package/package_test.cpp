// The Debian package (built by the package_build fixture: scripts/build_deb.sh,
// dpkg-buildpackage with debian/rules) and the install tree: what they hold,
// and that the programs run from where they were put.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "package/deb_files.h"

namespace usercrash::test {
namespace {

// Every path the package must hold (as dpkg-deb -c prints them). Units in
// /lib/systemd/system, where Debian 12's systemd and debhelper have them.
std::vector<std::string> expected_files() {
  return {
      "./usr/bin/usercrashctl",
      "./usr/bin/crashlogctl",
      "./usr/bin/usercrash-debugger",
      "./usr/sbin/usercrash_s",
      "./usr/sbin/usercrash_c",
      "./usr/sbin/debugger",
      "./etc/usercrash.conf",
      "./lib/systemd/system/usercrash.service",
      "./lib/systemd/system/usercrash.socket",
      "./usr/lib/sysctl.d/50-usercrash.conf",
      "./usr/lib/sysusers.d/usercrash.conf",
      "./usr/lib/tmpfiles.d/usercrash.conf",
      "./usr/share/doc/usercrash/copyright",
      "./usr/share/doc/usercrash/changelog.gz",
      "./usr/share/man/man1/usercrashctl.1.gz",
      "./usr/share/man/man1/crashlogctl.1.gz",
      "./usr/share/man/man1/usercrash-debugger.1.gz",
      "./usr/share/man/man5/usercrash.conf.5.gz",
      "./usr/share/man/man8/usercrash_s.8.gz",
      "./usr/share/man/man8/usercrash_c.8.gz",
      "./usr/share/man/man8/debugger.8.gz",
      "./usr/share/bash-completion/completions/usercrashctl",
      "./usr/share/bash-completion/completions/debugger",
      "./usr/share/zsh/vendor-completions/_usercrashctl",
      "./usr/share/zsh/vendor-completions/_debugger",
  };
}

class Package : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    deb_ = package_file("usercrash");
    ASSERT_FALSE(deb_.empty()) << "no usercrash .deb in " << USERCRASH_PACKAGE_DIR
                               << " (the package_build test makes it)";
  }

  // dpkg-deb -x into DIR/r (a short path: the core_pattern line must fit).
  std::string extract(const TempDir& dir) { return test::extract(deb_, dir / "r"); }

  std::string deb_;
};

TEST_F(Package, HoldsEveryFileAndItsControlData) {
  DebContents contents = deb_contents(deb_);
  for (const auto& line : contents.lines) {
    if (line.starts_with("d")) continue;
    if (line.ends_with(" ./usr/bin/crashlogctl -> usercrashctl")) continue;
    if (line.ends_with(" ./usr/bin/usercrash-debugger -> ../sbin/debugger")) continue;
    if (line.find(" ./usr/sbin/") != std::string::npos || line.find(" ./usr/bin/") != std::string::npos) {
      EXPECT_TRUE(line.starts_with("-rwxr-xr-x root/root")) << line;
    }
  }
  std::string listing;
  for (const auto& line : contents.lines) listing += line + "\n";
  for (const auto& f : expected_files()) EXPECT_TRUE(contents.paths.contains(f)) << f << " missing from\n" << listing;
  EXPECT_NE(listing.find(" ./usr/bin/crashlogctl -> usercrashctl\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(" ./usr/bin/usercrash-debugger -> ../sbin/debugger\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(" ./usr/share/bash-completion/completions/crashlogctl -> usercrashctl\n"), std::string::npos)
      << listing;
  EXPECT_NE(listing.find(" ./usr/share/bash-completion/completions/usercrash-debugger -> debugger\n"),
            std::string::npos)
      << listing;
  // Nothing from the build or the tests.
  for (const auto& p : contents.paths) {
    EXPECT_EQ(p.find("test"), std::string::npos) << p;
    EXPECT_EQ(p.find("crasher"), std::string::npos) << p;
    EXPECT_EQ(p.find("bench"), std::string::npos) << p;
  }

  RunResult fields = run({"dpkg-deb", "-f", deb_, "Package", "Version", "Architecture", "Depends", "Recommends"});
  ASSERT_EQ(exit_code(fields), 0) << fields.output;
  EXPECT_NE(fields.output.find("Package: usercrash\n"), std::string::npos) << fields.output;
  EXPECT_NE(fields.output.find(std::string("Version: ") + USERCRASH_VERSION + "\n"), std::string::npos)
      << fields.output;
  EXPECT_NE(fields.output.find("Architecture: amd64\n"), std::string::npos) << fields.output;
  // Computed by dpkg-shlibdeps from what the programs link, the libraries
  // they dlopen (debian/control), and systemd-sysusers for the postinst.
  for (const char* dependency : {"libdw1", "libelf1", "libcapstone", "libzstd1", "libsystemd0", "libc6",
                                 "systemd | systemd-standalone-sysusers | systemd-sysusers"}) {
    EXPECT_NE(fields.output.find(dependency), std::string::npos) << dependency << " not in\n" << fields.output;
  }
  EXPECT_NE(fields.output.find("Recommends: gdb"), std::string::npos) << fields.output;

  // The drop-in directory usercrash.conf(5) reads, shipped empty: the place
  // for an administrator's files is there to see.
  bool drop_ins = false;
  for (const auto& line : contents.lines)
    if (line.ends_with(" ./etc/usercrash.conf.d/")) drop_ins = line.starts_with("drwxr-xr-x root/root");
  EXPECT_TRUE(drop_ins) << listing;
  for (const auto& p : contents.paths) EXPECT_FALSE(p.starts_with("./etc/usercrash.conf.d/")) << p << ": not empty";
  RunResult conffiles = run({"dpkg-deb", "-I", deb_, "conffiles"});
  EXPECT_EQ(conffiles.output, "/etc/usercrash.conf\n");
}

TEST_F(Package, ExtractedProgramsRunFromTheirRoot) {
  TempDir dir;
  std::string root = extract(dir);
  for (auto [path, name] :
       std::vector<std::pair<std::string, std::string>>{{"/usr/bin/usercrashctl", "usercrashctl"},
                                                        {"/usr/bin/crashlogctl", "crashlogctl"},
                                                        {"/usr/sbin/usercrash_s", "usercrash_s"},
                                                        {"/usr/sbin/usercrash_c", "usercrash_c"},
                                                        {"/usr/sbin/debugger", "debugger"},
                                                        {"/usr/bin/usercrash-debugger", "debugger"}}) {
    RunResult help = run({root + path, "--help"});
    EXPECT_EQ(exit_code(help), 0) << path << ": " << help.output;
    EXPECT_TRUE(help.output.starts_with("Usage: " + name)) << path << ": " << help.output;
    RunResult version = run({root + path, "--version"});
    EXPECT_EQ(version.output, name + " " + USERCRASH_VERSION + "\n") << path;
  }
  // The man pages are whole gzip files holding scdoc's output.
  for (const auto& f : expected_files()) {
    if (!f.starts_with("./usr/share/man/")) continue;
    RunResult page = run({"gzip", "-dc", root + f.substr(1)});
    EXPECT_EQ(exit_code(page), 0) << f;
    EXPECT_TRUE(page.output.find(".TH ") != std::string::npos || page.output.starts_with(".so ")) << f;
  }
  // The unit starts the server where the package put it.
  std::string unit = read_file(root + "/lib/systemd/system/usercrash.service");
  EXPECT_NE(unit.find("\nExecStart=/usr/sbin/usercrash_s\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos) << unit;
  std::string socket = read_file(root + "/lib/systemd/system/usercrash.socket");
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
                                    "bin/usercrash-debugger",
                                    "sbin/debugger",
                                    "sbin/usercrash_s",
                                    "sbin/usercrash_c",
                                    "etc/usercrash.conf",
                                    "lib/systemd/system/usercrash.service",
                                    "lib/systemd/system/usercrash.socket",
                                    "lib/sysctl.d/50-usercrash.conf",
                                    "lib/tmpfiles.d/usercrash.conf",
                                    "lib/sysusers.d/usercrash.conf",
                                    "share/man/man1/usercrashctl.1.gz",
                                    "share/man/man1/usercrash-debugger.1.gz",
                                    "share/man/man5/usercrash.conf.5.gz",
                                    "share/man/man8/usercrash_s.8.gz",
                                    "share/bash-completion/completions/usercrashctl",
                                    "share/zsh/vendor-completions/_usercrashctl",
                                    "share/zsh/vendor-completions/_debugger"};
  for (const auto& f : files) EXPECT_TRUE(exists(prefix + "/" + f)) << f;
  // bash-completion loads a command's completion by its name from the tree's
  // share/bash-completion (found through XDG_DATA_DIRS), both names of each.
  RunResult loaded = run({"env", "XDG_DATA_DIRS=" + prefix + "/share", "bash", "-c",
                          "source /usr/share/bash-completion/bash_completion && "
                          "for c in usercrashctl crashlogctl debugger usercrash-debugger; do "
                          "_completion_loader $c; complete -p $c; done"});
  EXPECT_EQ(loaded.output,
            "complete -F _usercrashctl usercrashctl\ncomplete -F _usercrashctl crashlogctl\n"
            "complete -F _usercrash_debugger debugger\ncomplete -F _usercrash_debugger usercrash-debugger\n");
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
