#include "tools/ctl/core_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "collect/collect.h"
#include "collect/output_destination.h"
#include "engine/core_file_target.h"
#include "store/core_archive.h"
#include "store/crash_directory.h"
#include "tools/ctl/private_temp.h"
#include "tools/ctl/selector.h"
#include "tools/report_symbolizer.h"
#include "util/escape.h"
#include "util/file_io.h"
#include "util/shell_words.h"

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

// The saved core of the selected report, opened to read; a report without
// one says how to keep the next ones.
std::expected<util::UniqueFd, Failure> open_saved_core(const Context& ctx, const SelectedReport& selected) {
  const store::ReportSummary& r = selected.report;
  if (!r.has_core)
    return failed(
        fmt::format("{} has no saved core: the crash was collected with save_core=no. Set save_core=yes in {} to keep "
                    "the cores of future crashes; the report itself is in {}/{}",
                    r.name, ctx.config_name(), selected.config.directory, r.name));
  std::string core_name = r.name + store::slot_suffix(store::SlotFile::core);
  auto in = util::open_at(selected.opened.dir.get(), core_name.c_str(), O_NOFOLLOW);
  if (!in) return failed(in.error());
  return std::move(*in);
}

// Where dump writes: FILE, created (never an existing one, never through a
// symlink), else standard output when it is no terminal.
std::expected<util::UniqueFd, Failure> dump_destination(const Context& ctx, const std::optional<std::string>& file) {
  if (file) {
    util::UniqueFd fd(::open(file->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd && errno == EEXIST)
      return failed(fmt::format("{} exists; dump does not overwrite a file (choose another name or remove it)",
                                util::escape_text(*file)));
    if (!fd) return failed(fmt::format("cannot create {}: {}", util::escape_text(*file), std::strerror(errno)));
    return fd;
  }
  int out = ::fileno(ctx.out);
  if (out < 0) return failed("standard output has no file descriptor; give -o FILE");
  if (::isatty(out)) return failed("refusing to write a core to a terminal; redirect the output or give -o FILE");
  util::UniqueFd copy(::fcntl(out, F_DUPFD_CLOEXEC, 3));
  if (!copy) return failed(fmt::format("standard output: {}", std::strerror(errno)));
  return copy;
}

// The executable the debugger gets: --exe, else the report's "exe". A
// report is root's, but the name in it is the crashed process's: it is
// taken only as an absolute path, and stands after "--", never as an option.
std::expected<std::string, Failure> debug_executable(const Context& ctx, const CommandArgs& args,
                                                     const store::ReportSummary& r) {
  if (auto given = args.value("exe")) return *given;
  if (!r.exe)
    return failed(fmt::format("{}: the report does not name the executable; give it with --exe PATH", r.name));
  if (!r.exe->starts_with('/'))
    return failed(
        fmt::format("{}: the executable in the report, '{}', is not an absolute path; give it with --exe PATH", r.name,
                    util::escape_text(*r.exe)));
  struct stat st {};
  if (::stat(r.exe->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    ctx.note(fmt::format("{} is gone; the debugger gets the core alone", util::escape_text(*r.exe)));
  return *r.exe;
}

// PROG and its arguments: --debugger (default gdb), -A's words, then what
// follows "--" on our command line.
std::expected<std::vector<std::string>, Failure> debugger_words(const CommandArgs& args) {
  std::vector<std::string> words = {args.value("debugger").value_or("gdb")};
  if (auto a = args.value("debugger-arguments")) {
    auto split = util::split_shell_words(*a);
    if (!split) return usage(fmt::format("debug: -A: {}", split.error().message));
    words.insert(words.end(), split->begin(), split->end());
  }
  words.insert(words.end(), args.passthrough.begin(), args.passthrough.end());
  return words;
}

// Prints WORDS as one command line to copy, and how to remove TEMP after.
Outcome print_debug_command(const Context& ctx, const std::vector<std::string>& words, PrivateTemp& temp) {
  auto line = util::shell_command_line(words);
  auto remove = util::shell_quote(temp.directory());
  if (!line || !remove)
    return failed(
        "the debugger's command line holds characters a terminal would not show as they are "
        "(give --exe PATH, --debugger PROG and -A ARGS in plain characters)");
  temp.keep();
  ctx.print("{}\n# when done: rm -r -- {}\n", *line, *remove);
  return kExitOk;
}

}  // namespace

// The product never runs a debugger (nor a shell): it unpacks the core where
// only the caller can read it and prints the command line to run.
Outcome run_debug(Context& ctx, const CommandArgs& args) {
  auto words = debugger_words(args);
  if (!words) return std::unexpected(words.error());
  auto selected = select_report(ctx, "debug", args.operands()[0], args.has("pid"));
  if (!selected) return std::unexpected(selected.error());
  const store::ReportSummary& r = selected->report;
  auto in = open_saved_core(ctx, *selected);
  if (!in) return std::unexpected(in.error());
  auto exe = debug_executable(ctx, args, r);
  if (!exe) return std::unexpected(exe.error());
  std::string core_name = r.name + store::slot_suffix(store::SlotFile::core);
  auto temp = PrivateTemp::create(PrivateTemp::Base::runtime_dir);
  if (!temp) return failed(temp.error());
  // We never keep more than max_core_size: a larger one is not ours.
  auto core = decompress_into(**temp, in->get(), core_name, selected->config.max_core_size);
  if (!core) return failed(core.error());
  words->insert(words->end(), {"--", *exe, *core});
  return print_debug_command(ctx, *words, **temp);
}

// The saved core, decompressed (up to max_core_size: a larger one is not
// ours), to -o FILE or to standard output.
Outcome run_dump(Context& ctx, const CommandArgs& args) {
  auto selected = select_report(ctx, "dump", args.operands()[0], args.has("pid"));
  if (!selected) return std::unexpected(selected.error());
  auto in = open_saved_core(ctx, *selected);
  if (!in) return std::unexpected(in.error());
  auto file = args.value("output");
  auto out = dump_destination(ctx, file);
  if (!out) return std::unexpected(out.error());
  std::fflush(ctx.out);
  std::string core_name = selected->report.name + store::slot_suffix(store::SlotFile::core);
  auto bytes = store::decompress_core(in->get(), out->get(), selected->config.max_core_size);
  if (!bytes) {
    if (file) ::unlink(file->c_str());  // ours: created above, and half written
    return failed(fmt::format("{}: {}", core_name, bytes.error().message));
  }
  return kExitOk;
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
  auto urls = debuginfod_urls(args.value("debuginfod"), *config);
  auto text = analyze(args.operands()[0], options, *config, args.has("json") || urls, partial);
  if (!text) return failed(text.error());
  if (!partial.empty()) ctx.note(partial);
  if (urls) {
    // debuginfod for what this host lacks: asked here, after the engine,
    // whose sandbox has no network.
    SymbolizeRequest request{
        .search = {}, .urls = urls, .budget = std::chrono::seconds(30), .as_text = !args.has("json")};
    request.search.system_dir = config->debuginfo_path;
    auto done = symbolize_report(*text, std::move(request));
    if (!done) return failed(done.error());
    for (const auto& note : done->notes) ctx.note(note);
    *text = std::move(done->text);
  }
  if (std::fwrite(text->data(), 1, text->size(), ctx.out) != text->size() || std::fflush(ctx.out) != 0)
    return kExitFailure;
  return kExitOk;
}

}  // namespace usercrash::tools::ctl
