"""Integrity gates: the checks every module must pass before students see it.

- structure: grade_ids unique, every test cell has points and hidden tests;
- the visible tests pass on the solution;
- no solution code in `release/`; no hidden-test text in `release/` or `solutions/`;
- mutants of the solution lose points (kill rate, fast in-process grader);
- through real `nbgrader autograde` on a scratch course: the solution scores full points,
  the untouched release scores zero, and a sample of mutants scores what the fast grader
  says.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from . import fastgrade, markers, mutants
from .course import Course
from .modules import REPO, Module

MIN_KILL_RATE = 0.90
MIN_MUTANTS = 20
MIN_LEAK_LINE = 10  # shorter lines (`return out`) are too common to mean a leak


@dataclass
class MutantReport:
    total: int = 0
    killed: int = 0
    survivors: list[mutants.Mutant] = field(default_factory=list)
    results: dict[str, fastgrade.Result] = field(default_factory=dict)

    @property
    def kill_rate(self) -> float:
        return self.killed / self.total if self.total else 0.0


def source_notebook(module: Module, root: Path = REPO) -> NotebookNode:
    return Course(root).source_notebook(module)


def release_notebook(module: Module, root: Path = REPO) -> NotebookNode:
    return Course(root).release_notebook(module)


# --- structure and visible tests ------------------------------------------------------------


def structure_problems(nb: NotebookNode) -> list[str]:
    problems, seen = [], set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        if grade_id in seen:
            problems.append(f"duplicate grade_id {grade_id!r}")
        seen.add(grade_id)
        if meta.get("grade"):
            if not meta.get("points", 0) > 0:
                problems.append(f"{grade_id}: graded cell without points")
            if not markers.hidden_regions(cell.source):
                problems.append(f"{grade_id}: no hidden tests")
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        problems.append("no graded test cells")
    return problems


def visible_only(source_nb: NotebookNode) -> NotebookNode:
    """The source notebook as a student's self-check sees it: hidden tests removed."""
    nb = nbformat.from_dict(source_nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = markers.drop_hidden_tests(cell.source)
    return nb


def solution_submission(module: Module, root: Path = REPO) -> NotebookNode:
    src = source_notebook(module, root)
    return mutants.submission(release_notebook(module, root), mutants.solution_sources(src))


def visible_failures(module: Module, root: Path = REPO) -> list[str]:
    """Visible test cells that fail on the instructor's solution (should be none)."""
    visible = visible_only(source_notebook(module, root))
    result = fastgrade.grade(
        solution_submission(module, root), visible, root / "source" / module.assignment
    )
    return [f"{c.grade_id}: {c.error}" for c in result.cells if c.error]


# --- leaks ---------------------------------------------------------------------------------


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
    solution, hidden = secret_lines(source_notebook(module, root))
    release = root / "release" / module.assignment
    problems = leaks_in(release, solution, "solution code") + leaks_in(
        release, hidden, "hidden test"
    )
    problems += leaks_in(root / "solutions" / module.assignment, hidden, "hidden test")
    if not hidden:
        problems.append("no hidden-test lines found to check (are the hidden blocks empty?)")
    return problems


# --- mutants -------------------------------------------------------------------------------


def mutant_report(module: Module, root: Path = REPO, log=None) -> MutantReport:
    """Grade every mutant of the solution with the fast grader."""
    src, rel = source_notebook(module, root), release_notebook(module, root)
    report = MutantReport()
    cwd = root / "source" / module.assignment
    for mutant in mutants.all_mutants(src):
        result = fastgrade.grade(mutants.mutant_submission(rel, src, mutant), src, cwd)
        report.total += 1
        report.results[mutant.id] = result
        if result.score < result.max_score:
            report.killed += 1
        else:
            report.survivors.append(mutant)
        if log:
            log(mutant, result)
    return report


def nbgrader_sample(
    all_mutants: list[mutants.Mutant], k: int = 3, seed: int = 0
) -> list[mutants.Mutant]:
    return random.Random(seed).sample(all_mutants, min(k, len(all_mutants)))


def nbgrader_gate(module: Module, workdir: Path, sample: list[mutants.Mutant], root: Path = REPO):
    """Grade solution, blank release and sampled mutants with real `nbgrader autograde`.

    Returns (scores by student id, the course used)."""
    course = Course.scratch(workdir, [module], repo=root)
    src, rel = course.source_notebook(module), course.release_notebook(module)
    course.submit_directly(
        "solution", module, mutants.submission(rel, mutants.solution_sources(src))
    )
    course.submit_directly("blank", module, rel)
    for i, mutant in enumerate(sample):
        course.submit_directly(f"mutant{i}", module, mutants.mutant_submission(rel, src, mutant))
    course.autograde(module)
    return course.scores(module), course
