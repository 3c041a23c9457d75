"""Keyspace notifications (notify-keyspace-events) compared event by event with
redis-server 7.0.15.

What it is for: the events each command publishes on __keyspace@0__:<key> and
__keyevent@0__:<event> (generic, string, list, hash, set and sorted set commands, new
keys, keys emptied by a removal, expired keys when they are removed), the class flags
selecting them, and nothing published while the directive is empty. The same commands
run one at a time against shoal (4 workers, so keys live on several) and redis-server,
and the subscriber's messages must be the same list.

What it must never do: relax an assertion to fit shoal; stop a process it did not start.
"""
import time

import helpers as h

COMMANDS = [
    # strings and generic
    ("SET", "s1", "v"), ("SET", "s1", "w", "EX", "100"), ("SETNX", "s1", "x"), ("SETNX", "s2", "x"),
    ("SETEX", "s3", "100", "v"), ("PSETEX", "s4", "100000", "v"), ("GETSET", "s2", "y"),
    ("MSET", "m1", "1", "m2", "2"), ("MSETNX", "m3", "1", "m1", "x"), ("APPEND", "s2", "zz"),
    ("SETRANGE", "s2", "1", "ab"), ("INCR", "n1"), ("INCRBY", "n1", "5"), ("DECR", "n1"),
    ("DECRBY", "n1", "2"), ("INCRBYFLOAT", "n2", "1.5"), ("GETDEL", "m2"), ("GETDEL", "nope"),
    ("GETEX", "s2", "EX", "100"), ("GETEX", "s2", "PERSIST"), ("SETBIT", "b1", "7", "1"),
    ("PFADD", "hll", "a", "b"), ("EXPIRE", "s1", "1000"), ("PEXPIRE", "s1", "2000000"),
    ("PERSIST", "s1"), ("PERSIST", "s1"), ("EXPIRE", "m1", "-1"), ("DEL", "s3", "nope", "s4"),
    ("UNLINK", "n2"), ("RENAME", "s2", "{s2}r"), ("COPY", "{s2}r", "{s2}c"), ("RENAMENX", "{s2}c", "{s2}r"),
    # lists
    ("LPUSH", "l1", "a", "b"), ("RPUSH", "l1", "c"), ("LPUSHX", "l1", "d"), ("RPUSHX", "nol", "d"),
    ("LINSERT", "l1", "BEFORE", "a", "x"), ("LSET", "l1", "0", "y"), ("LREM", "l1", "1", "x"),
    ("LTRIM", "l1", "0", "2"), ("LPOP", "l1"), ("RPOP", "l1", "1"),
    ("RPUSH", "{l}a", "1", "2"), ("LMOVE", "{l}a", "{l}b", "LEFT", "RIGHT"), ("RPOPLPUSH", "{l}a", "{l}b"),
    ("LPOP", "l1", "5"), ("LMPOP", "1", "{l}b", "LEFT"), ("BLPOP", "{l}b", "1"),
    # hashes
    ("HSET", "h1", "f", "1", "g", "2"), ("HSETNX", "h1", "f", "x"), ("HSETNX", "h1", "k", "x"),
    ("HMSET", "h1", "z", "1"), ("HINCRBY", "h1", "f", "3"), ("HINCRBYFLOAT", "h1", "f", "0.5"),
    ("HDEL", "h1", "f", "g"), ("HDEL", "h1", "k", "z"),
    # sets
    ("SADD", "t1", "a", "b", "c"), ("SADD", "t1", "a"), ("SREM", "t1", "a"), ("SREM", "t1", "c"), ("SPOP", "t1"),
    ("SADD", "{t}1", "x", "y"), ("SADD", "{t}2", "y"), ("SMOVE", "{t}1", "{t}2", "x"),
    ("SADD", "{t}1", "x"), ("SMOVE", "{t}1", "{t}2", "x"),     # x in {t}2 already: no "sadd"
    ("SINTERSTORE", "{t}3", "{t}1", "{t}2"), ("SUNIONSTORE", "{t}3", "{t}1", "{t}2"),
    ("SDIFFSTORE", "{t}3", "{t}2", "{t}2"), ("SREM", "{t}1", "y"),
    # sorted sets
    ("ZADD", "z1", "1", "a", "2", "b", "3", "c"), ("ZADD", "z1", "INCR", "5", "a"), ("ZINCRBY", "z1", "1", "b"),
    ("ZADD", "z1", "1", "b"), ("ZADD", "z1", "NX", "9", "b"), ("ZREM", "z1", "zz"), ("ZREM", "z1", "a"),
    ("ZPOPMIN", "z1"), ("ZPOPMAX", "z1"), ("ZADD", "{z}1", "1", "a", "2", "b"),
    ("ZUNIONSTORE", "{z}2", "1", "{z}1"), ("ZINTERSTORE", "{z}3", "2", "{z}1", "{z}2"),
    ("ZRANGESTORE", "{z}4", "{z}1", "0", "0"), ("ZREMRANGEBYSCORE", "{z}2", "0", "1"),
    ("ZREMRANGEBYRANK", "{z}2", "0", "0"), ("ZADD", "{z}5", "0", "a", "0", "b"),
    ("ZREMRANGEBYLEX", "{z}5", "-", "+"), ("ZDIFFSTORE", "{z}3", "1", "{z}5"), ("BZPOPMIN", "{z}4", "1"),
]


