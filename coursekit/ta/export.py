"""`coursekit export`: grades for the LMS, for the modules students have had.

Without a choice of modules, the export holds the course's modules that were released to
students (their release is in the exchange) or have graded submissions, in course order:
not every module the gradebook knows (`make release` registers them all). Each format is
written by nbgrader's own `export` with the course's exporter plugin
(coursekit/plugins/exporters.py), so the maxima in `grades.csv` are over the exported modules.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from rich.console import Console

from ..course import Course
from ..modules import Module
from ..plugins.exporters import CANVAS_RECIPE, EXPORTERS


def graded(course: Course, module: Module) -> bool:
    """True when the gradebook holds at least one submission of the module."""
    if not course.has_gradebook():
        return False
    with Gradebook(course.db_url) as gb:
        try:
            return gb.find_assignment(module.assignment).num_submissions > 0
        except MissingEntry:
            return False


def exported_modules(course: Course, modules: list[Module]) -> list[Module]:
    """The modules an export holds by default: released or graded, in course order."""
    return [m for m in modules if course.released(m) or graded(course, m)]


def run(
    course: Course,
    modules: list[Module],
    formats: list[str],
    out: Path | None,
    console: Console,
) -> int:
    if not modules:
        console.print(
            "[red]Nothing to export: no module has been released or graded yet. Name the "
            "modules to export: coursekit export 01_tensor (make export MODULES=01_tensor)."
        )
        return 1
    names = [m.assignment for m in modules]
    console.print(f"Exporting {', '.join(names)}")
    if "canvas" in formats:
        unmapped = [m.assignment for m in modules if not course.schedule[m.assignment].canvas]
        if unmapped:
            console.print(
                f"[yellow]No Canvas assignment id for {', '.join(unmapped)}: Canvas would "
                f"create a new column for each. {CANVAS_RECIPE}"
            )
    folder = Path(out or course.gradebook_dir)
    for fmt in formats:
        plugin, filename = EXPORTERS[fmt]
        target = folder / filename
        course.nbgrader("export", f"--exporter={plugin}", f"--to={target}", f"--assignment={names}")
        console.print(f"{fmt}: {target}")
    return 0
