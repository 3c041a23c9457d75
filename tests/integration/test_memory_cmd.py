"""MEMORY USAGE/STATS/DOCTOR/MALLOC-STATS/PURGE/HELP and INFO memory, as redis-server 7.0.15.

What it is for: the MEMORY subcommands answer with 7.0.15's shapes and errors (USAGE's
SAMPLES checks, a missing key's null, STATS' field names in order, DOCTOR's texts,
HELP's lines, PURGE's OK); MEMORY USAGE gives figures close to redis-server's for the
same data; INFO memory and INFO stats list 7.0.15's fields in its order, and used_memory
follows what the node holds (it grows with a load, falls back after FLUSHALL).

Tolerances, stated: shoal runs on glibc malloc and its own encodings, redis-server on
jemalloc, so byte counts differ. A string's MEMORY USAGE must be within 10 % of
redis-server's (both count one allocation rounded up by the allocator); a collection's,
small (listpack, intset) or of 1,000 elements (hashtable, skiplist, quicklist), within
a factor of 2 either way. MEMORY MALLOC-STATS answers as a redis-server built without
jemalloc does (shoal's allocator is glibc's), so it is checked against that text, not
against the jemalloc report the Debian redis-server prints.

What it must never do: compare figures that depend on the allocator byte for byte.
"""
import helpers as h

SA = "standalone"


def _start(servers, kind):
    if kind == "shoal":
        return servers.shoal(base_args=SA)
    return servers.redis(base_args=SA)


def _fill(c):
    c.call("FLUSHALL")
    c.call("SET", "k", "v")
    c.call("SET", "k100", "a" * 100)
    c.call("SET", "k1000", "a" * 1000)
    c.call("SET", "n", "12345")
    c.call("RPUSH", "l", "a", "b", "c")
    c.call("HSET", "h", "f", "v", "g", "w")
    c.call("SADD", "s", "1", "2", "3")
    c.call("SADD", "s2", "a", "b", "c")
    c.call("ZADD", "z", "1", "a", "2", "b")
    for start in range(0, 1000, 250):
        r = range(start, start + 250)
        c.call("RPUSH", "bl", *[f"elem{i}" for i in r])
        c.call("HSET", "bh", *[x for i in r for x in (f"f{i}", f"v{i}")])
        c.call("SADD", "bs", *[f"m{i}" for i in r])
        c.call("ZADD", "bz", *[x for i in r for x in (str(i), f"m{i}")])


STRINGS = ["k", "k100", "k1000"]
COLLECTIONS = ["n", "l", "h", "s", "s2", "z", "bl", "bh", "bs", "bz"]

REPLIES = [("MEMORY", "USAGE", "nokey"), ("MEMORY", "USAGE", "k", "SAMPLES", "-1"),
           ("MEMORY", "USAGE", "k", "SAMPLES", "x"), ("MEMORY", "USAGE", "k", "FOO"),
           ("MEMORY", "USAGE", "k", "SAMPLES"), ("MEMORY", "USAGE"), ("MEMORY",),
           ("MEMORY", "NOPE"), ("MEMORY", "STATS", "x"), ("MEMORY", "PURGE"), ("MEMORY", "HELP"),
           ("MEMORY", "DOCTOR"), ("MEMORY", "HELP", "x")]


def test_memory_usage_close_to_redis(servers):
    got, want = {}, {}
    for kind, out in (("shoal", got), ("redis", want)):
        with _start(servers, kind).raw() as c:
            _fill(c)
            for k in STRINGS + COLLECTIONS:
                out[k] = c.call("MEMORY", "USAGE", k)
                out[k + "/0"] = c.call("MEMORY", "USAGE", k, "SAMPLES", "0")
    for k in STRINGS:
        assert abs(got[k] - want[k]) <= want[k] * 0.10, (k, got[k], want[k])
    for k in COLLECTIONS:
        assert want[k] / 2 <= got[k] <= want[k] * 2, (k, got[k], want[k])
        assert got[k + "/0"] == got[k]


def test_memory_replies_as_redis(servers):
    out = {}
    for kind in ("shoal", "redis"):
        with _start(servers, kind).raw() as c:
            c.call("FLUSHALL")
            c.call("SET", "k", "v")
            out[kind] = [c.call(*cmd) for cmd in REPLIES]
    assert out["shoal"] == out["redis"], [(cmd, a, b) for cmd, a, b in zip(REPLIES, out["shoal"], out["redis"])
                                         if a != b]


def test_memory_stats_fields_as_redis(servers):
    keys = {}
    for kind in ("shoal", "redis"):
        with _start(servers, kind).raw() as c:
            empty = c.call("MEMORY", "STATS")
            _fill(c)
            full = c.call("MEMORY", "STATS")
            malloc = c.call("MEMORY", "MALLOC-STATS")
        keys[kind] = ([empty[i] for i in range(0, len(empty), 2)], [full[i] for i in range(0, len(full), 2)],
                      full[full.index(b"db.0") + 1][0::2])
        stats = dict(zip(full[0::2], full[1::2]))
        assert stats[b"keys.count"] == 13, stats
        assert stats[b"total.allocated"] >= stats[b"startup.allocated"], stats
        if kind == "shoal":
            assert malloc == b"Stats not supported for the current allocator"
    assert keys["shoal"] == keys["redis"], keys


def test_info_memory_and_stats_fields_in_redis_order(servers):
    names = {}
    for kind in ("shoal", "redis"):
        with _start(servers, kind).raw() as c:
            names[kind] = [[ln.split(":")[0] for ln in c.call("INFO", sec).decode().splitlines()]
                           for sec in ("memory", "stats")]
    assert names["shoal"] == names["redis"]


def test_used_memory_follows_the_data(servers):
    srv = _start(servers, "shoal")
    with srv.raw() as c:
        before = h.info_dict(c.call("INFO", "memory"))
        for start in range(0, 20000, 1000):
            c.call("MSET", *[x for i in range(start, start + 1000) for x in (f"key:{i}", "x" * 200)])
        loaded = h.info_dict(c.call("INFO", "memory"))
        c.call("FLUSHALL")
        after = h.info_dict(c.call("INFO", "memory"))
    used0, used1, used2 = (int(d["used_memory"]) for d in (before, loaded, after))
    # 20,000 keys of 200 bytes: at least 4 MB more, and given back by FLUSHALL
    assert used1 - used0 > 4_000_000, (used0, used1)
    assert used2 < used0 + 1_000_000, (used0, used2)
    assert int(loaded["used_memory_peak"]) >= used1
    assert int(loaded["used_memory_dataset"]) > 3_500_000, loaded
    assert int(before["used_memory_startup"]) > 0
    assert float(loaded["mem_fragmentation_ratio"]) > 0
    assert loaded["mem_allocator"] == "libc"
