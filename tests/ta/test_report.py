"""Tests for coursekit.report against a real nbgrader gradebook (SQLite in tmp_path).

Assignment ``hw1`` (due 2024-03-01 23:59), one notebook ``hw1``, maximum 20:

* autograder tests ``t_easy`` (2), ``t_mid`` (3), ``t_hard`` (5);
* ``answer`` (10): a manually graded *code* answer (grade cell and solution cell): not a
  test cell, so it has no pass rate, but it counts in the totals;
* ``helper``: an autograded answer (solution cell only, no points).

=========  ======================  ======  =====  ======  ======  =====  =======  =====
id         name                    t_easy  t_mid  t_hard  answer  raw    penalty  score
=========  ======================  ======  =====  ======  ======  =====  =======  =====
fallen     Allen, Frances          (no submission: missing)
ghopper    Hopper, Jr., Grace      2       3      5       10      20     0        20
dknuth     Knuth, Donald           0       3      2.5     4       9.5    0        9.5
alovelace  Lovelace, Ada           2       1.5    0       8       11.5   0        11.5
aturing    Turing, Alan (late)     2       2      0       6       10     2        8
kzuse      Zuse, Konrad <Z3>       0       0      0       0       0      0        0
=========  ======================  ======  =====  ======  ======  =====  =======  =====

Submitted 5: pass rates t_hard 1/5, t_mid 2/5, t_easy 3/5; scores 20, 9.5, 11.5, 8, 0:
mean 9.8, median 9.5. Assignment ``empty`` has the same cells and no submissions.
"""

from __future__ import annotations

import base64
import csv
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from PIL import Image

from coursekit import cli
from coursekit.course import Course
from coursekit.ta import report as report_command
from coursekit.ta.report import (
    CELL_COLUMNS,
    TOTAL_COLUMNS,
    build_report,
    grade_bins,
)

# nbgrader's own add_submission triggers these SQLAlchemy 2.x autoflush warnings.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

REPO = Path(__file__).resolve().parents[2]
DUE = datetime(2024, 3, 1, 23, 59)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

GRADES = {
    "ghopper": {"t_easy": 2, "t_mid": 3, "t_hard": 5, "answer": 10},
    "dknuth": {"t_easy": 0, "t_mid": 3, "t_hard": 2.5, "answer": 4},
    "alovelace": {"t_easy": 2, "t_mid": 1.5, "t_hard": 0, "answer": 8},
    "aturing": {"t_easy": 2, "t_mid": 2, "t_hard": 0, "answer": 6},
    "kzuse": {"t_easy": 0, "t_mid": 0, "t_hard": 0, "answer": 0},
}


def _add_assignment(gb: Gradebook, name: str) -> None:
    gb.add_assignment(name, duedate=DUE)
    gb.add_notebook(name, name)
    for cell, points in (("t_easy", 2), ("t_mid", 3), ("t_hard", 5)):
        gb.add_grade_cell(cell, name, name, max_score=points, cell_type="code")
    gb.add_grade_cell("answer", name, name, max_score=10, cell_type="code")
    gb.add_solution_cell("answer", name, name)
    gb.add_solution_cell("helper", name, name)


def _populate(gb: Gradebook) -> None:
    _add_assignment(gb, "hw1")
    _add_assignment(gb, "empty")
    gb.add_student("fallen", first_name="Frances", last_name="Allen")
    gb.add_student("ghopper", first_name="Grace", last_name="Hopper, Jr.")
    gb.add_student("dknuth", first_name="Donald", last_name="Knuth")
    gb.add_student("alovelace", first_name="Ada", last_name="Lovelace")
    gb.add_student("aturing", first_name="Alan", last_name="Turing")
    gb.add_student("kzuse", first_name="Konrad <Z3>", last_name="Zuse")
    for student, cells in GRADES.items():
        late = student == "aturing"
        stamp = datetime(2024, 3, 3, 1, 0) if late else datetime(2024, 3, 1, 12, 0)
        gb.add_submission("hw1", student, timestamp=stamp)
        for cell, score in cells.items():
            grade = gb.find_grade(cell, "hw1", "hw1", student)
            if cell == "answer":
                grade.manual_score = score
            else:
                grade.auto_score = score
        if late:
            gb.find_submission_notebook("hw1", "hw1", student).late_submission_penalty = 2.0
        gb.db.commit()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}") as gb:
        _populate(gb)
    return path


@pytest.fixture
def db_url(course: Course, template_db: Path) -> str:
    shutil.copyfile(template_db, course.gradebook_dir / "gradebook.db")
    return course.db_url


@pytest.fixture
def report(db_url: str, tmp_path: Path):
    return build_report(db_url, "hw1", tmp_path / "out")


def records(frame) -> list[dict]:
    """DataFrame rows with pandas' missing values as None, for exact comparison."""
    plain = frame.astype(object)
    return plain.where(plain.notna(), None).to_dict("records")


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


# ---------------------------------------------------------------------- tables


