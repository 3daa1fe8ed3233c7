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
# - Points follow the behaviour that broke. While a task's test cell is graded, the methods
#   of the *other* tasks above it run the course's reference solution: a bug in
#   `Optimizer.__init__` costs the points of `optimizer_base`, not those of every optimizer,
#   and `test_adamw` grades your `AdamW.step` on the course's `_adam_update`.
# - Anything a test cell writes to stderr counts as a failure: a NumPy `RuntimeWarning`
#   (0 / 0, for instance) zeroes the cell, so keep your methods free of warnings and prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `optimizer_base` | `Optimizer`: checked parameters, state dicts, `zero_grad`, `step` | 3 |
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
# ## Checks
#
# The read-only cell below holds what the tests share. Its first part is the same in every
# module: `assert_tensor` checks that a result is a float32 `Tensor` with the expected shape
# and values, `check_close` compares numbers the way `np.allclose` does, `check_equal` tests
# exact equality, and `raised` returns the exception a call raised. Its last part is this
# module's own: `param(values)` makes a parameter, `take_step` gives parameters their
# gradients and calls `step()` with NumPy's warnings turned into a failing assert,
# `assert_param` checks a parameter's values and that they stayed float32, and
# `is_empty_dict` tells an empty state dict from anything else. Run it once; you do not need
# to read it.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = "An update never changes a parameter's shape: update p.data in place."


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
    and values of `expected` (rtol=1e-5, atol=1e-6, expected in float64)."""
    data = getattr(p, "data", None)
    assert not isinstance(data, np.ndarray) or data.dtype == np.float32, (
        f"{what}: .data.dtype should stay float32, got {data.dtype}. Convert the gradient with "
        ".astype(np.float32) and update in place (p.data -= ...), which keeps the dtype."
    )
    assert_tensor(p, expected, what, rtol=1e-5, atol=1e-6)


def is_empty_dict(x) -> bool:
    """True when x is a dict (the built-in type itself) with nothing in it."""
    return type(x) is dict and len(x) == 0


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
# | a single Tensor `w` | `TypeError` | it would be read as a list of its rows; pass `[w]` |
# | an empty iterable | `ValueError` | nothing to optimise: a model without parameters is a bug |
# | an item that is not a Tensor | `TypeError`, naming its position and type | no `.grad` |
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
                raise TypeError(f"Optimizer: parameter {i} is a {type(p).__name__}, not a Tensor")
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
            self.__dict__[name] = hyper[name]  # as self.<name> = saved value
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
assert opt.state[0] == {"count": 1} and is_empty_dict(opt.state[1]), (
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
assert all(check_equal(t.data, v) for t, v in zip(ts, before, strict=True)), (
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


# %% [markdown]
# ## Task `sgd`: gradient descent with weight decay and momentum (5 points)
#
# **Gradient descent.** The gradient $\nabla L(\theta)$ points in the direction in which
# the loss grows fastest, so a small step against it lowers the loss:
#
# $$\theta_t = \theta_{t-1} - \eta\, g_t, \qquad g_t = \nabla L(\theta_{t-1}).$$
#
# $\eta$ is the learning rate, `lr`. "Stochastic" gradient descent only means that $g_t$
# is computed on a batch of data rather than on all of it, so it is a noisy estimate; the
# update rule is the same.
#
# **Weight decay** adds the penalty $\frac{\lambda}{2}\lVert\theta\rVert^2$ to the loss. Its
# gradient is $\lambda\theta$, so the optimizer adds it to the gradient it was given:
#
# $$g_t = \nabla L(\theta_{t-1}) + \lambda\,\theta_{t-1}.$$
#
# Without momentum the step becomes $\theta_t = (1 - \eta\lambda)\,\theta_{t-1} - \eta\nabla
# L$: every step first shrinks each weight by the factor $1 - \eta\lambda$, so weights stay
# small unless the data keeps pushing them out. `weight_decay` is $\lambda$.
#
# **Momentum** keeps a running sum of past gradients in a buffer $b$, one number per
# parameter number, and steps along the buffer instead of the latest gradient:
#
# $$b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t.$$
#
# Unrolled, $b_t = g_t + \mu g_{t-1} + \mu^2 g_{t-2} + \dots$: every past gradient counts,
# weighted down by $\mu$ per step of age. Where the gradients agree from step to step, the
# buffer grows towards $g / (1 - \mu)$, so the steps grow to ten times their size for
# $\mu = 0.9$. Where they flip sign from step to step (zig-zagging across a narrow valley),
# they cancel. A ball rolling down a valley does the same: it gathers speed along the floor
# and the bouncing from wall to wall dies out. With $\mu = 0.9$, $\eta = 0.1$ and the same
# gradient $g = 1$ every step:
#
# ```
#   step t   gradient g_t   buffer b_t = 0.9 b_{t-1} + g_t   update -lr * b_t   theta_t
#     0                                                                          1.000
#     1          1.0         1.00   (first step: b_1 = g_1)        -0.100        0.900
#     2          1.0         0.9 * 1.00 + 1.0 = 1.90               -0.190        0.710
#     3          1.0         0.9 * 1.90 + 1.0 = 2.71               -0.271        0.439
# ```
#
# The buffer starts as a copy of the first gradient, PyTorch's rule (`momentum_buffer`
# is PyTorch's name for it). It is state: it lives in `self.state[i]["momentum_buffer"]`,
# a float32 array shaped like the parameter, created at that parameter's first step. With
# `momentum=0` there is no buffer at all, and the state dicts stay empty.
#
# **Two rules for every optimizer in this notebook:**
#
# - **float32, in place.** `p.grad` may be any float array (the tests use float64), so
#   convert it first: `p.grad.astype(np.float32)`. Then the state and the arithmetic stay
#   float32, and `p.data -= ...` writes the new values into the parameter's own array, as
#   PyTorch's in-place updates do: the same array object, new values, still float32.
#   (`p.data = p.data - ...` would replace the array; anything holding the old one, a NumPy
#   view of the weights for instance, would keep the old values.) Never change `p.grad`.
# - **Read the settings at every step.** Module 07's learning-rate schedule changes
#   `optimizer.lr` between steps; `step()` must use the current value of `self.lr`.
#
# Contract:
#
# - `SGD(params, lr, momentum=0.0, weight_decay=0.0)` checks `lr >= 0`, `momentum >= 0`
#   and `weight_decay >= 0` (`ValueError` naming the setting and its value, e.g.
#   `SGD: lr must be >= 0, got -0.1`), then stores them as floats in `self.lr`,
#   `self.momentum`, `self.weight_decay`;
# - `step()` updates every parameter whose `grad` is not None with the formulas above and
#   leaves the others, and their state, untouched.


# %% kind="solution" id="sgd" export=true
class SGD(Optimizer):
    """Stochastic gradient descent with optional weight decay and momentum (PyTorch's rule).

    For each parameter p with a gradient, at every step:
        g = p.grad + weight_decay * p.data                         (computed in float32)
        with momentum != 0:
            b = g on p's first step, else b = momentum * b + g     (b: state "momentum_buffer")
            g = b
        p.data -= lr * g                                           (in place)

    Attributes:
        lr, momentum, weight_decay: floats, the settings (step() reads them every time).
        state[i]: {"momentum_buffer": float32 array shaped like params[i]} once params[i]
            has been updated with momentum != 0; {} otherwise.
    """

    hyperparameters = ("lr", "momentum", "weight_decay")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        """Check the settings and store them as floats.

        Raises:
            ValueError: if lr < 0, momentum < 0 or weight_decay < 0, naming the setting and
                its value, e.g. "SGD: lr must be >= 0, got -0.1".
        """
        super().__init__(params)
        # Task sgd: check lr, momentum and weight_decay, then store them as floats.
        ### BEGIN SOLUTION
        if not lr >= 0.0:
            raise ValueError(f"SGD: lr must be >= 0, got {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        ### END SOLUTION

    def step(self) -> None:
        """Update every parameter that has a gradient (see the class docstring).

        Parameters whose grad is None are skipped: their values and state stay as they are.
        p.grad itself is never changed. p.data keeps its array object and its float32 dtype.

        Hint: for i, p in enumerate(self.params): state = self.state[i]; ...
        """
        # Task sgd: for each parameter with a gradient, apply weight decay, momentum, update.
        ### BEGIN SOLUTION
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            state = self.state[i]
            g = p.grad.astype(np.float32) + self.weight_decay * p.data
            if self.momentum != 0.0:
                if "momentum_buffer" in state:
                    g = self.momentum * state["momentum_buffer"] + g
                state["momentum_buffer"] = g
            p.data -= self.lr * g
        ### END SOLUTION


# %% [markdown]
# ### Test `sgd`
#
# The visible tests check one plain step, one step with weight decay, the three momentum
# steps of the table above (on a second coordinate too), a parameter without gradient, the
# state and the checks on the settings.


# %% kind="test" id="test_sgd" points=5
p = param([1.0, -2.0, 3.0])
array = p.data
opt = SGD([p], lr=0.1)
take_step(opt, [p], [[0.5, 0.5, -1.0]], "SGD(lr=0.1).step()")
assert_param(p, [0.95, -2.05, 3.1], "p after one SGD step, p - lr * grad")
assert p.data is array, (
    "step() should update p.data in place (p.data -= ...), keeping the same array object; "
    "p.data = p.data - ... replaces it."
)
assert check_equal(p.grad, [0.5, 0.5, -1.0]), "step() should not change p.grad."
assert is_empty_dict(opt.state[0]), f"SGD without momentum keeps no state, got {opt.state!r}."

p = param([1.0, -2.0, 3.0])
take_step(SGD([p], lr=0.1, weight_decay=0.2), [p], [[0.5, 0.5, -1.0]], "SGD weight decay")
assert_param(p, [0.93, -2.01, 3.04], "p after one step with weight_decay=0.2 (grad + wd * p)")

p, frozen = param([1.0, -2.0]), param([7.0])
opt = SGD([p, frozen], lr=0.1, momentum=0.9)
for t, expected in enumerate([[0.9, -1.95], [0.71, -1.855], [0.439, -1.7195]], start=1):
    take_step(opt, [p, frozen], [[1.0, -0.5], None], f"SGD momentum step {t}")
    assert_param(p, expected, f"p after momentum step {t} (see the table)")
assert_param(frozen, [7.0], "a parameter whose grad is None (it should not move)")
assert is_empty_dict(opt.state[1]), (
    f"a parameter whose grad is None gets no state, got {opt.state[1]!r}."
)
buffer = opt.state[0].get("momentum_buffer")
assert type(buffer) is np.ndarray and buffer.dtype == np.float32, (
    f"state[0]['momentum_buffer'] should be a float32 array, got {buffer!r}."
)
assert check_close(buffer, [2.71, -1.355]), (
    f"the momentum buffer after 3 steps should be [2.71, -1.355], got {buffer}."
)

for kwargs in ({"lr": -0.1}, {"lr": 0.1, "momentum": -0.5}, {"lr": 0.1, "weight_decay": -1e-3}):
    err = raised(lambda kwargs=kwargs: SGD([param([1.0])], **kwargs))
    assert isinstance(err, ValueError), (
        f"SGD(params, **{kwargs}) should raise ValueError, got "
        f"{type(err).__name__ if err else 'no error'}."
    )
opt = SGD([param([1.0])], lr=1, momentum=0.5)
assert (opt.lr, opt.momentum, opt.weight_decay) == (1.0, 0.5, 0.0) and type(opt.lr) is float, (
    "SGD should store lr, momentum and weight_decay as floats."
)


### BEGIN HIDDEN TESTS
# hidden: ten steps on several parameters follow the published rule, for several settings
def _sgd_reference(p0s, grads, lrs, momentum, weight_decay):
    """Float64 SGD: the parameters after every step and the final buffers."""
    ps = [np.array(p, dtype=np.float64) for p in p0s]
    bufs = [None] * len(ps)
    history = []
    for lr, gs in zip(lrs, grads, strict=True):
        for i, g in enumerate(gs):
            if g is None:
                continue
            d = g + weight_decay * ps[i]
            if momentum != 0:
                bufs[i] = d if bufs[i] is None else momentum * bufs[i] + d
                d = bufs[i]
            ps[i] = ps[i] - lr * d
        history.append([p.copy() for p in ps])
    return history, bufs


def _run(opt, params, grads, lrs):
    """Set the gradients and step, checking dtype and in-place updates at every step."""
    arrays = [p.data for p in params]
    history = []
    for lr, gs in zip(lrs, grads, strict=True):
        opt.lr = lr
        for p, g in zip(params, gs, strict=True):
            p.grad = None if g is None else g.copy()
        with np.errstate(all="raise"):
            opt.step()
        for p, a, g in zip(params, arrays, gs, strict=True):
            assert p.data is a, "step updates p.data in place"
            assert type(p.data) is np.ndarray, "p.data stays a numpy array"
            assert p.data.dtype == np.float32, "p.data stays float32"
            assert g is None or check_equal(p.grad, g), "step does not change p.grad"
        history.append([p.data.astype(np.float64) for p in params])
    return history


def _close(got, expected):
    return all(
        g.shape == e.shape and check_close(g, e, rtol=1e-5, atol=1e-6)
        for g, e in zip(got, expected, strict=True)
    )


rng = np.random.default_rng(606)
shapes = [(3,), (2, 4), (2, 3, 2)]
scales = [0.1, 1.0, 5.0]
p0s = [rng.normal(size=s).astype(np.float32) for s in shapes]
grads = [[rng.normal(size=s) * c for s, c in zip(shapes, scales, strict=True)] for _ in range(10)]
for lr, momentum, weight_decay in (
    (0.1, 0.0, 0.0),
    (0.05, 0.9, 0.0),
    (0.02, 0.5, 0.1),
    (0.1, 0.0, 0.3),
    (0.03, 0.99, 0.05),
):
    params = [param(p0) for p0 in p0s]
    opt = SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    got = _run(opt, params, grads, [lr] * 10)
    expected, bufs = _sgd_reference(p0s, grads, [lr] * 10, momentum, weight_decay)
    assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
        "every step follows the SGD rule with momentum and weight decay"
    )
    # hidden: the momentum buffer is float32 state shaped like its parameter
    for p, state, ref in zip(params, opt.state, bufs, strict=True):
        if momentum == 0:
            assert is_empty_dict(state), "without momentum SGD keeps no state"
            continue
        buf = state.get("momentum_buffer")
        assert type(buf) is np.ndarray, "the momentum buffer is a numpy array"
        assert buf.dtype == np.float32, "the momentum buffer is float32"
        assert _close([buf], [ref]), "the momentum buffer holds the running sum"
        assert buf is not p.grad and buf is not p.data, "the momentum buffer is its own array"
# hidden: parameters without a gradient are skipped and keep no state
grads_none = [list(gs) for gs in grads]
for t in range(10):
    if t % 3 == 1:
        grads_none[t][0] = None
    if t < 4:
        grads_none[t][2] = None
params = [param(p0) for p0 in p0s]
opt = SGD(params, lr=0.05, momentum=0.8, weight_decay=0.1)
got = _run(opt, params, grads_none, [0.05] * 10)
expected, _ = _sgd_reference(p0s, grads_none, [0.05] * 10, 0.8, 0.1)
assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
    "a parameter without a gradient neither moves nor advances its momentum"
)
idle = param(p0s[1])
busy = param(p0s[0])
opt = SGD([idle, busy], lr=0.1, momentum=0.9, weight_decay=0.5)
_run(opt, [idle, busy], [[None, g[0]] for g in grads[:5]], [0.1] * 5)
assert check_equal(idle.data, p0s[1]), "a parameter that never has a gradient never moves"
assert is_empty_dict(opt.state[0]), "a parameter that never has a gradient gets no state"
# hidden: step reads the learning rate that is current at each step
lrs = [0.1, 0.05, 0.2, 0.0, 0.01, 0.3, 0.1, 0.0, 0.02, 0.15]
for momentum in (0.0, 0.7):
    params = [param(p0) for p0 in p0s]
    opt = SGD(params, lr=0.5, momentum=momentum, weight_decay=0.05)
    got = _run(opt, params, grads, lrs)
    expected, _ = _sgd_reference(p0s, grads, lrs, momentum, 0.05)
    assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
        "step uses the current value of opt.lr"
    )
# hidden: with lr = 0 nothing moves but the momentum buffer still accumulates
params = [param(p0) for p0 in p0s]
opt = SGD(params, lr=0.0, momentum=0.5)
_run(opt, params, grads[:3], [0.0] * 3)
assert all(check_equal(p.data, p0) for p, p0 in zip(params, p0s, strict=True)), (
    "lr = 0 leaves the values unchanged"
)
_, bufs = _sgd_reference(p0s, grads[:3], [0.0] * 3, 0.5, 0.0)
assert _close([s["momentum_buffer"] for s in opt.state], bufs), "lr = 0 still updates the buffer"
# hidden: the buffer does not share memory with a gradient that is changed in place later
p = param([1.0, -1.0, 2.0])
opt = SGD([p], lr=0.1, momentum=0.9)
g32 = np.array([1.0, 2.0, -1.0], dtype=np.float32)
p.grad = g32
for _ in range(3):
    opt.step()
    g32 *= 2.0
seq = [[np.array([1.0, 2.0, -1.0]) * 2.0**k] for k in range(3)]
expected, _ = _sgd_reference([[1.0, -1.0, 2.0]], seq, [0.1] * 3, 0.9, 0.0)
assert _close([p.data.astype(np.float64)], expected[-1]), (
    "the momentum buffer is a copy, not the gradient array itself"
)
# hidden: plain SGD minimises a quadratic bowl, lowering the loss at every step
targets = [rng.normal(size=s) for s in shapes]
curv = [rng.uniform(0.5, 4.0, size=s) for s in shapes]


def _bowl(params):
    return sum(
        0.5 * float(np.sum(a * (p.data - c) ** 2))
        for p, a, c in zip(params, curv, targets, strict=True)
    )


for momentum, lr, steps in ((0.0, 0.2, 30), (0.5, 0.1, 60)):
    params = [param(p0) for p0 in p0s]
    opt = SGD(params, lr=lr, momentum=momentum)
    losses = [_bowl(params)]
    for _ in range(steps):
        for p, a, c in zip(params, curv, targets, strict=True):
            p.grad = a * (p.data - c)
        opt.step()
        losses.append(_bowl(params))
    assert losses[-1] < 1e-3 * losses[0], "SGD minimises a quadratic bowl"
    if momentum == 0:
        assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), (
            "with a small learning rate every SGD step lowers the loss"
        )
# hidden: the settings are checked and stored as floats
for kwargs in (
    {"lr": -1e-9},
    {"lr": -3.0},
    {"lr": 0.1, "momentum": -1e-9},
    {"lr": 0.1, "weight_decay": -1e-9},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": -2.0},
):
    try:
        SGD([param([1.0])], **kwargs)
        failed = False
    except ValueError:
        failed = True
    assert failed, "a negative lr, momentum or weight_decay raises ValueError"
opt = SGD([param([1.0])], lr=0, momentum=0, weight_decay=0)
assert (opt.lr, opt.momentum, opt.weight_decay) == (0.0, 0.0, 0.0), "zero settings are accepted"
opt = SGD([param([1.0])], 0.25, 2, 1)
assert (opt.lr, opt.momentum, opt.weight_decay) == (0.25, 2.0, 1.0), "settings are stored"
assert all(type(v) is float for v in (opt.lr, opt.momentum, opt.weight_decay)), (
    "settings are stored as floats"
)
for bad in ([], [np.ones(2)]):
    try:
        SGD(bad, lr=0.1)
        failed = False
    except (TypeError, ValueError):
        failed = True
    assert failed, "SGD checks its parameters through the base class"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `adam`: a step size for every number (5 points)
#
# SGD uses one learning rate for every number in the model. But gradients differ wildly in
# size: the weights of a rarely active input see tiny gradients, a bias next to the loss
# sees large ones. A learning rate small enough for the steepest direction crawls along the
# flat ones. **Adam** (Kingma and Ba, 2015) divides each number's step by a running
# estimate of the size of its own gradients. It keeps two moving averages per parameter
# number, both starting at 0:
#
# $$m_t = \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \qquad \text{(first moment: the mean
# gradient, a smoothed momentum)}$$
#
# $$v_t = \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \qquad \text{(second moment: the mean
# squared gradient, element-wise)}$$
#
# **Bias correction.** Both averages start at 0, so early on they are too small: after the
# first step $m_1 = (1 - \beta_1) g_1 = 0.1\, g_1$ for $\beta_1 = 0.9$. Dividing by
# $1 - \beta^t$ removes exactly this bias ($t$ counts this parameter's steps, starting at 1):
#
# $$\hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t},
# \qquad \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.$$
#
# ```
#   t                       1        2        5       10      100     1000
#   1 - 0.9^t           0.100    0.190    0.410    0.651    1.000    1.000
#   1 - 0.999^t         0.001    0.002    0.005    0.010    0.095    0.632
# ```
#
# The correction matters most for $v$, whose $\beta_2$ is closer to 1. Without either
# correction the first step would be $\eta \cdot 0.1 / \sqrt{0.001} \approx 3.2\,\eta$
# instead of $\eta$; correcting $m$ but not $v$ would make it about $32\,\eta$.
#
# **What the step looks like.** At $t = 1$, $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so
# every number moves by $-\eta\, g / (|g| + \epsilon) \approx -\eta\,\mathrm{sign}(g)$:
# almost exactly the learning rate, whatever the size of its gradient. Later, a number
# whose gradients keep their sign moves by about $\eta$ per step, and one whose gradients
# are noise (signs that disagree) moves much less, since $\hat m$ averages them out while
# $\sqrt{\hat v}$ does not. Multiplying the loss by 1000 changes (almost) nothing: $\hat m$
# and $\sqrt{\hat v}$ scale together. $\epsilon$ (`eps`, default $10^{-8}$) keeps the
# division finite where the gradient has always been 0: there the step is
# $0/(0 + \epsilon) = 0$.
#
# **Weight decay in Adam** is the L2 kind of SGD: `weight_decay` $\lambda$ is added to the
# gradient, $g_t = \nabla L + \lambda\theta_{t-1}$, before the moments are updated (this is
# what PyTorch's `Adam(weight_decay=...)` does; the next task explains why AdamW exists).
#
# **State.** Per parameter, created at its first step: `"step"` (a Python `int`, this
# parameter's $t$), `"exp_avg"` ($m$) and `"exp_avg_sq"` ($v$), float32 arrays shaped like
# the parameter (`np.zeros_like(p.data)`). These are PyTorch's names. Each parameter counts
# its own steps: a parameter that had no gradient for a while continues from its own $t$.
#
# **Code layout.** `step()` loops over the parameters, skips those without gradient and
# builds $g_t$ (float32, plus the L2 term); the helper `_adam_update(p, g, state)` does the
# rest for one parameter: moments, bias correction, in-place update. `AdamW` (next task)
# calls the same helper with a different $g$.
#
# Contract:
#
# - `Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)` checks
#   `lr >= 0`, `0 <= beta < 1` for both betas, `eps > 0` and `weight_decay >= 0`
#   (`ValueError` naming the setting and value), and stores `self.lr`, `self.betas` (a tuple
#   of two floats), `self.eps`, `self.weight_decay`;
# - `step()` and `_adam_update()` implement the formulas above; as for SGD, the update is
#   in place and float32, `p.grad` is never changed, and the settings are read at every step.


# %% kind="solution" id="adam" export=true
class Adam(Optimizer):
    """Adam with L2 weight decay (PyTorch's torch.optim.Adam rule).

    For each parameter p with a gradient, at every step:
        g = p.grad + weight_decay * p.data            (computed in float32)
        t = t + 1                                     (this parameter's step count)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t),   v_hat = v / (1 - beta2 ** t)
        p.data -= lr * m_hat / (sqrt(v_hat) + eps)    (in place)

    Attributes:
        lr, eps, weight_decay: floats; betas: a tuple of two floats (beta1, beta2).
        state[i]: {"step": int, "exp_avg": m, "exp_avg_sq": v} once params[i] has been
            updated (m and v float32 arrays shaped like params[i]); {} before that.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        """Check the settings and store them (betas as a tuple of two floats).

        Raises:
            ValueError: if lr < 0, a beta is outside [0, 1), eps <= 0 or weight_decay < 0,
                naming the setting and its value, e.g. "Adam: eps must be > 0, got 0.0".
                Use type(self).__name__ in the message: AdamW shares this method.
        """
        super().__init__(params)
        # Task adam: check lr, both betas, eps and weight_decay; store them.
        ### BEGIN SOLUTION
        name = type(self).__name__
        if not lr >= 0.0:
            raise ValueError(f"{name}: lr must be >= 0, got {lr}")
        for beta in betas:
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: betas must be in [0, 1), got {betas}")
        if not eps > 0.0:
            raise ValueError(f"{name}: eps must be > 0, got {eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"{name}: weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        ### END SOLUTION

    def _adam_update(self, p: Tensor, g: np.ndarray, state: dict) -> None:
        """One Adam update of parameter p with the float32 gradient g, using its state dict.

        On p's first update, creates state["step"] = 0 and zero float32 arrays
        state["exp_avg"], state["exp_avg_sq"] shaped like p.data. Then: increments
        state["step"], updates both moments (store the new arrays in state), applies the
        bias correction and updates p.data in place (see the class docstring).
        """
        # Task adam: moments, bias correction and the in-place update for one parameter.
        ### BEGIN SOLUTION
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = self.betas
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = state["exp_avg"] / (1 - beta1**t)
        v_hat = state["exp_avg_sq"] / (1 - beta2**t)
        p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION

    def step(self) -> None:
        """Update every parameter that has a gradient; skip those whose grad is None.

        For each: g = p.grad as float32 + weight_decay * p.data, then
        self._adam_update(p, g, self.state[i]).
        """
        # Task adam: build g for each parameter with a gradient and call _adam_update.
        ### BEGIN SOLUTION
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad.astype(np.float32) + self.weight_decay * p.data
            self._adam_update(p, g, self.state[i])
        ### END SOLUTION


# %% [markdown]
# ### Test `adam`
#
# Two steps by hand, with $\eta = 0.1$ and the default betas, on a parameter with three
# numbers whose gradients differ in size by a factor of 4000. Step 1 moves every number by
# about $0.1$, as promised. At step 2 the first number's gradient has flipped sign:
# $\hat m = (0.9 \cdot 0.03 + 0.1 \cdot (-0.3)) / 0.19 = -0.0158$, small, so that number
# moves back by only $0.1 \cdot 0.0158 / 0.3 = 0.0053$.


# %% kind="test" id="test_adam" points=5
p, frozen = param([1.0, -2.0, 0.5]), param([[3.0]])
array = p.data
opt = Adam([p, frozen], lr=0.1)
take_step(opt, [p, frozen], [[0.3, -4.0, 0.001], None], "Adam(lr=0.1) step 1")
assert_param(p, [0.9, -1.9, 0.400001], "p after Adam step 1 (each number moves by about lr)")
assert p.data is array, "step() should update p.data in place (p.data -= ...)."
state = opt.state[0]
assert sorted(state) == ["exp_avg", "exp_avg_sq", "step"], (
    f"Adam's state for a parameter should have the keys 'step', 'exp_avg', 'exp_avg_sq', got "
    f"{sorted(state)}."
)
assert type(state["step"]) is int and state["step"] == 1, (
    f"state['step'] should be the int 1 after one step, got {state['step']!r}."
)
for key, expected in (("exp_avg", [0.03, -0.4, 1e-4]), ("exp_avg_sq", [9e-5, 0.016, 1e-9])):
    value = state[key]
    assert type(value) is np.ndarray and value.dtype == np.float32, (
        f"state[{key!r}] should be a float32 array, got {value!r}."
    )
    assert check_close(value, expected, rtol=1e-5, atol=1e-12), (
        f"state[{key!r}] after step 1 should be {expected}, got {value}."
    )
assert is_empty_dict(opt.state[1]), (
    f"a parameter whose grad is None gets no state, got {opt.state[1]!r}."
)

take_step(opt, [p, frozen], [[-0.3, -2.0, 0.002], None], "Adam(lr=0.1) step 2")
assert_param(p, [0.90526316, -1.80678204, 0.30348341], "p after Adam step 2")
assert_param(frozen, [[3.0]], "a parameter whose grad is None (it should not move)")

opt = Adam([param([1.0])])
assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0), (
    "Adam's defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0."
)
for kwargs in ({"lr": -0.1}, {"betas": (1.0, 0.999)}, {"betas": (0.9, 1.0)}, {"eps": 0.0}):
    err = raised(lambda kwargs=kwargs: Adam([param([1.0])], **kwargs))
    assert isinstance(err, ValueError), (
        f"Adam(params, **{kwargs}) should raise ValueError, got "
        f"{type(err).__name__ if err else 'no error'}."
    )


### BEGIN HIDDEN TESTS
# hidden: ten steps on several parameters follow the published rule, for several settings
def _adam_reference(p0s, grads, lrs, betas, eps, weight_decay, decoupled):
    """Float64 Adam (decoupled=False) or AdamW (decoupled=True): history and moments."""
    b1, b2 = betas
    ps = [np.array(p, dtype=np.float64) for p in p0s]
    ms = [np.zeros_like(p) for p in ps]
    vs = [np.zeros_like(p) for p in ps]
    ts = [0] * len(ps)
    history = []
    for lr, gs in zip(lrs, grads, strict=True):
        for i, g in enumerate(gs):
            if g is None:
                continue
            if decoupled:
                ps[i] = ps[i] * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * ps[i]
            ts[i] += 1
            ms[i] = b1 * ms[i] + (1 - b1) * g
            vs[i] = b2 * vs[i] + (1 - b2) * g**2
            m_hat = ms[i] / (1 - b1 ** ts[i])
            v_hat = vs[i] / (1 - b2 ** ts[i])
            ps[i] = ps[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([p.copy() for p in ps])
    return history, ts, ms, vs


def _run(opt, params, grads, lrs):
    """Set the gradients and step, checking dtype and in-place updates at every step."""
    arrays = [p.data for p in params]
    history = []
    for lr, gs in zip(lrs, grads, strict=True):
        opt.lr = lr
        for p, g in zip(params, gs, strict=True):
            p.grad = None if g is None else g.copy()
        with np.errstate(all="raise"):
            opt.step()
        for p, a, g in zip(params, arrays, gs, strict=True):
            assert p.data is a, "step updates p.data in place"
            assert type(p.data) is np.ndarray, "p.data stays a numpy array"
            assert p.data.dtype == np.float32, "p.data stays float32"
            assert g is None or check_equal(p.grad, g), "step does not change p.grad"
        history.append([p.data.astype(np.float64) for p in params])
    return history


def _close(got, expected):
    return all(
        g.shape == e.shape and check_close(g, e, rtol=1e-5, atol=1e-6)
        for g, e in zip(got, expected, strict=True)
    )


def _check_state(opt, ts, ms, vs):
    for i, p in enumerate(opt.params):
        state = opt.state[i]
        if ts[i] == 0:
            assert is_empty_dict(state), "a parameter that was never updated has no state"
            continue
        assert sorted(state) == ["exp_avg", "exp_avg_sq", "step"], "the state has three keys"
        assert type(state["step"]) is int and state["step"] == ts[i], "step counts updates"
        for key, ref in (("exp_avg", ms[i]), ("exp_avg_sq", vs[i])):
            value = state[key]
            assert type(value) is np.ndarray, "the moments are numpy arrays"
            assert value.dtype == np.float32, "the moments are float32"
            assert value.shape == p.shape, "the moments are shaped like the parameter"
            assert check_close(value, ref, rtol=1e-4, atol=1e-9), "the moments follow the rule"


rng = np.random.default_rng(707)
shapes = [(4,), (3, 2), (2, 2, 3)]
scales = [0.01, 1.0, 30.0]
p0s = [rng.normal(size=s).astype(np.float32) for s in shapes]
grads = [[rng.normal(size=s) * c for s, c in zip(shapes, scales, strict=True)] for _ in range(10)]
for gs in grads:
    gs[1][0, 1] = 0.0  # one number that never gets a gradient
for lr, betas, eps, weight_decay in (
    (0.1, (0.9, 0.999), 1e-8, 0.0),
    (0.01, (0.5, 0.9), 1e-8, 0.0),
    (0.05, (0.0, 0.99), 0.1, 0.0),
    (0.2, (0.8, 0.0), 1e-6, 0.0),
    (0.05, (0.9, 0.999), 1e-8, 0.3),
    (0.03, (0.7, 0.95), 0.5, 0.1),
):
    params = [param(p0) for p0 in p0s]
    opt = Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    got = _run(opt, params, grads, [lr] * 10)
    expected, ts, ms, vs = _adam_reference(
        p0s, grads, [lr] * 10, betas, eps, weight_decay, decoupled=False
    )
    assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
        "every step follows the Adam rule with bias correction and L2 weight decay"
    )
    # hidden: the state holds the step count and both moments, float32
    _check_state(opt, ts, ms, vs)
# hidden: a number whose gradient is always zero does not move (eps keeps it finite)
params = [param(p0) for p0 in p0s]
opt = Adam(params, lr=0.1)
_run(opt, params, grads, [0.1] * 10)
assert params[1].data[0, 1] == p0s[1][0, 1], "a number with zero gradient stays where it is"
# hidden: each parameter counts its own steps; parameters without a gradient are skipped
grads_none = [list(gs) for gs in grads]
for t in range(10):
    if t % 3 == 1:
        grads_none[t][0] = None
    if t < 5:
        grads_none[t][2] = None
for weight_decay in (0.0, 0.2):
    params = [param(p0) for p0 in p0s]
    opt = Adam(params, lr=0.05, betas=(0.8, 0.9), weight_decay=weight_decay)
    got = _run(opt, params, grads_none, [0.05] * 10)
    expected, ts, ms, vs = _adam_reference(
        p0s, grads_none, [0.05] * 10, (0.8, 0.9), 1e-8, weight_decay, decoupled=False
    )
    assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
        "a parameter without a gradient neither moves nor advances its step count"
    )
    _check_state(opt, ts, ms, vs)
idle = param(p0s[1])
opt = Adam([param(p0s[0]), idle], lr=0.1, weight_decay=0.5)
_run(opt, opt.params, [[g[0], None] for g in grads[:4]], [0.1] * 4)
assert check_equal(idle.data, p0s[1]), "a parameter that never has a gradient never moves"
assert is_empty_dict(opt.state[1]), "a parameter that never has a gradient gets no state"
# hidden: step reads the learning rate that is current at each step
lrs = [0.1, 0.05, 0.2, 0.0, 0.01, 0.3, 0.1, 0.0, 0.02, 0.15]
params = [param(p0) for p0 in p0s]
opt = Adam(params, lr=0.5, weight_decay=0.05)
got = _run(opt, params, grads, lrs)
expected, ts, ms, vs = _adam_reference(p0s, grads, lrs, (0.9, 0.999), 1e-8, 0.05, decoupled=False)
assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
    "step uses the current value of opt.lr"
)
# hidden: scaling every gradient by a constant leaves the steps almost unchanged
params_a, params_b = [param(p0) for p0 in p0s], [param(p0) for p0 in p0s]
got_a = _run(Adam(params_a, lr=0.05), params_a, grads, [0.05] * 10)
scaled = [[g * 1000.0 for g in gs] for gs in grads]
got_b = _run(Adam(params_b, lr=0.05), params_b, scaled, [0.05] * 10)
assert _close(got_a[-1], got_b[-1]), "Adam's steps do not depend on the scale of the gradients"
# hidden: Adam minimises an ill-conditioned quadratic bowl
targets = [rng.normal(size=s) for s in shapes]
curv = [rng.uniform(0.01, 100.0, size=s) for s in shapes]


def _bowl(params):
    return sum(
        0.5 * float(np.sum(a * (p.data - c) ** 2))
        for p, a, c in zip(params, curv, targets, strict=True)
    )


params = [param(p0) for p0 in p0s]
opt = Adam(params, lr=0.05)
losses = [_bowl(params)]
for _ in range(300):
    for p, a, c in zip(params, curv, targets, strict=True):
        p.grad = a * (p.data - c)
    opt.step()
    losses.append(_bowl(params))
assert losses[-1] < 1e-2 * losses[0], "Adam minimises a quadratic bowl"
assert max(losses[-50:]) < min(losses[:10]), "Adam's loss goes down over time"
# hidden: the settings are checked and stored
for kwargs in (
    {"lr": -1e-9},
    {"betas": (-0.1, 0.999)},
    {"betas": (0.9, -1e-9)},
    {"betas": (1.0, 0.5)},
    {"betas": (0.5, 1.0)},
    {"betas": (1.5, 2.0)},
    {"eps": 0.0},
    {"eps": -1e-8},
    {"weight_decay": -1e-9},
):
    try:
        Adam([param([1.0])], **kwargs)
        failed = False
    except ValueError:
        failed = True
    assert failed, "an lr, beta, eps or weight_decay out of range raises ValueError"


# hidden: the errors name the optimizer's own class (AdamW shares Adam's checks) and the setting
class _HAdamLike(Adam):
    pass


for kwargs, setting in (
    ({"lr": -0.5}, "lr"),
    ({"betas": (0.9, 1.5)}, "betas"),
    ({"eps": 0.0}, "eps"),
    ({"weight_decay": -1.0}, "weight_decay"),
):
    message = ""
    try:
        _HAdamLike([param([1.0])], **kwargs)
    except ValueError as exc:
        message = str(exc)
    assert "_HAdamLike" in message, "the message names type(self).__name__"
    assert setting in message, "the message names the setting"
opt = Adam([param([1.0])], lr=0, betas=(0, 0), eps=1e-30, weight_decay=0)
assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (0.0, (0.0, 0.0), 1e-30, 0.0), (
    "boundary settings are accepted"
)
opt = Adam([param([1.0])], 0.25, [0.5, 0.75], 0.125, 2)
assert type(opt.betas) is tuple and opt.betas == (0.5, 0.75), "betas are stored as a tuple"
assert (opt.lr, opt.eps, opt.weight_decay) == (0.25, 0.125, 2.0), "settings are stored"
assert all(type(v) is float for v in (opt.lr, opt.eps, opt.weight_decay, *opt.betas)), (
    "settings are stored as floats"
)
### END HIDDEN TESTS


# %% [markdown]
# ## Task `adamw`: decoupled weight decay (3 points)
#
# In SGD, adding $\lambda\theta$ to the gradient and shrinking the weights by
# $1 - \eta\lambda$ per step are the same thing. In Adam they are not: the term
# $\lambda\theta$ goes into $m$ and $v$, and the step divides it by $\sqrt{\hat v}$. A
# weight whose gradients are large (large $\sqrt{\hat v}$) is hardly decayed at all, and a
# weight with tiny gradients is pulled to zero at about $\eta$ per step, whatever its
# size. Loshchilov and Hutter (2019) argued that this coupling explains much of why Adam
# with L2 often generalised worse than SGD with momentum, and proposed to **decouple** the
# decay from the gradient:
#
# $$\theta \leftarrow \theta\,(1 - \eta\lambda), \qquad \text{then the Adam step with }
# g_t = \nabla L \text{ (no } \lambda\theta \text{ term)}.$$
#
# Every weight now shrinks by the same factor per step, and the moments see only the
# loss's gradient. AdamW is the optimizer most transformer training recipes use
# (nanoGPT's, for instance).
#
# Take a parameter whose gradient is always 0 (a weight the data no longer cares about):
#
# ```
#   Adam, weight_decay = lambda     g = lambda * theta, so each step moves theta by about
#                                   lr * sign(theta): a fixed distance, whatever its size
#   AdamW, weight_decay = lambda    theta * (1 - lr * lambda) each step, then an Adam step
#                                   of 0 / (0 + eps) = 0: a fixed fraction
# ```
#
# Order and scope, as in PyTorch: the decay comes **before** the Adam update, applies
# only to parameters that have a gradient this step, and uses the current `lr`. The
# default `weight_decay` is `0.01` (PyTorch's), not 0.
#
# Contract: `AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)` is
# an `Adam` (its `__init__`, checks and state are inherited); you write its `step()`,
# which for each parameter with a gradient shrinks `p.data` in place and then calls
# `self._adam_update(p, g, self.state[i])` with the float32 gradient alone.


# %% kind="solution" id="adamw" export=true
class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's torch.optim.AdamW rule).

    For each parameter p with a gradient, at every step:
        p.data *= 1 - lr * weight_decay               (in place, before the Adam update)
        g = p.grad                                    (as float32; no weight-decay term)
        then the Adam update of p with g (Adam._adam_update).

    Same settings, checks and state as Adam; the default weight_decay is 0.01.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        """Adam's constructor with AdamW's default weight_decay (given, nothing to write)."""
        super().__init__(params, lr, betas, eps, weight_decay)

    def step(self) -> None:
        """Shrink, then Adam-update, every parameter that has a gradient; skip the others."""
        # Task adamw: decay each parameter with a gradient in place, then call _adam_update.
        ### BEGIN SOLUTION
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            p.data *= 1 - self.lr * self.weight_decay
            self._adam_update(p, p.grad.astype(np.float32), self.state[i])
        ### END SOLUTION


# %% [markdown]
# ### Test `adamw`
#
# One step by hand: $\theta = [2, -1]$, $g = [1, 1]$, $\eta = 0.1$, $\lambda = 0.5$. The
# decay multiplies by $1 - 0.05 = 0.95$, giving $[1.9, -0.95]$; the first Adam step then
# subtracts $0.1 \cdot \mathrm{sign}(g)$: $[1.8, -1.05]$. Then the zero-gradient case of the
# table above, three steps of each optimizer from $\theta = [4, -0.5]$ with $\eta = 0.1$,
# $\lambda = 0.5$: AdamW multiplies both numbers by $0.95^3 \approx 0.857$ (to $3.43$ and
# $-0.43$), while Adam with L2 moves both by about $0.3$ (to $3.70$ and $-0.20$), which is
# less than a tenth of the large weight but most of the small one.


# %% kind="test" id="test_adamw" points=3
p = param([2.0, -1.0])
array = p.data
opt = AdamW([p], lr=0.1, weight_decay=0.5)
take_step(opt, [p], [[1.0, 1.0]], "AdamW(lr=0.1, weight_decay=0.5) step 1")
assert_param(p, [1.8, -1.05], "p after one AdamW step (decay first, then the Adam step)")
assert p.data is array, "step() should update p.data in place (p.data *= ..., p.data -= ...)."
assert isinstance(opt, Adam) and opt.weight_decay == 0.5, "AdamW is an Adam with its settings."
assert check_close(opt.state[0]["exp_avg"], [0.1, 0.1]), (
    f"AdamW's moments should see the gradient alone: exp_avg after one step should be "
    f"0.1 * g = [0.1, 0.1], got {opt.state[0]['exp_avg']}. Do not add weight_decay * p to g."
)

p_adamw, p_adam = param([4.0, -0.5]), param([4.0, -0.5])
adamw = AdamW([p_adamw], lr=0.1, weight_decay=0.5)
adam = Adam([p_adam], lr=0.1, weight_decay=0.5)
for t in range(1, 4):
    take_step(adamw, [p_adamw], [[0.0, 0.0]], f"AdamW step {t} with zero gradient")
    take_step(adam, [p_adam], [[0.0, 0.0]], f"Adam step {t} with zero gradient")
assert_param(p_adamw, [4.0 * 0.95**3, -0.5 * 0.95**3], "AdamW, zero gradient: theta * 0.95^3")
assert_param(
    p_adam, [3.70027385, -0.20487126], "Adam with L2, zero gradient: about lr per step towards 0"
)

assert AdamW([param([1.0])]).weight_decay == 0.01, "AdamW's default weight_decay is 0.01."
frozen = param([5.0])
take_step(AdamW([frozen], lr=0.1, weight_decay=0.5), [frozen], [None], "AdamW, grad None")
assert_param(frozen, [5.0], "a parameter whose grad is None (no decay either)")


### BEGIN HIDDEN TESTS
# hidden: ten steps on several parameters follow the published AdamW rule
def _adam_reference(p0s, grads, lrs, betas, eps, weight_decay, decoupled):
    """Float64 Adam (decoupled=False) or AdamW (decoupled=True): history and moments."""
    b1, b2 = betas
    ps = [np.array(p, dtype=np.float64) for p in p0s]
    ms = [np.zeros_like(p) for p in ps]
    vs = [np.zeros_like(p) for p in ps]
    ts = [0] * len(ps)
    history = []
    for lr, gs in zip(lrs, grads, strict=True):
        for i, g in enumerate(gs):
            if g is None:
                continue
            if decoupled:
                ps[i] = ps[i] * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * ps[i]
            ts[i] += 1
            ms[i] = b1 * ms[i] + (1 - b1) * g
            vs[i] = b2 * vs[i] + (1 - b2) * g**2
            m_hat = ms[i] / (1 - b1 ** ts[i])
            v_hat = vs[i] / (1 - b2 ** ts[i])
            ps[i] = ps[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([p.copy() for p in ps])
    return history, ts, ms, vs


def _run(opt, params, grads, lrs):
    """Set the gradients and step, checking dtype and in-place updates at every step."""
    arrays = [p.data for p in params]
    history = []
    for lr, gs in zip(lrs, grads, strict=True):
        opt.lr = lr
        for p, g in zip(params, gs, strict=True):
            p.grad = None if g is None else g.copy()
        with np.errstate(all="raise"):
            opt.step()
        for p, a, g in zip(params, arrays, gs, strict=True):
            assert p.data is a, "step updates p.data in place"
            assert type(p.data) is np.ndarray, "p.data stays a numpy array"
            assert p.data.dtype == np.float32, "p.data stays float32"
            assert g is None or check_equal(p.grad, g), "step does not change p.grad"
        history.append([p.data.astype(np.float64) for p in params])
    return history


def _close(got, expected):
    return all(
        g.shape == e.shape and check_close(g, e, rtol=1e-5, atol=1e-6)
        for g, e in zip(got, expected, strict=True)
    )


def _check_state(opt, ts, ms, vs):
    for i, p in enumerate(opt.params):
        state = opt.state[i]
        if ts[i] == 0:
            assert is_empty_dict(state), "a parameter that was never updated has no state"
            continue
        assert sorted(state) == ["exp_avg", "exp_avg_sq", "step"], "the state has three keys"
        assert type(state["step"]) is int and state["step"] == ts[i], "step counts updates"
        for key, ref in (("exp_avg", ms[i]), ("exp_avg_sq", vs[i])):
            value = state[key]
            assert type(value) is np.ndarray, "the moments are numpy arrays"
            assert value.dtype == np.float32, "the moments are float32"
            assert value.shape == p.shape, "the moments are shaped like the parameter"
            assert check_close(value, ref, rtol=1e-4, atol=1e-9), "the moments follow the rule"


rng = np.random.default_rng(808)
shapes = [(5,), (2, 3), (3, 1, 2)]
scales = [0.05, 2.0, 10.0]
p0s = [(rng.normal(size=s) * 2.0).astype(np.float32) for s in shapes]
grads = [[rng.normal(size=s) * c for s, c in zip(shapes, scales, strict=True)] for _ in range(10)]
for gs in grads:
    gs[0][2] = 0.0  # one number that never gets a gradient: decay alone moves it
for lr, betas, eps, weight_decay in (
    (0.1, (0.9, 0.999), 1e-8, 0.01),
    (0.05, (0.9, 0.999), 1e-8, 0.5),
    (0.2, (0.5, 0.9), 0.1, 0.2),
    (0.01, (0.0, 0.99), 1e-8, 1.0),
    (0.1, (0.8, 0.95), 1e-8, 0.0),
):
    params = [param(p0) for p0 in p0s]
    opt = AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    got = _run(opt, params, grads, [lr] * 10)
    expected, ts, ms, vs = _adam_reference(
        p0s, grads, [lr] * 10, betas, eps, weight_decay, decoupled=True
    )
    assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
        "every step decays by (1 - lr * weight_decay), then takes the Adam step"
    )
    # hidden: the moments see the gradient alone, float32
    _check_state(opt, ts, ms, vs)
# hidden: parameters without a gradient are neither decayed nor updated
grads_none = [list(gs) for gs in grads]
for t in range(10):
    if t % 2 == 0:
        grads_none[t][1] = None
    if t < 6:
        grads_none[t][2] = None
params = [param(p0) for p0 in p0s]
opt = AdamW(params, lr=0.1, weight_decay=0.3)
got = _run(opt, params, grads_none, [0.1] * 10)
expected, ts, ms, vs = _adam_reference(
    p0s, grads_none, [0.1] * 10, (0.9, 0.999), 1e-8, 0.3, decoupled=True
)
assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
    "a parameter without a gradient is neither decayed nor updated, and keeps its step count"
)
_check_state(opt, ts, ms, vs)
idle = param(p0s[1])
opt = AdamW([param(p0s[0]), idle], lr=0.1, weight_decay=0.9)
_run(opt, opt.params, [[g[0], None] for g in grads[:4]], [0.1] * 4)
assert check_equal(idle.data, p0s[1]), "a parameter that never has a gradient never moves"
assert is_empty_dict(opt.state[1]), "a parameter that never has a gradient gets no state"
# hidden: the decay uses the learning rate that is current at each step
lrs = [0.1, 0.05, 0.2, 0.0, 0.01, 0.3, 0.1, 0.0, 0.02, 0.15]
params = [param(p0) for p0 in p0s]
opt = AdamW(params, lr=0.5, weight_decay=0.4)
got = _run(opt, params, grads, lrs)
expected, ts, ms, vs = _adam_reference(p0s, grads, lrs, (0.9, 0.999), 1e-8, 0.4, decoupled=True)
assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
    "step uses the current value of opt.lr"
)
# hidden: with zero gradients AdamW shrinks every weight by the same factor
p = param(p0s[2])
opt = AdamW([p], lr=0.05, weight_decay=0.2)
_run(opt, [p], [[np.zeros(shapes[2])] for _ in range(6)], [0.05] * 6)
assert _close([p.data.astype(np.float64)], [p0s[2] * 0.99**6]), "decay alone is geometric"
# hidden: AdamW minimises a quadratic bowl
targets = [rng.normal(size=s) for s in shapes]
curv = [rng.uniform(0.05, 20.0, size=s) for s in shapes]


