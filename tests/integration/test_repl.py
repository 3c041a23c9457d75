"""Replication between cluster nodes: shoal and redis-server 7.0.15 in both roles.

What it is for: proving that a replica made with CLUSTER REPLICATE holds its master's
data and follows it, for every pairing of shoal-node and redis-server
(docs/replication.md): a full sync that carries data, the command stream (SET with
EX/PX, INCR, APPEND, EXPIRE, DEL, keys the master expires), WAIT, equal offsets, every
key and TTL equal (SCAN + GET + PTTL), READONLY reads and MOVED for writes on the
replica, ROLE, a partial resync after CLIENT KILL TYPE replica, a replica that is
restarted while its master takes writes, the disk-based `$<length>` RDB framing, a master
with two replicas (WAIT 2), and the replica's log lines carrying role S. The redis->redis pair runs the same test and
must pass: it is the proof that the test itself is right.

What it must never do: skip a pair, accept a figure without comparing it with the other
side, or stop a process it did not start.
"""
import re
import time

import pytest

import bushelpers as bh
import helpers as h
import replhelpers as rh

PAIRS = [("shoal", "shoal"), ("redis", "shoal"), ("shoal", "redis"), ("redis", "redis")]
PAIR_IDS = [f"{m}-to-{r}" for m, r in PAIRS]
WRITES = 10000


def _fill(n, seed, prefix):
    return lambda master: rh.write_mix(master, n, seed, prefix)


def check_role(master, replica, mid=None):
    mr, rr = rh.role(master), rh.role(replica)
    assert isinstance(mr, list) and len(mr) == 3 and mr[0] == b"master", \
        f"ROLE on master {rh.label(master)}: {mr!r}"
    assert isinstance(mr[1], int), f"ROLE offset on master: {mr!r}"
    assert isinstance(mr[2], list), f"ROLE replicas on master: {mr!r}"
    ports = [e[1] for e in mr[2]]
    assert str(replica.port).encode() in ports, \
        f"ROLE on master {rh.label(master)} lists replicas {mr[2]!r}, not port {replica.port}"
    for e in mr[2]:
        assert len(e) == 3 and e[0] == b"127.0.0.1" and e[2].isdigit(), \
            f"ROLE replica entry {e!r} is not [ip, port, offset]"
    assert isinstance(rr, list) and len(rr) == 5 and rr[0] == b"slave", \
        f"ROLE on replica {rh.label(replica)}: {rr!r}"
    assert rr[1] == b"127.0.0.1" and rr[2] == master.port, \
        f"ROLE on replica names master {rr[1]!r}:{rr[2]!r}, not 127.0.0.1:{master.port}"
    assert rr[3] == b"connected", f"ROLE on replica: link state {rr[3]!r} (want connected)"
    assert isinstance(rr[4], int) and rr[4] > 0, f"ROLE on replica: offset {rr[4]!r}"


def check_info(master, replica):
    mi, ri = rh.info(master), rh.info(replica)
    assert mi.get("role") == "master", f"INFO on master: role {mi.get('role')}"
    assert mi.get("connected_slaves") == "1", f"INFO on master: {mi}"
    s0 = mi.get("slave0", "")
    assert f"port={replica.port}," in s0 and "state=online" in s0, \
        f"INFO slave0 on master: {s0!r}"
    assert ri.get("role") == "slave", f"INFO on replica: role {ri.get('role')}"
    assert ri.get("master_host") == "127.0.0.1" and ri.get("master_port") == str(master.port), \
        f"INFO on replica: master {ri.get('master_host')}:{ri.get('master_port')}"
    assert ri.get("master_link_status") == "up", f"INFO on replica: {ri}"
    assert ri.get("master_replid") == mi.get("master_replid"), \
        f"replid differs: master {mi.get('master_replid')} replica {ri.get('master_replid')}"


