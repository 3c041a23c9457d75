"""INFO busdigest and DEBUG STATE-ACTOR-DELAY: what the links' digest and
back-pressure do in a real cluster (docs/cluster-bus.md §1.6).

- In steady state a member's PINGs and PONGs say nothing new: the links note
  their liveness and the state actor never sees them, so `frames_digested`
  grows while `frames_forwarded` stays nearly flat; a change (CLUSTER
  BUMPEPOCH on a peer) reaches the state actor as forwarded frames.
- With the state actor slowed on purpose (DEBUG STATE-ACTOR-DELAY) and a flood
  of member PINGs, the links pause their reads: the backlog (`state_pending`)
  and the node's RSS stay bounded, the pause counters grow, the links read
  again once the state actor catches up, and no change is lost.

INFO busdigest is ours (by name only: `INFO`, `INFO all` and `INFO everything`
keep 7.0.15's sections), so nothing here is compared with redis-server.
"""
import selectors
import signal
import socket
import threading
import time

import pytest

import bushelpers as bh
import helpers as h

DBG = ["--enable-debug-command", "yes"]


def busdigest(server):
    with server.raw() as c:
        v = c.call("INFO", "busdigest")
    text = v.decode() if isinstance(v, bytes) else str(v)
    assert text.startswith("# Busdigest"), text
    return {k: int(x) for k, x in h.info_dict(text).items()}


def node_line(server, node_id):
    for n in bh.cluster_nodes(server):
        if n["id"] == node_id:
            return n
    raise AssertionError(f"{node_id} not in CLUSTER NODES of :{server.port}")


def bump_epoch(server):
    """CLUSTER BUMPEPOCH on a master whose configEpoch is not the largest (a node
    created by redis-cli with epoch 1 or 2, say): returns its new configEpoch."""
    with server.raw() as c:
        r = c.call("CLUSTER", "BUMPEPOCH")
    assert isinstance(r, str) and r.startswith("BUMPED "), r
    return int(r.split()[1])


def test_info_busdigest_by_name_only(servers):
    a = servers.shoal()
    with a.raw() as c:
        for args in (("INFO",), ("INFO", "all"), ("INFO", "everything"), ("INFO", "default")):
            v = c.call(*args)
            text = v.decode() if isinstance(v, bytes) else str(v)
            assert "# Busdigest" not in text, args
    d = busdigest(a)
    for k in ("frames_digested", "frames_forwarded", "digested_ping", "digested_pong", "forwarded_ping",
              "forwarded_pong", "forwarded_meet", "forwarded_fail", "forwarded_update", "forwarded_unknown",
              "forwarded_why_busy", "forwarded_why_changed", "forwarded_why_race", "gossip_folded",
              "gossip_pongs_noted", "gossip_forwarded", "link_pauses", "link_pauses_ended", "links_paused",
              "link_paused_ms", "state_pending"):
        assert k in d, (k, d)
    assert d["links_paused"] == 0 and d["state_pending"] == 0, d


