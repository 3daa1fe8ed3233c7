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
# # Module 05: Autograd
#
# Training nudges every weight in the direction that makes the loss smaller, and that
# direction is the **gradient**: one partial derivative $\partial L / \partial w$ for every
# number in every weight tensor. A small MLP has thousands of them and GPT-2 small has 124
# million. Deriving them by hand is out of the question, and estimating each one by wiggling
# its weight costs two forward passes per weight. **Reverse-mode automatic differentiation**
# gets all of them for about the price of two forward passes in total.
#
# The idea fits in two sentences. While the forward pass runs, every operation records what
# it did and what it will need later, building a **graph** from the inputs to the loss.
# Then `loss.backward()` walks that graph from the loss back to the inputs and, at each step,
# applies that operation's local derivative: the **chain rule**, one operation at a time.
#
# In this module you give the framework you built in Modules 01 to 04 that machinery: a
# backward rule for every operation, the walk through the graph, and, first of all, the tool
# that tells you whether a backward rule is right, a **gradient checker**.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - estimate a gradient with **central differences**, and say why it is done in float64 and
#   why a random upstream gradient catches bugs that `.sum()` hides;
# - write an operation as a **Function**: a `forward` that saves what it will need and a
#   `backward` that turns the gradient of the output into the gradients of the inputs;
# - derive the backward rules of element-wise arithmetic **with broadcasting**, matrix
#   products (1-D and batched operands included), reshapes, transposes, indexing, reductions,
#   activations and losses;
# - order a graph **topologically** without recursion and run the backward pass, adding up
#   the gradients of tensors that are used more than once;
# - switch recording off with `no_grad()`, and measure what the graph costs in memory and
#   what gradient checking costs in time.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in nine places, one per task. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, formulas, errors, and hints. Keep the class and method
#   names and signatures as they are; the given cells are read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code cell (for
#   `backward_pass`, after the given `enable_autograd` cell). The asserts you can read there
#   are the **visible tests**: run them as often as you like, and read their messages when
#   they fail. Most of them compare your backward rules with **your own** `numerical_grad`,
#   so do the first task first.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other shapes and axes, broadcasting in both directions,
#   1-D and batched matrix products, repeated indices, ties, extreme values, graphs that
#   reuse a tensor, a small network end to end). Hidden tests compute their own numerical
#   gradients in float64 from plain NumPy formulas, with a random upstream gradient. A
#   failing hidden check tells you which behaviour it was about.
# - Points follow the behaviour that broke. While a task's test cell is graded, the
#   functions of the *other* tasks above it run the course's reference solution: the
#   visible comparisons with `numerical_grad` then use the course's checker, and
#   `backward_pass` runs your engine on the course's Functions. A bug in `unbroadcast` or in
#   `numerical_grad` costs the points of its own task, not those of every rule after it.
# - A test cell earns its points only when every check in it passes.
# - NumPy warnings count as failures: the tests run your rules with overflow, division by
#   zero and invalid operations turned into errors, and say which one happened.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `numerical_gradient` | `numerical_grad` and `gradcheck`: central differences in float64 | 2 |
# | `function_base` | `unbroadcast` and `Function.apply`: run forward, record the graph | 3 |
# | `elementwise_backward` | `Add`, `Sub`, `Mul`, `Div`, `Neg`, with broadcasting | 3 |
# | `matmul_backward` | `MatMul`, 1-D and batched operands included | 2 |
# | `shape_backward` | `Reshape`, `Transpose`, `GetItem` (scatter-add) | 2 |
# | `reduction_backward` | `Sum`, `Mean`, `Max` (ties share the gradient) | 3 |
# | `activation_backward` | `ReLU`, `Sigmoid`, `Tanh`, `GELU`, `Softmax` | 3 |
# | `loss_backward` | `LogSoftmax`, `MSE`, `CrossEntropy`, `BinaryCrossEntropy` | 3 |
# | `backward_pass` | `topological_order`, `Tensor.backward`, `zero_grad`, end to end | 4 |
# | | **total** | **25** |
#
# Work in the order of the table. The operation tasks call each Function's `forward` and
# `backward` directly, so each can be tested on its own; `backward_pass` then chains them
# all together, and its tests run a real network.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.autograd: gradients for every operation of Modules 01 to 04.

Every operation is a Function: forward computes the result on NumPy arrays and saves what
backward needs; backward turns the gradient of the output into one gradient per input.
Function.apply runs forward and, when gradients are wanted, records a Node (out.grad_fn).
Tensor.backward() visits the recorded graph in reverse topological order and applies the
chain rule. gradcheck compares backward rules with central differences in float64.
enable_autograd() switches it all on: it replaces the operations of Tensor (Module 01), the
activations (Module 02) and the losses (Module 04) with their Function-based versions.
Written by students in Module 05.
"""

import numpy as np

from tinytorch.core import activations, losses
from tinytorch.core.tensor import Tensor

# The Functions ReLU, Sigmoid, Tanh, GELU and Softmax are left out on purpose: they share
# their names with Module 02's activation modules, and a star import must not shadow those.
# Reach them as autograd.ReLU and so on.
__all__ = [
    "no_grad",
    "is_grad_enabled",
    "numerical_grad",
    "gradcheck",
    "Context",
    "Node",
    "Function",
    "unbroadcast",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "MatMul",
    "Reshape",
    "Transpose",
    "GetItem",
    "Sum",
    "Mean",
    "Max",
    "LogSoftmax",
    "MSE",
    "CrossEntropy",
    "BinaryCrossEntropy",
    "topological_order",
    "enable_autograd",
]

# %% [markdown]
# ## The plan: record forward, walk backward
#
# Take a single neuron with a squared error, $L = \sum_i (x_i w_i + b - y_i)^2$, written with
# Tensor operations as `r = x * w + b - y` and `L = (r * r).sum()`. Forward, each operation
# computes its result and leaves a note, a **node**, saying which operation made it and from
# which inputs. The notes form a graph that ends at the loss:
#
# ```
#   x ──┐
#       ├─[Mul]── p ──┐
#   w ──┘             ├─[Add]── q ──┐
#   b ────────────────┘             ├─[Sub]── r ──┬─[Mul]── s ──[Sum]── L
#   y ──────────────────────────────┘             └──┘ (r is used twice)
# ```
#
# Backward, we want $\partial L / \partial w$ and $\partial L / \partial b$. The chain rule
# says: the gradient with respect to an operation's input is the gradient with respect to its
# output, pushed through that operation's local derivative. So we start at the end with
# $\partial L / \partial L = 1$ and visit the nodes in reverse: `Sum` hands $1$ to every
# element of `s`; `Mul` turns that into $2r$ for `r` (it is used twice, so two contributions
# are **added**); `Sub` passes it to `q` unchanged; `Add` passes it to `p` and to `b`; `Mul`
# multiplies it by `x` for `w`. Each node only needs its own local rule and the gradient
# that arrives from above: nobody ever writes down the derivative of the whole expression.
#
# **Vector-Jacobian products.** An operation $y = f(x)$ between arrays has a Jacobian
# $\partial y_j / \partial x_i$, often enormous (a `(1000, 1000)` matrix product has a
# Jacobian with $10^{12}$ entries). Backward never builds it. Given the **upstream gradient**
# $g = \partial L / \partial y$ (same shape as $y$), it returns
#
# $$\frac{\partial L}{\partial x_i} = \sum_j \frac{\partial L}{\partial y_j}
#   \frac{\partial y_j}{\partial x_i},$$
#
# an array with the shape of $x$, usually with a formula as cheap as the forward pass. For
# `y = a * b` the formula is `g * b` for `a`; for `C = A @ B` it is `g @ B.T` for `A`.
#
# **The pieces you build.**
#
# | piece | job | task |
# |---|---|---|
# | `numerical_grad`, `gradcheck` | check backward by central differences | `numerical_gradient` |
# | `Function.apply`, `unbroadcast` | run forward, record it; undo broadcasting | `function_base` |
# | `Add`, `MatMul`, `Sum`, `ReLU`, ... | a Function per operation: forward, backward | five tasks |
# | `topological_order`, `Tensor.backward` | walk the graph backwards, add up | `backward_pass` |
# | `enable_autograd()` (given) | make `+`, `@`, `.sum()`, `ReLU()`, ... use the Functions | |
#
# As in PyTorch, only tensors created with `requires_grad=True` (the parameters, usually)
# and what is computed from them are tracked. After `loss.backward()` each such **leaf**
# tensor holds its gradient in `.grad`, a float32 array of its own shape.
#
# ## Given: grad mode and the float64 switch
#
# The engine has two global switches, in the read-only cell below.
#
# - **Grad mode.** Inside `with no_grad():` operations record nothing: no nodes, no saved
#   arrays, plain results. You use it to evaluate a model and, in Module 06, to update the
#   weights (an update must not itself become part of the graph). `is_grad_enabled()`
#   reads the switch; your `Function.apply` must respect it.
# - **float64 results.** Every operation returns a float32 Tensor. The gradient checker
#   needs float64 for a moment (the first task explains why): inside `_NumericalMode()`
#   nothing is recorded and `_output_tensor(values)`, which your `Function.apply` uses to
#   wrap every forward result, keeps float64 values in float64.


# %% kind="locked" id="grad_mode" export=true
class _Mode:
    """The engine's two global switches (tinytorch runs in one thread)."""

    grad_enabled = True  # False inside no_grad(): Function.apply records nothing
    float64 = False  # True during gradcheck's numerical passes: results stay float64


def is_grad_enabled() -> bool:
    """Whether Function.apply records the graph: True, except inside no_grad()."""
    return _Mode.grad_enabled


class no_grad:
    """Context manager: inside `with no_grad():` operations record no graph.

    Results are plain Tensors (requires_grad False, no grad_fn) and no memory is kept for a
    backward pass. Blocks can be nested; on exit the previous setting comes back, also when
    the block raised an exception.
    """

    def __enter__(self) -> "no_grad":
        self._previous = _Mode.grad_enabled
        _Mode.grad_enabled = False
        return self

    def __exit__(self, *exc_info) -> None:
        _Mode.grad_enabled = self._previous


class _NumericalMode:
    """gradcheck's numerical passes: nothing is recorded and float64 results stay float64."""

    def __enter__(self) -> "_NumericalMode":
        self._previous = (_Mode.grad_enabled, _Mode.float64)
        _Mode.grad_enabled, _Mode.float64 = False, True
        return self

    def __exit__(self, *exc_info) -> None:
        _Mode.grad_enabled, _Mode.float64 = self._previous


def _output_tensor(values: np.ndarray) -> Tensor:
    """A forward result as a new Tensor: float32 as always, except inside _NumericalMode,
    where the values keep float64 so that central differences are not lost in rounding."""
    out = Tensor(values)
    if _Mode.float64:
        out.data = np.array(values, dtype=np.float64)
    return out


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. Its first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` with the expected shape
# and values (`assert_array` does the same for a NumPy array, `assert_grad` for a `.grad`),
# `check_close` compares numbers the way `np.allclose` does, and `raised` returns the
# exception a call raised. Its last part is this module's own:
#
# - `run_rule(F, inputs)` calls a Function's `forward` and then its `backward` directly, with
#   a fresh `Context` and float64 arrays: no Tensors and no graph, so each rule can be tested
#   on its own. `assert_values` checks what a rule returned (an array, or the NumPy scalar
#   `np.sum` of a whole array gives) and `assert_leaf_grad` a leaf's float32 `.grad`.
# - `check_backward(F, inputs, what)` compares the gradients `F.backward` returns with
#   **your** `numerical_grad` of $v \mapsto \sum (R \odot F.\mathrm{forward}(\dots v \dots))$
#   for a random upstream gradient $R$.
# - `quietly` turns NumPy's floating-point warnings into a failing assert that names them.
# - `StandIn` lets the first task test `gradcheck` before any real backward exists.


# %% kind="locked" id="checks" include="checks"
from tinytorch.core import layers  # noqa: E402  (Linear and Sequential, for the network tests)

SHAPE_HINT = "A gradient has the shape of its input; a broadcast input needs unbroadcast."
_RESULT_TYPES = (np.ndarray, np.generic)  # captured: what a rule may return


def assert_values(got, expected, what: str, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """assert_array for what a rule returns: a NumPy array, or a NumPy scalar (np.sum and
    np.mean of a whole array return one), with the shape and values of `expected`."""
    assert isinstance(got, _RESULT_TYPES), (
        f"{what}: expected a NumPy array, got {type(got).__name__}. Rules work on arrays: "
        "return arrays (not Tensors, lists or None)."
    )
    assert_array(as_float64(got), expected, what, rtol=rtol, atol=atol)


def assert_leaf_grad(t, expected, what: str) -> None:
    """t.grad (after backward) is a float32 array of t's shape with the expected values."""
    grad = getattr(t, "grad", None)
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float32, (
        f"{what}: .grad should be a float32 NumPy array, got {type(grad).__name__} of dtype "
        f"{getattr(grad, 'dtype', None)}. Leaves get .grad in backward, as float32."
    )
    assert_grad(t, expected, what, rtol=1e-5, atol=1e-6)


def quietly(call, what: str):
    """Return call(), failing with an AssertionError if NumPy warns while it runs."""
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return call()
    except FloatingPointError as err:
        raise AssertionError(
            f"{what}: NumPy warned '{err}'. A warning fails a test cell when it is graded. "
            "Overflow in exp: exponentiate only numbers <= 0 (subtract the maximum first). "
            "Divide by zero or invalid value: a division by something that can be 0."
        ) from None


def run_rule(function, inputs, upstream=None, **kwargs):
    """(output, gradients): function.forward, then function.backward, called directly.

    inputs are converted to float64 arrays and passed to forward with a fresh Context, along
    with kwargs; upstream is the gradient of the output (ones of the output's shape if None).
    """
    name = function.__name__
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    ctx = Context()
    out = quietly(lambda: function.forward(ctx, *arrays, **kwargs), f"{name}.forward")
    assert isinstance(out, _RESULT_TYPES), (
        f"{name}.forward should return a NumPy array, got {type(out).__name__}."
    )
    g = np.ones(np.shape(out)) if upstream is None else np.array(upstream, dtype=np.float64)
    grads = quietly(lambda: function.backward(ctx, g), f"{name}.backward")
    assert isinstance(grads, tuple) and len(grads) == len(arrays), (
        f"{name}.backward should return a tuple with one gradient per input of forward "
        f"({len(arrays)}), got {grads!r:.300}"
    )
    return out, grads


def check_backward(function, inputs, what: str, differentiable=None, seed: int = 0, **kwargs):
    """Compare function.backward with your numerical_grad for a random upstream gradient R.

    For each input i in `differentiable` (default: all of them), the gradient backward
    returns must match numerical_grad of v -> sum(R * forward(..., v, ...)) in float64.
    Inputs not in `differentiable` (class targets, for example) must get None.
    """
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    out, _ = run_rule(function, arrays, **kwargs)
    upstream = np.random.default_rng(seed).standard_normal(np.shape(out))
    _, grads = run_rule(function, arrays, upstream, **kwargs)
    wanted = range(len(arrays)) if differentiable is None else differentiable
    for i, array in enumerate(arrays):
        if i not in wanted:
            assert grads[i] is None, f"{what}: input {i} has no gradient: return None for it."
            continue

        def total(v, i=i):
            args = [v if j == i else a for j, a in enumerate(arrays)]
            return float(np.sum(upstream * function.forward(Context(), *args, **kwargs)))

        numeric = numerical_grad(total, array)
        assert_values(
            grads[i],
            numeric,
            f"{what}: gradient for input {i} compared with numerical_grad (if every rule "
            "disagrees with it, by the same factor say, check numerical_grad first)",
            rtol=1e-4,
            atol=1e-6,
        )


class StandIn:
    """A stand-in for an operation's output, to test gradcheck before autograd exists.

    .data holds the values. backward(gradient) runs a hand-written rule: rule(gradient)
    returns (tensor, gradient) pairs, added into each tensor's .grad the way
    Tensor.backward will do it.
    """

    def __init__(self, values, rule):
        self.data = np.asarray(values)
        self.rule = rule

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def backward(self, gradient=None) -> None:
        for tensor, grad in self.rule(np.asarray(gradient)):
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad


# %% [markdown]
# ## Task `numerical_gradient`: a gradient checker first (2 points)
#
# Every backward rule in this module can be wrong in ways that still produce plausible
# numbers: a missing transpose, a sum over the wrong axis, a forgotten factor of 2. A network
# trained with a slightly wrong gradient often still learns a little, so such bugs hide for
# days. The defence is to compute the same gradient a second, completely independent way and
# compare. That second way is the first thing you write.
#
# **Central differences.** For a function $f$ of an array $x$ that returns one number, the
# partial derivative with respect to the element $x_i$ is the slope of $f$ along that
# element alone:
#
# $$\frac{\partial f}{\partial x_i} \approx
#   \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2 \varepsilon},$$
#
# where $e_i$ is 1 at position $i$ and 0 elsewhere: move one element up by $\varepsilon$,
# then down by $\varepsilon$, and divide the change by $2\varepsilon$. By Taylor's theorem
# the error is about $\varepsilon^2 f'''/6$, much smaller than the one-sided
# $(f(x + \varepsilon e_i) - f(x)) / \varepsilon$, whose error is about $\varepsilon f''/2$.
#
# ```
#   f                                   the chord through x - ε and x + ε
#   |                   * f(x + ε)      has almost the slope of the tangent at x
#   |              .   /
#   |          .      /
#   |      * f(x - ε)
#   +------+-----+-----+------- x
#        x - ε   x   x + ε
# ```
#
# One element at a time, so a tensor of $n$ elements costs $2n$ evaluations of $f$: fine for
# a check on a few dozen numbers, hopeless for training (the systems analysis measures it).
#
# **Why float64.** $f(x + \varepsilon e_i) - f(x - \varepsilon e_i)$ subtracts two nearly
# equal numbers, and the digits they share cancel. float32 keeps about 7 significant
# digits: with $\varepsilon = 10^{-6}$ and $f \approx 1$, each value is rounded by about
# $6 \times 10^{-8}$, so a difference of $2 \times 10^{-6}$ is off by several percent.
# float64 keeps about 16 digits and the same slope comes out right to about $10^{-10}$. So
# `numerical_grad` works on a float64 copy of $x$, and `gradcheck` runs the operations in
# float64 while it measures.
#
# **Why a random upstream gradient.** `gradcheck` checks an operation `fn` whose output is
# usually a whole tensor $y$, but a gradient is taken of one number. The lazy choice is
# `y.sum()`, whose upstream gradient is all ones, and ones hide bugs: a backward that
# transposes $g$ by mistake gives the right answer when $g$ is a square matrix of ones,
# and a backward that sums over the wrong axis gives the right answer when every entry of
# $g$ is the same. So `gradcheck` uses $L = \sum_j y_j R_j$ with a random array $R$ of
# $y$'s shape. Its gradient with respect to $y$ is exactly $R$, so calling
# `y.backward(R)` must fill each input's `.grad` with $\partial L / \partial x$, and that is
# what gets compared with the central differences of $L$.
#
# **How gradcheck works, step by step.**
#
# ```
#   out = fn(*inputs)                              the forward pass, float32, with a graph
#   R   = np.random.default_rng(seed).standard_normal(out.shape)
#   clear every input's .grad, then out.backward(R)     analytic gradients, in .grad
#   remember every input's .data; then, inside _NumericalMode():
#       for each input t with requires_grad:
#           numerical = numerical_grad(values -> sum(fn(*inputs).data * R), t.data, eps)
#                       (the function puts `values`, numerical_grad's float64 copy, into
#                       t.data before calling fn, so the operations compute in float64)
#           compare t.grad (zeros if None) with numerical: np.allclose(..., rtol, atol)
#   finally: put every input's original .data back
# ```
#
# Inputs with `requires_grad=False` are constants and are skipped. When the two gradients
# differ, raise `AssertionError` with a message that names the input's position and the
# largest difference, e.g. `gradcheck: input 1: analytic and numerical gradients differ by
# up to 0.42`, so you know which gradient to look at. Otherwise return `True`.
#
# You can write `gradcheck` now, before anything has a backward: the test below uses
# `StandIn` outputs whose `backward` is a hand-written rule, some right and some wrong.
# From the `backward_pass` task on, `gradcheck` checks real Tensor expressions.


