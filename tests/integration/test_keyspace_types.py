"""Generic key commands (RENAME, RENAMENX, COPY, MOVE, RANDOMKEY, TYPE) over keys of every
type, compared with a real redis-server 7.0.15 (both cluster-enabled, owning every slot; the
keys of one scenario share a hash tag so they live in one slot)."""
import time

import pytest

import diffhelpers as d
import helpers as h

FAR = "4102444800"
BIG = [str(i) for i in range(600)]   # past set-max-intset-entries: a hashtable set

SCENARIOS = {
    "rename_every_type": [
        ("RPUSH", "{t}l", "a", "b", "c"), ("EXPIREAT", "{t}l", FAR), ("RENAME", "{t}l", "{t}l2"),
        ("EXPIRETIME", "{t}l2"), ("LRANGE", "{t}l2", "0", "-1"), ("EXISTS", "{t}l"),
        ("HSET", "{t}h", "f", "v", "g", "w"), ("SADD", "{t}s", "1", "2", "x"), ("SET", "{t}str", "v"),
        ("RENAME", "{t}h", "{t}s"), ("TYPE", "{t}s"), ("HGETALL", "{t}s"), ("TTL", "{t}s"),
        ("RENAME", "{t}s", "{t}str"), ("TYPE", "{t}str"), ("HLEN", "{t}str"), ("GET", "{t}str"),
        ("RENAME", "{t}str", "{t}str"), ("RENAME", "{t}none", "{t}x"), ("RENAME", "{t}l2", "{t}l2"),
        ("SADD", "{t}big", *BIG), ("EXPIRE", "{t}big", "1000"), ("RENAME", "{t}big", "{t}big2"),
        ("OBJECT", "ENCODING", "{t}big2"), ("SCARD", "{t}big2"), ("TTL", "{t}big2"),
        ("RENAME", "{t}l2"), ("DBSIZE",),
    ],
    "renamenx_every_type": [
        ("RPUSH", "{t}l", "a"), ("HSET", "{t}h", "f", "v"), ("SADD", "{t}s", "m"), ("SET", "{t}str", "v"),
        ("RENAMENX", "{t}l", "{t}h"), ("RENAMENX", "{t}h", "{t}s"), ("RENAMENX", "{t}s", "{t}str"),
        ("RENAMENX", "{t}str", "{t}l"), ("TYPE", "{t}l"), ("TYPE", "{t}h"), ("TYPE", "{t}s"),
        ("TYPE", "{t}str"), ("PEXPIREAT", "{t}s", FAR + "000"), ("RENAMENX", "{t}s", "{t}s2"),
        ("PEXPIRETIME", "{t}s2"), ("SMEMBERS", "{t}s2"), ("RENAMENX", "{t}h", "{t}h"),
        ("RENAMENX", "{t}none", "{t}x"), ("RENAMENX", "{t}l", "{t}l"), ("DBSIZE",),
    ],
    "copy_every_type": [
        ("RPUSH", "{t}l", "a", "b"), ("HSET", "{t}h", "f", "v"), ("SADD", "{t}s", "1", "2"),
        ("SET", "{t}str", "v"), ("EXPIREAT", "{t}h", FAR),
        ("COPY", "{t}l", "{t}l2"), ("COPY", "{t}h", "{t}h2"), ("COPY", "{t}s", "{t}s2"),
        ("COPY", "{t}str", "{t}str2"), ("EXPIRETIME", "{t}h2"), ("TTL", "{t}l2"),
        ("RPUSH", "{t}l2", "c"), ("LRANGE", "{t}l", "0", "-1"), ("LRANGE", "{t}l2", "0", "-1"),
        ("HSET", "{t}h2", "g", "w"), ("HLEN", "{t}h"), ("SADD", "{t}s2", "3"), ("SCARD", "{t}s"),
        ("OBJECT", "ENCODING", "{t}s2"), ("COPY", "{t}l", "{t}h"), ("COPY", "{t}l", "{t}h", "REPLACE"),
        ("TYPE", "{t}h"), ("TTL", "{t}h"), ("COPY", "{t}l", "{t}l"), ("COPY", "{t}none", "{t}x"),
        ("COPY", "{t}l", "{t}x", "DB", "0"), ("COPY", "{t}l", "{t}y", "DB", "1"),
        ("COPY", "{t}l", "{t}y", "DB", "x"), ("COPY", "{t}l", "{t}y", "BOGUS"), ("COPY", "{t}l"),
        ("SADD", "{t}big", *BIG), ("COPY", "{t}big", "{t}big2"), ("OBJECT", "ENCODING", "{t}big2"),
        ("SREM", "{t}big2", "1"), ("SCARD", "{t}big"), ("SCARD", "{t}big2"), ("DBSIZE",),
    ],
    "zset_rename_copy": [
        ("ZADD", "{t}z", "1", "a", "2.5", "b"), ("EXPIREAT", "{t}z", FAR), ("COPY", "{t}z", "{t}z2"),
        ("EXPIRETIME", "{t}z2"), ("ZADD", "{t}z2", "3", "c"), ("ZCARD", "{t}z"),
        ("ZRANGE", "{t}z2", "0", "-1", "WITHSCORES"), ("RENAME", "{t}z2", "{t}z3"), ("TYPE", "{t}z3"),
        ("EXPIRETIME", "{t}z3"), ("RENAMENX", "{t}z3", "{t}z"), ("SET", "{t}s", "v"),
        ("COPY", "{t}z3", "{t}s", "REPLACE"), ("TYPE", "{t}s"), ("OBJECT", "ENCODING", "{t}s"),
        ("ZADD", "{t}zbig", *[x for i in range(200) for x in (str(i), f"m{i}")]),
        ("COPY", "{t}zbig", "{t}zbig2"), ("OBJECT", "ENCODING", "{t}zbig2"), ("ZREM", "{t}zbig2", "m1"),
        ("ZCARD", "{t}zbig"), ("ZCARD", "{t}zbig2"), ("ZSCORE", "{t}zbig2", "m150"), ("DBSIZE",),
    ],
    "move_in_cluster_mode": [
        ("SET", "k", "v"), ("MOVE", "k", "1"), ("MOVE", "k", "0"), ("MOVE", "k", "x"),
        ("MOVE", "none", "1"), ("MOVE", "k"), ("GET", "k"),
    ],
    "type_and_randomkey": [
        ("RANDOMKEY",), ("RPUSH", "l", "a"), ("RANDOMKEY",), ("TYPE", "l"), ("HSET", "h", "f", "v"),
        ("SADD", "s", "m"), ("SET", "str", "v"), ("TYPE", "h"), ("TYPE", "s"), ("TYPE", "str"),
        ("ZADD", "z", "1", "m"), ("TYPE", "z"), ("TYPE", "none"), ("DEL", "z"), ("DEL", "h"), ("DEL", "s"), ("DEL", "str"), ("RANDOMKEY",), ("RANDOMKEY", "x"),
    ],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_replies_as_redis(snode, sref, name, proto):
    d.assert_same(snode, sref, SCENARIOS[name], proto)


@pytest.mark.parametrize("cmd", ["RENAME", "COPY"])
def test_rename_and_copy_serve_a_blocked_pop(snode, sref, cmd):
    """A client blocked on the destination list is served when RENAME or COPY creates it."""
    for srv in (snode, sref):
        with srv.raw(timeout=10) as c, srv.raw(timeout=10) as b:
            assert c.call("RPUSH", "{q}src", "a", "b") == 2
            b.send(h.encode("BLPOP", "{q}dst", "5"))
            h.wait_until(lambda: h.info_dict(c.call("INFO", "clients")).get("blocked_clients") == "1",
                         5, what="the BLPOP to block")
            t0 = time.monotonic()
            reply = c.call(cmd, "{q}src", "{q}dst")
            assert reply in ("OK", 1), reply
            assert b.read()[1] == [b"{q}dst", b"a"], srv.kind
            assert time.monotonic() - t0 < 2
            assert c.call("LRANGE", "{q}dst", "0", "-1") == [b"b"]
            assert c.call("LRANGE", "{q}src", "0", "-1") == ([] if cmd == "RENAME" else [b"a", b"b"])


def test_randomkey_draws_from_every_worker(servers):
    shoal = servers.shoal(extra_args=["--worker-threads", "4"])
    h.own_all_slots(shoal)
    keys = {f"r{i}".encode() for i in range(40)}
    with shoal.raw() as c:
        assert c.call("RANDOMKEY") is None
        for k in keys:
            assert c.call("SET", k, "v") == "OK"
        got = {c.call("RANDOMKEY") for _ in range(600)}
    assert got <= keys
    # 40 keys over 4 workers; 600 draws see nearly all of them
    assert len(got) >= 30, len(got)
