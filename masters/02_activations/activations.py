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
# # Module 02: Activations
#
# A linear layer computes $xW + b$. Stack two of them and you get
# $(xW_1 + b_1)W_2 + b_2 = x(W_1W_2) + (b_1W_2 + b_2)$: one linear layer again, with the
# weight matrix $W_1W_2$. However many linear layers you stack, the network can only draw
# straight lines (flat planes), and the 1969 XOR milestone shows what that costs. Depth
# pays off only when something **bends** the signal between the layers. That something is
# an **activation function**: a fixed nonlinear function with nothing to learn, applied to
# every element (or, for softmax, to every slice) of a tensor.
#
# In this module you build the five activations that the rest of the course uses: `ReLU`
# in the MLPs and CNNs, `Sigmoid` for binary outputs, `Tanh`, `GELU` inside the
# transformer, and `Softmax`, which turns a row of scores into probabilities in the
# classifier and in attention. Each is a few lines of NumPy. The lesson is in the corners:
# what happens at exactly 0, at $x = 1000$, and with numbers float32 cannot hold.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - explain why a network needs a **nonlinearity** between its linear layers;
# - implement `ReLU`, `Sigmoid`, `Tanh`, `GELU` and `Softmax(dim)` as **callable modules**
#   with `forward` and `parameters()`, the way `torch.nn` writes them;
# - say where `exp` **overflows** (above 88.7 in float32, above 709.8 in float64) and
#   rewrite sigmoid and softmax so that `exp` only ever sees numbers $\le 0$;
# - state each activation's **range** and shape contract, and apply softmax along **any
#   axis**, negative axes included;
# - measure the **cost per element** of each activation and explain the differences.

# %% [markdown]
# ## How this notebook is graded
#
# - Each task is one class in its own cell. The spot to fill in is marked with a comment
#   `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring above
#   it is the contract: shapes, dtype, formula, and hints.
# - Each class cell is followed by its test cell, `test_<task id>`. The asserts you can
#   read there are the **visible tests**: run them as often as you like, and read their
#   messages when they fail.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other shapes, other axes, negative numbers, zeros, values
#   such as $\pm 1000$). Code that follows the contract passes them; code tuned to the
#   visible examples does not. A failing hidden check tells you which behaviour it was about.
# - **Overflow is a failure.** The tests call your activations with NumPy's floating-point
#   warnings turned into errors (`np.errstate(over="raise", invalid="raise",
#   divide="raise")`), so an `exp` that overflows fails the test even when the final answer
#   happens to come out right.
# - A test cell earns its points only when every check in it passes. Anything a test cell
#   writes to stderr counts as a failure, so keep your methods free of prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `relu` | `ReLU`: $\max(0, x)$ | 3 |
# | `sigmoid` | `Sigmoid`, stable for inputs of any size | 5 |
# | `tanh` | `Tanh`, stable for inputs of any size | 2 |
# | `gelu` | `GELU`, the tanh approximation used by GPT-2 | 4 |
# | `softmax` | `Softmax(dim)`, stable, along any axis | 6 |
# | | **total** | **20** |
#
# The tasks are independent; the order of the table goes from the simplest to the one with
# the most corners.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.activations: the nonlinear functions between layers.

ReLU, Sigmoid, Tanh, GELU and Softmax, each a callable module without parameters, like
torch.nn.ReLU. Sigmoid and Softmax are computed so that no exp overflows, even for inputs
of magnitude 1000. Written by students in Module 02; Module 05 (autograd) adds their
backward passes.
"""

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["Activation", "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"]

# %% [markdown]
# ## Activations are modules
#
# In PyTorch an activation is an object you create once and then call like a function:
#
# ```python
# relu = ReLU()          # build the module (nothing to configure for most activations)
# y = relu(x)            # call it: Python runs relu.__call__(x), which runs relu.forward(x)
# relu.parameters()      # [] : an activation has no weights to learn
# ```
#
# Why an object and not a plain function? Module 03 builds `Sequential`, which holds a list
# of modules, calls them one after another, and collects every module's `parameters()` for
# the optimizer. Linear layers, activations and dropout then all look the same from the
# outside: something you call, that may or may not own weights. `Softmax(dim=1)` also shows
# the other reason: a module can carry a setting (here the axis) chosen once, at
# construction.
#
# The base class `Activation` below is given. It supplies `__call__` (which delegates to
# `forward`) and `parameters()` (which returns `[]`). Each task is a subclass in which you
# write `forward(x)`: take a Tensor, compute on its float32 array `x.data` with NumPy, and
# wrap the result in a new `Tensor`. Never modify `x.data`: the caller still needs `x`.


# %% kind="locked" id="activation_base" export=true
class Activation:
    """Base class of the activation functions: a callable module without parameters.

    A subclass implements forward(x). Calling the module, act(x), runs act.forward(x), as in
    torch.nn.Module. parameters() returns [] because an activation has nothing to learn.
    """

    def forward(self, x: Tensor) -> Tensor:
        """The activation applied to x; every subclass implements it."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented yet")

    def __call__(self, x: Tensor) -> Tensor:
        """act(x) is act.forward(x)."""
        return self.forward(x)

    def parameters(self) -> list[Tensor]:
        """The learnable tensors of this module: none, so an empty list."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. The first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` of the expected shape and
# values (`assert_array` does the same for a NumPy array), `check_close` compares numbers the
# way `np.allclose` does, and `raised` returns the exception a call raised. Its last part is
# this module's own: `strict` calls a function with NumPy's floating-point warnings turned
# into `FloatingPointError`, so an overflowing `exp` shows up as an error you can read
# instead of a warning you might miss.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = "An activation returns a tensor of its input's shape: did you reduce over an axis?"


def strict(fn):
    """Call fn() with overflow, invalid values (0/0, inf/inf) and division by zero raised
    as FloatingPointError. Returns (result, None), or (None, the exception) if fn() raised."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            return fn(), None
        except Exception as exc:
            return None, exc


# %% [markdown]
# ## Task `relu`: ReLU (3 points)
#
# The rectified linear unit keeps positive numbers and replaces negative ones by zero:
#
# $$\mathrm{ReLU}(x) = \max(0, x) = \begin{cases} x & x > 0 \\ 0 & x \le 0 \end{cases}$$
#
# ```
#   ReLU(x)
#      4 |               /
#      3 |             /
#      2 |           /
#      1 |         /
#      0 +-------*--------  x
#       -4       0       4
#
#         x    -2   -0.5    0    0.5    3
#   ReLU(x)     0     0     0    0.5    3
# ```
#
# It is applied element by element, so the output has the input's shape. ReLU is the
# default activation of MLPs and CNNs because it is cheap (one comparison per element) and
# because, for positive inputs, its slope is 1: it never flattens out the way sigmoid and
# tanh do, so gradients pass through deep stacks of layers without shrinking (Module 05).
# The price: a unit whose inputs are negative for every example outputs 0 everywhere and
# gets no gradient, a "dead ReLU".
#
# Contract: `ReLU()(x)` returns a new float32 Tensor of `x`'s shape, any shape (a 0-d
# tensor included); `ReLU(0) = 0`; `x` is left unchanged.
#
# One trap: `np.max(a, 0)` is a **reduction** (the largest element along axis 0, so the
# shape changes), while `np.maximum(a, 0)` compares element by element.


