#!/usr/bin/env python3
"""Where the time of a crash goes, from the kernel's fault to the published
slot: medians over N crashes of a 1-thread and a 16-thread crash, phase by
phase, and the start-up cost of usercrash_c itself.

How: core_pattern runs bench/trace_handler (a static helper) which starts
usercrash_c with USERCRASH_TRACE_FD on a file of this run's private
directory; the server gets one too. Both write a CLOCK_MONOTONIC timestamp
at each phase (src/util/phase_trace.h; off, and nothing is ever opened by
path, without the variable). The crasher prints CLOCK_REALTIME just before
it faults; usercrash_c's trace gives the offset between the two clocks.
The traced path has one exec more than the real one (the helper's, about
0.2 ms, the "kernel starts the helper" row includes it).

Start-up: bench/exec_bench runs `usercrash_c --version` and /bin/true in
turn (medians, ratios in the same run), LD_DEBUG=statistics counts the
dynamic loader's relocations, and the libraries it maps are listed.
--compare OTHER_BUILD puts another build's usercrash_c beside it (say
main before a change) in the same rounds.

Run as root from the repository: bench/crash_profile.py [--build build] [--runs 15]
It changes core_pattern (holding /run/usercrash-tests.lock, as the tests do)
and puts it back on every exit path.
"""
import argparse
import fcntl
import glob
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_bench import PIPE_LIMIT, Bench, write  # noqa: E402

SCENARIOS = [("1 thread", ["null"]), ("16 threads", ["threads", "15"])]

# (process, mark, what the time up to this mark from the previous one was).
# c: usercrash_c (and the helper before it), s: the server, e: the engine's
# sandboxed child. Each row is the time from the previous row's mark.
PHASES = [
    ("c", "handler", "kernel starts the helper (fault -> helper's first instruction)"),
    ("c", "exec", "helper (trace_handler) itself"),
    ("c", "main", "exec usercrash_c, dynamic loading, relocation, static init"),
    ("c", "config", "logging init, command line, config file"),
    ("c", "core_notes", "core's ELF header and notes from the pipe"),
    ("c", "crash_facts", "/proc/PID open, identity check, status/comm/exe"),
    ("s", "srv_request", "connect to the server, dump request"),
    ("s", "srv_slot_sent", "server: slot files created, fds sent"),
    ("c", "destination", "client receives the slot"),
    ("c", "plan", "collection plan"),
    ("c", "sandbox_prepared", "sandbox prepared (user, seccomp program, landlock paths)"),
    ("c", "preopen", "job: channel"),
    ("c", "proc_maps", "/proc/PID/maps"),
    ("c", "modules_opened", "module files opened"),
    ("c", "proc_facts", "/proc facts (cmdline, threads, fds, stack...)"),
    ("c", "fork", "(facts copied)"),
    ("e", "child_started", "fork of the collector child"),
    ("e", "sandboxed", "sandbox entered (limits, uid drop, caps, landlock, seccomp)"),
    ("e", "engine_start", "report facts copied"),
    ("e", "modules_reported", "libdwfl: modules reported, state attached"),
    ("e", "unwind", "abort message and signal (libc's symbol table)"),
    ("e", "threads_unwound", "every thread unwound and symbolized (see the split below)"),
    ("e", "memory_and_code", "memory near registers, disassembly"),
    ("e", "report_built", "signature, problems"),
    ("c", "collected", "parent hears 'collected'"),
    ("c", "core_passed_on", "rest of the core drained"),
    ("e", "render", "late facts to the child"),
    ("e", "rendered", "text and JSON rendered and written"),
    ("c", "written", "parent hears 'written'"),
    ("s", "srv_completed", "completion to the server"),
    ("s", "srv_published", "server: report head read, slot published (ring, index)"),
]
AFTER = [
    ("s", "srv_answered", "server: log entry, hook queued, answer sent"),
    ("c", "delivered", "client hears 'published'"),
    ("c", "child_ended", "collector child ends (its address space torn down)"),
    ("c", "exit", "client: previous handler, slot released"),
]
TOTALS = ["module_elf", "frame_step", "cfi", "symbols", "source_lines", "memory_reads", "disassembly"]
TOTAL_NAMES = {
    "module_elf": "module ELF opened (find_elf, debuginfo lookup)",
    "frame_step": "libdwfl stepping frames (CFI parsing and evaluation)",
    "cfi": "CFI lookups naming each frame's method",
    "symbols": "symbol lookups (symbol tables loaded on first use)",
    "source_lines": "file:line and inlined calls",
    "memory_reads": "reads of /proc/PID/mem (4 KiB pages)",
    "disassembly": "disassembly (capstone)",
}