def test_totals(report) -> None:
    assert list(report.totals.columns) == TOTAL_COLUMNS
    assert records(report.totals) == [
        {
            "student_id": "fallen",
            "last_name": "Allen",
            "first_name": "Frances",
            "status": "missing",
            "raw_score": None,
            "late_penalty": None,
            "score": None,
            "max_score": 20.0,
            "percent": None,
            "late": None,
        },
        {
            "student_id": "ghopper",
            "last_name": "Hopper, Jr.",
            "first_name": "Grace",
            "status": "submitted",
            "raw_score": 20.0,
            "late_penalty": 0.0,
            "score": 20.0,
            "max_score": 20.0,
            "percent": 100.0,
            "late": False,
        },
        {
            "student_id": "dknuth",
            "last_name": "Knuth",
            "first_name": "Donald",
            "status": "submitted",
            "raw_score": 9.5,
            "late_penalty": 0.0,
            "score": 9.5,
            "max_score": 20.0,
            "percent": 47.5,
            "late": False,
        },
        {
            "student_id": "alovelace",
            "last_name": "Lovelace",
            "first_name": "Ada",
            "status": "submitted",
            "raw_score": 11.5,
            "late_penalty": 0.0,
            "score": 11.5,
            "max_score": 20.0,
            "percent": 57.5,
            "late": False,
        },
        {
            "student_id": "aturing",
            "last_name": "Turing",
            "first_name": "Alan",
            "status": "submitted",
            "raw_score": 10.0,
            "late_penalty": 2.0,
            "score": 8.0,
            "max_score": 20.0,
            "percent": 40.0,
            "late": True,
        },
        {
            "student_id": "kzuse",
            "last_name": "Zuse",
            "first_name": "Konrad <Z3>",
            "status": "submitted",
            "raw_score": 0.0,
            "late_penalty": 0.0,
            "score": 0.0,
            "max_score": 20.0,
            "percent": 0.0,
            "late": False,
        },
    ]


def test_cell_pass_rates_hardest_first(report) -> None:
    assert list(report.cells.columns) == CELL_COLUMNS
    assert records(report.cells) == [
        {
            "notebook": "hw1",
            "cell": "t_hard",
            "max_score": 5.0,
            "submitted": 5,
            "full_marks": 1,
            "pass_rate": 0.2,
            "mean_score": 1.5,
        },
        {
            "notebook": "hw1",
            "cell": "t_mid",
            "max_score": 3.0,
            "submitted": 5,
            "full_marks": 2,
            "pass_rate": 0.4,
            "mean_score": 1.9,
        },
        {
            "notebook": "hw1",
            "cell": "t_easy",
            "max_score": 2.0,
            "submitted": 5,
            "full_marks": 3,
            "pass_rate": 0.6,
            "mean_score": 1.2,
        },
    ]


@pytest.mark.parametrize(
    ("t_mid_scores", "order", "t_mid_mean"),
    [
        # t_mid's mean 1.3 of 3 (43%) is below t_hard's 1.5 in points but not in fraction.
        ({"dknuth": 1, "aturing": 1}, ["t_hard", "t_mid", "t_easy"], 1.3),
        # t_mid's mean 0.6 of 3 (20%) is below t_hard's 1.5 of 5 (30%).
        ({"dknuth": 0, "aturing": 0, "alovelace": 0}, ["t_mid", "t_hard", "t_easy"], 0.6),
    ],
)
def test_equal_pass_rates_are_ordered_by_mean_fraction(
    db_url: str, tmp_path: Path, t_mid_scores: dict[str, float], order: list[str], t_mid_mean
) -> None:
    with Gradebook(db_url) as gb:
        # Only ghopper keeps full marks on t_mid: 1/5, the same pass rate as t_hard.
        for student, score in t_mid_scores.items():
            gb.find_grade("t_mid", "hw1", "hw1", student).auto_score = score
        gb.db.commit()
    cells = build_report(db_url, "hw1", tmp_path / "out").cells
    assert list(cells["cell"]) == order
    assert list(cells["pass_rate"]) == [0.2, 0.2, 0.6]
    assert cells.set_index("cell").loc["t_mid", "mean_score"] == t_mid_mean


def test_summary(report) -> None:
    s = report.summary
    assert (s.students, s.submitted, s.missing, s.late) == (6, 5, 1, 1)
    assert (s.mean, s.median, s.minimum, s.maximum, s.max_score) == (9.8, 9.5, 0.0, 20.0, 20.0)


def test_csv_files(report) -> None:
    totals = read_csv(report.totals_csv)
    assert totals[0] == TOTAL_COLUMNS
    assert totals[1] == ["fallen", "Allen", "Frances", "missing", "", "", "", "20.0", "", ""]
    assert totals[2] == [
        "ghopper",
        "Hopper, Jr.",
        "Grace",
        "submitted",
        "20.0",
        "0.0",
        "20.0",
        "20.0",
        "100.0",
        "False",
    ]
    assert totals[5][:9] == ["aturing", "Turing", "Alan", "submitted", "10.0", "2.0", "8.0"] + [
        "20.0",
        "40.0",
    ]
    assert len(totals) == 7

    cells = read_csv(report.cells_csv)
    assert cells == [
        CELL_COLUMNS,
        ["hw1", "t_hard", "5.0", "5", "1", "0.2", "1.5"],
        ["hw1", "t_mid", "3.0", "5", "2", "0.4", "1.9"],
        ["hw1", "t_easy", "2.0", "5", "3", "0.6", "1.2"],
    ]


