// Errors as values: every path that meets bad input returns Result<T>.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace usercrash::util {

struct Error {
  std::string message;
  int errno_value = 0;  // 0 when the error did not come from a system call
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int errno_value = 0) {
  return std::unexpected<Error>(Error{std::move(message), errno_value});
}

// "what: strerror(errno)" for the errno the failed call left.
inline std::unexpected<Error> fail_errno(const std::string& what, int err = errno) {
  return std::unexpected<Error>(Error{what + ": " + std::strerror(err), err});
}

}  // namespace usercrash::util
