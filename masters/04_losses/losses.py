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
# # Module 04: Losses
#
# A network turns inputs into predictions; a **loss** turns predictions and the right
# answers into one number that says how wrong the network is. Training is nothing more than
# changing the weights so that this number goes down, so the loss decides what the network
# learns: get it wrong and the network learns the wrong thing, or nothing at all.
#
# In this module you write the three losses that cover most of deep learning: mean squared
# error for regression, cross-entropy for classification, and binary cross-entropy for
# yes/no questions. The formulas fit on one line each. The work is in the corners: shapes
# that broadcast when they should not, targets that are not class indices, and above all
# **numbers that do not fit in a float32**. A classifier that is confidently right or
# confidently wrong produces logits in the hundreds or thousands, and the textbook formula
# `log(softmax(z))` then returns `nan`, which poisons every weight it touches. You will write
# the version that stays finite.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - compute the **mean squared error** and say why a loss refuses to broadcast `(N, 1)`
#   against `(N,)`;
# - derive **log-softmax** with the **log-sum-exp** trick, and explain why subtracting the
#   row maximum changes nothing in exact arithmetic but everything in float32;
# - build **cross-entropy** from logits and integer class targets with NumPy's integer-array
#   indexing, and check its inputs with errors that name the problem;
# - compute **binary cross-entropy** on probabilities, clipping them so that `log(0)` never
#   happens, and explain why float32 cannot tell `1 - 1e-8` from `1`;
# - measure, for growing logits, where the naive formula overflows and the stable one does not.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in four places, one per task. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, dtype, errors, and hints.
# - Each task's test cell, `test_<task id>`, comes right after its code cell. The asserts
#   you can read there are the **visible tests**: run them as often as you like, and read
#   their messages when they fail.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other batch sizes and class counts, other axes, logits of
#   size 10,000, probabilities of exactly 0 and 1, more kinds of bad targets). Code that
#   follows the contract passes them; code tuned to the visible examples does not. A failing
#   hidden check tells you which behaviour it was about.
# - A test cell earns its points only when every check in it passes.
# - NumPy warnings count as failures. Under grading, anything a test cell writes to stderr
#   scores it 0, and NumPy writes a `RuntimeWarning` there for `exp` overflow or `log(0)`.
#   The tests therefore run your code with those warnings turned into errors, and a warning
#   fails the check with a message that names it.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `mse_loss` | `MSELoss`: mean squared error, with a shape check | 4 |
# | `log_softmax` | `log_softmax(x, dim=-1)`, stable for any size of input | 5 |
# | `cross_entropy_loss` | `CrossEntropyLoss`: logits and integer class targets | 6 |
# | `binary_cross_entropy_loss` | `BinaryCrossEntropyLoss`: probabilities, clipped | 5 |
# | | **total** | **20** |
#
# Work in the order of the table: `CrossEntropyLoss` calls your `log_softmax`. When your
# notebook is graded, each test cell runs the *other* tasks' code from the course's
# reference solution, so a bug in `log_softmax` costs points only in its own test; in your
# own runs of the visible tests, it shows up in both.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.losses: the numbers training makes small.

MSELoss for regression, CrossEntropyLoss (built on the stable log_softmax) for
classification from logits, and BinaryCrossEntropyLoss for probabilities. Every loss is a
callable object that returns a 0-d float32 Tensor: the mean over the batch.
Written by students in Module 04; Module 05 (autograd) adds their gradients.
"""

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["Loss", "MSELoss", "log_softmax", "CrossEntropyLoss", "BinaryCrossEntropyLoss"]

# %% [markdown]
# ## Given: the `Loss` base class and `_as_array`
#
# The cell below is given and read-only. Run it; every task builds on it.
#
# **Losses are objects.** As in PyTorch (`nn.MSELoss()`, `nn.CrossEntropyLoss()`), you first
# make a loss object, then call it like a function:
#
# ```
#   loss_fn = MSELoss()                   # settings go here: BinaryCrossEntropyLoss(eps=1e-7)
#   loss = loss_fn(predictions, targets)  # Loss.__call__ runs loss_fn.forward(...)
#   loss.item()                           # a Python float, for printing and plotting
# ```
#
# An object can hold settings (`eps`), and every loss is used the same way, so a training
# loop can take any of them. Each task below writes the `forward` method of one subclass of
# `Loss`.
#
# **Inputs.** Predictions and targets may be Tensors, NumPy arrays or nested lists. The
# helper `_as_array(x)` gives you the numbers as a float32 NumPy array in every case: a
# Tensor's `.data` itself, anything else converted. Because it may hand you the caller's own
# array, never write into it (`a -= m` would change the caller's tensor); compute new arrays
# instead (`b = a - m`).
#
# **Output.** Every loss returns a **0-d float32 Tensor**: one number, shape `()`. Wrapping
# a NumPy number in `Tensor(...)` gives exactly that.


# %% kind="locked" id="loss_base" export=true
def _as_array(x: "Tensor | np.ndarray | list | float") -> np.ndarray:
    """The values of x as a float32 numpy.ndarray: a Tensor's .data itself, anything else
    converted with np.asarray(x, dtype=np.float32). The result may be the caller's own array:
    read it, never write into it."""
    if isinstance(x, Tensor):
        return x.data
    return np.asarray(x, dtype=np.float32)


class Loss:
    """Base class of every loss: loss_fn(predictions, targets) runs
    loss_fn.forward(predictions, targets), which returns a 0-d float32 Tensor."""

    def __call__(self, predictions, targets) -> Tensor:
        return self.forward(predictions, targets)

    def forward(self, predictions, targets) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share; run it once before the test cells.
# The first part is the same in every module: `assert_tensor(out, expected, what)` checks
# that a result is a float32 `Tensor` of the expected shape and values (compared the way
# `np.allclose` does), `check_close` and `check_equal` compare arrays, and `raised(lambda:
# ...)` returns the exception a call raised, or `None`. The last part is this module's own.
# `assert_result(lambda: expression, expected, what)` evaluates the expression with NumPy's
# overflow, divide-by-zero and invalid-value warnings turned into a failing assert, then
# checks, in order: that the result is a Tensor, that its `.data` is a float32 array, its
# shape (a loss has shape `()`), that every value is finite, and finally the values against
# `expected` computed in float64. `assert_value_error(lambda: expression, what, *texts)`
# checks that the expression raises `ValueError` and that the message contains each of
# `texts` (typically the offending shapes).


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = (
    "A loss is one number, shape (): average over every element with np.mean. log_softmax "
    "keeps its input's shape: reduce along dim only, with keepdims=True."
)


def quietly(call, what: str):
    """Return call(), failing with an AssertionError if NumPy warns while it runs.

    Overflow (exp of a large number), division by zero (log of 0) and invalid operations
    (inf - inf, 0 * inf) all write a RuntimeWarning to stderr, which zeroes a test cell under
    grading; here they fail the check and say which warning it was. Underflow (exp of a very
    negative number becoming 0) is harmless and allowed.
    """
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return call()
    except FloatingPointError as err:
        raise AssertionError(
            f"{what}: NumPy warned '{err}'. A warning fails a test cell when it is graded. "
            "Overflow in exp: a large number reached exp; subtract the maximum first. "
            "Divide by zero in log: log(0); use log_softmax or clip the probabilities."
        ) from None


def assert_result(call, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Assert that call() returns, without NumPy warnings, a finite float32 Tensor with the
    shape and values of `expected` (compared in float64 with rtol and atol).

    `what` names the expression under test; every message starts with it. After the call,
    the checks are assert_tensor's, with one more before the values: every value is finite.
    """
    out = quietly(call, what)
    data = getattr(out, "data", None)
    if type(data) is np.ndarray and data.dtype == np.float32 and data.shape == np.shape(expected):
        assert np.all(np.isfinite(data)), (
            f"{what}: the result contains inf or nan:\n{data}\n"
            "Large inputs need the stable formula; probabilities need clipping before log."
        )
    assert_tensor(out, expected, what, rtol=rtol, atol=atol)


