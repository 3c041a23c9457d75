"""Bus links seen from the outside: CLUSTER LINKS, message statistics, the announce
settings, the send-buffer limit with a stopped peer, and the packet drop filter.

What it is for: the bus's link-level behaviour, compared with redis-server 7.0.15
(docs/cluster-bus.md §1.5, §1.7, §5.4, §5.10; docs/clients.md §3.1, §3.22, §6):
* CLUSTER LINKS: one `to` and one `from` link per peer, exactly 7.0.15's 6 fields in
  its order, each peer's `to` link followed by its `from` link, key for key as
  redis-server shows them; our per-peer round-trip times live in `INFO peers`
  instead, which neither the default INFO nor `INFO all`/`everything` shows;
* CLUSTER INFO cluster_stats_messages_* grow, totals are the sums of the types;
* CONFIG SET cluster-announce-hostname/-port/-bus-port show in our own CLUSTER NODES
  at once and in the peers' views within seconds, and undoing them restores the cluster;
* cluster-link-sendbuf-limit: a peer that stops reading (SIGSTOP) cannot make us
  buffer more than the limit; the link is dropped and counted in
  total_cluster_links_buffer_limit_exceeded; the cluster recovers after SIGCONT;
* DEBUG DROP-CLUSTER-PACKET-FILTER <type|-1>, with 7.0.15's observed effects.

What it must never do: relax an expectation to match our node; leave a process
stopped (every SIGSTOP has its SIGCONT in a finally); signal a process it did not start.
"""
import re
import signal
import socket
import threading
import time

import helpers as h
import bushelpers as bh

LINK_KEYS = ["direction", "node", "create-time", "events", "send-buffer-allocated",
             "send-buffer-used"]


def _links_complete(server, peer_ids):
    links = bh.cluster_links(server)
    pairs = sorted((l["direction"], l["node"]) for l in links)
    want = sorted([(b"to", p.encode()) for p in peer_ids] + [(b"from", p.encode()) for p in peer_ids])
    return pairs == want


def _assert_to_then_from(links):
    """7.0.15 walks its node table and shows each node's `to` link, then its `from`
    link: the entries come in pairs by node, `to` first."""
    seen = []
    for l in links:
        if not seen or seen[-1][0] != l["node"]:
            seen.append((l["node"], [l["direction"]]))
        else:
            seen[-1][1].append(l["direction"])
    names = [s[0] for s in seen]
    assert len(names) == len(set(names)), f"a node's links are not adjacent: {links}"
    for node, dirs in seen:
        assert dirs in ([b"to", b"from"], [b"to"], [b"from"]), (node, dirs)


def _meshed_cluster(servers, kind):
    """Three masters of `kind`, returned once each has one link to and one from every peer."""
    nodes = bh.start_cluster(servers, 3, kind=kind)
    ids = [bh.myid(n) for n in nodes]
    for i, n in enumerate(nodes):
        peers = [x for j, x in enumerate(ids) if j != i]
        h.wait_until(lambda n=n, peers=peers: _links_complete(n, peers), 10, interval=0.1,
                     what=f"{kind} :{n.port} having one to and one from link per peer")
    return nodes


def test_cluster_links_same_shape_as_redis(servers):
    """Key order and entry order compared with a redis-server 7.0.15 cluster run the
    same way."""
    for kind in ("redis", "shoal"):
        nodes = _meshed_cluster(servers, kind)
        for n in nodes:
            links = bh.cluster_links(n)
            assert len(links) == 4, (kind, links)
            for l in links:
                assert l["_keys"] == LINK_KEYS, (kind, l["_keys"])
            _assert_to_then_from(links)
            with n.raw() as c:
                c.call("HELLO", "3")
                v = c.call("CLUSTER", "LINKS")
            for m in v:
                assert [k.decode() for k, _ in m] == LINK_KEYS, (kind, m)


def _info_sections(server, *args):
    with server.raw() as c:
        text = c.call("INFO", *args).decode()
    return text, [ln[2:] for ln in text.split("\r\n") if ln.startswith("# ")]


