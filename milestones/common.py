"""Shared helpers for the historical milestones: which tinytorch runs, data, tables, plots.

A milestone runs on whichever tinytorch Python can import: a student's own package on
JupyterHub, or the reference package of the course repository (the `tinytorch/` folder next
to `milestones/`). When nothing named tinytorch is importable, the repository's package is
used as a fallback. A missing package or module stops the milestone with a message that says
what to export, and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import numpy as np

MILESTONES = Path(__file__).resolve().parent
REPO_ROOT = MILESTONES.parent
REFERENCE_PACKAGE = REPO_ROOT / "tinytorch"
DEFAULT_SEED = 0
MISSING_EXIT_CODE = 2


# --------------------------------------------------------------------------------------
# Which tinytorch: import it, name it, require its modules
# --------------------------------------------------------------------------------------


def stop(message: str) -> NoReturn:
    """Print why the milestone cannot run (to stderr) and exit with code 2."""
    print(f"milestone cannot run: {message}", file=sys.stderr)
    raise SystemExit(MISSING_EXIT_CODE)


def load_tinytorch() -> ModuleType:
    """Import tinytorch: the importable one first, else the repository's reference package.

    The repository root is appended to the end of sys.path only when no tinytorch can be
    imported at all, so an installed package (a student's own) always takes precedence.
    """
    try:
        return importlib.import_module("tinytorch")
    except ModuleNotFoundError as error:
        if error.name != "tinytorch":
            raise  # tinytorch exists but fails inside: show the real traceback
    if (REFERENCE_PACKAGE / "__init__.py").is_file() and str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
        return load_tinytorch()
    stop(
        f"no tinytorch package is importable from this Python ({sys.executable}). "
        "Export your modules into your tinytorch package, or run the milestone from the "
        "course repository, which contains the reference package."
    )


def framework_folder() -> Path:
    """The folder of the tinytorch package in use (exits with code 2 when there is none)."""
    package = load_tinytorch()
    if package.__file__:
        return Path(package.__file__).resolve().parent
    return Path(next(iter(package.__path__))).resolve()  # a namespace package has no __file__


def is_reference(folder: Path) -> bool:
    """Whether `folder` is this repository's reference package (tinytorch/ next to milestones/)."""
    return folder == REFERENCE_PACKAGE.resolve()


def framework_banner() -> str:
    """Print and return one line naming the tinytorch in use and where it lives."""
    folder = framework_folder()
    kind = "reference package from this repository" if is_reference(folder) else "your own package"
    banner = f"Framework: tinytorch at {folder} ({kind})"
    print(banner)
    return banner


def need(name: str, module: str, course_module: str) -> Any:
    """Return `name` from tinytorch's `module`, or stop with code 2 naming what to export.

    Example: Tensor = need("Tensor", "tinytorch.core.tensor", "Module 01").
    A module that exists but fails while importing is not "missing": its own traceback is
    shown (after a line saying which module it is), because that is what helps fix it.
    """
    folder = framework_folder()
    missing = (
        f"this milestone needs {course_module} ({module}); export it first. "
        f"The tinytorch in use ({folder}) does not have it yet."
    )
    try:
        imported = importlib.import_module(module)
    except Exception as error:
        absent = error.name if isinstance(error, ModuleNotFoundError) else None
        if absent and (module == absent or module.startswith(absent + ".")):
            stop(missing)
        print(f"{module} ({course_module}) failed while importing:", file=sys.stderr)
        raise
    source = Path(imported.__file__ or folder).resolve()
    if not source.is_relative_to(folder):
        # Another installation (e.g. an editable install of the course repository) can serve
        # submodules that the package in use lacks; do not run on such a mix.
        stop(f"{missing} Python found {module} at {source}, in another tinytorch installation.")
    if not hasattr(imported, name):
        stop(f"{module} has no {name}: complete {course_module} and export it again.")
    return getattr(imported, name)


def load_script(relative_path: str) -> ModuleType:
    """Import another milestone script, e.g. load_script("01_1957_perceptron/forward_pass.py").

    Milestone folders start with digits, so `import` statements cannot reach them.
    """
    path = MILESTONES / relative_path
    name = f"milestone_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def milestone_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every milestone takes: --seed and --plot."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--plot",
        action="store_true",
        help="draw the ASCII plot even when the output is not a terminal",
    )
    return parser


