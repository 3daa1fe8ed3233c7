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
# # Module 14: KV Caching
#
# Your GPT from Module 13 writes text one token at a time, and every token costs more than
# the one before. To choose token $t + 1$, `generate` feeds the whole sequence so far,
# $t + 1$ tokens, through every layer: it computes the queries, keys and values of all
# $t + 1$ positions, the $(t + 1) \times (t + 1)$ attention scores, the MLP of every
# position, and the logits of every position. Then it keeps **one row** of the logits and
# throws everything else away. At the next step it computes all of it again, plus one
# position.
#
# Almost all of that work is repeated. Under a causal mask, position $i$ reads positions
# $0 \dots i$ only, so everything a layer computes for position $i$ (its hidden state, and
# the **key** and **value** it offers to later positions) depends on tokens $0 \dots i$ and
# on nothing that comes after. When token $t + 1$ arrives, the keys and values of the earlier
# positions are exactly what they were. A **key-value cache** keeps them: each step feeds
# only the **new** token, computes its query, key and value, writes the key and value into
# the cache, and lets the query attend to all the cached keys. Nothing else about the past
# is needed: not the old queries, not the old MLP outputs, not the old logits.
#
# ```
#   without a cache, step t:   ids[0 .. t]  (t + 1 tokens) ──> every layer ──> logits (B, t+1, V)
#                                                                      keep the last row
#   with a cache,    step t:   ids[t]       (1 token)      ──> every layer ──> logits (B, V)
#                                  │ each layer: k, v of the new token ──> cache rows t
#                                  │             q attends to cache rows 0 .. t
# ```
#
# The result must be the **same** model, not an approximation: the same logits (up to
# float32 rounding) and, from the same seed, the same text. Courses that taught this before
# shipped caches that were not: the first token never cached, the new token dropped from
# its own attention, an empty slot of the cache read as if it held a key, every cached token
# embedded at position 0. Each of those produces fluent-looking text, just not the model's,
# and each is caught here by comparing your cached model with the uncached one at every
# step.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - explain why the keys and values of a causal transformer never change once computed, and
#   why the queries, MLP outputs and logits of past positions are never needed again;
# - build a **preallocated** cache, one array `(B, H, max_seq_len, d_head)` per layer for the
#   keys and one for the values, written at rows `start .. start + t - 1` and read at rows
#   `0 .. start + t - 1`, with a clear error when it is full;
# - run a GPT with the cache: a **prefill** of the whole prompt at once under an **offset
#   causal mask**, then one token per step at **positions offset** by what is cached,
#   computing the logits of the **last position only**;
# - generate text with the cache, token for token the same as Module 13's `generate` with
#   the same sampling options and seed;
# - predict the cache's memory, $2 \cdot L \cdot B \cdot H \cdot T \cdot d_{head}$ numbers,
#   and **measure** what it buys: the time per generated token, with and without the cache,
#   as the sequence grows.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in eight places, for five tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtypes, formulas, errors, and hints. Keep the names and
#   signatures as they are (the capstone and the milestones call them); the given cells are
#   read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail. The expected values come from the **uncached** model: Module
#   13's `GPT` and Module 12's `MultiHeadAttention`, run on the whole sequence. Your cached
#   code must give the same numbers, to 1e-5.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other sizes, depths, head counts and batch sizes, prompts of
#   length 1, prompts fed in several chunks, generation up to the last position of the
#   model, caches that are too small, other seeds, temperatures and top-k values). A failing
#   hidden check tells you which behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the code of the other tasks
#   comes from the course's reference solution, so a bug costs the points of the task it is
#   in. The last test, `test_cached_generation`, is different: it runs **your** code
#   throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure (a NumPy `RuntimeWarning` included).
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `kv_cache` | `KVCache`: preallocate, `update` (write, check room, read), `advance`, `reset` | 5 |
# | `cache_bytes` | `kv_cache_bytes`: the memory formula | 2 |
# | `cached_attention` | one attention layer fed from the cache, under the offset causal mask | 4 |
# | `cached_forward` | the whole GPT on the new tokens: offset positions, cached blocks, last logits | 4 |
# | `generate_cached` | prefill, then one token per step, sampled as Module 13 samples | 3 |
# | `cached_generation` | (no code of its own) your tasks together: the cached model writes the uncached model's text | 2 |
# | | **total** | **20** |
#
# Work in the order of the table: each task uses the ones before it. `Tensor`, `no_grad`,
# `causal_mask`, `split_heads`, `merge_heads`, `scaled_dot_product_attention`,
# `MultiHeadAttention`, `GPT` and `sample_next_token` come from your Modules 01 to 13; when
# your work is graded they come from the course's reference solution, so a bug in an earlier
# module does not cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.generation.kv_cache: generation with a key-value cache, exact and fast.

`KVCache` preallocates, for every layer of a GPT, one array of keys and one of values,
(B, H, max_seq_len, d_head) each; `update` writes the keys and values of new positions at
rows length .. length + t - 1 and returns rows 0 .. length + t - 1; `advance` counts them as
filled once every layer has written; `reset` empties the cache; a write past max_seq_len
raises `CacheOverflowError`. `kv_cache_bytes` is its memory, 2 L B H T d_head itemsize.
`cached_attention` is one attention layer fed from the cache (offset causal mask),
`cached_forward` runs Module 13's GPT on the new tokens only (positions offset by the cached
length, logits of the last position only), and `generate_cached` prefills the prompt and then
feeds one token per step, sampling as `GPT.generate` does: the same tokens, from the same seed.
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 14.
"""

import numpy as np

from tinytorch.core.attention import (
    causal_mask,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)
from tinytorch.core.autograd import no_grad
from tinytorch.core.tensor import Tensor
from tinytorch.models.transformer import _check_ids, _check_sampling, sample_next_token

__all__ = [
    "CacheOverflowError",
    "KVCache",
    "kv_cache_bytes",
    "cached_attention",
    "cached_forward",
    "generate_cached",
]

# %% [markdown]
# **Given: the error and the input checks.** The read-only cell below defines
# `CacheOverflowError`, the error a full cache raises (a `ValueError`, so code that catches
# `ValueError` catches it too), and the checks your code can rely on: `_check_kv` checks the
# keys and values handed to the cache, `_check_cache` that a cache fits a model and a batch,
# and `_check_room` that a generation fits the model's positions. Module 13's `_check_ids`
# and `_check_sampling` check token ids and sampling settings, with the same messages as in
# `GPT.generate`.


# %% kind="locked" id="input_checks" export=true
class CacheOverflowError(ValueError):
    """A KVCache has no room for the positions written to it (it holds max_seq_len)."""


def _check_kv(cache, layer: int, k, v) -> None:
    """layer is 0 .. num_layers - 1; k and v are NumPy arrays of one shape (B, H, t, d_head)
    with t >= 1 and B, H, d_head those of the cache.

    Raises:
        IndexError: for a layer outside 0 .. num_layers - 1.
        TypeError: when k or v is not a NumPy array (a Tensor: pass its .data).
        ValueError: naming the shapes, when k and v differ or do not fit the cache.
    """
    if not isinstance(layer, int | np.integer) or not 0 <= layer < cache.num_layers:
        raise IndexError(f"KVCache: layer {layer!r} is not in 0 .. {cache.num_layers - 1}")
    if not isinstance(k, np.ndarray) or not isinstance(v, np.ndarray):
        raise TypeError(
            f"KVCache.update: k and v must be NumPy arrays, got {type(k).__name__} and "
            f"{type(v).__name__}; pass a Tensor's .data"
        )
    expected = (cache.batch_size, cache.num_heads, "t", cache.head_dim)
    sizes = (cache.batch_size, cache.num_heads, cache.head_dim)
    fits = k.ndim == 4 and k.shape[2] >= 1 and (k.shape[0], k.shape[1], k.shape[3]) == sizes
    if k.shape != v.shape or not fits:
        raise ValueError(
            f"KVCache.update: expected k and v of one shape (B, H, t, d_head) = {expected} "
            f"with t >= 1, got k {k.shape} and v {v.shape}"
        )


def _check_cache(model, cache, batch_size: int) -> None:
    """The cache was made for this model (layers, heads, head width) and this batch size.

    Raises:
        ValueError: otherwise, naming what differs; KVCache.for_model(model, B) fits.
    """
    wanted = (len(model.blocks), batch_size, model.num_heads, model.d_model // model.num_heads)
    got = (cache.num_layers, cache.batch_size, cache.num_heads, cache.head_dim)
    if wanted != got:
        raise ValueError(
            f"cached_forward: the cache holds (layers, batch, heads, head_dim) = {got}, the "
            f"model and the ids need {wanted}; make one with KVCache.for_model(model, batch_size)"
        )


def _check_room(prompt_length: int, max_new_tokens: int, max_seq_len: int) -> None:
    """generate_cached feeds the prompt and every new token but the last: they must fit.

    Raises:
        ValueError: when max_new_tokens < 0, or when prompt_length + max_new_tokens - 1 >
            max_seq_len (a cache cannot slide: GPT.generate crops the context instead).
    """
    if max_new_tokens < 0:
        raise ValueError(f"generate_cached: max_new_tokens must be >= 0, got {max_new_tokens}")
    if max_new_tokens > 0 and prompt_length + max_new_tokens - 1 > max_seq_len:
        raise ValueError(
            f"generate_cached: a prompt of {prompt_length} tokens and {max_new_tokens} new ones "
            f"need {prompt_length + max_new_tokens - 1} positions, the model has {max_seq_len}. "
            "A cache cannot slide (every position would move); use GPT.generate, which crops "
            "the context, or generate fewer tokens"
        )


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` of the expected shape and
# values (`assert_array` does the same for a NumPy array), `check_close` compares numbers the
# way `np.allclose` does, and `raised` returns the exception a call raised. The second part
# is this module's own:
#
# - `randomise(model, seed)` gives every `LayerNorm` of a GPT random weights and biases (a
#   fresh LayerNorm is the identity map, which would hide mistakes);
# - `last_logits(model, ids)` is the **uncached** answer: `model(ids)` under `no_grad()`,
#   the logits of the last position, `(B, V)`, as a float32 array;
# - `stream_kv(model, ids)` runs the uncached blocks on the whole sequence and returns, for
#   every layer, the keys and values its attention computes, `(B, H, T, d_head)` each: what
#   a cache must hold after seeing `ids`;
# - `spy_embed(model)` replaces `model.embed` by a wrapper that records, for every call, the
#   ids it was given, the `start` position, and whether autograd was recording.


# %% kind="locked" id="checks" include="checks"
from tinytorch.core.attention import MultiHeadAttention  # noqa: E402
from tinytorch.core.autograd import is_grad_enabled  # noqa: E402
from tinytorch.models.transformer import GPT  # noqa: E402

SHAPE_HINT = (
    "The cache keeps (B, H, max_seq_len, d_head) per layer; a cached step feeds ids (B, t) "
    "and returns the logits of the last position, (B, V)."
)


def randomise(model, seed: int):
    """Give every LayerNorm of a GPT (ln1, ln2 of each block, ln_f) random weight and bias."""
    r = np.random.default_rng(seed)
    norms = [model.ln_f] + [ln for b in model.blocks for ln in (b.ln1, b.ln2)]
    for ln in norms:
        ln.weight.data = (1 + 0.5 * r.standard_normal(ln.weight.shape)).astype(_float32)
        ln.bias.data = (0.3 * r.standard_normal(ln.bias.shape)).astype(_float32)
    return model


def last_logits(model, ids) -> np.ndarray:
    """The uncached model's logits of the last position, (B, V), float32."""
    with no_grad():
        return _array(model(_array(ids)).data[:, -1])


