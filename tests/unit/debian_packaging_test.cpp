// debian/ agrees with the build: the Build-Depends of debian/control name the
// Debian package of every pkg-config module CMakeLists.txt requires (one
// added to the build but not there builds here, where scripts/setup.sh
// installed it, and fails on a clean Debian builder), and the version of
// debian/changelog is the project's.
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

namespace usercrash {
namespace {

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(USERCRASH_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

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
