"""`coursekit bench acceleration`: Module 16's matrix products under the BLAS roof.

Runs the benchmark as a command on a tiny setting (sizes 8, 16 and 32, the triple loop only
up to 16) and reads what it prints: every version agrees with float64 before anything is
timed, the GFLOP/s table has one row per version with positive speeds exactly at the sizes
each version is timed at, the roof is the fastest BLAS run, the thread table has a row per
thread count, and the plot is a PNG. A version that computes another product (a tiled
product that skips its last tile) makes it exit 1 and time nothing; without Module 16 it
exits 2 naming it.

The commands run in a temporary folder, so that `python -m` imports the tinytorch that the
environment provides (the repository's through its editable install), not whatever sits in
the current folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from coursekit.bench import acceleration as bench_acceleration

ROWS = (
    "loops i, j, p",
    "rows i, p, j",
    "tiled, t = 8",
    "BLAS float32",
    "BLAS float64",
)
BROKEN = (
    "import tinytorch.optimization.acceleration as acc\n"
    "original = acc.matmul_tiled\n"
    "def skipping(a, b, tile_size=32, kernel=None):\n"
    "    out = original(a, b, tile_size, kernel)\n"
    "    out[-1, -1] += 1.0  # a tile product lost\n"
    "    return out\n"
    "acc.matmul_tiled = skipping\n"
    "from coursekit.bench.acceleration import main\n"
    "raise SystemExit(main())"
)
HIDE = (
    "import sys; sys.modules['tinytorch.optimization.acceleration'] = None\n"
    "from coursekit.bench.acceleration import main\n"
    "raise SystemExit(main())"
)


def small(plot: Path) -> list[str]:
    return [
        "--sizes",
        "8,16,32",
        "--naive-max",
        "16",
        "--rows-max",
        "32",
        "--tiles",
        "8",
        "--repeats",
        "2",
        "--thread-counts",
        "1,2",
        "--plot",
        str(plot),
    ]


def bench(cwd: Path, code: str | None = None) -> subprocess.CompletedProcess:
    command = ["-c", code] if code else ["-m", "coursekit.bench.acceleration"]
    return subprocess.run(
        [sys.executable, *command, *small(cwd / "plot.png")],
        cwd=cwd,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )


def table_rows(out: str) -> dict[str, list[str]]:
    """The rows of the printed tables by their first cell."""
    found = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) > 1 and cells[0]:
            found[cells[0]] = cells[1:]
    return found


def test_benchmark_prints_the_table_the_roof_the_threads_and_a_plot(tmp_path):
    result = bench(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Every version agrees with float64 on (65, 33) @ (33, 17) and at every size." in out
    rows = table_rows(out)
    assert rows["version"] == ["n=8", "n=16", "n=32", "best, % of roof"]
    timed = {name: [cell != "-" for cell in rows[name][:3]] for name in ROWS}
    assert timed["loops i, j, p"] == [True, True, False], "the triple loop stops at --naive-max"
    assert all(all(timed[name]) for name in ROWS[1:])
    for name in ROWS:
        for cell in rows[name][:3]:
            assert cell == "-" or float(cell) > 0, f"{name}: {cell!r}"
        assert re.fullmatch(r"[\d.e+-]+% at (16|32)", rows[name][3]), rows[name][3]
    roof = float(re.search(r"Roof: ([\d.]+) GFLOP/s", out).group(1))
    assert roof > 0
    assert float(rows["BLAS float32"][3].split("%")[0]) <= 100.0 + 1e-9, "the roof is BLAS's best"
    for threads in ("1", "2"):
        median, best = (float(v) for v in rows[threads])
        assert 0 < median <= best, f"{threads} threads: median {median}, best {best}"
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_wrong_product_exits_1_and_times_nothing(tmp_path):
    result = bench(tmp_path, BROKEN)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "compute another product than float64 a @ b: tiled, t = 8" in result.stdout
    assert "Nothing was timed." in result.stdout
    assert "GFLOP/s (median run)" not in result.stdout
    assert not (tmp_path / "plot.png").exists()


def test_without_module_16_exits_2_naming_it(tmp_path):
    result = bench(tmp_path, HIDE)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs Module 16 (tinytorch.optimization.acceleration): export it" in result.stdout


def test_versions_time_each_size_at_most_once_and_agree_in_process():
    import numpy as np

    acc = bench_acceleration.import_acceleration()
    table = bench_acceleration.versions(acc, [4, 8, 64], naive_max=8, rows_max=8, tiles=[4])
    assert table["loops i, j, p"][2] == [4, 8] and table["tiled, t = 4"][2] == [4, 8, 64]
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 3))
    for fn, dtype, _ in table.values():
        assert bench_acceleration.agrees(fn, a, b, dtype)
    assert not bench_acceleration.agrees(lambda x, y: x @ y + 1.0, a, b, np.float32)
    calls = []
    seconds = bench_acceleration.measure(lambda: calls.append(1), repeats=3, budget=10.0)
    assert len(seconds) == 3 and len(calls) == 4, "one untimed call, then the timed ones"