# %% kind="solution" id="relu" export=true
class ReLU(Activation):
    """Rectified linear unit, max(0, x) element by element. No parameters."""

    def forward(self, x: Tensor) -> Tensor:
        """ReLU(x) = max(0, x) for every element of x.

        Args:
            x: a Tensor of any shape.

        Returns:
            a new float32 Tensor of x's shape: x where x > 0, and 0 where x <= 0
            (so ReLU(0) = 0). x itself is not modified.

        Hint: np.maximum(a, 0) works element by element; np.max(a, 0) reduces axis 0.
        """
        # Task relu: return max(0, x) element by element, as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(np.maximum(x.data, 0))
        ### END SOLUTION


# %% [markdown]
# ### Test `relu`

# %% kind="test" id="test_relu" points=3
relu = ReLU()
x = Tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
assert_tensor(relu(x), [[0, 0, 0], [0.5, 1, 3]], "ReLU()(x) for x = [[-2, -0.5, 0], [0.5, 1, 3]]")
assert_tensor(relu.forward(x), [[0, 0, 0], [0.5, 1, 3]], "ReLU().forward(x)")
assert np.array_equal(x.data, [[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]]), (
    "ReLU changed its input x: compute into a new array (np.maximum returns one) instead of "
    "writing into x.data."
)
v = Tensor([-3.0, 4.0, -1.0, 2.0])
assert_tensor(relu(v), [0, 4, 0, 2], "ReLU()(v) for v = [-3, 4, -1, 2] (element-wise, not np.max)")
params = relu.parameters()
assert type(params) is list and len(params) == 0, (
    f"ReLU().parameters() should be an empty list (nothing to learn), got {params!r}."
)


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors of the input's shape with exact values
def _ok(out, expected, rtol=1e-5, atol=1e-6):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


rng = np.random.default_rng(2021)
x64 = rng.standard_normal((2, 3, 4)) * 3.0
x64[0, 1, :2] = 0.0
x64 = x64.astype(np.float32).astype(np.float64)
x = Tensor(x64)
out = ReLU()(x)
assert _ok(out, np.maximum(x64, 0.0)), "ReLU of a 3-D tensor keeps the shape and values"
assert check_equal(out.data, np.maximum(x64, 0.0)), "ReLU is exact: x or 0"
# hidden: zero maps to zero and negative numbers map to zero
out = ReLU()(Tensor([0.0, -0.0, -1e-3, 1e-3, -7.5]))
assert _ok(out, [0.0, 0.0, 0.0, 1e-3, 0.0]), "ReLU(0) is 0 and negative inputs give 0"
out = ReLU()(Tensor(np.zeros((3, 2))))
assert _ok(out, np.zeros((3, 2))), "ReLU of zeros is zeros"
# hidden: a 0-d tensor stays 0-d
assert _ok(ReLU()(Tensor(-4.0)), 0.0), "ReLU of a negative 0-d tensor is a 0-d zero"
assert _ok(ReLU()(Tensor(2.5)), 2.5), "ReLU of a positive 0-d tensor keeps it"
# hidden: extreme values pass through or become zero without floating-point errors
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = ReLU()(Tensor([[-1e4, -1000.0], [1000.0, 1e4]]))
assert _ok(out, [[0.0, 0.0], [1000.0, 1e4]]), "ReLU of extreme values"
# hidden: forward and calling the module agree, and there are no parameters
col = Tensor([[-1.5], [2.0], [-0.25]])
assert _ok(ReLU().forward(col), [[0.0], [2.0], [0.0]]), "forward gives ReLU of a column"
assert _ok(ReLU()(col), [[0.0], [2.0], [0.0]]), "calling the module gives ReLU of a column"
params = ReLU().parameters()
assert type(params) is list and len(params) == 0, "parameters() is an empty list"
# hidden: the input is left unchanged and a new Tensor is returned
out = ReLU()(x)
assert out is not x, "ReLU returns a new Tensor"
assert check_equal(x.data, x64), "ReLU leaves its input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `sigmoid`: a sigmoid that never overflows (5 points)
#
# The logistic sigmoid squashes any real number into the interval $(0, 1)$, which is why
# it turns a score into a probability (a binary classifier's output, a gate in an LSTM):
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma(0) = \tfrac12, \qquad
#   \sigma(-x) = 1 - \sigma(x).$$
#
# ```
#   σ(x)
#   1.0 |                             .  -  -  -  -
#       |                       .  '
#   0.5 |- - - - - - - - - -*
#       |             .  '
#   0.0 |-  -  -  -  '
#       +-------------------+-------------------  x
#      -6                   0                   6
#
#      x     -4      -2      -1      0      1      2      4
#   σ(x)  0.018   0.119   0.269    0.5  0.731  0.881  0.982
# ```
#
# **The overflow.** The largest float32 number is about $3.4 \times 10^{38} = e^{88.72}$.
# So `np.exp(-x)` is `inf` for every float32 $x < -88.72$ (float64 lasts until $-709.78$),
# and NumPy prints `RuntimeWarning: overflow encountered in exp`. For the formula above
# the final answer is still right ($1 / (1 + \infty) = 0$), but the equivalent form
# $e^x / (1 + e^x)$ gives $\infty / \infty = $ `nan` for large positive $x$. Inputs of
# magnitude 1000 are not exotic: a badly scaled layer or a large learning rate produces
# them within a few steps.
#
# **The fix: exponentiate only numbers $\le 0$.** Multiplying numerator and denominator by
# $e^{x}$ gives a second form of the same function. Use each form where it is safe:
#
# $$\sigma(x) = \begin{cases}
#   \dfrac{1}{1 + e^{-x}} & x \ge 0 \quad (e^{-x} \in (0, 1]) \\[2ex]
#   \dfrac{e^{x}}{1 + e^{x}} & x < 0 \quad (e^{x} \in (0, 1))
# \end{cases}$$
#
# In both branches the exponential lies in $(0, 1]$, so nothing overflows. Very negative
# exponents **underflow** to 0 instead ($e^{-1000} = 0$ in floating point), which is
# harmless and silent: the answer is 0 or 1 to float32 precision. Both branches are the
# same formula in terms of $z = e^{-|x|}$: $\sigma(x) = 1/(1+z)$ for $x \ge 0$ and
# $z/(1+z)$ for $x < 0$. Another way to write both at once is
# $\sigma(x) = e^{\min(x,0)} / (e^{\min(x,0)} + e^{-\max(x,0)})$: for every $x$ one of
# the two exponentials is $e^0 = 1$.
#
# **A second trap: `np.where` evaluates both sides.**
# `np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))` picks the right
# branch for each element, but it computes **both** branches for **every** element first,
# so `np.exp(x)` still overflows where $x$ is large. Compute only safe exponentials, such
# as `np.exp(-np.abs(x))`, and choose between the results.
#
# **Small outputs keep their precision.** $\sigma(-20) \approx 2.06 \times 10^{-9}$. The
# $x < 0$ branch computes it to full float32 precision; the shortcut $1 - \sigma(20)$ rounds
# it to 0, because $\sigma(20) = 0.999999998$ is 1 in float32. The tests check that small
# outputs are right **relative to their size**, which the two-branch formula gives you.
#
# Contract: `Sigmoid()(x)` returns a new float32 Tensor of `x`'s shape with values in
# $[0, 1]$; $\sigma(0) = 0.5$, $\sigma(1000) = 1$, $\sigma(-1000) = 0$; no floating-point
# warning for any finite input; `x` is left unchanged.


