// The /proc parsers on realistic copies of what the kernel prints
// (fixtures/proc/), plus the hostile corners a process can put in them.
#include "proc/proc_parsers.h"

#include <elf.h>

#include <cstring>

#include <gtest/gtest.h>

#include "unit/test_support.h"

namespace usercrash::proc {
namespace {

std::string proc_fixture(const char* name) { return test::read_file(test::fixture(std::string("proc/") + name)); }

// --- maps -------------------------------------------------------------------

TEST(ParseMaps, RealisticFile) {
  std::string text = proc_fixture("maps.txt");
  ASSERT_FALSE(text.empty());
  bool truncated = true;
  auto maps = parse_maps(text, 1000, &truncated);
  EXPECT_FALSE(truncated);
  ASSERT_EQ(maps.size(), 26u);

  const MapEntry& exe = maps[0];
  EXPECT_EQ(exe.start, 0x55bb7598b000u);
  EXPECT_EQ(exe.end, 0x55bb7598c000u);
  EXPECT_EQ(exe.perms, "r--p");
  EXPECT_EQ(exe.offset, 0u);
  EXPECT_EQ(exe.device, "fe:00");
  EXPECT_EQ(exe.inode, 10952963u);
  EXPECT_EQ(exe.path, "/opt/demo/bin/demo");
  EXPECT_TRUE(exe.file_backed());
  EXPECT_TRUE(exe.readable());
  EXPECT_FALSE(exe.writable());
  EXPECT_FALSE(exe.executable());

  EXPECT_EQ(maps[1].perms, "r-xp");
  EXPECT_EQ(maps[1].offset, 0x1000u);
  EXPECT_TRUE(maps[1].executable());

  EXPECT_EQ(maps[5].path, "[heap]");
  EXPECT_FALSE(maps[5].file_backed());
  EXPECT_EQ(maps[6].path, "") << "anonymous: the kernel prints a trailing space and no name";
  EXPECT_EQ(maps[6].inode, 0u);

  EXPECT_EQ(maps[13].path, "/opt/demo/scratch (deleted)");
  EXPECT_EQ(maps[13].perms, "rw-s");
  EXPECT_TRUE(maps[13].writable());
  EXPECT_EQ(maps[14].path, "/opt/demo/my data file.bin");
  EXPECT_EQ(maps[18].path, "[vdso]");
  EXPECT_TRUE(maps[18].executable());
  EXPECT_FALSE(maps[18].file_backed());
  EXPECT_EQ(maps[24].path, "[stack]");
  EXPECT_EQ(maps[25].start, 0xffffffffff600000u);
  EXPECT_EQ(maps[25].path, "[vsyscall]");
  EXPECT_EQ(maps[25].perms, "--xp");
  EXPECT_FALSE(maps[25].readable());

  for (size_t i = 1; i < maps.size(); ++i) EXPECT_LE(maps[i - 1].end, maps[i].start) << i;
}

TEST(ParseMaps, MalformedLinesAreSkipped) {
  auto maps = parse_maps(proc_fixture("maps_malformed.txt"), 100);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].start, 0x400000u);
  EXPECT_EQ(maps[0].path, "/usr/bin/good");
  EXPECT_EQ(maps[1].start, 0x405000u);
  EXPECT_EQ(maps[1].offset, 0x1000u);
  EXPECT_EQ(maps[2].start, 0x407000u);
  EXPECT_EQ(maps[2].path, "");
}

TEST(ParseMaps, CapSetsTruncated) {
  std::string text = proc_fixture("maps.txt");
  bool truncated = false;
  auto maps = parse_maps(text, 10, &truncated);
  EXPECT_EQ(maps.size(), 10u);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(maps[9].start, 0x7f7c23365000u);
  truncated = true;
  EXPECT_EQ(parse_maps(text, 26, &truncated).size(), 26u);
  EXPECT_FALSE(truncated) << "exactly at the cap is not truncated";
  EXPECT_EQ(parse_maps(text, 0, &truncated).size(), 0u);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(parse_maps(text, 5).size(), 5u) << "truncated is optional";
}

