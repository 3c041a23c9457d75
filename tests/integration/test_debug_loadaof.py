"""DEBUG LOADAOF: the dataset is dropped and loaded back from the AOF on disk, as
redis-server 7.0.15 does it, compared side by side with a real redis-server.

What it is for: Redis's own test suite (about 30 tests in unit/expire, unit/other,
unit/scripting, unit/functions, unit/aofrw, unit/type/stream*) checks what the AOF holds
by calling DEBUG LOADAOF and reading the data back. What the AOF does not hold must be
gone after it (DEBUG POPULATE's keys, which are not propagated), what it holds must be
back with its TTL, in its database, with the functions the AOF loads (FUNCTION FLUSH and
DELETE included), after a rewrite (an RDB base, or commands without the preamble) and
before one. The changes count as saved afterwards, as 7.0.15 resets its dirty counter.

What it must never do: relax an expectation to match our node; stop a process it did not
start.
"""
import time

import pytest

import helpers as h

SA = "standalone"
ARGS = ["--enable-debug-command", "yes", "--appendonly", "yes", "--appendfsync", "everysec"]
LIB = "#!lua name=lib\nredis.register_function('f', function() return 'hello' end)"
LIB2 = "#!lua name=lib2\nredis.register_function('g', function() return 'g' end)"
FAR = "4102444800"                      # 2100-01-01: EXPIRETIME reads the same on both


def _state():
    """What a node holds, read through commands whose replies are deterministic."""
    return [("DBSIZE",), ("GET", "a"), ("EXPIRETIME", "b"), ("LRANGE", "l", "0", "-1"),
            ("HGETALL", "h"), ("EXISTS", "key:1"), ("FUNCTION", "LIST"), ("SELECT", "3"),
            ("GET", "c"), ("DBSIZE",), ("SELECT", "0")]


SESSION = [
    ("SET", "a", "1"), ("INCR", "a"), ("SET", "b", "x"), ("EXPIREAT", "b", FAR),
    ("RPUSH", "l", "1", "2", "3"), ("LPOP", "l"), ("HSET", "h", "f", "v"),
    ("SELECT", "3"), ("SET", "c", "in3"), ("SELECT", "0"), ("FUNCTION", "LOAD", LIB),
    ("DEBUG", "POPULATE", "5"),        # not propagated: gone after the load
    ("DEBUG", "LOADAOF"), *_state(),
    ("INCR", "a"), ("FUNCTION", "LOAD", LIB2), ("FUNCTION", "DELETE", "lib"),
    ("DEBUG", "LOADAOF"), *_state(),
    ("BGREWRITEAOF",), ("WAIT-REWRITE",),
    ("SET", "after", "rewrite"), ("DEL", "h"), ("DEBUG", "LOADAOF"), *_state(), ("GET", "after"),
    ("CONFIG", "SET", "aof-use-rdb-preamble", "no"), ("BGREWRITEAOF",), ("WAIT-REWRITE",),
    ("FUNCTION", "FLUSH"), ("DEBUG", "LOADAOF"), *_state(), ("GET", "after"),
    ("INFO", "persistence"),
]


def _rewrite_done(c):
    info = h.info_dict(c.call("INFO", "persistence").decode())
    return info["aof_rewrite_in_progress"] == "0" and info["aof_rewrite_scheduled"] == "0"


def _run(srv):
    out = []
    with srv.raw(timeout=20) as c:
        for cmd in SESSION:
            if cmd == ("WAIT-REWRITE",):
                h.wait_until(lambda: _rewrite_done(c), 30, what="the rewrite ends")
                continue
            reply = c.raw(*cmd)
            if cmd == ("INFO", "persistence"):
                info = h.info_dict(reply.split(b"\r\n", 1)[1].decode())
                reply = (info["rdb_changes_since_last_save"], info["aof_enabled"], info["loading"])
            elif cmd == ("BGREWRITEAOF",):
                reply = reply.split(b" ")[0]      # "started" or "scheduled" (an initial rewrite)
            out.append(reply)
    return out


