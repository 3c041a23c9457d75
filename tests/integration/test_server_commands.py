"""Server and connection commands: HELLO, AUTH, SELECT, CLIENT, COMMAND, INFO,
CONFIG, MULTI/EXEC/WATCH, DEBUG, TIME, LASTSAVE.

Where replies are deterministic, the same commands go to a real redis-server
7.0.15 started the same way and the bytes must be identical. Never weaken an
expectation to match our node.
"""
import re
import time

import helpers as h


def _same(node, ref, cmds, conn_setup=()):
    with node.raw() as c, ref.raw() as r:
        for args in conn_setup:
            c.call(*args)
            r.call(*args)
        for args in cmds:
            e, g = r.raw(*args), c.raw(*args)
            assert g == e, f"{args}: redis {e[:300]!r}, shoal {g[:300]!r}"


# --- PING / ECHO / HELLO -------------------------------------------------------

def test_ping_echo(node, ref):
    _same(node, ref, [("PING",), ("PING", "x"), ("PING", "a", "b"), ("ECHO", "hello world"),
                      ("ECHO", ""), ("ECHO",), ("ECHO", "a", "b"), ("ping",), ("PiNg", "\x00\xff")])


def test_hello_3_and_2(node):
    with node.raw() as c:
        cid = c.call("CLIENT", "ID")
        assert isinstance(cid, int) and cid > 0
        body = (b"$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
                b"$5\r\nproto\r\n:%d\r\n$2\r\nid\r\n:" + str(cid).encode() + b"\r\n"
                b"$4\r\nmode\r\n$7\r\ncluster\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
        assert c.raw("HELLO", "3") == b"%7\r\n" + body % 3
        # the connection now speaks RESP3
        assert c.raw("INFO", "cluster") == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:1\r\n\r\n"
        info = c.call("INFO")
        assert isinstance(info, h.Verbatim) and info.fmt == "txt"
        assert info.data.startswith(b"# Server\r\n")
        assert c.raw("GET", "x") == b"-CLUSTERDOWN Hash slot not served\r\n"
        assert c.raw("CLIENT", "GETNAME") == b"_\r\n"
        assert c.raw("HELLO", "2") == b"*14\r\n" + body % 2
        assert c.raw("INFO", "cluster") == b"$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n"
        assert c.raw("CLIENT", "GETNAME") == b"$-1\r\n"


def test_hello_errors_and_options(node, ref):
    _same(node, ref, [("HELLO", "4"), ("HELLO", "1"), ("HELLO", "x"), ("HELLO", "3", "BOGUS"),
                      ("HELLO", "3", "AUTH", "default"), ("HELLO", "3", "SETNAME", "a b"),
                      ("CLIENT", "GETNAME"), ("PING",)])
    with node.raw() as c:
        v = c.call("HELLO", "2", "SETNAME", "myname")
        assert isinstance(v, list) and v[0] == b"server" and v[1] == b"redis"
        assert c.raw("CLIENT", "GETNAME") == b"$6\r\nmyname\r\n"
        v = c.call("HELLO")
        assert isinstance(v, list) and v[4:6] == [b"proto", 2]


# --- SELECT / AUTH --------------------------------------------------------------

def test_select(node, ref):
    _same(node, ref, [("SELECT", "0"), ("SELECT", "1"), ("SELECT", "15"), ("SELECT", "-1"),
                      ("SELECT", "abc"), ("SELECT",), ("SELECT", "0", "1"), ("PING",)])


def test_auth_without_password(node, ref):
    _same(node, ref, [("AUTH", "x"), ("AUTH", "default", "x"), ("AUTH", "a", "b", "c"), ("AUTH",),
                      ("PING",)])


def test_auth_with_requirepass(servers):
    node = servers.shoal(extra_args=["--requirepass", "s3cret"])
    ref = servers.redis(extra_args=["--requirepass", "s3cret"])
    _same(node, ref, [
        ("PING",), ("GET", "x"), ("SET", "x", "1"), ("CLUSTER", "INFO"), ("INFO",), ("FOO",),
        ("HELLO", "3"), ("HELLO", "2", "AUTH", "default", "wrong"),
        ("AUTH", "wrong"), ("AUTH", "default", "wrong"), ("AUTH", "nosuchuser", "s3cret"),
        ("AUTH", "x", "y", "z"), ("PING",),
        ("AUTH", "s3cret"), ("PING",), ("GET", "x"), ("AUTH", "default", "s3cret"),
        ("AUTH", "wrong"), ("PING",),
    ])
    # HELLO ... AUTH authenticates and switches protocol at once
    with node.raw() as c:
        v = c.call("HELLO", "3", "AUTH", "default", "s3cret")
        assert isinstance(v, h.Map), v
        d = dict(v)
        assert d[b"proto"] == 3 and d[b"mode"] == b"cluster" and d[b"version"] == b"7.0.15"
        assert c.raw("PING") == b"+PONG\r\n"
    # other connections are unaffected by one connection's failures
    with node.raw() as c:
        assert c.raw("PING") == b"-NOAUTH Authentication required.\r\n"
        assert c.raw("AUTH", "s3cret") == b"+OK\r\n"
        assert c.raw("CLUSTER", "KEYSLOT", "foo") == b":12182\r\n"
    # redis-py with a password
    r = node.client(password="s3cret")
    try:
        assert r.ping() is True
    finally:
        r.close()


# --- CLIENT ---------------------------------------------------------------------

CLIENT_LIST_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub",
                      "psub", "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs",
                      "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "redir",
                      "resp"]


