"""A fast, in-process grader that runs a notebook's cells the way nbgrader's autograde does.

Used to grade hundreds of mutants per module in seconds. Semantics follow nbgrader: every
code cell up to the last test runs in order in one namespace, an error is recorded and
execution goes on, and a test cell earns its points when it raises nothing and writes
nothing to stderr (tito.runner.run_cell, the rule `tito test` uses too). As in the grading
sandbox, the graded module's reference and every later module cannot be imported.

Each notebook runs in a forked child with a time and memory limit, so an infinite loop or a
memory bomb in a mutant costs its own child only. `grade_many` shares work between
submissions that differ from a base only from some cell on: a parent runs the base's cells
once and forks each submission's child just before the first cell where it differs. A sample
of the same notebooks also goes through real `nbgrader autograde` in the integrity gates,
which checks that both graders agree.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.abc
import multiprocessing as mp
import os
import resource
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from tito import cells
from tito.runner import run_cell

from ..modules import graded_and_later

MEMORY_LIMIT = 4 * 1024**3


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    points: float
    max_points: float
    error: str | None  # "ExceptionType: message" for a failed test cell


@dataclass(frozen=True)
class Result:
    cells: tuple[CellScore, ...]
    timed_out: bool = False

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)

    @property
    def failed(self) -> list[str]:
        return [c.grade_id for c in self.cells if c.points < c.max_points]

    def points_of(self, grade_id: str) -> float:
        return next((c.points for c in self.cells if c.grade_id == grade_id), 0.0)


def with_source_cells(submission: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    """The submission as autograde sees it: locked and test cells restored from the source.

    This is what nbgrader's OverwriteCells does with the gradebook's copy; it is how the
    hidden tests come back.
    """
    locked = {
        cells.grade_id(c): c for c in source_nb.cells if cells.is_locked(c) or cells.is_test(c)
    }
    nb = copy.deepcopy(submission)
    for cell in nb.cells:
        grade_id = cells.grade_id(cell)
        if grade_id in locked:
            cell.source = locked[grade_id].source
            cell.metadata["nbgrader"] = copy.deepcopy(locked[grade_id].metadata["nbgrader"])
    return nb


def gradable_cells(nb: NotebookNode) -> list[dict]:
    """The code cells a grade depends on, as plain dicts (source, metadata)."""
    return [
        {"cell_type": "code", "source": c.source, "metadata": {"nbgrader": cells.nbgrader(c)}}
        for c in cells.gradable(nb.cells)
    ]


# --- what a grading kernel may import -------------------------------------------------------


class _Blocked(importlib.abc.MetaPathFinder):
    """Refuses the graded module's reference and every later one, as the sandbox does."""

    def __init__(self, packages: frozenset[str]):
        self.packages = packages

    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == p or fullname.startswith(p + ".") for p in self.packages):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def blocked_packages(graded: str | None) -> frozenset[str]:
    """Package modules that grading `graded` (an assignment name) must not import."""
    return graded_and_later(graded) if graded else frozenset()


def _fresh_imports(blocked: frozenset[str]) -> None:
    """Forget every imported tinytorch module (a kernel starts fresh) and block `blocked`."""
    for name in [n for n in sys.modules if n == "tinytorch" or n.startswith("tinytorch.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _Blocked(blocked))


# --- running cells ------------------------------------------------------------------------


def _score(cell: dict, outcome: dict) -> CellScore:
    meta = cell["metadata"]["nbgrader"]
    max_points = float(meta.get("points", 0))
    error = outcome["error"]
    if error is not None:
        error = error[:300]
    return CellScore(meta["grade_id"], max_points if outcome["ok"] else 0.0, max_points, error)


def run_cells(cell_list: list[dict], namespace: dict, start: int = 0) -> list[CellScore]:
    """Execute cells in this process, in one namespace; score the test cells."""
    scores = []
    for index, cell in enumerate(cell_list[start:], start):
        outcome = run_cell(index, cell, namespace)
        if cells.is_test(cell):
            scores.append(_score(cell, outcome))
    return scores


def _prepare_child(cwd: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    os.chdir(cwd)
    warnings.simplefilter("ignore")


def _zero(cell_list: list[dict], why: str) -> Result:
    zero = [
        CellScore(cells.grade_id(c), 0.0, cells.points(c), why)
        for c in cell_list
        if cells.is_test(c)
    ]
    return Result(tuple(zero), timed_out=True)


def _collect(proc, conn, timeout: float):
    scores = None
    if conn.poll(timeout):
        with contextlib.suppress(EOFError):
            scores = conn.recv()
    proc.join(1)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return scores


def grade(
    submission: NotebookNode,
    source_nb: NotebookNode,
    cwd: Path,
    timeout: float = 60.0,
    graded: str | None = None,
) -> Result:
    """Grade one submission against its source notebook (hidden tests included) in a forked
    child; a timeout or a crash scores every test cell 0. `graded`: the assignment whose
    reference (and later ones) cannot be imported."""
    return grade_many({"_": submission}, source_nb, cwd, timeout, graded)["_"]


def grade_many(
    submissions: Mapping[str, NotebookNode],
    source_nb: NotebookNode,
    cwd: Path,
    timeout: float = 60.0,
    graded: str | None = None,
) -> dict[str, Result]:
    """Grade many submissions of one notebook, sharing the cells they have in common.

    The first submission is the base: a forked parent runs its cells in order and, just
    before each cell where other submissions first differ from it, forks one child per such
    submission, which runs that submission's cells from there on. Results are the same as
    grading each submission on its own (every child starts from the base's state at a cell
    all of them share)."""
    names = list(submissions)
    plans = {n: gradable_cells(with_source_cells(submissions[n], source_nb)) for n in names}
    base = plans[names[0]]
    forks: dict[int, list[str]] = {}
    for name in names:
        plan = plans[name]
        same = 0
        while same < min(len(plan), len(base)) and plan[same] == base[same]:
            same += 1
        forks.setdefault(same, []).append(name)
    blocked = blocked_packages(graded)
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_prefix_runner, args=(base, plans, forks, str(cwd), timeout, blocked, child)
    )
    proc.start()
    child.close()
    budget = timeout * (len(names) + 1)
    results = _collect(proc, parent, budget) or {}
    return {n: results.get(n) or _zero(plans[n], "no result (timeout/crash)") for n in names}


def _prefix_runner(base, plans, forks, cwd, timeout, blocked, conn) -> None:
    """Run the base's cells; fork each submission at the cell where it first differs."""
    _prepare_child(cwd)
    _fresh_imports(blocked)
    namespace: dict = {"__name__": "__main__"}
    done: list[CellScore] = []
    results: dict[str, Result] = {}
    ctx = mp.get_context("fork")
    for index in range(len(base) + 1):
        for name in forks.get(index, []):
            results[name] = _fork_one(ctx, plans[name], namespace, done, index, timeout)
        if index < len(base):
            outcome = run_cell(index, base[index], namespace)
            if cells.is_test(base[index]):
                done.append(_score(base[index], outcome))
    conn.send(results)
    conn.close()


def _fork_one(ctx, plan, namespace, done, index, timeout) -> Result:
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_finish, args=(plan, namespace, done, index, child))
    proc.start()
    child.close()
    scores = _collect(proc, parent, timeout)
    if scores is None:
        return _zero(plan, "no result (timeout/crash)")
    return Result(tuple(scores))


def _finish(plan, namespace, done, index, conn) -> None:
    conn.send(list(done) + run_cells(plan, namespace, start=index))
    conn.close()
