"""The student side of nbgrader's exchange, simulated: each student a home folder and a user.

Used by the demo and the end-to-end tests: students run nbgrader's own `fetch_assignment`,
`submit` and `fetch_feedback` from their home, with `HOME` and `USER` set to theirs, exactly
as on a shared JupyterHub machine with a local exchange.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from tito import exchange

from ..course import Course
from ..tools import run_nbgrader, tool_env


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str


def write_roster(students: list[Student], path: Path) -> Path:
    """The class as a Canvas gradebook export (what `coursekit roster` imports).

    Canvas names students "Last, First", puts its own user id in `ID` and the institution's
    id (here: the JupyterHub user name, nbgrader's student id) in `SIS User ID`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        writer.writerow(["    Points Possible", "", "", "", ""])
        for s in students:
            writer.writerow([f"{s.last_name}, {s.first_name}", s.lms_user_id, s.id, s.email, ""])
    return path


def hub_environment(course: Course) -> dict[str, str]:
    """What JupyterHub's spawner sets for every student (docs/instructor-guide.md)."""
    return {exchange.COURSE_ENV: course.course_id, exchange.EXCHANGE_ENV: str(course.exchange)}


class StudentHome:
    """One student's home folder, with the nbgrader configuration `tito setup --write`
    writes (the same code), unless `configured` is False (a fresh home)."""

    def __init__(self, course: Course, student_id: str, homes: Path, configured: bool = True):
        self.course, self.id = course, student_id
        self.home = homes / student_id
        self.home.mkdir(parents=True, exist_ok=True)
        if configured:
            wanted = exchange.Settings(course.course_id, course.exchange)
            exchange.write(wanted, self.home / ".jupyter" / "nbgrader_config.py")

    def run(self, *args: str) -> str:
        env = tool_env(HOME=str(self.home), USER=self.id, LOGNAME=self.id)
        env.pop("JUPYTER_CONFIG_DIR", None)
        return run_nbgrader(list(args), self.home, env=env)

    def fetch(self, assignment: str) -> Path:
        self.run("fetch_assignment", assignment)
        return self.home / assignment

    # On JupyterHub each student is an OS user and nbgrader takes the id from the login;
    # here every simulated student shares one OS user, so the id is given explicitly.
    def submit(self, assignment: str, at: dt.datetime | None = None) -> str:
        """Submit; `at` simulates the time of submission (the demo's clock): nbgrader's own
        timestamp format is set to that moment, so the exchange, the student's cache and
        collect all see it."""
        extra = []
        if at is not None:
            stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
            extra = [f"--Exchange.timestamp_format={stamp}"]
        return self.run("submit", assignment, f"--student={self.id}", *extra)

    def fetch_feedback(self, assignment: str) -> Path:
        self.run("fetch_feedback", assignment, f"--student={self.id}")
        return self.home / assignment / "feedback"
