"""A student's path through the course, walked as a new user would on JupyterHub.

A scratch course releases modules 01-04 through nbgrader's exchange. Alice fetches each
module into her own home, fills in the solutions, runs `tito test`, exports her code into
her own package, and each next module's notebook imports her earlier modules from it (her
Tensor carries a marker the next notebooks check). She runs the perceptron milestone on her
package and submits. Bob leaves module 02 blank: tito refuses to export it, a milestone that
needs it stops with exit 2, and once the instructor publishes the 02 solution he installs it
and goes on. tito always runs as a command (`python -m tito`) with HOME set to the student's.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from coursekit.course import Course
from coursekit.modules import REPO, Module, load_module
from coursekit.quality import mutants
from coursekit.simulation.students import StudentHome, hub_environment
from coursekit.ta.solutions import publish_solutions
from coursekit.tools import tool_env, write_notebook
from tito import export, milestones


@functools.cache
def walked_modules() -> tuple[Module, ...]:
    """The released modules up to 04, in course order, each loaded from its master.

    Released modules (release/NN_name/) rather than every master: a master still being
    written has no release yet, and students walk what is released.
    """
    released = sorted(p.name for p in (REPO / "release").iterdir() if p.is_dir())
    modules = [load_module(REPO / "masters" / name) for name in released]
    return tuple(m for m in modules if m.number <= 4)


MARKER = "alice-own-tensor-7f3a"
# A milestone that needs Module 02. The course's milestones so far need Module 01 only, so
# the tests add this one to a copy of milestones/ (TINYTORCH_MILESTONES points tito at it).
RELU_MILESTONE = '''"""2011, ReLU: a test milestone that needs Module 02."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import framework_banner, need  # noqa: E402

if __name__ == "__main__":
    framework_banner()
    Tensor = need("Tensor", "tinytorch.core.tensor", "Module 01")
    ReLU = need("ReLU", "tinytorch.core.activations", "Module 02")
    sys.exit(0 if ReLU()(Tensor([-1.0, 2.0])).data.tolist() == [0.0, 2.0] else 1)