def test_info_peers_section(servers):
    """`INFO peers`: one line per peer with its round-trip time, the age of its last
    PONG and the bytes of its two links. redis-server 7.0.15 knows no such section
    (its INFO peers is empty), and neither the default INFO nor all/everything shows
    ours, so no reply redis-server gives changes."""
    r = servers.redis()
    text, secs = _info_sections(r, "peers")
    assert text == "" and secs == [], text
    want_default = _info_sections(r)[1]
    want_all = _info_sections(r, "all")[1]
    want_everything = _info_sections(r, "everything")[1]

    nodes = _meshed_cluster(servers, "shoal")
    ids = [bh.myid(n) for n in nodes]
    assert _info_sections(nodes[0])[1] == want_default
    assert _info_sections(nodes[0], "all")[1] == want_all
    assert _info_sections(nodes[0], "everything")[1] == want_everything
    assert _info_sections(nodes[0], "default")[1] == want_default

    line_re = re.compile(r"^peer(\d+):node=([0-9a-f]{40}),ip=([^,]*),port=(\d+),cport=(\d+),"
                         r"rtt_ms=(-?\d+),last_pong_ms=(-?\d+),to_sent=(-?\d+),to_received=(-?\d+),"
                         r"from_sent=(-?\d+),from_received=(-?\d+)$")

    def peers_of(n):
        text, secs = _info_sections(n, "peers")
        assert secs == ["Peers"], text
        rows = []
        for ln in text.split("\r\n")[1:]:
            if not ln:
                continue
            m = line_re.match(ln)
            assert m, ln
            rows.append(m.groups())
        return rows

    def measured():
        rows = peers_of(nodes[0])
        return len(rows) == 2 and all(int(r[5]) >= 0 and int(r[6]) >= 0 and int(r[7]) > 0
                                      and int(r[8]) > 0 and int(r[9]) > 0 and int(r[10]) > 0
                                      for r in rows)
    h.wait_until(measured, 10, interval=0.2, what="rtt, pong age and link bytes known for both peers")
    rows = peers_of(nodes[0])
    assert [r[0] for r in rows] == ["0", "1"]
    assert sorted(r[1] for r in rows) == sorted(ids[1:])
    by_id = {r[1]: r for r in rows}
    for n, nid in zip(nodes[1:], ids[1:]):
        assert int(by_id[nid][3]) == n.port
        assert int(by_id[nid][4]) == n.port + 10000
        assert int(by_id[nid][5]) < 2000      # rtt on loopback
        assert int(by_id[nid][6]) < 10000     # PINGs go out at least every node-timeout/2
    # and the bytes grow as PINGs keep flowing
    first = {r[1]: int(r[7]) for r in rows}
    h.wait_until(lambda: all(int(r[7]) > first[r[1]] for r in peers_of(nodes[0])), 10, interval=0.2,
                 what="to-link bytes growing")


