#include "config/config.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "util/file_io.h"
#include "util/parse.h"
#include "util/unique_fd.h"

namespace usercrash::config {
namespace {

using util::Result;

// A setter returns an error text, or nothing when the value was accepted.
using Setter = std::function<std::optional<std::string>(Config&, std::string_view)>;
// A getter renders the current value back in file syntax.
using Getter = std::function<std::string(const Config&)>;

struct Key {
  std::string name;
  Setter set;
  Getter get;
};

std::optional<std::string> check_path(std::string_view value, size_t max_len) {
  if (value.empty() || value[0] != '/') return "must be an absolute path";
  if (value.size() > max_len) return fmt::format("longer than {} characters", max_len);
  if (value.find("/../") != std::string_view::npos || value.ends_with("/..")) return "must not contain '..'";
  return std::nullopt;
}

Key path_key(const char* name, std::string Config::*field, size_t max_len) {
  return {name,
          [field, max_len](Config& c, std::string_view v) -> std::optional<std::string> {
            if (auto e = check_path(v, max_len)) return e;
            c.*field = std::string(v);
            return std::nullopt;
          },
          [field](const Config& c) { return c.*field; }};
}

// A user name as useradd(8) takes it, or a number.
std::optional<std::string> check_user(std::string_view value) {
  constexpr size_t kMaxUserName = 32;
  if (value.empty() || value.size() > kMaxUserName) return fmt::format("must be 1 to {} characters", kMaxUserName);
  auto allowed = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
           ch == '.';
  };
  if (value[0] == '-' || !std::all_of(value.begin(), value.end(), allowed))
    return "must be a user name (letters, digits, '_', '-', '.') or a number";
  return std::nullopt;
}

Key user_key(const char* name, std::string Config::*field) {
  return {name,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            if (auto e = check_user(v)) return e;
            c.*field = std::string(v);
            return std::nullopt;
          },
          [field](const Config& c) { return c.*field; }};
}

// An absolute path, or empty for "none".
Key optional_path_key(const char* name, std::string Config::*field, size_t max_len) {
  return {name,
          [field, max_len](Config& c, std::string_view v) -> std::optional<std::string> {
            if (!v.empty())
              if (auto e = check_path(v, max_len)) return *e + " (or empty for none)";
            c.*field = std::string(v);
            return std::nullopt;
          },
          [field](const Config& c) { return c.*field; }};
}

// Space-separated http:// or https:// URLs, or empty for none.
Key urls_key(const char* name, std::string Config::*field) {
  return {name,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            constexpr size_t kMaxUrls = 1024;
            if (v.size() > kMaxUrls) return fmt::format("longer than {} bytes", kMaxUrls);
            for (size_t at = 0; at < v.size();) {
              size_t end = std::min(v.find(' ', at), v.size());
              std::string_view url = v.substr(at, end - at);
              if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
                return "not space-separated http:// or https:// URLs";
              for (char ch : url)
                if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return "a URL holds a control character";
              at = end + 1;
            }
            c.*field = std::string(v);
            return std::nullopt;
          },
          [field](const Config& c) { return c.*field; }};
}

Key unsigned_key(const char* name, unsigned Config::*field, unsigned min, unsigned max) {
  return {name,
          [field, min, max](Config& c, std::string_view v) -> std::optional<std::string> {
            auto n = util::parse_int<unsigned>(v);
            if (!n) return "not a whole number";
            if (*n < min || *n > max) return fmt::format("must be between {} and {}", min, max);
            c.*field = *n;
            return std::nullopt;
          },
          [field](const Config& c) { return std::to_string(c.*field); }};
}

Key duration_key(const char* name, milliseconds Config::*field) {
  return {name,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            auto d = util::parse_duration(v);
            if (!d) return "not a duration (examples: 500ms, 5s, 2m)";
            if (d->count() == 0) return "must be more than zero";
            c.*field = *d;
            return std::nullopt;
          },
          [field](const Config& c) { return fmt::format("{}ms", (c.*field).count()); }};
}

Key size_key(const char* name, uint64_t Config::*field, uint64_t min) {
  return {name,
          [field, min](Config& c, std::string_view v) -> std::optional<std::string> {
            auto n = util::parse_size(v);
            if (!n) return "not a size (examples: 4096, 64K, 16M, 2G)";
            if (*n < min) return fmt::format("must be at least {}", min);
            c.*field = *n;
            return std::nullopt;
          },
          [field](const Config& c) { return std::to_string(c.*field); }};
}

Key bool_key(const char* name, bool Config::*field) {
  return {name,
          [field](Config& c, std::string_view v) -> std::optional<std::string> {
            if (v == "yes" || v == "true" || v == "1" || v == "on") c.*field = true;
            else if (v == "no" || v == "false" || v == "0" || v == "off") c.*field = false;
            else return "must be yes or no";
            return std::nullopt;
          },
          [field](const Config& c) { return std::string(c.*field ? "yes" : "no"); }};
}

