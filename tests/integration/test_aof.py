"""The append-only file: 7.0's multi-part layout, loading, fsync policies.

What it is for: checking that `appendonly yes` writes a manifest, a base and
incr files that redis-check-aof accepts and redis-server 7.0.15 loads (and
the reverse), that a restart loads them, that a torn tail is truncated only
with aof-load-truncated yes while other damage stops the start naming the
file and offset, and that acknowledged writes survive kill -9.

What it must never do: touch files outside its own temporary directories, or
stop a process it did not start.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

import helpers as h

CHECK_AOF = shutil.which("redis-check-aof") or "/usr/bin/redis-check-aof"


def _shoal(servers, d, *args, start=True, name=None):
    d.mkdir(parents=True, exist_ok=True)
    port = h.free_port()
    return servers.shoal(base_args=False, port=port, start=start, name=name,
                         extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                     "--logfile", "", "--save", "", "--appendonly", "yes", *args])


def _redis(servers, d, *args, name=None):
    d.mkdir(parents=True, exist_ok=True)
    port = h.free_port()
    return servers.redis(base_args=False, port=port, name=name,
                         extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                     "--save", "", "--appendonly", "yes", "--daemonize", "no",
                                     "--logfile", "", *args])


def _fill(c):
    """Writes of several kinds whose effect the AOF must reproduce."""
    for i in range(200):
        assert c.call("SET", f"k:{i}", f"v{i}") == "OK"
    c.call("SET", "ttl", "x", "EX", "1000")
    c.call("SET", "n", "10")
    c.call("INCRBYFLOAT", "n", "1.5")
    c.call("RPUSH", "list", "a", "b", "c")
    c.call("HSET", "hash", "f1", "1", "f2", "2")
    c.call("SADD", "set", "x", "y")
    c.call("ZADD", "zset", "1", "a", "2", "b")
    c.call("MULTI")
    c.call("SET", "t1", "1")
    c.call("SET", "t2", "2")
    c.call("EXEC")
    c.call("DEL", "k:0")
    c.call("EXPIRE", "k:1", "1000")
    c.call("SET", "bin\x00key", b"\x00\r\n\xff")


def _value(c, k):
    t = c.call("TYPE", k)
    if t == "string":
        return t, c.call("GET", k)
    if t == "list":
        return t, c.call("LRANGE", k, "0", "-1")
    if t in ("hash", "set"):
        return t, sorted(c.call("HGETALL" if t == "hash" else "SMEMBERS", k))
    return t, c.call("ZRANGE", k, "0", "-1", "WITHSCORES")


def _snapshot(c):
    keys, _ = h.scan_all(c, "COUNT", "1000")
    return {k: (*_value(c, k), c.call("PTTL", k) > 0) for k in keys}


def _manifest(d):
    return (d / "appendonlydir" / "appendonly.aof.manifest").read_text()


def _check_aof(d):
    return subprocess.run([CHECK_AOF, str(d / "appendonlydir" / "appendonly.aof.manifest")],
                          capture_output=True, text=True, timeout=30)


def _last_incr(d):
    names = re.findall(r"file (\S+) seq \d+ type i", _manifest(d))
    return d / "appendonlydir" / names[-1]


def _filled(servers, d, workers):
    """A node on d with _fill's keys: the node, their snapshot, INFO persistence."""
    node = _shoal(servers, d, "--worker-threads", str(workers))
    with node.raw() as c:
        _fill(c)
        return node, _snapshot(c), h.info_dict(c.call("INFO", "persistence"))


