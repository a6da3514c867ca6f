#include "client/crash.h"

#include <sys/utsname.h>

#include <ctime>

#include <fmt/format.h>

#include "collect/options.h"
#include "engine/dying_process_target.h"
#include "engine/notes_target.h"
#include "engine/report_builder.h"
#include "ipc/kernel_coredump.h"
#include "ipc/unix_socket.h"
#include "util/log.h"
#include "util/path_names.h"
#include "util/phase_trace.h"

namespace usercrash::client {

namespace log = util::log;

util::Result<Crash> Crash::open(ClientContext ctx, const config::Config& config) {
  Crash crash;
  // Kernel socket mode: who crashed comes from the connection itself.
  if (ctx.kernel_connection) {
    auto peer = ipc::peer_credentials(ctx.core_fd);
    if (!peer) return util::fail("kernel connection: " + peer.error().message);
    ctx.pid = peer->pid;
    if (auto pidfd = ipc::peer_pidfd(ctx.core_fd)) {
      crash.peer_pidfd_ = std::move(*pidfd);
      ctx.pidfd = crash.peer_pidfd_.get();
    }
  }
  // The core's head: the kernel writes the notes first.
  crash.head_ = engine::read_core_head(ctx.core_fd, collect::core_limits(config));
  util::trace::mark("core_notes");
  const engine::CoreNotes& notes = crash.head_.notes;
  // Without the kernel's pid (a command line that could not be read), the
  // core's own: checked like any pid that comes without a pidfd.
  if (ctx.pid == 0 && notes.psinfo) ctx.pid = notes.psinfo->pid;
  if (ctx.signal == 0) {
    if (notes.siginfo) ctx.signal = notes.siginfo->signo;
    else if (!notes.threads.empty()) ctx.signal = notes.threads.front().cursig;
  }
  // The process, anchored to its pidfd when the kernel gave one; without
  // one, make sure the pid still names the crashed process before reading a
  // byte of it: a pid can be reused.
  auto dir = proc::ProcessDir::open(ctx.pid, ctx.pidfd);
  if (dir) {
    if (auto mismatch = engine::DyingProcessTarget::identity_mismatch(*dir, notes, ctx.time))
      dir = util::fail("not the crashed process: " + *mismatch);
  }
  if (dir) crash.dir_.emplace(std::move(*dir));
  else crash.dir_problem_ = dir.error().message;
  crash.ctx_ = std::move(ctx);
  crash.read_facts();
  if (crash.ctx_.comm.empty()) crash.ctx_.comm = crash.facts_.comm;
  return crash;
}

// Only small files: ids, name, executable. The rest waits for target().
void Crash::read_facts() {
  engine::ProcessFacts& f = facts_;
  const engine::CoreNotes& notes = head_.notes;
  f.pid = ctx_.pid;
  if (notes.psinfo) {
    f.uid = notes.psinfo->uid;
    f.gid = notes.psinfo->gid;
    f.comm = notes.psinfo->fname;
  }
  f.auxv = notes.auxv;
  if (ctx_.dumpable) f.dumpable = *ctx_.dumpable == 1;
  utsname u{};
  if (::uname(&u) == 0) f.hostname = std::string(u.nodename);
  if (!dir_) return;
  if (auto st = dir_->status()) {
    f.uid = st->uid;
    f.euid = st->euid;
    f.gid = st->gid;
    f.egid = st->egid;
    if (st->ns_pids.size() > 1 && st->ns_pids.back() != f.pid) f.namespace_pid = st->ns_pids.back();
  }
  if (auto comm = dir_->read("comm", 64)) {
    f.comm = *comm;
    if (!f.comm.empty() && f.comm.back() == '\n') f.comm.pop_back();
  }
  if (auto exe = dir_->read_link("exe")) f.exe = *exe;
  if (f.auxv.empty())
    if (auto auxv = dir_->auxv()) f.auxv = std::move(*auxv);
}

pid_t Crash::tid() const {
  if (ctx_.tid > 0) return ctx_.tid;
  // The notes number threads in the process's own pid namespace.
  if (!facts_.namespace_pid && !head_.notes.threads.empty()) return head_.notes.threads.front().tid;
  return ctx_.pid;
}

uid_t Crash::uid() const { return ctx_.uid.value_or(facts_.uid.value_or(0)); }

bool Crash::owner_may_read(const config::Config& config) const {
  const auto& f = facts_;
  return config.report_access == config::ReportAccess::owner && f.uid && *f.uid != 0 && f.dumpable && *f.dumpable &&
         !engine::is_secure_process(f);
}

SpecifierValues Crash::specifier_values() const {
  const auto& f = facts_;
  SpecifierValues v;
  v.global_pid = ctx_.pid;
  v.pid = f.namespace_pid.value_or(ctx_.pid);
  v.global_tid = tid();
  v.tid = head_.notes.threads.empty() ? v.global_tid : head_.notes.threads.front().tid;
  v.uid = ctx_.uid ? ctx_.uid : f.uid;
  v.gid = ctx_.gid ? ctx_.gid : f.gid;
  v.signal = ctx_.signal;
  v.time = ctx_.time.value_or(std::time(nullptr));
  v.hostname = f.hostname.value_or("");
  v.comm = ctx_.comm;
  v.exe = util::without_deleted_mark(f.exe.value_or(""));
  v.dumpable = ctx_.dumpable;
  v.core_limit = ctx_.core_limit;
  v.pidfd = ctx_.pidfd >= 0 ? 3 : -1;
  return v;
}

std::unique_ptr<engine::Target> Crash::target(const config::Config& config, engine::ProcessLimits limits) {
  engine::ProcessFacts* facts = nullptr;
  std::unique_ptr<engine::Target> target;
  limits.kernel_stack = !owner_may_read(config);
  auto dir = dir_ ? dir_->duplicate() : util::fail(dir_problem_);
  if (dir) {
    auto dying = std::make_unique<engine::DyingProcessTarget>(std::move(*dir), head_.notes, limits, ctx_.source);
    facts = &dying->mutable_facts();
    target = std::move(dying);
  } else {
    log::warn("pid {}: {}; the report has only what the core's notes say", ctx_.pid, dir.error().message);
    auto notes = std::make_unique<engine::NotesTarget>(head_.notes, ctx_.pid, ctx_.source);
    facts = &notes->mutable_facts();
    facts->problems.push_back(fmt::format("/proc/{}: {}", ctx_.pid, dir.error().message));
    target = std::move(notes);
  }
  if (facts->comm.empty()) facts->comm = ctx_.comm;
  if (head_.problem) facts->problems.push_back("core: " + *head_.problem);
  if (ctx_.dumpable) facts->dumpable = *ctx_.dumpable == 1;
  return target;
}

}  // namespace usercrash::client
