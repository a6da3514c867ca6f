// usercrashctl list / info / debug / analyze / clean over a crash directory
// filled by real crashes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "e2e/report_schema.h"
#include "tools/ctl/time_display.h"

namespace usercrash::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Three real crashes (SIGSEGV, SIGABRT, SIGFPE) in slots 00, 01, 02.
class CtlInspect : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_ROOT(); }

  void crash_three(bool save_core) {
    std::vector<std::string> extra = {"count=10", std::string("save_core=") + (save_core ? "yes" : "no")};
    server_ = std::make_unique<ServerProcess>(dir_, extra);
    CorePatternGuard guard(client_pattern(server_->config()));
    const std::vector<std::vector<std::string>> modes = {{"null"}, {"abort"}, {"div-zero", "0"}};
    for (size_t i = 0; i < modes.size(); ++i) {
      pids_.push_back(run_crasher(crasher("crasher"), modes[i]).pid);
      ASSERT_TRUE(wait_for_report_count(directory(), i + 1)) << server_->log();
      ASSERT_TRUE(wait_for_report(directory(), "usercrash_0" + std::to_string(i))) << server_->log();
      if (save_core)
        for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
             !exists(directory() + "/usercrash_0" + std::to_string(i) + ".core.zst") &&
             std::chrono::steady_clock::now() < deadline;)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  RunResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {program("usercrashctl"), "--config", server_->config()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  std::string directory() const { return server_->directory(); }
  std::string slot(const std::string& name) const { return directory() + "/" + name; }
  // Text report NAME as info prints it: its time in the local zone (issue
  // 12.8), the rest as written.
  std::string shown(const std::string& name) const {
    return tools::ctl::show_report_times(read_file(slot(name)), false);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<pid_t> pids_;
};

TEST_F(CtlInspect, ListShowsEveryReportNewestFirst) {
  crash_three(true);
  RunResult r = ctl({"list"});
  ASSERT_EQ(exit_code(r), 0) << r.output;
  auto rows = lines(r.output);
  ASSERT_EQ(rows.size(), 4u) << r.output;
  EXPECT_TRUE(rows[0].starts_with("SLOT")) << rows[0];
  for (const char* column : {"TIME", "PID", "UID", "SIGNAL", "CORE", "EXE"})
    EXPECT_NE(rows[0].find(column), std::string::npos) << column;
  const char* signals[] = {"SIGFPE", "SIGABRT", "SIGSEGV"};
  for (size_t i = 0; i < 3; ++i) {
    const std::string& row = rows[i + 1];
    EXPECT_TRUE(row.starts_with("usercrash_0" + std::to_string(2 - i))) << row;
    EXPECT_NE(row.find(" " + std::to_string(pids_[2 - i]) + " "), std::string::npos) << row;
    EXPECT_NE(row.find(signals[i]), std::string::npos) << row;
    EXPECT_NE(row.find(" yes "), std::string::npos) << row;
    EXPECT_TRUE(row.ends_with(crasher("crasher"))) << row;
  }
}

TEST_F(CtlInspect, ListJsonHasTheSameFacts) {
  crash_three(false);
  RunResult r = ctl({"list", "--json"});
  ASSERT_EQ(exit_code(r), 0) << r.output;
  json list = json::parse(r.output);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(schema_errors_of(r.output, "list"), "");
  EXPECT_EQ(list[0]["slot"], "usercrash_02");
  EXPECT_EQ(list[0]["pid"], pids_[2]);
  EXPECT_EQ(list[0]["uid"], 0);
  EXPECT_EQ(list[0]["signal"]["number"], SIGFPE);
  EXPECT_EQ(list[0]["signal"]["name"], "SIGFPE");
  EXPECT_EQ(list[0]["exe"], crasher("crasher"));
  EXPECT_EQ(list[0]["comm"], "crasher");
  EXPECT_EQ(list[0]["core"], false);
  EXPECT_EQ(list[0]["path"], slot("usercrash_02"));
  EXPECT_TRUE(list[0]["time"].get<std::string>().ends_with("Z"));
  EXPECT_TRUE(list[0]["problem"].is_null());
  EXPECT_EQ(list[2]["slot"], "usercrash_00");
  EXPECT_EQ(list[2]["signal"]["name"], "SIGSEGV");
}

TEST_F(CtlInspect, ListToleratesAMissingOrBrokenJson) {
  crash_three(false);
  fs::remove(slot("usercrash_00.json"));
  write_file(slot("usercrash_01.json"), "{\"pid\": 1, \"threads\": [", 0600);
  RunResult r = ctl({"list"});
  ASSERT_EQ(exit_code(r), 0) << r.output;
  auto rows = lines(r.output);
  ASSERT_EQ(rows.size(), 4u) << r.output;
  // From the text's header: pid, signal and exe are still there.
  EXPECT_NE(rows[2].find(" " + std::to_string(pids_[1]) + " "), std::string::npos) << rows[2];
  EXPECT_NE(rows[2].find("SIGABRT"), std::string::npos) << rows[2];
  EXPECT_NE(rows[2].find("(broken JSON"), std::string::npos) << rows[2];
  EXPECT_NE(rows[3].find(" " + std::to_string(pids_[0]) + " "), std::string::npos) << rows[3];
  EXPECT_NE(rows[3].find(crasher("crasher") + " (no JSON)"), std::string::npos) << rows[3];
  json list = json::parse(ctl({"list", "--json"}).output);
  EXPECT_EQ(list[2]["pid"], pids_[0]);
  EXPECT_EQ(list[2]["problem"], "no JSON");
  EXPECT_EQ(list[2]["json"], false);
  // info --json of a slot without JSON says so.
  RunResult info = ctl({"info", "--full", "--json", "0"});
  EXPECT_EQ(exit_code(info), 1);
  EXPECT_NE(info.output.find("has no JSON"), std::string::npos) << info.output;
}

// Issue 12.6: list's matches and times over real crashes, and info's
// summary of one.
TEST_F(CtlInspect, ListMatchesAndTimesAndInfoSummarizes) {
  crash_three(true);
  auto field = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "list");
    RunResult r = ctl(args);
    EXPECT_EQ(exit_code(r), 0) << r.output;
    return r.output;
  };
  EXPECT_EQ(field({"-F", "pid", "--signal", "ABRT"}), std::to_string(pids_[1]) + "\n");
  EXPECT_EQ(field({"-F", "slot", "-1"}), "usercrash_02\n");
  EXPECT_EQ(field({"-F", "slot", "-r", "crasher"}), "usercrash_00\nusercrash_01\nusercrash_02\n");
  EXPECT_EQ(field({"-F", "slot", crasher("crasher"), std::to_string(pids_[0])}), "usercrash_00\n");
  EXPECT_EQ(field({"-F", "signal.code_name", "--since", "-1h", "--until", "now", "-n", "2"}), "FPE_INTDIV\nSI_TKILL\n");
  EXPECT_EQ(field({"--since", "tomorrow"}), "No report in " + directory() + " matches.\n");
  EXPECT_EQ(json::parse(field({"--json", "--until", "-1d"})).size(), 0u);
  RunResult bad = ctl({"list", "-n", "-1"});
  EXPECT_EQ(exit_code(bad), 2);
  EXPECT_EQ(bad.output,
            "usercrashctl: list: -n: '-1' is not a count of reports (1 or more)\n"
            "Try 'usercrashctl --help' for more information.\n");

  RunResult info = ctl({"info", "0"});
  ASSERT_EQ(exit_code(info), 0) << info.output;
  for (const std::string& line : {std::string("pid: ") + std::to_string(pids_[0]),
                                  std::string("signal: 11 (SIGSEGV), code: 1 (SEGV_MAPERR), fault addr: 0x0"),
                                  std::string("\nBackTrace:\n    #00 pc "), std::string("(write_through+0x"),
                                  std::string("(null_level1+0x"), "\ncore: " + slot("usercrash_00.core.zst") + "\n"})
    EXPECT_NE(info.output.find(line), std::string::npos) << line << " not in\n" << info.output;
  for (const char* left_out : {"Registers:", "Maps:", "Memory near", "Open files:"})
    EXPECT_EQ(info.output.find(left_out), std::string::npos) << left_out << " in\n" << info.output;
  EXPECT_EQ(ctl({"info", "-F", "signal.fault_address", "0"}).output, "0x0\n");
}

