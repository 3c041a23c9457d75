"""CLIENT LIST and CLIENT INFO `flags=` compared with redis-server 7.0.15.

What it is for: 7.0.15 shows one letter per state of a connection (x in MULTI, b blocked,
P subscribed, O monitor, t/R/B tracking, d a WATCHed key touched, c close after reply,
U unix socket, r READONLY, e no-evict, S a replica's link, M the master's link, N none).
Each test runs the same script on a shoal node with two workers (standalone, so that the
watched keys of one client live on both workers) and on redis-server, and compares the
flags each shows. (Blocked clients' `b`: test_blocked_clients.py.)

What it must never do: wait without a deadline, or stop a process it did not start.
"""
import pytest

import helpers as h

SA = "standalone"


def _on_worker(index, n=2):
    return [k for k in ("k%d" % i for i in range(200)) if h.key_slot(k) % n == index]


W0, W1 = _on_worker(0), _on_worker(1)


def _node(servers, kind):
    if kind == "shoal":
        return servers.shoal(base_args=SA, extra_args=["--worker-threads", "2"])
    return servers.redis(base_args=SA)


def _flags(k, cid):
    lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
    assert len(lines) == 1, lines
    return dict(f.split("=", 1) for f in lines[0].split(" "))["flags"]


def _own_flags(c):
    return dict(f.split("=", 1) for f in c.call("CLIENT", "INFO").decode().strip().split(" "))["flags"]


def _watch_script(srv):
    """The flags of a client that WATCHes keys of both workers, at each step."""
    seen = []
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as k:
        aid = a.call("CLIENT", "ID")
        assert k.call("SET", W0[1], "here") == "OK"
        for key in (W0[0], W1[0]):
            # a write by another client to a watched key of either worker: d until the EXEC
            assert a.call("WATCH", W0[0], W1[0]) == "OK"
            seen.append(_flags(k, aid))
            assert k.call("DEL", W0[2]) == 0 and k.call("SET", W1[2], "unwatched") == "OK"
            seen.append(_flags(k, aid))               # no write to a watched key: N
            assert k.call("SET", key, "v") == "OK"
            seen += [_flags(k, aid), _own_flags(a)]
            assert a.call("MULTI") == "OK"
            seen.append(_flags(k, aid))               # xd
            assert a.call("EXEC") is None
            seen.append(_flags(k, aid))               # N again
        # its own write, an UNWATCH, a FLUSHALL of a watched key that exists, a RESET
        assert a.call("WATCH", W1[1]) == "OK" and a.call("INCRBY", W1[1], "0") == 0
        seen.append(_flags(k, aid))
        assert a.call("UNWATCH") == "OK"
        seen.append(_flags(k, aid))
        assert a.call("WATCH", W0[1]) == "OK" and k.call("FLUSHALL") == "OK"
        seen.append(_flags(k, aid))
        assert a.call("RESET") == "RESET"
        seen.append(_flags(k, aid))
    return seen


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_touched_watch_is_flagged_d_until_exec(servers, kind):
    """7.0.15 flags d a client whose WATCHed key another client or itself wrote (or a FLUSHALL
    emptied): its next EXEC fails. Failed before: shoal never showed d."""
    want = ["N", "N", "d", "d", "xd", "N"] * 2 + ["d", "N", "d", "N"]
    assert _watch_script(_node(servers, kind)) == want


def _expiry_script(srv, lazy):
    """WATCH of a key that expires afterwards and is deleted by a read (lazy) or by active
    expiry: the flags, then what EXEC answers."""
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as k:
        aid = a.call("CLIENT", "ID")
        assert k.call("DEBUG", "SET-ACTIVE-EXPIRE", "0" if lazy else "1") == "OK"
        try:
            assert k.call("SET", W1[3], "v", "PX", "300") == "OK"
            assert a.call("WATCH", W1[3]) == "OK"
            seen = [_flags(k, aid)]
            if lazy:
                h.wait_until(lambda: k.call("PTTL", W1[3]) == -2, 20, what="the key expired and read")
            else:
                h.wait_until(lambda: k.call("DBSIZE") == 0, 20, what="active expiry deleting the key")
            seen.append(_flags(k, aid))
            assert a.call("MULTI") == "OK" and a.call("PING") == "QUEUED"
            seen.append(a.call("EXEC"))
        finally:
            k.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    return seen


