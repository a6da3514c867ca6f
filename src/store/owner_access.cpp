#include "store/owner_access.h"

#include <sys/xattr.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace usercrash::store {

namespace {

// The kernel's POSIX ACL xattr format (linux/posix_acl_xattr.h): a version
// word, then entries sorted by tag and id, little-endian.
constexpr const char* kAccessAcl = "system.posix_acl_access";
constexpr uint32_t kAclVersion = 2;
constexpr uint16_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kMask = 0x10, kOther = 0x20;
constexpr uint16_t kRead = 4, kWrite = 2;
constexpr uint32_t kNoId = UINT32_MAX;

struct AclEntry {
  uint16_t tag;
  uint16_t perm;
  uint32_t id;
};
static_assert(sizeof(AclEntry) == 8);

}  // namespace

util::Result<void> grant_read(int fd, uid_t uid) {
  const AclEntry entries[] = {
      {kUserObj, kRead | kWrite, kNoId},
      {kUser, kRead, uid},
      {kGroupObj, 0, kNoId},
      {kMask, kRead, kNoId},
      {kOther, 0, kNoId},
  };
  std::vector<unsigned char> value(sizeof(uint32_t) + sizeof entries);
  std::memcpy(value.data(), &kAclVersion, sizeof kAclVersion);
  std::memcpy(value.data() + sizeof kAclVersion, entries, sizeof entries);
  if (::fsetxattr(fd, kAccessAcl, value.data(), value.size(), 0) != 0)
    return util::fail_errno("let the crashed process's owner read the report (POSIX ACL)");
  return {};
}

bool grants_read(int fd, uid_t uid) {
  unsigned char value[512];
  ssize_t n = ::fgetxattr(fd, kAccessAcl, value, sizeof value);
  if (n < static_cast<ssize_t>(sizeof(uint32_t))) return false;
  for (size_t at = sizeof(uint32_t); at + sizeof(AclEntry) <= static_cast<size_t>(n); at += sizeof(AclEntry)) {
    AclEntry e;
    std::memcpy(&e, value + at, sizeof e);
    if (e.tag == kUser && e.id == uid) return (e.perm & kRead) != 0;
  }
  return false;
}

}  // namespace usercrash::store