def _bowl(params):
    return sum(
        0.5 * float(np.sum(a * (p.data - c) ** 2))
        for p, a, c in zip(params, curv, targets, strict=True)
    )


params = [param(p0) for p0 in p0s]
opt = AdamW(params, lr=0.05, weight_decay=0.001)
losses = [_bowl(params)]
for _ in range(300):
    for p, a, c in zip(params, curv, targets, strict=True):
        p.grad = a * (p.data - c)
    opt.step()
    losses.append(_bowl(params))
assert losses[-1] < 1e-2 * losses[0], "AdamW minimises a quadratic bowl"
# hidden: AdamW checks its settings like Adam and keeps its own default
for kwargs in ({"lr": -0.5}, {"betas": (0.9, 1.0)}, {"eps": 0.0}, {"weight_decay": -0.01}):
    try:
        AdamW([param([1.0])], **kwargs)
        failed = False
    except ValueError:
        failed = True
    assert failed, "AdamW checks its settings"
opt = AdamW([param([1.0])], lr=0.3, betas=(0.6, 0.7), eps=0.01, weight_decay=0.0)
assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (0.3, (0.6, 0.7), 0.01, 0.0), (
    "AdamW stores its settings"
)
### END HIDDEN TESTS


# %% [markdown]
# ## Task `optimizer_state`: checkpoint and resume (4 points)
#
# Training a real model takes hours or days, and jobs get interrupted. A checkpoint
# (Module 07) saves the model's parameters **and the optimizer's state**. Without the
# second, a resumed Adam starts again from $m = v = 0$ and $t = 1$: its first steps move
# every number by about the learning rate, whatever it had learned about their gradients,
# and the loss jumps. A resumed SGD loses its momentum. With the state saved, the resumed
# run continues on exactly the path the uninterrupted one would have taken.
#
# **The format.** `state_dict()` returns plain data, with no reference to the optimizer or
# to the parameters, so that any serialiser (pickle, `np.savez`) can store it:
#
# ```
#   adam.state_dict() == {
#       "state": [                                    one dict per parameter, in order
#           {"step": 3, "exp_avg": array(...), "exp_avg_sq": array(...)},
#           {},                                       a parameter not updated yet
#       ],
#       "hyperparameters": {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08,
#                           "weight_decay": 0.0},
#   }
# ```
#
# The names in `hyperparameters` are the class attribute `self.hyperparameters`; the values
# are the attributes themselves, `getattr(self, name)`. The settings belong in the
# checkpoint because they change during training: a learning-rate schedule lowers `lr` as
# it goes. PyTorch's format is the same idea (its `"state"` is keyed by parameter index and
# its settings sit in `"param_groups"`). The parameters are not included: they belong to
# the model, which saves them itself.
#
# **Copies, both ways.** The returned state must not share arrays with the optimizer, or
# later steps could change a checkpoint that was already "saved" (an optimizer that updates
# its buffers in place, as PyTorch's do, would rewrite it at every step), and editing the
# checkpoint would change the optimizer. `copy.deepcopy` copies a list of dicts of arrays
# all the way down. `load_state_dict` copies too, for the same reason.
#
# **Checks before changes.** `load_state_dict` refuses a state that cannot belong to this
# optimizer, with a `ValueError`: a different number of state dicts than parameters (a
# checkpoint of another model), an array whose shape differs from its parameter's (the
# parameters in another order), or hyperparameter names that differ from
# `self.hyperparameters` (an SGD checkpoint loaded into Adam). It checks everything first
# and only then changes anything, so a failed load leaves the optimizer as it was.
#
# The two methods are in the `Optimizer` class cell near the top of the notebook: scroll up
# and fill them in there.

