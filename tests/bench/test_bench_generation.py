"""`coursekit bench generation`: Module 14's KV cache against full recomputation.

Runs the benchmark as a command on a small setting (two short prompts, a context of 40) and
reads what it prints: the outputs are declared identical before anything is timed, the
generation table carries positive times and a speedup that is the ratio of its medians, and
the step table one row per position asked for, with the FLOP ratio of the formula. A cache
that changes the output (a wrapper that alters one generated token) makes it exit 1 and time
nothing; without Module 14 it exits 2 naming it.

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

from coursekit.bench import generation as bench_generation

SMALL = [
    "--prompts",
    "4,12",
    "--tokens",
    "10",
    "--context",
    "40",
    "--positions",
    "8,30,39",
    "--repeats",
    "2",
    "--step-repeats",
    "2",
    "--warmup",
    "1",
]
BROKEN = (
    "import tinytorch.generation.kv_cache as kv\n"
    "original = kv.generate_cached\n"
    "def altered(*args, **kwargs):\n"
    "    out = original(*args, **kwargs)\n"
    "    out[:, -1] = (out[:, -1] + 1) % 77\n"
    "    return out\n"
    "kv.generate_cached = altered\n"
    "from coursekit.bench.generation import main\n"
    "raise SystemExit(main())"
)
HIDE = (
    "import sys; sys.modules['tinytorch.generation.kv_cache'] = None\n"
    "from coursekit.bench.generation import main\n"
    "raise SystemExit(main())"
)


def bench(cwd: Path, code: str | None = None) -> subprocess.CompletedProcess:
    command = ["-c", code] if code else ["-m", "coursekit.bench.generation"]
    return subprocess.run(
        [sys.executable, *command, *SMALL],
        cwd=cwd,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(out: str, width: int) -> list[list[str]]:
    """The data rows (first cell a number) of the printed tables with `width` columns."""
    found = []
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == width and cells[0].isdigit():
            found.append(cells)
    return found


def test_outputs_are_identical_then_both_tables_are_timed(tmp_path):
    result = bench(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "GPT(vocab 77, d=64, 2 blocks, 4 heads, context 40), seeded" in out
    assert "Outputs: identical. Generated tokens, per prompt: 4: same, 12: same." in out
    difference = float(
        re.search(r"logit along the longest sequence: (\S+) \(tolerance", out).group(1)
    )
    assert 0 <= difference <= 1e-5
    generation = rows(out, 9)
    assert [r[0] for r in generation] == ["4", "12"]
    for (
        _prompt,
        slow,
        slow_spread,
        slow_token,
        fast,
        fast_spread,
        fast_token,
        ratio,
        cpu,
    ) in generation:
        slow, fast = float(slow), float(fast)
        assert slow > 0 and fast > 0
        for median, spread in ((slow, slow_spread), (fast, fast_spread)):
            low, high = (float(v) for v in spread.split("-"))
            assert low <= median + 1e-3 and median <= high + 1e-3
        half = 0.0005  # the seconds are printed to 3 decimals
        assert abs(float(slow_token) - 1000 * slow / 10) <= 1000 * half / 10 + 1e-3
        assert abs(float(fast_token) - 1000 * fast / 10) <= 1000 * half / 10 + 1e-3
        low, high = (slow - half) / (fast + half), (slow + half) / max(fast - half, 1e-9)
        assert low - 0.05 <= float(ratio.rstrip("x")) <= high + 0.05, "the ratio of the medians"
        assert re.fullmatch(r"\d+\.\dx", cpu)
    steps = rows(out, 5)
    assert [r[0] for r in steps] == ["8", "30", "39"]
    for position, slow, fast, ratio, flops in steps:
        assert float(slow) > 0 and float(fast) > 0
        low = (float(slow) - 5e-4) / (float(fast) + 5e-4)  # the ms are printed to 3 decimals
        high = (float(slow) + 5e-4) / (float(fast) - 5e-4)
        assert low - 0.05 <= float(ratio.rstrip("x")) <= high + 0.05, "the ratio of the medians"
        context = int(position) + 1
        expected = bench_generation.step_flops(context, 64, 2, False) / bench_generation.step_flops(
            context, 64, 2, True
        )
        assert flops == f"{expected:.0f}x"
    assert "threads: 1" in out and "Medians of 2 rounds" in out


def test_a_cache_that_changes_the_output_exits_1_and_times_nothing(tmp_path):
    result = bench(tmp_path, BROKEN)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Outputs: DIFFERENT" in result.stdout and "4: DIFFERENT" in result.stdout
    assert "nothing was timed" in result.stdout
    assert not rows(result.stdout, 9) and not rows(result.stdout, 5)


def test_without_module_14_exits_2_naming_it(tmp_path):
    result = bench(tmp_path, HIDE)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs Module 14 (tinytorch.generation.kv_cache): export it" in result.stdout


def test_step_flops_follow_module_13s_count():
    # a full step: L (24 d^2 T + 4 T^2 d); a cached step: L (24 d^2 + 4 T d)
    assert bench_generation.step_flops(10, 8, 3, False) == 3 * (24 * 64 * 10 + 4 * 100 * 8)
    assert bench_generation.step_flops(10, 8, 3, True) == 3 * (24 * 64 + 4 * 10 * 8)


def test_a_generation_that_does_not_fit_the_context_is_refused():
    config = bench_generation.Config(width=16, layers=1, heads=2, context=20)
    try:
        bench_generation.run(config, [12], 10, repeats=1, warmup=0)
    except ValueError as error:
        assert "21 positions; the model has 20" in str(error)
    else:
        raise AssertionError("12 + 10 - 1 positions in a context of 20 should be refused")