def parse_trace(lines):
    """{mark: ns} of each pid in order of appearance, totals, offset."""
    by_pid, totals, offset = {}, {}, None
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "mark":
            by_pid.setdefault(int(parts[0]), {})[parts[2]] = int(parts[3])
        elif len(parts) == 5 and parts[1] == "total":
            totals[parts[2]] = (int(parts[3]), int(parts[4]))
        elif len(parts) == 3 and parts[1] == "mono-real" and offset is None:
            offset = int(parts[2])
    return by_pid, totals, offset


def one_crash(bench, d, scenario, index, server_trace):
    name, args = scenario
    before = set(glob.glob(f"{d}/trace.*"))
    server_pos = server_trace.tell()
    pid, fault_real = bench.crash(args, "0")
    slot = f"{d}/crashes/usercrash_{index:02}"
    done = bench.wait_file(slot, bench.timeout)
    # The client's last mark comes after the server's answer.
    new, marks = [], {}
    end = time.time() + 10
    while time.time() < end:
        new = sorted(set(glob.glob(f"{d}/trace.*")) - before)
        if new:
            with open(new[0]) as f:
                text = f.read()
            if " mark exit " in text:
                break
        time.sleep(0.002)
    bench.reap()
    if not new or done is None:
        return None
    with open(new[0]) as f:
        client = f.read().splitlines()
    server_trace.seek(server_pos)
    server = server_trace.read().splitlines()
    by_pid, totals, offset = parse_trace(client)
    pids = list(by_pid)
    if len(pids) < 2 or offset is None:
        return None
    c, e = by_pid[pids[0]], by_pid[pids[1]]  # the client (handler, then exec'd), then its child
    s = parse_trace(server)[0]
    s = next(iter(s.values()), {})
    marks = {"c": c, "e": e, "s": s}
    fault = fault_real - offset
    row, prev = {}, fault
    for proc, mark, _ in PHASES + AFTER:
        t = marks[proc].get(mark)
        if t is None:
            return None
        row[mark] = (t - prev) / 1e6
        prev = t
    row["total_published"] = (marks["s"]["srv_published"] - fault) / 1e6
    row["total_exit"] = (marks["c"]["exit"] - fault) / 1e6
    row["polled_slot"] = (done - fault_real) / 1e6
    for k, (ns, calls) in totals.items():
        row[f"total:{k}"] = ns / 1e6
        row[f"calls:{k}"] = calls
    return row


