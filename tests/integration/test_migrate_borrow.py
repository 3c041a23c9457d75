"""MIGRATE of keys another worker keeps, run by the client's worker while that worker
sleeps (actors/worker/migrate.c, "borrowed"), which is what `redis-cli --cluster reshard`
sends for half of the slots on a node with two workers.

What it is for: such a call used to cost the keys' worker two thread wake-ups (the call
sent to it, the answer sent back) on top of the target's round trip. Now the client's
worker takes the sleeping worker's token for each step that reads or changes its keys
(the handler, building a round, settling it) and talks to the target from its own loop.
Checked by what it leaves behind: INFO threads `migrate:borrowed_calls` counts such calls,
and the keys' worker gets (almost) no messages for them (every call was two before); the
keys and their TTLs arrive and are gone here, as with redis-server's MIGRATE. A key
written while its copy travels is still sent again with REPLACE (the settle step reads
the keys' worker's WATCH versions), and a keys' worker that has become busy by the time
the target answers (a client blocked on its keys) takes the job over and answers it.

What it must never do: time anything, or accept a reply before the target had the keys.
"""
import threading
import time

import pytest

import helpers as h
import test_migrate as tm

WORKERS = ["--worker-threads", "2", "--enable-debug-command", "yes"]


@pytest.fixture
def fakes():
    made = []

    def make(mode, delay=0.0):
        f = tm.FakeTarget(mode, delay)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def _threads(conn):
    """INFO threads as {"<thread>.<field>": int}, plus migrate.borrowed_calls."""
    out = {}
    for line in conn.call("INFO", "threads").decode().splitlines():
        if ":" not in line or "=" not in line:
            continue
        head, rest = line.split(":", 1)
        parts = dict(kv.split("=", 1) for kv in rest.split(","))
        name = parts.pop("name", head)
        for k, v in parts.items():
            if v.isdigit():
                out[f"{name}.{k}"] = int(v)
    return out


def _keys_of_worker(worker, n, prefix="bk"):
    """n key names kept by worker `worker` of 2 (slot % 2)."""
    keys, i = [], 0
    while len(keys) < n:
        k = f"{prefix}:{i}"
        if h.key_slot(k) % 2 == worker:
            keys.append(k)
        i += 1
    return keys


def _client_worker(node):
    """The worker a fresh connection of this node is served by: with nothing else
    connected a node packs its connections on worker 0 (placement)."""
    with node.raw() as c:
        assert c.call("DEBUG", "PLACEMENT", "PACK") == "OK"
    return 0


def test_migrate_of_another_workers_keys_needs_no_message_to_it(servers):
    src = servers.shoal(base_args="standalone", extra_args=WORKERS)
    dst = servers.redis(base_args="standalone")
    other = 1 - _client_worker(src)
    n = 30
    keys = _keys_of_worker(other, n)
    with src.raw(timeout=15) as c:
        for i, k in enumerate(keys):
            assert c.call("SET", k, f"value-{i}") == "OK"
            assert c.call("PEXPIRE", k, "600000") == 1
        time.sleep(0.3)                         # let the keys' worker fall asleep
        before = _threads(c)
        for k in keys:
            assert c.call("MIGRATE", "127.0.0.1", str(dst.port), k, "0", "5000") == "OK"
        after = _threads(c)
        assert c.call("EXISTS", *keys) == 0
    msgs = after[f"worker-{other}.messages"] - before[f"worker-{other}.messages"]
    # each call by message was 1 message to the keys' worker; a few may find it awake
    assert msgs <= n // 3, f"the keys' worker got {msgs} messages for {n} MIGRATEs"
    borrowed = after["migrate.borrowed_calls"] - before["migrate.borrowed_calls"]
    assert borrowed >= n * 2 // 3, f"{borrowed} of {n} calls borrowed"
    with dst.raw() as t:
        for i, k in enumerate(keys):
            assert t.call("GET", k) == f"value-{i}".encode()
            assert 590000 < t.call("PTTL", k) <= 600000


def test_migrate_keys_batches_of_both_workers_as_redis_cli_sends_them(servers):
    """MIGRATE ... KEYS batches of 10 for slots of each worker, from one connection,
    to a shoal target in cluster mode's absence (RESTORE): every key arrives once."""
    src = servers.shoal(base_args="standalone", extra_args=WORKERS)
    dst = servers.shoal(base_args="standalone", extra_args=WORKERS)
    _client_worker(src)
    tag_keys = {}
    for w in (0, 1):
        # keys of one slot each ({tag}), as redis-cli moves one slot at a time
        tag = next(f"{{s{i}}}" for i in range(1000) if h.key_slot(f"{{s{i}}}") % 2 == w)
        tag_keys[w] = [f"{tag}{j}" for j in range(35)]
    with src.raw(timeout=15) as c:
        for w, ks in tag_keys.items():
            for k in ks:
                assert c.call("SET", k, k + "-v") == "OK"
        for w, ks in tag_keys.items():
            for lo in range(0, len(ks), 10):
                r = c.call("MIGRATE", "127.0.0.1", str(dst.port), "", "0", "5000", "KEYS", *ks[lo:lo + 10])
                assert r == "OK", r
            assert c.call("EXISTS", *ks) == 0
        assert _threads(c)["migrate.borrowed_calls"] >= 2
    with dst.raw() as t:
        for ks in tag_keys.values():
            assert [t.call("GET", k) for k in ks] == [(k + "-v").encode() for k in ks]