def _client_line(text):
    assert text.endswith("\n"), text
    fields = []
    for item in text.rstrip("\n").split(" "):
        k, _, v = item.partition("=")
        fields.append((k, v))
    return fields


def test_client_id_setname_getname_list_info(node):
    with node.raw() as c, node.raw() as other:
        cid = c.call("CLIENT", "ID")
        oid = other.call("CLIENT", "ID")
        assert isinstance(cid, int) and isinstance(oid, int) and cid != oid
        assert c.raw("CLIENT", "GETNAME") == b"$-1\r\n"
        assert c.raw("CLIENT", "SETNAME", "worker-1") == b"+OK\r\n"
        assert c.raw("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"
        bad = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        assert c.raw("CLIENT", "SETNAME", "a b") == bad
        assert c.raw("CLIENT", "SETNAME", "a\nb") == bad
        assert c.raw("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"

        info = c.call("CLIENT", "INFO").decode()
        fields = _client_line(info)
        assert [k for k, _ in fields] == CLIENT_LIST_FIELDS, info
        d = dict(fields)
        host, port = c.sock.getsockname()
        assert d["id"] == str(cid)
        assert d["addr"] == f"{host}:{port}"
        assert d["laddr"] == f"127.0.0.1:{node.port}"
        assert d["name"] == "worker-1"
        assert d["db"] == "0" and d["multi"] == "-1" and d["flags"] == "N"
        assert d["cmd"] == "client|info" and d["user"] == "default" and d["resp"] == "2"

        text = c.call("CLIENT", "LIST").decode()
        lines = [ln + "\n" for ln in text.split("\n") if ln]
        assert len(lines) == 2, text
        by_id = {dict(_client_line(ln))["id"]: dict(_client_line(ln)) for ln in lines}
        assert set(by_id) == {str(cid), str(oid)}
        assert by_id[str(cid)]["cmd"] == "client|list"
        assert by_id[str(oid)]["cmd"] == "client|id"
        assert by_id[str(oid)]["name"] == ""
        for ln in lines:
            assert [k for k, _ in _client_line(ln)] == CLIENT_LIST_FIELDS
        one = c.call("CLIENT", "LIST", "ID", str(oid)).decode()
        assert dict(_client_line(one))["id"] == str(oid) and one.count("\n") == 1

        assert c.raw("CLIENT", "SETNAME", "") == b"+OK\r\n"
        assert c.raw("CLIENT", "GETNAME") == b"$-1\r\n"


def test_client_errors_match_redis(node, ref):
    _same(node, ref, [("CLIENT",), ("CLIENT", "FOO"), ("CLIENT", "GETNAME", "x"),
                      ("CLIENT", "SETNAME"), ("CLIENT", "ID", "x"), ("CLIENT", "KILL"),
                      ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "99999"),
                      ("CLIENT", "KILL", "ID", "abc"), ("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
                      ("CLIENT", "KILL", "BOGUS", "1"), ("CLIENT", "LIST", "BOGUS"),
                      ("PING",)])


def test_client_kill_forms(node):
    with node.raw() as killer, node.raw() as a, node.raw() as b, node.raw() as d, \
            node.raw() as bystander:
        aid = a.call("CLIENT", "ID")
        assert killer.raw("CLIENT", "KILL", "ID", str(aid)) == b":1\r\n"
        assert a.is_closed(), "CLIENT KILL ID did not close the connection"

        bhost, bport = b.sock.getsockname()
        assert killer.raw("CLIENT", "KILL", "ADDR", f"{bhost}:{bport}") == b":1\r\n"
        assert b.is_closed(), "CLIENT KILL ADDR did not close the connection"

        dhost, dport = d.sock.getsockname()
        assert killer.raw("CLIENT", "KILL", f"{dhost}:{dport}") == b"+OK\r\n"
        assert d.is_closed(), "CLIENT KILL ip:port did not close the connection"

        assert killer.raw("CLIENT", "KILL", "ID", str(aid)) == b":0\r\n"
        assert killer.raw("CLIENT", "KILL", f"{dhost}:{dport}") == b"-ERR No such client\r\n"
        assert bystander.raw("PING") == b"+PONG\r\n"
        assert killer.raw("PING") == b"+PONG\r\n"
        text = killer.call("CLIENT", "LIST").decode()
        assert text.count("\n") == 2, text


# --- COMMAND --------------------------------------------------------------------

REQUIRED_COMMANDS = [
    "get", "set", "del", "unlink", "exists", "touch", "type", "expire", "pexpire", "expireat",
    "pexpireat", "expiretime", "pexpiretime", "ttl", "pttl", "persist", "rename", "renamenx",
    "mset", "msetnx", "mget", "incr", "incrby", "decr", "decrby", "incrbyfloat", "append", "strlen",
    "getrange", "setrange", "getex", "getset", "getdel", "setnx", "setex", "psetex", "scan", "keys",
    "randomkey", "dbsize", "flushall", "flushdb", "ping", "echo", "hello", "auth", "select",
    "client", "command", "info", "config", "cluster", "multi", "exec", "discard", "watch",
    "unwatch", "debug", "time", "lastsave", "shutdown", "asking", "readonly", "readwrite", "quit",
]


def _cmd_entries(conn, names):
    reply = conn.call("COMMAND", "INFO", *names)
    assert isinstance(reply, list) and len(reply) == len(names), reply
    return dict(zip(names, reply))


def test_command_count_and_info_match_redis(node, ref):
    with node.raw(timeout=10) as c, ref.raw(timeout=10) as r:
        table = c.call("COMMAND")
        assert isinstance(table, list) and table
        assert c.call("COMMAND", "COUNT") == len(table)
        served = sorted(e[0].decode() for e in table)
        missing = [n for n in REQUIRED_COMMANDS if n not in served]
        assert not missing, f"COMMAND does not list: {missing}"
        ref_names = {e[0].decode() for e in r.call("COMMAND")}
        unknown = [n for n in served if n not in ref_names]
        assert not unknown, f"COMMAND lists commands redis 7.0.15 does not have: {unknown}"

        mine, theirs = _cmd_entries(c, served), _cmd_entries(r, served)
        for name in served:
            m, t = mine[name], theirs[name]
            assert m[:9] == t[:9], f"COMMAND INFO {name}: shoal {m[:9]!r} redis {t[:9]!r}"
            assert len(m) == 10
            ref_subs = {s[0]: s for s in t[9]}
            for sub in m[9]:
                assert sub[0] in ref_subs, f"{name}: unknown subcommand {sub[0]!r}"
                assert sub == ref_subs[sub[0]], f"COMMAND INFO {sub[0]!r} differs"
        # exact bytes for the command redis-py needs most
        assert c.raw("COMMAND", "INFO", "get") == r.raw("COMMAND", "INFO", "get")
        assert c.raw("COMMAND", "INFO", "nosuchcmd") == b"*1\r\n$-1\r\n"


def test_command_getkeys(node, ref):
    with node.raw() as c:
        assert c.raw("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == \
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    _same(node, ref, [
        ("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"), ("COMMAND", "GETKEYS", "GET", "k"),
        ("COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10"), ("COMMAND", "GETKEYS", "DEL", "a", "b"),
        ("COMMAND", "GETKEYS", "RENAME", "a", "b"), ("COMMAND", "GETKEYS", "PING", "x"),
        ("COMMAND", "GETKEYS", "FOO", "x"), ("COMMAND", "GETKEYS", "SET", "a"),
        ("COMMAND", "GETKEYS", "GET"), ("COMMAND", "GETKEYS"), ("COMMAND", "COUNT", "x"),
        ("COMMAND", "FOO"),
    ])


# --- INFO -----------------------------------------------------------------------

def _headers(text):
    return [ln for ln in text.split("\r\n") if ln.startswith("#")]


def test_info_sections(node, ref):
    with node.raw() as c, ref.raw() as r:
        text = c.call("INFO").decode()
        assert not text.endswith("\r\n\r\n") and text.endswith("\r\n")
        assert _headers(text) == _headers(r.call("INFO").decode())
        assert _headers(text) == ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
                                  "# Replication", "# CPU", "# Modules", "# Errorstats",
                                  "# Cluster", "# Keyspace"]
        for chunk in text.split("\r\n\r\n"):
            for ln in chunk.split("\r\n")[1:]:
                if ln:
                    assert re.fullmatch(r"[a-z0-9_|]+:[^\r\n]*", ln), ln
        d = h.info_dict(text)
        assert d["redis_version"] == "7.0.15"
        assert d["redis_mode"] == "cluster"
        assert d["tcp_port"] == str(node.port)
        assert d["process_id"] == str(node.pid)
        assert re.fullmatch(r"[0-9a-f]{40}", d["run_id"])
        assert d["cluster_enabled"] == "1"
        assert d["role"] == "master"
        assert d["connected_slaves"] == "0"
        assert re.fullmatch(r"[0-9a-f]{40}", d["master_replid"])
        assert d["connected_clients"] == "1"
        assert d["cluster_connections"] == "0"
        assert int(d["total_connections_received"]) >= 1
        assert int(d["total_commands_processed"]) >= 1
        for f in ("uptime_in_seconds", "used_memory", "keyspace_hits", "keyspace_misses",
                  "expired_keys", "evicted_keys", "instantaneous_ops_per_sec",
                  "total_error_replies", "master_repl_offset"):
            assert f in d, f

        server_fields = [ln.split(":")[0] for ln in c.call("INFO", "server").decode().split("\r\n")[1:] if ln]
        ref_fields = [ln.split(":")[0] for ln in r.call("INFO", "server").decode().split("\r\n")[1:] if ln]
        # Redis's fields in Redis's order; shoal may add its own, prefixed "shoal_"
        assert [f for f in server_fields if not f.startswith("shoal_")] == ref_fields

        assert c.raw("INFO", "cluster") == b"$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n"
        assert c.raw("INFO", "keyspace") == b"$12\r\n# Keyspace\r\n\r\n"
        assert c.raw("INFO", "nosuchsection") == b"$0\r\n\r\n"
        assert c.raw("INFO", "CLUSTER", "keyspace") == \
            b"$44\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n# Keyspace\r\n\r\n"
        assert _headers(c.call("INFO", "all").decode()) == _headers(r.call("INFO", "all").decode())


