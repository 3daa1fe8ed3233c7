# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 15: Profiling
#
# Module 13 ended on a sobering number: a training step of the small Shakespeare GPT ran at
# 9 to 20 GFLOP/s, on a machine that multiplies two float32 matrices at about 100. Where
# does the rest go? Guesses come easily ("Python is slow", "it's the softmax", "memory"),
# and an optimisation built on a wrong guess makes the code longer and no faster. The remedy
# is old and dull and always works: **measure first**. This module builds the instrument, a
# `Profiler`, and then points it at the GPT you built.
#
# A profiler deals in two kinds of numbers, and the difference matters:
#
# - **counted** from the model itself: parameters and FLOPs. They are exact, the same on
#   every machine, and a test can check them to the last digit;
# - **measured** on this machine: latency, memory, the forward and the backward pass, the
#   time of every operation. They are noisy, and they mean something only when measured
#   well: after a warm-up, over many repetitions, summarised by a median and percentiles,
#   with the backward pass actually run.
#
# ```
#   counted (exact)                         measured (on this machine, with a clock)
#   ─────────────────────────────────       ──────────────────────────────────────────────
#   count_parameters   each Tensor once     measure_latency        warm-up, median, p10..p90
#   count_flops        Linear, Conv2d,      measure_memory         peak bytes (tracemalloc)
#                      attention, a GPT     time_forward_backward  a real backward pass
#                                           OpTimer, hotspot_table time of every operation
#   └──────────────────────────── Profiler: one object, one clock ─────────────────────────┘
# ```
#
# An earlier version of this course got every one of these wrong, in ways worth learning
# from: the FLOPs of a `Linear` layer ignored the batch and sequence axes (1,024 times too
# few for a batch of 16 sequences of 64 tokens); attention had no FLOPs at all; the
# "backward time" was the forward time multiplied by two, and backward never ran;
# activation memory was "assumed" to be twice the input; and a bottleneck detector compared
# megabytes per second with gigaflops per second. A profiler that prints invented numbers is
# worse than none, because it is believed. Here every number is either counted from the
# model or measured on this machine, and the tests check both: the counts against formulas,
# the measurements with a **fake clock** whose every tick the test controls.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - count a model's parameters with **shared tensors counted once** (a layer used twice,
#   an embedding table tied to the output head), and attribute them to its parts;
# - derive the **FLOPs** of a `Linear` layer on inputs of any rank, of a convolution, of
#   attention ($4 B H T^2 d_{\text{head}}$) and of a whole GPT, and say what the count
#   leaves out;
# - measure **latency** properly (warm-up, every call timed, median and percentiles, an
#   injectable clock) and explain why the mean and a single run mislead;
# - measure **peak memory** with `tracemalloc`, and time the **backward pass** for real;
# - **hook a timer** onto every operation of the autograd engine, compute each operation's
#   own time when operations call each other, and leave the framework exactly as it was,
#   even when the profiled code raises;
# - read a **hotspot table**, compare the **FLOP/s** a model achieves with the machine's
#   measured matrix-product peak, and say where the time of a GPT training step goes.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in thirteen places, for eight tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: inputs, outputs, units, errors, and hints. Keep the names and
#   signatures as they are (Modules 16 to 20 call them); the given cells are read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail. Counts are compared with formulas worked out in the text.
#   Measurements are tested with `FakeClock` (in the checks cell): a clock that moves only
#   when the test says so, and operations whose cost in fake seconds the test chooses, so the
#   expected times are exact and a busy machine cannot change a verdict.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other layer sizes, input ranks, strides and paddings, GPTs of
#   other depths, widths and MLP ratios, tied weights, other warm-ups, repeats and costs,
#   operations that call other operations, code that raises inside the timer). A failing
#   hidden check tells you which behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the code of the other tasks
#   comes from the course's reference solution, so a bug costs the points of the task it is
#   in. The last test, `test_profiler`, is different: it profiles a small model with
#   **your** code throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `parameters` | `parameter_breakdown` and `count_parameters`: every parameter Tensor once | 3 |
# | `layer_flops` | `linear_flops`, `conv2d_flops`, `attention_flops`: the formulas | 3 |
# | `model_flops` | `count_flops`: a layer, an attention layer, an MLP, a block, a whole GPT | 3 |
# | `latency` | `measure_latency`: warm-up, every call timed, median and percentiles | 3 |
# | `memory` | `measure_memory`: peak bytes while a function runs, with `tracemalloc` | 2 |
# | `forward_backward` | `time_forward_backward`: the forward and a real backward, timed apart | 3 |
# | `op_timer` | `OpTimer`: timers hooked on every autograd operation, and removed | 4 |
# | `hotspots` | `hotspot_table`: time per operation, ranked, with shares | 2 |
# | `profiler` | (no code of its own) your tasks together behind `Profiler` | 2 |
# | | **total** | **25** |
#
# Work in the order of the table. `Tensor`, `Linear`, autograd (`Function`), `Conv2d`,
# `MultiHeadAttention` and `GPT` come from your Modules 01 to 13; when your work is graded
# they come from the course's reference solution, so a bug in an earlier module does not
# cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.profiling.profiler: counting and measuring what a model costs.

Counted from the model: `count_parameters` and `parameter_breakdown` (every parameter Tensor
once, however many layers share it); FLOPs of matrix products, a multiply-add counting 2
(`linear_flops`, `conv2d_flops`, `attention_flops`, and `count_flops` for a Linear, Conv2d,
MultiHeadAttention, MLP, TransformerBlock or a whole GPT). Measured, with an injectable clock:
`measure_latency` (warm-up, every call timed, median and percentiles), `measure_memory`
(peak bytes, tracemalloc), `time_forward_backward` (a real backward pass, timed apart from
the forward), `OpTimer` (timers hooked on the forward and backward of every autograd
Function, removed on exit) and `hotspot_table`. `Profiler` puts them behind one object.
Written by students in Module 15.
"""

import math
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from tinytorch.core.attention import MultiHeadAttention
from tinytorch.core.autograd import Function
from tinytorch.core.layers import Layer, Linear
from tinytorch.core.spatial import Conv2d, conv_output_size
from tinytorch.core.tensor import Tensor
from tinytorch.models.transformer import GPT, MLP, TransformerBlock

__all__ = [
    "parameter_breakdown",
    "count_parameters",
    "linear_flops",
    "conv2d_flops",
    "attention_flops",
    "count_flops",
    "measure_latency",
    "measure_memory",
    "time_forward_backward",
    "function_classes",
    "OpTimer",
    "hotspot_table",
    "format_hotspots",
    "Profiler",
]

# %% [markdown]
# **Given: the input checks.** The read-only cell below checks the shapes and settings your
# functions receive, so that your code can rely on them and every error message is the
# same: `_as_shape` turns an input shape into a tuple of Python ints (each at least 1),
# `_check_input` checks its rank and the length of one axis, `_check_tokens` checks the
# `(B, T)` of a GPT's token ids against its context, and `_check_counts` the warm-up and
# repeat counts of a measurement.


# %% kind="locked" id="input_checks" export=true
def _as_shape(input_shape, who: str) -> tuple[int, ...]:
    """input_shape (a tuple or list of whole numbers) as a tuple of Python ints.

    Raises:
        TypeError: for an entry that is not a whole number.
        ValueError: for an entry below 1.
    """
    shape = tuple(input_shape)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"{who}: input_shape must hold whole numbers, got {input_shape!r}")
        if n < 1:
            raise ValueError(f"{who}: every size in input_shape must be >= 1, got {shape}")
    return tuple(int(n) for n in shape)


def _check_input(shape: tuple, ndim: int | None, axis: int, size: int, who: str) -> None:
    """shape has ndim axes (any number >= 1 when ndim is None) and shape[axis] == size.

    Raises:
        ValueError: otherwise, naming the shape and what was expected.
    """
    if ndim is None and len(shape) == 0:
        raise ValueError(f"{who}: expected an input with at least one axis, got {shape}")
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{who}: expected an input with {ndim} axes, got shape {shape}")
    if shape[axis] != size:
        raise ValueError(f"{who}: expected size {size} on axis {axis}, got shape {shape}")


def _check_tokens(shape: tuple, max_seq_len: int, who: str) -> None:
    """shape is (B, T), the shape of a GPT's token ids, with T <= max_seq_len.

    Raises:
        ValueError: otherwise, naming the shape and the context length.
    """
    if len(shape) != 2 or shape[1] > max_seq_len:
        raise ValueError(
            f"{who}: a GPT reads token ids of shape (B, T) with T <= max_seq_len="
            f"{max_seq_len}, got {shape}"
        )


def _check_counts(warmup: int, repeats: int, who: str) -> None:
    """warmup >= 0 and repeats >= 1.

    Raises:
        ValueError: otherwise, naming both.
    """
    if warmup < 0 or repeats < 1:
        raise ValueError(
            f"{who}: need warmup >= 0 and at least one timed run, got {warmup}, {repeats}"
        )


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor`, `assert_array` and `check_close` compare values the way
# `np.allclose` does, `check_equal` compares exactly, and `raised` returns the exception a
# call raised. The second part is this module's own:
#
# - `FakeClock(tick=0.0)`: a clock for tests. `clock()` returns the current fake time in
#   seconds and then moves it on by `tick`; `clock.advance(seconds)` moves it on. Your
#   functions take it wherever they take a clock, so what they measure is exactly what the
#   test arranged;
# - `costly_function(clock, forward, backward, name)`: a new autograd `Function` (the
#   identity map) whose forward and backward each move `clock` on by a chosen number of fake
#   seconds: a number, or a list of numbers used one per call. `CostlyLayer(function)` is a
#   `Layer` that applies it;
# - `TiedHead(table)`: an output layer that **shares** the token table of an embedding
#   (`logits = x @ table.T`), as GPT-2 does;
# - `framework_snapshot()` records the `forward` and `backward` that every autograd
#   `Function` class defines, and `framework_unchanged(snapshot)` says whether they are all
#   still the very same objects; `restore_framework(snapshot)` puts them back
#   (`GIVEN_FRAMEWORK` is the snapshot taken before any of your code ran).


# %% kind="locked" id="checks" include="checks"
from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.layers import Dropout, Sequential  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.models.transformer import LayerNorm  # noqa: E402
from tinytorch.text.embeddings import Embedding, PositionalEncoding  # noqa: E402


class FakeClock:
    """A clock the tests control: clock() returns the fake time in seconds, then moves it on
    by `tick`; advance(seconds) moves it on. `readings` counts the calls."""

    def __init__(self, tick: float = 0.0):
        self.now, self.tick, self.readings = 0.0, tick, 0

    def __call__(self) -> float:
        value = self.now
        self.now += self.tick
        self.readings += 1
        return value

    def advance(self, seconds: float) -> None:
        self.now += seconds


def costly_function(clock, forward=0.0, backward=0.0, name: str = "Costly"):
    """A new Function subclass named `name`: the identity map, whose forward and backward move
    `clock` on by `forward` and `backward` seconds per call (a number, or a list of numbers
    used one per call, in order). `calls` counts the calls: {"forward": n, "backward": m}."""
    calls = {"forward": 0, "backward": 0}

    def cost(spec, phase):
        seconds = spec[calls[phase]] if isinstance(spec, list) else spec
        calls[phase] += 1
        clock.advance(seconds)

    def forward_fn(ctx, x):
        cost(forward, "forward")
        return x * 1.0

    def backward_fn(ctx, grad_output):
        cost(backward, "backward")
        return (grad_output,)

    made = type(
        name,
        (Function,),
        {"forward": staticmethod(forward_fn), "backward": staticmethod(backward_fn)},
    )
    made.calls = calls
    return made


class CostlyLayer(Layer):
    """A layer without parameters that applies `function` (e.g. from costly_function)."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function.apply(x)


class TiedHead(Layer):
    """An output layer sharing an embedding's table (V, d): logits = x @ table.T."""

    def __init__(self, table: Tensor):
        super().__init__()
        self.weight = table

    def forward(self, x):
        return x @ self.weight.transpose()


