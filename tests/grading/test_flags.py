"""The flags file: kept until a human clears them or the submission changes."""

from __future__ import annotations

import shutil
import subprocess
import sys

from coursekit.grading import flags
from coursekit.grading.batch import Outcome, Run, flags_file, write_flags
from coursekit.modules import REPO, find

A = "01_tensor"
RENAMED = "notebook renamed to tensor (1).ipynb; graded as tensor.ipynb"


def test_an_unrelated_regrade_keeps_earlier_flags():
    first = flags.merge([], A, {"ren": "aaaa", "ok": "bbbb"}, {"ren": [RENAMED], "ok": []})
    second = flags.merge(first, A, {"ok": "cccc"}, {"ok": []})  # only "ok" resubmitted
    assert flags.open_by_student(second) == {"ren": [RENAMED]}


def test_a_flag_stays_until_cleared_or_the_submission_changes():
    first = flags.merge([], A, {"ren": "aaaa"}, {"ren": [RENAMED]})
    again = flags.merge(first, A, {"ren": "aaaa"}, {"ren": [RENAMED]})  # regraded, same work
    assert len(again) == 1
    cleared, count = flags.clear(again, "ren", "ta1")
    assert count == 1 and flags.open_by_student(cleared) == {}
    regraded = flags.merge(cleared, A, {"ren": "aaaa"}, {"ren": [RENAMED]})  # tests changed
    assert flags.open_by_student(regraded) == {}  # cleared stays cleared
    resubmitted = flags.merge(regraded, A, {"ren": "dddd"}, {"ren": []})
    assert resubmitted == []  # the old submission's flags went with it


def test_a_run_note_is_replaced_each_time_the_student_is_considered():
    failed = flags.merge([], A, {"s": "aaaa"}, {"s": [flags.FAILED + "Kernel died"]})
    fixed = flags.merge(failed, A, {"s": "aaaa"}, {"s": []})
    assert fixed == []


def test_the_flags_command_lists_and_clears(course):
    module = find(A)
    shutil.copytree(REPO / "masters" / A, course.root / "masters" / A)
    run = Run(graded=[Outcome("ren", ok=True, flags=[RENAMED], fingerprint="ab" * 32)])
    path = write_flags(course, module, run)
    assert path == flags_file(course, module)

    def command(*args):
        return subprocess.run(
            [sys.executable, "-m", "coursekit", "flags", A, "--root", str(course.root), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = command()
    assert listed.returncode == 0 and RENAMED in listed.stdout
    cleared = command("--clear", "ren", "--by", "Grace")
    assert cleared.returncode == 0 and "Cleared 1 flag(s) of ren" in cleared.stdout
    assert RENAMED not in command().stdout
    (row,) = flags.load(path)
    assert row.cleared.startswith("Grace, ")
    assert "Grace" in command("--all").stdout
