"""The course's extra steps in nbgrader's autograde (listed in nbgrader_config.py).

- `PrepareSandbox` (first): what a contained grading kernel needs before it starts: the
  folder for its Unix sockets, and the sandbox's settings for its launcher
  (coursekit/grading/sandbox.py), with the assignment being graded.
- `DropResults` (after Execute): a test cell's displayed value would be read by nbgrader as
  partial credit; student code could display a number from inside a failing test. Test cells
  never display values on purpose, so their `execute_result` outputs go.
- `FlagForReview` (after SaveAutoGrades): code that deserves a human look (coursekit.grading.
  scan: patched NumPy, frame inspection, an import of the graded module's reference, ...)
  marks the notebook's grades for manual review in the gradebook, with the findings as the
  comment of its first solution cell, so a TA using nbgrader alone sees it. Code that
  tampers with the grader itself is scored 0 (a manual score) until a human has looked.
- `SkipUngradedTail` (before Execute): ordinary code cells after the last test cell (the
  systems-analysis measurements) cannot change a grade; they are not run while grading, which
  makes a class several times faster to grade.
- `TruncateOutputs` (after Execute): nbgrader's own LimitOutput counts lines; a single line
  of 20 MB passes it and bloats the autograded notebook, the feedback page and the disk. This
  caps the text of every output, keeping its start and end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

from tito import cells

NOTE = "\n... [{dropped} characters removed by the grader: output is limited to {limit}] ...\n"


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return text[:head] + NOTE.format(dropped=len(text) - head - tail, limit=limit) + text[-tail:]


class TruncateOutputs(Preprocessor):
    """Limit each output's text to `max_chars` characters."""

    enabled = Bool(True).tag(config=True)
    max_chars = Integer(100_000, help="characters kept per output").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if "text" in output and isinstance(output["text"], str):
                output["text"] = truncate(output["text"], self.max_chars)
            data = output.get("data", {})
            if isinstance(data.get("text/plain"), str):
                data["text/plain"] = truncate(data["text/plain"], self.max_chars)
            if "traceback" in output:
                output["traceback"] = [
                    truncate(t, self.max_chars) for t in output["traceback"][:200]
                ]
        return cell, resources


SKIPPED = "# (Not run during grading: cells after the last test cannot change a grade.)"


class SkipUngradedTail(Preprocessor):
    """Blank the ordinary code cells that follow the last graded test cell."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        if not any(cells.is_test(c) for c in nb.cells):
            return nb, resources
        kept = {id(c) for c in cells.gradable(nb.cells)}
        for cell in nb.cells:
            if cells.is_code(cell) and id(cell) not in kept and not cells.nbgrader(cell):
                cell.source = SKIPPED
        return nb, resources


class PrepareSandbox(Preprocessor):
    """Make the kernels' socket folder and hand the sandbox its settings, per notebook."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        from ..grading import sandbox
        from ..grading.database import socket_folder

        if self.config.Execute.get("kernel_name") != sandbox.KERNEL_NAME:
            return nb, resources  # grading uncontained (TINYTORCH_UNCONTAINED=1)
        sandbox.make_socket_folder(Path(self.config.KernelManager.ip).parent)
        settings = {
            **sandbox.Sandbox(config=self.config).limits(),
            "course_root": str(self.config.CourseDirectory.root),
            # The exchange, and a PostgreSQL gradebook's Unix socket folder (TCP is out of
            # reach anyway: the kernel has no network).
            "hide": [str(self.config.Exchange.root)]
            # An unset db_url is nbgrader's default, SQLite in the course folder.
            + [str(p) for p in [socket_folder(self.config.CourseDirectory.get("db_url", ""))] if p],
            "assignment": resources.get("nbgrader", {}).get("assignment", ""),
        }
        os.environ[sandbox.ENV] = json.dumps(settings)
        return nb, resources


class DropResults(Preprocessor):
    """Remove displayed values from test cells (nbgrader would read them as partial credit)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cells.is_test(cell):
            kept = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
            if len(kept) != len(cell.get("outputs", [])):
                resources.setdefault("tinytorch_review", []).append(
                    f"test cell {cells.grade_id(cell)} displayed a value (removed: it could "
                    "have been read as partial credit)"
                )
            cell.outputs = kept
        return cell, resources


REVIEW_NOTE = "Marked for review by the course's grader (the score is unchanged):\n"
TAMPERING_NOTE = (
    "Scored 0 until a human has looked: this code tampers with the grader itself, so the "
    "automatic verdicts cannot be trusted. Set the grade in the formgrader after review:\n"
)


class FlagForReview(Preprocessor):
    """Mark a notebook whose code deserves a human look for manual review in the gradebook."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        from ..grading.scan import is_tampering, review
        from ..modules import graded_and_later

        info = resources.get("nbgrader", {})
        packages = graded_and_later(info.get("assignment", ""))
        findings = list(resources.get("tinytorch_review", []))
        for cell in nb.cells:
            if cells.is_code(cell) and not cells.is_locked(cell):
                where = cells.grade_id(cell) or "an added cell"
                findings += [f"{where}, {f}" for f in review(cell.source, packages)]
        if not findings or "db_url" not in info:
            return nb, resources
        tampered = any(is_tampering(f) for f in findings)
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_submission_notebook(
                info["notebook"], info["assignment"], info["student"]
            )
            for grade in notebook.grades:
                grade.needs_manual_grade = True
                if tampered:
                    grade.manual_score = 0.0
            comments = sorted(notebook.comments, key=lambda c: c.cell.name)
            if comments:
                note = TAMPERING_NOTE if tampered else REVIEW_NOTE
                comments[0].auto_comment = note + "\n".join(findings)
            gb.db.commit()
        resources["tinytorch_review"] = findings
        return nb, resources
