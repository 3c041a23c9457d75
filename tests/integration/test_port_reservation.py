"""helpers.free_port reserves the ports it hands out machine-wide: another test session
(another process, e.g. another worktree's run) does not hand out a port this test took,
even while nothing listens on it (its node killed), until the test releases it."""
import os
import subprocess
import sys
from pathlib import Path

import helpers as h

# Another session whose only candidate port is `port`: prints what free_port gave it.
CHILD = """
import sys
sys.path.insert(0, {dir!r})
import helpers as h
h.PORT_LOW = h.PORT_HIGH = {port}
try:
    print(h.free_port())
except RuntimeError:
    print("none")
"""


def _other_session_takes(port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    r = subprocess.run([sys.executable, "-c", CHILD.format(dir=str(Path(__file__).parent), port=port)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_a_handed_out_port_is_not_handed_out_by_another_session():
    port = h.free_port()        # nothing listens on it, as after its node was SIGKILLed
    assert _other_session_takes(port) == "none"
    h.release_ports()           # what the end of the test does
    assert _other_session_takes(port) == str(port)
