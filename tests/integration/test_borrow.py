"""Keyed commands run on a sleeping worker's keyspace by the connection's own worker
(docs/design.md §3.4, "Borrowing a sleeping worker").

A command whose slot belongs to another worker than its connection's used to travel there
in a batch and wake that worker; now, when that worker sleeps with nothing queued for it,
the connection's worker takes its token and runs the command itself. These tests check
what must not change whichever path a command takes: the INFO threads counters show the
path taken and that no wake-up was needed; replies stay in request order when pipelined
and unpipelined requests of several connections mix; no update is lost between a worker
and the borrowers of its keyspace (INCR from connections on both workers); WATCH sees a
write made by a borrower; transactions, blocking pops, a replica's stream and the command
statistics stay exact; and connections that go away mid-request leave the node healthy.
redis-server has one thread and nothing to borrow: the replies are compared with it where
they are client-visible (the final values), not the counters.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import re
import socket
import threading
import time

import helpers as h
import replhelpers as rh

WORKERS = ["--worker-threads", "2", "--enable-debug-command", "yes"]   # DEBUG PLACEMENT
BORROW_LINE = re.compile(r"^borrow\d+:name=(worker-\d+),borrows=(\d+),borrow_waits=(\d+)$")
WAKE_LINE = re.compile(r"^thread\d+:name=(worker-\d+),wakeups=\d+,messages=\d+,"
                       r"wake_sends=(\d+),lazy_sends=\d+$")


def _worker_of(key, nworkers=2):
    """The worker that keeps key's slot (slot % workers, docs/design.md §3.4)."""
    return (h.crc16(key.encode()) % 16384) % nworkers


def _keys_on(worker, n, prefix):
    out, i = [], 0
    while len(out) < n:
        k = f"{prefix}{i}"
        if _worker_of(k) == worker:
            out.append(k)
        i += 1
    return out


def _counters(conn):
    text = conn.call("INFO", "threads")
    text = text.decode() if isinstance(text, bytes) else str(text)
    borrows = wakes = 0
    for line in text.split("\r\n"):
        m = BORROW_LINE.match(line)
        if m:
            borrows += int(m.group(2))
        m = WAKE_LINE.match(line)
        if m:
            wakes += int(m.group(2))
    return borrows, wakes


def _node(servers):
    srv = servers.shoal(WORKERS)
    h.own_all_slots(srv)
    h.spread_connections(srv)      # connections on both workers, as the tests below mean
    return srv


def test_unpipelined_request_for_the_other_worker_wakes_no_worker(servers):
    srv = _node(servers)
    keys = _keys_on(0, 150, "b0:") + _keys_on(1, 150, "b1:")
    with srv.raw() as c:
        time.sleep(0.3)              # let both workers go to sleep
        b0, w0 = _counters(c)
        for k in keys:
            assert c.call("SET", k, k) == "OK"
            assert c.call("GET", k) == k.encode()
        b1, w1 = _counters(c)
    # Whichever worker took the connection, 300 of the 600 requests belong to the other.
    # Each found that worker asleep (a lone client leaves it idle between requests) and
    # ran there without a message; a few may have found it awake (its cron) and gone the
    # old way, a message and a wake-up.
    borrowed, woken = b1 - b0, w1 - w0
    assert borrowed >= 240, (borrowed, woken)
    assert woken <= 30, (borrowed, woken)


def _mixed_client(port, idx, shared, rounds, errors):
    """Unpipelined INCRs on shared counters of both workers, and pipelined bursts whose
    replies must come back in order."""
    try:
        with h.RawConn(port, timeout=20) as c:
            for r in range(rounds):
                for k in shared:
                    v = c.call("INCR", k)
                    if not isinstance(v, int):
                        errors.append((idx, r, k, v))
                        return
                burst, want = [], []
                for j in range(12):
                    k = f"m{idx}:{j % 5}"
                    if j % 4 == 0:
                        burst.append(h.encode("SET", k, f"{r}.{j}"))
                        want.append("OK")
                    elif j % 4 == 1:
                        burst.append(h.encode("GET", k))
                        want.append(None)                  # checked below by the last SET
                    elif j % 4 == 2:
                        burst.append(h.encode("PING", f"p{idx}.{r}.{j}"))
                        want.append(f"p{idx}.{r}.{j}".encode())
                    else:
                        burst.append(h.encode("INCR", shared[j % len(shared)]))
                        want.append(int)
                c.send(b"".join(burst))
                last = {}
                for j, w in enumerate(want):
                    _, v = c.read()
                    k = f"m{idx}:{j % 5}"
                    if w == "OK":
                        ok = v == "OK"
                        last[k] = f"{r}.{j}".encode()
                    elif w is None:
                        ok = v == last.get(k, v)
                    elif w is int:
                        ok = isinstance(v, int)
                    else:
                        ok = v == w
                    if not ok:
                        errors.append((idx, r, j, v, w))
                        return
    except Exception as e:  # noqa: BLE001 - reported by the test
        errors.append((idx, repr(e)))


