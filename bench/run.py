#!/usr/bin/python3
"""shoal benchmarks, side by side with redis-server 7.0.15 in one run (`make bench`).

What it is for: starting shoal-node and redis-server on free loopback ports, driving them
with the same real client tools, measuring client throughput and the server CPU time each
request costs, the cluster bus (PING throughput with bench/gossip_flood.c, convergence time
after CLUSTER MEET, idle cost of a 30-node cluster), and printing every result as one set of
tables at the end. Each section is a function added to SECTIONS; the failover drills
(bench/drill.py) plug in the same way.

What it must never do: stop a process it did not start (everything is stopped by the pid
we got from Popen, also on errors and Ctrl-C), bind outside 127.0.0.1, or report a number
it did not measure (a failed or timed-out run shows as such in the table).

Environment:
  BENCH_QUICK=1      small request counts (a smoke run of a few seconds)
  BENCH_REPEAT=k     run each cell k times and report the median (default 1)
  BENCH_KEYSPACE=r   redis-benchmark -r (random keys over r values; default 100000)
  SHOAL_NODE, REDIS_SERVER, REDIS_BENCHMARK   binaries (defaults: bin/shoal-node, PATH)
  BENCH_KEEP=1       keep the temp directory with the server logs
  BENCH_ONLY=a,b     run only the named sections (e.g. gossip,serial,convergence,idle_cost,
                     cluster_cost,replication,reshard,drill,client_throughput_cluster,
                     types_throughput,types_memory,aof,pubsub,maxmemory,scripting,tls_cluster,
                     tls_handshakes,tls_gossip)
  BENCH_PUBSUB=a,b   the pubsub section's tables to run: fanout (1 node), shard (SPUBLISH),
                     cluster (6 nodes); default all three
  BENCH_CLUSTER_WORKERS=k   --worker-threads of each shoal master in the 3-master sections
                     and in pubsub's 6-node table
  CLUSTER_SIM        the cluster simulator binary (default build/bench/cluster_sim)
  BENCH_COST_SIZES   cluster sizes of the cluster_cost section (default 100,300,1000; even)
  GOSSIP_FLOOD       the flooder binary (default build/bench/gossip_flood)
"""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis_benchmark as rbench     # bench/ is sys.path[0] when this file runs as a script
import resp_wire

REPO = Path(__file__).resolve().parents[1]
SHOAL_NODE = os.environ.get("SHOAL_NODE", str(REPO / "bin" / "shoal-node"))
REDIS_SERVER = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "redis-server")
REDIS_BENCHMARK = os.environ.get("REDIS_BENCHMARK",
                                 shutil.which("redis-benchmark") or "redis-benchmark")

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "1")))
KEYSPACE = int(os.environ.get("BENCH_KEYSPACE", "100000"))
# Requests per redis-benchmark run, by pipeline depth: a few seconds each on a small machine.
REQUESTS = {1: 20000, 16: 200000} if QUICK else {1: 200000, 16: 2000000}
CLIENTS = 50
RUN_TIMEOUT = 120 if QUICK else 600     # seconds for one redis-benchmark run
START_TIMEOUT = 15.0
OK_TIMEOUT = 30.0
NCPU = os.cpu_count() or 1

# Client ports stay below 22768 so that the bus port (+10000) stays below 32768.
PORT_LOW, PORT_HIGH = 20000, 22700


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------

