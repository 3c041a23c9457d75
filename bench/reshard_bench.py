#!/usr/bin/python3
"""Reshard benchmark: `redis-cli --cluster reshard` of 8,192 slots holding N keys under a
concurrent GET/SET client, shoal vs redis-server 7.0.15 (the `reshard` section of
bench/run.py; issue 12's first bench item).

What it is for: for each kind (shoal, then redis-server) it builds 3 masters as run.py's
start_cluster does (config epoch i+1, full mesh of MEETs), master 0 owning slots 0..10922 so
that it keeps slots after giving away 8,192 (redis-cli takes a source's lowest slots first, so
the move is exactly slots 0..8191), loads N keys with 100-byte values into slots 0..8191 over
one pipelined connection to master 0 (1,000,000; 100,000 with BENCH_QUICK=1), then times
`redis-cli --cluster reshard <master0> --cluster-from <id0> --cluster-to <id1>
--cluster-slots 8192 --cluster-yes --cluster-pipeline 10` (10 is redis-cli 7.0.15's default
batch, CLUSTER_MANAGER_MIGRATE_PIPELINE) while a client thread runs GET and SET alternately
on random loaded keys (one connection per node, following MOVED and ASK, each request's
latency recorded, every GET compared with the last value written). Afterwards: `redis-cli
--cluster check` must pass, master 0 must hold no key of slots 0..8191, master 1 as many as
master 0 held before, and every key (a 100,000-key sample plus every key the client wrote in
a full run) must read back from master 1 directly with its value.

What it must never do: stop a process it did not start (servers are run.py Servers, stopped by
pid), report a figure it did not measure (a failure shows in its cell), or hide a wrong value
(it is counted and shown).

Run alone: `BENCH_ONLY=reshard /usr/bin/python3 bench/run.py`.
"""
import binascii
import os
import random
import resource
import shutil
import subprocess
import threading
import time

import resp_wire        # bench/ is sys.path[0] when run.py runs as a script

REDIS_CLI = os.environ.get("REDIS_CLI", shutil.which("redis-cli") or "redis-cli")

MOVE_SLOTS = 8192
# Master 0 owns more than it gives away, so that it stays a master with slots (a master
# emptied by the move would turn replica of the target in 7.0.15, a different experiment).
RANGES = [(0, 10922), (10923, 13652), (13653, 16383)]
VALUE_LEN = 100
PIPELINE = 10
SAMPLE = 100_000
# The concurrent client's pace, requests per second (BENCH_RESHARD_RATE; 0, the default: each
# request sent when the last reply lands). Paced, both servers get the same requests at the
# same moments and a request's latency counts from when it was due, so one stall weighs on
# every request due during it. A closed loop offers the faster server more load, but at full
# size on a quiet machine the two gave the same wall-time ratio (2026-12-07: 0.89 closed,
# 0.88 paced at 5,000/s), while the paced p99 went from 0.67 to 2.34 of redis-server's (one
# run each: shoal's few stalls of up to 30 ms; redis-server's longest was 5 ms paced, 36 ms
# closed), bench/README.md.
RATE = float(os.environ.get("BENCH_RESHARD_RATE", "0"))


def slot_of(key):
    """Cluster slot of a key without {tag}: CRC16/XMODEM (binascii.crc_hqx, init 0) mod 16384."""
    return binascii.crc_hqx(key, 0) % 16384


def make_keys(n):
    """n distinct key names whose slots lie in 0..MOVE_SLOTS-1 (about n/8192 per slot)."""
    keys, i = [], 0
    while len(keys) < n:
        k = b"rk:%d" % i
        if slot_of(k) < MOVE_SLOTS:
            keys.append(k)
        i += 1
    return keys


def value(i, gen=0):
    """The VALUE_LEN-byte value of key i after its gen-th write (0 = the load)."""
    return (b"%d:%d:" % (i, gen)).ljust(VALUE_LEN, b"x")


