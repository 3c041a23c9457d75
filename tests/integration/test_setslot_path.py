"""The path a CLUSTER SETSLOT takes through a shoal node, which sets what a
`redis-cli --cluster reshard` costs per slot (five SETSLOTs a slot).

What it is for: a SETSLOT that needs no fsync is answered by the state actor right after
it writes nodes.conf itself (no round trip through the persister thread), the write puts
the new text over the file's own bytes as 7.0.15 does (no new inode per save: creating
and deleting one per save made ext4 scan for a free inode, most of a SETSLOT's time
here), and SETSLOT NODE takes the slot's key count on the client's worker when it can
(no round trip from the state actor to the slot's worker). Each is checked by what it
leaves behind: the persister thread's message count (INFO threads), the file's inode,
the state thread's message count; and the reply still comes after nodes.conf has the
change (read at once after each reply), and the key count still refuses to give away a
slot that holds keys, with 7.0.15's text, compared with redis-server.

What it must never do: time anything (test_setslot_latency compares with redis-server),
or accept a reply that comes before nodes.conf holds the change.
"""
import os
import select
import socket
import time

import pytest

import bushelpers as bh
import helpers as h


def _thread_messages(conn, name):
    """messages= of the thread named `name` in INFO threads."""
    text = conn.call("INFO", "threads").decode()
    for line in text.splitlines():
        if f"name={name}," in line and "messages=" in line:
            return int(line.split("messages=")[1].split(",")[0])
    raise AssertionError(f"no thread {name} in INFO threads:\n{text}")


def _my_line(node):
    return next(ln for ln in node.nodes_conf.read_text().splitlines() if "myself" in ln)


def test_setslot_saves_without_the_persister_and_in_place(servers):
    a, b, _ = bh.start_cluster(servers, 3)
    other = bh.myid(b)
    slot = 10                      # node a owns 0-5460
    with a.raw(timeout=30) as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"   # a first save
        inode = os.stat(a.nodes_conf).st_ino
        before = _thread_messages(c, "persister")
        for _ in range(25):
            assert c.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other) == "OK"
            # the change is in the file as soon as the reply is read
            assert f"[{slot}->-{other}]" in _my_line(a)
            assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
            assert "[" not in _my_line(a)
        after = _thread_messages(c, "persister")
    # 50 saves, none of them through the persister (a save the bus asks for meanwhile
    # may go there: a couple at most in this quiet cluster)
    assert after - before <= 2, f"persister handled {after - before} messages for 50 SETSLOTs"
    assert os.stat(a.nodes_conf).st_ino == inode, "nodes.conf was replaced, not written over"
    assert not [p.name for p in a.dir.iterdir() if ".tmp-" in p.name]


def test_setslot_node_counts_keys_without_a_round_trip(servers):
    a, b, _ = bh.start_cluster(servers, 3)
    me, other = bh.myid(a), bh.myid(b)
    with a.raw(timeout=30) as c:
        before = _thread_messages(c, "state")
        n = 40
        for slot in range(100, 100 + n):
            assert c.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other) == "OK"
            # NODE while migrating needs the slot's key count (0 here)
            assert c.call("CLUSTER", "SETSLOT", str(slot), "NODE", me) == "OK"
        after = _thread_messages(c, "state")
        # 2 messages a slot (one per command); counting on the slot's worker through
        # the state actor made it 3; bus frames meanwhile: a few
        assert after - before < 2.5 * n, f"state thread: {after - before} messages for {2 * n} SETSLOTs"
        assert "[" not in _my_line(a)


def _state_borrows(conn):
    """borrows= of the state thread's borrow line in INFO threads (0 when it has none:
    a thread that never lends its data has no such line)."""
    text = conn.call("INFO", "threads").decode()
    for line in text.splitlines():
        if line.startswith("borrow") and "name=state," in line:
            return int(line.split("borrows=")[1].split(",")[0])
    return 0


