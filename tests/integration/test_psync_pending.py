"""PSYNC from a client that has unsent output.

What it is for: a client pipelines large GETs, then `PSYNC ? -1`, and never reads. The
replies fill its socket; redis-server 7.0.15 refuses the sync (clientHasPendingReplies in
syncCommand: `-ERR SYNC and PSYNC are invalid with pending output`) and goes on serving
everyone else. shoal must do the same: its worker used to spin in client_detach trying to
write to the full socket, and every other client of that worker (one worker here:
--worker-threads 1) waited for ever. Checked: a fresh connection's PING is answered
within 100 ms while the attacker holds its connection, and the attacker, once it reads,
finds every GET reply followed by the error. Both servers run the same steps.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import socket
import statistics
import time

import pytest

import helpers as h

BIG = 1 << 20
NGETS = 48
ERR = b"-ERR SYNC and PSYNC are invalid with pending output\r\n"


def _node(servers, kind):
    return h.single_node(servers, kind, workers=1)


def _ping_ms(port):
    with h.RawConn(port, timeout=2.0) as c:
        t0 = time.monotonic()
        try:
            r = c.call("PING")
        except (TimeoutError, OSError) as e:
            raise AssertionError(f"a fresh PING got no answer within 2 s: {e!r}") from None
        ms = (time.monotonic() - t0) * 1000
    assert r == "PONG", r
    return ms


@pytest.mark.quiet   # bounds a latency from above (conftest.py: runs alone under xdist)
@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_psync_with_pending_output_is_refused(servers, kind):
    srv = _node(servers, kind)
    with srv.raw() as c:
        assert c.call("SET", "big", "x" * BIG) == "OK"
    attacker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    attacker.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    attacker.connect(("127.0.0.1", srv.port))
    try:
        attacker.sendall(h.encode("GET", "big") * NGETS + h.encode("PSYNC", "?", "-1"))
        time.sleep(0.5)     # the node has read and run everything by now
        times = [_ping_ms(srv.port) for _ in range(7)]
        assert statistics.median(times) < 100, f"PING round trips (ms) while the attacker waits: {times}"
        assert srv.alive()
        # The attacker reads at last: every GET reply, then the refusal.
        attacker.settimeout(10)
        want = len(b"$%d\r\n" % BIG) + BIG + 2
        total = NGETS * want + len(ERR)
        buf = bytearray()
        while len(buf) < total:
            chunk = attacker.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
        assert len(buf) == total, f"the attacker read {len(buf)} bytes, want {total}: tail {bytes(buf[-80:])!r}"
        assert bytes(buf[-len(ERR):]) == ERR, bytes(buf[-80:])
        # The connection is still a normal client.
        attacker.sendall(h.encode("PING"))
        assert attacker.recv(100) == b"+PONG\r\n"
    finally:
        attacker.close()
    assert _ping_ms(srv.port) < 1000


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_pipelined_reply_before_psync(servers, kind):
    """A reply of the same pipeline still in the buffer is pending output too."""
    srv = _node(servers, kind)
    with srv.raw() as c:
        c.send(h.encode("PING") + h.encode("PSYNC", "?", "-1"))
        assert c.read()[0] == b"+PONG\r\n"
        assert c.read()[0] == ERR
        assert c.call("PING") == "PONG"