def assert_value_error(call, what: str, *texts: str) -> None:
    """Assert that call() raises ValueError and that its message contains each of `texts`."""
    try:
        call()
    except ValueError as err:
        message = str(err)
    except Exception as err:
        raise AssertionError(
            f"{what}: expected ValueError, got {type(err).__name__}: {err}. "
            "Check the inputs first and raise ValueError yourself."
        ) from None
    else:
        raise AssertionError(f"{what}: expected ValueError, but nothing was raised.")
    for text in texts:
        assert text in message, (
            f"{what}: the error message should contain {text!r}; got {message!r}."
        )


# %% [markdown]
# ## Task `mse_loss`: mean squared error (4 points)
#
# For regression (predicting a price, a temperature, a coordinate) the natural measure of
# wrongness is the distance between prediction $\hat y$ and target $y$. The **mean squared
# error** averages the squared differences over all $n$ elements:
#
# $$\mathrm{MSE}(\hat y, y) = \frac{1}{n} \sum_{i=1}^{n} (\hat y_i - y_i)^2 .$$
#
# ```
#   predictions  [ 2.5   0.0   2.0   8.0 ]
#   targets      [ 3.0  -0.5   2.0   7.0 ]
#   difference   [-0.5   0.5   0.0   1.0 ]
#   squared      [ 0.25  0.25  0.0   1.0 ]     MSE = (0.25 + 0.25 + 0 + 1) / 4 = 0.375
# ```
#
# Squaring makes every error count as positive and makes big errors count much more than
# small ones (an error of 10 costs 100 times an error of 1). Taking the **mean** rather than
# the sum keeps the loss on the same scale whatever the batch size, so the learning rate
# you pick does not depend on it. For a `(N, D)` batch (N examples, D outputs each) the
# mean runs over all $N \cdot D$ elements, as PyTorch's default `reduction="mean"` does.
#
# **No broadcasting.** A model with one output gives predictions of shape `(N, 1)`; targets
# loaded from a file often have shape `(N,)`. Broadcasting would happily subtract them and
# give an `(N, N)` table of every prediction minus every target:
#
# ```
#   predictions (4, 1)    targets (4,)          predictions - targets: (4, 4), 16 numbers
#   [[p0]                 [t0 t1 t2 t3]         [[p0-t0  p0-t1  p0-t2  p0-t3]
#    [p1]                                        [p1-t0  p1-t1  p1-t2  p1-t3]
#    [p2]                                        [p2-t0  ...                 ]
#    [p3]]                                       [p3-t0  ...           p3-t3]]
# ```
#
# The mean of that table is a perfectly finite number, so training runs without a single
# error while the network quietly learns the wrong thing: a bug that can cost days. So
# `MSELoss` demands equal shapes and raises a `ValueError` that names both:
#
# ```
# MSELoss: predictions shape (4, 1) and targets shape (4,) differ
# ```


# %% kind="solution" id="mse_loss" export=true
class MSELoss(Loss):
    """Mean squared error: the mean over all elements of (predictions - targets) ** 2."""

    def forward(self, predictions, targets) -> Tensor:
        """The mean squared error of predictions against targets.

        Args:
            predictions: a Tensor (or array, or list) of any shape, e.g. (N,) or (N, D).
            targets: the right answers, with exactly the same shape.

        Returns:
            a 0-d float32 Tensor: sum((predictions - targets) ** 2) / n, where n is the
            number of elements (all of them, not just the batch size N).

        Raises:
            ValueError: when the shapes differ (no broadcasting), with a message naming both
                shapes, like "MSELoss: predictions shape (4, 1) and targets shape (4,) differ".

        Hint: _as_array gives both as arrays; compare their .shape, then np.mean does the
        averaging. Tensor(...) of the NumPy result is the 0-d float32 Tensor to return.
        """
        # Task mse_loss: check the shapes, then return the mean squared difference.
        ### BEGIN SOLUTION
        pred, target = _as_array(predictions), _as_array(targets)
        if pred.shape != target.shape:
            raise ValueError(
                f"MSELoss: predictions shape {pred.shape} and targets shape {target.shape} "
                "differ; reshape one of them (broadcasting would compare every prediction "
                "with every target)"
            )
        diff = pred - target
        return Tensor(np.mean(diff**2))
        ### END SOLUTION


# %% [markdown]
# ### Test `mse_loss`

# %% kind="test" id="test_mse_loss" points=4
mse = MSELoss()
assert isinstance(mse, Loss), "MSELoss should be a subclass of the given Loss class."
pred = Tensor([2.5, 0.0, 2.0, 8.0])
target = Tensor([3.0, -0.5, 2.0, 7.0])
assert_result(lambda: mse(pred, target), 0.375, "MSELoss()(pred, target) from the picture")
assert_result(lambda: mse.forward(pred, target), 0.375, "MSELoss().forward(pred, target)")
assert_result(lambda: mse(pred, pred), 0.0, "MSELoss()(pred, pred): a perfect prediction")

# (2, 2): squared differences 1, 4, 0, 9; the mean is over all 4 elements.
pred2 = Tensor([[1.0, 2.0], [3.0, 4.0]])
target2 = np.array([[0.0, 4.0], [3.0, 1.0]])  # a NumPy array works as targets too
assert_result(
    lambda: mse(pred2, target2),
    3.5,
    "MSELoss() of a (2, 2) batch (the mean runs over all 4 elements, not over 2 rows)",
)

assert_value_error(
    lambda: mse(Tensor(np.zeros((4, 1))), Tensor(np.zeros(4))),
    "MSELoss() of predictions (4, 1) and targets (4,)",
    "(4, 1)",
    "(4,)",
)
assert np.array_equal(pred.data, [2.5, 0.0, 2.0, 8.0]), (
    "MSELoss changed its predictions: compute new arrays instead of writing into .data."
)


