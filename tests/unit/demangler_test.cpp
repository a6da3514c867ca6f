// Symbol names demangled as gdb and rustfilt print them.
#include "engine/demangler.h"

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

// Rust v0 base-62 number as a back-reference writes it ("_" is 0, "0_" 1...).
std::string base62(size_t n) {
  if (n == 0) return "_";
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string digits;
  for (--n;; n /= 62) {
    digits.insert(digits.begin(), kDigits[n % 62]);
    if (n < 62) break;
  }
  return digits + "_";
}

// a::f::<(), ((), ()), ...>: each tuple made of two back-references to the
// one before.
std::string nested_tuples(int levels) {
  std::string body = "INvCs_1a1f";
  size_t previous = body.size();
  body += "u";
  for (int i = 0; i < levels; ++i) {
    size_t current = body.size();
    std::string ref = "B" + base62(previous);
    body += "T" + ref + ref + "E";
    previous = current;
  }
  return "_R" + body + "E";
}

TEST(Demangle, RustLegacyLosesItsHash) {
  EXPECT_EQ(demangle("_ZN12rust_crasher6lookup17h488a2c5c4d3806c2E"), "rust_crasher::lookup");
  EXPECT_EQ(demangle("_ZN3std3sys9backtrace28__rust_begin_short_backtrace17heb9499ae3e944f4fE"),
            "std::sys::backtrace::__rust_begin_short_backtrace");
  // $-escapes: <, >, {, }.
  EXPECT_EQ(demangle("_ZN4core6option15Option$LT$T$GT$6expect17ha525ffde671cd960E"), "core::option::Option<T>::expect");
  EXPECT_EQ(demangle("_ZN4core3ops8function6FnOnce40call_once$u7b$$u7b$vtable.shim$u7d$$u7d$17h0d310f4280cc3b6eE"),
            "core::ops::function::FnOnce::call_once{{vtable.shim}}");
}

TEST(Demangle, RustV0) {
  EXPECT_EQ(demangle("_RNvNtCsjrHSEGnQ3l9_3std9panicking15panic_with_hook"), "std::panicking::panic_with_hook");
  EXPECT_EQ(demangle("_RNvCsfLfy6EI15iL_7___rustc17rust_begin_unwind"), "__rustc::rust_begin_unwind");
  // Generic arguments, closures, an inherent impl and a trait impl.
  EXPECT_EQ(demangle("_RINvNtNtCsjrHSEGnQ3l9_3std3sys9backtrace28___rust_begin_short_backtraceNCNvCs92vpSpnWDlk_"
                     "12rust_crasher4main0xEB1b_"),
            "std::sys::backtrace::__rust_begin_short_backtrace::<rust_crasher::main::{closure#0}, i64>");
  EXPECT_EQ(demangle("_RNvMNtCs1234_4core6optionINtB2_6OptionpE6expectCs1234_4main"),
            "<core::option::Option<_>>::expect");
  EXPECT_EQ(demangle("_RINvYNtNtNtCsjrHSEGnQ3l9_3std4hash6random11RandomStateNtNtCsgEmfK2I1SDS_4core4hash11Build"
                     "Hasher8hash_oneRNtNtCslNYArtu3iFV_5alloc6string6StringECs92vpSpnWDlk_12rust_crasher"),
            "<std::hash::random::RandomState as core::hash::BuildHasher>::hash_one::<&alloc::string::String>");
  // LLVM's ".llvm.N" suffix is not part of the name.
  EXPECT_EQ(demangle("_RNvCs_3foo3bar.llvm.16410969450069959411"), "foo::bar");
}

TEST(Demangle, Cxx) {
  EXPECT_EQ(demangle("_ZNSt12out_of_rangeC1EPKc"), "std::out_of_range::out_of_range(char const*)");
  EXPECT_EQ(demangle("_Z3fooi.cold"), "foo(int) [clone .cold]");
  // An Itanium name that merely looks like Rust (no hash) stays C++.
  EXPECT_EQ(demangle("_ZN3foo3barE"), "foo::bar");
}

TEST(Demangle, OtherNamesStayAsTheyAre) {
  EXPECT_EQ(demangle("main"), "main");
  EXPECT_EQ(demangle("runtime.sigtramp.abi0"), "runtime.sigtramp.abi0");
  EXPECT_EQ(demangle(""), "");
  // Malformed: returned unchanged, never half-demangled.
  EXPECT_EQ(demangle("_ZN3foo"), "_ZN3foo");
  EXPECT_EQ(demangle("_RNvC"), "_RNvC");
  EXPECT_EQ(demangle(std::string_view("_Z3f\0oi", 7)), std::string("_Z3f\0oi", 7));
}

TEST(Demangle, HostileNamesAreBounded) {
  // Too long to be handed to the demangler at all.
  std::string huge = "_ZN" + std::string(5000, 'a') + "E";
  EXPECT_EQ(demangle(huge), huge);
  // Deep nesting: libiberty's recursion limit says no, the name comes back.
  std::string deep = "_Z1f";
  for (int i = 0; i < 1500; ++i) deep += "P";
  deep += "i";
  EXPECT_FALSE(demangle(deep).empty());
  // A v0 back-reference bomb: 40 tuples, each holding the one before twice
  // (2^40 units once printed). The demangler is stopped at the output cap and
  // the mangled name kept.
  std::string bomb = nested_tuples(40);
  EXPECT_EQ(demangle(bomb), bomb);
  // The same shape, 3 levels deep, demangles.
  EXPECT_EQ(demangle(nested_tuples(3)),
            "a::f::<(), ((), ()), (((), ()), ((), ())), ((((), ()), ((), ())), (((), ()), ((), ())))>");
}

TEST(DemangleType, TypeInfoNames) {
  EXPECT_EQ(demangle_type("St12out_of_range"), "std::out_of_range");
  EXPECT_EQ(demangle_type("N4bank13AccountLockedE"), "bank::AccountLocked");
  EXPECT_EQ(demangle_type("i"), "int");
  EXPECT_EQ(demangle_type("PKc"), "char const*");
  EXPECT_EQ(demangle_type(""), std::nullopt);
  EXPECT_EQ(demangle_type("N4bank"), std::nullopt);
}

}  // namespace
}  // namespace usercrash::engine
