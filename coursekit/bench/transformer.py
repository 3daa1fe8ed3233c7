"""`python -m coursekit.bench.transformer`: Module 13's GPT, timed against PyTorch.

The model of the 2017 milestone: a character-level GPT on the course's Shakespeare corpus
(`datasets/shakespeare/train.txt`, the vocabulary of Module 10's `CharTokenizer`: four
special tokens, then every character), 2 blocks of width 64 with 4 heads, context 64, batches
of 16 sequences (--layers, --width, --heads, --context, --batch change it). Two jobs:

1. one training step: forward, cross-entropy over the B x T next-character predictions,
   backward, Adam (lr 3e-3), on one fixed batch;
2. one generation step: the next character of one prompt as long as the context (the most
   expensive step of `GPT.generate`, which feeds at most max_seq_len tokens), sampled at
   temperature 1.

Timed for:

- tinytorch: `tinytorch.models.transformer.GPT` of the package Python imports (the reference
  package of this repository, or a student's), with Modules 04 to 06 for the loss, autograd
  and Adam; generation through `GPT.generate`, which runs without a graph;
- PyTorch on the CPU, when `import torch` works (it is not a course dependency): the same
  model written with torch.nn (pre-norm blocks, separate q/k/v/out projections, GELU with
  the tanh approximation, `scaled_dot_product_attention` with a causal mask, an untied
  head without bias), generation under `torch.no_grad()` with `torch.multinomial`.

Both start from the same weights (copied from the tinytorch model) and see the same batch.
Before anything is timed, the losses of the first training steps and the next-token logits
of the prompt are compared, so the tables compare the same computation. The implementations
are timed in turns, one call of each per round, so that a busy machine slows them alike;
the tables show the median in milliseconds, the 10th to 90th percentile, the tokens per
second (B x T per training step, one per generation step) and each median divided by
PyTorch's.

By default NumPy's BLAS and PyTorch use one thread each (--threads): the comparison is then
of the code, not of the cores each library grabs. The BLAS thread count can only be set
before NumPy starts, so it takes effect when this module runs as a command. --profile N
prints the N functions where the tinytorch training step spends most of its time.

    python -m coursekit.bench.transformer [--repeats 30] [--gen-repeats 50] [--warmup 3]
        [--threads 1] [--seed 0] [--batch 16] [--context 64] [--width 64] [--layers 2]
        [--heads 4] [--profile N]
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..modules import REPO
from .timing import (
    REFERENCE_PACKAGE,
    Unavailable,
    import_torch,
    limit_threads,
    summary,
    time_interleaved,
    tinytorch_folder,
)

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")  # Module 10's CharTokenizer, ids 0 to 3
LEARNING_RATE = 3e-3
CHECK_STEPS = 3  # training steps whose losses must agree
Job = Callable[[], object]


@dataclass(frozen=True)
class Config:
    """The model and the batch: the 2017 milestone's Shakespeare GPT by default."""

    batch: int = 16
    context: int = 64
    width: int = 64
    layers: int = 2
    heads: int = 4

    def describe(self, vocab: int) -> str:
        return (
            f"GPT(vocab {vocab}, d={self.width}, {self.layers} blocks, {self.heads} heads, "
            f"context {self.context})"
        )


# --------------------------------------------------------------------------------------
# Shared starting point
# --------------------------------------------------------------------------------------


def shakespeare_data(config: Config, seed: int) -> dict:
    """One batch (B, T + 1) and one prompt (1, T) of character ids from the corpus.

    The vocabulary is CharTokenizer's for the training text: the special tokens, then its
    distinct characters in sorted order. Read straight from datasets/, so the data does not
    depend on which tinytorch is installed.
    """
    import numpy as np

    text = (REPO / "datasets" / "shakespeare" / "train.txt").read_text(encoding="utf-8")
    itos = list(SPECIALS) + sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(itos)}
    ids = np.array([lookup[ch] for ch in text], dtype=np.int64)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(ids) - config.context - 1, size=config.batch + 1)
    rows = np.stack([ids[s : s + config.context + 1] for s in starts])
    return {"vocab": len(itos), "batch": rows[:-1], "prompt": rows[-1:, : config.context]}


