"""Import the class roster from a Canvas gradebook export into nbgrader's gradebook.

::

    coursekit roster canvas_export.csv [--root COURSE] [--dry-run]

The input is the CSV that Canvas's *Gradebook > Export* writes: columns ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID`` (all four required), usually ``Section``, then one column
per assignment (ignored here). Each student row becomes, or updates, an nbgrader student:

* ``id``: ``SIS User ID``; if empty, the part of ``SIS Login ID`` before ``@``; if that is
  empty too, the Canvas ``ID``. A row with none of the three is an error.
* ``last_name`` / ``first_name``: from Canvas's sortable name ``"Last, First"``, split at the
  *last* comma, so ``"Hopper, Jr., Grace"`` gives last name ``"Hopper, Jr."``. A name
  without a comma is kept whole as the last name.
* ``email``: ``SIS Login ID`` when it contains ``@``.
* ``lms_user_id``: the Canvas ``ID`` (what ``coursekit.plugins.exporters.CanvasExportPlugin``
  writes back in the ``ID`` column).

Rows that are not students are skipped and reported: the ``Points Possible`` row, Canvas's
``Student, Test`` (the test student of Student View), blank rows, and rows whose four
identity cells are all empty (Canvas's "Manual Posting"/"read only" rows). A later row with
the same student id or Canvas ID as an earlier one is reported as a duplicate and not
applied (the first row wins).

The whole file is checked before the gradebook is touched: a missing column or a student
row without a usable id raises :class:`ValueError` naming the row (the header is row 1, as
in a spreadsheet) and nothing is written. Updating an existing student sets the fields the
CSV provides; an empty cell (e.g. no email) leaves the stored value as it was.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..course import gradebook_missing

__all__ = [
    "REQUIRED_COLUMNS",
    "Duplicate",
    "ImportResult",
    "RosterParse",
    "RosterStudent",
    "import_canvas_roster",
    "run",
    "parse_canvas_roster",
    "split_sortable_name",
]

REQUIRED_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID")
SECTION_COLUMN = "Section"
POINTS_POSSIBLE = "points possible"
TEST_STUDENT_NAMES = frozenset({"student, test", "test student"})


@dataclass(frozen=True)
class RosterStudent:
    """One student row of the Canvas export, mapped to nbgrader's fields."""

    row: int
    id: str
    last_name: str | None
    first_name: str | None
    email: str | None
    lms_user_id: str | None
    section: str = ""

    def fields(self) -> dict[str, str]:
        """The nbgrader ``Student`` fields this row sets (empty ones left out)."""
        values = {
            "last_name": self.last_name,
            "first_name": self.first_name,
            "email": self.email,
            "lms_user_id": self.lms_user_id,
        }
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class Duplicate:
    """A row not applied because an earlier row already had its ``value`` in ``column``."""

    row: int
    first_row: int
    column: str  # "student id" or "Canvas ID"
    value: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column} {self.value!r} already on row {self.first_row}"


@dataclass
class RosterParse:
    """What a Canvas export holds, before anything is written."""

    students: list[RosterStudent] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, why)
    duplicates: list[Duplicate] = field(default_factory=list)