def test_setslot_runs_on_the_client_worker_while_the_state_thread_sleeps(servers):
    """A SETSLOT reaching a quiet node is applied by the client's worker on the state
    actor's data (the state thread lends it while it sleeps): no message to the state
    thread and none back, the reply still after nodes.conf holds the change, and the
    snapshot the workers route from has it too (an open slot answers ASK for a key it
    does not hold)."""
    a, b, _ = bh.start_cluster(servers, 3)
    other = bh.myid(b)
    slot = 40                      # node a owns 0-5460
    key = next(f"k{i}" for i in range(100000) if h.key_slot(f"k{i}") == slot)
    with a.raw(timeout=30) as c:
        assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
        time.sleep(0.2)
        msgs, borrows = _thread_messages(c, "state"), _state_borrows(c)
        n = 25
        for _ in range(n):
            assert c.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other) == "OK"
            assert f"[{slot}->-{other}]" in _my_line(a)
            reply = c.call("GET", key)
            assert isinstance(reply, h.Error) and str(reply).startswith("ASK "), reply
            assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
            assert "[" not in _my_line(a)
            assert c.call("GET", key) is None
        msgs, borrows = _thread_messages(c, "state") - msgs, _state_borrows(c) - borrows
    # 2n SETSLOTs; bus frames and the cron may wake the state thread meanwhile, and a
    # SETSLOT that finds it awake goes by message
    assert borrows >= n, f"{borrows} of {2 * n} SETSLOTs applied on the client's worker"
    assert msgs < n, f"state thread handled {msgs} messages for {2 * n} SETSLOTs"


def test_setslot_node_still_refuses_a_slot_with_keys(servers):
    """The count taken on the worker is the count: same replies as redis-server."""
    got = {}
    for kind in ("shoal", "redis"):
        a, b, _ = bh.start_cluster(servers, 3, kind=kind)
        other = bh.myid(b)
        replies = []
        with a.raw(timeout=30) as c:
            # keys on both workers' slots (a 2-worker node keeps slot s on worker s % 2)
            keys = {}
            for i in range(200):
                k = f"k{i}"
                slot = c.call("CLUSTER", "KEYSLOT", k)
                if slot <= 5460:           # node a's third
                    keys.setdefault(slot, k)
                if len(keys) >= 6:
                    break
            for slot, k in sorted(keys.items()):
                assert c.call("SET", k, "v") == "OK"
                replies.append(c.call("CLUSTER", "SETSLOT", str(slot), "NODE", other))
                assert c.call("DEL", k) == 1
                replies.append(c.call("CLUSTER", "SETSLOT", str(slot), "NODE", other))
        got[kind] = [str(r) for r in replies]
    assert got["shoal"] == got["redis"], got
    assert any("still hold keys" in r for r in got["shoal"]) and "OK" in got["shoal"]


