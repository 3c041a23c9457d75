"""Standalone mode: a node started without cluster-enabled (the default).

What it is for: a shoal-node started as a plain server must serve like a plain
redis-server 7.0.15 started the same way: string and key commands on any key (no
MOVED, no CLUSTERDOWN), every CLUSTER subcommand and READONLY/READWRITE/ASKING answered
`ERR This instance has cluster support disabled`, REPLICAOF/SLAVEOF between standalone
nodes (shoal and redis-server in either role), WAIT, and ROLE / INFO replication that
describe the pair. Replies are compared byte for byte with redis-server where both
answer the same request; the redis->redis pair runs the replication test too, as the
proof that the test asks for Redis's behaviour.

Numbered databases (SELECT, MOVE, SWAPDB, ...) have their own tests: test_databases.py and
test_databases_repl.py. Multi-key commands and transactions over keys that
different worker threads keep run atomically with those workers parked
(test_standalone_xworker.py covers them).

What it must never do: stop a process it did not start, or sleep where a poll with a
deadline works.
"""
import pytest

import helpers as h
import replhelpers as rh

SA = "standalone"


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=list(extra), base_args=SA)
    return servers.redis(extra_args=list(extra), base_args=SA)


def _raw_replies(srv, cmds):
    out = []
    with srv.raw() as c:
        for cmd in cmds:
            c.send(h.encode(*cmd))
            out.append(c.read()[0])
    return out


def _compare(shoal, redis, cmds):
    a, b = _raw_replies(shoal, cmds), _raw_replies(redis, cmds)
    bad = [(" ".join(map(str, c)), x, y) for c, x, y in zip(cmds, a, b) if x != y]
    assert not bad, "shoal and redis-server answer differently:\n" + \
        "\n".join(f"  {c}: shoal {x!r} redis {y!r}" for c, x, y in bad)


# Keys in one command share a hash tag, so that they stay on one worker whatever the
# number of worker threads; test_any_keys_with_one_worker lifts that.
STRING_AND_KEY_CMDS = [
    ("PING",), ("PING", "hello"), ("ECHO", "x"), ("DBSIZE",),
    ("SET", "k", "v"), ("GET", "k"), ("SET", "k", "v2", "GET"), ("SET", "k", "w", "NX"),
    ("SET", "k", "w", "XX"), ("GET", "k"), ("SETNX", "k", "z"), ("GETSET", "k", "g"),
    ("APPEND", "k", "more"), ("STRLEN", "k"), ("GETRANGE", "k", "0", "2"),
    ("SETRANGE", "k", "1", "XY"), ("GET", "k"), ("SUBSTR", "k", "0", "-1"),
    ("INCR", "n"), ("INCRBY", "n", "41"), ("DECR", "n"), ("DECRBY", "n", "2"),
    ("INCRBYFLOAT", "f", "1.5"), ("INCR", "k"),
    ("MSET", "{t}a", "1", "{t}b", "2", "{t}c", "3"), ("MGET", "{t}a", "{t}b", "{t}c", "{t}d"),
    ("MSETNX", "{t}a", "9", "{t}z", "9"), ("EXISTS", "{t}a", "{t}b", "{t}q"),
    ("DEL", "{t}a", "{t}b", "{t}nope"), ("UNLINK", "{t}c"), ("TOUCH", "k", "k", "nope{k}"),
    ("SETEX", "e", "100", "x"), ("TTL", "e"), ("PSETEX", "pe", "100000", "x"),
    ("EXPIRE", "k", "1000"), ("TTL", "k"), ("PERSIST", "k"), ("TTL", "k"),
    ("PEXPIRE", "k", "1000000", "NX"), ("EXPIRETIME", "nope"), ("TYPE", "k"), ("TYPE", "nope"),
    ("GETDEL", "f"), ("GETEX", "n", "PERSIST"), ("RENAME", "{r}a", "{r}b"),
    ("SET", "{r}a", "1"), ("RENAME", "{r}a", "{r}b"), ("RENAMENX", "{r}b", "{r}b"),
    ("GET", "{r}b"), ("DBSIZE",), ("SELECT", "0"), ("FLUSHDB",), ("DBSIZE",),
    ("KEYS", "*"), ("SCAN", "0"), ("RANDOMKEY",),
    # Keys with different hash slots on one node: no MOVED, no CLUSTERDOWN.
    ("SET", "foo", "1"), ("SET", "bar", "2"), ("SET", "hello", "3"), ("GET", "foo"),
    ("GET", "bar"), ("GET", "hello"), ("DBSIZE",),
]

