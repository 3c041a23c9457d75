"""The light encoding between shoal peers (docs/cluster-bus.md §9).

What it is for: proving that in a mixed cluster (3 redis-server 7.0.15 + 3 shoal)
the shoal<->shoal links carry light frames in both directions, the shoal<->redis
links carry none, redis-server logs nothing about what shoal sends it (the
advertisement sits in reserved header bytes it never reads), and the cluster is
exactly as healthy as a plain one: `redis-cli --cluster check` passes from both
kinds, every view agrees line by line, and a slot moved between two shoal nodes
(a changed bitmap, sent in full over a light link) reaches every node. Also why
the advertisement is not an extension record: 7.0.15 logs a warning for every
record of a type it does not know, in every frame.

What it must never do: signal or stop a process it did not start.
"""
import re
import struct
import time

import helpers as h
import bushelpers as bh
from test_pubsub_cluster import _one_shard


def _lightbus(server):
    """INFO lightbus of a shoal node: totals and {peer id: (to_sent, to_recv, from_sent, from_recv)}."""
    with server.raw() as c:
        text = c.call("INFO", "lightbus")
    if isinstance(text, bytes):
        text = text.decode()
    totals, peers = {}, {}
    for ln in text.split("\r\n"):
        m = re.match(r"^peer\d+:node=([0-9a-f]{40}),to_light_sent=(-?\d+),to_light_received=(-?\d+),"
                     r"from_light_sent=(-?\d+),from_light_received=(-?\d+)$", ln)
        if m:
            peers[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
        elif ":" in ln:
            k, v = ln.split(":", 1)
            totals[k] = v
    return totals, peers


def _redis_complaints(server):
    """Lines of a redis-server log about frames it did not like."""
    bad = ("unknown extension", "Received invalid", "Bad message length", "unknown packet type",
           "without proper padding", "exceeds total packet length")
    return [ln for ln in server.log().splitlines() if any(b in ln for b in bad)]


def _mixed(servers):
    reds = [servers.redis() for _ in range(3)]
    shoals = [servers.shoal() for _ in range(3)]
    order = [reds[0], shoals[0], reds[1], shoals[1], reds[2], shoals[2]]
    r = bh.create_cluster(order, replicas=0)
    assert r.returncode == 0, f"create exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    bh.wait_healthy(order, 6, timeout=30)
    return reds, shoals, order


def _views_agree(order):
    own = {}
    for s in order:
        me = next(v for v in bh.cluster_nodes(s) if "myself" in v["flags"])
        own[me["id"]] = bh.comparable(me)
    for s in order:
        if {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(s)} != own:
            return False
    return True


def _all_light(shoals, sids):
    """Every shoal<->shoal link has carried light frames both ways."""
    for s, sid in zip(shoals, sids):
        _, peers = _lightbus(s)
        for o in sids:
            if o != sid and (o not in peers or min(peers[o]) <= 0):
                return False
    return True


def _bytes_to(server):
    """INFO peers of a shoal node: {peer id: bytes sent on our `to` link}."""
    with server.raw() as c:
        text = c.call("INFO", "peers")
    text = text.decode() if isinstance(text, bytes) else text
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"peer\d+:node=([0-9a-f]{40}),.*?,to_sent=(-?\d+),", text)}


def test_light_between_shoal_peers_in_a_mixed_cluster(servers):
    reds, shoals, order = _mixed(servers)
    sids = [bh.myid(s) for s in shoals]
    rids = [bh.myid(s) for s in reds]

    # every shoal<->shoal link carries light frames both ways, on both of the pair's links
    h.wait_until(lambda: _all_light(shoals, sids), 20, interval=0.2,
                 what="light frames on every shoal<->shoal link, both ways")

    for s, sid in zip(shoals, sids):
        totals, peers = _lightbus(s)
        assert totals["light_enabled"] == "1"
        assert int(totals["light_frames_sent"]) > 0 and int(totals["light_frames_received"]) > 0
        # and none to or from redis-server: what it gets is plain 7.0.15
        for rid in rids:
            assert rid in peers, peers
            assert all(x in (0, -1) for x in peers[rid]), (rid, peers[rid])

    # the cluster is as healthy as a plain one
    h.wait_until(lambda: _views_agree(order), 15, interval=0.1, what="all six views agreeing")
    for s in (reds[0], shoals[1]):
        c = bh.cluster_check(s)
        assert c.returncode == 0, f"check from {s.kind} :{s.port}\n{c.stdout}\n{c.stderr}"
        assert "[OK] All nodes agree about slots configuration." in c.stdout, c.stdout
        assert "[OK] All 16384 slots covered." in c.stdout, c.stdout

    # a changed bitmap between shoal peers (goes in full on the light links): one
    # empty slot leaves shoals[0] and shoals[1] (config epoch 4 > 2) claims it
    me0 = next(v for v in bh.cluster_nodes(shoals[0]) if "myself" in v["flags"])
    slot = int(me0["slots"][0].split("-")[0])
    with shoals[0].raw() as c:
        assert c.call("CLUSTER", "DELSLOTS", str(slot)) == "OK"
    with shoals[1].raw() as c:
        assert c.call("CLUSTER", "DELSLOTS", str(slot)) == "OK"
        assert c.call("CLUSTER", "ADDSLOTS", str(slot)) == "OK"

    def slot_moved_everywhere():
        for s in order:
            owner = None
            for v in bh.cluster_nodes(s):
                for rng in v["slots"]:
                    if rng.startswith("["):
                        continue
                    a, _, b = rng.partition("-")
                    if int(a) <= slot <= int(b or a):
                        owner = v["id"]
            if owner != sids[1]:
                return False
        return True
    h.wait_until(slot_moved_everywhere, 15, interval=0.1, what=f"slot {slot} owned by shoal 1 in every view")
    h.wait_until(lambda: _views_agree(order), 15, interval=0.1, what="all six views agreeing after the move")
    c = bh.cluster_check(reds[2])
    assert c.returncode == 0, f"{c.stdout}\n{c.stderr}"

    # nothing we sent made redis-server complain, and no link was dropped for a bad frame
    for r in reds:
        assert _redis_complaints(r) == [], (r.port, _redis_complaints(r))
    for s in shoals:
        assert "Bad light frame" not in s.log()
        assert "Bad message length or signature" not in s.log()


