#!/usr/bin/env bash
# `usercrashctl analyze` against `eu-stack -s -i` on the same core, in one
# run: a gcore core of a python3 process with four threads (three sleeping
# in time.sleep, the main one waiting on an event), libc's debug info present
# (libc6-dbg). Median wall time of each over RUNS runs, and the ratio
# against analyze. Needs root (gcore attaches), gdb, eu-stack and python3.
#
# Usage: bench/analyze_bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail

build=${1:-$(dirname "$0")/../build}
runs=${2:-20}
ctl=$build/bin/usercrashctl
[[ -x $ctl ]] || { echo "missing $ctl (build first)" >&2; exit 1; }
for tool in gdb eu-stack; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
# Debian's python3, a real ELF executable (a pyenv shim is a script).
python=/usr/bin/python3
[[ -x $python ]] || { echo "missing $python" >&2; exit 1; }

work=$(mktemp -d)
target=
cleanup() {
  [[ -n $target ]] && kill "$target" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$python" -c '
import threading, time, sys
for _ in range(3): threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
' > "$work/ready" &
target=$!
for _ in $(seq 100); do [[ -s $work/ready ]] && break; sleep 0.05; done
[[ $(ls /proc/$target/task | wc -l) -eq 4 ]] || { echo "python3 did not start 4 threads" >&2; exit 1; }
gdb -nx -batch -p "$target" -ex "gcore $work/core" >/dev/null 2>&1
kill "$target"; wait "$target" 2>/dev/null || true; target=
[[ -s $work/core ]] || { echo "gcore wrote no core" >&2; exit 1; }
exe=$(readlink -f "$python")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

# Median milliseconds of RUNS runs of a command (output discarded).
median_ms() {
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}

ours=$(median_ms "$ctl" analyze "$work/core")
ours_json=$(median_ms "$ctl" analyze --json "$work/core")
eu=$(median_ms eu-stack -s -i --executable="$exe" --core="$work/core")

frames_ours=$("$ctl" analyze "$work/core" | grep -c ' pc 0x' || true)
frames_eu=$(eu-stack -s -i --executable="$exe" --core="$work/core" 2>/dev/null | grep -c '^#' || true)

echo "== analyze of a gcore core of python3, 4 threads, libc6-dbg present (median of $runs)"
printf '   %-36s %8.1f ms %8.2fx   (%s frames)\n' "usercrashctl analyze" "$ours" 1 "$frames_ours"
printf '   %-36s %8.1f ms %8.2fx\n' "usercrashctl analyze --json" "$ours_json" "$(ratio "$ours_json" "$ours")"
printf '   %-36s %8.1f ms %8.2fx   (%s frames)\n' "eu-stack -s -i" "$eu" "$(ratio "$eu" "$ours")" "$frames_eu"
printf '   analyze / eu-stack: %.2f (text), %.2f (--json); below 1 is faster than eu-stack\n' \
  "$(ratio "$ours" "$eu")" "$(ratio "$ours_json" "$eu")"
