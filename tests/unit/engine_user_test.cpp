#include "collect/engine_user.h"

#include <gtest/gtest.h>

namespace usercrash::collect {
namespace {

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "broken line without fields\n"
    "wheelish:x:997:0::/nonexistent:/usr/sbin/nologin\n"
    "usercrash:x:998:996:usercrash engine:/nonexistent:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

TEST(EngineUser, FindsTheConfiguredUser) {
  EngineUser u = resolve_engine_user_in("usercrash", kPasswd);
  EXPECT_EQ(u.name, "usercrash");
  EXPECT_EQ(u.uid, 998u);
  EXPECT_EQ(u.gid, 996u);
  EXPECT_FALSE(u.note);
}

TEST(EngineUser, MissingUserFallsBackToNobodyAndSaysSo) {
  EngineUser u = resolve_engine_user_in("ghost", kPasswd);
  EXPECT_EQ(u.name, "nobody");
  EXPECT_EQ(u.uid, 65534u);
  EXPECT_EQ(u.gid, 65534u);
  ASSERT_TRUE(u.note);
  EXPECT_NE(u.note->find("no engine user 'ghost'"), std::string::npos);
}

TEST(EngineUser, NeverRootNorGroupZero) {
  for (std::string_view wanted : {"root", "0", "wheelish"}) {
    EngineUser u = resolve_engine_user_in(wanted, kPasswd);
    EXPECT_EQ(u.name, "nobody") << wanted;
    ASSERT_TRUE(u.note) << wanted;
    EXPECT_NE(u.note->find("privileged"), std::string::npos) << *u.note;
  }
}

TEST(EngineUser, ANumberNamesTheUserOrItself) {
  EngineUser known = resolve_engine_user_in("998", kPasswd);
  EXPECT_EQ(known.name, "usercrash");
  EXPECT_EQ(known.gid, 996u);
  EngineUser bare = resolve_engine_user_in("4242", kPasswd);
  EXPECT_EQ(bare.uid, 4242u);
  EXPECT_EQ(bare.gid, 4242u);
  EXPECT_FALSE(bare.note);
}

TEST(EngineUser, WithoutNobodyTheOverflowIds) {
  EngineUser u = resolve_engine_user_in("usercrash", "root:x:0:0::/root:/bin/sh\n");
  EXPECT_EQ(u.uid, 65534u);
  EXPECT_EQ(u.gid, 65534u);
  EXPECT_TRUE(u.note);
  EngineUser none = resolve_engine_user("usercrash", "/nonexistent/passwd");
  EXPECT_EQ(none.uid, 65534u);
}

TEST(EngineUser, ThisMachinesUserIsNeverRoot) {
  EngineUser u = resolve_engine_user("usercrash");
  EXPECT_NE(u.uid, 0u);
  EXPECT_NE(u.gid, 0u);
}

}  // namespace
}  // namespace usercrash::collect
