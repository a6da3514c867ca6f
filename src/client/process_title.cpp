#include "client/process_title.h"

#include <algorithm>
#include <cstring>

namespace usercrash::client {

namespace {
char* area_begin = nullptr;
size_t area_size = 0;
}  // namespace

void remember_argument_area(int argc, char** argv) {
  if (argc < 1 || !argv[0]) return;
  // The kernel lays the arguments out one after the other; the area ends
  // with the last one's NUL.
  char* end = argv[0];
  for (int i = 0; i < argc; ++i) {
    if (argv[i] != end) break;
    end = argv[i] + std::strlen(argv[i]) + 1;
  }
  area_begin = argv[0];
  area_size = static_cast<size_t>(end - argv[0]);
}

void set_process_title(const std::vector<std::string>& args) {
  if (!area_begin || area_size == 0) return;
  std::memset(area_begin, 0, area_size);
  size_t at = 0;
  for (const auto& a : args) {
    if (at + 1 >= area_size) break;
    size_t n = std::min(a.size(), area_size - at - 1);
    std::memcpy(area_begin + at, a.data(), n);
    at += n + 1;
  }
}

}  // namespace usercrash::client
