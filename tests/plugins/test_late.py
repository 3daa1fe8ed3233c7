"""Tests for coursekit.plugins.late.CoursePolicyLatePenalty, the course's late-submission policy.

Most tests call the plugin directly with an explicit ``max_score``; the last ones run it
inside nbgrader's own ``AssignLatePenalties`` preprocessor against a real gradebook, which
is how ``nbgrader autograde`` calls it (three arguments, maximum read from the gradebook).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties
from traitlets import TraitError
from traitlets.config import Config

from coursekit.plugins.late import CoursePolicyLatePenalty

# nbgrader's own add_submission triggers these SQLAlchemy 2.x autoflush warnings.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

DAY = 24 * 60 * 60
GRACE = 15 * 60  # default grace period, in seconds


def test_is_an_nbgrader_late_submission_plugin_with_the_documented_defaults() -> None:
    plugin = CoursePolicyLatePenalty()
    assert isinstance(plugin, LateSubmissionPlugin)
    assert (plugin.grace_minutes, plugin.percent_per_day, plugin.max_days) == (15, 10, 5)


@pytest.mark.parametrize(
    ("seconds_late", "penalty"),
    [
        (0, 0.0),  # on time
        (60, 0.0),  # inside the grace period
        (GRACE, 0.0),  # the last second of the grace period
        (GRACE + 1, 2.0),  # 1 s after grace: day 1 started, 10% of 20
        (DAY, 2.0),  # still day 1
        (DAY + 1, 4.0),  # 1 day + 1 s: day 2
        (3 * DAY - 1, 6.0),
        (5 * DAY, 10.0),  # the last second of day 5 (max_days): 50%
        (5 * DAY + 1, 17.0),  # day 6: the score becomes 0, penalty = whole score
        (40 * DAY, 17.0),
    ],
)
def test_default_policy(seconds_late: int, penalty: float) -> None:
    plugin = CoursePolicyLatePenalty()
    assert plugin.late_submission_penalty("s1", 17.0, seconds_late, max_score=20.0) == penalty


@pytest.mark.parametrize(
    ("seconds_late", "penalty"),
    [
        (0, 0.0),
        (1, 10.0),  # no grace: 1 s late is day 1, 25% of 40
        (DAY + 1, 20.0),
        (2 * DAY, 20.0),
        (2 * DAY + 1, 36.0),  # beyond max_days=2: whole score
    ],
)
def test_custom_traits(seconds_late: int, penalty: float) -> None:
    plugin = CoursePolicyLatePenalty(grace_minutes=0, percent_per_day=25, max_days=2)
    assert plugin.late_submission_penalty("s1", 36.0, seconds_late, max_score=40.0) == penalty


def test_longer_grace_period() -> None:
    plugin = CoursePolicyLatePenalty(grace_minutes=120, percent_per_day=5)
    assert plugin.late_submission_penalty("s1", 10.0, 2 * 3600, max_score=10.0) == 0.0
    assert plugin.late_submission_penalty("s1", 10.0, 2 * 3600 + 1, max_score=10.0) == 0.5


def test_penalty_is_never_more_than_the_score() -> None:
    plugin = CoursePolicyLatePenalty()
    # 4 started days = 40% of 20 = 8 points, but the student only scored 3.
    assert plugin.late_submission_penalty("s1", 3.0, 3 * DAY + 5, max_score=20.0) == 3.0
    assert plugin.late_submission_penalty("s1", 0.0, 3 * DAY + 5, max_score=20.0) == 0.0
    assert plugin.late_submission_penalty("s1", 0.0, 9 * DAY, max_score=20.0) == 0.0


def test_penalty_has_no_float_noise() -> None:
    plugin = CoursePolicyLatePenalty(percent_per_day=3.3)
    # 3 days x 3.3% of 3.3 points: 0.32669999999999993 in plain float arithmetic.
    assert plugin.late_submission_penalty("s1", 3.3, 2 * DAY + 1, max_score=3.3) == 0.3267


def test_traits_come_from_nbgrader_config() -> None:
    config = Config()
    config.CoursePolicyLatePenalty.grace_minutes = 0
    config.CoursePolicyLatePenalty.percent_per_day = 20
    config.CoursePolicyLatePenalty.max_days = 1
    plugin = CoursePolicyLatePenalty(config=config)
    assert plugin.late_submission_penalty("s1", 8.0, 10, max_score=10.0) == 2.0
    assert plugin.late_submission_penalty("s1", 8.0, DAY + 10, max_score=10.0) == 8.0


@pytest.mark.parametrize(
    "traits",
    [{"percent_per_day": -1}, {"percent_per_day": 101}, {"max_days": -1}, {"grace_minutes": -5}],
)
def test_invalid_traits_are_rejected(traits: dict[str, float]) -> None:
    with pytest.raises(TraitError):
        CoursePolicyLatePenalty(**traits)


def test_outside_nbgrader_the_maximum_must_be_given() -> None:
    plugin = CoursePolicyLatePenalty()
    assert plugin.late_submission_penalty("s1", 5.0, 10) == 0.0  # inside grace: not needed
    assert plugin.late_submission_penalty("s1", 5.0, 10 * DAY) == 5.0  # zeroed: not needed
    with pytest.raises(RuntimeError, match="max_score"):
        plugin.late_submission_penalty("s1", 5.0, DAY)


# ------------------------------------------------------------ inside nbgrader's preprocessor

DUE = datetime(2024, 3, 1, 23, 59)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One assignment (one notebook, max 20) and three graded submissions of 18 points."""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("hw", duedate=DUE)
        gb.add_notebook("hw", "hw")
        gb.add_grade_cell("t1", "hw", "hw", max_score=10, cell_type="code")
        gb.add_grade_cell("t2", "hw", "hw", max_score=10, cell_type="code")
        late_by = {
            "ontime": timedelta(hours=-1),
            "grace": timedelta(minutes=10),
            "day2": timedelta(days=1, seconds=1),
            "week": timedelta(days=7),
        }
        for student, delta in late_by.items():
            gb.add_student(student)
            gb.add_submission("hw", student, timestamp=DUE + delta)
            gb.find_grade("t1", "hw", "hw", student).auto_score = 10
            gb.find_grade("t2", "hw", "hw", student).auto_score = 8
        gb.db.commit()
    return url


