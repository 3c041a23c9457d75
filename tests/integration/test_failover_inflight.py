"""A manual failover keeps the writes a master accepted before its pause
(docs/cluster-bus.md §5.15): the offset a paused master announces covers every write
it admitted, including one still running when MFSTART arrived.

What it is for: Redis's cluster suite 10-manual-failover ('Verify 50000 keys for
consistency with logical content') lost a write now and then on a loaded machine: a
shoal master announced its offset a fixed 10 ms after MFSTART, while a write admitted
on another worker had not reached the stream yet; the replica took over without it
and the client had its OK. Here a slow script (a SET, then a busy wait) runs on each
worker of the master, one short and one long, when the replica asks for the failover:
whichever worker reads the MFSTART, the other one still runs a write. redis-server
runs the two scripts one after the other and reads MFSTART after both: nothing is lost.

What it must never do: kill a process it did not start; rely on a figure of speed."""
import time

import pytest

import bushelpers as bh
import helpers as h
from test_failover import all_ok, keys_for, shards, wait_repl_up, wait_role

NT = 3000

# SET KEYS[1] ARGV[1], then busy-wait ARGV[2] ms (by TIME: no sleeping in Lua).
SLOW_SET = """
redis.call('set', KEYS[1], ARGV[1])
local t0 = redis.call('time')
local start = tonumber(t0[1]) * 1000000 + tonumber(t0[2])
while true do
    local t = redis.call('time')
    if tonumber(t[1]) * 1000000 + tonumber(t[2]) - start >= tonumber(ARGV[2]) * 1000 then break end
end
return 'done'
"""


def key_on_worker(keys, worker, used):
    """A key among `keys` whose slot a 2-worker shoal node runs on `worker`."""
    for k in keys:
        if k not in used and h.key_slot(k) % 2 == worker:
            used.add(k)
            return k
    raise AssertionError(f"no key for worker {worker} among {keys}")


def failover_during_scripts(master, rep, nodes, durations, keys, used, tag):
    """Scripts with durations[w] ms on a key of worker w of `master`; while they run,
    CLUSTER FAILOVER on `rep`. Returns {key: value} of the scripts that answered 'done'
    (redis-server may read the second script after the MFSTART: it holds it, as a
    write, and answers MOVED once the failover is over; that write never ran)."""
    mid, rid = bh.myid(master), bh.myid(rep)
    written, sent, conns = {}, [], []
    try:
        for w in (1, 0):          # worker 1's first: worker 0 (every client's) sends it on
            ms = durations[w]
            k = key_on_worker(keys, w, used)
            v = f"{tag}-w{w}"
            c = master.raw(timeout=15)
            conns.append(c)
            c.send(h.encode("EVAL", SLOW_SET, "1", k, v, str(ms)))
            sent.append((k, v))
        time.sleep(0.25)          # both scripts are running
        with rep.raw() as c:
            assert c.call("CLUSTER", "FAILOVER") == "OK"
        for c, (k, v) in zip(conns, sent):
            r = c.read()[1]
            if r == b"done":
                written[k] = v
            else:
                assert str(r).startswith(f"MOVED {h.key_slot(k)} "), f"{tag}: {r!r}"
    finally:
        for c in conns:
            c.close()
    wait_role(nodes, rid, "master", 15)
    wait_role(nodes, mid, "slave", 15, master_id=rid)
    all_ok(nodes, 15)
    wait_repl_up(master)
    return written


def assert_on(server, written, what):
    with server.raw() as c:
        got = {k: c.call("GET", k) for k in written}
    lost = {k: v for k, v in written.items() if got[k] != v.encode()}
    assert not lost, f"{what}: writes answered before the failover are missing on :{server.port}: " \
                     f"{lost} (got {got})"


@pytest.mark.quiet
@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_manual_failover_keeps_writes_running_at_mfstart(servers, kind):
    extra = ["--worker-threads", "2", "--enable-debug-command", "yes"] if kind == "shoal" else []
    nodes = bh.start_cluster(servers, 6, replicas=1, node_timeout=NT, extra_args=extra, kind=kind)
    h.wait_until(lambda: len(shards(nodes)) == 3 and all(len(r) == 1 for _, r in shards(nodes)), 15,
                 interval=0.1, what="3 masters with a replica each")
    master, (rep,) = shards(nodes)[0]
    wait_repl_up(rep)
    if kind == "shoal":
        with master.raw() as c:   # every client on worker 0, which sends worker 1 its script
            assert c.call("DEBUG", "PLACEMENT", "PACK") == "OK"
    keys = keys_for(master, 40, prefix="inflight")
    used = set()
    # Round 1: worker 0 short, worker 1 long; then back; round 2 the other way round.
    # Whichever worker reads the MFSTART (its link's thread: the same link in both
    # rounds), in one of the rounds the other worker is still inside its script, whose
    # write was admitted before the pause, when the MFSTART is handled.
    w1 = failover_during_scripts(master, rep, nodes, (500, 1500), keys, used, "r1")
    round1 = time.monotonic()
    assert_on(rep, w1, "round 1, new master")
    with master.raw() as c:       # fail back
        assert c.call("CLUSTER", "FAILOVER") == "OK"
    wait_role(nodes, bh.myid(master), "master", 15)
    wait_role(nodes, bh.myid(rep), "slave", 15, master_id=bh.myid(master))
    all_ok(nodes, 15)
    wait_repl_up(rep)
    assert_on(master, w1, "after failing back")
    # a master votes for a failover of the same master only 2 x node timeout after
    # its last such vote (docs/cluster-bus.md §5.14)
    time.sleep(max(0.0, round1 + 2 * NT / 1000 + 0.5 - time.monotonic()))
    w2 = failover_during_scripts(master, rep, nodes, (1500, 500), keys, used, "r2")
    assert_on(rep, w2, "round 2, new master")
    assert_on(rep, w1, "round 2, new master (round 1's writes)")