TEST(ParseMaps, PathsKeepEverythingAfterThePadding) {
  auto e = parse_maps_line("00400000-00401000 r--p 00000000 08:01 42    /a  b/c (deleted) ");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "/a  b/c (deleted) ");
  auto tab = parse_maps_line("00400000-00401000 r--p 00000000 08:01 42 /x\ty");
  ASSERT_TRUE(tab);
  EXPECT_EQ(tab->path, "/x\ty");
  // The kernel escapes a newline in a name as \012; a raw one would end the line.
  auto maps = parse_maps("00400000-00401000 r--p 00000000 08:01 42 /evil\nname\n", 10);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps[0].path, "/evil");
}

TEST(ParseMaps, BadLines) {
  for (const char* line : {"", "-", "0-1", "0-1 r--p", "0-1 r--p 0", "0-1 r--p 0 00:00", "1-0 r--p 0 00:00 0",
                           "0-1 r--pp 0 00:00 0", "0-1 r-p 0 00:00 0", "0-1 r--p -1 00:00 0", "0-1 r--p 0 00:00 -1",
                           "00400000-1ffffffffffffffff r--p 0 00:00 0", "x-1 r--p 0 00:00 0"})
    EXPECT_EQ(parse_maps_line(line), std::nullopt) << line;
  EXPECT_TRUE(parse_maps_line("0-0 ---p 0 00:00 0")) << "an empty range is odd but well-formed";
}

TEST(MapEntry, Contains) {
  MapEntry m;
  m.start = 0x1000;
  m.end = 0x2000;
  EXPECT_TRUE(m.contains(0x1000));
  EXPECT_TRUE(m.contains(0x1fff));
  EXPECT_FALSE(m.contains(0x2000));
  EXPECT_FALSE(m.contains(0xfff));
}

// --- status -----------------------------------------------------------------

TEST(ParseStatus, RealisticFile) {
  Status s = parse_status(proc_fixture("status.txt"));
  EXPECT_EQ(s.name, "worker (x)");
  EXPECT_EQ(s.state, "S (sleeping)");
  EXPECT_EQ(s.tgid, 48213);
  EXPECT_EQ(s.pid, 48215);
  EXPECT_EQ(s.ppid, 48190);
  EXPECT_EQ(s.tracer_pid, 0);
  EXPECT_EQ(s.uid, 1000u);
  EXPECT_EQ(s.euid, 1001u);
  EXPECT_EQ(s.suid, 1002u);
  EXPECT_EQ(s.fsuid, 1003u);
  EXPECT_EQ(s.gid, 100u);
  EXPECT_EQ(s.egid, 101u);
  EXPECT_EQ(s.sgid, 102u);
  EXPECT_EQ(s.fsgid, 103u);
  EXPECT_EQ(s.ns_pids, (std::vector<pid_t>{48215, 59, 3}));
  EXPECT_EQ(s.groups, (std::vector<gid_t>{27, 100}));
  EXPECT_EQ(s.threads, 4u);
}

TEST(ParseStatus, OneNamespaceLevelAndMissingFields) {
  Status s = parse_status("Name:\tcat\nPid:\t27418\nNSpid:\t27418\n");
  EXPECT_EQ(s.name, "cat");
  EXPECT_EQ(s.pid, 27418);
  EXPECT_EQ(s.ns_pids, (std::vector<pid_t>{27418}));
  EXPECT_FALSE(s.uid);
  EXPECT_FALSE(s.tgid);
  EXPECT_FALSE(s.threads);
  EXPECT_TRUE(s.state.empty());
}

TEST(ParseStatus, GarbageNeverFails) {
  Status s = parse_status("Uid:\t1\tx\nGid:\nPid:\tabc\nno colon here\n:\t\nNSpid:\t1\tq\t3\nThreads:\t-1\n");
  EXPECT_EQ(s.uid, 1u);
  EXPECT_FALSE(s.euid) << "a field that is not a number stays absent";
  EXPECT_FALSE(s.gid);
  EXPECT_FALSE(s.pid);
  EXPECT_EQ(s.ns_pids, (std::vector<pid_t>{1, 3}));
  EXPECT_FALSE(s.threads);
  Status empty = parse_status("");
  EXPECT_TRUE(empty.name.empty());
}

TEST(ParseStatus, NameWithTabsAndEscapesIsKeptAsIs) {
  // The kernel escapes control characters in Name: but a name may hold spaces.
  Status s = parse_status("Name:\tmy  prog\\n\n");
  EXPECT_EQ(s.name, "my  prog\\n");
}

