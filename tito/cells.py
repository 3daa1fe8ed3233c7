"""The notebook-cell contract: what a course notebook's metadata means, in one place.

The course's build writes these keys, the graders and nbgrader plugins read them, and tito
reads them on the student's side, so all of them ask this module (it ships with tito, the one
package both sides have). Cells may be plain dicts (JSON) or nbformat NotebookNodes.

- `metadata.nbgrader` (nbgrader's schema 3): `grade_id`, `grade` (a graded cell), `solution`
  (students write it), `locked` (read-only, restored before grading), `points`.
- `metadata.tinytorch.export` on a code cell: the package module the cell's code goes to
  (`"tinytorch.core.tensor"`).
- `metadata.tinytorch` on the notebook: `module` (`"01_tensor"`), `package`, `hours`, ...
"""

from __future__ import annotations

from collections.abc import Sequence

COURSE_KEY = "tinytorch"  # our metadata namespace, beside nbgrader's
EXPORT_KEY = "export"


def source(cell: dict) -> str:
    """A cell's source as one string (notebook JSON may hold a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: dict) -> str | None:
    return nbgrader(cell).get("grade_id")


def is_code(cell: dict) -> bool:
    return cell.get("cell_type") == "code"


def is_test(cell: dict) -> bool:
    """An autograder-test cell: graded code that is not a student's answer."""
    meta = nbgrader(cell)
    return is_code(cell) and bool(meta.get("grade")) and not meta.get("solution")


def is_solution(cell: dict) -> bool:
    return is_code(cell) and bool(nbgrader(cell).get("solution"))


def is_locked(cell: dict) -> bool:
    return bool(nbgrader(cell).get("locked"))


def points(cell: dict) -> float:
    return float(nbgrader(cell).get("points") or 0)


def export_target(cell: dict) -> str | None:
    """The package module an export cell's code goes to, or None."""
    if not is_code(cell):
        return None
    return (cell.get("metadata", {}).get(COURSE_KEY) or {}).get(EXPORT_KEY)


def export_metadata(package: str) -> dict:
    """The cell metadata that marks a code cell for export to `package`."""
    return {COURSE_KEY: {EXPORT_KEY: package}}


def notebook_info(nb: dict) -> dict:
    """The course's notebook metadata (`module`, `package`, ...), {} for a foreign notebook."""
    return nb.get("metadata", {}).get(COURSE_KEY, {}) or {}


def gradable(cells: Sequence[dict]) -> list[dict]:
    """The code cells a grade depends on: every code cell up to and including the last test.

    Ordinary cells after the last test cell (systems measurements, demos) cannot change a
    grade; graders, `tito test` and autograde skip them.
    """
    code = [c for c in cells if is_code(c)]
    last = max((i for i, c in enumerate(code) if is_test(c)), default=-1)
    return code[: last + 1]