def _setslot_beside_saveconfig(a, c1, c2, slot, other, gap, from_save):
    """SAVECONFIG on c1 (a save with fsync, as the PONG that rebinds a slot asks for;
    not a new configEpoch of ours, whose fsync every reply waits for, as on 7.0.15:
    test_config_epoch_durable.py), then, `gap` s later, SETSLOT MIGRATING on c2. Returns
    the seconds until the SETSLOT's reply and until the SAVECONFIG's, counted from the
    SAVECONFIG (from_save) or from the SETSLOT; checks that the SETSLOT's reply came with
    its change in nodes.conf."""
    t_save = time.perf_counter()
    c1.send(h.encode("CLUSTER", "SAVECONFIG"))
    time.sleep(gap)
    t_set = time.perf_counter()
    t0 = t_save if from_save else t_set
    assert c2.call("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other) == "OK"
    took = time.perf_counter() - t0
    assert f"[{slot}->-{other}]" in _my_line(a)
    saved = c1.read()[1]
    waited = time.perf_counter() - t0
    assert saved == "OK", saved
    assert f"[{slot}->-{other}]" in _my_line(a)
    return took, waited


@pytest.mark.quiet   # bounds a latency from above (conftest.py)
def test_setslot_does_not_wait_for_an_older_save_the_persister_is_fsyncing(servers):
    """A save with fsync held at the persister (DEBUG PERSISTER-DELAY, a slow disk) does
    not hold back a later SETSLOT's reply, which needs no fsync; the SAVECONFIG that asked
    for the fsync still waits for it; and the older text, written last, does not land over
    the newer one."""
    a, b, _ = bh.start_cluster(servers, 3, extra_args=["--enable-debug-command", "yes"])
    other = bh.myid(b)
    slot = 20
    with a.raw(timeout=30) as c1, a.raw(timeout=30) as c2:
        assert c2.call("DEBUG", "PERSISTER-DELAY", "700000") == "OK"
        try:
            # the SAVECONFIG's save is with the persister 0.1 s later
            took, waited = _setslot_beside_saveconfig(a, c1, c2, slot, other, 0.1, False)
        finally:
            assert c2.call("DEBUG", "PERSISTER-DELAY", "0") == "OK"
        assert took < 0.35, f"SETSLOT waited {took:.3f} s behind the fsyncing save"
        assert waited > 0.4, f"SAVECONFIG replied {waited:.3f} s after, before its save"
        assert c2.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
        assert "[" not in _my_line(a)


@pytest.mark.quiet   # bounds a latency from above (conftest.py)
def test_setslot_in_the_batch_of_an_fsync_does_not_wait_for_it(servers):
    """A SETSLOT handled in the same batch of the state actor as a change that fsyncs
    (a SAVECONFIG here; in a reshard, the PONG that hands a slot to its new owner reaches
    the old one as redis-cli's SETSLOT NODE does) is answered once nodes.conf holds its
    change, without waiting for that fsync (held by DEBUG PERSISTER-DELAY); the SAVECONFIG
    still waits for it, and nodes.conf ends with both changes."""
    a, b, _ = bh.start_cluster(servers, 3, extra_args=["--enable-debug-command", "yes"])
    other = bh.myid(b)
    slot = 30
    with a.raw(timeout=30) as c1, a.raw(timeout=30) as c2, a.raw(timeout=30) as c3:
        assert c3.call("DEBUG", "PERSISTER-DELAY", "1500000") == "OK"
        # each message the state actor takes sleeps first: the SETSLOT sent while it
        # sleeps on the SAVECONFIG is in its mailbox when it wakes, so both are handled
        # before the actor's save
        assert c3.call("DEBUG", "STATE-ACTOR-DELAY", "150000") == "OK"
        try:
            took, waited = _setslot_beside_saveconfig(a, c1, c2, slot, other, 0.03, True)
        finally:
            assert c3.call("DEBUG", "STATE-ACTOR-DELAY", "0") == "OK"
            assert c3.call("DEBUG", "PERSISTER-DELAY", "0") == "OK"
        # two delayed messages (and maybe a bus frame or two) but no 1.5 s fsync
        assert took < 1.2, f"SETSLOT waited {took:.3f} s for the SAVECONFIG's fsync"
        assert waited > 1.5, f"SAVECONFIG replied after {waited:.3f} s, before its fsync"
        assert c2.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"


def _state_thread_stat(conn, field):
    """A counter of the state thread in INFO threads: lazy_sends= (messages left for
    its next wake-up instead of waking it) or wake_sends= (ordinary sends that had to
    wake its loop; lazy ones and its cron are not counted)."""
    text = conn.call("INFO", "threads").decode()
    for line in text.splitlines():
        if "name=state," in line and f"{field}=" in line:
            return int(line.split(f"{field}=")[1].split(",")[0])
    raise AssertionError(f"no state thread in INFO threads:\n{text}")


def test_a_save_nobody_waits_for_does_not_wake_the_state_thread(servers):
    """When another master's claim takes slots from our view (a reshard's target
    announcing each slot it took with a PONG), the new owner is saved with fsync and no
    reply or frame waits for it: the persister's acknowledgement is left for the state
    thread's next wake-up (rt_send_lazy) instead of waking it once per slot. The file
    still gets every change, and a command that waits for its own save still answers."""
    a, b, c = bh.start_cluster(servers, 3)
    ida, idb = bh.myid(a), bh.myid(b)
    slots = range(100, 120)                 # node a's, no keys: b takes them by hand
    with b.raw(timeout=30) as cb, c.raw(timeout=30) as cc:
        before = _state_thread_stat(cc, "lazy_sends")
        for slot in slots:
            assert cb.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ida) == "OK"
            assert cb.call("CLUSTER", "SETSLOT", str(slot), "NODE", idb) == "OK"

        def c_has_them():
            line = next(ln for ln in c.nodes_conf.read_text().splitlines() if ln.startswith(idb))
            return f"{slots[0]}-{slots[-1]}" in line.split()
        # b's PONGs rebind the slots on c: its persister saves them (with fsync)
        h.wait_until(c_has_them, 20, what="c's nodes.conf giving b the slots")
        h.wait_until(lambda: _state_thread_stat(cc, "lazy_sends") > before, 20,
                     what="a lazy acknowledgement of c's saves")
        # a command that waits for its own save is not held by the lazy ones
        assert cc.call("CLUSTER", "SETSLOT", str(slots[0]), "NODE", idb) == "OK"
        assert cc.call("CLUSTER", "SAVECONFIG") == "OK"


