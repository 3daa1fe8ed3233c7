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
# # Module 11: Embeddings
#
# Module 10 turned text into token ids: `"To be"` became a list such as `[84, 111, 256]`.
# An id is a name, not a quantity: token 257 is not "one more" than token 256, and feeding
# ids into a `Linear` layer as numbers would tell the network exactly that. A model needs a
# **vector** per token instead, a point in a space of `embedding_dim` dimensions that
# training can move, so that tokens used alike end up close together. The **embedding**
# is a table with one learned row per token, and looking a token up means reading its row.
#
# That lookup is the first layer of every language model in the course, and it is
# different from every layer so far in one way: its input is integers, and its backward
# pass is a **scatter-add**. When a batch holds the same token ten times, the gradients of
# all ten rows of the output flow into the *same* row of the table and must be summed. One
# line of NumPy gets this right and a similar-looking line silently drops nine of the ten.
#
# Then **positions**. Attention, which Module 12 builds, looks at a set of vectors and
# does not know in which order they came: "dog bites man" and "man bites dog" would look the
# same. So each vector also gets the embedding of its **position**: either a second learned
# table, indexed by position (GPT-2's choice), or the fixed sine and cosine waves of the
# original Transformer paper (Vaswani et al., 2017), which need no training at all. The last
# task combines both lookups into the input layer of the GPT of Module 13.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - explain why token ids become **vectors** through a lookup table, and show that the
#   lookup equals a one-hot vector times the table, without its cost;
# - **check token ids** before using them: whole numbers, and inside the table (NumPy would
#   quietly read the *last* row for id -1);
# - write the lookup as a `Function`: a **gather** forward and a **scatter-add** backward
#   with `np.add.at`, and explain why `grad[ids] += g` is wrong when ids repeat;
# - build the `Embedding` layer, a **learned positional** table added along the sequence
#   axis, and the **sinusoidal** table of the Transformer paper, exactly;
# - combine token and position embeddings into one layer, and check every gradient against
#   central differences;
# - count the **memory** of an embedding table for real vocabularies and measure how fast a
#   lookup moves data.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in six places, one per task. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtypes, errors, and hints. Code outside those spots
#   is given.
# - Each task's test cell, `test_<task id>`, comes after its code. The asserts you can read
#   there are the **visible tests**: run them as often as you like, and read their messages
#   when they fail. Gradients are compared with central differences in float64
#   (`numerical_gradients`) for a random upstream gradient, never for `.sum()`, so that a
#   gradient added to the wrong row cannot hide.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other table sizes, batches of several sequences, ids that
#   repeat many times, odd embedding sizes, the first and the last valid id, and invalid
#   ones). A failing hidden check tells you which behaviour it was about.
# - Tasks are graded on their own: while a task's tests run, the other tasks' code is the
#   course's reference solution, so a bug in `as_indices` costs the points of
#   `as_indices` only. `Tensor`, `Layer` and autograd come from your Modules 01, 03 and 05
#   (`tinytorch.core`); when your work is graded they come from the reference solution.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure (a NumPy `RuntimeWarning` included).
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `indices` | `as_indices`: token ids checked (whole numbers, inside the table) as int64 | 3 |
# | `embedding_function` | `EmbeddingFunction`: gather forward, scatter-add backward | 5 |
# | `embedding` | the `Embedding` layer: its table, and the lookup through the Function | 3 |
# | `positional` | learned `PositionalEncoding`: one row per position, added to the input | 3 |
# | `sinusoidal` | `sinusoidal_encoding`: the fixed sine/cosine table of the Transformer | 3 |
# | `token_and_position` | `TokenAndPositionEmbedding`: both lookups in one layer | 3 |
# | | **total** | **20** |

# %% kind="locked" id="setup" export=true
"""tinytorch.text.embeddings: token ids to vectors, and positions to vectors.

`as_indices` checks token ids (whole numbers in [0, V)). `EmbeddingFunction` is the table
lookup as a Function: forward gathers rows, backward scatter-adds the gradient into a
zero table (repeated ids add up). Layers: `Embedding` (a learned table of V rows),
`PositionalEncoding` (a learned table of positions, added along the sequence axis) and
`TokenAndPositionEmbedding` (both, with learned or sinusoidal positions); the fixed table
of Vaswani et al. (2017) comes from `sinusoidal_encoding`.
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 11.
"""

import math

import numpy as np

from tinytorch.core.autograd import Context, Function
from tinytorch.core.layers import Layer
from tinytorch.core.tensor import Tensor

__all__ = [
    "as_indices",
    "EmbeddingFunction",
    "Embedding",
    "PositionalEncoding",
    "sinusoidal_encoding",
    "TokenAndPositionEmbedding",
]

# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` of the expected shape
# and values, `assert_array` the same for a NumPy array, `assert_grad` a gradient after
# `backward`, `numerical_gradients` computes central differences in float64, and `raised`
# returns the exception a call raised. The last part is this module's own: `leaf` makes a
# Tensor that wants gradients.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = (
    "A lookup gives ids.shape + (embedding_dim,); a positional table adds a tensor of the "
    "input's shape."
)


def leaf(values) -> Tensor:
    """A Tensor with requires_grad=True holding `values` (float32)."""
    return Tensor(as_float64(values), requires_grad=True)


# %% [markdown]
# ## Ids must be checked before they are used
#
# An embedding table has `num_embeddings` rows (the vocabulary size $V$), numbered 0 to
# $V - 1$. Token ids arrive in several forms: a list from a tokenizer, a NumPy integer
# array from a data loader, or a `Tensor`, whose `.data` is float32 like every Tensor of
# the course (float32 holds every whole number up to $2^{24}$, about 16.7 million, exactly:
# plenty for a vocabulary). Before indexing, they must become an integer array, and two
# things must be checked:
#
# - **Whole numbers.** `2.5` is not a token, and neither is `True` or `"7"`: raise
#   `TypeError`.
# - **Inside the table.** An id of $V$ or more is a bug (often a tokenizer and a model that
#   disagree on $V$): raise `IndexError`, naming the id and the valid range. A **negative**
#   id is the dangerous one: NumPy reads `table[-1]` as the *last* row without complaint,
#   so a bug that produces -1 (a padding value, say) would train the last token's row in
#   silence. PyTorch refuses negative ids too.
#
# ```
#   as_indices([3, 0, 4], 5)              -> array([3, 0, 4])        int64
#   as_indices(Tensor([[1., 2.]]), 5)     -> array([[1, 2]])         float32 holding whole numbers
#   as_indices([1, 5], 5)                 -> IndexError: id 5 is outside 0 .. 4
#   as_indices([-1], 5)                   -> IndexError: negative ids are not allowed
#   as_indices([0.5], 5)                  -> TypeError
# ```
#
# Check the dtype's **kind** (`values.dtype.kind` is `"i"` for signed integers, `"u"` for
# unsigned, `"f"` for floats, `"b"` for booleans) before comparing values, and compare the
# values with the bounds before converting them to int64: converting `inf` or `1e30` would
# give garbage (and a warning).


# %% kind="solution" id="indices" export=true
def as_indices(indices, num_embeddings: int) -> np.ndarray:
    """Token ids as a new int64 array, checked against a table of num_embeddings rows.

    Args:
        indices: the ids: a Tensor (its float32 .data holds whole numbers), a NumPy array
            of integers or whole floats, a (nested) list, or one int.
        num_embeddings: the number of rows of the table, V.

    Returns:
        a new int64 array of the ids' shape (0-d for one int), every id in 0 .. V - 1.

    Raises:
        TypeError: when the ids are not whole numbers: a dtype that is not an integer or a
            float (booleans and strings included), or a float that is not whole (1.5, NaN).
        IndexError: when an id is negative or at least V, naming the first such id and the
            valid range 0 .. V - 1.

    Hint: np.asarray(...) of the ids (of indices.data for a Tensor); values.dtype.kind;
    values != np.floor(values) finds the ids that are not whole.
    """
    # Task indices: to an array, check the kind and wholeness, check the range, then int64.
    ### BEGIN SOLUTION
    values = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if values.dtype.kind not in "iuf" or np.any(values != np.floor(values)):
        raise TypeError(
            f"token ids must be whole numbers, got dtype {values.dtype} with values "
            f"{np.ravel(values)[:8]}"
        )
    bad = values[(values < 0) | (values >= num_embeddings)]
    if bad.size > 0:
        raise IndexError(
            f"token id {bad[0]} is outside the table's rows 0 .. {num_embeddings - 1} "
            "(negative ids are not allowed: NumPy would quietly read a row from the end)"
        )
    return values.astype(np.int64)
    ### END SOLUTION


# %% [markdown]
# ### Test `indices`

