"""SAVE, BGSAVE, LASTSAVE and loading dump.rdb at startup.

What it is for: checking that a shoal node writes a dump.rdb that a real
redis-server 7.0.15 loads with the same keys and TTLs, that it loads its own
dumps and redis-server's back, and that a corrupt dump stops it at startup.

What it must never do: touch the shared nodes' files (every test starts its
own nodes in its own directory).
"""
import shutil
import time

import pytest

import helpers as h
from replhelpers import _rdb_skip_string


def _fill(c):
    """Strings of every encoding Redis picks, binary data and keys with TTLs."""
    data = {}
    for i in range(300):
        data[f"k:{i}".encode()] = f"v{i}".encode()
    for i, v in enumerate([b"0", b"-1", b"127", b"-128", b"32767", b"-32768", b"2147483647",
                           b"-2147483648", b"2147483648", b"9223372036854775807", b"007", b"+5"]):
        data[f"int:{i}".encode()] = v
    data[b"long:compressible"] = b"abc" * 5000
    data[b"long:random"] = bytes((i * 7919 + 13) % 256 for i in range(3000))
    data[b"bin\x00key\xff"] = b"\x00\x01\x02\r\n\xff"
    data[b"empty"] = b""
    for k, v in data.items():
        assert c.call("SET", k, v) == "OK"
    ttls = {}
    for i in range(50):
        k = f"ttl:{i}".encode()
        assert c.call("SET", k, b"t" * i, "PX", str(600000 + i * 1000)) == "OK"
        data[k] = b"t" * i
        ttls[k] = True
    return data, ttls


def _dump_keys(c):
    """Every key with its value and PTTL, by SCAN + GET/PTTL."""
    out = {}
    cursor = "0"
    while True:
        cursor, keys = c.call("SCAN", cursor, "COUNT", "1000")
        for k in keys:
            out[k] = (c.call("GET", k), c.call("PTTL", k))
        if cursor in ("0", b"0"):
            return out


def _check_same(got, data, ttls, slack_ms=120000):
    assert set(got) == set(data)
    for k, v in data.items():
        val, pttl = got[k]
        assert val == v, k
        if k in ttls:
            assert 0 < pttl <= 650000, (k, pttl)
            assert pttl > 600000 + int(k.split(b":")[1]) * 1000 - slack_ms, (k, pttl)
        else:
            assert pttl == -1, (k, pttl)


def _plain_redis(servers, d, name):
    """A non-cluster redis-server in directory d (no automatic saves)."""
    port = h.free_port()
    return servers.redis(base_args=False, port=port, name=name,
                         extra_args=["--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                     "--save", "", "--appendonly", "no", "--daemonize", "no",
                                     "--logfile", ""])


def test_save_restart_and_redis_loads_it(servers, tmp_path):
    node = servers.shoal(extra_args=["--worker-threads", "4"])
    h.own_all_slots(node)
    with node.raw() as c:
        data, ttls = _fill(c)
        c.call("SET", "gone", "x", "PX", "1")
        time.sleep(0.01)
        before = c.call("LASTSAVE")
        time.sleep(1.1)
        assert c.call("SAVE") == "OK"
        assert c.call("LASTSAVE") > before
        info = h.info_dict(c.call("INFO", "persistence"))
        assert info["rdb_saves"] == "1"
        assert info["rdb_bgsave_in_progress"] == "0"
    dump = node.dir / "dump.rdb"
    assert dump.exists() and dump.read_bytes().startswith(b"REDIS0010")
    assert not list(node.dir.glob("temp-*.rdb"))

    # the same node restarted on its directory has every key and TTL back
    node.stop()
    node.start()
    h.wait_cluster_ok(node)
    with node.raw() as c:
        _check_same(_dump_keys(c), data, ttls)
        info = h.info_dict(c.call("INFO", "persistence"))
        assert info["rdb_last_load_keys_loaded"] == str(len(data))
    assert "Done loading RDB, keys loaded: %d" % len(data) in node.output()

    # redis-server 7.0.15 loads the dump with the same keys
    rdir = tmp_path / "redis-copy"
    rdir.mkdir()
    shutil.copy(dump, rdir / "dump.rdb")
    ref = _plain_redis(servers, rdir, "redis-load")
    with ref.raw() as c:
        _check_same(_dump_keys(c), data, ttls)


