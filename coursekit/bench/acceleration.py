"""`python -m coursekit.bench.acceleration`: Module 16's matrix products under the BLAS roof.

For square float32 matrices of growing size n (--sizes, default 16 to 1024), the speed in
GFLOP/s (2 n^3 FLOPs divided by the median time) of

- the triple loop, `matmul_loops` (one multiply-add per Python step), only up to
  --naive-max (default 64): at half a microsecond per multiply-add, n = 1024 would take
  ten minutes;
- the row version, `matmul_ikj` (one vector operation per row update), up to --rows-max
  (default 256);
- the tiled product, `matmul_tiled`, with NumPy's BLAS as the kernel, for each tile size of
  --tiles (default 32 and 128);
- NumPy's own product (BLAS) in float32, and in float64.

The roof is the fastest single run of any BLAS float32 product. Nothing is timed before
every version has been checked against a float64 product: on an awkward shape (65 x 33 @
33 x 17) and at every size it is timed at (exit 1 and nothing timed when one differs).
Each measurement is one untimed call, then --repeats timed calls (fewer for the slow
versions at their largest sizes: at most about --budget seconds each); the table shows the
medians, and each version's best run as a share of the roof at its largest size.

A second table times the largest BLAS float32 product with 1, 2, ... BLAS threads
(--thread-counts): each count runs in a fresh Python process with OPENBLAS_NUM_THREADS set,
because the thread count is fixed when NumPy loads its BLAS. The main measurements use one
BLAS thread (--threads), which keeps timings on a shared machine steady.

The plot (GFLOP/s against n on logarithmic axes, the roof dashed) is written to --plot
(default build/bench/acceleration.png).

    python -m coursekit.bench.acceleration [--sizes 16,32,64,128,256,512,1024]
        [--naive-max 64] [--rows-max 256] [--tiles 32,128] [--repeats 5] [--budget 1.0]
        [--thread-counts 1,2] [--threads 1] [--plot PATH] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..modules import REPO
from .timing import (
    BLAS_THREAD_VARIABLES,
    REFERENCE_PACKAGE,
    Unavailable,
    limit_threads,
    tinytorch_folder,
)

MODULE = ("tinytorch.optimization.acceleration", "Module 16")
AWKWARD = (65, 33, 17)  # (n, k, m) of the first check
TOLERANCE = 1e-3  # largest |difference| from float64, relative to the largest |entry|
DEFAULT_PLOT = REPO / "build" / "bench" / "acceleration.png"
THREAD_PROBE = """
import sys, time
import numpy as np
n, repeats = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n)).astype(np.float32)
b = rng.standard_normal((n, n)).astype(np.float32)
a @ b
seconds = []
for _ in range(repeats):
    started = time.perf_counter()
    a @ b
    seconds.append(time.perf_counter() - started)
print(" ".join(str(s) for s in seconds))
"""


def import_acceleration():
    """Module 16's package file; Unavailable naming what is missing."""
    name, course_module = MODULE
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise Unavailable(f"needs {course_module} ({name}): export it") from error
        raise


def versions(acc, sizes: list[int], naive_max: int, rows_max: int, tiles: list[int]) -> dict:
    """name -> (function of two arrays, dtype, the sizes it is timed at)."""
    import numpy as np

    table: dict[str, tuple[Callable, object, list[int]]] = {
        "loops i, j, p": (acc.matmul_loops, np.float32, [n for n in sizes if n <= naive_max]),
        "rows i, p, j": (acc.matmul_ikj, np.float32, [n for n in sizes if n <= rows_max]),
    }
    for tile in tiles:
        table[f"tiled, t = {tile}"] = (
            lambda a, b, tile=tile: acc.matmul_tiled(a, b, tile),
            np.float32,
            list(sizes),
        )
    table["BLAS float32"] = (np.matmul, np.float32, list(sizes))
    table["BLAS float64"] = (np.matmul, np.float64, list(sizes))
    return table