# %% kind="solution" id="numerical_gradient" export=true
def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of the gradient of the number f(x) with respect to x.

    Args:
        f: a function of one array, returning a number (a Python float or a 0-d array).
        x: the point, an array of any shape (0-d included) and any float dtype.
        eps: the step ε.

    Returns:
        a new float64 array g of x's shape with
        g[i] = (f(x + eps at i) - f(x - eps at i)) / (2 * eps) for every index i.

    Work on a float64 copy of x: the caller's array is never modified. f may be handed the
    same array every time, changed at one element; put each element back after using it.

    Hint: np.array(x, dtype=np.float64) makes the copy; `for i in np.ndindex(x.shape)`
    visits every index (a single () for a 0-d array).
    """
    # Task numerical_gradient: move one element at a time by +eps and -eps.
    ### BEGIN SOLUTION
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        plus = f(x)
        x[i] = original - eps
        minus = f(x)
        x[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad
    ### END SOLUTION


def gradcheck(
    fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0
) -> bool:
    """Check the gradients of fn(*inputs) against central differences in float64.

    Args:
        fn: a function of the inputs returning a Tensor (any shape); it may also use tensors
            it does not receive as arguments.
        inputs: a list of Tensors; those with requires_grad=True are checked.
        eps: the step of the central differences.
        atol, rtol: the tolerances of np.allclose(analytic, numerical, rtol=rtol, atol=atol).
        seed: seed of the random upstream gradient R (standard normal, of the output's shape).

    Returns:
        True when, for every input with requires_grad, the gradient left in .grad by
        fn(*inputs).backward(R) matches numerical_grad of sum(fn(*inputs).data * R)
        computed inside _NumericalMode(), with numerical_grad's float64 values put into the
        input's .data for each evaluation. A .grad that is None
        counts as zeros. Afterwards every input has its original .data again and holds the
        analytic gradient in .grad.

    Raises:
        AssertionError: naming the position of the first input whose gradients differ and
            the largest absolute difference, e.g. "gradcheck: input 1: analytic and
            numerical gradients differ by up to 0.42".

    Hint: clear the inputs' .grad (set None) before calling backward: it adds. Restore the
    original .data arrays in a `finally:` block, so even a failing check leaves the inputs
    as they were.
    """
    # Task numerical_gradient: analytic gradients by backward, numerical ones in float64.
    ### BEGIN SOLUTION
    inputs = list(inputs)
    out = fn(*inputs)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    for tensor in inputs:
        tensor.grad = None
    out.backward(upstream)
    originals = [tensor.data for tensor in inputs]
    try:
        with _NumericalMode():
            for index, tensor in enumerate(inputs):
                if not tensor.requires_grad:
                    continue

                def total(values, tensor=tensor):
                    tensor.data = values
                    return float(np.sum(fn(*inputs).data * upstream))

                numeric = numerical_grad(total, tensor.data, eps)
                analytic = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad
                if not np.allclose(analytic, numeric, rtol=rtol, atol=atol):
                    raise AssertionError(
                        f"gradcheck: input {index}: analytic and numerical gradients differ "
                        f"by up to {np.max(np.abs(analytic - numeric)):.3g}\n"
                        f"analytic:\n{analytic}\nnumerical:\n{numeric}"
                    )
    finally:
        for index, tensor in enumerate(inputs):
            tensor.data = originals[index]
    return True
    ### END SOLUTION


# %% [markdown]
# ### Test `numerical_gradient`


# %% kind="test" id="test_numerical_gradient" points=2
### BEGIN HIDDEN TESTS
# hidden: the hidden checks compute their reference gradients independently, in float64
def _h_grads(reference, arrays, upstream, wrt):
    """{i: float64 central differences of sum(upstream * reference(*arrays)) with respect to
    arrays[i]} for every i in wrt (the shared numerical_gradients, never numerical_grad)."""
    arrays = [as_float64(a) for a in arrays]

    def moving(*chosen):
        full = list(arrays)
        for i, value in zip(wrt, chosen, strict=True):
            full[i] = value
        return reference(*full)

    grads = numerical_gradients(moving, [arrays[i] for i in wrt], upstream)
    return dict(zip(wrt, grads, strict=True))


def _h_close(got, expected, rtol=1e-5, atol=1e-7):
    """got is a NumPy array or scalar with expected's shape and values."""
    return isinstance(got, _RESULT_TYPES) and check_close(got, expected, rtol, atol)


def _h_rule(function, arrays, reference, seed, wrt=None, rtol=1e-5, atol=1e-7, **kwargs):
    """function.forward equals reference, and function.backward equals float64 central
    differences of sum(R * reference(...)) for a random upstream R, for the inputs in wrt;
    the other inputs get None; the input arrays are left unchanged."""
    arrays = [as_float64(a) for a in arrays]
    copies = [a.copy() for a in arrays]
    wrt = list(range(len(arrays))) if wrt is None else list(wrt)
    ctx = Context()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = function.forward(ctx, *arrays, **kwargs)
        expected = reference(*copies)
        if not _h_close(out, expected, rtol, atol):
            return False
        upstream = np.random.default_rng(seed).standard_normal(np.shape(expected))
        passed = upstream.copy()
        grads = function.backward(ctx, passed)
        again = function.backward(ctx, upstream.copy())  # a second backward() does this
    if not isinstance(grads, tuple) or len(grads) != len(arrays):
        return False
    if not check_equal(passed, upstream):
        return False  # backward must not change grad_output in place
    if not isinstance(again, tuple) or len(again) != len(grads):
        return False
    for first, second in zip(grads, again, strict=True):
        if (first is None) != (second is None):
            return False
        if first is not None and not check_equal(first, second):
            return False  # backward must leave the context as forward filled it
    if not all(check_equal(a, c) for a, c in zip(arrays, copies, strict=True)):
        return False
    numeric = _h_grads(reference, copies, upstream, wrt)
    for i in range(len(arrays)):
        if i not in wrt:
            if grads[i] is not None:
                return False
            continue
        if not _h_close(grads[i], numeric[i], rtol, atol):
            return False
    return len(grads) == len(arrays)


def _h_sigmoid(v):
    return np.exp(-np.logaddexp(0.0, -v))


def _h_gelu(v):
    return 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v**3)))


def _h_softmax(v, dim=-1):
    e = np.exp(v - v.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _h_log_softmax(v, dim=-1):
    shifted = v - v.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def _h_cross_entropy(z, t):
    return -np.mean(_h_log_softmax(z)[np.arange(len(t)), np.asarray(t).astype(int)])


def _h_bce(eps):
    def loss(p, y):
        pc = np.clip(p, eps, 1 - eps)
        return -np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))

    return loss


### END HIDDEN TESTS
x = np.array([1.0, 2.0, -1.0])
g = numerical_grad(lambda v: float(np.sum(v**3)), x)
assert_values(g, 3 * x**2, "numerical_grad of sum(x**3) at x = [1, 2, -1] (exact: 3x^2)", 1e-6)
assert g.dtype == np.float64, f"numerical_grad should return float64, got {g.dtype}."
assert check_equal(x, [1.0, 2.0, -1.0]), (
    "numerical_grad changed the caller's x: work on a float64 copy."
)
m = np.array([[0.3, -0.7], [1.2, 0.1]])
w = np.array([[1.0, -2.0], [0.5, 3.0]])
g = numerical_grad(lambda v: float(np.sum(w * np.sin(v))), m)
assert_values(g, w * np.cos(m), "numerical_grad of sum(w * sin(m)) (exact: w * cos(m))", 1e-6)
g = numerical_grad(lambda v: float(np.sum(v * v)), np.array([0.5, 2.0], dtype=np.float32))
assert_values(g, [1.0, 4.0], "numerical_grad of sum(v * v) at a float32 v (work in float64)", 1e-6)


# gradcheck with stand-in outputs: sine has the right rule, the two others are wrong.
def sine(t):
    return StandIn(np.sin(t.data), lambda g: [(t, g * np.cos(t.data))])


def sine_ignoring_upstream(t):  # as if the output were always summed: g is ignored
    return StandIn(np.sin(t.data), lambda g: [(t, np.cos(t.data))])


def product_wrong_for_b(a, b):  # right for a, wrong for b (a factor of 2 too many)
    return StandIn(a.data * b.data, lambda g: [(a, g * b.data), (b, 2 * g * a.data)])


x = Tensor([0.3, -1.2, 2.0], requires_grad=True)
result = gradcheck(sine, [x])
assert result is True, (
    f"gradcheck(sine, [x]) with a correct rule should return True, got {result!r}."
)
assert x.data.dtype == np.float32 and check_close(x.data, [0.3, -1.2, 2.0]), (
    "after gradcheck the input should have its original float32 data back; got "
    f"{x.data!r}. Restore every input's .data in a finally: block."
)
err = raised(lambda: gradcheck(sine_ignoring_upstream, [x]))
assert isinstance(err, AssertionError), (
    "gradcheck should raise AssertionError for a backward that ignores its upstream "
    f"gradient, got {type(err).__name__ if err else 'no error'}. Use a random R, not ones."
)
a = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
b = Tensor([[1.5, 0.5], [-0.5, 1.0]], requires_grad=True)
err = raised(lambda: gradcheck(product_wrong_for_b, [a, b]))
assert isinstance(err, AssertionError) and "input 1" in str(err), (
    "gradcheck(product_wrong_for_b, [a, b]) should raise AssertionError naming 'input 1' "
    f"(b, the second input); got {type(err).__name__ if err else 'no error'}: {err}"
)

### BEGIN HIDDEN TESTS
# hidden: numerical_grad returns a new float64 array of x's shape with central differences
rng = np.random.default_rng(501)
x3 = rng.standard_normal((2, 3, 2))
w3 = rng.standard_normal((2, 3, 2))
g = numerical_grad(lambda v: float(np.sum(w3 * v * v)), x3)
assert _h_close(g, 2 * w3 * x3, 1e-6, 1e-8), "the gradient of a 3-D input"
assert isinstance(g, np.ndarray) and g.dtype == np.float64, "the result is a float64 array"
assert g is not x3, "the result is a new array"
g = numerical_grad(lambda v: float(np.sum(v) ** 2), np.array([1.0, -2.0, 4.0]))
assert _h_close(g, [6.0, 6.0, 6.0], 1e-6, 1e-8), "a function coupling all elements"
# hidden: a 0-d input has a 0-d gradient
g = numerical_grad(lambda v: float(v * v * v), np.array(2.0))
assert _h_close(g, 12.0, 1e-6, 1e-8), "the gradient of a 0-d input is 0-d"
# hidden: the step eps is the one given
g = numerical_grad(lambda v: float(np.sum(v**3)), np.array([1.0]), 0.1)
assert _h_close(g, [3.01], 1e-9, 1e-12), "the central difference uses the given eps"
g = numerical_grad(lambda v: float(np.sum(v**3)), np.array([1.0]), eps=0.5)
assert _h_close(g, [3.25], 1e-9, 1e-12), "the central difference uses the given eps"
# hidden: each element is put back before the next one moves
g = numerical_grad(lambda v: float(v[0] * v[1] + v[1] * v[2]), np.array([1.0, 2.0, -1.0]), 0.5)
assert _h_close(g, [2.0, 0.0, 2.0], 1e-9, 1e-12), "every slope is taken at the point x itself"
# hidden: float32 inputs are differentiated in float64 and left unchanged
x32 = np.array([[0.1, -0.3], [0.7, 1.3]], dtype=np.float32)
seen = []
g = numerical_grad(lambda v: seen.append(v.dtype) or float(np.sum(np.exp(v))), x32)
assert _h_close(g, np.exp(x32.astype(np.float64)), 1e-7, 1e-9), "float64 differences"
assert all(d == np.float64 for d in seen), "f receives float64 arrays"
assert check_equal(x32, np.array([[0.1, -0.3], [0.7, 1.3]], np.float32)), "x unchanged"


# hidden: gradcheck returns True for correct rules, with several inputs and output shapes
def _h_outer(a, b):  # (3,) and (2,) -> (3, 2)
    return StandIn(np.outer(a.data, b.data), lambda g: [(a, g @ b.data), (b, g.T @ a.data)])


def _h_total(a):  # 0-d output
    return StandIn(np.sum(a.data * a.data), lambda g: [(a, 2 * g * a.data)])


p = Tensor([0.5, -1.5, 2.0], requires_grad=True)
q = Tensor([1.0, -0.25], requires_grad=True)
assert gradcheck(_h_outer, [p, q]) is True, "an output of another shape than the inputs"
assert gradcheck(_h_total, [p]) is True, "a 0-d output"
assert gradcheck(_h_outer, (p, q), seed=7) is True, "a tuple of inputs and another seed"
# hidden: gradcheck names the failing input and restores the data after a failure


def _h_outer_wrong_b(a, b):
    return StandIn(np.outer(a.data, b.data), lambda g: [(a, g @ b.data), (b, 2 * (g.T @ a.data))])


def _h_outer_ones(a, b):  # a's rule ignores the upstream gradient
    return StandIn(
        np.outer(a.data, b.data), lambda g: [(a, np.ones_like(g) @ b.data), (b, g.T @ a.data)]
    )


message = ""
try:
    gradcheck(_h_outer_wrong_b, [p, q])
except AssertionError as exc:
    message = str(exc)
assert "input 1" in message, "the message names the position of the failing input"
assert "input 0" not in message, "inputs with right gradients are not blamed"
assert p.data.dtype == np.float32 and _h_close(p.data, [0.5, -1.5, 2.0]), "data restored"
assert q.data.dtype == np.float32 and _h_close(q.data, [1.0, -0.25]), "data restored"
# hidden: the upstream gradient is random and has the output's shape
assert isinstance(raised(lambda: gradcheck(_h_outer_ones, [p, q])), AssertionError), "random R"
# hidden: stale gradients are cleared before backward
p.grad = np.full(3, 5.0, dtype=np.float32)
assert gradcheck(_h_total, [p]) is True, "old .grad values are cleared first"
assert _h_close(p.grad, 2 * np.random.default_rng(0).standard_normal(()) * p.data, 1e-5, 1e-6), (
    "the analytic gradient is left in .grad"
)
# hidden: inputs without requires_grad are skipped; a missing gradient counts as zeros
const = Tensor([2.0, -1.0, 0.5])
assert gradcheck(lambda a, c: StandIn(a.data * c.data, lambda g: [(a, g * c.data)]), [p, const]), (
    "constant inputs are not checked"
)
unused = Tensor([1.0, 2.0], requires_grad=True)
assert gradcheck(lambda a, u: _h_total(a), [p, unused]) is True, "a None gradient is zeros"
assert unused.grad is None or check_close(unused.grad, np.zeros(2)), (
    "an unused input gets no gradient"
)
lost = raised(
    lambda: gradcheck(
        lambda a, u: StandIn(
            np.sum(a.data) * u.data, lambda g: [(a, np.full(3, np.sum(g * u.data)))]
        ),
        [p, unused],
    )
)  # noqa: E501
assert isinstance(lost, AssertionError) and "input 1" in str(lost), "a missing gradient is zeros"
# hidden: the tolerances are the relative and absolute ones given
big = Tensor([40.0, -60.0, 80.0], requires_grad=True)


def _h_scaled(factor, shift):
    return lambda a: StandIn(a.data * a.data / 2, lambda g: [(a, g * a.data * factor + shift)])


assert gradcheck(_h_scaled(1 + 5e-4, 0.0), [big]) is True, "a relative error below rtol passes"
assert raised(lambda: gradcheck(_h_scaled(1.01, 0.0), [big])) is not None, "1% is too much"
assert gradcheck(_h_scaled(1.01, 0.0), [big], rtol=0.05) is True, "the given rtol is used"
small = Tensor([1e-3, -2e-3, 5e-4], requires_grad=True)
assert gradcheck(_h_scaled(1.0, 4e-6), [small]) is True, "an absolute error below atol passes"
assert raised(lambda: gradcheck(_h_scaled(1.0, 0.05), [small])) is not None, "atol is small"
assert gradcheck(_h_scaled(1.0, 0.05), [small], atol=0.1) is True, "the given atol is used"
# hidden: numerical gradients are computed in float64 with the given eps
cube = Tensor([1.0, -2.0, 3.0], requires_grad=True)


def _h_cube(a):
    return StandIn(a.data**3, lambda g: [(a, 3 * g * a.data**2)])


assert gradcheck(_h_cube, [cube]) is True, "float64 differences with the default eps"
assert raised(lambda: gradcheck(_h_cube, [cube], eps=0.5)) is not None, "the given eps is used"
assert cube.data.dtype == np.float32 and check_close(cube.data, [1, -2, 3]), "data restored"
### END HIDDEN TESTS

# %% [markdown]
# ## Given: `Context` and `Node`
#
# Two small classes carry the information between the forward and the backward pass.
#
# - A **`Context`** is the scratch space one call of `forward` leaves for the matching call
#   of `backward`. Arrays go in with `ctx.save_for_backward(a, b)` and come back as the
#   tuple `ctx.saved_tensors`; anything else (a shape, an axis, a flag) is stored as an
#   attribute, `ctx.axis = axis`.
# - A **`Node`** is what an output tensor remembers in `out.grad_fn`: which Function made it
#   (`node.function`, the class), that call's context (`node.ctx`) and the input tensors
#   (`node.parents`, a tuple in the order of forward's inputs). Leaf tensors have no node.
#
# ```
#   a (leaf) ──┐                        c.grad_fn = Node(function=Mul,
#              ├──[Mul]── c                              ctx=<a, b saved>,
#   b (leaf) ──┘                                         parents=(a, b))
# ```