### BEGIN HIDDEN TESTS
# hidden: the loss is a finite 0-d float32 Tensor equal to the mean squared difference
def _ok(call, expected, rtol=1e-5, atol=1e-6):
    """call() gives, without NumPy warnings, a finite float32 Tensor equal to expected."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        out = call()
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(np.all(np.isfinite(data)))
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


def _rejects(call, *texts):
    """call() raises ValueError whose message contains every one of texts."""
    try:
        call()
    except ValueError as err:
        return all(text in str(err) for text in texts)
    return False


rng = np.random.default_rng(401)
a64 = rng.standard_normal((5, 3)).astype(np.float32).astype(np.float64)
b64 = (rng.standard_normal((5, 3)) * 2.0 + 0.5).astype(np.float32).astype(np.float64)
loss_fn = MSELoss()
assert _ok(lambda: loss_fn(Tensor(a64), Tensor(b64)), np.mean((a64 - b64) ** 2)), "(5, 3) batch"
assert _ok(lambda: loss_fn(Tensor(b64), Tensor(a64)), np.mean((b64 - a64) ** 2)), "swapped args"
# hidden: the mean runs over every element of a batch of any shape
c64 = np.arange(-7.0, 7.0).reshape(2, 7) / 4.0
d64 = np.linspace(-1.0, 3.0, 14).astype(np.float32).astype(np.float64).reshape(2, 7)
assert _ok(lambda: loss_fn(Tensor(c64), Tensor(d64)), np.mean((c64 - d64) ** 2)), "(2, 7) batch"
e64 = np.array([3.0, -1.0, 0.5, 2.0, -4.0, 1.5, 0.0])
f64 = np.array([1.0, -1.0, 2.5, -2.0, -4.5, 1.0, 3.0])
assert _ok(lambda: loss_fn(Tensor(e64), Tensor(f64)), np.mean((e64 - f64) ** 2)), "(7,) batch"
assert _ok(lambda: loss_fn(Tensor([[-2.0]]), Tensor([[1.0]])), 9.0), "a single element"
assert _ok(lambda: loss_fn(Tensor(1.5), Tensor(-0.5)), 4.0), "0-d inputs"
# hidden: targets given as a NumPy array or a list work like a Tensor
assert _ok(lambda: loss_fn(Tensor(e64), f64), np.mean((e64 - f64) ** 2)), "array targets"
assert _ok(lambda: loss_fn(Tensor(e64), list(f64)), np.mean((e64 - f64) ** 2)), "list targets"
# hidden: different shapes raise ValueError naming both shapes instead of broadcasting
assert _rejects(lambda: loss_fn(Tensor(np.ones((3, 1))), Tensor(np.ones(3))), "(3, 1)", "(3,)")
assert _rejects(lambda: loss_fn(Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))), "(2, 3)")
assert _rejects(lambda: loss_fn(Tensor(np.ones(6)), Tensor(np.ones((1, 6)))), "(6,)", "(1, 6)")
assert _rejects(lambda: loss_fn(Tensor(np.ones(4)), Tensor(np.ones(5))), "(4,)", "(5,)")
# hidden: the inputs are left unchanged
p, t = Tensor(a64), Tensor(b64)
loss_fn(p, t)
assert check_equal(p.data, a64) and check_equal(t.data, b64), "inputs unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `log_softmax`: log-probabilities that stay finite (5 points)
#
# A classifier with $C$ classes ends in a layer that outputs $C$ unconstrained numbers per
# example, the **logits** $z_1, \dots, z_C$. Softmax turns them into probabilities:
#
# $$\mathrm{softmax}(z)_j = \frac{e^{z_j}}{\sum_{k=1}^{C} e^{z_k}} ,
# \qquad
# \log \mathrm{softmax}(z)_j = z_j - \log \sum_{k=1}^{C} e^{z_k} .$$
#
# Losses need the **logarithm** of these probabilities, and computing it as
# `log(softmax(z))` breaks in float32 long before the logits look unusual:
#
# - **overflow**: the largest float32 is about $3.4 \times 10^{38} \approx e^{88.7}$, so
#   `exp(89)` is `inf`, and `inf / inf` is `nan`;
# - **underflow**: the smallest positive float32 is about $1.4 \times 10^{-45} \approx
#   e^{-103}$, so a probability like $e^{-200}$ becomes exactly `0`, and `log(0)` is `-inf`.
#
# **The log-sum-exp trick.** Shifting every logit by the same constant $c$ changes nothing:
#
# $$\frac{e^{z_j - c}}{\sum_k e^{z_k - c}} = \frac{e^{-c} e^{z_j}}{e^{-c} \sum_k e^{z_k}}
# = \mathrm{softmax}(z)_j .$$
#
# Choose $c = m = \max_k z_k$. Then every shifted logit $z_k - m$ is $\le 0$, so no `exp`
# can overflow; the largest one is $e^0 = 1$, so the sum lies between 1 and $C$ and its
# logarithm is an ordinary number between 0 and $\log C$. Putting it together:
#
# $$\log \mathrm{softmax}(z)_j = (z_j - m) - \log \sum_{k=1}^{C} e^{z_k - m} .$$
#
# ```
#   z                    [ 1000      999       0     ]
#   naive exp(z)         [  inf      inf       1     ]  ->  inf / inf = nan
#   z - m   (m = 1000)   [    0       -1   -1000     ]
#   exp(z - m)           [    1    0.368       0     ]  sum 1.368, log 0.313
#   log_softmax(z)       [ -0.313  -1.313  -1000.313 ]  (z - m) - 0.313, all finite
# ```
#
# The last entry is $-1000.313$: exactly right, even though its probability $e^{-1000}$
# does not exist in float32. Working with log-probabilities keeps the information that
# probabilities lose.
#
# **Along an axis.** `log_softmax(x, dim)` normalises along axis `dim` (default `-1`, the
# last one: for logits of shape `(N, C)`, each row separately). Take the maximum and the
# sum along `dim` with `keepdims=True`, so that they keep a length-1 axis and broadcast back
# against `x`; `dim` may be negative, and `x` may have any number of axes.
#
# ```
#   x (2, 3)                  m = x.max(axis=-1, keepdims=True)  (2, 1)    x - m   (2, 3)
#   [ 1  2  3 ]               [ 3 ]                                        [ -2 -1  0 ]
#   [ 5  5  5 ]               [ 5 ]                                        [  0  0  0 ]
# ```
#
# A tip on accuracy: write it as `(x - m) - log(sum)` rather than `x - (m + log(sum))`.
# Both are stable, but for logits near 10,000 the sum `m + log(sum)` rounds to the nearest
# 0.001 in float32, while `x - m` is exact. The tests accept either form.


# %% kind="solution" id="log_softmax" export=true
def log_softmax(x: "Tensor | np.ndarray", dim: int = -1) -> Tensor:
    """The logarithm of softmax(x) along axis dim, computed stably (log-sum-exp).

    Args:
        x: a Tensor (or array) of any shape, e.g. logits of shape (N, C).
        dim: the axis to normalise along; negative values count from the end. The default,
            -1, is the last axis: each row of an (N, C) input separately.

    Returns:
        a new float32 Tensor with x's shape, where, with m the maximum of x along dim,
        log_softmax(x) = (x - m) - log(sum(exp(x - m))) and the sum runs along dim.
        Along dim, exp(result) sums to 1. Every entry is finite for any finite x, even with
        entries of size 10,000, and NumPy prints no overflow or divide-by-zero warning.

    Hint: x.max(axis=dim, keepdims=True) and .sum(axis=dim, keepdims=True) keep the reduced
    axis with length 1, so they broadcast against x. Do not write into the input array.
    """
    # Task log_softmax: shift by the maximum along dim, subtract the log of the sum of exps.
    ### BEGIN SOLUTION
    values = _as_array(x)
    shifted = values - values.max(axis=dim, keepdims=True)
    return Tensor(shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True)))
    ### END SOLUTION


# %% [markdown]
# ### Test `log_softmax`

# %% kind="test" id="test_log_softmax" points=5
x64 = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
x = Tensor(x64)
# For small numbers the textbook formula is fine in float64, so it gives the expected values.
naive_rows = np.log(np.exp(x64) / np.exp(x64).sum(axis=1, keepdims=True))
assert_result(lambda: log_softmax(x), naive_rows, "log_softmax(x) for x of shape (2, 3)")
assert np.array_equal(x.data, x64), (
    "log_softmax changed its input: compute x - m as a new array instead of writing into x."
)
assert_result(
    lambda: log_softmax(x, dim=1), naive_rows, "log_softmax(x, dim=1) (the same as dim=-1 here)"
)
# The second row is uniform: each of its 3 entries is log(1/3) = -1.0986.

naive_cols = np.log(np.exp(x64) / np.exp(x64).sum(axis=0, keepdims=True))
assert_result(lambda: log_softmax(x, dim=0), naive_cols, "log_softmax(x, dim=0) (down each column)")
assert_result(
    lambda: log_softmax(Tensor([0.0, 0.0])), [-np.log(2), -np.log(2)], "log_softmax of a 1-D input"
)

# Large logits: the naive formula gives nan here; the stable one stays finite. (Near 1000,
# float32 numbers are 0.00006 apart, hence the absolute tolerance of 0.001.)
big = Tensor([[1000.0, 999.0, 0.0]])
assert_result(
    lambda: log_softmax(big),
    [[-0.31326169, -1.31326169, -1000.31326169]],
    "log_softmax([[1000, 999, 0]]) from the picture (subtract the row maximum before exp)",
    atol=1e-3,
)


### BEGIN HIDDEN TESTS
# hidden: the result is a finite float32 Tensor of the input's shape equal to log(softmax)
def _ok(call, expected, rtol=1e-5, atol=1e-6):
    """call() gives, without NumPy warnings, a finite float32 Tensor equal to expected."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        out = call()
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(np.all(np.isfinite(data)))
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