def _bindable(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_ports_used = set()


def free_port():
    """A client port P such that P and its bus port P+10000 are both bindable now."""
    for _ in range(2000):
        p = random.randint(PORT_LOW, PORT_HIGH)
        if p not in _ports_used and _bindable(p) and _bindable(p + 10000):
            _ports_used.add(p)
            return p
    raise BenchError("no free loopback port pair")


def resp_call(port, *args, timeout=5.0):
    """Sends one command and returns the reply: str for +/-, int, bytes, list, or None.
    Errors come back as a str starting with '-' so callers can show them as they are."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(resp_wire.encode(args))
        return resp_wire.read_reply(s.makefile("rb"))


class Server:
    """One shoal-node or redis-server process this script started (by default owning all
    16384 slots, so that a cluster-unaware client can use it)."""

    def __init__(self, kind, workdir, extra_args=()):
        self.kind = kind
        self.port = free_port()
        self.dir = Path(workdir) / f"{kind}-{self.port}"
        self.dir.mkdir(parents=True)
        self.extra_args = list(extra_args)
        self.log_path = self.dir / "server.log"
        self.popen = None

    def argv(self):
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                  "--cluster-config-file", "nodes.conf", "--dir", str(self.dir),
                  "--logfile", "", "--daemonize", "no"]
        if self.kind == "shoal":
            # no save points, as redis-server below: stopping a node writes no dump.rdb
            return [SHOAL_NODE] + common + ["--save", ""] + self.extra_args
        return [REDIS_SERVER] + common + ["--save", "", "--appendonly", "no"] + self.extra_args

    @property
    def label(self):
        return f"{self.kind} {' '.join(self.extra_args)}".strip() + f" :{self.port}"

    def start(self, own_all_slots=True):
        with open(self.log_path, "wb") as logf:
            # A new session: a Ctrl-C in the terminal reaches only us, and we stop the
            # servers in order instead of racing them.
            self.popen = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=str(self.dir),
                                          start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self.check_alive("during startup")
            try:
                if resp_call(self.port, "PING", timeout=1.0) == "PONG":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{self.label} not answering PING after {START_TIMEOUT}s\n"
                                 + self.log_tail())
            time.sleep(0.05)
        if not own_all_slots:
            return self
        r = resp_call(self.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        if r != "OK":
            raise BenchError(f"{self.label}: CLUSTER ADDSLOTSRANGE replied {r!r}")
        deadline = time.monotonic() + OK_TIMEOUT
        while b"cluster_state:ok" not in (resp_call(self.port, "CLUSTER", "INFO") or b""):
            self.check_alive("waiting for cluster_state:ok")
            if time.monotonic() > deadline:
                raise BenchError(f"{self.label}: cluster_state not ok after {OK_TIMEOUT}s")
            time.sleep(0.1)
        # A benchmark that only measured error replies would be worthless: check one round trip.
        if resp_call(self.port, "SET", "bench:probe", "v") != "OK" or \
                resp_call(self.port, "GET", "bench:probe") != b"v":
            raise BenchError(f"{self.label}: SET/GET round trip failed")
        return self

    def check_alive(self, when):
        if self.popen.poll() is not None:
            raise BenchError(f"{self.label} exited with code {self.popen.returncode} {when}\n"
                             + self.log_tail())

    def log_tail(self, n=20):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def cpu_seconds(self):
        """Run time of all the process's threads (schedstat, see run_ns), in seconds."""
        return run_ns(self.popen.pid) / 1e9

    def thread_seconds(self):
        """{thread name: run time in seconds} (thread_run_ns), for shoal less the time each
        thread spun waiting for work before it slept (INFO threads spin lines), which a
        thread with a core of its own would have spent asleep."""
        spent = {name: ns / 1e9 for name, ns in thread_run_ns(self.popen.pid).items()}
        for name, us in (shoal_spin_us(self.port) if self.kind == "shoal" else {}).items():
            if name in spent:
                spent[name] -= us / 1e6
        return spent

    def stop(self):
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log(f"{self.label} (pid {self.popen.pid}) ignored SIGTERM for 5 s; SIGKILL")
            self.popen.kill()
            self.popen.wait()


class Bench:
    """The run's context: temp dir, the servers it started, and the report tables."""

    def __init__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="shoal-bench."))
        self.servers = []
        self.tables = []

    def server(self, kind, extra_args=(), own_all_slots=True):
        """Starts a "shoal" or "redis" node; it is stopped when the section ends."""
        srv = Server(kind, self.workdir, extra_args)
        self.servers.append(srv)      # registered before start so a failed start is stopped
        log(f"starting {srv.label}")
        return srv.start(own_all_slots)

    def stop(self, srv):
        srv.stop()

    def close(self):
        for srv in self.servers:
            srv.stop()
        if os.environ.get("BENCH_KEEP", "") not in ("", "0"):
            log(f"server logs kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def table(self, title, header, rows, notes=()):
        self.tables.append((title, header, rows, list(notes)))


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------

class Result:
    """One redis-benchmark run: client-side rps and server CPU seconds, or why it failed."""

    def __init__(self, rps=None, requests=0, cpu=None, error=None, wakes=None, client_cpu=None,
                 threads=None):
        self.rps, self.requests, self.cpu, self.error = rps, requests, cpu, error
        self.wakes = wakes      # shoal: worker wake requests (INFO threads wake_sends) per request
        self.client_cpu = client_cpu    # redis-benchmark's own CPU seconds (when asked for)
        self.threads = threads          # {thread: CPU seconds less spinning} (when asked for)

    @property
    def rps_per_cpu(self):
        if self.rps is None or not self.cpu:
            return None
        return self.requests / self.cpu


def redis_benchmark(srv, test, pipeline):
    """One redis-benchmark -t test run against srv (a Server, or a ClusterGroup with
    --cluster; bench/redis_benchmark.py) and, for shoal, its workers' wake requests per request."""
    srv.check_alive("before the run")
    wakes0 = worker_wake_sends(srv)
    r = rbench.run_once(sys.modules[__name__], srv, pipeline, test=test, cluster=isinstance(srv, ClusterGroup))
    if r.error:
        return r
    wakes1 = worker_wake_sends(srv)
    r.wakes = None if wakes0 is None or wakes1 is None else (wakes1 - wakes0) / r.requests
    return r


def worker_wake_sends(srv):
    """Sum over shoal's worker threads of wake requests made to them (INFO threads, a
    shoal-only section: each is at most one eventfd write), over every node of a
    ClusterGroup; None for redis-server."""
    if srv.kind != "shoal":
        return None
    total = 0
    for port in getattr(srv, "ports", [srv.port]):
        text = resp_call(port, "INFO", "threads")
        text = text.decode() if isinstance(text, bytes) else str(text)
        total += sum(int(m) for m in re.findall(r"name=worker-\d+,.*?wake_sends=(\d+)", text))
    return total


def measure(srv, test, pipeline, repeat=None):
    """Median of `repeat` (default REPEAT) runs by rps; a failure in any run makes the cell
    a failure."""
    runs = []
    for _ in range(REPEAT if repeat is None else repeat):
        r = redis_benchmark(srv, test, pipeline)
        if r.error:
            log(f"  {srv.label} {test} -P {pipeline}: {r.error}")
            return r
        runs.append(r)
    runs.sort(key=lambda r: r.rps)
    r = runs[len(runs) // 2]
    log(f"  {srv.label} {test.upper()} -P {pipeline}: {r.rps:,.0f} rps, "
        f"{r.cpu:.2f} server CPU-s, {r.rps_per_cpu or 0:,.0f} req/CPU-s")
    return r


def fmt_num(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_ratio(a, b):
    return "-" if a is None or b in (None, 0) else f"{a / b:.2f}"


def cell(r, attr):
    return r.error if r.error else fmt_num(getattr(r, attr))


# ---------------------------------------------------------------------------------------
# Sections: each takes the Bench, starts what it needs, and adds tables.
# ---------------------------------------------------------------------------------------

CASES = [("set", 1), ("get", 1), ("set", 16), ("get", 16)]


THROUGHPUT_HEADER = ["test", "shoal rps", "redis rps", "ratio", "shoal rps/CPU-s",
                     "redis rps/CPU-s", "ratio", "shoal wake-ups/req"]


def throughput_rows(shoal, redis):
    """One row per case; with BENCH_REPEAT > 1 the runs of the two servers alternate
    (shoal, redis, shoal, redis...) so that a change in machine load hits both."""
    rows = []
    for test, pipeline in CASES:
        runs = {"shoal": [], "redis": []}
        for _ in range(REPEAT):
            for srv in (shoal, redis):
                runs[srv.kind].append(measure(srv, test, pipeline, repeat=1))
        s, r = median_result(runs["shoal"]), median_result(runs["redis"])
        rows.append([f"{test.upper()} -P {pipeline}",
                     cell(s, "rps"), cell(r, "rps"), fmt_ratio(s.rps, r.rps),
                     cell(s, "rps_per_cpu"), cell(r, "rps_per_cpu"),
                     fmt_ratio(s.rps_per_cpu, r.rps_per_cpu),
                     "-" if s.wakes is None else f"{s.wakes:.3f}"])
    return rows


def median_result(runs):
    """The run with the median rps; a failed run makes the cell a failure."""
    bad = next((r for r in runs if r.error), None)
    if bad:
        return bad
    runs = sorted(runs, key=lambda r: r.rps)
    return runs[len(runs) // 2]


def client_throughput(b):
    """redis-benchmark SET/GET against one shoal-node and one redis-server, both owning all
    slots. Runs alternate between the two servers so that a change in machine load hits both."""
    shoal = b.server("shoal")
    redis = b.server("redis")
    rows = throughput_rows(shoal, redis)
    b.stop(shoal)
    b.stop(redis)
    b.table("Client throughput (redis-benchmark, one node owning all slots)",
            THROUGHPUT_HEADER, rows,
            [f"-c {CLIENTS} -r {KEYSPACE}; -n {REQUESTS[1]} at -P 1, {REQUESTS[16]} at -P 16; "
             f"median of {REPEAT} run(s); shoal with its default worker threads ({NCPU} CPUs)",
             "rps/CPU-s = requests / server CPU seconds (run time of all its threads, schedstat) "
             "during the run; "
             "ratio = shoal / redis",
             "redis-benchmark runs on the same machine and takes CPU too: on a small machine "
             "rps/CPU-s says more than rps",
             "wake-ups/req = wake requests to shoal's workers (INFO threads wake_sends; each at most "
             "one eventfd write; a worker that spins before sleeping needs none, nor does a command "
             "run on a sleeping worker's keyspace by borrowing it) per request"])


class ClusterGroup:
    """The masters of one cluster, measured as one server: CPU is the sum over the nodes,
    redis-benchmark --cluster starts from the first node and finds the others."""

    def __init__(self, kind, servers):
        self.kind, self.servers = kind, servers
        self.ports = [srv.port for srv in servers]
        self.port = self.ports[0]

    @property
    def label(self):
        return f"{self.kind} x{len(self.servers)} :{self.port}"

    @property
    def popen(self):
        """The first node that exited, else any (redis_benchmark asks popen.poll())."""
        return next((srv.popen for srv in self.servers if srv.popen.poll() is not None),
                    self.servers[0].popen)

    def check_alive(self, when):
        for srv in self.servers:
            srv.check_alive(when)

    def cpu_seconds(self):
        return sum(srv.cpu_seconds() for srv in self.servers)

    def thread_seconds(self):
        """Server.thread_seconds of every node, the names prefixed with the node's index
        when there is more than one node."""
        if len(self.servers) == 1:
            return self.servers[0].thread_seconds()
        return {f"n{i} {name}": sec for i, srv in enumerate(self.servers)
                for name, sec in srv.thread_seconds().items()}


CLUSTER_MASTERS = 3


def cluster_extra_args(kind):
    """BENCH_CLUSTER_WORKERS=k gives each shoal master of the cluster sections k worker
    threads (default: one per CPU, as for one node per machine; 3 nodes sharing this
    machine's cores oversubscribe them, where redis-server runs one thread per node)."""
    workers = os.environ.get("BENCH_CLUSTER_WORKERS", "")
    return ["--worker-threads", workers] if kind == "shoal" and workers else []


def start_cluster(b, kind, n=CLUSTER_MASTERS, ranges=None):
    """n masters as `redis-cli --cluster create` makes them: node i gets config epoch i+1
    and the i-th of n equal slot ranges (or ranges[i], inclusive (lo, hi), when given; None:
    no slots); a full mesh of MEETs; ready when every node says cluster_state:ok and a
    SET/GET through each node's own slot works."""
    if ranges is None:
        ranges = [(16384 * i // n, 16384 * (i + 1) // n - 1) for i in range(n)]
    servers = start_nodes(b, kind, n, cluster_extra_args(kind))
    for i, srv in enumerate(servers):
        cmds = [("CLUSTER", "SET-CONFIG-EPOCH", str(i + 1))]
        if ranges[i]:
            cmds.append(("CLUSTER", "ADDSLOTSRANGE", str(ranges[i][0]), str(ranges[i][1])))
        for cmd in cmds:
            r = resp_call(srv.port, *cmd)
            if r != "OK":
                raise BenchError(f"{srv.label}: {' '.join(cmd)} replied {r!r}")
    took, err = meet_and_converge(servers, OK_TIMEOUT, mesh=True)
    if err:
        raise BenchError(f"{kind} cluster: {err}")
    deadline = time.monotonic() + OK_TIMEOUT
    for srv in servers:
        while b"cluster_state:ok" not in (resp_call(srv.port, "CLUSTER", "INFO") or b""):
            srv.check_alive("waiting for cluster_state:ok")
            if time.monotonic() > deadline:
                raise BenchError(f"{srv.label}: cluster_state not ok after {OK_TIMEOUT}s")
            time.sleep(0.1)
    for i, srv in enumerate(servers):
        if not ranges[i]:
            continue
        # a key whose slot this node serves (the benchmark must not measure MOVED replies)
        key = next(f"bench:probe:{k}" for k in range(100000)
                   if ranges[i][0] <= key_slot(f"bench:probe:{k}".encode()) <= ranges[i][1])
        if resp_call(srv.port, "SET", key, "v") != "OK" or resp_call(srv.port, "GET", key) != b"v":
            raise BenchError(f"{srv.label}: SET/GET round trip failed")
    return ClusterGroup(kind, servers)


key_slot = resp_wire.key_slot


def client_throughput_cluster(b):
    """The same cases against 3 shoal masters and 3 redis-server masters (a cluster each),
    with redis-benchmark --cluster, alternating between the two clusters."""
    shoal = start_cluster(b, "shoal")
    redis = start_cluster(b, "redis")
    rows = throughput_rows(shoal, redis)
    stop_nodes(shoal.servers)
    stop_nodes(redis.servers)
    b.table(f"Client throughput, {CLUSTER_MASTERS} masters (redis-benchmark --cluster)",
            THROUGHPUT_HEADER, rows,
            [f"-c {CLIENTS} -r {KEYSPACE} --cluster (the clients are spread over the masters); "
             f"-n {REQUESTS[1]} at -P 1, {REQUESTS[16]} at -P 16; median of {REPEAT} run(s)",
             f"{CLUSTER_MASTERS} masters per cluster on this one machine, as redis-cli --cluster "
             "create lays them out; CPU is the sum over the masters",
             "shoal masters: " + (" ".join(cluster_extra_args("shoal")) or
                                  f"default worker threads ({NCPU} CPUs)"),
             "columns as in the table above"])


# types_throughput and types_memory: the data-type commands of issue 11 (lists, sets, hashes,
# sorted sets) against 3 masters, and the memory a loaded dataset costs, both side by side
# with redis-server.

TYPES_TESTS = ["lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "zadd", "zpopmin",
               "lrange_100"]


def types_benchmark(group, test, pipeline):
    """One redis-benchmark --cluster run of one type test (bench/redis_benchmark.py).
    lrange_100's run holds an 'LPUSH (needed to benchmark LRANGE)' fill whose server CPU
    falls inside the same run."""
    r = rbench.run_once(sys.modules[__name__], group, pipeline, test=test, cluster=True)
    if not r.error:
        log(f"  {group.label} {test.upper()} -P {pipeline}: {r.rps:,.0f} rps, {r.cpu:.2f} server "
            f"CPU-s, {r.rps_per_cpu or 0:,.0f} req/CPU-s")
    return r


def types_throughput(b):
    """redis-benchmark --cluster over the type tests at -P 16 and -P 1 against 3 shoal
    masters and 3 redis-server masters, alternating between the two clusters per run."""
    shoal = start_cluster(b, "shoal")
    redis = start_cluster(b, "redis")
    rows = []
    for pipeline in (16, 1):
        for test in TYPES_TESTS:
            runs = {"shoal": [], "redis": []}
            for _ in range(REPEAT):
                for grp in (shoal, redis):
                    runs[grp.kind].append(types_benchmark(grp, test, pipeline))
            s, r = median_result(runs["shoal"]), median_result(runs["redis"])
            rows.append([f"{test.upper()} -P {pipeline}",
                         cell(s, "rps"), cell(r, "rps"), fmt_ratio(s.rps, r.rps),
                         cell(s, "rps_per_cpu"), cell(r, "rps_per_cpu"),
                         fmt_ratio(s.rps_per_cpu, r.rps_per_cpu)])
    stop_nodes(shoal.servers)
    stop_nodes(redis.servers)
    b.table(f"Data-type throughput, {CLUSTER_MASTERS} masters (redis-benchmark --cluster)",
            THROUGHPUT_HEADER[:-1], rows,
            [f"-c {CLIENTS} -r {KEYSPACE} --cluster; -n {REQUESTS[1]} at -P 1, "
             f"{REQUESTS[16]} at -P 16; median of {REPEAT} run(s); one redis-benchmark run "
             "per test, the two clusters alternating",
             "rps/CPU-s = requests / CPU seconds of the 3 masters (schedstat) during the run; "
             "LRANGE_100's run also holds redis-benchmark's LPUSH fill (same -n), so its "
             "rps/CPU-s is per LRANGE but the CPU includes the fill, on both servers",
             "ratio = shoal / redis; target (issue 11): rps ratio >= 1.00 for every test; rps/CPU-s is the cost per request"])


def _mem_scale(n):
    return max(1, n // 10) if QUICK else n


def _types_datasets():
    """(name, what, number of commands, generator of commands): each dataset is loaded into
    a fresh node owning all slots."""
    nh, ns, nz, nl, nk = (_mem_scale(1_000_000), _mem_scale(100_000), _mem_scale(100_000),
                          _mem_scale(10_000_000), _mem_scale(1_000_000))
    fields = [x for j in range(10) for x in (f"f{j}".encode(), f"v{j}".encode())]
    ints = [str(j).encode() for j in range(100)]
    zpairs = [x for j in range(100) for x in (str(j).encode(), f"member:{j}".encode())]
    chunk = 1000

    def hashes():
        for i in range(nh):
            yield [b"HSET", f"hash:{i}".encode()] + fields

    def sets():
        for i in range(ns):
            yield [b"SADD", f"set:{i}".encode()] + ints

    def zsets():
        for i in range(nz):
            yield [b"ZADD", f"zset:{i}".encode()] + zpairs

    def biglist():
        for lo in range(0, nl, chunk):
            yield [b"RPUSH", b"list:big"] + [str(x).encode() for x in range(lo, min(nl, lo + chunk))]

    def strings():
        for i in range(nk):
            yield [b"SET", f"key:{i}".encode(), f"value:{i}".encode()]

    return [("hashes", f"{nh:,} hashes of 10 fields", hashes),
            ("sets", f"{ns:,} sets of 100 integers", sets),
            ("zsets", f"{nz:,} sorted sets of 100 members", zsets),
            ("list", f"1 list of {nl:,} elements", biglist),
            ("strings", f"{nk:,} string keys", strings)]


def pipeline_load(port, commands, batch=2000, timeout=120.0):
    """Sends commands over one connection, batch at a time, and reads every reply (each one
    line: +OK or :n). Returns the number of commands; BenchError on an error reply."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        it = iter(commands)
        while True:
            cmds = [c for _, c in zip(range(batch), it)]
            if not cmds:
                return sent
            s.sendall(b"".join(resp_wire.encode(c) for c in cmds))
            want, buf = len(cmds), b""
            while buf.count(b"\r\n") < want:
                data = s.recv(1 << 20)
                if not data:
                    raise BenchError(f":{port} closed the connection while loading")
                buf += data
            if b"\r\n-" in b"\r\n" + buf:
                err = next(line for line in buf.split(b"\r\n") if line.startswith(b"-"))
                raise BenchError(f":{port} replied {err[:80]!r} while loading")
            sent += want


def types_memory(b):
    """RSS growth of one node owning all slots (VmRSS after loading minus before), shoal and
    redis-server, each dataset on a fresh server."""
    rows = []
    for name, what, gen in _types_datasets():
        growth = {}
        for kind in ("shoal", "redis"):
            srv = b.server(kind)
            before = rss_kib(srv.popen.pid)
            t0 = time.monotonic()
            try:
                n = pipeline_load(srv.port, gen())
                time.sleep(0.5)     # let deferred frees/settles show in the RSS
                srv.check_alive("after loading")
                growth[kind] = (rss_kib(srv.popen.pid) - before) / 1024
                log(f"  {srv.label} {name}: {n:,} commands in {time.monotonic() - t0:.1f} s, "
                    f"RSS +{growth[kind]:,.1f} MB")
            except (BenchError, OSError) as e:
                growth[kind] = None
                log(f"  {srv.label} {name}: {e}")
            b.stop(srv)
        fmt = lambda v: "failed" if v is None else f"{v:,.1f}"  # noqa: E731
        rows.append([what, fmt(growth["shoal"]), fmt(growth["redis"]),
                     fmt_ratio(growth["shoal"], growth["redis"])])
    b.table("Memory per data type (RSS growth after loading, one node owning all slots)",
            ["dataset", "shoal MB", "redis MB", "ratio"], rows,
            ["MB = VmRSS after loading minus VmRSS before (a fresh server per dataset and "
             "server), loaded over one connection with pipelined RESP (2000 commands per batch)",
             "hashes: HSET hash:i f0 v0 .. f9 v9; sets: SADD set:i 0..99; sorted sets: ZADD "
             "zset:i j member:j (j < 100); list: RPUSH of 0..n-1, 1000 per command; strings: SET "
             "key:i value:i" + ("; BENCH_QUICK=1: datasets 10x smaller" if QUICK else ""),
             "ratio = shoal / redis; target <= 1.00 for each"])


def thread_scaling(b):
    """shoal at -P 16 with 1, 2, 4... worker threads (up to the CPU count, at least 2)."""
    counts = [1, 2]
    while counts[-1] * 2 <= NCPU:
        counts.append(counts[-1] * 2)
    rows = []
    base = {}
    for threads in counts:
        srv = b.server("shoal", ["--worker-threads", str(threads)])
        res = {t: measure(srv, t, 16) for t in ("set", "get")}
        b.stop(srv)
        row = [str(threads)]
        for t in ("set", "get"):
            r = res[t]
            if threads == counts[0]:
                base[t] = r.rps
            row += [cell(r, "rps"), fmt_ratio(r.rps, base.get(t)), cell(r, "rps_per_cpu")]
        rows.append(row)
    b.table("shoal worker threads (redis-benchmark -P 16)",
            ["threads", "SET rps", "vs 1 thread", "SET rps/CPU-s",
             "GET rps", "vs 1 thread", "GET rps/CPU-s"], rows,
            [f"{NCPU} CPUs on this machine, shared with redis-benchmark (one client thread)"])


# ---------------------------------------------------------------------------------------
# Cluster bus sections: gossip throughput, convergence, idle cost
# ---------------------------------------------------------------------------------------

GOSSIP_FLOOD = os.environ.get("GOSSIP_FLOOD", str(REPO / "build" / "bench" / "gossip_flood"))
FLOOD_CONNS, FLOOD_WINDOW, FLOOD_GOSSIP = 32, 16, 3
FLOOD_SECONDS, FLOOD_WARMUP = (2.0, 0.5) if QUICK else (5.0, 1.0)
# A flood run is short and its figure swings with thread scheduling on a small machine:
# a full run takes the median of 3 unless BENCH_REPEAT asks for more.
FLOOD_REPEAT = REPEAT if QUICK else max(3, REPEAT)
CONVERGE_SIZES = [10] if QUICK else [10, 30, 60]
CONVERGE_TIMEOUT = 30.0 if QUICK else 90.0   # seconds from the first MEET
NODE_TIMEOUT_MS = 15000
IDLE_NODES = 30
IDLE_SECONDS = 5.0 if QUICK else 10.0
IDLE_SETTLE = 2.0                             # after convergence, before measuring


class FloodResult:
    """One gossip_flood run: PONGs/s, server CPU-seconds, PINGs per CPU-second, or why not;
    threads: CPU-seconds of the server's threads in the same window, by thread name."""

    def __init__(self, pps=None, per_cpu=None, cpu=None, seconds=None, error=None,
                 threads=None):
        self.pps, self.per_cpu, self.cpu, self.seconds, self.error = \
            pps, per_cpu, cpu, seconds, error
        self.threads = threads or {}

    @property
    def cpu_util(self):
        """Server CPUs busy on average during the window (1.00 = one core)."""
        return None if self.cpu is None or not self.seconds else self.cpu / self.seconds

    def thread_share(self, name):
        """The named thread's share of all the server's thread CPU time (0..1), or None."""
        total = sum(self.threads.values())
        return None if not total or name not in self.threads else self.threads[name] / total


def parse_thread_cpu(text):
    """'state:1.2,worker-0:0.8' -> {'state': 1.2, 'worker-0': 0.8}"""
    out = {}
    for item in text.split(","):
        name, _, secs = item.rpartition(":")
        if name:
            out[name] = out.get(name, 0.0) + float(secs)
    return out


def gossip_flood(srv, members=False, k=FLOOD_CONNS, window=FLOOD_WINDOW, gossip=FLOOD_GOSSIP,
                 tls_dir=None):
    """Runs the flooder against srv's bus port; the flooder reads the server's CPU time
    (whole process, and per thread) itself at both ends of the counted window. members:
    the fake peers join srv's cluster first (MEET, connect-back, PONG), so the flood comes
    from known senders. tls_dir: the links are TLS (srv.bus_port, a tls-cluster node)."""
    argv = [GOSSIP_FLOOD, "-h", "127.0.0.1", "-p", str(getattr(srv, "bus_port", srv.port + 10000)),
            "-k", str(k), "-w", str(window), "-g", str(gossip),
            "-t", str(FLOOD_SECONDS), "-W", str(FLOOD_WARMUP), "-P", str(srv.popen.pid)]
    if members:
        argv.append("-m")
    if tls_dir:
        argv += ["-T", str(tls_dir)]
    srv.check_alive("before the flood")
    try:
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=FLOOD_SECONDS + FLOOD_WARMUP + 45, start_new_session=True)
    except subprocess.TimeoutExpired:
        return FloodResult(error="flooder timed out")
    if srv.popen.poll() is not None:
        return FloodResult(error=f"server died (exit {srv.popen.returncode})")
    kv = dict(f.split("=", 1) for f in out.stdout.split() if "=" in f)
    if out.returncode != 0 or "pongs_per_sec" not in kv:
        msg = [line for line in out.stderr.strip().splitlines() if line]
        return FloodResult(error=f"failed: {msg[-1] if msg else out.returncode}")
    cpu = float(kv.get("server_cpu", -1))
    return FloodResult(pps=float(kv["pongs_per_sec"]),
                       per_cpu=float(kv["pings_per_cpu_sec"]) if cpu > 0 else None,
                       cpu=cpu if cpu >= 0 else None, seconds=float(kv["seconds"]),
                       threads=parse_thread_cpu(kv.get("thread_cpu", "")))


def flood_measure(b, kind, extra_args=(), members=False, **flood_args):
    """Median of FLOOD_REPEAT flooder runs (by PINGs per CPU-second). With unknown senders
    one server takes every run; with members each run gets a fresh server, since the
    peers of a run stay in its node table (and would fail there) after the run.
    flood_args: k, window, gossip for gossip_flood()."""
    runs = []
    srv = None
    label = f"{kind} {' '.join(extra_args)}".strip() + (" members" if members else "")
    if flood_args.get("k"):
        label += f" K={flood_args['k']}"
    try:
        for _ in range(FLOOD_REPEAT):
            if srv is None or members:
                if srv is not None:
                    b.stop(srv)
                srv = b.server(kind, list(extra_args))
            r = gossip_flood(srv, members, **flood_args)
            if r.error:
                log(f"  {label} flood: {r.error}")
                if srv.popen.poll() is not None or "closed" in r.error:
                    log(srv.log_tail(10))
                return r
            runs.append(r)
    finally:
        if srv is not None:
            b.stop(srv)
    runs.sort(key=lambda r: r.per_cpu or 0)
    r = runs[len(runs) // 2]
    log(f"  {label} flood: {r.pps:,.0f} PINGs/s, {r.cpu_util or 0:.2f} server CPUs, "
        f"{r.per_cpu or 0:,.0f} PINGs/CPU-s"
        + (f" (runs: {', '.join(f'{x.per_cpu or 0:,.0f}' for x in runs)})" if len(runs) > 1
           else ""))
    return r


def fmt_util(r):
    return r.error if r.error else ("-" if r.cpu_util is None else f"{r.cpu_util:.2f}")


SENDERS = [(False, "unknown"), (True, "members")]


def gossip(b):
    """Bus PING throughput: redis-server and shoal-node, each one node owning all slots,
    flooded by gossip_flood with K fake peers, first as unknown senders, then as members of
    the node's cluster; then shoal with 1 and 2 threads saturated."""
    if not (os.path.isfile(GOSSIP_FLOOD) and os.access(GOSSIP_FLOOD, os.X_OK)):
        raise BenchError(f"{GOSSIP_FLOOD} not built (make build/bench/gossip_flood)")
    rows = []
    for members, senders in SENDERS:
        r = flood_measure(b, "redis", members=members)
        s = flood_measure(b, "shoal", members=members)
        rows += [[senders, "redis-server", cell(r, "pps"), fmt_util(r), cell(r, "per_cpu")],
                 [senders, "shoal", cell(s, "pps"), fmt_util(s), cell(s, "per_cpu")],
                 [senders, "ratio shoal/redis", fmt_ratio(s.pps, r.pps),
                  fmt_ratio(s.cpu_util, r.cpu_util), fmt_ratio(s.per_cpu, r.per_cpu)]]
    b.table(f"Gossip throughput (bus PINGs from {FLOOD_CONNS} fake peers, one node)",
            ["senders", "server", "PINGs/s", "server CPUs", "PINGs/CPU-s"], rows,
            [f"gossip_flood -k {FLOOD_CONNS} -w {FLOOD_WINDOW} -g {FLOOD_GOSSIP}: "
             f"{FLOOD_CONNS} links, {FLOOD_WINDOW} PINGs in flight each, {FLOOD_GOSSIP} gossip "
             f"entries per PING; {FLOOD_SECONDS:g} s counted after {FLOOD_WARMUP:g} s warm-up; "
             f"median of {FLOOD_REPEAT} run(s)",
             "unknown: random sender names the node has never met; it only answers with a PONG "
             "(docs/cluster-bus.md §5.2 step 5.3) and ignores the gossip",
             "members: each fake peer first joins the node's cluster (MEET, the node connects "
             "back, PONG), so every PING runs the whole pipeline (epochs, pong times, gossip "
             "about the other peers); the flooder answers the node's own PINGs",
             "PINGs/CPU-s = PONGs received / server CPU time (all threads, schedstat) in the "
             "same window; server CPUs = CPU-seconds per second; "
             "target: shoal/redis >= 2.0 in PINGs/CPU-s",
             f"the flooder (one thread) shares the machine's {NCPU} CPUs with the server"])

    rows = []
    for members, senders in SENDERS:
        base = None
        for threads in (1, 2):
            res = flood_measure(b, "shoal", ["--worker-threads", str(threads)], members)
            if threads == 1:
                base = res.pps
            rows.append([senders, str(threads), cell(res, "pps"), fmt_ratio(res.pps, base),
                         fmt_util(res), cell(res, "per_cpu")])
    b.table("shoal bus threads, saturated (same floods)",
            ["senders", "threads", "PINGs/s", "vs 1 thread", "server CPUs", "PINGs/CPU-s"],
            rows,
            [f"--worker-threads 1 and 2; {NCPU} CPUs on this machine, one of them busy with "
             "the flooder, so 2 threads can only show growth if the server is not starved"])


# How serial the bus work is (targets: f <= 5 %, S(64) >= 15x, shoal/redis >= 2.0 in PINGs per
# CPU-second): member floods with K = 32 and K = 200 peers, gossip sized as 7.0.15
# sizes it for a cluster of K + 1 nodes; window chosen so that K x W stays near 500-800 PINGs
# in flight (a 200-peer node with 16 each would mostly measure its socket buffers).
SERIAL_CASES = [(32, 16), (200, 4)]
SERIAL_THREADS = (8, 16, 64)


def amdahl(f, n):
    """Speed-up on n threads of a load whose serial fraction is f (Amdahl's law)."""
    return 1.0 / (f + (1.0 - f) / n)


def redis_gossip_wanted(nodes):
    """Gossip entries 7.0.15's clusterSendPing wants in a PING of a cluster of `nodes`
    nodes: a tenth of them, at least 3, at most the nodes other than sender and receiver."""
    return min(max(3, nodes // 10), nodes - 2)


def serial(b):
    """Member PING floods with K fake peers: PINGs/s and PINGs per server CPU-second for
    shoal and redis-server, and shoal's serial fraction (the state thread's share of the
    node's CPU) with what Amdahl's law makes of it on 8, 16 and 64 threads."""
    if not (os.path.isfile(GOSSIP_FLOOD) and os.access(GOSSIP_FLOOD, os.X_OK)):
        raise BenchError(f"{GOSSIP_FLOOD} not built (make build/bench/gossip_flood)")
    rows, threads_rows = [], []
    for k, window in SERIAL_CASES:
        g = redis_gossip_wanted(k + 1)
        args = dict(k=k, window=window, gossip=g)
        r = flood_measure(b, "redis", members=True, **args)
        s = flood_measure(b, "shoal", members=True, **args)
        f = None if s.error else s.thread_share("state")
        rows.append([str(k), str(g), cell(s, "pps"), cell(r, "pps"), cell(s, "per_cpu"),
                     cell(r, "per_cpu"), fmt_ratio(s.per_cpu, r.per_cpu),
                     "-" if f is None else f"{f * 100:.1f} %"] +
                    ["-" if f is None else f"{amdahl(f, n):.1f}x" for n in SERIAL_THREADS])
        for kind, res in (("shoal", s), ("redis", r)):
            total = sum(res.threads.values())
            if res.error or not total:
                continue
            top = sorted(res.threads.items(), key=lambda kv: -kv[1])
            threads_rows.append([str(k), kind, f"{total / res.seconds:.2f}",
                                 ", ".join(f"{name} {secs / total * 100:.1f} %"
                                           for name, secs in top if secs / total >= 0.005)])
        if f is not None:
            log(f"  K={k}: state thread {f * 100:.1f} % of shoal's CPU, "
                f"projected {amdahl(f, 64):.1f}x at 64 threads")
    b.table("Serial fraction (member PING flood, state thread's share of shoal's CPU)",
            ["K", "gossip", "shoal PINGs/s", "redis PINGs/s", "shoal PINGs/CPU-s",
             "redis PINGs/CPU-s", "ratio", "f (state)"] +
            [f"S({n})" for n in SERIAL_THREADS], rows,
            [f"gossip_flood -m -k K -g max(3, (K+1)/10) (as 7.0.15 sizes a PING's gossip in a "
             f"cluster of K+1 nodes, entries picked at random among the other nodes), -w "
             f"{'/'.join(str(w) for _, w in SERIAL_CASES)}; {FLOOD_SECONDS:g} s counted after "
             f"{FLOOD_WARMUP:g} s warm-up; median of {FLOOD_REPEAT} run(s) by PINGs/CPU-s",
             "f = CPU time of shoal's `state` thread / CPU time of all its threads in the "
             "counted window (/proc/<pid>/task/*/schedstat); S(n) = 1/(f + (1-f)/n), the "
             "speed-up Amdahl's law allows on n threads if the rest scales perfectly",
             "targets: f <= 5 % (S(64) >= 15x), shoal/redis >= 2.0 in "
             "PINGs/CPU-s",
             f"{NCPU} CPUs shared with the flooder (and with whatever else runs on the machine)"])
    b.table("Server threads during the member floods (share of each server's CPU)",
            ["K", "server", "CPUs", "threads"], threads_rows,
            ["CPUs = CPU-seconds per second of all the server's threads in the counted window"])


RespConn = resp_wire.Conn


def start_nodes(b, kind, n, extra_args=()):
    """Starts n nodes without slots, all at once, and waits until each answers PING."""
    import concurrent.futures
    servers = []
    for _ in range(n):
        srv = Server(kind, b.workdir, extra_args)
        b.servers.append(srv)          # registered first so a failed start is stopped
        servers.append(srv)
    log(f"starting {n} {kind} nodes")
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        for f in [pool.submit(srv.start, False) for srv in servers]:
            f.result()                 # re-raises a BenchError from any start
    return servers


def stop_nodes(servers):
    """SIGTERM to all first, then wait for each (Server.stop), so n nodes stop in parallel."""
    for srv in servers:
        if srv.popen is not None and srv.popen.poll() is None:
            srv.popen.send_signal(signal.SIGTERM)
    for srv in servers:
        srv.stop()


def node_view(nodes_text, n):
    """(records listed, records in handshake) from a CLUSTER NODES reply."""
    lines = [ln for ln in nodes_text.decode(errors="replace").splitlines() if ln.strip()]
    handshake = sum(1 for ln in lines if len(ln.split()) > 2 and
                    "handshake" in ln.split()[2].split(","))
    return len(lines), handshake


def meet_and_converge(servers, timeout, mesh=False, node_times=None):
    """MEETs every node to node 0 (mesh: every node i to every node j > i, which makes an
    idle cluster converge in a second or two) and polls CLUSTER NODES until each node lists
    all len(servers) nodes with none in handshake. Returns (seconds from the first MEET
    until the last node got there, None) or (None, why not); node_times, if given, is a
    list that receives each node's own time."""
    n = len(servers)
    conns = [RespConn(srv.port) for srv in servers]
    try:
        t0 = time.monotonic()
        meets = [(i, j) for i in range(n) for j in range(i + 1, n)] if mesh else \
            [(i, 0) for i in range(1, n)]
        for i, j in meets:             # pipelined: all MEETs leave before any reply is read
            conns[i].send("CLUSTER", "MEET", "127.0.0.1", str(servers[j].port))
        for i, _ in meets:
            r = conns[i].reply()
            if r != "OK":
                return None, f"MEET on {servers[i].label}: {r!r}"[:120]
        pending = set(range(n))
        last = {}
        while pending:
            # one CLUSTER NODES per pending node per round, all sent before any is read
            order = sorted(pending)
            for i in order:
                conns[i].send("CLUSTER", "NODES")
            now = time.monotonic()
            for i in order:
                r = conns[i].reply()
                if not isinstance(r, bytes):
                    return None, f"CLUSTER NODES on {servers[i].label}: {r!r}"[:120]
                last[i] = node_view(r, n)
                if last[i] == (n, 0):
                    pending.discard(i)
                    if node_times is not None:
                        node_times.append(now - t0)
            if not pending:
                return now - t0, None
            for i in order:
                servers[i].check_alive("while converging")
            if time.monotonic() - t0 > timeout:
                worst = min(pending, key=lambda i: last[i][0] - last[i][1])
                return None, (f"timeout>{timeout:g}s: {len(pending)}/{n} nodes not there, "
                              f"worst knows {last[worst][0]} ({last[worst][1]} handshake)")
            time.sleep(0.02)
        return time.monotonic() - t0, None
    finally:
        for c in conns:
            c.close()


def converge_args():
    return ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]


def convergence(b):
    """N empty nodes, each MEETed only to node 0: time until every node knows all N."""
    rows = []
    for n in CONVERGE_SIZES:
        res = {}
        for kind in ("redis", "shoal"):
            servers = start_nodes(b, kind, n, converge_args())
            times = []
            try:
                secs, err = meet_and_converge(servers, CONVERGE_TIMEOUT, node_times=times)
            finally:
                stop_nodes(servers)
            times.sort()
            median = times[len(times) // 2] if times else None
            log(f"  {kind} N={n}: " + (f"{secs:.2f} s (median node {median:.2f} s)"
                                       if err is None else err))
            res[kind] = (secs, err, median)
        (rs, rerr, rmed), (ss, serr, smed) = res["redis"], res["shoal"]
        rows.append([str(n), serr or f"{ss:.2f}", rerr or f"{rs:.2f}", fmt_ratio(ss, rs),
                     "-" if smed is None else f"{smed:.2f}",
                     "-" if rmed is None else f"{rmed:.2f}"])
    b.table("Convergence (N empty nodes, each CLUSTER MEET to node 0 only)",
            ["N", "shoal s", "redis s", "ratio", "shoal median node", "redis median node"],
            rows,
            [f"cluster-node-timeout {NODE_TIMEOUT_MS}; seconds from the first MEET until every "
             "node's CLUSTER NODES lists N nodes, none in handshake (polled every ~20 ms); "
             "median node = when half the nodes had got there",
             "ratio = shoal / redis (lower is better); target: shoal <= 3 s at N=60",
             "the last nodes wait for random gossip to name the few nodes they miss, so the "
             "figure swings between runs, and more so on a loaded machine"])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_ns(pid):
    """CPU time of every thread of pid in nanoseconds (schedstat: exact, where utime+stime
    counts 10 ms ticks, too coarse for a node that is busy a millisecond per second)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass                       # a thread that exited meanwhile
    return total


def thread_run_ns(pid):
    """{thread name (comm): run time in ns} of pid's threads (schedstat, as run_ns; threads
    of one name are summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[name] = out.get(name, 0) + int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass                       # a thread that exited meanwhile
    return out


def shoal_spin_us(port):
    """{thread name: microseconds spent spinning before sleep} from shoal's INFO threads."""
    text = resp_call(port, "INFO", "threads")
    text = text.decode() if isinstance(text, bytes) else str(text)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"spin\d+:name=([^,]+),.*?spin_us=(\d+)", text)}


def idle_cost(b):
    """A converged idle cluster of IDLE_NODES nodes: CPU and RSS per node, shoal vs redis."""
    res = {}
    for kind in ("redis", "shoal"):
        servers = start_nodes(b, kind, IDLE_NODES, converge_args())
        try:
            # Distinct config epochs, as `redis-cli --cluster create` sets them: otherwise 30
            # masters at epoch 0 spend the next minute resolving collisions one by one
            # (bumping epochs and rewriting nodes.conf every second), which is not idle.
            err = None
            for i, srv in enumerate(servers):
                r = resp_call(srv.port, "CLUSTER", "SET-CONFIG-EPOCH", str(i + 1))
                if r != "OK":
                    err = f"SET-CONFIG-EPOCH on {srv.label}: {r!r}"[:120]
                    break
            secs, err = (None, err) if err else \
                meet_and_converge(servers, CONVERGE_TIMEOUT, mesh=True)
            if err is None:
                log(f"  {kind}: {IDLE_NODES} nodes converged {secs:.2f} s after the first MEET")
                time.sleep(IDLE_SETTLE)
                cpu0 = [run_ns(srv.popen.pid) for srv in servers]
                t0 = time.monotonic()
                time.sleep(IDLE_SECONDS)
                cpu1 = [run_ns(srv.popen.pid) for srv in servers]
                elapsed = (time.monotonic() - t0) * 1e9
                rss = [rss_kib(srv.popen.pid) / 1024 for srv in servers]
                for srv in servers:
                    srv.check_alive("while idle")
                cpu = [(b1 - a) / elapsed * 100 for a, b1 in zip(cpu0, cpu1)]
                res[kind] = (sum(cpu) / len(cpu), max(cpu), sum(rss) / len(rss), max(rss), None)
                log(f"  {kind}: {res[kind][0]:.2f}% CPU, {res[kind][2]:.1f} MB RSS per node")
            else:
                res[kind] = (None,) * 4 + (err,)
                log(f"  {kind}: {err}")
        finally:
            stop_nodes(servers)

    def c(kind, i, fmt):
        v = res[kind]
        return v[4] if v[4] else fmt.format(v[i])
    rows = []
    for label, i, fmt in (("CPU % per node (mean)", 0, "{:.2f}"), ("CPU % per node (max)", 1,
                                                                     "{:.2f}"),
                          ("RSS MB per node (mean)", 2, "{:.1f}"),
                          ("RSS MB per node (max)", 3, "{:.1f}")):
        rows.append([label, c("shoal", i, fmt), c("redis", i, fmt),
                     fmt_ratio(res["shoal"][i], res["redis"][i])])
    b.table(f"Idle cost ({IDLE_NODES}-node cluster, converged, no slots, no clients)",
            ["per node", "shoal", "redis", "ratio"], rows,
            ["node i gets CLUSTER SET-CONFIG-EPOCH i+1 (as redis-cli --cluster create does), "
             "every node MEETs every other (a full mesh of MEETs joins fastest), then the "
             "cluster is left alone until CLUSTER NODES is complete everywhere",
             f"CPU: run time of all threads (/proc/<pid>/task/*/schedstat) over "
             f"{IDLE_SECONDS:g} s, {IDLE_SETTLE:g} s after convergence, as % of one core; "
             "RSS: VmRSS from /proc at the end",
             "ratio = shoal / redis; target: <= 1.00 on both; shoal with its default threads"])


# ---------------------------------------------------------------------------------------
# One node in an N-node cluster: its CPU, RSS and bus traffic (targets at N = 1000: CPU <= 0.50
# and RSS <= 1.00 of redis's)
# ---------------------------------------------------------------------------------------

CLUSTER_SIM = os.environ.get("CLUSTER_SIM", str(REPO / "build" / "bench" / "cluster_sim"))
COST_SIZES = [int(x) for x in os.environ["BENCH_COST_SIZES"].split(",")] \
    if os.environ.get("BENCH_COST_SIZES") else [100, 1000] if QUICK else [100, 300, 1000]
COST_WARMUP, COST_SECONDS = (15.0, 10.0) if QUICK else (30.0, 30.0)
COST_TIMEOUT_MS = 15000


def raise_fd_limit():
    """The simulator holds about 3 sockets per simulated node (listener, its link to the
    node, the node's link to it) and the node under test about 2: lift the soft limit to
    the hard one for us and the processes we start."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def cluster_sim(srv, n, seed, light=False):
    """Runs bench/cluster_sim against srv (an empty cluster node): it plays the n-1 other
    members, measures srv over the counted window, then times a FAIL. The model is
    deterministic for a seed: every server run with the same seed gets the same members'
    PINGs at the same moments of the steady state. Returns the key=value figures as a
    dict, or {'error': why}. light: the members are simulated shoal peers speaking the
    light encoding (docs/cluster-bus.md §9) wherever the node advertises it."""
    argv = [CLUSTER_SIM, "-p", str(srv.port + 10000), "-c", str(srv.port), "-n", str(n),
            "-T", str(COST_TIMEOUT_MS), "-W", str(COST_WARMUP), "-t", str(COST_SECONDS),
            "-P", str(srv.popen.pid), "-F", "-s", str(seed)] + (["-L"] if light else [])
    srv.check_alive("before the simulation")
    try:
        out = subprocess.run(argv, capture_output=True, text=True, start_new_session=True,
                             timeout=COST_WARMUP + COST_SECONDS + 180)
    except subprocess.TimeoutExpired:
        return {"error": "simulator timed out"}
    if srv.popen.poll() is not None:
        return {"error": f"server died (exit {srv.popen.returncode})"}
    kv = dict(f.split("=", 1) for f in out.stdout.split() if "=" in f)
    if out.returncode != 0 or "cpu_pct" not in kv:
        msg = [line for line in out.stderr.strip().splitlines() if line]
        return {"error": f"failed: {msg[-1] if msg else out.returncode}"[:100]}
    return kv


COST_KINDS = ("redis", "shoal", "shoal_light")


def cluster_cost(b):
    """One real node (redis-server, then shoal) made to believe it is in a cluster of N
    nodes by bench/cluster_sim: its CPU, RSS, bus bytes and the time to apply a FAIL.
    BENCH_REPEAT rounds, each with a seed of its own that all three servers get (the same
    modelled traffic), the order of the servers turned round every other round; the tables
    give medians over the rounds and the ratios' median of the rounds' ratios."""
    if not (os.path.isfile(CLUSTER_SIM) and os.access(CLUSTER_SIM, os.X_OK)):
        raise BenchError(f"{CLUSTER_SIM} not built (make build/bench/cluster_sim)")
    limit = raise_fd_limit()
    need = 3 * max(COST_SIZES) + 100
    if limit < need:
        raise BenchError(f"RLIMIT_NOFILE hard limit {limit} < {need} (ulimit -Hn)")
    runs = {}          # (kind, n) -> [kv of each round]
    loads = []
    for n in COST_SIZES:
        for rnd in range(REPEAT):
            # one seed for the round's three runs: the model's draws (its PINGs, the
            # gossip picks, the pong times it gossips) are then the same for every server
            seed = random.randrange(1, 2 ** 63)
            # "shoal": members that are plain 7.0.15 peers (what the other tables compare);
            # "shoal_light": members that are shoal peers, so the links go light
            for kind in (COST_KINDS if rnd % 2 == 0 else COST_KINDS[::-1]):
                srv = b.server("redis" if kind == "redis" else "shoal",
                               ["--cluster-node-timeout", str(COST_TIMEOUT_MS)], own_all_slots=False)
                try:
                    kv = cluster_sim(srv, n, seed, light=kind == "shoal_light")
                finally:
                    b.stop(srv)
                loads.append(os.getloadavg()[0])
                runs.setdefault((kind, n), []).append(kv)
                if "error" in kv:
                    log(f"  {kind} N={n} round {rnd + 1}: {kv['error']}")
                else:
                    log(f"  {kind} N={n} round {rnd + 1}: {float(kv['cpu_pct']):.2f} % CPU, "
                        f"{int(kv['rss_kib']) / 1024:.1f} MB RSS, "
                        f"{float(kv['bytes_in_per_sec']) / 1024:.0f}/"
                        f"{float(kv['bytes_out_per_sec']) / 1024:.0f} KB/s in/out, "
                        f"PINGs {float(kv['pings_in_per_sec']):.1f}/"
                        f"{float(kv['pings_out_per_sec']):.1f} in/out, "
                        f"PONGs {float(kv['pongs_in_per_sec']):.1f}/"
                        f"{float(kv['pongs_out_per_sec']):.1f} in/out, late PONGs "
                        f"{kv.get('late_pongs', '-')}, FAIL applied in "
                        f"{kv.get('fail_ms', '-')} ms; threads {kv.get('thread_cpu', '')}")

    def run_num(kv, key, scale=1.0):
        try:
            v = float(kv[key]) * scale
        except (KeyError, ValueError):
            return None
        return None if v < 0 else v

    def median(vals):
        vals = sorted(v for v in vals if v is not None)
        if not vals:
            return None
        k = len(vals)
        return vals[k // 2] if k % 2 else (vals[k // 2 - 1] + vals[k // 2]) / 2

    def error(kind, n):
        return next((kv["error"] for kv in runs[(kind, n)] if "error" in kv), None)

    def num(kind, n, key, scale=1.0):
        if error(kind, n):
            return None
        return median(run_num(kv, key, scale) for kv in runs[(kind, n)])

    def c(kind, n, key, fmt, scale=1.0):
        if error(kind, n):
            return error(kind, n)
        v = num(kind, n, key, scale)
        return "-" if v is None else fmt.format(v)

    def round_ratios(kind, n, f):
        """f(kv) of kind over f(kv) of redis, round by round."""
        out = []
        for a, r in zip(runs[(kind, n)], runs[("redis", n)]):
            x, y = f(a), f(r)
            out.append(None if x is None or not y else x / y)
        return out

    def ratio(kind, n, f):
        if error(kind, n) or error("redis", n):
            return "-"
        v = median(round_ratios(kind, n, f))
        return "-" if v is None else f"{v:.2f}"

    def key_of(key):
        return lambda kv: run_num(kv, key)

    rows = []
    for n in COST_SIZES:
        rows.append([str(n),
                     c("shoal", n, "cpu_pct", "{:.2f}"), c("redis", n, "cpu_pct", "{:.2f}"),
                     ratio("shoal", n, key_of("cpu_pct")),
                     c("shoal", n, "rss_kib", "{:.1f}", 1 / 1024),
                     c("redis", n, "rss_kib", "{:.1f}", 1 / 1024),
                     ratio("shoal", n, key_of("rss_kib")),
                     c("shoal", n, "fail_ms", "{:.1f}"), c("redis", n, "fail_ms", "{:.1f}")])
    per_round = []
    for n in COST_SIZES:
        if not error("shoal", n) and not error("redis", n):
            rs = round_ratios("shoal", n, key_of("cpu_pct"))
            per_round.append(f"N={n}: " + ", ".join("-" if v is None else f"{v:.2f}" for v in rs))
    b.table(f"One node in an N-node cluster (cluster_sim, node timeout {COST_TIMEOUT_MS} ms, "
            f"median of {REPEAT} round{'s' if REPEAT > 1 else ''})",
            ["N", "shoal CPU %", "redis CPU %", "ratio", "shoal RSS MB", "redis RSS MB",
             "ratio", "shoal FAIL ms", "redis FAIL ms"], rows,
            ["bench/cluster_sim plays the N-1 other members (N/2 masters, N/2 replicas as "
             "redis-cli --cluster create lays them out; the node under test is master 0 of "
             "the first slot range) and sends PINGs as 7.0.15's clusterCron would (see "
             "bench/README.md), answering the node's own PINGs; its model is deterministic "
             "for a seed and each round's servers get the same seed: the very same members' "
             "PINGs (times, senders, gossip)",
             f"CPU: all the node's threads (schedstat) over {COST_SECONDS:g} s after "
             f"{COST_WARMUP:g} s of warm-up, % of one core; RSS: VmRSS at the window's end",
             "FAIL ms: from a simulated master sending FAIL about another (stopped) master "
             "until the node's CLUSTER NODES flags it fail (polled back to back)",
             "figures: medians over the rounds; ratio = shoal / redis, the median of the "
             "rounds' ratios; targets at N = 1000: CPU <= 0.50, RSS <= 1.00",
             "CPU ratio by round: " + ("; ".join(per_round) or "-"),
             f"1-minute load average during the runs: {min(loads):.2f} to {max(loads):.2f} "
             f"on {NCPU} CPUs; a node busy under 1 % of a core is easily disturbed"
             if loads else "no runs"])

    def per_frame(kv):
        # CPU-microseconds per frame received: the node's work per frame, whatever the
        # number of frames its own PINGs brought back
        frames = (run_num(kv, "pings_in_per_sec") or 0) + (run_num(kv, "pongs_in_per_sec") or 0)
        cpu = run_num(kv, "cpu_pct")
        return None if cpu is None or frames <= 0 else cpu * 1e4 / frames

    traffic = [("pings_in_per_sec", "{:.1f}", 1.0), ("pongs_in_per_sec", "{:.1f}", 1.0),
               ("pings_out_per_sec", "{:.1f}", 1.0), ("pongs_out_per_sec", "{:.1f}", 1.0),
               ("bytes_in_per_sec", "{:.0f}", 1 / 1024), ("bytes_out_per_sec", "{:.0f}", 1 / 1024),
               ("gossip_per_ping_out", "{:.1f}", 1.0)]
    rows = []
    for n in COST_SIZES:
        for kind in ("shoal", "redis"):
            pf = None if error(kind, n) else median(per_frame(kv) for kv in runs[(kind, n)])
            rows.append([str(n), kind] +
                        [c(kind, n, key, fmt, scale) for key, fmt, scale in traffic] +
                        [error(kind, n) or ("-" if pf is None else f"{pf:.0f}")])
        rows.append([str(n), "ratio shoal/redis"] +
                    [ratio("shoal", n, key_of(key)) for key, _, _ in traffic] +
                    [ratio("shoal", n, per_frame)])
    b.table("Bus traffic of the node under test (same runs, medians)",
            ["N", "server", "PINGs in/s", "PONGs in/s", "PINGs out/s", "PONGs out/s", "KB/s in",
             "KB/s out", "entries/PING out", "CPU us/frame in"], rows,
            ["in = what the simulated members sent the node, out = what it sent them (it "
             "has no other peers); PINGs in are the model's, the same for both servers in a "
             "round; PONGs in answer the node's own PINGs (PINGs out), whose number is its own; "
             "the members' frames carry max(3, N/10) gossip entries, the node's own as many as "
             "it chooses (entries/PING out: gossip entries in the node's own PINGs; 7.0.15 sends "
             "max(3, N/10))",
             "CPU us/frame in = node CPU time per PING or PONG received (all its work, cron "
             "included, divided by frames in)"])

    def total(kv):
        a, o = run_num(kv, "bytes_in_per_sec"), run_num(kv, "bytes_out_per_sec")
        return None if a is None or o is None else a + o

    def light_ratio(n):
        if error("shoal_light", n) or error("shoal", n):
            return "-"
        v = median(None if total(a) is None or not total(p) else total(a) / total(p)
                   for a, p in zip(runs[("shoal_light", n)], runs[("shoal", n)]))
        return "-" if v is None else f"{v:.2f}"
    rows = []
    for n in COST_SIZES:
        rows.append([str(n)] +
                    [c(kind, n, key, "{:.0f}", 1 / 1024) for kind in COST_KINDS
                     for key in ("bytes_in_per_sec", "bytes_out_per_sec")] +
                    [c("shoal_light", n, "light_frames_in_per_sec", "{:.1f}"),
                     c("shoal_light", n, "light_frames_out_per_sec", "{:.1f}"),
                     light_ratio(n),
                     c("shoal_light", n, "cpu_pct", "{:.2f}"),
                     c("shoal_light", n, "rss_kib", "{:.1f}", 1 / 1024)])
    b.table("Bus bytes with shoal peers: the light encoding (same modelled PINGs, medians)",
            ["N", "redis KB/s in", "redis KB/s out", "shoal plain in", "shoal plain out",
             "shoal light in", "shoal light out", "light frames in/s", "light frames out/s",
             "light/plain (in+out)", "light CPU %", "light RSS MB"], rows,
            ["shoal plain: the members are plain 7.0.15 peers; shoal light: they are simulated "
             "shoal peers (cluster_sim -L) that advertise the light encoding and speak it on every "
             "link where the node advertised it (docs/cluster-bus.md §9), as two shoal nodes do",
             "in = to the node, out = from it; light frames in/s = light frames the members sent; "
             "light/plain = the median of the rounds' ratios",
             "target at N = 1000: light/plain <= 0.50"])


def replication(b):
    """Full sync of 1 M keys and SET throughput with a replica attached (bench/repl_bench.py)."""
    import repl_bench       # bench/ is sys.path[0] when this file runs as a script
    repl_bench.replication(b, sys.modules[__name__])


def reshard(b):
    """redis-cli --cluster reshard of 8,192 slots holding 1 M keys under a GET/SET client
    (bench/reshard_bench.py)."""
    import reshard_bench    # bench/ is sys.path[0] when this file runs as a script
    reshard_bench.section(b, sys.modules[__name__])


def aof(b):
    """SET with appendonly yes (everysec, always) and BGREWRITEAOF of 1 M keys (bench/aof_bench.py)."""
    import aof_bench        # bench/ is sys.path[0] when this file runs as a script
    aof_bench.section(b, sys.modules[__name__])


def rdb(b):
    """Load of a 1 M-key dump.rdb and the longest client pause during its BGSAVE
    (bench/rdb_bench.py)."""
    import rdb_bench        # bench/ is sys.path[0] when this file runs as a script
    rdb_bench.section(b, sys.modules[__name__])


def pubsub(b):
    """One publisher, 1,000 subscribers on one node: deliveries per second and p99 latency; SPUBLISH
    on 3 masters; publishers and subscribers on every node of a 6-node cluster
    (bench/pubsub_bench.py)."""
    import pubsub_bench     # bench/ is sys.path[0] when this file runs as a script
    parts = os.environ.get("BENCH_PUBSUB", "fanout,shard,cluster").split(",")
    if "fanout" in parts:
        pubsub_bench.section(b, sys.modules[__name__])
    if "shard" in parts:
        pubsub_bench.shard_section(b, sys.modules[__name__])
    if "cluster" in parts:
        pubsub_bench.cluster_section(b, sys.modules[__name__])


def scripting(b):
    """EVALSHA of a 3-command script at -P 1 and -P 16, keys spread over 3 masters and all on
    one master, shoal beside redis-server (bench/script_bench.py)."""
    import script_bench     # bench/ is sys.path[0] when this file runs as a script
    script_bench.section(b, sys.modules[__name__])


def maxmemory(b):
    """SET under maxmemory with allkeys-lru evicting, and the hit rate of allkeys-lru and
    allkeys-lfu on a Zipf workload (bench/maxmemory_bench.py)."""
    import maxmemory_bench  # bench/ is sys.path[0] when this file runs as a script
    maxmemory_bench.section(b, sys.modules[__name__])


def monitor(b):
    """SET with and without one MONITOR connection attached (bench/monitor_bench.py)."""
    import monitor_bench    # bench/ is sys.path[0] when this file runs as a script
    monitor_bench.section(b, sys.modules[__name__])


def drill(b):
    """Failover drills on 3+3 clusters (bench/drill.py; `make drill` runs the full set)."""
    import drill as drill_mod   # bench/ is sys.path[0] when this file runs as a script
    if not QUICK and "DRILL_REPS" not in os.environ:
        os.environ["DRILL_REPS"] = "1"      # a short version here; `make drill` does 5 each
    drill_mod.section(b, sys.modules[__name__])


def tls_cluster(b):
    """redis-benchmark --tls --cluster against 3 masters with tls-cluster yes (bench/tls_bench.py)."""
    import tls_bench        # bench/ is sys.path[0] when this file runs as a script
    tls_bench.section(b, sys.modules[__name__])


def tls_gossip(b):
    """The gossip flood over a TLS bus (tls-cluster yes), shoal and redis-server (bench/tls_bench.py)."""
    import tls_bench        # bench/ is sys.path[0] when this file runs as a script
    tls_bench.gossip_section(b, sys.modules[__name__])


def tls_handshakes(b):
    """New TLS connections per second, with and without session resumption (bench/tls_bench.py)."""
    import tls_bench        # bench/ is sys.path[0] when this file runs as a script
    tls_bench.handshakes_section(b, sys.modules[__name__])


SECTIONS = [client_throughput, client_throughput_cluster, types_throughput, types_memory,
            thread_scaling, gossip, serial, convergence, idle_cost,
            cluster_cost, replication, reshard, aof, rdb, pubsub, maxmemory, monitor, scripting, tls_cluster,
            tls_handshakes, tls_gossip, drill]
# BENCH_ONLY=gossip,convergence runs only the named sections.
if os.environ.get("BENCH_ONLY"):
    SECTIONS = [s for s in SECTIONS if s.__name__ in os.environ["BENCH_ONLY"].split(",")]


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def render(title, header, rows, notes):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: " | ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                    for i, (c, w) in enumerate(zip(cells, widths)))
    out = [title, line(header), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out += [f"  {n}" for n in notes]
    return "\n".join(out)


def versions():
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    return f"redis-server: {first_line([REDIS_SERVER, '--version'])}"


def main():
    for binary in (SHOAL_NODE, REDIS_SERVER, REDIS_BENCHMARK):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            sys.exit(f"bench: {binary} not found or not executable (run make)")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    b = Bench()
    failed = False
    try:
        for section in SECTIONS:
            log(f"== {section.__name__}")
            try:
                section(b)
            except BenchError as e:
                failed = True
                log(f"{section.__name__} failed: {e}")
                b.table(section.__name__, ["error"], [[str(e).splitlines()[0]]])
            finally:
                for srv in b.servers:       # whatever the section left running
                    srv.stop()
    except KeyboardInterrupt:
        log("interrupted: stopping servers")
        failed = True
    finally:
        b.close()
    print()
    print(f"shoal bench  ({NCPU} CPUs; {versions()}; "
          f"{'BENCH_QUICK' if QUICK else 'full'} run)")
    for t in b.tables:
        print()
        print(render(*t))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