# %% kind="solution" id="sigmoid" export=true
class Sigmoid(Activation):
    """Logistic sigmoid, 1 / (1 + e^(-x)) element by element, stable for any input size."""

    def forward(self, x: Tensor) -> Tensor:
        """σ(x) = 1 / (1 + e^(-x)) for every element of x, computed without overflow.

        Use the two-branch formula, which exponentiates only numbers <= 0:

            σ(x) = 1 / (1 + e^(-x))       for x >= 0    (e^(-x) is in (0, 1])
            σ(x) = e^(x) / (1 + e^(x))    for x < 0     (e^(x) is in (0, 1))

        Args:
            x: a Tensor of any shape.

        Returns:
            a new float32 Tensor of x's shape with values in [0, 1]: σ(0) = 0.5,
            σ(1000) = 1, σ(-1000) = 0, and no overflow (no RuntimeWarning) for any finite
            input. Small outputs keep float32's relative precision: σ(-20) ≈ 2.06e-9, not 0.
            x itself is not modified.

        Hint: z = np.exp(-np.abs(x.data)) is e^(-|x|), safe for every x; both branches can be
        written with z. np.where(cond, a, b) computes a and b for every element before it
        chooses, so neither a nor b may contain an exponential that overflows.
        """
        # Task sigmoid: compute σ(x) with the two-branch formula, exp of numbers <= 0 only.
        ### BEGIN SOLUTION
        # Both branches at once: for every element one of the two exponentials is e^0 = 1.
        #   x >= 0:  e^0 / (e^0 + e^(-x)) = 1 / (1 + e^(-x))
        #   x < 0:   e^x / (e^x + e^0)    = e^x / (1 + e^x)
        # Both exponents, min(x, 0) and -max(x, 0), are <= 0: nothing can overflow.
        top = np.exp(np.minimum(x.data, 0))
        other = np.exp(-np.maximum(x.data, 0))
        return Tensor(top / (top + other))
        ### END SOLUTION


# %% [markdown]
# ### Test `sigmoid`

# %% kind="test" id="test_sigmoid" points=5
sigmoid = Sigmoid()
x = Tensor([[-2.0, -1.0, 0.0], [1.0, 2.0, 4.0]])
x64 = np.array([[-2.0, -1.0, 0.0], [1.0, 2.0, 4.0]])
assert_tensor(
    sigmoid(x), 1.0 / (1.0 + np.exp(-x64)), "Sigmoid()(x) for x = [[-2, -1, 0], [1, 2, 4]]"
)
assert np.array_equal(x.data, x64), "Sigmoid changed its input x: compute into new arrays."

out, err = strict(lambda: sigmoid(Tensor([-1000.0, 0.0, 1000.0])))
assert err is None, (
    f"Sigmoid()([-1000, 0, 1000]) raised {type(err).__name__}: {err}. A FloatingPointError "
    "means an exp overflowed (or an inf/inf appeared): exponentiate only numbers <= 0, and "
    "remember that np.where computes both of its branches for every element."
)
assert_tensor(out, [0.0, 0.5, 1.0], "Sigmoid()([-1000, 0, 1000]) (should be 0, 0.5, 1)")

out, err = strict(lambda: sigmoid(Tensor([-20.0])))
assert err is None, f"Sigmoid()([-20]) raised {type(err).__name__}: {err}."
assert_tensor(out, [np.exp(-20.0) / (1.0 + np.exp(-20.0))], "Sigmoid()([-20])", atol=0.0)
# (atol=0: a value of about 2.06e-9 must be right relative to its size. 1 - σ(20) gives 0.)

params = sigmoid.parameters()
assert type(params) is list and len(params) == 0, (
    f"Sigmoid().parameters() should be an empty list, got {params!r}."
)


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors of the input's shape with the sigmoid's values
def _ok(out, expected, rtol=1e-5, atol=1e-6):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


rng = np.random.default_rng(7)
x64 = (rng.standard_normal((3, 4, 2)) * 4.0).astype(np.float32).astype(np.float64)
x = Tensor(x64)
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Sigmoid()(x)
assert _ok(out, 1.0 / (1.0 + np.exp(-x64))), "Sigmoid of a 3-D tensor of moderate values"
# hidden: both branches give the right values near zero
near = np.array([-0.75, -0.1, 0.0, 0.1, 0.75])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Sigmoid()(Tensor(near))
assert _ok(out, 1.0 / (1.0 + np.exp(-near))), "Sigmoid of small inputs of either sign"
# hidden: extreme inputs give exact limits without overflow
extreme = np.array([[-1e4, -1000.0, -100.0], [100.0, 1000.0, 1e4]])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Sigmoid()(Tensor(extreme))
assert _ok(out, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), "Sigmoid of extreme inputs is 0 or 1"
assert bool(np.all(np.isfinite(out.data))), "Sigmoid of extreme inputs is finite"
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Sigmoid()(Tensor([[1000.0], [-1000.0]]))
assert _ok(out, [[1.0], [0.0]]), "Sigmoid of +-1000 in a column"
# hidden: tiny outputs are accurate relative to their size
tiny = np.array([-15.0, -30.0, -50.0, -80.0])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Sigmoid()(Tensor(tiny))
expected = np.exp(tiny) / (1.0 + np.exp(tiny))
assert _ok(out, expected, rtol=1e-4, atol=0.0), "tiny sigmoid outputs keep relative precision"
# hidden: sigma(-x) is 1 - sigma(x)
pair = Sigmoid()(Tensor(np.stack([x64, -x64])))
assert _ok(pair[0] + pair[1], np.ones_like(x64)), "sigmoid(x) + sigmoid(-x) is 1"
# hidden: a 0-d tensor stays 0-d
assert _ok(Sigmoid()(Tensor(0.0)), 0.5), "Sigmoid of a 0-d zero is 0.5"
assert _ok(Sigmoid()(Tensor(-3.0)), 1.0 / (1.0 + np.exp(3.0))), "Sigmoid of a negative 0-d"
# hidden: forward and calling the module agree, and there are no parameters
row = Tensor([[0.3, -2.2, 5.0]])
expected = 1.0 / (1.0 + np.exp(-np.array([[0.3, -2.2, 5.0]])))
assert _ok(Sigmoid().forward(row), expected), "forward gives the sigmoid of a row"
params = Sigmoid().parameters()
assert type(params) is list and len(params) == 0, "parameters() is an empty list"
# hidden: the input is left unchanged and a new Tensor is returned
out = Sigmoid()(x)
assert out is not x, "Sigmoid returns a new Tensor"
assert check_equal(x.data, x64), "Sigmoid leaves its input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `tanh`: hyperbolic tangent (2 points)
#
# $$\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\sigma(2x) - 1$$
#
# Tanh is a sigmoid stretched to the range $(-1, 1)$ and centred at 0: $\tanh(0) = 0$ and
# $\tanh(-x) = -\tanh(x)$. Zero-centred outputs are its advantage over the sigmoid: the
# next layer's inputs are not all positive, which makes its gradient updates better
# balanced. It is the activation of classic recurrent networks.
#
# ```
#       x     -4      -2      -1     -0.5    0     0.5     1       2       4
#   tanh  -0.9993  -0.9640 -0.7616 -0.4621   0   0.4621  0.7616  0.9640  0.9993
# ```
#
# The textbook formula has the same problem as the naive sigmoid: for $x = 1000$ both
# $e^{x}$ and the denominator are `inf`, and `inf / inf` is `nan`. `np.tanh` is computed
# stably by the C library (for large $|x|$ it simply returns $\pm 1$). If you prefer to
# write it yourself, $\tanh(x) = \operatorname{sign}(x)\,(1 - e^{-2|x|}) / (1 + e^{-2|x|})$
# only exponentiates numbers $\le 0$.
#
# Contract: `Tanh()(x)` returns a new float32 Tensor of `x`'s shape with values in
# $[-1, 1]$; $\tanh(0) = 0$, $\tanh(\pm 1000) = \pm 1$ without any floating-point warning;
# `x` is left unchanged.


