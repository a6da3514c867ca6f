// Runs usercrashctl's commands in-process and captures what they print: the
// unit tests of tools/ctl share it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/ctl/command.h"

namespace usercrash::test {

// What one run printed, and its exit status.
struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

// usercrashctl ARGS (no program name) with CTX, its output streams replaced.
inline Result run_captured(tools::ctl::Context ctx, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  char* out_buf = nullptr;
  char* err_buf = nullptr;
  size_t out_size = 0, err_size = 0;
  ctx.out = ::open_memstream(&out_buf, &out_size);
  ctx.err = ::open_memstream(&err_buf, &err_size);
  Result r;
  r.status = tools::ctl::run_usercrashctl(ctx, argv);
  std::fclose(ctx.out);
  std::fclose(ctx.err);
  r.out.assign(out_buf, out_size);
  r.err.assign(err_buf, err_size);
  std::free(out_buf);
  std::free(err_buf);
  return r;
}

}  // namespace usercrash::test