def _all_function_classes() -> list:
    found, todo = [], list(Function.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


def counts_equal(got, expected: dict) -> bool:
    """got is a dict with expected's str keys, in the same order, and int values equal to
    expected's values."""
    if not isinstance(got, dict):
        return False
    keys, values = list(dict.keys(got)), list(dict.values(got))
    return (
        all(type(k) is str for k in keys)
        and keys == list(expected)
        and all(type(v) is int for v in values)
        and check_equal(values, list(expected.values()))
    )


def framework_snapshot() -> dict:
    """{class: {"forward": entry, "backward": entry}} for every Function subclass: the
    entries each class defines in its own __dict__ (None where it defines none)."""
    return {
        cls: {phase: vars(cls).get(phase) for phase in ("forward", "backward")}
        for cls in _all_function_classes()
    }


def framework_unchanged(snapshot: dict) -> bool:
    """True when every class of the snapshot defines exactly the same forward and backward
    objects as it did (and nothing where it defined nothing)."""
    return all(
        vars(cls).get(phase) is entry
        for cls, entries in snapshot.items()
        for phase, entry in entries.items()
    )


def restore_framework(snapshot: dict) -> None:
    """Put back, on every class of the snapshot, the forward and backward it held then."""
    for cls, entries in snapshot.items():
        for phase, entry in entries.items():
            if entry is None and phase in vars(cls):
                delattr(cls, phase)
            elif entry is not None and vars(cls).get(phase) is not entry:
                setattr(cls, phase, entry)


GIVEN_FRAMEWORK = framework_snapshot()  # before any of your code runs


# %% [markdown]
# # Part 1: what a model is, counted
#
# ## Task `parameters`: every parameter once (3 points)
#
# A model's **parameters** are its trainable tensors: `Layer.parameters()` (Module 03) finds
# them. Their number is the first thing anyone asks about a model, and it sets its memory:
# 4 bytes per float32 number for the weights, as many again for their gradients, and twice
# as many for Adam's two moving averages (Module 06), so training holds at least 16 bytes
# per parameter before a single activation is stored.
#
# The count must follow the **tensors**, not the layers, because one tensor can sit in two
# places:
#
# - a **layer used twice**: `Sequential(shared, ReLU(), shared)` applies the same `Linear`
#   twice; it has one weight matrix, not two;
# - **tied weights**: GPT-2's output head multiplies by the transpose of the token table
#   instead of holding a matrix of its own. That saves $V d$ numbers, 38.6 million of GPT-2
#   small's 124 million; the head layer holds a *reference* to the embedding's `weight`
#   Tensor.
#
# Summing the parameters of each layer counts such a tensor once per place, and gets the
# memory wrong. (FLOPs, in the next tasks, are the other way round: a layer applied twice
# computes twice. Memory follows the tensors, compute follows the calls.)
#
# A total is not enough to act on: we want to know **where** the parameters are. PyTorch's
# `named_children()` names the direct sublayers of a model by their attribute names, and
# items of a list by `name.index` (`blocks.0`, `blocks.1`, as in a `state_dict`).
# `parameter_breakdown` does the same and gives each child the number of parameters it holds
# that **no earlier child** holds, so that a shared tensor is counted where it first appears
# and the entries add up to the total. For the milestones' Shakespeare GPT ($V = 77$,
# context 64, $d = 64$, two blocks):
#
# ```
#   token_embedding       4,928      77 x 64
#   position_embedding    4,096      64 x 64
#   blocks.0             49,984      12 d^2 + 13 d
#   blocks.1             49,984
#   ln_f                    128      weight and bias
#   head                  4,928      64 x 77 (0 when tied to the token table)
#   total               114,048
# ```
#
# Contracts:
#
# - `parameter_breakdown(model)`: walk `vars(model)` (the attributes in the order they were
#   first assigned). A `Layer` value is a child named by its attribute; a list or tuple
#   contributes its items, named `f"{name}.{i}"`, and each item follows the same rules; a
#   `Tensor` with `requires_grad=True` stored directly on the model is an entry of its own,
#   named by its attribute. Anything else is skipped and gets no entry: numbers, flags,
#   constant Tensors, functions, and Module 02's activations (which are not `Layer`s).
#   Each entry is the number of elements (`.size`) of that child's parameters
#   (`child.parameters()`, or the Tensor itself) that no earlier entry counted, as a
#   Python int: 0 for a child without parameters, or whose parameters were all counted
#   already. Returns a dict in walking order.
# - `count_parameters(model)`: the total, each parameter Tensor counted once, a Python
#   `int`.


# %% kind="solution" id="parameters" export=true
def parameter_breakdown(model: Layer) -> dict[str, int]:
    """Parameters of each direct child of model, each parameter Tensor counted once.

    Args:
        model: a Layer.

    Returns:
        {name: count} in attribute order: a Layer attribute is named by the attribute, the
        items of a list or tuple attribute by f"{name}.{i}", a Tensor attribute with
        requires_grad=True by the attribute. count is the number of elements of the
        parameters of that entry that no earlier entry holds (a Python int, possibly 0).
        Other attributes get no entry.

    Hint: remember the id() of every Tensor counted so far; `t in list` would compare
    Tensors with ==, which is element-wise.
    """
    # Task parameters: walk the attributes; count each parameter Tensor at its first place.
    ### BEGIN SOLUTION
    counts, seen = {}, set()
    for name, value in vars(model).items():
        if isinstance(value, list | tuple):
            items = [(f"{name}.{i}", item) for i, item in enumerate(value)]
        else:
            items = [(name, value)]
        for key, item in items:
            if isinstance(item, Layer):
                tensors = item.parameters()
            elif isinstance(item, Tensor) and item.requires_grad:
                tensors = [item]
            else:
                continue  # numbers, flags, constants, functions, activations
            new = [t for t in tensors if id(t) not in seen]
            seen.update(id(t) for t in new)
            counts[key] = sum(t.size for t in new)
    return counts
    ### END SOLUTION


def count_parameters(model: Layer) -> int:
    """The number of trainable numbers in model, each parameter Tensor counted once."""
    # Task parameters: the total of the breakdown (or of model.parameters()), as an int.
    ### BEGIN SOLUTION
    return int(sum(parameter_breakdown(model).values()))
    ### END SOLUTION


# %% [markdown]
# ### Test `parameters`

# %% kind="test" id="test_parameters" points=3
model = Sequential(Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=1))
breakdown = parameter_breakdown(model)
assert isinstance(breakdown, dict) and list(breakdown) == ["layers.0", "layers.2"], (
    f"parameter_breakdown(Sequential(Linear(4, 3), ReLU(), Linear(3, 2))) should have the "
    f"keys ['layers.0', 'layers.2'] (the list attribute `layers`, item by item; ReLU is not "
    f"a Layer and gets no entry), got {list(breakdown) if isinstance(breakdown, dict) else breakdown!r}."
)
assert [breakdown["layers.0"], breakdown["layers.2"]] == [15, 8], (
    f"Linear(4, 3) holds 4 * 3 + 3 = 15 numbers and Linear(3, 2) 8, got {breakdown}."
)
count = count_parameters(model)
assert type(count) is int and count == 23, (
    f"count_parameters should return the int 23 for this model, got {count!r}."
)

shared = Linear(3, 3, rng=2)
model = Sequential(shared, ReLU(), shared)
breakdown = parameter_breakdown(model)
assert breakdown == {"layers.0": 12, "layers.2": 0} and count_parameters(model) == 12, (
    f"Sequential(shared, ReLU(), shared) uses ONE Linear(3, 3) twice: 12 numbers, counted "
    f"where they first appear, {{'layers.0': 12, 'layers.2': 0}}; got {breakdown} and "
    f"{count_parameters(model)}. Remember the id() of every Tensor already counted."
)


class TinyTiedLM(Layer):
    """Embedding, LayerNorm, and an output head tied to the embedding's table."""

    def __init__(self):
        super().__init__()
        self.embedding = Embedding(10, 4, rng=0)
        self.norm = LayerNorm(4)
        self.head = TiedHead(self.embedding.weight)

    def forward(self, ids):
        return self.head(self.norm(self.embedding(ids)))


tied = TinyTiedLM()
breakdown = parameter_breakdown(tied)
assert breakdown == {"embedding": 40, "norm": 8, "head": 0}, (
    f"A head tied to the embedding's table holds no numbers of its own: expected "
    f"{{'embedding': 40, 'norm': 8, 'head': 0}}, got {breakdown}."
)
assert count_parameters(tied) == 48, (
    f"count_parameters(TinyTiedLM()) should count the shared table once: 40 + 8 = 48, got "
    f"{count_parameters(tied)}."
)

### BEGIN HIDDEN TESTS
# hidden: a GPT's parameters are attributed to its embeddings, blocks, ln_f and head
for v, d, n_layers, h, t, ratio in ((11, 8, 2, 2, 6, 4), (7, 12, 3, 3, 5, 2), (5, 4, 0, 1, 9, 4)):
    gpt = GPT(v, d, n_layers, h, t, mlp_ratio=ratio, rng=1)
    block = (4 + 2 * ratio) * d * d + (9 + ratio) * d
    expected = {"token_embedding": v * d, "position_embedding": t * d}
    expected.update({f"blocks.{i}": block for i in range(n_layers)})
    expected.update({"ln_f": 2 * d, "head": d * v})
    assert counts_equal(parameter_breakdown(gpt), expected), (
        "one entry per child, in attribute order, with its parameter count"
    )
    total = count_parameters(gpt)
    assert type(total) is int and total == sum(expected.values()), "the exact total, an int"
# hidden: a GPT whose head is tied to its token table counts the table once
gpt = GPT(13, 8, 2, 2, 6, rng=2)
gpt.head = TiedHead(gpt.token_embedding.weight)
block = 12 * 64 + 13 * 8
expected = {"token_embedding": 13 * 8, "position_embedding": 6 * 8, "blocks.0": block}
expected.update({"blocks.1": block, "ln_f": 16, "head": 0})
assert counts_equal(parameter_breakdown(gpt), expected), "a tied head holds nothing new"
total = count_parameters(gpt)
assert type(total) is int and total == sum(expected.values()), "the tied table is counted once"
# hidden: a tensor shared between blocks is counted in the first block that holds it
gpt = GPT(9, 8, 3, 2, 5, rng=3)
gpt.blocks[2].attn.q_proj.weight = gpt.blocks[0].attn.q_proj.weight
gpt.blocks[1].mlp = gpt.blocks[0].mlp
expected = {"token_embedding": 72, "position_embedding": 40, "blocks.0": block}
expected.update({"blocks.1": block - (8 * 64 + 5 * 8), "blocks.2": block - 64})
expected.update({"ln_f": 16, "head": 72})
assert counts_equal(parameter_breakdown(gpt), expected), (
    "shared tensors count where they first appear"
)
total = count_parameters(gpt)
assert type(total) is int and total == sum(expected.values()), "each tensor counted once"
# hidden: parameter tensors stored directly on a model are entries; constants are skipped
table = PositionalEncoding(5, 3, rng=0)
assert counts_equal(parameter_breakdown(table), {"weight": 15}), (
    "a Tensor attribute with requires_grad is an entry of its own"
)
assert count_parameters(table) == 15, "a Tensor attribute's numbers are counted"


class _Mixed(Layer):
    def __init__(self):
        super().__init__()
        self.scale = Tensor(np.ones(4), requires_grad=True)
        self.mask = Tensor(np.ones(7))
        self.size = 3
        self.pair = (Linear(2, 2, rng=0), np.tanh, Dropout(0.1))
        self.steps = [Linear(2, 5, bias=False, rng=1), Tensor(np.ones(6), requires_grad=True)]
        self.again = self.scale


mixed = _Mixed()
expected = {"scale": 4, "pair.0": 6, "pair.2": 0, "steps.0": 10, "steps.1": 6, "again": 0}
assert counts_equal(parameter_breakdown(mixed), expected), (
    "Layers, list and tuple items and parameter Tensors get entries, counting new numbers only"
)
total = count_parameters(mixed)
assert type(total) is int and total == 26, "constants and repeats are not counted"
# hidden: a model without parameters has entries of 0 and a count of 0
empty = Sequential(ReLU(), Dropout(0.5))
assert counts_equal(parameter_breakdown(empty), {"layers.1": 0}), (
    "a Layer child without parameters counts 0"
)
total = count_parameters(empty)
assert type(total) is int and total == 0, "nothing to count"
assert counts_equal(parameter_breakdown(Sequential()), {}), "no children, no entries"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `layer_flops`: the arithmetic of a layer (3 points)
#
# A **FLOP** is one floating-point operation. We count only the **matrix products**, with
# one multiply-add counting **2** FLOPs (a multiplication and an addition). This is the
# convention of the scaling-law papers (a training step costs about $6N$ FLOPs per token for
# $N$ parameters) and of Module 13's per-token formula. It leaves out the element-wise work:
# biases, activations, LayerNorm, softmax, the residual additions, a few FLOPs per number
# each. At scale they are a rounding error; in a small NumPy model they are not, and the
# hotspot table at the end of this module shows how far the count and the clock disagree.
# Embedding lookups copy rows and compute nothing: 0 FLOPs.
#
# **Linear.** `Linear(in, out)` on an input of shape $(\dots, \text{in})$ treats every
# position of the leading axes as one row: with $N$ = the product of the leading sizes, it
# computes $N$ vector-matrix products of $\text{in} \times \text{out}$ multiply-adds each:
#
# $$\text{FLOPs} = 2\, N \cdot \text{in} \cdot \text{out}.$$
#
# For the GPT's first MLP layer, `Linear(64, 256)` on $(16, 64, 64)$, that is
# $2 \cdot 1024 \cdot 64 \cdot 256 = 33.6$ million. The old course's formula
# $2 \cdot \text{in} \cdot \text{out}$ counted one row and was 1,024 times too small.
#
# **Conv2d.** Every output number, $N \cdot C_{\text{out}} \cdot H_{\text{out}} \cdot
# W_{\text{out}}$ of them, is a dot product of a $C_{\text{in}} \times k_H \times k_W$ patch
# with a filter:
#
# $$\text{FLOPs} = 2\, N\, C_{\text{out}}\, H_{\text{out}}\, W_{\text{out}} \cdot
#   C_{\text{in}}\, k_H\, k_W, \qquad H_{\text{out}} = \left\lfloor \frac{H + 2 p_H -
#   k_H}{s_H} \right\rfloor + 1,$$
#
# the same number as Module 09's im2col product $(N H_{\text{out}} W_{\text{out}} \times
# C_{\text{in}} k_H k_W) @ (C_{\text{in}} k_H k_W \times C_{\text{out}})$. The given
# `conv_output_size(size, kernel, stride, padding)` of Module 09 computes $H_{\text{out}}$
# and $W_{\text{out}}$.
#
# **Attention.** For each of $B$ sequences and $H$ heads, $T_q$ queries meet $T_k$ keys of
# $d_{\text{head}}$ features: the scores $Q K^\top$ are a $(T_q \times d_{\text{head}}) @
# (d_{\text{head}} \times T_k)$ product, $2 T_q T_k d_{\text{head}}$ FLOPs, and the weighted
# sum of the values, $(T_q \times T_k) @ (T_k \times d_{\text{head}})$, as many again:
#
# $$\text{FLOPs} = 4\, B\, H\, T_q\, T_k\, d_{\text{head}},$$
#
# which is $4 B T^2 d$ for self-attention ($T_q = T_k = T$, $H d_{\text{head}} = d$): the only
# cost of a transformer that grows with the square of the context. Our attention computes all
# $T^2$ scores and then masks half of them, so it pays the full count. With Module 14's
# cache a generation step has $T_q = 1$ query against $T_k$ cached keys.
#
# ```
#   linear_flops(Linear(8, 5), (2, 3, 8))          = 2 * 6 * 8 * 5             =    480
#   conv2d_flops(Conv2d(3, 4, 3, padding=1), (2, 3, 8, 8))
#                                                  = 2 * 2*4*8*8 * 3*3*3       = 27,648
#   attention_flops(batch=2, heads=4, queries=16, keys=16, head_dim=8)
#                                                  = 4 * 2 * 4 * 16 * 16 * 8   = 65,536
# ```
#
# Contracts (all three return a Python `int`: use `math.prod` and Python arithmetic, not
# `np.prod`, whose fixed-width integers can overflow silently):
#
# - `linear_flops(layer, input_shape)`: $2 N \cdot$ `layer.in_features` $\cdot$
#   `layer.out_features`, $N$ the product of `input_shape[:-1]` (1 for a 1-D input). The
#   given lines check that the last axis is `in_features`.
# - `conv2d_flops(layer, input_shape)`: `input_shape` is $(N, C_{\text{in}}, H, W)$; the
#   layer's `kernel_size`, `stride` and `padding` are pairs $(\cdot_H, \cdot_W)$. A kernel that
#   does not fit raises `ValueError` (from `conv_output_size`).
# - `attention_flops(batch, heads, queries, keys, head_dim)`: $4 B H T_q T_k d_{\text{head}}$.


