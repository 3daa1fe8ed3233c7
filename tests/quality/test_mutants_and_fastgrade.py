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


STUDENT_BUGS = '''import numpy as np


def unbroadcast(g, shape):
    return g.sum(axis=0) if g.shape != shape else g


def accumulate(grad, index, g, a, b):
    """Scatter-add g into grad at index; return a - b and a copy of grad."""
    ### BEGIN SOLUTION
    np.add.at(grad, index, g)
    total = 0
    total += a
    sh, sw = a, b
    out = unbroadcast(g, grad.shape)
    return sh - sw, grad.copy(), total, out
    ### END SOLUTION'''


def test_mutants_include_the_bugs_students_make():
    found = {m.description: m for m in mutants.cell_mutants("acc", STUDENT_BUGS)}
    kinds = {m.kind for m in found.values()}
    assert set(mutants.STUDENT_KINDS) <= kinds, set(mutants.STUDENT_KINDS) - kinds
    assert "grad[index] += g" in found["np.add.at as +="].source
    assert "total = a" in found["= for +="].source
    assert "out = g\n" in found["drop call unbroadcast()"].source + "\n"
    assert "grad, total" in found["drop .copy()"].source
    assert "return (sw - sh," in found["swap operands"].source
    assert "return (sw - sw," in found["sh->sw at col 11"].source
    assert all(m.task == "acc" for m in found.values())  # a cell without Task comments


def test_mutants_know_their_task_from_the_task_comment():
    source = STUDENT_BUGS.replace(
        "    ### BEGIN SOLUTION", "    # Task scatter: add g.\n    ### BEGIN SOLUTION"
    )
    assert {m.task for m in mutants.cell_mutants("acc", source)} == {"scatter"}


def test_grading_many_submissions_at_once_gives_what_grading_each_gives(tmp_path):
    source = notebook(SOLUTION)
    variants = {"solution": source}
    variants |= {
        m.id: mutants.mutant_submission(source, source, m) for m in mutants.all_mutants(source)
    }
    together = fastgrade.grade_many(variants, source, tmp_path)
    for name, nb in variants.items():
        assert together[name] == fastgrade.grade(nb, source, tmp_path), name


def test_a_test_cell_that_writes_to_stderr_fails_with_the_reason(tmp_path):
    quiet = notebook(SOLUTION)
    noisy = notebook(
        SOLUTION.replace(
            "    return (x * k)",
            "    import sys; print('debug', file=sys.stderr)\n    return (x * k)",
        )
    )
    assert fastgrade.grade(quiet, quiet, tmp_path).score == 3.0
    result = fastgrade.grade(noisy, quiet, tmp_path)
    assert result.score == 0.0
    assert "wrote to stderr" in result.cells[0].error and "'debug'" in result.cells[0].error


def test_the_graded_module_and_later_ones_cannot_be_imported(tmp_path):
    importer = notebook(
        SOLUTION.replace(
            "import numpy as np", "import numpy as np\nfrom tinytorch.core.autograd import Function"
        )
    )
    earlier = notebook(
        SOLUTION.replace(
            "import numpy as np", "import numpy as np\nfrom tinytorch.core.tensor import Tensor"
        )
    )
    source = notebook(SOLUTION)
    assert fastgrade.grade(importer, source, tmp_path, graded="05_autograd").score == 0.0
    assert fastgrade.grade(importer, source, tmp_path, graded="09_spatial").score == 3.0
    assert fastgrade.grade(earlier, source, tmp_path, graded="05_autograd").score == 3.0


def test_every_mutant_has_an_id_of_its_own():
    """Two subtractions on one line: each mutation is graded under its own id."""
    source = "def f(a, b, c):\n    ### BEGIN SOLUTION\n    return (a - b) - c\n    ### END SOLUTION"
    found = mutants.cell_mutants("f", source)
    ids = [m.id for m in found]
    assert len(ids) == len(set(ids))
    assert {"f:2:swap operands", "f:2:swap operands#2"} <= set(ids)