@dataclass
class ImportResult(RosterParse):
    """The outcome of :func:`import_canvas_roster`; student ids are listed in file order."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def status(self, student_id: str) -> str:
        """``created``, ``updated`` or ``unchanged`` (what a dry run would do, for a dry run)."""
        for name in ("created", "updated", "unchanged"):
            if student_id in getattr(self, name):
                return name
        raise KeyError(student_id)


def split_sortable_name(name: str) -> tuple[str | None, str | None]:
    """``"Last, First"`` -> ``("Last", "First")``, split at the last comma.

    ``"Hopper, Jr., Grace"`` -> ``("Hopper, Jr.", "Grace")``; ``"Cher"`` -> ``("Cher",
    None)``; an empty name -> ``(None, None)``.
    """
    name = " ".join(name.split())
    if not name:
        return None, None
    last, comma, first = name.rpartition(",")
    if not comma:
        return name, None
    return last.strip() or None, first.strip() or None


def _student_id(sis_user_id: str, sis_login_id: str, canvas_id: str) -> tuple[str, str]:
    """The nbgrader id for a row and the column it came from (``("", "")`` if none)."""
    if sis_user_id:
        return sis_user_id, "SIS User ID"
    login = sis_login_id.partition("@")[0].strip()
    if login:
        return login, "SIS Login ID"
    if canvas_id:
        return canvas_id, "ID"
    return "", ""


def _check_id(student_id: str, source: str, row: int) -> None:
    # nbgrader makes a folder per student id (submitted/<id>/...): keep ids path-safe.
    if student_id in (".", "..") or any(sep in student_id for sep in ("/", "\\")):
        raise ValueError(
            f"row {row}: student id {student_id!r} (from {source}) cannot be a folder name"
        )


def parse_canvas_roster(csv_path: str | os.PathLike[str]) -> RosterParse:
    """Read a Canvas gradebook export; raise :class:`ValueError` on a bad header or row."""
    path = Path(csv_path)
    # utf-8-sig: Canvas (and Excel re-saves) start the file with a byte-order mark.
    with open(path, newline="", encoding="utf-8-sig") as fh:
        records = list(csv.reader(fh))
    if not records:
        raise ValueError(f"{path}: empty file, expected a Canvas gradebook export")

    header = [cell.strip() for cell in records[0]]
    missing = [col for col in REQUIRED_COLUMNS if col not in header]
    if missing:
        raise ValueError(
            f"{path}: row 1 (header) lacks required Canvas column(s) "
            + ", ".join(repr(col) for col in missing)
            + f"; found {header[:6]!r}"
        )
    index = {col: header.index(col) for col in (*REQUIRED_COLUMNS, SECTION_COLUMN) if col in header}

    parsed = RosterParse()
    seen_ids: dict[str, int] = {}
    seen_canvas: dict[str, int] = {}
    for row_number, record in enumerate(records[1:], start=2):
        name, canvas_id, sis_user, sis_login, section = (
            record[index[col]].strip() if col in index and index[col] < len(record) else ""
            for col in (*REQUIRED_COLUMNS, SECTION_COLUMN)
        )
        normalized = " ".join(name.split()).casefold()
        if not any(c.strip() for c in record):
            parsed.skipped.append((row_number, "blank row"))
            continue
        if normalized == POINTS_POSSIBLE:
            parsed.skipped.append((row_number, "Points Possible row"))
            continue
        if normalized in TEST_STUDENT_NAMES:
            parsed.skipped.append((row_number, f"Canvas test student {name!r}"))
            continue
        if not (name or canvas_id or sis_user or sis_login):
            parsed.skipped.append((row_number, "no student identity (Canvas metadata row)"))
            continue

        student_id, source = _student_id(sis_user, sis_login, canvas_id)
        if not student_id:
            raise ValueError(
                f"{path}: row {row_number} ({name or 'no name'}): no usable student id "
                "(SIS User ID, SIS Login ID and ID are all empty)"
            )
        _check_id(student_id, source, row_number)

        if student_id in seen_ids:
            parsed.duplicates.append(
                Duplicate(row_number, seen_ids[student_id], "student id", student_id)
            )
            continue
        if canvas_id and canvas_id in seen_canvas:
            parsed.duplicates.append(
                Duplicate(row_number, seen_canvas[canvas_id], "Canvas ID", canvas_id)
            )
            continue
        seen_ids[student_id] = row_number
        if canvas_id:
            seen_canvas[canvas_id] = row_number

        last_name, first_name = split_sortable_name(name)
        parsed.students.append(
            RosterStudent(
                row=row_number,
                id=student_id,
                last_name=last_name,
                first_name=first_name,
                email=sis_login if "@" in sis_login else None,
                lms_user_id=canvas_id or None,
                section=section,
            )
        )
    return parsed


def import_canvas_roster(
    csv_path: str | os.PathLike[str], db_url: str, *, dry_run: bool = False
) -> ImportResult:
    """Create or update the nbgrader students listed in a Canvas gradebook export.

    The file is parsed completely first (see :func:`parse_canvas_roster`), so a bad file
    raises :class:`ValueError` before the gradebook changes. With ``dry_run`` the gradebook
    is only read, and the result says what an import would do.
    """
    parsed = parse_canvas_roster(csv_path)
    result = ImportResult(
        students=parsed.students,
        skipped=parsed.skipped,
        duplicates=parsed.duplicates,
        dry_run=dry_run,
    )
    if dry_run and gradebook_missing(db_url):
        # A dry run never creates a gradebook: with none there, every student is new.
        result.created = [s.id for s in parsed.students]
        return result
    with Gradebook(db_url) as gb:
        owners = {s.lms_user_id: s.id for s in gb.students if s.lms_user_id}
        for student in parsed.students:
            wanted = student.fields()
            owner = owners.get(student.lms_user_id or "")
            if owner is not None and owner != student.id:
                result.warnings.append(
                    f"row {student.row}: Canvas ID {student.lms_user_id} is already the "
                    f"lms_user_id of gradebook student {owner!r}; {student.id!r} gets it too"
                )
            try:
                existing = gb.find_student(student.id)
            except MissingEntry:
                result.created.append(student.id)
                if not dry_run:
                    gb.add_student(student.id, **wanted)
                continue
            if all(getattr(existing, key) == value for key, value in wanted.items()):
                result.unchanged.append(student.id)
                continue
            result.updated.append(student.id)
            if not dry_run:
                gb.update_or_create_student(student.id, **wanted)
    return result


def _table(result: ImportResult) -> Table:
    verb = "to import (dry run)" if result.dry_run else "imported"
    table = Table(title=f"Canvas roster: {len(result.students)} student(s) {verb}")
    for column in ("row", "student id", "last name", "first name", "email", "Canvas ID"):
        table.add_column(column)
    table.add_column("section")
    table.add_column("status")
    colors = {"created": "green", "updated": "yellow", "unchanged": "dim"}
    for s in result.students:
        status = result.status(s.id)
        table.add_row(
            str(s.row),
            *(
                escape(text or "")
                for text in (s.id, s.last_name, s.first_name, s.email, s.lms_user_id, s.section)
            ),
            f"[{colors[status]}]{status}[/{colors[status]}]",
        )
    return table


def run(course, csv_path: Path, dry_run: bool = False) -> int:
    """`coursekit roster CSV`: import the roster into the course's gradebook; print a table."""
    console = Console()
    db_url = course.db_url
    if gradebook_missing(db_url) and not dry_run:
        console.print(f"[yellow]no gradebook at {escape(db_url)}: creating a new one[/yellow]")
    try:
        result = import_canvas_roster(csv_path, db_url, dry_run=dry_run)
    except (OSError, ValueError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 1

    console.print(_table(result))
    console.print(
        f"{len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
        + (" (dry run: nothing written)" if dry_run else "")
        + f"; gradebook {escape(db_url)}",
        highlight=False,
    )
    for row, why in result.skipped:
        console.print(f"[dim]skipped row {row}: {escape(why)}[/dim]", highlight=False)
    for dup in result.duplicates:
        console.print(
            f"[yellow]duplicate, not applied: {escape(str(dup))}[/yellow]", highlight=False
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning: {escape(warning)}[/yellow]", highlight=False)
    return 0
