// Crash signatures: stable where the bug is the same (another load address,
// another machine, a stripped copy), different where the crash site is not.
#include "engine/signature.h"

#include <csignal>

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

constexpr const char* kExeId = "7e1200aa";
constexpr const char* kLibcId = "93ac61ec";

Frame frame(uint64_t load, const char* module, const char* build_id, uint64_t offset, const char* function,
            FrameMethod method = FrameMethod::cfi) {
  Frame f;
  f.pc = load + offset;
  f.module = module;
  f.module_offset = offset;
  f.build_id = build_id;
  f.function = function;
  f.method = method;
  return f;
}

// An assertion in the program: libc's abort path on top, then the program.
Report assertion(uint64_t exe_load = 0x55ee51400000, uint64_t libc_load = 0x7f0731f38000) {
  Report r;
  r.comm = "crasher";
  r.exe = "/opt/app/crasher";
  r.exe_build_id = kExeId;
  SignalReport s;
  s.number = SIGABRT;
  r.signal = s;
  ThreadReport t;
  t.crashed = true;
  const char* libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  t.frames = {
      frame(libc_load, libc, kLibcId, 0x8aeec, "__pthread_kill_implementation", FrameMethod::context),
      frame(libc_load, libc, kLibcId, 0x3bfb2, "raise"),
      frame(libc_load, libc, kLibcId, 0x26472, "abort"),
      frame(libc_load, libc, kLibcId, 0x2639a, "__assert_fail_base"),
      frame(exe_load, "/opt/app/crasher", kExeId, 0x2699, "check", FrameMethod::inlined),
      frame(exe_load, "/opt/app/crasher", kExeId, 0x2699, "assert_worker_main"),
      frame(libc_load, libc, kLibcId, 0x891f5, "start_thread"),
  };
  r.threads.push_back(t);
  return r;
}

TEST(Signature, HashesTheExecutableTheSignalAndTheProgramsOwnFrames) {
  auto in = signature_input(assertion());
  ASSERT_TRUE(in);
  EXPECT_EQ(*in,
            "usercrash-signature-1\n"
            "exe 7e1200aa\n"
            "signal SIGABRT\n"
            "frame 7e1200aa+0x2699\n");
  auto sig = crash_signature(assertion());
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), kSignatureLength);
  EXPECT_TRUE(is_signature_prefix(*sig));
}

TEST(Signature, SameAcrossLoadAddressesAndWithoutSymbols) {
  Report stripped = assertion(0x5600aa000000, 0x7fff11000000);
  for (auto& f : stripped.threads[0].frames) {
    f.function.reset();
    f.file.reset();
  }
  // A stripped copy has no inlined frames either: they come from DWARF.
  std::erase_if(stripped.threads[0].frames, [](const Frame& f) { return f.method == FrameMethod::inlined; });
  EXPECT_EQ(crash_signature(stripped), crash_signature(assertion()));
}

TEST(Signature, DiffersWithTheCrashSiteTheSignalOrTheBuild) {
  auto base = crash_signature(assertion());
  Report other_site = assertion();
  other_site.threads[0].frames[5].module_offset = 0x26a0;
  EXPECT_NE(crash_signature(other_site), base);

  Report other_signal = assertion();
  other_signal.signal->number = SIGSEGV;
  EXPECT_NE(crash_signature(other_signal), base);

  Report rebuilt = assertion();
  rebuilt.exe_build_id = "0badbeef";
  EXPECT_NE(crash_signature(rebuilt), base);
}

TEST(Signature, DeepStacksUseOnlyTheTopFrames) {
  Report deep = assertion();
  auto& frames = deep.threads[0].frames;
  for (uint64_t i = 0; i < 10; ++i) frames.push_back(frame(0x1000, "/opt/app/crasher", kExeId, 0x3000 + i, "f"));
  Report deeper = deep;
  deeper.threads[0].frames.back().module_offset = 0x9999;
  EXPECT_EQ(crash_signature(deep), crash_signature(deeper));
  std::string in = signature_input(deep).value_or("");
  size_t lines = std::count(in.begin(), in.end(), '\n');
  EXPECT_EQ(lines, 3 + kSignatureFrames);
}

TEST(Signature, ACrashInsideTheRuntimeAloneUsesItsFrames) {
  Report r = assertion();
  std::erase_if(r.threads[0].frames, [](const Frame& f) { return f.module == std::string("/opt/app/crasher"); });
  auto in = signature_input(r);
  ASSERT_TRUE(in);
  EXPECT_NE(in->find("frame 93ac61ec+0x8aeec\n"), std::string::npos) << *in;
}

TEST(Signature, WithoutBuildIdsNamesStandIn) {
  Report r = assertion();
  r.exe_build_id.reset();
  for (auto& f : r.threads[0].frames) f.build_id.reset();
  auto in = signature_input(r);
  ASSERT_TRUE(in);
  EXPECT_NE(in->find("exe name:crasher\n"), std::string::npos) << *in;
  EXPECT_NE(in->find("frame name:crasher+0x2699\n"), std::string::npos) << *in;
}

TEST(Signature, FramesWithoutAModuleAreLeftOut) {
  // A call through a wild pointer: frame #0 is wherever it pointed.
  Report a = assertion(), b = assertion();
  for (Report* r : {&a, &b}) {
    Frame wild;
    wild.pc = r == &a ? 0xdead0000 : 0xbeef0000;
    wild.method = FrameMethod::context;
    r->threads[0].frames.insert(r->threads[0].frames.begin(), wild);
  }
  EXPECT_EQ(crash_signature(a), crash_signature(b));
}

TEST(Signature, NoneForALiveProcess) {
  Report r = assertion();
  r.signal.reset();
  EXPECT_FALSE(crash_signature(r));
}

TEST(Signature, RuntimeModulesAreTheCAndCxxRuntimeLoaderAndVdso) {
  for (const char* m : {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "[vdso]",
                        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                        "/lib/ld-musl-x86_64.so.1"})
    EXPECT_TRUE(is_runtime_module(m)) << m;
  for (const char* m : {"/opt/app/crasher", "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/opt/app/libcore.so"})
    EXPECT_FALSE(is_runtime_module(m)) << m;
}

TEST(Signature, PrefixesAreLowerCaseHex) {
  EXPECT_TRUE(is_signature_prefix("3f2a"));
  EXPECT_FALSE(is_signature_prefix("3f2"));
  EXPECT_FALSE(is_signature_prefix("3F2A"));
  EXPECT_FALSE(is_signature_prefix("usercrash_07"));
  EXPECT_FALSE(is_signature_prefix(std::string(33, 'a')));
}

}  // namespace
}  // namespace usercrash::engine
