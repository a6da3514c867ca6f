#include "collect/job.h"

#include "collect/syscall_filter.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <new>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/debug_files.h"
#include "engine/disassembler.h"
#include "engine/preopened_target.h"
#include "ipc/fd_passing.h"
#include "util/log.h"
#include "util/phase_trace.h"
#include "util/spawn.h"

namespace usercrash::collect {

namespace log = util::log;
using Clock = std::chrono::steady_clock;

namespace {

// Exit codes of the child.
constexpr int kChildDone = 0;
constexpr int kChildOutOfMemory = 4;

// Messages from the child; the first byte says which.
constexpr char kCollected = 'C';
constexpr char kNoSandbox = 'S';    // then why
constexpr char kWritten = 'W';      // then the text and JSON sizes
constexpr char kWriteFailed = 'F';  // then why
// From the parent: debug files (late_symbols.h), JSON naming the fds that
// come with it. Late facts are JSON objects, so they start with '{'.
constexpr char kDebugFiles = 'D';
// Late facts are a few lines; anything longer is not ours.
constexpr size_t kMaxMessage = 64 * 1024;

// Even a budget spent on collecting leaves this for rendering the report.
constexpr std::chrono::milliseconds kMinRenderTime{500};

// Room for the fds of one message of debug files.
constexpr size_t kMaxPassedFds = limits::kMaxLateDebugFiles;
static_assert(kMaxPassedFds <= ipc::kMaxMessageFds);

void send_message(int fd, std::string_view message) { (void)::send(fd, message.data(), message.size(), MSG_NOSIGNAL); }

// One message; nullopt when the other side is gone.
std::optional<std::string> receive_message(int fd) {
  std::string buffer(kMaxMessage, '\0');
  ssize_t n;
  do n = ::recv(fd, buffer.data(), buffer.size(), 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  buffer.resize(static_cast<size_t>(n));
  return buffer;
}

// One message from the parent, with the fds it carries (debug files):
// anything malformed counts as the parent gone, which ends the child.
std::optional<std::string> receive_message_with_fds(int fd, std::vector<util::UniqueFd>& fds) {
  auto m = ipc::receive_message(fd, kMaxPassedFds, kMaxMessage);
  if (!m || m->bytes.empty()) return std::nullopt;
  fds = std::move(m->fds);
  return std::string(reinterpret_cast<const char*>(m->bytes.data()), m->bytes.size());
}

// kDebugFiles: {"files": [[build-id, where]...], "missing": [[build-id, why]...],
// "ms": time to symbolize}, the files' fds in their order.
std::string encode(const FetchedDebugFiles& fetched, std::chrono::milliseconds time) {
  nlohmann::json files = nlohmann::json::array(), missing = nlohmann::json::array();
  for (const auto& f : fetched.files) files.push_back({f.build_id, f.file.where});
  for (const auto& [id, why] : fetched.missing) missing.push_back({id, why});
  nlohmann::json j{{"files", files}, {"missing", missing}, {"ms", time.count()}};
  return kDebugFiles + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// In the child: the debug files the parent fetched, symbolized into `report`.
void apply_debug_files(engine::Report& report, size_t& own_problems, const std::string& message,
                       std::vector<util::UniqueFd> fds) {
  nlohmann::json j = nlohmann::json::parse(message.substr(1), nullptr, false);
  if (!j.is_object()) return;
  std::vector<FetchedDebugFile> files;
  std::vector<std::pair<std::string, std::string>> missing;
  size_t next = 0;
  for (const auto& f : j.value("files", nlohmann::json::array())) {
    if (next == fds.size() || !f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_string()) break;
    files.push_back({f[0].get<std::string>(),
                     engine::DebugFile{std::move(fds[next++]), f[1].get<std::string>(), engine::DebugSource::remote}});
  }
  for (const auto& m : j.value("missing", nlohmann::json::array()))
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
      missing.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
  auto deadline = Clock::now() + std::chrono::milliseconds(j.value("ms", int64_t{0}));
  auto problems = symbolize_late(report, std::move(files), missing, deadline, static_cast<int64_t>(std::time(nullptr)));
  report.problems.resize(own_problems);
  report.problems.insert(report.problems.end(), problems.begin(), problems.end());
  own_problems = report.problems.size();
}

std::string encode(const LateFacts& late) {
  nlohmann::json j{{"problems", late.problems}};
  if (late.core)
    j["core"] = {{"saved", late.core->saved},
                 {"bytes", late.core->bytes},
                 {"compressed_bytes", late.core->compressed_bytes},
                 {"truncated", late.core->truncated},
                 {"error", late.core->error}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The parent's message: trusted, but read defensively all the same.
LateFacts decode(const std::string& message) {
  LateFacts late;
  nlohmann::json j = nlohmann::json::parse(message, nullptr, false);
  if (!j.is_object()) return late;
  for (const auto& p : j.value("problems", nlohmann::json::array()))
    if (p.is_string()) late.problems.push_back(p.get<std::string>());
  if (const auto c = j.find("core"); c != j.end() && c->is_object())
    late.core = engine::CoreOutcome{c->value("saved", false), c->value("bytes", uint64_t{0}),
                                    c->value("compressed_bytes", uint64_t{0}), c->value("truncated", false),
                                    c->value("error", std::string())};
  return late;
}

// The late facts on a report whose own problems are the first `own`.
void apply(engine::Report& report, size_t own, const LateFacts& late) {
  report.core = late.core;
  report.problems.resize(own);
  report.problems.insert(report.problems.end(), late.problems.begin(), late.problems.end());
}

// now + d, without overflowing for an unlimited budget.
Clock::time_point after(Clock::duration d) {
  auto now = Clock::now();
  return d >= Clock::time_point::max() - now ? Clock::time_point::max() : now + d;
}

std::string describe_status(int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == kChildOutOfMemory)
    return "the collector ran out of its memory budget";
  if (WIFSIGNALED(status)) return fmt::format("the collector crashed ({})", strsignal(WTERMSIG(status)));
  if (WIFEXITED(status)) return fmt::format("the collector exited with status {}", WEXITSTATUS(status));
  return "the collector stopped";
}

// Everything the child does before it reads a hostile byte: it dies with
// its parent, never dumps core (a core_pattern helper already has
// RLIMIT_CORE 1; be sure anyway) and is held to the memory budget, the
// collection's one memory limit (the sandbox sets none of its own). A hard
// limit already lower stays: raising it would take CAP_SYS_RESOURCE, which
// the service does not keep.
void enter_isolation(pid_t parent, const Budget& budget) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kChildDone);  // the parent was gone before the line above
  ::prctl(PR_SET_DUMPABLE, 0);
  // A sanitizer build's runtime reserves gigabytes of private writable
  // mappings, which RLIMIT_DATA counts: it is tested without the limit (the
  // two memory-budget tests run in the first pass only).
  if (rlimit now{}; !kSanitizerBuild && budget.memory_bytes && ::getrlimit(RLIMIT_DATA, &now) == 0) {
    rlim_t bytes = static_cast<rlim_t>(budget.memory_bytes);
    if (now.rlim_max != RLIM_INFINITY) bytes = std::min(bytes, now.rlim_max);
    rlimit limit{bytes, bytes};
    ::setrlimit(RLIMIT_DATA, &limit);
  }
  std::set_new_handler([] { ::_exit(kChildOutOfMemory); });
}

[[noreturn]] void child_main(engine::PreopenedTarget& target, const engine::CollectOptions& options,
                             const report::RenderOptions& render, const ReportFiles& files, int channel, pid_t parent,
                             const Budget& budget, const Sandbox& sandbox, const LateSymbols& late_symbols) {
  util::trace::mark("child_started");
  enter_isolation(parent, budget);
  // The sandbox is entered here, and only here: everything the child needs
  // is open, and nothing hostile has been parsed yet. The channel and the
  // report files stay writable; the target's fds stay readable.
  std::vector<int> writable = {channel};
  for (int fd : {files.text_fd, files.json_fd, util::trace::fd()})
    if (fd >= 0) writable.push_back(fd);
  auto confined = sandbox.enter(target.fds(), writable);
  if (!confined) {
    send_message(channel, kNoSandbox + confined.error().message);
    ::_exit(kChildDone);
  }
  util::trace::mark("sandboxed");
  engine::Report report = engine::build_report(target, options);
  util::trace::write_totals();
  report.sandbox = *confined;
  size_t own_problems = report.problems.size();
  std::string collected(1, kCollected);
  for (const auto& id : wanted_debug_files(report, late_symbols)) collected += id + '\n';
  send_message(channel, collected);
  std::vector<util::UniqueFd> fds;
  while (auto message = receive_message_with_fds(channel, fds)) {
    if (!message->empty() && (*message)[0] == kDebugFiles) {
      apply_debug_files(report, own_problems, *message, std::move(fds));
      continue;
    }
    apply(report, own_problems, decode(*message));
    util::trace::mark("render");
    auto written = write_report(report, files, render);
    util::trace::mark("rendered");
    if (!written) {
      send_message(channel, kWriteFailed + written.error().message);
      continue;
    }
    std::string answer(1 + 2 * sizeof(uint64_t), kWritten);
    std::memcpy(answer.data() + 1, &written->text_bytes, sizeof(uint64_t));
    std::memcpy(answer.data() + 1 + sizeof(uint64_t), &written->json_bytes, sizeof(uint64_t));
    send_message(channel, answer);
  }
  ::_exit(kChildDone);
}

}  // namespace

Job::Job(engine::Target& target, const engine::CollectOptions& options, const report::RenderOptions& render,
         const ReportFiles& files, const Budget& budget, const Sandbox& sandbox, const LateSymbols& late)
    : target_(target), options_(options), render_(render), files_(files), budget_(budget) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    fall_back(fmt::format("could not start the collector: {}", std::strerror(errno)));
    return;
  }
  util::UniqueFd ours(pair[0]), theirs(pair[1]);
  // Every module file the engine may read, opened while we may; the
  // child's copies are its only way to them.
  engine::PreopenedTarget opened(target_, options_.max_modules);
  // The child cannot map a library once sandboxed. Loaded here, on the
  // collecting paths only (not linked: its 77,000 relocations were 2 ms of
  // every usercrash_c's start-up). A thread that loaded it while the client
  // read the crash hid none of it (bench/crash_profile.py: the two share
  // one address space, whose page faults do not overlap).
  if (options_.include_memory) (void)engine::load_disassembler();
  util::trace::mark("fork");
  pid_t parent = ::getpid();
  child_ = ::fork();
  if (child_ == 0) {
    ours.reset();
    child_main(opened, options_, render_, files_, theirs.get(), parent, budget_, sandbox, late);
  }
  if (child_ < 0) {
    fall_back(fmt::format("could not start the collector: {}", std::strerror(errno)));
    return;
  }
  channel_ = std::move(ours);
}