def test_files_restart_and_check_aof(servers, tmp_path):
    d = tmp_path / "a"
    node, before, info = _filled(servers, d, 2)
    assert info["aof_enabled"] == "1" and info["aof_last_write_status"] == "ok"
    assert _manifest(d) == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                            "file appendonly.aof.1.incr.aof seq 1 type i\n")
    incr = _last_incr(d).read_bytes()
    assert incr.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    assert b"PXAT" in incr and b"PEXPIREAT" in incr and b"MULTI" in incr and b"KEEPTTL" in incr
    r = _check_aof(d)
    assert r.returncode == 0 and "All AOF files and manifest are valid" in r.stdout, r.stdout + r.stderr
    node.stop()
    assert "Calling fsync() on the AOF file." in node.output()   # SIGTERM syncs it, as 7.0.15
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before
    assert "DB loaded from append only file" in node.output()


def test_redis_loads_shoal_files_and_back(servers, tmp_path):
    d = tmp_path / "shoal"
    node, before, _ = _filled(servers, d, 3)
    node.stop()
    rd = tmp_path / "redis"
    shutil.copytree(d / "appendonlydir", rd / "appendonlydir")
    ref = _redis(servers, rd)
    with ref.raw() as c:
        assert _snapshot(c) == before
        c.call("SET", "from-redis", "1")
        c.call("RPUSH", "list", "d")
        after = _snapshot(c)
    ref.stop()
    d2 = tmp_path / "shoal2"
    shutil.copytree(rd / "appendonlydir", d2 / "appendonlydir")
    with _shoal(servers, d2).raw() as c:
        assert _snapshot(c) == after


def test_file_name_with_a_blank_is_quoted_in_the_manifest_as_redis(servers, tmp_path):
    """appendfilename "my file.aof": 7.0.15 quotes the names in the manifest (and
    reads them back quoted); shoal writes the same text, and each loads the other's."""
    name = "my file.aof"
    manifests = {}
    for kind, d in (("redis", tmp_path / "redis"), ("shoal", tmp_path / "shoal")):
        node = (_redis if kind == "redis" else _shoal)(servers, d, "--appendfilename", name)
        with node.raw() as c:
            assert c.call("SET", "k", kind) == "OK"
        node.stop()
        manifests[kind] = (d / "appendonlydir" / (name + ".manifest")).read_text()
    assert manifests["shoal"] == manifests["redis"]
    assert '"my file.aof.1.base.rdb"' in manifests["shoal"]
    for kind, d in (("shoal", tmp_path / "redis"), ("redis", tmp_path / "shoal")):
        node = (_redis if kind == "redis" else _shoal)(servers, d, "--appendfilename", name)
        with node.raw() as c:
            assert c.call("GET", "k") == ("redis" if kind == "shoal" else "shoal").encode()
        node.stop()


def test_appendonly_yes_takes_precedence_over_dump(servers, tmp_path):
    """With appendonly yes and no AOF yet, dump.rdb is not loaded (as 7.0.15)."""
    d = tmp_path / "p"
    node = _shoal(servers, d)
    node.stop()
    shutil.rmtree(d / "appendonlydir")
    port = h.free_port()
    plain = servers.shoal(base_args=False, port=port, name="plain",
                          extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                      "--logfile", "", "--save", ""])
    with plain.raw() as c:
        c.call("SET", "in-dump", "1")
        assert c.call("SAVE") == "OK"
    plain.stop()
    node.start()
    with node.raw() as c:
        assert c.call("DBSIZE") == 0
    rd = tmp_path / "r"
    rd.mkdir()
    shutil.copy(d / "dump.rdb", rd / "dump.rdb")
    ref = _redis(servers, rd)
    with ref.raw() as c:
        assert c.call("DBSIZE") == 0


def _two_keys_stopped(servers, d, *args):
    """A node that wrote a and b, stopped; its last incr file."""
    node = _shoal(servers, d, *args)
    with node.raw() as c:
        c.call("SET", "a", "1")
        c.call("SET", "b", "2")
    node.stop()
    return node, _last_incr(d)


def _refused(node):
    """Starts node, which must stop with exit code 1; its output."""
    node.spawn()
    node.expected_exit = True
    assert node.wait_exit(10) == 1
    return node.output()