# %% kind="locked" id="graph_classes" export=true
class Context:
    """What one forward call leaves for its backward call.

    ctx.save_for_backward(*arrays) stores arrays; ctx.saved_tensors returns them as a tuple.
    Other information is stored as plain attributes: ctx.axis = axis.
    """

    def __init__(self) -> None:
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep these arrays (or other objects) for backward, in this order."""
        self.saved_tensors = arrays


class Node:
    """One recorded operation: the grad_fn of the Tensor it produced.

    Attributes:
        function: the Function subclass whose forward produced the tensor.
        ctx: the Context that forward filled.
        parents: the input Tensors, a tuple in the order forward received them.
    """

    def __init__(self, function: type, ctx: Context, parents: tuple) -> None:
        self.function = function
        self.ctx = ctx
        self.parents = tuple(parents)

    def __repr__(self) -> str:
        return f"<{self.function.__name__}Backward>"


# %% [markdown]
# ## Task `function_base`: `Function.apply` and `unbroadcast` (3 points)
#
# Every operation in this module is a subclass of `Function` with two static methods. Here
# is multiplication, without broadcasting for the moment:
#
# ```python
# class Mul(Function):
#     @staticmethod
#     def forward(ctx, a, b):              # NumPy arrays in, a NumPy array out
#         ctx.save_for_backward(a, b)      # what backward will need
#         return a * b
#
#     @staticmethod
#     def backward(ctx, grad_output):      # dL/d(output), the output's shape
#         a, b = ctx.saved_tensors
#         return grad_output * b, grad_output * a    # dL/da, dL/db: one per input
#
# c = Mul.apply(a, b)                      # Tensors in, a Tensor out, node recorded
# ```
#
# `forward` and `backward` work on plain NumPy arrays and know nothing about Tensors or
# graphs. **`apply`** is the bridge, written once in the base class for every Function. It
# is a class method: `cls` is the Function subclass itself (`Mul`), and Functions are never
# instantiated. It does five things:
#
# 1. make a fresh `Context()`;
# 2. turn every positional input that is not a Tensor (a number, a list, an array, as in
#    `x * 2`) into a constant `Tensor(value)`, so that every input is a Tensor;
# 3. call `cls.forward(ctx, *arrays, **kwargs)` with the inputs' `.data` arrays, in order,
#    and the keyword arguments unchanged (`axis=`, `dim=`, `key=` ...);
# 4. wrap the result with the given `_output_tensor(result)`, a new float32 Tensor;
# 5. **record**, but only when grad mode is on (`is_grad_enabled()`) and at least one input
#    has `requires_grad`: set `out.requires_grad = True` and
#    `out.grad_fn = Node(cls, ctx, inputs_as_tensors)`. Otherwise the output is a plain
#    constant: nothing downstream can need its gradient, and nothing is kept in memory.
#
# ### Broadcasting, backwards
#
# When forward broadcasts, an input is reused along the stretched axes:
#
# ```
#   forward:  a (3, 1) + b (1, 4) -> out (3, 4)     a's single column is used 4 times,
#                                                   b's single row 3 times
#   backward: g = dL/d(out), shape (3, 4)
#             dL/da = g summed over axis 1 (keepdims) -> (3, 1)
#             dL/db = g summed over axis 0 (keepdims) -> (1, 4)
# ```
#
# A number used $k$ times receives the sum of the $k$ gradients, just like a tensor used
# twice in a graph. **`unbroadcast(grad, shape)`** does this reduction for any shapes, in
# the two steps of the broadcasting rule read backwards:
#
# 1. broadcasting added axes on the **left** (a `(4,)` operand of a `(2, 3, 4)` result was
#    read as `(1, 1, 4)`): sum `grad` over its first `grad.ndim - len(shape)` axes;
# 2. broadcasting stretched axes of **length 1**: sum over every axis where `shape` has a 1,
#    keeping it (`keepdims=True`).
#
# ```
#   grad (2, 3, 4) -> shape (4,)     sum axes (0, 1)
#   grad (2, 3, 4) -> shape (3, 1)   sum axis 0, then axis 1 of what is left, kept
#   grad (2, 3)    -> shape ()       sum everything: a 0-d number was broadcast
# ```


# %% kind="solution" id="function_base" export=true
def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum grad down to `shape`: the gradient of an input that broadcasting stretched.

    Args:
        grad: the gradient of a broadcast result, e.g. of shape (2, 3, 4).
        shape: the shape the input had before broadcasting, e.g. (3, 1), (4,), () or
            (2, 3, 4) (then nothing is summed).

    Returns:
        an array of exactly `shape`: grad summed over its first grad.ndim - len(shape) axes,
        then over every axis where `shape` has length 1, with keepdims=True. grad itself is
        not modified.

    Hint: np.sum(a, axis=()) sums over no axis at all, so both steps can run every time.
    """
    # Task function_base: sum over the added leading axes, then over the stretched ones.
    ### BEGIN SOLUTION
    grad = np.sum(grad, axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1)
    return np.sum(grad, axis=stretched, keepdims=True)
    ### END SOLUTION


class Function:
    """Base class of every differentiable operation.

    A subclass defines two static methods on NumPy arrays:

        forward(ctx, *arrays, **kwargs) -> np.ndarray
            the result; saves in ctx what backward needs. Computes in the dtype of its
            inputs (float32 normally, float64 inside gradcheck and the tests).
        backward(ctx, grad_output) -> tuple
            grad_output is dL/d(result), an array of the result's shape. Returns a tuple
            with one entry per positional input of forward, in order: dL/d(input), an array
            of that input's shape, or None for an input that has no gradient (an integer
            class target, say). Never modifies grad_output in place.

    Use it as Op.apply(*inputs, **kwargs); Functions are never instantiated.
    """

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, **kwargs) -> np.ndarray:
        raise NotImplementedError("a Function subclass defines forward")

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        raise NotImplementedError("a Function subclass defines backward")

    @classmethod
    def apply(cls, *inputs, **kwargs) -> Tensor:
        """Run cls.forward on the inputs' arrays and record the operation when needed.

        Args:
            *inputs: Tensors, or numbers/lists/arrays, which become constant Tensors
                (Tensor(value), requires_grad False).
            **kwargs: passed to forward unchanged.

        Returns:
            a new Tensor: _output_tensor(cls.forward(ctx, *arrays, **kwargs)), where ctx is a
            new Context and arrays are the inputs' .data. When is_grad_enabled() and at least
            one input has requires_grad, the output gets requires_grad = True and
            grad_fn = Node(cls, ctx, tensors), tensors being the inputs as Tensors (a tuple,
            in order). Otherwise the output is left as _output_tensor made it.
        """
        # Task function_base: wrap the inputs, run forward, record a Node when gradients flow.
        ### BEGIN SOLUTION
        ctx = Context()
        tensors = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
        out = _output_tensor(cls.forward(ctx, *(t.data for t in tensors), **kwargs))
        if is_grad_enabled() and any(t.requires_grad for t in tensors):
            out.requires_grad = True
            out.grad_fn = Node(cls, ctx, tensors)
        return out
        ### END SOLUTION


# %% [markdown]
# ### Test `function_base`

# %% kind="test" id="test_function_base" points=3
g = np.arange(6.0).reshape(2, 3)
assert_values(unbroadcast(g, (2, 3)), g, "unbroadcast(g, (2, 3)): nothing to sum")
assert_values(unbroadcast(g, (3,)), [3, 5, 7], "unbroadcast(g, (3,)): a leading axis was added")
assert_values(unbroadcast(g, (1, 3)), [[3, 5, 7]], "unbroadcast(g, (1, 3)): axis 0 was stretched")
assert_values(unbroadcast(g, (2, 1)), [[3], [12]], "unbroadcast(g, (2, 1)): axis 1 was stretched")
assert_values(unbroadcast(g, ()), 15, "unbroadcast(g, ()): a number was broadcast everywhere")
assert check_equal(g, np.arange(6.0).reshape(2, 3)), "unbroadcast changed its input grad."


class Scale(Function):
    """y = factor * x: the smallest possible Function, to test apply."""

    @staticmethod
    def forward(ctx, x, factor=2.0):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * ctx.factor,)


x = Tensor([1.0, -2.0], requires_grad=True)
y = Scale.apply(x, factor=3.0)
assert_tensor(y, [3.0, -6.0], "Scale.apply(x, factor=3.0)")
assert y.requires_grad is True, "x requires grad, so y = Scale.apply(x) should too."
node = getattr(y, "grad_fn", None)
assert isinstance(node, Node), f"y.grad_fn should be a Node, got {node!r}."
assert node.function is Scale, (
    f"y.grad_fn.function should be the Function class (cls), Scale; got {node.function!r}."
)
assert len(node.parents) == 1 and node.parents[0] is x, (
    "y.grad_fn.parents should be (x,): the input Tensor itself, not a copy."
)
assert getattr(node.ctx, "factor", None) == 3.0, (
    "y.grad_fn.ctx should be the Context forward filled (it holds factor=3.0): create one "
    "Context, pass it to forward with the keyword arguments, and store that same object."
)
c = Scale.apply(Tensor([1.0, 2.0]))
assert c.requires_grad is False and getattr(c, "grad_fn", None) is None, (
    "no input requires grad: apply should record nothing (requires_grad False, no grad_fn)."
)
with no_grad():
    z = Scale.apply(x)
assert z.requires_grad is False and getattr(z, "grad_fn", None) is None, (
    "inside no_grad() apply should record nothing, even though x requires grad."
)
assert_tensor(Scale.apply(2.5, factor=2.0), 5.0, "Scale.apply(2.5): a number becomes a Tensor")

### BEGIN HIDDEN TESTS
# hidden: unbroadcast sums the added leading axes and the stretched length-1 axes
rng = np.random.default_rng(502)
g3 = rng.standard_normal((2, 3, 4))
g3_copy = g3.copy()
cases = [
    ((3, 4), g3.sum(axis=0)),
    ((4,), g3.sum(axis=(0, 1))),
    ((1, 4), g3.sum(axis=(0, 1))[None, :]),
    ((3, 1), g3.sum(axis=(0, 2))[:, None]),
    ((2, 1, 4), g3.sum(axis=1, keepdims=True)),
    ((1, 1, 1), g3.sum(keepdims=True)),
    ((1, 3, 1), g3.sum(axis=(0, 2), keepdims=True)),
    ((), g3.sum()),
    ((2, 3, 4), g3),
]
for shape, expected in cases:
    assert _h_close(unbroadcast(g3, shape), expected, 1e-9, 1e-12), "unbroadcast to each shape"
assert check_equal(g3, g3_copy), "unbroadcast leaves its input unchanged"
# hidden: a 0-d gradient stays 0-d and a single-element shape keeps its axes
assert _h_close(unbroadcast(np.array(2.5), ()), 2.5), "a 0-d gradient for a 0-d input"
assert _h_close(unbroadcast(np.ones((5, 1)), (1,)), [5.0]), "(5, 1) down to (1,)"
assert _h_close(unbroadcast(np.ones((2, 3)), (1, 1)), [[6.0]]), "(2, 3) down to (1, 1)"


# hidden: apply hands forward the inputs' arrays and the keyword arguments
class _HRecord(Function):
    calls = []

    @staticmethod
    def forward(ctx, a, b, power=1):
        _HRecord.calls.append((ctx, a, b, power))
        return a * b**power

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
b = Tensor([2.0, -1.0])
out = _HRecord.apply(a, b, power=3)
ctx, got_a, got_b, power = _HRecord.calls[-1]
assert type(got_a) is np.ndarray and type(got_b) is np.ndarray, "forward receives arrays"
assert check_equal(got_a, a.data) and check_equal(got_b, b.data), "the inputs' data"
assert power == 3, "keyword arguments reach forward"
assert isinstance(ctx, Context), "forward receives a Context"
assert _h_close(out.data, [[8.0, -2.0], [24.0, -4.0]]), "the output holds forward's result"
# hidden: the output is a new float32 Tensor, also for float64 or NumPy-scalar results
assert isinstance(out, Tensor) and out.data.dtype == np.float32, "a float32 Tensor"
assert out is not a and out is not b, "the output is a new Tensor"
total = _HRecord.apply(Tensor(np.array(3.0)), np.float64(0.5))
assert isinstance(total, Tensor) and total.data.dtype == np.float32, "a 0-d float32 Tensor"
assert total.data.shape == () and _h_close(total.data, 1.5), "a 0-d result"
# hidden: the node records the class, the context forward filled and the inputs in order
node = out.grad_fn
assert isinstance(node, Node) and node.function is _HRecord, "the node names the Function"
assert node.ctx is ctx, "the node holds the Context forward filled"
assert isinstance(node.parents, tuple) and len(node.parents) == 2, "one parent per input"
assert node.parents[0] is a and node.parents[1] is b, "the parents are the inputs, in order"
assert out.requires_grad is True, "the output requires grad"
out2 = _HRecord.apply(b, a)
assert out2.requires_grad is True and out2.grad_fn.parents[1] is a, "any input may require grad"
assert _HRecord.calls[-1][0] is not ctx, "a new Context for every call"
# hidden: numbers, lists and arrays become constant Tensors among the parents
out3 = _HRecord.apply(a, [1.0, 2.0])
parent = out3.grad_fn.parents[1]
assert isinstance(parent, Tensor) and parent.requires_grad is False, "a list becomes a Tensor"
assert _h_close(parent.data, [1.0, 2.0]), "the constant holds the list's values"
out4 = _HRecord.apply(np.array([[2.0]]), a)
assert isinstance(out4.grad_fn.parents[0], Tensor), "an array becomes a Tensor"
assert _h_close(out4.data, [[2.0, 4.0], [6.0, 8.0]]), "an array operand on the left"
# hidden: nothing is recorded without an input that requires grad, or inside no_grad
plain = _HRecord.apply(b, 2.0)
assert plain.requires_grad is False and getattr(plain, "grad_fn", None) is None, "constants"
with no_grad():
    with no_grad():
        inner = _HRecord.apply(a, b)
    middle = _HRecord.apply(a, b)
after = _HRecord.apply(a, b)
assert inner.requires_grad is False and getattr(inner, "grad_fn", None) is None, "no_grad"
assert middle.requires_grad is False and getattr(middle, "grad_fn", None) is None, "nested"
assert after.requires_grad is True and isinstance(after.grad_fn, Node), "recording resumes"
# hidden: during gradcheck's numerical passes results are float64 and nothing is recorded
with _NumericalMode() as mode:
    wide = _HRecord.apply(Tensor([1.0, 2.0], requires_grad=True), 0.1)
assert wide.data.dtype == np.float64, "results are wrapped with _output_tensor"
assert getattr(wide, "grad_fn", None) is None, "nothing is recorded during numerical passes"
### END HIDDEN TESTS

# %% [markdown]
# ## Given: the input checks of Modules 01 and 04
#
# The Functions replace the forward passes of Modules 01 and 04, so they must reject the same
# bad inputs with the same messages: a matrix product with mismatched inner dimensions, an
# impossible reshape, a loss whose targets have the wrong shape. The read-only cell below
# holds those checks, word for word. Each Function that needs one calls it in its first line,
# outside the part you write, for example `_check_matmul(a.shape, b.shape)`.


# %% kind="locked" id="input_checks" export=true
def _check_matmul(a_shape: tuple, b_shape: tuple) -> None:
    """Module 01's matmul checks: no 0-d operand, equal inner dimensions."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(
            f"matmul: {a_shape} @ {b_shape}: 0-d operands are numbers, not matrices; "
            "use * to scale a tensor"
        )
    k_left = a_shape[-1]
    k_right = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_left != k_right:
        raise ValueError(
            f"matmul: {a_shape} @ {b_shape}: inner dimensions {k_left} and {k_right} differ"
        )


def _reshape_target(old_shape: tuple, shape: tuple) -> tuple:
    """Module 01's reshape rules: the final shape for t.reshape(*shape), or its ValueError.

    shape is what reshape received: (2, 3), ((2, 3),) or ([2, 3],); one entry may be -1.
    """
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = shape[0]
    requested = tuple(int(n) for n in shape)
    size = int(np.prod(old_shape))
    if requested.count(-1) > 1:
        raise ValueError(f"reshape: {requested}: only one dimension can be -1")
    final = requested
    if -1 in requested:
        known = int(np.prod([n for n in requested if n != -1]))
        if known == 0 or size % known != 0:
            raise ValueError(
                f"reshape: cannot reshape {old_shape} ({size} elements) into {requested}: "
                f"{size} is not a multiple of {known}"
            )
        final = tuple(size // known if n == -1 else n for n in requested)
    wanted = int(np.prod(final))
    if wanted != size:
        raise ValueError(
            f"reshape: cannot reshape {old_shape} ({size} elements) into {requested} "
            f"({wanted} elements)"
        )
    return final


def _check_mse(predictions: np.ndarray, targets: np.ndarray) -> None:
    """Module 04's MSELoss check: equal shapes, no broadcasting."""
    if predictions.shape != targets.shape:
        raise ValueError(
            f"MSELoss: predictions shape {predictions.shape} and targets shape "
            f"{targets.shape} differ; reshape one of them (broadcasting would compare every "
            "prediction with every target)"
        )


def _check_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> None:
    """Module 04's CrossEntropyLoss checks: (N, C) logits, N whole class indices in [0, C)."""
    if logits.ndim != 2:
        raise ValueError(f"CrossEntropyLoss: logits must have shape (N, C), got {logits.shape}")
    n, c = logits.shape
    if targets.shape != (n,):
        raise ValueError(
            f"CrossEntropyLoss: targets must have shape ({n},) for logits {logits.shape}, "
            f"got {targets.shape}; pass one class index per row, not one-hot rows"
        )
    if np.any(targets != np.round(targets)):
        raise ValueError(f"CrossEntropyLoss: targets must be whole class indices, got {targets}")
    if np.any(targets < 0) or np.any(targets >= c):
        raise ValueError(
            f"CrossEntropyLoss: targets must be class indices in [0, {c}), got values "
            f"from {targets.min():g} to {targets.max():g}"
        )


def _check_binary_cross_entropy(probs: np.ndarray, targets: np.ndarray) -> None:
    """Module 04's BinaryCrossEntropyLoss checks: equal shapes, values in [0, 1]."""
    if probs.shape != targets.shape:
        raise ValueError(
            f"BinaryCrossEntropyLoss: predictions shape {probs.shape} and targets shape "
            f"{targets.shape} differ"
        )
    if np.any(probs < 0) or np.any(probs > 1):
        raise ValueError(
            "BinaryCrossEntropyLoss: predictions must be probabilities in [0, 1], got "
            f"values from {probs.min():g} to {probs.max():g}; for logits, apply a "
            "Sigmoid first"
        )
    if np.any(targets < 0) or np.any(targets > 1):
        raise ValueError(
            "BinaryCrossEntropyLoss: targets must be in [0, 1], got values from "
            f"{targets.min():g} to {targets.max():g}"
        )


