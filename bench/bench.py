#!/usr/bin/python3
"""The `make bench` driver (see docs/BENCHMARKS.md).

bench/run.sh starts it as the only child of bench/ns_init.c, PID 1 of a
fresh PID namespace: every process it creates lives and dies in there, and
the destructive baselines (pkill, the psutil script) can see nothing else.

Every figure is measured side by side in one run: the variants of a
benchmark alternate (A B A B ...), and a ratio is the median of the ratios
of adjacent samples.  Nothing here gates: a missed target is reported.

    bench.py --work DIR --run-id ID [--only B1,B4] [--quick]

Keep this file's command line free of the letters "chrom": the pkill
baselines match command lines.
"""
import argparse
import json
import os
import resource
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# bench/run.sh copies the binaries under test to BENCH_BIN: build/ may be
# rebuilt by someone else while the bench runs.
BIN = os.environ.get("BENCH_BIN", "")
REAPER = os.path.join(BIN, "chromereaper")
SHIM = os.path.join(BIN, "libchromereaper.so")
EMPTY = os.path.join(BIN, "libempty.so")
MIN_RECORDER = os.path.join(BIN, "libminrecorder.so")  # B1's floor under the design
FORKLOOP = os.path.join(BIN, "forkloop")
ABLOOP = os.path.join(BIN, "abloop")
APPEND = os.path.join(BIN, "append")
ORACLE = os.path.join(BIN, "oracle_kill")
FLOOR = os.path.join(BIN, "floor_kill")
TREE = os.path.join(BIN, "bench_tree")
PY = "/usr/bin/python3"
BOT = "examples/selenium_bot.py"          # relative: run with cwd=ROOT
SEED = "bench/baselines/seed_cleanup.py"  # relative: no "chrom" in its command line
RESULTS = os.path.join(ROOT, "bench", "results")
DOC = os.path.join(ROOT, "docs", "BENCHMARKS.md")
UID = os.getuid()

# How preload mode (B7, second half) is cleaned up after its bot dies.
#   "reap":     the bench runs `chromereaper reap --session ID` as soon as the
#               bot is dead -- what `reap --stale` does for that session.
#   "watchdog": the shim's watchdog (`chromereaper watch`) reaps by itself;
#               the bench only waits for the processes and directories to go.
PRELOAD_CLEANUP = "watchdog"

TARGETS = {
    "B1": 1.03, "B2": 1.05, "B4": 1.5, "B6": 1.02,
}
# The in-process A/A check (the wrapped path against itself): its median
# pair ratio must be within this of 1.00 for the run's in-process ratios
# to be trusted; the table says when it is not.
AA_TOLERANCE = 0.04


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def now():
    return time.perf_counter()


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pair_ratio(a, b):
    """Median of b[i]/a[i] over adjacent samples."""
    rs = [y / x for x, y in zip(a, b) if x and y]
    return statistics.median(rs) if rs else None


def pair_iqr(a, b):
    """Interquartile range of the adjacent-sample ratios: how far the noise
    moves a single pair."""
    rs = sorted(y / x for x, y in zip(a, b) if x and y)
    if len(rs) < 4:
        return None
    q = statistics.quantiles(rs, n=4)
    return q[0], q[2]


def ratio_summary(a, b):
    """Median of the pair ratios b[i]/a[i], their interquartile range and a
    distribution-free 95 % confidence interval of that median (order
    statistics n/2 -+ 0.98 sqrt(n)); and the median of the differences
    b[i] - a[i] (ns) with their interquartile range: what B adds to one
    iteration of A."""
    rs = sorted(y / x for x, y in zip(a, b) if x and y)
    if not rs:
        return {"ratio": None, "iqr": None, "ci95": None, "pairs": 0}
    n = len(rs)
    q = statistics.quantiles(rs, n=4) if n >= 4 else None
    half = 0.98 * n ** 0.5
    lo, hi = max(0, int(n / 2 - half)), min(n - 1, int(n / 2 + half + 0.5))
    ds = sorted(y - x for x, y in zip(a, b))
    qd = statistics.quantiles(ds, n=4) if n >= 4 else None
    return {"ratio": statistics.median(rs), "iqr": [q[0], q[2]] if q else None,
            "ci95": [rs[lo], rs[hi]], "pairs": n,
            "diff_ns": statistics.median(ds), "diff_iqr_ns": [qd[0], qd[2]] if qd else None}


TIMINGS_PREFIX = "chromereaper: timings "
TIMED_METHODS = ("ours", "ours_grace")   # the reaps B4 asks for --timings


def parse_timings(text):
    """The phases of `chromereaper reap --timings`: its stderr line
    `chromereaper: timings scan=<ms> plan=<ms> ... total=<ms>`, as
    {phase: ms} in the line's order (the last such line wins), or None
    when there is none.  A field that is not a number is left out.

    >>> parse_timings("reap: 3 killed\\nchromereaper: timings scan=1.25 plan=0.3 freeze=2 "
    ...               "signal=3.5 wait=10.0 dirs=0.4 total=17.45\\n")
    {'scan': 1.25, 'plan': 0.3, 'freeze': 2.0, 'signal': 3.5, 'wait': 10.0, 'dirs': 0.4, 'total': 17.45}
    >>> parse_timings("chromereaper: timings scan=x plan=0.5 total=1")
    {'plan': 0.5, 'total': 1.0}
    >>> parse_timings("reap: unrecognized option '--timings'") is None
    True
    """
    found = None
    for line in text.splitlines():
        if not line.startswith(TIMINGS_PREFIX):
            continue
        found = {}
        for field in line[len(TIMINGS_PREFIX):].split():
            key, _, value = field.partition("=")
            try:
                found[key] = float(value)
            except ValueError:
                pass
    return found


def median_timings(samples):
    """Per phase, the median over the samples that have it (ms)."""
    phases = []
    for t in samples:
        phases += [k for k in t if k not in phases]
    return {k: median([t.get(k) for t in samples]) for k in phases}


