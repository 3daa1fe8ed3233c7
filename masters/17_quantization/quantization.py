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
# # Module 17: Quantization
#
# Every weight of your GPT is a float32: 4 bytes, about 7 significant digits. A trained
# network does not need 7 digits. Its weights are noisy estimates (train with another seed
# and every one of them changes in the second digit), and what the model computes survives
# far larger perturbations than float32 rounding. **Quantization** stores each weight as an
# 8-bit integer instead, 1 byte, and one float **scale** per row or per matrix that says how
# large a step of the integers is:
#
# $$w \approx s \cdot q, \qquad q \in \{-127, \dots, 127\}, \qquad s = \frac{\max |w|}{127}.$$
#
# Four times fewer bytes to store, to load from memory and to send over a network; on
# hardware with 8-bit arithmetic (every phone chip, every recent CPU and GPU) also several
# times more multiplications per second. The price is an error: each weight moves to the
# nearest of 255 levels, by at most half a step, $s / 2$.
#
# Courses that taught this before shipped quantized layers that saved nothing: the layer
# converted its integers back to float32 on every call and multiplied in float32, kept the
# original float weights beside the integers (so the model grew), stored the bias in 8 bits
# (where it does not fit), computed an input scale in a calibration step and then never used
# it, and reported that the quantized model was exactly as accurate as the original without
# measuring it. Here every one of those claims is checked: your layer multiplies **integers**
# with an **int32** accumulator, keeps no float weights, stores the bias in int32, uses the
# calibrated scale, and at the end the notebook **measures** the size and the validation loss
# of a quantized Shakespeare GPT.
#
# ```
#   float32 Linear:   x (float32) ──> x @ W + b ──────────────────────────────> y (float32)
#
#   int8 Linear:      x ──quantize──> q_x (int8), with the calibrated (s_x, z_x)
#                                        │
#                     (q_x - z_x) @ q_W   accumulated in int32   + q_b (int32)
#                                        │
#                     y = s_x · s_W · acc  ─────────────────────────────────────> y (float32)
# ```
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - quantize a tensor to int8 **symmetrically**, with one scale for the whole tensor or one
#   per **output channel**, bound the round-trip error by $s / 2$, and say why one large
#   weight ruins a per-tensor scale for all the others;
# - quantize **activations** with an **affine** map (a scale and a **zero point**) that
#   represents 0 exactly, from a range measured on the data;
# - multiply int8 matrices with an **int32 accumulator**, correct for the zero point, and
#   explain why an 8- or 16-bit accumulator overflows;
# - build `QuantizedLinear`: int8 weights, int32 bias at the scale $s_x s_W$, a
#   **calibrated** input scale, and no float weights left;
# - **calibrate** a model on sample inputs, **quantize a whole model** (a GPT included), and
#   **measure** what was gained (bytes) and what was lost (validation loss), beside float16.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in eleven places, for nine tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtypes, formulas, errors, and hints. Keep the names and
#   signatures as they are (the capstone and the milestones call them); the given cells are
#   read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail. Most checks are properties that any correct answer has (the
#   round trip is within half a step, zero comes back as exactly zero, the integers fit
#   their type), plus exact values on small inputs worked out in the text.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other shapes and ranks, constant and all-zero tensors,
#   matrices with an outlier channel, inputs whose sums overflow a small accumulator, layers
#   without a bias, layers used twice, models of other depths and widths). A failing hidden
#   check tells you which behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the code of the other tasks
#   comes from the course's reference solution, so a bug costs the points of the task it is
#   in. The last test, `test_quantized_model`, is different: it quantizes a small GPT with
#   **your** code throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure (a NumPy `RuntimeWarning` from a division by zero
#   included).
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `quantize_per_tensor` | symmetric int8, one scale for the whole tensor | 3 |
# | `quantize_per_channel` | symmetric int8, one scale per output channel (column) | 2 |
# | `dequantize` | back to float32: $(q - z) \cdot s$ | 2 |
# | `quantize_activation` | `activation_params` and `quantize_activation`: affine int8 with a zero point | 3 |
# | `int8_matmul` | integer matrix product, int32 accumulator, zero-point correction | 3 |
# | `quantized_linear` | `QuantizedLinear`: int8 weights, int32 bias, calibrated input scale | 4 |
# | `model_bytes` | the bytes a model really holds | 2 |
# | `calibrate` | the range of every Linear's inputs, recorded while the model runs | 2 |
# | `quantize_model` | every Linear (and embedding) of any model replaced | 2 |
# | `quantized_model` | (no code of its own) your tasks together quantize a GPT | 2 |
# | | **total** | **25** |
#
# Work in the order of the table: each task uses the ones before it. `Tensor`, `Layer`,
# `Linear`, `no_grad`, `Embedding`, `PositionalEncoding` and `GPT` come from your Modules 01
# to 13; when your work is graded they come from the course's reference solution, so a bug
# in an earlier module does not cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.optimization.quantization: int8 weights and activations, measured.

Symmetric int8 quantization of weights, one scale per tensor (`quantize_per_tensor`) or per
output channel (`quantize_per_channel`, a column of a (in_features, out_features) weight);
`dequantize` maps integers back, (q - zero_point) * scale. Activations are quantized with an
affine map whose zero point represents 0 exactly (`activation_params` from a range,
`quantize_activation`). `int8_matmul` multiplies int8 matrices with an int32 accumulator and
corrects for the zero point. `QuantizedLinear` keeps int8 weights, their scales, an int32 bias
at the scale s_x * s_w and the calibrated input scale, and no float weights; `calibrate`
records the range of every Linear's inputs while a model runs, and `quantize_model` replaces
every Linear (and, by default, every embedding table, by `QuantizedEmbedding`) of any model,
a GPT included. `model_bytes` counts the bytes a model really holds.
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 17.
"""

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Layer, Linear
from tinytorch.core.tensor import Tensor
from tinytorch.text.embeddings import Embedding, PositionalEncoding, as_indices

__all__ = [
    "QMAX",
    "quantize_per_tensor",
    "quantize_per_channel",
    "dequantize",
    "activation_params",
    "quantize_activation",
    "int8_matmul",
    "QuantizedLinear",
    "QuantizedEmbedding",
    "model_bytes",
    "sublayers",
    "calibrate",
    "quantize_model",
]

QMAX = 127  # symmetric int8 weights use -127 .. 127 (-128 is left out, so that -q fits)

# %% [markdown]
# **Given: the input checks.** The read-only cell below checks what your functions are
# handed, so that bad input gets a clear message and your code can rely on it:
# `_check_float_array` (a NumPy array of floats, not empty, every value finite),
# `_check_int8` (a NumPy int8 array), `_check_range` (a calibration range, two finite numbers
# in order) and `_check_input` (the input of a `QuantizedLinear`). Each raises a `TypeError`
# for the wrong kind of thing and a `ValueError` for the right kind with wrong values, naming
# what was expected and what came.


# %% kind="locked" id="input_checks" export=true
def _check_float_array(x, who: str, name: str = "x") -> None:
    """x is a NumPy array of a floating dtype, with at least one element, all finite.

    Raises:
        TypeError: for anything else (a Tensor: pass its .data), or an integer array.
        ValueError: for an empty array, or one holding NaN or an infinity.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        kind = f"an array of {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"{who}: {name} must be a NumPy array of floats (a Tensor: pass its .data), got {kind}"
        )
    if x.size == 0:
        raise ValueError(f"{who}: {name} is empty (shape {x.shape}); nothing to quantize")
    if not np.isfinite(x).all():
        raise ValueError(f"{who}: {name} holds NaN or an infinity, which have no int8 value")


def _check_int8(q, who: str, name: str) -> None:
    """q is a NumPy array of dtype int8.

    Raises:
        TypeError: naming what came instead.
    """
    if not isinstance(q, np.ndarray) or q.dtype != np.int8:
        kind = f"an array of {q.dtype}" if isinstance(q, np.ndarray) else type(q).__name__
        raise TypeError(f"{who}: {name} must be a NumPy int8 array, got {kind}")


def _check_range(low, high, who: str) -> None:
    """low and high are finite real numbers with low <= high.

    Raises:
        ValueError: naming both, otherwise.
    """
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"{who}: expected a range low <= high of finite numbers, got ({low}, {high})")


