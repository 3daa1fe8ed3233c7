"""Release a module to students when the schedule says so: `coursekit release-assignment`.

The gradebook is made to know the assignment (nbgrader's `generate_assignment`, which stores
the hidden tests) with the schedule's due date, then nbgrader's own `release_assignment` puts
`release/<assignment>/` into the exchange, replacing an earlier release. It refuses a module
without a due date (late penalties and the solutions' guard would have nothing to count from)
and one whose release date has not come, unless forced.
"""

from __future__ import annotations

import datetime as dt

from ..course import Course
from ..modules import Module
from ..schedule import Refused


def check(course: Course, module: Module, now: dt.datetime | None = None) -> None:
    """Raise Refused when the schedule says `module` must not be released now."""
    now = now or dt.datetime.now(dt.UTC)
    a, schedule = module.assignment, course.schedule
    dates = schedule[a]
    force = f"make release-assignment ASSIGNMENT={a} FORCE=1 releases it anyway"
    if dates.due is None:
        raise Refused(
            f"{a} has no due date in {schedule.path.name}: without one nothing is ever late "
            f"and its solution can never be published. Add release and due under [{a}] "
            f"(make schedule shows them); {force}, without a due date."
        )
    if dates.release is not None and now < dates.release:
        raise Refused(
            f"{a} is scheduled for release on {schedule.local(dates.release)}, not before; "
            f"{force}, early."
        )


def release_assignment(
    course: Course, module: Module, force: bool = False, now: dt.datetime | None = None
) -> bool:
    """Put the module in the exchange; True when it replaced an earlier release."""
    if not force:
        check(course, module, now)
    again = course.released(module)
    course.ensure_assignment(module)
    course.nbgrader("release_assignment", module.assignment, "--force")
    return again


def state(course: Course, module: Module, now: dt.datetime) -> str:
    """Where the module stands today, in the words of the schedule table."""
    dates = course.schedule[module.assignment]
    released = course.released(module)
    closes = course.late_window_closes(module)
    if course.published_solution(module):
        return "solution published"
    if not released:
        if dates.release is not None and now < dates.release:
            return "not yet released"
        return "not released: make release-assignment" if dates.due else "no dates"
    if dates.due is None:
        return "released, no due date"
    if now < dates.due:
        return "open"
    if now < closes:
        return "late window open"
    return "closed: make release-solutions"


def schedule_table(course: Course, modules: list[Module], now: dt.datetime | None = None):
    """The schedule as a table (`coursekit schedule`), and what looks wrong in it."""
    from rich.table import Table

    now = now or dt.datetime.now(dt.UTC)
    schedule = course.schedule
    where = schedule.path.name if schedule.exists() else f"{schedule.path.name} (missing)"
    table = Table(title=f"Schedule ({where}; times in {schedule.timezone})")
    for column in ("module", "release", "due", "late window closes", "canvas id", "now"):
        table.add_column(column)
    for module in modules:
        dates = schedule[module.assignment]
        table.add_row(
            module.assignment,
            schedule.local(dates.release),
            schedule.local(dates.due),
            schedule.local(course.late_window_closes(module)),
            dates.canvas or "-",
            state(course, module, now),
        )
    return table, schedule.problems([m.assignment for m in modules])