# %% kind="solution" id="layer_flops" export=true
def linear_flops(layer: Linear, input_shape) -> int:
    """FLOPs of layer(x) for x of shape input_shape (..., in_features): 2 N in out.

    Raises:
        ValueError: from the given check, when the last axis is not layer.in_features.
    """
    shape = _as_shape(input_shape, "linear_flops")
    _check_input(shape, None, -1, layer.in_features, "linear_flops")
    # Task layer_flops: N rows of in x out multiply-adds, 2 FLOPs each.
    ### BEGIN SOLUTION
    rows = math.prod(shape[:-1])  # every position of every leading axis; 1 for a 1-D input
    return 2 * rows * layer.in_features * layer.out_features
    ### END SOLUTION


def conv2d_flops(layer: Conv2d, input_shape) -> int:
    """FLOPs of layer(x) for x of shape (N, in_channels, H, W).

    2 N C_out H_out W_out C_in kH kW, with H_out and W_out from conv_output_size and the
    layer's kernel_size, stride and padding.

    Raises:
        ValueError: from the given check, unless the input is 4-D with in_channels channels;
            from conv_output_size, when the kernel does not fit.
    """
    shape = _as_shape(input_shape, "conv2d_flops")
    _check_input(shape, 4, 1, layer.in_channels, "conv2d_flops")
    # Task layer_flops: the output size, then one C_in * kH * kW dot product per output number.
    ### BEGIN SOLUTION
    n, c_in, h, w = shape
    kh, kw = layer.kernel_size
    sh, sw = layer.stride
    ph, pw = layer.padding
    h_out = conv_output_size(h, kh, sh, ph)
    w_out = conv_output_size(w, kw, sw, pw)
    return 2 * n * layer.out_channels * h_out * w_out * c_in * kh * kw
    ### END SOLUTION


def attention_flops(batch: int, heads: int, queries: int, keys: int, head_dim: int) -> int:
    """FLOPs of the scores Q K^T and the weighted sum A V: 4 B H T_q T_k d_head.

    Args:
        batch, heads: B and H.
        queries, keys: T_q and T_k (equal in self-attention; T_q = 1 for a cached step).
        head_dim: d_head, the features of one head.
    """
    b, h, t_q, t_k, d_head = _as_shape((batch, heads, queries, keys, head_dim), "attention_flops")
    # Task layer_flops: two products per head, each 2 T_q T_k d_head FLOPs.
    ### BEGIN SOLUTION
    scores = 2 * t_q * t_k * d_head  # Q K^T: (T_q x d_head) @ (d_head x T_k)
    weighted = 2 * t_q * t_k * d_head  # A V: (T_q x T_k) @ (T_k x d_head)
    return b * h * (scores + weighted)
    ### END SOLUTION


# %% [markdown]
# ### Test `layer_flops`

# %% kind="test" id="test_layer_flops" points=3
got = linear_flops(Linear(8, 5, rng=0), (2, 3, 8))
assert type(got) is int and got == 480, (
    f"linear_flops(Linear(8, 5), (2, 3, 8)) should be the int 2 * (2 * 3) * 8 * 5 = 480: "
    f"every one of the 6 positions is a row; got {got!r}."
)
got = linear_flops(Linear(8, 5, rng=0), (8,))
assert got == 80, f"A 1-D input is one row: 2 * 8 * 5 = 80, got {got!r}."
err = raised(lambda: linear_flops(Linear(8, 5, rng=0), (2, 3, 5)))
assert isinstance(err, ValueError), (
    f"An input whose last axis is not in_features should raise ValueError (the given check), "
    f"got {type(err).__name__ if err else 'no error'}."
)
got = conv2d_flops(Conv2d(3, 4, 3, padding=1, rng=0), (2, 3, 8, 8))
assert type(got) is int and got == 27648, (
    f"conv2d_flops(Conv2d(3, 4, 3, padding=1), (2, 3, 8, 8)) should be 2 * (2 * 4 * 8 * 8) "
    f"* (3 * 3 * 3) = 27648 (padding 1 keeps 8 x 8); got {got!r}."
)
got = conv2d_flops(Conv2d(3, 4, 3, rng=0), (2, 3, 8, 8))
assert got == 2 * (2 * 4 * 6 * 6) * (3 * 3 * 3), (
    f"Without padding a 3 x 3 kernel leaves 6 x 6 outputs of 8 x 8: expected "
    f"{2 * (2 * 4 * 6 * 6) * 27}, got {got!r}. Use conv_output_size."
)
got = attention_flops(2, 4, 16, 16, 8)
assert type(got) is int and got == 65536, (
    f"attention_flops(batch=2, heads=4, queries=16, keys=16, head_dim=8) should be "
    f"4 * 2 * 4 * 16 * 16 * 8 = 65536, got {got!r}."
)
got = attention_flops(1, 2, 1, 10, 4)
assert got == 4 * 2 * 1 * 10 * 4, (
    f"One query against 10 cached keys (Module 14's step): 4 * 1 * 2 * 1 * 10 * 4 = 320, got "
    f"{got!r}."
)

### BEGIN HIDDEN TESTS
# hidden: a Linear's FLOPs count every row of inputs of any rank
for (n_in, n_out, bias), shape in (
    ((7, 3, True), (5, 7)),
    ((4, 9, False), (2, 3, 5, 4)),
    ((6, 6, True), (1, 1, 6)),
    ((3, 11, True), (3,)),
    ((16, 2, False), (4, 8, 16)),
):
    layer = Linear(n_in, n_out, bias=bias, rng=0)
    got = linear_flops(layer, shape)
    rows = 1
    for n in shape[:-1]:
        rows *= n
    assert type(got) is int and got == 2 * rows * n_in * n_out, "2 N in out, as an int"
# hidden: sizes given as NumPy integers or a list still give a Python int
got = linear_flops(Linear(5, 3, rng=0), [np.int64(4), np.int32(6), 5])
assert type(got) is int and got == 2 * 24 * 5 * 3, "a Python int for NumPy sizes"
# hidden: large layers are counted exactly, without overflow
got = linear_flops(Linear(2, 3, rng=0), (100_000, 100_000, 2))
assert type(got) is int and got == 2 * 10**10 * 2 * 3, "no overflow"
# hidden: a convolution's FLOPs follow its kernel, stride and padding on both axes
for (c_in, c_out, kernel, stride, padding), shape in (
    ((2, 5, (3, 2), (2, 1), (0, 1)), (3, 2, 9, 7)),
    ((1, 3, 5, 1, 2), (2, 1, 6, 11)),
    ((4, 2, (1, 3), (1, 3), (2, 0)), (1, 4, 5, 12)),
    ((3, 6, 2, 2, 0), (2, 3, 7, 5)),
):
    layer = Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, rng=0)
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
    h_out = (shape[2] + 2 * ph - kh) // sh + 1
    w_out = (shape[3] + 2 * pw - kw) // sw + 1
    got = conv2d_flops(layer, shape)
    expected = 2 * shape[0] * c_out * h_out * w_out * c_in * kh * kw
    assert type(got) is int and got == expected, "2 N C_out H_out W_out C_in kH kW"
# hidden: invalid convolution inputs raise ValueError
for shape in ((2, 3, 8), (2, 4, 8, 8), (1, 3, 2, 8)):
    err = raised(lambda s=shape: conv2d_flops(Conv2d(3, 2, 3, rng=0), s))
    assert isinstance(err, ValueError), "a wrong rank, channel count or a kernel too big raises"
# hidden: attention costs 4 B H T_q T_k d_head
for args in ((3, 2, 5, 5, 7), (1, 8, 1, 33, 16), (4, 1, 9, 12, 3), (2, 12, 1024, 1024, 64)):
    got = attention_flops(*args)
    b, h, t_q, t_k, d_head = args
    assert type(got) is int and got == 4 * b * h * t_q * t_k * d_head, "4 B H T_q T_k d_head"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `model_flops`: the FLOPs of a whole GPT (3 points)
#
# A model's FLOPs are the sum of its layers' FLOPs, each on the shape of the input it
# receives. `count_flops(model, input_shape)` walks the parts of a transformer and adds up
# their products, using the three formulas above:
#
# | model | input shape | FLOPs |
# |---|---|---|
# | `Linear`, `Conv2d` | as above | `linear_flops`, `conv2d_flops` |
# | `MultiHeadAttention` | $(B, T, d)$ | its four projections (`q_proj`, `k_proj`, `v_proj`, `out_proj`, each a `Linear(d, d)` on $(B, T, d)$) plus `attention_flops(B, H, T, T, d_head)` |
# | `MLP` | $(\dots, d)$ | `fc1` on $(\dots, d)$ plus `fc2` on $(\dots, h)$, $h$ = `fc1.out_features` |
# | `TransformerBlock` | $(B, T, d)$ | `attn` plus `mlp`, both on $(B, T, d)$ (LayerNorms and residuals: 0) |
# | `GPT` | token ids $(B, T)$ | every block on $(B, T, d)$ plus the `head` on $(B, T, d)$ (embeddings: 0) |
#
# For a GPT with MLP ratio $r$ that adds up to
#
# $$\text{FLOPs} = L\,\big(8 B T d^2 + 4 r B T d^2 + 4 B T^2 d\big) + 2 B T d V,$$
#
# projections, MLP, attention, head. Divided by the $B T$ tokens and with $r = 4$, it is
# Module 13's $L (24 d^2 + 4 T d) + 2 d V$ per token. For the Shakespeare GPT on a batch of
# 16 sequences of 64 tokens: $2 \cdot (8 + 16) \cdot 1024 \cdot 64^2 = 201$ million for the
# dense layers, $2 \cdot 4 \cdot 16 \cdot 64^2 \cdot 64 = 33.6$ million for attention and
# $10.1$ million for the head: **245 MFLOPs** per forward pass. A training step adds a
# backward pass of about twice that (two products per product: the gradient of the input and
# of the weight), about 0.74 GFLOPs in all.
#
# Count the model through its parts rather than through a closed formula: then a block with
# another MLP ratio, a GPT without blocks, or a model whose attention you replace in Module
# 16 is still counted right.
#
# Contract of `count_flops(model, input_shape)`: dispatch on the type of `model` (with
# `isinstance`) as in the table; for a `GPT`, the given `_check_tokens(shape,
# model.max_seq_len, "count_flops")` first (token ids `(B, T)`, $T \le$ `max_seq_len`,
# else `ValueError`). Any other model raises `TypeError` (given line at the end). Returns a
# Python `int`.


# %% kind="solution" id="model_flops" export=true
def count_flops(model, input_shape) -> int:
    """Forward FLOPs (matrix products, a multiply-add = 2) of model on input_shape.

    Linear, Conv2d: their formulas. MultiHeadAttention on (B, T, d): four Linear(d, d) plus
    attention_flops(B, H, T, T, d_head). MLP: fc1, then fc2 on the hidden shape.
    TransformerBlock: attn plus mlp. GPT on token ids (B, T): its blocks and its head on
    (B, T, d_model).

    Raises:
        ValueError: for shapes a layer cannot take (from the formulas and the given checks).
        TypeError: for a model of any other type (given).
    """
    shape = _as_shape(input_shape, "count_flops")
    # Task model_flops: one branch per type; composite layers add up their parts' FLOPs.
    ### BEGIN SOLUTION
    if isinstance(model, Linear):
        return linear_flops(model, shape)
    if isinstance(model, Conv2d):
        return conv2d_flops(model, shape)
    if isinstance(model, MultiHeadAttention):
        b, t, _ = shape
        projections = (model.q_proj, model.k_proj, model.v_proj, model.out_proj)
        dense = sum(linear_flops(p, shape) for p in projections)
        return dense + attention_flops(b, model.num_heads, t, t, model.d_head)
    if isinstance(model, MLP):
        hidden = shape[:-1] + (model.fc1.out_features,)  # fc2 reads fc1's output
        return linear_flops(model.fc1, shape) + linear_flops(model.fc2, hidden)
    if isinstance(model, TransformerBlock):
        return count_flops(model.attn, shape) + count_flops(model.mlp, shape)
    if isinstance(model, GPT):
        _check_tokens(shape, model.max_seq_len, "count_flops")
        stream = shape + (model.d_model,)  # (B, T, d): the blocks' input and the head's
        blocks = sum(count_flops(block, stream) for block in model.blocks)
        return blocks + linear_flops(model.head, stream)
    ### END SOLUTION
    raise TypeError(
        f"count_flops: no FLOP formula for {type(model).__name__}; count its layers "
        "(Linear, Conv2d, MultiHeadAttention, MLP, TransformerBlock, GPT) one by one"
    )


# %% [markdown]
# ### Test `model_flops`

# %% kind="test" id="test_model_flops" points=3
got = count_flops(Linear(8, 5, rng=0), (2, 3, 8))
assert got == 480, f"count_flops(Linear(8, 5), (2, 3, 8)) is linear_flops: 480, got {got!r}."
attn = MultiHeadAttention(8, 2, rng=0)
got = count_flops(attn, (2, 5, 8))
expected = 4 * (2 * 10 * 8 * 8) + 4 * 2 * 2 * 5 * 5 * 4
assert type(got) is int and got == expected, (
    f"count_flops(MultiHeadAttention(8, 2), (2, 5, 8)) should be four projections "
    f"4 * (2 * 10 * 8 * 8) = 5120 plus attention 4 * 2 * 2 * 5 * 5 * 4 = 1600, {expected}; "
    f"got {got!r}."
)
got = count_flops(MLP(8, 32, rng=0), (2, 5, 8))
assert got == 2 * (2 * 10 * 8 * 32), (
    f"count_flops(MLP(8, 32), (2, 5, 8)): fc1 (8 -> 32) and fc2 (32 -> 8) on 10 positions, "
    f"2 * (2 * 10 * 8 * 32) = 10240; got {got!r}."
)
gpt = GPT(11, 8, 2, 2, 6, rng=0)
got = count_flops(gpt, (2, 6))
b, t, d, v = 2, 6, 8, 11
expected = 2 * (8 * b * t * d * d + 16 * b * t * d * d + 4 * b * t * t * d) + 2 * b * t * d * v
assert type(got) is int and got == expected, (
    f"count_flops(GPT(11, 8, 2, 2, 6), (2, 6)) should be L (8 B T d^2 + 16 B T d^2 + "
    f"4 B T^2 d) + 2 B T d V = {expected}, got {got!r}."
)
err = raised(lambda: count_flops(LayerNorm(8), (2, 8)))
assert isinstance(err, TypeError), (
    f"count_flops of a layer without a formula (LayerNorm) should raise TypeError (the given "
    f"last line), got {type(err).__name__ if err else 'no error'}."
)

