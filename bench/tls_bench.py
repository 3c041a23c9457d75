"""TLS sections of `make bench` (bench/run.py imports this): side by side with
redis-server 7.0.15, both with TLS.

  tls_cluster      redis-benchmark --tls --cluster SET/GET at -P 1 and -P 16 against 3
                   shoal masters and 3 redis-server masters, each cluster with
                   tls-cluster yes (the bus and the client ports over TLS)
  tls_handshakes   new TLS connections per second (connect, handshake, PING, close)
                   from several client processes, without and with session resumption,
                   the server CPU each costs, and which server threads spent it
  tls_gossip       the gossip flood (bench/gossip_flood.c -T) over a TLS bus against one
                   node of each kind with tls-cluster yes, next to the same flood in plain
                   text

The certificates are made with the openssl CLI in the run's temp dir
(tests/integration/tlshelpers.py, shared with the tests).

Must never: stop a process it did not start (run.py's Server does the stopping).
"""
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import tlshelpers       # noqa: E402  (the test PKI maker, one copy for tests and bench)
import redis_benchmark  # noqa: E402  (bench/ is sys.path[0] when bench/run.py runs)

HANDSHAKE_PROCS = 4
HANDSHAKE_SECONDS = 3.0


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
    for test, pipeline in run.CASES:
        res = {}
        for kind in ("shoal", "redis"):
            runs = [tls_benchmark(run, pki, groups[kind], test, pipeline) for _ in range(run.REPEAT)]
            res[kind] = run.median_result(runs)
            r = res[kind]
            run.log(f"  {kind} TLS {test.upper()} -P {pipeline}: "
                    + (r.error or f"{r.rps:,.0f} rps, {r.rps_per_cpu or 0:,.0f} req/CPU-s"))
        s, r = res["shoal"], res["redis"]
        rows.append([f"{test.upper()} -P {pipeline}", run.cell(s, "rps"), run.cell(r, "rps"),
                     run.fmt_ratio(s.rps, r.rps), run.cell(s, "rps_per_cpu"), run.cell(r, "rps_per_cpu"),
                     run.fmt_ratio(s.rps_per_cpu, r.rps_per_cpu)])
    for g in groups.values():
        run.stop_nodes(g.servers)
    b.table("Client throughput over TLS, 3 masters (redis-benchmark --tls --cluster)",
            ["test", "shoal rps", "redis rps", "ratio", "shoal rps/CPU-s", "redis rps/CPU-s", "ratio"], rows,
            [f"-c {run.CLIENTS} -r {run.KEYSPACE}; -n {run.REQUESTS[1] // 2} at -P 1, "
             f"{run.REQUESTS[16] // 2} at -P 16; median of {run.REPEAT} run(s); tls-cluster yes on both",
             "ECDSA P-256 certificates, TLS 1.3, client certificates (tls-auth-clients yes)",
             "target: ratio >= 1.0"])


def _handshaker(port, pki, resume, seconds, q):
    ctx = tlshelpers.client_context(pki)
    session, n, reused = None, 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with ctx.wrap_socket(raw, session=session if resume else None) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                s.recv(64)                      # the reply; TLS 1.3 tickets arrive before it
                reused += s.session_reused
                if resume:
                    session = s.session
        n += 1
    q.put((n, reused))