def test_redis_dump_loads_into_shoal(servers, tmp_path):
    rdir = tmp_path / "redis-src"
    rdir.mkdir()
    ref = _plain_redis(servers, rdir, "redis-src")
    with ref.raw() as c:
        data, ttls = _fill(c)
        assert c.call("SAVE") == "OK"
    node = servers.shoal(start=False, name="shoal-from-redis")
    shutil.copy(rdir / "dump.rdb", node.dir / "dump.rdb")
    node.start()
    h.own_free_slots(node)        # the loaded keys' slots are taken at start
    with node.raw() as c:
        _check_same(_dump_keys(c), data, ttls)
        assert c.call("DBSIZE") == len(data)


def test_bgsave_and_lastsave(servers):
    node = servers.shoal(extra_args=["--worker-threads", "2", "--rdbcompression", "no"])
    h.own_all_slots(node)
    with node.raw() as c:
        for i in range(2000):
            c.call("SET", f"key{i}", "v" * 100)
        before = c.call("LASTSAVE")
        time.sleep(1.1)
        assert c.call("BGSAVE") == "Background saving started"
        h.wait_until(lambda: c.call("LASTSAVE") > before, 10, what="LASTSAVE after BGSAVE")
        h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence"))["rdb_bgsave_in_progress"] == "0",
                     10, what="BGSAVE finished")
        info = h.info_dict(c.call("INFO", "persistence"))
        assert info["rdb_last_bgsave_status"] == "ok"
        assert int(info["rdb_last_save_time"]) == c.call("LASTSAVE")
        assert isinstance(c.call("BGSAVE", "foo"), h.Error)
    dump = (node.dir / "dump.rdb").read_bytes()
    assert dump.startswith(b"REDIS0010")
    assert b"v" * 100 in dump    # rdbcompression no: values stored raw
    node.stop()
    node.start()
    with node.raw() as c:
        h.wait_cluster_ok(node)
        assert c.call("DBSIZE") == 2000
        assert c.call("GET", "key1999") == b"v" * 100


def test_bgsave_while_running(servers):
    node = servers.shoal()
    h.own_all_slots(node)
    with node.raw() as c:
        big = "x" * 1000
        for i in range(20000):
            c.send(h.encode("SET", f"k{i}", big))
        for i in range(20000):
            c.read()
        # pipelined: the second BGSAVE arrives while the first is in progress
        c.send(h.encode("BGSAVE") + h.encode("BGSAVE") + h.encode("SAVE"))
        first, second, third = c.read()[1], c.read()[1], c.read()[1]
        assert first == "Background saving started"
        assert second in ("Background saving started", h.Error("ERR Background save already in progress"))
        assert third in ("OK", h.Error("ERR Background save already in progress"))
        h.wait_until(lambda: h.info_dict(c.call("INFO", "persistence"))["rdb_bgsave_in_progress"] == "0",
                     20, what="BGSAVE finished")


def test_empty_save_and_no_dump(servers):
    node = servers.shoal()
    with node.raw() as c:
        assert c.call("SAVE") == "OK"
    data = (node.dir / "dump.rdb").read_bytes()
    assert data.startswith(b"REDIS0010")
    # the aux fields, then EOF and the checksum: no SELECTDB, no key (a search for the 0xFE
    # byte failed whenever ctime's bytes held one: one second in 256)
    pos = 9
    while data[pos] == 0xFA:
        pos = _rdb_skip_string(data, _rdb_skip_string(data, pos + 1))
    assert data[pos] == 0xFF and len(data) == pos + 9
    node.stop()
    node.start()
    with node.raw() as c:
        assert c.call("DBSIZE") == 0


@pytest.mark.parametrize("content", [b"garbage, not an RDB file", b"REDIS0010\xfa"])
def test_corrupt_dump_refuses_to_start(servers, content):
    node = servers.shoal(start=False, name="corrupt")
    (node.dir / "dump.rdb").write_bytes(content)
    with pytest.raises(h.ProcessExited):
        node.start()
    node.expected_exit = True
    out = node.output()
    assert "Fatal error loading the DB" in out
    assert "dump.rdb" in out


def test_bad_checksum_refuses_to_start(servers, tmp_path):
    node = servers.shoal(name="good")
    h.own_all_slots(node)
    with node.raw() as c:
        c.call("SET", "a", "hello world")
        assert c.call("SAVE") == "OK"
    node.stop()
    raw = bytearray((node.dir / "dump.rdb").read_bytes())
    raw[-1] ^= 0xFF
    (node.dir / "dump.rdb").write_bytes(bytes(raw))
    with pytest.raises(h.ProcessExited):
        node.start()
    node.expected_exit = True
    assert "Fatal error loading the DB" in node.output()