@pytest.mark.parametrize("lazy", [False, True], ids=["active", "lazy"])
@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_a_watched_key_deleted_by_its_expiry_fails_the_exec(servers, kind, lazy):
    """A key alive when WATCHed, then deleted because its TTL passed (by active expiry, or by
    the read that finds it expired): 7.0.15 touches it, flags the client d and fails its EXEC.
    Failed before: flags N and the EXEC ran."""
    srv = servers.shoal(base_args=SA, extra_args=["--worker-threads", "2", "--enable-debug-command", "yes"]) \
        if kind == "shoal" else servers.redis(base_args=SA, extra_args=["--enable-debug-command", "yes"])
    assert _expiry_script(srv, lazy) == ["N", "d", None]


def _lines(conn, *args):
    text = conn.call("CLIENT", "LIST", *args)
    if not isinstance(text, bytes):
        return text
    return [dict(f.split("=", 1) for f in ln.split(" ")) for ln in text.decode().splitlines()]


def _connected_clients(conn):
    return int(h.info_dict(conn.call("INFO", "clients"))["connected_clients"])


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_replication_links_are_listed_s_and_m(servers, kind):
    """7.0.15 lists a replica's connection on its master (flags=S, cmd=replconf once it acks)
    and, on the replica, its master's connection (flags=M, the master's address, the stream's
    database and last command, user (superuser)), each the other's end; TYPE replica|slave|
    master select them, TYPE normal does not, an unknown type is an error; the replica counts
    its master in connected_clients. Failed before: neither line (they belong to replication
    actors here), TYPE of any word answered, connected_clients without the master."""
    master, replica = _node(servers, kind), _node(servers, kind)
    with master.raw(timeout=10) as m, replica.raw(timeout=10) as r:
        assert r.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        h.wait_until(lambda: h.info_dict(r.call("INFO", "replication")).get("master_link_status") == "up", 30,
                     what="the replica's link up")
        assert m.call("SELECT", "3") == "OK" and m.call("SET", W0[0], "v") == "OK"
        h.wait_until(lambda: [(x["flags"], x["cmd"]) for x in _lines(m, "TYPE", "replica")] == [("S", "replconf")],
                     30, what="the replica listed on its master, acking")
        h.wait_until(lambda: [(x["db"], x["cmd"]) for x in _lines(r, "TYPE", "master")] == [("3", "set")], 30,
                     what="the master's link on the replica after its SET in db 3")
        s_line, = _lines(m, "TYPE", "slave")
        m_line, = _lines(r, "TYPE", "master")
        assert (m_line["flags"], m_line["user"], m_line["addr"]) == ("M", "(superuser)", f"127.0.0.1:{master.port}")
        assert (s_line["addr"], s_line["laddr"]) == (m_line["laddr"], m_line["addr"])
        assert s_line["user"] == "default"
        assert [x["id"] for x in _lines(m, "ID", s_line["id"])] == [s_line["id"]]
        assert [x["id"] for x in _lines(r, "ID", m_line["id"])] == [m_line["id"]]
        assert s_line["id"] in [x["id"] for x in _lines(m)] and m_line["id"] in [x["id"] for x in _lines(r)]
        assert all(x["flags"] == "N" for x in _lines(m, "TYPE", "normal") + _lines(r, "TYPE", "normal"))
        assert _lines(m, "TYPE", "master") == [] and _lines(r, "TYPE", "replica") == []
        assert str(_lines(m, "TYPE", "bogus")) == "ERR Unknown client type 'bogus'"
        assert (_connected_clients(m), _connected_clients(r)) == (1, 2)
        assert r.call("REPLICAOF", "NO", "ONE") == "OK"
        h.wait_until(lambda: _lines(r, "TYPE", "master") == [] and _connected_clients(r) == 1, 30,
                     what="the master's link gone from the list")



