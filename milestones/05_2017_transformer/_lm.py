"""What the 2017 language-model milestones share: corpora, baselines, batches, loss, training.

Not a milestone itself (its name starts with "_", so `tito milestone` does not list it); the
scripts load it with `load_script("05_2017_transformer/_lm.py")`.

- `framework()`: the tinytorch pieces a GPT milestone uses, each from the module that
  teaches it (exit 2 naming the first one missing).
- `load_text(tt, name)`: a corpus (train and val text) through Module 10's `load_corpus`,
  falling back to this repository's `datasets/` folder; its documented vocabulary;
  `bigram_baseline` and `unigram_baseline`, the two reference figures of datasets/README.md,
  computed from the text at run time.
- `random_windows` for training batches, `eval_windows` for a loss over every character of
  a text exactly once (the last window padded, the padding masked out);
- `sequence_loss(tt, logits, targets, keep)`: the mean cross-entropy over the positions
  where `keep` is True only (padding never counts);
- `Training`: AdamW, linear warm-up then cosine decay, gradient clipping, one `step()` at a
  time so that a caller can draw a dashboard between steps;
- `evaluate_loss`, `loss_chart` (an ASCII loss curve), `memory_mb`, `parameter_count`.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

MILESTONES = Path(__file__).resolve().parents[1]
if str(MILESTONES) not in sys.path:
    sys.path.insert(0, str(MILESTONES))

from common import need, read_corpus  # noqa: E402

# The documented vocabulary of each corpus (datasets/README.md): every character of its
# train and val files is one of these. Module 10's CharTokenizer built on this string gives
# the special tokens <pad>, <unk>, <bos>, <eos> ids 0 to 3, then these characters in order.
VOCABULARIES = {
    "shakespeare": "\n !\"&'(),-./12345:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz{}",
    "tinytalks": "\n !',-.:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "pycode": "\n" + "".join(chr(c) for c in range(32, 127)),
}
PAD = "<pad>"  # Module 10's first special token, id 0


def framework() -> SimpleNamespace:
    """The tinytorch pieces of the GPT milestones (exit 2 naming the first module missing)."""
    return SimpleNamespace(
        Tensor=need("Tensor", "tinytorch.core.tensor", "Module 01"),
        CrossEntropyLoss=need("CrossEntropyLoss", "tinytorch.core.losses", "Module 04"),
        enable_autograd=need("enable_autograd", "tinytorch.core.autograd", "Module 05"),
        no_grad=need("no_grad", "tinytorch.core.autograd", "Module 05"),
        AdamW=need("AdamW", "tinytorch.core.optimizers", "Module 06"),
        clip_grad_norm=need("clip_grad_norm", "tinytorch.core.training", "Module 07"),
        CosineSchedule=need("CosineSchedule", "tinytorch.core.training", "Module 07"),
        CharTokenizer=need("CharTokenizer", "tinytorch.text.tokenization", "Module 10"),
        load_corpus=need("load_corpus", "tinytorch.text.tokenization", "Module 10"),
        GPT=need("GPT", "tinytorch.models.transformer", "Module 13"),
    )


# --------------------------------------------------------------------------------------
# Corpora and their baselines
# --------------------------------------------------------------------------------------


def read_split(tt: SimpleNamespace, name: str, split: str) -> str:
    """One split of a shipped corpus (common.read_corpus: the student's folders first)."""
    return read_corpus(tt.load_corpus, name, split)


@dataclass
class Corpus:
    """A corpus as token ids, with its tokenizer and the two baselines of datasets/README."""

    name: str
    tokenizer: object  # Module 10's CharTokenizer over the documented vocabulary
    train_text: str
    val_text: str
    train: np.ndarray  # int64 ids
    val: np.ndarray
    unigram: float  # nats per character on val
    bigram: float

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size


def load_text(tt: SimpleNamespace, name: str) -> Corpus:
    """The corpus `name`, tokenised with CharTokenizer(documented vocabulary)."""
    train_text, val_text = read_split(tt, name, "train"), read_split(tt, name, "val")
    vocabulary = VOCABULARIES[name]
    tokenizer = tt.CharTokenizer(vocabulary)
    return Corpus(
        name=name,
        tokenizer=tokenizer,
        train_text=train_text,
        val_text=val_text,
        train=np.array(tokenizer.encode(train_text), dtype=np.int64),
        val=np.array(tokenizer.encode(val_text), dtype=np.int64),
        unigram=unigram_baseline(train_text, val_text, vocabulary),
        bigram=bigram_baseline(train_text, val_text, vocabulary),
    )


def _codes(text: str, vocabulary: str) -> np.ndarray:
    lookup = {ch: i for i, ch in enumerate(vocabulary)}
    return np.array([lookup[ch] for ch in text], dtype=np.int64)


def unigram_baseline(train: str, val: str, vocabulary: str) -> float:
    """Mean -ln p(c) over val, p(c) = (n(c) + 1) / (N + V) counted on train (add-one)."""
    V = len(vocabulary)
    counts = np.bincount(_codes(train, vocabulary), minlength=V) + 1.0
    return float(-np.mean(np.log(counts / counts.sum())[_codes(val, vocabulary)]))


def bigram_baseline(train: str, val: str, vocabulary: str) -> float:
    """Mean -ln p(c | b) over the len(val) - 1 neighbouring pairs of val, with
    p(c | b) = (n(bc) + 1) / (n(b.) + V) counted on train (add-one), as in datasets/README."""
    V = len(vocabulary)
    t, v = _codes(train, vocabulary), _codes(val, vocabulary)
    pairs = np.bincount(t[:-1] * V + t[1:], minlength=V * V).reshape(V, V) + 1.0
    log_p = np.log(pairs / pairs.sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[v[:-1], v[1:]]))