def agrees(fn: Callable, a, b, dtype) -> bool:
    """fn(a, b) in dtype is a @ b computed in float64, to TOLERANCE of its largest entry."""
    import numpy as np

    exact = a.astype(np.float64) @ b.astype(np.float64)
    got = np.asarray(fn(a.astype(dtype), b.astype(dtype)), dtype=np.float64)
    scale = max(1.0, float(np.abs(exact).max()))
    return got.shape == exact.shape and float(np.abs(got - exact).max()) <= TOLERANCE * scale


def measure(fn: Callable[[], object], repeats: int, budget: float) -> list[float]:
    """Seconds of timed calls of fn after one untimed call: `repeats` of them, or as many as
    fit in about `budget` seconds (at least one)."""
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    count = max(1, min(repeats, int(budget / max(first, 1e-9))))
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    return seconds


def run(
    sizes: list[int],
    naive_max: int = 64,
    rows_max: int = 256,
    tiles: list[int] | None = None,
    repeats: int = 5,
    budget: float = 1.0,
    seed: int = 0,
) -> dict:
    """Check every version, then time it at its sizes.

    Returns "rows" (one per version: "name", "speeds" {n: (median GFLOP/s, best GFLOP/s,
    timed calls)}), "roof" (the fastest BLAS float32 run, GFLOP/s), "agree" (every check
    passed; nothing is timed otherwise) and "failed" (the versions that differed).
    """
    import numpy as np

    acc = import_acceleration()
    rng = np.random.default_rng(seed)
    table = versions(acc, sizes, naive_max, rows_max, tiles if tiles is not None else [32, 128])
    n, k, m = AWKWARD
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    failed = [name for name, (fn, dtype, _) in table.items() if not agrees(fn, a, b, dtype)]
    operands = {
        n: (
            rng.standard_normal((n, n)).astype(np.float32),
            rng.standard_normal((n, n)).astype(np.float32),
        )
        for n in sizes
    }
    for name, (fn, dtype, timed_sizes) in table.items():
        if name not in failed and not all(agrees(fn, *operands[n], dtype) for n in timed_sizes):
            failed.append(name)
    result = {"rows": [], "roof": 0.0, "agree": not failed, "failed": failed}
    if failed:
        return result  # nothing is timed when a version computes another product
    for name, (fn, dtype, timed_sizes) in table.items():
        speeds = {}
        for n in timed_sizes:
            x, y = (v.astype(dtype) for v in operands[n])
            seconds = measure(lambda fn=fn, x=x, y=y: fn(x, y), repeats, budget)
            flops = 2 * n**3
            speeds[n] = (
                flops / float(np.median(seconds)) / 1e9,
                flops / min(seconds) / 1e9,
                len(seconds),
            )
        result["rows"].append({"name": name, "speeds": speeds})
    blas = next(row for row in result["rows"] if row["name"] == "BLAS float32")
    result["roof"] = max(best for _, best, _ in blas["speeds"].values())
    return result


