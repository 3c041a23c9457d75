"""A transaction whose client goes away during EXEC still runs to its end, as 7.0.15's.

What it is for: redis-server runs EXEC's commands in one go, so nothing a client does
after sending EXEC (closing its socket included) can leave a transaction half applied.
shoal runs a transaction's keyed commands on their keys' worker, in parts; a part that
waits for a busy worker must not be the end of the transaction when the client closes
meanwhile (CLIENT KILL): the commands after it run when it comes back, and the
connection is freed then.

What it must never do: signal a process it did not start.
"""
import time

import pytest

import helpers as h
from test_failover_inflight import SLOW_SET   # SET KEYS[1], then busy-wait ARGV[2] ms


def _key(parity, prefix):
    """A key whose slot has the given parity (with 2 workers: the worker that keeps it)."""
    for i in range(1000):
        k = "%s:%d" % (prefix, i)
        if h.key_slot(k) % 2 == parity:
            return k
    raise AssertionError("no key")


def _node(servers, kind):
    if kind == "shoal":
        return servers.shoal(base_args="standalone", extra_args=["--worker-threads", "2"])
    return servers.redis(base_args="standalone")


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_exec_runs_to_its_end_when_the_client_is_killed_during_a_part(servers, kind):
    """Standalone (a transaction may span slots, so workers): while EXEC's part waits for
    the worker a script holds, CLIENT KILL closes the client; the transaction still runs
    whole (redis-server: whole or, when the kill comes first, not at all)."""
    srv = _node(servers, kind)
    for parity in (0, 1):
        busy = _key(1 - parity, "busy")    # the part's worker, held by a script
        first = _key(1 - parity, "first")  # runs in that part
        after = _key(parity, "after")      # runs once the part is back
        with srv.raw(timeout=20) as s, srv.raw(timeout=20) as x, srv.raw(timeout=20) as k:
            xid = x.call("CLIENT", "ID")
            s.send(h.encode("EVAL", SLOW_SET, "1", busy, "x", "800"))
            time.sleep(0.2)                # the script holds its worker
            x.send(b"".join(h.encode(*a) for a in (("MULTI",), ("SET", first, "1"), ("ECHO", "between"),
                                                   ("SET", after, "2"), ("EXEC",))))
            time.sleep(0.1)                # shoal: EXEC has started, its first part waits
            assert k.call("CLIENT", "KILL", "ID", str(xid)) == 1
            assert s.read()[1] == b"done"
            if kind == "shoal":
                h.wait_until(lambda: k.call("GET", after) == b"2", 10,
                             what="the command after the part to run")
            got = (k.call("GET", first), k.call("GET", after))
            assert got in ((b"1", b"2"), (None, None)), got
            # the killed connection is freed: only s and k are left
            h.wait_until(lambda: b"connected_clients:2\r\n" in k.raw("INFO", "clients"), 10,
                         what="the killed client to be freed")
            assert k.call("DEL", first, after, busy) >= 1
