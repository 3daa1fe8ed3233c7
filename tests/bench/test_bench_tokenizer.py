"""`coursekit bench tokenizer`: Module 10's BPE trained and timed, beside Rust `tokenizers`.

Runs the benchmark as a command on the first 60,000 characters of Shakespeare with 64
merges and reads its table: the tinytorch row carries positive times, a vocabulary of
256 + 64 and more than one byte per token, and the tokenizers row either its own figures
and ratios or the message saying how to install it (the library is not a course
dependency, so both must work). Without Module 10 the benchmark exits 2 naming it. The
job itself is checked in-process: its merges are the reference's and it round-trips.

The commands run in a temporary folder, so that `python -m` imports the tinytorch that the
environment provides (the repository's through its editable install, or PYTHONPATH's).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit.bench import tokenizer as bench_tokenizer
from coursekit.bench.training import Unavailable

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "milestones"))

import common  # noqa: E402

NOT_INSTALLED = "not installed: pip install tokenizers==0.23.3"
ROW_NAMES = ("tinytorch", "tokenizers (Rust)")
SMALL = ("--chars", "60000", "--merges", "64", "--repeats", "1")


def bench(
    cwd: Path, *args: str, python_code: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the benchmark (or `python_code`, which calls it) with small settings."""
    command = ["-c", python_code] if python_code else ["-m", "coursekit.bench.tokenizer"]
    return subprocess.run(
        [sys.executable, *command, *SMALL, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(out: str) -> dict[str, list[str]]:
    """The table's rows by implementation: the cells of each (plain ASCII table)."""
    found = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] in ROW_NAMES:
            found[cells[0]] = cells
    return found


def assert_timed(cells: list[str], merges: int = 64) -> None:
    name, train, encode, speed, vocab, per_token, *_ = cells
    for label, value, digits in (
        ("train s", train, 3),
        ("encode s", encode, 3),
        ("MB/s", speed, 2),
    ):
        assert re.fullmatch(rf"\d+\.\d{{{digits}}}", value), f"{name}: {label} {value!r}"
        assert float(value) > 0, f"{name}: {label} {value!r}"
    assert int(vocab) == 256 + merges, f"{name}: vocabulary {vocab!r}"
    assert 1.0 < float(per_token) < 4.0, f"{name}: bytes per token {per_token!r}"


def test_benchmark_prints_times_for_tinytorch_and_the_rust_library(tmp_path):
    result = bench(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    table = rows(out)
    assert_timed(table["tinytorch"])
    assert table["tinytorch"][8] == "reference"
    rust = table["tokenizers (Rust)"]
    if rust[1] == "-":
        assert rust[8] == NOT_INSTALLED
        assert table["tinytorch"][6:8] == ["n/a", "n/a"]
    else:
        assert_timed(rust)
        assert rust[6:8] == ["1.0x", "1.0x"]
        for column in (1, 2):  # the ratio of the shown times, up to their rounding
            ours, theirs = float(table["tinytorch"][column]), float(rust[column])
            low, high = (ours - 5e-4) / (theirs + 5e-4), (ours + 5e-4) / (theirs - 5e-4)
            shown = float(table["tinytorch"][5 + column].removesuffix("x"))
            assert low - 0.05 <= shown <= high + 0.05, f"ratio {shown} for {ours} / {theirs}"
    assert "Byte-level BPE on shakespeare (60,000 bytes): train 64 merges" in out
    assert "Median of 1 runs, each training from scratch; tokenizers threads: 1." in out
    assert "gives the text back exactly: yes, for every implementation that ran." in out
    assert out.isascii()


def test_benchmark_without_tokenizers_says_how_to_install_it(tmp_path):
    hide = (
        "import sys; sys.modules['tokenizers'] = None; "  # `import tokenizers` raises
        "from coursekit.bench.tokenizer import main; raise SystemExit(main(sys.argv[1:]))"
    )
    result = bench(tmp_path, "--corpus", "pycode", python_code=hide)
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(result.stdout)
    assert table["tokenizers (Rust)"][1:] == ["-"] * 7 + [NOT_INSTALLED]
    assert_timed(table["tinytorch"])
    assert "Byte-level BPE on pycode (60,000 bytes)" in result.stdout


def test_benchmark_without_module_10_exits_2_naming_it(tmp_path):
    package = tmp_path / "tinytorch"
    shutil.copytree(common.framework_folder(), package)
    (package / "text" / "tokenization.py").unlink()
    for cache in package.rglob("__pycache__"):
        shutil.rmtree(cache)
    result = bench(tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    table = rows(result.stdout)
    assert table["tinytorch"][1] == "-"
    assert "needs Module 10 (tinytorch.text.tokenization): export it" in table["tinytorch"][8]


def test_the_job_learns_the_reference_merges_and_round_trips():
    from tinytorch.text import tokenization

    text = bench_tokenizer.read_corpus("tinytalks", chars=5000)
    job, what = bench_tokenizer.tinytorch_job()
    result = job(text, 40)
    assert what == "reference"
    assert result["exact"] and result["vocab"] == 256 + 40
    assert result["tokens"] == len(tokenization.encode_bpe(text, tokenization.train_bpe(text, 40)))
    assert result["train_s"] > 0 and result["encode_s"] > 0


def test_the_corpus_is_the_whole_shakespeare_selection():
    text = bench_tokenizer.read_corpus("shakespeare")
    assert len(text.encode("utf-8")) == 932_872 + 103_617, "train and val joined"
    assert bench_tokenizer.read_corpus("shakespeare", chars=100) == text[:100]


def test_the_rust_row_without_the_library_is_a_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(Unavailable, match=re.escape(NOT_INSTALLED)):
        bench_tokenizer.tokenizers_job()
