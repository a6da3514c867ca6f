#include "tools/core_pattern.h"

#include <fmt/format.h>

#include "util/escape.h"
#include "util/parse.h"

namespace usercrash::tools {

namespace {

// The client's arguments after its path (and config): the kernel's facts in
// one compact -k argument, then "--" and the PID COMM SIGNAL of ACRN's
// usercrash, so that no COMM (a process can name itself "-h") is ever read
// as an option. Without the "--" where the line would not fit otherwise:
// the client also stops reading options at its first operand, the PID.
constexpr std::string_view kClientOptions = " -k%F:%I:%u:%g:%t:%d:%c";
constexpr std::string_view kOperandsMarked = " -- %P %e %s";
constexpr std::string_view kOperands = " %P %e %s";

util::Result<void> check_pattern_path(std::string_view what, std::string_view path) {
  if (path.empty() || path[0] != '/')
    return util::fail(fmt::format("{} '{}' is not an absolute path", what, util::escape_text(path)));
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (c == ' ' || byte < 0x20 || byte == 0x7f)
      return util::fail(fmt::format("{} '{}' holds whitespace or a control character, which core_pattern cannot carry",
                                    what, util::escape_text(path)));
    if (c == '%')
      return util::fail(fmt::format("{} '{}' holds '%', which the kernel would expand in core_pattern", what,
                                    util::escape_text(path)));
  }
  return {};
}

util::Result<std::string> fits(std::string pattern) {
  if (pattern.size() > kMaxCorePattern)
    return util::fail(fmt::format(
        "the core_pattern line would be {} bytes, but the kernel keeps only {} and silently cuts the rest: {}",
        pattern.size(), kMaxCorePattern, util::escape_text(pattern)));
  return pattern;
}

}  // namespace

const char* mode_name(Mode mode) { return mode == Mode::socket ? "socket" : "pipe"; }

util::Result<std::string> pipe_pattern(const std::string& client, const std::string& config_path) {
  if (auto r = check_pattern_path("client", client); !r) return std::unexpected(r.error());
  std::string pattern = "|" + client;
  if (!config_path.empty()) {
    if (auto r = check_pattern_path("config file", config_path); !r) return std::unexpected(r.error());
    pattern += " -c " + config_path;
  }
  pattern += kClientOptions;
  if (pattern.size() + kOperandsMarked.size() <= kMaxCorePattern) return pattern + std::string(kOperandsMarked);
  return fits(pattern + std::string(kOperands));
}

util::Result<std::string> socket_pattern(const std::string& kernel_socket) {
  if (auto r = check_pattern_path("kernel socket", kernel_socket); !r) return std::unexpected(r.error());
  return fits("@@" + kernel_socket);
}

PatternInfo classify_pattern(std::string_view pattern, std::string_view kernel_socket) {
  PatternInfo info;
  if (pattern.starts_with('|')) {
    std::string_view rest = pattern.substr(1);
    size_t start = rest.find_first_not_of(' ');
    rest = start == std::string_view::npos ? std::string_view{} : rest.substr(start);
    info.target = std::string(rest.substr(0, rest.find(' ')));
    std::string_view program = info.target;
    size_t slash = program.rfind('/');
    std::string_view base = slash == std::string_view::npos ? program : program.substr(slash + 1);
    info.kind = base == "usercrash_c" ? PatternKind::usercrash_pipe : PatternKind::other_pipe;
    return info;
  }
  if (pattern.starts_with('@')) {
    std::string_view path = pattern.substr(pattern.starts_with("@@") ? 2 : 1);
    info.target = std::string(path);
    info.kind =
        !kernel_socket.empty() && path == kernel_socket ? PatternKind::usercrash_socket : PatternKind::other_socket;
    return info;
  }
  info.kind = PatternKind::file;
  return info;
}

std::optional<std::pair<unsigned, unsigned>> kernel_version(std::string_view release) {
  size_t dot = release.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto major = util::parse_int<unsigned>(release.substr(0, dot));
  std::string_view rest = release.substr(dot + 1);
  size_t end = 0;
  while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
  auto minor = util::parse_int<unsigned>(rest.substr(0, end));
  if (!major || !minor) return std::nullopt;
  return std::pair{*major, *minor};
}

bool kernel_has_coredump_socket(std::string_view release) {
  auto v = kernel_version(release);
  return v && (v->first > 6 || (v->first == 6 && v->second >= 17));
}

}  // namespace usercrash::tools
