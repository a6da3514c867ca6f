// The crash directory in a private mkdtemp directory: refusal of unsafe
// directories, publishing into the ring, and names planted by someone else.
#include "store/crash_directory.h"
#include "store/owner_access.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::store {
namespace {

using test::read_file;
using test::TempDir;
using test::write_file;
namespace fs = std::filesystem;

struct Stat {
  bool exists = false;
  struct stat st {};
};

Stat lstat_of(const std::string& path) {
  Stat s;
  s.exists = ::lstat(path.c_str(), &s.st) == 0;
  return s;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

void write_fd(int fd, const std::string& text) {
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

// Sets a file's mtime (without following a symlink) so the ring's order is known.
void set_mtime(const std::string& path, time_t sec, long nsec = 0) {
  timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

class CrashDirectoryTest : public ::testing::TestWithParam<bool> {
 protected:
  TempDir tmp;
  std::string dir = tmp / "crashes";
  OpenOptions options() const {
    OpenOptions o;
    o.force_named_temp = GetParam();
    return o;
  }
  CrashDirectory open(unsigned count) {
    auto d = CrashDirectory::open(dir, count, options());
    if (!d) throw std::runtime_error(d.error().message);
    return std::move(*d);
  }
  // Creates and publishes one report whose text and JSON say `tag`.
  std::string publish(CrashDirectory& d, const std::string& tag, bool with_core = false,
                      const std::vector<bool>& busy = {}) {
    auto pending = d.create_pending(with_core);
    if (!pending) throw std::runtime_error(pending.error().message);
    write_fd(pending->fd(SlotFile::text), "text " + tag);
    write_fd(pending->fd(SlotFile::json), "{\"tag\": \"" + tag + "\"}");
    if (with_core) write_fd(pending->fd(SlotFile::core), "core " + tag);
    auto name = d.publish(*pending, busy);
    if (!name) throw std::runtime_error(name.error().message);
    return *name;
  }
  void expect_report(const std::string& slot, const std::string& tag) {
    for (const auto& [suffix, content] :
         {std::pair<std::string, std::string>{"", "text " + tag}, {".json", "{\"tag\": \"" + tag + "\"}"}}) {
      std::string path = dir + "/" + slot + suffix;
      Stat s = lstat_of(path);
      ASSERT_TRUE(s.exists) << path;
      EXPECT_TRUE(S_ISREG(s.st.st_mode)) << path;
      EXPECT_EQ(s.st.st_mode & 07777, 0600u) << path;
      EXPECT_EQ(s.st.st_nlink, 1u) << path;
      EXPECT_EQ(read_file(path), content) << path;
    }
  }
  void expect_no_temporaries() {
    for (const auto& name : entries(dir)) EXPECT_FALSE(name.starts_with(kTempPrefix)) << name;
  }
};

INSTANTIATE_TEST_SUITE_P(TmpfileAndNamedTemp, CrashDirectoryTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "named_temp" : "o_tmpfile"; });

TEST_P(CrashDirectoryTest, CreatesTheDirectoryRootOnly) {
  auto d = CrashDirectory::open(dir, 5, options());
  ASSERT_TRUE(d) << d.error().message;
  Stat s = lstat_of(dir);
  ASSERT_TRUE(s.exists);
  EXPECT_TRUE(S_ISDIR(s.st.st_mode));
  EXPECT_EQ(s.st.st_mode & 0022, 0u);
  EXPECT_EQ(d->count(), 5u);
  EXPECT_EQ(d->path(), dir);
}

TEST_P(CrashDirectoryTest, MissingDirectoryWithoutCreateIsAnError) {
  OpenOptions o = options();
  o.create = false;
  EXPECT_FALSE(CrashDirectory::open(dir, 5, o));
  EXPECT_FALSE(lstat_of(dir).exists);
}

TEST_P(CrashDirectoryTest, RefusesRelativePaths) {
  auto d = CrashDirectory::open("crashes", 5, options());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("not an absolute path"), std::string::npos);
}

TEST_P(CrashDirectoryTest, RefusesGroupOrOtherWritableDirectories) {
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  for (mode_t mode : {0770, 0707, 0777, 01777, 0720}) {
    ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
    auto d = CrashDirectory::open(dir, 5, options());
    ASSERT_FALSE(d) << std::oct << mode;
    EXPECT_NE(d.error().message.find("writable by group or others"), std::string::npos) << d.error().message;
  }
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  EXPECT_TRUE(CrashDirectory::open(dir, 5, options()));
}

TEST_P(CrashDirectoryTest, RefusesASymlinkAsTheDirectory) {
  std::string real = tmp / "real";
  ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(real.c_str(), dir.c_str()), 0);
  auto d = CrashDirectory::open(dir, 5, options());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("symlink"), std::string::npos) << d.error().message;
  EXPECT_TRUE(entries(real).empty()) << "nothing was created through the link";
}

