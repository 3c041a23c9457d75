#!/usr/bin/python3
"""Pub/sub fan-out, shoal and redis-server 7.0.15 side by side (a section of bench/run.py).

What it is for: one publisher and 1,000 subscribers of one channel on one node, 64-byte
messages: messages delivered per second (all subscribers together) and per server
CPU-second, and the p99 delivery latency of messages published one at a time. The
subscribers are read by reader processes (this file run with --reader), each holding its
share of the connections and counting the bytes that arrive; every message has the same
size, so bytes say how many were delivered. The publisher is redis-benchmark sending
PUBLISH pipelined on one connection.

What it must never do: stop a process it did not start; report a number it did not measure.
"""
import os
import selectors
import socket
import subprocess
import sys
import time
import types

SUBSCRIBERS = 1000
READERS = 2
PAYLOAD = 64
CHANNEL = b"bench:fanout"


def _enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


SHARD = os.environ.get("PUBSUB_BENCH_SHARD") == "1"     # readers: SSUBSCRIBE / smessage


def _msg_len(shard=None):
    word = b"smessage" if (SHARD if shard is None else shard) else b"message"
    return len(b"*3\r\n$%d\r\n%s\r\n" % (len(word), word) + b"$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL) +
               b"$%d\r\n" % PAYLOAD + b"x" * PAYLOAD + b"\r\n")


def reader_main(port, n, expect_msgs, latency):
    """Subscribes n connections; prints 'ready'; then reads until each got expect_msgs
    messages (or 60 s pass); prints 'bytes first_ns last_ns' or, with latency, the
    per-message latencies (ns) of its first connection, from the payload's timestamp."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(_enc(b"SSUBSCRIBE" if SHARD else b"SUBSCRIBE", CHANNEL))
        socks.append(s)
    word = b"ssubscribe" if SHARD else b"subscribe"
    confirm = len(b"*3\r\n$%d\r\n%s\r\n" % (len(word), word) + b"$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL))
    for s in socks:
        got = b""
        while len(got) < confirm:
            got += s.recv(confirm - len(got))
        s.setblocking(False)
    print("ready", flush=True)
    sel = selectors.DefaultSelector()
    want = expect_msgs * _msg_len()
    left = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        left[s] = want
    total, first, last = 0, 0, 0
    lat, buf0 = [], b""
    deadline = time.monotonic() + 60
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                left.pop(s, None)
                sel.unregister(s)
                continue
            now = time.monotonic_ns()
            first = first or now
            last = now
            total += len(data)
            if latency and s is socks[0]:
                buf0 += data
                while len(buf0) >= _msg_len():
                    m, buf0 = buf0[:_msg_len()], buf0[_msg_len():]
                    stamp = int(m[-PAYLOAD - 2:-2].split(b".")[0])
                    lat.append(now - stamp)
            if s in left:
                left[s] -= len(data)
                if left[s] <= 0:
                    del left[s]
                    sel.unregister(s)
    if latency:
        print(" ".join(str(x) for x in lat), flush=True)
    else:
        print(f"{total} {first} {last}", flush=True)
    for s in socks:
        s.close()


C_READER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench", "pubsub_reader")


def _readers(port, expect, latency=False, subscribers=SUBSCRIBERS, shard=False):
    """Reader processes holding the subscriptions. Throughput runs use the C byte counter
    (bench/pubsub_reader.c, cheap enough to leave the cores to the server); the latency run
    parses timestamps and uses this file's Python reader."""
    procs = []
    env = dict(os.environ, PUBSUB_BENCH_SHARD="1" if shard else "0")
    for i in range(READERS):
        n = subscribers // READERS + (1 if i < subscribers % READERS else 0)
        if latency:
            argv = [sys.executable, __file__, "--reader", str(port), str(n), str(expect), "1"]
        else:
            argv = [C_READER, str(port), str(n), str(expect), str(_msg_len(shard)),
                    "SSUBSCRIBE" if shard else "SUBSCRIBE", CHANNEL.decode()]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
        procs.append(p)
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("a reader did not subscribe")
    return procs


