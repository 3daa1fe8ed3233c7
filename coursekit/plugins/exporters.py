"""Grade exporters for learning-management systems (Canvas, Moodle, plain CSV).

Each exporter is an :class:`nbgrader.plugins.ExportPlugin` subclass, selected on the command
line with ``--exporter``::

    nbgrader export --exporter=coursekit.plugins.exporters.CanvasExportPlugin --to=canvas.csv
    nbgrader export --exporter=coursekit.plugins.exporters.MoodleCsvExportPlugin
    nbgrader export --exporter=coursekit.plugins.exporters.PlainCsvExportPlugin --assignment=[setup]

Rules shared by all three exporters (unlike nbgrader's built-in ``CsvExportPlugin``):

* Files are written with the :mod:`csv` module (UTF-8, ``excel`` dialect), so a field that
  contains a comma or a quote, such as the last name ``Hopper, Jr.``, is quoted and survives
  a round trip.
* A student with no submission for an assignment gets an **empty** cell, never ``0``: an LMS
  leaves an empty cell untouched but records a 0 as a grade. A submission that was graded
  0 is written as ``0``.
* A score is the submission's score minus its late-submission penalty, floored at 0 (as in
  nbgrader's own exporter), written as a plain decimal without trailing zeros (``17.5``,
  ``20``, at most four decimals).
* Assignments chosen with ``--assignment`` keep the order given (``coursekit export`` gives
  the course's order); without a choice, every assignment in the gradebook is exported,
  ordered by due date (undated assignments last), then by name. Students are ordered by
  last name, first name, then student id (case-insensitive).
* The ``--assignment`` and ``--student`` filters (``ExportPlugin.assignment`` and
  ``ExportPlugin.student``) restrict the export. An assignment filter naming an assignment
  that is not in the gradebook raises :class:`ValueError` before any file is written; an
  unknown student id is logged as a warning and skipped.
* Without ``--to``, each exporter writes to its own file under ``gradebook/`` (relative to
  the working directory); missing parent directories are created.
"""

from __future__ import annotations

import csv
import datetime
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from nbgrader.api import Gradebook, SubmittedAssignment
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Unicode

__all__ = [
    "AssignmentInfo",
    "AssignmentScore",
    "CanvasExportPlugin",
    "MoodleCsvExportPlugin",
    "PlainCsvExportPlugin",
    "StudentInfo",
    "StudentRow",
    "export_rows",
    "format_score",
    "select_assignments",
    "select_students",
]


# --------------------------------------------------------------------------------------
# Shared data model: plain snapshots of gradebook rows, detached from the SQL session.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentInfo:
    """An assignment as the exporters see it."""

    name: str
    duedate: datetime.datetime | None
    max_score: float


@dataclass(frozen=True)
class StudentInfo:
    """A student as the exporters see it; missing optional fields are ``""``."""

    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str

    @property
    def sortable_name(self) -> str:
        """``"Last, First"`` (Canvas's sortable name), or whichever part exists.

        Falls back to the student id when both names are empty.
        """
        parts = [part for part in (self.last_name, self.first_name) if part]
        return ", ".join(parts) if parts else self.id


@dataclass(frozen=True)
class AssignmentScore:
    """One student's result for one assignment.

    ``score`` is ``None`` when the student has no submission; otherwise it is the raw
    score minus the late penalty, floored at 0.
    """

    assignment: AssignmentInfo
    score: float | None
    raw_score: float | None
    late_penalty: float
    late: bool

    @property
    def submitted(self) -> bool:
        return self.score is not None


@dataclass(frozen=True)
class StudentRow:
    """A student and their results, one per exported assignment, in export order."""

    student: StudentInfo
    scores: tuple[AssignmentScore, ...]

    @property
    def total(self) -> float:
        """Sum of the scores of submitted work (missing work counts as 0)."""
        return sum(s.score for s in self.scores if s.score is not None)

    @property
    def max_total(self) -> float:
        """Sum of the maximum scores of the exported assignments."""
        return sum(s.assignment.max_score for s in self.scores)


def format_score(value: float | None) -> str:
    """Format a score for a CSV cell: ``None`` -> ``""``, ``20.0`` -> ``"20"``, ``17.5``
    -> ``"17.5"``; rounded to four decimals so float noise (``0.30000000000000004``) never
    reaches the LMS.
    """
    if value is None:
        return ""
    if not math.isfinite(value):
        raise ValueError(f"cannot export a non-finite score: {value!r}")
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _sort_key_assignment(assignment: AssignmentInfo) -> tuple[bool, datetime.datetime, str]:
    undated = assignment.duedate is None
    return (undated, assignment.duedate or datetime.datetime.min, assignment.name)