def base_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "CHROMEREAPER_SESSION", "CHROMEREAPER_LOG")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Bench:
    def __init__(self, work, run_id, quick):
        self.work = work
        self.run_id = run_id
        self.quick = quick
        self.seq = 0
        self.results = {}
        self.errors = {}
        self.reap_timings = False

    # -- small tools ---------------------------------------------------------
    def session_id(self, what):
        self.seq += 1
        return f"bench-{self.run_id}-{what}-{self.seq}"

    def sample_dir(self, what):
        self.seq += 1
        d = os.path.join(self.work, f"{what}-{self.seq}")
        os.makedirs(os.path.join(d, "tmp"))
        return d

    def reps(self, n):
        return max(2, n // 3) if self.quick else n

    def reap(self, session, grace=None, check=False):
        cmd = [REAPER, "reap", "--session", session]
        if grace is not None:
            cmd += ["--grace", str(grace)]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env=base_env())
        if check and r.returncode != 0:
            raise RuntimeError(f"reap --session {session} exited {r.returncode}: {r.stderr.strip()}")
        return r.returncode

    def registry_path(self, session):
        return f"/dev/shm/chromereaper-{UID}-{session}"

    def drop_registry(self, session):
        """Reaps what is left of a session (nothing, normally) and its registry."""
        if session and os.path.exists(self.registry_path(session)):
            self.reap(session, grace=0)
        if session:
            try:
                os.unlink(self.registry_path(session))
            except FileNotFoundError:
                pass

    # -- processes -----------------------------------------------------------
    @staticmethod
    def pidfds(pids):
        fds = {}
        for pid in pids:
            try:
                fds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                pass
        return fds

    @staticmethod
    def close_fds(fds):
        for fd in fds.values():
            os.close(fd)

    @staticmethod
    def wait_dead(fds, timeout):
        """Waits until every pidfd is readable (its process exited).
        Returns the pids still alive at the timeout."""
        alive = dict(fds)
        poller = select.poll()
        for fd in alive.values():
            poller.register(fd, select.POLLIN)
        by_fd = {fd: pid for pid, fd in alive.items()}
        deadline = now() + timeout
        while alive:
            left = deadline - now()
            if left <= 0:
                break
            for fd, _ in poller.poll(max(1, int(left * 1000))):
                poller.unregister(fd)
                alive.pop(by_fd[fd], None)
        return sorted(alive)

    @staticmethod
    def is_dead(fd):
        p = select.poll()
        p.register(fd, select.POLLIN)
        return bool(p.poll(0))

    def kill_all(self, fds, timeout=10):
        for fd in fds.values():
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        left = self.wait_dead(fds, timeout)
        if left:
            raise RuntimeError(f"processes survived SIGKILL: {left}")

    @staticmethod
    def read_pids(path):
        with open(path) as f:
            return [int(x) for x in f.read().split()]

    @staticmethod
    def environ_of(pid):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                return f.read().split(b"\0")
        except OSError:
            return []

    def tagged(self, tag):
        """Processes whose environment holds BENCH_TAG=tag (ours, by construction)."""
        want = f"BENCH_TAG={tag}".encode()
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != os.getpid() and want in self.environ_of(int(d)):
                out.append(int(d))
        return out

    @staticmethod
    def ppid_map():
        kids = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        return kids

    def tagged_tree(self, tag):
        """The tagged processes and all their descendants.  Chrome's children
        rewrite the memory /proc/PID/environ shows (their long process
        titles), so the tag alone finds only the bot, chromedriver, the
        browser process and crashpad; the zygotes and everything they fork
        are found as descendants."""
        kids = self.ppid_map()
        out, todo = set(), list(self.tagged(tag))
        while todo:
            pid = todo.pop()
            if pid not in out:
                out.add(pid)
                todo.extend(kids.get(pid, []))
        return sorted(out)

    @staticmethod
    def exe_of(pid):
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return ""

    @staticmethod
    def start_ticks(pid):
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[19])

    def kill_tagged(self, tag):
        pids = self.tagged_tree(tag)
        fds = self.pidfds(pids)
        self.kill_all(fds)
        self.close_fds(fds)
        return len(pids)

    # -- B1, B2 --------------------------------------------------------------
    def forkloop(self, mode, n, preload):
        env = base_env()
        session = None
        if preload in ("shim", "min_recorder"):
            session = self.session_id(mode)
            # a table that never fills: this measures recording, not the
            # refusals of a full one (3 records per exec'd child at most)
            subprocess.run([TREE, "mksession", session, str(3 * n + 64)], check=True)
            env.update(LD_PRELOAD=SHIM, CHROMEREAPER_SESSION=session, CHROMEREAPER_WATCHDOG="0")
        if preload == "min_recorder":
            env["LD_PRELOAD"] = MIN_RECORDER
        elif preload == "empty":
            env["LD_PRELOAD"] = EMPTY
        cmd = [FORKLOOP, mode, str(n)]
        if preload == "run":
            # supervised: the monitor recycles the records of dead processes
            cmd = [REAPER, "run", "--session", self.session_id(mode), "--"] + cmd
        try:
            out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
            return int(out) / n
        finally:
            self.drop_registry(session)

    def abloop(self, mode, pairs, arm_a, arm_b):
        """One bench/abloop run in a fresh session: per-pair times of the two
        arms (ns) and the session's registry counters."""
        session = self.session_id(f"ab{mode}")
        subprocess.run([TREE, "mksession", session], check=True)
        env = base_env(LD_PRELOAD=SHIM, CHROMEREAPER_SESSION=session, CHROMEREAPER_WATCHDOG="0")
        try:
            out = subprocess.run([ABLOOP, mode, str(pairs), arm_a, arm_b, EMPTY, MIN_RECORDER], env=env,
                                 check=True, stdout=subprocess.PIPE, text=True).stdout
        finally:
            self.drop_registry(session)
        a, b, reg = [], [], {}
        for line in out.splitlines():
            f = line.split()
            if f and f[0] == "registry":
                reg = {k: int(v) for k, v in zip(f[1::2], f[2::2])}
            elif len(f) == 2:
                a.append(int(f[0]))
                b.append(int(f[1]))
        return a, b, reg

    def interleaved(self, name, mode, pairs, chunks, floor=False):
        """The in-process mode: chunks of `pairs` iterations of libc's path
        against the wrapped one (A/B), alternating with chunks of the wrapped
        path against itself (A/A), each chunk a fresh process and session
        (small enough that its registry never fills).  `floor`: a third
        chunk each time, libc's path under the empty library against libc's
        under the floor library (B1)."""
        ab_a, ab_b, aa_a, aa_b, loads, full, records = [], [], [], [], [], 0, []
        chunk_ratios, chunk_aa, order = [], [], []
        fl_a, fl_b, chunk_floor, fl_records = [], [], [], []

        def chunk(arm_a, arm_b, xs_a, xs_b, ratios, per_iteration=None, recorded_arm=None):
            """One chunk: its samples and ratio added to the lists given, the
            records per iteration of `recorded_arm`; whether the registry
            filled."""
            a, b, reg = self.abloop(mode, pairs, arm_a, arm_b)
            xs_a += a
            xs_b += b
            ratios.append(ratio_summary(a, b)["ratio"])
            if recorded_arm and reg.get(recorded_arm):
                per_iteration.append(reg["records"] / reg[recorded_arm])
            return a, b, reg.get("overflow", 0) > 0

        for c in range(chunks):
            if floor:
                full += chunk("libc", "floor", fl_a, fl_b, chunk_floor, fl_records, "floor")[2]
            full += chunk("libc", "shim", ab_a, ab_b, chunk_ratios, records, "wrapped")[2]
            a, b, filled = chunk("shim", "shim", aa_a, aa_b, chunk_aa)
            # pairs alternate A B, B A: the second iteration over the first
            order += [(b[i] / a[i]) if i % 2 == 0 else (a[i] / b[i]) for i in range(len(a))]
            full += filled
            loads.append(os.getloadavg()[0])
            log(f"{name} in-process {c + 1}/{chunks}: libc {us(median(ab_a[-pairs:]))}, "
                f"shim {us(median(ab_b[-pairs:]))}, "
                f"ratio {chunk_ratios[-1]:.3f}, A/A {chunk_aa[-1]:.3f}, "
                + (f"floor {chunk_floor[-1]:.3f}, " if floor else "") + f"load {loads[-1]:.1f}")
        ab, aa = ratio_summary(ab_a, ab_b), ratio_summary(aa_a, aa_b)
        extra = {}
        if floor:
            extra["floor"] = {**ratio_summary(fl_a, fl_b), "libc_median_ns": median(fl_a),
                              "floor_median_ns": median(fl_b), "chunk_ratios": chunk_floor,
                              "records_per_iteration": median(fl_records)}
        return {**extra, "pairs": len(ab_a), "chunk_pairs": pairs, "libc_median_ns": median(ab_a),
                "shim_median_ns": median(ab_b), **ab, "chunk_ratios": chunk_ratios,
                "aa": {**aa, "median_ns": median(aa_a + aa_b), "chunk_ratios": chunk_aa,
                       "second_over_first": median(order),
                       "holds": aa["ratio"] is not None and abs(aa["ratio"] - 1) <= AA_TOLERANCE},
                "records_per_wrapped": median(records), "chunks_registry_full": full, "runs": (3 if floor else 2) * chunks,
                "load": [min(loads), max(loads)]}

    def b1(self):
        # the floor: a minimal recorder (bench/min_recorder_preload.c: the
        # fork and exec records, the new image finds its record), the third
        # variant of every round
        n, reps = 2000, self.reps(7)
        a, b, c = [], [], []
        for r in range(reps):
            a.append(self.forkloop("exec", n, "empty"))
            b.append(self.forkloop("exec", n, "shim"))
            c.append(self.forkloop("exec", n, "min_recorder"))
            log(f"B1 {r + 1}/{reps}: empty {a[-1] / 1e3:.1f} us, shim {b[-1] / 1e3:.1f} us, "
                f"floor {c[-1] / 1e3:.1f} us")
        self.results["B1"] = {"n": n, "empty_ns": a, "shim_ns": b, "ratio": pair_ratio(a, b),
                              "floor_ns": c, "floor_ratio": pair_ratio(a, c),
                              "inprocess": self.interleaved("B1", "exec", 250, self.reps(8), floor=True)}

    def b2(self):
        # 10,000 forks record more processes than a registry holds (3,072):
        # in a real session the supervisor (`run`, or preload mode's
        # watchdog) recycles the records of dead processes, so that is how
        # B2 runs.  B2' is the library alone in a session nobody supervises,
        # 8,000 forks, so that its registry never fills.
        # B2' also forks under the empty library, the third variant of its
        # rounds: what preloading any library costs a fork.
        n, n2, reps = 10000, 8000, self.reps(7)
        a, b, a2, b2, c2 = [], [], [], [], []
        for r in range(reps):
            a.append(self.forkloop("fork", n, "none"))
            b.append(self.forkloop("fork", n, "run"))
            a2.append(self.forkloop("fork", n2, "none"))
            b2.append(self.forkloop("fork", n2, "shim"))
            c2.append(self.forkloop("fork", n2, "empty"))
            log(f"B2 {r + 1}/{reps}: none {a[-1] / 1e3:.1f} us, run {b[-1] / 1e3:.1f} us; "
                f"none {a2[-1] / 1e3:.1f} us, shim alone {b2[-1] / 1e3:.1f} us, empty {c2[-1] / 1e3:.1f} us")
        self.results["B2"] = {"n": n, "none_ns": a, "shim_ns": b, "ratio": pair_ratio(a, b),
                              "n_unfilled": n2, "none_unfilled_ns": a2,
                              "shim_unfilled_ns": b2, "ratio_unfilled": pair_ratio(a2, b2),
                              "empty_unfilled_ns": c2, "ratio_empty": pair_ratio(a2, c2),
                              "inprocess": self.interleaved("B2", "fork", 500, self.reps(16))}

    # -- B3 ------------------------------------------------------------------
    def b3(self):
        rounds = self.reps(21)
        out = subprocess.run([APPEND, str(rounds), "3000"], check=True, stdout=subprocess.PIPE,
                             text=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        res = {}
        for w in (1, 8):
            rs = [x for x in rows if x["kind"] == "append" and x["writers"] == w]
            res[f"w{w}"] = {
                "ns_per_append": median([x["ns_per_append"] for x in rs]),
                "ns_per_append_per_writer": median([x["ns_per_append_per_writer"] for x in rs]),
                "lost": sum(x["lost"] for x in rs), "duplicated": sum(x["duplicated"] for x in rs),
                "refused": sum(x["refused"] for x in rs), "appends": sum(x["appends"] for x in rs),
                "rounds": len(rs)}
        full = [x for x in rows if x["kind"] == "full"]
        res["full_ns"] = median([x["ns_per_refused_append"] for x in full])
        res["resident_fresh"] = median([x["resident_fresh"] for x in full])
        res["resident_full"] = median([x["resident_full"] for x in full])
        res["size"] = full[0]["size"]
        log(f"B3: 1 writer {res['w1']['ns_per_append']:.0f} ns, 8 writers "
            f"{res['w8']['ns_per_append']:.0f} ns, lost {res['w1']['lost'] + res['w8']['lost']}")
        self.results["B3"] = res

    # -- B4, B5 --------------------------------------------------------------
    METHODS = ["ours", "oracle", "seed", "pkill_chrome", "pkill_chrom"]
    METHOD_CMD = {
        "oracle": lambda s, pidfile: [ORACLE, pidfile],
        "seed": lambda s, pidfile: [PY, SEED],
        "pkill_chrome": lambda s, pidfile: ["pkill", "-9", "-f", "chrome"],
        "pkill_chrom": lambda s, pidfile: ["pkill", "-9", "-f", "chrom"],
        "ours": lambda s, pidfile: [REAPER, "reap", "--session", s, "--grace", "0"],
        "ours_grace": lambda s, pidfile: [REAPER, "reap", "--session", s],
        # a safe reap's reads, all before any kill (bench/floor_kill.c): at 1,000 only
        "floor": lambda s, pidfile: [FLOOR, pidfile, "mem"],
    }
    AT_1000 = ["floor", "ours_grace"]  # methods measured at 1,000 only
    BYSTANDERS = 10     # plain "chromium"/"chrome-bystander" processes, no session
    OTHER_SESSION = 10  # another bot's browser: a tree in a session of its own

    def build_scene(self, size):
        d = self.sample_dir(f"tree{size}")
        tmp = os.path.join(d, "tmp")
        env = base_env(TMPDIR=tmp)
        s = self.session_id(f"tree{size}")
        other = self.session_id("other")
        scene = {"dir": d, "tmp": tmp, "session": s, "other": other,
                 "pidfile": os.path.join(d, "pids")}
        subprocess.run([TREE, "tree", str(size), s, scene["pidfile"], SHIM], env=env, check=True)
        # the other bot's browser keeps its directory elsewhere: scene["tmp"]
        # holds only what the reaped session made
        other_tmp = os.path.join(d, "other-tmp")
        os.makedirs(other_tmp)
        subprocess.run([TREE, "tree", str(self.OTHER_SESSION), other, os.path.join(d, "other"), SHIM],
                       env=base_env(TMPDIR=other_tmp), check=True)
        subprocess.run([TREE, "bystanders", str(self.BYSTANDERS), os.path.join(d, "bystanders")],
                       env=env, check=True)
        scene["tree"] = self.read_pids(scene["pidfile"])
        scene["bystanders"] = (self.read_pids(os.path.join(d, "bystanders")) +
                               self.read_pids(os.path.join(d, "other")))
        if len(scene["tree"]) != size:
            raise RuntimeError(f"tree of {size}: only {len(scene['tree'])} processes came up")
        return scene

    def teardown_scene(self, scene):
        fds = self.pidfds(scene["tree"] + scene["bystanders"])
        self.kill_all(fds)
        self.close_fds(fds)
        self.drop_registry(scene["session"])
        self.drop_registry(scene["other"])
        left = os.listdir(scene["tmp"])
        shutil.rmtree(scene["dir"])
        return left

    def check_pkill_scope(self, scene, pattern):
        """The destructive baselines may only ever match the scene."""
        mine = set(scene["tree"]) | set(scene["bystanders"])
        if pattern == "seed":
            out = subprocess.run([PY, SEED, "--dry-run"], stdout=subprocess.PIPE, text=True,
                                 cwd=ROOT, check=True).stdout
        else:
            out = subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.PIPE, text=True).stdout
        extra = {int(x) for x in out.split()} - mine
        if extra:
            raise RuntimeError(f"{pattern} would also match pids {sorted(extra)}: refusing")

    def tree_sample(self, size, method):
        scene = self.build_scene(size)
        try:
            if method in ("seed", "pkill_chrome", "pkill_chrom"):
                self.check_pkill_scope(scene, {"seed": "seed", "pkill_chrome": "chrome",
                                               "pkill_chrom": "chrom"}[method])
            tree_fds = self.pidfds(scene["tree"])
            by_fds = self.pidfds(scene["bystanders"])
            cmd = self.METHOD_CMD[method](scene["session"], scene["pidfile"])
            timed = method in TIMED_METHODS and self.reap_timings
            if timed:
                cmd.append("--timings")
            errfile = os.path.join(scene["dir"], "stderr")
            t_dead, t_exit, left, cpu = self.run_and_watch(cmd, tree_fds, base_env(TMPDIR=scene["tmp"]),
                                                           errfile)
            with open(errfile) as f:
                timings = parse_timings(f.read()) if timed else None
            bystanders_killed = sum(self.is_dead(fd) for fd in by_fds.values())
            self.close_fds(tree_fds)
            self.close_fds(by_fds)
            dir_left = os.listdir(scene["tmp"])
            done = max(t_dead, t_exit) if t_dead is not None else None
            return {"size": size, "method": method, "seconds": done, "all_dead": t_dead,
                    "command_seconds": t_exit, "missed": len(left),
                    "bystanders_killed": bystanders_killed, "dirs_left": len(dir_left),
                    "timings": timings, "cpu_seconds": cpu}
        finally:
            leftover = self.teardown_scene(scene)
            if leftover:
                log(f"B4/B5: {method} at {size}: teardown found {leftover} left in TMPDIR")

    def run_and_watch(self, cmd, fds, env, errfile):
        """Runs a cleanup method, its stderr to `errfile`, while watching the
        tree's pidfds.  Returns
        (seconds until the last process of the tree was dead, or None if
        some survived; seconds until the command exited; survivors; the
        command's CPU seconds, user + system).  What a
        method killed dies within milliseconds: a second after it exited,
        whatever is alive is what it missed.  The pidfd of a process that
        died is closed at once (and dropped from `fds`): a reaper looks
        through every descriptor of every process outside its reap for
        users of the session's directories, and the instrument's pidfds
        are not what it is measured on.  The watching is an epoll, whose
        wake-up costs what died, not what is watched: a poll over 1,000
        pidfds at every death took 22-38 ms of the 2 CPUs the method runs
        on, the more the more its deaths are spread out."""
        with open(errfile, "w") as err:
            t0 = now()
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, env=env)
        pfd = os.pidfd_open(proc.pid)
        by_fd = {fd: pid for pid, fd in fds.items()}
        alive = set(fds)
        t_dead = t_exit = None
        deadline = t0 + 60
        with select.epoll(len(by_fd) + 1) as poller:
            poller.register(pfd, select.EPOLLIN)
            for fd in by_fd:
                poller.register(fd, select.EPOLLIN)
            while True:
                if not alive and t_dead is None:
                    t_dead = now() - t0
                if t_exit is not None and (not alive or now() > deadline):
                    break
                if now() > t0 + 120:
                    proc.kill()
                for fd, _ in poller.poll(0.1):
                    poller.unregister(fd)
                    if fd == pfd:
                        t_exit = now() - t0
                        deadline = now() + 1.0
                    else:
                        pid = by_fd.pop(fd)
                        alive.discard(pid)
                        os.close(fds.pop(pid))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        os.close(pfd)
        return t_dead, t_exit, sorted(alive), usage.ru_utime + usage.ru_stime

    def has_reap_timings(self):
        """Whether this build's `reap` has --timings (it says so in its help)."""
        r = subprocess.run([REAPER, "reap", "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=base_env())
        return "--timings" in r.stdout

    def b4_b5(self):
        sizes = [10, 100, 1000]
        reps = self.reps(7)
        samples = []
        self.reap_timings = self.has_reap_timings()
        for size in sizes:
            methods = list(self.METHODS)
            if size == 1000:  # the floor next to ours and the oracle
                methods[2:2] = ["floor"]
                methods += ["ours_grace"]
            for r in range(reps):
                for m in methods:
                    samples.append(self.tree_sample(size, m))
                line = ", ".join(
                    f"{s['method']} {s['seconds'] * 1e3:.1f} ms" if s["seconds"] is not None
                    else f"{s['method']} missed {s['missed']}"
                    for s in samples[-len(methods):])
                log(f"B4/B5 size {size} {r + 1}/{reps}: {line}")
        res = {"sizes": sizes, "samples": samples, "bystanders": self.BYSTANDERS + self.OTHER_SESSION,
               "reap_timings": self.reap_timings}
        for size in sizes:
            per = {}
            for m in self.METHODS + self.AT_1000:
                ss = [s for s in samples if s["size"] == size and s["method"] == m]
                if not ss:
                    continue
                secs = [s["seconds"] for s in ss]
                per[m] = {"median": median(secs), "min": min((x for x in secs if x), default=None),
                          "max": max((x for x in secs if x), default=None), "samples": secs,
                          "missed": max(s["missed"] for s in ss),
                          "bystanders_killed": max(s["bystanders_killed"] for s in ss),
                          "command_median": median([s["command_seconds"] for s in ss]),
                          "all_dead_median": median([s["all_dead"] for s in ss]),
                          "all_dead": [s["all_dead"] for s in ss],
                          "dirs_left": max(s["dirs_left"] for s in ss),
                          "cpu_median": median([s["cpu_seconds"] for s in ss])}
                if m in TIMED_METHODS and self.reap_timings:
                    got = [s["timings"] for s in ss if s["timings"]]
                    per[m]["timings_ms"] = median_timings(got)
                    per[m]["timings_samples"] = len(got)
            ours = per["ours"]["samples"]
            for m in per:
                per[m]["ratio_to_oracle"] = pair_ratio(per["oracle"]["samples"], per[m]["samples"]) \
                    if None not in per[m]["samples"] else None
                per[m]["ratio_to_ours"] = pair_ratio(ours, per[m]["samples"]) \
                    if None not in per[m]["samples"] else None
            per["ours"]["ratio_dead_to_oracle"] = pair_ratio(per["oracle"]["all_dead"],
                                                             per["ours"]["all_dead"])
            if "floor" in per:
                per["ours"]["ratio_to_floor"] = pair_ratio(per["floor"]["samples"], ours)
            res[str(size)] = per
        self.results["B4B5"] = res

    # -- Selenium sessions (B6, B7) --------------------------------------------
    def start_bot(self, mode, d, loops, interval, no_quit, tag, extra_env=None):
        ready = os.path.join(d, "ready")
        bot = [PY, BOT, "--loops", str(loops), "--interval", str(interval), "--ready-file", ready]
        if no_quit:
            bot.append("--no-quit")
        env = base_env(TMPDIR=os.path.join(d, "tmp"), BENCH_TAG=tag, **(extra_env or {}))
        info = {"mode": mode, "ready": ready, "tag": tag, "session": None}
        if mode == "run":
            info["session"] = self.session_id("selenium")
            cmd = [REAPER, "run", "--session", info["session"], "--"] + bot
        elif mode == "preload":
            env["LD_PRELOAD"] = SHIM
            if PRELOAD_CLEANUP != "watchdog":
                env["CHROMEREAPER_WATCHDOG"] = "0"
            cmd = bot
        else:
            cmd = bot
        t0 = now()
        with open(os.path.join(d, "stderr"), "w") as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        info["proc"] = proc
        info["t0"] = t0
        if mode == "preload":
            # the bot is its session's root: its pid and start time name the registry
            info["root"] = (proc.pid, self.start_ticks(proc.pid))
        return info

    def wait_ready(self, info, timeout=60):
        deadline = now() + timeout
        while not os.path.exists(info["ready"]):
            if info["proc"].poll() is not None or now() > deadline:
                raise RuntimeError(f"bot ({info['mode']}) did not read its first page "
                                   f"(exit {info['proc'].poll()})")
            time.sleep(0.002)
        t = now() - info["t0"]
        with open(info["ready"]) as f:
            info["bot_pid"] = int(f.read().split()[0])
        return t

    def preload_session(self, info):
        """A preload-mode bot names its own session: the registry whose root
        it is.  Noted in WORK/sessions at once, for bench/run.sh's cleanup."""
        if not info.get("session") and info.get("root"):
            info["session"] = self.find_preload_session(*info["root"])
            if info["session"]:
                with open(os.path.join(self.work, "sessions"), "a") as f:
                    f.write(info["session"] + "\n")
        return info.get("session")

    def find_preload_session(self, pid, ticks):
        prefix = f"chromereaper-{UID}-"
        for name in os.listdir("/dev/shm"):
            if not name.startswith(prefix):
                continue
            try:
                with open(os.path.join("/dev/shm", name), "rb") as f:
                    hdr = f.read(256)
            except OSError:
                continue
            if len(hdr) < 160 or hdr[:8] != b"CRREAPR\0":
                continue
            root_pid, root_start = struct.unpack_from("<iQ", hdr, 36)
            if root_pid == pid and root_start == ticks:
                return hdr[96:160].split(b"\0")[0].decode()
        return None

    def session_set(self, info):
        """Every process of the bot's stack (the bot, chromedriver, Chrome,
        crashpad), found by the sample's own environment tag; not the reaper."""
        return [p for p in self.tagged_tree(info["tag"])
                if os.path.basename(self.exe_of(p)) != "chromereaper"]

    def reapers_of(self, tag):
        return [p for p in self.tagged(tag) if os.path.basename(self.exe_of(p)) == "chromereaper"]

    def finish_bot(self, info, d, quits=True):
        """Whatever a sample leaves is killed precisely (by its tag) and its
        registry and directory removed.  A preload-mode watchdog is let
        finish its reap first.  `quits`: the bot ends by itself (B6), else
        it is SIGKILLed if it still runs (an interrupted B7 sample)."""
        try:
            info["proc"].wait(timeout=15 if quits else 0.01)
        except subprocess.TimeoutExpired:
            info["proc"].kill()
            info["proc"].wait()
        self.preload_session(info)
        fds = self.pidfds(self.reapers_of(info["tag"]))
        self.wait_dead(fds, 15)
        self.close_fds(fds)
        leaked = self.kill_tagged(info["tag"])
        self.drop_registry(info.get("session"))
        shutil.rmtree(d)
        return leaked

    def b6(self):
        reps = self.reps(11)
        modes = ["none", "run", "preload"]
        t = {m: [] for m in modes}
        leaks = {m: 0 for m in modes}
        for r in range(reps):
            for m in modes:
                d = self.sample_dir(f"b6{m}")
                info = self.start_bot(m, d, loops=1, interval=0, no_quit=False,
                                      tag=f"{self.run_id}-{self.seq}")
                try:
                    t[m].append(self.wait_ready(info))
                    if m == "preload":
                        self.preload_session(info)
                finally:
                    leaks[m] += self.finish_bot(info, d)
            log(f"B6 {r + 1}/{reps}: " + ", ".join(f"{m} {t[m][-1] * 1e3:.0f} ms" for m in modes))
        self.results["B6"] = {
            "seconds": t, "ratio_run": pair_ratio(t["none"], t["run"]),
            "ratio_preload": pair_ratio(t["none"], t["preload"]), "leaked_processes": leaks}

    def wait_gone(self, fds, dirs, timeout=20.0):
        """Until every process of the set is dead and every directory gone:
        no reap is started here (this is all the watchdog mode needs)."""
        deadline = now() + timeout
        left = self.wait_dead(fds, timeout)
        while any(os.path.lexists(x) for x in dirs) and now() < deadline:
            time.sleep(0.001)
        return left, [x for x in dirs if os.path.lexists(x)]

    def b7_sample(self, mode):
        d = self.sample_dir(f"b7{mode}")
        tmp = os.path.join(d, "tmp")
        tag = f"{self.run_id}-{self.seq}"
        info = self.start_bot("none" if mode == "oracle" else mode, d, loops=1000000,
                              interval=0.2, no_quit=True, tag=tag)
        try:
            self.wait_ready(info)
            time.sleep(0.3)  # let the session settle: a page load is in flight, not starting up
            bot = info["bot_pid"]
            if mode == "preload":
                if not self.preload_session(info):
                    raise RuntimeError("preload mode: no registry names the bot as its root")
            procs = self.session_set(info)
            if bot not in procs:
                raise RuntimeError("the bot is not in its own session set")
            dirs = [os.path.join(tmp, x) for x in os.listdir(tmp)]
            registry = {}
            if info["session"]:
                st = os.stat(self.registry_path(info["session"]))
                with open(self.registry_path(info["session"]), "rb") as f:
                    hdr = f.read(256)
                registry = {"resident": st.st_blocks * 512, "size": st.st_size,
                            "records": struct.unpack_from("<Q", hdr, 56)[0]}
            fds = self.pidfds(procs)
            pidfile = os.path.join(d, "pids")
            with open(pidfile, "w") as f:
                f.write("".join(f"{p}\n" for p in procs))
            t0 = now()
            if mode == "oracle":
                subprocess.run([ORACLE, pidfile], check=True)
                for x in dirs:
                    shutil.rmtree(x, ignore_errors=True)
            else:
                os.kill(bot, signal.SIGKILL)
                if mode == "preload" and PRELOAD_CLEANUP == "reap":
                    # `reap --stale` acts once the root is dead; so does this
                    if bot == info["proc"].pid:
                        info["proc"].wait()
                    self.reap(info["session"])
            left, dirs_left = self.wait_gone(fds, dirs)
            elapsed = now() - t0
            self.close_fds(fds)
            res = {"mode": mode, "seconds": elapsed if not left and not dirs_left else None,
                   "processes": len(procs), "dirs": len(dirs), "survivors": len(left),
                   "dirs_left": [os.path.basename(x) for x in dirs_left], "registry": registry}
            if left or dirs_left:
                res["evidence"] = self.incomplete_evidence(d, dirs_left)
                log(f"B7 {mode}: incomplete; the reaper said:\n" + res["evidence"]["stderr_tail"])
        finally:
            leaked = self.finish_bot(info, d, quits=False)
        res["leaked_after"] = leaked
        return res

    def incomplete_evidence(self, d, dirs_left):
        """What an incomplete sample leaves to explain it, kept in the results
        (the sample's directory is removed): the last lines the bot's stderr
        got (run's or the watchdog's summary and warnings), and when each
        left directory was made, against the sample's start."""
        try:
            with open(os.path.join(d, "stderr"), errors="replace") as f:
                tail = "".join(f.readlines()[-20:])
        except OSError as e:
            tail = f"(stderr unreadable: {e})"
        born = {}
        for x in dirs_left:
            try:
                out = subprocess.run(["stat", "-c", "%w %U", x], capture_output=True, text=True)
                born[os.path.basename(x)] = out.stdout.strip()
            except OSError as e:
                born[os.path.basename(x)] = f"(stat failed: {e})"
        return {"stderr_tail": tail, "dirs_left_born": born}

    def b7(self):
        reps = self.reps(10)
        modes = ["run", "preload", "oracle"]
        samples = []
        for r in range(reps):
            for m in modes:
                samples.append(self.b7_sample(m))
            log(f"B7 {r + 1}/{reps}: " + ", ".join(
                f"{s['mode']} {s['seconds'] * 1e3:.0f} ms ({s['processes']} processes, {s['dirs']} dirs)"
                if s["seconds"] is not None else
                f"{s['mode']}: {s['survivors']} survivors, dirs left {s['dirs_left']}"
                for s in samples[-3:]))
        res = {"samples": samples, "preload_cleanup": PRELOAD_CLEANUP}
        for m in modes:
            secs = [s["seconds"] for s in samples if s["mode"] == m]
            res[m] = {"median": median(secs), "samples": secs,
                      "failures": sum(x is None for x in secs)}
        oracle = res["oracle"]["samples"]
        for m in ("run", "preload"):
            res[m]["ratio"] = pair_ratio(oracle, res[m]["samples"]) \
                if None not in res[m]["samples"] else None
        regs = [s["registry"] for s in samples if s["registry"]]
        res["registry"] = {"resident": median([x["resident"] for x in regs]),
                           "records": median([x["records"] for x in regs]),
                           "size": regs[0]["size"]} if regs else {}
        self.results["B7"] = res

    # -- B8 ------------------------------------------------------------------
    @staticmethod
    def memory_of(pid):
        out = {}
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("RssShmem:", "RssFile:", "RssAnon:")):
                    out[line.split(":")[0]] = int(line.split()[1])
        out["Private"] = out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)
        return out

    def b8(self):
        reps = self.reps(7)
        variants = ["none", "empty", "shim"]
        mem = {v: [] for v in variants}
        for r in range(reps):
            for v in variants:
                env = base_env()
                session = None
                if v == "shim":
                    session = self.session_id("mem")
                    subprocess.run([TREE, "mksession", session], check=True)
                    env.update(LD_PRELOAD=SHIM, CHROMEREAPER_SESSION=session, CHROMEREAPER_WATCHDOG="0")
                elif v == "empty":
                    env["LD_PRELOAD"] = EMPTY
                p = subprocess.Popen(["/bin/sleep", "30"], env=env)
                try:
                    time.sleep(0.15)
                    mem[v].append(self.memory_of(p.pid))
                finally:
                    p.kill()
                    p.wait()
                    self.drop_registry(session)
        keys = ["Rss", "Pss", "Private", "RssShmem", "RssFile", "RssAnon"]
        res = {v: {k: median([m.get(k) for m in mem[v]]) for k in keys} for v in variants}
        res["delta_none"] = {k: res["shim"][k] - res["none"][k] for k in keys}
        res["delta_empty"] = {k: res["shim"][k] - res["empty"][k] for k in keys}
        log(f"B8: shim adds {res['delta_none']['Rss']} KiB RSS, {res['delta_none']['Pss']} KiB PSS")
        self.results["B8"] = res