def node_ids(rt, ports):
    ids = []
    for p in ports:
        text = rt.resp_call(p, "CLUSTER", "NODES")
        if not isinstance(text, bytes):
            raise rt.BenchError(f"CLUSTER NODES on :{p} replied {text!r}")
        me = [ln.split()[0] for ln in text.decode().splitlines() if "myself" in ln]
        if len(me) != 1:
            raise rt.BenchError(f":{p}: no myself line in CLUSTER NODES")
        ids.append(me[0])
    return ids


_Conn = resp_wire.Conn


class Client(threading.Thread):
    """GET and SET alternately on random keys of `keys`, one request at a time, one
    connection per node, following -MOVED (the slot map learns it) and -ASK (ASKING + the
    command on the named node, the map unchanged). Each request's start time and latency
    (redirects included) are recorded; errors are counted by their first word; a GET whose
    value is not the key's last acknowledged write is counted as wrong."""

    TIMEOUT = 10.0

    def __init__(self, rt, ports, keys):
        super().__init__(daemon=True)
        self.rt, self.keys = rt, keys
        self.stop_flag = threading.Event()
        self.conns = {}
        self.slot_port = [None] * 16384
        for lo, hi, master, *_ in rt.resp_call(ports[0], "CLUSTER", "SLOTS"):
            for s in range(lo, hi + 1):
                self.slot_port[s] = int(master[1])
        self.gen = {}                 # key index -> generation of its last acknowledged SET
        self.uncertain = set()        # key indexes whose last SET has no answer (error)
        self.samples = []             # (start, latency seconds)
        self.errors = {}
        self.wrong = 0
        self.moved = self.asked = 0
        self.path = []
        self.slowest = [(0.0, 0.0, "", 0, "")] * 5

    def _conn(self, port):
        c = self.conns.get(port)
        if c is None:
            c = self.conns[port] = _Conn(port, self.TIMEOUT)
        return c

    def _drop(self, port):
        c = self.conns.pop(port, None)
        if c:
            c.close()

    def call(self, slot, *args):
        port, asking = self.slot_port[slot], False
        self.path = []                # the redirects this request followed
        for _ in range(6):
            c = self._conn(port)
            try:
                payload = resp_wire.encode(args)
                if asking:
                    payload = resp_wire.encode(["ASKING"]) + payload
                c.sock.sendall(payload)
                if asking:
                    ok = resp_wire.read_reply(c.f)
                    if ok != "OK":
                        return f"-ASKING replied {ok!r}"
                r = resp_wire.read_reply(c.f)
            except (OSError, ConnectionError) as e:
                self._drop(port)
                return f"-IO {type(e).__name__}"
            if isinstance(r, str) and r.startswith("-MOVED "):
                self.moved += 1
                self.path.append("MOVED")
                port, asking = int(r.split()[2].rsplit(":", 1)[1]), False
                self.slot_port[slot] = port
                continue
            if isinstance(r, str) and r.startswith("-ASK "):
                self.asked += 1
                self.path.append("ASK")
                port, asking = int(r.split()[2].rsplit(":", 1)[1]), True
                continue
            return r
        return "-REDIRECTS too many"

    def run(self):
        rnd = random.Random(12)
        n, i = len(self.keys), 0
        perf = time.perf_counter
        start = perf()
        while not self.stop_flag.is_set():
            idx = rnd.randrange(n)
            key = self.keys[idx]
            slot = slot_of(key)
            t0 = perf()
            if RATE > 0:                     # due at start + i / RATE; late ones go at once
                due = start + i / RATE
                if due > t0:
                    time.sleep(due - t0)
                t0 = due
            if i & 1:
                g = self.gen.get(idx, 0) + 1
                r = self.call(slot, b"SET", key, value(idx, g))
                if r == "OK":
                    self.gen[idx] = g
                    self.uncertain.discard(idx)
                else:
                    self.uncertain.add(idx)
            else:
                r = self.call(slot, b"GET", key)
                if isinstance(r, bytes) and idx not in self.uncertain and \
                        r != value(idx, self.gen.get(idx, 0)):
                    self.wrong += 1
            d = perf() - t0
            self.samples.append((t0, d))
            if d > self.slowest[0][0]:       # the 5 slowest, to tell a stall from noise
                self.slowest[0] = (d, t0, "SET" if i & 1 else "GET", slot, "+".join(self.path))
                self.slowest.sort()
            if isinstance(r, str) and r.startswith("-"):
                word = r[1:].split()[0] if r[1:].split() else "?"
                self.errors[word] = self.errors.get(word, 0) + 1
            elif r is None:
                self.errors["nil"] = self.errors.get("nil", 0) + 1
            i += 1
        for port in list(self.conns):
            self._drop(port)