def test_cluster_links_shape_and_message_stats(servers):
    nodes = _meshed_cluster(servers, "shoal")
    ids = [bh.myid(n) for n in nodes]

    now_ms = int(time.time() * 1000)
    for n in nodes:
        for l in bh.cluster_links(n):
            assert l["_keys"] == LINK_KEYS, l["_keys"]
            assert l["direction"] in (b"to", b"from")
            assert isinstance(l["create-time"], int)
            assert now_ms - 120_000 < l["create-time"] <= now_ms + 2000, l
            assert l["events"] in (b"r", b"w", b"rw", b""), l
            assert isinstance(l["send-buffer-allocated"], int) and l["send-buffer-allocated"] >= 0
            assert isinstance(l["send-buffer-used"], int)
            assert 0 <= l["send-buffer-used"] <= max(l["send-buffer-allocated"], 0), l
        _assert_to_then_from(bh.cluster_links(n))

    # RESP3: the same entries as maps, in the same key order.
    with nodes[0].raw() as c:
        c.call("HELLO", "3")
        v = c.call("CLUSTER", "LINKS")
    assert isinstance(v, list) and len(v) == 4, v
    for m in v:
        assert isinstance(m, h.Map), m
        assert [k.decode() for k, _ in m] == LINK_KEYS

    # Message statistics: per-type lines in type order, totals equal the sums, and the
    # PING/PONG counters grow on every node.
    order = ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update",
             "mfstart", "module", "publishshard"]

    def stats(n):
        with n.raw() as c:
            text = c.call("CLUSTER", "INFO").decode()
        keys = [ln.split(":")[0] for ln in text.split("\r\n") if ln]
        sent = [k for k in keys if k.startswith("cluster_stats_messages_") and k.endswith("_sent")]
        recv = [k for k in keys if k.startswith("cluster_stats_messages_")
                and k.endswith("_received")]
        assert sent[-1] == "cluster_stats_messages_sent", sent
        assert recv[-1] == "cluster_stats_messages_received", recv
        for group, suffix in ((sent, "_sent"), (recv, "_received")):
            types = [k[len("cluster_stats_messages_"):-len(suffix)] for k in group[:-1]]
            assert types == sorted(types, key=order.index), types
        assert keys.index(sent[-1]) < keys.index(recv[0])
        d = h.info_dict(text)
        tot_s = sum(int(d[k]) for k in sent[:-1])
        tot_r = sum(int(d[k]) for k in recv[:-1])
        assert int(d["cluster_stats_messages_sent"]) == tot_s, d
        assert int(d["cluster_stats_messages_received"]) == tot_r, d
        assert keys[-1] == "total_cluster_links_buffer_limit_exceeded", keys
        return d

    first = [stats(n) for n in nodes]
    # redis-cli sent CLUSTER MEET to nodes 1 and 2 (towards node 0).
    assert int(first[0].get("cluster_stats_messages_meet_received", 0)) >= 2, first[0]
    for d in first[1:]:
        assert int(d.get("cluster_stats_messages_meet_sent", 0)) >= 1, d

    def grown():
        for n, f in zip(nodes, first):
            d = stats(n)
            for k in ("ping_sent", "pong_sent", "ping_received", "pong_received"):
                if int(d.get(f"cluster_stats_messages_{k}", 0)) <= int(f.get(f"cluster_stats_messages_{k}", 0)):
                    return False
        return True
    h.wait_until(grown, 10, interval=0.2, what="ping/pong sent/received counters growing")


def _addr_in_view(view_server, node_id):
    for v in bh.cluster_nodes(view_server):
        if v["id"] == node_id:
            return v["addr"]
    return None