# -- the table -------------------------------------------------------------------
def fmt_ratio(x, a=None, b=None):
    if x is None:
        return "n/a"
    q = pair_iqr(a, b) if a is not None and b is not None and None not in a + b else None
    return f"{x:.3f}" + (f" ({q[0]:.2f}-{q[1]:.2f})" if q else "")


def verdict(ratio, target):
    if ratio is None:
        return "no result"
    return "meets" if ratio <= target else "MISSED"


def fmt_summary(x, ci=False):
    """A ratio_summary: the median pair ratio and its interquartile range
    (and the median's 95 % confidence interval: how finely the run
    resolves it)."""
    if x["ratio"] is None:
        return "n/a"
    return (f"{x['ratio']:.3f}" + (f" ({x['iqr'][0]:.2f}-{x['iqr'][1]:.2f})" if x["iqr"] else "")
            + (f", median's 95% CI {x['ci95'][0]:.3f}-{x['ci95'][1]:.3f}" if ci and x.get("ci95") else ""))


def fmt_diff(x):
    if x.get("diff_ns") is None:
        return ""
    q = x["diff_iqr_ns"]
    return f"; {x['diff_ns'] / 1e3:+.1f} us a pair" + (f" ({q[0] / 1e3:+.1f} to {q[1] / 1e3:+.1f})" if q else "")


