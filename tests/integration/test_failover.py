"""Failover (docs/cluster-bus.md §5.13-§5.16): automatic failover after kill -9 and
SIGSTOP, the old master coming back as a replica, cluster-replica-no-failover, manual
CLUSTER FAILOVER / FORCE / TAKEOVER, failover on shutdown, replica migration, and
elections in mixed clusters of shoal and redis-server 7.0.15 nodes.

Every test builds its own cluster (node timeout 1000 ms) with redis-cli and stops only
the processes it started."""
import signal
import time

import pytest

import bushelpers as bh
import helpers as h

NT = 1000


# --- helpers -----------------------------------------------------------------

def kill9(server):
    server.expected_exit = True
    server.signal(signal.SIGKILL)
    assert server.wait_exit(5) is not None


def view(server):
    return bh.nodes_by_id(bh.cluster_nodes(server))


def role_of(server, node_id):
    """'master', 'slave' or None, as `server` sees node_id."""
    n = view(server).get(node_id)
    if not n:
        return None
    return "master" if "master" in n["flags"] else ("slave" if "slave" in n["flags"] else None)


def shards(nodes):
    """[(master Server, [replica Servers])] as the first live node sees them."""
    ids = {bh.myid(s): s for s in nodes}
    v = view(nodes[0])
    out = []
    for nid, n in v.items():
        if "master" in n["flags"] and n["slots"]:
            reps = [ids[r] for r, rn in v.items() if rn["master"] == nid and r in ids]
            out.append((ids[nid], reps))
    return out


def all_ok(nodes, timeout):
    for s in nodes:
        h.wait_until(lambda s=s: bh.cluster_info(s).get("cluster_state") == "ok", timeout, interval=0.05,
                     what=f":{s.port} cluster_state:ok (view: {bh._safe_nodes_text(s)})")


def wait_role(observers, node_id, role, timeout, master_id=None):
    def ok():
        for o in observers:
            n = view(o).get(node_id)
            if not n or role not in n["flags"]:
                return False
            if master_id and n["master"] != master_id:
                return False
        return True
    h.wait_until(ok, timeout, interval=0.05,
                 what=f"{node_id[:8]} is {role} on every observer (view: {bh._safe_nodes_text(observers[0])})")


def keys_for(server, n, prefix="k"):
    """n key names whose slots `server` serves (from its own CLUSTER NODES line)."""
    me = view(server)[bh.myid(server)]
    ranges = []
    for r in me["slots"]:
        if r.startswith("["):
            continue
        a, _, b = r.partition("-")
        ranges.append((int(a), int(b or a)))
    out, i = [], 0
    with server.raw() as c:
        while len(out) < n:
            k = f"{prefix}{i}"
            slot = c.call("CLUSTER", "KEYSLOT", k)
            if any(a <= slot <= b for a, b in ranges):
                out.append(k)
            i += 1
    return out


def write_acked(master, keys):
    """SET each key on master, then WAIT 1: returns the keys a replica acknowledged."""
    with master.raw() as c:
        for k in keys:
            assert c.call("SET", k, "v-" + k) == "OK"
        acked = c.call("WAIT", "1", "5000")
    assert acked == 1, f"WAIT 1 answered {acked!r}: no replica acknowledged the writes"
    return keys


def assert_keys(server, keys):
    with server.raw() as c:
        for k in keys:
            v = c.call("GET", k)
            assert v == ("v-" + k).encode(), f"{k} on :{server.port} -> {v!r}"


def cluster_3_3(servers, extra=(), kind="shoal"):
    nodes = bh.start_cluster(servers, 6, replicas=1, node_timeout=NT, extra_args=extra, kind=kind)
    sh = shards(nodes)
    assert len(sh) == 3 and all(len(r) == 1 for _, r in sh), sh
    for m, (r,) in sh:
        wait_repl_up(r)
    return nodes, sh


def wait_repl_up(replica, timeout=20):
    def up():
        with replica.raw() as c:
            info = h.info_dict(c.call("INFO", "replication"))
        return info.get("master_link_status") == "up"
    h.wait_until(up, timeout, interval=0.1, what=f"replica :{replica.port} master_link_status:up")


# --- automatic failover ------------------------------------------------------------

