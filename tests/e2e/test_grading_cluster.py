"""Grading past one machine: the gradebook on a real PostgreSQL server (started here, on a
private port on 127.0.0.1) and the grading workers on Dask distributed."""

import json
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest
from nbgrader.api import Gradebook

from coursekit.bench import grading as bench_grading
from coursekit.course import Course
from coursekit.grading.batch import grade_class, progress_file
from coursekit.grading.database import LocalPostgres
from coursekit.modules import find

pytestmark = pytest.mark.xdist_group("nbgrader")
MODULE = "01_tensor"


@pytest.fixture(scope="module")
def postgres():
    server = LocalPostgres()
    try:
        server.start()
    except RuntimeError as err:
        pytest.fail(f"could not start PostgreSQL (make setup installs it): {err}")
    yield server
    server.stop()


def test_every_mode_on_postgres_gives_the_gradebook_serial_nbgrader_gives(postgres):
    url = postgres.create_database("bench")
    results = bench_grading.run(4, 2, MODULE, bench_grading.Console(quiet=True), db_url=url)
    modes = {k: v for k, v in results.items() if k != "execution"}
    assert len(modes) == 4 and any("Dask" in label for label in modes)
    serial = modes["nbgrader autograde (serial)"]["scores"]
    assert len(serial) == 4
    assert {score for score, _ in serial.values()} >= {0.0, 20.0}  # a mixed class
    for label, r in modes.items():
        assert r["scores"] == serial, label
    # The grades live in PostgreSQL: the copy the Dask mode graded into holds all four.
    with Gradebook(url.replace("/bench", "/bench_mode3"), course_id="tinytorch") as gb:
        assert len(gb.find_assignment(MODULE).submissions) == 4


def test_two_tas_grading_different_assignments_at_once_lose_nothing(postgres, tmp_path):
    modules = [find(MODULE), find("02_activations")]
    course = Course.scratch(tmp_path / "course", modules, db_url=postgres.create_database("tas"))
    for module in modules:
        bench_grading.make_class(course, module, 4)
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
    for module in modules:
        scores = course.scores(module)
        assert sorted(scores) == [f"s{i:04d}" for i in range(4)], module.assignment
        perfect, blank = scores["s0000"], scores["s0002"]
        assert perfect.score == perfect.max_score > 0 and blank.score == 0, module.assignment
        assert len(progress_file(course, module).read_text().splitlines()) == 4


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
                if spawned and worker.children():  # grading someone: its kernel is running
                    killed.append(worker.pid)
                    worker.send_signal(signal.SIGKILL)
                    return
        time.sleep(0.05)


def test_a_killed_dask_workers_student_is_graded_by_another_worker(tmp_path):
    module = find(MODULE)
    course = Course.scratch(tmp_path / "course", [module])
    bench_grading.make_class(course, module, 6)
    killed: list[int] = []
    killer = threading.Thread(target=_kill_a_busy_worker, args=(course, module, killed))
    killer.start()
    run = grade_class(course, module, jobs=2, cluster="local")
    killer.join()
    assert killed, "no busy worker was found to kill"
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"
    assert [o.error for o in run.graded] == [""] * 6 and all(o.ok for o in run.graded)
    records = [json.loads(line) for line in progress_file(course, module).read_text().splitlines()]
    assert sorted(r["student"] for r in records) == [f"s{i:04d}" for i in range(6)]
    # The same grades the local workers give (make_class: perfect, half, blank, mutant, ...).
    scores = {s: v.score for s, v in course.scores(module).items()}
    assert scores == {"s0000": 20, "s0001": 2, "s0002": 0, "s0003": 16, "s0004": 20, "s0005": 2}
