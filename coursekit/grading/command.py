"""`coursekit autograde`: grade a class with a progress bar, then a table and what needs a human."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from ..course import Course, Score
from ..modules import Module
from . import flags as flag_file
from .batch import Run, flags_file, grade_class, write_flags
from .cluster import ClusterMismatch


def late_note(score: Score | None) -> str:
    """What the table says about lateness: nothing when on time, "on time (grace)" inside
    the grace period, else the started days late and the penalty."""
    if score is None or score.seconds_late <= 0:
        return ""
    if score.in_grace:
        return "on time (grace)"
    days = f"{score.days_late} day{'s' * (score.days_late > 1)}"
    if score.late_penalty:
        return f"late {days}: -{score.late_penalty:g}"
    return f"late {days}: no points to take"


def title(module: Module, run: Run) -> str:
    reasons = Counter(o.reason for o in run.graded)
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    text = f"{module.assignment}: {len(run.graded)} graded"
    text += f" ({why})" if why else ""
    text += f", {len(run.skipped)} unchanged"
    if run.unrostered:
        text += f", {len(run.unrostered)} not on the roster"
    return text


def table(module: Module, run: Run, scores: dict[str, Score], open_flags: dict) -> Table:
    result = Table(title=title(module, run))
    for col in ("student", "score", "late", "tests that lost points", "needs a human"):
        result.add_column(col)
    graded = {o.student for o in run.graded}
    for student in sorted(graded | set(run.skipped) | set(run.unrostered)):
        s = scores.get(student) if student not in run.unrostered else None
        result.add_row(
            escape(student),
            f"{s.score:g} / {s.max_score:g}" if s else "-",
            late_note(s),
            ", ".join(s.failed) if s else "",
            escape("; ".join(open_flags.get(student, []))),
        )
    return result


def run_autograde(
    course: Course,
    module: Module,
    jobs: int,
    force: bool,
    only: list[str] | None,
    console: Console,
    cluster: str | None = None,
) -> int:
    if course.due(module) is None:
        console.print(
            f"[yellow]{module.assignment} has no due date in {course.schedule.path.name}: "
            "nobody is late and no penalty is applied (make schedule shows the dates)."
        )
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

        try:
            run = grade_class(
                course, module, jobs=jobs, force=force, only=only, on_done=on_done, cluster=cluster
            )
        except ClusterMismatch as err:
            progress.stop()
            console.print(f"[red]{escape(str(err))}")
            return 2
    path = write_flags(course, module, run)
    open_flags = flag_file.open_by_student(flag_file.load(path))
    console.print(table(module, run, course.scores(module), open_flags))
    waiting = sum(len(v) for v in open_flags.values())
    console.print(
        f"{run.seconds:.0f} s with {jobs} workers{' on Dask' if cluster else ''}; {waiting} open flags in {path} "
        f"(make flags ASSIGNMENT={module.assignment} lists them; CLEAR=STUDENT clears them)"
    )
    if run.unrostered:
        console.print(
            f"[yellow]Not on the roster, so not graded and never exported: "
            f"{', '.join(sorted(run.unrostered))}."
        )
    if run.interrupted:
        console.print("[yellow]Interrupted: run the same command again to resume.")
        return 130
    if run.failures:
        console.print(f"[red]{len(run.failures)} submissions could not be graded: see the table.")
        return 1
    return 0


def run_flags(
    course: Course, module: Module, clear: str | None, show_all: bool, who: str, console: Console
) -> int:
    """`coursekit flags`: the open flags of an assignment; `--clear STUDENT` clears theirs."""
    path = flags_file(course, module)
    found = flag_file.load(path)
    if clear:
        found, count = flag_file.clear(found, clear, who)
        if not count:
            console.print(f"[yellow]{clear} has no open flags on {module.assignment}.")
            return 1
        flag_file.save(path, found)
        console.print(f"Cleared {count} flag(s) of {clear} on {module.assignment} ({who}).")
        return 0
    shown = [f for f in found if show_all or f.open]
    result = Table(title=f"{module.assignment}: {len(shown)} {'' if show_all else 'open '}flags")
    for col in ("student", "flag", "raised", *(["cleared"] if show_all else [])):
        result.add_column(col, overflow="fold")
    for f in shown:
        result.add_row(
            escape(f.student), escape(f.flag), f.raised, *([f.cleared] if show_all else [])
        )
    console.print(result)
    return 0
