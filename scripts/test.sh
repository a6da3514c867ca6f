#!/bin/sh
# The whole test suite, as CI runs it: set up, build, run every test; then
# build again with AddressSanitizer and UndefinedBehaviorSanitizer and run
# every test there too. Run as root: the end-to-end tests crash real
# programs through core_pattern (and put it back).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure --timeout 600)

echo "== build with ASan and UBSan"
# The fuzzers are already built with the sanitizers in the build above.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSERCRASH_SANITIZE=ON -DUSERCRASH_FUZZ_TESTS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests with ASan and UBSan"
(cd build-asan && ctest --output-on-failure --timeout 600)
