"""Other clients see one connection's pipelined writes in the order it sent them, also when
the keys belong to different workers (docs/design.md §5, "Per-connection order").

What it is for: each worker keeps the keys of its share of the slots; a connection's
command for another worker's keys travels there in a batch (actors/worker/batch.h), while
one for its own worker's keys (or a sleeping worker's, borrowed) could run at once. So a
pipelined `INCR p; INCR q`, p on another worker than the connection's, could apply q's
increment before p's, and a concurrent reader could see q ahead of p, which redis-server
(one thread, commands in the order read) never shows. A connection's command now waits,
unparsed, until its earlier commands sent to another worker are back, unless it goes to
that same worker (where it runs after them anyway).

One writer pipelines rounds of `INCR p; INCR q; INCR q2; INCR p2` (p, p2 on worker 0; q,
q2 on worker 1: whichever worker serves the writer, one pair of each round starts on the
other worker), so at every moment p >= q >= q2 >= p2 >= p - 1. Readers on other
connections take consistent snapshots of the four: MGET without cluster mode (a call over
several workers' keys runs atomically, actors/worker/xcmd.c); in cluster mode, where keys
of different slots cannot meet in one command or script, WATCHes of three keys, their GETs
and MULTI GET of the fourth: an EXEC that succeeds saw four values that held together at
its run. With three workers too (there the later key of a pair can be on a worker that is
neither the connection's nor the earlier key's, borrowed while it sleeps).

The same for a fan-out (FLUSHALL, DBSIZE, ...): its parts run as messages on every worker,
the connection's own too, so a command pipelined behind it waits until they are all back;
before, `FLUSHALL; SET k v` on k's worker lost k (the SET ran before FLUSHALL's part there),
and a DBSIZE behind a SET could miss the key. Compared with redis-server. And the one
exception: a SCRIPT KILL behind a command that waits for a busy script is not held.

What it must never do: stop a process it did not start, or wait without a deadline.
"""
import select
import threading
import time

import pytest

import helpers as h

SA = "standalone"
RUN_SECONDS = 3.0
ROUNDS_PER_WRITE = 50


def _key_on(worker, prefix, nworkers):
    """A key named <prefix><n> that worker `worker` of `nworkers` keeps (slot % workers)."""
    for n in range(10000):
        k = f"{prefix}{n}"
        if h.key_slot(k) % nworkers == worker:
            return k
    raise AssertionError("no key found")


def _keys(nworkers):
    """p, q, q2, p2: p and p2 on worker 0, q and q2 on the last worker; with three workers
    q2 on worker 1, so a round touches every worker."""
    last = nworkers - 1
    return (_key_on(0, "p:", nworkers), _key_on(last, "q:", nworkers),
            _key_on(1, "q2:", nworkers), _key_on(0, "p2:", nworkers))


def _in_order(vals):
    """True when four counters could be a moment of the writer's sequence."""
    p, q, q2, p2 = vals
    return p >= q >= q2 >= p2 >= p - 1


def _writer(port, keys, stop, errors, rounds_done):
    round_bytes = b"".join(h.encode("INCR", k) for k in keys)
    try:
        with h.RawConn(port, timeout=20) as c:
            while not stop.is_set():
                c.send(round_bytes * ROUNDS_PER_WRITE)
                for _ in range(ROUNDS_PER_WRITE * len(keys)):
                    _, v = c.read()
                    if not isinstance(v, int):
                        errors.append(f"writer got {v!r}")
                        return
                rounds_done[0] += ROUNDS_PER_WRITE
    except Exception as e:          # reported by the test, not lost in the thread
        errors.append(f"writer: {e!r}")


def _mget_reader(port, keys, stop, seen, errors):
    try:
        with h.RawConn(port, timeout=20) as c:
            while not stop.is_set():
                vals = [int(v or 0) for v in c.call("MGET", *keys)]
                seen.append(vals)
    except Exception as e:
        errors.append(f"reader: {e!r}")


def _watch_reader(port, keys, stop, seen, errors, aborted):
    """WATCH p, q and q2 (one WATCH each: their slots differ); GET each; MULTI; GET p2; EXEC,
    in one write. A successful EXEC means none of the three changed between its WATCH and
    the EXEC's run, where p2 is read."""
    p, q, q2, p2 = keys
    req = (h.encode("WATCH", p) + h.encode("WATCH", q) + h.encode("WATCH", q2) + h.encode("GET", p) +
           h.encode("GET", q) + h.encode("GET", q2) + h.encode("MULTI") + h.encode("GET", p2) + h.encode("EXEC"))
    try:
        with h.RawConn(port, timeout=20) as c:
            while not stop.is_set():
                c.send(req)
                replies = [c.read()[1] for _ in range(9)]
                if replies[:3] != ["OK"] * 3 or replies[6] != "OK" or replies[7] != "QUEUED":
                    errors.append(f"reader got {replies!r}")
                    return
                if replies[8] is None:
                    aborted[0] += 1
                    continue
                seen.append([int(v or 0) for v in replies[3:6] + [replies[8][0]]])
    except Exception as e:
        errors.append(f"reader: {e!r}")


