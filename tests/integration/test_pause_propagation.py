"""A write admitted before a client pause reaches the replicas even when it runs after
the pause began (wpause.h, keyspace.h ks_set_pause_only; docs/replication.md §7).

What it is for: in shoal a write is admitted on the client's worker and may run later
on the worker that keeps its key (a batch waiting behind a long script there). A
pause makes the dataset stand still as on a replica (no expiry), and shoal took that
"replica mode" for the replica role: the late write ran on the master but was never
propagated, so the replica (and, after a manual failover, the new master) lacked a
write the client had its OK for. redis-server runs the write before the pause or
holds it until the pause ends; either way its replica gets it.

What it must never do: kill a process it did not start; rely on a figure of speed."""
import time

import pytest

import helpers as h
import replhelpers as rh

SLOW = """
local t0 = redis.call('time')
local start = tonumber(t0[1]) * 1000000 + tonumber(t0[2])
while true do
    local t = redis.call('time')
    if tonumber(t[1]) * 1000000 + tonumber(t[2]) - start >= tonumber(ARGV[1]) * 1000 then break end
end
return 'done'
"""


def keys_of_worker(worker, n):
    """Key names whose slots a 2-worker shoal node keeps on `worker`."""
    out, i = [], 0
    while len(out) < n:
        k = f"pp{i}"
        if h.key_slot(k) % 2 == worker:
            out.append(k)
        i += 1
    return out


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_write_admitted_before_client_pause_is_propagated(servers, kind):
    extra = ["--worker-threads", "2", "--enable-debug-command", "yes"] if kind == "shoal" else []
    master = rh.start(servers, kind, extra)
    h.own_all_slots(master)
    master, replica, _ = rh.make_pair(servers, kind, kind, master=master)
    if kind == "shoal":
        with master.raw() as c:   # every connection on worker 0: the SET crosses to worker 1
            assert c.call("DEBUG", "PLACEMENT", "PACK") == "OK"
    busy_key, late_key = keys_of_worker(1, 2)
    slow = master.raw(timeout=15)
    setter = master.raw(timeout=15)
    pauser = master.raw(timeout=15)
    try:
        # worker 1 runs a 1.5 s script; the SET for another key of worker 1 is admitted
        # on worker 0 and waits behind it; the pause begins while it waits
        slow.send(h.encode("EVAL", SLOW, "1", busy_key, "1500"))
        time.sleep(0.3)
        setter.send(h.encode("SET", late_key, "late"))
        time.sleep(0.2)
        pauser.send(h.encode("CLIENT", "PAUSE", "5000", "WRITE"))
        assert slow.read()[1] == b"done"
        assert pauser.read()[1] == "OK"
        assert pauser.call("CLIENT", "UNPAUSE") == "OK"
        assert setter.read()[1] == "OK"
        assert pauser.call("SET", "pp-after", "x") == "OK"
        assert pauser.call("WAIT", "1", "5000") == 1
    finally:
        for c in (slow, setter, pauser):
            c.close()
    with replica.raw() as c:
        c.call("READONLY")
        got = c.call("GET", late_key)
    assert got == b"late", f"{rh.label(replica)}: the SET answered OK on the master reads {got!r}"
