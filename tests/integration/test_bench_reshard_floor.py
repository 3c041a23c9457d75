"""The reshard bench's floor (bench/reshard_bench.py): the round trips redis-cli --cluster
reshard waits for are counted from the keys, never typed in.

What it is for: round_trips(keys) gives, for the MOVE_SLOTS moved slots, redis-cli's own
round trips (per slot of n keys: SETSLOT IMPORTING and MIGRATING, ceil(n / PIPELINE) + 1
GETKEYSINSLOT, ceil(n / PIPELINE) MIGRATE, SETSLOT NODE on each master) and the MIGRATEs'
round trips to their target (one each). These check that arithmetic on made-up key sets.
No server is started.

What it must never do: start or stop a process.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import reshard_bench as rb     # noqa: E402  (bench/ is not a package)


def _keys_in_slot(slot, n):
    out, i = [], 0
    while len(out) < n:
        k = b"f:%d" % i
        if rb.slot_of(k) == slot:
            out.append(k)
        i += 1
    return out


def test_empty_slots_cost_their_setslots_and_one_getkeysinslot():
    own, nested = rb.round_trips([])
    assert nested == 0
    assert own == rb.MOVE_SLOTS * (2 + 1 + len(rb.RANGES))


def test_keys_add_a_getkeysinslot_and_a_migrate_per_batch():
    # 25 keys in slot 3: 3 batches of PIPELINE (10); 10 keys in slot 7: exactly 1 batch
    keys = _keys_in_slot(3, 25) + _keys_in_slot(7, 10)
    own, nested = rb.round_trips(keys)
    assert rb.PIPELINE == 10
    assert nested == 3 + 1
    assert own == rb.MOVE_SLOTS * (2 + 1 + len(rb.RANGES)) + 2 * (3 + 1)
