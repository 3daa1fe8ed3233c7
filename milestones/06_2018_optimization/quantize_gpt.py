"""2018 and after, making models small: the Shakespeare GPT in int8, 3.5x smaller, as good.

The character-level GPT of the 2017 milestone (vaswani_shakespeare.py: d_model 64, 2 blocks,
4 heads, context 64, the corpus's characters through Module 10's CharTokenizer) is trained
with the same helpers and settings (AdamW, warm-up and cosine schedule, clipping; 2000
steps), scored on the whole validation text (every character once, in nats), and then
quantized with Module 17: `quantize_model` calibrates every Linear's input range on 8
batches of training windows and replaces every Linear by a `QuantizedLinear` (int8 weights
with a scale per output channel, int32 bias, integer products with an int32 accumulator) and
both embedding tables by a `QuantizedEmbedding` (int8 rows, a scale per row). The LayerNorms
stay float32. The same validation windows are scored again.

Every figure is measured: the bytes are those of the NumPy arrays the model holds before and
after (Module 17's `model_bytes`: int8 weights, their float32 scales, int32 biases, and the
float32 LayerNorms), the validation losses are computed, and the float weights of the
replaced layers are checked to be gone (weak references to them must die). Targets: at least
3.5x fewer bytes, and a validation loss that rises by less than 0.05 nats. With
`--float-embeddings` the tables stay float32 and are counted as such: the ratio then falls
to about 3.0x, which shows where the bytes of a small model are.

Run from the repository root:
    python milestones/06_2018_optimization/quantize_gpt.py [--seed N] [--steps N] [--quick]
        [--per-tensor] [--float-embeddings]
"""

from __future__ import annotations

import gc
import os
import sys
import weakref
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

if __name__ == "__main__":
    # Small matrices: one BLAS thread is faster and steadier on a busy machine (see
    # milestones/README.md). Only as a command, before NumPy starts, unless already set.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))  # so that `import common` works from any folder

from common import (  # noqa: E402
    framework_banner,
    framework_folder,
    load_script,
    milestone_parser,
    need,
    print_results,
    say,
)

lm = load_script("05_2017_transformer/_lm.py")

HISTORY = """\
2018 on: models grew faster than the memory of the machines that ran them. Google's
TensorFlow Lite (2017) and Jacob et al.'s "Quantization and Training of Neural Networks for
Efficient Integer-Arithmetic-Only Inference" (2018) ran networks in 8-bit integers on
phones; by 2022 LLM.int8() ran 175-billion-parameter models in int8 with no loss. Here your
Module 17 does the same to your Shakespeare GPT: a quarter of the bytes, measured, and the
validation loss, measured again."""

FULL = lm.Settings(steps=2000, lr=3e-3, min_lr=3e-4, warmup=100, eval_every=500)
QUICK = replace(FULL, steps=250, lr=6e-3, min_lr=6e-4, warmup=30, eval_every=125)
QUICK_VAL_CHARS = 25_600  # the quick setting scores the first 25,600 validation characters
CALIBRATION_BATCHES = 8
TARGET_RATIO = 3.5  # float32 bytes / quantized bytes, at least
TARGET_DELTA = 0.05  # validation loss after - before, in nats, less than


def framework():
    """The 2017 milestone's pieces and Module 17's (exit 2 naming the first one missing)."""
    tt = lm.framework()
    module = "tinytorch.optimization.quantization"
    for name in ("quantize_model", "model_bytes", "sublayers", "QuantizedLinear"):
        setattr(tt, name, need(name, module, "Module 17"))
    tt.QuantizedEmbedding = need("QuantizedEmbedding", module, "Module 17")
    tt.Linear = need("Linear", "tinytorch.core.layers", "Module 03")
    return tt


def bytes_by_kind(tt, model) -> dict[str, int]:
    """The bytes of the distinct arrays the model holds, by dtype (as model_bytes counts)."""
    found, seen = defaultdict(int), set()
    for layer in tt.sublayers(model):
        for value in vars(layer).values():
            for item in value if isinstance(value, list | tuple) else [value]:
                array = item.data if isinstance(item, tt.Tensor) else item
                if isinstance(array, np.ndarray) and id(array) not in seen:
                    seen.add(id(array))
                    found[str(array.dtype)] += array.nbytes
    return dict(found)


