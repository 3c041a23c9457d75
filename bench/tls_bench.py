"""TLS sections of `make bench` (bench/run.py imports this): side by side with
redis-server 7.0.15, both with TLS.

  tls_cluster      redis-benchmark --tls --cluster SET/GET at -P 1 and -P 16 against 3
                   shoal masters and 3 redis-server masters, each cluster with
                   tls-cluster yes (the bus and the client ports over TLS)
  tls_handshakes   new TLS connections per second (connect, handshake, PING, close)
                   from bench/tls_handshaker.c, without and with session resumption,
                   the server CPU each costs, which server threads spent it, and the
                   rate each server's busiest thread bounds (the projection)
  tls_gossip       the gossip flood (bench/gossip_flood.c -T) over a TLS bus against one
                   node of each kind with tls-cluster yes, next to the same flood in plain
                   text

The certificates are made with the openssl CLI in the run's temp dir
(tests/integration/tlshelpers.py, shared with the tests).

Must never: stop a process it did not start (run.py's Server does the stopping).
"""
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import tlshelpers       # noqa: E402  (the test PKI maker, one copy for tests and bench)
import redis_benchmark  # noqa: E402  (bench/ is sys.path[0] when bench/run.py runs)

def tls_args(pki, tls_port):
    return ["--tls-port", str(tls_port), "--tls-cluster", "yes", "--tls-replication", "yes",
            "--tls-cert-file", str(pki / "server.crt"), "--tls-key-file", str(pki / "server.key"),
            "--tls-ca-cert-file", str(pki / "ca.crt")]


def start_tls_cluster(b, run, pki, kind, n=3):
    """n masters with tls-cluster yes, slots split evenly, met over their TLS bus."""
    servers = []
    for _ in range(n):
        tp = run.free_port()
        srv = run.Server(kind, b.workdir, tls_args(pki, tp) + run.cluster_extra_args(kind))
        srv.tls_port = tp
        b.servers.append(srv)
        servers.append(srv.start(own_all_slots=False))
    for i, srv in enumerate(servers):
        lo, hi = 16384 * i // n, 16384 * (i + 1) // n - 1
        for cmd in (("CLUSTER", "SET-CONFIG-EPOCH", str(i + 1)), ("CLUSTER", "ADDSLOTSRANGE", str(lo), str(hi))):
            if run.resp_call(srv.port, *cmd) != "OK":
                raise run.BenchError(f"{srv.label}: {' '.join(cmd)} failed")
    for srv in servers[1:]:
        run.resp_call(srv.port, "CLUSTER", "MEET", "127.0.0.1", str(servers[0].tls_port))
    deadline = time.monotonic() + run.OK_TIMEOUT
    for srv in servers:
        while b"cluster_state:ok" not in (run.resp_call(srv.port, "CLUSTER", "INFO") or b""):
            srv.check_alive("waiting for cluster_state:ok over TLS")
            if time.monotonic() > deadline:
                raise run.BenchError(f"{srv.label}: cluster_state not ok after {run.OK_TIMEOUT}s")
            time.sleep(0.1)
    return run.ClusterGroup(kind, servers)


def tls_benchmark(run, pki, group, test, pipeline):
    """One redis-benchmark --tls --cluster run, half run.py's requests, to the first master's
    TLS port."""
    return redis_benchmark.run_once(run, group, pipeline, test=test, requests=run.REQUESTS[pipeline] // 2,
                                    port=group.servers[0].tls_port, conn_args=tlshelpers.cli_args(pki),
                                    cluster=True)


