"""A fast, in-process grader that runs a notebook's cells the way nbgrader's autograde does.

Used to grade hundreds of mutants per module in seconds. Semantics follow nbgrader: every
code cell runs in order in one namespace, an error is recorded and execution goes on, and a
test cell earns its points when it raises nothing. Each notebook runs in a forked child
with a time and memory limit, so an infinite loop or a memory bomb in a mutant costs its
own child only. A sample of the same notebooks also goes through real `nbgrader autograde`
in the integrity gates, which checks that both graders agree.
"""

from __future__ import annotations

import contextlib
import copy
import io
import multiprocessing as mp
import os
import resource
import warnings
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

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


def with_source_cells(submission: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    """The submission as autograde sees it: locked and test cells restored from the source.

    This is what nbgrader's OverwriteCells does with the gradebook's copy; it is how the
    hidden tests come back.
    """
    locked = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in source_nb.cells
        if c.metadata.get("nbgrader", {}).get("locked")
        or c.metadata.get("nbgrader", {}).get("grade")
    }
    nb = copy.deepcopy(submission)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in locked:
            cell.source = locked[grade_id].source
            cell.metadata["nbgrader"] = copy.deepcopy(locked[grade_id].metadata["nbgrader"])
    return nb


def gradable_cells(nb: NotebookNode) -> list[tuple[dict, str]]:
    """(nbgrader metadata or {}, source) for the code cells a grade depends on.

    Ordinary cells after the last test cell (systems analysis, demos) cannot change a grade
    and are skipped: that keeps mutant runs fast.
    """
    code = [(c.metadata.get("nbgrader", {}), c.source) for c in nb.cells if c.cell_type == "code"]
    last_test = max((i for i, (meta, _) in enumerate(code) if meta.get("grade")), default=-1)
    return code[: last_test + 1]


def run_cells(cells: list[tuple[dict, str]]) -> list[CellScore]:
    """Execute cells in this process, in one namespace; score the test cells."""
    namespace: dict = {"__name__": "__main__"}
    scores = []
    for index, (meta, source) in enumerate(cells):
        error = None
        try:
            exec(compile(source, f"<cell {meta.get('grade_id', index)}>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's SystemExit fails the cell too
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if meta.get("grade"):
            max_points = float(meta.get("points", 0))
            points = max_points if error is None else 0.0
            scores.append(CellScore(meta["grade_id"], points, max_points, error))
    return scores


def _child(cells, cwd: str, conn) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    os.chdir(cwd)
    warnings.simplefilter("ignore")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        scores = run_cells(cells)
    conn.send(scores)
    conn.close()


def grade(
    submission: NotebookNode, source_nb: NotebookNode, cwd: Path, timeout: float = 60.0
) -> Result:
    """Grade one submission against its source notebook (hidden tests included) in a forked
    child; a timeout or a crash scores every test cell 0."""
    cells = gradable_cells(with_source_cells(submission, source_nb))
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(cells, str(cwd), child), daemon=True)
    proc.start()
    child.close()
    scores = None
    if parent.poll(timeout):
        with contextlib.suppress(EOFError):
            scores = parent.recv()
    proc.join(1)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if scores is None:  # timed out, or the child died (os._exit, memory limit)
        zero = [
            CellScore(m["grade_id"], 0.0, float(m.get("points", 0)), "no result (timeout/crash)")
            for m, _ in cells
            if m.get("grade")
        ]
        return Result(tuple(zero), timed_out=True)
    return Result(tuple(scores))
