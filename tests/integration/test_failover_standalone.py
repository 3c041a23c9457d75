"""FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] without cluster mode: 7.0.15's
coordinated failover, side by side with redis-server and across the two.

What it is for: an operator hands the master role of a standalone pair to a replica
without losing a write: the master holds its clients' writes, waits until the replica has
acknowledged the whole stream, follows it with PSYNC ... FAILOVER (the replica becomes the
master first) and lets the held writes go on (now answered -READONLY). INFO replication
shows master_failover_state (no-failover, waiting-for-sync, failover-in-progress); ABORT
and a TIMEOUT without FORCE end the wait with the node still a master. Every error reply
is 7.0.15's, in its order; in cluster mode FAILOVER is refused.

What it must never do: stop a process it did not start; accept an error text redis-server
does not give.
"""
import threading
import time

import pytest

import helpers as h
from test_failover_inflight import SLOW_SET   # SET KEYS[1], then busy-wait ARGV[2] ms

SA = "standalone"
PAIRS = [("shoal", "redis"), ("redis", "shoal"), ("shoal", "shoal")]


def _start(servers, kind, extra=()):
    if kind == "shoal":
        return servers.shoal(extra_args=["--worker-threads", "2"] + list(extra), base_args=SA)
    return servers.redis(extra_args=list(extra), base_args=SA)


def _info(srv):
    with srv.raw() as c:
        return h.info_dict(c.call("INFO", "replication").decode())


def _replies(srv, cmds, proto=2):
    out = []
    with srv.raw() as c:
        if proto == 3:
            c.call("HELLO", "3")
        for cmd in cmds:
            c.send(h.encode(*cmd))
            out.append(c.read()[0])
    return out


