"""Blocked clients as CLIENT LIST and INFO show them, compared with redis-server 7.0.15.

What it is for: 7.0.15 flags b in CLIENT LIST every client it blocks (BLPOP and the other
blocking pops, XREAD BLOCK, WAIT, a command CLIENT PAUSE holds), shows the held command in
cmd=, and counts them in INFO blocked_clients only while their connection is open. shoal
waits in several places (a pop over keys of one worker waits there, one over keys of two
workers waits on the client's own worker, WAIT waits at the replication actor, a paused
command in the client's buffer); each test runs the same script on a shoal node with two
workers (standalone, so that a wait can span workers) and on redis-server.

What it must never do: wait without a deadline, or rely on timing: every check polls the
server until a count is reached, with generous bounds.
"""
import time

import pytest

import helpers as h

SA = "standalone"


def _on_worker(index, n=2):
    return [k for k in ("k%d" % i for i in range(200)) if h.key_slot(k) % n == index]


W0, W1 = _on_worker(0), _on_worker(1)
X, Z, Y, V = W0[0], W0[1], W1[0], W1[1]     # X and Z on worker 0, Y and V on worker 1


def _node(servers, kind):
    if kind == "shoal":
        return servers.shoal(base_args=SA, extra_args=["--worker-threads", "2"])
    return servers.redis(base_args=SA)


def _blocked(k):
    return int(h.info_dict(k.call("INFO", "clients"))["blocked_clients"])


def _line(k, cid):
    lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
    assert len(lines) == 1, lines
    fields = dict(f.split("=", 1) for f in lines[0].split(" "))
    return fields["flags"], fields["cmd"]


def _block(k, conn, cmd, count):
    """Sends cmd on conn (which then blocks) and waits until `count` clients are blocked."""
    conn.send(h.encode(*cmd))
    h.wait_until(lambda: _blocked(k) == count, 20, what=f"{cmd[0]} counted in blocked_clients")


BLOCKERS = [
    ("BLPOP", X, Y, "0"),                                  # keys of two workers
    ("BLMOVE", Z, V, "LEFT", "RIGHT", "0"),                # two workers
    ("XREAD", "BLOCK", "0", "STREAMS", "s" + X, "s" + Y, "$", "$"),
    ("BZPOPMIN", X, "0"),                                  # one worker
    ("WAIT", "1", "0"),                                    # no replica: waits for ever
]


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_every_blocked_client_is_flagged_b_with_its_command(servers, kind):
    """7.0.15 shows flags=b and the blocking command for each (failed before: the waits over
    two workers and WAIT showed flags=N)."""
    srv = _node(servers, kind)
    conns = [srv.raw(timeout=30) for _ in BLOCKERS]
    try:
        with srv.raw(timeout=10) as k:
            ids = [c.call("CLIENT", "ID") for c in conns]
            for n, (c, cmd) in enumerate(zip(conns, BLOCKERS), 1):
                _block(k, c, cmd, n)
            want = [("b", cmd[0].lower()) for cmd in BLOCKERS]
            assert [_line(k, i) for i in ids] == want
            # a write that fills X and empties it again in one transaction: the pop over
            # two workers is woken, finds nothing and waits on; it stays blocked throughout
            assert k.call("MULTI") == "OK"
            k.call("RPUSH", X, "1")
            k.call("LPOP", X)
            assert k.call("EXEC") == [1, b"1"]
            for _ in range(20):
                assert _line(k, ids[0]) == ("b", "blpop") and _blocked(k) == len(BLOCKERS)
            assert k.call("RPUSH", Y, "y") == 1
            assert conns[0].read()[1] == [Y.encode(), b"y"]
            h.wait_until(lambda: _blocked(k) == len(BLOCKERS) - 1, 20, what="the BLPOP served")
            assert _line(k, ids[0]) == ("N", "blpop")
    finally:
        for c in conns:
            c.close()


CLOSED = {
    "blpop": [("BLPOP", X, "0")],
    "blpop_two_workers": [("BLPOP", X, Y, "0")],
    "xread": [("XREAD", "BLOCK", "0", "STREAMS", "s" + X, "$")],
    "xread_two_workers": [("XREAD", "BLOCK", "0", "STREAMS", "s" + X, "s" + Y, "$", "$")],
    "wait": [("WAIT", "1", "100000")],
    "paused": [("CLIENT", "PAUSE", "100000", "WRITE"), ("SET", X, "1")],
}


