"""Differences from redis-server 7.0.15 found by running Redis 7.0.15's own tcl unit
suite (tests/unit/...) against a shoal-node, each pinned by a differential test.

What it is for: one test per fixed difference, naming the suite file and test it came
from; the same raw commands go to a standalone shoal-node and a standalone
redis-server 7.0.15 and the replies must be byte-identical.

What it must never do: change a shared node's config (each test starts its own pair),
or weaken an expectation to match our node: the reference is the contract.
"""
import diffhelpers as d


def _pair(servers):
    return servers.shoal(base_args="standalone"), servers.redis(base_args="standalone")


def test_hincrbyfloat_result_over_listpack_value_converts(servers):
    """unit/type/hash: 'HINCRBYFLOAT over hash-max-listpack-value encoded with a listpack'.
    A value written by HINCRBYFLOAT or HINCRBY longer than hash-max-listpack-value makes
    the hash a hashtable, as any other write of such a value."""
    node, ref = _pair(servers)
    cmds = [
        ("CONFIG", "SET", "hash-max-listpack-value", "8"),
        ("HSET", "small", "tmp", "0"), ("HSET", "big", "tmp", "0"),
        ("HINCRBYFLOAT", "small", "tmp", "0.000005"), ("HINCRBYFLOAT", "big", "tmp", "0.0000005"),
        ("OBJECT", "ENCODING", "small"), ("OBJECT", "ENCODING", "big"),
        ("HSET", "int", "f", "1"), ("HINCRBY", "int", "f", "1000000000"), ("OBJECT", "ENCODING", "int"),
        ("HGETALL", "big"), ("HGETALL", "int"),
    ]
    d.assert_same(node, ref, cmds)
