"""FLUSHALL / FLUSHDB on a master that has replicas.

What it is for: on shoal, a flush on a master with replicas is not run where the client
is: the replication actor runs it as a stop-the-world cut across every worker, so that
the FLUSHALL has one place in the replication stream. The client that sent it must be
answered and must then go on being served on the same connection: GET, PING, SET,
another flush, pipelined or one by one, with one and with two replicas, and while
another replica is in the middle of its full synchronisation (the other kind of cut).
redis-server 7.0.15 runs the same steps and must pass them: it is the proof that the
test asks for Redis's behaviour.

What it must never do: stop a process it did not start, or wait for a reply without a
deadline (a connection that is never answered again is the bug).
"""
import threading

import pytest

import helpers as h
import replhelpers as rh

FLUSHES = [("FLUSHALL",), ("FLUSHALL", "SYNC"), ("FLUSHALL", "ASYNC"),
           ("FLUSHDB",), ("FLUSHDB", "SYNC"), ("FLUSHDB", "ASYNC")]


def _master_with_replicas(servers, kind, nreplicas):
    master = rh.start(servers, kind)
    h.own_all_slots(master)
    rh.fast_sync(master)
    with master.raw() as c:
        mid = c.call("CLUSTER", "MYID").decode()
    replicas = [rh.add_replica(servers, master, kind, mid) for _ in range(nreplicas)]
    return master, replicas, mid


def _call(c, *args):
    """One command and its reply; a reply that does not come within the connection's
    timeout fails the test with the command's name."""
    try:
        return c.call(*args)
    except (TimeoutError, OSError) as e:
        raise AssertionError(f"no reply to {' '.join(args)} on the same connection: {e!r}") from None


def _flush_then_more(c, flush, tag):
    label = " ".join(flush)
    assert _call(c, "SET", f"{tag}:a", "1") == "OK"
    assert _call(c, *flush) == "OK", label
    assert _call(c, "GET", f"{tag}:a") is None, f"GET after {label}"
    assert _call(c, "PING") == "PONG", f"PING after {label}"
    assert _call(c, "SET", f"{tag}:b", "after") == "OK", f"SET after {label}"
    assert _call(c, "GET", f"{tag}:b") == b"after", f"GET after {label}"
    assert _call(c, *flush) == "OK", f"a second {label}"
    assert _call(c, "DBSIZE") == 0, f"DBSIZE after a second {label}"


def _pipelined(c, flush, tag):
    """The flush and the commands after it in one write: they must run after it, in
    order (the SET survives, the GET sees it)."""
    cmds = [flush, ("SET", f"{tag}:p", "v"), ("GET", f"{tag}:p"), ("FLUSHDB",), ("PING",),
            ("EXISTS", f"{tag}:p")]
    c.send(b"".join(h.encode(*x) for x in cmds))
    got = []
    for x in cmds:
        try:
            got.append(c.read()[1])
        except (TimeoutError, OSError) as e:
            raise AssertionError(f"pipelined after {' '.join(flush)}: replies {got!r}, then "
                                 f"none to {' '.join(x)}: {e!r}") from None
    assert got == ["OK", "OK", b"v", "OK", "PONG", 0], f"pipelined after {' '.join(flush)}: {got!r}"


@pytest.mark.parametrize("nreplicas", [1, 2])
@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_flush_with_replicas_keeps_serving_the_client(servers, kind, nreplicas):
    master, replicas, _ = _master_with_replicas(servers, kind, nreplicas)
    with master.raw(timeout=5) as c:
        for i, flush in enumerate(FLUSHES):
            _flush_then_more(c, flush, f"t{i}")
        for i, flush in enumerate(FLUSHES):
            _pipelined(c, flush, f"p{i}")
        # Inside MULTI the flush is one part of the transaction.
        assert _call(c, "MULTI") == "OK"
        assert _call(c, "SET", "{m}1", "1") == "QUEUED"
        assert _call(c, "FLUSHALL") == "QUEUED"
        assert _call(c, "SET", "{m}2", "2") == "QUEUED"
        assert _call(c, "EXEC") == ["OK", "OK", "OK"]
        assert _call(c, "PING") == "PONG"
        assert _call(c, "EXISTS", "{m}1", "{m}2") == 1
        assert _call(c, "SET", "last", "x") == "OK"
        # Every replica got every flush and write, in order.
        assert _call(c, "WAIT", str(nreplicas), "5000") == nreplicas
    for r in replicas:
        rh.assert_same_data(master, r)
    # A second connection is served too, and the first one's flushes did not wedge it.
    with master.raw(timeout=5) as c2:
        assert _call(c2, "GET", "last") == b"x"


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_flush_during_a_full_sync(servers, kind):
    """A third node replicates (a full sync, which on shoal is a cut) while a client keeps
    sending flushes followed by other commands on one connection."""
    master, replicas, mid = _master_with_replicas(servers, kind, 1)
    with master.raw(timeout=5) as c:
        cl = master.client()
        pipe = cl.pipeline(transaction=False)
        for i in range(20000):
            pipe.set(f"fill:{i}", "x" * 50)
        pipe.execute()
        cl.close()
        newcomer = rh.start(servers, kind)
        rh.meet(newcomer, master)
        done = threading.Event()
        rounds = [0]

        def client_loop():
            n = 0
            while not done.is_set() and n < 400:
                _pipelined(c, FLUSHES[n % len(FLUSHES)], f"s{n}")
                assert _call(c, "SET", f"fill:{n}", "y") == "OK"
                n += 1
            rounds[0] = n
        errors = []

        def run():
            try:
                client_loop()
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        rh.replicate(newcomer, mid)
        rh.wait_link_up(newcomer)
        done.set()
        t.join(30)
        assert not t.is_alive(), "the client loop never finished: a reply did not come"
        if errors:
            raise errors[0]
        assert rounds[0] > 0
        assert _call(c, "PING") == "PONG"
        assert _call(c, "WAIT", "2", "5000") == 2
    for r in replicas + [newcomer]:
        rh.assert_same_data(master, r)