# %% [markdown]
# ### Test `optimizer_state`
#
# Save SGD and Adam after a few steps, load the state into a new optimizer built on a copy
# of the parameters (with a different learning rate, which the load must restore), take
# more steps with both, and compare: a resumed run is bit-for-bit the run that was never
# interrupted.


# %% kind="test" id="test_optimizer_state" points=4
def same_values(a: list, b: list) -> bool:
    """True when two lists of parameters hold exactly equal values."""
    return all(check_equal(x.data, y.data) for x, y in zip(a, b, strict=True))


grads = [[[0.5, -1.0], [[2.0]]], [[0.25, 1.0], None], [[-1.0, 0.5], [[1.0]]]]
params = [param([1.0, 2.0]), param([[3.0]])]
opt = SGD(params, lr=0.1, momentum=0.9)
take_step(opt, params, grads[0], "SGD step 1")
sd = opt.state_dict()
assert type(sd) is dict and sorted(sd) == ["hyperparameters", "state"], (
    f"state_dict() should return a dict with the keys 'state' and 'hyperparameters', got {sd!r}."
)
assert type(sd["state"]) is list and len(sd["state"]) == 2, (
    f"sd['state'] should be a list with one dict per parameter, got {sd['state']!r}."
)
settings = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0}
assert type(sd["hyperparameters"]) is dict and sd["hyperparameters"] == settings, (
    f"sd['hyperparameters'] should map each name in SGD.hyperparameters to its value, got "
    f"{sd['hyperparameters']!r}."
)
saved = sd["state"][0]["momentum_buffer"]
assert type(saved) is np.ndarray and check_equal(saved, [0.5, -1.0]), (
    f"sd['state'][0]['momentum_buffer'] should be the buffer, [0.5, -1.0], got {saved!r}."
)
assert saved is not opt.state[0]["momentum_buffer"], (
    "state_dict() should copy the arrays (copy.deepcopy), not hand out the optimizer's own."
)
saved[:] = 99.0
assert check_equal(opt.state[0]["momentum_buffer"], [0.5, -1.0]), (
    "changing the array returned by state_dict() changed the optimizer's buffer: copy it."
)

