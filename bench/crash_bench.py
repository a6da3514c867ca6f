#!/usr/bin/env python3
"""Crash-to-finished-report latency of usercrash against its peers, measured
in one invocation on the same crashes (ratios, not absolute promises: the
machine is shared and noisy).

Peers: the seed's method (save the core from stdin, run gdb with the seed's
command set) and `eu-stack -s --core`, each with libc's separate debug info
visible and hidden. Also usercrash_c's peak RSS (children included).

Run as root from the repository: bench/crash_bench.py [--build build] [--runs 5]
It changes core_pattern and puts it back on every exit path.

--journald measures the fleet path's cost instead of the peers: per
scenario, rounds alternate between usercrash with no journald and crash
grouping off (keep_per_signature=0), and usercrash with crash groups by
signature (keep_per_signature=1000, so that no crash of a round replaces
another's slot) with a real systemd-journald started privately
for the round (it runs without systemd as PID 1; the machine-wide sockets
under /run/systemd/journal are held under /run/usercrash-journald.lock, as
the tests do). Every report carries its signature either way: it is part
of collecting. The ratio on/off closes the output, with each round's ratio
to show how noisy the machine was.

--baseline OTHER_BUILD adds usercrash_c and usercrash_s of another build (say
main before a change) as a row of their own, measured in rounds alternating
with this build's (--rounds, 3 by default, of --runs crashes each), so that
a change's cost is a ratio from one invocation; the ratios close the output.
"""
import argparse
import fcntl
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CORE_PATTERN = "/proc/sys/kernel/core_pattern"
JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_RUN = "/run/systemd/journal"
JOURNALD_LOCK = "/run/usercrash-journald.lock"
CRASH_MESSAGE_ID = "76eb54f2cee04479a033d9849ff406a2"
# Crash groups on, with room for every crash of a round: a group's fifth
# crash would replace its newest report (keep_per_signature=3), and the
# bench times a report by the appearance of its own slot.
KEEP_ON = 1000
PIPE_LIMIT = "/proc/sys/kernel/core_pipe_limit"

SCENARIOS = [
    # name, crasher args, CRASHER_PARKED[, crasher, extra environment]
    ("1 thread", ["null"], "0"),
    ("16 threads", ["threads", "15"], "0"),
    ("200 threads", ["threads", "199"], "0"),  # with 8 MiB stacks (CRASHER_STACK_KB below)
    ("1 GiB heap", ["heap", "1024"], "0"),
    ("stack overflow", ["stack-overflow"], "0"),
    # A nil dereference in a goroutine: the runtime dumps core with SIGABRT
    # from its signal handler, unwound through the signal frame. Its crash
    # time is taken before the goroutine starts, so it includes the
    # runtime's own goroutine dump (to /dev/null).
    ("Go nil dereference", [], "0", "go_crasher", {"GOTRACEBACK": "crash"}),
]


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text + "\n")


