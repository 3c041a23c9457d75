"""Blocking list pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) on real
connections: a client blocks, another pushes, and the blocked one is served.

Each scenario runs on our node and on a reference redis-server 7.0.15 and
requires the same replies on every connection, in the same order (first
blocked, first served), plus timeouts, a closing connection, MULTI/EXEC, the
INFO counters and what a replica receives. Timing assertions are generous:
they check behaviour, not speed.
"""
import socket
import time

import pytest

import diffhelpers as d
import helpers as h
import bushelpers as bh
import replhelpers as rh


_blocked = d.blocked
_wait_blocked = d.wait_blocked
_block = d.block


def _serve_in_order(srv, proto=2):
    """Three clients block on one key in turn; pushes serve them oldest first."""
    out = []
    conns = []
    for i, cmd in enumerate([("BLPOP", "q", "0"), ("BRPOP", "q", "0"), ("BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5")]):
        conns.append(_block(srv, *cmd, proto=proto))
        _wait_blocked(srv, i + 1)
    with srv.raw() as p:
        out.append(p.raw("RPUSH", "q", "a", "b"))
        out.append(conns[0].read())
        out.append(conns[1].read())
        _wait_blocked(srv, 1)
        out.append(p.raw("LLEN", "q"))
        out.append(p.raw("RPUSH", "q", "c", "d", "e"))
        out.append(conns[2].read())
        out.append(p.raw("LRANGE", "q", "0", "-1"))
        out.append(p.raw("EXISTS", "q"))
    for c in conns:
        c.close()
    _wait_blocked(srv, 0)
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_served_first_blocked_first(snode, sref, proto):
    assert _serve_in_order(snode, proto) == _serve_in_order(sref, proto)


def _moves(srv):
    out = []
    with srv.raw() as p:
        c = _block(srv, "BLMOVE", "{m}src", "{m}dst", "RIGHT", "LEFT", "0")
        _wait_blocked(srv, 1)
        out.append(p.raw("LPUSH", "{m}src", "x", "y"))
        out.append(c.read())
        out.append(p.raw("LRANGE", "{m}src", "0", "-1"))
        out.append(p.raw("LRANGE", "{m}dst", "0", "-1"))
        c.close()
        # A chain: the BLMOVE's push serves a BLPOP waiting on its target.
        c1 = _block(srv, "BLPOP", "{m}end", "0")
        _wait_blocked(srv, 1)
        c2 = _block(srv, "BRPOPLPUSH", "{m}mid", "{m}end", "0")
        _wait_blocked(srv, 2)
        out.append(p.raw("RPUSH", "{m}mid", "v"))
        out.append(c2.read())
        out.append(c1.read())
        out.append(p.raw("EXISTS", "{m}mid", "{m}end"))
        # Target of the wrong type: the waiter gets WRONGTYPE and nothing moves.
        out.append(p.raw("SET", "{m}str", "s"))
        c3 = _block(srv, "BLMOVE", "{m}s2", "{m}str", "LEFT", "LEFT", "0")
        _wait_blocked(srv, 1)
        out.append(p.raw("RPUSH", "{m}s2", "z"))
        out.append(c3.read())
        out.append(p.raw("LRANGE", "{m}s2", "0", "-1"))
        for c in (c1, c2, c3):
            c.close()
    _wait_blocked(srv, 0)
    return out


def test_blmove_and_chains(snode, sref):
    assert _moves(snode) == _moves(sref)


def _timeouts(srv, proto):
    out = []
    for cmd in [("BLPOP", "{t}1", "{t}2", "0.2"), ("BLMOVE", "t1", "t1", "LEFT", "LEFT", "0.2"),
                ("BRPOPLPUSH", "t1", "t1", "0.2"), ("BLMPOP", "0.2", "1", "t1", "RIGHT")]:
        c = _block(srv, *cmd, proto=proto)
        t0 = time.monotonic()
        out.append(c.read())
        took = time.monotonic() - t0
        assert 0.1 <= took < 3.0, f"{cmd} on {srv.kind} answered after {took:.2f}s"
        c.close()
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_timeouts(snode, sref, proto):
    assert _timeouts(snode, proto) == _timeouts(sref, proto)


