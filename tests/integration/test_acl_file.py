"""ACL users from files and across replication (issue 16), side by side with redis-server
7.0.15: the aclfile loaded at startup, written by ACL SAVE and read back by ACL LOAD (which
closes the connections of every user but default), the errors naming file and line for a
bad file (at startup and from ACL LOAD), `user` lines in the config file and their errors,
and a replica that authenticates to its master as `masteruser`.
"""
import re

import pytest

import helpers as h

GOOD = ("user default on nopass ~* &* +@all\n"
        "user alice on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 ~k* resetchannels "
        "-@all +get +set\n"
        "user bob off resetchannels -@all\n")
BAD = ("user default on nopass ~* &* +@all\n"
       "user bad on +nosuch ~x\n"
       "user a on >p bogus\n"
       "foo bar\n"
       "\n"
       "user c on >p\n"
       "user c off\n"
       "user d on %X~k #abc\n")


def standalone(servers, kind, args=(), config_file=None, start=True):
    mk = servers.shoal if kind == "shoal" else servers.redis
    return mk(extra_args=list(args), base_args="standalone", config_file=config_file, start=start)


def test_aclfile_load_save_round_trip(servers, tmp_path):
    got = {}
    for kind in ("shoal", "redis"):
        path = tmp_path / f"{kind}.acl"
        path.write_text(GOOD)
        srv = standalone(servers, kind, ["--aclfile", str(path)])
        out = []
        with srv.raw() as c, srv.raw() as alice:
            out.append([norm(x) for x in c.call("ACL", "LIST")])
            out.append(alice.raw("AUTH", "alice", "p"))
            out.append(alice.raw("SET", "k1", "v"))
            out.append(c.raw("ACL", "SETUSER", "carol", "on", ">pc", "~c*", "&ch", "+@hash", "(+get ~x)"))
            out.append(c.raw("ACL", "DELUSER", "bob"))
            out.append(c.raw("ACL", "SAVE"))
            out.append([norm(x.encode()) for x in path.read_text().splitlines()])
            # ACL LOAD: the file wins again, and alice's connection is closed
            path.write_text(GOOD.replace("+get +set", "+get"))
            out.append(c.raw("ACL", "LOAD"))
            out.append(alice.is_closed(3.0))
            out.append([norm(x) for x in c.call("ACL", "LIST")])
            out.append(c.raw("ACL", "WHOAMI"))
            # a bad file changes nothing and names file and line
            path.write_text(BAD)
            err = c.raw("ACL", "LOAD")
            out.append(err.replace(str(path).encode(), b"FILE"))
            out.append([norm(x) for x in c.call("ACL", "LIST")])
            path.unlink()
            out.append(c.raw("ACL", "LOAD").replace(str(path).encode(), b"FILE"))
        got[kind] = out
    assert got["shoal"] == got["redis"]
    assert got["shoal"][8] is True


