"""WAIT waits for the client's own writes, not for the whole stream.

7.0.15 answers `WAIT n timeout` for the replication offset the stream had after
THIS client's last called command (c->woff), so a client whose own write a replica
has acknowledged is answered at once even while other clients' later writes are not
acknowledged. shoal used to wait for the stream's whole current offset for any
client that had run a command: safe, but such a WAIT timed out (answering 0) where
7.0.15 answers 1. The scenario below runs against a redis-server 7.0.15 master and a
shoal master, each with a redis-server replica that SIGSTOP stops between the
writes (SIGCONT once the last WAIT is answered), and the replies must be the same.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import re
import signal
import time

import pytest

import helpers as h


def _pair(servers, kind):
    """A standalone master of `kind` and a redis-server replica."""
    if kind == "shoal":
        m = servers.shoal(base_args="standalone")
    else:
        m = servers.redis(base_args="standalone")
    r = servers.redis(base_args="standalone", extra_args=["--replicaof", "127.0.0.1", str(m.port)])

    def online():
        with m.raw() as c:
            info = h.info_dict(c.call("INFO", "replication"))
        return info.get("connected_slaves") == "1" and "state=online" in info.get("slave0", "")
    h.wait_until(online, 30, interval=0.05, what=f"{kind} master with an online replica")
    return m, r


def _timed(conn, *cmd):
    t0 = time.monotonic()
    v = conn.call(*cmd)
    return v, time.monotonic() - t0


def _acked_all(m):
    """The replica has acknowledged the master's whole stream (slave0's offset)."""
    with m.raw() as c:
        info = h.info_dict(c.call("INFO", "replication"))
    got = re.search(r"offset=(\d+)", info.get("slave0", ""))
    return got is not None and int(got.group(1)) == int(info["master_repl_offset"])


def _scenario(m, r):
    """Returns [(step, reply)] and the seconds each client's WAIT took."""
    out, took, stopped = [], {}, False
    a, a2, b = m.raw(timeout=10), m.raw(timeout=10), m.raw(timeout=10)
    try:
        # a and a2 write (a on the slot b writes later, a2 on another) and see it acked
        out.append(("a set", a.call("SET", "{t}a", "1")))
        out.append(("a2 set", a2.call("SET", "{other}c", "1")))
        out.append(("a wait", a.call("WAIT", "1", "5000")))
        out.append(("a2 wait", a2.call("WAIT", "1", "5000")))
        # 7.0.15's woff after a WAIT includes the REPLCONF GETACK a WAIT before it
        # appended, which a replica acks only with its next once-a-second ACK: wait
        # for an ACK of the whole stream, so the WAITs below ask about the SETs (a
        # fixed 1.5 s was too short on a loaded machine: redis-server's a2 answered 0)
        h.wait_until(lambda: _acked_all(m), 30, interval=0.05, what="the replica's ACK of the whole stream")
        # the replica stops: nothing it has not acked yet will be acked until SIGCONT
        # (a DEBUG SLEEP sent from a thread could start late and end early under load)
        r.signal(signal.SIGSTOP)
        stopped = True
        for i in range(20):
            out.append((f"b set {i}", b.call("SET", "{t}b", str(i))))
        out.append(("b get", b.call("GET", "{t}b")))
        v, took["b"] = _timed(b, "WAIT", "1", "300")
        out.append(("b wait (its writes not acked)", v))
        # a's and a2's own writes were acked: answered at once, as 7.0.15 does
        v, took["a"] = _timed(a, "WAIT", "1", "1500")
        out.append(("a wait again", v))
        v, took["a2"] = _timed(a2, "WAIT", "1", "1500")
        out.append(("a2 wait again", v))
        with m.raw() as fresh:
            out.append(("fresh wait", fresh.call("WAIT", "1", "300")))
        # a writes again: now its own write is not acked
        out.append(("a set again", a.call("SET", "{t}a", "2")))
        v, took["a late"] = _timed(a, "WAIT", "1", "300")
        out.append(("a wait after its new write", v))
    finally:
        if stopped:
            r.signal(signal.SIGCONT)
        for c in (a, a2, b):
            c.close()
    return out, took


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_wait_counts_replicas_that_acked_the_clients_own_writes(servers, kind):
    m, r = _pair(servers, kind)
    got, took = _scenario(m, r)
    expected = {"a wait": 1, "a2 wait": 1, "b wait (its writes not acked)": 0, "a wait again": 1,
                "a2 wait again": 1, "fresh wait": 1, "a wait after its new write": 0}
    for step, v in got:
        if step in expected:
            assert v == expected[step], (kind, step, v, got)
    # answered from the acks already held, not at the timeout
    assert took["a"] < 1.0 and took["a2"] < 1.0, took
    assert took["b"] >= 0.29 and took["a late"] >= 0.29, took


def test_wait_same_replies_as_redis(servers):
    ref, _ = _scenario(*_pair(servers, "redis"))
    ours, _ = _scenario(*_pair(servers, "shoal"))
    assert ours == ref