def test_kill9_master_replica_takes_over_and_old_master_rejoins(servers):
    nodes, sh = cluster_3_3(servers)
    victim, (heir,) = sh[0]
    vid, hid = bh.myid(victim), bh.myid(heir)
    keys = write_acked(victim, keys_for(victim, 50))
    survivors = [s for s in nodes if s is not victim]
    t0 = time.monotonic()
    kill9(victim)
    wait_role(survivors, hid, "master", 15)
    all_ok(survivors, 15)
    took = time.monotonic() - t0
    print(f"kill -9 -> all ok: {took:.2f}s")
    assert took < 10, f"kill -9 to all ok took {took:.2f}s"
    # the heir serves the old master's slots with a configEpoch larger than any other
    v = view(heir)
    epochs = [int(n["config_epoch"]) for n in v.values() if "master" in n["flags"] and n["slots"]]
    assert int(v[hid]["config_epoch"]) == max(epochs) and epochs.count(max(epochs)) == 1, v
    assert_keys(heir, keys)
    # the old master comes back from its nodes.conf and follows the winner
    victim.start()
    wait_role(nodes, vid, "slave", 20, master_id=hid)
    all_ok(nodes, 20)
    wait_repl_up(victim)
    with victim.raw() as c:
        assert c.call("READONLY") == "OK"
        assert c.call("GET", keys[0]) == ("v-" + keys[0]).encode()


def test_more_up_to_date_replica_wins(servers):
    """Two replicas of one master with different offsets: the one that has more of the
    stream ranks first and becomes the master; every acknowledged write survives."""
    nodes = bh.start_cluster(servers, 7, replicas=1, node_timeout=NT)
    sh = shards(nodes)
    rich = [(m, r) for m, r in sh if len(r) == 2]
    assert len(rich) == 1, [(m.port, [x.port for x in r]) for m, r in sh]
    victim, (r1, r2) = rich[0]
    for r in (r1, r2):
        wait_repl_up(r)
    # `ahead` gets the larger name, so a win cannot come from a tie broken by name
    ahead, behind = sorted((r1, r2), key=bh.myid, reverse=True)
    aid, bid = bh.myid(ahead), bh.myid(behind)
    # `behind` misses the next writes: it is stopped and its replication link cut (a stopped
    # process would still find the bytes in its socket buffer), while `ahead` reconnects
    # and acknowledges them
    behind.signal(signal.SIGSTOP)
    try:
        with victim.raw() as c:
            assert c.call("CLIENT", "KILL", "TYPE", "replica") == 2
        wait_repl_up(ahead)
        keys = write_acked(victim, keys_for(victim, 200))
        with victim.raw() as c:
            moff = int(h.info_dict(c.call("INFO", "replication"))["master_repl_offset"])
        with ahead.raw() as c:
            h.wait_until(lambda: int(h.info_dict(c.call("INFO", "replication"))["slave_repl_offset"]) >= moff,
                         10, interval=0.05, what="the up-to-date replica at the master's offset")
        kill9(victim)
    finally:
        behind.signal(signal.SIGCONT)
    survivors = [s for s in nodes if s is not victim]
    wait_role(survivors, aid, "master", 15)
    all_ok(survivors, 15)
    assert role_of(ahead, bid) == "slave", bh._safe_nodes_text(ahead)
    assert_keys(ahead, keys)
    # the other replica follows the winner and gets the writes it missed
    wait_role(survivors, bid, "slave", 15, master_id=aid)
    wait_repl_up(behind)
    with behind.raw() as c:
        assert c.call("READONLY") == "OK"
        h.wait_until(lambda: c.call("GET", keys[-1]) == ("v-" + keys[-1]).encode(), 15, interval=0.1,
                     what="the lagging replica caught up from the new master")


def test_sigstop_master_fails_over_and_becomes_replica_on_sigcont(servers):
    nodes, sh = cluster_3_3(servers)
    victim, (heir,) = sh[1]
    vid, hid = bh.myid(victim), bh.myid(heir)
    keys = write_acked(victim, keys_for(victim, 20, prefix="s"))
    survivors = [s for s in nodes if s is not victim]
    victim.signal(signal.SIGSTOP)
    try:
        wait_role(survivors, hid, "master", 15)
        all_ok(survivors, 15)
    finally:
        victim.signal(signal.SIGCONT)
    wait_role(nodes, vid, "slave", 20, master_id=hid)
    all_ok(nodes, 20)
    assert_keys(heir, keys)


def test_replica_no_failover_prevents_failover(servers):
    nodes, sh = cluster_3_3(servers)
    victim, (rep,) = sh[2]
    rid = bh.myid(rep)
    with rep.raw() as c:
        assert c.call("CONFIG", "SET", "cluster-replica-no-failover", "yes") == "OK"
    others = [s for s in nodes if s not in (victim, rep)]
    h.wait_until(lambda: all("nofailover" in view(o)[rid]["flags"] for o in others), 10, interval=0.1,
                 what="nofailover flag gossiped")
    vid = bh.myid(victim)
    kill9(victim)
    h.wait_until(lambda: "fail" in view(others[0])[vid]["flags"], 10, interval=0.05, what="FAIL of the master")
    time.sleep(4 * NT / 1000 + 2)   # well past any election delay and retry
    assert role_of(rep, rid) == "slave"
    for o in others:
        assert role_of(o, rid) == "slave"
        assert bh.cluster_info(o)["cluster_state"] == "fail"
    assert "Failover auth granted" not in "".join(o.log() for o in others)


