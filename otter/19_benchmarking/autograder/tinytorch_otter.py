"""TinyTorch's otter-grader plugin: grade a submission the way nbgrader grades it.

Shipped at the top of every autograder zip as `tinytorch_otter.py` (Gradescope runs
`run_otter.py` from that folder, so the module is importable there; `coursekit otter grade`
puts the same file on PYTHONPATH for `otter run`) and named in `otter_config.json`. It imports
nothing from the course's tooling.

`before_grading` leaves in the grading folder only the notebook, otter's own files and what the
autograder ships (the earlier modules), put back as shipped: a `numpy.py` or a `tinytorch/`
of the student's in the submission zip would otherwise be imported instead of the real ones.

`before_execution` rebuilds the notebook to run from `template.ipynb` (beside the autograder's
`otter_config.json`), as nbgrader's OverwriteCells does with the gradebook's copy:

- every given cell (the otter set-up, imports, the shared checks, helpers) and every check cell
  comes from the template, whatever the submission did to it (edited, deleted, moved,
  duplicated);
- the student's answer cells are matched by cell id (or by `metadata.tinytorch.cell`) and
  keep their place; cells the student added follow the cell they followed, but never come
  before the checks cell: no student code runs before the checks capture what they rely on;
- cells after the last check cell are not run (as `SkipUngradedTail` does under nbgrader).

`after_grading` refuses results that do not hold exactly the template's tests, each worth its
points, with the template's cases: code in the notebook that forged otter's result objects
would have to match them.
"""

from __future__ import annotations

import copy
import json
import os
import shutil

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.run.run_autograder.utils import OtterRuntimeError

KEY = "tinytorch"


def _role(cell) -> str | None:
    return (cell.get("metadata", {}).get(KEY) or {}).get("role")


def _cell_key(cell) -> str | None:
    meta = cell.get("metadata", {}).get(KEY) or {}
    return meta.get("cell") or cell.get("id")


def graded_notebook(submission, template):
    """The notebook otter runs: the template's given cells, the submission's answers."""
    known = {_cell_key(c) for c in template.cells}
    answers, extras, anchor = {}, {None: []}, None
    for cell in submission.cells:
        key = _cell_key(cell)
        if key in known:
            if key not in answers:  # a duplicated cell counts once, at its first place
                answers[key] = cell
            anchor = key
            extras.setdefault(key, [])
        elif cell.get("cell_type") == "code":
            extras.setdefault(anchor, []).append(cell)
    roles = [_role(c) for c in template.cells]
    checks_at = roles.index("checks") if "checks" in roles else -1
    last = max((i for i, r in enumerate(roles) if r == "check"), default=len(roles) - 1)
    held = list(extras[None])  # student cells before the checks cell wait for it
    cells = []
    for index, cell in enumerate(template.cells[: last + 1]):
        key, role = _cell_key(cell), roles[index]
        if role in ("answer", "code"):
            theirs = answers.get(key)
            if theirs is not None and theirs.get("cell_type") == "code":
                mine = copy.deepcopy(cell)
                mine.source = theirs.get("source", "")
                if isinstance(mine.source, list):
                    mine.source = "".join(mine.source)
                cells.append(mine)
            elif role == "answer":
                cells.append(copy.deepcopy(cell))  # a deleted answer: the stub
        else:
            cells.append(copy.deepcopy(cell))
        own = [copy.deepcopy(c) for c in extras.get(key, []) if key in answers]
        if index < checks_at:
            held += own
        else:
            if index == checks_at:
                cells += held
                held = []
            cells += own
    nb = copy.deepcopy(template)
    nb.cells = cells + held
    return nb


class GradeLikeNbgrader(AbstractOtterPlugin):
    """Given cells from the template, answers from the submission (see the module's doc)."""

    def _source_dir(self) -> str:
        # otter grades in <autograder>/submission; the zip's files are in <autograder>/source
        here = os.path.dirname(os.path.abspath(self.submission_path))
        return os.path.join(os.path.dirname(here), "source")

    def before_grading(self, config):
        here = os.path.dirname(os.path.abspath(self.submission_path))
        shipped_dir = os.path.join(self._source_dir(), "files")
        shipped = sorted(os.listdir(shipped_dir)) if os.path.isdir(shipped_dir) else []
        keep = {os.path.basename(self.submission_path), "tests", "__init__.py"}
        keep |= {".OTTER_LOG", "__zip_filename__"}
        self.removed = []
        for name in sorted(os.listdir(here)):
            path = os.path.join(here, name)
            if name in keep or name.endswith((".zip", ".pdf")):
                continue
            if name not in shipped:
                self.removed.append(name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        for name in shipped:
            source = os.path.join(shipped_dir, name)
            if os.path.isdir(source):
                shutil.copytree(source, os.path.join(here, name))
            else:
                shutil.copy(source, os.path.join(here, name))

    def generate_report(self):
        removed = getattr(self, "removed", [])
        return (
            f"Removed from the submission before grading: {', '.join(removed)}" if removed else ""
        )

    def _template(self):
        name = (self.plugin_config or {}).get("template", "template.ipynb")
        return nbformat.read(os.path.join(self._source_dir(), name), as_version=4)

    def before_execution(self, submission):
        if isinstance(submission, str):
            raise ValueError("TinyTorch grades notebooks only, not scripts")
        return graded_notebook(submission, self._template())

    def after_grading(self, results):
        with open(os.path.join(self._source_dir(), "tests.json"), encoding="utf-8") as f:
            expected = json.load(f)  # {question: [points, number of cases]}
        if getattr(results, "catastrophic_error", None) is not None:
            return
        got = {
            name: [tf.possible, len(tf.test_case_results)] for name, tf in results.results.items()
        }
        if got != expected:
            results.clear_results()
            raise OtterRuntimeError(
                "the results do not hold the assignment's tests as the autograder defines them"
            )
