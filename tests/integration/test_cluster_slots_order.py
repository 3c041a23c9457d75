"""CLUSTER SLOTS, SHARDS and REPLICAS agree between the nodes of a stable cluster.

What it is for: Redis's cluster tests wait until every node answers
CLUSTER SLOTS with the same reply (wait_for_cluster_propagation). Two things made ours
differ from node to node where 7.0.15's do not:
* a replica listed itself while no replication offset was known (7.0.15 asks its own
  replication state, as it asks the others' headers: offset 0 = not listed);
* replicas came in the order each node had learned the nodes, not, as in 7.0.15, in
  the order they became replicas of their master.
Each test runs the same scenario on redis-server 7.0.15 and on shoal.

What it must never do: relax an expectation to match our node; sleep for a fixed time
where it can poll; signal a process it did not start.
"""
import pytest

import helpers as h
import bushelpers as bh


def _slots(server):
    with server.raw() as c:
        return c.call("CLUSTER", "SLOTS")


def _all_equal(servers, fn):
    replies = [fn(s) for s in servers]
    return all(r == replies[0] for r in replies[1:])


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_cluster_slots_identical_on_every_node(servers, kind):
    # No master PINGs its replicas (repl-ping-replica-period at its maximum) until the
    # period is set to 1 s below: the replicas' offsets stay 0, so that "nothing changes"
    # holds while the replies are compared. shoal's first PING went out as a replica
    # attached, and a node that had heard a replica's new offset listed it while another
    # had not yet: the replies differed for a moment, which a slow run (several tests at
    # once) caught.
    quiet = ["--repl-ping-replica-period", "2147483647"]
    nodes = [servers.redis(quiet) if kind == "redis" else servers.shoal(quiet) for _ in range(6)]
    r = bh.create_cluster(nodes, replicas=1)
    assert r.returncode == 0, f"create exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    bh.wait_healthy(nodes, 6, timeout=30)
    h.wait_until(lambda: _all_equal(nodes, _slots), 5, interval=0.1,
                 what=f"{kind}: the same CLUSTER SLOTS from all six nodes")
    # and it stays so while nothing changes
    for _ in range(10):
        replies = [_slots(s) for s in nodes]
        assert all(x == replies[0] for x in replies[1:]), (kind, replies)
    # Once there is data, every replica is listed by every node. A master that gets none of
    # the keys below moves its replica's offset with its PINGs (every second from here).
    for n in nodes:
        with n.raw() as c:
            assert c.call("CONFIG", "SET", "repl-ping-replica-period", "1") == "OK"
    with nodes[0].raw() as c:
        c.call("SET", "k", "v")          # whichever master owns it
    for n in nodes:
        with n.raw() as c:
            c.call("SET", "{%d}x" % n.port, "v")
    def all_listed():
        replies = [_slots(s) for s in nodes]
        return all(x == replies[0] for x in replies[1:]) and all(len(e) == 4 for e in replies[0])
    h.wait_until(all_listed, 30, interval=0.2,
                 what=f"{kind}: every range listing its master and its replica on every node")


def _node_ids_in_nodes_order(server):
    return [v["id"] for v in bh.cluster_nodes(server)]


def _replicas_reply(server, master_id):
    with server.raw() as c:
        v = c.call("CLUSTER", "REPLICAS", master_id)
    assert isinstance(v, list), v
    return [line.split()[0].decode() for line in v]


def _shard_replicas(server, master_id):
    with server.raw() as c:
        shards = c.call("CLUSTER", "SHARDS")
    for sh in shards:
        d = {sh[i].decode(): sh[i + 1] for i in range(0, len(sh), 2)}
        ids = [{n[i].decode(): n[i + 1] for i in range(0, len(n), 2)}["id"].decode() for n in d["nodes"]]
        if ids[0] == master_id:
            return ids[1:]
    return None


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_replicas_listed_in_the_order_they_attached(servers, kind):
    """A master, two more nodes that become its replicas one after the other, and an
    observer: every node lists the replicas in the order they attached. The order is
    chosen against the master's own node-table order, which a node-table walk would give."""
    make = servers.redis if kind == "redis" else servers.shoal
    m, a, b, obs = [make() for _ in range(4)]
    everyone = [m, a, b, obs]
    with m.raw() as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK"
    for n in (a, b, obs):
        with n.raw() as c:
            assert c.call("CLUSTER", "MEET", "127.0.0.1", str(m.port)) == "OK"
    bh.wait_healthy(everyone, 4, timeout=30)
    ids = {s.port: bh.myid(s) for s in everyone}
    mid = ids[m.port]
    order = [i for i in _node_ids_in_nodes_order(m) if i in (ids[a.port], ids[b.port])]
    first, second = (b, a) if order == [ids[a.port], ids[b.port]] else (a, b)
    for rep in (first, second):
        with rep.raw() as c:
            assert c.call("CLUSTER", "REPLICATE", mid) == "OK"
        h.wait_until(lambda rep=rep: all(ids[rep.port] in _replicas_reply(s, mid) for s in everyone),
                     15, interval=0.1, what=f"{kind}: every node seeing :{rep.port} as a replica")
    want = [ids[first.port], ids[second.port]]
    for s in everyone:
        assert _replicas_reply(s, mid) == want, (kind, s.port, want)
        assert _shard_replicas(s, mid) == want, (kind, s.port, want)
    # CLUSTER SLOTS lists them (once they have an offset) in the same order everywhere.
    with m.raw() as c:
        c.call("SET", "k", "v")
    def slots_order():
        for s in everyone:
            v = _slots(s)
            if len(v) != 1 or [e[2].decode() for e in v[0][3:]] != want:
                return False
        return True
    h.wait_until(slots_order, 30, interval=0.2,
                 what=f"{kind}: CLUSTER SLOTS listing the replicas in attach order on every node")