def _reference(z, axis):
    """log_softmax in float64."""
    z = np.asarray(z, dtype=np.float64)
    top = z.max(axis=axis, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=axis, keepdims=True))


rng = np.random.default_rng(402)
z64 = (rng.standard_normal((4, 6)) * 3.0).astype(np.float32).astype(np.float64)
z = Tensor(z64)
assert _ok(lambda: log_softmax(z), _reference(z64, -1)), "default dim is the last axis"
assert _ok(lambda: log_softmax(z, dim=1), _reference(z64, 1)), "dim=1 of an (N, C) input"
# hidden: normalising along another axis, negative axes included
assert _ok(lambda: log_softmax(z, dim=0), _reference(z64, 0)), "dim=0 normalises each column"
assert _ok(lambda: log_softmax(z, dim=-2), _reference(z64, 0)), "dim=-2 counts from the end"
w64 = (rng.standard_normal((2, 5, 3)) * 2.0).astype(np.float32).astype(np.float64)
w = Tensor(w64)
assert _ok(lambda: log_softmax(w, dim=1), _reference(w64, 1)), "the middle axis of a 3-D input"
assert _ok(lambda: log_softmax(w), _reference(w64, 2)), "the last axis of a 3-D input"
assert _ok(lambda: log_softmax(w, dim=0), _reference(w64, 0)), "the first axis of a 3-D input"
sq64 = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0], [1.0, 1.0, -1.0]])
assert _ok(lambda: log_softmax(Tensor(sq64)), _reference(sq64, 1)), "a square input by rows"
# hidden: a 1-D input and a NumPy array input
v64 = np.array([-1.5, 0.0, 2.5, 0.25, -3.0])
assert _ok(lambda: log_softmax(Tensor(v64)), _reference(v64, 0)), "a 1-D input"
assert _ok(lambda: log_softmax(v64), _reference(v64, 0)), "a NumPy array input"
# hidden: logits of size 10,000 and rows at very different levels give finite, accurate results
h64 = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4 + 0.5], [5e3, -5e3, 0.0]])
h = Tensor(h64)
assert _ok(lambda: log_softmax(h), _reference(h64, 1), atol=1e-3), "huge logits by rows"
assert _ok(lambda: log_softmax(h, dim=0), _reference(h64, 0), atol=1e-3), "huge logits by columns"
assert _ok(lambda: log_softmax(-h), _reference(-h64, 1), atol=1e-3), "huge negated logits"
g64 = np.array([[200.0, -300.0], [-250.0, 150.0]])
assert _ok(lambda: log_softmax(Tensor(g64)), _reference(g64, 1), atol=1e-4), "logits of size 300"
# hidden: the result is a new Tensor and the input is left unchanged
out = log_softmax(h)
assert out is not h and check_equal(h.data, h64), "input unchanged"
assert check_equal(z.data, z64), "input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `cross_entropy_loss`: classification from logits (6 points)
#
# For a classifier, the prediction is a row of $C$ logits per example and the target is the
# index of the right class, an integer $y_i \in \{0, \dots, C-1\}$. **Cross-entropy** is the
# negative log of the probability the model gave to the right class, averaged over the
# batch of $N$ examples:
#
# $$\mathrm{CE} = \frac{1}{N} \sum_{i=1}^{N} -\log \mathrm{softmax}(z_i)_{y_i}
# = \frac{1}{N} \sum_{i=1}^{N} \Big( \mathrm{logsumexp}(z_i) - z_{i, y_i} \Big),$$
#
# with $\mathrm{logsumexp}(z_i) = m_i + \log \sum_k e^{z_{i,k} - m_i}$ and $m_i$ the row
# maximum: exactly what your `log_softmax` computes. Read it as a price for surprise:
#
# | probability of the right class | 1 | 0.9 | 0.5 | 0.1 | 0.01 | $e^{-1000}$ |
# |---|---|---|---|---|---|---|
# | loss $-\log p$ | 0 | 0.105 | 0.693 | 2.303 | 4.605 | 1000 |
#
# A useful sanity check: an untrained network gives roughly equal logits, so every class
# gets probability $1/C$ and the loss starts near $\log C$ (2.303 for 10 classes). A first
# loss far from that points at a bug.
#
# **Picking one entry per row.** NumPy's integer-array indexing takes, for each row $i$,
# the column `targets[i]`:
#
# ```
#   logits (N=3, C=4)       log_softmax(logits) along each row      target   picked
#   [ 2.0  0.5 -1.0  0.1 ]  [ -0.35  -1.85  -3.35  -2.25 ]            0      -0.35
#   [ 0.0  3.0  0.0  1.0 ]  [ -3.21  -0.21  -3.21  -2.21 ]            1      -0.21
#   [ 1.0  1.0  1.0  1.0 ]  [ -1.39  -1.39  -1.39  -1.39 ]            3      -1.39
#
#   log_probs[np.arange(3), targets]  ->  [-0.35 -0.21 -1.39]     loss = 1.95 / 3 = 0.65
# ```
#
# `np.arange(N)` lists the rows and `targets` the columns; the two arrays are read in pairs.
# The indices must be integers, so convert the targets with `.astype(int)` once they have
# passed the checks below.
#
# **Checking the inputs.** Wrong targets are the most common classification bug, and most
# of them do not crash NumPy; they silently compute the wrong loss. A target of `-1` picks
# the *last* class, targets of shape `(N, 1)` broadcast against `np.arange(N)` into an
# `(N, N)` table, and a target of `2.7` would be truncated to class 2. So check, in this
# order, and raise `ValueError`:
#
# 1. the logits have two axes, `(N, C)`; name their shape, e.g.
#    `CrossEntropyLoss: logits must have shape (N, C), got (5,)`;
# 2. the targets have shape `(N,)`, one class index per row; name their shape, e.g.
#    `CrossEntropyLoss: targets must have shape (3,) for logits (3, 4), got (3, 1)`;
# 3. every target is a whole number (targets may come as a Tensor, whose values are
#    float32, or as an integer array or list: `2.0` is fine, `2.5` is not);
# 4. every target is in the range $0 \le y < C$.


# %% kind="solution" id="cross_entropy_loss" export=true
class CrossEntropyLoss(Loss):
    """Cross-entropy of logits against integer class targets, averaged over the batch."""

    def forward(self, predictions, targets) -> Tensor:
        """The mean over the batch of -log_softmax(logits)[i, targets[i]].

        Args:
            predictions: logits, a Tensor (or array) of shape (N, C): N examples, C classes.
            targets: class indices, shape (N,): a Tensor, an integer NumPy array or a list,
                each a whole number with 0 <= target < C.

        Returns:
            a 0-d float32 Tensor: (1 / N) * sum_i (logsumexp(z_i) - z_i[targets[i]]),
            finite and accurate for logits of any size (use your log_softmax).

        Raises:
            ValueError, checked in this order:
            - the logits do not have 2 axes (the message names their shape);
            - the targets' shape is not (N,) (the message names the targets' shape);
            - a target is not a whole number;
            - a target is below 0 or at least C.

        Hint: log_probs = log_softmax(logits).data, then
        log_probs[np.arange(N), class_indices] picks one entry per row. Do not pass a dim:
        the default is the class axis.
        """
        # Task cross_entropy_loss: check logits and targets, then average -log_softmax.
        ### BEGIN SOLUTION
        logits, labels = _as_array(predictions), _as_array(targets)
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss: logits must have shape (N, C), got {logits.shape}")
        n, c = logits.shape
        if labels.shape != (n,):
            raise ValueError(
                f"CrossEntropyLoss: targets must have shape ({n},) for logits {logits.shape}, "
                f"got {labels.shape}; pass one class index per row, not one-hot rows"
            )
        if np.any(labels != np.round(labels)):
            raise ValueError(f"CrossEntropyLoss: targets must be whole class indices, got {labels}")
        if np.any(labels < 0) or np.any(labels >= c):
            raise ValueError(
                f"CrossEntropyLoss: targets must be class indices in [0, {c}), got values "
                f"from {labels.min():g} to {labels.max():g}"
            )
        log_probs = log_softmax(logits).data
        picked = log_probs[np.arange(n), labels.astype(int)]
        return Tensor(-np.mean(picked))
        ### END SOLUTION


