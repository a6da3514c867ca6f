// The unwinder with warm modules (engine/warm_modules.h) against today's
// cold path: the same frames of a live process blocked deep in libc
// (qsort's merge sort calling back into us, which blocks in read()), and the
// same abort-message symbol; an explicit source_lines=own still keeps
// libc's file:line out.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "engine/live_process_target.h"
#include "engine/memory_cache.h"
#include "engine/report_builder.h"
#include "engine/unwinder.h"
#include "engine/warm_modules.h"

namespace usercrash::engine {
namespace {

int warm_ready_fd = -1, warm_block_fd = -1;

int compare_then_block(const void* a, const void* b) {
  static bool blocked = false;
  if (!blocked) {
    blocked = true;
    char c = 1;
    (void)!::write(warm_ready_fd, &c, 1);
    (void)!::read(warm_block_fd, &c, 1);
  }
  return *static_cast<const int*>(a) - *static_cast<const int*>(b);
}

// A child blocked in read() under qsort; killed at the end.
class BlockedInQsort {
 public:
  BlockedInQsort() {
    int ready[2], block[2];
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(block, O_CLOEXEC) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      warm_ready_fd = ready[1];
      warm_block_fd = block[0];
      int values[64];
      for (int i = 0; i < 64; ++i) values[i] = 64 - i;
      // libc's qsort itself: a sanitizer build's interceptor of that name
      // (in the test program) would put its own frames in the way.
      using Qsort = void (*)(void*, size_t, size_t, int (*)(const void*, const void*));
      auto libc_qsort = reinterpret_cast<Qsort>(::dlsym(RTLD_NEXT, "qsort"));
      if (!libc_qsort) std::abort();
      libc_qsort(values, 64, sizeof values[0], compare_then_block);
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(block[0]);
    release_ = block[1];
    char c;
    (void)!::read(ready[0], &c, 1);
    ::close(ready[0]);
    // Until it sleeps in read().
    for (int i = 0; i < 200 && state() != 'S'; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~BlockedInQsort() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(release_);
  }
  pid_t pid() const { return pid_; }

 private:
  char state() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto paren = text.rfind(')');
    return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
  }
  pid_t pid_ = -1;
  int release_ = -1;
};

const WarmModules& warm_libraries() {
  // No budget in the way: a sanitizer build's redzones make the DWARF bigger.
  static const WarmModules warm = WarmModules::load(default_warm_libraries(), WarmOptions{.max_bytes = 1ull << 30});
  return warm;
}

Report warm_test_report(pid_t pid, limits::SourceLines lines, const WarmModules* warm,
                        std::string debuginfo_path = limits::kDebuginfoPath) {
  auto target = LiveProcessTarget::attach(pid, LiveOptions{});
  if (!target) {
    ADD_FAILURE() << target.error().message;
    return {};
  }
  CollectOptions o;
  o.source_lines = lines;
  o.warm = warm;
  o.debuginfo_path = std::move(debuginfo_path);
  o.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  return build_report(**target, o);
}

bool warm_test_in_libc(const Frame& f) { return f.module && f.module->find("/libc.so") != std::string::npos; }

TEST(WarmUnwind, SameFramesAsTheColdPathThroughLibc) {
  BlockedInQsort child;
  Report cold = warm_test_report(child.pid(), limits::SourceLines::all, nullptr);
  // Without a debug file to open: whatever libc's frames get comes from
  // the warm modules (and they would be without file:line if it did not).
  Report warm = warm_test_report(child.pid(), limits::SourceLines::all, &warm_libraries(), "");
  ASSERT_FALSE(cold.threads.empty());
  ASSERT_FALSE(warm.threads.empty());
  const auto& a = cold.threads[0].frames;
  const auto& b = warm.threads[0].frames;

  ASSERT_EQ(a.size(), b.size());
  size_t libc_frames = 0, libc_lines = 0, libc_inlined = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("frame #" + std::to_string(i) + " " + a[i].function.value_or("??") + " at " + a[i].file.value_or("?") +
                 ":" + std::to_string(a[i].line.value_or(0)));
    EXPECT_EQ(a[i].pc, b[i].pc);
    EXPECT_EQ(a[i].method, b[i].method);
    EXPECT_EQ(a[i].module, b[i].module);
    EXPECT_EQ(a[i].module_offset, b[i].module_offset);
    EXPECT_EQ(a[i].build_id, b[i].build_id);
    EXPECT_EQ(a[i].function, b[i].function);
    EXPECT_EQ(a[i].function_offset, b[i].function_offset);
    EXPECT_EQ(a[i].file, b[i].file);
    EXPECT_EQ(a[i].line, b[i].line);
    if (warm_test_in_libc(b[i])) {
      ++libc_frames;
      libc_lines += b[i].file.has_value();
      libc_inlined += b[i].method == FrameMethod::inlined;
    }
  }
  EXPECT_GE(libc_frames, 4u) << "read, the merge sort, qsort, libc's start";
  EXPECT_EQ(libc_lines, libc_frames) << "libc6-dbg gives every libc frame its file:line";
  EXPECT_GE(libc_inlined, 1u);
  EXPECT_EQ(cold.abort_message, warm.abort_message);
}

TEST(WarmUnwind, ExplicitSourceLinesOwnKeepsLibcLinesOut) {
  BlockedInQsort child;
  Report warm = warm_test_report(child.pid(), limits::SourceLines::own, &warm_libraries());
  ASSERT_FALSE(warm.threads.empty());
  size_t libc_frames = 0;
  for (const auto& f : warm.threads[0].frames) {
    if (!warm_test_in_libc(f)) continue;
    ++libc_frames;
    EXPECT_TRUE(f.function) << "symbols come from the warm index";
    EXPECT_FALSE(f.file) << f.function.value_or("??");
  }
  EXPECT_GE(libc_frames, 3u);
}

TEST(WarmUnwind, DefaultSourceLinesAreAllWithWarmModulesAndOwnWithout) {
  EXPECT_EQ(limits::kSourceLines, limits::SourceLines::automatic);
  BlockedInQsort child;
  Report warm = warm_test_report(child.pid(), limits::kSourceLines, &warm_libraries());
  Report cold = warm_test_report(child.pid(), limits::kSourceLines, nullptr);
  ASSERT_FALSE(warm.threads.empty());
  ASSERT_FALSE(cold.threads.empty());
  size_t warm_lines = 0, cold_lines = 0;
  for (const auto& f : warm.threads[0].frames) warm_lines += warm_test_in_libc(f) && f.file;
  for (const auto& f : cold.threads[0].frames) cold_lines += warm_test_in_libc(f) && f.file;
  EXPECT_GE(warm_lines, 4u);
  EXPECT_EQ(cold_lines, 0u) << "without warm modules, as source_lines=own";
}

TEST(WarmUnwind, ModulesNotHeldWarmTakeTheColdPath) {
  // Only the loader is warm: libc's frames are matched by build-id to
  // nothing and loaded as today (here without a debug file to open).
  std::vector<std::string> loader;
  for (const auto& path : default_warm_libraries())
    if (path.find("/ld-") != std::string::npos) loader.push_back(path);
  ASSERT_EQ(loader.size(), 1u);
  auto only_loader = WarmModules::load(loader, WarmOptions{.max_bytes = 1ull << 30});
  ASSERT_EQ(only_loader.modules().size(), 1u);
  BlockedInQsort child;
  Report r = warm_test_report(child.pid(), limits::SourceLines::all, &only_loader, "");
  Report cold = warm_test_report(child.pid(), limits::SourceLines::all, nullptr, "");
  ASSERT_FALSE(r.threads.empty());
  ASSERT_FALSE(cold.threads.empty());
  const auto& a = cold.threads[0].frames;
  const auto& b = r.threads[0].frames;
  ASSERT_EQ(a.size(), b.size());
  size_t libc_frames = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].function, b[i].function) << "frame #" << i;
    EXPECT_EQ(a[i].file, b[i].file) << "frame #" << i;
    if (!warm_test_in_libc(b[i])) continue;
    ++libc_frames;
    EXPECT_FALSE(b[i].file) << b[i].function.value_or("??");
  }
  EXPECT_GE(libc_frames, 4u);
}

TEST(WarmUnwind, AbortMessageSymbolFromTheWarmIndex) {
  BlockedInQsort child;
  auto target = LiveProcessTarget::attach(child.pid(), LiveOptions{});
  ASSERT_TRUE(target) << target.error().message;
  MemoryCache memory(**target);
  Unwinder cold(**target, memory, UnwindOptions{});
  UnwindOptions with_warm;
  with_warm.warm = &warm_libraries();
  Unwinder warm(**target, memory, with_warm);
  auto address = cold.find_symbol("__abort_msg", "libc.so");
  ASSERT_TRUE(address);
  EXPECT_EQ(warm.find_symbol("__abort_msg", "libc.so"), address);
  EXPECT_FALSE(warm.find_symbol("no_such_symbol_anywhere", "libc.so"));
}

}  // namespace
}  // namespace usercrash::engine