def train(tt, corpus, settings, seed: int, clock):
    """Train the 2017 milestone's GPT; return the model (the optimizer is dropped)."""
    model = lm.build_gpt(tt, corpus.vocab_size, settings, seed)

    def sample(rng):
        return (*lm.random_windows(corpus.train, settings.batch, settings.context, rng), None)

    run = lm.Training(tt, model, settings, sample, seed=seed)
    print(f"Model: {lm.parameter_count(model):,} parameters. {settings.describe()}.")
    while run.done < settings.steps:
        run.step()
        if run.done % settings.eval_every == 0 or run.done == settings.steps:
            print(
                f"  step {run.done:>4}/{settings.steps}  train loss {run.smoothed_loss():.3f}  "
                f"{clock.wall():5.0f} s ({clock.cpu():.0f} s CPU)",
                flush=True,
            )
    summary = {"steps": run.done, "train_cpu_seconds": run.cpu_seconds}
    del run  # the optimizer refers to every parameter: without this nothing could be freed
    return model, summary


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the measured sizes, losses and verdicts."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the short setting of the tests: {QUICK.steps} steps, the first "
        f"{QUICK_VAL_CHARS:,} validation characters",
    )
    parser.add_argument("--steps", type=int, help=f"training steps (default {FULL.steps})")
    parser.add_argument(
        "--per-tensor", action="store_true", help="one scale per weight matrix, not per channel"
    )
    parser.add_argument(
        "--float-embeddings",
        action="store_true",
        help="keep the embedding tables in float32 (counted in the size)",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.steps is not None:
        settings = replace(settings, steps=max(1, args.steps))
    clock = lm.Clock()
    banner = framework_banner()
    tt = framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")
    corpus = lm.load_text(tt, "shakespeare")
    model, summary = train(tt, corpus, settings, args.seed, clock)

    val = corpus.val[: QUICK_VAL_CHARS + 1] if args.quick else corpus.val
    pad = corpus.tokenizer.stoi[lm.PAD]
    val_x, val_y, val_keep = lm.eval_windows(val, settings.context, pad)
    characters = int(val_keep.sum())
    print(f"\nScoring {characters:,} validation characters with the float32 model ...", flush=True)
    loss_before = lm.evaluate_loss(tt, model, val_x, val_y, val_keep, batch=64)
    bytes_before = tt.model_bytes(model)
    kinds_before = bytes_by_kind(tt, model)

    linears = [layer for layer in tt.sublayers(model) if isinstance(layer, tt.Linear)]
    weights = [weakref.ref(layer.weight) for layer in linears]
    del linears
    rng = np.random.default_rng((args.seed, 23))
    calibration = [
        lm.random_windows(corpus.train, settings.batch, settings.context, rng)[0]
        for _ in range(CALIBRATION_BATCHES)
    ]
    per_channel, embeddings = not args.per_tensor, not args.float_embeddings
    print(
        f"Quantizing: {len(weights)} Linear layers to int8 "
        f"({'one scale per output channel' if per_channel else 'one scale per matrix'}), "
        f"embedding tables {'to int8' if embeddings else 'kept float32'}, calibrated on "
        f"{CALIBRATION_BATCHES} batches of {settings.batch} training windows ...",
        flush=True,
    )
    model = tt.quantize_model(model, calibration, per_channel=per_channel, embeddings=embeddings)
    gc.collect()
    still_held = sum(ref() is not None for ref in weights)
    layers = tt.sublayers(model)
    quantized = sum(isinstance(layer, tt.QuantizedLinear) for layer in layers)
    tables = sum(isinstance(layer, tt.QuantizedEmbedding) for layer in layers)
    bytes_after = tt.model_bytes(model)
    kinds_after = bytes_by_kind(tt, model)
    print(f"Scoring the same {characters:,} characters with the int8 model ...", flush=True)
    loss_after = lm.evaluate_loss(tt, model, val_x, val_y, val_keep, batch=64)

    ratio = bytes_before / bytes_after
    delta = loss_after - loss_before
    freed = still_held == 0
    ratio_met, delta_met = ratio >= TARGET_RATIO, delta < TARGET_DELTA
    say(
        f"The int8 model holds {bytes_after:,} bytes against {bytes_before:,}: {ratio:.2f}x "
        f"fewer. What is not int8: {kinds_after.get('float32', 0):,} bytes of float32 (the "
        f"LayerNorms, the scales{'' if embeddings else ', the embedding tables'}) and "
        f"{kinds_after.get('int32', 0):,} bytes of int32 biases. Its validation loss moved by "
        f"{delta:+.4f} nats ({loss_before:.4f} -> {loss_after:.4f})."
    )
    if not freed:
        say(
            f"{still_held} of {len(weights)} float weights of the replaced Linear layers are "
            "still alive: something still refers to them (the quantized layers must not), so "
            "no memory was saved."
        )

    def layout(kinds: dict[str, int]) -> str:
        return ", ".join(f"{kind} {nbytes:,}" for kind, nbytes in sorted(kinds.items()))

    seconds = clock.wall()
    print_results(
        "2018: the Shakespeare GPT quantized to int8",
        [
            (
                "model",
                f"GPT d {settings.d_model}, {settings.layers} blocks, {settings.heads} heads, "
                f"context {settings.context}, {summary['steps']:,} steps",
                "",
            ),
            ("Linear layers in int8", f"{quantized} of {len(weights)}", ""),
            ("embedding tables in int8", f"{tables} of 2", ""),
            ("float weights freed", "yes" if freed else f"NO ({still_held} alive)", "yes"),
            ("float32 model, bytes", f"{bytes_before:,}", ""),
            ("int8 model, bytes", f"{bytes_after:,}", ""),
            ("  by dtype, before", layout(kinds_before), ""),
            ("  by dtype, after", layout(kinds_after), ""),
            ("size ratio", f"{ratio:.2f}x", f">= {TARGET_RATIO}x"),
            ("characters scored", f"{characters:,}", ""),
            ("val loss, float32", f"{loss_before:.4f}", ""),
            ("val loss, int8", f"{loss_after:.4f}", ""),
            ("val loss change", f"{delta:+.4f}", f"< {TARGET_DELTA}"),
            ("whole run, CPU time", f"{clock.cpu():.1f} s", ""),
        ],
        seconds,
    )
    return {
        "framework": str(framework_folder()),
        "banner": banner,
        "steps": summary["steps"],
        "linears": len(weights),
        "quantized": quantized,
        "tables": tables,
        "still_held": still_held,
        "bytes_before": bytes_before,
        "bytes_after": bytes_after,
        "kinds_after": kinds_after,
        "ratio": ratio,
        "loss_before": loss_before,
        "loss_after": loss_after,
        "delta": delta,
        "characters": characters,
        "passed": freed and ratio_met and delta_met,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
