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
# # Module 16: Acceleration
#
# Module 15 measured where a training step of the Shakespeare GPT spends its time: about
# half in matrix products, the rest in element-wise operations (GELU, softmax, LayerNorm)
# whose FLOP count is small and whose cost is the memory they stream through, plus some
# plain waste (the division of the attention scores by $\sqrt{d_{\text{head}}}$, whose
# backward computed a gradient for a constant). Now we make it faster, and the rule of
# Module 15 still holds: **nothing here is claimed, everything is measured**. Every speed
# in this notebook is timed on this machine with Module 15's `measure_latency` (the thread
# counts, which need fresh processes, with the same statistic from the standard library's
# `timeit`), and every faster version is first checked to compute the same numbers,
# gradients included.
#
# Earlier versions of this course taught acceleration with code that did not do what it
# said: a `tiled_matmul` that ignored its tile size and called `np.matmul`, a "fused"
# activation that still allocated seven temporary arrays, speedups that were really the
# cost of a wrapper, and no gradients at all. Here the tests prove each claim without a
# clock: a tiled product must hand every tile to a kernel the test supplies, a fused GELU
# must allocate nothing but its result (measured with `tracemalloc`), and every accelerated
# operation must pass a gradient check.
#
# ```
#   matrix products                 element-wise operations         attention
#   ─────────────────────────────   ─────────────────────────────   ──────────────────────────
#   matmul_loops   i, j, p loops    gelu_fused   one buffer, out=   ScaledScores   all heads,
#   matmul_ikj     rows as vectors  FusedGELU    saves x only,                     one product,
#   matmul_tiled   tiles, a kernel               recomputes tanh                   scale folded in
#   TiledMatMul    ... with autograd                                qkv_projection Q, K, V: one
#   np.matmul      BLAS: the roof                                                  product
#   └──────────────────── accelerate(gpt): the same model, the same numbers, faster? ─────────┘
# ```
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - explain why the same $2nkm$ FLOPs of a matrix product run at 0.005 GFLOP/s in Python
#   loops and near 100 GFLOP/s in BLAS, and what **loop order**, **vectorisation** and
#   **tiling** each change;
# - write a **blocked** (tiled) matrix product whose tiles go through a kernel, and compute
#   the **arithmetic intensity** of a tile (FLOPs per byte moved);
# - keep **autograd** working through an accelerated operation: a `Function` whose backward
#   uses the same fast path;
# - **fuse** an element-wise operation into one output buffer with NumPy's `out=`
#   arguments, prove with `tracemalloc` that it allocates less, and trade memory for
#   recomputation in its backward pass;
# - **batch** work into fewer, larger products: every attention head in one product, the
#   queries, keys and values in one product;
# - measure all of it honestly: GFLOP/s against size with the machine's BLAS as the roof,
#   float32 against float64, one BLAS thread against two, and a real GPT training step before
#   and after.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in eleven places, for eight tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtypes, the order of the loops, what may be allocated,
#   errors, and hints. Keep the names and signatures as they are (the milestones and the
#   capstone call them); the given cells are read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail. No test uses a clock. What the results alone cannot show, the
#   tests check with instruments from the checks cell: arrays of numbers that **record
#   every multiplication** (so the tests know the order of your loops), **kernels that
#   record every tile** they are handed, `tracemalloc` for **allocations**, and counters of
#   the **matrix products** an operation runs.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (awkward shapes such as 65 x 33 @ 33 x 17, tiles that do not
#   divide the matrices, float64 and float32, other head counts, models without biases, 0-d
#   and non-contiguous arrays). A failing hidden check tells you which behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the code of the other tasks
#   comes from the course's reference solution, so a bug costs the points of the task it is
#   in. The last test, `test_accelerated_gpt`, is different: it accelerates a GPT with **your**
#   code throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure (a NumPy `RuntimeWarning` included).
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `loops` | `matmul_loops`: the triple loop, in the order i, j, p | 2 |
# | `ikj` | `matmul_ikj`: the order i, p, j, each row update one vector operation | 2 |
# | `tiled` | `matmul_tiled`: tiles visited in the order i, j, p, each product through a kernel | 4 |
# | `tiled_grad` | `TiledMatMul`: the tiled product as an autograd `Function`, tiled backward too | 2 |
# | `gelu_fused` | `gelu_fused`: GELU in one output buffer, nothing else allocated | 3 |
# | `gelu_grad` | `FusedGELU`: saves only its input, recomputes in a lean backward | 3 |
# | `scaled_scores` | `ScaledScores`: $Q K^\top \cdot s$ for every head in one product, with its backward | 3 |
# | `qkv_projection` | `qkv_projection`: the queries, keys and values of every head from one product | 3 |
# | `accelerated_gpt` | (no code of its own) your operations in a GPT: the same logits and gradients | 2 |
# | | **total** | **24** |
#
# Work in the order of the table. `Tensor`, autograd (`Function`), `Linear`,
# `MultiHeadAttention`, `GPT` and the profiler come from your Modules 01 to 15; when your
# work is graded they come from the course's reference solution, so a bug in an earlier
# module does not cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.optimization.acceleration: faster matrix products and fused operations.

Matrix products of NumPy arrays four ways: `matmul_loops` (three Python loops, i, j, p),
`matmul_ikj` (loops i and p, each row update one vector operation), `matmul_tiled` (blocks
of tile_size visited in the order i, j, p, each block product computed by an injectable
kernel, np.matmul by default) and NumPy's own BLAS. `TiledMatMul` and `tiled_matmul` make
the tiled product a differentiable operation. `gelu_fused` computes Module 02's GELU inside
one output buffer with NumPy's out= arguments; `FusedGELU` is its autograd Function (it
saves only its input and recomputes the rest in backward). `ScaledScores` computes the
attention scores of every head in one batched product with the scale folded in, and
`qkv_projection` the queries, keys and values of every head from one product (`Concat`
and `Narrow` are the differentiable joins and cuts it needs). `fast_attention`,
`FastMultiHeadAttention`, `FastGELU` and `accelerate(model)` put them into a GPT: the same
parameters, the same outputs and gradients.
Written by students in Module 16.
"""

import math
from collections.abc import Callable

import numpy as np

from tinytorch.core.activations import Activation
from tinytorch.core.attention import (
    MaskedSoftmax,
    MultiHeadAttention,
    _check_sequence,
    merge_heads,
    split_heads,
)
from tinytorch.core.autograd import Context, Function
from tinytorch.core.tensor import Tensor
from tinytorch.models.transformer import GPT, TransformerBlock

__all__ = [
    "matmul_loops",
    "matmul_ikj",
    "matmul_tiled",
    "TiledMatMul",
    "tiled_matmul",
    "gelu_unfused",
    "gelu_fused",
    "FusedGELU",
    "FastGELU",
    "ScaledScores",
    "Concat",
    "Narrow",
    "qkv_projection",
    "fast_attention",
    "FastMultiHeadAttention",
    "accelerate",
]

GELU_A = 0.044715  # GELU's cubic coefficient (Module 02)
GELU_C = math.sqrt(2 / math.pi)  # sqrt(2 / pi) as a Python float: float32 stays float32

# %% [markdown]
# **Given: the input checks.** The read-only cell below checks what your functions receive,
# so that your code can rely on it and every error message is the same: `_check_matrices`
# (two 2-D NumPy arrays whose inner dimensions agree), `_check_tile` (a whole number at
# least 1), `_check_gelu` (a floating-point array, and an `out` buffer of its shape and
# dtype that does not overlap it) and `_check_scores` (queries and keys with the same
# leading axes and the same feature size).


# %% kind="locked" id="input_checks" export=true
def _check_matrices(a, b, who: str) -> None:
    """a (n, k) and b (k, m) are 2-D NumPy arrays with equal inner dimensions.

    Raises:
        TypeError: when a or b is not a NumPy array (a Tensor: pass its .data).
        ValueError: naming both shapes, when one is not 2-D or the inner dimensions differ.
    """
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        raise TypeError(
            f"{who}: a and b must be NumPy arrays, got {type(a).__name__} and "
            f"{type(b).__name__}; pass a Tensor's .data"
        )
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{who}: expected two matrices (2-D arrays), got {a.shape} @ {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(
            f"{who}: {a.shape} @ {b.shape}: inner dimensions {a.shape[1]} and {b.shape[0]} differ"
        )


def _check_tile(tile_size, who: str) -> None:
    """tile_size is a whole number >= 1.

    Raises:
        TypeError: for anything but a whole number (a float, a bool).
        ValueError: for a number below 1.
    """
    if isinstance(tile_size, bool) or not isinstance(tile_size, int | np.integer):
        raise TypeError(f"{who}: tile_size must be a whole number, got {tile_size!r}")
    if tile_size < 1:
        raise ValueError(f"{who}: tile_size must be >= 1, got {tile_size}")


def _check_gelu(x, out, who: str) -> None:
    """x is a floating-point NumPy array; out is None or an array of x's shape and dtype
    that shares no memory with x.

    Raises:
        TypeError: when x is not a float16/32/64 NumPy array.
        ValueError: when out has another shape or dtype, or overlaps x (the first step
            would overwrite x while it is still needed).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            f"{who}: x must be a floating-point NumPy array, got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    if out is None:
        return
    if not isinstance(out, np.ndarray) or out.shape != x.shape or out.dtype != x.dtype:
        got = f"{out.shape} {out.dtype}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(
            f"{who}: out must be an array of x's shape {x.shape} and dtype {x.dtype}, got {got}"
        )
    if np.may_share_memory(x, out):
        raise ValueError(f"{who}: out must not overlap x: the first step would overwrite x")


def _check_scores(q_shape: tuple, k_shape: tuple) -> None:
    """q (..., T_q, d) and k (..., T_k, d): at least 2-D, the same leading axes, the same d.

    Raises:
        ValueError: naming both shapes otherwise.
    """
    if (
        len(q_shape) < 2
        or len(q_shape) != len(k_shape)
        or q_shape[:-2] != k_shape[:-2]
        or q_shape[-1] != k_shape[-1]
    ):
        raise ValueError(
            f"ScaledScores: expected q (..., T_q, d) and k (..., T_k, d) with the same leading "
            f"axes and the same d, got {q_shape} and {k_shape}"
        )


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` of the expected shape and
# values (`assert_array` does the same for a NumPy array, `assert_grad` for a gradient),
# `check_close` compares numbers the way `np.allclose` does, `check_equal` exactly, `raised`
# returns the exception a call raised, and `numerical_gradients(f, arrays, upstream)`
# estimates the gradients of $L = \sum R \odot f(\dots)$ by central differences in float64.
# The second part is this module's own instruments:
#
# - `spy_matrices(a, b)` returns `(A, B, log)`: arrays of dtype `object` holding the values
#   of `a` and `b` as numbers that **record every product** they take part in. `log` lists
#   the products in the order they were computed, each as `(("a", i, p), ("b", p, j))`
#   (operand order does not matter); `loop_log(n, k, m, order)` is the log that loops in the
#   given order (`"ijp"` or `"ipj"`) produce. A product of two recording numbers is a plain
#   Python float, so sums work as usual;
# - `tile_recorder(offset=0.0)` returns `(kernel, calls)`: a kernel for `matmul_tiled` that
#   computes `a_block @ b_block + offset` in float64 and appends a copy of both blocks to
#   `calls`; `tile_origins(n, k, m, tile)` lists the `(i0, j0, p0)` corners of the tiles in
#   the order i, j, p;
# - `peak_bytes(fn)` returns `(peak, result)`: the most memory held at once while `fn()` ran,
#   above what was held before (tracemalloc, which sees every NumPy array), and `fn()`'s
#   result;
# - `counting(function)` is a context manager that counts the calls of an autograd
#   `Function`'s `forward` inside the block (`with counting(MatMul) as products: ...`, then
#   `products.calls`), and puts the original back on exit;
# - `gelu_reference(x)` and `gelu_grad_reference(x)`: GELU (Module 02's tanh formula) and its
#   derivative in float64; `strict(fn)` runs `fn()` with NumPy's floating-point warnings
#   raised as errors; `run_function(F, inputs, upstream, **kwargs)` calls a Function's
#   `forward` and then its `backward` directly on float64 arrays; `leaf(values)` is a
#   float32 Tensor with `requires_grad=True`.


# %% kind="locked" id="checks" include="checks"
import tracemalloc  # noqa: E402

from tinytorch.core.attention import causal_mask  # noqa: E402
from tinytorch.core.autograd import GELU as GELUFunction  # noqa: E402
from tinytorch.core.autograd import MatMul, no_grad  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import Adam  # noqa: E402
from tinytorch.models.transformer import MLP  # noqa: E402

_trace_start, _trace_stop, _tracing = tracemalloc.start, tracemalloc.stop, tracemalloc.is_tracing
_trace_reset, _traced = tracemalloc.reset_peak, tracemalloc.get_traced_memory
_empty, _object = np.empty, np.object_


class Spy:
    """A number that records every product it takes part in (see spy_matrices)."""

    __slots__ = ("value", "tag", "log")

    def __init__(self, value: float, tag: tuple, log: list):
        self.value, self.tag, self.log = value, tag, log

    def __mul__(self, other):
        if isinstance(other, Spy):
            pair = (self.tag, other.tag) if self.tag <= other.tag else (other.tag, self.tag)
            self.log.append(pair)
            return self.value * other.value
        return NotImplemented

    __rmul__ = __mul__

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        return f"Spy({self.value}, {self.tag})"


def spy_matrices(a, b):
    """(A, B, log): object arrays of a's and b's values as recording numbers; log lists each
    product computed, in order, as (("a", i, p), ("b", p, j))."""
    log = []
    spies = []
    for name, values in (("a", as_float64(a)), ("b", as_float64(b))):
        array = _empty(values.shape, dtype=_object)
        for index in _ndindex(values.shape):
            array[index] = Spy(float(values[index]), (name, *index), log)
        spies.append(array)
    return spies[0], spies[1], log


def loop_log(n: int, k: int, m: int, order: str) -> list:
    """The products of an (n, k) @ (k, m) product in loop order "ijp" or "ipj"."""
    if order == "ijp":
        triples = [(i, j, p) for i in range(n) for j in range(m) for p in range(k)]
    else:
        triples = [(i, j, p) for i in range(n) for p in range(k) for j in range(m)]
    return [(("a", i, p), ("b", p, j)) for i, j, p in triples]


def tile_recorder(offset: float = 0.0):
    """(kernel, calls): kernel(a_block, b_block) returns a_block @ b_block + offset (float64)
    and appends (copy of a_block, copy of b_block) to calls."""
    calls = []

    def kernel(a_block, b_block):
        calls.append((_array(a_block), _array(b_block)))
        return as_float64(a_block) @ as_float64(b_block) + offset

    return kernel, calls


def tile_origins(n: int, k: int, m: int, tile: int) -> list:
    """(i0, j0, p0) of every tile of an (n, k) @ (k, m) product, in the order i, j, p."""
    return [
        (i, j, p) for i in range(0, n, tile) for j in range(0, m, tile) for p in range(0, k, tile)
    ]


def tiles_match(calls, a, b, tile: int) -> bool:
    """calls hold exactly the blocks a[i0:i0+t, p0:p0+t] and b[p0:p0+t, j0:j0+t] of every
    tile, in the order i, j, p."""
    origins = tile_origins(a.shape[0], a.shape[1], b.shape[1], tile)
    if len(calls) != len(origins):
        return False
    for (i, j, p), (a_block, b_block) in zip(origins, calls, strict=True):
        if not check_equal(a_block, a[i : i + tile, p : p + tile]):
            return False
        if not check_equal(b_block, b[p : p + tile, j : j + tile]):
            return False
    return True


def peak_bytes(fn):
    """(peak, result): the most bytes held at once while fn() ran, above those held before
    (tracemalloc), and fn()'s result. tracemalloc is left as it was found."""
    started = not _tracing()
    if started:
        _trace_start()
    _trace_reset()
    base, _ = _traced()
    try:
        result = fn()
        _, peak = _traced()
    finally:
        if started:
            _trace_stop()
    return peak - base, result


class counting:
    """with counting(F) as c: ... counts the calls of F.forward inside the block (c.calls)."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __enter__(self):
        self.original = vars(self.function)["forward"]
        inner = self.original.__func__

        def forward(ctx, *args, **kwargs):
            self.calls += 1
            return inner(ctx, *args, **kwargs)

        self.function.forward = staticmethod(forward)
        return self

    def __exit__(self, *exc_info):
        self.function.forward = self.original


def gelu_reference(x):
    """GELU, tanh approximation (Module 02), in float64."""
    x = as_float64(x)
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def gelu_grad_reference(x):
    """d GELU / dx in float64: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2)."""
    x = as_float64(x)
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


def strict(fn):
    """Call fn() with overflow, invalid values and division by zero raised as
    FloatingPointError. Returns (result, None), or (None, the exception) if fn() raised."""
    with _errstate(over="raise", invalid="raise", divide="raise"):
        try:
            return fn(), None
        except Exception as exc:
            return None, exc


def run_function(function, inputs, upstream=None, **kwargs):
    """(output, gradients): function.forward, then function.backward, called directly on
    float64 arrays with a fresh Context, NumPy warnings raised as errors. upstream is the
    gradient of the output (ones when None)."""
    name = function.__name__
    arrays = [as_float64(a) for a in inputs]
    ctx = Context()
    out, err = strict(lambda: function.forward(ctx, *arrays, **kwargs))
    assert err is None, f"{name}.forward raised {type(err).__name__}: {err}"
    assert isinstance(out, np.ndarray), (
        f"{name}.forward should return a NumPy array, got {type(out).__name__}."
    )
    g = np.ones(out.shape) if upstream is None else as_float64(upstream)
    grads, err = strict(lambda: function.backward(ctx, g))
    assert err is None, f"{name}.backward raised {type(err).__name__}: {err}"
    assert isinstance(grads, tuple) and len(grads) == len(arrays), (
        f"{name}.backward should return a tuple with one gradient per positional input of "
        f"forward ({len(arrays)}), got {grads!r:.200}"
    )
    return out, grads


def leaf(values) -> Tensor:
    """A Tensor with requires_grad=True holding `values` (as float32)."""
    return Tensor(as_float64(values), requires_grad=True)


# %% [markdown]
# # Part 1: one matrix product, four ways
#
# A matrix product $C = A B$ of $A$ $(n \times k)$ and $B$ $(k \times m)$ computes
# $C_{ij} = \sum_p A_{ip} B_{pj}$: $n m$ sums of $k$ products, $n k m$ multiply-adds, or
# $2nkm$ FLOPs (Module 15's convention). Every version below does exactly these FLOPs, in
# exactly this arithmetic; what changes is the **order** in which they run, **how many**
# run per Python-level step, and **how often each number travels** from memory to the
# processor. Those three decide whether the same $2nkm$ FLOPs take a second or a
# microsecond.
#
# **Memory layout.** NumPy stores a matrix in **row-major** order: $A_{ip}$ and
# $A_{i,p+1}$ are neighbours in memory, while $B_{pj}$ and $B_{p+1,j}$ are $m$ numbers
# apart. The processor never fetches one number: it fetches a **cache line** of 64 bytes (16
# float32 numbers) and keeps recently used lines in small, fast caches (tens of KB at the
# first level, about a MB at the second, a few MB shared at the third). Reading along a row
# uses all 16 numbers of each line; reading down a column uses one number per line and
# wastes the rest.
#
# ```
#   loops i, j, p (matmul_loops)          loops i, p, j (matmul_ikj)
#   for i: for j: for p:                  for i: for p:
#       C[i, j] += A[i, p] * B[p, j]          C[i, :] += A[i, p] * B[p, :]
#   innermost: a row of A and a COLUMN    innermost: a ROW of B and a row of C,
#   of B (stride m), one number at a      both contiguous: one vector operation
#   time                                  over j
# ```
#
# ## Task `loops`: the triple loop (2 points)
#
# The textbook version: for every row $i$, for every column $j$, add up the $k$ products
# $A_{ip} B_{pj}$, one product of two numbers at a time. In Python each of those $nkm$
# steps costs the interpreter half a microsecond or more (fetch two NumPy numbers,
# multiply them, add, loop), whatever the processor could do: that is the floor of this
# notebook's plot.
#
# Contract of `matmul_loops(a, b)`:
#
# - `a` $(n, k)$ and `b` $(k, m)$ are 2-D NumPy arrays (the given `_check_matrices` raises
#   `TypeError` or `ValueError` otherwise);
# - returns a new array `out` $(n, m)$ of dtype `np.result_type(a, b)` (float32 for float32
#   inputs, float64 for float64), with `out[i, j]` the sum over `p` of
#   `a[i, p] * b[p, j]`;
# - three nested Python loops: `i` over the rows of `a` (outermost), then `j` over the
#   columns of `b`, then `p` over the inner dimension (innermost), multiplying **one number
#   of `a` by one number of `b`** at a time: the tests hand in arrays of dtype `object` whose
#   numbers record every product, and compare the order of the products with the order
#   i, j, p. Only `+` and `*` on the elements, then: do not convert the inputs
#   (no `astype`, `float()`, `np.dot`, `@`). `a` and `b` are not modified.


