#!/usr/bin/python3
"""Replication benchmark: full sync and steady-state writes with a replica, shoal vs redis.

What it is for: the `replication` section of bench/run.py (replication speed). For each kind
(redis-server 7.0.15, then shoal) it starts a master that owns all 16384 slots and an empty
replica, fills the master with N small keys (redis-cli --pipe; 1 M, 100 k with
BENCH_QUICK=1), MEETs the replica to it, and times a full sync: from CLUSTER REPLICATE until
the replica's master_link_status is up and its DBSIZE equals the master's. It reports the
peak RSS (VmHWM from /proc/<pid>/status) of master and replica. With the replica attached it
then runs `redis-benchmark -P 16 -t set -r 100000` against the master and reports requests/s
and how long the replica took afterwards to reach the master's offset. Both masters get
`repl-diskless-sync-delay 0` so that neither waits 5 s for more replicas.

What it must never do: stop a process it did not start (servers are run.py Servers, stopped
by pid), report a figure it did not measure (a failure or timeout shows in its cell), or
compare runs of different sizes.

Run alone: `BENCH_ONLY=replication /usr/bin/python3 bench/run.py` (or this file, which does
the same).
"""
import os
import shutil
import subprocess
import sys
import time

REDIS_CLI = os.environ.get("REDIS_CLI", shutil.which("redis-cli") or "redis-cli")


class _Ctx:
    """What the section uses from run.py (passed in, so that this file has no import cycle)."""

    def __init__(self, rt):
        self.rt = rt
        self.quick = rt.QUICK
        self.keys = 100_000 if rt.QUICK else 1_000_000
        self.steady_requests = 200_000 if rt.QUICK else 1_000_000
        self.sync_timeout = 120 if rt.QUICK else 300
        self.log = rt.log


def _info(rt, port, section="replication"):
    v = rt.resp_call(port, "INFO", section)
    if not isinstance(v, bytes):
        raise rt.BenchError(f"INFO {section} on :{port} replied {v!r}")
    out = {}
    for line in v.decode(errors="replace").split("\r\n"):
        if line and not line.startswith("#"):
            k, _, val = line.partition(":")
            out[k] = val
    return out


