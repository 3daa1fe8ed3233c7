"""The Course: one owner for what nbgrader_config.py says; loading it changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from coursekit.course import Course, penalised


def test_the_course_answers_from_the_config(course):
    assert course.course_id == "tinytorch"
    assert course.db_url == "sqlite:///" + str(course.root / "gradebook" / "gradebook.db")
    assert course.exchange == course.root / "exchange"
    assert not course.has_gradebook()


def test_the_exchange_follows_the_environment(course, monkeypatch, tmp_path):
    monkeypatch.setenv("TINYTORCH_EXCHANGE", str(tmp_path / "shared"))
    assert Course(course.root).exchange == tmp_path / "shared"


def test_loading_the_config_creates_nothing_and_sets_no_variable(course):
    """nbgrader loads the config for every command, `export` included: no side effects."""
    code = (
        "import os, json; before = dict(os.environ)\n"
        "from coursekit.course import Course\n"
        f"c = Course({str(course.root)!r}); c.config; c.sandbox()\n"
        "print(json.dumps([c.config.KernelManager.ip, sorted(set(os.environ) ^ set(before))]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    sockets, changed = json.loads(result.stdout)
    assert changed == []
    assert not os.path.exists(os.path.dirname(sockets)), "loading the config made a folder"
    assert sorted(p.name for p in course.root.iterdir()) == ["gradebook", "nbgrader_config.py"]


def test_the_late_penalty_never_takes_a_score_below_zero():
    assert penalised(18, 2) == 16
    assert penalised(1, 2) == 0
    assert penalised(None, None) == 0


def test_grading_commands_give_the_gradebook_the_schedules_due_date(tmp_path):
    """What the TA found: a due date set only with `nbgrader db assignment add` did
    nothing for the course's own commands. The schedule owns it now, and every grading
    command (through ensure_assignment) puts it into the gradebook, where nbgrader's late
    penalties read it."""
    import datetime as dt

    from nbgrader.api import Gradebook

    from coursekit import schedule
    from coursekit.modules import find

    module = find("01_tensor")
    due = dt.datetime(2027, 1, 25, 23, 59, tzinfo=dt.UTC)
    course = Course.scratch(tmp_path / "c", [module], schedule={module.assignment: {"due": due}})
    course.nbgrader("db", "assignment", "add", "01_tensor", "--duedate=2030-01-01 00:00:00 UTC")
    course.ensure_assignment(module)
    with Gradebook(course.db_url) as gb:
        assert gb.find_assignment("01_tensor").duedate == due.replace(tzinfo=None)
    later = due + dt.timedelta(days=2)
    (course.root / schedule.SCHEDULE_FILE).write_text(schedule.dump({"01_tensor": {"due": later}}))
    Course(course.root).ensure_assignment(module)
    with Gradebook(course.db_url) as gb:
        assert gb.find_assignment("01_tensor").duedate == later.replace(tzinfo=None)
