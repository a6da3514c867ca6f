#include "tools/ctl/report_field.h"

#include "util/escape.h"
#include "util/parse.h"

namespace usercrash::tools::ctl {

std::optional<std::vector<std::string>> parse_field(std::string_view field) {
  if (field.empty() || field.size() > kMaxFieldLength) return std::nullopt;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = field.find('.', start);
    std::string_view part = field.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || part.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                            std::string_view::npos)
      return std::nullopt;
    parts.emplace_back(part);
    if (parts.size() > kMaxFieldDepth) return std::nullopt;
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

const nlohmann::json* field_of(const nlohmann::json& doc, const std::vector<std::string>& path) {
  const nlohmann::json* at = &doc;
  for (const auto& key : path) {
    if (at->is_object()) {
      auto it = at->find(key);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (auto index = util::parse_int<size_t>(key); at->is_array() && index && *index < at->size()) {
      at = &(*at)[*index];
    } else {
      return nullptr;
    }
  }
  return at;
}

std::string field_line(const nlohmann::json* value) {
  if (!value) return "";
  if (value->is_string()) return util::escape_text(value->get_ref<const std::string&>());
  return value->dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

}  // namespace usercrash::tools::ctl
