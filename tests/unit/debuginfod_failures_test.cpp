// The crash path's debuginfod failures as the server takes them: each
// counted, each reason said once, a silent server's timeout and the pause
// after it one failure, an answer ending it (issue 11).
#include "server/debuginfod_failures.h"

#include <gtest/gtest.h>

namespace usercrash::server {
namespace {

using ipc::DebuginfodOutcome;

constexpr const char* kDown = "debuginfod (http://127.0.0.1:9): Connection refused";

TEST(DebuginfodFailures, AStormOfOneFailureIsSaidOnceAndCountedPerCrash) {
  DebuginfodFailures f;
  auto first = f.note(DebuginfodOutcome::failed, kDown, "connection 1 (pid 10, comm 'a')");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->level, util::log::Level::warning);
  EXPECT_NE(first->message.find("crash_debuginfod: connection 1 (pid 10, comm 'a'): no debug files: "),
            std::string::npos)
      << first->message;
  EXPECT_NE(first->message.find(kDown), std::string::npos) << first->message;
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(f.note(DebuginfodOutcome::failed, kDown, "connection 2"));
  EXPECT_EQ(f.count(), 51u);
  // Another reason is said.
  auto other = f.note(DebuginfodOutcome::failed, "debuginfod cache: not root's", "connection 3");
  ASSERT_TRUE(other);
  EXPECT_NE(other->message.find("not root's"), std::string::npos);
  EXPECT_EQ(f.count(), 52u);
}

TEST(DebuginfodFailures, ATimeoutAndThePauseAfterItAreOneFailure) {
  DebuginfodFailures f;
  auto timed_out = f.note(DebuginfodOutcome::timed_out,
                          "debuginfod (http://h) gave no debug file within the 2000 ms budget", "connection 1");
  ASSERT_TRUE(timed_out);
  EXPECT_NE(timed_out->message.find("2000 ms budget"), std::string::npos);
  for (int s = 1; s < 5; ++s)
    EXPECT_FALSE(
        f.note(DebuginfodOutcome::paused,
               fmt::format("debuginfod (http://h) let the timeout pass {} s ago; not asked for 60 s after that", s),
               "connection 2"));
  EXPECT_EQ(f.count(), 5u);
  // A server restarted after the timeout hears of the pause first: said.
  DebuginfodFailures restarted;
  EXPECT_TRUE(restarted.note(DebuginfodOutcome::paused, "let the timeout pass 3 s ago", "connection 1"));
  EXPECT_FALSE(restarted.note(DebuginfodOutcome::timed_out, "gave no debug file within the budget", "connection 2"));
}

TEST(DebuginfodFailures, AnAnswerEndsTheFailureAndNotAskedIsNothing) {
  DebuginfodFailures f;
  EXPECT_FALSE(f.note(DebuginfodOutcome::not_asked, "", "connection 1"));
  EXPECT_FALSE(f.note(DebuginfodOutcome::answered, "", "connection 2"));
  EXPECT_EQ(f.count(), 0u);
  EXPECT_TRUE(f.note(DebuginfodOutcome::failed, kDown, "connection 3"));
  auto again = f.note(DebuginfodOutcome::answered, "", "connection 4");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->level, util::log::Level::info);
  EXPECT_NE(again->message.find("answers again (1 crashes without it so far)"), std::string::npos) << again->message;
  EXPECT_FALSE(f.note(DebuginfodOutcome::answered, "", "connection 5"));
  // The same failure after the answer is said again.
  EXPECT_TRUE(f.note(DebuginfodOutcome::failed, kDown, "connection 6"));
  EXPECT_EQ(f.count(), 2u);
}

TEST(DebuginfodFailures, TheReasonIsEscapedInTheLine) {
  DebuginfodFailures f;
  auto line = f.note(DebuginfodOutcome::failed, "bad \xe2\x80\xae url \\ end", "connection 1");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->message.find("\xe2\x80\xae"), std::string::npos) << line->message;
  EXPECT_NE(line->message.find("bad \\u202e url \\\\ end"), std::string::npos) << line->message;
}

}  // namespace
}  // namespace usercrash::server
