"""Intake on small hand-made submissions: what it repairs, replaces and flags."""

from __future__ import annotations

import json

import nbformat

from coursekit.grading import intake
from tests.handmade import cell, markdown, notebook

RELEASE = notebook(
    markdown("# Double"),
    cell("locked", "import numpy as np", "setup"),
    cell("solution", "def double(x):\n    raise NotImplementedError()", "double"),
    cell("test", "assert double(2) == 4", "test_double", 2),
)


def submission(answer: str = "def double(x):\n    return 2 * x"):
    nb = nbformat.from_dict(json.loads(json.dumps(RELEASE)))
    nb.cells[2].source = answer
    return nb


def stage(tmp_path, nb=None, files: dict[str, str] | None = None, name="tensor.ipynb"):
    submitted, release = tmp_path / "submitted", tmp_path / "release"
    submitted.mkdir(parents=True), release.mkdir(parents=True)
    nbformat.write(RELEASE, release / "tensor.ipynb")
    if nb is not None:
        nbformat.write(nb, submitted / name)
    for file, text in (files or {}).items():
        (submitted / file).write_text(text)
    staged = tmp_path / "staged"
    result = intake.stage(submitted, staged, release, "01_tensor", "ada")
    graded = nbformat.read(staged / "tensor.ipynb", 4)
    return result.flags, graded


def test_a_clean_submission_is_copied_unchanged_and_not_flagged(tmp_path):
    flags, graded = stage(tmp_path, submission())
    assert flags == []
    assert graded.cells[2].source == "def double(x):\n    return 2 * x"


def test_invalid_json_is_graded_as_the_blank_release_and_flagged(tmp_path):
    (tmp_path / "submitted").mkdir()
    (tmp_path / "submitted" / "tensor.ipynb").write_text("{not json")
    (tmp_path / "release").mkdir()
    nbformat.write(RELEASE, tmp_path / "release" / "tensor.ipynb")
    result = intake.stage(
        tmp_path / "submitted", tmp_path / "staged", tmp_path / "release", "01_tensor", "ada"
    )
    assert any("not a readable notebook" in f for f in result.flags)
    staged = nbformat.read(tmp_path / "staged" / "tensor.ipynb", 4)
    assert staged.cells[2].source == RELEASE.cells[2].source


def test_a_renamed_notebook_is_graded_under_its_name(tmp_path):
    flags, graded = stage(tmp_path, submission(), name="tensor (1).ipynb")
    assert flags == ["notebook renamed to tensor (1).ipynb; graded as tensor.ipynb"]
    assert "return 2 * x" in graded.cells[2].source


def test_extra_files_that_could_shadow_packages_are_left_out(tmp_path):
    flags, _ = stage(tmp_path, submission(), files={"numpy.py": "x = 1"})
    assert flags == ["extra files ignored: numpy.py"]
    assert not (tmp_path / "staged" / "numpy.py").exists()


def test_stripped_metadata_is_restored_by_aligning_to_the_release(tmp_path):
    nb = submission()
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)
    flags, graded = stage(tmp_path, nb)
    assert any("cell metadata was missing" in f for f in flags)
    assert graded.cells[2].metadata["nbgrader"]["grade_id"] == "double"
    assert graded.cells[3].metadata["nbgrader"]["grade_id"] == "test_double"


def test_a_duplicated_solution_cell_keeps_the_last_copy(tmp_path):
    nb = submission("def double(x):\n    return 0")
    later = nbformat.from_dict(json.loads(json.dumps(nb.cells[2])))
    later.source, later.id = "def double(x):\n    return x + x", "double-again"
    nb.cells.insert(3, later)
    flags, graded = stage(tmp_path, nb)
    assert flags == ["cell double appears 2 times; graded once"]
    answers = [c.source for c in graded.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers == ["def double(x):\n    return x + x"]


def test_edited_and_deleted_test_cells_are_flagged(tmp_path):
    nb = submission()
    nb.cells[3].source = "assert True"
    flags, _ = stage(tmp_path, nb)
    assert flags == ["test cell test_double was edited; autograde restores it"]
    nb = submission()
    del nb.cells[3]
    flags, _ = stage(tmp_path / "second", nb)
    assert flags == ["test cell test_double was deleted; autograde restores it"]


def test_a_notebook_of_another_module_is_graded_as_blank(tmp_path):
    nb = submission()
    nb.metadata["tinytorch"]["module"] = "02_activations"
    flags, graded = stage(tmp_path, nb)
    assert flags == ["notebook is from 02_activations, not 01_tensor; graded as blank"]
    assert graded.cells[2].source == RELEASE.cells[2].source


def test_an_import_of_the_graded_modules_reference_is_flagged(tmp_path):
    flags, _ = stage(tmp_path, submission("from tinytorch.core.tensor import *"))
    assert flags == [
        "review double: line 1: imports tinytorch.core.tensor, the reference of a module not "
        "yet graded (grading cannot import it; only the student's own code counts)"
    ]


def test_a_patched_numpy_is_flagged(tmp_path):
    answer = (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\ndef double(x):\n    return 2 * x"
    )
    flags, _ = stage(tmp_path, submission(answer))
    assert flags == ["review double: line 2: changes np.allclose"]


def published_solution(tmp_path):
    """The solution as students fetch it (coursekit.authoring.solutions.solution_notebook):
    a banner first, the solution code, and no nbgrader metadata at all."""
    from coursekit.authoring.solutions import solution_notebook
    from coursekit.modules import find

    source = submission(
        "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    )
    folder = tmp_path / "published"
    folder.mkdir(parents=True)
    nbformat.write(solution_notebook(find("01_tensor"), source), folder / "tensor.ipynb")
    return folder, nbformat.read(folder / "tensor.ipynb", 4)


def stage_against(tmp_path, nb, solution_dir):
    submitted, release = tmp_path / "submitted", tmp_path / "release"
    submitted.mkdir(parents=True), release.mkdir(parents=True)
    nbformat.write(RELEASE, release / "tensor.ipynb")
    nbformat.write(nb, submitted / "tensor.ipynb")
    result = intake.stage(
        submitted, tmp_path / "staged", release, "01_tensor", "ada", solution_dir=solution_dir
    )
    return result.flags


def test_handing_in_the_released_solution_is_flagged_as_such(tmp_path):
    """A late student fetches the published solution and submits it as it is: the flag says
    what happened, not only that the cell metadata was missing."""
    folder, fetched = published_solution(tmp_path)
    flags = stage_against(tmp_path / "as-fetched", fetched, folder)
    assert any(f.startswith("matches the released solution") for f in flags), flags
    # Copied into the student's own notebook (metadata intact), with a blank line added.
    copied = submission("def double(x):\n\n    return 2 * x  ")
    flags = stage_against(tmp_path / "copied", copied, folder)
    assert flags[0].startswith("matches the released solution"), flags
    # The student's own different code, or no solution published yet: no such flag.
    own = stage_against(tmp_path / "own", submission("def double(x):\n    return x + x"), folder)
    assert not any("released solution" in f for f in own)
    unpublished = stage_against(tmp_path / "unpublished", copied, None)
    assert unpublished == []
