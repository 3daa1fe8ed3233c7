"""Tests for coursekit.roster: a Canvas gradebook export into a real nbgrader gradebook.

The export written by ``write_export`` is laid out like Canvas's (Grades > Export), with a
byte-order mark, a ``Points Possible`` row, Canvas's test student and assignment columns:

====  ===========================  ====  ===========  ===========================
row   Student                      ID    SIS User ID  SIS Login ID
====  ===========================  ====  ===========  ===========================
2     Points Possible
3     Hopper, Jr., Grace           1001  S001         Grace.Hopper@Example.EDU
4     Turing, Alan                 1002               aturing@example.edu
5     Student, Test                1099
6     Lovelace, Ada                1003
7     Knuth, Donald                1004               dknuth
8     Cher                         1005  S005
9     de la Cruz, Juana Inés       1006  S006         juana@example.edu
====  ===========================  ====  ===========  ===========================
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from coursekit import cli
from coursekit.course import Course
from coursekit.ta import roster
from coursekit.ta.roster import (
    Duplicate,
    import_canvas_roster,
    parse_canvas_roster,
    split_sortable_name,
)

REPO = Path(__file__).resolve().parents[2]
HEADER = [
    "Student",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Section",
    "01_tensor (5501)",
    "Current Score",
]
POINTS = ["    Points Possible", "", "", "", "", "20", "(read only)"]
ROWS = [
    ["Hopper, Jr., Grace", "1001", "S001", "Grace.Hopper@Example.EDU", "Sec A", "18", "90"],
    ["Turing, Alan", "1002", "", "aturing@example.edu", "Sec A", "", ""],
    ["Student, Test", "1099", "", "", "Sec A", "", ""],
    ["Lovelace, Ada", "1003", "", "", "Sec B", "20", "100"],
    ["Knuth, Donald", "1004", "", "dknuth", "Sec B", "", ""],
    ["Cher", "1005", "S005", "", "Sec B", "", ""],
    ["de la Cruz, Juana Inés", "1006", "S006", "juana@example.edu", "Sec B", "", ""],
]

# (id, last_name, first_name, email, lms_user_id) of every student the export creates.
EXPECTED = {
    ("S001", "Hopper, Jr.", "Grace", "Grace.Hopper@Example.EDU", "1001"),
    ("aturing", "Turing", "Alan", "aturing@example.edu", "1002"),
    ("1003", "Lovelace", "Ada", None, "1003"),
    ("dknuth", "Knuth", "Donald", None, "1004"),
    ("S005", "Cher", None, None, "1005"),
    ("S006", "de la Cruz", "Juana Inés", "juana@example.edu", "1006"),
}


def write_export(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def students_in(db_url: str) -> set[tuple[str, str | None, str | None, str | None, str | None]]:
    with Gradebook(db_url) as gb:
        return {(s.id, s.last_name, s.first_name, s.email, s.lms_user_id) for s in gb.students}


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty nbgrader gradebook, made once (stamping one takes seconds); tests copy it."""
    path = tmp_path_factory.mktemp("empty") / "gradebook.db"
    Gradebook(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def db_url(course: Course, empty_db: Path) -> str:
    shutil.copyfile(empty_db, course.gradebook_dir / "gradebook.db")
    return course.db_url


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "canvas.csv", [POINTS, *ROWS])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Turing, Alan", ("Turing", "Alan")),
        ("Hopper, Jr., Grace", ("Hopper, Jr.", "Grace")),
        ("  van   Rossum ,  Guido ", ("van Rossum", "Guido")),
        ("Cher", ("Cher", None)),
        ("Madonna,", ("Madonna", None)),
        ("", (None, None)),
    ],
)
def test_split_sortable_name(name: str, expected: tuple[str | None, str | None]) -> None:
    assert split_sortable_name(name) == expected


def test_import_creates_the_students(export: Path, db_url: str) -> None:
    result = import_canvas_roster(export, db_url)

    assert students_in(db_url) == EXPECTED
    assert [s.id for s in result.students] == ["S001", "aturing", "1003", "dknuth", "S005", "S006"]
    assert [s.row for s in result.students] == [3, 4, 6, 7, 8, 9]
    assert result.students[0].section == "Sec A"
    assert result.created == [s.id for s in result.students]
    assert result.updated == result.unchanged == []
    assert result.skipped == [
        (2, "Points Possible row"),
        (5, "Canvas test student 'Student, Test'"),
    ]
    assert result.duplicates == [] and result.warnings == []


def test_reimport_is_unchanged_and_updates_only_what_changed(
    tmp_path: Path, export: Path, db_url: str
) -> None:
    import_canvas_roster(export, db_url)
    again = import_canvas_roster(export, db_url)
    assert again.created == again.updated == []
    assert len(again.unchanged) == 6

    # Ada set a preferred email by hand; Canvas has none for her: it is kept. Alan changed
    # his name in Canvas: updated.
    with Gradebook(db_url) as gb:
        gb.update_or_create_student("1003", email="ada@example.org")
    rows = [list(r) for r in ROWS]
    rows[1][0] = "Turing, Alan M."
    result = import_canvas_roster(write_export(tmp_path / "v2.csv", rows), db_url)
    assert result.updated == ["aturing"]
    assert sorted(result.unchanged) == ["1003", "S001", "S005", "S006", "dknuth"]
    with Gradebook(db_url) as gb:
        assert gb.find_student("1003").email == "ada@example.org"
        assert gb.find_student("aturing").first_name == "Alan M."


