#include "proc/proc_parsers.h"

#include <elf.h>

#include <cstring>

#include "util/parse.h"

namespace usercrash::proc {
namespace {

// Splits off the next whitespace-delimited field of `s`.
std::string_view next_field(std::string_view& s) {
  size_t start = s.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(start);
  size_t end = s.find(' ');
  std::string_view field = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  return field;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!f(line)) return;
  }
}

template <typename T>
std::optional<T> first_number(std::string_view value) {
  value = util::trim(value);
  size_t end = value.find_first_of(" \t");
  return util::parse_int<T>(value.substr(0, end));
}

// "Uid:\t0\t0\t0\t0" → the four ids.
template <typename T>
void four_ids(std::string_view value, std::optional<T>& a, std::optional<T>& b, std::optional<T>& c,
              std::optional<T>& d) {
  std::optional<T>* out[] = {&a, &b, &c, &d};
  std::string copy(value);
  for (char& ch : copy)
    if (ch == '\t') ch = ' ';
  std::string_view rest(copy);
  for (auto* slot : out) {
    auto f = next_field(rest);
    if (f.empty()) return;
    *slot = util::parse_int<T>(f);
  }
}

}  // namespace

std::optional<MapEntry> parse_maps_line(std::string_view line) {
  MapEntry e;
  std::string_view rest = line;
  std::string_view range = next_field(rest);
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto start = util::parse_int<uint64_t>(range.substr(0, dash), 16);
  auto end = util::parse_int<uint64_t>(range.substr(dash + 1), 16);
  if (!start || !end || *end < *start) return std::nullopt;
  e.start = *start;
  e.end = *end;
  e.perms = std::string(next_field(rest));
  if (e.perms.size() != 4) return std::nullopt;
  auto offset = util::parse_int<uint64_t>(next_field(rest), 16);
  if (!offset) return std::nullopt;
  e.offset = *offset;
  e.device = std::string(next_field(rest));
  auto inode = util::parse_int<uint64_t>(next_field(rest));
  if (!inode) return std::nullopt;
  e.inode = *inode;
  // The path is the rest after the padding; it may itself contain spaces.
  size_t p = rest.find_first_not_of(' ');
  if (p != std::string_view::npos) e.path = std::string(rest.substr(p));
  return e;
}

std::vector<MapEntry> parse_maps(std::string_view text, size_t max_entries, bool* truncated) {
  std::vector<MapEntry> out;
  if (truncated) *truncated = false;
  for_each_line(text, [&](std::string_view line) {
    if (line.empty()) return true;
    if (out.size() >= max_entries) {
      if (truncated) *truncated = true;
      return false;
    }
    if (auto e = parse_maps_line(line)) out.push_back(std::move(*e));
    return true;
  });
  return out;
}

// "1 2\t3 ..." → up to `max` numbers; fields that are not numbers are skipped.
template <typename T>
std::vector<T> number_list(std::string_view value, size_t max) {
  std::string copy(value);
  for (char& ch : copy)
    if (ch == '\t') ch = ' ';
  std::string_view rest(copy);
  std::vector<T> out;
  for (size_t i = 0; i < max; ++i) {
    auto f = next_field(rest);
    if (f.empty()) break;
    if (auto n = util::parse_int<T>(f)) out.push_back(*n);
  }
  return out;
}

Status parse_status(std::string_view text) {
  Status s;
  for_each_line(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value[0] == '\t') value.remove_prefix(1);
    if (key == "Name") s.name = std::string(value);
    else if (key == "State") s.state = std::string(util::trim(value));
    else if (key == "Tgid") s.tgid = first_number<pid_t>(value);
    else if (key == "Pid") s.pid = first_number<pid_t>(value);
    else if (key == "PPid") s.ppid = first_number<pid_t>(value);
    else if (key == "TracerPid") s.tracer_pid = first_number<pid_t>(value);
    else if (key == "Uid") four_ids(value, s.uid, s.euid, s.suid, s.fsuid);
    else if (key == "Gid") four_ids(value, s.gid, s.egid, s.sgid, s.fsgid);
    else if (key == "Threads") s.threads = first_number<unsigned>(value);
    else if (key == "NSpid") s.ns_pids = number_list<pid_t>(value, 32);
    else if (key == "Groups") s.groups = number_list<gid_t>(value, kMaxGroups);
    return true;
  });
  return s;
}

