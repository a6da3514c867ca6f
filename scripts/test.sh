#!/bin/sh
# The whole test suite, as CI runs it: set up, build, run every test; then
# build the programs and the unit tests again with AddressSanitizer and
# UndefinedBehaviorSanitizer and run the unit, attack and fault tests again
# on them (the suites whose input is hostile or broken; see below).
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

# The sanitizer build (see below) is compiled while the first pass runs: the
# end-to-end tests spend much of their time waiting on crashing processes,
# and the compiler, at the lowest priority, takes what they leave.
asan_log=build/asan_build.log
setsid nice -n 19 sh -c '
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSERCRASH_SANITIZE=ON -DUSERCRASH_FUZZ_TESTS=OFF &&
    cmake --build build-asan -j"$1" --target unit_tests usercrash_s usercrash_c usercrashctl debugger' \
    sh "$jobs" >"$asan_log" 2>&1 </dev/null &
asan_job=$!

step tests
if ! (cd build && ctest -j"$jobs" --output-on-failure --timeout 600); then
    kill -- "-$asan_job" 2>/dev/null || true
    wait "$asan_job" 2>/dev/null || true
    exit 8
fi

step "build with ASan and UBSan (started beside the tests)"
# Sanitizers find memory and undefined-behaviour errors where input is
# hostile or broken: the parsers' unit tests, the attack suite (hostile
# processes and files against the real programs) and the fault suite (dying
# servers, full disks). The unit tests and the programs are built again with
# the sanitizers; the attack and fault suites of the first build run again on
# those programs (their own code, the test harness, is not what is under
# test). The end-to-end fidelity checks ran above. The fuzzers are already
# built with the sanitizers in the first build.
if ! wait "$asan_job"; then
    tail -50 "$asan_log"
    echo "the sanitizer build failed: $asan_log" >&2
    exit 1
fi

step "tests with ASan and UBSan"
# Two tests cannot hold there: the collector child held to its memory budget
# (RLIMIT_DATA) is refused the mappings AddressSanitizer's own allocator
# needs, so it exits the sanitizer's way; the first pass runs them.
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600 -L '^unit$' \
    -E '^Job\.(AChildPastTheMemoryBudgetEndsAndTheReportSaysSo|TheMemoryBudgetIsTheChildsOnlyMemoryLimit)$')
(cd build && USERCRASH_TEST_PROGRAMS="$PWD/../build-asan/bin" \
    ctest -j"$jobs" --output-on-failure --timeout 600 -L '^(attack|fault)$')

step "done: the whole suite passed in $(($(date +%s) - began)) s"