# %% kind="solution" id="tanh" export=true
class Tanh(Activation):
    """Hyperbolic tangent element by element, with values in [-1, 1]."""

    def forward(self, x: Tensor) -> Tensor:
        """tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x)) = 2σ(2x) - 1 for every element of x.

        Args:
            x: a Tensor of any shape.

        Returns:
            a new float32 Tensor of x's shape with values in [-1, 1]: tanh(0) = 0,
            tanh(1000) = 1, tanh(-1000) = -1, with no overflow for any finite input.
            x itself is not modified.

        Hint: the formula above overflows for |x| > 88 (inf / inf = nan); np.tanh does not.
        """
        # Task tanh: return tanh(x) element by element, as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(np.tanh(x.data))
        ### END SOLUTION


# %% [markdown]
# ### Test `tanh`

# %% kind="test" id="test_tanh" points=2
tanh = Tanh()
x64 = np.array([[-2.0, -0.5], [0.0, 0.5], [1.0, 3.0]])
x = Tensor(x64)
assert_tensor(tanh(x), np.tanh(x64), "Tanh()(x) for x = [[-2, -0.5], [0, 0.5], [1, 3]]")
assert np.array_equal(x.data, x64), "Tanh changed its input x: compute into a new array."
out, err = strict(lambda: tanh(Tensor([-1000.0, 1000.0])))
assert err is None, (
    f"Tanh()([-1000, 1000]) raised {type(err).__name__}: {err}. e^1000 overflows to inf "
    "and inf / inf is nan: use np.tanh, or a formula that exponentiates only numbers <= 0."
)
assert_tensor(out, [-1.0, 1.0], "Tanh()([-1000, 1000]) (should be -1 and 1)")
params = tanh.parameters()
assert type(params) is list and len(params) == 0, (
    f"Tanh().parameters() should be an empty list, got {params!r}."
)


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors of the input's shape with tanh's values
def _ok(out, expected, rtol=1e-5, atol=1e-6):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


