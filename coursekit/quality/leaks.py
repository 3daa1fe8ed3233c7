"""Leaks: no solution code in `release/`; no hidden-test text in `release/` or `solutions/`.

A line is secret when it appears inside a solution region (or a hidden block) of the source
notebook and nowhere else in it; a leak is a secret line, whole, in a file students get.
Lines shorter than MIN_LEAK_LINE characters (`return out`) are too common to mean a leak.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ..authoring import markers
from ..authoring.references import SETUP_WORDS
from ..course import Course
from ..modules import REPO, Module

MIN_LEAK_LINE = 10


def _reference_lines(source_nb: NotebookNode) -> set[str]:
    """Lines of the grading set-up blocks (reference code, published with the solutions)."""
    found = set()
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        for first, last in markers.hidden_regions(cell.source):
            if first + 1 < last and SETUP_WORDS in lines[first + 1]:
                found |= {lines[i].strip() for i in range(first + 1, last)}
    return found


def _lines_in_regions(source: str, found: list[tuple[int, int]]) -> set[str]:
    lines = source.splitlines()
    return {lines[i].strip() for a, b in found for i in range(a + 1, b)}


def secret_lines(source_nb: NotebookNode) -> tuple[set[str], set[str]]:
    """(solution lines, hidden-test lines) that appear nowhere else in the notebook."""
    solution, hidden, public = set(), set(), set()
    for cell in source_nb.cells:
        sol = markers.solution_regions(cell.source) if cell.cell_type == "code" else []
        hid = markers.hidden_regions(cell.source) if cell.cell_type == "code" else []
        inside = {i for a, b in sol + hid for i in range(a, b + 1)}
        public |= {
            line.strip() for i, line in enumerate(cell.source.splitlines()) if i not in inside
        }
        solution |= _lines_in_regions(cell.source, sol)
        hidden |= _lines_in_regions(cell.source, hid)
    # The grading set-up at the top of a test cell holds reference code: it is solution code,
    # published with the solutions, not a hidden test.
    hidden -= solution | _reference_lines(source_nb)

    def secret(lines: set[str]) -> set[str]:
        return {s for s in lines - public if len(s) >= MIN_LEAK_LINE}

    return secret(solution), secret(hidden)


def visible_text(path: Path) -> str:
    """What a reader of the file can see: cell sources and outputs, or the page's text."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = nbformat.reads(raw, 4)
        parts = []
        for cell in nb.cells:
            parts.append(cell.source)
            for out in cell.get("outputs", []):
                parts.append(str(out.get("text", "")))
                parts.extend(str(v) for v in out.get("data", {}).values())
                parts.extend(out.get("traceback", []))
                parts.append(str(out.get("evalue", "")))
        return "\n".join(parts)
    if path.suffix in (".html", ".htm"):
        return html.unescape(re.sub(r"<[^>]+>", "", raw))
    return raw


def leaks_in(folder: Path, secrets: set[str], what: str) -> list[str]:
    """Secret lines that appear as whole lines (stripped) in any file under `folder`."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        seen = {line.strip() for line in visible_text(path).splitlines()}
        found += [f"{what} in {path}: {line!r}" for line in sorted(secrets & seen)]
    return found


def leak_problems(module: Module, root: Path = REPO) -> list[str]:
    solution, hidden = secret_lines(Course(root).source_notebook(module))
    release = root / "release" / module.assignment
    problems = leaks_in(release, solution, "solution code") + leaks_in(
        release, hidden, "hidden test"
    )
    problems += leaks_in(root / "solutions" / module.assignment, hidden, "hidden test")
    if not hidden:
        problems.append("no hidden-test lines found to check (are the hidden blocks empty?)")
    return problems