def _wait_numsub(run, port, subscribers=SUBSCRIBERS, shard=False):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = run.resp_call(port, "PUBSUB", "SHARDNUMSUB" if shard else "NUMSUB", CHANNEL.decode())
        if isinstance(r, list) and len(r) == 2 and r[1] == subscribers:
            return
        time.sleep(0.1)
    raise run.BenchError("subscribers not all counted by PUBSUB NUMSUB")


def throughput(run, srv, msgs, port=None, subscribers=SUBSCRIBERS, shard=False, node=None):
    """Deliveries of msgs messages to `subscribers` subscribers on `port` (default: srv's);
    srv gives the CPU time (a node or a cluster group). Returns (delivered, deliveries/s,
    deliveries per server CPU-second, limits): limits holds the run's CPU seconds of each thread
    of `node` (default srv: the node holding the subscribers; Server.thread_seconds, shoal's
    spinning before sleep left out), of the reader processes and of the publisher, for
    limits_row()."""
    port = port or srv.port
    node = node or srv
    procs = _readers(port, msgs, subscribers=subscribers, shard=shard)
    _wait_numsub(run, port, subscribers, shard)
    holder = types.SimpleNamespace(servers=[node])
    writes0 = _client_writes(run, holder)
    cpu0, threads0, pub0 = srv.cpu_seconds(), node.thread_seconds(), run.rbench._children_cpu()
    t0 = time.monotonic_ns()
    pub = subprocess.run([run.REDIS_BENCHMARK, "-p", str(port), "-c", "1", "-P", "16", "-n", str(msgs),
                          "-q", "SPUBLISH" if shard else "PUBLISH", CHANNEL.decode(), "x" * PAYLOAD],
                         capture_output=True, text=True, timeout=run.RUN_TIMEOUT)
    pub_cpu = run.rbench._children_cpu() - pub0   # only the publisher was reaped meanwhile: the readers run on
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    cpu, threads1 = srv.cpu_seconds() - cpu0, node.thread_seconds()
    writes = _client_writes(run, holder) - writes0
    if pub.returncode != 0:
        raise run.BenchError(f"redis-benchmark: {pub.stderr.strip()[:200]}")
    total = sum(int(o[0]) for o in outs)
    last = max(int(o[2]) for o in outs)
    delivered = total // _msg_len(shard)
    secs = (last - t0) / 1e9
    limits = {"threads": {k: v - threads0.get(k, 0) for k, v in threads1.items()},
              "readers": sum(int(o[3]) for o in outs) / 1e9, "publisher": pub_cpu, "delivered": delivered,
              "writes": writes}
    return delivered, delivered / secs if secs > 0 else 0, delivered / cpu if cpu > 0 else 0, limits


