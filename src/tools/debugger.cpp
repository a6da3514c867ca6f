// debugger PID: the report of a running process (the same report as a
// crash), through ptrace. See engine/live_process_target.h.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "collect/collect.h"
#include "collect/options.h"
#include "collect/output_destination.h"
#include "config/config.h"
#include "engine/live_process_target.h"
#include "tools/report_symbolizer.h"
#include "util/cli.h"
#include "util/escape.h"
#include "util/file_io.h"
#include "util/log.h"
#include "util/parse.h"

namespace {

using namespace usercrash;
using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "debugger";
constexpr int kExitFailed = 1;
#ifdef USERCRASH_TEST_HOOKS
// Tests only: stay attached this many milliseconds with every thread stopped.
constexpr const char* kTestHoldVariable = "USERCRASH_DEBUGGER_TEST_HOLD_MS";
#endif

struct Options {
  pid_t pid = 0;
  bool json = false;
  bool brief = false;
  bool no_memory = false;
  bool verbose = false;
  bool all_stop = false;
  std::string config_path;
  std::string output;  // empty: stdout
  std::optional<std::string> debuginfod;
  std::vector<pid_t> threads;
};

void print_help() {
  fmt::print(
      "Usage: {} [OPTION]... PID\n"
      "Prints the report of a running process: the same report as a crash (every thread's\n"
      "backtrace, registers, memory and code near them, maps, open files), without harming\n"
      "the process. Its threads are stopped with ptrace (never SIGSTOP) one at a time, each\n"
      "only while its registers and stack are copied, then released; nothing in it is changed.\n"
      "\n"
      "  -j, --json             print the report as JSON\n"
      "  -o, --output FILE      write the report to FILE, a new file (mode 0600); an existing\n"
      "                         file is never replaced\n"
      "  -t, --threads TID,...  report only these threads\n"
      "  -b, --brief            each thread with one line per frame (like eu-stack)\n"
      "  -M, --no-memory        leave out the memory near registers and the code around rip\n"
      "  -a, --all-stop         stop every thread at once: one picture of the process at one\n"
      "                         instant (each thread is still released as soon as its own copy\n"
      "                         is done, but the last ones wait for the others)\n"
      "      --debuginfod URL   ask these debuginfod servers (space-separated) for the debug\n"
      "                         files this host lacks (default: debuginfod_urls of the\n"
      "                         configuration, else DEBUGINFOD_URLS; 30 s for all of them)\n"
      "  -c, --config FILE      configuration file (default /etc/usercrash.conf)\n"
      "  -v, --verbose          say how long each thread was held stopped\n"
      "  -h, --help             show this help\n"
      "  -V, --version          show the version\n"
      "\n"
      "Root may report any process; other users their own processes that the kernel lets\n"
      "them trace. As with any ptrace tool, a thread stopped inside one of the few system\n"
      "calls the kernel does not restart (epoll_wait, for one) sees it fail with EINTR;\n"
      "--threads limits the stops to the threads named.\n"
      "Exit status: 0 report written, 1 could not attach or collect, 2 usage error.\n",
      kProgram);
}

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "{}: {}\n", kProgram, message);
  std::exit(kExitFailed);
}

std::vector<pid_t> parse_tid_list(const char* text) {
  std::vector<pid_t> tids;
  std::string_view rest = text;
  for (;;) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto tid = util::parse_int<pid_t>(util::trim(item));
    if (!tid || *tid <= 0)
      util::usage_error(kProgram, fmt::format("--threads: '{}' is not a thread id", util::escape_text(item)));
    if (std::find(tids.begin(), tids.end(), *tid) == tids.end()) tids.push_back(*tid);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return tids;
}

Options parse_args(int argc, char** argv) {
  static const util::OptionSpec specs[] = {
      {"json", 'j', false},      {"output", 'o', true},   {"threads", 't', true},  {"brief", 'b', false},
      {"no-memory", 'M', false}, {"config", 'c', true},   {"verbose", 'v', false}, {"all-stop", 'a', false},
      {"help", 'h', false},      {"version", 'V', false}, {"debuginfod", 0, true},
  };
  auto parsed = util::parse_options(std::span<char* const>(argv + 1, argc > 0 ? argc - 1 : 0), specs);
  if (!parsed) util::usage_error(kProgram, parsed.error().message);
  Options o;
  for (const auto& [name, value] : parsed->options) {
    if (name == "json") o.json = true;
    else if (name == "output") o.output = value;
    else if (name == "threads") o.threads = parse_tid_list(value.c_str());
    else if (name == "brief") o.brief = true;
    else if (name == "no-memory") o.no_memory = true;
    else if (name == "config") o.config_path = value;
    else if (name == "verbose") o.verbose = true;
    else if (name == "all-stop") o.all_stop = true;
    else if (name == "debuginfod") o.debuginfod = value;
    else if (name == "help") {
      print_help();
      std::exit(0);
    } else if (name == "version") {
      fmt::print("{} {}\n", kProgram, util::version());
      std::exit(0);
    }
  }
  const auto& operands = parsed->operands;
  if (operands.empty()) util::usage_error(kProgram, "missing PID");
  if (operands.size() > 1)
    util::usage_error(kProgram, fmt::format("unexpected argument '{}'", util::escape_text(operands[1])));
  auto pid = util::parse_int<pid_t>(operands[0]);
  if (!pid || *pid <= 0)
    util::usage_error(kProgram, fmt::format("'{}' is not a process id", util::escape_text(operands[0])));
  o.pid = *pid;
  if (o.json && o.brief) util::usage_error(kProgram, "--brief is a text format; it does not go with --json");
  return o;
}