template <typename E>
Key enum_key(const char* name, E Config::*field, std::vector<std::pair<std::string, E>> names) {
  return {name,
          [field, names](Config& c, std::string_view v) -> std::optional<std::string> {
            std::string allowed;
            for (auto& [text, value] : names) {
              if (v == text) {
                c.*field = value;
                return std::nullopt;
              }
              allowed += (allowed.empty() ? "" : ", ") + text;
            }
            return "must be one of: " + allowed;
          },
          [field, names](const Config& c) {
            for (auto& [text, value] : names)
              if (c.*field == value) return text;
            return std::string("?");
          }};
}

// sockaddr_un.sun_path holds 108 bytes including the terminator.
constexpr size_t kMaxSocketPath = 107;
constexpr size_t kMaxDirectoryPath = 1024;

const std::vector<Key>& table() {
  static const std::vector<Key> keys = {
      path_key("directory", &Config::directory, kMaxDirectoryPath),
      path_key("socket", &Config::socket, kMaxSocketPath),
      path_key("kernel_socket", &Config::kernel_socket, kMaxSocketPath),
      path_key("state_directory", &Config::state_directory, kMaxDirectoryPath),
      unsigned_key("count", &Config::count, 1, 1000),
      unsigned_key("max_concurrent", &Config::max_concurrent, 1, 64),
      unsigned_key("max_queue", &Config::max_queue, 0, 4096),
      bool_key("warm_collector", &Config::warm_collector),
      duration_key("request_timeout", &Config::request_timeout),
      duration_key("completion_timeout", &Config::completion_timeout),
      duration_key("client_timeout", &Config::client_timeout),
      bool_key("save_core", &Config::save_core),
      size_key("max_core_size", &Config::max_core_size, 4096),
      bool_key("include_environment", &Config::include_environment),
      unsigned_key("max_threads", &Config::max_threads, 1, 100000),
      unsigned_key("max_frames", &Config::max_frames, 1, 100000),
      unsigned_key("max_maps", &Config::max_maps, 1, 1000000),
      unsigned_key("max_open_files", &Config::max_open_files, 1, 1000000),
      size_key("max_report_size", &Config::max_report_size, 4096),
      duration_key("time_budget", &Config::time_budget),
      size_key("memory_budget", &Config::memory_budget, 16ULL << 20),
      enum_key<SourceLines>("source_lines", &Config::source_lines,
                            {{"none", SourceLines::none},
                             {"own", SourceLines::own},
                             {"all", SourceLines::all},
                             {"auto", SourceLines::automatic}}),
      path_key("debuginfo_path", &Config::debuginfo_path, kMaxDirectoryPath),
      urls_key("debuginfod_urls", &Config::debuginfod_urls),
      bool_key("crash_debuginfod", &Config::crash_debuginfod),
      duration_key("crash_debuginfod_timeout", &Config::crash_debuginfod_timeout),
      path_key("crash_debuginfod_cache", &Config::crash_debuginfod_cache, kMaxDirectoryPath),
      user_key("engine_user", &Config::engine_user),
      enum_key<ReportAccess>("report_access", &Config::report_access,
                             {{"root", ReportAccess::root}, {"owner", ReportAccess::owner}}),
      bool_key("dump_secure_memory", &Config::dump_secure_memory),
      unsigned_key("rate_limit", &Config::rate_limit, 0, 1000000),
      unsigned_key("keep_per_signature", &Config::keep_per_signature, 0, 1000),
      optional_path_key("on_report", &Config::on_report, kMaxDirectoryPath),
      duration_key("on_report_timeout", &Config::on_report_timeout),
      optional_path_key("metrics_file", &Config::metrics_file, kMaxDirectoryPath),
  };
  return keys;
}

const Key* find_key(std::string_view name) {
  for (const auto& k : table())
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace

namespace {

// One pair of double quotes around a value is taken off: `"a b "` keeps
// its spaces, `""x""` is `"x"`.
std::string_view unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') return value.substr(1, value.size() - 2);
  return value;
}

}  // namespace

