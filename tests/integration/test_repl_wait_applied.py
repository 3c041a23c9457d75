"""WAIT counts a replica only for writes it can already read (docs/replication.md, ACKs).

What it is for: redis-server applies a stream command before it counts its bytes, so
after `WAIT 1` answers 1 every write before the WAIT reads back on the replica. A shoal
replica hands the stream to its workers and must not answer REPLCONF GETACK (or send its
periodic ACK) with bytes a worker has not applied yet. While background writers keep
the replica's workers busy with the stream, each round sets one key on the master, runs
WAIT 1, then at once reads the key on the replica through several connections (spread
over its workers, so some read on the worker that applies the key and some forward the
read to it); every read must see the round's value.

What it must never do: skip a pair, retry a read until it passes, or stop a process it
did not start.
"""
import signal
import threading
import time

import pytest

import helpers as h
import replhelpers as rh

PAIRS = [("redis", "shoal"), ("shoal", "shoal"), ("redis", "redis")]
ROUNDS = 300
READERS = 6


def _read_load(replica, halt, errors):
    """Pipelined GETs on the replica until halt: its workers forward reads to each other."""
    try:
        cl = rh.readonly_client(replica)
        while not halt.is_set():
            p = cl.pipeline(transaction=False)
            for i in range(100):
                p.get(f"bg0:{i}")
                p.get(f"wa:{i % 50}")
            p.execute()
        cl.close()
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(e)


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=[f"{m}-to-{r}" for m, r in PAIRS])
def test_wait_then_read_sees_every_write(servers, mkind, rkind):
    master, replica, _ = rh.make_pair(servers, mkind, rkind)
    # the replica answers reads once it sees every slot served (CLUSTERDOWN before that,
    # as redis-server); its replication link can come up first
    h.wait_cluster_ok(replica, 30)
    mc = master.client()
    readers = [rh.readonly_client(replica) for _ in range(READERS)]
    for rc in readers:
        assert rc.ping() is True
    writers = [rh.Writer(master, f"bg{n}") for n in range(2)]
    for w in writers:
        w.start()
    halt, errors = threading.Event(), []
    loaders = [threading.Thread(target=_read_load, args=(replica, halt, errors), daemon=True)
               for _ in range(2)]
    for t in loaders:
        t.start()
    stale = []
    try:
        for rnd in range(ROUNDS):
            key, value = f"wa:{rnd % 50}", f"round-{rnd}"
            p = mc.pipeline(transaction=False)
            p.set(key, value)
            p.execute_command("WAIT", 1, 5000)
            res = p.execute()
            assert res[-1] == 1, f"round {rnd}: WAIT 1 5000 answered {res[-1]!r}"
            for n, rc in enumerate(readers):
                got = rc.get(key)
                if got != value.encode():
                    stale.append((rnd, n, got))
    finally:
        halt.set()
        for t in loaders:
            t.join(30)
        for w in writers:
            w.stop()
    assert not errors, f"background reads on the replica failed: {errors[0]!r}"
    assert not stale, (f"after WAIT 1 = 1 the replica {rh.label(replica)} returned old values "
                       f"{len(stale)} times in {ROUNDS} rounds (round, reader, value): {stale[:5]}")


@pytest.mark.parametrize("mkind,rkind", [("redis", "shoal"), ("redis", "redis"), ("shoal", "shoal"),
                                         ("shoal", "redis")],
                         ids=["redis-to-shoal", "redis-to-redis", "shoal-to-shoal", "shoal-to-redis"])
def test_wait_counts_the_callers_own_write(servers, mkind, rkind):
    """A master's WAIT covers the calling connection's last write only (7.0.15's woff).

    With the replica stopped (SIGSTOP) it cannot have the write: WAIT on another,
    fresh connection still answers 1 at once, WAIT on the writing connection answers 0
    at its timeout, and once the replica runs again WAIT on the writing connection
    answers 1 and the replica reads the write. (test_sync_stream_and_reads once WAITed
    on a fresh connection and then read the key on the replica too early.)"""
    master, replica, _ = rh.make_pair(servers, mkind, rkind)
    assert rh.wait_cmd(master, 1, 5000) == 1
    rc = rh.readonly_client(replica)
    assert rc.ping() is True
    with master.raw(timeout=30) as c:
        replica.signal(signal.SIGSTOP)
        try:
            assert c.call("SET", "own:1", "written") == "OK"
            t0 = time.monotonic()
            fresh = rh.wait_cmd(master, 1, 3000)
            took = time.monotonic() - t0
            assert fresh == 1 and took < 2.0, \
                f"WAIT 1 3000 on a fresh connection: {fresh!r} after {took:.2f} s (want 1 at once)"
            own = c.call("WAIT", "1", "300")
            assert own == 0, f"WAIT 1 300 on the writing connection, replica stopped: {own!r}"
        finally:
            replica.signal(signal.SIGCONT)
        own = c.call("WAIT", "1", "10000")
        assert own == 1, f"WAIT 1 10000 on the writing connection, replica running: {own!r}"
    got = rc.get("own:1")
    rc.close()
    assert got == b"written", f"after WAIT on the writing connection the replica read {got!r}"
