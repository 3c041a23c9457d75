"""Helpers for the cluster-bus integration tests (tests/integration/test_bus_*.py).

What it is for: building clusters of real processes with the real `redis-cli
--cluster create`, reading CLUSTER NODES / CLUSTER INFO / CLUSTER LINKS views,
waiting for convergence, and building or reading raw cluster-bus frames
(layout: docs/cluster-bus.md §2 header, §3.2 gossip entries, §4 extensions)
so that tests can talk to a node's bus port like a peer would.

What it must never do: stop or signal a process that the test did not start,
sleep for a fixed long time (everything polls with a deadline), or make a
frame "nicer" than the bytes a test asked for: bad-input tests depend on
exact bytes.
"""
import random
import socket
import struct
import subprocess
import time
from pathlib import Path

import helpers as h

VECTORS = Path(__file__).resolve().parents[1] / "vectors"  # tests/vectors

# --- bus constants (docs/cluster-bus.md §2.2, §3.1, §3.8, §3.9) -----------------
HDR_LEN = 2256
GOSSIP_LEN = 104
FULL_LEN = 4352
T_PING, T_PONG, T_MEET, T_FAIL, T_PUBLISH = 0, 1, 2, 3, 4
T_AUTH_REQ, T_AUTH_ACK, T_UPDATE, T_MFSTART = 5, 6, 7, 8
F_MASTER, F_SLAVE, F_PFAIL, F_FAIL, F_MYSELF = 1, 2, 4, 8, 16
F_HANDSHAKE, F_NOADDR = 32, 64
M_EXT_DATA = 0x04

# header field offsets (docs/cluster-bus.md §2.1)
O_SIG, O_TOTLEN, O_VER, O_PORT, O_TYPE, O_COUNT = 0, 4, 8, 10, 12, 14
O_CUR_EPOCH, O_CFG_EPOCH, O_OFFSET, O_SENDER = 16, 24, 32, 40
O_MYSLOTS, O_SLAVEOF, O_MYIP, O_EXTENSIONS = 80, 2128, 2168, 2214
O_PPORT, O_CPORT, O_FLAGS, O_STATE, O_MFLAGS = 2246, 2248, 2250, 2252, 2253


def vector(name):
    return (VECTORS / name).read_bytes()


def random_name():
    """A valid (lower-case hex) 40-character node name that no real node has."""
    return "%040x" % random.getrandbits(160)


