"""Publish a module's solution to students after its late window, through nbgrader's exchange.

`publish_solutions(course_root, "02_activations")` releases `solutions/02_activations/` as
the assignment `02_activations-solution`, with nbgrader's own `release_assignment` (so the
exchange gets exactly the layout and permissions of any release), from a staging folder.
Students then run `nbgrader fetch_assignment 02_activations-solution` and
`tito install-solution 02_activations`.

It refuses (`Refused`, a message for the instructor) while late students could still copy the
solution and earn points: until the due date in `schedule.toml`, plus the longest extension in
the gradebook, plus the late policy's grace period and days, has passed. It also refuses a
module that has no due date or was never released. `force=True` publishes anyway.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from ..course import SOLUTION_SUFFIX, Course
from ..schedule import Refused
from ..tools import run_nbgrader

FORCING = (
    "Forcing (make release-solutions ASSIGNMENT={a} FORCE=1) publishes it now: students "
    "still inside the late window can copy it. Their late submissions are then graded as "
    'usual and flagged "matches the released solution" for a human.'
)


def too_early(course: Course, assignment: str, now: dt.datetime | None = None) -> str | None:
    """Why the solution of `assignment` must not be published yet, or None when it may."""
    now = now or dt.datetime.now(dt.UTC)
    schedule = course.schedule
    if not course.released(assignment):
        return (
            f"{assignment} was never released to students (it is not in the exchange "
            f"{course.exchange}): release it first (make release-assignment "
            f"ASSIGNMENT={assignment})."
        )
    closes = course.late_window_closes(assignment)
    if closes is None:
        return (
            f"{assignment} has no due date in {schedule.path.name}, so nothing says when late "
            f"students are done: add `due = ...` under [{assignment}]."
        )
    if now < closes:
        return (
            f"{assignment} is due {schedule.local(course.due(assignment))}; late submissions "
            f"can earn points until {schedule.local(closes)} (grace period and late days of "
            f"the late policy, and the longest extension). Publish after that."
        )
    return None


def check(course: Course, assignment: str, now: dt.datetime | None = None) -> None:
    """Raise Refused, saying why and what forcing means, when it is too early."""
    reason = too_early(course, assignment, now)
    if reason:
        raise Refused(f"{reason} {FORCING.format(a=assignment)}")


def publish_solutions(
    course_root: Path, assignment: str, *, force: bool = False, now: dt.datetime | None = None
) -> Path:
    """Release `solutions/<assignment>/` to the exchange as `<assignment>-solution`.

    Raises Refused (see `check`) unless `force`, and FileNotFoundError when `make release`
    has not produced the solution. Publishing again replaces the earlier copy. Returns the
    folder in the exchange's outbound area.
    """
    course = Course(course_root)
    solution = course.folder("solutions") / assignment
    if not any(solution.glob("*.ipynb")):
        raise FileNotFoundError(f"{solution} holds no notebook: run `make release` first")
    if not force:
        check(course, assignment, now)
    name = f"{assignment}{SOLUTION_SUFFIX}"
    with tempfile.TemporaryDirectory(prefix="tinytorch-solutions-") as staging:
        shutil.copytree(solution, Path(staging) / name)
        run_nbgrader(
            [
                "release_assignment",
                name,
                "--force",
                f"--CourseDirectory.release_directory={staging}",
            ],
            course.root,
        )
    outbound = course.outbound(name)
    if not outbound.is_dir():
        raise RuntimeError(f"nbgrader reported success but {outbound} is missing")
    return outbound