def count_keys(port, slots, timeout=60.0):
    """Sum of CLUSTER COUNTKEYSINSLOT over slots, pipelined on one connection."""
    c = _Conn(port, timeout)
    try:
        c.sock.sendall(b"".join(resp_wire.encode(["CLUSTER", "COUNTKEYSINSLOT", s])
                                for s in slots))
        total = 0
        for _ in slots:
            r = resp_wire.read_reply(c.f)
            if not isinstance(r, int):
                raise ConnectionError(f"COUNTKEYSINSLOT replied {r!r}")
            total += r
        return total
    finally:
        c.close()


def verify_values(port, keys, idxs, expect, timeout=60.0, batch=1000):
    """GETs keys[i] for i in idxs from port directly (no redirect followed); returns the
    number whose reply is not expect(i) (None: any value is accepted) and the first few."""
    bad, first = 0, []
    c = _Conn(port, timeout)
    try:
        for lo in range(0, len(idxs), batch):
            part = idxs[lo:lo + batch]
            c.sock.sendall(b"".join(resp_wire.encode([b"GET", keys[i]]) for i in part))
            for i in part:
                r = resp_wire.read_reply(c.f)
                want = expect(i)
                if not isinstance(r, bytes) or (want is not None and r != want):
                    bad += 1
                    if len(first) < 3:
                        first.append(f"{keys[i].decode()}={str(r)[:40]}")
        return bad, first
    finally:
        c.close()


def read_back(rt, port, keys, client):
    """Every key (quick) or a SAMPLE plus every key the client wrote, read from port
    directly: (indexes read, how many wrong, the first few wrong)."""
    idxs = list(range(len(keys))) if rt.QUICK else \
        sorted(set(random.Random(7).sample(range(len(keys)), min(SAMPLE, len(keys))))
               | set(client.gen) | client.uncertain)

    def expect(i):
        return None if i in client.uncertain else value(i, client.gen.get(i, 0))
    bad, first = verify_values(port, keys, idxs, expect)
    return idxs, bad, first


def note_after(res, left, arrived, before, bad, first, ok, why):
    """The first thing wrong after a move, as res["error"]: keys left behind or missing,
    wrong values read back, --cluster check's complaint."""
    if left != 0 or arrived != before:
        res.setdefault("error", f"keys left/arrived {left}/{arrived}, expected 0/{before}")
    if bad:
        res.setdefault("error", f"{bad} keys wrong on master 1: {first[0]}")
    if not ok:
        res.setdefault("error", f"check: {why}")


