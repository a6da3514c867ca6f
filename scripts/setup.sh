#!/bin/sh
# Installs every Debian package usercrash needs to build, test and package.
# (gcc-12-multilib, not gcc-multilib: Debian's gcc-multilib conflicts with
# the aarch64 cross compiler; the i386 crasher names the asm headers itself.)
# Idempotent: quiet and quick when everything is already there.
set -eu

packages="
build-essential cmake pkg-config
libdw-dev libelf-dev elfutils libiberty-dev
libcapstone-dev libzstd-dev zstd
nlohmann-json3-dev libfmt-dev
libgtest-dev googletest
libsystemd-dev systemd libseccomp-dev
systemd-journal-remote debuginfod libdebuginfod-dev prometheus-node-exporter
python3-jsonschema curl
libc6-dbg gdb
golang-go rustc
clang clang-format llvm libclang-rt-14-dev
clang-19 libclang-rt-19-dev
scdoc file dpkg-dev
debhelper lintian devscripts mmdebstrap
util-linux procps time
acl tmux less bash-completion zsh
gcc-12-multilib g++-12-multilib
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gdb-multiarch
"
missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$missing (run this script as root to install them)" >&2
    exit 1
fi
echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
