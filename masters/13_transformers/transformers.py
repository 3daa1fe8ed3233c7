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
# # Module 13: Transformers
#
# You now own every part of a language model. Module 10 turns text into token ids, Module 11
# turns ids and positions into vectors, Module 12 lets every position read the earlier ones,
# and Modules 03 to 07 give you layers, gradients, optimizers and a training loop. What is
# missing is the **architecture** that puts them together so that a deep stack of them still
# trains: that is the transformer, and the decoder-only version of it is **GPT**.
#
# A GPT is surprisingly little code. Token and position embeddings go in; then $L$ identical
# **blocks**, each an attention layer (positions exchange information) and an MLP (each
# position thinks on its own), each wrapped in a **layer normalisation** and a **residual
# connection**; then one last normalisation and a linear **head** that scores every token of
# the vocabulary as the next one. Trained to predict the next character of Shakespeare,
# these few dozen lines learn spelling, then words, then the shape of verse.
#
# ```
#   ids (B, T) ──> token_embedding + position_embedding ──> x (B, T, d)
#                                                            │
#        ┌───────────────── block 1 ... block L ─────────────┤
#        │   x = x + attn(ln1(x), causal mask)   (B, T, d)   │   positions talk
#        │   x = x + mlp(ln2(x))                 (B, T, d)   │   positions think
#        └────────────────────────────────────────────────────┤
#                                                            │
#                                         ln_f, head ──> logits (B, T, V)
# ```
#
# Then the model has to **speak**: `generate` feeds it a prompt, turns the scores of the last
# position into probabilities, draws the next token (with a **temperature** and a **top-k**
# filter that trade surprise for sense), appends it, and repeats. Module 14 makes that loop
# fast with a key-value cache, Modules 15 to 18 profile, quantize and compress this model, and
# the capstone trains it end to end: the API you write here is the one they use.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - write **layer normalisation** as a `Function` and derive its backward pass, in which every
#   input of a row reaches every output through the row's mean and variance;
# - build the **MLP** of a transformer and the **pre-norm block**, and explain why the
#   residual path lets gradients through a deep stack untouched;
# - assemble a **GPT**, count its parameters **exactly** with a formula, and show with a test
#   that no prediction reads a later token;
# - **sample** text with temperature and top-k, reproducibly from a seed, and generate
#   without building a graph, cropping the context to the model's length;
# - say where the **parameters and FLOPs** of a GPT go (embeddings, attention, MLP, head) as
#   the width and the context grow, and **measure** its speed and activation memory.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in thirteen places, for six tasks. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtypes, formulas, errors, and hints. Keep the names and
#   signatures as they are (later modules call them); the given cells are read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail. Expected values come from float64 references written with plain
#   NumPy in the checks cell (`layer_norm_reference`, `block_reference`, `gpt_reference`,
#   ...), which read the weights of your layers through the attribute names of the contract.
#   Gradients are compared with central differences in float64 for a random upstream
#   gradient.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other widths, head counts, depths and batch sizes, inputs of
#   other ranks, a large offset, masks of other kinds, prompts longer than the context, other
#   seeds, temperatures and top-k values), with their own float64 references. A failing
#   hidden check tells you which behaviour it was about.
# - Each task is graded on its own: while a task's test runs, the code of the other tasks
#   comes from the course's reference solution, so a bug costs the points of the task it is
#   in. The last test, `test_gpt_training`, is different: it trains a small GPT made of
#   **your** code throughout, so it passes only when everything works together.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure (a NumPy `RuntimeWarning` included).
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `layer_norm` | `LayerNormFunction` (forward and backward) and the `LayerNorm` layer | 5 |
# | `mlp` | `MLP`: Linear, GELU, Linear | 2 |
# | `block` | `TransformerBlock`: pre-norm attention and MLP, each with a residual | 3 |
# | `sampling` | `sample_next_token`: greedy, temperature, top-k, from a seeded generator | 4 |
# | `gpt` | `GPT`: embeddings with a position offset, the blocks under a causal mask, the head | 5 |
# | `generate` | `GPT.generate`: crop, predict without a graph, sample, append | 4 |
# | `gpt_training` | (no code of its own) your tasks together: a GPT memorises a batch and recites it | 2 |
# | | **total** | **25** |
#
# Work in the order of the table: each task uses the ones before it. `Tensor`, `Linear`,
# `GELU`, autograd (`Function`, `no_grad`), `Embedding`, `PositionalEncoding`, `causal_mask`
# and `MultiHeadAttention` come from your Modules 01 to 12; when your work is graded they
# come from the course's reference solution, so a bug in an earlier module does not cost you
# points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.models.transformer: a GPT built from the layers of Modules 03, 11 and 12.

`LayerNormFunction` normalises the last axis of its input (mean 0, variance 1), then scales
and shifts it, with its backward pass; `LayerNorm` is the layer. `MLP` is Linear(d, hidden),
GELU, Linear(hidden, d). `TransformerBlock` is pre-norm: x + attn(ln1(x), mask), then
x + mlp(ln2(x)). `GPT` adds token and position embeddings (`embed`, with a position offset),
runs its blocks under a causal mask, normalises and projects to vocabulary logits;
`generate` extends prompts token by token without building a graph, drawing each token with
`sample_next_token` (greedy, temperature, top-k). The parts stay reachable as attributes
(`token_embedding`, `position_embedding`, `blocks[i].ln1/attn/ln2/mlp`, `ln_f`, `head`), so a
key-value cache (Module 14) and a profiler (Module 15) can reuse them.
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 13.
"""

import numpy as np

from tinytorch.core.activations import GELU
from tinytorch.core.attention import MultiHeadAttention, causal_mask
from tinytorch.core.autograd import Context, Function, no_grad
from tinytorch.core.layers import Layer, Linear
from tinytorch.core.tensor import Tensor
from tinytorch.text.embeddings import Embedding, PositionalEncoding, as_indices

__all__ = [
    "LayerNormFunction",
    "LayerNorm",
    "MLP",
    "TransformerBlock",
    "GPT",
    "sample_next_token",
]

# %% [markdown]
# **Given: the input checks.** The read-only cell below checks sizes, token ids and sampling
# settings, so that your code can rely on them and every error message is the same:
# `_check_features` the last axis of a layer's input, `_check_ids` a batch of token ids (it
# returns them as a new int64 array of shape `(B, T)`, using Module 11's `as_indices`),
# `_check_positions` that positions `start .. start + T - 1` exist, and `_check_sampling`
# the temperature and top-k of sampling.


# %% kind="locked" id="input_checks" export=true
def _check_features(shape: tuple, width: int, who: str) -> None:
    """The last axis of an input is the layer's width.

    Raises:
        ValueError: otherwise (or for a 0-d input), naming the shape and the width.
    """
    if len(shape) == 0 or shape[-1] != width:
        raise ValueError(f"{who}: expected an input of shape (..., {width}), got {shape}")


def _check_ids(ids, vocab_size: int, who: str) -> np.ndarray:
    """Token ids as a new int64 array of shape (B, T), T >= 1.

    Raises:
        TypeError, IndexError: from as_indices, for ids that are not whole numbers or lie
            outside 0 .. vocab_size - 1.
        ValueError: for ids that are not 2-D (B, T) with T >= 1, naming their shape.
    """
    values = as_indices(ids, vocab_size)
    if values.ndim != 2 or values.shape[1] < 1:
        raise ValueError(
            f"{who}: expected token ids of shape (B, T) with T >= 1, got shape {values.shape}; "
            "wrap one sequence in a list: [ids]"
        )
    return values


def _check_positions(start: int, length: int, max_seq_len: int, who: str) -> None:
    """Positions start .. start + length - 1 exist in a table of max_seq_len positions.

    Raises:
        ValueError: when start < 0 or start + length > max_seq_len, naming all three.
    """
    if start < 0 or start + length > max_seq_len:
        raise ValueError(
            f"{who}: positions {start} .. {start + length - 1} do not fit a model with "
            f"max_seq_len={max_seq_len}; feed at most the last {max_seq_len} tokens"
        )


def _check_sampling(temperature: float, top_k: int | None, who: str) -> None:
    """temperature finite and >= 0; top_k None or an int >= 1.

    Raises:
        ValueError: otherwise, naming the setting.
    """
    if not 0 <= temperature < np.inf:
        raise ValueError(
            f"{who}: temperature must be finite and >= 0 (0 = greedy), got {temperature}"
        )
    if top_k is not None and (not isinstance(top_k, int | np.integer) or top_k < 1):
        raise ValueError(f"{who}: top_k must be None or an int >= 1, got {top_k!r}")


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
# - `strict(fn)` calls `fn()` with NumPy's floating-point warnings turned into errors;
#   `leaf(values)` is a float32 Tensor with `requires_grad=True`; `run_rule(F, inputs,
#   upstream, **kwargs)` calls a Function's `forward` and then its `backward` directly, on
#   float64 arrays (no Tensors, no graph);
# - float64 references that read the weights of your layers through the attribute names of
#   the contract: `layer_norm_reference(x, weight, bias, eps)`, `gelu_reference(x)`,
#   `mlp_reference(x, mlp)`, `attention_reference(x, attn, keep)`, `block_reference(x, block,
#   keep)` and `gpt_reference(model, ids)`. The last three accept `overrides`, a dict from a
#   parameter Tensor's `id` to an array to use in its place, so that central differences can
#   move one parameter at a time;
# - `randomise(layer, seed)` gives every `LayerNorm` inside a layer random weights and
#   biases (a fresh LayerNorm is the identity map, which would hide a swapped `ln1` and `ln2`);
# - `spy(model)` replaces `model.forward` by a wrapper that records, for every call, the ids
#   it was given and whether autograd was recording (`is_grad_enabled()`).


# %% kind="locked" id="checks" include="checks"
from tinytorch.core.autograd import is_grad_enabled  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import Adam  # noqa: E402

SHAPE_HINT = (
    "A transformer keeps x at (B, T, d_model) from block to block; only the head changes the "
    "last axis, to vocab_size."
)


def strict(fn):
    """Call fn() with overflow, invalid values and division by zero raised as
    FloatingPointError. Returns (result, None), or (None, the exception) if fn() raised."""
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


def _value(t, overrides=None):
    """A parameter's values in float64, or the array that overrides it."""
    if overrides and id(t) in overrides:
        return as_float64(overrides[id(t)])
    return as_float64(t.data)