rng = np.random.default_rng(11)
x64 = (rng.standard_normal((2, 2, 5)) * 2.0).astype(np.float32).astype(np.float64)
x = Tensor(x64)
assert _ok(Tanh()(x), np.tanh(x64)), "Tanh of a 3-D tensor"
small = np.array([-1e-3, -1e-5, 0.0, 1e-5, 1e-3])
assert _ok(Tanh()(Tensor(small)), np.tanh(small)), "Tanh of inputs close to 0"
# hidden: extreme inputs give -1 and 1 without overflow
extreme = np.array([[-1e4, -1000.0, -50.0], [50.0, 1000.0, 1e4]])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Tanh()(Tensor(extreme))
assert _ok(out, [[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]), "Tanh of extreme inputs is -1 or 1"
assert bool(np.all(np.isfinite(out.data))), "Tanh of extreme inputs is finite"
# hidden: tanh is odd
pair = Tanh()(Tensor(np.stack([x64, -x64])))
assert _ok(pair[0] + pair[1], np.zeros_like(x64)), "tanh(-x) is -tanh(x)"
# hidden: a 0-d tensor stays 0-d
assert _ok(Tanh()(Tensor(0.0)), 0.0), "Tanh of a 0-d zero is 0"
assert _ok(Tanh()(Tensor(-0.8)), np.tanh(-0.8)), "Tanh of a negative 0-d tensor"
# hidden: forward agrees with calling the module, and there are no parameters
assert _ok(Tanh().forward(Tensor([[2.5, -1.5]])), np.tanh([[2.5, -1.5]])), "forward gives tanh"
params = Tanh().parameters()
assert type(params) is list and len(params) == 0, "parameters() is an empty list"
# hidden: the input is left unchanged and a new Tensor is returned
out = Tanh()(x)
assert out is not x, "Tanh returns a new Tensor"
assert check_equal(x.data, x64), "Tanh leaves its input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `gelu`: GELU, the transformer's activation (4 points)
#
# The Gaussian error linear unit (Hendrycks and Gimpel, 2016) weighs each input by the
# probability that a standard normal variable lies below it:
#
# $$\mathrm{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}\!\left(
#   \frac{x}{\sqrt 2}\right)\right),$$
#
# where $\Phi$ is the standard normal CDF. Large positive $x$ pass almost unchanged
# ($\Phi \approx 1$), large negative $x$ become almost 0 ($\Phi \approx 0$), and in
# between the curve is smooth, with a small dip below zero (minimum about $-0.17$ at
# $x \approx -0.75$). Think of it as a ReLU with the corner rounded off. BERT, GPT-2 and
# most transformers since use it; Module 13 puts it in the transformer's MLP.
#
# ```
#        x     -4       -2      -1      -0.5     0     0.5     1      2      4
#   GELU(x) -0.0001  -0.0454  -0.1588  -0.1543   0   0.3457  0.8412  1.9546  3.9999
#   ReLU(x)    0        0       0        0       0   0.5     1      2      4
# ```
#
# NumPy has no vectorised `erf`, and GPT-2 was trained with a cheaper **tanh
# approximation**, which is the formula you implement here:
#
# $$\mathrm{GELU}(x) \approx \frac{x}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,
#   \left(x + 0.044715\,x^{3}\right)\right)\right)$$
#
# It differs from the exact form by less than $5 \times 10^{-4}$ everywhere (the largest
# gap is near $x = -2.7$), and it is what `torch.nn.GELU(approximate="tanh")` computes. The
# tests compare against **this** formula, so the exact erf form fails them.
#
# Stability comes for free: `np.tanh` saturates at $\pm 1$, so $x = 1000$ gives
# $\frac{1000}{2}(1 + 1) = 1000$ and $x = -1000$ gives $\frac{-1000}{2}(1 - 1) = 0$.
#
# Contract: `GELU()(x)` returns a new float32 Tensor of `x`'s shape with the tanh
# approximation's values; `GELU(0) = 0`, `GELU(1000) = 1000`, `GELU(-1000) = 0`, without
# any floating-point warning; `x` is left unchanged.


# %% kind="solution" id="gelu" export=true
class GELU(Activation):
    """Gaussian error linear unit, tanh approximation (as in GPT-2), element by element."""

    def forward(self, x: Tensor) -> Tensor:
        """GELU(x) for every element of x, with the tanh approximation

            GELU(x) = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))

        of the exact GELU(x) = x * Φ(x) = 0.5 * x * (1 + erf(x / sqrt(2))); the two differ by
        less than 5e-4. Implement the approximation: the tests compare against it.

        Args:
            x: a Tensor of any shape.

        Returns:
            a new float32 Tensor of x's shape: GELU(0) = 0, GELU(1000) = 1000,
            GELU(-1000) = 0, with no overflow. x itself is not modified.

        Hint: np.sqrt, np.pi and np.tanh. Cube with x * x * x: x ** 3 gives the same values
        but calls NumPy's general power function, which is far slower (see the systems
        analysis at the end).
        """
        # Task gelu: return the tanh approximation of GELU(x), as a new Tensor.
        ### BEGIN SOLUTION
        x = x.data
        inner = np.sqrt(2 / np.pi) * (x + 0.044715 * x * x * x)
        return Tensor(0.5 * x * (1 + np.tanh(inner)))
        ### END SOLUTION


# %% [markdown]
# ### Test `gelu`

# %% kind="test" id="test_gelu" points=4
gelu = GELU()
x64 = np.array([[-3.0, -1.0, -0.5], [0.0, 1.0, 2.0]])
x = Tensor(x64)
expected = 0.5 * x64 * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x64 + 0.044715 * x64**3)))
assert_tensor(gelu(x), expected, "GELU()(x) for x = [[-3, -1, -0.5], [0, 1, 2]]")
# (The exact erf form gives 0.8413447 at x = 1; the tanh approximation gives 0.8411920.)
assert np.array_equal(x.data, x64), "GELU changed its input x: compute into new arrays."
out, err = strict(lambda: gelu(Tensor([-1000.0, 1000.0])))
assert err is None, f"GELU()([-1000, 1000]) raised {type(err).__name__}: {err}."
assert_tensor(out, [0.0, 1000.0], "GELU()([-1000, 1000]) (should be 0 and 1000)")
params = gelu.parameters()
assert type(params) is list and len(params) == 0, (
    f"GELU().parameters() should be an empty list, got {params!r}."
)


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors of the input's shape with the tanh approximation
def _ok(out, expected, rtol=1e-5, atol=1e-6):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


def _gelu(v):
    """The tanh approximation of GELU in float64."""
    v = np.asarray(v, dtype=np.float64)
    return 0.5 * v * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (v + 0.044715 * v**3)))


rng = np.random.default_rng(13)
x64 = (rng.standard_normal((4, 2, 3)) * 2.5).astype(np.float32).astype(np.float64)
x = Tensor(x64)
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = GELU()(x)
assert _ok(out, _gelu(x64)), "GELU of a 3-D tensor"
# hidden: the tanh approximation, not the exact erf form, where they differ most
dip = np.array([-2.7, -2.2, -0.75, 0.3, 1.4, 2.7])
assert _ok(GELU()(Tensor(dip)), _gelu(dip)), "GELU uses the tanh approximation"
# hidden: the cubic term matters for inputs away from zero
far = np.array([[-5.0, -4.0], [3.5, 6.0]])
assert _ok(GELU()(Tensor(far)), _gelu(far)), "GELU of inputs of magnitude 3 to 6"
# hidden: extreme inputs give x or 0 without overflow
extreme = np.array([[-1e4, -1000.0, -60.0], [60.0, 1000.0, 1e4]])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = GELU()(Tensor(extreme))
assert _ok(out, [[0.0, 0.0, 0.0], [60.0, 1000.0, 1e4]]), "GELU of extreme inputs is 0 or x"
assert bool(np.all(np.isfinite(out.data))), "GELU of extreme inputs is finite"
# hidden: a 0-d tensor stays 0-d
assert _ok(GELU()(Tensor(0.0)), 0.0), "GELU of a 0-d zero is 0"
assert _ok(GELU()(Tensor(1.25)), _gelu(1.25)), "GELU of a positive 0-d tensor"
# hidden: forward agrees with calling the module, and there are no parameters
assert _ok(GELU().forward(Tensor([[0.6], [-1.6]])), _gelu([[0.6], [-1.6]])), "forward gives GELU"
params = GELU().parameters()
assert type(params) is list and len(params) == 0, "parameters() is an empty list"
# hidden: the input is left unchanged and a new Tensor is returned
out = GELU()(x)
assert out is not x, "GELU returns a new Tensor"
assert check_equal(x.data, x64), "GELU leaves its input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `softmax`: probabilities along an axis (6 points)
#
# Softmax turns a vector of scores (logits) into a probability distribution:
#
# $$\mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}.$$
#
# Every output is positive, the outputs sum to 1, and a larger score always gets a larger
# probability. Unlike the other four activations it is **not** element-wise: each output
# depends on a whole slice of the input. For a batch of score vectors the slices run along
# one axis, `dim`, and each slice is normalised on its own:
#
# ```
#   x (2, 3)         Softmax(dim=-1): each row sums to 1     Softmax(dim=0): each column sums to 1
#   [ 1  2  3 ]      [ 0.090  0.245  0.665 ]                  [ 0.5  0.731  0.881 ]
#   [ 1  1  1 ]      [ 0.333  0.333  0.333 ]                  [ 0.5  0.269  0.119 ]
# ```
#
# `dim=-1` (the last axis, the default) is the common case: `(batch, classes)` logits in a
# classifier, `(batch, heads, queries, keys)` scores in attention. Negative values count
# from the end, as everywhere in NumPy and PyTorch.
#
# **The overflow, and the fix.** Logits of 1000 make $e^{1000} = \infty$ and the division
# $\infty / \infty$ gives `nan`; logits of $-1000$ make every $e^{x_j}$ underflow to 0, and
# $0 / 0$ is `nan` too. Softmax does not change when the same number $c$ is subtracted
# from every entry of a slice, because the factor $e^{-c}$ cancels:
#
# $$\frac{e^{x_i - c}}{\sum_j e^{x_j - c}} = \frac{e^{-c}\,e^{x_i}}{e^{-c}\sum_j e^{x_j}}
#   = \frac{e^{x_i}}{\sum_j e^{x_j}}.$$
#
# Choose $c = m = \max_j x_j$, **the maximum of the slice**. Then every exponent
# $x_j - m \le 0$, so every $e^{x_j - m} \in (0, 1]$: no overflow. The largest entry
# gives exactly $e^0 = 1$, so the sum lies in $[1, n]$: no division by 0.
#
# ```
#   x            = [ 1000   999   998 ]       naive: e^x = [ inf inf inf ]  ->  [ nan nan nan ]
#   x - max(x)   = [    0    -1    -2 ]
#   e^(x - max)  = [ 1.0  0.368 0.135 ]       sum 1.503  ->  [ 0.665 0.245 0.090 ]
# ```
#
# It must be the maximum **of each slice**, not of the whole tensor: with rows near
# $+1000$ and near $-1000$, shifting by the global maximum leaves the second row at
# $-2000$, where every exponential underflows to 0 and the row becomes $0/0$.
#
# **`keepdims` does the bookkeeping.** For `x` of shape `(2, 3)` and `dim=1`,
# `np.max(x, axis=1, keepdims=True)` has shape `(2, 1)` and `x - m` subtracts each row's
# maximum from that row (broadcasting, Module 01). Without `keepdims` the shape is `(2,)`,
# which fails to broadcast or, for a square `x`, silently subtracts along the wrong axis.
# The same goes for the sum in the denominator.
#
# **Masked entries.** Attention (Module 12) hides positions by setting their score to
# $-\infty$. The stable formula handles that for free: $e^{-\infty - m} = 0$, so a masked
# entry gets probability 0, as long as the slice has at least one finite entry.
#
# Contract: `Softmax(dim=-1)(x)` returns a new float32 Tensor of `x`'s shape whose slices
# along `dim` are non-negative and sum to 1; it is finite and accurate for entries such as
# 1000 and $-1000$ (no floating-point warning); entries of $-\infty$ get probability 0;
# `dim` may be negative; `x` is left unchanged.