# --- manual failover ---------------------------------------------------------------

def test_manual_failover_swaps_roles(servers):
    nodes, sh = cluster_3_3(servers)
    master, (rep,) = sh[0]
    mid, rid = bh.myid(master), bh.myid(rep)
    keys = write_acked(master, keys_for(master, 20, prefix="m"))
    with master.raw() as c:
        assert str(c.call("CLUSTER", "FAILOVER")).startswith("ERR You should send CLUSTER FAILOVER to a replica")
    with rep.raw() as c:
        assert c.call("CLUSTER", "FAILOVER", "BOGUS") == "ERR syntax error"
        t0 = time.monotonic()
        assert c.call("CLUSTER", "FAILOVER") == "OK"
    wait_role(nodes, rid, "master", 10)
    wait_role(nodes, mid, "slave", 10, master_id=rid)
    all_ok(nodes, 10)
    print(f"manual failover -> roles swapped everywhere: {time.monotonic() - t0:.2f}s")
    assert "Manual failover requested by replica" in master.log()
    assert_keys(rep, keys)
    # the new master takes writes
    with rep.raw() as c:
        assert c.call("SET", keys[0], "after") == "OK"


def test_manual_failover_force(servers):
    nodes, sh = cluster_3_3(servers)
    master, (rep,) = sh[1]
    mid, rid = bh.myid(master), bh.myid(rep)
    with rep.raw() as c:
        assert c.call("CLUSTER", "FAILOVER", "FORCE") == "OK"
    wait_role(nodes, rid, "master", 10)
    wait_role(nodes, mid, "slave", 10, master_id=rid)
    all_ok(nodes, 10)


def test_takeover_with_majority_of_masters_down(servers):
    nodes, sh = cluster_3_3(servers)
    (m0, (r0,)), (m1, (r1,)), (m2, (r2,)) = sh
    # two of three masters die: no election can win, TAKEOVER needs no votes
    for m in (m0, m1):
        kill9(m)
    live = [r0, r1, m2, r2]
    h.wait_until(lambda: bh.cluster_info(r2).get("cluster_state") == "fail", 10, interval=0.05,
                 what="cluster down")
    for r in (r0, r1):
        with r.raw() as c:
            assert c.call("CLUSTER", "FAILOVER", "TAKEOVER") == "OK"
    for r in (r0, r1):
        wait_role(live, bh.myid(r), "master", 10)
    all_ok(live, 15)
    epochs = [int(n["config_epoch"]) for n in view(m2).values() if "master" in n["flags"] and n["slots"]]
    assert len(epochs) == 3 and len(set(epochs)) == 3, epochs


# --- failover on shutdown --------------------------------------------------------------

def test_failover_on_shutdown(servers):
    nodes, sh = cluster_3_3(servers, extra=("--cluster-failover-on-shutdown", "yes"))
    master, (rep,) = sh[2]
    rid = bh.myid(rep)
    keys = write_acked(master, keys_for(master, 20, prefix="q"))
    others = [s for s in nodes if s is not master]
    t0 = time.monotonic()
    master.expected_exit = True
    master.cli("SHUTDOWN")
    rc = master.wait_exit(15)
    assert rc == 0, rc
    # the replica was master before the old one left: no FAIL-based election was needed
    wait_role(others, rid, "master", 5)
    all_ok(others, 10)
    assert time.monotonic() - t0 < 10
    assert "Failover on shutdown: replica" in master.log() and "took over" in master.log()
    assert_keys(rep, keys)


def test_failover_on_shutdown_authenticates_with_masterauth(servers):
    # The replica asks for a password: the leaving master sends AUTH <masterauth> (whole,
    # longer than any fixed buffer) before CLUSTER FAILOVER, or the replica answers NOAUTH.
    nodes, sh = cluster_3_3(servers, extra=("--cluster-failover-on-shutdown", "yes"))
    master, (rep,) = sh[1]
    rid = bh.myid(rep)
    pw = "p" * 700
    with master.raw() as c:
        assert c.call("CONFIG", "SET", "masterauth", pw) == "OK"
    with rep.raw() as c:
        assert c.call("CONFIG", "SET", "requirepass", pw) == "OK"
    observers = [s for s in nodes if s is not master and s is not rep]
    master.expected_exit = True
    master.cli("SHUTDOWN")
    assert master.wait_exit(15) == 0
    log = master.log()
    assert "the replica answered" not in log, log[-2000:]
    assert f"Failover on shutdown: replica {rid} took over" in log, log[-2000:]
    wait_role(observers, rid, "master", 5)