# %% [markdown]
# ### Test `cross_entropy_loss`

# %% kind="test" id="test_cross_entropy_loss" points=6
ce = CrossEntropyLoss()
logits64 = np.array([[2.0, 0.5, -1.0, 0.1], [0.0, 3.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
logits = Tensor(logits64)
targets = np.array([0, 1, 3])
# Expected value the textbook way, which is fine in float64 for small logits.
probs = np.exp(logits64) / np.exp(logits64).sum(axis=1, keepdims=True)
expected = -np.mean(np.log(probs[np.arange(3), targets]))  # 0.6499, as in the picture
assert_result(lambda: ce(logits, targets), expected, "CrossEntropyLoss()(logits, targets)")
assert np.array_equal(logits.data, logits64.astype(np.float32)), (
    "CrossEntropyLoss changed the logits: compute new arrays instead of writing into .data."
)
assert_result(
    lambda: ce(logits, Tensor([0, 1, 3])), expected, "targets given as a Tensor (float32 values)"
)
assert_result(lambda: ce(logits, [0, 1, 3]), expected, "targets given as a list")
assert_result(
    lambda: ce(Tensor(np.zeros((4, 10))), [0, 3, 9, 5]),
    np.log(10),
    "all-zero logits for 10 classes (every class gets 1/10, so the loss is log(10))",
)
# Logits of size 10,000: row 0 is confidently wrong (loss 20,000), row 1 confidently right.
assert_result(
    lambda: ce(Tensor([[1e4, 0.0, -1e4], [-1e4, 0.0, 1e4]]), [2, 2]),
    1e4,
    "CrossEntropyLoss() of logits of size 1e4 (needs the stable log_softmax)",
)

assert_value_error(lambda: ce(logits, [0, 1, 4]), "target 4 with only 4 classes (0 to 3)")
assert_value_error(lambda: ce(logits, [0, -1, 3]), "target -1 (it would pick the last class)")
assert_value_error(lambda: ce(logits, [0, 1.5, 3]), "target 1.5 (not a whole number)")
assert_value_error(lambda: ce(logits, [[0], [1], [3]]), "targets of shape (3, 1)", "(3, 1)")
assert_value_error(lambda: ce(Tensor([0.5, 2.0, 1.0]), [1]), "1-D logits of shape (3,)", "(3,)")


### BEGIN HIDDEN TESTS
# hidden: the loss is a finite 0-d float32 Tensor equal to the mean of -log_softmax at the targets
def _ok(call, expected, rtol=1e-5, atol=1e-6):
    """call() gives, without NumPy warnings, a finite float32 Tensor equal to expected."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        out = call()
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(np.all(np.isfinite(data)))
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


def _rejects(call, *texts):
    """call() raises ValueError whose message contains every one of texts."""
    try:
        call()
    except ValueError as err:
        return all(text in str(err) for text in texts)
    return False


def _reference(z, y):
    """Mean cross-entropy in float64 by log-sum-exp."""
    z = np.asarray(z, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return np.mean(lse - z[np.arange(len(y)), np.asarray(y)])


loss_fn = CrossEntropyLoss()
rng = np.random.default_rng(403)
z64 = (rng.standard_normal((6, 5)) * 2.0).astype(np.float32).astype(np.float64)
y = np.array([4, 0, 2, 2, 1, 3])
assert _ok(lambda: loss_fn(Tensor(z64), y), _reference(z64, y), atol=1e-5), "a (6, 5) batch"
# hidden: other batch sizes and class counts, including one example and two classes
q64 = (rng.standard_normal((9, 2)) * 4.0).astype(np.float32).astype(np.float64)
yq = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0])
assert _ok(lambda: loss_fn(Tensor(q64), yq), _reference(q64, yq), atol=1e-5), "two classes"
r64 = (rng.standard_normal((1, 12)) * 3.0).astype(np.float32).astype(np.float64)
assert _ok(lambda: loss_fn(Tensor(r64), [11]), _reference(r64, [11]), atol=1e-5), "one example"
s64 = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0], [1.0, 1.0, -1.0]])
ys = np.array([2, 0, 1])
assert _ok(lambda: loss_fn(Tensor(s64), ys), _reference(s64, ys)), "a square (3, 3) batch"
yt = Tensor([1.0, 2.0, 0.0])
assert _ok(lambda: loss_fn(Tensor(s64), yt), _reference(s64, [1, 2, 0])), "Tensor targets"
yi = np.array([0, 2, 2], dtype=np.int32)
assert _ok(lambda: loss_fn(Tensor(s64), yi), _reference(s64, yi)), "int32 targets"
assert _ok(lambda: loss_fn(s64, [1, 1, 1]), _reference(s64, [1, 1, 1])), "array logits"
# hidden: logits given as a nested list work like a Tensor
assert _ok(lambda: loss_fn(s64.tolist(), ys), _reference(s64, ys)), "list logits"
# hidden: logits of size 10,000 give a finite loss that matches a float64 reference
h64 = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4 + 0.5], [5e3, -5e3, 0.0]])
yh = np.array([1, 0, 2])
assert _ok(lambda: loss_fn(Tensor(h64), yh), _reference(h64, yh), atol=1e-3), "huge logits"
assert _ok(lambda: loss_fn(Tensor(-h64), yh), _reference(-h64, yh), atol=1e-3), "huge logits"
assert _ok(lambda: loss_fn(Tensor([[1e4, -1e4]]), [0]), 0.0, atol=1e-3), "confident and right"
assert _ok(lambda: loss_fn(Tensor([[-1e4, 1e4]]), [0]), 2e4), "confident and wrong"
# hidden: targets out of the range 0 to C - 1 raise ValueError
assert _rejects(lambda: loss_fn(Tensor(z64), [5, 0, 2, 2, 1, 3])), "target C is out of range"
assert _rejects(lambda: loss_fn(Tensor(z64), [4, 0, 2, 7, 1, 3])), "target above C"
assert _rejects(lambda: loss_fn(Tensor(z64), [4, 0, -2, 2, 1, 3])), "negative target"
assert _rejects(lambda: loss_fn(Tensor(q64), -yq)), "negative target"
# hidden: targets that are not whole numbers raise ValueError
assert _rejects(lambda: loss_fn(Tensor(s64), [0.0, 1.25, 2.0])), "fractional target"
assert _rejects(lambda: loss_fn(Tensor(s64), Tensor([2.0, 0.5, 1.0]))), "fractional Tensor target"
# hidden: targets of the wrong shape raise ValueError naming their shape
assert _rejects(lambda: loss_fn(Tensor(z64), y[:, None]), "(6, 1)"), "targets of shape (N, 1)"
assert _rejects(lambda: loss_fn(Tensor(z64), y[:5]), "(5,)"), "too few targets"
assert _rejects(lambda: loss_fn(Tensor(q64), np.eye(2)[yq]), "(9, 2)"), "one-hot targets"
assert _rejects(lambda: loss_fn(Tensor(s64), np.zeros(4)), "(4,)"), "too many targets"
# hidden: logits without exactly two axes raise ValueError naming their shape
assert _rejects(lambda: loss_fn(Tensor(np.zeros((2, 3, 4))), [0, 1]), "(2, 3, 4)"), "3-D logits"
assert _rejects(lambda: loss_fn(Tensor(np.zeros(5)), [0, 1, 2, 3, 4]), "(5,)"), "1-D logits"
# hidden: the inputs are left unchanged
zt, ytt = Tensor(h64), Tensor(yh)
loss_fn(zt, ytt)
assert check_equal(zt.data, h64) and check_equal(ytt.data, yh), "inputs unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `binary_cross_entropy_loss`: yes/no questions (5 points)
#
# For a yes/no question (spam or not, cat or not) a network often ends in a Sigmoid
# (Module 02) and outputs one probability $p \in [0, 1]$ per example: its belief that the
# answer is yes. With the target $y \in \{0, 1\}$, **binary cross-entropy** is again the
# negative log of the probability given to what actually happened, $-\log p$ when $y = 1$
# and $-\log(1 - p)$ when $y = 0$, written as one formula and averaged over all $n$ elements:
#
# $$\mathrm{BCE}(p, y) = -\frac{1}{n} \sum_{i=1}^{n}
# \Big( y_i \log p_i + (1 - y_i) \log(1 - p_i) \Big).$$
#
# ```
#   p     y    term              value
#   0.9   1    -log(0.9)         0.105      confident and right: cheap
#   0.2   0    -log(1 - 0.2)     0.223
#   0.6   1    -log(0.6)         0.511      unsure: costs more
#                          mean  0.280
# ```
#
# Targets between 0 and 1 (soft labels such as 0.9, used for label smoothing) follow the
# same formula, as in PyTorch's `BCELoss`; they are allowed too.
#
# **Clipping.** A network that is certain gives $p = 0$ or $p = 1$ exactly (a float32
# Sigmoid of 20 already rounds to 1). If it is certain and wrong, the formula needs
# $\log 0 = -\infty$, and even when it is right it computes $0 \cdot \log 0$, which is `nan`.
# So before the logarithms, clip the probabilities into $[\varepsilon, 1 - \varepsilon]$
# (`np.clip(p, eps, 1 - eps)`), with $\varepsilon$ = `self.eps`, by default $10^{-7}$. A
# certain and wrong prediction then costs $-\log(10^{-7}) \approx 16.1$ instead of infinity.
# The systems analysis at the end shows why, in float32, the cap at the $p = 1$ end comes
# out a little lower, about 15.9.
#
# **Checking the inputs.** Raise `ValueError`:
#
# 1. when predictions and targets have different shapes (name both, as `MSELoss` does);
# 2. when a prediction is outside $[0, 1]$: that is a logit, not a probability. Say so: the
#    fix is to apply a Sigmoid first;
# 3. when a target is outside $[0, 1]$.
#
# Exactly 0 and exactly 1 are valid predictions and targets.


# %% kind="solution" id="binary_cross_entropy_loss" export=true
class BinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy of probabilities against 0/1 targets, averaged over all elements."""

    def __init__(self, eps: float = 1e-7):
        """eps: the probabilities are clipped to [eps, 1 - eps] before taking logarithms."""
        self.eps = eps

    def forward(self, predictions, targets) -> Tensor:
        """The mean of -(y * log(p) + (1 - y) * log(1 - p)) over all elements.

        Args:
            predictions: probabilities p, a Tensor (or array) of any shape, values in [0, 1]
                (0 and 1 included).
            targets: y, the same shape, values in [0, 1]: usually exactly 0 or 1.

        Returns:
            a 0-d float32 Tensor, finite even for p exactly 0 or 1, because p is first
            clipped to [self.eps, 1 - self.eps].

        Raises:
            ValueError: when the shapes differ (naming both shapes), when a prediction is
                outside [0, 1] (probably a logit: apply a Sigmoid first), or when a target is
                outside [0, 1].

        Hint: np.any(p < 0) tells you whether any element is negative. np.clip returns a
        new array; do not clip the input in place.
        """
        # Task binary_cross_entropy_loss: check shapes and ranges, clip, average the formula.
        ### BEGIN SOLUTION
        probs, labels = _as_array(predictions), _as_array(targets)
        if probs.shape != labels.shape:
            raise ValueError(
                f"BinaryCrossEntropyLoss: predictions shape {probs.shape} and targets shape "
                f"{labels.shape} differ"
            )
        if np.any(probs < 0) or np.any(probs > 1):
            raise ValueError(
                "BinaryCrossEntropyLoss: predictions must be probabilities in [0, 1], got "
                f"values from {probs.min():g} to {probs.max():g}; for logits, apply a "
                "Sigmoid first"
            )
        if np.any(labels < 0) or np.any(labels > 1):
            raise ValueError(
                "BinaryCrossEntropyLoss: targets must be in [0, 1], got values from "
                f"{labels.min():g} to {labels.max():g}"
            )
        probs = np.clip(probs, self.eps, 1 - self.eps)
        terms = labels * np.log(probs) + (1 - labels) * np.log(1 - probs)
        return Tensor(-np.mean(terms))
        ### END SOLUTION


# %% [markdown]
# ### Test `binary_cross_entropy_loss`

# %% kind="test" id="test_binary_cross_entropy_loss" points=5
bce = BinaryCrossEntropyLoss()
p = Tensor([0.9, 0.2, 0.6])
y = Tensor([1.0, 0.0, 1.0])
expected = -(np.log(0.9) + np.log(1 - 0.2) + np.log(0.6)) / 3  # 0.2798, as in the picture
assert_result(lambda: bce(p, y), expected, "BinaryCrossEntropyLoss()(p, y)")
assert_result(lambda: bce(Tensor([[0.5, 0.5]]), np.array([[0.0, 1.0]])), np.log(2), "p = 0.5")

# Certain and wrong: p exactly 1 for y = 0 and exactly 0 for y = 1. Clipping caps each
# term near -log(1e-7) = 16.1 (15.9 at the p = 1 end in float32; see the systems analysis).
assert_result(
    lambda: bce(Tensor([1.0, 0.0]), Tensor([0.0, 1.0])),
    -np.log(1e-7),
    "certain and wrong predictions (clip p to [eps, 1 - eps] before the logs)",
    rtol=2e-2,
)
# Certain and right: the loss is (almost) 0, not nan from 0 * log(0).
assert_result(
    lambda: bce(Tensor([1.0, 0.0]), Tensor([1.0, 0.0])),
    0.0,
    "certain and right predictions",
    atol=1e-5,
)

assert_value_error(
    lambda: bce(Tensor(np.full((3, 1), 0.5)), Tensor(np.ones(3))),
    "predictions (3, 1) and targets (3,)",
    "(3, 1)",
    "(3,)",
)
assert_value_error(lambda: bce(Tensor([2.3, -0.4]), Tensor([1.0, 0.0])), "logits as predictions")
assert_value_error(lambda: bce(Tensor([0.3, 0.4]), Tensor([1.0, -1.0])), "a target of -1")
assert np.array_equal(p.data, np.array([0.9, 0.2, 0.6], dtype=np.float32)), (
    "BinaryCrossEntropyLoss changed its predictions: np.clip(..., out=...) or in-place "
    "operators write into the caller's tensor."
)


### BEGIN HIDDEN TESTS
# hidden: the loss is a finite 0-d float32 Tensor equal to the mean binary cross-entropy
def _ok(call, expected, rtol=1e-5, atol=1e-6):
    """call() gives, without NumPy warnings, a finite float32 Tensor equal to expected."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        out = call()
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(np.all(np.isfinite(data)))
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


def _rejects(call, *texts):
    """call() raises ValueError whose message contains every one of texts."""
    try:
        call()
    except ValueError as err:
        return all(text in str(err) for text in texts)
    return False


def _reference(p, y, eps=1e-7):
    """Mean binary cross-entropy in float64, p clipped to [eps, 1 - eps]."""
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


loss_fn = BinaryCrossEntropyLoss()
rng = np.random.default_rng(404)
p64 = rng.uniform(0.02, 0.98, size=(4, 3)).astype(np.float32).astype(np.float64)
y64 = rng.integers(0, 2, size=(4, 3)).astype(np.float64)
y64[0, :2] = [0.0, 1.0]
assert _ok(lambda: loss_fn(Tensor(p64), Tensor(y64)), _reference(p64, y64)), "a (4, 3) batch"
# hidden: other sizes, with targets as a NumPy array or a list
p1 = np.array([0.05, 0.5, 0.95, 0.3, 0.7, 0.99, 0.01], dtype=np.float32).astype(np.float64)
y1 = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0])
assert _ok(lambda: loss_fn(Tensor(p1), y1), _reference(p1, y1)), "a (7,) batch, array targets"
assert _ok(lambda: loss_fn(Tensor(p1), list(y1)), _reference(p1, y1)), "list targets"
assert _ok(lambda: loss_fn(Tensor([[0.25]]), Tensor([[1.0]])), -np.log(0.25)), "one element"
assert _ok(lambda: loss_fn(Tensor([[0.25]]), Tensor([[0.0]])), -np.log(0.75)), "one element"
# hidden: soft targets between 0 and 1 follow the same formula
ys = np.array([0.9, 0.1, 0.5, 0.75, 0.0, 1.0, 0.3])
assert _ok(lambda: loss_fn(Tensor(p1), Tensor(ys)), _reference(p1, ys)), "soft targets"
# hidden: probabilities of exactly 0 and 1 give a finite loss capped by eps
pe = Tensor([1.0, 0.0, 1.0, 0.0, 0.5])
ye = Tensor([0.0, 1.0, 1.0, 0.0, 1.0])
cap = (2 * -np.log(1e-7) + np.log(2)) / 5
assert _ok(lambda: loss_fn(pe, ye), cap, rtol=2e-2), "p of exactly 0 and 1 with default eps"
assert _ok(lambda: loss_fn(Tensor([0.0]), Tensor([1.0])), -np.log(1e-7)), "p of 0 for y of 1"
assert _ok(lambda: loss_fn(Tensor([1.0, 0.0]), Tensor([1.0, 0.0])), 0.0, atol=1e-5), "certain"
# hidden: a custom eps sets where the probabilities are clipped
wide = BinaryCrossEntropyLoss(eps=1e-3)
expected = _reference([1.0, 0.0, 1.0, 0.0, 0.5], [0.0, 1.0, 1.0, 0.0, 1.0], eps=1e-3)
assert _ok(lambda: wide(pe, ye), expected, rtol=1e-4), "custom eps at both ends"
assert _ok(lambda: wide(Tensor([1.0]), Tensor([0.0])), -np.log(1e-3), rtol=1e-4), "custom eps"
assert _ok(lambda: wide(Tensor(p64), Tensor(y64)), _reference(p64, y64, 1e-3)), "custom eps"
# hidden: predictions outside 0 to 1 raise ValueError
assert _rejects(lambda: loss_fn(Tensor([0.5, 1.5]), Tensor([1.0, 0.0]))), "prediction above 1"
assert _rejects(lambda: loss_fn(Tensor([0.5, -0.1]), Tensor([1.0, 0.0]))), "negative prediction"
assert _rejects(lambda: loss_fn(Tensor([3.0, 4.0]), Tensor([1.0, 1.0]))), "logits"
# hidden: targets outside 0 to 1 raise ValueError
assert _rejects(lambda: loss_fn(Tensor([0.5, 0.5]), Tensor([1.5, 0.0]))), "target above 1"
assert _rejects(lambda: loss_fn(Tensor([0.5, 0.5]), Tensor([1.0, -0.5]))), "negative target"
assert _rejects(lambda: loss_fn(Tensor([0.5, 0.5]), Tensor([2.0, 1.0]))), "target of 2"
# hidden: different shapes raise ValueError naming both shapes
assert _rejects(lambda: loss_fn(Tensor(p64), Tensor(y64.T)), "(4, 3)", "(3, 4)"), "shapes"
assert _rejects(lambda: loss_fn(Tensor(p1[:, None]), Tensor(y1)), "(7, 1)", "(7,)"), "shapes"
# hidden: the inputs are left unchanged
loss_fn(pe, ye)
assert check_equal(pe.data, [1.0, 0.0, 1.0, 0.0, 0.5]), "inputs unchanged"
assert check_equal(ye.data, [0.0, 1.0, 1.0, 0.0, 1.0]), "inputs unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: numerical stability
#
# Nothing below is graded. These cells measure what you just built; run them and compare
# the numbers with your own predictions before reading the comments. Each cell finishes in
# well under a second.
#
# ### Naive softmax-then-log versus log-sum-exp
#
# One example with three logits $[m, 0, -m]$, for growing $m$. Target 0 is the largest
# logit (the model is confidently right: the true loss is almost 0); target 2 is the
# smallest (confidently wrong: the true loss is almost $2m$). The naive route computes
# `log(softmax(z))` in float32; the stable route is your `CrossEntropyLoss`. NumPy's
# warnings are silenced inside `np.errstate(all="ignore")` so the table stays readable.
# Before running it: at which $m$ do you expect the first `inf`, and the first `nan`?


# %%
def naive_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Cross-entropy the textbook way, in float32: softmax first, log afterwards."""
    exps = np.exp(logits)
    probs = exps / exps.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probs[np.arange(len(targets)), targets])))


