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

from . import notebooks
from .isolation import only_from

OUTPUT_LIMIT = 4000  # characters of a cell's printed output kept for `tito test --verbose`


def selected_cells(nb: dict) -> list[dict]:
    """Code cells up to and including the last test cell."""
    cells = notebooks.code_cells(nb)
    last = max((i for i, c in enumerate(cells) if notebooks.is_test(c)), default=-1)
    return cells[: last + 1]


def _line_in_cell(error: BaseException, filename: str) -> int | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if frames:
        return frames[-1].lineno
    if isinstance(error, SyntaxError) and error.filename == filename:
        return error.lineno
    return None


def run_cell(index: int, cell: dict, namespace: dict) -> dict:
    """Execute one cell; return its outcome (kind, ok, error, line, output)."""
    name = notebooks.grade_id(cell) or f"cell {index + 1}"
    filename = f"<{name}>"
    meta = cell.get("metadata", {}).get("nbgrader", {})
    kind = "test" if notebooks.is_test(cell) else ("solution" if meta.get("solution") else "code")
    sink = io.StringIO()
    error, line = None, None
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            code = compile(notebooks.without_magics(notebooks.source(cell)), filename, "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - a student's SystemExit fails the cell too
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            line = _line_in_cell(exc, filename)
    return {
        "index": index,
        "name": name,
        "kind": kind,
        "ok": error is None,
        "error": error,
        "line": line,
        "output": sink.getvalue()[-OUTPUT_LIMIT:],
    }


def main(argv: list[str]) -> int:
    notebook, results, root = Path(argv[0]), Path(argv[1]), Path(argv[2])
    os.environ["TITO_RUNNER"] = "1"  # export_notebook() in a cell does nothing here
    warnings.simplefilter("ignore")
    only_from(root)
    nb = notebooks.read(notebook)
    namespace: dict = {"__name__": "__main__"}
    cells = [run_cell(i, cell, namespace) for i, cell in enumerate(selected_cells(nb))]
    imports = {
        name: getattr(module, "__file__", None)
        for name, module in sorted(sys.modules.items())
        if name == "tinytorch" or name.startswith("tinytorch.")
    }
    results.write_text(json.dumps({"cells": cells, "imports": imports}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
