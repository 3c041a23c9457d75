"""Save points, the save on SHUTDOWN / SIGTERM, and INFO persistence, as redis-server 7.0.15.

What it is for: checking that `save <seconds> <changes>` points start background saves
(and `save ""` stops them), that SHUTDOWN [SAVE|NOSAVE|NOW|FORCE|ABORT], SIGTERM and SIGINT
save dump.rdb exactly when redis-server does (save points set, or SAVE; never NOSAVE;
shutdown-on-sigterm / shutdown-on-sigint), that a failed final save keeps the node up, and
that INFO persistence has 7.0.15's fields in 7.0.15's order with the same meaning. Each
case runs against shoal and against a real redis-server 7.0.15 with the same arguments.

What it must never do: touch other tests' files (every node has its own directory).
"""
import re
import signal
import time

import pytest

import helpers as h

KINDS = ["shoal", "redis"]


def _node(servers, kind, *args):
    """A standalone node of `kind` with extra directives (later ones win over the harness's
    `save ""`)."""
    return getattr(servers, kind)(base_args="standalone", extra_args=list(args))


def _info(conn, section="persistence"):
    return h.info_dict(conn.call("INFO", section))


def _restart_keys(srv):
    """Starts srv again on its directory and returns its keys."""
    srv.start()
    with srv.raw() as c:
        return sorted(c.call("KEYS", "*"))


@pytest.mark.parametrize("kind", KINDS)
def test_save_point_starts_a_background_save(servers, kind):
    srv = _node(servers, kind, "--save", "1 2")
    with srv.raw() as c:
        before = _info(c)
        assert before["rdb_saves"] == "0"
        assert c.call("SET", "a", "1") == "OK"
        assert _info(c)["rdb_changes_since_last_save"] == "1"
        time.sleep(2.3)
        # one change is fewer than the point's two: no save, however long we wait
        assert _info(c)["rdb_saves"] == "0"
        assert not (srv.dir / "dump.rdb").exists()
        assert c.call("SET", "b", "2") == "OK"
        h.wait_until(lambda: _info(c)["rdb_saves"] == "1", 5, what="a save point's BGSAVE")
        h.wait_until(lambda: _info(c)["rdb_bgsave_in_progress"] == "0", 5, what="the BGSAVE's end")
        after = _info(c)
        assert after["rdb_changes_since_last_save"] == "0"
        assert after["rdb_last_bgsave_status"] == "ok"
        assert after["rdb_last_bgsave_time_sec"] in ("0", "1")
        assert int(after["rdb_last_save_time"]) >= int(before["rdb_last_save_time"])
    assert (srv.dir / "dump.rdb").exists()
    assert "2 changes in 1 seconds. Saving..." in srv.output()
    srv.stop()
    (srv.dir / "dump.rdb").rename(srv.dir / "kept.rdb")
    # the file the save point wrote holds both keys
    (srv.dir / "kept.rdb").rename(srv.dir / "dump.rdb")
    assert _restart_keys(srv) == [b"a", b"b"]


@pytest.mark.parametrize("kind", KINDS)
def test_config_set_save_empty_disables_the_points(servers, kind):
    srv = _node(servers, kind, "--save", "1 1")
    with srv.raw() as c:
        assert c.call("CONFIG", "SET", "save", "") == "OK"
        assert c.call("CONFIG", "GET", "save") == [b"save", b""]
        assert c.call("SET", "a", "1") == "OK"
        time.sleep(2.3)
        assert _info(c)["rdb_saves"] == "0"
        assert c.call("CONFIG", "SET", "save", "1 1") == "OK"
        h.wait_until(lambda: _info(c)["rdb_saves"] == "1", 5, what="the restored save point's BGSAVE")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how,save_args,saved", [
    (("SHUTDOWN",), ("--save", "3600 1"), True),
    (("SHUTDOWN",), (), False),
    (("SHUTDOWN", "NOSAVE"), ("--save", "3600 1"), False),
    (("SHUTDOWN", "SAVE"), (), True),
    (("SHUTDOWN", "SAVE", "NOW", "FORCE"), (), True),
    ("SIGTERM", ("--save", "3600 1"), True),
    ("SIGTERM", (), False),
    ("SIGINT", ("--save", "3600 1"), True),
    ("SIGTERM", ("--save", "3600 1", "--shutdown-on-sigterm", "nosave"), False),
    ("SIGTERM", ("--shutdown-on-sigterm", "save"), True),
    ("SIGINT", ("--shutdown-on-sigint", "save now"), True),
])
def test_shutdown_saves_as_redis(servers, kind, how, save_args, saved):
    srv = _node(servers, kind, *save_args)
    with srv.raw() as c:
        assert c.call("SET", "k", "v") == "OK"
        if isinstance(how, tuple):
            c.send(h.encode(*how))
            assert c.is_closed(5.0)
    if isinstance(how, str):
        srv.signal(getattr(signal, how))
    assert srv.wait_exit(10) == 0
    srv.expected_exit = True
    assert (srv.dir / "dump.rdb").exists() == saved
    out = srv.output()
    assert ("Saving the final RDB snapshot before exiting." in out) == saved
    if how == "SIGTERM":
        assert "Received SIGTERM scheduling shutdown..." in out
    assert "User requested shutdown..." in out
    assert _restart_keys(srv) == ([b"k"] if saved else [])