def _transaction_pushes(srv):
    out = []
    c = _block(srv, "BLPOP", "tq", "0")
    _wait_blocked(srv, 1)
    with srv.raw() as p:
        out.append(p.raw("MULTI"))
        out.append(p.raw("RPUSH", "tq", "a", "b"))
        out.append(p.raw("LLEN", "tq"))
        out.append(p.raw("LPOP", "tq"))
        out.append(p.raw("EXEC"))
        out.append(c.read())
        out.append(p.raw("LRANGE", "tq", "0", "-1"))
    c.close()
    return out


def test_push_inside_multi_serves_after_exec(snode, sref):
    assert _transaction_pushes(snode) == _transaction_pushes(sref)


def _pipeline_waits(srv):
    """Commands pipelined behind a blocking one wait for it, as in Redis."""
    c = h.RawConn(srv.port, timeout=10)
    c.send(h.encode("BLPOP", "pq", "0") + h.encode("RPUSH", "pq2", "x") + h.encode("PING"))
    _wait_blocked(srv, 1)
    with srv.raw() as p:
        before = p.raw("LLEN", "pq2")
        p.raw("RPUSH", "pq", "v")
    out = [before, c.read(), c.read(), c.read()]
    c.close()
    return out


def test_pipelined_commands_wait_behind_a_block(snode, sref):
    assert _pipeline_waits(snode) == _pipeline_waits(sref)


def _close_while_blocked(srv):
    c = _block(srv, "BRPOP", "cq", "0")
    _wait_blocked(srv, 1)
    c.close()
    _wait_blocked(srv, 0)
    with srv.raw() as p:
        return [p.raw("RPUSH", "cq", "kept"), p.raw("LRANGE", "cq", "0", "-1")]


def test_closed_connection_drops_its_wait(snode, sref):
    assert _close_while_blocked(snode) == _close_while_blocked(sref)


def _flushall_keeps_waiting(srv):
    c = _block(srv, "BLPOP", "fq", "0")
    _wait_blocked(srv, 1)
    with srv.raw() as p:
        p.call("FLUSHALL")
        time.sleep(0.3)
        still = _blocked(srv)
        p.call("RPUSH", "fq", "after")
    out = [still, c.read()]
    c.close()
    return out


def test_flushall_does_not_end_a_wait(snode, sref):
    assert _flushall_keeps_waiting(snode) == _flushall_keeps_waiting(sref)


def test_many_keys_across_workers(snode):
    """Waiters on keys of many slots (so of every worker of the node) are each
    served by a push from another connection."""
    keys = [f"key:{i}" for i in range(24)]
    conns = [_block(snode, "BLPOP", k, "0") for k in keys]
    _wait_blocked(snode, len(keys))
    with snode.raw() as p:
        for k in keys:
            assert p.call("LPUSH", k, "v-" + k) == 1
    for k, c in zip(keys, conns):
        assert c.read()[1] == [k.encode(), b"v-" + k.encode()]
        c.close()
    _wait_blocked(snode, 0)


