"""The cluster bus over TLS (tls-cluster yes) with redis-server 7.0.15 in the same
cluster: a mixed 3+3 cluster made by `redis-cli --tls --cluster create`, its
replication over TLS, a manual failover of every replica, the ports CLUSTER SLOTS / SHARDS / NODES and MOVED give
plain-text and TLS clients (7.0.15's use of the plain port `pport`), the
announced ports with cluster-announce-tls-port; and mutual authentication: a peer
whose certificate is not from the cluster's CA never joins, either way, and its
refusals are logged once per address.
"""
import subprocess
import time

import pytest

import helpers as h
import tlshelpers as t


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def cluster_node(servers, kind, pki, cert="server", ca="ca", extra=()):
    tp = h.free_port()
    args = ["--tls-port", str(tp), "--tls-cluster", "yes", "--tls-replication", "yes",
            "--tls-cert-file", str(pki / f"{cert}.crt"), "--tls-key-file", str(pki / f"{cert}.key"),
            "--tls-ca-cert-file", str(pki / f"{ca}.crt"), *extra]
    mk = servers.shoal if kind == "shoal" else servers.redis
    srv = mk(extra_args=args)
    srv.tls_port = tp
    return srv


def tls_cli(srv, pki, *args, timeout=60):
    return subprocess.run([h.REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.tls_port), *t.cli_args(pki), *args],
                          capture_output=True, text=True, timeout=timeout)


def tls_call(srv, pki, *args):
    with t.tls_socket(srv.tls_port, pki) as s:
        return t.call(s, *args)


def full_mesh(nodes):
    """Every node lists all of them (itself included), every bus link connected."""
    for n in nodes:
        with n.raw() as c:
            rows = h.parse_nodes(c.call("CLUSTER", "NODES"))
        if len(rows) != len(nodes) or any(r["link"] != "connected" for r in rows):
            return False
    return True


def records(n):
    """(records carried by shoal's own TLS record layer, by OpenSSL's) on shoal node n."""
    with n.raw() as c:
        d = h.info_dict(c.call("INFO", "busdigest"))
    return int(d["tls_records_ours"]), int(d["tls_records_openssl"])


def shards_ports(srv):
    """{node id: (port, tls-port)} from CLUSTER SHARDS on the plain port."""
    with srv.raw() as c:
        shards = c.call("CLUSTER", "SHARDS")
    out = {}
    for sh in shards:
        d = dict(zip(sh[::2], sh[1::2]))
        for n in d[b"nodes"]:
            nd = dict(zip(n[::2], n[1::2]))
            out[nd[b"id"].decode()] = (nd.get(b"port"), nd.get(b"tls-port"))
    return out