# %% kind="solution" id="loops" export=true
def matmul_loops(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b with three Python loops (i, then j, then p), one product at a time.

    Args:
        a: (n, k) array; b: (k, m) array.

    Returns:
        a new (n, m) array of dtype np.result_type(a, b): out[i, j] = sum_p a[i, p] * b[p, j].

    Raises:
        TypeError, ValueError: from the given check.

    Hint: out = np.zeros((n, m), dtype=np.result_type(a, b)); add the products of one
    (i, j) into a running total, then store it.
    """
    _check_matrices(a, b, "matmul_loops")
    # Task loops: three loops, i over rows, j over columns, p innermost.
    ### BEGIN SOLUTION
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m), dtype=np.result_type(a, b))
    for i in range(n):
        for j in range(m):
            total = 0.0
            for p in range(k):
                total += a[i, p] * b[p, j]  # a row of a, a column of b
            out[i, j] = total
    return out
    ### END SOLUTION


# %% [markdown]
# ### Test `loops`

# %% kind="test" id="test_loops" points=2
a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
b = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]], dtype=np.float32)
out = matmul_loops(a, b)
assert isinstance(out, np.ndarray) and out.dtype == np.float32, (
    f"matmul_loops of two float32 arrays should return a float32 array "
    f"(np.result_type(a, b)), got {type(out).__name__} {getattr(out, 'dtype', '')}."
)
assert_array(out, [[7.0, -1.0], [16.0, -1.0]], "matmul_loops((2, 3) @ (3, 2))")
rng = np.random.default_rng(16)
a, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
assert_array(matmul_loops(a, b), a @ b, "matmul_loops((5, 3) @ (3, 4)) of float64 arrays")

A, B, log = spy_matrices([[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]])
out = matmul_loops(A, B)
assert check_close(out, [[19.0, 22.0], [43.0, 50.0]]), (
    f"matmul_loops on arrays of recording numbers should still give [[19, 22], [43, 50]], "
    f"got {out}."
)
assert log == loop_log(2, 2, 2, "ijp"), (
    f"The products should come in the order i, j, p (p innermost), one at a time:\n"
    f"expected {loop_log(2, 2, 2, 'ijp')}\ngot      {log}\n(each entry names the element of a "
    "and the element of b multiplied). Did you swap two loops, or convert the inputs?"
)
err = raised(lambda: matmul_loops(np.ones((2, 3)), np.ones((2, 3))))
assert isinstance(err, ValueError), "(2, 3) @ (2, 3) should raise ValueError (the given check)."

### BEGIN HIDDEN TESTS
# hidden: awkward shapes give a @ b, float32 in float32
rng = np.random.default_rng(1601)
a = rng.standard_normal((65, 33)).astype(np.float32)
b = rng.standard_normal((33, 17)).astype(np.float32)
before = (a.copy(), b.copy())
out = matmul_loops(a, b)
assert isinstance(out, np.ndarray) and out.shape == (65, 17), "an (n, m) array"
assert out.dtype == np.float32, "float32 inputs give float32"
assert check_close(out, as_float64(a) @ as_float64(b), rtol=1e-4, atol=1e-5), "the product"
assert check_equal(a, before[0]) and check_equal(b, before[1]), "the inputs are left unchanged"
# hidden: float64 inputs give an exact float64 product; vectors as matrices
for shape_a, shape_b in (((4, 7), (7, 3)), ((1, 5), (5, 1)), ((6, 1), (1, 4)), ((1, 1), (1, 1))):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out = matmul_loops(a, b)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64, "float64 inputs give float64"
    assert check_close(out, a @ b, rtol=1e-12, atol=1e-12), "the product of other shapes"
# hidden: mixed float32 and float64 inputs give float64, whichever comes first
for first, second in ((np.float32, np.float64), (np.float64, np.float32)):
    a = rng.standard_normal((3, 4)).astype(first)
    b = rng.standard_normal((4, 2)).astype(second)
    out = matmul_loops(a, b)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64, "np.result_type(a, b)"
    assert check_close(out, as_float64(a) @ as_float64(b), rtol=1e-6, atol=1e-7), "mixed inputs"
# hidden: the products run in the order i, j, p, one at a time
for n, k, m in ((3, 4, 2), (2, 1, 3), (1, 3, 1)):
    A, B, log = spy_matrices(rng.standard_normal((n, k)), rng.standard_normal((k, m)))
    out = matmul_loops(A, B)
    assert log == loop_log(n, k, m, "ijp"), "loops i, j, p, p innermost"
    assert check_close(out, as_float64(A) @ as_float64(B), rtol=1e-12), "the sums of the products"
# hidden: inputs that are not matrices raise
for bad in (
    lambda: matmul_loops(np.ones((2, 3)), np.ones((4, 2))),
    lambda: matmul_loops(np.ones(3), np.ones((3, 2))),
):
    assert isinstance(raised(bad), ValueError), "shapes that do not multiply raise ValueError"
assert isinstance(raised(lambda: matmul_loops([[1.0]], [[1.0]])), TypeError), (
    "lists raise TypeError"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `ikj`: reorder the loops, and let the inner loop be one vector operation (2 points)
#
# Swap the two inner loops and nothing about the arithmetic changes: $C_{ij}$ still receives
# the same $k$ products, only in another order relative to the other entries. But now the
# innermost loop runs over $j$ with $i$ and $p$ fixed: it reads **row** $p$ of $B$ and
# updates **row** $i$ of $C$, both contiguous, with the same factor $A_{ip}$. That whole loop
# is one NumPy operation, `out[i, :] += a[i, p] * b[p, :]` (an "axpy": a times x plus y),
# which NumPy runs in compiled code with vector instructions. The Python loops shrink from
# $nkm$ steps to $nk$.
#
# In a compiled language the same swap matters through the cache alone: the i, j, p order
# reads $B$ down its columns, a new cache line for every number once the matrix outgrows
# the cache. In Python the interpreter's cost per step hides that: reordering the
# triple loop without vectorising its inner loop changes almost nothing (the systems
# analysis measures it). The reorder pays here because it makes the inner loop contiguous,
# and contiguous loops are what vector instructions and NumPy can take over.
#
# Contract of `matmul_ikj(a, b)`:
#
# - the same inputs, output, dtype and errors as `matmul_loops`;
# - two Python loops, `i` over the rows of `a` (outer) and `p` over the inner dimension
#   (inner); inside, **one** vector operation adds `a[i, p]` times row `p` of `b` to row `i`
#   of `out`. The products then come in the order i, p, j, which the tests check with
#   recording numbers as before: use only `+` and `*` (no `astype`, no `@`).


# %% kind="solution" id="ikj" export=true
def matmul_ikj(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b with loops i and p; each row update out[i] += a[i, p] * b[p] one vector operation.

    Args:
        a: (n, k) array; b: (k, m) array.

    Returns:
        a new (n, m) array of dtype np.result_type(a, b).

    Raises:
        TypeError, ValueError: from the given check.

    Hint: out[i] is a view of row i of out: `out[i] += ...` updates out in place.
    """
    _check_matrices(a, b, "matmul_ikj")
    # Task ikj: loops i then p; the j loop is one row operation on out[i].
    ### BEGIN SOLUTION
    n, k = a.shape
    out = np.zeros((n, b.shape[1]), dtype=np.result_type(a, b))
    for i in range(n):
        row = out[i]  # a view: the row of out every step of the p loop updates
        for p in range(k):
            row += a[i, p] * b[p]  # a number times a contiguous row of b
    return out
    ### END SOLUTION


# %% [markdown]
# ### Test `ikj`

# %% kind="test" id="test_ikj" points=2
a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
b = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]], dtype=np.float32)
out = matmul_ikj(a, b)
assert isinstance(out, np.ndarray) and out.dtype == np.float32, (
    f"matmul_ikj of two float32 arrays should return a float32 array, got "
    f"{type(out).__name__} {getattr(out, 'dtype', '')}."
)
assert_array(out, [[7.0, -1.0], [16.0, -1.0]], "matmul_ikj((2, 3) @ (3, 2))")

A, B, log = spy_matrices([[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]])
out = matmul_ikj(A, B)
assert check_close(out, [[19.0, 22.0], [43.0, 50.0]]), (
    f"matmul_ikj on arrays of recording numbers should still give [[19, 22], [43, 50]], got {out}."
)
assert log == loop_log(2, 2, 2, "ipj"), (
    f"The products should come in the order i, p, j (one row of b at a time):\n"
    f"expected {loop_log(2, 2, 2, 'ipj')}\ngot      {log}\nThe outer loop runs over the rows "
    "of a, the inner one over the inner dimension p; each step updates a whole row of out."
)
err = raised(lambda: matmul_ikj(np.ones((3, 2)), np.ones((3, 2))))
assert isinstance(err, ValueError), "(3, 2) @ (3, 2) should raise ValueError (the given check)."

### BEGIN HIDDEN TESTS
# hidden: awkward shapes give a @ b, float32 in float32
rng = np.random.default_rng(1602)
a = rng.standard_normal((65, 33)).astype(np.float32)
b = rng.standard_normal((33, 17)).astype(np.float32)
before = (a.copy(), b.copy())
out = matmul_ikj(a, b)
assert isinstance(out, np.ndarray) and out.shape == (65, 17), "an (n, m) array"
assert out.dtype == np.float32, "float32 inputs give float32"
assert check_close(out, as_float64(a) @ as_float64(b), rtol=1e-4, atol=1e-5), "the product"
assert check_equal(a, before[0]) and check_equal(b, before[1]), "the inputs are left unchanged"
# hidden: float64 inputs give an exact float64 product; vectors as matrices
for shape_a, shape_b in (((4, 7), (7, 3)), ((1, 5), (5, 1)), ((6, 1), (1, 4)), ((1, 1), (1, 1))):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out = matmul_ikj(a, b)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64, "float64 inputs give float64"
    assert check_close(out, a @ b, rtol=1e-12, atol=1e-12), "the product of other shapes"
# hidden: mixed float32 and float64 inputs give float64, whichever comes first
for first, second in ((np.float32, np.float64), (np.float64, np.float32)):
    a = rng.standard_normal((3, 4)).astype(first)
    b = rng.standard_normal((4, 2)).astype(second)
    out = matmul_ikj(a, b)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64, "np.result_type(a, b)"
    assert check_close(out, as_float64(a) @ as_float64(b), rtol=1e-6, atol=1e-7), "mixed inputs"
