"""`python -m coursekit.bench.generation`: Module 14's KV cache, measured on the real model.

The model is Module 13's GPT with the Shakespeare vocabulary of the 2017 milestone (Module
10's `CharTokenizer` on `datasets/shakespeare/train.txt`: four special tokens, then every
character), 2 blocks of width 64 with 4 heads, its context widened to GPT-2's 1024 positions
so that 256 tokens fit after a long prompt (--width, --layers, --heads, --context change it).
Its weights are seeded, not trained: the time of a step does not depend on the values of
the weights, and the milestone `generation_speedup.py` trains one. Each prompt is P
characters of the corpus (--prompts, default 16, 256 and 768), extended by N tokens
(--tokens, default 256) sampled at temperature 1 from one seed, twice:

- without a cache: `GPT.generate` (Module 13), which runs the whole sequence through the
  model at every step, as nanoGPT and minGPT do;
- with the cache: `generate_cached` (Module 14), one prefill of the prompt, then one token
  per step.

Nothing is timed before the outputs are shown to be the same: the generated tokens must be
identical, and along the longest sequence the cached logits of every position must agree
with a full uncached forward pass to 1e-5 (the largest difference is printed). Then:

1. the whole generation, both ways, timed in turns (one run of each per round, so that a
   busy machine slows them alike), --repeats rounds after --warmup rounds of a short
   generation (which also allocates the large arrays once); the table shows the median
   wall-clock seconds, the 10th to 90th percentile, the milliseconds per generated token,
   the speedup (uncached median / cached median) and the same ratio of the CPU seconds of
   the process (the work done, which other jobs on a shared machine do not inflate);
2. one generation step at chosen positions (--positions): the uncached forward pass of
   position + 1 tokens against one cached step at that position, median CPU milliseconds
   over --step-repeats rounds (a step of 20 ms is interrupted by other jobs far more often
   than one of 0.5 ms, so wall-clock times would favour the cache), beside the ratio of the
   FLOPs of the two (the matrix products of
   the blocks, L (24 d^2 T + 4 T^2 d) against L (24 d^2 + 4 T d)): the speedup curve.

By default NumPy's BLAS uses one thread (--threads), so that the measurement is of the
code, not of the cores it grabs; the thread count can only be set before NumPy starts, so
it takes effect when this module runs as a command.

    python -m coursekit.bench.generation [--prompts 16,256,768] [--tokens 256] [--repeats 3]
        [--warmup 1] [--positions 16,64,128,256,512,768,1023] [--step-repeats 5]
        [--threads 1] [--seed 0] [--width 64] [--layers 2] [--heads 4] [--context 1024]
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..modules import REPO
from .timing import (
    REFERENCE_PACKAGE,
    Unavailable,
    limit_threads,
    summary,
    tinytorch_folder,
)

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")  # Module 10's CharTokenizer, ids 0 to 3
TOLERANCE = 1e-5  # largest |cached - uncached| logit accepted
WARMUP_TOKENS = 8
TINYTORCH_MODULES = (  # what the benchmark needs, in course order
    ("tinytorch.core.autograd", "Module 05"),
    ("tinytorch.models.transformer", "Module 13"),
    ("tinytorch.generation.kv_cache", "Module 14"),
)


@dataclass(frozen=True)
class Config:
    """The model: the 2017 milestone's Shakespeare GPT with a context of 1024."""

    width: int = 64
    layers: int = 2
    heads: int = 4
    context: int = 1024

    def describe(self, vocab: int) -> str:
        return (
            f"GPT(vocab {vocab}, d={self.width}, {self.layers} blocks, {self.heads} heads, "
            f"context {self.context})"
        )


def import_tinytorch() -> dict:
    """The modules by short name; Unavailable naming the first one missing."""
    found = {}
    for name, course_module in TINYTORCH_MODULES:
        try:
            found[name.rsplit(".", 1)[1]] = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(error.name + ".")):
                raise Unavailable(f"needs {course_module} ({name}): export it") from error
            raise
    found["autograd"].enable_autograd()
    return found