@pytest.mark.parametrize("kind", ["shoal", "redis"])
@pytest.mark.parametrize("case", sorted(CLOSED))
def test_a_blocked_client_that_disconnects_leaves_blocked_clients(servers, kind, case):
    """7.0.15 stops counting a blocked client when its connection closes (failed before for
    WAIT: counted until its timeout)."""
    srv = _node(servers, kind)
    with srv.raw(timeout=10) as k:
        *setup, cmd = CLOSED[case]
        for s in setup:
            assert k.call(*s) == "OK"
        a = srv.raw(timeout=10)
        try:
            _block(k, a, cmd, 1)
        finally:
            a.close()
        h.wait_until(lambda: _blocked(k) == 0, 20, what="the closed client no longer counted")
        if setup:
            assert k.call("CLIENT", "UNPAUSE") == "OK"
        assert k.call("SET", Z, "after") == "OK"


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_client_held_by_a_pause_shows_the_held_command(servers, kind):
    """7.0.15 sets a client's command before CLIENT PAUSE holds it: CLIENT LIST shows the held
    one, flagged b (failed before: the client's previous command)."""
    srv = _node(servers, kind)
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw(timeout=10) as c, srv.raw() as k:
        ids = [x.call("CLIENT", "ID") for x in (a, b, c)]
        assert a.call("PING") == "PONG"
        assert b.call("MULTI") == "OK" and b.call("SET", X, "1") == "QUEUED"
        assert k.call("CLIENT", "PAUSE", "100000", "WRITE") == "OK"
        _block(k, a, ("SET", Y, "1"), 1)
        _block(k, b, ("EXEC",), 2)
        _block(k, c, ("XGROUP", "CREATE", "s" + X, "g", "$", "MKSTREAM"), 3)
        assert [_line(k, i) for i in ids] == [("b", "set"), ("xb", "exec"), ("b", "xgroup|create")]
        assert k.call("CLIENT", "UNPAUSE") == "OK"
        assert a.read()[1] == "OK" and b.read()[1] == ["OK"] and c.read()[1] == "OK"
        h.wait_until(lambda: _blocked(k) == 0, 20, what="nobody blocked")
        assert [_line(k, i) for i in ids] == [("N", "set"), ("N", "exec"), ("N", "xgroup|create")]


def _buffers(k, cid):
    lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
    assert len(lines) == 1, lines
    fields = dict(f.split("=", 1) for f in lines[0].split(" "))
    return int(fields["qbuf"]), int(fields["argv-mem"])