def inprocess_rows(row, num, what, baseline, ip, target):
    """The in-process mode's ratio, and its A/A check right under it.  A
    check that does not hold is said in both rows: the run's noise is then
    larger than the differences the ratio is meant to resolve."""
    aa = ip["aa"]
    status = verdict(ip["ratio"], target)
    if not aa["holds"]:
        status += f" (not conclusive: A/A {fmt_summary(aa)})"
    if ip["chunks_registry_full"]:
        status += f" (registry full in {ip['chunks_registry_full']} of {ip['runs']} runs)"
    per = f", {ip['records_per_wrapped']:.1f} records per iteration" if ip["records_per_wrapped"] else ""
    row(num, f"{what}, in one process, arms interleaved, {ip['pairs']:,} pairs{per}",
        us(ip["shim_median_ns"]) + fmt_diff(ip), f"{baseline} {us(ip['libc_median_ns'])}", fmt_summary(ip, ci=True),
        f"<= {target}", status)
    load = f"load average {ip['load'][0]:.1f}-{ip['load'][1]:.1f}"
    row(num, "A/A check: the shim's path against itself, the same way",
        f"{us(aa['median_ns'])}{fmt_diff(aa)} ({load})",
        "-", fmt_summary(aa, ci=True), f"1.00 +- {AA_TOLERANCE}",
        "holds" if aa["holds"] else f"DOES NOT HOLD ({load})")


