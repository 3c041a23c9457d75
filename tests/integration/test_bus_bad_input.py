"""Bad input on the cluster bus, sent over raw TCP to a node's bus port.

What it is for: the cluster bus's bad-input scenarios. Each case opens its own connection(s)
to one node of a healthy 3-node shoal cluster and sends malformed or hostile bytes;
the expected handling is 7.0.15's (docs/cluster-bus.md §1.5, §1.6, §4.7, §8.1, §8.12):
* a bad signature or a totlen below 2256 closes that link;
* a frame that fails the length/version/type checks is dropped, no reply, the link
  stays open (a valid PING afterwards on the same connection gets its PONG);
* an unknown type is ignored, the link stays open;
* an oversize totlen must not make the node allocate or hold gigabytes;
* a gossip entry with an upper-case node name (which aborts 7.0.15) does nothing.
After every case: the node answers PING on its client port, it still sees the same
3-node cluster in state ok, the other nodes are unaffected, a connection opened
before the case still works, and a fresh bus connection gets a PONG to a PING.

What it must never do: relax a check to match our node; leave a connection open
after its case; signal a process the test did not start.
"""
import random
import socket
import struct
import time

import pytest

import conftest
import helpers as h
import bushelpers as bh

# Under pytest-xdist every case of this file runs on one worker, so that the module's
# cluster (_module_cluster) is built once, not once per case.
pytestmark = pytest.mark.xdist_group("test_bus_bad_input")

SEED = 20261125


def _valid_ping():
    return bh.ping()


# --- the cases -----------------------------------------------------------------
# Each returns the expectation for its own connection: "closed" or "open"
# ("open" = the node must keep the link and answer a later PING with a PONG).

def case_bad_signature(conn, ctx):
    conn.send(b"RCmX" + _valid_ping()[4:])
    return "closed"


def case_bad_signature_lowercase(conn, ctx):
    conn.send(b"rcmb" + _valid_ping()[4:])
    return "closed"


def case_totlen_below_minimum(conn, ctx):
    conn.send(bh.with_fields(_valid_ping(), totlen=2255))
    return "closed"


def case_totlen_tiny_first_8_bytes_only(conn, ctx):
    conn.send(b"RCmb" + struct.pack(">I", 100))
    return "closed"


def case_totlen_zero(conn, ctx):
    conn.send(b"RCmb" + struct.pack(">I", 0) + b"\0" * 64)
    return "closed"


def case_ping_count_above_body(conn, ctx):
    # count says 3 entries, the frame holds 2 (totlen consistent with 2).
    e = bh.gossip_entry(bh.random_name(), port=1234, cport=11234)
    f = bh.header(bh.T_PING, sender=bh.random_name(), count=3, totlen=bh.HDR_LEN + 2 * 104)
    conn.send(f + e + e)
    return "open"


def case_ping_count_below_body(conn, ctx):
    e = bh.gossip_entry(bh.random_name(), port=1234, cport=11234)
    f = bh.header(bh.T_PING, sender=bh.random_name(), count=1, totlen=bh.HDR_LEN + 2 * 104)
    conn.send(f + e + e)
    return "open"


def case_ping_count_max_no_body(conn, ctx):
    conn.send(bh.header(bh.T_PING, sender=bh.random_name(), count=65535, totlen=bh.HDR_LEN))
    return "open"


def case_pong_and_meet_bad_length(conn, ctx):
    for t in (bh.T_PONG, bh.T_MEET):
        conn.send(bh.header(t, sender=bh.random_name(), count=0, totlen=bh.HDR_LEN + 8) + b"\0" * 8)
    return "open"


def case_fixed_types_bad_length(conn, ctx):
    name = bh.random_name()
    # FAIL must be 2296, UPDATE 4352, AUTH_REQUEST/ACK/MFSTART 2256.
    conn.send(bh.header(bh.T_FAIL, sender=name, body_len=48) + b"a" * 48)
    conn.send(bh.header(bh.T_UPDATE, sender=name, body_len=2000) + b"\0" * 2000)
    for t in (bh.T_AUTH_REQ, bh.T_AUTH_ACK, bh.T_MFSTART):
        conn.send(bh.header(t, sender=name, body_len=16) + b"\0" * 16)
    # PUBLISH whose lengths do not add up to totlen.
    body = struct.pack(">II", 5, 1000) + b"chan1" + b"hello"
    conn.send(bh.header(bh.T_PUBLISH, sender=name, body_len=len(body)) + body)
    return "open"


def case_wrong_version(conn, ctx):
    conn.send(bh.header(bh.T_PING, sender=bh.random_name(), ver=2))
    conn.send(bh.header(bh.T_PING, sender=bh.random_name(), ver=0))
    return "open"


def case_extension_not_multiple_of_8(conn, ctx):
    ext = struct.pack(">IHH", 27, 0, 0) + b"x" * 19
    f = bh.header(bh.T_PING, sender=bh.random_name(), count=0, totlen=bh.HDR_LEN + len(ext),
                  extensions=1, mflags=bh.M_EXT_DATA)
    conn.send(f + ext)
    return "open"