def test_mixed_pipelines_and_lone_requests_keep_order_and_lose_no_update(servers):
    srv = _node(servers)
    shared = _keys_on(0, 2, "ctr0:") + _keys_on(1, 2, "ctr1:")
    nclients, rounds = 8, 150
    errors = []
    with srv.raw() as c:
        b0, _ = _counters(c)
    threads = [threading.Thread(target=_mixed_client, args=(srv.port, i, shared, rounds, errors))
               for i in range(nclients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert errors == [], errors[:5]
    with srv.raw() as c:
        b1, _ = _counters(c)
        # Each counter: one INCR per client per round unpipelined, plus those of the
        # bursts (j = 3, 7, 11: shared[3], shared[3], shared[3] with 4 counters).
        for i, k in enumerate(shared):
            extra = 3 if i == 3 else 0
            assert int(c.call("GET", k)) == nclients * rounds * (1 + extra), k
    assert b1 > b0                   # the borrowed path was taken, and raced the owner


def test_watch_sees_a_borrowed_write_and_transactions_stay_whole(servers):
    srv = _node(servers)
    aborted = 0
    for i in range(20):
        k = _keys_on(i % 2, 1, f"w{i}:")[0]
        with srv.raw() as watcher, srv.raw() as a, srv.raw() as b:
            assert watcher.call("SET", k, "0") == "OK"
            assert watcher.call("WATCH", k) == "OK"
            time.sleep(0.02)
            # Two writers: at least one is on the other worker than k's and borrows.
            assert a.call("SET", k, "a") == "OK"
            assert b.call("SET", k, "b") == "OK"
            assert watcher.call("MULTI") == "OK"
            assert watcher.call("SET", k, "mine") == "QUEUED"
            if watcher.call("EXEC") is None:
                aborted += 1
            assert watcher.call("GET", k) == b"b"
    assert aborted == 20
    # Transactions interleaved with borrowed INCRs of the same key: all counted, and a
    # transaction's two INCRs are never split by another client's.
    k = _keys_on(1, 1, "tx:")[0]
    errors = []

    def lone():
        with srv.raw() as c:
            for _ in range(500):
                if not isinstance(c.call("INCR", k), int):
                    errors.append("incr")

    def txn():
        with srv.raw() as c:
            for _ in range(200):
                c.send(h.encode("MULTI") + h.encode("INCR", k) + h.encode("INCR", k) + h.encode("EXEC"))
                replies = [c.read()[1] for _ in range(4)]
                got = replies[3]
                if not (isinstance(got, list) and len(got) == 2 and got[1] == got[0] + 1):
                    errors.append(replies)

    ts = [threading.Thread(target=f) for f in (lone, lone, txn, txn)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert errors == [], errors[:3]
    with srv.raw() as c:
        assert int(c.call("GET", k)) == 2 * 500 + 2 * 200 * 2


def test_blocking_pop_served_when_the_push_comes_from_the_other_worker(servers):
    srv = _node(servers)
    for i in range(10):
        k = _keys_on(i % 2, 1, f"bl{i}:")[0]
        with srv.raw(timeout=10) as waiter, srv.raw() as p1, srv.raw() as p2:
            waiter.send(h.encode("BLPOP", k, "5"))
            time.sleep(0.05)
            # Two pushers, so that one of them is on the other worker than k's.
            assert p1.call("RPUSH", k, "x") == 1
            assert isinstance(p2.call("RPUSH", k, "y"), int)
            _, v = waiter.read()
            assert v == [k.encode(), b"x"], v
            assert p1.call("LRANGE", k, "0", "-1") == [b"y"]


def test_connections_gone_mid_request_leave_the_node_serving(servers):
    srv = _node(servers)
    for i in range(300):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        k = f"gone{i}"
        s.sendall(h.encode("SET", k, "v") + (h.encode("GET", k) if i % 3 else b""))
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    # A client killed by another while it streams lone requests.
    victim = srv.raw()
    vid = victim.call("CLIENT", "ID")
    stop = []

    def stream():
        try:
            for j in range(100000):
                victim.call("SET", f"v{j % 50}", "x")
        except (ConnectionError, OSError, h.ProtocolDesync):
            stop.append(True)

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.2)
    with srv.raw() as c:
        assert c.call("CLIENT", "KILL", "ID", str(vid)) == 1
    t.join(30)
    victim.close()
    assert stop == [True]
    with srv.raw() as c:
        for i in range(300):
            assert c.call("SET", f"after{i}", "w") == "OK"
            assert c.call("GET", f"after{i}") == b"w"
        h.wait_until(lambda: int(re.search(rb"connected_clients:(\d+)", c.call("INFO", "clients")).group(1)) == 1,
                     10, what="only this client left connected")


def test_replica_and_stats_see_every_borrowed_write(servers):
    master = servers.shoal(WORKERS)
    h.own_all_slots(master)
    h.spread_connections(master)
    master, replica, _ = rh.make_pair(servers, "shoal", "shoal", master=master)
    keys = _keys_on(0, 20, "r0:") + _keys_on(1, 20, "r1:")
    errors = []

    def writer(n):
        with master.raw() as c:
            for j in range(300):
                k = keys[(j * 7 + n) % len(keys)]
                if not isinstance(c.call("INCR", k), int):
                    errors.append(k)

    with master.raw() as c:
        b0, _ = _counters(c)
        c.call("CONFIG", "RESETSTAT")
    ts = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert errors == []
    with master.raw() as c:
        b1, _ = _counters(c)
        assert c.call("WAIT", "1", "5000") == 1
        stats = c.call("INFO", "commandstats")
        stats = stats.decode() if isinstance(stats, bytes) else str(stats)
        assert "cmdstat_incr:calls=1200," in stats, stats
    assert b1 > b0
    rh.assert_same_data(master, replica)
