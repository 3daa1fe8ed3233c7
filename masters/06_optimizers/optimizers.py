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
# # Module 06: Optimizers
#
# A network learns by changing its parameters, a little at a time, in the direction that
# makes the loss smaller. Module 05 computes that direction: after `loss.backward()`, every
# parameter `p` carries a gradient `p.grad`, the slope of the loss with respect to each of
# its numbers. This module writes the code that takes the step: the **optimizer**.
#
# The simplest rule, stochastic gradient descent, subtracts a small multiple of the
# gradient. Two ideas improve it and are used to train almost every model today:
# **momentum** (keep moving in the direction you have been moving) and **per-coordinate step
# sizes** (Adam: scale each number's step by how large its gradients usually are). Both need
# memory of the past, the optimizer **state**, and that memory is a large part of what it
# costs to train a model: Adam keeps two extra numbers for every parameter.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - place the optimizer in the training loop: `zero_grad()`, `backward()`, `step()`, and say
#   why the gradients must be cleared before each batch;
# - implement **SGD** with **weight decay** and **momentum**, exactly as PyTorch does;
# - implement **Adam**, including the **bias correction** of its moment estimates, and explain
#   why its first step moves every coordinate by about the learning rate;
# - implement **AdamW** and explain how **decoupled weight decay** differs from adding
#   $\lambda\theta$ to the gradient;
# - save and restore an optimizer's state with `state_dict()` and `load_state_dict()` so
#   that training resumes on exactly the same path;
# - count the **memory** of optimizer state (none for SGD, 1x the parameters with momentum,
#   2x for Adam) and measure the **time** a step takes.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in four class cells. Each spot to fill in is marked with a comment
#   `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstrings are
#   the contract: the formulas, the dtype, the state each optimizer keeps, the errors.
# - Each class cell is followed by its test cell, `test_<task id>`. The asserts you can read
#   there are the **visible tests**: run them as often as you like, and read their messages
#   when they fail.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (ten steps on several parameters of different shapes, other
#   hyper-parameters, parameters that receive no gradient, a learning rate that changes
#   between steps). Expected values are computed in float64 from the formulas in this
#   notebook and compared to 1e-5 relative, 1e-6 absolute. A failing hidden check tells you
#   which behaviour it was about.
# - A test cell earns its points only when every check in it passes. The tests of later
#   tasks use the classes of earlier ones (every optimizer is an `Optimizer`; `AdamW`
#   reuses `Adam`), so work in the order of the table.
# - Anything a test cell writes to stderr counts as a failure: a NumPy `RuntimeWarning`
#   (0 / 0, for instance) zeroes the cell, so keep your methods free of warnings and prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `optimizer_base` | `Optimizer`: checked parameter list, per-parameter state, `zero_grad`, `step` | 3 |
# | `sgd` | `SGD(params, lr, momentum, weight_decay)` | 5 |
# | `adam` | `Adam(params, lr, betas, eps, weight_decay)`, with bias correction | 5 |
# | `adamw` | `AdamW`: Adam with decoupled weight decay | 3 |
# | `optimizer_state` | `state_dict()` and `load_state_dict()`, to checkpoint and resume | 4 |
# | | **total** | **20** |
#
# The two methods of `optimizer_state` live in the `Optimizer` class cell (every optimizer
# inherits them), but their explanation and their test come last, after `AdamW`: the test
# saves and restores the state of all three optimizers.
#
# **No autograd needed.** The tests set `p.grad` by hand (`p.grad = np.array([...])`), so
# the only thing under test is your update rule, and this notebook does not depend on your
# Module 05. The `Tensor` class comes from your Module 01 (`tinytorch.core.tensor`); when
# your work is graded it comes from the course's reference solution.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.optimizers: the rules that update parameters from their gradients.