# %% kind="solution" id="softmax" export=true
class Softmax(Activation):
    """Softmax along one axis, computed stably: each slice along dim becomes probabilities.

    Args:
        dim: the axis whose slices are normalised; negative values count from the end.
            Default -1, the last axis.
    """

    def __init__(self, dim: int = -1):
        self.dim = dim

    def __repr__(self) -> str:
        return f"Softmax(dim={self.dim})"

    def forward(self, x: Tensor) -> Tensor:
        """softmax(x) along self.dim, stably:

            softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m),   m = max_j x_j,

        where i and j run along axis self.dim and m is the maximum of each slice. Every
        exponent is <= 0, so nothing overflows, and the largest entry contributes e^0 = 1, so
        the denominator is at least 1.

        Args:
            x: a Tensor with at least one axis.

        Returns:
            a new float32 Tensor of x's shape; along self.dim every slice is >= 0 and sums to
            1. Finite and accurate for entries such as 1000 and -1000; an entry of -inf gets
            0 when its slice has a finite entry. x itself is not modified.

        Hint: np.max(a, axis=self.dim, keepdims=True) keeps the reduced axis with length 1,
        so it broadcasts against a; np.sum takes the same arguments.
        """
        # Task softmax: subtract each slice's max, exponentiate, divide by the slice's sum.
        ### BEGIN SOLUTION
        shifted = x.data - np.max(x.data, axis=self.dim, keepdims=True)  # every entry <= 0
        e = np.exp(shifted)  # in [0, 1]; the maximum of each slice gives exactly 1
        return Tensor(e / np.sum(e, axis=self.dim, keepdims=True))
        ### END SOLUTION


# %% [markdown]
# ### Test `softmax`

# %% kind="test" id="test_softmax" points=6
x64 = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
x = Tensor(x64)
rows = np.exp(x64) / np.exp(x64).sum(axis=1, keepdims=True)
cols = np.exp(x64) / np.exp(x64).sum(axis=0, keepdims=True)
assert_tensor(Softmax()(x), rows, "Softmax()(x) for x = [[1, 2, 3], [1, 1, 1]] (each row)")
assert_tensor(Softmax(dim=1)(x), rows, "Softmax(dim=1)(x) (each row sums to 1)")
assert_tensor(
    Softmax(dim=0)(x), cols, "Softmax(dim=0)(x) (each column sums to 1: normalise along dim)"
)
assert np.array_equal(x.data, x64), (
    "Softmax changed its input x: x.data - m makes a new array, x.data -= m does not."
)

big = Tensor([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0], [500.0, -500.0, 0.0]])
out, err = strict(lambda: Softmax(dim=-1)(big))
assert err is None, (
    f"Softmax(dim=-1) of rows near 1000, near -1000 and from -500 to 500 raised "
    f"{type(err).__name__}: {err}. Overflow means exp saw a large number; an invalid value "
    "(0/0) means a whole row underflowed to 0. Subtract each row's own maximum "
    "(keepdims=True) before np.exp."
)
shift = np.exp([0.0, -1.0, -2.0]) / np.exp([0.0, -1.0, -2.0]).sum()
assert_tensor(
    out,
    [shift, shift, [1.0, 0.0, 0.0]],
    "Softmax(dim=-1) of [[1000, 999, 998], [-1000, -1001, -1002], [500, -500, 0]]",
)

params = Softmax().parameters()
assert type(params) is list and len(params) == 0, (
    f"Softmax().parameters() should be an empty list, got {params!r}."
)


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors of the input's shape, normalised along the given axis
def _ok(out, expected, rtol=1e-5, atol=1e-6):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=rtol, atol=atol))
    )


def _softmax(v, axis):
    """Stable softmax in float64."""
    v = np.asarray(v, dtype=np.float64)
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


rng = np.random.default_rng(17)
x64 = (rng.standard_normal((2, 3, 4)) * 3.0).astype(np.float32).astype(np.float64)
x = Tensor(x64)
for d in (0, 1, 2, -1, -2, -3):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = Softmax(dim=d)(x)
    assert _ok(out, _softmax(x64, d)), "Softmax of a 3-D tensor along each axis"
    assert _ok(out.sum(axis=d), np.ones(np.delete(x64.shape, d))), "slices along dim sum to 1"
