#!/usr/bin/python3
"""RDB benchmark: loading a 1,000,000-key dump.rdb at start, and the longest pause a client
sees during a BGSAVE of it, shoal vs redis-server 7.0.15 in the same run.

What it is for: the `rdb` section of bench/run.py (issue 13). One dump.rdb is made by a
redis-server with `DEBUG POPULATE N` (keys key:0.., values value:0..; N = 1,000,000, or
100,000 with BENCH_QUICK=1) and SAVE. Then, alternating the two servers (shoal, redis,
shoal, redis... BENCH_REPEAT rounds, 3 by default), each is started on a copy of that file:
the load time is from spawn to the first PONG (both answer -LOADING before that, and nothing
while the process is not up yet), polled every 5 ms, next to the "DB loaded from disk"
figure of its own log. With the data loaded, one client sends GET key:1 in a loop on one
connection, for 1 s alone and then across a BGSAVE, until rdb_bgsave_in_progress is 0
again; the table gives the longest round trip during the BGSAVE (and before it, to show the
machine's own noise) and how long the BGSAVE took. Targets (issue 13): load time
shoal/redis <= 0.5.

What it must never do: stop a process it did not start (servers are run.py Servers,
stopped by pid), or report a figure it did not measure (a failure shows in its cell).

The servers run standalone (cluster-enabled no): one node holds every key.

Run alone: `BENCH_ONLY=rdb /usr/bin/python3 bench/run.py`.
"""
import os
import re
import shutil
import socket
import statistics
import threading
import time


def _make_rdb(rt, b, n):
    """A dump.rdb of n keys written by redis-server (DEBUG POPULATE + SAVE); its path."""
    srv = b.server("redis", ["--enable-debug-command", "yes"], own_all_slots=False)
    r = rt.resp_call(srv.port, "DEBUG", "POPULATE", str(n), timeout=300)
    if r != "OK":
        raise rt.BenchError(f"DEBUG POPULATE replied {r!r}")
    if rt.resp_call(srv.port, "SAVE", timeout=300) != "OK":
        raise rt.BenchError("SAVE failed")
    path = b.workdir / "rdb-bench.rdb"
    shutil.copyfile(srv.dir / "dump.rdb", path)
    b.stop(srv)
    return path


def _standalone(argv):
    """run.py's argv without cluster mode: one node holds every key, no slots to assign."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in ("--cluster-enabled", "--cluster-config-file"):
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def _start_on(rt, b, kind, rdb):
    """Starts `kind` on a copy of rdb; returns (server, seconds from spawn to PONG)."""
    srv = rt.Server(kind, b.workdir, ["--save", ""])
    b.servers.append(srv)
    shutil.copyfile(rdb, srv.dir / "dump.rdb")
    with open(srv.log_path, "wb") as logf:
        t0 = time.monotonic()
        srv.popen = rt.subprocess.Popen(_standalone(srv.argv()), stdout=logf, stderr=rt.subprocess.STDOUT,
                                        stdin=rt.subprocess.DEVNULL, cwd=str(srv.dir),
                                        start_new_session=True)
    deadline = t0 + 300
    while True:
        srv.check_alive("while loading")
        try:
            if rt.resp_call(srv.port, "PING", timeout=2.0) == "PONG":
                return srv, time.monotonic() - t0
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise rt.BenchError(f"{srv.label}: not serving 300 s after start")
        time.sleep(0.005)


def _logged_load(srv):
    m = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", srv.log_path.read_text(errors="replace"))
    return float(m[-1]) if m else None


class _Pinger(threading.Thread):
    """GET key:1 in a loop on one connection; keeps (time sent, round trip) of each."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.samples = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        req = b"*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n"
        try:
            while not self.stop.is_set():
                t0 = time.monotonic()
                self.sock.sendall(req)
                buf = b""
                while not buf.endswith(b"value:1\r\n"):
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        raise OSError("connection closed")
                    buf += chunk
                self.samples.append((t0, time.monotonic() - t0))
        except OSError as e:
            self.error = str(e)
        finally:
            self.sock.close()