class Bench:
    def __init__(self, build, runs, peer_runs, timeout):
        self.build = os.path.abspath(build)
        self.runs = runs
        self.peer_runs = peer_runs
        self.timeout = timeout
        self.work = tempfile.mkdtemp(prefix="ucb-", dir="/tmp")
        os.chmod(self.work, 0o700)
        self.saved = (read(CORE_PATTERN).rstrip("\n"), read(PIPE_LIMIT).rstrip("\n"))
        self.server = None
        self.pending = []

    def restore(self):
        write(CORE_PATTERN, self.saved[0])
        write(PIPE_LIMIT, self.saved[1])
        if self.server:
            self.server.terminate()
            self.server.wait()
            self.server = None
        shutil.rmtree(self.work, ignore_errors=True)

    def set_pattern(self, pattern):
        if len(pattern) > 127:
            raise SystemExit(f"core_pattern too long ({len(pattern)}): {pattern}")
        write(CORE_PATTERN, pattern)

    def start_server(self, name, extra, build=None, trace_fd=None):
        """trace_fd: an fd of ours the server writes its phase trace to
        (USERCRASH_TRACE_FD, bench/crash_profile.py)."""
        if self.server:
            self.server.terminate()
            self.server.wait()
        d = os.path.join(self.work, name)
        os.makedirs(d, mode=0o700)
        conf = os.path.join(d, "c.conf")  # the rss wrapper expects this name
        with open(conf, "w") as f:
            f.write(f"directory={d}/crashes\nsocket={d}/run/s.sock\nkernel_socket={d}/run/k.sock\ncount=100\n{extra}")
        env = dict(os.environ, USERCRASH_TRACE_FD=str(trace_fd)) if trace_fd is not None else None
        log = open(f"{d}/server.log", "w")
        self.server = subprocess.Popen([f"{build or self.build}/bin/usercrash_s", "-c", conf],
                                       stderr=log, env=env,
                                       pass_fds=() if trace_fd is None else (trace_fd,))
        log.close()
        for _ in range(500):
            if os.path.exists(f"{d}/run/s.sock"):
                break
            time.sleep(0.01)
        # A server that keeps a warm collector (warm_collector, on by
        # default) is measured once it is warm, as it runs for days.
        self.warm_pid = None
        if "warm_collector=no" not in extra and self.knows_key(build or self.build, "warm_collector"):
            for _ in range(1000):
                for line in read(f"{d}/server.log").splitlines():
                    if line.startswith("usercrash_s: warm collector ") and line.endswith(" ready"):
                        self.warm_pid = int(line.split()[3])
                if self.warm_pid:
                    break
                time.sleep(0.01)
            if not self.warm_pid:
                raise SystemExit(f"the warm collector did not get ready:\n{read(f'{d}/server.log')}")
        return d, conf

    def warm_children_cpu_ms(self):
        """CPU (ms) of the warm collector's ended processes (one per crash),
        from its /proc stat (cutime + cstime, in clock ticks); 0 without one."""
        if not self.warm_pid:
            return 0.0
        fields = read(f"/proc/{self.warm_pid}/stat").rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) * 1000 / os.sysconf("SC_CLK_TCK")

    def crash(self, args, parked, exe="crasher", extra_env=None):
        # Default-sized thread stacks: the core then carries them (as zeros
        # where untouched), as a real program's would.
        env = dict(os.environ, CRASHER_PARKED=parked, CRASHER_STACK_KB="8192", **(extra_env or {}))
        p = subprocess.Popen([f"{self.build}/crashers/{exe}"] + args, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env)
        line = p.stdout.readline().decode().split()
        # Not waited for here: a big process takes long to tear down after
        # its report is done, and that is not the report's time.
        self.pending.append(p)
        return int(line[1]), int(line[2])  # pid, crash time (CLOCK_REALTIME ns)

    def reap(self):
        for p in self.pending:
            p.wait()
        self.pending = []

    @staticmethod
    def wait_file(path, timeout):
        """CLOCK_REALTIME (ns) when `path` appeared. Polled every 0.2 ms:
        file timestamps are only as fine as the kernel's tick (4 ms here)."""
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(path):
                return time.time_ns()
            time.sleep(0.0002)
        return None

    def knows_key(self, build, key):
        """Whether BUILD's usercrash_s accepts the config key (its name is in the program)."""
        known = self.__dict__.setdefault("known_keys", {})
        if (build, key) not in known:
            with open(f"{build}/bin/usercrash_s", "rb") as f:
                known[(build, key)] = key.encode() in f.read()
        return known[(build, key)]

    def usercrash(self, scenario, hide, rss=False, build=None, extra=""):
        name, args, parked, *crasher = scenario
        build = build or self.build
        self.count = getattr(self, "count", 0) + 1
        # Each crash is timed by its own slot: with crash groups on (the
        # default keep_per_signature=3), the fifth crash of one program
        # would replace the fourth's slot instead. A server from before crash
        # groups (a --baseline build) has no such key and refuses a config
        # that names it.
        if "keep_per_signature" not in extra and self.knows_key(build, "keep_per_signature"):
            extra += "keep_per_signature=0\n"
        d, conf = self.start_server(f"u{self.count}", ("debuginfo_path=/var/empty\n" if hide else "") + extra, build)
        client = f"{build}/bin/usercrash_c"
        if rss:
            # The bench's own wrapper, whichever build is measured.
            pattern = f"|{self.build}/bench/bench_handler rss {d} -k%F:%I:%u:%g:%t:%d:%c %P %e %s"
        else:
            pattern = f"|{client} -c {conf} -k%F:%I:%u:%g:%t:%d:%c %P %e %s"
        self.set_pattern(pattern)
        times, peaks, cpus = [], [], []
        warm_cpu_before = self.warm_children_cpu_ms()
        for i in range(self.runs):
            for f in ("rss", "cpu"):
                if os.path.exists(f"{d}/{f}"):
                    os.unlink(f"{d}/{f}")
            pid, t0 = self.crash(args, parked, *crasher)
            # The text report is linked into its slot last: the report is done.
            done = self.wait_file(f"{d}/crashes/usercrash_{i:02}", self.timeout)
            times.append(None if done is None else (done - t0) / 1e6)
            self.reap()
            if rss and self.wait_file(f"{d}/rss", 5):
                peaks.append(int(read(f"{d}/rss")))
                cpus.append(int(read(f"{d}/cpu")) / 1000)
        self.reap()
        if rss:
            # Peak RSS (KiB) and CPU (ms) of usercrash_c and its collector child, medians;
            # with a warm collector, the CPU of its processes for these crashes
            # (each the collector's child, reaped by it) is added, per crash.
            warm_cpu = self.warm_children_cpu_ms() - warm_cpu_before
            return median(peaks), median(cpus) + warm_cpu / max(1, self.runs)
        return times

    def peer(self, kind, scenario, hide):
        name, args, parked, *crasher = scenario
        self.count = getattr(self, "count", 0) + 1
        d = os.path.join(self.work, f"p{self.count}")
        os.makedirs(d, mode=0o700)
        self.set_pattern(f"|{self.build}/bench/bench_handler {kind} {d} {int(hide)} %P %E")
        times = []
        for _ in range(self.peer_runs):
            pid, t0 = self.crash(args, parked, *crasher)
            done = self.wait_file(f"{d}/done.{pid}", self.timeout)
            times.append(None if done is None else (done - t0) / 1e6)
            self.reap()
        return times