def phases_row(row, what, x):
    """B4: the medians of a reap's phases, from `reap --timings`."""
    if not x.get("timings_samples"):
        row("B4", what, "no timings line in its stderr", "-", "-", "report", "not measured")
        return
    def num(v):
        return f"{v:.3g}" if v < 100 else f"{v:.0f}"
    t = dict(x["timings_ms"])
    total = t.pop("total", None)
    row("B4", f"{what}, medians of {x['timings_samples']} of {len(x['samples'])} reaps",
        ", ".join(f"{k} {num(v)}" for k, v in t.items()) + " ms"
        + (f"; total {num(total)} ms" if total is not None else ""), "-", "-", "report", "reported")


def aa_line(res):
    """One sentence for the results header: the in-process A/A checks."""
    parts = [f"{k} {fmt_summary(res[k]['inprocess']['aa'])}"
             + ("" if res[k]["inprocess"]["aa"]["holds"] else " DOES NOT HOLD")
             for k in ("B1", "B2") if k in res and "inprocess" in res[k]]
    if not parts:
        return ""
    ok = all(res[k]["inprocess"]["aa"]["holds"] for k in ("B1", "B2") if k in res and "inprocess" in res[k])
    return (f"In-process A/A checks (must be 1.00 +- {AA_TOLERANCE}): {'; '.join(parts)}"
            + ("." if ok else ": this run's in-process ratios are noise-bound.") + "\n")


