"""`make demo`: a simulated class through the whole pipeline on one module.

Roster import -> release (as `coursekit release-assignment`, from a schedule) -> each student
fetches, works and submits from their own home -> collect -> autograde -> generate_feedback
-> release_feedback -> Canvas and plain CSV exports, all with nbgrader's own commands, in a
scratch copy of the course (build/demo/) so the real gradebook is never touched.

The demo's clock: the module was due two days ago, and each student's submission carries
the time they handed it in (nbgrader's own timestamp, set per student), so one student is
inside the grace period and one is a day and two hours late and loses 20%.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nbformat import NotebookNode
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..course import Course, Score
from ..grading.batch import grade_class
from ..grading.command import late_note
from ..modules import REPO, Module, find
from ..quality import mutants
from ..ta import export
from ..ta.release import release_assignment
from ..ta.roster import import_canvas_roster
from ..tools import output_console, write_notebook
from . import submissions
from .students import Student, StudentHome, write_roster

# When each kind of student hands in, relative to the due date.
SUBMITTED = {
    "on time": timedelta(hours=-3),
    "grace": timedelta(minutes=6),  # inside the 15 minutes' grace: on time, no penalty
    "late": timedelta(days=1, hours=2),  # the second started day: -20%
}


@dataclass(frozen=True)
class Persona:
    student: Student
    kind: str  # what this simulated student does, shown in the summary
    when: str = "on time"  # a key of SUBMITTED

    @property
    def late(self) -> bool:
        """Late under the course's policy (after the grace period)."""
        return self.when == "late"


def _s(sid: str, first: str, last: str, lms: str) -> Student:
    return Student(sid, first, last, f"{sid}@example.edu", lms)


CLASS = [
    Persona(_s("ada", "Ada", "Lovelace", "5101"), "perfect"),
    Persona(_s("grace", "Grace", "Hopper, Jr.", "5102"), "perfect"),
    Persona(_s("tim", "Tim", "Berners-Lee", "5103"), "perfect"),
    Persona(_s("alan", "Alan", "Turing", "5104"), "blank (submitted the release untouched)"),
    Persona(_s("katherine", "Katherine", "Johnson", "5105"), "partial (first half of the tasks)"),
    Persona(_s("dorothy", "Dorothy", "Vaughan", "5106"), "partial (all but the last task)"),
    Persona(_s("edsger", "Edsger", "Dijkstra", "5107"), "subtly wrong (passes visible tests)"),
    Persona(_s("barbara", "Barbara", "Liskov", "5108"), "subtly wrong (passes visible tests)"),
    Persona(_s("margaret", "Margaret", "Hamilton", "5109"), "broken (syntax error)"),
    Persona(_s("donald", "Donald", "Knuth", "5110"), "perfect", when="late"),
    Persona(_s("frances", "Frances", "Allen", "5111"), "partial (first half)", when="grace"),
    Persona(_s("john", "John", "McCarthy", "5112"), "missing (never submitted)"),
    Persona(_s("leslie", "Leslie", "Lamport", "5113"), "missing (never submitted)"),
]