def _fatal_text(srv):
    """The reason a server gave for not starting: its last log lines, without pids and times."""
    srv.popen.wait(timeout=10)
    lines = [re.sub(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ . ", "", ln) for ln in srv.output().splitlines()]
    keep = [ln for ln in lines if re.search(r"ACL|user|Error|>>>|line \d", ln) and "overcommit" not in ln
            and "FATAL CONFIG" not in ln]
    return [re.sub(r"line (\d+).*", r"line \1", ln) for ln in keep]


@pytest.mark.parametrize("case", ["bad_aclfile", "dup_user", "bad_rule", "unknown_cmd", "both"])
def test_startup_errors(servers, tmp_path, case):
    acl = tmp_path / "users.acl"
    acl.write_text(BAD if case == "bad_aclfile" else GOOD)
    conf = tmp_path / "node.conf"
    conf.write_text({"bad_aclfile": "", "dup_user": "user u1 on >p +get\nuser u1 off\n",
                     "bad_rule": "user u1 on bogus\n", "unknown_cmd": "user u1 on >p +nosuchcmd\n",
                     "both": "user u1 on >p\n"}[case])
    args = ["--aclfile", str(acl)] if case in ("bad_aclfile", "both") else []
    got = {}
    for kind in ("shoal", "redis"):
        srv = standalone(servers, kind, args, config_file=conf, start=False)
        srv.spawn()
        srv.expected_exit = True
        got[kind] = _fatal_text(srv)
        assert srv.popen.returncode == 1
    assert got["shoal"] == got["redis"] and got["shoal"], got


def test_config_user_lines(servers, tmp_path):
    conf = tmp_path / "node.conf"
    conf.write_text("user default on >dpw ~* &* +@all\nuser ro on >r ~* -@all +@read\n")
    got = {}
    for kind in ("shoal", "redis"):
        srv = standalone(servers, kind, config_file=conf)
        out = []
        with srv.raw() as c:
            out.append(c.raw("PING"))
            out.append(c.raw("AUTH", "ro", "r"))
            out.append(c.raw("GET", "x"))
            out.append(c.raw("SET", "x", "1"))
            out.append(c.raw("AUTH", "dpw"))
            out.append([norm(x) for x in c.call("ACL", "LIST")])
        got[kind] = out
    assert got["shoal"] == got["redis"]


def norm(line):
    words = line.decode().split()
    return [w for w in words if w[:1] not in "+-" or w[1:2] == "@"], sorted(w for w in words
                                                                            if w[:1] in "+-" and w[1:2] != "@")


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "shoal"), ("redis", "shoal"), ("shoal", "redis")])
def test_replica_authenticates_as_masteruser(servers, master_kind, replica_kind):
    master = standalone(servers, master_kind, ["--requirepass", "adminpw"])
    with master.raw() as c:
        assert c.call("AUTH", "adminpw") == "OK"
        assert c.call("ACL", "SETUSER", "repl", "on", ">rp", "-@all", "+psync", "+replconf", "+ping") == "OK"
        assert c.call("SET", "before", "1") == "OK"
    replica = standalone(servers, replica_kind, ["--masteruser", "repl", "--masterauth", "rp"])
    with replica.raw() as r:
        assert r.call("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        h.wait_until(lambda: b"master_link_status:up" in r.call("INFO", "replication"), 30,
                     what="replica link up as masteruser")
        with master.raw() as c:
            c.call("AUTH", "adminpw")
            assert c.call("SET", "after", "2") == "OK"
            users = [ln.split(" user=")[1].split()[0] for ln in c.call("CLIENT", "LIST").decode().splitlines()
                     if "flags=S" in ln]
            assert users == ["repl"]
        h.wait_until(lambda: r.call("GET", "after") == b"2" and r.call("GET", "before") == b"1", 15,
                     what="data replicated")
    # a wrong masteruser password: the link stays down and the master logs the failed AUTH
    with master.raw() as c:
        c.call("AUTH", "adminpw")
        c.call("ACL", "LOG", "RESET")
        assert c.call("ACL", "SETUSER", "repl", "resetpass", ">other") == "OK"
        c.call("CLIENT", "KILL", "TYPE", "replica")
        h.wait_until(lambda: any(dict(zip(e[::2], e[1::2]))[b"username"] == b"repl"
                                 for e in c.call("ACL", "LOG")), 20, what="failed AUTH logged")
    with replica.raw() as r:
        assert b"master_link_status:down" in r.call("INFO", "replication")


def test_config_rewrite_writes_users(servers, tmp_path):
    got = {}
    for kind in ("shoal", "redis"):
        conf = tmp_path / f"{kind}.conf"
        conf.write_text("user old on >x ~* +@all\nuser default on nopass ~* &* +@all\n")
        srv = standalone(servers, kind, config_file=conf)
        with srv.raw() as c:
            assert c.call("ACL", "DELUSER", "old") == 1
            assert c.call("ACL", "SETUSER", "new", "on", ">np", "~n*", "&c", "+@list", "-lpush") == "OK"
            assert c.call("CONFIG", "REWRITE") == "OK"
        lines = [ln for ln in conf.read_text().splitlines() if ln.startswith("user ")]
        got[kind] = [norm(ln.encode()) for ln in lines]
    assert got["shoal"] == got["redis"]
    assert len(got["shoal"]) == 2
