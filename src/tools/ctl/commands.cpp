// The command table, --help, and the one way a usercrashctl command line
// is read: global options, the command, its options and operands.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "tools/ctl/clean_command.h"
#include "tools/ctl/command.h"
#include "tools/ctl/core_commands.h"
#include "tools/ctl/enable_commands.h"
#include "tools/ctl/report_commands.h"
#include "tools/ctl/status_commands.h"
#include "tools/ctl/symbolize_command.h"
#include "tools/ctl/terminal.h"
#include "util/escape.h"

namespace usercrash::tools::ctl {

namespace {

// MATCH operands of list at most.
constexpr size_t kMaxMatches = 64;

// Accepted before the command and after it.
const std::vector<util::OptionSpec> kGlobalOptions = {
    {"config", 'c', true}, {"help", 'h', false},   {"version", 'V', false},
    {"utc", 0, false},     {"no-pager", 0, false}, {"color", 0, true},
};

// Commands whose output a person reads at a terminal: through the pager.
bool pages(const Command& command) {
  std::string_view name = command.name;
  return name == "list" || name == "info" || name == "status";
}

void print_help(const Context& ctx) {
  ctx.print(
      "Usage: {0} [--config FILE] [--utc] [--no-pager] [--color=WHEN] COMMAND [OPTION]...\n"
      "Turns usercrash on and off in the kernel and reads the crash reports back.\n"
      "\n"
      "Commands:\n"
      "  enable [--mode pipe|socket|auto] [--persist] [--client PATH] [--sysctl-file PATH]\n"
      "        point kernel.core_pattern at usercrash_c (pipe) or at the server's kernel\n"
      "        socket (socket, Linux 6.17+; auto: socket when the kernel has it and the\n"
      "        server listens, else pipe), set kernel.core_pipe_limit to 0, and save the\n"
      "        previous values (an enable that follows another keeps the first saved ones).\n"
      "        --persist also writes /etc/sysctl.d/50-usercrash.conf for the next boots\n"
      "  disable [--force]\n"
      "        restore the saved core_pattern and core_pipe_limit byte for byte and remove\n"
      "        what enable installed; --force even when core_pattern was changed since\n"
      "  status [--json]\n"
      "        the active core_pattern, whether it is usercrash's and in which mode, the\n"
      "        server (asked over its socket), the reports (exit status 0 when usercrash\n"
      "        is active, 3 when not)\n"
      "  is-active [--quiet]\n"
      "        'active' or 'inactive' (exit status 0 or 3)\n"
      "  list [-n N] [-r] [-1] [--since TIME] [--until TIME] [--json] [--group] [-F FIELD]\n"
      "       [--pid PID] [--uid UID] [--comm NAME] [--exe PATH] [--signal SIG]\n"
      "       [--signature HEX] [MATCH]...\n"
      "        the reports, newest first: slot, id, time, pid, uid, signal, core kept, exe;\n"
      "        -n N the newest N, -1 the newest, -r oldest first; --since/--until: crashed\n"
      "        at or after/before TIME (\"2026-12-01 10:00\", 2026-12-01T10:00:00Z, today,\n"
      "        yesterday, -2h, -30min, -1d); MATCH: a number is a PID, a path (with a /)\n"
      "        an EXE, else a COMM; a field given twice matches either value, different\n"
      "        fields must all match; --signal 11 or SEGV; --signature: a prefix;\n"
      "        -F FIELD: only that field of each report's JSON (exe, signal.name), a line\n"
      "        each; --group: by crash group (signature and user) with its count of\n"
      "        crashes, first and last seen, reports kept and the newest one\n"
      "  info [--full] [--json] [-F FIELD] [--pid] SLOT|ID|PID\n"
      "        a report's summary: its header, signal and cause, the crashing thread's\n"
      "        backtrace, where its core is; --full: all of it; --json: its JSON; -F: one\n"
      "        field of its JSON. SLOT is a slot number or name (usercrash_07), ID the\n"
      "        report's UUID (it names the report for good; its slot is reused), PID the\n"
      "        newest report of that process (--pid: the argument is a pid)\n"
      "  debug [--exe PATH] [--pid] [--debugger PROG] [-A ARGS] SLOT|ID|PID [-- ARG...]\n"
      "        unpack the saved core of a report into a new private directory and print\n"
      "        the command line that debugs it (PROG ARGS... -- EXE CORE; PROG: gdb; -A:\n"
      "        its arguments in one word, split as a shell would, without expanding\n"
      "        them), then how to remove the directory; it runs nothing\n"
      "  gdb [--exe PATH] [--pid] [--debugger PROG] [-A ARGS] SLOT|ID|PID [-- ARG...]\n"
      "        the same as debug\n"
      "  dump [-o FILE] [--pid] SLOT|ID|PID\n"
      "        write the saved core of a report, decompressed, to FILE (a new file: never\n"
      "        one that exists) or to standard output when that is no terminal\n"
      "  analyze [--json] [--exe PATH] [--sysroot DIR] [--search DIR]... [--debuginfod URL] CORE\n"
      "        the report of any core file (plain or zstd-compressed), to stdout\n"
      "  clean [--older-than DURATION]\n"
      "        remove reports older than DURATION (30m, 12h, 7d), or all of them\n"
      "  symbolize [--text] [--debug-dir DIR]... [--sysroot DIR] [--no-system]\n"
      "            [--debuginfod URL] [--debuginfod-timeout SECONDS] REPORT|SLOT|ID|-\n"
      "        a report made with stripped binaries, symbolized here from debug files found\n"
      "        by build-id (DIR/.build-id/xx/rest.debug, the sysroot, /usr/lib/debug, then\n"
      "        debuginfod: --debuginfod or DEBUGINFOD_URLS, 30 s budget); JSON (or --text)\n"
      "        to stdout, changed frames marked\n"
      "\n"
      "Options:\n"
      "  -c, --config FILE   configuration file (default /etc/usercrash.conf); enable puts\n"
      "                      it in the core_pattern line for usercrash_c\n"
      "      --utc           show times in UTC (default: the local time zone, TZ); JSON\n"
      "                      is always UTC\n"
      "      --no-pager      do not pipe list, info and status into a pager ($SYSTEMD_PAGER,\n"
      "                      else $PAGER, else less; only when the output is a terminal)\n"
      "      --color=WHEN    colour the signal, cause and crashing frame of info: auto\n"
      "                      (default: on a terminal, unless NO_COLOR is set), always, never\n"
      "  -h, --help          show this help\n"
      "  -V, --version       show the version\n"
      "\n"
      "crashlogctl, the name ACRN's usercrash gave this program, takes the same commands.\n"
      "Exit status: 0 done, 1 failed, 2 bad usage, 3 not active (status, is-active).\n",
      ctx.program);
}

std::string command_names() {
  std::string names;
  for (const auto& c : commands()) {
    if (c.alias_of) continue;
    names += names.empty() ? "" : ", ";
    names += c.name;
  }
  return names;
}

// Applies the global options a command line carried; true when it asked for
// --help or --version (already answered).
bool apply_globals(Context& ctx, const util::ParsedArgs& parsed) {
  if (auto config = parsed.value("config")) ctx.config_path = *config;
  if (parsed.has("utc")) ctx.utc = true;
  if (parsed.has("no-pager")) ctx.no_pager = true;
  if (auto color = parsed.value("color")) ctx.color_option = *color;
  if (parsed.has("help")) {
    print_help(ctx);
    return true;
  }
  if (parsed.has("version")) {
    ctx.print("{} {}\n", ctx.program, util::version());
    return true;
  }
  return false;
}

int report_failure(const Context& ctx, const Failure& failure) {
  std::string text = failure.kind == Failure::Kind::usage ? util::usage_error_text(ctx.program, failure.message)
                                                          : fmt::format("{}: {}\n", ctx.program, failure.message);
  std::fputs(text.c_str(), ctx.err);
  return failure.kind == Failure::Kind::failed ? kExitFailure : util::kExitUsage;
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<util::OptionSpec> kDebugOptions = {
      {"exe", 0, true}, {"pid", 0, false}, {"debugger", 0, true}, {"debugger-arguments", 'A', true}};
  static const std::vector<Command> table = {
      {"enable",
       "enable [--mode pipe|socket|auto] [--persist] [--client PATH] [--sysctl-file PATH]",
       {{"mode", 0, true}, {"persist", 0, false}, {"client", 0, true}, {"sysctl-file", 0, true}},
       0,
       0,
       false,
       run_enable},
      {"disable", "disable [--force]", {{"force", 0, false}}, 0, 0, false, run_disable},
      {"status", "status [--json]", {{"json", 0, false}}, 0, 0, false, run_status},
      {"is-active", "is-active [--quiet]", {{"quiet", 'q', false}}, 0, 0, false, run_is_active},
      {"list",
       "list [-n N] [-r] [-1] [--since TIME] [--until TIME] [--json] [--group] [-F FIELD] [MATCH]...",
       {{"json", 0, false},
        {"group", 0, false},
        {"lines", 'n', true},
        {"reverse", 'r', false},
        {"newest", '1', false},
        {"since", 0, true},
        {"until", 0, true},
        {"pid", 0, true},
        {"uid", 0, true},
        {"comm", 0, true},
        {"exe", 0, true},
        {"signal", 0, true},
        {"signature", 0, true},
        {"field", 'F', true}},
       0,
       kMaxMatches,
       false,
       run_list},
      {"info",
       "info [--full] [--json] [-F FIELD] [--pid] SLOT|ID|PID",
       {{"json", 0, false}, {"pid", 0, false}, {"full", 0, false}, {"field", 'F', true}},
       1,
       1,
       false,
       run_info},
      {"debug", "debug [--exe PATH] [--pid] [--debugger PROG] [-A ARGS] SLOT|ID|PID [-- ARG...]", kDebugOptions, 1, 1,
       true, run_debug},
      {"gdb", "gdb [--exe PATH] [--pid] [--debugger PROG] [-A ARGS] SLOT|ID|PID [-- ARG...]", kDebugOptions, 1, 1, true,
       run_debug, "debug"},
      {"dump", "dump [-o FILE] [--pid] SLOT|ID|PID", {{"output", 'o', true}, {"pid", 0, false}}, 1, 1, false, run_dump},
      {"analyze",
       "analyze [--json] [--exe PATH] [--sysroot DIR] [--search DIR]... [--debuginfod URL] CORE",
       {{"json", 0, false}, {"exe", 0, true}, {"sysroot", 0, true}, {"search", 0, true}, {"debuginfod", 0, true}},
       1,
       1,
       false,
       run_analyze},
      {"clean", "clean [--older-than DURATION]", {{"older-than", 0, true}}, 0, 0, false, run_clean},
      {"symbolize",
       "symbolize [--text] [--debug-dir DIR]... [--sysroot DIR] [--no-system] [--debuginfod URL] "
       "[--debuginfod-timeout SECONDS] REPORT|SLOT|ID|-",
       {{"text", 0, false},
        {"debug-dir", 0, true},
        {"sysroot", 0, true},
        {"no-system", 0, false},
        {"debuginfod", 0, true},
        {"debuginfod-timeout", 0, true}},
       1,
       1,
       false,
       run_symbolize},
  };
  return table;
}

const Command* find_command(std::string_view name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

std::expected<CommandArgs, Failure> parse_command_args(const Command& command, std::span<char* const> args) {
  CommandArgs out;
  // "--" hands the rest to another program (gdb): cut it off before parsing.
  auto dashes = std::find_if(args.begin(), args.end(), [](const char* a) { return std::string_view(a) == "--"; });
  if (command.passthrough && dashes != args.end()) {
    for (auto it = dashes + 1; it != args.end(); ++it) out.passthrough.emplace_back(*it);
    args = args.first(static_cast<size_t>(dashes - args.begin()));
  }
  std::vector<util::OptionSpec> specs = command.options;
  specs.insert(specs.end(), kGlobalOptions.begin(), kGlobalOptions.end());
  auto parsed = util::parse_options(args, specs);
  if (!parsed) return usage(fmt::format("{}: {}", command.name, parsed.error().message));
  out.parsed = std::move(*parsed);
  if (out.parsed.has("help") || out.parsed.has("version")) return out;
  size_t n = out.parsed.operands.size();
  if (n > command.max_operands) {
    if (command.max_operands == 0)
      return usage(
          fmt::format("{}: unexpected argument '{}'", command.name, util::escape_text(out.parsed.operands.front())));
    return usage(fmt::format("{}: too many arguments", command.name));
  }
  if (n < command.min_operands) return usage(fmt::format("{}: missing argument", command.name));
  return out;
}

int run_usercrashctl(Context& ctx, std::span<char* const> args) {
  auto globals = util::parse_options(args, kGlobalOptions, util::OperandOrder::options_first);
  if (!globals) return report_failure(ctx, {Failure::Kind::usage, globals.error().message});
  if (apply_globals(ctx, *globals)) return kExitOk;
  const auto& operands = globals->operands;
  if (operands.empty())
    return report_failure(ctx, {Failure::Kind::usage, fmt::format("missing command ({})", command_names())});
  const std::string& name = operands[0];
  if (name == "help") {
    print_help(ctx);
    return kExitOk;
  }
  const Command* command = find_command(name);
  if (!command)
    return report_failure(ctx, {Failure::Kind::usage, fmt::format("unknown command '{}'", util::escape_text(name))});
  // The command's arguments are what follows its name.
  size_t at = args.size() - (operands.size() - 1);
  auto parsed = parse_command_args(*command, args.subspan(at));
  if (!parsed) return report_failure(ctx, parsed.error());
  if (apply_globals(ctx, parsed->parsed)) return kExitOk;
  auto mode = parse_color_mode(ctx.color_option);
  if (!mode)
    return report_failure(ctx, {Failure::Kind::usage, fmt::format("--color: '{}' is not auto, always or never",
                                                                  util::escape_text(ctx.color_option))});
  int out_fd = ::fileno(ctx.out);
  ctx.color = use_color(*mode, out_fd >= 0 && ::isatty(out_fd), std::getenv("NO_COLOR"), std::getenv("TERM"));
  Pager pager;
  if (pages(*command) && !ctx.no_pager && ctx.out == stdout) pager.start();
  auto outcome = command->run(ctx, *parsed);
  if (!outcome) return report_failure(ctx, outcome.error());
  return *outcome;
}

}  // namespace usercrash::tools::ctl