def _run(srv, nworkers, cluster, nreaders=3):
    keys = _keys(nworkers)
    assert [h.key_slot(k) % nworkers for k in keys] == [0, nworkers - 1, 1, 0]
    with srv.raw() as c:
        for k in keys:
            c.call("DEL", k)
    stop = threading.Event()
    errors, seen, aborted, rounds = [], [], [0], [0]
    threads = [threading.Thread(target=_writer, args=(srv.port, keys, stop, errors, rounds))]
    for _ in range(nreaders):
        if cluster:
            args = (srv.port, keys, stop, seen, errors, aborted)
            threads.append(threading.Thread(target=_watch_reader, args=args))
        else:
            threads.append(threading.Thread(target=_mget_reader, args=(srv.port, keys, stop, seen, errors)))
    for t in threads:
        t.start()
    time.sleep(RUN_SECONDS)
    stop.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a client thread did not finish"
    assert errors == []
    bad = [v for v in seen if not _in_order(v)]
    # Readers that saw nothing move prove nothing: the writer must have been busy meanwhile.
    moving = [v for v in seen if v[0] > 0]
    assert rounds[0] >= 200, rounds[0]
    assert len(moving) >= 100, (len(seen), aborted[0])
    assert bad == [], f"{len(bad)} of {len(seen)} snapshots out of order, e.g. {bad[:5]}"
    with srv.raw() as c:
        final = [int(c.call("GET", k)) for k in keys]
    assert final == [rounds[0]] * 4


def _standalone(servers, nworkers):
    srv = servers.shoal(extra_args=["--worker-threads", str(nworkers), "--enable-debug-command", "yes"],
                        base_args=SA)
    h.spread_connections(srv)      # the writer and the readers over every worker
    return srv


@pytest.mark.parametrize("nworkers", [2, 3])
def test_mget_never_sees_a_later_increment_before_an_earlier_one(servers, nworkers):
    _run(_standalone(servers, nworkers), nworkers, cluster=False)


@pytest.mark.parametrize("nworkers", [2, 3])
def test_watch_multi_exec_never_sees_a_later_increment_before_an_earlier_one(servers, nworkers):
    srv = servers.shoal(extra_args=["--worker-threads", str(nworkers), "--enable-debug-command", "yes"])
    h.own_all_slots(srv)
    h.spread_connections(srv)
    _run(srv, nworkers, cluster=True)


FANOUT_ROUNDS = 200


def _fanout_replies(srv, ka, kb):
    """The replies to a pipeline of writes around FLUSHALL and DBSIZE, FANOUT_ROUNDS times
    on fresh connections, as a set (one element when every round answered alike)."""
    pipeline = b"".join(h.encode(*cmd) for cmd in [
        ("SET", ka, "1"), ("SET", kb, "1"), ("FLUSHALL",), ("SET", ka, "2"), ("DBSIZE",),
        ("SET", kb, "2"), ("DBSIZE",), ("GET", ka), ("GET", kb), ("DEL", ka), ("DBSIZE",)])
    seen = set()
    for _ in range(FANOUT_ROUNDS):
        with srv.raw() as c:
            c.send(pipeline)
            seen.add(tuple(c.read()[0] for _ in range(11)))
    return seen


@pytest.mark.parametrize("mode", ["standalone", "cluster"])
def test_commands_pipelined_behind_a_fan_out_come_after_it(servers, mode):
    args = ["--worker-threads", "2", "--enable-debug-command", "yes"]
    if mode == "standalone":
        shoal, redis = servers.shoal(extra_args=args, base_args=SA), servers.redis(base_args=SA)
    else:
        shoal, redis = servers.shoal(extra_args=args), servers.redis()
        for srv in (shoal, redis):
            with srv.raw() as c:
                assert c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == "OK"
        for srv in (shoal, redis):
            h.wait_cluster_ok(srv)
    h.spread_connections(shoal)
    ka, kb = _key_on(0, "fa:", 2), _key_on(1, "fb:", 2)
    want = _fanout_replies(redis, ka, kb)
    assert len(want) == 1
    assert _fanout_replies(shoal, ka, kb) == want


