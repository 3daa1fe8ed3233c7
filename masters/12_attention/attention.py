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
# # Module 12: Attention
#
# Read the sentence "The trophy did not fit in the suitcase because **it** was too big." To
# know what *it* means you have to look back eight words, to *trophy*; change *big* to
# *small* and the answer becomes *suitcase*. A layer that sees one token at a time (an MLP
# applied to every position) cannot do that, and a convolution sees only a fixed window of
# neighbours. What a language model needs is a layer in which **every position decides, from
# the data, which other positions to read, and how much of each**. That layer is
# **attention**, and a transformer (Module 13) is little more than attention layers and MLPs
# stacked in turn.
#
# Attention works like a soft dictionary lookup. Every position produces three vectors:
#
# - a **query** $q$: what this position is looking for;
# - a **key** $k$: what this position offers, the "address" other queries match against;
# - a **value** $v$: what this position hands over when it is read.
#
# Position $i$ compares its query with every key (a dot product: large when they point the
# same way), turns the scores into weights that sum to 1 (a softmax), and reads the weighted
# average of the values. A dictionary returns the value of the one key that matches exactly;
# attention returns a blend, weighted by how well each key matches, and because every step
# is differentiable, the network can **learn** what to ask for and what to offer.
#
# In this module you build that layer on top of your tensors, layers and autograd: the
# **causal mask** that stops a language model from reading the future, a **masked softmax**
# that cannot overflow, **scaled dot-product attention**, the split of a layer into
# **heads**, and **`MultiHeadAttention`**, the exact layer inside GPT. Module 13 stacks it
# into a transformer, and Module 14 makes its generation fast with a key-value cache: both
# use the API you write here, so its contracts matter.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - compute scaled dot-product attention $\mathrm{softmax}(QK^\top / \sqrt{d_k})\,V$ for
#   batches of heads, and give the **shape** of every intermediate result;
# - explain why the scores are divided by $\sqrt{d_k}$, and what goes wrong without it;
# - use **one mask convention** (a boolean keep-mask, `True` = may attend) and say how
#   the other conventions in the wild silently break code that expects this one;
# - build the **causal mask**, including the offset form a key-value cache needs, and test
#   that no output depends on a later input;
# - write a softmax that stays finite for scores of $10^4$ and for rows in which every
#   position is masked, as a `Function` with its backward pass;
# - split a layer into heads with **reshape and transpose**, and explain why a reshape
#   alone scrambles the positions;
# - measure the $O(T^2)$ **memory and time** of attention, and say what it means for a
#   context of 100,000 tokens.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in eight places, for five tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtypes, formulas, errors, and hints. Keep the names and
#   signatures as they are; the given cells are read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code cell. The asserts
#   you can read there are the **visible tests**: run them as often as you like, and read
#   their messages when they fail. Expected values come from `attention_reference`, the
#   definition of attention written as a slow float64 loop (in the checks cell), and from
#   hand-worked examples. Gradients are compared with central differences in float64 for a
#   random upstream gradient.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (4-D batches of heads, queries and keys of different lengths,
#   masks that broadcast over batches and heads, scores near $10^4$, rows with nothing to
#   attend to, other head counts, a check that no output reads a later input), with their
#   own float64 references. A failing hidden check tells you which behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the functions of the other
#   tasks come from the course's reference solution, so a bug costs the points of the task
#   it is in. The last test, `test_attention_training`, is different: it trains a small model
#   made of **your** code throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. NumPy warnings count as
#   failures: the tests run your code with overflow, division by zero and invalid values
#   turned into errors. Anything a test cell writes to stderr counts as a failure too.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `causal_mask` | `causal_mask(T_q, T_k)`: the boolean keep-mask of causal attention, with the offset a cache needs | 2 |
# | `masked_softmax` | `MaskedSoftmax`, a `Function`: a stable softmax over the allowed keys, and its backward | 4 |
# | `attention` | `scaled_dot_product_attention(Q, K, V, mask)`, returning `(output, weights)` | 4 |
# | `heads` | `split_heads` and `merge_heads`: reshape and transpose | 3 |
# | `mha` | `MultiHeadAttention`: four projections, heads, attention, output | 5 |
# | `attention_training` | (no code of its own) your tasks together: a small model learns a lookup | 2 |
# | | **total** | **20** |
#
# Work in the order of the table: each task uses the ones before it. `Tensor` comes from
# your Module 01, `Layer` and `Linear` from your Module 03, and `Function` and the backward
# pass from your Module 05 (`tinytorch.core`); when your work is graded they come from the
# course's reference solution, so a bug in an earlier module does not cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.attention: scaled dot-product attention and multi-head attention.

One mask convention everywhere: a mask is a boolean NumPy array, True where a query may
attend to a key, broadcastable to the scores' shape (..., T_q, T_k). `causal_mask(T_q, T_k)`
builds the causal one (queries are the last T_q of T_k positions, as with a key-value
cache). `MaskedSoftmax` is a stable softmax over the allowed keys, with its backward pass; a
query with no allowed key gets weights 0 and output 0. `scaled_dot_product_attention`
returns (output, weights); `split_heads`/`merge_heads` move between (B, T, D) and
(B, H, T, D // H); `MultiHeadAttention(d_model, num_heads)` is the layer of a transformer.
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 12.
"""

import numpy as np

from tinytorch.core.autograd import Context, Function
from tinytorch.core.layers import Layer, Linear
from tinytorch.core.tensor import Tensor

__all__ = [
    "causal_mask",
    "MaskedSoftmax",
    "scaled_dot_product_attention",
    "split_heads",
    "merge_heads",
    "MultiHeadAttention",
]

# %% [markdown]
# ## Attention, with shapes
#
# Stack the queries of $T_q$ positions as the rows of a matrix $Q$ of shape $(T_q, d_k)$,
# the keys of $T_k$ positions as the rows of $K$ $(T_k, d_k)$, and their values as the rows
# of $V$ $(T_k, d_v)$. Then every comparison of a query with a key is one entry of a matrix
# product, and the whole layer is three lines:
#
# $$S = \frac{Q K^\top}{\sqrt{d_k}} \quad (T_q, T_k), \qquad
#   A = \mathrm{softmax}_{\text{rows}}(S) \quad (T_q, T_k), \qquad
#   \mathrm{out} = A V \quad (T_q, d_v).$$
#
# Row $i$ of $A$ holds the **attention weights** of query $i$: non-negative, summing to 1,
# one per key. Row $i$ of the output is the weighted average $\sum_j A_{ij} v_j$ of the
# values. Queries and keys must have the same length $d_k$ (they are compared); values may
# have another length $d_v$; and the number of keys equals the number of values (each key
# is the address of one value). In **self-attention** $Q$, $K$ and $V$ are all computed
# from the same sequence, so $T_q = T_k = T$.
#
# **A worked example.** One query, three positions, $d_k = 4$ (so $\sqrt{d_k} = 2$), $d_v = 2$:
#
# ```
#   q  = [2 2 0 0]                     scores  q.k_j / 2       weights (softmax)   value v_j
#   k_0 = [1 1 0 0]   q.k_0 = 4    ->      2.0           ->        0.665          [1 0]
#   k_1 = [0 0 1 1]   q.k_1 = 0    ->      0.0           ->        0.090          [0 1]
#   k_2 = [1 0 1 0]   q.k_2 = 2    ->      1.0           ->        0.245          [1 1]
#
#   out = 0.665 [1 0] + 0.090 [0 1] + 0.245 [1 1] = [0.910 0.335]
# ```
#
# The query matches $k_0$ best, so it reads mostly $v_0$, but not only: attention is soft,
# and that is what makes it differentiable.
#
# **Batches and heads.** In a model, $Q$, $K$ and $V$ carry leading axes: a batch of $B$
# sequences, and (below) $H$ heads, so their shapes are `(B, H, T, d)`. Matrix products act
# on the last two axes and carry the leading ones along (Module 01's `matmul` rules), and the
# softmax runs along the last axis, so the three lines above work unchanged for any number
# of leading axes. `K.transpose(-2, -1)` swaps the last two axes of every key matrix:
#
# ```
#   Q (B, H, T_q, d_k) @ K^T (B, H, d_k, T_k)  ->  S, A (B, H, T_q, T_k)
#   A (B, H, T_q, T_k) @ V   (B, H, T_k, d_v)  ->  out  (B, H, T_q, d_v)
# ```
#
# ## One mask convention
#
# Often a query must **not** see some keys: a language model predicting token $t + 1$ must
# not read tokens after $t$ (that would be copying the answer), and padding added to make
# sequences of different lengths fit in one batch must not be read by anyone. A **mask**
# says which pairs (query, key) are allowed. Libraries disagree on how to write one, and
# that disagreement has caused real, silent bugs:
#
# | convention | allowed | blocked | where you meet it |
# |---|---|---|---|
# | **boolean keep-mask (this course)** | `True` | `False` | `torch.nn.functional.scaled_dot_product_attention` with a bool `attn_mask` |
# | boolean block-mask | `False` | `True` | `torch.nn.MultiheadAttention`'s bool `attn_mask` and `key_padding_mask` |
# | multiplicative 1/0 | `1` | `0` | code that computes `scores + (1 - mask) * -1e9` |
# | additive 0/$-\infty$ | `0` | $-\infty$ | float masks added to the scores (PyTorch, Hugging Face) |
#
# An earlier TinyTorch course had three of these at once. Its GPT built an additive
# 0/$-\infty$ causal mask and handed it to attention code that expected 1/0. For every
# **allowed** position the code computed `(1 - 0) * -1e9` and added $-10^9$ to the score. A
# float32 number near $10^9$ can only change in steps of 64, so scores of size 1 vanished
# in the rounding: every allowed position got the same score, and attention became a plain
# average over the prefix. Nothing crashed, the model still trained (worse), and no test
# noticed.
#
# This course uses **one** convention, the first row of the table, and enforces it:
#
# - a mask is a **boolean** NumPy array, `True` where the query may attend to the key;
#   anything else (a float array of 0 and $-\infty$, an integer 1/0 array, a `Tensor`,
#   which always holds float32) raises `TypeError`;
# - its shape must **broadcast** to the scores' shape `(..., T_q, T_k)` without changing
#   it: `(T_q, T_k)` for one mask shared by every batch and head, `(B, 1, 1, T_k)` for
#   padding (one row of keys per sequence), `(B, H, T_q, T_k)` for everything; any other
#   shape raises `ValueError`, naming both shapes;
# - a blocked score is **replaced** by $-\infty$ (never added to), so $e^{-\infty} = 0$ and
#   the blocked key gets weight exactly 0, whatever its score was;
# - a query with **no** allowed key (possible with padding) gets weights 0 and output 0:
#   it has nothing to read. The naive formula would give $0/0 = $ `nan` there, and one
#   `nan` spreads through every later layer.
#
# To turn another convention into this one: an additive mask `m` becomes `m == 0`; a 1/0
# mask becomes `m.astype(bool)`; PyTorch's block-mask `b` becomes `~b`.
#
# **Given: the input checks.** The read-only cell below checks masks and shapes, so that
# your code can rely on them and every error message is the same. `_check_mask` returns the
# mask as a boolean array (or `None`); `_check_qkv` checks the shapes of queries, keys and
# values; `_check_heads` checks that a number of heads divides a width.


# %% kind="locked" id="input_checks" export=true
def _check_mask(mask, scores_shape: tuple) -> np.ndarray | None:
    """The keep-mask as a boolean array (None stays None), after checking it.

    Raises:
        TypeError: when mask is not boolean (True = may attend), e.g. an additive 0/-inf
            float mask, a 1/0 integer mask or a Tensor (Tensors hold float32).
        ValueError: when mask's shape does not broadcast to scores_shape (..., T_q, T_k)
            without changing it, naming both shapes.
    """
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        raise TypeError(
            "attention mask: expected a boolean NumPy array (True = may attend), got a "
            "Tensor, which holds float32; pass the boolean array itself"
        )
    keep = np.asarray(mask)
    if keep.dtype != np.bool_:
        raise TypeError(
            f"attention mask: expected a boolean array (True = may attend), got dtype "
            f"{keep.dtype}. An additive 0/-inf mask m converts with m == 0, a 1/0 mask with "
            "m.astype(bool); and Function.apply turns positional inputs into float32 Tensors, "
            "so pass a mask as a keyword: MaskedSoftmax.apply(scores, mask=keep)"
        )
    try:
        shape = np.broadcast_shapes(keep.shape, tuple(scores_shape))
    except ValueError:
        shape = None
    if shape != tuple(scores_shape):
        raise ValueError(
            f"attention mask: shape {keep.shape} does not broadcast to the scores' shape "
            f"{tuple(scores_shape)} (..., T_q, T_k)"
        )
    return keep


def _check_qkv(q_shape: tuple, k_shape: tuple, v_shape: tuple) -> None:
    """Q (..., T_q, d_k), K (..., T_k, d_k), V (..., T_k, d_v), each at least 2-D.

    Raises:
        ValueError: naming the shapes, when one is not at least 2-D, when Q and K differ in
            d_k (their last axis), or when K and V differ in T_k (their axis -2).
    """
    who = "scaled_dot_product_attention"
    if min(len(q_shape), len(k_shape), len(v_shape)) < 2:
        raise ValueError(
            f"{who}: Q, K and V need at least 2 axes (..., T, d), got Q {q_shape}, "
            f"K {k_shape}, V {v_shape}"
        )
    if q_shape[-1] != k_shape[-1]:
        raise ValueError(
            f"{who}: Q {q_shape} and K {k_shape} must have the same last axis d_k (queries "
            "are compared with keys)"
        )
    if k_shape[-2] != v_shape[-2]:
        raise ValueError(
            f"{who}: K {k_shape} and V {v_shape} must have the same number of positions "
            "T_k (axis -2): one value per key"
        )


def _check_heads(width: int, num_heads: int, who: str) -> None:
    """num_heads is a positive int that divides width (each head gets width // num_heads).

    Raises:
        ValueError: otherwise, naming both numbers.
    """
    if not isinstance(num_heads, int | np.integer) or num_heads < 1 or width % num_heads:
        raise ValueError(
            f"{who}: num_heads={num_heads!r} must be a positive divisor of the width {width} "
            "(each head gets width // num_heads features)"
        )


def _check_sequence(shape: tuple, d_model: int, who: str) -> None:
    """A batch of sequences: shape (B, T, d_model).

    Raises:
        ValueError: otherwise, naming the shape and d_model.
    """
    if len(shape) != 3 or shape[-1] != d_model:
        raise ValueError(f"{who}: expected x of shape (B, T, d_model={d_model}), got {shape}")


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` of the expected shape and
# values (`assert_array` does the same for a NumPy array, `assert_grad` for a gradient),
# `check_close` compares numbers the way `np.allclose` does, `raised` returns the exception a
# call raised, and `numerical_gradients(f, arrays, upstream)` estimates the gradients of
# $L = \sum R \odot f(\dots)$ by central differences in float64. The second part is this
# module's own:
#
# - `strict(fn)` calls `fn()` with NumPy's floating-point warnings turned into errors and
#   returns `(result, None)` or `(None, the exception)`;
# - `leaf(values)` is a float32 Tensor with `requires_grad=True`;
# - `run_rule(F, inputs, upstream, **kwargs)` calls a Function's `forward` and then its
#   `backward` directly, on float64 arrays (no Tensors, no graph), strictly;
# - `attention_reference(Q, K, V, keep)` is attention by its definition in float64: one
#   query row at a time, a softmax over the keys the mask allows, then the weighted sum of
#   the values. It is slow and obviously right, the yardstick for everything you write.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = (
    "Attention keeps the leading axes (batch, heads) as they are: check which axes your "
    "reshape, transpose and matmul act on."
)


def strict(fn):
    """Call fn() with overflow, invalid values (0/0, inf - inf) and division by zero raised
    as FloatingPointError. Returns (result, None), or (None, the exception) if fn() raised."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            return fn(), None
        except Exception as exc:
            return None, exc


def leaf(values) -> Tensor:
    """A Tensor with requires_grad=True holding `values` (as float32)."""
    return Tensor(as_float64(values), requires_grad=True)


def run_rule(function, inputs, upstream=None, **kwargs):
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


def attention_reference(Q, K, V, keep=None):
    """(output, weights) of scaled dot-product attention in float64, by the definition.

    For every query row: a softmax of the scaled scores over the keys the boolean mask
    allows (all keys when keep is None), then the weighted sum of the values. A row with no
    allowed key gets weights 0 and output 0.
    """
    Q, K, V = as_float64(Q), as_float64(K), as_float64(V)
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])  # (..., T_q, T_k)
    allowed = np.ones(scores.shape, dtype=bool)
    if keep is not None:
        allowed = np.broadcast_to(np.asarray(keep), scores.shape)
    weights = np.zeros(scores.shape)
    for row in np.ndindex(scores.shape[:-1]):
        s = scores[row][allowed[row]]
        if s.size:
            e = np.exp(s - s.max())
            weights[row][allowed[row]] = e / e.sum()
    return weights @ V, weights


