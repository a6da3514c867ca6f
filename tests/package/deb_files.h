// The packages scripts/build_deb.sh made (the package_build fixture), and the
// small questions the package tests ask of them.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "e2e/harness.h"

namespace usercrash::test {

// USERCRASH_PACKAGE_DIR/PACKAGE_VERSION_ARCH.deb ("usercrash", "usercrash-dbgsym"),
// or "" when it is not there.
std::string package_file(const std::string& package);

// The paths dpkg-deb -c lists ("./usr/bin/x", directories without their
// trailing slash), and each entry's line as dpkg-deb prints it.
struct DebContents {
  std::set<std::string> paths;
  std::vector<std::string> lines;
};
DebContents deb_contents(const std::string& deb);

// dpkg-deb -x DEB DIR; DIR is returned.
std::string extract(const std::string& deb, const std::string& dir);

// The ELF programs the package ships, relative to its root.
std::vector<std::string> shipped_programs();

}  // namespace usercrash::test