def test_torn_tail_truncated_or_refused(servers, tmp_path):
    d = tmp_path / "t"
    node, incr = _two_keys_stopped(servers, d, "--aof-load-truncated", "no")
    good = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1")    # cut in the middle of a command
    out = _refused(node)
    assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" in out
    assert f"(last whole command ends at {good})" in out
    node.extra_args += ["--aof-load-truncated", "yes"]
    node.start()
    with node.raw() as c:
        assert c.call("MGET", "a", "b", "c") == [b"1", b"2", None]
    assert incr.stat().st_size == good
    assert f"Truncating the AOF appendonly.aof.1.incr.aof at offset {good}" in node.output()
    # redis-server also refuses the same torn file without aof-load-truncated
    rd = tmp_path / "r"
    shutil.copytree(d / "appendonlydir", rd / "appendonlydir")
    with open(rd / "appendonlydir" / incr.name, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1")
    port = h.free_port()
    ref = servers.redis(base_args=False, port=port, start=False, name="ref-torn",
                        extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(rd), "--save", "",
                                    "--appendonly", "yes", "--aof-load-truncated", "no", "--logfile", ""])
    assert "Unexpected end of file reading the append only file" in _refused(ref)


def test_damage_in_the_middle_stops_the_start(servers, tmp_path):
    node, incr = _two_keys_stopped(servers, tmp_path / "m")
    data = bytearray(incr.read_bytes())
    pos = data.index(b"*3\r\n$3\r\nset\r\n$1\r\nb", 0) if b"*3\r\n$3\r\nset\r\n$1\r\nb" in data else \
        data.rindex(b"*3")
    data[pos] = ord("?")
    incr.write_bytes(bytes(data))
    node.extra_args += ["--aof-load-truncated", "yes"]
    out = _refused(node)
    assert "Bad file format reading the append only file appendonly.aof.1.incr.aof" in out
    assert f"offset {pos}" in out


def test_a_command_short_of_its_arguments_stops_the_start(servers, tmp_path):
    """A SET with only its key, then a whole SET: the load stops at the short one, naming file
    and offset (redis-server 7.0.15 runs its handler past the arguments there are and crashes).
    Failed before: the handler read the next command's name as the value, the node served k."""
    node, incr = _two_keys_stopped(servers, tmp_path / "a")
    pos = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$3\r\nSET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n")
    out = _refused(node)
    assert "Bad file format reading the append only file appendonly.aof.1.incr.aof" in out
    assert f"wrong number of arguments for 'SET' at offset {pos}" in out


def test_timestamp_annotations(servers, tmp_path):
    d = tmp_path / "ts"
    node = _shoal(servers, d, "--aof-timestamp-enabled", "yes")
    with node.raw() as c:
        c.call("SET", "a", "1")
        time.sleep(1.1)
        c.call("SET", "b", "2")
    node.stop()
    text = _last_incr(d).read_bytes()
    assert len(re.findall(rb"#TS:\d+\r\n", text)) >= 2
    assert _check_aof(d).returncode == 0
    node.start()
    with node.raw() as c:
        assert c.call("MGET", "a", "b") == [b"1", b"2"]
    rd = tmp_path / "r"
    shutil.copytree(d / "appendonlydir", rd / "appendonlydir")
    ref = _redis(servers, rd, "--aof-timestamp-enabled", "yes")
    with ref.raw() as c:
        assert c.call("MGET", "a", "b") == [b"1", b"2"]


def test_info_persistence_aof_fields_as_redis(servers, tmp_path):
    node = _shoal(servers, tmp_path / "s")
    ref = _redis(servers, tmp_path / "r")
    for srv, on in ((node, True), (ref, True)):
        with srv.raw() as c:
            c.call("SET", "a", "1")
            info = h.info_dict(c.call("INFO", "persistence"))
            keys = [k for k in info if k.startswith("aof_") or k.startswith("module_fork")]
            if srv is node:
                ours = keys
            else:
                theirs = keys
    assert ours == theirs


