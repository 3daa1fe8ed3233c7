"""`python -m coursekit.bench.tokenizer`: Module 10's byte-level BPE, trained and timed.

The job: learn 512 merges (--merges) on the whole Shakespeare corpus of the course
(`datasets/shakespeare/`, train and val joined: 1,036,489 bytes), then encode that same
text with the merges, and decode it back. Timed for:

- tinytorch: `train_bpe`, `encode_bpe` and `decode_bpe` of the tinytorch Python imports
  (the reference package of this repository, or a student's own), with the module's
  default pre-split pattern. Decoding must give the text back exactly, or the run fails.
- the Rust `tokenizers` library (Hugging Face), when `import tokenizers` works (it is not a
  course dependency): a byte-level BPE with GPT-2's pre-split, trained to the same
  vocabulary size (256 bytes plus the merges) on the same text, then encoding it.

Both learn byte-level BPE merges from scratch on the same bytes to the same vocabulary
size; their pre-split patterns and tie rules differ a little, so their token counts are
close, not equal (the table shows both). The Rust library's `encode` also builds an
`Encoding` for the text (token strings and character offsets of every token), while
`encode_bpe` returns the ids only and encodes each distinct chunk once. Each phase is timed --repeats times (training
from scratch every time); the table shows the median seconds, the encoding speed in MB/s,
bytes per token, and, when tokenizers ran, how many times slower tinytorch is.

By default the `tokenizers` library uses one thread (--threads, through RAYON_NUM_THREADS,
read when the library starts): tinytorch is single-threaded Python, so the comparison is of
the code, not of the cores. --chars N takes only the first N characters of the corpus, for
a quick run.

    python -m coursekit.bench.tokenizer [--merges 512] [--repeats 3] [--threads 1]
                                        [--corpus shakespeare] [--chars N]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from .timing import REFERENCE_PACKAGE, Unavailable, tinytorch_folder

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "datasets"
TOKENIZERS_REQUIREMENT = "tokenizers==0.23.3"
CORPUS_SPLITS = {  # corpus -> the splits joined, in order (the whole corpus)
    "shakespeare": ("train", "val"),
    "tinytalks": ("train", "val", "test"),
    "pycode": ("train", "val"),
}
MERGES = 512
Job = Callable[[str, int], dict]  # (text, merges) -> timings and results of one run


def read_corpus(name: str, chars: int | None = None) -> str:
    """The whole corpus (its splits joined), or its first `chars` characters.

    Read from this repository's datasets/ folder and checked against the SHA-256 values
    of the course (tinytorch.text.tokenization.CORPUS_SHA256 when that module imports;
    otherwise the files are trusted as they are: datasets/README.md lists the values)."""
    expected = {}
    try:
        expected = importlib.import_module("tinytorch.text.tokenization").CORPUS_SHA256[name]
    except ModuleNotFoundError:
        pass
    parts = []
    for split in CORPUS_SPLITS[name]:
        blob = (DATASETS / name / f"{split}.txt").read_bytes()
        digest = hashlib.sha256(blob).hexdigest()
        if split in expected and digest != expected[split]:
            raise SystemExit(f"datasets/{name}/{split}.txt has SHA-256 {digest}, not the course's")
        parts.append(blob.decode("utf-8"))
    text = "".join(parts)
    return text if chars is None else text[:chars]


def limit_threads(threads: int) -> str:
    """Ask the tokenizers library for `threads` threads (0: its default); describe it.

    RAYON_NUM_THREADS is read once, when the library starts its thread pool: set it before
    `import tokenizers`.
    """
    if threads <= 0:
        return "library default"
    if "tokenizers" in sys.modules:
        return "as the already imported tokenizers library started"
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    return str(threads)


# --------------------------------------------------------------------------------------
# The two implementations: each returns a job that trains, encodes and (tinytorch) decodes
# --------------------------------------------------------------------------------------


def import_tokenization() -> ModuleType:
    """tinytorch.text.tokenization, or Unavailable saying which module to export."""
    name = "tinytorch.text.tokenization"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise Unavailable(f"needs Module 10 ({name}): export it") from error
        raise


def tinytorch_job() -> tuple[Job, str]:
    """train_bpe, encode_bpe and decode_bpe of the imported tinytorch."""
    tok = import_tokenization()

    def job(text: str, merges: int) -> dict:
        started = time.perf_counter()
        learned = tok.train_bpe(text, merges)
        trained = time.perf_counter()
        ids = tok.encode_bpe(text, learned)
        encoded = time.perf_counter()
        exact = tok.decode_bpe(ids, tok.build_vocab(learned)) == text
        return {
            "train_s": trained - started,
            "encode_s": encoded - trained,
            "tokens": len(ids),
            "vocab": 256 + len(learned),
            "exact": exact,
        }

    return job, "reference" if tinytorch_folder() == REFERENCE_PACKAGE else "your own"


def tokenizers_job() -> tuple[Job, str]:
    """The same job with the Rust tokenizers library: ByteLevel pre-split, BPE trainer."""
    try:
        import tokenizers
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    except ImportError as error:
        raise Unavailable(f"not installed: pip install {TOKENIZERS_REQUIREMENT}") from error

    def job(text: str, merges: int) -> dict:
        started = time.perf_counter()
        bpe = Tokenizer(models.BPE())
        bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        bpe.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=256 + merges,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        bpe.train_from_iterator([text], trainer)
        trained = time.perf_counter()
        ids = bpe.encode(text).ids
        encoded = time.perf_counter()
        return {
            "train_s": trained - started,
            "encode_s": encoded - trained,
            "tokens": len(ids),
            "vocab": bpe.get_vocab_size(),
            "exact": bpe.decode(ids) == text,
        }

    return job, f"tokenizers {tokenizers.__version__}"


# --------------------------------------------------------------------------------------
# Timing and report
# --------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def run(text: str, merges: int, repeats: int) -> dict:
    """Build both jobs, run each `repeats` times; one dict per row.

    A row has "name", "what" (version or reason) and, when it ran, "train_s" and
    "encode_s" (medians), "tokens", "vocab" and "exact" (decoding gave the text back);
    a row that could not run has "unavailable".
    """
    rows = []
    for name, build in (("tinytorch", tinytorch_job), ("tokenizers (Rust)", tokenizers_job)):
        try:
            job, what = build()
        except Unavailable as reason:
            rows.append({"name": name, "unavailable": str(reason)})
            continue
        runs = [job(text, merges) for _ in range(repeats)]
        rows.append(
            {
                "name": name,
                "what": what,
                "train_s": median([r["train_s"] for r in runs]),
                "encode_s": median([r["encode_s"] for r in runs]),
                "tokens": runs[0]["tokens"],
                "vocab": runs[0]["vocab"],
                "exact": all(r["exact"] for r in runs),
            }
        )
    return {"rows": rows, "bytes": len(text.encode("utf-8")), "merges": merges}


def report(results: dict, corpus: str, repeats: int, threads: str) -> None:
    """Print the table: seconds to train and to encode, MB/s, bytes per token, ratios."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: wide enough that no row wraps
        console = Console(highlight=False, markup=False, width=170)
    size = results["bytes"]
    rows = results["rows"]
    rust = next((r for r in rows if r["name"].startswith("tokenizers") and "train_s" in r), None)
    table = Table(
        title=(
            f"Byte-level BPE on {corpus} ({size:,} bytes): train {results['merges']} merges, "
            "then encode the same text"
        ),
        box=box.ROUNDED if console.is_terminal else box.ASCII,
    )
    for column, justify in (
        ("implementation", "left"),
        ("train s", "right"),
        ("encode s", "right"),
        ("encode MB/s", "right"),
        ("vocab", "right"),
        ("bytes/token", "right"),
        ("train vs Rust", "right"),
        ("encode vs Rust", "right"),
        ("what ran", "left"),
    ):
        table.add_column(column, justify=justify)
    for row in rows:
        if "unavailable" in row:
            table.add_row(row["name"], "-", "-", "-", "-", "-", "-", "-", row["unavailable"])
            continue
        ratios = (
            (
                f"{row['train_s'] / rust['train_s']:.1f}x",
                f"{row['encode_s'] / rust['encode_s']:.1f}x",
            )
            if rust
            else ("n/a", "n/a")
        )
        table.add_row(
            row["name"],
            f"{row['train_s']:.3f}",
            f"{row['encode_s']:.3f}",
            f"{size / row['encode_s'] / 1e6:.2f}",
            str(row["vocab"]),
            f"{size / row['tokens']:.2f}",
            *ratios,
            row["what"],
        )
    console.print(table)
    if tinytorch_folder() is not None:
        console.print(f"tinytorch: {tinytorch_folder()}")
    exact = [r for r in rows if "exact" in r]
    console.print(
        f"Median of {repeats} runs, each training from scratch; tokenizers threads: {threads}.\n"
        "vs Rust: the time divided by the tokenizers library's (above 1.0x: slower).\n"
        "Decoding the ids gives the text back exactly: "
        + (
            "yes, for every implementation that ran."
            if all(r["exact"] for r in exact)
            else "NO for " + ", ".join(r["name"] for r in exact if not r["exact"]) + "."
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when tinytorch ran and every implementation decoded the text back exactly; 1
    when a round trip failed; 2 when tinytorch (Module 10) could not run."""
    parser = argparse.ArgumentParser(prog="bench_tokenizer", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--merges", type=int, default=MERGES, help=f"merges to learn (default {MERGES})"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per implementation (3)")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads of the tokenizers library; 0: default"
    )
    parser.add_argument(
        "--corpus", choices=tuple(CORPUS_SPLITS), default="shakespeare", help="the text"
    )
    parser.add_argument("--chars", type=int, help="use only the first N characters")
    args = parser.parse_args(argv)
    threads = limit_threads(args.threads)  # before tokenizers is imported
    text = read_corpus(args.corpus, args.chars)
    repeats = max(1, args.repeats)
    results = run(text, max(0, args.merges), repeats)
    report(results, args.corpus, repeats, threads)
    rows = results["rows"]
    if any(r["name"] == "tinytorch" and "unavailable" in r for r in rows):
        return 2
    return 0 if all(r["exact"] for r in rows if "exact" in r) else 1


if __name__ == "__main__":
    raise SystemExit(main())
