"""2017, attention: one attention layer learns to reverse sequences by looking back to front.

The task: read 12 digits and write them in reverse order ("3 1 4 1 5 9 2 6 5 3 5 8"
becomes "8 5 3 5 6 2 9 5 1 4 1 3"). Output position i must copy input position 11 - i: no arithmetic on
the digits, only knowing where to look, which is what attention computes. The model has
one attention layer and nothing that mixes positions besides it: token embedding plus
learned position embedding (Module 11), one multi-head self-attention without a mask
(Module 12; every position may look at every other), then a Linear layer (Module 03) that
reads a digit from each position. It is trained with Adam (Module 06) on fresh random
sequences, then scored on 1,000 random sequences it never saw: a sequence counts only when
all 12 digits are right. Target: at least 95% exact sequences. The script then prints the
attention weights, which should form the anti-diagonal (position i looks at position
11 - i), and trains a control: the same model with the attention replaced by a Linear layer
that sees one position at a time, which cannot do the task.

Run from the repository root:
    python milestones/05_2017_transformer/attention_proof.py [--seed N] [--steps N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

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
    milestone_parser,
    need,
    print_results,
    say,
)

HISTORY = """\
2017: before the transformer, sequence-to-sequence models read a sentence into the state of
a recurrent network, one word at a time, and attention was an add-on that let the decoder
look back at the words. Vaswani and colleagues made attention the whole mechanism: every
position computes a query, compares it with every position's key and takes the values where
the match is best. Reversing a sequence needs exactly that: position i must find position
n - 1 - i. A recurrent network has to carry all n digits through its state to do it."""

DIGITS = 10
LENGTH = 12
D_MODEL = 32
HEADS = 2
BATCH = 64
LEARNING_RATE = 0.01
STEPS = 400
TEST_SEQUENCES = 1000
TARGET = 0.95  # exact sequences, all LENGTH digits right


def framework() -> SimpleNamespace:
    """The tinytorch pieces of this milestone (exit 2 naming the first module missing)."""
    return SimpleNamespace(
        Tensor=need("Tensor", "tinytorch.core.tensor", "Module 01"),
        Linear=need("Linear", "tinytorch.core.layers", "Module 03"),
        CrossEntropyLoss=need("CrossEntropyLoss", "tinytorch.core.losses", "Module 04"),
        enable_autograd=need("enable_autograd", "tinytorch.core.autograd", "Module 05"),
        no_grad=need("no_grad", "tinytorch.core.autograd", "Module 05"),
        Adam=need("Adam", "tinytorch.core.optimizers", "Module 06"),
        Embedding=need("Embedding", "tinytorch.text.embeddings", "Module 11"),
        PositionalEncoding=need("PositionalEncoding", "tinytorch.text.embeddings", "Module 11"),
        MultiHeadAttention=need("MultiHeadAttention", "tinytorch.core.attention", "Module 12"),
        scaled_dot_product_attention=need(
            "scaled_dot_product_attention", "tinytorch.core.attention", "Module 12"
        ),
        split_heads=need("split_heads", "tinytorch.core.attention", "Module 12"),
    )


class ReversalModel:
    """Embedding + positions -> one multi-head self-attention (no mask) -> Linear to digits."""

    def __init__(self, tt: SimpleNamespace, rng: np.random.Generator):
        self.tt = tt
        self.embed = tt.Embedding(DIGITS, D_MODEL, rng=rng)
        self.positions = tt.PositionalEncoding(LENGTH, D_MODEL, rng=rng)
        self.attention = tt.MultiHeadAttention(D_MODEL, HEADS, rng=rng)
        self.head = tt.Linear(D_MODEL, DIGITS, rng=rng)

    def __call__(self, digits: np.ndarray):
        """digits (B, LENGTH) -> logits (B, LENGTH, DIGITS)."""
        x = self.positions(self.embed(digits))  # (B, T, d)
        return self.head(self.attention(x))  # attention is the only place positions meet

    def parameters(self) -> list:
        layers = (self.embed, self.positions, self.attention, self.head)
        return [p for layer in layers for p in layer.parameters()]

    def attention_weights(self, digits: np.ndarray) -> np.ndarray:
        """The attention weights (B, heads, T, T), recomputed from the layer's projections."""
        tt, attn = self.tt, self.attention
        with tt.no_grad():
            x = self.positions(self.embed(digits))
            q = tt.split_heads(attn.q_proj(x), attn.num_heads)
            k = tt.split_heads(attn.k_proj(x), attn.num_heads)
            v = tt.split_heads(attn.v_proj(x), attn.num_heads)
            _, weights = tt.scaled_dot_product_attention(q, k, v)
        return weights.numpy()


