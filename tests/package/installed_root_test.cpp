// The package installed, used and purged by dpkg, maintainer scripts and
// all, in a throwaway Debian root: minbase with the package's dependencies
// (tests/package/root.packages), built once per machine by
// tests/package/throwaway_root.sh and unpacked afresh for each test. Every command runs there through chroot, in a
// private mount namespace that holds the root's /proc, so nothing stays
// mounted whatever happens to the test. systemd is not PID 1 there, as in
// any chroot, container or image build: the scripts must enable the socket
// without trying to start anything.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "package/deb_files.h"

namespace usercrash::test {
namespace {

namespace fs = std::filesystem;

// One line per file of the root: type, mode, owner, and size and mtime for
// a file, the target for a link. What a purge must leave as it found it.
using Snapshot = std::map<std::string, std::string>;

Snapshot snapshot(const std::string& root) {
  Snapshot files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string path = it->path().string().substr(root.size());
    if (path == "/proc" || path == "/dev" || path == "/sys" || path == "/tmp") {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::ostringstream line;
    line << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
    if (S_ISREG(st.st_mode)) line << " " << st.st_size << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    if (S_ISLNK(st.st_mode)) line << " -> " << fs::read_symlink(it->path()).string();
    files[path] = line.str();
  }
  return files;
}

// What dpkg itself keeps of a purged package, and the system user the
// package leaves on purge (as Debian's packages do: a file it may own
// elsewhere must not pass to a later user of the same uid).
bool expected_after_purge(const std::string& path) {
  if (path.starts_with("/var/lib/dpkg/") || path == "/var/log/dpkg.log") return true;
  for (const char* db : {"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"})
    if (path == db || path == std::string(db) + "-") return true;
  return false;
}

// "a (>= 1), b | c" → "a (>= 1)", "b | c".
std::vector<std::string> lines_of_commas(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \n"));
    item.erase(item.find_last_not_of(" \n") + 1);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

class InstalledRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    deb_ = package_file("usercrash");
    ASSERT_FALSE(deb_.empty()) << "no usercrash .deb in " << USERCRASH_PACKAGE_DIR;
    RunResult made = run({std::string(USERCRASH_SOURCE_DIR) + "/tests/package/throwaway_root.sh"});
    ASSERT_EQ(exit_code(made), 0) << made.output;
    std::string tarball = made.output.substr(made.output.rfind('\n', made.output.size() - 2) + 1);
    tarball.pop_back();
    root_ = dir_ / "root";
    fs::create_directory(root_);
    RunResult unpacked = run({"tar", "-xpf", tarball, "-C", root_});
    ASSERT_EQ(exit_code(unpacked), 0) << unpacked.output;
    fs::copy_file(deb_, root_ + "/tmp/usercrash.deb");
  }

  // SCRIPT run by sh in the root, as root, with a clean environment.
  RunResult in_root(const std::string& script) {
    return run({"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                "mount -t proc proc \"$1/proc\" && exec chroot \"$1\" /usr/bin/env -i "
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 /bin/sh -c \"$2\"",
                "sh", root_, script});
  }

  bool in_root_exists(const std::string& path) {
    struct stat st {};
    return ::lstat((root_ + path).c_str(), &st) == 0;
  }

