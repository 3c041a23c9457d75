"""What a write costs the node's other threads with appendonly yes.

What it is for: with the AOF on, every worker hands its writes to the
replication actor at the end of each loop round (the AOF and the stream share
one order, docs/persistence.md section 2). That handover used to wake the
replication thread each time, replicas or not, and writes to another
worker's keys were sent to that worker as messages instead of being run on
its sleeping keyspace (borrowed) as without the AOF. These tests count, in
INFO threads, the wake-ups of the replication thread and the messages the
workers handled per SET; check that the AOF still holds one client's writes
in its order; that a replica still gets the stream at once (its thread is
woken while it serves replicas); and that kill -9 loses no acknowledged write
when writes to the other worker's keys are borrowed (their AOF bytes are
written once per loop round, before the replies).

What it must never do: stop a process it did not start, or touch files
outside its temporary directories.
"""
import re
import threading
import time

import pytest

import helpers as h
from test_aof import _assert_no_acknowledged_write_lost, _last_incr, _shoal

N = 1000


def _threads(c):
    """INFO threads: {thread name: (wakeups, messages)} and the AOF path's
    handovers (queued for the replication thread, wake-ups of it they asked
    for, written to the AOF only because no replica can read them)."""
    text = c.call("INFO", "threads").decode()
    out = {m.group(1): (int(m.group(2)), int(m.group(3)))
           for m in re.finditer(r"name=([\w-]+),wakeups=(\d+),messages=(\d+)", text)}
    m = re.search(r"repl_feeds:queued=(\d+),wakeups=(\d+),aof_only=(\d+)", text)
    return out, tuple(int(g) for g in m.groups()) if m else (None, None, None)


def _keys_on_both_workers(n):
    """n keys, every other one in a slot of the other worker (slot % 2 with
    two workers), so that half of the writes are for the worker without the
    connection."""
    keys, want = [], 0
    i = 0
    while len(keys) < n:
        k = f"k:{i}"
        i += 1
        if h.key_slot(k) % 2 == want:
            keys.append(k)
            want ^= 1
    return keys


def _sets_in_file(d):
    """The keys of the SETs in the open incr file, in file order."""
    data = _last_incr(d).read_bytes()
    return [m.group(1).decode() for m in re.finditer(rb"\*3\r\n\$3\r\nSET\r\n\$\d+\r\n([^\r]*)\r\n", data)]


def test_everysec_set_wakes_no_other_thread_and_keeps_its_order(servers, tmp_path):
    node = _shoal(servers, tmp_path / "a", "--appendfsync", "everysec", "--worker-threads", "2")
    keys = _keys_on_both_workers(N)
    with node.raw() as c:
        c.call("SET", "warm", "1")
        before, (q0, k0, a0) = _threads(c)
        for k in keys:
            assert c.call("SET", k, "v") == "OK"
        after, (q1, k1, a1) = _threads(c)
    # no replica: the replication thread is not woken for them (it was once
    # per handover: ~N)
    repl_wakeups = after["repl"][0] - before["repl"][0]
    assert repl_wakeups <= 10, repl_wakeups
    # the other worker's keys are written on its sleeping keyspace, not sent
    # to it (they were: ~N/2 messages)
    msgs = sum(after[w][1] - before[w][1] for w in after if w.startswith("worker-"))
    assert msgs <= N // 20, msgs
    # every SET, sent alone, is a handover of its own; no replica ever
    # connected (no backlog): written to the AOF only, none queued, no wake-up
    assert a1 - a0 >= N and q1 == q0 and k1 == k0, (a0, a1, q0, q1, k0, k1)
    # the file holds them in the client's order
    got = [k for k in _sets_in_file(tmp_path / "a") if k.startswith("k:")]
    assert got == keys


