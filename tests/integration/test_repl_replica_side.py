"""The replica side of replication in shoal, against a real redis-server 7.0.15 master
(docs/replication.md §1-§3).

What it is for: focused checks of shoal's replica link that the pair tests in
test_repl.py do not make: a disk-based full sync ($<len> framing) carrying every string
encoding and TTLs, into a replica with several workers; MULTI/EXEC and FLUSHALL in the
stream reaching every worker; keys with a TTL that lapses on the replica; the periodic
REPLCONF ACK (lag); repl-timeout dropping a silent master and the partial resync that
follows; INFO and ROLE of a replica whose link is down.

What it must never do: stop or signal a process it did not start, or accept a figure
without comparing it with the master's.
"""
import signal
import time

import helpers as h
import replhelpers as rh

WORKERS = ("--worker-threads", "3")


def _pair(servers, master_args=(), replica_args=WORKERS):
    master = servers.redis(extra_args=master_args)
    h.own_all_slots(master)
    rh.fast_sync(master)
    replica = servers.shoal(extra_args=replica_args)
    mid, _ = rh.meet(replica, master)
    return master, replica, mid


def _encodings(master):
    """Keys in every RDB string encoding redis-server uses, some with TTLs, spread over
    many slots (so over every worker of the replica)."""
    cl = master.client()
    try:
        p = cl.pipeline(transaction=False)
        for i in range(600):
            p.set(f"int8:{i}", str(i % 100 - 50))
            p.set(f"int32:{i}", str(100000 + i))
            p.set(f"big:{i}", str(1099511627776 + i))          # beyond int32: raw
            p.set(f"lzf:{i}", "a" * 200 + str(i))                # compressed by redis-server
            p.set(f"bin:{i}", bytes([i % 256, 0, 255, 13, 10]))
            if i % 3 == 0:
                p.set(f"ttl:{i}", f"t{i}", ex=1000 + i)
            if i % 5 == 0:
                p.set(f"pxat:{i}", f"p{i}", pxat=4102444800000 + i)
        for rep in p.execute(raise_on_error=False):
            assert rep is True, f"SET on {rh.label(master)} answered {rep!r}"
    finally:
        cl.close()


def test_disk_based_full_sync_encodings_ttls_and_acks(servers):
    # The keys are written before the sync, so the master's offset grows only with its
    # PINGs to the replica: every second, not every 10 s (wait_offsets_equal needs an
    # offset above 0).
    master, replica, mid = _pair(servers, master_args=("--repl-diskless-sync", "no",
                                                       "--repl-ping-replica-period", "1"))
    _encodings(master)
    log_at = len(replica.log())
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    n = rh.assert_same_data(master, replica)
    assert n == 600 * 5 + 200 + 120, f"{n} keys on the master, expected 3320"
    # The transfer was the $<len> kind, and the log says so.
    assert rh.grep_log(replica, log_at, r"receiving \d+ bytes from master"), \
        "the replica did not log a $<len> transfer:\n" + rh.log_since(replica, log_at)[-3000:]
    assert rh.grep_log(replica, log_at, r"MASTER <-> REPLICA sync: Finished with success")

    # Offsets agree; ROLE shows the same offset; ACKs arrive every second (lag 0 or 1).
    off = rh.wait_offsets_equal(master, replica)
    rr = rh.role(replica)
    assert rr[3] == b"connected" and rr[4] == off, f"ROLE on the replica {rr!r}, master offset {off}"
    time.sleep(2.5)
    s0 = rh.info(master).get("slave0", "")
    lag = int(s0.split("lag=")[1])
    assert lag <= 1, f"the replica's last ACK is {lag} s old: {s0}"
    ri = rh.info(replica)
    assert ri["master_sync_in_progress"] == "0" and "master_link_down_since_seconds" not in ri, ri
    assert int(ri["master_last_io_seconds_ago"]) >= 0, ri
    st = rh.info(replica, "stats")
    assert int(st["total_net_repl_input_bytes"]) > 10000, st


def test_stream_transactions_flushall_and_expiry(servers):
    master, replica, mid = _pair(servers)
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    cl = master.client()
    try:
        # A transaction: redis-server sends MULTI ... EXEC in the stream.
        p = cl.pipeline(transaction=True)
        for i in range(50):
            p.set(f"{{tx}}:{i}", f"t{i}")
        p.incrby("{tx}:n", 7)
        p.execute()
        # Keys over many slots, then FLUSHALL, then a few more.
        for i in range(300):
            cl.set(f"pre:{i}", i)
        assert cl.execute_command("WAIT", 1, 5000) == 1
        assert rh.dump(replica).get(b"pre:299", (None,))[0] == b"299"
        cl.flushall()
        for i in range(20):
            cl.set(f"post:{i}", i)
        assert cl.execute_command("WAIT", 1, 5000) == 1
    finally:
        cl.close()
    rh.wait_offsets_equal(master, replica)
    n = rh.assert_same_data(master, replica)
    assert n == 20, f"{n} keys on the master after FLUSHALL + 20 SETs"
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        assert c.call("DBSIZE") == 20, "DBSIZE on the replica after FLUSHALL"

    # A key that lapses: the replica shows it, then (TTL passed) no longer does.
    cl = master.client()
    try:
        cl.set("short-lived", "x", px=1500)
        assert cl.execute_command("WAIT", 1, 5000) == 1
    finally:
        cl.close()
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        assert c.call("GET", "short-lived") == b"x"
        time.sleep(1.7)
        assert c.call("GET", "short-lived") is None

    # The transaction, applied earlier, was flushed with the rest; run one more and check it.
    cl = master.client()
    try:
        p = cl.pipeline(transaction=True)
        p.set("{tx}:a", "1")
        p.incrby("{tx}:a", 41)
        p.execute()
        assert cl.execute_command("WAIT", 1, 5000) == 1
    finally:
        cl.close()
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        assert c.call("GET", "{tx}:a") == b"42"