@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_client_kill_reaches_the_master_link_by_its_id(servers, kind):
    """On a replica, CLIENT KILL ID with the id CLIENT LIST shows for its master's link (alone,
    or with TYPE master and a matching ADDR) closes that link and answers 1, as 7.0.15 kills its
    master client; the link then comes back by a partial resync. Another id, or TYPE normal,
    closes nothing. Failed before: 0 and the link stayed up."""
    master, replica = _node(servers, kind), _node(servers, kind)
    with master.raw(timeout=10) as m, replica.raw(timeout=10) as r:
        def partial():
            return int(h.info_dict(m.call("INFO", "stats"))["sync_partial_ok"])

        def listed():
            h.wait_until(lambda: h.info_dict(r.call("INFO", "replication")).get("master_link_status") == "up"
                         and len(_lines(r, "TYPE", "master")) == 1, 30, what="the master's link up and listed")
            return _lines(r, "TYPE", "master")[0]
        assert r.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        line = listed()
        assert r.call("CLIENT", "KILL", "ID", str(int(line["id"]) + 1000)) == 0
        assert r.call("CLIENT", "KILL", "TYPE", "normal", "ID", line["id"]) == 0
        assert partial() == 0
        assert r.call("CLIENT", "KILL", "ID", line["id"]) == 1
        h.wait_until(lambda: partial() == 1, 30, what="the replica back by a partial resync")
        line = listed()
        assert r.call("CLIENT", "KILL", "TYPE", "master", "ADDR", line["addr"], "ID", line["id"]) == 1
        h.wait_until(lambda: partial() == 2, 30, what="the replica back by a partial resync")
        listed()

def _mem(k, cid):
    lines = [ln for ln in k.call("CLIENT", "LIST").decode().splitlines() if f"id={cid} " in ln]
    assert len(lines) == 1, lines
    f = dict(x.split("=", 1) for x in lines[0].split(" "))
    return int(f["argv-mem"]), int(f["multi-mem"])


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_argv_mem_and_multi_mem_as_redis(servers, kind):
    """7.0.15 counts in argv-mem the arguments of the command a client runs (CLIENT INFO's own)
    or is blocked in, and in multi-mem each queued command's arguments plus a pointer per
    argument. Failed before: both always 0."""
    srv = _node(servers, kind)
    x, y, z = W0[0], W1[0], W0[1]      # x and y popped, z written in the transaction
    with srv.raw(timeout=10) as a, srv.raw(timeout=10) as b, srv.raw(timeout=10) as k:
        own = dict(f.split("=", 1) for f in a.call("CLIENT", "INFO").decode().strip().split(" "))
        assert int(own["argv-mem"]) == len("CLIENT") + len("INFO")
        aid, bid = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        assert _mem(k, aid) == (0, 0)
        assert a.call("MULTI") == "OK" and a.call("SET", z, "b") == "QUEUED" and a.call("GET", "abc") == "QUEUED"
        assert _mem(k, aid) == (0, (3 + len(z) + 1 + 3 * 8) + (3 + 3 + 2 * 8))
        assert a.call("EXEC") == ["OK", None]
        assert _mem(k, aid) == (0, 0)
        for keys in ((x,), (x, y)):
            b.send(h.encode("BLPOP", *keys, "0"))
            h.wait_until(lambda: int(h.info_dict(k.call("INFO", "clients"))["blocked_clients"]) == 1, 20,
                         what="BLPOP blocked")
            assert _mem(k, bid) == (len("BLPOP") + sum(map(len, keys)) + 1, 0)
            assert k.call("RPUSH", keys[-1], "v") == 1
            assert b.read()[1] == [keys[-1].encode(), b"v"]
            h.wait_until(lambda: _mem(k, bid) == (0, 0), 20, what="the BLPOP served")


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_client_kill_reaches_a_replica_by_its_id_and_address(servers, kind):
    """7.0.15 kills a replica's connection by the ID and address CLIENT LIST shows (the old form
    too), and TYPE replica with other filters only the replicas they match. Failed before: 0 /
    "No such client" by ID or address, and TYPE replica ID <another id> killed the replica."""
    master, replica = _node(servers, kind), _node(servers, kind)
    with master.raw(timeout=10) as m, replica.raw(timeout=10) as r:
        assert r.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"

        def listed():
            h.wait_until(lambda: h.info_dict(r.call("INFO", "replication")).get("master_link_status") == "up"
                         and len(_lines(m, "TYPE", "replica")) == 1, 30, what="the replica linked and listed")
            return _lines(m, "TYPE", "replica")[0]

        s = listed()
        assert m.call("CLIENT", "KILL", "TYPE", "replica", "ID", str(int(s["id"]) + 1000)) == 0
        assert m.call("CLIENT", "KILL", "TYPE", "replica", "USER", "default", "ADDR", "127.0.0.1:1") == 0
        assert listed()["id"] == s["id"]                  # still the same connection
        assert m.call("CLIENT", "KILL", "ID", s["id"]) == 1
        h.wait_until(lambda: s["id"] not in [x["id"] for x in _lines(m)], 30, what="the killed id gone")
        s = listed()
        assert m.call("CLIENT", "KILL", "ADDR", s["addr"], "SKIPME", "yes") == 1
        h.wait_until(lambda: s["id"] not in [x["id"] for x in _lines(m)], 30, what="the killed id gone")
        s = listed()
        assert m.call("CLIENT", "KILL", s["addr"]) == "OK"
        h.wait_until(lambda: s["id"] not in [x["id"] for x in _lines(m)], 30, what="the killed id gone")
        assert str(m.call("CLIENT", "KILL", s["addr"])) == "ERR No such client"
        listed()


