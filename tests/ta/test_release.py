"""Releases and solutions follow the schedule: not too early, never without a due date.

The guards are checked at chosen moments (`now=`); the command line is run as the
instructor runs it (`coursekit release-solutions`, what `make release-solutions` calls), on
a small course folder: it refuses with a message, never a traceback, and FORCE publishes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from coursekit import schedule
from coursekit.course import Course
from coursekit.modules import REPO, find
from coursekit.schedule import Refused
from coursekit.ta import release, solutions

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
DUE = dt.datetime(2027, 1, 25, 23, 59, tzinfo=dt.UTC)
RELEASE = DUE - dt.timedelta(days=7)


def dated(course: Course, **dates) -> Course:
    (course.root / schedule.SCHEDULE_FILE).write_text(schedule.dump({"01_tensor": dates}))
    return Course(course.root)


def released_by_hand(course: Course) -> None:
    """The module as `release_assignment` leaves it in the exchange (an empty folder will do
    for the guard, which asks only whether it is there)."""
    course.outbound("01_tensor").mkdir(parents=True)


def test_release_waits_for_the_release_date_and_needs_a_due_date(course):
    module = find("01_tensor")
    with pytest.raises(Refused, match="no due date in schedule.toml") as undated:
        release.check(course, module)
    assert "FORCE=1" in str(undated.value)
    course = dated(course, release=RELEASE, due=DUE)
    with pytest.raises(Refused, match="scheduled for release on 2027-01-18 23:59 UTC"):
        release.check(course, module, now=RELEASE - dt.timedelta(hours=1))
    release.check(course, module, now=RELEASE)  # on the day: fine


def test_solutions_wait_for_the_late_window_to_close(course):
    with pytest.raises(Refused, match="never released to students"):
        solutions.check(course, "01_tensor", now=DUE + dt.timedelta(days=30))
    released_by_hand(course)
    with pytest.raises(Refused, match="no due date"):
        solutions.check(course, "01_tensor", now=DUE + dt.timedelta(days=30))
    course = dated(course, release=RELEASE, due=DUE)
    closes = DUE + dt.timedelta(days=5, minutes=15)
    for now in (
        DUE - dt.timedelta(days=1),
        DUE + dt.timedelta(days=2),
        closes - dt.timedelta(seconds=1),
    ):
        with pytest.raises(Refused, match="can earn points until 2027-01-31 00:14 UTC") as why:
            solutions.check(course, "01_tensor", now=now)
        assert "matches the released solution" in str(why.value)  # what forcing means
    solutions.check(course, "01_tensor", now=closes)
    # An extension in the gradebook keeps the window open for that student.
    with Gradebook(course.db_url) as gb:
        gb.add_assignment("01_tensor")
        gb.add_student("ada")
        gb.add_submission("01_tensor", "ada", extension=dt.timedelta(days=1))
    with pytest.raises(Refused):
        solutions.check(course, "01_tensor", now=closes)


def instructor(course: Course, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "coursekit", *args, "--root", str(course.root)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_command_refuses_in_words_and_force_publishes(course):
    for folder in ("masters", "solutions"):
        shutil.copytree(REPO / folder / "01_tensor", course.root / folder / "01_tensor")
    never = instructor(course, "release-solutions", "01_tensor")
    assert never.returncode == 1 and "never released" in never.stdout
    assert "Traceback" not in never.stdout + never.stderr
    released_by_hand(course)
    now = dt.datetime.now(dt.UTC)
    course = dated(course, release=now - dt.timedelta(days=7), due=now + dt.timedelta(days=1))
    early = instructor(course, "release-solutions", "01_tensor")
    assert early.returncode == 1, early.stdout + early.stderr
    assert "late submissions can earn points until" in early.stdout
    assert "Traceback" not in early.stdout + early.stderr
    assert course.published_solution("01_tensor") is None
    forced = instructor(course, "release-solutions", "01_tensor", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "Forced:" in forced.stdout and "matches the released solution" in forced.stdout
    assert (course.published_solution("01_tensor") / "tensor.ipynb").is_file()
