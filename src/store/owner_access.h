// report_access=owner: how a user reads the report of their own crash while
// the file stays root's. The file keeps owner root and mode 0600 for
// everyone else; one POSIX ACL entry lets that one uid read it:
//
//   user::rw-  user:UID:r--  group::---  mask::r--  other::---
//
// Why an ACL and not handing the file over (what was done before): a file a
// user owns is a file they can chmod, rewrite, grow, give a far-future mtime
// (pinning its ring slot) or swap, and root reads it back in usercrashctl.
// An ACL entry gives read and nothing else: only the owner (root) may change
// mode, ACL, times or content. A root-owned group would need a group per
// user; usercrashctl serving the files would need a privileged reader.
#pragma once

#include <sys/types.h>

#include "util/result.h"

namespace usercrash::store {

// Lets `uid` read the file open at `fd` (which must be root's, mode 0600).
// Fails with EOPNOTSUPP where the filesystem has no ACLs: the file then
// stays root's alone.
util::Result<void> grant_read(int fd, uid_t uid);

// Whether `uid` is named in the file's ACL with read access.
bool grants_read(int fd, uid_t uid);

}  // namespace usercrash::store