def test_info_keyspace_and_stats_with_keys(snode, sref):
    for srv in (snode, sref):
        with srv.raw() as c:
            assert c.raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
            c.call("GET", "missing")
            c.call("SET", "a", "1")
            c.call("SET", "b", "2", "EX", "1000")
            c.call("GET", "a")
            c.call("GET", "a")
    with snode.raw() as c, sref.raw() as r:
        ks = c.call("INFO", "keyspace").decode()
        assert re.fullmatch(r"# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\n", ks), ks
        stats, rstats = h.info_dict(c.call("INFO", "stats")), h.info_dict(r.call("INFO", "stats"))
        assert stats["keyspace_hits"] == rstats["keyspace_hits"] == "2"
        assert stats["keyspace_misses"] == rstats["keyspace_misses"] == "1"
        assert [k for k in stats] == [k for k in rstats], "# Stats fields differ from 7.0.15"


def test_errorstats_and_resetstat(node, ref):
    seq = [("GET", "x"), ("FOO", "a"), ("GET",), ("SELECT", "1"), ("CLUSTER", "NOPE"),
           ("MGET", "a", "b"), ("SET", "k", "v")]
    for srv in (node, ref):
        with srv.raw() as c:
            assert c.raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
            for args in seq:
                assert isinstance(c.call(*args), h.Error), args
    with node.raw() as c, ref.raw() as r:
        mine = c.raw("INFO", "errorstats")
        assert mine == r.raw("INFO", "errorstats")
        # MGET a b on a node without slots: the first key's slot check comes first
        assert mine == (b"$68\r\n# Errorstats\r\nerrorstat_CLUSTERDOWN:count=3\r\n"
                        b"errorstat_ERR:count=4\r\n\r\n")
        assert h.info_dict(c.call("INFO", "stats"))["total_error_replies"] == "7"
        assert c.raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
        assert r.raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
        assert c.raw("INFO", "errorstats") == r.raw("INFO", "errorstats")
        assert h.info_dict(c.call("INFO", "stats"))["total_error_replies"] == "0"


