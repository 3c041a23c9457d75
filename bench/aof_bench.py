#!/usr/bin/python3
"""AOF benchmark: SET throughput with appendonly yes, and BGREWRITEAOF, shoal vs redis-server.

What it is for: the `aof` section of bench/run.py (issue 13). For appendfsync everysec and
always it starts one node of each kind owning all 16384 slots with `appendonly yes` and
runs `redis-benchmark -t set -c 50 -r 100000` at -P 1 and -P 16, the two servers
alternating (BENCH_REPEAT runs each, median kept). Then, on a fresh node of each kind with
N keys (1,000,000; 200,000 with BENCH_QUICK=1), it times BGREWRITEAOF (from the command to
aof_rewrite_in_progress:0 with aof_rewrites counted) while a probe client sends SETs one at
a time, and reports the longest a probe SET waited for its reply during the rewrite
(redis-server: the fork; shoal: the workers' cut and the fork), the longest in a window as
long right after it with no rewrite (the machine's own scheduling noise), and the excess of
the first over the second: the pause the rewrite caused. Around the rewrite it
restarts each node and times its start to the first PONG on the AOF of the N SETs (an incr
file of commands) and on the rewritten AOF (an RDB base).

What it must never do: stop a process it did not start (servers are run.py Servers, stopped
by pid), report a figure it did not measure (a failure shows in its cell), or compare runs
of different sizes.

Run alone: `BENCH_ONLY=aof /usr/bin/python3 bench/run.py` (or this file, which does the same).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

POLICIES = ("everysec", "always")
# Requests per run: appendfsync always runs at the disk's fsync rate.
REQUESTS = {("everysec", 1): 200_000, ("everysec", 16): 2_000_000,
            ("always", 1): 20_000, ("always", 16): 200_000}
QUICK_REQUESTS = {("everysec", 1): 20_000, ("everysec", 16): 200_000,
                  ("always", 1): 10_000, ("always", 16): 50_000}


def _aof_args(policy):
    return ["--appendonly", "yes", "--appendfsync", policy]


def _info(rt, port):
    v = rt.resp_call(port, "INFO", "persistence", timeout=30.0)
    out = {}
    for line in (v or b"").decode(errors="replace").split("\r\n"):
        k, _, val = line.partition(":")
        out[k] = val
    return out


class FsyncTrace:
    """The fdatasync calls of one server process during one run, recorded with `perf record`
    on the syscall tracepoints (a few thousand events a second: no measurable cost), the same
    way for both servers. stop() gives (calls, seconds spent in them), or None without perf.
    perf starts with its events disabled and the constructor returns once perf has
    acknowledged enabling them (its control fifo): started with a fixed sleep, perf attached
    after the run had begun on a loaded machine (0.5 s to the ack at load 13), so the first
    fsyncs went uncounted (846 SETs per fsync with 800 in flight)."""

    EVENTS = "syscalls:sys_enter_fdatasync,syscalls:sys_exit_fdatasync"
    ACK_TIMEOUT = 30.0

    def __init__(self, srv):
        self.proc = None
        if not shutil.which("perf"):
            return
        self.dir = tempfile.mkdtemp(prefix="fsyncs.")
        self.path = os.path.join(self.dir, "perf.data")
        ctl, ack = os.path.join(self.dir, "ctl"), os.path.join(self.dir, "ack")
        os.mkfifo(ctl)
        os.mkfifo(ack)
        try:
            self.proc = subprocess.Popen(["perf", "record", "-q", "-D", "-1", "--control", f"fifo:{ctl},{ack}",
                                          "-o", self.path, "-e", self.EVENTS, "-p", str(srv.popen.pid)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        except OSError:
            self.proc = None
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        if not self._enable(ctl, ack):   # not permitted here: no figures rather than wrong ones
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            shutil.rmtree(self.dir, ignore_errors=True)

    def _enable(self, ctl, ack):
        """Tells perf to start recording; True once it acknowledged."""
        deadline = time.monotonic() + self.ACK_TIMEOUT
        # non-blocking opens: perf opens its ends when it is ready (or never, if it exited)
        ack_fd = os.open(ack, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while True:
                try:
                    ctl_fd = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        return False
                    time.sleep(0.01)
            try:
                os.write(ctl_fd, b"enable\n")
            finally:
                os.close(ctl_fd)
            got = b""
            while b"ack" not in got:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    return False
                try:
                    got += os.read(ack_fd, 64)
                except BlockingIOError:
                    pass
                time.sleep(0.01)
            return True
        finally:
            os.close(ack_fd)

    def stop(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
            out = subprocess.run(["perf", "script", "-i", self.path, "-F", "tid,time,event"],
                                 capture_output=True, text=True, timeout=120).stdout
        except (subprocess.TimeoutExpired, OSError):
            self.proc.kill()
            return None
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return fsync_totals(out)


def fsync_totals(script):
    """(calls, seconds inside fdatasync) from `perf script -F tid,time,event` lines."""
    entered, calls, secs = {}, 0, 0.0
    for line in script.splitlines():
        m = re.match(r"\s*(\d+)\s+([\d.]+):\s+syscalls:sys_(enter|exit)_fdatasync:", line)
        if not m:
            continue
        tid, t = int(m[1]), float(m[2])
        if m[3] == "enter":
            entered[tid] = t
        elif tid in entered:
            calls += 1
            secs += t - entered.pop(tid)
    return calls, secs


class FsyncFigures:
    """Sums over the runs of one server at one pipeline depth (appendfsync always)."""

    def __init__(self):
        self.calls, self.fsync_s, self.requests, self.wall_s, self.traced = 0, 0.0, 0, 0.0, 0

    def add(self, res, totals):
        if res.error or totals is None or not res.rps:
            return
        self.traced += 1
        self.calls += totals[0]
        self.fsync_s += totals[1]
        self.requests += res.requests
        self.wall_s += res.requests / res.rps

    def cells(self):
        if not self.traced or not self.calls:
            return ["-"] * 4
        return [f"{self.calls / self.wall_s:,.0f}", f"{self.requests / self.calls:.1f}",
                f"{self.fsync_s / self.calls * 1000:.3f}", f"{self.fsync_s / self.wall_s * 100:.0f}"]

    def mean_fsync_s(self):
        return self.fsync_s / self.calls if self.calls else None


def bound_cycle(in_flight, fsync_s, rps_no_aof, max_groups=16):
    """(seconds, k): the shortest time in which every request in flight can be answered once
    when the fsyncs of one file run one at a time, and the number of client groups k that
    gives it. The clients split into k groups, each answered by its own fsync; one group turns
    around while the others' fsyncs run. A cycle then lasts at least k fsyncs back to back
    (the disk), at least the turn-around of all the requests (their CPU, clients' and
    server's: in_flight / the rate without the AOF) and at least one fsync plus one group's
    own turn-around (fsync + turn-around / k). k = 1 is one fsync answering everything, the
    next starting when all are back: fsync + turn-around. Where the turn-around is shorter
    than an fsync k = 1 is the best; where it is longer, overlapping the groups' turn-arounds
    with the other groups' fsyncs is, up to the rate without the AOF."""
    if not fsync_s or not rps_no_aof:
        return None, None
    turn = in_flight / rps_no_aof
    return min((max(k * fsync_s, turn, fsync_s + turn / k), k) for k in range(1, max_groups + 1))


def bound_rps(in_flight, fsync_s, rps_no_aof, groups=None):
    """in_flight / bound_cycle: the most a server can answer with one fsync at a time on this
    disk and these clients (groups=1: the one-group bound, fsync and turn-around in series)."""
    if not fsync_s or not rps_no_aof:
        return None
    if groups:
        turn = in_flight / rps_no_aof
        return in_flight / max(groups * fsync_s, turn, fsync_s + turn / groups)
    return in_flight / bound_cycle(in_flight, fsync_s, rps_no_aof)[0]


def bound_row(depth, who, cells, args, redis_rps, rt):
    """A row of the fsync table: depth, who, the measured cells, then the 1-group bound, the
    bound over k groups, k and that bound over redis-server's rate; args: (requests in flight,
    mean fsync, rate without AOF)."""
    _, groups = bound_cycle(*args)
    return [depth, who, *cells, rt.fmt_num(bound_rps(*args, groups=1)), rt.fmt_num(bound_rps(*args)),
            str(groups or "-"), rt.fmt_ratio(bound_rps(*args), redis_rps)]


def throughput(b, rt):
    rows = []
    fsync_rows = []
    table = QUICK_REQUESTS if rt.QUICK else REQUESTS
    for policy in POLICIES:
        servers = {kind: b.server(kind, _aof_args(policy)) for kind in ("shoal", "redis")}
        # appendfsync always: the same servers without the AOF give the clients' turn-around
        plain = {kind: b.server(kind) for kind in ("shoal", "redis")} if policy == "always" else {}
        for pipeline in (1, 16):
            saved = dict(rt.REQUESTS)
            rt.REQUESTS[pipeline] = table[(policy, pipeline)]
            figs = {"shoal": FsyncFigures(), "redis": FsyncFigures()}
            no_aof = {"shoal": [], "redis": []}
            try:
                runs = {"shoal": [], "redis": []}
                for _ in range(rt.REPEAT):
                    for kind in ("shoal", "redis"):
                        trace = FsyncTrace(servers[kind]) if policy == "always" else None
                        res = rt.redis_benchmark(servers[kind], "set", pipeline)
                        runs[kind].append(res)
                        if trace:
                            figs[kind].add(res, trace.stop())
                    for kind, srv in plain.items():
                        # 10x the requests: without a disk a run is 10-20x faster, and a
                        # short one mostly measures the 50 connections' setup
                        rt.REQUESTS[pipeline] = table[(policy, pipeline)] * 10
                        no_aof[kind].append(rt.redis_benchmark(srv, "set", pipeline))
                        rt.REQUESTS[pipeline] = table[(policy, pipeline)]
            finally:
                rt.REQUESTS.clear()
                rt.REQUESTS.update(saved)
            res = {}
            for kind, rs in runs.items():
                bad = next((r for r in rs if r.error), None)
                res[kind] = bad or rt.median_result(rs)
                rt.log(f"  {kind} appendfsync {policy} SET -P {pipeline}: "
                       f"{res[kind].error or f'{res[kind].rps:,.0f} rps'}")
            rows.append([f"{policy} -P {pipeline}", rt.cell(res["shoal"], "rps"), rt.cell(res["redis"], "rps"),
                         rt.fmt_ratio(res["shoal"].rps, res["redis"].rps),
                         rt.cell(res["shoal"], "rps_per_cpu"), rt.cell(res["redis"], "rps_per_cpu"),
                         rt.fmt_ratio(res["shoal"].rps_per_cpu, res["redis"].rps_per_cpu)])
            best = []     # (mean fsync, rate without AOF) of each server, for the 'either' row
            for kind in ("shoal", "redis") if plain else ():
                plain_res = rt.median_result(no_aof[kind])
                args = (rt.CLIENTS * pipeline, figs[kind].mean_fsync_s(), None if plain_res.error else plain_res.rps)
                best.append(args[1:])
                fsync_rows.append(bound_row(f"-P {pipeline}", kind, [rt.cell(res[kind], "rps"), *figs[kind].cells(),
                                                                     rt.cell(plain_res, "rps")],
                                            args, res["redis"].rps, rt))
            if len(best) == 2 and all(f and r for f, r in best):
                # the disk's and the clients' best moments: the shorter fsync, the faster round
                args = (rt.CLIENTS * pipeline, min(f for f, _ in best), max(r for _, r in best))
                fsync_rows.append(bound_row(f"-P {pipeline}", "either", ["", "", "", f"{args[1] * 1000:.3f}", "",
                                                                         rt.fmt_num(args[2])],
                                            args, res["redis"].rps, rt))
        for srv in list(servers.values()) + list(plain.values()):
            b.stop(srv)
    b.table("SET with appendonly yes (redis-benchmark -t set -c 50 -r 100000)",
            ["appendfsync", "shoal rps", "redis rps", "ratio", "shoal rps/CPU-s", "redis rps/CPU-s", "ratio"],
            rows, ["ratio = shoal / redis; targets: everysec >= 1.0, always >= 2.0",
                   f"requests per run: {', '.join(f'{p} -P {d}: {n:,}' for (p, d), n in table.items())}; "
                   f"median of {rt.REPEAT} alternating run(s)"])
    if fsync_rows:
        b.table("appendfsync always: the fsyncs behind each server's rate (perf record of fdatasync)",
                ["-P", "server", "rps", "fsyncs/s", "SETs per fsync", "mean fsync ms", "disk busy %",
                 "rps without AOF", "1-group bound", "bound rps", "groups", "bound / redis rps"], fsync_rows,
                ["fsyncs/s, SETs per fsync, mean fsync (time inside fdatasync) and disk busy (share of the "
                 "run spent inside one) over all runs of that server, traced with perf on the "
                 "syscalls:*_fdatasync tracepoints ('-' without perf)",
                 "rps without AOF: the same server with appendonly no, alternating with the runs above: the "
                 "clients' round without a disk, turn-around = clients x P / that rate",
                 "one fsync at a time per file, as both servers run them (a journalled ext4 commits one transaction after another; this machine's ext4 has no journal and could overlap them, docs/persistence.md §3); "
                 "1-group bound = clients x P / (mean fsync + turn-around): every fsync answering every "
                 "request in flight and the next one starting the moment they are all back (fsync and "
                 "turn-around in series, as one thread that runs its fsync between its rounds has them)",
                 "bound rps = clients x P / the shortest cycle over k client groups (column groups), "
                 "max(k x fsync, turn-around, fsync + turn-around / k): one group turning around while the "
                 "others' fsyncs run; k = 1 where the turn-around is shorter than an fsync (the 1-group "
                 "bound), up to the rate without AOF where it is longer. bound / redis rps below 2.0: no "
                 "server could have reached 2x redis-server with this disk and these clients",
                 "either: the bounds with the shorter of the two mean fsyncs and the faster of the two rounds "
                 "without AOF (the disk's and the clients' best measured moments), the one that says what no "
                 "server could reach",
                 "the runs without AOF are other runs: under a load that changes between runs the bounds "
                 "are rough (they can even fall below a measured rate)",
                 f"load average at the end: {os.getloadavg()[0]:.2f}"])


class Probe(threading.Thread):
    """SETs one at a time on one connection; every wait for a reply while `window`
    (`samples`, seconds) and the longest (`worst`)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.window, self.worst, self.errors = port, False, False, 0.0, 0
        self.samples = []

    def open_window(self):
        self.worst, self.samples = 0.0, []
        self.window = True

    def p99(self):
        s = sorted(self.samples)
        return s[min(len(s) - 1, int(len(s) * 0.99))] if s else 0.0

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            n = 0
            while not self.stop:
                req = b"*3\r\n$3\r\nSET\r\n$5\r\nprobe\r\n$%d\r\n%d\r\n" % (len(str(n)), n)
                t0 = time.monotonic()
                s.sendall(req)
                buf = b""
                while not buf.endswith(b"\r\n"):
                    buf += s.recv(64)
                dt = time.monotonic() - t0
                if not buf.startswith(b"+OK"):
                    self.errors += 1
                if self.window:
                    self.samples.append(dt)
                    if dt > self.worst:
                        self.worst = dt
                n += 1


def _timed_restart(rt, srv, n):
    """Stops srv and starts it again on its files; seconds from spawn to the first PONG
    (shoal accepts no client until its AOF is loaded, redis-server answers -LOADING)."""
    srv.stop()
    with open(srv.log_path, "ab") as logf:
        t0 = time.monotonic()
        srv.popen = rt.subprocess.Popen(srv.argv(), stdout=logf, stderr=rt.subprocess.STDOUT,
                                        stdin=rt.subprocess.DEVNULL, cwd=str(srv.dir), start_new_session=True)
    deadline = t0 + (120 if rt.QUICK else 600)
    while True:
        srv.check_alive("while loading its AOF")
        try:
            if rt.resp_call(srv.port, "PING", timeout=2.0) == "PONG":
                took = time.monotonic() - t0
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise rt.BenchError(f"{srv.label}: not serving after loading its AOF")
        time.sleep(0.005)
    size = rt.resp_call(srv.port, "DBSIZE", timeout=30.0)
    if not isinstance(size, int) or size < n:
        raise rt.BenchError(f"{srv.label}: DBSIZE {size!r} after loading {n} keys")
    # not timed: a restarted cluster node takes a moment to call its state ok again
    while b"cluster_state:ok" not in (rt.resp_call(srv.port, "CLUSTER", "INFO") or b""):
        srv.check_alive("waiting for cluster_state:ok after loading")
        if time.monotonic() > deadline:
            raise rt.BenchError(f"{srv.label}: cluster_state not ok after loading its AOF")
        time.sleep(0.05)
    return took


def rewrite(b, rt):
    n = 200_000 if rt.QUICK else 1_000_000
    rows = []
    for kind in ("shoal", "redis"):
        srv = b.server(kind, _aof_args("everysec"))
        try:
            rt.pipeline_load(srv.port, (("SET", f"key:{i:07d}", f"value:{i:07d}") for i in range(n)))
            load_cmds = _timed_restart(rt, srv, n)
            rt.log(f"  {srv.label}: loaded an AOF of {n:,} SETs in {load_cmds:.2f} s")
            before = int(_info(rt, srv.port).get("aof_rewrites", "0"))
            probe = Probe(srv.port)
            probe.start()
            time.sleep(0.3)
            probe.open_window()
            t0 = time.monotonic()
            r = rt.resp_call(srv.port, "BGREWRITEAOF", timeout=30.0)
            if not str(r).startswith("Background append only file rewriting"):
                raise rt.BenchError(f"{srv.label}: BGREWRITEAOF replied {r!r}")
            deadline = t0 + (120 if rt.QUICK else 600)
            while True:
                srv.check_alive("during BGREWRITEAOF")
                i = _info(rt, srv.port)
                if i.get("aof_rewrite_in_progress") == "0" and int(i.get("aof_rewrites", "0")) > before:
                    break
                if time.monotonic() > deadline:
                    raise rt.BenchError(f"{srv.label}: BGREWRITEAOF not done in time")
                time.sleep(0.01)
            took = time.monotonic() - t0
            time.sleep(0.1)
            probe.window = False
            during, during_p99, during_n = probe.worst, probe.p99(), len(probe.samples)
            # The same probe in a window as long, with no rewrite (after it, once
            # the history files are gone): what this machine's scheduling alone
            # does to the longest SET, against which the rewrite's is read.
            time.sleep(0.5)
            probe.open_window()
            time.sleep(took + 0.1)
            probe.window = False
            quiet, quiet_p99 = probe.worst, probe.p99()
            probe.stop = True
            probe.join(10)
            status = i.get("aof_last_bgrewrite_status")
            rt.log(f"  {srv.label}: BGREWRITEAOF of {n:,} keys {took:.2f} s, longest probe SET "
                   f"{during * 1000:.1f} ms (p99 {during_p99 * 1000:.1f}, {during_n} SETs), the same window "
                   f"without a rewrite {quiet * 1000:.1f} ms (p99 {quiet_p99 * 1000:.1f}), status {status}, "
                   f"probe errors {probe.errors}")
            load_base = _timed_restart(rt, srv, n)
            rt.log(f"  {srv.label}: loaded the rewritten AOF (RDB base) in {load_base:.2f} s")
            rows.append([kind, f"{took:.2f}", f"{during * 1000:.1f}", f"{quiet * 1000:.1f}",
                         f"{max(0.0, during - quiet) * 1000:.1f}", f"{during_p99 * 1000:.1f} / {quiet_p99 * 1000:.1f}",
                         status, str(probe.errors), f"{load_cmds:.2f}", f"{load_base:.2f}"])
        except (rt.BenchError, OSError) as e:
            rows.append([kind, "failed", str(e).splitlines()[0][:60], "", "", "", "", "", "", ""])
        b.stop(srv)
    if len(rows) == 2 and rows[0][1] != "failed" and rows[1][1] != "failed":
        rows.append(["ratio", rt.fmt_ratio(float(rows[0][1]), float(rows[1][1])),
                     rt.fmt_ratio(float(rows[0][2]), float(rows[1][2])), "", "", "", "", "",
                     rt.fmt_ratio(float(rows[0][8]), float(rows[1][8])),
                     rt.fmt_ratio(float(rows[0][9]), float(rows[1][9]))])
    b.table(f"BGREWRITEAOF of {n:,} keys under a probe client (appendfsync everysec), and AOF load times",
            ["server", "rewrite s", "longest SET ms", "same, no rewrite ms", "excess ms", "p99 ms rewrite / none",
             "status", "probe errors", "load SETs s", "load base s"], rows,
            ["rewrite s: from BGREWRITEAOF to aof_rewrite_in_progress:0 (INFO polled every 10 ms)",
             "longest SET ms: the longest wait for +OK of a probe sending one SET at a time during the rewrite; "
             "same, no rewrite: the same probe over a window as long right after it (0.5 s later), which is "
             "what the machine's scheduling alone does; excess = the difference (0 when the rewrite's "
             "window was no worse): the pause the rewrite caused, the figure the 10 ms target is about",
             "load SETs s: restart to first PONG on an AOF of the n SETs (incr file); load base s: the same "
             "after the rewrite (RDB base)",
             f"load average at the end: {os.getloadavg()[0]:.2f}",
             "targets: rewrite time ratio <= 1.0, pause (excess) <= 10 ms, load ratio <= 0.5"
             + ("; BENCH_QUICK=1: 200,000 keys instead of 1,000,000" if rt.QUICK else "")])


def section(b, rt):
    throughput(b, rt)
    rewrite(b, rt)


if __name__ == "__main__":
    os.environ["BENCH_ONLY"] = "aof"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    sys.exit(run.main())