def exact_cross_entropy(logits: np.ndarray, target: int) -> float:
    """The same loss in float64 with np.logaddexp: a reference, for one example."""
    row = logits[0].astype(np.float64)
    return float(np.logaddexp.reduce(row) - row[target])


ce_loss = CrossEntropyLoss()
header = f"{'m':>7} | {'target 0: naive':>15} {'stable':>12} | "
header += f"{'target 2: naive':>15} {'stable':>9} {'float64':>9}"
print(header)
print("-" * len(header))
for m in [1.0, 10.0, 30.0, 45.0, 50.0, 52.0, 88.0, 89.0, 1000.0, 10000.0]:
    z = np.array([[m, 0.0, -m]], dtype=np.float32)
    with np.errstate(all="ignore"):  # the naive route warns; keep the table readable
        naive_right = naive_cross_entropy(z, np.array([0])) + 0.0  # + 0.0: no "-0"
        naive_wrong = naive_cross_entropy(z, np.array([2]))
    stable_right = ce_loss(Tensor(z), [0]).item() + 0.0
    stable_wrong = ce_loss(Tensor(z), [2]).item()
    print(
        f"{m:>7g} | {naive_right:>15.6g} {stable_right:>12.6g} | "
        f"{naive_wrong:>15.6g} {stable_wrong:>9.6g} {exact_cross_entropy(z, 2):>9.6g}"
    )

