#!/usr/bin/python3
"""deps_graph.py - the include graph of shoal's C sources, read from their #include lines.

    deps_graph.py [--root DIR]            folder -> folder edges (what `make deps-graph` prints)
    deps_graph.py [--root DIR] --modules  module -> module edges and the include cycles between
                                          modules (a module is x.c with x.h)
    deps_graph.py [--root DIR] --headers  the same for headers only (x.h including y.h): a cycle
                                          here is a layering error, while a module cycle can be
                                          two actors that send to each other

A folder is the directory a file sits in (actors/main.c is in actors, actors/state/state.c in
actors/state). Only includes written from the repository root ("proto/bus.h") count; system
headers (<...>) are not edges. tests/integration/test_layout.py checks the layering rules on
the same data, so what this prints is what the test judges.
"""
import argparse
import os
import re
import sys

TOP = ("actors", "runtime", "proto")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    """Every .c and .h under actors/, runtime/ and proto/, as paths relative to root."""
    out = []
    for top in TOP:
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def includes(root):
    """(file, included file) for every quoted include of a file under TOP that names a file
    of the tree."""
    edges = []
    for f in sources(root):
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            if inc.split("/")[0] in TOP:
                edges.append((f, inc))
    return edges


def header_edges(edges):
    """The edges whose including file is a header."""
    return [(a, b) for a, b in edges if a.endswith(".h")]


def folder(path):
    return os.path.dirname(path)


def module(path):
    return os.path.splitext(path)[0]


def grouped(edges, key):
    counts = {}
    for a, b in edges:
        ka, kb = key(a), key(b)
        if ka != kb:
            counts[(ka, kb)] = counts.get((ka, kb), 0) + 1
    return counts


def cycles(counts):
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    graph = {}
    for a, b in counts:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, comps = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(comps, key=lambda c: (-len(c), c))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--modules", action="store_true", help="module-level edges and cycles")
    ap.add_argument("--headers", action="store_true", help="header -> header edges and cycles")
    args = ap.parse_args()
    edges = includes(args.root)
    if args.headers:
        edges = header_edges(edges)
    counts = grouped(edges, module if args.modules or args.headers else folder)
    what = "header" if args.headers else "module" if args.modules else "folder"
    print(f"# {what} -> {what} include edges (number of #include lines)")
    for (a, b), n in sorted(counts.items()):
        print(f"{a} -> {b} ({n})")
    comps = cycles(counts)
    print(f"# {what} cycles: {len(comps)}")
    for c in comps:
        print(f"cycle of {len(c)}: " + " ".join(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
