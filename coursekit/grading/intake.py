"""Intake: turn whatever a student submitted into what autograde should see, with flags.

nbgrader grades `submitted/<student>/<assignment>/` as it finds it. Submissions can be
broken or hostile in ways nbgrader handles badly (docs/nbgrader-notes.md): invalid JSON stops the
student's grading, stripped cell metadata scores 0 and can crash missing-cell restoration,
a renamed notebook is not graded, extra files such as a `numpy.py` or a `tinytorch/` folder
shadow real packages in the kernel. `stage` copies each submission into a staging folder
that nbgrader then grades (the original is never changed) and records a flag for a human
wherever it had to repair, replace or ignore something.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from tito import cells

from ..modules import graded_and_later
from .scan import is_tampering, review

# Files nbgrader's own `submit` adds: the time of submission, and the secret that names the
# student's feedback in the exchange.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


@dataclass
class Intake:
    student: str
    flags: list[str] = field(default_factory=list)

    def flag(self, text: str) -> None:
        self.flags.append(text)


def _grade_ids(nb: NotebookNode) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def _read(path: Path, intake: Intake) -> NotebookNode | None:
    try:
        return nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, UnicodeDecodeError) as err:
        intake.flag(
            f"{path.name} is not a readable notebook ({type(err).__name__}); graded as blank"
        )
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same case for a TA
        intake.flag(f"{path.name} could not be read ({type(err).__name__}: {err}); graded as blank")
    return None


def restore_metadata(nb: NotebookNode, release: NotebookNode, intake: Intake) -> NotebookNode:
    """Give a notebook whose nbgrader metadata was stripped the release's cell metadata.

    Locked cells (instructions, tests) still have the release's exact text: they anchor the
    alignment. A student's solution cell is the code cell found between the same anchors.
    """
    nb = copy.deepcopy(nb)
    anchors = {c.source: c for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    matched = 0
    pending = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in nb.cells:
        if cell.source in anchors:
            cell.metadata["nbgrader"] = copy.deepcopy(anchors[cell.source].metadata["nbgrader"])
            cell.cell_type = anchors[cell.source].cell_type
            matched += 1
    # Solution cells: the k-th code cell after the anchor that precedes the release's k-th.
    order = list(release.cells)
    for sol in pending:
        before = next((order[i - 1] for i, c in enumerate(order) if c is sol and i > 0), None)
        start = 0
        if before is not None:
            for i, cell in enumerate(nb.cells):
                if cell.source == before.source:
                    start = i + 1
        for cell in nb.cells[start:]:
            if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
                cell.metadata["nbgrader"] = copy.deepcopy(sol.metadata["nbgrader"])
                matched += 1
                break
    intake.flag(
        f"cell metadata was missing (some editors strip it); restored {matched} cells by "
        "matching them to the release: check the result"
    )
    return nb


def _deduplicate(nb: NotebookNode, intake: Intake) -> NotebookNode:
    """One cell per grade_id, as the student most likely meant it.

    A repeated read-only or test cell keeps its first copy (autograde restores its text);
    a repeated solution cell keeps the last copy, the one the student edited last.
    """
    ids = _grade_ids(nb)
    keep = []
    for index, cell in enumerate(nb.cells):
        grade_id = ids[index]
        if grade_id is None or ids.count(grade_id) == 1:
            keep.append(cell)
            continue
        positions = [i for i, g in enumerate(ids) if g == grade_id]
        wanted = positions[-1] if cell.metadata["nbgrader"].get("solution") else positions[0]
        if index == wanted:
            keep.append(cell)
        if index == positions[0]:
            intake.flag(f"cell {grade_id} appears {len(positions)} times; graded once")
    nb = copy.deepcopy(nb)
    nb.cells = [copy.deepcopy(c) for c in keep]
    return nb


def check_cells(
    nb: NotebookNode, release: NotebookNode, intake: Intake, module_name: str = ""
) -> None:
    """Flag edited, deleted, duplicated, retyped or reordered graded cells, and suspicious code
    (coursekit.grading.scan: the same scan nbgrader's FlagForReview step runs)."""
    packages = graded_and_later(module_name)
    release_tests = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    ids = [i for i in _grade_ids(nb) if i]
    seen = [i for i in ids if i in release_tests]
    for grade_id in release_tests:
        if grade_id not in ids:
            intake.flag(f"test cell {grade_id} was deleted; autograde restores it")
    if seen != sorted(set(seen), key=list(release_tests).index):
        intake.flag("test cells were moved; they run where the student put them")
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in release_tests:
            if cell.cell_type != "code":
                intake.flag(f"test cell {grade_id} was turned into {cell.cell_type}; restored")
            elif cell.source != release_tests[grade_id].source:
                intake.flag(f"test cell {grade_id} was edited; autograde restores it")
        if cell.cell_type == "code" and not meta.get("locked"):
            for finding in review(cell.source, packages):
                what = (
                    "grader tampering, scored 0 until a human looks"
                    if is_tampering(finding)
                    else "review"
                )
                intake.flag(f"{what} {grade_id or 'an added cell'}: {finding}")


def _plain(code: str) -> str:
    """Code without trailing spaces and blank lines, to compare cells as a reader would."""
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def solution_texts(solution: NotebookNode, release: NotebookNode) -> list[str]:
    """The released solution's code for each of the release's solution cells."""
    ids = {
        c.metadata["nbgrader"]["grade_id"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    return [_plain(c.source) for c in solution.cells if c.get("id") in ids]


def matches_solution(nb: NotebookNode, texts: list[str]) -> bool:
    """True when every solution cell of the released solution appears, word for word, among
    the notebook's code cells (whatever their metadata says)."""
    mine = {_plain(c.source) for c in nb.cells if c.cell_type == "code"}
    return bool(texts) and all(text in mine for text in texts)


def stage(
    submitted: Path,
    staged: Path,
    release_dir: Path,
    module_name: str,
    student: str,
    solution_dir: Path | None = None,
) -> Intake:
    """Copy one student's submission into the staging folder, repaired where needed.

    With `solution_dir` (the solution handed out after the deadline), a notebook whose
    solution cells are the released solution's, word for word, is flagged for a human.
    """
    intake = Intake(student)
    staged.mkdir(parents=True, exist_ok=True)
    expected = sorted(p.name for p in release_dir.glob("*.ipynb"))
    present = sorted(p.name for p in submitted.iterdir()) if submitted.is_dir() else []
    notebooks = [n for n in present if n.endswith(".ipynb")]
    extras = [n for n in present if not n.endswith(".ipynb") and n not in NBGRADER_FILES]
    if extras:
        intake.flag(f"extra files ignored: {', '.join(extras)}")
    for name in NBGRADER_FILES:
        if (submitted / name).exists():
            shutil.copy2(submitted / name, staged / name)
    unknown = [n for n in notebooks if n not in expected]
    for name in expected:
        release = nbformat.read(release_dir / name, as_version=4)
        source = submitted / name
        if not source.exists() and len(expected) == 1 and len(unknown) == 1:
            intake.flag(f"notebook renamed to {unknown[0]}; graded as {name}")
            source = submitted / unknown.pop()
        nb = _read(source, intake) if source.exists() else None
        if nb is None and not source.exists():
            intake.flag(f"{name} is missing; graded as blank")
        answer = solution_dir / name if solution_dir is not None else None
        if nb is not None and answer is not None and answer.is_file():
            texts = solution_texts(nbformat.read(answer, as_version=4), release)
            if matches_solution(nb, texts):
                intake.flag(
                    f"matches the released solution: every solution cell of {name} is the "
                    "solution's code word for word; check before the grade stands"
                )
        if nb is not None:
            nb = _repair(nb, release, module_name, intake)
        nbformat.write(nb if nb is not None else release, staged / name)
    for name in unknown:
        intake.flag(f"unexpected notebook ignored: {name}")
    return intake


def _repair(nb: NotebookNode, release: NotebookNode, module_name: str, intake: Intake):
    """None when the notebook cannot be graded as this assignment."""
    solution_ids = {
        c.metadata["nbgrader"]["grade_id"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    claimed = cells.notebook_info(nb).get("module")
    ids = {i for i in _grade_ids(nb) if i}
    if not ids and claimed in (None, module_name):
        nb = restore_metadata(nb, release, intake)
        ids = {i for i in _grade_ids(nb) if i}
    if claimed not in (None, module_name) or not ids & solution_ids:
        other = claimed or "another assignment"
        intake.flag(f"notebook is from {other}, not {module_name}; graded as blank")
        return None
    nb = _deduplicate(nb, intake)
    if solution_ids - ids:
        intake.flag(
            "solution cells missing or from an older release: "
            + ", ".join(sorted(solution_ids - ids))
        )
    check_cells(nb, release, intake, module_name)
    return nb
