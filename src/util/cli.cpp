#include "util/cli.h"

#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "util/escape.h"

namespace usercrash::util {

namespace {

// getopt_long's return value for a long option without a short name.
constexpr int kLongOnly = 256;

// How the option was written, for a message: "--config" (without any
// "=value"), or "-c" for a short one.
std::string written(const char* arg, int short_name) {
  std::string_view text = arg ? arg : "";
  if (text.starts_with("--")) return escape_text(text.substr(0, text.find('=')));
  if (short_name > 0 && short_name < kLongOnly) return fmt::format("-{}", escape_text(std::string(1, short_name)));
  return escape_text(text);
}

// The specs a "--prefix" could stand for.
size_t prefix_matches(std::string_view arg, std::span<const OptionSpec> specs) {
  if (!arg.starts_with("--")) return 0;
  std::string_view name =
      arg.substr(2, arg.find('=') == std::string_view::npos ? std::string_view::npos : arg.find('=') - 2);
  size_t n = 0;
  for (const auto& s : specs) {
    if (name == s.name) return 1;
    n += std::string_view(s.name).starts_with(name);
  }
  return n;
}

}  // namespace

std::string usage_error_text(std::string_view program, std::string_view message) {
  return fmt::format("{}: {}\nTry '{} --help' for more information.\n", program, message, program);
}

void usage_error(const char* program, const std::string& message) {
  std::fputs(usage_error_text(program, message).c_str(), stderr);
  std::exit(kExitUsage);
}

const char* version() { return USERCRASH_VERSION; }

bool ParsedArgs::has(std::string_view name) const {
  for (const auto& o : options)
    if (o.name == name) return true;
  return false;
}

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
  std::optional<std::string> found;
  for (const auto& o : options)
    if (o.name == name) found = o.value;
  return found;
}

Result<ParsedArgs> parse_options(std::span<char* const> args, std::span<const OptionSpec> specs, OperandOrder order) {
  // getopt_long permutes its argv: give it a copy, with a program name first.
  static char program_name[] = "program";
  std::vector<char*> argv = {program_name};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  int argc = static_cast<int>(argv.size() - 1);

  // ":" first: a missing value is reported as ':' rather than printed.
  std::string shorts = order == OperandOrder::options_first ? "+:" : ":";
  std::vector<option> longs;
  for (size_t i = 0; i < specs.size(); ++i) {
    const OptionSpec& s = specs[i];
    int val = s.short_name ? static_cast<unsigned char>(s.short_name) : kLongOnly + static_cast<int>(i);
    longs.push_back({s.name, s.takes_value ? required_argument : no_argument, nullptr, val});
    if (s.short_name) {
      shorts += s.short_name;
      if (s.takes_value) shorts += ':';
    }
  }
  longs.push_back({nullptr, 0, nullptr, 0});

  auto spec_of = [&](int val) -> const OptionSpec* {
    for (size_t i = 0; i < specs.size(); ++i) {
      int v = specs[i].short_name ? static_cast<unsigned char>(specs[i].short_name) : kLongOnly + static_cast<int>(i);
      if (v == val) return &specs[i];
    }
    return nullptr;
  };

  ParsedArgs out;
  opterr = 0;
  optind = 0;  // glibc: start over (also forgets a previous call's permutation)
  for (;;) {
    optopt = 0;
    int c = ::getopt_long(argc, argv.data(), shorts.c_str(), longs.data(), nullptr);
    if (c == -1) break;
    const char* arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (c == ':') {
      const OptionSpec* s = spec_of(optopt);
      std::string name =
          std::string_view(arg).starts_with("--") && s ? fmt::format("--{}", s->name) : written(arg, optopt);
      return fail(fmt::format("option '{}' needs a value", name));
    }
    if (c == '?') {
      if (optopt != 0 && std::string_view(arg).starts_with("--"))
        return fail(fmt::format("option '{}' takes no value", written(arg, optopt)));
      if (optopt == 0 && prefix_matches(arg, specs) > 1)
        return fail(fmt::format("option '{}' is ambiguous", written(arg, 0)));
      return fail(fmt::format("unknown option '{}'", written(arg, optopt)));
    }
    const OptionSpec* s = spec_of(c);
    if (!s) return fail(fmt::format("unknown option '{}'", written(arg, c)));
    ParsedOption parsed{s->name, optarg && s->takes_value ? optarg : ""};
    if (s->takes_value && parsed.value.empty())
      return fail(fmt::format("option '{}' needs a value", s->short_name && !std::string_view(arg).starts_with("--")
                                                               ? fmt::format("-{}", s->short_name)
                                                               : fmt::format("--{}", s->name)));
    out.options.push_back(std::move(parsed));
  }
  for (int i = optind; i < argc; ++i) out.operands.emplace_back(argv[i]);
  return out;
}

}  // namespace usercrash::util