class PositionwiseModel(ReversalModel):
    """The control: the same model with the attention replaced by a Linear(d, d), applied to
    each position on its own, so that no position ever sees another."""

    def __init__(self, tt: SimpleNamespace, rng: np.random.Generator):
        super().__init__(tt, rng)
        self.attention = tt.Linear(D_MODEL, D_MODEL, rng=rng)

    def attention_weights(self, digits: np.ndarray) -> np.ndarray:
        raise TypeError("the control model has no attention")


def random_sequences(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, DIGITS, size=(n, LENGTH))


def predict(tt: SimpleNamespace, model: ReversalModel, digits: np.ndarray) -> np.ndarray:
    with tt.no_grad():
        return model(digits).numpy().argmax(axis=-1)


def exact_accuracy(tt, model, digits: np.ndarray) -> tuple[float, float]:
    """(fraction of sequences reversed without a mistake, fraction of digits right)."""
    right = predict(tt, model, digits) == digits[:, ::-1]
    return float(right.all(axis=1).mean()), float(right.mean())


def train(tt, model, steps: int, rng, test: np.ndarray, log: bool) -> tuple[list[dict], float]:
    """Adam on fresh random batches; every 50 steps the test accuracies (printed when `log`).
    Returns the history and the seconds spent in training steps."""
    loss_fn = tt.CrossEntropyLoss()
    optimizer = tt.Adam(model.parameters(), lr=LEARNING_RATE)
    history, seconds = [], 0.0
    for step in range(1, steps + 1):
        started = time.perf_counter()
        digits = random_sequences(rng, BATCH)
        logits = model(digits)  # (B, T, 10)
        loss = loss_fn(logits.reshape(BATCH * LENGTH, DIGITS), digits[:, ::-1].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - started
        if step % 50 == 0 or step == steps:
            sequences, per_digit = exact_accuracy(tt, model, test)
            history.append(
                {"step": step, "loss": loss.item(), "digits": per_digit, "sequences": sequences}
            )
            if log:
                print(
                    f"  {step:>4}/{steps:<4}  {loss.item():7.4f}  {per_digit:7.1%}  "
                    f"{sequences:9.1%}",
                    flush=True,
                )
    return history, seconds


def attention_map(weights: np.ndarray) -> str:
    """Mean attention (over sequences and heads) as text: rows are the positions that look,
    columns the positions looked at; '#' >= 0.5, '+' >= 0.2, '.' >= 0.05."""
    mean = weights.mean(axis=(0, 1))  # (T, T)
    lines = ["  looks at: " + "".join(f"{j:>3}" for j in range(LENGTH))]
    for i, row in enumerate(mean):
        marks = ("#" if w >= 0.5 else "+" if w >= 0.2 else "." if w >= 0.05 else " " for w in row)
        lines.append(f"  output {i:>2}:" + "".join(f"{m:>3}" for m in marks).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Run the milestone; return the exact-sequence accuracy, steps, times and details."""
    parser = milestone_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=STEPS, help=f"training steps (default {STEPS})"
    )
    args = parser.parse_args(argv)
    steps = max(1, args.steps)
    started = time.perf_counter()
    framework_banner()
    tt = framework()
    tt.enable_autograd()
    print(f"\n{HISTORY}\n")

    model = ReversalModel(tt, np.random.default_rng((args.seed, 2)))
    data_rng = np.random.default_rng((args.seed, 3))
    test = random_sequences(np.random.default_rng((args.seed, 4)), TEST_SEQUENCES)
    parameters = sum(p.size for p in model.parameters())
    chance = (1 / DIGITS) ** LENGTH
    print(
        f"Reversing {LENGTH} digits: embedding + positions (d {D_MODEL}), one attention layer "
        f"of {HEADS} heads, a Linear readout; {parameters:,} parameters. Adam (lr "
        f"{LEARNING_RATE}), {steps} steps of {BATCH} fresh random sequences. Guessing gets "
        f"10% of the digits and a whole sequence right once in {1 / chance:,.0f}.\n"
    )
    print(f"{'step':>11}  {'loss':>7}  {'digits':>7}  {'sequences':>9}")
    history, train_seconds = train(tt, model, steps, data_rng, test, log=True)
    sequences, per_digit = exact_accuracy(tt, model, test)
    target_met = sequences >= TARGET

    print("\nA few test sequences it never saw:")
    shown = test[:5]
    for digits, out in zip(shown, predict(tt, model, shown), strict=True):
        mark = "right" if np.array_equal(out, digits[::-1]) else "WRONG"
        print(f"  {' '.join(map(str, digits))}  ->  {' '.join(map(str, out))}   {mark}")
    print("\nWhere each output position looks (mean attention weights over the test sequences):")
    print(attention_map(model.attention_weights(test)))
    control = PositionwiseModel(tt, np.random.default_rng((args.seed, 2)))
    _, control_seconds = train(
        tt, control, steps, np.random.default_rng((args.seed, 3)), test, False
    )
    control_sequences, control_digits = exact_accuracy(tt, control, test)
    weights = model.attention_weights(test).mean(axis=(0, 1))
    anti_diagonal = float(np.mean(weights[np.arange(LENGTH), LENGTH - 1 - np.arange(LENGTH)]))
    print()
    say(
        f"Output position i puts on average {anti_diagonal:.0%} of its attention (both heads "
        f"together) on input position {LENGTH - 1} - i: the attention learnt where to look "
        "from position alone, with no rule telling it. The control, the same model with "
        "the attention replaced by a Linear layer that sees one position at a time, trained "
        f"the same way, gets {control_digits:.1%} of the digits and {control_sequences:.1%} "
        "of the sequences right: without attention no position can see another, and the "
        "digit it must write is somewhere else."
    )
    seconds = time.perf_counter() - started
    print_results(
        f"2017 attention: reversing sequences of {LENGTH} digits",
        [
            ("model", f"1 attention layer, {HEADS} heads, d {D_MODEL}", ""),
            ("parameters", f"{parameters:,}", ""),
            ("training", f"Adam lr {LEARNING_RATE}, {steps} x {BATCH} sequences", ""),
            ("training time", f"{train_seconds:.1f} s", ""),
            ("chance (per sequence)", f"{chance:.0e}", ""),
            ("digits right", f"{per_digit:.1%}", ""),
            ("exact sequences", f"{sequences:.1%} of {TEST_SEQUENCES:,}", f">= {TARGET:.0%}"),
            (f"attention on position {LENGTH - 1} - i", f"{anti_diagonal:.0%}", ""),
            ("control without attention", f"{control_digits:.1%} digits", ""),
            ("control exact sequences", f"{control_sequences:.1%}", ""),
        ],
        seconds,
    )
    return {
        "accuracy": sequences,
        "digit_accuracy": per_digit,
        "anti_diagonal": anti_diagonal,
        "control_accuracy": control_sequences,
        "control_digit_accuracy": control_digits,
        "control_seconds": control_seconds,
        "steps": steps,
        "history": history,
        "parameters": parameters,
        "train_seconds": train_seconds,
        "framework": str(framework_folder()),
        "seconds": seconds,
        "target_met": target_met,
    }


if __name__ == "__main__":
    sys.exit(0 if main()["target_met"] else 1)
