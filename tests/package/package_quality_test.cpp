// What makes the .deb a Debian package and not only an archive: lintian has
// nothing to say, the programs are hardened with dpkg-buildflags' flags,
// their debug symbols are in usercrash-dbgsym under the build-id, and the
// man pages carry the changelog's date, not the build's.
#include <sys/wait.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "package/deb_files.h"

namespace usercrash::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The first line of TEXT that holds KEY, or "".
std::string line_with(const std::string& text, const std::string& key) {
  for (const auto& line : lines_of(text))
    if (line.find(key) != std::string::npos) return line;
  return {};
}

std::string changelog() { return std::string(USERCRASH_SOURCE_DIR) + "/debian/changelog"; }

// "3f2a…" from readelf -n's "Build ID: 3f2a…".
std::string build_id(const std::string& elf) {
  RunResult notes = run({"readelf", "-n", elf});
  size_t at = notes.output.find("Build ID: ");
  if (at == std::string::npos) return {};
  return words_of(notes.output.substr(at + 10)).front();
}

class PackageQuality : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    deb_ = package_file("usercrash");
    dbgsym_ = package_file("usercrash-dbgsym");
    ASSERT_FALSE(deb_.empty()) << "no usercrash .deb in " << USERCRASH_PACKAGE_DIR;
    ASSERT_FALSE(dbgsym_.empty()) << "no usercrash-dbgsym .deb in " << USERCRASH_PACKAGE_DIR;
  }

  std::string deb_, dbgsym_;
};

TEST_F(PackageQuality, LintianFindsNoErrorsAndNoWarnings) {
  // The .changes names both packages and the .buildinfo; the .dsc is the
  // source package (debian/ itself is checked there).
  std::string dir = USERCRASH_PACKAGE_DIR;
  std::string changes = dir + "/usercrash_" + USERCRASH_VERSION + "_amd64.changes";
  std::string dsc = dir + "/source/usercrash_" + USERCRASH_VERSION + ".dsc";
  ASSERT_TRUE(exists(changes)) << changes;
  ASSERT_TRUE(exists(dsc)) << dsc;
  RunResult lintian = run({"lintian", "--fail-on", "error,warning", changes, dsc});
  EXPECT_EQ(exit_code(lintian), 0) << lintian.output;
  for (const auto& line : lines_of(lintian.output))
    EXPECT_FALSE(line.starts_with("E: ") || line.starts_with("W: ")) << line;

  // An override says why, in a comment right above it.
  for (const char* file : {"/debian/usercrash.lintian-overrides", "/debian/source/lintian-overrides"}) {
    std::string overrides = std::string(USERCRASH_SOURCE_DIR) + file;
    if (!exists(overrides)) continue;
    std::string previous;
    for (const auto& line : lines_of(read_file(overrides))) {
      if (!line.empty() && !line.starts_with("#")) {
        EXPECT_TRUE(previous.starts_with("# ")) << file << ": " << line;
      }
      previous = line;
    }
  }
}

TEST_F(PackageQuality, ProgramsAreHardenedWithDpkgBuildflags) {
  TempDir dir;
  std::string root = extract(deb_, dir / "deb");
  std::string debug_root = extract(dbgsym_, dir / "dbgsym");
  // The compiler flags debian/rules asks dpkg-buildflags for.
  RunResult flags = run({"env", "DEB_BUILD_MAINT_OPTIONS=hardening=+all", "dpkg-buildflags", "--get", "CXXFLAGS"});
  ASSERT_EQ(exit_code(flags), 0) << flags.output;
  std::vector<std::string> wanted;
  for (const auto& flag : words_of(flags.output))
    if (flag.starts_with("-fstack-protector") || flag.starts_with("-O")) wanted.push_back(flag);
  ASSERT_FALSE(wanted.empty()) << flags.output;
  wanted.emplace_back("-fstack-clash-protection");

  for (const auto& program : shipped_programs()) {
    std::string elf = root + program;
    // devscripts' verdict. Not on CET (debian/rules says why); stack clash
    // protection shows in the code only where a frame spans a page, so
    // "unknown" is its answer for small frames: the flag is read below.
    RunResult check = run({"hardening-check", "--nocfprotection", elf});
    EXPECT_EQ(exit_code(check), 0) << check.output;
    for (const char* feature :
         {" Position Independent Executable: yes", " Stack protected: yes", " Fortify Source functions: yes",
          " Read-only relocations: yes", " Immediate binding: yes"})
      EXPECT_NE(check.output.find(std::string("\n") + feature), std::string::npos) << feature << "\n" << check.output;

    // The linker's part, read from the ELF file itself.
    RunResult dynamic = run({"readelf", "-dW", elf});
    EXPECT_NE(line_with(dynamic.output, "(FLAGS)").find(" BIND_NOW"), std::string::npos) << program << "\n"
                                                                                         << dynamic.output;
    EXPECT_NE(line_with(dynamic.output, "(FLAGS_1)").find(" Flags: NOW PIE"), std::string::npos) << program << "\n"
                                                                                                 << dynamic.output;
    RunResult segments = run({"readelf", "-lW", elf});
    EXPECT_NE(segments.output.find("GNU_RELRO"), std::string::npos) << program;
    // FORTIFY_SOURCE: the checking variants of the libc calls.
    RunResult symbols = run({"readelf", "--dyn-syms", "-W", elf});
    EXPECT_NE(symbols.output.find("_chk@"), std::string::npos) << program;

    // The compiler's part: each compilation unit records its flags
    // (DW_AT_producer, "GNU C++23 12.2.0 ... -O2 ... -fstack-protector-strong
    // ...") in the debug file, or in the file dwz moved the strings the
    // programs share to.
    std::string id = build_id(elf);
    ASSERT_GT(id.size(), 2u) << program;
    std::string debug_file = debug_root + "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
    RunResult strings = run({"sh", "-c", "readelf -z -p .debug_str \"$1\" \"$2\" 2>/dev/null | grep 'GNU C++'", "sh",
                             debug_file, debug_root + "/usr/lib/debug/.dwz/x86_64-linux-gnu/usercrash.debug"});
    size_t producers = 0;
    for (const auto& line : lines_of(strings.output)) {
      ++producers;
      for (const auto& flag : wanted) EXPECT_NE(line.find(" " + flag), std::string::npos) << program << ": " << line;
    }
    EXPECT_GT(producers, 0u) << program << "\n" << strings.output.substr(0, 2000);
  }
}