def limits_row(run, kind, lim):
    """What bounds a run: CPU-us per delivery of each busy server thread, of the readers and
    of the publisher; the projected deliveries/s with every thread on a core of its own (the
    run cannot take less time than its busiest thread's CPU time); and the bound the cores of
    this machine put on the measured figure when server, readers and publisher share them."""
    d = lim["delivered"] or 1
    per = {k: v * 1e6 / d for k, v in lim["threads"].items() if v * 1e6 / d >= 0.005}
    busiest = max(lim["threads"].values()) if lim["threads"] else 0
    bound = max(busiest, lim["publisher"])
    projected = d / bound if bound > 0 else None
    shared = sum(lim["threads"].values()) + lim["readers"] + lim["publisher"]
    on_cores = run.NCPU * d / shared if shared > 0 else None
    threads = ", ".join(f"{k} {v:.3f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]))
    per_write = f"{d / lim['writes']:.1f}" if lim.get("writes") else "-"
    return [kind, threads, per_write, f"{lim['readers'] * 1e6 / d:.3f}", f"{lim['publisher'] * 1e6 / d:.3f}",
            run.fmt_num(projected), run.fmt_num(on_cores)], projected, on_cores


def limits_table(b, run, title, res):
    """res: kind -> limits of the median run."""
    rows, proj, cores = [], {}, {}
    for kind in ("shoal", "redis"):
        row, proj[kind], cores[kind] = limits_row(run, kind, res[kind])
        rows.append(row)
    rows.append(["ratio", "", "", "", "", run.fmt_ratio(proj["shoal"], proj["redis"]),
                 run.fmt_ratio(cores["shoal"], cores["redis"])])
    b.table(title, ["server", "server threads (CPU-us/delivery)", "deliveries/write", "readers", "publisher",
                    "projected/s", f"{run.NCPU}-core bound/s"], rows,
            ["CPU-us/delivery: a thread's CPU time in the run (/proc/PID/task/*/schedstat; shoal's "
             "spinning before sleep left out, INFO threads) over all deliveries; readers: the reader "
             "processes' CPU (CLOCK_PROCESS_CPUTIME_ID); publisher: redis-benchmark's (rusage); "
             "deliveries/write: deliveries per client-socket write of the node (INFO stats "
             "total_writes_processed): most of a delivery's server CPU is its share of a write(2), "
             "and the readers' CPU per delivery follows it (a wake-up and a read per write); "
             "redis-server writes each subscriber once per event-loop round (16 messages at -P 16), "
             "shoal holds a burst's pushes over rounds for about as long as writing them takes "
             "(docs/design.md 3.8), so its writes carry more",
             "projected/s: deliveries / the largest CPU time of one server thread or of the publisher, i.e. "
             "each thread on a core of its own and the readers on other cores (a worker's figure is "
             "1/(its CPU-us per delivery); a serial thread bounds it; for redis-server that is its "
             "one thread). An upper bound: cross-thread waits and cache effects are not in it",
             f"{run.NCPU}-core bound/s: {run.NCPU} cores / (the node's threads + readers + publisher) "
             "CPU per delivery: what this machine allows when all of them share its cores, as in "
             "the measured row above"])


def latency(run, srv, msgs=1000):
    procs = _readers(srv.port, msgs, latency=True)
    _wait_numsub(run, srv.port)
    with socket.create_connection(("127.0.0.1", srv.port)) as c:
        for _ in range(msgs):
            stamp = b"%d." % time.monotonic_ns()
            c.sendall(_enc(b"PUBLISH", CHANNEL, stamp + b"0" * (PAYLOAD - len(stamp))))
            got = b""
            while not got.endswith(b"\r\n"):
                got += c.recv(64)
            time.sleep(0.01)
    lats = []
    for p in procs:
        out = p.communicate(timeout=120)[0].split()
        lats += [int(x) for x in out]
    lats.sort()
    if not lats:
        return None
    return lats[len(lats) // 2] / 1e3, lats[min(len(lats) - 1, int(len(lats) * 0.99))] / 1e3


def alternate(run, fns, warmup):
    """run.REPEAT calls of fns[kind]() for each kind, alternating (shoal first in even
    repeats, redis-server first in odd ones) after one untimed warmup[kind]() each, with
    both servers up: a load that drifts over the section (other processes on the machine)
    weighs on both alike instead of on whichever ran second. Returns kind -> results."""
    for kind in ("shoal", "redis"):
        warmup[kind]()
    runs = {"shoal": [], "redis": []}
    for i in range(run.REPEAT):
        for kind in (("shoal", "redis") if i % 2 == 0 else ("redis", "shoal")):
            runs[kind].append(fns[kind]())
    return runs


def median(xs):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def pair_ratios(runs, col):
    """shoal/redis of column col for each back-to-back pair of alternate()'s runs."""
    return [s[col] / r[col] for s, r in zip(runs["shoal"], runs["redis"]) if r[col]]


def _ratio_note(runs, col):
    rs = pair_ratios(runs, col)
    return (f"both servers up, runs alternating, one warm-up run each; rows: each server's median run of "
            f"{len(runs['shoal'])}; ratios: median of the back-to-back pairs' ratios (msgs/s ratio ranged "
            f"{min(rs):.2f}-{max(rs):.2f})" if rs else "")


def section(b, run):
    msgs = 2000 if run.QUICK else 20000
    srvs = {kind: b.server(kind) for kind in ("shoal", "redis")}
    runs = alternate(run, {k: (lambda s=srvs[k]: throughput(run, s, msgs)) for k in srvs},
                     {k: (lambda s=srvs[k]: throughput(run, s, msgs // 10)) for k in srvs})
    lat = {k: latency(run, srvs[k], 100 if run.QUICK else 300) for k in srvs}
    for srv in srvs.values():
        b.stop(srv)
    res = {k: sorted(runs[k], key=lambda r: r[1])[len(runs[k]) // 2] for k in runs}
    rows = []
    for kind in ("shoal", "redis"):
        n, rate, per_cpu, _ = res[kind]
        rows.append([kind, n, run.fmt_num(rate), run.fmt_num(per_cpu),
                     f"{lat[kind][0]:.0f}" if lat[kind] else "-", f"{lat[kind][1]:.0f}" if lat[kind] else "-"])
    rows.append(["ratio", "", f"{median(pair_ratios(runs, 1)):.2f}", f"{median(pair_ratios(runs, 2)):.2f}", "", ""])
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    b.table("Pub/sub fan-out (1 publisher, 1,000 subscribers on one node, 64-byte messages)",
            ["server", "delivered", "msgs/s", "msgs/CPU-s", "p50 us", "p99 us"], rows,
            [f"redis-benchmark -c 1 -P 16 -n {msgs} PUBLISH; {READERS} reader processes "
             "(bench/pubsub_reader.c, epoll) count the bytes",
             "msgs/s = deliveries (all subscribers) / time from the first PUBLISH to the last byte read",
             _ratio_note(runs, 1),
             "p50/p99: delivery latency of 1 subscriber over messages published one at a time, 10 ms apart "
             "(the readers are Python processes on the same loaded machine: their scheduling is in it)",
             f"load average at the end: {' '.join(load)}; target msgs/s ratio >= 1.5"])
    limits_table(b, run, "Pub/sub fan-out: what limits it (the median runs above)",
                 {k: res[k][3] for k in res})


def shard_section(b, run):
    """SPUBLISH to 100 subscribers on the channel's master of a 3-master cluster."""
    msgs = 5000 if run.QUICK else 50000
    slot = run.key_slot(CHANNEL)
    owners, groups = {}, {}
    for kind in ("shoal", "redis"):
        groups[kind] = run.start_cluster(b, kind)
        owners[kind] = next(srv for i, srv in enumerate(groups[kind].servers)
                            if 16384 * i // 3 <= slot <= 16384 * (i + 1) // 3 - 1)

    def one(kind, n):
        return lambda: throughput(run, groups[kind], n, port=owners[kind].port, subscribers=100, shard=True,
                                  node=owners[kind])
    runs = alternate(run, {k: one(k, msgs) for k in groups}, {k: one(k, msgs // 10) for k in groups})
    for g in groups.values():
        for srv in g.servers:
            b.stop(srv)
    res = {k: sorted(runs[k], key=lambda r: r[1])[len(runs[k]) // 2] for k in runs}
    rows = [[k, res[k][0], run.fmt_num(res[k][1] / 100), run.fmt_num(res[k][1]), run.fmt_num(res[k][2])]
            for k in ("shoal", "redis")]
    rate, per_cpu = median(pair_ratios(runs, 1)), median(pair_ratios(runs, 2))
    rows.append(["ratio", "", f"{rate:.2f}", f"{rate:.2f}", f"{per_cpu:.2f}"])
    b.table("Sharded pub/sub (SPUBLISH on a 3-master cluster, 100 subscribers on the slot's master)",
            ["server", "delivered", "msgs/s", "deliveries/s", "deliveries/CPU-s"], rows,
            [f"redis-benchmark -c 1 -P 16 -n {msgs} SPUBLISH to the channel's master; CPU of the 3 masters",
             "msgs/s = published messages per second, each delivered to all 100 subscribers; target ratio >= 1.5",
             _ratio_note(runs, 1)])
    limits_table(b, run, "Sharded pub/sub: what limits it (the channel's master, median runs above)",
                 {k: res[k][3] for k in res})


def bus_bytes(bus_ports):
    """Bytes sent so far on every established TCP connection with a bus port at either end,
    both directions (each end's socket counts what it sent), from `ss -tin`."""
    out = subprocess.run(["ss", "-tinH", "state", "established"], capture_output=True, text=True,
                         timeout=30).stdout.splitlines()
    total, counting = 0, False
    for line in out:
        if not line.startswith(("\t", " ")):
            parts = line.split()
            ends = [p.rsplit(":", 1)[-1] for p in parts[2:4]] if len(parts) >= 4 else []
            counting = any(e.isdigit() and int(e) in bus_ports for e in ends)
            continue
        if counting:
            for field in line.split():
                if field.startswith("bytes_sent:"):
                    total += int(field.split(":", 1)[1])
    return total


NODES = 6
SUBS_PER_NODE = 100


def cluster_run(run, group, msgs):
    """Subscribers on every node, one publisher per node, all at once: deliveries per second
    cluster-wide, per CPU-second of the nodes, and bus bytes per published message."""
    readers = []
    for srv in group.servers:
        readers += _readers(srv.port, NODES * msgs, subscribers=SUBS_PER_NODE)
    for srv in group.servers:
        _wait_numsub(run, srv.port, SUBS_PER_NODE)
    bus_ports = {srv.port + 10000 for srv in group.servers}
    bytes0, cpu0 = bus_bytes(bus_ports), group.cpu_seconds()
    threads0, writes0 = _thread_kinds(group), _client_writes(run, group)
    t0 = time.monotonic_ns()
    pubs = [subprocess.Popen([run.REDIS_BENCHMARK, "-p", str(srv.port), "-c", "1", "-P", "16", "-n", str(msgs),
                              "-q", "PUBLISH", CHANNEL.decode(), "x" * PAYLOAD],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for srv in group.servers]
    for p in pubs:
        if p.wait(timeout=run.RUN_TIMEOUT) != 0:
            raise run.BenchError(f"redis-benchmark: {p.stderr.read().strip()[:200]}")
    outs = [p.communicate(timeout=120)[0].split() for p in readers]
    cpu, sent = group.cpu_seconds() - cpu0, bus_bytes(bus_ports) - bytes0
    threads = {k: v - threads0.get(k, 0) for k, v in _thread_kinds(group).items()}
    writes = _client_writes(run, group) - writes0
    delivered = sum(int(o[0]) for o in outs) // _msg_len(False)
    secs = (max(int(o[2]) for o in outs) - t0) / 1e9
    want = NODES * msgs * NODES * SUBS_PER_NODE
    return (delivered, want, delivered / secs if secs > 0 else 0, delivered / cpu if cpu > 0 else 0,
            sent / (NODES * msgs), {"threads": threads, "writes": writes})


def _thread_kinds(group):
    """CPU seconds of every node's threads (Server.thread_seconds) summed by kind over the
    nodes: worker-0 and worker-1 of each node count as "worker"."""
    out = {}
    for srv in group.servers:
        for name, sec in srv.thread_seconds().items():
            kind = name.rstrip("0123456789").rstrip("-") or name
            out[kind] = out.get(kind, 0) + sec
    return out


def _client_writes(run, group):
    """Writes to client sockets so far (INFO stats total_writes_processed, which both servers
    count per successful write), summed over the nodes."""
    total = 0
    for srv in group.servers:
        info = run.resp_call(srv.port, "INFO", "stats")
        for line in (info or b"").decode(errors="replace").splitlines():
            if line.startswith("total_writes_processed:"):
                total += int(line.split(":", 1)[1])
    return total


def _cluster_limits(b, run, res):
    """Where the median runs' CPU went: CPU-us per delivery by thread kind (all nodes), the
    deliveries each write to a client socket carried, and this machine's bound."""
    rows = []
    for kind in ("shoal", "redis"):
        d = res[kind][0] or 1
        lim = res[kind][5]
        per = sorted(((k, v * 1e6 / d) for k, v in lim["threads"].items()), key=lambda kv: -kv[1])
        total = sum(v for _, v in per)
        rows.append([kind, ", ".join(f"{k} {v:.3f}" for k, v in per if v >= 0.005), f"{total:.3f}",
                     f"{d / lim['writes']:.1f}" if lim["writes"] else "-"])
    b.table(f"Pub/sub across a {NODES}-node cluster: where the CPU went (the median runs above)",
            ["server", "threads, all nodes (CPU-us/delivery)", "server CPU-us/delivery", "deliveries/write"],
            rows,
            ["CPU-us/delivery: a kind of thread's CPU time in the run, summed over the nodes "
             "(/proc/PID/task/*/schedstat; shoal's spinning before sleep left out) over all deliveries",
             "deliveries/write: deliveries per write to a client socket (INFO stats total_writes_processed, "
             "publisher replies included); each write is a syscall and a loopback send, most of the "
             "servers' CPU here: redis-server writes each subscriber once per loop round; a shoal worker "
             "once per round too, or during a burst once per hold (docs/design.md 3.8), so more threads "
             "holding subscribers mean smaller writes unless the hold spans their rounds",
             "shoal nodes: " + (" ".join(run.cluster_extra_args("shoal")) or
                                f"default worker threads ({run.NCPU} CPUs), BENCH_CLUSTER_WORKERS=k sets them")])


def cluster_section(b, run):
    """6 nodes, 100 subscribers on each, a publisher on each: deliveries per second and bus
    bytes per published message (issue 14's cluster-wide figures).

    Both clusters stay up and the runs alternate between them (shoal first in odd
    repeats, redis-server first in even ones), each after one untimed warm-up run: a
    load that changes over the section (other processes on the machine) then weighs on
    both alike instead of on whichever ran second. The ratios are the median of the
    per-repeat ratios (each from two runs taken back to back); the rows are each
    server's median run."""
    msgs = 1024 if run.QUICK else 3008     # multiples of redis-benchmark's pipeline of 16: it sends whole pipelines
    groups = {kind: run.start_cluster(b, kind, n=NODES) for kind in ("shoal", "redis")}
    for kind in ("shoal", "redis"):
        cluster_run(run, groups[kind], 128)
    runs = {"shoal": [], "redis": []}
    for i in range(run.REPEAT):
        for kind in (("shoal", "redis") if i % 2 == 0 else ("redis", "shoal")):
            runs[kind].append(cluster_run(run, groups[kind], msgs))
    for g in groups.values():
        for srv in g.servers:
            b.stop(srv)

    res = {k: sorted(v, key=lambda r: r[2])[len(v) // 2] for k, v in runs.items()}
    ratio = [median([s[col] / r[col] for s, r in zip(runs["shoal"], runs["redis"]) if r[col]]) for col in (2, 3, 4)]
    rows = [[k, f"{res[k][0]}/{res[k][1]}", run.fmt_num(res[k][2]), run.fmt_num(res[k][3]),
             run.fmt_num(res[k][4])] for k in ("shoal", "redis")]
    rows.append(["ratio", ""] + [f"{x:.2f}" for x in ratio])
    spread = [f"{min(s[2] / r[2] for s, r in zip(runs['shoal'], runs['redis'])):.2f}-"
              f"{max(s[2] / r[2] for s, r in zip(runs['shoal'], runs['redis'])):.2f}"]
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    b.table(f"Pub/sub across a {NODES}-node cluster ({SUBS_PER_NODE} subscribers and 1 publisher on each node)",
            ["server", "delivered/expected", "deliveries/s", "deliveries/CPU-s", "bus bytes/msg"], rows,
            [f"each node: redis-benchmark -c 1 -P 16 -n {msgs} PUBLISH, all {NODES} at once; every message "
             f"reaches all {NODES * SUBS_PER_NODE} subscribers",
             "deliveries/s: all subscribers, from the first PUBLISH to the last byte read; CPU of all nodes",
             "bus bytes/msg: bytes sent on bus connections (ss -tin, both directions, gossip of the run "
             "included) per published message; lower is better",
             f"both clusters up, runs alternating, one warm-up run each; rows: median run of {run.REPEAT}; "
             f"ratio: median of the {run.REPEAT} back-to-back pairs' ratios (deliveries/s ratio ranged "
             f"{spread[0]})",
             f"load average at the end: {' '.join(load)}; target deliveries/s ratio >= 1.0"])
    _cluster_limits(b, run, res)


if __name__ == "__main__" and len(sys.argv) >= 6 and sys.argv[1] == "--reader":
    reader_main(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1")