TEST_P(CrashDirectoryTest, RefusesAFileAsTheDirectory) {
  write_file(dir, "not a directory");
  EXPECT_FALSE(CrashDirectory::open(dir, 5, options()));
}

TEST_P(CrashDirectoryTest, RefusesADirectoryOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), 4242, 4242), 0);
  auto d = CrashDirectory::open(dir, 5, options());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("belongs to uid 4242"), std::string::npos) << d.error().message;
}

TEST_P(CrashDirectoryTest, PendingFilesAreInvisibleOrHiddenUntilPublished) {
  auto d = open(3);
  auto pending = d.create_pending(true);
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->files.size(), 3u);
  EXPECT_GE(pending->fd(SlotFile::text), 0);
  EXPECT_GE(pending->fd(SlotFile::json), 0);
  EXPECT_GE(pending->fd(SlotFile::core), 0);
  auto names = entries(dir);
  if (GetParam()) {
    ASSERT_EQ(names.size(), 3u);
    for (const auto& name : names) EXPECT_TRUE(name.starts_with(kTempPrefix)) << name;
    for (const auto& f : pending->files) {
      EXPECT_TRUE(f.temp_name.starts_with(kTempPrefix));
      EXPECT_EQ(lstat_of(dir + "/" + f.temp_name).st.st_mode & 07777, 0600u);
    }
  } else {
    EXPECT_TRUE(names.empty()) << "O_TMPFILE files have no name at all";
  }
  auto no_core = d.create_pending(false);
  ASSERT_TRUE(no_core);
  EXPECT_EQ(no_core->files.size(), 2u);
  EXPECT_EQ(no_core->fd(SlotFile::core), -1);
}

TEST_P(CrashDirectoryTest, PublishLinksIntoTheNextSlotsWithMode0600) {
  auto d = open(3);
  EXPECT_EQ(publish(d, "a"), "usercrash_00");
  EXPECT_EQ(publish(d, "b", true), "usercrash_01");
  EXPECT_EQ(publish(d, "c"), "usercrash_02");
  expect_report("usercrash_00", "a");
  expect_report("usercrash_01", "b");
  expect_report("usercrash_02", "c");
  EXPECT_EQ(read_file(dir + "/usercrash_01.core.zst"), "core b");
  expect_no_temporaries();
  EXPECT_EQ(d.slots_present(), (std::vector<bool>{true, true, true}));
}

// Unnamed files (O_TMPFILE, the normal case) get their first link when
// published: a second publish of the same files is refused.
TEST(CrashDirectoryOnce, AReportIsPublishedOnceNeverTwice) {
  TempDir tmp;
  auto d = CrashDirectory::open(tmp / "crashes", 3);
  ASSERT_TRUE(d) << d.error().message;
  auto pending = d->create_pending(false);
  ASSERT_TRUE(pending);
  ASSERT_TRUE(pending->files[0].temp_name.empty()) << "this filesystem has O_TMPFILE";
  write_fd(pending->fd(SlotFile::text), "text a");
  write_fd(pending->fd(SlotFile::json), "{}");
  EXPECT_FALSE(d->is_published(*pending));
  ASSERT_TRUE(d->publish(*pending));
  EXPECT_TRUE(d->is_published(*pending));
  // The server published it; its client, unconfirmed, tries too.
  auto again = d->publish(*pending);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, util::ErrorKind::exists);
  EXPECT_EQ(entries(tmp / "crashes"),
            (std::vector<std::string>{".index", ".lock", "usercrash_00", "usercrash_00.json"}))
      << "no second copy";
}