def cluster_section(b, run):
    pki = tlshelpers.make_pki(b.workdir / "pki")
    groups = {k: start_tls_cluster(b, run, pki, k) for k in ("shoal", "redis")}
    rows = []
    load0 = os.getloadavg()[0]
    for test, pipeline in run.CASES:
        # The two kinds take turns, REPEAT times, each starting every other round: the
        # client (one redis-benchmark thread) is what bounds both at -P 16, and the CPU it
        # gets on this shared machine drifts with the other jobs' load; three runs of one
        # kind and then three of the other measured that drift as a ratio.
        runs = {"shoal": [], "redis": []}
        for i in range(run.REPEAT):
            for kind in (("shoal", "redis") if i % 2 == 0 else ("redis", "shoal")):
                r = tls_benchmark(run, pki, groups[kind], test, pipeline)
                runs[kind].append(r)
                run.log(f"  {kind} TLS {test.upper()} -P {pipeline}: "
                        + (r.error or f"{r.rps:,.0f} rps, {r.rps_per_cpu or 0:,.0f} req/CPU-s"))
        res = {kind: run.median_result(v) for kind, v in runs.items()}
        s, r = res["shoal"], res["redis"]
        rows.append([f"{test.upper()} -P {pipeline}", run.cell(s, "rps"), run.cell(r, "rps"),
                     run.fmt_ratio(s.rps, r.rps), run.cell(s, "rps_per_cpu"), run.cell(r, "rps_per_cpu"),
                     run.fmt_ratio(s.rps_per_cpu, r.rps_per_cpu)])
    for g in groups.values():
        run.stop_nodes(g.servers)
    b.table("Client throughput over TLS, 3 masters (redis-benchmark --tls --cluster)",
            ["test", "shoal rps", "redis rps", "ratio", "shoal rps/CPU-s", "redis rps/CPU-s", "ratio"], rows,
            [f"-c {run.CLIENTS} -r {run.KEYSPACE}; -n {run.REQUESTS[1] // 2} at -P 1, "
             f"{run.REQUESTS[16] // 2} at -P 16; median of {run.REPEAT} run(s), shoal and redis-server taking "
             f"turns; tls-cluster yes on both; load average {load0:.1f} at the start, "
             f"{os.getloadavg()[0]:.1f} at the end, on {run.NCPU} CPUs",
             "ECDSA P-256 certificates, TLS 1.3, client certificates (tls-auth-clients yes)",
             "target: ratio >= 1.0"])


TLS_HANDSHAKER = os.environ.get("TLS_HANDSHAKER",
                                str(Path(__file__).resolve().parents[1] / "build" / "bench" / "tls_handshaker"))
HANDSHAKE_PROCS = 2          # client processes (bench/tls_handshaker.c -j)
HANDSHAKE_IN_FLIGHT = 4      # connections in flight per process (-c)
HANDSHAKE_SECONDS = 2.0 if os.environ.get("BENCH_QUICK", "") not in ("", "0") else 4.0


class Hs:
    """One measurement: conn/s, server CPU per connection (total and by thread name),
    client CPU per connection, share resumed."""

    def __init__(self, rate, n, cpu_s, threads_s, client_cpu=None, resumed=0.0):
        self.rate, self.n = rate, n
        self.cpu_us = cpu_s / n * 1e6 if n else None
        self.per_cpu = n / cpu_s if n and cpu_s else None
        self.threads_us = {k: v / n * 1e6 for k, v in threads_s.items() if v > 0} if n else {}
        self.client_us = client_cpu / n * 1e6 if n and client_cpu is not None else None
        self.resumed = resumed


def _window(srv, run_client):
    """Runs run_client() -> (conns, conn/s, client CPU s, resumed share) and measures the
    server around it: all its threads' run time, and each thread's less the time shoal's
    spent spinning for work before sleeping (run.Server.thread_seconds)."""
    cpu0, th0 = srv.cpu_seconds(), srv.thread_seconds()
    n, rate, client_cpu, resumed = run_client()
    cpu1, th1 = srv.cpu_seconds(), srv.thread_seconds()
    return Hs(rate, n, cpu1 - cpu0, {k: v - th0.get(k, 0.0) for k, v in th1.items()}, client_cpu, resumed)


def handshakes(run, pki, srv, resume):
    """bench/tls_handshaker.c: HANDSHAKE_PROCS processes, HANDSHAKE_IN_FLIGHT connections in
    flight each (connect, handshake, PING, +PONG, close)."""
    argv = [TLS_HANDSHAKER, "-p", str(srv.tls_port), "-k", str(pki), "-j", str(HANDSHAKE_PROCS),
            "-c", str(HANDSHAKE_IN_FLIGHT), "-t", str(HANDSHAKE_SECONDS)] + (["-r"] if resume else [])

    def client():
        out = subprocess.run(argv, capture_output=True, text=True, timeout=HANDSHAKE_SECONDS + 60,
                             start_new_session=True)
        kv = dict(x.split("=", 1) for x in out.stdout.split() if "=" in x)
        if out.returncode != 0 or "conns" not in kv:
            raise run.BenchError(f"tls_handshaker failed: {out.stderr.strip()[-300:]}")
        n = int(kv["conns"])
        return n, n / float(kv["seconds"]), float(kv["client_cpu"]), int(kv["resumed"]) / n if n else 0.0

    return _window(srv, client)