def _assign_penalty(db_url: str, student: str, config: Config) -> float | None:
    preprocessor = AssignLatePenalties(config=config)
    resources = {
        "nbgrader": {"notebook": "hw", "assignment": "hw", "student": student, "db_url": db_url}
    }
    preprocessor.preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(db_url) as gb:
        return gb.find_submission_notebook("hw", "hw", student).late_submission_penalty


def test_through_nbgrader_assign_late_penalties(db_url: str) -> None:
    # The lines nbgrader_config.py gets, as a Config.
    config = Config()
    config.AssignLatePenalties.plugin_class = "coursekit.plugins.late.CoursePolicyLatePenalty"
    config.CoursePolicyLatePenalty.grace_minutes = 15
    config.CoursePolicyLatePenalty.percent_per_day = 10
    config.CoursePolicyLatePenalty.max_days = 5

    assert _assign_penalty(db_url, "ontime", config) is None  # nbgrader: not late, no penalty
    assert _assign_penalty(db_url, "grace", config) == 0.0
    assert _assign_penalty(db_url, "day2", config) == 4.0  # 2 started days x 10% of max 20
    assert _assign_penalty(db_url, "week", config) == 18.0  # beyond 5 days: the whole score

    config.CoursePolicyLatePenalty.percent_per_day = 15
    assert _assign_penalty(db_url, "day2", config) == 6.0

    with Gradebook(db_url) as gb:
        scores = {
            s.student_id: s.score - s.late_submission_penalty
            for s in gb.assignment_submissions("hw")
        }
    assert scores == {"ontime": 18.0, "grace": 18.0, "day2": 12.0, "week": 0.0}


def test_one_late_figure_everywhere(course, monkeypatch) -> None:
    """The autograde table, the TA report and the Canvas CSV show the same penalised score."""
    import csv as csv_module

    from coursekit.grading.command import late_note
    from coursekit.plugins.exporters import CanvasExportPlugin
    from coursekit.ta.report import build_report

    url = course.db_url
    with Gradebook(url) as gb:
        gb.add_assignment("hw", duedate=DUE)
        gb.add_notebook("hw", "hw")
        gb.add_grade_cell("t1", "hw", "hw", max_score=20, cell_type="code")
        for student, delta in {"ontime": -1, "grace": 0.1, "day2": 25}.items():
            gb.add_student(student, first_name=student.title(), last_name="Doe")
            gb.add_submission("hw", student, timestamp=DUE + timedelta(hours=delta))
            gb.find_grade("t1", "hw", "hw", student).auto_score = 18
        gb.db.commit()
    config = Config()
    config.AssignLatePenalties.plugin_class = "coursekit.plugins.late.CoursePolicyLatePenalty"
    for student in ("ontime", "grace", "day2"):
        _assign_penalty(url, student, config)

    table = course.scores("hw")
    assert (table["ontime"].score, table["grace"].score, table["day2"].score) == (18, 18, 14)
    assert (table["day2"].raw_score, table["day2"].late_penalty) == (18.0, 4.0)
    # The autograde table: 6 minutes after the due date is inside the grace period.
    assert late_note(table["ontime"]) == ""
    assert late_note(table["grace"]) == "on time (grace)"
    assert not table["grace"].late and table["grace"].in_grace
    assert late_note(table["day2"]) == "late 2 days: -4" and table["day2"].late

    report = build_report(url, "hw", course.root / "reports")
    totals = {r["student_id"]: r["score"] for r in report.totals.to_dict("records")}
    assert totals == {"ontime": 18.0, "grace": 18.0, "day2": 14.0}

    plugin = CanvasExportPlugin(to=str(course.root / "canvas.csv"))
    with Gradebook(url) as gb:
        plugin.export(gb)
    with open(course.root / "canvas.csv", newline="") as f:
        rows = {row[2]: row[5] for row in csv_module.reader(f)}
    assert (rows["ontime"], rows["grace"], rows["day2"]) == ("18", "18", "14")