# %% [markdown]
# ## Task `elementwise_backward`: `+ - * /` and unary minus (3 points)
#
# An element-wise operation $z_i = a_i \circ b_i$ connects each output element to one
# element of each input, so its Jacobian is diagonal and the backward pass is an
# element-wise product with the upstream gradient $g = \partial L / \partial z$:
#
# | forward | $\partial L / \partial a$ | $\partial L / \partial b$ |
# |---|---|---|
# | $z = a + b$ | $g$ | $g$ |
# | $z = a - b$ | $g$ | $-g$ |
# | $z = a \cdot b$ | $g \cdot b$ | $g \cdot a$ |
# | $z = a / b$ | $g / b$ | $-g \cdot a / b^2$ |
# | $z = -a$ | $-g$ | |
#
# (For the division, $a / b = a \cdot b^{-1}$ and $\frac{d}{db} b^{-1} = -b^{-2}$.)
#
# **Broadcasting.** The formulas give arrays of the **output's** shape. An input that was
# broadcast needs its gradient summed back to its own shape with `unbroadcast`:
#
# ```
#   a (2, 3) * b (3,)  ->  z (2, 3)               upstream g (2, 3)
#   dL/da = g * b                (2, 3), already a's shape
#   dL/db = unbroadcast(g * a, (3,))  ->  (3,)    b's row was used by both rows of a
# ```
#
# In `x * 2` the 2 arrives as a 0-d constant; its gradient (summed to shape `()`) is computed
# and then ignored, because the constant does not require grad.
#
# **What to save.** `Add` and `Sub` only need the inputs' shapes (`ctx.a_shape = a.shape`);
# `Mul` and `Div` need the arrays themselves (`ctx.save_for_backward(a, b)`). Every saved
# array stays in memory until the backward pass, so save only what backward uses.
# `forward` returns the result in the inputs' dtype: do not convert it.


# %% kind="solution" id="elementwise_backward" export=true
class Add(Function):
    """a + b, element-wise with broadcasting."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Task elementwise_backward: remember both input shapes; return a + b.
        ### BEGIN SOLUTION
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        return a + b
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task elementwise_backward: both inputs get grad_output, summed to their shapes.
        ### BEGIN SOLUTION
        return unbroadcast(grad_output, ctx.a_shape), unbroadcast(grad_output, ctx.b_shape)
        ### END SOLUTION


class Sub(Function):
    """a - b, element-wise with broadcasting."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Task elementwise_backward: remember both input shapes; return a - b.
        ### BEGIN SOLUTION
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        return a - b
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task elementwise_backward: g for a, -g for b, each summed to its shape.
        ### BEGIN SOLUTION
        return unbroadcast(grad_output, ctx.a_shape), unbroadcast(-grad_output, ctx.b_shape)
        ### END SOLUTION


class Mul(Function):
    """a * b, element-wise with broadcasting."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Task elementwise_backward: save a and b; return a * b.
        ### BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return a * b
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task elementwise_backward: g * b for a, g * a for b, each summed to its shape.
        ### BEGIN SOLUTION
        a, b = ctx.saved_tensors
        return unbroadcast(grad_output * b, a.shape), unbroadcast(grad_output * a, b.shape)
        ### END SOLUTION


class Div(Function):
    """a / b, element-wise with broadcasting."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Task elementwise_backward: save a and b; return a / b.
        ### BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return a / b
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task elementwise_backward: g / b for a, -g * a / b**2 for b, summed to their shapes.
        ### BEGIN SOLUTION
        a, b = ctx.saved_tensors
        grad_a = grad_output / b
        grad_b = -grad_output * a / (b * b)
        return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)
        ### END SOLUTION


class Neg(Function):
    """-a, element-wise."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # Task elementwise_backward: return -a.
        ### BEGIN SOLUTION
        return -a
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task elementwise_backward: one input, gradient -g (a tuple of one array).
        ### BEGIN SOLUTION
        return (-grad_output,)
        ### END SOLUTION


# %% [markdown]
# ### Test `elementwise_backward`

# %% kind="test" id="test_elementwise_backward" points=3
a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = np.array([10.0, 20.0, 30.0])
out, (ga, gb) = run_rule(Mul, [a, b])
assert_values(out, a * b, "Mul.forward(a, b) with a (2, 3) and b (3,)")
assert_values(ga, [[10, 20, 30], [10, 20, 30]], "Mul: the gradient for a is g * b")
assert_values(gb, [5, 7, 9], "Mul: the gradient for b (3,) is g * a summed over the 2 rows")
out, (ga, gb) = run_rule(Add, [np.zeros((3, 1)), np.ones((1, 4))])
assert_values(out, np.ones((3, 4)), "Add.forward of (3, 1) and (1, 4)")
assert_values(ga, [[4], [4], [4]], "Add (3, 1) + (1, 4): a's column was used by 4 columns")
assert_values(gb, [[3, 3, 3, 3]], "Add (3, 1) + (1, 4): b's row was used by 3 rows")
out, (ga, gb) = run_rule(Sub, [2.0, [1.0, -1.0, 3.0]])
assert_values(out, [1, 3, -1], "Sub.forward(2, x): a 0-d left operand")
assert_values(ga, 3.0, "Sub (2 - x): the 0-d 2 was used 3 times, its gradient is 0-d")
assert_values(gb, [-1, -1, -1], "Sub (2 - x): the gradient for x is -g")
out, (ga, gb) = run_rule(Div, [[6.0, -3.0], [2.0, 4.0]], upstream=[1.0, 2.0])
assert_values(out, [3.0, -0.75], "Div.forward([6, -3], [2, 4])")
assert_values(ga, [0.5, 0.5], "Div: the gradient for a is g / b = [1/2, 2/4]")
assert_values(gb, [-1.5, 0.375], "Div: the gradient for b is -g * a / b**2 = [-6/4, 6/16]")
out, grads = run_rule(Neg, [[1.0, -2.0]], upstream=[3.0, 5.0])
assert_values(out, [-1.0, 2.0], "Neg.forward([1, -2])")
assert_values(grads[0], [-3.0, -5.0], "Neg: the gradient is -g")
rng = np.random.default_rng(5)
check_backward(Add, [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))], "Add (2, 3)")
check_backward(Sub, [rng.standard_normal((3, 1)), rng.standard_normal((1, 4))], "Sub (3,1)-(1,4)")
check_backward(Mul, [rng.standard_normal((2, 3)), rng.standard_normal(3)], "Mul (2, 3) * (3,)")
check_backward(Div, [rng.standard_normal(4), rng.uniform(1, 2, (3, 4))], "Div (4,) / (3, 4)")
check_backward(Neg, [rng.standard_normal((2, 2))], "Neg (2, 2)")

### BEGIN HIDDEN TESTS
# hidden: every element-wise rule matches float64 central differences, shapes broadcasting both ways
rng = np.random.default_rng(503)
pairs = [
    ((2, 3), (2, 3)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 3), (4, 1)),
    ((1,), (3, 2)),
]
references = [
    (Add, lambda a, b: a + b),
    (Sub, lambda a, b: a - b),
    (Mul, lambda a, b: a * b),
    (Div, lambda a, b: a / b),
]
for index, (left, right) in enumerate(pairs):
    a = rng.standard_normal(left)
    b = rng.choice([-1.0, 1.0], size=right) * rng.uniform(0.5, 2.0, size=right)
    for function, reference in references:
        assert _h_rule(function, [a, b], reference, index), "each rule with broadcasting"
# hidden: subtraction and division treat their two operands differently
assert _h_rule(Sub, [np.array(3.0), rng.standard_normal((2, 2))], lambda a, b: a - b, 11), "2 - x"
p = rng.uniform(0.5, 2.0, (3,))
assert _h_rule(Div, [np.array(1.5), p], lambda a, b: a / b, 12), "a number divided by x"
assert _h_rule(Div, [p, np.array(-0.75)], lambda a, b: a / b, 13), "x divided by a number"
# hidden: negation of any shape, 0-d included
for index, shape in enumerate([(3,), (2, 3, 2), ()]):
    x = rng.standard_normal(shape)
    assert _h_rule(Neg, [x], lambda a: -a, 20 + index), "negation of any shape"
# hidden: forward keeps the inputs' dtype and returns values of the broadcast shape
out = Mul.forward(Context(), np.ones((2, 1), np.float32), np.full(3, 2.0, np.float32))
assert isinstance(out, np.ndarray) and out.dtype == np.float32, "float32 in, float32 out"
assert out.shape == (2, 3) and check_close(out, np.full((2, 3), 2.0)), "the broadcast shape"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `matmul_backward`: matrix products (2 points)
#
# For $C = AB$ with $A$ of shape $(m, k)$ and $B$ of shape $(k, n)$,
# $C_{ij} = \sum_p A_{ip} B_{pj}$. The element $A_{ip}$ appears in every $C_{ij}$ of row $i$,
# multiplied by $B_{pj}$, so with $G = \partial L / \partial C$:
#
# $$\frac{\partial L}{\partial A_{ip}} = \sum_j G_{ij} B_{pj} = (G B^T)_{ip}, \qquad
#   \frac{\partial L}{\partial B_{pj}} = \sum_i A_{ip} G_{ij} = (A^T G)_{pj}.$$
#
# You do not have to remember which side the transpose goes on: only one arrangement has
# matching shapes.
#
# ```
#   forward:    A (m, k)  @  B (k, n)   =  C (m, n)
#   backward:   dA (m, k) =  G (m, n)   @  B^T (n, k)
#               dB (k, n) =  A^T (k, m) @  G (m, n)
# ```
#
# **Batches.** For `(b, m, k) @ (k, n)` the same formulas hold for every matrix of the batch:
# transpose the **last two** axes with `np.swapaxes(x, -1, -2)` (not `.T`, which reverses
# all axes). A `B` shared by the whole batch was broadcast along the batch axis, so its
# gradient is `A^T @ G` summed over the batch: `unbroadcast` again.
#
# **1-D operands.** `np.matmul` reads a 1-D left operand `(k,)` as a row `(1, k)` and a 1-D
# right operand `(k,)` as a column `(k, 1)`, and removes that added axis from the result.
# Backward does the same in three steps: view 1-D operands as a row / a column; put the
# removed axes back into $G$ with `np.expand_dims`, first axis -1 for a 1-D right operand,
# then axis -2 for a 1-D left one (in this order, a 0-d $G$ from a dot product becomes
# `(1, 1)`); apply the matrix formulas and reshape each gradient to its operand's original
# shape.
#
# ```
#   a (3,) @ B (3, 4) -> c (4,)          as matrices: (1, 3) @ (3, 4) -> (1, 4)
#   g (4,) -> expand_dims(g, -2) (1, 4)   da = g (1, 4) @ B^T (4, 3) -> (1, 3) -> (3,)
# ```
#
# The first line of `forward` is given: `_check_matmul` raises Module 01's errors.


# %% kind="solution" id="matmul_backward" export=true
class MatMul(Function):
    """a @ b with np.matmul's rules: 1-D operands, batches (leading axes broadcast)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _check_matmul(a.shape, b.shape)  # given: Module 01's errors, word for word
        # Task matmul_backward: save both operands; return a @ b.
        ### BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return a @ b
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(G @ B^T, A^T @ G) on the last two axes, for 1-D and batched operands too.

        Returns two gradients of exactly a's and b's shapes. Hint: np.swapaxes(x, -1, -2)
        transposes the last two axes; np.expand_dims(g, axis) inserts an axis of length 1;
        unbroadcast sums over batch axes an operand did not have.
        """
        # Task matmul_backward: view 1-D operands as matrices, apply the formulas, reshape.
        ### BEGIN SOLUTION
        a, b = ctx.saved_tensors
        a2 = a[np.newaxis, :] if a.ndim == 1 else a  # a row (1, k)
        b2 = b[:, np.newaxis] if b.ndim == 1 else b  # a column (k, 1)
        g = grad_output
        if b.ndim == 1:  # first the column's axis, last in the product
            g = np.expand_dims(g, -1)
        if a.ndim == 1:  # then the row's axis, second to last
            g = np.expand_dims(g, -2)
        grad_a = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape)
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape)
        return grad_a.reshape(a.shape), grad_b.reshape(b.shape)
        ### END SOLUTION


# %% [markdown]
# ### Test `matmul_backward`

# %% kind="test" id="test_matmul_backward" points=2
A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
B = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
G = np.array([[1.0, 0.0], [0.0, 2.0]])
out, (gA, gB) = run_rule(MatMul, [A, B], upstream=G)
assert_values(out, A @ B, "MatMul.forward(A, B) with A (2, 3) and B (3, 2)")
assert_values(gA, G @ B.T, "MatMul: the gradient for A is G @ B.T, shape (2, 3)")
assert_values(gB, A.T @ G, "MatMul: the gradient for B is A.T @ G, shape (3, 2)")
rng = np.random.default_rng(6)
check_backward(MatMul, [rng.standard_normal((2, 3)), rng.standard_normal((3, 4))], "(2,3)@(3,4)")
check_backward(MatMul, [rng.standard_normal(3), rng.standard_normal((3, 2))], "(3,) @ (3, 2)")
check_backward(MatMul, [rng.standard_normal((2, 3)), rng.standard_normal(3)], "(2, 3) @ (3,)")
check_backward(MatMul, [rng.standard_normal(3), rng.standard_normal(3)], "(3,) @ (3,), a dot")
check_backward(
    MatMul, [rng.standard_normal((2, 2, 3)), rng.standard_normal((3, 4))], "(2, 2, 3) @ (3, 4)"
)
err = raised(lambda: MatMul.forward(Context(), np.ones((2, 3)), np.ones((4, 5))))
assert isinstance(err, ValueError) and "inner dimensions 3 and 4 differ" in str(err), (
    "MatMul.forward of (2, 3) and (4, 5) should raise Module 01's ValueError (the given "
    f"first line does it); got {err!r}"
)

### BEGIN HIDDEN TESTS
# hidden: matrix products of every shape combination match float64 central differences
rng = np.random.default_rng(504)
shapes = [
    ((4, 3), (3, 2)),
    ((1, 3), (3, 1)),
    ((5, 1), (1, 4)),
    ((3,), (3, 5)),
    ((5, 3), (3,)),
    ((4,), (4,)),
    ((2, 4, 3), (3, 5)),
    ((4, 3), (2, 3, 5)),
    ((2, 4, 3), (2, 3, 2)),
    ((2, 1, 4, 3), (3, 3, 2)),
    ((3,), (2, 3, 4)),
    ((2, 4, 3), (3,)),
]
for index, (left, right) in enumerate(shapes):
    a, b = rng.standard_normal(left), rng.standard_normal(right)
    assert _h_rule(MatMul, [a, b], np.matmul, index), "matmul of any shapes np.matmul accepts"
# hidden: mismatched inner dimensions and 0-d operands raise Module 01's errors
for left, right, text in [((2, 3), (4, 5), "inner dimensions 3 and 4"), ((3,), (2,), "3 and 2")]:
    err = None
    try:
        MatMul.forward(Context(), np.ones(left), np.ones(right))
    except ValueError as exc:
        err = exc
    assert err is not None and text in str(err), "mismatched shapes raise Module 01's error"
zero_d = None
try:
    MatMul.forward(Context(), np.ones(()), np.ones(3))
except ValueError as exc:
    zero_d = exc
assert zero_d is not None, "a 0-d operand raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `shape_backward`: reshape, transpose and indexing (2 points)
#
# These operations move numbers around without changing them, so backward moves the
# gradient back the same way.
#
# - **Reshape** keeps the row-major order: element $i$ of the output is element $i$ of the
#   input. Backward reshapes $g$ to the input's shape. The given first line of `forward`
#   applies Module 01's rules (tuples, `-1`, the error messages) and gives you the final
#   shape.
# - **Transpose** swaps two axes, and swapping them again undoes it: backward swaps the same
#   two axes of $g$. A 0-d or 1-D input has nothing to swap (Module 01 returns a copy); then
#   $g$ passes through unchanged.
# - **Indexing** `x[key]` picks some elements, in some order, maybe some twice. Backward
#   starts from zeros of the input's shape and **adds** each upstream value where its
#   element came from: a scatter-add.
#
# ```
#   x (4,)       [ x0  x1  x2  x3 ]          key = [0, 2, 0]  (position 0 picked twice)
#   x[key] (3,)  [ x0  x2  x0 ]              upstream g = [ g0  g1  g2 ]
#   dL/dx (4,)   [ g0 + g2   0   g1   0 ]
# ```
#
# **The trap.** `grad[key] += g` looks right but loses repeated indices: NumPy evaluates it
# as `grad[key] = grad[key] + g`, and the second write to position 0 overwrites the first,
# giving `g2` instead of `g0 + g2`. `np.add.at(grad, key, g)` adds every occurrence. It
# takes any key NumPy indexing accepts: integers, slices, tuples, integer arrays, boolean
# masks. Module 11 (embeddings) depends on this: a token that appears twice in a batch must
# collect both gradients.


# %% kind="solution" id="shape_backward" export=true
class Reshape(Function):
    """x.reshape(shape): the same values in row-major order, in a new shape."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, shape: tuple) -> np.ndarray:
        shape = _reshape_target(x.shape, shape)  # given: Module 01's rules and errors
        # Task shape_backward: remember the input's shape; return x in the new shape.
        ### BEGIN SOLUTION
        ctx.input_shape = x.shape
        return x.reshape(shape)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task shape_backward: the gradient in the input's shape.
        ### BEGIN SOLUTION
        return (grad_output.reshape(ctx.input_shape),)
        ### END SOLUTION


class Transpose(Function):
    """Swap axes dim0 and dim1 (default: the last two); 0-d and 1-D inputs pass unchanged."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim0: int = -2, dim1: int = -1) -> np.ndarray:
        # Task shape_backward: remember the two axes; swap them (x as it is if x.ndim < 2).
        ### BEGIN SOLUTION
        ctx.dims = (dim0, dim1)
        if x.ndim < 2:
            return x
        return np.swapaxes(x, dim0, dim1)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task shape_backward: swap the same two axes of the gradient back.
        ### BEGIN SOLUTION
        if grad_output.ndim < 2:
            return (grad_output,)
        return (np.swapaxes(grad_output, *ctx.dims),)
        ### END SOLUTION


class GetItem(Function):
    """x[key] with NumPy's indexing rules; backward scatter-adds into zeros."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, key) -> np.ndarray:
        # Task shape_backward: remember the input's shape and the key; return x[key].
        ### BEGIN SOLUTION
        ctx.input_shape, ctx.key = x.shape, key
        return x[key]
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """Zeros of the input's shape (dtype of grad_output), with grad_output added at key;
        repeated positions add up. Hint: np.add.at(grad, key, values)."""
        # Task shape_backward: scatter-add the gradient into zeros of the input's shape.
        ### BEGIN SOLUTION
        grad = np.zeros(ctx.input_shape, grad_output.dtype)
        np.add.at(grad, ctx.key, grad_output)
        return (grad,)
        ### END SOLUTION


# %% [markdown]
# ### Test `shape_backward`

