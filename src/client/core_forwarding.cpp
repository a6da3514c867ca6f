#include "client/core_forwarding.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace usercrash::client {

ForwardResult forward_core(const engine::CoreHead& head, int in_fd, const CoreSinks& sinks,
                           std::chrono::steady_clock::time_point deadline) {
  ForwardResult result;
  bool saving = sinks.saved != nullptr;
  auto wanted = [&] { return (saving && !sinks.saved->full()) || (sinks.chained && sinks.chained->alive()); };
  auto pass = [&](std::span<const std::byte> bytes) {
    if (saving && !sinks.saved->add(bytes)) saving = false;
    if (sinks.chained && sinks.chained->alive()) sinks.chained->write(bytes, deadline);
    result.bytes += bytes.size();
  };
  std::vector<std::byte> buffer(1 << 20);
  if (!head.spilled) pass(head.bytes);
  for (uint64_t at = 0; head.spilled && at < head.size;) {
    ssize_t n = ::pread(head.spilled.get(), buffer.data(), std::min<uint64_t>(buffer.size(), head.size - at),
                        static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result.problem = std::string("reading the kept core head: ") + (n < 0 ? std::strerror(errno) : "it is short");
      return result;
    }
    pass(std::span(buffer.data(), static_cast<size_t>(n)));
    at += static_cast<uint64_t>(n);
  }
  while (wanted()) {
    ssize_t n = ::read(in_fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.problem = std::string("reading the core stream: ") + std::strerror(errno);
      return result;
    }
    if (n == 0) {
      result.complete = true;
      return result;
    }
    pass(std::span(buffer.data(), static_cast<size_t>(n)));
  }
  return result;
}

}  // namespace usercrash::client