def case_extension_longer_than_frame(conn, ctx):
    ext = struct.pack(">IHH", 4096, 0, 0) + b"host\0\0\0\0"
    f = bh.header(bh.T_PING, sender=bh.random_name(), count=0, totlen=bh.HDR_LEN + len(ext),
                  extensions=1, mflags=bh.M_EXT_DATA)
    conn.send(f + ext)
    return "open"


def case_extension_count_without_flag(conn, ctx):
    ext = bh.hostname_ext("sneaky.test")
    f = bh.header(bh.T_PING, sender=bh.random_name(), count=0, totlen=bh.HDR_LEN + len(ext),
                  extensions=1, mflags=0)
    conn.send(f + ext)
    return "open"


def case_extension_zero_length_record(conn, ctx):
    # A zero-length record would make a naive walker spin in place.
    ext = struct.pack(">IHH", 0, 0, 0) + b"\0" * 8
    f = bh.header(bh.T_PING, sender=bh.random_name(), count=0, totlen=bh.HDR_LEN + len(ext),
                  extensions=1, mflags=bh.M_EXT_DATA)
    conn.send(f + ext)
    return "open"


def case_unknown_type_42(conn, ctx):
    conn.send(bh.header(42, sender=bh.random_name()))
    conn.send(bh.header(42, sender=bh.random_name(), body_len=100) + b"\xff" * 100)
    conn.send(bh.header(0xFFFF, sender=bh.random_name()))
    # The same from a known sender (node C's own header), on a side connection: the
    # node binds that connection to C, and C's own reconnect may later replace it
    # (§1.4), so only the answer to the PING that follows is checked there.
    with bh.BusConn(ctx["bus_port"]) as side:
        side.send(bh.with_fields(ctx["c_header"], type=42, totlen=bh.HDR_LEN + 100) + b"\xff" * 100)
        side.send(ctx["c_header"])
        bh.expect_pong(side, ctx["ids"][0])
    return "open"


def case_truncated_frame_then_close(conn, ctx):
    f = bh.vector("bus-ping-3gossip.bin")
    conn.send(f[:1500])
    conn.close()
    c2 = bh.BusConn(ctx["bus_port"])
    c2.send(f[:8])
    c2.close()
    c3 = bh.BusConn(ctx["bus_port"])
    c3.send(f[:5])
    c3.close()
    return None


def case_random_bytes(conn, ctx):
    rnd = random.Random(SEED)
    data = bytearray(rnd.getrandbits(8) for _ in range(65536))
    data[0] = ord("x")   # never a valid signature by chance
    conn.send(bytes(data))
    return "closed"


def case_random_bodies_after_valid_framing(conn, ctx):
    rnd = random.Random(SEED + 1)
    for n in (0, 104, 312, 2096, 5000):
        body = bytes(rnd.getrandbits(8) for _ in range(bh.HDR_LEN - 8 + n))
        conn.send(b"RCmb" + struct.pack(">I", bh.HDR_LEN + n) + body)
    return "open"


def case_uppercase_gossip_name(conn, ctx):
    # A PING that really comes from node C's header (so the gossip is processed, as by a
    # known sender), whose one gossip entry names a node with upper-case hex. Twice:
    # the second entry with the same bad name is what aborts 7.0.15 (docs/cluster-bus.md §8.1).
    bad = ("%040x" % random.Random(SEED).getrandbits(160)).upper()
    assert bad != bad.lower()
    entry = bh.gossip_entry(bad, port=1, cport=10001, flags=bh.F_MASTER)
    hdr = ctx["c_header"]
    frame = bh.with_fields(hdr, count=1, totlen=bh.HDR_LEN + bh.GOSSIP_LEN) + entry
    # On a side connection: it gets bound to C, and C's own reconnect may replace it.
    with bh.BusConn(ctx["bus_port"]) as side:
        for _ in range(2):
            side.send(frame)
            bh.expect_pong(side, ctx["ids"][0])
    # Also from an unknown sender, and inside a MEET.
    conn.send(bh.ping(gossip=[entry, entry]))
    bh.expect_pong(conn, ctx["ids"][0])
    conn.send(bh.ping(gossip=[entry], type_=bh.T_MEET))
    bh.expect_pong(conn, ctx["ids"][0])
    time.sleep(0.5)  # let the state actor apply what it was sent
    ids = [v["id"] for v in bh.cluster_nodes(ctx["node"])]
    assert all(i == i.lower() for i in ids), ids
    assert bad not in ids and bad.lower() not in ids, ids
    return "open"


CASES = [
    case_bad_signature, case_bad_signature_lowercase, case_totlen_below_minimum,
    case_totlen_tiny_first_8_bytes_only, case_totlen_zero, case_ping_count_above_body,
    case_ping_count_below_body, case_ping_count_max_no_body, case_pong_and_meet_bad_length,
    case_fixed_types_bad_length, case_wrong_version, case_extension_not_multiple_of_8,
    case_extension_longer_than_frame, case_extension_count_without_flag,
    case_extension_zero_length_record, case_unknown_type_42, case_truncated_frame_then_close,
    case_random_bytes, case_random_bodies_after_valid_framing, case_uppercase_gossip_name,
]