  TempDir dir_;
  std::string root_;
  std::string deb_;
};

TEST_F(InstalledRoot, InstallsWorksAndPurgesWithoutATrace) {
  // Whatever enable and purge do to core_pattern happens to this machine's
  // kernel: the guard holds the tests' lock and puts it back.
  CorePatternGuard guard("core", 0);
  Snapshot before = snapshot(root_);

  // The root holds what the package depends on (dpkg -i has no network).
  RunResult depends = run({"dpkg-deb", "-f", deb_, "Depends"});
  for (std::string dependency; const auto& alternatives : lines_of_commas(depends.output)) {
    dependency = alternatives.substr(0, alternatives.find_first_of(" (|"));
    EXPECT_EQ(exit_code(in_root("dpkg-query -W " + dependency)), 0)
        << dependency << " is not in the root: add it to tests/package/root.packages";
  }

  // Install: the user, the directories, the socket enabled but nothing
  // started (no systemd running here).
  RunResult install = in_root("dpkg -i /tmp/usercrash.deb");
  ASSERT_EQ(exit_code(install), 0) << install.output;
  RunResult user = in_root("getent passwd usercrash");
  EXPECT_EQ(exit_code(user), 0) << user.output;
  EXPECT_NE(user.output.find(":/nonexistent:/usr/sbin/nologin"), std::string::npos) << user.output;
  std::istringstream fields(user.output);
  std::string name, password, uid;
  std::getline(fields, name, ':');
  std::getline(fields, password, ':');
  std::getline(fields, uid, ':');
  EXPECT_LT(std::stoi(uid), 1000) << "not a system user: " << user.output;
  struct stat st {};
  ASSERT_EQ(::stat((root_ + "/var/log/usercrashes").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat((root_ + "/var/lib/usercrash").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_TRUE(in_root_exists("/run/usercrash"));
  EXPECT_TRUE(fs::is_directory(root_ + "/etc/usercrash.conf.d")) << "the drop-in directory, empty";
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink(root_ + "/etc/systemd/system/sockets.target.wants/usercrash.socket", ec),
            "/lib/systemd/system/usercrash.socket")
      << ec.message();
  EXPECT_FALSE(in_root_exists("/etc/systemd/system/multi-user.target.wants/usercrash.service"));

  // Used from the installed files and their defaults (/etc/usercrash.conf):
  // the server, a report of a process, the list.
  RunResult used = in_root(
      "usercrash_s & server=$!\n"
      "i=0; while [ ! -S /run/usercrash/usercrash.sock ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n"
      "sleep 60 & sleeper=$!\n"
      "echo \"sleeper $sleeper\"\n"
      "usercrash_c $sleeper sleep 11; echo \"client $?\"\n"
      "kill $sleeper\n"
      "usercrashctl list\n"
      "kill $server; wait $server; echo \"server $?\"\n");
  EXPECT_NE(used.output.find("client 0\n"), std::string::npos) << used.output;
  EXPECT_NE(used.output.find("server 0\n"), std::string::npos) << used.output;
  size_t at = used.output.find("sleeper ");
  ASSERT_NE(at, std::string::npos) << used.output;
  std::string pid = used.output.substr(at + 8, used.output.find('\n', at) - at - 8);
  auto report = wait_for_report(root_ + "/var/log/usercrashes", "usercrash_00", std::chrono::seconds(1));
  ASSERT_TRUE(report) << used.output;
  EXPECT_EQ((*report)["pid"], std::stoi(pid));
  EXPECT_NE(used.output.find(" " + pid + " "), std::string::npos) << "usercrashctl list:\n" << used.output;

  // An ordinary user finds debugger on the PATH a login gives it.
  RunResult debugger = in_root(
      "setpriv --reuid=65534 --regid=65534 --clear-groups env PATH=/usr/local/bin:/usr/bin:/bin "
      "sh -c 'command -v usercrash-debugger && usercrash-debugger --version'");
  EXPECT_EQ(exit_code(debugger), 0) << debugger.output;
  EXPECT_EQ(debugger.output, std::string("/usr/bin/usercrash-debugger\ndebugger ") + USERCRASH_VERSION + "\n");

  // enable points this kernel at the installed client, and says so.
  RunResult enable = in_root("usercrashctl enable && usercrashctl status");
  EXPECT_EQ(exit_code(enable), 0) << enable.output;
  std::string pattern = read_file("/proc/sys/kernel/core_pattern");
  EXPECT_TRUE(pattern.starts_with("|/usr/sbin/usercrash_c ")) << pattern;
  EXPECT_FALSE(fs::is_empty(root_ + "/var/lib/usercrash")) << "nothing saved by enable: " << enable.output;

  // An upgrade (the same version again) keeps usercrash enabled.
  RunResult upgrade = in_root("dpkg -i /tmp/usercrash.deb");
  EXPECT_EQ(exit_code(upgrade), 0) << upgrade.output;
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), pattern);

  // Remove: core_pattern as it was before enable, the programs gone, the
  // configuration and the reports kept.
  RunResult remove = in_root("dpkg --remove usercrash");
  EXPECT_EQ(exit_code(remove), 0) << remove.output;
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), "core\n") << remove.output;
  EXPECT_FALSE(in_root_exists("/usr/sbin/usercrash_c"));
  EXPECT_FALSE(in_root_exists("/run/usercrash"));
  EXPECT_TRUE(in_root_exists("/etc/usercrash.conf"));
  EXPECT_TRUE(in_root_exists("/var/log/usercrashes/usercrash_00"));

  // Purge: nothing of usercrash left but its system user.
  RunResult purge = in_root("dpkg --purge usercrash");
  EXPECT_EQ(exit_code(purge), 0) << purge.output;
  EXPECT_EQ(exit_code(in_root("getent passwd usercrash")), 0);
  Snapshot after = snapshot(root_);
  for (const auto& [path, line] : after) {
    auto was = before.find(path);
    if (expected_after_purge(path)) continue;
    EXPECT_TRUE(was != before.end()) << "left by the package: " << path << " " << line;
    if (was != before.end()) {
      EXPECT_EQ(line, was->second) << "changed by the package: " << path;
    }
  }
  for (const auto& [path, line] : before)
    EXPECT_TRUE(after.contains(path) || expected_after_purge(path)) << "removed by the package: " << path;
}

}  // namespace
}  // namespace usercrash::test
