// The shipped sample configuration and the man pages document every key,
// with the defaults the code has.
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

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
  for (const char* verb : {"enable", "disable", "status", "is-active", "list", "info", "gdb", "analyze", "clean"})
    EXPECT_NE(page.find(std::string("\n*") + verb + "*"), std::string::npos) << verb;
  EXPECT_NE(page.find("# CORE_PIPE_LIMIT"), std::string::npos);
}

}  // namespace
}  // namespace usercrash