sd = opt.state_dict()
copies = [param(p.data) for p in params]
resumed = SGD(copies, lr=5.0)
resumed.load_state_dict(sd)
assert resumed.lr == 0.1 and resumed.momentum == 0.9, (
    f"load_state_dict should restore the settings: lr 0.1 and momentum 0.9, got "
    f"{resumed.lr} and {resumed.momentum}."
)
for t, gs in enumerate(grads[1:], start=2):
    take_step(opt, params, gs, f"SGD step {t}")
    take_step(resumed, copies, gs, f"resumed SGD step {t}")
    assert same_values(params, copies), (
        f"after step {t}, the resumed SGD should hold exactly the values of the original: "
        f"{[p.data for p in copies]} vs {[p.data for p in params]}."
    )

params = [param([1.0, 2.0]), param([[3.0]])]
opt = Adam(params, lr=0.1)
for t, gs in enumerate(grads[:2], start=1):
    take_step(opt, params, gs, f"Adam step {t}")
sd = opt.state_dict()
assert type(sd["state"][0]["step"]) is int and sd["state"][0]["step"] == 2, (
    f"Adam's saved step count for parameter 0 should be the int 2, got {sd['state'][0]!r}."
)
copies = [param(p.data) for p in params]
resumed = Adam(copies, lr=0.7, betas=(0.5, 0.5))
resumed.load_state_dict(sd)
take_step(opt, params, grads[2], "Adam step 3")
take_step(resumed, copies, grads[2], "resumed Adam step 3")
assert same_values(params, copies), (
    "after loading the state, the resumed Adam's step 3 should match the original's exactly."
)

