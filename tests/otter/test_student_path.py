"""A student's path under otter: self-checks in the notebook, `grader.export()`, the zip graded.

The student folder of Module 02, copied as a student gets it, with the solution's answers:
every `grader.check` cell passes (visible tests only; the folder has no hidden test), the
export cell writes the submission zip, and `otter run` on the module's autograder zip gives
that zip full points. With the untouched notebook the self-checks fail with the visible
tests' own messages.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from coursekit.modules import find
from coursekit.otter import assignment, grade
from coursekit.quality import gates
from coursekit.tools import tool_env

MODULE = "02_activations"


def _run_student(folder: Path, nb) -> nbformat.NotebookNode:
    path = folder / "activations.ipynb"
    nbformat.write(nb, path)
    env = tool_env(JUPYTER_PATH=str(grade._kernel_folder(folder.parent / "jupyter")))
    client = NotebookClient(
        nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}
    )
    before = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(before)
    return nb


def _check_outputs(nb) -> dict[str, str]:
    found = {}
    for cell in nb.cells:
        meta = cell.metadata.get("tinytorch") or {}
        if meta.get("role") == "check":
            text = ""
            for out in cell.get("outputs", []):
                text += str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
                text += str(out.get("evalue", ""))
            found[assignment.question(meta["cell"])] = text
    return found


def test_self_checks_export_and_the_exported_zip_scores_full(tmp_path):
    module = find(MODULE)
    folder = tmp_path / "student"
    shutil.copytree(assignment.module_dir(module) / "student", folder)
    student = grade.student_notebook(module)
    solved = grade.from_nbgrader(student, gates.solution_submission(module))
    # the systems analysis after the tests is not what this test is about
    last = max(
        i for i, c in enumerate(solved.cells) if c.metadata["tinytorch"].get("role") == "check"
    )
    solved.cells = solved.cells[: last + 1] + solved.cells[-2:]
    ran = _run_student(folder, solved)
    checks = _check_outputs(ran)
    assert checks and all("passed" in text for text in checks.values()), checks
    zips = sorted(folder.glob("activations_*.zip"))
    assert len(zips) == 1, "grader.export() writes the submission zip"
    result = grade.run_otter(module, zips[0])
    assert result.error is None and result.score == result.max_score == 20


def test_self_checks_of_the_untouched_notebook_fail_with_the_visible_messages(tmp_path):
    module = find(MODULE)
    folder = tmp_path / "student"
    shutil.copytree(assignment.module_dir(module) / "student", folder)
    nb = grade.student_notebook(module)
    last = max(i for i, c in enumerate(nb.cells) if c.metadata["tinytorch"].get("role") == "check")
    nb.cells = nb.cells[: last + 1]
    checks = _check_outputs(_run_student(folder, nb))
    assert checks and all(
        "NotImplementedError" in text or "failed" in text for text in checks.values()
    )
    assert not any("hidden" in text.lower() for text in checks.values())
