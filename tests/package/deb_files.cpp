#include "package/deb_files.h"

#include <sys/wait.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

namespace usercrash::test {

namespace fs = std::filesystem;

std::string package_file(const std::string& package) {
  std::string name = package + "_" + USERCRASH_VERSION + "_";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(USERCRASH_PACKAGE_DIR, ec)) {
    std::string file = e.path().filename();
    if (file.starts_with(name) && file.ends_with(".deb")) return e.path();
  }
  return {};
}

DebContents deb_contents(const std::string& deb) {
  DebContents contents;
  RunResult list = run({"dpkg-deb", "-c", deb});
  EXPECT_EQ(exit_code(list), 0) << list.output;
  std::istringstream in(list.output);
  std::string line;
  while (std::getline(in, line)) {
    // "-rwxr-xr-x root/root 12345 2025-01-01 00:00 ./usr/bin/x[ -> target]"
    size_t at = line.find(" ./");
    if (at == std::string::npos) continue;
    std::string path = line.substr(at + 1);
    if (size_t arrow = path.find(" -> "); arrow != std::string::npos) path = path.substr(0, arrow);
    if (path.ends_with('/') && path != "./") path.pop_back();
    contents.paths.insert(path);
    contents.lines.push_back(line);
  }
  return contents;
}

std::string extract(const std::string& deb, const std::string& dir) {
  RunResult x = run({"dpkg-deb", "-x", deb, dir});
  EXPECT_EQ(exit_code(x), 0) << x.output;
  return dir;
}

std::vector<std::string> shipped_programs() {
  return {"/usr/sbin/usercrash_s", "/usr/sbin/usercrash_c", "/usr/sbin/debugger", "/usr/bin/usercrashctl"};
}

}  // namespace usercrash::test
