"""`make autograde`: grade a whole class in parallel, resumably, and say what needs a human.

1. The gradebook is made to know the assignment (a fresh clone's does not), with the
   schedule's due date.
2. Submitters who are not on the roster (the gradebook's students) are not graded: they are
   listed for a human, and so never reach an LMS export.
3. Each submission goes through intake (coursekit/grading/intake.py) into `staging/`, repaired or
   replaced where nbgrader would fail, with flags for a human.
4. Workers (coursekit/grading/worker.py) run nbgrader's own autograde, one student at a time
   each, in contained kernels; the gradebook is the one serial `nbgrader autograde` writes.
5. Every finished student is appended to `gradebook/autograde-<assignment>.jsonl` with what
   was graded: the submission, the tests and the due date. An interrupted run resumes where
   it stopped; a student is graded again when any of the three changed since.
6. A summary table, the flags (merged into `gradebook/flags-<assignment>.csv`, see
   coursekit/grading/flags.py) and the failures.
"""

from __future__ import annotations

import hashlib
import json
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

from ..course import Course
from ..modules import Module
from ..tools import tool_env
from . import flags as flag_file
from .intake import stage


@dataclass
class Outcome:
    student: str
    ok: bool = False
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)
    error: str = ""
    fingerprint: str = ""
    reason: str = "not graded before"  # why this student is graded in this run

    def notes(self) -> list[str]:
        """Everything about this student a human should look at."""
        failed = [f"{flag_file.FAILED}{self.error}"] if not self.ok and self.error else []
        return self.flags + failed


@dataclass
class Run:
    graded: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unrostered: dict[str, str] = field(default_factory=dict)  # student -> submission digest
    inputs: dict = field(default_factory=dict)  # what the run graded with (tests, due date)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.graded if not o.ok]


def fingerprint(folder: Path) -> str:
    """A digest of everything the student submitted (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def progress_file(course: Course, module: Module) -> Path:
    return course.root / "gradebook" / f"autograde-{module.assignment}.jsonl"


def grading_inputs(course: Course, module: Module) -> dict[str, str]:
    """What a grade depends on besides the submission: a digest of the tests (every graded
    and read-only cell of the source notebook, hidden tests included, with its points) and
    the due date the late penalty counts from."""
    digest = hashlib.sha256()
    for cell in course.source_notebook(module).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") or meta.get("locked"):
            digest.update(json.dumps([cell.source, meta.get("points")]).encode())
    due = course.due(module)
    return {"tests": digest.hexdigest(), "due": due.isoformat() if due else ""}


def finished(course: Course, module: Module) -> dict[str, dict]:
    """Each student's last grading record: whether it succeeded, and on what."""
    done: dict[str, dict] = {}
    path = progress_file(course, module)
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            done[record["student"]] = record
    return done


def regrade_reason(record: dict | None, submission: str, inputs: dict) -> str | None:
    """Why a student must be graded (again), or None when their grade is current."""
    if record is None:
        return "not graded before"
    if not record.get("ok"):
        return "grading failed before"
    if record.get("fingerprint") != submission:
        return "submission changed"
    if record.get("tests") != inputs["tests"]:
        return "tests changed"
    if record.get("due", "") != inputs["due"]:
        return "due date changed"
    return None


def roster(course: Course) -> set[str]:
    """The students on the roster: the gradebook's students (`coursekit roster` adds them)."""
    with Gradebook(course.db_url) as gb:
        return {s.id for s in gb.students}


def submitted_students(course: Course, module: Module) -> list[str]:
    root = course.root / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / module.assignment).is_dir())


def _start_worker(course: Course, module: Module) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "coursekit.grading.worker", str(course.root), module.assignment],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env=tool_env(),
        cwd=course.root,
    )


