"""Lingering before sleep on the threads that serve cluster-bus links (rt_thread_set_linger_us,
docs/design.md §2): when the bus wakes a worker faster than once per 100 us, the worker sleeps
out the rest of that time before it polls again, so its links are read in bigger batches.

* A flood of PINGs from 16 unknown senders makes the links' worker linger (INFO threads
  `linger<i>` lines count them), where it never did before.
* Meanwhile every PING is answered and client commands on keys of both workers' keyspaces
  (run by borrowing the lingering worker or by message to it) get their replies: nothing waits
  past a linger.
"""
import select
import socket
import threading
import time

import bushelpers as bh
import helpers as h

WORKERS = ["--worker-threads", "2"]


def lingers(n):
    """{thread name: lingers} from INFO threads."""
    with n.raw() as c:
        text = c.call("INFO", "threads").decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("linger"):
            fields = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split(","))
            out[fields["name"]] = int(fields["lingers"])
    return out


def flood(port, seconds, conns=16):
    """PINGs from `conns` unknown senders, as fast as the node answers (up to 8 in flight on
    each link); returns (PINGs sent, PONGs received)."""
    socks, frames = [], []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
        frames.append(bh.ping())
    frame_len = len(frames[0])
    sent, received, pending = 0, 0, {s: b"" for s in socks}
    inflight = {s: 0 for s in socks}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, s in enumerate(socks):
            while inflight[s] < 8:
                s.sendall(frames[i])
                inflight[s] += 1
                sent += 1
        ready, _, _ = select.select(socks, [], [], 1.0)
        for s in ready:
            data = s.recv(1 << 20)
            assert data, "the node closed a flood link"
            buf = pending[s] + data
            whole = len(buf) // frame_len     # a PONG of a lone node is as long as our PING
            received += whole
            inflight[s] -= whole
            pending[s] = buf[whole * frame_len:]
    for s in socks:   # the PINGs still in flight are answered too
        s.settimeout(10)
        while inflight[s] > 0:
            data = s.recv(1 << 20)
            assert data, "the node closed a flood link"
            buf = pending[s] + data
            whole = len(buf) // frame_len
            received += whole
            inflight[s] -= whole
            pending[s] = buf[whole * frame_len:]
        s.close()
    return sent, received


def test_a_flooded_worker_lingers_and_answers_everything(servers):
    n = servers.shoal(WORKERS)
    h.own_all_slots(n)
    assert lingers(n) == {}, "a node whose bus is quiet lingers"
    # Unknown senders' PINGs are answered with a PONG as long as the PING (a node without
    # other members gossips no entry), which the flood uses to count them.
    assert len(bh.probe_pong(n)) == len(bh.ping())
    stop, bad, done = threading.Event(), [], [0]

    def client():
        with n.raw() as c:
            i = 0
            while not stop.is_set():
                key = f"k{i % 500}"     # slots of both workers
                if c.call("SET", key, str(i)) != "OK" or c.call("GET", key) != str(i).encode():
                    bad.append(key)
                i += 1
            done[0] = i

    t = threading.Thread(target=client)
    t.start()
    try:
        sent, received = flood(bh.bus_port(n), 3.0)
    finally:
        stop.set()
        t.join(30)
    assert sent == received and sent > 0, (sent, received)
    assert not bad and done[0] > 0, (bad[:5], done[0])
    counts = lingers(n)
    assert counts.get("worker-1", 0) > 0, counts     # the links' worker (packed on the last)
