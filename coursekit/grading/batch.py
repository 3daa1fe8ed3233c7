"""`make autograde`: grade a whole class in parallel, resumably, and say what needs a human.

1. The gradebook is made to know the assignment (a fresh clone's does not).
2. Each submission goes through intake (coursekit/grading/intake.py) into `staging/`, repaired or
   replaced where nbgrader would fail, with flags for a human.
3. Workers (coursekit/grading/worker.py) run nbgrader's own autograde, one student at a time
   each, in contained kernels; the gradebook is the one serial `nbgrader autograde` writes.
4. Every finished student is appended to `gradebook/autograde-<assignment>.jsonl`, so an
   interrupted run resumes where it stopped; a submission that changed is graded again.
5. A summary table, the flags (also `gradebook/flags-<assignment>.csv`) and the failures.
"""

from __future__ import annotations

import csv
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

from ..course import Course
from ..modules import Module
from ..tools import tool_env
from .intake import stage


@dataclass
class Outcome:
    student: str
    ok: bool = False
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)
    error: str = ""
    fingerprint: str = ""

    def notes(self) -> list[str]:
        """Everything about this student a human should look at."""
        failed = [f"grading failed: {self.error}"] if not self.ok and self.error else []
        return self.flags + failed


@dataclass
class Run:
    graded: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
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


def finished(course: Course, module: Module) -> dict[str, str]:
    """Students already graded successfully, with the fingerprint that was graded."""
    done: dict[str, str] = {}
    path = progress_file(course, module)
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["ok"]:
                done[record["student"]] = record["fingerprint"]
            else:
                done.pop(record["student"], None)
    return done


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
) -> Run:
    """Grade every submission of `module` (or `only` these students)."""
    start = time.perf_counter()
    course.ensure_assignment(module)
    run = Run()
    done = {} if force else finished(course, module)
    todo: list[Outcome] = []
    release_dir = course.root / "release" / module.assignment
    for student in only or submitted_students(course, module):
        submitted = course.root / "submitted" / student / module.assignment
        print_ = fingerprint(submitted) if submitted.is_dir() else ""
        if done.get(student) == print_ and print_:
            run.skipped.append(student)
            continue
        staged = course.staging / student / module.assignment
        shutil.rmtree(staged, ignore_errors=True)
        intake = stage(submitted, staged, release_dir, module.assignment, student)
        todo.append(Outcome(student, flags=intake.flags, fingerprint=print_))
    run.graded = todo
    if todo:
        run.interrupted = _dispatch(course, module, todo, max(1, jobs), on_done)
    run.seconds = time.perf_counter() - start
    return run


def _dispatch(course, module, todo: list[Outcome], jobs: int, on_done) -> bool:
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
                    _record(course, module, [by_id[current[worker.pid]]])
                    selector.unregister(worker.stdout)
                    busy -= 1
                    continue
                result = json.loads(line)
                outcome = by_id[result["student"]]
                outcome.ok, outcome.seconds = result["ok"], result["seconds"]
                if not outcome.ok:
                    outcome.error = _why(result)
                finished_count += 1
                _record(course, module, [outcome])
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


def _record(course: Course, module: Module, outcomes: list[Outcome]) -> None:
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
                            "seconds": o.seconds,
                            "error": o.error,
                            "flags": o.flags,
                        }
                    )
                    + "\n"
                )


def write_flags(course: Course, module: Module, run: Run) -> Path:
    """Everything a human should look at, one row per flag."""
    path = course.root / "gradebook" / f"flags-{module.assignment}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "flag"])
        for o in run.graded:
            for flag in o.notes():
                writer.writerow([o.student, module.assignment, flag])
    return path
