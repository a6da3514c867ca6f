// Crash loops: a program crashing over and over keeps its first reports and
// its newest, the rest are counted; other programs' crashes in the middle
// of it are always stored, rate_limit or not.
#include <sys/wait.h>

#include <map>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "e2e/report_schema.h"

namespace usercrash::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class CrashLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    ::setenv("CRASHER_PARKED", "0", 1);
  }
  void TearDown() override { ::unsetenv("CRASHER_PARKED"); }
};

// Crashes and waits until its client is done, so that crashes arrive one
// after the other as a loop's do.
void crash_and_settle(const ServerProcess& server, const char* program, const std::vector<std::string>& args) {
  run_crasher(crasher(program), args);
  eventually([&] { return !clients_running(server.config()); }, 20s);
}

// Signature → the slots holding a report of it.
std::map<std::string, std::vector<std::string>> slots_by_signature(const std::string& dir) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& slot : list_reports(dir)) {
    auto doc = json::parse(read_file(dir + "/" + slot + ".json"), nullptr, false);
    if (doc.is_object() && doc["signature"].is_string()) out[doc["signature"]].push_back(slot);
  }
  return out;
}

json index_of(const std::string& dir) { return json::parse(read_file(dir + "/.index"), nullptr, false); }

uint64_t group_count(const json& index, const std::string& signature) {
  for (const auto& g : index["groups"])
    if (g["signature"] == signature) return g["count"].get<uint64_t>();
  return 0;
}

TEST_F(CrashLoop, ThreeHundredCrashesOfOneProgramKeepFourReportsAndACountAndPushNobodyOut) {
  TempDir dir;
  ServerProcess server(dir, {"count=50"});
  CorePatternGuard guard(client_pattern(server.config()), 0);
  // Five other programs' crashes (five crash sites), one every 60 of the loop's.
  const std::vector<std::vector<std::string>> others = {{"abort"}, {"libc"}, {"div-zero", "0"}, {"ud2"}, {"null-call"}};
  for (int i = 0; i < 300; ++i) {
    crash_and_settle(server, "crasher_opt", {"null"});
    if (i % 60 == 30) crash_and_settle(server, "crasher", others[static_cast<size_t>(i / 60)]);
  }
  auto groups = slots_by_signature(server.directory());
  ASSERT_EQ(groups.size(), 6u) << server.log();
  std::string loop;
  for (const auto& [signature, slots] : groups)
    if (slots.size() > 1) loop = signature;
  ASSERT_FALSE(loop.empty());
  EXPECT_EQ(groups[loop].size(), 4u) << "the first 3 and the newest";
  for (const auto& [signature, slots] : groups)
    if (signature != loop) {
      EXPECT_EQ(slots.size(), 1u) << "every other program's crash is kept";
    }
  EXPECT_EQ(list_reports(server.directory()).size(), 9u);
  json index = index_of(server.directory());
  EXPECT_EQ(group_count(index, loop), 300u) << index.dump(1);
  // The newest report of the loop is its last crash.
  json newest;
  int64_t newest_pid = 0;
  for (const auto& slot : groups[loop]) {
    auto doc = json::parse(read_file(server.directory() + "/" + slot + ".json"));
    if (doc["pid"].get<int64_t>() > newest_pid) newest_pid = doc["pid"].get<int64_t>();
  }
  EXPECT_GT(newest_pid, 0);

  // usercrashctl list --group: the loop's count, its 4 reports kept, its
  // newest slot; the others once each. Its JSON follows the schema.
  RunResult listed = run({program("usercrashctl"), "--config", server.config(), "list", "--group", "--json"});
  ASSERT_EQ(WEXITSTATUS(listed.status), 0) << listed.output;
  json grouped = json::parse(listed.output);
  ASSERT_EQ(grouped.size(), 6u) << listed.output;
  EXPECT_EQ(schema_errors_of(listed.output, "list_groups"), "");
  for (const auto& g : grouped) {
    if (g["signature"] == loop) {
      EXPECT_EQ(g["count"], 300u) << g.dump();
      EXPECT_TRUE(g["counted_by_index"].get<bool>());
      EXPECT_EQ(g["slots"].size(), 4u);
    } else {
      EXPECT_EQ(g["count"], 1u) << g.dump();
    }
  }
  RunResult table = run({program("usercrashctl"), "--config", server.config(), "list", "--group"});
  ASSERT_EQ(WEXITSTATUS(table.status), 0) << table.output;
  EXPECT_NE(table.output.find(loop.substr(0, 16) + "      300     4  "), std::string::npos) << table.output;

  // The loop is said once a minute, not per crash (and once more at stop).
  EXPECT_EQ(WEXITSTATUS(server.stop()), 0);
  std::string log = server.log();
  size_t notes = 0;
  for (size_t at = log.find("crash loop: "); at != std::string::npos; at = log.find("crash loop: ", at + 1)) ++notes;
  EXPECT_GE(notes, 1u) << log;
  EXPECT_LE(notes, 3u) << log;
  EXPECT_NE(log.find(fmt::format("signature {}", loop)), std::string::npos) << log;
  EXPECT_NE(log.find("300 in all"), std::string::npos) << log;
}

TEST_F(CrashLoop, RateLimitAppliesPerSignatureBeforeGlobally) {
  // A loop far past rate_limit, and another program's crash in the middle:
  // it is stored, because the loop used up only its own budget.
  TempDir dir;
  ServerProcess server(dir, {"count=50", "rate_limit=5"});
  CorePatternGuard guard(client_pattern(server.config()), 0);
  for (int i = 0; i < 20; ++i) crash_and_settle(server, "crasher_opt", {"null"});
  crash_and_settle(server, "crasher", {"abort"});
  for (int i = 0; i < 5; ++i) crash_and_settle(server, "crasher_opt", {"null"});
  auto groups = slots_by_signature(server.directory());
  ASSERT_EQ(groups.size(), 2u) << server.log();
  std::string loop = groups.begin()->second.size() > 1 ? groups.begin()->first : groups.rbegin()->first;
  for (const auto& [signature, slots] : groups) EXPECT_EQ(slots.size(), signature == loop ? 4u : 1u) << signature;
  json index = index_of(server.directory());
  EXPECT_EQ(group_count(index, loop), 25u) << "every crash of the loop is counted";
  for (const auto& g : index["groups"])
    if (g["signature"] == loop) {
      EXPECT_EQ(g["not_kept"], 20u) << "5 stored in the minute, 20 past it";
    }
}

}  // namespace
}  // namespace usercrash::test
