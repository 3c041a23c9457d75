#!/usr/bin/python3
"""maxmemory and eviction, shoal and redis-server 7.0.15 side by side (a section of bench/run.py).

What it is for:
- SET throughput under maxmemory with allkeys-lru evicting: redis-benchmark writes 100-byte
  values over 10 M random keys into a node capped at MAXMEM (filled past the cap first, so
  every measured write evicts); requests per second, the shoal/redis ratio, evicted keys,
  and the highest used_memory and RSS sampled every 50 ms during the run against the cap.
- The hit rate of a cache on a skewed workload: GETs of keys drawn from a Zipf
  distribution (s = 0.99) over KEYS keys, a SET after each miss (cache-aside), against a
  node whose maxmemory holds a fraction of them, for allkeys-lru and allkeys-lfu. Both
  servers get the same key sequence (same seed); the cap is set above each server's own
  memory at start, so start-up sizes do not count. shoal holds more keys in the same
  bytes, so a third run caps it to hold as many keys as redis-server did: that row
  compares the eviction policies alone. The first third of the requests warm the cache
  and are not counted.

What it must never do: stop a process it did not start; report a number it did not measure.
"""
import bisect
import random
import subprocess
import threading
import time

MAXMEM = 16 * 1024 * 1024
VALUE = b"v" * 100


def _info(run, port, section):
    text = run.resp_call(port, "INFO", section)
    text = text.decode() if isinstance(text, bytes) else str(text)
    return dict(ln.split(":", 1) for ln in text.splitlines() if ":" in ln and not ln.startswith("#"))


def _rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * 4096


class Sampler:
    """Polls used_memory (INFO) and RSS every 50 ms while a load runs; keeps the highest."""

    def __init__(self, run, srv):
        self.run, self.srv = run, srv
        self.used = self.rss = 0
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self.stop_ev.is_set():
            try:
                self.used = max(self.used, int(_info(self.run, self.srv.port, "memory")["used_memory"]))
                self.rss = max(self.rss, _rss(self.srv.popen.pid))
            except (OSError, KeyError, ValueError):
                pass
            self.stop_ev.wait(0.05)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.t.join()


def _benchmark(run, srv, n):
    argv = [run.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.port), "-t", "set", "-n", str(n),
            "-c", str(run.CLIENTS), "-P", "16", "-r", "10000000", "-d", str(len(VALUE)), "--csv", "-q"]
    cpu0 = srv.cpu_seconds()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=run.RUN_TIMEOUT, start_new_session=True)
    if out.returncode != 0 or srv.popen.poll() is not None:
        raise run.BenchError(f"redis-benchmark against {srv.label}: {(out.stderr or out.stdout).strip()[:200]}")
    row = [r for r in out.stdout.replace('"', "").splitlines() if r.upper().startswith("SET,")]
    if not row:
        raise run.BenchError(f"no SET row from redis-benchmark: {out.stdout[:200]}")
    return float(row[0].split(",")[1]), srv.cpu_seconds() - cpu0