def _cmdstats(conn):
    out = {}
    for ln in conn.call("INFO", "commandstats").decode().split("\r\n")[1:]:
        if not ln:
            continue
        m = re.fullmatch(r"cmdstat_([a-z|\-]+):calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),"
                         r"rejected_calls=(\d+),failed_calls=(\d+)", ln)
        assert m, ln
        out[m.group(1)] = (int(m.group(2)), int(m.group(5)), int(m.group(6)))
    return out


def test_commandstats(snode, sref):
    seq = [("GET", "a"), ("SET", "a", "1"), ("GET", "a"), ("GET", "a", "b"), ("INCR", "a"),
           ("SET", "s", "x"), ("INCR", "s"), ("MGET", "a", "b"), ("CLUSTER", "KEYSLOT", "a"),
           ("CLUSTER", "NODES", "x"), ("PING",), ("NOSUCH",)]
    stats = []
    for srv in (snode, sref):
        with srv.raw() as c:
            assert c.raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
            for args in seq:
                c.call(*args)
            stats.append(_cmdstats(c))
    mine, theirs = stats
    assert mine == theirs
    assert mine["get"] == (2, 1, 0)
    assert mine["set"] == (2, 0, 0)
    assert mine["incr"] == (2, 0, 1)
    assert mine["mget"] == (0, 1, 0)


