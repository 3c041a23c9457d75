"""Numbered databases across replication, RDB and AOF, with redis-server 7.0.15 on the other
side where it can be.

What it is for: data written in database 3 of a master arrives in database 3 of its
replica, whichever of the two is shoal (the full sync's RDB carries SELECTDB and
RESIZEDB per database, the command stream a SELECT whenever the database changes, as
7.0.15 sends it); a dump.rdb saved by one loads into the other with every database in
place; the AOF has a SELECT before commands of another database and a restart replays
them into it. MOVE, COPY ... DB, SWAPDB, FLUSHDB, MULTI with SELECT inside and a script
that SELECTs reach the replica as they changed the master.

What it must never do: stop a process it did not start; compare less than every
database.
"""
import os
import shutil
import threading
import time

import pytest

import helpers as h

SA = "standalone"
PAIRS = [("shoal", "redis"), ("redis", "shoal"), ("shoal", "shoal")]


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=["--worker-threads", "3"] + list(extra), base_args=SA)
    return servers.redis(extra_args=list(extra), base_args=SA)


def _info(srv, section="replication"):
    with srv.raw() as c:
        return h.info_dict(c.call("INFO", section).decode())


def _value(c, key):
    t = c.call("TYPE", key)
    if t == "string":
        return ("s", c.call("GET", key))
    if t == "list":
        return ("l", c.call("LRANGE", key, "0", "-1"))
    if t == "hash":
        return ("h", sorted(c.call("HGETALL", key)))
    if t == "set":
        return ("S", sorted(c.call("SMEMBERS", key)))
    return (t, None)


def _dump(srv, dbs=16):
    """{db: {key: (value, has_ttl)}} for every non-empty database."""
    out = {}
    with srv.raw() as c:
        for db in range(dbs):
            assert c.call("SELECT", str(db)) == "OK"
            keys = sorted(c.call("KEYS", "*"))
            if keys:
                out[db] = {k: (_value(c, k), c.call("PTTL", k) > 0) for k in keys}
    return out


def _writes(srv, tag):
    """Writes over several databases with every command that crosses them."""
    with srv.raw() as c:
        for db in (0, 3, 7, 12):
            c.call("SELECT", str(db))
            for i in range(30):
                c.call("SET", f"{tag}:{db}:{i}", f"v{db}-{i}")
            c.call("RPUSH", f"{tag}:list:{db}", "a", "b", str(db))
            c.call("HSET", f"{tag}:hash:{db}", "f", str(db))
            c.call("SET", f"{tag}:ttl:{db}", "t", "EX", "1000")
        c.call("SELECT", "3")
        c.call("MOVE", f"{tag}:3:0", "4")
        c.call("COPY", f"{tag}:3:1", f"{tag}:copied", "DB", "5")
        c.call("MULTI")
        c.call("SET", f"{tag}:m", "in3")
        c.call("SELECT", "9")
        c.call("SET", f"{tag}:m", "in9")
        c.call("EXEC")
        c.call("SELECT", "3")
        c.call("EVAL", "redis.call('SELECT', '10'); return redis.call('SET', KEYS[1], 'lua')", "1", f"{tag}:lua")
        c.call("SET", f"{tag}:after-lua", "in3")
        c.call("SELECT", "12")
        c.call("FLUSHDB")
        c.call("SET", f"{tag}:12", "again")
        c.call("SWAPDB", "7", "8")


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=[f"{m}-to-{r}" for m, r in PAIRS])
def test_databases_replicate(servers, mkind, rkind):
    master, replica = _start(servers, mkind), _start(servers, rkind)
    _writes(master, "before")              # in the full sync's RDB
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up")
    _writes(master, "after")               # in the command stream
    with master.raw(timeout=10) as c:
        c.call("SELECT", "6")
        c.call("SET", "last", "x")
        assert c.call("WAIT", "1", "5000") == 1
    h.wait_until(lambda: _dump(replica) == _dump(master), 15, what="every database equal")
    d = _dump(replica)
    assert d[3][b"after:3:5"][0] == ("s", b"v3-5") and d[4][b"after:3:0"][0] == ("s", b"v3-0")
    assert d[9][b"after:m"][0] == ("s", b"in9") and d[10][b"after:lua"][0] == ("s", b"lua")
    # SWAPDB 7 8 after each round of writes: the first round's keys are back in 7
    assert d[7][b"before:7:1"][0] == ("s", b"v7-1") and d[8][b"after:7:1"][0] == ("s", b"v7-1")
    assert b"after:7:1" not in d[7]


