"""Grading workers on Dask distributed: a `LocalCluster` by default, any scheduler when given.

Each student is one Dask task, `grade_task`, which runs the same thing a local worker
process runs (coursekit/grading/worker.py): nbgrader's own autograde of that student's
staged submission, in a contained kernel, writing the gradebook rows serial `nbgrader
autograde` writes. Results come back as tasks finish and go into the resumable record at
once. When a worker dies (killed, out of memory, its machine gone), the scheduler gives its
students to another worker; a student whose grading kills `allowed-failures` workers in a
row is reported as such and needs a human.

Workers on other machines see the course through shared storage at the same path and run
the same pinned environment. `check_workers` makes sure of it before any task is sent:
every worker reports its Python, the versions of every package of requirements.lock, a
digest of the course (config, tests, reference package, tooling) and a token the grading
command has just written under `staging/`; any difference stops the run with a message
naming the worker and what differs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import secrets
import sys
from importlib import metadata
from pathlib import Path

from ..modules import REPO

_apis: dict = {}  # (course root, assignment) -> NbGraderAPI, one per worker process
TOKEN_DIR = ".cluster-check"  # under the staging folder


class ClusterMismatch(RuntimeError):
    """A worker cannot grade for this course: other versions, other files, or no access."""


def pinned_names(lock: Path = REPO / "requirements.lock") -> list[str]:
    names = []
    for line in lock.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            names.append(line.split("==")[0])
    return names


def _digest_tree(digest, folder: Path, suffixes: tuple[str, ...]) -> None:
    if not folder.is_dir():
        digest.update(f"missing {folder.name}".encode())
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())


def course_digest(root: Path, assignment: str) -> str:
    """What a grade depends on besides the submission, as this machine sees it: the course's
    nbgrader_config.py, the assignment's source (hidden tests come from the gradebook,
    which all share), the reference tinytorch and the course tooling this Python imports."""
    import coursekit

    from .sandbox import reference_packages

    digest = hashlib.sha256()
    config = root / "nbgrader_config.py"
    digest.update(config.read_bytes() if config.is_file() else b"no config")
    _digest_tree(digest, root / "source" / assignment, (".ipynb", ".py"))
    for package in reference_packages():
        _digest_tree(digest, package, (".py",))
    _digest_tree(digest, Path(coursekit.__file__).parent, (".py",))
    return digest.hexdigest()


def environment(root: str, assignment: str, token_name: str) -> dict:
    """What one machine grades with (run on every worker and on the grading command)."""
    versions = {}
    for name in pinned_names():
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    path = Path(root)
    token = path / "staging" / TOKEN_DIR / token_name
    return {
        "host": platform.node(),
        "python": sys.version.split()[0],
        "packages": versions,
        "course": course_digest(path, assignment) if path.is_dir() else "no course folder",
        "token": token.read_text() if token.is_file() else None,
    }


def compare(mine: dict, theirs: dict, token: str) -> list[str]:
    """How a worker's environment differs from the grading command's (empty: none)."""
    problems = []
    if theirs["token"] != token:
        problems.append("cannot read the course folder at the same path (shared storage is needed)")
    if theirs["python"] != mine["python"]:
        problems.append(f"Python {theirs['python']}, here {mine['python']}")
    diffs = [
        f"{name} {theirs['packages'].get(name)} (here {version})"
        for name, version in mine["packages"].items()
        if theirs["packages"].get(name) != version
    ]
    if diffs:
        problems.append("packages differ from requirements.lock: " + ", ".join(diffs[:8]))
    if theirs["course"] != mine["course"] and theirs["token"] == token:
        problems.append("sees other course files (config, tests, reference or tooling)")
    return problems


def check_workers(client, root: Path, assignment: str) -> int:
    """Refuse to grade unless every worker has this environment and sees this course.
    Returns the number of workers."""
    token_name = secrets.token_hex(8)
    token_file = root / "staging" / TOKEN_DIR / token_name
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    token_file.write_text(token)
    try:
        mine = environment(str(root), assignment, token_name)
        theirs = client.run(environment, str(root), assignment, token_name)
    finally:
        token_file.unlink(missing_ok=True)
    if not theirs:
        raise ClusterMismatch("the Dask scheduler has no workers")
    bad = {w: compare(mine, env, token) for w, env in theirs.items()}
    bad = {w: p for w, p in bad.items() if p}
    if bad:
        lines = [f"  {w} ({theirs[w]['host']}): {'; '.join(p)}" for w, p in sorted(bad.items())]
        raise ClusterMismatch(
            "these Dask workers cannot grade this course:\n"
            + "\n".join(lines)
            + "\nEvery worker needs the course folder on shared storage at "
            f"{root} and the pinned environment (make setup from the same commit)."
        )
    return len(theirs)


def quiet_worker() -> None:
    """Send a local worker's fd 1 and 2 (where kernels write their banners) to /dev/null,
    so the grading command's terminal shows only its progress."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def grade_task(root: str, assignment: str, student: str) -> dict:
    """One student, on whichever worker the scheduler chose."""
    from .worker import grade_one, make_api

    key = (root, assignment)
    if key not in _apis:
        with contextlib.chdir(root):
            _apis[key] = make_api(root)
    with contextlib.chdir(root):
        return grade_one(_apis[key], assignment, student)


def local_cluster(workers: int):
    """A LocalCluster of `workers` single-threaded processes (one kernel at a time each).

    Its workers inherit this process's PATH, which must name nbgrader's tools: it is set here.
    Their fd 1 and 2 go to /dev/null (`quiet_worker`)."""
    import logging

    from distributed import LocalCluster

    from ..tools import tool_env

    os.environ["PATH"] = tool_env()["PATH"]
    from distributed import Client

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",  # loopback only
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    with Client(cluster) as client:
        client.run(quiet_worker)
    return cluster


def dispatch(course, module, todo, jobs: int, on_done, record, why, address: str | None):
    """Grade `todo` on Dask; record each student as it finishes. True when interrupted."""
    from distributed import Client, as_completed
    from distributed.client import FutureCancelledError

    from ..tools import tool_env

    os.environ["PATH"] = tool_env()["PATH"]  # local workers inherit it: nbgrader's tools
    by_key = {}
    cluster = local_cluster(min(jobs, len(todo))) if address is None else None
    try:
        with Client(cluster if cluster is not None else address) as client:
            check_workers(client, course.root, module.assignment)
            run_id = secrets.token_hex(4)
            for outcome in todo:
                future = client.submit(
                    grade_task,
                    str(course.root),
                    module.assignment,
                    outcome.student,
                    key=f"grade-{module.assignment}-{outcome.student}-{run_id}",
                    pure=False,
                )
                by_key[future.key] = (future, outcome)
            done = 0
            try:
                for future in as_completed([f for f, _ in by_key.values()]):
                    outcome = by_key[future.key][1]
                    try:
                        result = future.result()
                    except (FutureCancelledError, Exception) as err:  # noqa: BLE001
                        outcome.error = worker_error(err)
                    else:
                        outcome.ok, outcome.seconds = result["ok"], result["seconds"]
                        if not outcome.ok:
                            outcome.error = why(result)
                    done += 1
                    record(outcome)
                    if on_done:
                        on_done(outcome, done, len(todo))
            except KeyboardInterrupt:
                client.cancel([f for f, _ in by_key.values()])
                return True
    finally:
        if cluster is not None:
            cluster.close()
    return False


def worker_error(err: BaseException) -> str:
    from distributed.scheduler import KilledWorker

    if isinstance(err, KilledWorker):
        return "the grading worker died on this student every time it was tried"
    return f"{type(err).__name__}: {err}"[:300]