# hidden: the products run in the order i, p, j
for n, k, m in ((3, 4, 2), (2, 1, 3), (1, 3, 1), (2, 3, 4)):
    A, B, log = spy_matrices(rng.standard_normal((n, k)), rng.standard_normal((k, m)))
    out = matmul_ikj(A, B)
    assert log == loop_log(n, k, m, "ipj"), "loops i, p, then a row operation over j"
    assert check_close(out, as_float64(A) @ as_float64(B), rtol=1e-12), "the sums of the products"
# hidden: inputs that are not matrices raise
for bad in (
    lambda: matmul_ikj(np.ones((2, 3)), np.ones((4, 2))),
    lambda: matmul_ikj(np.ones((2, 2, 2)), np.ones((2, 2))),
):
    assert isinstance(raised(bad), ValueError), "shapes that do not multiply raise ValueError"
assert isinstance(raised(lambda: matmul_ikj(Tensor([[1.0]]), np.ones((1, 1)))), TypeError), (
    "a Tensor raises TypeError"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `tiled`: a blocked product, tile by tile (4 points)
#
# Even with its inner loop vectorised, the order i, p, j reads too much memory for a fast
# processor. Count the traffic at $n = k = m = 1024$ in float32: each of the 1,024 rows of
# $C$ streams **all** of $B$ (4 MB) through the processor once, 4 GB in all, for 2.1 GFLOP:
# half a FLOP per byte. On the course machine a matrix product ran at up to 100 GFLOP/s
# while main memory delivered 8 to 14 GB/s (timed with a large `np.copyto`): ten FLOPs or
# more for every byte. A loop that needs a byte for every half FLOP would leave the
# processor waiting nineteen times out of twenty.
#
# The cure is **reuse**. Cut the three matrices into square **tiles** of $t \times t$ and
# compute the product tile by tile: output tile $(I, J)$ is the sum over $P$ of the tile
# products $A_{IP} B_{PJ}$. One tile product does $2t^3$ FLOPs on three tiles of $t^2$
# numbers ($12 t^2$ bytes in float32):
#
# $$\text{arithmetic intensity of a tile} = \frac{2 t^3 \text{ FLOPs}}{12\, t^2 \text{ bytes}}
#   = \frac{t}{6} \ \text{FLOPs per byte}.$$
#
# Bigger tiles reuse every number they load more times, as long as the three tiles still
# fit in a cache (three $64 \times 64$ float32 tiles are 48 KB). This is what every fast
# matrix library does, at several levels at once (registers, first- and second-level
# cache), with vector instructions and carefully packed copies of the tiles inside:
# NumPy's BLAS is such a library.
#
# ```
#          p0   p0+t                j0   j0+t                 j0  j0+t
#   i0  ┌──┬──┬──┬─┐          p0  ┌──┬──┬─┐            i0  ┌──┬──┬─┐
#       │A │IP│  │ │              │  │B │ │                │  │C │ │   C[i0:i0+t, j0:j0+t]
#  i0+t ├──┼──┼──┼─┤    @    p0+t ├──┼──┼─┤     =     i0+t ├──┼──┼─┤     += kernel(A_IP, B_PJ)
#       │  │  │  │ │              │  │PJ│ │                │  │IJ│ │     for every p0
#       └──┴──┴──┴─┘              ├──┼──┼─┤                └──┴──┴─┘
#        ragged last tile ─────┘  └──┴──┴─┘   (edges: shorter tiles)
# ```
#
# In this notebook each tile product is handed to a **kernel**: a function of two blocks
# that returns their product. The default kernel is `np.matmul` (BLAS on a small block); the
# tests pass kernels that record every block they receive, which is how they know that your
# tiles are real, and the systems analysis passes your `matmul_ikj`. In Python, the tile size
# also sets how much work each Python-level step hands over: $(n/t)^3$ kernel calls, each of
# $2t^3$ FLOPs.
#
# Contract of `matmul_tiled(a, b, tile_size=32, kernel=None)`:
#
# - `a` $(n, k)$ and `b` $(k, m)$ as before; `tile_size` a whole number $\ge 1$ (the given
#   `_check_tile` raises otherwise); `kernel` a function `kernel(a_block, b_block)` that
#   returns the product of its two blocks (its result may be float64); `None` means
#   `np.matmul` (given);
# - returns a new array `out` $(n, m)$ of dtype `np.result_type(a, b)`, equal to `a @ b`;
# - three loops over the tile corners, `i0` over `range(0, n, tile_size)` (outermost), then
#   `j0` over `range(0, m, tile_size)`, then `p0` over `range(0, k, tile_size)` (innermost);
#   for each corner, **one** kernel call on the blocks `a[i0:i0+t, p0:p0+t]` and
#   `b[p0:p0+t, j0:j0+t]` ($t$ = `tile_size`), whose result is **added** into
#   `out[i0:i0+t, j0:j0+t]`. Slices past the end of a matrix are simply shorter (NumPy
#   clips them), so the last tiles of an awkward shape are smaller: no padding;
# - the kernel is called exactly once per tile, in that order, and `out` is made only from
#   its results (a kernel that returns its product plus 1 must leave every entry of `out`
#   larger by the number of `p0` tiles). `a` and `b` are not modified.


# %% kind="solution" id="tiled" export=true
def matmul_tiled(
    a: np.ndarray,
    b: np.ndarray,
    tile_size: int = 32,
    kernel: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """a @ b computed tile by tile: every tile product goes through kernel.

    Args:
        a: (n, k) array; b: (k, m) array.
        tile_size: t, the side of the square tiles (the last tiles of a side are shorter).
        kernel: kernel(a_block, b_block) -> their product; None means np.matmul.

    Returns:
        a new (n, m) array of dtype np.result_type(a, b), equal to a @ b.

    Raises:
        TypeError, ValueError: from the given checks.

    Hint: out[i0:i0 + t, j0:j0 + t] is a view; `view += kernel(...)` adds into out.
    """
    _check_matrices(a, b, "matmul_tiled")
    _check_tile(tile_size, "matmul_tiled")
    if kernel is None:
        kernel = np.matmul
    # Task tiled: corners i0, j0, p0 (p0 innermost); add kernel(A block, B block) into out.
    ### BEGIN SOLUTION
    n, k = a.shape
    m = b.shape[1]
    t = tile_size
    out = np.zeros((n, m), dtype=np.result_type(a, b))
    for i0 in range(0, n, t):
        for j0 in range(0, m, t):
            block = out[i0 : i0 + t, j0 : j0 + t]  # (<= t, <= t), a view of out
            for p0 in range(0, k, t):
                block += kernel(a[i0 : i0 + t, p0 : p0 + t], b[p0 : p0 + t, j0 : j0 + t])
    return out
    ### END SOLUTION


# %% [markdown]
# ### Test `tiled`

# %% kind="test" id="test_tiled" points=4
rng = np.random.default_rng(160)
a = rng.standard_normal((5, 4)).astype(np.float32)
b = rng.standard_normal((4, 3)).astype(np.float32)
kernel, calls = tile_recorder()
out = matmul_tiled(a, b, tile_size=2, kernel=kernel)
assert len(calls) == 12, (
    f"(5, 4) @ (4, 3) in tiles of 2 has 3 x 2 x 2 = 12 tiles (rows 0-1, 2-3, 4; columns 0-1, "
    f"2; inner 0-1, 2-3): the kernel should be called 12 times, got {len(calls)}. Every tile "
    "product must go through the kernel."
)
assert tiles_match(calls, a, b, 2), (
    f"The kernel should receive a[i0:i0+2, p0:p0+2] and b[p0:p0+2, j0:j0+2] for the corners "
    f"(i0, j0, p0) in the order {tile_origins(5, 4, 3, 2)} (i outermost, p innermost); the "
    f"blocks received had shapes {[(c[0].shape, c[1].shape) for c in calls]}."
)
assert isinstance(out, np.ndarray) and out.dtype == np.float32, (
    f"matmul_tiled of float32 arrays should return float32 (np.result_type(a, b)), got "
    f"{getattr(out, 'dtype', type(out).__name__)}."
)
assert_array(out, as_float64(a) @ as_float64(b), "matmul_tiled((5, 4) @ (4, 3), tile_size=2)")

kernel, calls = tile_recorder(offset=1.0)
out = matmul_tiled(a, b, tile_size=2, kernel=kernel)
assert_array(
    out,
    as_float64(a) @ as_float64(b) + 2.0,
    "With a kernel that returns its product plus 1, every entry of out should be 2 larger "
    "(two tiles along the inner dimension, each adding its kernel's result)",
)
assert_array(
    matmul_tiled(a, b),
    as_float64(a) @ as_float64(b),
    "matmul_tiled(a, b) with the default tile_size and kernel (np.matmul)",
)
kernel, calls = tile_recorder()
matmul_tiled(a, b, tile_size=8, kernel=kernel)
assert len(calls) == 1 and tiles_match(calls, a, b, 8), (
    f"A tile larger than the matrices is one tile: one kernel call on the whole of a and b, "
    f"got {len(calls)} calls."
)
err = raised(lambda: matmul_tiled(a, b, tile_size=0))
assert isinstance(err, ValueError), "tile_size=0 should raise ValueError (the given check)."

### BEGIN HIDDEN TESTS
# hidden: awkward shapes are cut into ragged tiles, visited in the order i, j, p
rng = np.random.default_rng(1603)
for (n, k, m), tile in (((65, 33, 17), 16), ((7, 5, 9), 3), ((3, 2, 3), 1), ((1, 6, 1), 4)):
    a = rng.standard_normal((n, k)).astype(np.float32)
    b = rng.standard_normal((k, m)).astype(np.float32)
    before = (a.copy(), b.copy())
    kernel, calls = tile_recorder()
    out = matmul_tiled(a, b, tile_size=tile, kernel=kernel)
    assert tiles_match(calls, a, b, tile), "one kernel call per tile, blocks and order exact"
    assert all(c[0].shape[0] <= tile and c[0].shape[1] <= tile for c in calls), "tiles <= tile_size"
    assert isinstance(out, np.ndarray) and out.shape == (n, m), "an (n, m) array"
    assert out.dtype == np.float32, "float32 inputs give float32"
    assert check_close(out, as_float64(a) @ as_float64(b), rtol=1e-4, atol=1e-5), "the product"
    assert check_equal(a, before[0]) and check_equal(b, before[1]), "the inputs are unchanged"
# hidden: out is made only from the kernel's results, added over the inner tiles
a, b = rng.standard_normal((9, 10)), rng.standard_normal((10, 6))
for tile, inner in ((4, 3), (5, 2), (10, 1), (3, 4)):
    kernel, calls = tile_recorder(offset=0.5)
    out = matmul_tiled(a, b, tile_size=tile, kernel=kernel)
    assert check_close(out, a @ b + 0.5 * inner, rtol=1e-12, atol=1e-12), (
        "each entry receives one kernel result per inner tile"
    )
# hidden: the default kernel gives a @ b, float64 in float64, for any tile size
for tile in (1, 2, 7, 32, 64, np.int64(5)):
    out = matmul_tiled(a, b, tile_size=tile)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64, "float64 inputs give float64"
    assert check_close(out, a @ b, rtol=1e-12, atol=1e-12), "the default kernel multiplies"
out = matmul_tiled(rng.standard_normal((70, 40)), rng.standard_normal((40, 50)))
assert out.shape == (70, 50), "the default tile size covers larger matrices"
# hidden: mixed float32 and float64 inputs give float64, whichever comes first
for first, second in ((np.float32, np.float64), (np.float64, np.float32)):
    x = rng.standard_normal((5, 6)).astype(first)
    y = rng.standard_normal((6, 7)).astype(second)
    out = matmul_tiled(x, y, tile_size=4)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64, "np.result_type(a, b)"
    assert check_close(out, as_float64(x) @ as_float64(y), rtol=1e-6, atol=1e-7), "mixed inputs"
# hidden: bad tiles and shapes raise
for bad, kind in (
    (lambda: matmul_tiled(a, b, tile_size=-2), ValueError),
    (lambda: matmul_tiled(a, b, tile_size=2.5), TypeError),
    (lambda: matmul_tiled(a, b, tile_size=True), TypeError),
    (lambda: matmul_tiled(a, a), ValueError),
):
    assert isinstance(raised(bad), kind), "the given checks raise for bad tiles and shapes"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `tiled_grad`: gradients through the tiled product (2 points)
#
# An accelerated operation that drops the gradient is useless for training. The tiled
# product becomes an autograd `Function` (Module 05) like any other, and its backward pass
# consists of products too, which should be just as fast: for $C = A B$ with upstream
# gradient $G = \partial L / \partial C$,
#
# $$\frac{\partial L}{\partial A} = G\, B^\top \quad (n \times m)(m \times k), \qquad
#   \frac{\partial L}{\partial B} = A^\top G \quad (k \times n)(n \times m).$$
#
# Training costs three products per product: the forward and these two. All three go
# through `matmul_tiled` with the same tile size and kernel (`b.T` and `a.T` are views: no
# copies).
#
# Contract of `TiledMatMul` (used as `TiledMatMul.apply(a, b, tile_size=32, kernel=None)`,
# or through the given `tiled_matmul(a, b, tile_size, kernel)`):
#
# - `forward(ctx, a, b, tile_size=32, kernel=None)`: `a` $(n, k)$ and `b` $(k, m)$ arrays;
#   returns `matmul_tiled(a, b, tile_size, kernel)`; saves `a` and `b` with
#   `ctx.save_for_backward`, and the tile size and kernel as attributes of `ctx`;
# - `backward(ctx, grad_output)`: returns `(grad_a, grad_b)`, both computed by
#   `matmul_tiled` with the saved tile size and kernel: `grad_output @ b.T` and
#   `a.T @ grad_output`, of the shapes of `a` and `b`.


# %% kind="solution" id="tiled_grad" export=true
class TiledMatMul(Function):
    """a @ b for two matrices, tile by tile (matmul_tiled), forward and backward."""

    @staticmethod
    def forward(
        ctx: Context,
        a: np.ndarray,
        b: np.ndarray,
        tile_size: int = 32,
        kernel: Callable | None = None,
    ) -> np.ndarray:
        """matmul_tiled(a, b, tile_size, kernel); saves a, b, the tile size and the kernel."""
        # Task tiled_grad: save what backward needs, then the tiled product.
        ### BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        ctx.tile_size, ctx.kernel = tile_size, kernel
        return matmul_tiled(a, b, tile_size, kernel)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(grad_output @ b.T, a.T @ grad_output), each by matmul_tiled with the saved tiles."""
        # Task tiled_grad: both gradients are tiled products.
        ### BEGIN SOLUTION
        a, b = ctx.saved_tensors
        grad_a = matmul_tiled(grad_output, b.T, ctx.tile_size, ctx.kernel)  # (n, m) @ (m, k)
        grad_b = matmul_tiled(a.T, grad_output, ctx.tile_size, ctx.kernel)  # (k, n) @ (n, m)
        return grad_a, grad_b
        ### END SOLUTION


# %% kind="locked" id="tiled_matmul" export=true
def tiled_matmul(
    a: Tensor, b: Tensor, tile_size: int = 32, kernel: Callable | None = None
) -> Tensor:
    """a @ b for two 2-D Tensors, tile by tile, with gradients (TiledMatMul)."""
    return TiledMatMul.apply(a, b, tile_size=tile_size, kernel=kernel)


# %% [markdown]
# ### Test `tiled_grad`

# %% kind="test" id="test_tiled_grad" points=2
rng = np.random.default_rng(161)
a64, b64 = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
upstream = rng.standard_normal((5, 3))
out, grads = run_function(TiledMatMul, [a64, b64], upstream, tile_size=2)
assert_array(out, a64 @ b64, "TiledMatMul.forward((5, 4) @ (4, 3), tile_size=2)")
numeric = numerical_gradients(lambda x, y: x @ y, [a64, b64], upstream)
for got, expected, name in zip(grads, numeric, ("a", "b"), strict=True):
    assert_array(
        got,
        expected,
        f"TiledMatMul.backward: the gradient of {name} (compared with "
        "central differences): grad_output @ b.T and a.T @ grad_output",
        rtol=1e-5,
    )

kernel, calls = tile_recorder()
a, b = leaf(a64), leaf(b64)
out = tiled_matmul(a, b, tile_size=2, kernel=kernel)
forward_calls = len(calls)
out.backward(upstream)
assert forward_calls == 12 and len(calls) == 36, (
    f"With tile_size=2 and a recording kernel, the forward (5, 4) @ (4, 3) makes 12 tile "
    f"products and the backward 12 more for each gradient ((5, 3) @ (3, 4) and (4, 5) @ "
    f"(5, 3)): 12 then 36 kernel calls in all; got {forward_calls} and {len(calls)}. The "
    "backward should use matmul_tiled with the saved tile size and kernel."
)
assert_tensor(out, a64 @ b64, "tiled_matmul(a, b, 2, kernel)", atol=1e-5)
assert_grad(a, numeric[0], "tiled_matmul: a.grad after out.backward(upstream)")
assert_grad(b, numeric[1], "tiled_matmul: b.grad after out.backward(upstream)")

### BEGIN HIDDEN TESTS
# hidden: gradients of awkward shapes match central differences
rng = np.random.default_rng(1604)
for (n, k, m), tile in (((13, 7, 5), 3), ((6, 1, 4), 2), ((1, 9, 1), 4), ((8, 8, 8), 8)):
    x, y, up = rng.standard_normal((n, k)), rng.standard_normal((k, m)), rng.standard_normal((n, m))
    out, grads = run_function(TiledMatMul, [x, y], up, tile_size=tile)
    assert check_close(out, x @ y, rtol=1e-10, atol=1e-12), "the forward product"
    numeric = numerical_gradients(lambda p, q: p @ q, [x, y], up)
    for got, expected in zip(grads, numeric, strict=True):
        assert isinstance(got, np.ndarray) and got.shape == expected.shape, (
            "each gradient has its input's shape"
        )
        assert check_close(got, expected, rtol=1e-5, atol=1e-7), "the gradients of a and b"
# hidden: the backward products go through the kernel, tile by tile
x, y, up = rng.standard_normal((7, 5)), rng.standard_normal((5, 6)), rng.standard_normal((7, 6))
kernel, calls = tile_recorder(offset=1.0)
out, (ga, gb) = run_function(TiledMatMul, [x, y], up, tile_size=3, kernel=kernel)
assert check_close(out, x @ y + 2.0, rtol=1e-10), "the forward adds the kernel's results"
assert check_close(ga, up @ y.T + 2.0, rtol=1e-10), "grad_a = grad_output @ b.T, tiled"
assert check_close(gb, x.T @ up + 3.0, rtol=1e-10), "grad_b = a.T @ grad_output, tiled"
assert len(calls) == 3 * 3 * 2 * 2, "one kernel call per tile in the forward and both gradients"
assert all(max(c[0].shape + c[1].shape) <= 3 for c in calls), "the backward uses the tile size"
# hidden: through Tensors, float32 values and gradients reach both inputs
x, y = leaf(rng.standard_normal((9, 4))), leaf(rng.standard_normal((4, 11)))
out = tiled_matmul(x, y, tile_size=4)
assert isinstance(out, Tensor) and out.requires_grad, "the result records the graph"
up = rng.standard_normal((9, 11))
out.backward(up)
assert_tensor(out, as_float64(x.data) @ as_float64(y.data), "float32 product", atol=1e-5)
assert check_close(x.grad, up @ as_float64(y.data).T, rtol=1e-4, atol=1e-5), "x.grad"
assert check_close(y.grad, as_float64(x.data).T @ up, rtol=1e-4, atol=1e-5), "y.grad"
# hidden: the default tile size and kernel work in both directions
out, (ga, gb) = run_function(TiledMatMul, [x.data, y.data], up)
assert check_close(ga, up @ as_float64(y.data).T, rtol=1e-10), "default kernel, grad_a"
assert check_close(gb, as_float64(x.data).T @ up, rtol=1e-10), "default kernel, grad_b"
### END HIDDEN TESTS

# %% [markdown]
# # Part 2: fused element-wise operations
#
# Module 15's hotspot table put GELU at 10 to 20% of a training step, for a handful of FLOPs
# per number. Module 02's GELU is one line of NumPy,
#
# $$\text{GELU}(x) = \tfrac12\, x \left(1 + \tanh\!\big(\sqrt{2/\pi}\,(x + 0.044715\,
#   x^3)\big)\right),$$
#
# and that line runs as nine separate NumPy operations (`x * x`, `* x`, `0.044715 *`,
# `x +`, `sqrt(2/pi) *`, `tanh`, `1 +`, `0.5 * x`, the last `*`). Each one reads one or two
# whole arrays and **allocates a new one** for its result: for the $(16, 64, 256)$ hidden
# layer of the GPT's MLP, a megabyte each. NumPy frees each temporary once the next
# operation has used it, and reuses some of them on its own, but a fresh megabyte from the
# allocator can mean fresh pages from the operating system, each zeroed and mapped on first
# touch. `gelu_unfused` below (given) is that one line, kept for comparison; measured with
# `tracemalloc`, it holds **three** arrays of $x$'s size at its peak.
#
# Element-wise operations have an arithmetic intensity near zero: a few FLOPs for every 8
# bytes read and written. Their speed is the speed of memory, so the way to make them
# faster is to touch less memory. Two tools, both in NumPy:
#
# - **`out=` buffers.** Every NumPy ufunc takes an `out=` argument: `np.multiply(x, x,
#   out=buf)` writes into `buf` instead of allocating, and `buf *= 3` is
#   `np.multiply(buf, 3, out=buf)`. A chain of such steps computes the whole formula
#   inside one buffer: the output. Nothing else of $x$'s size is ever allocated;
# - **rewriting the formula** so that it fits one buffer: $x + 0.044715\,x^3 =
#   x\,(1 + 0.044715\,x^2)$ needs $x^2$ only once, and every step then reads the buffer and
#   at most $x$.
#
# ```
#   out = x * x;  out *= 0.044715;  out += 1;  out *= x      # x + 0.044715 x^3
#   out *= sqrt(2/pi);  tanh(out, out=out);  out += 1         # 1 + tanh(...)
#   out *= x;  out *= 0.5                                     # 0.5 x (1 + tanh(...))
# ```
#
# This is a **fusion** only in part. A compiled fused kernel (what PyTorch's compiler or a
# GPU kernel produces) reads $x$ once and writes the result once; our chain still makes nine
# passes over the buffer, each one a NumPy call. What it removes is the allocation of every
# temporary: the memory held, and the cost of getting fresh memory. The systems analysis
# measures how much time that saves, and at which sizes.
#
# Float32 stays float32 only if every constant is a Python float: NumPy 2 lets a Python
# float take the array's dtype, but a NumPy `float64` scalar (such as `np.sqrt(2 / np.pi)`)
# would make every step compute in float64 through hidden buffers. The given constants
# `GELU_A = 0.044715` and `GELU_C = math.sqrt(2 / math.pi)` are Python floats.


# %% kind="locked" id="gelu_unfused" export=true
def gelu_unfused(x: np.ndarray) -> np.ndarray:
    """Module 02's GELU on an array, as one line of NumPy: every step allocates its result."""
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + GELU_A * x * x * x)))


