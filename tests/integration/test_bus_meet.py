"""CLUSTER MEET and the handshake as seen from the client side.

What it is for: the MEET argument errors, the HANDSHAKE record a MEET creates (how
CLUSTER NODES prints it, that it is counted but never saved, that a second MEET to
the same address does not add another one, that it is deleted after the handshake
timeout), and the 3-argument MEET towards a node whose bus port is not port+10000,
including `redis-cli --cluster create` with such a first node. Expected behaviour is
redis-server 7.0.15's (docs/clients.md §3.10, docs/cluster-bus.md §5.3, §5.19).

What it must never do: weaken an expectation to match our node.
"""
import re

import helpers as h
import bushelpers as bh


def test_meet_errors_and_handshake_record(servers):
    node = servers.shoal(extra_args=["--cluster-node-timeout", "1000"])
    nowhere = h.free_port()     # nothing listens on it or on +10000
    with node.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", "abc") == "ERR Invalid TCP base port specified: abc"
        assert c.call("CLUSTER", "MEET", "127.0.0.1", "1", "abc") == "ERR Invalid TCP bus port specified: abc"
        assert c.call("CLUSTER", "MEET", "localhost", str(nowhere)) == \
            f"ERR Invalid node address specified: localhost:{nowhere}"
        assert c.call("CLUSTER", "MEET", "127.0.0.1", "0") == "ERR Invalid node address specified: 127.0.0.1:0"
        assert c.call("CLUSTER", "MEET", "127.0.0.1", "70000") == \
            "ERR Invalid node address specified: 127.0.0.1:70000"
        assert bh.cluster_info(node)["cluster_known_nodes"] == "1"

        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(nowhere)) == "OK"
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(nowhere)) == "OK"
    view = bh.cluster_nodes(node)
    hs = [v for v in view if "myself" not in v["flags"]]
    assert len(hs) == 1, view
    assert re.fullmatch(r"[0-9a-f]{40} 127\.0\.0\.1:%d@%d handshake - \d+ 0 0 disconnected"
                        % (nowhere, nowhere + 10000), hs[0]["line"]), hs[0]["line"]
    assert bh.cluster_info(node)["cluster_known_nodes"] == "2"
    assert hs[0]["id"] not in node.nodes_conf.read_text(), "a handshake record was saved"
    # Deleted after max(node_timeout, 1000) ms.
    h.wait_until(lambda: bh.cluster_info(node)["cluster_known_nodes"] == "1", 6, interval=0.1,
                 what="the handshake record timing out")
    assert len(bh.cluster_nodes(node)) == 1
    # 7.0.15 prints ping-sent 0 for it: a refused connect fails asynchronously, and
    # only a synchronous connect failure sets ping_sent (docs/cluster-bus.md §1.5).
    assert hs[0]["ping_sent"] == "0", hs[0]["line"]


def test_meet_with_explicit_bus_port(servers):
    cport = h.free_port() + 10000
    a = servers.shoal(extra_args=["--cluster-port", str(cport)])
    b = servers.shoal()
    me = next(v for v in bh.cluster_nodes(a) if "myself" in v["flags"])
    assert me["addr"] == f":{a.port}@{cport}", me["line"]
    with b.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(a.port), str(cport)) == "OK"
    ida, idb = bh.myid(a), bh.myid(b)

    def joined():
        va = {v["id"]: v for v in bh.cluster_nodes(a)}
        vb = {v["id"]: v for v in bh.cluster_nodes(b)}
        return (set(va) == {ida, idb} == set(vb)
                and vb[ida]["addr"] == f"127.0.0.1:{a.port}@{cport}"
                and va[idb]["addr"] == f"127.0.0.1:{b.port}@{b.port + 10000}"
                and va[idb]["link"] == vb[ida]["link"] == "connected"
                and not any("handshake" in v["flags"] for v in list(va.values()) + list(vb.values())))
    h.wait_until(joined, 10, interval=0.1, what="the two nodes knowing each other")


def test_create_with_first_node_on_custom_bus_port(servers):
    """redis-cli sends the 3-argument MEET when the first node's bus port is not
    port+10000 (docs/clients.md §4.2 step 5)."""
    cport = h.free_port() + 10000
    first = servers.shoal(extra_args=["--cluster-port", str(cport)])
    nodes = [first, servers.shoal(), servers.shoal()]
    r = bh.create_cluster(nodes, replicas=0)
    assert r.returncode == 0, f"create exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    bh.wait_healthy(nodes, 3, timeout=30)
    idf = bh.myid(first)
    for n in nodes:
        v = next(x for x in bh.cluster_nodes(n) if x["id"] == idf)
        assert v["addr"] == f"127.0.0.1:{first.port}@{cport}", v["line"]