'''


def by_number(number: int) -> Module:
    return next(m for m in walked_modules() if m.number == number)


# --- helpers, also used by tests/test_guides.py ---------------------------------------------


def student_env(home: StudentHome, **extra: str) -> dict[str, str]:
    """The environment of a student's terminal on the hub: their HOME and user, and what the
    hub's spawner sets for everyone (the course id and the exchange); nothing else of the
    course's."""
    env = tool_env(HOME=str(home.home), USER=home.id, LOGNAME=home.id)
    for name in ("PYTHONPATH", "TINYTORCH_HOME", "TINYTORCH_MILESTONES", "IPYTHONDIR"):
        env.pop(name, None)
    env.pop("JUPYTER_CONFIG_DIR", None)
    env.update(hub_environment(home.course))
    env["COLUMNS"] = "160"  # a wide terminal: rich tables keep one line per row
    env.update(extra)
    return env


def tito(home: StudentHome, *args: str, cwd: Path | None = None, **env: str):
    """`python -m tito ARGS` in the student's home, as the student."""
    return subprocess.run(
        [sys.executable, "-m", "tito", *args],
        cwd=cwd or home.home,
        env=student_env(home, **env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def student_python(home: StudentHome, code: str, cwd: Path | None = None, **env: str):
    """Run Python code as the student would in a terminal or a notebook's folder."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd or home.home,
        env=student_env(home, **env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def solved(course: Course, module: Module) -> nbformat.NotebookNode:
    """The release with every solution cell filled in with the instructor's code."""
    source = course.source_notebook(module)
    return mutants.submission(course.release_notebook(module), mutants.solution_sources(source))


def package_root(home: StudentHome) -> Path:
    return home.home / "tinytorch-package"


def released_course(
    dest: Path, modules: list[Module], release: bool = True, schedule: dict | None = None
) -> Course:
    """A scratch course for `modules` with their solutions built; released unless told not.

    The schedule: `schedule`, else every module released 30 days ago and due 10 days ago,
    so its late window has closed and its solution can be published.
    """
    now = dt.datetime.now(dt.UTC)
    past = {"release": now - dt.timedelta(days=30), "due": now - dt.timedelta(days=10)}
    schedule = schedule or {m.assignment: past for m in modules}
    course = Course.scratch(dest, modules, schedule=schedule)
    for module in modules:
        shutil.copytree(
            REPO / "solutions" / module.assignment, dest / "solutions" / module.assignment
        )
        if release:
            course.nbgrader("release_assignment", module.assignment, "--force")
    return course


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


# --- the walk -----------------------------------------------------------------------------


@dataclass
class Walk:
    course: Course
    home: StudentHome
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    outbound: Path | None = None  # where the published solution went (Bob's walk)


def with_marker(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Alice's Tensor notebook: her first export solution cell also sets STUDENT_MARKER."""
    cell = next(
        c
        for c in nb.cells
        if c.metadata.get("tinytorch", {}).get("export") and c.metadata["nbgrader"]["solution"]
    )
    cell.source += f"\n\n\nSTUDENT_MARKER = {MARKER!r}\n"
    return nb


def with_marker_check(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A cell Alice adds before the first test: it fails unless her own Tensor is imported."""
    first_test = next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade")
    )
    check = nbformat.v4.new_code_cell(
        "import tinytorch.core.tensor as own_tensor\n\n"
        f"assert getattr(own_tensor, 'STUDENT_MARKER', None) == {MARKER!r}, (\n"
        "    f'tinytorch.core.tensor came from {own_tensor.__file__}, not from my package'\n"
        ")\n"
    )
    nb.cells.insert(first_test, check)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    return released_course(tmp_path_factory.mktemp("course") / "course", list(walked_modules()))


@pytest.fixture(scope="module")
def relu_milestones(tmp_path_factory) -> Path:
    """A copy of the course's milestones plus one that needs Module 02."""
    folder = tmp_path_factory.mktemp("milestones") / "milestones"
    shutil.copytree(REPO / "milestones", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "99_2011_relu").mkdir()
    (folder / "99_2011_relu" / "relu_demo.py").write_text(RELU_MILESTONE)
    return folder


@pytest.fixture(scope="module")
def alice(course, tmp_path_factory) -> Walk:
    """Alice walks every module: fetch, solve, test, export, next module; milestone; submit."""
    modules = walked_modules()
    walk = Walk(course, StudentHome(course, "alice", tmp_path_factory.mktemp("homes")))
    home = walk.home
    for module in modules:
        a = module.assignment
        folder = home.fetch(a)
        nb = solved(course, module)
        nb = with_marker(nb) if module.number == 1 else with_marker_check(nb)
        write_notebook(nb, folder / module.notebook)
        walk.steps[f"test {a}"] = tito(home, "test", a)
        if module is modules[-1]:
            # The notebook's export step, as a cell in the notebook runs it (cwd = its folder).
            walk.steps[f"export {a}"] = student_python(
                home, "from tito.export import export_notebook; export_notebook()", cwd=folder
            )
        else:
            walk.steps[f"export {a}"] = tito(home, "export", a)
        walk.steps[f"import {a}"] = student_python(
            home,
            f"import {module.package} as m; print(m.__file__)",
            PYTHONPATH=str(package_root(home)),
        )
    walk.steps["setup"] = tito(home, "setup", "--write")
    walk.steps["kernel"] = run_in_kernel(home, home.home / modules[1].assignment, modules[1])
    walk.steps["milestone"] = tito(home, "milestone", "perceptron", "--seed", "1")
    walk.steps["status"] = tito(home, "status")
    for module in modules:
        home.submit(module.assignment)
    course.nbgrader("collect", modules[0].assignment, "--CollectApp.check_owner=False")
    return walk


def run_in_kernel(home: StudentHome, folder: Path, module: Module) -> subprocess.CompletedProcess:
    """Execute the student's notebook in a real Jupyter kernel started with the student's HOME."""
    code = (
        "import nbformat, nbclient\n"
        f"nb = nbformat.read({str(folder / module.notebook)!r}, 4)\n"
        f"nbclient.NotebookClient(nb, kernel_name='python3', timeout=300, "
        f"resources={{'metadata': {{'path': {str(folder)!r}}}}}).execute()\n"
        "print('kernel ran every cell')\n"
    )
    return student_python(home, code)


@pytest.mark.xdist_group("nbgrader")
def test_alice_passes_every_modules_visible_tests_outside_jupyter(alice):
    modules = walked_modules()
    for module in modules:
        result = alice.steps[f"test {module.assignment}"]
        assert result.returncode == 0, out(result)
        tests = sum(
            1
            for c in alice.course.release_notebook(module).cells
            if c.metadata.get("nbgrader", {}).get("grade")
        )
        assert f"{tests}/{tests} visible tests passed" in result.stdout, out(result)


@pytest.mark.xdist_group("nbgrader")
def test_exports_land_in_alices_package_with_a_header(alice):
    modules = walked_modules()
    root = package_root(alice.home)
    for module in modules:
        result = alice.steps[f"export {module.assignment}"]
        assert result.returncode == 0, out(result)
        target = export.target_file(module.package, root)
        info = export.read_header(target)
        assert info is not None and info.origin == "own" and info.unfinished == ()
        assert info.notebook == f"~/{module.assignment}/{module.notebook}"
        nb = json.loads((alice.home.home / module.assignment / module.notebook).read_text())
        assert info.sha == export.sha(export.cells_by_package(nb)[module.package])
        imported = alice.steps[f"import {module.assignment}"]
        assert imported.returncode == 0, out(imported)
        assert Path(imported.stdout.strip()) == target
    assert (root / "tinytorch" / "__init__.py").is_file()
    assert MARKER in (root / "tinytorch" / "core" / "tensor.py").read_text()


@pytest.mark.xdist_group("nbgrader")
def test_later_modules_import_alices_own_tensor(alice):
    modules = walked_modules()
    tensor = package_root(alice.home) / "tinytorch" / "core" / "tensor.py"
    for module in modules[1:]:
        result = alice.steps[f"test {module.assignment}"]
        # Her added cell asserts the marker; tito also lists where tinytorch came from.
        assert "(code cell, not a test)" not in result.stdout, out(result)
        assert f"imported tinytorch.core.tensor from ~/{tensor.relative_to(alice.home.home)}" in (
            result.stdout
        )
        assert str(REPO / "tinytorch") not in result.stdout


@pytest.mark.xdist_group("nbgrader")
def test_a_jupyter_kernel_imports_alices_package_after_tito_setup(alice):
    setup = alice.steps["setup"]
    assert setup.returncode == 0 and "00-tinytorch.py" in setup.stdout, out(setup)
    kernel = alice.steps["kernel"]
    assert kernel.returncode == 0 and "kernel ran every cell" in kernel.stdout, out(kernel)


@pytest.mark.xdist_group("nbgrader")
def test_perceptron_milestone_runs_on_alices_package(alice):
    result = alice.steps["milestone"]
    assert result.returncode == 0, out(result)
    folder = package_root(alice.home) / "tinytorch"
    assert f"Framework: tinytorch at {folder} (your own package)" in result.stdout


@pytest.mark.xdist_group("nbgrader")
def test_status_shows_every_module_exported_and_tested(alice):
    modules = walked_modules()
    result = alice.steps["status"]
    assert result.returncode == 0, out(result)
    for module in modules:
        row = next(line for line in result.stdout.splitlines() if module.assignment in line)
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        assert cells[1] == (f"~{module.hours:g} h, {module.difficulty}/5" if module.hours else "-")
        assert cells[2:5] == ["yes", "yes", "yes"], row
        assert cells[5].endswith("passed") and cells[6] == "own", row
        done, total = cells[5].split()[0].split("/")
        assert done == total


@pytest.mark.xdist_group("nbgrader")
def test_status_notices_a_notebook_changed_after_export(alice, tmp_path):
    modules = walked_modules()
    home = alice.home
    notebook = home.home / modules[0].assignment / modules[0].notebook
    original = notebook.read_text()
    nb = nbformat.read(notebook, 4)
    cell = next(c for c in nb.cells if c.metadata.get("tinytorch", {}).get("export"))
    cell.source += "\n# a later edit\n"
    write_notebook(nb, notebook)
    try:
        result = tito(home, "status")
        row = next(line for line in result.stdout.splitlines() if modules[0].assignment in line)
        assert "no: notebook" in row and "(notebook" in row, result.stdout
    finally:
        notebook.write_text(original)


@pytest.mark.xdist_group("nbgrader")
def test_alices_submissions_reach_the_course(alice):
    modules = walked_modules()
    inbound = alice.course.exchange / "tinytorch" / "inbound"
    for module in modules:
        assert list(inbound.glob(f"alice+{module.assignment}+*")), module.assignment
    first = modules[0]
    submitted = alice.course.root / "submitted" / "alice" / first.assignment / first.notebook
    assert MARKER in submitted.read_text()


# --- Bob: a module left blank, then its released solution ---------------------------------


@pytest.fixture(scope="module")
def bob(course, relu_milestones, tmp_path_factory) -> Walk:
    walk = Walk(course, StudentHome(course, "bob", tmp_path_factory.mktemp("homes")))
    home, steps = walk.home, walk.steps
    milestones_env = {"TINYTORCH_MILESTONES": str(relu_milestones)}
    tensor, activations, layers = by_number(1), by_number(2), by_number(3)
    write_notebook(solved(course, tensor), home.fetch(tensor.assignment) / tensor.notebook)
    steps["export 01"] = tito(home, "export", tensor.assignment)
    home.fetch(activations.assignment)  # and leaves it as released
    a = activations.assignment
    steps["test 02"] = tito(home, "test", a)
    steps["export 02"] = tito(home, "export", a)
    steps["milestone missing"] = tito(home, "milestone", "relu-demo", **milestones_env)
    steps["export 02 --force"] = tito(home, "export", a, "--force")
    steps["milestone unfinished"] = tito(home, "milestone", "relu-demo", **milestones_env)
    steps["install before publish"] = tito(home, "install-solution", a)
    walk.outbound = publish_solutions(course.root, a)
    home.fetch(f"{a}-solution")
    steps["install-solution"] = tito(home, "install-solution", a)
    steps["milestone solved"] = tito(home, "milestone", "relu-demo", **milestones_env)
    write_notebook(solved(course, layers), home.fetch(layers.assignment) / layers.notebook)
    steps["test 03"] = tito(home, "test", layers.assignment)
    steps["status"] = tito(home, "status")
    return walk


@pytest.mark.xdist_group("nbgrader")
def test_blank_module_fails_its_tests_and_is_not_exported(bob):
    test = bob.steps["test 02"]
    assert test.returncode == 1 and "0/" in test.stdout and "NotImplementedError" in test.stdout
    refused = bob.steps["export 02"]
    assert refused.returncode == 1, out(refused)
    assert "not exported" in refused.stderr and "--force" in refused.stderr
    assert "relu" in refused.stderr  # names the unfinished task


@pytest.mark.xdist_group("nbgrader")
def test_milestone_needing_a_missing_or_unfinished_module_exits_2(bob):
    missing = bob.steps["milestone missing"]
    assert missing.returncode == 2, out(missing)
    assert "needs Module 02 (tinytorch.core.activations), which is not in your package" in (
        missing.stderr
    )
    assert "tito export 02_activations" in missing.stderr
    forced = bob.steps["export 02 --force"]
    assert forced.returncode == 0 and "unfinished tasks exported" in forced.stdout
    unfinished = bob.steps["milestone unfinished"]
    assert unfinished.returncode == 2, out(unfinished)
    assert "Module 02 (tinytorch.core.activations), which is unfinished" in unfinished.stderr


@pytest.mark.xdist_group("nbgrader")
def test_published_solution_has_the_layout_and_permissions_of_a_release(bob):
    outbound = bob.outbound
    release = outbound.parent / "02_activations"
    assert outbound.name == "02_activations-solution"
    assert sorted(p.name for p in outbound.iterdir()) == sorted(p.name for p in release.iterdir())
    for new, old in (
        (outbound, release),
        *zip(sorted(outbound.iterdir()), sorted(release.iterdir()), strict=True),
    ):
        assert stat.S_IMODE(new.stat().st_mode) == stat.S_IMODE(old.stat().st_mode), new


@pytest.mark.xdist_group("nbgrader")
def test_installed_solution_lets_bob_go_on(bob):
    early = bob.steps["install before publish"]
    assert (
        early.returncode == 2
        and "nbgrader fetch_assignment 02_activations-solution" in early.stderr
    )
    installed = bob.steps["install-solution"]
    assert installed.returncode == 0, out(installed)
    target = package_root(bob.home) / "tinytorch" / "core" / "activations.py"
    info = export.read_header(target)
    assert info.origin == "solution" and info.unfinished == ()
    assert info.notebook == "~/02_activations-solution/activations.ipynb"
    assert (target.parent / "activations.py.own").is_file()  # his forced export, kept
    solved_run = bob.steps["milestone solved"]
    assert solved_run.returncode == 0, out(solved_run)
    assert "(your own package)" in solved_run.stdout
    assert bob.steps["test 03"].returncode == 0, out(bob.steps["test 03"])
    row = next(line for line in bob.steps["status"].stdout.splitlines() if "02_activations" in line)
    assert "released solution" in row and "yes + solution" in row


# --- tito on its own ------------------------------------------------------------------------


def test_tito_refuses_to_export_into_a_course_repository(tmp_path, course):
    home = StudentHome(course, "carol", tmp_path / "homes")
    module = by_number(1)
    folder = home.home / module.assignment
    folder.mkdir()
    shutil.copy(REPO / "solutions" / module.assignment / module.notebook, folder)
    repository = tmp_path / "course-repo"
    (repository / "masters").mkdir(parents=True)
    result = tito(home, "export", module.assignment, TINYTORCH_HOME=str(repository))
    assert result.returncode == 2 and "course repository" in result.stderr, out(result)
    assert not (repository / "tinytorch").exists()


def test_tito_commands_have_help_and_usage_errors_exit_2(tmp_path, course):
    home = StudentHome(course, "dan", tmp_path / "homes")
    for command in ("status", "test", "export", "install-solution", "milestone", "setup"):
        result = tito(home, command, "--help")
        assert result.returncode == 0 and "usage: tito " + command in result.stdout
    assert tito(home).returncode == 2
    assert tito(home, "test").returncode == 2  # the module is missing
    missing = tito(home, "test", "01_tensor")
    assert missing.returncode == 2 and "nbgrader fetch_assignment 01_tensor" in missing.stderr
    unknown = tito(home, "milestone", "no-such-milestone")
    assert unknown.returncode == 2 and "perceptron" in unknown.stderr


def test_milestone_requirements_are_read_from_the_scripts():
    found = {m.name: m for m in milestones.discover(REPO / "milestones")}
    assert {"perceptron", "perceptron-forward", "xor-crisis"} <= set(found)
    assert found["perceptron"].relative == "01_1957_perceptron/perceptron_trained.py"
    for name in ("perceptron", "perceptron-forward", "xor-crisis"):
        assert milestones.Requirement("tinytorch.core.tensor", 1) in found[name].requires


def test_unfinished_tasks_are_named_from_the_stub_comments():
    release = nbformat.read(REPO / "release" / "02_activations" / "activations.ipynb", 4)
    cells = export.cells_by_package(json.loads(nbformat.writes(release)))
    tasks = export.unfinished_tasks(cells["tinytorch.core.activations"])
    assert "relu" in tasks and len(tasks) == len(set(tasks))
    solution = json.loads((REPO / "solutions" / "02_activations" / "activations.ipynb").read_text())
    assert (
        export.unfinished_tasks(export.cells_by_package(solution)["tinytorch.core.activations"])
        == ()
    )


def test_export_notebook_does_nothing_while_graded(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert export.export_notebook(REPO / "solutions" / "01_tensor" / "tensor.ipynb") == []
    assert not (tmp_path / "tinytorch-package").exists()


def test_milestone_reports_a_module_that_fails_to_import(tmp_path, course):
    home = StudentHome(course, "erin", tmp_path / "homes")
    broken = package_root(home) / "tinytorch" / "core" / "tensor.py"
    broken.parent.mkdir(parents=True)
    for folder in (broken.parent, broken.parent.parent):
        (folder / "__init__.py").write_text("")
    broken.write_text("class Tensor:\n    def __init__(self, data)\n        self.data = data\n")
    result = tito(home, "milestone", "perceptron")
    assert result.returncode == 2, out(result)
    assert "Module 01 (tinytorch.core.tensor), which fails to import" in result.stderr
    assert "SyntaxError" in result.stderr
