"""Replies written by the worker that owns the key (actors/worker/batch.h, "direct replies"),
and the INFO threads counters that show wake-ups.

A command whose slot belongs to another worker than its connection's travels there in a
batch; when its reply is the next the connection will send, that worker writes it on the
socket itself and the batch goes back without waking the connection's worker (a lazy
send). These tests check what a client must see whichever path a reply takes: replies in
order, whole (also when a big reply fills the socket and the rest goes out from the
connection's worker), a connection closed while another worker holds its socket, and the
`INFO threads` counters that show the wake-ups saved (asked for by name only, so INFO,
INFO all and INFO everything keep redis-server 7.0.15's sections).
"""
import re
import socket

import helpers as h

THREAD_LINE = re.compile(r"^thread\d+:name=([\w-]+),wakeups=(\d+),messages=(\d+),"
                         r"wake_sends=(\d+),lazy_sends=(\d+)$")


def _threads(conn):
    text = conn.call("INFO", "threads")
    text = text.data if hasattr(text, "data") else text
    text = text.decode() if isinstance(text, bytes) else text
    out = {}
    for line in text.split("\r\n"):
        m = THREAD_LINE.match(line)
        if m:
            out[m.group(1)] = [int(x) for x in m.groups()[1:]]
    return out


def _section_names(conn, *args):
    text = conn.call("INFO", *args)
    text = text.data if hasattr(text, "data") else text
    text = text.decode() if isinstance(text, bytes) else text
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def test_info_threads_is_asked_for_by_name_only(snode, sref):
    with snode.raw() as c, sref.raw() as r:
        t = _threads(c)
        assert "worker-0" in t and "worker-1" in t, t
        for args in [(), ("all",), ("everything",), ("default",)]:
            assert "Threads" not in _section_names(c, *args), args
            assert _section_names(c, *args) == _section_names(r, *args), args