def test_a_pong_rebinding_a_slot_is_applied_by_the_link_thread(servers):
    """A reshard's target announces each slot it took with a PONG; on a master that
    only hears of it, the link that read the frame applies it on the state actor's data
    while the state thread sleeps (state_borrow.c), as a SETSLOT is applied on the
    client's worker: the state thread is not woken for it (before, one wake request per
    forwarded read; the persister's acknowledgements of the saves it asks for are lazy,
    handled at the thread's next wake-up, so its message count is not the measure), and
    the node's nodes.conf and CLUSTER NODES still give the slots to their new owner."""
    a, b, c = bh.start_cluster(servers, 3)
    ida, idb = bh.myid(a), bh.myid(b)
    slots = range(200, 260)                 # node a's, no keys: b takes them by hand
    with b.raw(timeout=30) as cb, c.raw(timeout=30) as cc:
        time.sleep(0.2)
        wakes, borrows = _state_thread_stat(cc, "wake_sends"), _state_borrows(cc)
        for slot in slots:
            assert cb.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ida) == "OK"
            assert cb.call("CLUSTER", "SETSLOT", str(slot), "NODE", idb) == "OK"

        def c_has_them():
            line = next(ln for ln in c.nodes_conf.read_text().splitlines() if ln.startswith(idb))
            return f"{slots[0]}-{slots[-1]}" in line.split()
        h.wait_until(c_has_them, 20, what="c's nodes.conf giving b the slots")
        wakes, borrows = _state_thread_stat(cc, "wake_sends") - wakes, _state_borrows(cc) - borrows
        view = cc.call("CLUSTER", "NODES").decode()
    line = next(ln for ln in view.splitlines() if ln.startswith(idb))
    assert f"{slots[0]}-{slots[-1]}" in line.split(), line
    n = len(slots)
    # no SETSLOT went to c: its borrows are the link's rounds of frames (a read may carry
    # several slots' PONGs: one round applies them all); a round that finds the state
    # thread awake (its cron, a link event) goes by message. Before: no borrow, and one
    # wake request per message (22 for the 60 slots in one run).
    assert borrows >= 5, f"{borrows} rounds of frames applied by the link's thread for {n} slots"
    assert wakes < borrows, f"{wakes} wake requests to the state thread, {borrows} borrowed rounds"