# --- CONFIG ---------------------------------------------------------------------

def _config_dict(conn, *patterns):
    v = conn.call("CONFIG", "GET", *patterns)
    assert isinstance(v, list) and len(v) % 2 == 0, v
    return dict(zip(v[0::2], v[1::2]))


def test_config_get(node, ref):
    with node.raw() as c, ref.raw() as r:
        assert c.raw("CONFIG", "GET", "port") == b"*2\r\n$4\r\nport\r\n$5\r\n%d\r\n" % node.port
        assert c.raw("CONFIG", "GET", "cluster-node-timeout") == \
            b"*2\r\n$20\r\ncluster-node-timeout\r\n$4\r\n5000\r\n"
        mine, theirs = _config_dict(c, "cluster*"), _config_dict(r, "cluster*")
        assert len(theirs) == 20
        assert mine == theirs
        assert _config_dict(c, "port", "cluster-enabled") == \
            {b"port": str(node.port).encode(), b"cluster-enabled": b"yes"}
        assert c.raw("CONFIG", "GET", "nosuchparam") == b"*0\r\n"
        for p in ("save", "appendonly", "bind", "requirepass", "maxmemory", "dir"):
            assert set(_config_dict(c, p)) == set(_config_dict(r, p)), p
    _same(node, ref, [("CONFIG", "GET"), ("CONFIG",), ("CONFIG", "FOO"),
                      ("CONFIG", "SET", "cluster-node-timeout"),
                      ("CONFIG", "SET", "cluster-node-timeout", "abc"),
                      ("CONFIG", "SET", "nosuch", "1"),
                      ("CONFIG", "SET", "cluster-enabled", "no"),
                      ("CONFIG", "SET", "cluster-config-file", "other.conf"),
                      ("CONFIG", "SET", "cluster-port", "12345"),
                      ("CONFIG", "SET", "cluster-require-full-coverage", "maybe"),
                      ("CONFIG", "REWRITE"), ("CONFIG", "GET", "cluster-enabled")])


