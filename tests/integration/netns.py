"""A private network namespace for tests that need a client address other than
127.0.0.1 (protected mode, the "local" settings of enable-debug-command and
enable-protected-configs).

What it is for: `NetNs` creates a namespace of our own (root needed) with `lo`
up and an extra address 192.0.2.2/32 (TEST-NET-1) on it; servers run inside it
through `ip netns exec`, and `NetNs.conn()` opens a RawConn from inside it, so a
connection to 192.0.2.2 comes from 192.0.2.2 while one to 127.0.0.1 comes from
127.0.0.1.

What it must never do: touch the host's own namespace or any namespace it did
not create; leave its namespace behind (the context manager deletes it).
"""
import ctypes
import itertools
import os
import subprocess
import threading

import helpers as h

OTHER_ADDR = "192.0.2.2"
CLONE_NEWNET = 0x40000000
_seq = itertools.count()
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class NetNs:
    def __init__(self):
        self.name = f"shoaltest-{os.getpid()}-{next(_seq)}"

    def __enter__(self):
        _ip("netns", "add", self.name)
        try:
            _ip("-n", self.name, "link", "set", "lo", "up")
            _ip("-n", self.name, "addr", "add", f"{OTHER_ADDR}/32", "dev", "lo")
        except Exception:
            _ip("netns", "del", self.name)
            raise
        return self

    def __exit__(self, *exc):
        _ip("netns", "del", self.name)

    def conn(self, host, port, timeout=5.0):
        """A RawConn to host:port opened from inside the namespace. Only the
        helper thread enters the namespace; the socket stays in it after the
        thread ends and is used from the caller's thread."""
        out = {}

        def run():
            try:
                fd = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns failed")
                finally:
                    os.close(fd)
                out["conn"] = h.RawConn(port, host=host, timeout=timeout)
            except Exception as e:   # handed to the caller's thread
                out["err"] = e

        t = threading.Thread(target=run)
        t.start()
        t.join()
        if "err" in out:
            raise out["err"]
        return out["conn"]


class NsServer(h.Server):
    """A Server run inside `ns` (ip netns exec keeps the pid: it execs the binary)."""

    def __init__(self, ns, *args, **kw):
        super().__init__(*args, **kw)
        self.ns = ns

    def argv(self):
        return ["ip", "netns", "exec", self.ns.name] + super().argv()

    def ping_ok(self):
        try:
            with self.ns.conn("127.0.0.1", self.port, timeout=1.0) as c:
                v = c.call("PING")
                return v == "PONG" or (isinstance(v, h.Error) and v.startswith("NOAUTH"))
        except (OSError, ConnectionError, h.ProtocolDesync, ValueError):
            return False

    def raw(self, timeout=5.0, host="127.0.0.1"):
        return self.ns.conn(host, self.port, timeout=timeout)
