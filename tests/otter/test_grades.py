"""otter's grades reach the same Canvas CSV and TA report as nbgrader's.

Three rostered students' otter submissions (a zip from `grader.export()`, notebooks) and one
unrostered go through `coursekit otter grade`'s code: `otter run`, the review scan, the late
policy, the gradebook; then `coursekit export`'s Canvas plugin and `coursekit report` read them.
"""

from __future__ import annotations

import csv
import datetime
import zipfile

import nbformat
from nbgrader.api import Gradebook

from coursekit.course import Course
from coursekit.modules import find
from coursekit.otter import grade
from coursekit.plugins.exporters import EXPORTERS
from coursekit.quality import gates
from coursekit.ta import report

MODULE = "02_activations"


def _submit(folder, student, module, nb, *, as_zip=False, timestamp=None):
    here = folder / student / module.assignment
    here.mkdir(parents=True)
    if as_zip:
        with zipfile.ZipFile(here / f"{module.name}_2026.zip", "w") as zf:
            zf.writestr(module.notebook, nbformat.writes(nb))
            zf.writestr("__zip_filename__", f"{module.name}_2026.zip")
    else:
        (here / module.notebook).write_text(nbformat.writes(nb))
    if timestamp:
        (here / "timestamp.txt").write_text(timestamp)


def test_otter_grades_in_the_canvas_csv_and_the_report(tmp_path):
    module = find(MODULE)
    # The schedule owns the due date: otter grade, like every grading command, puts it into
    # the gradebook, where the late policy reads it.
    due = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    course = Course.scratch(
        tmp_path / "course", [module], schedule={module.assignment: {"due": due}}
    )
    with Gradebook(course.db_url) as gb:
        gb.add_student("alice", first_name="Ada", last_name="Lovelace", lms_user_id="101")
        gb.add_student("bob", first_name="Bob", last_name="Hopper, Jr.", lms_user_id="102")
        gb.add_student("carol", first_name="Carol", last_name="Shaw", lms_user_id="103")
    student_nb = grade.student_notebook(module)
    solution = grade.from_nbgrader(student_nb, gates.solution_submission(module))
    relu_stub = next(c for c in student_nb.cells if c.id == "relu").source
    no_relu = nbformat.reads(nbformat.writes(solution), 4)
    next(c for c in no_relu.cells if c.id == "relu").source = relu_stub
    hacked = nbformat.reads(nbformat.writes(solution), 4)
    next(c for c in hacked.cells if c.id == "checks").source += "\ncheck_close = lambda *a: True"
    folder = tmp_path / "otter-submitted"
    _submit(folder, "alice", module, hacked, as_zip=True)
    # six hours late: one started day, 10% of 20 points
    _submit(folder, "bob", module, no_relu, timestamp="2026-03-01 18:00:00.000000 UTC")
    _submit(folder, "carol", module, student_nb)
    _submit(folder, "mallory", module, solution)
    said = []
    graded = grade.grade_folder(course, module, folder, log=said.append)
    assert set(graded) == {"alice", "bob", "carol"}
    assert any(line.startswith("mallory: not on the roster") for line in said)
    assert graded["alice"].score == 20 and graded["carol"].score == 0
    assert graded["bob"].failed == ["test_relu"] and graded["bob"].score == 17

    scores = course.scores(module)
    assert scores["alice"].score == 20
    assert scores["bob"].raw_score == 17 and scores["bob"].late_penalty == 2
    assert scores["bob"].score == 15
    with Gradebook(course.db_url) as gb:
        flagged = {
            s.student.id
            for s in gb.assignment_submissions(module.assignment)
            if s.needs_manual_grade
        }
    assert flagged == {"alice"}  # edited the checks cell: put back for grading, and flagged

    plugin, filename = EXPORTERS["canvas"]
    target = tmp_path / filename
    course.nbgrader("export", f"--exporter={plugin}", f"--to={target}")
    rows = {r["SIS User ID"]: r for r in csv.DictReader(target.open()) if r["SIS User ID"]}
    assert rows["alice"][module.assignment] == "20"
    assert rows["bob"][module.assignment] == "15"
    assert rows["carol"][module.assignment] == "0"

    files = report.build_report(course.db_url, module.assignment, tmp_path / "report")
    cells = files.cells.set_index("cell")
    assert cells.loc["test_relu", "full_marks"] == 1  # alice only
    assert cells.loc["test_softmax", "full_marks"] == 2  # alice and bob
    assert files.summary.submitted == 3