def thread_cpu(pid):
    """{thread name: CPU-seconds so far} of every thread of pid (/proc/<pid>/task/*/stat)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            st = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(f[11]) + int(f[12])) / tick
    return out


def busy_threads(before, after):
    """'worker-0 52%, worker-1 48%': the threads that took >= 5% of the CPU between two
    thread_cpu() samples."""
    d = {k: after[k] - before.get(k, 0.0) for k in after}
    total = sum(v for v in d.values() if v > 0)
    if not total:
        return "-"
    return ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(d.items()) if v / total >= 0.05)


def handshakes(run, pki, srv, resume):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_handshaker, args=(srv.tls_port, pki, resume, HANDSHAKE_SECONDS, q))
             for _ in range(HANDSHAKE_PROCS)]
    th0 = thread_cpu(srv.popen.pid)
    cpu0 = srv.cpu_seconds()
    t0 = time.monotonic()
    for p in procs:
        p.start()
    got = [q.get(timeout=HANDSHAKE_SECONDS + 30) for _ in procs]
    for p in procs:
        p.join()
    wall = time.monotonic() - t0
    cpu = srv.cpu_seconds() - cpu0
    threads = busy_threads(th0, thread_cpu(srv.popen.pid))
    n = sum(g[0] for g in got)
    reused = sum(g[1] for g in got)
    return n / wall, (n / cpu if cpu else None), reused / n if n else 0.0, threads


RECONNECT_REQUESTS = 2000


def reconnects(run, pki, srv):
    """redis-benchmark -k 0: a new connection (full handshake, no resumption) for every
    PING, from 8 connections of one C client. Same result shape as handshakes()."""
    argv = [run.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.tls_port), *tlshelpers.cli_args(pki),
            "-t", "ping", "-n", str(RECONNECT_REQUESTS), "-c", "8", "-k", "0", "--csv", "-q"]
    th0 = thread_cpu(srv.popen.pid)
    cpu0 = srv.cpu_seconds()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=run.RUN_TIMEOUT,
                             start_new_session=True)
    except subprocess.TimeoutExpired:
        return 0.0, None, 0.0, "timeout"
    cpu = srv.cpu_seconds() - cpu0
    threads = busy_threads(th0, thread_cpu(srv.popen.pid))
    rows = [r.split(",") for r in out.stdout.splitlines() if r.startswith('"PING')]
    if out.returncode != 0 or not rows:
        return 0.0, None, 0.0, "failed"
    # PING_INLINE and PING_MBULK: as many connections each as requests
    rate = sum(float(r[1].strip('"')) for r in rows) / len(rows)
    n = RECONNECT_REQUESTS * len(rows)
    return rate, (n / cpu if cpu else None), 0.0, threads


def handshake_section(b, run):
    pki = tlshelpers.make_pki(b.workdir / "pki-hs")
    servers = {}
    for kind in ("shoal", "redis"):
        tp = run.free_port()
        srv = b.server(kind, tls_args(pki, tp))
        srv.tls_port = tp
        servers[kind] = srv
    rows = []
    load = os.getloadavg()[0]
    cases = [("full handshake", lambda srv: handshakes(run, pki, srv, False)),
             ("with resumption", lambda srv: handshakes(run, pki, srv, True)),
             ("full, C client (redis-benchmark -k 0)", lambda srv: reconnects(run, pki, srv))]
    for name, measure in cases:
        # the two kinds take turns, REPEAT times, so that both see the same machine
        res = {"shoal": [], "redis": []}
        for _ in range(run.REPEAT):
            for kind in ("shoal", "redis"):
                res[kind].append(measure(servers[kind]))
                x = res[kind][-1]
                run.log(f"  {kind} new TLS connections, {name}: {x[0]:,.0f}/s, "
                        f"{x[1] or 0:,.0f} per CPU-s, {x[2]:.0%} resumed, threads: {x[3]}")
        s, r = (sorted(res[k], key=lambda x: x[1] or 0)[len(res[k]) // 2] for k in ("shoal", "redis"))
        rows.append([name, run.fmt_num(s[0]), run.fmt_num(r[0]),
                     run.fmt_ratio(s[0], r[0]), run.fmt_num(s[1]), run.fmt_num(r[1]), run.fmt_ratio(s[1], r[1]),
                     f"{s[2]:.0%} / {r[2]:.0%}", s[3]])
    for srv in servers.values():
        b.stop(srv)
    b.table("New TLS connections per second (connect, handshake, PING, close)",
            ["case", "shoal conn/s", "redis conn/s", "ratio", "shoal conn/CPU-s", "redis conn/CPU-s", "ratio",
             "resumed shoal / redis", "shoal threads (CPU share)"], rows,
            [f"{HANDSHAKE_PROCS} Python client processes for {HANDSHAKE_SECONDS:g} s each; one node each, "
             "shoal with its default worker threads (each does its own connections' handshakes); "
             f"C-client row: redis-benchmark -t ping -c 8 -k 0, {RECONNECT_REQUESTS} PINGs per test, "
             "each on a new connection (no resumption); "
             f"median of {run.REPEAT} alternating run(s) by conn/CPU-s; load average {load:.1f} on "
             f"{run.NCPU} CPUs at the start",
             "the clients' handshakes cost about as much CPU as the server's and run on this same "
             "machine: with clients and server sharing the CPUs, conn/s is bounded by the clients and "
             "conn/CPU-s (server CPU per connection) says more",
             "target: ratio >= 1.5"])


def _flood(run, srv, tls_dir):
    runs = []
    for _ in range(run.FLOOD_REPEAT):
        r = run.gossip_flood(srv, tls_dir=tls_dir)
        if r.error:
            return r
        runs.append(r)
    runs.sort(key=lambda r: r.per_cpu or 0)
    return runs[len(runs) // 2]


def gossip_section(b, run):
    """The unknown-sender flood of run.py's gossip section, over a TLS bus and in plain text,
    shoal and redis-server taking turns."""
    if not (os.path.isfile(run.GOSSIP_FLOOD) and os.access(run.GOSSIP_FLOOD, os.X_OK)):
        raise run.BenchError(f"{run.GOSSIP_FLOOD} not built (make build/bench/gossip_flood)")
    pki = tlshelpers.make_pki(b.workdir / "pki-gossip")
    load = os.getloadavg()[0]
    rows = []
    for tls in (True, False):
        res = {}
        for kind in ("redis", "shoal"):
            tp = run.free_port()
            srv = b.server(kind, tls_args(pki, tp) if tls else [])
            if tls:
                srv.bus_port = tp + 10000      # tls-cluster: the bus port follows tls-port
            res[kind] = _flood(run, srv, pki if tls else None)
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
             f"{run.FLOOD_REPEAT} run(s) by PINGs/CPU-s; load average {load:.1f} on {run.NCPU} CPUs at the start",
             "every PING and PONG (about 2.3 KB each) is encrypted and decrypted by both servers alike "
             "(AES-GCM in the same libcrypto), which narrows the gap the plain-text row shows",
             "target: ratio >= 2.0 in PINGs/CPU-s"])


def section(b, run):
    cluster_section(b, run)


def handshakes_section(b, run):
    handshake_section(b, run)


if __name__ == "__main__":
    sys.exit("run through bench/run.py (BENCH_ONLY=tls_cluster,tls_handshakes,tls_gossip)")
