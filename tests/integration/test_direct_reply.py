"""Replies written by the worker that owns the key (actors/worker/batch.h, "direct replies").

A command whose slot belongs to another worker than its connection's travels there in a
batch; when its reply is the next the connection will send, that worker writes it on the
socket itself and the batch goes back without waking the connection's worker (a lazy
send). These tests check what a client must see whichever path a reply takes: replies in
order, whole (also when a big reply fills the socket and the rest goes out from the
connection's worker), a connection closed while another worker holds its socket, and the
`INFO threads` counters that show the wake-ups saved (asked for by name only, so INFO,
INFO all and INFO everything keep redis-server 7.0.15's sections).
"""
import re
import socket
import time

import helpers as h

ADDR = re.compile(r"\baddr=(\S+)")
THREAD_LINE = re.compile(r"^thread\d+:name=([\w-]+),wakeups=(\d+),messages=(\d+),"
                         r"wake_sends=(\d+),lazy_sends=(\d+)$")


def _threads(conn):
    text = conn.call("INFO", "threads")
    text = text.data if hasattr(text, "data") else text
    text = text.decode() if isinstance(text, bytes) else text
    out = {}
    for line in text.split("\r\n"):
        m = THREAD_LINE.match(line)
        if m:
            out[m.group(1)] = [int(x) for x in m.groups()[1:]]
    return out


def _section_names(conn, *args):
    text = conn.call("INFO", *args)
    text = text.data if hasattr(text, "data") else text
    text = text.decode() if isinstance(text, bytes) else text
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def test_info_threads_is_asked_for_by_name_only(snode, sref):
    with snode.raw() as c, sref.raw() as r:
        t = _threads(c)
        assert "worker-0" in t and "worker-1" in t, t
        for args in [(), ("all",), ("everything",), ("default",)]:
            assert "Threads" not in _section_names(c, *args), args
            assert _section_names(c, *args) == _section_names(r, *args), args


BORROW_LINE = re.compile(r"^borrow\d+:name=(worker-\d+),borrows=(\d+),borrow_waits=\d+$")


def _borrows(conn):
    text = conn.call("INFO", "threads")
    text = text.decode() if isinstance(text, bytes) else str(text)
    return sum(int(m.group(2)) for m in map(BORROW_LINE.match, text.split("\r\n")) if m)


def test_unpipelined_replies_in_order_and_lazy_returns_counted(snode):
    with snode.raw() as c:
        before, borrows0 = _threads(c), _borrows(c)
        for i in range(2000):
            assert c.call("SET", f"k{i}", f"v{i}") == "OK"
            assert c.call("GET", f"k{i}") == f"v{i}".encode()
        after, borrows1 = _threads(c), _borrows(c)
    lazy = sum(after[w][3] - before[w][3] for w in ("worker-0", "worker-1"))
    # Half the keys live on the other worker. That worker, idle between this lone
    # client's requests, mostly lends its keyspace (test_borrow.py): no batch at all;
    # when it was awake, the batch came back lazily, without waking this connection's
    # worker. Either way no wake-up of the connection's worker.
    assert lazy + (borrows1 - borrows0) > 0, (before, after)


def test_pipelined_mix_of_local_and_remote_replies_in_order(snode):
    with snode.raw() as c:
        cmds, want = [], []
        for i in range(3000):
            k = f"p{i % 97}"
            if i % 3 == 0:
                cmds.append(h.encode("SET", k, f"x{i}"))
                want.append(("+OK", None))
            elif i % 3 == 1:
                cmds.append(h.encode("APPEND", k, "y"))
                want.append((":", None))
            else:
                cmds.append(h.encode("PING", f"m{i}"))
                want.append(("$", f"m{i}".encode()))
        # In chunks of varying size so that some requests find the socket lent and some not.
        pos = 0
        for size in [1, 2, 5, 1, 64, 3, 500, 1, 7]:
            c.send(b"".join(cmds[pos:pos + size]))
            pos += size
        c.send(b"".join(cmds[pos:]))
        for i, (prefix, value) in enumerate(want):
            raw, v = c.read()
            assert raw.startswith(prefix.encode()), (i, raw[:40])
            if value is not None:
                assert v == value, (i, v)
        # Unpipelined again: each reply is next in line.
        for i in range(200):
            assert c.call("SET", f"q{i}", "z") == "OK"
            assert c.call("STRLEN", f"q{i}") == 1


def test_big_replies_whole_when_the_socket_fills(snode):
    big = {f"big{i}": bytes([65 + i]) * (3 << 20) for i in range(6)}
    with snode.raw(timeout=30) as c:
        for k, v in big.items():
            assert c.call("SET", k, v) == "OK"
        # Requests sent before any reply is read: the socket fills while a reply is
        # being written, by whichever worker writes it.
        c.send(b"".join(h.encode("GET", k) for k in big))
        for k, v in big.items():
            assert c.read()[1] == v, k
        for k, v in big.items():
            assert c.call("GET", k) == v, k


def test_connection_closed_while_its_reply_is_out(snode):
    # The node is shared by the whole session: other tests' clients (redis-py pools not
    # yet garbage collected) may still hold connections to it, so only the connections
    # made here are judged, by their addresses.
    ours = set()
    for i in range(300):
        s = socket.create_connection(("127.0.0.1", snode.port), timeout=5)
        ours.add("%s:%d" % s.getsockname()[:2])
        # A lone GET is an unpipelined request: when its key is on the other worker, its
        # socket is lent while the client goes away.
        if i % 4 < 2:
            s.sendall(h.encode("SET", f"c{i}", "v") + h.encode("GET", f"c{i}"))
        else:
            s.sendall(h.encode("GET", f"d{i}"))
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    with snode.raw() as c:
        for i in range(300):
            assert c.call("SET", f"d{i}", "w") == "OK"
            assert c.call("GET", f"d{i}") == b"w"
        # Every closed connection was let go (none left lingering on a lent socket):
        # the workers see the closes within a bounded time, well under a second when idle.
        deadline = time.monotonic() + 10
        while True:
            clients = c.call("CLIENT", "LIST")
            clients = clients.decode() if isinstance(clients, bytes) else clients
            left = [ln for ln in clients.splitlines() if ADDR.search(ln) and ADDR.search(ln).group(1) in ours]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert left == [], left