def _sort_key_student(student: StudentInfo) -> tuple[str, str, str]:
    return (student.last_name.casefold(), student.first_name.casefold(), student.id)


def select_assignments(gradebook: Gradebook, names: Sequence[str] = ()) -> list[AssignmentInfo]:
    """The assignments to export: ``names`` in the order given, or, when ``names`` is empty,
    every assignment in the gradebook sorted by due date (undated last), then name.

    A name that is not in the gradebook raises :class:`ValueError` naming it.
    """
    available = {
        a.name: AssignmentInfo(name=a.name, duedate=a.duedate, max_score=float(a.max_score or 0.0))
        for a in gradebook.assignments
    }
    wanted = [str(name) for name in names]
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ValueError(
            "assignment(s) not in the gradebook: "
            + ", ".join(repr(name) for name in unknown)
            + "; known assignments: "
            + (", ".join(repr(name) for name in sorted(available)) or "none")
        )
    if wanted:
        return [available[name] for name in dict.fromkeys(wanted)]
    return sorted(available.values(), key=_sort_key_assignment)


def select_students(gradebook: Gradebook, ids: Sequence[str] = ()) -> list[StudentInfo]:
    """The students to export, sorted by last name, first name, then id.

    An empty ``ids`` selects every student. Ids that are not in the gradebook are ignored
    (like nbgrader's own exporter); :class:`LmsExportPlugin` logs them as a warning.
    """
    wanted = {str(i) for i in ids}
    students = [
        StudentInfo(
            id=s.id,
            first_name=s.first_name or "",
            last_name=s.last_name or "",
            email=s.email or "",
            lms_user_id=s.lms_user_id or "",
        )
        for s in gradebook.students
        if not wanted or s.id in wanted
    ]
    return sorted(students, key=_sort_key_student)


def _score_of(
    assignment: AssignmentInfo, submission: SubmittedAssignment | None
) -> AssignmentScore:
    if submission is None:
        return AssignmentScore(assignment, score=None, raw_score=None, late_penalty=0.0, late=False)
    raw = float(submission.score or 0.0)
    penalty = float(submission.late_submission_penalty or 0.0)
    return AssignmentScore(
        assignment,
        score=max(0.0, raw - penalty),
        raw_score=raw,
        late_penalty=penalty,
        late=submission.total_seconds_late > 0,
    )


def export_rows(
    gradebook: Gradebook,
    assignments: Sequence[AssignmentInfo],
    students: Sequence[StudentInfo],
) -> Iterator[StudentRow]:
    """Yield one :class:`StudentRow` per student, in the order of ``students``.

    Each row holds one :class:`AssignmentScore` per assignment, in the order of
    ``assignments``; its ``score`` is ``None`` when the student has no submission. This is
    the single place where the exporters read submissions from the gradebook.
    """
    wanted_ids = {s.id for s in students}
    by_assignment: dict[str, dict[str, AssignmentScore]] = {}
    for assignment in assignments:
        by_assignment[assignment.name] = {
            sub.student_id: _score_of(assignment, sub)
            for sub in gradebook.assignment_submissions(assignment.name)
            if sub.student_id in wanted_ids
        }
    for student in students:
        yield StudentRow(
            student=student,
            scores=tuple(
                by_assignment[a.name].get(student.id, _score_of(a, None)) for a in assignments
            ),
        )


# --------------------------------------------------------------------------------------
# Plugins
# --------------------------------------------------------------------------------------


