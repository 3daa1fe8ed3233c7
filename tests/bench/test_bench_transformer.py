"""`coursekit bench transformer`: Module 13's GPT, a training and a generation step vs PyTorch.

Runs the benchmark as a command on a small model with small repeat counts and reads its two
tables: the tinytorch rows carry positive times, repeat counts and tokens per second, and the
PyTorch rows either a time or the message saying how to install it (PyTorch is not a course
dependency, so both must work; a second run hides it to check the message). The
implementations' first losses and next-character logits must agree. Without Module 13 the
benchmark exits 2 naming it.

The commands run in a temporary folder, so that `python -m` imports the tinytorch that the
environment provides (the repository's through its editable install), not whatever sits in
the current folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from coursekit.bench import transformer as bench_transformer

NOT_INSTALLED = "not installed: pip install torch==2.13.0"
NUMBER = r"\d+\.\d{3}"
ROWS = ("tinytorch", "PyTorch (CPU)")
SMALL = ["--batch", "4", "--context", "16", "--width", "32", "--layers", "1", "--heads", "2"]
HIDE = (
    "import sys; sys.modules[{module!r}] = None\n"
    "from coursekit.bench.transformer import main\n"
    "raise SystemExit(main())"
)


def bench(cwd: Path, hide: str | None = None) -> subprocess.CompletedProcess:
    """Run the benchmark on the small model, hiding one module from it when asked."""
    command = ["-c", HIDE.format(module=hide)] if hide else ["-m", "coursekit.bench.transformer"]
    return subprocess.run(
        [sys.executable, *command, *SMALL, "--repeats", "3", "--gen-repeats", "4", "--warmup", "1"],
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
        elif current is not None and len(cells) == 7 and cells[0] in ROWS:
            current[cells[0]] = cells
    return found


def assert_timed(cells: list[str], repeats: str) -> None:
    name, median, spread, count, tokens, ratio, what = cells
    assert re.fullmatch(NUMBER, median) and float(median) > 0, f"{name}: ms {median!r}"
    low, high = (float(v) for v in spread.split("-"))
    assert 0 < low <= float(median) <= high, f"{name}: spread {spread!r}"
    assert count == repeats, f"{name}: {count} repeats, expected {repeats}"
    assert float(tokens.replace(",", "")) > 0, f"{name}: tokens/s {tokens!r}"
    assert re.fullmatch(r"\d+\.\dx|n/a", ratio), f"{name}: ratio {ratio!r}"
    assert what, f"{name}: says what ran"


def assert_torch_row(cells: list[str], repeats: str) -> None:
    if cells[-1] == NOT_INSTALLED:
        assert cells[1:6] == ["-"] * 5
    else:
        assert_timed(cells, repeats)
        assert cells[5] == "1.0x" and cells[6].startswith("torch ")


def test_benchmark_prints_both_tables_with_positive_times(tmp_path):
    result = bench(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    train, generate = tables(out)
    assert set(train) == set(ROWS) and set(generate) == set(ROWS)
    assert_timed(train["tinytorch"], "3")
    assert_timed(generate["tinytorch"], "4")
    assert_torch_row(train["PyTorch (CPU)"], "3")
    assert_torch_row(generate["PyTorch (CPU)"], "4")
    assert "GPT(vocab 77, d=32, 1 blocks, 2 heads, context 16), batch 4" in out
    assert "after a 16-character prompt" in out and "threads: 1" in out
    assert "first 3 steps agree" in out and "next-character logits agree" in out
    step_ms, tokens = float(train["tinytorch"][1]), float(train["tinytorch"][4].replace(",", ""))
    assert abs(tokens - 4 * 16 / (step_ms / 1000)) <= 0.01 * tokens, "B x T tokens per step"


def test_benchmark_without_pytorch_says_how_to_install_it(tmp_path):
    result = bench(tmp_path, hide="torch")
    assert result.returncode == 0, result.stdout + result.stderr
    train, generate = tables(result.stdout)
    for rows in (train, generate):
        assert rows["PyTorch (CPU)"][-1] == NOT_INSTALLED
        assert rows["tinytorch"][5] == "n/a"
    assert_timed(train["tinytorch"], "3")


def test_benchmark_without_module_13_exits_2_naming_it(tmp_path):
    result = bench(tmp_path, hide="tinytorch.models.transformer")
    assert result.returncode == 2, result.stdout + result.stderr
    train, generate = tables(result.stdout)
    message = "needs Module 13 (tinytorch.models.transformer): export it"
    assert train["tinytorch"][-1] == message and generate["tinytorch"][-1] == message


def test_the_batch_comes_from_shakespeare_with_char_tokenizer_ids():
    config = bench_transformer.Config(batch=3, context=8)
    data = bench_transformer.shakespeare_data(config, seed=1)
    again = bench_transformer.shakespeare_data(config, seed=1)
    assert (data["batch"] == again["batch"]).all() and (data["prompt"] == again["prompt"]).all()
    assert data["batch"].shape == (3, 9) and data["prompt"].shape == (1, 8)
    assert data["vocab"] == 77
    if importlib.util.find_spec("tinytorch.text.tokenization"):
        from tinytorch.text.tokenization import CharTokenizer, load_corpus

        tokenizer = CharTokenizer(load_corpus("shakespeare", "train"))
        assert tokenizer.vocab_size == data["vocab"]
        text = tokenizer.decode(data["batch"][0].tolist())
        assert tokenizer.encode(text) == data["batch"][0].tolist()
