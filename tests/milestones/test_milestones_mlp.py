"""The milestones that train with autograd: xor_solved.py (1986), mlp_digits.py, mlp_mnist.py.

- xor_solved reaches 100% on the four XOR corners for two seeds, prints its loss curve, the
  result table and the decision boundary, and fails honestly when it trains too little;
- mlp_digits reaches its target (>= 95% test accuracy) with its default settings, as a
  command, in well under a minute; in-process it reports a history per epoch;
- mlp_mnist runs end to end on a small fake MNIST this file writes into a temporary cache
  (the 8x8 digits scaled to 28x28, so the network has something to learn), rejects the same
  files under the published checksums, and without data exits 2 saying how to get it;
- each milestone stops with exit code 2 naming the first course module it lacks.

The fake MNIST files cannot have MNIST's published MD5 checksums. mlp_mnist.py always
verifies against load_mnist's table `tinytorch.data.loader.MNIST_MD5` (it has no option to
skip or replace checksums); these tests run its main() in-process and swap that table for
the fake files' checksums with monkeypatch, the way tests/test_datasets.py passes
`checksums=` to load_mnist directly.

enable_autograd() rewires Tensor, the activations and the losses for the whole process; the
`autograd_undone` fixture puts them back after each in-process run, so that later tests in
the same worker see Modules 01 to 04 as exported.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402

SCRIPTS = {
    "xor_solved": "02_1969_xor/xor_solved.py",
    "mlp_digits": "03_1986_mlp/mlp_digits.py",
    "mlp_mnist": "03_1986_mlp/mlp_mnist.py",
}
SEEDS = [0, 7]
MNIST_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FAKE_SIZES = {"train": 600, "test": 200}

HAS_AUTOGRAD = importlib.util.find_spec("tinytorch.core.autograd") is not None


def needs_autograd(test):
    """The package is exported by `make release`; a missing module must fail, not skip."""
    return test


def framework() -> Path:
    return common.framework_folder()


def run_main(script: str, *args: str) -> dict:
    results = common.load_script(SCRIPTS[script]).main(list(args))
    assert results["framework"] == str(framework())
    return results


def run_script(
    script: str, *args: str, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run a milestone as a command with this Python and capture its output."""
    return subprocess.run(
        [sys.executable, str(MILESTONES / SCRIPTS[script]), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def table_value(out: str, measure: str) -> str:
    """The result cell of the row `measure` in a printed results table."""
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == measure:
            return cells[1]
    raise AssertionError(f"no row {measure!r} in the table:\n{out}")


@pytest.fixture
def autograd_undone():
    """Undo enable_autograd() after the test: restore Tensor, activations and losses."""
    import tinytorch.core.activations as activations
    import tinytorch.core.losses as losses
    import tinytorch.core.tensor as tensor

    modules = [tensor, activations, losses]
    classes = [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and value.__module__ == module.__name__
    ]
    saved = {target: dict(vars(target)) for target in [*modules, *classes]}
    yield
    for target, attributes in saved.items():
        for name in set(vars(target)) - set(attributes):
            delattr(target, name)
        for name, value in attributes.items():
            if vars(target).get(name) is not value:
                setattr(target, name, value)


# --------------------------------------------------------------------------------------
# xor_solved.py
# --------------------------------------------------------------------------------------


@needs_autograd
@pytest.mark.parametrize("seed", SEEDS)
def test_xor_solved_reaches_100_percent(seed, capsys, autograd_undone):
    results = run_main("xor_solved", "--seed", str(seed))
    assert results["accuracy"] == 1.0 and results["converged"] is True
    assert results["target_met"] is True
    losses = results["losses"]
    assert len(losses) == results["epochs"] == 300
    assert losses[-1] < 0.01 < 0.5 < losses[0], "the loss falls from about ln 2 to near 0"
    assert results["solved_at_epoch"] is not None and results["solved_at_epoch"] <= 100
    assert results["seconds"] < 10, f"took {results['seconds']:.1f} s"
    out = capsys.readouterr().out
    assert "Rumelhart" in out and "backpropagation" in out
    assert "Binary cross-entropy per epoch" in out and "epoch 300" in out  # the chart
    assert re.search(r"epoch\s+1: loss 0\.\d{4}, accuracy", out)
    assert table_value(out, "accuracy after training") == "100%"


@needs_autograd
def test_xor_solved_depends_on_the_seed_and_repeats(capsys, autograd_undone):
    first, again, other = (run_main("xor_solved", "--seed", str(s)) for s in (0, 0, 7))
    assert first["losses"] == again["losses"]
    assert first["losses"] != other["losses"]


@needs_autograd
def test_xor_solved_reports_too_little_training(capsys, autograd_undone):
    results = run_main("xor_solved", "--epochs", "1")
    assert results["epochs"] == 1
    assert results["accuracy"] < 1.0 and results["target_met"] is False


@needs_autograd
def test_xor_solved_as_a_command_draws_the_boundary():
    result = run_script("xor_solved", "--seed", "3", "--plot")
    assert result.returncode == 0, result.stderr
    assert f"tinytorch at {framework()}" in result.stdout
    assert "| accuracy after training" in result.stdout and "| 100%" in result.stdout
    assert "+" + "-" * 40 + "+" in result.stdout  # the decision plot's frame
    plot = result.stdout.split("The regions the trained network draws:")[1]
    assert not re.search(r"[XO]", plot.split("x1 from")[0]), "no corner misclassified"
    assert result.stdout.isascii(), "piped output should be plain ASCII"


# --------------------------------------------------------------------------------------
# mlp_digits.py
# --------------------------------------------------------------------------------------


@needs_autograd
def test_mlp_digits_reaches_95_percent_with_its_defaults():
    started = time.perf_counter()
    result = run_script("mlp_digits")
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    out = result.stdout
    assert seconds < 60, f"the default run took {seconds:.0f} s"
    assert float(table_value(out, "test accuracy").rstrip("%")) >= 95.0
    assert table_value(out, "epochs") == "20"
    assert table_value(out, "model") == "64-128-10 MLP, ReLU"
    epochs = re.findall(r"^\s*(\d+)/20\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)$", out, re.M)
    assert [int(row[0]) for row in epochs] == list(range(1, 21)), "one progress line per epoch"
    assert float(epochs[-1][1]) < float(epochs[0][1]), "the loss falls"


@needs_autograd
def test_mlp_digits_in_process_reports_every_epoch(capsys, autograd_undone):
    results = run_main("mlp_digits", "--epochs", "3", "--seed", "1")
    history = results["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3] and results["epochs"] == 3
    assert all(row["seconds"] > 0 for row in history)
    assert history[-1]["loss"] < history[0]["loss"]
    assert results["accuracy"] == history[-1]["test_accuracy"] > 0.8  # 3 epochs: about 95%
    assert results["start_accuracy"] < 0.3, "untrained: near chance (10%)"
    assert results["parameters"] == 64 * 128 + 128 + 128 * 10 + 10
    assert results["target_met"] == (results["accuracy"] >= 0.95)
    out = capsys.readouterr().out
    assert "1,437 training and 360 test images" in out
    assert table_value(out, "test accuracy") == f"{results['accuracy']:.1%}"


# --------------------------------------------------------------------------------------
# mlp_mnist.py on a fake MNIST cache
# --------------------------------------------------------------------------------------


def idx_file(array: np.ndarray) -> bytes:
    """An uncompressed IDX file: magic 2051 (images, 3-D) or 2049 (labels, 1-D), then bytes."""
    magic = 2051 if array.ndim == 3 else 2049
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_fake_mnist(folder: Path) -> dict[str, str]:
    """The four MNIST files in `folder`, made from the shipped 8x8 digits; returns their MD5s.

    Each 8x8 digit is scaled up 3x to 24x24 and centred in 28x28 with a border of 2, like
    MNIST's centred digits, so that the MLP has something real to learn.
    """
    folder.mkdir(parents=True, exist_ok=True)
    archive = np.load(REPO / "datasets" / "digits" / "digits.npz")
    checksums = {}
    for split, count in FAKE_SIZES.items():
        images = archive[f"x_{split}"][:count]  # (n, 8, 8) in [0, 1]
        labels = archive[f"y_{split}"][:count]
        pixels = np.zeros((count, 28, 28))
        pixels[:, 2:26, 2:26] = np.kron(images, np.ones((3, 3)))
        pixels = np.round(pixels * 255)
        for name, array in zip(MNIST_NAMES[split], (pixels, labels), strict=True):
            blob = gzip.compress(idx_file(array), mtime=0)
            (folder / name).write_bytes(blob)
            checksums[name] = hashlib.md5(blob).hexdigest()
    return checksums


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A fake MNIST in $TINYTORCH_DATA/mnist, with load_mnist told its checksums."""
    from tinytorch.data import loader

    data = tmp_path / "data"
    checksums = write_fake_mnist(data / "mnist")
    monkeypatch.setenv("TINYTORCH_DATA", str(data))
    monkeypatch.setattr(loader, "MNIST_MD5", checksums)
    return data / "mnist"


@needs_autograd
def test_mlp_mnist_runs_end_to_end_on_a_fake_cache(fake_mnist, capsys, autograd_undone):
    results = run_main("mlp_mnist", "--epochs", "3")
    assert results["epochs"] == 3 and len(results["history"]) == 3
    assert results["parameters"] == 784 * 128 + 128 + 128 * 10 + 10
    assert results["history"][-1]["loss"] < results["history"][0]["loss"]
    assert results["accuracy"] >= 0.8, "the scaled-up digits are learnable"
    out = capsys.readouterr().out
    assert "LeCun" in out
    assert "MNIST: 600 training and 200 test images of 784 pixels" in out
    assert table_value(out, "model") == "784-128-10 MLP, ReLU"
    assert table_value(out, "test accuracy") == f"{results['accuracy']:.1%}"


@needs_autograd
def test_mlp_mnist_reads_the_folder_given_by_data_root(tmp_path, monkeypatch, autograd_undone):
    from tinytorch.data import loader

    folder = tmp_path / "elsewhere"
    monkeypatch.setattr(loader, "MNIST_MD5", write_fake_mnist(folder))
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "empty"))
    results = run_main("mlp_mnist", "--epochs", "1", "--data-root", str(folder))
    assert results["epochs"] == 1 and results["accuracy"] > 0.2


@needs_autograd
def test_mlp_mnist_checks_the_published_checksums(tmp_path, capsys):
    write_fake_mnist(tmp_path / "mnist")  # the real MNIST_MD5 stays in place
    with pytest.raises(SystemExit) as stopped:
        run_main("mlp_mnist", "--data-root", str(tmp_path / "mnist"))
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "MNIST could not be loaded" in err and "MD5" in err
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in err, "the published checksum of the images"


@pytest.mark.parametrize("how", ["TINYTORCH_DATA", "--data-root"])
def test_mlp_mnist_without_data_exits_2_saying_how_to_get_it(how, tmp_path):
    if how == "TINYTORCH_DATA":
        folder = tmp_path / "mnist"
        result = run_script("mlp_mnist", env={"TINYTORCH_DATA": str(tmp_path)})
    else:
        folder = tmp_path / "nothing-here"
        result = run_script("mlp_mnist", "--data-root", str(folder))
    if not HAS_AUTOGRAD:  # it stops earlier, at the missing module
        assert result.returncode == 2 and "Module 05" in result.stderr
        return
    assert result.returncode == 2, result.stdout + result.stderr
    err = result.stderr
    assert f"MNIST is not in the cache folder {folder} yet" in err
    assert "--download" in err
    assert all(name in err for names in MNIST_NAMES.values() for name in names)
    assert "Traceback" not in err
    assert not folder.exists() or not any(folder.iterdir()), "nothing was downloaded"


def test_mlp_mnist_shares_the_code_of_mlp_digits():
    mnist = common.load_script(SCRIPTS["mlp_mnist"])
    assert mnist.mlp_digits is common.load_script(SCRIPTS["mlp_digits"])
    assert "run_experiment" in Path(mnist.__file__).read_text()


# --------------------------------------------------------------------------------------
# A student's package without the modules a milestone needs
# --------------------------------------------------------------------------------------


def partial_package(root: Path, modules: list[str]) -> Path:
    """A tinytorch in `root` with only `modules` (e.g. "core/tensor"), copied from the one in use."""
    source = framework()
    package = root / "tinytorch"
    for module in modules:
        for part in [Path(module).parent, Path()]:
            init = package / part / "__init__.py"
            if not init.exists():
                init.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source / part / "__init__.py", init)
        shutil.copy(source / f"{module}.py", package / f"{module}.py")
    return package


CORE_01_TO_04 = ["core/tensor", "core/activations", "core/layers", "core/losses"]
MISSING_CASES = {
    "02-missing": (["core/tensor"], "Module 02 (tinytorch.core.activations)", ["xor_solved"]),
    "05-missing": (
        [*CORE_01_TO_04, "core/optimizers", "data/loader"],
        "Module 05 (tinytorch.core.autograd)",
        ["xor_solved", "mlp_digits", "mlp_mnist"],
    ),
    "08-missing": (
        [*CORE_01_TO_04, "core/autograd", "core/optimizers"],
        "Module 08 (tinytorch.data.loader)",
        ["mlp_digits", "mlp_mnist"],
    ),
}


@pytest.mark.parametrize(
    "case, script",
    [(case, script) for case, (_, _, scripts) in MISSING_CASES.items() for script in scripts],
)
def test_missing_module_exits_2_naming_it(case, script, tmp_path):
    modules, missing, _ = MISSING_CASES[case]
    package = partial_package(tmp_path, modules)
    result = run_script(script, env={"PYTHONPATH": str(tmp_path)}, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"tinytorch at {package} (your own package)" in result.stdout
    assert f"this milestone needs {missing}; export it first" in result.stderr
    assert "Traceback" not in result.stderr