TEST_F(PackageQuality, DebugSymbolsAreInTheDbgsymPackageByBuildId) {
  RunResult fields = run({"dpkg-deb", "-f", dbgsym_, "Package", "Depends", "Section"});
  EXPECT_NE(fields.output.find("Package: usercrash-dbgsym\n"), std::string::npos) << fields.output;
  EXPECT_NE(fields.output.find(std::string("Depends: usercrash (= ") + USERCRASH_VERSION + ")"), std::string::npos)
      << fields.output;
  EXPECT_NE(fields.output.find("Section: debug"), std::string::npos) << fields.output;

  TempDir dir;
  std::string root = extract(deb_, dir / "deb");
  DebContents debug = deb_contents(dbgsym_);
  std::string listing;
  for (const auto& line : debug.lines) listing += line + "\n";
  for (const auto& program : shipped_programs()) {
    std::string elf = root + program;
    std::string id = build_id(elf);
    ASSERT_GT(id.size(), 2u) << program;
    std::string path = "./usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
    EXPECT_TRUE(debug.paths.contains(path)) << program << ": " << path << " not in\n" << listing;
    // The shipped program has no debug information left, only the link to it.
    RunResult sections = run({"readelf", "-SW", elf});
    EXPECT_EQ(sections.output.find(".debug_info"), std::string::npos) << program;
    EXPECT_NE(sections.output.find(".gnu_debuglink"), std::string::npos) << program;
  }
}

TEST_F(PackageQuality, ManPagesCarryTheChangelogsDate) {
  RunResult stamp = run({"dpkg-parsechangelog", "-l", changelog(), "-STimestamp"});
  ASSERT_EQ(exit_code(stamp), 0) << stamp.output;
  time_t when = std::stol(stamp.output);
  char date[16];
  struct tm utc {};
  ::gmtime_r(&when, &utc);
  ASSERT_GT(std::strftime(date, sizeof date, "%Y-%m-%d", &utc), 0u);

  TempDir dir;
  std::string root = extract(deb_, dir / "deb");
  size_t pages = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root + "/usr/share/man")) {
    if (!entry.is_regular_file() || entry.is_symlink()) continue;
    RunResult page = run({"gzip", "-dc", entry.path()});
    ASSERT_EQ(exit_code(page), 0) << entry.path();
    size_t th = page.output.find("\n.TH ");
    ASSERT_NE(th, std::string::npos) << entry.path();
    std::string header = page.output.substr(th + 1, page.output.find('\n', th + 1) - th - 1);
    EXPECT_NE(header.find(std::string("\"") + date + "\""), std::string::npos) << entry.path() << ": " << header;
    ++pages;
  }
  EXPECT_EQ(pages, 5u);

  // The changelog the package carries is debian/changelog.
  RunResult shipped = run({"gzip", "-dc", root + "/usr/share/doc/usercrash/changelog.gz"});
  EXPECT_EQ(shipped.output, read_file(changelog()));
  std::string copyright = read_file(root + "/usr/share/doc/usercrash/copyright");
  EXPECT_TRUE(copyright.starts_with("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"))
      << copyright;
  EXPECT_NE(copyright.find("\nFiles: *\n"), std::string::npos) << copyright;
}

TEST_F(PackageQuality, MaintainerScriptsAreShellAndCreateTheUserFirst) {
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    RunResult text = run({"dpkg-deb", "-I", deb_, script});
    ASSERT_EQ(exit_code(text), 0) << script << ": " << text.output;
    RunResult syntax = run({"sh", "-n"}, text.output);
    EXPECT_EQ(exit_code(syntax), 0) << script << ": " << syntax.output;
  }
  // The user exists before systemd-tmpfiles creates what it may own.
  std::string postinst = run({"dpkg-deb", "-I", deb_, "postinst"}).output;
  size_t users = postinst.find("systemd-sysusers");
  size_t tmpfiles = postinst.find("systemd-tmpfiles");
  ASSERT_NE(users, std::string::npos) << postinst;
  ASSERT_NE(tmpfiles, std::string::npos) << postinst;
  EXPECT_LT(users, tmpfiles) << postinst;
}

}  // namespace
}  // namespace usercrash::test