def test_light_off_sends_plain_7_0_15_headers(servers):
    """`cluster-light-bus no`: no light frame anywhere, and the reserved bytes of our
    PONG are zero again, as 7.0.15 sends them. With the default (yes) they carry the
    advertisement."""
    on = servers.shoal()
    pong = bh.probe_pong(on)
    assert pong[2238:2246] == b"shoa\0\x01\0\x03", pong[2216:2246]
    nodes = [servers.shoal(extra_args=["--cluster-light-bus", "no"]) for _ in range(3)]
    r = bh.create_cluster(nodes, replicas=0)
    assert r.returncode == 0, r.stdout
    bh.wait_healthy(nodes, 3, timeout=30)
    pong = bh.probe_pong(nodes[0])
    assert pong[2216:2246] == b"\0" * 30
    for s in nodes:
        totals, peers = _lightbus(s)
        assert totals["light_enabled"] == "0"
        assert totals["light_frames_sent"] == "0" and totals["light_frames_received"] == "0"
    # turned on at run time, the links go light
    for s in nodes:
        with s.raw() as c:
            assert c.call("CONFIG", "SET", "cluster-light-bus", "yes") == "OK"
    h.wait_until(lambda: all(int(_lightbus(s)[0]["light_frames_received"]) > 0 for s in nodes), 20,
                 interval=0.2, what="light frames after CONFIG SET cluster-light-bus yes")
    bh.wait_healthy(nodes, 3, timeout=10)


def test_light_view_built_again_only_when_the_view_changes(servers):
    """A link thread's copy of the view (§9.7) is built again only when an address tuple
    or the set of nodes changes (the snapshot's view_gen), not at every publish: frames
    flow and the state publishes (every PING sent moves a ping time) while
    `light_view_builds` stays put; a node that joins is a new view, built again."""
    nodes = [servers.shoal() for _ in range(3)]
    r = bh.create_cluster(nodes, replicas=0)
    assert r.returncode == 0, r.stdout
    bh.wait_healthy(nodes, 3, timeout=30)

    def totals():
        return [_lightbus(s)[0] for s in nodes]

    h.wait_until(lambda: all(int(t["light_frames_sent"]) > 0 for t in totals()), 20, interval=0.2,
                 what="light frames")
    def settled():
        # the last view change (the nodes meeting) is behind every link thread
        a = [t["light_view_builds"] for t in totals()]
        time.sleep(1.5)
        return a == [t["light_view_builds"] for t in totals()]

    h.wait_until(settled, 30, interval=0.1, what="view builds settled")
    before = totals()
    h.wait_until(lambda: all(int(t["light_frames_sent"]) >= int(b["light_frames_sent"]) + 3
                             for t, b in zip(totals(), before)), 30, interval=0.2, what="more light frames")
    after = totals()
    assert [t["light_view_builds"] for t in after] == [b["light_view_builds"] for b in before], (before, after)
    # a fourth node is a new view: every node's link threads build it again
    extra = servers.shoal()
    with nodes[0].raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(extra.port)) == "OK"
    bh.wait_healthy(nodes + [extra], 4, timeout=30)
    h.wait_until(lambda: all(int(t["light_view_builds"]) > int(b["light_view_builds"])
                             for t, b in zip(totals(), after)), 30, interval=0.2, what="views built again")


