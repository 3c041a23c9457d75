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
    the slot (-MOVED switches it; -ASK and -TRYAGAIN are just counted)."""

    def __init__(self, ports, tag, start_port, idx):
        super().__init__(daemon=True)
        self.conns = {p: h.RawConn(p, timeout=10.0) for p in ports}
        self.tag, self.port, self.idx = tag, start_port, idx
        self.rounds = 0
        self.moved = 0
        self.stop = False
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop:
                c = self.conns[self.port]
                cmds = b"".join(h.encode("SET", f"{self.tag}w{self.idx}:{n + i}", "v") for i in range(200))
                n += 200
                c.send(cmds)
                for _ in range(200):
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


def test_no_write_lands_on_a_node_that_gave_the_slot_away(servers):
    nodes = bh.start_cluster(servers, 3)
    a, b, _ = nodes
    ids = {a.port: bh.myid(a), b.port: bh.myid(b)}
    t, slot = h.tag_in(a, 0, 5460, "b")
    S = str(slot)
    writers = [_Writer([a.port, b.port], t, a.port, i) for i in range(4)]
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
