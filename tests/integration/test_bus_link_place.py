"""Bus links packed on few worker threads (actors/bus/link_place.c, docs/design.md §3.3):
new links go to the last worker while the bus does not keep it busy, and links move
between worker threads while idle without being closed, in plain text and over TLS,
with the light encoding between shoal peers on.

* a 3-master cluster of nodes with 2 workers: every node's 4 links are on worker-1
  (INFO threads `bus_links` lines), where they were dealt over both workers before;
* DEBUG BUSPLACEMENT SPREAD / PACK move links (INFO threads counts the moves): the
  moved links are the same connections (CLUSTER LINKS create-time unchanged: none was
  closed and reopened, so neither the TLS session nor the light dictionaries broke),
  gossip keeps flowing on them (PONGs received grow, light frames both ways), a node
  that joins afterwards meshes, and a killed master is marked FAIL by the others.

What it must never do: assert a timing (moves happen at the workers' crons, once a
second on a worker without clients: waits are generous), or signal a process it did
not start.
"""
import re
import time
import subprocess

import pytest

import bushelpers as bh
import helpers as h
import tlshelpers as t

WORKERS = ["--worker-threads", "2", "--enable-debug-command", "yes"]
BUS_LINKS = re.compile(r"^bus_links(\d+):name=worker-\d+,links=(\d+)$")
BUS_PLACEMENT = re.compile(r"^bus_placement:link_threads=(\d+),moves=(\d+)$")


def placement(n):
    """([links on worker 0, on worker 1], threads taking links, links moved) of node n."""
    with n.raw() as c:
        text = c.call("INFO", "threads").decode()
    counts, threads, moves = {}, None, None
    for line in text.splitlines():
        m = BUS_LINKS.match(line.strip())
        if m:
            counts[int(m.group(1))] = int(m.group(2))
        m = BUS_PLACEMENT.match(line.strip())
        if m:
            threads, moves = int(m.group(1)), int(m.group(2))
    return [counts.get(i) for i in range(2)], threads, moves


def link_births(n):
    """{(direction, peer): create-time} of node n's CLUSTER LINKS."""
    return {(l["direction"], l["node"]): l["create-time"] for l in bh.cluster_links(n)}


def stat(n, section, field):
    """A field of INFO <section>, or of CLUSTER INFO for section "cluster"."""
    if section == "cluster":
        return int(bh.cluster_info(n)[field])
    with n.raw() as c:
        return int(h.info_dict(c.call("INFO", section))[field])


def debug(n, mode):
    with n.raw() as c:
        assert c.call("DEBUG", "BUSPLACEMENT", mode) == "OK"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return t.make_pki(tmp_path_factory.mktemp("pki"))


def tls_node(servers, pki):
    tp = h.free_port()
    srv = servers.shoal(extra_args=t.server_args(pki, tp, extra=["--tls-cluster", "yes", "--cluster-node-timeout",
                                                                 "2000", *WORKERS]))
    srv.tls_port = tp
    return srv