Result<Config> parse(std::string_view text, std::string_view filename, Config base) {
  Config config = std::move(base);
  std::map<std::string, size_t, std::less<>> seen;
  util::LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    size_t line_no = lines.number();
    auto where = [&](const std::string& reason) {
      return util::fail(fmt::format("{}:{}: {}", filename, line_no, reason));
    };
    if (line.find('\0') != std::string_view::npos) return where("contains a NUL byte");
    std::string_view body = util::trim(line);
    if (body.empty() || body[0] == '#') continue;
    size_t eq = body.find('=');
    if (eq == std::string_view::npos) return where("expected KEY=VALUE");
    std::string_view key = util::trim(body.substr(0, eq));
    std::string_view value = util::trim(body.substr(eq + 1));
    if (key.empty()) return where("missing key before '='");
    // "directory = /x # old" would be the path "/x # old": a '#' after a
    // blank in an unquoted value is refused, not guessed at.
    if (unquote(value).size() == value.size()) {
      size_t hash = value.find('#');
      if (hash != std::string_view::npos && hash > 0 && (value[hash - 1] == ' ' || value[hash - 1] == '\t'))
        return where(
            fmt::format("'{}': a '#' after the value (comments take a line of their own; put a value "
                        "holding ' #' in double quotes)",
                        key));
    }
    const Key* k = find_key(key);
    if (!k) return where(fmt::format("unknown key '{}'", key));
    if (auto it = seen.find(key); it != seen.end())
      return where(fmt::format("'{}' already set on line {}", key, it->second));
    seen.emplace(std::string(key), line_no);
    if (auto e = k->set(config, unquote(value))) return where(fmt::format("{}: {}", key, *e));
  }
  if (config.socket == config.kernel_socket)
    return util::fail(fmt::format("{}: socket and kernel_socket must differ", filename));
  return config;
}

namespace {

// The config decides where root writes; a file or directory someone else
// could edit would let them choose that.
Result<void> check_owner(const struct stat& st, const std::string& path) {
  if (::geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))))
    return util::fail(path + ": must be owned by root and not writable by group or others");
  return {};
}

// The text of the config file open as FD.
Result<std::string> read_config_file(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return util::fail_errno(path);
  if (!S_ISREG(st.st_mode)) return util::fail(path + ": not a regular file");
  if (auto owner = check_owner(st, path); !owner) return std::unexpected(owner.error());
  constexpr size_t kMaxConfigSize = 1 << 20;
  bool truncated = false;
  auto text = util::read_all(fd, kMaxConfigSize, &truncated);
  if (!text) return util::fail(path + ": " + text.error().message);
  if (truncated) return util::fail(path + ": larger than 1 MiB");
  return *text;
}

// The drop-ins of DIR: its *.conf files (not hidden ones), in byte order of
// their names.
Result<std::vector<std::string>> drop_in_names(int dirfd, const std::string& dir) {
  constexpr size_t kMaxDropIns = 256;
  int fd = ::dup(dirfd);
  if (fd < 0) return util::fail_errno(dir);
  std::unique_ptr<DIR, int (*)(DIR*)> stream(::fdopendir(fd), ::closedir);
  if (!stream) {
    ::close(fd);
    return util::fail_errno(dir);
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(stream.get())) {
    std::string_view name = entry->d_name;
    if (name.starts_with('.') || !name.ends_with(".conf")) continue;
    if (names.size() == kMaxDropIns) return util::fail(fmt::format("{}: more than {} drop-ins", dir, kMaxDropIns));
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<Config> load(const std::string& path, bool must_exist) {
  Config config;
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd) {
    auto text = read_config_file(fd.get(), path);
    if (!text) return std::unexpected(text.error());
    auto parsed = parse(*text, path);
    if (!parsed) return parsed;
    config = std::move(*parsed);
  } else if (errno != ENOENT || must_exist) {
    return util::fail_errno(path);
  }
  // Then FILE.d/*.conf, each over what came before.
  std::string dir = path + ".d";
  util::UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) {
    if (errno == ENOENT) return config;
    return util::fail_errno(dir);
  }
  struct stat st {};
  if (::fstat(dirfd.get(), &st) != 0) return util::fail_errno(dir);
  if (auto owner = check_owner(st, dir); !owner) return std::unexpected(owner.error());
  auto names = drop_in_names(dirfd.get(), dir);
  if (!names) return std::unexpected(names.error());
  for (const auto& name : *names) {
    std::string file = dir + "/" + name;
    util::UniqueFd drop_in(::openat(dirfd.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!drop_in) return util::fail_errno(file);
    auto text = read_config_file(drop_in.get(), file);
    if (!text) return std::unexpected(text.error());
    auto parsed = parse(*text, file, std::move(config));
    if (!parsed) return parsed;
    config = std::move(*parsed);
  }
  return config;
}

Result<void> set(Config& config, std::string_view key, std::string_view value) {
  const Key* k = find_key(key);
  if (!k) return util::fail(fmt::format("unknown setting '{}'", key));
  if (auto e = k->set(config, unquote(value))) return util::fail(fmt::format("{}: {}", key, *e));
  return {};
}

std::vector<std::pair<std::string, std::string>> dump(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : table()) {
    std::string value = k.get(config);
    // Quoted where reading it back would otherwise change it or refuse
    // it (a ' #' in an unquoted value reads as a stray comment).
    bool comment_like = value.find(" #") != std::string::npos || value.find("\t#") != std::string::npos;
    if (util::trim(value) != value || unquote(value) != value || comment_like) value = '"' + value + '"';
    out.emplace_back(k.name, std::move(value));
  }
  return out;
}

const std::vector<std::string>& keys() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& k : table()) v.push_back(k.name);
    return v;
  }();
  return names;
}

}  // namespace usercrash::config
