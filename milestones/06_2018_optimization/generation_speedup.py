"""2018 and after, making models cheap to run: a KV cache makes generation 20x faster.

The Shakespeare GPT of the 2017 milestone (2 blocks of width 64, 4 heads, the characters of
the corpus as tokens through Module 10's CharTokenizer), its context widened to GPT-2's 1024
positions, is trained briefly on the shipped corpus: 300 Adam steps on batches of windows of
64 characters, each batch placed at a random offset of the context so that every row of the
position table is trained. That is enough for the letters and spacing of English, not yet its
words; the time of a generation step does not depend on the weights, and the tokens are
compared, not judged. Then the model writes 256 characters after a 768-character passage of
the validation text, twice, with the same sampling settings and seed:

- without a cache, Module 13's `GPT.generate`: every step runs the whole sequence through
  the model, as nanoGPT does;
- with Module 14's `generate_cached`: the prompt once (the prefill), then one token per
  step, reading the keys and values of the earlier positions from the cache.

The two texts must be identical, token for token, and the cached logits must agree with the
uncached ones at 32 positions spread over the sequence (to 1e-5); only then is the speedup
reported. Both generations run once untimed first (a warm-up of two tokens, so that neither
pays for the first allocation of the large arrays), then once timed. The speedup is the
ratio of the CPU seconds of this process (one BLAS thread: the CPU time is the work done,
which other jobs on a shared machine do not inflate); the wall-clock ratio is shown beside
it. The target is 20x: the reference implementation measures 40x to 60x here. A cached step
costs about a millisecond wherever it is, bound by the overhead of a few dozen small Tensor
operations; an uncached step grows with the sequence, so the speedup grows with the context
(3x to 4x for 256 tokens after a 16-character prompt, 10x to 25x after 256; `make
bench-generation` prints the curve). The table also shows the ratio of the FLOPs of the two and the memory of the cache.

Run from the repository root:
    python milestones/06_2018_optimization/generation_speedup.py [--seed N] [--steps N]
        [--tokens N] [--prompt-length N] [--target X]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

if __name__ == "__main__":
    # Small matrices: one BLAS thread is faster and steadier than several on a busy machine.
    # Only when run as a command, before NumPy starts, and only when the user has not chosen.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    framework_banner,
    framework_folder,
    milestone_parser,
    need,
    print_results,
    read_corpus,
    say,
)

HISTORY = """\
2018 on: once transformers worked, the cost of running them became the problem. A GPT
writes one token at a time, and run naively every token recomputes the whole text before
it. Every production system since GPT-2 keeps the keys and values of the earlier tokens
instead (the KV cache of Module 14): each new token then costs one token's work. Here your
cache meets your GPT on Shakespeare: the same text, token for token, many times faster."""

WIDTH, LAYERS, HEADS, CONTEXT = 64, 2, 4, 1024
TRAIN_WINDOW, BATCH_SIZE, LEARNING_RATE = 64, 16, 3e-3
STEPS = 300
TOKENS, PROMPT_LENGTH = 256, 768
TEMPERATURE, TOP_K = 0.8, 10
TARGET = 20.0  # speedup of the whole generation
TOLERANCE = 1e-5  # largest |cached - uncached| logit
LOGIT_CHECKS = 32  # positions where the logits are compared
WARMUP_TOKENS = 2  # an untimed generation of each kind first


def framework() -> SimpleNamespace:
    """The tinytorch pieces this milestone uses (exit 2 naming the first module missing)."""
    return SimpleNamespace(
        Tensor=need("Tensor", "tinytorch.core.tensor", "Module 01"),
        CrossEntropyLoss=need("CrossEntropyLoss", "tinytorch.core.losses", "Module 04"),
        enable_autograd=need("enable_autograd", "tinytorch.core.autograd", "Module 05"),
        no_grad=need("no_grad", "tinytorch.core.autograd", "Module 05"),
        Adam=need("Adam", "tinytorch.core.optimizers", "Module 06"),
        causal_mask=need("causal_mask", "tinytorch.core.attention", "Module 12"),
        CharTokenizer=need("CharTokenizer", "tinytorch.text.tokenization", "Module 10"),
        load_corpus=need("load_corpus", "tinytorch.text.tokenization", "Module 10"),
        GPT=need("GPT", "tinytorch.models.transformer", "Module 13"),
        KVCache=need("KVCache", "tinytorch.generation.kv_cache", "Module 14"),
        cached_forward=need("cached_forward", "tinytorch.generation.kv_cache", "Module 14"),
        generate_cached=need("generate_cached", "tinytorch.generation.kv_cache", "Module 14"),
        kv_cache_bytes=need("kv_cache_bytes", "tinytorch.generation.kv_cache", "Module 14"),
    )


def window_logits(tt: SimpleNamespace, model, ids: np.ndarray, start: int):
    """Logits (B, T, V) of windows ids (B, T) placed at positions start .. start + T - 1:
    GPT.forward with a position offset, built from the model's own parts."""
    x = model.embed(ids, start)  # (B, T, d)
    mask = tt.causal_mask(ids.shape[1])
    for block in model.blocks:
        x = block(x, mask)
    return model.head(model.ln_f(x))  # (B, T, V)


