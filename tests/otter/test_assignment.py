"""The otter-grader assignments: what students get, what the autograder runs, the zip."""

from __future__ import annotations

import copy
import dataclasses
import zipfile

import nbformat
import pytest

from coursekit.modules import REPO, discover, find, graded_and_later
from coursekit.otter import assignment, tinytorch_otter
from coursekit.otter import gates as otter_gates
from tito import cells

MODULES = [m.assignment for m in discover()]


def _student(module):
    folder = assignment.module_dir(module)
    return nbformat.read(folder / "student" / module.notebook, 4)


def _roles(nb):
    return [(c.metadata.get("tinytorch") or {}).get("role") for c in nb.cells]


@pytest.mark.parametrize("name", MODULES)
def test_student_notebook_is_the_release_with_otter_checks(name):
    module = find(name)
    src = nbformat.read(REPO / "source" / name / module.notebook, 4)
    rel = nbformat.read(REPO / "release" / name / module.notebook, 4)
    nb = _student(module)
    assert nb.metadata["otter"]["assignment_name"] == name
    by_id = {c.id: c for c in nb.cells}
    assert by_id["otter_init"].source.endswith(f'grader = otter.Notebook("{module.notebook}")')
    assert "grader.export(" in by_id["otter_export"].source
    for cell in rel.cells:
        mine = by_id[cell.id]
        if cells.is_test(cell):
            assert mine.source == f'grader.check("{assignment.question(cell.id)}")'
            assert mine.metadata["editable"] is False
        else:  # stubs, prose and given cells exactly as nbgrader releases them
            assert mine.source == cell.source
    questions = {assignment.question(c.id) for c in src.cells if cells.is_test(c)}
    tests = {p.stem for p in (assignment.module_dir(module) / "student" / "tests").glob("*.py")}
    assert tests == questions


@pytest.mark.parametrize("name", MODULES)
def test_nothing_secret_or_later_is_shipped(name):
    problems, leaks = otter_gates.static_problems(find(name))
    # modules not yet converted to the shared checks fail that structure rule under both graders
    problems = [p for p in problems if "no shared checks cell" not in p]
    assert problems == [] and leaks == []


def test_shipped_package_holds_only_earlier_modules():
    modules = discover()
    for module in modules:
        folder = assignment.module_dir(module)
        shipped = {
            p.relative_to(folder / "student").as_posix()
            for p in (folder / "student" / "tinytorch").rglob("*.py")
        }
        earlier = {m.package_file.as_posix() for m in modules if m.number < module.number}
        assert {s for s in shipped if not s.endswith("__init__.py")} == earlier
        later = graded_and_later(module.assignment)
        assert not any(p.replace("/", ".").removesuffix(".py") in later for p in shipped)


def test_corpus_files_the_tests_read_are_shipped_byte_for_byte():
    module = find("10_tokenization")
    assert "shakespeare/train.txt" in module.data
    folder = assignment.module_dir(module)
    contents = assignment.zip_contents(folder / assignment.zip_name(module))
    for relative in module.data:
        original = (REPO / "datasets" / relative).read_bytes()
        assert (folder / "student" / relative).read_bytes() == original
        assert (folder / "autograder" / relative).read_bytes() == original
        assert contents[f"files/{relative}"] == original


def test_a_missing_corpus_file_is_named(tmp_path):
    module = dataclasses.replace(find("10_tokenization"), data=("shakespeare/nope.txt",))
    with pytest.raises(FileNotFoundError, match="shakespeare/nope.txt"):
        assignment.corpus_files(module)


def test_zip_is_deterministic_and_holds_the_autograder(tmp_path):
    module = find("02_activations")
    folder = assignment.module_dir(module)
    shipped = ["tinytorch"]
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    assignment.write_zip(folder / "autograder", a, shipped)
    assignment.write_zip(folder / "autograder", b, shipped)
    assert a.read_bytes() == b.read_bytes()
    committed = assignment.zip_contents(folder / assignment.zip_name(module))
    assert assignment.zip_contents(a) == committed
    with zipfile.ZipFile(a) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert {i.date_time for i in zf.infolist()} == {assignment.ZIP_TIME}
    for required in (
        "run_autograder",
        "setup.sh",
        "run_otter.py",
        "environment.yml",
        "otter_config.json",
        "tinytorch_otter.py",
        "template.ipynb",
        "tests.json",
        "files/tinytorch/core/tensor.py",
    ):
        assert required in committed, required
    env = committed["environment.yml"].decode()
    assert "otter-grader[grading,plugins]==7.0.0" in env and "python=3.11" in env
    assert "numpy==2.4.6" in env
    assert not any("activations" in n for n in committed if n.startswith("files/"))


