"""Run a notebook's code cells outside Jupyter, as `tito test` does (in a child process).

`python -m tito.runner NOTEBOOK RESULTS_JSON PACKAGE_ROOT` executes the code cells of the
notebook in order in one namespace, up to the last test cell (ordinary cells after it, such
as the systems analysis, cannot change a test result and are skipped). An error is recorded
and execution goes on, as when nbgrader grades. tinytorch is imported from PACKAGE_ROOT only.
The outcome of every cell, and the file each tinytorch module was imported from, is written
to RESULTS_JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
import warnings
from pathlib import Path

from . import cells, notebooks
from .export import TASK
from .isolation import only_from

OUTPUT_LIMIT = 4000  # characters of a cell's printed output kept for `tito test --verbose`


def _line_in_cell(error: BaseException, filename: str) -> int | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if frames:
        return frames[-1].lineno
    if isinstance(error, SyntaxError) and error.filename == filename:
        return error.lineno
    return None


STDERR_FAILURE = (
    "the cell wrote to stderr ({text!r}): nbgrader gives a test cell that writes to stderr 0 "
    "points, even when every check passes. Remove the print(..., file=sys.stderr), logging "
    "call or warning your code makes while the tests run."
)


def stub_task(error: BaseException, sources: dict[str, str]) -> str | None:
    """The task whose stub raised `error` (a NotImplementedError): the `# Task <id>:` comment
    nearest above the raising line, in the innermost notebook cell of the traceback."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename in sources and frame.lineno:
            above = sources[frame.filename].splitlines()[: frame.lineno]
            found = (TASK.search(line) for line in reversed(above))
            return next((m.group(1) for m in found if m), None)
    return None


def run_cell(index: int, cell: dict, namespace: dict, sources: dict | None = None) -> dict:
    """Execute one cell; return its outcome (kind, ok, error, line, output, stderr).

    A test cell passes when it raises nothing and writes nothing to stderr: nbgrader's rule
    (a cell that writes to stderr scores 0), so `tito test`, the course's fast grader and
    autograde agree.
    """
    name = cells.grade_id(cell) or f"cell {index + 1}"
    filename = f"<{name}>"
    kind = "test" if cells.is_test(cell) else ("solution" if cells.is_solution(cell) else "code")
    out, err = io.StringIO(), io.StringIO()
    error, line, task = None, None, None
    text = notebooks.without_magics(cells.source(cell))
    if sources is not None:
        sources[filename] = text
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = compile(text, filename, "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's SystemExit fails the cell too
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            line = _line_in_cell(exc, filename)
            if isinstance(exc, NotImplementedError):
                task = stub_task(exc, sources or {})
    stderr = err.getvalue()
    if error is None and kind == "test" and stderr:
        first = stderr.strip().splitlines()[0][:120] if stderr.strip() else stderr[:40]
        error = STDERR_FAILURE.format(text=first)
    return {
        "index": index,
        "name": name,
        "kind": kind,
        "ok": error is None,
        "error": error,
        "line": line,
        "task": task,  # the task whose stub raised NotImplementedError, when known
        "output": (out.getvalue() + stderr)[-OUTPUT_LIMIT:],
        "stderr": stderr[-OUTPUT_LIMIT:],
    }


def main(argv: list[str]) -> int:
    notebook, results, root = Path(argv[0]), Path(argv[1]), Path(argv[2])
    os.environ["TITO_RUNNER"] = "1"  # export_notebook() in a cell does nothing here
    warnings.simplefilter("ignore")
    only_from(root)
    nb = notebooks.read(notebook)
    namespace: dict = {"__name__": "__main__"}
    sources: dict[str, str] = {}  # cell file name -> code, to name a stub's task
    gradable = cells.gradable(nb["cells"])
    outcomes = [run_cell(i, c, namespace, sources) for i, c in enumerate(gradable)]
    imports = {
        name: getattr(module, "__file__", None)
        for name, module in sorted(sys.modules.items())
        if name == "tinytorch" or name.startswith("tinytorch.")
    }
    results.write_text(json.dumps({"cells": outcomes, "imports": imports}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