def grade_class(
    course: Course,
    module: Module,
    jobs: int = 2,
    force: bool = False,
    only: list[str] | None = None,
    on_done: Callable[[Outcome, int, int], None] | None = None,
    cluster: str | None = None,
) -> Run:
    """Grade every submission of `module` (or `only` these students) whose grade is not
    current; `force` grades them all again.

    `cluster` runs the workers on Dask (coursekit/grading/cluster.py): "local" starts a
    LocalCluster of `jobs` workers, anything else is a scheduler address (tcp://host:8786).
    Without it, `jobs` worker processes of this machine grade."""
    start = time.perf_counter()
    course.ensure_assignment(module)
    run = Run(inputs=grading_inputs(course, module))
    done = finished(course, module)
    enrolled = roster(course)
    todo: list[Outcome] = []
    release_dir = course.folder("release", module)
    solution_dir = course.published_solution(module)  # None until it is published
    for student in only or submitted_students(course, module):
        submitted = course.folder("submitted", module, student)
        print_ = fingerprint(submitted) if submitted.is_dir() else ""
        if student not in enrolled:
            run.unrostered[student] = print_
            continue
        reason = "forced" if force else regrade_reason(done.get(student), print_, run.inputs)
        if reason is None and print_:
            run.skipped.append(student)
            continue
        staged = course.staging / student / module.assignment
        shutil.rmtree(staged, ignore_errors=True)
        intake = stage(submitted, staged, release_dir, module.assignment, student, solution_dir)
        todo.append(Outcome(student, flags=intake.flags, fingerprint=print_, reason=reason or ""))
    run.graded = todo
    if todo and cluster:
        from . import cluster as dask_cluster

        address = None if cluster == "local" else cluster
        run.interrupted = dask_cluster.dispatch(
            course,
            module,
            todo,
            max(1, jobs),
            on_done,
            lambda o: _record(course, module, [o], run.inputs),
            _why,
            address,
        )
    elif todo:
        run.interrupted = _dispatch(course, module, todo, max(1, jobs), on_done, run.inputs)
    run.seconds = time.perf_counter() - start
    return run


def _dispatch(course, module, todo: list[Outcome], jobs: int, on_done, inputs: dict) -> bool:
    """Hand students to workers as they free up; True when interrupted."""
    queue = list(todo)
    by_id = {o.student: o for o in todo}
    selector = selectors.DefaultSelector()
    workers = [_start_worker(course, module) for _ in range(min(jobs, len(todo)))]
    current: dict[int, str] = {}

    def give(worker) -> None:
        current[worker.pid] = queue.pop(0).student
        worker.stdin.write(current[worker.pid] + "\n")

    for worker in workers:
        selector.register(worker.stdout, selectors.EVENT_READ, worker)
        give(worker)
    busy, finished_count = len(workers), 0
    try:
        while busy:
            for key, _ in selector.select():
                worker = key.data
                line = worker.stdout.readline()
                if not line:  # the worker itself died: its student needs a human
                    by_id[current[worker.pid]].error = "the grading worker died on this student"
                    _record(course, module, [by_id[current[worker.pid]]], inputs)
                    selector.unregister(worker.stdout)
                    busy -= 1
                    continue
                result = json.loads(line)
                outcome = by_id[result["student"]]
                outcome.ok, outcome.seconds = result["ok"], result["seconds"]
                if not outcome.ok:
                    outcome.error = _why(result)
                finished_count += 1
                _record(course, module, [outcome], inputs)
                if on_done:
                    on_done(outcome, finished_count, len(todo))
                if queue:
                    give(worker)
                else:
                    worker.stdin.close()
                    selector.unregister(worker.stdout)
                    busy -= 1
    except KeyboardInterrupt:
        for worker in workers:
            worker.kill()
        return True
    finally:
        for worker in workers:
            worker.wait()
    return False


def _why(result: dict) -> str:
    """The line of nbgrader's log that says why grading failed."""
    text = result.get("log", "") + "\n" + result.get("error", "")
    for needle in ("Kernel died", "Timeout", "CellTimeoutError", "Error", "error"):
        for line in text.splitlines():
            if needle in line:
                return line.strip()[:300]
    return "nbgrader could not grade this submission"


def _record(course: Course, module: Module, outcomes: list[Outcome], inputs: dict) -> None:
    path = progress_file(course, module)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        for o in outcomes:
            if o.ok or o.error:
                f.write(
                    json.dumps(
                        {
                            "student": o.student,
                            "ok": o.ok,
                            "fingerprint": o.fingerprint,
                            "tests": inputs["tests"],
                            "due": inputs["due"],
                            "seconds": o.seconds,
                            "error": o.error,
                            "flags": o.flags,
                        }
                    )
                    + "\n"
                )


def flags_file(course: Course, module: Module) -> Path:
    return course.gradebook_dir / f"flags-{module.assignment}.csv"


def write_flags(course: Course, module: Module, run: Run) -> Path:
    """Merge this run's flags into the assignment's flags file (coursekit/grading/flags.py)."""
    path = flags_file(course, module)
    finished_ids = {o.student for o in run.graded if o.ok or o.error}
    seen = {o.student: o.fingerprint for o in run.graded if o.student in finished_ids}
    raised = {o.student: o.notes() for o in run.graded if o.student in finished_ids}
    for student, print_ in run.unrostered.items():
        seen[student] = print_
        raised[student] = [
            f"{flag_file.NOT_ON_ROSTER}: submitted but not graded and not exported; add them "
            "(make roster CSV=... with a newer export, or nbgrader db student add ID) and grade again"
        ]
    merged = flag_file.merge(flag_file.load(path), module.assignment, seen, raised)
    return flag_file.save(path, merged)