CLUSTER_CMDS = [
    ("CLUSTER", "INFO"), ("CLUSTER", "NODES"), ("CLUSTER", "MYID"), ("CLUSTER", "SLOTS"),
    ("CLUSTER", "SHARDS"), ("CLUSTER", "KEYSLOT", "foo"), ("CLUSTER", "HELP"),
    ("CLUSTER", "MEET", "127.0.0.1", "1"), ("CLUSTER", "ADDSLOTS", "1"),
    ("CLUSTER", "REPLICATE", "x" * 40), ("CLUSTER", "RESET"), ("CLUSTER", "FAILOVER"),
    ("CLUSTER", "nosuchsub"), ("CLUSTER",), ("CLUSTER", "KEYSLOT"),
    ("READONLY",), ("READWRITE",), ("ASKING",),
    ("REPLICAOF", "127.0.0.1", "abc"), ("REPLICAOF", "127.0.0.1", "70000"),
    ("REPLICAOF", "127.0.0.1", "-1"), ("REPLICAOF", "127.0.0.1"), ("SLAVEOF", "no", "one"),
    ("REPLICAOF", "NO", "ONE"), ("WAIT", "0", "0"), ("ROLE",),
]


def test_standalone_string_and_key_commands(servers):
    shoal, redis = _start(servers, "shoal"), _start(servers, "redis")
    _compare(shoal, redis, STRING_AND_KEY_CMDS)
    with shoal.raw() as c:
        info = h.info_dict(c.call("INFO", "server"))
        assert info.get("redis_mode") == "standalone", info.get("redis_mode")
        assert h.info_dict(c.call("INFO", "cluster")).get("cluster_enabled") == "0"


def test_standalone_cluster_commands_are_refused(servers):
    shoal, redis = _start(servers, "shoal"), _start(servers, "redis")
    _compare(shoal, redis, CLUSTER_CMDS)


def test_any_keys_with_one_worker(servers):
    """With one worker thread every key lives on it: multi-key commands over keys of
    any slots answer as on redis-server."""
    shoal = _start(servers, "shoal", ["--worker-threads", "1"])
    redis = _start(servers, "redis")
    _compare(shoal, redis, [
        ("MSET", "a", "1", "b", "2", "c", "3"), ("MGET", "a", "b", "c", "d"),
        ("EXISTS", "a", "b", "c", "d"), ("RENAME", "a", "z"), ("MSETNX", "q", "1", "z", "2"),
        ("DEL", "a", "b", "c", "z"), ("DBSIZE",),
        ("MULTI",), ("SET", "x", "1"), ("SET", "y", "2"), ("MGET", "x", "y"), ("EXEC",),
    ])


# --- replication between standalone nodes ----------------------------------------

PAIRS = [("shoal", "shoal"), ("redis", "shoal"), ("shoal", "redis"), ("redis", "redis")]


def _info(srv):
    with srv.raw() as c:
        return h.info_dict(c.call("INFO", "replication"))


def _dump(srv):
    cl = srv.client()
    try:
        keys = sorted(cl.scan_iter(count=1000))
        return {k: (cl.get(k), cl.pttl(k) > 0) for k in keys}
    finally:
        cl.close()


