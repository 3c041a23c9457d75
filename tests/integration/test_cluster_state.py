"""Cluster state (ok/fail) as a single node sees it, and the routing errors that
follow from it (docs/clients.md §2.2 steps 2 and 6, §2.5, §6).

Expected bytes are redis-server 7.0.15's. Never weaken an expectation.
"""
import helpers as h

DOWN = b"-CLUSTERDOWN The cluster is down\r\n"
NOT_SERVED = b"-CLUSTERDOWN Hash slot not served\r\n"
READS_ONLY = b"-CLUSTERDOWN The cluster is down and only accepts read commands\r\n"


def test_state_right_after_addslots(node):
    with node.raw() as c:
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
        # during the startup grace redis still says the cluster is down; never "not served"
        first = c.raw("GET", "la2")
        assert first in (DOWN, b"$-1\r\n"), first
        h.wait_until(lambda: c.raw("GET", "la2") == b"$-1\r\n", 6, what="GET to be served")
        assert h.cluster_info(c)["cluster_state"] == "ok"


def test_uncovered_slot_takes_the_cluster_down(node):
    with node.raw() as c:
        h.own_all_slots(node)
        assert c.raw("SET", "la2", "v") == b"+OK\r\n"            # slot 0
        assert c.raw("CLUSTER", "DELSLOTS", "5") == b"+OK\r\n"
        h.wait_until(lambda: h.cluster_info(c)["cluster_state"] == "fail", 5,
                     what="cluster_state:fail after DELSLOTS")
        assert c.raw("GET", "la2") == DOWN
        assert c.raw("GET", "axh") == NOT_SERVED                 # slot 5 itself
        assert c.raw("PING") == b"+PONG\r\n"
        assert c.raw("DBSIZE") == b":1\r\n"

        assert c.raw("CONFIG", "SET", "cluster-allow-reads-when-down", "yes") == b"+OK\r\n"
        assert c.raw("GET", "la2") == b"$1\r\nv\r\n"
        assert c.raw("SET", "la2", "1") == READS_ONLY
        assert c.raw("INCR", "emj") == READS_ONLY
        assert c.raw("TTL", "la2") == b":-1\r\n"

        assert c.raw("CONFIG", "SET", "cluster-require-full-coverage", "no") == b"+OK\r\n"
        h.wait_until(lambda: h.cluster_info(c)["cluster_state"] == "ok", 5,
                     what="cluster_state:ok without full coverage")
        assert c.raw("SET", "la2", "1") == b"+OK\r\n"
        assert c.raw("GET", "axh") == NOT_SERVED
        info = h.cluster_info(c)
        assert info["cluster_slots_assigned"] == "16383"
        assert info["cluster_slots_ok"] == "16383"

        assert c.raw("CLUSTER", "ADDSLOTS", "5") == b"+OK\r\n"
        assert c.raw("CONFIG", "SET", "cluster-require-full-coverage", "yes") == b"+OK\r\n"
        h.wait_until(lambda: h.cluster_info(c)["cluster_state"] == "ok", 5, what="state ok")
        assert c.raw("SET", "axh", "1") == b"+OK\r\n"


def test_multi_on_node_without_slots(node, ref):
    seq = [("MULTI",), ("SET", "a", "1"), ("PING",), ("EXEC",), ("MULTI",), ("PING",),
           ("ECHO", "x"), ("EXEC",), ("MULTI",), ("CLUSTER", "KEYSLOT", "a"), ("EXEC",)]
    with node.raw() as c, ref.raw() as r:
        for args in seq:
            e, g = r.raw(*args), c.raw(*args)
            assert g == e, f"{args}: redis {e!r}, shoal {g!r}"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("GET", "x") == NOT_SERVED
        assert c.raw("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
