"""OBJECT FREQ after one command: how many times each command counts as an access to
each key it names, compared with redis-server 7.0.15.

What it is for: with maxmemory-policy allkeys-lfu and lfu-log-factor 0 every access
raises a key's LFU counter by exactly one (the probability 1/((c-5)*0+1) is 1), so the
counter after a command tells how many accesses it made. 7.0.15 counts one per lookup
the command does: SET ... GET looks the key up twice (GET, then the write), SET ... NX
once, INCRBYFLOAT once, and a value that replaces another under LFU keeps the old one's
counter. Each case starts from fresh keys on both servers and compares every key's
counter.

What it must never do: rely on the LFU counter's randomness (log factor 0 removes it) or
on minute decay (a case runs in well under a minute; decay time is set to 0, off).
"""
import helpers as h

SA = "standalone"

# (setup commands, the command under test, keys whose counter is compared)
CASES = [
    ([("SET", "k", "1")], ("SET", "k", "2"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "NX"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "XX"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "GET"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "XX", "GET"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "NX", "GET"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "KEEPTTL"), ["k"]),
    ([("SET", "k", "1")], ("SET", "k", "2", "EX", "100"), ["k"]),
    ([], ("SET", "k", "2", "XX"), ["k"]),
    ([], ("SET", "k", "2", "GET"), ["k"]),
    ([("SET", "k", "1")], ("SETNX", "k", "2"), ["k"]),
    ([("SET", "k", "1")], ("SETEX", "k", "100", "2"), ["k"]),
    ([("SET", "k", "1")], ("PSETEX", "k", "100000", "2"), ["k"]),
    ([("SET", "k", "1")], ("GETSET", "k", "2"), ["k"]),
    ([("SET", "k", "1")], ("GETEX", "k", "EX", "100"), ["k"]),
    ([("SET", "k", "1")], ("GETEX", "k", "PERSIST"), ["k"]),
    ([("SET", "k", "1")], ("GET", "k"), ["k"]),
    ([("SET", "k", "1")], ("INCR", "k"), ["k"]),
    ([("SET", "k", "1")], ("DECRBY", "k", "3"), ["k"]),
    ([("SET", "k", "100000")], ("INCRBY", "k", "100000"), ["k"]),
    ([("SET", "k", "1.5")], ("INCRBYFLOAT", "k", "2.25"), ["k"]),
    ([("SET", "k", "1")], ("INCRBYFLOAT", "k", "1"), ["k"]),
    ([("SET", "k", "abc")], ("APPEND", "k", "def"), ["k"]),
    ([("SET", "k", "abc")], ("SETRANGE", "k", "1", "xyz"), ["k"]),
    ([("SET", "k", "abc")], ("GETRANGE", "k", "0", "1"), ["k"]),
    ([("SET", "k", "abc")], ("STRLEN", "k"), ["k"]),
    ([("SET", "k", "1"), ("SET", "j", "2")], ("MSET", "k", "3", "j", "4"), ["k", "j"]),
    ([("SET", "k", "1"), ("SET", "j", "2")], ("MGET", "k", "j"), ["k", "j"]),
    ([("SET", "k", "1")], ("MSETNX", "k", "3", "j", "4"), ["k"]),
    ([("SET", "k", "a")], ("SETBIT", "k", "3", "1"), ["k"]),
    ([("SET", "k", "a")], ("GETBIT", "k", "3"), ["k"]),
    ([("SET", "k", "a")], ("BITCOUNT", "k"), ["k"]),
    ([("SET", "k", "a")], ("BITFIELD", "k", "INCRBY", "u8", "0", "1"), ["k"]),
    ([("SET", "k", "a"), ("SET", "j", "b")], ("BITOP", "AND", "k", "k", "j"), ["k", "j"]),
    ([("PFADD", "p", "a")], ("PFADD", "p", "b"), ["p"]),
    ([("PFADD", "p", "a")], ("PFCOUNT", "p"), ["p"]),
    ([("PFADD", "p", "a"), ("PFADD", "q", "b")], ("PFMERGE", "p", "q"), ["p", "q"]),
    ([("RPUSH", "l", "a")], ("RPUSH", "l", "b"), ["l"]),
    ([("RPUSH", "l", "a")], ("LPUSHX", "l", "b"), ["l"]),
    ([("RPUSH", "l", "a", "b")], ("LPOP", "l"), ["l"]),
    ([("RPUSH", "l", "a", "b")], ("LSET", "l", "0", "x"), ["l"]),
    ([("RPUSH", "l", "a", "b")], ("LINSERT", "l", "BEFORE", "b", "x"), ["l"]),
    ([("RPUSH", "l", "a", "b")], ("LRANGE", "l", "0", "-1"), ["l"]),
    ([("RPUSH", "l", "a", "b"), ("RPUSH", "m", "c")], ("LMOVE", "l", "m", "LEFT", "RIGHT"), ["l", "m"]),
    ([("RPUSH", "l", "a", "b")], ("LMOVE", "l", "l", "LEFT", "RIGHT"), ["l"]),
    ([("RPUSH", "l", "a", "b"), ("RPUSH", "m", "c")], ("RPOPLPUSH", "l", "m"), ["l", "m"]),
    ([("RPUSH", "l", "a", "b", "a")], ("LREM", "l", "0", "a"), ["l"]),
    ([("RPUSH", "l", "a", "b", "c")], ("LTRIM", "l", "1", "-1"), ["l"]),
    ([("RPUSH", "l", "a", "b", "c")], ("LPOS", "l", "b"), ["l"]),
    ([("HSET", "h", "f", "1")], ("HSET", "h", "g", "2"), ["h"]),
    ([("HSET", "h", "f", "1")], ("HINCRBY", "h", "f", "2"), ["h"]),
    ([("HSET", "h", "f", "1")], ("HINCRBYFLOAT", "h", "f", "2.5"), ["h"]),
    ([("HSET", "h", "f", "1")], ("HSETNX", "h", "f", "2"), ["h"]),
    ([("HSET", "h", "f", "1")], ("HGETALL", "h"), ["h"]),
    ([("SADD", "s", "a", "b")], ("SADD", "s", "c"), ["s"]),
    ([("SADD", "s", "a", "b"), ("SADD", "t", "c")], ("SMOVE", "s", "t", "a"), ["s", "t"]),
    ([("SADD", "s", "a", "b"), ("SADD", "t", "b")], ("SINTERSTORE", "t", "s", "t"), ["s", "t"]),
    ([("SADD", "s", "a", "b"), ("SADD", "t", "b")], ("SUNIONSTORE", "s", "s", "t"), ["s", "t"]),
    ([("SADD", "s", "a", "b")], ("SPOP", "s"), ["s"]),
    ([("ZADD", "z", "1", "a")], ("ZADD", "z", "2", "b"), ["z"]),
    ([("ZADD", "z", "1", "a")], ("ZADD", "z", "INCR", "2", "a"), ["z"]),
    ([("ZADD", "z", "1", "a")], ("ZINCRBY", "z", "2", "a"), ["z"]),
    ([("ZADD", "z", "1", "a", "2", "b")], ("ZPOPMIN", "z"), ["z"]),
    ([("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "y", "3", "c")], ("ZRANGESTORE", "y", "z", "0", "-1"), ["z", "y"]),
    ([("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "y", "3", "c")], ("ZUNIONSTORE", "z", "2", "z", "y"), ["z", "y"]),
    ([("SET", "k", "1")], ("EXPIRE", "k", "100"), ["k"]),
    ([("SET", "k", "1", "EX", "100")], ("PERSIST", "k"), ["k"]),
    ([("SET", "k", "1")], ("TOUCH", "k"), ["k"]),
    ([("SET", "k", "1")], ("DUMP", "k"), ["k"]),
    ([("SET", "k", "1")], ("RENAME", "k", "j"), ["j"]),
    ([("SET", "k", "1"), ("SET", "j", "2")], ("COPY", "k", "j", "REPLACE"), ["k", "j"]),
    ([("RPUSH", "l", "3", "1", "2")], ("SORT", "l"), ["l"]),
    ([("RPUSH", "l", "3", "1", "2"), ("SET", "k", "1")], ("SORT", "l", "STORE", "k"), ["l", "k"]),
]


def _run(c):
    out = []
    for setup, cmd, keys in CASES:
        c.call("FLUSHALL")
        for s in setup:
            c.call(*s)
        reply = c.call(*cmd)
        freqs = [c.call("OBJECT", "FREQ", k) for k in keys]
        # DUMP's payload (its checksum) and SPOP's pick are not compared; their counters are
        out.append((cmd, None if cmd[0] in ("DUMP", "SPOP") else reply, freqs))
    return out


def test_lfu_counter_per_command_as_redis(servers):
    shoal = servers.shoal(base_args=SA)
    redis = servers.redis(base_args=SA)
    got, want = [], []
    for srv, out in ((shoal, got), (redis, want)):
        with srv.raw() as c:
            c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
            c.call("CONFIG", "SET", "lfu-log-factor", "0")
            c.call("CONFIG", "SET", "lfu-decay-time", "0")
            # A maxmemory limit under an LFU policy stops 7.0.15 from sharing one object
            # among small integer values (whose counter every such key would bump).
            c.call("CONFIG", "SET", "maxmemory", "1000000000")
            out.extend(_run(c))
    diffs = [(g[0], g[2], w[2]) for g, w in zip(got, want) if g[2] != w[2]]
    assert not diffs, "command, shoal freqs, redis freqs: %r" % (diffs,)
    assert [g[1] for g in got] == [w[1] for w in want]
