// config::parse on arbitrary text: errors name the file and line; what is
// accepted dumps back to text that parses to the same config.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "fuzz/fuzz_check.h"
#include "util/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = usercrash::config::parse(text, "fuzz.conf");
  if (!parsed) {
    FUZZ_CHECK(parsed.error().message.starts_with("fuzz.conf:"));
    return 0;
  }
  auto pairs = usercrash::config::dump(*parsed);
  FUZZ_CHECK(pairs.size() == usercrash::config::keys().size());
  // dump() does not quote: a quoted value with spaces at its ends (a path
  // "/a/.. ") loses them, and may then even be refused, so only the others
  // must survive the round trip.
  bool quotable = false;
  std::string again;
  for (const auto& [key, value] : pairs) {
    quotable = quotable || usercrash::util::trim(value) != value;
    again += key + "=" + value + "\n";
  }
  if (!quotable) {
    auto reparsed = usercrash::config::parse(again, "dump");
    FUZZ_CHECK(reparsed.has_value());
    FUZZ_CHECK(usercrash::config::dump(*reparsed) == pairs);
  }
  FUZZ_CHECK(parsed->count >= 1 && parsed->count <= 1000);
  FUZZ_CHECK(!parsed->directory.empty() && parsed->directory[0] == '/');
  FUZZ_CHECK(parsed->socket.size() <= 107);
  return 0;
}