# %% kind="test" id="test_shape_backward" points=2
x = np.arange(6.0).reshape(2, 3)
out, (g,) = run_rule(Reshape, [x], upstream=np.arange(6.0).reshape(3, 2) * 10, shape=(3, -1))
assert_values(out, x.reshape(3, 2), "Reshape.forward(x (2, 3), shape=(3, -1))")
assert_values(g, [[0, 10, 20], [30, 40, 50]], "Reshape: the gradient goes back to shape (2, 3)")
out, (g,) = run_rule(Transpose, [x], upstream=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
assert_values(out, x.T, "Transpose.forward(x (2, 3)): the last two axes swapped")
assert_values(g, [[1, 3, 5], [2, 4, 6]], "Transpose: the gradient is swapped back to (2, 3)")
out, (g,) = run_rule(GetItem, [[1.0, 2.0, 3.0, 4.0]], [10.0, 20.0, 30.0], key=np.array([0, 2, 0]))
assert_values(out, [1.0, 3.0, 1.0], "GetItem.forward(x, key=[0, 2, 0])")
assert_values(
    g, [40.0, 0.0, 20.0, 0.0], "GetItem with key [0, 2, 0]: position 0 was picked twice (10 + 30)"
)
rng = np.random.default_rng(7)
check_backward(Reshape, [rng.standard_normal((2, 3, 2))], "Reshape to (4, 3)", shape=(4, 3))
check_backward(Transpose, [rng.standard_normal((2, 3, 4))], "Transpose(0, 2)", dim0=0, dim1=2)
check_backward(GetItem, [rng.standard_normal((3, 4))], "x[:, 1:3]", key=(slice(None), slice(1, 3)))
check_backward(GetItem, [rng.standard_normal((3, 2))], "x[[2, 0, 2]]", key=np.array([2, 0, 2]))
err = raised(lambda: Reshape.forward(Context(), np.ones((2, 3)), shape=(4, 2)))
assert isinstance(err, ValueError) and "(6 elements)" in str(err), (
    f"Reshape.forward of 6 elements into (4, 2) should raise Module 01's ValueError; got {err!r}"
)

### BEGIN HIDDEN TESTS
# hidden: reshape, with -1 and every way of passing the shape, sends the gradient back
rng = np.random.default_rng(505)
x = rng.standard_normal((2, 3, 4))
for index, shape in enumerate([(4, -1), (-1,), ((3, 8),), ([2, 12],), (24, 1), (1, 2, 12)]):
    target = _reshape_target(x.shape, shape)
    assert _h_rule(Reshape, [x], lambda v, target=target: v.reshape(target), index, shape=shape), (
        "reshape"
    )
assert _h_rule(Reshape, [np.array(1.5)], lambda v: v.reshape(1, 1), 7, shape=(1, 1)), "0-d"
# hidden: reshape rejects impossible shapes with Module 01's errors
for shape in [(5, 5), (5, -1), (-1, -1)]:
    err = None
    try:
        Reshape.forward(Context(), x, shape=shape)
    except ValueError as exc:
        err = exc
    assert err is not None and "reshape" in str(err), "impossible shapes raise ValueError"
# hidden: transpose swaps the given axes, negative axes included, and swaps the gradient back
for index, (d0, d1) in enumerate([(-2, -1), (0, 2), (2, 0), (0, -1), (1, 1), (-3, -2)]):
    reference = lambda v, d0=d0, d1=d1: np.swapaxes(v, d0, d1)  # noqa: E731
    assert _h_rule(Transpose, [x], reference, 10 + index, dim0=d0, dim1=d1), "transpose axes"
m = rng.standard_normal((3, 5))
assert _h_rule(Transpose, [m], lambda v: v.T, 20), "a matrix with the default axes"
# hidden: 0-d and 1-D inputs pass through transpose unchanged
assert _h_rule(Transpose, [rng.standard_normal(4)], lambda v: v, 21), "a 1-D input"
assert _h_rule(Transpose, [np.array(2.0)], lambda v: v, 22), "a 0-d input"
# hidden: indexing scatter-adds the gradient for every kind of key, repeats included
keys = [
    1,
    -1,
    (1, 2),
    (slice(None), 2),
    (slice(None, None, -1), slice(1, None, 2)),
    np.array([2, 2, 0, 2]),
    (np.array([0, 1, 0]), np.array([3, 3, 3])),
    (slice(None), np.array([1, 1])),
    m > 0.2,
    (2, 4),
]
for index, key in enumerate(keys):
    assert _h_rule(GetItem, [m], lambda v, key=key: v[key], 30 + index, key=key), "indexing"
assert _h_rule(
    GetItem, [x], lambda v: v[1, ::-1, :2], 41, key=(1, slice(None, None, -1), slice(None, 2))
), "3-D"  # noqa: E501
# hidden: the scatter-add keeps the upstream gradient's dtype
ctx = Context()
GetItem.forward(ctx, np.zeros((3, 2), np.float32), key=np.array([1, 1]))
(grad,) = GetItem.backward(ctx, np.ones((2, 2), np.float32))
assert grad.dtype == np.float32, "the gradient has grad_output's dtype"
assert _h_close(grad, [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0]]), "a repeated row adds up"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `reduction_backward`: sum, mean and max (3 points)
#
# **Sum.** Every input element feeds exactly one output element with slope 1, so it gets
# that output's upstream gradient: backward **spreads** $g$ back over the reduced axes.
#
# ```
#   x (2, 3)      x.sum(axis=1) (2,)     upstream g (2,)     dL/dx (2, 3)
#   [ 1 2 3 ]  -> [  6 ]                 [ g0 ]              [ g0 g0 g0 ]
#   [ 4 5 6 ]     [ 15 ]                 [ g1 ]              [ g1 g1 g1 ]
# ```
#
# Without `keepdims`, the reduced axes are missing from $g$: put them back with length 1,
# `np.expand_dims(g, axis)` (it takes an int or a tuple, and counts negative axes the same
# way the reduction did), then `np.broadcast_to(g, input_shape)`. With `keepdims=True` the
# axes are still there, and with `axis=None` (everything reduced) $g$ is 0-d: both broadcast
# directly.
#
# **Mean** is the sum divided by $n$, the number of elements that were averaged into each
# output (input size / output size), so its backward is the sum's backward divided by $n$.
# If your `Mean.forward` stores the same `ctx` attributes as `Sum.forward`, you can reuse
# the rule: `Sum.backward(ctx, grad_output)[0] / ctx.count`.
#
# **Max** passes the gradient to the element that won; the others did not influence the
# result. With **ties** there is a choice to make. This course **splits the gradient
# evenly**: each of $k$ tied maxima gets $g / k$.
#
# ```
#   x = [ 1  3  3 ]    max = 3, two winners    dL/dx = [ 0   g/2   g/2 ]
#   x = [ 2  0 -1 ]    max = 2, one winner     dL/dx = [ g    0     0  ]
# ```
#
# Splitting evenly does not depend on the order of the elements, keeps the total gradient
# equal to $g$, and agrees with central differences at a tie of two. PyTorch does the same
# for `torch.amax` and for `max()` over all elements (`torch.max(x, dim)` instead sends
# everything to one index). Save in `forward` the share each element gets: 1 / (number of
# winners) at the winners, 0 elsewhere.


# %% kind="solution" id="reduction_backward" export=true
class Sum(Function):
    """x.sum(axis, keepdims)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        # Task reduction_backward: remember x's shape, axis and keepdims; return the sum.
        ### BEGIN SOLUTION
        ctx.input_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return np.sum(x, axis=axis, keepdims=keepdims)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """grad_output spread over the reduced axes: an array of the input's shape."""
        # Task reduction_backward: put the reduced axes back, broadcast to the input's shape.
        ### BEGIN SOLUTION
        grad = grad_output
        if ctx.axis is not None and not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axis)
        return (np.broadcast_to(grad, ctx.input_shape),)
        ### END SOLUTION


class Mean(Function):
    """x.mean(axis, keepdims)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        # Task reduction_backward: as Sum, plus the number of elements averaged per output.
        ### BEGIN SOLUTION
        out = np.mean(x, axis=axis, keepdims=keepdims)
        ctx.input_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.count = x.size / np.size(out)
        return out
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task reduction_backward: the sum's gradient divided by the count.
        ### BEGIN SOLUTION
        return (Sum.backward(ctx, grad_output)[0] / ctx.count,)
        ### END SOLUTION


class Max(Function):
    """x.max(axis, keepdims); the gradient goes to the maxima, split evenly among ties."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        # Task reduction_backward: as Sum, plus each element's share (1/winners or 0).
        ### BEGIN SOLUTION
        ctx.input_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        winners = (x == np.max(x, axis=axis, keepdims=True)).astype(x.dtype)
        ctx.share = winners / np.sum(winners, axis=axis, keepdims=True)
        return np.max(x, axis=axis, keepdims=keepdims)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task reduction_backward: the sum's gradient times each element's share.
        ### BEGIN SOLUTION
        return (Sum.backward(ctx, grad_output)[0] * ctx.share,)
        ### END SOLUTION


# %% [markdown]
# ### Test `reduction_backward`

# %% kind="test" id="test_reduction_backward" points=3
x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
out, (g,) = run_rule(Sum, [x], upstream=[10.0, 20.0], axis=1)
assert_values(out, [6.0, 15.0], "Sum.forward(x, axis=1)")
assert_values(g, [[10, 10, 10], [20, 20, 20]], "Sum over axis 1: each row gets its own g")
out, (g,) = run_rule(Sum, [x], upstream=7.0)
assert_values(g, np.full((2, 3), 7.0), "Sum of everything: every element gets the 0-d g")
out, (g,) = run_rule(Mean, [x], upstream=[[3.0, 6.0, 9.0]], axis=0, keepdims=True)
assert_values(out, [[2.5, 3.5, 4.5]], "Mean.forward(x, axis=0, keepdims=True)")
assert_values(g, [[1.5, 3.0, 4.5], [1.5, 3.0, 4.5]], "Mean over axis 0: g / 2 for each element")
tie = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
out, (g,) = run_rule(Max, [tie], upstream=[6.0, 5.0], axis=1)
assert_values(out, [3.0, 2.0], "Max.forward(x, axis=1)")
assert_values(g, [[0, 3, 3], [5, 0, 0]], "Max over axis 1: a tie of two shares g, 3 each")
rng = np.random.default_rng(8)
check_backward(Sum, [rng.standard_normal((2, 3, 4))], "Sum over axis (0, 2)", axis=(0, 2))
check_backward(
    Mean, [rng.standard_normal((2, 3, 4))], "Mean, axis -1, keepdims", axis=-1, keepdims=True
)  # noqa: E501
check_backward(Max, [rng.standard_normal((3, 4))], "Max over axis 0", axis=0)

### BEGIN HIDDEN TESTS
# hidden: sum and mean spread the gradient over any axes, with and without keepdims
rng = np.random.default_rng(506)
x = rng.standard_normal((2, 3, 4))
options = [
    {},
    {"axis": 0},
    {"axis": 1},
    {"axis": -1},
    {"axis": (0, 2)},
    {"axis": (-1, 0)},
    {"axis": None, "keepdims": True},
    {"axis": 1, "keepdims": True},
    {"axis": (0, 1), "keepdims": True},
    {"axis": -2, "keepdims": False},
]
for index, opts in enumerate(options):
    assert _h_rule(Sum, [x], lambda v, o=opts: np.sum(v, **o), index, **opts), "sum axes"
    assert _h_rule(Mean, [x], lambda v, o=opts: np.mean(v, **o), 20 + index, **opts), "mean axes"
    assert _h_rule(Max, [x], lambda v, o=opts: np.max(v, **o), 40 + index, **opts), "max axes"
# hidden: reductions of a single row, a column and a 0-d input
for index, shape in enumerate([(1, 5), (5, 1), ()]):
    v0 = rng.standard_normal(shape)
    assert _h_rule(Sum, [v0], np.sum, 60 + index), "sum of a small input"
    assert _h_rule(Mean, [v0], np.mean, 63 + index), "mean of a small input"
    assert _h_rule(Max, [v0], np.max, 66 + index), "max of a small input"
col = rng.standard_normal((4, 3))
assert _h_rule(Mean, [col], lambda v: np.mean(v, axis=1), 70, axis=1), "mean over columns"
assert _h_rule(Max, [col], lambda v: np.max(v, axis=-1), 71, axis=-1), "max over the last axis"
# hidden: ties share the gradient evenly, whatever their number and axis
tie = np.array([[2.0, 2.0, 2.0, -1.0], [0.5, 4.0, 1.0, 4.0], [3.0, -2.0, 3.0, 3.0]])
_, (g,) = run_rule(Max, [tie], upstream=[3.0, 2.0, 6.0], axis=1)
expected = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [2.0, 0.0, 2.0, 2.0]]
assert _h_close(g, expected), "ties along the last axis share the gradient"
_, (g,) = run_rule(Max, [tie], upstream=[[4.0, 4.0, 4.0, 4.0]], axis=0, keepdims=True)
expected = [[0.0, 0.0, 0.0, 0.0], [0.0, 4.0, 0.0, 4.0], [4.0, 0.0, 4.0, 0.0]]
assert _h_close(g, expected), "ties along the first axis with keepdims"
_, (g,) = run_rule(Max, [tie], upstream=np.array(9.0))
assert _h_close(g, np.where(tie == 4.0, 4.5, 0.0)), "ties in the maximum of everything"
_, (g,) = run_rule(Max, [np.full((2, 3), 5.0)], upstream=[6.0, 3.0], axis=-1)
assert _h_close(g, [[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]]), "a row of equal values"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `activation_backward`: ReLU, Sigmoid, Tanh, GELU, Softmax (3 points)
#
# The forward passes are Module 02's, on arrays; the backward rules are their derivatives.
#
# - **ReLU:** slope 1 where $x > 0$ and 0 where $x < 0$. At exactly 0 there is no derivative;
#   like PyTorch, use 0. Backward: $g \cdot [x > 0]$, so save the mask `x > 0`.
# - **Sigmoid:** $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$. It is cheapest in terms of the
#   **output**, so save $s = \sigma(x)$ and return $g \cdot s (1 - s)$. The forward must be
#   Module 02's stable one: exponentiate only numbers $\le 0$.
# - **Tanh:** $\tanh'(x) = 1 - \tanh^2(x)$: save the output $t$, return $g (1 - t^2)$.
# - **GELU** (tanh form): $\mathrm{GELU}(x) = \tfrac12 x (1 + t)$ with $t = \tanh(u)$,
#   $u = c\,(x + 0.044715\,x^3)$, $c = \sqrt{2 / \pi}$. The product and chain rules give
#
#   $$\mathrm{GELU}'(x) = \tfrac12 (1 + t)
#     + \tfrac12 x\,(1 - t^2)\,c\,(1 + 3 \cdot 0.044715\,x^2).$$
#
# - **Softmax** along `dim`: $s_i = e^{x_i} / \sum_k e^{x_k}$, with Jacobian
#   $\partial s_i / \partial x_j = s_i (\delta_{ij} - s_j)$. The vector-Jacobian product
#   collapses to
#
#   $$\frac{\partial L}{\partial x_j} = \sum_i g_i\, s_i (\delta_{ij} - s_j)
#     = s_j \Big(g_j - \sum_i g_i s_i\Big),$$
#
#   that is `s * (g - np.sum(g * s, axis=dim, keepdims=True))`: one pass over the data, where
#   the Jacobian of a 50,000-word softmax would have $2.5 \times 10^9$ entries.


# %% kind="solution" id="activation_backward" export=true
class ReLU(Function):
    """max(0, x) element-wise; the slope at 0 is taken to be 0."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        # Task activation_backward: save where x > 0; return max(0, x).
        ### BEGIN SOLUTION
        ctx.save_for_backward(x > 0)
        return np.maximum(x, 0)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task activation_backward: g where x > 0, 0 elsewhere.
        ### BEGIN SOLUTION
        (positive,) = ctx.saved_tensors
        return (grad_output * positive,)
        ### END SOLUTION


class Sigmoid(Function):
    """1 / (1 + e^(-x)) element-wise, computed without overflow."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        # Task activation_backward: Module 02's stable sigmoid; save the output.
        ### BEGIN SOLUTION
        top = np.exp(np.minimum(x, 0))
        other = np.exp(-np.maximum(x, 0))
        s = top / (top + other)
        ctx.save_for_backward(s)
        return s
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task activation_backward: g * s * (1 - s).
        ### BEGIN SOLUTION
        (s,) = ctx.saved_tensors
        return (grad_output * s * (1 - s),)
        ### END SOLUTION


class Tanh(Function):
    """tanh(x) element-wise."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        # Task activation_backward: save and return tanh(x).
        ### BEGIN SOLUTION
        t = np.tanh(x)
        ctx.save_for_backward(t)
        return t
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task activation_backward: g * (1 - t^2).
        ### BEGIN SOLUTION
        (t,) = ctx.saved_tensors
        return (grad_output * (1 - t * t),)
        ### END SOLUTION


class GELU(Function):
    """0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) element-wise."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray) -> np.ndarray:
        # Task activation_backward: the tanh approximation; save x and t = tanh(u).
        ### BEGIN SOLUTION
        t = np.tanh((2 / np.pi) ** 0.5 * (x + 0.044715 * x * x * x))
        ctx.save_for_backward(x, t)
        return 0.5 * x * (1 + t)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task activation_backward: g * (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)).
        ### BEGIN SOLUTION
        x, t = ctx.saved_tensors
        du = (2 / np.pi) ** 0.5 * (1 + 3 * 0.044715 * x * x)
        return (grad_output * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)
        ### END SOLUTION