def test_config_set_announce_settings(servers):
    nodes = bh.start_cluster(servers, 3)
    a = nodes[0]
    ida = bh.myid(a)
    real = f"127.0.0.1:{a.port}@{a.port + 10000}"
    fake_port = 12000 + a.port % 1000
    nowhere_bus = h.free_port() + 10000     # nothing listens there

    def cfg(*args):
        with a.raw() as c:
            return c.call("CONFIG", *args)

    # Hostname.
    assert cfg("SET", "cluster-announce-hostname", "a-node.test") == "OK"
    assert cfg("GET", "cluster-announce-hostname") == [b"cluster-announce-hostname", b"a-node.test"]
    for peer in nodes:
        h.wait_until(lambda p=peer: _addr_in_view(p, ida) == real + ",a-node.test", 8, interval=0.1,
                     what=f":{peer.port} seeing the hostname")
    # Invalid hostnames are refused with 7.0.15's message.
    r = cfg("SET", "cluster-announce-hostname", "bad_name!")
    assert isinstance(r, h.Error) and "Hostnames may only contain alphanumeric characters, " \
        "hyphens or dots" in r, r
    assert cfg("SET", "cluster-announce-hostname", "") == "OK"
    for peer in nodes[1:]:
        h.wait_until(lambda p=peer: _addr_in_view(p, ida) == real, 8, interval=0.1,
                     what=f":{peer.port} dropping the hostname")

    # Client port: shown at once on our myself line, then by the peers.
    assert cfg("SET", "cluster-announce-port", str(fake_port)) == "OK"
    assert cfg("GET", "cluster-announce-port") == [b"cluster-announce-port", str(fake_port).encode()]
    want = f"127.0.0.1:{fake_port}@{a.port + 10000}"
    for peer in nodes:
        h.wait_until(lambda p=peer: _addr_in_view(p, ida) == want, 8, interval=0.1,
                     what=f":{peer.port} seeing the announced port")
    # MOVED from a peer now points at the announced port.
    with nodes[1].raw() as c:
        key = next(k for k in (f"k{i}" for i in range(1000))
                   if 0 <= c.call("CLUSTER", "KEYSLOT", k) <= 5460)
        v = c.call("GET", key)
    assert isinstance(v, h.Error) and v.endswith(f" 127.0.0.1:{fake_port}"), v
    assert cfg("SET", "cluster-announce-port", "0") == "OK"
    for peer in [a] + nodes[1:]:
        h.wait_until(lambda p=peer: _addr_in_view(p, ida) == real, 8, interval=0.1,
                     what=f":{peer.port} back to the real port")

    # Bus port: the peers take it (and lose their link to us, since nothing listens
    # there); setting it back to 0 restores the real bus port and the links.
    assert cfg("SET", "cluster-announce-bus-port", str(nowhere_bus)) == "OK"
    want = f"127.0.0.1:{a.port}@{nowhere_bus}"
    for peer in nodes:
        h.wait_until(lambda p=peer: _addr_in_view(p, ida) == want, 8, interval=0.1,
                     what=f":{peer.port} seeing the announced bus port")
    assert cfg("SET", "cluster-announce-bus-port", "0") == "OK"
    bh.wait_healthy(nodes, 3, timeout=20)
    for peer in nodes[1:]:
        assert _addr_in_view(peer, ida) == real


def test_announce_settings_show_at_once_in_own_cluster_nodes(node):
    """7.0.15 applies the announce settings to its own record inside CONFIG SET: a
    CLUSTER NODES right behind it on the same connection already shows them."""
    with node.raw() as c:
        base = f":{node.port}@{node.port + 10000}"
        steps = [
            ("cluster-announce-hostname", "at-once.test", f":{node.port}@{node.port + 10000},at-once.test"),
            ("cluster-announce-port", "12345", f":12345@{node.port + 10000},at-once.test"),
            ("cluster-announce-bus-port", "12346", ":12345@12346,at-once.test"),
            ("cluster-announce-hostname", "", ":12345@12346"),
            ("cluster-announce-port", "0", f":{node.port}@12346"),
            ("cluster-announce-bus-port", "0", base),
        ]
        for name, value, want in steps:
            c.send(h.encode("CONFIG", "SET", name, value) + h.encode("CLUSTER", "NODES"))
            assert c.read()[1] == "OK"
            me = h.parse_nodes(c.read()[1])[0]
            assert me["addr"] == want, (name, value, me["line"])