# --------------------------------------------------------------------------------------
# tinytorch
# --------------------------------------------------------------------------------------

TINYTORCH_MODULES = (  # what the benchmark needs, in course order
    ("tinytorch.core.tensor", "Module 01"),
    ("tinytorch.core.losses", "Module 04"),
    ("tinytorch.core.autograd", "Module 05"),
    ("tinytorch.core.optimizers", "Module 06"),
    ("tinytorch.models.transformer", "Module 13"),
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


def tinytorch_model(config: Config, vocab: int, seed: int):
    """The tinytorch GPT of the configuration, seeded."""
    tt = import_tinytorch()
    return tt["transformer"].GPT(
        vocab, config.width, config.layers, config.heads, config.context, rng=seed
    )


def tinytorch_jobs(config: Config, data: dict, seed: int) -> dict:
    """The training step, the generation step and the prompt's next-token logits."""
    tt = import_tinytorch()
    model = tinytorch_model(config, data["vocab"], seed)
    optimizer = tt["optimizers"].Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = tt["losses"].CrossEntropyLoss()
    Tensor = tt["tensor"].Tensor
    inputs, targets = data["batch"][:, :-1], data["batch"][:, 1:]
    flat_targets = Tensor(targets.reshape(-1))
    rows = config.batch * config.context

    def train_step() -> float:
        logits = model(inputs)  # (B, T, V)
        loss = loss_fn(logits.reshape(rows, data["vocab"]), flat_targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    import numpy as np

    generator = np.random.default_rng(seed)

    def generate_step():
        return model.generate(data["prompt"], 1, temperature=1.0, rng=generator)

    def next_logits():
        with tt["autograd"].no_grad():
            return model(data["prompt"]).data[:, -1]

    return {"model": model, "train": train_step, "generate": generate_step, "logits": next_logits}


# --------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------


def torch_jobs(config: Config, data: dict, threads: int, weights: list | None, seed: int) -> dict:
    """The same jobs with torch.nn; weights: tinytorch's parameters in its order (or None)."""
    torch = import_torch(threads)
    nn, functional = torch.nn, torch.nn.functional
    d, heads = config.width, config.heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))
            self.ln2 = nn.LayerNorm(d)
            self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            b, t, _ = x.shape
            h = self.ln1(x)
            q, k, v = (
                p(h).view(b, t, heads, d // heads).transpose(1, 2) for p in (self.q, self.k, self.v)
            )
            a = functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.out(a.transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(functional.gelu(self.fc1(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Embedding(data["vocab"], d)
            self.position = nn.Parameter(torch.zeros(config.context, d))
            self.blocks = nn.ModuleList(Block() for _ in range(config.layers))
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, data["vocab"], bias=False)

        def forward(self, ids):
            x = self.token(ids) + self.position[: ids.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    torch.manual_seed(seed)
    model = GPT()
    if weights is not None:
        copy_weights(torch, model, weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    batch = torch.from_numpy(data["batch"])
    inputs, targets = batch[:, :-1], batch[:, 1:].reshape(-1)
    prompt = torch.from_numpy(data["prompt"])
    generator = torch.Generator().manual_seed(seed)

    def train_step() -> float:
        logits = model(inputs)
        loss = functional.cross_entropy(logits.reshape(-1, data["vocab"]), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    @torch.no_grad()
    def generate_step():
        probs = torch.softmax(model(prompt)[:, -1], dim=-1)
        return torch.cat([prompt, torch.multinomial(probs, 1, generator=generator)], dim=1)

    @torch.no_grad()
    def next_logits():
        return model(prompt)[:, -1].numpy()

    return {"model": model, "train": train_step, "generate": generate_step, "logits": next_logits}


def copy_weights(torch, model, weights: list) -> None:
    """tinytorch's parameters (in its order) into the torch model; nn.Linear keeps its
    weight as (out, in), so Linear weights are transposed."""
    targets = [(model.token.weight, False), (model.position, False)]
    for b in model.blocks:
        targets += [(b.ln1.weight, False), (b.ln1.bias, False)]
        for linear in (b.q, b.k, b.v, b.out):
            targets += [(linear.weight, True), (linear.bias, False)]
        targets += [(b.ln2.weight, False), (b.ln2.bias, False)]
        for linear in (b.fc1, b.fc2):
            targets += [(linear.weight, True), (linear.bias, False)]
    targets += [(model.ln_f.weight, False), (model.ln_f.bias, False), (model.head.weight, True)]
    if len(targets) != len(weights):
        raise ValueError(f"{len(weights)} tinytorch parameters for {len(targets)} torch ones")
    with torch.no_grad():
        for (target, transpose), values in zip(targets, weights, strict=True):
            target.copy_(torch.from_numpy((values.T if transpose else values).copy()))


# --------------------------------------------------------------------------------------
# Timing and report
# --------------------------------------------------------------------------------------


def run(
    config: Config,
    repeats: int = 30,
    gen_repeats: int = 50,
    warmup: int = 3,
    threads: int = 1,
    seed: int = 0,
) -> dict:
    """Build both implementations, check that they agree, time them in turns.

    Returns the rows of both tables ("name", "what", and "median_ms", "p10_ms", "p90_ms",
    "repeats", "tokens_per_s" when it ran, or "unavailable"), "train_agree" and
    "logits_agree", the vocabulary size and the first losses.
    """
    import numpy as np

    data = shakespeare_data(config, seed)
    jobs, rows = {}, {"train": [], "generate": []}
    builders = {
        "tinytorch": lambda: tinytorch_jobs(config, data, seed),
        "PyTorch (CPU)": lambda: torch_jobs(config, data, threads, weights(jobs), seed),
    }
    for name, build in builders.items():
        try:
            jobs[name] = build()
        except Unavailable as reason:
            for table in rows.values():
                table.append({"name": name, "unavailable": str(reason)})
    logits = {name: job["logits"]() for name, job in jobs.items()}
    losses = {name: [job["train"]() for _ in range(CHECK_STEPS)] for name, job in jobs.items()}
    first = next(iter(losses.values()), [])
    train_agree = all(np.allclose(v, first, rtol=1e-3, atol=1e-4) for v in losses.values())
    reference = next(iter(logits.values()), None)
    logits_agree = all(np.allclose(v, reference, atol=1e-4) for v in logits.values())
    tokens = {"train": config.batch * config.context, "generate": 1}
    counts = {"train": max(1, repeats), "generate": max(1, gen_repeats)}
    for job in ("train", "generate"):
        calls = {name: jobs[name][job] for name in jobs}
        timed = time_interleaved(calls, warmup, counts[job])
        for name in jobs:
            row = {"name": name, "what": describe(name), **summary(timed[name])}
            row["tokens_per_s"] = tokens[job] / (row["median_ms"] / 1000)
            rows[job].append(row)
    for table in rows.values():
        table.sort(key=lambda r: list(builders).index(r["name"]))
    return {
        **rows,
        "train_agree": train_agree,
        "logits_agree": logits_agree,
        "vocab": data["vocab"],
        "losses": first,
    }


def weights(jobs: dict) -> list | None:
    """The tinytorch model's parameters as arrays (None when tinytorch did not run)."""
    if "tinytorch" not in jobs:
        return None
    return [p.data.copy() for p in jobs["tinytorch"]["model"].parameters()]


def describe(name: str) -> str:
    """What ran: the tinytorch package (reference or a student's) or the PyTorch version."""
    if name.startswith("PyTorch"):
        import torch

        return f"torch {torch.__version__}"
    folder = tinytorch_folder()
    return "reference tinytorch" if folder == REFERENCE_PACKAGE else f"tinytorch at {folder}"


def table(title: str, rows: list[dict], console) -> None:
    from rich import box
    from rich.table import Table

    torch_row = next(
        (r for r in rows if r["name"].startswith("PyTorch") and "median_ms" in r), None
    )
    out = Table(title=title, box=box.ROUNDED if console.is_terminal else box.ASCII)
    for column, justify in (
        ("implementation", "left"),
        ("ms", "right"),
        ("p10-p90 ms", "right"),
        ("repeats", "right"),
        ("tokens/s", "right"),
        ("vs PyTorch", "right"),
        ("what ran", "left"),
    ):
        out.add_column(column, justify=justify)
    for row in rows:
        if "unavailable" in row:
            out.add_row(row["name"], "-", "-", "-", "-", "-", row["unavailable"])
            continue
        ratio = f"{row['median_ms'] / torch_row['median_ms']:.1f}x" if torch_row else "n/a"
        out.add_row(
            row["name"],
            f"{row['median_ms']:.3f}",
            f"{row['p10_ms']:.3f}-{row['p90_ms']:.3f}",
            str(row["repeats"]),
            f"{row['tokens_per_s']:,.0f}",
            ratio,
            row["what"],
        )
    console.print(out)


def report(results: dict, config: Config, warmup: int, threads: str) -> None:
    """Print both tables and what they mean."""
    from rich.console import Console

    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped: wide enough that no row wraps
        console = Console(highlight=False, markup=False, width=140)
    model = config.describe(results["vocab"])
    table(
        f"One training step of the Shakespeare {model}, batch {config.batch}: forward, "
        "cross-entropy, backward, Adam",
        results["train"],
        console,
    )
    table(
        f"One generation step: the next character after a {config.context}-character prompt "
        "(batch 1, temperature 1, no graph)",
        results["generate"],
        console,
    )
    agree = {True: "agree", False: "DIFFER"}
    console.print(
        f"Median of the timed repeats after {warmup} warm-up rounds, the implementations "
        f"timed in turns; threads: {threads}.\n"
        "vs PyTorch: the median divided by PyTorch's (above 1.0x: slower than PyTorch).\n"
        f"Losses over the first {CHECK_STEPS} steps {agree[results['train_agree']]}; "
        f"next-character logits {agree[results['logits_agree']]}."
    )


def profile(config: Config, seed: int, top: int) -> None:
    """Print the `top` functions by own time over 20 tinytorch training steps."""
    import cProfile
    import pstats

    step = tinytorch_jobs(config, shakespeare_data(config, seed), seed)["train"]
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        step()
    profiler.disable()
    print(f"Where 20 tinytorch training steps spend their time (top {top} by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when everything that ran agreed; 1 when results differ; 2 when tinytorch (with
    Module 13) could not run."""
    parser = argparse.ArgumentParser(prog="bench_transformer", description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed training steps (30)")
    parser.add_argument("--gen-repeats", type=int, default=50, help="timed generation steps (50)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS and PyTorch threads; 0: library defaults"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the data")
    defaults = Config()
    for field in ("batch", "context", "width", "layers", "heads"):
        parser.add_argument(
            f"--{field}",
            type=int,
            default=getattr(defaults, field),
            help=f"default {getattr(defaults, field)}",
        )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the N costliest functions"
    )
    args = parser.parse_args(argv)
    threads = limit_threads(args.threads)  # before NumPy is imported
    config = Config(args.batch, args.context, args.width, args.layers, args.heads)
    results = run(
        config,
        max(1, args.repeats),
        max(1, args.gen_repeats),
        max(0, args.warmup),
        args.threads,
        args.seed,
    )
    report(results, config, max(0, args.warmup), threads)
    if any(r["name"] == "tinytorch" and "unavailable" in r for r in results["train"]):
        return 2
    if args.profile > 0:
        profile(config, args.seed, args.profile)
    return 0 if results["train_agree"] and results["logits_agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