def test_existing_student_gets_canvas_fields(export: Path, db_url: str) -> None:
    with Gradebook(db_url) as gb:
        gb.add_student("S001", first_name="G.", email="old@example.edu")
    result = import_canvas_roster(export, db_url)
    assert result.updated == ["S001"]
    assert "S001" not in result.created
    assert students_in(db_url) == EXPECTED


def test_dry_run_writes_nothing(export: Path, db_url: str, tmp_path: Path) -> None:
    result = import_canvas_roster(export, db_url, dry_run=True)
    assert len(result.created) == 6
    assert students_in(db_url) == set()
    missing = tmp_path / "nowhere" / "gradebook.db"
    result = import_canvas_roster(export, f"sqlite:///{missing}", dry_run=True)
    assert len(result.created) == 6 and not missing.exists()


def test_duplicates_are_reported_and_first_row_wins(tmp_path: Path, db_url: str) -> None:
    rows = [
        ["Turing, Alan", "1002", "S002", "", "", "", ""],
        ["Hopper, Grace", "1001", "S001", "", "", "", ""],
        ["Turing, A.", "2002", "S002", "", "", "", ""],  # same SIS User ID
        ["Hopper, G.", "1001", "S777", "", "", "", ""],  # same Canvas ID
    ]
    result = import_canvas_roster(write_export(tmp_path / "dup.csv", rows), db_url)
    assert result.duplicates == [
        Duplicate(row=4, first_row=2, column="student id", value="S002"),
        Duplicate(row=5, first_row=3, column="Canvas ID", value="1001"),
    ]
    assert str(result.duplicates[0]) == "row 4: student id 'S002' already on row 2"
    assert students_in(db_url) == {
        ("S002", "Turing", "Alan", None, "1002"),
        ("S001", "Hopper", "Grace", None, "1001"),
    }


def test_canvas_id_already_owned_by_another_student_warns(export: Path, db_url: str) -> None:
    with Gradebook(db_url) as gb:
        gb.add_student("grace", lms_user_id="1001")
    result = import_canvas_roster(export, db_url)
    assert len(result.warnings) == 1
    assert "row 3" in result.warnings[0] and "'grace'" in result.warnings[0]


def test_missing_column_is_an_error_and_nothing_is_written(tmp_path: Path, db_url: str) -> None:
    header = [col for col in HEADER if col != "SIS User ID"]
    rows = [[c for i, c in enumerate(r) if i != 2] for r in ROWS]
    bad = write_export(tmp_path / "bad.csv", rows, header=header)
    with pytest.raises(ValueError, match=r"row 1 .*'SIS User ID'"):
        import_canvas_roster(bad, db_url)
    assert students_in(db_url) == set()


def test_row_without_usable_id_names_the_row(tmp_path: Path, db_url: str) -> None:
    rows = [POINTS, ROWS[0], ["Nobody, Known", "", "", "", "Sec A", "", ""], ROWS[1]]
    bad = write_export(tmp_path / "noid.csv", rows)
    with pytest.raises(ValueError, match=r"row 4 \(Nobody, Known\): no usable student id"):
        import_canvas_roster(bad, db_url)
    assert students_in(db_url) == set()  # row 3 was valid but nothing is written


def test_login_without_user_part_falls_back_to_canvas_id(tmp_path: Path, db_url: str) -> None:
    rows = [["Odd, One", "3003", "", "@example.edu", "", "", ""]]
    import_canvas_roster(write_export(tmp_path / "odd.csv", rows), db_url)
    assert students_in(db_url) == {("3003", "Odd", "One", "@example.edu", "3003")}


def test_path_unsafe_id_is_rejected(tmp_path: Path, db_url: str) -> None:
    rows = [["Slash, Sam", "4004", "../etc", "", "", "", ""]]
    with pytest.raises(ValueError, match="row 2: student id '../etc'"):
        import_canvas_roster(write_export(tmp_path / "slash.csv", rows), db_url)


def test_non_student_rows_are_skipped(tmp_path: Path) -> None:
    rows = [
        POINTS,
        ["", "", "", "", "", "Manual Posting", ""],
        [],
        ROWS[0],
        ["Test Student", "1100", "", "", "", "", ""],
    ]
    parsed = parse_canvas_roster(write_export(tmp_path / "meta.csv", rows))
    assert [s.id for s in parsed.students] == ["S001"]
    assert [row for row, _ in parsed.skipped] == [2, 3, 4, 6]


def test_command_prints_a_table(
    course: Course, export: Path, db_url: str, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main(["roster", str(export), "--root", str(course.root)]) == 0
    out = capsys.readouterr().out
    assert "6 student(s) imported" in out
    assert "Hopper, Jr." in out and "Grace.Hopper@Example.EDU" in out and "1001" in out
    assert "6 created, 0 updated, 0 unchanged" in out
    assert "skipped row 5: Canvas test student" in out
    assert students_in(db_url) == EXPECTED


def test_command_reports_errors(course: Course, tmp_path: Path, db_url: str, capsys):
    bad = write_export(tmp_path / "bad.csv", [], header=["Name", "Email"])
    assert roster.run(course, bad) == 1
    assert "lacks required Canvas column(s)" in capsys.readouterr().out


def test_runs_as_the_installed_command(course: Course, export: Path, db_url: str) -> None:
    result = subprocess.run(
        ["coursekit", "roster", str(export), "--root", str(course.root), "--dry-run"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "6 student(s) to import (dry run)" in result.stdout
    assert "dry run: nothing written" in result.stdout
    assert students_in(db_url) == set()