# %% [markdown]
# ## Task `causal_mask`: no peeking at the future (2 points)
#
# A language model is trained to predict token $t + 1$ from tokens $0 \dots t$, at every
# position $t$ of a sequence at once. If the attention of position $t$ could read position
# $t + 1$, the model would learn to copy the answer, and it would be useless when generating
# text, where the future does not exist yet. So in **causal** self-attention query $i$ may
# attend to key $j$ only when $j \le i$: the mask is the lower triangle.
#
# ```
#   causal_mask(4)              keys j ->
#                          i     0  1  2  3
#                          0     T  .  .  .      position 0 sees itself only
#                          1     T  T  .  .
#                          2     T  T  T  .
#                          3     T  T  T  T      the last position sees everything
# ```
#
# **Generating with a cache (Module 14).** When a model generates text, it has already
# computed the keys and values of the earlier tokens, and only the **new** tokens need
# queries. Then there are fewer queries than keys: the $T_q$ queries are the **last** $T_q$
# of the $T_k$ positions, so query $i$ sits at position $i + (T_k - T_q)$, and the rule
# becomes
#
# $$\mathrm{keep}[i, j] = \big(j \le i + (T_k - T_q)\big).$$
#
# ```
#   causal_mask(2, 5): 3 cached positions, 2 new tokens
#                          i     0  1  2  3  4
#                          0     T  T  T  T  .      query 0 is position 3
#                          1     T  T  T  T  T      query 1 is position 4
#
#   causal_mask(1, 5): generating one token after 4: it may read all 5 positions
# ```
#
# With $T_k = T_q$ (the default) this is the lower triangle above. `np.tril(a, k)` keeps the
# entries of `a` with $j - i \le k$ and zeroes the rest; `np.arange` with broadcasting works
# too.
#
# Contract of `causal_mask(T_q, T_k=None)`: returns a new boolean array of shape
# `(T_q, T_k)` with the rule above (`T_k=None` means `T_k = T_q`); raises `ValueError`
# naming both numbers when `T_q < 1` or `T_k < T_q` (the queries are some of the keys'
# positions, so there cannot be more of them).


# %% kind="solution" id="causal_mask" export=true
def causal_mask(T_q: int, T_k: int | None = None) -> np.ndarray:
    """The boolean keep-mask of causal attention, shape (T_q, T_k), dtype bool.

    The queries are the last T_q of T_k positions, so query i (position i + T_k - T_q) may
    attend to key j exactly when j <= i + (T_k - T_q). T_k None means T_k = T_q: the lower
    triangle, diagonal included.

    Raises:
        ValueError: when T_q < 1 or T_k < T_q, naming both, e.g.
            "causal_mask: need 1 <= T_q <= T_k, got T_q=5, T_k=3".

    Hint: np.tril(np.ones((T_q, T_k), dtype=bool), k=...) keeps the entries with j - i <= k.
    """
    # Task causal_mask: default T_k, check the sizes, build the (T_q, T_k) boolean mask.
    ### BEGIN SOLUTION
    if T_k is None:
        T_k = T_q
    if T_q < 1:
        raise ValueError(f"causal_mask: need 1 <= T_q <= T_k, got T_q={T_q}, T_k={T_k}")
    if T_k < T_q:
        raise ValueError(f"causal_mask: need 1 <= T_q <= T_k, got T_q={T_q}, T_k={T_k}")
    return np.tril(np.ones((T_q, T_k), dtype=bool), k=T_k - T_q)
    ### END SOLUTION


# %% [markdown]
# ### Test `causal_mask`


# %% kind="test" id="test_causal_mask" points=2
def _show(mask) -> str:
    """A boolean mask as rows of T and ."""
    return "\n".join(" ".join("T" if v else "." for v in row) for row in np.asarray(mask))


got = causal_mask(4)
expected = np.array([[j <= i for j in range(4)] for i in range(4)])
assert isinstance(got, np.ndarray) and got.dtype == np.bool_, (
    f"causal_mask(4) should return a NumPy array of dtype bool, got "
    f"{type(got).__name__} of dtype {getattr(got, 'dtype', None)}: the course's masks are "
    "boolean (True = may attend). Use dtype=bool."
)
assert got.shape == (4, 4) and np.array_equal(got, expected), (
    f"causal_mask(4): expected the lower triangle, diagonal included:\n{_show(expected)}\n"
    f"got:\n{_show(got) if got.ndim == 2 else got}"
)
got = causal_mask(2, 5)
expected = np.array([[True, True, True, True, False], [True, True, True, True, True]])
assert got.shape == (2, 5) and np.array_equal(got, expected), (
    f"causal_mask(2, 5): the 2 queries are positions 3 and 4 of 5, so query i may read key "
    f"j when j <= i + 3. Expected:\n{_show(expected)}\ngot:\n"
    f"{_show(got) if got.ndim == 2 else got}"
)
assert np.array_equal(causal_mask(1, 3), [[True, True, True]]), (
    "causal_mask(1, 3): one new token after 2 cached ones may read all 3 positions."
)
for args in ((5, 3), (0, 2)):
    err = raised(lambda a=args: causal_mask(*a))
    assert isinstance(err, ValueError), (
        f"causal_mask{args} should raise ValueError (need 1 <= T_q <= T_k), got "
        f"{type(err).__name__ if err else 'no error'}."
    )

### BEGIN HIDDEN TESTS
# hidden: the mask keeps key j for query i exactly when j <= i + (T_k - T_q)
for t_q, t_k in ((1, 1), (3, 3), (6, 6), (1, 7), (3, 8), (4, 5), (2, 9), (7, 10)):
    got = causal_mask(t_q, t_k)
    rows, cols = np.arange(t_q)[:, None], np.arange(t_k)[None, :]
    assert isinstance(got, np.ndarray), "causal_mask returns a NumPy array"
    assert got.dtype == np.bool_, "the mask has dtype bool"
    assert got.shape == (t_q, t_k), "the mask has shape (T_q, T_k)"
    assert check_equal(got, cols <= rows + (t_k - t_q)), "keep[i, j] is j <= i + (T_k - T_q)"
# hidden: T_k defaults to T_q, giving the lower triangle
for t in (1, 2, 5, 9):
    got = causal_mask(t)
    assert got.dtype == np.bool_ and got.shape == (t, t), "causal_mask(T) is a (T, T) bool mask"
    assert check_equal(got, np.tril(np.ones((t, t))) > 0), "causal_mask(T) is the lower triangle"
