"""What the single-user servers run on, and what each role may read.

- The **server environment**: a virtual environment of the Python that runs the course
  tooling (the lock is pinned for it) with every pin of `requirements.lock` except the
  development tools below, and *without* the course package: no reference `tinytorch`, no
  `coursekit`. Students and the instructor share it; it is named after a digest of what it
  holds, so a changed lock makes a new one. When that Python lives where other users may
  not go (a developer's `/root/.pyenv`), the spawner makes it reachable inside each
  server's own mount namespace (`spawner.py`).
- The **students' share**: `tito/`, `milestones/` and `datasets/` copied from the repository,
  and a `tito` launcher; world-readable, nothing else.
- The **instructor's course**: a copy of the course in the instructor's home (mode 700), as
  an instructor's clone on a real server would be: `nbgrader_config.py`, masters, source,
  release and solutions of the hub's modules, the gradebook (which knows the assignments
  and the students), and the course code (`coursekit/`, `tinytorch/`, `tito/`) that the
  course's nbgrader extensions import.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from nbgrader.api import Gradebook

from ..course import CONFIG_FILE, Course
from ..modules import Module
from .layout import HubError, Instance

# Development tools of the lock that a single-user server never runs (the browser driver
# alone is 165 MB).
NOT_ON_SERVERS = {"playwright", "greenlet", "ruff"}
SHARED = ("tito", "milestones", "datasets")
COURSE_CODE = ("coursekit", "tinytorch", "tito")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def _say(log: Callable[[str], None] | None, message: str) -> None:
    if log:
        log(message)


def server_requirements(repo: Path) -> list[str]:
    """The lock's pins that the servers get, in the lock's order."""
    lines = (repo / "requirements.lock").read_text().splitlines()
    pins = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [p for p in pins if p.split("==")[0].lower() not in NOT_ON_SERVERS]


def base_python() -> Path:
    """The Python installation the environments are made from: the one running this."""
    return Path(sys.base_prefix).resolve()


def environment_path(instance: Instance) -> Path:
    held = [str(base_python()), *server_requirements(instance.repo)]
    digest = hashlib.sha256("\n".join(held).encode())
    return instance.root / f"python-{digest.hexdigest()[:12]}"


def server_python(instance: Instance) -> Path:
    return environment_path(instance) / "bin" / "python"


def ensure_environment(instance: Instance, log=None) -> Path:
    """The server environment, built on first use (about a minute with pip's cache)."""
    target = environment_path(instance)
    done = target / ".complete"
    if done.is_file():
        return target
    _say(log, f"building the single-user environment in {target} (once; about a minute)")
    shutil.rmtree(target, ignore_errors=True)  # an earlier attempt that did not finish
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o755)
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    pins = target / "requirements.txt"
    pins.write_text("\n".join(server_requirements(instance.repo)) + "\n")
    result = subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(pins)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise HubError(f"pip could not build {target}:\n{result.stderr[-3000:]}")
    subprocess.run(["chmod", "-R", "a+rX", str(target)], check=True)
    done.write_text("ok\n")
    return target


def write_share(instance: Instance) -> Path:
    """The students' share, refreshed from the repository at every start."""
    share = instance.share
    share.mkdir(parents=True, exist_ok=True)
    for name in SHARED:
        shutil.rmtree(share / name, ignore_errors=True)
        if (instance.repo / name).is_dir():
            shutil.copytree(instance.repo / name, share / name, ignore=IGNORE)
    launcher = share / "bin" / "tito"
    launcher.parent.mkdir(exist_ok=True)
    launcher.write_text(f'#!/bin/sh\nexec {server_python(instance)} -m tito "$@"\n')
    subprocess.run(["chmod", "-R", "u=rwX,go=rX", str(share)], check=True)
    launcher.chmod(0o755)
    return share


def make_exchange(instance: Instance) -> Path:
    """nbgrader's exchange: everyone may create entries, nobody may remove another's."""
    instance.exchange.mkdir(parents=True, exist_ok=True)
    instance.exchange.chmod(0o1777)
    return instance.exchange


def chown_tree(path: Path, account: str) -> None:
    """Give a tree to an account (grading as root leaves root's files behind)."""
    subprocess.run(["chown", "-R", f"{account}:{account}", str(path)], check=True)


def ensure_course(instance: Instance, modules: list[Module], log=None) -> Course:
    """The instructor's course, made at the first start and brought up to date at each.

    Kept from one start to the next: the gradebook, everything collected and graded, and
    the modules already there (the instructor may have changed them). Added: modules
    released in the repository since; refreshed: the course code and the students the
    gradebook knows.
    """
    root, repo = instance.course_root, instance.repo
    missing = [m for m in modules if not (root / "source" / m.assignment).is_dir()]
    if missing:
        _say(log, f"adding {', '.join(m.assignment for m in missing)} to the course in {root}")
        root.mkdir(parents=True, exist_ok=True)
        if not (root / CONFIG_FILE).is_file():  # later, the instructor's to change
            shutil.copy2(repo / CONFIG_FILE, root / CONFIG_FILE)
        for module in missing:
            for kind in ("masters", "source", "release", "solutions"):
                source, target = repo / kind / module.assignment, root / kind / module.assignment
                if source.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(source, target, ignore=IGNORE)
        if (repo / "masters" / "shared").is_dir():
            shutil.copytree(
                repo / "masters" / "shared",
                root / "masters" / "shared",
                ignore=IGNORE,
                dirs_exist_ok=True,
            )
    for name in COURSE_CODE:
        shutil.copytree(repo / name, root / name, ignore=IGNORE, dirs_exist_ok=True)
    for folder in ("gradebook", "submitted", "autograded", "feedback"):
        (root / folder).mkdir(exist_ok=True)
    course = Course(root)
    for module in missing:
        course.ensure_assignment(module)  # the gradebook stores the hidden tests
    with Gradebook(course.db_url) as gradebook:
        for person in instance.student_people:
            first, last = person.names
            gradebook.update_or_create_student(person.account, first_name=first, last_name=last)
    chown_tree(root, instance.instructor.account)
    return course


def role_paths(instance: Instance) -> dict[str, str]:
    """PATH of each role: the server environment's tools (and tito for students)."""
    bin_dir = environment_path(instance) / "bin"
    system = "/usr/local/bin:/usr/bin:/bin"
    return {
        "instructor": f"{bin_dir}:{system}",
        "student": f"{instance.share / 'bin'}:{bin_dir}:{system}",
    }
