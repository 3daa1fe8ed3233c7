"""The 1957 perceptron and 1969 XOR milestones: their results, how they run, what they say.

Each milestone's main() runs in-process with two seeds and must reach its stated result;
each script also runs as a command and must exit 0 naming the tinytorch in use. When
tinytorch, or a module of it, is missing, a script must exit 2 with a message that says what
to export.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rich

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
REFERENCE = (REPO / "tinytorch").resolve()
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402

SCRIPTS = {
    "forward_pass": "01_1957_perceptron/forward_pass.py",
    "perceptron_trained": "01_1957_perceptron/perceptron_trained.py",
    "xor_crisis": "02_1969_xor/xor_crisis.py",
}
SEEDS = [0, 7]
MISSING_TENSOR = "this milestone needs Module 01 (tinytorch.core.tensor); export it first"


def run_main(script: str, seed: int) -> dict:
    results = common.load_script(SCRIPTS[script]).main(["--seed", str(seed)])
    assert results["framework"] == str(REFERENCE)
    assert results["seconds"] < 5, f"{script} took {results['seconds']:.1f} s"
    return results


def run_script(
    script: str, *args: str, python_flags: tuple[str, ...] = (), env=None, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    """Run a milestone with this Python (the repository's venv) and capture its output."""
    return subprocess.run(
        [sys.executable, *python_flags, str(MILESTONES / SCRIPTS[script]), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def site_packages_without_tinytorch() -> str:
    """PYTHONPATH giving numpy and rich but none of the site's .pth files (editable installs)."""
    folders = {str(Path(package.__file__).parents[1]) for package in (np, rich)}
    return os.pathsep.join(sorted(folders))


# --------------------------------------------------------------------------------------
# Results, in-process, two seeds each
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_forward_pass_random_weights_are_at_chance(seed, capsys):
    results = run_main("forward_pass", seed)
    assert 0.2 <= results["accuracy"] <= 0.8, "random weights should not solve the task"
    assert results["epochs"] == 0 and results["converged"] is False
    # One random line can be lucky or backwards; the mean over many is chance.
    assert results["worst_accuracy"] < 0.5 < results["best_accuracy"]
    assert results["target_met"] is True
    out = capsys.readouterr().out
    assert "reference package from this repository" in out
    assert f"{results['accuracy']:.1%}" in out


def test_forward_pass_is_repeatable_and_depends_on_the_seed(capsys):
    first, again, second = (run_main("forward_pass", seed) for seed in [SEEDS[0], *SEEDS])
    assert first["accuracy"] == again["accuracy"]
    assert first["accuracy"] != second["accuracy"]


@pytest.mark.parametrize("seed", SEEDS)
def test_perceptron_trained_separates_the_blobs(seed, capsys):
    results = run_main("perceptron_trained", seed)
    assert results["accuracy"] >= 0.98
    assert results["converged"] is True
    mistakes = results["mistakes_per_epoch"]
    assert len(mistakes) == results["epochs"] <= 100
    assert mistakes[-1] == 0 and all(count > 0 for count in mistakes[:-1])
    assert mistakes[0] > 0, "a zero start gets points wrong, so the rule has work to do"
    assert results["start_accuracy"] == 0.5
    assert results["target_met"] is True
    assert "Mistakes per epoch: " + ", ".join(map(str, mistakes)) in capsys.readouterr().out


def test_perceptron_trained_reports_a_run_that_stops_early(capsys):
    results = common.load_script(SCRIPTS["perceptron_trained"]).main(
        ["--seed", "0", "--max-epochs", "1"]
    )
    assert results["epochs"] == 1
    assert results["converged"] is False and results["target_met"] is False


@pytest.mark.parametrize("seed", SEEDS)
def test_xor_crisis_never_converges(seed, capsys):
    results = run_main("xor_crisis", seed)
    assert results["accuracy"] <= 0.75
    assert results["converged"] is False
    assert results["epochs"] == 100
    assert all(count > 0 for count in results["mistakes_per_epoch"])
    assert results["best_random_line_accuracy"] == 0.75, "3 of 4 corners is the best a line does"
    assert results["target_met"] is True
    out = capsys.readouterr().out
    assert "Minsky" in out and "Papert" in out and "1969" in out


# --------------------------------------------------------------------------------------
# As commands
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_and_names_the_framework(script):
    result = run_script(script, "--seed", "3", "--plot")
    assert result.returncode == 0, result.stderr
    assert f"tinytorch at {REFERENCE} (reference package from this repository)" in result.stdout
    assert "| measure" in result.stdout and "| tinytorch " in result.stdout  # the table
    assert "+" + "-" * 40 + "+" in result.stdout  # the plot's frame
    assert result.stdout.isascii(), "piped output should be plain ASCII"


def test_script_falls_back_to_the_repository_package_when_none_is_installed(tmp_path):
    # -S skips site-packages and its .pth files, so the editable install is not there.
    env = {"PYTHONPATH": site_packages_without_tinytorch()}
    result = run_script("forward_pass", "--seed", "3", python_flags=("-S",), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"tinytorch at {REFERENCE} (reference package from this repository)" in result.stdout


def test_script_without_any_tinytorch_exits_2(tmp_path):
    copy = tmp_path / "milestones"
    shutil.copytree(MILESTONES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    script = copy / SCRIPTS["forward_pass"]
    result = subprocess.run(
        [sys.executable, "-S", str(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": site_packages_without_tinytorch()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no tinytorch package is importable" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------
# A student's package that lacks Module 01, or whose Module 01 is broken
# --------------------------------------------------------------------------------------


def fake_package(root: Path, tensor_source: str | None, with_core: bool = True) -> Path:
    """A tinytorch package in `root`; core/tensor.py holds tensor_source (None: no file)."""
    package = root / "tinytorch"
    package.mkdir()
    (package / "__init__.py").write_text('"""A student\'s package, Module 01 not exported."""\n')
    if with_core:
        (package / "core").mkdir()
        (package / "core" / "__init__.py").write_text("")
        if tensor_source is not None:
            (package / "core" / "tensor.py").write_text(tensor_source)
    return package


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("with_core", [True, False], ids=["no-tensor-py", "no-core-folder"])
def test_missing_module_01_exits_2_with_what_to_export(script, with_core, tmp_path):
    package = fake_package(tmp_path, None, with_core=with_core)
    result = run_script(script, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"tinytorch at {package} (your own package)" in result.stdout
    assert MISSING_TENSOR in result.stderr
    assert str(package) in result.stderr
    assert "Traceback" not in result.stderr


def test_module_without_tensor_class_exits_2(tmp_path):
    fake_package(tmp_path, '"""Module 01, not started."""\n')
    result = run_script("perceptron_trained", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2
    assert "tinytorch.core.tensor has no Tensor: complete Module 01" in result.stderr


def test_broken_module_shows_its_own_traceback(tmp_path):
    fake_package(tmp_path, "class Tensor:\n    pass\n\nundefined_name_in_module_01\n")
    result = run_script("xor_crisis", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 1
    assert "tinytorch.core.tensor (Module 01) failed while importing" in result.stderr
    assert "NameError" in result.stderr and "undefined_name_in_module_01" in result.stderr


def test_need_stops_with_code_2_for_a_missing_module(capsys):
    with pytest.raises(SystemExit) as stopped:
        common.need("Thing", "tinytorch.core.not_written_yet", "Module 99")
    assert stopped.value.code == 2
    assert "needs Module 99 (tinytorch.core.not_written_yet); export it" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# Shared helpers: data, table, plot
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_separable_blobs_have_a_margin(seed):
    points, labels = common.separable_blobs(seed=seed)
    assert points.shape == (200, 2) and points.dtype == np.float32
    assert labels.shape == (200,) and set(np.unique(labels)) == {-1.0, 1.0}
    assert (labels == 1).sum() == 100
    for margin in (1.0, 2.0):  # many points and a wide margin: some must have been redrawn
        points, labels = common.separable_blobs(n=2000, seed=seed, margin=margin)
        distance = (points - [1.0, 3.0]) @ (np.array([1.0, 1.0]) / np.sqrt(2.0))
        assert (labels * distance).min() >= margin / 2 - 1e-5, "a gap around x1 + x2 = 4"
    points, _ = common.separable_blobs(seed=seed)
    again, _ = common.separable_blobs(seed=seed)
    other, _ = common.separable_blobs(seed=seed + 1)
    assert np.array_equal(points, again) and not np.array_equal(points, other)


def test_xor_points_label_exclusive_or():
    points, labels = common.xor_points()
    assert points.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert labels.tolist() == [-1, 1, 1, -1]
    noisy, noisy_labels = common.xor_points(repeats=5, jitter=0.05, seed=1)
    assert noisy.shape == (20, 2) and noisy_labels.tolist() == [-1, 1, 1, -1] * 5
    assert 0 < np.abs(noisy - np.tile(points, (5, 1))).max() < 0.5
    assert np.array_equal(noisy, common.xor_points(repeats=5, jitter=0.05, seed=1)[0])


def test_ascii_plot_draws_regions_points_and_mistakes():
    points = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], dtype=np.float32)
    labels = np.array([-1.0, 1.0, 1.0], dtype=np.float32)  # the last is on the wrong side
    plot = common.ascii_decision_plot(
        lambda grid: np.where(grid[:, 0] > 0, 1.0, -1.0), points, labels
    )
    rows = plot.splitlines()[1:21]
    assert all(len(row) == 42 for row in rows)
    body = [row[1:-1] for row in rows]
    assert all(set(row[:20]) <= {" ", "o", "X"} and set(row[20:]) <= {".", "x"} for row in body)
    text = "".join(body)
    assert text.count("o") == 1 and text.count("x") == 1 and text.count("X") == 1
    assert not set(body[0] + body[-1]) & set("xoXO"), "a margin is left around the data"


def test_results_table_is_plain_ascii_when_piped(capsys):
    common.print_results("A title", [("accuracy", "99.0%", ">= 98%")], seconds=0.5)
    out = capsys.readouterr().out
    assert out.isascii() and "\x1b[" not in out
    assert "A title" in out and "| accuracy" in out and ">= 98%" in out
    assert "| tinytorch" in out and "reference" in out and "0.50 s" in out


def test_results_table_without_rich_is_plain_text(capsys, monkeypatch):
    for name in ("rich", "rich.box", "rich.console", "rich.table"):
        monkeypatch.setitem(sys.modules, name, None)
    common.print_results("A title", [("accuracy", "99.0%", ">= 98%")], seconds=0.5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "A title"
    assert lines[2].split() == ["measure", "result", "target"]
    assert lines[4].split() == ["accuracy", "99.0%", ">=", "98%"]
    assert "|" not in "".join(lines)