`Optimizer` is the base class: it holds the parameters and one state dict per parameter,
clears gradients (`zero_grad`) and saves and restores its state (`state_dict`,
`load_state_dict`). Built on it: `SGD` (with momentum and weight decay), `Adam` and
`AdamW` (decoupled weight decay), with PyTorch's update rules. Every `step()` updates each
parameter's float32 `.data` in place and skips parameters whose `.grad` is None.
Written by students in Module 06.
"""

import copy
from collections.abc import Iterable

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]

# %% [markdown]
# The next cell holds helpers that the visible tests use. Run it once; you do not need to
# read it.


# %% kind="locked" id="test_helpers"
def param(values) -> Tensor:
    """A parameter: a float32 Tensor with requires_grad=True holding `values`."""
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def take_step(optimizer, params: list, grads: list, what: str) -> None:
    """Give params[i] a copy of grads[i] as its gradient (None stays None), then call
    optimizer.step(), failing with a clear message if NumPy warns (0 / 0, overflow)."""
    for p, g in zip(params, grads, strict=True):
        p.grad = None if g is None else np.array(g, dtype=np.float64)
    try:
        with np.errstate(all="raise"):
            optimizer.step()
    except FloatingPointError as err:
        raise AssertionError(
            f"{what}: NumPy warned '{err}' during step(). A warning fails a test cell when it "
            "is graded. A division by zero in Adam means eps was left out of the denominator."
        ) from None


def assert_param(p, expected, what: str) -> None:
    """Assert that parameter `p` is a Tensor whose .data is a float32 ndarray with the shape
    and values of `expected` (np.allclose, rtol=1e-5, atol=1e-6, expected in float64)."""
    assert isinstance(p, Tensor), f"{what}: expected a Tensor, got {type(p).__name__}."
    data = getattr(p, "data", None)
    assert type(data) is np.ndarray, (
        f"{what}: .data should be a numpy.ndarray, got {type(data).__name__}."
    )
    assert data.dtype == np.float32, (
        f"{what}: .data.dtype should stay float32, got {data.dtype}. Convert the gradient with "
        ".astype(np.float32) and update in place (p.data -= ...), which keeps the dtype."
    )
    expected = np.asarray(expected, dtype=np.float64)
    assert data.shape == expected.shape, (
        f"{what}: expected shape {expected.shape}, got {data.shape}."
    )
    assert np.allclose(data, expected, rtol=1e-5, atol=1e-6), (
        f"{what}: wrong values.\nexpected:\n{expected}\ngot:\n{data}"
    )


def raised(fn) -> Exception | None:
    """Call fn() and return the exception it raised, or None if it returned normally."""
    try:
        fn()
    except Exception as exc:
        return exc
    return None


# %% [markdown]
# ## Where the optimizer sits in training
#
# Every training loop in this course, and in PyTorch, has the same four lines at its heart:
#
# ```
#   optimizer = SGD(model.parameters(), lr=0.1)
#   for x, y in batches:
#       loss = loss_fn(model(x), y)    # forward: Modules 02-04
#       optimizer.zero_grad()          # forget the previous batch's gradients
#       loss.backward()                # fill p.grad for every parameter: Module 05
#       optimizer.step()               # move every parameter: this module
# ```
#
# The optimizer is given the model's parameters once, at construction: the very Tensors the
# layers hold (Module 03's `parameters()` hands out the objects, not copies). `step()`
# changes their `.data`, so the model sees the new values on its next forward pass without
# being told.
#
# **Why `zero_grad`.** `backward()` *adds* into `.grad` (a parameter used twice in a model
# gets the sum of both contributions), so gradients left over from the last batch would be
# added to this batch's. `zero_grad()` clears them by setting every `p.grad` to `None`, as
# PyTorch does by default (`set_to_none=True`): it frees the arrays, and it lets `step()`
# tell a parameter that received no gradient (`grad is None`, skip it) from one whose
# gradient is zero (update it: momentum may still move it).
#
# ## Task `optimizer_base`: what every optimizer has in common (3 points)
#
# **The parameter list.** `Optimizer(params)` accepts any iterable of Tensors: the list
# from `model.parameters()`, a tuple, a generator. It stores them as a new list,
# `self.params`, in the given order, and rejects what would go wrong later:
#
# | passed | error | why |
# |---|---|---|
# | a single Tensor `w` | `TypeError` | a Tensor is iterable (by rows), so it would be taken for a list of rows; pass `[w]` |
# | an empty iterable | `ValueError` | nothing to optimise: almost always a bug (a model whose `parameters()` found nothing) |
# | an item that is not a Tensor | `TypeError`, naming its position and type | a NumPy array has no `.grad` |
# | the same Tensor twice | `ValueError` | it would be updated twice per step |
#
# **State, one dict per parameter.** Momentum and Adam remember things about each
# parameter between steps. The base class creates `self.state`, a list with one empty dict
# per parameter, in the same order: `self.state[i]` belongs to `self.params[i]`.
#
# ```
#   opt.params = [  W1,    b1,    W2,    b2  ]
#   opt.state  = [  {},    {},    {},    {}  ]        new: nothing remembered yet
#
#   after one Adam step:
#   opt.state[0] = {"step": 1, "exp_avg": <array shaped like W1>, "exp_avg_sq": <same>}
# ```
#
# Each parameter needs its own dict: `[{}] * 4` would put the same dict in all four places.
#
# **`zero_grad()`** sets `p.grad = None` for every parameter. **`step()`** is what each
# optimizer defines for itself; the base class's raises `NotImplementedError` naming the
# subclass, like `Layer.forward` in Module 03.
#
# The class attribute `hyperparameters` (given) lists the names of the attributes that hold
# an optimizer's settings, `("lr", "momentum", "weight_decay")` for SGD; `state_dict()`
# saves them. Leave the two methods at the end of the class, `state_dict` and
# `load_state_dict`, for the last task.


# %% kind="solution" id="optimizer" export=true
class Optimizer:
    """Base class of every optimizer: a list of parameters and one state dict for each.

    Attributes:
        params: list of the Tensors to update, in the order given (the objects themselves).
        state: list of dicts, one per parameter: state[i] holds what the optimizer remembers
            about params[i] (empty until the optimizer stores something).
        hyperparameters: class attribute, the names of the attributes that hold the
            optimizer's settings (saved by state_dict).

    A subclass calls super().__init__(params) first, stores its settings as attributes,
    and defines step(). step() reads p.grad (a NumPy array shaped like p.data, or None:
    skip that parameter) and updates p.data in place, keeping it float32.
    """

    hyperparameters: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor]) -> None:
        """Store the parameters as a new list and create one empty state dict per parameter.

        Args:
            params: an iterable of Tensors (a list, a tuple, a generator).

        Raises:
            TypeError: if params is itself a Tensor (pass [t], or model.parameters()).
            ValueError: if params is empty.
            TypeError: if an item is not a Tensor, naming its position and its type, e.g.
                "Optimizer: parameter 1 is a ndarray, not a Tensor".
            ValueError: if the same Tensor object appears twice (compare with `is`, or id()).

        Afterwards self.params is a new list holding the Tensors themselves, and self.state
        is a list of len(self.params) distinct empty dicts.
        """
        # Task optimizer_base: check params, store them as a list, create the state dicts.
        ### BEGIN SOLUTION
        if isinstance(params, Tensor):
            raise TypeError(
                "Optimizer: params should be an iterable of Tensors, got a single Tensor; "
                "pass [tensor] or model.parameters()"
            )
        params = list(params)
        if not params:
            raise ValueError("Optimizer: got an empty list of parameters, nothing to optimise")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"Optimizer: parameter {i} is a {type(p).__name__}, not a Tensor"
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError(
                "Optimizer: a parameter appears more than once; it would be updated twice"
            )
        self.params = params
        self.state = [{} for _ in params]
        ### END SOLUTION

    def zero_grad(self) -> None:
        """Clear every parameter's gradient: set p.grad to None (PyTorch's set_to_none=True)."""
        # Task optimizer_base: set the gradient of every parameter to None.
        ### BEGIN SOLUTION
        for p in self.params:
            p.grad = None
        ### END SOLUTION

    def step(self) -> None:
        """Update every parameter that has a gradient. Every optimizer defines its own.

        Raises:
            NotImplementedError: always, here in the base class, with a message naming the
                subclass that did not define step, e.g. "Optimizer.step() is not implemented:
                an Optimizer subclass must define step". type(self).__name__ is that name.
        """
        # Task optimizer_base: raise NotImplementedError with a message naming the class.
        ### BEGIN SOLUTION
        raise NotImplementedError(
            f"{type(self).__name__}.step() is not implemented: an Optimizer subclass must "
            "define step"
        )
        ### END SOLUTION

    def state_dict(self) -> dict:
        """Everything needed to resume this optimizer, as plain Python and NumPy values.

        Returns:
            a new dict with two keys:
                "state": a list with a deep copy of each parameter's state dict, in order;
                "hyperparameters": a dict {name: getattr(self, name)} for every name in
                    self.hyperparameters.
            The parameters themselves are not included (the model saves those). The copies
            are independent: changing the returned arrays does not change the optimizer,
            and later steps do not change the returned dict.

        Hint: copy.deepcopy copies a list of dicts of arrays, arrays included.
        """
        # Task optimizer_state: return the deep-copied state and the hyperparameters.
        ### BEGIN SOLUTION
        return {
            "state": copy.deepcopy(self.state),
            "hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
        }
        ### END SOLUTION

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state saved by state_dict() from an optimizer of the same kind.

        Args:
            state_dict: a dict with "state" (one dict per parameter) and "hyperparameters".

        Raises (all checks come first: on an error the optimizer is left unchanged):
            ValueError: if the number of state dicts is not the number of parameters.
            ValueError: if an array in state_dict["state"][i] does not have the shape of
                self.params[i].
            ValueError: if the hyperparameter names are not exactly self.hyperparameters
                (for example, an SGD state loaded into Adam).

        Afterwards self.state is a deep copy of state_dict["state"] (as a list), and each
        hyperparameter attribute is set to its saved value. Changing state_dict later does
        not change the optimizer.
        """
        # Task optimizer_state: check everything, then copy the state in and set the settings.
        ### BEGIN SOLUTION
        state, hyper = state_dict["state"], state_dict["hyperparameters"]
        if len(state) != len(self.params):
            raise ValueError(
                f"load_state_dict: {len(state)} state entries for {len(self.params)} parameters"
            )
        for i, p in enumerate(self.params):
            for key, value in state[i].items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    raise ValueError(
                        f"load_state_dict: state[{i}][{key!r}] has shape {value.shape}, "
                        f"but parameter {i} has shape {p.shape}"
                    )
        if set(hyper) != set(self.hyperparameters):
            raise ValueError(
                f"load_state_dict: hyperparameters {sorted(hyper)} do not match "
                f"{type(self).__name__}'s {sorted(self.hyperparameters)}"
            )
        self.state = copy.deepcopy(list(state))
        for name in self.hyperparameters:
            setattr(self, name, hyper[name])
        ### END SOLUTION