TEST(ParseStatus, ManyNamespaceLevelsAreBounded) {
  std::string line = "NSpid:";
  for (int i = 0; i < 100; ++i) line += "\t" + std::to_string(i + 1);
  Status s = parse_status(line + "\n");
  EXPECT_EQ(s.ns_pids.size(), 32u);
  EXPECT_EQ(s.ns_pids.front(), 1);
}

TEST(ParseStatus, NoGroupsAndBadGroups) {
  EXPECT_TRUE(parse_status("Groups:\t\n").groups.empty());
  EXPECT_EQ(parse_status("Groups:\t5 x -1 7 \n").groups, (std::vector<gid_t>{5, 7}));
}

TEST(ParseCoreLimit, SoftLimitInBytesOrUnlimited) {
  const char* limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max core file size        0                    unlimited            bytes     \n";
  EXPECT_EQ(parse_core_limit(limits), 0u);
  EXPECT_EQ(parse_core_limit("Max core file size        unlimited            unlimited            bytes\n"),
            UINT64_MAX);
  EXPECT_EQ(parse_core_limit("Max core file size        1048576              unlimited            bytes\n"), 1048576u);
  EXPECT_FALSE(parse_core_limit("Max cpu time              unlimited            unlimited            seconds\n"));
  EXPECT_FALSE(parse_core_limit("Max core file size        lots                 unlimited            bytes\n"));
  EXPECT_FALSE(parse_core_limit(""));
}

// --- stat -------------------------------------------------------------------

TEST(ParseStat, CommWithSpacesAndParentheses) {
  auto st = parse_stat(proc_fixture("stat.txt"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, 48213);
  EXPECT_EQ(st->comm, "my) prog (x");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 48190);
  EXPECT_EQ(st->start_time, 227906u);
}

TEST(ParseStat, CommThatLooksLikeFields) {
  auto st = parse_stat("7 (a) R 1 2 3) Z 99 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 123 0 0\n");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->comm, "a) R 1 2 3");
  EXPECT_EQ(st->state, 'Z');
  EXPECT_EQ(st->ppid, 99);
}

// "1 (x) S 1 0 0 ... 0 START": fields 5..21 are zero, field 22 is `start`.
std::string stat_line(const std::string& start, int zeros = 17) {
  std::string s = "1 (x) S 1";
  for (int i = 0; i < zeros; ++i) s += " 0";
  return s + " " + start;
}