### BEGIN HIDDEN TESTS
# hidden: a GPT's FLOPs add its blocks and its head, for other sizes, depths and MLP ratios
for v, d, n_layers, h, t_max, ratio, b, t in (
    (13, 12, 3, 3, 9, 4, 3, 9),
    (7, 8, 1, 4, 5, 2, 1, 3),
    (5, 6, 0, 2, 4, 4, 2, 4),
    (77, 64, 2, 4, 64, 4, 16, 64),
    (9, 4, 2, 1, 7, 3, 5, 1),
):
    gpt = GPT(v, d, n_layers, h, t_max, mlp_ratio=ratio, rng=1)
    got = count_flops(gpt, (b, t))
    per_block = 8 * b * t * d * d + 4 * ratio * b * t * d * d + 4 * b * t * t * d
    assert type(got) is int and got == n_layers * per_block + 2 * b * t * d * v, (
        "L (8 B T d^2 + 4 r B T d^2 + 4 B T^2 d) + 2 B T d V"
    )
# hidden: blocks, MLPs and attention layers are counted from their parts
block = TransformerBlock(12, 3, mlp_ratio=2, rng=0)
got = count_flops(block, (2, 7, 12))
assert got == 8 * 14 * 144 + 4 * 2 * 49 * 12 + 2 * 2 * 14 * 12 * 24, "attention plus MLP"
for d, h, b, t in ((12, 3, 3, 4), (6, 6, 1, 9), (16, 2, 2, 1)):
    got = count_flops(MultiHeadAttention(d, h, bias=False, rng=0), (b, t, d))
    assert type(got) is int and got == 8 * b * t * d * d + 4 * b * t * t * d, (
        "four projections plus 4 B H T^2 d_head"
    )
mlp = MLP(6, 10, rng=0)
for shape in ((4, 6), (2, 3, 6), (6,)):
    rows = 1
    for n in shape[:-1]:
        rows *= n
    assert count_flops(mlp, shape) == 2 * rows * 6 * 10 * 2, "fc1 on the input, fc2 on the hidden"
# hidden: Linear and Conv2d are dispatched to their formulas
assert count_flops(Linear(3, 4, rng=0), (5, 2, 3)) == 2 * 10 * 12, "a Linear"
got = count_flops(Conv2d(2, 3, 3, stride=2, rng=0), (1, 2, 7, 9))
assert got == 2 * 3 * 3 * 4 * 2 * 9, "a Conv2d"
# hidden: a GPT's input must be (B, T) with T <= max_seq_len
gpt = GPT(9, 8, 1, 2, 5, rng=0)
assert count_flops(gpt, (3, 5)) > 0, "T = max_seq_len is allowed"
for shape in ((3, 6), (2, 3, 8), (4,)):
    assert isinstance(raised(lambda s=shape: count_flops(gpt, s)), ValueError), (
        "token ids that are not (B, T <= max_seq_len) raise ValueError"
    )
# hidden: models without a formula raise TypeError
for other in (Sequential(Linear(2, 2, rng=0)), Embedding(5, 3, rng=0), ReLU()):
    assert isinstance(raised(lambda m=other: count_flops(m, (2, 2))), TypeError), (
        "other models raise TypeError"
    )
### END HIDDEN TESTS

# %% [markdown]
# # Part 2: what a model costs, measured
#
# ## Task `latency`: timing a call, properly (3 points)
#
# "How long does one forward pass take?" has no single answer. Run the same call a hundred
# times and you get a hundred different times, and the first few are usually the slowest:
#
# - **warm-up.** The first calls pay one-off costs: NumPy and the BLAS library load code and
#   size their buffers, the memory allocator asks the operating system for pages, the CPU
#   caches are cold, and the processor may still be raising its clock frequency. Run the
#   call a few times **untimed** first;
# - **noise.** The operating system interrupts, other programs (on a shared machine, other
#   students) compete for the cores and the memory bus. Noise only ever **adds** time, and
#   it comes in bursts: most runs are close to each other, a few are much slower.
#
# So time **every call separately** and describe the distribution. The **median** (half the
# runs were faster) ignores a few slow outliers; the **mean** does not: one run delayed by
# 100 ms moves the mean of twenty 5 ms runs to 10 ms while the median does not move. The
# **spread** between the 10th and 90th percentiles says how far to trust the median; the
# **minimum** is the best the machine could do. Report medians, show the spread, and never
# base a conclusion on a single run.
#
# ```
#   warm-up (untimed)   timed runs, each on its own
#   ── ── ──            4.1  3.9  4.0  4.2  3.9  4.0  9.8  4.1  4.0  4.0   ms
#                       median 4.0 · p10 3.9 · p90 4.2 · mean 4.6 · max 9.8
# ```
#
# The clock is `time.perf_counter()`: monotonic (it never jumps backwards when the system
# clock is adjusted, unlike `time.time()`) and of the highest resolution available. But the
# function takes its clock as an argument, `clock=time.perf_counter`: the tests pass a
# `FakeClock` instead and functions whose cost they set, so that the expected statistics are
# exact. Making time an input is how you test code that measures it.
#
# Contract of `measure_latency(fn, warmup=3, iterations=20, clock=time.perf_counter)`:
#
# - calls `fn()` `warmup` times untimed, then `iterations` times, each timed on its own:
#   `start = clock()`, `fn()`, `clock() - start`;
# - returns a dict of seconds: `"times"`, a float64 NumPy array of the `iterations` timed
#   runs in order, and the Python floats `"median"`, `"mean"`, `"min"`, `"max"`, `"p10"` and
#   `"p90"` (`np.percentile(times, 10)` and `90`, NumPy's default linear interpolation);
# - raises `ValueError` (given check) for `warmup < 0` or `iterations < 1`.


