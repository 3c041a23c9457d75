"""The source tree's layering rules (issue 9).

What it is for: the layers point one way and stay readable. proto/ (pure codecs) includes
nothing from runtime/ or actors/; runtime/ includes nothing from actors/; no C file is over
1,000 lines; and an actor family's `*_internal.h` is included only from its own folder.
That last rule does not hold yet: INTERNAL_CROSSINGS lists the includes that break it today,
and may only shrink. A new crossing fails the test; so does a listed one that is gone (take
it off the list, so the list stays the truth). The include edges are read by
tests/tools/deps_graph.py, the script behind `make deps-graph`.

What it must never do: read anything outside the repository, or run a process.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import deps_graph  # noqa: E402

MAX_LINES = 1000
C_DIRS = ("actors", "runtime", "proto", "tests", "bench")

# (including file, *_internal.h of another folder) as of the move into folders. Remove an entry
# when its include goes; never add one: put what other folders need in the public header.
INTERNAL_CROSSINGS = {
    ("actors/main.c", "actors/state/state_internal.h"),
    ("actors/failover/elector.c", "actors/state/state_internal.h"),
    ("actors/commands/cmd_cluster.c", "actors/state/state_internal.h"),
    ("actors/commands/cmd_server.c", "actors/state/state_internal.h"),
    ("actors/commands/client_cmds.c", "actors/repl/repl_internal.h"),
    ("actors/commands/cmd_repl.c", "actors/repl/repl_internal.h"),
    ("actors/worker/fanout.c", "actors/repl/repl_internal.h"),
}


def edges():
    return deps_graph.includes(str(ROOT))


def test_the_edge_reader_sees_the_tree():
    # Guards the other tests against passing on an empty graph.
    e = edges()
    assert ("actors/state/state.c", "actors/state/state_internal.h") in e
    assert ("actors/main.c", "runtime/log.h") in e


def test_proto_includes_nothing_from_runtime_or_actors():
    bad = [f"{a} includes {b}" for a, b in edges()
           if a.startswith("proto/") and b.split("/")[0] in ("runtime", "actors")]
    assert bad == [], "proto/ must stay pure codecs:\n" + "\n".join(bad)


def test_runtime_includes_nothing_from_actors():
    bad = [f"{a} includes {b}" for a, b in edges()
           if a.startswith("runtime/") and b.startswith("actors/")]
    assert bad == [], "runtime/ must not know the actors:\n" + "\n".join(bad)


def test_no_c_file_over_1000_lines():
    long_files = []
    for top in C_DIRS:
        for d, _, names in os.walk(ROOT / top):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = Path(d) / n
                    count = len(p.read_text(errors="replace").splitlines())
                    if count > MAX_LINES:
                        long_files.append(f"{p.relative_to(ROOT)}: {count} lines")
    assert long_files == [], f"files over {MAX_LINES} lines (split them along their stages):\n" + \
        "\n".join(long_files)


def test_internal_headers_stay_in_their_folder_except_the_allow_list():
    crossings = {(a, b) for a, b in edges()
                 if b.endswith("_internal.h") and os.path.dirname(a) != os.path.dirname(b)}
    new = sorted(crossings - INTERNAL_CROSSINGS)
    gone = sorted(INTERNAL_CROSSINGS - crossings)
    assert new == [], "new *_internal.h includes from another folder (use the public header):\n" + \
        "\n".join(f"{a} includes {b}" for a, b in new)
    assert gone == [], "crossings gone, take them off INTERNAL_CROSSINGS:\n" + \
        "\n".join(f"{a} includes {b}" for a, b in gone)