def cpu_busy_share(seconds):
    """The share of all CPUs' time that was not idle over the next
    `seconds` (/proc/stat): whether something else runs as the bench starts,
    which the load average, a decaying 1-minute figure, cannot say."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # all, idle + iowait
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def ms(x):
    return "n/a" if x is None else (f"{x * 1e3:.1f} ms" if x < 10 else f"{x:.1f} s")


def us(ns):
    return "n/a" if ns is None else f"{ns / 1e3:.1f} us"


def table(res, errors):
    rows = []

    def row(num, what, measured, baseline, ratio, target, status):
        rows.append((num, what, measured, baseline, ratio, target, status))

    if "B1" in res:
        b = res["B1"]
        row("B1", f"fork+exec+wait /bin/true x{b['n']:,}, per iteration, separate processes",
            us(median(b["shim_ns"])),
            f"empty preload {us(median(b['empty_ns']))}", fmt_ratio(b["ratio"], b["empty_ns"], b["shim_ns"]), "<= 1.03",
            verdict(b["ratio"], TARGETS["B1"]))
        if "inprocess" in b:
            inprocess_rows(row, "B1", "fork+exec+wait /bin/true", "libc's, /bin/true under the empty preload",
                           b["inprocess"], TARGETS["B1"])
        if "floor_ns" in b:
            row("B1", "the floor: a minimal recorder (the fork and exec records, the new image finds its "
                "record), separate processes",
                us(median(b["floor_ns"])), f"empty preload {us(median(b['empty_ns']))}",
                fmt_ratio(b["floor_ratio"], b["empty_ns"], b["floor_ns"]), "report", "reported")
        if "floor" in b.get("inprocess", {}):
            f = b["inprocess"]["floor"]
            per = f", {f['records_per_iteration']:.1f} records per iteration" if f.get("records_per_iteration") else ""
            row("B1", f"the floor, a minimal recorder, in one process: libc's fork and exec with the two "
                f"records, {f['pairs']:,} pairs{per}",
                us(f["floor_median_ns"]) + fmt_diff(f), f"/bin/true under the empty preload {us(f['libc_median_ns'])}",
                fmt_summary(f, ci=True), "report", "reported")
    if "B2" in res:
        b = res["B2"]
        row("B2", f"fork+_exit+wait x{b['n']:,}, per iteration, under `chromereaper run`, separate processes",
            us(median(b["shim_ns"])), f"no preload {us(median(b['none_ns']))}",
            fmt_ratio(b["ratio"], b["none_ns"], b["shim_ns"]),
            "<= 1.05", verdict(b["ratio"], TARGETS["B2"]))
        row("B2'", f"the same x{b['n_unfilled']:,}, the library alone (no supervisor)",
            us(median(b["shim_unfilled_ns"])), f"no preload {us(median(b['none_unfilled_ns']))}",
            fmt_ratio(b["ratio_unfilled"], b["none_unfilled_ns"], b["shim_unfilled_ns"]), "(<= 1.05)", verdict(b["ratio_unfilled"], TARGETS["B2"]))
        if "empty_unfilled_ns" in b:
            row("B2'", "the same, an empty preload library alone (what preloading any library costs a fork)",
                us(median(b["empty_unfilled_ns"])), f"no preload {us(median(b['none_unfilled_ns']))}",
                fmt_ratio(b["ratio_empty"], b["none_unfilled_ns"], b["empty_unfilled_ns"]), "report", "reported")
        if "inprocess" in b:
            inprocess_rows(row, "B2", "fork+_exit+wait, the library alone", "libc's fork",
                           b["inprocess"], TARGETS["B2"])
    if "B3" in res:
        b = res["B3"]
        lost = b["w1"]["lost"] + b["w8"]["lost"] + b["w1"]["duplicated"] + b["w8"]["duplicated"]
        appends = b["w1"]["appends"] + b["w8"]["appends"]
        row("B3", "registry append, 1 process", f"{b['w1']['ns_per_append']:.0f} ns/append", "-", "-",
            "report", "reported")
        row("B3", "registry append, 8 processes at once",
            f"{b['w8']['ns_per_append']:.0f} ns/append (wall); "
            f"{b['w8']['ns_per_append_per_writer']:.0f} ns per writer", "-", "-", "report", "reported")
        row("B3", f"entries lost or duplicated (of {appends:,})", str(lost), "-", "-", "0",
            "meets" if lost == 0 else "MISSED")
        row("B3", "append refused by a full registry", f"{b['full_ns'] / 1e3:.1f} us", "-", "-",
            "report", "reported")
    if "B4B5" in res:
        b = res["B4B5"]
        for size in b["sizes"]:
            p = b[str(size)]
            o = p["ours"]
            target = "<= 1.5" if size == 1000 else "report"
            status = verdict(o["ratio_to_oracle"], TARGETS["B4"]) if size == 1000 else "reported"
            row("B4", f"reap of a {size:,}-process tree (`reap --grace 0`), until it exits",
                ms(o["median"]) if not o["missed"] else f"left {o['missed']} alive", f"oracle {ms(p['oracle']['median'])}",
                fmt_ratio(o["ratio_to_oracle"], p["oracle"]["samples"], o["samples"]),
                target, status)
            row("B4", "the same, until the tree's last process is dead", ms(o["all_dead_median"]),
                f"oracle {ms(p['oracle']['all_dead_median'])}",
                fmt_ratio(o["ratio_dead_to_oracle"], p["oracle"]["all_dead"], o["all_dead"]),
                "report", "reported")
            if b.get("reap_timings"):
                phases_row(row, "the same, its phases (`reap --timings`)", o)
        if "ours_grace" in b["1000"]:
            g = b["1000"]["ours_grace"]
            row("B4", "the same, default `--grace 2`, 1,000", ms(g["median"]),
                f"oracle {ms(b['1000']['oracle']['median'])}", fmt_ratio(g["ratio_to_oracle"]),
                "report", "reported")
            if b.get("reap_timings"):
                phases_row(row, "the same, its phases", g)
        if "floor" in b["1000"]:
            f, o = b["1000"]["floor"], b["1000"]["ours"]
            row("B4", "floor: `floor_kill mem`, a safe reap's reads with no kill overlapping them "
                "(list /proc; pin, stat, identity, exe, memory, SIGSTOP each; then SIGKILL), 1,000",
                ms(f["median"]) if not f["missed"] else f"left {f['missed']} alive",
                f"oracle {ms(b['1000']['oracle']['median'])}",
                fmt_ratio(f["ratio_to_oracle"], b["1000"]["oracle"]["samples"], f["samples"]),
                "report", "reported")
            row("B4", "ours (`reap --grace 0`) relative to that floor, 1,000", ms(o["median"]),
                f"floor {ms(f['median'])}", fmt_ratio(o.get("ratio_to_floor"), f["samples"], o["samples"]),
                "report", "reported")
        m1000 = b["1000"]
        floor_cpu = f", floor {ms(m1000['floor']['cpu_median'])}" if "floor" in m1000 else ""
        row("B4", "CPU the method itself used (user + system, its rusage), 1,000",
            f"ours {ms(m1000['ours']['cpu_median'])}{floor_cpu}",
            f"oracle {ms(m1000['oracle']['cpu_median'])}", "-", "report", "reported")
        if not b.get("reap_timings"):
            row("B4", "phases of the reap (scan, plan, freeze, signal, wait, dirs)",
                "not measured: this build's `reap` has no `--timings`", "-", "-", "report", "not measured")
        names = {"seed": "seed-style psutil script", "pkill_chrom": "`pkill -9 -f chrom`",
                 "pkill_chrome": "`pkill -9 -f chrome`", "oracle": "oracle", "ours": "chromereaper"}
        for size in b["sizes"]:
            p = b[str(size)]
            for m in ("seed", "pkill_chrom", "pkill_chrome"):
                x = p[m]
                measured = ms(x["median"]) if x["missed"] == 0 else f"left {x['missed']} of {size:,} alive"
                row("B5", f"{names[m]}, {size:,}-process tree", measured,
                    f"chromereaper {ms(p['ours']['median'])}",
                    fmt_ratio(x["ratio_to_ours"]) + (" (vs ours)" if x["ratio_to_ours"] else ""),
                    "report", "reported")
        left = max(b[str(s)]["ours"]["dirs_left"] for s in b["sizes"])
        row("B4", "temporary directories chromereaper left (1 per tree)", str(left), "-", "-", "0",
            "meets" if left == 0 else "MISSED")
        by = {m: max(b[str(s)][m]["bystanders_killed"] for s in b["sizes"])
              for m in ("ours", "oracle", "seed", "pkill_chrom", "pkill_chrome")}
        row("B5", f"bystanders killed (of {b['bystanders']}) by chromereaper", str(by["ours"]), "-", "-",
            "0", "meets" if by["ours"] == 0 else "MISSED")
        row("B5", "bystanders killed by seed-style / pkill chrom / pkill chrome / oracle",
            f"{by['seed']} / {by['pkill_chrom']} / {by['pkill_chrome']} / {by['oracle']}", "-", "-",
            "report", "reported")
    if "B6" in res:
        b = res["B6"]
        row("B6", "Selenium start -> first page, `chromereaper run`", ms(median(b["seconds"]["run"])),
            f"no shim {ms(median(b['seconds']['none']))}",
            fmt_ratio(b["ratio_run"], b["seconds"]["none"], b["seconds"]["run"]), "<= 1.02",
            verdict(b["ratio_run"], TARGETS["B6"]))
        row("B6", "Selenium start -> first page, LD_PRELOAD", ms(median(b["seconds"]["preload"])),
            f"no shim {ms(median(b['seconds']['none']))}",
            fmt_ratio(b["ratio_preload"], b["seconds"]["none"], b["seconds"]["preload"]), "<= 1.02",
            verdict(b["ratio_preload"], TARGETS["B6"]))
    if "B7" in res:
        b = res["B7"]
        label = {"reap": "preload, SIGKILL, then `reap --session` (as `reap --stale`)",
                 "watchdog": "preload mode, the watchdog reaps"}[b["preload_cleanup"]]
        for m, what in (("run", "`run` mode"), ("preload", label)):
            x = b[m]
            measured = ms(x["median"]) + (f" ({x['failures']} incomplete)" if x["failures"] else "")
            row("B7", f"bot SIGKILLed -> all gone, {what}, median of {len(x['samples'])}", measured,
                f"oracle {ms(b['oracle']['median'])}",
                fmt_ratio(x["ratio"], b["oracle"]["samples"], x["samples"]), "report", "reported")
    if "B8" in res:
        b = res["B8"]
        dn, de = b["delta_none"], b["delta_empty"]
        row("B8", "memory the shim adds to a process (/bin/sleep)",
            f"RSS +{dn['Rss']:g} KiB (registry pages +{dn['RssShmem']:g}), PSS +{dn['Pss']:g} KiB, "
            f"private +{dn['Private']:g} KiB",
            f"no preload RSS {b['none']['Rss']:g} KiB; vs empty preload RSS +{de['Rss']:g} KiB", "-",
            "report", "reported")
    if "B3" in res:
        b = res["B3"]
        extra = ""
        if "B7" in res and res["B7"].get("registry"):
            r7 = res["B7"]["registry"]
            extra = f"; after a Selenium session {r7['resident'] // 1024:g} KiB ({r7['records']:.0f} records)"
        row("B8", "registry at default capacity (3,072 entries of 256 B, 384 dirs of 512 B)",
            f"{b['size'] / 1024:g} KiB; in /dev/shm: fresh {b['resident_fresh'] // 1024:g} KiB{extra}; "
            f"full {b['resident_full'] // 1024:g} KiB", "-", "-", "<= 1024 KiB",
            "meets" if b["resident_full"] <= 1 << 20 else "MISSED")
    for name, err in errors.items():
        row(name, "could not be measured", err, "-", "-", "-", "ERROR")
    head = ("#", "what", "measured (median)", "compared with", "ratio (IQR)", "target", "result")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# -- plots -----------------------------------------------------------------------
def plots(res, work):
    made = []
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plots")
        return made
    if "B4B5" in res:
        b = res["B4B5"]
        dat = os.path.join(work, "reap.dat")
        cols = ["ours", "oracle", "seed", "pkill_chrom"]
        with open(dat, "w") as f:
            f.write("# size " + " ".join(f"{c}_med {c}_min {c}_max" for c in cols) + "\n")
            for size in b["sizes"]:
                vals = []
                for c in cols:
                    x = b[str(size)][c]
                    vals += [x["median"], x["min"], x["max"]]
                f.write(f"{size} " + " ".join("NaN" if v is None else f"{v * 1e3:.3f}"
                                              for v in vals) + "\n")
        out = os.path.join(RESULTS, "reap-time.png")
        script = f"""
