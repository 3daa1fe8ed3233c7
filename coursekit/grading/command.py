"""`coursekit autograde`: grade a class with a progress bar, then a table and what needs a human."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from ..course import Course, Score
from ..modules import Module
from .batch import grade_class, write_flags


def late_note(score: Score | None) -> str:
    """What the table says about lateness: the penalty, or nothing when on time."""
    if score is None or not score.late:
        return ""
    if score.late_penalty:
        return f"late: -{score.late_penalty:g}"
    return "late, no penalty"


def run_autograde(
    course: Course,
    module: Module,
    jobs: int,
    force: bool,
    only: list[str] | None,
    console: Console,
) -> int:
    with Progress(
        "[bold]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"autograde {module.assignment}", total=None)

        def on_done(outcome, done, total):
            progress.update(task, completed=done, total=total)

        run = grade_class(course, module, jobs=jobs, force=force, only=only, on_done=on_done)
    scores = course.scores(module)
    table = Table(
        title=f"{module.assignment}: {len(run.graded)} graded, {len(run.skipped)} unchanged"
    )
    for col in ("student", "score", "late", "tests that lost points", "needs a human"):
        table.add_column(col)
    outcomes = {o.student: o for o in run.graded}
    for student in sorted(set(outcomes) | set(run.skipped)):
        s, o = scores.get(student), outcomes.get(student)
        notes = o.notes() if o else []
        table.add_row(
            student,
            f"{s.score:g} / {s.max_score:g}" if s else "-",
            late_note(s),
            ", ".join(s.failed) if s else "",
            "; ".join(notes),
        )
    console.print(table)
    flags = write_flags(course, module, run)
    console.print(f"{run.seconds:.0f} s with {jobs} workers; flags: {flags}")
    if run.interrupted:
        console.print("[yellow]Interrupted: run the same command again to resume.")
        return 130
    if run.failures:
        console.print(f"[red]{len(run.failures)} submissions could not be graded: see the table.")
        return 1
    return 0