TEST(ParseStat, Malformed) {
  for (const std::string& bad : {std::string(), std::string("1 x S 1"), std::string("(x) S 1"), std::string("1 (x S 1"),
                                 std::string("1 )x( S 1"), "abc" + stat_line("5").substr(1),
                                 stat_line("5", 16).substr(0, 20), stat_line("notanumber"), stat_line("5", 15)})
    EXPECT_EQ(parse_stat(bad), std::nullopt) << bad;
  auto ok = parse_stat(stat_line("5"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->start_time, 5u);
  EXPECT_EQ(ok->comm, "x");
  auto empty_comm = parse_stat("1 () R 0" + stat_line("6").substr(9));
  ASSERT_TRUE(empty_comm);
  EXPECT_EQ(empty_comm->comm, "");
  EXPECT_EQ(empty_comm->state, 'R');
  EXPECT_EQ(empty_comm->start_time, 6u);
}

// --- NUL-separated ----------------------------------------------------------

TEST(ParseNulSeparated, Cmdline) {
  bool truncated = true;
  auto args = parse_nul_separated(proc_fixture("cmdline.bin"), 100, &truncated);
  EXPECT_FALSE(truncated);
  EXPECT_EQ(args, (std::vector<std::string>{"/opt/demo/bin/demo", "--mode", "two words", "", "last"}));
}

TEST(ParseNulSeparated, NoFinalNulAndCaps) {
  EXPECT_EQ(parse_nul_separated(std::string_view("a\0b", 3), 10), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse_nul_separated("", 10), std::vector<std::string>{});
  EXPECT_EQ(parse_nul_separated(std::string_view("\0", 1), 10), std::vector<std::string>{""});
  bool truncated = false;
  auto two = parse_nul_separated(proc_fixture("cmdline.bin"), 2, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(two, (std::vector<std::string>{"/opt/demo/bin/demo", "--mode"}));
  EXPECT_TRUE(parse_nul_separated("x", 0, &truncated).empty());
  EXPECT_TRUE(truncated);
}

// --- kernel stack -------------------------------------------------------------

TEST(ParseKernelStack, StripsThePrefix) {
  auto lines = parse_kernel_stack(proc_fixture("stack.txt"), 100);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[0], "pipe_write+0x4a6/0x6a0");
  EXPECT_EQ(lines[5], "vfs_coredump+0x8b4/0x1360");
  EXPECT_EQ(lines[9], "asm_exc_page_fault+0x26/0x30");
}

TEST(ParseKernelStack, CapAndOddLines) {
  EXPECT_EQ(parse_kernel_stack(proc_fixture("stack.txt"), 3).size(), 3u);
  auto odd = parse_kernel_stack("no prefix\n[<0000000000000000>] hex_prefix+0x1/0x2\n[<broken\n\n", 10);
  EXPECT_EQ(odd, (std::vector<std::string>{"no prefix", "hex_prefix+0x1/0x2", "[<broken"}));
  EXPECT_TRUE(parse_kernel_stack("", 10).empty());
}

// --- auxv -------------------------------------------------------------------

TEST(ParseAuxv, RealisticVector) {
  auto auxv = parse_auxv(proc_fixture("auxv.bin"));
  ASSERT_EQ(auxv.size(), 22u);
  EXPECT_EQ(auxv[0].type, static_cast<uint64_t>(AT_SYSINFO_EHDR));
  EXPECT_EQ(auxv[0].value, 0x7fc9b3d01000u);
  auto find = [&](uint64_t type) -> std::optional<uint64_t> {
    for (const auto& e : auxv)
      if (e.type == type) return e.value;
    return std::nullopt;
  };
  EXPECT_EQ(find(AT_PAGESZ), 4096u);
  EXPECT_EQ(find(AT_PHENT), 56u);
  EXPECT_EQ(find(AT_SECURE), 0u);
  EXPECT_EQ(find(AT_UID), 0u);
  EXPECT_TRUE(find(AT_ENTRY));
  EXPECT_FALSE(find(AT_NULL));
}

TEST(ParseAuxv, StopsAtAtNullAndIgnoresAPartialPair) {
  uint64_t words[] = {AT_PAGESZ, 4096, AT_SECURE, 1, AT_NULL, 0, AT_UID, 5};
  std::string bytes(reinterpret_cast<const char*>(words), sizeof words);
  auto auxv = parse_auxv(bytes);
  ASSERT_EQ(auxv.size(), 2u);
  EXPECT_EQ(auxv[1].type, static_cast<uint64_t>(AT_SECURE));
  EXPECT_EQ(auxv[1].value, 1u);
  auto partial = parse_auxv(std::string_view(bytes.data(), 16 + 9));
  EXPECT_EQ(partial.size(), 1u);
  EXPECT_TRUE(parse_auxv("").empty());
}

TEST(ParseAuxv, WithoutAtNullIsBounded) {
  std::string bytes;
  for (uint64_t i = 0; i < 1000; ++i) {
    uint64_t pair[] = {i + 1, i};
    bytes.append(reinterpret_cast<const char*>(pair), sizeof pair);
  }
  EXPECT_EQ(parse_auxv(bytes).size(), 256u);
}

// --- pidfd fdinfo -------------------------------------------------------------

TEST(ParsePidfdFdinfo, LivePidExitedAndNotAPidfd) {
  EXPECT_EQ(parse_pidfd_fdinfo(proc_fixture("fdinfo_pidfd.txt")), 48213);
  EXPECT_EQ(parse_pidfd_fdinfo(proc_fixture("fdinfo_pidfd_exited.txt")), -1);
  EXPECT_EQ(parse_pidfd_fdinfo(proc_fixture("fdinfo_regular_file.txt")), std::nullopt);
  EXPECT_EQ(parse_pidfd_fdinfo(""), std::nullopt);
  EXPECT_EQ(parse_pidfd_fdinfo("Pid:\tnope\n"), std::nullopt);
  EXPECT_EQ(parse_pidfd_fdinfo("NSpid:\t5\n"), std::nullopt) << "NSpid is not Pid";
  EXPECT_EQ(parse_pidfd_fdinfo("Pid:\t7\nPid:\t8\n"), 7);
}

}  // namespace
}  // namespace usercrash::proc