def thread_speeds(counts: list[int], n: int, repeats: int) -> list[dict]:
    """The float32 BLAS product of n x n matrices in a fresh process per thread count:
    {"threads", "median", "best"} in GFLOP/s, or {"threads", "error"}."""
    import numpy as np

    rows = []
    for count in counts:
        env = {**os.environ, **{name: str(count) for name in BLAS_THREAD_VARIABLES}}
        done = subprocess.run(
            [sys.executable, "-c", THREAD_PROBE, str(n), str(max(1, repeats))],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            rows.append({"threads": count, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        seconds = [float(s) for s in done.stdout.split()]
        flops = 2 * n**3
        rows.append(
            {
                "threads": count,
                "median": flops / float(np.median(seconds)) / 1e9,
                "best": flops / min(seconds) / 1e9,
            }
        )
    return rows


def plot(results: dict, path: Path) -> Path:
    """GFLOP/s against n for every version, the roof dashed; written as a PNG to path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for row in results["rows"]:
        ns = sorted(row["speeds"])
        ax.plot(ns, [row["speeds"][n][0] for n in ns], marker="o", label=row["name"])
    ax.axhline(
        results["roof"], color="black", linestyle="--", linewidth=1, label="roof (best BLAS run)"
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("n (square n x n float32 matrices)")
    ax.set_ylabel("GFLOP/s, median run")
    ax.set_title("Module 16: one matrix product, several ways")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def describe_tinytorch() -> str:
    folder = tinytorch_folder()
    return "reference tinytorch" if folder == REFERENCE_PACKAGE else f"tinytorch at {folder}"


def report(results: dict, sizes: list[int], threads: str, counts: list[dict], plot_path) -> None:
    """Print the checks, the GFLOP/s table, the thread table and where the plot went."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: wide enough that no row wraps
        console = Console(highlight=False, markup=False, width=160)
    style = box.ROUNDED if console.is_terminal else box.ASCII
    console.print(f"Module 16's matrix products, {describe_tinytorch()}; BLAS threads: {threads}.")
    if not results["agree"]:
        console.print(
            f"These versions compute another product than float64 a @ b: "
            f"{', '.join(results['failed'])}. Nothing was timed."
        )
        return
    n, k, m = AWKWARD
    console.print(
        f"Every version agrees with float64 on ({n}, {k}) @ ({k}, {m}) and at every size."
    )
    table = Table(title="GFLOP/s (median run) of square float32 products", box=style)
    table.add_column("version", justify="left")
    for size in sizes:
        table.add_column(f"n={size}", justify="right")
    table.add_column("best, % of roof", justify="right")
    for row in results["rows"]:
        speeds = row["speeds"]
        largest = max(speeds)
        cells = [f"{speeds[s][0]:.3g}" if s in speeds else "-" for s in sizes]
        share = f"{100 * speeds[largest][1] / results['roof']:.3g}% at {largest}"
        table.add_row(row["name"], *cells, share)
    console.print(table)
    console.print(f"Roof: {results['roof']:.1f} GFLOP/s, the fastest BLAS float32 run.")
    if counts:
        largest = max(sizes)
        threads_table = Table(
            title=f"BLAS float32, {largest} x {largest}, by thread count (a fresh process each)",
            box=style,
        )
        for column in ("BLAS threads", "GFLOP/s median", "best"):
            threads_table.add_column(column, justify="right")
        for row in counts:
            if "error" in row:
                threads_table.add_row(str(row["threads"]), "failed", " ".join(row["error"]))
            else:
                threads_table.add_row(
                    str(row["threads"]), f"{row['median']:.1f}", f"{row['best']:.1f}"
                )
        console.print(threads_table)
    console.print(
        f"{os.cpu_count()} CPUs. Speed: 2 n^3 FLOPs / median seconds of the timed calls (after "
        "one untimed call); slow versions get fewer calls (--budget). Plot: "
        f"{plot_path}"
    )


def int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when every version computed the right product; 1 when one did not; 2 when
    tinytorch's Module 16 could not be imported."""
    parser = argparse.ArgumentParser(prog="bench_acceleration", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int_list, default=[16, 32, 64, 128, 256, 512, 1024])
    parser.add_argument("--naive-max", type=int, default=64, help="largest n of the triple loop")
    parser.add_argument("--rows-max", type=int, default=256, help="largest n of matmul_ikj")
    parser.add_argument("--tiles", type=int_list, default=[32, 128], help="tile sizes (32,128)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (5)")
    parser.add_argument(
        "--budget", type=float, default=1.0, help="about the seconds one measurement may take"
    )
    parser.add_argument(
        "--thread-counts", type=int_list, default=[1, 2], help="BLAS threads of the second table"
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads of the main table")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="where the PNG goes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    threads = limit_threads(args.threads)  # before NumPy is imported
    sizes = sorted(set(args.sizes))
    try:
        results = run(
            sizes,
            args.naive_max,
            args.rows_max,
            args.tiles,
            max(1, args.repeats),
            args.budget,
            args.seed,
        )
    except Unavailable as reason:
        print(f"tinytorch cannot run this benchmark: {reason}")
        return 2
    if not results["agree"]:
        report(results, sizes, threads, [], None)
        return 1
    counts = thread_speeds(args.thread_counts, max(sizes), max(1, args.repeats))
    path = plot(results, args.plot)
    report(results, sizes, threads, counts, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
