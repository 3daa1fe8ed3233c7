"""A corpus of broken and hostile submissions, graded through the course's grading command.

One scratch class holds every case next to honest students. For each case the expected
outcome is asserted: the right score, or a clear flag for a human; and for the batch: every
other student graded correctly, and source/, the exchange and other students' folders
untouched.
"""

import hashlib
import json

import nbformat
import pytest
from nbgrader.api import Gradebook

from coursekit.course import Course
from coursekit.grading import flags as flag_file
from coursekit.grading.batch import grade_class, write_flags
from coursekit.modules import find
from coursekit.quality import attacks, mutants

pytestmark = pytest.mark.xdist_group("nbgrader")
MODULE = "01_tensor"
FULL = 20.0


def with_code(sols, rel, extra: str, before: bool = False):
    """The correct solution, with code added after (or before) the Tensor class."""
    cell = sols["tensor_class"]
    code = f"{extra}\n{cell}" if before else f"{cell}\n{extra}"
    return mutants.submission(rel, {**sols, "tensor_class": code})


def edit_cells(nb, edit):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    edit(nb)
    return nb


def cell_by_id(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def to_markdown(cell):
    """What an editor does when a student switches a code cell to markdown."""
    cell.cell_type = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    module = find(MODULE)
    root = tmp_path_factory.mktemp("hostile")
    course = Course.scratch(root, [module])
    # Short cell timeout so the never-ending loop costs seconds, not minutes.
    with open(root / "nbgrader_config.py", "a") as f:
        f.write("\nc.Execute.timeout = 10\n")
    src, rel = course.source_notebook(module), course.release_notebook(module)
    sols = mutants.solution_sources(src)
    perfect = mutants.submission(rel, sols)
    wrong_matmul = sols["tensor_class"].replace("np.matmul(", "np.multiply(")
    assert wrong_matmul != sols["tensor_class"]
    exchange = root / "exchange" / "tinytorch" / "outbound" / MODULE
    exchange.mkdir(parents=True)
    (exchange / "tensor.ipynb").write_text("released notebook")
    secret = root / "source" / MODULE / "tensor.ipynb"
    gradebook = root / "gradebook" / "gradebook.db"
    victim = root / "submitted" / "victim" / MODULE
    cases = {
        "honest": perfect,
        "victim": perfect,
        "blank": rel,
        "loop": with_code(sols, rel, "while True:\n    pass"),
        "memory_bomb": with_code(sols, rel, "import numpy as _np\n_hog = [_np.ones(10**9)]"),
        "fork_bomb": with_code(
            sols,
            rel,
            "import os, time\nfor _ in range(100000):\n    if os.fork() == 0:\n"
            "        time.sleep(300)\n        os._exit(0)",
        ),
        "sys_exit": with_code(sols, rel, "import sys\nsys.exit(0)"),
        "os_exit": with_code(sols, rel, "import os\nos._exit(1)"),
        "kill_kernel": with_code(
            sols, rel, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
        ),
        "flood": with_code(sols, rel, "print('x' * 5_000_000)"),
        "deleted_test": edit_cells(
            perfect, lambda nb: nb.cells.remove(cell_by_id(nb, "test_tensor_matmul"))
        ),
        "edited_test": edit_cells(
            mutants.submission(
                rel,
                {
                    **sols,
                    "tensor_class": sols["tensor_class"].replace("np.matmul(", "np.multiply("),
                },
            ),
            lambda nb: setattr(cell_by_id(nb, "test_tensor_matmul"), "source", "assert True"),
        ),
        "duplicated_test": edit_cells(
            perfect,
            lambda nb: nb.cells.append(nbformat.from_dict(cell_by_id(nb, "test_tensor_init"))),
        ),
        "reordered_tests": edit_cells(
            perfect,
            lambda nb: nb.cells.append(
                nb.cells.pop(nb.cells.index(cell_by_id(nb, "test_tensor_init")))
            ),
        ),
        "stripped_metadata": edit_cells(
            perfect, lambda nb: [setattr(c, "metadata", {}) for c in nb.cells]
        ),
        "test_as_markdown": edit_cells(
            perfect, lambda nb: to_markdown(cell_by_id(nb, "test_tensor_memory"))
        ),
        "eq_always_true": with_code(
            sols,
            rel,
            "class _Yes:\n    def __eq__(self, other):\n        return True\n"
            "Tensor.__add__ = lambda self, other: _Yes()\nTensor.sum = lambda self, *a, **k: _Yes()",
        ),
        "patch_numpy": mutants.submission(
            rel,
            {**sols, "tensor_class": wrong_matmul + "\nnp.allclose = lambda *a, **k: True\n"},
        ),
        "wrong_matmul": mutants.submission(rel, {**sols, "tensor_class": wrong_matmul}),
        "patch_everything": mutants.submission(
            rel, {**sols, "tensor_class": wrong_matmul + "\n" + attacks.NUMPY_PATCH}
        ),
        "importer": attacks.import_attack(module, rel),
        "read_secrets": with_code(
            sols,
            rel,
            f"for _p in [{str(secret)!r}, {str(gradebook)!r}]:\n"
            "    try:\n        open(_p, 'rb').read()\n        open('LEAKED', 'w').write(_p)\n"
            "    except OSError:\n        pass",
        ),
        "write_gradebook": with_code(
            sols,
            rel,
            f"try:\n    open({str(gradebook)!r}, 'ab').write(b'x')\n    open('WROTE', 'w')\n"
            "except OSError:\n    pass",
        ),
        "write_other_student": with_code(
            sols,
            rel,
            f"try:\n    open({str(victim / 'tensor.ipynb')!r}, 'w').write('{{}}')\n"
            "except OSError:\n    pass",
        ),
        "network": with_code(
            sols,
            rel,
            "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\n"
            "    open('NET', 'w')\nexcept OSError:\n    pass",
        ),
        "other_module": mutants.submission(
            nbformat.read(
                find("02_activations").master_dir.parent.parent
                / "release"
                / "02_activations"
                / "activations.ipynb",
                4,
            ),
            {},
        ),
    }
    for student, nb in cases.items():
        course.submit_directly(student, module, nb)
    folders = {n: root / "submitted" / n / MODULE for n in cases}
    (folders["blank"] / "extra.py").write_text("import os")
    (folders["honest"] / "numpy.py").write_text("raise SystemExit('shadowed numpy')")
    (root / "submitted" / "invalid_json" / MODULE).mkdir(parents=True)
    (root / "submitted" / "invalid_json" / MODULE / "tensor.ipynb").write_text("{ not json")
    renamed = root / "submitted" / "renamed" / MODULE
    renamed.mkdir(parents=True)
    nbformat.write(perfect, renamed / "tensor-Copy1.ipynb")
    missing = root / "submitted" / "missing_notebook" / MODULE
    missing.mkdir(parents=True)
    (missing / "notes.txt").write_text("forgot the notebook")
    with Gradebook(course.db_url) as gb:  # on the roster, like everyone here
        for student in ("invalid_json", "renamed", "missing_notebook"):
            gb.update_or_create_student(student)
    before = {
        "source": tree_digest(root / "source"),
        "exchange": tree_digest(root / "exchange"),
        "victim": tree_digest(victim),
    }
    run = grade_class(course, module, jobs=2)
    return course, module, run, before, root


def test_every_submission_is_graded_or_flagged(graded):
    course, module, run, _, root = graded
    scores = course.scores(module)
    students = {p.name for p in (root / "submitted").iterdir()}
    outcomes = {o.student: o for o in run.graded}
    assert set(outcomes) == students
    for student, outcome in outcomes.items():
        assert student in scores or outcome.flags or outcome.error, f"{student}: no score, no flag"


@pytest.mark.parametrize(
    "student, score",
    [
        ("honest", FULL),  # extra numpy.py ignored, not imported
        ("victim", FULL),
        ("blank", 0.0),
        ("loop", FULL),  # the loop is interrupted; the class above it is defined
        ("memory_bomb", FULL),  # MemoryError in its own cell
        ("fork_bomb", FULL),  # fork fails at the process limit
        ("sys_exit", FULL),
        ("kill_kernel", FULL),  # PID 1 of its namespace cannot SIGKILL itself
        ("flood", FULL),
        ("deleted_test", FULL),  # restored test, correct code
        ("edited_test", FULL - 3),  # the edited matmul test is restored and fails
        ("duplicated_test", FULL),
        ("stripped_metadata", FULL),
        ("test_as_markdown", FULL),
        ("eq_always_true", FULL - 4 - 4),  # arithmetic and reductions compare values
        ("patch_numpy", FULL - 3),  # patched np.allclose cannot save a wrong matmul
        ("wrong_matmul", FULL - 3),  # the bug alone
        ("patch_everything", FULL - 3),  # every comparison patched: what the bug alone scores
        ("importer", 0.0),  # the graded module's reference is absent while it is graded
        ("read_secrets", FULL),
        ("write_gradebook", FULL),
        ("write_other_student", FULL),
        ("network", FULL),
        ("renamed", FULL),
        ("invalid_json", 0.0),
        ("missing_notebook", 0.0),
        ("other_module", 0.0),
    ],
)
def test_each_case_gets_its_expected_score(graded, student, score):
    course, module, _, _, _ = graded
    assert course.scores(module)[student].score == score


@pytest.mark.parametrize(
    "student, words",
    [
        ("os_exit", "grading failed"),
        ("blank", "extra files ignored: extra.py"),
        ("honest", "extra files ignored: numpy.py"),
        ("deleted_test", "test cell test_tensor_matmul was deleted"),
        ("edited_test", "test cell test_tensor_matmul was edited"),
        ("duplicated_test", "appears 2 times; graded once"),
        ("reordered_tests", "test cells were moved"),
        ("stripped_metadata", "cell metadata was missing"),
        ("test_as_markdown", "turned into markdown"),
        ("patch_numpy", "changes np.allclose"),
        ("patch_everything", "changes np.testing.assert_allclose"),
        ("importer", "imports tinytorch.core.tensor, the reference of a module not yet graded"),
        ("eq_always_true", "__eq__ always returns True"),
        ("network", "imports socket"),
        ("invalid_json", "not a readable notebook"),
        ("renamed", "renamed to tensor-Copy1.ipynb"),
        ("missing_notebook", "is missing"),
        ("other_module", "is from 02_activations"),
    ],
)
def test_cases_that_need_a_human_are_flagged_in_words(graded, student, words):
    _, _, run, _, _ = graded
    outcome = next(o for o in run.graded if o.student == student)
    text = " | ".join(outcome.flags + [f"grading failed: {outcome.error}"] * (not outcome.ok))
    assert words in text, f"{student}: {text}"


def test_no_attack_left_a_trace(graded):
    _, _, _, before, root = graded
    autograded = root / "autograded"
    for marker in ("LEAKED", "WROTE", "NET"):
        assert not list(autograded.rglob(marker)), f"{marker} written by student code"
    assert before["source"] == tree_digest(root / "source")
    assert before["exchange"] == tree_digest(root / "exchange")
    assert before["victim"] == tree_digest(root / "submitted" / "victim" / MODULE)


def test_huge_output_is_truncated_in_the_autograded_notebook(graded):
    _, _, _, _, root = graded
    size = (root / "autograded" / "flood" / MODULE / "tensor.ipynb").stat().st_size
    assert size < 1_000_000


def test_flags_survive_an_unrelated_regrade(graded):
    """The renamed notebook's flag is still there after another student is regraded."""
    course, module, run, _, _ = graded
    write_flags(course, module, run)
    again = grade_class(course, module, jobs=1, only=["honest"], force=True)
    path = write_flags(course, module, again)
    open_flags = flag_file.open_by_student(flag_file.load(path))
    assert "notebook renamed to tensor-Copy1.ipynb; graded as tensor.ipynb" in open_flags["renamed"]
    assert open_flags["honest"].count("extra files ignored: numpy.py") == 1
    assert course.scores(module)["honest"].score == FULL


def test_nbgraders_own_step_marks_the_suspicious_for_manual_review(graded):
    """The FlagForReview step inside autograde: a TA using nbgrader alone sees the flags."""
    course, module, _, _, _ = graded
    with Gradebook(course.db_url) as gb:
        marked = {
            s.student.id
            for s in gb.assignment_submissions(module.assignment)
            if s.needs_manual_grade
        }
    assert {"patch_numpy", "patch_everything", "importer", "eq_always_true", "network"} <= marked
    assert not {"honest", "victim", "wrong_matmul", "blank"} & marked
