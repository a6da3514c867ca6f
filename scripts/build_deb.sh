#!/bin/sh
# The Debian packages, built by dpkg-buildpackage with debian/rules.
#
#   scripts/build_deb.sh tree BUILD_DIR [CMAKE_OPTION]...
#       configure and build BUILD_DIR as debian/rules does (dpkg-buildflags'
#       hardening, prefix /usr), tests included: scripts/test.sh's build, so
#       the suite runs the binaries the package ships. The options are
#       CMake's, after debian/rules' own (scripts/test.sh leaves out the
#       unit tests and the fuzzers, which its sanitizer build makes)
#   scripts/build_deb.sh package BUILD_DIR
#       usercrash_VERSION_ARCH.deb and usercrash-dbgsym_VERSION_ARCH.deb
#       (with .buildinfo and .changes) into BUILD_DIR/deb, and the source
#       package (.dsc, .tar.xz) into BUILD_DIR/deb/source. A tree made by
#       `tree` is packaged as it is, nothing compiled twice; any other build
#       directory (a developer's) gets a clean copy of the source built under
#       BUILD_DIR/deb/src, without the tests, as from a fresh clone.
set -eu
usage() { echo "usage: $0 tree BUILD_DIR [CMAKE_OPTION]... | package BUILD_DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
mode=$1
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$2"
build=$(cd "$2" && pwd)
jobs=$(nproc)
export USERCRASH_BUILDDIR="$build"

case $mode in
tree)
    shift 2
    export USERCRASH_CMAKE_OPTIONS="$*"
    cd "$src"
    # dh skips a build it has a stamp for; the sources may have changed since.
    rm -f debian/debhelper-build-stamp
    DEB_BUILD_OPTIONS="nocheck parallel=$jobs" ./debian/rules build
    exit 0
    ;;
package) [ $# -eq 2 ] || usage ;;
*) usage ;;
esac

out=$build/deb

# The files of the source: what git tracks or would track (new files too),
# not builds or editor files. Copied into DIR.
copy_source() {
    mkdir -p "$1"
    (cd "$src" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$src" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        (cd "$src" && xargs -0 cp -P --parents -t "$1")
}

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -SVersion)
arch=$(dpkg --print-architecture)
mkdir -p "$out"
rm -rf "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes "$out/source"

# The source package, from a clean copy.
copy_source "$out/source/usercrash-$version"
(cd "$out/source" && dpkg-source --build "usercrash-$version" && rm -rf "usercrash-$version")

if grep -qx 'USERCRASH_DEBIAN_BUILD:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    # The tree is debian/rules' own: bring it up to date and package it.
    tree=$src
    cmake --build "$build" -j"$jobs" >/dev/null
    profiles=""
else
    tree=$out/src/usercrash-$version
    rm -rf "$out/src"
    copy_source "$tree"
    export USERCRASH_BUILDDIR="$tree/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)"
    # A developer's ccache, when there is one, for the next run.
    if command -v ccache >/dev/null 2>&1; then
        export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
    fi
    profiles=nocheck
fi

cd "$tree"
# gzip, not dpkg-deb's default xz: the dbgsym package is almost all debug
# sections that dh_strip has already compressed, and xz took 30 s of the
# package build to make it 0.2% smaller (gzip: 2 s). (Said here, not in
# debian/rules, where lintian takes a custom compression for a mistake.)
export DPKG_DEB_COMPRESSOR_TYPE=gzip
USERCRASH_DEBDIR="$out" DEB_BUILD_PROFILES="$profiles" DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
    dpkg-buildpackage --build=binary --no-sign --no-pre-clean \
    --buildinfo-file="$out/usercrash_${version}_${arch}.buildinfo" --buildinfo-option=-u"$out" \
    --changes-file="$out/usercrash_${version}_${arch}.changes" --changes-option=-u"$out"
ls "$out"/*.deb