class LmsExportPlugin(ExportPlugin):
    """Common machinery: filters, destination, validation and CSV writing.

    Subclasses set ``default_to`` and implement :meth:`header_rows` and :meth:`student_cells`
    (and optionally :meth:`check_students`).
    """

    default_to: ClassVar[str] = "gradebook/grades.csv"

    def destination(self) -> str:
        """``--to`` when given, else the exporter's default path."""
        return self.to or self.default_to

    def header_rows(self, assignments: Sequence[AssignmentInfo]) -> list[list[str]]:
        """Rows written before the students; the first one is the header."""
        raise NotImplementedError

    def student_cells(self, row: StudentRow) -> list[str]:
        """The CSV cells of one student, matching the header."""
        raise NotImplementedError

    def check_students(self, students: Sequence[StudentInfo]) -> None:
        """Hook for per-LMS warnings about students (missing identities)."""

    def prepare(self, gradebook: Gradebook, assignments: Sequence[AssignmentInfo]) -> None:
        """Hook run once the selection is known, before any row is built."""

    def export(self, gradebook: Gradebook) -> None:
        """Write the CSV. Raises :class:`ValueError` for an unknown assignment filter or a
        header with duplicate column names; in both cases no file is written."""
        dest = self.destination()
        assignments = select_assignments(gradebook, self.assignment)
        students = select_students(gradebook, self.student)
        missing = sorted({str(i) for i in self.student} - {s.id for s in students})
        if missing:
            self.log.warning("Students not in the gradebook (skipped): %s", ", ".join(missing))
        self.prepare(gradebook, assignments)

        rows = self.header_rows(assignments)
        header = rows[0]
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"{type(self).__name__}: duplicate column name(s) {duplicates}; "
                "rename the clashing assignment(s)"
            )
        for row in export_rows(gradebook, assignments, students):
            cells = self.student_cells(row)
            if len(cells) != len(header):
                raise RuntimeError(f"{type(self).__name__}: row does not match the header")
            rows.append(cells)
        self.check_students(students)

        self.log.info(
            "Exporting %d student(s) x %d assignment(s) to %s",
            len(students),
            len(assignments),
            dest,
        )
        parent = os.path.dirname(dest)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)


CANVAS_RECIPE = (
    "Map each one in schedule.toml: canvas = 123456 under [01_tensor], the number at the end "
    "of the assignment's address in Canvas (.../assignments/123456)."
)
CANVAS_IDENTITY_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"


class CanvasExportPlugin(LmsExportPlugin):
    """Canvas gradebook-import CSV (default ``gradebook/canvas_grades.csv``).

    Columns::

        Student, ID, SIS User ID, SIS Login ID, Section, <assignment columns...>

    * assignment column: ``<name> (<canvas id>)`` when the name has a Canvas assignment id,
      else ``<name>`` (Canvas then creates a new assignment, and a warning says how to map
      it). The ids come from ``assignment_ids`` when it is set, else from the course's
      schedule (``canvas = 123456`` under ``[01_tensor]`` in ``schedule.toml``);
    * second row: ``"    Points Possible"`` (four leading spaces, as Canvas writes it), four
      empty identity cells, then each assignment's ``max_score``;
    * one row per student: Student = ``"Last, First"`` (student id when both names are empty),
      ID = ``lms_user_id`` (Canvas user id) or empty, SIS User ID = nbgrader student id,
      SIS Login ID = email or empty, Section = the ``section`` setting; then the score, or an
      empty cell when there is no submission (Canvas leaves empty cells untouched).

    Students without ``lms_user_id`` are written (Canvas can match them on SIS User ID) and
    named in a warning.
    """

    default_to: ClassVar[str] = "gradebook/canvas_grades.csv"

    assignment_ids = Dict(
        {},
        help="Map nbgrader assignment name -> Canvas assignment id (the number in the "
        "assignment's Canvas URL). Empty: the ids come from the course's schedule.toml. "
        "Assignments without an id get a bare-name column.",
    ).tag(config=True)

    section = Unicode("", help="Value written in the Section column.").tag(config=True)

    def canvas_id(self, name: str) -> str | None:
        """The Canvas assignment id of an assignment, or None when it has none."""
        value = self.assignment_ids.get(name)
        return str(value).strip() or None if value is not None else None

    def column_name(self, assignment: AssignmentInfo) -> str:
        canvas_id = self.canvas_id(assignment.name)
        return assignment.name if canvas_id is None else f"{assignment.name} ({canvas_id})"

    def _schedule_ids(self) -> dict[str, str]:
        """Canvas ids from the schedule of the course nbgrader runs in (none outside one)."""
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None:
            return {}
        from ..course import Course

        schedule = Course(coursedir.root).schedule
        return {name: d.canvas for name, d in schedule.entries.items() if d.canvas}

    def prepare(self, gradebook: Gradebook, assignments: Sequence[AssignmentInfo]) -> None:
        if not self.assignment_ids:
            self.assignment_ids = self._schedule_ids()
        unmapped = [a.name for a in assignments if self.canvas_id(a.name) is None]
        if unmapped:
            self.log.warning(
                "No Canvas assignment id for %s: Canvas creates a new column for each. %s",
                ", ".join(unmapped),
                CANVAS_RECIPE,
            )
        known = {a.name for a in gradebook.assignments}
        stray = sorted(str(name) for name in self.assignment_ids if name not in known)
        if stray:
            self.log.warning(
                "CanvasExportPlugin.assignment_ids names assignment(s) not in the gradebook: %s",
                ", ".join(stray),
            )

    def header_rows(self, assignments: Sequence[AssignmentInfo]) -> list[list[str]]:
        header = CANVAS_IDENTITY_COLUMNS + [self.column_name(a) for a in assignments]
        points = [CANVAS_POINTS_POSSIBLE] + [""] * (len(CANVAS_IDENTITY_COLUMNS) - 1)
        points += [format_score(a.max_score) for a in assignments]
        return [header, points]

    def student_cells(self, row: StudentRow) -> list[str]:
        s = row.student
        return [
            s.sortable_name,
            s.lms_user_id,
            s.id,
            s.email,
            self.section,
            *(format_score(score.score) for score in row.scores),
        ]

    def check_students(self, students: Sequence[StudentInfo]) -> None:
        without = [s.id for s in students if not s.lms_user_id]
        if without:
            self.log.warning(
                "%d student(s) have no lms_user_id (Canvas ID column left empty; Canvas must "
                "match them on SIS User ID): %s",
                len(without),
                ", ".join(without),
            )