class _FakePeer:
    """A cluster-bus peer that listens, so that a node MEETs it and links to it: it
    answers the node's MEET and PINGs with PONGs and hands every other frame to the
    test. Only the frames the node sends on its own link to us arrive here."""

    def __init__(self):
        self.port = h.free_port()
        self.name = bh.random_name()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port + 10000))
        self.lsock.listen(16)
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
        self.lsock.close()

    def accept(self, timeout=10.0):
        self.lsock.settimeout(timeout)
        sock, _ = self.lsock.accept()
        self.conn = bh.BusConn.__new__(bh.BusConn)
        self.conn.sock, self.conn.buf = sock, b""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def next_frame(self, timeout=5.0):
        """The next frame that is not a PING or MEET (those are answered)."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.conn.read_frame(max(0.01, deadline - time.monotonic()))
            if bh.parse_header(f)["type"] in (bh.T_PING, bh.T_MEET):
                self.conn.send(bh.header(bh.T_PONG, sender=self.name, port=self.port,
                                         cport=self.port + 10000, flags=bh.F_MASTER))
                continue
            return f


def _claims(frame, slot):
    return bool(bh.parse_header(frame)["myslots"][slot // 8] & (1 << (slot % 8)))


PINGS_BEHIND = 3000


@pytest.mark.parametrize("workers", [1, 2])
def test_setslot_node_replies_before_its_pong_leaves(servers, workers):
    """On the importing node, SETSLOT NODE's reply is written before the PONG that
    announces the slot to everyone, as in 7.0.15 (the reply leaves in its beforeSleep,
    the PONG from the links' buffers in the next loop pass): a peer linked to the node
    finds, when that PONG reaches it, the reply already in the client's socket. Both
    paths: the first slot bumps the configEpoch (a save with fsync, the reply and the
    PONG released by the state thread), the next ones are applied on the client's
    worker. PINGs pipelined behind the SETSLOT keep its worker busy before it writes the
    reply: with two workers the link to the peer lives on the other one, which sent the
    PONG meanwhile when it was handed over before the reply (this failed at the first
    or third slot); with one, they share a thread. In a reshard the PONG sent first
    reached the source and the other master just before redis-cli's SETSLOT NODE, which
    then competed with the frame's work for the CPU."""
    a, b, _ = bh.start_cluster(servers, 3, extra_args=["--worker-threads", str(workers)])
    ida, idb = bh.myid(a), bh.myid(b)
    peer = _FakePeer()
    try:
        with b.raw(timeout=30) as cb:
            assert cb.call("CLUSTER", "MEET", "127.0.0.1", str(peer.port)) == "OK"
            peer.accept()

            def answered(seconds):
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    try:
                        peer.next_frame(timeout=max(0.01, end - time.monotonic()))
                    except TimeoutError:
                        break

            def knows_peer():
                answered(0.05)          # the MEET and PINGs need their PONGs
                return peer.name in cb.call("CLUSTER", "NODES").decode()
            h.wait_until(knows_peer, 10, what="node b knowing the peer")
            answered(0.5)               # and whatever the node sends for a newcomer
            for slot in range(100, 106):        # node a's, no keys
                assert cb.call("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ida) == "OK"
                # PINGs behind it in the same read keep the worker busy before it gets
                # to write the reply (the PONG's link lives on another thread with 2)
                cb.send(h.encode("CLUSTER", "SETSLOT", str(slot), "NODE", idb)
                        + h.encode("PING") * PINGS_BEHIND)
                while True:
                    f = peer.next_frame(timeout=10)
                    if bh.parse_header(f)["type"] == bh.T_PONG and _claims(f, slot):
                        break
                readable, _, _ = select.select([cb.sock], [], [], 0)
                assert readable, f"slot {slot}: the PONG announcing it came before the reply"
                assert cb.read()[1] == "OK"
                for _ in range(PINGS_BEHIND):
                    assert cb.read()[1] == "PONG"
    finally:
        peer.close()


def test_pipelined_setslots_answer_in_order(servers):
    """A SETSLOT applied on the client's worker hands its reply straight to the client
    (no message to itself): pipelined behind and ahead of other commands, every reply
    still comes in order and each command sees the one before it (an open slot answers
    ASK for a key it does not hold), and CLIENT REPLY SKIP still drops exactly the next
    command's reply, also when that SETSLOT is the last command read (the one whose
    reply its worker takes back at once)."""
    a, b, _ = bh.start_cluster(servers, 3)
    other = bh.myid(b)
    slot = 50                      # node a owns 0-5460
    key = next(f"k{i}" for i in range(100000) if h.key_slot(f"k{i}") == slot)
    with a.raw(timeout=30) as c:
        for _ in range(20):
            c.send(h.encode("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other)
                   + h.encode("GET", key)
                   + h.encode("CLUSTER", "SETSLOT", str(slot), "STABLE")
                   + h.encode("GET", key)
                   + h.encode("CLIENT", "REPLY", "SKIP")
                   + h.encode("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other)
                   + h.encode("CLUSTER", "SETSLOT", str(slot), "STABLE")
                   + h.encode("PING"))
            assert c.read()[1] == "OK"
            ask = c.read()[1]
            assert isinstance(ask, h.Error) and str(ask).startswith("ASK "), ask
            assert c.read()[1] == "OK"
            assert c.read()[1] is None
            assert c.read()[1] == "OK"            # the STABLE after the skipped MIGRATING
            assert c.read()[1] == "PONG"
            # the skipped SETSLOT last in the input (answered on the spot)
            c.send(h.encode("CLIENT", "REPLY", "SKIP")
                   + h.encode("CLUSTER", "SETSLOT", str(slot), "MIGRATING", other))
            time.sleep(0.01)
            assert c.call("PING") == "PONG"
            assert f"[{slot}->-{other}]" in _my_line(a)
            assert c.call("CLUSTER", "SETSLOT", str(slot), "STABLE") == "OK"
        assert "[" not in _my_line(a)