TEST_F(CtlInspect, ListOfNoReports) {
  server_ = std::make_unique<ServerProcess>(dir_, std::vector<std::string>{}, /*start=*/false);
  RunResult missing = ctl({"list"});
  EXPECT_EQ(exit_code(missing), 0);
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
  EXPECT_EQ(ctl({"list", "--json"}).output, "[]\n");
  server_->start();
  RunResult empty = ctl({"list"});
  EXPECT_EQ(exit_code(empty), 0);
  EXPECT_EQ(empty.output, "No reports in " + directory() + ".\n");
}

TEST_F(CtlInspect, InfoBySlotNumberNameOrPid) {
  crash_three(false);
  std::string text0 = shown("usercrash_00"), text2 = shown("usercrash_02");
  RunResult by_number = ctl({"info", "--full", "0"});
  EXPECT_EQ(exit_code(by_number), 0);
  EXPECT_EQ(by_number.output, text0);
  EXPECT_EQ(ctl({"info", "--full", "usercrash_02"}).output, text2);
  RunResult by_pid = ctl({"info", "--full", std::to_string(pids_[2])});
  EXPECT_EQ(exit_code(by_pid), 0);
  EXPECT_EQ(by_pid.output, text2);
  EXPECT_EQ(ctl({"info", "--full", "--pid", std::to_string(pids_[0])}).output, text0);

  RunResult as_json = ctl({"info", "--full", "--json", "1"});
  ASSERT_EQ(exit_code(as_json), 0);
  EXPECT_EQ(as_json.output, read_file(slot("usercrash_01.json")));
  EXPECT_EQ(json::parse(as_json.output)["pid"], pids_[1]);

  RunResult none = ctl({"info", "--full", "7"});
  EXPECT_EQ(exit_code(none), 1);
  EXPECT_NE(none.output.find("no report in slot 7 and none of pid 7"), std::string::npos) << none.output;
  EXPECT_EQ(exit_code(ctl({"info", "--full", "usercrash_09"})), 1);
}