@pytest.mark.parametrize("kind", KINDS)
def test_shutdown_arguments(servers, kind):
    srv = _node(servers, kind)
    with srv.raw() as c:
        assert c.call("SHUTDOWN", "ABORT") == h.Error("ERR No shutdown in progress.")
        assert c.call("SHUTDOWN", "SAVE", "NOSAVE") == h.Error("ERR syntax error")
        assert c.call("SHUTDOWN", "ABORT", "NOW") == h.Error("ERR syntax error")
        assert c.call("SHUTDOWN", "LATER") == h.Error("ERR syntax error")
        assert c.call("PING") == "PONG"


@pytest.mark.parametrize("kind", KINDS)
def test_info_persistence_fields_and_order(servers, kind):
    srv = _node(servers, kind)
    with srv.raw() as c:
        text = c.call("INFO", "persistence")
        text = text.decode() if isinstance(text, bytes) else text
        names = [ln.partition(":")[0] for ln in text.split("\r\n") if ln and not ln.startswith("#")]
        info = h.info_dict(text)
    assert names == [
        "loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age",
        "current_fork_perc", "current_save_keys_processed", "current_save_keys_total",
        "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
        "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec",
        "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded",
        "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec",
        "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites",
        "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size",
        "module_fork_in_progress", "module_fork_last_cow_size"]
    assert info["loading"] == "0"
    assert info["rdb_last_bgsave_time_sec"] == "-1"
    assert info["rdb_current_bgsave_time_sec"] == "-1"
    assert info["aof_enabled"] == "0"
    assert info["aof_last_write_status"] == "ok"


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_bgsave_counters(servers, kind):
    srv = _node(servers, kind)
    with srv.raw() as c:
        for i in range(5):
            assert c.call("SET", f"k{i}", "v") == "OK"
        assert c.call("MSET", "m1", "1", "m2", "2") == "OK"
        assert c.call("DEL", "k0", "k1", "nokey") == 2
        # SET x5, MSET of two keys, DEL of two: 7.0.15 counts each key changed
        assert _info(c)["rdb_changes_since_last_save"] == "9"
        assert c.call("HSET", "h", "a", "1", "b", "2") == 2        # +2
        assert c.call("HSET", "h", "a", "1") == 0                  # +1 (an update counts)
        assert c.call("HDEL", "h", "a", "zz") == 1                 # +1
        assert c.call("RPUSH", "l", "x", "y", "z") == 3            # +3
        assert c.call("SADD", "s", "m1", "m2") == 2                # +2
        assert c.call("SADD", "s", "m1") == 0                      # +0
        assert c.call("SREM", "s", "m1", "nope") == 1              # +1
        assert c.call("ZADD", "z", "1", "a", "2", "b") == 2        # +2
        assert c.call("ZREM", "z", "a", "b", "c") == 2             # +2
        assert _info(c)["rdb_changes_since_last_save"] == "23"
        assert c.call("SAVE") == "OK"
        i = _info(c)
        assert i["rdb_saves"] == "1" and i["rdb_changes_since_last_save"] == "0"
        assert i["rdb_last_bgsave_time_sec"] == "-1"     # SAVE is not a background save
        assert c.call("BGSAVE") == "Background saving started"
        h.wait_until(lambda: _info(c)["rdb_bgsave_in_progress"] == "0", 5, what="BGSAVE's end")
        i = _info(c)
        assert i["rdb_saves"] == "2" and i["rdb_last_bgsave_status"] == "ok"
        assert i["rdb_last_bgsave_time_sec"] in ("0", "1")   # whole seconds, as time(NULL) differences
    # the background save is a child process's, as redis-server's fork
    m = re.search(r"Background saving started by pid (\d+)", srv.output())
    assert m and int(m.group(1)) != srv.popen.pid