class PrivateJournald:
    """A systemd-journald of our own, started and stopped between rounds.
    The caller holds JOURNALD_LOCK. A journald we did not start (a machine
    booted with systemd) cannot be stopped for the rounds without it."""

    def __init__(self):
        if subprocess.run(["pgrep", "-x", "systemd-journal"], stdout=subprocess.DEVNULL).returncode == 0:
            raise SystemExit("crash_bench --journald: a journald is already running; the rounds without it need none")
        self.proc = None

    @staticmethod
    def remove_sockets():
        for name in ("socket", "stdout", "dev-log", "syslog"):
            path = os.path.join(JOURNAL_RUN, name)
            if os.path.exists(path) and not os.path.isdir(path):
                os.unlink(path)

    def start(self):
        self.remove_sockets()
        self.proc = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(1000):
            if os.path.exists(os.path.join(JOURNAL_RUN, "socket")):
                return
            time.sleep(0.01)
        raise SystemExit("crash_bench --journald: journald did not create its socket")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
        self.remove_sockets()


def crash_entries():
    """Crash entries (MESSAGE_ID) in the journal files journald left."""
    r = subprocess.run(["journalctl", "--all", "--no-pager", "-o", "cat", f"MESSAGE_ID={CRASH_MESSAGE_ID}"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return len([l for l in r.stdout.splitlines() if l.strip()])


def quartiles(values):
    ok = sorted(v for v in values if v is not None)
    if len(ok) < 4:
        return (min(ok), max(ok)) if ok else (None, None)
    q = statistics.quantiles(ok, n=4)
    return q[0], q[2]


def journald_rows(bench, scenarios, rounds):
    """Rounds alternating off / on per scenario; returns rows for print_journald."""
    journald = PrivateJournald()
    rows = []
    try:
        for scenario in scenarios:
            off, on, ratios = [], [], []
            before = crash_entries()
            for _ in range(rounds):
                journald.stop()
                a = bench.usercrash(scenario, False, extra="keep_per_signature=0\n")
                journald.start()
                b = bench.usercrash(scenario, False, extra=f"keep_per_signature={KEEP_ON}\n")
                journald.stop()
                off += a
                on += b
                if median(a) and median(b):
                    ratios.append(median(b) / median(a))
            row = {"scenario": scenario[0], "off": off, "on": on, "round_ratios": ratios,
                   "entries": crash_entries() - before, "crashes": len(on)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        journald.stop()
    return rows


def print_journald(rows, rounds, runs):
    print(f"\ncrash to finished report, ms: median [quartiles] of {rounds} alternating rounds x {runs} crashes")
    print(f"off: no journald, keep_per_signature=0; on: a running systemd-journald, keep_per_signature={KEEP_ON}")
    print("(every report has its signature in both)\n")
    print(f"   {'scenario':18} {'off':>24} {'on':>24} {'on/off':>7}  round ratios        journal entries")
    for row in rows:
        off, on = median(row["off"]), median(row["on"])
        qo, qn = quartiles(row["off"]), quartiles(row["on"])
        ratio = f"{on / off:6.2f}x" if off and on else "   n/a"
        rr = " ".join(f"{r:.2f}" for r in row["round_ratios"])
        fmt_cell = lambda m, q: f"{m:6.1f} [{q[0]:5.1f}-{q[1]:5.1f}]" if m else "n/a"
        print(f"   {row['scenario']:18} {fmt_cell(off, qo):>24} {fmt_cell(on, qn):>24} {ratio:>7}  {rr:18}  "
              f"{row['entries']}/{row['crashes']}")


def median(values):
    ok = [v for v in values if v is not None]
    return statistics.median(ok) if ok else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=7, help="crashes per scenario for usercrash")
    ap.add_argument("--peer-runs", type=int, default=3, help="crashes per scenario for each peer")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--baseline", help="another build directory, measured beside this one")
    ap.add_argument("--baseline-config", action="append", default=[], metavar="KEY=VALUE",
                    help="a config line for the baseline's server only (e.g. warm_collector=no "
                         "with --baseline BUILD of this build: warm against cold)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of --runs crashes each, with --baseline or --journald")
    ap.add_argument("--journald", action="store_true",
                    help="journald and crash groups on against off, instead of the peers")
    opts = ap.parse_args()
    baseline_extra = "".join(line + "\n" for line in opts.baseline_config)
    if os.geteuid() != 0:
        sys.exit("crash_bench: run as root (it changes core_pattern)")
    if opts.journald:
        # Taken before the core_pattern lock, in the order the tests take them.
        journald_lock = open(JOURNALD_LOCK, "a")
        fcntl.flock(journald_lock, fcntl.LOCK_EX)
    # The same lock the end-to-end tests take before they touch core_pattern.
    lock = open("/run/usercrash-tests.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    bench = Bench(opts.build, opts.runs, opts.peer_runs, opts.timeout)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    rows = []
    if opts.journald:
        try:
            write(PIPE_LIMIT, "0")
            chosen = [s for s in SCENARIOS if not opts.only or s[0] in opts.only.split(",")]
            rows = journald_rows(bench, chosen, opts.rounds)
        finally:
            bench.restore()
        print_journald(rows, opts.rounds, opts.runs)
        return
    try:
        write(PIPE_LIMIT, "0")
        for scenario in SCENARIOS:
            if opts.only and scenario[0] not in opts.only.split(","):
                continue
            row = {"scenario": scenario[0]}
            if opts.baseline:
                # Rounds that alternate the two builds share the machine's moods.
                mine, theirs = [], []
                for _ in range(opts.rounds):
                    mine += bench.usercrash(scenario, False)
                    theirs += bench.usercrash(scenario, False, build=os.path.abspath(opts.baseline),
                                              extra=baseline_extra)
                row["usercrash"] = median(mine)
                row["usercrash, baseline build"] = median(theirs)
            else:
                row["usercrash"] = median(bench.usercrash(scenario, False))
            row["usercrash, libc dbg hidden"] = median(bench.usercrash(scenario, True))
            row["client peak RSS KiB"], row["client+collector CPU ms"] = bench.usercrash(scenario, False, rss=True)
            if opts.baseline:
                row["client+collector CPU ms, baseline build"] = bench.usercrash(
                    scenario, False, rss=True, build=os.path.abspath(opts.baseline), extra=baseline_extra)[1]
            if not opts.no_peers:
                for kind in ("seed", "eu-stack"):
                    for hide in (False, True):
                        label = f"{'seed (gdb)' if kind == 'seed' else 'eu-stack -s --core'}{', libc dbg hidden' if hide else ''}"
                        row[label] = median(bench.peer(kind, scenario, hide))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        bench.restore()

    print("\ncrash to finished report, median ms (ratio = peer / usercrash, same invocation)\n")
    keys = [k for k in rows[0] if k not in ("scenario",)] if rows else []
    for row in rows:
        base = row["usercrash"]
        print(f"== {row['scenario']}")
        for k in keys:
            v = row[k]
            if v is None:
                print(f"   {k:38} (no result)")
            elif k == "client peak RSS KiB":
                print(f"   {k:38} {v:>10}")
            elif "CPU" in k:
                print(f"   {k:38} {v:10.1f} ms")
            else:
                ratio = f"{v / base:8.2f}x" if base else ""
                print(f"   {k:38} {v:10.1f} ms {ratio}")
    if opts.baseline:
        print(f"\nthis build / baseline build ({opts.baseline}), median of each, same rounds:")
        for row in rows:
            mine, theirs = row["usercrash"], row["usercrash, baseline build"]
            if mine and theirs:
                print(f"   {row['scenario']:38} {mine / theirs:8.2f}x  ({mine - theirs:+.1f} ms)")
            mine, theirs = row["client+collector CPU ms"], row["client+collector CPU ms, baseline build"]
            if mine and theirs:
                print(f"   {row['scenario'] + ', CPU':38} {mine / theirs:8.2f}x  ({mine - theirs:+.1f} ms)")
    heap = next((r for r in rows if r["scenario"] == "1 GiB heap"), None)
    small = next((r for r in rows if r["scenario"] == "1 thread"), None)
    if heap and small and heap["usercrash"] and small["usercrash"]:
        print(f"\n1 GiB heap / 1 thread (usercrash): {heap['usercrash'] / small['usercrash']:.2f}x")


if __name__ == "__main__":
    main()