def test_replica_receives_the_pop(servers):
    """A served BLPOP reaches a replica (shoal and redis-server replicas of a
    shoal master) as the pop it was: the replica's list matches."""
    master, replica, mid = rh.make_pair(servers, "shoal", "shoal")
    r2 = rh.add_replica(servers, master, "redis", mid)
    c = _block(master, "BLPOP", "rq", "0")
    _wait_blocked(master, 1)
    c2 = _block(master, "BLMOVE", "{rq}a", "{rq}b", "LEFT", "RIGHT", "0")
    _wait_blocked(master, 2)
    with master.raw() as p:
        p.call("RPUSH", "rq", "a", "b", "c")
        p.call("RPUSH", "{rq}a", "1", "2")
        assert c.read()[1] == [b"rq", b"a"]
        assert c2.read()[1] == b"1"
        want = (p.call("LRANGE", "rq", "0", "-1"), p.call("LRANGE", "{rq}a", "0", "-1"),
                p.call("LRANGE", "{rq}b", "0", "-1"))
    assert want == ([b"b", b"c"], [b"2"], [b"1"])
    for r in (replica, r2):
        def same():
            with r.raw() as q:
                q.call("READONLY")
                return (q.call("LRANGE", "rq", "0", "-1"), q.call("LRANGE", "{rq}a", "0", "-1"),
                        q.call("LRANGE", "{rq}b", "0", "-1")) == want
        h.wait_until(same, 10, what=f"{r.kind} replica has the pops")
    c.close()
    c2.close()


def _unblocked_by_replicaof(srv, other_port):
    c = _block(srv, "BLPOP", "uq", "0")
    _wait_blocked(srv, 1)
    with srv.raw() as p:
        p.call("REPLICAOF", "127.0.0.1", str(other_port))
    out = [c.read()]
    try:
        out.append(c.call("PING"))
    except (ConnectionError, OSError):       # closed or reset: the peer went away either way
        out.append("closed")
    c.close()
    with srv.raw() as p:
        p.call("REPLICAOF", "NO", "ONE")
    return out


def test_turning_replica_unblocks(servers):
    """REPLICAOF on a master with a blocked client: -UNBLOCKED, then the
    connection closes (7.0.15's disconnectAllBlockedClients)."""
    results = []
    for kind in ("shoal", "redis"):
        other = servers.redis(base_args="standalone")
        srv = (servers.shoal if kind == "shoal" else servers.redis)(base_args="standalone")
        results.append(_unblocked_by_replicaof(srv, other.port))
    assert results[0] == results[1]
    assert results[0][0][1].startswith("UNBLOCKED"), results


def _client_unblock(srv, proto):
    out = []
    with srv.raw() as p:
        for reason in ((), ("TIMEOUT",), ("ERROR",)):
            c = _block(srv, "BLPOP", "{u}q", "0", proto=proto)
            _wait_blocked(srv, 1)
            cid = None
            for line in p.call("CLIENT", "LIST").decode().splitlines():
                if "cmd=blpop" in line:
                    cid = line.split("id=")[1].split()[0]
            assert cid is not None
            out.append(p.raw("CLIENT", "UNBLOCK", cid, *reason))
            out.append(c.read())
            out.append(c.raw("PING"))
            out.append(p.raw("CLIENT", "UNBLOCK", cid))
            c.close()
        out += [p.raw("CLIENT", "UNBLOCK", "x"), p.raw("CLIENT", "UNBLOCK", "1", "bogus"),
                p.raw("CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"), p.raw("CLIENT", "UNBLOCK", "999999")]
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_client_unblock(snode, sref, proto):
    assert _client_unblock(snode, proto) == _client_unblock(sref, proto)


def _slot_lost(srv):
    """A waiter whose key the node stops serving hears why, as 7.0.15's
    clusterRedirectBlockedClientIfNeeded: the cluster went down (another slot
    unassigned: the key's slot is still ours), then, with full coverage not
    required so that the cluster stays up, the key's slot unassigned. Each part
    has one answer on 7.0.15 whenever its cron looks: unassigning the key's own
    slot with full coverage required answers "Hash slot not served" when its
    cron runs in the event-loop round that ran DELSLOTS, before that round's
    end marks the cluster down (a stalled, loaded redis-server), and "The
    cluster is down" otherwise."""
    def ok():
        with srv.raw() as p:
            return h.cluster_info(p).get("cluster_state") == "ok"
    out = []
    with srv.raw() as p:
        slot = int(p.call("CLUSTER", "KEYSLOT", "lost"))
        other = str((slot + 1) % 16384)
        c = _block(srv, "BLPOP", "lost", "0")
        _wait_blocked(srv, 1)
        p.call("CLUSTER", "DELSLOTS", other)
        out.append(c.read())
        c.close()
        p.call("CLUSTER", "ADDSLOTS", other)
        h.wait_until(ok, 10, what="cluster ok again")
        assert p.call("CONFIG", "SET", "cluster-require-full-coverage", "no") == "OK"
        try:
            c = _block(srv, "BLPOP", "lost", "0")
            _wait_blocked(srv, 1)
            p.call("CLUSTER", "DELSLOTS", str(slot))
            out.append(c.read())
            c.close()
            out.append(h.cluster_info(p).get("cluster_state"))
            p.call("CLUSTER", "ADDSLOTS", str(slot))
        finally:
            p.call("CONFIG", "SET", "cluster-require-full-coverage", "yes")
    h.wait_until(ok, 10, what="cluster ok again")
    return out


