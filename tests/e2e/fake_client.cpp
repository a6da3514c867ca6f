#include "e2e/fake_client.h"

#include <poll.h>
#include <sys/socket.h>

#include "ipc/packet_codec.h"
#include "ipc/unix_socket.h"

namespace usercrash::test {

FakeClient::FakeClient(const std::string& socket) {
  if (auto s = ipc::connect_unix(socket, SOCK_SEQPACKET, std::chrono::seconds(2))) sock_ = std::move(*s);
}

bool FakeClient::send_raw(const std::string& bytes, const std::vector<int>& fds) {
  return static_cast<bool>(ipc::send_message(sock_.get(), std::as_bytes(std::span(bytes.data(), bytes.size())), fds));
}

bool FakeClient::request(int pid, int signal, const std::string& comm) {
  auto packet = ipc::make_dump_request(pid, pid, signal, 0, comm, 0);
  return static_cast<bool>(ipc::send_packet(sock_.get(), packet));
}

std::vector<util::UniqueFd> FakeClient::await_fds(int timeout_ms) {
  if (!ipc::wait_readable(sock_.get(), std::chrono::milliseconds(timeout_ms))) return {};
  auto m = ipc::receive_message(sock_.get(), ipc::kMaxReportFds);
  if (!m || !ipc::decode_perform_dump(m->bytes)) return {};
  return std::move(m->fds);
}

bool FakeClient::complete() {
  auto done = ipc::make_packet<ipc::Completed>();
  return static_cast<bool>(ipc::send_packet(sock_.get(), done));
}

std::optional<std::string> FakeClient::await_published(int timeout_ms) {
  if (!ipc::wait_readable(sock_.get(), std::chrono::milliseconds(timeout_ms))) return std::nullopt;
  auto m = ipc::receive_message(sock_.get(), 0);
  if (!m) return std::nullopt;
  auto p = ipc::decode_published(m->bytes);
  if (!p) return std::nullopt;
  return ipc::field_string(p->name);
}

bool FakeClient::closed_by_server(int timeout_ms) {
  pollfd p{sock_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char byte;
  ssize_t n = ::recv(sock_.get(), &byte, 1, MSG_DONTWAIT);
  return n <= 0;
}

}  // namespace usercrash::test
