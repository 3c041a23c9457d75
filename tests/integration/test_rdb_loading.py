"""Loading and saving held open by key-load-delay / rdb-key-save-delay, -LOADING, the INFO
loading_* fields, and DEBUG RELOAD, as redis-server 7.0.15.

What it is for: a node that loads dump.rdb answers commands without the "loading" flag
with -LOADING and INFO with loading:1 and the loading_* figures until the last key is in;
a BGSAVE slowed by rdb-key-save-delay shows rdb_bgsave_in_progress:1 and refuses SAVE and a
second BGSAVE as 7.0.15 does; DEBUG RELOAD saves, empties and loads back. Each case runs
against shoal and against a real redis-server 7.0.15 with the same arguments (both get
loading-process-events-interval-bytes 1024, without which redis-server answers nobody while
it loads a small file).

What it must never do: touch other tests' files (every node has its own directory).
"""
import time

import pytest

import helpers as h

KINDS = ["shoal", "redis"]
LOADING = "LOADING Redis is loading the dataset in memory"


def _node(servers, kind, *args):
    return getattr(servers, kind)(base_args="standalone",
                                  extra_args=["--enable-debug-command", "yes", *args])


def _info(c, section="persistence"):
    return h.info_dict(c.call("INFO", section))


def _restart_loading(srv, keys, delay_us, *args):
    """Writes `keys` keys, saves, stops srv and starts it again with key-load-delay
    delay_us; returns once it answers -LOADING."""
    with srv.raw() as c:
        assert c.call("DEBUG", "POPULATE", str(keys)) == "OK"
        assert c.call("SAVE") == "OK"
    srv.stop()
    srv.extra_args += [*args, "--key-load-delay", str(delay_us), "--loading-process-events-interval-bytes", "1024"]
    srv.spawn()
    _wait_loading(srv)


def _wait_loading(srv):
    """Returns once the (re)started srv answers -LOADING."""
    def loading():
        try:
            with srv.raw(timeout=1.0) as c:
                return c.call("PING") == h.Error(LOADING)
        except OSError:
            return False
    h.wait_until(loading, 10, what="the node to answer -LOADING")


@pytest.mark.parametrize("kind", KINDS)
def test_loading_at_start_answers_loading(servers, kind):
    srv = _node(servers, kind)
    _restart_loading(srv, 2000, 500)
    size = (srv.dir / "dump.rdb").stat().st_size
    with srv.raw() as c:
        assert c.call("GET", "key:1") == h.Error(LOADING)
        assert c.call("SET", "x", "1") == h.Error(LOADING)
        text = c.call("INFO", "persistence")
        text = text.decode() if isinstance(text, bytes) else text
        names = [ln.partition(":")[0] for ln in text.split("\r\n") if ln and not ln.startswith("#")]
        info = h.info_dict(text)
    assert info["loading"] == "1"
    assert names[-6:] == ["loading_start_time", "loading_total_bytes", "loading_rdb_used_mem",
                          "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds"]
    assert int(info["loading_total_bytes"]) == size
    assert abs(int(info["loading_start_time"]) - time.time()) < 10
    assert 0 <= int(info["loading_loaded_bytes"]) <= size
    assert 0.0 <= float(info["loading_loaded_perc"]) <= 100.0
    srv.wait_ready(20)
    with srv.raw() as c:
        assert c.call("DBSIZE") == 2000
        info = _info(c)
        assert info["loading"] == "0" and "loading_start_time" not in info
        assert info["rdb_last_load_keys_loaded"] == "2000"
        assert c.call("GET", "key:1") == b"value:1"


@pytest.mark.parametrize("kind", KINDS)
def test_slow_bgsave_holds_the_saving_state(servers, kind):
    srv = _node(servers, kind, "--rdb-key-save-delay", "1000")
    with srv.raw() as c:
        assert c.call("DEBUG", "POPULATE", "1000") == "OK"
        assert c.call("BGSAVE") == "Background saving started"
        info = _info(c)
        assert info["rdb_bgsave_in_progress"] == "1"
        assert int(info["rdb_current_bgsave_time_sec"]) >= 0
        assert c.call("SAVE") == h.Error("ERR Background save already in progress")
        assert c.call("BGSAVE") == h.Error("ERR Background save already in progress")
        # SCHEDULE only waits for an AOF rewrite: a running BGSAVE is an error
        assert c.call("BGSAVE", "SCHEDULE") == h.Error("ERR Background save already in progress")
        assert c.call("GET", "key:7") == b"value:7"        # the node keeps serving
        h.wait_until(lambda: _info(c)["rdb_bgsave_in_progress"] == "0", 15, what="the BGSAVE's end")
        info = _info(c)
        assert info["rdb_last_bgsave_status"] == "ok" and info["rdb_current_bgsave_time_sec"] == "-1"
        assert info["rdb_saves"] == "1"