def train(tt: SimpleNamespace, model, ids: np.ndarray, steps: int, seed: int) -> list[float]:
    """Adam on batches of random windows of TRAIN_WINDOW + 1 characters; the loss of every
    step. Each batch sits at a random offset of the context, so that every position's row
    of the position table is trained, not only the first TRAIN_WINDOW."""
    rng = np.random.default_rng(seed)
    optimizer = tt.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = tt.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        starts = rng.integers(0, len(ids) - TRAIN_WINDOW - 1, size=BATCH_SIZE)
        batch = np.stack([ids[s : s + TRAIN_WINDOW + 1] for s in starts])  # (B, T + 1)
        offset = int(rng.integers(0, model.max_seq_len - TRAIN_WINDOW + 1))
        logits = window_logits(tt, model, batch[:, :-1], offset)  # (B, T, V)
        b, t, v = logits.shape
        loss = loss_fn(logits.reshape(b * t, v), tt.Tensor(batch[:, 1:].reshape(b * t)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def largest_difference(tt: SimpleNamespace, model, sequence: np.ndarray, checks: int) -> float:
    """The largest |cached - uncached| logit at `checks` positions spread over sequence
    (1, T): the cache is fed every token, one at a time; the uncached model runs the whole
    sequence up to each checked position."""
    checked = set(np.linspace(0, sequence.shape[1] - 1, checks).astype(int).tolist())
    cache = tt.KVCache.for_model(model, sequence.shape[0])
    worst = 0.0
    with tt.no_grad():
        for position in range(sequence.shape[1]):
            cached = tt.cached_forward(model, sequence[:, position : position + 1], cache).data
            if position in checked:
                full = model(sequence[:, : position + 1]).data[:, -1]
                worst = max(worst, float(np.abs(cached - full).max()))
    return worst


def timed(fn) -> tuple[object, float, float]:
    """(fn(), wall-clock seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def step_flops(context: int, cached: bool) -> int:
    """FLOPs of the blocks' matrix products for one step at this context (Module 13)."""
    rows = 1 if cached else context
    return LAYERS * (24 * WIDTH**2 * rows + 4 * rows * context * WIDTH)


def main(argv: list[str] | None = None) -> dict:
    parser = milestone_parser(__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS, help=f"training steps ({STEPS})")
    parser.add_argument("--tokens", type=int, default=TOKENS, help=f"new tokens ({TOKENS})")
    parser.add_argument(
        "--prompt-length",
        type=int,
        default=PROMPT_LENGTH,
        help=f"characters of the prompt ({PROMPT_LENGTH})",
    )
    parser.add_argument(
        "--target", type=float, default=TARGET, help=f"speedup to reach ({TARGET:g})"
    )
    args = parser.parse_args(argv)
    banner = framework_banner()
    say(HISTORY)
    tt = framework()
    tt.enable_autograd()
    started = time.perf_counter()

    train_text = read_corpus(tt.load_corpus, "shakespeare", "train")
    tokenizer = tt.CharTokenizer(train_text)
    ids = np.array(tokenizer.encode(train_text), dtype=np.int64)
    prompt_text = read_corpus(tt.load_corpus, "shakespeare", "val")[: args.prompt_length]
    prompt = np.array([tokenizer.encode(prompt_text)], dtype=np.int64)  # (1, P)
    if prompt.shape[1] + args.tokens - 1 > CONTEXT:
        parser.error(f"--prompt-length + --tokens - 1 must fit the {CONTEXT} positions")
    model = tt.GPT(tokenizer.vocab_size, WIDTH, LAYERS, HEADS, CONTEXT, rng=args.seed)
    params = sum(p.size for p in model.parameters())
    print(
        f"GPT: {tokenizer.vocab_size} characters, d={WIDTH}, {LAYERS} blocks, {HEADS} heads, "
        f"context {CONTEXT}, {params:,} parameters; training {args.steps} Adam steps on "
        f"windows of {TRAIN_WINDOW} characters ...",
        flush=True,
    )
    losses = train(tt, model, ids, args.steps, args.seed)
    if losses:
        print(f"training loss: {losses[0]:.2f} -> {np.mean(losses[-20:]):.2f} nats\n", flush=True)

    print(
        f"Generating {args.tokens} characters after a {prompt.shape[1]}-character prompt, "
        f"temperature {TEMPERATURE}, top-k {TOP_K}, seed {args.seed}: without and with the "
        "cache ...",
        flush=True,
    )
    settings = {"temperature": TEMPERATURE, "top_k": TOP_K, "rng": args.seed}
    model.generate(prompt, WARMUP_TOKENS, **settings)  # warm-up: allocate the large arrays once
    tt.generate_cached(model, prompt, WARMUP_TOKENS, **settings)
    uncached, wall_uncached, cpu_uncached = timed(
        lambda: model.generate(prompt, args.tokens, **settings)
    )
    cached, wall_cached, cpu_cached = timed(
        lambda: tt.generate_cached(model, prompt, args.tokens, **settings)
    )
    identical = bool(np.array_equal(uncached, cached))
    difference = largest_difference(tt, model, cached[:, :-1], LOGIT_CHECKS)
    agree = identical and difference <= TOLERANCE
    speedup, wall_speedup = cpu_uncached / cpu_cached, wall_uncached / wall_cached
    cache_bytes = tt.kv_cache_bytes(LAYERS, 1, HEADS, CONTEXT, WIDTH // HEADS)
    first, last = prompt.shape[1], prompt.shape[1] + args.tokens - 1  # contexts of the steps
    flops = sum(step_flops(t, False) for t in range(first, last + 1))
    flops_cached = step_flops(first, False) + sum(
        step_flops(t, True) for t in range(first + 1, last + 1)
    )

    print("\nThe end of the prompt | and the text written with the cache:\n")
    print("..." + prompt_text[-160:] + "|" + tokenizer.decode(cached[0, first:].tolist()) + "\n")
    if not agree:
        print(
            "The cached model does not write the uncached model's text: the speedup of a "
            "different computation means nothing. Check your Module 14 tests.\n"
        )
    say(
        "Times are the CPU seconds of this process (one BLAS thread), which other jobs on a "
        "shared machine do not inflate; the wall-clock seconds are shown beside them."
    )

    def cost(cpu: float, wall: float) -> str:
        return f"{cpu:.2f} s CPU, {wall:.2f} s wall, {1e3 * cpu / args.tokens:.2f} ms/token"

    rows = [
        ("tokens identical", "yes" if identical else "NO", "yes"),
        (f"logit difference, {LOGIT_CHECKS} positions", f"{difference:.1e}", f"<= {TOLERANCE:g}"),
        ("without cache", cost(cpu_uncached, wall_uncached), ""),
        ("with cache", cost(cpu_cached, wall_cached), ""),
        ("speedup", f"{speedup:.1f}x" if agree else "-", f">= {args.target:g}x"),
        ("speedup, wall clock", f"{wall_speedup:.1f}x" if agree else "-", ""),
        ("FLOP ratio (blocks)", f"{flops / flops_cached:.0f}x", ""),
        (
            "cache memory",
            f"{cache_bytes / 2**10:,.0f} KiB (weights {4 * params / 2**10:,.0f} KiB)",
            "",
        ),
    ]
    seconds = time.perf_counter() - started
    print_results("2018: generation with a KV cache", rows, seconds)
    passed = agree and speedup >= args.target
    return {
        "framework": str(framework_folder()),
        "banner": banner,
        "identical": identical,
        "max_difference": difference,
        "cpu_uncached": cpu_uncached,
        "cpu_cached": cpu_cached,
        "wall_uncached": wall_uncached,
        "wall_cached": wall_cached,
        "speedup": speedup,
        "wall_speedup": wall_speedup,
        "losses": losses,
        "passed": passed,
    }


if __name__ == "__main__":
    raise SystemExit(0 if main()["passed"] else 1)
