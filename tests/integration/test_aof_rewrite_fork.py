"""BGREWRITEAOF writes its base in a child process, as redis-server 7.0.15 does.

What it is for: with the RDB preamble (the default), the rewrite's base is written by a
child forked at the workers' cut, so the node serves while it is written: with
rdb-key-save-delay holding the child (7.0.15 honours it in its rewrite child), the rewrite
stays in progress while SET and GET answer at once, writes made meanwhile land in the new
incr file, and a restart, a redis-server on a copy and redis-check-aof all see the same
data. Before, each worker encoded its own keys while parked (the client's pause grew with
the keys) and the delay was ignored. A child that dies leaves the manifest as it was and
the rewrite marked failed; the next one succeeds. The same rewrite-in-progress behaviour is
checked on redis-server.

INFO stats total_forks / latest_fork_usec count those forks and the BGSAVE's, as 7.0.15.

What it must never do: kill a process it did not start (the child it kills is one the node
under test forked, found as that node's child).
"""
import os
import shutil
import signal
import time

import pytest

import helpers as h
from test_aof import _check_aof, _manifest, _redis, _shoal, _snapshot

KEYS = 2000


def _load(c, n):
    for i in range(0, n, 500):
        args = []
        for k in range(i, min(n, i + 500)):
            args += [f"key:{k}", f"value:{k}"]
        assert c.call("MSET", *args) == "OK"


def _persist(c):
    return h.info_dict(c.call("INFO", "persistence"))


def _serves_during_rewrite(node):
    """BGREWRITEAOF held by rdb-key-save-delay: in progress for a while, with writes and reads
    answered at once; returns the snapshot after it finished."""
    with node.raw() as c:
        _load(c, KEYS)
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "1000") == "OK"   # ~2 s for 2,000 keys
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        time.sleep(0.5)
        assert _persist(c)["aof_rewrite_in_progress"] == "1"
        for i in range(20):
            t0 = time.monotonic()
            assert c.call("SET", f"during:{i}", str(i)) == "OK"
            assert c.call("GET", f"key:{i}") == f"value:{i}".encode()
            assert time.monotonic() - t0 < 0.3
        assert _persist(c)["aof_rewrite_in_progress"] == "1"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="rewrite done")
        info = _persist(c)
        assert info["aof_last_bgrewrite_status"] == "ok" and info["aof_rewrites"] == "1"
        return _snapshot(c)


@pytest.mark.quiet   # bounds a latency from above (conftest.py)
def test_rewrite_child_writes_the_base_while_the_node_serves(servers, tmp_path):
    d = tmp_path / "s"
    node = _shoal(servers, d, "--worker-threads", "2")
    before = _serves_during_rewrite(node)
    assert "Background append only file rewriting started by pid" in node.output()
    assert _manifest(d) == ("file appendonly.aof.2.base.rdb seq 2 type b\n"
                            "file appendonly.aof.2.incr.aof seq 2 type i\n")
    incr = (d / "appendonlydir" / "appendonly.aof.2.incr.aof").read_bytes()
    assert b"during:0" in incr and b"during:19" in incr
    assert not any(p.name.startswith("temp-") for p in (d / "appendonlydir").iterdir())
    assert _check_aof(d).returncode == 0
    node.stop()
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before
    rd = tmp_path / "r"
    shutil.copytree(d / "appendonlydir", rd / "appendonlydir")
    with _redis(servers, rd).raw() as c:
        assert _snapshot(c) == before


@pytest.mark.quiet   # bounds a latency from above (conftest.py)
def test_redis_serves_during_a_held_rewrite_too(servers, tmp_path):
    node = _redis(servers, tmp_path / "ref")
    _serves_during_rewrite(node)


def _children(pid):
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(x) for x in open(f"/proc/{pid}/task/{t}/children").read().split()]
        except OSError:
            pass
    return out


def test_a_dead_rewrite_child_leaves_the_manifest_and_the_next_rewrite_works(servers, tmp_path):
    d = tmp_path / "k"
    node = _shoal(servers, d, "--worker-threads", "2")
    with node.raw() as c:
        _load(c, KEYS)
        manifest = _manifest(d)
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "1000") == "OK"
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        kids = h.wait_until(lambda: _children(node.popen.pid), 10, what="the rewrite's child")
        assert len(kids) == 1, kids
        os.kill(kids[0], signal.SIGKILL)
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 10, what="rewrite ended")
        info = _persist(c)
        assert info["aof_last_bgrewrite_status"] == "err"
        # the incr file the cut opened stays named; the base and the history stay as they were
        assert _manifest(d).startswith(manifest.splitlines()[0] + "\n")
        assert not any(p.name.startswith("temp-") for p in (d / "appendonlydir").iterdir())
        c.call("SET", "after-kill", "1")
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="second rewrite done")
        assert _persist(c)["aof_last_bgrewrite_status"] == "ok"
        before = _snapshot(c)
    assert _check_aof(d).returncode == 0
    node.stop()
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before


