// The core file written in place of the kernel's when the previous
// core_pattern was a file pattern: its name, the copy (holes, limit), and
// the rules of the writer (the user's credentials, its root and cwd, no
// symlinks, no file of someone else's).
#include "client/core_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "config/saved_pattern.h"
#include "test_support.h"

namespace usercrash::client {
namespace {

using test::read_file;
using test::TempDir;
using test::write_file;

constexpr uid_t kNobody = 65534;

SpecifierValues values() {
  SpecifierValues v;
  v.pid = v.global_pid = 1234;
  v.tid = v.global_tid = 1234;
  v.signal = 11;
  v.comm = "worker";
  v.exe = "/usr/bin/worker";
  v.hostname = "box";
  return v;
}

TEST(CoreFileName, ExpandsThePatternAndAddsThePidAsTheKernelDoes) {
  EXPECT_EQ(core_file_name("core", values(), false), "core");
  EXPECT_EQ(core_file_name("core", values(), true), "core.1234");
  EXPECT_EQ(core_file_name("core.%p", values(), true), "core.1234") << "%p already names the pid";
  EXPECT_EQ(core_file_name("core.%P", values(), true), "core.1234.1234") << "only %p counts";
  EXPECT_EQ(core_file_name("core%%p", values(), true), "core%p.1234") << "%%p is a literal";
  EXPECT_EQ(core_file_name("/var/crash/%e-%h.%s", values(), false), "/var/crash/worker-box.11");
  EXPECT_EQ(core_file_name("/var/crash/%E", values(), false), "/var/crash/!usr!bin!worker");
}

TEST(CoreFileName, NamesTheProcessChoseNeverAddADirectory) {
  auto v = values();
  v.comm = "../../etc/cron.d/x";
  EXPECT_EQ(core_file_name("/var/crash/core.%e", v, false), "/var/crash/core...!..!etc!cron.d!x");
  v.comm = "..";
  EXPECT_EQ(core_file_name("/var/crash/%e/core", v, false), "/var/crash/!./core");
  v.comm = ".";
  EXPECT_EQ(core_file_name("/var/crash/%e/core", v, false), "/var/crash/!/core");
  v.comm = "";
  EXPECT_EQ(core_file_name("/var/crash/%e/core", v, false), "/var/crash/!/core") << "no empty component";
  v.hostname = "a/b";
  EXPECT_EQ(core_file_name("%h", v, false), "a!b");
}

TEST(SavedHandler, AFilePatternIsKeptWholeAndASocketIsNotChained) {
  TempDir state;
  write_file(state / config::kSavedPatternName, "/var/crash/core %e.%p\n", 0600);
  auto file = load_saved_handler(state.path());
  ASSERT_TRUE(file && *file);
  EXPECT_EQ((*file)->kind, SavedHandler::Kind::file);
  EXPECT_EQ((*file)->words, std::vector<std::string>{"/var/crash/core %e.%p"});
  write_file(state / config::kSavedPatternName, "|/usr/lib/systemd/systemd-coredump %P %u\n", 0600);
  auto pipe = load_saved_handler(state.path());
  ASSERT_TRUE(pipe && *pipe);
  EXPECT_EQ((*pipe)->kind, SavedHandler::Kind::pipe);
  EXPECT_EQ((*pipe)->words, (std::vector<std::string>{"/usr/lib/systemd/systemd-coredump", "%P", "%u"}));
  write_file(state / config::kSavedPatternName, "@@/run/other.sock\n", 0600);
  auto socket = load_saved_handler(state.path());
  ASSERT_TRUE(socket);
  EXPECT_FALSE(*socket);
}

// Feeds `data` from a thread in pieces of `piece` bytes, so that reads end
// at odd offsets. A stream socket, so a reader that stops early is EPIPE
// for the thread, not SIGPIPE for the test.
class Feeder {
 public:
  Feeder(std::string data, size_t piece) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    read_end_ = fds[0];
    thread_ = std::thread([data = std::move(data), piece, fd = fds[1]] {
      for (size_t at = 0; at < data.size(); at += piece)
        if (::send(fd, data.data() + at, std::min(piece, data.size() - at), MSG_NOSIGNAL) < 0) break;
      ::close(fd);
    });
  }
  ~Feeder() {
    ::close(read_end_);
    thread_.join();
  }
  int fd() const { return read_end_; }

