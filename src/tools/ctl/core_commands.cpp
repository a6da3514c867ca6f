#include "tools/ctl/core_commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collect/collect.h"
#include "collect/output_destination.h"
#include "engine/core_file_target.h"
#include "store/core_archive.h"
#include "store/crash_directory.h"
#include "tools/ctl/private_temp.h"
#include "tools/ctl/selector.h"
#include "util/escape.h"
#include "util/file_io.h"

namespace usercrash::tools::ctl {

namespace {

// Decompresses a saved core (zstd) from `in` into TEMP/core; returns its path.
util::Result<std::string> decompress_into(PrivateTemp& temp, int in, const std::string& what, uint64_t max_bytes) {
  auto out = temp.file("core");
  if (!out) return std::unexpected(out.error());
  auto bytes = store::decompress_core(in, out->get(), max_bytes);
  if (!bytes) return util::fail(fmt::format("{}: {}", what, bytes.error().message));
  return temp.path("core");
}

// Runs ARGV (argv[0] looked up in PATH) and waits; its exit status.
int run_debugger(const Context& ctx, const std::vector<std::string>& argv) {
  // gdb owns the terminal while it runs: ^C and ^\ are for it, and we must
  // live on to remove the core we wrote.
  struct sigaction ignore {
  }, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  std::fflush(ctx.out);
  pid_t child = ::fork();
  if (child == 0) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    std::vector<char*> raw;
    for (const auto& s : argv) raw.push_back(const_cast<char*>(s.c_str()));
    raw.push_back(nullptr);
    ::execvp(raw[0], raw.data());
    fmt::print(stderr, "{}: cannot run {}: {}\n", ctx.program, util::escape_text(argv[0]), std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  if (child < 0) fmt::print(ctx.err, "{}: fork: {}\n", ctx.program, std::strerror(errno));
  else
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  if (child < 0) return kExitFailure;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// The report of a core file; a zstd-compressed one (a saved usercrash_NN.core.zst)
// goes through a private decompressed copy.
util::Result<std::string> analyze(const std::string& path, const engine::CoreFileOptions& options,
                                  const config::Config& config, bool as_json, std::string& partial) {
  auto fd = util::open_at(AT_FDCWD, path.c_str());
  if (!fd) return std::unexpected(fd.error());
  unsigned char magic[4] = {};
  bool zstd = ::pread(fd->get(), magic, sizeof magic, 0) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 &&
              magic[2] == 0x2f && magic[3] == 0xfd;
  std::unique_ptr<PrivateTemp> temp;
  std::string core = path;
  if (zstd) {
    auto made = PrivateTemp::create();
    if (!made) return std::unexpected(made.error());
    temp = std::move(*made);
    auto decompressed = decompress_into(*temp, fd->get(), util::escape_text(path), UINT64_MAX);
    if (!decompressed) return std::unexpected(decompressed.error());
    core = *decompressed;
  }
  auto target = engine::CoreFileTarget::open(core, options);
  if (!target)
    return util::fail(zstd ? util::escape_text(path) + " (decompressed): " + target.error().message
                           : target.error().message);
  // The same collection step as a crash's: the core's ELF and DWARF are
  // read in the isolated job, never in this process.
  collect::Plan plan = collect::make_plan(config);
  // Whoever holds the core holds its memory already.
  plan.options.dump_secure_memory = true;
  auto destination = collect::OutputDestination::create(as_json);
  if (!destination) return std::unexpected(destination.error());
  collect::Collected done = collect::collect(**target, plan, *destination);
  if (!done.delivered) return std::unexpected(done.delivered.error());
  if (!done.written.complete) partial = "the report is partial: " + done.written.note;
  return destination->text();
}

}  // namespace

Outcome run_gdb(Context& ctx, const CommandArgs& args) {
  auto selected = select_report(ctx, "gdb", args.operands()[0], args.has("pid"));
  if (!selected) return std::unexpected(selected.error());
  const store::ReportSummary* r = &selected->report;
  const config::Config* config = &selected->config;
  if (!r->has_core)
    return failed(
        fmt::format("{} has no saved core: the crash was collected with save_core=no. Set save_core=yes in {} to keep "
                    "the cores of future crashes; the report itself is in {}/{}",
                    r->name, ctx.config_name(), config->directory, r->name));
  // The executable: --exe, else the report's "exe". A report is root's, but
  // the name in it is the crashed process's: it reaches gdb only as an
  // absolute path after "--", never as an option.
  std::optional<std::string> exe = args.value("exe");
  bool from_report = !exe;
  if (!exe) exe = r->exe;
  if (!exe) return failed(fmt::format("{}: the report does not name the executable; give it with --exe PATH", r->name));
  if (from_report && !exe->starts_with('/'))
    return failed(
        fmt::format("{}: the executable in the report, '{}', is not an absolute path; give it with --exe PATH", r->name,
                    util::escape_text(*exe)));
  struct stat st {};
  bool have_exe = ::stat(exe->c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (!have_exe) ctx.note(fmt::format("{} is gone; gdb gets the core alone", util::escape_text(*exe)));

  std::string core_name = r->name + store::slot_suffix(store::SlotFile::core);
  auto in = util::open_at(selected->opened.dir.get(), core_name.c_str(), O_NOFOLLOW);
  if (!in) return failed(in.error());
  auto temp = PrivateTemp::create();
  if (!temp) return failed(temp.error());
  // We never keep more than max_core_size: a larger one is not ours.
  auto core = decompress_into(**temp, in->get(), core_name, config->max_core_size);
  if (!core) return failed(core.error());
  std::vector<std::string> argv = {"gdb"};
  argv.insert(argv.end(), args.passthrough.begin(), args.passthrough.end());
  argv.push_back("--core=" + *core);
  if (have_exe) argv.insert(argv.end(), {"--", *exe});
  return run_debugger(ctx, argv);  // the temp directory goes when we return
}

Outcome run_analyze(Context& ctx, const CommandArgs& args) {
  auto config = ctx.config();
  if (!config) return std::unexpected(config.error());
  engine::CoreFileOptions options;
  options.executable = args.value("exe");
  options.sysroot = args.value("sysroot").value_or("");
  for (const auto& o : args.parsed.options)
    if (o.name == "search") options.search_dirs.push_back(o.value);
  options.debuginfo_path = config->debuginfo_path;
  options.max_threads = config->max_threads;
  options.max_maps = config->max_maps;
  std::string partial;
  auto text = analyze(args.operands()[0], options, *config, args.has("json"), partial);
  if (!text) return failed(text.error());
  if (!partial.empty()) ctx.note(partial);
  if (std::fwrite(text->data(), 1, text->size(), ctx.out) != text->size() || std::fflush(ctx.out) != 0)
    return kExitFailure;
  return kExitOk;
}

}  // namespace usercrash::tools::ctl