TEST_F(CtlInspect, InfoOfAPidTakesItsNewestReportAndAsksWhenANumberIsBoth) {
  crash_three(false);
  // Another report of the first crash's pid, newer, in slot 05.
  fs::copy_file(slot("usercrash_00.json"), slot("usercrash_05.json"));
  fs::copy_file(slot("usercrash_00"), slot("usercrash_05"));
  std::string marked = read_file(slot("usercrash_05")) + "(the copy)\n";
  write_file(slot("usercrash_05"), marked, 0600);
  EXPECT_EQ(ctl({"info", "--full", std::to_string(pids_[0])}).output, shown("usercrash_05"));

  // A report of pid 1 in slot 06: "1" is both slot 1 and that pid.
  json doc = json::parse(read_file(slot("usercrash_02.json")));
  doc["pid"] = 1;
  write_file(slot("usercrash_06.json"), doc.dump(), 0600);
  write_file(slot("usercrash_06"), "pid: 1, tgid: 1, comm: init\n", 0600);
  RunResult both = ctl({"info", "--full", "1"});
  EXPECT_EQ(exit_code(both), 1);
  EXPECT_NE(both.output.find("both slot usercrash_01 and the pid of the report in usercrash_06"), std::string::npos)
      << both.output;
  EXPECT_EQ(ctl({"info", "--full", "--pid", "1"}).output, "pid: 1, tgid: 1, comm: init\n");
  EXPECT_EQ(ctl({"info", "--full", "usercrash_01"}).output, shown("usercrash_01"));
}

