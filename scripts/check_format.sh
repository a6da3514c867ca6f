#!/bin/sh
# Fails when a C or C++ file of the project is not as clang-format (the
# .clang-format at the root) would write it. `cmake --build build --target
# format` rewrites them.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'tests/*.c' 'bench/*.c' 2>/dev/null ||
        find src tests bench -name '*.cpp' -o -name '*.h' -o -name '*.c')
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "check_format: $(echo "$files" | wc -w) files as clang-format writes them"