def test_mixed_cluster_over_tls(servers, pki):
    nodes = [cluster_node(servers, k, pki) for k in ("shoal", "shoal", "shoal", "redis", "redis", "redis")]
    addrs = [f"127.0.0.1:{n.tls_port}" for n in nodes]
    r = tls_cli(nodes[0], pki, "--cluster", "create", *addrs, "--cluster-replicas", "1", "--cluster-yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[OK] All 16384 slots covered." in r.stdout
    for n in nodes:
        h.wait_cluster_ok(n, 30)
    ids = {}
    for n in nodes:
        with n.raw() as c:
            ids[n.port] = c.call("CLUSTER", "MYID").decode()
    # every node knows every other as connected, over TLS links both ways
    h.wait_until(lambda: full_mesh(nodes), 30, what="a full mesh of TLS bus links")
    # every bus link of a shoal node, to and from shoal and redis-server peers alike,
    # carries its records with shoal's TLS 1.3 record layer (runtime/tls_rec.c); the
    # rest of this test (gossip, failovers) runs over them
    # (waited for: a peer sees its outbound link connected once its side of the handshake
    # is done, a moment before this node has read the peer's Finished)
    for n in nodes[:3]:
        h.wait_until(lambda n=n: records(n)[0] >= 10, 20, what="shoal's record layer on every link")
        assert records(n)[1] == 0, records(n)
    # the announced ports, as every node sees them (shoal and redis-server alike)
    expect = {ids[n.port]: (n.port, n.tls_port) for n in nodes}
    for n in nodes:
        # a node first heard of in gossip has no plaintext port until its own PING
        # arrives (7.0.15 takes pport from a sender's header only): wait for it
        h.wait_until(lambda n=n: shards_ports(n) == expect, 15,
                     what=f"{n.kind} :{n.port} showing every node's ports")
        with n.raw() as c:
            plain = {row["id"]: int(row["addr"].split("@")[0].split(":")[1])
                     for row in h.parse_nodes(c.call("CLUSTER", "NODES"))}
        assert plain == {i: p for i, (p, _) in expect.items()}, n.kind
        tls_text = tls_call(n, pki, "CLUSTER", "NODES")
        assert all(f":{tp}@" in tls_text.decode() for _, tp in expect.values()), n.kind
    # MOVED: plain port to a plain client, TLS port to a TLS client (same on both kinds)
    for n in nodes[:1] + nodes[3:4]:
        with n.raw() as c:
            moved = [c.call("GET", f"k{i}") for i in range(20)]
        moved = [m for m in moved if isinstance(m, h.Error) and m.startswith("MOVED")]
        assert moved and all(int(m.rsplit(":", 1)[1]) in [p for p, _ in expect.values()] for m in moved), moved
        tmoved = [tls_call(n, pki, "GET", f"k{i}") for i in range(20)]
        tmoved = [m for m in tmoved if m.startswith(b"-MOVED")]
        assert tmoved and all(int(m.strip().rsplit(b":", 1)[1]) in [tp for _, tp in expect.values()]
                              for m in tmoved), tmoved
    # redis-cli -c over TLS and in plain text, across every master
    for i in range(30):
        assert tls_cli(nodes[i % 6], pki, "-c", "SET", f"key:{i}", f"v{i}").stdout.strip() == "OK"
    for i in range(30):
        assert nodes[(i + 1) % 6].cli("-c", "GET", f"key:{i}").stdout.strip() == f"v{i}"
    # the writes reach every replica over TLS replication
    def replicas_have_all():
        total = 0
        for n in nodes:
            with n.raw() as c:
                info = h.info_dict(c.call("INFO", "replication"))
                if info["role"] == "slave":
                    if info.get("master_link_status") != "up":
                        return False
                    total += c.call("DBSIZE")
        return total == 30
    h.wait_until(replicas_have_all, 30, what="the keys on the replicas")
    r = tls_cli(nodes[2], pki, "--cluster", "check", f"127.0.0.1:{nodes[2].tls_port}")
    assert "[OK] All 16384 slots covered." in r.stdout, r.stdout + r.stderr
    # a manual failover of every replica (shoal and redis-server alike), over the TLS bus
    # and TLS replication; the keys stay readable through the new masters
    replicas = []
    for n in nodes:
        with n.raw() as c:
            if h.info_dict(c.call("INFO", "replication"))["role"] == "slave":
                replicas.append(n)
    by_id = {ids[n.port]: n for n in nodes}
    for n in replicas:
        # Every node must list this replica as its master's first: its master, else 7.0.15
        # drops MFSTART too, and the voters, else a 7.0.15 master answers the vote request
        # "it is a master node". A node learns another's role only from that node's own
        # PING or PONG, and at node timeout 5 s two nodes may not exchange one for 2.5 s
        # after the REPLICATE of `--cluster create` (a run failed so, 2.2 s after it).
        with n.raw() as c:
            master_id = next(r["master"] for r in h.parse_nodes(c.call("CLUSTER", "NODES")) if "myself" in r["flags"])
        def known(n=n, master_id=master_id):
            for m in nodes:
                with m.raw() as c:
                    if not any(r["id"] == ids[n.port] and r["master"] == master_id and "slave" in r["flags"]
                               for r in h.parse_nodes(c.call("CLUSTER", "NODES"))):
                        return False
            return True
        h.wait_until(known, 20, what="every node knows the replica as its master's")
        with n.raw() as c:
            assert c.call("CLUSTER", "FAILOVER") == "OK"
        def promoted():
            with n.raw() as c:
                return h.info_dict(c.call("INFO", "replication"))["role"] == "master"
        h.wait_until(promoted, 30, what=f"{n.kind} :{n.port} promoted")
        # one at a time: every node sees the new master before the next election starts
        def everyone_sees(n=n):
            for m in nodes:
                with m.raw() as c:
                    rows = h.parse_nodes(c.call("CLUSTER", "NODES"))
                if not any(r["id"] == ids[n.port] and "master" in r["flags"] for r in rows):
                    return False
            return True
        h.wait_until(everyone_sees, 20, what="the promotion known everywhere")
    for n in nodes:
        h.wait_cluster_ok(n, 30)
    # (a node may still flap to fail for a moment while the last promotion spreads)
    for i in range(30):
        h.wait_until(lambda i=i: tls_cli(nodes[i % 6], pki, "-c", "GET", f"key:{i}").stdout.strip() == f"v{i}",
                     10, what=f"key:{i} through the new masters")


def test_announced_tls_port(servers, pki):
    """cluster-announce-tls-port and cluster-announce-port with tls-cluster yes, as 7.0.15."""
    res = {}
    for kind in ("shoal", "redis"):
        n = cluster_node(servers, kind, pki, extra=("--cluster-announce-tls-port", "7001",
                                                    "--cluster-announce-port", "6001"))
        with n.raw() as c:
            assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK"
            h.wait_cluster_ok(n)
            slots_plain = c.call("CLUSTER", "SLOTS")[0][2][1]
            nodes_plain = h.parse_nodes(c.call("CLUSTER", "NODES"))[0]["addr"].split("@")[0]
        slots_tls = tls_call(n, pki, "CLUSTER", "SLOTS")
        res[kind] = (list(shards_ports(n).values()), slots_plain, nodes_plain, b":7001" in slots_tls or b"7001" in slots_tls)
    assert res["shoal"] == res["redis"]
    assert res["shoal"][0] == [(6001, 7001)] and res["shoal"][1] == 6001


@pytest.mark.parametrize("intruder_kind", ["shoal", "redis"])
def test_peer_from_another_ca_never_joins(servers, pki, intruder_kind):
    member = cluster_node(servers, "shoal", pki)
    # the intruder trusts our CA but holds a certificate from the other one
    intruder = cluster_node(servers, intruder_kind, pki, cert="other")
    with intruder.raw() as c:                    # it knocks on our bus, again and again
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(member.tls_port)) == "OK"
    time.sleep(2.5)
    assert member.output().count("Connection from cluster node 127.0.0.1 over TLS refused") == 1, \
        member.output()[-3000:]
    with member.raw() as c:                      # and we knock on its bus
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(intruder.tls_port)) == "OK"
    time.sleep(2.5)
    for srv in (member, intruder):
        with srv.raw() as c:
            rows = h.parse_nodes(c.call("CLUSTER", "NODES"))
        assert [r for r in rows if "handshake" not in r["flags"]] == [r for r in rows if "myself" in r["flags"]], \
            (srv.kind, rows)
    # one line for the address, however many attempts (rate-limited per peer address)
    assert member.output().count("cluster node 127.0.0.1 over TLS refused") == 1, member.output()[-3000:]