def profile(bench, scenario, runs, build):
    """`runs` crashes of `scenario` through `build`'s programs (the crasher
    is always the bench's)."""
    bench.count = getattr(bench, "count", 0) + 1
    d = os.path.join(bench.work, f"profile{bench.count}")
    os.makedirs(d, mode=0o700)
    server_trace_path = os.path.join(d, "server.trace")
    fd = os.open(server_trace_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    try:
        # Crash groups off: every crash of the run gets a slot of its own.
        bench.start_server(f"profile{bench.count}/srv", "keep_per_signature=0\n", build=build, trace_fd=fd)
    finally:
        os.close(fd)
    sd = os.path.join(bench.work, f"profile{bench.count}/srv")
    bench.set_pattern(f"|{build}/bench/trace_handler {sd} -k%F:%I:%u:%g:%t:%d:%c %P %e %s")
    rows = []
    with open(server_trace_path) as server_trace:
        for i in range(runs):
            row = one_crash(bench, sd, scenario, i, server_trace)
            if row:
                rows.append(row)
    return rows


def med(rows, key):
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


def print_profile(results, runs):
    names = list(results)
    print(f"\n== crash path, fault to published slot: median ms over {runs} crashes (each row: from the row above)\n")
    header = f"   {'phase':66}" + "".join(f"{n:>13}" for n in names)
    print(header)
    for proc, mark, what in PHASES:
        label = f"{proc}:{mark:17} {what}"[:66]
        print(f"   {label:66}" + "".join(f"{med(results[n], mark):13.3f}" for n in names))
    print(f"   {'= fault to published slot (sum of medians may differ)':66}" +
          "".join(f"{med(results[n], 'total_published'):13.3f}" for n in names))
    print(f"   {'  (the slot seen by polling its file, 0.2 ms polls)':66}" +
          "".join(f"{med(results[n], 'polled_slot'):13.3f}" for n in names))
    print(f"\n   after publication:")
    for proc, mark, what in AFTER:
        label = f"{proc}:{mark:17} {what}"[:66]
        print(f"   {label:66}" + "".join(f"{med(results[n], mark):13.3f}" for n in names))
    print(f"   {'= fault to the client exit':66}" + "".join(f"{med(results[n], 'total_exit'):13.3f}" for n in names))
    print(f"\n   inside the engine child, time by kind (own time, nested calls excluded), ms [calls]:")
    for k in TOTALS:
        cells = "".join(f"{med(results[n], 'total:' + k):6.3f} [{med(results[n], 'calls:' + k):4.0f}]" for n in names)
        print(f"   {TOTAL_NAMES[k][:66]:66}{cells}")
    compared = [n for n in names if n + " *" in results]
    if compared:
        print("\n   this build / the --compare build (*), medians of the same alternating rounds:")
        for n in compared:
            for key, what in (("total_published", "fault to published slot"), ("total_exit", "fault to client exit"),
                              ("main", "exec and dynamic loading")):
                a, b = med(results[n], key), med(results[n + " *"], key)
                print(f"   {n:12} {what:28} {a / b:6.2f}x  ({a - b:+.3f} ms)")


def startup(build, compare, rounds):
    client = f"{build}/bin/usercrash_c"
    cmds = [["/bin/true"], [client, "--version"]]
    if compare:
        cmds.append([f"{compare}/bin/usercrash_c", "--version"])
    argv = [f"{build}/bench/exec_bench", str(rounds)]
    for i, c in enumerate(cmds):
        argv += (["--"] if i else []) + c
    print(f"\n== start-up: medians of {rounds} rounds, each running every command in turn\n")
    sys.stdout.write(subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout)
    for c in cmds[1:]:
        r = subprocess.run(c, env=dict(os.environ, LD_DEBUG="statistics"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        stats = {}
        for line in r.stderr.splitlines():
            m = re.search(r"(total startup time in dynamic loader|time needed for relocation|"
                          r"final number of relocations|number of relative relocations|"
                          r"time needed to load objects):\s+(\d+)", line)
            if m:
                stats[m.group(1)] = int(m.group(2))
        libs = subprocess.run(c[:1], env=dict(os.environ, LD_TRACE_LOADED_OBJECTS="1"), stdout=subprocess.PIPE,
                              text=True).stdout.split()
        names = sorted({os.path.basename(x) for x in libs if ".so" in x and not x.startswith("(")})
        print(f"\n   {c[0]}: LD_DEBUG=statistics (cycles, one run):")
        for k, v in stats.items():
            print(f"      {k:40} {v:>10}")
        print(f"   maps {len(names)} shared objects: {' '.join(names)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=15, help="crashes per scenario")
    ap.add_argument("--startup-rounds", type=int, default=300)
    ap.add_argument("--compare", help="another build directory (say main before a change), profiled and started "
                    "beside this one in alternating rounds; its columns are marked *")
    ap.add_argument("--rounds", type=int, default=3, help="rounds the crashes of a scenario are split into")
    ap.add_argument("--no-crashes", action="store_true", help="start-up only")
    ap.add_argument("--timeout", type=float, default=60)
    opts = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("crash_profile: run as root (it changes core_pattern)")
    build = os.path.abspath(opts.build)
    results = {}
    if not opts.no_crashes:
        # The same lock the end-to-end tests take before they touch core_pattern.
        lock = open("/run/usercrash-tests.lock", "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        bench = Bench(build, opts.runs, 0, opts.timeout)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
        try:
            write(PIPE_LIMIT, "0")
            compare = os.path.abspath(opts.compare) if opts.compare else None
            for scenario in SCENARIOS:
                # With --compare, rounds alternate between the builds.
                for r in range(opts.rounds):
                    for b, label in [(build, scenario[0])] + ([(compare, scenario[0] + " *")] if compare else []):
                        rows = profile(bench, scenario, opts.runs // opts.rounds, b)
                        results.setdefault(label, []).extend(rows)
            for label, rows in results.items():
                print(f"{label}: {len(rows)} crashes traced", file=sys.stderr)
        finally:
            bench.restore()
            lock.close()
        print_profile(results, opts.runs)
    startup(build, os.path.abspath(opts.compare) if opts.compare else None, opts.startup_rounds)


if __name__ == "__main__":
    main()