def test_config_set_then_get(node):
    with node.raw() as c:
        assert c.raw("CONFIG", "SET", "cluster-node-timeout", "7000") == b"+OK\r\n"
        assert c.raw("CONFIG", "GET", "cluster-node-timeout") == \
            b"*2\r\n$20\r\ncluster-node-timeout\r\n$4\r\n7000\r\n"
        assert c.raw("CONFIG", "SET", "cluster-require-full-coverage", "no") == b"+OK\r\n"
        assert _config_dict(c, "cluster-require-full-coverage") == \
            {b"cluster-require-full-coverage": b"no"}
        assert c.raw("CONFIG", "SET", "cluster-node-timeout", "8000",
                     "cluster-allow-reads-when-down", "yes") == b"+OK\r\n"
        assert _config_dict(c, "cluster-node-timeout", "cluster-allow-reads-when-down") == \
            {b"cluster-node-timeout": b"8000", b"cluster-allow-reads-when-down": b"yes"}
        # an invalid value leaves the old one
        assert isinstance(c.call("CONFIG", "SET", "cluster-node-timeout", "-5"), h.Error)
        assert _config_dict(c, "cluster-node-timeout") == {b"cluster-node-timeout": b"8000"}


def test_config_rewrite_survives_restart(servers, tmp_path):
    port = h.free_port()
    d = tmp_path / "rewrite"
    d.mkdir()
    conf = d / "shoal.conf"
    conf.write_text(f"# test config\nport {port}\nbind 127.0.0.1\ncluster-enabled yes\n"
                    f"cluster-config-file nodes.conf\ndir {d}\nlogfile \"\"\n"
                    f"cluster-node-timeout 5000\n")
    node = servers.shoal(config_file=conf, base_args=False, port=port, name="rewrite")
    with node.raw() as c:
        assert c.raw("CONFIG", "GET", "cluster-node-timeout") == \
            b"*2\r\n$20\r\ncluster-node-timeout\r\n$4\r\n5000\r\n"
        assert c.raw("CONFIG", "SET", "cluster-node-timeout", "12345") == b"+OK\r\n"
        assert c.raw("CONFIG", "REWRITE") == b"+OK\r\n"
        myid = c.call("CLUSTER", "MYID")
    text = conf.read_text()
    assert re.search(r"^cluster-node-timeout 12345$", text, re.M), text
    assert re.search(rf"^port {port}$", text, re.M), text
    rc, _ = node.stop()
    assert rc == 0
    node.start()
    with node.raw() as c:
        assert c.raw("CONFIG", "GET", "cluster-node-timeout") == \
            b"*2\r\n$20\r\ncluster-node-timeout\r\n$5\r\n12345\r\n"
        assert c.call("CLUSTER", "MYID") == myid


# --- MULTI / EXEC / WATCH -------------------------------------------------------