for target, what in (
    (SGD([param([1.0, 2.0])], lr=0.1), "SGD with one parameter instead of two"),
    (SGD([param([1.0, 2.0]), param([[3.0]])], lr=0.1), "SGD (Adam's state loaded into SGD)"),
    (Adam([param([1.0, 2.0, 3.0]), param([[3.0]])]), "Adam whose first parameter has 3 numbers"),
):
    err = raised(lambda target=target: target.load_state_dict(sd))
    assert isinstance(err, ValueError), (
        f"loading Adam's state into {what} should raise ValueError, got "
        f"{type(err).__name__ if err else 'no error'}."
    )

### BEGIN HIDDEN TESTS
# hidden: a resumed run follows exactly the path of the uninterrupted run
rng = np.random.default_rng(909)
shapes = [(3,), (2, 4), (2, 1, 3)]
p0s = [rng.normal(size=s).astype(np.float32) for s in shapes]
seq = [[rng.normal(size=s) * 2.0 for s in shapes] for _ in range(10)]
for t in range(10):
    if t < 5:
        seq[t][2] = None  # parameter 2 has no state yet when the state is saved
    if t % 4 == 1:
        seq[t][0] = None


def _feed(opt, params, gs):
    for p, g in zip(params, gs, strict=True):
        p.grad = None if g is None else g.copy()
    with np.errstate(all="raise"):
        opt.step()


