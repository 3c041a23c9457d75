"""Node identity across restarts, and the commands that remove nodes: FORGET and RESET.

What it is for: the scenario "restart a node: it rejoins from nodes.conf with its ID,
slots and epochs; FORGET and RESET HARD behave as the spec says", with the exact
replies of redis-server 7.0.15 (docs/clients.md §3.11, §3.14, §3.16; docs/cluster-bus.md
§5.9, §5.18, §5.19), and the MULTI/EXEC around RESET HARD + SET-CONFIG-EPOCH that
Redis's own test harness sends.

What it must never do: weaken an expectation to match our node; stop a process it
did not start.
"""
import time

import helpers as h
import bushelpers as bh


def _myself(server):
    return next(v for v in bh.cluster_nodes(server) if "myself" in v["flags"])


def test_restarted_master_keeps_id_slots_and_epochs(servers):
    nodes = bh.start_cluster(servers, 3)
    x = nodes[1]
    before_me = _myself(x)
    before_info = bh.cluster_info(x)
    before_others = {bh.myid(n): {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(n)}
                     for n in (nodes[0], nodes[2])}
    conf_before = x.nodes_conf.read_text()
    assert before_me["id"] in conf_before

    rc, _ = x.stop()
    assert rc == 0, f"SIGTERM exit code {rc}"
    x.start()

    # Straight from nodes.conf, before any bus traffic could teach it anything:
    # the same identity, the same slots and epochs, and the other two nodes.
    me = _myself(x)
    assert me["id"] == before_me["id"]
    assert bh.comparable(me) == bh.comparable(before_me), (me["line"], before_me["line"])
    info = bh.cluster_info(x)
    assert info["cluster_current_epoch"] == before_info["cluster_current_epoch"]
    assert info["cluster_my_epoch"] == before_info["cluster_my_epoch"]
    assert info["cluster_known_nodes"] == "3", info
    assert {v["id"] for v in bh.cluster_nodes(x)} == {bh.myid(n) for n in nodes}

    bh.wait_healthy(nodes, 3, timeout=30)
    # Everyone's view of everyone, including the restarted node, is what it was.
    for n in (nodes[0], nodes[2]):
        now = {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(n)}
        assert now == before_others[bh.myid(n)], f"view of :{n.port} changed across the restart"
    after_x = {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(x)}
    assert after_x == before_others[bh.myid(nodes[0])]
    c = bh.cluster_check(nodes[0])
    assert c.returncode == 0, c.stdout + c.stderr