def _kill9(node):
    node.expected_exit = True
    os.kill(node.pid, signal.SIGKILL)
    node.popen.wait()


def _writer(port, acked, stop, wid):
    """Sets keys w<wid>:<n> one at a time and records each acknowledged n."""
    try:
        with h.RawConn(port, timeout=5) as c:
            n = 0
            while not stop.is_set():
                if c.call("SET", f"w{wid}:{n}", str(n)) == "OK":
                    acked.append(n)
                n += 1
    except (OSError, ConnectionError, h.ProtocolDesync):
        pass


def _crash_rounds(node, rounds, seed, mid=None):
    """Rounds of: 4 writers, kill -9 at a random moment (after `mid(node)`
    when given), restart; yields (writer, acked count, missing) per writer."""
    rnd = random.Random(seed)
    for r in range(rounds):
        stop = threading.Event()
        acked = {w: [] for w in range(4)}
        ths = [threading.Thread(target=_writer, args=(node.port, acked[w], stop, w + 10 * r)) for w in range(4)]
        for t in ths:
            t.start()
        time.sleep(0.1 + rnd.random() * 0.3)
        if mid:
            mid(node)
            time.sleep(rnd.random() * 0.3)
        _kill9(node)
        stop.set()
        for t in ths:
            t.join(10)
        node.start()
        with node.raw() as c:
            for w, ns in acked.items():
                if not ns:
                    continue
                got = c.call("MGET", *[f"w{w + 10 * r}:{n}" for n in ns])
                missing = [n for n, v in zip(ns, got) if v is None]
                # every loaded value is the one written (nothing corrupt)
                assert all(v is None or v == str(n).encode() for n, v in zip(ns, got))
                yield w, len(ns), missing


def _assert_no_acknowledged_write_lost(node, rounds, seed, mid=None):
    total = 0
    for w, n, missing in _crash_rounds(node, rounds, seed, mid):
        assert missing == [], (w, n, missing[:10])
        total += n
    assert total > 50, total


def test_always_keeps_every_acknowledged_write_across_kill9(servers, tmp_path):
    node = _shoal(servers, tmp_path / "c", "--appendfsync", "always", "--worker-threads", "2")
    _assert_no_acknowledged_write_lost(node, 3, 1)


def test_everysec_loses_at_most_the_last_seconds(servers, tmp_path):
    # write(2) happens before the reply, so a killed process loses nothing
    # that reached the page cache (7.0.15 allows ~2 s only for a power loss)
    node = _shoal(servers, tmp_path / "e", "--appendfsync", "everysec", "--worker-threads", "2")
    _assert_no_acknowledged_write_lost(node, 2, 2)


def _wait_rewrite_done(c, rewrites):
    """Waits until at least `rewrites` rewrites finished and none runs."""
    h.wait_until(lambda: (lambda i: i["aof_rewrite_in_progress"] == "0" and int(i["aof_rewrites"]) >= rewrites)(
        h.info_dict(c.call("INFO", "persistence"))), 20, what="AOF rewrite finished")


def _reloads_the_same(servers, node, d, rd, before):
    """redis-check-aof accepts d's files; node restarted and a redis-server on a
    copy both load exactly `before`."""
    assert _check_aof(d).returncode == 0
    node.stop()
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before
    shutil.copytree(d / "appendonlydir", rd / "appendonlydir")
    with _redis(servers, rd).raw() as c:
        assert _snapshot(c) == before


