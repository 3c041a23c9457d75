"""Blocked clients and writes when a slot changes owner (CLUSTER SETSLOT <slot> NODE).

What it is for: 7.0.15's clusterRedirectBlockedClientIfNeeded, compared with a cluster of
redis-server 7.0.15 nodes: a client blocked (BLPOP, BLMOVE, BZPOPMIN, BLMPOP)
on a key of a slot that is merely MIGRATING stays blocked; once the slot is given to
another node its wait ends with -MOVED to the new owner. And the owner check at run time:
SETSLOT NODE moved back and forth between two nodes while clients write keys of that slot
never leaves a key on the node that does not own it.

What it must never do: weaken an expectation to match our node; wait with fixed sleeps
where a condition can be polled.
"""
import threading
import time

import pytest

import helpers as h
import bushelpers as bh


def _blocked(node):
    with node.raw() as c:
        info = h.info_dict(c.call("INFO", "clients").decode())
    return int(info["blocked_clients"])


def _scenario(servers, kind):
    nodes = bh.start_cluster(servers, 3, kind=kind)
    a, b, _ = nodes
    ida, idb = bh.myid(a), bh.myid(b)
    t, slot = h.tag_in(a, 0, 5460, "b")
    S = str(slot)
    out = []

    def norm(v):
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, str):
            v = f"{type(v).__name__}:{v}".replace(str(b.port), "<B>").replace(str(a.port), "<A>")
            v = v.replace(S, "<S>")
        if isinstance(v, list):
            v = [norm(x) for x in v]
        return v

    waits = [
        ("BLPOP", f"{t}l", "0"),
        ("BLMOVE", f"{t}l", f"{t}d", "LEFT", "RIGHT", "0"),
        ("BZPOPMIN", f"{t}z", "0"),
        ("BLMPOP", "0", "1", f"{t}l", "LEFT"),
    ]
    conns = []
    try:
        for cmd in waits:
            c = h.RawConn(a.port, timeout=10.0)
            c.send(h.encode(*cmd))
            conns.append(c)
        h.wait_until(lambda: _blocked(a) == len(waits), 10, interval=0.05, what=f"all blocked ({kind}: {_blocked(a)})")
        with a.raw() as ca, b.raw() as cb:
            # An open slot keeps the waits (the slot is still ours).
            out.append(("imp", norm(cb.call("CLUSTER", "SETSLOT", S, "IMPORTING", ida))))
            out.append(("mig", norm(ca.call("CLUSTER", "SETSLOT", S, "MIGRATING", idb))))
            still = [c.is_closed(timeout=0.4) for c in conns[:1]]
            out.append(("still blocked while migrating", still, _blocked(a)))
            # Given away: every wait ends with -MOVED to the new owner.
            out.append(("node b", norm(cb.call("CLUSTER", "SETSLOT", S, "NODE", idb))))
            out.append(("node a", norm(ca.call("CLUSTER", "SETSLOT", S, "NODE", idb))))
        for cmd, c in zip(waits, conns):
            out.append((cmd[0], norm(c.read()[1])))
        h.wait_until(lambda: _blocked(a) == 0, 5, interval=0.05, what="none blocked")
        # A new wait on the moved slot is redirected at once.
        with a.raw() as ca:
            out.append(("after", norm(ca.call("BLPOP", f"{t}l", "0"))))
    finally:
        for c in conns:
            c.close()
    return out


def test_blocked_clients_redirected_when_slot_moves(servers):
    got = _scenario(servers, "shoal")
    expected = _scenario(servers, "redis")
    assert got == expected
    assert ("BLPOP", "Error:MOVED <S> 127.0.0.1:<B>") in expected
    assert ("still blocked while migrating", [False], 4) in expected


def _empty_slot(c, S):
    keys = c.call("CLUSTER", "GETKEYSINSLOT", S, "100000")
    if keys:
        c.call("DEL", *keys)
    return c.call("CLUSTER", "COUNTKEYSINSLOT", S) == 0