# %% [markdown]
# Reading the table from the top:
#
# - for small $m$ both routes agree;
# - for target 2 the naive route goes wrong first: its probability, about $e^{-2m}$, drops
#   below the smallest normal float32 ($1.2 \times 10^{-38} \approx e^{-87}$) after
#   $m \approx 44$. Those tiny "subnormal" numbers keep fewer digits (at $m = 50$ the loss
#   is off in the fourth digit), and past $e^{-103}$ the probability is exactly 0:
#   `log(0) = -inf` makes the loss `inf`. The model is wrong, the loss should be large, and
#   it is *infinite*: every gradient built from it is `inf` or `nan`;
# - at $m = 89$, $e^{89}$ overflows float32: `inf / inf` is `nan`, even for target 0 where
#   the model is right and the loss should be 0;
# - the stable route tracks the float64 reference at every size, because every number it
#   exponentiates is $\le 0$ and the only quantity it logs lies between 1 and $C$.
#
# Logits of 100 are not exotic: a linear layer with large weights, a learning rate a little
# too high, or simply a confident model produces them. This is why PyTorch's
# `CrossEntropyLoss` takes **logits** rather than probabilities and fuses softmax and log
# into one stable operation; never feed it the output of a softmax.
#
# ### What stability costs
#
# The stable version reads the logits once more (for the maximum) and subtracts it. Is that
# expensive? The next cell times the pieces on a batch of 64 examples over a 10,000-word
# vocabulary, the size of a small language model's output. Which line do you expect to
# dominate?

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)