@pytest.fixture
def small_fs(tmp_path):
    """A 1 MB tmpfs of our own for a node's directory (root only; the test mounts and
    unmounts it itself)."""
    import subprocess
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _starved_node(small_fs, servers, kind):
    """A node with save points whose directory is on small_fs, ~300 KB of values written,
    then the disk filled so that no dump can fit. Returns (node, the filler file)."""
    data = small_fs / kind
    data.mkdir()
    srv = _node(servers, kind, "--dir", str(data), "--save", "3600 1", "--rdbcompression", "no")
    filler = small_fs / "filler"
    with srv.raw() as c:
        for i in range(30):
            assert c.call("SET", f"k{i}", "x" * 10000) == "OK"
    free = __import__("shutil").disk_usage(small_fs).free
    filler.write_bytes(b"\0" * (free - 64 * 1024))
    return srv, filler


@pytest.mark.parametrize("kind", KINDS)
def test_misconf_after_a_failed_bgsave_and_recovery(small_fs, servers, kind):
    srv, filler = _starved_node(small_fs, servers, kind)
    data = small_fs / kind
    with srv.raw() as c:
        assert c.call("BGSAVE") == "Background saving started"
        h.wait_until(lambda: _info(c)["rdb_bgsave_in_progress"] == "0", 5, what="the BGSAVE's end")
        assert _info(c)["rdb_last_bgsave_status"] == "err"
        err = c.call("SET", "more", "1")
        assert isinstance(err, h.Error)
        assert err == ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
                       "persist to disk. Commands that may modify the data set are disabled, because this "
                       "instance is configured to report errors during writes if RDB snapshotting fails "
                       "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
                       "the RDB error.")
        assert c.call("PING") == err                 # 7.0.15 refuses PING too
        assert c.call("GET", "k1") == b"x" * 10000   # reads go on
        assert not (data / "dump.rdb").exists()
        assert not [p.name for p in data.iterdir() if p.name.startswith("temp-")]
        # stop-writes-on-bgsave-error no lets writes through at once
        assert c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no") == "OK"
        assert c.call("SET", "more", "1") == "OK"
        assert c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes") == "OK"
        assert isinstance(c.call("SET", "more", "2"), h.Error)
        # space returns: the next save succeeds and writes are accepted again
        filler.unlink()
        assert c.call("BGSAVE") == "Background saving started"
        h.wait_until(lambda: _info(c)["rdb_last_bgsave_status"] == "ok", 5, what="a good BGSAVE")
        assert c.call("SET", "more", "3") == "OK"
        assert c.call("PING") == "PONG"
    assert (data / "dump.rdb").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_failed_final_save_keeps_the_node_up(small_fs, servers, kind):
    srv, _ = _starved_node(small_fs, servers, kind)
    data = small_fs / kind
    with srv.raw() as c:
        assert c.call("SHUTDOWN") == h.Error("ERR Errors trying to SHUTDOWN. Check logs.")
        assert c.call("GET", "k1") == b"x" * 10000
    srv.signal(signal.SIGTERM)
    time.sleep(1.0)
    assert srv.alive()                                # SIGTERM's save failed too: still serving
    assert "Error trying to save the DB, can't exit." in srv.output()
    with srv.raw() as c:
        c.send(h.encode("SHUTDOWN", "FORCE"))
        assert c.is_closed(5.0)
    assert srv.wait_exit(10) == 0
    srv.expected_exit = True
    assert "Error trying to save the DB. Exit anyway." in srv.output()
    assert not (data / "dump.rdb").exists()


