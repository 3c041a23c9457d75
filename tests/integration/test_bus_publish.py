"""PUBLISH, MODULE and other frames whose body we have no use for, on the cluster bus.

What it is for: while no client of the node subscribes (and always for MODULE), the link
reads the head of such a frame (header and the fields that give the body's length),
judges it as 7.0.15 judges the whole frame, and skips the body as it streams in without
holding it: a peer's 256 MiB PUBLISH costs no memory, and the link keeps working, as it
does on redis-server (which buffers the whole frame, up to 4 GiB). What the header says
(sender, epochs) still applies. Types 7.0.15 does not know, and fixed-size types sent
longer than their size, are judged by their header too and dropped with the link kept,
as 7.0.15 does after reading them whole.
Also: a real redis-server 7.0.15 node in a mixed cluster broadcasts PUBLISH frames to
our nodes (PUBLISH on it); our links take them and stay up. And PUBLISH on our node
goes out on the bus as 7.0.15 sends it, so subscribers on the redis-server nodes get it.

What it must never do: relax a check to match our node; leave a connection open; signal
a process the test did not start.
"""
import struct
import time

import pytest

import helpers as h
import bushelpers as bh

T_MODULE = 9
MIB = 1024 * 1024


def _stream(conn, head, body_len, node, peak, pause_at=None, pause=0.0):
    """Sends `head` then body_len zero bytes, sampling the node's RSS (kB) every MiB;
    waits `pause` seconds once pause_at bytes of the body are out."""
    conn.send(head)
    chunk = b"\0" * MIB
    sent = 0
    while sent < body_len:
        if sent == pause_at:
            time.sleep(pause)
        n = min(MIB, body_len - sent)
        conn.sock.sendall(chunk[:n])
        sent += n
        if sent % (8 * MIB) == 0:
            peak[0] = max(peak[0], bh.rss_kb(node.pid))
    peak[0] = max(peak[0], bh.rss_kb(node.pid))


def _stats(node):
    return bh.cluster_info(node)


def _count(info, name):
    return int(info.get(f"cluster_stats_messages_{name}_received", 0))


def test_big_publish_is_skipped_not_held(servers):
    nodes = bh.start_cluster(servers, 3)
    ids = [bh.myid(n) for n in nodes]
    a = nodes[0]
    before = _stats(a)
    base_rss = bh.rss_kb(a.pid)
    peak = [base_rss]
    sender = bh.random_name()
    with bh.BusConn(bh.bus_port(a), timeout=30) as conn:
        # A valid 256 MiB PUBLISH: channel "chan1", a message of 256 MiB - 5.
        total = 256 * MIB
        head = bh.header(bh.T_PUBLISH, sender=sender, body_len=8 + total) + \
            struct.pack(">II", 5, total - 5)
        _stream(conn, head, total, a, peak)
        # The link still works: a PING right behind it is answered.
        conn.send(bh.ping(sender=sender))
        bh.expect_pong(conn, ids[0], timeout=30)
        assert peak[0] - base_rss < 24 * 1024, f"RSS grew from {base_rss} kB to {peak[0]} kB"
        # A 64 MiB MODULE frame (module id, length, type, payload).
        mod = 64 * MIB
        head = bh.header(T_MODULE, sender=sender, body_len=13 + mod) + \
            struct.pack("<Q", 0x1234) + struct.pack(">I", mod) + b"\x01"
        _stream(conn, head, mod, a, peak)
        # A type 7.0.15 does not know, 8 MiB long: only its header counts.
        _stream(conn, bh.header(42, sender=sender, body_len=8 * MIB), 8 * MIB, a, peak)
        # A FAIL frame 1 MiB long: invalid whatever it holds, dropped, link kept.
        _stream(conn, bh.header(bh.T_FAIL, sender=sender, body_len=MIB), MIB, a, peak)
        # A PUBLISH whose lengths do not add up: dropped as 7.0.15 drops it.
        bad = bh.header(bh.T_PUBLISH, sender=sender, body_len=8 + 4 * MIB) + struct.pack(">II", 5, 5)
        _stream(conn, bad, 4 * MIB, a, peak)
        conn.send(bh.ping(sender=sender))
        bh.expect_pong(conn, ids[0], timeout=30)
        assert conn.nothing_within(0.3), f"the node sent more than a PONG: {conn.buf[:32]!r}"
    # Nothing near the frames' size was held: 330 MiB went through.
    assert peak[0] - base_rss < 24 * 1024, (base_rss, peak[0])
    after = _stats(a)
    assert _count(after, "publish") - _count(before, "publish") == 2, after
    assert _count(after, "module") - _count(before, "module") == 1, after
    assert _count(after, "fail") - _count(before, "fail") == 1, after
    bh.wait_healthy(nodes, 3, timeout=15)
    assert a.ping_ok()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_publish_header_still_applies(servers, kind):
    """7.0.15 takes the sender's currentEpoch from any frame's header, PUBLISH included;
    so do we although the body is skipped. It acts on the frame only once all of it is
    read: the header names node 1, and binding our connection to node 1 closes node 1's
    own inbound link, after which node 1 connects again and its first PING binds that
    new link, closing ours. Done while the body still streams in, that cuts our frame;
    the pause mid-body leaves node 1 the time to do so."""
    nodes = bh.start_cluster(servers, 3, kind=kind)
    ids = [bh.myid(n) for n in nodes]
    a = nodes[0]
    epoch = int(_stats(a)["cluster_current_epoch"])
    peak = [0]
    with bh.BusConn(bh.bus_port(a), timeout=30) as conn:
        body = 16 * MIB
        head = bh.header(bh.T_PUBLISH, sender=ids[1], body_len=8 + body, current_epoch=epoch + 7) + \
            struct.pack(">II", 3, body - 3)
        _stream(conn, head, body, a, peak, pause_at=8 * MIB, pause=1.5)
        h.wait_until(lambda: int(_stats(a)["cluster_current_epoch"]) == epoch + 7, 10, interval=0.1,
                     what="currentEpoch taken from the PUBLISH header")
    bh.wait_healthy(nodes, 3, timeout=30)