def _fork_stats(c):
    s = h.info_dict(c.call("INFO", "stats"))
    return int(s["total_forks"]), int(s["latest_fork_usec"])


def _forks_counted(node):
    with node.raw() as c:
        _load(c, KEYS)
        assert _fork_stats(c) == (0, 0)
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="rewrite done")
        forks, usec = _fork_stats(c)
        assert forks == 1 and usec > 0
        assert c.call("BGSAVE") == "Background saving started"
        h.wait_until(lambda: _persist(c)["rdb_bgsave_in_progress"] == "0", 30, what="bgsave done")
        assert _fork_stats(c)[0] == 2
        assert c.call("CONFIG", "RESETSTAT") == "OK"
        assert _fork_stats(c) == (0, 0)


def test_info_counts_the_forks_of_rewrites_and_bgsaves_as_redis(servers, tmp_path):
    _forks_counted(_shoal(servers, tmp_path / "f", "--worker-threads", "2"))
    _forks_counted(_redis(servers, tmp_path / "fr"))


def _rewrite_without_a_new_incr_file(node, d):
    """The next incr file's name is taken (a directory): the rewrite fails before its cut, and
    the writes after it still reach a file the manifest names; returns what a restart loads."""
    with node.raw() as c:
        assert c.call("SET", "before", "1") == "OK"
        manifest = _manifest(d)
        (d / "appendonlydir" / "appendonly.aof.2.incr.aof").mkdir()
        reply = c.call("BGREWRITEAOF")
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 10, what="rewrite ended")
        info = _persist(c)
        assert (info["aof_last_bgrewrite_status"], info["aof_rewrites"]) == ("err", "0"), (reply, info)
        assert _manifest(d) == manifest
        assert c.call("SET", "after", "2") == "OK"
    node.stop()
    node.start()
    with node.raw() as c:
        return c.call("GET", "before"), c.call("GET", "after")


def test_a_rewrite_that_cannot_open_its_incr_file_fails_and_loses_no_write_as_redis(servers, tmp_path):
    # redis-server refuses the BGREWRITEAOF with an error reply; shoal's reply comes before the
    # file is made (its AOF thread makes it), so only the status says so. The binary before
    # made the file at the cut, went on writing to the old one when that failed, and retired
    # the old one anyway when the base was written: "after" was lost.
    want = (b"1", b"2")
    assert _rewrite_without_a_new_incr_file(_redis(servers, tmp_path / "r"), tmp_path / "r") == want
    assert _rewrite_without_a_new_incr_file(_shoal(servers, tmp_path / "s", "--worker-threads", "2"),
                                            tmp_path / "s") == want


def test_workers_run_short_slices_while_a_rewrite_child_lives_and_the_child_the_default(servers, tmp_path):
    """The rewrite's child keeps a core busy for as long as it writes; the workers run short
    scheduler slices (0.1 ms) meanwhile, so that one woken by a client preempts a thread on a
    default slice (runtime/slice.h, rdb_fork_child_slices), and their own slices again once
    it is reaped. The child runs the default: it is forked by the replication thread while
    that runs the cut's short slices, and would otherwise be the one preempting the workers.
    Seen in /proc/PID/task/*/sched (se.slice) with rdb-key-save-delay holding the child."""
    # tests/integration/test_aof_group_commit.py: the kernel shows and grants custom slices
    from test_aof_group_commit import _custom_slices_work, _slices
    node = _shoal(servers, tmp_path / "s", "--worker-threads", "2")
    pid = node.pid
    default = _slices(pid)[pid][1]   # the main thread's: the kernel's default
    short = 100_000 if _custom_slices_work() else default

    def workers():
        return sorted(sl for name, sl in _slices(pid).values() if name.startswith("worker-"))

    with node.raw() as c:
        _load(c, KEYS)
        assert workers() == [default, default]
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "1000") == "OK"   # ~2 s for 2,000 keys
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        kids = h.wait_until(lambda: _children(pid), 10, what="the rewrite's child")
        h.wait_until(lambda: workers() == [short, short], 10, what=f"short slices on the workers: {workers()}")
        child = _slices(kids[0])
        assert [sl for _, sl in child.values()] == [default], child
        assert _persist(c)["aof_rewrite_in_progress"] == "1"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="rewrite done")
        assert _persist(c)["aof_last_bgrewrite_status"] == "ok"
        # each worker's cron turns its loop at least every 100 ms
        h.wait_until(lambda: workers() == [default, default], 10, what=f"default slices again: {workers()}")