std::optional<Stat> parse_stat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  Stat st;
  auto pid = util::parse_int<pid_t>(util::trim(text.substr(0, open)));
  if (!pid) return std::nullopt;
  st.pid = *pid;
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  // Fields after comm, numbered as in proc(5): 3 state, 4 ppid, ... 22 starttime.
  for (int field = 3; field <= 22; ++field) {
    std::string_view f = next_field(rest);
    if (f.empty()) return std::nullopt;
    if (field == 3) st.state = f[0];
    else if (field == 4) st.ppid = util::parse_int<pid_t>(f).value_or(0);
    else if (field == 9) st.flags = util::parse_int<uint64_t>(f).value_or(0);
    else if (field == 22) {
      auto t = util::parse_int<uint64_t>(util::trim(f));
      if (!t) return std::nullopt;
      st.start_time = *t;
    }
  }
  return st;
}

std::vector<std::string> parse_nul_separated(std::string_view bytes, size_t max_items, bool* truncated) {
  std::vector<std::string> out;
  if (truncated) *truncated = false;
  while (!bytes.empty()) {
    if (out.size() >= max_items) {
      if (truncated) *truncated = true;
      break;
    }
    size_t nul = bytes.find('\0');
    out.emplace_back(bytes.substr(0, nul));
    if (nul == std::string_view::npos) break;
    bytes.remove_prefix(nul + 1);
  }
  return out;
}

std::vector<std::string> parse_kernel_stack(std::string_view text, size_t max_lines) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view line) {
    if (out.size() >= max_lines) return false;
    if (line.empty()) return true;
    if (line.starts_with("[<")) {
      size_t close = line.find("] ");
      if (close != std::string_view::npos) line.remove_prefix(close + 2);
    }
    out.emplace_back(line);
    return true;
  });
  return out;
}

std::vector<AuxvEntry> parse_auxv(std::string_view bytes, unsigned word_size) {
  std::vector<AuxvEntry> out;
  const size_t word = word_size == 4 ? 4 : 8;
  const size_t pair = 2 * word;
  constexpr size_t kMaxEntries = 256;
  for (size_t off = 0; off + pair <= bytes.size() && out.size() < kMaxEntries; off += pair) {
    AuxvEntry e;
    std::memcpy(&e.type, bytes.data() + off, word);  // little-endian: the low bytes
    std::memcpy(&e.value, bytes.data() + off + word, word);
    if (e.type == AT_NULL) break;
    out.push_back(e);
  }
  return out;
}

std::optional<pid_t> parse_pidfd_fdinfo(std::string_view text) {
  std::optional<pid_t> pid;
  for_each_line(text, [&](std::string_view line) {
    if (line.starts_with("Pid:")) {
      pid = first_number<pid_t>(line.substr(4));
      return false;
    }
    return true;
  });
  return pid;
}

std::optional<uint64_t> parse_core_limit(std::string_view text) {
  std::optional<uint64_t> limit;
  constexpr std::string_view kKey = "Max core file size";
  for_each_line(text, [&](std::string_view line) {
    if (!line.starts_with(kKey)) return true;
    std::string_view rest = line.substr(kKey.size());
    std::string_view soft = next_field(rest);
    if (soft == "unlimited") limit = UINT64_MAX;
    else limit = util::parse_int<uint64_t>(soft);
    return false;
  });
  return limit;
}

}  // namespace usercrash::proc
