"""Moving slots in a cluster whose bus is TLS (tls-cluster yes): MIGRATE speaks TLS to
the target's TLS port as 7.0.15's migrateGetSocket does, so `redis-cli --tls --cluster
reshard` works in a cluster of shoal nodes and in a mixed shoal/redis-server one; MIGRATE
inside MULTI (the blocking way) too; and CLUSTER MIGRATESLOTS lanes between shoal masters.
"""
import subprocess

import pytest

import helpers as h
import tlshelpers as t
from test_tls_cluster import cluster_node, tls_call, tls_cli


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def make_cluster(servers, pki, kinds):
    nodes = [cluster_node(servers, k, pki) for k in kinds]
    addrs = [f"127.0.0.1:{n.tls_port}" for n in nodes]
    r = tls_cli(nodes[0], pki, "--cluster", "create", *addrs, "--cluster-yes")
    assert r.returncode == 0, r.stdout + r.stderr
    for n in nodes:
        h.wait_cluster_ok(n, 30)
    for n in nodes:
        with n.raw() as c:
            n.myid = c.call("CLUSTER", "MYID").decode()
    return nodes


def fill(nodes, pki, n):
    for i in range(n):
        assert tls_cli(nodes[i % len(nodes)], pki, "-c", "SET", f"key:{i}", f"v{i}").stdout.strip() == "OK"


def slots_of(node):
    with node.raw() as c:
        rows = h.parse_nodes(c.call("CLUSTER", "NODES"))
    me = next(r for r in rows if "myself" in r["flags"])
    return me


def reshard(nodes, pki, src, dst, count):
    r = tls_cli(nodes[0], pki, "--cluster", "reshard", f"127.0.0.1:{nodes[0].tls_port}",
                "--cluster-from", src.myid, "--cluster-to", dst.myid, "--cluster-slots", str(count),
                "--cluster-yes", timeout=120)
    assert r.returncode == 0 and "ERR" not in r.stdout and "IOERR" not in r.stdout, r.stdout[-2000:] + r.stderr
    return r


def count_keys(nodes):
    total = 0
    for n in nodes:
        with n.raw() as c:
            total += c.call("DBSIZE")
    return total


def check(nodes, pki, n):
    r = tls_cli(nodes[0], pki, "--cluster", "check", f"127.0.0.1:{nodes[0].tls_port}")
    assert "[OK] All 16384 slots covered." in r.stdout and "[ERR]" not in r.stdout, r.stdout + r.stderr
    for i in range(n):
        assert tls_cli(nodes[(i + 1) % len(nodes)], pki, "-c", "GET", f"key:{i}").stdout.strip() == f"v{i}"
    assert count_keys(nodes) == n


def test_reshard_shoal_tls_cluster(servers, pki):
    nodes = make_cluster(servers, pki, ("shoal", "shoal", "shoal"))
    fill(nodes, pki, 300)
    reshard(nodes, pki, nodes[0], nodes[1], 2000)
    reshard(nodes, pki, nodes[2], nodes[0], 1000)
    check(nodes, pki, 300)
    # the keys moved: the source of the first reshard holds fewer slots' keys
    with nodes[1].raw() as c:
        assert c.call("CLUSTER", "COUNTKEYSINSLOT", str(h.key_slot("key:0"))) in (0, 1)


def test_reshard_mixed_tls_cluster(servers, pki):
    """From shoal to redis-server and back, MIGRATE over TLS both ways."""
    nodes = make_cluster(servers, pki, ("shoal", "redis", "shoal", "redis"))
    fill(nodes, pki, 300)
    reshard(nodes, pki, nodes[0], nodes[1], 1500)     # shoal -> redis-server
    reshard(nodes, pki, nodes[3], nodes[2], 1500)     # redis-server -> shoal
    check(nodes, pki, 300)


def test_migrate_in_multi_over_tls(servers, pki):
    """Inside MULTI the call waits on the target (blocking TLS handshake and I/O)."""
    nodes = make_cluster(servers, pki, ("shoal", "shoal", "redis"))
    src = nodes[0]
    key = next(f"m:{i}" for i in range(100000) if h.key_slot(f"m:{i}") <= 100)
    slot = h.key_slot(key)
    assert tls_call(src, pki, "SET", key, "x") == b"+OK\r\n"
    for dst in nodes[1:]:
        with dst.raw() as c:
            assert c.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", src.myid) == "OK"
        with src.raw() as c:
            assert c.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", dst.myid) == "OK"
            c.call("MULTI")
            c.call("MIGRATE", "127.0.0.1", str(dst.tls_port), key, "0", "5000", "COPY")
            assert c.call("EXEC") == ["OK"], dst.kind
            c.call("MIGRATE", "127.0.0.1", str(dst.tls_port), key, "0", "5000", "COPY", "REPLACE")
        with dst.raw() as c:
            c.call("ASKING")
            assert c.call("GET", key) == b"x", dst.kind
            assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
        with src.raw() as c:
            assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
            c.call("MULTI")
            c.call("MIGRATE", "127.0.0.1", str(dst.tls_port), key, "0", "5000", "COPY")
            # the slot is the source's again: the target's MOVED, read over TLS, names
            # the TLS port (the port a TLS client is told)
            assert c.call("EXEC")[0] == h.Error("ERR Target instance replied with error: "
                                                f"MOVED {slot} 127.0.0.1:{src.tls_port}"), dst.kind


def test_migrateslots_over_tls(servers, pki):
    nodes = make_cluster(servers, pki, ("shoal", "shoal", "shoal"))
    fill(nodes, pki, 300)
    src, dst = nodes[0], nodes[1]
    with src.raw() as c:
        assert c.call("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "999", "NODE", dst.myid) == "OK"

    def done():
        with src.raw() as c:
            jobs = c.call("CLUSTER", "GETSLOTMIGRATIONS")
        d = dict(zip(jobs[0][::2], jobs[0][1::2]))
        return d[b"state"] in (b"success", b"failed") and d
    job = h.wait_until(done, 60, what="the migration over TLS")
    assert job[b"state"] == b"success", job
    h.wait_until(lambda: all(slots_of(n) for n in nodes), 10)
    with dst.raw() as c:
        owner = [s for s in c.call("CLUSTER", "SLOTS") if s[0] <= 500 <= s[1]][0]
    assert owner[2][1] == dst.port
    check(nodes, pki, 300)