def test_debug_loadaof_as_redis(servers):
    node = servers.shoal(extra_args=ARGS, base_args=SA)
    ref = servers.redis(extra_args=ARGS, base_args=SA)
    want, got = _run(ref), _run(node)
    cmds = [c for c in SESSION if c != ("WAIT-REWRITE",)]
    bad = [(c, g, w) for c, g, w in zip(cmds, got, want) if g != w]
    assert not bad, "\n".join(f"{' '.join(map(str, c))[:60]}: shoal {g!r} redis {w!r}" for c, g, w in bad)
    assert "Append Only File loaded by DEBUG LOADAOF" in node.log()


@pytest.mark.parametrize("with_dir", [False, True])
def test_debug_loadaof_without_an_aof_keeps_the_data(servers, with_dir):
    """Where 7.0.15 has no AOF to load it exits (it empties the data first); shoal answers
    an error and keeps the data (docs/persistence.md §6)."""
    node = servers.shoal(extra_args=["--enable-debug-command", "yes"], base_args=SA)
    with node.raw() as c:
        assert c.call("SET", "k", "v") == "OK"
        if with_dir:              # the directory exists but holds no manifest
            (node.dir / "appendonlydir").mkdir()
        reply = c.raw("DEBUG", "LOADAOF")
        assert reply.startswith(b"-ERR There is no append only file to load"), reply
        assert c.call("GET", "k") == b"v"
        assert c.call("SET", "k2", "v") == "OK"


@pytest.mark.parametrize("debug", ["LOADAOF", "RELOAD"])
def test_reload_while_an_aof_rewrite_runs_keeps_every_key(servers, debug):
    """A DEBUG LOADAOF or DEBUG RELOAD sent right behind a BGREWRITEAOF: 7.0.15 runs the
    reload on its main thread, so the rewrite's child (forked before) and the files it
    replaces never meet a half-loaded dataset. shoal reloads on a thread of its own while
    the rewrite runs: its cut could come while the workers were emptied or half loaded, and
    its files replaced the ones the reload was reading. DEBUG LOADAOF answered +OK with a
    third of the keys (or an error, the manifest's incr file gone), the next rewrites made
    the loss durable, and a restart found 0 keys. Every reply must be +OK with every key,
    in memory and, after a restart, on disk."""
    node = servers.shoal(extra_args=["--enable-debug-command", "yes", "--appendonly", "yes"], base_args=SA)
    n = 30000
    bad = []
    with node.raw(timeout=60) as c:
        for start in range(0, n, 5000):
            c.send(b"".join(h.encode("SET", f"key:{i}", "x" * 50) for i in range(start, start + 5000)))
            for _ in range(5000):
                c.read()
        for rnd in range(10):
            c.send(h.encode("BGREWRITEAOF"))
            c.read()
            time.sleep(0.005 * (rnd % 4))          # the reload at several points of the rewrite
            reply = c.raw("DEBUG", debug)
            size = c.raw("DBSIZE")
            if reply != b"+OK\r\n" or size != b":%d\r\n" % n:
                bad.append((rnd, reply, size))
            h.wait_until(lambda: _rewrite_done(c), 30, what="the rewrite ends")
    assert bad == []
    node.stop()
    node.start()
    with node.raw(timeout=60) as c:
        assert c.call("DBSIZE") == n