class _Writer(threading.Thread):
    """Writes keys of one hash tag, pipelined, to whichever node last said it owns
    the slot (-MOVED switches it; -ASK and -TRYAGAIN are just counted); with txn, as
    transactions of 10 SETs (MULTI, SET x 10, EXEC), all pipelined."""

    def __init__(self, ports, tag, start_port, idx, txn=False):
        super().__init__(daemon=True)
        self.conns = {p: h.RawConn(p, timeout=10.0) for p in ports}
        self.tag, self.port, self.idx, self.txn = tag, start_port, idx, txn
        self.rounds = 0
        self.moved = 0
        self.stop = False
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop:
                c = self.conns[self.port]
                args = [("SET", f"{self.tag}w{self.idx}:{n + i}", "v") for i in range(200)]
                if self.txn:
                    args = [x for i in range(0, 200, 10) for x in [("MULTI",), *args[i:i + 10], ("EXEC",)]]
                n += 200
                c.send(b"".join(h.encode(*x) for x in args))
                for _ in args:
                    v = c.read()[1]
                    if isinstance(v, h.Error) and v.startswith("MOVED"):
                        self.moved += 1
                        self.port = int(v.split()[2].rsplit(":", 1)[1])
                self.rounds += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def close(self):
        for c in self.conns.values():
            c.close()


@pytest.mark.parametrize("txn", [False, True], ids=["commands", "transactions"])
def test_no_write_lands_on_a_node_that_gave_the_slot_away(servers, txn):
    """With txn, an EXEC routed on one worker and run on the worker that keeps the
    slot's keys is checked again there, as a single command is."""
    nodes = bh.start_cluster(servers, 3)
    a, b, _ = nodes
    ids = {a.port: bh.myid(a), b.port: bh.myid(b)}
    t, slot = h.tag_in(a, 0, 5460, "b")
    S = str(slot)
    writers = [_Writer([a.port, b.port], t, a.port, i, txn) for i in range(4)]
    for wr in writers:
        wr.start()
    src, dst = a, b
    try:
        for rnd in range(30):
            with src.raw() as cs, dst.raw() as cd:
                assert cd.call("CLUSTER", "SETSLOT", S, "IMPORTING", ids[src.port]) == "OK"
                assert cs.call("CLUSTER", "SETSLOT", S, "MIGRATING", ids[dst.port]) == "OK"
                # While migrating, writes of new keys are sent on with -ASK: once emptied,
                # the source keeps no key of the slot unless a write gets past the checks.
                h.wait_until(lambda: _empty_slot(cs, S), 20, interval=0.01, what="source emptied")
                assert cd.call("CLUSTER", "SETSLOT", S, "NODE", ids[dst.port]) == "OK"
                r = cs.call("CLUSTER", "SETSLOT", S, "NODE", ids[dst.port])
                assert r == "OK", r
                # Every command in flight when the slot went away has answered.
                marks = [wr.rounds for wr in writers]
                h.wait_until(lambda: all(wr.rounds >= m + 2 or wr.error for wr in writers
                                         for m in [marks[writers.index(wr)]]),
                             10, interval=0.01, what="writers moved on")
                assert not any(wr.error for wr in writers), [wr.error for wr in writers]
                assert cs.call("CLUSTER", "COUNTKEYSINSLOT", S) == 0, f"round {rnd}: key on the old owner"
            src, dst = dst, src
        assert sum(wr.moved for wr in writers) > 0
    finally:
        for wr in writers:
            wr.stop = True
        for wr in writers:
            wr.join(5)
            wr.close()


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_pipelined_transactions_all_answer(servers, kind):
    """Several MULTI ... EXEC sent in one write, on connections of every worker: each
    answers in full, as redis-server does (a second EXEC read while the first waited
    for the keys' worker used to start over the first, and the client hung)."""
    nodes = bh.start_cluster(servers, 3, kind=kind)
    a = nodes[0]
    t, _ = h.tag_in(a, 0, 5460, "b")
    for conn_no in range(6):      # connections spread over the workers
        with h.RawConn(a.port, timeout=5.0) as c:
            args = []
            for i in range(3):
                args += [("MULTI",)] + [("SET", f"{t}{conn_no}:{i}:{j}", "v") for j in range(8)] + [("EXEC",)]
            c.send(b"".join(h.encode(*x) for x in args))
            got = [c.read()[1] for _ in args]
            assert got == (["OK"] + ["QUEUED"] * 8 + [["OK"] * 8]) * 3, (conn_no, got)