def test_test_files_hold_the_test_cells_exactly():
    module = find("01_tensor")
    src = nbformat.read(REPO / "source" / module.assignment / module.notebook, 4)
    folder = assignment.module_dir(module)
    for cell in assignment.test_cells(src):
        name = assignment.question(cell.id)
        full = assignment.test_file_constants(
            (folder / "autograder/tests" / f"{name}.py").read_text()
        )
        public = assignment.test_file_constants(
            (folder / "student/tests" / f"{name}.py").read_text()
        )
        assert full["CELL"] == cell.source and full["GRADING"] is True
        assert full["SETUP"].startswith("### BEGIN HIDDEN TESTS\n# hidden: set-up")
        assert public["SETUP"] == public["CELL"] == "" and public["GRADING"] is False
        words = {w for _, _, w in full["HIDDEN"]}
        assert words and all(w in cell.source for w in words)


# --- the plugin: given cells put back, answers kept ------------------------------------------


def _template():
    return nbformat.read(
        assignment.module_dir(find("02_activations")) / "autograder" / "template.ipynb", 4
    )


def _by_role(nb, role):
    return [c for c in nb.cells if (c.metadata.get("tinytorch") or {}).get("role") == role]


def test_plugin_puts_given_cells_back_and_keeps_answers():
    template = _template()
    submission = copy.deepcopy(template)
    checks = _by_role(submission, "checks")[0]
    checks.source = "check_close = lambda *a, **k: True"
    answer = _by_role(submission, "answer")[0]
    answer.source = "# my answer\n" + answer.source
    check = _by_role(submission, "check")[0]
    submission.cells.remove(check)  # a deleted check cell
    graded = tinytorch_otter.graded_notebook(submission, template)
    assert _by_role(graded, "checks")[0].source == _by_role(template, "checks")[0].source
    assert [c.source for c in _by_role(graded, "check")] == [
        c.source for c in _by_role(template, "check")
    ]
    assert _by_role(graded, "answer")[0].source.startswith("# my answer\n")
    # nothing after the last check cell runs
    assert (graded.cells[-1].metadata["tinytorch"]["role"]) == "check"


def test_plugin_never_runs_student_code_before_the_checks():
    template = _template()
    submission = copy.deepcopy(template)
    early = nbformat.v4.new_code_cell("import numpy as np\nnp.allclose = lambda *a, **k: True")
    submission.cells.insert(1, early)  # right after the otter set-up cell
    answer = _by_role(submission, "answer")[0]
    extra = nbformat.v4.new_code_cell("helper = 1")
    submission.cells.insert(submission.cells.index(answer) + 1, extra)
    duplicate = copy.deepcopy(answer)
    duplicate.source = "raise RuntimeError('second copy')"
    submission.cells.append(duplicate)
    graded = tinytorch_otter.graded_notebook(submission, template)
    sources = [c.source for c in graded.cells]
    checks_at = next(
        i
        for i, c in enumerate(graded.cells)
        if c.metadata.get("tinytorch", {}).get("role") == "checks"
    )
    assert sources.index(early.source) == checks_at + 1
    assert sources.index(extra.source) == sources.index(answer.source) + 1
    assert duplicate.source not in sources


def test_graded_checks_protect_and_call_otter_directly():
    checks = _by_role(_template(), "check")
    assert all(c.source.startswith('_grading.protect()\n__import__("otter")') for c in checks)


def test_plugin_keeps_only_the_notebook_and_what_the_autograder_ships(tmp_path):
    source, here = tmp_path / "source", tmp_path / "submission"
    (source / "files" / "tinytorch" / "core").mkdir(parents=True)
    (source / "files" / "tinytorch" / "__init__.py").write_text("# shipped\n")
    (source / "files" / "tinytorch" / "core" / "tensor.py").write_text("# shipped tensor\n")
    (here / "tests").mkdir(parents=True)
    (here / "tests" / "relu.py").write_text("# a test\n")
    (here / "activations.ipynb").write_text("{}")
    (here / "numpy.py").write_text("allclose = lambda *a, **k: True\n")
    (here / "tinytorch" / "core").mkdir(parents=True)
    (here / "tinytorch" / "__init__.py").write_text("# the student's\n")
    (here / "tinytorch" / "core" / "activations.py").write_text("# the student's\n")
    plugin = tinytorch_otter.GradeLikeNbgrader(str(here / "activations.ipynb"), {}, {})
    plugin.before_grading(None)
    left = sorted(p.relative_to(here).as_posix() for p in here.rglob("*") if p.is_file())
    assert left == [
        "activations.ipynb",
        "tests/relu.py",
        "tinytorch/__init__.py",
        "tinytorch/core/tensor.py",
    ]
    assert (here / "tinytorch" / "__init__.py").read_text() == "# shipped\n"
    assert plugin.removed == ["numpy.py"]
    assert "numpy.py" in plugin.generate_report()
