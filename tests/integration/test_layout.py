"""The source tree's layering rules.

What it is for: the layers point one way and stay readable. proto/ (pure codecs) includes
nothing from runtime/ or actors/; runtime/ includes nothing from actors/; no C file is over
1,000 lines; no function in actors/, runtime/ or proto/ is over 100 lines; and an actor
family's `*_internal.h` is included only from its own folder. The last two rules do not hold
yet: LONG_FUNCTIONS and INTERNAL_CROSSINGS list the functions and includes that break them
today, and may only shrink. A new entry fails the test; so does a listed one that is gone
(take it off the list, so the list stays the truth). The include edges are read by
tests/tools/deps_graph.py, the script behind `make deps-graph`.

What it must never do: read anything outside the repository, or run a process.
"""
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
import deps_graph  # noqa: E402

MAX_LINES = 1000
C_DIRS = ("actors", "runtime", "proto", "tests", "bench")
MAX_FUNCTION_LINES = 100
FUNCTION_DIRS = ("actors", "runtime", "proto")

# (file, function) over MAX_FUNCTION_LINES when the check came in; every one is split now.
# Remove an entry when its function is split; never add one: split the function along the
# stages its comments mark.
LONG_FUNCTIONS = set()

# (including file, *_internal.h of another folder) as of the move into folders; every one is
# gone now. Never add one: put what other folders need in the public header.
INTERNAL_CROSSINGS = set()


_CALLEE = re.compile(r"([A-Za-z_]\w*)\s*\(")


def function_lengths(text):
    """(name, lines, first line) of each function defined in C source text.

    Relies on the house style: a definition's signature starts at column 0
    (continuation lines are indented), its body opens with `{` alone on the next line and
    closes with `}` at column 0. Lines are counted from the signature's first line to the
    closing brace. One-line definitions (`{ ... }` on the signature line) are not seen; they
    are one line long."""
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        if lines[i].rstrip() != "{":
            i += 1
            continue
        start = i - 1
        while start >= 0 and lines[start][:1] in (" ", "\t"):
            start -= 1
        signature = " ".join(lines[start:i]) if start >= 0 else ""
        name = _CALLEE.search(signature)
        end = i + 1
        while end < len(lines) and not lines[end].startswith("}"):
            end += 1
        # An initializer (`x = ... \n{`) is not a function.
        if name and "=" not in signature.split("(")[0]:
            found.append((name.group(1), end - start + 1, start + 1))
        i = end + 1
    return found


def long_functions():
    found = {}
    for top in FUNCTION_DIRS:
        for d, _, names in os.walk(ROOT / top):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = Path(d) / n
                    for name, count, line in function_lengths(p.read_text(errors="replace")):
                        if count > MAX_FUNCTION_LINES:
                            found[(str(p.relative_to(ROOT)), name)] = (count, line)
    return found


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


def test_headers_include_each_other_without_a_cycle():
    """Actors may send to each other (a .c includes the public header of the actor it
    messages, and that actor's .c includes back), but headers must layer: no header may
    reach itself through the headers it includes."""
    counts = deps_graph.grouped(deps_graph.header_edges(edges()), deps_graph.module)
    assert counts, "the header reader found no header including another"
    assert deps_graph.cycles(counts) == []


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


def test_the_function_reader_counts_from_signature_to_closing_brace():
    text = ("/* not a function */\n"
            "static const int table[] =\n{\n    1,\n};\n"
            "static int one_line(void) { return 1; }\n"
            "static int two(int a,\n"
            "               int b)\n"
            "{\n"
            "    if (a) {\n"
            "        return b;\n"
            "    }\n"
            "    return a;\n"
            "}\n")
    assert function_lengths(text) == [("two", 8, 7)]
    # Guards the length test against passing because it reads nothing.
    main_c = (ROOT / "actors" / "main.c").read_text()
    assert "main" in [name for name, _, _ in function_lengths(main_c)]


def test_no_function_over_100_lines_except_the_allow_list():
    found = long_functions()
    new = sorted(set(found) - LONG_FUNCTIONS)
    gone = sorted(LONG_FUNCTIONS - set(found))
    assert new == [], f"functions over {MAX_FUNCTION_LINES} lines (split them along their stages):\n" + \
        "\n".join(f"{f}:{found[(f, n)][1]} {n}: {found[(f, n)][0]} lines" for f, n in new)
    assert gone == [], "functions now short enough (or gone), take them off LONG_FUNCTIONS:\n" + \
        "\n".join(f"{f} {n}" for f, n in gone)