HELD = [
    ([("SET", X, "v")], (0, 3 + len(X) + 1)),
    ([("SET", X, "v"), ("GET", X)], (len(h.encode("GET", X)), 3 + len(X) + 1)),
    ([("SET", X, "x" * 1000), ("GET", X), ("PING",)], (len(h.encode("GET", X) + h.encode("PING")), 3 + len(X) + 1000)),
]


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_held_command_counts_in_argv_mem_not_qbuf(servers, kind):
    """A command CLIENT PAUSE WRITE holds, alone or with more pipelined behind it: 7.0.15 has
    parsed it, so CLIENT LIST counts its arguments in argv-mem and only the bytes after it in
    qbuf; once it ran, both are 0 (failed before: qbuf counted the held command too, and
    argv-mem was 0)."""
    srv = _node(servers, kind)
    with srv.raw(timeout=10) as k:
        for cmds, want in HELD:
            a = srv.raw(timeout=10)
            try:
                aid = a.call("CLIENT", "ID")
                assert k.call("CLIENT", "PAUSE", "100000", "WRITE") == "OK"
                a.send(b"".join(h.encode(*c) for c in cmds))
                h.wait_until(lambda: _blocked(k) == 1 and _buffers(k, aid)[0] == want[0], 20,
                             what=f"{cmds[0][0]} held with the rest of its pipeline read")
                assert _buffers(k, aid) == want
                assert k.call("CLIENT", "UNPAUSE") == "OK"
                for _ in cmds:
                    a.read()
                assert _buffers(k, aid) == (0, 0)
            finally:
                a.close()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_client_unblock_ends_a_wait(servers, kind):
    """CLIENT UNBLOCK of a client in WAIT: 7.0.15 answers 1 and ends the WAIT with the number of
    replicas that acknowledged (TIMEOUT, the default) or -UNBLOCKED (ERROR); a second UNBLOCK
    finds nobody (failed before: 0, and the WAIT went on)."""
    srv = _node(servers, kind)
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as k:
        aid = a.call("CLIENT", "ID")
        for how, want in ((), b":0\r\n"), (("ERROR",), b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"):
            _block(k, a, ("WAIT", "1", "0"), 1)
            assert k.call("CLIENT", "UNBLOCK", str(aid), *how) == 1
            assert a.read()[0] == want
            h.wait_until(lambda: _blocked(k) == 0, 20, what="the WAIT ended")
            assert k.call("CLIENT", "UNBLOCK", str(aid), *how) == 0
            assert _line(k, aid) == ("N", "wait")


BUSY_4S = ("local t0 = redis.call('TIME') while true do local t = redis.call('TIME') "
           "if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 4000000 then break end end return 1")


def test_client_unblock_of_a_wait_already_answered_answers_0(servers):
    """A WAIT whose answer the replication actor has sent (its timeout passed) but its client's
    worker has not delivered yet (a script holds that worker), when CLIENT UNBLOCK ERROR reaches
    that worker first. The WAIT has its answer (:0, the count at its timeout), so the client is
    no longer blocked: 7.0.15 answers 0 for such a client, and 1 only when the client gets the
    UNBLOCK's own reply. Failed before: 1, while the WAIT answered :0, not -UNBLOCKED. shoal
    only: in redis-server nothing answers a WAIT apart from the thread that runs CLIENT UNBLOCK."""
    srv = servers.shoal(base_args=SA, extra_args=["--worker-threads", "2", "--enable-debug-command", "yes",
                                                  "--busy-reply-threshold", "100"])
    with srv.raw(timeout=10) as k:
        assert k.call("DEBUG", "PLACEMENT", "PACK") == "OK"     # every connection on worker 0
    a, s = srv.raw(timeout=30), srv.raw(timeout=30)
    try:
        aid = a.call("CLIENT", "ID")
        _block(s, a, ("WAIT", "1", "2000"), 1)                  # parked at the replication actor
        s.send(h.encode("EVAL", BUSY_4S, "1", X))               # holds worker 0 (X is its key) for 4 s
        time.sleep(0.5)    # past busy-reply-threshold: a new connection goes to worker 1
        with srv.raw(timeout=30) as u:
            # its part for worker 0 waits there behind the script, ahead of the WAIT's answer
            # that the actor sends when the 2 s pass
            assert u.call("CLIENT", "UNBLOCK", str(aid), "ERROR") == 0
        assert s.read()[1] == 1
        assert a.read()[0] == b":0\r\n"
        assert a.call("PING") == "PONG"
    finally:
        a.close()
        s.close()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_wait_inside_a_transaction_answers_at_once(servers, kind):
    """7.0.15 never blocks a WAIT that EXEC runs: it answers with the replicas that acknowledged
    (failed before: EXEC waited for ever, WAIT 1 0 on a master without replicas)."""
    srv = _node(servers, kind)
    with srv.raw(timeout=10) as a:
        assert a.call("SET", X, "1") == "OK"
        assert a.call("MULTI") == "OK"
        assert a.call("WAIT", "1", "0") == "QUEUED"
        assert a.call("INCR", X) == "QUEUED"
        assert a.call("WAIT", "0", "0") == "QUEUED"
        assert a.call("EXEC") == [0, 2, 0]


def _in_timeout_table(k):
    return int(h.info_dict(k.call("INFO", "clients"))["clients_in_timeout_table"])


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_clients_in_timeout_table_counts_the_waits_with_a_timeout(servers, kind):
    """INFO clients_in_timeout_table: 7.0.15 counts every blocked client with a timeout, WAIT
    included (failed before: a WAIT with a timeout was not counted)."""
    srv = _node(servers, kind)
    cmds = [("WAIT", "1", "100000"), ("WAIT", "1", "0"), ("BLPOP", X, Y, "100"), ("BLPOP", X, "100"),
            ("BLPOP", Y, "0")]
    conns = [srv.raw(timeout=10) for _ in cmds]
    try:
        with srv.raw(timeout=10) as k:
            for n, (c, cmd) in enumerate(zip(conns, cmds), 1):
                _block(k, c, cmd, n)
            assert _in_timeout_table(k) == 3
            conns[0].close()
            h.wait_until(lambda: _blocked(k) == len(cmds) - 1, 20, what="the closed WAIT gone")
            assert _in_timeout_table(k) == 2
    finally:
        for c in conns:
            c.close()


UNBLOCKED_ROLE = b"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n"


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_node_turned_replica_ends_every_wait_and_closes_its_client(servers, kind):
    """REPLICAOF on a master with clients in WAIT and BLPOP (keys of one worker, of two): 7.0.15
    answers each -UNBLOCKED and closes its connection (failed before for WAIT and the BLPOP
    over two workers: they went on waiting, counted)."""
    master = servers.redis(base_args=SA)
    srv = _node(servers, kind)
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw(timeout=10) as c, \
            srv.raw(timeout=10) as k:
        _block(k, a, ("WAIT", "1", "0"), 1)
        _block(k, b, ("BLPOP", X, "0"), 2)
        _block(k, c, ("BLPOP", X, Y, "0"), 3)
        assert k.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        for conn in (a, b, c):
            assert conn.read()[0] == UNBLOCKED_ROLE
            assert conn.is_closed(timeout=10)
        h.wait_until(lambda: _blocked(k) == 0, 20, what="nobody blocked")
        assert k.call("REPLICAOF", "NO", "ONE") == "OK"
