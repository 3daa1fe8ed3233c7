"""The schedule: one file of release and due dates per module, read through the Course."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from coursekit import schedule
from coursekit.course import Course
from coursekit.modules import REPO, discover

UTC = dt.UTC
# nbgrader's own add_submission triggers these SQLAlchemy 2.x autoflush warnings.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")


def write(course: Course, text: str) -> Course:
    (course.root / schedule.SCHEDULE_FILE).write_text(text)
    return Course(course.root)  # a fresh Course reads it


def test_times_without_an_offset_are_in_the_schedules_timezone(course):
    course = write(
        course,
        'timezone = "America/Chicago"\n'
        "[01_tensor]\n"
        "release = 2027-01-18T09:00:00\n"
        "due = 2027-01-25T23:59:00\n"  # CST, UTC-6
        "canvas = 123456\n"
        "[02_activations]\n"
        "due = 2027-02-01T12:00:00Z\n",
    )
    tensor = course.schedule["01_tensor"]
    assert tensor.due == dt.datetime(2027, 1, 26, 5, 59, tzinfo=UTC)
    assert tensor.release == dt.datetime(2027, 1, 18, 15, 0, tzinfo=UTC)
    assert tensor.canvas == "123456"
    assert course.due("02_activations") == dt.datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
    assert course.schedule.local(tensor.due) == "2027-01-25 23:59 CST"
    assert course.schedule["09_spatial"] == schedule.Dates("09_spatial")  # not in the file


@pytest.mark.parametrize(
    "text, words",
    [
        ("[01_tensor]\ndue = 2027-01-25\n", "has no time of day"),
        (
            "[01_tensor]\nrelease = 2027-01-25T09:00:00\ndue = 2027-01-18T09:00:00\n",
            "is before its release",
        ),
        ("[01_tensor]\ndeadline = 2027-01-25T09:00:00\n", "unknown key(s) deadline"),
        ('timezone = "Mars/Olympus"\n', "unknown timezone"),
        ("[01_tensor\n", "not valid TOML"),
    ],
)
def test_a_wrong_schedule_is_refused_with_the_entry_named(course, text, words):
    with pytest.raises(schedule.ScheduleError, match=words.replace("(", r"\(").replace(")", r"\)")):
        _ = write(course, text).schedule


def test_no_file_is_an_empty_schedule_and_says_what_is_missing(course):
    assert not course.schedule.exists()
    assert course.due("01_tensor") is None and course.late_window_closes("01_tensor") is None
    course = write(course, "[99_nothing]\ndue = 2027-01-25T09:00:00Z\n")
    problems = course.schedule.problems(["01_tensor"])
    assert any("99_nothing" in p and "no such module" in p for p in problems)
    assert any("01_tensor: no due date" in p for p in problems)


def test_the_late_window_is_grace_plus_the_policys_days_plus_the_longest_extension(course):
    due = dt.datetime(2027, 1, 25, 23, 59, tzinfo=UTC)
    course = write(course, schedule.dump({"01_tensor": {"due": due}}))
    assert course.late_window_closes("01_tensor") == due + dt.timedelta(days=5, minutes=15)
    with Gradebook(course.db_url) as gb:
        gb.add_assignment("01_tensor")
        gb.add_student("ada")
        gb.add_submission("01_tensor", "ada", extension=dt.timedelta(days=2))
    assert course.late_window_closes("01_tensor") == due + dt.timedelta(days=7, minutes=15)


def test_dump_and_parse_agree(tmp_path):
    dates = {
        "01_tensor": {
            "release": dt.datetime(2027, 1, 18, 9, tzinfo=UTC),
            "due": dt.datetime(2027, 1, 25, 23, 59, tzinfo=UTC),
            "canvas": "42",
        }
    }
    parsed = schedule.parse(schedule.dump(dates), tmp_path / "schedule.toml")
    assert parsed["01_tensor"] == schedule.Dates("01_tensor", *dates["01_tensor"].values())


def test_the_repositorys_schedule_dates_every_module_in_order():
    course = Course(REPO)
    modules = discover(REPO)
    assert course.schedule.problems([m.assignment for m in modules]) == []
    dues = [course.due(m) for m in modules]
    assert dues == sorted(dues)
    for m in modules:
        dates = course.schedule[m.assignment]
        assert dates.release < dates.due


def test_the_schedule_command_shows_each_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "coursekit", "schedule", "--root", str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for module in discover(REPO):
        row = next(line for line in result.stdout.splitlines() if module.assignment in line)
        due = Course(REPO).schedule.local(Course(REPO).due(module))
        assert due in row
    assert "late window closes" in result.stdout