def _fill(srv, prefix, n):
    cl = srv.client()
    try:
        p = cl.pipeline(transaction=False)
        for i in range(n):
            if i % 5 == 0:
                p.set(f"{prefix}:{i}", f"v{i}", ex=1000)
            else:
                p.set(f"{prefix}:{i}", f"v{i}")
            if i % 7 == 0:
                p.incr(f"{prefix}:counter")
        p.execute()
    finally:
        cl.close()


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=[f"{m}-to-{r}" for m, r in PAIRS])
def test_replicaof_between_standalone_nodes(servers, mkind, rkind):
    master, replica = _start(servers, mkind), _start(servers, rkind)
    with master.raw() as c:
        assert c.call("CONFIG", "SET", "repl-diskless-sync-delay", "0") == "OK"
    _fill(master, "before", 2000)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == \
            "OK Already connected to specified master"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30,
                 what=f"the replica's link up (last: {_info(replica)})")
    _fill(master, "after", 2000)
    with master.raw(timeout=10) as c:
        assert c.call("WAIT", "1", "5000") == 1
        mrole = c.call("ROLE")
    assert mrole[0] == b"master" and isinstance(mrole[1], int) and mrole[1] > 0, mrole
    assert len(mrole[2]) == 1 and mrole[2][0][:2] == [b"127.0.0.1", str(replica.port).encode()], mrole
    with replica.raw() as c:
        rrole = c.call("ROLE")
        assert rrole[:4] == [b"slave", b"127.0.0.1", master.port, b"connected"], rrole
        assert c.call("SET", "x", "1") == h.Error("READONLY You can't write against a read only replica.")
        assert c.call("WAIT", "0", "0") == h.Error(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
            "if a replica is configured to be writable (which is not the default) writes to "
            "replicas are just local and are not propagated.")
    mi, ri = _info(master), _info(replica)
    assert mi["role"] == "master" and mi["connected_slaves"] == "1", mi
    assert f"port={replica.port},state=online" in mi["slave0"], mi
    assert ri["role"] == "slave" and ri["master_host"] == "127.0.0.1", ri
    assert ri["master_port"] == str(master.port) and ri["master_link_status"] == "up", ri
    assert ri["master_replid"] == mi["master_replid"], (mi, ri)
    h.wait_until(lambda: _info(replica)["slave_repl_offset"] == _info(master)["master_repl_offset"],
                 10, what="equal offsets")
    assert _dump(replica) == _dump(master)
    # A flush with a replica attached (shoal: the cut path) answers, and the same
    # connection goes on being served.
    with master.raw(timeout=10) as c:
        assert c.call("FLUSHALL") == "OK"
        assert c.call("SET", "post", "1") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    h.wait_until(lambda: _dump(replica) == _dump(master), 10, what="equal data after FLUSHALL")
    # Promoted: the old history continues as replid2, writes are accepted.
    old_id = ri["master_replid"]
    with replica.raw() as c:
        assert c.call("REPLICAOF", "NO", "ONE") == "OK"
        assert c.call("SET", "x", "1") == "OK"
        assert c.call("ROLE")[0] == b"master"
    h.wait_until(lambda: _info(replica).get("master_replid2") == old_id, 5,
                 what=f"replid2 = {old_id} after REPLICAOF NO ONE (last: {_info(replica)})")
    # SLAVEOF works as REPLICAOF: follow again, and get the master's data back.
    with replica.raw() as c:
        assert c.call("SLAVEOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up again")
    with master.raw(timeout=10) as c:
        assert c.call("SET", "last", "y") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    h.wait_until(lambda: _dump(replica) == _dump(master), 10, what="equal data after SLAVEOF")


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replicaof_refused_in_cluster_mode(servers, kind):
    srv = servers.shoal() if kind == "shoal" else servers.redis()
    with srv.raw() as c:
        for cmd in ("REPLICAOF", "SLAVEOF"):
            assert c.call(cmd, "127.0.0.1", "6379") == h.Error("ERR REPLICAOF not allowed in cluster mode.")
            assert c.call(cmd, "NO", "ONE") == h.Error("ERR REPLICAOF not allowed in cluster mode.")