# %% kind="test" id="test_indices" points=3
out = as_indices([3, 0, 4], 5)
assert isinstance(out, np.ndarray) and out.dtype == np.int64, (
    f"as_indices([3, 0, 4], 5) should be an int64 array, got {type(out).__name__} of dtype "
    f"{getattr(out, 'dtype', None)}"
)
assert out.tolist() == [3, 0, 4], f"as_indices([3, 0, 4], 5): expected [3, 0, 4], got {out.tolist()}"
out = as_indices(Tensor([[1.0, 2.0], [4.0, 0.0]]), 5)
assert out.dtype == np.int64 and out.tolist() == [[1, 2], [4, 0]], (
    f"as_indices of a float32 Tensor of whole numbers: expected [[1, 2], [4, 0]] as int64, "
    f"got {out.tolist()} of dtype {out.dtype}"
)
out = as_indices(2, 5)
assert out.shape == () and out.dtype == np.int64 and int(out) == 2, "as_indices(2, 5): a 0-d int64 array"
err = raised(lambda: as_indices([1, 5], 5))
assert isinstance(err, IndexError), f"as_indices([1, 5], 5): 5 is outside 0 .. 4, expected IndexError, got {err!r}"
err = raised(lambda: as_indices([-1], 5))
assert isinstance(err, IndexError), (
    f"as_indices([-1], 5): negative ids must raise IndexError (NumPy would read the last row), "
    f"got {err!r}"
)
err = raised(lambda: as_indices([0.5], 5))
assert isinstance(err, TypeError), f"as_indices([0.5], 5): 0.5 is not a token id, expected TypeError, got {err!r}"
ids = np.array([4, 4, 1])
out = as_indices(ids, 5)
assert out is not ids and out.tolist() == [4, 4, 1], "as_indices should return a new array"

### BEGIN HIDDEN TESTS
# hidden: valid ids of any form become a new int64 array of the same shape and values
def _h_ok(got, expected):
    """An int64 ndarray equal to expected (same shape)."""
    return (
        type(got) is np.ndarray
        and got.dtype == np.int64
        and check_equal(got, np.asarray(expected, dtype=np.int64))
    )


_h_rng = np.random.default_rng(1101)
_h_ids = _h_rng.integers(0, 50, size=(3, 4, 5))
for _h_form in (_h_ids, _h_ids.astype(np.int32), _h_ids.astype(np.uint8), _h_ids.astype(np.float64), _h_ids.tolist()):
    assert _h_ok(as_indices(_h_form, 50), _h_ids), "ids of every integer or whole-float form"
assert _h_ok(as_indices(Tensor(_h_ids), 50), _h_ids), "ids in a Tensor"
assert _h_ok(as_indices(Tensor(_h_ids, requires_grad=True), 50), _h_ids), "ids in a leaf Tensor"
assert _h_ok(as_indices(np.array(7), 8), 7) and as_indices(7, 8).shape == (), "one id is 0-d"
assert _h_ok(as_indices(np.zeros((2, 0), dtype=np.int64), 3), np.zeros((2, 0))), "no ids"
_h_src = _h_ids.copy()
_h_out = as_indices(_h_src, 50)
_h_out[0, 0, 0] = 99
assert check_equal(_h_src, _h_ids), "the result is a new array, not the input"
# hidden: the first and the last row are valid ids
assert _h_ok(as_indices([0, 9, 0, 9], 10), [0, 9, 0, 9]), "ids 0 and V - 1 are valid"
assert _h_ok(as_indices([0], 1), [0]), "a table of one row"
# hidden: ids at or above the number of rows raise IndexError
for _h_bad in ([10], [3, 10, 2], [[0, 1], [1, 11]], 10, np.array([9, 1000])):
    assert isinstance(raised(lambda b=_h_bad: as_indices(b, 10)), IndexError), (
        "ids of V or more raise IndexError"
    )
assert isinstance(raised(lambda: as_indices(Tensor([2.0, 6.0]), 6)), IndexError), (
    "a Tensor id of V raises IndexError"
)
# hidden: negative ids raise IndexError instead of wrapping around
for _h_bad in ([-1], [0, -1, 2], [[3, 3], [-7, 0]], -1, np.array([-10**6])):
    assert isinstance(raised(lambda b=_h_bad: as_indices(b, 10)), IndexError), (
        "negative ids raise IndexError"
    )
assert isinstance(raised(lambda: as_indices(Tensor([-1.0]), 4)), IndexError), "negative Tensor ids"
# hidden: ids that are not whole numbers raise TypeError
for _h_bad in ([1.5], np.array([0.0, 2.25]), Tensor([1.0, 0.5]), [float("nan")], np.array([True, False]), np.array(["1", "2"])):
    assert isinstance(raised(lambda b=_h_bad: as_indices(b, 10)), TypeError), (
        "ids that are not whole numbers raise TypeError"
    )
# hidden: huge or infinite values raise instead of converting to garbage
assert isinstance(raised(lambda: as_indices([float("inf")], 10)), IndexError), "infinite id"
assert isinstance(raised(lambda: as_indices(np.array([1e30]), 10)), IndexError), "huge id"
### END HIDDEN TESTS

# %% [markdown]
# ## The lookup, forward and backward
#
# Write the table as a matrix $W$ of shape $(V, d)$: row $v$ is the vector of token $v$.
# For a batch of ids of any shape, say $(B, T)$, the lookup returns $W[\text{ids}]$ of shape
# $(B, T, d)$: `out[b, t] = W[ids[b, t]]`. NumPy's integer-array indexing, `W[ids]`, does
# exactly that (a **gather**), and makes a new array.
#
# It is worth seeing that this is a matrix product in disguise. With $e_v$ the **one-hot**
# row vector of length $V$ (a 1 in position $v$, zeros elsewhere), $e_v W = W[v]$. So the
# lookup of $n$ ids is $E W$, with $E$ the $(n, V)$ matrix of their one-hot rows. The
# product costs $2 n V d$ operations to compute what the gather gets by copying $n d$
# numbers; the systems analysis measures the difference. The matrix view gives the
# backward pass for free: for $Y = E W$ and an upstream gradient $G = \partial L / \partial
# Y$ of shape $(n, d)$,
#
# $$\frac{\partial L}{\partial W} = E^T G, \qquad \text{that is} \qquad
#   \frac{\partial L}{\partial W[v]} = \sum_{k \,:\, \text{ids}_k = v} G[k].$$
#
# Row $v$ of the gradient is the **sum** of the upstream rows of every position that looked
# up $v$, and rows of tokens that were not looked up get zero. This is a **scatter-add**:
#
# ```
#   ids       [2, 0, 2]                 G    [[1, 1], [5, 5], [3, 4]]     (n = 3, d = 2)
#   dW        row 0: G[1]          = [5, 5]
#             row 1: nothing       = [0, 0]
#             row 2: G[0] + G[2]   = [4, 5]         the id 2 occurs twice: add both
# ```
#
# **The trap.** `grad[ids] += G` looks like the same thing, and gives row 2 = `[3, 4]`:
# NumPy evaluates `grad[ids] + G` first and then *writes* each row, so for a repeated id the
# last write wins and the other contributions are lost. `np.add.at(grad, ids, G)` adds every
# row ("unbuffered"), however often an id repeats. In a real batch the most frequent
# tokens (spaces, "the", padding) repeat hundreds of times, so the wrong version trains them
# with a tiny fraction of their gradient, and nothing crashes.
#
# **What backward needs.** Only the ids and the table's *shape*; not the table itself.
# Saving the shape instead of a reference to $W$ is not just tidy: the gradient is a new
# zero array of that shape, in the dtype of the upstream gradient.
#
# The ids are not a differentiable input (there is no gradient with respect to an integer),
# so they reach the Function as a keyword argument: `EmbeddingFunction.apply(weight,
# indices=ids)`. `weight` is then the only positional input, and `backward` returns a
# one-element tuple `(dweight,)`.


