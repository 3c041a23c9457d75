"""WAIT's timeout argument.

What it is for: WAIT's timeout is read with Redis's getTimeoutFromObjectOrReply rules
(actors/commands/timeout.h, shared with CLIENT PAUSE): an integer, not negative, and small enough
that now + timeout fits in a signed 64-bit number. shoal used to add it to the clock
unchecked, so `WAIT 1 9223372036854775807` overflowed to a deadline in the past and
answered at once. Every reply that redis-server 7.0.15 gives is compared with it
byte for byte, and a large valid timeout must really block on both.

One case differs from 7.0.15 on purpose, as the issue asks: a timeout whose deadline
overflows. 7.0.15 adds it to the clock without a check (signed overflow) and the WAIT
then never answers; shoal answers `-ERR timeout is out of range`, the check and text
that later Redis versions added to the same function. The test shows both.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import socket
import time

import pytest

import helpers as h

LLONG_MAX = 9223372036854775807

SAME_AS_REDIS = [
    ("WAIT", "0", "0"), ("WAIT", "1", "-1"), ("WAIT", "1", "abc"), ("WAIT", "abc", "1"),
    ("WAIT", "abc", "-1"), ("WAIT", "1", "1.5"), ("WAIT", "1", "99999999999999999999"),
    ("WAIT", "1", "-9223372036854775808"), ("WAIT", "1", " 5"), ("WAIT", "1", "+5"),
    ("WAIT", "1", "050"), ("WAIT", "1", "50"), ("WAIT", "0", str(LLONG_MAX - 10 ** 15)),
]


def _node(servers, kind):
    srv = servers.shoal() if kind == "shoal" else servers.redis()
    h.own_all_slots(srv)
    return srv


def _replies(srv, cmds):
    out = []
    with srv.raw(timeout=5) as c:
        for cmd in cmds:
            c.send(h.encode(*cmd))
            out.append(c.read()[0])
    return out


def _answers_within(srv, cmd, seconds):
    """The raw reply if one comes within `seconds`, else None (the connection is closed,
    which ends the WAIT on both servers)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=seconds)
    try:
        s.sendall(h.encode(*cmd))
        try:
            return s.recv(200)
        except socket.timeout:
            return None
    finally:
        s.close()


def test_wait_timeout_replies_match_redis(servers):
    shoal, redis = _node(servers, "shoal"), _node(servers, "redis")
    a, b = _replies(shoal, SAME_AS_REDIS), _replies(redis, SAME_AS_REDIS)
    bad = [(c, x, y) for c, x, y in zip(SAME_AS_REDIS, a, b) if x != y]
    assert not bad, "\n".join(f"{' '.join(c)}: shoal {x!r} redis {y!r}" for c, x, y in bad)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_wait_with_a_large_valid_timeout_blocks(servers, kind):
    """A timeout that fits (now + timeout < 2^63): no replica, so WAIT 1 waits."""
    srv = _node(servers, kind)
    now_ms = int(time.time() * 1000)
    big = LLONG_MAX - now_ms - 10 * 365 * 86400 * 1000
    assert _answers_within(srv, ("WAIT", "1", str(big)), 1.0) is None
    with srv.raw() as c:
        assert c.call("PING") == "PONG"


def test_wait_timeout_out_of_range(servers):
    shoal, redis = _node(servers, "shoal"), _node(servers, "redis")
    for t in (str(LLONG_MAX), str(LLONG_MAX - 1), str(LLONG_MAX - 1000)):
        assert _answers_within(shoal, ("WAIT", "1", t), 2.0) == b"-ERR timeout is out of range\r\n", t
        # redis-server 7.0.15: the deadline overflows and the WAIT never answers.
        assert _answers_within(redis, ("WAIT", "1", t), 1.0) is None, t
    # WAIT 0 is satisfied before 7.0.15 looks at the deadline; shoal checks the
    # argument first, as every command with a timeout does (timeout.h).
    assert _answers_within(shoal, ("WAIT", "0", str(LLONG_MAX)), 2.0) == b"-ERR timeout is out of range\r\n"
    assert _answers_within(redis, ("WAIT", "0", str(LLONG_MAX)), 2.0) == b":0\r\n"
    with shoal.raw() as c:
        assert c.call("PING") == "PONG"