def wants_plot(args: argparse.Namespace) -> bool:
    """Plot when asked to, or when a person is watching (stdout is a terminal)."""
    return args.plot or sys.stdout.isatty()


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def separable_blobs(
    n: int = 200, seed: int = DEFAULT_SEED, margin: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs that the line x1 + x2 = 4 separates with a gap of at least `margin`.

    Returns points (n, 2) float32 and labels (n,) float32 in {-1, +1}, half of each, in a
    shuffled order. Class +1 is centred at (2.5, 4.5) and class -1 at (-0.5, 1.5), with
    standard deviation 0.6; points closer than margin / 2 to the line are drawn again, so
    the two classes never touch. The line misses the origin: a perceptron must learn a bias.
    """
    rng = np.random.default_rng(seed)
    midpoint = np.array([1.0, 3.0])  # on the line x1 + x2 = 4
    direction = np.array([1.0, 1.0]) / np.sqrt(2.0)  # unit normal of that line
    labels = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)  # (n,)
    centres = midpoint + labels[:, None] * 1.5 * np.sqrt(2.0) * direction  # (n, 2)

    def too_close(points: np.ndarray) -> np.ndarray:  # (n,) bool
        return labels * ((points - midpoint) @ direction) < margin / 2

    points = rng.normal(centres, 0.6)  # (n, 2)
    while too_close(points).any():
        redraw = too_close(points)
        points[redraw] = rng.normal(centres[redraw], 0.6)
    order = rng.permutation(n)
    return points[order].astype(np.float32), labels[order].astype(np.float32)


def xor_points(
    repeats: int = 1, jitter: float = 0.0, seed: int = DEFAULT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: the corners of the unit square, labelled +1 when exactly one is 1.

    Returns points (4 * repeats, 2) float32 and labels (4 * repeats,) float32 in {-1, +1}:
    (0, 0) and (1, 1) are -1, (0, 1) and (1, 0) are +1. With jitter > 0 every point is moved
    by seeded Gaussian noise of that standard deviation (keep it well below 0.5).
    """
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    corner_labels = np.array([-1.0, 1.0, 1.0, -1.0])
    points = np.tile(corners, (repeats, 1)) + rng.normal(0.0, jitter, (4 * repeats, 2))
    return points.astype(np.float32), np.tile(corner_labels, repeats).astype(np.float32)


def read_corpus(load_corpus: Callable[..., str], name: str, split: str) -> str:
    """One split of a shipped text corpus through Module 10's `load_corpus`: where it looks
    first (the student's folders, $TINYTORCH_DATA), else this repository's `datasets/`, which
    a student's own package does not hold. Exit 2 with load_corpus's message otherwise."""
    try:
        return load_corpus(name, split)
    except FileNotFoundError as error:
        shipped = REPO_ROOT / "datasets" / name
        if (shipped / f"{split}.txt").is_file():
            return load_corpus(name, split, path=shipped)
        stop(str(error))


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of predictions equal to the labels, a float in [0, 1]."""
    return float(np.mean(predictions == labels))


# --------------------------------------------------------------------------------------
# Output: result table and ASCII decision-boundary plot
# --------------------------------------------------------------------------------------


def say(text: str) -> None:
    """Print a paragraph wrapped to 88 columns, followed by a blank line."""
    print(textwrap.fill(text, width=88) + "\n")


def print_results(title: str, rows: Sequence[tuple[str, str, str]], seconds: float) -> None:
    """Print a table with columns measure, result, target (target may be "").

    Two rows are added at the end: which tinytorch ran, and the run time in seconds.
    Uses rich, with rounded borders in a terminal and plain ASCII borders (and no colour)
    when the output is piped; without rich installed it prints a plain-text table.
    """
    headers = ("measure", "result", "target")
    rows = [
        *rows,
        ("tinytorch", "reference" if is_reference(framework_folder()) else "your own", ""),
        ("run time", f"{seconds:.2f} s", ""),
    ]
    try:
        from rich import box
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(3)]
        print(f"\n{title}")
        for row in [headers, tuple("-" * width for width in widths), *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            print("  ".join(cells).rstrip())
        return
    console = Console(highlight=False, markup=False)
    table = Table(title=title, box=box.ROUNDED if console.is_terminal else box.ASCII)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def ascii_decision_plot(
    predict: Callable[[np.ndarray], np.ndarray],
    points: np.ndarray,
    labels: np.ndarray,
    width: int = 40,
    height: int = 20,
) -> str:
    """Draw a 2-D classifier's regions and the data as text, `height` rows of `width` characters.

    predict: maps points (m, 2) float32 to classes (m,) in {-1, +1}.
    Regions: '.' where the classifier predicts +1, ' ' where it predicts -1. Points: 'x' for
    class +1 and 'o' for class -1, in capitals ('X', 'O') when the classifier gets them
    wrong. The top row is the largest x2, as on paper.
    """
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * (high - low) + 0.1
    low, high = low - pad, high + pad
    columns_x = low[0] + (np.arange(width) + 0.5) * (high[0] - low[0]) / width  # (width,)
    rows_y = high[1] - (np.arange(height) + 0.5) * (high[1] - low[1]) / height  # (height,)
    grid = np.stack(np.meshgrid(columns_x, rows_y), axis=-1).reshape(-1, 2)  # (h * w, 2)
    regions = np.asarray(predict(grid.astype(np.float32))).reshape(height, width)
    canvas = np.where(regions > 0, ".", " ")  # (height, width) of one-character strings

    column = ((points[:, 0] - low[0]) / (high[0] - low[0]) * width).astype(int)
    row = ((high[1] - points[:, 1]) / (high[1] - low[1]) * height).astype(int)
    wrong = np.asarray(predict(points.astype(np.float32))) != labels
    marks = np.where(labels > 0, np.where(wrong, "X", "x"), np.where(wrong, "O", "o"))
    canvas[row.clip(0, height - 1), column.clip(0, width - 1)] = marks

    border = "+" + "-" * width + "+"
    lines = [border, *("|" + "".join(cells) + "|" for cells in canvas), border]
    lines.append(
        f"x1 from {low[0]:.1f} to {high[0]:.1f} (left to right), "
        f"x2 from {low[1]:.1f} to {high[1]:.1f} (bottom to top)"
    )
    lines.append("x / o: class +1 / -1 (X / O: misclassified); '.' predicted +1, ' ' predicted -1")
    return "\n".join(lines)
