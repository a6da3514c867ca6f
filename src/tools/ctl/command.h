// The table of usercrashctl's commands: each names its options and operands,
// and the parser checks a command line against them before the command runs.
// A new command is one entry (see commands.cpp) and one function.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tools/ctl/context.h"
#include "util/cli.h"

namespace usercrash::tools::ctl {

struct CommandArgs {
  util::ParsedArgs parsed;
  std::vector<std::string> passthrough;  // after "--", for commands that take it
  bool has(std::string_view name) const { return parsed.has(name); }
  std::optional<std::string> value(std::string_view name) const { return parsed.value(name); }
  const std::vector<std::string>& operands() const { return parsed.operands; }
};

struct Command {
  const char* name;
  const char* synopsis;  // for --help: "list [OPTION]..."
  std::vector<util::OptionSpec> options;
  size_t min_operands = 0;
  size_t max_operands = 0;
  bool passthrough = false;  // "--" ends our arguments; the rest go to another program
  Outcome (*run)(Context&, const CommandArgs&) = nullptr;
  const char* alias_of = nullptr;  // "debug" is "gdb"
};

// Every command, in --help order.
const std::vector<Command>& commands();
const Command* find_command(std::string_view name);

// Checks `args` (after the command name) against `command`'s table.
std::expected<CommandArgs, Failure> parse_command_args(const Command& command, std::span<char* const> args);

// The whole program: global options, the command, its arguments. Returns
// the exit status; prints failures on ctx.err in the one usage shape.
int run_usercrashctl(Context& ctx, std::span<char* const> args);

}  // namespace usercrash::tools::ctl
