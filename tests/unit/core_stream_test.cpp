// read_core_head over a pipe, as the kernel feeds usercrash_c.
#include "engine/core_stream.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "unit/core_bytes.h"
#include "unit/test_support.h"
#include "util/unique_fd.h"

namespace usercrash::engine {
namespace {

using test::Bytes;
using test::load_head;
using test::read_at;
using test::write_at;
using util::UniqueFd;

// A pipe whose write end is fed `data` by a thread, then closed (unless
// `keep_open`, to model a kernel still holding the rest of the core).
class Feeder {
 public:
  explicit Feeder(Bytes data) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    read_.reset(fds[0]);
    write_.reset(fds[1]);
    thread_ = std::thread([this, data = std::move(data)] {
      size_t done = 0;
      while (done < data.size()) {
        ssize_t n = ::write(write_.get(), data.data() + done, data.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      write_.reset();
    });
  }
  ~Feeder() {
    read_.reset();  // unblocks a writer the reader left behind (EPIPE)
    thread_.join();
  }
  int fd() const { return read_.get(); }
  Bytes rest() {
    Bytes out;
    std::byte buffer[65536];
    ssize_t n;
    while ((n = ::read(read_.get(), buffer, sizeof buffer)) > 0) out.insert(out.end(), buffer, buffer + n);
    return out;
  }

 private:
  UniqueFd read_, write_;
  std::thread thread_;
};

// A feeder left writing when the reader stops gets EPIPE, not SIGPIPE.
class CoreStream : public ::testing::Test {
 protected:
  void SetUp() override { old_ = ::signal(SIGPIPE, SIG_IGN); }
  void TearDown() override { ::signal(SIGPIPE, old_); }

