"""Loading an AOF at start: what the workers build from a file of commands.

What it is for: the replay of an AOF's commands (actors/persist/aof_load.c,
actors/worker/load_apply.c), which hands each worker its share of the file
in batches that point into the file. A file written by hand, with keys of
every worker interleaved, order-dependent writes on each, transactions,
SELECT and SWAPDB, expiry commands, FLUSHALL, multi-key writes over several
workers, split over an AOF base and two incr files whose last ends inside a
transaction, must load into what redis-server 7.0.15 loads from the same
files. Loaded commands are not counted as commands run, as in 7.0.15.

What it must never do: touch files outside its own temporary directories, or
stop a process it did not start.
"""
import random
import shutil
import time

import helpers as h


# each key's companions (k + ":s", ":n", ...) share its slot, as a cluster's files have it
KEYS = [f"{{k{i}}}" for i in range(120)]


def _commands(rnd, n, now_ms, standalone):
    """n commands of mixed kinds over KEYS, each key's later writes depending on its earlier ones."""
    out = []
    db = 0
    for _ in range(n):
        k = rnd.choice(KEYS)
        r = rnd.random()
        if r < 0.2:
            out.append(("SET", k, f"v{rnd.randrange(1000)}"))
        elif r < 0.3:
            out.append(("APPEND", k + ":s", rnd.choice("abc")))
        elif r < 0.4:
            out.append(("INCRBY", k + ":n", rnd.randrange(-5, 10)))
        elif r < 0.5:
            out.append(("RPUSH", k + ":l", rnd.randrange(100)))
        elif r < 0.55:
            out.append(("LPOP", k + ":l"))
        elif r < 0.62:
            out.append(("HSET", k + ":h", f"f{rnd.randrange(5)}", rnd.randrange(100)))
        elif r < 0.66:
            out.append(("ZADD", k + ":z", rnd.randrange(50), f"m{rnd.randrange(8)}"))
        elif r < 0.7:
            out.append(("SADD", k + ":t", f"m{rnd.randrange(8)}"))
        elif r < 0.73:
            out.append(("DEL", k, k + ":s"))
        elif r < 0.77:   # a deadline in the future, or one already past (the key is gone after the load)
            at = now_ms + 3_600_000 if rnd.random() < 0.7 else now_ms - 60_000
            out.append(("PEXPIREAT", rnd.choice((k, k + ":n", k + ":l")), at))
        elif r < 0.79:
            out.append(("PERSIST", k))
        elif r < 0.81:
            out.append(("SET", k + ":s", "x", "PXAT", now_ms + 7_200_000))
        elif r < 0.86:
            out += [("MULTI",), ("INCR", k + ":n"), ("RPUSH", k + ":l", "t"), ("APPEND", k, "+"), ("EXEC",)]
        elif r < 0.89 and standalone:
            db = 1 - db
            out.append(("SELECT", db))
        elif r < 0.91 and standalone:   # keys of several workers in one command
            a, b = rnd.sample(KEYS, 2)
            out.append(("MSET", a, "m1", b, "m2"))
        elif r < 0.92 and standalone:
            a, b = rnd.sample(KEYS, 2)
            out.append(("RENAME", a + ":n", b + ":n") if rnd.random() < 0.5 else ("SET", a + ":n", 1))
        else:
            out.append(("SET", k + ":n", rnd.randrange(100)))
    if standalone:
        out += [("SELECT", 0), ("SWAPDB", 0, 1), ("SET", KEYS[0], "after-swap"), ("SELECT", 1),
                ("SET", KEYS[1], "db1-after-swap")]
    return out