TEST_P(CrashDirectoryTest, ReplacesTheOldestPublicationWhenFull) {
  auto d = open(3);
  publish(d, "a");
  publish(d, "b", true);
  publish(d, "c");
  EXPECT_EQ(publish(d, "d"), "usercrash_00");
  expect_report("usercrash_00", "d");
  EXPECT_EQ(publish(d, "e"), "usercrash_01");
  expect_report("usercrash_01", "e");
  EXPECT_FALSE(lstat_of(dir + "/usercrash_01.core.zst").exists) << "the old slot's core must go with it";
  expect_report("usercrash_02", "c");
  EXPECT_EQ(publish(d, "f"), "usercrash_02");
  expect_no_temporaries();
}

TEST_P(CrashDirectoryTest, FileTimesDoNotDecideTheOrder) {
  // With report_access=owner a report is its user's, who can set its times:
  // a far-future mtime must not pin a slot, nor an old one evict a report early.
  auto d = open(3);
  publish(d, "a");
  publish(d, "b");
  publish(d, "c");
  set_mtime(dir + "/usercrash_00", 4'000'000'000);
  set_mtime(dir + "/usercrash_02", 1);
  EXPECT_EQ(publish(d, "d"), "usercrash_00");
  EXPECT_EQ(publish(d, "e"), "usercrash_01");
  EXPECT_EQ(publish(d, "f"), "usercrash_02");
}

TEST_P(CrashDirectoryTest, ReportsFoundWithoutARecordAreTheOldest) {
  // A ring filled before the index existed (or whose index was lost).
  auto d = open(3);
  publish(d, "a");
  publish(d, "b");
  ASSERT_EQ(::unlink((dir + "/" + kIndexName).c_str()), 0);
  EXPECT_EQ(publish(d, "c"), "usercrash_02");
  EXPECT_EQ(publish(d, "d"), "usercrash_00");
  EXPECT_EQ(publish(d, "e"), "usercrash_01");
  EXPECT_EQ(publish(d, "f"), "usercrash_02");
}

TEST_P(CrashDirectoryTest, AnIndexThatIsNotRootsAloneIsIgnored) {
  auto d = open(3);
  publish(d, "a");
  publish(d, "b");
  publish(d, "c");
  std::string index = dir + "/" + kIndexName;
  ASSERT_EQ(::chmod(index.c_str(), 0666), 0);
  // Ignored: every report counts as unrecorded, the lowest slot goes first.
  auto pending = d.create_pending(false);
  ASSERT_TRUE(pending);
  write_fd(pending->fd(SlotFile::text), "text d");
  auto published = d.publish(*pending, PublishOptions{});
  ASSERT_TRUE(published);
  EXPECT_EQ(published->name, "usercrash_00");
  ASSERT_TRUE(published->index_problem);
  EXPECT_NE(published->index_problem->find("not a plain file of root's alone"), std::string::npos);
  EXPECT_EQ(lstat_of(index).st.st_mode & 0777, 0600u) << "written anew";
}

// Publishes a report of group `signature` (uid 0); the slot's name, "" when not kept.
Publication publish_grouped(CrashDirectory& d, const std::string& signature, unsigned keep,
                            bool new_slot_allowed = true, uint32_t uid = 0) {
  auto pending = d.create_pending(false);
  if (!pending) throw std::runtime_error(pending.error().message);
  write_fd(pending->fd(SlotFile::text), "text " + signature);
  PublishOptions o;
  o.facts.group = GroupKey{signature, uid};
  o.facts.comm = "comm-" + signature;
  o.keep_per_signature = keep;
  o.new_slot_allowed = new_slot_allowed;
  auto published = d.publish(*pending, o);
  if (!published) throw std::runtime_error(published.error().message);
  return *published;
}

TEST_P(CrashDirectoryTest, ACrashLoopKeepsItsFirstReportsAndItsNewestAndCountsTheRest) {
  // The case: 300 crashes of one program with 5 of 5 others among them, count=50.
  auto d = open(50);
  std::vector<std::string> others;
  for (int i = 0; i < 300; ++i) {
    Publication p = publish_grouped(d, "loop", 3);
    EXPECT_TRUE(p.kept);
    EXPECT_EQ(p.group_count, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(p.replaced_group_newest, i >= 4) << i;
    if (i % 60 == 30) others.push_back(publish_grouped(d, "other" + std::to_string(i), 3).name);
  }
  ASSERT_EQ(others.size(), 5u);
  for (const auto& slot : others) EXPECT_TRUE(lstat_of(dir + "/" + slot).exists) << slot;
  RingIndex index = RingIndex::load(d.fd());
  EXPECT_EQ(index.slots_of(GroupKey{"loop", 0}).size(), 4u);
  ASSERT_TRUE(index.group(GroupKey{"loop", 0}));
  EXPECT_EQ(index.group(GroupKey{"loop", 0})->count, 300u);
  size_t used = 0;
  for (bool p : d.slots_present()) used += p;
  EXPECT_EQ(used, 9u);
}

TEST_P(CrashDirectoryTest, GroupsAreAlsoByUser) {
  auto d = open(20);
  for (int i = 0; i < 6; ++i) publish_grouped(d, "same", 1);
  // Another user crashing a copy at the same place has a group of its own.
  Publication other = publish_grouped(d, "same", 1, true, 1000);
  EXPECT_FALSE(other.replaced_group_newest);
  EXPECT_EQ(other.group_count, 1u);
}

TEST_P(CrashDirectoryTest, WithoutANewSlotOnlyTheGroupsNewestIsReplaced) {
  auto d = open(10);
  publish_grouped(d, "loop", 1);
  publish_grouped(d, "loop", 1);
  Publication p = publish_grouped(d, "loop", 1, false);
  EXPECT_TRUE(p.kept);
  EXPECT_TRUE(p.replaced_group_newest);
  Publication q = publish_grouped(d, "fresh", 1, false);
  EXPECT_FALSE(q.kept);
  EXPECT_TRUE(q.name.empty());
  EXPECT_EQ(q.group_count, 1u);
  auto counted = d.count_not_kept(CrashFacts{GroupKey{"fresh", 0}, "c", "e"});
  ASSERT_TRUE(counted);
  EXPECT_EQ(*counted, 2u);
  RingIndex index = RingIndex::load(d.fd());
  EXPECT_EQ(index.group(GroupKey{"fresh", 0})->not_kept, 2u);
}

TEST_P(CrashDirectoryTest, BusySlotsAreNotTaken) {
  auto d = open(3);
  EXPECT_EQ(publish(d, "a", false, {true, true}), "usercrash_02");
  EXPECT_EQ(publish(d, "b", false, {false, true, false}), "usercrash_00");
}

TEST_P(CrashDirectoryTest, EmptySlots) {
  auto d = open(4);
  EXPECT_EQ(d.slots_present(), std::vector<bool>(4, false));
}

TEST_P(CrashDirectoryTest, PlantedSymlinksAtSlotNamesAreReplacedNotFollowed) {
  std::string victim = tmp / "victim";
  write_file(victim, "precious", 0644);
  struct stat before {};
  ASSERT_EQ(::stat(victim.c_str(), &before), 0);
  auto d = open(1);
  for (const char* name : {"usercrash_00", "usercrash_00.json", "usercrash_00.core.zst"})
    ASSERT_EQ(::symlink(victim.c_str(), (dir + "/" + name).c_str()), 0);
  EXPECT_EQ(publish(d, "new", true), "usercrash_00");
  expect_report("usercrash_00", "new");
  EXPECT_FALSE(S_ISLNK(lstat_of(dir + "/usercrash_00.core.zst").st.st_mode));
  EXPECT_EQ(read_file(victim), "precious");
  struct stat after {};
  ASSERT_EQ(::stat(victim.c_str(), &after), 0);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

TEST_P(CrashDirectoryTest, ADanglingSymlinkAtASlotIsReplacedWithoutCreatingItsTarget) {
  std::string target = tmp / "created-through-link";
  auto d = open(1);
  ASSERT_EQ(::symlink(target.c_str(), (dir + "/usercrash_00").c_str()), 0);
  publish(d, "x");
  expect_report("usercrash_00", "x");
  EXPECT_FALSE(lstat_of(target).exists);
}

TEST_P(CrashDirectoryTest, PlantedHardlinksAtSlotNamesAreReplacedNotWrittenThrough) {
  std::string victim = tmp / "victim";
  write_file(victim, "precious", 0644);
  auto d = open(1);
  ASSERT_EQ(::link(victim.c_str(), (dir + "/usercrash_00").c_str()), 0);
  ASSERT_EQ(::link(victim.c_str(), (dir + "/usercrash_00.json").c_str()), 0);
  publish(d, "new");
  expect_report("usercrash_00", "new");
  EXPECT_EQ(read_file(victim), "precious");
  Stat v = lstat_of(victim);
  EXPECT_EQ(v.st.st_nlink, 1u);
  EXPECT_NE(lstat_of(dir + "/usercrash_00").st.st_ino, v.st.st_ino);
}

TEST_P(CrashDirectoryTest, PlantedFifoAtASlotNameIsReplacedWithoutBlocking) {
  auto d = open(1);
  ASSERT_EQ(::mkfifo((dir + "/usercrash_00").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((dir + "/usercrash_00.json").c_str(), 0600), 0);
  publish(d, "new");
  expect_report("usercrash_00", "new");
}

TEST_P(CrashDirectoryTest, PlantedEntryCountsAsUsedAndOldestWhateverItsTimes) {
  std::string victim = tmp / "victim";
  write_file(victim, "precious");
  auto d = open(2);
  publish(d, "a");
  ASSERT_EQ(::symlink(victim.c_str(), (dir + "/usercrash_01").c_str()), 0);
  set_mtime(dir + "/usercrash_01", 4'000'000'000);  // the link's own time
  set_mtime(victim, 4'000'000'000);
  EXPECT_EQ(publish(d, "b"), "usercrash_01");
  expect_report("usercrash_01", "b");
  EXPECT_EQ(read_file(victim), "precious");
}

TEST_P(CrashDirectoryTest, PlantedSymlinkAtTheLockIsReplaced) {
  std::string victim = tmp / "victim";
  write_file(victim, "precious", 0644);
  auto d = open(2);
  ASSERT_EQ(::symlink(victim.c_str(), (dir + "/" + kLockName).c_str()), 0);
  {
    auto lock = d.lock(std::chrono::milliseconds(200));
    ASSERT_TRUE(lock) << lock.error().message;
    EXPECT_TRUE(lock->held());
  }
  Stat l = lstat_of(dir + "/" + kLockName);
  EXPECT_TRUE(S_ISREG(l.st.st_mode));
  EXPECT_EQ(read_file(victim), "precious");
  EXPECT_EQ(lstat_of(victim).st.st_mode & 07777, 0644u);
  // Publishing takes the same lock.
  publish(d, "a");
  expect_report("usercrash_00", "a");
}

TEST_P(CrashDirectoryTest, PlantedHardlinkAtTheLockIsReplaced) {
  std::string victim = tmp / "victim";
  write_file(victim, "precious", 0600);
  auto d = open(2);
  std::string lock_path = dir + "/" + kLockName;
  ASSERT_EQ(::link(victim.c_str(), lock_path.c_str()), 0);
  // Someone holding a lock on the victim must not block us.
  int held = ::open(victim.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  auto lock = d.lock(std::chrono::milliseconds(200));
  ::close(held);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_NE(lstat_of(lock_path).st.st_ino, lstat_of(victim).st.st_ino);
  EXPECT_EQ(lstat_of(victim).st.st_nlink, 1u);
  EXPECT_EQ(read_file(victim), "precious");
}

TEST_P(CrashDirectoryTest, PlantedFifoAtTheLockIsReplacedWithoutBlocking) {
  auto d = open(2);
  std::string lock_path = dir + "/" + kLockName;
  ASSERT_EQ(::mkfifo(lock_path.c_str(), 0600), 0);
  auto lock = d.lock(std::chrono::milliseconds(200));
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE(S_ISREG(lstat_of(lock_path).st.st_mode));
}

TEST_P(CrashDirectoryTest, PlantedEmptyDirectoryAtTheLockIsReplaced) {
  auto d = open(2);
  std::string lock_path = dir + "/" + kLockName;
  ASSERT_EQ(::mkdir(lock_path.c_str(), 0700), 0);
  auto lock = d.lock(std::chrono::milliseconds(200));
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE(S_ISREG(lstat_of(lock_path).st.st_mode));
}

TEST_P(CrashDirectoryTest, TheLockExcludesASecondHolderUntilReleased) {
  auto a = open(2);
  auto b = open(2);
  {
    auto first = a.lock();
    ASSERT_TRUE(first);
    auto start = std::chrono::steady_clock::now();
    auto second = b.lock(std::chrono::milliseconds(50));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().errno_value, ETIMEDOUT);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(b.lock(std::chrono::milliseconds(50)));
}

TEST_P(CrashDirectoryTest, RemoveStaleTemporariesCleansOnlyPendingNames) {
  auto d = open(2);
  publish(d, "a");
  write_file(dir + "/.pending-1-0-deadbeef", "left over");
  write_file(dir + "/.pending-2-1-cafebabe.json", "left over");
  write_file(dir + "/unrelated", "keep");
  auto pending = d.create_pending(false);  // named ones exist on the fallback path
  ASSERT_TRUE(pending);
  d.remove_stale_temporaries();
  EXPECT_EQ(entries(dir),
            (std::vector<std::string>{".index", ".lock", "unrelated", "usercrash_00", "usercrash_00.json"}));
}

// Issue 9.2: the owner gets read access and nothing else; the files stay
// ours (a file the user owned was one they could chmod, rewrite and re-date).
TEST_P(CrashDirectoryTest, PublishToTheOwnerLetsThemReadOnly) {
  auto d = open(2);
  auto pending = d.create_pending(false);
  ASSERT_TRUE(pending);
  write_fd(pending->fd(SlotFile::text), "mine");
  auto name = d.publish(*pending, {}, 4242);
  ASSERT_TRUE(name) << name.error().message;
  for (const char* suffix : {"", ".json"}) {
    std::string path = dir + "/" + *name + suffix;
    Stat s = lstat_of(path);
    EXPECT_EQ(s.st.st_uid, ::geteuid()) << suffix;
    EXPECT_EQ(s.st.st_mode & 07777, 0640u) << suffix << ": the ACL's mask (read) in the group bits";
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(grants_read(fd.get(), 4242)) << suffix;
    EXPECT_FALSE(grants_read(fd.get(), 4243)) << suffix;
  }
}

TEST(SlotSuffix, Names) {
  EXPECT_STREQ(slot_suffix(SlotFile::text), "");
  EXPECT_STREQ(slot_suffix(SlotFile::json), ".json");
  EXPECT_STREQ(slot_suffix(SlotFile::core), ".core.zst");
}

}  // namespace
}  // namespace usercrash::store
