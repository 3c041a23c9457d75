"""String and generic key commands, compared with a real redis-server 7.0.15.

Each scenario runs the same raw commands on our node and on a reference
redis-server (both cluster-enabled, owning every slot, flushed before the test)
and requires byte-identical replies. Timing-dependent behaviour (expiry, SCAN
over thousands of keys) is checked with explicit assertions. Never weaken an
expectation to match our node: the reference is the contract.
"""
import time

import pytest

import diffhelpers as d
import helpers as h

FAR = "4102444800"          # 2100-01-01 in seconds, fixed so both servers get the same value
FAR_MS = FAR + "000"

SCENARIOS = {
    "set_options": [
        ("SET", "k", "v"), ("SET", "k", "v2", "NX"), ("GET", "k"), ("SET", "k", "v3", "XX"),
        ("GET", "k"), ("SET", "n", "v", "XX"), ("GET", "n"), ("SET", "n", "v", "NX"),
        ("SET", "k", "v4", "GET"), ("SET", "new", "x", "GET"), ("GET", "new"),
        ("SET", "k", "v", "EX", "100"), ("TTL", "k"), ("SET", "k", "v", "KEEPTTL"), ("TTL", "k"),
        ("SET", "k", "v"), ("TTL", "k"), ("SET", "k", "v", "PX", "100000"), ("TTL", "k"),
        ("SET", "k", "v", "EXAT", FAR), ("EXPIRETIME", "k"), ("SET", "k", "v", "PXAT", FAR_MS),
        ("PEXPIRETIME", "k"), ("SET", "k", "v", "NX", "GET"), ("SET", "k2", "v", "NX", "GET"),
        ("SET", "k", "v", "EX", "0"), ("SET", "k", "v", "EX", "-1"), ("SET", "k", "v", "PX", "0"),
        ("SET", "k", "v", "EX", "abc"), ("SET", "k", "v", "NX", "XX"),
        ("SET", "k", "v", "EX", "10", "PX", "10"), ("SET", "k", "v", "KEEPTTL", "EX", "10"),
        ("SET", "k", "v", "BOGUS"), ("SET", "k", "v", "EX"), ("SET", "k"), ("SET",),
        ("set", "k", "lower", "ex", "50", "nx"), ("set", "k", "lower", "ex", "50", "xx"), ("GET", "k"),
        ("SET", "k", "v", "PXAT", "1"), ("GET", "k"), ("EXISTS", "k"),
        ("SET", "", "empty-key"), ("GET", ""), ("SET", "bin\x00key", "\x00\xff\r\n"), ("GET", "bin\x00key"),
        ("DBSIZE",),
    ],
    "getex_getset_getdel": [
        ("SET", "k", "v"), ("GETEX", "k"), ("GETEX", "k", "EX", "100"), ("TTL", "k"),
        ("GETEX", "k", "PERSIST"), ("TTL", "k"), ("GETEX", "k", "PX", "200000"), ("TTL", "k"),
        ("GETEX", "k", "EXAT", FAR), ("EXPIRETIME", "k"), ("GETEX", "missing", "EX", "10"),
        ("GETEX", "k", "EX", "0"), ("GETEX", "k", "EX", "10", "PX", "10"), ("GETEX", "k", "FOO"),
        ("GETEX", "k", "EX"), ("GETEX",), ("GETSET", "k", "new"), ("TTL", "k"), ("GETSET", "m", "x"),
        ("GETDEL", "k"), ("GETDEL", "k"), ("EXISTS", "k"), ("SETNX", "k", "1"), ("SETNX", "k", "2"),
        ("GET", "k"), ("SETEX", "k", "100", "v"), ("TTL", "k"), ("SETEX", "k", "0", "v"),
        ("SETEX", "k", "-5", "v"), ("SETEX", "k", "x", "v"), ("PSETEX", "k", "100000", "v"), ("TTL", "k"),
        ("PSETEX", "k", "0", "v"), ("GET", "k"), ("SETEX", "k", "1"),
    ],
    "incr_family": [
        ("INCR", "c"), ("INCR", "c"), ("INCRBY", "c", "10"), ("DECR", "c"), ("DECRBY", "c", "5"),
        ("INCRBY", "c", "-20"), ("GET", "c"), ("INCRBY", "c", "abc"), ("INCRBY", "c", "1.5"),
        ("SET", "s", "hello"), ("INCR", "s"), ("DECR", "s"), ("SET", "s", " 1"), ("INCR", "s"),
        ("SET", "s", "01"), ("INCR", "s"), ("SET", "s", "1 "), ("INCR", "s"), ("SET", "s", "+1"),
        ("INCR", "s"), ("SET", "s", "-0"), ("INCR", "s"),
        ("SET", "max", "9223372036854775807"), ("INCR", "max"), ("GET", "max"),
        ("SET", "min", "-9223372036854775808"), ("DECR", "min"),
        ("DECRBY", "x", "-9223372036854775808"), ("INCRBY", "x", "9223372036854775808"),
        ("SET", "big", "99999999999999999999"), ("INCR", "big"),
        ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "-1.6"),
        ("INCRBYFLOAT", "f", "3.0e3"), ("INCRBYFLOAT", "f", "abc"), ("INCRBYFLOAT", "f", "inf"),
        ("INCRBYFLOAT", "f", "nan"), ("INCRBYFLOAT", "s2", "1"), ("SET", "s2", "x"),
        ("INCRBYFLOAT", "s2", "1"), ("SET", "g", "10.50"), ("INCRBYFLOAT", "g", "0.1"),
        ("INCRBYFLOAT", "g", "5.0e-1"), ("INCRBYFLOAT", "g", "-11.1"), ("GET", "g"),
        ("SET", "c", "5"), ("EXPIRE", "c", "100"), ("INCR", "c"), ("TTL", "c"),
        ("INCR",), ("INCR", "a", "b"), ("INCRBY", "c"), ("DECRBY", "c"), ("INCRBYFLOAT", "c"),
    ],
    "append_strlen_ranges": [
        ("APPEND", "a", "hello"), ("APPEND", "a", " world"), ("GET", "a"), ("STRLEN", "a"),
        ("STRLEN", "missing"), ("GETRANGE", "a", "0", "4"), ("GETRANGE", "a", "-5", "-1"),
        ("GETRANGE", "a", "5", "2"), ("GETRANGE", "a", "0", "100"), ("GETRANGE", "a", "-100", "2"),
        ("GETRANGE", "a", "20", "30"), ("GETRANGE", "missing", "0", "1"), ("GETRANGE", "a", "x", "1"),
        ("SETRANGE", "a", "6", "WORLD"), ("GET", "a"), ("SETRANGE", "b", "5", "x"), ("GET", "b"),
        ("STRLEN", "b"), ("SETRANGE", "a", "-1", "x"), ("SETRANGE", "a", "536870912", "x"),
        ("SETRANGE", "c", "0", ""), ("EXISTS", "c"), ("SETRANGE", "c", "10", ""), ("EXISTS", "c"),
        ("SETRANGE", "a", "0", ""), ("SETRANGE", "a", "x", "y"), ("SET", "n", "123"),
        ("APPEND", "n", "4"), ("INCR", "n"), ("APPEND", "n", ""), ("GET", "n"), ("APPEND", "a"),
        ("STRLEN",), ("GETRANGE", "a", "0"),
    ],
    "substr": [
        ("SET", "a", "hello world"), ("SUBSTR", "a", "0", "2"), ("SUBSTR", "a", "-5", "-1"),
        ("SUBSTR", "missing", "0", "1"), ("SUBSTR", "a", "0"),
    ],
    "expire_family": [
        ("SET", "k", "v"), ("TTL", "k"), ("PTTL", "k"), ("TTL", "missing"), ("PTTL", "missing"),
        ("EXPIRETIME", "k"), ("EXPIRETIME", "missing"), ("PEXPIRETIME", "k"),
        ("EXPIRE", "k", "100"), ("TTL", "k"), ("PERSIST", "k"), ("TTL", "k"), ("PERSIST", "k"),
        ("PERSIST", "missing"), ("PEXPIRE", "k", "100000"), ("TTL", "k"),
        ("EXPIREAT", "k", FAR), ("EXPIRETIME", "k"), ("PEXPIREAT", "k", FAR_MS + "1"),
        ("PEXPIRETIME", "k"), ("EXPIRETIME", "k"), ("PERSIST", "k"),
        ("EXPIRE", "k", "100", "NX"), ("EXPIRE", "k", "200", "NX"), ("TTL", "k"),
        ("EXPIRE", "k", "50", "GT"), ("EXPIRE", "k", "300", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "400", "LT"), ("EXPIRE", "k", "10", "LT"), ("TTL", "k"),
        ("EXPIRE", "k", "20", "XX"), ("TTL", "k"), ("PERSIST", "k"), ("EXPIRE", "k", "20", "XX"),
        ("EXPIRE", "k", "20", "GT"), ("TTL", "k"), ("EXPIRE", "k", "20", "LT"), ("TTL", "k"),
        ("EXPIRE", "k", "10", "NX", "XX"), ("EXPIRE", "k", "10", "GT", "LT"),
        ("EXPIRE", "k", "10", "NX", "GT"), ("EXPIRE", "k", "10", "FOO"), ("EXPIRE", "k", "abc"),
        ("EXPIRE", "missing", "10"), ("PEXPIRE", "k", "1.5"),
        ("EXPIRE", "k", "9223372036854775807"), ("PEXPIRE", "k", "9223372036854775807"),
        ("EXPIREAT", "k", "9223372036854775807"), ("TTL", "k"),
        ("EXPIRE", "k", "0"), ("EXISTS", "k"), ("SET", "k", "v"), ("EXPIRE", "k", "-1"),
        ("GET", "k"), ("SET", "k", "v"), ("EXPIREAT", "k", "1"), ("GET", "k"),
        ("SET", "k", "v"), ("PEXPIRE", "k", "-5"), ("GET", "k"), ("EXPIRE", "k"), ("TTL",),
        ("TTL", "a", "b"), ("PERSIST",),
    ],
    "rename": [
        ("SET", "{t}a", "1"), ("RENAME", "{t}a", "{t}b"), ("GET", "{t}a"), ("GET", "{t}b"),
        ("RENAME", "{t}missing", "{t}x"), ("RENAMENX", "{t}missing", "{t}x"),
        ("RENAMENX", "{t}b", "{t}c"), ("SET", "{t}d", "x"), ("RENAMENX", "{t}c", "{t}d"),
        ("GET", "{t}c"), ("RENAME", "{t}c", "{t}c"), ("GET", "{t}c"), ("RENAMENX", "{t}c", "{t}c"),
        ("SET", "{t}e", "v", "EX", "100"), ("RENAME", "{t}e", "{t}f"), ("TTL", "{t}f"),
        ("RENAME", "{t}f", "{t}d"), ("GET", "{t}d"), ("TTL", "{t}d"),
        ("SET", "a", "1"), ("RENAME", "a", "b"), ("RENAMENX", "a", "b"), ("GET", "a"),
        ("RENAME", "{t}d"), ("RENAMENX", "x"),
    ],
    "mset_mget": [
        ("MSET", "{t}a", "1", "{t}b", "2"), ("MGET", "{t}a", "{t}b", "{t}c"),
        ("MGET", "{t}a", "{t}a"), ("MSET", "{t}a"), ("MSET", "{t}a", "1", "{t}b"),
        ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b"), ("EXISTS", "a", "b"),
        ("DEL", "a", "b"), ("MSETNX", "{t}a", "1", "{t}z", "2"), ("GET", "{t}z"),
        ("MSETNX", "{t}y", "1", "{t}z", "2"), ("MGET", "{t}y", "{t}z"),
        ("MSETNX", "x1", "1", "x2", "2"), ("MSET", "{t}a", "1", "{t}a", "2"), ("GET", "{t}a"),
        ("MGET",), ("MSET",), ("MGET", "x"), ("DBSIZE",),
    ],
    "type_exists_del": [
        ("SET", "s", "v"), ("TYPE", "s"), ("TYPE", "missing"), ("EXISTS", "s"), ("EXISTS", "s", "s"),
        ("EXISTS", "missing"), ("EXISTS", "{t}1", "{t}2"), ("SET", "{t}1", "x"),
        ("EXISTS", "{t}1", "{t}2", "{t}1"), ("DEL", "s", "s"), ("DEL", "s"), ("UNLINK", "{t}1", "{t}2"),
        ("TOUCH", "{t}1"), ("SET", "u", "v"), ("TOUCH", "u", "u"), ("DEL",), ("EXISTS",), ("TYPE",),
        ("DBSIZE",), ("RANDOMKEY",), ("DEL", "u"), ("RANDOMKEY",), ("DBSIZE",),
    ],
    "big_values": [
        ("SET", "big", "x" * 1_000_000), ("STRLEN", "big"), ("GETRANGE", "big", "999990", "-1"),
        ("APPEND", "big", "y" * 100_000), ("STRLEN", "big"), ("GET", "big"),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    d.assert_same(snode, sref, SCENARIOS[name], proto)


def test_lazy_expiry(snode):
    with snode.raw() as c:
        assert c.raw("SET", "k", "v", "PX", "100") == b"+OK\r\n"
        assert c.raw("SET", "k2", "v") == b"+OK\r\n"
        assert c.raw("PEXPIRE", "k2", "100") == b":1\r\n"
        pttl = c.call("PTTL", "k")
        assert 0 < pttl <= 100
        time.sleep(0.2)
        assert c.raw("GET", "k") == b"$-1\r\n"
        assert c.raw("EXISTS", "k2") == b":0\r\n"
        assert c.raw("TTL", "k") == b":-2\r\n"
        assert c.raw("PTTL", "k2") == b":-2\r\n"
        assert c.raw("SET", "k", "again", "NX") == b"+OK\r\n"
        assert c.raw("TTL", "k") == b":-1\r\n"


def test_active_expiry_removes_untouched_keys(snode):
    n_volatile, n_stable = 500, 10
    with snode.raw(timeout=10) as c:
        c.send(b"".join(h.encode("SET", f"vol:{i}", "x", "PX", "100") for i in range(n_volatile)))
        for _ in range(n_volatile):
            assert c.read()[1] == "OK"
        for i in range(n_stable):
            assert c.raw("SET", f"stable:{i}", "x") == b"+OK\r\n"
        # Nothing touches the volatile keys: only active expiry can make DBSIZE shrink.
        h.wait_until(lambda: c.call("DBSIZE") == n_stable, 3, interval=0.05,
                     what="active expiry to remove every volatile key")
        assert c.call("EXISTS", "stable:0") == 1
        # DBSIZE counts keys not yet removed, so the removal must show in the stats too
        stats = h.info_dict(c.call("INFO", "stats"))
        assert int(stats["expired_keys"]) >= n_volatile
        d = h.info_dict(c.call("INFO", "keyspace"))
        assert d.get("db0", "").startswith(f"keys={n_stable},expires=0,"), d


def test_scan_iterates_every_key_once(snode, sref):
    keys = [f"user:{i}" for i in range(4000)] + [f"item:{i}" for i in range(1000)]
    h.set_keys(snode, keys)
    h.set_keys(sref, keys)
    with snode.raw(timeout=20) as c, sref.raw(timeout=20) as r:
        assert c.call("DBSIZE") == 5000
        seen, calls = h.scan_all(c, "COUNT", "100")
        assert len(seen) == len(set(seen)), "SCAN returned a key twice on a static keyspace"
        assert set(seen) == {k.encode() for k in keys}
        assert calls > 1, "COUNT 100 over 5000 keys must take several calls"
        seen_default, _ = h.scan_all(c)
        assert sorted(seen_default) == sorted(k.encode() for k in keys)

        for pattern in ("user:1*", "item:?", "*:99", "nomatch*", "user:[12]0"):
            mine, _ = h.scan_all(c, "MATCH", pattern, "COUNT", "500")
            theirs, _ = h.scan_all(r, "MATCH", pattern, "COUNT", "500")
            assert sorted(mine) == sorted(theirs), pattern
            assert len(mine) == len(set(mine)), pattern
            assert sorted(c.call("KEYS", pattern)) == sorted(r.call("KEYS", pattern)), pattern
        assert len(c.call("KEYS", "*")) == 5000
        typed, _ = h.scan_all(c, "TYPE", "string", "COUNT", "1000")
        assert len(set(typed)) == 5000
        none, _ = h.scan_all(c, "TYPE", "list", "COUNT", "1000")
        assert none == []
        rk = c.call("RANDOMKEY")
        assert rk.decode() in set(keys)
        for args in (("SCAN", "abc"), ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "COUNT", "x"),
                     ("SCAN", "0", "MATCH"), ("SCAN", "0", "BOGUS", "1"), ("SCAN",), ("KEYS",),
                     ("RANDOMKEY", "x"), ("SCAN", "99999999999999999999999")):
            assert c.raw(*args) == r.raw(*args), args


def test_flushall_and_flushdb(snode, sref):
    for srv in (snode, sref):
        h.set_keys(srv, [f"k{i}" for i in range(100)])
    for args in (("DBSIZE",), ("FLUSHALL",), ("DBSIZE",), ("SET", "a", "1"), ("FLUSHDB",),
                 ("DBSIZE",), ("SET", "a", "1"), ("FLUSHALL", "ASYNC"), ("DBSIZE",),
                 ("FLUSHALL", "SYNC"), ("FLUSHALL", "BOGUS"), ("FLUSHDB", "x", "y"), ("GET", "a"),
                 ("INFO", "keyspace")):
        with snode.raw() as c, sref.raw() as r:
            assert c.raw(*args) == r.raw(*args), args