def _fields(line, keep=("flags", "multi", "multi-mem", "cmd", "qbuf", "argv-mem", "obl", "oll")):
    f = dict(x.split("=", 1) for x in line.strip().split(" "))
    return {k: f[k] for k in keep}


def _exec_view_script(srv):
    """CLIENT INFO and CLIENT LIST queued in MULTI (after a write to a key of either worker)
    and run by EXEC: the calling client's own line."""
    seen = []
    with srv.raw(timeout=10) as a:
        aid = a.call("CLIENT", "ID")
        for key in (W0[0], W1[0]):
            assert a.call("MULTI") == "OK"
            assert a.call("SET", key, "1") == "QUEUED"
            assert a.call("CLIENT", "INFO") == "QUEUED"
            assert a.call("CLIENT", "LIST", "ID", str(aid)) == "QUEUED"
            ok, info, listed = a.call("EXEC")
            assert ok == "OK"
            own, lst = _fields(info.decode()), _fields(listed.decode())
            # the second line's obl counts the first line, whose length differs by server
            assert int(lst.pop("obl")) > int(own["obl"]) + 100
            seen += [own, lst]
            assert a.call("MULTI") == "OK" and a.call("CLIENT", "LIST") == "QUEUED"
            mine = [_fields(ln) for ln in a.call("EXEC")[0].decode().splitlines() if f"id={aid} " in ln]
            seen.append(mine)
    return seen