def test_script_kill_behind_a_command_for_the_busy_worker_is_not_held(servers):
    """The one exception to the order: a command for the keys of a worker whose script is
    past busy-reply-threshold waits in its batch for the script's end (where 7.0.15 answers
    -BUSY), and a SCRIPT KILL pipelined behind it must still reach the script, not wait
    for that batch (it would wait forever)."""
    srv = servers.shoal(extra_args=["--worker-threads", "2"])
    h.own_all_slots(srv)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "100") == "OK"
    k1, k2 = _key_on(1, "busy:", 2), _key_on(1, "other:", 2)
    with srv.raw(timeout=10) as a:
        a.send(h.encode("EVAL", "while true do end", "1", k1))
        h.wait_until(lambda: "Slow script detected" in srv.log(), 10, what="the script to turn busy")
        conns = [srv.raw(timeout=10) for _ in range(4)]
        try:
            free = [c for c in conns if c.raw("PING") == b"+PONG\r\n"]
            assert free, "no connection on the worker without the script"
            x = free[0]
            x.send(h.encode("GET", k2) + h.encode("SCRIPT", "KILL"))
            assert a.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            assert [x.read()[0] for _ in range(2)] == [b"$-1\r\n", b"+OK\r\n"]
        finally:
            for c in conns:
                c.close()


_SLOW_SCRIPT = ("local t0 = redis.call('TIME') local s = t0[1] * 1000000 + t0[2] "
                "while true do local t = redis.call('TIME') "
                "if t[1] * 1000000 + t[2] - s > 600000 then break end end "
                "return redis.call('SET', KEYS[1], 'x')")


def test_connection_goes_on_after_a_transaction_part_sent_in_a_batch(servers):
    """CLUSTER COUNTKEYSINSLOT inside EXEC for a slot of another worker, while that worker
    runs a script (it cannot be borrowed): the command goes there in a batch, as a part of
    the transaction. When it is back the connection's next commands run; the batch was
    not counted back for a transaction's part, and the order rule then held every later
    command of the connection for ever. Two connections run it, so that one of them is
    on another worker than the script's whichever worker that is."""
    srv = h.single_node(servers, "shoal", workers=2)
    for parity in (0, 1):
        k = _key_on(parity, "slow:", 2)
        slot = str(h.key_slot(k))
        with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b1, srv.raw(timeout=10) as b2:
            a.send(h.encode("EVAL", _SLOW_SCRIPT, "1", k))
            time.sleep(0.2)             # the script runs on its worker
            for b in (b1, b2):
                b.send(h.encode("MULTI") + h.encode("CLUSTER", "COUNTKEYSINSLOT", slot) + h.encode("EXEC"))
            for b in (b1, b2):
                assert [b.read()[1] for _ in range(3)] == ["OK", "QUEUED", [1]]
            assert a.read()[1] == "OK"
            for b in (b1, b2):
                assert b.call("PING") == "PONG"
                assert b.call("SET", _key_on(1 - parity, "other:", 2), "v") == "OK"
                assert b.call("PING") == "PONG"


def test_script_kill_held_before_the_script_turned_busy_reaches_it(servers):
    """As above, but the GET and the SCRIPT KILL behind it arrive before the script is past
    busy-reply-threshold: the SCRIPT KILL is held then (no script is busy), and must be
    looked at again when the script turns busy. It stayed held: its GET's batch waits for
    the script's end, which waited for the SCRIPT KILL, for ever. (7.0.15 answers the GET
    -BUSY and runs the SCRIPT KILL; the GET's answer here is the known difference.)"""
    srv = servers.shoal(extra_args=["--worker-threads", "2"])
    h.own_all_slots(srv)
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "busy-reply-threshold", "1500") == "OK"
    k1, k2 = _key_on(1, "busy:", 2), _key_on(1, "other:", 2)
    conns = [srv.raw(timeout=10) for _ in range(4)]
    try:
        with srv.raw(timeout=10) as a:
            t0 = time.monotonic()
            a.send(h.encode("EVAL", "while true do end", "1", k1))
            time.sleep(0.1)
            for c in conns:             # those on the other worker answer at once
                c.send(h.encode("PING"))
            time.sleep(0.3)
            free = [c for c in conns if select.select([c.sock], [], [], 0)[0]]
            assert free, "no connection on the worker without the script"
            x = free[0]
            assert x.read()[1] == "PONG"
            x.send(h.encode("GET", k2) + h.encode("SCRIPT", "KILL"))
            assert time.monotonic() - t0 < 1.2, "sent too late to be read before the script is busy"
            assert a.read()[0].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
            assert [x.read()[0] for _ in range(2)] == [b"$-1\r\n", b"+OK\r\n"]
    finally:
        for c in conns:
            c.close()