# --------------------------------------------------------------------------------------
# Batches and the loss
# --------------------------------------------------------------------------------------


def random_windows(
    ids: np.ndarray, batch: int, context: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`batch` windows of `context` + 1 ids at random places: inputs (B, T), targets (B, T),
    targets[b, t] = inputs[b, t + 1] one character later."""
    starts = rng.integers(0, len(ids) - context, size=batch)
    rows = ids[starts[:, None] + np.arange(context + 1)]  # (B, T + 1)
    return rows[:, :-1], rows[:, 1:]


def eval_windows(
    ids: np.ndarray, context: int, pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every id of `ids` but the first, predicted exactly once: inputs, targets, keep (N, T).

    The text is cut into consecutive windows of `context` predictions; the last window is
    filled up with `pad_id`, and keep is False there, so padding is never scored.
    """
    predicted = len(ids) - 1
    rows = -(-predicted // context)  # ceil
    inputs = np.full(rows * context, pad_id, dtype=np.int64)
    targets = np.full(rows * context, pad_id, dtype=np.int64)
    inputs[:predicted], targets[:predicted] = ids[:-1], ids[1:]
    keep = np.arange(rows * context) < predicted
    shape = (rows, context)
    return inputs.reshape(shape), targets.reshape(shape), keep.reshape(shape)


def probe_rows(rows: int, count: int) -> np.ndarray:
    """`count` row indices spread evenly over `rows` (all of them when there are fewer): a
    cheap validation probe during training that samples the whole text, not its start."""
    return np.unique(np.linspace(0, rows - 1, min(count, rows)).round().astype(np.int64))


def sequence_loss(tt: SimpleNamespace, logits, targets: np.ndarray, keep: np.ndarray | None = None):
    """Mean cross-entropy of logits (B, T, V) against targets (B, T) where keep is True.

    The logits are flattened to (B * T, V) and, when a keep-mask is given, only the rows it
    keeps are taken (indexing is differentiable: Module 05's GetItem), so a padded position
    adds nothing to the loss and gets no gradient. Returns (loss Tensor, positions scored).
    """
    B, T, V = logits.shape
    flat, labels = logits.reshape(B * T, V), np.asarray(targets).reshape(B * T)
    if keep is not None and not np.all(keep):
        rows = np.flatnonzero(np.asarray(keep).reshape(B * T))
        flat, labels = flat[rows], labels[rows]
    return tt.CrossEntropyLoss()(flat, labels), len(labels)


def evaluate_loss(
    tt: SimpleNamespace,
    model,
    inputs: np.ndarray,
    targets: np.ndarray,
    keep: np.ndarray | None = None,
    batch: int = 32,
) -> float:
    """Mean loss in nats per scored position over all rows, without building a graph."""
    keep = np.ones(inputs.shape, dtype=bool) if keep is None else keep
    total, count = 0.0, 0
    with tt.no_grad():
        for start in range(0, len(inputs), batch):
            part = slice(start, start + batch)
            if not keep[part].any():
                continue
            loss, n = sequence_loss(tt, model(inputs[part]), targets[part], keep[part])
            total += loss.item() * n
            count += n
    return total / count


class Clock:
    """Seconds since it was made: wall-clock time, and the CPU time of this process.

    On an idle machine the two agree (one BLAS thread); on a shared one the wall clock also
    counts the other programs' turns, while the CPU time is what the run itself cost. The
    milestones print both and keep time budgets in CPU time.
    """

    def __init__(self) -> None:
        self.wall_start, self.cpu_start = time.perf_counter(), time.process_time()

    def wall(self) -> float:
        return time.perf_counter() - self.wall_start

    def cpu(self) -> float:
        return time.process_time() - self.cpu_start


def parameter_count(model) -> int:
    return sum(p.size for p in model.parameters())


# --------------------------------------------------------------------------------------
# Training, one step at a time
# --------------------------------------------------------------------------------------


@dataclass
class Settings:
    """How a GPT milestone trains: model size, batches, optimiser and schedule."""

    d_model: int = 64
    layers: int = 2
    heads: int = 4
    context: int = 64
    batch: int = 16
    steps: int = 1500
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup: int = 100
    weight_decay: float = 0.01
    clip: float = 1.0
    eval_every: int = 250

    def describe(self) -> str:
        return (
            f"GPT d_model {self.d_model}, {self.layers} blocks, {self.heads} heads, context "
            f"{self.context}; AdamW lr {self.lr:g} (warm-up {self.warmup}, cosine to "
            f"{self.min_lr:g}), weight decay {self.weight_decay:g}, clip {self.clip:g}, "
            f"batches of {self.batch}, {self.steps} steps"
        )


def build_gpt(tt: SimpleNamespace, vocab_size: int, settings: Settings, seed: int):
    return tt.GPT(
        vocab_size,
        settings.d_model,
        settings.layers,
        settings.heads,
        settings.context,
        rng=np.random.default_rng((seed, 13)),
    )


@dataclass
class Training:
    """A training run of `model` on batches from `sample(rng) -> (inputs, targets, keep)`.

    step() runs one optimiser step and records the loss, the tokens scored, the wall-clock
    time and the CPU time of this process (what the step cost, whatever else the machine runs);
    the AdamW learning rate follows Module 07's CosineSchedule (linear warm-up, cosine decay
    to min_lr at the last step); gradients are clipped to a global norm of settings.clip.
    """

    tt: SimpleNamespace
    model: object
    settings: Settings
    sample: Callable[[np.random.Generator], tuple]
    seed: int = 0
    # (inputs, logits, targets, keep) -> (loss, tokens scored); None: sequence_loss
    loss_fn: Callable | None = None
    losses: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    tokens: int = 0

    def __post_init__(self) -> None:
        s = self.settings
        self.params = self.model.parameters()
        self.optimizer = self.tt.AdamW(self.params, lr=s.lr, weight_decay=s.weight_decay)
        self.schedule = self.tt.CosineSchedule(
            self.optimizer, s.lr, s.min_lr, s.steps, warmup_steps=min(s.warmup, s.steps - 1)
        )
        self.rng = np.random.default_rng((self.seed, 17))

    @property
    def done(self) -> int:
        return len(self.losses)

    def step(self) -> float:
        """One step: a batch, forward, masked loss, backward, clip, AdamW, schedule."""
        started, cpu = time.perf_counter(), time.process_time()
        inputs, targets, keep = self.sample(self.rng)
        logits = self.model(inputs)
        if self.loss_fn is None:
            loss, scored = sequence_loss(self.tt, logits, targets, keep)
        else:
            loss, scored = self.loss_fn(inputs, logits, targets, keep)
        self.optimizer.zero_grad()
        loss.backward()
        self.tt.clip_grad_norm(self.params, self.settings.clip)
        self.optimizer.step()
        self.schedule.step()
        self.losses.append(loss.item())
        self.tokens += scored
        self.step_seconds.append(time.perf_counter() - started)
        self.cpu_seconds += time.process_time() - cpu
        return self.losses[-1]

    @property
    def train_seconds(self) -> float:
        return float(sum(self.step_seconds))

    def tokens_per_second(self, last: int = 50) -> float:
        """Scored tokens per second over the last `last` steps (all of them when fewer)."""
        if not self.step_seconds:
            return 0.0
        recent = self.step_seconds[-last:]
        return self.tokens / self.done * len(recent) / max(sum(recent), 1e-9)

    def ms_per_step(self, last: int = 50) -> float:
        recent = self.step_seconds[-last:]
        return 1000 * float(np.median(recent)) if recent else 0.0

    def smoothed_loss(self, last: int = 50) -> float:
        return float(np.mean(self.losses[-last:])) if self.losses else math.nan


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def loss_chart(
    losses: Sequence[float],
    width: int = 60,
    height: int = 8,
    marks: Sequence[tuple[int, float]] = (),
    baseline: float | None = None,
) -> str:
    """A loss curve as ASCII text: '*' the training loss (means of runs of steps, one
    column each), 'o' the validation losses given as (step, loss) in `marks`, and a row of
    '-' at `baseline` when it is inside the range. Linear scale, largest value on top."""
    values = np.asarray(losses, dtype=np.float64)
    if len(values) == 0:
        return "(no steps yet)"
    columns = [chunk.mean() for chunk in np.array_split(values, min(width, len(values)))]
    points = [*columns, *(loss for _, loss in marks)]
    low, high = min(points), max(points)
    if baseline is not None and low <= baseline <= high * 1.2:
        high = max(high, baseline)
    span = max(high - low, 1e-9)

    def level(value: float) -> int:
        return min(int((value - low) / span * height), height - 1)

    grid = [[" "] * len(columns) for _ in range(height)]
    if baseline is not None and low <= baseline <= high:
        grid[level(baseline)] = ["-"] * len(columns)
    for column, value in enumerate(columns):
        grid[level(value)][column] = "*"
    for step, value in marks:
        column = min(int((step - 1) / len(values) * len(columns)), len(columns) - 1)
        grid[level(value)][column] = "o"
    labels = {height - 1: f"{high:.2f}", 0: f"{low:.2f}"}
    if baseline is not None and low <= baseline <= high:
        labels[level(baseline)] = f"{baseline:.2f}"
    lines = [
        f"{labels.get(row, ''):>6} |{''.join(grid[row])}".rstrip()
        for row in range(height - 1, -1, -1)
    ]
    lines.append(" " * 7 + "+" + "-" * len(columns))
    last = f"step {len(values)}"
    lines.append(" " * 8 + "step 1".ljust(max(7, len(columns) - len(last))) + last)
    return "\n".join(lines)


def memory_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB, measured by the OS.

    Current from /proc/self/statm (Linux); peak from resource.getrusage (kilobytes on
    Linux, bytes on macOS). NaN for a figure the system does not give.
    """
    current = peak = math.nan
    try:
        import os

        pages = int(Path("/proc/self/statm").read_text().split()[1])
        current = pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = rss / 1e6 if sys.platform == "darwin" else rss / 1e3
    except (ImportError, OSError):
        pass
    return current, peak
