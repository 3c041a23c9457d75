"""A fresh cluster-enabled node: what it reports before it owns any slot.

Expected bytes were taken from redis-server 7.0.15 (docs/clients.md
§3.1-3.3, §2.3, §5.1). Must never weaken an expectation to match our node.
"""
import re
import socket
import time

import pytest

import helpers as h

FRESH_INFO_FIELDS = [
    ("cluster_state", "fail"),
    ("cluster_slots_assigned", "0"),
    ("cluster_slots_ok", "0"),
    ("cluster_slots_pfail", "0"),
    ("cluster_slots_fail", "0"),
    ("cluster_known_nodes", "1"),
    ("cluster_size", "0"),
    ("cluster_current_epoch", "0"),
    ("cluster_my_epoch", "0"),
    ("cluster_stats_messages_sent", "0"),
    ("cluster_stats_messages_received", "0"),
    ("total_cluster_links_buffer_limit_exceeded", "0"),
]
FRESH_INFO_BODY = "".join(f"{k}:{v}\r\n" for k, v in FRESH_INFO_FIELDS).encode()


def test_ready_line_is_logged_in_redis_format(node):
    lines = [ln for ln in node.output().splitlines() if h.READY_LINE in ln]
    assert lines, node.output()
    # pid:role dd Mon yyyy hh:mm:ss.mmm <level> message, as redis-server writes it
    assert re.fullmatch(r"%d:[MCSX] \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] "
                        r"Ready to accept connections.*" % node.pid, lines[0]), lines[0]


def test_cluster_info_of_fresh_node(node):
    with node.raw() as c:
        # redis-server keeps cluster_size at its initial value for the 2 s startup grace
        # and reports 0 afterwards; accept either timing but require the final value.
        h.wait_until(lambda: h.cluster_info(c).get("cluster_size") == "0", 6,
                     what="cluster_size:0")
        raw, v = c.req("CLUSTER", "INFO")
        assert isinstance(v, bytes), raw
        lines = v.split(b"\r\n")
        assert lines[-1] == b"", "every line must end with CRLF"
        assert [ln.split(b":")[0].decode() for ln in lines[:-1]] == [k for k, _ in FRESH_INFO_FIELDS]
        assert v == FRESH_INFO_BODY
        assert raw == b"$%d\r\n%s\r\n" % (len(FRESH_INFO_BODY), FRESH_INFO_BODY)
        assert len(FRESH_INFO_BODY) == 306


def test_cluster_nodes_and_myid_of_fresh_node(node):
    with node.raw() as c:
        text = c.call("CLUSTER", "NODES")
        assert isinstance(text, bytes)
        assert text.endswith(b"\n") and not text.endswith(b"\r\n")
        lines = text.decode().split("\n")[:-1]
        assert len(lines) == 1, text
        m = re.fullmatch(r"([0-9a-f]{40}) :(\d+)@(\d+) myself,master - 0 0 0 connected", lines[0])
        assert m, lines[0]
        assert int(m.group(2)) == node.port
        assert int(m.group(3)) == node.port + 10000
        myid = c.call("CLUSTER", "MYID")
        assert myid == m.group(1).encode()
        assert c.raw("CLUSTER", "MYID") == b"$40\r\n" + myid + b"\r\n"


def test_two_fresh_nodes_have_different_ids(servers):
    a, b = servers.shoal(), servers.shoal()
    with a.raw() as ca, b.raw() as cb:
        ida, idb = ca.call("CLUSTER", "MYID"), cb.call("CLUSTER", "MYID")
    assert re.fullmatch(rb"[0-9a-f]{40}", ida) and re.fullmatch(rb"[0-9a-f]{40}", idb)
    assert ida != idb


def test_keyed_commands_get_hash_slot_not_served(node):
    err = b"-CLUSTERDOWN Hash slot not served\r\n"
    with node.raw() as c:
        assert c.raw("GET", "foo") == err
        assert c.raw("SET", "foo", "bar") == err
        assert c.raw("DEL", "a") == err
        assert c.raw("MGET", "{t}a", "{t}b") == err
        assert c.raw("INCR", "counter") == err
        assert c.raw("EXISTS", "") == err
        assert c.raw("TTL", "x") == err
        # a connection keeps working after the errors
        assert c.raw("PING") == b"+PONG\r\n"


def test_keyless_commands_work_without_slots(node):
    with node.raw() as c:
        assert c.raw("PING") == b"+PONG\r\n"
        assert c.raw("PING", "hello") == b"$5\r\nhello\r\n"
        assert c.raw("ECHO", "hi there") == b"$8\r\nhi there\r\n"
        assert c.raw("DBSIZE") == b":0\r\n"
        assert c.raw("INFO", "cluster") == b"$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n"
        info = c.call("INFO")
        assert isinstance(info, bytes)
        d = h.info_dict(info)
        assert d["cluster_enabled"] == "1"
        assert d["redis_mode"] == "cluster"
        assert c.raw("KEYS", "*") == b"*0\r\n"
        assert c.raw("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
        assert c.raw("RANDOMKEY") == b"$-1\r\n"
        assert c.raw("CLUSTER", "SLOTS") == b"*0\r\n"
        assert c.raw("CLUSTER", "KEYSLOT", "foo") == b":12182\r\n"


def test_fresh_node_writes_nodes_conf(node):
    with node.raw() as c:
        myid = c.call("CLUSTER", "MYID").decode()
    conf = h.wait_until(lambda: node.nodes_conf.exists() and node.nodes_conf.read_text(), 5,
                        what="nodes.conf to be written")
    lines = [ln for ln in conf.split("\n") if ln]
    mine = [ln for ln in lines if "myself" in ln]
    assert len(mine) == 1 and mine[0].startswith(myid + " "), conf
    assert re.fullmatch(r"[0-9a-f]{40} \S+ myself,master - 0 0 0 connected", mine[0]), conf
    assert lines[-1] == "vars currentEpoch 0 lastVoteEpoch 0", conf


def _first_reply_sees_ready(srv, timeout=20.0):
    """Connects as soon as the port accepts (the kernel queues us until the node serves),
    sends PING and, the moment PONG arrives, reads the log: True if the Ready line was
    already in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert srv.alive(), srv.log_tail()
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
        except OSError:
            time.sleep(0.001)
            continue
        with s:
            s.sendall(b"PING\r\n")
            assert s.recv(64) == b"+PONG\r\n"
            return h.READY_LINE in srv.output()
    raise AssertionError("the node never answered PING:\n" + srv.log_tail())


@pytest.mark.parametrize("kind", ["shoal", "redis"])
def test_ready_is_logged_before_the_first_reply(servers, kind):
    # redis-server 7.0.15 logs "Ready to accept connections" before its event loop runs,
    # so a client whose PING is answered finds the line in the log already (harnesses
    # wait for either). 25 starts, as the gap it guards against is short.
    for _ in range(25):
        srv = servers.shoal(start=False) if kind == "shoal" else servers.redis(start=False)
        srv.spawn()
        assert _first_reply_sees_ready(srv), srv.output()
        assert srv.stop()[0] != "killed"
