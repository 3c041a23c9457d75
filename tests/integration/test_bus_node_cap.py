"""The node table has a ceiling: a known peer cannot make a node hold 65 535 made-up nodes.

What it is for: 7.0.15 adds a record (and opens a connection) for every
node a known peer gossips about, with no limit: one PING can carry 65 535 entries. shoal
stops at 4096 records (four times the cluster size Redis documents), ignores what peers
tell it beyond that, and logs it at most every 10 s. The node keeps serving and stays in
cluster_state ok.

What it must never do: relax a check to match our node; signal a process it did not start.
"""
import helpers as h
import bushelpers as bh

CAP = 4096


def test_gossip_cannot_grow_the_node_table_past_the_cap(servers):
    nodes = bh.start_cluster(servers, 3)
    ids = [bh.myid(n) for n in nodes]
    a = nodes[0]
    offset = len(a.log())
    # A PING in the name of a known node (ids[1]) gossiping 65 535 fresh nodes. Their
    # bus port is 0, so no connection is ever attempted (the point here is the table).
    fake = [bh.random_name() for _ in range(65535)]
    entries = [bh.gossip_entry(n, ip="127.0.0.1", port=0, cport=0) for n in fake]
    with bh.BusConn(bh.bus_port(a), timeout=30) as conn:
        conn.send(bh.ping(sender=ids[1], gossip=entries))
        bh.expect_pong(conn, ids[0], timeout=30)
        h.wait_until(lambda: int(bh.cluster_info(a)["cluster_known_nodes"]) >= CAP, 20, interval=0.2,
                     what="the gossiped nodes being added")
        assert int(bh.cluster_info(a)["cluster_known_nodes"]) == CAP
    # More of the same changes nothing. (A new connection: the real node ids[1] takes
    # its inbound link back as soon as it sends on it, closing ours, as 7.0.15 does.)
    more = [bh.gossip_entry(bh.random_name(), ip="127.0.0.1", port=0, cport=0) for _ in range(1000)]
    with bh.BusConn(bh.bus_port(a), timeout=30) as conn:
        conn.send(bh.ping(sender=ids[1], gossip=more))
        bh.expect_pong(conn, ids[0], timeout=30)
    h.wait_until(lambda: "The node table is full (4096 nodes)" in a.log()[offset:], 10, interval=0.2,
                 what="the node table warning in the log")
    lines = [ln for ln in a.log()[offset:].splitlines() if "The node table is full" in ln]
    assert len(lines) == 1, lines            # once per 10 s, with a count of what was refused
    assert int(bh.cluster_info(a)["cluster_known_nodes"]) == CAP
    view = bh.cluster_nodes(a)
    assert len(view) == CAP
    assert set(ids) <= {v["id"] for v in view}
    # The node still serves and the real cluster is unharmed.
    assert a.ping_ok()
    # The peers learn the made-up nodes from our gossip in turn (as 7.0.15's would);
    # their tables stop at the same ceiling.
    for n in nodes[1:]:
        assert int(bh.cluster_info(n)["cluster_known_nodes"]) <= CAP
    h.wait_until(lambda: bh.cluster_info(a)["cluster_state"] == "ok", 10, interval=0.2,
                 what="node a in cluster_state ok")