def slots_bitmap(ranges):
    """2048-byte slot bitmap; slot s is bit (s % 8) of byte s // 8 (docs/cluster-bus.md §2.3)."""
    bm = bytearray(2048)
    for a, b in ranges:
        for s in range(a, b + 1):
            bm[s // 8] |= 1 << (s % 8)
    return bytes(bm)


def _fixed(s, n):
    if isinstance(s, str):
        s = s.encode()
    assert len(s) <= n, (s, n)
    return s + b"\0" * (n - len(s))


def header(type_=T_PING, *, sender, count=0, totlen=None, ver=1, port=0, cport=0, pport=0,
           current_epoch=0, config_epoch=0, offset=0, myslots=b"", slaveof=b"", myip=b"",
           extensions=0, flags=F_MASTER | F_MYSELF, state=0, mflags=0, sig=b"RCmb",
           body_len=None):
    """The 2256-byte fixed part of a bus message. totlen defaults to the exact length of
    a PING/PONG/MEET with `count` gossip entries (or 2256 + body_len when given)."""
    if totlen is None:
        totlen = HDR_LEN + (body_len if body_len is not None else GOSSIP_LEN * count)
    out = b"".join([
        sig,
        struct.pack(">IHHHHQQQ", totlen, ver, port, type_, count,
                    current_epoch, config_epoch, offset),
        _fixed(sender, 40),
        _fixed(myslots, 2048),
        _fixed(slaveof, 40),
        _fixed(myip, 46),
        struct.pack(">H", extensions),
        b"\0" * 30,
        struct.pack(">HHHB", pport, cport, flags, state),
        bytes([mflags, 0, 0]),
    ])
    assert len(out) == HDR_LEN
    return out


def gossip_entry(name, *, ping_sent=0, pong_received=0, ip="127.0.0.1", port=0, cport=0,
                 flags=F_MASTER, pport=0):
    out = (_fixed(name, 40) + struct.pack(">II", ping_sent, pong_received) + _fixed(ip, 46)
           + struct.pack(">HHHHH", port, cport, flags, pport, 0))
    assert len(out) == GOSSIP_LEN
    return out


def hostname_ext(hostname):
    """A hostname ping extension record (type 0), padded to a multiple of 8 (§4.4)."""
    payload = hostname.encode() + b"\0"
    payload += b"\0" * (-len(payload) % 8)
    return struct.pack(">IHH", 8 + len(payload), 0, 0) + payload


def ping(sender=None, gossip=(), type_=T_PING, **kw):
    """A whole PING (or PONG/MEET) frame with the given gossip entries."""
    sender = sender or random_name()
    return header(type_, sender=sender, count=len(gossip), **kw) + b"".join(gossip)


def with_fields(frame, **fields):
    """A copy of a frame (bytes) with some header fields rewritten.
    Fields: totlen, type, count, extensions (u16/u32 as in the layout), sender (str),
    mflags (int), current_epoch, config_epoch."""
    b = bytearray(frame)
    for k, v in fields.items():
        if k == "totlen":
            struct.pack_into(">I", b, O_TOTLEN, v)
        elif k == "type":
            struct.pack_into(">H", b, O_TYPE, v)
        elif k == "count":
            struct.pack_into(">H", b, O_COUNT, v)
        elif k == "extensions":
            struct.pack_into(">H", b, O_EXTENSIONS, v)
        elif k == "sender":
            b[O_SENDER:O_SENDER + 40] = _fixed(v, 40)
        elif k == "mflags":
            b[O_MFLAGS] = v
        elif k == "current_epoch":
            struct.pack_into(">Q", b, O_CUR_EPOCH, v)
        elif k == "config_epoch":
            struct.pack_into(">Q", b, O_CFG_EPOCH, v)
        else:
            raise KeyError(k)
    return bytes(b)


def parse_header(frame):
    """The header fields of a frame as a dict (for assertions)."""
    sig, totlen, ver, port, type_, count, cur, cfg, off = struct.unpack_from(">4sIHHHHQQQ", frame, 0)
    pport, cport, flags, state = struct.unpack_from(">HHHB", frame, O_PPORT)
    return {
        "sig": sig, "totlen": totlen, "ver": ver, "port": port, "type": type_, "count": count,
        "current_epoch": cur, "config_epoch": cfg, "offset": off,
        "sender": frame[O_SENDER:O_SENDER + 40].decode("latin-1"),
        "myslots": frame[O_MYSLOTS:O_MYSLOTS + 2048],
        "slaveof": frame[O_SLAVEOF:O_SLAVEOF + 40],
        "myip": frame[O_MYIP:O_MYIP + 46].split(b"\0")[0],
        "extensions": struct.unpack_from(">H", frame, O_EXTENSIONS)[0],
        "pport": pport, "cport": cport, "flags": flags, "state": state,
        "mflags": frame[O_MFLAGS],
    }


O_LIGHT_ADV = 2238          # the light advertisement (docs/cluster-bus.md §9.2)
O_LIGHT_VIEW = 2230         # the sender's view digest for the link (§9.7)


def as_plain_ping(frame):
    """Turns a node's own PONG (header + gossip + extensions) into a PING carrying the
    same header and no gossip and no extensions: a faithful 'I am this node' PING.
    A shoal node's header advertises the light encoding in its reserved bytes
    (docs/cluster-bus.md §9.2); a test connection does not speak it, so the copy
    leaves those bytes (and the view digest before them) zero, as a node with
    `cluster-light-bus no` sends them."""
    hdr = bytearray(frame[:HDR_LEN])
    hdr[O_LIGHT_VIEW:O_LIGHT_ADV + 8] = b"\0" * 16
    struct.pack_into(">I", hdr, O_TOTLEN, HDR_LEN)
    struct.pack_into(">H", hdr, O_TYPE, T_PING)
    struct.pack_into(">H", hdr, O_COUNT, 0)
    struct.pack_into(">H", hdr, O_EXTENSIONS, 0)
    hdr[O_MFLAGS] &= ~M_EXT_DATA & 0xFF
    return bytes(hdr)


# --- bus connections ---------------------------------------------------------

class BusConn:
    """A raw TCP connection to a node's cluster-bus port, posing as a peer."""

    def __init__(self, bus_port, timeout=5.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect, so the advertised window stays small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", bus_port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _recv_until(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"bus peer sent {len(self.buf)} of {n} bytes")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"bus link closed by the node after {len(self.buf)} bytes")
            self.buf += chunk

    def read_frame(self, timeout=5.0):
        """Reads one whole frame (checks nothing but the framing); returns its bytes."""
        deadline = time.monotonic() + timeout
        self._recv_until(8, deadline)
        totlen = struct.unpack_from(">I", self.buf, 4)[0]
        assert self.buf[:4] == b"RCmb", self.buf[:16]
        assert HDR_LEN <= totlen <= 16 * 1024 * 1024, totlen
        self._recv_until(totlen, deadline)
        frame, self.buf = self.buf[:totlen], self.buf[totlen:]
        return frame

    def read_frame_of_type(self, type_, timeout=5.0):
        """Skips frames of other types (a node may send e.g. UPDATE before the PONG)."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.read_frame(max(0.01, deadline - time.monotonic()))
            if parse_header(f)["type"] == type_:
                return f

    def nothing_within(self, seconds):
        """True if the node sends no byte and keeps the link open for `seconds`."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        except ConnectionResetError:
            return False
        if chunk:
            self.buf += chunk
        return False

    def closed_within(self, seconds):
        """True if the node closes the link within `seconds` (whatever it sent first)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
            self.buf += chunk


def bus_port(server):
    return server.port + 10000


def expect_pong(conn, node_id=None, timeout=5.0):
    """Reads the PONG that must answer a PING sent on `conn`; checks the framing bytes
    a peer relies on; returns the frame."""
    f = conn.read_frame_of_type(T_PONG, timeout)
    assert f[:4] == b"RCmb"
    assert struct.unpack_from(">I", f, 4)[0] == len(f)
    assert struct.unpack_from(">H", f, 8)[0] == 1, "ver"
    assert struct.unpack_from(">H", f, 12)[0] == T_PONG
    hdr = parse_header(f)
    count = hdr["count"]
    if hdr["mflags"] & M_EXT_DATA:
        assert len(f) >= HDR_LEN + GOSSIP_LEN * count
    else:
        assert len(f) == HDR_LEN + GOSSIP_LEN * count, (len(f), count)
    if node_id is not None:
        assert hdr["sender"] == node_id, hdr["sender"]
    return f


def probe_pong(server, node_id=None, timeout=5.0):
    """A fresh bus connection, a PING from an unknown (valid) sender, and its PONG."""
    with BusConn(bus_port(server), timeout=timeout) as c:
        c.send(ping())
        return expect_pong(c, node_id, timeout)


def own_header_ping(server, node_id):
    """A PING that carries `server`'s own header (taken from the PONG it sends us):
    a frame the other nodes accept as coming from that node."""
    return as_plain_ping(probe_pong(server, node_id))


# --- cluster views -----------------------------------------------------------

def cluster_info(server, timeout=5.0):
    with server.raw(timeout=timeout) as c:
        return h.cluster_info(c)


def cluster_nodes(server, timeout=5.0):
    with server.raw(timeout=timeout) as c:
        v = c.call("CLUSTER", "NODES")
        assert not isinstance(v, h.Error), v
        return h.parse_nodes(v)


def myid(server):
    with server.raw() as c:
        v = c.call("CLUSTER", "MYID")
        assert isinstance(v, bytes), v
        return v.decode()


def cluster_links(server):
    """CLUSTER LINKS as a list of dicts (RESP2 flat arrays turned into dicts), plus the
    key order of each entry under '_keys'."""
    with server.raw() as c:
        v = c.call("CLUSTER", "LINKS")
    assert isinstance(v, list), v
    out = []
    for item in v:
        assert isinstance(item, list) and len(item) % 2 == 0, item
        keys = [k.decode() for k in item[0::2]]
        d = dict(zip(keys, item[1::2]))
        d["_keys"] = keys
        out.append(d)
    return out


def healthy_view(server, n):
    """True when `server` is in cluster_state:ok and sees exactly n nodes, every one
    connected and without handshake/fail/noaddr flags."""
    info = cluster_info(server)
    if info.get("cluster_state") != "ok" or info.get("cluster_known_nodes") != str(n):
        return False
    nodes = cluster_nodes(server)
    if len(nodes) != n:
        return False
    for nd in nodes:
        if nd["link"] != "connected":
            return False
        if set(nd["flags"]) & {"handshake", "fail", "fail?", "noaddr"}:
            return False
    return True


def wait_healthy(servers, n=None, timeout=30.0):
    n = n or len(servers)
    for s in servers:
        h.wait_until(lambda s=s: healthy_view(s, n), timeout, interval=0.1,
                     what=f"{s.kind} :{s.port} ok with {n} connected nodes "
                          f"(last view: {_safe_nodes_text(s)})")


def _safe_nodes_text(server):
    try:
        with server.raw(timeout=2) as c:
            v = c.call("CLUSTER", "NODES")
        return v.decode() if isinstance(v, bytes) else repr(v)
    except Exception as e:  # noqa: BLE001 - only for an error message
        return repr(e)


def master_with_replica(m, r, timeout=30.0):
    """m takes every slot, r meets it and becomes its replica (a two-node cluster)."""
    with m.raw() as c:
        assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK"
    with r.raw() as c:
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(m.port)) == "OK"
    wait_healthy([m, r], 2, timeout=timeout)
    with r.raw() as c:
        assert c.call("CLUSTER", "REPLICATE", myid(m)) == "OK"


def create_cluster(servers, replicas=0, timeout=90):
    """Runs the real `redis-cli --cluster create ... --cluster-yes`; returns the
    CompletedProcess (text). Does not assert."""
    addrs = [f"127.0.0.1:{s.port}" for s in servers]
    return subprocess.run([h.REDIS_CLI, "--cluster", "create", *addrs,
                           "--cluster-replicas", str(replicas), "--cluster-yes"],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def cluster_check(server, timeout=60):
    return subprocess.run([h.REDIS_CLI, "--cluster", "check", f"127.0.0.1:{server.port}"],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def start_cluster(servers_fixture, n, replicas=0, node_timeout=5000, extra_args=(), kind="shoal"):
    """Starts n nodes and builds a cluster of them with redis-cli; waits until every
    node is ok and sees all n connected. Returns the Server list (argument order)."""
    make = servers_fixture.shoal if kind == "shoal" else servers_fixture.redis
    nodes = [make(extra_args=["--cluster-node-timeout", str(node_timeout), *extra_args])
             for _ in range(n)]
    r = create_cluster(nodes, replicas)
    assert r.returncode == 0, f"create failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    wait_healthy(nodes, n, timeout=30)
    return nodes


def proc_status(pid):
    """{field: int kB} for the Vm* lines of /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.startswith("Vm"):
                out[k] = int(v.split()[0])
    return out


def rss_kb(pid):
    return proc_status(pid)["VmRSS"]


def nodes_by_id(nodes):
    return {n["id"]: n for n in nodes}


def comparable(node_line):
    """The parts of a CLUSTER NODES line that every node of a healthy cluster must agree
    on: address (without hostname), role, master, config epoch, slots."""
    flags = [f for f in node_line["flags"] if f != "myself"]
    return {
        "addr": node_line["addr"].split(",")[0],
        "role": "master" if "master" in flags else ("slave" if "slave" in flags else "?"),
        "master": node_line["master"],
        "config_epoch": node_line["config_epoch"],
        "slots": [s for s in node_line["slots"] if not s.startswith("[")],
    }


def publish_in_order(publisher, sub, channel, count):
    """PUBLISHes count messages m0, m1, ... on `publisher` (pipelined; every reply must be 0
    receivers there) and checks that subscriber connection `sub` got them all, in order."""
    with publisher.raw() as p:
        p.send(b"".join(h.encode("PUBLISH", channel, "m%d" % k) for k in range(count)))
        assert [p.read()[1] for _ in range(count)] == [0] * count
    got = [sub.read()[1] for _ in range(count)]
    assert [m[2].decode() for m in got] == ["m%d" % k for k in range(count)]