set terminal pngcairo size 900,600 font ",11"
set output '{out}'
set title "B4/B5: time until every process of the tree is dead (median, min-max)"
set xlabel "processes in the tree"
set ylabel "milliseconds"
set logscale xy
set xrange [7:1400]
set key top left
set grid
plot '{dat}' using 1:2:3:4 with yerrorlines lw 2 title "chromereaper reap --grace 0", \\
     '' using 1:5:6:7 with yerrorlines lw 2 title "oracle: kill -KILL the exact pids, wait", \\
     '' using 1:8:9:10 with yerrorlines lw 2 title "seed-style psutil script + pkill", \\
     '' using 1:11:12:13 with yerrorlines lw 2 title "pkill -9 -f chrom"
"""
        if subprocess.run(["gnuplot"], input=script, text=True).returncode == 0:
            made.append(out)
    if "B7" in res:
        b = res["B7"]
        dat = os.path.join(work, "b7.dat")
        modes = ["run", "preload", "oracle"]
        with open(dat, "w") as f:
            for i, m in enumerate(modes):
                xs = sorted(x for x in b[m]["samples"] if x is not None)
                f.write(f"# {m}\n")
                for k, x in enumerate(xs):
                    f.write(f"{x * 1e3:.3f} {(k + 1) / len(xs):.4f}\n")
                f.write("\n\n")
        out = os.path.join(RESULTS, "b7-latency.png")
        pre = {"reap": "preload + reap --session", "watchdog": "preload + watchdog"}[b["preload_cleanup"]]
        script = f"""