def test_repl_timeout_then_partial_resync(servers):
    master, replica, mid = _pair(servers)
    with replica.raw() as c:
        assert c.call("CONFIG", "SET", "repl-timeout", "2") == "OK"
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    rh.write_mix(master, 500, 21, "rt")
    assert rh.wait_cmd(master, 1) == 1
    partial_before = int(rh.info(master, "stats")["sync_partial_ok"])
    log_at = len(replica.log())

    master.signal(signal.SIGSTOP)
    try:
        h.wait_until(lambda: not rh.link_up(replica), 15, interval=0.2,
                     what="the replica dropping a silent master after repl-timeout 2")
        ri = rh.info(replica)
        assert int(ri["master_link_down_since_seconds"]) >= 0, ri
        assert ri["master_last_io_seconds_ago"] == "-1", ri
        rr = rh.role(replica)
        assert rr[0] == b"slave" and rr[3] in (b"connect", b"connecting", b"handshake"), rr
        assert rr[4] == -1, rr
    finally:
        master.signal(signal.SIGCONT)
    assert rh.grep_log(replica, log_at, r"timeout"), rh.log_since(replica, log_at)[-2000:]

    rh.wait_link_up(replica)
    rh.write_mix(master, 500, 22, "rt2")
    rh.wait_acked(master, 1)
    rh.wait_offsets_equal(master, replica)
    rh.assert_same_data(master, replica)
    partial_after = int(rh.info(master, "stats")["sync_partial_ok"])
    assert partial_after == partial_before + 1, \
        f"sync_partial_ok on the master went {partial_before} -> {partial_after}"
    assert rh.grep_log(replica, log_at, r"Successful partial resynchronization")


def test_client_kill_type_master_then_partial_resync(servers):
    master, replica, mid = _pair(servers)
    rh.replicate(replica, mid)
    rh.wait_link_up(replica)
    rh.write_mix(master, 1000, 31, "ck")
    rh.wait_acked(master, 1)
    partial_before = int(rh.info(master, "stats")["sync_partial_ok"])
    full_before = int(rh.info(master, "stats")["sync_full"])
    with replica.raw() as c:
        assert c.call("CLIENT", "KILL", "TYPE", "master") == 1
    # Writes while the link is being re-established travel in the backlog.
    rh.write_mix(master, 1000, 32, "ck2")
    rh.wait_link_up(replica)
    rh.wait_acked(master, 1)
    rh.wait_offsets_equal(master, replica)
    rh.assert_same_data(master, replica)
    st = rh.info(master, "stats")
    assert int(st["sync_partial_ok"]) == partial_before + 1 and int(st["sync_full"]) == full_before, st
    # A node that is not a replica kills no master link.
    with master.raw() as c:
        assert c.call("CLIENT", "KILL", "TYPE", "master") == 0
    with replica.raw() as c:
        assert c.call("CLIENT", "KILL", "TYPE", "master", "ADDR", "1.2.3.4:5") == 0


def test_masterauth(servers):
    """A master that requires a password: the replica answers -NOAUTH to PING with AUTH
    <masterauth> (pipelined before REPLCONF, docs/replication.md §1); a wrong password keeps the link down
    and says why."""
    master, replica, mid = _pair(servers, replica_args=WORKERS + ("--masterauth", "wrong"))
    with master.raw() as c:
        assert c.call("SET", "{a}k", "v1") == "OK"
        assert c.call("CONFIG", "SET", "requirepass", "s3cret") == "OK"
    log_at = len(replica.log())
    rh.replicate(replica, mid)
    h.wait_until(lambda: rh.grep_log(replica, log_at, r"Unable to AUTH to MASTER"), 15, interval=0.2,
                 what="the replica logging its refused AUTH")
    ri = rh.info(replica)
    assert ri["master_link_status"] == "down" and "AUTH" in ri.get("master_sync_last_error", ""), ri
    with replica.raw() as c:
        assert c.call("CONFIG", "SET", "masterauth", "s3cret") == "OK"
    rh.wait_link_up(replica, timeout=30)
    with master.raw() as c:
        assert c.call("AUTH", "s3cret") == "OK"
        assert c.call("SET", "{a}k2", "v2") == "OK"
        assert c.call("WAIT", "1", "5000") == 1
    with replica.raw() as c:
        assert c.call("READONLY") == "OK"
        assert c.call("MGET", "{a}k", "{a}k2") == [b"v1", b"v2"]