def test_publish_from_redis_node_in_mixed_cluster(servers):
    reds = [servers.redis() for _ in range(2)]
    shoals = [servers.shoal() for _ in range(2)]
    order = [reds[0], shoals[0], reds[1], shoals[1]]
    r = bh.create_cluster(order, replicas=0)
    assert r.returncode == 0, f"create exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    bh.wait_healthy(order, 4, timeout=30)
    links_before = {s.port: {(l["direction"], l["node"], l["create-time"]) for l in bh.cluster_links(s)}
                    for s in shoals}
    before = [_stats(s) for s in shoals]
    with reds[0].raw() as c:
        for i in range(3):
            c.call("PUBLISH", "news", ("m%d" % i) * 100000)
    h.wait_until(lambda: all(_count(_stats(s), "publish") - _count(b, "publish") >= 3
                             for s, b in zip(shoals, before)), 10, interval=0.1,
                 what="the shoal nodes receiving the three PUBLISH frames")
    for s in shoals:
        now = {(l["direction"], l["node"], l["create-time"]) for l in bh.cluster_links(s)}
        assert now == links_before[s.port], (s.port, links_before[s.port], now)
    # The other way: PUBLISH on a shoal node travels the bus to every node (7.0.15's
    # clusterPropagatePublish); a subscriber on a redis-server node gets it. Nobody
    # subscribes on the shoal nodes here, so it answers 0 receivers, as redis-server does when
    # none of its own clients subscribed.
    with reds[1].raw() as sub:
        sub.send(h.encode("SUBSCRIBE", "news"))
        assert sub.read()[1] == [b"subscribe", b"news", 1]
        with shoals[0].raw() as c:
            assert c.call("PUBLISH", "news", "from shoal") == 0
        assert sub.read()[1] == [b"message", b"news", b"from shoal"]
        with shoals[1].raw() as c:
            assert c.call("PUBLISH", "news", "x" * 300000) == 0
        assert sub.read()[1] == [b"message", b"news", b"x" * 300000]
    bh.wait_healthy(order, 4, timeout=15)


def test_bus_publish_reaches_the_links_own_worker_without_a_message(servers):
    """A PUBLISH frame read by a link on worker W goes to W's own subscribers in that
    loop round, not as a message through W's mailbox (one wake-up and a second write
    per subscriber a round later). With one worker, 500 published messages cost it no
    actor message per message (it took one each before); every one arrives, in order."""
    from test_direct_reply import _threads
    nodes = bh.start_cluster(servers, 3, extra_args=["--worker-threads", "1"])
    a, b = nodes[0], nodes[1]
    sub = b.raw(timeout=15)
    sub.send(h.encode("SUBSCRIBE", "news"))
    sub.read()
    try:
        with b.raw() as c:
            before = _threads(c)["worker-0"][1]
        rounds = 500
        bh.publish_in_order(a, sub, "news", rounds)
        with b.raw() as c:
            after = _threads(c)["worker-0"][1]
        assert after - before < rounds // 2, (before, after)
    finally:
        sub.close()
