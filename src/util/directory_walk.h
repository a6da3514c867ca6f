// The names in a directory, read through a directory fd (never a path that
// could be swapped underneath), "." and ".." left out. RAII over DIR*: the
// one way this project lists a directory.
#pragma once

#include <dirent.h>

#include <optional>
#include <string_view>

#include "util/result.h"

namespace usercrash::util {

class DirectoryWalk {
 public:
  // The directory `name` under `dirfd` ("." for `dirfd` itself), opened
  // O_DIRECTORY|O_NOFOLLOW with a read position of its own.
  static Result<DirectoryWalk> open(int dirfd, const char* name = ".");

  DirectoryWalk(DirectoryWalk&& other) noexcept : dir_(std::exchange(other.dir_, nullptr)) {}
  DirectoryWalk& operator=(DirectoryWalk&&) = delete;
  DirectoryWalk(const DirectoryWalk&) = delete;
  ~DirectoryWalk();

  // The next name, valid until the next call; nullopt at the end.
  std::optional<std::string_view> next();

 private:
  explicit DirectoryWalk(DIR* dir) : dir_(dir) {}
  DIR* dir_;
};

}  // namespace usercrash::util