def test_member_without_client_auth_requirement(servers, pki):
    """tls-auth-clients no: a peer with no trusted certificate may connect to our bus,
    but our own outgoing links still verify its certificate."""
    a = cluster_node(servers, "shoal", pki, extra=("--tls-auth-clients", "no"))
    b = cluster_node(servers, "shoal", pki, extra=("--tls-auth-clients", "no"))
    with a.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(b.tls_port)) == "OK"
    def met():
        with b.raw() as c:
            return len([r for r in h.parse_nodes(c.call("CLUSTER", "NODES")) if r["link"] == "connected"]) == 2
    h.wait_until(met, 10, what="the two nodes meeting over TLS")


def test_meet_sent_again_after_refused_handshake(servers, pki):
    """A MEET whose TLS handshake was refused (the peer's certificate is from another CA)
    is not spent: the node meant to meet keeps its MEET flag until a link's handshake
    succeeds, so once the peer has a right certificate the next link carries MEET and
    the peer learns of us (a PING from an unknown node would not teach it)."""
    res = {}
    for kind in ("shoal", "redis"):
        a = cluster_node(servers, kind, pki, extra=("--cluster-node-timeout", "15000"))
        b = cluster_node(servers, kind, pki, cert="other", extra=("--cluster-node-timeout", "15000"))
        with a.raw() as c:
            a_id = c.call("CLUSTER", "MYID").decode()
            c.call("CLUSTER", "MEET", "127.0.0.1", str(b.tls_port))
        time.sleep(1.5)   # several links, each refused by a (our CA does not know b's certificate)
        with b.raw() as c:
            assert c.call("CONFIG", "SET", "tls-cert-file", str(pki / "server.crt"),
                          "tls-key-file", str(pki / "server.key")) == "OK"

        def b_knows_a():
            with b.raw() as c:
                return any(r["id"] == a_id for r in h.parse_nodes(c.call("CLUSTER", "NODES")))
        deadline = time.time() + 8
        while time.time() < deadline and not b_knows_a():
            time.sleep(0.2)
        res[kind] = b_knows_a()
    assert res == {"shoal": True, "redis": True}, res


def test_bus_links_keep_openssls_records_over_tls12(servers, pki):
    """Shoal's record layer carries TLS 1.3 sessions only: a bus link that negotiated
    TLS 1.2 (a redis-server peer with tls-protocols TLSv1.2) stays on OpenSSL's layer,
    both ways, and the two nodes gossip over it."""
    a = cluster_node(servers, "shoal", pki)
    b = cluster_node(servers, "redis", pki, extra=("--tls-protocols", "TLSv1.2"))
    with a.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(b.tls_port)) == "OK"

    h.wait_until(lambda: full_mesh((a, b)), 30, what="a shoal node and a TLS 1.2 redis-server linked both ways")
    h.wait_until(lambda: records(a)[1] >= 2, 20, what="both links on OpenSSL's records")
    assert records(a)[0] == 0, records(a)