def _tag_on_worker(node, lo, hi, parity, prefix):
    """A hash tag in [lo, hi] whose slot the node's worker `parity` keeps (2 workers:
    slot s lives on worker s % 2)."""
    with node.raw() as c:
        for i in range(10000):
            tag = f"{{{prefix}{i}}}"
            s = c.call("CLUSTER", "KEYSLOT", tag)
            if lo <= s <= hi and s % 2 == parity:
                return tag, s
    raise AssertionError("no tag found")


def test_exec_routed_before_the_slot_went_away_is_refused_where_it_runs(servers):
    """An EXEC routed while the slot was ours, whose keyed commands run only after
    SETSLOT NODE gave the slot away (here they waited for the WATCH check on a worker
    busy with SORTs), answers -MOVED and leaves no key, as a single command routed the
    same way does."""
    a, b, _ = bh.start_cluster(servers, 3, extra_args=["--worker-threads", "2"])
    idb = bh.myid(b)
    tw, sw = _tag_on_worker(a, 0, 5460, 1, "w")      # WATCHed key: worker 1
    ts, ss = _tag_on_worker(a, 0, 5460, 0, "s")      # written key: worker 0
    S = str(ss)
    with a.raw(timeout=60) as c:
        vals = [str((i * 7919) % 1000003) for i in range(1000)]
        c.send(b"".join(h.encode("RPUSH", f"{tw}big", *vals) for _ in range(1000)))
        for _ in range(1000):
            assert isinstance(c.read()[1], int)
    conns = []
    try:
        q = a.raw(timeout=60)           # a client waiting on worker 1's keys: no command
        conns.append(q)                 # borrows worker 1 while it sleeps, the SORTs run there
        q.send(h.encode("BLPOP", f"{tw}q", "0"))
        h.wait_until(lambda: _blocked(a) == 1, 10, interval=0.05, what="BLPOP waiting")
        busy = a.raw(timeout=60)
        conns.append(busy)
        busy.send(b"".join(h.encode("SORT", f"{tw}big", "LIMIT", "0", "1") for _ in range(6)))
        time.sleep(0.2)
        free = []                       # connections served by worker 0 (answer while 1 sorts)
        for _ in range(8):
            try:
                p = h.RawConn(a.port, timeout=0.3)
                conns.append(p)
                if p.call("PING") == "PONG":
                    free.append(p)
            except OSError:             # on the busy worker: not usable
                pass
            if len(free) == 2:
                break
        assert len(free) == 2, "no connection on the free worker"
        x, y = free
        x.sock.settimeout(60)
        y.sock.settimeout(60)
        x.send(b"".join(h.encode(*cmd) for cmd in
                        [("WATCH", f"{tw}w"), ("MULTI",), ("SET", f"{ts}k", "v"), ("EXEC",)]))
        assert [x.read()[1] for _ in range(3)] == ["OK", "OK", "QUEUED"]
        # The slot goes while the EXEC waits for its WATCH check behind the SORTs.
        assert y.call("CLUSTER", "SETSLOT", S, "NODE", idb) == "OK"
        got = x.read()[1]
        assert isinstance(got, h.Error) and got.startswith(f"MOVED {ss} "), got
        assert y.call("CLUSTER", "COUNTKEYSINSLOT", S) == 0
        for _ in range(6):
            assert busy.read()[1] is not None
    finally:
        for c in conns:
            c.close()