def cluster_check(port, timeout):
    """`redis-cli --cluster check`: (True, '') when clean, else (False, the first complaint);
    retried for a few seconds since the nodes' views may take a moment to agree."""
    deadline = time.monotonic() + 10
    while True:
        out = subprocess.run([REDIS_CLI, "--cluster", "check", f"127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=timeout)
        text = out.stdout + out.stderr
        bad = [ln for ln in text.splitlines() if "[ERR]" in ln or "[WARNING]" in ln]
        if out.returncode == 0 and not bad and "[OK] All 16384 slots covered" in text:
            return True, ""
        if time.monotonic() > deadline:
            return False, (bad[0] if bad else text.strip().splitlines()[-1])[:80]
        time.sleep(0.5)


STEP_SLOTS = 100
STEPS = ["SETSLOT IMPORTING (target)", "SETSLOT MIGRATING (source)", "GETKEYSINSLOT (source)",
         "MIGRATE ... KEYS (source)", "SETSLOT NODE (target)", "SETSLOT NODE (source)",
         "SETSLOT NODE (other master)"]


def step_profile(ports, ids, src, dst, other, slots):
    """Moves `slots` from ports[src] to ports[dst] with the commands redis-cli --cluster
    reshard sends for each slot, in its order (clusterManagerMoveSlot: IMPORTING on the
    target, MIGRATING on the source, GETKEYSINSLOT + MIGRATE KEYS batches of PIPELINE keys,
    then SETSLOT NODE on the target, the source and the other masters), one connection per
    node, no client running. After each slot the same sequence again with a PING in place
    of each command, sent to the same node (two for a MIGRATE: one to the source, one to the
    target, the round trip a MIGRATE waits for inside it), which moves nothing: each step's
    floor, the round trips it cannot avoid, measured at the same moments. Returns
    ({step: durations}, {step: floor durations}, wall seconds of the real slots, of the
    floor passes) or raises ConnectionError on an unexpected reply."""
    conns = {i: _Conn(ports[i], 60.0) for i in (src, dst, other)}
    real = {name: [] for name in STEPS}
    floor = {name: [] for name in STEPS}
    perf = time.perf_counter
    ping = resp_wire.encode(["PING"])

    def call(i, step, *args):
        c = conns[i]
        t = perf()
        c.sock.sendall(resp_wire.encode(args))
        r = resp_wire.read_reply(c.f)
        real[step].append(perf() - t)
        if isinstance(r, str) and r.startswith("-"):
            raise ConnectionError(f"{step} on :{ports[i]}: {r}")
        return r

    def pings(step, *nodes):
        t = perf()
        for i in nodes:
            conns[i].sock.sendall(ping)
            if resp_wire.read_reply(conns[i].f) != "PONG":
                raise ConnectionError(f"PING on :{ports[i]} did not answer PONG")
        floor[step].append(perf() - t)
    wall = floor_wall = 0.0
    try:
        for slot in slots:
            t0 = perf()
            call(dst, STEPS[0], "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[src])
            call(src, STEPS[1], "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst])
            batches = 0
            while True:
                keys = call(src, STEPS[2], "CLUSTER", "GETKEYSINSLOT", slot, PIPELINE)
                if not keys:
                    break
                call(src, STEPS[3], "MIGRATE", "127.0.0.1", ports[dst], "", 0, 60000,
                     "KEYS", *keys)
                batches += 1
            for i, step in ((dst, STEPS[4]), (src, STEPS[5]), (other, STEPS[6])):
                call(i, step, "CLUSTER", "SETSLOT", slot, "NODE", ids[dst])
            t1 = perf()
            pings(STEPS[0], dst)
            pings(STEPS[1], src)
            for _ in range(batches):
                pings(STEPS[2], src)
                pings(STEPS[3], src, dst)
            pings(STEPS[2], src)
            for i, step in ((dst, STEPS[4]), (src, STEPS[5]), (other, STEPS[6])):
                pings(step, i)
            wall += t1 - t0
            floor_wall += perf() - t1
        return real, floor, wall, floor_wall
    finally:
        for c in conns.values():
            c.close()


PING_ROUNDS = 4_000
PING_BATCHES = 5


def children_cpu():
    """CPU seconds (user + system) of the children this process has waited for."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def ping_turnaround(port, timeout):
    """`redis-cli -r PING_ROUNDS PING` against port, PING_BATCHES times, the fastest batch:
    (seconds per round trip, redis-cli's CPU seconds per round trip). The difference is the
    server's side of a round trip: the kernel's loopback both ways, the server's wake-up,
    its read, reply and write, the least any server answering one command at a time takes
    per command here. Measured with no client running and the fastest batch kept: under
    the closed-loop client a PING queues behind its requests, and one batch caught at a
    busy moment of this shared machine gave a 'floor' above the move's own wall time."""
    best = None
    for _ in range(PING_BATCHES):
        c0, t0 = children_cpu(), time.perf_counter()
        subprocess.run([REDIS_CLI, "-p", str(port), "-r", str(PING_ROUNDS), "PING"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout,
                       check=True)
        one = ((time.perf_counter() - t0) / PING_ROUNDS, (children_cpu() - c0) / PING_ROUNDS)
        if best is None or one[0] - one[1] < best[0] - best[1]:
            best = one
    return best


def round_trips(keys):
    """What redis-cli --cluster reshard --cluster-pipeline PIPELINE waits for, moving the
    slots holding `keys`: (its own round trips, the MIGRATEs' round trips to the target).
    Per slot of n keys: SETSLOT IMPORTING and MIGRATING, ceil(n / PIPELINE) + 1
    GETKEYSINSLOT (the last one empty), ceil(n / PIPELINE) MIGRATE, each of which waits for
    the target's replies to its RESTORE-ASKING batch, and SETSLOT NODE on each master."""
    per_slot = [0] * MOVE_SLOTS
    for k in keys:
        per_slot[slot_of(k)] += 1
    migrates = sum(-(-n // PIPELINE) for n in per_slot)
    return MOVE_SLOTS * (2 + 1 + len(RANGES)) + 2 * migrates, migrates


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    return sorted_vals[min(len(sorted_vals) - 1, int(q * len(sorted_vals)))]


def run_one(b, rt, kind, keys, timeout):
    """One cluster of `kind`: load, reshard under the client, verify. Returns a dict."""
    grp = rt.start_cluster(b, kind, ranges=RANGES)
    ports = grp.ports
    res = {}
    try:
        t0 = time.monotonic()
        n = rt.pipeline_load(ports[0], ([b"SET", k, value(i)] for i, k in enumerate(keys)),
                             timeout=timeout)
        res["load_s"] = time.monotonic() - t0
        moving = list(range(MOVE_SLOTS))
        before = count_keys(ports[0], moving)
        if before < n:
            raise rt.BenchError(f"{kind}: master 0 holds {before} keys in the moving slots "
                                f"after loading {n}")
        ids = node_ids(rt, ports)
        client = Client(rt, ports, keys)
        argv = [REDIS_CLI, "--cluster", "reshard", f"127.0.0.1:{ports[0]}",
                "--cluster-from", ids[0], "--cluster-to", ids[1],
                "--cluster-slots", str(MOVE_SLOTS), "--cluster-yes",
                "--cluster-pipeline", str(PIPELINE)]
        rt.log(f"  {kind}: {n:,} keys loaded in {res['load_s']:.1f} s; resharding")
        # the floor (see section): a PING round trip, before the client starts, and
        # redis-cli's own CPU during the move
        res["ping_rtt"], res["ping_cli_cpu"] = ping_turnaround(ports[0], timeout)
        client.start()
        time.sleep(0.3)                     # the client is up before the move starts
        cli0 = children_cpu()
        cpu0 = grp.cpu_seconds()
        t_start = time.perf_counter()
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                 start_new_session=True)
            rc, tail = out.returncode, (out.stdout + out.stderr).strip().splitlines()[-1:]
            errs = [ln for ln in (out.stdout + out.stderr).splitlines() if "[ERR]" in ln]
        except subprocess.TimeoutExpired:
            rc, tail, errs = None, [f"timeout>{timeout}s"], [f"timeout>{timeout}s"]
        t_end = time.perf_counter()
        res["cpu_s"] = grp.cpu_seconds() - cpu0
        res["cli_cpu_s"] = children_cpu() - cli0
        trips, nested = round_trips(keys)
        res["trips"] = trips + nested
        res["floor_s"] = res["cli_cpu_s"] + res["trips"] * max(0.0, res["ping_rtt"] - res["ping_cli_cpu"])
        time.sleep(0.3)
        client.stop_flag.set()
        client.join(30)
        grp.check_alive("after the reshard")
        if rc != 0 or errs:
            res["error"] = ("reshard: " + (errs or tail or [f"rc {rc}"])[0])[:80]
        res["wall_s"] = t_end - t_start
        lat = sorted(d for s, d in client.samples if t_start <= s and s + d <= t_end)
        res.update(requests=len(lat), p50=percentile(lat, 0.50), p99=percentile(lat, 0.99),
                   max=lat[-1] if lat else None,
                   errors=sum(client.errors.values()), error_kinds=dict(client.errors),
                   wrong=client.wrong, moved=client.moved, asked=client.asked)
        rt.log(f"  {kind}: reshard {res['wall_s']:.2f} s (rc {rc}), {res['cpu_s']:.1f} "
               f"CPU-s of the masters; client {len(lat)} requests in the window, p50 "
               f"{(res['p50'] or 0) * 1e3:.2f} ms p99 {(res['p99'] or 0) * 1e3:.2f} ms max "
               f"{(res['max'] or 0) * 1e3:.1f} ms, errors {client.errors}, wrong "
               f"{client.wrong}, MOVED {client.moved}, ASK {client.asked}; slowest: "
               + ", ".join(f"{d * 1e3:.0f} ms {op} slot {sl} at +{t - t_start:.1f} s"
                           + (f" ({how})" if how else "")
                           for d, t, op, sl, how in reversed(client.slowest) if d))
        # after the move
        ok, why = cluster_check(ports[0], timeout=120)
        res["check"] = "ok" if ok else why
        left, arrived = count_keys(ports[0], moving), count_keys(ports[1], moving)
        res["counts"] = f"{left}/{arrived}"
        idxs, bad, first = read_back(rt, ports[1], keys, client)
        res["verified"] = len(idxs)
        res["bad"] = bad
        rt.log(f"  {kind}: check {res['check']}; moving slots' keys on master 0/1 after: "
               f"{left}/{arrived} (master 0 had {before}); {len(idxs):,} keys read from "
               f"master 1: {bad} wrong {first}")
        note_after(res, left, arrived, before, bad, first, ok, why)
        # where the time goes: the same commands by hand, each timed, for slots that now
        # hold keys on master 1, moved on to master 2 with no client running
        try:
            (res["steps"], res["steps_floor"], res["steps_wall"],
             res["steps_floor_wall"]) = step_profile(ports, ids, 1, 2, 0, range(STEP_SLOTS))
        except (OSError, ConnectionError) as e:
            res["steps_error"] = str(e)[:80]
            rt.log(f"  {kind}: step profile: {e}")
    finally:
        rt.stop_nodes(grp.servers)
    return res


def section(b, rt):
    """The `reshard` section of run.py: rt is the run module."""
    nkeys = 100_000 if rt.QUICK else 1_000_000
    timeout = 600 if rt.QUICK else 3600
    keys = make_keys(nkeys)
    runs = {"shoal": [], "redis": []}
    for _ in range(rt.REPEAT):
        for kind in ("shoal", "redis"):
            try:
                runs[kind].append(run_one(b, rt, kind, keys, timeout))
            except (rt.BenchError, OSError, ConnectionError) as e:
                rt.log(f"  {kind}: {e}")
                runs[kind].append({"error": str(e).splitlines()[0][:80]})
    pick = {}
    for kind, rs in runs.items():
        good = sorted((r for r in rs if "wall_s" in r), key=lambda r: r["wall_s"])
        pick[kind] = good[len(good) // 2] if good else rs[0]
    s, r = pick["shoal"], pick["redis"]

    def num(res, key, scale=1.0, fmt="{:.2f}"):
        v = res.get(key)
        return "-" if v is None else fmt.format(v * scale)

    def ratio(key):
        return rt.fmt_ratio(s.get(key), r.get(key))
    rows = [
        ["reshard wall time s", num(s, "wall_s"), num(r, "wall_s"), ratio("wall_s"), "<= 0.50"],
        ["masters' CPU during it s", num(s, "cpu_s"), num(r, "cpu_s"), ratio("cpu_s"), ""],
        ["client requests in window", num(s, "requests", fmt="{:,.0f}"),
         num(r, "requests", fmt="{:,.0f}"), ratio("requests"), ""],
        ["client p50 ms", num(s, "p50", 1e3), num(r, "p50", 1e3), ratio("p50"), ""],
        ["client p99 ms", num(s, "p99", 1e3), num(r, "p99", 1e3), ratio("p99"), "<= 1.00"],
        ["client max ms", num(s, "max", 1e3, "{:.1f}"), num(r, "max", 1e3, "{:.1f}"),
         ratio("max"), ""],
        ["redis-cli CPU during it s", num(s, "cli_cpu_s"), num(r, "cli_cpu_s"), ratio("cli_cpu_s"), ""],
        ["PING round trip (server side) us",
         "-" if "ping_rtt" not in s else f"{(s['ping_rtt'] - s['ping_cli_cpu']) * 1e6:.1f}",
         "-" if "ping_rtt" not in r else f"{(r['ping_rtt'] - r['ping_cli_cpu']) * 1e6:.1f}", "", ""],
        ["floor: redis-cli CPU + round trips x PING s", num(s, "floor_s"), num(r, "floor_s"),
         ratio("floor_s"), ""],
        ["floor / redis's wall time", rt.fmt_ratio(s.get("floor_s"), r.get("wall_s")),
         rt.fmt_ratio(r.get("floor_s"), r.get("wall_s")), "", "< 0.50 for 0.50 to be reachable"],
        ["client errors", str(s.get("errors", "-")), str(r.get("errors", "-")), "", "0"],
        ["client wrong GET values", str(s.get("wrong", "-")), str(r.get("wrong", "-")), "", "0"],
        ["client MOVED / ASK", f"{s.get('moved', '-')} / {s.get('asked', '-')}",
         f"{r.get('moved', '-')} / {r.get('asked', '-')}", "", ""],
        ["--cluster check after", s.get("check", "-"), r.get("check", "-"), "", "ok"],
        ["moving slots' keys on master 0/1 after", s.get("counts", "-"), r.get("counts", "-"),
         "", f"0/{nkeys}+"],
        ["keys read back wrong from master 1", f"{s.get('bad', '-')} of {s.get('verified', '-')}",
         f"{r.get('bad', '-')} of {r.get('verified', '-')}", "", "0"],
        ["load of the keys s", num(s, "load_s"), num(r, "load_s"), ratio("load_s"), ""],
        ["result", s.get("error", "ok"), r.get("error", "ok"), "", ""],
    ]
    b.table(f"redis-cli --cluster reshard of {MOVE_SLOTS} slots holding {nkeys:,} keys "
            f"({VALUE_LEN}-byte values), {len(RANGES)} masters, under a GET/SET client",
            ["", "shoal", "redis", "ratio", "target"], rows,
            [f"master 0 owns {RANGES[0][0]}..{RANGES[0][1]}, the keys live in slots "
             f"0..{MOVE_SLOTS - 1}, which redis-cli --cluster reshard --cluster-slots "
             f"{MOVE_SLOTS} --cluster-pipeline {PIPELINE} --cluster-yes moves to master 1",
             "client: one python thread, GET and SET alternately on random loaded keys, one "
             "request at a time, one connection per node, following MOVED and ASK; latency per "
             "request (redirects included) for requests inside the reshard's wall time; "
             + (f"paced at {RATE:,.0f} requests/s, latency counted from when a request was due"
                if RATE > 0 else "each request sent when the last reply lands"),
             "errors = replies that are errors other than MOVED/ASK (followed), or I/O errors; "
             "wrong = GET values other than the key's last acknowledged write",
             "after: every key (quick) or a 100,000-key sample plus every key the client wrote "
             "read from master 1 directly; CPU = schedstat of the 3 masters during the move",
             f"floor: what redis-cli's serial round trips cost whatever the server: its own "
             f"CPU during the move, plus {sum(round_trips(keys)):,} round trips (its "
             "SETSLOT, GETKEYSINSLOT and MIGRATE calls, and each MIGRATE's to the target) "
             "times the server side of one PING round trip (the fastest of "
             f"{PING_BATCHES} `redis-cli -r {PING_ROUNDS:,} PING` on master 0 before the "
             "client starts, less redis-cli's CPU per PING); no server woken once per command "
             "does less, so a floor above half of redis's wall time puts 0.50 out of reach",
             f"median of {rt.REPEAT} run(s) by wall time; ratio = shoal / redis; shoal masters: "
             + (" ".join(rt.cluster_extra_args("shoal")) or
                f"default worker threads ({rt.NCPU} CPUs)")])

    def med(res, name, key="steps"):
        xs = sorted(res.get(key, {}).get(name) or [])
        return xs[len(xs) // 2] if xs else None

    def step(res, name):
        if "steps" not in res:
            return res.get("steps_error") or res.get("error") or "-"
        xs = res["steps"][name]
        return f"{len(xs)} x {sum(xs) / len(xs) * 1e3:.2f}" if xs else "0"

    def us(v):
        return "-" if v is None else f"{v * 1e6:.0f}"

    def per_slot(res, name=None):
        if "steps" not in res:
            return "-"
        if name is None:
            return f"{res['steps_wall'] / STEP_SLOTS * 1e3:.2f}"
        return f"{sum(res['steps'][name]) / STEP_SLOTS * 1e3:.2f}"
    rows = [[name, step(s, name), step(r, name), rt.fmt_ratio(med(s, name), med(r, name)),
             f"{us(med(s, name))} / {us(med(s, name, 'steps_floor'))}",
             f"{us(med(r, name))} / {us(med(r, name, 'steps_floor'))}",
             per_slot(s, name), per_slot(r, name)] for name in STEPS]
    rows.append(["all (wall)", "", "", "", "", "", per_slot(s), per_slot(r)])
    rows.append(["the floor passes (wall)", "", "", "", "", "",
                 "-" if "steps" not in s else f"{s['steps_floor_wall'] / STEP_SLOTS * 1e3:.2f}",
                 "-" if "steps" not in r else f"{r['steps_floor_wall'] / STEP_SLOTS * 1e3:.2f}"])
    b.table(f"Where a reshard's time goes: {STEP_SLOTS} of the moved slots, master 1 -> master 2, "
            "redis-cli's commands sent by hand and timed",
            ["command (node)", "shoal n x ms", "redis n x ms", "median ratio",
             "shoal median / floor us", "redis median / floor us", "shoal ms/slot",
             "redis ms/slot"], rows,
            ["after the run above, on the same clusters, no client running: for each slot the "
             "commands redis-cli --cluster reshard sends, in its order, each timed from send to "
             f"reply; GETKEYSINSLOT/MIGRATE batches of {PIPELINE} keys",
             "floor: after each slot, its sequence again with a PING sent to the same node in "
             "place of each command (a MIGRATE: a PING to the source, then one to the target, "
             "its inner round trip), moving nothing; a step's median over its floor's is "
             "what the server's work costs on top of the round trips",
             "both servers answer a SETSLOT once the new nodes.conf is written, and fsync it "
             "only where 7.0.15 does (a configEpoch bump, a vote; docs/cluster-bus.md); shoal's "
             "SETSLOT is applied by the client's worker on the state thread's data while that "
             "thread sleeps (else worker -> state actor -> worker); nodes.conf is written in "
             "place when no fsync is needed, else by the persister"])
    # atomic slot migration of the same slots and keys on shoal, set against redis-server's
    # classic reshard of this run (bench/migrateslots_bench.py)
    import migrateslots_bench
    migrateslots_bench.section(b, rt, keys, timeout, r)