def test_replica_of_redis_applies_multi_key_commands_across_workers(servers):
    """redis-server, a standalone master, sends MSET/DEL/MSETNX whose keys a shoal replica
    keeps on different worker threads: each key must end up where GET looks for it."""
    master = _start(servers, "redis")
    replica = _start(servers, "shoal", ["--worker-threads", "2"])
    with master.raw() as c:
        assert c.call("CONFIG", "SET", "repl-diskless-sync-delay", "0") == "OK"
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up")
    keys = [f"key:{i}" for i in range(40)]
    with master.raw() as c:
        assert c.call("MSET", *[x for k in keys for x in (k, k.upper())]) == "OK"
        assert c.call("DEL", *keys[::3]) == len(keys[::3])
        assert c.call("MSETNX", "fresh:a", "1", "fresh:b", "2", "fresh:c", "3") == 1
        assert c.call("MULTI") == "OK"
        assert c.call("MSET", "tx:a", "1", "tx:b", "2", "tx:c", "3", "tx:d", "4") == "QUEUED"
        assert c.call("UNLINK", "key:1", "key:2", "tx:a") == "QUEUED"
        assert c.call("EXEC") == ["OK", 3]
        assert c.call("WAIT", "1", "5000") == 1
    h.wait_until(lambda: _info(replica)["slave_repl_offset"] == _info(master)["master_repl_offset"],
                 10, what="equal offsets")
    assert _dump(replica) == _dump(master)


@pytest.mark.parametrize("rkind", ["shoal", "redis"])
def test_replicaof_a_host_name(servers, rkind):
    """REPLICAOF localhost <port>: the link resolves the name; ROLE and INFO show it as
    written, as redis-server does."""
    master, replica = _start(servers, "shoal"), _start(servers, rkind)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "localhost", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up")
    ri = _info(replica)
    assert ri["master_host"] == "localhost" and ri["master_port"] == str(master.port), ri
    with replica.raw() as c:
        assert c.call("ROLE")[:4] == [b"slave", b"localhost", master.port, b"connected"]
    with master.raw() as c:
        assert c.call("SET", "k", "v") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    with replica.raw() as c:
        assert c.call("GET", "k") == b"v"


CHAINS = [("shoal", "shoal", "shoal"), ("redis", "shoal", "shoal"), ("shoal", "shoal", "redis"),
          ("redis", "redis", "redis")]


@pytest.mark.parametrize("top,mid,leaf", CHAINS, ids=["-".join(c) for c in CHAINS])
def test_chained_replication(servers, top, mid, leaf):
    """A standalone replica serves a replica of its own (as redis-server does): the
    leaf gets the top master's history, data and stream through the middle node."""
    a, b, c = _start(servers, top), _start(servers, mid), _start(servers, leaf)
    for srv in (a, b):
        with srv.raw() as conn:
            assert conn.call("CONFIG", "SET", "repl-diskless-sync-delay", "0") == "OK"
    _fill(a, "one", 1000)
    with b.raw() as conn:
        assert conn.call("REPLICAOF", "127.0.0.1", str(a.port)) == "OK"
    h.wait_until(lambda: _info(b).get("master_link_status") == "up", 30, what="middle link up")
    # The top keeps writing while the leaf takes its full sync from the middle node:
    # the middle's RDB and the stream after it must join without a gap or overlap.
    writer = rh.Writer(a, "during")
    writer.start()
    with c.raw() as conn:
        assert conn.call("REPLICAOF", "127.0.0.1", str(b.port)) == "OK"
    h.wait_until(lambda: _info(c).get("master_link_status") == "up", 30,
                 what=f"leaf link up (last: {_info(c)})")
    assert writer.stop() > 0
    _fill(a, "two", 1000)
    with a.raw(timeout=10) as conn:
        assert conn.call("WAIT", "1", "5000") == 1
    h.wait_until(lambda: _info(c)["slave_repl_offset"] == _info(a)["master_repl_offset"], 15,
                 what="the leaf at the top's offset")
    bi, ci, ai = _info(b), _info(c), _info(a)
    assert bi["role"] == "slave" and bi["connected_slaves"] == "1", bi
    assert f"port={c.port},state=online" in bi["slave0"], bi
    assert ci["master_replid"] == ai["master_replid"] == bi["master_replid"], (ai, bi, ci)
    want = _dump(a)
    assert _dump(b) == want
    assert _dump(c) == want

