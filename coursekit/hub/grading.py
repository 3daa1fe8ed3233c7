"""Grading on the hub: the course's own grading command, as root, on the instructor's course.

The formgrader's Autograde button runs as the instructor, and the sandbox that contains
student code needs root, so on this hub grading is a terminal command run as root (what
`coursekit autograde` is everywhere): `coursekit hub grade 01_tensor`. It uses the hub's
exchange, grades the collected submissions of the instructor's course in contained
kernels, and hands every file back to the instructor, whose formgrader then shows the
grades and generates and releases the feedback. `--collect` and `--feedback` do those two
steps here too, for an instructor who prefers the terminal.
"""

from __future__ import annotations

import os

from rich.console import Console

from ..course import Course
from ..grading.command import run_autograde
from ..modules import find
from .config import exchange_environment
from .environment import chown_tree
from .layout import Instance
from .server import require_root


def grade(
    instance: Instance,
    assignment: str,
    jobs: int = 2,
    collect: bool = False,
    feedback: bool = False,
    console: Console | None = None,
) -> int:
    require_root()
    console = console or Console()
    os.environ.update(exchange_environment(instance))  # the course's config reads it
    course = Course(instance.course_root)
    module = find(assignment, instance.repo)
    try:
        if collect:
            console.print(course.nbgrader("collect", module.assignment, "--update").strip())
        code = run_autograde(course, module, jobs, False, None, console)
        if code == 0 and feedback:
            course.nbgrader("generate_feedback", module.assignment, "--force")
            course.nbgrader("release_feedback", module.assignment)
            console.print(f"Feedback for {module.assignment} generated and released")
    finally:
        chown_tree(course.root, instance.instructor.account)
    return code
