"""The three GPT milestones of 2017, trained for real: vaswani_shakespeare, vaswani_chatgpt
and vaswani_copilot.

Their --quick settings run here as commands (CI), each asserting its criterion: a
validation loss below the corpus's bigram baseline by the margin the setting states,
calibrated on the reference (milestones/README.md has the figures), every validation
character scored, the exact answers and completions counted from what was printed. The full
settings run with TINYTORCH_FULL=1 (`make test-full`) and with `make milestones-2017`.
Apart from tests/milestones/test_milestones_transformer.py (helpers, padding, attention
proof, dashboard), so that pytest-xdist's --dist loadscope can run the two files side by side.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402

FULL = os.environ.get("TINYTORCH_FULL") == "1"
ERA = "05_2017_transformer"
SCRIPTS = {
    "vaswani_shakespeare": f"{ERA}/vaswani_shakespeare.py",
    "vaswani_chatgpt": f"{ERA}/vaswani_chatgpt.py",
    "vaswani_copilot": f"{ERA}/vaswani_copilot.py",
}


def framework() -> Path:
    return common.framework_folder()


def run_script(script: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a milestone as a command with this Python and capture its output."""
    return subprocess.run(
        [sys.executable, str(MILESTONES / SCRIPTS[script]), *args],
        cwd=REPO,
        env=dict(os.environ),
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


def run_quick(script: str) -> str:
    """The --quick setting as a command (seed 1): its output. Its training must take under
    two minutes of CPU (the wall clock depends on what else the machine runs).

    As a command the script asks for one BLAS thread; in-process, NumPy's BLAS would use
    every core and spin, which made these runs ten times slower on a shared machine.
    """
    result = run_script(script, "--quick", "--seed", "1", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert f"tinytorch at {framework()}" in out
    assert out.isascii(), "piped output should be plain ASCII"
    cpu = re.match(r"[\d.]+ s \(([\d.]+) s CPU\)$", table_value(out, "training time"))
    assert float(cpu.group(1)) < 120, table_value(out, "training time")
    return out


def test_vaswani_shakespeare_quick():
    out = run_quick("vaswani_shakespeare")
    assert table_value(out, "steps") == "600 of 600"
    assert table_value(out, "unigram baseline") == "3.374"
    assert table_value(out, "bigram baseline") == "2.569"
    assert table_value(out, "characters scored") == "103,616 (all of val)"
    val_loss = float(table_value(out, "val loss (nats/char)"))
    assert val_loss < 2.45 < 2.569, val_loss
    assert float(table_value(out, "below bigram by")) == pytest.approx(2.569 - val_loss, abs=2e-3)
    assert float(table_value(out, "whole run, CPU time").split()[0]) <= 300
    assert "A passage it wrote (prompt 'ROMEO.\\n', temperature 0.8):" in out
    assert "\n    ROMEO.\n" in out
    assert re.findall(r"^ +(\d+)/600 ", out, re.M) == ["200", "400", "600"]


def test_vaswani_chatgpt_quick():
    out = run_quick("vaswani_chatgpt")
    assert table_value(out, "training") == "AdamW, batch 16, 300 steps"
    assert table_value(out, "bigram baseline") == "2.104"
    assert table_value(out, "characters scored") == "3,455 (all of val)"
    val_loss = float(table_value(out, "val loss (nats/char)"))
    assert val_loss < 2.104 - 0.4, val_loss
    asked = {"val": 66, "test": 62, "train": 100}
    counts = {}
    for name, total in asked.items():
        cell = table_value(out, f"exact answers, {name}")
        right, of = re.match(r"(\d+)/(\d+) \(", cell).groups()
        assert int(of) == total and 0 <= int(right) <= total
        counts[name] = int(right)
    per_level = re.search(r"^Per level, val: (.*); test: (.*)\.$", out, re.M)
    for name, text in zip(("val", "test"), per_level.groups(), strict=True):
        pairs = re.findall(r"(\d+)/(\d+)", text)
        assert sum(int(r) for r, _ in pairs) == counts[name]
        assert sum(int(n) for _, n in pairs) == asked[name]
    shown = re.findall(r"model: (.*)  expected: (.*)  (right|wrong)$", out, re.M)
    assert len(shown) == 12
    for said, expected, mark in shown:
        assert (said == expected) == (mark == "right"), "marked by exact match"


def test_vaswani_copilot_quick():
    out = run_quick("vaswani_copilot")
    assert table_value(out, "training") == "AdamW, batch 16, 500 steps"
    assert table_value(out, "bigram baseline") == "2.519"
    assert table_value(out, "characters scored") == f"{101_169 - 7:,} (all of val)"
    val_loss = float(table_value(out, "val loss (nats/char)"))
    assert val_loss < 2.4 < 2.519, val_loss
    scored, total = re.match(
        r"([\d,]+) of ([\d,]+) \(no padding\)", table_value(out, "positions scored")
    ).groups()
    assert int(scored.replace(",", "")) < int(total.replace(",", "")) == 500 * 16 * 128
    bodies = out.count("[indented body]")
    assert bodies + out.count("[no indented body]") == 5
    assert table_value(out, "indented bodies") == f"{bodies} of 5"


# --------------------------------------------------------------------------------------
# Full settings (make test-full; make milestones-2017 runs the same scripts)
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="full training: TINYTORCH_FULL=1 (make test-full)")
@pytest.mark.parametrize("script", ["vaswani_shakespeare", "vaswani_chatgpt", "vaswani_copilot"])
def test_full_settings_meet_their_targets(script):
    result = run_script(script, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    val_loss = float(table_value(out, "val loss (nats/char)"))
    target = float(re.search(r"< ([\d.]+)", out[out.index("val loss (nats/char)") :]).group(1))
    assert val_loss < target, (val_loss, target)
    assert table_value(out, "characters scored").endswith("(all of val)")
