"""`coursekit export` (what `make export` runs): the modules students had, in course order.

A gradebook that knows three modules (as `make release` leaves it), of which two were
released and one graded: the export holds the two, in order, with Canvas ids from the
schedule and a warning with the recipe for the one without, and the plain CSV's maximum
is over those two.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from coursekit import schedule
from coursekit.course import Course
from coursekit.modules import REPO

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
MODULES = ("01_tensor", "02_activations", "03_layers")


@pytest.fixture
def semester(course: Course) -> Course:
    for name in MODULES:
        shutil.copytree(REPO / "masters" / name, course.root / "masters" / name)
    due = dt.datetime(2027, 1, 25, 23, 59, tzinfo=dt.UTC)
    dates = {"01_tensor": {"due": due, "canvas": "111"}, "02_activations": {"due": due}}
    (course.root / schedule.SCHEDULE_FILE).write_text(schedule.dump(dates))
    with Gradebook(course.db_url) as gb:
        for name in reversed(MODULES):  # registered out of order, undated
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            gb.add_grade_cell("t1", name, name, max_score=20, cell_type="code")
        gb.add_student("ada", first_name="Ada", last_name="Lovelace", lms_user_id="5101")
        gb.add_submission("01_tensor", "ada")
        gb.find_grade("t1", "01_tensor", "01_tensor", "ada").auto_score = 17
        gb.db.commit()
    for name in MODULES[:2]:  # released: in the exchange
        course.outbound(name).mkdir(parents=True)
    return Course(course.root)


def export(course: Course, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "coursekit", "export", *args, "--root", str(course.root)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_the_export_holds_the_released_modules_in_order_with_canvas_ids(semester):
    result = export(semester)
    assert result.returncode == 0, result.stdout + result.stderr
    canvas = rows(semester.gradebook_dir / "canvas_grades.csv")
    assert canvas[0][5:] == ["01_tensor (111)", "02_activations"]
    assert canvas[2][5:] == ["17", ""]
    assert "No Canvas assignment id for 02_activations" in result.stdout
    assert "canvas = 123456 under [01_tensor]" in result.stdout  # the one-line recipe
    plain = rows(semester.gradebook_dir / "grades.csv")
    header, ada = plain[0], plain[1]
    assert header[5:9] == ["01_tensor", "01_tensor_late", "02_activations", "02_activations_late"]
    assert ada[header.index("max_total")] == "40"  # not 60: 03 was never released


def test_chosen_modules_only_and_nothing_to_export_says_so(semester, course):
    chosen = export(semester, "01")
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    plain = rows(semester.gradebook_dir / "grades.csv")
    assert plain[0][5:] == ["01_tensor", "01_tensor_late", "total", "max_total"]
    assert plain[1][-1] == "20"
    assert "No Canvas assignment id" not in chosen.stdout
    for name in MODULES[:2]:
        semester.outbound(name).rmdir()
    with Gradebook(semester.db_url) as gb:
        gb.remove_submission("01_tensor", "ada")
    nothing = export(semester)
    assert nothing.returncode == 1 and "Nothing to export" in nothing.stdout
