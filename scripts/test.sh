#!/bin/sh
# The whole test suite, as CI runs it: set up, build with the package's
# flags and run the end-to-end, attack, fault and package tests; build the
# programs, the unit tests and the fuzzers with AddressSanitizer and
# UndefinedBehaviorSanitizer, run the attack and fault tests again on those
# programs, and the unit tests and fuzzers (the code whose input is hostile
# or broken; see below).
# Run as root: the end-to-end tests crash real programs through
# core_pattern (and put it back).
set -eu
cd "$(dirname "$0")/.."
began=$(date +%s)
# Each step says when it began and the CPU time (user + system) of the
# commands that ended before it (this shell's waited-for children: fields 16
# and 17 of its /proc stat, in clock ticks).
step() {
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($16 + $17) / hz }' /proc/$$/stat)
    echo "== $1 (at $(($(date +%s) - began)) s, CPU ${cpu} s)"
}

step setup
./scripts/setup.sh
jobs=$(nproc)

# The package test's Debian root (tests/package/throwaway_root.sh), cached
# per machine: on a fresh one it is fetched while the build runs.
mkdir -p build
tests/package/throwaway_root.sh >/dev/null 2>build/throwaway_root.log &
root_job=$!

step "build (debian/rules: the package's flags and tree, its end-to-end tests included)"
# The package_build test makes the .deb from this tree without compiling
# again, so the suite runs the binaries the package ships. The unit tests and
# the fuzzers are compiled once, in the sanitizer build below, and run there.
# Unity batches of 16 files, not 8: each batch parses and instantiates the
# shared headers once (measured from scratch with the package's flags: src/
# 314 -> 272 s of CPU, the e2e suite 63 -> 42 s).
./scripts/build_deb.sh tree build -DUSERCRASH_UNIT_TESTS=OFF -DUSERCRASH_FUZZ_TESTS=OFF -DUSERCRASH_UNITY_BATCH_SIZE=16
wait "$root_job" || echo "(the package test's root could not be built now: build/throwaway_root.log)"

# The sanitizer build (see below) is compiled while the first pass runs: the
# end-to-end tests spend much of their time waiting on crashing processes,
# and the compiler takes what they leave. (Its nice 19 matters little: in a
# session of its own, for the kill, it is an autogroup of its own, which the
# scheduler gives an equal share. Started beside the package's build, it
# made that build 180 s longer.) The programs come first
# (build-asan/programs.done: the ones the attack and fault suites run, not the
# debugger), then the unit tests and the fuzzers, in batches of 16 files:
# fewer, larger translation units cost less CPU. clang, not g++: with AddressSanitizer and UndefinedBehaviorSanitizer
# at -O1 it compiles this code in about two thirds of g++'s time, and the
# fuzzers need it anyway.
asan_log=build/asan_build.log
rm -f build-asan/programs.done
setsid nice -n 19 sh -c '
    CC=clang-19 CXX=clang++-19 cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSERCRASH_SANITIZE=ON \
        -DUSERCRASH_UNITY_BATCH_SIZE=16 &&
    cmake --build build-asan -j"$1" --target usercrash_s usercrash_c usercrashctl &&
    touch build-asan/programs.done &&
    cmake --build build-asan -j"$1" --target unit_tests fuzzers' \
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

step "tests: end-to-end, attack, fault, package"
if ! (cd build && ctest -j"$jobs" --output-on-failure --timeout 600); then
    stop_asan_build
    exit 8
fi

# Sanitizers find memory and undefined-behaviour errors where input is
# hostile or broken: the parsers' unit tests and fuzzers, the attack suite
# (hostile processes and files against the real programs) and the fault
# suite (dying servers, full disks). The programs are built again with the
# sanitizers; the attack and fault suites of the first build run again on
# them (their own code, the test harness, is not what is under test). The
# unit tests and the fuzzers are built with the sanitizers only, and run
# beside the attack and fault suites, which wait on crashing processes more
# than they compute. The end-to-end fidelity checks ran above.
step "programs with ASan and UBSan (built beside the tests)"
while [ ! -e build-asan/programs.done ] && kill -0 "$asan_job" 2>/dev/null; do sleep 1; done
[ -e build-asan/programs.done ] || asan_build_failed

step "attack and fault suites on the programs with ASan and UBSan, beside the unit tests and fuzzers"
attack_log=build/asan_attack_fault.log
(cd build && USERCRASH_TEST_PROGRAMS="$PWD/../build-asan/bin" \
    ctest -j"$jobs" --output-on-failure --timeout 600 -L '^(attack|fault)$') >"$attack_log" 2>&1 &
attack_job=$!
units_ok=true
if ! wait "$asan_job"; then
    # Its ctest would run on without the subshell a kill would end: let it
    # finish (each test puts core_pattern back), then fail.
    wait "$attack_job" || true
    cat "$attack_log"
    asan_build_failed
fi
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600 -L '^(unit|fuzz)$' -LE lint) || units_ok=false
attack_ok=true
wait "$attack_job" || attack_ok=false
echo "-- attack and fault suites on the programs with ASan and UBSan:"
cat "$attack_log"
$units_ok && $attack_ok || exit 8

step "done: the whole suite passed in $(($(date +%s) - began)) s"
