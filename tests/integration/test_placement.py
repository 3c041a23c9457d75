"""Connections packed on as few workers as the load needs, and the cron of a worker left
without clients paced down (docs/design.md §3.4, "Packing
connections"; actors/worker/placement.c).

A node that is not busy serves every connection from worker 0 (the other workers' keys are
still theirs: worker 0 borrows their keyspaces while they sleep). When its workers get busy,
more of them take connections and idle connections move to them; when the load goes, they
move back. INFO threads shows it: `placement:active_workers=..,moves=..` and one
`placementN:...,clients=K` line per worker. What must not change whichever worker serves a
connection, and while connections move under traffic: every reply, in order, and every
count exact (INCR from clients that move), CLIENT LIST listing every connection once.
A worker with no client and no key with a TTL runs its cron once a second instead of ten
times (actors/worker/wcron.c): `cron_ms=` on its line; a key with a TTL given to it by a
borrower brings the 100 ms pace back at once, so active expiry goes on as before.
redis-server has one thread and nothing to place: the final values are compared with what
the clients sent, not with it.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import re
import socket
import threading
import time

import helpers as h

WORKERS = ["--worker-threads", "2", "--enable-debug-command", "yes"]
ACTIVE = re.compile(r"^placement:active_workers=(\d+),workers=(\d+),moves=(\d+)$")
CLIENTS = re.compile(r"^placement(\d+):name=worker-\d+,clients=(\d+),busy_permille=(\d+),cron_ms=(\d+)$")


def _placement(conn):
    text = conn.call("INFO", "threads")
    text = text.decode() if isinstance(text, bytes) else str(text)
    active = moves = None
    clients, cron_ms = {}, {}
    for line in text.split("\r\n"):
        m = ACTIVE.match(line)
        if m:
            active, moves = int(m.group(1)), int(m.group(3))
        m = CLIENTS.match(line)
        if m:
            clients[int(m.group(1))] = int(m.group(2))
            cron_ms[int(m.group(1))] = int(m.group(4))
    assert active is not None, text
    _placement.cron_ms = cron_ms
    return active, moves, clients


def test_idle_connections_are_packed_on_worker_0(servers):
    srv = servers.shoal(WORKERS)
    h.own_all_slots(srv)
    conns = [h.RawConn(srv.port) for _ in range(9)]
    try:
        for i, c in enumerate(conns):          # keys of both workers from every connection
            assert c.call("SET", f"k{i}", str(i)) == "OK"
            assert c.call("GET", f"k{i}") == str(i).encode()
        active, moves, clients = _placement(conns[0])
        assert active == 1
        assert moves == 0
        # Round-robin over both workers would have put 4 or 5 on worker 1.
        assert clients == {0: 9, 1: 0}, clients
    finally:
        for c in conns:
            c.close()


def _flood(port, stop, errors):
    """Deep pipelines of GETs of a missing key ($-1 each): CPU for the node, little for us."""
    batch = 2000
    req = h.encode("GET", "nokey") * batch
    want = len(b"$-1\r\n") * batch
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            while not stop.is_set():
                s.sendall(req)
                got = 0
                while got < want:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        raise ConnectionError("closed")
                    if chunk.strip(b"$-1\r\n"):
                        raise AssertionError(f"unexpected reply bytes {chunk[:40]!r}")
                    got += len(chunk)
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))


def _counter(port, idx, stop, counts, errors):
    """Unpipelined INCRs with pauses, so the connection is often idle and may move."""
    key = f"ctr{idx}"
    n = 0
    try:
        with h.RawConn(port, timeout=10) as c:
            while not stop.is_set():
                v = c.call("INCR", key)
                n += 1
                if v != n:
                    raise AssertionError(f"{key}: INCR gave {v}, expected {n}")
                time.sleep(0.002)
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append(repr(e))
    counts[idx] = n


def test_connections_spread_under_load_and_pack_again(servers):
    srv = servers.shoal(WORKERS)
    h.own_all_slots(srv)
    stop = threading.Event()
    errors, counts = [], {}
    ncounters = 8
    threads = [threading.Thread(target=_counter, args=(srv.port, i, stop, counts, errors))
               for i in range(ncounters)]
    threads += [threading.Thread(target=_flood, args=(srv.port, stop, errors)) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        with h.RawConn(srv.port, timeout=10) as probe:
            def spread():
                active, moves, clients = _placement(probe)
                return active == 2 and moves > 0 and min(clients.values()) > 0
            h.wait_until(spread, 30, interval=0.1, what="a second worker taking connections")
            time.sleep(1.0)            # traffic goes on over the moved connections
            listed = probe.call("CLIENT", "LIST").decode().splitlines()
            # the probe, the counters and the flooders, each once
            assert len(listed) == 1 + ncounters + 3, listed
            assert len({re.search(r"\bid=(\d+)", ln).group(1) for ln in listed}) == len(listed)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert errors == [], errors[:3]
    with h.RawConn(srv.port, timeout=10) as c:
        for i in range(ncounters):
            assert int(c.call("GET", f"ctr{i}")) == counts[i]
        # No load: back on one worker, every connection on worker 0 (this one included).
        others = [h.RawConn(srv.port) for _ in range(4)]
        try:
            def packed():
                active, _, clients = _placement(c)
                return active == 1 and clients.get(1) == 0 and clients.get(0) == 5
            h.wait_until(packed, 30, interval=0.1, what="connections packed on worker 0 again")
            for o in others:
                assert o.call("PING") == "PONG"
        finally:
            for o in others:
                o.close()


def _worker_of(key, nworkers=2):
    return h.key_slot(key) % nworkers


def _switches(pid, name):
    """Context switches so far of the node's thread called `name`."""
    import glob
    for st in glob.glob(f"/proc/{pid}/task/*/status"):
        with open(st) as f:
            text = f.read()
        if re.search(rf"^Name:\s+{name}$", text, re.M):
            return sum(int(x) for x in re.findall(r"ctxt_switches:\s+(\d+)", text))
    raise AssertionError(f"no thread {name}")