def test_client_info_and_list_run_by_exec_show_the_transaction(servers):
    """7.0.15 runs EXEC's commands with the client still in MULTI: its own line shows flags=x,
    multi= the queued count, their multi-mem, the EXEC's bytes (qbuf) and arguments
    (argv-mem), and the EXEC reply so far as obl. Failed before: flags=N multi=-1
    multi-mem=0 qbuf=0 argv-mem=0 obl=0 oll=1."""
    got = {kind: _exec_view_script(_node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"], got
    own = dict(got["redis"][0])
    assert int(own.pop("multi-mem")) > 0
    assert own == {"flags": "x", "multi": "3", "cmd": "exec", "qbuf": "14", "argv-mem": "4", "obl": "9", "oll": "0"}


def _own_list_line_script(srv):
    keep = ("flags", "multi", "qbuf", "argv-mem", "obl", "oll", "omem", "cmd")
    seen = []
    with srv.raw(timeout=10) as a:
        aid = a.call("CLIENT", "ID")
        seen.append(_fields(a.call("CLIENT", "INFO").decode(), keep))
        seen += [_fields(ln, keep) for ln in a.call("CLIENT", "LIST").decode().splitlines() if f"id={aid} " in ln]
        by_id = [_fields(ln, keep) for ln in a.call("CLIENT", "LIST", "ID", str(aid)).decode().splitlines()]
        # pipelined: the PING after it is in the query buffer, not yet run
        a.send(h.encode("CLIENT", "LIST", "ID", str(aid)) + h.encode("PING"))
        listed, pong = a.read()[1], a.read()[1]
        by_id += [_fields(ln, keep) for ln in listed.decode().splitlines()]
        for x in by_id:           # the id's digits, which may differ by server, taken out
            x["qbuf"] = str(int(x["qbuf"]) - len(str(aid)))
            x["argv-mem"] = str(int(x["argv-mem"]) - len(str(aid)))
    return seen + by_id + [pong]


def test_client_list_shows_its_caller_mid_command(servers):
    """7.0.15 lists its caller as its command runs: the CLIENT LIST command's bytes (and any
    pipelined after it) in qbuf, its arguments in argv-mem, no reply pending. Failed before:
    qbuf=0 argv-mem=0 oll=1 (and, pipelined, cmd=ping oll=2 omem=7: the PING had run)."""
    got = {kind: _own_list_line_script(_node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"], got
    assert [(x["qbuf"], x["argv-mem"], x["oll"]) for x in got["redis"][:4]] == [
        ("26", "10", "0"), ("26", "10", "0"), ("40", "12", "0"), ("54", "12", "0")]


def _kill_links_script(master, replica):
    seen = []
    with master.raw(timeout=10) as m, replica.raw(timeout=10) as r, master.raw(timeout=10):
        def linked():
            h.wait_until(lambda: h.info_dict(r.call("INFO", "replication")).get("master_link_status") == "up"
                         and len(_lines(m, "TYPE", "replica")) == 1 and len(_lines(r, "TYPE", "master")) == 1, 30,
                         what="the replica linked and listed on both sides")
            return _lines(m, "TYPE", "replica")[0], _lines(r, "TYPE", "master")[0]
        assert r.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        linked()
        # the other plain client and the replica's connection are both the default user's
        seen.append(m.call("CLIENT", "KILL", "USER", "default"))
        linked()
        seen.append(m.call("CLIENT", "KILL", "LADDR", f"127.0.0.1:{master.port}"))   # the replica only now
        s_line, m_line = linked()
        seen.append(r.call("CLIENT", "KILL", "USER", "default"))        # the master's link has no user
        seen.append(r.call("CLIENT", "KILL", "LADDR", m_line["laddr"]))
        s_line, m_line = linked()
        seen.append(r.call("CLIENT", "KILL", "LADDR", m_line["laddr"], "SKIPME", "no"))
        s_line, m_line = linked()
        seen.append(m.call("CLIENT", "KILL", "LADDR", s_line["laddr"], "USER", "default"))
        linked()
        seen.append(m.call("CLIENT", "KILL", "SKIPME", "yes"))
        linked()
    return seen


def test_client_kill_by_user_or_laddr_reaches_replication_links(servers):
    """7.0.15 matches CLIENT KILL USER / LADDR / SKIPME without TYPE against its replicas' and
    its master's connections as against any client (the master's link has no user). Failed
    before: those filters reached only the workers' clients (2 1 0 1 1 1 1 here were 1 0 0 0 0
    0 0)."""
    got = {kind: _kill_links_script(_node(servers, kind), _node(servers, kind)) for kind in ("redis", "shoal")}
    assert got["shoal"] == got["redis"] == [2, 1, 0, 1, 1, 1, 1], got
