"""The reshard bench's floor (bench/reshard_bench.py): the round trips redis-cli --cluster
reshard waits for are counted from the keys, never typed in.

What it is for: round_trips(keys) gives, for the MOVE_SLOTS moved slots, redis-cli's own
round trips (per slot of n keys: SETSLOT IMPORTING and MIGRATING, ceil(n / PIPELINE) + 1
GETKEYSINSLOT, ceil(n / PIPELINE) MIGRATE, SETSLOT NODE on each master) and the MIGRATEs'
round trips to their target (one each). These check that arithmetic on made-up key sets,
without servers; the last test runs the step table's step_profile on 3 shoal masters.

What it must never do: start or stop a process other than the servers fixture's (the one test
that runs step_profile against 3 shoal masters).
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


def test_step_profile_moves_the_slots_and_times_a_floor_for_each_step(servers):
    """step_profile (the step table) moves each slot with redis-cli's commands and then
    sends the same sequence with PINGs in their place: one floor sample per real command
    (a MIGRATE's: a PING to the source and one to the target), and the floor passes move
    nothing. Starts its own 3 shoal masters."""
    import bushelpers as bh
    a, b, c = bh.start_cluster(servers, 3)
    ports = [a.port, b.port, c.port]
    ids = [bh.myid(x) for x in (a, b, c)]
    slots = [5, 6]                         # node a's; 25 keys in 5, none in 6
    keys = _keys_in_slot(5, 25)
    with a.raw(timeout=30) as ca:
        for k in keys:
            assert ca.call("SET", k, "v") == "OK"
    real, floor, wall, floor_wall = rb.step_profile(ports, ids, 0, 1, 2, slots)
    for name in rb.STEPS:
        assert len(floor[name]) == len(real[name]), (name, len(real[name]), len(floor[name]))
    assert len(real[rb.STEPS[3]]) == 3                    # MIGRATE: 3 batches of 10 in slot 5
    assert len(real[rb.STEPS[2]]) == 3 + 1 + 1            # GETKEYSINSLOT: + the empty one per slot
    assert wall > 0 and floor_wall > 0
    with b.raw(timeout=30) as cb:
        assert cb.call("CLUSTER", "COUNTKEYSINSLOT", "5") == 25
    with a.raw(timeout=30) as ca:
        assert ca.call("CLUSTER", "COUNTKEYSINSLOT", "5") == 0
        assert str(ca.call("GET", keys[0])).startswith("MOVED 5 ")