def test_bgrewriteaof_new_base_and_manifest_swap(servers, tmp_path):
    d = tmp_path / "rw"
    node, before, _ = _filled(servers, d, 3)
    with node.raw() as c:
        assert c.call("BGREWRITEAOF") == "Background append only file rewriting started"
        _wait_rewrite_done(c, 1)
        c.call("SET", "after", "1")
        before = _snapshot(c)
        info = h.info_dict(c.call("INFO", "persistence"))
    assert info["aof_last_bgrewrite_status"] == "ok"
    assert _manifest(d) == ("file appendonly.aof.2.base.rdb seq 2 type b\n"
                            "file appendonly.aof.2.incr.aof seq 2 type i\n")
    assert sorted(p.name for p in (d / "appendonlydir").iterdir()) == [
        "appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    assert int(info["aof_base_size"]) == (d / "appendonlydir" / "appendonly.aof.2.base.rdb").stat().st_size
    _reloads_the_same(servers, node, d, tmp_path / "r", before)


def test_rewrite_without_rdb_preamble_is_commands(servers, tmp_path):
    d = tmp_path / "np"
    node, before, _ = _filled(servers, d, 2)
    with node.raw() as c:
        assert c.call("CONFIG", "SET", "aof-use-rdb-preamble", "no") == "OK"
        c.call("BGREWRITEAOF")
        _wait_rewrite_done(c, 1)
    assert "file appendonly.aof.2.base.aof seq 2 type b\n" in _manifest(d)
    base = (d / "appendonlydir" / "appendonly.aof.2.base.aof").read_bytes()
    assert base.startswith(b"*") and b"REDIS" not in base[:5]
    _reloads_the_same(servers, node, d, tmp_path / "r", before)


def test_config_set_appendonly_yes_then_no(servers, tmp_path):
    d = tmp_path / "cs"
    d.mkdir()
    port = h.free_port()
    node = servers.shoal(base_args=False, port=port, name="cs",
                         extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                     "--logfile", "", "--save", ""])
    with node.raw() as c:
        _fill(c)
        assert h.info_dict(c.call("INFO", "persistence"))["aof_enabled"] == "0"
        assert c.call("CONFIG", "SET", "appendonly", "yes") == "OK"
        info = h.info_dict(c.call("INFO", "persistence"))
        assert info["aof_enabled"] == "1" and info["aof_rewrite_in_progress"] == "1"
        _wait_rewrite_done(c, 1)
        c.call("SET", "during-on", "1")
        before = _snapshot(c)
        assert c.call("CONFIG", "SET", "appendonly", "no") == "OK"
        assert h.info_dict(c.call("INFO", "persistence"))["aof_enabled"] == "0"
        c.call("SET", "after-off", "1")
    assert _manifest(d) == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                            "file appendonly.aof.1.incr.aof seq 1 type i\n")
    assert b"after-off" not in _last_incr(d).read_bytes()
    node.stop()
    node.extra_args += ["--appendonly", "yes"]
    node.start()
    with node.raw() as c:
        assert _snapshot(c) == before


def test_auto_rewrite_on_growth(servers, tmp_path):
    d = tmp_path / "auto"
    node = _shoal(servers, d, "--auto-aof-rewrite-min-size", "20000", "--auto-aof-rewrite-percentage", "100")
    with node.raw() as c:
        for i in range(400):
            c.call("SET", f"key:{i}", "x" * 100)
        _wait_rewrite_done(c, 1)
    assert "Starting automatic rewriting of AOF on" in node.output()
    assert re.fullmatch(r"file appendonly.aof.(\d+).base.rdb seq \1 type b\n"
                        r"file appendonly.aof.(\d+).incr.aof seq \2 type i\n", _manifest(d)), _manifest(d)


def test_writes_during_rewrite_and_kill9_keep_every_acknowledged_write(servers, tmp_path):
    d = tmp_path / "kr"
    node = _shoal(servers, d, "--appendfsync", "always", "--worker-threads", "2")
    with node.raw() as c:
        for i in range(0, 20000, 500):
            c.call("MSET", *[x for k in range(i, i + 500) for x in (f"base:{k}", "v" * 50)])

    def rewrite(n):
        with n.raw() as c:
            c.call("BGREWRITEAOF")

    _assert_no_acknowledged_write_lost(node, 3, 3, mid=rewrite)
    with node.raw() as c:
        assert c.call("DBSIZE") >= 20000
    assert _check_aof(d).returncode == 0


