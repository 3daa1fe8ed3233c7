"""Points follow the behaviour that broke, on a toy module built here.

A toy master with the shared checks and three tasks: `double` and `square` (methods of one
class) and `total` (a top-level function that uses both). The build puts the grading set-up
at the top of each test cell; a bug in one task then costs only its own test cell, a
patched NumPy adds nothing, and the integration cell runs the student's code throughout.
Checked with the fast grader and through real nbgrader autograde.
"""

from __future__ import annotations

import shutil

import pytest
from nbgrader.api import Gradebook

from coursekit.authoring import build
from coursekit.authoring.masters import MasterError, to_source_notebook
from coursekit.authoring.references import region_tasks, solution_units
from coursekit.course import Course
from coursekit.modules import REPO, discover, load_module
from coursekit.quality import attacks, fastgrade, mutants

TOY = '''# %% [markdown]
# # Toy

# %% kind="locked" id="setup" export=true
import numpy as np

# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = "Keep the input's shape."

# %% kind="solution" id="numbers" export=true
class Numbers:
    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float64)

    def double(self):
        # Task double: twice every value.
        ### BEGIN SOLUTION
        return self.values * 2
        ### END SOLUTION

    def square(self):
        # Task square: every value squared.
        ### BEGIN SOLUTION
        return self.values ** 2
        ### END SOLUTION

# %% kind="test" id="test_double" points=2
assert_array(Numbers([1.0, 2.0]).double(), [2.0, 4.0], "Numbers([1, 2]).double()")
### BEGIN HIDDEN TESTS
# hidden: doubles negative values
assert check_close(Numbers([-3.0, 0.5]).double(), [-6.0, 1.0]), "double"
### END HIDDEN TESTS

# %% kind="test" id="test_square" points=2
assert_array(Numbers([3.0]).square(), [9.0], "Numbers([3]).square()")
### BEGIN HIDDEN TESTS
# hidden: squares negative values
assert check_close(Numbers([-2.0, 0.5]).square(), [4.0, 0.25]), "square"
### END HIDDEN TESTS

# %% kind="solution" id="total" export=true
def total(values):
    """double + square, summed."""
    ### BEGIN SOLUTION
    n = Numbers(values)
    return float((n.double() + n.square()).sum())
    ### END SOLUTION

# %% kind="test" id="test_total" points=2
assert check_close(total([1.0, 2.0]), 11.0), "total([1, 2]) should be 11"
### BEGIN HIDDEN TESTS
# hidden: totals negative values
assert check_close(total([-1.0]), -1.0), "total"
### END HIDDEN TESTS

# %% kind="test" id="test_together" points=1
assert check_close(total([3.0]), 15.0), "total([3])"
### BEGIN HIDDEN TESTS
# hidden: everything works together
assert check_close(total([0.5, -2.0]), 1.25 + 0.0), "together"
### END HIDDEN TESTS
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy built into a scratch repository (masters/, shared checks, generated files)."""
    root = tmp_path_factory.mktemp("toyrepo")
    folder = root / "masters" / "09_toy"
    folder.mkdir(parents=True)
    (folder / "module.toml").write_text(
        'number = 9\nname = "toy"\ntitle = "Toy"\npackage = "tinytorch.core.toy"\n'
        'hours = 1\ndifficulty = 1\nintegration = ["test_together"]\n'
    )
    (folder / "toy.py").write_text(TOY)
    shutil.copytree(REPO / "masters" / "shared", root / "masters" / "shared")
    shutil.copy2(REPO / "nbgrader_config.py", root)
    build.build(root, root=root, execute_solutions=False, log=lambda *_: None)
    module = discover(root)[0]
    course = Course(root)
    return module, course.source_notebook(module), course.release_notebook(module), root


def submission(toy, **bugs):
    """The solution with some lines replaced: bugs = {old: new}."""
    _, src, rel, _ = toy
    answers = mutants.solution_sources(src)
    for old, new in bugs.items():
        for cell_id, code in answers.items():
            answers[cell_id] = code.replace(old, new)
    return mutants.submission(rel, answers)


def scores(toy, nb) -> dict[str, float]:
    _, src, _, root = toy
    result = fastgrade.grade(nb, src, root)
    return {c.grade_id: c.points for c in result.cells}


def test_tasks_come_from_the_task_comments_and_units_from_the_functions():
    cell = TOY.split('id="numbers" export=true\n')[1].split("# %%")[0]
    assert [task for _, _, task in region_tasks("numbers", cell)] == ["double", "square"]
    units = {(u.owner, u.name): u.tasks for u in solution_units("numbers", cell)}
    assert units == {("Numbers", "double"): {"double"}, ("Numbers", "square"): {"square"}}


def test_the_solution_scores_full_and_the_release_zero(toy):
    _, src, rel, _ = toy
    assert scores(toy, submission(toy)) == {
        "test_double": 2,
        "test_square": 2,
        "test_total": 2,
        "test_together": 1,
    }
    assert sum(scores(toy, rel).values()) == 0


def test_a_bug_costs_only_its_own_task_and_the_integration_cell(toy):
    wrong_double = scores(toy, submission(toy, **{"self.values * 2": "self.values + 2"}))
    assert wrong_double == {"test_double": 0, "test_square": 2, "test_total": 2, "test_together": 0}
    wrong_square = scores(toy, submission(toy, **{"self.values ** 2": "self.values * 2"}))
    assert wrong_square == {"test_double": 2, "test_square": 0, "test_total": 2, "test_together": 0}


def test_a_stubbed_earlier_task_does_not_zero_a_later_one(toy):
    stubbed = scores(
        toy, submission(toy, **{"return self.values * 2": "raise NotImplementedError()"})
    )
    assert stubbed["test_total"] == 2 and stubbed["test_double"] == 0


def test_a_numpy_patch_adds_nothing_to_a_bug(toy):
    _, src, rel, _ = toy
    bug = next(m for m in mutants.all_mutants(src) if m.task == "square")
    alone = scores(toy, mutants.mutant_submission(rel, src, bug))
    patched = scores(toy, attacks.numpy_patch(rel, src, bug))
    assert sum(alone.values()) < 7 and patched == alone


def test_replacing_the_checks_in_a_solution_cell_changes_nothing(toy):
    """The set-up puts the checks back before each test cell (and the scan flags it)."""
    cheat = submission(
        toy,
        **{
            "self.values ** 2": "self.values * 3\n\n\n"
            "check_close = assert_array = lambda *a, **k: True"
        },
    )
    got = scores(toy, cheat)
    assert got["test_square"] == 0 and got["test_double"] == 2


def test_nbgrader_agrees_with_the_fast_grader(toy, tmp_path):
    module, src, rel, root = toy
    cases = {
        "solution": submission(toy),
        "blank": rel,
        "bug": submission(toy, **{"self.values ** 2": "self.values * 2"}),
        "importer": attacks.import_attack(module, rel),
    }
    fake = (
        "\n\n\nclass _Fake:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\n"
        "_grading = _Fake()\ncheck_close = assert_array = lambda *a, **k: True"
    )
    tamperer = submission(toy, **{"self.values ** 2": "self.values * 3" + fake})
    course = Course.scratch(tmp_path / "course", [module], repo=root)
    for student, nb in {**cases, "tamperer": tamperer}.items():
        course.submit_directly(student, module, nb)
    course.autograde(module)
    got = course.scores(module)
    for student, nb in cases.items():
        assert got[student].score == sum(scores(toy, nb).values()), student
    assert got["bug"].failed == ("test_square", "test_together")
    # Replacing the grader itself: the in-process verdicts cannot be trusted, so nbgrader's
    # FlagForReview step scores the notebook 0 until a human has looked.
    assert got["tamperer"].score == 0
    with Gradebook(course.db_url) as gb:
        marked = {s.student.id for s in gb.assignment_submissions("09_toy") if s.needs_manual_grade}
    assert "tamperer" in marked and not {"solution", "blank", "bug"} & marked


def test_the_build_refuses_replaceable_verdicts_and_heavy_integration(tmp_path):
    def module_with(body: str, integration: str = '["test_together"]'):
        folder = tmp_path / f"m{len(list(tmp_path.iterdir()))}" / "masters" / "09_toy"
        folder.mkdir(parents=True)
        (folder / "module.toml").write_text(
            'number = 9\nname = "toy"\ntitle = "Toy"\npackage = "tinytorch.core.toy"\n'
            f"integration = {integration}\n"
        )
        (folder / "toy.py").write_text(body)
        shutil.copytree(REPO / "masters" / "shared", folder.parent / "shared")
        return load_module(folder)

    with pytest.raises(MasterError, match="np.allclose"):
        to_source_notebook(
            module_with(TOY.replace("check_close(Numbers([-3.0", "np.allclose(Numbers([-3.0"))
        )
    with pytest.raises(MasterError, match="at most 20%"):
        to_source_notebook(
            module_with(TOY.replace('"test_together" points=1', '"test_together" points=5'))
        )
    with pytest.raises(MasterError, match="has no test cell"):
        to_source_notebook(module_with(TOY.replace('id="test_square"', 'id="test_square_again"')))