class PlainCsvExportPlugin(LmsExportPlugin):
    """Wide, LMS-neutral CSV (default ``gradebook/grades.csv``).

    Header, in this order::

        student_id, last_name, first_name, email, lms_user_id,
        <a1>, <a1>_late, <a2>, <a2>_late, ...,
        total, max_total

    * ``<a>``: score after late penalty, empty when there is no submission;
    * ``<a>_late``: ``yes`` when the submission came after the due date (including any
      extension), else empty;
    * ``total``: sum of the exported scores, missing work counting as 0 (always a number);
    * ``max_total``: sum of the exported assignments' ``max_score``.

    Assignment columns follow due-date order. An assignment whose name clashes with
    another column (e.g. one called ``total``) raises :class:`ValueError`.
    """

    default_to: ClassVar[str] = "gradebook/grades.csv"

    IDENTITY_COLUMNS: ClassVar[list[str]] = [
        "student_id",
        "last_name",
        "first_name",
        "email",
        "lms_user_id",
    ]

    def header_rows(self, assignments: Sequence[AssignmentInfo]) -> list[list[str]]:
        header = list(self.IDENTITY_COLUMNS)
        for a in assignments:
            header += [a.name, f"{a.name}_late"]
        return [header + ["total", "max_total"]]

    def student_cells(self, row: StudentRow) -> list[str]:
        s = row.student
        cells = [s.id, s.last_name, s.first_name, s.email, s.lms_user_id]
        for score in row.scores:
            cells += [format_score(score.score), "yes" if score.late else ""]
        return cells + [format_score(row.total), format_score(row.max_total)]


class MoodleCsvExportPlugin(LmsExportPlugin):
    """Moodle grade-import CSV (default ``gradebook/moodle_grades.csv``).

    Header::

        Email address, ID number, <assignment 1>, <assignment 2>, ...

    * ``Email address``: the student's email exactly as stored (Moodle matches emails
      case-sensitively, so no case folding), empty when unknown;
    * ``ID number``: nbgrader student id (choose it as the identity column at import time
      when emails are missing);
    * one column per assignment, named by the assignment: the score, empty when there is no
      submission. Map each column to its Moodle grade item on the import screen.

    Students without an email are written and named in a warning.
    """

    default_to: ClassVar[str] = "gradebook/moodle_grades.csv"

    def header_rows(self, assignments: Sequence[AssignmentInfo]) -> list[list[str]]:
        return [["Email address", "ID number", *(a.name for a in assignments)]]

    def student_cells(self, row: StudentRow) -> list[str]:
        s = row.student
        return [s.email, s.id, *(format_score(score.score) for score in row.scores)]

    def check_students(self, students: Sequence[StudentInfo]) -> None:
        without = [s.id for s in students if not s.email]
        if without:
            self.log.warning(
                "%d student(s) have no email (Moodle cannot match them on Email address; "
                "use ID number): %s",
                len(without),
                ", ".join(without),
            )


# `coursekit export --format NAME`: the plugin nbgrader loads and the file it writes.
EXPORTERS = {
    "canvas": ("coursekit.plugins.exporters.CanvasExportPlugin", "canvas_grades.csv"),
    "plain": ("coursekit.plugins.exporters.PlainCsvExportPlugin", "grades.csv"),
    "moodle": ("coursekit.plugins.exporters.MoodleCsvExportPlugin", "moodle_grades.csv"),
}