def _stream_selects(srv):
    """What a replica of srv receives after PSYNC ? -1, read by a fake replica that
    acknowledges the RDB (7.0.15 streams to a diskless replica after its first ACK)."""
    with srv.raw(timeout=10) as c:
        c.send(h.encode("REPLCONF", "capa", "eof", "capa", "psync2"))
        c.read()
        c.send(h.encode("PSYNC", "?", "-1"))
        deadline = time.monotonic() + 10
        acked = False
        while b"$3\r\nSET\r\n$1\r\nc\r\n" not in bytes(c.buf) and time.monotonic() < deadline:
            try:
                c._fill()
            except OSError:
                pass
            got = bytes(c.buf)
            mark = got.find(b"$EOF:")
            if mark >= 0 and got.count(got[mark + 5:mark + 45]) >= 2:
                if not acked:
                    c.sock.settimeout(0.3)
                acked = True
                c.send(h.encode("REPLCONF", "ACK", "0"))   # as a replica does every second
        return bytes(c.buf)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_stream_selects_as_redis(servers, kind):
    """The stream after a full sync: SELECT before the first command, another only when
    the database changes."""
    srv = _start(servers, kind)
    with srv.raw() as c:
        c.call("SET", "boot", "1")
    out = {}

    def sync():
        out["bytes"] = _stream_selects(srv)
    t = threading.Thread(target=sync)
    t.start()
    h.wait_until(lambda: _info(srv).get("connected_slaves") == "1", 10, what="fake replica attached")
    with srv.raw() as c:
        c.call("SELECT", "2")
        c.call("SET", "a", "1")
        c.call("SET", "b", "1")
        c.call("SELECT", "0")
        c.call("SET", "c", "1")
    t.join(15)
    data = out.get("bytes", b"")
    tail = data[data.find(b"*"):] if b"*" in data else b""
    # everything after the RDB payload: the commands
    idx = tail.find(b"*2\r\n$6\r\nSELECT")
    assert idx >= 0, data[-300:]
    cmds = tail[idx:]
    assert cmds.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n"), cmds[:200]


def _save_and_move(src, dst_dir, name="dump.rdb"):
    with src.raw(timeout=20) as c:
        assert c.call("SAVE") == "OK"
    os.makedirs(dst_dir, exist_ok=True)
    shutil.copy(os.path.join(src.dir, "dump.rdb"), os.path.join(dst_dir, name))


@pytest.mark.parametrize("src_kind,dst_kind", [("shoal", "redis"), ("redis", "shoal"), ("shoal", "shoal")])
def test_rdb_keeps_databases(servers, tmp_path, src_kind, dst_kind):
    src = _start(servers, src_kind)
    _writes(src, "rdb")
    want = _dump(src)
    d = tmp_path / "load"
    _save_and_move(src, str(d))
    if dst_kind == "shoal":
        dst = servers.shoal(extra_args=["--worker-threads", "2", "--dir", str(d)], base_args=SA)
    else:
        dst = servers.redis(extra_args=["--dir", str(d)], base_args=SA)
    assert _dump(dst) == want
    lines = [ln for ln in _info(dst, "keyspace") if ln.startswith("db")]
    assert sorted(lines) == sorted(f"db{k}" for k in want), lines


def test_aof_selects_and_replays(servers):
    srv = _start(servers, "shoal", ["--appendonly", "yes"])
    _writes(srv, "aof")
    want = _dump(srv)
    srv.stop()
    incr = b""
    for root, _, files in os.walk(srv.dir):
        for f in files:
            if ".incr.aof" in f:
                incr += open(os.path.join(root, f), "rb").read()
    assert b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n" in incr and b"*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n" in incr
    srv.start()
    assert _dump(srv) == want


def _wait_persisted(srv, field):
    h.wait_until(lambda: _info(srv, "persistence").get(field) == "0", 30, what=f"{field} 0")


@pytest.mark.parametrize("dst_kind", ["shoal", "redis"])
def test_bgsave_keeps_databases(servers, tmp_path, dst_kind):
    """BGSAVE's forked child writes every database, as SAVE does (it wrote database 0 only)."""
    src = _start(servers, "shoal")
    _writes(src, "bg")
    want = _dump(src)
    with src.raw() as c:
        assert c.call("BGSAVE") == "Background saving started"
    _wait_persisted(src, "rdb_bgsave_in_progress")
    assert _info(src, "persistence")["rdb_last_bgsave_status"] == "ok"
    d = tmp_path / "load"
    os.makedirs(d)
    shutil.copy(os.path.join(src.dir, "dump.rdb"), os.path.join(d, "dump.rdb"))
    if dst_kind == "shoal":
        dst = servers.shoal(extra_args=["--worker-threads", "2", "--dir", str(d)], base_args=SA)
    else:
        dst = servers.redis(extra_args=["--dir", str(d)], base_args=SA)
    assert _dump(dst) == want


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_rewritten_aof_keeps_databases(servers, preamble):
    """BGREWRITEAOF's base holds every database: a restart after it has them all (the
    base held database 0 only, and the incr files after the rewrite nothing)."""
    srv = _start(servers, "shoal", ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
    _writes(srv, "rw")
    want = _dump(srv)
    with srv.raw() as c:
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
    _wait_persisted(srv, "aof_rewrite_in_progress")
    assert _info(srv, "persistence")["aof_last_bgrewrite_status"] == "ok"
    srv.stop()
    srv.start()
    assert _dump(srv) == want