def _vm(pid, field):
    """A Vm* field of /proc/<pid>/status in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def _fill(ctx, srv, n):
    """n SETs of 10-byte values to distinct keys through `redis-cli --pipe`."""
    rt = ctx.rt
    path = srv.dir / "fill.resp"
    with open(path, "wb") as f:
        step = 100_000
        for base in range(0, n, step):
            f.write(b"".join(b"*3\r\n$3\r\nSET\r\n$12\r\nfill:%07d\r\n$10\r\nval%07d\r\n" % (i, i)
                             for i in range(base, min(n, base + step))))
    with open(path, "rb") as f:
        out = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.port), "--pipe"],
                             stdin=f, capture_output=True, text=True, timeout=ctx.sync_timeout)
    path.unlink()
    if out.returncode != 0 or "errors: 0" not in out.stdout:
        raise rt.BenchError(f"{srv.label}: redis-cli --pipe failed: {out.stdout[-200:]}"
                            f"{out.stderr[-200:]}")
    got = rt.resp_call(srv.port, "DBSIZE")
    if got != n + 1:          # + bench:probe, written by Server.start
        raise rt.BenchError(f"{srv.label}: DBSIZE {got} after filling {n} keys")
    return got


def _myid(rt, port):
    v = rt.resp_call(port, "CLUSTER", "MYID")
    if not isinstance(v, bytes):
        raise rt.BenchError(f"CLUSTER MYID on :{port}: {v!r}")
    return v.decode()


def _knows(rt, viewer_port, node_id):
    v = rt.resp_call(viewer_port, "CLUSTER", "NODES")
    for line in (v or b"").decode(errors="replace").splitlines():
        f = line.split()
        if f and f[0] == node_id:
            return "handshake" not in f[2] and "noaddr" not in f[2]
    return False


def _poll(rt, pred, timeout, what, servers):
    deadline = time.monotonic() + timeout
    while True:
        for s in servers:
            s.check_alive(f"while waiting for {what}")
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise rt.BenchError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def full_sync(ctx, b, kind):
    """Returns a dict of figures (or raises BenchError); leaves master and replica running
    in res['servers'] for the steady-state run."""
    rt = ctx.rt
    master = b.server(kind)
    replica = b.server(kind, own_all_slots=False)
    r = rt.resp_call(master.port, "CONFIG", "SET", "repl-diskless-sync-delay", "0")
    if r != "OK":
        raise rt.BenchError(f"{master.label}: CONFIG SET repl-diskless-sync-delay 0: {r!r}")
    t = time.monotonic()
    n = _fill(ctx, master, ctx.keys)
    ctx.log(f"  {kind}: {n} keys in the master after {time.monotonic() - t:.1f} s")
    mid, rid = _myid(rt, master.port), _myid(rt, replica.port)
    r = rt.resp_call(replica.port, "CLUSTER", "MEET", "127.0.0.1", str(master.port))
    if r != "OK":
        raise rt.BenchError(f"{replica.label}: CLUSTER MEET {r!r}")
    _poll(rt, lambda: _knows(rt, replica.port, mid) and _knows(rt, master.port, rid), 30,
          "MEET", (master, replica))
    master_rss0 = _vm(master.popen.pid, "VmRSS")

    t0 = time.monotonic()
    r = rt.resp_call(replica.port, "CLUSTER", "REPLICATE", mid)
    if r != "OK":
        raise rt.BenchError(f"{replica.label}: CLUSTER REPLICATE {r!r}")

    def synced():
        if _info(rt, replica.port).get("master_link_status") != "up":
            return False
        return rt.resp_call(replica.port, "DBSIZE") == n
    _poll(rt, synced, ctx.sync_timeout, f"{replica.label} synced with {n} keys",
          (master, replica))
    secs = time.monotonic() - t0
    res = {
        "sync_s": secs,
        "master_rss0": master_rss0,
        "master_hwm": _vm(master.popen.pid, "VmHWM"),
        "replica_hwm": _vm(replica.popen.pid, "VmHWM"),
        "servers": (master, replica),
    }
    ctx.log(f"  {kind}: full sync of {n} keys in {secs:.2f} s; VmHWM master "
            f"{res['master_hwm']:.0f} MiB (RSS {master_rss0:.0f} before), replica "
            f"{res['replica_hwm']:.0f} MiB")
    return res


STEADY_REPEAT = 1 if os.environ.get("BENCH_QUICK") else 3


def steady_state(ctx, master, replica):
    """redis-benchmark -P 16 SET against the master with the replica attached; then the time
    until the replica's offset reaches the master's. Returns (rps, catch_up_ms)."""
    rt = ctx.rt
    argv = [rt.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(master.port), "-t", "set",
            "-n", str(ctx.steady_requests), "-c", str(rt.CLIENTS), "-P", "16",
            "-r", "100000", "--csv", "-q"]
    runs = []
    for _ in range(STEADY_REPEAT):   # median of a few runs: one run is noisy on a shared machine
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=rt.RUN_TIMEOUT,
                                 start_new_session=True)
        except subprocess.TimeoutExpired:
            raise rt.BenchError(f"redis-benchmark timeout>{rt.RUN_TIMEOUT}s") from None
        t_end = time.monotonic()
        master.check_alive("after redis-benchmark")
        rows = [r.split(",") for r in out.stdout.splitlines()]
        row = next((r for r in rows if r and r[0].strip('"').upper() == "SET"), None)
        if out.returncode != 0 or row is None:
            raise rt.BenchError(f"redis-benchmark failed: {(out.stderr or out.stdout)[-200:]}")
        runs.append(float(row[1].strip('"')))
    rps = sorted(runs)[len(runs) // 2]

    def caught_up():
        m = int(_info(rt, master.port).get("master_repl_offset", "0"))
        r = int(_info(rt, replica.port).get("slave_repl_offset", "-1"))
        return m > 0 and m == r
    _poll(rt, caught_up, 120, f"{replica.label} reaching the master's offset", (master, replica))
    catch_up = (time.monotonic() - t_end) * 1000
    ctx.log(f"  {master.kind}: SET -P 16 with a replica: {rps:,.0f} rps; replica caught up "
            f"{catch_up:.0f} ms after the run")
    return rps, catch_up


def replication(b, rt):
    ctx = _Ctx(rt)
    res = {}
    for kind in ("redis", "shoal"):
        try:
            r = full_sync(ctx, b, kind)
            try:
                r["rps"], r["catch_up"] = steady_state(ctx, *r["servers"])
            except rt.BenchError as e:
                r["steady_error"] = str(e).splitlines()[0][:160]
                ctx.log(f"  {kind} steady state: {e}")
            res[kind] = r
        except rt.BenchError as e:
            res[kind] = {"error": str(e).splitlines()[0][:160]}
            ctx.log(f"  {kind}: {e}")
        finally:
            for srv in list(b.servers):
                b.stop(srv)

    def c(kind, key, fmt):
        r = res[kind]
        if "error" in r:
            return "failed (see below)" if key == "sync_s" else "-"
        if key in ("rps", "catch_up") and "steady_error" in r:
            return "failed (see below)" if key == "rps" else "-"
        return fmt.format(r[key])

    def ratio(key):
        a, z = res["shoal"].get(key), res["redis"].get(key)
        return rt.fmt_ratio(a, z)
    rows = [
        [f"full sync of {ctx.keys:,} keys (s)", c("shoal", "sync_s", "{:.2f}"),
         c("redis", "sync_s", "{:.2f}"), ratio("sync_s")],
        ["master RSS before the sync (MiB)", c("shoal", "master_rss0", "{:.0f}"),
         c("redis", "master_rss0", "{:.0f}"), ratio("master_rss0")],
        ["master peak RSS, VmHWM (MiB)", c("shoal", "master_hwm", "{:.0f}"),
         c("redis", "master_hwm", "{:.0f}"), ratio("master_hwm")],
        ["replica peak RSS, VmHWM (MiB)", c("shoal", "replica_hwm", "{:.0f}"),
         c("redis", "replica_hwm", "{:.0f}"), ratio("replica_hwm")],
        ["SET -P 16 with one replica (rps)", c("shoal", "rps", "{:,.0f}"),
         c("redis", "rps", "{:,.0f}"), ratio("rps")],
        ["replica at the master's offset after the run (ms)",
         c("shoal", "catch_up", "{:.0f}"), c("redis", "catch_up", "{:.0f}"), "-"],
    ]
    errors = [f"{kind}: {res[kind].get('error') or res[kind].get('steady_error')}"
              for kind in ("shoal", "redis")
              if res[kind].get("error") or res[kind].get("steady_error")]
    b.table("Replication (master owning all slots + one replica, same kind)",
            ["", "shoal", "redis", "ratio"], rows,
            errors + [f"full sync: {ctx.keys:,} keys fill:NNNNNNN -> 10-byte values loaded with "
             "redis-cli --pipe; time from CLUSTER REPLICATE until master_link_status:up and "
             "equal DBSIZE; repl-diskless-sync-delay 0 on both masters",
             "VmHWM = peak RSS since the process started (the master's includes the fill); "
             "redis-server's forked RDB child is not counted",
             f"steady state: redis-benchmark -t set -P 16 -c {rt.CLIENTS} -r 100000 "
             f"-n {ctx.steady_requests:,} against the master, replica attached; median of "
             f"{STEADY_REPEAT} run(s)",
             "offset after the run: polled (INFO on both, ~20 ms apart), so 0-30 ms means "
             "'already there'",
             "ratio = shoal / redis; targets: sync time <= 1.00, SET rps >= 1.00; one run each, "
             "noisy on a shared machine"])


if __name__ == "__main__":
    os.environ["BENCH_ONLY"] = "replication"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    sys.exit(run.main())
