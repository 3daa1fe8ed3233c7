"""The parallel grading command gives the gradebook serial nbgrader gives, and resumes."""

import json
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from coursekit.bench import grading as bench_grading
from coursekit.course import Course
from coursekit.grading.batch import grade_class, progress_file
from coursekit.modules import find
from coursekit.tools import write_notebook

pytestmark = pytest.mark.xdist_group("nbgrader")
MODULE = "01_tensor"


def test_parallel_workers_give_the_same_gradebook_as_serial_nbgrader(capsys):
    results = bench_grading.run(6, 2, MODULE, bench_grading.Console(quiet=True), cluster=None)
    assert results.pop("execution") > 0
    serial = results["nbgrader autograde (serial)"]["scores"]
    assert len(serial) == 6
    assert {score for score, _ in serial.values()} >= {0.0, 20.0}  # a mixed class
    assert len(results) == 3
    for label, r in results.items():
        assert r["scores"] == serial, label


def test_an_interrupted_run_resumes_without_regrading_finished_students(tmp_path):
    module = find(MODULE)
    course = Course.scratch(tmp_path / "course", [module])
    bench_grading.make_class(course, module, 6)
    command = [
        sys.executable,
        "-m",
        "coursekit",
        "autograde",
        MODULE,
        "--jobs",
        "1",
        "--root",
        str(course.root),
    ]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = progress_file(course, module)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (
        not log.exists() or len(log.read_text().splitlines()) < 2
    ):
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=60) == 130
    done_before = {json.loads(line)["student"] for line in log.read_text().splitlines()}
    assert 2 <= len(done_before) < 6

    second = grade_class(course, module, jobs=2)
    assert set(second.skipped) == done_before
    assert {o.student for o in second.graded} == {f"s{i:04d}" for i in range(6)} - done_before
    assert len(course.scores(module)) == 6

    # A student who resubmits is graded again; nobody else is.
    course.submit_directly("s0000", module, course.release_notebook(module))
    third = grade_class(course, module, jobs=2)
    assert [o.student for o in third.graded] == ["s0000"]
    assert [o.reason for o in third.graded] == ["submission changed"]
    assert course.scores(module)["s0000"].score == 0.0

    # A test fixed in the master and released again: everyone graded with the old tests is
    # graded again (the resume record looks at the tests too), then nobody.
    source = course.folder("source", module) / module.notebook
    nb = nbformat.read(source, 4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("points"))
    test.source += "\nassert True  # fixed in the master"
    write_notebook(nb, source)
    fourth = grade_class(course, module, jobs=2)
    assert sorted(o.student for o in fourth.graded) == [f"s{i:04d}" for i in range(6)]
    assert {o.reason for o in fourth.graded} == {"tests changed"}
    assert len(grade_class(course, module, jobs=2).skipped) == 6