def median_seconds(fn, *args, repeats: int = 7) -> float:
    """Median wall time of fn(*args) over `repeats` runs, after one warm-up run."""
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def naive_log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) along the last axis, the textbook way."""
    exps = np.exp(logits)
    return np.log(exps / exps.sum(axis=-1, keepdims=True))


rng = np.random.default_rng(0)
vocab_logits = rng.standard_normal((64, 10_000)).astype(np.float32)
vocab_targets = rng.integers(0, 10_000, size=64)
vocab_tensor = Tensor(vocab_logits)
rows = [
    ("exp of every logit", np.exp, vocab_logits),
    ("max along each row", lambda a: a.max(axis=-1, keepdims=True), vocab_logits),
    ("naive log(softmax(z))", naive_log_softmax, vocab_logits),
    ("stable log_softmax(z)", log_softmax, vocab_tensor),
]
print(f"logits (64, 10000): {vocab_logits.nbytes / 2**20:.1f} MiB of float32")
print(f"{'operation':>34} {'ms':>7}")
for name, fn, arg in rows:
    print(f"{name:>34} {median_seconds(fn, arg) * 1e3:7.2f}")
ce_s = median_seconds(ce_loss, vocab_tensor, vocab_targets)
print(f"{'CrossEntropyLoss (checks included)':>34} {ce_s * 1e3:7.2f}")

# %% [markdown]
# The `exp` and the `log` of 640,000 numbers are the bulk of both routes; the maximum is
# one cheap pass over the logits. The naive route divides every entry where the stable one
# subtracts, so the two end up costing about the same: stability here is practically free,
# and that is why no framework offers the unstable version.
#
# ### float32 near 1: why `log(1 - p)` loses digits
#
# float32 stores 24 significant binary digits. Near 0 it has plenty of room: $10^{-7}$,
# $10^{-20}$ and $10^{-30}$ are all stored to about 7 significant digits. Near 1 the spacing
# between neighbouring numbers is fixed at $2^{-24} \approx 6 \times 10^{-8}$ (just
# below 1). So $1 - 10^{-7}$ is stored as $1 - 1.19 \times 10^{-7}$, and $1 - 10^{-8}$ is
# stored as exactly 1. Then $1 - p$ is 0 and $\log(1 - p)$ is $-\infty$. Predict the float32
# column before running the cell.

# %%
print(f"{'p':>12} {'p in float32':>14} {'1 - p in float32':>17} {'-log(1 - p)':>12} {'exact':>8}")
for gap in [1e-3, 1e-5, 1e-7, 3e-8, 1e-8]:
    p32 = np.float32(1.0 - gap)
    one_minus = np.float32(1.0) - p32
    with np.errstate(divide="ignore"):  # log(0) for the last rows; we want to see the inf
        loss32 = -np.log(one_minus)
    print(
        f"{'1 - ' + format(gap, 'g'):>12} {p32:>14.9f} {one_minus:>17.6g} {loss32:>12.6g} "
        f"{-np.log(gap):>8.4f}"
    )

print("\nBinaryCrossEntropyLoss (eps = 1e-7) of a certain and wrong prediction:")
at_one = BinaryCrossEntropyLoss()(Tensor([1.0]), Tensor([0.0])).item()
at_zero = BinaryCrossEntropyLoss()(Tensor([0.0]), Tensor([1.0])).item()
print(f"  p = 1, y = 0: {at_one:.4f}   (clipped to 1 - 1e-7, stored as 1 - 1.19e-7)")
print(f"  p = 0, y = 1: {at_zero:.4f}   (clipped to 1e-7, stored almost exactly)")
print(f"  -log(1e-7)  : {-np.log(1e-7):.4f}")

# %% [markdown]
# Two lessons. First, the clipping constant has to be representable where it is used:
# $\varepsilon = 10^{-7}$ barely is at the top end (it becomes $1.19 \times 10^{-7}$), and an
# $\varepsilon$ of $10^{-8}$ would do nothing there at all, because $1 - 10^{-8}$ is 1 in
# float32. Second, and more important: once a probability has been rounded to 1, the
# information about *how* wrong the model was is gone, and no loss formula can bring it
# back. The next cell shows it with a Sigmoid: the logit $z$ says how confident the model
# is, but the float32 probability stops changing at about $z = 17$.

# %%
print(f"{'logit z':>8} {'sigmoid(z) float32':>19} {'BCE via p (y = 0)':>18} {'exact':>9}")
for logit in [2.0, 8.0, 16.0, 17.0, 20.0, 50.0]:
    prob = np.float32(1.0) / (np.float32(1.0) + np.exp(np.float32(-logit)))
    via_prob = BinaryCrossEntropyLoss()(Tensor([prob]), Tensor([0.0])).item()
    exact = np.logaddexp(0.0, logit)  # -log(1 - sigmoid(z)) = log(1 + e^z), in float64
    print(f"{logit:>8g} {prob:>19.9f} {via_prob:>18.4f} {exact:>9.4f}")

# %% [markdown]
# Up to $z \approx 8$ the probability route is accurate; at $z = 16$ it is already off, and
# from $z = 17$ on the loss is stuck at the clipping cap while the true loss keeps growing
# with $z$. This is why PyTorch offers
# `BCEWithLogitsLoss`, which takes the logit and computes $\log(1 + e^{z})$ directly (a
# stable "softplus"), just as `CrossEntropyLoss` takes logits instead of probabilities.
# The same rule holds everywhere: keep numbers in the log domain, and do not turn logits into
# probabilities only to take their logarithm again.
#
# ## Summary
#
# - A loss is a callable object returning one number, a 0-d float32 Tensor: the mean over
#   the batch, so its scale does not depend on the batch size.
# - `MSELoss` averages squared differences over every element, and refuses shapes that
#   would broadcast, such as `(N, 1)` against `(N,)`.
# - `log_softmax` subtracts the maximum along the class axis before `exp`: the result is
#   unchanged in exact arithmetic, and in float32 nothing overflows and nothing is logged
#   that could be 0.
# - `CrossEntropyLoss` takes logits `(N, C)` and integer targets `(N,)`, checks them (shape,
#   whole numbers, range), and averages `-log_softmax` at the target classes, picked with
#   `log_probs[np.arange(N), targets]`.
# - `BinaryCrossEntropyLoss` clips probabilities to `[eps, 1 - eps]` before the logs; in
#   float32 the top end is coarse (spacing $6 \times 10^{-8}$), so working from logits is
#   better still.
#
# **Reflection.**
#
# 1. An untrained 100-class classifier reports a first cross-entropy of 46.0. What would you
#    expect instead, and what might be wrong?
# 2. Shifting the logits by their maximum changes nothing mathematically. Would shifting by
#    their *mean* also prevent overflow? Give logits for which it fails.
# 3. Suppose `MSELoss` broadcast `(N, 1)` predictions against `(N,)` targets instead of
#    raising. What value would it compute, and what would a network trained on it learn to
#    predict?