@pytest.mark.parametrize("save", ["SAVE", "BGSAVE"])
@pytest.mark.parametrize("compression,checksum", [("yes", "yes"), ("no", "yes"), ("yes", "no")])
def test_rdbcompression_rdbchecksum_files_both_ways(servers, save, compression, checksum):
    """shoal's file under each setting: redis-check-rdb accepts it, redis-server loads the
    same keys; redis-server's file under the same settings loads into shoal."""
    import subprocess
    args = ["--rdbcompression", compression, "--rdbchecksum", checksum]
    shoal = _node(servers, "shoal", *args)
    redis = _node(servers, "redis", *args)
    data = {f"k{i}".encode(): (b"abc" * 400 + str(i).encode()) for i in range(50)}
    data[b"short"] = b"x"
    sizes = {}
    for srv in (shoal, redis):
        with srv.raw() as c:
            for k, v in data.items():
                assert c.call("SET", k, v) == "OK"
            if save == "SAVE":
                assert c.call("SAVE") == "OK"
            else:
                assert c.call("BGSAVE") == "Background saving started"
                h.wait_until(lambda: _info(c)["rdb_bgsave_in_progress"] == "0", 5, what="the BGSAVE")
        srv.stop()
        path = srv.dir / "dump.rdb"
        sizes[srv.kind] = path.stat().st_size
        chk = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True, timeout=60)
        assert chk.returncode == 0, chk.stdout + chk.stderr
    # LZF makes both files small, or neither
    assert (sizes["shoal"] < 20000) == (sizes["redis"] < 20000) == (compression == "yes")
    # swap the files: each server loads the other's
    s_file, r_file = (shoal.dir / "dump.rdb").read_bytes(), (redis.dir / "dump.rdb").read_bytes()
    (shoal.dir / "dump.rdb").write_bytes(r_file)
    (redis.dir / "dump.rdb").write_bytes(s_file)
    for srv in (shoal, redis):
        srv.start()
        with srv.raw() as c:
            assert c.call("DBSIZE") == len(data)
            for k, v in data.items():
                assert c.call("GET", k) == v


@pytest.mark.parametrize("kind", KINDS)
def test_shutdown_waits_for_a_lagging_replica_and_abort(servers, kind):
    """Unless NOW, SHUTDOWN waits (shutdown-timeout) for its replicas to acknowledge the
    stream, writes paused; SHUTDOWN ABORT calls it off and the waiting client gets the
    error; with the replica back in sync the same SHUTDOWN exits."""
    master = _node(servers, kind, "--shutdown-timeout", "30")
    replica = _node(servers, kind, "--replicaof", f"127.0.0.1 {master.port}")

    def synced():
        r = h.info_dict(replica.raw().call("INFO", "replication"))
        return r.get("master_link_status") == "up"
    h.wait_until(synced, 10, what="the sync")
    replica.signal(signal.SIGSTOP)
    try:
        with master.raw() as c:
            assert c.call("SET", "k", "v") == "OK"
        waiter = master.raw(timeout=30)
        waiter.send(h.encode("SHUTDOWN", "NOSAVE"))
        with master.raw() as c:
            h.wait_until(lambda: "shutdown_in_milliseconds" in _info(c, "server"), 5,
                         what="the shutdown to wait for the replica")
            assert 0 < int(_info(c, "server")["shutdown_in_milliseconds"]) <= 30000
            assert c.call("GET", "k") == b"v"                 # reads go on
            assert c.call("SHUTDOWN", "ABORT") == "OK"
            assert "shutdown_in_milliseconds" not in _info(c, "server")
        assert waiter.read()[1] == h.Error("ERR Errors trying to SHUTDOWN. Check logs.")
        waiter.close()
        with master.raw() as c:
            assert c.call("SET", "k2", "v") == "OK"          # writes again after the abort
    finally:
        replica.signal(signal.SIGCONT)
    assert "Shutdown manually aborted." in master.output()
    # the replica is back: this SHUTDOWN waits at most for its next acknowledgement
    with master.raw() as c:
        c.send(h.encode("SHUTDOWN"))
        assert c.is_closed(10.0)
    assert master.wait_exit(10) == 0
    master.expected_exit = True
    assert "Waiting for replicas before shutting down." in master.output()


@pytest.mark.parametrize("kind", KINDS)
def test_flushall_under_save_points_saves_the_empty_dataset(servers, kind):
    srv = _node(servers, kind, "--save", "3600 1000")
    with srv.raw() as c:
        for i in range(10):
            assert c.call("SET", f"k{i}", "v") == "OK"
        assert c.call("SAVE") == "OK"
        saves = _info(c)["rdb_saves"]
        assert c.call("FLUSHDB") == "OK"                # FLUSHDB does not save
        assert (srv.dir / "dump.rdb").stat().st_size > 100
        assert c.call("SET", "a", "1") == "OK"
        assert c.call("FLUSHALL") == "OK"
        i = _info(c)
        assert i["rdb_changes_since_last_save"] == "0"   # the save holds the flush
        assert i["rdb_saves"] == saves                   # not counted as a SAVE
    srv.signal(signal.SIGKILL)
    srv.popen.wait()
    srv.expected_exit = True
    assert _restart_keys(srv) == []                      # the file holds the empty dataset
