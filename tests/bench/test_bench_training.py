"""`coursekit bench training`: one training step of the digits MLP, three ways.

Runs the benchmark as a command with a small repeat count and reads its table: the rows for
tinytorch and numpy carry positive times, and the PyTorch row either a time or the message
saying how to install it (PyTorch is not a course dependency, so both must work). The
hand-written NumPy step is checked on its own: its first loss is ln(10) for small random
weights, and it learns. The model's sizes are those of milestones/03_1986_mlp/mlp_digits.py.

The commands run in a temporary folder, so that `python -m` imports the tinytorch that the
environment provides (the repository's through its editable install, or PYTHONPATH's),
not whatever sits in the current folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coursekit.bench import training as bench_training

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "milestones"))

import common  # noqa: E402

HAS_AUTOGRAD = importlib.util.find_spec("tinytorch.core.autograd") is not None
NOT_INSTALLED = "not installed: pip install torch==2.13.0"
NUMBER = r"\d+\.\d{3}"


def bench(
    cwd: Path, *args: str, python_code: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the benchmark (or `python_code`, which calls it) and capture its output."""
    command = ["-c", python_code] if python_code else ["-m", "coursekit.bench.training"]
    return subprocess.run(
        [sys.executable, *command, "--repeats", "20", "--warmup", "3", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


def rows(out: str) -> dict[str, list[str]]:
    """The table's rows by implementation: the cells of each (plain ASCII table)."""
    found = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in ("tinytorch", "numpy by hand", "PyTorch (CPU)"):
            found[cells[0]] = cells
    return found


def assert_timed(cells: list[str]) -> None:
    name, median, spread, ratio, _ = cells
    assert re.fullmatch(NUMBER, median) and float(median) > 0, f"{name}: ms/step {median!r}"
    low, high = (float(v) for v in spread.split("-"))
    assert 0 < low <= float(median) <= high, f"{name}: spread {spread!r}"
    assert re.fullmatch(r"\d+\.\dx|n/a", ratio), f"{name}: ratio {ratio!r}"


def test_benchmark_prints_times_for_tinytorch_numpy_and_torch(tmp_path):
    result = bench(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    table = rows(out)
    assert_timed(table["tinytorch"])
    assert_timed(table["numpy by hand"])
    torch_cells = table["PyTorch (CPU)"]
    if torch_cells[1] == "-":
        assert torch_cells[4] == NOT_INSTALLED
        assert table["tinytorch"][3] == "n/a"
    else:
        assert_timed(torch_cells)
        assert torch_cells[3] == "1.0x"
        ratio = float(table["tinytorch"][1]) / float(torch_cells[1])
        assert table["tinytorch"][3] == f"{ratio:.1f}x"
    assert "64-128-10 MLP, batch 64" in out
    assert "Median of 20 steps after 3 warm-up steps; threads: 1." in out
    assert "agree: all ran the same computation" in out
    assert out.isascii()


def test_benchmark_without_torch_says_how_to_install_it(tmp_path):
    hide_torch = (
        "import sys; sys.modules['torch'] = None; "  # `import torch` raises ImportError
        "from coursekit.bench.training import main; raise SystemExit(main(sys.argv[1:]))"
    )
    result = bench(tmp_path, "--batch", "16", "--hidden", "32", python_code=hide_torch)
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(result.stdout)
    assert table["PyTorch (CPU)"][1:] == ["-", "-", "-", NOT_INSTALLED]
    assert_timed(table["tinytorch"])
    assert_timed(table["numpy by hand"])
    assert table["numpy by hand"][3] == "n/a", "no ratio without PyTorch"
    assert "64-32-10 MLP, batch 16" in result.stdout


def test_benchmark_without_autograd_exits_2_naming_the_module(tmp_path):
    package = tmp_path / "tinytorch"
    source = common.framework_folder()
    (package / "core").mkdir(parents=True)
    shutil.copy(source / "__init__.py", package / "__init__.py")
    shutil.copy(source / "core" / "__init__.py", package / "core" / "__init__.py")
    for module in ("tensor", "activations", "layers", "losses", "optimizers"):
        shutil.copy(source / "core" / f"{module}.py", package / "core" / f"{module}.py")
    result = bench(tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    table = rows(result.stdout)
    assert table["tinytorch"][1] == "-"
    assert "needs Module 05" in table["tinytorch"][4]
    assert_timed(table["numpy by hand"])


def test_numpy_step_starts_at_ln_10_and_learns():
    start = bench_training.initial_weights(seed=0)
    step, what = bench_training.numpy_step(start)
    losses = [step() for _ in range(30)]
    assert what.startswith("numpy ")
    assert abs(losses[0] - np.log(10)) < 0.15, "small random weights: about uniform over 10"
    assert losses[-1] < 0.5 * losses[0], "30 steps on one batch should fit it"
    assert start["w1"].dtype == np.float32 and start["x"].shape == (64, 64)
    assert np.array_equal(start["w1"], bench_training.initial_weights(seed=0)["w1"]), "copied"


def test_torch_row_without_torch_is_a_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(bench_training.Unavailable, match=re.escape(NOT_INSTALLED)):
        bench_training.torch_step(bench_training.initial_weights(seed=0), threads=1)


def test_the_benchmark_model_is_the_one_mlp_digits_trains():
    mlp_digits = common.load_script("03_1986_mlp/mlp_digits.py")
    assert bench_training.HIDDEN == mlp_digits.HIDDEN
    assert bench_training.CLASSES == mlp_digits.CLASSES
    assert bench_training.BATCH == mlp_digits.BATCH_SIZE
    assert bench_training.LEARNING_RATE == mlp_digits.LEARNING_RATE
    assert bench_training.MOMENTUM == mlp_digits.MOMENTUM
    assert bench_training.INPUTS == 8 * 8