def test_lost_slot_ends_the_wait(snode, sref):
    assert _slot_lost(snode) == _slot_lost(sref)


def _failover_unblocks(servers, kind):
    """A cluster master with a blocked client loses a manual failover to its replica:
    it turns replica, and the waiter gets -UNBLOCKED, then the
    connection closes (7.0.15's disconnectAllBlockedClients)."""
    master, replica, mid = rh.make_pair(servers, kind, kind)
    rid = bh.myid(replica)

    def knows_its_replica():
        return any(n["id"] == rid and "slave" in n["flags"] and n["master"] == mid
                   for n in bh.cluster_nodes(master))
    # the master takes a manual failover request only from a node it knows as its replica
    h.wait_until(knows_its_replica, 20, what="the master seeing its replica")
    c = _block(master, "BLPOP", "fo", "0")
    _wait_blocked(master, 1)
    with replica.raw() as p:
        assert p.call("CLUSTER", "FAILOVER") == "OK"
    out = [c.read()[1]]
    try:
        out.append(c.call("PING"))
    except (ConnectionError, OSError):
        out.append("closed")
    c.close()
    return out


def test_failover_unblocks_the_old_master(servers):
    assert _failover_unblocks(servers, "shoal") == _failover_unblocks(servers, "redis")


def _served_by_other_writes(srv):
    """A list arriving by RENAME or RESTORE serves the waiter too (7.0.15
    signals a key as ready wherever a list is added)."""
    out = []
    with srv.raw() as p:
        p.call("RPUSH", "{w}src", "r1", "r2")
        payload = p.call("DUMP", "{w}src")
        c = _block(srv, "BLPOP", "{w}dst", "0")
        _wait_blocked(srv, 1)
        out.append(p.raw("RENAME", "{w}src", "{w}dst"))
        out.append(c.read())
        out.append(p.raw("LRANGE", "{w}dst", "0", "-1"))
        c2 = _block(srv, "BRPOP", "{w}new", "0")
        _wait_blocked(srv, 1)
        out.append(p.raw("RESTORE", "{w}new", "0", payload))
        out.append(c2.read())
        out.append(p.raw("LRANGE", "{w}new", "0", "-1"))
    c.close()
    c2.close()
    return out


def test_rename_and_restore_serve_waiters(snode, sref):
    assert _served_by_other_writes(snode) == _served_by_other_writes(sref)


def _stats_after_timeout(srv):
    with srv.raw() as p:
        p.call("CONFIG", "RESETSTAT")
        c = _block(srv, "BLPOP", "st", "0.05")
        c.read()
        c.close()
        c = _block(srv, "BRPOP", "st", "0")
        _wait_blocked(srv, 1)
        p.call("RPUSH", "st", "v")
        c.read()
        c.close()
        stats = h.info_dict(p.call("INFO", "commandstats"))
    return {k: v.split(",usec")[0] for k, v in stats.items() if k in ("cmdstat_blpop", "cmdstat_brpop")}


def test_commandstats_count_waits_once(snode, sref):
    """A timed-out and a served wait each count one call, as in 7.0.15."""
    assert _stats_after_timeout(snode) == _stats_after_timeout(sref)