// debug runs nothing: it prints the command line; gdb, run on that line by
// the test as an admin would, shows the crash's backtrace, and the line
// after it removes what debug left.
TEST_F(CtlInspect, DebugPrintsACommandLineThatGdbRunsOnTheSavedCore) {
  crash_three(true);
  TempDir runtime;
  ASSERT_EQ(::setenv("XDG_RUNTIME_DIR", runtime.path().c_str(), 1), 0);
  RunResult r = ctl({"debug", "0", "-A", "-nx -batch -ex bt"});
  RunResult by_pid = ctl({"gdb", "--pid", std::to_string(pids_[1]), "--", "-nx", "-batch", "-ex", "bt"});
  ::unsetenv("XDG_RUNTIME_DIR");
  ASSERT_EQ(exit_code(r), 0) << r.output;
  auto printed = lines(r.output);
  ASSERT_EQ(printed.size(), 2u) << r.output;
  EXPECT_TRUE(printed[0].starts_with("gdb -nx -batch -ex bt -- " + crasher("crasher") + " " + runtime.path() +
                                     "/usercrashctl-"))
      << printed[0];
  EXPECT_TRUE(printed[1].starts_with("# when done: rm -r -- " + runtime.path() + "/usercrashctl-")) << printed[1];
  RunResult gdb = run({"sh", "-c", printed[0]});
  EXPECT_EQ(exit_code(gdb), 0) << gdb.output;
  for (const char* f : {"write_through", "null_level3", "null_level2", "null_level1", "main"})
    EXPECT_NE(gdb.output.find(std::string(" in ") + f + " "), std::string::npos) << f << "\n" << gdb.output;
  EXPECT_NE(gdb.output.find("signal SIGSEGV"), std::string::npos) << gdb.output;
  EXPECT_EQ(exit_code(run({"sh", "-c", printed[1].substr(std::string("# when done: ").size())})), 0);

  // gdb (the same command) by pid, another crash's core.
  ASSERT_EQ(exit_code(by_pid), 0) << by_pid.output;
  RunResult abort = run({"sh", "-c", lines(by_pid.output)[0]});
  EXPECT_NE(abort.output.find("signal SIGABRT"), std::string::npos) << abort.output;
  EXPECT_EQ(exit_code(run({"sh", "-c", lines(by_pid.output)[1].substr(std::string("# when done: ").size())})), 0);
  EXPECT_TRUE(fs::is_empty(runtime.path())) << "left behind in " << runtime.path();
}

