"""Grading past one machine: the gradebook on a real PostgreSQL server (started once per
test process by tests/conftest.py, on a private port of 127.0.0.1) and the grading workers
on a real Dask LocalCluster (started once for this file, reached by its scheduler address as
a remote cluster would be).

The default run grades a few students of module 01; TINYTORCH_FULL=1 (`make test-full`)
grades more, in every mode, a second module for the two TAs, and a LocalCluster the grading
command starts itself."""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest
from nbgrader.api import Gradebook
from rich.console import Console

from coursekit.bench import grading as bench_grading
from coursekit.course import Course
from coursekit.grading import cluster as dask_cluster
from coursekit.grading.batch import grade_class, progress_file
from coursekit.modules import find
from coursekit.simulation import demo
from coursekit.ta import export
from tests.e2e.test_pipeline import assert_deserved_grades

pytestmark = pytest.mark.xdist_group("nbgrader")
MODULE = "01_tensor"
FULL = os.environ.get("TINYTORCH_FULL") == "1"


@pytest.fixture(scope="module")
def scheduler():
    """A Dask LocalCluster of two single-threaded workers; its scheduler's address."""
    cluster = dask_cluster.local_cluster(2)
    yield cluster.scheduler_address
    cluster.close()


@pytest.mark.skipif(not FULL, reason="the whole simulated class: TINYTORCH_FULL=1 (make test-full)")
def test_the_pipeline_on_postgres_with_dask_workers_gives_each_student_their_grade(
    postgres, scheduler, tmp_path
):
    """The demo's class (fetch, submit, collect, grade, feedback, export) on PostgreSQL with
    Dask workers. The default run covers the same gradebook through the TAs' test below."""
    module = find(MODULE)
    url = postgres.create_database("pipeline")
    course, scores, files = demo.run(module, tmp_path / "demo", db_url=url, cluster=scheduler)
    assert course.db_url == url
    assert_deserved_grades(scores)
    with Gradebook(url, course_id="tinytorch") as gb:  # the grades live in PostgreSQL
        assert len(gb.find_assignment(MODULE).submissions) == len(scores)
    assert len(sorted(files["feedback"].rglob("*.html"))) == len(scores)
    assert files["canvas"].is_file()


def test_every_mode_on_postgres_gives_the_gradebook_serial_nbgrader_gives(postgres, scheduler):
    url = postgres.create_database("bench")
    students = 8 if FULL else 3  # perfect, half, blank, subtly wrong, ...
    where = "local" if FULL else scheduler
    console = Console(quiet=True)
    results = bench_grading.run(
        students, 2, MODULE, console, url, where, one_worker=FULL, execution_repeats=int(FULL)
    )
    modes = {k: v for k, v in results.items() if k != "execution"}
    assert len(modes) == (4 if FULL else 3) and any("Dask" in label for label in modes)
    serial = modes["nbgrader autograde (serial)"]["scores"]
    assert len(serial) == students
    assert {score for score, _ in serial.values()} >= {0.0, 20.0}  # a mixed class
    for label, r in modes.items():
        assert r["scores"] == serial, label
        assert r["db_url"].startswith(url)  # every copy's grades live in PostgreSQL
    dask_mode = next(r for label, r in modes.items() if "Dask" in label)
    with Gradebook(dask_mode["db_url"], course_id="tinytorch") as gb:
        assert len(gb.find_assignment(MODULE).submissions) == students


