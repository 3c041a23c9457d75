"""CLIENT KILL <master address> on a replica cuts its link to its master, as on 7.0.15.

What it is for: Redis's test suites (its cluster suite's 05-slave-selection and
06-slave-stop-cond cut a replica off its master with `CLIENT KILL 127.0.0.1:<master
port>` on the replica). 7.0.15 lists the link to its master among its clients under the
master's address; the old form answers +OK, the ADDR filter counts it. The replica then
reconnects and resumes. Both servers run the same scenario.

What it must never do: relax an expectation to match our node; signal a process it did
not start.
"""
import pytest

import helpers as h
import bushelpers as bh


def _link_up(server):
    with server.raw() as c:
        return h.info_dict(c.call("INFO", "replication").decode()).get("master_link_status") == "up"


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_client_kill_reaches_the_master_link(servers, kind):
    make = servers.redis if kind == "redis" else servers.shoal
    m, r = make(), make()
    bh.master_with_replica(m, r)
    h.wait_until(lambda: _link_up(r), 20, interval=0.1, what=f"{kind}: replica link up")
    addr = f"127.0.0.1:{m.port}"
    with r.raw() as c:
        assert c.call("CLIENT", "KILL", addr) == "OK"
    h.wait_until(lambda: _link_up(r), 20, interval=0.1, what=f"{kind}: replica link up again")
    with r.raw() as c:
        assert c.call("CLIENT", "KILL", "ADDR", addr, "TYPE", "master") == 1
    h.wait_until(lambda: _link_up(r), 20, interval=0.1, what=f"{kind}: replica link up a third time")
    with r.raw() as c:
        assert c.call("CLIENT", "KILL", "ADDR", addr) == 1
        # an address nobody has
        v = c.call("CLIENT", "KILL", "127.0.0.1:1")
        assert isinstance(v, h.Error) and str(v) == "ERR No such client", v
    h.wait_until(lambda: _link_up(r), 20, interval=0.1, what=f"{kind}: replica link up at the end")


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_client_kill_answers_after_the_master_link_is_down(servers, kind):
    """The reply to CLIENT KILL of the master link comes after the link is closed:
    INFO sent right behind it (same connection, same write) says the link is down,
    and a second kill pipelined behind the first finds no link (7.0.15 frees its
    master client before it replies, and reconnects only from its next cron).
    A client that saw the reply and then INFO "up" would take a link about to be
    closed for the reconnected one, and its next CLIENT KILL would miss it."""
    make = servers.redis if kind == "redis" else servers.shoal
    m, r = make(), make()
    bh.master_with_replica(m, r)
    addr = f"127.0.0.1:{m.port}"
    kills = [("CLIENT", "KILL", addr), ("CLIENT", "KILL", "TYPE", "master"),
             ("CLIENT", "KILL", "ADDR", addr, "TYPE", "master")]
    for kill in kills:
        h.wait_until(lambda: _link_up(r), 20, interval=0.1, what=f"{kind}: replica link up")
        with r.raw() as c:
            c.send(h.encode(*kill) + h.encode("INFO", "replication") + h.encode("CLIENT", "KILL", "TYPE", "master"))
            first = c.read()[1]
            info = h.info_dict(c.read()[1].decode())
            second = c.read()[1]
        assert first == ("OK" if len(kill) == 3 else 1), (kind, kill, first)
        assert info.get("master_link_status") == "down", (kind, kill, info)
        assert second == 0, (kind, kill, second)
    h.wait_until(lambda: _link_up(r), 20, interval=0.1, what=f"{kind}: replica link up at the end")