def set_under_maxmemory(b, run):
    n = 200000 if run.QUICK else 2000000
    res = {}
    for kind in ("shoal", "redis"):
        srv = b.server(kind, ["--maxmemory", str(MAXMEM), "--maxmemory-policy", "allkeys-lru"])
        _benchmark(run, srv, 300000)                      # past the cap: every write now evicts
        ev0 = int(_info(run, srv.port, "stats")["evicted_keys"])
        runs = []
        with Sampler(run, srv) as s:
            for _ in range(run.REPEAT):
                runs.append(_benchmark(run, srv, n))
        runs.sort()
        rps, cpu = runs[len(runs) // 2]
        evicted = int(_info(run, srv.port, "stats")["evicted_keys"]) - ev0
        res[kind] = (rps, cpu, evicted, s.used, s.rss)
        run.log(f"  {srv.label} SET under maxmemory: {rps:,.0f} rps, {evicted:,} evicted, "
                f"used_memory max {s.used:,}, RSS max {s.rss:,}")
        b.stop(srv)
    rows = []
    for kind in ("shoal", "redis"):
        rps, cpu, evicted, used, rss = res[kind]
        rows.append([kind, run.fmt_num(rps), run.fmt_num(n * run.REPEAT / cpu if cpu else None), f"{evicted:,}",
                     f"{used / 2**20:.2f} MB", f"{(used - MAXMEM) / 2**10:+.0f} KB", f"{rss / 2**20:.1f} MB"])
    s, r = res["shoal"], res["redis"]
    rows.append(["ratio", run.fmt_ratio(s[0], r[0]), "", "", "", "", ""])
    b.table(f"SET under maxmemory {MAXMEM // 2**20} MB, allkeys-lru evicting (redis-benchmark -P 16 -c "
            f"{run.CLIENTS} -d {len(VALUE)} -r 10M, {n:,} requests)",
            ["server", "SET/s", "req/CPU-s", "evicted", "used_memory max", "over cap", "RSS max"], rows,
            ["used_memory and RSS: the highest of samples every 50 ms during the run",
             "target: ratio >= 1.0; used_memory within the cap + a few hundred KB"])


def zipf_sequence(nkeys, nreq, seed, s=0.99):
    """nreq key ids drawn from Zipf(s) over nkeys ranks, the ranks shuffled over the ids
    (hot keys spread over slots and workers); the same for both servers."""
    rng = random.Random(seed)
    cdf, total = [], 0.0
    for k in range(1, nkeys + 1):
        total += 1.0 / k ** s
        cdf.append(total)
    ids = list(range(nkeys))
    rng.shuffle(ids)
    return [ids[min(bisect.bisect_left(cdf, rng.random() * total), nkeys - 1)] for _ in range(nreq)]


def hit_rate(run, port, seq, batch=200):
    """Cache-aside over seq: a batch of GETs pipelined, then a SET for each miss."""
    conn = run.resp_wire.Conn(port, timeout=30)
    hits = counted = 0
    warm = len(seq) // 3
    try:
        for start in range(0, len(seq), batch):
            keys = [b"key:%d" % k for k in seq[start:start + batch]]
            conn.sock.sendall(b"".join(run.resp_wire.encode([b"GET", k]) for k in keys))
            missed = []
            for i, k in enumerate(keys):
                v = conn.reply()
                if start + i >= warm:
                    counted += 1
                    hits += v is not None
                if v is None:
                    missed.append(k)
            if missed:
                conn.sock.sendall(b"".join(run.resp_wire.encode([b"SET", k, VALUE]) for k in missed))
                for _ in missed:
                    r = conn.reply()
                    if r != "OK":
                        raise run.BenchError(f"SET refused: {r}")
    finally:
        conn.close()
    return hits / counted if counted else 0.0


def zipf_hit_rate(b, run):
    nkeys = 100000 if run.QUICK else 300000
    nreq = 300000 if run.QUICK else 1500000
    seq = zipf_sequence(nkeys, nreq, seed=17)
    budget = 4 * 1024 * 1024        # above each server's memory at start: a fifth of the keys met fit
    rows, res = [], {}

    def one(kind, policy, cap_over_base=None, label=None):
        srv = b.server(kind, ["--maxmemory-policy", policy])
        base = int(_info(run, srv.port, "memory")["used_memory"])
        cap = base + (cap_over_base or budget)
        run.resp_call(srv.port, "CONFIG", "SET", "maxmemory", str(cap))
        t0 = time.monotonic()
        with Sampler(run, srv) as smp:
            rate = hit_rate(run, srv.port, seq)
        keys = run.resp_call(srv.port, "DBSIZE")
        used = int(_info(run, srv.port, "memory")["used_memory"])
        run.log(f"  {srv.label} {policy}: hit rate {rate:.4f}, {keys:,} keys held, {time.monotonic() - t0:.1f} s, "
                f"used_memory max {smp.used:,} (cap {cap:,})")
        rows.append([policy, label or kind, f"{rate * 100:.2f} %", f"{keys:,}", f"{(smp.used - cap) / 2**10:+.0f} KB"])
        b.stop(srv)
        return rate, keys, (used - base) / keys if keys else 0

    for policy in ("allkeys-lru", "allkeys-lfu"):
        r_rate, r_keys, _ = one("redis", policy)
        s_rate, s_keys, s_per_key = one("shoal", policy)
        rows.append([policy, "shoal - redis", f"{(s_rate - r_rate) * 100:+.2f} pts", "", ""])
        # the policy alone: shoal capped to hold as many keys as redis-server held
        e_rate, _, _ = one("shoal", policy, int(r_keys * s_per_key), "shoal, redis's key count")
        rows.append([policy, "(same keys) - redis", f"{(e_rate - r_rate) * 100:+.2f} pts", "", ""])
    b.table(f"Hit rate, Zipf(0.99) GETs over {nkeys:,} keys with SET on a miss, cap = memory at start + "
            f"{budget // 2**20} MB ({nreq:,} requests, the first third warming)",
            ["policy", "server", "hit rate", "keys held", "used_memory max over cap"], rows,
            ["same key sequence (seed 17) for both servers; shoal holds more keys in the same bytes",
             "'shoal, redis's key count': cap set from shoal's bytes per key to hold redis-server's count",
             "target: |shoal - redis| <= 2 points (the same-keys row compares the policies alone)"])


def section(b, run):
    set_under_maxmemory(b, run)
    zipf_hit_rate(b, run)


if __name__ == "__main__":
    import sys
    sys.exit("run through bench/run.py: BENCH_ONLY=maxmemory make bench")