def _bgsave_pause(rt, srv):
    """(longest round trip before, during the BGSAVE, the BGSAVE's duration), in ms/s."""
    p = _Pinger(srv.port)
    p.start()
    time.sleep(1.0)
    t_start = time.monotonic()
    r = rt.resp_call(srv.port, "BGSAVE", timeout=60)
    if r != "Background saving started":
        p.stop.set()
        raise rt.BenchError(f"{srv.label}: BGSAVE replied {r!r}")
    while True:
        info = rt.resp_call(srv.port, "INFO", "persistence", timeout=60)
        if b"rdb_bgsave_in_progress:0" in info:
            break
        if time.monotonic() - t_start > 300:
            raise rt.BenchError(f"{srv.label}: BGSAVE still running after 300 s")
        time.sleep(0.01)
    t_end = time.monotonic()
    time.sleep(0.2)
    p.stop.set()
    p.join(60)
    if p.error:
        raise rt.BenchError(f"{srv.label}: pinger: {p.error}")
    before = [rtt for t, rtt in p.samples if t < t_start]
    during = [rtt for t, rtt in p.samples if t_start <= t <= t_end]
    if b"rdb_last_bgsave_status:ok" not in info:
        raise rt.BenchError(f"{srv.label}: BGSAVE failed")
    return max(before) * 1000, max(during) * 1000 if during else None, t_end - t_start


def section(b, rt):
    n = 100_000 if rt.QUICK else 1_000_000
    rounds = max(3, rt.REPEAT)
    rt.log(f"rdb: making a dump.rdb of {n} keys")
    rdb = _make_rdb(rt, b, n)
    loads = {"shoal": [], "redis": []}
    logged = {"shoal": [], "redis": []}
    pauses = {"shoal": [], "redis": []}
    for r in range(rounds):
        for kind in ("shoal", "redis"):
            srv, secs = _start_on(rt, b, kind, rdb)
            dbsize = rt.resp_call(srv.port, "DBSIZE")
            if dbsize != n:
                raise rt.BenchError(f"{srv.label}: DBSIZE {dbsize} after loading {n} keys")
            loads[kind].append(secs)
            logged[kind].append(_logged_load(srv))
            rt.log(f"rdb: {kind} loaded {n} keys in {secs:.3f} s (log: {logged[kind][-1]})")
            if r == 0 or not rt.QUICK:
                pauses[kind].append(_bgsave_pause(rt, srv))
                rt.log(f"rdb: {kind} BGSAVE: max RTT before {pauses[kind][-1][0]:.1f} ms, "
                       f"during {pauses[kind][-1][1]:.1f} ms, {pauses[kind][-1][2]:.2f} s")
            b.stop(srv)
    med = {k: statistics.median(v) for k, v in loads.items()}
    medlog = {k: statistics.median([x for x in v if x is not None] or [0]) for k, v in logged.items()}
    rows = [["load to first PONG (s)", f"{med['shoal']:.3f}", f"{med['redis']:.3f}",
             rt.fmt_ratio(med["shoal"], med["redis"])],
            ["load, server's own log (s)", f"{medlog['shoal']:.3f}", f"{medlog['redis']:.3f}",
             rt.fmt_ratio(medlog["shoal"], medlog["redis"])]]
    for i, what in enumerate(["longest GET round trip before BGSAVE (ms)",
                              "longest GET round trip during BGSAVE (ms)", "BGSAVE time (s)"]):
        s = statistics.median(x[i] for x in pauses["shoal"])
        rr = statistics.median(x[i] for x in pauses["redis"])
        fmt = "{:.3f}" if i == 2 else "{:.1f}"
        rows.append([what, fmt.format(s), fmt.format(rr), rt.fmt_ratio(s, rr)])
    load = os.getloadavg()[0]
    b.table(f"rdb: dump.rdb of {n:,} keys (DEBUG POPULATE), medians of {rounds} rounds",
            ["figure", "shoal", "redis", "shoal/redis"], rows,
            [f"load average at the end: {load:.2f} on {rt.NCPU} CPUs; target: load shoal/redis <= 0.5",
             "shoal loads in parallel: main parses, each worker builds its own keys; "
             "its BGSAVE forks at the workers' cut (the pause is the cut and the fork), "
             "as redis-server forks"])


if __name__ == "__main__":
    import sys
    os.environ["BENCH_ONLY"] = "rdb"
    sys.argv[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"), {"__name__": "__main__"})
