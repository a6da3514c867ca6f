#!/usr/bin/env bash
# usercrashctl symbolize on a 200-thread report of a stripped program (issue
# 11: under 300 ms on the 2-core machine with the debug files present), in
# one run against its baselines: the same command with no debug file to find
# (--no-system, no --debug-dir: reading, checking and writing the report
# alone), and elfutils' eu-addr2line resolving the same unique addresses
# (function, inlined calls, file:line) from the same debug files. Median wall
# time of RUNS runs each, and ratios. Needs root (or ptrace rights) for the
# debugger that takes the report, and eu-addr2line (elfutils).
#
# Usage: bench/symbolize_bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail

build=${1:-$(dirname "$0")/../build}
runs=${2:-15}
ctl=$build/bin/usercrashctl
debugger=$build/bin/debugger
unstripped=$build/crashers/crasher_opt
extra_threads=196  # + main + 3 parked = 200 threads
for tool in "$ctl" "$debugger" "$unstripped"; do
  [[ -x $tool ]] || { echo "missing $tool (build first)" >&2; exit 1; }
done
command -v eu-addr2line >/dev/null || { echo "missing eu-addr2line" >&2; exit 1; }

work=$(mktemp -d)
target=
cleanup() {
  [[ -n $target ]] && kill "$target" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The device's binary: stripped of everything; its debug file by build-id.
objcopy --only-keep-debug "$unstripped" "$work/crasher.debug"
objcopy --strip-all --add-gnu-debuglink="$work/crasher.debug" "$unstripped" "$work/crasher"
id=$(readelf -n "$work/crasher" | awk '/Build ID/ {print $3}')
mkdir -p "$work/debug/.build-id/${id:0:2}"
cp "$work/crasher.debug" "$work/debug/.build-id/${id:0:2}/${id:2}.debug"

mkfifo "$work/in"
"$work/crasher" live "$extra_threads" <"$work/in" >"$work/out" &
target=$!
exec 3>"$work/in"
for _ in $(seq 200); do grep -q '^ready' "$work/out" 2>/dev/null && break; sleep 0.02; done
"$debugger" --json "$target" >"$work/report.json"
kill "$target"; target=
threads=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["threads"]))' "$work/report.json")
frames=$(python3 -c 'import json,sys; print(sum(len(t["frames"]) for t in json.load(open(sys.argv[1]))["threads"]))' "$work/report.json")

# The unique (debug file, offset) pairs, one eu-addr2line per module.
python3 - "$work/report.json" "$work" "$id" <<'PY'
import json, sys
report, work, exe_id = sys.argv[1:]
by_module = {}
for t in json.load(open(report))["threads"]:
    for f in t["frames"]:
        if f["method"] == "inlined" or not f["build_id"] or not f["module_offset"]:
            continue
        off = int(f["module_offset"], 16) - (0 if f["method"] in ("context", "signal") else 1)
        by_module.setdefault(f["build_id"], set()).add(off)
with open(f"{work}/addr2line.sh", "w") as out:
    for build_id, offsets in by_module.items():
        debug = (f"{work}/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug" if build_id == exe_id
                 else f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug")
        out.write(f"eu-addr2line -f -i -e {debug} " + " ".join(hex(o) for o in sorted(offsets)) + " >/dev/null\n")
PY

now_us() { local t=${EPOCHREALTIME/./}; echo "${t}"; }
run() {
  local name=$1; shift
  : >"$work/$name.times"
  for _ in $(seq "$runs"); do
    local start end
    start=$(now_us)
    "$@" >/dev/null 2>"$work/last.err" || { echo "$name failed:" >&2; cat "$work/last.err" >&2; exit 1; }
    end=$(now_us)
    echo $((end - start)) >>"$work/$name.times"
  done
}
median_ms() { sort -n "$work/$1.times" | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }

run baseline "$ctl" symbolize --no-system "$work/report.json"
run symbolize "$ctl" symbolize --debug-dir "$work/debug" "$work/report.json"
run text "$ctl" symbolize --text --debug-dir "$work/debug" "$work/report.json"
run addr2line sh "$work/addr2line.sh"
base=$(median_ms baseline)

echo "usercrashctl symbolize, a report of $threads threads and $frames frames of a stripped program ($runs runs, median)"
printf '%-64s %10s %8s\n' "" "ms" "ratio"
row() { printf '%-64s %10s %8s\n' "$1" "$(median_ms "$2")" "$(awk -v a="$(median_ms "$2")" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"; }
row "no debug file to find (--no-system): read, check, write" baseline
row "debug dir (program) + /usr/lib/debug (libc), JSON" symbolize
row "the same, --text" text
row "eu-addr2line -f -i, the same unique addresses, same debug files" addr2line
echo "changed: $("$ctl" symbolize --debug-dir "$work/debug" "$work/report.json" 2>&1 >/dev/null | tail -1)"