def _forks_without_preamble(node, d):
    with node.raw() as c:
        _load(c, KEYS)
        assert c.call("CONFIG", "SET", "aof-use-rdb-preamble", "no") == "OK"
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="rewrite done")
        assert _persist(c)["aof_last_bgrewrite_status"] == "ok"
        forks = _fork_stats(c)[0]
        before = _snapshot(c)
    base = (d / "appendonlydir" / "appendonly.aof.2.base.aof").read_bytes()
    assert base.startswith(b"*") and b"REDIS" not in base[:5]
    assert not any(p.name.startswith("temp-") for p in (d / "appendonlydir").iterdir())
    node.stop()
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before
    return forks


def test_a_rewrite_without_the_rdb_preamble_forks_too_as_redis(servers, tmp_path):
    # redis-server's child writes the commands; shoal's child writes its RDB, which a thread
    # of the node turns into commands. The binary before did not fork here: each worker
    # encoded its whole partition after the cut, its clients waiting meanwhile.
    assert _forks_without_preamble(_redis(servers, tmp_path / "r"), tmp_path / "r") == 1
    assert _forks_without_preamble(_shoal(servers, tmp_path / "s", "--worker-threads", "2"), tmp_path / "s") == 1


def _preamble_turned_off_during_the_rewrite(node, d):
    with node.raw() as c:
        _load(c, KEYS)
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "500") == "OK"   # ~1 s for 2,000 keys
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        time.sleep(0.2)
        assert c.call("CONFIG", "SET", "aof-use-rdb-preamble", "no") == "OK"
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 30, what="rewrite done")
        assert _persist(c)["aof_last_bgrewrite_status"] == "ok"
        before = _snapshot(c)
    names = sorted(p.name for p in (d / "appendonlydir").iterdir())
    node.stop()
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before
    return _manifest(d).splitlines()[0], names


def test_a_rewrite_names_its_base_by_the_preamble_setting_at_its_end_as_redis(servers, tmp_path):
    # redis-server names the base when its child is done, by aof-use-rdb-preamble then, and
    # loads it by its first bytes. The binary before named the file by the setting at the
    # fork and the manifest by the setting at the end: the manifest named a file that did
    # not exist, and the node did not start again.
    want = ("file appendonly.aof.2.base.aof seq 2 type b",
            ["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"])
    assert _preamble_turned_off_during_the_rewrite(_redis(servers, tmp_path / "r"), tmp_path / "r") == want
    assert _preamble_turned_off_during_the_rewrite(_shoal(servers, tmp_path / "s", "--worker-threads", "2"),
                                                   tmp_path / "s") == want


def _rewrites_counted(node):
    """INFO aof_rewrites while a rewrite's child lives, and once it was killed."""
    with node.raw() as c:
        _load(c, 200)
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "100000") == "OK"
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        kids = h.wait_until(lambda: _children(node.popen.pid), 10, what="the rewrite's child")
        running = _persist(c)["aof_rewrites"]
        for k in kids:
            os.kill(k, signal.SIGKILL)
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 10, what="rewrite ended")
        info = _persist(c)
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        return (running, info["aof_rewrites"], info["aof_rewrites_consecutive_failures"],
                info["aof_last_bgrewrite_status"])


def test_info_aof_rewrites_counts_a_running_and_a_failed_rewrite_as_redis(servers, tmp_path):
    # 7.0.15 counts a rewrite once its incr file is open, before its fork; the binary before
    # counted only those that finished (0 while running and after the kill)
    want = ("1", "1", "1", "err")
    assert _rewrites_counted(_redis(servers, tmp_path / "r")) == want
    assert _rewrites_counted(_shoal(servers, tmp_path / "s", "--worker-threads", "2")) == want


def _minor_faults(pid):
    """Minor page faults of every thread of pid so far (/proc/PID/stat field 10): a copy-on-write
    fault after a fork is one."""
    return int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[7])