ERRORS = [
    ("FAILOVER", "ABORT"), ("FAILOVER", "TIMEOUT", "0"), ("FAILOVER", "TIMEOUT", "-5"),
    ("FAILOVER", "TIMEOUT", "x"), ("FAILOVER", "TO", "h"), ("FAILOVER", "TO", "h", "x"),
    ("FAILOVER", "FORCE", "FORCE"), ("FAILOVER", "bogus"), ("FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"),
    ("FAILOVER",), ("FAILOVER", "FORCE"), ("FAILOVER", "TO", "127.0.0.1", "1", "FORCE"),
    ("FAILOVER", "ABORT", "x"), ("PSYNC", "x" * 40, "1", "FAILOVER"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_failover_errors_as_redis(servers, proto):
    s, r = _start(servers, "shoal"), _start(servers, "redis")
    assert _replies(s, ERRORS, proto) == _replies(r, ERRORS, proto)


def test_failover_refused_in_cluster_mode(servers):
    s = h.single_node(servers, "shoal")
    r = h.single_node(servers, "redis")
    cmds = [("FAILOVER",), ("FAILOVER", "ABORT"), ("FAILOVER", "TO", "h", "1")]
    assert _replies(s, cmds) == _replies(r, cmds)


def _pair(servers, mkind, rkind):
    master, replica = _start(servers, mkind), _start(servers, rkind)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up")
    h.wait_until(lambda: "state=online" in _info(master).get("slave0", ""), 10, what="replica online")
    return master, replica


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=[f"{m}-to-{r}" for m, r in PAIRS])
def test_failover_to_a_replica(servers, mkind, rkind):
    master, replica = _pair(servers, mkind, rkind)
    with master.raw() as c:
        for i in range(50):
            c.call("SET", f"k{i}", str(i))
        c.call("SELECT", "3")
        c.call("SET", "in3", "x")
        assert c.call("FAILOVER", "TO", "127.0.0.1", str(replica.port), "TIMEOUT", "10000") == "OK"
    h.wait_until(lambda: _info(replica).get("role") == "master" and _info(master).get("role") == "slave",
                 15, what="roles swapped")
    h.wait_until(lambda: _info(master).get("master_link_status") == "up", 15, what="old master's link up")
    assert _info(master)["master_port"] == str(replica.port)
    assert _info(master)["master_failover_state"] == "no-failover"
    with master.raw() as c:
        assert c.call("SET", "x", "1") == h.Error("READONLY You can't write against a read only replica.")
        role = c.call("ROLE")
        assert role[:4] == [b"slave", b"127.0.0.1", replica.port, b"connected"], role
    with replica.raw() as c:
        c.call("SELECT", "3")
        assert c.call("GET", "in3") == b"x"
        assert c.call("SET", "after", "y") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    with master.raw() as c:
        c.call("SELECT", "3")
        assert c.call("GET", "after") == b"y"
        c.call("SELECT", "0")
        assert c.call("GET", "k49") == b"49"


def _fake_replica(srv, stop):
    """A replica that syncs and never acknowledges: the master's failover waits."""
    c = h.RawConn(srv.port, timeout=5)
    c.call("REPLCONF", "listening-port", "1")    # one at a time: PSYNC refuses pending output
    c.call("REPLCONF", "capa", "eof", "capa", "psync2")
    c.sock.settimeout(0.3)
    c.send(h.encode("PSYNC", "?", "-1"))
    start, acked = time.monotonic(), False
    while not stop.is_set():
        try:
            c._fill()
        except OSError:
            pass
        if not acked and time.monotonic() - start > 0.5:
            acked = True                    # once, at offset 0: online, but never caught up
            c.send(h.encode("REPLCONF", "ACK", "0"))
    c.close()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_failover_waits_holds_writes_and_aborts(servers, kind):
    srv = _start(servers, kind)
    ev = threading.Event()
    t = threading.Thread(target=_fake_replica, args=(srv, ev), daemon=True)
    t.start()
    try:
        h.wait_until(lambda: "state=online" in _info(srv).get("slave0", ""), 10, what="fake replica online")
        with srv.raw() as c:
            c.call("SET", "before", "1")     # stream bytes the replica never acknowledges
            assert c.call("FAILOVER") == "OK"
            assert c.call("FAILOVER") == h.Error("ERR FAILOVER already in progress.")
            assert c.call("REPLICAOF", "NO", "ONE") == h.Error("ERR REPLICAOF not allowed while failing over.")
            assert c.call("GET", "k") is None           # reads go on
        assert _info(srv)["master_failover_state"] == "waiting-for-sync"
        held = h.RawConn(srv.port, timeout=5)
        held.send(h.encode("SET", "k", "v"))
        time.sleep(0.3)
        assert held.buf == b"" and not _has_reply(held)
        with srv.raw() as c:
            assert c.call("FAILOVER", "ABORT") == "OK"
        assert held.read()[1] == "OK"              # the held write goes on
        held.close()
        assert _info(srv)["master_failover_state"] == "no-failover"
        with srv.raw() as c:
            assert c.call("FAILOVER", "TIMEOUT", "300") == "OK"
        h.wait_until(lambda: _info(srv)["master_failover_state"] == "no-failover", 5,
                     what="the timeout ends the wait")
        assert _info(srv)["role"] == "master"
    finally:
        ev.set()
        t.join(5)


def _has_reply(conn):
    conn.sock.settimeout(0.1)
    try:
        conn._fill()
        return True
    except OSError:
        return False
    finally:
        conn.sock.settimeout(5)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_failover_keeps_a_write_running_when_it_began(servers, kind):
    """A write admitted before FAILOVER's pause that is still running (a script on the
    other worker of a shoal master) is in the offset the replica must reach: the new
    master has it. shoal compared offsets 100 ms after the pause, without it, and
    followed the replica; the write, applied on the old master and answered, was lost.
    redis-server runs FAILOVER after the script."""
    extra = ["--enable-debug-command", "yes"] if kind == "shoal" else []
    master, replica = _start(servers, kind, extra), _start(servers, kind)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: _info(replica).get("master_link_status") == "up", 30, what="link up")
    h.wait_until(lambda: "state=online" in _info(master).get("slave0", ""), 10, what="replica online")
    if kind == "shoal":
        with master.raw() as c:   # every client on worker 0; the script's key is worker 1's
            assert c.call("DEBUG", "PLACEMENT", "PACK") == "OK"
    key = next(f"fo{i}" for i in range(100) if h.key_slot(f"fo{i}") % 2 == 1)
    with master.raw(timeout=15) as slow, master.raw(timeout=15) as c:
        slow.send(h.encode("EVAL", SLOW_SET, "1", key, "kept", "1500"))
        time.sleep(0.3)
        assert c.call("FAILOVER", "TIMEOUT", "10000") == "OK"
        assert slow.read()[1] == b"done"
    h.wait_until(lambda: _info(replica).get("role") == "master" and _info(master).get("role") == "slave",
                 15, what="roles swapped")
    with replica.raw() as c:
        assert c.call("GET", key) == b"kept"