def test_two_tas_grading_different_assignments_at_once_lose_nothing(postgres, tmp_path):
    modules = [find(MODULE), find("02_activations")]
    course = Course.scratch(tmp_path / "course", modules, db_url=postgres.create_database("tas"))
    students = 6 if FULL else 2  # perfect, half, blank, ...
    for module in modules:
        bench_grading.make_class(course, module, students)
    commands = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coursekit",
                "autograde",
                m.assignment,
                "--jobs",
                "1",
                "--root",
                str(course.root),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for m in modules
    ]
    outputs = [c.communicate(timeout=400)[0] for c in commands]
    assert [c.returncode for c in commands] == [0, 0], outputs
    scores_of = {}
    for module in modules:
        scores = course.scores(module)
        scores_of[module.assignment] = scores["s0000"].score
        assert sorted(scores) == [f"s{i:04d}" for i in range(students)], module.assignment
        perfect, half = scores["s0000"], scores["s0001"]
        assert perfect.score == perfect.max_score > 0, module.assignment
        assert 0 <= half.score < perfect.score, module.assignment
        assert len(progress_file(course, module).read_text().splitlines()) == students
    # The rest of the pipeline reads the same PostgreSQL gradebook: feedback and the export.
    course.nbgrader("generate_feedback", MODULE, "--force")
    pages = sorted((course.root / "feedback").rglob("*.html"))
    assert len(pages) == students
    assert export.run(course, modules, ["plain"], tmp_path / "out", Console(quiet=True)) == 0
    with open(tmp_path / "out" / export.EXPORTERS["plain"][1], newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["student_id"] == "s0000")
    assert {m.assignment: float(row[m.assignment]) for m in modules} == scores_of


def _grading_now(worker) -> bool:
    """A worker grading someone: one of its descendants is a kernel that has been contained
    and runs as the sandbox's user. A standby kernel waiting for its turn still runs as this
    process's user, so an idle worker (which keeps one) is never taken for a busy one."""
    for child in worker.children(recursive=True):
        try:
            if child.uids().real != os.getuid():
                return True
        except psutil.NoSuchProcess:
            continue
    return False


def _kill_a_busy_worker(course, module, killed: list) -> None:
    """Once a student is done, SIGKILL a Dask worker process that is running a kernel.

    A LocalCluster's nannies live in this process; its workers are this process's spawned
    children, and a busy worker's child is the contained kernel it grades in."""
    log = progress_file(course, module)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().strip():
            for worker in psutil.Process().children():
                spawned = any("spawn_main" in part for part in worker.cmdline())
                if spawned and _grading_now(worker):
                    killed.append(worker.pid)
                    worker.send_signal(signal.SIGKILL)
                    return
        time.sleep(0.05)


def test_a_killed_dask_workers_student_is_graded_by_another_worker(scheduler, tmp_path):
    """Runs last in this file: the cluster's nanny restarts the killed worker."""
    module = find(MODULE)
    course = Course.scratch(tmp_path / "course", [module])
    students = 6 if FULL else 4
    bench_grading.make_class(course, module, students)
    killed: list[int] = []
    killer = threading.Thread(target=_kill_a_busy_worker, args=(course, module, killed))
    killer.start()
    run = grade_class(course, module, jobs=2, cluster="local" if FULL else scheduler)
    killer.join()
    assert killed, "no busy worker was found to kill"
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"
    assert [o.error for o in run.graded] == [""] * students and all(o.ok for o in run.graded)
    records = [json.loads(line) for line in progress_file(course, module).read_text().splitlines()]
    assert sorted(r["student"] for r in records) == [f"s{i:04d}" for i in range(students)]
    # The same grades the local workers give (make_class: perfect, half, blank, mutant, ...).
    scores = {s: v.score for s, v in course.scores(module).items()}
    expected = {"s0000": 20, "s0001": 2, "s0002": 0, "s0003": 16, "s0004": 20, "s0005": 2}
    assert scores == {s: expected[s] for s in scores} and len(scores) == students


@pytest.mark.skipif(not FULL, reason="timing on a quiet machine: TINYTORCH_FULL=1 (make test-full)")
def test_throughput_grows_with_dask_workers_up_to_the_cores():
    """The scaling run of `make bench-grading`: 10 notebooks per worker on 1..2 workers."""
    workers = min(2, os.cpu_count() or 1)
    rows = bench_grading.scale(10, workers, MODULE, Console(quiet=True))
    first = rows[0]["scores"]
    assert all(r["scores"][s] == v for r in rows for s, v in first.items())
    if workers == 2:  # linear would be 2x; a machine shared with other jobs gets less
        assert rows[1]["per_minute"] >= 1.3 * rows[0]["per_minute"], rows
