"""What every benchmark of the course shares: threads, timing, statistics, PyTorch, tinytorch.

A benchmark measures one job several ways (tinytorch, NumPy by hand, PyTorch when it is
installed) and prints a table of medians and spreads. PyTorch is never a dependency: a row
that cannot run says how to install it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REFERENCE_PACKAGE = (Path(__file__).resolve().parents[2] / "tinytorch").resolve()
TORCH_REQUIREMENT = "torch==2.13.0"
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class Unavailable(Exception):
    """An implementation that cannot run here, with the reason to print in its row."""


def limit_threads(threads: int) -> str:
    """Ask NumPy's BLAS for `threads` threads (0: the library's default); describe the result.

    Environment variables are read once, when NumPy loads its BLAS: too late if NumPy has
    already been imported (as in a test calling main() in-process).
    """
    if threads <= 0:
        return "library defaults"
    if "numpy" in sys.modules:
        return f"{threads} (PyTorch); NumPy's BLAS as already started"
    for name in BLAS_THREAD_VARIABLES:
        os.environ[name] = str(threads)
    return str(threads)


def time_calls(call: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def time_interleaved(
    calls: dict[str, Callable[[], object]], warmup: int, repeats: int
) -> dict[str, list[float]]:
    """Seconds of each call over `repeats` rounds, after `warmup` untimed rounds.

    Every round runs each call once, in turn, so that a busy machine slows them alike: on a
    shared machine the load changes from second to second, and timing one implementation
    after the other would charge each with the load of its own minutes.
    """
    for _ in range(warmup):
        for call in calls.values():
            call()
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def summary(seconds: list[float]) -> dict:
    """Median and the 10th-90th percentile spread, in milliseconds."""
    import numpy as np

    ms = 1000 * np.asarray(seconds)
    return {
        "median_ms": float(np.median(ms)),
        "p10_ms": float(np.percentile(ms, 10)),
        "p90_ms": float(np.percentile(ms, 90)),
        "repeats": len(ms),
    }


def import_torch(threads: int):
    """PyTorch with `threads` threads (0: its default), or Unavailable saying how to get it."""
    try:
        import torch
    except ImportError as error:
        raise Unavailable(f"not installed: pip install {TORCH_REQUIREMENT}") from error
    if threads > 0:
        torch.set_num_threads(threads)
    return torch


def tinytorch_folder() -> Path | None:
    """The folder of the tinytorch package imported so far, or None."""
    package = sys.modules.get("tinytorch")
    return None if package is None else Path(next(iter(package.__path__))).resolve()


def whose_tinytorch() -> str:
    """ "reference" for this repository's package, "your own" for a student's."""
    return "reference" if tinytorch_folder() == REFERENCE_PACKAGE else "your own"
