"""The 2018 optimisation milestone: generation_speedup.py (Module 14's KV cache).

- In-process on a fast setting (a few training steps, short prompt and generation): the
  cached and uncached texts are identical, the logits agree, the table reports both times
  and the speedup, and the milestone passes exactly when the outputs agree and the speedup
  reaches --target;
- a cache that changes one generated token fails the milestone, whatever its speed, and the
  table shows no speedup;
- as a command: exit 0 on the fast setting with a target of 1x, exit 1 when the target is
  out of reach, exit 2 naming Module 14 when the package lacks it.

The default run (300 training steps, 256 tokens after 768 characters at a context of 1024,
about a minute) is the one the README reports; it is too slow for CI.

enable_autograd() rewires Tensor, the activations and the losses for the whole process; the
`autograd_undone` fixture puts them back after each in-process run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
sys.path.insert(0, str(MILESTONES))

import common  # noqa: E402

SCRIPT = "06_2018_optimization/generation_speedup.py"
FAST = ["--steps", "3", "--tokens", "12", "--prompt-length", "24"]


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


def table_value(out: str, measure: str) -> str:
    """The result cell of the row `measure` in a printed results table."""
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == measure:
            return cells[1]
    raise AssertionError(f"no row {measure!r} in the table:\n{out}")


def run_script(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = ["-c", code] if code else [str(MILESTONES / SCRIPT)]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_identical_outputs_then_the_speedup(capsys, autograd_undone):
    results = common.load_script(SCRIPT).main([*FAST, "--target", "0"])
    assert results["framework"] == str(common.framework_folder())
    assert results["identical"] is True
    assert 0 <= results["max_difference"] <= 1e-5
    assert results["cpu_uncached"] > 0 and results["cpu_cached"] > 0
    assert results["speedup"] == pytest.approx(results["cpu_uncached"] / results["cpu_cached"])
    assert results["wall_speedup"] == pytest.approx(
        results["wall_uncached"] / results["wall_cached"]
    )
    assert len(results["losses"]) == 3
    assert results["passed"] is True
    out = capsys.readouterr().out
    assert "Framework: tinytorch at" in out
    assert table_value(out, "tokens identical") == "yes"
    assert table_value(out, "speedup") == f"{results['speedup']:.1f}x"
    assert table_value(out, "cache memory").startswith("1,024 KiB")  # 2 x 2 x 4 x 1024 x 16 x 4


def test_a_cache_that_changes_the_text_fails_whatever_its_speed(
    capsys, autograd_undone, monkeypatch
):
    import tinytorch.generation.kv_cache as kv

    original = kv.generate_cached

    def altered(*args, **kwargs):
        out = original(*args, **kwargs)
        out[:, -1] = (out[:, -1] + 1) % 77
        return out

    monkeypatch.setattr(kv, "generate_cached", altered)
    results = common.load_script(SCRIPT).main([*FAST, "--target", "0"])
    assert results["identical"] is False and results["passed"] is False
    out = capsys.readouterr().out
    assert table_value(out, "tokens identical") == "NO"
    assert table_value(out, "speedup") == "-"
    assert "does not write the uncached model's text" in out


def test_as_a_command_the_exit_code_says_whether_the_target_was_reached():
    reached = run_script(*FAST, "--target", "1")
    assert reached.returncode == 0, reached.stdout[-3000:] + reached.stderr
    assert "2018: generation with a KV cache" in reached.stdout
    assert reached.stdout.isascii(), "piped output should be plain ASCII"
    missed = run_script(*FAST, "--target", "1e9")
    assert missed.returncode == 1, missed.stdout[-3000:] + missed.stderr
    assert table_value(missed.stdout, "tokens identical") == "yes"


def test_without_module_14_it_exits_2_naming_it():
    code = (
        "import sys, runpy; sys.modules['tinytorch.generation.kv_cache'] = None; "
        f"sys.argv = ['generation_speedup.py'] + sys.argv[1:]; "
        f"runpy.run_path({str(MILESTONES / SCRIPT)!r}, run_name='__main__')"
    )
    result = run_script(*FAST, code=code)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs Module 14 (tinytorch.generation.kv_cache)" in result.stderr


def test_a_prompt_and_tokens_past_the_context_are_refused(capsys, autograd_undone):
    with pytest.raises(SystemExit) as stopped:
        common.load_script(SCRIPT).main(
            ["--steps", "0", "--tokens", "300", "--prompt-length", "800"]
        )
    assert stopped.value.code == 2
    assert "must fit the 1024 positions" in capsys.readouterr().err
