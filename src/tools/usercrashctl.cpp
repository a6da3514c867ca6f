// usercrashctl (also installed as crashlogctl, the name ACRN's usercrash gave
// it): turns usercrash on and off in the kernel, says how it stands, and
// reads the crash directory back. The commands are in tools/ctl/.
#include <span>
#include <string>

#include "tools/ctl/command.h"

int main(int argc, char** argv) {
  usercrash::tools::ctl::Context ctx;
  std::string invoked = argc > 0 ? argv[0] : "usercrashctl";
  if (invoked.substr(invoked.rfind('/') + 1) == "crashlogctl") ctx.program = "crashlogctl";
  return usercrash::tools::ctl::run_usercrashctl(ctx, std::span<char* const>(argv + 1, argc > 0 ? argc - 1 : 0));
}