@pytest.mark.quiet   # a frame that meets a descheduled state actor is forwarded (conftest.py: runs alone under xdist)
def test_steady_state_is_digested_and_a_change_is_forwarded(servers):
    # node timeout 1 s: each node PINGs each peer at least every 500 ms
    nodes = bh.start_cluster(servers, 3, node_timeout=1000)
    a, b = nodes[0], nodes[1]
    b_id = bh.myid(b)
    time.sleep(1.0)                       # past the joins' own changes
    d0 = busdigest(a)
    time.sleep(4.0)
    d1 = busdigest(a)
    dig = d1["frames_digested"] - d0["frames_digested"]
    fwd = d1["frames_forwarded"] - d0["frames_forwarded"]
    # 4 s: at least 4 PINGs a second from the peers and the PONGs to our own
    assert dig >= 20, (d0, d1)
    assert d1["digested_ping"] > d0["digested_ping"] and d1["digested_pong"] > d0["digested_pong"], (d0, d1)
    assert d1["gossip_folded"] > d0["gossip_folded"], (d0, d1)
    # nearly flat: only a frame that met the state actor at work (a cron tick) goes
    assert fwd <= max(2, dig // 10), f"forwarded {fwd} of {dig + fwd} steady-state frames: {d0} -> {d1}"
    assert d1["forwarded_why_changed"] - d0["forwarded_why_changed"] <= 2, (d0, d1)

    # a change: b's new configEpoch must reach a's state actor, as forwarded frames
    epoch = bump_epoch(b)
    h.wait_until(lambda: int(node_line(a, b_id)["config_epoch"]) == epoch, 10,
                 what=f"a sees b's configEpoch {epoch}")
    d2 = busdigest(a)
    moved = {k: d2[k] - d1[k] for k in d2 if d2[k] != d1[k]}
    # the frame that told a went to its state actor (judged as changed, or met it busy)
    assert d2["forwarded_ping"] + d2["forwarded_pong"] > d1["forwarded_ping"] + d1["forwarded_pong"], moved
    assert moved.get("forwarded_why_changed", 0) + moved.get("forwarded_why_busy", 0) >= 1, moved
    bh.wait_healthy(nodes, 3)


@pytest.mark.quiet   # counts frames against the cron's timing (conftest.py: runs alone under xdist)
def test_pongs_to_our_pings_never_meet_the_cron_at_work(servers):
    """The PONGs answering the PINGs the cron sends are digested, however long
    the cron takes: it sends them only once links may digest again. DEBUG
    STATE-CRON-DELAY stretches the end of the cron's working part to 20 ms, as
    a descheduled state thread on a loaded machine does; sent before that, each
    PONG came back while the state actor still counted as working and went to it
    whole (forwarded_why_busy, a few a second: the steady-state test's rare
    failures). PINGs from the peers meeting the cron at work still go, as they
    must: the cron's working part is then a fifth of the time."""
    nodes = bh.start_cluster(servers, 3, node_timeout=1000, extra_args=DBG)
    a = nodes[0]
    time.sleep(1.0)                       # past the joins' own changes
    with a.raw() as c:
        assert c.call("DEBUG", "STATE-CRON-DELAY", "20000") == "OK"
    try:
        time.sleep(0.5)
        d0 = busdigest(a)
        time.sleep(3.0)
        d1 = busdigest(a)
    finally:
        with a.raw() as c:
            assert c.call("DEBUG", "STATE-CRON-DELAY", "0") == "OK"
    moved = {k: d1[k] - d0[k] for k in d1 if d1[k] != d0[k]}
    # 3 s at node timeout 1 s: a PINGs each of its 2 peers about twice a second (12
    # PONGs; 10 came back in a CI run at load 13)
    pongs = moved.get("digested_pong", 0) + moved.get("forwarded_pong", 0)
    assert pongs >= 8, moved
    # Sent during the cron's working part, every PONG met it (all forwarded). Sent
    # after it, a PONG meets the next one only when a peer answers more than 80 ms
    # late: under heavy load it arrives at a random time, and the working part is a
    # fifth of the time (2 of 12 in that run); on a quiet machine none does.
    assert moved.get("forwarded_pong", 0) <= max(1, pongs // 3), moved
    bh.wait_healthy(nodes, 3)


class Flooder:
    """Member PINGs as fast as the node reads them, on one bus connection: every frame
    carries a real member's own header (bh.own_header_ping), so the node binds the
    connection to that member (as 7.0.15 binds an inbound link to a known sender, closing
    the one it had) and hands each frame to its state actor whenever it cannot digest it.
    PONGs are read and dropped, so the node's send buffer stays small and what grows, if
    anything, is the backlog of the state actor. One connection only: two claiming the
    same member would close each other."""

    def __init__(self, server, frame, frames_per_write=64):
        self.port = bh.bus_port(server)
        self.chunk = frame * frames_per_write
        self.stop_ev = threading.Event()
        self.sent = 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_ev.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "flooder did not stop"
        assert self.error is None, f"flooder failed: {self.error!r}"

    def _run(self):
        sel = selectors.DefaultSelector()
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            off = 0
            while not self.stop_ev.is_set():
                for _, ev in sel.select(0.05):
                    if ev & selectors.EVENT_READ:
                        try:
                            if not s.recv(1 << 20):
                                raise ConnectionError("the node closed the flood link")
                        except BlockingIOError:
                            pass
                    if ev & selectors.EVENT_WRITE:
                        try:
                            n = s.send(self.chunk[off:] if off else self.chunk)
                        except BlockingIOError:
                            n = 0
                        self.sent += n
                        off = (off + n) % len(self.chunk)
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.error = e
        finally:
            if s:
                s.close()


def test_slow_state_actor_pauses_links_and_loses_no_change(servers):
    # three masters with every slot, and d, a master without slots whose part the
    # flooder plays: d is stopped (SIGSTOP) meanwhile, so nobody else claims its links
    nodes = bh.start_cluster(servers, 3, node_timeout=15000, extra_args=DBG)
    a, b, c = nodes
    d = servers.shoal(extra_args=["--cluster-node-timeout", "15000", *DBG])
    with d.raw() as conn:
        assert conn.call("CLUSTER", "MEET", "127.0.0.1", str(a.port)) == "OK"
    everyone = [a, b, c, d]
    bh.wait_healthy(everyone, 4)
    b_id, d_id = bh.myid(b), bh.myid(d)
    frame = bh.own_header_ping(d, d_id)
    d.signal(signal.SIGSTOP)
    fl = None
    try:
        time.sleep(0.3)
        rss0 = bh.rss_kb(a.pid)
        d0 = busdigest(a)
        with a.raw() as conn:
            assert conn.call("DEBUG", "STATE-ACTOR-DELAY", "2000") == "OK"
        fl = Flooder(a, frame).start()
        max_pending, max_rss, paused_seen = 0, rss0, 0
        deadline = time.monotonic() + 5.0
        bumped = None
        while time.monotonic() < deadline:
            st = busdigest(a)
            max_pending = max(max_pending, st["state_pending"])
            paused_seen = max(paused_seen, st["links_paused"])
            max_rss = max(max_rss, bh.rss_kb(a.pid))
            if bumped is None and st["link_pauses"] > d0["link_pauses"]:
                # a change made while a is behind and pausing: b's new configEpoch
                bumped = bump_epoch(b)
            time.sleep(0.1)
        d1 = busdigest(a)
        assert bumped is not None, f"no link paused within 5 s: {d0} -> {d1}"
        # the backlog stays at the mark (256 frame messages) plus a read round per link
        assert max_pending <= 256 + 16, (max_pending, d1)
        assert d1["link_pauses"] > d0["link_pauses"] and paused_seen >= 1, (d0, d1)
        # 256 messages of at most ~150 kB of records: ~40 MB (without the cap: 370 MB)
        assert max_rss - rss0 < 100 * 1024, f"RSS grew from {rss0} kB to {max_rss} kB"

        # the state actor catches up while the flood goes on: the links read again and
        # the flood's frames, saying nothing new, are digested again
        with a.raw() as conn:
            assert conn.call("DEBUG", "STATE-ACTOR-DELAY", "0") == "OK"
        h.wait_until(lambda: busdigest(a)["links_paused"] == 0, 20, interval=0.1,
                     what="a's links all reading again")
        d2 = busdigest(a)
        time.sleep(1.0)
        d3 = busdigest(a)
        assert d3["digested_ping"] - d2["digested_ping"] > 100, (d2, d3)
        assert d3["link_pauses_ended"] >= d2["link_pauses"] > d0["link_pauses"], (d0, d2, d3)
        assert d3["link_paused_ms"] > d0["link_paused_ms"], (d0, d3)
        fl.stop()
        fl = None
        assert bh.probe_pong(a)
    finally:
        if fl:
            fl.stop_ev.set()
        with a.raw() as conn:
            conn.call("DEBUG", "STATE-ACTOR-DELAY", "0")
        d.signal(signal.SIGCONT)
    # no change lost: every node sees b's new epoch, and the cluster is whole again
    for s in everyone:
        h.wait_until(lambda s=s: int(node_line(s, b_id)["config_epoch"]) == bumped, 20,
                     what=f":{s.port} sees b's configEpoch {bumped}")
    bh.wait_healthy(everyone, 4)


def test_state_actor_delay_arguments(servers):
    a = servers.shoal(extra_args=DBG)
    solo = servers.shoal(extra_args=DBG, base_args="standalone")
    with a.raw() as c:
        assert c.call("DEBUG", "STATE-ACTOR-DELAY", "-1").startswith("ERR value is out of range")
        assert c.call("DEBUG", "STATE-ACTOR-DELAY", "x").startswith("ERR value is out of range")
        assert c.call("DEBUG", "STATE-ACTOR-DELAY") == (
            "ERR unknown subcommand or wrong number of arguments for 'STATE-ACTOR-DELAY'. Try DEBUG HELP.")
        assert c.call("DEBUG", "STATE-ACTOR-DELAY", "0") == "OK"
        assert c.call("DEBUG", "STATE-CRON-DELAY", "10000001").startswith("ERR value is out of range")
        assert c.call("DEBUG", "STATE-CRON-DELAY", "0") == "OK"
    with solo.raw() as c:
        assert c.call("DEBUG", "STATE-ACTOR-DELAY", "10") == (
            "ERR Debug option only available for cluster mode enabled setup!")
    # DEBUG is refused without enable-debug-command, as every DEBUG subcommand
    plain = servers.shoal()
    with plain.raw() as c:
        assert c.call("DEBUG", "STATE-ACTOR-DELAY", "10").startswith("ERR DEBUG command not allowed")


@pytest.mark.quiet   # a frame that meets a descheduled state actor is forwarded (conftest.py: runs alone under xdist)
def test_publish_headers_are_digested(servers):
    """Of a PUBLISH frame's header 7.0.15 takes only the sender's liveness, epochs and
    offset: a steady stream of them says nothing the snapshot does not, so the links note
    the liveness and the state actor sees none of them (it got every one before), whether
    the body was read for a subscriber (b) or skipped (c, no subscriber). The messages
    still all arrive, in order."""
    nodes = bh.start_cluster(servers, 3)
    a, b, c = nodes
    sub = b.raw(timeout=15)
    sub.send(h.encode("SUBSCRIBE", "news"))
    assert sub.read()[1] == [b"subscribe", b"news", 1]
    try:
        time.sleep(0.5)
        before = {n.port: busdigest(n) for n in (b, c)}
        # 10 batches, so that they come in several read rounds: a frame read in a round
        # behind one that met the state actor at work (a cron tick) goes too
        batches, per = 10, 50
        for _ in range(batches):
            bh.publish_in_order(a, sub, "news", per)
            time.sleep(0.05)
        count = batches * per

        def moved(n):
            d0, d1 = before[n.port], busdigest(n)
            return (d1["digested_publish"] - d0["digested_publish"], d1["forwarded_publish"] - d0["forwarded_publish"])
        for n in (b, c):
            h.wait_until(lambda: sum(moved(n)) == count, 10, interval=0.1, what=f":{n.port} judging {count} frames")
            dig, fwd = moved(n)
            assert dig >= count // 2, f":{n.port} digested {dig} of {count} PUBLISH frames ({fwd} forwarded)"
    finally:
        sub.close()
    bh.wait_healthy(nodes, 3)
