#include "client/core_forwarding.h"

#include <unistd.h>

#include <cstring>
#include <vector>

namespace usercrash::client {

ForwardResult forward_core(std::span<const std::byte> head, int in_fd, const CoreSinks& sinks,
                           std::chrono::steady_clock::time_point deadline) {
  ForwardResult result;
  bool saving = sinks.saved != nullptr;
  auto wanted = [&] { return (saving && !sinks.saved->full()) || (sinks.chained && sinks.chained->alive()); };
  auto pass = [&](std::span<const std::byte> bytes) {
    if (saving && !sinks.saved->add(bytes)) saving = false;
    if (sinks.chained && sinks.chained->alive()) sinks.chained->write(bytes, deadline);
    result.bytes += bytes.size();
  };
  pass(head);
  std::vector<std::byte> buffer(1 << 20);
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
