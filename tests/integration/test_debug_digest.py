"""DEBUG DIGEST gives 7.0.15's 40 hex digits for the same data.

What it is for: Redis's test suites (its cluster suite's 22-replica-in-sync compares a
replica's DEBUG DIGEST; its other suites compare master and replica digests). The same
string keys, with and without TTLs, spread over shoal's three workers, digest to exactly
what redis-server answers; an empty dataset is forty zeros; a master and its replica agree.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import helpers as h
import bushelpers as bh

DEBUG = ["--enable-debug-command", "yes"]


def _load(c):
    for i in range(300):
        assert c.call("SET", f"k{i}", f"value-{i}" * (i % 7)) == "OK"
    assert c.call("SET", "n", "12345") == "OK"            # an integer-looking value
    assert c.call("SET", "t", "v", "EX", "1000") == "OK"   # with a TTL
    assert c.call("SET", "", "empty key") == "OK"


def test_debug_digest_as_redis(servers):
    got = {}
    for srv in (servers.shoal(extra_args=DEBUG + ["--worker-threads", "3"]), servers.redis(extra_args=DEBUG)):
        h.own_all_slots(srv)
        with srv.raw() as c:
            empty = c.raw("DEBUG", "DIGEST")
            _load(c)
            full = c.raw("DEBUG", "DIGEST")
            assert c.call("DEL", "k7") == 1
            less = c.raw("DEBUG", "DIGEST")
            assert c.call("PERSIST", "t") == 1
            persisted = c.raw("DEBUG", "DIGEST")
        got[srv.kind] = (empty, full, less, persisted)
    assert got["shoal"] == got["redis"], got
    empty, full, less, persisted = got["shoal"]
    assert empty == b"+" + b"0" * 40 + b"\r\n"
    assert len({full, less, persisted}) == 3


def test_debug_digest_master_and_replica_agree(servers):
    m = servers.shoal(extra_args=DEBUG)
    r = servers.shoal(extra_args=DEBUG)
    bh.master_with_replica(m, r)
    with m.raw() as c:
        _load(c)
        want = c.call("DEBUG", "DIGEST")
    assert want != "0" * 40

    def same():
        with r.raw() as c:
            return c.call("DEBUG", "DIGEST") == want
    h.wait_until(same, 30, interval=0.1, what="the replica's digest matching the master's")
