"""Grading on the hub: the course's own grading command, as root, on the instructor's course.

The formgrader's Autograde button runs as the instructor, and the sandbox that contains
student code needs root, so on this hub grading is a terminal command run as root (what
`coursekit autograde` is everywhere): `coursekit hub grade 01_tensor`. It grades the
collected submissions of the instructor's course in contained kernels and hands every file
back to the instructor, whose formgrader then shows the grades and generates and releases
the feedback. `--collect` and `--feedback` do those steps here too, for an instructor who
prefers the terminal; they run as the instructor, as in the formgrader (nbgrader refuses to
release into an exchange folder its user does not own).
"""

from __future__ import annotations

import os
import subprocess

from jupyterhub.spawner import set_user_setuid
from rich.console import Console

from ..course import Course
from ..grading.command import run_autograde
from ..modules import find
from .config import exchange_environment, role_environment
from .environment import base_python, chown_tree, server_python
from .layout import HubError, Instance
from .server import hidden_paths, require_root
from .spawner import contain


def as_instructor(instance: Instance, *args: str) -> str:
    """`nbgrader ARGS` as the instructor, with their server's environment and view."""
    account = instance.instructor.account
    env = {
        "HOME": str(instance.home(account)),
        "USER": account,
        "LOGNAME": account,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **role_environment(instance)["instructor"],
    }
    become = set_user_setuid(account, chdir=False)
    reach, hidden = [str(base_python())], [str(p) for p in hidden_paths(instance)]

    def preexec():
        contain(reach, hidden)
        become()

    result = subprocess.run(
        [str(server_python(instance)), "-m", "nbgrader", *args],
        cwd=instance.course_root,
        env=env,
        preexec_fn=preexec,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise HubError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


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
    if collect:
        console.print(as_instructor(instance, "collect", module.assignment, "--update").strip())
    try:
        code = run_autograde(course, module, jobs, False, None, console)
    finally:
        chown_tree(course.root, instance.instructor.account)
    if code == 0 and feedback:
        as_instructor(instance, "generate_feedback", module.assignment, "--force")
        as_instructor(instance, "release_feedback", module.assignment)
        console.print(f"Feedback for {module.assignment} generated and released")
    return code
