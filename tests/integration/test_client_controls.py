"""CLIENT REPLY ON|OFF|SKIP, CLIENT NO-EVICT and CLIENT HELP answer as redis-server 7.0.15.

What it is for: clients that fire and forget (mass loaders) turn replies off; test
harnesses skip one reply. A pipeline sent in one write to shoal (keys on several
workers, so replies that come back from another worker are dropped too) and to
redis-server gives the same bytes, in RESP2 and RESP3; RESET turns replies back on;
NO-EVICT shows as flag e in CLIENT LIST.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import pytest

import helpers as h


def _pipeline(proto):
    cmds = []
    if proto == 3:
        cmds.append(("HELLO", "3"))
    cmds += [("CLIENT", "REPLY", "OFF")]
    cmds += [("SET", f"k{i}", str(i)) for i in range(20)]           # keys of every worker
    cmds += [("GET", "k3"), ("DBSIZE",), ("CLIENT", "REPLY", "SKIP"),  # SKIP while OFF: nothing
             ("CLIENT", "REPLY", "ON"), ("GET", "k1"),
             ("CLIENT", "REPLY", "SKIP"), ("GET", "k2"), ("GET", "k4"),
             ("CLIENT", "REPLY", "SKIP"), ("MGET", "k5", "k6"), ("DBSIZE",),
             ("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "ON"), ("PING",),
             ("CLIENT", "REPLY", "FOO"), ("CLIENT", "REPLY"),
             ("CLIENT", "NO-EVICT", "ON"), ("CLIENT", "NO-EVICT", "maybe"),
             ("CLIENT", "REPLY", "OFF"), ("RESET",), ("GET", "k7"),
             ("CLIENT", "NO-EVICT", "OFF"), ("CLIENT", "HELP")]
    return cmds


def _run(srv, proto):
    with srv.raw() as c:
        got = c.until_echo(b"".join(h.encode(*a) for a in _pipeline(proto)))
        c.call("FLUSHALL")
        return got


@pytest.mark.parametrize("proto", [2, 3])
def test_client_reply_as_redis(servers, proto):
    s = servers.shoal(extra_args=["--worker-threads", "3", "--enable-debug-command", "yes"], base_args="standalone")
    r = servers.redis(base_args="standalone")
    assert s.raw().call("DEBUG", "PLACEMENT", "SPREAD") == "OK"
    want = _run(r, proto)
    got = _run(s, proto)
    if proto == 3:   # HELLO's map names the connection's id, which differs
        want = want[want.index(b"\r\n+OK") + 2:]
        got = got[got.index(b"\r\n+OK") + 2:]
    assert got == want


def test_client_no_evict_flag(servers):
    s = servers.shoal(base_args="standalone")
    with s.raw() as c:
        assert c.call("CLIENT", "NO-EVICT", "ON") == "OK"
        assert " flags=e " in c.call("CLIENT", "INFO").decode()
        assert c.call("CLIENT", "NO-EVICT", "OFF") == "OK"
        assert " flags=N " in c.call("CLIENT", "INFO").decode()


def test_client_kill_errors_as_redis(servers):
    """Every CLIENT KILL filter's error as 7.0.15 (which has no MAXAGE filter)."""
    s = servers.shoal(base_args="standalone")
    r = servers.redis(base_args="standalone")
    cmds = [("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "99999"), ("CLIENT", "KILL", "ID", "x"),
            ("CLIENT", "KILL", "TYPE", "foo"), ("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"),
            ("CLIENT", "KILL", "USER", "nobody"), ("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
            ("CLIENT", "KILL", "LADDR", "1.2.3.4:5"), ("CLIENT", "KILL", "SKIPME", "maybe"),
            ("CLIENT", "KILL", "foo", "bar"), ("CLIENT", "KILL", "ID"), ("CLIENT", "KILL", "MAXAGE", "10")]
    for a in cmds:
        assert s.raw().raw(*a) == r.raw().raw(*a), a


def _pubsub_session(srv, proto):
    """Subscribe confirmations and messages are pushes: 7.0.15 sends them while the
    client's replies are off or skipped (CLIENT_PUSHING), in RESP2 and RESP3; the other
    replies of the same client stay dropped."""
    out = []
    with srv.raw() as c, srv.raw() as p:
        if proto == 3:
            c.call("HELLO", "3")
        steps = [
            [("CLIENT", "REPLY", "OFF"), ("SUBSCRIBE", "ch1", "ch2"), ("PSUBSCRIBE", "ch*")],
            "publish",
            [("UNSUBSCRIBE", "ch1"), ("PUNSUBSCRIBE",), ("PING",), ("UNSUBSCRIBE",), ("UNSUBSCRIBE",),
             ("PUNSUBSCRIBE",), ("GET", "x"), ("CLIENT", "REPLY", "ON"), ("CLIENT", "REPLY", "SKIP"),
             ("SUBSCRIBE", "ch3")],
            "publish",
            [("CLIENT", "REPLY", "SKIP"), ("UNSUBSCRIBE", "ch3"), ("GET", "x")],
        ]
        for step in steps:
            if step == "publish":
                out.append(p.call("PUBLISH", "ch1", "hello"))
                out.append(p.call("PUBLISH", "ch3", "hi"))
                continue
            got, closed = c.exchange(b"".join(h.encode(*a) for a in step), idle=0.3)
            assert not closed
            out.append(got)
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_pubsub_pushes_pass_reply_off(servers, proto):
    """unit/pubsub 'PubSub messages with CLIENT REPLY OFF'."""
    s = servers.shoal(base_args="standalone")
    r = servers.redis(base_args="standalone")
    assert _pubsub_session(s, proto) == _pubsub_session(r, proto)
