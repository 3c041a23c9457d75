"""The keys of a file the node forks to write (BGREWRITEAOF's base, BGSAVE's dump) come
slot by slot.

What it is for: a restart hands each key to the worker of its slot (slot s is worker
s % n's), so a file that takes the workers' keys in turn keeps every worker building from
its first key. Before, the child walked worker 0's table, then worker 1's: the restart
built one worker's keys while the other waited for the middle of the file (aof_bench's
restart on a rewritten base of 1,000,000 keys, docs/persistence.md §7).

What it must never do: stop a process it did not start.
"""
import helpers as h
from replhelpers import rdb_key_records
from test_aof import _shoal, _snapshot
from test_aof_rewrite_fork import KEYS, _load, _persist


def _key_at(rdb, rec):
    """The name of the string key whose record's type byte is at rec (a short plain name)."""
    n = rdb[rec + 1]
    assert n >> 6 == 0, f"key at {rec} is not a short plain string"
    return rdb[rec + 2:rec + 2 + n]


def test_rewrite_child_writes_the_keys_slot_by_slot(servers, tmp_path):
    d = tmp_path / "s"
    node = _shoal(servers, d, "--worker-threads", "2")
    with node.raw() as c:
        _load(c, KEYS)
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="rewrite done")
        assert _persist(c)["aof_last_bgrewrite_status"] == "ok"
        before = _snapshot(c)
    base = (d / "appendonlydir" / "appendonly.aof.2.base.rdb").read_bytes()
    slots = [h.key_slot(_key_at(base, rec)) for rec in rdb_key_records(base)]
    assert len(slots) == KEYS
    assert slots == sorted(slots)
    assert len({s % 2 for s in slots[:KEYS // 10]}) == 2   # both workers' keys from the start
    node.stop()
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before
