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


def cli_lines(srv, pki, commands):
    """Runs commands (one per line) through one `redis-cli --tls -c`; its output lines
    without the "-> Redirected to slot ..." notes."""
    r = subprocess.run([h.REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.tls_port), *t.cli_args(pki), "-c"],
                       input="".join(c + "\n" for c in commands), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if not line.startswith("-> Redirected")]


def keys_in(lo, hi, n):
    """n key names whose slots are in [lo, hi]."""
    out, i = [], 0
    while len(out) < n:
        k = f"key:{lo}:{i}"
        i += 1
        if lo <= h.key_slot(k) <= hi:
            out.append(k)
    return out


def fill(nodes, pki, keys):
    assert cli_lines(nodes[0], pki, [f"SET {k} v-{k}" for k in keys]) == ["OK"] * len(keys)


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


def check(nodes, pki, keys):
    r = tls_cli(nodes[0], pki, "--cluster", "check", f"127.0.0.1:{nodes[0].tls_port}")
    assert "[OK] All 16384 slots covered." in r.stdout and "[ERR]" not in r.stdout, r.stdout + r.stderr
    assert cli_lines(nodes[1], pki, [f"GET {k}" for k in keys]) == [f"v-{k}" for k in keys]
    assert count_keys(nodes) == len(keys)


def holds(node, keys):
    """How many of keys node keeps."""
    with node.raw() as c:
        return sum(c.call("CLUSTER", "COUNTKEYSINSLOT", str(s)) for s in {h.key_slot(k) for k in keys})


# redis-cli --cluster reshard moves the first slots of the source: keys in those slots
# are the ones MIGRATE must carry over TLS.
def test_reshard_shoal_tls_cluster(servers, pki):
    nodes = make_cluster(servers, pki, ("shoal", "shoal", "shoal"))   # 0-5460, 5461-10922, 10923-16383
    first, third, other = keys_in(0, 299, 60), keys_in(10923, 11122, 60), keys_in(5461, 10922, 30)
    fill(nodes, pki, first + third + other)
    reshard(nodes, pki, nodes[0], nodes[1], 300)
    reshard(nodes, pki, nodes[2], nodes[0], 200)
    check(nodes, pki, first + third + other)
    assert holds(nodes[1], first) == len(first) and holds(nodes[0], third) == len(third)


def test_reshard_mixed_tls_cluster(servers, pki):
    """From shoal to redis-server and back, MIGRATE over TLS both ways."""
    nodes = make_cluster(servers, pki, ("shoal", "redis", "shoal", "redis"))   # 4 ranges of 4096
    first, last = keys_in(0, 299, 60), keys_in(12288, 12587, 60)
    fill(nodes, pki, first + last)
    reshard(nodes, pki, nodes[0], nodes[1], 300)     # shoal -> redis-server
    reshard(nodes, pki, nodes[3], nodes[2], 300)     # redis-server -> shoal
    check(nodes, pki, first + last)
    assert holds(nodes[1], first) == len(first) and holds(nodes[2], last) == len(last)


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
    keys = keys_in(0, 999, 100) + keys_in(1000, 16383, 50)
    fill(nodes, pki, keys)
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
    check(nodes, pki, keys)
    assert holds(dst, keys[:100]) == 100
