// The unprivileged user the engine child drops to (config `engine_user`).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace usercrash::collect {

struct EngineUser {
  std::string name;  // the user found, or the number when none was
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<std::string> note;  // why it is not the configured user
};

// The user named `wanted` (or given by number) in `passwd_path`, the local
// user database only: a crash handler asks no directory service, and the
// package creates its system user there. When `wanted` is absent, `nobody`;
// when that is absent too, 65534:65534 (the kernel's overflow ids). Never
// root, nor a user with group 0: those fall back the same way.
EngineUser resolve_engine_user(std::string_view wanted, const char* passwd_path = "/etc/passwd");

// The same from the text of a passwd file.
EngineUser resolve_engine_user_in(std::string_view wanted, std::string_view passwd_text);

}  // namespace usercrash::collect