Job::~Job() {
  channel_.reset();  // the child ends when its channel does
  if (child_ > 0 && !util::wait_for_exit(child_, Clock::now() + std::chrono::seconds(1))) {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
  }
}

void Job::await_collected() {
  auto message = await_child(budget_.deadline, "collecting");
  if (!message) return;
  if ((*message)[0] == kNoSandbox) return fall_back("the collector could not enter its sandbox: " + message->substr(1));
  if ((*message)[0] != kCollected) return fall_back("the collector answered out of turn");
  // The build-ids it lacks debug files for, one a line: the child's word,
  // checked like any.
  for (size_t at = 1; at < message->size() && wanted_.size() < limits::kMaxLateDebugFiles;) {
    size_t end = std::min(message->find('\n', at), message->size());
    std::string id = message->substr(at, end - at);
    if (engine::is_build_id(id) && std::find(wanted_.begin(), wanted_.end(), id) == wanted_.end())
      wanted_.push_back(std::move(id));
    at = end + 1;
  }
  if (budget_.deadline == Clock::time_point::max()) render_time_ = Clock::duration::max();
  else render_time_ = std::max<Clock::duration>(budget_.deadline - Clock::now(), kMinRenderTime);
}

void Job::give_debug_files(FetchedDebugFiles fetched) {
  if (!child_running()) return;
  if (fetched.files.size() > kMaxPassedFds) fetched.files.resize(kMaxPassedFds);
  auto time = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min<Clock::duration>(render_time_ / 2, std::chrono::hours(1)));
  std::string message = encode(fetched, time);
  std::vector<int> fds;
  for (const auto& f : fetched.files) fds.push_back(f.file.fd.get());
  if (auto sent = ipc::send_message(channel_.get(), std::as_bytes(std::span(message)), fds, kMaxPassedFds); !sent)
    log::warn("handing debug files to the collector failed: {}", sent.error().message);
}

