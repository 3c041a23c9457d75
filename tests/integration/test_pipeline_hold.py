"""A pipeline whose commands run on both workers gets its replies in one write (with
appendfsync always too).

What it is for: a connection's commands for the other worker's keys go there in a batch
(actors/worker/batch.h). The replies of its own worker's commands before the first of those
used to leave at the end of the loop round, and the rest when the batch came back: two
writes per pipeline for the node, two reads for the client. Redis writes what one read of
a pipeline produced in one go. Now a connection whose next owed reply is in a batch keeps
what it has until the batch is back (batch_holds_output): INFO stats total_writes_processed
counts one write per pipeline. Scripts show it best: they are never run on the other
worker's keyspace by borrowing it (docs/scripting.md), so every other command goes by batch.

Also that holding never keeps replies behind a busy script: a batch for a worker whose
script is past busy-reply-threshold waits for the script's end, so when a script turns busy
every worker sends what it holds (7.0.15 still writes replies while a script is busy; the
command for the busy worker's keys then waits, as docs/scripting.md says, where 7.0.15
answers -BUSY).

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import time

import helpers as h

INCR = "return redis.call('incr', KEYS[1])"


def _key_of_worker(worker, prefix, nworkers=2):
    i = 0
    while h.key_slot(f"{prefix}{i}") % nworkers != worker:
        i += 1
    return f"{prefix}{i}"


def _writes(c):
    text = c.call("INFO", "stats")
    text = text.decode() if isinstance(text, bytes) else str(text)
    return int(text.split("total_writes_processed:")[1].split("\r\n")[0])


def _written_once_per_pipeline(srv, a, b):
    """10 pipelines of 8 pairs of EVALSHA INCR, the first of each pair on worker 0's key
    (prefix a), the second on worker 1's (prefix b): the replies are right and each
    pipeline's leave in one write."""
    k0, k1 = _key_of_worker(0, a), _key_of_worker(1, b)
    rounds, pairs = 10, 8
    with srv.raw() as c, srv.raw() as stats:
        sha = c.call("SCRIPT", "LOAD", INCR).decode()
        before = _writes(stats)
        for r in range(rounds):
            # the first reply is this worker's (k0), the second the other's (k1)
            c.send(b"".join(h.encode("EVALSHA", sha, "1", k) for _ in range(pairs) for k in (k0, k1)))
            got = [c.read()[1] for _ in range(2 * pairs)]
            assert got == [v for i in range(pairs) for v in (r * pairs + i + 1,) * 2], got
        after = _writes(stats)
    # one write per pipeline, plus the reply to the first INFO
    assert after - before - 1 == rounds, after - before - 1


def test_pipeline_over_both_workers_is_written_once(servers):
    _written_once_per_pipeline(h.single_node(servers, "shoal", workers=2), "hold:a", "hold:b")


def test_held_replies_leave_when_a_script_turns_busy(servers):
    srv = h.single_node(servers, "shoal", workers=2)
    k0, k1 = _key_of_worker(0, "hold:c"), _key_of_worker(1, "hold:d")
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "500") == "OK"
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw() as k:
        a.send(h.encode("EVAL", "while true do end", "1", k1))     # runs on worker 1
        time.sleep(0.1)                                             # not busy yet
        t0 = time.monotonic()
        b.send(h.encode("GET", k0) + h.encode("GET", k1))
        assert b.read()[0] == b"$-1\r\n"                            # before anyone kills the script
        assert time.monotonic() - t0 < 5
        deadline = time.monotonic() + 5                             # until it is busy
        while k.raw("SCRIPT", "KILL") != b"+OK\r\n":
            assert time.monotonic() < deadline, "the script never turned busy"
            time.sleep(0.02)
        assert a.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        assert b.read()[0] == b"$-1\r\n"                            # k1's GET ran after the script


def test_pipeline_over_both_workers_is_written_once_with_appendfsync_always(servers):
    """With appendfsync always the replies before the first remote command wait with the
    rest too: one write per pipeline. Before (2026-12-07) they waited for an fsync of their
    own and left in a write of their own, the rest in a second one (20 writes here)."""
    srv = servers.shoal(extra_args=["--worker-threads", "2", "--appendonly", "yes", "--appendfsync", "always"])
    h.own_all_slots(srv)
    _written_once_per_pipeline(srv, "hold:e", "hold:f")