# %% [markdown]
# ### Test `optimizer_base`
#
# The test defines its own tiny optimizer, `SignDescent`, which moves every number by
# `lr` against the sign of its gradient and counts its steps in the state. It uses only what
# the base class provides: `self.params`, `self.state` and the `grad is None` rule.


# %% kind="test" id="test_optimizer_base" points=3
class SignDescent(Optimizer):
    """p -= lr * sign(grad); counts each parameter's updates in state[i]["count"]."""

    hyperparameters = ("lr",)

    def __init__(self, params, lr):
        super().__init__(params)
        self.lr = lr

    def step(self):
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            state["count"] = state.get("count", 0) + 1
            p.data -= self.lr * np.sign(p.grad).astype(np.float32)


class Unfinished(Optimizer):
    """A subclass that forgot to define step."""


w, b = param([[1.0, 2.0], [3.0, 4.0]]), param([0.5, -0.5])
opt = SignDescent([w, b], lr=0.25)
assert type(opt.params) is list and len(opt.params) == 2, (
    f"opt.params should be a list of the 2 parameters, got {opt.params!r}."
)
assert opt.params[0] is w and opt.params[1] is b, (
    "opt.params should hold the parameters themselves (not copies), in the given order."
)
assert type(opt.state) is list and len(opt.state) == 2, (
    f"opt.state should be a list with one dict per parameter, got {opt.state!r}."
)
assert all(type(s) is dict and len(s) == 0 for s in opt.state), (
    f"every state dict should start empty, got {opt.state!r}."
)
assert opt.state[0] is not opt.state[1], (
    "each parameter needs its own state dict: [{}] * n puts one dict in every place; "
    "use [{} for _ in params]."
)

