#!/bin/sh
# The whole test suite, as CI runs it: set up, build, run every test; then
# build again with AddressSanitizer and UndefinedBehaviorSanitizer and run
# the tests again there, all but the comparisons with gdb (they check the
# unwinding, which the first pass did) and the package (the same files).
# Run as root: the end-to-end tests crash real programs through
# core_pattern (and put it back).
set -eu
cd "$(dirname "$0")/.."
began=$(date +%s)
step() { echo "== $1 (at $(($(date +%s) - began)) s)"; }

step setup
./scripts/setup.sh
jobs=$(nproc)

# The package test's Debian root (tests/package/throwaway_root.sh), cached
# per machine: on a fresh one it is fetched while the build runs.
mkdir -p build
tests/package/throwaway_root.sh >/dev/null 2>build/throwaway_root.log &
root_job=$!

step "build (debian/rules: the package's flags and tree, tests included)"
# The package_build test makes the .deb from this tree without compiling
# again, so the suite runs the binaries the package ships.
./scripts/build_deb.sh tree build
wait "$root_job" || echo "(the package test's root could not be built now: build/throwaway_root.log)"

step tests
(cd build && ctest -j"$jobs" --output-on-failure --timeout 600)

step "build with ASan and UBSan"
# The fuzzers are already built with the sanitizers in the build above.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSERCRASH_SANITIZE=ON -DUSERCRASH_FUZZ_TESTS=OFF >/dev/null
cmake --build build-asan -j"$jobs"

step "tests with ASan and UBSan"
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600 -LE 'oracle|package')

step "done: the whole suite passed in $(($(date +%s) - began)) s"