def test_no_failover_on_shutdown_by_default(servers):
    nodes, sh = cluster_3_3(servers)
    master, (rep,) = sh[0]
    master.expected_exit = True
    master.cli("SHUTDOWN")
    assert master.wait_exit(15) == 0
    assert "Failover on shutdown" not in master.log()


# --- replica migration -------------------------------------------------------------

def test_replica_migration_to_orphaned_master(servers):
    # 3 masters + 4 replicas: one master gets two replicas
    nodes = bh.start_cluster(servers, 7, replicas=1, node_timeout=NT)
    sh = shards(nodes)
    rich = [(m, r) for m, r in sh if len(r) == 2]
    poor = [(m, r) for m, r in sh if len(r) == 1]
    assert len(rich) == 1 and len(poor) == 2, [(m.port, [x.port for x in r]) for m, r in sh]
    orphan_master, (lonely,) = poor[0]
    om_id = bh.myid(orphan_master)
    kill9(lonely)
    migrants = rich[0][1]
    ids = [bh.myid(x) for x in migrants]

    def migrated():
        v = view(orphan_master)
        return any(v[i]["master"] == om_id for i in ids)
    h.wait_until(migrated, 30, interval=0.2, what="a replica migrated to the orphaned master")
    v = view(orphan_master)
    moved = [i for i in ids if v[i]["master"] == om_id]
    assert len(moved) == 1, v
    assert moved[0] == min(ids), "the candidate is the replica with the smallest name"


# --- mixed clusters ------------------------------------------------------------------

def _mixed_pair(servers, master_kind, replica_kind):
    """3 masters (the first of master_kind, others one of each kind) + replicas; the first
    master gets a replica of replica_kind. Returns (all, master, replica)."""
    mk = servers.shoal if master_kind == "shoal" else servers.redis
    rk = servers.shoal if replica_kind == "shoal" else servers.redis
    args = ["--cluster-node-timeout", str(NT)]
    m0 = mk(extra_args=args)
    m1, m2 = servers.redis(extra_args=args), servers.shoal(extra_args=args)
    r0 = rk(extra_args=args)
    r1, r2 = servers.shoal(extra_args=args), servers.redis(extra_args=args)
    nodes = [m0, m1, m2]
    r = bh.create_cluster(nodes, 0)
    assert r.returncode == 0, r.stdout + r.stderr
    bh.wait_healthy(nodes, 3, timeout=30)
    for rep, m in ((r0, m0), (r1, m1), (r2, m2)):
        with rep.raw() as c:
            assert c.call("CLUSTER", "MEET", "127.0.0.1", str(m0.port)) == "OK"
    allnodes = nodes + [r0, r1, r2]
    h.wait_until(lambda: all(len(view(s)) == 6 for s in allnodes), 20, interval=0.1, what="6 nodes known")
    for rep, m in ((r0, m0), (r1, m1), (r2, m2)):
        mid = bh.myid(m)
        h.wait_until(lambda rep=rep, mid=mid: rep.raw().call("CLUSTER", "REPLICATE", mid) == "OK", 10,
                     interval=0.2, what="CLUSTER REPLICATE")
    bh.wait_healthy(allnodes, 6, timeout=30)
    wait_repl_up(r0)
    return allnodes, m0, r0


@pytest.mark.parametrize("master_kind,replica_kind", [("redis", "shoal"), ("shoal", "redis")])
def test_mixed_cluster_failover(servers, master_kind, replica_kind):
    allnodes, master, rep = _mixed_pair(servers, master_kind, replica_kind)
    rid = bh.myid(rep)
    keys = write_acked(master, keys_for(master, 20, prefix="x"))
    survivors = [s for s in allnodes if s is not master]
    kill9(master)
    wait_role(survivors, rid, "master", 20)
    all_ok(survivors, 20)
    assert_keys(rep, keys)
    voters_log = "".join(s.log() for s in survivors if s.kind == "shoal")
    if replica_kind == "shoal":
        # a redis master and a shoal master voted for the shoal replica
        redis_master = [s for s in survivors if s.kind == "redis" and role_of(s, bh.myid(s)) == "master"]
        assert any("Failover auth granted to " + rid in s.log() for s in redis_master), "no redis vote"
        assert "Failover auth granted to " + rid in voters_log, "no shoal vote"
    else:
        assert "Failover auth granted to " + rid in voters_log, "no shoal vote for the redis replica"
        assert "Failover election won" in rep.log()
