// A client speaking the usercrash protocol by hand, for tests that need to
// misbehave on purpose (stall, die mid-dump, send garbage).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ipc/fd_passing.h"
#include "util/unique_fd.h"

namespace usercrash::test {

class FakeClient {
 public:
  explicit FakeClient(const std::string& socket);
  bool connected() const { return sock_.valid(); }
  int fd() const { return sock_.get(); }

  bool send_raw(const std::string& bytes, const std::vector<int>& fds = {});
  bool request(int pid = 4242, int signal = 11, const std::string& comm = "fake");
  // The server's answer: fds on PerformDump (empty on Rejected or error).
  std::vector<util::UniqueFd> await_fds(int timeout_ms = 5000);
  bool complete();
  // The slot name from Published, if it came.
  std::optional<std::string> await_published(int timeout_ms = 5000);
  // True when the server closed the connection within the timeout.
  bool closed_by_server(int timeout_ms = 5000);
  void close() { sock_.reset(); }

 private:
  util::UniqueFd sock_;
};

}  // namespace usercrash::test