# %% kind="solution" id="latency" export=true
def measure_latency(
    fn: Callable[[], object],
    warmup: int = 3,
    iterations: int = 20,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Seconds per call of fn(): warm-up runs untimed, then every run timed on its own.

    Returns:
        {"times": float64 array (iterations,), "median", "mean", "min", "max", "p10",
        "p90": Python floats}, all in seconds of `clock`.

    Raises:
        ValueError: from the given check, for warmup < 0 or iterations < 1.

    Hint: float(np.median(times)) is a Python float.
    """
    _check_counts(warmup, iterations, "measure_latency")
    # Task latency: warm up, time each call separately, then the statistics of the times.
    ### BEGIN SOLUTION
    for _ in range(warmup):
        fn()
    times = np.zeros(iterations)
    for i in range(iterations):
        start = clock()
        fn()
        times[i] = clock() - start
    return {
        "times": times,
        "median": float(np.median(times)),
        "mean": float(np.mean(times)),
        "min": float(np.min(times)),
        "max": float(np.max(times)),
        "p10": float(np.percentile(times, 10)),
        "p90": float(np.percentile(times, 90)),
    }
    ### END SOLUTION


# %% [markdown]
# ### Test `latency`

# %% kind="test" id="test_latency" points=3
clock = FakeClock()
costs = [0.5, 0.25, 0.004, 0.002, 0.003, 0.010, 0.001]  # two warm-up calls, five timed
done = []


def job():
    clock.advance(costs[len(done)])
    done.append(1)


stats = measure_latency(job, warmup=2, iterations=5, clock=clock)
assert len(done) == 7, (
    f"measure_latency(job, warmup=2, iterations=5) should call job 7 times, called it "
    f"{len(done)} times."
)
assert isinstance(stats, dict) and isinstance(stats.get("times"), np.ndarray), (
    f"measure_latency should return a dict whose 'times' is a NumPy array, got {stats!r:.200}."
)
assert_array(
    stats["times"],
    [0.004, 0.002, 0.003, 0.010, 0.001],
    "measure_latency(...)['times']: the five timed calls, each on its own, without the two "
    "warm-up calls (which cost 0.5 and 0.25 fake seconds)",
)
expected = {
    "median": 0.003,
    "mean": 0.004,
    "min": 0.001,
    "max": 0.010,
    "p10": 0.0014,
    "p90": 0.0076,
}
for key, value in expected.items():
    got = stats.get(key)
    assert type(got) is float and abs(got - value) < 1e-12, (
        f"measure_latency(...)['{key}'] should be the Python float {value} for the times "
        f"[0.004, 0.002, 0.003, 0.010, 0.001], got {got!r}."
    )
err = raised(lambda: measure_latency(job, warmup=0, iterations=0, clock=clock))
assert isinstance(err, ValueError), "iterations=0 should raise ValueError (the given check)."
real = measure_latency(lambda: time.sleep(0.002), warmup=1, iterations=3)
assert 0.002 <= real["median"] < 1.0, (
    f"With the default clock, a call that sleeps 2 ms should take at least 0.002 s, got "
    f"median {real['median']!r}: the default clock should be time.perf_counter, in seconds."
)

### BEGIN HIDDEN TESTS
# hidden: warm-up calls are untimed, every timed call is timed on its own
for warmup, costs in (
    (0, [0.125, 0.5, 0.25]),
    (4, [1.0, 2.0, 3.0, 4.0, 0.0625]),
    (1, [9.0, 0.5, 0.25, 0.75, 1.5, 0.125, 0.375]),
    (3, [7.0, 7.0, 7.0, 0.002, 0.001, 0.009, 0.004, 0.003, 0.2, 0.005, 0.006]),
):
    clock, done = FakeClock(), []

    def _h_job(clock=clock, done=done, costs=costs):
        clock.advance(costs[len(done)])
        done.append(1)

    n = len(costs) - warmup
    stats = measure_latency(_h_job, warmup=warmup, iterations=n, clock=clock)
    assert len(done) == warmup + n, "fn runs warmup + iterations times"
    times = np.array(costs[warmup:])
    assert isinstance(stats, dict) and isinstance(stats.get("times"), np.ndarray), (
        "'times' is a NumPy array"
    )
    assert stats["times"].dtype == np.float64, "'times' is float64"
    assert check_close(stats["times"], times, rtol=1e-9, atol=1e-12), (
        "the timed calls, in order, without the warm-up"
    )
    for key, value in (
        ("median", times[np.argsort(times)][(n - 1) // 2] if n % 2 else None),
        ("mean", times.sum() / n),
        ("min", times.min()),
        ("max", times.max()),
    ):
        if value is not None:
            assert type(stats.get(key)) is float, "statistics are Python floats"
            assert check_close(stats[key], value, rtol=1e-9, atol=1e-12), (
                "median, mean, minimum and maximum of the timed calls"
            )
    ordered = np.sort(times)
    for key, q in (("p10", 10), ("p90", 90)):
        position = q / 100 * (n - 1)
        low = int(position)
        high = min(low + 1, n - 1)
        value = ordered[low] + (position - low) * (ordered[high] - ordered[low])
        assert type(stats.get(key)) is float, "percentiles are Python floats"
        assert check_close(stats[key], value, rtol=1e-9, atol=1e-12), (
            "the 10th and 90th percentiles, linear interpolation"
        )
# hidden: the median of an even number of runs is the mean of the middle two
clock, done = FakeClock(), []
costs = [0.25, 0.0625, 0.125, 100.0]


def _h_even():
    clock.advance(costs[len(done)])
    done.append(1)


stats = measure_latency(_h_even, warmup=0, iterations=4, clock=clock)
assert check_close(stats["median"], 0.1875, rtol=1e-9), "the median ignores the outlier"
assert check_close(stats["mean"], 100.4375 / 4, rtol=1e-9), "the mean does not"
# hidden: the defaults are three warm-up calls and twenty timed ones
clock, done = FakeClock(), []


def _h_default():
    clock.advance(0.5)
    done.append(1)


stats = measure_latency(_h_default, clock=clock)
assert len(done) == 23 and stats["times"].shape == (20,), "warmup=3, iterations=20"
assert check_close(stats["times"], np.full(20, 0.5)), "every timed call costs its own time"
# hidden: invalid counts raise ValueError
for warmup, iterations in ((-1, 5), (2, 0), (0, -3)):
    err = raised(lambda w=warmup, i=iterations: measure_latency(_h_default, w, i, clock))
    assert isinstance(err, ValueError), "warmup < 0 or iterations < 1 raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `memory`: the peak, measured (2 points)
#
# Memory has its own question: not how much a call allocates in total, but the **peak**,
# the most it holds at one moment, because that is what must fit. A forward pass that records
# a graph holds every activation a backward rule needs until `backward()` runs; the same
# pass under `no_grad()` frees each intermediate array as soon as the next operation has
# read it. The total allocated can be the same; the peaks are not.
#
# Python's standard library can watch every allocation: **`tracemalloc`**. NumPy reports the
# buffers of its arrays to it, so it sees the bytes of every array your framework creates,
# as well as every Python object:
#
# ```python
# tracemalloc.start()                              # begin tracing (slows allocation down)
# current, peak = tracemalloc.get_traced_memory()  # bytes held now, and the most since
# tracemalloc.reset_peak()                         # forget the peak so far: peak = current
# tracemalloc.stop()                               # stop tracing, forget everything
# ```
#
# The peak you want is the most held **while `fn` ran**, above what was held when it started:
# `peak - start`, with the peak reset just before the call. Be a good citizen: if something
# else (an outer measurement, a test) is already tracing, keep tracing when you are done;
# only stop what you started, and stop it even if `fn` raises (`try`/`finally`). Tracing
# makes every allocation slower, so measure time and memory in separate runs.
#
# Contract of `measure_memory(fn)`: runs `fn()` once and returns the peak number of bytes
# traced while it ran minus the bytes traced when it started, a Python `int`. Starts
# `tracemalloc` if it was not tracing and then stops it, also when `fn` raises (the exception
# propagates); leaves it tracing if it already was.


# %% kind="solution" id="memory" export=true
def measure_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated while fn() runs, above those held when it starts (tracemalloc).

    tracemalloc's state is left as it was: stopped again if this function started it (even
    when fn raises), still tracing if it was tracing.

    Hint: tracemalloc.is_tracing() says whether it already runs; reset_peak() before the
    call makes the peak that of fn alone.
    """
    # Task memory: start tracing if needed, reset the peak, run fn, read the peak, clean up.
    ### BEGIN SOLUTION
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started_here:
            tracemalloc.stop()
    return peak - start
    ### END SOLUTION


# %% [markdown]
# ### Test `memory`

# %% kind="test" id="test_memory" points=2
MB = 1_000_000


def four_megabytes():
    np.ones(500_000)  # 500,000 float64 numbers: 4 MB, freed when the call ends


was_tracing = tracemalloc.is_tracing()
peak = measure_memory(four_megabytes)
assert type(peak) is int and 4 * MB <= peak < 4 * MB + 100_000, (
    f"measure_memory(a function that makes a 4 MB array) should be the int 4,000,000 plus a "
    f"few hundred bytes of bookkeeping, got {peak!r}."
)
assert tracemalloc.is_tracing() == was_tracing, (
    "measure_memory should leave tracemalloc as it found it (stop it if it started it)."
)


def one_after_another():
    for _ in range(3):
        np.ones(500_000)  # each 4 MB array is freed before the next is made


peak = measure_memory(one_after_another)
assert 4 * MB <= peak < 4 * MB + 100_000, (
    f"Three 4 MB arrays made one after another, each freed before the next: the peak is "
    f"still about 4 MB, got {peak!r}. Report the peak, not the sum of the allocations."
)

### BEGIN HIDDEN TESTS
# hidden: the peak counts what is held at the same time, also what fn returns
peak = measure_memory(lambda: [np.ones(250_000), np.ones(500_000)])
assert type(peak) is int and 6 * MB <= peak < 6 * MB + 100_000, "arrays held together add up"
peak = measure_memory(lambda: np.zeros(10, dtype=np.float32))
assert type(peak) is int and 0 <= peak < 50_000, "a small call has a small peak"
# hidden: memory held before the call is not counted, and an earlier peak is forgotten
tracemalloc.start()
try:
    held = np.ones(1_000_000)
    np.ones(3_000_000)
    peak = measure_memory(four_megabytes)
    still = tracemalloc.is_tracing()
    del held
finally:
    tracemalloc.stop()
assert still, "tracing that was on stays on"
assert 4 * MB <= peak < 4 * MB + 100_000, "only the call's own peak, above what was held"
# hidden: tracing stops again when fn raises, and the exception propagates


def _h_failing():
    np.ones(100_000)
    raise KeyError("inside fn")


err = raised(lambda: measure_memory(_h_failing))
assert isinstance(err, KeyError), "fn's exception propagates"
assert not tracemalloc.is_tracing(), "tracing stops even when fn raises"
tracemalloc.start()
try:
    err = raised(lambda: measure_memory(_h_failing))
    still = tracemalloc.is_tracing()
finally:
    tracemalloc.stop()
assert isinstance(err, KeyError) and still, "an outer trace survives"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `forward_backward`: the backward pass, timed for real (3 points)
#
# A training step is a forward pass, a backward pass and an optimizer update, and the
# backward pass is usually the largest of the three. How much larger? Count the products:
# for every matrix product $Y = X W$ of the forward pass, the backward pass computes two,
# $\partial L/\partial X = G W^\top$ and $\partial L/\partial W = X^\top G$, each as large as
# the forward one. So by FLOPs, backward costs **twice** the forward pass, and "a training
# step costs three forward passes" is a common rule of thumb.
#
# A rule of thumb is a prediction, not a measurement, and the old course reported it as
# one: its "backward time" was the forward time times two, and backward never ran. The real
# ratio depends on everything the FLOP count leaves out: element-wise backward rules that
# are cheaper or dearer than their forward (GELU's backward evaluates a longer formula),
# gradients summed where a tensor is used twice, the graph walk and the allocation of a
# fresh gradient array for every node. The only way to know is to run `backward()` and time
# it.
#
# Two details make the runs comparable. Each run must do the **same work**: gradients
# accumulate (Module 05), so a second `backward()` adds into the `.grad` arrays the first
# left behind; reset every parameter's `.grad` to `None` before each run. And the forward and
# the backward are timed **separately, in the same run**, with three readings of the clock:
#
# ```
#   for every run:  p.grad = None for every parameter
#       t0 = clock();  loss = loss_fn();  t1 = clock();  loss.backward();  t2 = clock()
#       forward time = t1 - t0,  backward time = t2 - t1   (kept after the warm-up runs)
# ```
#
# Contract of `time_forward_backward(loss_fn, parameters, warmup=1, repeats=5,
# clock=time.perf_counter)`:
#
# - `loss_fn()` runs a forward pass and returns the loss, a Tensor with one element that
#   records the graph; `parameters` is a list of Tensors (for instance
#   `model.parameters()`);
# - `warmup + repeats` runs as above, each starting with every parameter's `.grad` set to
#   `None`; the first `warmup` runs are not kept;
# - returns a dict of seconds: `"forward_times"` and `"backward_times"`, float64 NumPy arrays
#   of the `repeats` kept runs in order, and `"forward"` and `"backward"`, their medians as
#   Python floats;
# - raises `ValueError` (given check) for `warmup < 0` or `repeats < 1`.


# %% kind="solution" id="forward_backward" export=true
def time_forward_backward(
    loss_fn: Callable[[], Tensor],
    parameters: list,
    warmup: int = 1,
    repeats: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Seconds of the forward pass (loss_fn()) and of a real backward pass (loss.backward()),
    timed apart in every run.

    Returns:
        {"forward_times", "backward_times": float64 arrays (repeats,); "forward",
        "backward": their medians, Python floats}.

    Raises:
        ValueError: from the given check, for warmup < 0 or repeats < 1.
    """
    _check_counts(warmup, repeats, "time_forward_backward")
    # Task forward_backward: reset the gradients, then time loss_fn() and loss.backward().
    ### BEGIN SOLUTION
    forward_times, backward_times = np.zeros(repeats), np.zeros(repeats)
    for run in range(warmup + repeats):
        for p in parameters:
            p.grad = None  # every run does the same work: nothing to accumulate into
        start = clock()
        loss = loss_fn()
        middle = clock()
        loss.backward()
        end = clock()
        if run >= warmup:
            forward_times[run - warmup] = middle - start
            backward_times[run - warmup] = end - middle
    return {
        "forward": float(np.median(forward_times)),
        "backward": float(np.median(backward_times)),
        "forward_times": forward_times,
        "backward_times": backward_times,
    }
    ### END SOLUTION


# %% [markdown]
# ### Test `forward_backward`

# %% kind="test" id="test_forward_backward" points=3
clock = FakeClock()
Step = costly_function(clock, forward=0.25, backward=0.75, name="Step")
w = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)


def step_loss():
    return (Step.apply(w) * w).sum()  # d/dw sum(w * w) = 2 w


result = time_forward_backward(step_loss, [w], warmup=1, repeats=3, clock=clock)
assert Step.calls == {"forward": 4, "backward": 4}, (
    f"warmup=1, repeats=3: the forward and the backward should each run 4 times, got "
    f"{Step.calls}. Does every run call loss.backward()?"
)
assert isinstance(result, dict) and isinstance(result.get("forward_times"), np.ndarray), (
    f"time_forward_backward should return a dict with 'forward_times' a NumPy array, got "
    f"{result!r:.200}."
)
assert_array(result["forward_times"], [0.25] * 3, "time_forward_backward(...)['forward_times']")
assert_array(
    result["backward_times"],
    [0.75] * 3,
    "time_forward_backward(...)['backward_times']: the backward of this loss costs 0.75 fake "
    "seconds, three times its forward, not twice: time loss.backward() itself",
)
for key, value in (("forward", 0.25), ("backward", 0.75)):
    assert type(result.get(key)) is float and abs(result[key] - value) < 1e-12, (
        f"time_forward_backward(...)['{key}'] should be the median, {value}, got "
        f"{result.get(key)!r}."
    )
assert_array(
    w.grad,
    [2.0, -4.0, 6.0],
    "w.grad after time_forward_backward: the gradient of ONE backward pass (2 w). Set every "
    "parameter's .grad to None before each run, or the runs add up",
)

### BEGIN HIDDEN TESTS
# hidden: forward and backward are timed apart in every run, after the warm-up runs
for warmup, forward, backward in (
    (0, [0.5, 0.25, 0.125], [1.0, 0.0625, 4.0]),
    (2, [8.0, 8.0, 0.5, 0.75, 0.25, 1.0], [9.0, 9.0, 0.125, 0.375, 0.25, 2.0]),
    (1, [3.0, 0.5], [5.0, 1.5]),
):
    clock = FakeClock()
    _HStep = costly_function(clock, forward=forward, backward=backward, name="_HStep")
    a = Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    b = Tensor(np.array([0.5, -0.5]), requires_grad=True)

    def _h_loss(a=a, b=b, op=_HStep):
        return (op.apply(a) @ b).sum()

    repeats = len(forward) - warmup
    result = time_forward_backward(_h_loss, [a, b], warmup=warmup, repeats=repeats, clock=clock)
    assert _HStep.calls == {"forward": len(forward), "backward": len(forward)}, (
        "warmup + repeats forward and backward passes"
    )
    for key, costs in (("forward_times", forward), ("backward_times", backward)):
        got = result.get(key)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64, "float64 arrays"
        assert check_close(got, costs[warmup:], rtol=1e-9, atol=1e-12), (
            "every kept run's own forward and backward time"
        )
    for key, costs in (("forward", forward), ("backward", backward)):
        assert type(result.get(key)) is float, "medians are Python floats"
        assert check_close(result[key], np.median(costs[warmup:]), rtol=1e-9, atol=1e-12), (
            "the medians of the kept runs"
        )
    assert check_close(a.grad, np.tile(b.data, (2, 1)), atol=1e-6), (
        "gradients are reset before every run"
    )
    assert check_close(b.grad, a.data.sum(axis=0), atol=1e-6), "every parameter is reset"
# hidden: the defaults are one warm-up run and five kept runs
clock = FakeClock()
_HDefault = costly_function(clock, forward=0.5, backward=0.25, name="_HDefault")
x = Tensor(np.ones(3), requires_grad=True)
result = time_forward_backward(lambda: _HDefault.apply(x).sum(), [x], clock=clock)
assert _HDefault.calls["backward"] == 6, "warmup=1, repeats=5"
assert result["forward_times"].shape == (5,) and result["backward_times"].shape == (5,), (
    "repeats kept runs"
)
# hidden: a real model is timed with the default clock
model = Sequential(Linear(8, 16, rng=0), ReLU(), Linear(16, 1, rng=1))
inputs = Tensor(np.random.default_rng(0).standard_normal((4, 8)))
result = time_forward_backward(lambda: model(inputs).sum(), model.parameters(), 0, 2)
assert result["forward"] > 0 and result["backward"] > 0, "real runs take time"
assert all(isinstance(p.grad, np.ndarray) for p in model.parameters()), "backward really ran"
# hidden: invalid counts raise ValueError
for warmup, repeats in ((-1, 3), (0, 0)):
    err = raised(lambda w=warmup, r=repeats: time_forward_backward(step_loss, [], w, r, clock))
    assert isinstance(err, ValueError), "warmup < 0 or repeats < 1 raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `op_timer`: a timer on every operation (4 points)
#
# Latency tells you *how long*; it does not tell you *where*. To find where the time of a
# forward and backward pass goes, we time every operation the autograd engine runs. No
# change to the framework's code is needed, because of how Module 05 calls operations:
#
# ```
#   Function.apply(cls, *inputs):   out = cls.forward(ctx, *arrays, **kwargs)    # forward
#   backward(tensor):               node.function.backward(node.ctx, grad)      # backward
# ```
#
# Both calls look the method up **on the class, at the moment of the call**. Replace
# `MatMul.forward` on the class with a function that reads the clock, calls the original and
# reads the clock again, and every matrix product anywhere in the framework (in `Linear`, in
# attention, in a loss) goes through your timer. This is **monkey-patching**: powerful, and
# dangerous, because the whole program sees the change. Two rules keep it safe:
#
# 1. **Put everything back, always.** A context manager (`with OpTimer() as timer: ...`)
#    runs `__exit__` however the block ends, also when it raises. `__exit__` restores, on
#    every class, exactly the object its `__dict__` held before (for these classes, a
#    `staticmethod` object), so that afterwards the framework is indistinguishable from one
#    that was never profiled. It returns `None`, so an exception raised inside the block
#    still propagates.
# 2. **Hook only what a class defines itself.** `function_classes()` (given below) lists
#    every subclass of `Function`, however deep, including those defined after tinytorch
#    was imported (your tests define some). A class that inherits its `forward` from a
#    parent is already timed through the parent, under the parent's name; wrapping it again
#    would time the call twice and leave the class with a `forward` of its own afterwards.
#    So hook a phase only when the name is in `vars(cls)`, the class's own `__dict__`.
#
# **Self time.** Operations call operations: `Mean.backward` calls `Sum.backward`, and a
# `Function` may call another's `apply` inside its forward. The clock around `Mean.backward`
# then includes the time of `Sum.backward`, and adding both to a table would count that time
# twice. A profiler reports each call's **self time**: its elapsed time minus the elapsed
# time of the timed calls made inside it. Keep a stack with one number per call in progress,
# the time of its children so far:
#
# ```
#   call starts:   push 0.0;   start = clock()
#   call ends:     elapsed = clock() - start;   children = pop()
#                  record (name, phase, elapsed - children)
#                  if a call is still in progress: add elapsed to the top of the stack
# ```
#
# The self times of all records then add up to the time spent inside operations, each
# second counted once. Record every call when it ends, also when it raises
# (`try`/`finally`), so that the stack stays in step with the calls.
#
# **The observer effect.** Each timed call adds two clock readings and a few Python calls,
# about a microsecond. For a NumPy operation on large arrays that is nothing; for a tiny
# reshape it can be as long as the operation itself. The systems analysis measures it.
#
# Contracts of `OpTimer(clock=time.perf_counter)` (the constructor is given: `clock`,
# `records = []`, `_saved = []`, `_stack = []`):
#
# - `_timed(name, phase, fn)` returns a new function taking any arguments, which calls
#   `fn` with them and returns its result unchanged; when the call ends (also by an
#   exception), it appends `(name, phase, self_seconds)` to `self.records`, with the self time
#   measured with `self.clock` and the stack `self._stack` as above;
# - `__enter__()`: for every class in `function_classes()` and every phase in
#   `("forward", "backward")` that the class defines itself (`phase in vars(cls)`): save
#   `(cls, phase, vars(cls)[phase])` in `self._saved`, then set the class's attribute to
#   `staticmethod(self._timed(cls.__name__, phase, getattr(cls, phase)))`. Returns `self`;
# - `__exit__(*exc_info)`: restores every saved entry (`setattr(cls, phase, original)`), the
#   last saved first, and empties `self._saved`; returns `None`.


# %% kind="locked" id="function_classes" export=true
def function_classes() -> list[type]:
    """Every subclass of autograd's Function, at any depth, each once, parents first."""
    found, todo = [], list(Function.__subclasses__())
    while todo:
        cls = todo.pop(0)
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


# %% kind="solution" id="op_timer" export=true
class OpTimer:
    """Times the forward and backward of every autograd Function while it is active.

    with OpTimer() as timer:
        loss = model(x).sum(); loss.backward()
    timer.records  # [(op name, "forward" or "backward", self seconds), ...] in the order
                   # the calls ended

    Attributes:
        clock: the clock, a function returning seconds (time.perf_counter by default).
        records: list of (name, phase, self_seconds), one per timed call.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.records: list[tuple[str, str, float]] = []
        self._saved: list[tuple[type, str, object]] = []  # (class, phase, original entry)
        self._stack: list[float] = []  # children's time of each timed call in progress

    def _timed(self, name: str, phase: str, fn: Callable) -> Callable:
        """A function that calls fn(*args, **kwargs), returns its result, and records
        (name, phase, self seconds) in self.records when the call ends (also on an error).

        Hint: a nested `def timed(*args, **kwargs):` can use self, name, phase and fn; put
        the bookkeeping of the call's end in a `finally:` block.
        """

        # Task op_timer: push, time the call, pop the children's time, record, pass it up.
        ### BEGIN SOLUTION
        def timed(*args, **kwargs):
            self._stack.append(0.0)  # the time of this call's timed children, so far
            start = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = self.clock() - start
                children = self._stack.pop()
                self.records.append((name, phase, elapsed - children))
                if self._stack:  # inside another timed call: it must not count us again
                    self._stack[-1] += elapsed

        return timed
        ### END SOLUTION

    def __enter__(self) -> "OpTimer":
        """Hook a timer on the forward and backward that each Function class defines itself."""
        # Task op_timer: save each class's own entry, then replace it with a timed staticmethod.
        ### BEGIN SOLUTION
        for cls in function_classes():
            for phase in ("forward", "backward"):
                if phase in vars(cls):
                    self._saved.append((cls, phase, vars(cls)[phase]))
                    timed = self._timed(cls.__name__, phase, getattr(cls, phase))
                    setattr(cls, phase, staticmethod(timed))
        return self
        ### END SOLUTION

    def __exit__(self, *exc_info) -> None:
        """Put back every saved entry, the last one first; exceptions propagate."""
        # Task op_timer: restore the originals in reverse order and forget them.
        ### BEGIN SOLUTION
        while self._saved:
            cls, phase, original = self._saved.pop()
            setattr(cls, phase, original)
        ### END SOLUTION


# %% [markdown]
# ### Test `op_timer`

# %% kind="test" id="test_op_timer" points=4
clock = FakeClock()
Scale = costly_function(clock, forward=0.25, backward=0.5, name="Scale")
before = framework_snapshot()
x = Tensor(np.ones((2, 3)), requires_grad=True)
with OpTimer(clock) as timer:
    assert isinstance(timer, OpTimer), "OpTimer.__enter__ should return self."
    loss = Scale.apply(x).sum()
    loss.backward()
assert framework_unchanged(before), (
    "After the with block every Function class should hold exactly the forward and backward "
    "it held before: __exit__ must put back the very objects __enter__ saved."
)
assert isinstance(timer.records, list) and len(timer.records) == 4, (
    f"Four operations ran (Scale forward, Sum forward, Sum backward, Scale backward); "
    f"timer.records should hold 4 records, got {timer.records!r:.300}."
)
got = [(name, phase) for name, phase, _ in timer.records]
assert got == [
    ("Scale", "forward"),
    ("Sum", "forward"),
    ("Sum", "backward"),
    ("Scale", "backward"),
], (
    f"timer.records should name each call (the class's __name__) and its phase, in the "
    f"order the calls ended; got {got}."
)
assert_array(
    np.array([seconds for _, _, seconds in timer.records]),
    [0.25, 0.0, 0.0, 0.5],
    "The seconds of the four records (Scale's forward costs 0.25 fake seconds, its "
    "backward 0.5, Sum nothing on this clock)",
)
assert_grad(x, np.ones((2, 3)), "x.grad computed while the timer was on")

Inner = costly_function(clock, forward=0.125, name="Inner")


class Outer(Function):
    """Doubles x; its forward costs 0.5 fake seconds of its own and calls Inner."""

    @staticmethod
    def forward(ctx, x):
        clock.advance(0.5)
        return Inner.apply(x).data * 2

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * 2,)


with OpTimer(clock) as timer:
    out = Outer.apply(np.ones(3))
assert_array(out.data, [2.0, 2.0, 2.0], "Outer.apply(ones) under the timer")
records = [(name, phase, round(seconds, 9)) for name, phase, seconds in timer.records]
assert records == [("Inner", "forward", 0.125), ("Outer", "forward", 0.5)], (
    f"Outer's forward takes 0.625 fake seconds, 0.125 of them inside Inner's: the records "
    f"should give each call its self time, [('Inner', 'forward', 0.125), ('Outer', "
    f"'forward', 0.5)]; got {records}."
)

### BEGIN HIDDEN TESTS
# hidden: the framework is left exactly as it was, also when the block raises
clock = FakeClock()
_HBroken = costly_function(clock, forward=0.25, name="_HBroken")


def _h_raise_inside():
    with OpTimer(clock) as t:
        _HBroken.apply(np.ones(2))
        raise LookupError("inside the block")
    return t


before = framework_snapshot()
err = raised(_h_raise_inside)
assert isinstance(err, LookupError), "an exception inside the block propagates"
assert framework_unchanged(before), "every hook is removed when the block raises"
# hidden: a call that raises is recorded, and later calls are timed correctly


class _HFails(Function):
    @staticmethod
    def forward(ctx, x):
        clock.advance(0.25)
        raise ArithmeticError("forward fails")

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output,)


with OpTimer(clock) as timer:
    err = raised(lambda: _HFails.apply(np.ones(2)))
    _HBroken.apply(np.ones(2))
assert isinstance(err, ArithmeticError), "the operation's exception propagates"
assert [r[:2] for r in timer.records] == [("_HFails", "forward"), ("_HBroken", "forward")], (
    "a call is recorded when it ends, also by an exception"
)
assert check_close([r[2] for r in timer.records], [0.25, 0.25], atol=1e-12), (
    "a failed call does not disturb the next one's time"
)
assert framework_unchanged(before), "everything is put back"
# hidden: self times exclude timed calls made inside, at every depth, forward and backward
_HLeaf = costly_function(clock, forward=0.0625, backward=0.125, name="_HLeaf")


class _HMiddle(Function):
    @staticmethod
    def forward(ctx, x):
        clock.advance(0.25)
        y = _HLeaf.apply(x).data
        clock.advance(0.25)
        return _HLeaf.apply(y).data

    @staticmethod
    def backward(ctx, grad_output):
        clock.advance(1.0)
        return _HLeaf.backward(ctx, grad_output)


class _HTop(Function):
    @staticmethod
    def forward(ctx, x):
        clock.advance(2.0)
        return _HMiddle.apply(x).data

    @staticmethod
    def backward(ctx, grad_output):
        clock.advance(4.0)
        return _HMiddle.backward(ctx, grad_output)


a = Tensor(np.ones(2), requires_grad=True)
with OpTimer(clock) as timer:
    out = _HTop.apply(a)
    out.backward(np.ones(2))
expected = [
    ("_HLeaf", "forward", 0.0625),
    ("_HLeaf", "forward", 0.0625),
    ("_HMiddle", "forward", 0.5),
    ("_HTop", "forward", 2.0),
    ("_HLeaf", "backward", 0.125),
    ("_HMiddle", "backward", 1.0),
    ("_HTop", "backward", 4.0),
]
assert [r[:2] for r in timer.records] == [e[:2] for e in expected], (
    "one record per call, named by the class, in the order the calls ended"
)
assert check_close([r[2] for r in timer.records], [e[2] for e in expected], atol=1e-12), (
    "each call's self time: its time minus the timed calls inside it"
)
assert check_close(sum(r[2] for r in timer.records), 7.75, atol=1e-12), (
    "self times add up to the time inside operations, counted once"
)
assert check_close(a.grad, np.ones(2)), "gradients are unchanged by the timer"
# hidden: only the methods a class defines itself are hooked, under its own name


class _HParent(Function):
    @staticmethod
    def forward(ctx, x):
        clock.advance(0.5)
        return x * 3

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * 3,)


class _HChild(_HParent):
    @staticmethod
    def backward(ctx, grad_output):
        clock.advance(0.25)
        return (grad_output * 3,)


before = framework_snapshot()
b = Tensor(np.ones(2), requires_grad=True)
with OpTimer(clock) as timer:
    _HChild.apply(b).backward(np.ones(2))
assert [r[:2] for r in timer.records] == [("_HParent", "forward"), ("_HChild", "backward")], (
    "an inherited forward is timed once, under the class that defines it"
)
assert check_close([r[2] for r in timer.records], [0.5, 0.25], atol=1e-12), (
    "inherited methods are not timed twice"
)
assert framework_unchanged(before) and "forward" not in vars(_HChild), (
    "a class that inherited a method does not own one afterwards"
)
# hidden: the real framework's operations are timed with their arguments passed through
model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
inputs = Tensor(np.random.default_rng(1).standard_normal((5, 3)))
plain = model(inputs).mean(axis=0).data
before = framework_snapshot()
with OpTimer() as timer:
    out = model(inputs).mean(axis=0)
    out.sum().backward()
assert framework_unchanged(before), "the real framework is put back"
assert check_close(out.data, plain, atol=1e-6), "results are unchanged, keyword arguments too"
names = [r[:2] for r in timer.records]
assert names.count(("MatMul", "forward")) == 2 and names.count(("MatMul", "backward")) == 2, (
    "every matrix product is timed, forward and backward"
)
assert ("ReLU", "forward") in names and ("Mean", "backward") in names, "every operation"
assert names.count(("Sum", "backward")) == 2, (
    "operations called inside other operations are timed (Mean's backward calls Sum's)"
)
assert all(type(r[2]) is float and r[2] >= 0 for r in timer.records), "self times are floats"
# hidden: a timer can be used again after it has put everything back
with OpTimer(clock) as timer:
    pass
with timer:
    _HBroken.apply(np.ones(2))
assert [r[:2] for r in timer.records] == [("_HBroken", "forward")], "a timer can be reused"
assert framework_unchanged(before), "and puts everything back again"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `hotspots`: where the time goes (2 points)
#
# An `OpTimer` over a training step of the GPT leaves a few hundred records. What you want
# to read is a **hotspot table**: one row per operation, the time of all its calls added up,
# the largest first, with each row's **share** of the total. Optimising anything but the top
# rows cannot pay much: if an operation takes 5% of the time, making it infinitely fast
# saves 5% (Amdahl's law).
#
# ```
#   op                   calls  forward ms  backward ms  total ms  share
#   MatMul                  17        5.64        20.00     25.64  37.8%
#   MaskedSoftmax            2        6.61         4.02     10.63  15.7%
#   ...
# ```
#
# Contract of `hotspot_table(records, top=None)`:
#
# - `records`: `(name, phase, seconds)` tuples as an `OpTimer` makes them, phase
#   `"forward"` or `"backward"`;
# - one row per name, a dict `{"op": name, "calls": the number of its forward records,
#   "forward": the sum of its forward seconds, "backward": the sum of its backward seconds,
#   "total": forward + backward, "share": total / the total of all rows}` (share 0.0 for
#   every row when that total is 0);
# - rows sorted by `"total"`, largest first; rows with equal totals keep the order in which
#   their names first appear in `records` (Python's sort is stable, also with
#   `reverse=True`); with `top`, only the first `top` rows (their shares still relative to
#   all the rows). No records: an empty list.


# %% kind="solution" id="hotspots" export=true
def hotspot_table(records: list, top: int | None = None) -> list[dict]:
    """One row per operation: calls, forward, backward and total seconds, share of the
    total; the largest total first.

    Args:
        records: (name, phase, seconds) tuples, phase "forward" or "backward".
        top: keep only the first `top` rows (None: all).

    Returns:
        a list of dicts with the keys "op", "calls", "forward", "backward", "total", "share".
    """
    # Task hotspots: add up each operation's records, then totals, shares, order, top rows.
    ### BEGIN SOLUTION
    rows = {}
    for name, phase, seconds in records:
        row = rows.setdefault(name, {"op": name, "calls": 0, "forward": 0.0, "backward": 0.0})
        row[phase] += seconds
        if phase == "forward":
            row["calls"] += 1
    grand_total = sum(row["forward"] + row["backward"] for row in rows.values())
    for row in rows.values():
        row["total"] = row["forward"] + row["backward"]
        row["share"] = row["total"] / grand_total if grand_total > 0 else 0.0
    table = sorted(rows.values(), key=lambda row: row["total"], reverse=True)
    return table[:top]  # table[:None] is every row
    ### END SOLUTION


# %% [markdown]
# ### Test `hotspots`

# %% kind="test" id="test_hotspots" points=2
records = [
    ("MatMul", "forward", 0.004),
    ("Add", "forward", 0.001),
    ("Sum", "forward", 0.001),
    ("Sum", "backward", 0.001),
    ("Add", "backward", 0.001),
    ("MatMul", "backward", 0.008),
    ("MatMul", "forward", 0.004),
]
table = hotspot_table(records)
assert isinstance(table, list) and [row.get("op") for row in table] == ["MatMul", "Add", "Sum"], (
    f"hotspot_table should list one row per operation, the largest total first (Add and Sum "
    f"tie: Add appears first), ['MatMul', 'Add', 'Sum']; got {table!r:.300}."
)
expected = {
    "op": "MatMul",
    "calls": 2,
    "forward": 0.008,
    "backward": 0.008,
    "total": 0.016,
    "share": 0.8,
}
first = table[0]
for key, value in expected.items():
    got = first.get(key)
    assert got == value or (isinstance(got, int | float) and abs(got - value) < 1e-12), (
        f"The MatMul row's '{key}' should be {value!r} (2 forward calls of 0.004 s, one "
        f"backward of 0.008 s, out of 0.02 s in all), got {got!r}."
    )
assert abs(sum(row["share"] for row in table) - 1.0) < 1e-12, "The shares should add up to 1."
top = hotspot_table(records, top=1)
assert len(top) == 1 and top[0]["op"] == "MatMul" and abs(top[0]["share"] - 0.8) < 1e-12, (
    f"hotspot_table(records, top=1) should keep only the MatMul row, its share still 0.8 of "
    f"everything, got {top}."
)
assert hotspot_table([]) == [], "No records give an empty table."

### BEGIN HIDDEN TESTS
# hidden: a profiled model with one dominant layer puts that layer's operation first
restore_framework(GIVEN_FRAMEWORK)  # the framework as given, whatever ran before
clock = FakeClock(tick=1e-6)
_HHeavy = costly_function(clock, forward=0.02, backward=0.05, name="_HHeavy")
model = Sequential(Linear(4, 8, rng=0), ReLU(), CostlyLayer(_HHeavy), Linear(8, 2, rng=1))
inputs = Tensor(np.ones((3, 4)))
with OpTimer(clock) as timer:
    for _ in range(3):
        model(inputs).sum().backward()
table = hotspot_table(timer.records)
assert isinstance(table, list) and table[0]["op"] == "_HHeavy", "the dominant operation first"
assert table[0]["calls"] == 3, "calls count the forward calls"
assert check_close([table[0]["forward"], table[0]["backward"]], [0.06, 0.15], rtol=1e-3), (
    "forward and backward seconds add up over the calls"
)
assert table[0]["share"] > 0.99, "the dominant operation's share"
totals = [row["total"] for row in table]
assert all(a >= b for a, b in zip(totals[:-1], totals[1:], strict=True)), "rows sorted"
assert check_close(sum(row["share"] for row in table), 1.0), "shares add up to 1"
names = sorted(row["op"] for row in table)
assert names == sorted({r[0] for r in timer.records}), "one row per operation"
# hidden: every row adds its own records
records = [
    ("B", "backward", 0.5),
    ("A", "forward", 0.25),
    ("C", "forward", 0.125),
    ("A", "forward", 0.25),
    ("B", "forward", 0.125),
    ("C", "backward", 0.875),
    ("A", "backward", 0.0625),
]
table = hotspot_table(records)
assert [row["op"] for row in table] == ["C", "B", "A"], "sorted by total"
assert check_close([row["calls"] for row in table], [1, 1, 2]), "forward calls"
assert check_close([row["forward"] for row in table], [0.125, 0.125, 0.5]), "forward seconds"
assert check_close([row["backward"] for row in table], [0.875, 0.5, 0.0625]), "backward seconds"
assert check_close([row["total"] for row in table], [1.0, 0.625, 0.5625]), "totals"
assert check_close(
    [row["share"] for row in table], [1.0 / 2.1875, 0.625 / 2.1875, 0.5625 / 2.1875]
), "shares of the total"
assert all(set(row) == {"op", "calls", "forward", "backward", "total", "share"} for row in table), (
    "rows have exactly the six keys"
)
# hidden: equal totals keep the order of first appearance; top keeps the first rows
records = [
    ("X", "forward", 0.25),
    ("Y", "backward", 0.5),
    ("Z", "forward", 0.5),
    ("X", "backward", 0.25),
    ("W", "forward", 0.125),
]
table = hotspot_table(records)
assert [row["op"] for row in table] == ["X", "Y", "Z", "W"], "ties keep their first order"
assert [row["calls"] for row in table] == [1, 0, 1, 1], "an op without forward records: 0 calls"
for top in (1, 2, 4, 9):
    cut = hotspot_table(records, top=top)
    assert [row["op"] for row in cut] == ["X", "Y", "Z", "W"][:top], "top keeps the first rows"
    shares = [0.5 / 1.625, 0.5 / 1.625, 0.5 / 1.625, 0.125 / 1.625]
    assert check_close([row["share"] for row in cut], shares[:top]), (
        "shares stay relative to all the rows"
    )
# hidden: operations that took no time at all have a share of 0
table = hotspot_table([("Reshape", "forward", 0.0), ("Transpose", "backward", 0.0)])
assert [row["op"] for row in table] == ["Reshape", "Transpose"], "zero totals keep their order"
assert check_close([row["share"] for row in table], [0.0, 0.0]), "a zero total gives shares of 0"
### END HIDDEN TESTS

# %% [markdown]
# ## Everything behind one object: `Profiler`
#
# The read-only cell below gathers your functions behind one object, the way the later
# modules use them: `Profiler(clock)` holds one clock for every measurement, and
# `profile_operations(fn, repeats)` runs `fn` under an `OpTimer`; `hotspots(fn, repeats,
# top)` turns that into a hotspot table. `format_hotspots(rows, per)` prints a table, its
# times divided by `per` (pass the number of repeats to read times per call). Module 16 uses
# it to find what to accelerate, Modules 17 and 18 to measure what quantization and pruning
# save, and Module 19's benchmarks build on `measure_latency`.


# %% kind="locked" id="profiler" export=true
def format_hotspots(rows: list[dict], per: int = 1) -> str:
    """A hotspot table as text: calls and milliseconds divided by `per`, shares in %."""
    lines = [
        f"{'op':<22} {'calls':>6} {'forward ms':>11} {'backward ms':>12} {'total ms':>9} {'share':>7}"
    ]
    for row in rows:
        lines.append(
            f"{row['op']:<22} {row['calls'] / per:>6g} {1e3 * row['forward'] / per:>11.3f} "
            f"{1e3 * row['backward'] / per:>12.3f} {1e3 * row['total'] / per:>9.3f} "
            f"{100 * row['share']:>6.1f}%"
        )
    return "\n".join(lines)


class Profiler:
    """Counts and measurements of a model, every measurement with the same clock.

    Attributes:
        clock: a function returning seconds (time.perf_counter by default; a fake clock in
            tests).
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock

    def count_parameters(self, model: Layer) -> int:
        """The number of trainable numbers, each parameter Tensor once."""
        return count_parameters(model)

    def parameter_breakdown(self, model: Layer) -> dict[str, int]:
        """Parameters per direct child, shared tensors where they first appear."""
        return parameter_breakdown(model)

    def count_flops(self, model, input_shape) -> int:
        """Forward FLOPs (matrix products) of model on input_shape."""
        return count_flops(model, input_shape)

    def measure_latency(self, fn: Callable, warmup: int = 3, iterations: int = 20) -> dict:
        """Seconds per call of fn(): times, median, mean, min, max, p10, p90."""
        return measure_latency(fn, warmup, iterations, self.clock)

    def measure_memory(self, fn: Callable) -> int:
        """Peak bytes allocated while fn() runs."""
        return measure_memory(fn)

    def time_forward_backward(
        self, loss_fn: Callable, parameters: list, warmup: int = 1, repeats: int = 5
    ) -> dict:
        """Median seconds of the forward pass and of a real backward pass."""
        return time_forward_backward(loss_fn, parameters, warmup, repeats, self.clock)

    def profile_operations(self, fn: Callable, repeats: int = 1) -> list:
        """The OpTimer records of `repeats` calls of fn()."""
        with OpTimer(self.clock) as timer:
            for _ in range(repeats):
                fn()
        return timer.records

    def hotspots(self, fn: Callable, repeats: int = 1, top: int | None = None) -> list[dict]:
        """The hotspot table of `repeats` calls of fn()."""
        return hotspot_table(self.profile_operations(fn, repeats), top)


# %% [markdown]
# ## Everything together: profiling a model with a known hotspot
#
# The last test profiles a small network made of your code throughout (no reference
# functions swapped in): a `Linear` layer, a layer whose operation costs 20 ms forward and
# 30 ms backward on a fake clock that also ticks a microsecond at every reading, and another
# `Linear`. The profiler must count its parameters and FLOPs, find the slow layer at the top
# of the hotspot table, time the whole step at 50 ms, split it into 20 ms forward and
# 30 ms backward, and leave the framework as it found it.


# %% kind="test" id="test_profiler" points=2
clock = FakeClock(tick=1e-6)
Slow = costly_function(clock, forward=0.02, backward=0.03, name="Slow")
net = Sequential(Linear(6, 16, rng=0), CostlyLayer(Slow), ReLU(), Linear(16, 3, rng=1))
inputs = Tensor(np.random.default_rng(0).standard_normal((4, 6)))


def net_loss():
    return net(inputs).sum()


def net_step():
    for p in net.parameters():
        p.grad = None
    net_loss().backward()


profiler = Profiler(clock)
assert profiler.count_parameters(net) == 6 * 16 + 16 + 16 * 3 + 3, (
    f"Profiler.count_parameters: 6 * 16 + 16 + 16 * 3 + 3 = 163, got "
    f"{profiler.count_parameters(net)!r}."
)
assert profiler.count_flops(net.layers[0], (4, 6)) == 2 * 4 * 6 * 16, (
    "Profiler.count_flops of the first Linear on (4, 6): 2 * 4 * 6 * 16 = 768."
)
before = framework_snapshot()
rows = profiler.hotspots(net_step, repeats=3)
assert framework_unchanged(before), "Profiler.hotspots should leave the framework as it was."
assert rows[0]["op"] == "Slow" and rows[0]["calls"] == 3 and rows[0]["share"] > 0.99, (
    f"The slow layer's operation should top the hotspot table with 3 calls and nearly all "
    f"the time, got {rows[:2]}."
)
stats = profiler.measure_latency(net_step, warmup=1, iterations=4)
assert 0.05 <= stats["median"] < 0.0501, (
    f"A step costs 0.05 fake seconds (plus a few microsecond ticks), got median "
    f"{stats['median']!r}."
)
split = profiler.time_forward_backward(net_loss, net.parameters(), warmup=1, repeats=3)
assert 0.02 <= split["forward"] < 0.0201 and 0.03 <= split["backward"] < 0.0301, (
    f"The forward costs 0.02 fake seconds and the backward 0.03, got {split['forward']!r} "
    f"and {split['backward']!r}."
)

### BEGIN HIDDEN TESTS
# hidden: a GPT is counted and profiled end to end with your code
clock = FakeClock(tick=1e-6)
gpt = GPT(9, 8, 2, 2, 6, rng=3)
ids = np.random.default_rng(5).integers(0, 9, size=(2, 6))
profiler = Profiler(clock)
assert profiler.count_parameters(gpt) == 9 * 8 + 6 * 8 + 2 * (12 * 64 + 13 * 8) + 16 + 8 * 9, (
    "the GPT's parameters"
)
flops = profiler.count_flops(gpt, (2, 6))
assert flops == 2 * (24 * 12 * 64 + 4 * 2 * 36 * 8) + 2 * 12 * 8 * 9, "the GPT's FLOPs"
before = framework_snapshot()
rows = profiler.hotspots(lambda: gpt(ids).sum().backward(), repeats=2)
assert framework_unchanged(before), "the framework is left as it was"
ops = {row["op"]: row for row in rows}
assert ops["MatMul"]["calls"] == 2 * (2 * 8 + 1), "every matrix product is timed"
assert ops["LayerNormFunction"]["calls"] == 2 * 5 and ops["MaskedSoftmax"]["calls"] == 4, (
    "the GPT's operations are timed"
)
assert check_close(sum(row["share"] for row in rows), 1.0), "shares add up to 1"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: where a GPT's time goes
#
# Nothing below is graded. The cells point your profiler at the machine and at the
# character-level Shakespeare GPT of the milestones ($V = 77$, $d = 64$, two blocks of four
# heads, context 64) on a batch of 16 sequences of 64 characters. On a quiet machine they
# take about ten seconds. Timings move from run to run: read the spreads, not only the
# medians, and expect your numbers to differ from the ones quoted in the text, which come
# from the course's shared two-core machine.
#
# ### The machine's peak, measured
#
# A FLOP/s figure means little without a yardstick: what can this machine do at best? The
# next cell times float32 matrix products with `measure_latency`: square ones of growing
# size, then the shapes a GPT step actually multiplies (1,024 token positions of 64
# features through the projections, the MLP and the head, and the batched $T \times T$
# scores of 64 heads of 16 features). Two statistics, for two questions: the **median**
# says what a call costs on this machine as it is now, neighbours included; the **fastest**
# run says what the hardware can do undisturbed, which is what a peak is. Our **peak** is the
# best figure of any product.

# %%
import os  # noqa: E402

profiler = Profiler()
rng = np.random.default_rng(0)


def matmul_speed(a_shape, b_shape, iterations=10):
    """Latency statistics of a @ b for float32 operands, and its FLOPs."""
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    stats = profiler.measure_latency(lambda: a @ b, warmup=2, iterations=iterations)
    return stats, 2 * math.prod(a_shape) * b_shape[-1]


print(
    f"{os.cpu_count()} CPUs; OPENBLAS_NUM_THREADS = "
    f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset (one thread per core)')}"
)
print(f"{'float32 product':>40} {'median ms':>10} {'p10..p90 ms':>15} {'GFLOP/s':>8} {'best':>6}")
products = {f"square {n} x {n}": ((n, n), (n, n)) for n in (128, 256, 512, 1024)}
products |= {
    "projection (1024 x 64) @ (64 x 64)": ((1024, 64), (64, 64)),
    "MLP up (1024 x 64) @ (64 x 256)": ((1024, 64), (64, 256)),
    "MLP down (1024 x 256) @ (256 x 64)": ((1024, 256), (256, 64)),
    "head (1024 x 64) @ (64 x 77)": ((1024, 64), (64, 77)),
    "scores, 64 heads (64 x 16) @ (16 x 64)": ((64, 64, 16), (64, 16, 64)),
}
best, noisy = {}, []
for label, (a_shape, b_shape) in products.items():
    stats, flops = matmul_speed(a_shape, b_shape, 5 if "1024 x 1024" in label else 15)
    best[label] = flops / stats["min"] / 1e9
    if stats["median"] > 3 * stats["min"]:
        noisy.append(label)
    print(
        f"{label:>40} {1e3 * stats['median']:>10.3f} "
        f"{1e3 * stats['p10']:>7.3f}..{1e3 * stats['p90']:<7.3f} "
        f"{flops / stats['median'] / 1e9:>8.1f} {best[label]:>6.0f}"
    )
peak = max(best.values())
print(f"\npeak: {peak:.0f} GFLOP/s (the fastest run of any product)")
if noisy:
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    print(
        f"noise: {', '.join(noisy)}: median over 3 x the fastest run. The machine is busy"
        + (
            "."
            if threads == "1"
            else ", or BLAS threads wait for each other: restart the "
            "kernel with OPENBLAS_NUM_THREADS=1 for steadier numbers."
        )
    )

# %% [markdown]
# On the course machine the best runs reached 90 to 190 GFLOP/s: about what two cores can do
# with 8-wide fused multiply-adds at 3 GHz, so the yardstick is real. The medians depended
# on the settings. With one BLAS thread (`OPENBLAS_NUM_THREADS=1`) they were steady, near
# 100 GFLOP/s for every operand that fits in the cache and about 25 for the 512 and 1,024
# squares, whose operands do not. With a thread per core and other jobs running, some
# products took **a thousand times** their best time: a 128 x 128 product, 50 microseconds
# undisturbed, took 50 ms while its two threads waited for each other. If the cell printed
# a noise warning, every time below is inflated the same way; restart with one thread and
# compare.
#
# ### The Shakespeare GPT, counted and timed
#
# Now the model. The next cell counts its parameters and FLOPs with your profiler, splits
# the FLOPs between the parts of the model with `count_flops` and `attention_flops`, and
# times a forward pass under `no_grad()` (as generation runs it). FLOPs divided by the time
# is the speed the model achieves; divided by the peak, the share of the machine it uses.

# %%
from tinytorch.core.autograd import no_grad  # noqa: E402

V, d, L, H, T, B = 77, 64, 2, 4, 64, 16
gpt = GPT(V, d, L, H, T, rng=0)
batch = rng.integers(0, V, size=(B, T + 1))
ids, targets = batch[:, :-1], Tensor(batch[:, 1:].reshape(B * T))

print(f"GPT(V={V}, d={d}, L={L}, H={H}, T={T}): {profiler.count_parameters(gpt):,} parameters")
for name, count in profiler.parameter_breakdown(gpt).items():
    print(f"  {name:<20} {count:>8,}")

stream = (B, T, d)
scores = sum(attention_flops(B, H, T, T, d // H) for _ in gpt.blocks)
parts = {
    "attention projections": sum(count_flops(b.attn, stream) for b in gpt.blocks) - scores,
    "attention scores": scores,
    "MLP": sum(count_flops(b.mlp, stream) for b in gpt.blocks),
    "head": linear_flops(gpt.head, stream),
}
flops = profiler.count_flops(gpt, (B, T))
assert flops == sum(parts.values())
print(f"\nforward FLOPs for a batch of {B} x {T} tokens: {flops / 1e6:.1f} M")
for name, value in parts.items():
    print(f"  {name:<22} {value / 1e6:>7.1f} M  {100 * value / flops:>5.1f}%")


def forward():
    with no_grad():
        gpt(ids)


fwd = profiler.measure_latency(forward, warmup=2, iterations=8)
print(
    f"\nforward (no_grad): median {1e3 * fwd['median']:.1f} ms "
    f"(p10 {1e3 * fwd['p10']:.1f}, p90 {1e3 * fwd['p90']:.1f}), "
    f"{B * T / fwd['median']:,.0f} tokens/s"
)
print(
    f"achieved: {flops / fwd['median'] / 1e9:.1f} GFLOP/s at the median, "
    f"{flops / fwd['min'] / 1e9:.1f} at best: {100 * flops / fwd['min'] / 1e9 / peak:.0f}% "
    f"of the {peak:.0f} GFLOP/s peak"
)

# %% [markdown]
# The forward pass is 245 MFLOPs: 82% in the dense layers (MLP and projections), 14% in the
# attention scores, 4% in the head. At the peak it would take 1.5 to 2.5 ms. With one BLAS
# thread the course machine took 13 to 35 ms at the median (30 to 80 thousand tokens per
# second, depending on its load): **5 to 20% of the peak**. With a thread per core on the
# busy machine it was ten times slower still. Yet the table above shows matrix products of
# exactly these shapes running near the peak. Most of the time goes somewhere the FLOP
# count does not look.
#
# ### A training step: forward and backward, measured apart
#
# The FLOP rule predicts a backward pass twice as long as the forward. The next cell
# measures both with `time_forward_backward` on the cross-entropy loss of the batch, and
# then the peak memory of a forward pass under `no_grad()`, of one that records the graph,
# and of a whole step, against the 0.46 MB of the weights.

# %%
params = gpt.parameters()


def lm_loss():
    logits = gpt(ids)  # (B, T, V)
    return CrossEntropyLoss()(logits.reshape(B * T, V), targets)


split = profiler.time_forward_backward(lm_loss, params, warmup=1, repeats=4)
ratio = split["backward"] / split["forward"]
print(
    f"forward (recording) {1e3 * split['forward']:.1f} ms, backward "
    f"{1e3 * split['backward']:.1f} ms: backward / forward = {ratio:.2f} (FLOPs predict 2)"
)
spread = [
    f"{1e3 * split[k].min():.1f}..{1e3 * split[k].max():.1f}"
    for k in ("forward_times", "backward_times")
]
print(f"  range of the 4 runs: forward {spread[0]} ms, backward {spread[1]} ms")


def recording_forward():
    gpt(ids)  # the graph lives until the logits are dropped, when the call ends


def training_step():
    for p in params:
        p.grad = None
    lm_loss().backward()


weights = 4 * profiler.count_parameters(gpt)
for label, fn in (
    ("forward, no_grad", forward),
    ("forward, recording the graph", recording_forward),
    ("training step (forward + backward)", training_step),
):
    peak_bytes = profiler.measure_memory(fn)
    print(
        f"peak {label:<36} {peak_bytes / 2**20:>6.1f} MiB = {peak_bytes / weights:>5.1f} x weights"
    )

# %% [markdown]
# With one BLAS thread the course machine measured backward/forward ratios **between 1.1 and
# 1.5**, not 2; with a thread per core on the busy machine, anything from 0.5 to 2.3, because
# the noise was larger than the work. The FLOP rule is right about the matrix products (the
# next table shows `MatMul`'s backward at about twice its forward) and wrong about the step,
# because most of the step is not matrix products. Memory is less noisy: the recording
# forward pass peaked at about 31 MiB, **70 times the weights**, against 5 MiB under
# `no_grad()`, and the whole step at 38 MiB (tracemalloc counts NumPy's buffers exactly,
# so these numbers repeat to the kilobyte).
#
# ### Where the time goes: the hotspot table of a training step
#
# Now the question of this module. The next cell runs three training steps under an
# `OpTimer` and prints the hotspot table per step. It also times the same steps as a
# whole: what is not inside an operation is the framework around them (`Function.apply`
# making `Context`s, `Node`s and `Tensor`s, the graph walk of `backward`, the Python of each
# layer's `forward`).

# %%
repeats = 3
start = profiler.clock()
rows = profiler.hotspots(training_step, repeats=repeats)
wall = (profiler.clock() - start) / repeats  # the same steps, timed as a whole
print(format_hotspots(rows, per=repeats))
in_ops = sum(row["total"] for row in rows) / repeats
calls = 2 * sum(row["calls"] for row in rows) / repeats
print(
    f"\nper step: {1e3 * wall:.1f} ms in all, {1e3 * in_ops:.1f} ms inside the {calls:.0f} "
    f"timed calls ({100 * in_ops / wall:.0f}%)"
)
step = profiler.measure_latency(training_step, warmup=1, iterations=5)
matmul = next(row for row in rows if row["op"] == "MatMul")
step_flops = 3 * flops
print(
    f"MatMul: {100 * matmul['share']:.0f}% of the time inside operations and 100% of the "
    f"{step_flops / 1e9:.2f} GFLOP counted: {step_flops / (matmul['total'] / repeats) / 1e9:.1f} "
    f"GFLOP/s in the products"
)
print(
    f"whole step: {step_flops / step['median'] / 1e9:.1f} GFLOP/s, "
    f"{100 * step_flops / step['median'] / 1e9 / peak:.0f}% of the peak"
)

# %% [markdown]
# Every FLOP we counted is in the `MatMul` row (every `Linear` and both products of the
# attention): 100% of the arithmetic. On the course machine with one BLAS thread, `MatMul`
# took **35 to 50% of the time**, and the products themselves ran at 15 to 40 GFLOP/s,
# a sixth to a third of what the same shapes reached alone (the backward's products read transposed
# operands, and the cache is cold after the element-wise operations have streamed megabytes
# through it). The other half of the time went to operations the FLOP count calls free:
#
# - `MaskedSoftmax`, `LayerNormFunction` and `GELU` (together 30 to 45% of the time) read
#   and write every number of a $(B, H, T, T)$, $(B, T, d)$ or $(B, T, 4d)$ array several
#   times, for a few FLOPs each: their speed is the speed of **memory**, not of arithmetic;
# - `Add`'s backward sums each bias's gradient over all $B T$ rows (`unbroadcast`), and
#   `Reshape`'s backward copies gradients that arrive non-contiguous;
# - `Div`, the division of the scores by $\sqrt{d_{\text{head}}}$, was nearly free forward
#   and ten times dearer or more backward: its backward also computes the gradient of the
#   divisor, a full $(B, H, T, T)$ array summed down to one number, for a constant that needs
#   no gradient. A profiler finds such waste in seconds; Module 16 removes it.
#
# 70 to 90% of the step was inside operations: the framework's own bookkeeping is the
# smaller share at this size, and grows as operations shrink (Module 14's one-token cached
# steps are mostly bookkeeping). With a thread per core on the busy machine, `MatMul` rose
# to over 90% of a step ten times slower: the products waited for their threads. Profile
# with the settings you will run with.
#
# ### The observer effect
#
# A profiler changes what it measures. Each timed call adds two clock readings, a push and
# a pop, and a tuple. The next cell measures that cost directly: ten thousand calls of a
# function that does nothing, bare and wrapped by `_timed`, beside the cost of a tiny real
# operation (reshaping a four-number tensor).


# %%
def noop():
    return None


timer = OpTimer()
timed_noop = timer._timed("noop", "forward", noop)


def calls_of(fn, n=10_000):
    def run():
        for _ in range(n):
            fn()
        timer.records.clear()

    return run


# A fixed cost: noise only adds to it, so the fastest of several runs estimates it best.
bare = profiler.measure_latency(calls_of(noop), warmup=1, iterations=7)["min"] / 10_000
wrapped = profiler.measure_latency(calls_of(timed_noop), warmup=1, iterations=7)["min"] / 10_000
small = Tensor(np.ones(4))
reshape = profiler.measure_latency(calls_of(lambda: small.reshape(2, 2)), 1, 7)["min"] / 10_000
overhead = wrapped - bare
print(
    f"the timer around a function that does nothing: {1e6 * overhead:.2f} us per call "
    f"(one reshape of a 4-number Tensor: {1e6 * reshape:.2f} us)"
)
print(
    f"on a training step: {calls:.0f} timed calls x {1e6 * overhead:.2f} us = "
    f"{1e3 * calls * overhead:.2f} ms, {100 * calls * overhead / wall:.1f}% of "
    f"{1e3 * wall:.1f} ms"
)

# %% [markdown]
# Under a microsecond per timed call on the course machine: a few percent of even a tiny
# reshape, and about a tenth of a percent of a GPT training step with its 136 timed calls.
# The smaller the operations, the more a profiler distorts them; that is why the standard
# library's `cProfile`, which times every Python function call, overstates the cost of
# small functions, and why sampling profilers look at the stack a few hundred times a second
# instead of timing every call.
#
# ### A wider model
#
# The costs that dominate the small model grow with the numbers moved, $d$ per token; the
# products grow with $d^2$. The last cell profiles a model four times as wide ($d = 256$,
# 1.6 million parameters) on half the batch, and plots both time budgets.

# %%
import matplotlib.pyplot as plt  # noqa: E402

wide = GPT(V, 256, L, H, T, rng=1)
wide_ids, wide_targets = ids[:8], Tensor(batch[:8, 1:].reshape(8 * T))


def wide_step():
    for p in wide.parameters():
        p.grad = None
    logits = wide(wide_ids)
    CrossEntropyLoss()(logits.reshape(8 * T, V), wide_targets).backward()


wide_rows = profiler.hotspots(wide_step, repeats=2)
print(format_hotspots(wide_rows[:6], per=2))
wide_matmul = next(row for row in wide_rows if row["op"] == "MatMul")
wide_flops = 3 * profiler.count_flops(wide, (8, T))
print(
    f"\nd=256: MatMul {100 * wide_matmul['share']:.0f}% of the time inside operations, "
    f"{wide_flops / (wide_matmul['total'] / 2) / 1e9:.1f} GFLOP/s in the products"
)

fig, ax = plt.subplots(figsize=(7, 3.2))
labels = ["MatMul", "LayerNormFunction", "GELU", "MaskedSoftmax", "Add", "other"]
for offset, (name, table) in enumerate((("d = 64", rows), ("d = 256", wide_rows))):
    share = {row["op"]: row["share"] for row in table}
    values = [share.get(k, 0.0) for k in labels[:-1]]
    values.append(1 - sum(values))
    ax.barh(np.arange(len(labels)) + 0.4 * offset, 100 * np.array(values), 0.4, label=name)
ax.set_yticks(np.arange(len(labels)) + 0.2, labels)
ax.invert_yaxis()
ax.set_xlabel("share of the time inside operations (%); every counted FLOP is in MatMul")
ax.set_title("Where a training step's time goes")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# At $d = 256$ the products took most of the time (70 to 80% on the course machine with
# one thread, against 35 to 50% at $d = 64$): four times the width is sixteen times the
# work of every product, for four times the numbers moved by each element-wise operation
# around it. That ratio, FLOPs per byte of memory traffic, is the **arithmetic intensity**
# of Module 16. Products of large matrices have plenty and can run near the peak;
# element-wise operations have almost none and run at the speed of memory, whatever their
# FLOP count says.
#
# ## Summary
#
# - **Count what the model is.** Parameters follow the tensors (a shared or tied tensor
#   counts once, where it first appears); FLOPs follow the calls. With 2 FLOPs per
#   multiply-add: $2 N\,\text{in}\,\text{out}$ for a `Linear` on $N$ rows (every row of every
#   leading axis), $2 N C_{\text{out}} H_{\text{out}} W_{\text{out}} C_{\text{in}} k_H k_W$ for
#   a convolution, $4 B H T_q T_k d_{\text{head}}$ for attention, and for a GPT
#   $L (8 B T d^2 + 4 r B T d^2 + 4 B T^2 d) + 2 B T d V$ per forward pass.
# - **Measure what it costs, properly.** Warm up, time every call on its own, report the
#   median with a spread (p10 to p90); the mean is pulled by outliers, and a single run is an
#   anecdote. The fastest run measures a capability (a peak), the median an expectation.
#   Make the clock an argument, and test the measuring code with a fake one.
# - **Memory is a peak**, measured with `tracemalloc` from a reset peak, leaving the tracer
#   as you found it. A recording forward pass holds the activations the backward needs: for
#   the small GPT, 70 times the weights.
# - **Backward is measured, not assumed.** FLOPs predict twice the forward; the measured
#   ratio differs, because time is not FLOPs.
# - **Find the hotspots with timers on the operations**, patched on the classes and always
#   put back (a context manager), with self times from a stack so that nothing is counted
#   twice; mind the observer effect.
# - In a small NumPy GPT every counted FLOP is a matrix product but most of the time is
#   not: memory-bound element-wise operations take the rest, and the model reaches 5 to 20%
#   of the machine's peak. Wider models use the machine better. And the machine itself must
#   be measured: a busy one, or BLAS threads that fight, can slow a product a thousandfold.
#
# **Reflection.**
#
# 1. The hotspot table counts time inside operations. Where does the rest of a step's time
#    go, and how would you measure it? (Hint: what does `Function.apply` do besides calling
#    `forward`?)
# 2. `LayerNormFunction` is one operation, written by hand with its backward (Module 13).
#    How many operations, and how many arrays the size of its input, would the same
#    computation cost if it were built from Tensor operations? What does your hotspot table
#    predict about the speed of each version?
# 3. Your measured backward/forward ratio was not 2. From your hotspot table, name an
#    operation whose backward costs much more than its forward, and one whose backward is
#    nearly free. Why?
# 4. On a machine you share with others, which statistic would you report for a model's
#    latency, and which for a claim that one implementation is faster than another? Would you
#    time the two one after the other, or interleaved?