# %% [markdown]
# ## Task `gelu_fused`: GELU in one buffer (3 points)
#
# Contract of `gelu_fused(x, out=None)`:
#
# - `x` a floating-point NumPy array of any shape (0-d included) and any memory layout;
#   `out` either `None` or an array of `x`'s shape and dtype that does not overlap `x`
#   (the given `_check_gelu` raises `TypeError` or `ValueError` otherwise);
# - computes $\text{GELU}(x)$ with Module 02's formula (above) **inside `out`**: when `out` is
#   `None`, first `out = np.empty_like(x)` (the one allocation allowed); then only ufuncs
#   with `out=out` and in-place operators on `out` (`out *= ...`, `out += ...`,
#   `np.tanh(out, out=out)`), reading `x` and `out`. **No other array** of `x`'s size may be
#   created: the tests measure the peak memory of the call with `tracemalloc`, which must be
#   the result alone (or nothing, when `out` is given);
# - returns `out` (the same object when one was given), of `x`'s dtype: float32 stays
#   float32 (use the Python-float constants `GELU_A` and `GELU_C`). Within $10^{-6}$ of the
#   float64 formula for float32 inputs. `x` is not modified.


# %% kind="solution" id="gelu_fused" export=true
def gelu_fused(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """GELU(x) computed inside one buffer, out, with no temporary arrays.

    Args:
        x: a floating-point array of any shape; not modified.
        out: None, or an array of x's shape and dtype not overlapping x.

    Returns:
        out, holding 0.5 * x * (1 + tanh(GELU_C * (x + GELU_A * x^3))), of x's dtype.

    Raises:
        TypeError, ValueError: from the given check.

    Hint: x + GELU_A x^3 = x (1 + GELU_A x^2); start with np.multiply(x, x, out=out).
    """
    _check_gelu(x, out, "gelu_fused")
    # Task gelu_fused: allocate out if needed, then build the formula in it, step by step.
    ### BEGIN SOLUTION
    if out is None:
        out = np.empty_like(x)
    np.multiply(x, x, out=out)  # x^2
    out *= GELU_A
    out += 1
    out *= x  # x + A x^3
    out *= GELU_C
    np.tanh(out, out=out)
    out += 1
    out *= x
    out *= 0.5  # 0.5 x (1 + tanh(C (x + A x^3)))
    return out
    ### END SOLUTION


# %% [markdown]
# ### Test `gelu_fused`

# %% kind="test" id="test_gelu_fused" points=3
x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0], dtype=np.float32)
got = gelu_fused(x)
assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (7,), (
    f"gelu_fused of a float32 array (7,) should return a float32 array (7,), got "
    f"{type(got).__name__} {getattr(got, 'dtype', '')} {getattr(got, 'shape', '')}."
)
assert_array(
    got, gelu_reference(x), "gelu_fused([-3, -1, -0.5, 0, 0.5, 1, 3])", rtol=1e-6, atol=1e-6
)
assert check_equal(x, [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]), "gelu_fused should not modify x."
buffer = np.zeros(7, dtype=np.float32)
got = gelu_fused(x, out=buffer)
assert got is buffer, "gelu_fused(x, out=buffer) should return buffer itself (the result is in it)."
assert_array(
    buffer,
    gelu_reference(x),
    "gelu_fused(x, out=buffer): the values in buffer",
    rtol=1e-6,
    atol=1e-6,
)

big = np.random.default_rng(162).standard_normal(2**20).astype(np.float32)  # 4 MB
plain_peak, _ = peak_bytes(lambda: gelu_unfused(big))
fused_peak, result = peak_bytes(lambda: gelu_fused(big))
assert fused_peak < big.nbytes * 1.02 + 4096, (
    f"gelu_fused(x) of a 4 MB array should hold at most the 4 MB result at its peak, got "
    f"{fused_peak / 1e6:.1f} MB (gelu_unfused: {plain_peak / 1e6:.1f} MB). Some step "
    "allocates a temporary array: use out= or an in-place operator for every step."
)
buffer = np.empty_like(big)
given_peak, _ = peak_bytes(lambda: gelu_fused(big, out=buffer))
assert given_peak < big.nbytes / 8, (
    f"gelu_fused(x, out=buffer) should allocate no array of x's size, got a peak of "
    f"{given_peak / 1e6:.2f} MB for a 4 MB x."
)
assert_array(
    buffer, gelu_reference(big), "gelu_fused of 2**20 standard normal numbers", rtol=1e-6, atol=1e-6
)

### BEGIN HIDDEN TESTS
# hidden: float32 results are within 1e-6 of the float64 formula over a wide range
rng = np.random.default_rng(1605)
wide = np.linspace(-12, 12, 48001).astype(np.float32)
got, err = strict(lambda: gelu_fused(wide))
assert err is None and isinstance(got, np.ndarray) and got.dtype == np.float32, (
    "float32 stays float32"
)
assert check_close(got, gelu_reference(wide), rtol=1e-6, atol=1e-6), "within 1e-6 over [-12, 12]"
# hidden: float64 inputs give the formula to float64 precision
x64 = rng.standard_normal((4, 5, 6)) * 3
got = gelu_fused(x64)
assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (4, 5, 6), (
    "float64 in, float64 out, x's shape"
)
assert check_close(got, gelu_reference(x64), rtol=1e-12, atol=1e-14), "the float64 formula"
# hidden: large inputs give x and 0 without warnings; 0-d and non-contiguous inputs work
big_values = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32)
got, err = strict(lambda: gelu_fused(big_values))
assert err is None, "no overflow warning for inputs of size 1000"
assert check_close(got, [0.0, 0.0, 0.0, 50.0, 1000.0], atol=1e-6), (
    "GELU(1000) = 1000, GELU(-1000) = 0"
)
scalar = np.array(0.7)
assert check_close(gelu_fused(scalar), gelu_reference(0.7), rtol=1e-12), "a 0-d array"
grid = rng.standard_normal((6, 8)).astype(np.float32)
view = grid.T[::2]  # not contiguous
before = view.copy()
got = gelu_fused(view)
assert got.shape == (4, 6) and check_close(got, gelu_reference(before), rtol=1e-6, atol=1e-6), (
    "a non-contiguous view"
)
assert check_equal(view, before), "x is not modified"
# hidden: with out given, the result is written there and nothing of x's size is allocated
x32 = rng.standard_normal((512, 1024)).astype(np.float32)
buffer = np.full_like(x32, 7.0)
peak, got = peak_bytes(lambda: gelu_fused(x32, out=buffer))
assert got is buffer, "returns the buffer it was given"
assert peak < x32.nbytes / 8, "no temporary arrays when out is given"
assert check_close(buffer, gelu_reference(x32), rtol=1e-6, atol=1e-6), "the buffer holds GELU(x)"
x64 = rng.standard_normal(300_000)
peak, got = peak_bytes(lambda: gelu_fused(x64))
assert peak < x64.nbytes * 1.02 + 4096, "only the result is allocated (float64 too)"
assert check_close(got, gelu_reference(x64), rtol=1e-12, atol=1e-14), "float64 values"
# hidden: bad inputs and buffers raise
for bad, kind in (
    (lambda: gelu_fused([1.0, 2.0]), TypeError),
    (lambda: gelu_fused(np.arange(4)), TypeError),
    (lambda: gelu_fused(x32, out=np.empty((4,), np.float32)), ValueError),
    (lambda: gelu_fused(x32, out=np.empty_like(x32, dtype=np.float64)), ValueError),
    (lambda: gelu_fused(x32, out=x32), ValueError),
):
    assert isinstance(raised(bad), kind), "the given check rejects bad inputs and buffers"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `gelu_grad`: a lean backward pass (3 points)
#
# Module 05's `GELU` Function saves two arrays for its backward pass, $x$ and
# $t = \tanh(\dots)$, and its backward allocates about five arrays of $x$'s size. In a
# network, the saved arrays live from the forward pass until the backward pass: for every
# GELU of a model, the graph holds them all at once. Saving **only $x$** halves what GELU
# keeps, and $x$ is kept anyway (it is the output of the `Linear` before it). The price is
# recomputing $t$ in the backward pass: a few cheap passes over memory instead of a
# megabyte held for the whole step. Trading recomputation for memory is a standard move
# (called activation **recomputation** or **checkpointing** when whole layers are
# recomputed).
#
# The derivative, with $c = \sqrt{2/\pi}$, $a = 0.044715$, $u = c\,(x + a x^3)$ and
# $t = \tanh u$:
#
# $$\frac{d\,\text{GELU}}{dx} = \tfrac12\,(1 + t) + \tfrac12\, x\, (1 - t^2)\, c\,(1 + 3 a
#   x^2).$$
#
# Contract of `FusedGELU` (used as `FusedGELU.apply(x)`):
#
# - `forward(ctx, x)`: returns `gelu_fused(x)` (a new array); saves **only** `x`
#   (`ctx.save_for_backward(x)`): the tests check that nothing larger than $x$ is saved;
# - `backward(ctx, grad_output)`: returns `(grad_x,)`, `grad_output` times the derivative
#   above, of `x`'s shape and dtype (float32 stays float32: Python-float constants); it
#   recomputes $t$ from $x$ and may hold **at most three** arrays of $x$'s size at once, the
#   result included (the tests measure the peak with `tracemalloc`; Module 05's backward
#   holds five). `grad_output` and `x` are not modified.