class Softmax(Function):
    """Softmax along dim, computed stably (the maximum of each slice subtracted first)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = -1) -> np.ndarray:
        # Task activation_backward: Module 02's stable softmax; save the output and dim.
        ### BEGIN SOLUTION
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
        s = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(s)
        ctx.dim = dim
        return s
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task activation_backward: s * (g - sum(g * s) along dim).
        ### BEGIN SOLUTION
        (s,) = ctx.saved_tensors
        inner = np.sum(grad_output * s, axis=ctx.dim, keepdims=True)
        return (s * (grad_output - inner),)
        ### END SOLUTION


# %% [markdown]
# ### Test `activation_backward`

# %% kind="test" id="test_activation_backward" points=3
out, (g,) = run_rule(ReLU, [[-2.0, 0.0, 3.0]], upstream=[5.0, 5.0, 5.0])
assert_values(out, [0.0, 0.0, 3.0], "ReLU.forward([-2, 0, 3])")
assert_values(g, [0.0, 0.0, 5.0], "ReLU: the slope is 0 below 0 and at 0, 1 above")
out, (g,) = run_rule(Sigmoid, [[0.0, -1000.0, 1000.0]])
assert_values(out, [0.5, 0.0, 1.0], "Sigmoid.forward([0, -1000, 1000]) without overflow")
assert_values(g, [0.25, 0.0, 0.0], "Sigmoid: the slope s(1 - s) is 1/4 at 0 and 0 far out")
out, (g,) = run_rule(Tanh, [[0.0, 1.0]])
assert_values(g, [1.0, 1.0 - np.tanh(1.0) ** 2], "Tanh: the slope is 1 - tanh(x)^2")
out, (g,) = run_rule(Softmax, [[1.0, 1.0]], upstream=[1.0, 0.0])
assert_values(out, [0.5, 0.5], "Softmax.forward([1, 1])")
assert_values(g, [0.25, -0.25], "Softmax with g = [1, 0]: s * (g - sum(g * s)) = [1/4, -1/4]")
rng = np.random.default_rng(9)
check_backward(ReLU, [rng.standard_normal((3, 4))], "ReLU (3, 4)")
check_backward(Sigmoid, [rng.standard_normal((3, 4)) * 3], "Sigmoid (3, 4)")
check_backward(Tanh, [rng.standard_normal((3, 4))], "Tanh (3, 4)")
check_backward(GELU, [rng.standard_normal((3, 4)) * 2], "GELU (3, 4)")
check_backward(Softmax, [rng.standard_normal((3, 4))], "Softmax along the last axis")
check_backward(Softmax, [rng.standard_normal((3, 4))], "Softmax along dim=0", dim=0)

### BEGIN HIDDEN TESTS
# hidden: every activation rule matches float64 central differences on other shapes
rng = np.random.default_rng(507)


x = rng.standard_normal((2, 3, 4)) * 2.5
x = np.where(np.abs(x) < 1e-3, 0.5, x)  # away from ReLU's kink
for index, (function, reference) in enumerate(
    [(ReLU, lambda v: np.maximum(v, 0)), (Sigmoid, _h_sigmoid), (Tanh, np.tanh), (GELU, _h_gelu)]
):
    assert _h_rule(function, [x], reference, index), "each activation on a 3-D input"
    assert _h_rule(function, [np.array(0.7)], reference, 10 + index), "each on a 0-d input"
    assert _h_rule(function, [-x[0, 0]], reference, 20 + index), "each on a 1-D input"
for index, dim in enumerate([-1, 0, 1, 2, -2]):
    reference = lambda v, dim=dim: _h_softmax(v, dim)  # noqa: E731
    assert _h_rule(Softmax, [x], reference, 30 + index, dim=dim), "softmax along each axis"
# hidden: ReLU's slope at exactly 0 is 0
_, (g,) = run_rule(ReLU, [[0.0, -0.0, 1e-3, -1e-3]], upstream=[2.0, 3.0, 4.0, 5.0])
assert _h_close(g, [0.0, 0.0, 4.0, 0.0]), "ReLU's slope is 0 at 0 and 1 just above"
# hidden: extreme inputs give finite values and slopes without floating-point warnings
big = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]])
assert _h_rule(Sigmoid, [big], _h_sigmoid, 40), "sigmoid of extreme inputs"
assert _h_rule(Tanh, [big], np.tanh, 41), "tanh of extreme inputs"
assert _h_rule(GELU, [big], _h_gelu, 42, atol=1e-6), "gelu of extreme inputs"
assert _h_rule(Softmax, [big], lambda v: _h_softmax(v, -1), 43), "softmax of extreme inputs"
assert _h_rule(Softmax, [big.T], lambda v: _h_softmax(v, 0), 44, dim=0), "softmax, dim 0"
scales = np.array([[1000.0, 999.0, 998.0], [0.0, 1.0, -1.0]])
assert _h_rule(Softmax, [scales], _h_softmax, 45), "each slice is shifted by its own maximum"
assert _h_rule(Softmax, [scales.T], lambda v: _h_softmax(v, 0), 46, dim=0), "own maximum"
tiny = np.array([-20.0, -5.0])
_, (g,) = run_rule(Sigmoid, [tiny])
assert _h_close(g, _h_sigmoid(tiny) * (1 - _h_sigmoid(tiny)), 1e-6, 0.0), "small slopes"
# hidden: softmax's gradient sums to zero along the axis
_, (g,) = run_rule(Softmax, [x], upstream=rng.standard_normal(x.shape), dim=1)
assert _h_close(g.sum(axis=1), np.zeros((2, 4)), 1e-6, 1e-9), "softmax gradients sum to 0"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `loss_backward`: log-softmax and the three losses (3 points)
#
# A loss returns a 0-d array, so its upstream gradient $g$ is 0-d too: 1 when the loss is
# the end of the graph, something else when it is scaled or added to another loss. Multiply
# every rule below by $g$.
#
# - **LogSoftmax** along `dim`: $y_i = x_i - \log \sum_k e^{x_k}$, computed stably as in
#   Module 04. $\partial y_i / \partial x_j = \delta_{ij} - s_j$ with $s = e^{y}$ the softmax,
#   so backward is $g - s \cdot \sum_i g_i$ (the sum along `dim`, kept). Save the output:
#   $s$ is `np.exp(y)`.
# - **MSE**: $L = \frac1n \sum (p - y)^2$ over all $n$ elements, so
#   $\partial L / \partial p = \frac{2}{n}(p - y)$ and $\partial L / \partial y$ is its
#   negative. Both get a gradient.
# - **CrossEntropy** from logits $z$ of shape $(N, C)$ and integer targets $t$:
#   $L = \frac1N \sum_i \big(\log \sum_c e^{z_{ic}} - z_{i t_i}\big)$. Its gradient is the
#   famous "softmax minus one-hot", averaged:
#
#   $$\frac{\partial L}{\partial z_{ic}}
#     = \frac{1}{N}\big(\mathrm{softmax}(z_i)_c - [c = t_i]\big).$$
#
#   The targets are class indices and get no gradient: return `None` for them. Your
#   `LogSoftmax.forward` computes the log-probabilities (the default axis, -1, is the class
#   axis); keep the softmax for backward.
# - **BinaryCrossEntropy** of probabilities $p$ and targets $y$, with $p$ first clipped to
#   $p_c = \mathrm{clip}(p, \varepsilon, 1 - \varepsilon)$:
#   $L = -\frac1n \sum \big(y \log p_c + (1 - y) \log(1 - p_c)\big)$, so
#
#   $$\frac{\partial L}{\partial p} = \frac{1}{n} \cdot \frac{p_c - y}{p_c (1 - p_c)}
#     \quad \text{where } p \text{ was inside } [\varepsilon, 1 - \varepsilon], \qquad 0
#     \text{ where it was clipped.}$$
#
#   **The clip has no slope where it clips**: moving a prediction of exactly 0 a little does
#   not change the clipped value, so that prediction gets gradient 0. This is the honest
#   derivative of what forward computed (it is also what `torch.clamp` does), and it shows
#   why a Sigmoid that saturates at exactly 0 or 1 stops learning: one more reason to work
#   with logits. At the boundary itself ($p = \varepsilon$ exactly) the clip leaves $p$
#   unchanged, and the formula applies. Targets get `None`.
#
# The first line of each loss's `forward` is given: Module 04's input checks.


# %% kind="solution" id="loss_backward" export=true
class LogSoftmax(Function):
    """log(softmax(x)) along dim, computed stably (log-sum-exp)."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, dim: int = -1) -> np.ndarray:
        # Task loss_backward: Module 04's stable log-softmax; save the output and dim.
        ### BEGIN SOLUTION
        shifted = x - np.max(x, axis=dim, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task loss_backward: g - softmax * sum(g) along dim.
        ### BEGIN SOLUTION
        (out,) = ctx.saved_tensors
        total = np.sum(grad_output, axis=ctx.dim, keepdims=True)
        return (grad_output - np.exp(out) * total,)
        ### END SOLUTION


class MSE(Function):
    """The mean over all elements of (predictions - targets) ** 2."""

    @staticmethod
    def forward(ctx: Context, predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        _check_mse(predictions, targets)  # given: Module 04's check
        # Task loss_backward: save the difference; return the mean squared difference.
        ### BEGIN SOLUTION
        diff = predictions - targets
        ctx.save_for_backward(diff)
        return np.mean(diff * diff)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task loss_backward: g * 2 (p - y) / n for the predictions, its negative for targets.
        ### BEGIN SOLUTION
        (diff,) = ctx.saved_tensors
        grad = grad_output * 2 * diff / diff.size
        return grad, -grad
        ### END SOLUTION


class CrossEntropy(Function):
    """Mean cross-entropy of (N, C) logits against N integer class targets."""

    @staticmethod
    def forward(ctx: Context, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        _check_cross_entropy(logits, targets)  # given: Module 04's checks
        # Task loss_backward: mean of -log_softmax at the targets; save softmax and targets.
        ### BEGIN SOLUTION
        labels = targets.astype(int)
        log_probs = LogSoftmax.forward(Context(), logits)
        ctx.save_for_backward(np.exp(log_probs), labels)
        return -np.mean(log_probs[np.arange(len(labels)), labels])
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task loss_backward: g * (softmax - one-hot) / N for the logits, None for targets.
        ### BEGIN SOLUTION
        probs, labels = ctx.saved_tensors
        grad = probs.copy()
        grad[np.arange(len(labels)), labels] -= 1
        return grad * grad_output / len(labels), None
        ### END SOLUTION


class BinaryCrossEntropy(Function):
    """Mean binary cross-entropy of probabilities, clipped to [eps, 1 - eps]."""

    @staticmethod
    def forward(
        ctx: Context, probs: np.ndarray, targets: np.ndarray, eps: float = 1e-7
    ) -> np.ndarray:
        _check_binary_cross_entropy(probs, targets)  # given: Module 04's checks
        # Task loss_backward: clip, save what backward needs (which entries were clipped).
        ### BEGIN SOLUTION
        clipped = np.clip(probs, eps, 1 - eps)
        ctx.save_for_backward(clipped, targets, clipped == probs)
        terms = targets * np.log(clipped) + (1 - targets) * np.log(1 - clipped)
        return -np.mean(terms)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # Task loss_backward: g (p - y) / (p (1 - p) n) where not clipped, 0 where clipped.
        ### BEGIN SOLUTION
        p, y, unclipped = ctx.saved_tensors
        grad = grad_output * unclipped * (p - y) / (p * (1 - p) * p.size)
        return grad, None
        ### END SOLUTION


# %% [markdown]
# ### Test `loss_backward`

# %% kind="test" id="test_loss_backward" points=3
out, (g,) = run_rule(LogSoftmax, [[0.0, 0.0]], upstream=[1.0, 0.0])
assert_values(out, [-np.log(2.0), -np.log(2.0)], "LogSoftmax.forward([0, 0])")
assert_values(g, [0.5, -0.5], "LogSoftmax with g = [1, 0]: g - softmax * sum(g) = [1/2, -1/2]")
out, (gp, gy) = run_rule(MSE, [[2.5, 0.0, 2.0, 8.0], [3.0, -0.5, 2.0, 7.0]])
assert_values(out, 0.375, "MSE.forward of Module 04's example")
assert_values(gp, [-0.25, 0.25, 0.0, 0.5], "MSE: the gradient for p is 2 (p - y) / 4")
assert_values(gy, [0.25, -0.25, 0.0, -0.5], "MSE: the gradient for y is -2 (p - y) / 4")
out, (gz, gt) = run_rule(CrossEntropy, [[[0.0, 0.0], [0.0, 0.0]], [0, 1]])
assert_values(out, np.log(2.0), "CrossEntropy.forward of equal logits: log 2")
assert_values(gz, [[-0.25, 0.25], [0.25, -0.25]], "CrossEntropy: (softmax - one-hot) / N")
assert gt is None, f"CrossEntropy: class targets get no gradient (None), got {gt!r}."
out, (gp, gy) = run_rule(BinaryCrossEntropy, [[0.5, 0.0], [1.0, 1.0]])
assert_values(out, (np.log(2.0) - np.log(1e-7)) / 2, "BinaryCrossEntropy.forward, p = 0 clipped")
assert_values(gp, [-1.0, 0.0], "BinaryCrossEntropy: (p - y) / (p (1 - p) n) = -1; 0 if clipped")
assert gy is None, f"BinaryCrossEntropy: targets get no gradient (None), got {gy!r}."
rng = np.random.default_rng(10)
check_backward(LogSoftmax, [rng.standard_normal((3, 4))], "LogSoftmax along dim=0", dim=0)
check_backward(MSE, [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))], "MSE (2, 3)")
check_backward(
    CrossEntropy, [rng.standard_normal((4, 3)), [2, 0, 1, 2]], "CrossEntropy", differentiable=(0,)
)
check_backward(
    BinaryCrossEntropy,
    [rng.uniform(0.1, 0.9, 5), [1.0, 0.0, 0.0, 1.0, 1.0]],
    "BinaryCrossEntropy",
    differentiable=(0,),
)
err = raised(lambda: MSE.forward(Context(), np.ones((4, 1)), np.ones(4)))
assert isinstance(err, ValueError), f"MSE of (4, 1) and (4,) should raise ValueError, got {err!r}"

### BEGIN HIDDEN TESTS
# hidden: log-softmax along every axis matches float64 central differences
rng = np.random.default_rng(508)


x = rng.standard_normal((2, 3, 4)) * 2
for index, dim in enumerate([-1, 0, 1, -2]):
    reference = lambda v, dim=dim: _h_log_softmax(v, dim)  # noqa: E731
    assert _h_rule(LogSoftmax, [x], reference, index, dim=dim), "log-softmax along each axis"
assert _h_rule(LogSoftmax, [rng.standard_normal(5)], _h_log_softmax, 5), "a 1-D input"
big = np.array([[1e4, 0.0, -1e4], [50.0, 100.0, 75.0]])
assert _h_rule(LogSoftmax, [big], _h_log_softmax, 6, atol=1e-5), "huge logits, no warnings"
# hidden: mean squared error gives gradients to predictions and targets
for index, shape in enumerate([(5,), (3, 4), (2, 1, 3), ()]):
    p, y = rng.standard_normal(shape), rng.standard_normal(shape)
    assert _h_rule(MSE, [p, y], lambda a, b: np.mean((a - b) ** 2), 10 + index), "mse"
# hidden: cross-entropy is (softmax - one-hot) / N for the logits and None for the targets

for index, (n, c) in enumerate([(4, 3), (1, 5), (6, 2), (3, 1)]):
    z = rng.standard_normal((n, c)) * 3
    t = rng.integers(0, c, size=n).astype(np.float64)
    assert _h_rule(CrossEntropy, [z, t], _h_cross_entropy, 20 + index, wrt=(0,)), "ce shapes"
z = np.array([[1e4, -1e4, 0.0], [0.0, 3.0, -2.0]])
t = np.array([1.0, 1.0])
assert _h_rule(CrossEntropy, [z, t], _h_cross_entropy, 30, wrt=(0,), atol=1e-5), "huge logits"
_, (gz, _) = run_rule(CrossEntropy, [rng.standard_normal((5, 4)), [0, 1, 2, 3, 3]])
assert _h_close(gz.sum(axis=1), np.zeros(5), 1e-6, 1e-9), "each row's gradient sums to 0"
# hidden: binary cross-entropy clips, and clipped predictions get no gradient

p = rng.uniform(0.05, 0.95, (3, 4))
y = rng.integers(0, 2, (3, 4)).astype(np.float64)
assert _h_rule(BinaryCrossEntropy, [p, y], _h_bce(1e-7), 40, wrt=(0,)), "bce, 0/1 targets"
soft = rng.uniform(0, 1, (3, 4))
assert _h_rule(BinaryCrossEntropy, [p, soft], _h_bce(1e-7), 41, wrt=(0,)), "bce, soft targets"
assert _h_rule(BinaryCrossEntropy, [p[0], y[0]], _h_bce(0.2), 42, wrt=(0,), eps=0.2), "eps"
edge = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
out, (gp, gy) = run_rule(BinaryCrossEntropy, [edge, labels], upstream=np.array(2.0))
assert _h_close(out, _h_bce(1e-7)(edge, labels), 1e-6, 0.0), "p of exactly 0 and 1"
assert _h_close(gp, [0.0, 0.0, -0.8, 0.0, 0.0]), "clipped predictions get gradient 0"
assert gy is None, "targets get no gradient"
bounds = np.array([0.25, 0.75, 0.2, 0.8, 0.5])
out, (gp, _) = run_rule(BinaryCrossEntropy, [bounds, labels], eps=0.25)
expected = np.array([-4.0, 4.0, 0.0, 0.0, 2.0]) / 5
assert _h_close(gp, expected), "at the clip boundary the gradient passes, beyond it it is 0"
# hidden: the losses compute in the dtype of their inputs, float32 included
z32 = rng.standard_normal((4, 3)).astype(np.float32)
p32 = rng.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
y32 = rng.uniform(0.0, 1.0, (4, 3)).astype(np.float32)
t32 = np.array([2.0, 0.0, 1.0, 1.0], np.float32)
for function, inputs in [
    (LogSoftmax, [z32]),
    (MSE, [z32, y32]),
    (CrossEntropy, [z32, t32]),
    (BinaryCrossEntropy, [p32, y32]),
]:
    ctx = Context()
    out = function.forward(ctx, *inputs)
    assert getattr(out, "dtype", None) == np.float32, "float32 inputs give a float32 result"
    grads = function.backward(ctx, np.ones(np.shape(out), np.float32))
    assert getattr(grads[0], "dtype", None) == np.float32, "and a float32 gradient"
# hidden: the losses reject bad inputs with Module 04's errors
bad_calls = [
    lambda: MSE.forward(Context(), np.ones((3, 1)), np.ones(3)),
    lambda: CrossEntropy.forward(Context(), np.ones(3), np.zeros(3)),
    lambda: CrossEntropy.forward(Context(), np.ones((3, 2)), np.zeros((3, 2))),
    lambda: CrossEntropy.forward(Context(), np.ones((2, 2)), np.array([0.5, 1.0])),
    lambda: CrossEntropy.forward(Context(), np.ones((2, 2)), np.array([0.0, 2.0])),
    lambda: BinaryCrossEntropy.forward(Context(), np.array([0.5, 1.5]), np.ones(2)),
    lambda: BinaryCrossEntropy.forward(Context(), np.array([0.5, 0.5]), np.array([2.0, 0.0])),
]
for call in bad_calls:
    err = None
    try:
        call()
    except ValueError as exc:
        err = exc
    assert err is not None, "bad inputs raise ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `backward_pass`: walking the graph (4 points)
#
# Every operation now knows its local rule. The engine chains them: starting from the loss
# with $\partial L / \partial L = 1$, it visits every tensor of the graph, calls its node's
# `backward`, and hands each parent its share. Two things make or break it.
#
# **Order.** A tensor may be used by several operations, and its gradient is the **sum** of
# what all of them send back. In this diamond, `x` receives contributions through `a` and
# through `b`:
#
# ```
#          ┌──[Mul by 2]── a ──┐
#   x ─────┤                   ├──[Mul]── z ──[Sum]── L
#          └──[Add 1]───── b ──┘
# ```
#
# `x`'s own backward (were it an intermediate result) may only run once both contributions
# have arrived. A **topological order** lists every tensor after all the tensors it was
# computed from: `x, a, b, z, L` or `x, b, a, z, L`. Walking it **backwards** visits each
# tensor after everything computed from it, so by then its gradient is complete.
#
# **No recursion.** The textbook topological sort is a recursive depth-first search, and
# Python stops recursion at about 1000 nested calls: an RNN unrolled over a long sequence, or
# just a long chain of small operations, exceeds that. Use an explicit stack of
# `(tensor, parents_done)` pairs:
#
# ```
#   stack = [(root, False)]
#   pop (t, False), t not visited yet:  mark t visited; push (t, True);
#                                       push (p, False) for every parent p of t that
#                                       requires grad (leaves have no grad_fn, no parents)
#   pop (t, True):                      every parent of t is in the order by now: append t
# ```
#
# `topological_order(root)` returns the tensors that require grad and can be reached from
# `root` through `grad_fn.parents` (`root` itself included, last), each **once**. Constant
# parents (`requires_grad=False`) are left out: no gradient has to reach them.
#
# **`backward(tensor, gradient=None)`**, which becomes `Tensor.backward`:
#
# 1. A tensor that does not require grad has no graph behind it (it was computed from
#    constants, or inside `no_grad()`): raise `RuntimeError` saying so.
# 2. The seed. Without `gradient`, the tensor must hold exactly one element (a 0-d loss, or
#    shape `(1,)`, `(1, 1)`, ...) and the seed is ones of its shape; for any other tensor
#    raise `RuntimeError("grad can be implicitly created only for scalar outputs; pass
#    gradient=...")`, PyTorch's rule: the gradient of a tensor is only defined once you say
#    which number you differentiate. A given `gradient` (a Tensor, or anything `np.asarray`
#    reads: an array, a list, a number) must have the tensor's shape, else `ValueError`
#    naming both shapes.
# 3. Keep a dictionary from `id(t)` to the gradient accumulated so far, starting with the
#    seed. For each `t` in `reversed(topological_order(tensor))`, take (and remove) its
#    gradient; if none arrived (a rule returned `None` for it), skip `t`.
#    - A **leaf** (`t.grad_fn is None`): **add** the gradient into `t.grad`, stored as a new
#      float32 array of `t`'s shape (`None` counts as zero). Adding, not overwriting, is what
#      lets gradients of several batches accumulate, and why training loops call
#      `zero_grad()` first.
#    - Otherwise call `t.grad_fn.function.backward(t.grad_fn.ctx, grad)` and, for each
#      parent that requires grad and received a gradient that is not `None`, check that the
#      gradient has the parent's shape (else `RuntimeError` naming the Function and both
#      shapes: a forgotten `unbroadcast` shows up here instead of three operations later),
#      then add it to the parent's entry in the dictionary.
# 4. Only leaves keep `.grad`. Intermediate results have done their job once their gradient
#    has been passed on, as in PyTorch, so their gradients are dropped.
#
# `zero_grad(tensor)` sets `tensor.grad = None`.


# %% kind="solution" id="backward_pass" export=true
def topological_order(tensor: Tensor) -> list[Tensor]:
    """The tensors reachable from `tensor` that require grad, each once, in an order where
    every tensor comes after all its parents; `tensor` itself is last.

    Reachable: through grad_fn.parents, repeatedly (a leaf's grad_fn is None). Uses an
    explicit stack, not recursion, so graphs of any depth work.
    """
    # Task backward_pass: iterative depth-first search; append a tensor after its parents.
    ### BEGIN SOLUTION
    order, visited = [], set()
    stack = [(tensor, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))  # back here once every parent is in the order
            if node.grad_fn is not None:
                stack.extend((p, False) for p in node.grad_fn.parents if p.requires_grad)
    return order
    ### END SOLUTION


def backward(tensor: Tensor, gradient=None) -> None:
    """Tensor.backward: add d(tensor)/d(leaf), times `gradient`, into every leaf's .grad.

    Args:
        tensor: the tensor to differentiate, usually a 0-d loss.
        gradient: dL/d(tensor), of tensor's shape: a Tensor, or an array (a list or a number
            is read with np.asarray); may be omitted when tensor holds exactly one element
            (then it is ones).

    Raises:
        RuntimeError: when tensor does not require grad (nothing to differentiate).
        RuntimeError: when gradient is omitted for a tensor of more than one element:
            "grad can be implicitly created only for scalar outputs; pass gradient=...".
        ValueError: when gradient's shape is not tensor's shape, naming both.
        RuntimeError: when a Function's backward returns a gradient whose shape is not its
            input's shape, naming the Function and both shapes.

    Leaves (grad_fn None, requires_grad True) receive grad = old grad (None counts as 0)
    plus the new gradient, as a new float32 array of their shape. Other tensors keep .grad
    as it was.
    """
    # Task backward_pass: seed, then visit the topological order backwards, adding up.
    ### BEGIN SOLUTION
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn: it was "
            "computed from constants only, or inside no_grad()"
        )
    if gradient is None:
        if tensor.size != 1:
            raise RuntimeError(
                "grad can be implicitly created only for scalar outputs; pass gradient=... "
                f"(this tensor has shape {tensor.shape})"
            )
        gradient = np.ones_like(tensor.data)
    if isinstance(gradient, Tensor):
        gradient = gradient.data
    gradient = np.asarray(gradient)
    if gradient.shape != tensor.shape:
        raise ValueError(
            f"backward: gradient of shape {gradient.shape} for a tensor of shape {tensor.shape}"
        )
    grads = {id(tensor): gradient}
    for node in reversed(topological_order(tensor)):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        if node.grad_fn is None:  # a leaf: accumulate
            total = grad if node.grad is None else node.grad + grad
            node.grad = np.array(total, np.float32)
            continue
        fn = node.grad_fn
        parent_grads = fn.function.backward(fn.ctx, grad)
        for index, parent in enumerate(fn.parents):
            parent_grad = parent_grads[index]
            if parent_grad is None or not parent.requires_grad:
                continue
            if np.shape(parent_grad) != parent.shape:
                raise RuntimeError(
                    f"{fn.function.__name__}.backward returned a gradient of shape "
                    f"{np.shape(parent_grad)} for an input of shape {parent.shape}"
                )
            key = id(parent)
            grads[key] = grads[key] + parent_grad if key in grads else parent_grad
    ### END SOLUTION


