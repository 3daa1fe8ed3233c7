"""A TA's report on one assignment: totals, the test cells the class finds hard, a histogram.

::

    coursekit report ASSIGNMENT [--out gradebook/reports/ASSIGNMENT] [--root COURSE]

:func:`build_report` reads the gradebook and writes into ``out_dir``:

* ``<A>_totals.csv``: one row per student in the gradebook (sorted by last name, first
  name, id, as the LMS exporters sort): ``status`` (``submitted`` / ``missing``),
  ``raw_score``, ``late_penalty``, ``score`` (raw minus penalty, floored at 0: what the LMS
  exporters write), ``max_score``, ``percent`` and ``late``. A student with no submission is
  *missing*: the score cells are empty, never 0.
* ``<A>_cells.csv``: one row per autograder test cell (a code grade cell that is not also a
  solution cell): ``submitted`` students, how many got ``full_marks`` on it, ``pass_rate``
  (full_marks / submitted; students with no submission are not counted) and
  ``mean_score``. Sorted hardest first: lowest pass rate, then lowest mean fraction.
* ``<A>_histogram.png``: the distribution of the scores of submitted work, in bins of 10%
  of the maximum score, with the mean and the median marked.
* ``<A>_report.html``: one self-contained page with a summary, the histogram (embedded as
  base64) and both tables, to open in any browser.

Totals come from :func:`coursekit.plugins.exporters.export_rows`, so the report and the LMS exports
agree on every student's score.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from nbgrader.api import Gradebook
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..plugins.exporters import AssignmentInfo, export_rows, select_assignments, select_students

__all__ = [
    "CELL_COLUMNS",
    "TOTAL_COLUMNS",
    "ReportFiles",
    "ReportSummary",
    "build_report",
    "cell_pass_rates",
    "grade_bins",
    "run",
    "student_totals",
    "write_histogram",
    "write_html",
]

TOTAL_COLUMNS = [
    "student_id",
    "last_name",
    "first_name",
    "status",
    "raw_score",
    "late_penalty",
    "score",
    "max_score",
    "percent",
    "late",
]
CELL_COLUMNS = [
    "notebook",
    "cell",
    "max_score",
    "submitted",
    "full_marks",
    "pass_rate",
    "mean_score",
]
# A cell counts as passed when its score reaches the maximum up to float noise.
FULL_MARKS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ReportSummary:
    """Headline figures; score statistics cover submitted work only (NaN when none)."""

    assignment: str
    max_score: float
    students: int
    submitted: int
    missing: int
    late: int
    mean: float
    median: float
    minimum: float
    maximum: float


@dataclass(eq=False)
class ReportFiles:
    """The files :func:`build_report` wrote, and the tables and figures they hold."""

    html: Path
    histogram_png: Path
    totals_csv: Path
    cells_csv: Path
    totals: pd.DataFrame
    cells: pd.DataFrame
    summary: ReportSummary


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def student_totals(gradebook: Gradebook, assignment: AssignmentInfo) -> pd.DataFrame:
    """Per-student totals (:data:`TOTAL_COLUMNS`), missing work as ``<NA>``, not 0."""
    records = []
    for row in export_rows(gradebook, [assignment], select_students(gradebook)):
        (result,) = row.scores
        submitted = result.submitted
        records.append(
            {
                "student_id": row.student.id,
                "last_name": row.student.last_name,
                "first_name": row.student.first_name,
                "status": "submitted" if submitted else "missing",
                "raw_score": result.raw_score,
                "late_penalty": result.late_penalty if submitted else None,
                "score": result.score,
                "max_score": assignment.max_score,
                "percent": (
                    round(100.0 * result.score / assignment.max_score, 2)
                    if submitted and assignment.max_score
                    else None
                ),
                "late": result.late if submitted else None,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=TOTAL_COLUMNS)
    for column in ("raw_score", "late_penalty", "score", "max_score", "percent"):
        frame[column] = frame[column].astype("Float64")
    frame["late"] = frame["late"].astype("boolean")
    return frame


def _test_cells(gradebook: Gradebook, assignment: str) -> list[tuple[str, str, float]]:
    """(notebook, cell, max_score) of every autograder test cell, by notebook then cell."""
    cells = []
    for notebook in gradebook.find_assignment(assignment).notebooks:
        answers = {c.name for c in notebook.solution_cells}
        for cell in notebook.grade_cells:
            if cell.cell_type == "code" and cell.name not in answers:
                cells.append((notebook.name, cell.name, float(cell.max_score or 0.0)))
    return sorted(cells)


def cell_pass_rates(
    gradebook: Gradebook, assignment: AssignmentInfo, student_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per-test-cell pass rates (:data:`CELL_COLUMNS`), hardest first.

    Only students with a submission count (``student_ids``, when given, restricts them
    further). A submitted notebook without a grade for the cell (a notebook missing from
    the submission) counts as not passed, with score 0.
    """
    wanted = None if student_ids is None else set(student_ids)
    tests = _test_cells(gradebook, assignment.name)
    scores: dict[tuple[str, str], list[float]] = {}
    submitted = 0
    # The same query export_rows uses for the assignment's submissions.
    for sub in gradebook.assignment_submissions(assignment.name):
        if wanted is not None and sub.student_id not in wanted:
            continue
        submitted += 1
        got: dict[tuple[str, str], float] = {}
        for notebook in sub.notebooks:
            for grade in notebook.grades:
                got[(notebook.name, grade.name)] = float(grade.score or 0.0)
        for key, value in got.items():
            scores.setdefault(key, []).append(value)
        for notebook_name, cell_name, _ in tests:
            if (notebook_name, cell_name) not in got:
                scores.setdefault((notebook_name, cell_name), []).append(0.0)

    records = []
    for notebook_name, cell_name, max_score in tests:
        values = scores.get((notebook_name, cell_name), [])
        full = sum(1 for v in values if v >= max_score - FULL_MARKS_TOLERANCE)
        records.append(
            {
                "notebook": notebook_name,
                "cell": cell_name,
                "max_score": max_score,
                "submitted": submitted,
                "full_marks": full,
                "pass_rate": round(full / submitted, 4) if submitted else None,
                "mean_score": round(sum(values) / submitted, 4) if submitted else None,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=CELL_COLUMNS)
    frame["max_score"] = frame["max_score"].astype("float64")
    frame["submitted"] = frame["submitted"].astype("int64")
    frame["full_marks"] = frame["full_marks"].astype("int64")
    frame["pass_rate"] = frame["pass_rate"].astype("Float64")
    frame["mean_score"] = frame["mean_score"].astype("Float64")
    mean_fraction = (frame["mean_score"] / frame["max_score"].where(frame["max_score"] > 0)).astype(
        "Float64"
    )
    order = (
        frame.assign(_fraction=mean_fraction)
        .sort_values(
            ["pass_rate", "_fraction", "notebook", "cell"],
            na_position="last",
            kind="stable",
        )
        .index
    )
    return frame.loc[order].reset_index(drop=True)


def _summary(assignment: AssignmentInfo, totals: pd.DataFrame) -> ReportSummary:
    done = totals.loc[totals["status"] == "submitted", "score"].astype("float64")
    some = not done.empty
    return ReportSummary(
        assignment=assignment.name,
        max_score=assignment.max_score,
        students=len(totals),
        submitted=len(done),
        missing=int((totals["status"] == "missing").sum()),
        late=int(totals["late"].fillna(False).sum()),
        mean=float(done.mean()) if some else math.nan,
        median=float(done.median()) if some else math.nan,
        minimum=float(done.min()) if some else math.nan,
        maximum=float(done.max()) if some else math.nan,
    )


# --------------------------------------------------------------------------------------
# Histogram
# --------------------------------------------------------------------------------------


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def grade_bins(scores: Sequence[float], max_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (0 to ``max_score`` in steps of 10%) and the number of scores per bin.

    Bins are ``[lo, hi)`` except the last, ``[90%, 100%]``; a score above the maximum (extra
    credit) counts in the last bin, one below 0 in the first.
    """
    edges = np.linspace(0.0, float(max_score), 11)
    values = np.clip(np.asarray(scores, dtype=float), 0.0, float(max_score))
    counts, _ = np.histogram(values, bins=edges)
    return edges, counts


def write_histogram(totals: pd.DataFrame, summary: ReportSummary, path: Path) -> Path:
    """PNG of the scores of submitted work: 10 bins of 10% of the maximum, mean and median."""
    max_score = summary.max_score
    scores = totals.loc[totals["status"] == "submitted", "score"].astype("float64").to_numpy()
    edges, counts = grade_bins(scores, max_score)

    fig = Figure(figsize=(8, 4.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg backend, without pyplot's global state
    ax = fig.add_subplot()
    ax.bar(
        edges[:-1],
        counts,
        width=np.diff(edges),
        align="edge",
        color="#4c72b0",
        edgecolor="white",
        label="students",
    )
    if len(scores):
        ax.axvline(
            summary.mean,
            color="#c44e52",
            linestyle="--",
            linewidth=2,
            label=f"mean {_points(summary.mean)}",
        )
        ax.axvline(
            summary.median,
            color="#55a868",
            linestyle=":",
            linewidth=2.5,
            label=f"median {_points(summary.median)}",
        )
        ax.legend(loc="upper left", ncols=3)
    else:
        ax.text(0.5, 0.5, "no submissions", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlim(0.0, max_score)
    # Headroom above the tallest bar for the legend (a single row).
    ax.set_ylim(0, max(int(counts.max(initial=0)), 1) * 1.25)
    ax.set_xticks(edges, [_points(e) for e in edges])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"Score after late penalty (points out of {_points(max_score)})")
    ax.set_ylabel("Number of students")
    ax.set_title(
        f"{summary.assignment}: grade distribution "
        f"({summary.submitted} submitted, {summary.missing} missing)"
    )
    top = ax.secondary_xaxis(
        "top",
        functions=(lambda x: 100.0 * x / max_score, lambda p: p * max_score / 100.0),
    )
    top.set_xticks(np.arange(0, 101, 10))
    top.set_xlabel("percent of maximum")
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path, format="png")
    return path


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.missing td { color: #999; font-style: italic; }
img { max-width: 100%; border: 1px solid #ddd; }
"""


def _fmt_number(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return _points(float(value))


def _html_table(frame: pd.DataFrame, table_id: str, numeric: set[str], **cell_text) -> str:
    """A plain escaped HTML table; ``cell_text`` maps a column to a formatting function."""
    head = "".join(f"<th>{html.escape(col)}</th>" for col in frame.columns)
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for col in frame.columns:
            value = record[col]
            text = cell_text[col](value) if col in cell_text else None
            if text is None:
                text = _fmt_number(value) if col in numeric else str(value)
            css = ' class="num"' if col in numeric else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        css = ' class="missing"' if record.get("status") == "missing" else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _percent(value: object) -> str:
    if value is None or value is pd.NA:
        return "—"
    return f"{100.0 * float(value):.1f}%"


def _late(value: object) -> str:
    if value is None or value is pd.NA:
        return "—"
    return "yes" if value else ""


def write_html(
    totals: pd.DataFrame, cells: pd.DataFrame, summary: ReportSummary, png: Path, path: Path
) -> Path:
    """One self-contained HTML page (the PNG inlined as base64)."""
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    name = html.escape(summary.assignment)
    facts = [
        ("maximum score", _points(summary.max_score)),
        ("students", str(summary.students)),
        ("submitted", str(summary.submitted)),
        ("missing (no submission)", str(summary.missing)),
        ("late", str(summary.late)),
        ("mean score", _fmt_number(summary.mean)),
        ("median score", _fmt_number(summary.median)),
        ("lowest / highest", f"{_fmt_number(summary.minimum)} / {_fmt_number(summary.maximum)}"),
    ]
    summary_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts
    )
    generated = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    cells_table = _html_table(
        cells,
        "cells",
        numeric={"max_score", "submitted", "full_marks", "pass_rate", "mean_score"},
        pass_rate=_percent,
    )
    totals_table = _html_table(
        totals,
        "totals",
        numeric={"raw_score", "late_penalty", "score", "max_score", "percent"},
        late=_late,
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{name}: grade report</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{name}: grade report</h1>
<p>Generated {generated}. Scores are after late penalties. Students without a submission are
listed as <em>missing</em> and left out of the statistics and the pass rates.</p>
<h2>Summary</h2>
<table id="summary">{summary_rows}</table>
<h2>Grade distribution</h2>
<img alt="Histogram of {name} scores in bins of 10% of the maximum, mean and median marked"
 src="data:image/png;base64,{image}">
<h2>Test cells, hardest first</h2>
<p>Pass rate: the fraction of submitted students with full points on the cell.</p>
{cells_table}
<h2>Students</h2>
{totals_table}
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


def build_report(db_url: str, assignment: str, out_dir: str | os.PathLike[str]) -> ReportFiles:
    """Write the report files for ``assignment`` into ``out_dir`` (created if needed).

    Raises :class:`ValueError` when the assignment is not in the gradebook or has no
    points to score.
    """
    with Gradebook(db_url) as gb:
        (info,) = select_assignments(gb, [assignment])
        if info.max_score <= 0:
            raise ValueError(f"assignment {assignment!r} has no graded cells (max score 0)")
        totals = student_totals(gb, info)
        cells = cell_pass_rates(gb, info, list(totals["student_id"]))
    summary = _summary(info, totals)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = assignment.replace("/", "_").replace("\\", "_")
    totals_csv = out / f"{stem}_totals.csv"
    cells_csv = out / f"{stem}_cells.csv"
    totals.to_csv(totals_csv, index=False)
    cells.to_csv(cells_csv, index=False)
    png = write_histogram(totals, summary, out / f"{stem}_histogram.png")
    page = write_html(totals, cells, summary, png, out / f"{stem}_report.html")
    return ReportFiles(
        html=page,
        histogram_png=png,
        totals_csv=totals_csv,
        cells_csv=cells_csv,
        totals=totals,
        cells=cells,
        summary=summary,
    )


def run(course, assignment: str, out: Path | None = None) -> int:
    """`coursekit report ASSIGNMENT`: write the report files and print a summary."""
    console = Console()
    out = out or course.gradebook_dir / "reports" / assignment
    try:
        files = build_report(course.db_url, assignment, out)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 1

    s = files.summary
    for label, path in (
        ("HTML report", files.html),
        ("histogram", files.histogram_png),
        ("totals CSV", files.totals_csv),
        ("cells CSV", files.cells_csv),
    ):
        console.print(f"{label:12} {escape(str(path))}", highlight=False)
    console.print(
        f"[bold]{escape(s.assignment)}[/bold]: {s.submitted} of {s.students} submitted "
        f"({s.missing} missing, {s.late} late); mean {_fmt_number(s.mean)}, "
        f"median {_fmt_number(s.median)} of {_points(s.max_score)}",
        highlight=False,
    )
    table = Table(title="Hardest test cells")
    for column in ("notebook", "cell", "pass rate", "full marks"):
        table.add_column(column)
    for record in files.cells.head(3).to_dict("records"):
        table.add_row(
            escape(record["notebook"]),
            escape(record["cell"]),
            _percent(record["pass_rate"]),
            f"{record['full_marks']}/{record['submitted']}",
        )
    console.print(table)
    return 0