# %% kind="solution" id="gelu_grad" export=true
class FusedGELU(Function):
    """GELU with gelu_fused forward; saves only x and recomputes tanh in backward."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        """gelu_fused(x); saves x alone."""
        # Task gelu_grad: save only x, then the fused GELU.
        ### BEGIN SOLUTION
        ctx.save_for_backward(x)  # the only array kept until backward
        return gelu_fused(x)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(grad_output * GELU'(x),) with tanh recomputed and at most three arrays of x's size.

        Hint: buffers t (for x^2, then tanh(u)), du (for c (1 + 3 a x^2)) and grad (for
        1 - t^2, then the result), each updated in place with out= and *=, +=.
        """
        # Task gelu_grad: recompute t = tanh(u) and du/dx in buffers, combine into grad.
        ### BEGIN SOLUTION
        (x,) = ctx.saved_tensors
        t = np.multiply(x, x)  # x^2
        du = np.multiply(t, 3 * GELU_A)
        du += 1
        du *= GELU_C  # du/dx = c (1 + 3 a x^2)
        t *= GELU_A
        t += 1
        t *= x
        t *= GELU_C
        np.tanh(t, out=t)  # t = tanh(c (x + a x^3)), recomputed
        grad = np.multiply(t, t)
        np.subtract(1, grad, out=grad)  # 1 - t^2
        grad *= du
        grad *= x  # x (1 - t^2) du/dx
        t += 1
        grad += t
        grad *= 0.5  # 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx
        grad *= grad_output
        return (grad,)
        ### END SOLUTION


# %% [markdown]
# **Given: the activation layer.** `FastGELU` is a drop-in replacement for Module 02's
# `GELU` activation: its forward applies your `FusedGELU`.


# %% kind="locked" id="fast_gelu" export=true
class FastGELU(Activation):
    """Module 02's GELU activation, computed by FusedGELU (fused forward, lean backward)."""

    def forward(self, x: Tensor) -> Tensor:
        return FusedGELU.apply(x)


# %% [markdown]
# ### Test `gelu_grad`

# %% kind="test" id="test_gelu_grad" points=3
rng = np.random.default_rng(163)
x64 = rng.standard_normal((3, 4)) * 2
upstream = rng.standard_normal((3, 4))
out, (grad,) = run_function(FusedGELU, [x64], upstream)
assert_array(out, gelu_reference(x64), "FusedGELU.forward(x) for x (3, 4)", rtol=1e-10)
numeric = numerical_gradients(gelu_reference, [x64], upstream)[0]
assert_array(
    grad,
    numeric,
    "FusedGELU.backward: the gradient of x compared with central differences",
    rtol=1e-5,
    atol=1e-8,
)

ctx = Context()
x32 = rng.standard_normal(2**18).astype(np.float32)  # 1 MB
FusedGELU.forward(ctx, x32)
saved = [s for s in ctx.saved_tensors if isinstance(s, np.ndarray)]
assert sum(s.nbytes for s in saved) <= x32.nbytes, (
    f"FusedGELU.forward should save only x (1 MB here), got {len(saved)} arrays of "
    f"{sum(s.nbytes for s in saved) / 1e6:.1f} MB: recompute tanh in backward instead."
)
g32 = rng.standard_normal(2**18).astype(np.float32)
peak, grad = peak_bytes(lambda: FusedGELU.backward(ctx, g32))
old_ctx = Context()
GELUFunction.forward(old_ctx, x32)
old_peak, _ = peak_bytes(lambda: GELUFunction.backward(old_ctx, g32))
assert isinstance(grad, tuple) and grad[0].dtype == np.float32, (
    "FusedGELU.backward should return a tuple holding a float32 gradient for float32 inputs."
)
assert_array(
    grad[0],
    gelu_grad_reference(x32) * g32,
    "FusedGELU.backward on 2**18 numbers",
    rtol=1e-5,
    atol=1e-5,
)
assert peak <= 3 * x32.nbytes + 65536, (
    f"FusedGELU.backward should hold at most three arrays of x's size at once (3 MB here), "
    f"got a peak of {peak / 1e6:.1f} MB (Module 05's GELU backward: {old_peak / 1e6:.1f} MB)."
)

x = leaf(x64)
y = FastGELU()(x)
assert_tensor(y, gelu_reference(x.data), "FastGELU()(x)", rtol=1e-6, atol=1e-6)
y.backward(upstream)
assert_grad(
    x, gelu_grad_reference(x.data) * upstream, "FastGELU: x.grad after y.backward(upstream)"
)

### BEGIN HIDDEN TESTS
# hidden: gradients of other shapes and ranges match central differences
rng = np.random.default_rng(1606)
for shape, scale in (((7,), 4.0), ((2, 3, 4), 1.0), ((1,), 1.5), ((5, 1), 0.3)):
    x = rng.standard_normal(shape) * scale
    up = rng.standard_normal(shape)
    out, (grad,) = run_function(FusedGELU, [x], up)
    assert check_close(out, gelu_reference(x), rtol=1e-10, atol=1e-14), "the forward values"
    numeric = numerical_gradients(gelu_reference, [x], up)[0]
    assert isinstance(grad, np.ndarray) and grad.shape == np.shape(x), "grad has x's shape"
    assert check_close(grad, numeric, rtol=1e-5, atol=1e-8), "the derivative of GELU"
# hidden: float32 stays float32; the inputs are not modified
x32 = (rng.standard_normal((64, 96)) * 3).astype(np.float32)
g32 = rng.standard_normal((64, 96)).astype(np.float32)
keep_x, keep_g = x32.copy(), g32.copy()
ctx = Context()
out = FusedGELU.forward(ctx, x32)
(grad,) = FusedGELU.backward(ctx, g32)
assert out.dtype == np.float32 and grad.dtype == np.float32, "float32 in, float32 out"
assert check_close(grad, gelu_grad_reference(x32) * g32, rtol=1e-5, atol=1e-5), "float32 gradient"
assert check_equal(x32, keep_x) and check_equal(g32, keep_g), "x and grad_output are unchanged"
# hidden: only x is saved, and backward holds at most three arrays of its size
x = rng.standard_normal(300_000)
ctx = Context()
peak, out = peak_bytes(lambda: FusedGELU.forward(ctx, x))
assert peak < x.nbytes * 1.02 + 4096, "the forward allocates only its result"
saved = [s for s in ctx.saved_tensors if isinstance(s, np.ndarray)]
assert sum(s.nbytes for s in saved) <= x.nbytes, "only x is saved"
g = rng.standard_normal(300_000)
peak, grads = peak_bytes(lambda: FusedGELU.backward(ctx, g))
assert peak <= 3 * x.nbytes + 65536, "backward holds at most three arrays of x's size"
assert check_close(grads[0], gelu_grad_reference(x) * g, rtol=1e-10, atol=1e-14), "the gradient"
# hidden: FastGELU inside an MLP gives Module 05's gradients
mlp = MLP(6, 24, rng=3)
twin = MLP(6, 24, rng=3)
twin.act = FastGELU()
inputs = rng.standard_normal((2, 5, 6))
up = rng.standard_normal((2, 5, 6))
outs = []
for model in (mlp, twin):
    x = leaf(inputs)
    y = model(x)
    y.backward(up)
    outs.append((y.data, x.grad, model.fc1.weight.grad))
for mine, theirs in zip(outs[1], outs[0], strict=True):
    assert check_close(mine, theirs, rtol=1e-4, atol=1e-5), "an MLP with FastGELU learns the same"
### END HIDDEN TESTS

# %% [markdown]
# # Part 3: batching attention
#
# A GPT's attention layer runs many small products: for every sequence of the batch and
# every head, $(T \times d_{\text{head}}) @ (d_{\text{head}} \times T)$ for the scores and
# $(T \times T) @ (T \times d_{\text{head}})$ for the weighted values, with $d_{\text{head}} =
# 16$ in the Shakespeare GPT. A product that small is over before the machinery around it
# has warmed up: in Python, the cost of one call (a few microseconds) is of the order of
# its arithmetic. So the rule is to **batch**: hand the library one call that contains all
# the small products, and let it loop in compiled code.
#
# Module 12 already does this for the heads: `split_heads` makes $(B, H, T, d_{\text{head}})$
# arrays, and one 4-D `Q @ K.transpose()` computes the scores of all $B \cdot H$ heads at
# once (the systems analysis measures it against a Python loop over the heads). This part
# batches further, in two places Module 15's profile pointed at.
#
# **The scores, in one operation.** Module 12 computes `scores = Q @ K.transpose()` and
# then `scores / sqrt(d_head)`: three graph nodes (`Transpose`, `MatMul`, `Div`). The
# division is the waste Module 15 found: `Div`'s backward also computes the gradient of
# the divisor, a full $(B, H, T, T)$ array multiplied and summed down to one number, for a
# constant that needs no gradient. One `Function` does it all: with $s = 1 /
# \sqrt{d_{\text{head}}}$,
#
# $$S = (s\,Q)\,K^\top, \qquad \frac{\partial L}{\partial Q} = s\; G K, \qquad
#   \frac{\partial L}{\partial K} = s\; G^\top Q,$$
#
# for every head in one batched product each (`np.matmul` treats all axes but the last two
# as a batch; `np.swapaxes(k, -1, -2)` is $K^\top$ for every head, a view). Scaling $Q$,
# $T \cdot d_{\text{head}}$ numbers per head, is cheaper than scaling the $T \cdot T$
# scores.
#
# ## Task `scaled_scores`: every head's scores in one product (3 points)
#
# Contract of `ScaledScores` (used as `ScaledScores.apply(q, k, scale=s)`, `scale` a
# keyword so that it stays a number):
#
# - `forward(ctx, q, k, scale=1.0)`: `q` $(\dots, T_q, d)$ and `k` $(\dots, T_k, d)$ arrays
#   with the same leading axes (the given `_check_scores` raises `ValueError` otherwise),
#   `scale` a Python float; returns the scores $(\dots, T_q, T_k)$, `(q * scale) @ kᵀ` over
#   the last two axes, as **one** batched `np.matmul` (no loop over the leading axes), in
#   `q`'s dtype; saves `q`, `k` and `scale`;
# - `backward(ctx, grad_output)`: returns `(grad_q, grad_k)`: `scale * grad_output @ k`
#   $(\dots, T_q, d)$ and `scale * grad_outputᵀ @ q` $(\dots, T_k, d)$, where ᵀ swaps the
#   last two axes; of the shapes of `q` and `k`. No gradient for `scale`: it is a keyword,
#   not an input. `q`, `k` and `grad_output` are not modified.


# %% kind="solution" id="scaled_scores" export=true
class ScaledScores(Function):
    """Attention scores of every head in one product: (q * scale) @ k^T over the last two axes."""

    @staticmethod
    def forward(ctx: Context, q: np.ndarray, k: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """(..., T_q, d), (..., T_k, d) -> (..., T_q, T_k); saves q, k and scale.

        Hint: np.swapaxes(k, -1, -2) is k^T for every head (a view, no copy).
        """
        _check_scores(q.shape, k.shape)
        # Task scaled_scores: save q, k and the scale; one batched product of the scaled q.
        ### BEGIN SOLUTION
        ctx.save_for_backward(q, k)
        ctx.scale = scale
        return np.matmul(q * scale, np.swapaxes(k, -1, -2))  # (..., T_q, T_k)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(scale * G @ k, scale * G^T @ q) for G = grad_output (..., T_q, T_k)."""
        # Task scaled_scores: the gradients of q and k, each one batched product.
        ### BEGIN SOLUTION
        q, k = ctx.saved_tensors
        grad_q = np.matmul(grad_output, k)  # (..., T_q, d)
        grad_q *= ctx.scale
        grad_k = np.matmul(np.swapaxes(grad_output, -1, -2), q)  # (..., T_k, d)
        grad_k *= ctx.scale
        return grad_q, grad_k
        ### END SOLUTION


# %% [markdown]
# ### Test `scaled_scores`

# %% kind="test" id="test_scaled_scores" points=3
q64 = np.array([[1.0, 2.0], [0.0, -1.0]])
k64 = np.array([[1.0, 0.0], [1.0, 1.0], [2.0, -1.0]])
out, _ = run_function(ScaledScores, [q64, k64], scale=0.5)
assert_array(
    out,
    [[0.5, 1.5, 0.0], [0.0, -0.5, 0.5]],
    "ScaledScores.forward(q (2, 2), k (3, 2), scale=0.5): (q * 0.5) @ k.T",
)
rng = np.random.default_rng(164)
q64, k64 = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4))
upstream = rng.standard_normal((2, 3, 5, 6))
out, grads = run_function(ScaledScores, [q64, k64], upstream, scale=0.5)
assert_array(
    out,
    q64 @ k64.transpose(0, 1, 3, 2) * 0.5,
    "ScaledScores.forward of (B, H, T_q, d) = "
    "(2, 3, 5, 4) queries and (2, 3, 6, 4) keys: every head's scores",
)
numeric = numerical_gradients(lambda q, k: q @ k.transpose(0, 1, 3, 2) * 0.5, [q64, k64], upstream)
for got, expected, name in zip(grads, numeric, ("q", "k"), strict=True):
    assert_array(
        got,
        expected,
        f"ScaledScores.backward: the gradient of {name} (central differences), for every head",
        rtol=1e-5,
    )

q, k = leaf(q64), leaf(k64)
scores = ScaledScores.apply(q, k, scale=0.5)
assert_tensor(
    scores, q64 @ k64.transpose(0, 1, 3, 2) * 0.5, "ScaledScores.apply(q, k, scale=0.5)", atol=1e-5
)
scores.backward(upstream)
assert_grad(q, numeric[0], "ScaledScores.apply: q.grad after backward")
assert_grad(k, numeric[1], "ScaledScores.apply: k.grad after backward")

### BEGIN HIDDEN TESTS
# hidden: scores of other ranks, lengths and scales match (q * s) @ k^T
rng = np.random.default_rng(1607)
for q_shape, k_shape, s in (
    ((4, 3), (7, 3), 1.0),
    ((2, 5, 8), (2, 3, 8), 0.25),
    ((1, 4, 1, 2), (1, 4, 9, 2), -1.5),
    ((3, 2, 6, 6), (3, 2, 6, 6), 1 / 6**0.5),
):
    q, k = rng.standard_normal(q_shape), rng.standard_normal(k_shape)
    up = rng.standard_normal(q_shape[:-1] + (k_shape[-2],))
    out, grads = run_function(ScaledScores, [q, k], up, scale=s)
    expected = np.matmul(q, np.swapaxes(k, -1, -2)) * s
    assert check_close(out, expected, rtol=1e-10, atol=1e-12), "the scaled scores of every head"
    numeric = numerical_gradients(
        lambda a, b, s=s: np.matmul(a, np.swapaxes(b, -1, -2)) * s, [q, k], up
    )
    for got, want in zip(grads, numeric, strict=True):
        assert isinstance(got, np.ndarray) and got.shape == want.shape, (
            "gradients of q's and k's shapes"
        )
        assert check_close(got, want, rtol=1e-5, atol=1e-8), "the gradients of q and k"