def shakespeare_ids(seed: int):
    """(vocabulary size, the training text as CharTokenizer ids, a seeded start offset).

    Read straight from datasets/, so the data does not depend on which tinytorch runs."""
    import numpy as np

    text = (REPO / "datasets" / "shakespeare" / "train.txt").read_text(encoding="utf-8")
    itos = list(SPECIALS) + sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(itos)}
    ids = np.array([lookup[ch] for ch in text], dtype=np.int64)
    start = int(np.random.default_rng(seed).integers(0, len(ids) // 2))
    return len(itos), ids, start


def step_flops(context: int, width: int, layers: int, cached: bool) -> int:
    """FLOPs of the blocks' matrix products for one generation step at this context."""
    rows = 1 if cached else context
    return layers * (24 * width**2 * rows + 4 * rows * context * width)


def largest_difference(tt: dict, model, sequence) -> float:
    """The largest |cached - uncached| logit over every position of sequence (1, T): the
    prompt's first token as a prefill, then one token at a time."""
    import numpy as np

    kv = tt["kv_cache"]
    cache = kv.KVCache.for_model(model, sequence.shape[0])
    worst = 0.0
    with tt["autograd"].no_grad():
        for position in range(sequence.shape[1]):
            cached = kv.cached_forward(model, sequence[:, position : position + 1], cache).data
            full = model(sequence[:, : position + 1]).data[:, -1]
            worst = max(worst, float(np.abs(cached - full).max()))
    return worst


def run(
    config: Config,
    prompts: list[int],
    tokens: int,
    repeats: int = 3,
    warmup: int = 1,
    positions: list[int] | None = None,
    step_repeats: int = 5,
    seed: int = 0,
) -> dict:
    """Check that both ways agree, then time the generations and the single steps.

    Returns "generation" (one row per prompt: "prompt", "tokens", "identical", and when the
    outputs agree "uncached" and "cached" summaries in ms, "speedup"), "steps" (one row per
    position: "position", "uncached_ms", "cached_ms", "speedup", "flop_ratio"),
    "max_difference", "identical" (every output and logit agreed), "vocab" and "sample"
    (the longest generation's new ids).
    """
    import numpy as np

    for prompt_length in prompts:
        if prompt_length + tokens - 1 > config.context:
            raise ValueError(
                f"a prompt of {prompt_length} and {tokens} new tokens need "
                f"{prompt_length + tokens - 1} positions; the model has {config.context}"
            )
    tt = import_tinytorch()
    vocab, corpus, offset = shakespeare_ids(seed)
    GPT = tt["transformer"].GPT
    generate_cached = tt["kv_cache"].generate_cached
    model = GPT(vocab, config.width, config.layers, config.heads, config.context, rng=seed)
    rows, sample = [], None
    for prompt_length in prompts:
        prompt = corpus[None, offset : offset + prompt_length]  # (1, P)

        def uncached(prompt=prompt, n=tokens):
            return model.generate(prompt, n, temperature=1.0, rng=seed)

        def cached(prompt=prompt, n=tokens):
            return generate_cached(model, prompt, n, temperature=1.0, rng=seed)

        slow, fast = uncached(), cached()
        row = {
            "prompt": prompt_length,
            "tokens": tokens,
            "identical": bool(np.array_equal(slow, fast)),
        }
        rows.append(row)
        sample = slow[0, prompt_length:]
    longest = corpus[None, offset : offset + max(prompts) + tokens - 1]
    difference = largest_difference(tt, model, longest)
    identical = all(r["identical"] for r in rows) and difference <= TOLERANCE
    result = {
        "generation": rows,
        "steps": [],
        "max_difference": difference,
        "identical": identical,
        "vocab": vocab,
        "sample": sample,
    }
    if not identical:
        return result  # nothing is timed when the outputs differ
    for row in rows:
        prompt = corpus[None, offset : offset + row["prompt"]]
        calls: dict[str, Callable[[], object]] = {
            "uncached": lambda p=prompt: model.generate(p, tokens, temperature=1.0, rng=seed),
            "cached": lambda p=prompt: generate_cached(model, p, tokens, temperature=1.0, rng=seed),
        }
        for _ in range(warmup):
            model.generate(prompt, WARMUP_TOKENS, temperature=1.0, rng=seed)
            generate_cached(model, prompt, WARMUP_TOKENS, temperature=1.0, rng=seed)
        wall, cpu = time_rounds(calls, max(1, repeats))
        row["uncached"], row["cached"] = summary(wall["uncached"]), summary(wall["cached"])
        row["speedup"] = row["uncached"]["median_ms"] / row["cached"]["median_ms"]
        row["cpu_speedup"] = float(np.median(cpu["uncached"]) / np.median(cpu["cached"]))
    result["steps"] = time_steps(tt, model, corpus[None, offset:], positions or [], step_repeats)
    return result


def time_rounds(calls: dict[str, Callable[[], object]], rounds: int) -> tuple[dict, dict]:
    """Wall-clock and CPU seconds of each call over `rounds` rounds, the calls in turns."""
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started, used = time.perf_counter(), time.process_time()
            call()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - used)
    return wall, cpu


def time_steps(tt: dict, model, corpus, positions: list[int], repeats: int) -> list[dict]:
    """One generation step at each position: uncached forward of position + 1 tokens vs one
    cached step with positions 0 .. position - 1 in the cache (median CPU milliseconds of
    rounds of both in turns, after one warm-up round)."""
    kv = tt["kv_cache"]
    rows = []
    for position in positions:
        if not 0 < position < model.max_seq_len:
            continue
        context = corpus[:, : position + 1]
        cache = kv.KVCache.for_model(model, 1)
        with tt["autograd"].no_grad():
            kv.cached_forward(model, context[:, :-1], cache)

        def uncached(context=context):
            with tt["autograd"].no_grad():
                model(context)

        def cached(context=context, cache=cache, position=position):
            cache.length = position  # the same step again: forget the one timed before
            with tt["autograd"].no_grad():
                kv.cached_forward(model, context[:, -1:], cache)

        uncached(), cached()  # warm-up
        _, cpu = time_rounds({"uncached": uncached, "cached": cached}, max(1, repeats))
        uncached_ms = summary(cpu["uncached"])["median_ms"]
        cached_ms = summary(cpu["cached"])["median_ms"]
        width, layers = model.d_model, model.num_layers
        rows.append(
            {
                "position": position,
                "uncached_ms": uncached_ms,
                "cached_ms": cached_ms,
                "speedup": uncached_ms / cached_ms,
                "flop_ratio": step_flops(position + 1, width, layers, False)
                / step_flops(position + 1, width, layers, True),
            }
        )
    return rows


def describe_tinytorch() -> str:
    folder = tinytorch_folder()
    return "reference tinytorch" if folder == REFERENCE_PACKAGE else f"tinytorch at {folder}"


def report(results: dict, config: Config, repeats: int, warmup: int, threads: str) -> None:
    """Print the agreement, both tables and what they mean."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: wide enough that no row wraps
        console = Console(highlight=False, markup=False, width=140)
    style = box.ROUNDED if console.is_terminal else box.ASCII
    model = config.describe(results["vocab"])
    agree = "identical" if results["identical"] else "DIFFERENT"
    console.print(f"{model}, seeded, {describe_tinytorch()}.")
    same = ", ".join(
        f"{r['prompt']}: {'same' if r['identical'] else 'DIFFERENT'}" for r in results["generation"]
    )
    console.print(f"Outputs: {agree}. Generated tokens, per prompt: {same}.")
    console.print(
        f"Largest |cached - uncached| logit along the longest sequence: "
        f"{results['max_difference']:.2e} (tolerance {TOLERANCE:g})."
    )
    if not results["identical"]:
        console.print("The cache changes the model's output: nothing was timed.")
        return
    table = Table(
        title=f"Generating {results['generation'][0]['tokens']} tokens (batch 1, temperature 1)",
        box=style,
    )
    for column in (
        "prompt",
        "no cache s",
        "p10-p90 s",
        "ms/token",
        "cache s",
        "p10-p90 s",
        "ms/token",
        "speedup",
        "CPU time",
    ):
        table.add_column(column, justify="right")
    for r in results["generation"]:
        u, c = r["uncached"], r["cached"]
        table.add_row(
            str(r["prompt"]),
            f"{u['median_ms'] / 1e3:.3f}",
            f"{u['p10_ms'] / 1e3:.3f}-{u['p90_ms'] / 1e3:.3f}",
            f"{u['median_ms'] / r['tokens']:.3f}",
            f"{c['median_ms'] / 1e3:.3f}",
            f"{c['p10_ms'] / 1e3:.3f}-{c['p90_ms'] / 1e3:.3f}",
            f"{c['median_ms'] / r['tokens']:.3f}",
            f"{r['speedup']:.1f}x",
            f"{r['cpu_speedup']:.1f}x",
        )
    console.print(table)
    if results["steps"]:
        steps = Table(
            title="One generation step at a position, CPU time (the speedup curve)", box=style
        )
        for column in ("position", "no cache ms", "cache ms", "speedup", "FLOP ratio"):
            steps.add_column(column, justify="right")
        for r in results["steps"]:
            steps.add_row(
                str(r["position"]),
                f"{r['uncached_ms']:.3f}",
                f"{r['cached_ms']:.3f}",
                f"{r['speedup']:.1f}x",
                f"{r['flop_ratio']:.0f}x",
            )
        console.print(steps)
    console.print(
        f"Medians of {repeats} rounds (generation) after {warmup} warm-up rounds, the two "
        f"ways timed in turns; single steps: median CPU time; threads: {threads}.\n"
        "speedup: the uncached median divided by the cached one, in wall-clock time; CPU "
        "time: the same ratio of the process's CPU seconds. FLOP ratio: the matrix "
        "products of the blocks, L (24 d^2 T + 4 T^2 d) without the cache against "
        "L (24 d^2 + 4 T d) with it.\nA cached step is a few dozen small Tensor operations "
        "whatever the position, bound by per-operation overhead; an uncached step grows "
        "with the whole sequence."
    )


def int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the cached and uncached outputs are identical; 1 when they differ; 2 when
    tinytorch (with Modules 13 and 14) could not run."""
    parser = argparse.ArgumentParser(prog="bench_generation", description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=int_list, default=[16, 256, 768], help="16,256,768")
    parser.add_argument("--tokens", type=int, default=256, help="new tokens per prompt (256)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (3)")
    parser.add_argument("--warmup", type=int, default=1, help="short untimed rounds first (1)")
    parser.add_argument(
        "--positions",
        type=int_list,
        default=[16, 64, 128, 256, 512, 768, 1023],
        help="positions of the single-step table (16,64,128,256,512,768,1023)",
    )
    parser.add_argument("--step-repeats", type=int, default=5, help="timed single steps (5)")
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS threads; 0: the library's default"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the data")
    defaults = Config()
    for field in ("width", "layers", "heads", "context"):
        parser.add_argument(
            f"--{field}",
            type=int,
            default=getattr(defaults, field),
            help=f"default {getattr(defaults, field)}",
        )
    args = parser.parse_args(argv)
    threads = limit_threads(args.threads)  # before NumPy is imported
    config = Config(args.width, args.layers, args.heads, args.context)
    try:
        results = run(
            config,
            args.prompts,
            args.tokens,
            max(1, args.repeats),
            max(0, args.warmup),
            args.positions,
            max(1, args.step_repeats),
            args.seed,
        )
    except Unavailable as reason:
        print(f"tinytorch cannot run this benchmark: {reason}")
        return 2
    report(results, config, max(1, args.repeats), max(0, args.warmup), threads)
    return 0 if results["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