def test_sendbuf_limit_with_stopped_peer(servers):
    nodes = bh.start_cluster(servers, 3)
    a, b, c = nodes
    ida, idb = bh.myid(a), bh.myid(b)
    limit = 128 * 1024
    with a.raw() as conn:
        assert conn.call("CONFIG", "SET", "cluster-link-sendbuf-limit", str(limit)) == "OK"
        assert conn.call("CONFIG", "GET", "cluster-link-sendbuf-limit") == \
            [b"cluster-link-sendbuf-limit", str(limit).encode()]
    assert bh.cluster_info(a)["total_cluster_links_buffer_limit_exceeded"] == "0"
    b_ping = bh.own_header_ping(b, idb)   # a PING exactly as B would send it
    log_offset = len(a.log())
    rss0 = bh.rss_kb(a.pid)

    # B stops. A peer link carrying B's identity, whose other end never reads, then
    # keeps A answering PINGs: every PONG has to wait in A's send buffer for B.
    peak_alloc, peak_rss, exceeded = 0, 0, 0
    b.signal(signal.SIGSTOP)
    flood = None
    stop = threading.Event()
    result = {"sent": 0, "closed": None}
    try:
        flood = bh.BusConn(bh.bus_port(a), rcvbuf=4096)

        def pump():
            batch = b_ping * 32
            flood.sock.settimeout(1.0)
            try:
                while not stop.is_set():
                    try:
                        flood.sock.sendall(batch)
                        result["sent"] += 32
                    except socket.timeout:
                        continue
            except OSError as e:       # EPIPE / ECONNRESET: A closed the link
                result["closed"] = repr(e)
        t = threading.Thread(target=pump, daemon=True)
        t.start()

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for l in bh.cluster_links(a):
                if l["node"] == idb.encode():
                    peak_alloc = max(peak_alloc, l["send-buffer-allocated"])
            peak_rss = max(peak_rss, bh.rss_kb(a.pid))
            exceeded = int(bh.cluster_info(a)["total_cluster_links_buffer_limit_exceeded"])
            if exceeded >= 1 and result["closed"]:
                break
            time.sleep(0.05)
        stop.set()
        t.join(5)
        assert a.alive() and a.ping_ok()
    finally:
        stop.set()
        if flood:
            flood.close()
        b.signal(signal.SIGCONT)

    # B resumes: everything heals, and A has both links to B again.
    bh.wait_healthy(nodes, 3, timeout=20)
    h.wait_until(lambda: _links_complete(a, [idb, bh.myid(c)]), 10, interval=0.1,
                 what="A having one to and one from link to each peer again")
    # Back to no limit.
    with a.raw() as conn:
        assert conn.call("CONFIG", "SET", "cluster-link-sendbuf-limit", "0") == "OK"
    bh.probe_pong(a, ida)

    # What happened while B was stopped (asserted last so that the recovery above is
    # checked whatever happened).
    assert exceeded >= 1, (f"no link was dropped for exceeding the limit; {result['sent']} "
                           f"PINGs sent, peak send buffer {peak_alloc}")
    assert int(bh.cluster_info(a)["total_cluster_links_buffer_limit_exceeded"]) >= exceeded
    assert result["closed"], f"A kept the link whose peer stopped reading ({result['sent']} PINGs)"
    assert peak_rss - rss0 < 32 * 1024, f"RSS grew from {rss0} kB to {peak_rss} kB"
    assert peak_alloc <= limit, (f"send buffer to B reached {peak_alloc} bytes allocated, "
                                 f"over the {limit}-byte limit")
    # Sampling CLUSTER LINKS can miss a short burst; the node's own report of the link
    # it freed (7.0.15's wording) says how much was queued then. Queued data may pass
    # the limit by at most the one frame that crossed it (a PONG here is < 8 KiB).
    for m in re.finditer(r"Freeing cluster link\((?:to|from) node [^,]*, used memory: (\d+)\)",
                         a.log()[log_offset:]):
        assert int(m.group(1)) <= limit + 8192, (
            f"the freed link had {m.group(1)} bytes queued, limit {limit}: {m.group(0)}")