# hidden: the default scale is 1
q, k = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
out, (gq, gk) = run_function(ScaledScores, [q, k])
assert check_close(out, q @ k.T, rtol=1e-12), "scale=1 by default"
assert check_close(gq, np.ones((3, 5)) @ k, rtol=1e-12), "grad_q = G @ k"
# hidden: float32 stays float32 and nothing is modified in place
q32 = rng.standard_normal((2, 4, 8, 16)).astype(np.float32)
k32 = rng.standard_normal((2, 4, 8, 16)).astype(np.float32)
g32 = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
keep = (q32.copy(), k32.copy(), g32.copy())
ctx = Context()
out = ScaledScores.forward(ctx, q32, k32, scale=0.25)
grads = ScaledScores.backward(ctx, g32)
assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads), (
    "float32 stays float32"
)
assert all(check_equal(a, b) for a, b in zip((q32, k32, g32), keep, strict=True)), (
    "inputs unchanged"
)
# hidden: in a graph, the scores equal Module 12's Q @ K^T / sqrt(d) with the same gradients
q64, k64 = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2, 5, 4))
up = rng.standard_normal((2, 2, 5, 5))
results = []
for fused in (True, False):
    q, k = leaf(q64), leaf(k64)
    s = ScaledScores.apply(q, k, scale=0.5) if fused else q @ k.transpose() / 2.0
    s.backward(up)
    results.append((s.data, q.grad, k.grad))
for mine, theirs in zip(*results, strict=True):
    assert check_close(mine, theirs, rtol=1e-4, atol=1e-5), (
        "the same scores and gradients as Module 12"
    )
# hidden: mismatched queries and keys raise
for q_shape, k_shape in (((2, 3, 4), (3, 3, 4)), ((5, 4), (5, 3)), ((4,), (4,))):
    err = raised(
        lambda a=q_shape, b=k_shape: ScaledScores.forward(Context(), np.ones(a), np.ones(b))
    )
    assert isinstance(err, ValueError), "the given check rejects mismatched shapes"
### END HIDDEN TESTS

# %% [markdown]
# **The projections, in one product.** An attention layer starts with three `Linear` layers
# on the same input: `q_proj(x)`, `k_proj(x)`, `v_proj(x)`, three products
# $(B T \times d) @ (d \times d)$ and three bias additions, and in the backward pass three
# products for the gradient of $x$ (added up) and three for the weights. Placed side by
# side, the three weight matrices are one $(d \times 3d)$ matrix, and **one** product
# $(B T \times d) @ (d \times 3d)$ computes all of $Q$, $K$ and $V$, for every head: the same
# FLOPs in one call instead of three, with a wider matrix for BLAS to work on. PyTorch's own
# attention layer stores one `in_proj_weight` of shape $(3d, d)$ for exactly this reason.
#
# Our layers keep their three separate parameters (the optimizer, Module 15's parameter
# counts and Module 14's cache all use them), so the product needs two differentiable
# helpers, given below:
#
# - `Concat.apply(*tensors, axis=0)` joins tensors along an axis (`np.concatenate`); its
#   backward cuts the gradient back into one piece per input. Joining the weights copies
#   $3d^2$ numbers per call: little next to the $B T \cdot d \cdot 3d$ multiply-adds of the
#   product it enables;
# - `Narrow.apply(x, start=s, length=n)` keeps `x[..., s:s+n]`, a band of the last axis;
#   its backward puts the gradient into zeros of `x`'s shape at that band. (Module 05's
#   indexing would work too, but its backward adds with `np.add.at`, which is slow.)
#
# ```
#   x (B, T, d) @ [ Wq | Wk | Wv ] (d, 3d)  +  [ bq | bk | bv ] (3d,)  =  qkv (B, T, 3d)
#                  └───── Concat ─────┘           └── Concat ──┘
#   qkv ─ Narrow(0, d) ──> split_heads ──> q (B, H, T, d_head)
#       ─ Narrow(d, d) ──> split_heads ──> k
#       ─ Narrow(2d, d) ─> split_heads ──> v
# ```


# %% kind="locked" id="concat_narrow" export=true
class Concat(Function):
    """Tensors joined along one axis (np.concatenate); backward cuts the gradient back."""

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        ctx.axis, ctx.sizes = axis, [a.shape[axis] for a in arrays]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        cuts = np.cumsum(ctx.sizes)[:-1]  # where one input ends and the next starts
        return tuple(np.split(grad_output, cuts, axis=ctx.axis))


class Narrow(Function):
    """x[..., start:start + length]: a band of the last axis; backward fills zeros around it."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, start: int = 0, length: int = 1) -> np.ndarray:
        if not 0 <= start < start + length <= x.shape[-1]:
            raise ValueError(
                f"Narrow: the band {start} .. {start + length - 1} is not inside the last axis "
                f"of size {x.shape[-1]}"
            )
        ctx.shape, ctx.band = x.shape, slice(start, start + length)
        return x[..., ctx.band]

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        grad = np.zeros(ctx.shape, dtype=grad_output.dtype)
        grad[..., ctx.band] = grad_output
        return (grad,)


# %% [markdown]
# ## Task `qkv_projection`: queries, keys and values from one product (3 points)
#
# Contract of `qkv_projection(attn, x)`:
#
# - `attn` a `MultiHeadAttention` (Module 12): `q_proj`, `k_proj`, `v_proj` are
#   `Linear(d, d)` layers (weights $(d, d)$ in the (in, out) layout, biases $(d,)$, or
#   `None` for all three when the layer was made with `bias=False`), `num_heads` $H$;
#   `x` a Tensor $(B, T, d)$ (the given `_check_sequence` raises `ValueError` otherwise);
# - returns `(q, k, v)`, three Tensors $(B, H, T, d_{\text{head}})$ equal to
#   `split_heads(attn.q_proj(x), H)` and likewise for `k_proj` and `v_proj`;
# - with **exactly one** matrix product: the three weights joined by `Concat` along axis 1
#   into $(d, 3d)$, `x @` that, the three biases (when there are biases) joined by `Concat`
#   along axis 0 and added once; then `Narrow` cuts the $(B, T, 3d)$ result into its three
#   bands of width $d$, and `split_heads` splits each into heads. The tests count the
#   `MatMul` operations your function runs. Built from Tensor operations and the given
#   Functions, so that gradients reach `x` and all six parameters.


# %% kind="solution" id="qkv_projection" export=true
def qkv_projection(attn: MultiHeadAttention, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(q, k, v), each (B, H, T, d_head), from one product x @ [Wq | Wk | Wv].

    Args:
        attn: a MultiHeadAttention; its q_proj, k_proj, v_proj are used, not changed.
        x: Tensor (B, T, d_model).

    Returns:
        Tensors equal to split_heads(attn.q_proj(x), H), ... for k_proj and v_proj.

    Raises:
        ValueError: from the given check, when x is not (B, T, d_model).
    """
    _check_sequence(x.shape, attn.d_model, "qkv_projection")
    # Task qkv_projection: join the weights (and biases), one product, cut into three, split heads.
    ### BEGIN SOLUTION
    d = attn.d_model
    projections = (attn.q_proj, attn.k_proj, attn.v_proj)
    weight = Concat.apply(*(p.weight for p in projections), axis=1)  # (d, 3d)
    qkv = x @ weight  # (B, T, 3d): the one product
    if attn.q_proj.bias is not None:
        qkv = qkv + Concat.apply(*(p.bias for p in projections), axis=0)  # (3d,)
    return tuple(
        split_heads(Narrow.apply(qkv, start=i * d, length=d), attn.num_heads)  # (B, H, T, d_head)
        for i in range(3)
    )
    ### END SOLUTION


# %% [markdown]
# ### Test `qkv_projection`

# %% kind="test" id="test_qkv_projection" points=3
attn = MultiHeadAttention(8, 2, rng=0)
rng = np.random.default_rng(165)
x64 = rng.standard_normal((2, 5, 8))
upstream = rng.standard_normal((3, 2, 2, 5, 4))
twin = leaf(x64)  # the three separate projections of Module 12, for comparison
plain = [split_heads(p(twin), 2) for p in (attn.q_proj, attn.k_proj, attn.v_proj)]
(plain[0] * upstream[0] + plain[1] * upstream[1] + plain[2] * upstream[2]).sum().backward()
expected_grads = {id(p): p.grad for p in attn.parameters()}
for p in attn.parameters():
    p.grad = None

x = leaf(x64)
with counting(MatMul) as products:
    q, k, v = qkv_projection(attn, x)
assert products.calls == 1, (
    f"qkv_projection should compute the queries, keys and values with one matrix product "
    f"(x @ the joined weights), got {products.calls} MatMul operations."
)
for name, got, expected in zip("qkv", (q, k, v), plain, strict=True):
    assert_tensor(
        got,
        expected.data,
        f"qkv_projection: {name} (B, H, T, d_head) = (2, 2, 5, 4) "
        f"should equal split_heads(attn.{name}_proj(x), 2)",
    )
(q * upstream[0] + k * upstream[1] + v * upstream[2]).sum().backward()
assert_grad(
    x,
    twin.grad,
    "qkv_projection: x.grad should equal the gradient through the three separate projections",
)
for p in (attn.q_proj, attn.k_proj, attn.v_proj):
    for tensor in (p.weight, p.bias):
        assert_grad(
            tensor,
            expected_grads[id(tensor)],
            "qkv_projection: the gradient of every "
            "weight and bias (through Concat) should equal the one through the separate "
            "projections",
        )