take_step(opt, [w, b], [[[3.0, -1.0], [0.0, 2.0]], None], "SignDescent.step()")
assert_param(w, [[0.75, 2.25], [3.0, 3.75]], "w after one SignDescent step")
assert_param(b, [0.5, -0.5], "b (grad None) after one step")
assert opt.state[0] == {"count": 1} and opt.state[1] == {}, (
    f"the test optimizer's state should be [{{'count': 1}}, {{}}], got {opt.state!r}."
)

w.grad, b.grad = np.ones((2, 2)), np.ones(2)
opt.zero_grad()
assert w.grad is None and b.grad is None, (
    f"zero_grad() should set every p.grad to None, got {w.grad!r} and {b.grad!r}."
)

for bad, kind, what in (
    ([], ValueError, "Optimizer([])"),
    ([w, np.ones(2)], TypeError, "Optimizer([w, np.ones(2)])"),
    ([w, b, w], ValueError, "Optimizer([w, b, w])"),
    (w, TypeError, "Optimizer(w) (a single Tensor)"),
):
    err = raised(lambda bad=bad: Optimizer(bad))
    assert isinstance(err, kind), (
        f"{what} should raise {kind.__name__}, got {type(err).__name__ if err else 'no error'}."
    )
err = raised(lambda: Optimizer([w, np.ones(2)]))
assert "1" in str(err) and "ndarray" in str(err), (
    f"the TypeError should name the position (1) and the type (ndarray), got {str(err)!r}."
)
opt = SignDescent((p for p in (w, b)), lr=0.25)
assert type(opt.params) is list and len(opt.params) == 2 and opt.params[1] is b, (
    "Optimizer((p for p in (w, b))) should accept a generator and store its items as a list."
)
err = raised(lambda: Unfinished([w]).step())
assert isinstance(err, NotImplementedError) and "Unfinished" in str(err), (
    f"step() of a subclass without its own step should raise NotImplementedError naming "
    f"'Unfinished' (type(self).__name__), got {err!r}."
)

