"""Tests for coursekit.plugins.exporters against a real nbgrader gradebook (SQLite in tmp_path).

Course built by the ``gradebook`` fixture:

* ``setup`` (due 2024-01-10, two grade cells of 10 -> max 20) and ``loops`` (due
  2024-02-10, cells of 5 and 10 -> max 15). By name ``loops`` sorts first; by due date
  ``setup`` does, so the column order checks the sort.
* ``ghopper``  Grace "Hopper, Jr.", lms 1001, mixed-case email: setup 10 + 7.5 = 17.5;
  loops 5 + 10 = 15 submitted late with a 2-point penalty -> 13.
* ``aturing``  Alan Turing, lms 1002: setup 20; no loops submission (blank, not 0).
* ``alovelace`` Ada Lovelace, no lms_user_id, no email: setup graded 0 (written as 0),
  loops 3.
* ``x99``      no names at all, no submissions.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from coursekit.plugins.exporters import (
    CanvasExportPlugin,
    LmsExportPlugin,
    MoodleCsvExportPlugin,
    PlainCsvExportPlugin,
    format_score,
)

# nbgrader's own add_submission triggers these SQLAlchemy 2.x autoflush warnings.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

REPO = Path(__file__).resolve().parents[2]
NBGRADER = REPO / ".venv" / "bin" / "nbgrader"

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
HOPPER_EMAIL = "Grace.Hopper@Example.EDU"


def _grade(gb: Gradebook, assignment: str, student: str, scores: dict[str, float]) -> None:
    for cell, value in scores.items():
        gb.find_grade(cell, assignment, assignment, student).auto_score = value
    gb.db.commit()


def _populate(gb: Gradebook) -> None:
    gb.add_assignment("setup", duedate=datetime(2024, 1, 10, 23, 59))
    gb.add_notebook("setup", "setup")
    gb.add_grade_cell("t1", "setup", "setup", max_score=10, cell_type="code")
    gb.add_grade_cell("t2", "setup", "setup", max_score=10, cell_type="code")
    gb.add_assignment("loops", duedate=datetime(2024, 2, 10, 23, 59))
    gb.add_notebook("loops", "loops")
    gb.add_grade_cell("t1", "loops", "loops", max_score=5, cell_type="code")
    gb.add_grade_cell("t2", "loops", "loops", max_score=10, cell_type="code")

    gb.add_student(
        "ghopper",
        first_name="Grace",
        last_name="Hopper, Jr.",
        email=HOPPER_EMAIL,
        lms_user_id="1001",
    )
    gb.add_student(
        "aturing",
        first_name="Alan",
        last_name="Turing",
        email="alan@example.edu",
        lms_user_id="1002",
    )
    gb.add_student("alovelace", first_name="Ada", last_name="Lovelace")
    gb.add_student("x99")

    gb.add_submission("setup", "ghopper", timestamp=datetime(2024, 1, 9, 12, 0))
    _grade(gb, "setup", "ghopper", {"t1": 10, "t2": 7.5})
    gb.add_submission("loops", "ghopper", timestamp=datetime(2024, 2, 11, 9, 0))
    _grade(gb, "loops", "ghopper", {"t1": 5, "t2": 10})
    gb.find_submission_notebook("loops", "loops", "ghopper").late_submission_penalty = 2.0
    gb.db.commit()

    gb.add_submission("setup", "aturing", timestamp=datetime(2024, 1, 10, 8, 0))
    _grade(gb, "setup", "aturing", {"t1": 10, "t2": 10})

    gb.add_submission("setup", "alovelace", timestamp=datetime(2024, 1, 10, 8, 0))
    _grade(gb, "setup", "alovelace", {"t1": 0, "t2": 0})
    gb.add_submission("loops", "alovelace", timestamp=datetime(2024, 2, 1, 8, 0))
    _grade(gb, "loops", "alovelace", {"t1": 3, "t2": 0})


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course gradebook, built once through nbgrader's API; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}") as gb:
        _populate(gb)
    return path


@pytest.fixture
def db_url(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    shutil.copyfile(template_db, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


@pytest.fixture
def gradebook(db_url: str) -> Iterator[Gradebook]:
    gb = Gradebook(db_url)
    try:
        yield gb
    finally:
        gb.close()


@pytest.fixture
def log() -> logging.Logger:
    return logging.getLogger("test_lms_export")


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


# ---------------------------------------------------------------------- Canvas


CANVAS_EXPECTED = [
    CANVAS_IDENTITY + ["setup (5501)", "loops (5502)"],
    ["    Points Possible", "", "", "", "", "20", "15"],
    ["x99", "", "x99", "", "", "", ""],
    ["Hopper, Jr., Grace", "1001", "ghopper", HOPPER_EMAIL, "", "17.5", "13"],
    ["Lovelace, Ada", "", "alovelace", "", "", "0", "3"],
    ["Turing, Alan", "1002", "aturing", "alan@example.edu", "", "20", ""],
]


def test_canvas_export_layout(gradebook: Gradebook, tmp_path: Path, log: logging.Logger) -> None:
    out = tmp_path / "canvas.csv"
    plugin = CanvasExportPlugin(
        to=str(out), assignment_ids={"setup": 5501, "loops": "5502"}, log=log
    )
    plugin.export(gradebook)

    assert read_csv(out) == CANVAS_EXPECTED
    raw = out.read_text(encoding="utf-8")
    # The comma name is quoted on disk, so a naive split would not survive but csv does.
    assert '"Hopper, Jr., Grace"' in raw
    assert raw.splitlines()[1].startswith("    Points Possible,")


def test_canvas_missing_submission_is_blank_not_zero(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger
) -> None:
    out = tmp_path / "canvas.csv"
    CanvasExportPlugin(to=str(out), log=log).export(gradebook)
    rows = {row[2]: row for row in read_csv(out)[2:]}
    assert rows["aturing"][6] == ""  # no loops submission
    assert rows["alovelace"][5] == "0"  # submitted and graded 0
    assert rows["x99"][5:] == ["", ""]


def test_canvas_column_without_id_is_bare_name(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger
) -> None:
    out = tmp_path / "canvas.csv"
    CanvasExportPlugin(to=str(out), assignment_ids={"loops": 77}, section="S1", log=log).export(
        gradebook
    )
    rows = read_csv(out)
    assert rows[0] == CANVAS_IDENTITY + ["setup", "loops (77)"]
    assert {row[4] for row in rows[2:]} == {"S1"}
    assert rows[1][4] == ""  # Points Possible row keeps identity cells blank


def test_canvas_warns_about_students_without_lms_id(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "canvas.csv"
    with caplog.at_level(logging.WARNING, logger=log.name):
        CanvasExportPlugin(to=str(out), log=log).export(gradebook)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    lms_warnings = [m for m in warnings if "lms_user_id" in m]
    assert len(lms_warnings) == 1
    assert "alovelace" in lms_warnings[0] and "x99" in lms_warnings[0]
    assert "ghopper" not in lms_warnings[0]
    # ...and they are still exported.
    assert {row[2] for row in read_csv(out)[2:]} == {"x99", "ghopper", "alovelace", "aturing"}


def test_canvas_warns_about_unknown_assignment_ids(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=log.name):
        CanvasExportPlugin(to=str(tmp_path / "c.csv"), assignment_ids={"setpu": 1}, log=log).export(
            gradebook
        )
    assert any("setpu" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------- plain CSV


def test_plain_csv_layout(gradebook: Gradebook, tmp_path: Path, log: logging.Logger) -> None:
    out = tmp_path / "plain.csv"
    PlainCsvExportPlugin(to=str(out), log=log).export(gradebook)
    assert read_csv(out) == [
        [
            "student_id",
            "last_name",
            "first_name",
            "email",
            "lms_user_id",
            "setup",
            "setup_late",
            "loops",
            "loops_late",
            "total",
            "max_total",
        ],
        ["x99", "", "", "", "", "", "", "", "", "0", "35"],
        [
            "ghopper",
            "Hopper, Jr.",
            "Grace",
            HOPPER_EMAIL,
            "1001",
            "17.5",
            "",
            "13",
            "yes",
            "30.5",
            "35",
        ],
        ["alovelace", "Lovelace", "Ada", "", "", "0", "", "3", "", "3", "35"],
        ["aturing", "Turing", "Alan", "alan@example.edu", "1002", "20", "", "", "", "20", "35"],
    ]


def test_plain_csv_rejects_clashing_column(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger
) -> None:
    gradebook.add_assignment("total")
    out = tmp_path / "plain.csv"
    with pytest.raises(ValueError, match="total"):
        PlainCsvExportPlugin(to=str(out), log=log).export(gradebook)
    assert not out.exists()


# ---------------------------------------------------------------------- Moodle


def test_moodle_layout_and_warning(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "moodle.csv"
    with caplog.at_level(logging.WARNING, logger=log.name):
        MoodleCsvExportPlugin(to=str(out), log=log).export(gradebook)
    assert read_csv(out) == [
        ["Email address", "ID number", "setup", "loops"],
        ["", "x99", "", ""],
        [HOPPER_EMAIL, "ghopper", "17.5", "13"],  # case kept exactly
        ["", "alovelace", "0", "3"],
        ["alan@example.edu", "aturing", "20", ""],
    ]
    email_warnings = [r.getMessage() for r in caplog.records if "email" in r.getMessage()]
    assert len(email_warnings) == 1
    assert "alovelace" in email_warnings[0] and "x99" in email_warnings[0]
    assert "aturing" not in email_warnings[0]


# ---------------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize(
    ("plugin_class", "default"),
    [
        (CanvasExportPlugin, "gradebook/canvas_grades.csv"),
        (PlainCsvExportPlugin, "gradebook/grades.csv"),
        (MoodleCsvExportPlugin, "gradebook/moodle_grades.csv"),
    ],
)
def test_default_destination(
    gradebook: Gradebook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log: logging.Logger,
    plugin_class: type[LmsExportPlugin],
    default: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    plugin_class(log=log).export(gradebook)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv"))
    assert written == [default]
    assert len(read_csv(tmp_path / default)) >= 5


@pytest.mark.parametrize(
    "plugin_class", [CanvasExportPlugin, PlainCsvExportPlugin, MoodleCsvExportPlugin]
)
def test_unknown_assignment_filter_raises(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger, plugin_class: type[LmsExportPlugin]
) -> None:
    out = tmp_path / "out.csv"
    plugin = plugin_class(to=str(out), assignment=["loops", "nope"], log=log)
    with pytest.raises(ValueError, match="'nope'"):
        plugin.export(gradebook)
    assert not out.exists()


def test_filters(gradebook: Gradebook, tmp_path: Path, log: logging.Logger) -> None:
    out = tmp_path / "canvas.csv"
    CanvasExportPlugin(
        to=str(out),
        assignment=["loops"],
        student=["ghopper", "aturing"],
        assignment_ids={"loops": 9},
        log=log,
    ).export(gradebook)
    assert read_csv(out) == [
        CANVAS_IDENTITY + ["loops (9)"],
        ["    Points Possible", "", "", "", "", "15"],
        ["Hopper, Jr., Grace", "1001", "ghopper", HOPPER_EMAIL, "", "13"],
        ["Turing, Alan", "1002", "aturing", "alan@example.edu", "", ""],
    ]

    out = tmp_path / "plain.csv"
    PlainCsvExportPlugin(to=str(out), assignment=["setup"], student=["alovelace"], log=log).export(
        gradebook
    )
    assert read_csv(out) == [
        [
            "student_id",
            "last_name",
            "first_name",
            "email",
            "lms_user_id",
            "setup",
            "setup_late",
            "total",
            "max_total",
        ],
        ["alovelace", "Lovelace", "Ada", "", "", "0", "", "0", "20"],
    ]


def test_unknown_student_filter_is_skipped_with_warning(
    gradebook: Gradebook, tmp_path: Path, log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "moodle.csv"
    with caplog.at_level(logging.WARNING, logger=log.name):
        MoodleCsvExportPlugin(to=str(out), student=["aturing", "ghost"], log=log).export(gradebook)
    assert [row[1] for row in read_csv(out)[1:]] == ["aturing"]
    assert any("ghost" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (20.0, "20"), (17.5, "17.5"), (0.0, "0"), (0.1 + 0.2, "0.3"), (1 / 3, "0.3333")],
)
def test_format_score(value: float | None, text: str) -> None:
    assert format_score(value) == text


# ---------------------------------------------------------------------- real CLI


def _run_export(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [str(NBGRADER), "export", f"--CourseDirectory.db_url={db_url}", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not NBGRADER.exists(), reason="venv nbgrader binary not found")
def test_cli_canvas_export(gradebook: Gradebook, tmp_path: Path, db_url: str) -> None:
    gradebook.close()  # release the SQLite file for the subprocess
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CanvasExportPlugin.assignment_ids = {'setup': 5501, 'loops': '5502'}\n"
    )
    out = tmp_path / "from_cli.csv"
    result = _run_export(
        tmp_path,
        db_url,
        "--exporter=coursekit.plugins.exporters.CanvasExportPlugin",
        f"--to={out}",
    )
    assert result.returncode == 0, result.stderr
    assert read_csv(out) == CANVAS_EXPECTED
    assert "alovelace" in result.stderr and "lms_user_id" in result.stderr


@pytest.mark.skipif(not NBGRADER.exists(), reason="venv nbgrader binary not found")
def test_cli_filters_and_unknown_assignment(
    gradebook: Gradebook, tmp_path: Path, db_url: str
) -> None:
    gradebook.close()
    out = tmp_path / "moodle.csv"
    result = _run_export(
        tmp_path,
        db_url,
        "--exporter=coursekit.plugins.exporters.MoodleCsvExportPlugin",
        f"--to={out}",
        "--assignment=['setup']",
        "--student=['ghopper']",
    )
    assert result.returncode == 0, result.stderr
    assert read_csv(out) == [
        ["Email address", "ID number", "setup"],
        [HOPPER_EMAIL, "ghopper", "17.5"],
    ]

    bad = tmp_path / "bad.csv"
    result = _run_export(
        tmp_path,
        db_url,
        "--exporter=coursekit.plugins.exporters.PlainCsvExportPlugin",
        f"--to={bad}",
        "--assignment=['nope']",
    )
    assert result.returncode != 0
    assert "'nope'" in result.stderr
    assert not bad.exists()