def _fill_until_refused(c, prefix):
    """Writes 4 KB values until a write is refused; the acknowledged keys and the error."""
    acked = []
    for i in range(100000):
        r = c.call("SET", f"{prefix}:{i}", "x" * 4096)
        if r != "OK":
            return acked, r
        acked.append(f"{prefix}:{i}")
    raise AssertionError("never refused")


def _disk_full_round(srv, mnt):
    """Fills the file system under srv, checks the refusal, frees space and
    checks the recovery; returns the acknowledged keys and the error text."""
    filler = mnt / "filler"
    free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - 200 * 1024))
    with srv.raw() as c:
        acked, err = _fill_until_refused(c, "full")
        info = h.info_dict(c.call("INFO", "persistence"))
        assert info["aof_last_write_status"] == "err", (err, info)
        assert c.call("GET", acked[0]) == b"x" * 4096        # reads still served
        assert str(c.call("SET", "more", "1")) == str(err)   # still refused
        # a write called from a script is refused too, before the script's first write
        script_err = c.raw("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "more")
        filler.unlink()
        h.wait_until(lambda: c.call("SET", "after-space", "1") == "OK", 10, what="writes accepted again")
        assert h.info_dict(c.call("INFO", "persistence"))["aof_last_write_status"] == "ok"
    return acked, str(err), script_err


def test_disk_full_refuses_writes_with_misconf_and_recovers(servers, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], check=True)
    try:
        (mnt / "r").mkdir()
        ref = _redis(servers, mnt / "r")
        _, ref_err, ref_script_err = _disk_full_round(ref, mnt)
        ref.stop()
        shutil.rmtree(mnt / "r")
        node = _shoal(servers, mnt / "s")
        acked, err, script_err = _disk_full_round(node, mnt)
        assert err == ref_err == "MISCONF Errors writing to the AOF file: No space left on device"
        assert script_err == ref_script_err and script_err.startswith(b"-MISCONF"), (script_err, ref_script_err)
        # nothing corrupt: the files check out and every acknowledged write loads
        assert _check_aof(mnt / "s").returncode == 0
        node.stop()
        node.start()
        with node.raw() as c:
            assert all(v == b"x" * 4096 for v in c.call("MGET", *acked))
            assert c.call("GET", "after-space") == b"1"
        node.stop()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_replica_aof_holds_its_masters_stream(servers, tmp_path):
    """A replica with appendonly yes rewrites its AOF after the full sync and
    appends what it applies from its master: after kill -9 it loads it all."""
    master = _shoal(servers, tmp_path / "m", "--repl-diskless-sync-delay", "0", name="m")
    replica = _shoal(servers, tmp_path / "r", name="r")
    with master.raw() as c:
        for i in range(300):
            c.call("SET", f"before:{i}", "v")
    with replica.raw() as c:
        assert c.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
    h.wait_until(lambda: h.info_dict(replica.raw().call("INFO", "replication")).get("master_link_status") == "up",
                 30, what="the replica's link up")
    with master.raw() as c:
        c.call("SET", "px", "1", "PX", "600000")
        c.call("MULTI")
        c.call("INCR", "n")
        c.call("RPUSH", "l", "a")
        c.call("EXEC")
        for i in range(300):
            c.call("SET", f"after:{i}", "v")
        assert c.call("WAIT", "1", "5000") == 1
    with replica.raw() as c:
        h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence"))["aof_rewrites"] != "0", 20,
                     what="the rewrite after the full sync")
        _wait_rewrite_done(c, 1)
        before = _snapshot(c)
    assert len(before) == 603
    text = _last_incr(tmp_path / "r").read_bytes()
    assert b"after:299" in text and b"ping" not in text.lower() and b"REPLCONF" not in text
    _kill9(replica)
    replica.start()
    with replica.raw() as c:
        assert _snapshot(c) == before
