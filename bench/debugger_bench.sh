#!/usr/bin/env bash
# debugger against its peers on one live 16-thread process, in one run:
# median wall time of `debugger PID` (one thread stopped at a time, and
# --all-stop), `eu-stack -p PID` and `gdb -p PID -batch -ex 'thread apply all
# bt'`, ratios against debugger, and the longest time debugger kept a thread
# stopped (its --verbose figures), and how long each tool was seen to keep
# the threads stopped (sampled from outside, python3). Needs root (or
# ptrace rights on the target) and gdb and eu-stack installed.
#
# Usage: bench/debugger_bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail

build=${1:-$(dirname "$0")/../build}
runs=${2:-20}
debugger=$build/bin/debugger
crasher=$build/crashers/crasher
extra_threads=12  # + main + 3 parked = 16 threads
for tool in "$debugger" "$crasher"; do
  [[ -x $tool ]] || { echo "missing $tool (build first)" >&2; exit 1; }
done
for tool in gdb eu-stack; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

work=$(mktemp -d)
target=
cleanup() {
  [[ -n $target ]] && kill "$target" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The target reads its stdin (a fifo we hold open) so it lives until we go.
mkfifo "$work/in"
"$crasher" live "$extra_threads" <"$work/in" >"$work/out" &
target=$!
exec 3>"$work/in"
for _ in $(seq 100); do grep -q '^ready' "$work/out" 2>/dev/null && break; sleep 0.02; done
threads=$(ls "/proc/$target/task" | wc -l)

now_us() { local t=${EPOCHREALTIME/./}; echo "${t}"; }

# run NAME COMMAND...: times RUNS runs into $work/NAME.times (microseconds).
run() {
  local name=$1; shift
  : >"$work/$name.times"
  : >"$work/$name.holds"
  : >"$work/$name.thread_holds"
  local failures=0
  for _ in $(seq "$runs"); do
    local start end
    start=$(now_us)
    if ! "$@" >"$work/last.out" 2>"$work/last.err"; then failures=$((failures + 1)); fi
    end=$(now_us)
    echo $((end - start)) >>"$work/$name.times"
    grep -o 'stopped for at most [0-9]* us' "$work/last.err" | grep -o '[0-9]*' >>"$work/$name.holds" || true
    grep -o ') held [0-9]* us' "$work/last.err" | grep -o '[0-9]*' >>"$work/$name.thread_holds" || true
  done
  echo "$failures" >"$work/$name.failures"
}

median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
minimum() { sort -n "$1" | head -1; }
maximum() { sort -n "$1" | tail -1; }

# Interleave nothing: each tool's runs back to back, all against the same process.
run debugger "$debugger" --verbose "$target"
run debugger_all_stop "$debugger" --verbose --all-stop "$target"
run eu_stack eu-stack -p "$target"
run gdb gdb -p "$target" -batch -ex 'thread apply all bt'

# How long each tool keeps the target's threads stopped, seen from outside:
# a sampler reads every thread's state (t or T) in a loop during separate
# runs (so it does not disturb the timings above). It sees a stop only
# when it lasts longer than one sampling round (about half a millisecond).
sampler='
import os, signal, sys, time
pid, stop = sys.argv[1], []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
since, longest = {}, 0.0
while not stop:
    now = time.monotonic()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            text = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        if text[text.rfind(")") + 2] in "tT":
            longest = max(longest, now - since.setdefault(tid, now))
        else:
            since.pop(tid, None)
    time.sleep(0.0002)  # leave the CPUs to the tools being watched
print(f"{longest * 1000:.1f}")
'
observed() {
  local name=$1; shift
  : >"$work/$name.observed"
  for _ in $(seq 5); do
    python3 -c "$sampler" "$target" >>"$work/$name.observed" &
    local sampler_pid=$!
    sleep 0.2
    "$@" >/dev/null 2>&1 || true
    sleep 0.05
    kill -TERM "$sampler_pid"
    wait "$sampler_pid" || true
  done
}
if command -v python3 >/dev/null; then
  observed debugger "$debugger" "$target"
  observed debugger_all_stop "$debugger" --all-stop "$target"
  observed eu_stack eu-stack -p "$target"
  observed gdb gdb -p "$target" -batch -ex 'thread apply all bt'
fi

# The target must have come through it all running.
states=$(cat /proc/"$target"/task/*/stat | awk '{print $3}' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
echo >&3
alive=no
for _ in $(seq 50); do grep -q '^alive' "$work/out" && { alive=yes; break; }; sleep 0.02; done

base=$(median "$work/debugger.times")
printf '\ndebugger bench: one live process with %d threads (crasher live %d), %d runs of each tool\n' \
  "$threads" "$extra_threads" "$runs"
printf 'machine: %s, %s CPUs, load %s\n\n' "$(uname -r)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %9s %8s %8s %7s %5s %14s\n' "tool" "median ms" "min ms" "max ms" "ratio" "fail" "stopped ms (*)"
row() {
  local name=$1 label=$2 m stopped=-
  m=$(median "$work/$name.times")
  [[ -s $work/$name.observed ]] && stopped=$(sort -n "$work/$name.observed" | tail -1)
  printf '%-46s %9.1f %8.1f %8.1f %6.1fx %5s %14s\n' "$label" "$(bc -l <<<"$m/1000")" \
    "$(bc -l <<<"$(minimum "$work/$name.times")/1000")" "$(bc -l <<<"$(maximum "$work/$name.times")/1000")" \
    "$(bc -l <<<"$m/$base")" "$(cat "$work/$name.failures")" "$stopped"
}
row debugger "debugger PID"
row debugger_all_stop "debugger --all-stop PID"
row eu_stack "eu-stack -p PID"
row gdb "gdb -p PID -batch -ex 'thread apply all bt'"

printf '(*) longest time one thread was seen stopped (t/T) by a sampler, worst of 5 separate runs;\n'
printf '    0.0: no stop lasted one sampling round (about half a millisecond). ratio: median / median of debugger PID.\n'
printf '\nlongest time a thread was held stopped, per debugger run (us):\n'
printf '  %-22s median %6s   worst %6s\n' "one at a time:" "$(median "$work/debugger.holds")" "$(maximum "$work/debugger.holds")"
printf '  %-22s median %6s   worst %6s\n' "--all-stop:" "$(median "$work/debugger_all_stop.holds")" \
  "$(maximum "$work/debugger_all_stop.holds")"
percentiles() {
  sort -n "$1" | awk '{a[NR]=$1} END {if (NR) printf "p50 %d  p90 %d  p99 %d  max %d  (%d holds)", a[int((NR+1)*0.5)], a[int(NR*0.9)], a[int(NR*0.99)], a[NR], NR}'
}
printf 'every thread hold of every run (us):\n'
printf '  %-22s %s\n' "one at a time:" "$(percentiles "$work/debugger.thread_holds")"
printf '  %-22s %s\n' "--all-stop:" "$(percentiles "$work/debugger_all_stop.thread_holds")"
printf '\n16-thread report under 100 ms: %s (median %.1f ms)\n' \
  "$([[ $base -lt 100000 ]] && echo yes || echo NO)" "$(bc -l <<<"$base/1000")"
printf 'target afterwards: thread states %s; answers on stdin: %s\n' "$states" "$alive"