### BEGIN HIDDEN TESTS
# hidden: other widths, head counts and batch shapes, with and without biases
rng = np.random.default_rng(1608)
for d, h, b, t, bias in (
    (12, 3, 3, 4, True),
    (6, 1, 1, 7, False),
    (8, 8, 2, 1, True),
    (4, 2, 1, 3, False),
):
    attn = MultiHeadAttention(d, h, bias=bias, rng=int(rng.integers(100)))
    inputs = rng.standard_normal((b, t, d))
    with counting(MatMul) as products:
        outs = qkv_projection(attn, leaf(inputs))
    assert products.calls == 1, "one matrix product for the three projections"
    assert isinstance(outs, tuple) and len(outs) == 3, "a tuple (q, k, v)"
    for got, layer in zip(outs, (attn.q_proj, attn.k_proj, attn.v_proj), strict=True):
        with no_grad():
            expected = split_heads(layer(Tensor(inputs)), h).data
        assert isinstance(got, Tensor) and got.data.dtype == np.float32, "float32 Tensors"
        assert got.shape == (b, h, t, d // h), "(B, H, T, d_head)"
        assert check_close(got.data, expected, rtol=1e-5, atol=1e-5), (
            "equal to the separate projections"
        )
# hidden: gradients of x and of every parameter match central differences
attn = MultiHeadAttention(4, 2, rng=7)
inputs = rng.standard_normal((2, 3, 4))
up = rng.standard_normal((3, 2, 2, 3, 2))
params = [t for p in (attn.q_proj, attn.k_proj, attn.v_proj) for t in (p.weight, p.bias)]
originals = [p.data.copy() for p in params]


def _h_projections(x_values, *values):
    """q, k and v stacked, (3, B, H, T, d_head), in float64 from x and the six parameters."""
    b, t, _ = x_values.shape
    outs = []
    for w, bias in zip(values[0::2], values[1::2], strict=True):
        outs.append((x_values @ w + bias).reshape(b, t, 2, -1).transpose(0, 2, 1, 3))
    return np.stack(outs)


numeric = numerical_gradients(_h_projections, [inputs, *originals], up)
for p in params:
    p.grad = None
x = leaf(inputs)
outs = qkv_projection(attn, x)
sum((o * up[i]).sum() for i, o in enumerate(outs)).backward()
assert isinstance(x.grad, np.ndarray) and check_close(x.grad, numeric[0], rtol=1e-3, atol=1e-4), (
    "x.grad"
)
for p, g in zip(params, numeric[1:], strict=True):
    assert isinstance(p.grad, np.ndarray) and check_close(p.grad, g, rtol=1e-3, atol=1e-4), (
        "every weight and bias gets its gradient"
    )
# hidden: the layer's parameters are used, never replaced or changed
attn = MultiHeadAttention(6, 3, rng=1)
before = [(p, p.data.copy()) for p in attn.parameters()]
qkv_projection(attn, Tensor(rng.standard_normal((1, 2, 6))))
assert all(a is b for a, b in zip(attn.parameters(), [p for p, _ in before], strict=True)), (
    "same tensors"
)
assert all(check_equal(p.data, v) for p, v in before), "parameters unchanged"
# hidden: inputs that are not (B, T, d_model) raise
err = raised(lambda: qkv_projection(attn, Tensor(np.ones((2, 6)))))
assert isinstance(err, ValueError), "the given check rejects x that is not (B, T, d_model)"
### END HIDDEN TESTS

# %% [markdown]
# # Part 4: the accelerated GPT
#
# **Given: putting it together.** `fast_attention(attn, x, mask, fuse_qkv=True)` is Module
# 12's attention with your operations: the projections from `qkv_projection` (or, with
# `fuse_qkv=False`, from the three layers as before), the scores of every head from
# `ScaledScores` with $s = 1/\sqrt{d_{\text{head}}}$, then Module 12's masked softmax,
# weighted values and output projection. `FastMultiHeadAttention` is a
# `MultiHeadAttention` whose forward is `fast_attention`; `from_attention(attn)` makes one
# that shares every attribute of `attn`, its four `Linear` layers included, so its
# parameters are the very same Tensors. `accelerate(model, fuse_qkv=True)` changes a GPT
# (or a `TransformerBlock`) in place: every block's attention becomes a
# `FastMultiHeadAttention` and every MLP's activation a `FastGELU`. The model keeps its
# parameters, its parameter count, its FLOPs, and (up to float32 rounding) its outputs and
# gradients; Module 14's cache still works with it, since it reads the same projections.


# %% kind="locked" id="accelerated" export=true
def fast_attention(
    attn: MultiHeadAttention, x: Tensor, mask: np.ndarray | None = None, fuse_qkv: bool = True
) -> Tensor:
    """attn(x, mask) computed with qkv_projection (or three projections) and ScaledScores."""
    _check_sequence(x.shape, attn.d_model, "fast_attention")
    if fuse_qkv:
        q, k, v = qkv_projection(attn, x)  # (B, H, T, d_head) each, one product
    else:
        q, k, v = (
            split_heads(p(x), attn.num_heads) for p in (attn.q_proj, attn.k_proj, attn.v_proj)
        )
    scores = ScaledScores.apply(q, k, scale=1.0 / math.sqrt(attn.d_head))  # (B, H, T, T)
    weights = MaskedSoftmax.apply(scores, mask=mask)  # (B, H, T, T)
    return attn.out_proj(merge_heads(weights @ v))  # (B, T, d_model)


class FastMultiHeadAttention(MultiHeadAttention):
    """A MultiHeadAttention whose forward is fast_attention; fuse_qkv says whether the three
    projections run as one product."""

    @classmethod
    def from_attention(
        cls, attn: MultiHeadAttention, fuse_qkv: bool = True
    ) -> "FastMultiHeadAttention":
        """A FastMultiHeadAttention sharing every attribute (and so every parameter) of attn."""
        fast = cls.__new__(cls)
        fast.__dict__.update(vars(attn))
        fast.fuse_qkv = fuse_qkv
        return fast

    def forward(self, x: Tensor, mask: np.ndarray | None = None) -> Tensor:
        return fast_attention(self, x, mask, getattr(self, "fuse_qkv", True))


def accelerate(model: "GPT | TransformerBlock", fuse_qkv: bool = True):
    """Put the fused operations into model, in place, and return it: every block's attention
    becomes a FastMultiHeadAttention (the same parameters), every MLP activation a FastGELU.

    Raises:
        TypeError: for a model that is neither a GPT nor a TransformerBlock.
    """
    if isinstance(model, GPT):
        blocks = model.blocks
    elif isinstance(model, TransformerBlock):
        blocks = [model]
    else:
        raise TypeError(
            f"accelerate: expected a GPT or a TransformerBlock, got {type(model).__name__}"
        )
    for block in blocks:
        block.attn = FastMultiHeadAttention.from_attention(block.attn, fuse_qkv)
        block.mlp.act = FastGELU()
    return model


# %% [markdown]
# ## Everything together: an accelerated GPT
#
# The last test accelerates a small GPT with your code throughout (no reference functions
# swapped in) and compares it with an identical twin that was not accelerated: the same
# logits, the same loss and the same gradient for every parameter after a backward pass,
# the same parameter Tensors as before, and, over a few steps of Adam, the same training.


# %% kind="test" id="test_accelerated_gpt" points=2
V, d, L, H, T = 11, 8, 2, 2, 6
plain, fast = GPT(V, d, L, H, T, rng=4), GPT(V, d, L, H, T, rng=4)
before = [id(p) for p in fast.parameters()]
assert accelerate(fast) is fast, "accelerate(model) should return the model it changed in place."
assert [id(p) for p in fast.parameters()] == before, (
    "accelerate should keep the model's parameters: the very same Tensors, in the same order."
)
ids = np.random.default_rng(167).integers(0, V, size=(3, T))
targets = Tensor(np.random.default_rng(168).integers(0, V, size=3 * T))
losses = []
for model in (plain, fast):
    logits = model(ids)
    loss = CrossEntropyLoss()(logits.reshape(3 * T, V), targets)
    loss.backward()
    losses.append((logits.data, loss.data))
assert_tensor(
    fast(ids), losses[0][0], "The accelerated GPT's logits should equal the plain twin's", atol=1e-5
)
assert check_close(losses[1][1], losses[0][1], rtol=1e-5), (
    f"The accelerated GPT's loss should equal the plain twin's: {losses[1][1]} vs {losses[0][1]}."
)
for mine, theirs in zip(fast.parameters(), plain.parameters(), strict=True):
    assert_grad(
        mine,
        theirs.grad,
        "Every parameter of the accelerated GPT should get the plain twin's gradient",
        rtol=1e-3,
        atol=1e-5,
    )

### BEGIN HIDDEN TESTS
# hidden: without the fused projections, and for other sizes, the same logits and gradients
for (v, d, n_layers, h, t, b), fuse in (((13, 12, 1, 3, 5, 2), False), ((7, 16, 3, 4, 9, 1), True)):
    plain, fast = (
        GPT(v, d, n_layers, h, t, rng=9),
        accelerate(GPT(v, d, n_layers, h, t, rng=9), fuse_qkv=fuse),
    )
    ids = np.random.default_rng(1609).integers(0, v, size=(b, t))
    up = np.random.default_rng(1610).standard_normal((b, t, v))
    outs = []
    for model in (plain, fast):
        logits = model(ids)
        logits.backward(up)
        outs.append((logits.data, [p.grad for p in model.parameters()]))
    assert check_close(outs[1][0], outs[0][0], rtol=1e-4, atol=1e-5), "the same logits"
    for mine, theirs in zip(outs[1][1], outs[0][1], strict=True):
        assert isinstance(mine, np.ndarray) and check_close(mine, theirs, rtol=1e-3, atol=1e-5), (
            "the same gradients"
        )
# hidden: the accelerated model runs the fused operations
fast = accelerate(GPT(9, 8, 2, 2, 4, rng=2))
with counting(FusedGELU) as gelus, counting(ScaledScores) as scores, counting(MatMul) as products:
    fast(np.zeros((1, 4), dtype=int))
assert gelus.calls == 2 and scores.calls == 2, "one FusedGELU and one ScaledScores per block"
assert products.calls == 2 * (1 + 1 + 1 + 2) + 1, "projections, values, output, MLP, head"
# hidden: a few Adam steps train the accelerated model exactly as the plain one
plain, fast = GPT(9, 8, 2, 2, 6, rng=5), accelerate(GPT(9, 8, 2, 2, 6, rng=5))
data = np.random.default_rng(1611).integers(0, 9, size=(4, 7))
history = []
for model in (plain, fast):
    optimizer, steps = Adam(model.parameters(), lr=0.01), []
    for _ in range(4):
        logits = model(data[:, :-1])
        loss = CrossEntropyLoss()(logits.reshape(24, 9), Tensor(data[:, 1:].reshape(24)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps.append(float(loss.data))
    history.append(steps)
assert check_close(history[1], history[0], rtol=1e-4, atol=1e-5), "the same losses over four steps"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: what each idea is worth, measured
#
# Nothing below is graded. Every figure is measured when the cells run, with Module 15's
# `Profiler` (`measure_latency`: warm-up, every call timed, median and fastest run;
# `count_flops` for the FLOPs; `measure_memory` for peaks; `hotspots` for the training
# step), and nothing is timed before it has been checked to compute the right numbers. The
# cells take about fifteen seconds of CPU time, longer on a busy machine. Timings move from run to run: read
# the medians beside the best runs, and expect your numbers to differ from the ones quoted
# in the text, which come from the course's shared two-core machine.
#
# ### GFLOP/s against size: four products, one roof
#
# The first cell checks that the four versions agree on an awkward shape, then times each
# on square matrices of growing size $n$, up to the size where it becomes too slow to wait
# for (the triple loop stops at 64: at half a microsecond per multiply-add, $n = 1024$
# would take ten minutes). Speed is FLOPs per second, $2 n^3$ (Module 15's count of a
# `Linear(n, n)` on $n$ rows) divided by the time. BLAS in float64 runs beside BLAS in
# float32.

# %%
import os  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

from tinytorch.core.layers import Linear  # noqa: E402
from tinytorch.profiling.profiler import Profiler, format_hotspots  # noqa: E402

profiler = Profiler()
rng = np.random.default_rng(0)
threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset (one per core)")
print(f"{os.cpu_count()} CPUs; BLAS threads (OPENBLAS_NUM_THREADS): {threads}")


def timed(fn, budget=0.25, most=7):
    """measure_latency of fn(): the first call is the warm-up and the estimate; as many timed
    calls as fit in about `budget` seconds (1 to `most`)."""
    first = profiler.measure_latency(fn, warmup=0, iterations=1)["median"]
    return profiler.measure_latency(fn, warmup=0, iterations=int(min(most, max(1, budget / first))))


versions = {  # name: (function of two arrays, largest n to time, dtype)
    "loops i, j, p": (matmul_loops, 64, np.float32),
    "rows i, p, j": (matmul_ikj, 256, np.float32),
    "tiled, t = 64": (lambda a, b: matmul_tiled(a, b, 64), 1024, np.float32),
    "BLAS float32": (np.matmul, 1024, np.float32),
    "BLAS float64": (np.matmul, 1024, np.float64),
}
a = rng.standard_normal((65, 33)).astype(np.float32)
b = rng.standard_normal((33, 17)).astype(np.float32)
exact = a.astype(np.float64) @ b.astype(np.float64)
for name, (fn, _, dtype) in versions.items():
    error = float(np.abs(fn(a.astype(dtype), b.astype(dtype)) - exact).max())
    assert error < 1e-4, f"{name} computes another product: {error}"
print("(65, 33) @ (33, 17): every version agrees with float64 to 1e-4")

sizes = [16, 32, 64, 128, 256, 512, 1024]
speeds = {name: {} for name in versions}  # name -> {n: (median GFLOP/s, best GFLOP/s)}
for n in sizes:
    flops = profiler.count_flops(Linear(n, n, rng=0), (n, n))  # 2 n^3
    a32, b32 = (
        rng.standard_normal((n, n)).astype(np.float32),
        rng.standard_normal((n, n)).astype(np.float32),
    )
    for name, (fn, largest, dtype) in versions.items():
        if n <= largest:
            x, y = a32.astype(dtype), b32.astype(dtype)
            stats = timed(lambda fn=fn, x=x, y=y: fn(x, y))
            speeds[name][n] = (flops / stats["median"] / 1e9, flops / stats["min"] / 1e9)

print(f"\n{'GFLOP/s (median)':<16}" + "".join(f"{n:>9}" for n in sizes))
for name, row in speeds.items():
    cells = "".join(f"{row[n][0]:>9.3g}" if n in row else f"{'-':>9}" for n in sizes)
    print(f"{name:<16}{cells}")
roof = max(best for row in speeds.values() for _, best in row.values())
print(f"\nroof: {roof:.0f} GFLOP/s, the fastest run of any product (BLAS)")
for name, row in speeds.items():
    n = max(row)
    print(f"{name:<16} at n = {n:>4}: {100 * row[n][0] / roof:7.3f}% of the roof")

# %% [markdown]
# On the course machine (one BLAS thread, two cores shared with other jobs) the table
# spanned **more than four orders of magnitude** for the same arithmetic. The triple loop
# ran at 0.004 to 0.01 GFLOP/s at every size; the row version at 0.03 to 0.2, faster as the
# rows it hands to NumPy grow longer; the tiled product at 45 to 60 for $n$ = 64 to 256 and
# 15 to 25 beyond; BLAS in float32 at 90 to 103 GFLOP/s for $n$ = 64 to 256, the roof, and
# at 38 to 50 for 512 and 1,024, whose operands no longer fit in the caches. At $n = 16$
# even BLAS managed only 7: 8,192 FLOPs are over before the call's own overhead is. float64
# ran at about half of float32 throughout. The plot shows the same table on logarithmic
# axes, under the roof.

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for name, row in speeds.items():
    ns = sorted(row)
    ax.plot(ns, [row[n][0] for n in ns], marker="o", label=name)
ax.axhline(
    roof, color="black", linestyle="--", linewidth=1, label=f"roof: best BLAS run, {roof:.0f}"
)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("n (square n x n matrices)")
ax.set_ylabel("GFLOP/s (median run)")
ax.set_title("One matrix product, four ways, on this machine")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the plot from the bottom:
#
# - **The triple loop** is flat: every multiply-add costs the interpreter the same fraction
#   of a microsecond, whatever the size, and nothing about memory shows through it.
# - **Loop order alone** gains nothing in Python. The next cell times the triple loop in the
#   order i, p, j, one number at a time, against the order i, j, p: the interpreter's cost
#   per step hides the cache. The row version is fast because reordering made its inner
#   loop **contiguous**, which let NumPy run it as one vector operation: $nk$ Python steps
#   instead of $nkm$. (In a compiled language the reorder pays by itself, through the
#   cache; we cannot measure that from Python.)
# - **Tiling** hands BLAS $t^3$ multiply-adds per Python step: the larger the tile, the
#   closer to the roof, until the tile is the whole matrix.
# - **BLAS** is the roof: blocked for registers and caches, vector instructions, packed
#   tiles. float64 runs at about half its float32 speed: a vector register holds half as
#   many float64 numbers, and each number is twice the bytes to move.


# %%
def loops_ipj(a, b):
    """The triple loop in the order i, p, j: one number at a time, like matmul_loops."""
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for i in range(a.shape[0]):
        for p in range(a.shape[1]):
            for j in range(b.shape[1]):
                out[i, j] += a[i, p] * b[p, j]
    return out


n = 48
a, b = (
    rng.standard_normal((n, n)).astype(np.float32),
    rng.standard_normal((n, n)).astype(np.float32),
)
assert np.allclose(loops_ipj(a, b), a @ b, atol=1e-4)
for name, fn in (
    ("loops i, j, p", matmul_loops),
    ("loops i, p, j", loops_ipj),
    ("rows i, p, j", matmul_ikj),
):
    stats = timed(lambda fn=fn: fn(a, b))
    print(
        f"n = {n}, {name:<14}: {1e3 * stats['median']:8.2f} ms, "
        f"{1e9 * stats['median'] / n**3:7.1f} ns per multiply-add"
    )

# %% [markdown]
# On the course machine the triple loop in the order i, j, p took 0.4 to 0.8 microseconds
# per multiply-add and the order i, p, j 0.7 to 0.9: no faster, and usually slower, since
# it reads and writes `out[i, j]` at every step where `matmul_loops` keeps a running total
# in a local variable. The row version took 20 to 65 ns: the reorder is worth nothing by
# itself in Python, and ten to forty times once the inner loop is vectorised.
#
# ### The tile size
#
# The tile size sets the work per kernel call ($2t^3$ FLOPs), the number of calls
# ($\lceil n/t \rceil^3$) and the arithmetic intensity of each tile ($t/6$ FLOPs per byte in
# float32). The next cell sweeps it at $n = 512$, with BLAS as the kernel, then once with
# your `matmul_ikj` as the kernel.

# %%
n = 512
a, b = (
    rng.standard_normal((n, n)).astype(np.float32),
    rng.standard_normal((n, n)).astype(np.float32),
)
flops = 2 * n**3
print(
    f"{'tile':>5} {'kernel calls':>13} {'FLOPs/byte':>11} {'median ms':>10} {'GFLOP/s':>8} {'best':>6}"
)
for t in (16, 32, 64, 128, 256, 512):
    stats = timed(lambda t=t: matmul_tiled(a, b, t))
    calls = math.ceil(n / t) ** 3
    print(
        f"{t:>5} {calls:>13,} {t / 6:>11.1f} {1e3 * stats['median']:>10.2f} "
        f"{flops / stats['median'] / 1e9:>8.1f} {flops / stats['min'] / 1e9:>6.1f}"
    )
n = 128
a, b = a[:n, :n].copy(), b[:n, :n].copy()
for label, fn in (
    ("rows i, p, j, whole", lambda: matmul_ikj(a, b)),
    ("tiled t = 32, kernel rows i, p, j", lambda: matmul_tiled(a, b, 32, kernel=matmul_ikj)),
):
    stats = timed(fn)
    print(f"n = {n}, {label:<34}: {2 * n**3 / stats['median'] / 1e9:6.3f} GFLOP/s")

# %% [markdown]
# On the course machine, tiles of 16 ran at about 1 GFLOP/s (32,768 calls of 8,192 FLOPs
# each: the calls cost more than the arithmetic), tiles of 32 at 5 to 7, tiles of 64 and
# 128 at 17 to 35, within a factor of two of the whole product, and tiles of 256 and 512 at
# the whole product's 23 to 40 (best runs near 90), because BLAS tiles again inside. With
# the row kernel, tiling cost three to five times: the row operations shrank to a tile's
# width, so there were $n/t$ times as many Python steps, and Python steps, not memory, set
# the speed. Tiling pays where the code inside a tile is compiled, and that is where BLAS
# does it.
#
# ### Threads
#
# BLAS can split a large product between cores. The thread count is fixed when NumPy loads
# its BLAS, so the next cell starts a fresh Python for each setting (a process started by
# `multiprocessing`), which sets `OPENBLAS_NUM_THREADS` for itself before it imports NumPy,
# and times the same float32 products there, each call on its own after a warm-up (the
# standard library's `timeit.repeat` with `number=1`: the same statistic as
# `measure_latency`). This notebook's own settings are left alone.

# %%
import multiprocessing  # noqa: E402
import timeit  # noqa: E402

PRODUCT_SETUP = """
import os, sys
if "numpy" not in sys.modules:  # the first run in this process: set the count, then load
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "{threads}"
elif os.environ.get("OPENBLAS_NUM_THREADS") != "{threads}":
    raise RuntimeError("NumPy was loaded before its thread count was set")
import numpy as np
rng = np.random.default_rng(0)
a = rng.standard_normal(({n}, {n})).astype(np.float32)
b = rng.standard_normal(({n}, {n})).astype(np.float32)
a @ b  # warm-up
"""


def product_times(threads, sizes, repeats=7):
    """{n: seconds of `repeats` float32 products of n x n matrices, each timed on its own},
    measured in a new Python process whose BLAS runs `threads` threads."""
    times = {}
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # a fresh Python
        for n in sizes:
            setup = PRODUCT_SETUP.format(threads=threads, n=n)
            times[n] = pool.apply(timeit.repeat, ("a @ b", setup), {"repeat": repeats, "number": 1})
    return times


print(f"{'BLAS threads':>12} {'n':>5} {'GFLOP/s median':>15} {'best':>6}")
for count in (1, 2):
    for n, seconds in product_times(count, (256, 1024)).items():
        print(
            f"{count:>12} {n:>5} {2 * n**3 / np.median(seconds) / 1e9:>15.1f} "
            f"{2 * n**3 / min(seconds) / 1e9:>6.1f}"
        )

# %% [markdown]
# Two threads on two cores can at best double the speed of a large product. On the course
# machine, whose two cores were busy with other jobs in every run, two threads were
# **slower** than one each time: at $n = 1024$, medians of 20 to 32 GFLOP/s against 31 to
# 48; at $n = 256$, medians under 1 GFLOP/s against 84 to 100, a hundred times slower,
# while the best run of the same seven was often as fast as one thread's. A BLAS thread that finds its core
# taken waits, and its partner waits for it: a product of a few hundred microseconds
# becomes one of tens of milliseconds. On a machine you share, one thread per process is
# the steady choice; that is why the course's benchmarks default to it. Try the cell on an
# idle machine of your own.
#
# ### Fusing GELU: time and memory
#
# The next cell compares Module 02's one-line GELU with your `gelu_fused`, allocating its
# result or writing into a buffer reused from call to call, at three sizes: 65,536 numbers
# (256 KB), 262,144 (the $(16, 64, 256)$ hidden layer of the GPT's MLP, 1 MB) and 4,194,304
# (16 MB, larger than the caches), beside the `tanh` alone (`np.tanh(x, out=buffer)`), the
# one step no version can skip. Then the backward passes: Module 05's `GELU` against your
# `FusedGELU`.

# %%
print(f"{'numbers':>10} {'version':<22} {'median ms':>10} {'best ms':>8} {'peak MB':>8}")
for size in (2**16, 2**18, 2**22):
    x = rng.standard_normal(size).astype(np.float32)
    buffer = np.empty_like(x)
    assert np.allclose(gelu_fused(x), gelu_unfused(x), atol=1e-6)
    for label, fn in (
        ("unfused (Module 02)", lambda x=x: gelu_unfused(x)),
        ("fused, new result", lambda x=x: gelu_fused(x)),
        ("fused, reused buffer", lambda x=x, out=buffer: gelu_fused(x, out)),
        ("tanh alone, in place", lambda x=x, out=buffer: np.tanh(x, out=out)),
    ):
        stats = timed(fn, most=15)
        peak = profiler.measure_memory(fn)
        print(
            f"{size:>10,} {label:<22} {1e3 * stats['median']:>10.3f} "
            f"{1e3 * stats['min']:>8.3f} {peak / 1e6:>8.2f}"
        )
x = rng.standard_normal(2**18).astype(np.float32)
g = rng.standard_normal(2**18).astype(np.float32)
x64, g64 = x.astype(np.float64), g.astype(np.float64)
print(f"\n{'backward, 262,144 numbers':<30} {'median ms':>10} {'peak MB':>8} {'saved MB':>9}")
for label, function, values, upstream in (
    ("Module 05 GELU, float32", GELUFunction, x, g),
    ("FusedGELU, float32", FusedGELU, x, g),
    ("FusedGELU, float64", FusedGELU, x64, g64),
):
    ctx = Context()
    function.forward(ctx, values)
    saved = sum(s.nbytes for s in ctx.saved_tensors if isinstance(s, np.ndarray))
    stats = timed(lambda f=function, c=ctx, u=upstream: f.backward(c, u), most=15)
    peak = profiler.measure_memory(lambda f=function, c=ctx, u=upstream: f.backward(c, u))
    print(f"{label:<30} {1e3 * stats['median']:>10.3f} {peak / 1e6:>8.2f} {saved / 1e6:>9.2f}")

# %% [markdown]
# Memory is where the fusion is certain, and `tracemalloc` shows it to the byte: the fused
# forward holds one array (the result) or none (with a reused buffer) against Module 02's
# three, and the fused backward three against Module 05's five, while saving half as much
# for backward (1 MB instead of 2 per GELU of the GPT). Time depends on the size and on the
# machine's load. On the course machine the fused forward took 0.6 to 0.8 of the unfused
# time at 256 KB, 0.75 to 1.1 at 1 MB (no gain at all in some runs), and 0.3 to 0.75 at
# 16 MB, where every temporary is fresh memory the operating system must supply. The `tanh`
# alone took a third of the fused time at the two smaller sizes and a tenth at 16 MB: there
# the cost is the other eight passes over memory, which only a compiled kernel making a
# single pass could remove. The fused **backward** was 10 to 20% **slower** than Module
# 05's: it recomputes the `tanh`, which Module 05 had saved. That is the price of holding
# half the memory, worth paying when memory is what runs out. float64 took two and a half
# to four times float32's time: twice the bytes, and a slower `tanh`.
#
# ### Batching attention
#
# First the heads: the attention of the GPT's batch (16 sequences, 4 heads of 16
# features, 64 positions) computed with one product per head in a Python loop, against one
# batched product for all 64 heads (NumPy arrays, no autograd, so that only the batching
# differs). Then the two operations of this module inside the graph, forward and backward:
# the scores with Module 12's three nodes against `ScaledScores`, and the projections with
# three `Linear` layers against `qkv_projection`.

# %%
B, H, T, dh = 16, 4, 64, 16
q, k, v = (rng.standard_normal((B, H, T, dh)).astype(np.float32) for _ in range(3))
keep = causal_mask(T)


def softmax_rows(s):
    s = np.where(keep, s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def heads_in_a_loop():
    out = np.empty_like(v)
    for i in range(B):
        for h in range(H):
            out[i, h] = softmax_rows(q[i, h] @ k[i, h].T / np.sqrt(dh)) @ v[i, h]
    return out


def heads_batched():
    return softmax_rows(q @ np.swapaxes(k, -1, -2) / np.sqrt(dh)) @ v


assert np.allclose(heads_in_a_loop(), heads_batched(), atol=1e-5)
loop_stats, batch_stats = timed(heads_in_a_loop, most=15), timed(heads_batched, most=15)
print(
    f"attention of {B} x {H} heads: loop {1e3 * loop_stats['median']:.2f} ms, "
    f"batched {1e3 * batch_stats['median']:.2f} ms ({loop_stats['median'] / batch_stats['median']:.1f}x)"
)

attn = MultiHeadAttention(64, H, rng=0)
x_values = rng.standard_normal((B, T, 64)).astype(np.float32)
q_t, k_t = Tensor(q, requires_grad=True), Tensor(k, requires_grad=True)
upstream = rng.standard_normal((B, H, T, T)).astype(np.float32)


def scores_module_12():
    (q_t @ k_t.transpose() / np.sqrt(dh)).backward(upstream)


def scores_fused():
    ScaledScores.apply(q_t, k_t, scale=1 / np.sqrt(dh).item()).backward(upstream)


def projections(fused):
    def step():
        x = Tensor(x_values, requires_grad=True)
        if fused:
            parts = qkv_projection(attn, x)
        else:
            parts = [split_heads(p(x), H) for p in (attn.q_proj, attn.k_proj, attn.v_proj)]
        (parts[0] + parts[1] + parts[2]).sum().backward()

    return step


for label, fn in (
    ("scores: Transpose, MatMul, Div", scores_module_12),
    ("scores: ScaledScores", scores_fused),
    ("projections: three Linear", projections(False)),
    ("projections: qkv_projection", projections(True)),
):
    stats = timed(fn, most=15)
    print(
        f"{label:<32} forward + backward {1e3 * stats['median']:7.2f} ms (best {1e3 * stats['min']:.2f})"
    )

# %% [markdown]
# Batching the heads was worth 1.2 to 3.5 times on the course machine, depending on the
# run: 64 small products and softmaxes, each paying a few microseconds of Python and NumPy
# overhead, against one call of each, whose own time is mostly the softmax's passes over
# 1 MB of scores. `ScaledScores` made the scores' forward and backward 2.1 to 2.6 times
# faster than Module 12's three nodes, mostly by not computing the divisor's gradient. The
# fused projection was **not** a win at this size: one product of $(1024 \times 64) @
# (64 \times 192)$ instead of three of $(64 \times 64)$ saves two calls, but the joins and
# cuts (`Concat`, and `Narrow` with its zero-filled gradients) cost as much or more; its
# best runs were 5 to 15% slower than the three layers', and the medians swung both ways.
# Batching pays when the calls it saves are a large part of the time: for one token at a
# time (Module 14's cached generation) more than for a batch of 1,024 positions.
#
# ### The Shakespeare GPT, before and after
#
# Finally the model of Modules 13 to 15: the character-level GPT ($V = 77$, $d = 64$, two
# blocks of four heads, context 64) on a batch of 16 sequences of 64 characters. Three
# identical twins: as built, accelerated with three projections, and accelerated with the
# fused projection. Before anything is timed, their logits and every gradient of a
# training step are compared. Then training steps of the three are timed **in turns** (one
# step of each per round), so that a busy machine slows them alike.

# %%
V, d, L, T, B = 77, 64, 2, 64, 16
models = {
    "as built": GPT(V, d, L, H, T, rng=0),
    "accelerated, 3 projections": accelerate(GPT(V, d, L, H, T, rng=0), fuse_qkv=False),
    "accelerated, fused QKV": accelerate(GPT(V, d, L, H, T, rng=0), fuse_qkv=True),
}
batch = rng.integers(0, V, size=(B, T + 1))
ids, targets = batch[:, :-1], Tensor(batch[:, 1:].reshape(B * T))


def step_of(model):
    def step():
        for p in model.parameters():
            p.grad = None
        CrossEntropyLoss()(model(ids).reshape(B * T, V), targets).backward()

    return step


steps = {name: step_of(model) for name, model in models.items()}
reference = models["as built"]
steps["as built"]()
with no_grad():
    plain_logits = reference(ids).data
for name, model in list(models.items())[1:]:
    steps[name]()
    with no_grad():
        logit_gap = np.abs(model(ids).data - plain_logits).max()
    grad_gap = max(
        np.abs(p.grad - r.grad).max()
        for p, r in zip(model.parameters(), reference.parameters(), strict=True)
    )
    print(
        f"{name:<28}: largest difference from the model as built: logits {logit_gap:.1e}, "
        f"gradients {grad_gap:.1e}"
    )
    assert logit_gap < 1e-4 and grad_gap < 1e-4


def forward_of(model):
    def forward():
        with no_grad():  # as generation runs it: no graph
            model(ids)

    return forward


jobs = {(name, "step"): step for name, step in steps.items()}
jobs |= {(name, "forward"): forward_of(model) for name, model in models.items()}
times = {job: [] for job in jobs}
for _ in range(10):  # in turns: one of each per round
    for job, fn in jobs.items():
        times[job].append(profiler.measure_latency(fn, warmup=0, iterations=1)["median"])
flops = profiler.count_flops(reference, (B, T))  # the forward; a training step is about 3x
print(f"\n{'':<28} {'training step (forward + backward)':>36}   {'forward under no_grad':>24}")
print(
    f"{'model':<28} {'median ms':>10} {'p10..p90':>13} {'speedup':>8} {'GFLOP/s':>7}   "
    f"{'median ms':>10} {'speedup':>8} {'GFLOP/s':>7}"
)
for name in models:
    step, fwd = np.array(times[name, "step"]), np.array(times[name, "forward"])
    step_base = np.median(times["as built", "step"])
    fwd_base = np.median(times["as built", "forward"])
    print(
        f"{name:<28} {1e3 * np.median(step):>10.1f} "
        f"{1e3 * np.percentile(step, 10):>6.1f}..{1e3 * np.percentile(step, 90):<5.1f} "
        f"{step_base / np.median(step):>8.2f} {3 * flops / np.median(step) / 1e9:>7.1f}   "
        f"{1e3 * np.median(fwd):>10.2f} {fwd_base / np.median(fwd):>8.2f} "
        f"{flops / np.median(fwd) / 1e9:>7.1f}"
    )

# %% [markdown]
# The accelerated models compute the same numbers: logits within 1e-6 of the model as built,
# gradients within 1e-8. On the course machine their training steps were 0 to 11% faster
# and their forward passes under `no_grad` 0 to 33% faster, with spreads (p10 to p90) as
# wide as the gains; the fused QKV projection added nothing on top. That is the honest size
# of the gain: GELU, the scaled scores and the division were a sixth to a quarter of the
# step, and we made them cheaper, not free. The hotspot tables show where the time moved.

# %%
for name in ("as built", "accelerated, fused QKV"):
    rows = profiler.hotspots(steps[name], repeats=3, top=8)
    print(f"{name}: the eight largest operations per step")
    print(format_hotspots(rows, per=3), end="\n\n")

# %% [markdown]
# On the course machine `GELU`'s 4 to 9 ms per step became `FusedGELU`'s 2 to 6, and the
# `Div` row (1 to 12 ms, the divisor's gradient) disappeared into `ScaledScores`, 1 to 3
# ms. `MatMul` is still the largest row, with a backward three times its forward;
# `MaskedSoftmax`, `LayerNormFunction`, `Add` (each bias's gradient summed over 1,024 rows)
# and the embedding's backward (`np.add.at`) come next, all memory-bound, all candidates
# for the treatment GELU received. Each table is three steps on a busy machine: rows move
# by a few milliseconds between runs, so compare the large differences, not the small
# ones.
#
# ## Summary
#
# - **The same FLOPs can run at 0.005 or 100 GFLOP/s.** In Python, the triple loop pays the
#   interpreter for every multiply-add; vectorising the inner loop (which the i, p, j order
#   makes contiguous) pays it once per row; BLAS pays it once per product.
# - **Loop order decides what the inner loop reads**: in the order i, p, j it runs along
#   contiguous rows, which use whole cache lines and vector instructions. In Python the
#   reorder pays only once that contiguous inner loop is handed to NumPy as one operation.
# - **Tiling is reuse**: a $t \times t$ tile product does $t/6$ FLOPs per byte in float32, so
#   larger tiles (that still fit the caches) keep the processor fed. It pays when the code
#   inside a tile is compiled; that is what BLAS does, at several levels.
# - **Accelerated operations keep their gradients**: a `Function` whose backward uses the
#   same fast path (`TiledMatMul`: three tiled products), checked against central
#   differences.
# - **Element-wise operations are memory-bound.** Fusing them into one buffer with `out=`
#   removes every temporary (`tracemalloc` shows it: one array instead of three), and a
#   backward that recomputes instead of saving halves what the graph holds, at the price
#   of recomputing: memory traded for time.
# - **Batch small products**: all heads in one call, the scale folded into the product,
#   and (where calls dominate) the three projections in one product; Module 09's im2col
#   did the same for a convolution's kernel taps. Measure before you keep a fusion: some
#   do not pay at every size.
# - **Measure the machine**: float64 costs about twice float32, and on a busy machine a
#   second BLAS thread made products slower, not faster.
#
# **Reflection.**
#
# 1. `matmul_loops` ran at the same GFLOP/s at every size. What would you expect from the
#    same loops in C, and at which size would the order i, j, p start to fall behind
#    i, p, j? (Hint: when does one column of $B$ stop fitting in the cache?)
# 2. For which tile size does the arithmetic intensity $t/6$ reach the ratio of your
#    machine's peak FLOP/s (the roof above) to its memory bandwidth? Measure the bandwidth
#    yourself: time `np.copyto(dst, src)` of two 64 MB arrays and count the bytes read and
#    written. Do three such tiles fit in a 32 KB first-level cache?
# 3. `gelu_fused` still makes nine passes over its buffer. Estimate the bytes it moves for
#    $2^{22}$ numbers, and compare with a kernel that reads $x$ once and writes the result
#    once. What would such a kernel need that NumPy does not offer?
# 4. The fused QKV projection did not pay for a batch of 1,024 positions. Would it pay in
#    Module 14's cached generation, which feeds one token at a time? How would you measure
#    it?