def check_replica_reads_and_writes(master, replica, key, value):
    slot = None
    with master.raw() as c:
        slot = c.call("CLUSTER", "KEYSLOT", key)
    with replica.raw() as c:
        # Without READONLY a replica redirects even reads to its master.
        r = c.call("GET", key)
        assert r == h.Error(f"MOVED {slot} 127.0.0.1:{master.port}"), \
            f"GET {key} on the replica without READONLY: {r!r}"
        assert c.call("READONLY") == "OK"
        r = c.call("GET", key)
        assert r == value, f"GET {key} after READONLY on the replica: {r!r}, want {value!r}"
        # Writes are redirected to the master, READONLY or not.
        r = c.call("SET", key, "from-the-replica")
        assert r == h.Error(f"MOVED {slot} 127.0.0.1:{master.port}"), \
            f"SET on the replica (READONLY connection): {r!r}"
        assert c.call("READWRITE") == "OK"
        r = c.call("GET", key)
        assert isinstance(r, h.Error) and r.startswith("MOVED "), \
            f"GET after READWRITE on the replica: {r!r}"
    with master.raw() as c:
        assert c.call("GET", key) == value, "the replica's refused SET reached the data"


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_sync_stream_and_reads(servers, mkind, rkind):
    # Half the writes before the replica attaches (they travel in the RDB), half after
    # (they travel in the command stream).
    master, replica, mid = rh.make_pair(servers, mkind, rkind,
                                        writes_before=_fill(WRITES // 2, 1, "a"))
    # Two clients write the same keys at once: the stream must carry every key's writes
    # in the order the master executed them, whichever workers ran them.
    rh.concurrently(lambda: rh.write_mix(master, WRITES // 4, 2, "b"),
                    lambda: rh.write_mix(master, WRITES // 4, 22, "b"))

    r = rh.wait_cmd(master, 1, 5000)
    assert r == 1, f"WAIT 1 5000 on {rh.label(master)} answered {r!r}"
    rh.wait_offsets_equal(master, replica)
    check_info(master, replica)
    check_role(master, replica)
    n = rh.assert_same_data(master, replica)
    assert n > 2000, f"only {n} keys on the master: the write mix is wrong"

    # Keys the master set to expire within 50 ms are gone on both sides.
    d = rh.dump(replica)
    assert not [k for k in d if k.startswith(b"short:")], "expired keys still on the replica"

    key = "a:17"
    # WAIT on the connection that wrote: on redis-server 7.0.15 WAIT waits for the
    # client's own last write, so a fresh connection would answer at once.
    with master.raw(timeout=15) as c:
        assert c.call("SET", key, "known") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    check_replica_reads_and_writes(master, replica, key, b"known")

    # A second WAIT with nothing new written still counts the replica.
    assert rh.wait_cmd(master, 1, 5000) == 1
    rh.wait_offsets_equal(master, replica)


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_partial_resync_and_restart(servers, mkind, rkind):
    master, replica, mid = rh.make_pair(servers, mkind, rkind,
                                        writes_before=_fill(2000, 3, "c"))
    rh.write_mix(master, 2000, 4, "d")
    assert rh.wait_cmd(master, 1, 5000) == 1
    rh.wait_offsets_equal(master, replica)

    # The master drops the link; the replica comes back with PSYNC and gets +CONTINUE.
    stats0 = rh.info(master, "stats")
    assert "sync_partial_ok" in stats0 and "sync_full" in stats0, f"INFO stats: {stats0}"
    with master.raw() as c:
        killed = c.call("CLIENT", "KILL", "TYPE", "replica")
    assert killed == 1, f"CLIENT KILL TYPE replica on {rh.label(master)} answered {killed!r}"
    rh.write_mix(master, 3000, 5, "e")
    rh.wait_acked(master, 1)
    rh.wait_offsets_equal(master, replica)
    stats1 = rh.info(master, "stats")
    assert int(stats1["sync_partial_ok"]) == int(stats0["sync_partial_ok"]) + 1, \
        (f"sync_partial_ok went {stats0['sync_partial_ok']} -> {stats1['sync_partial_ok']} "
         f"(sync_full {stats0['sync_full']} -> {stats1['sync_full']}): the replica was not "
         "served by a partial resync")
    assert stats1["sync_full"] == stats0["sync_full"], \
        f"sync_full went {stats0['sync_full']} -> {stats1['sync_full']} after CLIENT KILL"
    rh.assert_same_data(master, replica)

    # The replica is stopped and started again from its own directory (nodes.conf)
    # while the master keeps taking writes.
    w = rh.Writer(master, "live")
    w.start()
    h.wait_until(lambda: w.count > 200 or w.error, 10, what="background writes")
    rc, _ = replica.stop()
    assert rc == 0, f"replica {rh.label(replica)} exit code {rc} on SIGTERM"
    h.wait_until(lambda: w.count > 1000 or w.error, 20, what="writes while the replica is down")
    replica.start()
    h.wait_until(lambda: w.count > 2000 or w.error, 20, what="writes while it restarts")
    total = w.stop()
    rh.wait_link_up(replica)
    rh.wait_acked(master, 1)
    rh.wait_offsets_equal(master, replica)
    n = rh.assert_same_data(master, replica)
    assert n >= total, f"{n} keys on the master after {total} background SETs"
    check_info(master, replica)
    check_role(master, replica)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_two_replicas_wait(servers, kind):
    master = rh.start(servers, kind)
    h.own_all_slots(master)
    rh.fast_sync(master)
    mid = bh.myid(master)
    r1 = rh.add_replica(servers, master, kind, mid)
    r2 = rh.add_replica(servers, master, kind, mid)
    rh.write_mix(master, 3000, 6, "f")
    r = rh.wait_cmd(master, 2, 5000)
    assert r == 2, f"WAIT 2 5000 on {rh.label(master)} with two replicas answered {r!r}"
    # Asking for more replicas than exist times out and reports the two that acked.
    r = rh.wait_cmd(master, 3, 300)
    assert r == 2, f"WAIT 3 300 with two replicas answered {r!r}"
    mi = rh.info(master)
    assert mi.get("connected_slaves") == "2", f"INFO on master: {mi}"
    ports = {mi.get("slave0", ""), mi.get("slave1", "")}
    for rep in (r1, r2):
        assert any(f"port={rep.port}," in s for s in ports), f"{rep.port} not in {ports}"
        rh.wait_offsets_equal(master, rep)
        rh.assert_same_data(master, rep)
    mr = rh.role(master)
    assert sorted(int(e[1]) for e in mr[2]) == sorted([r1.port, r2.port]), f"ROLE: {mr!r}"


LOG_LINE = r"^\d+:([A-Z]) \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] "


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replica_logs_with_role_s(servers, kind):
    """Operators' log tooling reads the role from `pid:S`: a replica's lines after CLUSTER
    REPLICATE carry S, its master's keep M (docs/design.md §7: Redis's log format)."""
    master = rh.start(servers, kind)
    h.own_all_slots(master)
    rh.fast_sync(master)
    replica = rh.start(servers, kind)
    mid, _ = rh.meet(replica, master)
    offset = len(replica.log())
    moffset = len(master.log())
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    roles = [m.group(1) for m in (re.match(LOG_LINE, ln) for ln in
                                  rh.log_since(replica, offset).splitlines()) if m]
    assert roles, f"no log line of the replica since CLUSTER REPLICATE:\n{replica.log_tail()}"
    # The line that reports the REPLICATE itself may still be written as a master.
    assert set(roles[1:]) <= {"S"} and roles[-1] == "S", \
        f"roles in the replica's log lines since CLUSTER REPLICATE: {roles}"
    mroles = [m.group(1) for m in (re.match(LOG_LINE, ln) for ln in
                                   rh.log_since(master, moffset).splitlines()) if m]
    assert mroles and set(mroles) <= {"M", "C"}, f"roles in the master's log: {mroles}"


@pytest.mark.parametrize("mkind,rkind", PAIRS, ids=PAIR_IDS)
def test_disk_based_full_sync(servers, mkind, rkind):
    """repl-diskless-sync no on the master: the RDB travels as `$<length>` + bytes with no
    CRLF, directly followed by the stream (docs/replication.md §2), instead of the $EOF:<mark> framing."""
    master = rh.start(servers, mkind)
    h.own_all_slots(master)
    r = rh.config_set(master, "repl-diskless-sync", "no")
    assert r == "OK", f"CONFIG SET repl-diskless-sync no on {rh.label(master)}: {r!r}"
    master, replica, mid = rh.make_pair(servers, mkind, rkind, master=master,
                                        writes_before=_fill(3000, 7, "g"))
    rh.write_mix(master, 2000, 8, "h")
    assert rh.wait_cmd(master, 1, 5000) == 1
    rh.wait_offsets_equal(master, replica)
    rh.assert_same_data(master, replica)
    check_info(master, replica)


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replica_refuses_keyless_writes(servers, kind):
    """A replica is read-only: FLUSHALL (a write without keys) is refused with READONLY and
    its data stays; a keyed write is redirected (MOVED) to the master."""
    master, replica, _ = rh.make_pair(servers, kind, kind)
    with master.raw() as c:
        for i in range(50):
            assert c.call("SET", f"ro:{i}", i) == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    with replica.raw() as c:
        r = c.call("FLUSHALL")
        assert str(r).startswith("READONLY You can't write"), f"FLUSHALL on a replica -> {r!r}"
        r = c.call("SET", "ro:1", "x")
        assert str(r).startswith("MOVED "), f"SET on a replica -> {r!r}"
        assert c.call("READONLY") == "OK"
        assert c.call("DBSIZE") == 50


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_min_replicas_to_write(servers, kind):
    """min-replicas-to-write: with fewer good replicas than asked, writes get NOREPLICAS;
    reads still work; with enough, writes succeed again."""
    master, replica, _ = rh.make_pair(servers, kind, kind)
    with master.raw() as c:
        assert c.call("CONFIG", "SET", "min-replicas-to-write", "2") == "OK"
        h.wait_until(lambda: str(c.call("SET", "mr:a", "1")).startswith("NOREPLICAS"), 5, interval=0.05,
                     what="SET answered NOREPLICAS with 1 replica and min-replicas-to-write 2")
        assert c.call("GET", "mr:missing") is None
        assert c.call("CONFIG", "SET", "min-replicas-to-write", "1") == "OK"
        h.wait_until(lambda: c.call("SET", "mr:a", "1") == "OK", 5, interval=0.05,
                     what="SET accepted with 1 good replica and min-replicas-to-write 1")
        assert c.call("CONFIG", "SET", "min-replicas-to-write", "0") == "OK"


def test_diskless_sync_delay_and_max_replicas_as_redis(servers):
    """A master doing diskless syncs waits repl-diskless-sync-delay seconds after a
    replica asks before it starts the transfer (for more replicas to share it), unless
    repl-diskless-sync-max-replicas replicas wait already; as 7.0.15's
    shouldStartChildReplication. Standalone nodes with REPLICAOF."""
    got = {}
    for kind in ("shoal", "redis"):
        out = []
        for delay, max_replicas in ((2, 0), (30, 1)):
            master = servers.shoal(base_args="standalone") if kind == "shoal" else servers.redis(base_args="standalone")
            replica = servers.shoal(base_args="standalone") if kind == "shoal" else servers.redis(base_args="standalone")
            with master.raw() as c:
                assert c.call("CONFIG", "SET", "repl-diskless-sync-delay", str(delay),
                              "repl-diskless-sync-max-replicas", str(max_replicas)) == "OK"
            t0 = time.monotonic()
            with replica.raw() as c:
                assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
            h.wait_until(lambda: rh.info(replica).get("master_link_status") == "up", 40,
                         what=f"{kind}: the replica in sync")
            took = time.monotonic() - t0
            out.append("waited" if took >= 1.8 else "at once")
        got[kind] = out
    assert got["shoal"] == got["redis"] == ["waited", "at once"], got