def zero_grad(tensor: Tensor) -> None:
    """Tensor.zero_grad: forget the accumulated gradient (tensor.grad = None)."""
    # Task backward_pass: clear the gradient.
    ### BEGIN SOLUTION
    tensor.grad = None
    ### END SOLUTION


# %% [markdown]
# ## Given: `enable_autograd()`
#
# Everything is in place; one function connects it to the classes of earlier modules. Read
# it line by line: each line replaces one method with a version that goes through a
# Function, keeping Module 01's behaviour (same results, same errors) and adding the graph.
#
# - **Module 01.** `+ - * /`, unary minus, `@` and `matmul`, `reshape`, `transpose`, `.T`,
#   `sum`, `mean`, `max` and indexing. Reversed operators swap the operands: `2 - t` is
#   `Sub.apply(2, t)`. `Tensor.grad_fn = None` gives every tensor a default: no node.
#   `.T` reverses all axes, which is a series of swaps of two axes.
# - **The engine.** `Tensor.backward` and `Tensor.zero_grad` are your two functions.
# - **Module 02.** The `forward` of each activation module: `ReLU()(x)` now runs
#   `ReLU.apply(x)`, the Function of the same name in this module.
# - **Module 04.** The losses' `forward` and `losses.log_softmax`. (A name imported with
#   `from tinytorch.core.losses import log_softmax` *before* the call still refers to the old
#   function; use `losses.log_softmax`, or import after.)
# - **Module 03 needs nothing.** `Linear`, `Sequential` and `Dropout` are built from Tensor
#   operations (`@`, `+`, `*`), so they become differentiable with them. That is why Module
#   03 asked you to use Tensor operations and not NumPy on `.data`.
#
# Calling it twice does no harm (it assigns the same things again). It is also the last line
# of the package file: **importing `tinytorch.core.autograd` switches autograd on**, so every
# later module and milestone that imports it computes gradients, and nothing else does.


# %% kind="locked" id="enable_autograd" export=true
def _reversed_axes(t: Tensor) -> Tensor:
    """t.T: all axes reversed, as swaps of axis i with axis -1 - i (a copy for 0-d and 1-D)."""
    out = Transpose.apply(t, dim0=0, dim1=-1)
    for i in range(1, t.ndim // 2):
        out = Transpose.apply(out, dim0=i, dim1=-1 - i)
    return out


def enable_autograd() -> None:
    """Route the operations of Modules 01, 02 and 04 through Functions, so that they record
    the graph, and add Tensor.backward and Tensor.zero_grad. Safe to call more than once."""
    # Module 01: Tensor operations.
    Tensor.grad_fn = None  # a tensor nobody computed (a leaf) has no node
    Tensor.__add__ = lambda self, other: Add.apply(self, other)
    Tensor.__radd__ = lambda self, other: Add.apply(other, self)
    Tensor.__sub__ = lambda self, other: Sub.apply(self, other)
    Tensor.__rsub__ = lambda self, other: Sub.apply(other, self)
    Tensor.__mul__ = lambda self, other: Mul.apply(self, other)
    Tensor.__rmul__ = lambda self, other: Mul.apply(other, self)
    Tensor.__truediv__ = lambda self, other: Div.apply(self, other)
    Tensor.__rtruediv__ = lambda self, other: Div.apply(other, self)
    Tensor.__neg__ = lambda self: Neg.apply(self)
    Tensor.matmul = lambda self, other: MatMul.apply(self, other)
    Tensor.__matmul__ = lambda self, other: MatMul.apply(self, other)
    Tensor.reshape = lambda self, *shape: Reshape.apply(self, shape=shape)
    Tensor.transpose = lambda self, dim0=-2, dim1=-1: Transpose.apply(self, dim0=dim0, dim1=dim1)
    Tensor.T = property(_reversed_axes)
    Tensor.sum = lambda self, axis=None, keepdims=False: Sum.apply(
        self, axis=axis, keepdims=keepdims
    )
    Tensor.mean = lambda self, axis=None, keepdims=False: Mean.apply(
        self, axis=axis, keepdims=keepdims
    )
    Tensor.max = lambda self, axis=None, keepdims=False: Max.apply(
        self, axis=axis, keepdims=keepdims
    )
    Tensor.__getitem__ = lambda self, key: GetItem.apply(self, key=key)
    # The engine.
    Tensor.backward = backward
    Tensor.zero_grad = zero_grad
    # Module 02: activations.
    activations.ReLU.forward = lambda self, x: ReLU.apply(x)
    activations.Sigmoid.forward = lambda self, x: Sigmoid.apply(x)
    activations.Tanh.forward = lambda self, x: Tanh.apply(x)
    activations.GELU.forward = lambda self, x: GELU.apply(x)
    activations.Softmax.forward = lambda self, x: Softmax.apply(x, dim=self.dim)
    # Module 04: losses.
    losses.log_softmax = lambda x, dim=-1: LogSoftmax.apply(x, dim=dim)
    losses.MSELoss.forward = lambda self, predictions, targets: MSE.apply(predictions, targets)
    losses.CrossEntropyLoss.forward = lambda self, predictions, targets: CrossEntropy.apply(
        predictions, targets
    )
    losses.BinaryCrossEntropyLoss.forward = lambda self, predictions, targets: (
        BinaryCrossEntropy.apply(predictions, targets, eps=self.eps)
    )


# %% [markdown]
# Switch it on for the rest of this notebook (in the package, importing the module does it):

# %% kind="locked" id="switch_on" export=true
enable_autograd()  # importing tinytorch.core.autograd switches autograd on

# %% [markdown]
# ### Test `backward_pass`
#
# From here on, ordinary Tensor expressions build graphs. The tests run your engine on
# them, and finally check a whole network against `gradcheck`. When the notebook is graded,
# the Functions and `gradcheck` in this cell are the course's own, so its points are about
# the engine: `topological_order`, `backward` and `zero_grad`.


# %% kind="test" id="test_backward_pass" points=4
x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
h = x * x
y = h.sum()
order = topological_order(y)
assert type(order) is list and [id(t) for t in order] == [id(x), id(h), id(y)], (
    "topological_order((x * x).sum()) should be [x, x * x, the sum]: each tensor once, "
    f"after its parents; got {len(order)} entries."
)
y.backward()
assert_leaf_grad(x, [2.0, -4.0, 6.0], "(x * x).sum().backward(): x.grad = 2x (x is used twice)")
assert h.grad is None, "intermediate results do not keep .grad; only leaves do."
y.backward()
assert_leaf_grad(x, [4.0, -8.0, 12.0], "a second backward() adds to x.grad")
x.zero_grad()
assert x.grad is None, f"x.zero_grad() should set x.grad to None, got {x.grad!r}."
x = Tensor([1.0, 2.0], requires_grad=True)
a = x * 2.0
b = x + 1.0
(a * b).sum().backward()
assert_leaf_grad(x, [6.0, 10.0], "the diamond (2x) * (x + 1): x.grad = 2(x + 1) + 2x")
err = raised(lambda: (x * 2.0).backward())
assert isinstance(err, RuntimeError) and "scalar" in str(err), (
    "backward() of a non-scalar tensor without gradient= should raise RuntimeError "
    f"mentioning scalar outputs; got {err!r}"
)
x.zero_grad()
(x * 3.0).backward(np.array([1.0, -1.0]))
assert_leaf_grad(x, [3.0, -3.0], "(x * 3).backward(gradient=[1, -1])")
with no_grad():
    q = x * 2.0
assert q.requires_grad is False and q.grad_fn is None, "no_grad(): results carry no graph."

rng = np.random.default_rng(11)
model = layers.Sequential(
    layers.Linear(4, 5, rng=1), activations.ReLU(), layers.Linear(5, 3, rng=2)
)
inputs = Tensor(rng.standard_normal((6, 4)))
labels = np.array([0, 2, 1, 1, 0, 2])
loss_fn = losses.CrossEntropyLoss()
loss = loss_fn(model(inputs), labels)
loss.backward()
for p in model.parameters():
    assert isinstance(p.grad, np.ndarray) and p.grad.shape == p.shape, (
        f"after loss.backward() every parameter needs a .grad of its shape {p.shape}"
    )
ok = gradcheck(lambda *params: loss_fn(model(inputs), labels), model.parameters())
assert ok is True, "gradcheck of the network's parameters should return True."

### BEGIN HIDDEN TESTS
# hidden: the topological order lists every tensor that requires grad once, after its parents
rng = np.random.default_rng(509)
x = Tensor([0.5, -1.0], requires_grad=True)
w = Tensor([2.0, 3.0], requires_grad=True)
const = Tensor([1.0, 1.0])
a = x * w
b = a + const
c = a * b
e = c + x
d = e.sum()
order = topological_order(d)
ids = [id(t) for t in order]
assert type(order) is list and len(ids) == len(set(ids)), "each tensor once"
assert set(ids) == {id(t) for t in (x, w, a, b, c, e, d)}, "the reachable tensors"
assert id(const) not in ids, "constants are left out"
assert order[-1] is d, "the root comes last"
position = {key: i for i, key in enumerate(ids)}
for t in order:
    if t.grad_fn is not None:
        for parent in t.grad_fn.parents:
            if parent.requires_grad:
                assert position[id(parent)] < position[id(t)], "parents come first"
assert [t for t in topological_order(x)] == [x], "a leaf alone"
# hidden: gradients add up over every path, and only leaves keep them
d.backward()
xv, wv = np.array([0.5, -1.0]), np.array([2.0, 3.0])
av = xv * wv
assert _h_close(x.grad, wv * (2 * av + 1) + 1, 1e-5, 1e-6), "x reached along three paths"
assert _h_close(w.grad, xv * (2 * av + 1), 1e-5, 1e-6), "w reached along two paths"
assert all(t.grad is None for t in (a, b, c, e, d)), "intermediate results keep no .grad"
assert const.grad is None, "constants get no .grad"
assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32, "leaf gradients are float32"
cube = Tensor([1.5, -2.0], requires_grad=True)
(cube * cube * cube).sum().backward()
assert _h_close(cube.grad, [6.75, 12.0], 1e-5, 1e-6), "a tensor used three times"
u = Tensor([1.0, 2.0, 3.0], requires_grad=True)
hh = u * 2.0
(hh * hh + hh).sum().backward()
assert _h_close(u.grad, (2 * 2 * np.array([1.0, 2.0, 3.0]) + 1) * 2, 1e-5, 1e-6), "reused h"
# hidden: a long chain does not hit the recursion limit
deep = Tensor(1.0, requires_grad=True)
chain = deep
for _ in range(5000):
    chain = chain + 0.5
chain.backward()
assert _h_close(deep.grad, 1.0), "a chain of 5000 operations"
# hidden: repeated backward calls accumulate and zero_grad clears
v = Tensor([[1.0, 2.0]], requires_grad=True)
s = (v * 3.0).sum()
s.backward()
s.backward()
s.backward()
assert _h_close(v.grad, [[9.0, 9.0]]), "three backward calls add up"
v.zero_grad()
assert v.grad is None, "zero_grad sets None"
v.grad = np.array([[1.0, 1.0]])
s.backward()
assert v.grad.dtype == np.float32 and _h_close(v.grad, [[4.0, 4.0]]), "existing .grad is added to"
# hidden: one-element roots are seeded with ones, others need a gradient of their shape
m = Tensor([[2.0]], requires_grad=True)
(m * 5.0).backward()
assert _h_close(m.grad, [[5.0]]), "a (1, 1) output is seeded with ones"
z0 = Tensor(3.0, requires_grad=True)
(z0 * z0).backward()
assert _h_close(z0.grad, 6.0) and z0.grad.shape == (), "a 0-d leaf gets a 0-d gradient"
n = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
message = ""
try:
    (n * 2.0).backward()
except RuntimeError as exc:
    message = str(exc)
assert "scalar" in message and "gradient=" in message, "the non-scalar error names the fix"
for bad in (np.ones(4), np.ones((2, 1)), np.ones((2, 2, 1))):
    err = None
    try:
        (n * 2.0).backward(bad)
    except ValueError as exc:
        err = exc
    assert err is not None, "a gradient of the wrong shape raises ValueError"
seed = np.array([[1.0, -1.0], [0.5, 2.0]])
(n * 2.0).backward(Tensor(seed))
assert _h_close(n.grad, 2 * seed), "a Tensor gradient"
# hidden: a gradient given as a list or a number is read as an array
n.zero_grad()
(n * 2.0).backward(seed.tolist())
assert _h_close(n.grad, 2 * seed), "a gradient given as a list"
z1 = Tensor(3.0, requires_grad=True)
(z1 * z1).backward(1.5)
assert _h_close(z1.grad, 9.0), "a gradient given as a number"
leaf = Tensor([1.0, 2.0], requires_grad=True)
given = np.array([0.25, 4.0])
leaf.backward(given)
assert _h_close(leaf.grad, given) and leaf.grad is not given, "a leaf's own backward copies"
given[0] = 100.0
assert _h_close(leaf.grad, [0.25, 4.0]), "the stored gradient is a copy"
# hidden: tensors without a graph cannot be differentiated
for make in (lambda: Tensor([1.0]) * 2.0, lambda: Tensor(2.0)):
    err = None
    try:
        make().backward()
    except RuntimeError as exc:
        err = exc
    assert err is not None, "a tensor that does not require grad raises RuntimeError"
with no_grad():
    frozen = (x * x).sum()
err = None
try:
    frozen.backward()
except RuntimeError as exc:
    err = exc
assert err is not None, "a result computed inside no_grad() cannot be differentiated"


# hidden: gradients of the wrong shape are reported, None gradients are skipped
class _HBadShape(Function):
    @staticmethod
    def forward(ctx, a, b):
        return b + a

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output  # b was broadcast: its gradient has the wrong shape


class _HOnlyFirst(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * 2 + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2, None


p = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
r = Tensor([1.0, 1.0], requires_grad=True)
err = None
try:
    _HBadShape.apply(p, r).sum().backward()
except RuntimeError as exc:
    err = exc
assert err is not None and "_HBadShape" in str(err), "a wrong gradient shape names the Function"
p.zero_grad()
r.zero_grad()
_HOnlyFirst.apply(p, Tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)).sum().backward()
assert _h_close(p.grad, np.full((2, 2), 2.0)), "a None gradient does not stop the others"
skipped = Tensor([[5.0, 5.0], [5.0, 5.0]], requires_grad=True)
_HOnlyFirst.apply(p, skipped).sum().backward()
assert skipped.grad is None, "an input whose gradient is None keeps .grad None"


# hidden: every Tensor operation, activation and loss differentiates through the engine
def _h_api(fn, arrays, reference, seed, rtol=1e-3, atol=1e-4):
    """fn on Tensors (float32) vs reference on float64 arrays: values and all gradients."""
    arrays = [np.array(a, dtype=np.float32).astype(np.float64) for a in arrays]
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    expected = reference(*arrays)
    if not (isinstance(out, Tensor) and out.data.dtype == np.float32):
        return False
    if not _h_close(out.data, expected, rtol, atol):
        return False
    upstream = np.random.default_rng(seed).standard_normal(np.shape(expected))
    out.backward(gradient=upstream)
    numeric = _h_grads(reference, arrays, upstream, list(range(len(arrays))))
    for i, t in enumerate(tensors):
        if t.grad is None or t.grad.dtype != np.float32:
            return False
        if not _h_close(t.grad, numeric[i], rtol, atol):
            return False
    return len(tensors) == len(arrays)


a34 = rng.standard_normal((3, 4))
col = rng.standard_normal((3, 1))
row = rng.uniform(0.5, 2.0, (1, 4))
vec = rng.standard_normal(4)
api_cases = [
    (lambda a, b: a + b * a - a / b, [col, row], lambda a, b: a + b * a - a / b),
    (lambda a, b: -a - b, [a34, vec], lambda a, b: -a - b),
    (
        lambda a: 2.0 - a + 3.0 * a + 1.5 / (a * a + 1.0),
        [vec],
        lambda a: 2 - a + 3 * a + 1.5 / (a * a + 1),
    ),  # noqa: E501
    (lambda a: np.ones(4) + a * np.full(4, 2.0), [vec], lambda a: 1 + a * 2),
    (lambda a, b: a @ b, [a34, rng.standard_normal((4, 2))], lambda a, b: a @ b),
    (lambda a, b: a.matmul(b), [vec, rng.standard_normal((2, 4, 3))], np.matmul),
    (lambda a: a.reshape(-1).reshape((2, 6)), [a34], lambda a: a.reshape(2, 6)),
    (lambda a: a.transpose() @ a, [a34], lambda a: a.T @ a),
    (
        lambda a: a.T.transpose(0, 1),
        [rng.standard_normal((2, 3, 4))],
        lambda a: np.swapaxes(a.T, 0, 1),
    ),  # noqa: E501
    (
        lambda a: a.sum(axis=1) * a.mean(axis=0, keepdims=True).sum(),
        [a34],
        lambda a: a.sum(axis=1) * a.mean(axis=0, keepdims=True).sum(),
    ),  # noqa: E501
    (lambda a: a.max(axis=-1) + a.max(), [a34], lambda a: a.max(axis=-1) + a.max()),
    (lambda a: a[np.array([2, 0, 2])][:, 1:3], [a34], lambda a: a[np.array([2, 0, 2])][:, 1:3]),
    (lambda a: a[1, 2] * a[-1], [a34], lambda a: a[1, 2] * a[-1]),
]
for index, (fn, arrays, reference) in enumerate(api_cases):
    assert _h_api(fn, arrays, reference, 100 + index), "Tensor operations differentiate"
z = rng.standard_normal((4, 3)) * 2
z = np.where(np.abs(z) < 1e-2, 0.3, z)
module_cases = [
    (activations.ReLU(), lambda v: np.maximum(v, 0)),
    (activations.Sigmoid(), lambda v: 1 / (1 + np.exp(-v))),
    (activations.Tanh(), np.tanh),
    (
        activations.GELU(),
        lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v**3))),
    ),  # noqa: E501
    (activations.Softmax(dim=0), lambda v: np.exp(v) / np.exp(v).sum(axis=0, keepdims=True)),
    (
        lambda v: losses.log_softmax(v, dim=0),
        lambda v: v - np.log(np.exp(v).sum(axis=0, keepdims=True)),
    ),  # noqa: E501
]
for index, (module, reference) in enumerate(module_cases):
    assert _h_api(module, [z], reference, 200 + index), "activations differentiate"