def _events(srv, classes, commands, expire_wait=False):
    with srv.raw() as sub, srv.raw() as c:
        assert c.call("CONFIG", "SET", "notify-keyspace-events", classes) == "OK"
        sub.send(h.encode("PSUBSCRIBE", "__key*__:*"))
        sub.read()
        replies = [c.raw(*cmd) for cmd in commands]
        if expire_wait:
            assert c.call("SET", "ex1", "v", "PX", "50") == "OK"
            time.sleep(0.3)
            c.call("GET", "ex1")        # removed here (or by the active sweep) at the latest
        assert c.call("PING") == "PONG"
        got, _ = sub.exchange(b"", idle=0.5, limit=10)
        assert c.call("CONFIG", "SET", "notify-keyspace-events", "") == "OK"
    msgs = []
    buf = h.RawConn.__new__(h.RawConn)
    buf.buf = got
    buf.sock = None
    while buf.buf:
        m = buf._parse(0)
        v, end = m
        buf.buf = buf.buf[end:]
        msgs.append(tuple(v[2:]))
    return replies, msgs


def _compare(servers, classes, commands, expire_wait=False):
    got = {}
    for kind, srv in zip(("shoal", "redis"), h.single_nodes(servers, ("shoal", "redis"), workers=4)):
        got[kind] = _events(srv, classes, commands, expire_wait)
    assert got["shoal"][0] == got["redis"][0], "replies differ"
    s, r = got["shoal"][1], got["redis"][1]
    assert s == r, "\n".join(f"{i}: {a} | {b}" for i, (a, b) in
                             enumerate(zip(s + [None] * (len(r) - len(s)), r + [None] * (len(s) - len(r))))
                             if a != b)
    return s


def test_every_class_event_by_event(servers):
    msgs = _compare(servers, "KEA", COMMANDS, expire_wait=True)
    assert (b"__keyevent@0__:expired", b"ex1") in msgs
    assert len(msgs) > 150


def test_new_keys_and_class_selection(servers):
    cmds = [("SET", "a", "1"), ("SET", "a", "2"), ("LPUSH", "l", "x"), ("HSET", "h", "f", "v"),
            ("RENAME", "a", "{a}b"), ("DEL", "l"), ("SADD", "s", "m")]
    _compare(servers, "Kn", cmds)
    _compare(servers, "E$l", cmds)
    _compare(servers, "Kgh", cmds)
    msgs = _compare(servers, "gl", cmds)      # neither K nor E: nothing
    assert msgs == []