def _write_files(d, standalone, seed=13, n=12000):
    """An AOF base and two incr files of commands; the last ends inside a transaction."""
    rnd = random.Random(seed)
    now_ms = int(time.time() * 1000)
    ad = d / "appendonlydir"
    ad.mkdir(parents=True)
    base = [("SELECT", 0), ("SET", "early", "gone"), ("FLUSHALL",)] + _commands(rnd, n, now_ms, standalone)
    incr1 = [("SELECT", 0)] + _commands(rnd, n, now_ms, standalone)
    incr2 = [("SELECT", 0)] + _commands(rnd, n, now_ms, standalone)
    (ad / "appendonly.aof.1.base.aof").write_bytes(b"".join(h.encode(*c) for c in base))
    (ad / "appendonly.aof.1.incr.aof").write_bytes(b"".join(h.encode(*c) for c in incr1))
    torn = h.encode("MULTI") + h.encode("SET", KEYS[2], "torn") + h.encode("INCR", KEYS[2] + ":n")
    (ad / "appendonly.aof.2.incr.aof").write_bytes(b"".join(h.encode(*c) for c in incr2) + torn)
    (ad / "appendonly.aof.manifest").write_text("file appendonly.aof.1.base.aof seq 1 type b\n"
                                               "file appendonly.aof.1.incr.aof seq 1 type i\n"
                                               "file appendonly.aof.2.incr.aof seq 2 type i\n")


def _dataset(c, dbs):
    """Every key _commands can write, per database: type, value, whether it has a TTL."""
    names = [n for k in KEYS for n in (k, k + ":s", k + ":n", k + ":l", k + ":h", k + ":z", k + ":t")]
    names += ["early"]
    out = {}
    for db in dbs:
        if len(dbs) > 1:
            assert c.call("SELECT", str(db)) == "OK"
        for k in names:
            t = c.call("TYPE", k)
            if t == "none":
                continue
            if t == "string":
                v = c.call("GET", k)
            elif t == "list":
                v = c.call("LRANGE", k, "0", "-1")
            elif t == "hash":
                v = sorted(c.call("HGETALL", k))
            elif t == "set":
                v = sorted(c.call("SMEMBERS", k))
            else:
                v = c.call("ZRANGE", k, "0", "-1", "WITHSCORES")
            ttl = c.call("PTTL", k)
            assert isinstance(ttl, int), (k, t, v, ttl)
            out[(db, k)] = (t, v, ttl > 0)
    return out


def _write_incr(tmp_path, cmds):
    """tmp_path/files/appendonlydir: a manifest naming one incr file of these commands."""
    ad = tmp_path / "files" / "appendonlydir"
    ad.mkdir(parents=True)
    (ad / "appendonly.aof.1.incr.aof").write_bytes(b"".join(h.encode(*c) for c in cmds))
    (ad / "appendonly.aof.manifest").write_text("file appendonly.aof.1.incr.aof seq 1 type i\n")


def _start_copy(servers, tmp_path, kind, *args):
    """A node of `kind` on its own copy of tmp_path/files (shoal with 2 workers)."""
    d = tmp_path / kind
    shutil.copytree(tmp_path / "files", d)
    return _node(servers, kind, d, *args, *(["--worker-threads", "2"] if kind == "shoal" else []))


def _node(servers, kind, d, *args, start_timeout=None):
    """start_timeout: for a node that loads a large file before it answers PING (the default
    start timeout, 10 s, is less than redis-server's 9.2 s load of 1M keys at load 8)."""
    port = h.free_port()
    common = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d), "--logfile", "", "--save", "",
              "--appendonly", "yes", *args]
    start = start_timeout is None
    if kind == "shoal":
        srv = servers.shoal(base_args=False, port=port, extra_args=common, start=start)
    else:
        srv = servers.redis(base_args=False, port=port, extra_args=common + ["--daemonize", "no"], start=start)
    if not start:
        srv.start(timeout=start_timeout)
    return srv


def _claimed_then_own_the_rest(c):
    """The slots the node serves as it starts (7.0.15 claims those its loaded keys are in,
    verifyClusterConfigWithData), then the node takes the others too (cluster_state:ok)."""
    owned = set()
    for start, end, *_ in c.call("CLUSTER", "SLOTS"):
        owned.update(range(start, end + 1))
    free = [str(s) for s in range(16384) if s not in owned]
    if free:
        assert c.call("CLUSTER", "ADDSLOTS", *free) == "OK"
    return owned


