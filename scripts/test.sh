#!/bin/sh
# The whole test suite, as CI runs it: set up, build, run every test. Run as
# root: the end-to-end tests crash real programs through core_pattern.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure --timeout 600)
