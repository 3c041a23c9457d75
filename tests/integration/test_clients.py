"""Real cluster clients against one node that owns every slot.

redis-py's RedisCluster (INFO, CLUSTER SLOTS, COMMAND, COMMAND GETKEYS) and
redis-cli -c / --cluster check must work unchanged (docs/clients.md §4.10,
§4.12, §4.3). Must never talk to a node it did not start.
"""
import redis
from redis.cluster import RedisCluster

import helpers as h


def _cluster(server):
    return RedisCluster(host="127.0.0.1", port=server.port, socket_timeout=10)


def test_redis_py_cluster_set_get_1000_keys(snode):
    rc = _cluster(snode)
    try:
        keys = [f"key:{i}" for i in range(1000)]
        for i, k in enumerate(keys):
            assert rc.set(k, f"value-{i}") is True
        for i, k in enumerate(keys):
            assert rc.get(k) == f"value-{i}".encode()
        assert rc.dbsize() == 1000
        # mget within one slot thanks to a hash tag
        tagged = [f"{{user42}}:field{i}" for i in range(20)]
        rc.mset_nonatomic({k: str(i) for i, k in enumerate(tagged)})
        assert rc.mget(tagged) == [str(i).encode() for i in range(20)]
        assert rc.mget(tagged[:3] + ["{user42}:missing"]) == [b"0", b"1", b"2", None]
        assert rc.exists(*tagged[:5]) == 5
        assert rc.delete(*tagged) == 20
        assert rc.mget(tagged[:2]) == [None, None]
        for k in keys[:500]:
            assert rc.delete(k) == 1
        assert rc.get(keys[0]) is None
        assert rc.get(keys[999]) == b"value-999"
        assert rc.dbsize() == 500
    finally:
        rc.close()


def test_redis_py_cluster_topology(snode):
    rc = _cluster(snode)
    try:
        nodes = rc.get_nodes()
        assert len(nodes) == 1
        assert nodes[0].port == snode.port
        assert rc.get_node_from_key("foo").port == snode.port
        assert rc.keyslot("foo") == 12182
        assert rc.cluster_keyslot("foo") == 12182
        info = rc.cluster_info()
        assert info["cluster_state"] == "ok"
        assert rc.ping() is True
        # INCR/EXPIRE/TTL routed via COMMAND key positions
        assert rc.incr("counter") == 1
        assert rc.incrby("counter", 9) == 10
        assert rc.expire("counter", 100) is True
        assert 0 < rc.ttl("counter") <= 100
    finally:
        rc.close()


def test_redis_py_cluster_pipeline(snode):
    rc = _cluster(snode)
    try:
        pipe = rc.pipeline()
        for i in range(100):
            pipe.set(f"p:{i}", i)
        assert pipe.execute() == [True] * 100
        pipe = rc.pipeline()
        for i in range(100):
            pipe.get(f"p:{i}")
        assert pipe.execute() == [str(i).encode() for i in range(100)]
    finally:
        rc.close()


def test_plain_client_gets_crossslot_error(snode):
    r = snode.client()
    try:
        try:
            r.mset({"a": 1, "b": 2})
            raise AssertionError("MSET across slots must fail")
        except redis.exceptions.ResponseError as e:
            assert str(e) == "CROSSSLOT Keys in request don't hash to the same slot"
    finally:
        r.close()
    with snode.raw() as c:
        assert c.raw("MGET", "a", "b") == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        assert c.raw("DBSIZE") == b":0\r\n"


def test_redis_cli_cluster_mode_set_get(snode):
    r = snode.cli("-c", "set", "foo", "bar")
    assert r.returncode == 0 and r.stdout.strip() == "OK", (r.stdout, r.stderr)
    r = snode.cli("-c", "get", "foo")
    assert r.returncode == 0 and r.stdout.strip() == "bar", (r.stdout, r.stderr)
    r = snode.cli("-c", "get", "nosuchkey")
    assert r.returncode == 0 and r.stdout.strip() == "", (r.stdout, r.stderr)
    r = snode.cli("-c", "cluster", "keyslot", "foo")
    assert r.stdout.strip() == "12182"
    r = snode.cli("-c", "dbsize")
    assert r.stdout.strip() == "1"


def test_redis_cli_cluster_check(snode):
    r = snode.cli("--cluster", "check", f"127.0.0.1:{snode.port}", timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "[OK] All nodes agree about slots configuration." in out, out
    assert "[OK] All 16384 slots covered." in out, out


def test_plain_redis_py_client_basic(snode):
    r = snode.client()
    try:
        assert r.ping() is True
        assert r.set("hello", "world") is True
        assert r.get("hello") == b"world"
        assert r.info("cluster") == {"cluster_enabled": 1}
        assert r.dbsize() == 1
    finally:
        r.close()


def test_hash_slot_not_served_reaches_redis_py(node):
    r = node.client()
    try:
        try:
            r.get("foo")
            raise AssertionError("GET on a node without slots must fail")
        except redis.exceptions.ClusterDownError as e:
            assert "Hash slot not served" in str(e)
        except redis.exceptions.ResponseError as e:  # older mapping
            assert "Hash slot not served" in str(e)
    finally:
        r.close()
    with node.raw() as c:
        assert c.raw("PING") == b"+PONG\r\n"
        assert h.cluster_info(c)["cluster_state"] == "fail"
