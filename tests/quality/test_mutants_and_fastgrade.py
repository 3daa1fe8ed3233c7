"""The mutant generator and the fast grader, on a small notebook made here."""

import nbformat
import pytest

from coursekit.authoring.masters import nbgrader_metadata
from coursekit.quality import fastgrade, mutants

SOLUTION = '''import numpy as np


def scale(x, k=2):
    """Return k * x as float32; x must be 1-D."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"scale: expected 1-D, got {x.ndim}-D")
    return (x * k).sum(axis=0, keepdims=True)
    ### END SOLUTION'''

TEST = """assert np.allclose(scale([1, 2]), [6.0])
### BEGIN HIDDEN TESTS
# hidden: scales and sums other vectors
out = scale([1, -4, 2], k=3)
assert out.dtype == np.float32 and out.shape == (1,), "dtype and shape"
assert np.allclose(out, [-3.0]), "values"
### END HIDDEN TESTS"""


def notebook(solution: str, test: str = TEST):
    nb = nbformat.v4.new_notebook()
    sol = nbformat.v4.new_code_cell(solution)
    sol.metadata["nbgrader"] = nbgrader_metadata("solution", "scale", None)
    tst = nbformat.v4.new_code_cell(test)
    tst.metadata["nbgrader"] = nbgrader_metadata("test", "test_scale", 3)
    nb.cells = [sol, tst]
    return nb


def test_mutants_only_touch_solution_regions_and_never_messages():
    found = mutants.all_mutants(notebook(SOLUTION))
    assert len(found) >= 8
    for m in found:
        if m.description != "drop input check":  # which removes the whole check
            assert "expected 1-D, got {x.ndim}-D" in m.source  # messages are never mutated
        assert m.line >= 6  # line 6 of the marker-free code is the first solution line
    kinds = {m.description for m in found}
    assert {"drop input check", ".float32->.float64", "drop keepdims=", ".sum->.mean"} <= kinds


def test_fast_grader_scores_solution_full_and_stub_zero(tmp_path):
    source = notebook(SOLUTION)
    full = fastgrade.grade(source, source, tmp_path)
    assert (full.score, full.max_score) == (3.0, 3.0)
    stub = notebook("def scale(x, k=2):\n    raise NotImplementedError()")
    blank = fastgrade.grade(stub, source, tmp_path)
    assert blank.score == 0.0 and blank.failed == ["test_scale"]


def test_hidden_tests_come_from_the_source_not_the_submission(tmp_path):
    source = notebook(SOLUTION)
    wrong = notebook(SOLUTION.replace("x * k", "x + k"), test="pass  # student deleted the test")
    assert fastgrade.grade(wrong, source, tmp_path).score == 0.0


@pytest.mark.parametrize(
    "body, expect_timeout",
    [
        ("while True:\n    pass", True),
        ("import os\nos._exit(3)", True),
        ("import sys\nsys.exit(0)", False),
    ],
)
def test_fast_grader_survives_hostile_code(tmp_path, body, expect_timeout):
    source = notebook(SOLUTION)
    hostile = notebook(body)
    result = fastgrade.grade(hostile, source, tmp_path, timeout=3)
    assert result.score == 0.0
    assert result.timed_out is expect_timeout