makers = (
    (lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1), lambda ps: SGD(ps, lr=1.0)),
    (
        lambda ps: Adam(ps, lr=0.1, betas=(0.8, 0.99), weight_decay=0.05),
        lambda ps: Adam(ps, lr=2.0),
    ),
    (
        lambda ps: AdamW(ps, lr=0.1, betas=(0.7, 0.9), eps=1e-3, weight_decay=0.2),
        lambda ps: AdamW(ps),
    ),
)
for make, make_other in makers:
    full = [param(p0) for p0 in p0s]
    full_opt = make(full)
    history = []
    for gs in seq:
        _feed(full_opt, full, gs)
        history.append([p.data.copy() for p in full])
    first = [param(p0) for p0 in p0s]
    first_opt = make(first)
    for gs in seq[:4]:
        _feed(first_opt, first, gs)
    sd = first_opt.state_dict()
    # hidden: state_dict holds plain copies: lists, dicts, float32 arrays, int step counts
    assert type(sd) is dict and sorted(sd) == ["hyperparameters", "state"], "two keys"
    assert type(sd["state"]) is list and len(sd["state"]) == 3, "one state dict per parameter"
    assert all(type(s) is dict for s in sd["state"]), "each state is a dict"
    assert is_empty_dict(sd["state"][2]), "a parameter without state is saved as an empty dict"
    assert type(sd["hyperparameters"]) is dict, "the settings are a dict"
    assert sorted(sd["hyperparameters"]) == sorted(first_opt.hyperparameters), "all settings"
    assert all(
        sd["hyperparameters"][name] == getattr(first_opt, name)
        for name in first_opt.hyperparameters
    ), "the saved settings are the optimizer's"
    for i in range(2):
        assert sorted(sd["state"][i]) == sorted(first_opt.state[i]), "every state entry is saved"
        for key, value in sd["state"][i].items():
            own = first_opt.state[i][key]
            if isinstance(own, np.ndarray):
                assert type(value) is np.ndarray, "arrays are saved as arrays"
                assert value.dtype == np.float32, "saved arrays keep float32"
                assert value is not own, "saved arrays are copies"
                assert check_equal(value, own), "saved arrays hold the state's values"
            else:
                assert type(value) is int and value == own, "step counts are saved as ints"
    snapshot = copy.deepcopy(sd)
    resumed = [param(p.data) for p in first]
    resumed_opt = make_other(resumed)
    resumed_opt.load_state_dict(sd)
    assert all(
        getattr(resumed_opt, name) == sd["hyperparameters"][name]
        for name in resumed_opt.hyperparameters
    ), "load_state_dict restores the settings"
    for t, gs in enumerate(seq[4:], start=4):
        _feed(first_opt, first, gs)
        _feed(resumed_opt, resumed, gs)
        assert all(check_equal(p.data, e) for p, e in zip(resumed, history[t], strict=True)), (
            "the resumed run matches the uninterrupted run exactly"
        )
        assert all(check_equal(p.data, e) for p, e in zip(first, history[t], strict=True)), (
            "saving the state does not disturb the optimizer"
        )
    # hidden: later steps do not change a saved state, and a loaded state is a copy
    for i in range(2):
        for key, value in snapshot["state"][i].items():
            assert check_equal(sd["state"][i][key], value), "later steps leave sd alone"
    assert sd["hyperparameters"] == snapshot["hyperparameters"], "later steps leave sd alone"
    for i in range(2):
        for key, value in resumed_opt.state[i].items():
            if isinstance(value, np.ndarray):
                assert value is not sd["state"][i].get(key), "the loaded arrays are copies"
    # hidden: loading a saved state rewinds an optimizer to that point
    rewind = [param(p.data) for p in resumed]
    rewind_opt = make(rewind)
    for _ in range(2):
        _feed(rewind_opt, rewind, [np.ones(s) for s in shapes])
    rewind_opt.load_state_dict(snapshot)
    assert is_empty_dict(rewind_opt.state[2]), "a loaded state replaces the optimizer's own state"
    for p, v in zip(rewind, history[3], strict=True):
        p.data[...] = v
    for gs in seq[4:]:
        _feed(rewind_opt, rewind, gs)
    assert all(check_equal(p.data, e) for p, e in zip(rewind, history[-1], strict=True)), (
        "a loaded state replaces the optimizer's own state"
    )
