"""Failure detection on the bus (docs/cluster-bus.md §5.10-§5.12): a killed master goes
PFAIL then FAIL on every survivor, the cluster goes down while its slots are
unserved, and when it comes back the FAIL flag clears and the cluster is ok."""
import signal
import time

import bushelpers as bh
import helpers as h


def _flags_of(server, node_id):
    """The node's flags in server's CLUSTER NODES, as a list ([] if unknown)."""
    for v in bh.cluster_nodes(server):
        if v["id"] == node_id:
            f = v["flags"]
            return f if isinstance(f, list) else f.split(",")
    return []


def test_killed_master_goes_fail_and_recovers(servers):
    nodes = bh.start_cluster(servers, 3, node_timeout=1000)
    victim, survivors = nodes[2], nodes[:2]
    vid = bh.myid(victim)
    t0 = time.monotonic()
    victim.signal(signal.SIGKILL)
    victim.wait_exit(5)
    for s in survivors:
        h.wait_until(lambda s=s: "fail" in _flags_of(s, vid), 10, interval=0.05,
                     what="FAIL flag on a survivor")
    took = time.monotonic() - t0
    assert took < 8, took
    for s in survivors:
        assert bh.cluster_info(s)["cluster_state"] == "fail"
    # back from its nodes.conf: FAIL clears (after 2 x node_timeout for a master with slots)
    victim.start()
    for s in survivors:
        h.wait_until(lambda s=s: _flags_of(s, vid)
                     and "fail" not in _flags_of(s, vid) and "fail?" not in _flags_of(s, vid), 15, interval=0.1,
                     what="FAIL cleared after the restart")
    bh.wait_healthy(nodes, 3, timeout=20)


def test_stopped_master_goes_pfail_then_fail_then_clears(servers):
    nodes = bh.start_cluster(servers, 3, node_timeout=1000)
    victim = nodes[1]
    vid = bh.myid(victim)
    victim.signal(signal.SIGSTOP)
    try:
        h.wait_until(lambda: "fail" in _flags_of(nodes[0], vid), 10, interval=0.05,
                     what="FAIL of the stopped master")
    finally:
        victim.signal(signal.SIGCONT)
    bh.wait_healthy(nodes, 3, timeout=20)