def notebook_for(
    kind: str, source_nb: NotebookNode, release_nb: NotebookNode, subtle: list
) -> NotebookNode | None:
    """What a persona hands in (None for a missing submission)."""
    regions = submissions.region_count(source_nb)
    if kind == "perfect":
        return mutants.submission(release_nb, mutants.solution_sources(source_nb))
    if kind.startswith("blank"):
        return release_nb
    if kind.startswith("partial (first half"):
        return submissions.partially_solved(source_nb, release_nb, lambda r: r < regions // 2)
    if kind.startswith("partial (all but the last"):
        return submissions.partially_solved(source_nb, release_nb, lambda r: r < regions - 1)
    if kind.startswith("subtly wrong"):
        mutant = subtle.pop(0)
        return mutants.mutant_submission(release_nb, source_nb, mutant)
    if kind.startswith("broken"):
        solved = mutants.submission(release_nb, mutants.solution_sources(source_nb))
        cell = next(c for c in solved.cells if c.metadata.get("nbgrader", {}).get("solution"))
        cell.source = cell.source.replace("):", ")", 1)  # a missing colon
        return solved
    if kind.startswith("missing"):
        return None
    raise ValueError(f"unknown persona kind {kind!r}")


def run(
    module: Module,
    workdir: Path,
    on_step: Callable[[str], None] | None = None,
    db_url: str | None = None,
    cluster: str | None = None,
) -> tuple[Course, dict[str, Score], dict[str, Path]]:
    """Run the simulated class; return the course, scores and the files written.

    `db_url` puts the gradebook in that (empty) PostgreSQL database; `cluster` grades on
    Dask ("local" or a scheduler address, as `coursekit autograde --cluster`)."""
    shutil.rmtree(workdir, ignore_errors=True)
    assignment = module.assignment
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)
    dates = {assignment: {"release": due - timedelta(days=7), "due": due}}
    course = Course.scratch(workdir / "course", [module], schedule=dates, db_url=db_url)
    homes = workdir / "homes"
    step = on_step or (lambda _: None)

    step("roster import")
    roster = write_roster([p.student for p in CLASS], workdir / "canvas_export.csv")
    import_canvas_roster(roster, course.db_url)
    release_assignment(course, module)  # what `make release-assignment` runs

    source_nb, release_nb = course.source_notebook(module), course.release_notebook(module)
    subtle = submissions.subtle_mutants(source_nb, release_nb, course.root / "source" / assignment)
    for persona in CLASS:
        step(f"{persona.student.id}: fetch, work, submit")
        nb = notebook_for(persona.kind, source_nb, release_nb, subtle)
        if nb is None:
            continue
        home = StudentHome(course, persona.student.id, homes)
        folder = home.fetch(assignment)
        write_notebook(nb, folder / module.notebook)
        home.submit(assignment, at=due + SUBMITTED[persona.when])

    step("collect")
    # Every simulated student is the same OS user here; on JupyterHub keep check_owner on.
    course.nbgrader("collect", assignment, "--update", "--CollectApp.check_owner=False")
    step("autograde (contained, 2 workers)")
    grade_class(course, module, jobs=2, cluster=cluster)
    step("generate and release feedback")
    course.nbgrader("generate_feedback", assignment, "--force")
    course.nbgrader("release_feedback", assignment)
    StudentHome(course, CLASS[0].student.id, homes).fetch_feedback(assignment)
    step("export grades")
    export.run(course, [module], ["canvas", "plain"], None, Console(quiet=True))
    files = {
        "canvas": course.gradebook_dir / "canvas_grades.csv",
        "plain": course.gradebook_dir / "grades.csv",
        "feedback": course.root / "feedback",
    }
    return course, course.scores(module), files


def summary(module: Module, scores: dict[str, Score]) -> Table:
    table = Table(title=f"Module {module.assignment}: autograded class")
    for col in ("student", "what they did", "score", "handed in", "tests that lost points"):
        table.add_column(col)
    for persona in CLASS:
        sid = persona.student.id
        s = scores.get(sid)
        if s is None:
            table.add_row(sid, persona.kind, "-", "", "no submission (blank in the LMS export)")
            continue
        table.add_row(
            sid,
            persona.kind,
            f"{s.score:g} / {s.max_score:g}",
            late_note(s) or "on time",
            ", ".join(s.failed) or "none",
        )
    return table


def main(module_name: str = "01_tensor", workdir: Path | None = None) -> int:
    console = output_console()
    module = find(module_name)
    workdir = workdir or REPO / "build" / "demo"
    start = time.perf_counter()
    steps = 6 + sum(1 for _ in CLASS)
    with Progress(
        TextColumn("[bold]{task.description:<42}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("setting up a scratch course", total=steps)

        def on_step(what: str) -> None:
            progress.update(task, advance=1, description=what)

        course, scores, files = run(module, workdir, on_step)
        progress.update(task, completed=steps, description="done")
    console.print(summary(module, scores))
    console.print(f"Canvas import CSV:   {files['canvas']}")
    console.print(f"Plain grades CSV:    {files['plain']}")
    console.print(f"Feedback (HTML):     {files['feedback']}/<student>/{module.assignment}/")
    console.print(f"Gradebook:           {course.root / 'gradebook' / 'gradebook.db'}")
    console.print(f"Finished in {time.perf_counter() - start:.0f} s.")
    return 0