# hidden: editing the returned or the loaded dict does not change the optimizer
params = [param(p0) for p0 in p0s]
opt = Adam(params, lr=0.1)
_feed(
    opt, params, [g if g is not None else np.ones(s) for g, s in zip(seq[0], shapes, strict=True)]
)
before = copy.deepcopy(opt.state)
sd = opt.state_dict()
sd["state"][0]["exp_avg"][...] = 123.0
sd["state"][1]["step"] = 50
sd["state"][2].clear()
sd["hyperparameters"]["lr"] = 9.0
assert opt.lr == 0.1, "editing the returned settings does not change the optimizer"
for i in range(3):
    assert opt.state[i]["step"] == before[i]["step"], "editing the returned state is harmless"
    assert check_equal(opt.state[i]["exp_avg"], before[i]["exp_avg"]), "the arrays are copies"
other = Adam([param(p0) for p0 in p0s])
good = copy.deepcopy(opt.state_dict())
other.load_state_dict(good)
good["state"][0]["exp_avg_sq"][...] = -1.0
good["state"][1]["step"] = 77
good["state"].append({})
good["hyperparameters"]["eps"] = 5.0
assert len(other.state) == 3 and type(other.state) is list, "the loaded state is a new list"
assert other.eps == 1e-8 and other.state[1]["step"] == 1, "editing a loaded dict is harmless"
assert check_equal(other.state[0]["exp_avg_sq"], before[0]["exp_avg_sq"]), (
    "the loaded arrays are copies"
)
# hidden: a fresh optimizer saves empty states and its settings
fresh = SGD([param(p0) for p0 in p0s], lr=0.3, weight_decay=0.01)
sd = fresh.state_dict()
assert type(sd["state"]) is list and len(sd["state"]) == 3, "one entry per parameter"
assert all(is_empty_dict(s) for s in sd["state"]), "a fresh optimizer saves empty dicts"
assert sd["state"] is not fresh.state, "the saved list is a new list"
assert type(sd["hyperparameters"]) is dict, "the settings are a dict"
assert sd["hyperparameters"] == {"lr": 0.3, "momentum": 0.0, "weight_decay": 0.01}, "settings"
# hidden: any optimizer's hyperparameters and state are saved, by their names


class _Counter(Optimizer):
    hyperparameters = ("scale", "label", "flags")

    def __init__(self, params):
        super().__init__(params)
        self.scale, self.label, self.flags = 0.5, "toy", (1, 2)
        self.other = "not saved"

    def step(self):
        for p, state in zip(self.params, self.state, strict=True):
            state["calls"] = state.get("calls", 0) + 1
            state["trace"] = np.full(p.shape, float(state["calls"]), dtype=np.float32)


toy = _Counter([param(p0) for p0 in p0s[:2]])
toy.step()
toy.step()
sd = toy.state_dict()
assert type(sd["hyperparameters"]) is dict, "the settings are a dict"
assert sd["hyperparameters"] == {"scale": 0.5, "label": "toy", "flags": (1, 2)}, "names saved"
assert sd["state"][1]["calls"] == 2 and check_equal(
    sd["state"][1]["trace"], np.full(shapes[1], 2.0)
), "state saved"
toy2 = _Counter([param(p0) for p0 in p0s[:2]])
toy2.scale, toy2.label = 3.0, "changed"
toy2.load_state_dict(sd)
assert (toy2.scale, toy2.label, toy2.flags) == (0.5, "toy", (1, 2)), "names restored"
assert toy2.state[0]["calls"] == 2, "any state entries are restored"
# hidden: load_state_dict rejects a state of the wrong size, shape or kind
adam = Adam([param(p0) for p0 in p0s], lr=0.1)
_feed(adam, adam.params, [np.ones(s) for s in shapes])
good = adam.state_dict()


def _rejects(opt, state_dict):
    before_state = copy.deepcopy(opt.state)
    before_settings = {n: getattr(opt, n) for n in opt.hyperparameters}
    try:
        opt.load_state_dict(state_dict)
        failed = False
    except ValueError:
        failed = True
    unchanged = all(getattr(opt, n) == v for n, v in before_settings.items())
    unchanged = unchanged and len(opt.state) == len(before_state)
    for now, then in zip(opt.state, before_state, strict=False):
        unchanged = unchanged and sorted(now) == sorted(then)
        for key, value in then.items():
            unchanged = unchanged and check_equal(now[key], value)
    return failed, unchanged