targets = np.array([2.0, 0.0, 1.0, 1.0])
y_soft = rng.uniform(0.0, 1.0, (4, 3))
loss_cases = [
    (lambda p, y: losses.MSELoss()(p, y), [z, -z[::-1]], lambda p, y: np.mean((p - y) ** 2)),
    (
        lambda p: losses.CrossEntropyLoss()(p, [2, 0, 1, 1]),
        [z],
        lambda p: _h_cross_entropy(p, targets),
    ),  # noqa: E501
    (
        lambda p: losses.BinaryCrossEntropyLoss()(activations.Sigmoid()(p), y_soft),
        [z],
        lambda p: _h_bce(1e-7)(1 / (1 + np.exp(-p)), y_soft),
    ),  # noqa: E501
    (
        lambda p: losses.BinaryCrossEntropyLoss(eps=0.3)(p, y_soft),
        [rng.uniform(0.05, 0.95, (4, 3))],
        lambda p: _h_bce(0.3)(p, y_soft),
    ),  # noqa: E501
]
for index, (fn, arrays, reference) in enumerate(loss_cases):
    assert _h_api(fn, arrays, reference, 300 + index), "losses differentiate"
# hidden: a two-layer network matches float64 central differences for every parameter
net_rng = np.random.default_rng(510)
net = layers.Sequential(layers.Linear(3, 5, rng=3), activations.ReLU(), layers.Linear(5, 4, rng=4))
xb = net_rng.standard_normal((7, 3))
yb = np.array([0, 3, 1, 2, 3, 0, 1])
w1, b1, w2, b2 = (p.data.astype(np.float64) for p in net.parameters())
assert np.min(np.abs(xb.astype(np.float32).astype(np.float64) @ w1 + b1)) > 1e-3, "off the kink"


def _h_net_loss(w1, b1, w2, b2):
    hidden = np.maximum(xb.astype(np.float32).astype(np.float64) @ w1 + b1, 0)
    return _h_cross_entropy(hidden @ w2 + b2, yb.astype(np.float64))


net_loss = losses.CrossEntropyLoss()(net(Tensor(xb)), yb)
assert _h_close(net_loss.data, _h_net_loss(w1, b1, w2, b2), 1e-4, 1e-6), "the network's loss"
net_loss.backward()
numeric = numerical_gradients(_h_net_loss, [w1, b1, w2, b2], 1.0)
for p, expected in zip(net.parameters(), numeric, strict=True):
    assert _h_close(p.grad, expected, 1e-3, 1e-5), "every parameter's gradient"
# hidden: dropout's mask multiplies the gradient
drop = layers.Dropout(0.5, rng=5)
xd = Tensor(np.ones((3, 4)), requires_grad=True)
dropped = drop(xd)
(dropped * 2.0).sum().backward()
assert _h_close(xd.grad, (dropped.data != 0) * 4.0), "gradients flow through dropout's mask"
# hidden: the forward semantics and errors of Module 01 are kept
t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
assert _h_close((2 - t).data, 2 - np.arange(6.0).reshape(2, 3)), "reversed subtraction"
assert _h_close((1 / (t + 1)).data, 1 / (np.arange(6.0).reshape(2, 3) + 1)), "reversed division"
assert t.T.shape == (3, 2) and t.reshape(3, -1).shape == (3, 2), "T and reshape with -1"
assert Tensor(np.ones((2, 3, 4))).T.shape == (4, 3, 2), ".T reverses all axes"
assert _h_close(t[1].data, [3.0, 4.0, 5.0]) and t[1, 2].data.shape == (), "indexing"
matmul_error = ""
try:
    t @ Tensor(np.ones((4, 5)))
except ValueError as exc:
    matmul_error = str(exc)
assert "inner dimensions 3 and 4 differ" in matmul_error, "matmul's shape error is kept"
reshape_error = None
try:
    t.reshape(4, -1)
except ValueError as exc:
    reshape_error = exc
assert reshape_error is not None, "reshape's errors are kept"
# hidden: enable_autograd can be called again, and gradcheck checks real operations
enable_autograd()
g1 = Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
g2 = Tensor([[1.0], [-0.5]], requires_grad=True)
assert gradcheck(lambda a, b: (a * b - a / (b * b + 1.0)).max(axis=1), [g1, g2], seed=3)
g3 = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
broken = raised(lambda: gradcheck(lambda a, b: _HOnlyFirst.apply(a, b), [g1, g3]))
assert isinstance(broken, AssertionError), "gradcheck fails on a wrong rule"
### END HIDDEN TESTS

# %% [markdown]
# ## What the graph looks like
#
# Not graded. The cell below builds the neuron from the beginning of the notebook and prints
# its graph in topological order: each tensor, the Function that made it, and its parents.
# Compare it with the picture at the top.

# %%
x = Tensor([1.0, 2.0, 3.0])
y = Tensor([2.0, 4.0, 7.0])
w = Tensor([0.5, 0.5, 0.5], requires_grad=True)
b = Tensor(0.1, requires_grad=True)
r = x * w + b - y
L = (r * r).sum()
names = {id(x): "x", id(y): "y", id(w): "w", id(b): "b", id(r): "r", id(L): "L"}
for i, t in enumerate(topological_order(L)):
    name = names.setdefault(id(t), f"t{i}")
    if t.grad_fn is None:
        print(f"{name:>3} = leaf, shape {t.shape}")
    else:
        parents = ", ".join(names.get(id(p), "const") for p in t.grad_fn.parents)
        print(f"{name:>3} = {t.grad_fn.function.__name__}({parents}), shape {t.shape}")
L.backward()
print(f"\ndL/dw = {w.grad}   (by hand, 2 r x = {2 * r.data * x.data})")
print(f"dL/db = {b.grad:.4f}   (by hand, 2 sum(r) = {2 * r.data.sum():.4f})")

# %% [markdown]
# `x` and `y` are not in the order: they do not require grad, so no gradient has to reach
# them (they show up as parents only). `r` appears once although two arrows leave it; its
# gradient is the sum of both.
#
# ## Systems analysis: graph memory and the cost of checking
#
# Nothing below is graded. These cells measure what you just built; run them and compare
# the numbers with your own predictions before reading the comments. Each cell finishes in
# a few seconds at most.
#
# ### What the graph keeps alive
#
# Every node holds its context, and every context holds the arrays its backward needs:
# `Mul` keeps both inputs, `MatMul` both operands, `ReLU` a mask, `CrossEntropy` the
# softmax. They stay in memory from the forward pass until the graph is dropped, so training
# needs memory for intermediate results on top of the weights. The cell counts what the
# graph of an MNIST-sized MLP (784-256-128-10, cross-entropy) keeps for several batch sizes.
# Arrays saved by several nodes are counted once, and the weights (which the model keeps
# anyway) are counted separately. Predict: which column grows with the batch size, and
# which does not?


# %%
def saved_arrays(root: Tensor) -> dict[int, np.ndarray]:
    """Every array the graph behind `root` keeps for backward, by the id of its buffer."""
    found = {}
    for t in topological_order(root):
        if t.grad_fn is None:
            continue
        ctx = t.grad_fn.ctx
        for value in [*ctx.saved_tensors, *ctx.__dict__.values()]:
            if isinstance(value, np.ndarray):
                base = value if value.base is None else value.base
                found[id(base)] = base
    return found


def mib(n: float) -> str:
    return f"{n / 2**20:.2f}"


mlp = layers.Sequential(
    layers.Linear(784, 256, rng=0),
    activations.ReLU(),
    layers.Linear(256, 128, rng=1),
    activations.ReLU(),
    layers.Linear(128, 10, rng=2),
)
ce = losses.CrossEntropyLoss()
weights = {id(p.data) for p in mlp.parameters()}
weight_bytes = sum(p.memory_footprint() for p in mlp.parameters())
data_rng = np.random.default_rng(0)
print(f"{'batch':>6} {'nodes':>6} {'saved arrays':>13} {'activations MiB':>16} {'weights MiB':>12}")
for batch in [32, 128, 512, 2048]:
    images = Tensor(data_rng.standard_normal((batch, 784)))
    labels = data_rng.integers(0, 10, size=batch)
    loss = ce(mlp(images), labels)
    nodes = sum(t.grad_fn is not None for t in topological_order(loss))
    arrays = saved_arrays(loss)
    activation_bytes = sum(a.nbytes for key, a in arrays.items() if key not in weights)
    print(
        f"{batch:>6} {nodes:>6} {len(arrays):>13} {mib(activation_bytes):>16} "
        f"{mib(weight_bytes):>12}"
    )
with no_grad():
    loss = ce(mlp(images), labels)
print(f"under no_grad(): loss.grad_fn = {loss.grad_fn}, nothing saved")

# %% [markdown]
# The weights take a constant 0.9 MiB, while the saved activations grow linearly with the
# batch and overtake them at a batch of about 200. The largest single item is the batch of
# images itself, which the first `MatMul` keeps because the first weight's gradient is
# $X^T G$. This is the memory that limits batch sizes on a GPU, and the reason inference runs
# under `no_grad()`, which keeps nothing. Two standard remedies trade it for time or
# precision: **gradient checkpointing** keeps only some activations and recomputes the
# others during backward, and **mixed precision** stores them in 16 bits.
#
# ### The price of checking gradients numerically
#
# Backward gets every gradient for roughly the cost of one more forward pass. Central
# differences need **two forward passes per parameter element**. The cell measures a forward
# pass and a forward-plus-backward pass of small MLPs (batch 32), times your `gradcheck` on
# the smallest one, and extrapolates the numerical method to the larger ones, where running
# it would take far too long. Predict the ratio for the last row before you run it.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)


def best_seconds(fn, repeats: int = 7) -> float:
    """The fastest of `repeats` runs of fn(), after one warm-up run: on a shared machine
    the fastest run is the one least disturbed by other programs."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def forward_backward(model, xs, ys):
    for p in model.parameters():
        p.zero_grad()
    ce(model(xs), ys).backward()


def forward_only(model, xs, ys):
    with no_grad():
        ce(model(xs), ys)


header = f"{'MLP':>12} {'parameters':>11} {'forward ms':>11} {'fwd+bwd ms':>11} "
print(header + f"{'numerical s':>12} {'ratio':>11}")
for sizes in [(8, 16, 4), (64, 64, 10), (784, 256, 10), (784, 1024, 10)]:
    d_in, d_hidden, d_out = sizes
    model = layers.Sequential(
        layers.Linear(d_in, d_hidden, rng=0),
        activations.ReLU(),
        layers.Linear(d_hidden, d_out, rng=1),
    )
    xs = Tensor(data_rng.standard_normal((32, d_in)))
    ys = data_rng.integers(0, d_out, size=32)
    n_params = sum(p.size for p in model.parameters())
    t_forward = best_seconds(lambda m=model, a=xs, b=ys: forward_only(m, a, b))
    t_both = best_seconds(lambda m=model, a=xs, b=ys: forward_backward(m, a, b))
    numerical = 2 * n_params * t_forward  # two forward passes per parameter element
    label = "-".join(str(n) for n in sizes)
    print(
        f"{label:>12} {n_params:>11,} {t_forward * 1e3:>11.3f} {t_both * 1e3:>11.3f} "
        f"{numerical:>12.2f} {numerical / t_both:>10,.0f}x"
    )

small = layers.Sequential(
    layers.Linear(8, 16, rng=0), activations.ReLU(), layers.Linear(16, 4, rng=1)
)
xs = Tensor(data_rng.standard_normal((32, 8)))
ys = data_rng.integers(0, 4, size=32)
start = time.perf_counter()
gradcheck(lambda *params: ce(small(xs), ys), small.parameters())
elapsed = time.perf_counter() - start
print(f"\nyour gradcheck of the 8-16-4 MLP (212 parameters, float64): {elapsed:.3f} s")

# %% [markdown]
# The ratio grows with the number of parameters: numerical gradients cost $O(P)$ forward
# passes where backward costs $O(1)$, so already for the 784-1024-10 network the numerical
# method needs minutes where backward needs milliseconds, and for a model with $10^8$
# parameters it would need weeks for a single step. That is the whole case for automatic
# differentiation. Gradient checking stays what it is for: a test, on small tensors, of
# each new backward rule (Module 09 checks its convolution this way).
#
# ## Summary
#
# - `numerical_grad` estimates a gradient by central differences in float64, with an error
#   of order $\varepsilon^2$; `gradcheck` compares it with backward for a **random**
#   upstream gradient, which catches transposed and mis-summed gradients that `.sum()` hides.
# - A `Function` has a `forward` that saves what it needs in a `Context` and a `backward`
#   that returns one gradient per input (a vector-Jacobian product, never the Jacobian).
#   `apply` runs it and records a `Node` in `out.grad_fn`, unless no input requires grad or
#   `no_grad()` is on.
# - Broadcasting in forward is a sum in backward: `unbroadcast`. Matrix products give
#   `G @ B^T` and `A^T @ G`; reshapes, transposes and indexing move the gradient back
#   (`np.add.at` for repeated indices); reductions spread it (divided by $n$ for the mean,
#   to the maxima for max, ties split evenly).
# - Activations and losses have short rules in terms of their outputs: $s(1 - s)$,
#   $1 - t^2$, $s \odot (g - \sum g s)$, and softmax minus one-hot for cross-entropy; a
#   clipped probability gets no gradient.
# - `Tensor.backward` orders the graph topologically without recursion, visits it in
#   reverse, and **adds** the gradients of tensors used more than once; only leaves keep
#   `.grad`, so call `zero_grad` before each step.
# - The graph keeps intermediate arrays alive until backward: memory that grows with the
#   batch size. Numerical gradients cost two forward passes per parameter; backward costs
#   about one.
#
# **Reflection.**
#
# 1. Why does `Sub.backward` need `unbroadcast` for both inputs, but `Neg.backward` for
#    neither?
# 2. `topological_order` only follows parents that require grad. What work would the
#    backward pass waste if it also visited the constants, such as a batch of images?
# 3. A classmate's `CrossEntropy` passes `gradcheck` when the loss is the end of the graph,
#    but training goes wrong when the loss is multiplied by 0.5 first. What did their
#    backward forget to do?
# 4. In Module 06, `optimizer.step()` updates every parameter with `p.data -= lr * p.grad`.
#    Why on `.data` (or under `no_grad()`), and not as `p = p - lr * p.grad`?