def test_borrowed_migrate_key_written_in_flight_is_sent_again(servers, fakes):
    """As test_migrate_key_written_in_flight_is_sent_again, with the keys on the
    worker the client is not served by: the write meanwhile runs on the keys' worker,
    and the job, settled on that worker's keys, sees it and sends the key again."""
    ss = servers.shoal(base_args="standalone", extra_args=WORKERS)
    other = 1 - _client_worker(ss)
    tag = next(f"{{k{i}}}" for i in range(1000) if h.key_slot(f"{{k{i}}}") % 2 == other)
    late = fakes("late", delay=1.5)
    with ss.raw(timeout=15) as c, ss.raw() as w:
        c.call("SET", f"{tag}1", "before")
        c.call("SET", f"{tag}2", "doomed")
        c.call("SET", f"{tag}3", "still")
        time.sleep(0.3)
        before = _threads(w)["migrate.borrowed_calls"]
        c.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "", "0", "5000", "KEYS",
                        f"{tag}1", f"{tag}2", f"{tag}3"))
        time.sleep(0.2)
        assert w.call("SET", f"{tag}1", "after") == "OK"
        assert w.call("DEL", f"{tag}2") == 1
        assert c.read()[1] == "OK"
        assert w.call("EXISTS", f"{tag}1", f"{tag}2", f"{tag}3") == 0
        assert _threads(w)["migrate.borrowed_calls"] == before + 1
    names = [x[0].upper() for x in late.commands]
    assert names == [b"SELECT", b"RESTORE", b"RESTORE", b"RESTORE", b"RESTORE", b"DEL"], late.commands
    second = late.commands[4]
    assert second[1] == f"{tag}1".encode() and b"after" in second[3] and second[4] == b"REPLACE"
    assert late.commands[5] == [b"DEL", f"{tag}2".encode()]


def test_borrowed_migrate_handed_to_a_busy_keys_worker(servers, fakes):
    """The keys' worker sleeps when the call starts (borrowed) but has a client blocked
    on its keys when the target answers: it may not be borrowed then, so it takes the
    job over (a message), deletes the keys the target took and answers."""
    ss = servers.shoal(base_args="standalone", extra_args=WORKERS)
    other = 1 - _client_worker(ss)
    tag = next(f"{{h{i}}}" for i in range(1000) if h.key_slot(f"{{h{i}}}") % 2 == other)
    late = fakes("late", delay=1.0)
    with ss.raw(timeout=15) as c, ss.raw(timeout=15) as b, ss.raw() as w:
        assert c.call("SET", f"{tag}a", "1") == "OK"
        assert c.call("SET", f"{tag}b", "2") == "OK"
        time.sleep(0.3)
        before = _threads(w)
        c.send(h.encode("MIGRATE", "127.0.0.1", str(late.port), "", "0", "5000", "KEYS",
                        f"{tag}a", f"{tag}b"))
        h.wait_until(lambda: len(late.commands) >= 3, 5, what="the RESTOREs at the target")
        b.send(h.encode("BLPOP", f"{tag}list", "0"))   # blocked on the keys' worker
        time.sleep(0.1)
        assert c.read()[1] == "OK"
        after = _threads(w)
        assert w.call("EXISTS", f"{tag}a", f"{tag}b") == 0
        assert w.call("RPUSH", f"{tag}list", "x") == 1
        assert b.read()[1] == [f"{tag}list".encode(), b"x"]
    assert after["migrate.borrowed_calls"] == before["migrate.borrowed_calls"] + 1
    # the hand-over and the answer are messages to the keys' worker / back
    assert after[f"worker-{other}.messages"] > before[f"worker-{other}.messages"]
    assert [x[0].upper() for x in late.commands] == [b"SELECT", b"RESTORE", b"RESTORE"]


def test_concurrent_migrates_and_writes_lose_nothing(servers):
    """Clients on both workers write keys of both workers while another moves them
    in batches: every key ends up on exactly one side, with its last acknowledged
    value where it is (the call either sent the newest value or kept the key)."""
    src = servers.shoal(base_args="standalone", extra_args=WORKERS)
    dst = servers.redis(base_args="standalone")
    keys = [f"{{c{g}}}:{j}" for g in range(20) for j in range(10)]   # one slot per batch
    last = {}
    h.set_keys(src, keys, value="0")
    for k in keys:
        last[k] = b"0"
    stop = threading.Event()
    errors = []

    def writer(part):
        n = 1
        with src.raw(timeout=15) as w:
            while not stop.is_set():
                for k in part:
                    r = w.call("SET", k, str(n))
                    if r != "OK":
                        errors.append(r)
                    last[k] = str(n).encode()
                n += 1

    ts = [threading.Thread(target=writer, args=(keys[i::2],)) for i in range(2)]
    for t in ts:
        t.start()
    try:
        with src.raw(timeout=30) as c:
            for lo in range(0, len(keys), 10):
                r = c.call("MIGRATE", "127.0.0.1", str(dst.port), "", "0", "5000", "REPLACE",
                           "KEYS", *keys[lo:lo + 10])
                assert r in ("OK", "NOKEY") or "gave up" in str(r), r
    finally:
        stop.set()
        for t in ts:
            t.join(10)
    assert not errors
    with src.raw() as s, dst.raw() as d:
        for k in keys:
            here, there = s.call("GET", k), d.call("GET", k)
            assert here is None or there is None or here == last[k], (k, here, there)
            assert (here if here is not None else there) is not None, k