TEST_F(CtlInspect, DebugWithoutASavedCoreSaysSo) {
  crash_three(false);
  RunResult r = ctl({"debug", "0"});
  EXPECT_EQ(exit_code(r), 1) << r.output;
  EXPECT_EQ(lines(r.output).size(), 1u) << r.output;
  EXPECT_NE(r.output.find("usercrash_00 has no saved core"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("save_core=yes"), std::string::npos) << r.output;
}

// dump: the saved core as the kernel wrote it, to a pipe or a new file;
// never to a terminal (script(1) gives it one).
TEST_F(CtlInspect, DumpWritesTheSavedCoreToAPipeOrANewFileNotATerminal) {
  crash_three(true);
  std::string expected = read_file(unpack_saved_core(directory(), "usercrash_01", dir_.path()));
  ASSERT_GT(expected.size(), 4096u);
  RunResult piped = ctl({"dump", "--pid", std::to_string(pids_[1])});
  ASSERT_EQ(exit_code(piped), 0);
  EXPECT_TRUE(piped.output == expected) << piped.output.size() << " bytes, not " << expected.size();
  std::string file = dir_ / "dumped.core";
  RunResult to_file = ctl({"dump", "-o", file, "1"});
  ASSERT_EQ(exit_code(to_file), 0) << to_file.output;
  EXPECT_TRUE(read_file(file) == expected);
  RunResult again = ctl({"dump", "-o", file, "1"});
  EXPECT_EQ(exit_code(again), 1);
  EXPECT_NE(again.output.find("exists; dump does not overwrite a file"), std::string::npos) << again.output;

  std::string command = program("usercrashctl") + " --config " + server_->config() + " dump 1";
  RunResult terminal = run({"script", "-qec", command, "/dev/null"});
  EXPECT_EQ(exit_code(terminal), 1) << terminal.output;
  EXPECT_NE(terminal.output.find("usercrashctl: refusing to write a core to a terminal; redirect the output or give "
                                 "-o FILE"),
            std::string::npos)
      << terminal.output;
  EXPECT_LT(terminal.output.size(), 300u);
}

TEST_F(CtlInspect, AnalyzeGivesTheReportOfACoreFromAnywhere) {
  crash_three(true);
  json original = json::parse(read_file(slot("usercrash_00.json")));
  auto frames = [](const json& report) {
    std::vector<std::string> names;
    for (const auto& t : report["threads"])
      if (t["crashed"].get<bool>()) names = function_names(t);
    return names;
  };

  // The saved core as it is (zstd) ...
  RunResult zst = ctl({"analyze", "--json", slot("usercrash_00.core.zst")});
  ASSERT_EQ(exit_code(zst), 0) << zst.output;
  json from_zst = json::parse(zst.output);
  EXPECT_EQ(schema_errors_of(zst.output), "") << "time null, source core_file";
  EXPECT_EQ(from_zst["source"], "core_file");
  EXPECT_EQ(from_zst["pid"], pids_[0]);
  EXPECT_EQ(from_zst["signal"]["number"], SIGSEGV);
  EXPECT_EQ(from_zst["signal"]["code_name"], "SEGV_MAPERR");
  EXPECT_EQ(from_zst["signal"]["fault_address"], "0x0");
  EXPECT_EQ(from_zst["exe"], crasher("crasher"));
  EXPECT_EQ(from_zst["threads"].size(), original["threads"].size());
  auto original_frames = frames(original);
  ASSERT_GE(original_frames.size(), 5u);
  std::vector<std::string> head(original_frames.begin(), original_frames.begin() + 5);
  auto zst_frames = frames(from_zst);
  ASSERT_GE(zst_frames.size(), 5u) << from_zst["threads"].dump();
  EXPECT_EQ(std::vector<std::string>(zst_frames.begin(), zst_frames.begin() + 5), head);

  // ... and a plain core file elsewhere, as text.
  std::string plain = unpack_saved_core(directory(), "usercrash_00", dir_.path());
  ASSERT_FALSE(plain.empty());
  RunResult text = ctl({"analyze", "--exe", crasher("crasher"), plain});
  ASSERT_EQ(exit_code(text), 0) << text.output;
  EXPECT_TRUE(text.output.starts_with("*** *** ***")) << text.output.substr(0, 200);
  EXPECT_NE(text.output.find("signal: 11 (SIGSEGV), code: 1 (SEGV_MAPERR)"), std::string::npos);
  EXPECT_NE(text.output.find("(write_through+0x"), std::string::npos);
  EXPECT_NE(text.output.find("\nBackTrace:\n"), std::string::npos);

  RunResult not_core = ctl({"analyze", "/etc/passwd"});
  EXPECT_EQ(exit_code(not_core), 1);
  EXPECT_EQ(lines(not_core.output).size(), 1u) << not_core.output;
  EXPECT_NE(not_core.output.find("not an ELF file"), std::string::npos) << not_core.output;
  RunResult missing = ctl({"analyze", dir_ / "nothing-here"});
  EXPECT_EQ(exit_code(missing), 1);
  EXPECT_NE(missing.output.find("No such file"), std::string::npos) << missing.output;
}

TEST_F(CtlInspect, CleanRemovesOldReportsOrAll) {
  crash_three(true);
  // Slot 00 (and its companions) published ten days ago.
  timespec times[2] = {{0, UTIME_OMIT}, {::time(nullptr) - 10 * 86400, 0}};
  for (const char* f : {"usercrash_00", "usercrash_00.json", "usercrash_00.core.zst"})
    ASSERT_EQ(::utimensat(AT_FDCWD, slot(f).c_str(), times, 0), 0) << f;
  RunResult old = ctl({"clean", "--older-than", "7d"});
  ASSERT_EQ(exit_code(old), 0) << old.output;
  EXPECT_TRUE(old.output.starts_with("Removed 1 report (3 files, ")) << old.output;
  for (const char* f : {"usercrash_00", "usercrash_00.json", "usercrash_00.core.zst"})
    EXPECT_FALSE(exists(slot(f))) << f;
  for (const char* f : {"usercrash_01", "usercrash_01.json", "usercrash_02", "usercrash_02.core.zst"})
    EXPECT_TRUE(exists(slot(f))) << f;
  EXPECT_EQ(json::parse(ctl({"list", "--json"}).output).size(), 2u);

  RunResult all = ctl({"clean"});
  ASSERT_EQ(exit_code(all), 0) << all.output;
  EXPECT_TRUE(all.output.starts_with("Removed 2 reports (6 files, ")) << all.output;
  EXPECT_TRUE(list_reports(directory()).empty());
  EXPECT_EQ(ctl({"list"}).output, "No reports in " + directory() + ".\n");
  // The server goes on: the next crash takes the first slot again.
  CorePatternGuard guard(client_pattern(server_->config()));
  CrashResult next = run_crasher(crasher("crasher"), {"null"});
  auto report = wait_for_report(directory(), "usercrash_00");
  ASSERT_TRUE(report) << server_->log();
  EXPECT_EQ((*report)["pid"], next.pid);
}

}  // namespace
}  // namespace usercrash::test