@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_psync_to_a_replica_without_its_master(servers, kind):
    """A replica whose master cannot be reached refuses to serve a sync."""
    srv = _start(servers, kind)
    with srv.raw() as conn:
        assert conn.call("REPLICAOF", "127.0.0.1", str(h.free_port())) == "OK"
        conn.send(h.encode("PSYNC", "?", "-1"))
        assert conn.read()[0] == b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n"


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replicaof_shows_in_config_get_and_rewrite(servers, tmp_path, kind):
    conf = tmp_path / f"{kind}.conf"
    conf.write_text("# test config\n")
    srv = servers.shoal(config_file=conf, base_args=SA) if kind == "shoal" else \
        servers.redis(config_file=conf, base_args=SA)
    port = h.free_port()
    with srv.raw() as c:
        assert c.call("CONFIG", "GET", "replicaof") == [b"replicaof", b""]
        assert c.call("REPLICAOF", "127.0.0.1", str(port)) == "OK"
        assert c.call("CONFIG", "GET", "replicaof") == [b"replicaof", f"127.0.0.1 {port}".encode()]
        assert c.call("CONFIG", "REWRITE") == "OK"
        lines = [ln for ln in conf.read_text().splitlines() if ln.startswith(("replicaof", "slaveof"))]
        assert lines == [f"replicaof 127.0.0.1 {port}"], lines
        assert c.call("REPLICAOF", "NO", "ONE") == "OK"
        assert c.call("CONFIG", "GET", "replicaof") == [b"replicaof", b""]
        assert c.call("CONFIG", "REWRITE") == "OK"
        lines = [ln for ln in conf.read_text().splitlines() if ln.startswith(("replicaof", "slaveof"))]
        assert lines == [], lines


MULTI_KEY_CMDS = [
    ("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "foo", "6", "bar", "7"),
    ("MGET", "a", "b", "nope", "c", "d", "e", "foo", "bar", "zz"), ("MGET", "nope1", "nope2"),
    ("EXISTS", "a", "b", "c", "x", "a"), ("TOUCH", "c", "d", "e", "x"),
    ("DEL", "a", "b", "x"), ("MGET", "a", "b", "c"), ("UNLINK", "c", "d", "e", "z"),
    ("SET", "n", "1"), ("INCR", "n"), ("MGET", "n", "foo", "bar"), ("DBSIZE",),
]


@pytest.mark.parametrize("workers", ["2", "4"])
def test_multi_key_commands_over_workers(servers, workers):
    """MGET/MSET/DEL/UNLINK/EXISTS/TOUCH over keys that several worker threads keep
    answer as on redis-server (run whole with those workers parked)."""
    shoal = _start(servers, "shoal", ["--worker-threads", workers])
    redis = _start(servers, "redis")
    _compare(shoal, redis, MULTI_KEY_CMDS)
    with shoal.raw() as c:
        c.send(h.encode("MGET", "foo", "bar") + h.encode("PING") + h.encode("MSET", "p", "1", "q", "2")
               + h.encode("MGET", "p", "q", "foo"))
        assert [c.read()[1] for _ in range(4)] == [[b"6", b"7"], "PONG", "OK", [b"1", b"2", b"6"]]


@pytest.mark.parametrize("rkind", ["shoal", "redis"])
def test_split_commands_reach_the_replica(servers, rkind):
    master = _start(servers, "shoal", ["--worker-threads", "4"])
    replica = _start(servers, rkind)
    with master.raw() as c:
        assert c.call("CONFIG", "SET", "repl-diskless-sync-delay", "0") == "OK"
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up")
    with master.raw(timeout=10) as c:
        for cmd in MULTI_KEY_CMDS:
            c.call(*cmd)
        assert c.call("WAIT", "1", "5000") == 1
    h.wait_until(lambda: _dump(replica) == _dump(master), 10, what="equal data")