# hidden: the default axis is the last one
assert _ok(Softmax()(x), _softmax(x64, -1)), "Softmax() normalises along the last axis"
# hidden: a 1-D tensor is one slice
vec = np.array([0.5, -1.0, 2.0, 0.0, 3.0])
assert _ok(Softmax()(Tensor(vec)), _softmax(vec, 0)), "Softmax of a 1-D tensor"
assert _ok(Softmax(dim=0)(Tensor(vec)), _softmax(vec, 0)), "Softmax(dim=0) of a 1-D tensor"
# hidden: each slice is shifted by its own maximum, so slices far apart stay finite
offsets = np.array([1000.0, -1000.0, 0.0, 500.0])
rows = (rng.standard_normal((4, 5)) + offsets[:, None]).astype(np.float32).astype(np.float64)
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Softmax(dim=-1)(Tensor(rows))
assert bool(np.all(np.isfinite(out.data))), "Softmax of rows near +-1000 is finite"
assert _ok(out, _softmax(rows, -1)), "Softmax of rows near +-1000 along the last axis"
cols = rows.T.copy()
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Softmax(dim=0)(Tensor(cols))
assert bool(np.all(np.isfinite(out.data))), "Softmax of columns near +-1000 is finite"
assert _ok(out, _softmax(cols, 0)), "Softmax of columns near +-1000 along axis 0"
# hidden: extreme logits give one-hot probabilities without overflow
extreme = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, 1e4]])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Softmax(dim=1)(Tensor(extreme))
assert _ok(out, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), "extreme logits give one-hot rows"
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Softmax(dim=-1)(Tensor([[1000.0, 1000.0], [-1000.0, -1000.0]]))
assert _ok(out, [[0.5, 0.5], [0.5, 0.5]]), "equal extreme logits share the probability"
# hidden: masked entries of -inf get probability 0
masked = np.array([[0.5, -np.inf, 1.0, -1e4], [-np.inf, 2.0, -np.inf, -np.inf]])
with np.errstate(over="raise", invalid="raise", divide="raise"):
    out = Softmax()(Tensor(masked))
e = np.exp(np.array([0.5, 1.0]) - 1.0)
assert _ok(out, [[e[0] / e.sum(), 0.0, e[1] / e.sum(), 0.0], [0.0, 1.0, 0.0, 0.0]]), (
    "entries of -inf get probability 0"
)
# hidden: a square input is normalised along the requested axis
square = (rng.standard_normal((3, 3)) * 2.0).astype(np.float32).astype(np.float64)
assert _ok(Softmax(dim=0)(Tensor(square)), _softmax(square, 0)), "square input, dim=0"
assert _ok(Softmax(dim=-1)(Tensor(square)), _softmax(square, -1)), "square input, dim=-1"
assert _ok(Softmax(dim=-2)(Tensor(square)), _softmax(square, 0)), "square input, dim=-2"
# hidden: forward agrees with calling the module, and there are no parameters
assert _ok(Softmax(dim=1).forward(x), _softmax(x64, 1)), "forward gives the softmax"
params = Softmax(dim=0).parameters()
assert type(params) is list and len(params) == 0, "parameters() is an empty list"
# hidden: the input is left unchanged and a new Tensor is returned
for d in (0, -1):
    out = Softmax(dim=d)(x)
    assert out is not x, "Softmax returns a new Tensor"
assert check_equal(x.data, x64), "Softmax leaves its input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: overflow, and the cost of an activation
#
# Nothing below is graded. These cells measure what you just built; run them and compare
# the numbers with your predictions before reading the comments. Each cell finishes in
# well under a second.
#
# ### Where exp overflows
#
# A float32 number has 8 exponent bits, so the largest finite value is about
# $3.4 \times 10^{38}$; its natural logarithm, about 88.72, is the largest argument `exp`
# can take. float64 goes further, to 709.78, but not to 1000. Predict which rows of the
# table print `inf` before running the cell.

# %%
import warnings  # noqa: E402  (the systems analysis is the only part that needs it)


def quietly(fn, *args):
    """fn(*args) with NumPy's floating-point warnings recorded instead of printed.

    Returns (result, the warnings' messages joined by '; ', or '-' when there were none).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            result = fn(*args)
    return result, "; ".join(sorted({str(w.message) for w in caught})) or "-"


for dtype in (np.float32, np.float64):
    info = np.finfo(dtype)
    print(f"{dtype.__name__}: largest {info.max:.4g} = e^{np.log(info.max):.2f}")
print()
print(f"{'x':>8} {'exp(x) float32':>16} {'exp(x) float64':>16}   warnings (float32)")
for value in (80.0, 88.0, 88.8, 100.0, 710.0, 1000.0):
    e32, said = quietly(np.exp, np.float32(value))
    e64, _ = quietly(np.exp, np.float64(value))
    print(f"{value:>8.1f} {e32:>16.4g} {e64:>16.4g}   {said}")

# %% [markdown]
# ### The naive formulas at $x = 1000$
#
# Here are the textbook sigmoid, its other form $e^x / (1 + e^x)$, and the textbook
# softmax, side by side with your stable versions. Warnings are caught and listed instead
# of printed. Look for three different failures: a right answer with an overflow warning,
# a `nan` from $\infty / \infty$, and a `nan` from $0 / 0$.


# %%
def naive_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^(-x)): overflows for x < -88.7 in float32."""
    return 1 / (1 + np.exp(-x))


def naive_sigmoid_other_form(x: np.ndarray) -> np.ndarray:
    """e^x / (1 + e^x): inf / inf = nan for x > 88.7 in float32."""
    return np.exp(x) / (1 + np.exp(x))


def naive_softmax(x: np.ndarray) -> np.ndarray:
    """e^x / sum(e^x) along the last axis, without the shift by the maximum."""
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


xs = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=np.float32)
first, first_said = quietly(naive_sigmoid, xs)
other, other_said = quietly(naive_sigmoid_other_form, xs)
stable, stable_said = quietly(lambda a: Sigmoid()(Tensor(a)).data, xs)
print(f"{'x':>8} {'1/(1+e^-x)':>12} {'e^x/(1+e^x)':>12} {'Sigmoid()':>12}")
for i, value in enumerate(xs):
    print(f"{value:>8.0f} {first[i]:>12.4g} {other[i]:>12.4g} {stable[i]:>12.4g}")
print(f"warnings: 1/(1+e^-x): {first_said}")
print(f"          e^x/(1+e^x): {other_said}")
print(f"          Sigmoid(): {stable_said}")

print()
print(f"{'logits':>26} {'naive softmax':>28} {'Softmax()':>28}   naive warnings")
for logits in ([1.0, 2.0, 3.0], [1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]):
    row = np.array(logits, dtype=np.float32)
    naive, said = quietly(naive_softmax, row)
    ours, _ = quietly(lambda a: Softmax()(Tensor(a)).data, row)
    naive_text = np.array2string(naive, precision=3, separator=" ")
    ours_text = np.array2string(ours, precision=3, separator=" ")
    print(f"{str(logits):>26} {naive_text:>28} {ours_text:>28}   {said}")

