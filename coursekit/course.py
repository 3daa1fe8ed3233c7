"""A course folder nbgrader can grade in: the real one, or a scratch copy for tests and demos."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry

from .build import nbgrader, write_notebook
from .modules import REPO, Module


@dataclass(frozen=True)
class Score:
    student: str
    score: float
    max_score: float
    failed: tuple[str, ...]  # grade_ids of test cells that lost points
    late: bool = False


class Course:
    """An nbgrader course folder (`nbgrader_config.py` at its root)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def scratch(cls, dest: Path, modules: list[Module], repo: Path = REPO) -> Course:
        """A fresh copy of the course for `modules`, with a gradebook that knows them."""
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / "nbgrader_config.py", dest / "nbgrader_config.py")
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

    @property
    def exchange(self) -> Path:
        return Path(os.environ.get("TINYTORCH_EXCHANGE", self.root / "exchange"))

    @property
    def db_url(self) -> str:
        return "sqlite:///" + str(self.root / "gradebook" / "gradebook.db")

    def nbgrader(self, *args: str) -> str:
        return nbgrader(list(args), self.root)

    def ensure_assignment(self, module: Module) -> None:
        """Make the gradebook hold the assignment and its hidden tests.

        `generate_assignment` is what stores the hidden tests; a fresh clone's gradebook has
        never seen it, so grading commands call this first. It rewrites release/ with the
        same bytes the build produced.
        """
        self.nbgrader("generate_assignment", module.assignment, "--force")

    def release_notebook(self, module: Module) -> NotebookNode:
        return nbformat.read(self.root / "release" / module.assignment / module.notebook, 4)

    def source_notebook(self, module: Module) -> NotebookNode:
        return nbformat.read(self.root / "source" / module.assignment / module.notebook, 4)

    def submit_directly(
        self, student: str, module: Module, nb: NotebookNode, timestamp: str | None = None
    ) -> Path:
        """Place a notebook in submitted/ as `nbgrader collect` would (no exchange)."""
        folder = self.root / "submitted" / student / module.assignment
        folder.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, folder / module.notebook)
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp)
        return folder

    def autograde(self, module: Module, *extra: str) -> str:
        return self.nbgrader("autograde", module.assignment, "--force", *extra)

    def scores(self, module: Module) -> dict[str, Score]:
        """Every student's result for one assignment, from the gradebook."""
        found = {}
        with Gradebook(self.db_url) as gb:
            for student in gb.students:
                try:
                    sub = gb.find_submission(module.assignment, student.id)
                except MissingEntry:
                    continue
                failed = tuple(
                    g.name
                    for nb in sub.notebooks
                    for g in nb.grades
                    if g.max_score and (g.score or 0) < g.max_score
                )
                found[student.id] = Score(
                    student.id, sub.score, sub.max_score, failed, bool(sub.total_seconds_late)
                )
        return found