 private:
  sighandler_t old_ = SIG_DFL;
};

TEST_F(CoreStream, ReadsExactlyTheHeadAndLeavesTheRest) {
  Bytes head = load_head("threads.head");
  Bytes stream = head;
  Bytes tail(300000);
  for (size_t i = 0; i < tail.size(); ++i) tail[i] = static_cast<std::byte>(i * 7);
  stream.insert(stream.end(), tail.begin(), tail.end());
  Feeder feed(stream);
  CoreHead h = read_core_head(feed.fd());
  EXPECT_FALSE(h.problem) << *h.problem;
  EXPECT_FALSE(h.end_of_stream);
  EXPECT_EQ(h.bytes, head) << "reading stops at the end of the notes";
  ASSERT_TRUE(h.layout);
  EXPECT_EQ(h.layout->loads.size(), 32u);
  EXPECT_EQ(h.notes.threads.size(), 5u);
  ASSERT_TRUE(h.notes.siginfo);
  EXPECT_EQ(h.notes.siginfo->address, 0x10u);
  EXPECT_EQ(h.notes.files.size(), 15u);
  EXPECT_TRUE(feed.rest() == tail) << "the rest of the stream is left for whoever takes it";
}

TEST_F(CoreStream, HeadFollowedByEndOfStreamIsComplete) {
  Feeder feed(load_head("regs.head"));
  CoreHead h = read_core_head(feed.fd());
  EXPECT_FALSE(h.problem);
  EXPECT_FALSE(h.end_of_stream);
  ASSERT_EQ(h.notes.threads.size(), 1u);
  EXPECT_EQ(h.notes.threads[0].regs.pc(), 0x401705u);
}

TEST_F(CoreStream, StreamEndingInsideTheNotes) {
  Bytes head = load_head("regs.head");
  head.resize(3000);
  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_EQ(*h.problem, "core stream ended after 3000 bytes, inside its header");
  EXPECT_TRUE(h.end_of_stream);
  EXPECT_EQ(h.bytes.size(), 3000u);
  ASSERT_TRUE(h.layout);
  EXPECT_EQ(h.layout->note_offset, 0x318u);
  EXPECT_TRUE(h.notes.threads.empty());
}

TEST_F(CoreStream, StreamEndingInsideTheElfHeader) {
  Bytes head = load_head("regs.head");
  head.resize(10);
  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_TRUE(h.end_of_stream);
  EXPECT_FALSE(h.layout);
  EXPECT_EQ(h.bytes.size(), 10u);
}

TEST_F(CoreStream, EmptyStream) {
  Feeder feed({});
  CoreHead h = read_core_head(feed.fd());
  EXPECT_TRUE(h.end_of_stream);
  EXPECT_EQ(*h.problem, "core stream ended after 0 bytes, inside its header");
}

TEST_F(CoreStream, NotAnElfCore) {
  std::string text(5000, 'x');
  auto b = std::as_bytes(std::span(text.data(), text.size()));
  Feeder feed(Bytes(b.begin(), b.end()));
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_EQ(*h.problem, "the core stream is not usable: not an ELF file");
  EXPECT_FALSE(h.layout);
  EXPECT_FALSE(h.end_of_stream);
  EXPECT_EQ(h.bytes.size(), kElfHeaderSize) << "nothing more is read from a stream that is not a core";
}

TEST_F(CoreStream, ExecutableInsteadOfCore) {
  Bytes head = load_head("regs.head");
  write_at<uint16_t>(head, offsetof(Elf64_Ehdr, e_type), ET_EXEC);
  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_NE(h.problem->find("is not a core"), std::string::npos);
}

TEST_F(CoreStream, HeadLargerThanTheCap) {
  Feeder feed(load_head("threads.head"));
  CoreHead h = read_core_head(feed.fd(), {}, 4096);
  ASSERT_TRUE(h.problem);
  EXPECT_EQ(*h.problem, "core head larger than 4096 bytes; notes not read");
  EXPECT_TRUE(h.notes.threads.empty());
  EXPECT_LE(h.bytes.size(), 4096u);
}

TEST_F(CoreStream, NoNoteSegment) {
  Bytes head = load_head("regs.head");
  write_at<uint32_t>(head, 64 + offsetof(Elf64_Phdr, p_type), PT_NULL);
  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_EQ(*h.problem, "the core has no note segment");
  ASSERT_TRUE(h.layout);
}

TEST_F(CoreStream, NoteSegmentBeforeTheProgramHeaders) {
  Bytes head = load_head("regs.head");
  write_at<uint64_t>(head, 64 + offsetof(Elf64_Phdr, p_offset), 8);
  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_EQ(*h.problem, "the note segment lies before the program headers");
}

TEST_F(CoreStream, NoteSizeThatWrapsAroundIsRefused) {
  Bytes head = load_head("regs.head");
  // p_offset + p_filesz wraps to a small number: must not be taken as "already read".
  write_at<uint64_t>(head, 64 + offsetof(Elf64_Phdr, p_filesz), ~uint64_t{0} - 0x100);
  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  ASSERT_TRUE(h.problem);
  EXPECT_TRUE(h.notes.threads.empty());
}

TEST_F(CoreStream, HugeProgramHeaderOffset) {
  for (uint64_t phoff : {uint64_t{1} << 40, ~uint64_t{0} - 10}) {
    Bytes head = load_head("regs.head");
    write_at<uint64_t>(head, offsetof(Elf64_Ehdr, e_phoff), phoff);
    Feeder feed(head);
    CoreHead h = read_core_head(feed.fd());
    ASSERT_TRUE(h.problem) << phoff;
    EXPECT_TRUE(h.notes.threads.empty());
  }
}

TEST_F(CoreStream, ThreadLimitsApply) {
  Feeder feed(load_head("threads.head"));
  CoreLimits limits;
  limits.max_threads = 1;
  CoreHead h = read_core_head(feed.fd(), limits);
  EXPECT_FALSE(h.problem);
  ASSERT_EQ(h.notes.threads.size(), 1u);
  EXPECT_EQ(h.notes.threads[0].tid, 29882);
}

// Every byte of a spilled head, read back from its memory file.
Bytes spilled_bytes(const CoreHead& h) {
  Bytes out(h.size);
  EXPECT_EQ(::pread(h.spilled.get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
  return out;
}

TEST_F(CoreStream, AHeadPastItsMemoryShareIsSpilledAndParsedAlike) {
  Bytes head = load_head("threads.head");
  Bytes stream = head;
  Bytes tail(5000, std::byte{0x5a});
  stream.insert(stream.end(), tail.begin(), tail.end());
  Feeder feed(stream);
  CoreHead h = read_core_head(feed.fd(), {}, kMaxCoreHead, 1024);
  EXPECT_FALSE(h.problem) << *h.problem;
  ASSERT_TRUE(h.spilled);
  EXPECT_TRUE(h.bytes.empty()) << "a spilled head is not also kept in memory";
  EXPECT_EQ(h.size, head.size());
  EXPECT_TRUE(spilled_bytes(h) == head);
  EXPECT_EQ(h.notes.threads.size(), 5u);
  EXPECT_EQ(h.notes.files.size(), 15u);
  ASSERT_TRUE(h.notes.siginfo);
  EXPECT_EQ(h.notes.siginfo->address, 0x10u);
  EXPECT_TRUE(feed.rest() == tail);
}

TEST_F(CoreStream, ANoteTooLargeForMemoryIsParsedFromItsStartAndTheNotesAfterItWhole) {
  Bytes head = load_head("regs.head");
  Feeder plain_feed(head);
  CoreHead plain = read_core_head(plain_feed.fd());
  ASSERT_FALSE(plain.problem);
  // An NT_FILE of 2000 files with 5000-byte names (10 MB) before the core's own notes.
  constexpr size_t kFiles = 2000, kName = 5000;
  Bytes desc(16 + kFiles * 24);
  write_at<uint64_t>(desc, 0, kFiles);
  write_at<uint64_t>(desc, 8, 4096);
  for (size_t i = 0; i < kFiles; ++i) {
    write_at<uint64_t>(desc, 16 + i * 24, 0x10000000 + i * 0x2000);
    write_at<uint64_t>(desc, 16 + i * 24 + 8, 0x10001000 + i * 0x2000);
    desc.insert(desc.end(), std::byte{'/'});
    desc.insert(desc.end(), kName - 2, std::byte{'a'});
    desc.insert(desc.end(), std::byte{0});
  }
  desc.resize((desc.size() + 3) & ~size_t{3});
  Bytes note(12 + 8);
  write_at<uint32_t>(note, 0, 5);
  write_at<uint32_t>(note, 4, static_cast<uint32_t>(desc.size()));
  write_at<uint32_t>(note, 8, NT_FILE);
  std::memcpy(note.data() + 12, "CORE", 5);
  note.insert(note.end(), desc.begin(), desc.end());
  const size_t note_offset = read_at<uint64_t>(head, 64 + offsetof(Elf64_Phdr, p_offset));
  write_at<uint64_t>(head, 64 + offsetof(Elf64_Phdr, p_filesz),
                     read_at<uint64_t>(head, 64 + offsetof(Elf64_Phdr, p_filesz)) + note.size());
  head.insert(head.begin() + static_cast<ptrdiff_t>(note_offset), note.begin(), note.end());

  Feeder feed(head);
  CoreHead h = read_core_head(feed.fd());
  EXPECT_FALSE(h.problem) << *h.problem;
  ASSERT_TRUE(h.spilled) << "a 10 MB head is kept outside the heap";
  EXPECT_EQ(h.size, head.size());
  EXPECT_TRUE(spilled_bytes(h) == head) << "the head is passed on byte for byte";
  // The files whose names lie in the first 4 MiB of the note, then the core's own.
  const size_t whole = (kMaxNoteInMemory - desc.size() % 4 - 16 - kFiles * 24) / kName;
  EXPECT_EQ(h.notes.files.size(), whole + plain.notes.files.size());
  EXPECT_EQ(h.notes.files[0].path.size(), kName - 1);
  ASSERT_EQ(h.notes.threads.size(), plain.notes.threads.size()) << "the notes after the cut one are read";
  EXPECT_EQ(h.notes.threads[0].regs.pc(), plain.notes.threads[0].regs.pc());
  bool said = false;
  for (const auto& p : h.notes.problems) said = said || p.find("only its first 4194304 were read") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(h.notes.problems);
}

TEST_F(CoreStream, ReadErrorIsAProblemNotACrash) {
  CoreHead h = read_core_head(-1);
  ASSERT_TRUE(h.problem);
  EXPECT_NE(h.problem->find("reading the core stream failed"), std::string::npos);
}

}  // namespace
}  // namespace usercrash::engine
