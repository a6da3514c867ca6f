// The shipped sample configuration and the man pages document every key,
// with the defaults the code has.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"

namespace usercrash {
namespace {

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(USERCRASH_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PackagingDocs, SampleConfigShowsEveryKeyWithItsDefault) {
  std::string sample = source_file("packaging/usercrash.conf");
  ASSERT_FALSE(sample.empty());
  // Everything is commented out: the sample changes nothing.
  auto as_is = config::parse(sample, "usercrash.conf");
  ASSERT_TRUE(as_is) << as_is.error().message;
  EXPECT_EQ(config::dump(*as_is), config::dump(config::Config{}));

  // Uncommenting every "#key=value" line gives the defaults again: the
  // values shown are the real ones.
  std::string uncommented;
  // A setting line: "#" then a key of [a-z_] then "=".
  auto setting = [](const std::string& line) -> std::optional<std::string> {
    if (line.size() < 3 || line[0] != '#') return std::nullopt;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 1) return std::nullopt;
    for (size_t i = 1; i < eq; ++i)
      if (!(std::islower(static_cast<unsigned char>(line[i])) || line[i] == '_')) return std::nullopt;
    return line.substr(1);
  };
  std::istringstream lines(sample);
  std::string line;
  std::vector<std::string> shown;
  while (std::getline(lines, line)) {
    if (auto kv = setting(line)) {
      uncommented += *kv + "\n";
      shown.push_back(kv->substr(0, kv->find('=')));
    }
  }
  auto parsed = config::parse(uncommented, "uncommented");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(config::dump(*parsed), config::dump(config::Config{}));
  EXPECT_EQ(shown.size(), config::keys().size());
  for (const auto& key : config::keys())
    EXPECT_NE(std::find(shown.begin(), shown.end(), key), shown.end())
        << key << " missing from packaging/usercrash.conf";
}

TEST(PackagingDocs, ConfigManPageDocumentsEveryKey) {
  std::string page = source_file("packaging/man/usercrash.conf.5.scd");
  ASSERT_FALSE(page.empty());
  for (const auto& key : config::keys())
    EXPECT_NE(page.find("\n*" + key + "* = "), std::string::npos) << key << " missing from usercrash.conf(5)";
}

TEST(PackagingDocs, UsercrashctlManPageDocumentsEveryCommand) {
  std::string page = source_file("packaging/man/usercrashctl.1.scd");
  for (const char* verb : {"enable", "disable", "status", "is-active", "list", "info", "debug", "gdb", "dump",
                           "analyze", "clean", "symbolize"})
    EXPECT_NE(page.find(std::string("\n*") + verb + "*"), std::string::npos) << verb;
  EXPECT_NE(page.find("# CORE_PIPE_LIMIT"), std::string::npos);
}

// debian/ agrees with the build: the Build-Depends of debian/control name the
// Debian package of every pkg-config module CMakeLists.txt requires (one
// added to the build but not there builds here, where scripts/setup.sh
// installed it, and fails on a clean Debian builder), and the version of
// debian/changelog is the project's.
// The standard output of a shell command (its arguments are ours).
std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

// "Build-Depends: a (>= 1), b <!nocheck>,\n c" → {a, b, c}
std::set<std::string> build_depends(const std::string& control) {
  size_t at = control.find("\nBuild-Depends:");
  size_t end = control.find("\n", at + 1);
  while (end != std::string::npos && end + 1 < control.size() && control[end + 1] == ' ')
    end = control.find("\n", end + 1);
  std::istringstream field(control.substr(at + 15, end - at - 15));
  std::set<std::string> names;
  for (std::string item; std::getline(field, item, ',');) {
    std::istringstream words(item);
    std::string name;
    if (words >> name) names.insert(name);
  }
  return names;
}

TEST(DebianPackaging, BuildDependsNameEveryPkgConfigModuleOfTheBuild) {
  std::set<std::string> depends = build_depends(source_file("debian/control"));
  ASSERT_TRUE(depends.contains("debhelper-compat")) << "no Build-Depends in debian/control";
  // pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw) → libdw
  std::istringstream cmake(source_file("CMakeLists.txt"));
  std::vector<std::string> modules;
  for (std::string line; std::getline(cmake, line);) {
    if (!line.starts_with("pkg_check_modules(")) continue;
    std::string module = line.substr(line.rfind(' ') + 1);
    modules.push_back(module.substr(0, module.find(')')));
  }
  std::string paths;
  for (const auto& module : modules) {
    std::string pc = output_of("pkg-config --path " + module);
    ASSERT_FALSE(pc.empty()) << module << ": no .pc file (scripts/setup.sh installs the -dev packages)";
    paths += " " + pc.substr(0, pc.find('\n'));
  }
  // One dpkg -S for all ("libdw-dev:amd64: /usr/lib/x86_64-linux-gnu/pkgconfig/libdw.pc").
  std::istringstream owners(output_of("dpkg -S" + paths));
  size_t found = 0;
  for (std::string owner; std::getline(owners, owner); ++found) {
    std::string package = owner.substr(0, owner.find_first_of(":,"));
    EXPECT_TRUE(depends.contains(package)) << owner << ": debian/control's Build-Depends do not name " << package;
  }
  EXPECT_EQ(found, modules.size()) << paths;
  EXPECT_GE(modules.size(), 5u);
}

TEST(DebianPackaging, ChangelogVersionIsTheProjectVersion) {
  std::string changelog = source_file("debian/changelog");
  EXPECT_TRUE(changelog.starts_with(std::string("usercrash (") + USERCRASH_VERSION + ") ")) << changelog.substr(0, 80);
}

}  // namespace
}  // namespace usercrash
