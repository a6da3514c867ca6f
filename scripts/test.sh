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
# and the compiler, at the lowest priority, takes what they leave. The
# programs come first (build-asan/programs.done), then the unit tests, in
# batches of 16 files: fewer, larger translation units cost less CPU.
asan_log=build/asan_build.log
rm -f build-asan/programs.done
setsid nice -n 19 sh -c '
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSERCRASH_SANITIZE=ON -DUSERCRASH_FUZZ_TESTS=OFF \
        -DUSERCRASH_UNITY_BATCH_SIZE=16 &&
    cmake --build build-asan -j"$1" --target usercrash_s usercrash_c usercrashctl debugger &&
    touch build-asan/programs.done &&
    cmake --build build-asan -j"$1" --target unit_tests' \
    sh "$jobs" >"$asan_log" 2>&1 </dev/null &
asan_job=$!
stop_asan_build() {
    kill -- "-$asan_job" 2>/dev/null || true
    wait "$asan_job" 2>/dev/null || true
}
asan_build_failed() {
    tail -50 "$asan_log"
    echo "the sanitizer build failed: $asan_log" >&2
    exit 1
}

step tests
if ! (cd build && ctest -j"$jobs" --output-on-failure --timeout 600); then
    stop_asan_build
    exit 8
fi

# Sanitizers find memory and undefined-behaviour errors where input is
# hostile or broken: the parsers' unit tests, the attack suite (hostile
# processes and files against the real programs) and the fault suite (dying
# servers, full disks). The unit tests and the programs are built again with
# the sanitizers; the attack and fault suites of the first build run again on
# those programs (their own code, the test harness, is not what is under
# test), while the unit tests still compile. The end-to-end fidelity checks
# ran above. The fuzzers are already built with the sanitizers in the first
# build.
step "programs with ASan and UBSan (built beside the tests)"
while [ ! -e build-asan/programs.done ] && kill -0 "$asan_job" 2>/dev/null; do sleep 1; done
[ -e build-asan/programs.done ] || asan_build_failed

step "attack and fault suites on the programs with ASan and UBSan"
if ! (cd build && USERCRASH_TEST_PROGRAMS="$PWD/../build-asan/bin" \
    ctest -j"$jobs" --output-on-failure --timeout 600 -L '^(attack|fault)$'); then
    stop_asan_build
    exit 8
fi

step "unit tests with ASan and UBSan"
wait "$asan_job" || asan_build_failed
# Two tests cannot hold there: the collector child held to its memory budget
# (RLIMIT_DATA) is refused the mappings AddressSanitizer's own allocator
# needs, so it exits the sanitizer's way; the first pass runs them.
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600 -L '^unit$' \
    -E '^Job\.(AChildPastTheMemoryBudgetEndsAndTheReportSaysSo|TheMemoryBudgetIsTheChildsOnlyMemoryLimit)$')

step "done: the whole suite passed in $(($(date +%s) - began)) s"