def layer_norm_reference(x, weight, bias, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last axis, in float64."""
    x = as_float64(x)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * as_float64(weight) + as_float64(bias)


def gelu_reference(x):
    """GELU, tanh approximation (Module 02), in float64."""
    x = as_float64(x)
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _linear(x, layer, overrides=None):
    out = x @ _value(layer.weight, overrides)
    return out if layer.bias is None else out + _value(layer.bias, overrides)


def _norm(x, ln, overrides=None):
    return layer_norm_reference(x, _value(ln.weight, overrides), _value(ln.bias, overrides))


def mlp_reference(x, mlp, overrides=None):
    """mlp.fc2(GELU(mlp.fc1(x))) in float64, from the layer's weights."""
    return _linear(gelu_reference(_linear(as_float64(x), mlp.fc1, overrides)), mlp.fc2, overrides)


def attention_reference(x, attn, keep=None, overrides=None):
    """Multi-head self-attention of x (B, T, d) in float64, from attn's four projections."""
    x = as_float64(x)
    b, t, d = x.shape
    h = attn.num_heads

    def split(a):
        return a.reshape(b, t, h, d // h).transpose(0, 2, 1, 3)

    q, k, v = (split(_linear(x, p, overrides)) for p in (attn.q_proj, attn.k_proj, attn.v_proj))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // h)  # (B, H, T, T)
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    heads = (weights @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
    return _linear(heads, attn.out_proj, overrides)


def block_reference(x, block, keep=None, overrides=None):
    """A pre-norm block in float64: x + attn(ln1(x)), then + mlp(ln2(.))."""
    x = as_float64(x)
    x = x + attention_reference(_norm(x, block.ln1, overrides), block.attn, keep, overrides)
    return x + mlp_reference(_norm(x, block.ln2, overrides), block.mlp, overrides)


def gpt_reference(model, ids, overrides=None):
    """Logits (B, T, V) of a GPT in float64, from its weights and the ids (B, T)."""
    ids = np.asarray(ids)
    t = ids.shape[1]
    x = _value(model.token_embedding.weight, overrides)[ids]
    x = x + _value(model.position_embedding.weight, overrides)[:t]
    keep = np.tril(np.ones((t, t), dtype=bool))
    for block in model.blocks:
        x = block_reference(x, block, keep, overrides)
    return _linear(_norm(x, model.ln_f, overrides), model.head, overrides)


def randomise(layer, seed: int):
    """Give every LayerNorm inside `layer` (found by attribute name) random weight and bias."""
    r = np.random.default_rng(seed)
    norms = [getattr(layer, "ln_f", None)]
    for block in getattr(layer, "blocks", [layer]):
        norms += [getattr(block, "ln1", None), getattr(block, "ln2", None)]
    for ln in norms:
        if ln is not None:
            ln.weight.data = (1 + 0.5 * r.standard_normal(ln.weight.shape)).astype(_float32)
            ln.bias.data = (0.3 * r.standard_normal(ln.bias.shape)).astype(_float32)
    return layer


def spy(model):
    """Record every call of model.forward: the ids given, and whether a graph was recorded."""
    calls = []
    original = model.forward

    def recording(ids, *args, **kwargs):
        calls.append((_array(ids), is_grad_enabled()))
        return original(ids, *args, **kwargs)

    model.forward = recording
    return calls


# %% [markdown]
# ## Task `layer_norm`: keep every position's features at one scale (5 points)
#
# Stack twenty layers and the size of the numbers flowing through them drifts: each layer
# multiplies its input by weights a little larger or smaller than "neutral", and twenty such
# factors make the activations explode or vanish, and the gradients with them. **Layer
# normalisation** (Ba, Kiros and Hinton, 2016) resets the scale at every layer. For each
# position separately, it takes the $d$ features $x_1 \dots x_d$ of that position and
#
# $$\mu = \frac{1}{d}\sum_{i} x_i, \qquad \sigma^2 = \frac{1}{d}\sum_i (x_i - \mu)^2,
#   \qquad \hat{x}_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad
#   y_i = \gamma_i\, \hat{x}_i + \beta_i .$$
#
# $\hat{x}$ has mean 0 and variance 1 along the features (up to $\varepsilon$, a small
# number, $10^{-5}$, that keeps a constant row from dividing by zero). The learned **weight**
# $\gamma$ and **bias** $\beta$, one number per feature, let the network undo the
# normalisation where that helps; they start at 1 and 0, so a fresh LayerNorm returns
# $\hat{x}$. Unlike batch normalisation, nothing is shared between positions or sequences:
# a position is normalised with its own statistics, during training and generation alike.
#
# ```
#   x = [1 2 3 4]:  mu = 2.5,  x - mu = [-1.5 -0.5 0.5 1.5],  sigma^2 = 1.25
#   x_hat = (x - mu) / sqrt(1.25 + 1e-5) = [-1.3416 -0.4472 0.4472 1.3416]
#   y = gamma * x_hat + beta,  gamma = [1 1 1 1], beta = [0 0 0 0]  ->  y = x_hat
# ```
#
# The variance is the **biased** one (divide by $d$, not $d - 1$), as in PyTorch. Compute it
# as the mean of the squared **centred** values, $\frac{1}{d}\sum(x_i - \mu)^2$. The
# textbook shortcut $\overline{x^2} - \mu^2$ is the same number on paper and a disaster in
# float32: for features near $10^4$, both terms are near $10^8$, where float32 numbers are
# 8 apart, and their difference (the variance, about 1) is lost in the rounding, or comes
# out negative.
#
# ### The backward pass
#
# Every $\hat{x}_i$ depends on **every** $x_j$ of its row, through $\mu$ and $\sigma$. So
# the gradient of $x_j$ collects a contribution from every output of the row. Write
# $g = \partial L / \partial y$ (the upstream gradient) and $\hat{g} = g \odot \gamma$, the
# gradient of $\hat{x}$. With $s = \sqrt{\sigma^2 + \varepsilon}$, differentiating
# $\hat{x}_i = (x_i - \mu)/s$ gives
#
# $$\frac{\partial \hat{x}_i}{\partial x_j} = \frac{1}{s}\Big(\delta_{ij} - \frac{1}{d}
#   - \frac{\hat{x}_i\, \hat{x}_j}{d}\Big),$$
#
# the three terms being the direct path, the path through the mean, and the path through the
# variance. Multiplying by $\hat{g}_i$ and summing over $i$:
#
# $$\frac{\partial L}{\partial x} = \frac{1}{s}\Big(\hat{g} - \mathrm{mean}(\hat{g})
#   - \hat{x} \odot \mathrm{mean}(\hat{g} \odot \hat{x})\Big), \qquad
#   \frac{\partial L}{\partial \gamma} = \sum_{\text{rows}} g \odot \hat{x}, \qquad
#   \frac{\partial L}{\partial \beta} = \sum_{\text{rows}} g,$$
#
# where the means run along the feature axis of each row and the sums over **every** leading
# axis (batch, time, ...), because the same $\gamma$ and $\beta$ serve every position. Two
# sanity checks are built in: adding a constant to a row of $x$ changes nothing, so the
# gradient of $x$ sums to 0 along each row; and scaling a row changes nothing either, so it
# is orthogonal to $\hat{x}$.
#
# You write the operation as one `Function` with this backward, not as a chain of Tensor
# operations: one node in the graph instead of about ten, each saving its own arrays. (Built
# from Tensor operations, autograd would find the same gradient; the tests accept only the
# numbers, so you could check one against the other.)
#
# Contracts:
#
# - `LayerNormFunction.forward(ctx, x, weight, bias, eps=1e-5)`: `x` an array `(..., d)` with
#   any number of leading axes (none included), `weight` and `bias` arrays `(d,)`; returns
#   `y` of `x`'s shape and dtype (float32 stays float32: no float64 constants); saves what
#   backward needs.
# - `LayerNormFunction.backward(ctx, grad_output)`: returns `(grad_x, grad_weight,
#   grad_bias)`, of the shapes of `x`, `weight` and `bias`, in the dtype of `grad_output`.
# - `LayerNorm(d_model, eps=1e-5)`: stores `d_model` and `eps`; `weight` a float32 Tensor of
#   ones `(d_model,)` and `bias` of zeros, both with `requires_grad=True`, created in that
#   order; `forward(x)` for `x` `(..., d_model)` returns
#   `LayerNormFunction.apply(x, self.weight, self.bias, eps=self.eps)`.


# %% kind="solution" id="layer_norm" export=true
class LayerNormFunction(Function):
    """Layer normalisation over the last axis, with a learned scale and shift."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5
    ) -> np.ndarray:
        """(x - mean) / sqrt(var + eps) * weight + bias along the last axis of x.

        Args:
            x: (..., d), float32 or float64; not modified.
            weight, bias: (d,).
            eps: added to the biased variance (mean of the squared centred values).

        Returns:
            an array of x's shape and dtype. Saves x_hat, 1 / sqrt(var + eps) and weight.

        Hint: np.mean(..., axis=-1, keepdims=True) keeps a (..., 1) axis that broadcasts
        against (..., d); eps is a Python float, which keeps float32 arrays float32.
        """
        # Task layer_norm: centre, variance of the centred values, normalise, scale and shift.
        ### BEGIN SOLUTION
        mean = np.mean(x, axis=-1, keepdims=True)  # (..., 1)
        centred = x - mean  # (..., d)
        var = np.mean(centred * centred, axis=-1, keepdims=True)  # (..., 1), biased
        inv_std = 1.0 / np.sqrt(var + eps)  # (..., 1)
        x_hat = centred * inv_std  # (..., d): mean 0, variance 1 along the features
        ctx.save_for_backward(x_hat, inv_std, weight)
        return x_hat * weight + bias
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(grad_x, grad_weight, grad_bias) for the upstream gradient grad_output (..., d).

        grad_x = inv_std * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)), means along
        the last axis, g_hat = grad_output * weight; grad_weight = sum of grad_output * x_hat
        and grad_bias = sum of grad_output over every axis but the last.

        Hint: tuple(range(grad_output.ndim - 1)) names every leading axis (none for 1-D).
        """
        # Task layer_norm: the gradients of x (through the mean and the variance), weight, bias.
        ### BEGIN SOLUTION
        x_hat, inv_std, weight = ctx.saved_tensors
        rows = tuple(range(grad_output.ndim - 1))  # every axis but the features
        grad_weight = np.sum(grad_output * x_hat, axis=rows)  # (d,)
        grad_bias = np.sum(grad_output, axis=rows)  # (d,)
        g_hat = grad_output * weight  # (..., d): the gradient of x_hat
        mean_g = np.mean(g_hat, axis=-1, keepdims=True)  # (..., 1): the path through the mean
        mean_gx = np.mean(g_hat * x_hat, axis=-1, keepdims=True)  # (..., 1): through the variance
        grad_x = inv_std * (g_hat - mean_g - x_hat * mean_gx)  # (..., d)
        return grad_x, grad_weight, grad_bias
        ### END SOLUTION


class LayerNorm(Layer):
    """Layer normalisation of the last axis: LayerNormFunction with learned weight and bias.

    Attributes:
        d_model: the width d of the normalised axis.
        eps: the number added to the variance.
        weight: Tensor (d_model,) of ones, requires_grad=True (the scale gamma).
        bias: Tensor (d_model,) of zeros, requires_grad=True (the shift beta).
    """

    def __init__(self, d_model: int, eps: float = 1e-5):
        """Store d_model and eps, then create weight (ones) and bias (zeros), in that order."""
        super().__init__()
        # Task layer_norm: store the sizes; weight ones and bias zeros, both trainable.
        ### BEGIN SOLUTION
        self.d_model = d_model
        self.eps = eps
        self.weight = Tensor(np.ones(d_model), requires_grad=True)
        self.bias = Tensor(np.zeros(d_model), requires_grad=True)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x (..., d_model) -> a Tensor of x's shape, normalised along the last axis.

        Raises:
            ValueError: from the given check, when the last axis of x is not d_model.
        """
        _check_features(x.shape, self.d_model, "LayerNorm")
        # Task layer_norm: apply the Function to x, weight and bias, with eps as a keyword.
        ### BEGIN SOLUTION
        return LayerNormFunction.apply(x, self.weight, self.bias, eps=self.eps)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"LayerNorm({self.d_model})"


# %% [markdown]
# ### Test `layer_norm`

# %% kind="test" id="test_layer_norm" points=5
x64 = np.array([[1.0, 2.0, 3.0, 4.0]])
out, _ = run_rule(LayerNormFunction, [x64, np.ones(4), np.zeros(4)])
assert_array(
    out,
    [[-1.3416354, -0.4472118, 0.4472118, 1.3416354]],
    "LayerNormFunction.forward([[1, 2, 3, 4]], weight ones, bias zeros): the worked example",
)
rng = np.random.default_rng(13)
x64 = rng.standard_normal((2, 3, 5)) * 2 + 1
w64, b64 = 1 + 0.5 * rng.standard_normal(5), rng.standard_normal(5)
out, _ = run_rule(LayerNormFunction, [x64, w64, b64])
assert_array(
    out,
    layer_norm_reference(x64, w64, b64),
    "LayerNormFunction.forward of x (2, 3, 5) with a random weight and bias",
)
upstream = rng.standard_normal((2, 3, 5))
_, grads = run_rule(LayerNormFunction, [x64, w64, b64], upstream)
numeric = numerical_gradients(layer_norm_reference, [x64, w64, b64], upstream)
for got, expected, name in zip(grads, numeric, ("x", "weight", "bias"), strict=True):
    assert_array(
        got,
        expected,
        f"LayerNormFunction.backward: the gradient of {name} compared with central "
        "differences (x has three axes: the gradients of weight and bias sum over the first "
        "two)",
        rtol=1e-4,
        atol=1e-6,
    )

ln = LayerNorm(5)
assert ln.d_model == 5 and ln.eps == 1e-5, (
    f"LayerNorm(5) should store d_model=5 and eps=1e-05, got "
    f"{getattr(ln, 'd_model', None)} and {getattr(ln, 'eps', None)}."
)
assert_tensor(ln.weight, np.ones(5), "LayerNorm(5).weight: ones")
assert_tensor(ln.bias, np.zeros(5), "LayerNorm(5).bias: zeros")
assert ln.parameters() == [ln.weight, ln.bias] and ln.weight.requires_grad, (
    "LayerNorm(5).parameters() should be [weight, bias], both with requires_grad=True."
)
ln.weight.data, ln.bias.data = w64.astype(np.float32), b64.astype(np.float32)
x = leaf(x64)
out = ln(x)
assert_tensor(out, layer_norm_reference(x.data, w64, b64), "LayerNorm(5)(x) for x (2, 3, 5)")
out.backward(upstream)
assert_grad(x, numeric[0], "LayerNorm(5): x.grad after out.backward(upstream)")
assert_grad(ln.weight, numeric[1], "LayerNorm(5): weight.grad after out.backward(upstream)")

### BEGIN HIDDEN TESTS
# hidden: the output matches the float64 reference for inputs of other ranks and widths
rng = np.random.default_rng(1301)
for shape in ((7,), (3, 4), (2, 3, 6), (2, 2, 3, 8), (1, 5, 1, 3)):
    a = rng.standard_normal(shape) * 3 - 2
    w, b = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    out, _ = run_rule(LayerNormFunction, [a, w, b])
    assert out.shape == a.shape, "the output has the input's shape"
    assert check_close(out, layer_norm_reference(a, w, b), rtol=1e-6, atol=1e-8), (
        "normalised along the last axis, then scaled and shifted"
    )
# hidden: eps is added to the variance before the square root
a = rng.standard_normal((3, 4)) * 0.1
w, b = np.ones(4), np.zeros(4)
for eps in (0.5, 1e-3):
    out, _ = run_rule(LayerNormFunction, [a, w, b], eps=eps)
    assert check_close(out, layer_norm_reference(a, w, b, eps), rtol=1e-6, atol=1e-8), (
        "eps is added to the variance"
    )
# hidden: the variance is the mean of the squared centred values (biased, stable)
big = (1e4 + rng.standard_normal((4, 16))).astype(np.float32)
ctx = Context()
with np.errstate(all="raise"):
    out = LayerNormFunction.forward(ctx, big, np.ones(16, np.float32), np.zeros(16, np.float32))
assert check_close(out, layer_norm_reference(big, np.ones(16), np.zeros(16)), atol=2e-3), (
    "float32 features near 1e4 are normalised accurately (variance of the centred values)"
)
# hidden: a constant row gives the bias, with finite gradients
const = np.full((2, 5), 3.0)
w, b = rng.standard_normal(5), rng.standard_normal(5)
out, grads = run_rule(LayerNormFunction, [const, w, b], rng.standard_normal((2, 5)))
assert check_close(out, np.broadcast_to(b, (2, 5)), atol=1e-6), "a constant row gives the bias"
assert all(bool(np.all(np.isfinite(g))) for g in grads), "a constant row has finite gradients"
# hidden: gradients of x, weight and bias match central differences on inputs of other ranks
for index, shape in enumerate(((6,), (3, 5), (2, 3, 4), (2, 1, 3, 5))):
    r = np.random.default_rng(1310 + index)
    a = r.standard_normal(shape) * 2 + 0.5
    w, b = 1 + 0.5 * r.standard_normal(shape[-1]), r.standard_normal(shape[-1])
    up = r.standard_normal(shape)
    _, grads = run_rule(LayerNormFunction, [a, w, b], up, eps=1e-3)
    numeric = numerical_gradients(lambda *v: layer_norm_reference(*v, eps=1e-3), [a, w, b], up)
    for got, expected in zip(grads, numeric, strict=True):
        assert isinstance(got, np.ndarray) and got.shape == expected.shape, (
            "each gradient has its input's shape"
        )
        assert check_close(got, expected, rtol=1e-5, atol=1e-7), (
            "the gradients match central differences"
        )
    assert check_close(grads[0].sum(axis=-1), np.zeros(shape[:-1]), atol=1e-9), (
        "the gradient of x sums to 0 along each row"
    )
# hidden: float32 in, float32 out: forward and backward add no float64 constants
a32 = rng.standard_normal((2, 3, 4)).astype(np.float32)
w32, b32 = np.ones(4, np.float32), np.zeros(4, np.float32)
ctx = Context()
out = LayerNormFunction.forward(ctx, a32, w32, b32)
grads = LayerNormFunction.backward(ctx, np.ones((2, 3, 4), np.float32))
assert out.dtype == np.float32, "float32 inputs give a float32 output"
assert all(g.dtype == np.float32 for g in grads), "float32 gradients stay float32"
# hidden: the inputs are left unchanged
a, w, b = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)
before = (a.copy(), w.copy(), b.copy())
up = rng.standard_normal((3, 4))
ctx = Context()
LayerNormFunction.forward(ctx, a, w, b)
LayerNormFunction.backward(ctx, up)
assert all(check_equal(p, q) for p, q in zip((a, w, b), before, strict=True)), (
    "forward and backward leave their inputs unchanged"
)
# hidden: the layer has ones and zeros of its width, stores eps and passes it on
for d, eps in ((3, 1e-5), (8, 0.25)):
    layer = LayerNorm(d, eps=eps)
    assert layer.d_model == d and layer.eps == eps, "LayerNorm stores d_model and eps"
    for p, value in ((layer.weight, 1.0), (layer.bias, 0.0)):
        assert isinstance(p, Tensor) and p.requires_grad is True, "weight and bias are trainable"
        assert p.data.dtype == np.float32 and check_equal(p.data, np.full(d, value)), (
            "weight starts at ones and bias at zeros"
        )
    assert all(
        a is b for a, b in zip(layer.parameters(), [layer.weight, layer.bias], strict=True)
    ), "parameters() is [weight, bias]"
    a = rng.standard_normal((2, 4, d)) * 0.3
    out = layer(Tensor(a))
    assert isinstance(out, Tensor) and out.data.dtype == np.float32, "the layer returns a Tensor"
    assert check_close(
        out.data, layer_norm_reference(a, np.ones(d), np.zeros(d), eps), atol=1e-5
    ), "the layer normalises with its eps"
# hidden: through the layer, gradients reach x, weight and bias for a 4-D input
layer = LayerNorm(6)
w, b = 1 + 0.3 * rng.standard_normal(6), 0.5 * rng.standard_normal(6)
layer.weight.data, layer.bias.data = w.astype(np.float32), b.astype(np.float32)
x = Tensor(rng.standard_normal((2, 2, 3, 6)), requires_grad=True)
out = layer(x)
assert out.requires_grad is True, "the output records the graph"
up = rng.standard_normal(out.shape)
out.backward(up)
numeric = numerical_gradients(
    layer_norm_reference, [x.data, layer.weight.data, layer.bias.data], up
)
for t, g in zip((x, layer.weight, layer.bias), numeric, strict=True):
    assert isinstance(t.grad, np.ndarray) and check_close(t.grad, g, rtol=1e-3, atol=1e-4), (
        "the layer's gradients reach x, weight and bias"
    )
# hidden: an input of the wrong width raises ValueError
assert isinstance(raised(lambda: LayerNorm(4)(Tensor(np.ones((2, 5))))), ValueError), (
    "a last axis other than d_model raises ValueError"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Task `mlp`: each position thinks on its own (2 points)
#
# Attention moves information **between** positions, but it is mostly a weighted average:
# the values it mixes pass through only linear maps. The **MLP** (multilayer perceptron, also
# called the feed-forward layer) is where each position transforms what it has gathered,
# with a nonlinearity: widen to `hidden_dim` features (four times `d_model` in GPT), apply
# GELU, project back.
#
# $$\mathrm{MLP}(x) = \mathrm{GELU}(x W_1 + b_1)\, W_2 + b_2, \qquad
#   W_1: (d, 4d), \quad W_2: (4d, d).$$
#
# It runs on every position independently: a `Linear` acts on the last axis and carries the
# leading ones along, so `(B, T, d)` goes in and `(B, T, d)` comes out, with no loop over
# positions. With $4d$ hidden units it holds $8d^2 + 5d$ parameters, twice as many as the
# attention layer ($4d^2 + 4d$): in a GPT, two thirds of the weights of every block sit here.
# GELU, Module 02's smooth cousin of ReLU ($x \Phi(x)$, tanh approximation), is what GPT-2
# used.
#
# Contract of `MLP(d_model, hidden_dim, rng=None)`:
#
# - one generator, `np.random.default_rng(rng)`, passed to `fc1 = Linear(d_model,
#   hidden_dim)` and then `fc2 = Linear(hidden_dim, d_model)` (both with biases), so a seed
#   fixes both; `act = GELU()` (Module 02's activation), assigned between them;
# - `forward(x)`: `x` `(..., d_model)` to `fc2(act(fc1(x)))`, `(..., d_model)`, built from
#   the layers so that gradients reach `x` and the four parameters;
# - `parameters()` (from `Layer`): `fc1.weight, fc1.bias, fc2.weight, fc2.bias`.


# %% kind="solution" id="mlp" export=true
class MLP(Layer):
    """The feed-forward layer of a transformer block: Linear, GELU, Linear.

    Attributes:
        fc1: Linear(d_model, hidden_dim).
        act: GELU().
        fc2: Linear(hidden_dim, d_model).
    """

    def __init__(self, d_model: int, hidden_dim: int, rng: np.random.Generator | int | None = None):
        """Create fc1, act and fc2, the two Linear layers from one generator, fc1 first.

        Args:
            d_model: the width of the input and the output.
            hidden_dim: the width in between (4 * d_model in GPT).
            rng: a np.random.Generator, an int seed, or None; np.random.default_rng(rng).
        """
        super().__init__()
        # Task mlp: one generator for both Linear layers; fc1, act, fc2 in this order.
        ### BEGIN SOLUTION
        rng = np.random.default_rng(rng)
        self.fc1 = Linear(d_model, hidden_dim, rng=rng)
        self.act = GELU()
        self.fc2 = Linear(hidden_dim, d_model, rng=rng)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x (..., d_model) -> fc2(GELU(fc1(x))), (..., d_model)."""
        # Task mlp: widen, GELU, project back.
        ### BEGIN SOLUTION
        return self.fc2(self.act(self.fc1(x)))  # (..., hidden_dim) in between
        ### END SOLUTION


# %% [markdown]
# ### Test `mlp`

# %% kind="test" id="test_mlp" points=2
mlp = MLP(4, 16, rng=0)
for name, shape in (("fc1", (4, 16)), ("fc2", (16, 4))):
    layer = getattr(mlp, name, None)
    assert isinstance(layer, Linear) and layer.weight.shape == shape, (
        f"MLP(4, 16).{name} should be a Linear with weight {shape}, got {layer!r}."
    )
assert isinstance(getattr(mlp, "act", None), GELU), (
    f"MLP(4, 16).act should be GELU(), got {getattr(mlp, 'act', None)!r}."
)
g = np.random.default_rng(0)
first, second = Linear(4, 16, rng=g), Linear(16, 4, rng=g)
assert np.array_equal(mlp.fc1.weight.data, first.weight.data) and np.array_equal(
    mlp.fc2.weight.data, second.weight.data
), (
    "MLP(4, 16, rng=0): fc1 and fc2 should be the first two Linear layers drawn from "
    "g = np.random.default_rng(0), fc1 first: make one generator and pass it to both."
)
params = mlp.parameters()
assert len(params) == 4 and sum(p.size for p in params) == 8 * 16 + 5 * 4, (
    f"MLP(4, 16) should hold 4 * 16 + 16 + 16 * 4 + 4 = {8 * 16 + 5 * 4} numbers in 4 "
    f"tensors, got {len(params)} tensors with {sum(p.size for p in params)}."
)
x = leaf(np.random.default_rng(1).standard_normal((2, 3, 4)))
out = mlp(x)
assert_tensor(out, mlp_reference(x.data, mlp), "MLP(4, 16)(x) for x (2, 3, 4): fc2(GELU(fc1(x)))")
upstream = np.random.default_rng(2).standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(
    lambda a, w: mlp_reference(a, mlp, {id(mlp.fc1.weight): w}),
    [x.data, mlp.fc1.weight.data],
    upstream,
)
assert_grad(x, numeric[0], "MLP(4, 16): x.grad compared with central differences")
assert_grad(mlp.fc1.weight, numeric[1], "MLP(4, 16): fc1.weight.grad vs central differences")

### BEGIN HIDDEN TESTS
# hidden: the layers are drawn from one generator, fc1 first, for seeds and Generators
rng = np.random.default_rng(1302)
for d, hidden, seed in ((3, 12, 5), (6, 8, np.random.default_rng(9)), (5, 20, 11)):
    layer = MLP(d, hidden, rng=seed)
    g = (
        np.random.default_rng(9)
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(seed)
    )
    ref1, ref2 = Linear(d, hidden, rng=g), Linear(hidden, d, rng=g)
    for mine, ref in ((layer.fc1, ref1), (layer.fc2, ref2)):
        assert isinstance(mine, Linear), "fc1 and fc2 are Linear layers"
        assert check_equal(mine.weight.data, ref.weight.data), (
            "weights drawn in order from one generator"
        )
        assert check_equal(mine.bias.data, ref.bias.data), (
            "biases drawn in order from one generator"
        )
    order = [layer.fc1.weight, layer.fc1.bias, layer.fc2.weight, layer.fc2.bias]
    assert all(a is b for a, b in zip(layer.parameters(), order, strict=True)), (
        "parameters() lists fc1 then fc2"
    )
# hidden: the output is fc2(GELU(fc1(x))) for inputs of other ranks
layer = MLP(6, 10, rng=3)
for shape in ((4, 6), (2, 3, 6), (2, 1, 3, 6), (6,)):
    a = rng.standard_normal(shape) * 2
    out = layer(Tensor(a))
    assert isinstance(out, Tensor) and out.shape == shape, "the output has the input's shape"
    assert check_close(out.data, mlp_reference(a, layer), rtol=1e-5, atol=1e-5), "fc2(GELU(fc1(x)))"
# hidden: gradients reach x and all four parameters
layer = MLP(3, 5, rng=4)
x = Tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
params = [layer.fc1.weight, layer.fc1.bias, layer.fc2.weight, layer.fc2.bias]
out = layer(x)
up = rng.standard_normal(out.shape)
out.backward(up)


def _h_mlp(a, *values):
    return mlp_reference(a, layer, {id(p): v for p, v in zip(params, values, strict=True)})


numeric = numerical_gradients(_h_mlp, [x.data] + [p.data for p in params], up)
for t, g in zip([x] + params, numeric, strict=True):
    assert isinstance(t.grad, np.ndarray) and check_close(t.grad, g, rtol=1e-3, atol=1e-4), (
        "gradients reach x and every parameter"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Task `block`: attention and MLP, each around a residual (3 points)
#
# A transformer block applies the attention layer and then the MLP, each with two wrappers:
#
# - a **residual connection**: the layer's output is **added** to its input,
#   $x \leftarrow x + f(x)$, instead of replacing it. Each layer only has to learn a
#   correction, and the gradient has a path through the whole stack that no layer can
#   shrink: $\partial(x + f(x))/\partial x = I + \partial f/\partial x$, so even when
#   $\partial f / \partial x$ is tiny, the identity carries the gradient down unchanged. That
#   path, the **residual stream**, is what lets GPTs be hundreds of layers deep;
# - a **LayerNorm in front** of each layer (**pre-norm**, as in GPT-2 and every large model
#   since): $f$ sees a normalised copy of the stream, while the stream itself is never
#   normalised, so the identity path stays clean.
#
# $$x \leftarrow x + \mathrm{attn}(\mathrm{ln}_1(x), \text{mask}), \qquad
#   x \leftarrow x + \mathrm{mlp}(\mathrm{ln}_2(x)).$$
#
# ```
#   x ──────────────┬──────────────(+)──────────────┬──────────────(+)──> x
#                   └─ ln1 ─ attn ──┘               └─ ln2 ─ mlp ───┘
#                        (B, T, d) all the way
# ```
#
# The original Transformer (2017) normalised **after** the addition ("post-norm",
# $x \leftarrow \mathrm{ln}(x + f(x))$); it trains too, but needs a careful learning-rate
# warm-up, because every gradient passes through every LayerNorm on its way down. The two
# LayerNorms are separate layers with their own weights: using `ln1` twice would give the
# same numbers only while both still hold their starting ones and zeros.
#
# **Parameters.** `ln1` and `ln2` hold $2d$ each, the attention layer $4d^2 + 4d$, the MLP
# with hidden width $r d$ ($r$ = `mlp_ratio`) $2 r d^2 + r d + d$: with $r = 4$, one block
# holds **$12 d^2 + 13 d$** numbers.
#
# **The mask is an argument.** The block does not decide what may attend to what: `GPT`
# passes `causal_mask(T)`, and Module 14, which feeds one new token against cached keys,
# passes `causal_mask(1, T)`. The block hands its mask to `attn` unchanged.
#
# Contract of `TransformerBlock(d_model, num_heads, mlp_ratio=4, rng=None)`:
#
# - one generator, `np.random.default_rng(rng)`; attributes created in this order:
#   `ln1 = LayerNorm(d_model)`, `attn = MultiHeadAttention(d_model, num_heads, rng=...)`
#   (Module 12, with biases), `ln2 = LayerNorm(d_model)`, `mlp = MLP(d_model, mlp_ratio *
#   d_model, rng=...)`, the attention drawing from the generator before the MLP;
# - `forward(x, mask=None)`: `x` `(B, T, d_model)`, `mask` a boolean keep-mask for the
#   attention (or `None`); returns `(B, T, d_model)`, the two residual steps above.


# %% kind="solution" id="block" export=true
class TransformerBlock(Layer):
    """A pre-norm transformer block: x + attn(ln1(x), mask), then x + mlp(ln2(x)).

    Attributes:
        ln1: LayerNorm(d_model), before the attention.
        attn: MultiHeadAttention(d_model, num_heads).
        ln2: LayerNorm(d_model), before the MLP.
        mlp: MLP(d_model, mlp_ratio * d_model).

    A key-value cache (Module 14) can run the same block with the attention step replaced:
    h = ln1(x); x = x + (cached attention of h); x = x + mlp(ln2(x)).
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        mlp_ratio: int = 4,
        rng: np.random.Generator | int | None = None,
    ):
        """Create ln1, attn, ln2 and mlp, in that order, attn and mlp from one generator.

        Args:
            d_model: the width of the residual stream.
            num_heads: the attention's heads, a divisor of d_model.
            mlp_ratio: the MLP's hidden width is mlp_ratio * d_model.
            rng: a np.random.Generator, an int seed, or None; np.random.default_rng(rng).
        """
        super().__init__()
        # Task block: one generator; ln1, attn, ln2, mlp in this order.
        ### BEGIN SOLUTION
        rng = np.random.default_rng(rng)
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, num_heads, rng=rng)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, mlp_ratio * d_model, rng=rng)
        ### END SOLUTION

    def forward(self, x: Tensor, mask: np.ndarray | None = None) -> Tensor:
        """x (B, T, d_model) -> (B, T, d_model): the attention step, then the MLP step.

        mask: None, or a boolean keep-mask for the attention, e.g. causal_mask(T).

        Hint: two lines, each adding a layer's output to the stream.
        """
        # Task block: pre-norm attention with a residual, then pre-norm MLP with a residual.
        ### BEGIN SOLUTION
        x = x + self.attn(self.ln1(x), mask)  # (B, T, d): positions exchange information
        x = x + self.mlp(self.ln2(x))  # (B, T, d): each position on its own
        return x
        ### END SOLUTION


# %% [markdown]
# ### Test `block`

# %% kind="test" id="test_block" points=3
block = TransformerBlock(8, 2, rng=0)
for name, kind in (
    ("ln1", LayerNorm),
    ("attn", MultiHeadAttention),
    ("ln2", LayerNorm),
    ("mlp", MLP),
):
    assert isinstance(getattr(block, name, None), kind), (
        f"TransformerBlock(8, 2).{name} should be a {kind.__name__}, got "
        f"{getattr(block, name, None)!r}."
    )
assert block.mlp.fc1.weight.shape == (8, 32) and block.attn.num_heads == 2, (
    "TransformerBlock(8, 2): the MLP should widen to mlp_ratio * d_model = 32 and the "
    "attention have 2 heads."
)
g = np.random.default_rng(0)
attn, mlp = MultiHeadAttention(8, 2, rng=g), MLP(8, 32, rng=g)
assert np.array_equal(block.attn.q_proj.weight.data, attn.q_proj.weight.data) and np.array_equal(
    block.mlp.fc1.weight.data, mlp.fc1.weight.data
), (
    "TransformerBlock(8, 2, rng=0): the attention and then the MLP should draw from one "
    "generator g = np.random.default_rng(0): pass the same generator to both."
)
count = sum(p.size for p in block.parameters())
assert count == 12 * 8**2 + 13 * 8, (
    f"TransformerBlock(8, 2) should hold 12 d^2 + 13 d = {12 * 64 + 13 * 8} numbers, got {count}."
)

randomise(block, 1)
x = leaf(np.random.default_rng(2).standard_normal((2, 5, 8)))
keep = causal_mask(5)
out = block(x, keep)
assert_tensor(
    out,
    block_reference(x.data, block, keep),
    "TransformerBlock(8, 2)(x, causal_mask(5)) for x (2, 5, 8), with random LayerNorm weights: "
    "x + attn(ln1(x)), then x + mlp(ln2(x))",
    atol=1e-5,
)
upstream = np.random.default_rng(3).standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(lambda a: block_reference(a, block, keep), [x.data], upstream)[0]
assert_grad(x, numeric, "TransformerBlock(8, 2): x.grad compared with central differences")

quiet = TransformerBlock(4, 1, rng=5)
for layer in (quiet.attn.out_proj, quiet.mlp.fc2):
    layer.weight.data[:] = 0.0
    layer.bias.data[:] = 0.0
x64 = np.random.default_rng(4).standard_normal((1, 3, 4))
assert_tensor(
    quiet(Tensor(x64)),
    x64,
    "A block whose attention and MLP output zeros (their last layers zeroed) should return "
    "its input unchanged: each step adds to x, it does not replace it",
)

### BEGIN HIDDEN TESTS
# hidden: the block matches the pre-norm reference for other sizes, masks and MLP ratios
rng = np.random.default_rng(1303)
for d, h, ratio, b, t, kind in (
    (12, 3, 4, 2, 4, "causal"),
    (8, 4, 2, 1, 6, "none"),
    (6, 2, 3, 3, 3, "padding"),
    (4, 4, 1, 2, 5, "causal"),
):
    layer = randomise(TransformerBlock(d, h, mlp_ratio=ratio, rng=int(rng.integers(1000))), 7)
    a = rng.standard_normal((b, t, d))
    keep = {"causal": causal_mask(t), "none": None, "padding": rng.random((b, 1, 1, t)) < 0.7}[kind]
    if kind == "padding":
        keep[..., 0] = True
    out = layer(Tensor(a), keep)
    assert isinstance(out, Tensor) and out.shape == (b, t, d), "the block keeps (B, T, d_model)"
    assert check_close(out.data, block_reference(a, layer, keep), rtol=1e-4, atol=1e-5), (
        "x + attn(ln1(x), mask), then x + mlp(ln2(x))"
    )
    assert layer.mlp.fc1.weight.shape == (d, ratio * d), "the MLP widens to mlp_ratio * d_model"
# hidden: ln1 and ln2 are separate layers, each before its own step
layer = TransformerBlock(6, 2, rng=3)
layer.ln2.weight.data = np.full(6, 2.5, np.float32)
layer.ln2.bias.data = np.linspace(-1, 1, 6).astype(np.float32)
a = rng.standard_normal((2, 4, 6))
assert check_close(
    layer(Tensor(a), causal_mask(4)).data, block_reference(a, layer, causal_mask(4)), atol=1e-4
), "ln1 feeds the attention and ln2 the MLP"
# hidden: the layers are created in order from one generator
for seed, d, h, ratio in ((0, 8, 2, 4), (7, 6, 3, 2)):
    layer = TransformerBlock(d, h, mlp_ratio=ratio, rng=seed)
    g = np.random.default_rng(seed)
    ref_attn, ref_mlp = MultiHeadAttention(d, h, rng=g), MLP(d, ratio * d, rng=g)
    assert isinstance(layer.ln1, LayerNorm) and isinstance(layer.ln2, LayerNorm), "two LayerNorms"
    assert layer.ln1 is not layer.ln2, "ln1 and ln2 are two layers"
    assert check_equal(layer.attn.v_proj.weight.data, ref_attn.v_proj.weight.data), (
        "the attention draws first from the generator"
    )
    assert check_equal(layer.mlp.fc2.weight.data, ref_mlp.fc2.weight.data), (
        "the MLP draws next from the same generator"
    )
    order = [layer.ln1.weight, layer.ln1.bias] + layer.attn.parameters()
    order += [layer.ln2.weight, layer.ln2.bias] + layer.mlp.parameters()
    assert all(p is q for p, q in zip(layer.parameters(), order, strict=True)), (
        "parameters() lists ln1, attn, ln2, mlp"
    )
    count = sum(p.size for p in layer.parameters())
    assert count == (4 + 2 * ratio) * d * d + (9 + ratio) * d, "(4 + 2r) d^2 + (9 + r) d parameters"
# hidden: with a causal mask, no output of the block reads a later position
layer = randomise(TransformerBlock(8, 2, rng=11), 3)
a = rng.standard_normal((2, 6, 8))
base = layer(Tensor(a), causal_mask(6)).data
for t in range(5):
    changed = a.copy()
    changed[:, t + 1 :] = rng.standard_normal((2, 5 - t, 8)) * 3
    after = layer(Tensor(changed), causal_mask(6)).data
    assert check_close(after[:, : t + 1], base[:, : t + 1], atol=1e-5), "no leak from the future"
# hidden: gradients reach x and every parameter of the block
layer = randomise(TransformerBlock(4, 2, mlp_ratio=2, rng=12), 4)
params = layer.parameters()
x = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
keep = causal_mask(3)
out = layer(x, keep)
up = rng.standard_normal(out.shape)
out.backward(up)


def _h_block(a, *values):
    return block_reference(a, layer, keep, {id(p): v for p, v in zip(params, values, strict=True)})


numeric = numerical_gradients(_h_block, [x.data] + [p.data for p in params], up)
for t, g in zip([x] + params, numeric, strict=True):
    assert isinstance(t.grad, np.ndarray) and t.grad.shape == t.shape, (
        "every parameter gets a gradient"
    )
    assert check_close(t.grad, g, rtol=1e-3, atol=1e-4), "gradients match central differences"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `sampling`: from scores to the next token (4 points)
#
# The model's last piece of work, before we build it: a GPT hands back **logits**, one score
# per token of the vocabulary, and generating text means choosing one token from them, over
# and over. There are three common ways, and one function covers them all.
#
# **Greedy.** Take the highest score: `np.argmax`. Deterministic, and often dull: a greedy
# model repeats itself ("the the the"), because the single most likely continuation of a
# common phrase is usually another common phrase.
#
# **Sampling with a temperature.** Turn the scores into probabilities,
# $p = \mathrm{softmax}(z / \tau)$, and **draw** a token from them. The temperature $\tau$
# reshapes the distribution before the draw: $\tau = 1$ is the model's own distribution,
# $\tau < 1$ sharpens it towards the favourites, $\tau > 1$ flattens it towards the
# uniform, and $\tau \to 0$ puts everything on the maximum, so $\tau = 0$ means greedy.
#
# ```
#   logits z        [2.0  1.0  0.0 -1.0]
#   tau = 1.0   p = [0.64 0.24 0.09 0.03]
#   tau = 0.5   p = [0.87 0.12 0.02 0.00]      sharper
#   tau = 2.0   p = [0.44 0.27 0.16 0.10]      flatter
#   tau = 0     argmax: token 0, always
# ```
#
# **Top-k.** Even a good model gives a little probability to thousands of absurd tokens, and
# over hundreds of draws one of them gets picked. Top-k sampling keeps only the $k$ highest
# scores of each row, sets the others to $-\infty$ (probability exactly 0), and renormalises.
# The threshold is the $k$-th largest score of the row: keep every score $\ge$ it (a tie at
# the threshold keeps all the tied tokens, as nanoGPT does); `top_k=None`, or a $k$ of at least
# the vocabulary size, keeps everything. `np.sort(z, axis=-1)[:, -k]` is the threshold of
# every row.
#
# **Drawing from a distribution, reproducibly.** To draw a token from probabilities
# $p_0 \dots p_{V-1}$, draw one uniform number $u \in [0, 1)$ and walk the cumulative sums
# $p_0, p_0 + p_1, \dots$: the token is the first one whose cumulative sum exceeds $u$. Each
# token gets exactly its share of $[0, 1)$. NumPy's `rng.choice(V, p=p)` does exactly that
# with one `rng.random()` draw, and the draws come from a **seeded generator**
# (`np.random.default_rng(seed)`): the same seed gives the same text, which is how you
# compare two models, or two temperatures, fairly. The contract fixes the order of the draws
# (one `rng.choice` per row of the batch, row 0 first), so that your samples and the
# reference's are the same tokens for the same seed.
#
# Compute in float64, with the stable softmax of Module 02 (subtract each row's maximum; a
# $-\infty$ from top-k becomes an exact 0 without a warning).
#
# Contract of `sample_next_token(logits, temperature=1.0, top_k=None, rng=None)`:
#
# - `logits`: the scores of the next token, `(B, V)` (a NumPy array; the given lines check
#   the settings and make `logits` a float64 copy, so the caller's array is never changed);
# - `temperature == 0`: returns `np.argmax(logits, axis=-1)` and draws nothing from `rng`;
# - otherwise: top-k filter (when `top_k` is not None), divide by the temperature, stable
#   softmax per row, then one generator `np.random.default_rng(rng)` (a Generator passed in
#   is used as it is, so successive calls continue its stream) and one
#   `rng.choice(V, p=probs[b])` per row `b = 0, 1, ...`;
# - returns an int64 array `(B,)` of token ids;
# - raises `ValueError` (given checks) for a temperature below 0 or infinite, a `top_k` below 1, or
#   logits that are not 2-D with at least one row and one column.


# %% kind="solution" id="sampling" export=true
def sample_next_token(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Choose one token per row of logits (B, V): greedy, or sampled with temperature/top-k.

    Args:
        logits: (B, V) scores of the next token; not modified.
        temperature: 0 for greedy (argmax, no random draw); else softmax(logits / temperature).
        top_k: None, or keep only the scores >= the k-th largest of each row.
        rng: a np.random.Generator, an int seed, or None; np.random.default_rng(rng).

    Returns:
        int64 array (B,): for each row in order, rng.choice(V, p=that row's probabilities).

    Hint: np.where(z < threshold, -np.inf, z) blocks the scores below the k-th largest.
    """
    _check_sampling(temperature, top_k, "sample_next_token")
    logits = np.array(logits, dtype=np.float64)  # a float64 copy, (B, V)
    if logits.ndim != 2 or 0 in logits.shape:
        raise ValueError(
            f"sample_next_token: expected logits (B, V), B and V >= 1, got shape {logits.shape}"
        )
    # Task sampling: greedy at temperature 0; else top-k, temperature, softmax, one draw per row.
    ### BEGIN SOLUTION
    if temperature == 0:
        return np.argmax(logits, axis=-1).astype(np.int64)  # (B,): greedy, nothing drawn
    vocab = logits.shape[-1]
    if top_k is not None and top_k < vocab:
        threshold = np.sort(logits, axis=-1)[:, -top_k]  # (B,): the k-th largest score
        logits = np.where(logits < threshold[:, None], -np.inf, logits)
    scaled = logits / temperature
    scaled = scaled - np.max(scaled, axis=-1, keepdims=True)  # the largest becomes 0
    probs = np.exp(scaled)
    probs = probs / np.sum(probs, axis=-1, keepdims=True)  # (B, V), rows sum to 1
    rng = np.random.default_rng(rng)
    return np.array([rng.choice(vocab, p=row) for row in probs], dtype=np.int64)
    ### END SOLUTION


# %% [markdown]
# ### Test `sampling`


# %% kind="test" id="test_sampling" points=4
def _softmax_rows(z, temperature=1.0, top_k=None):
    """Float64 probabilities of sample_next_token's rule (the test's own reference)."""
    z = as_float64(z)
    if top_k is not None and top_k < z.shape[-1]:
        z = np.where(z < np.sort(z, axis=-1)[:, -top_k][:, None], -np.inf, z)
    z = z / temperature  # the notebook's order: divide, then subtract the row's largest
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _draws(z, temperature, top_k, seed):
    """The tokens of the contract: one rng.choice per row, row 0 first."""
    g = np.random.default_rng(seed)
    return [g.choice(z.shape[-1], p=row) for row in _softmax_rows(z, temperature, top_k)]


logits = np.array([[1.0, 3.0, 2.0, 0.0], [5.0, 1.0, 1.0, 4.0]])
got = sample_next_token(logits, temperature=0)
assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.shape == (2,), (
    f"sample_next_token(logits (2, 4), temperature=0) should return an int64 array of shape "
    f"(2,), got {type(got).__name__} {getattr(got, 'dtype', '')} {getattr(got, 'shape', '')}."
)
assert np.array_equal(got, [1, 0]), (
    f"temperature=0 is greedy: the argmax of each row, [1, 0]; got {got}."
)
for seed in (0, 1, 2):
    got = sample_next_token(logits, temperature=1.0, top_k=1, rng=seed)
    assert np.array_equal(got, [1, 0]), f"top_k=1 keeps only the best token: [1, 0], got {got}."
got = sample_next_token(logits, temperature=0.8, rng=3)
expected = _draws(logits, 0.8, None, 3)
assert np.array_equal(got, expected), (
    f"sample_next_token(logits, temperature=0.8, rng=3) should give {expected}, got {got}: "
    "probabilities softmax(logits / 0.8), then g = np.random.default_rng(3) and "
    "g.choice(4, p=probs[b]) for row 0, then row 1."
)
many = np.tile(logits[:1], (500, 1))
got = sample_next_token(many, temperature=2.0, top_k=2, rng=4)
assert set(np.unique(got).tolist()) == {1, 2}, (
    f"With top_k=2, row [1, 3, 2, 0] may only give tokens 1 and 2 (and gives both over 500 "
    f"draws at temperature 2); got the tokens {sorted(set(np.unique(got).tolist()))}."
)
assert np.array_equal(
    sample_next_token(many, 1.0, 3, rng=5), sample_next_token(many, 1.0, 3, rng=5)
), "The same seed should give the same tokens."
assert np.array_equal(logits, [[1.0, 3.0, 2.0, 0.0], [5.0, 1.0, 1.0, 4.0]]), (
    "sample_next_token changed the caller's logits: work on the given float64 copy."
)

### BEGIN HIDDEN TESTS
# hidden: the tokens are the contract's draws for other temperatures, top-k values and seeds
rng = np.random.default_rng(1305)
z = rng.standard_normal((6, 9)) * 2
for temperature, top_k, seed in (
    (1.0, None, 0),
    (0.5, 3, 1),
    (1.7, 5, 2),
    (1.0, 9, 3),
    (0.9, 20, 4),
    (1.3, 1, 5),
):
    got = sample_next_token(z, temperature, top_k, rng=seed)
    assert isinstance(got, np.ndarray) and got.dtype == np.int64, "returns an int64 array"
    assert got.shape == (6,), "one token per row"
    assert check_equal(got, _draws(z, temperature, top_k, seed)), (
        "top-k, then softmax(z / temperature), then one rng.choice per row"
    )
# hidden: a Generator passed in continues its stream across calls
g = np.random.default_rng(7)
first, second = sample_next_token(z, 1.0, 4, rng=g), sample_next_token(z, 1.0, 4, rng=g)
g = np.random.default_rng(7)
probs = _softmax_rows(z, 1.0, 4)
expected = [g.choice(9, p=row) for row in probs] + [g.choice(9, p=row) for row in probs]
assert check_equal(np.concatenate([first, second]), expected), "a Generator is used as it is"
# hidden: frequencies follow softmax(z / temperature) over the top k
row = np.array([[2.0, 0.5, 1.5, -1.0, 0.0, 1.0]])
for temperature, top_k in ((1.0, None), (0.7, 3), (2.5, 4)):
    got = sample_next_token(np.repeat(row, 6000, axis=0), temperature, top_k, rng=11)
    freq = np.bincount(got, minlength=6) / 6000
    assert check_close(freq, _softmax_rows(row, temperature, top_k)[0], atol=0.025), (
        "token frequencies follow the tempered top-k probabilities"
    )
    if top_k is not None:
        outside = np.argsort(row[0])[: 6 - top_k]
        assert check_equal(freq[outside], np.zeros(6 - top_k)), "never a token outside the top k"
# hidden: ties at the k-th score are all kept
tied = np.repeat(np.array([[3.0, 3.0, 1.0, 0.0]]), 2000, axis=0)
got = sample_next_token(tied, 1.0, 1, rng=12)
assert set(np.unique(got).tolist()) == {0, 1}, "scores tied with the k-th largest are kept"
# hidden: temperature 0 is the argmax and draws nothing from the generator
g = np.random.default_rng(13)
before = g.bit_generator.state
got = sample_next_token(z, 0, 3, rng=g)
assert check_equal(got, z.argmax(axis=-1)), "temperature 0 gives the argmax"
assert g.bit_generator.state == before, "temperature 0 draws nothing from rng"
assert got.dtype == np.int64, "greedy tokens are int64"
# hidden: a very low temperature is nearly greedy; scores near 1e4 cause no overflow
got, err = strict(lambda: sample_next_token(z, 1e-6, None, rng=14))
assert err is None and check_equal(got, z.argmax(axis=-1)), "a low temperature is nearly greedy"
big = (rng.standard_normal((3, 5)) + np.array([[1e4], [-1e4], [0.0]])).astype(np.float32)
got, err = strict(lambda: sample_next_token(big, 1.0, None, rng=15))
assert err is None, "scores near 1e4 cause no floating-point warning"
assert check_equal(got, _draws(big, 1.0, None, 15)), "scores near 1e4 give the exact draws"
# hidden: the caller's logits are not modified
copy = z.copy()
sample_next_token(z, 0.5, 2, rng=16)
assert check_equal(z, copy), "the logits are left unchanged"
# hidden: invalid settings raise ValueError
for kwargs in ({"temperature": -0.5}, {"top_k": 0}, {"top_k": -2}):
    assert isinstance(raised(lambda k=kwargs: sample_next_token(z, **k)), ValueError), (
        "a negative temperature or top_k < 1 raises ValueError"
    )
assert isinstance(raised(lambda: sample_next_token(z[0], 1.0)), ValueError), "1-D logits raise"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `gpt`: the whole model (5 points)
#
# Everything is in place. A GPT turns a batch of token ids `(B, T)` into **logits**
# `(B, T, V)`: at every position $t$, one score per token of the vocabulary for what comes at
# position $t + 1$. All $T$ predictions come out of one forward pass, which is what makes
# training efficient: one sequence of 64 characters is 64 training examples.
#
# 1. **Embed.** Each id becomes its row of the token table (Module 11's `Embedding`,
#    `(V, d)`), and each position $p$ adds row $p$ of the learned position table
#    (`PositionalEncoding`, `(max_seq_len, d)`): $x = E_{\text{tok}}[\text{ids}] +
#    E_{\text{pos}}[p]$, `(B, T, d)`. `embed(ids, start)` takes the positions
#    `start .. start + T - 1`: `start=0` for a whole sequence, and Module 14 passes the
#    number of tokens already in its cache when it feeds only the new ones. Read the rows
#    as a slice of the table's weight Tensor, `self.position_embedding.weight[start:start +
#    T]` (`(T, d)`), so that the gradient reaches the table; it broadcasts over the batch.
# 2. **Blocks.** One causal mask, `causal_mask(T)`, for all blocks: position $t$ may read
#    positions $0 \dots t$ only, so the prediction for $t + 1$ cannot peek at the answer.
# 3. **Head.** A final LayerNorm, `ln_f` (pre-norm blocks leave the stream un-normalised),
#    then `head = Linear(d, V, bias=False)`: `(B, T, d)` to `(B, T, V)`.
#
# **Counting parameters.** With $V$ tokens, context $T_{\max}$ (`max_seq_len`), width $d$,
# $L$ blocks and `mlp_ratio` 4:
#
# $$N = \underbrace{V d}_{\text{tokens}} + \underbrace{T_{\max}\, d}_{\text{positions}}
#   + L\,(12 d^2 + 13 d) + \underbrace{2 d}_{\texttt{ln\_f}}
#   + \underbrace{d V}_{\text{head}}.$$
#
# For the character-level Shakespeare model of the milestones ($V = 77$, $T_{\max} = 64$,
# $d = 64$, $L = 2$) that is $4928 + 4096 + 99{,}968 + 128 + 4928 = 114{,}048$. GPT-2
# shares one matrix between the token table and the head ("weight tying", which saves $Vd$,
# 38.6 million of GPT-2 small's 124 million); this course keeps them separate, so that each
# is an ordinary layer that Modules 17 and 18 can quantize or prune on its own.
#
# **A leak test.** Causality is a property you can test from the outside: change the tokens
# after position $t$, and the logits up to $t$ must not move at all. One mistake anywhere
# (a block called without the mask, a mask of the wrong orientation) fails it.
#
# Contracts:
#
# - `GPT(vocab_size, d_model, num_layers, num_heads, max_seq_len, mlp_ratio=4, rng=None)`:
#   stores the five sizes under those names, makes one generator
#   `np.random.default_rng(rng)`, and creates, in this order, each from that generator:
#   `token_embedding = Embedding(vocab_size, d_model)`, `position_embedding =
#   PositionalEncoding(max_seq_len, d_model)`, `blocks`, a list of `num_layers`
#   `TransformerBlock(d_model, num_heads, mlp_ratio)`, then `ln_f = LayerNorm(d_model)` and
#   `head = Linear(d_model, vocab_size, bias=False)`. `parameters()` lists them in that order.
# - `embed(ids, start=0)`: ids `(B, T)` (checked by the given line, which also returns them as
#   int64) to `(B, T, d_model)`: token vectors plus the position vectors of `start .. start +
#   T - 1`; positions past `max_seq_len` raise `ValueError` (given check).
# - `forward(ids)`: ids `(B, T)`, $T \le$ `max_seq_len`, to logits, a float32 Tensor
#   `(B, T, vocab_size)`, built from Tensor operations so that a loss's `backward()` reaches
#   every parameter.


# %% [markdown]
# ## Task `generate`: a GPT that writes (4 points)
#
# Generation is a loop around the model: feed the sequence so far, read the logits of the
# **last** position (the model's guess for the next token), choose a token with
# `sample_next_token`, append it, repeat. `generate` is the last method of the `GPT` class
# below: write it together with the rest of the class, and test it after `test_gpt`.
#
# ```
#   "To be"  ->  GPT  ->  logits[:, -1]  ->  sample  ->  ","   ->  "To be,"
#   "To be," ->  GPT  ->  logits[:, -1]  ->  sample  ->  " "   ->  "To be, "
#   ...                   (B, V)                        (B,)
# ```
#
# Three details make it correct and fast:
#
# - **Crop the context.** The model has positions $0 \dots T_{\max} - 1$ only. Once the
#   sequence is longer than `max_seq_len`, feed only its **last** `max_seq_len` tokens,
#   `ids[:, -self.max_seq_len:]`: the model then forgets the beginning, as nanoGPT and
#   minGPT do. (Without cropping, the 65th token of a model with context 64 raises an
#   error; the earlier TinyTorch course had exactly that bug.)
# - **No graph.** The parameters require gradients, so every operation of a forward pass
#   would record a `Node` and keep its arrays alive for a backward pass that never comes.
#   Run the loop inside `with no_grad():` (Module 05): nothing is recorded, nothing is kept.
#   The systems analysis below measures what the graph would cost.
# - **One generator for the whole loop.** Make it once, `rng = np.random.default_rng(rng)`,
#   and pass it to every `sample_next_token` call: an int seed then fixes the whole text,
#   and a seed re-made at every step would draw the same $u$ every time.
#
# Every row of the batch is a prompt of its own; all rows have the same length, so the loop
# appends one column per step: `np.concatenate([ids, new[:, None]], axis=1)`.
#
# Contract of `GPT.generate(ids, max_new_tokens, temperature=1.0, top_k=None, rng=None)`:
# `ids` the prompts `(B, T0)`, any length $T_0 \ge 1$ (the given lines check it, the
# settings, and `max_new_tokens` $\ge 0$, and make `ids` a new int64 array); then, inside
# `no_grad()`, `max_new_tokens` times: `context` = the last `max_seq_len` columns,
# `self(context)`, the last position's logits as a NumPy array `(B, V)`,
# `sample_next_token(logits, temperature, top_k, rng)`, appended. Returns the int64 array
# `(B, T0 + max_new_tokens)`: the prompts, then the new tokens.


# %% kind="solution" id="gpt" export=true
class GPT(Layer):
    """A decoder-only transformer language model (GPT-2's layout, pre-norm, no dropout).

    Attributes:
        vocab_size, d_model, num_layers, num_heads, max_seq_len: the sizes given.
        token_embedding: Embedding(vocab_size, d_model).
        position_embedding: PositionalEncoding(max_seq_len, d_model), read as a table through
            its weight (max_seq_len, d_model).
        blocks: list of num_layers TransformerBlock(d_model, num_heads, mlp_ratio).
        ln_f: LayerNorm(d_model).
        head: Linear(d_model, vocab_size, bias=False).

    Parameters: V d + T_max d + L (12 d^2 + 13 d) + 2 d + d V with mlp_ratio 4. A key-value
    cache (Module 14) reuses the parts: x = embed(new_ids, start=cached_length), each block
    with its attention step fed from the cache (mask causal_mask(T_new, T_total)), then
    head(ln_f(x[:, -1:])) for the logits of the last position only.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        num_layers: int,
        num_heads: int,
        max_seq_len: int,
        mlp_ratio: int = 4,
        rng: np.random.Generator | int | None = None,
    ):
        """Store the sizes; create the embeddings, blocks, ln_f and head from one generator.

        Args:
            vocab_size: V, the number of tokens.
            d_model: d, the width of the residual stream.
            num_layers: L, the number of blocks (0 gives a model that sees one token: a
                bigram model).
            num_heads: heads per attention layer, a divisor of d_model.
            max_seq_len: the longest sequence the model reads (rows of the position table).
            mlp_ratio: hidden width of every MLP, as a multiple of d_model.
            rng: a np.random.Generator, an int seed, or None; np.random.default_rng(rng).
        """
        super().__init__()
        # Task gpt: store the sizes; create every part from one generator, in contract order.
        ### BEGIN SOLUTION
        self.vocab_size, self.d_model, self.num_layers = vocab_size, d_model, num_layers
        self.num_heads, self.max_seq_len = num_heads, max_seq_len
        rng = np.random.default_rng(rng)
        self.token_embedding = Embedding(vocab_size, d_model, rng=rng)
        self.position_embedding = PositionalEncoding(max_seq_len, d_model, rng=rng)
        self.blocks = [
            TransformerBlock(d_model, num_heads, mlp_ratio, rng=rng) for _ in range(num_layers)
        ]
        self.ln_f = LayerNorm(d_model)
        self.head = Linear(d_model, vocab_size, bias=False, rng=rng)
        ### END SOLUTION

    def embed(self, ids, start: int = 0) -> Tensor:
        """ids (B, T) -> (B, T, d_model): token vectors plus the vectors of positions
        start .. start + T - 1.

        Raises:
            ValueError: from the given checks, for ids that are not (B, T) or positions past
                max_seq_len; TypeError, IndexError for invalid ids (Module 11's as_indices).

        Hint: self.position_embedding.weight[a:b] is a (b - a, d) Tensor that broadcasts
        over the batch.
        """
        ids = _check_ids(ids, self.vocab_size, "GPT")  # int64 (B, T)
        _check_positions(start, ids.shape[1], self.max_seq_len, "GPT")
        # Task gpt: token vectors plus the position vectors of start .. start + T - 1.
        ### BEGIN SOLUTION
        T = ids.shape[1]
        tokens = self.token_embedding(ids)  # (B, T, d)
        positions = self.position_embedding.weight[start : start + T]  # (T, d)
        return tokens + positions  # (B, T, d)
        ### END SOLUTION

    def forward(self, ids) -> Tensor:
        """ids (B, T), T <= max_seq_len -> logits (B, T, vocab_size), a float32 Tensor.

        Logits at position t depend on ids[:, :t + 1] only (one causal mask for all blocks).
        """
        # Task gpt: embed, run every block under one causal mask, final LayerNorm, head.
        ### BEGIN SOLUTION
        x = self.embed(ids)  # (B, T, d)
        mask = causal_mask(x.shape[1])  # (T, T): position t reads 0 .. t
        for block in self.blocks:
            x = block(x, mask)  # (B, T, d)
        return self.head(self.ln_f(x))  # (B, T, V)
        ### END SOLUTION

    def generate(
        self,
        ids,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> np.ndarray:
        """Extend every prompt by max_new_tokens tokens, one at a time.

        Args:
            ids: prompts (B, T0), token ids (any length: only the last max_seq_len tokens are
                fed to the model).
            max_new_tokens: how many tokens to append, >= 0.
            temperature, top_k: passed to sample_next_token (temperature 0: greedy).
            rng: a np.random.Generator, an int seed, or None; one generator,
                np.random.default_rng(rng), serves every step.

        Returns:
            a new int64 array (B, T0 + max_new_tokens): the prompts, then the new tokens.

        Every step runs inside no_grad(): self(context) with context = the last
        max_seq_len tokens so far, the logits of the last position (B, V) as a NumPy array,
        sample_next_token(logits, temperature, top_k, rng), appended as a new column.

        Hint: np.concatenate([ids, new[:, None]], axis=1) appends a column.
        """
        ids = _check_ids(ids, self.vocab_size, "GPT.generate")  # a new int64 (B, T0)
        _check_sampling(temperature, top_k, "GPT.generate")
        if max_new_tokens < 0:
            raise ValueError(f"GPT.generate: max_new_tokens must be >= 0, got {max_new_tokens}")
        # Task generate: one generator; no graph; crop, predict, sample, append, repeat.
        ### BEGIN SOLUTION
        rng = np.random.default_rng(rng)
        with no_grad():  # generation needs no gradients: record no graph
            for _ in range(max_new_tokens):
                context = ids[:, -self.max_seq_len :]  # (B, <= max_seq_len)
                logits = self(context).data[:, -1, :]  # (B, V): scores of the next token
                new = sample_next_token(logits, temperature, top_k, rng)  # (B,)
                ids = np.concatenate([ids, new[:, None]], axis=1)  # (B, T + 1)
        return ids
        ### END SOLUTION

    def __repr__(self) -> str:
        return (
            f"GPT(vocab_size={self.vocab_size}, d_model={self.d_model}, "
            f"num_layers={self.num_layers}, num_heads={self.num_heads}, "
            f"max_seq_len={self.max_seq_len})"
        )


# %% [markdown]
# ### Test `gpt`

# %% kind="test" id="test_gpt" points=5
model = GPT(11, 8, 2, 2, 6, rng=0)
sizes = ("vocab_size", "d_model", "num_layers", "num_heads", "max_seq_len")
got = tuple(getattr(model, name, None) for name in sizes)
assert got == (11, 8, 2, 2, 6), (
    f"GPT(11, 8, 2, 2, 6) should store {sizes} = (11, 8, 2, 2, 6), got {got}."
)
parts = (
    ("token_embedding", Embedding),
    ("position_embedding", PositionalEncoding),
    ("ln_f", LayerNorm),
    ("head", Linear),
)
for name, kind in parts:
    assert isinstance(getattr(model, name, None), kind), (
        f"GPT.{name} should be a {kind.__name__}, got {getattr(model, name, None)!r}."
    )
blocks = getattr(model, "blocks", None)
assert isinstance(blocks, list) and len(blocks) == 2, (
    f"GPT(11, 8, 2, 2, 6).blocks should be a list of 2 TransformerBlocks, got {blocks!r:.100}."
)
assert model.head.weight.shape == (8, 11) and model.head.bias is None, (
    "GPT.head should be Linear(d_model, vocab_size, bias=False): weight (8, 11), no bias."
)
count = sum(p.size for p in model.parameters())
formula = 11 * 8 + 6 * 8 + 2 * (12 * 8**2 + 13 * 8) + 2 * 8 + 8 * 11
assert count == formula, (
    f"GPT(11, 8, 2, 2, 6) should hold V d + T d + L (12 d^2 + 13 d) + 2 d + d V = {formula} "
    f"numbers, got {count}. Is a part missing, created twice, or given a bias it should not have?"
)

randomise(model, 1)
ids = np.array([[1, 5, 2, 9, 3], [0, 10, 4, 4, 7]])
logits = model(ids)
assert_tensor(
    logits,
    gpt_reference(model, ids),
    "GPT(11, 8, 2, 2, 6)(ids) for ids (2, 5): logits (B, T, V)",
    atol=1e-5,
)
changed = ids.copy()
changed[:, 3:] = [[6, 6], [1, 2]]
later = model(changed).data
assert np.allclose(later[:, :3], logits.data[:, :3], atol=1e-6), (
    "Changing the tokens at positions 3 and 4 changed the logits at positions 0 to 2: the "
    "prediction at position t may read positions 0 .. t only. Does every block get "
    "causal_mask(T)?"
)
x = model.embed(ids[:, :3], start=2)
expected = model.token_embedding.weight.data[ids[:, :3]] + model.position_embedding.weight.data[2:5]
assert_tensor(x, expected, "GPT.embed(ids (2, 3), start=2): token rows plus position rows 2, 3, 4")
err = raised(lambda: model(np.zeros((1, 7), dtype=int)))
assert isinstance(err, ValueError), (
    f"GPT with max_seq_len=6 should raise ValueError for 7 tokens (there is no position 6), "
    f"got {type(err).__name__ if err else 'no error'}. Keep the given checks in embed."
)

### BEGIN HIDDEN TESTS
# hidden: the parts are created in contract order from one generator
rng = np.random.default_rng(1304)
for seed, (v, d, n_layers, h, t, ratio) in ((3, (7, 6, 2, 3, 5, 4)), (8, (5, 4, 1, 2, 3, 2))):
    model = GPT(v, d, n_layers, h, t, mlp_ratio=ratio, rng=seed)
    g = np.random.default_rng(seed)
    ref = [Embedding(v, d, rng=g), PositionalEncoding(t, d, rng=g)]
    ref += [TransformerBlock(d, h, ratio, rng=g) for _ in range(n_layers)]
    ref += [LayerNorm(d), Linear(d, v, bias=False, rng=g)]
    expected = [p for layer in ref for p in layer.parameters()]
    params = model.parameters()
    assert len(params) == len(expected), "parameters() lists every parameter once"
    assert all(check_equal(p.data, q.data) for p, q in zip(params, expected, strict=True)), (
        "embeddings, blocks, ln_f and head drawn in order from one generator"
    )
    order = model.token_embedding.parameters() + model.position_embedding.parameters()
    order += [p for block in model.blocks for p in block.parameters()]
    order += model.ln_f.parameters() + model.head.parameters()
    assert all(p is q for p, q in zip(params, order, strict=True)), (
        "parameters() lists token_embedding, position_embedding, blocks, ln_f, head"
    )
    assert all(isinstance(b, TransformerBlock) for b in model.blocks), (
        "blocks are TransformerBlocks"
    )
    sizes = (model.vocab_size, model.d_model, model.num_layers, model.num_heads, model.max_seq_len)
    assert all(type(a) is int and a == b for a, b in zip(sizes, (v, d, n_layers, h, t), strict=True)), (
        "the five sizes are stored under their names"
    )
    assert all(b.attn.num_heads == h for b in model.blocks), "every block has num_heads heads"
    assert model.blocks[0].mlp.fc1.weight.shape == (d, ratio * d), "mlp_ratio reaches the blocks"
# hidden: the parameter count is V d + T d + L ((4 + 2 r) d^2 + (9 + r) d) + 2 d + d V
for v, d, n_layers, h, t, ratio in ((13, 8, 3, 4, 9, 4), (6, 12, 0, 3, 4, 4), (9, 6, 2, 2, 7, 2)):
    model = GPT(v, d, n_layers, h, t, mlp_ratio=ratio, rng=1)
    count = sum(p.size for p in model.parameters())
    per_block = (4 + 2 * ratio) * d * d + (9 + ratio) * d
    assert count == v * d + t * d + n_layers * per_block + 2 * d + d * v, (
        "the exact parameter count"
    )
    assert len(model.blocks) == n_layers, "num_layers blocks"
# hidden: logits match the float64 reference for other sizes, depths and batch sizes
for v, d, n_layers, h, t, b, seq in (
    (13, 8, 3, 4, 9, 3, 9),
    (6, 12, 0, 3, 4, 2, 3),
    (9, 6, 1, 2, 7, 1, 1),
):
    model = randomise(GPT(v, d, n_layers, h, t, rng=int(rng.integers(1000))), 5)
    ids = rng.integers(0, v, size=(b, seq))
    out = model(ids)
    assert isinstance(out, Tensor) and out.data.dtype == np.float32, "logits are a float32 Tensor"
    assert out.shape == (b, seq, v), "logits have shape (B, T, V)"
    assert check_close(out.data, gpt_reference(model, ids), rtol=1e-4, atol=1e-4), (
        "embed, blocks under a causal mask, ln_f, head"
    )
# hidden: no logit at position t depends on a token after t; later logits do change
model = randomise(GPT(10, 8, 2, 2, 8, rng=21), 6)
ids = rng.integers(0, 10, size=(3, 8))
base = model(ids).data
for t in range(7):
    changed = ids.copy()
    changed[:, t + 1 :] = (changed[:, t + 1 :] + 1 + rng.integers(0, 9, size=(3, 7 - t))) % 10
    after = model(changed).data
    assert check_close(after[:, : t + 1], base[:, : t + 1], atol=1e-5), "no leak from the future"
    assert not check_close(after[:, t + 1 :], base[:, t + 1 :], atol=1e-3), "later logits do change"
# hidden: embed adds the position rows start .. start + T - 1, and raises past max_seq_len
model = GPT(10, 6, 1, 2, 8, rng=22)
tok, pos = model.token_embedding.weight.data, model.position_embedding.weight.data
for start, seq in ((0, 8), (3, 2), (7, 1), (5, 3)):
    ids = rng.integers(0, 10, size=(2, seq))
    x = model.embed(ids, start=start)
    assert isinstance(x, Tensor) and x.shape == (2, seq, 6), "embed gives (B, T, d_model)"
    assert check_close(x.data, tok[ids] + pos[start : start + seq], atol=1e-6), (
        "token rows plus position rows start .. start + T - 1"
    )
    assert check_close(model.embed(ids).data, tok[ids] + pos[:seq], atol=1e-6), (
        "start defaults to 0"
    )
for start, seq in ((6, 3), (0, 9), (8, 1)):
    err = raised(lambda s=start, n=seq: model.embed(np.zeros((1, n), dtype=int), start=s))
    assert isinstance(err, ValueError), "positions past max_seq_len raise ValueError"
# hidden: gradients reach the position rows that were used, and only those
model = GPT(7, 4, 1, 2, 6, rng=23)
x = model.embed(rng.integers(0, 7, size=(2, 3)), start=2)
up = rng.standard_normal(x.shape)
x.backward(up)
grad = model.position_embedding.weight.grad
assert isinstance(grad, np.ndarray) and check_close(grad[2:5], up.sum(axis=0), atol=1e-5), (
    "the used position rows get the summed gradient"
)
assert check_equal(grad[[0, 1, 5]], np.zeros((3, 4))), "unused position rows get no gradient"
# hidden: every parameter's gradient matches central differences
model = randomise(GPT(5, 4, 1, 2, 4, rng=24), 8)
params = model.parameters()
ids = rng.integers(0, 5, size=(2, 3))
out = model(ids)
assert out.requires_grad is True, "the logits record the graph"
up = rng.standard_normal(out.shape)
out.backward(up)


def _h_gpt(*values):
    return gpt_reference(model, ids, {id(p): v for p, v in zip(params, values, strict=True)})


numeric = numerical_gradients(_h_gpt, [p.data for p in params], up)
for p, g in zip(params, numeric, strict=True):
    assert isinstance(p.grad, np.ndarray) and p.grad.shape == p.shape, (
        "every parameter gets a gradient"
    )
    assert check_close(p.grad, g, rtol=1e-3, atol=1e-4), "gradients match central differences"
# hidden: ids given as lists work; wrong shapes and ids raise
model = GPT(6, 4, 1, 1, 5, rng=25)
listed = [[1, 2, 3]]
assert check_close(model(listed).data, gpt_reference(model, np.array(listed)), atol=1e-4), (
    "ids may be a list of lists"
)
for bad, kind in (
    (np.zeros(3, dtype=int), ValueError),
    (np.zeros((1, 6), dtype=int), ValueError),
    ([[1, 6]], IndexError),
):
    assert isinstance(raised(lambda a=bad: model(a)), kind), "invalid ids raise"
### END HIDDEN TESTS


# %% [markdown]
# ### Test `generate`


# %% kind="test" id="test_generate" points=4
def _expected_tokens(model, ids, steps, temperature, top_k, seed):
    """generate's contract written out: crop, last logits, sample, append."""
    g, ids = np.random.default_rng(seed), np.array(ids)
    for _ in range(steps):
        logits = model(ids[:, -model.max_seq_len :]).data[:, -1]
        ids = np.concatenate([ids, sample_next_token(logits, temperature, top_k, g)[:, None]], 1)
    return ids


model = randomise(GPT(12, 8, 2, 2, 6, rng=0), 1)
prompt = np.array([[3, 1, 4], [1, 5, 9]])
out = model.generate(prompt, 5, temperature=0)
assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (2, 8), (
    f"generate(prompt (2, 3), 5) should return an int64 array (2, 8): the prompts and 5 new "
    f"tokens each; got {type(out).__name__} {getattr(out, 'dtype', '')} "
    f"{getattr(out, 'shape', '')}."
)
assert np.array_equal(out[:, :3], prompt), "generate's output should start with the prompts."
expected = _expected_tokens(model, prompt, 5, 0, None, 0)
assert np.array_equal(out, expected), (
    f"generate(prompt, 5, temperature=0) should append the argmax of the last position's "
    f"logits, step by step:\n{expected}\ngot:\n{out}"
)
assert np.array_equal(model.generate(prompt, 5, temperature=0), out), (
    "temperature=0 is greedy: two calls should give the same tokens."
)

watched = randomise(GPT(12, 8, 2, 2, 6, rng=0), 1)
calls = spy(watched)
long_prompt = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9]])
out = watched.generate(long_prompt, 3, temperature=0)
assert len(calls) == 3, f"generate(prompt, 3) should call the model 3 times, got {len(calls)}."
for step, (fed, recording) in enumerate(calls):
    assert np.array_equal(fed, out[:, step : step + 9][:, -6:]), (
        f"Step {step}: with max_seq_len=6 the model should be fed the last 6 tokens so far, "
        f"{out[:, step : step + 9][:, -6:]}, got {fed}. Crop with ids[:, -self.max_seq_len:]."
    )
    assert not recording, (
        f"Step {step}: the model ran with autograd recording a graph. Generate inside "
        "`with no_grad():`."
    )
out = model.generate(prompt, 6, temperature=1.0, top_k=4, rng=7)
assert np.array_equal(out, _expected_tokens(model, prompt, 6, 1.0, 4, 7)), (
    "generate(prompt, 6, temperature=1.0, top_k=4, rng=7) should make one generator "
    "np.random.default_rng(7) and pass it to sample_next_token at every step."
)

### BEGIN HIDDEN TESTS
# hidden: sampled tokens follow the contract for other settings, batch sizes and seeds
rng = np.random.default_rng(1306)
model = randomise(GPT(9, 8, 1, 2, 5, rng=31), 2)
for temperature, top_k, seed, b, t0, steps in (
    (0.7, None, 1, 3, 2, 7),
    (1.5, 2, 2, 1, 6, 4),
    (1.0, 9, 3, 2, 1, 5),
    (0, 3, 4, 3, 4, 6),
):
    prompt = rng.integers(0, 9, size=(b, t0))
    out = model.generate(prompt, steps, temperature=temperature, top_k=top_k, rng=seed)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64, "returns an int64 array"
    assert out.shape == (b, t0 + steps), "the prompts plus max_new_tokens columns"
    assert check_equal(out, _expected_tokens(model, prompt, steps, temperature, top_k, seed)), (
        "crop, last-position logits, sample_next_token with one generator, append"
    )
    again = model.generate(prompt, steps, temperature=temperature, top_k=top_k, rng=seed)
    assert check_equal(again, out), "the same seed gives the same tokens"
# hidden: a Generator passed in is used as it is, across calls
g = np.random.default_rng(5)
first = model.generate(prompt, 3, 1.0, None, g)
second = model.generate(prompt, 3, 1.0, None, g)
g = np.random.default_rng(5)
expected = _expected_tokens(model, prompt, 3, 1.0, None, g)
assert check_equal(first, expected), "a Generator is used as it is"
assert check_equal(second, _expected_tokens(model, prompt, 3, 1.0, None, g)), (
    "successive calls continue the Generator's stream"
)
# hidden: every step feeds the last max_seq_len tokens, without a graph
watched = randomise(GPT(9, 8, 1, 2, 5, rng=31), 2)
calls = spy(watched)
prompt = rng.integers(0, 9, size=(2, 3))
out = watched.generate(prompt, 6, temperature=0.9, rng=6)
assert len(calls) == 6, "one forward pass per new token"
for step, (fed, recording) in enumerate(calls):
    assert check_equal(fed, out[:, : 3 + step][:, -5:]), "the context is cropped to max_seq_len"
    assert recording is False, "no graph is recorded while generating"
assert is_grad_enabled() is True, "autograd is switched back on after generate"
assert all(p.grad is None for p in watched.parameters()), "generate leaves no gradients"
# hidden: a crafted model whose next-token scores are fixed never samples outside the top k
crafted = GPT(8, 4, 1, 2, 6, rng=32)
scores = np.array([0.5, 2.0, -1.0, 1.8, 0.0, 1.9, -3.0, 1.0])
crafted.ln_f.weight.data[:] = 0.0
crafted.ln_f.bias.data = np.array([1.0, 0.0, 0.0, 0.0], np.float32)
crafted.head.weight.data = np.zeros((4, 8), np.float32)
crafted.head.weight.data[0] = scores
out = crafted.generate(rng.integers(0, 8, size=(300, 2)), 4, temperature=1.5, top_k=3, rng=8)
assert set(np.unique(out[:, 2:]).tolist()) == {1, 3, 5}, "only the top k tokens are sampled"
out = crafted.generate(rng.integers(0, 8, size=(4, 2)), 3, temperature=0, rng=9)
assert check_equal(out[:, 2:], np.ones((4, 3))), "temperature 0 always takes the best token"
# hidden: in a batch, each row is generated as if alone (greedy)
prompt = rng.integers(0, 9, size=(3, 4))
together = model.generate(prompt, 5, temperature=0)
for i in range(3):
    alone = model.generate(prompt[i : i + 1], 5, temperature=0)
    assert check_equal(together[i : i + 1], alone), "rows of a batch are independent"
# hidden: zero new tokens give a copy of the prompt; prompts may be lists; inputs unchanged
prompt = rng.integers(0, 9, size=(2, 3))
kept = prompt.copy()
out = model.generate(prompt, 0)
assert isinstance(out, np.ndarray) and check_equal(out, kept) and out is not prompt, (
    "max_new_tokens=0 returns the prompts as a new array"
)
out = model.generate(prompt, 4, temperature=0)
assert check_equal(prompt, kept), "the prompt array is not modified"
listed = model.generate(prompt.tolist(), 4, temperature=0)
assert check_equal(listed, out), "prompts may be lists of lists"
# hidden: invalid settings raise ValueError
for kwargs in ({"max_new_tokens": -1}, {"max_new_tokens": 2, "temperature": -1.0}):
    assert isinstance(raised(lambda k=kwargs: model.generate(prompt, **k)), ValueError), (
        "invalid settings raise ValueError"
    )
### END HIDDEN TESTS

# %% [markdown]
# ## Everything together: a GPT learns a batch by heart
#
# The last test trains a small GPT made entirely of your code (no reference functions
# swapped in) on one batch of four sequences of 9 tokens, each starting with a different
# token, with Module 04's cross-entropy and Module 06's Adam. A correct GPT drives the loss
# from $\ln 12 \approx 2.5$ to below 0.05 in about thirty steps: it has memorised the batch.
# Then it must **recite** it: given only the first token of each sequence, greedy generation
# must produce the other eight. Training data this small teaches nothing general, but
# "overfit one batch" is the first test every deep-learning practitioner runs on a new
# model: if it cannot memorise four sequences, something between the loss and the
# parameters is broken.
#
# The loss of a language model compares the logits `(B, T, V)` with the **next** tokens
# `(B, T)`: flatten both, `logits.reshape(B * T, V)` and `targets.reshape(B * T)`, and use
# `CrossEntropyLoss` (Module 04), which averages over the $B T$ predictions.


# %% kind="test" id="test_gpt_training" points=2
def lm_loss(model, batch):
    """Mean cross-entropy of predicting batch[:, 1:] from batch[:, :-1]."""
    inputs, targets = batch[:, :-1], batch[:, 1:]
    logits = model(inputs)  # (B, T, V)
    b, t, v = logits.shape
    return CrossEntropyLoss()(logits.reshape(b * t, v), Tensor(targets.reshape(b * t)))


def memorise(model, batch, steps: int, lr: float) -> list[float]:
    """Adam on one batch; the loss of every step."""
    optimizer = Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        loss = lm_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


batch = np.random.default_rng(0).integers(0, 12, size=(4, 9))
batch[:, 0] = [0, 1, 2, 3]
model = GPT(12, 16, 2, 2, 8, rng=0)
history = memorise(model, batch, steps=60, lr=0.01)
assert history[0] > 2.0 and history[-1] < 0.05, (
    f"Training GPT(12, 16, 2, 2, 8) on one batch for 60 Adam steps took the loss from "
    f"{history[0]:.3f} to {history[-1]:.3f}; it should fall below 0.05. If every task's test "
    "passes, look at how the parts fit together."
)
recited = model.generate(batch[:, :1], 8, temperature=0)
assert np.array_equal(recited, batch), (
    f"From the first token of each memorised sequence, greedy generation should recite the "
    f"rest:\n{batch}\ngot:\n{recited}"
)

### BEGIN HIDDEN TESTS
# hidden: a GPT from another start memorises another batch, with three blocks, and recites it
batch = np.random.default_rng(1307).integers(0, 10, size=(3, 8))
batch[:, 0] = [4, 7, 9]
model = GPT(10, 16, 3, 4, 7, rng=5)
history = memorise(model, batch, steps=60, lr=0.01)
assert history[-1] < 0.05, "the model memorises the batch"
assert check_equal(model.generate(batch[:, :1], 7, temperature=0), batch), (
    "greedy generation recites the memorised sequences"
)
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: where a GPT spends its parameters, FLOPs, time and memory
#
# Nothing below is graded. The cells measure the model you just built; together they take
# about fifteen seconds. Run them and compare the numbers with your predictions.
#
# ### Parameters: read from the model's own tensors
#
# `parameter_breakdown` sums the sizes of the real parameter tensors of each part of a GPT,
# found through the attribute names of the contract. The table shows how the split moves as
# the width grows, for the character-level Shakespeare vocabulary ($V = 77$, context 64,
# 4 blocks). Predict first: which part wins at $d = 32$, and which at $d = 512$?


# %%
def parameter_breakdown(model) -> dict[str, int]:
    """Numbers in each part of a GPT, from its parameter tensors."""
    blocks = model.blocks
    parts = {
        "token emb": model.token_embedding.parameters(),
        "position emb": model.position_embedding.parameters(),
        "attention": [p for b in blocks for p in b.attn.parameters()],
        "MLP": [p for b in blocks for p in b.mlp.parameters()],
        "LayerNorms": [p for b in blocks for p in b.ln1.parameters() + b.ln2.parameters()]
        + model.ln_f.parameters(),
        "head": model.head.parameters(),
    }
    return {name: sum(p.size for p in params) for name, params in parts.items()}


def formula(vocab: int, context: int, width: int, layers: int) -> int:
    """V d + T d + L (12 d^2 + 13 d) + 2 d + d V: the count of the notebook."""
    blocks = layers * (12 * width**2 + 13 * width)
    return vocab * width + context * width + blocks + 2 * width + width * vocab


names = list(parameter_breakdown(GPT(77, 8, 1, 1, 64, rng=0)))
print(f"{'d':>5} {'T_max':>6} {'total':>11} " + " ".join(f"{n:>13}" for n in names))
for width, context in ((32, 64), (64, 64), (128, 64), (256, 64), (512, 64), (64, 1024)):
    model = GPT(77, width, 4, 4, context, rng=0)
    parts = parameter_breakdown(model)
    total = sum(parts.values())
    assert total == formula(77, context, width, 4)  # the formula counts the real model exactly
    shares = " ".join(f"{100 * parts[n] / total:>12.1f}%" for n in names)
    print(f"{width:>5} {context:>6} {total:>11,} {shares}")
del model

# %% [markdown]
# With a character vocabulary the embeddings are small change: at $d = 32$ the token table,
# the position table and the head hold 12% of the model, and from $d = 128$ on the blocks
# hold more than 97%. Inside the blocks the split never moves: two thirds in the MLP
# ($8 d^2$) and one third in the attention ($4 d^2$), whatever the width, because the $d^2$
# terms win and the $d$ terms (LayerNorms, biases) fade. The context costs parameters only in
# the position table, $T_{\max} d$: the last row gives the $d = 64$ model a context of 1024
# instead of 64, and the table grows from 2% to 24% of the model, while the blocks do not
# change at all (no weight of the attention depends on $T$). A word-piece vocabulary changes the
# picture: GPT-2 small ($V = 50{,}257$, $d = 768$, $L = 12$, context 1024) holds almost as
# many numbers in its token table and head as in all of its blocks. Predict the next cell's
# numbers from the formula before running it.

# %%
gpt2 = {"vocab": 50257, "context": 1024, "width": 768, "layers": 12}
total = formula(**gpt2)
vocab_part = 2 * gpt2["vocab"] * gpt2["width"]
blocks_part = gpt2["layers"] * (12 * gpt2["width"] ** 2 + 13 * gpt2["width"])
print(
    f"GPT-2 small by the formula: {total / 1e6:.1f}M numbers, untied; "
    f"{(total - vocab_part // 2) / 1e6:.1f}M with the head tied to the token table"
)
print(
    f"  token table + head {vocab_part / 1e6:.1f}M ({100 * vocab_part / total:.0f}%), "
    f"blocks {blocks_part / 1e6:.1f}M ({100 * blocks_part / total:.0f}%)"
)

# %% [markdown]
# GPT-2's own count, 124 million, is the tied one: sharing the token table with the head
# saves 38.6 million numbers, a quarter of the untied model.
#
# ### FLOPs per token: predicted, then counted
#
# Count a multiply-add as 2 FLOPs and keep only the matrix products (the element-wise work,
# LayerNorm, GELU, softmax, the residual additions, is a few FLOPs per number, far fewer).
# For **one token** of a sequence of length $T$ in a forward pass, predict:
#
# | part | FLOPs per token | why |
# |---|---|---|
# | embeddings | 0 | a lookup copies a row of the table; adding the position row is $d$ additions |
# | projections $Q, K, V$, output | $L \cdot 8 d^2$ | four $(d \times d)$ products |
# | attention scores and weighted sum | $L \cdot 4 T d$ | $QK^\top$ and $AV$: each query against $T$ keys, over all heads |
# | MLP | $L \cdot 16 d^2$ | $(d \times 4d)$ and $(4d \times d)$ |
# | head | $2 d V$ | $(d \times V)$ |
#
# $$\text{FLOPs/token} \approx L\,(24 d^2 + 4 T d) + 2 d V,$$
#
# and a training step costs about three times that (the backward pass computes two products
# for every product of the forward pass). Our attention computes the full $T \times T$
# scores and then masks half of them, so it pays $4Td$, not the $2Td$ a causal kernel would.
# The attention term is the only one that grows with the context: it overtakes the dense
# layers when $4 T d > 24 d^2$, that is at $T = 6 d$.
#
# A formula is a prediction; the next cell **counts**. `measure_parts(model, ids)` runs one
# forward pass of your GPT under `no_grad()` with every part instrumented. Every operation
# of your autograd goes through `Function.apply`, so for the length of the pass the cell
# replaces it by a wrapper that sees each call: a matrix product of an $(\dots, m, k)$ array
# by a $(\dots, k, n)$ array adds $2 m k n$ FLOPs for each matrix of the batch to the part
# it ran in. The parts are found through the attribute names of the contract (the
# projections are `attn.q_proj` ... `attn.out_proj`; "attention" is the rest of the
# attention layer: head split and merge, scores, mask, softmax, weighted sum), and each
# part's own time is measured too, its sub-parts excluded. "rest" is what `GPT.forward`
# does between the parts: the causal mask and the residual additions.


# %%
import time  # noqa: E402

from tinytorch.core.autograd import Function  # noqa: E402

PARTS = ("embeddings", "LayerNorms", "projections", "attention", "MLP", "head", "rest")


def measure_parts(model, ids) -> tuple[dict[str, int], dict[str, float]]:
    """(flops, seconds) of one forward pass model(ids) under no_grad(), by part.

    flops: 2 m k n for every (m, k) @ (k, n) matrix product (times the batch of products)
    that ran in the part; seconds: the time spent in the part's own code, sub-parts excluded.
    """
    flops, seconds = dict.fromkeys(PARTS, 0), dict.fromkeys(PARTS, 0.0)
    stack = []  # [part, start of its current stretch of time], innermost last

    def timed(part, method):
        def wrapper(*args, **kwargs):
            now = time.perf_counter()
            if stack:  # pause the enclosing part
                seconds[stack[-1][0]] += now - stack[-1][1]
            stack.append([part, now])
            try:
                return method(*args, **kwargs)
            finally:
                now = time.perf_counter()
                seconds[part] += now - stack.pop()[1]
                if stack:  # and resume it
                    stack[-1][1] = now

        return wrapper

    apply = Function.__dict__["apply"]  # the classmethod every operation goes through

    def counting_apply(cls, *inputs, **kwargs):
        out = apply.__get__(None, cls)(*inputs, **kwargs)
        if cls.__name__ == "MatMul" and stack:
            inner = np.shape(getattr(inputs[0], "data", inputs[0]))[-1]  # k
            flops[stack[-1][0]] += 2 * out.size * inner  # out.size = batch * m * n
        return out

    wrapped = [(model, "forward", "rest"), (model, "embed", "embeddings")]
    wrapped += [(model.ln_f, "forward", "LayerNorms"), (model.head, "forward", "head")]
    for block in model.blocks:
        wrapped += [(block.ln1, "forward", "LayerNorms"), (block.ln2, "forward", "LayerNorms")]
        wrapped += [(block.attn, "forward", "attention"), (block.mlp, "forward", "MLP")]
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            wrapped.append((getattr(block.attn, name), "forward", "projections"))
    for layer, method, part in wrapped:
        setattr(layer, method, timed(part, getattr(layer, method)))
    Function.apply = classmethod(counting_apply)
    try:
        with no_grad():
            model(ids)
    finally:  # put everything back, whatever happened
        Function.apply = apply
        for layer, method, _ in wrapped:
            delattr(layer, method)
    return flops, seconds


def flops_per_token(vocab: int, context: int, width: int, layers: int) -> dict[str, float]:
    """The table's prediction: forward FLOPs per token of each part (matrix products only)."""
    return {
        "embeddings": 0,
        "LayerNorms": 0,
        "projections": layers * 8 * width**2,
        "attention": layers * 4 * context * width,
        "MLP": layers * 16 * width**2,
        "head": 2 * width * vocab,
        "rest": 0,
    }


# %% [markdown]
# The next cell measures two-block GPTs ($V = 77$, 4 heads) on 1,024 tokens per forward pass
# (16 sequences of 64, or 4 of 256, ...): first as the width grows at a context of 64, then
# as the context grows at width 64. It checks that the counted FLOPs of every part equal the
# prediction, then prints, for each part, its share of the FLOPs and its share of the time
# (fastest of five passes, part by part). Every model first runs once untimed: the first
# time NumPy asks for arrays of a new size, the operating system hands it fresh memory page
# by page, which later passes reuse. Predict before you run: at $d = 64$, $T = 64$, which
# part takes the most time?


# %%
def sweep(configs, repeats: int = 5) -> list[dict]:
    """Count and time every (width, context) of configs; print a row for each."""
    runs = []
    for width, context in configs:
        model = GPT(77, width, 2, 4, context, rng=0)
        ids = np.random.default_rng(1).integers(0, 77, size=(max(1, 1024 // context), context))
        flops, seconds = measure_parts(model, ids)  # untimed: fresh memory
        runs.append({"width": width, "context": context, "model": model, "ids": ids})
    for _ in range(repeats):  # in turns, so that a busy moment slows every model alike
        for run in runs:
            flops, seconds = measure_parts(run["model"], run["ids"])
            best = run.get("seconds", seconds)
            run["flops"], run["seconds"] = flops, {p: min(best[p], seconds[p]) for p in PARTS}
    print(f"{'each part: % of the FLOPs / % of the time':>91}")
    print(
        f"{'d':>4} {'T':>5} {'MFLOP/token':>12} {'predicted':>10} {'us/token':>9}  "
        + " ".join(f"{name:^9}" for name in ("emb", "LN", "proj", "attn", "MLP", "head", "rest"))
    )
    for run in runs:
        flops, seconds, tokens = run["flops"], run["seconds"], run["ids"].size
        predicted = flops_per_token(77, run["context"], run["width"], 2)
        assert all(flops[p] == tokens * predicted[p] for p in PARTS), (flops, predicted)
        total_flops, total_seconds = sum(flops.values()), sum(seconds.values())
        cells = " ".join(
            f"{100 * flops[p] / total_flops:>4.0f}/{100 * seconds[p] / total_seconds:<4.0f}"
            for p in PARTS
        )
        print(
            f"{run['width']:>4} {run['context']:>5} {total_flops / tokens / 1e6:>12.3f} "
            f"{sum(predicted.values()) / 1e6:>10.3f} {1e6 * total_seconds / tokens:>9.1f}  {cells}"
        )
        del run["model"]
    return runs


print("Width grows (context 64):")
by_width = sweep([(32, 64), (64, 64), (128, 64), (256, 64)])
print("\nContext grows (width 64):")
by_context = sweep([(64, 32), (64, 64), (64, 128), (64, 256), (64, 512), (64, 1024)])

# %% [markdown]
# The counts equal the prediction exactly, part by part (the cell's `assert` would have
# stopped otherwise): the formula is not an estimate of what your code does, it **is** what
# your code does. Its shares follow the table. As the width grows at a fixed context, the
# $d^2$ parts (MLP and projections, 2 : 1) take over and attention's share falls like
# $1/d$ (23% at $d = 32$, 4% at $d = 256$). As the context grows at a fixed width, only
# attention grows: its share of the FLOPs passes 50% between $T = 256$ and $512$, around
# $T = 6d = 384$, and reaches 72% at 1024.
#
# The time shares tell a different story, and that is the lesson of this cell. On the
# course machine attention took 35 to 55% of the time of the small models at $T = 64$ for
# 14 to 23% of the FLOPs, and at $T = 256$ about 80% of the time for 39% of the FLOPs.
# Its FLOPs are spread over many small matrix products ($B H$ products of
# $(T \times d_{head}) \cdot (d_{head} \times T)$ with $d_{head} = 16$), which use BLAS far
# less well than the MLP's one large product, and around them sits element-wise work the
# formula does not count (the mask, the exponentials, the divisions of the softmax, the
# head split and merge), each touching all $B H T^2$ numbers; once those arrays outgrow
# the processor's caches, every pass over them is paid in memory traffic. LayerNorms are
# 0% of the FLOPs and about a tenth of the time at $d = 64$: pure element-wise work. The
# MLP is where time follows FLOPs best, and it dominates from $d = 128$ on. Your numbers
# will differ from these (other processors, other loads; a shared machine makes times
# noisy, so read the shares, not the third digit), but the pattern is robust: FLOPs predict
# time only for large matrix products.
#
# The plot shows attention's share as the context grows, counted for the $d = 64$ model and
# predicted by the (now checked) formula for GPT-2 small, whose vocabulary and width make
# it too big to sweep here.

# %%
import matplotlib.pyplot as plt  # noqa: E402

contexts = [row["context"] for row in by_context]
flop_share = [row["flops"]["attention"] / sum(row["flops"].values()) for row in by_context]
time_share = [row["seconds"]["attention"] / sum(row["seconds"].values()) for row in by_context]
gpt2_contexts = [256, 1024, 4096, 16384]
gpt2_share = []
for context in gpt2_contexts:
    parts = flops_per_token(50257, context, 768, 12)
    gpt2_share.append(parts["attention"] / sum(parts.values()))
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogx(contexts, 100 * np.array(flop_share), "o-", label="d=64: FLOPs, counted")
ax.semilogx(contexts, 100 * np.array(time_share), "s--", label="d=64: time, measured")
ax.semilogx(gpt2_contexts, 100 * np.array(gpt2_share), "^-", label="GPT-2 small: FLOPs, formula")
for width in (64, 768):
    ax.axvline(6 * width, color="grey", linestyle=":")
ax.set_xlabel("context length T")
ax.set_ylabel("attention's share (%)")
ax.set_title("Attention overtakes the dense layers at T = 6d (dotted)")
ax.legend()
fig.tight_layout()
plt.show()
for context, share in zip(gpt2_contexts, gpt2_share, strict=True):
    head = flops_per_token(50257, context, 768, 12)["head"]
    total = sum(flops_per_token(50257, context, 768, 12).values())
    print(
        f"GPT-2 small, T = {context:>6,}: {total / 1e6:>6.0f} MFLOP/token, attention "
        f"{100 * share:>3.0f}%, head {100 * head / total:>3.0f}%"
    )

# %% [markdown]
# For GPT-2 small at its context of 1024 attention is 13% of the FLOPs, while the head,
# $2 d V = 77$ MFLOPs for a vocabulary of 50,257, is 27%: the largest single matrix product
# of the model. At 16k tokens attention dominates everything. This is why long-context
# models need attention kernels that do not touch the masked half and never write the
# $T \times T$ matrix down (and, as the measured time shows, that fuse the element-wise
# work around it). And it is why Module 14's KV cache matters: without it, `generate`
# recomputes all $T$ positions of the context for every new token, $T$ times the FLOPs of
# the one position it needs.
#
# ### Time: a whole training step
#
# The sweep timed forward passes only. The next cell times a forward pass under
# `no_grad()` (as generation runs it) and a whole training step (forward, cross-entropy,
# backward, Adam) for three small GPTs, on a batch of 16 sequences of 64 characters, and
# divides by the 1,024 tokens of the batch. The last column divides the FLOPs (the formula
# the sweep just checked, three times the forward's for a training step) by the measured
# time: the speed at which
# your NumPy framework really computes. The fastest of several runs is kept (on a shared
# machine, noise only ever adds time); like every benchmark of the course, restart with
# `OPENBLAS_NUM_THREADS=1` to measure one core.

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


batch_size, context = 16, 64
rng = np.random.default_rng(0)
batch = rng.integers(0, 77, size=(batch_size, context + 1))
print(
    f"{'model':>16} {'params':>9} {'forward ms':>11} {'us/token':>9} {'tokens/s':>9} "
    f"{'train ms':>9} {'tokens/s':>9} {'GFLOP/s':>8}"
)
for width, layers in ((64, 2), (96, 2), (128, 4)):
    model = GPT(77, width, layers, 4, context, rng=0)
    optimizer = Adam(model.parameters(), lr=1e-3)

    def forward(model=model):
        with no_grad():
            model(batch[:, :-1])

    def train_step(model=model, optimizer=optimizer):
        loss = lm_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    seconds_fwd, seconds_step = fastest(forward, 5), fastest(train_step, 3)
    tokens = batch_size * context
    flops = 3 * tokens * sum(flops_per_token(77, context, width, layers).values())
    print(
        f"{f'd={width}, L={layers}':>16} {sum(p.size for p in model.parameters()):>9,} "
        f"{1e3 * seconds_fwd:>11.1f} {1e6 * seconds_fwd / tokens:>9.1f} "
        f"{tokens / seconds_fwd:>9,.0f} {1e3 * seconds_step:>9.1f} "
        f"{tokens / seconds_step:>9,.0f} {flops / seconds_step / 1e9:>8.2f}"
    )

# %% [markdown]
# On the course's shared 2-core machine (one BLAS thread, other jobs running) the $d = 64$,
# two-block model ran a forward pass at 35,000 to 115,000 tokens per second and a training
# step at 11,000 to 28,000, depending on the load: fast enough for the 2017 milestone, which
# trains this model with Adam (learning rate 0.003, batches of 16) to a validation loss below
# 2.3 nats on Shakespeare in 600 steps, about a minute. The last column is the sobering one:
# 8 to 20 GFLOP/s, where the same machine multiplies two float32 matrices of these sizes at
# about 100 GFLOP/s. A training step of the small model is about 70 operations forward and
# 70 backward, each a few NumPy calls and some microseconds of Python before any
# arithmetic, and element-wise operations (GELU, softmax, LayerNorm, the residual additions)
# that move every number through memory several times for a handful of FLOPs. Larger models
# use the machine better: their matrix products grow faster than the fixed costs. Module 15
# profiles where the time goes, and `make bench-transformer` times this step beside the same
# model in PyTorch.
#
# ### Generation: what `no_grad` saves
#
# `generate` runs every forward pass inside `no_grad()`. The cell below runs the same
# forward pass with and without it, for a batch of one context of 64 tokens (a step of
# `generate`) and of one token (the size of a step with Module 14's cache, which feeds only
# the new token), and counts what the recording pass leaves behind: the nodes of the graph
# and the bytes of the arrays they keep alive, for a backward pass that generation never
# runs.

# %%
import tracemalloc  # noqa: E402

from tinytorch.core.autograd import topological_order  # noqa: E402

model = GPT(77, 64, 2, 4, 64, rng=0)
print(f"{'tokens':>6} {'recording ms':>13} {'no_grad ms':>11} {'extra':>6} {'nodes':>6} {'kept':>9}")
for length in (64, 1):
    context = rng.integers(0, 77, size=(1, length))
    seconds_graph = fastest(lambda c=context: model(c), 30)
    with no_grad():
        seconds_plain = fastest(lambda c=context: model(c), 30)
    tracemalloc.start()
    logits = model(context)
    kept = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    nodes = sum(t.grad_fn is not None for t in topological_order(logits))
    extra = seconds_graph / seconds_plain - 1
    print(
        f"{length:>6} {1e3 * seconds_graph:>13.3f} {1e3 * seconds_plain:>11.3f} "
        f"{100 * extra:>5.0f}% {nodes:>6} {kept / 2**10:>7.0f} KiB"
    )
    del logits

# %% [markdown]
# On the course machine recording cost 8 to 15% more time for a 64-token step and 11 to 15%
# for a one-token step, and kept 2 MiB alive (65 nodes) for as long as the logits lived. Smaller
# than you may have guessed, and that is the point of measuring: a graph costs bookkeeping
# (a `Node` and a `Context` per operation, a microsecond or two each) and memory, not
# arithmetic. Both become serious in Module 14. A cached step is one token through a few
# dozen operations, almost all bookkeeping, so the share grows; and a cache that stores keys
# and values recorded in a graph chains every step's graph to all the previous ones: nothing
# is ever freed, and memory grows with every generated token. Under `no_grad()` neither can
# happen, which is why `generate` uses it and why a test checks it.
#
# ### Activation memory: what training keeps for the backward pass
#
# Training needs more than the parameters: every tensor of the forward pass that a backward
# rule reads stays alive until `backward()`. The cell measures it with `tracemalloc` (NumPy
# reports its allocations to it): the memory still held after a recording forward pass, for
# one block and for two, so that the difference is one block's share, divided by the $B T$
# tokens of the batch. Then it fits the measurements to
# $\text{bytes per token and block} = 4\,(a\, d + b\, H T)$, the two things that can grow:
# arrays of $d$ numbers per token (the stream, its normalised copies, the projections, the
# MLP's $4d$-wide activations) and the attention's $T \times T$ matrices, $H T$ numbers per
# token.


# %%
def held_bytes(model, ids) -> int:
    """Bytes of memory still allocated after a recording forward pass of ids."""
    tracemalloc.start()
    logits = model(ids)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del logits
    return held


rows, measured = [], []
print(f"{'d':>4} {'H':>2} {'T':>4} {'per token, 1 block':>19} {'whole graph (B=16)':>19}")
for width, heads, length in ((64, 4, 32), (64, 4, 64), (64, 4, 128), (128, 4, 64), (128, 8, 64)):
    ids = rng.integers(0, 77, size=(16, length))
    one = held_bytes(GPT(77, width, 1, heads, 128, rng=0), ids)
    two = held_bytes(GPT(77, width, 2, heads, 128, rng=0), ids)
    per_token = (two - one) / (16 * length)
    rows.append((width, heads * length))
    measured.append(per_token / 4)  # in float32 numbers
    print(f"{width:>4} {heads:>2} {length:>4} {per_token:>17,.0f} B {two / 2**20:>16.1f} MiB")
(a, b), *_ = np.linalg.lstsq(np.array(rows, dtype=float), np.array(measured), rcond=None)
print(f"\nfit: one block keeps about ({a:.1f} d + {b:.1f} H T) float32 numbers per token")

# %% [markdown]
# The fit comes out close to $42 d + 4 H T$ numbers per token and block: about 42 arrays of
# the stream's width (each operation's output is a new array, and every one of them is an
# input some backward rule needs, or the parent of one; the MLP's $4d$-wide ones count four
# times), and four $T \times T$ arrays per head (the scores, the scaled scores, the weights,
# and the copy the softmax saves). For the milestone model ($d = 64$, $H = 4$, $T = 64$,
# batch 16, two blocks) the whole graph holds about 30 MiB against 0.45 MiB of parameters:
# at these sizes **training memory is activations**, sixty times the weights. It grows linearly with the batch and, through
# the attention term, quadratically with the context. Frameworks cut it with fused kernels
# (one output instead of five temporaries), by recomputing cheap activations during backward
# (gradient checkpointing), and, for attention, with kernels that never store the
# $T \times T$ weights (FlashAttention).
#
# ## Summary
#
# - **LayerNorm** normalises each position's features with their own mean and (biased)
#   variance, then scales and shifts them; its backward passes every input's gradient
#   through the row's mean and variance: $\frac{1}{s}(\hat g - \bar{\hat g} - \hat x\,
#   \overline{\hat g \hat x})$. Compute the variance from centred values, never as
#   $\overline{x^2} - \mu^2$.
# - A **pre-norm block** is $x + \mathrm{attn}(\mathrm{ln}_1(x))$, then
#   $x + \mathrm{mlp}(\mathrm{ln}_2(x))$: the residual stream carries gradients through
#   any depth; the MLP ($d \to 4d \to d$, GELU) holds two thirds of a block's
#   $12 d^2 + 13 d$ parameters.
# - A **GPT** is token and position embeddings, $L$ blocks under one causal mask, a final
#   LayerNorm and a head: $V d + T d + L (12 d^2 + 13 d) + 2 d + d V$ parameters. Causality
#   is testable from outside: later tokens never move earlier logits.
# - **Generation** crops the context to the last `max_seq_len` tokens, runs without a graph
#   (`no_grad`), and samples with a temperature (0 = greedy) and top-k from a seeded
#   generator, so that a seed fixes the text.
# - Forward FLOPs per token are about $L (24 d^2 + 4 T d) + 2 d V$: attention overtakes the
#   dense layers at $T = 6 d$. In NumPy, small models are limited by per-operation overhead
#   and memory traffic, not FLOPs; training memory is dominated by activations.
#
# **Reflection.**
#
# 1. Remove the residual connections (`x = self.attn(self.ln1(x), mask)`) and train the
#    12-block model of your choice. What happens to the loss, and why does the gradient of
#    the first block shrink?
# 2. `generate` recomputes the keys and values of the whole context at every step. For a
#    context of 64 and 200 new tokens, how many times is the key of the first prompt token
#    computed? What would a cache (Module 14) store, per layer, to avoid it, and how many
#    bytes is that for the milestone model?
# 3. With top-k $= 1$ sampling is greedy. With temperature $0.01$ it is nearly greedy.
#    When would you prefer each, and what does a temperature of $10$ produce?
# 4. Weight tying shares the token table with the head ($W_{\text{head}} = E^\top$). How
#    many parameters would it save in the milestone model, and why might it help a small
#    model learn rare tokens?