# ---------------------------------------------------------------------- histogram


def test_grade_bins_are_tenths_of_the_maximum() -> None:
    edges, counts = grade_bins([20, 9.5, 11.5, 8, 0], 20)
    assert list(edges) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    # 0 -> [0,2); 8 and 9.5 -> [8,10); 11.5 -> [10,12); 20 -> the last bin, [18,20].
    assert list(counts) == [1, 0, 0, 0, 2, 1, 0, 0, 0, 1]
    _, counts = grade_bins([21.0, 2.0, 1.999], 20)  # extra credit goes in the top bin
    assert list(counts) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_histogram_png_is_a_real_image(report) -> None:
    data = report.histogram_png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    with Image.open(report.histogram_png) as image:
        image.verify()
    with Image.open(report.histogram_png) as image:
        assert image.format == "PNG"
        assert image.size == (800, 480)
        # Not a blank canvas: bars, lines and text give many distinct colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 50


# ---------------------------------------------------------------------- HTML


def test_html_is_self_contained_with_tables_and_image(report) -> None:
    page = report.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<table id="cells">' in page and '<table id="totals">' in page
    assert '<table id="summary">' in page

    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == 1
    assert base64.b64decode(embedded[0]) == report.histogram_png.read_bytes()
    # Nothing is loaded from elsewhere.
    assert not re.search(r'(src|href)="(?!data:)', page)

    cells = page[page.index('<table id="cells">') :]
    cells = cells[: cells.index("</table>")]
    assert cells.index("t_hard") < cells.index("t_mid") < cells.index("t_easy")
    assert "<td>t_hard</td>" in cells and '<td class="num">20.0%</td>' in cells

    totals = page[page.index('<table id="totals">') :]
    totals = totals[: totals.index("</table>")]
    assert '<tr class="missing"><td>fallen</td>' in totals
    assert "<td>Hopper, Jr.</td>" in totals
    assert "Konrad &lt;Z3&gt;" in totals and "<Z3>" not in page  # escaped
    assert '<td class="num">9.5</td>' in totals
    assert "<th>mean score</th><td>9.8</td>" in page
    assert "<th>median score</th><td>9.5</td>" in page


# ---------------------------------------------------------------------- edge cases


def test_assignment_without_submissions(db_url: str, tmp_path: Path) -> None:
    files = build_report(db_url, "empty", tmp_path / "empty")
    assert set(files.totals["status"]) == {"missing"}
    assert files.totals["score"].isna().all()
    assert files.summary.submitted == 0
    assert list(files.cells["submitted"]) == [0, 0, 0]
    assert files.cells["pass_rate"].isna().all()
    assert files.histogram_png.read_bytes().startswith(PNG_SIGNATURE)
    assert "no submissions" not in files.html.read_text()  # the text is in the image
    assert "<th>mean score</th><td>—</td>" in files.html.read_text(encoding="utf-8")


def test_unknown_assignment_writes_nothing(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'nope'"):
        build_report(db_url, "nope", tmp_path / "nope")
    assert not (tmp_path / "nope").exists()


def test_files_are_named_by_assignment(report, tmp_path: Path) -> None:
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["hw1_cells.csv", "hw1_histogram.png", "hw1_report.html", "hw1_totals.csv"]
    assert report.html == tmp_path / "out" / "hw1_report.html"


# ---------------------------------------------------------------------- command line


def test_command_prints_paths_and_summary(
    course: Course, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out_dir = tmp_path / "cli"
    assert cli.main(["report", "hw1", "--root", str(course.root), "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert str(out_dir / "hw1_report.html") in out
    assert str(out_dir / "hw1_histogram.png") in out
    assert "5 of 6 submitted (1 missing, 1 late); mean 9.8, median 9.5 of 20" in out
    hardest = [line for line in out.splitlines() if re.search(r"\bt_(hard|mid|easy)\b", line)]
    assert ["t_hard" in hardest[0], "t_mid" in hardest[1], "t_easy" in hardest[2]] == [True] * 3
    assert "20.0%" in hardest[0] and "1/5" in hardest[0]


def test_command_unknown_assignment(course: Course, db_url: str, capsys, tmp_path):
    assert report_command.run(course, "nope", tmp_path / "x") == 1
    assert "'nope'" in capsys.readouterr().out


def test_runs_as_the_installed_command(course: Course, db_url: str, tmp_path: Path) -> None:
    command = ["coursekit", "report", "hw1", "--root", str(course.root), "--out", str(tmp_path)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "mean 9.8, median 9.5" in result.stdout
    assert (tmp_path / "hw1_report.html").exists()
