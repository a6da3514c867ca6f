#!/bin/sh
# The main job, end to end, on a private directory: set up, build, start
# usercrash_s, route core_pattern to usercrash_c, crash a small multi-threaded
# program, print its report, and put core_pattern back. Run as root.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (it changes /proc/sys/kernel/core_pattern)" >&2
    exit 1
fi
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target usercrash_s usercrash_c crasher >/dev/null

work=$(mktemp -d /tmp/usercrash-demo-XXXXXX)
old_pattern=$(cat /proc/sys/kernel/core_pattern)
old_limit=$(cat /proc/sys/kernel/core_pipe_limit)
server=""
restore() {
    printf '%s\n' "$old_pattern" > /proc/sys/kernel/core_pattern
    printf '%s\n' "$old_limit" > /proc/sys/kernel/core_pipe_limit
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap restore EXIT
# Any way out runs restore: a closed output pipe (demo.sh | head), a hangup,
# an interrupt.
trap 'exit 130' INT TERM HUP PIPE

cat > "$work/usercrash.conf" <<CONF
directory=$work/crashes
socket=$work/run/usercrash.sock
kernel_socket=$work/run/coredump.sock
count=5
CONF
./build/bin/usercrash_s --config "$work/usercrash.conf" 2> "$work/server.log" &
server=$!
i=0
while [ ! -S "$work/run/usercrash.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

printf '|%s -c %s -k%%F:%%I:%%u:%%g:%%t:%%d:%%c %%P %%e %%s\n' "$PWD/build/bin/usercrash_c" "$work/usercrash.conf" \
    > /proc/sys/kernel/core_pattern
echo "core_pattern: $(cat /proc/sys/kernel/core_pattern)"
echo "crashing ./build/crashers/crasher null (a null-pointer write, three parked threads)..."
./build/crashers/crasher null >/dev/null || true

i=0
while [ ! -f "$work/crashes/usercrash_00.json" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
echo
cat "$work/crashes/usercrash_00"
echo
echo "(JSON beside it: usercrash_00.json, $(wc -c < "$work/crashes/usercrash_00.json") bytes; server log:)"
cat "$work/server.log"
