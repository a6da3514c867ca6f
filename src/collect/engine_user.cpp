#include "collect/engine_user.h"

#include <fcntl.h>

#include <vector>

#include <fmt/format.h>

#include "util/escape.h"
#include "util/file_io.h"
#include "util/parse.h"

namespace usercrash::collect {
namespace {

constexpr uid_t kOverflowId = 65534;
// /etc/passwd of a big machine is a few hundred kilobytes.
constexpr size_t kMaxPasswdBytes = 16 << 20;

struct Entry {
  std::string name;
  uid_t uid;
  gid_t gid;
};

// name:password:uid:gid:gecos:home:shell
std::optional<Entry> parse_line(std::string_view line) {
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    size_t colon = line.find(':', start);
    fields.push_back(line.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (fields.size() < 4 || fields[0].empty()) return std::nullopt;
  auto uid = util::parse_int<uid_t>(fields[2]);
  auto gid = util::parse_int<gid_t>(fields[3]);
  if (!uid || !gid) return std::nullopt;
  return Entry{std::string(fields[0]), *uid, *gid};
}

std::optional<Entry> find(std::string_view passwd, std::string_view wanted) {
  auto number = util::parse_int<uid_t>(wanted);
  util::LineReader lines(passwd);
  std::string_view line;
  while (lines.next(line)) {
    auto e = parse_line(line);
    if (e && (number ? e->uid == *number : e->name == wanted)) return e;
  }
  // A number that names no user: the user and its group by that number.
  if (number) return Entry{std::string(wanted), *number, static_cast<gid_t>(*number)};
  return std::nullopt;
}

}  // namespace

EngineUser resolve_engine_user_in(std::string_view wanted, std::string_view passwd_text) {
  EngineUser user;
  auto usable = [](const std::optional<Entry>& e) { return e && e->uid != 0 && e->gid != 0; };
  auto found = find(passwd_text, wanted);
  if (!usable(found)) {
    user.note = found ? fmt::format("engine user '{}' is privileged (uid {}, gid {}); using nobody instead",
                                    util::escape_text(wanted), found->uid, found->gid)
                      : fmt::format("no engine user '{}'; using nobody instead", util::escape_text(wanted));
    found = find(passwd_text, "nobody");
  }
  if (!usable(found)) found = Entry{std::to_string(kOverflowId), kOverflowId, kOverflowId};
  user.name = found->name;
  user.uid = found->uid;
  user.gid = found->gid;
  return user;
}

EngineUser resolve_engine_user(std::string_view wanted, const char* passwd_path) {
  auto text = util::read_file_at(AT_FDCWD, passwd_path, kMaxPasswdBytes);
  return resolve_engine_user_in(wanted, text ? std::string_view(*text) : std::string_view{});
}

}  // namespace usercrash::collect