def tls_cluster(servers, pki, n=3):
    nodes = [tls_node(servers, pki) for _ in range(n)]
    r = subprocess.run([h.REDIS_CLI, "-h", "127.0.0.1", "-p", str(nodes[0].tls_port), *t.cli_args(pki),
                        "--cluster", "create", *[f"127.0.0.1:{x.tls_port}" for x in nodes], "--cluster-yes"],
                       capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    bh.wait_healthy(nodes, n, timeout=30)
    return nodes


def test_new_links_are_packed_on_the_last_worker(servers):
    nodes = bh.start_cluster(servers, 3, extra_args=WORKERS)
    for n in nodes:
        # two links per peer, all on worker-1 (before: dealt round-robin over both workers)
        h.wait_until(lambda n=n: placement(n)[0] == [0, 4], 15, what=f"all links of :{n.port} on worker-1")
        assert placement(n)[1] == 1


def wait_placed(nodes, counts, moves_at_least):
    for n in nodes:
        h.wait_until(lambda n=n: placement(n)[0] == counts and placement(n)[2] >= moves_at_least, 30,
                     what=f"links of :{n.port} at {counts} (now {placement(n)})")


def wait_gossip_flows(nodes, light):
    """PONGs (and light frames both ways, between shoal peers) keep arriving on every node."""
    before = {n.port: (stat(n, "cluster", "cluster_stats_messages_pong_received"),
                       stat(n, "lightbus", "light_frames_received"), stat(n, "lightbus", "light_frames_sent"))
              for n in nodes}
    for n in nodes:
        p0, r0, s0 = before[n.port]
        h.wait_until(lambda n=n, p0=p0: stat(n, "cluster", "cluster_stats_messages_pong_received") >= p0 + 6, 30,
                     what=f"PONGs received by :{n.port}")
        if light:
            h.wait_until(lambda n=n, r0=r0, s0=s0: stat(n, "lightbus", "light_frames_received") > r0
                         and stat(n, "lightbus", "light_frames_sent") > s0, 30,
                         what=f"light frames both ways on :{n.port}")
        assert stat(n, "lightbus", "light_view_mismatch") == 0


def _move_and_check(nodes, mode, counts, moves_at_least, births):
    """DEBUG BUSPLACEMENT mode on every node: its links reach `counts` per worker, gossip keeps
    flowing on them, and none of them was closed and opened again (same create-times)."""
    for n in nodes:
        debug(n, mode)
    wait_placed(nodes, counts, moves_at_least)
    wait_gossip_flows(nodes, light=True)
    for n in nodes:
        assert link_births(n) == births[n.port], f"{mode}: a moved link was closed and opened again"


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_moved_links_keep_working(servers, pki, tls):
    if tls:
        nodes = tls_cluster(servers, pki)
    else:
        nodes = bh.start_cluster(servers, 3, node_timeout=2000, extra_args=WORKERS)
    wait_placed(nodes, [0, 4], 0)
    wait_gossip_flows(nodes, light=True)          # light dictionaries filled before the moves
    births = {n.port: link_births(n) for n in nodes}
    assert all(len(b) == 4 for b in births.values()), births

    _move_and_check(nodes, "SPREAD", [2, 2], 2, births)
    _move_and_check(nodes, "PACK", [0, 4], 4, births)
    for n in nodes:
        debug(n, "AUTO")

    # a node that joins now meshes with all of them, its links on the last worker too
    extra = tls_node(servers, pki) if tls else servers.shoal(extra_args=["--cluster-node-timeout", "2000", *WORKERS])
    with extra.raw() as c:
        port = nodes[0].tls_port if tls else nodes[0].port
        assert c.call("CLUSTER", "MEET", "127.0.0.1", str(port)) == "OK"
    bh.wait_healthy(nodes + [extra], 4, timeout=30)

    # failure detection runs over the moved links: a killed master is marked FAIL
    victim = nodes[2]
    victim_id = bh.myid(victim)
    victim.stop()
    for n in nodes[:2] + [extra]:
        h.wait_until(lambda n=n: any(r["id"] == victim_id and "fail" in r["flags"] for r in bh.cluster_nodes(n)),
                     30, what=f":{n.port} marking the killed master FAIL")


def _busy_script_key(a):
    """A key of node a's slots that its worker-1 keeps (slot % 2 workers)."""
    with a.raw() as c:
        mine = [(int(r[0]), int(r[1])) for r in c.call("CLUSTER", "SLOTS") if int(r[2][1]) == a.port]
    return next(k for k in (f"k{i}" for i in range(100000))
                if h.key_slot(k) % 2 == 1 and any(lo <= h.key_slot(k) <= hi for lo, hi in mine))


BUSY_8S = ("local t0 = redis.call('TIME') while true do local t = redis.call('TIME') "
           "if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 8000000 then break end end return 1")


def test_a_peer_that_connects_during_a_busy_script_is_answered(servers):
    """A node meets the cluster while the worker that holds every link of node a runs a script
    past busy-reply-threshold: 7.0.15 answers the MEET meanwhile (processEventsWhileBlocked).
    Failed before: the new link was dealt to the busy worker, where its start waited in the
    mailbox until the script's end (8 s), so the newcomer kept node a in handshake."""
    nodes = bh.start_cluster(servers, 3, node_timeout=5000, extra_args=["--busy-reply-threshold", "300", *WORKERS])
    wait_placed(nodes, [0, 4], 0)                 # every link on worker-1
    a, aid = nodes[0], bh.myid(nodes[0])
    extra = servers.shoal(extra_args=["--cluster-node-timeout", "5000", *WORKERS])
    c = a.raw(timeout=60)
    c.send(h.encode("EVAL", BUSY_8S, "1", _busy_script_key(a)))
    time.sleep(0.5)                               # past busy-reply-threshold: worker-1 is in its busy poll
    t0 = time.monotonic()
    with extra.raw() as e:
        assert e.call("CLUSTER", "MEET", "127.0.0.1", str(a.port)) == "OK"
    known = None
    while time.monotonic() - t0 < 5.0:            # the script runs for 7.5 s more
        view = {r["id"]: r["flags"] for r in bh.cluster_nodes(extra)}
        if aid in view and "handshake" not in view[aid]:
            known = time.monotonic() - t0
            break
        time.sleep(0.05)
    c.sock.settimeout(30)
    reply = c.read()
    c.close()
    assert reply[1] == 1, reply
    assert known is not None, "the newcomer still had node a in handshake 5 s into the script"


def test_links_answer_while_their_worker_runs_a_busy_script(servers):
    """A script past busy-reply-threshold on the worker that holds every link: 7.0.15 serves its
    bus meanwhile (processEventsWhileBlocked), so the other nodes never mark it failing. Failed
    before: the links were silent for the script's 8 s, and the others marked the node FAIL
    (node timeout 3 s)."""
    nodes = bh.start_cluster(servers, 3, node_timeout=3000, extra_args=["--busy-reply-threshold", "300", *WORKERS])
    wait_placed(nodes, [0, 4], 0)                 # every link on worker-1
    a, aid = nodes[0], bh.myid(nodes[0])
    c = a.raw(timeout=60)
    c.send(h.encode("EVAL", BUSY_8S, "1", _busy_script_key(a)))
    failing = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for n in nodes[1:]:
            failing |= {f for r in bh.cluster_nodes(n) if r["id"] == aid for f in r["flags"] if f == "fail"}
        try:
            c.sock.settimeout(0.2)
            reply = c.read()
            break
        except (TimeoutError, OSError):
            continue
    else:
        pytest.fail("the script did not end")
    c.close()
    assert reply[1] == 1, reply
    assert not failing, "the others marked the node FAIL while its script ran"
