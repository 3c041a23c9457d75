"""A configEpoch of our own is announced only once nodes.conf holding it is durable.

What it is for: 7.0.15 saves nodes.conf with fsync in beforeSleep, before its event loop
writes any bus frame again, whenever it takes a new configEpoch of its own (CLUSTER
BUMPEPOCH, SETSLOT NODE of a slot it imported, a collision, a forced failover): no peer
hears of an epoch that a crash could take back. shoal's links answer PINGs from the
published snapshot on their own threads, so the snapshot carrying such an epoch must wait
for the persister's fsync (docs/design.md §5, "Durable before announced").

How: the persister is slowed (DEBUG PERSISTER-DELAY) so that the save stays pending for a
while; meanwhile PINGs on fresh bus connections must get PONGs with the old configEpoch,
and whenever a PONG carries the new one, nodes.conf on disk must hold it already.

What it must never do: pass without having seen the PONGs of the pending window (it checks
that it probed during it) or without the epoch having changed in the end.
"""
import re
import time

import bushelpers as bh
import helpers as h

DELAY_US = 1500000


def _conf_epoch(server, node_id):
    """The configEpoch nodes.conf gives node_id (None when the file does not have it)."""
    for line in server.nodes_conf.read_text().splitlines():
        f = line.split()
        if f and f[0] == node_id and len(f) >= 7:
            return int(f[6])
    return None


def _watch_pending(server, node_id, send, old):
    """Sends a command (via send()) whose save the slowed persister holds, probes PONGs
    until the reply comes, and returns (epochs seen while it was pending, the reply)."""
    with server.raw() as p:
        assert p.call("DEBUG", "PERSISTER-DELAY", str(DELAY_US)) == "OK"
    conn = server.raw(timeout=10)
    try:
        t0 = time.monotonic()
        send(conn)
        seen = []
        while time.monotonic() - t0 < DELAY_US / 1e6 * 0.6:
            epoch = bh.parse_header(bh.probe_pong(server, node_id))["config_epoch"]
            if epoch != old:
                # announced: it must be on disk already
                assert _conf_epoch(server, node_id) == epoch, (epoch, _conf_epoch(server, node_id))
            seen.append(epoch)
            time.sleep(0.05)
        reply = conn.read()[1]
    finally:
        conn.close()
        with server.raw() as p:
            p.call("DEBUG", "PERSISTER-DELAY", "0")
    assert len(seen) >= 3, seen
    return seen, reply


def test_bumpepoch_is_not_announced_before_it_is_durable(servers):
    node = servers.shoal(extra_args=["--enable-debug-command", "yes"])
    h.own_all_slots(node)
    me = bh.myid(node)
    old = bh.parse_header(bh.probe_pong(node, me))["config_epoch"]
    seen, reply = _watch_pending(node, me, lambda c: c.send(h.encode("CLUSTER", "BUMPEPOCH")), old)
    assert re.match(r"BUMPED \d+", reply), reply
    new = bh.parse_header(bh.probe_pong(node, me))["config_epoch"]
    assert new > old
    assert _conf_epoch(node, me) == new
    assert set(seen) == {old}, f"PONGs announced configEpoch {set(seen) - {old}} before nodes.conf held it"


def test_replies_wait_for_the_bumps_fsync(servers):
    """A SETSLOT answered while our new configEpoch waits for its fsync: its reply waits
    too (the workers see its change only with the snapshot held for that fsync), as
    7.0.15 writes no reply before its beforeSleep's fsync; its change is then in force."""
    a, b, _ = bh.start_cluster(servers, 3, extra_args=["--enable-debug-command", "yes"])
    idb = bh.myid(b)
    slot = 40                                         # a's, no keys
    with a.raw(timeout=10) as p, a.raw(timeout=10) as bump:
        assert p.call("DEBUG", "PERSISTER-DELAY", str(DELAY_US)) == "OK"
        try:
            t0 = time.monotonic()
            bump.send(h.encode("CLUSTER", "BUMPEPOCH"))
            time.sleep(0.2)
            assert p.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", idb) == "OK"
            took = time.monotonic() - t0
            assert bump.read()[1].startswith("BUMPED")
        finally:
            p.call("DEBUG", "PERSISTER-DELAY", "0")
        assert took > DELAY_US / 1e6 * 0.8, f"SETSLOT answered after {took:.3f} s, before the fsync"
        # in force on the workers when answered: a missing key of the slot is asked for elsewhere
        key = next(k for k in ("k%d" % i for i in range(100000)) if h.key_slot(k) == slot)
        assert str(p.call("GET", key)).startswith("ASK"), p.call("GET", key)
        assert p.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"


def test_imported_slots_epoch_is_not_announced_before_it_is_durable(servers):
    """SETSLOT NODE of an imported slot bumps the importer's configEpoch (when it is not
    the largest already): the case the PONGs of a reshard's target announced early."""
    a, b, _ = bh.start_cluster(servers, 3, extra_args=["--enable-debug-command", "yes"])
    ida, idb = bh.myid(a), bh.myid(b)
    # b's epoch must not be the largest, or SETSLOT NODE bumps nothing
    with a.raw() as p:
        assert p.call("CLUSTER", "BUMPEPOCH").startswith("BUMPED")
    h.wait_until(lambda: bh.parse_header(bh.probe_pong(b, idb))["current_epoch"] >=
                 bh.parse_header(bh.probe_pong(a, ida))["config_epoch"], 10, what="b hearing a's epoch")
    with a.raw() as p:
        slot = p.call("CLUSTER", "SLOTS")[0][0]       # one of a's slots, without keys
    with b.raw() as p:
        assert p.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ida) == "OK"
    with a.raw() as p:
        assert p.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", idb) == "OK"
    old = bh.parse_header(bh.probe_pong(b, idb))["config_epoch"]
    seen, reply = _watch_pending(b, idb, lambda c: c.send(h.encode("CLUSTER", "SETSLOT", str(slot), "NODE", idb)), old)
    assert reply == "OK", reply
    new = bh.parse_header(bh.probe_pong(b, idb))["config_epoch"]
    assert new > old, "SETSLOT NODE bumped no epoch: the test shows nothing"
    assert set(seen) == {old}, f"PONGs announced configEpoch {set(seen) - {old}} before nodes.conf held it"