def test_debug_drop_cluster_packet_filter(servers):
    nodes = bh.start_cluster(servers, 3, node_timeout=1000,
                             extra_args=["--enable-debug-command", "yes"])
    a = nodes[0]
    ida = bh.myid(a)
    peers = [bh.myid(n) for n in nodes[1:]]

    def debug(*args):
        with a.raw() as c:
            return c.call("DEBUG", "DROP-CLUSTER-PACKET-FILTER", *args)

    # Type 0 (PING): a PING is dropped before it is answered.
    assert debug("0") == "OK"
    with bh.BusConn(bh.bus_port(a)) as conn:
        conn.send(bh.ping())
        assert conn.nothing_within(1.0), "a PING was answered while PINGs are filtered"
    assert debug("-1") == "OK"
    bh.probe_pong(a, ida)
    bh.wait_healthy(nodes, 3, timeout=15)

    # Type 1 (PONG): our own PINGs stay unanswered. 7.0.15 still counts the dropped
    # PONGs as received, keeps ping-sent set and the pong time frozen; it does not flag
    # the peers fail? because their PINGs still arrive (data counts as liveness, §5.11).
    pongs_before = int(bh.cluster_info(a).get("cluster_stats_messages_pong_received", 0))
    assert debug("1") == "OK"

    def stuck():
        view = {v["id"]: v for v in bh.cluster_nodes(a)}
        return all(view[p]["ping_sent"] != "0" for p in peers) and view
    view0 = h.wait_until(stuck, 10, interval=0.05, what="unanswered PINGs to both peers")
    t_end = time.monotonic() + 1.5        # 1.5 x node_timeout
    while time.monotonic() < t_end:
        view = {v["id"]: v for v in bh.cluster_nodes(a)}
        for p in peers:
            assert view[p]["ping_sent"] == view0[p]["ping_sent"], view[p]["line"]
            assert view[p]["pong_recv"] == view0[p]["pong_recv"], view[p]["line"]
        time.sleep(0.1)
    assert int(bh.cluster_info(a).get("cluster_stats_messages_pong_received", 0)) > pongs_before

    # -1: nothing is dropped any more; the pings get answered and the cluster is whole.
    assert debug("-1") == "OK"

    def answered():
        view = {v["id"]: v for v in bh.cluster_nodes(a)}
        return all(view[p]["ping_sent"] == "0" and view[p]["pong_recv"] != view0[p]["pong_recv"]
                   for p in peers)
    h.wait_until(answered, 15, interval=0.1, what="PONGs accepted again after -1")
    bh.wait_healthy(nodes, 3, timeout=15)

    # Argument errors, as 7.0.15 words them.
    assert debug("x") == "ERR value is not an integer or out of range"
    assert debug() == ("ERR unknown subcommand or wrong number of arguments for "
                       "'DROP-CLUSTER-PACKET-FILTER'. Try DEBUG HELP.")


def test_stopped_node_is_suspected_then_cleared(servers):
    """A node that stops answering is flagged fail? (or already fail) by the others after
    node_timeout (docs/cluster-bus.md §5.10 step 4.4), and the flag goes away once it answers again."""
    nodes = bh.start_cluster(servers, 3, node_timeout=1000)
    a, b, c = nodes
    idc = bh.myid(c)

    def flags_of_c(viewer):
        return next(v for v in bh.cluster_nodes(viewer) if v["id"] == idc)["flags"]
    c.signal(signal.SIGSTOP)
    try:
        for viewer in (a, b):
            h.wait_until(lambda v=viewer: {"fail?", "fail"} & set(flags_of_c(v)), 10, interval=0.05,
                         what=f":{viewer.port} flagging the stopped node")
    finally:
        c.signal(signal.SIGCONT)
    bh.wait_healthy(nodes, 3, timeout=20)
    for viewer in (a, b):
        assert not {"fail?", "fail"} & set(flags_of_c(viewer))


def test_idle_links_hold_no_send_buffer(servers):
    """Between frames a link keeps no send buffer: `send-buffer-allocated` of an idle
    link drops to 0, as redis-server 7.0.15's cron shrinks an unused sndbuf. (Kept at a
    frame's size, 2 links per peer cost ~25 MB of RSS in a 1,000-node cluster.)"""
    for kind in ("redis", "shoal"):
        nodes = _meshed_cluster(servers, kind)
        for n in nodes:
            # every link has sent frames by now (PINGs out, PONGs back); a sample may
            # catch one mid-send, so wait for one where all are idle
            h.wait_until(lambda n=n: all(l["send-buffer-allocated"] == 0
                                         for l in bh.cluster_links(n)), 10, interval=0.05,
                         what=f"{kind} :{n.port} showing no send buffer on idle links")
