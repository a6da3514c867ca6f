// What the five programs share on their command lines: one option parser
// (getopt_long underneath, so -kVALUE, -k VALUE, --key=VALUE, --key VALUE
// and clustered short flags all work the same everywhere) and one shape for
// usage errors: "PROGRAM: MESSAGE" then "Try 'PROGRAM --help' for more
// information.", exit status 2.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace usercrash::util {

inline constexpr int kExitUsage = 2;

// Prints a usage error in the one shape and exits 2.
[[noreturn]] void usage_error(const char* program, const std::string& message);

// The same text, for a caller that exits on its own.
std::string usage_error_text(std::string_view program, std::string_view message);

const char* version();

struct OptionSpec {
  const char* name;     // long name without the dashes: "config"
  char short_name = 0;  // 'c', or 0 for a long option only
  bool takes_value = false;
};

struct ParsedOption {
  std::string name;  // the long name, whichever form was written
  std::string value;
};

struct ParsedArgs {
  std::vector<ParsedOption> options;  // in the order given
  std::vector<std::string> operands;  // positional arguments
  bool has(std::string_view name) const;
  // The last value given for `name` (a later one overrides).
  std::optional<std::string> value(std::string_view name) const;
};

enum class OperandOrder {
  anywhere,       // options and operands mix (GNU style)
  options_first,  // the first operand ends the options: what follows is operands, even "-x"
};

// Parses `args` (the arguments after the program or command name). "--"
// ends the options. Errors name the option: "unknown option '--bogus'",
// "option '--config' needs a value", "option '--json' takes no value",
// "option '--ver' is ambiguous". An option that takes a value never takes
// an empty one.
Result<ParsedArgs> parse_options(std::span<char* const> args, std::span<const OptionSpec> specs,
                                 OperandOrder order = OperandOrder::anywhere);

}  // namespace usercrash::util
