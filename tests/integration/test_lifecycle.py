"""Persistence and lifecycle: nodes.conf on SIGTERM and SHUTDOWN, restart with
the same identity, slots and epochs; startup refusals (bad config, corrupt or
shared nodes.conf).

The exit-time budget (2 s after SIGTERM, exit code 0) and the startup error
messages naming file, line and directive come from the issue; redis-server's
own messages (FATAL CONFIG FILE ERROR, at line N, >>> 'directive args', reason)
are the model. Must never stop a process it did not start.
"""
import re
import signal
import time

import pytest

import helpers as h


def _nodes_line(c):
    lines = [ln for ln in c.call("CLUSTER", "NODES").decode().split("\n") if ln]
    assert len(lines) == 1, lines
    return lines[0]


def _sigterm_and_time(node):
    t0 = time.monotonic()
    node.expected_exit = True
    node.signal(signal.SIGTERM)
    rc = node.wait_exit(5)
    elapsed = time.monotonic() - t0
    assert rc is not None, "node still running 5 s after SIGTERM"
    assert elapsed < 2.0, f"node took {elapsed:.2f}s to exit after SIGTERM"
    assert rc == 0, f"exit code {rc} after SIGTERM"
    return elapsed


def test_sigterm_saves_and_restart_restores(node):
    with node.raw() as c:
        me = c.call("CLUSTER", "MYID").decode()
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "7") == b"+OK\r\n"
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 7\r\n"
        before = _nodes_line(c)
    _sigterm_and_time(node)

    conf = node.nodes_conf.read_text()
    lines = [ln for ln in conf.split("\n") if ln]
    mine = [ln for ln in lines if ln.startswith(me + " ")]
    assert len(mine) == 1, conf
    assert re.fullmatch(re.escape(me) + r" \S*:%d@%d myself,master - 0 0 7 connected 0-16383"
                        % (node.port, node.port + 10000), mine[0]), conf
    assert lines[-1] == "vars currentEpoch 7 lastVoteEpoch 0", conf

    node.start()
    with node.raw() as c:
        assert c.call("CLUSTER", "MYID").decode() == me
        assert _nodes_line(c) == before
        info = h.cluster_info(c)
        assert info["cluster_current_epoch"] == "7"
        assert info["cluster_my_epoch"] == "7"
        assert info["cluster_slots_assigned"] == "16384"
        assert c.raw("CLUSTER", "SET-CONFIG-EPOCH", "9") == \
            b"-ERR Node config epoch is already non-zero\r\n"
    h.wait_cluster_ok(node)
    with node.raw() as c:
        assert c.raw("SET", "after-restart", "1") == b"+OK\r\n"


def test_bumped_epoch_and_scattered_slots_survive_restart(node):
    with node.raw() as c:
        me = c.call("CLUSTER", "MYID").decode()
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+BUMPED 1\r\n"
        assert c.raw("CLUSTER", "ADDSLOTSRANGE", "0", "99", "300", "400") == b"+OK\r\n"
        assert c.raw("CLUSTER", "ADDSLOTS", "200", "16383") == b"+OK\r\n"
        before = _nodes_line(c)
        assert before.split(" ")[8:] == ["0-99", "200", "300-400", "16383"]
    _sigterm_and_time(node)
    assert "vars currentEpoch 1 lastVoteEpoch 0" in node.nodes_conf.read_text()
    node.start()
    with node.raw() as c:
        assert c.call("CLUSTER", "MYID").decode() == me
        assert _nodes_line(c) == before
        info = h.cluster_info(c)
        assert (info["cluster_current_epoch"], info["cluster_my_epoch"]) == ("1", "1")
        assert info["cluster_slots_assigned"] == str(100 + 1 + 101 + 1)
        assert c.raw("CLUSTER", "BUMPEPOCH") == b"+STILL 1\r\n"


def test_identity_survives_restart_without_changes(node):
    with node.raw() as c:
        me = c.call("CLUSTER", "MYID")
    _sigterm_and_time(node)
    node.start()
    with node.raw() as c:
        assert c.call("CLUSTER", "MYID") == me
        assert c.call("CLUSTER", "NODES").decode().endswith(" myself,master - 0 0 0 connected\n")


def test_sigterm_with_busy_clients_exits_quickly(node):
    idle = [node.raw() for _ in range(20)]
    busy = node.raw()
    try:
        # a client with a half-sent request and one with unread pipelined replies
        idle[0].send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
        busy.send(b"".join(h.encode("SET", f"k{i}", "v" * 100) for i in range(2000)))
        _sigterm_and_time(node)
    finally:
        for c in idle + [busy]:
            c.close()


def test_shutdown_command_exits_and_saves(node):
    with node.raw() as c:
        me = c.call("CLUSTER", "MYID").decode()
        assert c.raw("CLUSTER", "ADDSLOTS", "1", "2", "3") == b"+OK\r\n"
        assert c.raw("SHUTDOWN", "BOGUS") == b"-ERR syntax error\r\n"
        node.expected_exit = True
        t0 = time.monotonic()
        out, closed = c.exchange(h.encode("SHUTDOWN"), idle=3, limit=5)
        assert closed, "SHUTDOWN did not close the connection"
        assert out == b"", f"SHUTDOWN replied {out!r} (redis closes without a reply)"
    rc = node.wait_exit(5)
    assert rc == 0, f"exit code {rc} after SHUTDOWN"
    assert time.monotonic() - t0 < 2.0
    conf = node.nodes_conf.read_text()
    mine = [ln for ln in conf.split("\n") if ln.startswith(me + " ")]
    assert len(mine) == 1 and mine[0].endswith(" connected 1-3"), conf
    node.start()
    with node.raw() as c:
        assert c.call("CLUSTER", "MYID").decode() == me
        assert _nodes_line(c).split(" ")[8:] == ["1-3"]