// The report symbolized again with the debug files of debuginfod servers:
// after the isolated job, whose sandbox has no network.
template <typename GiveUp>
std::string with_debuginfod(std::string json, const std::string& urls, const config::Config& config, const Options& o,
                            GiveUp& give_up) {
  tools::SymbolizeRequest request;
  request.search.system_dir = config.debuginfo_path;
  request.urls = urls;
  request.as_text = !o.json;
  request.brief = o.brief;
  auto done = tools::symbolize_report(json, std::move(request));
  if (!done) give_up(fmt::format("symbolizing the report of process {}: {}", o.pid, done.error().message));
  for (const auto& note : done->notes) fmt::print(stderr, "{}: note: {}\n", kProgram, note);
  return std::move(done->text);
}

// Only the test build (debugger_test_hooks, never installed) knows the
// variable: an installed debugger cannot be made to hold a process stopped.
std::chrono::milliseconds test_hold() {
#ifdef USERCRASH_TEST_HOOKS
  const char* value = std::getenv(kTestHoldVariable);
  if (!value) return {};
  auto ms = util::parse_int<unsigned>(value);
  return std::chrono::milliseconds(ms.value_or(0));
#else
  return {};
#endif
}

std::string micros(std::chrono::nanoseconds ns) { return fmt::format("{:.0f} us", ns.count() / 1000.0); }

void print_holds(const engine::LiveProcessTarget& target) {
  for (const auto& h : target.holds()) {
    std::string name = "?";
    for (const auto& t : target.facts().thread_info)
      if (t.tid == h.tid) name = t.name;
    fmt::print(stderr, "{}: tid {} ({}) held {}\n", kProgram, h.tid, name, micros(h.held));
  }
  auto longest = target.longest_hold();
  fmt::print(stderr,
             "{}: held {} threads of pid {} stopped for at most {} (tid {}); the last released {} after the "
             "first stop\n",
             kProgram, target.holds().size(), target.facts().pid, micros(longest.held), longest.tid,
             micros(target.stopped_window()));
  if (size_t n = target.threads_not_stopped())
    fmt::print(stderr, "{}: {} thread(s) did not stop (uninterruptible sleep?); reported without registers\n", kProgram,
               n);
}

}  // namespace

int main(int argc, char** argv) {
  auto started = Clock::now();
  ::signal(SIGPIPE, SIG_IGN);
  Options o = parse_args(argc, argv);
  util::log::init("debugger", util::log::Sink::stderr_only);
  util::log::set_verbose(o.verbose);
  config::Config config = config::load_or_exit(kProgram, o.config_path);

  // The output file exists before anything touches the process: a bad path
  // must not cost it a stop.
  std::optional<util::NewFile> output;
  if (!o.output.empty()) {
    auto created = util::NewFile::create(o.output, 0600);
    if (!created) fail(created.error().message);
    output = std::move(*created);
  }
  auto give_up = [&](const std::string& message) {
    if (output) output->remove();
    fail(message);
  };

  engine::LiveOptions live;
  collect::Plan plan = collect::make_plan(config, started);
  live.limits = plan.process;
  live.only_threads = o.threads;
  live.all_stop = o.all_stop;
  live.test_hold = test_hold();
  auto target = engine::LiveProcessTarget::attach(o.pid, live);
  if (!target) give_up(fmt::format("cannot report process {}: {}", o.pid, target.error().message));
  if (o.verbose) print_holds(**target);

  // Backtraces are built in the isolated job (collect/job.h); the threads
  // were released already.
  if (o.no_memory) plan.options.include_memory = false;
  plan.render.brief = o.brief;
  auto urls = tools::debuginfod_urls(o.debuginfod, config);
  auto destination = collect::OutputDestination::create(o.json || urls);
  if (!destination) give_up(destination.error().message);
  collect::Collected done = collect::collect(**target, plan, *destination);
  if (!done.delivered) give_up(fmt::format("the report of process {}: {}", o.pid, done.delivered.error().message));
  if (!done.written.complete)
    fmt::print(stderr, "{}: warning: the report of process {} is partial: {}\n", kProgram, o.pid, done.written.note);
  std::string report = destination->text();
  if (urls) report = with_debuginfod(std::move(report), *urls, config, o, give_up);
  int out = output ? output->fd() : STDOUT_FILENO;
  if (auto written = util::write_all(out, report); !written)
    give_up(fmt::format("writing the report to {}: {}", o.output.empty() ? "standard output" : o.output,
                        written.error().message));
  if (o.verbose)
    fmt::print(stderr, "{}: report of process {} written in {:.1f} ms\n", kProgram, o.pid,
               std::chrono::duration<double, std::milli>(Clock::now() - started).count());
  return 0;
}
