// journald's native protocol as util/journal_socket.h speaks it, checked
// against a socket of the test's own standing in for journald.
#include "util/journal_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"
#include "util/unique_fd.h"

namespace usercrash::util::journal {
namespace {

std::string le64(uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

// A datagram socket bound at `path`, as journald's.
UniqueFd bound_socket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return {};
  return fd;
}

TEST(JournalSocket, PlainFieldsAreNameEqualsValueLines) {
  EXPECT_EQ(datagram({"MESSAGE=hello", "PRIORITY=6", "EMPTY="}), "MESSAGE=hello\nPRIORITY=6\nEMPTY=\n");
}

TEST(JournalSocket, AValueWithANewlineGoesWithItsSize) {
  std::string value = "#00 pc 0x1 main\n#01 pc 0x2 start";
  EXPECT_EQ(datagram({"USERCRASH_BACKTRACE=" + value, "A=b"}),
            "USERCRASH_BACKTRACE\n" + le64(value.size()) + value + "\nA=b\n");
}

TEST(JournalSocket, AnEntryArrivesAsOneDatagram) {
  test::TempDir dir;
  std::string path = dir / "socket";
  UniqueFd journald = bound_socket(path);
  ASSERT_TRUE(journald);
  std::vector<std::string> fields = {"MESSAGE=crashed\nagain", "PRIORITY=2", "SYSLOG_IDENTIFIER=usercrash_s"};
  ASSERT_EQ(send(fields, path.c_str()), 0);
  std::string got(4096, '\0');
  ssize_t n = ::recv(journald.get(), got.data(), got.size(), MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  got.resize(static_cast<size_t>(n));
  EXPECT_EQ(got, datagram(fields));
}

TEST(JournalSocket, AnEntryTooLargeForADatagramArrivesAsASealedMemfd) {
  test::TempDir dir;
  std::string path = dir / "socket";
  UniqueFd journald = bound_socket(path);
  ASSERT_TRUE(journald);
  // Larger than any AF_UNIX datagram may be (net.core.wmem_max's default).
  std::vector<std::string> fields = {"MESSAGE=" + std::string(4 << 20, 'x'), "PRIORITY=6"};
  ASSERT_EQ(send(fields, path.c_str()), 0);
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_EQ(::recvmsg(journald.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC), 0) << "an empty datagram";
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->cmsg_type, SCM_RIGHTS);
  int passed;
  std::memcpy(&passed, CMSG_DATA(c), sizeof passed);
  UniqueFd memfd(passed);
  int seals = ::fcntl(memfd.get(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
  std::string expected = datagram(fields), got(expected.size() + 1, '\0');
  EXPECT_EQ(::pread(memfd.get(), got.data(), got.size(), 0), static_cast<ssize_t>(expected.size()));
  got.resize(expected.size());
  EXPECT_TRUE(got == expected);
}

TEST(JournalSocket, NoJournaldIsAnError) {
  test::TempDir dir;
  EXPECT_LT(send({"MESSAGE=x"}, (dir / "absent").c_str()), 0);
}

}  // namespace
}  // namespace usercrash::util::journal