def test_multi_exec_same_as_redis(snode, sref):
    _same(snode, sref, [
        ("MULTI",), ("SET", "{t}a", "1"), ("INCR", "{t}b"), ("GET", "{t}a"), ("MGET", "{t}a", "{t}b"),
        ("EXEC",), ("GET", "{t}b"),
        ("MULTI",), ("MULTI",), ("SET", "{t}c", "x"), ("EXEC",), ("GET", "{t}c"),
        ("MULTI",), ("SET", "{t}d", "x"), ("DISCARD",), ("GET", "{t}d"), ("DISCARD",), ("EXEC",),
        ("MULTI",), ("GET",), ("SET", "{t}e", "x"), ("EXEC",), ("GET", "{t}e"),
        ("MULTI",), ("NOSUCHCMD",), ("EXEC",),
        ("MULTI",), ("SET", "{t}s", "abc"), ("INCR", "{t}s"), ("SET", "{t}f", "1"), ("EXEC",),
        ("GET", "{t}f"),
        # commands of different slots, each fine alone: refused as a whole at EXEC
        ("MULTI",), ("SET", "{a}1", "1"), ("SET", "{b}1", "1"), ("EXEC",), ("GET", "{a}1"),
        ("GET", "{b}1"),
        # a queued command whose own keys span slots: CROSSSLOT now, EXECABORT later
        ("MULTI",), ("MSET", "{a}x", "1", "{b}x", "2"), ("SET", "{a}y", "1"), ("EXEC",),
        ("GET", "{a}y"),
        ("MULTI",), ("WATCH", "{t}a"), ("EXEC",),
        ("MULTI",), ("EXEC",), ("EXEC",), ("WATCH",), ("UNWATCH",),
        ("MULTI",), ("CLUSTER", "KEYSLOT", "x"), ("PING",), ("EXEC",),
    ])
    with snode.raw() as c:
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("SET", "{a}1", "1") == b"+QUEUED\r\n"
        assert c.raw("SET", "{b}1", "1") == b"+QUEUED\r\n"
        assert c.raw("EXEC") == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("MGET", "a", "b") == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        assert c.raw("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        assert c.raw("PING") == b"+PONG\r\n"


def test_watch_detects_modification(snode):
    with snode.raw() as c, snode.raw() as other:
        assert c.raw("SET", "{w}k", "0") == b"+OK\r\n"
        assert c.raw("WATCH", "{w}k") == b"+OK\r\n"
        assert other.raw("SET", "{w}k", "changed") == b"+OK\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("SET", "{w}k", "mine") == b"+QUEUED\r\n"
        assert c.raw("EXEC") == b"*-1\r\n"
        assert c.raw("GET", "{w}k") == b"$7\r\nchanged\r\n"
        # without a modification the transaction runs; EXEC clears the watch
        assert c.raw("WATCH", "{w}k", "{w}j") == b"+OK\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("SET", "{w}k", "mine") == b"+QUEUED\r\n"
        assert c.raw("EXEC") == b"*1\r\n+OK\r\n"
        # watching a missing key that another client creates
        assert c.raw("WATCH", "{w}new") == b"+OK\r\n"
        assert other.raw("SET", "{w}new", "1") == b"+OK\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("GET", "{w}new") == b"+QUEUED\r\n"
        assert c.raw("EXEC") == b"*-1\r\n"
        # expiry of a watched key by another client's DEL
        assert c.raw("WATCH", "{w}k") == b"+OK\r\n"
        assert other.raw("DEL", "{w}k") == b":1\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("EXEC") == b"*-1\r\n"
        # UNWATCH forgets
        assert c.raw("WATCH", "{w}j") == b"+OK\r\n"
        assert other.raw("SET", "{w}j", "1") == b"+OK\r\n"
        assert c.raw("UNWATCH") == b"+OK\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("EXEC") == b"*0\r\n"
        # RESP3 null for an aborted EXEC
        c.call("HELLO", "3")
        assert c.raw("WATCH", "{w}j") == b"+OK\r\n"
        assert other.raw("SET", "{w}j", "2") == b"+OK\r\n"
        assert c.raw("MULTI") == b"+OK\r\n"
        assert c.raw("EXEC") == b"_\r\n"


# --- DEBUG / TIME / LASTSAVE / DBSIZE ---------------------------------------------

DEBUG_REFUSED = (b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                 b"\"local\", you can run it from a local connection, otherwise you need to set "
                 b"this option in the configuration file, and then restart the server.\r\n")


def test_debug_sleep(servers, node):
    with node.raw() as c:
        # refused with the default enable-debug-command (no), as redis-server does
        assert c.raw("DEBUG", "SLEEP", "0") == DEBUG_REFUSED
    dbg = servers.shoal(extra_args=["--enable-debug-command", "yes"])
    with dbg.raw() as c, dbg.raw() as other:
        assert c.raw("DEBUG", "SLEEP", "0") == b"+OK\r\n"
        t0 = time.monotonic()
        assert c.raw("DEBUG", "SLEEP", "0.3") == b"+OK\r\n"
        assert time.monotonic() - t0 >= 0.25
        assert other.raw("PING") == b"+PONG\r\n"


def test_time_lastsave_dbsize(node):
    with node.raw() as c:
        raw, v = c.req("TIME")
        assert isinstance(v, list) and len(v) == 2 and raw.startswith(b"*2\r\n$")
        sec, usec = int(v[0]), int(v[1])
        assert abs(sec + usec / 1e6 - time.time()) < 5
        assert 0 <= usec < 1_000_000
        last = c.call("LASTSAVE")
        assert isinstance(last, int) and 0 < last <= time.time() + 2
        assert c.raw("DBSIZE") == b":0\r\n"
        assert c.raw("DBSIZE", "x") == b"-ERR wrong number of arguments for 'dbsize' command\r\n"
        assert c.raw("TIME", "x") == b"-ERR wrong number of arguments for 'time' command\r\n"
        assert c.raw("LASTSAVE", "x") == b"-ERR wrong number of arguments for 'lastsave' command\r\n"


def test_asking_readonly_readwrite(node, ref):
    _same(node, ref, [("ASKING",), ("READONLY",), ("READWRITE",), ("ASKING", "x"),
                      ("READONLY", "x"), ("READWRITE", "x"), ("QUIT", "x")])
    with node.raw() as c:
        assert c.raw("QUIT") == b"+OK\r\n"
        assert c.is_closed()