def test_shutdown_nosave_and_in_multi(node, ref):
    for srv in (node, ref):
        with srv.raw() as c:
            assert c.raw("MULTI") == b"+OK\r\n"
            assert c.raw("SHUTDOWN") == \
                b"-ERR Command not allowed inside a transaction\r\n"
            assert c.raw("DISCARD") == b"+OK\r\n"
    with node.raw() as c:
        node.expected_exit = True
        _, closed = c.exchange(h.encode("SHUTDOWN", "NOSAVE"), idle=3, limit=5)
        assert closed
    assert node.wait_exit(5) == 0


# --- startup refusals -------------------------------------------------------------

def _run_to_exit(srv, timeout=10):
    srv.spawn()
    srv.expected_exit = True
    rc = srv.wait_exit(timeout)
    if rc is None:
        srv.stop()
        pytest.fail(f"{srv.kind} kept running with a bad configuration:\n{srv.log_tail()}")
    return rc, srv.output()


def test_bad_directive_in_config_file(servers, tmp_path):
    conf = tmp_path / "bad-directive.conf"
    conf.write_text("# a comment\nbind 127.0.0.1\nbogus-directive 1 2\nport 20001\n")
    srv = servers.shoal(config_file=conf, base_args=False, start=False, name="baddir")
    rc, out = _run_to_exit(srv)
    assert rc != 0
    assert "FATAL CONFIG FILE ERROR" in out, out
    assert "at line 3" in out, out
    assert ">>> 'bogus-directive 1 2'" in out, out
    assert "Bad directive or wrong number of arguments" in out, out
    assert str(conf) in out or conf.name in out, f"the message must name the file:\n{out}"


def test_bad_value_in_config_file(servers, tmp_path):
    conf = tmp_path / "bad-value.conf"
    conf.write_text("cluster-enabled yes\nport abc\n")
    srv = servers.shoal(config_file=conf, base_args=False, start=False, name="badval")
    rc, out = _run_to_exit(srv)
    assert rc != 0
    assert "FATAL CONFIG FILE ERROR" in out, out
    assert "at line 2" in out, out
    assert ">>> 'port abc'" in out, out
    assert "argument couldn't be parsed into an integer" in out, out
    assert str(conf) in out or conf.name in out, f"the message must name the file:\n{out}"


@pytest.mark.parametrize("args,reason", [
    (["--port", "abc"], "argument couldn't be parsed into an integer"),
    (["--cluster-node-timeout", "-5"], "argument must be between 0 and 9223372036854775807 inclusive"),
    (["--no-such-option", "1"], "Bad directive or wrong number of arguments"),
    (["--cluster-enabled", "maybe"], "argument must be 'yes' or 'no'"),
])
def test_bad_command_line_option(servers, args, reason):
    srv = servers.shoal(extra_args=args, start=False)
    rc, out = _run_to_exit(srv)
    assert rc != 0
    assert "FATAL CONFIG FILE ERROR" in out, out
    assert args[0][2:] in out and args[1] in out, out
    assert reason in out, out


def test_missing_config_file(servers, tmp_path):
    missing = tmp_path / "does-not-exist.conf"
    srv = servers.shoal(config_file=missing, base_args=False, start=False, name="missing")
    rc, out = _run_to_exit(srv)
    assert rc != 0
    assert str(missing) in out, out


def test_corrupt_nodes_conf_refuses_to_start(servers):
    srv = servers.shoal(start=False)
    srv.dir.mkdir(parents=True, exist_ok=True)
    srv.nodes_conf.write_text(
        f"ba07d46312102108572e55ef00549f66107b425b :{srv.port}@{srv.port + 10000} "
        "myself,master - 0 0 1 connected 0-16383\n"
        "this is not a node line\n"
        "vars currentEpoch 1 lastVoteEpoch 0\n")
    rc, out = _run_to_exit(srv)
    assert rc != 0
    assert "nodes.conf" in out, f"the message must name the file:\n{out}"
    assert re.search(r"line\s*[:#]?\s*2\b|nodes\.conf:2\b", out, re.I), \
        f"the message must name line 2:\n{out}"
    # the file is left as it was: an operator must be able to inspect it
    assert "this is not a node line" in srv.nodes_conf.read_text()


def test_second_node_on_same_nodes_conf_is_refused(servers):
    first = servers.shoal()
    second = h.Server("shoal", h.free_port(), first.dir)
    servers.all.append(second)
    rc, out = _run_to_exit(second)
    assert rc != 0, "two nodes must not share one nodes.conf"
    assert "nodes.conf" in out, out
    assert first.ping_ok()
    with first.raw() as c:
        assert re.fullmatch(rb"[0-9a-f]{40}", c.call("CLUSTER", "MYID"))