@pytest.mark.quiet   # bounds a latency from above (conftest.py)
def test_replica_gets_the_stream_at_once(servers, tmp_path):
    """While the master serves a replica, its replication thread is woken for
    the AOF path's handovers: a write reaches the replica without waiting
    for the thread's once-a-second timer."""
    master = _shoal(servers, tmp_path / "m", "--appendfsync", "everysec", "--repl-diskless-sync-delay", "0",
                    "--worker-threads", "2", name="m")
    replica = _shoal(servers, tmp_path / "r", name="r")
    # writes before and during the full sync: before the backlog exists they
    # go to the AOF only, after it (made before the sync's cut) to the stream
    # too; the replica must end up with every one of them
    stop, acked, waited = threading.Event(), [], []

    def writer():
        with h.RawConn(master.port, timeout=10) as w:
            n = 0
            while not stop.is_set():
                assert w.call("SET", f"w:{n}", str(n)) == "OK"
                acked.append(n)
                n += 1
            # WAIT covers the writes of its own connection only (as 7.0.15's, c->woff):
            # sent on another one, it waited for none of these
            waited.append(w.call("WAIT", "1", "5000"))
    th = threading.Thread(target=writer)
    th.start()
    time.sleep(0.2)
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: h.info_dict(replica.raw().call("INFO", "replication")).get("master_link_status") == "up",
                 30, what="the replica's link up")
    time.sleep(0.2)
    stop.set()
    th.join(10)
    assert waited == [1]
    with replica.raw() as r:
        got = r.call("MGET", *[f"w:{n}" for n in acked])
        assert got == [str(n).encode() for n in acked]
    with master.raw() as c, replica.raw() as r:
        _, (q0, k0, _) = _threads(c)
        for i in range(20):
            t0 = time.monotonic()
            assert c.call("SET", f"p:{i}", str(i)) == "OK"
            h.wait_until(lambda: r.call("GET", f"p:{i}") == str(i).encode(), 5, interval=0.002,
                         what="the write on the replica")
            assert time.monotonic() - t0 < 0.5
        _, (q1, k1, _) = _threads(c)
    # a backlog exists: the handovers go to the replication thread, which
    # they wake while it serves the replica
    assert q1 - q0 >= 20 and k1 > k0, (q0, q1, k0, k1)


def test_borrowed_writes_are_in_the_file_before_their_replies(servers, tmp_path):
    """appendfsync no promises write(2) before the reply, as 7.0.15: the 4
    writers' keys are on both workers, those of the worker without the
    connections are borrowed and their AOF bytes written once per round;
    kill -9 at random moments loses none that was acknowledged."""
    node = _shoal(servers, tmp_path / "n", "--appendfsync", "no", "--worker-threads", "2")
    _assert_no_acknowledged_write_lost(node, 3, 3)


def test_always_set_is_fsynced_by_its_worker(servers, tmp_path):
    """appendfsync always, no fsync running: the worker runs the fdatasync
    itself before it writes the reply, as 7.0.15 does before its loop sleeps.
    It used to ask the syncer thread for it and be woken back by a message
    once it ended: two thread hops per fsync (~1 worker message per SET sent
    alone). The reply still waits for the fsync (test_aof_group_commit.py)."""
    node = _shoal(servers, tmp_path / "a", "--appendfsync", "always", "--worker-threads", "2")
    n = 300
    keys = _keys_on_both_workers(n)
    with node.raw() as c:
        c.call("SET", "warm", "1")
        before, _ = _threads(c)
        gc0 = re.search(r"aof_group_commit:fsyncs=(\d+)", c.call("INFO", "threads").decode())
        for k in keys:
            assert c.call("SET", k, "v") == "OK"
        after, _ = _threads(c)
        gc1 = re.search(r"aof_group_commit:fsyncs=(\d+)", c.call("INFO", "threads").decode())
    fsyncs = int(gc1.group(1)) - int(gc0.group(1))
    assert fsyncs >= n * 9 // 10, fsyncs          # one fsync per SET sent alone
    msgs = sum(after[w][1] - before[w][1] for w in after if w.startswith("worker-"))
    assert msgs <= n // 20, msgs
    got = [k for k in _sets_in_file(tmp_path / "a") if k.startswith("k:")]
    assert got == keys