def test_no_save_point_bgsave_while_loadaof_loads(servers):
    """No save point starts a BGSAVE while DEBUG LOADAOF has the data half loaded: 7.0.15
    loads on its main thread, so its serverCron cannot look meanwhile; shoal's save cron
    (the main thread) kept looking, and the replayed commands count as changes, so with
    `save 1 1` it forked a BGSAVE mid-load that wrote a dump.rdb with part of the keys and
    answered LASTSAVE with it ("DB saved on disk"). key-load-delay (per replayed command,
    as 7.0.15's) makes the load take 3 s or more; the workers get the replayed commands
    4,096 at a time, so the first ones count as changes from about 1.2 s on, and the save
    cron (which waits 1 s at most) looks at least once before the end."""
    node = servers.shoal(extra_args=ARGS, base_args=SA)
    n = 10000
    with node.raw(timeout=60) as c:
        c.send(b"".join(h.encode("SET", f"k{i}", "v") for i in range(n)))
        for _ in range(n):
            assert c.read()[1] == "OK"
        assert c.call("CONFIG", "SET", "save", "1 1") == "OK"
        assert c.call("SAVE") == "OK"
        before = c.call("LASTSAVE")
        time.sleep(1.2)                           # the save point's second has passed
        assert c.call("CONFIG", "SET", "key-load-delay", "300") == "OK"
        assert c.raw("DEBUG", "LOADAOF") == b"+OK\r\n"
        assert c.call("CONFIG", "SET", "key-load-delay", "0") == "OK"
        assert c.call("DBSIZE") == n
        assert c.call("LASTSAVE") == before, "a BGSAVE ran while the AOF was half loaded"
    assert "Saving..." not in node.log()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_full_sync_waiting_for_its_delay_during_loadaof_gets_every_key(servers, kind):
    """A replica's diskless full sync whose repl-diskless-sync-delay ends while DEBUG
    LOADAOF has the data emptied or half loaded: 7.0.15 starts no sync meanwhile (its
    cron waits for the load on the main thread); shoal's replication actor cut the
    workers then and sent the replica an RDB with part of the keys (0 of 10,000 here),
    the link up and the replica silently short of them. key-load-delay makes the load
    last 3 s or more, past the 1 s delay."""
    mk = servers.shoal if kind == "shoal" else servers.redis
    master = mk(extra_args=ARGS + ["--repl-diskless-sync", "yes"], base_args=SA)
    replica = mk(base_args=SA)
    n = 10000
    with master.raw(timeout=60) as c:
        c.send(b"".join(h.encode("SET", f"k{i}", "v") for i in range(n)))
        for _ in range(n):
            assert c.read()[1] == "OK"
        assert c.call("CONFIG", "SET", "repl-diskless-sync-delay", "1") == "OK"
        assert c.call("CONFIG", "SET", "key-load-delay", "300") == "OK"
        with replica.raw() as r:
            assert r.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        # the replica asks (its PSYNC) well within the delay, before the load begins
        h.wait_until(lambda: h.info_dict(c.call("INFO", "replication").decode())["connected_slaves"] == "1",
                     10, interval=0.01, what="the replica waiting for its sync")
        assert c.raw("DEBUG", "LOADAOF") == b"+OK\r\n"
        assert c.call("CONFIG", "SET", "key-load-delay", "0") == "OK"
        assert c.call("DBSIZE") == n
    with replica.raw() as r:
        h.wait_until(lambda: "master_link_status:up" in r.call("INFO", "replication").decode(), 30,
                     what="the replica's link up")
        # a replica sent part of the keys stays short of them: no later sync brings the rest
        h.wait_until(lambda: r.call("DBSIZE") == n, 10, what=f"the replica holding all {n} keys")


def test_scheduled_rewrite_waits_for_debug_reload_to_end(servers):
    """A BGREWRITEAOF scheduled behind a BGSAVE must not start while DEBUG RELOAD has the
    data emptied or half loaded: 7.0.15's cron, which starts it when the BGSAVE ends,
    cannot run during the load. If it starts there, its cut encodes part of the keys
    into the new AOF base, and a restart loads that. rdb-key-save-delay makes the BGSAVE
    end about 1 s into a load that key-load-delay stretches to 3 s or more."""
    node = servers.shoal(extra_args=ARGS, base_args=SA)
    n = 10000
    with node.raw(timeout=60) as c:
        c.send(b"".join(h.encode("SET", f"k{i}", "v") for i in range(n)))
        for _ in range(n):
            assert c.read()[1] == "OK"
        assert c.call("SAVE") == "OK"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "100") == "OK"   # ~1 s for 10,000 keys
        assert c.call("BGSAVE") == "Background saving started"
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting scheduled"
        assert c.call("CONFIG", "SET", "key-load-delay", "300") == "OK"
        assert c.raw("DEBUG", "RELOAD", "NOSAVE") == b"+OK\r\n"
        assert c.call("CONFIG", "SET", "key-load-delay", "0") == "OK"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        assert c.call("DBSIZE") == n
        h.wait_until(lambda: _rewrite_done(c) and
                     h.info_dict(c.call("INFO", "persistence").decode())["aof_last_bgrewrite_status"] == "ok",
                     30, what="the scheduled rewrite done")
    node.stop()
    node.start()
    with node.raw(timeout=60) as c:
        assert c.call("DBSIZE") == n