def test_a_worker_without_clients_or_ttls_wakes_once_a_second(servers):
    srv = servers.shoal(WORKERS)
    h.own_all_slots(srv)
    with h.RawConn(srv.port) as c:
        def paced():
            _placement(c)
            return _placement.cron_ms == {0: 100, 1: 1000}
        h.wait_until(paced, 5, interval=0.1, what="worker-1 on the slow pace")
        # Its thread sleeps through: about 3 cron wake-ups in 3 s, not 30.
        before = _switches(srv.popen.pid, "worker-1")
        time.sleep(3)
        assert _switches(srv.popen.pid, "worker-1") - before <= 12
        # A key with a TTL on worker 1's keyspace, set by this client's worker 0
        # (borrowing it): the fast pace at once, and the key expires actively.
        key = next(f"ttl{i}" for i in range(1000) if _worker_of(f"ttl{i}") == 1)
        assert c.call("SET", key, "v", "PX", "300") == "OK"

        def fast():
            _placement(c)
            return _placement.cron_ms.get(1) == 100
        # Within 0.5 s: the borrower told it (its next slow tick could be a second away).
        h.wait_until(fast, 0.5, interval=0.01, what="worker-1 back on the fast pace")

        def expired():
            info = h.info_dict(c.call("INFO", "stats"))
            return int(info["expired_keys"]) >= 1
        h.wait_until(expired, 5, interval=0.05, what="the key expired by the cron")
        h.wait_until(paced, 5, interval=0.1, what="worker-1 slow again without TTLs")


def test_debug_placement_spread_deals_connections_over_every_worker(servers):
    srv = servers.shoal(WORKERS)
    h.own_all_slots(srv)
    h.spread_connections(srv)
    conns = [h.RawConn(srv.port) for _ in range(8)]
    try:
        assert all(c.call("PING") == "PONG" for c in conns)
        _, _, clients = _placement(conns[0])
        assert clients == {0: 4, 1: 4}, clients
        assert conns[0].call("DEBUG", "PLACEMENT", "SIDEWAYS").startswith("ERR")
        h.spread_connections(srv, on=False)
        # Back to the load's choice: not busy, so the connections go back to worker 0.
        h.wait_until(lambda: _placement(conns[0])[2] == {0: 9, 1: 0} or
                     _placement(conns[0])[2] == {0: 8, 1: 0}, 10, interval=0.1,
                     what="connections packed again")
    finally:
        for c in conns:
            c.close()