target = Adam([param(p0) for p0 in p0s], lr=0.02)
_feed(target, target.params, [np.full(s, -1.0) for s in shapes])
for bad in (
    {"state": good["state"][:2], "hyperparameters": good["hyperparameters"]},
    {"state": [*good["state"], {}], "hyperparameters": good["hyperparameters"]},
    {"state": [], "hyperparameters": good["hyperparameters"]},
):
    failed, unchanged = _rejects(target, bad)
    assert failed, "a state with a different number of entries raises ValueError"
    assert unchanged, "a failed load leaves the optimizer unchanged"
wrong_shape = copy.deepcopy(good)
wrong_shape["state"][1]["exp_avg_sq"] = np.zeros((4, 2), dtype=np.float32)
failed, unchanged = _rejects(target, wrong_shape)
assert failed, "a state array whose shape differs from its parameter's raises ValueError"
assert unchanged, "a failed load leaves the optimizer unchanged"
wrong_shape = copy.deepcopy(good)
wrong_shape["state"][2]["exp_avg"] = np.zeros(6, dtype=np.float32)
failed, unchanged = _rejects(target, wrong_shape)
assert failed and unchanged, "every state array is checked before anything changes"
sgd_state = SGD([param(p0) for p0 in p0s], lr=0.1, momentum=0.5).state_dict()
for bad in (
    sgd_state,
    {"state": good["state"], "hyperparameters": {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1.0}},
    {"state": good["state"], "hyperparameters": {**good["hyperparameters"], "momentum": 0.9}},
):
    failed, unchanged = _rejects(target, bad)
    assert failed, "hyperparameter names that differ from the optimizer's raise ValueError"
    assert unchanged, "a failed load leaves the optimizer unchanged"
failed, _ = _rejects(SGD([param(p0) for p0 in p0s], lr=0.1), good)
assert failed, "an Adam state cannot be loaded into SGD"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: what optimizer state costs
#
# Nothing below is graded. These cells measure the optimizers you just built; predict each
# number before you run the cell. Everything finishes in a few seconds.
#
# ### Memory
#
# SGD keeps nothing between steps. Momentum keeps one buffer per parameter, as large as the
# parameter. Adam and AdamW keep two, $m$ and $v$. In float32, per parameter number:
#
# ```
#                    weights   gradient   optimizer state   total while training
#   SGD                4 B        4 B           0 B                 8 B
#   SGD + momentum     4 B        4 B           4 B                12 B
#   Adam / AdamW       4 B        4 B           8 B                16 B
# ```
#
# The cell builds the parameters of three MLPs (the shapes of Module 03's analysis; plain
# Tensors, so no layers are needed), gives every parameter a random gradient, takes one step
# with each optimizer and adds up the bytes of the arrays in `optimizer.state`.


# %%
def human_bytes(n: float) -> str:
    """A byte count as B, KiB, MiB or GiB with one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def mlp_parameters(widths: tuple[int, ...], rng: np.random.Generator) -> list[Tensor]:
    """Weight and bias Tensors of an MLP with these widths, each with a random gradient."""
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=False):
        for shape in ((n_in, n_out), (n_out,)):
            p = Tensor(rng.uniform(-0.05, 0.05, size=shape), requires_grad=True)
            p.grad = rng.standard_normal(shape).astype(np.float32)
            params.append(p)
    return params


def state_bytes(optimizer: Optimizer) -> int:
    """Bytes held in the arrays of an optimizer's state."""
    return sum(v.nbytes for s in optimizer.state for v in s.values() if isinstance(v, np.ndarray))


optimizers = {
    "SGD": lambda ps: SGD(ps, lr=0.01),
    "momentum": lambda ps: SGD(ps, lr=0.01, momentum=0.9),
    "Adam": lambda ps: Adam(ps),
    "AdamW": lambda ps: AdamW(ps),
}
rng = np.random.default_rng(0)
header = f"{'MLP':>22} {'parameters':>11} {'weights':>10}"
print(header + "".join(f"{name:>10}" for name in optimizers) + f"{'Adam/weights':>14}")
for widths in [(784, 128, 10), (784, 512, 512, 10), (3072, 1024, 1024, 10)]:
    params = mlp_parameters(widths, rng)
    count = sum(p.size for p in params)
    weights = sum(p.memory_footprint() for p in params)
    measured = {}
    for name, make in optimizers.items():
        opt = make(params)
        opt.step()
        measured[name] = state_bytes(opt)
    row = f"{'-'.join(map(str, widths)):>22} {count:>11,} {human_bytes(weights):>10}"
    row += "".join(f"{human_bytes(b):>10}" for b in measured.values())
    print(row + f"{measured['Adam'] / weights:>13.1f}x")

# %% [markdown]
# The ratios do not depend on the model: 0x, 1x, 2x, 2x the weights. For the models of
# this course that is a few megabytes. For the models people train today it decides which
# machine can train them at all. The next cell applies the same bytes per parameter to
# some well-known sizes (weights, gradients and Adam state in float32; the activations
# of a batch come on top).

# %%
print(f"{'model':>16} {'parameters':>15} {'weights':>10} {'+ grads':>10} {'+ Adam':>10}")
for name, count in (
    ("GPT-2 small", 124_000_000),
    ("GPT-2 XL", 1_558_000_000),
    ("7B LLM", 7_000_000_000),
    ("70B LLM", 70_000_000_000),
):
    print(
        f"{name:>16} {count:>15,} {human_bytes(4 * count):>10} {human_bytes(8 * count):>10} "
        f"{human_bytes(16 * count):>10}"
    )

# %% [markdown]
# A 7B-parameter model needs about 104 GiB to train with Adam in float32 before a single
# activation is stored: more than any single GPU holds. This is why large models keep as
# much as they can in 16-bit formats (Module 17 looks at number formats), why "8-bit
# Adam" stores $m$ and $v$ in one byte each, and why ZeRO-style training splits the
# optimizer state across many GPUs: the optimizer state is the largest single item.
#
# ### Time per step
#
# An optimizer step does a handful of arithmetic operations per number, so it is limited
# by how fast memory can be read and written, not by arithmetic. The least an update can
# move, per float32 parameter number, is: SGD reads $g$ and $\theta$ and writes $\theta$
# (12 bytes); momentum adds the buffer, read and written (20 bytes); Adam reads $g$,
# $\theta$, $m$, $v$ and writes $\theta$, $m$, $v$ (28 bytes). The cell times each step
# on the largest MLP (4.2 million parameters) and divides that minimum by the time.

# %%
import time  # noqa: E402  (only the systems analysis needs it)


def median_seconds(fn, repeats: int = 7) -> float:
    """Median wall time of fn() over `repeats` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


params = mlp_parameters((3072, 1024, 1024, 10), np.random.default_rng(1))
count = sum(p.size for p in params)
minimum_bytes = {"SGD": 12, "momentum": 20, "Adam": 28, "AdamW": 28}
print(f"{'optimizer':>10} {'ms/step':>8} {'ns/number':>10} {'min bytes':>10} {'GB/s':>6}")
baseline = None
for name, make in optimizers.items():
    opt = make(params)
    seconds = median_seconds(opt.step)
    baseline = baseline or seconds
    rate = minimum_bytes[name] * count / seconds / 1e9
    print(
        f"{name:>10} {seconds * 1e3:>8.2f} {seconds / count * 1e9:>10.2f} "
        f"{minimum_bytes[name]:>10} {rate:>6.1f}   ({seconds / baseline:.1f}x SGD)"
    )

# %% [markdown]
# Adam costs a few times as much as SGD per step, but compare it with the forward and
# backward passes: for a batch of $B$ samples they cost about $6B$ FLOPs per parameter
# (2 forward, 4 backward), against some ten operations per parameter for the update. With
# batches of dozens of samples or more, the optimizer step is a small part of the time of a
# training step, and its real price is the memory.
#
# The "GB/s" column is well below what this machine's memory can deliver: every NumPy
# expression such as `beta1 * m + (1 - beta1) * g` creates a temporary array for each
# operation, so the real traffic is several times the minimum. PyTorch's "fused" Adam does
# the whole update in one pass over each array, a kind of optimization Module 16 measures.
#
# ## Summary
#
# - An optimizer holds the model's parameters (the Tensors themselves) and one state dict
#   per parameter; `zero_grad()` clears the gradients, `step()` updates every parameter that
#   has one, in place and in float32, reading its settings afresh each time.
# - SGD: $\theta \mathrel{-}= \eta\, g$, with $g = \nabla L + \lambda\theta$ for weight
#   decay, and momentum $b_t = \mu b_{t-1} + g_t$ that accumulates agreeing gradients and
#   cancels alternating ones.
# - Adam: running means of $g$ and $g^2$, bias-corrected by $1 - \beta^t$, give every
#   number a step of about $\eta$ in the direction its gradients agree on, whatever their
#   scale. AdamW takes the weight decay out of the gradient and shrinks the weights
#   directly by $1 - \eta\lambda$.
# - `state_dict()` / `load_state_dict()` copy the state and settings out and in, so that a
#   resumed run continues on exactly the same path.
# - Optimizer state costs 0x (SGD), 1x (momentum) or 2x (Adam) the parameters' memory:
#   with weights and gradients, Adam training needs 16 bytes per parameter in float32.
#
# **Reflection.**
#
# 1. Adam's first step moves every number by almost exactly `lr`. What does that say about
#    a sensible learning rate for Adam compared with SGD, and why does the scale of the
#    loss not matter?
# 2. Two numbers receive gradients of the same size at every step, one always positive,
#    the other alternating in sign. After many steps, which has the larger $\hat m$, which
#    the larger $\hat v$, and which does Adam move faster?
# 3. Your checkpoint saves the model's weights but not the optimizer state. What exactly
#    happens in the first few steps of Adam after resuming, and what would it look like on
#    a plot of the loss?
# 4. How many bytes does it take to train a 1-billion-parameter model with AdamW in
#    float32, counting weights, gradients and state? With momentum SGD?
