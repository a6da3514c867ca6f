// The system call filter of a systemd unit, loaded as PID 1 would load it,
// then the command: for tests/e2e/unit_sandbox.sh, which expands the
// unit's SystemCallFilter= groups into the call names given here.
//
//   unit_seccomp [--errno NAME] [--allow CALL,CALL...] [--families "AF_UNIX ..."]
//                [--deny-write-execute] [--deny-namespaces] [--native] -- COMMAND [ARG]...
//
// --allow: only these calls (SystemCallFilter=), the others fail with
// --errno (SystemCallErrorNumber=); --families: socket() only for these
// (RestrictAddressFamilies=); --deny-write-execute: no memory both writable
// and executable, no memory made executable (MemoryDenyWriteExecute=);
// --deny-namespaces: no new namespaces (RestrictNamespaces=yes); --native:
// only the native ABI (SystemCallArchitectures=native; libseccomp's
// default, said for clarity).
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "unit_seccomp: %s\n", message.c_str());
  std::exit(2);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

int errno_named(const std::string& name) {
  static const std::map<std::string, int> known = {{"EPERM", EPERM}, {"EACCES", EACCES}, {"ENOSYS", ENOSYS}};
  auto it = known.find(name);
  if (it == known.end()) die("unknown errno " + name);
  return it->second;
}

int family_named(const std::string& name) {
  static const std::map<std::string, int> known = {
      {"AF_UNIX", AF_UNIX}, {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6}, {"AF_NETLINK", AF_NETLINK}};
  auto it = known.find(name);
  if (it == known.end()) die("unknown address family " + name);
  return it->second;
}

void add(scmp_filter_ctx ctx, uint32_t action, int nr, std::vector<scmp_arg_cmp> args = {}) {
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.data());
  if (rc < 0)
    die(std::string("rule for ") + seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr) + ": " + std::strerror(-rc));
}

}  // namespace

int main(int argc, char** argv) {
  int err = EPERM;
  std::set<std::string> allowed;
  bool allow_list = false, deny_write_execute = false, deny_namespaces = false;
  std::vector<int> families;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--errno") err = errno_named(value());
    else if (a == "--allow") {
      allow_list = true;
      for (const auto& name : split(value(), ',')) allowed.insert(name);
    } else if (a == "--families") {
      for (const auto& name : split(value(), ' ')) families.push_back(family_named(name));
    } else if (a == "--deny-write-execute") deny_write_execute = true;
    else if (a == "--deny-namespaces") deny_namespaces = true;
    else if (a == "--native") {
    } else die("unknown option " + a);
  }
  if (i + 1 >= argc) die("usage: unit_seccomp [OPTION]... -- COMMAND [ARG]...");
  char** command = argv + i + 1;

  scmp_filter_ctx ctx = seccomp_init(allow_list ? SCMP_ACT_ERRNO(err) : SCMP_ACT_ALLOW);
  if (!ctx) die("seccomp_init failed");
  // Calls that get rules on their arguments below: never allowed whole.
  std::set<std::string> conditional;
  if (!families.empty()) conditional.insert("socket");
  if (deny_write_execute) conditional.insert({"mmap", "mprotect", "pkey_mprotect"});
  if (deny_namespaces) conditional.insert({"clone", "clone3", "unshare", "setns"});
  auto wanted = [&](const char* name) { return !allow_list || allowed.contains(name); };
  if (allow_list)
    for (const auto& name : allowed) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR || conditional.contains(name)) continue;  // not on this architecture
      add(ctx, SCMP_ACT_ALLOW, nr);
    }
  // In an allow list the conditional calls are allowed when their
  // arguments pass; without one they are denied when they do not.
  uint32_t deny = SCMP_ACT_ERRNO(err);
  if (!families.empty() && wanted("socket")) {
    if (allow_list)
      for (int f : families)
        add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(f))});
    else die("--families needs --allow");
  }
  if (deny_write_execute) {
    uint64_t wx = PROT_WRITE | PROT_EXEC;
    if (allow_list) {
      if (wanted("mmap"))
        for (uint64_t ok : {uint64_t{0}, uint64_t{PROT_WRITE}, uint64_t{PROT_EXEC}})
          add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), {SCMP_A2(SCMP_CMP_MASKED_EQ, wx, ok)});
      for (const char* name : {"mprotect", "pkey_mprotect"})
        if (wanted(name))
          add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(name), {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
    } else {
      add(ctx, deny, SCMP_SYS(mmap), {SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx)});
      add(ctx, deny, SCMP_SYS(mprotect), {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)});
    }
  }
  if (deny_namespaces) {
    uint64_t ns =
        CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
    if (allow_list) {
      if (wanted("clone")) add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), {SCMP_A0(SCMP_CMP_MASKED_EQ, ns, 0)});
      // clone3's flags are behind a pointer: ENOSYS, so that glibc falls back to clone, as systemd does.
      if (wanted("clone3")) add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
    } else {
      add(ctx, deny, SCMP_SYS(clone), {SCMP_A0(SCMP_CMP_MASKED_EQ, ns, ns)});
      add(ctx, deny, SCMP_SYS(unshare));
      add(ctx, deny, SCMP_SYS(setns));
      add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
    }
  }
  if (int rc = seccomp_load(ctx); rc < 0) die(std::string("seccomp_load: ") + std::strerror(-rc));
  seccomp_release(ctx);
  ::execvp(command[0], command);
  die(std::string(command[0]) + ": " + std::strerror(errno));
}
