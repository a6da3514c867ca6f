#!/bin/sh
# The Debian root the package is installed, used and purged in by
# tests/package/installed_root_test.cpp: the minbase variant plus the
# packages of tests/package/root.packages, built by mmdebstrap from the
# Debian archives apt uses on this machine. Built once per machine and kept
# as a tarball outside the source tree, named after a hash of its sources
# and package list: a change of either builds a new one, and the old one
# goes. Prints the tarball's path.
#
# scripts/test.sh starts it while the build runs; the test calls it again
# (it waits for a build under way, and returns at once once it is there).
# USERCRASH_ROOT_CACHE sets the cache directory (/var/cache/usercrash-tests).
set -eu
list="$(cd "$(dirname "$0")" && pwd)/root.packages"
cache=${USERCRASH_ROOT_CACHE:-/var/cache/usercrash-tests}
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")

packages=$(grep -v '^#' "$list" | tr -d ' \t' | grep . | sort -u | paste -sd, -)
# The archives of this release apt fetches from here (main only), as
# sources.list lines.
sources=$(apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' \
    'Identifier: Packages' 2>/dev/null |
    awk -v c="$codename" '$1 == "deb" && $3 ~ "^" c && $4 == "main" { print "deb", $2, $3, $4 }' | sort -u)
[ -n "$sources" ] || { echo "$0: apt knows no 'main' archive of $codename (apt-get update?)" >&2; exit 1; }

key=$(printf 'v1\n%s\n%s\n%s\n' "$codename" "$sources" "$packages" | sha256sum | cut -c1-16)
tarball=$cache/root-$key.tar
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ ! -s "$tarball" ]; then
    echo "$0: building $tarball: $codename minbase + $packages" >&2
    tmp=$cache/root-$key.tar.tmp
    rm -f "$tmp"
    printf '%s\n' "$sources" |
        mmdebstrap --quiet --variant=minbase --include="$packages" --aptopt='Acquire::Languages "none"' \
            --format=tar "$codename" "$tmp" - >&2
    mv "$tmp" "$tarball"
    find "$cache" -maxdepth 1 -name 'root-*.tar*' ! -name "root-$key.tar" -delete
fi
echo "$tarball"