# %% [markdown]
# The naive sigmoid is right at $-1000$ only by luck ($1 / (1 + \infty) = 0$) and warns;
# its other form returns `nan` at $+1000$. The naive softmax fails both ways: `inf / inf`
# for large logits and `0 / 0` for very negative ones, where every $e^{x}$ underflows. The
# stable versions print the same probabilities for `[1000, 999, 998]`,
# `[-1000, -1001, -1002]` and `[1, 2, 3]`, because softmax only depends on the
# differences between the logits. Module 04 uses the same trick for the cross-entropy
# loss (log-sum-exp), where the logarithm of a probability that underflowed to 0 would be
# $-\infty$.
#
# ### Cost per element
#
# Each activation touches every element once, so the natural unit of cost is time per
# element. The cell below applies each activation to a million float32 numbers (4 MB in,
# 4 MB out), takes the median of several timed runs after a warm-up run, and divides by a
# million. The first row is a baseline: `x + 0`, one pass over memory with the cheapest
# possible arithmetic. Softmax runs on the same million numbers arranged as a
# `(1000, 1000)` matrix, along each axis. The last column divides the least traffic any of
# them needs (read 4 bytes and write 4 bytes per element) by the time: the baseline's
# figure is roughly what this machine's memory system delivers, and a row far below it
# spends its time on something other than moving its input and output. The second table
# times single NumPy operations on the raw array, the building blocks of the formulas.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)


def median_seconds(fn, repeats: int = 9) -> float:
    """Median wall time of fn() over `repeats` runs, after one warm-up run."""
    fn()  # warm-up: first-touch page faults, caches, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def cost_table(title: str, cases: list, n: int) -> None:
    """Print nanoseconds per element, the ratio to the first row, and the effective
    bandwidth: 8 bytes per element (read 4, write 4, the least any of them can move)."""
    print(f"{title:>24} {'ns / element':>13} {'x first row':>12} {'GB/s':>7}")
    first = None
    for name, fn in cases:
        seconds = median_seconds(fn)
        first = first or seconds
        ns = seconds / n * 1e9
        print(f"{name:>24} {ns:>13.2f} {seconds / first:>12.1f} {8 * n / seconds / 1e9:>7.1f}")


n = 1_000_000
rng = np.random.default_rng(0)
flat = Tensor(rng.standard_normal(n) * 3.0)
matrix = flat.reshape(1000, 1000)
cost_table(
    "activation",
    [
        ("x + 0 (baseline)", lambda: flat + 0),
        ("ReLU", lambda: ReLU()(flat)),
        ("Tanh", lambda: Tanh()(flat)),
        ("Sigmoid", lambda: Sigmoid()(flat)),
        ("naive sigmoid (numpy)", lambda: naive_sigmoid(flat.data)),
        ("GELU", lambda: GELU()(flat)),
        ("Softmax(dim=-1)", lambda: Softmax(dim=-1)(matrix)),
        ("Softmax(dim=0)", lambda: Softmax(dim=0)(matrix)),
    ],
    n,
)
print()
raw = flat.data
cost_table(
    "numpy operation",
    [
        ("x + 0", lambda: raw + 0),
        ("x * x * x", lambda: raw * raw * raw),
        ("x ** 3", lambda: raw**3),
        ("np.exp(x)", lambda: np.exp(raw)),
        ("np.tanh(x)", lambda: np.tanh(raw)),
        ("np.maximum(x, 0)", lambda: np.maximum(raw, 0)),
    ],
    n,
)

# %% [markdown]
# Your numbers depend on the machine; look for the rows that stand out, and for these
# effects behind them:
#
# - **Passes over memory.** Every NumPy call in a formula reads its inputs and writes a
#   new million-element temporary array: the stable sigmoid makes about seven such passes
#   (`minimum`, `exp`, `maximum`, minus, `exp`, plus, divide), the naive one four, ReLU
#   and Tanh one each (plus the copy that `Tensor(...)` makes of every result). Fresh
#   memory also has to be mapped by the operating system the first time it is written,
#   which on some machines costs more than the arithmetic: when a row takes much longer
#   than its operations in the second table add up to, the difference is memory
#   management (freed blocks go back to the operating system and are mapped again, page
#   by page), not arithmetic. Either way the stable sigmoid is slower than the naive one:
#   that is the price of never overflowing, and it is worth paying.
# - **The cost of each operation.** NumPy computes `exp` and `tanh` of float32 arrays with
#   vectorised (SIMD) code, several elements per instruction, so they cost little more
#   than a pass over memory. `x ** 3` is different: NumPy calls the general power function
#   once per element, which is typically tens to hundreds of times slower than
#   `x * x * x` for the same values. A GELU written with `x ** 3` spends nearly all its
#   time on the cube.
# - **Softmax** makes several passes (max, subtract, exp, sum, divide), two of them
#   reductions. Along `dim=0` the reductions walk down the columns of a row-major matrix;
#   NumPy handles that well here, but strided access is a common reason for one axis
#   being slower than the other.
#
# Deep-learning libraries **fuse** such chains of element-wise operations into one kernel
# that reads each element once and keeps the intermediates in registers; Module 16
# measures what that buys. In a whole network the activations are rarely the bottleneck in
# FLOPs (a `(1000, 1000)` matrix product costs 2 billion FLOPs against a few million for
# its activation), but they cost memory traffic, and in a transformer the softmax over the
# $n \times n$ attention scores grows with the square of the sequence length (Module 12).
#
# ## Summary
#
# - Without a nonlinearity between them, any stack of linear layers is one linear layer.
# - An activation is a callable module without parameters: `act(x)` runs `act.forward(x)`,
#   and `parameters()` is `[]`.
# - ReLU is $\max(0, x)$: use `np.maximum`, which compares element by element, not the
#   reduction `np.max`.
# - `exp` overflows above 88.7 in float32. The stable sigmoid exponentiates only numbers
#   $\le 0$, with one formula for $x \ge 0$ and another for $x < 0$; `np.where` evaluates
#   both of its branches, so both must be safe.
# - GELU here is the tanh approximation
#   $\frac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))$ of $x\Phi(x)$.
# - Softmax is invariant to shifting a slice by a constant; shifting by each slice's
#   maximum (with `keepdims=True`) makes every exponent $\le 0$ and every denominator
#   $\ge 1$.
#
# **Reflection.**
#
# 1. A network of Linear layers with ReLU between them computes a function made of flat
#    pieces. Why can it still fit a curve like $\sin(x)$ on an interval, and what happens to
#    the number of pieces as the layers get wider?
# 2. Sigmoid's slope is $\sigma(x)(1 - \sigma(x))$, at most $0.25$. What happens to a
#    gradient that passes backwards through ten sigmoid layers, and why does ReLU not have
#    this problem for positive inputs?
# 3. Your softmax allocates about four arrays the size of its input. For attention scores
#    of shape `(batch 8, heads 12, 1024, 1024)` in float32, how many bytes is that?
