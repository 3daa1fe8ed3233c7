"""The course: one owner for everything `nbgrader_config.py` says and every path under it.

A `Course` is a course folder nbgrader can grade in (the repository itself, or a scratch
copy made by the tests and the demo). It loads `nbgrader_config.py` and `schedule.toml`
once, without side effects, and answers the course id, the gradebook URL, the exchange, the
folders, the sandbox limits, the late policy, each module's dates and the students' scores;
nothing else in the tooling reads those files or builds those paths.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import schedule as schedule_file
from .modules import REPO, Module
from .tools import run_nbgrader, write_notebook

CONFIG_FILE = "nbgrader_config.py"
SOLUTION_SUFFIX = "-solution"  # a module's published solution is the assignment NN_name-solution
STAGING = "staging"  # nbgrader's submitted_directory while grading: intake's repaired copies
# What `Course.use_gradebook` appends to a course's nbgrader_config.py (replaced, never stacked).
GRADEBOOK_MARK = "# --- gradebook of this course copy (Course.use_gradebook) ---"


@dataclass(frozen=True)
class Score:
    """One student's result for one assignment, as the LMS will see it.

    `score` is the figure everywhere (tables, report, LMS): the raw score minus the late
    penalty, floored at 0. `raw_score` and `late_penalty` say how it came about.
    """

    student: str
    score: float
    max_score: float
    failed: tuple[str, ...]  # grade_ids of test cells that lost points
    raw_score: float = 0.0
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    days_late: int = 0  # started days late under the late policy (0 inside the grace period)

    @property
    def late(self) -> bool:
        """Late under the policy: after the due date and past the grace period."""
        return self.days_late > 0

    @property
    def in_grace(self) -> bool:
        """After the due date but inside the grace period: on time, no penalty."""
        return self.seconds_late > 0 and self.days_late == 0


def gradebook_missing(db_url: str) -> bool:
    """True for a SQLite gradebook whose file does not exist yet (nothing graded there)."""
    prefix = "sqlite:///"
    return db_url.startswith(prefix) and not Path(db_url[len(prefix) :].split("?")[0]).is_file()


def penalised(raw: float, penalty: float) -> float:
    """The score after the late penalty, never below 0 (nbgrader's own rule)."""
    return max(0.0, (raw or 0.0) - (penalty or 0.0))


class Course:
    """An nbgrader course folder (`nbgrader_config.py` at its root)."""

    def __init__(self, root: Path = REPO):
        self.root = Path(root).absolute()

    @classmethod
    def scratch(
        cls,
        dest: Path,
        modules: list[Module],
        repo: Path = REPO,
        schedule: dict | None = None,
        db_url: str | None = None,
    ) -> Course:
        """A fresh copy of the course for `modules`, with a gradebook that knows them.

        The repository's schedule is not copied (its dates are the real semester's): give
        `schedule` ({assignment: {"release": datetime, "due": datetime}}) to have one.
        `db_url` puts the gradebook in that (empty) database instead of SQLite.
        """
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / CONFIG_FILE, dest / CONFIG_FILE)
        if db_url:
            cls(dest).use_gradebook(db_url)
        if schedule:
            text = schedule_file.dump(schedule)
            (dest / schedule_file.SCHEDULE_FILE).write_text(text, encoding="utf-8")
        (dest / "gradebook").mkdir(exist_ok=True)
        for module in modules:
            for folder in ("masters", "source"):
                shutil.copytree(
                    repo / folder / module.assignment, dest / folder / module.assignment
                )
        course = cls(dest)
        for module in modules:
            course.ensure_assignment(module)
        return course

    # --- what the configuration says ------------------------------------------------------

    @cached_property
    def config(self) -> Config:
        """The course's nbgrader configuration, loaded once (loading it changes nothing)."""
        return PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()

    @property
    def course_id(self) -> str:
        return self.config.CourseDirectory.course_id

    @property
    def db_url(self) -> str:
        return self.config.CourseDirectory.db_url

    def use_gradebook(self, db_url: str) -> None:
        """Point this course's nbgrader_config.py at another gradebook database (a scratch
        copy's own PostgreSQL database, say); the schema is created there at once."""
        from .grading.database import init_schema

        path = self.root / CONFIG_FILE
        text = path.read_text(encoding="utf-8").split("\n" + GRADEBOOK_MARK)[0].rstrip("\n")
        text += f"\n\n{GRADEBOOK_MARK}\nc.CourseDirectory.db_url = {db_url!r}\n"
        path.write_text(text, encoding="utf-8")
        self.__dict__.pop("config", None)
        init_schema(db_url, self.course_id)

    def has_gradebook(self) -> bool:
        return not gradebook_missing(self.db_url)

    @property
    def exchange(self) -> Path:
        return Path(self.config.Exchange.root)

    def sandbox(self):
        """The grading kernels' limits (`c.Sandbox...` in the config, typed defaults)."""
        from .grading.sandbox import Sandbox

        return Sandbox(config=self.config)

    def late_policy(self):
        """The late policy nbgrader applies at autograde (`c.CoursePolicyLatePenalty...`)."""
        from .plugins.late import CoursePolicyLatePenalty

        return CoursePolicyLatePenalty(config=self.config)

    # --- the schedule ---------------------------------------------------------------------

    @cached_property
    def schedule(self) -> schedule_file.Schedule:
        """Each module's release and due dates (`schedule.toml`; empty when there is none)."""
        return schedule_file.load(self.root)

    def due(self, module: Module | str) -> dt.datetime | None:
        """The module's due date (UTC) from the schedule, or None."""
        return self.schedule[_name(module)].due

    def late_window_closes(self, module: Module | str) -> dt.datetime | None:
        """When the last late submission that can still earn points is past: the due date,
        plus the longest extension the gradebook records, plus the grace period and the
        policy's days. None without a due date."""
        due = self.due(module)
        if due is None:
            return None
        return due + self.longest_extension(module) + self.late_policy().window()

    def longest_extension(self, module: Module | str) -> dt.timedelta:
        """The longest extension granted on this assignment in the gradebook (nbgrader's own
        `SubmittedAssignment.extension`), zero when none."""
        if not self.has_gradebook():
            return dt.timedelta(0)
        with Gradebook(self.db_url) as gb:
            try:
                subs = gb.find_assignment(_name(module)).submissions
            except MissingEntry:
                return dt.timedelta(0)
            return max((s.extension for s in subs if s.extension), default=dt.timedelta(0))

    def outbound(self, name: str) -> Path:
        """Where a released assignment sits in the exchange, for students to fetch."""
        return self.exchange / self.course_id / "outbound" / name

    def released(self, module: Module | str) -> bool:
        """True when students can fetch the module: its release is in the exchange."""
        return self.outbound(_name(module)).is_dir()

    def published_solution(self, module: Module | str) -> Path | None:
        """The module's solution as students can fetch it from the exchange, or None."""
        folder = self.outbound(_name(module) + SOLUTION_SUFFIX)
        return folder if folder.is_dir() else None

    # --- folders ----------------------------------------------------------------------------

    def folder(self, kind: str, module: Module | None = None, student: str | None = None) -> Path:
        """`source/`, `release/`, `submitted/<student>/`, ... and the assignment inside."""
        path = self.root / kind
        if student is not None:
            path = path / student
        return path / module.assignment if module is not None else path

    @property
    def staging(self) -> Path:
        return self.root / STAGING

    @property
    def gradebook_dir(self) -> Path:
        return self.root / "gradebook"

    def release_notebook(self, module: Module) -> NotebookNode:
        return nbformat.read(self.folder("release", module) / module.notebook, 4)

    def source_notebook(self, module: Module) -> NotebookNode:
        return nbformat.read(self.folder("source", module) / module.notebook, 4)

    # --- nbgrader -----------------------------------------------------------------------------

    def nbgrader(self, *args: str) -> str:
        return run_nbgrader(list(args), self.root)

    def ensure_assignment(self, module: Module) -> None:
        """Make the gradebook hold the assignment and its hidden tests.

        `generate_assignment` is what stores the hidden tests; a fresh clone's gradebook has
        never seen it, so grading commands call this first. It rewrites release/ with the
        same bytes the build produced. The gradebook's due date (what nbgrader's late
        penalties count from) is then set from the schedule, which owns it: a due date set
        another way (`nbgrader db assignment add --duedate`) is replaced.
        """
        self.nbgrader("generate_assignment", module.assignment, "--force")
        due = self.due(module)
        with Gradebook(self.db_url) as gb:
            # nbgrader stores due dates as naive UTC.
            naive = due.astimezone(dt.UTC).replace(tzinfo=None) if due else None
            gb.update_or_create_assignment(module.assignment, duedate=naive)

    def submit_directly(
        self,
        student: str,
        module: Module,
        nb: NotebookNode,
        timestamp: str | None = None,
        enrol: bool = True,
    ) -> Path:
        """Place a notebook in submitted/ as `nbgrader collect` would (no exchange).

        The student is put on the roster (the gradebook's students) unless `enrol` is False.
        """
        if enrol:
            with Gradebook(self.db_url) as gb:
                gb.update_or_create_student(student)
        folder = self.folder("submitted", module, student)
        folder.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, folder / module.notebook)
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp)
        return folder

    def autograde(self, module: Module, *extra: str) -> str:
        return self.nbgrader("autograde", module.assignment, "--force", *extra)

    def test_order(self, assignment: str) -> dict[str, int]:
        """Each graded cell's position in the assignment's source notebooks."""
        order: dict[str, int] = {}
        for path in sorted((self.root / "source" / assignment).glob("*.ipynb")):
            for cell in nbformat.read(path, 4).cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id:
                    order.setdefault(grade_id, len(order))
        return order

    def scores(self, module: Module | str) -> dict[str, Score]:
        """Every student's result for one assignment (a module or its name), from the gradebook."""
        assignment = _name(module)
        policy = self.late_policy()
        order = self.test_order(assignment)
        found = {}
        with Gradebook(self.db_url) as gb:
            for student in gb.students:
                try:
                    sub = gb.find_submission(assignment, student.id)
                except MissingEntry:
                    continue
                # In the notebook's order: the database returns the rows in any order
                # (PostgreSQL's changes as rows are updated).
                failed = tuple(
                    sorted(
                        (
                            g.name
                            for nb in sub.notebooks
                            for g in nb.grades
                            if g.max_score and (g.score or 0) < g.max_score
                        ),
                        key=lambda name: (order.get(name, len(order)), name),
                    )
                )
                found[student.id] = Score(
                    student.id,
                    penalised(sub.score, sub.late_submission_penalty),
                    sub.max_score,
                    failed,
                    raw_score=sub.score or 0.0,
                    late_penalty=sub.late_submission_penalty or 0.0,
                    seconds_late=sub.total_seconds_late or 0.0,
                    days_late=policy.days_late(sub.total_seconds_late or 0.0),
                )
        return found


def _name(module: Module | str) -> str:
    return module if isinstance(module, str) else module.assignment
