"""CLIENT LIST and CLIENT INFO `flags=` compared with redis-server 7.0.15.

What it is for: 7.0.15 shows one letter per state of a connection (x in MULTI, b blocked,
P subscribed, O monitor, t/R/B tracking, d a WATCHed key touched, c close after reply,
U unix socket, r READONLY, e no-evict, S a replica's link, M the master's link, N none).
Each test runs the same script on a shoal node with two workers (standalone, so that the
watched keys of one client live on both workers) and on redis-server, and compares the
flags each shows. (Blocked clients' `b`: test_blocked_clients.py.)

What it must never do: wait without a deadline, or stop a process it did not start.
"""
import pytest

import helpers as h

SA = "standalone"


def _on_worker(index, n=2):
    return [k for k in ("k%d" % i for i in range(200)) if h.key_slot(k) % n == index]


W0, W1 = _on_worker(0), _on_worker(1)


def _node(servers, kind):
    if kind == "shoal":
        return servers.shoal(base_args=SA, extra_args=["--worker-threads", "2"])
    return servers.redis(base_args=SA)


def _flags(k, cid):
    lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
    assert len(lines) == 1, lines
    return dict(f.split("=", 1) for f in lines[0].split(" "))["flags"]


def _own_flags(c):
    return dict(f.split("=", 1) for f in c.call("CLIENT", "INFO").decode().strip().split(" "))["flags"]


def _watch_script(srv):
    """The flags of a client that WATCHes keys of both workers, at each step."""
    seen = []
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as k:
        aid = a.call("CLIENT", "ID")
        assert k.call("SET", W0[1], "here") == "OK"
        for key in (W0[0], W1[0]):
            # a write by another client to a watched key of either worker: d until the EXEC
            assert a.call("WATCH", W0[0], W1[0]) == "OK"
            seen.append(_flags(k, aid))
            assert k.call("DEL", W0[2]) == 0 and k.call("SET", W1[2], "unwatched") == "OK"
            seen.append(_flags(k, aid))               # no write to a watched key: N
            assert k.call("SET", key, "v") == "OK"
            seen += [_flags(k, aid), _own_flags(a)]
            assert a.call("MULTI") == "OK"
            seen.append(_flags(k, aid))               # xd
            assert a.call("EXEC") is None
            seen.append(_flags(k, aid))               # N again
        # its own write, an UNWATCH, a FLUSHALL of a watched key that exists, a RESET
        assert a.call("WATCH", W1[1]) == "OK" and a.call("INCRBY", W1[1], "0") == 0
        seen.append(_flags(k, aid))
        assert a.call("UNWATCH") == "OK"
        seen.append(_flags(k, aid))
        assert a.call("WATCH", W0[1]) == "OK" and k.call("FLUSHALL") == "OK"
        seen.append(_flags(k, aid))
        assert a.call("RESET") == "RESET"
        seen.append(_flags(k, aid))
    return seen


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_touched_watch_is_flagged_d_until_exec(servers, kind):
    """7.0.15 flags d a client whose WATCHed key another client or itself wrote (or a FLUSHALL
    emptied): its next EXEC fails. Failed before: shoal never showed d."""
    want = ["N", "N", "d", "d", "xd", "N"] * 2 + ["d", "N", "d", "N"]
    assert _watch_script(_node(servers, kind)) == want


def _expiry_script(srv, lazy):
    """WATCH of a key that expires afterwards and is deleted by a read (lazy) or by active
    expiry: the flags, then what EXEC answers."""
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as k:
        aid = a.call("CLIENT", "ID")
        assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "0" if lazy else "1") == "OK"
        try:
            assert k.call("SET", W1[3], "v", "PX", "300") == "OK"
            assert a.call("WATCH", W1[3]) == "OK"
            seen = [_flags(k, aid)]
            if lazy:
                h.wait_until(lambda: k.call("PTTL", W1[3]) == -2, 20, what="the key expired and read")
            else:
                h.wait_until(lambda: k.call("DBSIZE") == 0, 20, what="active expiry deleting the key")
            seen.append(_flags(k, aid))
            assert a.call("MULTI") == "OK" and a.call("PING") == "QUEUED"
            seen.append(a.call("EXEC"))
        finally:
            k.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    return seen


@pytest.mark.parametrize("lazy", [False, True], ids=["active", "lazy"])
@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_watched_key_deleted_by_its_expiry_fails_the_exec(servers, kind, lazy):
    """A key alive when WATCHed, then deleted because its TTL passed (by active expiry, or by
    the read that finds it expired): 7.0.15 touches it, flags the client d and fails its EXEC.
    Failed before: flags N and the EXEC ran."""
    srv = servers.shoal(base_args=SA, extra_args=["--worker-threads", "2", "--enable-debug-command", "yes"]) \
        if kind == "shoal" else servers.redis(base_args=SA, extra_args=["--enable-debug-command", "yes"])
    assert _expiry_script(srv, lazy) == ["N", "d", None]