def _check_input(x, in_features: int, who: str) -> None:
    """x is a Tensor whose last axis has in_features entries.

    Raises:
        TypeError: when x is not a Tensor.
        ValueError: naming the shape, when its last dimension is not in_features.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: expected a Tensor, got {type(x).__name__}")
    if x.ndim == 0 or x.shape[-1] != in_features:
        raise ValueError(
            f"{who}: expected input with last dimension in_features={in_features}, "
            f"got shape {x.shape}"
        )


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` of the expected shape and
# values (`assert_array` does the same for a NumPy array), `check_close` compares numbers the
# way `np.allclose` does, `check_equal` compares exactly, and `raised` returns the exception
# a call raised. The second part is this module's own:
#
# - `round_trip_error(x, q, scale, zero_point=0)`: the largest $|x - (q - z) \cdot s|$, in
#   float64, and `half_step(scale)`: $s / 2$ with a margin for float32 rounding;
# - `make_linear(in_features, out_features, seed, bias=True)`: a `Linear` with random
#   weights and bias of a few different sizes;
# - `randomise(model, seed)` gives every `LayerNorm` of a GPT random weights and biases (a
#   fresh LayerNorm is the identity, which would hide mistakes).


# %% kind="locked" id="checks" include="checks"
import gc  # noqa: E402
import weakref  # noqa: E402

from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.layers import Sequential  # noqa: E402
from tinytorch.models.transformer import GPT  # noqa: E402

SHAPE_HINT = (
    "Weights are (in_features, out_features), one scale per column (output channel); a "
    "per-tensor scale has shape ()."
)
_int8, _int32 = np.int8, np.int32


def round_trip_error(x, q, scale, zero_point=0) -> float:
    """max |x - (q - zero_point) * scale|, all in float64 (0.0 for an empty x)."""
    back = (as_float64(q) - as_float64(zero_point)) * as_float64(scale)
    return float((as_float64(x) - back).__abs__().max())


def half_step(scale) -> _ndarray:
    """s / 2 with a small margin: float32 rounding of x / s moves q by about 1e-5 of a step."""
    return as_float64(scale) * 0.5 * (1 + 1e-4) + 1e-12


def make_linear(in_features: int, out_features: int, seed: int, bias: bool = True):
    """A Linear with weights of a few sizes: each column scaled by its own factor."""
    r = np.random.default_rng(seed)
    layer = Linear(in_features, out_features, bias=bias, rng=seed)
    columns = r.uniform(0.3, 3.0, size=out_features)
    layer.weight.data = (r.standard_normal((in_features, out_features)) * columns).astype(_float32)
    if bias:
        layer.bias.data = r.uniform(-2, 2, size=out_features).astype(_float32)
    return layer


def randomise(model, seed: int):
    """Give every LayerNorm of a GPT (ln1, ln2 of each block, ln_f) random weight and bias."""
    r = np.random.default_rng(seed)
    norms = [model.ln_f] + [ln for b in model.blocks for ln in (b.ln1, b.ln2)]
    for ln in norms:
        ln.weight.data = (1 + 0.5 * r.standard_normal(ln.weight.shape)).astype(_float32)
        ln.bias.data = (0.3 * r.standard_normal(ln.bias.shape)).astype(_float32)
    return model


# %% [markdown]
# ## Task `quantize_per_tensor`: symmetric int8, one scale (3 points)
#
# An int8 holds the integers $-128 \dots 127$. To store a float array $x$ in it, pick a
# **scale** $s > 0$ and store $q = \text{round}(x / s)$; reading it back gives $\hat x = s
# \cdot q$. The map is **symmetric**: 0 goes to 0, and $-x$ to $-q$, so only the positive
# range needs a decision. We use $-127 \dots 127$ and leave $-128$ out, which keeps the map
# symmetric ($-(-128)$ does not fit in an int8).
#
# Which scale? The largest $|x|$ must still fit: $|x| / s \le 127$. The smallest scale that
# allows it gives the finest steps:
#
# $$s = \frac{\max_i |x_i|}{127}, \qquad q_i = \text{clip}\big(\text{round}(x_i / s), -127,
# 127\big), \qquad \hat x_i = s \cdot q_i .$$
#
# **The error.** Rounding moves $x_i / s$ by at most $1/2$, so $|x_i - \hat x_i| \le s / 2$
# for every element: half a step. The tests check exactly this bound. Note what it
# depends on: the step $s$ is set by the **largest** value. A tensor of values around 0.01
# with a single 5.0 among them gets $s = 5 / 127 \approx 0.04$, and every small value
# rounds to 0 or $\pm 1$ step: most of its information is gone. The next task fixes the
# commonest case of that.
#
# **Special cases.**
#
# - Zero is exactly representable: $q = 0$, $\hat x = 0$ exactly. (It matters: padding,
#   ReLU outputs and pruned weights are exact zeros, and should stay so.)
# - An **all-zero** tensor has $\max |x| = 0$, and $x / 0$ is NaN with a `RuntimeWarning`
#   (which fails a test cell). Any positive scale represents it exactly; use $s = 1$.
# - A **constant** tensor ($x_i = c \ne 0$ everywhere) gets $s = |c| / 127$ and $q_i = \pm
#   127$: exact up to float32 rounding.
#
# Worked example: $x = (0.5, -1.27, 0, 0.004)$ has $\max |x| = 1.27$, so $s = 0.01$ and $x /
# s = (50, -127, 0, 0.4)$, $q = (50, -127, 0, 0)$; reading back gives $(0.5, -1.27, 0, 0)$:
# the last value was smaller than half a step and is lost.
#
# Contract of `quantize_per_tensor(x)`:
#
# - `x`: a NumPy float array of any shape (checked by the given line);
# - returns `(q, scale)`: `q` an **int8** array of `x`'s shape, `scale` a **float32 NumPy
#   array of shape `()`** (`np.array(s, dtype=np.float32)`), $s = \max|x| / 127$, or 1.0
#   when every element is 0. Compute `q` from the float32 scale you return
#   (`np.round(x / scale)`), clipped to $-127 \dots 127$, then `.astype(np.int8)`.


# %% kind="solution" id="quantize_per_tensor" export=true
def quantize_per_tensor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 with one scale: q = clip(round(x / s), -127, 127), s = max|x| / 127.

    Args:
        x: a float NumPy array of any shape, at least one element, all finite.

    Returns:
        (q, scale): q int8 of x's shape; scale a float32 array of shape (), max|x| / 127, or
        1.0 when x is all zeros (any scale represents zeros exactly; this one avoids 0 / 0).

    Raises:
        TypeError, ValueError: from the given check, for anything but a finite float array.
    """
    _check_float_array(x, "quantize_per_tensor")
    # Task quantize_per_tensor: the scale from the largest |x|; round, clip, int8.
    ### BEGIN SOLUTION
    largest = np.abs(x).max()
    scale = np.array(largest / QMAX if largest > 0 else 1.0, dtype=np.float32)
    q = np.clip(np.round(x / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale
    ### END SOLUTION


# %% [markdown]
# ### Test `quantize_per_tensor`

# %% kind="test" id="test_quantize_per_tensor" points=3
x = np.array([0.5, -1.27, 0.0, 0.004], dtype=np.float32)
q, scale = quantize_per_tensor(x)
assert type(q) is np.ndarray and q.dtype == np.int8, (
    f"q should be a NumPy int8 array, got {type(q).__name__} of dtype {getattr(q, 'dtype', None)}."
)
assert type(scale) is np.ndarray and scale.dtype == np.float32 and scale.shape == (), (
    f"scale should be a float32 array of shape (), np.array(s, dtype=np.float32); got "
    f"{type(scale).__name__} {getattr(scale, 'dtype', '')} {getattr(scale, 'shape', '')}."
)
assert check_close(scale, 0.01, rtol=1e-6), f"max|x| = 1.27, so the scale is 1.27 / 127 = 0.01, got {scale}."
assert check_equal(q, [50, -127, 0, 0]), (
    f"x / 0.01 = (50, -127, 0, 0.4) rounds to (50, -127, 0, 0), got {q.tolist()}."
)
rng = np.random.default_rng(17)
x = rng.standard_normal((5, 7)).astype(np.float32)
q, scale = quantize_per_tensor(x)
assert q.shape == x.shape, f"q should have x's shape {x.shape}, got {q.shape}."
assert q.min() >= -127 and q.max() <= 127, "Symmetric int8 uses -127 .. 127 only."
assert np.abs(q).max() == 127, "The largest |x| should map to +-127: s = max|x| / 127."
err = round_trip_error(x, q, scale)
assert err <= half_step(scale), (
    f"The round trip should be within half a step, s / 2 = {scale / 2:.4g}; the largest "
    f"error was {err:.4g}. Round to the nearest integer (np.round), do not truncate."
)
q, scale = quantize_per_tensor(np.zeros((2, 3)))
assert scale == 1.0 and not q.any(), (
    f"An all-zero tensor: scale 1.0 and q all zeros, got scale {scale} and q {q.tolist()}."
)
err = raised(lambda: quantize_per_tensor(Tensor([1.0, 2.0])))
assert isinstance(err, TypeError), "A Tensor should be refused by the given check (pass .data)."

### BEGIN HIDDEN TESTS
# hidden: the round trip is within half a step for arrays of other shapes, ranks and dtypes
rng = np.random.default_rng(1701)
for shape, dtype, size in (((40,), np.float32, 3.0), ((3, 4, 5), np.float64, 0.02), ((8, 2), np.float32, 50.0)):
    x = (rng.standard_normal(shape) * size).astype(dtype)
    q, scale = quantize_per_tensor(x)
    assert type(q) is np.ndarray and q.dtype == _int8 and q.shape == shape, "int8 of x's shape"
    assert type(scale) is np.ndarray and scale.dtype == _float32 and scale.shape == (), (
        "the scale is a float32 array of shape ()"
    )
    assert check_close(scale, as_float64(x).__abs__().max() / 127, rtol=1e-6), "s = max|x| / 127"
    assert round_trip_error(x, q, scale) <= half_step(scale), "the round trip is within s / 2"
    assert int(q.min()) >= -127 and int(q.max()) <= 127, "the integers stay in -127 .. 127"
# hidden: the largest magnitude maps to +-127, negative or positive
x = np.array([[0.1, -4.0], [2.1, 0.0]], dtype=np.float32)
q, scale = quantize_per_tensor(x)
assert check_equal(q, [[3, -127], [67, 0]]), "round to nearest, the largest magnitude to -127"
assert check_close(scale, 4.0 / 127, rtol=1e-6), "the scale comes from the largest magnitude"
# hidden: zero is exactly representable
x = np.array([0.0, 0.7, -0.3, 0.0, 1e-9], dtype=np.float32)
q, scale = quantize_per_tensor(x)
assert q[0] == 0 and q[3] == 0 and q[4] == 0, "zero (and anything below half a step) is q = 0"
# hidden: constant tensors round-trip to the constant
for c in (0.37, -2.5, 1e-3):
    x = np.full((3, 3), c, dtype=np.float32)
    q, scale = quantize_per_tensor(x)
    assert check_equal(q, np.full((3, 3), 127 if c > 0 else -127)), "a constant maps to +-127"
    assert check_close(as_float64(q) * as_float64(scale), x, rtol=1e-6), "the constant comes back"
# hidden: all-zero tensors get scale 1 and q = 0, without a warning
for shape in ((1,), (4, 5)):
    q, scale = quantize_per_tensor(np.zeros(shape, dtype=np.float32))
    assert scale.dtype == _float32 and check_equal(scale, 1.0), "all zeros: scale 1.0"
    assert q.dtype == _int8 and check_equal(q, np.zeros(shape)), "all zeros: q all 0"
# hidden: values exactly between two steps stay within half a step
x = np.array([127.0, 0.5, 1.5, -2.5, 126.5], dtype=np.float64)
q, scale = quantize_per_tensor(x)
assert round_trip_error(x, q, scale) <= half_step(scale), "ties round to a neighbour"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `quantize_per_channel`: one scale per output channel (2 points)
#
# The weight of a `Linear` is `(in_features, out_features)`: column $j$ holds the weights of
# output $j$, the **output channel**. Channels differ: after training, one output often has
# weights ten times larger than its neighbours. With one scale for the whole matrix, that
# column sets the step for all of them, and the small columns lose their precision.
#
# The fix costs almost nothing: **one scale per column**. Column $j$ gets
#
# $$s_j = \frac{\max_i |W_{ij}|}{127}, \qquad q_{ij} = \text{clip}\big(\text{round}(W_{ij} /
# s_j), -127, 127\big),$$
#
# and each column's error is bounded by its own half step, $s_j / 2$. The extra storage is
# one float32 per output, `out_features` numbers beside `in_features * out_features` bytes.
# It also fits the integer product you will write: output $j$ is a sum over column $j$ only,
# so its scale can be applied once, after the sum. (A scale per **row** would mix scales
# inside every sum, and could not be taken out of it.)
#
# ```
#     W (in, out)            scale (out,)          q (in, out), int8
#   [ 0.12 4.0 -0.03 ]    [0.0016 0.0315 0.0003]   [  76  127  -95 ]
#   [-0.2  1.0  0.04 ]                             [-127   32  127 ]
# ```
#
# Broadcasting does the work: `W / scale` divides every row of `W` by the row of scales, that
# is, column $j$ by $s_j$. A column of zeros gets the scale 1.0, as the all-zero tensor did.
#
# Contract of `quantize_per_channel(w)`:
#
# - `w`: a 2-D NumPy float array `(in_features, out_features)` (a `ValueError` otherwise,
#   from the given line);
# - returns `(q, scale)`: `q` int8 of `w`'s shape, `scale` **float32** of shape
#   `(out_features,)`, $s_j = \max_i |w_{ij}| / 127$ (1.0 for a column of zeros), and $q_{ij}
#   = \text{clip}(\text{round}(w_{ij} / s_j), -127, 127)$ computed with that float32 scale.


# %% kind="solution" id="quantize_per_channel" export=true
def quantize_per_channel(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 with one scale per output channel (column) of w (in, out).

    Args:
        w: a 2-D float NumPy array (in_features, out_features), all finite.

    Returns:
        (q, scale): q int8 (in_features, out_features); scale float32 (out_features,),
        scale[j] = max_i |w[i, j]| / 127, or 1.0 for a column of zeros.

    Raises:
        TypeError, ValueError: from the given checks (a 2-D float array is expected).
    """
    _check_float_array(w, "quantize_per_channel", "w")
    if w.ndim != 2:
        raise ValueError(
            f"quantize_per_channel: w must be 2-D (in_features, out_features), got shape {w.shape}"
        )
    # Task quantize_per_channel: the largest |w| of every column; scales; round, clip, int8.
    ### BEGIN SOLUTION
    largest = np.abs(w).max(axis=0)  # (out,)
    scale = np.where(largest > 0, largest / QMAX, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale
    ### END SOLUTION


# %% [markdown]
# ### Test `quantize_per_channel`

# %% kind="test" id="test_quantize_per_channel" points=2
w = np.array([[0.12, 4.0, -0.03], [-0.2, 1.0, 0.04]], dtype=np.float32)
q, scale = quantize_per_channel(w)
assert type(q) is np.ndarray and q.dtype == np.int8 and q.shape == (2, 3), (
    f"q should be int8 of w's shape (2, 3), got {getattr(q, 'dtype', type(q).__name__)} "
    f"{getattr(q, 'shape', '')}."
)
assert type(scale) is np.ndarray and scale.dtype == np.float32 and scale.shape == (3,), (
    f"scale should be float32 of shape (out_features,) = (3,), one per column; got "
    f"{getattr(scale, 'dtype', type(scale).__name__)} {getattr(scale, 'shape', '')}."
)
assert_array(scale, [0.2 / 127, 4.0 / 127, 0.04 / 127], "scale: max |w| of each column / 127")
assert check_equal(q, [[76, 127, -95], [-127, 32, 127]]), (
    f"q: each column divided by its own scale and rounded, expected [[76, 127, -95], "
    f"[-127, 32, 127]], got {q.tolist()}."
)

rng = np.random.default_rng(170)
w = rng.standard_normal((16, 6)).astype(np.float32)
w[:, 2] *= 50  # an outlier channel
q, scale = quantize_per_channel(w)
per_tensor_step = np.abs(w).max() / 127
small = [j for j in range(6) if j != 2]
err = np.abs(w - q * scale)[:, small].max()
assert err <= 0.5 * per_tensor_step / 10, (
    f"With one scale per column, the columns without the outlier should be quantized far more "
    f"finely than with one scale for all (half a per-tensor step is {per_tensor_step / 2:.3g}); "
    f"their largest error was {err:.3g}."
)

### BEGIN HIDDEN TESTS
# hidden: every column is within half of its own step, for other shapes and dtypes
rng = np.random.default_rng(1702)
for shape, dtype in (((9, 4), np.float32), ((3, 11), np.float64), ((1, 5), np.float32), ((6, 1), np.float32)):
    w = (rng.standard_normal(shape) * rng.uniform(0.01, 10, size=shape[1])).astype(dtype)
    q, scale = quantize_per_channel(w)
    assert type(q) is np.ndarray and q.dtype == _int8 and q.shape == shape, "int8 of w's shape"
    assert type(scale) is np.ndarray and scale.dtype == _float32, "the scales are float32"
    assert scale.shape == (shape[1],), "one scale per output channel (column)"
    assert check_close(scale, as_float64(w).__abs__().max(axis=0) / 127, rtol=1e-6), (
        "s_j = max_i |w_ij| / 127"
    )
    for j in range(shape[1]):
        assert round_trip_error(w[:, j], q[:, j], scale[j]) <= half_step(scale[j]), (
            "each column is within half of its own step"
        )
    assert int(q.min()) >= -127 and int(q.max()) <= 127, "the integers stay in -127 .. 127"
# hidden: square matrices take their scales per column, not per row
w = np.array([[1.1, 0.01, 0.0], [-2.0, 0.022, 0.0], [0.5, -0.04, 0.0]], dtype=np.float32)
q, scale = quantize_per_channel(w)
assert check_close(scale, [2.0 / 127, 0.04 / 127, 1.0], rtol=1e-6), "scales per column"
assert check_equal(q, [[70, 32, 0], [-127, 70, 0], [32, -127, 0]]), "columns by their own scale"
# hidden: a column of zeros gets scale 1 and exact zeros; constant columns come back
w = np.zeros((4, 3), dtype=np.float32)
w[:, 1] = -0.25
q, scale = quantize_per_channel(w)
assert check_equal(scale[[0, 2]], [1.0, 1.0]), "a column of zeros gets the scale 1.0"
assert not q[:, [0, 2]].any(), "a column of zeros stays zero"
assert check_close(as_float64(q[:, 1]) * as_float64(scale[1]), w[:, 1], rtol=1e-6), (
    "a constant column comes back"
)
# hidden: with an outlier channel, per-channel beats per-tensor on every other channel
w = rng.standard_normal((32, 8)).astype(np.float32)
w[:, 5] *= 100
q, scale = quantize_per_channel(w)
tensor_step = as_float64(w).__abs__().max() / 127
for j in range(8):
    if j != 5:
        assert round_trip_error(w[:, j], q[:, j], scale[j]) < 0.05 * tensor_step, (
            "per-channel scales keep the small channels fine despite an outlier channel"
        )
### END HIDDEN TESTS


# %% [markdown]
# ## Task `dequantize`: back to float32 (2 points)
#
# Reading integers back is one line, with one trap. The general (affine) map, which the next
# task needs for activations, has a **zero point** $z$ besides the scale:
#
# $$\hat x = (q - z) \cdot s .$$
#
# For the symmetric weights above $z = 0$. The trap is the integer type: `q - z` computed
# on int8 arrays stays int8, and int8 arithmetic **wraps around** silently: `np.int8(-128)
# - 127` is `1`, not `-255`. Convert to float32 first, then subtract and scale.
#
# The scale broadcasts against `q` as NumPy broadcasts: a scale of shape `()` for the whole
# tensor, a scale of shape `(out_features,)` for the columns of a `(…, out_features)` array.
#
# Contract of `dequantize(q, scale, zero_point=0)`:
#
# - `q`: an int8 NumPy array (checked by the given line); `scale`: a float (or a float
#   array that broadcasts against `q`); `zero_point`: an int (or an int array that
#   broadcasts);
# - returns a new **float32** array of `q`'s shape: `(q - zero_point) * scale`, computed
#   after converting `q` to float32.


# %% kind="solution" id="dequantize" export=true
def dequantize(q: np.ndarray, scale, zero_point=0) -> np.ndarray:
    """Integers back to real numbers: (q - zero_point) * scale, a float32 array of q's shape.

    Args:
        q: a NumPy int8 array.
        scale: a float, or a float array broadcasting against q (a column scale (out,)).
        zero_point: an int, or an int array broadcasting against q; 0 for symmetric weights.

    Raises:
        TypeError: from the given check, when q is not an int8 array.
    """
    _check_int8(q, "dequantize", "q")
    # Task dequantize: to float32 first (int8 arithmetic wraps around), then (q - z) * s.
    ### BEGIN SOLUTION
    return ((q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)
    ### END SOLUTION


# %% [markdown]
# ### Test `dequantize`

# %% kind="test" id="test_dequantize" points=2
q = np.array([50, -127, 0, 0], dtype=np.int8)
got = dequantize(q, np.float32(0.01))
assert type(got) is np.ndarray and got.dtype == np.float32, (
    f"dequantize should return a float32 NumPy array, got {getattr(got, 'dtype', type(got).__name__)}."
)
assert_array(got, [0.5, -1.27, 0.0, 0.0], "dequantize(q, 0.01): q * s")
got = dequantize(np.array([-128, 127, 0], dtype=np.int8), 0.5, zero_point=127)
assert_array(got, [-127.5, 0.0, -63.5], (
    "dequantize(q, 0.5, zero_point=127): (q - 127) * 0.5; int8 arithmetic wraps around, so "
    "convert q to float32 before subtracting"
))
q = np.array([[10, -20, 30], [1, 2, 3]], dtype=np.int8)
got = dequantize(q, np.array([0.1, 1.0, 2.0], dtype=np.float32))
assert_array(got, [[1.0, -20.0, 60.0], [0.1, 2.0, 6.0]], "a scale per column broadcasts over rows")

### BEGIN HIDDEN TESTS
# hidden: (q - z) * s in float32 for other shapes, scales and zero points
rng = np.random.default_rng(1703)
for shape, z in (((7,), 0), ((3, 5), -128), ((2, 3, 4), 127), ((4, 4), 5)):
    q = rng.integers(-128, 128, size=shape).astype(_int8)
    s = float(rng.uniform(0.001, 2))
    got = dequantize(q, s, z)
    assert type(got) is np.ndarray and got.dtype == _float32 and got.shape == shape, (
        "a float32 array of q's shape"
    )
    assert check_close(got, (as_float64(q) - z) * s, rtol=1e-6, atol=1e-6), "(q - z) * s"
# hidden: the zero point never wraps around in int8
q = np.array([-128, -100, 127], dtype=_int8)
assert check_close(dequantize(q, 1.0, 100), [-228.0, -200.0, 27.0]), "no int8 wrap-around"
assert check_close(dequantize(q, 2.0, -100), [-56.0, 0.0, 454.0]), "no int8 wrap-around"
# hidden: column scales broadcast over the leading axes
q = rng.integers(-127, 128, size=(2, 3, 4)).astype(_int8)
s = rng.uniform(0.01, 1, size=4).astype(_float32)
assert check_close(dequantize(q, s), as_float64(q) * as_float64(s), rtol=1e-6), "column scales"
# hidden: a 0-d float32 scale and the default zero point of 0
assert check_close(dequantize(q, np.array(0.25, dtype=_float32)), as_float64(q) * 0.25), (
    "a 0-d scale array and zero_point 0 by default"
)
# hidden: q is refused unless it is an int8 array
assert isinstance(raised(lambda: dequantize(np.array([1.0, 2.0]), 1.0)), TypeError), (
    "a float array is not an int8 array"
)
### END HIDDEN TESTS


# %% [markdown]
# ## Task `quantize_activation`: affine int8 with a zero point (3 points)
#
# Weights are known before the model runs, and they are roughly symmetric around 0.
# **Activations**, the inputs of each layer, are neither: they change with every input, and
# many are far from symmetric. The output of a GELU lies in about $[-0.17, \infty)$; a
# symmetric map would spend half of its 255 levels on negative values that never occur. An
# **affine** map uses all 256 levels of an int8, $-128 \dots 127$, for the range
# $[\text{low}, \text{high}]$ the values actually take, with a **zero point** $z$, the integer
# that stands for the real number 0:
#
# $$s = \frac{\text{high} - \text{low}}{255}, \qquad z = \text{round}\Big(-128 -
# \frac{\text{low}}{s}\Big), \qquad q = \text{clip}\big(\text{round}(x / s) + z, -128,
# 127\big), \qquad \hat x = (q - z) \cdot s .$$
#
# `low` maps to about $-128$ and `high` to about $127$. Two details make it exact where it
# matters:
#
# - **Zero must be exactly representable.** Zero-padding, the zeros of a ReLU and the zeros
#   of a mask must come back as exactly 0, and a zero point that is an integer guarantees it:
#   $x = 0$ gives $q = z$ and $\hat x = (z - z) \cdot s = 0$. For that, $z$ must lie in
#   $-128 \dots 127$, so the range must contain 0: widen it first, $\text{low} \leftarrow
#   \min(\text{low}, 0)$, $\text{high} \leftarrow \max(\text{high}, 0)$. (A ReLU output with
#   range $[0, 6]$ then gets $z = -128$: all 256 levels for non-negative values.)
# - **An empty range.** When low = high = 0 (an all-zero input), $s$ would be 0; use $s = 1$,
#   as before.
#
# Rounding $z$ moves every level by at most half a step, but the clip keeps every $q$ in
# range, and a value inside $[\text{low}, \text{high}]$ still comes back within $s / 2$.
# Values **outside** the range are clipped to its ends: that is the point of a calibrated
# range (the next tasks), which is measured on sample inputs and then fixed.
#
# Worked example: the range $(-1, 3)$ gives $s = 4 / 255 \approx 0.01569$ and $z =
# \text{round}(-128 + 63.75) = -64$. Then $x = 0$ gives $q = -64$, $x = 3$ gives $191 - 64 =
# 127$, and $x = -1$ gives $-64 - 64 = -128$.
#
# **Dynamic or calibrated.** `quantize_activation(x)` computes the range from `x` itself (its
# smallest and largest value): **dynamic** quantization, as PyTorch's `quantize_dynamic`
# does for every input. `quantize_activation(x, scale, zero_point)` uses a scale and zero
# point given to it, from a range measured beforehand: **static**, or calibrated,
# quantization. `QuantizedLinear` uses the second: a fixed input scale lets its bias be
# stored as an int32 at the scale $s_x s_W$ once and for all.
#
# Contract:
#
# - `activation_params(low, high)`: the given line checks that they are finite with low <=
#   high. Widen the range to contain 0; $s = (\text{high} - \text{low}) / 255$ as a
#   **float32 array of shape `()`** (1.0 when high = low); $z = \text{round}(-128 -
#   \text{low} / s)$ with that float32 $s$, clipped to $-128 \dots 127$, a Python `int`.
#   Returns `(scale, zero_point)`.
# - `quantize_activation(x, scale=None, zero_point=None)`: `x` a float NumPy array (checked).
#   Without `scale` and `zero_point`, take them from `activation_params(x.min(), x.max())`;
#   with both, use them as given. Returns `(q, scale, zero_point)`: `q` **int8** of `x`'s
#   shape, $\text{clip}(\text{round}(x / s) + z, -128, 127)$, and the scale and zero point
#   used.


# %% kind="solution" id="quantize_activation" export=true
def activation_params(low: float, high: float) -> tuple[np.ndarray, int]:
    """Scale and zero point of the affine int8 map of the range [low, high], widened to 0.

    Returns:
        (scale, zero_point): scale a float32 array of shape (), (high - low) / 255 after
        widening (1.0 for an empty range); zero_point a Python int in -128 .. 127,
        round(-128 - low / scale). A real 0 maps to zero_point exactly.

    Raises:
        ValueError: from the given check, unless low <= high are finite.
    """
    _check_range(low, high, "activation_params")
    # Task quantize_activation: widen to contain 0; the scale; the zero point, clipped.
    ### BEGIN SOLUTION
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    scale = np.array((high - low) / 255 if high > low else 1.0, dtype=np.float32)
    zero_point = int(np.clip(np.round(-128 - low / scale), -128, 127))
    return scale, zero_point
    ### END SOLUTION


def quantize_activation(x: np.ndarray, scale=None, zero_point=None) -> tuple:
    """Affine int8: q = clip(round(x / scale) + zero_point, -128, 127).

    Args:
        x: a float NumPy array of any shape.
        scale, zero_point: both None (dynamic: from activation_params(x.min(), x.max())), or
            both given (static: a calibrated scale and zero point).

    Returns:
        (q, scale, zero_point): q int8 of x's shape; the scale and zero point used.

    Raises:
        TypeError, ValueError: from the given checks (a finite float array; both or neither
            of scale and zero_point).
    """
    _check_float_array(x, "quantize_activation")
    if (scale is None) != (zero_point is None):
        raise ValueError("quantize_activation: give both scale and zero_point, or neither")
    # Task quantize_activation: the parameters from x when none are given; round, shift, clip.
    ### BEGIN SOLUTION
    if scale is None:
        scale, zero_point = activation_params(x.min(), x.max())
    q = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
    return q, scale, zero_point
    ### END SOLUTION


# %% [markdown]
# ### Test `quantize_activation`

# %% kind="test" id="test_quantize_activation" points=3
scale, zero_point = activation_params(-1.0, 3.0)
assert type(scale) is np.ndarray and scale.dtype == np.float32 and scale.shape == (), (
    f"The scale should be a float32 array of shape (), got {type(scale).__name__} "
    f"{getattr(scale, 'dtype', '')} {getattr(scale, 'shape', '')}."
)
assert check_close(scale, 4 / 255, rtol=1e-6), f"The range (-1, 3): s = 4 / 255, got {scale}."
assert type(zero_point) is int and zero_point == -64, (
    f"The range (-1, 3): z = round(-128 + 1 / s) = round(-64.25) = -64, a Python int; got "
    f"{zero_point!r}."
)
scale, zero_point = activation_params(0.5, 6.0)
assert check_close(scale, 6 / 255, rtol=1e-6) and zero_point == -128, (
    f"The range (0.5, 6) widens to (0, 6): s = 6 / 255 and z = -128; got s = {scale}, "
    f"z = {zero_point}. Widen the range to contain 0 first."
)
x = np.array([0.0, 3.0, -1.0, 1.0], dtype=np.float32)
q, scale, zero_point = quantize_activation(x)
assert type(q) is np.ndarray and q.dtype == np.int8, (
    f"q should be an int8 array, got {getattr(q, 'dtype', type(q).__name__)}."
)
assert zero_point == -64 and check_equal(q, [-64, 127, -128, 0]), (
    f"Dynamic quantization of (0, 3, -1, 1): the range (-1, 3), z = -64, q = (-64, 127, -128, "
    f"0); got z = {zero_point}, q = {q.tolist()}."
)
back = (q.astype(np.float64) - zero_point) * scale
assert back[0] == 0.0, f"Zero must come back as exactly 0.0, got {back[0]}."
rng = np.random.default_rng(171)
x = rng.uniform(-0.2, 5.0, size=(4, 6)).astype(np.float32)
q, scale, zero_point = quantize_activation(x)
err = round_trip_error(x, q, scale, zero_point)
assert err <= half_step(scale), f"Within the range, the round trip is within s / 2; error {err:.3g}."
q, s2, z2 = quantize_activation(np.array([-5.0, 0.5, 9.0], dtype=np.float32), scale, zero_point)
assert s2 is scale and z2 == zero_point and check_equal(q, [-128, q[1], 127]), (
    "With a given scale and zero point, use them: values outside their range clip to -128 / 127."
)

### BEGIN HIDDEN TESTS
# hidden: scale and zero point of ranges on both sides of 0, positive only, negative only
for low, high in ((-2.0, 2.0), (-0.3, 7.1), (1.0, 4.0), (-6.0, -1.5), (-1e-3, 2e-3), (0.0, 0.0)):
    scale, zero_point = activation_params(low, high)
    lo, hi = min(low, 0.0), max(high, 0.0)
    s = (hi - lo) / 255 if hi > lo else 1.0
    assert type(scale) is np.ndarray and scale.dtype == _float32 and scale.shape == (), (
        "the scale is a float32 array of shape ()"
    )
    assert check_close(scale, s, rtol=1e-6), "s = (high - low) / 255 over the range widened to 0"
    assert type(zero_point) is int and -128 <= zero_point <= 127, "z is an int in -128 .. 127"
    assert abs(zero_point - (-128 - lo / as_float64(scale))) <= 0.5 + 1e-6, "z = round(-128 - low / s)"
# hidden: an all-zero range gets scale 1
scale, zero_point = activation_params(0.0, 0.0)
assert check_equal(scale, 1.0), "an empty range gets the scale 1.0"
# hidden: the round trip is within half a step, and zero is exact, for other data
rng = np.random.default_rng(1704)
for shape, low, high, dtype in (((50,), -3.0, 1.0, np.float32), ((2, 3, 4), 0.0, 9.0, np.float64), ((7, 3), -0.01, 0.02, np.float32)):
    x = rng.uniform(low, high, size=shape).astype(dtype)
    x.flat[0] = 0.0
    q, scale, zero_point = quantize_activation(x)
    assert type(q) is np.ndarray and q.dtype == _int8 and q.shape == shape, "int8 of x's shape"
    assert round_trip_error(x, q, scale, zero_point) <= half_step(scale), "within s / 2"
    assert int(q.flat[0]) == zero_point, "zero maps to the zero point exactly"
    assert int(q.min()) <= -126 and int(q.max()) >= 126 or high <= 0 or low >= 0, (
        "the range uses the whole int8 scale"
    )
# hidden: constant and all-zero inputs
for c in (2.5, -0.75):
    x = np.full((3, 2), c, dtype=np.float32)
    q, scale, zero_point = quantize_activation(x)
    assert round_trip_error(x, q, scale, zero_point) <= half_step(scale), "a constant comes back"
q, scale, zero_point = quantize_activation(np.zeros((2, 2), dtype=np.float32))
assert check_equal(scale, 1.0), "all zeros: scale 1.0"
assert check_equal(as_float64(q) - zero_point, np.zeros((2, 2))), "all zeros come back as zeros"
# hidden: a given scale and zero point are used as given, clipping outside their range
scale, zero_point = activation_params(-1.0, 1.0)
x = np.array([[-3.0, -1.0, 0.0], [0.25, 1.0, 40.0]], dtype=np.float32)
q, s2, z2 = quantize_activation(x, scale, zero_point)
expected = np.clip(np.round(as_float64(x) / as_float64(scale)) + zero_point, -128, 127)
assert s2 is scale and z2 == zero_point, "the given scale and zero point are returned"
assert check_equal(q, expected), "static quantization uses the given scale and zero point"
q, _, _ = quantize_activation(np.array([0.5], dtype=np.float32), np.array(0.1, dtype=_float32), 10)
assert check_equal(q, [15]), "round(x / s) + z"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `int8_matmul`: integers multiplied, in int32 (3 points)
#
# Now the product that a quantized layer computes. With the input quantized affinely,
# $x \approx s_x (q_x - z_x)$, and the weight symmetrically per column, $W_{kj} \approx s_j
# q_{kj}$,
#
# $$y_j = \sum_k x_k W_{kj} \approx s_x s_j \underbrace{\sum_k (q_{x,k} - z_x)\,
# q_{kj}}_{\text{integers only}} .$$
#
# The scales come out of the sum, so the sum itself is pure integer arithmetic, which is
# what int8 hardware does fast. Two things need care.
#
# **The accumulator.** Each product $(q_x - z_x) q$ is up to $255 \cdot 127 = 32{,}385$,
# and a sum of $K$ of them up to $K$ times that: it does not fit in an int8 (127), nor in an
# int16 (32,767) past a single term. Integer types in NumPy, as in C, **wrap around**
# silently when they overflow: an int8 accumulator returns garbage without an error. Real
# hardware multiplies int8 pairs and accumulates in **int32** (good for $K$ up to about
# 66,000 here), and so do you: convert both operands to `np.int32` before the product, and
# the `@` of two int32 arrays accumulates in int32.
#
# **The zero point.** Hardware multiplies the stored int8 $q_x$, not $q_x - z_x$ (which no
# longer fits in 8 bits). Expand the sum:
#
# $$\sum_k (q_{x,k} - z_x) q_{kj} = \sum_k q_{x,k} q_{kj} \;-\; z_x \sum_k q_{kj}.$$
#
# The first term is the plain integer product `qx @ qw`; the second is the zero point times
# the **column sums** of the weight, one integer per output, which a real layer computes
# once when it is built. Subtract it, and the result is exactly the product of the shifted
# integers.
#
# Contract of `int8_matmul(qx, zero_point, qw)`:
#
# - `qx`: int8 array `(..., K)`; `zero_point`: an int; `qw`: int8 array `(K, N)` (the given
#   lines check the types and that the `K` agree);
# - returns a new **int32** array `(..., N)`, exactly $\sum_k (q_{x,k} - z) q_{kj}$: `qx @
#   qw` in int32, minus `zero_point` times the column sums of `qw` (sum them in int32:
#   `.sum(axis=0, dtype=np.int32)`; NumPy's default sum of an int32 array is an int64).


# %% kind="solution" id="int8_matmul" export=true
def int8_matmul(qx: np.ndarray, zero_point: int, qw: np.ndarray) -> np.ndarray:
    """(qx - zero_point) @ qw exactly, with an int32 accumulator: an int32 (..., N) array.

    Args:
        qx: int8 (..., K), affine-quantized inputs with this zero point.
        zero_point: the inputs' zero point, an int.
        qw: int8 (K, N), symmetric weights.

    Returns:
        int32 (..., N): qx @ qw accumulated in int32, minus zero_point * (column sums of qw).

    Raises:
        TypeError: from the given checks, unless qx and qw are int8 arrays.
        ValueError: from the given check, when qx.shape[-1] != qw.shape[0] (or qw is not 2-D).
    """
    _check_int8(qx, "int8_matmul", "qx")
    _check_int8(qw, "int8_matmul", "qw")
    if qw.ndim != 2 or qx.ndim == 0 or qx.shape[-1] != qw.shape[0]:
        raise ValueError(f"int8_matmul: {qx.shape} @ {qw.shape}: expected (..., K) @ (K, N)")
    # Task int8_matmul: int32 operands, the product, the zero-point correction.
    ### BEGIN SOLUTION
    wide = qw.astype(np.int32)  # (K, N)
    acc = qx.astype(np.int32) @ wide  # (..., N), accumulated in int32
    acc -= np.int32(zero_point) * wide.sum(axis=0, dtype=np.int32)  # (N,): the correction
    return acc
    ### END SOLUTION


# %% [markdown]
# ### Test `int8_matmul`

# %% kind="test" id="test_int8_matmul" points=3
qx = np.array([[1, 2], [-3, 4]], dtype=np.int8)
qw = np.array([[5, -6, 7], [8, 9, -10]], dtype=np.int8)
got = int8_matmul(qx, 0, qw)
assert type(got) is np.ndarray and got.dtype == np.int32, (
    f"int8_matmul should return an int32 array, got {getattr(got, 'dtype', type(got).__name__)}."
)
assert check_equal(got, [[21, 12, -13], [17, 54, -61]]), (
    f"With zero point 0 it is the plain product qx @ qw = [[21, 12, -13], [17, 54, -61]], "
    f"got {got.tolist()}."
)
got = int8_matmul(qx, 3, qw)
assert check_equal(got, [[-18, 3, -4], [-22, 45, -52]]), (
    f"With zero point 3: (qx - 3) @ qw = [[-18, 3, -4], [-22, 45, -52]], got {got.tolist()}: "
    "subtract 3 times the column sums of qw."
)
qx = np.full((1, 40), 127, dtype=np.int8)
qw = np.full((40, 2), 127, dtype=np.int8)
got = int8_matmul(qx, -128, qw)
assert got.dtype == np.int32 and check_equal(got, [[40 * 255 * 127] * 2]), (
    f"40 products of (127 + 128) * 127 sum to 1,295,400; got {got.tolist()}. An int8 or "
    "int16 accumulator wraps around: convert both operands to np.int32 first."
)

### BEGIN HIDDEN TESTS
# hidden: (qx - z) @ qw exactly, for other shapes, ranks and zero points
rng = np.random.default_rng(1705)
for xshape, k, n, z in (((3, 5), 5, 4, -7), ((2, 3, 6), 6, 2, 100), ((8,), 8, 3, -128), ((1, 1), 1, 1, 127)):
    qx = rng.integers(-128, 128, size=xshape).astype(_int8)
    qw = rng.integers(-127, 128, size=(k, n)).astype(_int8)
    got = int8_matmul(qx, z, qw)
    expected = (qx.astype(np.int64) - z) @ qw.astype(np.int64)
    assert type(got) is np.ndarray and got.dtype == _int32, "an int32 array"
    assert check_equal(got, expected), "exactly (qx - z) @ qw"
# hidden: the accumulator is int32, with sums far past the range of int8 and int16
qx = np.full((2, 600), -128, dtype=_int8)
qx[1] = 127
qw = np.full((600, 3), 127, dtype=_int8)
qw[:, 1] = -127
got = int8_matmul(qx, 127, qw)
expected = (qx.astype(np.int64) - 127) @ qw.astype(np.int64)
assert got.dtype == _int32 and check_equal(got, expected), "an int32 accumulator does not wrap"
qx = rng.integers(-128, 128, size=(4, 300)).astype(_int8)
qw = rng.integers(-127, 128, size=(300, 5)).astype(_int8)
got = int8_matmul(qx, -20, qw)
assert check_equal(got, (qx.astype(np.int64) + 20) @ qw.astype(np.int64)), (
    "an int32 accumulator does not wrap"
)
# hidden: the inputs are not changed
qx = rng.integers(-128, 128, size=(3, 4)).astype(_int8)
qw = rng.integers(-127, 128, size=(4, 2)).astype(_int8)
before = (qx.copy(), qw.copy())
int8_matmul(qx, 9, qw)
assert check_equal(qx, before[0]) and check_equal(qw, before[1]), "the inputs stay as they were"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `quantized_linear`: a Linear layer in integers (4 points)
#
# Everything comes together in one layer. `QuantizedLinear(linear, input_range)` is built
# from a trained `Linear` and the range its inputs took on sample data (the next tasks
# measure it), and then works without the float weights.
#
# **When it is built** it stores:
#
# - the weight as int8 with its scales: `quantize_per_channel(W)` (one scale per output,
#   the default) or `quantize_per_tensor(W)` when `per_channel=False`;
# - the **calibrated** input scale and zero point, `activation_params(low, high)` of the
#   input range, fixed from now on;
# - the bias in **int32**, at the scale of the accumulator, $s_x s_j$ for output $j$:
#   $q_{b,j} = \text{round}\big(b_j / (s_x s_j)\big)$. The accumulator counts in units of
#   $s_x s_j$, so the bias is added to it as one more integer. Why not int8, like the
#   weights? $s_x s_j$ is tiny (about $10^{-4}$ here), so a bias of 0.5 is about 5,000 of
#   those units: it fits an int32 easily and an int8 not at all. The extra bytes are few:
#   4 per output.
#
# and **nothing else**: no reference to the `Linear`, its weight or its bias. The float
# weights are gone when the last reference to the `Linear` is (the model's, which
# `quantize_model` replaces), which is the memory this module is about. The tests check it
# with a weak reference, which does not keep an object alive.
#
# **When it is called** on a float `Tensor` `x` of shape `(..., in_features)`:
#
# 1. quantize the input with the **calibrated** scale and zero point (static), not with a
#    range of its own: `quantize_activation(x.data, input_scale, input_zero_point)`. An
#    input beyond the calibrated range is clipped to its ends;
# 2. `acc = int8_matmul(qx, input_zero_point, weight_q)`, int32 `(..., out_features)`;
# 3. add the int32 bias, if there is one (int32 + int32 stays int32);
# 4. scale back to real numbers, once per output: $y = \text{acc} \cdot s_x s_j$, as a
#    float32 array, returned as a `Tensor`.
#
# There is no float matrix product anywhere, and no float weight is ever made again. (The
# layer is for inference: its output has no gradient.)
#
# Contract of `QuantizedLinear(linear, input_range, per_channel=True)`:
#
# - the given lines check `linear` (a `Linear`) and `input_range` `(low, high)`, and store
#   `in_features`, `out_features` and `per_channel`;
# - you store `weight_q` (int8, `(in_features, out_features)`), `weight_scale` (float32,
#   `(out_features,)` per channel, `()` per tensor), `input_scale` (float32 `()`) and
#   `input_zero_point` (int) from `activation_params(low, high)`, and `bias_q`: `None`
#   when the `Linear` has no bias, else int32 `(out_features,)`, `np.round(b / (input_scale
#   * weight_scale))` computed in float64; nothing else (no float weight, no `Linear`);
# - `forward(x)`: `x` a `Tensor` `(..., in_features)` (checked by the given line); returns a
#   new float32 `Tensor` `(..., out_features)`: steps 1 to 4 above.


# %% kind="solution" id="quantized_linear" export=true
class QuantizedLinear(Layer):
    """An int8 Linear: y = s_x * s_w * ((q_x - z_x) @ q_w + q_b), accumulated in int32.

    Attributes:
        in_features, out_features, per_channel: as given.
        weight_q: int8 (in_features, out_features).
        weight_scale: float32 (out_features,) per channel, or () per tensor.
        input_scale, input_zero_point: the calibrated affine map of the inputs (float32 (),
            int), from activation_params(*input_range).
        bias_q: int32 (out_features,) at the scale input_scale * weight_scale, or None.
    No float weight and no reference to the original Linear are kept.
    """

    def __init__(self, linear: Linear, input_range: tuple, per_channel: bool = True):
        """Quantize linear's weight and bias with the calibrated input range (low, high).

        Raises:
            TypeError: when linear is not a Linear.
            ValueError: unless input_range is (low, high), finite, low <= high.
        """
        super().__init__()
        if not isinstance(linear, Linear):
            raise TypeError(f"QuantizedLinear: expected a Linear, got {type(linear).__name__}")
        low, high = input_range
        _check_range(low, high, "QuantizedLinear")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.per_channel = bool(per_channel)
        # Task quantized_linear: int8 weight and scales; the calibrated input map; int32 bias.
        ### BEGIN SOLUTION
        quantize = quantize_per_channel if per_channel else quantize_per_tensor
        self.weight_q, self.weight_scale = quantize(linear.weight.data)
        self.input_scale, self.input_zero_point = activation_params(low, high)
        if linear.bias is None:
            self.bias_q = None
        else:
            bias_scale = np.float64(self.input_scale) * self.weight_scale.astype(np.float64)
            self.bias_q = np.round(linear.bias.data / bias_scale).astype(np.int32)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x (..., in_features), float -> a new float32 Tensor (..., out_features).

        Raises:
            TypeError, ValueError: from the given check (a Tensor with in_features last).
        """
        _check_input(x, self.in_features, "QuantizedLinear")
        # Task quantized_linear: quantize x with the calibrated map; integer product; bias; scale.
        ### BEGIN SOLUTION
        qx, _, _ = quantize_activation(x.data, self.input_scale, self.input_zero_point)
        acc = int8_matmul(qx, self.input_zero_point, self.weight_q)  # (..., out) int32
        if self.bias_q is not None:
            acc = acc + self.bias_q
        return Tensor((acc * (self.input_scale * self.weight_scale)).astype(np.float32))
        ### END SOLUTION

    def __repr__(self) -> str:
        kind = "per channel" if self.per_channel else "per tensor"
        return (
            f"QuantizedLinear(in_features={self.in_features}, out_features={self.out_features}, "
            f"int8 {kind}, bias={getattr(self, 'bias_q', None) is not None})"
        )


# %% [markdown]
# ### Test `quantized_linear`

# %% kind="test" id="test_quantized_linear" points=4
linear = make_linear(6, 4, seed=17)
rng = np.random.default_rng(172)
x = rng.uniform(-2.0, 3.0, size=(5, 6)).astype(np.float32)
layer = QuantizedLinear(linear, (-2.0, 3.0))
assert isinstance(layer, Layer), "QuantizedLinear should be a Layer (it calls super().__init__())."
assert getattr(layer, "weight_q", None) is not None and layer.weight_q.dtype == np.int8, (
    "QuantizedLinear should store weight_q, the int8 weight."
)
assert layer.weight_q.shape == (6, 4) and layer.weight_scale.shape == (4,), (
    f"Per channel: weight_q (6, 4) and weight_scale (4,), got {layer.weight_q.shape} and "
    f"{getattr(layer.weight_scale, 'shape', None)}."
)
assert check_close(layer.input_scale, 5 / 255, rtol=1e-6) and layer.input_zero_point == -26, (
    f"The input range (-2, 3): input_scale = 5 / 255 and input_zero_point = round(-128 + 102) "
    f"= -26, from activation_params; got {layer.input_scale} and {layer.input_zero_point}."
)
assert isinstance(layer.bias_q, np.ndarray) and layer.bias_q.dtype == np.int32, (
    f"The bias should be stored as int32 (bias_q), got "
    f"{getattr(layer.bias_q, 'dtype', type(layer.bias_q).__name__)}."
)
exact_bias = linear.bias.data / (float(layer.input_scale) * layer.weight_scale.astype(np.float64))
assert np.abs(layer.bias_q - exact_bias).max() <= 0.5 + 1e-6, (
    "bias_q should be round(b / (input_scale * weight_scale)): the bias in units of the accumulator."
)
floats = [
    name
    for name, value in vars(layer).items()
    if isinstance(value, (Tensor, Layer)) or getattr(value, "size", 0) >= 24
    and getattr(value, "dtype", None) in (np.float32, np.float64)
]
assert not floats, f"QuantizedLinear should keep no float weights and no Linear, found {floats}."

y = layer(Tensor(x))
assert_tensor(y, x @ linear.weight.data + linear.bias.data, "QuantizedLinear(x) against the float Linear", rtol=0, atol=0.25)
qx = np.clip(np.round(x / layer.input_scale) + layer.input_zero_point, -128, 127)
acc = (qx - layer.input_zero_point) @ layer.weight_q.astype(np.float64) + layer.bias_q
assert_tensor(y, acc * float(layer.input_scale) * layer.weight_scale, (
    "QuantizedLinear(x): s_x * s_w * ((q_x - z_x) @ q_w + q_b), with the calibrated input map"
))

ref = weakref.ref(linear.weight)
del linear
gc.collect()
assert ref() is None, (
    "After the Linear is deleted its float weight should be freed: QuantizedLinear must not keep "
    "a reference to the Linear or to its weight."
)

### BEGIN HIDDEN TESTS
# hidden: the integer path, with the calibrated input map, for other sizes and input ranks
rng = np.random.default_rng(1706)
for n_in, n_out, shape, low, high, per_channel in (
    (5, 3, (2, 4, 5), -1.0, 4.0, True),
    (8, 8, (3, 8), 0.0, 2.5, False),
    (3, 6, (3,), -3.0, -0.5, True),
):
    lin = make_linear(n_in, n_out, seed=int(rng.integers(1000)))
    x = rng.uniform(low, high, size=shape).astype(_float32)
    layer = QuantizedLinear(lin, (low, high), per_channel=per_channel)
    w = lin.weight.data
    qw_shape = (n_out,) if per_channel else ()
    assert layer.weight_q.dtype == _int8 and layer.weight_q.shape == (n_in, n_out), "int8 weight"
    assert layer.weight_scale.dtype == _float32 and layer.weight_scale.shape == qw_shape, (
        "a float32 scale per column, or one of shape () per tensor"
    )
    step = as_float64(w).__abs__().max(axis=0 if per_channel else None) / 127
    assert check_close(layer.weight_scale, step, rtol=1e-6), "the weight's symmetric scales"
    back = as_float64(layer.weight_q) * as_float64(layer.weight_scale)
    assert (as_float64(w) - back).__abs__().max() <= half_step(step).max(), "weight within s / 2"
    lo, hi = min(low, 0.0), max(high, 0.0)
    assert check_close(layer.input_scale, (hi - lo) / 255, rtol=1e-6), "the calibrated input scale"
    assert layer.input_zero_point == int(np.clip(np.round(-128 - lo / as_float64(layer.input_scale)), -128, 127)), (
        "the calibrated input zero point"
    )
    assert layer.bias_q.dtype == _int32 and layer.bias_q.shape == (n_out,), "an int32 bias"
    exact = as_float64(lin.bias.data) / (as_float64(layer.input_scale) * as_float64(layer.weight_scale))
    assert (as_float64(layer.bias_q) - exact).__abs__().max() <= 0.5 + 1e-6, "b / (s_x s_w), rounded"
    y = layer(Tensor(x))
    qx = np.clip(np.round(as_float64(x) / as_float64(layer.input_scale)) + layer.input_zero_point, -128, 127)
    acc = (qx - layer.input_zero_point) @ as_float64(layer.weight_q) + layer.bias_q
    expected = acc * as_float64(layer.input_scale) * as_float64(layer.weight_scale)
    assert isinstance(y, Tensor) and type(y.data) is np.ndarray and y.data.dtype == _float32, (
        "a float32 Tensor"
    )
    assert y.shape == shape[:-1] + (n_out,), "the output is (..., out_features)"
    assert check_close(y.data, expected, rtol=1e-5, atol=1e-5), "s_x s_w ((q_x - z_x) @ q_w + q_b)"
    assert check_close(y.data, as_float64(x) @ as_float64(w) + lin.bias.data, rtol=0, atol=0.05 * (hi - lo) * n_in), (
        "close to the float layer"
    )
# hidden: inputs beyond the calibrated range are clipped by the calibrated map
lin = make_linear(4, 2, seed=3)
layer = QuantizedLinear(lin, (-1.0, 1.0))
x = np.array([[5.0, -5.0, 0.5, 0.0]], dtype=_float32)
clipped = np.array([[1.0, -1.0, 0.5, 0.0]])
y = layer(Tensor(x))
assert check_close(y.data, clipped @ as_float64(lin.weight.data) + lin.bias.data, rtol=0, atol=0.05), (
    "the calibrated scale is used: inputs clip to the calibrated range"
)
# hidden: a bias of many accumulator steps keeps its precision in int32
lin = Linear(4, 3, rng=11)
lin.weight.data = np.array([[3.0, -2.9, 1.7], [-1.1, 2.3, -3.0], [0.4, 0.2, 2.8], [2.0, -0.7, 0.9]], dtype=_float32)
lin.bias.data = np.array([1000.0, -750.3, 0.001], dtype=_float32)
layer = QuantizedLinear(lin, (-0.01, 0.01))
exact = as_float64(lin.bias.data) / (as_float64(layer.input_scale) * as_float64(layer.weight_scale))
assert (as_float64(layer.bias_q) - exact).__abs__().max() <= 0.5 + 1e-6, (
    "the bias scale s_x s_w and the division are computed in float64"
)
# hidden: no bias is no bias
lin = make_linear(3, 5, seed=4, bias=False)
layer = QuantizedLinear(lin, (-2.0, 2.0))
assert layer.bias_q is None, "a Linear without a bias gives bias_q = None"
x = rng.uniform(-2, 2, size=(2, 3)).astype(_float32)
y = layer(Tensor(x))
qx = np.clip(np.round(as_float64(x) / as_float64(layer.input_scale)) + layer.input_zero_point, -128, 127)
expected = ((qx - layer.input_zero_point) @ as_float64(layer.weight_q)) * as_float64(layer.input_scale) * as_float64(layer.weight_scale)
assert check_close(y.data, expected, rtol=1e-5, atol=1e-6), "no bias added when there is none"
# hidden: the multiplication is done in integers: a float product is never used
lin = make_linear(6, 3, seed=5)
layer = QuantizedLinear(lin, (-1.0, 1.0))
x = rng.uniform(-1, 1, size=(4, 6)).astype(_float32)
saved = layer.weight_q.copy()
layer.weight_q[0, 0] = 100
y = layer(Tensor(x))
qx = np.clip(np.round(as_float64(x) / as_float64(layer.input_scale)) + layer.input_zero_point, -128, 127)
acc = (qx - layer.input_zero_point) @ as_float64(layer.weight_q) + layer.bias_q
assert check_close(y.data, acc * as_float64(layer.input_scale) * as_float64(layer.weight_scale), rtol=1e-5, atol=1e-5), (
    "the output is computed from the stored int8 weight"
)
# hidden: the float weights are freed, and no float copy of them is kept
for per_channel in (True, False):
    lin = make_linear(16, 12, seed=6)
    refs = (weakref.ref(lin.weight), weakref.ref(lin.bias), weakref.ref(lin))
    layer = QuantizedLinear(lin, (0.0, 1.0), per_channel=per_channel)
    del lin
    gc.collect()
    assert all(r() is None for r in refs), "the Linear, its weight and its bias are freed"
    held = [v for v in vars(layer).values() if type(v) is np.ndarray]
    assert sum(v.nbytes for v in held) <= 16 * 12 + 4 * 12 * 2 + 4, "only int8 weights, scales, int32 bias"
    assert not any(v.dtype.kind == "f" and v.size > 12 for v in held), "no float weights are kept"
# hidden: wrong inputs are refused by the given checks
layer = QuantizedLinear(make_linear(3, 2, seed=7), (-1.0, 1.0))
assert isinstance(raised(lambda: layer(Tensor(np.ones((2, 4))))), ValueError), "in_features is checked"
### END HIDDEN TESTS


# %% [markdown]
# **Given: `QuantizedEmbedding`.** A GPT has two more large tables, the token embedding
# `(V, d)` and the position table `(max_seq_len, d)`; in a small model they are a large part
# of the bytes. A lookup reads rows, not a matrix product, so their quantization is simpler
# and given: every **row** gets its own symmetric scale (`quantize_per_channel` of the
# transposed table), and a lookup dequantizes only the rows it reads. It stands in for an
# `Embedding` (`forward(ids)`) and for a `PositionalEncoding` (`forward(x)` adds the rows,
# and `weight[start:stop]`, which `GPT.embed` reads, gives the dequantized rows as a
# `Tensor`). It keeps `weight_q` (int8) and `scale` (float32, one per row), nothing else.


# %% kind="locked" id="quantized_embedding" export=true
class _DequantizedRows:
    """table.weight of a QuantizedEmbedding: weight[index] dequantizes the rows asked for."""

    def __init__(self, table: "QuantizedEmbedding"):
        self.table = table

    @property
    def shape(self) -> tuple:
        return self.table.weight_q.shape

    def __getitem__(self, index) -> Tensor:
        return Tensor(self.table.rows(index))


class QuantizedEmbedding(Layer):
    """An Embedding or PositionalEncoding table in int8, one symmetric scale per row.

    Attributes:
        num_embeddings, embedding_dim: the table's shape (rows, width).
        positions: True when it replaces a PositionalEncoding (forward(x) adds rows 0..T-1).
        weight_q: int8 (num_embeddings, embedding_dim); scale: float32 (num_embeddings,).
    """

    def __init__(self, embedding: Embedding | PositionalEncoding):
        super().__init__()
        if not isinstance(embedding, Embedding | PositionalEncoding):
            raise TypeError(
                f"QuantizedEmbedding: expected an Embedding or a PositionalEncoding, got "
                f"{type(embedding).__name__}"
            )
        table = embedding.weight.data  # (rows, width)
        self.num_embeddings, self.embedding_dim = table.shape
        self.positions = isinstance(embedding, PositionalEncoding)
        q, self.scale = quantize_per_channel(table.T)  # a column of table.T is a row
        self.weight_q = np.ascontiguousarray(q.T)  # (rows, width) int8

    def rows(self, index) -> np.ndarray:
        """The rows weight_q[index], dequantized: float32, index.shape + (embedding_dim,)."""
        return dequantize(self.weight_q[index], self.scale[index][..., None])

    @property
    def weight(self) -> _DequantizedRows:
        """weight[index] is a Tensor of the dequantized rows (what GPT.embed reads)."""
        return _DequantizedRows(self)

    def forward(self, x) -> Tensor:
        """Token ids -> their rows (an Embedding); or x + rows 0 .. T - 1 (positions)."""
        if self.positions:
            return x + self.weight[: x.shape[-2]]
        return Tensor(self.rows(as_indices(x, self.num_embeddings)))

    def __repr__(self) -> str:
        kind = "positions" if self.positions else "tokens"
        return f"QuantizedEmbedding({self.num_embeddings}, {self.embedding_dim}, {kind}, int8)"


# %% [markdown]
# ## Task `model_bytes`: the bytes a model really holds (2 points)
#
# "Four times smaller" is a claim about memory; measure it on the real object. A model holds
# its numbers in NumPy arrays: the `.data` of every parameter `Tensor`, and, in the
# quantized layers, the int8 weights, the scales and the int32 biases as plain arrays. So:
# walk every layer of the model and add up the `nbytes` of every array it holds. Count an
# array **once**, however many places refer to it (a tied weight, a layer used twice), and
# count everything, float or not: what stays in float32 (LayerNorms, for instance) is part
# of the model's size.
#
# The given `sublayers(model)` returns every `Layer` reachable from the model, the model
# first, each once (through `children()`, Module 03). For each of them, look at the values
# of `vars(layer)`:
#
# - a `Tensor` holds its `.data` (its `.grad`, if any, is training state, not part of the
#   model: leave it out);
# - a NumPy array is held as it is;
# - a list or tuple holds whatever its items hold, by the same two rules;
# - anything else (numbers, strings, `None`, sublayers, which `sublayers` visits on their
#   own) holds nothing here.
#
# Keep a set of the `id()`s of the arrays already counted. Contract of `model_bytes(model)`:
# a Python `int`, the sum of `nbytes` over the distinct arrays found this way.


# %% kind="locked" id="sublayers" export=true
def sublayers(model: Layer) -> list:
    """Every Layer reachable from model through children(), model first, each once."""
    found, seen = [], set()

    def visit(layer: Layer) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        found.append(layer)
        for child in layer.children():
            visit(child)

    visit(model)
    return found


# %% kind="solution" id="model_bytes" export=true
def model_bytes(model: Layer) -> int:
    """Bytes of every distinct NumPy array the model's layers hold, a Python int.

    For every layer of sublayers(model) and every value of vars(layer): a Tensor holds its
    .data (its .grad is not counted), a NumPy array holds itself (any dtype), a list or tuple
    holds what its items hold by these two rules; anything else holds nothing. An array
    reached twice (a tied weight, a shared layer) counts once: keep a set of id(array).
    """
    # Task model_bytes: walk sublayers(model); each array once; add nbytes.
    ### BEGIN SOLUTION
    total, seen = 0, set()
    for layer in sublayers(model):
        for value in vars(layer).values():
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                array = item.data if isinstance(item, Tensor) else item
                if isinstance(array, np.ndarray) and id(array) not in seen:
                    seen.add(id(array))
                    total += array.nbytes
    return int(total)
    ### END SOLUTION


# %% [markdown]
# ### Test `model_bytes`

# %% kind="test" id="test_model_bytes" points=2
net = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
got = model_bytes(net)
assert type(got) is int, f"model_bytes should return a Python int, got {type(got).__name__}."
assert got == 4 * (3 * 4 + 4 + 4 * 2 + 2), (
    f"Two float32 Linears, (3x4 + 4) and (4x2 + 2) numbers, hold {4 * 26} bytes; got {got}."
)
shared = Linear(5, 5, rng=2)
assert model_bytes(Sequential(shared, ReLU(), shared)) == 4 * 30, (
    "A layer used twice holds its arrays once: count each array once (keep a set of id()s)."
)
layer = QuantizedLinear(make_linear(8, 3, seed=1), (-1.0, 1.0))
assert model_bytes(layer) == 8 * 3 + 4 * 3 + 4 + 4 * 3, (
    f"A QuantizedLinear(8, 3) holds 24 int8 bytes, 3 float32 scales, the input scale and 3 "
    f"int32 biases: 52 bytes; got {model_bytes(layer)}. Count plain NumPy arrays too."
)

### BEGIN HIDDEN TESTS
# hidden: every Tensor's data once, in nested layers and lists, for a GPT
model = GPT(11, 8, 2, 2, 6, rng=3)
assert model_bytes(model) == 4 * sum(p.size for p in model.parameters()), (
    "a float32 model holds 4 bytes per parameter"
)
# hidden: gradients are not part of the model
lin = Linear(4, 3, rng=1)
lin.weight.grad = np.ones((4, 3), dtype=_float32)
assert model_bytes(lin) == 4 * 15, "gradients are left out"
# hidden: a tied Tensor and a shared array are counted once
a, b = Linear(6, 6, rng=2), Linear(6, 6, rng=3)
b.weight = a.weight
assert model_bytes(Sequential(a, b)) == 4 * (36 + 6 + 6), "a Tensor held twice counts once"
# hidden: arrays in lists and tuples, plain arrays, any dtype; constants count too
class Holder(Layer):
    def __init__(self):
        super().__init__()
        self.table = np.zeros((3, 5), dtype=np.int8)
        self.pair = (np.zeros(4, dtype=np.int32), Tensor(np.zeros(2)))
        self.items = [np.zeros(3, dtype=np.float64), 7, "text", None]
        self.frozen = Tensor(np.zeros(5))  # requires_grad=False: still held


holder = Holder()
assert model_bytes(holder) == 15 + 16 + 8 + 24 + 20, "arrays in lists and tuples, any dtype"
holder.items.append(holder.table)
assert model_bytes(holder) == 15 + 16 + 8 + 24 + 20, "an array held twice counts once"
assert model_bytes(Sequential(holder, Linear(2, 2, rng=0))) == 83 + 24, "sublayers count too"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `calibrate`: measure the range of every layer's inputs (2 points)
#
# A `QuantizedLinear` needs the range of its inputs before it sees them. **Calibration**
# measures it: run the float model on a few sample inputs (a few batches of real data) and
# record, for every `Linear`, the smallest and the largest value its inputs took. The ranges
# are then fixed, and the quantized model uses them for every input after.
#
# How do you see the input of a layer deep inside a GPT? Every layer is called as
# `layer(x)`, which runs `layer.forward(x)` (Module 03's `Layer.__call__`). Python looks an
# attribute up on the **instance** before the class, so assigning a function to
# `layer.forward` replaces the forward of that one layer and no other: a **hook**. Your hook
# records the range of `x.data` and then calls the original forward, so the model computes
# exactly what it did before:
#
# ```python
# original = layer.forward                  # the bound method of the class
# def hooked(x):
#     ...record x.data.min() and x.data.max() for this layer...
#     return original(x)
# layer.forward = hooked                    # the instance attribute wins
# ...
# del layer.forward                         # the class's forward is found again
# ```
#
# Details:
#
# - find the `Linear` layers with the given `sublayers(model)` (each once, even when a layer
#   is used twice: its range then covers both uses);
# - a range covers **every** call: combine with what earlier calls and batches recorded
#   (the smallest low, the largest high);
# - run the batches under `no_grad()` (Module 05): calibration trains nothing, and needs no
#   graph;
# - **always** remove the hooks, also when the model raises on a batch (`try` / `finally`):
#   a model left with hooks would keep recording for ever;
# - a `Linear` that was never called has no range and is not in the result.
#
# Contract of `calibrate(model, batches)`: `batches` an iterable of inputs, each passed as
# `model(batch)`; returns a `dict` mapping each `Linear` that was called (the layer object
# itself is the key) to `(low, high)`, two Python floats; afterwards no layer has a
# `forward` of its own.


# %% kind="solution" id="calibrate" export=true
def calibrate(model: Layer, batches) -> dict:
    """Record the range of every Linear's inputs while the model runs the batches.

    Args:
        model: any Layer; its Linear layers are those in sublayers(model).
        batches: an iterable of inputs; each is run as model(batch), inside no_grad().

    Returns:
        {linear: (low, high)}: for each Linear that was called, the smallest and largest
        value of x.data over all its calls (every batch, every use of a shared layer), as
        Python floats. A Linear never called is not in the dict.

    Hook each Linear by assigning a function to layer.forward (the instance attribute wins
    over the class's forward): it records the range of x.data, then returns original(x),
    the bound method saved before. Remove every hook afterwards with `del layer.forward`,
    also when the model raises (try / finally).
    """
    # Task calibrate: hook every Linear's forward; run the batches; always remove the hooks.
    ### BEGIN SOLUTION
    linears = [layer for layer in sublayers(model) if isinstance(layer, Linear)]
    ranges = {}

    def hook(layer: Linear):
        original = layer.forward

        def recording(x):
            low, high = float(x.data.min()), float(x.data.max())
            if layer in ranges:
                low, high = min(low, ranges[layer][0]), max(high, ranges[layer][1])
            ranges[layer] = (low, high)
            return original(x)

        return recording

    for layer in linears:
        layer.forward = hook(layer)
    try:
        with no_grad():
            for batch in batches:
                model(batch)
    finally:
        for layer in linears:
            del layer.forward
    return ranges
    ### END SOLUTION


# %% [markdown]
# ### Test `calibrate`

# %% kind="test" id="test_calibrate" points=2
first, second = Linear(3, 4, rng=0), Linear(4, 2, rng=1)
net = Sequential(first, ReLU(), second)
rng = np.random.default_rng(173)
batches = [Tensor(rng.uniform(-1, 2, size=(5, 3))), Tensor(rng.uniform(-3, 1, size=(2, 3)))]
ranges = calibrate(net, batches)
assert isinstance(ranges, dict) and set(map(id, ranges)) == {id(first), id(second)}, (
    "calibrate should return a dict with one entry per Linear, the layer objects as keys."
)
inputs = np.concatenate([b.data for b in batches])
assert check_close(ranges[first], (inputs.min(), inputs.max())), (
    f"The first Linear saw inputs from {inputs.min():.4f} to {inputs.max():.4f} over both "
    f"batches; got {ranges[first]}. Combine the ranges of every call."
)
hidden = np.maximum(inputs @ first.weight.data + first.bias.data, 0)
assert check_close(ranges[second], (hidden.min(), hidden.max()), rtol=1e-5), (
    f"The second Linear sees the ReLU's output: {hidden.min():.4f} to {hidden.max():.4f}; got "
    f"{ranges[second]}."
)
assert all(type(v) is float for r in ranges.values() for v in r), "The ranges should be Python floats."
assert "forward" not in vars(first) and "forward" not in vars(second), (
    "After calibrate, every hook should be removed: `del layer.forward`."
)

### BEGIN HIDDEN TESTS
# hidden: every Linear of a GPT gets the range of all its inputs over all batches
model = randomise(GPT(9, 8, 2, 2, 6, rng=4), 5)
rng = np.random.default_rng(1707)
batches = [rng.integers(0, 9, size=(2, 6)), rng.integers(0, 9, size=(3, 4))]
seen = {}
for layer in sublayers(model):
    if isinstance(layer, Linear):
        def spy(x, layer=layer, original=layer.forward):
            lo, hi = seen.get(id(layer), (np.inf, -np.inf))
            seen[id(layer)] = (min(lo, float(x.data.min())), max(hi, float(x.data.max())))
            return original(x)
        layer.forward = spy
for b in batches:
    model(b)
for layer in sublayers(model):
    if isinstance(layer, Linear):
        del layer.forward
ranges = calibrate(model, batches)
assert len(ranges) == 2 * 6 + 1, "every Linear of the GPT (6 per block and the head)"
for layer, (low, high) in ranges.items():
    assert isinstance(layer, Linear), "the keys are the Linear layers"
    assert check_close([low, high], seen[id(layer)], rtol=1e-6), "the range over every call"
    assert type(low) is float and type(high) is float, "Python floats"
assert not any("forward" in vars(layer) for layer in sublayers(model)), "hooks are removed"
# hidden: a layer used twice has one range covering both uses
shared = Linear(3, 3, rng=5)
net = Sequential(shared, ReLU(), shared)
x = Tensor(rng.uniform(-4, -1, size=(4, 3)))
ranges = calibrate(net, [x])
after = np.maximum(x.data @ shared.weight.data + shared.bias.data, 0)
assert len(ranges) == 1, "a shared layer has one entry"
assert check_close(ranges[shared], (x.data.min(), max(0.0, float(after.max()))), rtol=1e-5), (
    "one range covering both uses"
)
# hidden: a Linear never called is left out
unused = Linear(2, 2, rng=6)
net = Sequential(Linear(2, 2, rng=7))
net.spare = unused
ranges = calibrate(net, [Tensor(np.ones((1, 2)))])
assert unused not in ranges and len(ranges) == 1, "a Linear never called has no range"
# hidden: the hooks are removed even when the model raises
net = Sequential(Linear(3, 2, rng=8), Linear(5, 1, rng=9))
err = raised(lambda: calibrate(net, [Tensor(np.ones((1, 3)))]))
assert isinstance(err, ValueError), "the model's error comes through"
assert not any("forward" in vars(layer) for layer in net.layers), "hooks removed after an error"
# hidden: calibration records no graph and changes no output
from tinytorch.core.autograd import is_grad_enabled  # noqa: E402
modes = []
net = Sequential(Linear(2, 2, rng=1))
def probe(x):
    modes.append(is_grad_enabled())
    return x
net.layers.append(probe)
calibrate(net, [Tensor(np.ones((1, 2)), requires_grad=True)])
assert modes == [False], "the batches run under no_grad"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `quantize_model`: every Linear of any model (2 points)
#
# The last step walks a model and **replaces** layers: every `Linear` by a `QuantizedLinear`
# built with its calibrated range, and (unless `embeddings=False`) every `Embedding` and
# `PositionalEncoding` by a `QuantizedEmbedding`. It must work for any model, not only for
# one whose layers sit in a `layers` list: a GPT keeps its blocks in a list, each block its
# attention and MLP as attributes, each of those its `Linear`s as attributes.
#
# Replacing means changing the attribute or the list item that refers to the layer. For each
# layer of `sublayers(model)` (collected **before** you change anything), and each
# `name, value` of `vars(layer).items()`:
#
# - a value to replace: `setattr(layer, name, new)`;
# - a list: replace its items in place (`value[i] = new`);
# - a tuple (immutable): `setattr(layer, name, tuple(...))` with the items replaced.
#
# Two rules:
#
# - a layer used in two places (the same object) becomes **one** quantized layer in both:
#   keep a dict from `id(old)` to its replacement;
# - a `Linear` that calibration never saw has no range: raise a `ValueError` that says so.
#
# Once replaced, nothing refers to the old layers (and, after the function returns, to its
# calibration dict), so their float weights are freed. If the model is itself a `Linear`
# (or an embedding), return its replacement; otherwise return the model, changed in place.
#
# Contract of `quantize_model(model, batches, per_channel=True, embeddings=True)`:
# `ranges = calibrate(model, batches)` first; then the replacements above, with
# `QuantizedLinear(linear, ranges[linear], per_channel)` and `QuantizedEmbedding(table)`.


# %% kind="solution" id="quantize_model" export=true
def quantize_model(model: Layer, batches, per_channel: bool = True, embeddings: bool = True):
    """Calibrate on the batches, then replace every Linear (and embedding table) in place.

    ranges = calibrate(model, batches); then, for every layer of sublayers(model) (listed
    before anything changes) and every name, value of vars(layer): replace a Linear by
    QuantizedLinear(value, ranges[value], per_channel), and, when embeddings is True, an
    Embedding or PositionalEncoding by QuantizedEmbedding(value): setattr for an attribute,
    value[i] = new for the items of a list, setattr with a new tuple for a tuple. One layer
    object gets one replacement, wherever it appears (a dict from id(old) to new).

    Returns:
        the model, its layers replaced; or the replacement when model is itself a Linear (or
        an embedding table).

    Raises:
        ValueError: naming the layer, for a Linear the calibration batches never reached.
    """
    # Task quantize_model: calibrate; a replacement for each layer (once per object); walk.
    ### BEGIN SOLUTION
    ranges = calibrate(model, batches)
    replaced = {}

    def convert(value):
        if id(value) in replaced:
            return replaced[id(value)]
        if isinstance(value, Linear):
            if value not in ranges:
                raise ValueError(
                    f"quantize_model: {value!r} was never called by the calibration batches, "
                    "so there is no range to quantize its inputs with"
                )
            replaced[id(value)] = QuantizedLinear(value, ranges[value], per_channel)
        elif embeddings and isinstance(value, Embedding | PositionalEncoding):
            replaced[id(value)] = QuantizedEmbedding(value)
        else:
            return value
        return replaced[id(value)]

    layers = sublayers(model)
    if convert(model) is not model:
        return replaced[id(model)]
    for layer in layers:
        for name, value in list(vars(layer).items()):
            if isinstance(value, list):
                value[:] = [convert(item) for item in value]
            elif isinstance(value, tuple):
                setattr(layer, name, tuple(convert(item) for item in value))
            else:
                setattr(layer, name, convert(value))  # the same object when not replaced
    return model
    ### END SOLUTION


# %% [markdown]
# ### Test `quantize_model`

# %% kind="test" id="test_quantize_model" points=2
first, second = Linear(3, 4, rng=0), Linear(4, 2, rng=1)
net = Sequential(first, ReLU(), second)
rng = np.random.default_rng(174)
batches = [Tensor(rng.uniform(-1, 2, size=(6, 3)))]
expected = net(batches[0]).data
ranges = calibrate(net, batches)
out = quantize_model(net, batches)
assert out is net, "quantize_model should return the model itself, changed in place."
kinds = [type(layer).__name__ for layer in net.layers]
assert kinds == ["QuantizedLinear", "ReLU", "QuantizedLinear"], (
    f"Every Linear should be replaced by a QuantizedLinear (in the list net.layers); got {kinds}."
)
assert check_close(net.layers[0].input_scale, activation_params(*ranges[first])[0]), (
    "Each QuantizedLinear should be built with its Linear's calibrated range."
)
assert check_close(net(batches[0]).data, expected, rtol=0, atol=0.05), (
    "The quantized model should compute about what the float model did."
)
ref = weakref.ref(first.weight)
del first, second, ranges
gc.collect()
assert ref() is None, "Once replaced, the float weights should be freed."

### BEGIN HIDDEN TESTS
# hidden: every Linear and embedding of a GPT replaced, the model returned
model = randomise(GPT(10, 8, 2, 2, 6, rng=6), 7)
rng = np.random.default_rng(1708)
batches = [rng.integers(0, 10, size=(3, 6))]
refs = [weakref.ref(p) for p in model.parameters()]
out = quantize_model(model, batches)
assert out is model, "the model itself is returned"
layers = sublayers(model)
assert not any(isinstance(layer, Linear | Embedding | PositionalEncoding) for layer in layers), (
    "no Linear or embedding table is left"
)
assert sum(isinstance(layer, QuantizedLinear) for layer in layers) == 13, "13 QuantizedLinears"
assert sum(isinstance(layer, QuantizedEmbedding) for layer in layers) == 2, "two tables"
assert isinstance(model.blocks[1].mlp.fc2, QuantizedLinear) and isinstance(model.head, QuantizedLinear), (
    "layers inside lists and attributes are replaced"
)
gc.collect()
alive = sum(r() is not None for r in refs)
assert alive == 2 * 5, "only the LayerNorms' float parameters remain: the others are freed"
# hidden: embeddings=False keeps the tables; per_channel=False gives per-tensor scales
model = GPT(10, 8, 1, 2, 6, rng=8)
quantize_model(model, batches, per_channel=False, embeddings=False)
assert isinstance(model.token_embedding, Embedding) and isinstance(model.position_embedding, PositionalEncoding), (
    "embeddings=False keeps the tables"
)
assert model.head.weight_scale.shape == () and model.blocks[0].attn.q_proj.per_channel is False, (
    "per_channel=False is passed on"
)
# hidden: a layer used twice becomes one quantized layer, in lists and in tuples
shared = Linear(3, 3, rng=9)
net = Sequential(shared, ReLU(), shared)
net.pair = (shared, 5)
quantize_model(net, [Tensor(rng.uniform(-1, 1, size=(2, 3)))])
assert isinstance(net.layers[0], QuantizedLinear) and net.layers[0] is net.layers[2], "replaced once"
assert type(net.pair) is tuple and net.pair[0] is net.layers[0] and net.pair[1] == 5, "tuples too"
# hidden: the calibrated range of each layer is used
net = Sequential(Linear(2, 3, rng=1), ReLU(), Linear(3, 1, rng=2))
x = Tensor(rng.uniform(-2, 5, size=(8, 2)))
ranges = {id(k): v for k, v in calibrate(net, [x]).items()}
ids = [id(layer) for layer in net.layers]
quantize_model(net, [x])
for old, new in ((ids[0], net.layers[0]), (ids[2], net.layers[2])):
    scale, zero_point = activation_params(*ranges[old])
    assert check_close(new.input_scale, scale) and new.input_zero_point == zero_point, (
        "each layer gets its own calibrated range"
    )
# hidden: a model that is itself a Linear comes back quantized
lin = Linear(4, 2, rng=3)
out = quantize_model(lin, [Tensor(rng.uniform(-1, 1, size=(2, 4)))])
assert isinstance(out, QuantizedLinear), "a Linear model is replaced by its QuantizedLinear"
# hidden: a Linear the batches never reach is refused
net = Sequential(Linear(2, 2, rng=4))
net.spare = Linear(2, 2, rng=5)
err = raised(lambda: quantize_model(net, [Tensor(np.ones((1, 2)))]))
assert isinstance(err, ValueError), "a Linear without a calibrated range raises ValueError"
### END HIDDEN TESTS


# %% [markdown]
# ## Test `quantized_model`: your tasks together (2 points)
#
# The last test quantizes a small GPT with **your** code throughout: calibration, the
# replacement, the quantized layers and their integer products. The quantized model must
# give about the float model's logits, hold at least 3.3 times fewer bytes, and keep no float
# weight of the layers it replaced.

# %% kind="test" id="test_quantized_model" points=2
model = randomise(GPT(20, 32, 2, 4, 16, rng=17), 17)
rng = np.random.default_rng(175)
calibration = [rng.integers(0, 20, size=(4, 16)) for _ in range(2)]
ids = rng.integers(0, 20, size=(2, 16))
with no_grad():
    expected = model(ids).data
before = model_bytes(model)
ref = weakref.ref(model.blocks[0].mlp.fc1.weight)
quantize_model(model, calibration)
gc.collect()
with no_grad():
    got = model(ids).data
after = model_bytes(model)
relative = np.linalg.norm(got - expected) / np.linalg.norm(expected)
assert relative < 0.05, f"The quantized logits should be within 5% of the float ones, got {relative:.1%}."
assert before / after >= 3.3, (
    f"The quantized GPT should hold at least 3.3x fewer bytes: {before:,} -> {after:,} "
    f"({before / after:.2f}x)."
)
assert ref() is None, "The float weights of the replaced Linears should be freed."

### BEGIN HIDDEN TESTS
# hidden: another GPT quantized end to end, per tensor and per channel
for seed, (v, d, layers, heads, t), per_channel in ((1, (15, 16, 3, 2, 8), True), (2, (30, 24, 1, 3, 12), False)):
    model = randomise(GPT(v, d, layers, heads, t, rng=seed), seed)
    rng = np.random.default_rng(1709 + seed)
    ids = rng.integers(0, v, size=(3, t))
    with no_grad():
        expected = model(ids).data
    before = model_bytes(model)
    refs = [weakref.ref(model.head.weight), weakref.ref(model.token_embedding.weight)]
    out = quantize_model(model, [rng.integers(0, v, size=(4, t)), ids], per_channel=per_channel)
    gc.collect()
    assert out is model, "the model is quantized in place"
    with no_grad():
        got = model(ids).data
    assert type(got) is np.ndarray and got.dtype == _float32 and got.shape == (3, t, v), "float32 logits"
    assert check_close(got, expected, rtol=0, atol=0.1 * float(as_float64(expected).std()) + 0.05), (
        "the quantized GPT's logits are close to the float GPT's"
    )
    def held(i, o, bias):  # int8 weight, scales, input scale, int32 bias
        return i * o + (4 * o if per_channel else 4) + 4 + (4 * o if bias else 0)

    block = 4 * held(d, d, True) + held(d, 4 * d, True) + held(4 * d, d, True) + 2 * 2 * 4 * d
    tables = v * d + 4 * v + t * d + 4 * t  # int8 rows and a float32 scale per row
    expected_bytes = layers * block + held(d, v, False) + 2 * 4 * d + tables
    assert model_bytes(model) == expected_bytes, "the bytes really shrink: int8, scales, int32 bias"
    assert before / model_bytes(model) >= 2.8, "the bytes really shrink"
    assert all(r() is None for r in refs), "the float weights are freed"
    assert not any(isinstance(x, Linear) for x in sublayers(model)), "no float Linear is left"
### END HIDDEN TESTS


# %% [markdown]
# ## Systems analysis: what quantization buys, and what it costs
#
# Nothing below is graded. The cells train a small Shakespeare GPT (the character model of
# the milestones: $d = 64$, 2 blocks, 4 heads, a context of 64), quantize it with your code,
# and **measure**: the bytes it holds, its validation loss, where the weight error comes
# from, and the time of an integer product. Together they take about half a minute. Predict
# the numbers before you run them.
#
# ### A model worth quantizing
#
# A model with random weights would tell us little: its loss is that of guessing. The cell
# trains the GPT for 300 AdamW steps on batches of 16 random windows of the training text
# (about 10 CPU seconds on one core), then deletes the optimizer, which holds references to the parameters
# (and two float32 moment arrays for each): a model whose float weights are still referred
# to elsewhere frees nothing when it is quantized.

# %%
import copy  # noqa: E402
import time  # noqa: E402

from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import AdamW  # noqa: E402
from tinytorch.text.tokenization import CharTokenizer, load_corpus  # noqa: E402

train_text = load_corpus("shakespeare", "train")
val_text = load_corpus("shakespeare", "val")[: 256 * 64 + 1]  # 16,384 predictions
tokenizer = CharTokenizer(train_text)
train_ids = np.array(tokenizer.encode(train_text), dtype=np.int64)
val_ids = np.array(tokenizer.encode(val_text), dtype=np.int64)
V, CONTEXT, BATCH = tokenizer.vocab_size, 64, 16
data_rng = np.random.default_rng(0)


def windows(ids: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """count random windows of CONTEXT + 1 ids: inputs (count, T), targets one later."""
    starts = data_rng.integers(0, len(ids) - CONTEXT - 1, size=count)
    rows = ids[starts[:, None] + np.arange(CONTEXT + 1)]
    return rows[:, :-1], rows[:, 1:]


gpt = GPT(V, 64, 2, 4, CONTEXT, rng=0)
optimizer = AdamW(gpt.parameters(), lr=5e-3, weight_decay=0.01)
loss_fn = CrossEntropyLoss()
started = time.process_time()
for step in range(300):
    inputs, targets = windows(train_ids, BATCH)
    logits = gpt(inputs)  # (B, T, V)
    loss = loss_fn(logits.reshape(BATCH * CONTEXT, V), Tensor(targets.reshape(-1)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
del optimizer, logits, loss  # nothing but the model refers to its parameters now
print(f"trained 300 steps in {time.process_time() - started:.1f} CPU seconds")

# %% [markdown]
# ### Bytes and validation loss, measured
#
# The validation text is cut into windows of 64 characters and every character is predicted
# once (16,384 predictions, from the play the model never saw). Four versions of the same
# trained model are scored on it:
#
# - **float32**, as trained;
# - **int8 per channel**, `quantize_model` calibrated on 4 batches of training windows;
# - **int8 per tensor**, the same with one scale per weight matrix;
# - **float16 storage**: every parameter rounded to float16 and kept as float16 arrays (2
#   bytes a number); the model computes with float32 copies of them (CPUs do not multiply
#   float16 matrices natively), so its loss is that of a float16 model.
#
# The bytes are `model_bytes` of each model (for float16, of the float16 arrays): what is
# really held, the float32 LayerNorms and the int32 biases included.

# %%
eval_inputs = val_ids[:-1].reshape(-1, CONTEXT)  # (256, 64)
eval_targets = val_ids[1:].reshape(-1, CONTEXT)


def validation_loss(model) -> float:
    """Mean cross-entropy in nats over every validation prediction, without a graph."""
    total = 0.0
    with no_grad():
        for start in range(0, len(eval_inputs), 64):
            logits = model(eval_inputs[start : start + 64])
            b = logits.shape[0]
            targets = Tensor(eval_targets[start : start + 64].reshape(-1))
            total += loss_fn(logits.reshape(b * CONTEXT, V), targets).item() * b
    return total / len(eval_inputs)


calibration = [windows(train_ids, BATCH)[0] for _ in range(4)]


def scored(model) -> tuple[float, float]:
    """(validation loss, CPU seconds it took)."""
    started = time.process_time()
    loss = validation_loss(model)
    return loss, time.process_time() - started


results = {"float32": (model_bytes(gpt), *scored(gpt))}
for name, per_channel in (("int8 per channel", True), ("int8 per tensor", False)):
    quantized = quantize_model(copy.deepcopy(gpt), calibration, per_channel=per_channel)
    results[name] = (model_bytes(quantized), *scored(quantized))
    if per_channel:
        int8_gpt = quantized
half = copy.deepcopy(gpt)
stored = [p.data.astype(np.float16) for p in half.parameters()]  # what a float16 file holds
for p, h in zip(half.parameters(), stored, strict=True):
    p.data = h.astype(np.float32)  # computed in float32, from the float16 values
results["float16 storage"] = (sum(a.nbytes for a in stored), *scored(half))

base_bytes, base_loss, _ = results["float32"]
print(f"{'model':>17} {'bytes':>9} {'smaller':>8} {'val loss':>9} {'change':>8} {'CPU s':>6}")
for name, (nbytes, loss, seconds) in results.items():
    print(
        f"{name:>17} {nbytes:>9,} {base_bytes / nbytes:>7.2f}x {loss:>9.4f} "
        f"{loss - base_loss:>+8.4f} {seconds:>6.2f}"
    )

# %% [markdown]
# On the course machine: 456,192 bytes in float32 against 124,956 in int8, **3.65x**
# smaller, and the validation loss moved by a few ten-thousandths of a nat at most, either
# way: noise, far below what training for a few more steps changes. Float16 halves the bytes
# with no measurable change either. (The last column, the CPU time of the evaluation, is
# explained at the end.)
#
# Why not 4x? Count what is not int8. The LayerNorms stay float32 (5 of them, $2d$ numbers
# each); every quantized layer keeps a float32 scale per output and an int32 bias per
# output (4 + 4 bytes beside the $d_{in}$ bytes of its column); the embedding tables keep a
# float32 scale per row (4 bytes beside $d = 64$). For this small model those add up to
# about 10% of the int8 bytes. In a model with $d = 4096$ the same overheads are about
# 0.2%, and the ratio is 3.99x.
#
# ### Where the error comes from: per tensor or per channel
#
# On this model both kinds of scale cost almost nothing. The next cell looks at the weights
# themselves: for every quantized `Linear`, the relative error of its weight, $\lVert W -
# \hat W \rVert / \lVert W \rVert$, with one scale for the matrix and with one per column,
# and how far the largest column is above the typical one (the ratio of the largest to the
# median of the columns' $\max |W|$).

# %%
names, errors = [], []
blocks = [(f"block {i}", b) for i, b in enumerate(gpt.blocks)]
for label, block in blocks:
    for part, layer in (
        ("q", block.attn.q_proj), ("k", block.attn.k_proj), ("v", block.attn.v_proj),
        ("out", block.attn.out_proj), ("fc1", block.mlp.fc1), ("fc2", block.mlp.fc2),
    ):
        names.append(f"{label} {part}")
        errors.append(layer.weight.data)
names.append("head")
errors.append(gpt.head.weight.data)
print(f"{'layer':>12} {'per tensor':>11} {'per channel':>12} {'max/median column':>18}")
for name, w in zip(names, errors, strict=True):
    q, s = quantize_per_tensor(w)
    tensor_error = np.linalg.norm(w - dequantize(q, s)) / np.linalg.norm(w)
    q, s = quantize_per_channel(w)
    channel_error = np.linalg.norm(w - dequantize(q, s)) / np.linalg.norm(w)
    columns = np.abs(w).max(axis=0)
    print(
        f"{name:>12} {tensor_error:>10.2%} {channel_error:>11.2%} "
        f"{columns.max() / np.median(columns):>17.1f}x"
    )

# %% [markdown]
# Per channel, the error of every layer is about 0.55 to 0.75% (a weight moves by at most
# half a step, a 254th of its column's largest value). Per tensor it is larger, 0.8 to 1.3%
# here, and the more so the more one column's weights stand out from the others:
# the largest column sets the step of all of them. In this small model nothing stands out
# by much, which is why the loss hardly noticed. In large language models it does: a few
# "outlier" features with values 20 to 100 times the typical ones appear in every layer past
# a few billion parameters (Dettmers et al., 2022, LLM.int8()), and a per-tensor int8 scale
# then wipes out the small ones. Per-channel weights, and special handling of the outlier
# activations, are what made int8 work for them.
#
# ### Integers are not faster here
#
# An int8 product is faster only on hardware that multiplies int8 natively (VNNI and AMX
# on recent Intel CPUs, the dot-product instructions of ARM, the tensor cores of GPUs) with
# a library that uses it. NumPy has none: it sends float32 products to an optimised BLAS and
# computes integer products with a plain loop. The cell times both on the shape of the
# GPT's first MLP layer for a batch of 64 windows, $(4096 \times 64) \cdot (64 \times 256)$.

# %%
layer = int8_gpt.blocks[0].mlp.fc1
x = np.random.default_rng(1).standard_normal((64 * CONTEXT, 64)).astype(np.float32)
w = gpt.blocks[0].mlp.fc1.weight.data
qx, _, zx = quantize_activation(x, layer.input_scale, layer.input_zero_point)


def fastest(fn, repeats: int = 5) -> float:
    """The fewest CPU seconds of `repeats` runs of fn(), after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


float_time = fastest(lambda: x @ w)
int_time = fastest(lambda: int8_matmul(qx, zx, layer.weight_q))
layer_time = fastest(lambda: layer(Tensor(x)))
print(f"float32 x @ W (BLAS):               {1e3 * float_time:7.2f} ms")
print(f"int8_matmul (NumPy integer loop):   {1e3 * int_time:7.2f} ms")
print(f"QuantizedLinear, whole call:        {1e3 * layer_time:7.2f} ms")
print(f"weight bytes: float32 {w.nbytes:,}, int8 {layer.weight_q.nbytes:,}")

# %% [markdown]
# Here the integer product is tens of times **slower** than the float one (35 to 75 times on
# the course machine), and the quantized models' evaluations above took several times longer
# than the float model's: NumPy's integer
# `matmul` is a plain triple loop without the blocking, vector instructions and threads of a
# BLAS. On int8 hardware the comparison turns around: a 64-byte vector register holds 64
# int8 values but only 16 float32 ones, and the memory bandwidth a large model is limited by
# moves four times as many weights per second. What quantization buys on any machine is
# what the table measured: **bytes**, to store, to ship and to load.
#
# ## Summary
#
# - Symmetric int8 stores $q = \text{round}(w / s)$ with $s = \max|w| / 127$: a quarter of
#   the bytes, every weight within half a step $s / 2$, zero exact. All-zero tensors need a
#   scale of their own (1.0), or $0 / 0$ fills them with NaN.
# - One scale **per output channel** costs a float per output and protects every column
#   from the largest one; per tensor, an outlier channel sets the step of all.
# - Activations use an **affine** map with an integer **zero point**, so that 0 is exact, from
#   a range measured on sample inputs (**calibration**) or on every input (dynamic).
# - The product is computed in **integers** with an **int32** accumulator (an int8 or int16
#   one overflows after a few terms), corrected by $z_x$ times the weight's column sums; the
#   bias is an **int32** at the accumulator's scale $s_x s_W$; one multiplication by
#   $s_x s_W$ per output brings the result back to real numbers.
# - A quantized layer holds **no float weights**: measured, the Shakespeare GPT went from
#   456 KB to about 125 KB (3.65x; the float32 LayerNorms, scales and int32 biases are the
#   rest), and its validation loss moved by less than a thousandth of a nat. Float16
#   halves the bytes, just as harmlessly.
# - Quantization saves bytes everywhere and time only on hardware with int8 arithmetic;
#   NumPy's integer product is slower than its float BLAS.
#
# **Reflection.**
#
# 1. Why is $-128$ left out of the symmetric weight range? What goes wrong in
#    `quantize_per_tensor` if $-x$ must map to $-q$ and $q = -128$ is allowed?
# 2. With $K = 4096$ inputs, how large can $|\sum_k (q_{x,k} - z_x) q_{kj}|$ get? How many
#    inputs can an int32 accumulator take before it can overflow?
# 3. Calibrate the GPT on a single batch of 16 windows, then on 64: does the validation loss
#    change? What happens to a layer's inputs outside its calibrated range?
# 4. The embedding tables and the LayerNorms are part of the bytes. Which of the remaining
#    float32 numbers would you quantize next, and what would it save here and in a model with
#    $d = 4096$?
