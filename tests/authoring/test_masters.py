"""Authoring rules for masters and their conversion into nbgrader metadata."""

from pathlib import Path

import pytest

from coursekit.authoring.masters import MasterError, to_source_notebook
from coursekit.modules import load_module

GOOD_TEST = """# %% kind="test" id="test_f" points=2
assert f() == 1, "f() should return 1"
### BEGIN HIDDEN TESTS
# hidden: f returns one again
assert f() == 1, "again"
### END HIDDEN TESTS
"""
SOLUTION = """# %% kind="solution" id="f" export=true
def f():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION
"""


def make_module(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "masters" / "07_toy"
    folder.mkdir(parents=True)
    (folder / "module.toml").write_text(
        'number = 7\nname = "toy"\ntitle = "Toy"\npackage = "tinytorch.core.toy"\n'
    )
    (folder / "toy.py").write_text(body)
    return folder


def test_cells_get_nbgrader_metadata_and_stable_ids(tmp_path):
    module = load_module(make_module(tmp_path, "# %% [markdown]\n# Hi\n\n" + SOLUTION + GOOD_TEST))
    nb = to_source_notebook(module)
    md, sol, test = nb.cells
    assert md.id == "cell-000" and "nbgrader" not in md.metadata
    assert sol.id == "f" and sol.metadata["nbgrader"]["solution"] is True
    assert sol.metadata["nbgrader"]["locked"] is False
    assert sol.metadata["tinytorch"] == {"export": "tinytorch.core.toy"}
    assert test.metadata["nbgrader"] == {
        "grade": True,
        "grade_id": "test_f",
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    assert nb.metadata["tinytorch"]["generated_from"] == "masters/07_toy/toy.py"


@pytest.mark.parametrize(
    "body, complaint",
    [
        (SOLUTION + GOOD_TEST.replace("points=2", "points=0"), "points > 0"),
        (SOLUTION + GOOD_TEST.replace('"test_f"', '"Test-F"'), "lowercase"),
        (SOLUTION + GOOD_TEST.replace('"test_f"', '"f"'), "used twice"),
        (SOLUTION + GOOD_TEST.replace('"again"', 'f"got {f()}"'), "constant strings"),
        (SOLUTION + GOOD_TEST.replace("# hidden: f returns one again\n", ""), "# hidden:"),
        (SOLUTION + '# %% kind="test" id="test_f" points=1\nassert f() == 1\n', "HIDDEN TESTS"),
        (SOLUTION.replace("    ### END SOLUTION\n", "") + GOOD_TEST, "never closed"),
        (SOLUTION + GOOD_TEST + "# %%\n%timeit f()\n", "magics"),
        ('# %% kind="solution" id="f"\nx = 1\n' + GOOD_TEST, "BEGIN SOLUTION region"),
        (SOLUTION + GOOD_TEST + '# %% kind="grade" id="g"\nx = 1\n', "kind='grade'"),
    ],
)
def test_broken_masters_are_refused_with_a_reason(tmp_path, body, complaint):
    module = load_module(make_module(tmp_path, body))
    with pytest.raises(MasterError, match=complaint):
        to_source_notebook(module)


def test_folder_name_must_match_module_toml(tmp_path):
    folder = make_module(tmp_path, SOLUTION + GOOD_TEST)
    wrong = folder.rename(folder.parent / "08_toy")
    with pytest.raises(ValueError, match="07_toy"):
        load_module(wrong)