@pytest.mark.parametrize("kind", KINDS)
def test_debug_reload(servers, kind):
    srv = _node(servers, kind)
    with srv.raw() as c:
        assert c.call("SET", "a", "1") == "OK"
        assert c.call("SET", "t", "2", "EX", "1000") == "OK"
        assert c.call("RPUSH", "l", "x", "y") == 2
        assert c.call("DEBUG", "RELOAD") == "OK"
        assert sorted(c.call("KEYS", "*")) == [b"a", b"l", b"t"]
        assert 0 < c.call("TTL", "t") <= 1000
        assert c.call("LRANGE", "l", "0", "-1") == [b"x", b"y"]
        assert _info(c)["rdb_last_load_keys_loaded"] == "3"
        assert (srv.dir / "dump.rdb").exists()
        # NOSAVE loads what the file holds: the later write is gone
        assert c.call("SET", "b", "2") == "OK"
        assert c.call("DEBUG", "RELOAD", "NOSAVE") == "OK"
        assert c.call("EXISTS", "b") == 0
        # NOFLUSH NOSAVE keeps what memory holds and adds the file's keys
        assert c.call("SET", "c", "3") == "OK"
        assert c.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == "OK"
        assert sorted(c.call("KEYS", "*")) == [b"a", b"c", b"l", b"t"]
        assert c.call("DEBUG", "RELOAD", "LATER") == h.Error(
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")


@pytest.mark.parametrize("kind", KINDS)
def test_debug_reload_with_key_load_delay_answers_loading(servers, kind):
    srv = _node(servers, kind, "--loading-process-events-interval-bytes", "1024")
    with srv.raw() as c:
        assert c.call("DEBUG", "POPULATE", "2000") == "OK"
        assert c.call("CONFIG", "SET", "key-load-delay", "500") == "OK"
    reloader = srv.raw(timeout=30)
    reloader.send(h.encode("DEBUG", "RELOAD"))
    with srv.raw() as c:
        h.wait_until(lambda: c.call("PING") == h.Error(LOADING), 10, what="-LOADING during DEBUG RELOAD")
        assert _info(c)["loading"] == "1"
    assert reloader.read()[1] == "OK"
    reloader.close()
    with srv.raw() as c:
        assert c.call("PING") == "PONG"
        assert c.call("DBSIZE") == 2000


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["SIGTERM", "SHUTDOWN"])
def test_shutdown_while_loading_exits_without_saving(servers, kind, how):
    import signal
    srv = _node(servers, kind)
    _restart_loading(srv, 20000, 200, "--save", "3600 1")
    before = (srv.dir / "dump.rdb").read_bytes()
    t0 = time.monotonic()
    if how == "SIGTERM":
        srv.signal(signal.SIGTERM)
    else:
        with srv.raw() as c:
            c.send(h.encode("SHUTDOWN"))
            assert c.is_closed(5.0)
    assert srv.wait_exit(10) == 0
    srv.expected_exit = True
    assert time.monotonic() - t0 < 3.0          # 20000 keys x 200 us would take 4 s more
    out = srv.log().split("==== start #2")[-1]
    if how == "SIGTERM":
        assert "Received shutdown signal during loading, scheduling shutdown." in out
    assert "Saving the final RDB snapshot" not in out
    assert (srv.dir / "dump.rdb").read_bytes() == before


@pytest.mark.parametrize("kind", KINDS)
def test_replica_keeps_expired_keys_at_load_until_the_masters_del(servers, kind):
    """7.0.15's rdbLoad drops keys already expired only on a master; a replica keeps them
    (reading them as absent) until its master's DEL, which removes them."""
    master = _node(servers, kind)
    replica = _node(servers, kind, "--replicaof", f"127.0.0.1 {master.port}")

    def synced():
        m = h.info_dict(master.raw().call("INFO", "replication"))
        r = h.info_dict(replica.raw().call("INFO", "replication"))
        return r.get("master_link_status") == "up" and r["master_repl_offset"] == m["master_repl_offset"]
    h.wait_until(synced, 10, what="the sync")
    with master.raw() as c:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        for i in range(20):
            assert c.call("SET", f"v{i}", "x", "PX", "800") == "OK"
        assert c.call("SET", "keep", "1") == "OK"
    h.wait_until(synced, 10, what="the keys to reach the replica")
    with replica.raw() as c:
        assert c.call("SAVE") == "OK"
    replica.stop()
    time.sleep(1.0)                                  # every v* key is past its TTL now
    replica.start()
    h.wait_until(synced, 10, what="the replica to come back")
    with replica.raw() as c:
        assert c.call("DBSIZE") == 21                # kept, as 7.0.15's replica does
        assert c.call("GET", "v1") is None           # but read as absent
    with master.raw() as c:
        assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    h.wait_until(lambda: replica.raw().call("DBSIZE") == 1, 10, what="the master's DELs to remove them")