def stream_kv(model, ids) -> list:
    """[(keys, values), ...] per layer, each (B, H, T, d_head): what the uncached blocks'
    attention layers compute for the whole sequence ids."""
    ids = _array(ids)
    found = []
    with no_grad():
        x = model.embed(ids)
        keep = causal_mask(ids.shape[1])
        for block in model.blocks:
            h = block.ln1(x)
            heads = block.attn.num_heads
            k = split_heads(block.attn.k_proj(h), heads).data
            v = split_heads(block.attn.v_proj(h), heads).data
            found.append((k, v))
            x = block(x, keep)
    return found


def spy_embed(model):
    """Record every call of model.embed: (ids, start, whether a graph was recorded)."""
    calls = []
    original = model.embed

    def recording(ids, start=0):
        calls.append((_array(ids), start, is_grad_enabled()))
        return original(ids, start)

    model.embed = recording
    return calls


# %% [markdown]
# ## Task `kv_cache`: a preallocated cache (5 points)
#
# What does a cache hold? In every attention layer, each position $i$ offers a **key**
# $k_i$ and a **value** $v_i$, one vector of $d_{head}$ numbers per head. Module 12 computes
# them as `split_heads(k_proj(x))` and `split_heads(v_proj(x))`, arrays of shape
# `(B, H, T, d_head)`. The cache keeps both, for every layer, for every position seen so far.
#
# **Preallocate.** The cache could grow by one row per step with `np.concatenate`, but then
# every step copies the whole cache into a new array: $O(T)$ work per step, $O(T^2)$ for a
# generation, exactly the cost we are removing. Instead, allocate the largest cache once, one
# array of zeros `(B, H, max_seq_len, d_head)` per layer for the keys and one for the
# values, and keep a count of the rows in use, `length`, the same for every layer.
#
# ```
#   keys[layer]  (B, H, max_seq_len, d_head)            length = 5
#   rows:  0   1   2   3   4 │ 5   6   7 ...  max_seq_len - 1
#          k0  k1  k2  k3  k4│ 0   0   0 ...  0
#          ───── filled ─────┘ ─────── empty, never read ───────
#
#   update(layer, k, v), k and v (B, H, t, d_head):
#       write k at rows length .. length + t - 1          (keys[layer][:, :, 5:5 + t] = k)
#       return rows 0 .. length + t - 1, the past and the new (keys[layer][:, :, :5 + t])
#   advance(t), once every layer has written its t rows:   length = length + t
# ```
#
# Why are `update` and `advance` separate? A GPT step runs through $L$ layers, and every
# layer writes its own keys at the **same** rows: layer 0's new keys at rows 5 .. 5 + t - 1,
# then layer 1's at the same rows of its own array, and so on. Only when the last layer has
# written are those rows filled; then the model calls `advance(t)` once. (If `update` moved
# `length`, layer 1 would write at rows 5 + t onward, and every layer would disagree about
# where position 5 is.)
#
# **Read views, not copies.** `keys[layer][:, :, :start + t]` is a view (Module 01): no
# copying. Return exactly the rows in use: the row at `start + t` is empty (zeros), and an
# attention layer that read it would give a key of zeros a share of the weights.
#
# **A full cache says so.** A cache holds `max_seq_len` positions. Writing past the end
# must raise `CacheOverflowError` with a message that says what happened, **before** anything
# is written, so that a failed write leaves the cache as it was. (NumPy would raise an error
# of its own, "could not broadcast input array from shape ...", which says nothing about a
# cache.)
#
# **Reset.** `reset()` empties the cache for a new sequence: `length = 0`. No need to zero
# the arrays: rows at or past `length` are never read, and the next writes overwrite them.
#
# Contract of `KVCache(num_layers, batch_size, num_heads, max_seq_len, head_dim,
# dtype=np.float32)`:
#
# - stores the five sizes under those names and `dtype` as `np.dtype(dtype)`; creates
#   `keys` and `values`, two lists of `num_layers` arrays of zeros, each of its own, shape
#   `(batch_size, num_heads, max_seq_len, head_dim)` and dtype `dtype`; `length = 0`;
# - `update(layer, k, v)`: `k` and `v` NumPy arrays `(B, H, t, head_dim)` (checked by the
#   given line); raises `CacheOverflowError` when `length + t > max_seq_len`, before
#   writing; otherwise writes `k` and `v` into rows `length .. length + t - 1` of
#   `keys[layer]` and `values[layer]` and returns `(keys, values)`, the views of rows
#   `0 .. length + t - 1`, shape `(B, H, length + t, head_dim)`; `length` does not change;
# - `advance(t)`: `length += t`; `reset()`: `length = 0`;
# - given: `KVCache.for_model(model, batch_size, max_seq_len=None)` makes the cache of a
#   GPT (`max_seq_len` defaults to the model's), and `nbytes` is the bytes of all arrays.


