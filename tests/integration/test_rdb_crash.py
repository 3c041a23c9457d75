"""RDB-only durability under kill -9: save points and BGSAVEs, killed at random moments.

What it is for: a node with save points (and BGSAVEs started at random moments, slowed by
rdb-key-save-delay so that kills often land in the middle of one) is killed with SIGKILL
while one client writes k:0, k:1, ... in order, each write acknowledged before the next.
After every kill the node must start again (dump.rdb is never half-written: temp file,
fsync, rename), redis-check-rdb must accept the file, and what it loaded must be a prefix
k:0 .. k:m-1 of the acknowledged writes (a save is one consistent cut, so a single client's
ordered writes can only be cut after some write), never shorter than the prefix the
previous start loaded. Rounds and timings come from a seeded random generator (the seed is
in the failure message); `make drill` is where a long version would go.

What it must never do: signal a process it did not start, or touch other tests' files.
"""
import os
import random
import signal
import subprocess
import threading
import time

import helpers as h

ROUNDS = 6


def _loaded_prefix(srv):
    """The keys the node holds, checked to be exactly k:0 .. k:m-1 with their values;
    returns m."""
    with srv.raw(timeout=20) as c:
        keys, _ = h.scan_all(c, "COUNT", "1000")
        m = len(keys)
        assert sorted(keys) == sorted(f"k:{i}".encode() for i in range(m)), "not a prefix"
        for i in random.sample(range(m), min(m, 200)):
            assert c.call("GET", f"k:{i}") == str(i).encode()
    return m


def _writer(port, start, stop, acked):
    """Writes k:start, k:start+1, ... one at a time until stop is set or the node dies."""
    i = start
    try:
        with h.RawConn(port, timeout=5) as c:
            while not stop.is_set():
                if c.call("SET", f"k:{i}", str(i)) != "OK":
                    return
                acked[0] = i + 1
                i += 1
    except (OSError, ConnectionError, h.ProtocolDesync):
        return


def test_kill_9_during_saves_loads_a_consistent_prefix(servers):
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    srv = servers.shoal(base_args="standalone",
                        extra_args=["--save", "1 1", "--rdb-key-save-delay", "20",
                                    "--worker-threads", "2"])
    dump = srv.dir / "dump.rdb"
    prev = 0
    acked = [0]
    for rnd_no in range(ROUNDS):
        m = _loaded_prefix(srv)
        assert m >= prev, f"seed {seed} round {rnd_no}: loaded {m} keys, fewer than the {prev} before"
        assert m <= max(acked[0], prev), f"seed {seed}: loaded keys never acknowledged"
        prev = m
        stop = threading.Event()
        acked[0] = m
        t = threading.Thread(target=_writer, args=(srv.port, m, stop, acked), daemon=True)
        t.start()
        deadline = time.monotonic() + rnd.uniform(0.8, 2.0)
        while time.monotonic() < deadline:
            time.sleep(rnd.uniform(0.05, 0.4))
            try:
                with srv.raw(timeout=2) as c:
                    c.call("BGSAVE")
            except OSError:
                pass
        srv.signal(signal.SIGKILL)
        srv.popen.wait()
        stop.set()
        t.join(5)
        if dump.exists():
            chk = subprocess.run(["redis-check-rdb", str(dump)], capture_output=True, text=True, timeout=60)
            assert chk.returncode == 0, f"seed {seed} round {rnd_no}: redis-check-rdb: {chk.stdout}{chk.stderr}"
        srv.start()
    m = _loaded_prefix(srv)
    assert m >= prev, f"seed {seed}: loaded {m} keys, fewer than the {prev} before"
    assert prev > 0, f"seed {seed}: no save ever completed"
