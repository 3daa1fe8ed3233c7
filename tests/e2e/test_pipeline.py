"""The whole pipeline through nbgrader's own commands, on a simulated class (as `make demo`)."""

import csv

import pytest

from coursekit.modules import find
from coursekit.quality import leaks
from coursekit.simulation import demo

MODULE = "01_tensor"


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    module = find(MODULE)
    work = tmp_path_factory.mktemp("demo")
    course, scores, files = demo.run(module, work)
    return module, course, scores, files, work


def persona(sid):
    return next(p for p in demo.CLASS if p.student.id == sid)


def assert_deserved_grades(scores) -> None:
    """Each simulated student's grade is the one its kind deserves (also used on PostgreSQL,
    tests/e2e/test_grading_cluster.py)."""
    for p in demo.CLASS:
        sid, kind = p.student.id, p.kind
        if kind.startswith("missing"):
            assert sid not in scores, f"{sid} never submitted but has a grade"
            continue
        s = scores[sid]
        if kind == "perfect":  # full marks; a late one loses the penalty only
            assert s.raw_score == s.max_score and s.failed == (), f"{sid}: {s}"
            assert s.score == s.max_score - s.late_penalty, f"{sid}: {s}"
        elif kind.startswith(("blank", "broken")):
            assert s.score == 0, f"{sid}: {s}"
        else:  # partial or subtly wrong: some points, not all
            assert 0 < s.score < s.max_score, f"{sid}: {s}"
        assert s.late == p.late, f"{sid}: late flag {s.late}, expected {p.late}"


@pytest.mark.xdist_group("nbgrader")
def test_each_kind_of_student_gets_the_grade_it_deserves(class_run):
    _, _, scores, _, _ = class_run
    assert_deserved_grades(scores)


@pytest.mark.xdist_group("nbgrader")
def test_the_demo_shows_a_penalised_late_student_and_one_inside_the_grace_period(class_run):
    module, _, scores, _, _ = class_run
    late = next(p for p in demo.CLASS if p.when == "late")
    grace = next(p for p in demo.CLASS if p.when == "grace")
    s = scores[late.student.id]
    # A day and two hours late: the second started day, 20% of 20 points.
    assert (s.raw_score, s.late_penalty, s.score, s.days_late) == (20, 4, 16, 2)
    g = scores[grace.student.id]
    assert g.in_grace and not g.late and g.late_penalty == 0
    table = demo.summary(module, scores)
    handed_in = dict(zip(table.columns[0]._cells, table.columns[3]._cells, strict=True))
    assert handed_in[late.student.id] == "late 2 days: -4"
    assert handed_in[grace.student.id] == "on time (grace)"
    assert handed_in[demo.CLASS[0].student.id] == "on time"


@pytest.mark.xdist_group("nbgrader")
def test_feedback_never_shows_hidden_tests_but_says_what_failed(class_run):
    module, course, scores, files, _ = class_run
    _, hidden = leaks.secret_lines(course.source_notebook(module))
    assert hidden, "no hidden lines to look for"
    feedback = files["feedback"]
    pages = sorted(feedback.rglob("*.html"))
    assert len(pages) == len(scores)
    assert leaks.leaks_in(feedback, hidden, "hidden test") == []
    subtle = [p.student.id for p in demo.CLASS if p.kind.startswith("subtly")]
    for sid in subtle:
        text = leaks.visible_text(feedback / sid / module.assignment / f"{module.name}.html")
        assert "A hidden test failed:" in text


@pytest.mark.xdist_group("nbgrader")
def test_student_fetches_released_feedback(class_run):
    module, _, _, _, work = class_run
    first = demo.CLASS[0].student.id
    fetched = list((work / "homes" / first / module.assignment / "feedback").rglob("*.html"))
    assert len(fetched) == 1


@pytest.mark.xdist_group("nbgrader")
def test_canvas_csv_quotes_names_leaves_missing_blank_and_has_points_row(class_run):
    module, _, scores, files, _ = class_run
    with open(files["canvas"], newline="") as f:
        rows = list(csv.reader(f))
    header, points, students = rows[0], rows[1], rows[2:]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    col = header.index(module.assignment)
    assert points[0] == "    Points Possible"
    assert float(points[col]) == scores["ada"].max_score
    by_sis = {r[2]: r for r in students}
    assert by_sis["grace"][0] == "Hopper, Jr., Grace"
    assert by_sis["grace"][1] == persona("grace").student.lms_user_id
    assert by_sis["john"][col] == "" and by_sis["leslie"][col] == ""
    assert float(by_sis["alan"][col]) == 0.0
    assert float(by_sis["ada"][col]) == scores["ada"].max_score
    raw = files["canvas"].read_text()
    assert '"Hopper, Jr., Grace"' in raw