# %% kind="solution" id="kv_cache" export=true
class KVCache:
    """Keys and values of every layer of a GPT, preallocated.

    Attributes:
        num_layers, batch_size, num_heads, max_seq_len, head_dim: the sizes given.
        dtype: np.dtype of the arrays.
        keys, values: lists of num_layers arrays (batch_size, num_heads, max_seq_len,
            head_dim); rows 0 .. length - 1 hold the positions seen so far.
        length: the number of positions filled, the same in every layer.
    """

    def __init__(
        self,
        num_layers: int,
        batch_size: int,
        num_heads: int,
        max_seq_len: int,
        head_dim: int,
        dtype=np.float32,
    ):
        """Store the sizes; allocate zeros for every layer's keys and values; length 0.

        Hint: one shape tuple; a list comprehension makes num_layers separate arrays
        ([np.zeros(...)] * num_layers would make one array listed num_layers times).
        """
        # Task kv_cache: store the sizes and the dtype; allocate keys and values; length 0.
        ### BEGIN SOLUTION
        self.num_layers, self.batch_size, self.num_heads = num_layers, batch_size, num_heads
        self.max_seq_len, self.head_dim = max_seq_len, head_dim
        self.dtype = np.dtype(dtype)
        shape = (batch_size, num_heads, max_seq_len, head_dim)
        self.keys = [np.zeros(shape, dtype=self.dtype) for _ in range(num_layers)]
        self.values = [np.zeros(shape, dtype=self.dtype) for _ in range(num_layers)]
        self.length = 0
        ### END SOLUTION

    @classmethod
    def for_model(cls, model, batch_size: int, max_seq_len: int | None = None) -> "KVCache":
        """The cache of a GPT: one layer per block, its heads and head width, max_seq_len
        positions (the model's by default)."""
        if max_seq_len is None:
            max_seq_len = model.max_seq_len
        head_dim = model.d_model // model.num_heads
        return cls(len(model.blocks), batch_size, model.num_heads, max_seq_len, head_dim)

    def update(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write the keys and values of t new positions; return those of every position.

        Args:
            layer: which layer's arrays, 0 .. num_layers - 1.
            k, v: NumPy arrays (B, H, t, head_dim): the new positions' keys and values.

        Returns:
            (keys, values): views of rows 0 .. length + t - 1 of this layer's arrays, shape
            (B, H, length + t, head_dim). length is not changed (see advance).

        Raises:
            CacheOverflowError: when length + t > max_seq_len, before anything is written.
        """
        _check_kv(self, layer, k, v)
        # Task kv_cache: check the room; write rows length .. length + t - 1; return the views.
        ### BEGIN SOLUTION
        start = self.length
        t = k.shape[2]
        if start + t > self.max_seq_len:
            raise CacheOverflowError(
                f"KVCache is full: it holds {self.max_seq_len} positions, {start} are filled, "
                f"and {t} more do not fit; reset() it, or make a larger cache"
            )
        self.keys[layer][:, :, start : start + t] = k
        self.values[layer][:, :, start : start + t] = v
        return self.keys[layer][:, :, : start + t], self.values[layer][:, :, : start + t]
        ### END SOLUTION

    def advance(self, t: int) -> None:
        """Count the t positions every layer has just written as filled: length += t."""
        # Task kv_cache: move length on by t.
        ### BEGIN SOLUTION
        self.length += t
        ### END SOLUTION

    def reset(self) -> None:
        """Empty the cache for a new sequence (length 0; the arrays are kept)."""
        # Task kv_cache: no position is filled any more.
        ### BEGIN SOLUTION
        self.length = 0
        ### END SOLUTION

    @property
    def nbytes(self) -> int:
        """Bytes of all the arrays of the cache (keys and values of every layer)."""
        return sum(a.nbytes for a in self.keys + self.values)

    def __repr__(self) -> str:
        return (
            f"KVCache(num_layers={self.num_layers}, batch_size={self.batch_size}, "
            f"num_heads={self.num_heads}, max_seq_len={self.max_seq_len}, "
            f"head_dim={self.head_dim}, length={self.length})"
        )


# %% [markdown]
# ### Test `kv_cache`

# %% kind="test" id="test_kv_cache" points=5
cache = KVCache(2, 3, 4, 10, 5)
sizes = ("num_layers", "batch_size", "num_heads", "max_seq_len", "head_dim")
got = tuple(getattr(cache, name, None) for name in sizes)
assert got == (2, 3, 4, 10, 5), (
    f"KVCache(2, 3, 4, 10, 5) should store {sizes} = (2, 3, 4, 10, 5), got {got}."
)
assert getattr(cache, "length", None) == 0, "A new cache should have length 0: nothing is filled."
for name in ("keys", "values"):
    arrays = getattr(cache, name, None)
    assert isinstance(arrays, list) and len(arrays) == 2, (
        f"KVCache(2, ...).{name} should be a list of 2 arrays (one per layer), got {arrays!r:.80}."
    )
    for a in arrays:
        assert_array(
            a,
            np.zeros((3, 4, 10, 5)),
            f"KVCache(2, 3, 4, 10, 5).{name}[layer]: zeros (B, H, T, d_head)",
        )
        assert a.dtype == np.float32, f"The cache's arrays should be float32, got {a.dtype}."
assert cache.keys[0] is not cache.keys[1] and cache.keys[0] is not cache.values[0], (
    "Every layer needs arrays of its own, for keys and for values: make each with its own "
    "np.zeros(...), not [np.zeros(...)] * num_layers."
)

rng = np.random.default_rng(14)
k, v = rng.standard_normal((2, 3, 4, 3, 5)).astype(np.float32)  # t = 3 new positions
keys, values = cache.update(0, k, v)
assert_array(keys, k, "update(0, k, v) on an empty cache returns the keys of rows 0 .. 2")
assert_array(values, v, "update(0, k, v) on an empty cache returns the values of rows 0 .. 2")
assert np.array_equal(cache.keys[0][:, :, :3], k) and np.array_equal(
    cache.values[0][:, :, :3], v
), "update(0, k, v) should write k into cache.keys[0][:, :, 0:3] and v into cache.values[0]."
assert not cache.keys[0][:, :, 3:].any() and not cache.keys[1].any(), (
    "update(0, k, v) with t = 3 should write rows 0 .. 2 of layer 0 only."
)
assert cache.length == 0, (
    f"update should not change length (got {cache.length}): every layer writes the same rows, "
    "and advance(t) counts them once all layers have."
)
cache.update(1, 2 * k, 2 * v)
cache.advance(3)
assert cache.length == 3, f"advance(3) on an empty cache should give length 3, got {cache.length}."

k1, v1 = rng.standard_normal((2, 3, 4, 1, 5)).astype(np.float32)  # one more position
keys, values = cache.update(0, k1, v1)
assert_array(
    keys,
    np.concatenate([k, k1], axis=2),
    "update(0, k1, v1) at length 3: rows 0 .. 3, the three cached positions and the new one",
)
assert_array(values, np.concatenate([v, v1], axis=2), "update(0, k1, v1) at length 3: the values")
assert np.shares_memory(keys, cache.keys[0]), (
    "update should return views of the cache's arrays (cache.keys[layer][:, :, :n]), not copies."
)

cache.advance(6)  # length 9 of 10
err = raised(lambda: cache.update(0, k[:, :, :2], v[:, :, :2]))
assert isinstance(err, CacheOverflowError), (
    f"At length 9 of max_seq_len 10, writing 2 positions should raise CacheOverflowError, got "
    f"{type(err).__name__ if err else 'no error'}."
)
assert not cache.keys[0][:, :, 9].any(), "A write that does not fit should change nothing."
keys, _ = cache.update(0, k1, v1)
assert keys.shape == (3, 4, 10, 5), (
    f"At length 9 of 10, one position still fits: update should return rows 0 .. 9, got "
    f"shape {keys.shape}."
)
cache.reset()
assert cache.length == 0, f"reset() should set length to 0, got {cache.length}."
keys, _ = cache.update(1, k1, v1)
assert_array(keys, k1, "after reset(), update writes at row 0 again and returns that row only")

### BEGIN HIDDEN TESTS
# hidden: the sizes, the dtype and separate arrays of zeros for other shapes
rng = np.random.default_rng(1401)
for layers, b, h, t_max, hd, dtype in ((3, 1, 2, 7, 4, np.float32), (1, 2, 3, 5, 6, np.float64)):
    c = KVCache(layers, b, h, t_max, hd, dtype=dtype)
    got = (c.num_layers, c.batch_size, c.num_heads, c.max_seq_len, c.head_dim)
    assert got == (layers, b, h, t_max, hd), "the five sizes are stored under their names"
    assert c.dtype == np.dtype(dtype), "dtype is stored as a np.dtype"
    assert c.length == 0, "a new cache is empty"
    for arrays in (c.keys, c.values):
        assert isinstance(arrays, list) and len(arrays) == layers, "one array per layer"
        for a in arrays:
            assert type(a) is np.ndarray and a.dtype == np.dtype(dtype), "arrays of the dtype"
            assert check_equal(a, np.zeros((b, h, t_max, hd))), "zeros (B, H, max_seq_len, d_head)"
    ids = {id(a) for a in c.keys + c.values}
    assert len(ids) == 2 * layers, "every layer has arrays of its own for keys and values"
# hidden: writes land at rows length .. length + t - 1 of the given layer only
c = KVCache(3, 2, 3, 9, 4)
before = [a for a in c.keys + c.values]
full_k = rng.standard_normal((3, 2, 3, 9, 4)).astype(np.float32)
full_v = rng.standard_normal((3, 2, 3, 9, 4)).astype(np.float32)
start = 0
for t in (2, 1, 3, 1):
    for layer in (2, 0, 1):
        keys, values = c.update(
            layer, full_k[layer][:, :, start : start + t], full_v[layer][:, :, start : start + t]
        )
        assert keys.shape == (2, 3, start + t, 4), "update returns rows 0 .. length + t - 1"
        assert check_equal(keys, full_k[layer][:, :, : start + t]), "the past keys and the new"
        assert check_equal(values, full_v[layer][:, :, : start + t]), "the past values and the new"
        assert np.shares_memory(keys, c.keys[layer]), "update returns views of the cache"
        assert np.shares_memory(values, c.values[layer]), "update returns views of the cache"
        assert c.length == start, "update does not change length"
    c.advance(t)
    start += t
    assert c.length == start, "advance(t) adds t to length"
    for layer in range(3):
        assert check_equal(c.keys[layer][:, :, :start], full_k[layer][:, :, :start]), (
            "each layer's keys hold every position written"
        )
        assert check_equal(c.values[layer][:, :, :start], full_v[layer][:, :, :start]), (
            "each layer's values hold every position written"
        )
        assert not c.keys[layer][:, :, start:].any(), "rows at or past length stay empty"
assert all(a is b for a, b in zip(c.keys + c.values, before, strict=True)), (
    "the arrays are preallocated: updates write into them, never replace them"
)
# hidden: the first position (row 0) is cached like every other
c = KVCache(1, 1, 2, 4, 3)
first = rng.standard_normal((1, 2, 1, 3)).astype(np.float32)
c.update(0, first, -first)
c.advance(1)
keys, values = c.update(0, 2 * first, 3 * first)
assert check_equal(keys[:, :, 0], first[:, :, 0]), "row 0 holds the first position's key"
assert check_equal(values[:, :, 0], -first[:, :, 0]), "row 0 holds the first position's value"
# hidden: a write that does not fit raises CacheOverflowError and changes nothing
for t_max, filled, t in ((5, 4, 2), (3, 0, 4), (6, 6, 1)):
    c = KVCache(2, 1, 2, t_max, 3)
    c.advance(filled)
    snapshot = [a.copy() for a in c.keys + c.values]
    k = np.ones((1, 2, t, 3), np.float32)
    err = raised(lambda c=c, k=k: c.update(1, k, k))
    assert isinstance(err, CacheOverflowError), "a write past max_seq_len raises CacheOverflowError"
    assert c.length == filled, "a failed write leaves length as it was"
    assert all(check_equal(a, s) for a, s in zip(c.keys + c.values, snapshot, strict=True)), (
        "a failed write leaves the arrays as they were"
    )
# hidden: a write that exactly fills the cache works
c = KVCache(1, 2, 1, 4, 2)
c.advance(2)
k = rng.standard_normal((2, 1, 2, 2)).astype(np.float32)
keys, values = c.update(0, k, -k)
assert keys.shape == (2, 1, 4, 2) and check_equal(keys[:, :, 2:], k), "the last rows can be filled"
assert check_equal(values[:, :, 2:], -k), "the last rows can be filled"
# hidden: reset empties the cache for a new sequence, keeping the arrays
c.advance(2)
kept = c.keys[0]
c.reset()
assert c.length == 0, "reset sets length to 0"
assert c.keys[0] is kept, "reset keeps the preallocated arrays"
k = rng.standard_normal((2, 1, 3, 2)).astype(np.float32)
keys, _ = c.update(0, k, k)
assert keys.shape == (2, 1, 3, 2) and check_equal(keys, k), "after reset, writes start at row 0"
c.advance(3)
c.reset()
c.advance(1)
assert c.length == 1, "advance after reset counts from 0"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `cache_bytes`: what the cache costs in memory (2 points)
#
# The cache trades memory for time, so know its size before you allocate it. Per layer it
# holds keys **and** values (the 2), for $B$ sequences, $H$ heads, $T$ positions, and
# $d_{head}$ numbers each, of `itemsize` bytes (4 for float32, 2 for float16):
#
# $$\text{bytes} = 2 \cdot L \cdot B \cdot H \cdot T \cdot d_{head} \cdot \text{itemsize}
#   = 2 \cdot L \cdot B \cdot T \cdot d_{model} \cdot \text{itemsize},$$
#
# since $H \cdot d_{head} = d_{model}$. It grows linearly with everything, and in particular
# with the context $T$ and the batch $B$, which is what limits how many users a server can
# keep in flight. For GPT-2 small ($L = 12$, $H = 12$, $d_{head} = 64$) at its full context
# of 1024 tokens in float16, one sequence needs
# $2 \cdot 12 \cdot 1 \cdot 12 \cdot 1024 \cdot 64 \cdot 2 = 37{,}748{,}736$ bytes, 36 MiB.
#
# Contract of `kv_cache_bytes(num_layers, batch_size, num_heads, length, head_dim,
# itemsize=4)`: the bytes of a cache of those sizes, a Python `int`. A `KVCache` of the same
# sizes has exactly this `nbytes`.


# %% kind="solution" id="cache_bytes" export=true
def kv_cache_bytes(
    num_layers: int,
    batch_size: int,
    num_heads: int,
    length: int,
    head_dim: int,
    itemsize: int = 4,
) -> int:
    """Bytes of the keys and values of num_layers layers: 2 L B H T d_head itemsize."""
    # Task cache_bytes: keys and values, of every layer, sequence, head, position and feature.
    ### BEGIN SOLUTION
    return int(2 * num_layers * batch_size * num_heads * length * head_dim * itemsize)
    ### END SOLUTION


# %% [markdown]
# ### Test `cache_bytes`

# %% kind="test" id="test_cache_bytes" points=2
got = kv_cache_bytes(2, 3, 4, 10, 5)
assert type(got) is int, f"kv_cache_bytes should return a Python int, got {type(got).__name__}."
assert got == 9600, (
    f"kv_cache_bytes(2, 3, 4, 10, 5) should be 2 x 2 layers x 3 x 4 heads x 10 x 5 x 4 bytes "
    f"= 9600, got {got}."
)
assert got == KVCache(2, 3, 4, 10, 5).nbytes, (
    "kv_cache_bytes should equal the nbytes of a KVCache of the same sizes."
)
got = kv_cache_bytes(12, 1, 12, 1024, 64, itemsize=2)
assert got == 37_748_736, (
    f"GPT-2 small's cache at 1024 tokens in float16 (itemsize 2) is 37,748,736 bytes, got {got}."
)

### BEGIN HIDDEN TESTS
# hidden: the formula 2 L B H T d_head itemsize matches the arrays of a real cache
for layers, b, h, t_max, hd, dtype in ((3, 2, 5, 7, 6, np.float32), (1, 4, 1, 9, 2, np.float64)):
    c = KVCache(layers, b, h, t_max, hd, dtype=dtype)
    got = kv_cache_bytes(layers, b, h, t_max, hd, itemsize=np.dtype(dtype).itemsize)
    assert type(got) is int, "the bytes are a Python int"
    assert got == c.nbytes, "the formula gives the bytes of a KVCache of those sizes"
    assert got == 2 * layers * b * h * t_max * hd * np.dtype(dtype).itemsize, (
        "2 L B H T d_head itemsize"
    )
# hidden: every size counts once, linearly; itemsize defaults to 4 (float32)
base = (3, 2, 5, 7, 6)
for i in range(5):
    doubled = list(base)
    doubled[i] *= 2
    assert kv_cache_bytes(*doubled) == 2 * kv_cache_bytes(*base), "linear in each size"
assert kv_cache_bytes(*base) == 2 * 3 * 2 * 5 * 7 * 6 * 4, "itemsize defaults to 4 bytes"
assert kv_cache_bytes(*base, itemsize=1) * 4 == kv_cache_bytes(*base), "linear in itemsize"
assert kv_cache_bytes(32, 1, 32, 4096, 128, 2) == 2 * 1024**3, "Llama-2 7B at 4096 tokens: 2 GiB"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `cached_attention`: one attention layer, fed from the cache (4 points)
#
# Now the cache does its job. Module 12's `MultiHeadAttention.forward` projects the input
# $x$ `(B, T, d)` to queries, keys and values, splits them into heads, and lets every query
# attend to every key the mask allows. With a cache, the input holds only the $t$ **new**
# positions (one at a time while generating, the whole prompt at first), and the keys and
# values of the $s$ = `cache.length` earlier positions are already in the cache:
#
# 1. project the new positions: $q, k, v$ = `split_heads(attn.q_proj(x), H)`, ..., each
#    `(B, H, t, d_head)`;
# 2. hand $k$ and $v$ (as NumPy arrays, `.data`) to `cache.update(layer, ...)`, which writes
#    them at rows $s \dots s + t - 1$ and returns the keys and values of all $s + t$
#    positions, `(B, H, s + t, d_head)`;
# 3. attend: `scaled_dot_product_attention(q, Tensor(keys), Tensor(values), mask)`, then
#    `merge_heads` and `attn.out_proj`, exactly as Module 12 does.
#
# **The offset causal mask.** The $t$ queries are the positions $s \dots s + t - 1$; the
# keys are positions $0 \dots s + t - 1$. Query $i$ (position $s + i$) may read the keys of
# positions $0 \dots s + i$: the new positions see the whole past, and each other new
# position up to itself. That is Module 12's `causal_mask(t, s + t)`: the last $t$ rows of
# the $(s + t) \times (s + t)$ causal mask.
#
# ```
#   prefill, s = 0, t = 3:         one new token, s = 3, t = 1:      chunk, s = 2, t = 2:
#   causal_mask(3, 3)              causal_mask(1, 4)                 causal_mask(2, 4)
#        k0 k1 k2                       k0 k1 k2 k3                       k0 k1 k2 k3
#   q0 [  1  0  0 ]                q3 [  1  1  1  1 ]                q2 [  1  1  1  0 ]
#   q1 [  1  1  0 ]                                                   q3 [  1  1  1  1 ]
#   q2 [  1  1  1 ]
# ```
#
# The first case is the **prefill**: a prompt of $t$ tokens goes through in one call, as in
# the uncached model, and fills rows $0 \dots t - 1$. The second is a generation step: one
# query, which reads everything, including its own key (forget it and the token cannot see
# itself: the "current token dropped" bug). The third is a prompt fed in pieces; the same
# one line handles all three.
#
# `cached_attention` writes, but does not `advance` the cache: the model does that once
# every layer has written (next task). So `cache.length` is $s$ throughout the call.
#
# Contract of `cached_attention(attn, x, cache, layer)`:
#
# - `attn` a `MultiHeadAttention` (Module 12: `num_heads`, `q_proj`, `k_proj`, `v_proj`,
#   `out_proj`), `x` a Tensor `(B, t, d_model)` of the new positions, `cache` a `KVCache`
#   holding `cache.length` earlier positions, `layer` the index of this layer's arrays;
# - writes the new keys and values into the cache (through `cache.update`), does not change
#   `cache.length`;
# - returns a Tensor `(B, t, d_model)`: for every new position, what `attn` would output for
#   it if run on the whole sequence with `causal_mask`;
# - raises `CacheOverflowError` (from `update`) when the new positions do not fit.


# %% kind="solution" id="cached_attention" export=true
def cached_attention(attn, x: Tensor, cache: KVCache, layer: int) -> Tensor:
    """Multi-head attention of the new positions x (B, t, d_model) over the cached ones too.

    Args:
        attn: a MultiHeadAttention (its projections and num_heads are used).
        x: Tensor (B, t, d_model), the t new positions (the positions cache.length ..
            cache.length + t - 1 of the sequence).
        cache: a KVCache; layer: this layer's index in it.

    Returns:
        Tensor (B, t, d_model), attention under causal_mask(t, cache.length + t).

    Hint: read s = cache.length before anything else; t = x.shape[1].
    """
    # Task cached_attention: project and split; write k, v to the cache; attend; merge; project.
    ### BEGIN SOLUTION
    start, t = cache.length, x.shape[1]
    q = split_heads(attn.q_proj(x), attn.num_heads)  # (B, H, t, d_head)
    k = split_heads(attn.k_proj(x), attn.num_heads)  # (B, H, t, d_head)
    v = split_heads(attn.v_proj(x), attn.num_heads)  # (B, H, t, d_head)
    keys, values = cache.update(layer, k.data, v.data)  # (B, H, start + t, d_head) each
    mask = causal_mask(t, start + t)  # new position start + i reads keys 0 .. start + i
    heads, _ = scaled_dot_product_attention(q, Tensor(keys), Tensor(values), mask)
    return attn.out_proj(merge_heads(heads))  # (B, t, d_model)
    ### END SOLUTION


# %% [markdown]
# ### Test `cached_attention`

# %% kind="test" id="test_cached_attention" points=4
rng = np.random.default_rng(14)
attn = MultiHeadAttention(8, 2, rng=0)
x64 = rng.standard_normal((2, 5, 8))
with no_grad():
    full = attn(Tensor(x64), causal_mask(5)).data  # (2, 5, 8): the uncached answer
    keys_full = split_heads(attn.k_proj(Tensor(x64)), 2).data
    values_full = split_heads(attn.v_proj(Tensor(x64)), 2).data

cache = KVCache(1, 2, 2, 6, 4)
with no_grad():
    out = cached_attention(attn, Tensor(x64), cache, 0)  # prefill: all 5 positions at once
assert_tensor(
    out,
    full,
    "cached_attention(attn, x (2, 5, 8), empty cache, 0): the prefill should equal "
    "attn(x, causal_mask(5))",
    atol=1e-5,
)
assert cache.length == 0, (
    f"cached_attention should not change cache.length (got {cache.length}): the model "
    "advances the cache once every layer has written."
)
assert np.allclose(cache.keys[0][:, :, :5], keys_full, atol=1e-6), (
    "After the prefill, cache.keys[0][:, :, :5] should hold split_heads(attn.k_proj(x)): "
    "write k.data through cache.update."
)
assert np.allclose(cache.values[0][:, :, :5], values_full, atol=1e-6), (
    "After the prefill, cache.values[0][:, :, :5] should hold split_heads(attn.v_proj(x))."
)

cache = KVCache(1, 2, 2, 6, 4)
with no_grad():
    for i in range(5):  # one position at a time, as generation feeds them
        out = cached_attention(attn, Tensor(x64[:, i : i + 1]), cache, 0)
        assert_tensor(
            out,
            full[:, i : i + 1],
            f"cached_attention of position {i} alone, with positions 0 .. {i - 1} cached: "
            f"the query reads keys 0 .. {i} (its own included), causal_mask(1, {i + 1})",
            atol=1e-5,
        )
        cache.advance(1)

cache = KVCache(1, 2, 2, 6, 4)
with no_grad():
    cached_attention(attn, Tensor(x64[:, :2]), cache, 0)
    cache.advance(2)
    out = cached_attention(attn, Tensor(x64[:, 2:]), cache, 0)  # 3 new positions after 2
assert_tensor(
    out,
    full[:, 2:],
    "positions 2 .. 4 fed together after positions 0 and 1: the offset causal mask "
    "causal_mask(3, 5)",
    atol=1e-5,
)

### BEGIN HIDDEN TESTS
# hidden: any split of the sequence into chunks gives the uncached attention, for other sizes
rng = np.random.default_rng(1402)
for d, h, b, chunks in (
    (12, 3, 3, (1, 1, 2, 3)),
    (8, 4, 1, (4, 1, 2)),
    (6, 1, 2, (2, 5)),
    (8, 2, 2, (7,)),
):
    layer_attn = MultiHeadAttention(d, h, rng=int(rng.integers(1000)))
    total = sum(chunks)
    a = rng.standard_normal((b, total, d))
    with no_grad():
        expected = layer_attn(Tensor(a), causal_mask(total)).data
    c = KVCache(2, b, h, total + 2, d // h)
    start = 0
    with no_grad():
        for t in chunks:
            got = cached_attention(layer_attn, Tensor(a[:, start : start + t]), c, 1)
            assert isinstance(got, Tensor) and got.data.dtype == np.float32, (
                "returns a float32 Tensor"
            )
            assert got.shape == (b, t, d), "returns (B, t, d_model)"
            assert check_close(got.data, expected[:, start : start + t], rtol=1e-5, atol=1e-5), (
                "each new position attends to every earlier position and to itself"
            )
            assert c.length == start, "cached_attention does not advance the cache"
            c.advance(t)
            start += t
    with no_grad():
        k_all = split_heads(layer_attn.k_proj(Tensor(a)), h).data
        v_all = split_heads(layer_attn.v_proj(Tensor(a)), h).data
    assert check_close(c.keys[1][:, :, :total], k_all, atol=1e-6), "the cache holds every key"
    assert check_close(c.values[1][:, :, :total], v_all, atol=1e-6), "the cache holds every value"
    assert not c.keys[0].any() and not c.values[0].any(), "only the given layer is written"
# hidden: rows past the new positions are never read
layer_attn = MultiHeadAttention(8, 2, rng=5)
a = rng.standard_normal((2, 4, 8))
with no_grad():
    expected = layer_attn(Tensor(a), causal_mask(4)).data
c = KVCache(1, 2, 2, 9, 4)
for arrays in (c.keys, c.values):
    arrays[0][...] = 1e3  # garbage in every empty row
with no_grad():
    cached_attention(layer_attn, Tensor(a[:, :3]), c, 0)
    c.advance(3)
    got = cached_attention(layer_attn, Tensor(a[:, 3:]), c, 0)
assert check_close(got.data, expected[:, 3:], rtol=1e-5, atol=1e-5), "empty rows are never read"
# hidden: the first position (prompt of length 1) and the values, not only the keys, are used
layer_attn = MultiHeadAttention(4, 2, rng=6)
a = rng.standard_normal((2, 3, 4))
with no_grad():
    expected = layer_attn(Tensor(a), causal_mask(3)).data
c = KVCache(1, 2, 2, 3, 2)
with no_grad():
    for i in range(3):
        got = cached_attention(layer_attn, Tensor(a[:, i : i + 1]), c, 0)
        assert check_close(got.data, expected[:, i : i + 1], rtol=1e-5, atol=1e-5), (
            "a prompt of length 1, then one position at a time"
        )
        c.advance(1)
# hidden: a chunk that does not fit raises CacheOverflowError
c = KVCache(1, 2, 2, 3, 2)
c.advance(2)
err = raised(lambda: cached_attention(layer_attn, Tensor(a[:, :2]), c, 0))
assert isinstance(err, CacheOverflowError), (
    "new positions past max_seq_len raise CacheOverflowError"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `cached_forward`: the whole GPT on the new tokens (4 points)
#
# One step of the cached model is Module 13's `GPT.forward` with three changes.
#
# 1. **Positions offset by the cache.** The new tokens are the positions
#    $s \dots s + t - 1$ of the sequence, $s$ = `cache.length`: embed them with
#    `model.embed(ids, start=s)`, the seam Module 13 left for this. Embedded at positions
#    $0 \dots t - 1$ instead, every generated token would believe it is the first word of
#    the text (the "every cached token at position 0" bug); the logits of the first step
#    would still be right, and every later one wrong.
# 2. **Cached blocks.** Each block is pre-norm, $x + \mathrm{attn}(\mathrm{ln}_1(x))$, then
#    $x + \mathrm{mlp}(\mathrm{ln}_2(x))$; replace its attention by `cached_attention` with
#    the block's own layer index (block $i$ uses `cache.keys[i]`), keep everything else.
#    The MLP and the LayerNorms work on each position alone, so they need no cache.
# 3. **Logits of the last position only.** Generation needs one row of logits, the last
#    position's. The final LayerNorm and the head, a $(d \times V)$ product per position,
#    run on `x[:, -1]` only: `model.head(model.ln_f(x[:, -1]))`, `(B, V)`. (For a prefill of
#    $t$ tokens that saves $t - 1$ rows of the largest matrix product of a model with a large
#    vocabulary.)
#
# When every block has written its keys and values, `cache.advance(t)`: the $t$ positions
# are filled, and the next call starts at $s + t$.
#
# ```
#   ids (B, t) ── embed(ids, start=s) ──> x (B, t, d)
#                                        block i:  x = x + cached_attention(attn, ln1(x), cache, i)
#                                                  x = x + mlp(ln2(x))
#   cache.advance(t)
#   x[:, -1] (B, d) ── ln_f, head ──> logits (B, V)
# ```
#
# Called on an empty cache with the whole prompt, this is the prefill; then with one token
# at a time, each step costs the same whatever the position, apart from the attention's
# reads of the cache, which grow with $s$.
#
# Contract of `cached_forward(model, ids, cache)`:
#
# - `model` a `GPT` (Module 13), `ids` the new tokens `(B, t)` (checked by the given lines,
#   which make them an int64 array and check that the cache fits the model and the batch),
#   `cache` a `KVCache` holding the first `cache.length` positions of every sequence;
# - returns the logits of the last new position, a float32 Tensor `(B, vocab_size)`: equal
#   (to float32 rounding) to `model(whole sequence so far)` at its last position;
# - leaves the keys and values of the new positions in every layer's rows
#   `s .. s + t - 1`, and `cache.length = s + t`;
# - raises `ValueError` (from `embed`) for positions past the model's `max_seq_len` and
#   `CacheOverflowError` (from the cache) past the cache's, with nothing written.


# %% kind="solution" id="cached_forward" export=true
def cached_forward(model, ids, cache: KVCache) -> Tensor:
    """Run a GPT on the new tokens ids (B, t), the cache holding the earlier positions.

    Returns:
        Tensor (B, vocab_size): the logits of the last new position.

    Every block i: x = x + cached_attention(block.attn, block.ln1(x), cache, i), then
    x = x + block.mlp(block.ln2(x)); then cache.advance(t).

    Hint: enumerate(model.blocks) gives each block with its layer index.
    """
    ids = _check_ids(ids, model.vocab_size, "cached_forward")  # int64 (B, t)
    _check_cache(model, cache, ids.shape[0])
    # Task cached_forward: embed at the cached offset; cached blocks; advance; last logits.
    ### BEGIN SOLUTION
    x = model.embed(ids, cache.length)  # (B, t, d): positions length .. length + t - 1
    for layer, block in enumerate(model.blocks):
        x = x + cached_attention(block.attn, block.ln1(x), cache, layer)  # (B, t, d)
        x = x + block.mlp(block.ln2(x))  # (B, t, d)
    cache.advance(ids.shape[1])
    return model.head(model.ln_f(x[:, -1]))  # (B, V): the last position only
    ### END SOLUTION


# %% [markdown]
# ### Test `cached_forward`

# %% kind="test" id="test_cached_forward" points=4
model = randomise(GPT(11, 8, 2, 2, 8, rng=0), 1)
ids = np.array([[1, 5, 2, 9, 3, 7], [0, 10, 4, 4, 7, 2]])
cache = KVCache.for_model(model, 2)
with no_grad():
    logits = cached_forward(model, ids[:, :3], cache)  # prefill: a prompt of 3 tokens
assert_tensor(
    logits,
    last_logits(model, ids[:, :3]),
    "cached_forward(model, prompt (2, 3), empty cache): the prefill should give the logits "
    "of the prompt's last position, model(prompt)[:, -1]",
    atol=1e-5,
)
assert cache.length == 3, (
    f"After a prefill of 3 tokens cache.length should be 3, got {cache.length}: call "
    "cache.advance(t) once, after every block."
)
for step in range(3, 6):
    with no_grad():
        logits = cached_forward(model, ids[:, step : step + 1], cache)  # one new token
    assert_tensor(
        logits,
        last_logits(model, ids[:, : step + 1]),
        f"cached_forward of the token at position {step} alone, positions 0 .. {step - 1} "
        f"cached: should equal model(ids[:, :{step + 1}])[:, -1]. Embed at start=cache.length",
        atol=1e-5,
    )
assert cache.length == 6, (
    f"After 3 + 1 + 1 + 1 tokens cache.length should be 6, got {cache.length}."
)
for layer, (k, v) in enumerate(stream_kv(model, ids)):
    assert np.allclose(cache.keys[layer][:, :, :6], k, atol=1e-5), (
        f"cache.keys[{layer}] should hold the keys block {layer} computes for positions 0 .. 5; "
        "pass each block its own layer index."
    )
    assert np.allclose(cache.values[layer][:, :, :6], v, atol=1e-5), (
        f"cache.values[{layer}] should hold the values of block {layer} for positions 0 .. 5."
    )
small = KVCache.for_model(model, 2, max_seq_len=4)
with no_grad():
    cached_forward(model, ids[:, :3], small)
    err = raised(lambda: cached_forward(model, ids[:, 3:5], small))
assert isinstance(err, CacheOverflowError) and small.length == 3, (
    "Two tokens after three, in a cache of 4 positions, should raise CacheOverflowError and "
    "leave cache.length at 3."
)

### BEGIN HIDDEN TESTS
# hidden: every step agrees with the uncached model, prompts of length 1 and longer, batch 2
rng = np.random.default_rng(1403)
for v_size, d, layers, h, t_max, b, chunks in (
    (13, 8, 3, 4, 9, 2, (1, 1, 1, 1, 1, 1, 1, 1, 1)),
    (9, 6, 1, 2, 7, 2, (4, 1, 1, 1)),
    (10, 12, 2, 3, 8, 1, (2, 3, 1, 1, 1)),
    (7, 4, 2, 1, 6, 3, (6,)),
    (6, 8, 0, 2, 5, 2, (2, 1, 2)),
):
    m = randomise(GPT(v_size, d, layers, h, t_max, rng=int(rng.integers(1000))), 2)
    seq = rng.integers(0, v_size, size=(b, sum(chunks)))
    c = KVCache.for_model(m, b)
    start = 0
    for t in chunks:
        with no_grad():
            got = cached_forward(m, seq[:, start : start + t], c)
        start += t
        assert isinstance(got, Tensor) and got.data.dtype == np.float32, (
            "logits are a float32 Tensor"
        )
        assert got.shape == (b, v_size), "the logits of the last position only, (B, V)"
        assert check_close(got.data, last_logits(m, seq[:, :start]), rtol=1e-5, atol=1e-5), (
            "cached and uncached logits agree at every step"
        )
        assert c.length == start, "the cache advances by the number of new tokens"
    for layer, (k, v) in enumerate(stream_kv(m, seq)):
        assert check_close(c.keys[layer][:, :, :start], k, atol=1e-5), (
            "every layer caches the keys of every position, the first included"
        )
        assert check_close(c.values[layer][:, :, :start], v, atol=1e-5), (
            "every layer caches the values of every position, the first included"
        )
# hidden: new tokens sit at the positions after the cached ones
m = randomise(GPT(8, 8, 1, 2, 6, rng=31), 3)
seq = rng.integers(0, 8, size=(2, 6))
c = KVCache.for_model(m, 2)
calls = spy_embed(m)
with no_grad():
    cached_forward(m, seq[:, :2], c)
    cached_forward(m, seq[:, 2:3], c)
    cached_forward(m, seq[:, 3:6], c)
assert [start for _, start, _ in calls] == [0, 2, 3], "embed starts at cache.length"
assert all(check_equal(fed, seq[:, s : s + fed.shape[1]]) for fed, s, _ in calls), (
    "embed is given the new tokens only"
)
# hidden: the head sees the last position only
m = randomise(GPT(9, 8, 2, 2, 8, rng=32), 4)
seen = []
head_forward = m.head.forward
m.head.forward = lambda a: seen.append(a.shape) or head_forward(a)
c = KVCache.for_model(m, 2)
with no_grad():
    got = cached_forward(m, rng.integers(0, 9, size=(2, 5)), c)
assert len(seen) == 1 and int(np.prod(seen[0][:-1])) == 2, "ln_f and the head run on x[:, -1] only"
assert got.shape == (2, 9), "the logits of the last position only, (B, V)"
# hidden: a cache too small for the new tokens raises CacheOverflowError, writing nothing
m = GPT(7, 4, 2, 2, 8, rng=33)
seq = rng.integers(0, 7, size=(1, 6))
c = KVCache.for_model(m, 1, max_seq_len=5)
with no_grad():
    cached_forward(m, seq[:, :4], c)
    err = raised(lambda: cached_forward(m, seq[:, 4:6], c))
assert isinstance(err, CacheOverflowError) and c.length == 4, "overflow raises, the cache unchanged"
assert not c.keys[1][:, :, 4:].any(), "overflow raises before any layer writes"
with no_grad():
    got = cached_forward(m, seq[:, 4:5], c)
assert check_close(got.data, last_logits(m, seq[:, :5]), atol=1e-5), "the last position still fits"
# hidden: a reset cache serves a new sequence
m = randomise(GPT(9, 6, 2, 3, 7, rng=34), 5)
c = KVCache.for_model(m, 2)
with no_grad():
    cached_forward(m, rng.integers(0, 9, size=(2, 5)), c)
    c.reset()
    seq = rng.integers(0, 9, size=(2, 3))
    got = cached_forward(m, seq, c)
assert check_close(got.data, last_logits(m, seq), atol=1e-5), (
    "after reset, a new prompt from position 0"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `generate_cached`: Module 13's `generate`, with a cache (3 points)
#
# Generation with the cache is the same loop as Module 13's `generate`, with a different
# thing fed at each step:
#
# ```
#   step 0:  cached_forward(prompt (B, T0))   prefill: rows 0 .. T0 - 1   ──> logits ──> token T0
#   step 1:  cached_forward(token T0 (B, 1))  row T0                      ──> logits ──> token T0 + 1
#   step 2:  cached_forward(token T0 + 1)     row T0 + 1                  ──> logits ──> token T0 + 2
#   ...
# ```
#
# So: one generator, `rng = np.random.default_rng(rng)`; a fresh cache for the model and
# the batch, `KVCache.for_model(model, B)`; then, inside `no_grad()`, `max_new_tokens`
# times: feed what the cache has not seen yet (the prompt at first, then the last new
# token, `(B, 1)`), sample the next token from the logits with `sample_next_token(logits,
# temperature, top_k, rng)`, exactly as Module 13 does, and append it. The same seed then
# draws the same tokens as `GPT.generate`, because the logits are the same.
#
# The last token is sampled but never fed: generating $N$ tokens from a prompt of $T_0$ feeds
# $T_0 + N - 1$ positions, and that is what must fit the model's `max_seq_len` (checked by
# the given line). Module 13's `generate` goes on past the end by cropping the context to
# the last `max_seq_len` tokens; a cache cannot do that, because cropping moves every token
# to a new position, and every cached key was computed at its old one.
#
# Contract of `generate_cached(model, ids, max_new_tokens, temperature=1.0, top_k=None,
# rng=None)`: the arguments of `GPT.generate` with the model first; `ids` the prompts
# `(B, T0)` (the given lines make them a new int64 array and check the settings and the
# room); returns the int64 array `(B, T0 + max_new_tokens)`, the same as
# `model.generate(ids, max_new_tokens, temperature, top_k, rng)`. Each call starts a new
# cache, runs without a graph, and calls `cached_forward` once per new token: the first
# time with the whole prompt, then with the last new token only.


# %% kind="solution" id="generate_cached" export=true
def generate_cached(
    model,
    ids,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """GPT.generate with a key-value cache: the prompt once, then one token per step.

    Args:
        model: a GPT; ids: prompts (B, T0) with T0 + max_new_tokens - 1 <= max_seq_len.
        max_new_tokens, temperature, top_k, rng: as GPT.generate (one generator,
            np.random.default_rng(rng), serves every step).

    Returns:
        a new int64 array (B, T0 + max_new_tokens): the prompts, then the new tokens.

    Hint: keep a variable `fed`, what the next cached_forward gets: ids, then new[:, None].
    """
    ids = _check_ids(ids, model.vocab_size, "generate_cached")  # a new int64 (B, T0)
    _check_sampling(temperature, top_k, "generate_cached")
    _check_room(ids.shape[1], max_new_tokens, model.max_seq_len)
    # Task generate_cached: one generator, a new cache; prefill, then feed each new token.
    ### BEGIN SOLUTION
    rng = np.random.default_rng(rng)
    cache = KVCache.for_model(model, ids.shape[0])
    fed = ids  # the cache has seen nothing: the whole prompt first (prefill)
    with no_grad():  # generation needs no gradients: record no graph
        for _ in range(max_new_tokens):
            logits = cached_forward(model, fed, cache).data  # (B, V)
            new = sample_next_token(logits, temperature, top_k, rng)  # (B,)
            ids = np.concatenate([ids, new[:, None]], axis=1)  # (B, T + 1)
            fed = new[:, None]  # (B, 1): only the new token next time
    return ids
    ### END SOLUTION


# %% [markdown]
# ### Test `generate_cached`

# %% kind="test" id="test_generate_cached" points=3
model = randomise(GPT(12, 8, 2, 2, 10, rng=0), 1)
prompt = np.array([[3, 1, 4], [1, 5, 9]])
out = generate_cached(model, prompt, 5, temperature=0)
assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (2, 8), (
    f"generate_cached(model, prompt (2, 3), 5) should return an int64 array (2, 8): the "
    f"prompts and 5 new tokens each; got {type(out).__name__} {getattr(out, 'dtype', '')} "
    f"{getattr(out, 'shape', '')}."
)
expected = model.generate(prompt, 5, temperature=0)
assert np.array_equal(out, expected), (
    f"Greedy generation with the cache should give model.generate's tokens:\n{expected}\n"
    f"got:\n{out}"
)
expected = model.generate(prompt, 6, temperature=1.0, top_k=4, rng=7)
out = generate_cached(model, prompt, 6, temperature=1.0, top_k=4, rng=7)
assert np.array_equal(out, expected), (
    f"generate_cached(model, prompt, 6, temperature=1.0, top_k=4, rng=7) should give "
    f"model.generate's tokens for the same settings:\n{expected}\ngot:\n{out}\nMake one "
    "generator np.random.default_rng(rng) and pass it to sample_next_token at every step."
)

calls = spy_embed(model)
out = generate_cached(model, prompt, 4, temperature=0)
assert len(calls) == 4, (
    f"generate_cached(model, prompt, 4) should run the model 4 times (one cached_forward per "
    f"new token), got {len(calls)}."
)
fed, start, recording = calls[0]
assert np.array_equal(fed, prompt) and start == 0, (
    f"The first step should feed the whole prompt at position 0 (the prefill), got ids "
    f"{fed.tolist()} at start={start}."
)
for step, (fed, start, recording) in enumerate(calls[1:], start=1):
    assert np.array_equal(fed, out[:, 2 + step : 3 + step]) and start == 2 + step, (
        f"Step {step} should feed only the token generated last, out[:, {2 + step}] (B, 1), at "
        f"position {2 + step}; got ids {fed.tolist()} at start={start}. The cache holds the rest."
    )
assert not any(recording for _, _, recording in calls), (
    "The model ran with autograd recording a graph. Generate inside `with no_grad():`."
)

model = randomise(GPT(12, 8, 2, 2, 10, rng=0), 1)
out = generate_cached(model, prompt, 8, temperature=0)  # 3 + 8 - 1 = 10 positions: all of them
assert np.array_equal(out, model.generate(prompt, 8, temperature=0)), (
    "A prompt of 3 and 8 new tokens feeds 10 positions (the last token is never fed), which "
    "fits max_seq_len=10: generate_cached should give model.generate's tokens."
)

### BEGIN HIDDEN TESTS
# hidden: the tokens of GPT.generate for other settings, prompt lengths 1 and longer, batch sizes
rng = np.random.default_rng(1404)
model = randomise(GPT(9, 8, 2, 2, 12, rng=41), 2)
for temperature, top_k, seed, b, t0, steps in (
    (0, None, 0, 2, 1, 11),
    (0.7, None, 1, 3, 2, 7),
    (1.5, 2, 2, 1, 6, 4),
    (1.0, 9, 3, 2, 1, 5),
    (0, 3, 4, 3, 4, 9),
):
    p = rng.integers(0, 9, size=(b, t0))
    out = generate_cached(model, p, steps, temperature=temperature, top_k=top_k, rng=seed)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64, "returns an int64 array"
    assert out.shape == (b, t0 + steps), "the prompts plus max_new_tokens columns"
    assert check_equal(out, model.generate(p, steps, temperature, top_k, seed)), (
        "the same tokens as GPT.generate with the same settings and seed"
    )
    again = generate_cached(model, p, steps, temperature=temperature, top_k=top_k, rng=seed)
    assert check_equal(again, out), "each call starts with an empty cache"
# hidden: a Generator passed in is used as it is, across calls
p = rng.integers(0, 9, size=(2, 3))
g = np.random.default_rng(5)
first, second = (
    generate_cached(model, p, 4, 1.0, None, g),
    generate_cached(model, p, 4, 1.0, None, g),
)
g = np.random.default_rng(5)
assert check_equal(first, model.generate(p, 4, 1.0, None, g)), "a Generator is used as it is"
assert check_equal(second, model.generate(p, 4, 1.0, None, g)), (
    "successive calls continue its stream"
)
# hidden: a prefill, then one token per step, at offset positions, without a graph
calls = spy_embed(model)
p = rng.integers(0, 9, size=(3, 5))
out = generate_cached(model, p, 6, temperature=0.9, rng=6)
assert len(calls) == 6, "one cached step per new token"
assert check_equal(calls[0][0], p) and calls[0][1] == 0, "the first step feeds the whole prompt"
for step, (fed, start, recording) in enumerate(calls[1:], start=1):
    assert fed.shape == (3, 1) and check_equal(fed[:, 0], out[:, 4 + step]), (
        "later steps feed only the last new token"
    )
    assert start == 4 + step, "each new token sits after the ones cached"
assert not any(r for _, _, r in calls), "no graph is recorded while generating"
assert is_grad_enabled() is True, "autograd is switched back on after generate_cached"
assert all(q.grad is None for q in model.parameters()), "generate_cached leaves no gradients"
# hidden: generation may fill every position of the model, and not one more
model = randomise(GPT(9, 8, 1, 2, 6, rng=42), 3)
p = rng.integers(0, 9, size=(2, 2))
assert check_equal(
    generate_cached(model, p, 5, temperature=0), model.generate(p, 5, temperature=0)
), "a prompt and new tokens that feed exactly max_seq_len positions"
assert isinstance(raised(lambda: generate_cached(model, p, 6)), ValueError), "one more raises"
# hidden: zero new tokens give a copy of the prompt; prompts may be lists; inputs unchanged
p = rng.integers(0, 9, size=(2, 3))
kept = p.copy()
out = generate_cached(model, p, 0)
assert isinstance(out, np.ndarray) and check_equal(out, kept) and out is not p, (
    "max_new_tokens=0 returns the prompts as a new array"
)
out = generate_cached(model, p, 3, temperature=0)
assert check_equal(p, kept), "the prompt array is not modified"
assert check_equal(generate_cached(model, p.tolist(), 3, temperature=0), out), (
    "prompts may be lists"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Everything together: the cached model writes the uncached model's text
#
# The last test runs your code throughout (no reference functions swapped in): your cache,
# your cached attention and forward pass, your generation loop, against Module 13's
# uncached `generate` on models of several depths and widths, greedy and sampled, from
# prompts of one token to prompts that leave one free position.


# %% kind="test" id="test_cached_generation" points=2
model = randomise(GPT(10, 16, 3, 4, 12, rng=0), 2)
prompt = np.random.default_rng(0).integers(0, 10, size=(2, 4))
for temperature, top_k, seed in ((0, None, 0), (1.0, None, 1), (0.8, 3, 2)):
    expected = model.generate(prompt, 9, temperature=temperature, top_k=top_k, rng=seed)
    out = generate_cached(model, prompt, 9, temperature=temperature, top_k=top_k, rng=seed)
    assert np.array_equal(out, expected), (
        f"generate_cached and model.generate should write the same tokens (temperature "
        f"{temperature}, top_k {top_k}, rng={seed}):\n{expected}\ngot:\n{out}\nIf every task's "
        "test passes, look at how the parts fit together."
    )

### BEGIN HIDDEN TESTS
# hidden: the cached model writes the uncached model's tokens for other models and prompts
rng = np.random.default_rng(1405)
for v_size, d, layers, h, t_max, b, t0, temperature, top_k in (
    (8, 12, 2, 3, 10, 3, 1, 0, None),
    (11, 8, 1, 4, 9, 1, 8, 1.3, 5),
    (6, 8, 4, 2, 14, 2, 3, 0.9, None),
):
    m = randomise(GPT(v_size, d, layers, h, t_max, rng=int(rng.integers(1000))), 6)
    p = rng.integers(0, v_size, size=(b, t0))
    steps = t_max - t0 + 1
    seed = int(rng.integers(1000))
    assert check_equal(
        generate_cached(m, p, steps, temperature, top_k, seed),
        m.generate(p, steps, temperature, top_k, seed),
    ), "cached generation writes the uncached model's text"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: what the cache buys, and what it costs
#
# Nothing below is graded. The cells measure the cache you just built, on the character
# model of the milestones widened to a context of 512 ($V = 77$, $d = 64$, 2 blocks, 4
# heads); together they take about half a minute. Predict the numbers before you run them.
#
# ### Is it exact?
#
# First the claim everything rests on: the cached model is the same model. The cell feeds a
# prompt and then 200 tokens one by one, and at every step compares the cached logits with
# a full uncached forward pass of the sequence so far.

# %%
import time  # noqa: E402

model = GPT(77, 64, 2, 4, 512, rng=0)
rng = np.random.default_rng(0)
sequence = rng.integers(0, 77, size=(1, 512))
cache = KVCache.for_model(model, 1)
worst = 0.0
with no_grad():
    logits = cached_forward(model, sequence[:, :16], cache)
    worst = np.abs(logits.data - model(sequence[:, :16]).data[:, -1]).max()
    for position in range(16, 216):
        logits = cached_forward(model, sequence[:, position : position + 1], cache)
        full = model(sequence[:, : position + 1]).data[:, -1]
        worst = max(worst, np.abs(logits.data - full).max())
print(f"largest |cached - uncached| logit over 201 steps: {worst:.2e}")

# %% [markdown]
# The largest difference is a few times $10^{-7}$: float32 rounding, because the cached
# path adds the same numbers in a different order (a $(1 \times d)$ row times a matrix
# instead of a $(T \times d)$ block). Nothing else differs.
#
# ### Time per generated token, against its position
#
# A step of Module 13's `generate` at position $t$ runs the whole model on $t + 1$ tokens; a
# cached step runs it on one token and reads $t + 1$ cached keys and values. The cell times
# both at positions from 16 to 511 and prints beside them the ratio of the FLOPs
# the two do, from Module 13's count of the matrix products: per token and layer $24 d^2$
# for the projections and the MLP, and $4 T d$ for the attention scores and the weighted
# sum, so a full step at context $T$ costs $L (24 d^2 T + 4 T^2 d)$ and a cached step
# $L (24 d^2 + 4 T d)$. (The head is left out: with 77 characters it is small, and the
# uncached model's $T$ rows of logits, of which it keeps one, would only widen the gap.)
#
# **Measuring on a shared machine.** A wall clock (`time.perf_counter()`) counts every
# millisecond the operating system gives to other programs while yours waits, and a step
# of 20 ms is interrupted far more often than one of 0.5 ms: on a busy machine wall-clock
# times favour the short step. `time.process_time()` counts the CPU seconds of this process
# only, the work done, which is what the two steps cost on a machine of their own (NumPy
# runs one BLAS thread here; with several, CPU time adds up the threads). Each time below
# is the fastest of several runs after a warm-up: noise only ever adds time.


# %%
def fastest(fn, repeats: int) -> float:
    """The fewest CPU seconds of `repeats` runs of fn(), after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def step_flops(context: int, width: int, layers: int, cached: bool) -> int:
    """FLOPs of the matrix products of the blocks for one generation step at this context."""
    rows = 1 if cached else context  # positions run through the projections and the MLP
    return layers * (24 * width**2 * rows + 4 * rows * context * width)


positions = [16, 32, 64, 128, 192, 256, 320, 384, 448, 511]
timings = {"uncached": [], "cached": []}
print("CPU milliseconds per generation step")
print(f"{'position':>8} {'uncached':>9} {'cached':>7} {'speedup':>8} {'FLOP ratio':>11}")
with no_grad():
    for position in positions:
        context = sequence[:, : position + 1]
        uncached = fastest(lambda c=context: model(c), 3)
        cache = KVCache.for_model(model, 1)
        cached_forward(model, context[:, :-1], cache)  # positions 0 .. position - 1 cached

        def cached_step(c=context, cache=cache, p=position):
            cache.length = p  # forget the step timed before: the same step again
            cached_forward(model, c[:, -1:], cache)

        cached = fastest(cached_step, 10)
        timings["uncached"].append(1e3 * uncached)
        timings["cached"].append(1e3 * cached)
        ratio = step_flops(position + 1, 64, 2, False) / step_flops(position + 1, 64, 2, True)
        print(
            f"{position:>8} {1e3 * uncached:>9.2f} {1e3 * cached:>7.3f} "
            f"{uncached / cached:>7.1f}x {ratio:>10.0f}x"
        )

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(positions, timings["uncached"], "o-", label="no cache: the whole sequence")
ax.plot(positions, timings["cached"], "s-", label="KV cache: one token")
ax.set_yscale("log")
ax.set_xlabel("position of the generated token")
ax.set_ylabel("CPU ms per token (log scale)")
ax.set_title("Time per generated token, d=64, 2 blocks")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# On the course's shared 2-core machine the cached step stayed between 0.55 and 0.65 ms of
# CPU time at every position, while the uncached step grew from the same 0.6 ms at position
# 16 to 22 to 24 ms at positions 448 to 511. Two things stand out.
#
# - **The cached step is flat, and it is not free.** At these sizes it is about 65 Tensor
#   operations (per block: a LayerNorm, four projections of two operations each, the head
#   splits and merge, the attention's five, the MLP's five, two residual additions), each a
#   few microseconds of Python and NumPy bookkeeping around very little arithmetic: a
#   $(1 \times 64)$ row times a $(64 \times 256)$ matrix is 33 thousand FLOPs, a few
#   microseconds of work. The step is bound by **overhead**, not FLOPs, so the measured
#   speedup stays far below the FLOP ratio, and at short contexts, where the uncached step
#   is overhead-bound too, there is almost nothing to gain. (Module 15 profiles this.)
# - **The uncached step grows faster than its FLOPs.** From position 128 to 448 its matrix
#   products grow 5.6 times and its time about 12 times: the scaling, the mask and the
#   softmax make several passes over the $(H, T, T)$ scores, element-wise work that a FLOP
#   count of the products ignores, and at a few hundred positions those arrays (3.2 MB for
#   four heads at $T = 448$) no longer fit in the processor's caches. The cached step never
#   creates anything larger than one row of scores per head.
#
# So the speedup of a whole generation depends on **where** the tokens are generated. The
# next cell generates 256 tokens twice, with `GPT.generate` and with `generate_cached`, from a
# short prompt (16 tokens) and from a long one (256), asserts that the tokens are identical,
# and only then reports the times. Each generation runs once untimed first (two tokens, so
# that neither pays for allocating the large arrays the first time), and the speedup is the
# ratio of the **CPU seconds** of this process, the work done, which other programs on a
# shared machine do not inflate (the wall-clock ratio is printed beside it).


# %%
def timed(fn):
    """(fn(), CPU seconds of this process, wall-clock seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


print(f"{'prompt':>6} {'new':>4} {'no cache s':>11} {'cached s':>9} {'speedup':>8} {'wall':>6}")
for prompt_length in (16, 256):
    prompt = sequence[:, :prompt_length]
    model.generate(prompt, 2, temperature=0)  # warm-up: the large arrays allocated once
    generate_cached(model, prompt, 2, temperature=0)
    slow, cpu_slow, wall_slow = timed(lambda p=prompt: model.generate(p, 256, temperature=0))
    fast, cpu_fast, wall_fast = timed(
        lambda p=prompt: generate_cached(model, p, 256, temperature=0)
    )
    assert np.array_equal(slow, fast), "the cache changed the generated tokens"
    print(
        f"{prompt_length:>6} {256:>4} {cpu_slow:>11.2f} {cpu_fast:>9.3f} "
        f"{cpu_slow / cpu_fast:>7.1f}x {wall_slow / wall_fast:>5.1f}x"
    )

# %% [markdown]
# On the course machine: from 16 tokens about 0.7 s against 0.2 s of CPU time (3 to 4x);
# from 256 tokens about 4.5 s against 0.2 to 0.3 s (15 to 25x, depending on what else the
# machine was running: the short cached steps suffer most). The speedup is a property of the
# context, not of the cache alone. `make bench-generation` repeats this measurement with
# more care (rounds of both in turns, medians, one BLAS thread) and prints the curve up to a
# context of 1024, and the milestone `generation_speedup.py` trains the Shakespeare model
# and generates 256 characters after a 768-character passage: 40 to 60x. In production the
# gap is larger still: a GPU runs a one-token step about as fast as it can launch its
# kernels, while the uncached model's cost grows with the square of a context of thousands
# of tokens.
#
# ### Memory: the price of the cache
#
# The cache stores $2 L B T d_{model}$ numbers. The cell first checks the formula against
# memory that is really allocated, with `tracemalloc` (which NumPy reports its arrays to),
# for caches shaped like GPT-2 small's ($L = 12$, $H = 12$, $d_{head} = 64$, float32), then
# uses it for real models in float16 at long contexts, beside the size of the weights.

# %%
import tracemalloc  # noqa: E402


def human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:,.1f} {unit}"
        nbytes /= 1024
    return ""


print(f"{'context':>8} {'formula':>12} {'nbytes':>12} {'allocated':>12}")
for context in (128, 256, 512, 1024):
    tracemalloc.start()
    cache = KVCache(12, 1, 12, context, 64)
    allocated = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    formula = kv_cache_bytes(12, 1, 12, context, 64)
    print(f"{context:>8} {human(formula):>12} {human(cache.nbytes):>12} {human(allocated):>12}")
    del cache

models = [  # name, layers, heads, head_dim, parameters
    ("GPT-2 small", 12, 12, 64, 124e6),
    ("GPT-2 XL", 48, 25, 64, 1.56e9),
    ("Llama-2 7B", 32, 32, 128, 6.7e9),
    ("Llama-2 70B (MHA)", 80, 64, 128, 69e9),
]
contexts = [1024, 4096, 32768, 131072]
print(f"\nfloat16, batch 1: {'weights':>10} " + " ".join(f"{f'T={c:,}':>12}" for c in contexts))
curves = {}
for name, layers, heads, head_dim, params in models:
    sizes = [kv_cache_bytes(layers, 1, heads, c, head_dim, itemsize=2) for c in contexts]
    curves[name] = sizes
    row = " ".join(f"{human(s):>12}" for s in sizes)
    print(f"{name:>17} {human(2 * params):>10} {row}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for (name, *_, params), sizes in zip(models, curves.values(), strict=True):
    line = ax.loglog(contexts, np.array(sizes) / 2**30, "o-", label=f"{name} cache")
    ax.axhline(2 * params / 2**30, color=line[0].get_color(), linestyle=":")
ax.set_xlabel("context length T (tokens)")
ax.set_ylabel("GiB, float16, batch 1")
ax.set_title("KV cache memory (solid) against the weights (dotted)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The memory really allocated is the formula's (plus a few hundred bytes of lists and
# Python objects, invisible at this precision): 72 MiB for GPT-2 small's full context of
# 1024 in float32. The real models tell the rest of the story: a 7B-parameter model's cache
# at 4096 tokens is 2 GiB per sequence, and at 32k tokens (16 GiB) it outgrows the 12.5 GiB
# of weights; serve 8 users at once and multiply by 8. This is why long-context models change
# the attention itself: Llama-2 70B shares each key and value head between 8 query heads
# (grouped-query attention), which divides its cache by 8 (the "MHA" row shows it without),
# others keep the cache in 8-bit numbers (Module 17), and serving systems page it like
# virtual memory so that no sequence reserves `max_seq_len` rows it may never use. A
# preallocated cache like yours reserves them all up front: simple, fast, and wasteful when
# most sequences stop early.
#
# ## Summary
#
# - Under a causal mask, the keys and values of a position never change once computed: a
#   **KV cache** keeps them, one preallocated array `(B, H, max_seq_len, d_head)` per layer
#   for each, written at rows `start .. start + t - 1` and read at `0 .. start + t - 1`.
#   A full cache raises a clear error before writing.
# - A cached step feeds only the **new** tokens: embedded at positions offset by the cache,
#   attending under `causal_mask(t, start + t)` (the prompt in one **prefill**, then one
#   token per step), with the logits of the last position only. Every layer writes the same
#   rows; the model advances the cache once.
# - The cached model is the same model: logits equal to float32 rounding, the same tokens
#   from the same seed. Test that first; only then measure the speed.
# - A cached step costs $L(24 d^2 + 4 T d)$ FLOPs instead of $L(24 d^2 T + 4 T^2 d)$; in
#   NumPy it is bound by per-operation overhead, so the measured speedup grows with the
#   context: for 256 new tokens 3 to 4x after a 16-token prompt, 10 to 25x after 256
#   tokens, and 40 to 60x after 768 (the milestone). Measure CPU time on a shared machine.
# - The price is memory: $2 \cdot L \cdot B \cdot H \cdot T \cdot d_{head}$ numbers, which
#   at long contexts outgrows the weights.
#
# **Reflection.**
#
# 1. Why does the cache hold keys and values but not queries? What would a cache of the
#    MLP outputs of past positions be for?
# 2. A step with the cache still reads all $t$ cached keys of every layer. How do its FLOPs
#    and its memory traffic grow with $t$, and at what context would the attention part
#    of a cached step cost as much as its projections and MLP ($4 t d = 24 d^2$)?
# 3. `generate_cached` refuses to go past `max_seq_len`, while `GPT.generate` crops. Write
#    down what cropping does to the position of every token, and why no cache can be
#    reused after it. What would a model with relative positions (RoPE, ALiBi) change?
# 4. Batch 8 prompts of different lengths: the cache has one `length` for the whole batch.
#    What would you need to add (hint: a padding mask of Module 12) to prefill them together?