RECONNECT_REQUESTS = 2000


def reconnects(run, pki, srv):
    """redis-benchmark -k 0: a new connection (full handshake, no resumption) for every
    PING, from 8 connections of one C client (hiredis)."""
    argv = [run.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.tls_port), *tlshelpers.cli_args(pki),
            "-t", "ping", "-n", str(RECONNECT_REQUESTS), "-c", "8", "-k", "0", "--csv", "-q"]

    def client():
        t0 = os.times()
        out = subprocess.run(argv, capture_output=True, text=True, timeout=run.RUN_TIMEOUT,
                             start_new_session=True)
        t1 = os.times()
        rows = [r.split(",") for r in out.stdout.splitlines() if r.startswith('"PING')]
        if out.returncode != 0 or not rows:
            raise run.BenchError(f"redis-benchmark -k 0 failed: {out.stderr.strip()[-300:]}")
        # PING_INLINE and PING_MBULK: as many connections each as requests
        rate = sum(float(r[1].strip('"')) for r in rows) / len(rows)
        cpu = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
        return RECONNECT_REQUESTS * len(rows), rate, cpu, 0.0

    return _window(srv, client)


def _median(runs):
    ok = [r for r in runs if r.per_cpu]
    return sorted(ok, key=lambda r: r.per_cpu)[len(ok) // 2] if ok else runs[0]


def _threads_cell(h):
    """'worker-0 241, worker-1 240': server threads that took >= 2% of the CPU, in CPU-us
    per connection."""
    total = sum(h.threads_us.values())
    return ", ".join(f"{k} {v:,.0f}" for k, v in sorted(h.threads_us.items()) if v >= 0.02 * total) or "-"


def projection(h, kind):
    """(bound conn/s, what bounds it) with the clients on cores of their own. redis-server
    does every handshake on its main thread: 1 / (that thread's CPU per connection). shoal deals new
    TLS connections round-robin over its workers, each on a core of its own: worker w
    saturates at 1 / (w's CPU per connection, over all connections), and any other thread
    that spends CPU per connection (the serial part) bounds at 1 / (its CPU per connection);
    the lowest of these bounds."""
    if not h.threads_us:
        return None, "-"
    if kind == "redis":
        name, us = max(h.threads_us.items(), key=lambda kv: kv[1])
        return 1e6 / us, f"{name}, {us:,.0f} us/conn"
    total = sum(h.threads_us.values())
    busy = {k: v for k, v in h.threads_us.items() if v >= 0.02 * total}
    name, us = max(busy.items(), key=lambda kv: kv[1])
    workers = [k for k in busy if k.startswith("worker-")]
    return 1e6 / us, f"{name} ({us:,.0f} us/conn; {len(workers)} workers busy)"


def machine_bound(h, ncpu):
    """conn/s that clients and server sharing ncpu cores could reach at most: ncpu / (client
    + server CPU per connection)."""
    if not h.cpu_us or h.client_us is None:
        return None
    return ncpu * 1e6 / (h.cpu_us + h.client_us)


def handshake_section(b, run):
    if not (os.path.isfile(TLS_HANDSHAKER) and os.access(TLS_HANDSHAKER, os.X_OK)):
        raise run.BenchError(f"{TLS_HANDSHAKER} not built (make build/bench/tls_handshaker)")
    pki = tlshelpers.make_pki(b.workdir / "pki-hs")
    servers = {}
    for kind in ("shoal", "redis"):
        tp = run.free_port()
        srv = b.server(kind, tls_args(pki, tp))
        srv.tls_port = tp
        servers[kind] = srv
    rows, limits = [], []
    load0 = os.getloadavg()[0]
    cases = [("full handshake", lambda srv: handshakes(run, pki, srv, False)),
             ("with resumption", lambda srv: handshakes(run, pki, srv, True)),
             ("full, redis-benchmark -k 0", lambda srv: reconnects(run, pki, srv))]
    for name, measure in cases:
        # the two kinds take turns, REPEAT times, so that both see the same machine
        res = {"shoal": [], "redis": []}
        for _ in range(run.REPEAT):
            for kind in ("shoal", "redis"):
                x = measure(servers[kind])
                res[kind].append(x)
                run.log(f"  {kind} new TLS connections, {name}: {x.rate:,.0f}/s, {x.per_cpu or 0:,.0f} per "
                        f"server CPU-s, client {x.client_us or 0:,.0f} us/conn, {x.resumed:.0%} resumed, "
                        f"threads (us/conn): {_threads_cell(x)}")
        s, r = _median(res["shoal"]), _median(res["redis"])
        rows.append([name, run.fmt_num(s.rate), run.fmt_num(r.rate), run.fmt_ratio(s.rate, r.rate),
                     run.fmt_num(s.per_cpu), run.fmt_num(r.per_cpu), run.fmt_ratio(s.per_cpu, r.per_cpu),
                     f"{s.resumed:.0%} / {r.resumed:.0%}",
                     f"{s.client_us or 0:,.0f} / {r.client_us or 0:,.0f}", _threads_cell(s)])
        ps, why_s = projection(s, "shoal")
        pr, why_r = projection(r, "redis")
        limits.append([name, f"{s.cpu_us or 0:,.0f}", _threads_cell(s), run.fmt_num(ps), why_s,
                       f"{r.cpu_us or 0:,.0f}", run.fmt_num(pr), run.fmt_ratio(ps, pr),
                       f"{run.fmt_num(machine_bound(s, run.NCPU))} / {run.fmt_num(machine_bound(r, run.NCPU))}"])
    load1 = os.getloadavg()[0]
    for srv in servers.values():
        b.stop(srv)
    load = f"load average {load0:.1f} at the start, {load1:.1f} at the end, on {run.NCPU} CPUs"
    b.table("New TLS connections per second (connect, handshake, PING, close)",
            ["case", "shoal conn/s", "redis conn/s", "ratio", "shoal conn/CPU-s", "redis conn/CPU-s", "ratio",
             "resumed shoal / redis", "client CPU-us/conn shoal / redis", "shoal threads (CPU-us/conn)"], rows,
            [f"bench/tls_handshaker.c (C, OpenSSL, epoll): {HANDSHAKE_PROCS} processes x {HANDSHAKE_IN_FLIGHT} "
             f"connections in flight, {HANDSHAKE_SECONDS:g} s per run, resuming each process's latest session "
             "in the resumption row; redis-benchmark row: -t ping -c 8 -k 0, "
             f"{RECONNECT_REQUESTS} PINGs per test, each on a new connection",
             "one node each, shoal with its default worker threads; conn/CPU-s = connections / run time of "
             "all the server's threads (schedstat); by thread: each thread's run time per connection, shoal's "
             "less the time it spun for work before sleeping (INFO threads spin_us); client CPU = user+system "
             "time of the client processes",
             f"median of {run.REPEAT} alternating run(s) by conn/CPU-s; {load}",
             "the clients run on the same cores, and a client's handshake costs about as much CPU as the "
             "server's: conn/s is bounded by the machine's cores shared by both sides; conn/CPU-s is the server's "
             "figure",
             "target (issue 16): ratio >= 1.5"])
    b.table("What bounds new TLS connections per second (server CPU per connection, by thread)",
            ["case", "shoal CPU-us/conn", "shoal by thread", "shoal projected conn/s", "bound by",
             "redis CPU-us/conn", "redis projected conn/s", "ratio", "this machine's bound shoal / redis"],
            limits,
            ["projected = the rate at which the server's busiest thread would be saturated if the clients had "
             "cores of their own and each server thread a core: redis-server does every handshake on its main "
             "thread, so 1 / (that thread's CPU per connection); shoal deals new TLS connections round-robin over its "
             "worker threads, so each worker saturates at 1 / (its CPU per connection, over all connections), "
             "and any thread outside the workers that spends CPU per connection (a serial part) at 1 / (its CPU "
             "per connection): the projection is the lowest of these",
             "the per-thread CPU is measured on this machine, with the clients sharing the cores; the projection "
             "assumes it stays the same per connection with more cores, and that shoal has a core per worker "
             f"({run.NCPU} workers by default here): with W workers the worker bound grows about W-fold, "
             "redis-server's does not",
             f"this machine's bound = {run.NCPU} CPUs / (client + server CPU per connection): the most that "
             "clients and server sharing these cores could do, with nothing else running (the load average "
             "says how much else was)"])


def _flood_turns(run, servers, tls_dir):
    """FLOOD_REPEAT floods into each server, the kinds taking turns flood by flood (each
    kind first every other round), so that a change of the machine's load between two
    floods falls on both kinds alike; the median of each kind by PINGs/CPU-s."""
    kinds = list(servers)
    runs = {kind: [] for kind in kinds}
    for i in range(run.FLOOD_REPEAT):
        for kind in (kinds if i % 2 == 0 else kinds[::-1]):
            if isinstance(runs[kind], list):
                r = run.gossip_flood(servers[kind], tls_dir=tls_dir)
                runs[kind] = r if r.error else runs[kind] + [r]
    out = {}
    for kind, rs in runs.items():
        if not isinstance(rs, list):
            out[kind] = rs
            continue
        rs.sort(key=lambda r: r.per_cpu or 0)
        out[kind] = rs[len(rs) // 2]
    return out


def gossip_section(b, run):
    """The unknown-sender flood of run.py's gossip section, over a TLS bus and in plain text,
    shoal and redis-server taking turns."""
    if not (os.path.isfile(run.GOSSIP_FLOOD) and os.access(run.GOSSIP_FLOOD, os.X_OK)):
        raise run.BenchError(f"{run.GOSSIP_FLOOD} not built (make build/bench/gossip_flood)")
    pki = tlshelpers.make_pki(b.workdir / "pki-gossip")
    load = os.getloadavg()[0]
    rows = []
    for tls in (True, False):
        servers = {}
        for kind in ("redis", "shoal"):
            tp = run.free_port()
            servers[kind] = srv = b.server(kind, tls_args(pki, tp) if tls else [])
            if tls:
                srv.bus_port = tp + 10000      # tls-cluster: the bus port follows tls-port
        res = _flood_turns(run, servers, pki if tls else None)
        for kind, srv in servers.items():
            r = res[kind]
            run.log(f"  {kind} {'TLS' if tls else 'plain'} flood: "
                    + (r.error or f"{r.pps:,.0f} PINGs/s, {r.per_cpu or 0:,.0f} PINGs/CPU-s"))
            b.stop(srv)
        s, r = res["shoal"], res["redis"]
        rows.append(["TLS" if tls else "plain", run.cell(s, "pps"), run.cell(r, "pps"), run.fmt_ratio(s.pps, r.pps),
                     run.cell(s, "per_cpu"), run.cell(r, "per_cpu"), run.fmt_ratio(s.per_cpu, r.per_cpu)])
    b.table("Gossip flood over a TLS bus (unknown senders, one node, tls-cluster yes)",
            ["bus", "shoal PINGs/s", "redis PINGs/s", "ratio", "shoal PINGs/CPU-s", "redis PINGs/CPU-s", "ratio"],
            rows,
            [f"gossip_flood -T -k {run.FLOOD_CONNS} -w {run.FLOOD_WINDOW} -g {run.FLOOD_GOSSIP}: TLS 1.3 links "
             "with client certificates, handshaken before the flood; median of "
             f"{run.FLOOD_REPEAT} run(s) by PINGs/CPU-s, the two servers taking turns flood by flood; "
             f"load average {load:.1f} on {run.NCPU} CPUs at the start",
             "every PING and PONG (about 2.3 KB each) is encrypted and decrypted by both servers "
             "(TLS_AES_256_GCM_SHA384: redis-server through OpenSSL 3.0's libcrypto, shoal's bus links through "
             "its own VAES AES-GCM where the CPU has it, docs/tls.md), which narrows the gap the plain-text row shows",
             "target: ratio >= 2.0 in PINGs/CPU-s"])


def section(b, run):
    cluster_section(b, run)


def handshakes_section(b, run):
    handshake_section(b, run)


if __name__ == "__main__":
    sys.exit("run through bench/run.py (BENCH_ONLY=tls_cluster,tls_handshakes,tls_gossip)")