# %% kind="solution" id="embedding_function" export=true
class EmbeddingFunction(Function):
    """Table lookup: forward gathers rows of weight, backward scatter-adds into them."""

    @staticmethod
    def forward(ctx: Context, weight: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """weight (V, d) and int64 indices of any shape (already checked) -> weight[indices],
        a new array of shape indices.shape + (d,) in weight's dtype.

        Saves what backward needs as attributes of ctx: the indices and weight's shape
        (ctx.indices, ctx.weight_shape), not weight itself.
        """
        # Task embedding_function: remember the ids and the table's shape; gather the rows.
        ### BEGIN SOLUTION
        ctx.indices, ctx.weight_shape = indices, weight.shape
        return weight[indices]
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(dweight,): zeros of weight's shape in grad_output's dtype, with grad_output's row
        for each id added to that id's row; repeated ids add up.

        Hint: np.add.at(grad, indices, grad_output); grad[indices] += grad_output keeps only
        one contribution per repeated id.
        """
        # Task embedding_function: a zero table of the right shape and dtype, then scatter-add.
        ### BEGIN SOLUTION
        grad = np.zeros(ctx.weight_shape, dtype=grad_output.dtype)
        np.add.at(grad, ctx.indices, grad_output)
        return (grad,)
        ### END SOLUTION


# %% [markdown]
# ### Test `embedding_function`

# %% kind="test" id="test_embedding_function" points=5
table = np.arange(12, dtype=np.float64).reshape(4, 3)  # row v is [3v, 3v + 1, 3v + 2]
ids = np.array([[2, 0], [2, 3]])
ctx = Context()
out = EmbeddingFunction.forward(ctx, table, ids)
assert_array(out, [[[6, 7, 8], [0, 1, 2]], [[6, 7, 8], [9, 10, 11]]], "EmbeddingFunction.forward: table[ids]")
assert out.dtype == np.float64, f"forward should keep weight's dtype (float64 here), got {out.dtype}"
upstream = np.array([[[1.0, 1.0, 1.0], [5.0, 5.0, 5.0]], [[3.0, 4.0, 5.0], [0.5, 0.5, 0.5]]])
grads = EmbeddingFunction.backward(ctx, upstream)
assert isinstance(grads, tuple) and len(grads) == 1, (
    "backward should return a one-element tuple (dweight,): weight is the only positional "
    f"input, got {type(grads).__name__} of length {len(grads) if isinstance(grads, tuple) else '-'}"
)
assert_array(grads[0], [[5, 5, 5], [0, 0, 0], [4, 5, 6], [0.5, 0.5, 0.5]], (
    "EmbeddingFunction.backward: row 2 is looked up twice, so it gets the sum [1, 1, 1] + "
    "[3, 4, 5]: use np.add.at, not grad[ids] += g"
))

rng = np.random.default_rng(11)
table = rng.standard_normal((6, 4))
ids = np.array([1, 4, 1, 1, 0])
weight = leaf(table)
out = EmbeddingFunction.apply(weight, indices=ids)
assert_tensor(out, table[ids], "EmbeddingFunction.apply(weight, indices=ids)")
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(lambda w: w[ids], [table], upstream)
assert_grad(weight, numeric[0], "weight.grad after EmbeddingFunction.apply(...).backward(g)")

### BEGIN HIDDEN TESTS
# hidden: forward gathers the rows of any shape of ids, in the table's dtype
_h_rng = np.random.default_rng(1102)
for _h_shape, _h_v, _h_d in (((7,), 5, 3), ((2, 6), 9, 4), ((2, 3, 4), 4, 2), ((), 3, 5)):
    _h_table = _h_rng.standard_normal((_h_v, _h_d))
    _h_ids = _h_rng.integers(0, _h_v, size=_h_shape)
    _h_ctx = Context()
    _h_out = EmbeddingFunction.forward(_h_ctx, _h_table, _h_ids)
    assert type(_h_out) is np.ndarray and _h_out.dtype == np.float64, "forward keeps float64"
    assert check_equal(_h_out, _h_table[_h_ids]), "forward is table[ids] for every shape"
    _h_out32 = EmbeddingFunction.forward(Context(), _h_table.astype(np.float32), _h_ids)
    assert _h_out32.dtype == np.float32, "forward keeps float32"
# hidden: the output is a new array, not a view of the table
_h_table = _h_rng.standard_normal((5, 3))
_h_out = EmbeddingFunction.forward(Context(), _h_table, np.array([0, 1, 2]))
_h_out[...] = 0.0
assert check_close(_h_table, _h_table) and not check_equal(_h_table[:3], np.zeros((3, 3))), (
    "changing the output leaves the table unchanged"
)
# hidden: backward scatter-adds, repeated ids accumulating, untouched rows zero
for _h_shape, _h_v, _h_d in (((9,), 4, 3), ((3, 5), 6, 2), ((2, 2, 3), 3, 4)):
    _h_ids = _h_rng.integers(0, _h_v, size=_h_shape)
    _h_ctx = Context()
    EmbeddingFunction.forward(_h_ctx, _h_rng.standard_normal((_h_v, _h_d)), _h_ids)
    _h_g = _h_rng.standard_normal((*_h_shape, _h_d))
    _h_before = _h_g.copy()
    _h_grads = EmbeddingFunction.backward(_h_ctx, _h_g)
    _h_expected = np.zeros((_h_v, _h_d))
    for _h_index in np.ndindex(_h_shape):
        _h_expected[_h_ids[_h_index]] += _h_g[_h_index]
    assert isinstance(_h_grads, tuple) and len(_h_grads) == 1, "one gradient, for weight"
    assert type(_h_grads[0]) is np.ndarray and _h_grads[0].dtype == np.float64, "float64 grad"
    assert check_close(_h_grads[0], _h_expected, rtol=1e-12, atol=1e-12), "scatter-add sums"
    assert check_equal(_h_g, _h_before), "backward leaves grad_output unchanged"
# hidden: an id repeated many times gets the sum of all its rows
_h_ctx = Context()
EmbeddingFunction.forward(_h_ctx, np.zeros((3, 2)), np.full(100, 2))
_h_g = np.tile([[1.0, 0.5]], (100, 1))
assert check_close(EmbeddingFunction.backward(_h_ctx, _h_g)[0], [[0, 0], [0, 0], [100, 50]]), (
    "a hundred repeats add a hundred rows"
)
# hidden: the gradient takes grad_output's dtype and weight's shape
_h_ctx = Context()
EmbeddingFunction.forward(_h_ctx, np.zeros((5, 3), dtype=np.float32), np.array([4, 0]))
_h_grad = EmbeddingFunction.backward(_h_ctx, np.ones((2, 3), dtype=np.float32))[0]
assert _h_grad.dtype == np.float32 and _h_grad.shape == (5, 3), "float32 grad of weight's shape"
_h_grad = EmbeddingFunction.backward(_h_ctx, np.ones((2, 3), dtype=np.float64))[0]
assert _h_grad.dtype == np.float64, "the grad's dtype is grad_output's"
# hidden: through autograd, weight.grad matches central differences for a random upstream
for _h_seed in (1103, 1104):
    _h_rng = np.random.default_rng(_h_seed)
    _h_table = _h_rng.standard_normal((5, 3))
    _h_ids = _h_rng.integers(0, 5, size=(3, 4))
    _h_w = leaf(_h_table)
    _h_out = EmbeddingFunction.apply(_h_w, indices=_h_ids)
    _h_up = _h_rng.standard_normal(_h_out.shape)
    _h_out.backward(_h_up)
    _h_num = numerical_gradients(lambda w, i=_h_ids: w[i], [_h_table], _h_up)[0]
    assert type(_h_w.grad) is np.ndarray, "weight.grad is set"
    assert check_close(_h_w.grad, _h_num, rtol=1e-4, atol=1e-5), "weight.grad matches numerics"
# hidden: two lookups of the same table add their gradients
_h_w = leaf(np.ones((4, 2)))
(EmbeddingFunction.apply(_h_w, indices=np.array([1, 1])).sum() + EmbeddingFunction.apply(_h_w, indices=np.array([1, 3])).sum()).backward()
assert check_close(_h_w.grad, [[0, 0], [3, 3], [0, 0], [1, 1]]), "gradients of two lookups add"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `embedding`: the `Embedding` layer (3 points)
#
# `Embedding(num_embeddings, embedding_dim)` owns the table as a parameter and does the
# lookup, like `torch.nn.Embedding`:
#
# - `weight`: a Tensor of shape `(num_embeddings, embedding_dim)` with `requires_grad=True`,
#   initialised from the standard normal distribution, PyTorch's default for embeddings:
#   `rng.standard_normal((num_embeddings, embedding_dim))`, where
#   `rng = np.random.default_rng(rng)` accepts a seed, a Generator or None (as `Linear`
#   does in Module 03). Why not the $1/\sqrt{\text{fan-in}}$ scale of `Linear`? A lookup
#   sums nothing: each output is one row, so there is no sum of many terms to keep small.
# - `forward(indices)`: check the ids with `as_indices`, then return
#   `EmbeddingFunction.apply(self.weight, indices=ids)`: a float32 Tensor of shape
#   `ids.shape + (embedding_dim,)` that autograd can differentiate.
#
# `Layer` (Module 03) supplies the rest: `emb(ids)` calls `forward`, and `parameters()`
# finds `weight` because it is a Tensor attribute with `requires_grad=True`.


# %% kind="solution" id="embedding" export=true
class Embedding(Layer):
    """A learned table of num_embeddings vectors of size embedding_dim; emb(ids) looks up.

    Attributes:
        num_embeddings, embedding_dim: the sizes given to the constructor.
        weight: Tensor (num_embeddings, embedding_dim), requires_grad=True, initialised as
            rng.standard_normal((num_embeddings, embedding_dim)) (PyTorch's default).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        """Create the table.

        Args:
            num_embeddings: rows of the table (the vocabulary size), at least 1.
            embedding_dim: length of each vector, at least 1.
            rng: a np.random.Generator, an int seed, or None; np.random.default_rng(rng).

        Raises:
            ValueError: if num_embeddings or embedding_dim is less than 1, naming both.
        """
        super().__init__()
        # Task embedding: check the sizes, store them, and create weight as stated.
        ### BEGIN SOLUTION
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(
                f"Embedding: num_embeddings and embedding_dim must be at least 1, got "
                f"num_embeddings={num_embeddings}, embedding_dim={embedding_dim}"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        rng = np.random.default_rng(rng)
        self.weight = Tensor(rng.standard_normal((num_embeddings, embedding_dim)), requires_grad=True)
        ### END SOLUTION

    def forward(self, indices) -> Tensor:
        """The vectors of the ids: a float32 Tensor of shape ids.shape + (embedding_dim,).

        Args:
            indices: token ids in any form as_indices accepts (list, array, Tensor, int).

        Raises:
            TypeError, IndexError: from as_indices, for ids that are not whole numbers or
                are outside 0 .. num_embeddings - 1.
        """
        # Task embedding: check the ids, then look them up with EmbeddingFunction.apply.
        ### BEGIN SOLUTION
        ids = as_indices(indices, self.num_embeddings)
        return EmbeddingFunction.apply(self.weight, indices=ids)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"


# %% [markdown]
# ### Test `embedding`

# %% kind="test" id="test_embedding" points=3
emb = Embedding(10, 4, rng=0)
assert emb.num_embeddings == 10 and emb.embedding_dim == 4, "Embedding(10, 4) should store its sizes"
assert_tensor(emb.weight, np.random.default_rng(0).standard_normal((10, 4)), (
    "Embedding(10, 4, rng=0).weight: rng.standard_normal((10, 4)) with rng = np.random.default_rng(0)"
))
assert emb.weight.requires_grad is True, "weight should have requires_grad=True"
params = emb.parameters()
assert len(params) == 1 and params[0] is emb.weight, "parameters() should be [weight]"
out = emb([[3, 3, 9], [0, 1, 3]])
assert_tensor(out, emb.weight.data[[[3, 3, 9], [0, 1, 3]]], "emb([[3, 3, 9], [0, 1, 3]]): shape (2, 3, 4)")
upstream = np.random.default_rng(1).standard_normal((2, 3, 4))
out.backward(upstream)
expected = np.zeros((10, 4))
np.add.at(expected, [[3, 3, 9], [0, 1, 3]], upstream)
assert_grad(emb.weight, expected, "emb.weight.grad: row 3 is used three times, its rows add up")
assert_tensor(Embedding(10, 4, rng=0)(Tensor([9.0, 0.0])), emb.weight.data[[9, 0]], "emb(Tensor([9., 0.]))")
err = raised(lambda: emb([1, 10]))
assert isinstance(err, IndexError), f"emb([1, 10]) with 10 rows should raise IndexError, got {err!r}"
err = raised(lambda: emb([-1]))
assert isinstance(err, IndexError), f"emb([-1]) should raise IndexError, not read the last row; got {err!r}"
err = raised(lambda: Embedding(0, 4))
assert isinstance(err, ValueError), f"Embedding(0, 4) should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: the table has the stated shape, initialisation and gradient flag
for _h_v, _h_d, _h_seed in ((7, 3, 5), (1, 6, 6), (40, 1, 7)):
    _h_emb = Embedding(_h_v, _h_d, rng=_h_seed)
    assert isinstance(_h_emb, Layer), "Embedding is a Layer"
    assert _h_emb.num_embeddings == _h_v and _h_emb.embedding_dim == _h_d, "sizes stored"
    _h_expected = np.random.default_rng(_h_seed).standard_normal((_h_v, _h_d))
    _h_w = _h_emb.weight
    assert isinstance(_h_w, Tensor) and type(_h_w.data) is np.ndarray, "weight is a Tensor"
    assert _h_w.data.dtype == np.float32 and check_close(_h_w.data, _h_expected), "weight init"
    assert _h_w.requires_grad is True, "weight requires grad"
    _h_params = _h_emb.parameters()
    assert len(_h_params) == 1 and _h_params[0] is _h_w, "parameters() is [weight]"
_h_gen = np.random.default_rng(8)
_h_emb = Embedding(3, 2, rng=_h_gen)
assert check_close(_h_emb.weight.data, np.random.default_rng(8).standard_normal((3, 2))), (
    "a Generator is used as it is"
)
_h_w = Embedding(500, 8).weight.data
assert abs(float(_h_w.mean())) < 0.05 and abs(float(_h_w.std()) - 1.0) < 0.05, "standard normal"
# hidden: forward looks up rows for ids of every shape and form
_h_emb = Embedding(6, 3, rng=9)
_h_table = _h_emb.weight.data.astype(np.float64)
for _h_ids in ([4], [[0, 5], [5, 5]], np.array([[[1], [2]], [[3], [0]]]), np.int64(2), Tensor([1.0, 1.0, 0.0])):
    _h_out = _h_emb(_h_ids)
    _h_idx = np.asarray(_h_ids.data if isinstance(_h_ids, Tensor) else _h_ids).astype(np.int64)
    assert isinstance(_h_out, Tensor) and _h_out.data.dtype == np.float32, "a float32 Tensor"
    assert check_close(_h_out.data, _h_table[_h_idx]), "forward is weight[ids], shape ids + (d,)"
assert check_close(_h_emb.forward([2, 0]).data, _h_table[[2, 0]]), "forward and calling agree"
# hidden: the lookup goes through autograd to the table, repeated ids accumulating
_h_emb = Embedding(5, 4, rng=10)
_h_table = _h_emb.weight.data.astype(np.float64)
_h_ids = np.array([[4, 4, 4], [1, 4, 0]])
_h_out = _h_emb(_h_ids)
assert _h_out.requires_grad is True, "the output requires grad"
_h_up = np.random.default_rng(11).standard_normal(_h_out.shape)
_h_out.backward(_h_up)
_h_num = numerical_gradients(lambda w: w[_h_ids], [_h_table], _h_up)[0]
assert type(_h_emb.weight.grad) is np.ndarray, "weight.grad is set by backward"
assert check_close(_h_emb.weight.grad, _h_num, rtol=1e-4, atol=1e-5), "weight.grad is numeric"
# hidden: ids outside the table raise IndexError, and non-whole ids TypeError
_h_emb = Embedding(4, 2, rng=12)
for _h_bad in ([4], [0, -1], [[1, 2], [3, 7]], Tensor([-2.0])):
    assert isinstance(raised(lambda b=_h_bad: _h_emb(b)), IndexError), "out-of-range ids raise"
assert isinstance(raised(lambda: _h_emb([1.5])), TypeError), "non-whole ids raise TypeError"
assert check_close(_h_emb([0, 3]).data, _h_emb.weight.data[[0, 3]]), "ids 0 and V - 1 work"
# hidden: sizes below 1 raise ValueError
for _h_v, _h_d in ((0, 3), (3, 0), (-1, 2), (0, 0)):
    assert isinstance(raised(lambda v=_h_v, d=_h_d: Embedding(v, d)), ValueError), "sizes >= 1"
assert Embedding(1, 1).weight.shape == (1, 1), "a 1 x 1 table is allowed"
### END HIDDEN TESTS

# %% [markdown]
# ## Positions
#
# Attention (Module 12) mixes the vectors of a sequence with weights computed from the
# vectors themselves, and nothing in that computation depends on *where* a vector sits:
# permute the input and the output is permuted the same way. So the position has to be in
# the vectors. The usual way is to **add** a vector that depends only on the position $t$:
#
# $$x'_t = x_t + P[t], \qquad t = 0, 1, \dots, T - 1.$$
#
# Adding (rather than appending) keeps the width $d$ of the model; the network learns to
# use some directions of the space for "what" and others for "where". Two ways to choose
# $P$:
#
# - **Learned** (GPT-2, BERT): $P$ is a second table, of `max_seq_len` rows, trained like
#   any parameter. Simple and flexible, but the model knows nothing about position
#   `max_seq_len` or beyond: a longer sequence is an error, not a guess.
# - **Sinusoidal** (the original Transformer): $P$ is a fixed table of sine and cosine
#   waves of different frequencies (the task after next).
#
# ### Task `positional`: the learned positional table (3 points)
#
# `PositionalEncoding(max_seq_len, embedding_dim)` holds `weight`, a Tensor of shape
# `(max_seq_len, embedding_dim)` with `requires_grad=True`, initialised small, as GPT-2
# does: `0.02 * rng.standard_normal((max_seq_len, embedding_dim))`. Its `forward(x)` takes
# the token vectors `x` of shape `(..., T, d)` (a batch `(B, T, d)` or one sequence
# `(T, d)`) and returns `x + weight[:T]`: row $t$ of the table is added at position $t$, the
# same for every sequence of the batch (broadcasting over the leading axes). It checks its
# input first: at least two axes, last axis `embedding_dim`, and $T$ at most
# `max_seq_len`, else `ValueError`.
#
# Both the slice and the addition must be Tensor operations (`self.weight[:T]` is
# `Tensor.__getitem__`, which autograd differentiates): the gradient of the table is then
# the upstream gradient summed over the batch, in rows 0 to $T - 1$, and zero in the rows
# below. A version that slices `self.weight.data` (a NumPy array) computes the same numbers
# and never trains the table.


# %% kind="solution" id="positional" export=true
class PositionalEncoding(Layer):
    """Learned positions: row t of a (max_seq_len, embedding_dim) table is added at position t.

    Attributes:
        max_seq_len, embedding_dim: the sizes given to the constructor.
        weight: Tensor (max_seq_len, embedding_dim), requires_grad=True, initialised as
            0.02 * rng.standard_normal((max_seq_len, embedding_dim)) (GPT-2's scale).
    """

    def __init__(
        self,
        max_seq_len: int,
        embedding_dim: int,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        """Create the table; ValueError if max_seq_len or embedding_dim is less than 1."""
        super().__init__()
        # Task positional: check the sizes, store them, and create weight as stated.
        ### BEGIN SOLUTION
        if max_seq_len < 1 or embedding_dim < 1:
            raise ValueError(
                f"PositionalEncoding: max_seq_len and embedding_dim must be at least 1, got "
                f"max_seq_len={max_seq_len}, embedding_dim={embedding_dim}"
            )
        self.max_seq_len, self.embedding_dim = max_seq_len, embedding_dim
        rng = np.random.default_rng(rng)
        self.weight = Tensor(0.02 * rng.standard_normal((max_seq_len, embedding_dim)), requires_grad=True)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x + weight[:T] for x of shape (..., T, embedding_dim): a Tensor of x's shape.

        Raises:
            ValueError: when x has fewer than two axes or its last axis is not
                embedding_dim (naming the shape), or T = x.shape[-2] exceeds max_seq_len
                (naming both).
        """
        # Task positional: check x; then add the first T rows of the table, as Tensor operations.
        ### BEGIN SOLUTION
        if x.ndim < 2 or x.shape[-1] != self.embedding_dim:
            raise ValueError(
                f"PositionalEncoding: expected x of shape (..., T, {self.embedding_dim}), "
                f"got {x.shape}"
            )
        seq_len = x.shape[-2]
        if seq_len > self.max_seq_len:
            raise ValueError(
                f"PositionalEncoding: a sequence of {seq_len} positions is longer than "
                f"max_seq_len={self.max_seq_len}"
            )
        return x + self.weight[:seq_len]
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"PositionalEncoding({self.max_seq_len}, {self.embedding_dim})"


# %% [markdown]
# ### Test `positional`

# %% kind="test" id="test_positional" points=3
pos = PositionalEncoding(6, 3, rng=0)
assert pos.max_seq_len == 6 and pos.embedding_dim == 3, "PositionalEncoding(6, 3) should store its sizes"
assert_tensor(pos.weight, 0.02 * np.random.default_rng(0).standard_normal((6, 3)), (
    "PositionalEncoding(6, 3, rng=0).weight: 0.02 * rng.standard_normal((6, 3))"
))
assert pos.weight.requires_grad is True and pos.parameters()[0] is pos.weight, "weight is the parameter"
x64 = np.random.default_rng(1).standard_normal((2, 4, 3))
table = pos.weight.data.astype(np.float64)
out = pos(Tensor(x64))
assert_tensor(out, x64 + table[:4], "pos(x) for x of shape (2, 4, 3): x + weight[:4] for both sequences")
assert_tensor(pos(Tensor(x64[0])), x64[0] + table[:4], "pos(x) for one sequence of shape (4, 3)")
x = leaf(x64)
out = pos(x)
upstream = np.random.default_rng(2).standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(lambda w: x64 + w[:4], [table], upstream)
assert_grad(pos.weight, numeric[0], (
    "pos.weight.grad: rows 0..3 get the upstream gradient summed over the batch, rows 4, 5 zero "
    "(slice self.weight, the Tensor, not self.weight.data)"
))
assert_grad(x, upstream, "x.grad: the addition passes the upstream gradient to x")
err = raised(lambda: pos(Tensor(np.zeros((2, 7, 3)))))
assert isinstance(err, ValueError), f"a sequence of 7 positions with max_seq_len=6 should raise ValueError, got {err!r}"
err = raised(lambda: pos(Tensor(np.zeros((2, 4, 5)))))
assert isinstance(err, ValueError), f"x with a last axis of 5 instead of 3 should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: the table has the stated shape, initialisation and gradient flag
for _h_t, _h_d, _h_seed in ((5, 2, 21), (1, 4, 22), (9, 1, 23)):
    _h_pos = PositionalEncoding(_h_t, _h_d, rng=_h_seed)
    assert isinstance(_h_pos, Layer), "PositionalEncoding is a Layer"
    assert _h_pos.max_seq_len == _h_t and _h_pos.embedding_dim == _h_d, "sizes stored"
    _h_w = _h_pos.weight
    assert isinstance(_h_w, Tensor) and _h_w.data.dtype == np.float32, "weight is a float32 Tensor"
    _h_expected = 0.02 * np.random.default_rng(_h_seed).standard_normal((_h_t, _h_d))
    assert check_close(_h_w.data, _h_expected), "weight is 0.02 * standard normal"
    assert _h_w.requires_grad is True and len(_h_pos.parameters()) == 1, "one parameter"
    assert _h_pos.parameters()[0] is _h_w, "parameters() is [weight]"
# hidden: forward adds the first T rows, broadcast over every leading axis
_h_pos = PositionalEncoding(7, 4, rng=24)
_h_table = _h_pos.weight.data.astype(np.float64)
_h_rng = np.random.default_rng(25)
for _h_shape in ((7, 4), (1, 4), (3, 5, 4), (2, 3, 1, 4), (2, 2, 7, 4)):
    _h_x = _h_rng.standard_normal(_h_shape)
    _h_out = _h_pos(Tensor(_h_x))
    assert isinstance(_h_out, Tensor) and _h_out.data.dtype == np.float32, "a float32 Tensor"
    _h_want = _h_x + _h_table[: _h_shape[-2]]
    assert _h_out.shape == _h_want.shape and check_close(_h_out.data, _h_want, atol=1e-6), (
        "x + weight[:T] along the second-to-last axis"
    )
# hidden: gradients reach both the table and x, matching central differences
_h_pos = PositionalEncoding(6, 3, rng=26)
_h_table = _h_pos.weight.data.astype(np.float64)
_h_x64 = _h_rng.standard_normal((3, 5, 3))
_h_x = leaf(_h_x64)
_h_out = _h_pos(_h_x)
_h_up = _h_rng.standard_normal(_h_out.shape)
_h_out.backward(_h_up)
_h_num = numerical_gradients(lambda x, w: x + w[:5], [_h_x64, _h_table], _h_up)
assert type(_h_pos.weight.grad) is np.ndarray, "weight.grad is set by backward"
assert check_close(_h_pos.weight.grad, _h_num[1], rtol=1e-4, atol=1e-5), "weight.grad"
assert check_close(_h_x.grad, _h_num[0], rtol=1e-4, atol=1e-5), "x.grad"
# hidden: a sequence of exactly max_seq_len positions is allowed, one more raises
_h_pos = PositionalEncoding(4, 2, rng=27)
assert _h_pos(Tensor(np.zeros((3, 4, 2)))).shape == (3, 4, 2), "T == max_seq_len is allowed"
assert isinstance(raised(lambda: _h_pos(Tensor(np.zeros((1, 5, 2))))), ValueError), "T > max raises"
assert isinstance(raised(lambda: _h_pos(Tensor(np.zeros((5, 2))))), ValueError), "T > max, 2-D"
_h_one = PositionalEncoding(1, 3, rng=28)
assert isinstance(raised(lambda: _h_one(Tensor(np.zeros((2, 4, 3))))), ValueError), (
    "a table of one position does not broadcast over a longer sequence"
)
# hidden: inputs of the wrong shape raise ValueError
for _h_shape in ((2,), (), (2, 3, 3), (4, 1)):
    assert isinstance(raised(lambda s=_h_shape: _h_pos(Tensor(np.zeros(s)))), ValueError), (
        "fewer than two axes or a wrong last axis raise"
    )
# hidden: sizes below 1 raise ValueError
for _h_t, _h_d in ((0, 2), (2, 0), (-3, 4)):
    assert isinstance(raised(lambda t=_h_t, d=_h_d: PositionalEncoding(t, d)), ValueError), (
        "sizes >= 1"
    )
assert PositionalEncoding(1, 1).weight.shape == (1, 1), "a 1 x 1 table is allowed"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `sinusoidal`: the fixed table of the Transformer (3 points)
#
# Vaswani et al. (2017, section 3.5) add a table that nobody trains. Column pairs
# $(2i, 2i + 1)$ hold a sine and a cosine of the position, at a frequency that falls from
# one column pair to the next:
#
# $$P[t, 2i] = \sin\!\left(\frac{t}{10000^{2i/d}}\right), \qquad
#   P[t, 2i + 1] = \cos\!\left(\frac{t}{10000^{2i/d}}\right), \qquad i = 0, 1, \dots$$
#
# Column 0 oscillates fastest (period $2\pi \approx 6.3$ positions); the last pair has a
# period of up to $2\pi \cdot 10000$ positions. Each position gets a different pattern, like
# the digits of a counter, and every entry is in $[-1, 1]$, the scale of the token vectors.
# A useful property: for each frequency, the pair $(\sin, \cos)$ at position $t + k$ is a
# rotation of the pair at $t$ by an angle that depends on $k$ only, which makes relative
# positions easy for attention to pick out.
#
# The two classic slips: using $i$ instead of $2i$ in the exponent (the column index $j$ of
# a sine column is $2i$ itself, so the exponent is $j/d$ for column $j = 2i$, **not**
# $2j/d$), and swapping sine and cosine. For an **odd** $d$ there is one more sine column
# than cosine columns: the last column is the sine of frequency $i = (d - 1)/2$.
#
# ```
#   sinusoidal_encoding(3, 4)          columns: sin(t), cos(t), sin(t/100), cos(t/100)
#     t = 0:   0.000   1.000   0.000   1.000
#     t = 1:   0.841   0.540   0.010   1.000
#     t = 2:   0.909  -0.416   0.020   1.000
# ```
#
# Build it in float64 with NumPy (positions as a column, the frequencies of the sine
# columns as a row, their product the angles; `np.arange(0, d, 2)` lists the sine columns
# $2i$), fill the even columns with sines and the odd columns with cosines
# (`table[:, 0::2]`, `table[:, 1::2]`), and return `Tensor(table)`: float32, and
# `requires_grad` False, because there is nothing to learn. `base` replaces 10000.


# %% kind="solution" id="sinusoidal" export=true
def sinusoidal_encoding(max_seq_len: int, embedding_dim: int, base: float = 10000.0) -> Tensor:
    """The sinusoidal position table of Vaswani et al. (2017), section 3.5.

    Returns:
        a float32 Tensor (max_seq_len, embedding_dim), requires_grad False, with
        P[t, 2i] = sin(t / base ** (2i / embedding_dim)) and
        P[t, 2i + 1] = cos(t / base ** (2i / embedding_dim)) for t = 0 .. max_seq_len - 1,
        computed in float64. An odd embedding_dim has one more sine column than cosine.
    """
    # Task sinusoidal: angles t / base^(2i/d) in float64; sines in even columns, cosines in odd.
    ### BEGIN SOLUTION
    positions = np.arange(max_seq_len)[:, None]  # (T, 1)
    rates = base ** (-np.arange(0, embedding_dim, 2) / embedding_dim)  # (ceil(d / 2),)
    angles = positions * rates  # (T, ceil(d / 2))
    table = np.zeros((max_seq_len, embedding_dim))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : embedding_dim // 2])
    return Tensor(table)
    ### END SOLUTION


# %% [markdown]
# ### Test `sinusoidal`

# %% kind="test" id="test_sinusoidal" points=3
table = sinusoidal_encoding(3, 4)
expected = [
    [0.0, 1.0, 0.0, 1.0],
    [np.sin(1), np.cos(1), np.sin(0.01), np.cos(0.01)],
    [np.sin(2), np.cos(2), np.sin(0.02), np.cos(0.02)],
]
assert_tensor(table, expected, (
    "sinusoidal_encoding(3, 4): columns sin(t), cos(t), sin(t / 10000^(2/4)), cos(t / 100); "
    "the exponent of column 2i is 2i/d"
), atol=1e-7)
assert table.requires_grad is False, "the sinusoidal table is fixed: requires_grad should be False"
odd = sinusoidal_encoding(2, 5)
assert_tensor(odd, [
    [0.0, 1.0, 0.0, 1.0, 0.0],
    [np.sin(1), np.cos(1), np.sin(10000 ** -0.4), np.cos(10000 ** -0.4), np.sin(10000 ** -0.8)],
], "sinusoidal_encoding(2, 5): an odd size ends with a sine column", atol=1e-7)

### BEGIN HIDDEN TESTS
# hidden: every entry follows the formula, for even and odd sizes and other bases
def _h_table(t_max, d, base=10000.0):
    """Plain loops over positions and columns, float64."""
    found = np.zeros((t_max, d))
    for t in range(t_max):
        for j in range(d):
            angle = t / base ** ((j - j % 2) / d)
            found[t, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return found


for _h_args in ((50, 16), (7, 5), (4, 1), (1, 6), (30, 3), (12, 8, 100.0), (5, 7, 2.0)):
    _h_out = sinusoidal_encoding(*_h_args)
    _h_want = _h_table(*_h_args)
    assert isinstance(_h_out, Tensor) and type(_h_out.data) is np.ndarray, "a Tensor"
    assert _h_out.data.dtype == np.float32 and _h_out.shape == _h_want.shape, "float32 (T, d)"
    assert check_close(_h_out.data, _h_want, rtol=1e-6, atol=1e-6), "sin/cos values, 2i/d"
    assert _h_out.requires_grad is False, "not a parameter"
# hidden: position 0 is sin 0 and cos 0 in every column pair
assert check_close(sinusoidal_encoding(1, 9).data, [[0, 1, 0, 1, 0, 1, 0, 1, 0]]), "position 0"
# hidden: the first column pair has frequency 1 and the last sine column the lowest
_h_out = sinusoidal_encoding(100, 10).data
assert check_close(_h_out[:, 0], np.sin(np.arange(100)), atol=1e-6), "column 0 is sin(t)"
assert check_close(_h_out[:, 1], np.cos(np.arange(100)), atol=1e-6), "column 1 is cos(t)"
assert check_close(_h_out[:, 8], np.sin(np.arange(100) / 10000 ** 0.8), atol=1e-6), "column 8"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `token_and_position`: the input layer of a language model (3 points)
#
# `TokenAndPositionEmbedding(vocab_size, embedding_dim, max_seq_len)` turns a batch of ids
# `(B, T)` (or one sequence `(T,)`) into the vectors a transformer block reads,
# `(B, T, embedding_dim)`:
#
# $$x_{b,t} = s \cdot E[\text{ids}_{b,t}] + P[t], \qquad s = \sqrt{d} \text{ when }
#   \texttt{scale\_embeddings} \text{, else } 1.$$
#
# - `self.token`: an `Embedding(vocab_size, embedding_dim, rng=rng)`.
# - `self.position`: a `PositionalEncoding(max_seq_len, embedding_dim, rng=rng)`, created
#   after the token table from the same generator (`rng = np.random.default_rng(rng)`
#   first, then both layers get that generator, so one seed fixes both tables). With
#   `positional="sinusoidal"`, replace its weight by `sinusoidal_encoding(max_seq_len,
#   embedding_dim)`: a Tensor without `requires_grad`, so `parameters()` no longer lists
#   it and training leaves it alone. Any other value of `positional` raises `ValueError`.
# - `scale_embeddings=True` multiplies the token vectors by $\sqrt{d}$ before the positions
#   are added, as in the Transformer paper (section 3.4), where it balances token vectors
#   initialised small against the sinusoidal table's entries of size 1.
#
# `forward` is two lines of layers you have already built, so the ids are checked by
# `Embedding` and the length by `PositionalEncoding`; `parameters()` comes from `Layer`.


# %% kind="solution" id="token_and_position" export=true
class TokenAndPositionEmbedding(Layer):
    """Token vectors plus position vectors: the input layer of a GPT.

    Attributes:
        token: Embedding(vocab_size, embedding_dim).
        position: PositionalEncoding(max_seq_len, embedding_dim); for positional="sinusoidal"
            its weight is sinusoidal_encoding(max_seq_len, embedding_dim), not trained.
        scale: sqrt(embedding_dim) with scale_embeddings=True, else 1.0.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        max_seq_len: int,
        positional: str = "learned",
        scale_embeddings: bool = False,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        """Create both tables from one generator, the token table first.

        Raises:
            ValueError: for positional other than "learned" or "sinusoidal", and for sizes
                below 1 (from Embedding and PositionalEncoding).
        """
        super().__init__()
        # Task token_and_position: check positional; make token, then position; set scale.
        ### BEGIN SOLUTION
        if positional not in ("learned", "sinusoidal"):
            raise ValueError(
                f"TokenAndPositionEmbedding: positional must be 'learned' or 'sinusoidal', "
                f"got {positional!r}"
            )
        rng = np.random.default_rng(rng)
        self.token = Embedding(vocab_size, embedding_dim, rng=rng)
        self.position = PositionalEncoding(max_seq_len, embedding_dim, rng=rng)
        if positional == "sinusoidal":
            self.position.weight = sinusoidal_encoding(max_seq_len, embedding_dim)
        self.scale = math.sqrt(embedding_dim) if scale_embeddings else 1.0
        ### END SOLUTION

    def forward(self, indices) -> Tensor:
        """ids (..., T) -> (..., T, embedding_dim): scale * token(ids), plus the positions.

        Raises:
            IndexError, TypeError: for invalid ids (from Embedding).
            ValueError: for T > max_seq_len (from PositionalEncoding).
        """
        # Task token_and_position: look up, scale when asked, add the positions.
        ### BEGIN SOLUTION
        x = self.token(indices)
        if self.scale != 1.0:
            x = x * self.scale
        return self.position(x)
        ### END SOLUTION


# %% [markdown]
# ### Test `token_and_position`

# %% kind="test" id="test_token_and_position" points=3
layer = TokenAndPositionEmbedding(vocab_size=20, embedding_dim=4, max_seq_len=8, rng=0)
gen = np.random.default_rng(0)
tokens = gen.standard_normal((20, 4))
positions = 0.02 * gen.standard_normal((8, 4))
assert_tensor(layer.token.weight, tokens, "layer.token.weight: the token table, drawn first from the generator")
assert_tensor(layer.position.weight, positions, "layer.position.weight: the position table, drawn second")
params = layer.parameters()
assert len(params) == 2 and params[0] is layer.token.weight and params[1] is layer.position.weight, (
    "parameters() should be [token.weight, position.weight]"
)
ids = np.array([[3, 19, 3], [0, 0, 7]])
out = layer(ids)
expected = tokens.astype(np.float32).astype(np.float64)[ids] + positions.astype(np.float32).astype(np.float64)[:3]
assert_tensor(out, expected, "layer(ids) for ids of shape (2, 3): token vectors + positions 0, 1, 2")
upstream = np.random.default_rng(1).standard_normal(out.shape)
out.backward(upstream)
table_t = layer.token.weight.data.astype(np.float64)
table_p = layer.position.weight.data.astype(np.float64)
numeric = numerical_gradients(lambda t, p: t[ids] + p[:3], [table_t, table_p], upstream)
assert_grad(layer.token.weight, numeric[0], "token.weight.grad")
assert_grad(layer.position.weight, numeric[1], "position.weight.grad")
sin_layer = TokenAndPositionEmbedding(20, 4, 8, positional="sinusoidal", scale_embeddings=True, rng=0)
assert_tensor(sin_layer.position.weight, sinusoidal_encoding(8, 4).data, "positional='sinusoidal': the fixed table")
assert len(sin_layer.parameters()) == 1, "with sinusoidal positions only the token table is a parameter"
assert_tensor(sin_layer(ids), tokens[ids] * 2.0 + sinusoidal_encoding(8, 4).data[:3], (
    "scale_embeddings=True: token vectors times sqrt(4) = 2, plus the sinusoidal positions"
))
err = raised(lambda: layer(np.zeros((1, 9), dtype=np.int64)))
assert isinstance(err, ValueError), f"9 positions with max_seq_len=8 should raise ValueError, got {err!r}"
err = raised(lambda: TokenAndPositionEmbedding(20, 4, 8, positional="rotary"))
assert isinstance(err, ValueError), f"positional='rotary' should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: both tables come from one generator, the token table first
_h_layer = TokenAndPositionEmbedding(7, 3, 5, rng=31)
assert isinstance(_h_layer, Layer), "a Layer"
_h_gen = np.random.default_rng(31)
_h_tok = _h_gen.standard_normal((7, 3))
_h_pos = 0.02 * _h_gen.standard_normal((5, 3))
assert isinstance(_h_layer.token, Embedding) and isinstance(_h_layer.position, PositionalEncoding), (
    "token is an Embedding and position a PositionalEncoding"
)
assert check_close(_h_layer.token.weight.data, _h_tok), "token table first"
assert check_close(_h_layer.position.weight.data, _h_pos), "position table second"
assert _h_layer.scale == 1.0, "no scaling by default"
_h_params = _h_layer.parameters()
assert len(_h_params) == 2 and _h_params[0] is _h_layer.token.weight, "two parameters"
assert _h_params[1] is _h_layer.position.weight, "the position table is a parameter"
# hidden: forward adds token vectors and positions for batches and single sequences
_h_t = _h_layer.token.weight.data.astype(np.float64)
_h_p = _h_layer.position.weight.data.astype(np.float64)
for _h_ids in (np.array([[6, 0, 6, 2, 1], [1, 1, 1, 1, 1]]), np.array([4, 4]), np.array([[[0], [5]], [[3], [2]]])):
    _h_out = _h_layer(_h_ids)
    _h_want = _h_t[_h_ids] + _h_p[: _h_ids.shape[-1]]
    assert isinstance(_h_out, Tensor) and _h_out.data.dtype == np.float32, "a float32 Tensor"
    assert _h_out.shape == _h_want.shape and check_close(_h_out.data, _h_want, atol=1e-6), (
        "token vectors plus the positions of the last axis"
    )
assert check_close(_h_layer(Tensor([2.0, 3.0])).data, _h_t[[2, 3]] + _h_p[:2], atol=1e-6), (
    "ids in a Tensor"
)
# hidden: gradients reach the token table and the learned positions, scaled when asked
_h_layer = TokenAndPositionEmbedding(6, 4, 4, scale_embeddings=True, rng=32)
_h_ids = np.array([[5, 5, 1], [2, 5, 0]])
_h_out = _h_layer(_h_ids)
_h_up = np.random.default_rng(33).standard_normal(_h_out.shape)
_h_out.backward(_h_up)
_h_t = _h_layer.token.weight.data.astype(np.float64)
_h_p = _h_layer.position.weight.data.astype(np.float64)
assert check_close(_h_layer.scale, 2.0), "scale is sqrt(embedding_dim)"
assert check_close(_h_out.data, _h_t[_h_ids] * 2.0 + _h_p[:3], atol=1e-6), "scaled token vectors"
_h_num = numerical_gradients(lambda t, p: 2.0 * t[_h_ids] + p[:3], [_h_t, _h_p], _h_up)
assert type(_h_layer.token.weight.grad) is np.ndarray, "token.weight.grad is set"
assert check_close(_h_layer.token.weight.grad, _h_num[0], rtol=1e-4, atol=1e-5), "token grad"
assert check_close(_h_layer.position.weight.grad, _h_num[1], rtol=1e-4, atol=1e-5), "position grad"
# hidden: sinusoidal positions are the fixed table and not a parameter
_h_layer = TokenAndPositionEmbedding(9, 5, 6, positional="sinusoidal", rng=34)
_h_t = np.random.default_rng(34).standard_normal((9, 5))
assert check_close(_h_layer.token.weight.data, _h_t), "the token table is drawn as before"
assert check_close(_h_layer.position.weight.data, sinusoidal_encoding(6, 5).data), "fixed table"
assert _h_layer.position.weight.requires_grad is False, "the fixed table wants no gradient"
_h_params = _h_layer.parameters()
assert len(_h_params) == 1 and _h_params[0] is _h_layer.token.weight, "one parameter"
_h_ids = np.array([[8, 0, 4, 4]])
_h_want = _h_t[_h_ids] + sinusoidal_encoding(6, 5).data.astype(np.float64)[:4]
assert check_close(_h_layer(_h_ids).data, _h_want, atol=1e-6), "tokens plus sinusoids"
_h_scaled = TokenAndPositionEmbedding(9, 16, 6, positional="sinusoidal", scale_embeddings=True, rng=35)
_h_t = np.random.default_rng(35).standard_normal((9, 16))
_h_want = 4.0 * _h_t[[1, 2]] + sinusoidal_encoding(6, 16).data.astype(np.float64)[:2]
assert check_close(_h_scaled([1, 2]).data, _h_want, rtol=1e-5, atol=1e-5), "scale sqrt(16) = 4"
# hidden: bad ids, long sequences and unknown position kinds raise
_h_layer = TokenAndPositionEmbedding(5, 2, 3, rng=36)
assert isinstance(raised(lambda: _h_layer([[1, 5]])), IndexError), "ids of V or more raise"
assert isinstance(raised(lambda: _h_layer([[1, -1]])), IndexError), "negative ids raise"
assert isinstance(raised(lambda: _h_layer([[0, 1, 2, 3]])), ValueError), "T > max_seq_len"
assert _h_layer([[0, 1, 4]]).shape == (1, 3, 2), "T == max_seq_len is allowed"
for _h_kind in ("Learned", "sin", "", None):
    assert isinstance(raised(lambda k=_h_kind: TokenAndPositionEmbedding(5, 2, 3, positional=k)), ValueError), (
        "unknown positional kinds raise"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: what a table costs, and how fast a lookup is
#
# Nothing below is graded; the cells take a few seconds. An embedding table holds
# $V \times d$ parameters, 4 bytes each in float32, and during training the optimizer keeps
# more of the same size (Adam: two more, Module 06), plus a gradient as big as the table.
# The first table computes $V \cdot d \cdot 4$ bytes for the tables of this course and for
# the published sizes of some well-known models, and measures the table of a real
# `Embedding` of the course's size.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)

tables = [  # (what, vocabulary V, width d)
    ("course: characters, Shakespeare (76 + 4 specials)", 80, 128),
    ("course: byte-level BPE, 512 merges", 768, 128),
    ("GPT-2 small (50,257 tokens, d = 768)", 50257, 768),
    ("BERT-base (30,522 tokens, d = 768)", 30522, 768),
    ("LLaMA 2 7B (32,000 tokens, d = 4096)", 32000, 4096),
    ("GPT-3 175B (50,257 tokens, d = 12,288)", 50257, 12288),
]


def human_bytes(n: float) -> str:
    """Bytes in KB, MB or GB (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


print(f"{'table':<52} {'V x d':>14} {'float32':>10} {'+ grad + Adam':>14}")
for what, v, d in tables:
    params = v * d
    print(f"{what:<52} {params:>14,} {human_bytes(params * 4):>10} {human_bytes(params * 16):>14}")
measured = Embedding(768, 128, rng=0)
print(f"\nmeasured: Embedding(768, 128).weight.data.nbytes = {measured.weight.data.nbytes:,} bytes "
      f"(768 * 128 * 4 = {768 * 128 * 4:,})")

# %% [markdown]
# The last column counts the table, its gradient and Adam's two moment buffers: four
# float32 copies. For a small model the embedding can be most of the parameters: with
# GPT-2's vocabulary, a model of width 768 spends 38.6 million parameters on the table
# alone, before a single transformer block (and as many again in the output layer, unless
# the two share one matrix, as GPT-2 does).
#
# ### How fast is a lookup?
#
# A lookup computes nothing: it copies $n \cdot d$ numbers, reading one row per id from
# wherever the table lies in memory. Its speed is the speed of memory. The cell below
# gathers 4,096 random ids (a batch of 16 sequences of 256 tokens) from a table with
# GPT-2's vocabulary and a width of 256 (about 50 MB), and compares:
#
# - `np.take(table, ids, axis=0)` and `table[ids]`: the gather itself;
# - a contiguous copy of the same number of bytes: the best case for moving that much data;
# - the same lookup through your `Embedding` layer (checks, `Function.apply`, the float32
#   Tensor);
# - the lookup as a product of one-hot rows with the table, for a smaller vocabulary: the
#   same result, at $2nVd$ floating-point operations;
# - the backward pass: writing the $(V, d)$ zero gradient, `np.add.at` into it, and
#   `grad[ids] += g`, the wrong one, with the updates it loses.
#
# GB/s counts the bytes the operation must at least move: for a gather, read $n d$ floats
# and write $n d$ floats.


# %%
def median_seconds(fn, repeats: int = 7) -> float:
    """Median wall time of fn() over `repeats` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


V, D, N = 50257, 256, 16 * 256
rng = np.random.default_rng(0)
big = rng.standard_normal((V, D)).astype(np.float32)
ids = rng.integers(0, V, size=N)
moved = 2 * N * D * 4  # bytes read + written by a gather
layer = Embedding(V, D, rng=0)
layer.weight.data = big
grad_out = rng.standard_normal((N, D)).astype(np.float32)
contiguous = big[:N]



def written_zeros() -> np.ndarray:
    """A (V, d) zero gradient with every page written (np.zeros alone can defer the work
    to the operating system until the memory is first touched)."""
    grad = np.empty((V, D), dtype=np.float32)
    grad.fill(0.0)
    return grad


touched_grad = written_zeros()
print(f"table {V:,} x {D} float32 = {human_bytes(big.nbytes)}; {N:,} ids; {human_bytes(moved)} moved")
print(f"{'operation':<46} {'ms':>8} {'GB/s':>7}")
for what, fn, nbytes in (
    ("contiguous copy of the same bytes", lambda: contiguous.copy(), moved),
    ("np.take(table, ids, axis=0)", lambda: np.take(big, ids, axis=0), moved),
    ("table[ids]", lambda: big[ids], moved),
    ("Embedding layer (checks, Function, Tensor)", lambda: layer(ids), moved),
    ("backward: a (V, d) zero gradient, written", written_zeros, V * D * 4),
    ("backward: np.add.at(grad, ids, g)", lambda: np.add.at(touched_grad, ids, grad_out), moved),
):
    s = median_seconds(fn)
    print(f"{what:<46} {s * 1e3:>8.2f} {nbytes / s / 1e9:>7.1f}")

small_v, small_n = 5000, 1024
small = big[:small_v]
small_ids = ids[:small_n] % small_v
one_hot = np.zeros((small_n, small_v), dtype=np.float32)
one_hot[np.arange(small_n), small_ids] = 1.0
assert np.array_equal(one_hot @ small, small[small_ids]), "one-hot rows times the table is a lookup"
t_gather = median_seconds(lambda: small[small_ids])
t_matmul = median_seconds(lambda: one_hot @ small, repeats=3)
flops = 2 * small_n * small_v * D
print(f"\nV = {small_v:,}, {small_n:,} ids: gather {t_gather * 1e3:.3f} ms, one-hot matmul "
      f"{t_matmul * 1e3:.1f} ms ({flops / 1e9:.1f} GFLOP, {flops / t_matmul / 1e9:.0f} GFLOP/s): "
      f"{t_matmul / t_gather:.0f}x slower for the same numbers")

repeated = rng.integers(0, 100, size=N)  # a small vocabulary: every id repeats ~41 times
right = np.zeros((V, D), np.float32)
np.add.at(right, repeated, grad_out)
wrong = np.zeros((V, D), np.float32)
wrong[repeated] += grad_out
touched = np.unique(repeated).size
lost = N - touched
print(f"\n{N:,} ids from a vocabulary of 100: np.add.at keeps all {N:,} gradient rows; "
      f"grad[ids] += g keeps {touched} and loses {lost:,} "
      f"(largest error {np.abs(right - wrong).max():.1f}).")
print(f"rows of the ({V:,}, {D}) gradient that are not zero after a batch of random ids: "
      f"{np.unique(ids).size:,} of {V:,} ({np.unique(ids).size / V:.1%})")

# %% [markdown]
# What to look for:
#
# - **The gather is memory-bound.** It computes nothing, and its GB/s stays below the
#   contiguous copy's: rows come from random places in a 50 MB table, which does not fit in
#   the processor's caches, so each row is a trip to main memory, while the copy streams
#   bytes that lie next to each other. There is no arithmetic to speed up; only fewer or
#   smaller bytes help (Module 17 stores tables in int8).
# - **The layer's overhead** (checking the ids, `Function.apply`, the float32 copy that
#   `Tensor(...)` makes) is visible next to the bare gather; at small batch sizes it is most
#   of the time.
# - **One-hot times the table** gives the same numbers at thousands of times the cost. The
#   matrix view is how to *think* about the lookup (it gave us the backward rule); the
#   gather is how to *compute* it.
# - **The backward pass costs more than the forward.** A full $(V, d)$ zero gradient is
#   written for every batch, although only the rows of the ids in the batch become
#   non-zero (the last line); frameworks offer **sparse** gradients for this reason
#   (PyTorch's `nn.Embedding(sparse=True)` stores and updates only the touched rows). And
#   `np.add.at` is correct but far from memory speed: to make repeats safe it adds one
#   element at a time instead of running NumPy's vectorised loops, which is why
#   deep-learning frameworks ship a dedicated scatter-add kernel for this one operation.
# - **`grad[ids] += g` is wrong, not just slow**: with a small vocabulary nearly every
#   update collides, and the table learns from a few percent of its gradient.
#
# ## Summary
#
# - An embedding is a learned table; the lookup `W[ids]` equals one-hot rows times `W` at
#   none of the cost.
# - Check ids first: whole numbers, `0 <= id < V`; negative ids must not wrap around.
# - Forward gathers rows; backward scatter-adds the upstream rows into a zero table with
#   `np.add.at`, so repeated ids accumulate. Backward needs the ids and the table's shape,
#   not the table.
# - Positions are added: a learned table sliced to the sequence length (longer sequences
#   are an error), or the fixed sinusoidal table $\sin / \cos(t / 10000^{2i/d})$.
# - An embedding table costs $V \cdot d \cdot 4$ bytes, and training keeps about four
#   copies; a lookup is limited by memory bandwidth, not arithmetic.
#
# **Reflection.**
#
# 1. A tokenizer with 512 merges gives the course's Shakespeare model a vocabulary of 768;
#    the character tokenizer gives 80. At width 128, how many parameters does each table
#    have, and what fraction of a 2-layer model with about 400,000 parameters is that?
# 2. With learned positions and `max_seq_len = 64`, what happens when a trained model is
#    asked to continue a text of 100 tokens? What would a sinusoidal table do instead,
#    and why is that no guarantee the model handles position 100 well?
# 3. Why does `EmbeddingFunction.backward` allocate its gradient with `grad_output`'s dtype
#    rather than float64? What goes wrong in `gradcheck`-style tests if it always used
#    float32?