def _load_both(servers, tmp_path, standalone, workers):
    """(shoal's dataset, redis-server's dataset) after each loaded the same hand-written files."""
    _write_files(tmp_path / "files", standalone)
    got, claimed = {}, {}
    for kind in ("shoal", "redis"):
        d = tmp_path / kind
        shutil.copytree(tmp_path / "files", d)
        args = [] if standalone else ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        if kind == "shoal":
            args += ["--worker-threads", str(workers)]
        node = _node(servers, kind, d, *args)
        with node.raw() as c:
            if not standalone:
                claimed[kind] = _claimed_then_own_the_rest(c)
                h.wait_until(lambda: b"cluster_state:ok" in c.call("CLUSTER", "INFO"), 30, what="cluster_state:ok")
            got[kind] = _dataset(c, (0, 1) if standalone else (0,))
        assert "Truncating the AOF appendonly.aof.2.incr.aof" in node.output()
    if not standalone:
        # the loaded keys' slots were ours from the start, as 7.0.15 takes them (failed
        # before: shoal served none of them until an ADDSLOTS)
        assert claimed["shoal"] == claimed["redis"]
        assert claimed["redis"] == {h.key_slot(k) for _, k in got["redis"]}
    return got["shoal"], got["redis"]


def test_interleaved_workers_load_as_redis_standalone(servers, tmp_path):
    """3 workers, two databases, SWAPDB, multi-key writes over several workers."""
    mine, ref = _load_both(servers, tmp_path, True, 3)
    assert len(ref) > 300
    assert mine == ref


def test_interleaved_workers_load_as_redis_cluster(servers, tmp_path):
    """A cluster node: each worker gets the commands of its slots."""
    mine, ref = _load_both(servers, tmp_path, False, 2)
    assert len(ref) > 300
    assert mine == ref


def test_loaded_commands_are_not_counted_as_commands_run(servers, tmp_path):
    """7.0.15 runs a loaded command's handler alone: INFO commandstats and
    total_commands_processed count only what clients sent (failed before:
    cmdstat_set and the others counted every loaded command). Also a command whose keys
    two workers keep (MSET, DEL of several keys: failed before, counted as the
    master's stream is)."""
    spread = [f"m{i}" for i in range(8)]
    assert len({h.key_slot(k) % 2 for k in spread}) == 2   # on both of shoal's 2 workers
    _write_incr(tmp_path, [("SELECT", 0)] + [("SET", f"a{i}", i) for i in range(50)] +
                [("INCR", "a1"), ("PEXPIREAT", "a2", 1 << 45),
                 ("MSET", *[x for k in spread for x in (k, k)]), ("DEL", *spread[:4])])
    seen = {}
    for kind in ("shoal", "redis"):
        node = _start_copy(servers, tmp_path, kind)
        with node.raw() as c:
            assert c.call("GET", "a1") == b"2"
            assert c.call("EXISTS", *spread) == 4
            stats = h.info_dict(c.call("INFO", "commandstats"))
            total = h.info_dict(c.call("INFO", "stats"))["total_commands_processed"]
            persistence = h.info_dict(c.call("INFO", "persistence"))
        seen[kind] = (sorted(stats), total, persistence["rdb_changes_since_last_save"])
    assert seen["shoal"] == seen["redis"]
    assert not {"cmdstat_set", "cmdstat_mset", "cmdstat_del"} & set(seen["shoal"][0])


def _rdb_len(n):
    return bytes([n]) if n < 64 else bytes([0x40 | n >> 8, n & 0xFF]) if n < 16384 else b"\x80" + n.to_bytes(4, "big")


def _rdb_strings_expiring_at(keys, value, at_ms):
    """An RDB file of string keys, each with the deadline at_ms (checksum 0: not checked)."""
    head = b"\xfc" + at_ms.to_bytes(8, "little") + b"\x00"
    recs = [head + _rdb_len(len(k)) + k + _rdb_len(len(value)) + value for k in keys]
    return b"REDIS0009\xfe\x00" + b"".join(recs) + b"\xff" + b"\x00" * 8