@pytest.fixture(scope="module")
def _module_cluster(request, tmp_path_factory):
    """One 3-node cluster for the whole module (building one takes ~3 s); every case
    must leave it healthy, which _assert_unharmed checks."""
    ss = conftest.ServerSet(request.node, tmp_path_factory.mktemp("bus-bad-input"))
    try:
        nodes = bh.start_cluster(ss, 3)
        yield nodes, [bh.myid(n) for n in nodes]
    finally:
        problems = ss.stop_all()
        if problems:
            pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def cluster3(request, _module_cluster):
    nodes, ids = _module_cluster
    offsets = []
    for n in nodes:
        conftest._attach(request.node, n)   # logs of a failing case go into its report
        offsets.append(len(n.log()))
    for n in nodes:
        assert n.alive(), f"node :{n.port} died in an earlier case"
    yield nodes, ids
    problems = [p for n, off in zip(nodes, offsets) if (p := conftest._health_problems(n, off))]
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


def _snapshot(nodes):
    return {bh.myid(n): {v["id"]: bh.comparable(v) for v in bh.cluster_nodes(n)} for n in nodes}


def _assert_unharmed(nodes, ids, before, witness):
    a = nodes[0]
    assert a.alive(), f"node :{a.port} died"
    assert a.ping_ok(), "node stopped answering PING on its client port"
    # The connection opened before the case is untouched and still answered.
    witness.send(_valid_ping())
    bh.expect_pong(witness, ids[0])
    # A fresh bus connection gets a PONG.
    bh.probe_pong(a, ids[0])
    # Cluster state and views unchanged everywhere.
    bh.wait_healthy(nodes, 3, timeout=15)
    assert _snapshot(nodes) == before
    info = bh.cluster_info(a)
    assert info["cluster_known_nodes"] == "3" and info["cluster_state"] == "ok", info


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[5:] for c in CASES])
def test_bad_bus_input(cluster3, case):
    nodes, ids = cluster3
    a = nodes[0]
    ctx = {"node": a, "ids": ids, "bus_port": bh.bus_port(a),
           "c_header": bh.own_header_ping(nodes[2], ids[2])}
    before = _snapshot(nodes)
    with bh.BusConn(bh.bus_port(a)) as witness:
        witness.send(_valid_ping())
        bh.expect_pong(witness, ids[0])
        conn = bh.BusConn(bh.bus_port(a))
        try:
            expect = case(conn, ctx)
            if expect == "closed":
                assert conn.closed_within(3.0), "the node kept a link that sent a bad header"
                assert not conn.buf, f"the node answered a bad header: {conn.buf[:32]!r}"
            elif expect == "open":
                assert conn.nothing_within(0.4), \
                    f"the node answered or closed after a dropped frame: {conn.buf[:32]!r}"
                conn.send(_valid_ping())
                bh.expect_pong(conn, ids[0])
        finally:
            conn.close()
        _assert_unharmed(nodes, ids, before, witness)


def test_oversize_totlen_does_not_allocate_gigabytes(cluster3):
    nodes, ids = cluster3
    a = nodes[0]
    before = _snapshot(nodes)
    base = bh.proc_status(a.pid)
    chunk = b"\0" * 65536
    with bh.BusConn(bh.bus_port(a)) as witness:
        witness.send(_valid_ping())
        bh.expect_pong(witness, ids[0])
        for type_ in (bh.T_PING, bh.T_PUBLISH, 42):
            conn = bh.BusConn(bh.bus_port(a))
            peak_rss, peak_size = 0, 0
            try:
                conn.send(bh.with_fields(bh.header(type_, sender=bh.random_name()),
                                         totlen=0x7FFFFFFF))
                # Stream up to 16 MiB of the promised body (or until the node closes).
                conn.sock.settimeout(5.0)
                sent = 0
                try:
                    while sent < 16 * 1024 * 1024:
                        conn.sock.sendall(chunk)
                        sent += len(chunk)
                        if sent % (1024 * 1024) == 0:
                            st = bh.proc_status(a.pid)
                            peak_rss = max(peak_rss, st["VmRSS"])
                            peak_size = max(peak_size, st["VmSize"])
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    pass
                time.sleep(0.2)
                st = bh.proc_status(a.pid)
                peak_rss = max(peak_rss, st["VmRSS"])
                peak_size = max(peak_size, st["VmSize"])
            finally:
                conn.close()
            assert a.alive()
            # Holding what was actually sent (16 MiB) is fine; anything near totlen is not.
            assert peak_rss - base["VmRSS"] < 96 * 1024, (type_, base, peak_rss)
            assert peak_size - base["VmSize"] < 1024 * 1024, (type_, base, peak_size)
        _assert_unharmed(nodes, ids, before, witness)
    # Memory goes back down once those links are gone.
    h.wait_until(lambda: bh.rss_kb(a.pid) - base["VmRSS"] < 48 * 1024, 10, interval=0.2,
                 what="RSS back near its level before the oversize frames")
