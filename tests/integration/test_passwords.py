"""Long passwords: requirepass and masterauth of any length
that Redis accepts, compared with redis-server 7.0.15.

Before authentication Redis refuses bulk strings longer than 16384 bytes, so
that is the longest password AUTH can carry; below it every length must work,
and masterauth must reach the master whole.
"""
import pytest

import helpers as h
import replhelpers as rh


def password(n, seed="p"):
    base = (seed + "0123456789abcdefghijklmnopqrstuvwxyz-_.!").encode()
    return (base * (n // len(base) + 1))[:n]


def auth_replies(srv, pw):
    out = []
    with srv.raw() as c:
        out.append(c.raw("PING"))
        wrong_last = pw[:-1] + (b"X" if pw[-1:] != b"X" else b"Y")
        out.append(c.raw("AUTH", wrong_last))
        out.append(c.raw("AUTH", pw[:-1]))
        out.append(c.raw("AUTH", pw + b"x"))
        out.append(c.raw("AUTH", pw))
        out.append(c.raw("PING"))
    with srv.raw() as c:
        out.append(c.raw("AUTH", "default", pw))
        out.append(c.raw("PING"))
    with srv.raw() as c:
        reply = c.raw("HELLO", "2", "AUTH", "default", pw)
        out.append(reply[:1])            # a map whose details (server name) differ
        out.append(c.raw("PING"))
    return out


@pytest.mark.parametrize("length", [511, 512, 513, 600, 5000, 16383])
def test_long_requirepass(servers, length):
    pw = password(length)
    got = {}
    for kind in ("shoal", "redis"):
        srv = servers.shoal() if kind == "shoal" else servers.redis()
        # once set on the command line, once by CONFIG SET
        with srv.raw() as c:
            assert c.raw("CONFIG", "SET", "requirepass", pw) == b"+OK\r\n"
        got[kind] = auth_replies(srv, pw)
        with srv.raw() as c:
            assert c.raw("AUTH", pw) == b"+OK\r\n"
            assert c.call("CONFIG", "GET", "requirepass") == [b"requirepass", pw]
    assert got["shoal"] == got["redis"]
    assert got["shoal"][4] == b"+OK\r\n" and got["shoal"][1].startswith(b"-WRONGPASS")


def test_requirepass_from_command_line(servers):
    pw = password(3000, "c")
    a = servers.shoal(extra_args=["--requirepass", pw.decode()])
    b = servers.redis(extra_args=["--requirepass", pw.decode()])
    assert auth_replies(a, pw) == auth_replies(b, pw)


def test_password_longer_than_unauthenticated_bulk_limit(servers):
    pw = password(20000)
    got = {}
    for srv in (servers.shoal(), servers.redis()):
        with srv.raw() as c:
            assert c.raw("CONFIG", "SET", "requirepass", pw) == b"+OK\r\n"
        with srv.raw() as c:
            got[srv.kind] = c.exchange(h.encode("AUTH", pw), idle=1.0)
    assert got["shoal"] == got["redis"]
    assert got["shoal"][0].startswith(b"-ERR Protocol error: unauthenticated bulk length")


def _auth(srv, pw):
    c = srv.raw()
    assert c.raw("AUTH", pw) == b"+OK\r\n"
    return c


@pytest.mark.parametrize("master_kind", ["shoal", "redis"])
def test_long_masterauth(servers, master_kind):
    """A shoal replica authenticates to a master whose password is longer than
    the old 511-byte buffer, and data flows."""
    pw = password(1500, "m")
    master = rh.start(servers, master_kind)
    h.own_all_slots(master)
    rh.fast_sync(master)
    replica = servers.shoal(extra_args=["--masterauth", pw.decode()])
    mid, _ = rh.meet(replica, master)
    with master.raw() as c:
        assert c.raw("CONFIG", "SET", "requirepass", pw) == b"+OK\r\n"
    with _auth(master, pw) as c:
        assert c.raw("SET", "k", "v") == b"+OK\r\n"
    rh.replicate(replica, mid)
    rh.wait_link_up(replica, timeout=30)
    with replica.raw() as c:
        assert c.raw("READONLY") == b"+OK\r\n"
        h.wait_until(lambda: c.call("GET", "k") == b"v", 10, what="k replicated")
    # a masterauth changed at run time is sent whole on the next connection
    pw2 = password(2000, "n")
    with replica.raw() as c:
        assert c.raw("CONFIG", "SET", "masterauth", pw2) == b"+OK\r\n"
    with _auth(master, pw) as c:
        assert c.raw("CONFIG", "SET", "requirepass", pw2) == b"+OK\r\n"
        assert c.raw("CLIENT", "KILL", "TYPE", "replica").startswith(b":")
    h.wait_until(lambda: not rh.link_up(replica), 10, what="link down after kill")
    rh.wait_link_up(replica, timeout=30)
