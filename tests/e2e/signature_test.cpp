// Crash signatures on real crashes: the same bug twice (another load
// address each time) has one signature, other crash sites have others; the
// text and the JSON say the same.
#include <signal.h>
#include <sys/wait.h>

#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

class CrashSignature : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }
};

std::string text_field(const std::string& text, const std::string& key) {
  size_t at = text.find("\n" + key + ": ");
  if (at == std::string::npos) return "";
  at += key.size() + 3;
  return text.substr(at, text.find('\n', at) - at);
}

TEST_F(CrashSignature, TheSameBugTwiceSharesItOtherSitesDoNot) {
  TempDir dir;
  ServerProcess server(dir, {"count=10"});
  CorePatternGuard guard(client_pattern(server.config()));
  std::vector<std::pair<std::string, std::vector<std::string>>> crashes = {
      {"first", {"null"}}, {"again", {"null"}}, {"libc", {"libc"}}, {"abort", {"abort"}}, {"fpe", {"div-zero", "0"}}};
  std::map<std::string, json> reports;
  for (size_t i = 0; i < crashes.size(); ++i) {
    run_crasher(crasher("crasher"), crashes[i].second);
    std::string slot = fmt::format("usercrash_{:02}", i);
    auto report = wait_for_report(server.directory(), slot);
    ASSERT_TRUE(report) << slot << "\n" << server.log();
    reports[crashes[i].first] = *report;
    std::string text = read_file(server.directory() + "/" + slot);
    EXPECT_EQ(text_field(text, "signature"), (*report)["signature"]) << text;
    EXPECT_EQ(text_field(text, "build id"), (*report)["exe_build_id"]) << text;
  }
  const json& first = reports["first"];
  ASSERT_TRUE(first["signature"].is_string());
  EXPECT_EQ(first["signature"].get<std::string>().size(), 32u);
  // PIE: the program was loaded elsewhere the second time.
  EXPECT_NE(first["threads"][0]["frames"][0]["pc"], reports["again"]["threads"][0]["frames"][0]["pc"]);
  EXPECT_EQ(first["signature"], reports["again"]["signature"]);
  EXPECT_NE(first["signature"], reports["libc"]["signature"]);
  EXPECT_NE(first["signature"], reports["abort"]["signature"]);
  EXPECT_NE(first["signature"], reports["fpe"]["signature"]);
  EXPECT_NE(reports["libc"]["signature"], reports["abort"]["signature"]);
  // The executable's build-id is the one its frames carry.
  for (const auto& f : first["threads"][0]["frames"])
    if (f["module"] == crasher("crasher")) {
      EXPECT_EQ(f["build_id"], first["exe_build_id"]);
    }
}

}  // namespace
}  // namespace usercrash::test