assert check_equal(causal_mask(3, None), np.tril(np.ones((3, 3))) > 0), "T_k=None means T_q"
# hidden: every query may attend at least to its own position and never to a later one
for t_q, t_k in ((5, 5), (3, 6), (1, 4)):
    got = causal_mask(t_q, t_k)
    assert check_equal(got.sum(axis=1), np.arange(t_q) + (t_k - t_q) + 1), (
        "row i keeps i + 1 + offset keys"
    )
# hidden: sizes with T_q < 1 or T_k < T_q raise ValueError
for args in ((0,), (0, 0), (-1, 3), (4, 3), (2, 1), (7, 6)):
    assert isinstance(raised(lambda a=args: causal_mask(*a)), ValueError), (
        "T_q < 1 or T_k < T_q raises ValueError"
    )
# hidden: every call returns a new array
first = causal_mask(3, 4)
first[:] = False
assert check_equal(causal_mask(3, 4)[0], [True, True, False, False]), (
    "each call returns a new array"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `masked_softmax`: a softmax over the allowed keys (4 points)
#
# The attention weights are a softmax along the last axis of the scores, restricted to the
# keys the mask allows. Module 02 built the stable softmax and Module 05 its backward pass;
# attention adds three things, and you write the whole operation as a `Function` so that it
# has its own backward rule.
#
# **1. Blocked scores become $-\infty$.** Replace every blocked score by $-\infty$ with
# `np.where(keep, scores, -np.inf)` (the mask broadcasts against the scores). Then
# $e^{-\infty} = 0$ exactly: a blocked key gets weight 0 whatever its score was, and the
# allowed keys share the whole probability. Do not add a large negative number instead: as
# the story above shows, $-10^9$ added to a score rounds the score away.
#
# **2. Stable, row by row.** As in Module 02, subtract each row's maximum $m$ before `exp`,
# so that every exponent is $\le 0$ and nothing overflows, even for scores of $10^4$ (a
# float32 `exp` overflows above 88.7). The row's maximum contributes $e^0 = 1$, so the sum
# of a row with at least one allowed key is at least 1.
#
# **3. A row with nothing allowed.** If every key of a row is blocked, its maximum is
# $-\infty$, and $-\infty - (-\infty)$ is `nan`. Such rows must come out as all zeros
# (nothing to attend to), without a NumPy warning. Two small changes do it: shift such a row
# by 0 instead of by its maximum (`np.isfinite` tells which maxima are real), so its
# exponentials are $e^{-\infty} = 0$; and divide by `np.maximum(total, 1)` instead of
# `total`, which changes nothing for a normal row (its total is at least 1) and turns
# $0 / 0$ into $0 / 1$ for an empty one.
#
# ```
#   scores            keep               weights
#   [ 2.0 0.0 1.0 ]   [ T  T  T ]   ->   [ 0.665 0.090 0.245 ]
#   [ 2.0 0.0 1.0 ]   [ T  .  T ]   ->   [ 0.731 0     0.269 ]     blocked: exactly 0
#   [ 9e3 1e4 0.0 ]   [ T  T  . ]   ->   [ 0     1     0     ]     e^(9000 - 10000) = 0
#   [ 2.0 0.0 1.0 ]   [ .  .  . ]   ->   [ 0     0     0     ]     nothing to attend to
# ```
#
# **Backward.** The weights of a row are a softmax of its allowed scores, and the blocked
# entries are constants (0) that do not depend on any score. Module 05's rule for
# $s = \mathrm{softmax}(x)$ and an upstream gradient $g$ was
# $\partial L / \partial x = s \odot (g - \sum_j g_j s_j)$, summed along the softmax axis.
# Apply it to the weights as they are: a blocked entry has $s = 0$, so its gradient is 0, and
# an empty row has $s = 0$ everywhere, so its whole gradient is 0. One formula covers all
# three cases; save the weights in `ctx` during forward.
#
# **The mask is a keyword argument.** `Function.apply` turns every positional input into a
# Tensor (float32) and passes keyword arguments through unchanged. So call
# `MaskedSoftmax.apply(scores, mask=keep)`: the boolean mask reaches `forward` as it is, and
# backward returns one gradient, for the one positional input. The given first line of
# `forward` checks the mask with `_check_mask`.
#
# Contract: `MaskedSoftmax.forward(ctx, scores, mask=None)` takes an array of any shape with
# at least one axis and returns the weights, an array of the same shape and dtype (float32
# in a network, float64 in the tests), softmax along the last axis over the allowed entries,
# exactly 0 at blocked entries, a row of zeros where nothing is allowed, finite for any
# finite scores, without a NumPy warning; `scores` itself is not modified.
# `backward(ctx, grad_output)` returns a one-element tuple: the gradient of the scores.


# %% kind="solution" id="masked_softmax" export=true
class MaskedSoftmax(Function):
    """Softmax along the last axis over the positions a boolean keep-mask allows.

    Use as MaskedSoftmax.apply(scores, mask=keep): the mask is a keyword argument, so that it
    reaches forward as a boolean array. A row with no allowed position gives zeros.
    """

    @staticmethod
    def forward(ctx: Context, scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Weights of scores' shape and dtype: each row (last axis) a stable softmax of its
        allowed entries, exactly 0 at blocked ones; zeros for a row with nothing allowed.

        Args:
            scores: an array (..., T_k), float32 or float64; not modified.
            mask: None (everything allowed) or a boolean array broadcastable to scores'
                shape, True = may attend.

        Saves the weights in ctx for backward.

        Hint: scores = np.where(keep, scores, -np.inf); shift every row by its maximum, or
        by 0 where the maximum is not finite (np.isfinite); divide the exponentials by
        np.maximum(row sum, 1). keepdims=True keeps the reduced axis for broadcasting.
        """
        keep = _check_mask(mask, scores.shape)
        # Task masked_softmax: block with -inf, shift by each row's finite maximum, normalise.
        ### BEGIN SOLUTION
        if keep is not None:
            scores = np.where(keep, scores, -np.inf)  # blocked: e^(-inf) = 0
        top = np.max(scores, axis=-1, keepdims=True)  # (..., 1); -inf for an empty row
        top = np.where(np.isfinite(top), top, 0)
        e = np.exp(scores - top)  # every exponent <= 0
        total = np.sum(e, axis=-1, keepdims=True)  # >= 1, or 0 for an empty row
        weights = e / np.maximum(total, 1)
        ctx.save_for_backward(weights)
        return weights
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(d scores,): softmax's rule w * (g - sum(g * w) along the last axis)."""
        # Task masked_softmax: the softmax backward rule applied to the saved weights.
        ### BEGIN SOLUTION
        (weights,) = ctx.saved_tensors
        inner = np.sum(grad_output * weights, axis=-1, keepdims=True)  # (..., 1)
        centred = grad_output - inner
        return (weights * centred,)
        ### END SOLUTION


# %% [markdown]
# ### Test `masked_softmax`

# %% kind="test" id="test_masked_softmax" points=4
scores = np.array([[2.0, 0.0, 1.0], [2.0, 0.0, 1.0], [9e3, 1e4, 0.0], [2.0, 0.0, 1.0]])
keep = np.array([[True, True, True], [True, False, True], [True, True, False], [False] * 3])
out, (g,) = run_rule(MaskedSoftmax, [scores], mask=keep)
expected = np.zeros((4, 3))
expected[0] = np.exp([2.0, 0.0, 1.0]) / np.exp([2.0, 0.0, 1.0]).sum()
expected[1, [0, 2]] = np.exp([2.0, 1.0]) / np.exp([2.0, 1.0]).sum()
expected[2, 1] = 1.0
assert_array(
    out,
    expected,
    "MaskedSoftmax.forward of the four rows of the table above (all allowed; middle key "
    "blocked; scores near 1e4; nothing allowed)",
)
assert out.dtype == np.float64, (
    f"MaskedSoftmax.forward of float64 scores should return float64 (gradient checks need "
    f"it), got {out.dtype}."
)
upstream = np.array([[1.0, -2.0, 0.5], [0.3, 4.0, -1.0], [2.0, 1.0, 5.0], [1.0, 1.0, 1.0]])
_, (g,) = run_rule(MaskedSoftmax, [scores], upstream=upstream, mask=keep)
assert_array(
    g[3], [0.0, 0.0, 0.0], "MaskedSoftmax.backward: a row with nothing allowed gets gradient 0"
)
assert_array(
    g[1, 1:2], [0.0], "MaskedSoftmax.backward: a blocked score gets gradient 0 (its weight is 0)"
)
out, (g,) = run_rule(MaskedSoftmax, [scores[:2]])
assert_array(
    out, [expected[0], expected[0]], "MaskedSoftmax.forward with mask=None: a plain softmax"
)

rng = np.random.default_rng(12)
scores64 = rng.standard_normal((2, 3, 4)) * 2.0
keep = causal_mask(3, 4)
x = leaf(scores64)
out = MaskedSoftmax.apply(x, mask=keep)
expected = np.where(keep, np.exp(scores64), 0.0)
expected = expected / expected.sum(axis=-1, keepdims=True)
assert_tensor(out, expected, "MaskedSoftmax.apply(scores (2, 3, 4), mask=causal_mask(3, 4))")
upstream = rng.standard_normal((2, 3, 4))
out.backward(upstream)


def _masked(s, keep=keep):
    e = np.where(keep, np.exp(s - s.max(axis=-1, keepdims=True)), 0.0)
    return e / e.sum(axis=-1, keepdims=True)


numeric = numerical_gradients(_masked, [scores64], upstream)[0]
assert_grad(x, numeric, "MaskedSoftmax: scores.grad compared with central differences")
err = raised(lambda: MaskedSoftmax.apply(Tensor(scores64), mask=np.where(keep, 0.0, -np.inf)))
assert isinstance(err, TypeError), (
    f"An additive 0/-inf float mask should raise TypeError (the course's masks are boolean), "
    f"got {type(err).__name__ if err else 'no error'}. Keep the given _check_mask line."
)


### BEGIN HIDDEN TESTS
# hidden: the weights are a softmax over the allowed keys, exactly 0 elsewhere
def _h_softmax(s, keep=None):
    """Float64 reference: softmax over the allowed entries of the last axis; empty rows 0."""
    s = np.asarray(s, dtype=np.float64)
    allowed = np.ones(s.shape, bool) if keep is None else np.broadcast_to(keep, s.shape)
    with np.errstate(all="ignore"):
        top = np.where(allowed, s, -np.inf).max(axis=-1, keepdims=True)
        top = np.where(allowed.any(axis=-1, keepdims=True), top, 0.0)
        e = np.where(allowed, np.exp(np.where(allowed, s - top, 0.0)), 0.0)
        total = e.sum(axis=-1, keepdims=True)
        return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def _h_ok(got, expected, rtol=1e-5, atol=1e-7):
    return isinstance(got, np.ndarray) and check_close(got, expected, rtol=rtol, atol=atol)


rng = np.random.default_rng(1201)
s64 = rng.standard_normal((2, 3, 4, 5)) * 3.0
masks = [
    None,
    causal_mask(4, 5),
    rng.random((2, 1, 1, 5)) < 0.7,
    rng.random((2, 3, 4, 5)) < 0.5,
    rng.random((4, 1)) < 0.5,
]
masks[2][:, :, :, 0] = True
for keep in masks:
    out, _ = run_rule(MaskedSoftmax, [s64], mask=keep)
    assert _h_ok(out, _h_softmax(s64, keep)), "4-D scores with masks that broadcast"
    assert out.dtype == np.float64, "forward keeps float64"
# hidden: a row with nothing allowed gives zeros, and zero gradient, without warnings
keep = rng.random((2, 3, 4, 5)) < 0.5
keep[0, 1, 2, :] = False
keep[1, :, 0, :] = False
out, (g,) = run_rule(MaskedSoftmax, [s64], upstream=rng.standard_normal(s64.shape), mask=keep)
assert _h_ok(out[0, 1, 2], np.zeros(5)), "an empty row gives weights 0"
assert _h_ok(out[1, :, 0], np.zeros((3, 5))), "empty rows give weights 0"
assert _h_ok(g[0, 1, 2], np.zeros(5)), "an empty row gets gradient 0"
assert _h_ok(out, _h_softmax(s64, keep)), "rows with and without allowed keys"
out, _ = run_rule(MaskedSoftmax, [s64[0]], mask=np.zeros((3, 4, 5), dtype=bool))
assert _h_ok(out, np.zeros((3, 4, 5))), "a mask that blocks everything gives zeros"
# hidden: scores near 1e4 and rows far apart stay finite and exact
big = rng.standard_normal((3, 6)) * 50 + np.array([[1e4], [-1e4], [0.0]])
big[0, 2] = 1.02e4
for keep in (None, np.array([True, True, False, True, True, True])):
    out, (g,) = run_rule(MaskedSoftmax, [big], upstream=rng.standard_normal(big.shape), mask=keep)
    assert bool(np.all(np.isfinite(out))) and bool(np.all(np.isfinite(g))), "finite near 1e4"
    assert _h_ok(out, _h_softmax(big, keep)), "scores near 1e4 give the exact softmax"
# hidden: float32 scores give float32 weights and gradients
s32 = rng.standard_normal((3, 4)).astype(np.float32)
ctx = Context()
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = MaskedSoftmax.forward(ctx, s32, mask=causal_mask(3, 4))
    grads = MaskedSoftmax.backward(ctx, np.ones((3, 4), dtype=np.float32))
assert out.dtype == np.float32, "float32 scores give float32 weights"
assert isinstance(grads, tuple) and len(grads) == 1, "backward returns a one-element tuple"
assert grads[0].dtype == np.float32, "float32 gradients stay float32"
# hidden: the gradient matches central differences for random upstream gradients
for index, keep in enumerate((None, causal_mask(4, 5), masks[3], masks[2])):
    up = np.random.default_rng(1210 + index).standard_normal(s64.shape)
    _, (g,) = run_rule(MaskedSoftmax, [s64], upstream=up, mask=keep)
    numeric = numerical_gradients(lambda s, k=keep: _h_softmax(s, k), [s64], up)[0]
    assert _h_ok(g, numeric, rtol=1e-5, atol=1e-7), "the gradient matches central differences"
# hidden: through autograd, the scores' gradient reaches a float32 leaf
x = Tensor(s64[1], requires_grad=True)
keep = masks[3][1]
out = MaskedSoftmax.apply(x, mask=keep)
assert isinstance(out, Tensor) and out.data.dtype == np.float32, "apply gives a float32 Tensor"
assert check_close(out.data, _h_softmax(x.data, keep), atol=1e-6), "apply gives the weights"
up = rng.standard_normal(out.shape)
out.backward(up)
numeric = numerical_gradients(lambda s: _h_softmax(s, keep), [x.data], up)[0]
assert isinstance(x.grad, np.ndarray), "the gradient reaches the scores"
assert check_close(x.grad, numeric, rtol=1e-4, atol=1e-5), "autograd gradient of the scores"
# hidden: the scores and the mask are left unchanged
before, keep = s64.copy(), masks[3].copy()
run_rule(MaskedSoftmax, [s64], mask=keep)
ctx = Context()
MaskedSoftmax.forward(ctx, s64, mask=keep)
assert check_equal(s64, before) and check_equal(keep, masks[3]), "inputs are not modified"
# hidden: masks of the wrong shape or dtype raise clear errors
for wrong in (np.ones((5, 4), bool), np.ones((3, 5), bool), np.ones((2, 2, 3, 4, 5), bool)):
    err = raised(lambda w=wrong: MaskedSoftmax.apply(Tensor(s64), mask=w))
    assert isinstance(err, ValueError), "a mask of the wrong shape raises ValueError"
for wrong in (np.ones((4, 5)), np.ones((4, 5), dtype=np.int64), Tensor(np.ones((4, 5)))):
    err = raised(lambda w=wrong: MaskedSoftmax.apply(Tensor(s64), mask=w))
    assert isinstance(err, TypeError), "a mask that is not boolean raises TypeError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `attention`: scaled dot-product attention (4 points)
#
# Now the three lines, on Tensors, so that autograd differentiates them: the matrix product
# and the transpose are Module 05's Functions, the softmax is yours.
#
# **Why divide by $\sqrt{d_k}$?** Take a query and a key whose $d_k$ entries are independent,
# with mean 0 and variance 1 (roughly what a freshly initialised layer produces). Their dot
# product $q \cdot k = \sum_{c=1}^{d_k} q_c k_c$ is a sum of $d_k$ terms of variance 1, so it
# has variance $d_k$ and a typical size of $\sqrt{d_k}$: about 8 for $d_k = 64$. Scores
# that far apart push the softmax into saturation: one weight near 1, the others near 0,
# and the softmax's gradient $s (g - \sum g s)$ near 0, so the layer barely learns.
# Dividing by $\sqrt{d_k}$ brings the scores back to variance 1, whatever the head size:
#
# ```
#                                                   largest of 16 weights (median of 20,000
#   d_k    std of q.k    std of q.k / sqrt(d_k)     random queries, 16 random keys each)
#                                                     unscaled          scaled
#     4        2                  1                     0.38             0.20
#    64        8                  1                     0.93             0.22
#   512       23                  1                     1.00             0.23
# ```
#
# $d_k$ is the length of the vectors that are compared: the **last axis of Q**. In
# multi-head attention (below) that is the size of one head, not the width of the model.
#
# Contract of `scaled_dot_product_attention(Q, K, V, mask=None)`:
#
# - `Q` a Tensor `(..., T_q, d_k)`, `K` `(..., T_k, d_k)`, `V` `(..., T_k, d_v)`, with the
#   same leading axes (batch, heads) or leading axes that broadcast; the given first line
#   checks the shapes;
# - `mask`: `None`, or a boolean keep-mask broadcastable to `(..., T_q, T_k)`;
# - returns a tuple `(output, weights)` of float32 Tensors: `output` `(..., T_q, d_v)` and
#   `weights` `(..., T_q, T_k)`, both built from Tensor operations and `MaskedSoftmax.apply`,
#   so that `output.backward(...)` reaches `Q`, `K` and `V`.


# %% kind="solution" id="attention" export=true
def scaled_dot_product_attention(
    Q: Tensor, K: Tensor, V: Tensor, mask: np.ndarray | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(Q K^T / sqrt(d_k)) V over the keys the mask allows.

    Args:
        Q: queries (..., T_q, d_k); K: keys (..., T_k, d_k); V: values (..., T_k, d_v).
        mask: None, or a boolean keep-mask (True = may attend) broadcastable to
            (..., T_q, T_k), such as causal_mask(T_q, T_k).

    Returns:
        (output, weights): float32 Tensors (..., T_q, d_v) and (..., T_q, T_k). Rows of
        weights sum to 1 over the allowed keys; a query with no allowed key gets weights 0
        and output 0. Built from Tensor operations, so gradients reach Q, K and V.

    Raises:
        ValueError: from the given shape check (Q and K differ in d_k, K and V in T_k), or
            for a mask that does not broadcast to (..., T_q, T_k).
        TypeError: for a mask that is not boolean.

    Hint: d_k is Q.shape[-1]; K.transpose(-2, -1) swaps the last two axes; pass the mask to
    MaskedSoftmax.apply as a keyword.
    """
    _check_qkv(Q.shape, K.shape, V.shape)
    # Task attention: scaled scores, masked softmax, weighted sum of the values.
    ### BEGIN SOLUTION
    d_k = Q.shape[-1]
    scores = Q @ K.transpose()  # (..., T_q, T_k); transpose() swaps the last two axes
    scores = scores / np.sqrt(d_k)
    weights = MaskedSoftmax.apply(scores, mask=mask)  # (..., T_q, T_k)
    return weights @ V, weights  # (..., T_q, d_v)
    ### END SOLUTION


# %% [markdown]
# ### Test `attention`

# %% kind="test" id="test_attention" points=4
Q = Tensor([[2.0, 2.0, 0.0, 0.0]])
K = Tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0]])
V = Tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
result = scaled_dot_product_attention(Q, K, V)
assert isinstance(result, tuple) and len(result) == 2, (
    f"scaled_dot_product_attention should return a tuple (output, weights), got "
    f"{type(result).__name__}."
)
out, weights = result
assert_tensor(weights, [[0.665241, 0.090031, 0.244728]], "weights of the worked example")
assert_tensor(out, [[0.909969, 0.334759]], "output of the worked example", atol=1e-5)

rng = np.random.default_rng(3)
q64, k64, v64 = (rng.standard_normal(s) for s in ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)))
out, weights = scaled_dot_product_attention(Tensor(q64), Tensor(k64), Tensor(v64))
ref_out, ref_weights = attention_reference(q64, k64, v64)
assert_tensor(weights, ref_weights, "weights for Q (2, 3, 4, 8), K (2, 3, 5, 8): scaled by sqrt(8)")
assert_tensor(out, ref_out, "output for Q (2, 3, 4, 8), K (2, 3, 5, 8), V (2, 3, 5, 6)")

keep = causal_mask(4, 5)
out, weights = scaled_dot_product_attention(Tensor(q64), Tensor(k64), Tensor(v64), keep)
ref_out, ref_weights = attention_reference(q64, k64, v64, keep)
assert_tensor(weights, ref_weights, "weights with mask=causal_mask(4, 5)")
assert_tensor(out, ref_out, "output with mask=causal_mask(4, 5)")

q, k, v = leaf(q64[0, 0]), leaf(k64[0, 0]), leaf(v64[0, 0])
out, _ = scaled_dot_product_attention(q, k, v, keep)
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(
    lambda *a: attention_reference(*a, keep)[0], [q.data, k.data, v.data], upstream
)
for t, g, name in ((q, numeric[0], "Q"), (k, numeric[1], "K"), (v, numeric[2], "V")):
    assert_grad(t, g, f"scaled_dot_product_attention: {name}.grad vs central differences")


### BEGIN HIDDEN TESTS
# hidden: output and weights match a float64 reference on 4-D (batch, heads, time, dim) inputs
def _h_attention(q, k, v, keep=None):
    """Float64 reference, vectorised: softmax over allowed keys; empty rows give zeros."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    allowed = np.ones(s.shape, bool) if keep is None else np.broadcast_to(keep, s.shape)
    with np.errstate(all="ignore"):
        top = np.where(allowed, s, -np.inf).max(axis=-1, keepdims=True)
        top = np.where(allowed.any(axis=-1, keepdims=True), top, 0.0)
        e = np.where(allowed, np.exp(np.where(allowed, s - top, 0.0)), 0.0)
        total = e.sum(axis=-1, keepdims=True)
        w = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    return w @ v, w


def _h_tensor(t, expected, rtol=1e-5, atol=1e-5):
    data = getattr(t, "data", None)
    return (
        isinstance(t, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


rng = np.random.default_rng(1202)
cases = [  # Q, K, V shapes
    ((3, 2, 5, 4), (3, 2, 5, 4), (3, 2, 5, 7)),
    ((2, 4, 3, 6), (2, 4, 7, 6), (2, 4, 7, 3)),
    ((1, 1, 6, 2), (1, 1, 6, 2), (1, 1, 6, 2)),
    ((2, 3, 1, 5), (2, 3, 4, 5), (2, 3, 4, 5)),
    ((4, 3), (6, 3), (6, 2)),
]
for qs, ks, vs in cases:
    q64, k64, v64 = rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(vs)
    result = scaled_dot_product_attention(Tensor(q64), Tensor(k64), Tensor(v64))
    assert isinstance(result, tuple) and len(result) == 2, "returns (output, weights)"
    ref_out, ref_w = _h_attention(q64, k64, v64)
    assert _h_tensor(result[1], ref_w), "the weights match the float64 reference"
    assert _h_tensor(result[0], ref_out), "the output matches the float64 reference"
# hidden: scores are divided by the square root of the last axis of Q
q64, k64, v64 = (
    rng.standard_normal((2, 4, 9)) * 2,
    rng.standard_normal((2, 5, 9)),
    rng.standard_normal((2, 5, 3)),
)
out, w = scaled_dot_product_attention(Tensor(q64), Tensor(k64), Tensor(v64))
assert _h_tensor(w, _h_attention(q64, k64, v64)[1]), "scaled by sqrt(d_k), d_k = Q.shape[-1]"
# hidden: masks that broadcast over batch and heads, including the cache offset form
q64, k64, v64 = (
    rng.standard_normal((2, 3, 4, 5)),
    rng.standard_normal((2, 3, 6, 5)),
    rng.standard_normal((2, 3, 6, 4)),
)
padding = rng.random((2, 1, 1, 6)) < 0.6
padding[:, :, :, 0] = True
full = rng.random((2, 3, 4, 6)) < 0.6
full[..., 1] = True
for keep in (causal_mask(4, 6), padding, full, padding & causal_mask(4, 6)):
    out, w = scaled_dot_product_attention(Tensor(q64), Tensor(k64), Tensor(v64), keep)
    ref_out, ref_w = _h_attention(q64, k64, v64, keep)
    assert _h_tensor(w, ref_w), "weights with a broadcast mask"
    assert _h_tensor(out, ref_out), "output with a broadcast mask"
    blocked = w.data[~np.broadcast_to(keep, w.shape)]
    assert check_equal(blocked, np.zeros(blocked.shape)), "blocked weights are exactly 0"
# hidden: scores near 1e4 give finite, exact results without floating-point warnings
q64 = rng.standard_normal((2, 3, 4)) * 1e2
k64 = rng.standard_normal((2, 5, 4)) * 1e2
v64 = rng.standard_normal((2, 5, 3))
result, err = strict(lambda: scaled_dot_product_attention(Tensor(q64), Tensor(k64), Tensor(v64)))
assert err is None, "scores near 1e4 cause no overflow"
ref_out, ref_w = _h_attention(q64, k64, v64)
assert bool(np.all(np.isfinite(result[0].data))), "the output is finite for scores near 1e4"
assert _h_tensor(result[1], ref_w, atol=1e-4), "the weights for scores near 1e4"
assert _h_tensor(result[0], ref_out, atol=1e-4), "the output for scores near 1e4"
# hidden: a query with no allowed key gets weights 0, output 0 and gradient 0
q64, k64, v64 = (
    rng.standard_normal((3, 4)),
    rng.standard_normal((5, 4)),
    rng.standard_normal((5, 2)),
)
keep = rng.random((3, 5)) < 0.6
keep[1] = False
keep[[0, 2], 0] = True
q, k, v = leaf(q64), leaf(k64), leaf(v64)
(out, w), err = strict(lambda: scaled_dot_product_attention(q, k, v, keep))
assert err is None, "an empty row causes no floating-point warning"
assert check_equal(out.data[1], np.zeros(2)) and check_equal(w.data[1], np.zeros(5)), (
    "empty row: zeros"
)
up = rng.standard_normal(out.shape)
out.backward(up)
numeric = numerical_gradients(lambda *a: _h_attention(*a, keep)[0], [q64, k64, v64], up)
assert check_equal(q.grad[1], np.zeros(4)), "an empty row's query gets gradient 0"
for t, g in zip((q, k, v), numeric, strict=True):
    assert check_close(t.grad, g, rtol=1e-4, atol=1e-5), "gradients with an empty row"
# hidden: gradients of Q, K and V match central differences with a random upstream gradient
for index, (qs, ks, vs) in enumerate(cases[:4]):
    r = np.random.default_rng(1220 + index)
    q64, k64, v64 = r.standard_normal(qs)[:1], r.standard_normal(ks)[:1], r.standard_normal(vs)[:1]
    keep = causal_mask(qs[-2], ks[-2]) if index % 2 else None
    q, k, v = leaf(q64), leaf(k64), leaf(v64)
    out, _ = scaled_dot_product_attention(q, k, v, keep)
    assert out.requires_grad is True, "the output records the graph"
    up = r.standard_normal(out.shape)
    out.backward(up)
    numeric = numerical_gradients(lambda *a, m=keep: _h_attention(*a, m)[0], [q64, k64, v64], up)
    for t, g in zip((q, k, v), numeric, strict=True):
        assert isinstance(t.grad, np.ndarray) and t.grad.shape == t.shape, "Q, K, V get gradients"
        assert check_close(t.grad, g, rtol=1e-4, atol=1e-5), "gradients match central differences"
# hidden: the weights' gradient flows into the scores too
q, k, v = (
    leaf(rng.standard_normal((4, 3))),
    leaf(rng.standard_normal((4, 3))),
    leaf(rng.standard_normal((4, 2))),
)
_, w = scaled_dot_product_attention(q, k, v)
up = rng.standard_normal(w.shape)
w.backward(up)
numeric = numerical_gradients(lambda *a: _h_attention(*a)[1], [q.data, k.data, v.data], up)
assert check_close(q.grad, numeric[0], rtol=1e-4, atol=1e-5), "weights.backward reaches Q"
assert check_close(k.grad, numeric[1], rtol=1e-4, atol=1e-5), "weights.backward reaches K"
# hidden: masks of the wrong shape or dtype raise clear errors
q, k, v = Tensor(np.ones((2, 4, 3))), Tensor(np.ones((2, 5, 3))), Tensor(np.ones((2, 5, 2)))
for wrong in (causal_mask(5, 5), np.ones((5, 4), bool), np.ones((3, 4, 5), bool)):
    err = raised(lambda w=wrong: scaled_dot_product_attention(q, k, v, w))
    assert isinstance(err, ValueError), "a mask of the wrong shape raises ValueError"
err = raised(lambda: scaled_dot_product_attention(q, k, v, np.ones((4, 5))))
assert isinstance(err, TypeError), "a float mask raises TypeError"
# hidden: Q and K of different widths, or K and V of different lengths, raise ValueError
err = raised(lambda: scaled_dot_product_attention(q, Tensor(np.ones((2, 5, 4))), v))
assert isinstance(err, ValueError), "Q and K with different d_k raise ValueError"
err = raised(lambda: scaled_dot_product_attention(q, k, Tensor(np.ones((2, 4, 2)))))
assert isinstance(err, ValueError), "K and V with different T_k raise ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `heads`: one layer, several attentions (3 points)
#
# One attention computes one set of weights per query: one way of deciding what is
# relevant. But a token usually needs several things at once: in "the cat that the dogs
# chase **runs**", the verb needs its subject (*cat*, far back) and, for other purposes, its
# neighbours. **Multi-head attention** runs $H$ attentions side by side, each on its own
# slice of the features, and concatenates their outputs. With model width $D$, each head
# gets $d_{head} = D / H$ features, so $H$ heads cost about as much as one head of width $D$.
#
# The heads are not separate tensors: a projection computes all of them at once, as one
# `(B, T, D)` tensor whose features $h\,d_{head} \dots (h+1)\,d_{head} - 1$ belong to head
# $h$. To run attention per head, move the heads into a leading axis, **next to the batch**,
# so that the matrix products of `scaled_dot_product_attention` act on `(T, d_head)` blocks:
# `(B, T, D)` $\to$ `(B, H, T, d_head)`. That takes two steps:
#
# ```
#   x (B=1, T=3, D=4), H = 2 heads of d_head = 2          a.. b.. c.. are positions 0 1 2
#
#            head 0  head 1
#   t = 0  [ a0 a1 | a2 a3 ]
#   t = 1  [ b0 b1 | b2 b3 ]      reshape (1, 3, 2, 2): cut each row into H pieces,
#   t = 2  [ c0 c1 | c2 c3 ]      x[0, t, h] is head h's piece at time t
#
#   transpose(1, 2) -> (1, 2, 3, 2): head h's pieces of every position, in time order
#     head 0:  [a0 a1]  [b0 b1]  [c0 c1]
#     head 1:  [a2 a3]  [b2 b3]  [c2 c3]
#
#   a bare reshape (1, 2, 3, 2) reads the same 12 numbers in row-major order instead:
#     "head 0":  [a0 a1]  [a2 a3]  [b0 b1]      pieces of two heads and two positions
#     "head 1":  [b2 b3]  [c0 c1]  [c2 c3]      mixed up: the shape is right, the data not
# ```
#
# A reshape never moves data, it only re-reads it in row-major order, so it can cut the
# feature axis into `(H, d_head)` but cannot move the head axis in front of the time axis;
# that is the transpose's job. `merge_heads` undoes both steps in reverse order: transpose
# back to `(B, T, H, d_head)`, then reshape to `(B, T, D)`, which lays each position's heads
# side by side again. Both are Tensor operations with backward rules (Module 05), so
# gradients flow through them. A `-1` in a reshape stands for "whatever length is left".
#
# Contracts:
#
# - `split_heads(x, num_heads)`: `x` a Tensor `(B, T, D)`; returns a Tensor
#   `(B, H, T, D // H)` with `out[b, h, t, c] == x[b, t, h * d_head + c]`; the given first
#   lines check that `x` is 3-D and that `num_heads` divides `D`;
# - `merge_heads(x)`: `x` a Tensor `(B, H, T, d_head)`; returns a Tensor `(B, T, H * d_head)`,
#   the inverse: `merge_heads(split_heads(x, H))` equals `x`.


# %% kind="solution" id="heads" export=true
def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(B, T, D) -> (B, H, T, D // H): head h gets features h * d_head ... (h + 1) * d_head - 1.

    out[b, h, t, c] == x[b, t, h * d_head + c], built with reshape and transpose, so that
    gradients flow back to x.

    Hint: reshape to (B, T, H, d_head) (d_head may be written -1), then swap axes 1 and 2.
    """
    if x.ndim != 3:
        raise ValueError(f"split_heads: expected x of shape (B, T, D), got {x.shape}")
    _check_heads(x.shape[-1], num_heads, "split_heads")
    # Task heads: cut the features into heads, then move the head axis before time.
    ### BEGIN SOLUTION
    B, T, _ = x.shape
    x = x.reshape(B, T, num_heads, -1)  # (B, T, H, d_head)
    return x.transpose(1, 2)  # (B, H, T, d_head)
    ### END SOLUTION


def merge_heads(x: Tensor) -> Tensor:
    """(B, H, T, d_head) -> (B, T, H * d_head), the inverse of split_heads.

    out[b, t, h * d_head + c] == x[b, h, t, c], built with transpose and reshape, so that
    gradients flow back to x.

    Hint: swap axes 1 and 2 back, then reshape to (B, T, -1).
    """
    if x.ndim != 4:
        raise ValueError(f"merge_heads: expected x of shape (B, H, T, d_head), got {x.shape}")
    # Task heads: move the head axis back behind time, then join the heads' features.
    ### BEGIN SOLUTION
    B, _, T, _ = x.shape
    x = x.transpose(1, 2)  # (B, T, H, d_head)
    return x.reshape(B, T, -1)  # (B, T, H * d_head)
    ### END SOLUTION


# %% [markdown]
# ### Test `heads`

# %% kind="test" id="test_heads" points=3
x64 = np.arange(12.0).reshape(1, 3, 4)  # positions 0, 1, 2 hold 0-3, 4-7, 8-11
out = split_heads(Tensor(x64), 2)
expected = [[[[0, 1], [4, 5], [8, 9]], [[2, 3], [6, 7], [10, 11]]]]
assert_tensor(
    out,
    expected,
    "split_heads(x, 2) for x = arange(12).reshape(1, 3, 4): head 0 holds features 0-1 of "
    "every position, head 1 features 2-3 (a reshape without the transpose mixes positions)",
)
assert_tensor(merge_heads(Tensor(expected)), x64, "merge_heads of the example above")

rng = np.random.default_rng(4)
x64 = rng.standard_normal((2, 5, 6))
for h in (1, 2, 3, 6):
    out = split_heads(Tensor(x64), h)
    assert_tensor(
        merge_heads(out), x64, f"merge_heads(split_heads(x, {h})) for x (2, 5, 6): the round trip"
    )
x = leaf(x64)
out = split_heads(x, 3)
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
assert_grad(
    x,
    upstream.transpose(0, 2, 1, 3).reshape(2, 5, 6),
    "split_heads(x, 3).backward(g): the gradient comes back in x's layout",
)


### BEGIN HIDDEN TESTS
# hidden: heads are split with reshape then transpose, out[b, h, t, c] = x[b, t, h * d_head + c]
def _h_split(a, h):
    b, t, d = a.shape
    return a.reshape(b, t, h, d // h).transpose(0, 2, 1, 3)


def _h_merge(a):
    b, h, t, dh = a.shape
    return a.transpose(0, 2, 1, 3).reshape(b, t, h * dh)


def _h_tensor(t, expected):
    data = getattr(t, "data", None)
    return (
        isinstance(t, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and bool(check_close(data, expected, atol=1e-6))
    )


rng = np.random.default_rng(1203)
for shape, h in (((3, 7, 8), 2), ((2, 4, 12), 3), ((1, 6, 8), 4), ((4, 2, 6), 6), ((2, 3, 5), 1)):
    x64 = rng.standard_normal(shape)
    out = split_heads(Tensor(x64), h)
    assert _h_tensor(out, _h_split(x64, h)), "split_heads gives (B, H, T, d_head) in head order"
    for b, t, c in ((0, shape[1] - 1, 0), (shape[0] - 1, 0, shape[2] - 1)):
        hh, cc = divmod(c, shape[2] // h)
        assert check_close(out.data[b, hh, t, cc], x64[b, t, c], atol=1e-6), "element mapping"
# hidden: merge_heads puts the heads of each position side by side again
for shape in ((3, 2, 7, 4), (2, 3, 4, 4), (1, 4, 6, 2), (2, 1, 5, 3)):
    a64 = rng.standard_normal(shape)
    assert _h_tensor(merge_heads(Tensor(a64)), _h_merge(a64)), "merge_heads gives (B, T, D)"
    assert _h_tensor(split_heads(merge_heads(Tensor(a64)), shape[1]), a64), "split inverts merge"
# hidden: gradients flow through both, in the right layout
x64 = rng.standard_normal((2, 5, 6))
x = Tensor(x64, requires_grad=True)
out = split_heads(x, 2)
up = rng.standard_normal(out.shape)
out.backward(up)
assert isinstance(x.grad, np.ndarray) and check_close(x.grad, _h_merge(up), atol=1e-6), (
    "split's gradient"
)
a = Tensor(rng.standard_normal((2, 3, 4, 2)), requires_grad=True)
out = merge_heads(a)
up = rng.standard_normal(out.shape)
out.backward(up)
assert isinstance(a.grad, np.ndarray) and check_close(a.grad, _h_split(up, 3), atol=1e-6), (
    "merge's gradient"
)
# hidden: widths that num_heads does not divide, and inputs of the wrong rank, raise ValueError
for args in (((2, 3, 6), 4), ((2, 3, 6), 0), ((3, 6), 2), ((1, 2, 3, 6), 2)):
    err = raised(lambda a=args: split_heads(Tensor(np.ones(a[0])), a[1]))
    assert isinstance(err, ValueError), "split_heads rejects bad shapes and head counts"
assert isinstance(raised(lambda: merge_heads(Tensor(np.ones((2, 3, 4))))), ValueError), (
    "merge needs 4-D"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `mha`: `MultiHeadAttention` (5 points)
#
# Attention itself has no parameters. What a transformer learns is **how to make** queries,
# keys and values from its input, and what to do with the result. `MultiHeadAttention`
# wraps `scaled_dot_product_attention` in four `Linear` layers of Module 03, each
# `(d_model, d_model)` with a bias:
#
# $$\begin{aligned}
# Q &= x W_Q + b_Q, \quad K = x W_K + b_K, \quad V = x W_V + b_V
#   &&\text{(B, T, D) each, then split into H heads: (B, H, T, } d_{head}) \\
# \mathrm{heads} &= \mathrm{attention}(Q, K, V, \mathrm{mask})
#   &&\text{(B, H, T, } d_{head}) \\
# \mathrm{out} &= \mathrm{merge}(\mathrm{heads})\, W_O + b_O
#   &&\text{(B, T, D)}
# \end{aligned}$$
#
# The output projection $W_O$ mixes the heads' results: without it, head $h$'s output would
# stay in features $h\,d_{head} \dots$, and the next layer could not combine what different
# heads found. The layer has $4(D^2 + D)$ parameters: 1,088 for $D = 16$, about 2.4 million
# for GPT-2 small's $D = 768$. The number of heads does not change the count, only how the
# features are grouped. Inside every head the scores are divided by $\sqrt{d_{head}}$,
# the width of the vectors compared there; `scaled_dot_product_attention` takes it from
# the last axis of Q, so splitting before attending gets it right by itself.
#
# **Initialisation, exactly.** The layer draws its four projections from **one** generator,
# `rng = np.random.default_rng(rng)`, in the order query, key, value, output, as
# `Linear(d_model, d_model, bias=bias, rng=rng)`: passing the same generator on lets each
# layer continue where the previous one stopped, so the four differ, and a seed makes the
# whole layer reproducible. The attribute names are part of the contract (Module 13 and
# Module 14 use them): `q_proj`, `k_proj`, `v_proj`, `out_proj`, assigned in that order so
# that `parameters()` lists their weights and biases in that order.
#
# **The mask** is passed through to attention unchanged. Because it broadcasts against
# `(B, H, T, T)`, one `causal_mask(T)` of shape `(T, T)` serves every sequence and every
# head; a padding mask `(B, 1, 1, T)` blocks the padded keys of each sequence for all heads
# and queries.
#
# Contracts:
#
# - `MultiHeadAttention(d_model, num_heads, bias=True, rng=None)`: the given first lines
#   check that `num_heads` divides `d_model`; store `d_model`, `num_heads` and
#   `d_head = d_model // num_heads` (ints), then the four projections as above;
# - `forward(x, mask=None)`: `x` a Tensor `(B, T, d_model)` (the given first line checks
#   it); returns a float32 Tensor `(B, T, d_model)` built from Tensor operations, so that
#   `out.backward(...)` reaches `x` and all eight parameters. Use your `split_heads`,
#   `scaled_dot_product_attention` and `merge_heads`.


# %% kind="solution" id="mha" export=true
class MultiHeadAttention(Layer):
    """Multi-head self-attention: projections, H heads of scaled dot-product attention,
    output projection.

    Attributes:
        d_model, num_heads, d_head: ints, d_head = d_model // num_heads.
        q_proj, k_proj, v_proj, out_proj: Linear(d_model, d_model, bias), in this order.
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        bias: bool = True,
        rng: np.random.Generator | int | None = None,
    ):
        """Store the sizes and create the four projections from one generator.

        Args:
            d_model: the width D of the input and the output.
            num_heads: H, a positive divisor of d_model.
            bias: whether the four projections have biases.
            rng: a np.random.Generator, an int seed, or None; np.random.default_rng(rng)
                makes one generator, passed to the four Linear layers in the order
                q_proj, k_proj, v_proj, out_proj.

        Raises:
            ValueError: from the given check, when num_heads does not divide d_model.
        """
        super().__init__()
        _check_heads(d_model, num_heads, "MultiHeadAttention")
        # Task mha: store d_model, num_heads, d_head; create q_proj, k_proj, v_proj, out_proj.
        ### BEGIN SOLUTION
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_head = d_model // num_heads
        rng = np.random.default_rng(rng)
        self.q_proj = Linear(d_model, d_model, bias=bias, rng=rng)
        self.k_proj = Linear(d_model, d_model, bias=bias, rng=rng)
        self.v_proj = Linear(d_model, d_model, bias=bias, rng=rng)
        self.out_proj = Linear(d_model, d_model, bias=bias, rng=rng)
        ### END SOLUTION

    def forward(self, x: Tensor, mask: np.ndarray | None = None) -> Tensor:
        """Self-attention of x (B, T, d_model) -> (B, T, d_model).

        mask: None or a boolean keep-mask broadcastable to (B, H, T, T), e.g.
        causal_mask(T) or a padding mask of shape (B, 1, 1, T).

        Hint: project, split each of Q, K, V into heads, attend, merge, project.
        """
        _check_sequence(x.shape, self.d_model, "MultiHeadAttention")
        # Task mha: project, split into heads, attend with the mask, merge, project.
        ### BEGIN SOLUTION
        q = split_heads(self.q_proj(x), self.num_heads)  # (B, H, T, d_head)
        k = split_heads(self.k_proj(x), self.num_heads)  # (B, H, T, d_head)
        v = split_heads(self.v_proj(x), self.num_heads)  # (B, H, T, d_head)
        heads, _ = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T, d_head)
        return self.out_proj(merge_heads(heads))  # (B, T, d_model)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"MultiHeadAttention(d_model={self.d_model}, num_heads={self.num_heads})"


# %% [markdown]
# ### Test `mha`

# %% kind="test" id="test_mha" points=5
mha = MultiHeadAttention(8, 2, rng=0)
assert (mha.d_model, mha.num_heads, mha.d_head) == (8, 2, 4), (
    f"MultiHeadAttention(8, 2): expected d_model, num_heads, d_head = 8, 2, 4, got "
    f"{getattr(mha, 'd_model', None)}, {getattr(mha, 'num_heads', None)}, "
    f"{getattr(mha, 'd_head', None)}."
)
names = ("q_proj", "k_proj", "v_proj", "out_proj")
for name in names:
    layer = getattr(mha, name, None)
    assert isinstance(layer, Linear) and layer.weight.shape == (8, 8), (
        f"MultiHeadAttention(8, 2).{name} should be a Linear(8, 8), got {layer!r}."
    )
params = mha.parameters()
assert len(params) == 8 and sum(p.size for p in params) == 4 * (64 + 8), (
    f"MultiHeadAttention(8, 2).parameters() should hold 4 weights (8, 8) and 4 biases (8,), "
    f"{4 * (64 + 8)} numbers, got {len(params)} tensors with {sum(p.size for p in params)}."
)
rng = np.random.default_rng(0)
first = Linear(8, 8, rng=rng)
assert np.array_equal(mha.q_proj.weight.data, first.weight.data), (
    "MultiHeadAttention(8, 2, rng=0).q_proj should be the first Linear(8, 8, rng=g) drawn "
    "from g = np.random.default_rng(0): make one generator and pass it to all four."
)

x64 = np.random.default_rng(5).standard_normal((2, 5, 8))
out = mha(Tensor(x64))
assert isinstance(out, Tensor) and out.shape == (2, 5, 8), (
    f"MultiHeadAttention(8, 2) of x (2, 5, 8) should be a Tensor (2, 5, 8), got "
    f"{getattr(out, 'shape', type(out).__name__)}."
)

one = MultiHeadAttention(4, 1, rng=1)
x = leaf(np.random.default_rng(6).standard_normal((1, 3, 4)))
keep = causal_mask(3)
out = one(x, keep)
w = [one.q_proj.weight, one.q_proj.bias, one.k_proj.weight, one.k_proj.bias]
w += [one.v_proj.weight, one.v_proj.bias, one.out_proj.weight, one.out_proj.bias]


def _one_head(x, wq, bq, wk, bk, wv, bv, wo, bo):
    """With one head, multi-head attention is attention of the three projections."""
    heads = attention_reference(x @ wq + bq, x @ wk + bk, x @ wv + bv, keep)[0]
    return heads @ wo + bo


expected = _one_head(x.data, *[p.data for p in w])
assert_tensor(out, expected, "MultiHeadAttention(4, 1)(x, causal_mask(3)): one head")
upstream = np.random.default_rng(7).standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(_one_head, [x.data] + [p.data for p in w], upstream)
labels = ["x"] + [f"{n}.{p}" for n in names for p in ("weight", "bias")]
for t, g, label in zip([x] + w, numeric, labels, strict=True):
    assert_grad(t, g, f"MultiHeadAttention(4, 1): {label}.grad vs central differences")

x64 = np.random.default_rng(8).standard_normal((1, 6, 8))
before = mha(Tensor(x64), causal_mask(6)).data
changed = x64.copy()
changed[:, 3:] += 1.0
after = mha(Tensor(changed), causal_mask(6)).data
assert np.allclose(before[:, :3], after[:, :3], atol=1e-6), (
    "With mask=causal_mask(6), changing x at positions 3 to 5 changed the output at positions "
    "0 to 2: the mask must reach the attention of every head."
)


### BEGIN HIDDEN TESTS
# hidden: the output matches a float64 multi-head reference computed from the layer's weights
def _h_mha(x, wq, bq, wk, bk, wv, bv, wo, bo, h, keep=None):
    """Float64 reference: projections, split (reshape + transpose), attention, merge, output."""
    b, t, d = x.shape

    def split(a):
        return a.reshape(b, t, h, d // h).transpose(0, 2, 1, 3)

    q, k, v = split(x @ wq + bq), split(x @ wk + bk), split(x @ wv + bv)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // h)
    allowed = np.ones(s.shape, bool) if keep is None else np.broadcast_to(keep, s.shape)
    with np.errstate(all="ignore"):
        top = np.where(allowed, s, -np.inf).max(axis=-1, keepdims=True)
        top = np.where(allowed.any(axis=-1, keepdims=True), top, 0.0)
        e = np.where(allowed, np.exp(np.where(allowed, s - top, 0.0)), 0.0)
        total = e.sum(axis=-1, keepdims=True)
        w = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    return (w @ v).transpose(0, 2, 1, 3).reshape(b, t, d) @ wo + bo


def _h_params(layer):
    return [
        p
        for lin in (layer.q_proj, layer.k_proj, layer.v_proj, layer.out_proj)
        for p in (lin.weight, lin.bias)
    ]


def _h_out(out, expected, atol=1e-5):
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and bool(check_close(data, expected, rtol=1e-5, atol=atol))
    )


rng = np.random.default_rng(1204)
for d, h, b, t, masked in (
    (8, 2, 2, 5, False),
    (12, 3, 3, 4, True),
    (8, 4, 1, 7, True),
    (6, 6, 2, 3, False),
):
    layer = MultiHeadAttention(d, h, rng=int(rng.integers(1000)))
    x64 = rng.standard_normal((b, t, d))
    keep = causal_mask(t) if masked else None
    expected = _h_mha(x64, *[p.data for p in _h_params(layer)], h, keep)
    assert _h_out(layer(Tensor(x64), keep), expected), "matches the float64 multi-head reference"
    assert _h_out(layer.forward(Tensor(x64), keep), expected), "forward matches calling the layer"
# hidden: inside each head the scores are scaled by the head dimension, not the model width
layer = MultiHeadAttention(16, 4, rng=3)
for p in _h_params(layer):
    p.data = p.data * 3.0
x64 = rng.standard_normal((2, 5, 16))
expected = _h_mha(x64, *[p.data for p in _h_params(layer)], 4)
assert _h_out(layer(Tensor(x64)), expected, atol=1e-4), "scores scaled by sqrt(d_head)"
# hidden: with a causal mask no output depends on a later input
layer = MultiHeadAttention(8, 2, rng=11)
x64 = rng.standard_normal((2, 7, 8))
base = layer(Tensor(x64), causal_mask(7)).data
for t in range(6):
    changed = x64.copy()
    changed[:, t + 1 :] = rng.standard_normal((2, 6 - t, 8)) * 5.0
    after = layer(Tensor(changed), causal_mask(7)).data
    assert check_close(after[:, : t + 1], base[:, : t + 1], atol=1e-6), "no leak from the future"
    assert not check_close(after[:, t + 1 :], base[:, t + 1 :], atol=1e-3), (
        "later outputs do change"
    )
# hidden: a padding mask (B, 1, 1, T) blocks the padded keys for every head and query
keep = np.ones((2, 1, 1, 7), dtype=bool)
keep[0, ..., 5:] = False
expected = _h_mha(x64, *[p.data for p in _h_params(layer)], 2, keep)
assert _h_out(layer(Tensor(x64), keep), expected), "a padding mask broadcasts over heads"
# hidden: gradients of x and of all four projections match central differences
for d, h, keep in ((4, 2, causal_mask(3)), (6, 3, None)):
    layer = MultiHeadAttention(d, h, rng=21 + d)
    x = Tensor(np.random.default_rng(1230 + d).standard_normal((2, 3, d)), requires_grad=True)
    params = _h_params(layer)
    out = layer(x, keep)
    assert out.requires_grad is True, "the output records the graph"
    up = np.random.default_rng(1240 + d).standard_normal(out.shape)
    out.backward(up)
    numeric = numerical_gradients(
        lambda *a, hh=h, kk=keep: _h_mha(*a, hh, kk), [x.data] + [p.data for p in params], up
    )
    for t, g in zip([x] + params, numeric, strict=True):
        assert isinstance(t.grad, np.ndarray) and t.grad.shape == t.shape, (
            "every parameter gets a gradient"
        )
        assert check_close(t.grad, g, rtol=1e-4, atol=1e-5), (
            "projection gradients match central differences"
        )
# hidden: the four projections come from one generator, in the order q, k, v, out
for seed, d, h, bias in ((0, 8, 2, True), (5, 6, 3, False), (9, 4, 1, True)):
    layer = MultiHeadAttention(d, h, bias=bias, rng=seed)
    g = np.random.default_rng(seed)
    for lin in (layer.q_proj, layer.k_proj, layer.v_proj, layer.out_proj):
        ref = Linear(d, d, bias=bias, rng=g)
        assert isinstance(lin, Linear), "each projection is a Linear"
        assert check_equal(lin.weight.data, ref.weight.data), (
            "projections drawn in order from one generator"
        )
        assert (lin.bias is None) == (not bias), "bias=False gives projections without bias"
    assert len(layer.parameters()) == (8 if bias else 4), "parameters() lists weights (and biases)"
layer = MultiHeadAttention(6, 2, rng=np.random.default_rng(4))
assert check_equal(
    layer.q_proj.weight.data, Linear(6, 6, rng=np.random.default_rng(4)).weight.data
), "a Generator works as rng"
# hidden: sizes are stored as ints and the parameters are listed q, k, v, out
layer = MultiHeadAttention(12, 4, rng=2)
assert type(layer.d_head) is int and layer.d_head == 3, "d_head is the int d_model // num_heads"
assert type(layer.d_model) is int and layer.d_model == 12 and layer.num_heads == 4, (
    "sizes are stored"
)
order = [layer.q_proj.weight, layer.q_proj.bias, layer.k_proj.weight, layer.k_proj.bias]
order += [layer.v_proj.weight, layer.v_proj.bias, layer.out_proj.weight, layer.out_proj.bias]
assert all(a is b for a, b in zip(layer.parameters(), order, strict=True)), (
    "parameter order q, k, v, out"
)
single = MultiHeadAttention(1, 1, rng=0)
assert single(Tensor(np.ones((1, 2, 1)))).shape == (1, 2, 1), "a width of 1 with one head works"
# hidden: invalid head counts and inputs raise ValueError
for args in ((8, 3), (8, 0), (6, 4)):
    assert isinstance(raised(lambda a=args: MultiHeadAttention(*a)), ValueError), (
        "num_heads must divide d_model"
    )
layer = MultiHeadAttention(8, 2, rng=0)
for shape in ((2, 5, 6), (5, 8)):
    assert isinstance(raised(lambda s=shape: layer(Tensor(np.ones(s)))), ValueError), (
        "x must be (B, T, d_model)"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Everything together: a model that learns to look something up
#
# The last test trains a `MultiHeadAttention` layer made entirely of your code (no
# reference functions swapped in) on a task that only attention can solve. Each sequence
# has 6 positions of 8 features: 4 random **content** numbers, a **flag** that is 1 at
# exactly one position and 0 elsewhere, and 3 zeros. The target, at **every** position, is
# the content of the flagged position (then 4 zeros).
#
# ```
#   position      0        1        2        3        4        5
#   content     c_0      c_1      c_2      c_3      c_4      c_5
#   flag         0        0        1        0        0        0
#   target      c_2      c_2      c_2      c_2      c_2      c_2      (for every position)
# ```
#
# A layer that sees one position at a time cannot know $c_2$ at position 0; without the
# flag, the best it could do is output the average content, which leaves a mean squared
# error of about 0.4. Attention can solve the task exactly: every query asks "where is the
# flag?", the key of the flagged position answers loudly, and its value carries the content.
# Plain gradient descent (`p.data -= lr * p.grad`) finds that in about a hundred steps.


# %% kind="test" id="test_attention_training" points=2
def lookup_batch(rng, batch: int, length: int):
    """x (batch, length, 8): 4 content features, a flag at one position, 3 zeros; target
    (batch, length, 8): the flagged position's content at every position, then 4 zeros."""
    content = rng.standard_normal((batch, length, 4))
    where = rng.integers(0, length, size=batch)
    flag = np.zeros((batch, length, 1))
    flag[np.arange(batch), where, 0] = 1.0
    x = np.concatenate([content, flag, np.zeros((batch, length, 3))], axis=-1)
    found = np.repeat(content[np.arange(batch), where][:, None, :], length, axis=1)
    target = np.concatenate([found, np.zeros((batch, length, 4))], axis=-1)
    return x, target


def train_lookup(model, x, target, steps: int, lr: float) -> list[float]:
    """Full-batch gradient descent on the mean squared error; the loss of every step."""
    history = []
    for _ in range(steps):
        diff = model(Tensor(x)) - Tensor(target)
        loss = (diff * diff).mean()
        for p in model.parameters():
            p.grad = None
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append(loss.item())
    return history


x64, target = lookup_batch(np.random.default_rng(7), 32, 6)
model = MultiHeadAttention(8, 2, rng=0)
history = train_lookup(model, x64, target, steps=150, lr=1.0)
assert history[0] > 0.3 and history[-1] < 0.05, (
    f"Training MultiHeadAttention(8, 2) on the lookup task for 150 steps took the loss from "
    f"{history[0]:.3f} to {history[-1]:.3f}; it should fall below 0.05. If every task's "
    "test passes, look at how the tasks fit together in forward."
)
val_x, val_target = lookup_batch(np.random.default_rng(8), 64, 6)
diff = model(Tensor(val_x)).data - val_target
assert np.mean(diff**2) < 0.05, (
    f"The trained model's error on new sequences is {np.mean(diff**2):.3f}; it should be "
    "below 0.05, like its training loss."
)

### BEGIN HIDDEN TESTS
# hidden: a model from another start learns the lookup on other data, and generalises
x64, target = lookup_batch(np.random.default_rng(1205), 32, 6)
model = MultiHeadAttention(8, 2, rng=1)
history = train_lookup(model, x64, target, steps=150, lr=1.0)
assert history[-1] < 0.05, "the model learns the lookup"
val_x, val_target = lookup_batch(np.random.default_rng(1206), 64, 6)
assert float(np.mean((model(Tensor(val_x)).data - val_target) ** 2)) < 0.05, (
    "the trained model generalises"
)
# hidden: after training, a causal mask still keeps every output from reading later inputs
keep = causal_mask(6)
base = model(Tensor(val_x), keep).data
changed = val_x.copy()
changed[:, 4:] = 0.0
assert check_close(model(Tensor(changed), keep).data[:, :4], base[:, :4], atol=1e-6), (
    "no leak after training"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: attention costs $T^2$
#
# Nothing below is graded. These cells measure what you just built; run them and compare
# the numbers with your predictions before reading the comments. Together they take a few
# seconds.
#
# ### What the trained model looks at
#
# First a look inside the model the last test trained: the attention weights of each head
# for one sequence. The flag is at position 2 (marked `*`). Predict which column lights up.

# %%
x64, target = lookup_batch(np.random.default_rng(7), 32, 6)
model = MultiHeadAttention(8, 2, rng=0)
train_lookup(model, x64, target, steps=150, lr=1.0)
sample, _ = lookup_batch(np.random.default_rng(99), 1, 6)
sample[0, :, 4] = 0.0
sample[0, 2, 4] = 1.0  # the flag at position 2
x = Tensor(sample)
q = split_heads(model.q_proj(x), model.num_heads)
k = split_heads(model.k_proj(x), model.num_heads)
v = split_heads(model.v_proj(x), model.num_heads)
_, weights = scaled_dot_product_attention(q, k, v)
for head in range(model.num_heads):
    print(f"head {head}: weights of each query (rows) over the keys (columns)")
    print("          " + "".join(f"{j}{'*' if j == 2 else ' '}    " for j in range(6)))
    for i, row in enumerate(weights.data[0, head]):
        print(f"  query {i} " + " ".join(f"{w:5.2f}" for w in row))

# %% [markdown]
# Every query of head 0 puts about 0.9 of its weight on the flagged key, wherever the query
# sits, and head 1 leans the same way, more softly: the model learned to give the flagged
# position a key that matches a query all positions share. Attention weights are the most
# inspectable part of a transformer for exactly this reason (though in large models they
# are much harder to read than here).
#
# ### Memory: the weights are $B \times H \times T^2$ numbers
#
# The scores and the weights hold one number per (query, key) pair, for every sequence of
# the batch and every head: $B H T^2$ float32 numbers, $4 B H T^2$ bytes, **per layer**.
# Everything else in the layer grows with $T$ (the activations, $B T D$) or not at all (the
# parameters, $4(D^2 + D)$). Predict the last rows before running the cell.


# %%
def weights_bytes(batch: int, heads: int, length: int, itemsize: int = 4) -> int:
    """Bytes of one layer's attention weights: B * H * T^2 numbers."""
    return batch * heads * length * length * itemsize


def human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:,.1f} {unit}"
        nbytes /= 1024
    return ""


models = [  # name, batch, heads, context length T, layers, width D
    ("GPT-2 small", 1, 12, 1024, 12, 768),
    ("GPT-2 small, batch 8", 8, 12, 1024, 12, 768),
    ("Llama-2 7B, 4k context", 1, 32, 4096, 32, 4096),
    ("32k context", 1, 32, 32768, 32, 4096),
    ("128k context", 1, 32, 131072, 32, 4096),
]
print(
    f"{'model':>24} {'B':>3} {'H':>3} {'T':>7} {'weights, 1 layer':>17} {'all layers':>12} "
    f"{'activations B*T*D':>18}"
)
for name, batch, heads, length, layers, width in models:
    one = weights_bytes(batch, heads, length)
    print(
        f"{name:>24} {batch:>3} {heads:>3} {length:>7,} {human(one):>17} "
        f"{human(one * layers):>12} {human(4 * batch * length * width):>18}"
    )

# %% [markdown]
# GPT-2 small needs 48 MiB of weights per layer for one sequence, 16 times its 3 MiB of
# activations of width 768; at 128k tokens one layer's weights would be 2 TiB. Training
# keeps them for the backward pass (the softmax's backward needs them), so they add up over
# all layers. That is why long-context models never materialise the $T \times T$ matrix:
# **FlashAttention** computes the softmax tile by tile (keeping a running maximum and sum
# for each row, the same stable-softmax trick you wrote, applied incrementally) and
# recomputes the tiles during backward, so memory grows like $T$, not $T^2$. The FLOPs
# stay $4 B H T^2 d_{head}$ either way.
#
# The formula counts one array. Your code makes several of that size: the scores, the
# masked scores, the exponentials, the weights. The cell below measures the peak memory of
# one forward pass of your `scaled_dot_product_attention` with Python's `tracemalloc`
# (NumPy reports its allocations to it), under `no_grad()` so that no graph is kept, and
# divides it by the formula.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs them)
import tracemalloc  # noqa: E402

from tinytorch.core.autograd import no_grad  # noqa: E402

rng = np.random.default_rng(0)
print(
    f"{'T':>6} {'weights (formula)':>18} {'weights.data.nbytes':>20} {'peak traced':>12} {'peak / formula':>15}"
)
for length in (128, 256, 512, 1024):
    q, k, v = (Tensor(rng.standard_normal((1, 4, length, 32))) for _ in range(3))
    keep = causal_mask(length)
    with no_grad():
        tracemalloc.start()
        out, weights = scaled_dot_product_attention(q, k, v, keep)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    formula = weights_bytes(1, 4, length)
    print(
        f"{length:>6} {human(formula):>18} {human(weights.data.nbytes):>20} {human(peak):>12} "
        f"{peak / formula:>14.1f}x"
    )
    del out, weights

# %% [markdown]
# The weights tensor is exactly the formula, and the peak is a few times larger, growing
# just as fast: doubling $T$ multiplies every column by 4. The factor is the number of
# $T \times T$ arrays alive at the same moment (the scores, the masked scores, the
# exponentials, the weights); fused kernels keep it at 1 or below.
#
# ### Time: measured against $T$
#
# The two matrix products cost $2 T^2 d_{head}$ multiply-adds each per head, and the
# softmax touches $T^2$ numbers a few times: the time should grow like $T^2$ once $T$ is
# large enough for the work to dominate Python's fixed cost per operation. The cell times
# one forward pass (batch 1, 4 heads of 32, causal mask) for $T$ from 32 to 2048, takes the
# fastest of several runs (noise on a shared machine only ever adds time), and plots time
# against $T$ on log-log axes, where $t \propto T^p$ is a straight line of slope $p$.
#
# A warning about threads: NumPy's matrix product may split its work over several threads,
# and on a machine whose cores are busy those threads wait for each other. If a row looks
# absurd (slower than a longer sequence), restart the kernel with the environment variable
# `OPENBLAS_NUM_THREADS=1`, as the course's benchmarks do.


# %%
def fastest(fn, repeats: int) -> float:
    """The fastest of `repeats` runs of fn(), after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


lengths = [32, 64, 128, 256, 512, 1024, 2048]
seconds = []
for length in lengths:
    q, k, v = (Tensor(rng.standard_normal((1, 4, length, 32))) for _ in range(3))
    keep = causal_mask(length)
    with no_grad():
        attend = lambda q=q, k=k, v=v, keep=keep: scaled_dot_product_attention(q, k, v, keep)  # noqa: E731
        seconds.append(fastest(attend, 5 if length < 2048 else 3))
seconds = np.array(seconds)
print(f"{'T':>6} {'ms':>10} {'x previous':>11} {'local exponent':>15}")
for i, (length, s) in enumerate(zip(lengths, seconds, strict=True)):
    ratio = s / seconds[i - 1] if i else float("nan")
    local = np.log2(ratio) if i else float("nan")
    print(f"{length:>6} {s * 1e3:>10.3f} {ratio:>11.2f} {local:>15.2f}")
large = np.array(lengths) >= 512
exponent = np.polyfit(np.log(np.array(lengths)[large]), np.log(seconds[large]), 1)[0]
print(f"\nobserved growth exponent for T >= 512: time ~ T^{exponent:.2f}")

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(lengths, seconds * 1e3, "o-", label="your attention (measured)")
anchor = seconds[-1] * 1e3
for power, style in ((1, ":"), (2, "--")):
    guide = anchor * (np.array(lengths) / lengths[-1]) ** power
    ax.loglog(lengths, guide, style, color="grey", label=f"slope {power} (T^{power})")
ax.set_xlabel("sequence length T")
ax.set_ylabel("forward time (ms)")
ax.set_title(f"Attention time vs T: observed exponent {exponent:.2f} for T >= 512")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# For short sequences the curve is nearly flat: a forward pass is a dozen NumPy calls, each
# costing microseconds whatever its size, so the local exponent starts below 1. Between 256
# and 512 positions it jumps above 2: there the $T \times T$ arrays (4 MiB each at
# $T = 512$ with four heads) outgrow the processor's caches, every pass over them goes to
# main memory, and the operating system maps fresh pages for each new array (Module 02's
# systems section met the same effect). From there on the points follow the slope-2 guide:
# doubling the context costs about four times the time, and four times the memory, per
# layer. On the course's shared 2-core machine (one BLAS thread) the fitted exponent for
# $T \ge 512$ came out between 2.0 and 2.6 over six runs, and the local exponents were
# noisier (1.4 to 3.8), because other programs share the machine: measure more than once
# before you trust one number.
#
# Module 14 removes a different waste. Generating token by token without a cache recomputes
# the keys and values of the whole prefix, and its attention, at every step: $O(t^2)$ work
# for token $t$. A cache keeps the earlier keys and values, so step $t$ computes one query
# against $t$ keys, $O(t)$. Attention over a whole sequence stays quadratic either way.
#
# ## Summary
#
# - Attention is a soft lookup: $\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V$, with weights
#   `(..., T_q, T_k)` whose rows sum to 1, and an output `(..., T_q, d_v)`; the leading axes
#   (batch, heads) ride along in the matrix products.
# - Dividing by $\sqrt{d_k}$, the width of the compared vectors, keeps the scores at unit
#   variance; without it the softmax saturates and stops learning.
# - One mask convention: a boolean keep-mask, `True` = may attend, broadcastable to
#   `(..., T_q, T_k)`; blocked scores are **replaced** by $-\infty$, never added to; a query
#   with nothing to attend to gets zeros, not `nan`.
# - The causal mask keeps key $j$ for query $i$ when $j \le i + (T_k - T_q)$: the lower
#   triangle, shifted when the queries are the last of a longer sequence (a cache).
# - Heads are split with reshape **and** transpose, `(B, T, D)` to `(B, H, T, D/H)`; a reshape
#   alone gives the right shape and the wrong data.
# - `MultiHeadAttention` has $4(D^2 + D)$ parameters, whatever the number of heads; its
#   weights cost $4 B H T^2$ bytes per layer and its time grows like $T^2$.
#
# **Reflection.**
#
# 1. Attention without a mask is **permutation-equivariant**: shuffle the positions of the
#    input and the output is shuffled the same way. Why? What does that mean for a language
#    model, and what does Module 11's positional encoding change?
# 2. In the lookup task the content of the flagged position travels to every position in one
#    layer. How many layers would a stack of 3-wide convolutions need to move information
#    across 1,000 positions, and how many would attention need?
# 3. Suppose your softmax added $-10^9$ to blocked scores instead of replacing them. Which
#    test in this notebook would notice, and which would not? What if it added $-10^4$?
# 4. With a key-value cache, a model generating token 1,001 computes one query against 1,001
#    keys. What are $T_q$, $T_k$ and the mask, and how do the time and memory of that step
#    grow with the position?
