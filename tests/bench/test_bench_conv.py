"""`coursekit bench conv`: Module 09's convolution and a LeNet step against PyTorch.

Runs the benchmark as a command with small repeat counts and reads its two tables: the
tinytorch rows (im2col, loops, the LeNet step) carry positive times and repeat counts, and
the PyTorch rows either a time or the message saying how to install it (PyTorch is not a
course dependency, so both must work; a second run hides it to check the message). The
implementations' outputs, gradients and first losses must agree. Without Module 09 the
benchmark exits 2 naming it.

The commands run in a temporary folder, so that `python -m` imports the tinytorch that the
environment provides (the repository's through its editable install, or PYTHONPATH's), not
whatever sits in the current folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from coursekit.bench import conv as bench_conv

HAS_SPATIAL = importlib.util.find_spec("tinytorch.core.spatial") is not None


def needs_spatial(test):
    """The package is exported by `make release`; a missing module must fail, not skip."""
    return test


NOT_INSTALLED = "not installed: pip install torch==2.13.0"
NUMBER = r"\d+\.\d{3}"
CONV_ROWS = ("tinytorch, im2col", "tinytorch, loops", "PyTorch (CPU)")
LENET_ROWS = ("tinytorch", "PyTorch (CPU)")
HIDE_TORCH = (
    "import sys; sys.modules['torch'] = None\n"
    "from coursekit.bench.conv import main\n"
    "raise SystemExit(main())"
)
HIDE_SPATIAL = (
    "import sys; sys.modules['tinytorch.core.spatial'] = None\n"
    "from coursekit.bench.conv import main\n"
    "raise SystemExit(main())"
)


def bench(cwd: Path, python_code: str | None = None) -> subprocess.CompletedProcess:
    """Run the benchmark (or `python_code`, which calls it) with small repeat counts."""
    command = ["-c", python_code] if python_code else ["-m", "coursekit.bench.conv"]
    return subprocess.run(
        [sys.executable, *command, "--repeats", "4", "--loop-repeats", "1", "--warmup", "1"],
        cwd=cwd,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )


def tables(out: str) -> list[dict[str, list[str]]]:
    """The rows of each printed table by implementation: the cells of each row."""
    found, current = [], None
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "implementation":
            current = {}
            found.append(current)
        elif current is not None and len(cells) == 6 and cells[0] in CONV_ROWS + LENET_ROWS:
            current[cells[0]] = cells
    return found


def assert_timed(cells: list[str], repeats: str) -> None:
    name, median, spread, count, ratio, what = cells
    assert re.fullmatch(NUMBER, median) and float(median) > 0, f"{name}: ms {median!r}"
    low, high = (float(v) for v in spread.split("-"))
    assert 0 < low <= float(median) <= high, f"{name}: spread {spread!r}"
    assert count == repeats, f"{name}: {count} repeats, expected {repeats}"
    assert re.fullmatch(r"\d+\.\dx|n/a", ratio), f"{name}: ratio {ratio!r}"
    assert what, f"{name}: says what ran"


def assert_torch_row(cells: list[str], repeats: str) -> None:
    if cells[-1] == NOT_INSTALLED:
        assert cells[1:5] == ["-", "-", "-", "-"]
    else:
        assert_timed(cells, repeats)
        assert cells[4] == "1.0x" and cells[5].startswith("torch ")


@needs_spatial
def test_benchmark_prints_both_tables_with_positive_times(tmp_path):
    result = bench(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    conv, lenet = tables(out)
    assert set(conv) == set(CONV_ROWS) and set(lenet) == set(LENET_ROWS)
    assert_timed(conv["tinytorch, im2col"], "4")
    assert_timed(conv["tinytorch, loops"], "1")
    assert_timed(lenet["tinytorch"], "4")
    assert_torch_row(conv["PyTorch (CPU)"], "4")
    assert_torch_row(lenet["PyTorch (CPU)"], "4")
    assert "batch 32, 3->16 channels, 32x32, 3x3, padding 1" in out
    assert "fewer repeats" in out and "threads: 1" in out
    assert "Conv outputs and gradients agree" in out and "first 3 steps agree" in out
    loops, im2col = (float(conv[name][1]) for name in ("tinytorch, loops", "tinytorch, im2col"))
    assert loops > im2col, "one matrix product beats a loop of small operations"


@needs_spatial
def test_benchmark_without_pytorch_says_how_to_install_it(tmp_path):
    result = bench(tmp_path, HIDE_TORCH)
    assert result.returncode == 0, result.stdout + result.stderr
    conv, lenet = tables(result.stdout)
    assert conv["PyTorch (CPU)"][-1] == NOT_INSTALLED
    assert lenet["PyTorch (CPU)"][-1] == NOT_INSTALLED
    assert conv["tinytorch, im2col"][4] == "n/a" and lenet["tinytorch"][4] == "n/a"
    assert_timed(conv["tinytorch, im2col"], "4")


def test_benchmark_without_module_09_exits_2_naming_it(tmp_path):
    result = bench(tmp_path, HIDE_SPATIAL)
    assert result.returncode == 2, result.stdout + result.stderr
    conv, lenet = tables(result.stdout)
    message = "needs Module 09 (tinytorch.core.spatial): export it"
    if not importlib.util.find_spec("tinytorch.core.autograd"):
        message = "needs Module 05 (tinytorch.core.autograd): export it"
    assert conv["tinytorch, im2col"][-1] == message
    assert lenet["tinytorch"][-1] == message


def test_starting_points_are_reproducible_float32():
    first, again = bench_conv.conv_start(3), bench_conv.conv_start(3)
    for key in ("x", "w", "b", "g"):
        assert first[key].dtype.name == "float32"
        assert (first[key] == again[key]).all()
    assert first["x"].shape == (32, 3, 32, 32) and first["w"].shape == (16, 3, 3, 3)
    weights = bench_conv.lenet_weights(0)
    assert [w.shape for w in weights] == [
        (32, 1, 3, 3),
        (32,),
        (64, 32, 3, 3),
        (64,),
        (256, 10),
        (10,),
    ]