### BEGIN HIDDEN TESTS
# hidden: params is a new list of the same Tensors, from any iterable
ts = [param(np.full(shape, float(i))) for i, shape in enumerate([(3,), (2, 2), (), (1, 4, 2)])]
for source in (ts, tuple(ts), (t for t in ts), iter(ts)):
    o = SignDescent(source, 0.1)
    assert type(o.params) is list, "params is stored as a list"
    assert len(o.params) == 4, "every parameter is stored"
    assert all(a is e for a, e in zip(o.params, ts, strict=True)), "params keeps objects in order"
given = list(ts)
o = SignDescent(given, 0.1)
assert o.params is not given, "params is a new list, not the caller's list"
given.append(param([1.0]))
given.pop(0)
assert len(o.params) == 4 and o.params[0] is ts[0], "changing the caller's list changes nothing"
o = SignDescent([ts[2]], 0.1)
assert len(o.params) == 1 and o.params[0] is ts[2], "a single parameter in a list is accepted"
# hidden: state is a list of distinct empty dicts, one per parameter
o = SignDescent(ts, 0.1)
assert type(o.state) is list and len(o.state) == 4, "one state dict per parameter"
assert all(type(s) is dict and not s for s in o.state), "state dicts start empty"
assert len({id(s) for s in o.state}) == 4, "every parameter has its own state dict"
o.state[2]["x"] = 1
assert not o.state[0] and not o.state[3], "state dicts are independent"
# hidden: the checks reject a Tensor, an empty iterable, non-Tensors and repeated Tensors
for bad in ([], (), iter([]), (t for t in [])):
    try:
        Optimizer(bad)
        failed = False
    except ValueError:
        failed = True
    assert failed, "an empty iterable raises ValueError"
for bad, name in (
    ([ts[0], ts[1], np.zeros(3)], "ndarray"),
    ([1.5, ts[0]], "float"),
    ([ts[0], None], "NoneType"),
    ([ts[1], [1.0, 2.0]], "list"),
):
    message = None
    try:
        Optimizer(bad)
    except TypeError as exc:
        message = str(exc)
    assert message is not None, "an item that is not a Tensor raises TypeError"
    assert name in message, "the TypeError names the type of the wrong item"
message = ""
try:
    Optimizer([ts[0], ts[1], ts[2], "weights"])
except TypeError as exc:
    message = str(exc)
assert "3" in message, "the TypeError names the position of the wrong item"
for bad in ([ts[0], ts[0]], [ts[0], ts[1], ts[2], ts[1]], (ts[3], ts[0], ts[3])):
    try:
        Optimizer(bad)
        failed = False
    except ValueError:
        failed = True
    assert failed, "the same Tensor twice raises ValueError"
twins = [param([1.0, 2.0]), param([1.0, 2.0])]
assert len(SignDescent(twins, 0.1).params) == 2, "different Tensors with equal values are fine"
for single in (ts[0], ts[1], param(2.0)):
    try:
        Optimizer(single)
        failed = False
    except TypeError:
        failed = True
    assert failed, "a single Tensor raises TypeError"
# hidden: zero_grad sets every gradient to None and leaves the values alone
for t in ts:
    t.grad = np.ones(t.shape)
ts[1].grad = None
before = [t.data.copy() for t in ts]
o = SignDescent(ts, 0.1)
o.zero_grad()
assert all(t.grad is None for t in ts), "zero_grad sets every grad to None"
assert all(np.array_equal(t.data, v) for t, v in zip(ts, before, strict=True)), (
    "zero_grad does not change the values"
)
o.zero_grad()
assert all(t.grad is None for t in ts), "zero_grad twice is fine"
outside = param([3.0])
outside.grad = np.ones(1)
SignDescent([ts[0]], 0.1).zero_grad()
assert outside.grad is not None, "zero_grad touches only the optimizer's parameters"
# hidden: step of the base class raises NotImplementedError naming the class
for o, name in ((Optimizer(ts), "Optimizer"), (Unfinished(ts[:2]), "Unfinished")):
    message = ""
    try:
        o.step()
    except NotImplementedError as exc:
        message = str(exc)
    assert name in message, "step of the base class raises NotImplementedError naming the class"
### END HIDDEN TESTS
