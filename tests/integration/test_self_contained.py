"""The repository stands on its own.

What it is for: a fresh clone with nothing beside it must build, test and read on its
own. No source, script, Makefile or document may point at paths outside the
repository (a shared tree beside the clone), and every `docs/<page>.md §N` citation in the
code must name a section that exists in that page, so that comments stay true as the
docs change. The captured vectors' checksums are checked by tests/unit/test_vectors.c.

What it must never do: read anything outside the repository, or run a process.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", "build", "bin", "__pycache__", ".pytest_cache"}
TEXT_SUFFIXES = {".c", ".h", ".py", ".sh", ".md", ".txt", ".tcl"}
OUTSIDE = re.compile(r"\.\./shared|/shared/(design|spec|conventions|tools|hooks)")
CITATION = re.compile(r"docs/(cluster-bus|clients|replication|design)\.md §([0-9]+(?:\.[0-9]+)?)")
HEADING = re.compile(r"^#{2,3} ([0-9]+(?:\.[0-9]+)?)[. ]", re.M)


def text_files():
    for p in sorted(ROOT.rglob("*")):
        if any(part in SKIP_DIRS for part in p.relative_to(ROOT).parts):
            continue
        if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.name in ("Makefile", "run")):
            yield p


def test_no_path_outside_the_repository():
    offenders = []
    for p in text_files():
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "paths outside the repository:\n" + "\n".join(offenders)


def test_docs_citations_name_existing_sections():
    sections = {}
    for page in ("cluster-bus", "clients", "replication", "design"):
        doc = ROOT / "docs" / f"{page}.md"
        assert doc.is_file(), f"docs/{page}.md is missing"
        sections[page] = set(HEADING.findall(doc.read_text()))
    dangling = []
    for p in text_files():
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            for page, sec in CITATION.findall(line):
                if sec not in sections[page]:
                    dangling.append(f"{p.relative_to(ROOT)}:{n}: docs/{page}.md §{sec}")
    assert dangling == [], "citations of sections that do not exist:\n" + "\n".join(dangling)