def test_forget_and_reset_hard(servers):
    a, b, c = bh.start_cluster(servers, 3)
    d = servers.shoal()
    ida, idb, idc = bh.myid(a), bh.myid(b), bh.myid(c)
    idd_old = bh.myid(d)

    # FORGET errors.
    with a.raw() as conn:
        unknown = "0" * 40
        assert conn.call("CLUSTER", "FORGET", unknown) == f"ERR Unknown node {unknown}"
        assert conn.call("CLUSTER", "FORGET", "nosuchnode") == "ERR Unknown node nosuchnode"
        assert conn.call("CLUSTER", "FORGET", ida) == "ERR I tried hard but I can't forget myself..."
        assert conn.raw("CLUSTER", "FORGET", ida) == \
            b"-ERR I tried hard but I can't forget myself...\r\n"

    # FORGET removes the node from this node's table only; gossip about it from the
    # others does not bring it back while it is blacklisted (60 s).
    with a.raw() as conn:
        assert conn.call("CLUSTER", "FORGET", idc) == "OK"
        assert conn.call("CLUSTER", "FORGET", idc) == f"ERR Unknown node {idc}"
    assert idc not in {v["id"] for v in bh.cluster_nodes(a)}
    assert bh.cluster_info(a)["cluster_known_nodes"] == "2"
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        assert idc not in {v["id"] for v in bh.cluster_nodes(a)}, "forgotten node came back"
        time.sleep(0.1)
    for other in (b, c):
        ids = {v["id"] for v in bh.cluster_nodes(other)}
        assert ids == {ida, idb, idc}, f":{other.port} lost a node it was not told to forget"

    # A replica cannot forget its master.
    with d.raw() as conn:
        assert conn.call("CLUSTER", "MEET", "127.0.0.1", str(b.port)) == "OK"
    h.wait_until(lambda: idb in {v["id"] for v in bh.cluster_nodes(d)}
                 and all("handshake" not in v["flags"] for v in bh.cluster_nodes(d)),
                 15, interval=0.1, what="the new node learning b")
    with d.raw() as conn:
        assert conn.call("CLUSTER", "REPLICATE", idb) == "OK"
        assert conn.call("CLUSTER", "FORGET", idb) == "ERR Can't forget my master!"
    me = _myself(d)
    assert "slave" in me["flags"] and me["master"] == idb, me["line"]

    # RESET HARD on a node without slots: new ID, epochs 0, it knows only itself and
    # is a master again.
    # (the cluster's currentEpoch reaches d with the first PING/PONG after the handshake)
    h.wait_until(lambda: int(bh.cluster_info(d)["cluster_current_epoch"]) > 0, 10, interval=0.05,
                 what=f"the new node learning the cluster's currentEpoch: {bh.cluster_info(d)}")
    with d.raw() as conn:
        assert conn.call("CLUSTER", "RESET", "HARD") == "OK"
    idd_new = bh.myid(d)
    assert idd_new != idd_old and len(idd_new) == 40
    view = bh.cluster_nodes(d)
    assert len(view) == 1 and view[0]["id"] == idd_new, view
    assert view[0]["flags"] == ["myself", "master"] and view[0]["master"] == "-", view[0]["line"]
    assert view[0]["config_epoch"] == "0" and view[0]["slots"] == [], view[0]["line"]
    info = bh.cluster_info(d)
    assert info["cluster_current_epoch"] == "0" and info["cluster_my_epoch"] == "0", info
    assert info["cluster_known_nodes"] == "1", info
    assert idd_new in d.nodes_conf.read_text()
    assert "currentEpoch 0 lastVoteEpoch 0" in d.nodes_conf.read_text()

    # RESET: bad option.
    with d.raw() as conn:
        assert conn.call("CLUSTER", "RESET", "MEDIUM") == "ERR syntax error"

    # The test-harness idiom: MULTI, CLUSTER RESET HARD, CLUSTER SET-CONFIG-EPOCH, EXEC,
    # on a node that knows other nodes (the RESET makes the epoch assignable).
    with d.raw() as conn:
        assert conn.call("CLUSTER", "MEET", "127.0.0.1", str(a.port)) == "OK"
    h.wait_until(lambda: bh.cluster_info(d)["cluster_known_nodes"] != "1"
                 and all("handshake" not in v["flags"] for v in bh.cluster_nodes(d)),
                 15, interval=0.1, what="the reset node learning the cluster again")
    with d.raw() as conn:
        assert conn.call("CLUSTER", "SET-CONFIG-EPOCH", "1") == \
            "ERR The user can assign a config epoch only when the node does not know any other node."
        assert conn.call("MULTI") == "OK"
        assert conn.call("CLUSTER", "RESET", "HARD") == "QUEUED"
        assert conn.call("CLUSTER", "SET-CONFIG-EPOCH", "1") == "QUEUED"
        raw, v = conn.req("EXEC")
        assert raw == b"*2\r\n+OK\r\n+OK\r\n", raw
    info = bh.cluster_info(d)
    assert info["cluster_my_epoch"] == "1" and info["cluster_current_epoch"] == "1", info
    assert info["cluster_known_nodes"] == "1", info
    with d.raw() as conn:
        assert conn.call("CLUSTER", "SET-CONFIG-EPOCH", "2") == "ERR Node config epoch is already non-zero"

    # The three original nodes are unaffected by all of this (a still lacks c).
    for n in (b, c):
        assert bh.cluster_info(n)["cluster_state"] == "ok"
