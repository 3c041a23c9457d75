"""Clients held by CLIENT PAUSE run in the order they came, and a write answered while a
script is busy is in the AOF.

What it is for: a paused worker keeps its held clients on a list; CLIENT UNPAUSE ran them
newest first, so two paused writes to one key landed reversed (redis-server 7.0.15
unblocks them in the order they were paused). And when a write and a script that turns busy
run in one loop round of a worker, the busy script's poll wrote the write's +OK while its
effect was still in the worker's stream buffer, in no file: a kill -9 then lost a write the
client had its OK for, appendfsync always included (7.0.15 writes and fsyncs its AOF buffer
before the replies it writes while a script is busy). The pause puts the write and the
script in one round, in that order, on both servers.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import os
import signal
import time

import pytest

import helpers as h


def _wait_held(k, cid):
    """Until the server holds client `cid`'s command: redis-server flags it b, our node
    keeps the command in its query buffer."""
    deadline = time.monotonic() + 10
    while True:
        lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
        if lines and ("flags=b" in lines[0] or " qbuf=0 " not in lines[0]):
            return
        assert time.monotonic() < deadline, lines
        time.sleep(0.02)


def _pause_then(k, conns_cmds):
    """CLIENT PAUSE WRITE, each (conn, command) sent and held in turn, CLIENT UNPAUSE."""
    assert k.call("CLIENT", "PAUSE", "100000", "WRITE") == "OK"
    for c, cmd in conns_cmds:
        c.send(h.encode(*cmd))
        _wait_held(k, c.call_id)
    assert k.call("CLIENT", "UNPAUSE") == "OK"


def _ids(*conns):
    for c in conns:
        c.call_id = c.call("CLIENT", "ID")


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_paused_writes_run_in_the_order_they_came(servers, kind):
    srv = h.single_node(servers, kind, workers=1 if kind == "shoal" else None)
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw(timeout=10) as c, srv.raw() as k:
        _ids(a, b, c)
        _pause_then(k, [(a, ("SET", "{p}", "1")), (b, ("SET", "{p}", "2")), (c, ("APPEND", "{p}", "3"))])
        assert [x.read()[0] for x in (a, b, c)] == [b"+OK\r\n", b"+OK\r\n", b":2\r\n"]
        assert k.call("GET", "{p}") == b"23"


def _aof_node(servers, kind, d):
    d.mkdir(parents=True, exist_ok=True)
    port = h.free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d), "--save", "", "--logfile", "",
            "--appendonly", "yes", "--appendfsync", "always", "--busy-reply-threshold", "100"]
    if kind == "shoal":
        return servers.shoal(base_args=False, port=port, extra_args=args + ["--worker-threads", "1"])
    return servers.redis(base_args=False, port=port, extra_args=args + ["--daemonize", "no"])


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_write_answered_while_a_script_is_busy_survives_kill_9(servers, tmp_path, kind):
    node = _aof_node(servers, kind, tmp_path / kind)
    with node.raw(timeout=10) as a, node.raw(timeout=10) as b, node.raw(timeout=10) as k:
        _ids(a, b)
        _pause_then(k, [(a, ("SET", "durable", "1")), (b, ("EVAL", "while true do end", "0"))])
        assert a.read()[0] == b"+OK\r\n"          # answered while the script spins
        node.expected_exit = True
        os.kill(node.pid, signal.SIGKILL)
        node.popen.wait()
    node.start()
    with node.raw() as c:
        assert c.call("GET", "durable") == b"1"


def _flags(k, cid):
    line = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln][0]
    return line.split(" flags=")[1].split(" ")[0]


def _blocked(k):
    return h.info_dict(k.call("INFO", "clients"))["blocked_clients"]


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_client_held_by_a_pause_or_a_blpop_is_blocked_in_info_and_client_list(servers, kind):
    """7.0.15 counts a client whose command a pause holds in INFO blocked_clients and flags it
    b in CLIENT LIST, as one waiting in BLPOP (failed before: neither was flagged, and the
    paused one was not counted)."""
    srv = h.single_node(servers, kind, workers=1 if kind == "shoal" else None)
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw() as k:
        _ids(a, b)
        a.send(h.encode("BLPOP", "{q}", "0"))
        h.wait_until(lambda: _blocked(k) == "1", 10, what="the BLPOP blocked")
        assert _flags(k, a.call_id) == "b"
        assert k.call("CLIENT", "PAUSE", "100000", "WRITE") == "OK"
        b.send(h.encode("SET", "{q}x", "1"))
        h.wait_until(lambda: _blocked(k) == "2", 10, what="the paused SET counted")
        assert _flags(k, b.call_id) == "b"
        assert k.call("CLIENT", "UNPAUSE") == "OK"
        assert b.read()[0] == b"+OK\r\n"
        assert _blocked(k) == "1" and _flags(k, b.call_id) == "N"
        assert k.call("RPUSH", "{q}", "x") == 1
        assert a.read()[0] == b"*2\r\n$3\r\n{q}\r\n$1\r\nx\r\n"
        h.wait_until(lambda: _blocked(k) == "0", 10, what="nobody blocked")
        assert _flags(k, a.call_id) == "N"


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_client_in_wait_counts_in_blocked_clients(servers, kind):
    """WAIT for a replica a master does not have: 7.0.15 counts its client in INFO
    blocked_clients while it waits (failed before: 0)."""
    srv = h.single_node(servers, kind, workers=1 if kind == "shoal" else None)
    with srv.raw(timeout=30) as a, srv.raw() as k:
        assert a.call("SET", "{w}", "1") == "OK"
        a.send(h.encode("WAIT", "1", "20000"))
        h.wait_until(lambda: _blocked(k) == "1", 10, what="the WAIT counted")