def test_redis_logs_unknown_extension_records(servers):
    """Why the advertisement is not an extension record: 7.0.15 accepts a PING
    carrying a record of a type it does not know, answers it, and logs a warning
    for it - which would be one line per frame from every shoal peer."""
    r, s = servers.redis(), servers.shoal()
    with r.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(s.port)) == "OK"
    sid = bh.myid(s)
    h.wait_until(lambda: any(v["id"] == sid and "handshake" not in v["flags"] for v in bh.cluster_nodes(r)),
                 10, interval=0.1, what="redis-server knowing the shoal node")
    # the shoal node's own header (a sender redis-server knows) with one record
    rec = struct.pack(">IHH", 16, 40000, 0) + b"light\0\0\0"
    frame = bh.with_fields(bh.own_header_ping(s, sid), totlen=bh.HDR_LEN + len(rec), extensions=1,
                           mflags=bh.M_EXT_DATA) + rec
    with bh.BusConn(bh.bus_port(r)) as c:
        c.send(frame)
        bh.expect_pong(c)
    h.wait_until(lambda: "Received unknown extension type 40000" in r.log(), 5, interval=0.1,
                 what="redis-server's warning about the unknown record")
    assert not [ln for ln in r.log().splitlines() if "unknown extension" in ln and "40000" not in ln]


def _subscribe(node, verb, channel):
    c = node.raw(timeout=15)
    c.send(h.encode(verb, channel))
    c.read()
    return c


def test_publish_goes_light_between_shoal_peers_in_a_mixed_cluster(servers):
    """PUBLISH frames between shoal peers go light (§9.8: 24 bytes beside the body once
    the link carried the sender's header and bitmap, instead of the 2 KB header), while
    redis-server peers get plain 7.0.15 frames; every subscriber on every node gets every
    message in order. Before, each PUBLISH cost every link 2264 + body bytes."""
    reds, shoals, order = _mixed(servers)
    sids, rids = [bh.myid(s) for s in shoals], [bh.myid(s) for s in reds]
    h.wait_until(lambda: _all_light(shoals, sids), 20, interval=0.2,
                 what="light frames on every shoal<->shoal link, both ways")
    subs = [_subscribe(n, "SUBSCRIBE", "news") for n in order]
    try:
        rounds, payload = 200, "x" * 64
        for pub in (shoals[0], reds[0]):
            before = _bytes_to(shoals[0])
            with pub.raw() as p:
                p.send(b"".join(h.encode("PUBLISH", "news", "%d:%s" % (k, payload)) for k in range(rounds)))
                assert [p.read()[1] for _ in range(rounds)] == [1] * rounds
            for c in subs:
                got = [c.read()[1] for _ in range(rounds)]
                assert [m[2].decode() for m in got] == ["%d:%s" % (k, payload) for k in range(rounds)]
            if pub is shoals[0]:
                after = _bytes_to(shoals[0])
                plain = 2264 + len("news") + len("0:" + payload)    # the smallest of these frames
                for sid in sids[1:]:
                    per_msg = (after[sid] - before[sid]) / rounds
                    assert per_msg < 400, (sid, per_msg)      # light (gossip of the window included)
                for rid in rids:
                    per_msg = (after[rid] - before[rid]) / rounds
                    assert per_msg >= plain, (rid, per_msg, plain)     # plain 7.0.15 frames
    finally:
        for c in subs:
            c.close()
    for r in reds:
        assert _redis_complaints(r) == [], (r.port, _redis_complaints(r))
    for s in shoals:
        assert "Bad light frame" not in s.log()


def test_spublish_goes_light_to_shoal_replicas(servers):
    """PUBLISHSHARD to the shard's replicas goes light too; every replica subscriber gets
    every message in order, PUBLISH and SPUBLISH mixed on the same links."""
    master, replicas = _one_shard(servers, "shoal")
    nodes = [master] + replicas
    mid, rids = bh.myid(master), [bh.myid(n) for n in replicas]
    h.wait_until(lambda: _all_light(nodes, [mid] + rids), 20, interval=0.2, what="light links")
    subs = [_subscribe(n, "SSUBSCRIBE", "ch") for n in nodes[1:]] + \
        [_subscribe(n, "SUBSCRIBE", "ch") for n in nodes[1:]]
    try:
        rounds = 200
        before = _bytes_to(nodes[0])
        with nodes[0].raw() as p:
            p.send(b"".join(h.encode("SPUBLISH" if k % 2 else "PUBLISH", "ch", "m%d" % k) for k in range(rounds)))
            assert [p.read()[1] for _ in range(rounds)] == [0] * rounds
        after = _bytes_to(nodes[0])
        for c, kind in zip(subs, ["smessage"] * 2 + ["message"] * 2):
            want = ["m%d" % k for k in range(rounds) if (k % 2 == 1) == (kind == "smessage")]
            got = [c.read()[1] for _ in range(len(want))]
            assert [m[0].decode() for m in got] == [kind] * len(want)
            assert [m[2].decode() for m in got] == want
        for rid in rids:
            assert (after[rid] - before[rid]) / rounds < 400, (rid, after[rid] - before[rid])
    finally:
        for c in subs:
            c.close()
