"""The whole course, walked: a student who finishes every module runs every milestone.

One student's home receives each released module's solution notebook, in course order, and
exports it with `tito export` into the student's own package; then every milestone script
tito discovers runs on that package with `tito milestone`. tito runs as a command with the
student's HOME, as on the hub.

Settings: CI runs each milestone with a smoke setting (a few training steps: the script must
run to its result table on the student's package; a missed target, exit 1, is expected
there), and TINYTORCH_FULL=1 (`make test-full`) runs each with its --quick setting, which
must meet its target (exit 0). The targets themselves are checked on the reference in
tests/milestones. MNIST and CIFAR-10 cannot be downloaded on the grading machines: there both
milestones must stop with exit 2 and say how to get the data (tests/milestones runs them
on small fake caches).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit.modules import REPO, load_module
from coursekit.tools import tool_env
from tito import milestones

FULL = os.environ.get("TINYTORCH_FULL") == "1"
MILESTONES = REPO / "milestones"

# name: (smoke arguments, --quick-or-default arguments). A new milestone must be added here.
SETTINGS: dict[str, tuple[list[str], list[str]]] = {
    "perceptron-forward": ([], []),
    "perceptron": ([], []),
    "xor-crisis": ([], []),
    "xor-solved": ([], []),
    "mlp-digits": (["--epochs", "2"], []),
    "mlp-mnist": ([], []),
    "cnn-digits": (["--epochs", "1"], []),
    "lecun-cifar10": ([], []),
    "attention-proof": ([], []),
    "tinytalks": (["--quick", "--plain", "--steps", "20"], ["--quick", "--plain"]),
    "vaswani-chatgpt": (["--quick", "--steps", "20"], ["--quick"]),
    "vaswani-copilot": (["--quick", "--steps", "20"], ["--quick"]),
    "vaswani-shakespeare": (["--quick", "--steps", "20"], ["--quick"]),
    "generation-speedup": (["--steps", "3", "--tokens", "12", "--prompt-length", "24"], []),
    "quantize-gpt": (["--quick", "--steps", "20"], ["--quick"]),
}
OFFLINE = {"mlp-mnist": "--download", "lecun-cifar10": "--download"}  # data not shipped


def released_modules():
    """Every released module (release/NN_name/), in course order."""
    names = sorted(p.name for p in (REPO / "release").iterdir() if p.is_dir())
    return [load_module(REPO / "masters" / name) for name in names]


def student_env(home: Path) -> dict[str, str]:
    """A student's terminal: their HOME, the course's milestones, no course PYTHONPATH."""
    env = tool_env(HOME=str(home), COLUMNS="160", OPENBLAS_NUM_THREADS="1")
    for name in ("PYTHONPATH", "TINYTORCH_HOME", "TINYTORCH_DATA", "JUPYTER_CONFIG_DIR"):
        env.pop(name, None)
    env["TINYTORCH_MILESTONES"] = str(MILESTONES)
    return env


def tito(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tito", *args],
        cwd=home,
        env=student_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def code_of(path: Path) -> str:
    """A Python file's code without comments and docstrings (the reference package drops
    the notebook's hints and task comments; what runs must be the same)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            if isinstance(first.value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """A home with every released module's solution, each exported with `tito export`."""
    home = tmp_path_factory.mktemp("walk") / "student"
    home.mkdir()
    for module in released_modules():
        shutil.copytree(REPO / "solutions" / module.assignment, home / module.assignment)
        result = tito(home, "export", module.assignment)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Exported" in result.stdout and module.package in result.stdout
    return home


def test_every_module_lands_in_the_students_package_with_the_reference_code(student):
    package = student / "tinytorch-package"
    modules = released_modules()
    assert [m.number for m in modules] == list(range(1, len(modules) + 1))
    for module in modules:
        relative = Path(*module.package.split(".")).with_suffix(".py")
        own = package / relative
        assert own.read_text().startswith("# Exported by tito from ~/"), module.assignment
        assert code_of(own) == code_of(REPO / relative), module.assignment


def cells(line: str) -> list[str]:
    """The cells of one row of a rich table."""
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_status_shows_every_module_done_and_every_milestone_era_ready(student):
    result = tito(student, "status")
    assert result.returncode == 0, result.stderr
    rows = [cells(line) for line in result.stdout.splitlines() if line.startswith("│")]
    by_first = {row[0]: row for row in rows}
    for module in released_modules():
        row = by_first[module.assignment]
        assert row[3:5] == ["yes", "yes"], row  # exported, up to date
    eras = sorted(p.name for p in MILESTONES.iterdir() if milestones.ERA.match(p.name))
    for folder in eras:
        label = f"{folder.split('_')[1]} {milestones.ERA.match(folder)['era'].replace('_', ' ')}"
        assert by_first[label][-1] == "yes", by_first[label]
    assert "Next:" not in result.stdout  # nothing left to do


def test_every_milestone_names_its_modules_literally():
    """tito reads what a milestone needs from its `need(name, "tinytorch.x", "Module NN")`
    calls; a module name held in a variable would hide a requirement from it."""
    for script in MILESTONES.glob("*/*.py"):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "need":
                literal = [isinstance(a, ast.Constant) for a in node.args[1:3]]
                assert literal == [True, True], f"{script.name}:{node.lineno}"


def test_every_milestone_has_a_walk_setting():
    assert sorted(m.name for m in milestones.discover(MILESTONES)) == sorted(SETTINGS)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_milestone_runs_on_the_students_package(student, name):
    smoke, quick = SETTINGS[name]
    extra = quick if FULL else smoke
    result = tito(student, "milestone", name, "--seed", "1", *(["--", *extra] if extra else []))
    output = result.stdout + result.stderr
    if name in OFFLINE:
        assert result.returncode == 2, output
        assert OFFLINE[name] in output and "network" in output, output
        return
    assert "Running on your package ~/tinytorch-package" in output
    assert "Traceback" not in output, output
    assert result.returncode in ((0,) if FULL else (0, 1)), output
    assert "your own" in output, output  # the result table names the package it ran on