set terminal pngcairo size 900,600 font ",11"
set output '{out}'
set title "B7: bot SIGKILLed -> every session process dead and temp dir removed"
set xlabel "milliseconds after the SIGKILL"
set ylabel "fraction of sessions"
set yrange [0:1.05]
set key bottom right
set grid
plot '{dat}' index 0 using 1:2 with steps lt 1 lw 2 title "chromereaper run", \\
     '' index 0 using 1:2 with points lt 1 pt 7 notitle, \\
     '' index 1 using 1:2 with steps lt 2 lw 2 title "{pre}", \\
     '' index 1 using 1:2 with points lt 2 pt 7 notitle, \\
     '' index 2 using 1:2 with steps lt 3 lw 2 title "oracle (kill -KILL exact pids, rm -rf exact dirs)", \\
     '' index 2 using 1:2 with points lt 3 pt 7 notitle
"""
        if subprocess.run(["gnuplot"], input=script, text=True).returncode == 0:
            made.append(out)
    return made


def update_doc(md):
    """docs/BENCHMARKS.md shows the last results between its markers."""
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    try:
        with open(DOC) as f:
            doc = f.read()
    except FileNotFoundError:
        return
    if begin not in doc or end not in doc:
        return
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(DOC, "w") as f:
        f.write(head + begin + "\n" + md + "\n" + end + tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--only", default="B1,B2,B3,B4,B5,B6,B7,B8")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (development only)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/BENCHMARKS.md")
    args = ap.parse_args()
    if os.getpid() == 1 or os.path.basename(os.readlink("/proc/1/exe")) != "ns_init" or not BIN:
        sys.exit("bench.py: run me through bench/run.sh (inside the bench's PID namespace)")
    only = set(args.only.upper().split(","))

    def interrupted(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    # a pidfd for every process of a 1,000-process tree, and then some
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    b = Bench(args.work, args.run_id, args.quick)
    busy_before = cpu_busy_share(1.0)
    started = time.time()
    load_start = os.getloadavg()[0]
    steps = [("B1", b.b1), ("B2", b.b2), ("B3", b.b3), ("B4", b.b4_b5), ("B6", b.b6),
             ("B7", b.b7), ("B8", b.b8)]
    for name, fn in steps:
        if name not in only and not (name == "B4" and "B5" in only):
            continue
        log(f"{name}: start")
        t = time.time()
        try:
            fn()
        except KeyboardInterrupt:
            log(f"{name}: interrupted; the sample in progress was torn down")
            return 130
        except Exception as e:  # measure what can be measured, say what could not
            b.errors[name if name != "B4" else "B4/B5"] = f"{type(e).__name__}: {e}"
            log(f"{name}: ERROR {e}")
        log(f"{name}: {time.time() - t:.0f} s")
    elapsed = time.time() - started
    md = table(b.results, b.errors)
    os.makedirs(RESULTS, exist_ok=True)
    made = plots(b.results, args.work)
    uname = os.uname()
    header = (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {uname.sysname} "
              f"{uname.release}, {os.cpu_count()} CPUs; {elapsed:.0f} s for the measurements"
              f"{' (--quick: fewer repetitions)' if args.quick else ''}; the CPUs were "
              f"{busy_before:.0%} busy in the second before it started; load average "
              f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (a 1-minute "
              f"average, which also counts the bench's own processes and what ran in the minute "
              f"before).\n"
              f"Ratios are medians of adjacent-sample ratios (interleaved runs), with their "
              f"interquartile range; "
              f"plots: {', '.join(os.path.relpath(p, ROOT) for p in made) or 'none'}.\n"
              + aa_line(b.results))
    md_full = header + "\n" + md + "\n"
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(md_full)
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump({"results": b.results, "errors": b.errors, "seconds": elapsed,
                   "quick": args.quick}, f, indent=1)
    if not args.no_doc and only >= {"B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"} and not args.quick:
        update_doc(md_full)
    print()
    print(md_full)
    return 1 if b.errors else 0


if __name__ == "__main__":
    sys.exit(main())