@pytest.mark.parametrize("rewritten", [False, True], ids=["incr", "rdb-base"])
@pytest.mark.parametrize("kind", KINDS)
def test_aof_loading_at_start_answers_loading(servers, kind, rewritten):
    """With appendonly yes the AOF's commands are replayed at start; meanwhile (held open by
    key-load-delay, which 7.0.15 applies to each loaded command) clients are served, and
    answered -LOADING, with INFO loading:1 and loading_total_bytes the AOF files' size.
    Failed before: shoal watched its listeners only once the replay had ended, so nobody
    was answered until then."""
    srv = _node(servers, kind, "--appendonly", "yes", "--appendfsync", "always")
    n = 8000
    with srv.raw() as c:
        c.send(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue:%d\r\n"
                        % (len(b"key:%d" % i), i, len(b"value:%d" % i), i) for i in range(n)))
        assert [c.read()[1] for _ in range(n)] == ["OK"] * n
        if rewritten:   # the keys in the RDB base, loaded through the workers before the incr file
            assert c.call("BGREWRITEAOF") is not None
            h.wait_until(lambda: _info(c)["aof_rewrite_in_progress"] == "0" and
                         ".base.rdb" in " ".join(f.name for f in (srv.dir / "appendonlydir").iterdir()) and
                         _info(c)["aof_rewrite_scheduled"] == "0", 30, what="the rewrite")
            assert c.call("SET", "after", "1") == "OK"
    srv.stop()
    aof_dir = srv.dir / "appendonlydir"
    size = sum(f.stat().st_size for f in aof_dir.iterdir() if ".base." in f.name or ".incr." in f.name)
    srv.extra_args += ["--key-load-delay", "400", "--loading-process-events-interval-bytes", "1024"]
    srv.spawn()
    _wait_loading(srv)
    with srv.raw() as c:
        assert c.call("GET", "key:1") == h.Error(LOADING)
        info = _info(c)
    assert info["loading"] == "1"
    assert int(info["loading_total_bytes"]) == size
    assert 0 <= int(info["loading_loaded_bytes"]) <= size
    srv.wait_ready(30)
    with srv.raw() as c:
        assert c.call("DBSIZE") == n + (1 if rewritten else 0)
        info = _info(c)
        assert info["loading"] == "0" and "loading_start_time" not in info
        assert c.call("GET", f"key:{n - 1}") == f"value:{n - 1}".encode()


@pytest.mark.parametrize("kind", KINDS)
def test_no_key_expires_while_dump_rdb_loads(servers, kind):
    """Keys whose TTL ends in the middle of a start's load (3,000 keys, key-load-delay 1 ms
    each) are not expired while it loads, as 7.0.15 expires nothing before its load ends:
    expired_keys stays 0 while loading:1, then the cron takes them all. Failed before:
    shoal's workers ran active expiry between the load's batches (and their cron shrank
    the tables RESIZEDB had just sized)."""
    srv = _node(servers, kind)
    with srv.raw() as c:
        c.send(b"".join(h.encode("SET", f"t:{j}", "v", "PX", "2500") for j in range(3000)))
        assert all(c.read()[1] == "OK" for _ in range(3000))
        deadline = time.monotonic() + 2.5
        assert c.call("SAVE") == "OK"
    srv.stop()
    srv.extra_args += ["--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"]
    srv.spawn()
    _wait_loading(srv)
    past = []                     # expired_keys read while loading, after the keys' deadline
    with srv.raw() as c:
        while True:
            info = h.info_dict(c.call("INFO", "all"))
            if info["loading"] != "1":
                break
            assert info["expired_keys"] == "0", (kind, info["expired_keys"])
            if time.monotonic() > deadline + 0.3:
                past.append(info["expired_keys"])
            time.sleep(0.05)
    assert past, kind             # the load outlived the deadline (3 s of key-load-delay)
    srv.wait_ready(20)
    with srv.raw() as c:
        h.wait_until(lambda: c.call("DBSIZE") == 0, 30, what="the cron expiring every key")