 private:
  int read_end_ = -1;
  std::thread thread_;
};

// 64 KiB of data, 1 MiB of zeros, 5 bytes of data, 3 pages of zeros.
std::string sparse_core() {
  std::string core(64 * 1024, 'x');
  core += std::string(1 << 20, '\0');
  core += "tail!";
  core += std::string(3 * 4096, '\0');
  return core;
}

TEST(CopyCore, ZeroPagesBecomeHolesAndTheBytesAreTheSame) {
  for (size_t piece : {size_t{1} << 20, size_t{1000}, size_t{4096}}) {
    TempDir dir;
    std::string core = sparse_core();
    Feeder feed(core, piece);
    int out = ::open((dir / "core").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(out, 0);
    auto copied = copy_core(feed.fd(), out, UINT64_MAX);
    ::close(out);
    ASSERT_TRUE(copied) << copied.error().message;
    EXPECT_EQ(*copied, core.size());
    EXPECT_EQ(read_file(dir / "core"), core) << "pieces of " << piece;
    struct stat st {};
    ASSERT_EQ(::stat((dir / "core").c_str(), &st), 0);
    EXPECT_LT(static_cast<size_t>(st.st_blocks) * 512, 512u * 1024) << "the megabyte of zeros is a hole";
  }
}

TEST(CopyCore, StopsAtTheLimit) {
  TempDir dir;
  Feeder feed(std::string(100000, 'y'), 7000);
  int out = ::open((dir / "core").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(out, 0);
  auto copied = copy_core(feed.fd(), out, 8292);
  ::close(out);
  ASSERT_TRUE(copied);
  EXPECT_EQ(*copied, 8292u);
  EXPECT_EQ(read_file(dir / "core"), std::string(8292, 'y'));
}

TEST(CopyCore, SaysWhetherReadingOrWritingFailed) {
  TempDir dir;
  int out = ::open((dir / "core").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(out, 0);
  auto unreadable = copy_core(-1, out, 8192);
  ASSERT_FALSE(unreadable);
  EXPECT_EQ(unreadable.error().kind, util::ErrorKind::reading);
  Feeder feed(std::string(100000, 'y'), 7000);
  int read_only = ::open((dir / "core").c_str(), O_RDONLY | O_CLOEXEC);
  auto unwritable = copy_core(feed.fd(), read_only, UINT64_MAX);
  ::close(read_only);
  ::close(out);
  ASSERT_FALSE(unwritable);
  EXPECT_EQ(unwritable.error().kind, util::ErrorKind::writing);
}

// The writer, run as it runs in usercrash_c: a child with the process's
// credentials, in a directory tree standing for the process's root.
class CoreFileWriter : public ::testing::Test {
 protected:
  // A writer that refuses the path exits at once; the core written to it
  // then gets EPIPE, as in usercrash_c, which ignores SIGPIPE too.
  void SetUp() override {
    old_sigpipe_ = ::signal(SIGPIPE, SIG_IGN);
    if (::geteuid() != 0) GTEST_SKIP() << "the writer takes another user's credentials: needs root";
    ::chmod(root.path().c_str(), 0755);
    ::mkdir((root / "home").c_str(), 0755);
    ::mkdir((root / "home/user").c_str(), 0700);
    ASSERT_EQ(::chown((root / "home/user").c_str(), kNobody, kNobody), 0);
    ::mkdir((root / "cores").c_str(), 0733);
    ::chmod((root / "cores").c_str(), 0733);  // past the umask
  }

  // Writes `core` through the writer; returns its exit status.
  int write(const std::string& path, const std::string& core, uint64_t limit = UINT64_MAX) {
    CoreFileRequest request;
    request.path = path;
    request.root.reset(::open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    request.cwd.reset(::open((root / "home/user").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    request.uid = kNobody;
    request.gid = kNobody;
    request.limit = limit;
    request.timeout = std::chrono::seconds(10);
    auto handler = start_core_file_writer(std::move(request));
    if (!handler) throw std::runtime_error(handler.error().message);
    handler->write(std::as_bytes(std::span(core.data(), core.size())),
                   std::chrono::steady_clock::now() + std::chrono::seconds(10));
    auto status = handler->finish(std::chrono::seconds(10));
    return status.value_or(-1);
  }

  void TearDown() override { ::signal(SIGPIPE, old_sigpipe_); }

  TempDir root;
  sighandler_t old_sigpipe_ = SIG_DFL;
};

TEST_F(CoreFileWriter, ARelativeNameLandsInTheCwdOwnedByTheUserMode0600) {
  std::string core =
      "\x7f"
      "ELF" +
      std::string(10000, 'c');
  int status = write("core.42", core);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << explain_core_file_status(status);
  std::string path = root / "home/user/core.42";
  EXPECT_EQ(read_file(path), core);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
  EXPECT_EQ(st.st_gid, kNobody);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(CoreFileWriter, AnAbsoluteNameResolvesInTheProcesssRoot) {
  int status = write("/cores/core.7", "core bytes");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << explain_core_file_status(status);
  EXPECT_EQ(read_file(root / "cores/core.7"), "core bytes");
  // And ".." cannot climb out of it.
  status = write("/../../../cores/core.8", "x");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << explain_core_file_status(status);
  EXPECT_TRUE(std::filesystem::exists(root / "cores/core.8"));
}

TEST_F(CoreFileWriter, WhereTheUserCannotWriteNothingIsWritten) {
  ::mkdir((root / "rootonly").c_str(), 0755);
  int status = write("/rootonly/core", "x");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), EACCES) << explain_core_file_status(status);
  EXPECT_FALSE(std::filesystem::exists(root / "rootonly/core"));
  EXPECT_NE(explain_core_file_status(status).find("Permission denied"), std::string::npos);
}

TEST_F(CoreFileWriter, APlantedSymlinkIsNotFollowed) {
  write_file(root / "target", "precious", 0644);
  ASSERT_EQ(::symlink((root / "target").c_str(), (root / "home/user/core").c_str()), 0);
  int status = write("core", "overwritten");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), ELOOP) << explain_core_file_status(status);
  EXPECT_EQ(read_file(root / "target"), "precious");
}

TEST_F(CoreFileWriter, AnotherUsersFileOrAHardLinkIsLeftAlone) {
  write_file(root / "cores/core", "root's", 0666);  // world-writable, but root's
  int status = write("/cores/core", "overwritten");
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(explain_core_file_status(status).find("left alone"), std::string::npos) << explain_core_file_status(status);
  EXPECT_EQ(read_file(root / "cores/core"), "root's");

  // The user's own file, but with a second link somewhere else.
  write_file(root / "home/user/mine", "linked", 0600);
  ASSERT_EQ(::chown((root / "home/user/mine").c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::link((root / "home/user/mine").c_str(), (root / "home/user/core").c_str()), 0);
  status = write("core", "overwritten");
  EXPECT_NE(explain_core_file_status(status).find("left alone"), std::string::npos);
  EXPECT_EQ(read_file(root / "home/user/mine"), "linked");
}

TEST_F(CoreFileWriter, TheUsersOwnOldCoreIsReplacedWhole) {
  std::string old_core(50000, 'o');
  ASSERT_EQ(write("core", old_core), 0);
  ASSERT_EQ(write("core", "new"), 0);
  EXPECT_EQ(read_file(root / "home/user/core"), "new");
}

TEST_F(CoreFileWriter, AFifoNeverBlocksTheWriter) {
  ASSERT_EQ(::mkfifo((root / "home/user/core").c_str(), 0600), 0);
  ASSERT_EQ(::chown((root / "home/user/core").c_str(), kNobody, kNobody), 0);
  auto start = std::chrono::steady_clock::now();
  int status = write("core", "x");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << explain_core_file_status(status);
  struct stat st {};
  ASSERT_EQ(::lstat((root / "home/user/core").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(CoreFileWriter, TheLimitCutsTheFile) {
  ASSERT_EQ(write("core", std::string(20000, 'z'), 4096), 0);
  EXPECT_EQ(read_file(root / "home/user/core"), std::string(4096, 'z'));
}

}  // namespace
}  // namespace usercrash::client