JobResult Job::write(const LateFacts& late) {
  if (child_running()) {
    send_message(channel_.get(), encode(late));
    auto message = await_child(after(render_time_), "rendering");
    if (message && (*message)[0] == kWritten && message->size() == 1 + 2 * sizeof(uint64_t)) {
      JobResult result{true, "", 0, 0};
      std::memcpy(&result.text_bytes, message->data() + 1, sizeof(uint64_t));
      std::memcpy(&result.json_bytes, message->data() + 1 + sizeof(uint64_t), sizeof(uint64_t));
      return result;
    }
    if (message && (*message)[0] == kWriteFailed) fall_back("writing the report failed: " + message->substr(1));
    else if (message) fall_back("the collector answered out of turn");
  }
  return write_fallback(late);
}

std::optional<std::string> Job::await_child(Clock::time_point deadline, const char* doing) {
  if (!child_running()) return std::nullopt;
  for (;;) {
    auto now = Clock::now();
    if (now >= deadline) {
      fall_back(fmt::format("the time budget ran out while {}", doing));
      return std::nullopt;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{channel_.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 1, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) break;
  }
  if (auto message = receive_message(channel_.get()); message && !message->empty()) return message;
  // The channel ended: the child is gone. Its status says how.
  channel_.reset();
  auto status = util::wait_for_exit(child_, Clock::now() + std::chrono::seconds(1));
  if (status) child_ = -1;  // reaped
  fall_back(status ? describe_status(*status) : std::string("the collector stopped answering"));
  return std::nullopt;
}

void Job::fall_back(const std::string& why) {
  if (fallback_) return;
  channel_.reset();
  if (child_ > 0) {
    ::kill(child_, SIGKILL);
    ::waitpid(child_, nullptr, 0);
    child_ = -1;
  }
  why_ = why;
  // Registers and /proc facts only: no ELF/DWARF read, nothing to crash on.
  log::warn("{}; writing the report without backtraces", why);
  engine::CollectOptions minimal = options_;
  minimal.unwind = false;
  minimal.include_memory = false;
  minimal.deadline = Clock::time_point::max();
  fallback_ = engine::build_report(target_, minimal);
  fallback_->problems.push_back(why + "; backtraces, memory and code left out");
  fallback_->truncated.push_back("backtraces: " + why);
  own_problems_ = fallback_->problems.size();
}

JobResult Job::write_fallback(const LateFacts& late) {
  apply(*fallback_, own_problems_, late);
  JobResult result{false, why_, 0, 0};
  auto written = write_report(*fallback_, files_, render_);
  if (written) {
    result.text_bytes = written->text_bytes;
    result.json_bytes = written->json_bytes;
    return result;
  }
  // Not even that fits (a full disk): a line that says what happened.
  result.note += "; " + written.error().message;
  result.text_bytes = write_last_line(*fallback_, files_, written.error().message);
  return result;
}

}  // namespace usercrash::collect
