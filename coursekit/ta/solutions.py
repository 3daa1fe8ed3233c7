"""Publish a module's solution to students after its deadline, through nbgrader's exchange.

`publish_solutions(course_root, "02_activations")` releases `solutions/02_activations/` as
the assignment `02_activations-solution`, with nbgrader's own `release_assignment` (so the
exchange gets exactly the layout and permissions of any release), from a staging folder.
Students then run `nbgrader fetch_assignment 02_activations-solution` and
`tito install-solution 02_activations`.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from ..tools import run_nbgrader

SUFFIX = "-solution"


def deadline(course_root: Path, assignment: str) -> datetime | None:
    """The assignment's due date from the course gradebook (UTC), or None when none is set."""
    course = Course(course_root)
    if not course.has_gradebook():
        return None
    with Gradebook(course.db_url) as gb:
        try:
            due = gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None
    return due.replace(tzinfo=UTC) if due is not None else None


def publish_solutions(course_root: Path, assignment: str, *, force: bool = False) -> Path:
    """Release `solutions/<assignment>/` to the exchange as `<assignment>-solution`.

    Refuses (ValueError) before the assignment's due date in the gradebook unless `force`;
    raises FileNotFoundError when `make release` has not produced the solution. Publishing
    again replaces the earlier copy. Returns the folder in the exchange's outbound area.
    """
    course_root = Path(course_root).absolute()
    solution = course_root / "solutions" / assignment
    if not any(solution.glob("*.ipynb")):
        raise FileNotFoundError(f"{solution} holds no notebook: run `make release` first")
    due = deadline(course_root, assignment)
    if due is not None and due > datetime.now(UTC) and not force:
        raise ValueError(
            f"{assignment} is due {due:%Y-%m-%d %H:%M} UTC: its solution is published after "
            "the deadline (force=True publishes it anyway)"
        )
    name = f"{assignment}{SUFFIX}"
    with tempfile.TemporaryDirectory(prefix="tinytorch-solutions-") as staging:
        shutil.copytree(solution, Path(staging) / name)
        run_nbgrader(
            [
                "release_assignment",
                name,
                "--force",
                f"--CourseDirectory.release_directory={staging}",
            ],
            course_root,
        )
    course = Course(course_root)
    outbound = course.exchange / course.course_id / "outbound" / name
    if not outbound.is_dir():
        raise RuntimeError(f"nbgrader reported success but {outbound} is missing")
    return outbound
