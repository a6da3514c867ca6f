// The crash path's phase trace: off unless the environment names an fd
// the process already holds open for writing.
#include "util/phase_trace.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace usercrash::util::trace {
namespace {

// In a child (tracing is process-wide and stays on): init with
// USERCRASH_TRACE_FD=`value`, mark, write the totals; exits 0 when the
// environment variable is gone afterwards and the trace fd is close-on-exec
// when on.
int traced_child(const std::string& value) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("USERCRASH_TRACE_FD", value.c_str(), 1);
    init_from_environment();
    mark("phase_one");
    { Span span(Cost::symbols); }
    write_totals();
    bool cloexec = !enabled() || (::fcntl(fd(), F_GETFD) & FD_CLOEXEC) != 0;
    ::_exit(std::getenv("USERCRASH_TRACE_FD") == nullptr && cloexec ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PhaseTrace, AWritableFileGetsMarksAndTotals) {
  test::TempDir dir;
  int file = ::open((dir / "trace").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(file, 0);
  int fd = ::fcntl(file, F_DUPFD, 10);  // inherited by the child, off the standard fds
  ::close(file);
  EXPECT_EQ(traced_child(std::to_string(fd)), 0);
  ::close(fd);
  std::string text = test::read_file(dir / "trace");
  EXPECT_NE(text.find(" mono-real "), std::string::npos) << text;
  EXPECT_NE(text.find(" mark phase_one "), std::string::npos) << text;
  EXPECT_NE(text.find(" total symbols "), std::string::npos) << text;
  EXPECT_NE(text.find(" 1\n"), std::string::npos) << "one call of the span:\n" << text;
}

TEST(PhaseTrace, NothingIsWrittenToAReadOnlyFdAStandardFdOrAClosedOne) {
  test::TempDir dir;
  test::write_file(dir / "trace", "");
  int read_only = ::open((dir / "trace").c_str(), O_RDONLY);
  ASSERT_GE(read_only, 0);
  int fd = ::fcntl(read_only, F_DUPFD, 10);
  ::close(read_only);
  EXPECT_EQ(traced_child(std::to_string(fd)), 0);
  ::close(fd);
  EXPECT_EQ(traced_child("2"), 0);
  EXPECT_EQ(traced_child("1000"), 0);
  EXPECT_EQ(traced_child("not a number"), 0);
  EXPECT_EQ(test::read_file(dir / "trace"), "");
}

TEST(PhaseTrace, OffWithoutTheVariable) {
  ::unsetenv("USERCRASH_TRACE_FD");
  init_from_environment();
  EXPECT_FALSE(enabled());
  EXPECT_EQ(fd(), -1);
}

}  // namespace
}  // namespace usercrash::util::trace
