"""OBJECT IDLETIME and OBJECT FREQ: the per-key access clock, as redis-server 7.0.15.

What it is for: under an LRU (or no) maxmemory-policy OBJECT IDLETIME answers the
seconds since the key was last accessed; OBJECT, TYPE, EXISTS and the TTL family are
not accesses, GET and SET are; RESTORE ... IDLETIME sets it. Under an LFU policy OBJECT
FREQ answers the logarithmic counter (5 for a new key, 6 after its first access,
RESTORE ... FREQ sets it); each subcommand answers 7.0.15's error under the other
policy. Each check runs on shoal and redis-server and compares.

What it must never do: compare idle times exactly (the two servers' one-second clocks
may tick apart: each is checked against the time that passed).
"""
import time

import helpers as h

SA = "standalone"


def _setup(c):
    c.call("FLUSHALL")
    c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    # no decay: a counter read in the minute after the access that set it would lose one
    assert c.call("CONFIG", "SET", "lfu-decay-time", "0") == "OK"
    c.call("SET", "k", "v")
    c.call("RPUSH", "l", "a", "b")
    c.call("HSET", "h", "f", "1")


def _story(c):
    out = {}
    out["idle"] = [c.call("OBJECT", "IDLETIME", k) for k in ("k", "l", "h")]
    # not accesses
    for cmd in (("TYPE", "k"), ("EXISTS", "k", "l"), ("TTL", "k"), ("PTTL", "l"), ("EXPIRETIME", "h"),
                ("OBJECT", "ENCODING", "k"), ("OBJECT", "REFCOUNT", "l")):
        c.call(*cmd)
    out["idle_after_reads"] = [c.call("OBJECT", "IDLETIME", k) for k in ("k", "l", "h")]
    # accesses
    c.call("GET", "k")
    c.call("LRANGE", "l", "0", "-1")
    c.call("HSET", "h", "g", "2")
    out["idle_after_access"] = [c.call("OBJECT", "IDLETIME", k) for k in ("k", "l", "h")]
    payload = c.call("DUMP", "k")
    out["restore"] = c.call("RESTORE", "r", "0", payload, "IDLETIME", "1000")
    out["restored_idle"] = c.call("OBJECT", "IDLETIME", "r")
    out["missing"] = c.call("OBJECT", "IDLETIME", "nokey")
    out["freq_lru"] = c.call("OBJECT", "FREQ", "k")
    # LFU
    c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    c.call("SET", "f", "v")
    out["freq_new"] = c.call("OBJECT", "FREQ", "f")
    c.call("GET", "f")
    out["freq_one"] = c.call("OBJECT", "FREQ", "f")
    c.call("TYPE", "f")
    c.call("EXISTS", "f")
    out["freq_reads"] = c.call("OBJECT", "FREQ", "f")
    for _ in range(300):
        c.call("GET", "f")
    out["freq_many"] = c.call("OBJECT", "FREQ", "f")
    out["restore_freq"] = c.call("RESTORE", "rf", "0", payload, "FREQ", "42")
    out["restored_freq"] = c.call("OBJECT", "FREQ", "rf")
    out["idle_lfu"] = c.call("OBJECT", "IDLETIME", "f")
    c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    return out


def test_object_idletime_and_freq_as_redis(servers):
    shoal = servers.shoal(base_args=SA)
    redis = servers.redis(base_args=SA)
    with shoal.raw() as s, redis.raw() as r:
        _setup(s)
        _setup(r)
        time.sleep(2.3)      # two ticks of the one-second clock pass on both
        got = _story(s)
        want = _story(r)
    for key in ("idle", "idle_after_reads"):
        assert all(2 <= x <= 3 for x in want[key]), want
        assert all(2 <= x <= 3 for x in got[key]), (key, got[key], want[key])
    for key in ("idle_after_access",):
        assert all(x <= 1 for x in want[key]) and all(x <= 1 for x in got[key]), (got[key], want[key])
    assert want["restored_idle"] in (1000, 1001) and got["restored_idle"] in (1000, 1001)
    assert 6 < want["freq_many"] < 30 and 6 < got["freq_many"] < 30, (got["freq_many"], want["freq_many"])
    for key in ("restore", "missing", "freq_lru", "freq_new", "freq_one", "freq_reads", "restore_freq",
                "restored_freq", "idle_lfu"):
        assert got[key] == want[key], (key, got[key], want[key])
    assert (want["freq_new"], want["freq_one"], want["restored_freq"]) == (5, 6, 42)
