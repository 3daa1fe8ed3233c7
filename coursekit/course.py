"""The course: one owner for everything `nbgrader_config.py` says and every path under it.

A `Course` is a course folder nbgrader can grade in (the repository itself, or a scratch
copy made by the tests and the demo). It loads `nbgrader_config.py` once, without side
effects, and answers the course id, the gradebook URL, the exchange, the folders, the
sandbox limits and the students' scores; nothing else in the tooling reads the config file
or builds those paths.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .modules import REPO, Module
from .tools import run_nbgrader, write_notebook

CONFIG_FILE = "nbgrader_config.py"
STAGING = "staging"  # nbgrader's submitted_directory while grading: intake's repaired copies


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

    @property
    def late(self) -> bool:
        return self.seconds_late > 0


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
    def scratch(cls, dest: Path, modules: list[Module], repo: Path = REPO) -> Course:
        """A fresh copy of the course for `modules`, with a gradebook that knows them."""
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / CONFIG_FILE, dest / CONFIG_FILE)
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

    def has_gradebook(self) -> bool:
        return not gradebook_missing(self.db_url)

    @property
    def exchange(self) -> Path:
        return Path(self.config.Exchange.root)

    def sandbox(self):
        """The grading kernels' limits (`c.Sandbox...` in the config, typed defaults)."""
        from .grading.sandbox import Sandbox

        return Sandbox(config=self.config)

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
        same bytes the build produced.
        """
        self.nbgrader("generate_assignment", module.assignment, "--force")

    def submit_directly(
        self, student: str, module: Module, nb: NotebookNode, timestamp: str | None = None
    ) -> Path:
        """Place a notebook in submitted/ as `nbgrader collect` would (no exchange)."""
        folder = self.folder("submitted", module, student)
        folder.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, folder / module.notebook)
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp)
        return folder

    def autograde(self, module: Module, *extra: str) -> str:
        return self.nbgrader("autograde", module.assignment, "--force", *extra)

    def scores(self, module: Module | str) -> dict[str, Score]:
        """Every student's result for one assignment (a module or its name), from the gradebook."""
        assignment = module if isinstance(module, str) else module.assignment
        found = {}
        with Gradebook(self.db_url) as gb:
            for student in gb.students:
                try:
                    sub = gb.find_submission(assignment, student.id)
                except MissingEntry:
                    continue
                failed = tuple(
                    g.name
                    for nb in sub.notebooks
                    for g in nb.grades
                    if g.max_score and (g.score or 0) < g.max_score
                )
                found[student.id] = Score(
                    student.id,
                    penalised(sub.score, sub.late_submission_penalty),
                    sub.max_score,
                    failed,
                    raw_score=sub.score or 0.0,
                    late_penalty=sub.late_submission_penalty or 0.0,
                    seconds_late=sub.total_seconds_late or 0.0,
                )
        return found