def test_keys_past_their_ttl_in_an_rdb_base_outlive_no_command_of_the_incr_files(servers, tmp_path):
    """An RDB base's keys past their deadline stay while the AOF loads (7.0.15 keeps an AOF
    preamble's expired keys and expires nothing until the load ends), so an INCR of the incr
    file counts on the base's value and keeps its TTL: every key still has one after the load.
    Failed before: the workers' cron expired base keys while the base loaded (before expiry
    was turned off for the replay), and their INCR made new keys without a TTL, kept for ever
    (db0:keys=1000000,expires=986000 or so)."""
    n = 1_000_000                 # a base that takes several of the workers' 100 ms crons to load
    keys = [b"k%d" % i for i in range(n)]
    ad = tmp_path / "files" / "appendonlydir"
    ad.mkdir(parents=True)
    (ad / "appendonly.aof.1.base.rdb").write_bytes(_rdb_strings_expiring_at(keys, b"10", int(time.time() * 1000) - 60_000))
    (ad / "appendonly.aof.1.incr.aof").write_bytes(h.encode("SELECT", 0) + b"".join(h.encode(b"INCR", k) for k in keys))
    (ad / "appendonly.aof.manifest").write_text("file appendonly.aof.1.base.rdb seq 1 type b\n"
                                               "file appendonly.aof.1.incr.aof seq 1 type i\n")
    for kind in ("shoal", "redis"):
        d = tmp_path / kind
        shutil.copytree(tmp_path / "files", d)
        node = _node(servers, kind, d, *(["--worker-threads", "2"] if kind == "shoal" else []), start_timeout=90)
        with node.raw() as c:
            seen = []

            def every_key_has_a_ttl():
                # the keys expire meanwhile, so both counts move: one reading with them equal
                # is enough (a key without a TTL is never expired, so with one they never are)
                line = h.info_dict(c.call("INFO", "keyspace")).get("db0", "keys=0,expires=0")
                seen.append(line)
                f = dict(kv.split("=") for kv in line.split(","))
                return f["keys"] == f["expires"]

            try:
                h.wait_until(every_key_has_a_ttl, 90, interval=0.05, what="every key with a TTL")   # 1M keys at load 6+
            except TimeoutError:
                raise AssertionError((kind, seen[-1])) from None
            assert c.call("GET", "k7") is None, kind


def test_a_standalone_files_multi_key_write_loads_into_each_keys_worker_in_cluster_mode(servers, tmp_path):
    """A file written by a standalone server may hold an MSET over slots of several workers:
    loaded by a cluster node, each key lands in its own slot's worker, so the start claims
    both slots and both keys are served, as redis-server 7.0.15 does. Failed before: the
    MSET ran on its first key's worker alone, b sat there unreachable (COUNTKEYSINSLOT 0)
    and slot 3300 was not claimed."""
    assert h.key_slot("a") % 2 != h.key_slot("b") % 2   # 15495, 3300: the two workers
    _write_incr(tmp_path, [("SELECT", 0), ("MSET", "a", "1", "b", "2"), ("RENAME", "a", "c"), ("SET", "d", "4")])
    seen = {}
    for kind in ("shoal", "redis"):
        node = _start_copy(servers, tmp_path, kind, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
        with node.raw() as c:
            claimed = _claimed_then_own_the_rest(c)
            h.wait_until(lambda: b"cluster_state:ok" in c.call("CLUSTER", "INFO"), 30, what="cluster_state:ok")
            counts = {k: c.call("CLUSTER", "COUNTKEYSINSLOT", str(h.key_slot(k))) for k in "abcd"}
            seen[kind] = (sorted(claimed), counts, [c.call("GET", k) for k in "abcd"], c.call("DBSIZE"))
    assert seen["shoal"] == seen["redis"]
    assert seen["redis"][2] == [None, b"2", b"1", b"4"]
