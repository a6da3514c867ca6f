// Errors as values: every path that meets bad input returns Result<T>.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace usercrash::util {

// What kind of failure an error is, for the few callers that act on it.
// The message is for people; code never compares it.
enum class ErrorKind {
  failed,     // nothing a caller tells apart
  closed,     // the other end closed the connection
  timed_out,  // a deadline passed first
  reading,    // reading the input failed (a stream, a file we were given)
  writing,    // writing the output failed (a full disk, a reader gone)
  exists,     // what was to be made is there already
};

struct Error {
  std::string message;
  int errno_value = 0;  // 0 when the error did not come from a system call
  ErrorKind kind = ErrorKind::failed;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int errno_value = 0) {
  return std::unexpected<Error>(Error{std::move(message), errno_value});
}

inline std::unexpected<Error> fail(ErrorKind kind, std::string message, int errno_value = 0) {
  return std::unexpected<Error>(Error{std::move(message), errno_value, kind});
}

// "what: strerror(errno)" for the errno the failed call left.
inline std::unexpected<Error> fail_errno(const std::string& what, int err = errno) {
  return std::unexpected<Error>(Error{what + ": " + std::strerror(err), err});
}

inline std::unexpected<Error> fail_errno(ErrorKind kind, const std::string& what, int err = errno) {
  return std::unexpected<Error>(Error{what + ": " + std::strerror(err), err, kind});
}

}  // namespace usercrash::util