def _reads_while_a_child_lives(node, n):
    """n keys, idle for 2 s; a rewrite child held by rdb-key-save-delay; every key read (GET,
    pipelined) while it lives. Returns (OBJECT IDLETIME of a key read during the child, the
    same after a read once the child is gone, the node's minor faults over the reads)."""
    pid = node.popen.pid
    with node.raw() as c:
        _load(c, n)
        time.sleep(2.5)                   # OBJECT IDLETIME counts whole seconds
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "1000") == "OK"   # 1 ms a key: the child outlives the test
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        kids = h.wait_until(lambda: _children(pid), 10, what="the rewrite's child")
        faults = _minor_faults(pid)
        for i in range(0, n, 1000):
            c.send(b"".join(h.encode("GET", f"key:{k}") for k in range(i, min(n, i + 1000))))
            for k in range(i, min(n, i + 1000)):
                assert c.read()[1] == f"value:{k}".encode()
        faults = _minor_faults(pid) - faults
        idle_during = c.call("OBJECT", "IDLETIME", "key:0")
        os.kill(kids[0], signal.SIGKILL)
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 10, what="rewrite ended")
        h.wait_until(lambda: not _children(pid), 10, what="the child reaped")
        assert c.call("GET", "key:0") == b"value:0"
        return idle_during, c.call("OBJECT", "IDLETIME", "key:0"), faults


def test_reads_while_a_rewrite_child_lives_leave_the_keys_pages_shared_as_redis(servers, tmp_path):
    # 7.0.15's lookupKey does not stamp the access clock while a child lives: the stamp would
    # make the kernel copy the entry's page for the parent (the child holds it copy-on-write).
    # The binary before stamped every key it read: with 20,000 keys read it took ~440 minor
    # faults (one per page of entries: 11-14 % of the workers' time in a rewrite of 1,000,000
    # keys under GETs, perf), and OBJECT IDLETIME read 0 where redis-server's reads >= 2.
    # The faults left are the nodes' own buffers (redis-server 80-100, shoal ~50).
    n = 40000
    for node in (_redis(servers, tmp_path / "r"), _shoal(servers, tmp_path / "s", "--worker-threads", "2")):
        idle_during, idle_after, faults = _reads_while_a_child_lives(node, n)
        assert idle_during >= 2, (node, idle_during)
        assert idle_after <= 1, (node, idle_after)   # the reads stamp again once it is gone
        assert faults < 300, (node, faults)


def _inserts_while_a_child_lives(node, n, more):
    """n keys (each worker's table about full), a rewrite child held as above, then `more` new
    keys in one slot (so the slot's key list touches one old entry, not one a key), and 1.5 s
    for the cron. Returns the node's minor faults over the inserts and the wait."""
    pid = node.popen.pid
    with node.raw() as c:
        _load(c, n)
        time.sleep(1.0)                   # a grow the load started is finished by the cron
        assert c.call("CONFIG", "SET", "rdb-key-save-delay", "1000") == "OK"
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        kids = h.wait_until(lambda: _children(pid), 10, what="the rewrite's child")
        faults = _minor_faults(pid)
        for i in range(0, more, 500):
            args = []
            for k in range(i, min(more, i + 500)):
                args += [f"{{new}}:{k}", "v"]
            assert c.call("MSET", *args) == "OK"
        time.sleep(1.5)                   # the workers' cron (100 ms) would move the buckets meanwhile
        faults = _minor_faults(pid) - faults
        assert _children(pid) == kids     # the child lived throughout
        os.kill(kids[0], signal.SIGKILL)
        h.wait_until(lambda: _persist(c)["aof_rewrite_in_progress"] == "0", 10, what="rewrite ended")
        assert c.call("DBSIZE") == n + more
        return faults


def test_a_table_does_not_grow_while_a_rewrite_child_lives_as_redis(servers, tmp_path):
    # 7.0.15 grows a hash table while a child lives only past 5 keys a bucket, and its cron
    # neither shrinks nor rehashes then: a grow's rehash rewrites the chain pointer of every
    # entry it moves, so every page of entries would be copied. 63,000 keys fill redis-server's
    # table of 65,536 buckets and each of shoal's two of 32,768; 4,000 more cross both. The
    # binary before grew the table and its cron moved every entry: 1,800-2,050 minor faults
    # over the inserts; now ~310 (the new keys' pages, the bucket array's), redis-server ~360.
    for node in (_redis(servers, tmp_path / "r"), _shoal(servers, tmp_path / "s", "--worker-threads", "2")):
        faults = _inserts_while_a_child_lives(node, 63000, 4000)
        assert faults < 900, (node.kind, faults)
