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
# # Module 07: Training
#
# You now own every piece a network needs: tensors (Module 01), activations and layers
# (02, 03), losses (04), gradients (05) and optimizers (06). Training is those pieces run in
# a loop, a few thousand times. The loop itself is four lines long; what turns it into a
# tool you can trust with an hour-long run is everything around it:
#
# - a number a person can read: **accuracy**, the fraction of examples the model gets right
#   (a loss of 0.37 means little on its own);
# - a guard rail: **gradient clipping**, so that one bad batch cannot throw the weights
#   somewhere they never recover from;
# - a **learning-rate schedule**: a short warm-up, then a slow cosine decay, the recipe used
#   to train most transformers;
# - **evaluation** on data the model does not learn from, without disturbing the training;
# - **checkpoints**: save everything, stop, load, and continue as if nothing had happened,
#   down to the last bit.
#
# In this module you write these and tie them together in a `Trainer`, the object Module 08's
# `DataLoader` will feed and the milestones will use to train their networks.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - write the training step in the right order, `zero_grad`, forward, loss, `backward`,
#   clip, `step`, schedule, and say what goes wrong when two of them swap;
# - compute **accuracy** from logits and say what `argmax` does with ties;
# - implement **clipping by global norm** and explain why it keeps the direction of the
#   gradient;
# - implement **linear warm-up followed by cosine decay** from its formula;
# - average a loss over an epoch correctly when the last batch is smaller;
# - **evaluate** a model in evaluation mode and without a graph, and put it back as it was;
# - write a **checkpoint** that resumes training **bit for bit**, and explain why the types
#   of the restored numbers matter for that;
# - measure **where the time of a training step goes**: forward, backward, optimizer.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in four cells: the function `accuracy`, the function `clip_grad_norm`,
#   the class `CosineSchedule` and the class `Trainer`. Each spot to fill in is marked with
#   a comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The
#   docstrings are the contract: shapes, formulas, order of operations, errors.
# - Each task has one test cell, `test_<task id>`. The asserts you can read there are the
#   **visible tests**: run them as often as you like, and read their messages when they
#   fail. The `Trainer` cell holds three tasks; their three test cells follow it.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other shapes, ties, tiny and huge gradients, other schedules
#   and warm-up lengths, batches of uneven sizes, Adam and AdamW, clipping and schedules
#   inside the trainer, models with dropout). Expected values are computed in float64 from
#   the formulas in this notebook, or by running the same training loop written out by hand.
#   A failing hidden check tells you which behaviour it was about.
# - A test cell earns its points only when every check in it passes.
# - Anything a test cell writes to stderr counts as a failure: a NumPy `RuntimeWarning`
#   (an overflow, 0 / 0) zeroes the cell, so keep your code free of warnings and prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `accuracy` | `accuracy(logits, targets)`: the fraction of correct argmax predictions | 2 |
# | `clip_grad_norm` | `clip_grad_norm(parameters, max_norm)`: rescale all gradients together | 3 |
# | `cosine_schedule` | `CosineSchedule`: linear warm-up, then cosine decay of `optimizer.lr` | 4 |
# | `train_epoch` | `Trainer.train_epoch(batches)`: one pass over the data, with history | 5 |
# | `evaluate` | `Trainer.evaluate(batches)`: loss and accuracy, nothing changed | 2 |
# | `checkpoint` | `Trainer.save_checkpoint` / `load_checkpoint`: resume bit for bit | 4 |
# | | **total** | **20** |
#
# Work in the order of the table: the trainer uses the first three. While you work, the
# trainer's tests run your own `accuracy`, `clip_grad_norm` and `CosineSchedule`, so fix the
# first failing test first. When your notebook is graded, each task's test cell runs the
# other tasks from the course's reference solution (the trainer's tests, for instance, use
# the reference `clip_grad_norm`, and the test of `checkpoint` the reference
# `train_epoch`), so a bug costs only the points of the task it is in.
#
# **What comes from earlier modules.** `Tensor`, `Linear`, `Sequential`, `Dropout`, the
# losses, autograd and the optimizers come from the `tinytorch` package: your own Modules
# 01 to 06 while you work, the course's reference solution when your work is graded. There
# is no `DataLoader` yet (Module 08): a **batch** here is any pair `(inputs, targets)`, and
# the tests cut their data into batches by hand.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.training: the training loop and what a long run needs around it.

`accuracy` scores logits against class labels; `clip_grad_norm` rescales all gradients
together when their global L2 norm is too large; `CosineSchedule` sets the optimizer's
learning rate at every step (linear warm-up, then cosine decay); `Trainer` runs epochs
(`train_epoch`), evaluates without a graph (`evaluate`) and saves and restores everything
needed to resume bit for bit (`save_checkpoint`, `load_checkpoint`).
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 07.
"""

import math
from collections.abc import Callable, Iterable

import numpy as np

from tinytorch.core.autograd import no_grad  # importing autograd switches it on (Module 05)
from tinytorch.core.layers import Layer
from tinytorch.core.optimizers import Optimizer
from tinytorch.core.tensor import Tensor

__all__ = ["accuracy", "clip_grad_norm", "CosineSchedule", "Trainer"]

# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. Its first part is the same in every
# module: `check_close` compares numbers the way `np.allclose` does, `check_equal` tests
# exact equality, `raised` returns the exception a call raised, and `assert_tensor` and
# `assert_array` check a result's type, shape and values. Its last part is this module's
# own: a small MLP (`make_mlp`), a synthetic data set of three clusters (`blobs`), a function
# that cuts it into batches (`batches_of`), copies of a model's parameters (`snapshot`), and
# `assert_float`, which checks that a result is a Python `float` close to the expected one.
# Run it once; you do not need to read it.


# %% kind="locked" id="checks" include="checks"
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.autograd import is_grad_enabled  # noqa: E402
from tinytorch.core.layers import Dropout, Linear, Sequential  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import SGD, Adam, AdamW  # noqa: E402


def make_mlp(seed: int, sizes: tuple[int, ...] = (4, 16, 3), dropout: float = 0.0) -> Sequential:
    """Linear layers of the given sizes with a ReLU between two of them (and a Dropout after
    each ReLU when dropout > 0); the weights of layer k come from seed + k."""
    steps = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        steps.append(Linear(n_in, n_out, rng=seed + k))
        if k < len(sizes) - 2:
            steps.append(ReLU())
            if dropout:
                steps.append(Dropout(dropout, rng=seed + 100 + k))
    return Sequential(*steps)


def blobs(n: int, seed: int, features: int = 4, classes: int = 3):
    """n points in `classes` Gaussian clusters: inputs (n, features) float64, labels (n,) int."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, size=(classes, features))
    labels = rng.integers(0, classes, size=n)
    return centres[labels] + rng.standard_normal((n, features)), labels


def batches_of(inputs, labels, sizes) -> list:
    """Consecutive batches (Tensor of inputs, int array of labels) of the given sizes."""
    batches, start = [], 0
    for size in sizes:
        stop = start + size
        batches.append((Tensor(inputs[start:stop]), labels[start:stop]))
        start = stop
    return batches


def snapshot(model) -> list[np.ndarray]:
    """Copies of the model's parameter arrays, in parameters() order."""
    return [p.data.copy() for p in model.parameters()]


def assert_float(value, expected: float, what: str, rtol: float = 1e-6) -> None:
    """Assert that value is a Python float close to expected (rtol, atol=1e-12)."""
    assert type(value) is float, (
        f"{what}: expected a Python float, got {type(value).__name__} ({value!r}). "
        "float(...) turns a NumPy number into one."
    )
    assert check_close(value, expected, rtol=rtol, atol=1e-12), (
        f"{what}: expected {expected!r}, got {value!r}."
    )


# %% [markdown]
# ## The training loop
#
# Module 06 ended with the heart of every training loop. Here it is again, with the three
# additions of this module marked:
#
# ```
#   for inputs, targets in batches:             one epoch = one pass over the data
#       optimizer.zero_grad()                   1. forget the last batch's gradients
#       logits = model(inputs)                  2. forward: builds the graph
#       loss = loss_fn(logits, targets)         3. a 0-d Tensor
#       loss.backward()                         4. p.grad for every parameter
#       clip_grad_norm(params, max_norm)        5. NEW: cap the size of the step
#       optimizer.step()                        6. move the parameters (uses optimizer.lr)
#       schedule.step()                         7. NEW: set optimizer.lr for the next step
#   record loss and accuracy                    NEW: what a person reads
# ```
#
# The order is not a matter of taste:
#
# - `zero_grad` before `backward`, because `backward` **adds** into `.grad`. Forgetting it
#   makes every step use the sum of all gradients so far.
# - clipping **between** `backward` and `step`: it edits the gradients the step is about to
#   use. Before `backward` there is nothing to clip; after `step` it is too late.
# - the schedule **after** `step`: the first step uses the learning rate the schedule set
#   when it was created (step 0), and each `schedule.step()` prepares the next one. PyTorch
#   uses the same convention, and warns if you call them the other way round.
#
# One pass of this loop over the whole training set is an **epoch**. The `Trainer` you build
# runs epochs, keeps a **history** of what happened in each, and can save itself to disk
# and come back.
#
# ## Task `accuracy`: the fraction of right answers (2 points)
#
# A classifier outputs one score per class, the **logits**, for each example. Its answer is
# the class with the largest score, the **argmax**; softmax would not change that answer,
# because it preserves order. Accuracy is the fraction of examples whose answer is the
# target class:
#
# $$\text{accuracy} = \frac{1}{N} \sum_{i=1}^{N} \big[\operatorname{argmax}_c\, z_{ic} = y_i\big].$$
#
# ```
#   logits (4, 3)           argmax   target   right?
#   [ 2.0  1.0  0.0 ]   ->    0        0       yes
#   [ 0.0  3.0  1.0 ]   ->    1        1       yes
#   [ 1.0  0.0  5.0 ]   ->    2        1       no
#   [ 4.0  4.0  0.0 ]   ->    0        0       yes     a tie: the first largest wins
#                                                   accuracy = 3 / 4 = 0.75
# ```
#
# **Ties.** `np.argmax` returns the **first** position of the largest value, so a row of
# equal scores predicts class 0. That is the rule here (PyTorch's `argmax` documents the
# same rule).
#
# **Shapes.** The classes are always on the **last** axis. A batch of sequences, logits of
# shape `(B, T, C)`, has targets of shape `(B, T)`: one class per position, and accuracy
# counts all `B * T` of them. A single example, logits `(C,)`, has a 0-d target. In general
# the targets' shape is the logits' shape without its last axis. Anything else is a bug
# to report, not to broadcast: targets of shape `(N, 1)` against predictions of shape `(N,)`
# would broadcast to an `(N, N)` comparison and give a meaningless number.
#
# Contract: `accuracy(logits, targets)` takes Tensors, NumPy arrays or lists; returns a
# Python `float` in $[0, 1]$; raises `ValueError` for 0-d logits, for targets whose shape is
# not `logits.shape[:-1]`, and for an empty batch (there is no fraction of nothing).


# %% kind="solution" id="accuracy" export=true
def accuracy(logits: "Tensor | np.ndarray | list", targets: "Tensor | np.ndarray | list") -> float:
    """The fraction of examples whose largest logit is at the target class.

    Args:
        logits: scores of shape (..., C), classes on the last axis: (N, C) for a batch,
            (B, T, C) for a batch of sequences, (C,) for one example. A Tensor, an array or
            a list.
        targets: class indices of shape logits.shape[:-1] (a Tensor, an array or a list).

    Returns:
        a Python float in [0, 1]: the mean of (argmax over the last axis == targets).
        Ties go to the first largest logit (np.argmax's rule).

    Raises:
        ValueError: if logits is 0-d; if targets' shape is not logits.shape[:-1] (the
            message names both shapes); if there are no examples.

    Hint: a Tensor's values are in .data; np.asarray(x) turns a list or array into an array.
    """
    # Task accuracy: check the shapes, compare argmax over the last axis with the targets.
    ### BEGIN SOLUTION
    scores = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    labels = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if scores.ndim == 0:
        raise ValueError("accuracy: logits must have a class axis, got a 0-d array")
    if labels.shape != scores.shape[:-1]:
        raise ValueError(
            f"accuracy: targets of shape {labels.shape} do not match logits of shape "
            f"{scores.shape}; expected targets of shape {scores.shape[:-1]}"
        )
    if labels.size == 0:
        raise ValueError("accuracy: no examples (an empty batch has no accuracy)")
    predicted = np.argmax(scores, axis=-1)
    return float(np.mean(predicted == labels))
    ### END SOLUTION


# %% [markdown]
# ### Test `accuracy`

# %% kind="test" id="test_accuracy" points=2
logits = Tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 4.0, 0.0]])
acc = accuracy(logits, np.array([0, 1, 1, 0]))
assert_float(acc, 0.75, "accuracy of the example in the text (3 of 4 right)")
acc = accuracy(logits, np.array([1, 1, 2, 1]))
assert_float(acc, 0.5, "accuracy when the tie [4, 4, 0] has target 1 (argmax picks the first, 0)")
acc = accuracy(logits.data, Tensor([0.0, 1.0, 2.0, 0.0]))
assert_float(acc, 1.0, "accuracy of an array of logits against a Tensor of targets")
acc = accuracy([[0.5, -0.5], [0.1, 0.2]], [1, 0])
assert_float(acc, 0.0, "accuracy of lists, every answer wrong")
err = raised(lambda: accuracy(logits, np.array([[0], [1], [1], [0]])))
assert isinstance(err, ValueError), (
    "targets of shape (4, 1) for logits of shape (4, 3) should raise ValueError (they would "
    f"broadcast to a (4, 4) comparison); got {type(err).__name__ if err else 'no error'}."
)
assert "(4, 1)" in str(err) and "(4, 3)" in str(err), (
    f"the ValueError should name both shapes, (4, 1) and (4, 3); got {str(err)!r}."
)

### BEGIN HIDDEN TESTS
# hidden: the fraction of argmax predictions equal to the targets, for a batch
rng = np.random.default_rng(70)
z = rng.standard_normal((50, 7))
y = rng.integers(0, 7, size=50)
y[:20] = np.argmax(z[:20], axis=1)  # make sure some are right
expected = float(np.mean(np.argmax(z, axis=1) == y))
for lg, tg in ((z, y), (Tensor(z), y), (Tensor(z), Tensor(y)), (z.tolist(), y.tolist())):
    got = accuracy(lg, tg)
    assert type(got) is float, "accuracy returns a Python float"
    assert abs(got - expected) < 1e-12, "accuracy is the fraction of right argmax answers"
assert accuracy(z, np.argmax(z, axis=1)) == 1.0, "all right gives 1.0"
assert accuracy(z, (np.argmax(z, axis=1) + 1) % 7) == 0.0, "all wrong gives 0.0"
# hidden: the classes are on the last axis for logits with three axes
z3 = rng.standard_normal((3, 5, 4))
y3 = rng.integers(0, 4, size=(3, 5))
y3[0] = np.argmax(z3[0], axis=-1)
expected = float(np.mean(np.argmax(z3, axis=-1) == y3))
assert abs(accuracy(Tensor(z3), y3) - expected) < 1e-12, "classes are on the last axis (3-D)"
z3b = rng.standard_normal((2, 2, 6))
y3b = np.argmax(z3b, axis=-1)
y3b[1, 1] = (y3b[1, 1] + 1) % 6
assert abs(accuracy(z3b, y3b) - 0.75) < 1e-12, "every position of a sequence batch counts"
# hidden: a single example (1-D logits, 0-d target) is right or wrong
one = np.array([0.3, -1.0, 2.5, 0.7])
assert accuracy(one, 2) == 1.0, "one example, right"
assert accuracy(Tensor(one), np.array(0)) == 0.0, "one example, wrong"
# hidden: ties go to the first largest logit
ties = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 2.0], [-1.0, -3.0, -1.0], [5.0, 0.0, 5.0]])
assert accuracy(ties, [0, 1, 0, 0]) == 1.0, "ties predict the first largest logit"
assert accuracy(ties, [2, 2, 2, 2]) == 0.0, "ties never predict a later class"
# hidden: mismatched shapes raise ValueError naming both shapes
for lg, tg, text in (
    (np.zeros((5, 3)), np.zeros(4), "(4,)"),
    (np.zeros((5, 3)), np.zeros((5, 1)), "(5, 1)"),
    (np.zeros((2, 3, 4)), np.zeros(2), "(2,)"),
    (np.zeros((6, 2)), np.zeros((6, 2)), "(6, 2)"),
):
    message = ""
    try:
        accuracy(lg, tg)
    except ValueError as exc:
        message = str(exc)
    assert message, "targets whose shape is not logits.shape[:-1] raise ValueError"
    assert text in message, "the ValueError names the targets' shape"
# hidden: 0-d logits and empty batches raise ValueError
for lg, tg in ((np.array(3.0), np.array(0)), (np.zeros((0, 4)), np.zeros(0))):
    try:
        accuracy(lg, tg)
        failed = False
    except ValueError:
        failed = True
    assert failed, "0-d logits and empty batches raise ValueError"
# hidden: the inputs are left unchanged
z_copy, y_copy = z.copy(), y.copy()
accuracy(z, y)
assert check_equal(z, z_copy) and check_equal(y, y_copy), "accuracy changes nothing"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `clip_grad_norm`: a cap on the size of a step (3 points)
#
# Now and then a batch produces an enormous gradient: a rare example the model gets very
# wrong, a loss near a cliff, an unlucky product of large weights in a deep or recurrent
# network. One step along it can throw the weights far away and undo hours of training
# (the loss curve shows a spike, or turns into `nan`). **Clipping** caps the size of the
# step without changing its direction.
#
# Treat all gradients of the model as one long vector $g$ and measure its length, the
# **global L2 norm** over every number of every parameter:
#
# $$\lVert g \rVert = \sqrt{\sum_{p} \sum_{j} g_{p,j}^2}.$$
#
# If it is larger than `max_norm`, multiply **every** gradient by the same factor
#
# $$s = \frac{\texttt{max\_norm}}{\lVert g \rVert + 10^{-6}},$$
#
# which brings the length down to just under `max_norm`. Otherwise leave everything
# alone. The $10^{-6}$ comes from PyTorch's `torch.nn.utils.clip_grad_norm_`, where it
# guards the division; here it is part of the contract, and the tests expect it (it shows
# for tiny norms: with $\lVert g \rVert = 10^{-3}$ it changes the factor by 0.1%).
#
# ```
#   gradients            [3, 4]  and  [[0, 12]]       norm sqrt(9 + 16 + 0 + 144) = 13
#   max_norm = 26        13 <= 26: unchanged, return 13.0
#   max_norm = 6.5       s = 6.5 / (13 + 1e-6) ~ 0.5:  [1.5, 2]  and  [[0, 6]], return 13.0
# ```
#
# **Why one factor for all.** Clipping each parameter on its own would shrink some
# gradients more than others and turn the step in a new direction, one that no longer
# points downhill for the loss as a whole. One global factor only shortens the step.
#
# **Details that matter:**
#
# - Parameters whose `grad` is `None` (they took no part in the loss) are skipped: they
#   add nothing to the norm and nothing is changed.
# - Sum the squares in **float64**. A float32 square overflows to `inf` once a gradient
#   passes about $1.8 \times 10^{19}$, exactly the situation clipping exists for.
# - Scale **in place**, `p.grad *= s`: each gradient keeps its array object and its dtype
#   (float32), as PyTorch's trailing underscore in `clip_grad_norm_` says.
# - Return the norm **before** clipping, as a Python `float`: it is the number to log, and
#   a growing norm is often the first sign of trouble.
# - `parameters` is any iterable of Tensors (`model.parameters()`, a generator), or a single
#   Tensor. `max_norm` must be positive: `ValueError` otherwise.


# %% kind="solution" id="clip_grad_norm" export=true
def clip_grad_norm(parameters: "Iterable[Tensor] | Tensor", max_norm: float) -> float:
    """Scale all gradients together so that their global L2 norm is at most max_norm.

    Args:
        parameters: an iterable of Tensors, or one Tensor. Those whose grad is None are
            skipped.
        max_norm: the largest norm allowed, > 0.

    Returns:
        the global norm before clipping, sqrt(sum of the squares of every gradient number),
        computed in float64, as a Python float (0.0 when no parameter has a gradient).

    When that norm is larger than max_norm, every gradient is multiplied in place by
    max_norm / (norm + 1e-6); otherwise nothing changes.

    Raises:
        ValueError: if max_norm <= 0, naming it.
    """
    # Task clip_grad_norm: measure the global norm in float64, scale in place if too large.
    ### BEGIN SOLUTION
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    if max_norm <= 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm}")
    grads = [p.grad for p in parameters if p.grad is not None]
    squares = sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)
    norm = math.sqrt(squares)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads:
            g *= scale
    return norm
    ### END SOLUTION


# %% [markdown]
# ### Test `clip_grad_norm`

# %% kind="test" id="test_clip_grad_norm" points=3
a = Tensor([0.0, 0.0], requires_grad=True)
b = Tensor([[0.0, 0.0]], requires_grad=True)
frozen = Tensor([1.0, 2.0, 3.0], requires_grad=True)


def give_grads():
    a.grad = np.array([3.0, 4.0], dtype=np.float32)
    b.grad = np.array([[0.0, 12.0]], dtype=np.float32)
    frozen.grad = None


give_grads()
a_grad = a.grad
norm = clip_grad_norm([a, b, frozen], max_norm=26.0)
assert_float(norm, 13.0, "the norm of [3, 4] and [[0, 12]] (sqrt(9 + 16 + 144))")
assert np.array_equal(a.grad, [3.0, 4.0]) and np.array_equal(b.grad, [[0.0, 12.0]]), (
    f"a norm of 13 is below max_norm=26: the gradients should not change, got {a.grad} and "
    f"{b.grad}."
)
assert frozen.grad is None, "a parameter whose grad is None should be skipped (stay None)."

give_grads()
a_grad = a.grad
norm = clip_grad_norm([a, b, frozen], max_norm=6.5)
assert_float(norm, 13.0, "clip_grad_norm should return the norm *before* clipping")
scale = 6.5 / (13.0 + 1e-6)
assert np.allclose(a.grad, [3.0 * scale, 4.0 * scale], rtol=1e-6, atol=0) and np.allclose(
    b.grad, [[0.0, 12.0 * scale]], rtol=1e-6, atol=0
), (
    f"with max_norm=6.5 every gradient should be multiplied by 6.5 / (13 + 1e-6); got "
    f"{a.grad} and {b.grad}."
)
assert a.grad is a_grad and a.grad.dtype == np.float32, (
    "clip in place (p.grad *= scale): each gradient should keep its array object and float32."
)
for bad in (0.0, -1.0):
    err = raised(lambda bad=bad: clip_grad_norm([a, b], bad))
    assert isinstance(err, ValueError), (
        f"clip_grad_norm(..., max_norm={bad}) should raise ValueError, got "
        f"{type(err).__name__ if err else 'no error'}."
    )


### BEGIN HIDDEN TESTS
# hidden: the global norm and the scaled gradients follow the formula, for many settings
def _h_params(seed, shapes, scale=1.0):
    rng = np.random.default_rng(seed)
    ps = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    for p in ps:
        p.grad = (scale * rng.standard_normal(p.shape)).astype(np.float32)
    return ps


shapes = [(3, 4), (4,), (2, 3, 2), (1,)]
for seed, factor in ((1, 0.3), (2, 0.9), (3, 1.5), (4, 10.0), (5, 0.999)):
    ps = _h_params(seed, shapes)
    g64 = [p.grad.astype(np.float64) for p in ps]
    arrays = [p.grad for p in ps]
    values = [p.data.copy() for p in ps]
    true_norm = float(np.sqrt(sum(np.sum(g**2) for g in g64)))
    max_norm = factor * true_norm
    got = clip_grad_norm(ps, max_norm)
    assert type(got) is float, "clip_grad_norm returns a Python float"
    assert abs(got - true_norm) <= 1e-9 * true_norm, "the return value is the norm before clipping"
    s = max_norm / (true_norm + 1e-6) if true_norm > max_norm else 1.0
    for p, g, arr in zip(ps, g64, arrays, strict=True):
        assert p.grad is arr, "gradients are scaled in place"
        assert p.grad.dtype == np.float32, "gradients keep their dtype"
        assert check_close(p.grad, g * s, rtol=1e-6, atol=0), "gradients scale by the formula"
    assert all(check_equal(p.data, v) for p, v in zip(ps, values, strict=True)), (
        "clipping changes gradients, never parameters"
    )
    new_norm = float(np.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2) for p in ps)))
    assert new_norm <= max_norm * (1 + 1e-6), "after clipping the norm is at most max_norm"
# hidden: a norm exactly equal to max_norm is left alone
ps = [Tensor([0.0, 0.0], requires_grad=True), Tensor([0.0], requires_grad=True)]
ps[0].grad = np.array([6.0, 0.0], dtype=np.float32)
ps[1].grad = np.array([8.0], dtype=np.float32)
assert clip_grad_norm(ps, 10.0) == 10.0, "the norm is returned"
assert check_equal(ps[0].grad, [6.0, 0.0]) and check_equal(ps[1].grad, [8.0]), (
    "a norm equal to max_norm is not clipped"
)
# hidden: tiny norms, where the 1e-6 in the factor matters
ps = _h_params(6, shapes, scale=1e-4)
g64 = [p.grad.astype(np.float64) for p in ps]
true_norm = float(np.sqrt(sum(np.sum(g**2) for g in g64)))
clip_grad_norm(ps, true_norm / 10)
for p, g in zip(ps, g64, strict=True):
    expected = g * (true_norm / 10) / (true_norm + 1e-6)
    assert check_close(p.grad, expected, rtol=1e-6, atol=0), "the factor is max_norm/(norm + 1e-6)"
# hidden: huge gradients give a finite norm (squares summed in float64)
ps = _h_params(7, shapes, scale=1e20)
g64 = [p.grad.astype(np.float64) for p in ps]
true_norm = float(np.sqrt(sum(np.sum(g**2) for g in g64)))
with np.errstate(over="raise", invalid="raise"):
    try:
        got = clip_grad_norm(ps, 1.0)
    except FloatingPointError:
        got = float("inf")
assert math.isfinite(got) and abs(got - true_norm) <= 1e-9 * true_norm, (
    "the norm of huge gradients is finite: the squares are summed in float64"
)
for p, g in zip(ps, g64, strict=True):
    assert check_close(p.grad, g / (true_norm + 1e-6), rtol=1e-6, atol=0), (
        "huge gradients are scaled down to the norm max_norm"
    )
# hidden: parameters without gradient are skipped; a generator and a single Tensor work
ps = _h_params(8, shapes)
ps[1].grad = None
ps[3].grad = None
g64 = [None if p.grad is None else p.grad.astype(np.float64) for p in ps]
true_norm = float(np.sqrt(sum(np.sum(g**2) for g in g64 if g is not None)))
got = clip_grad_norm((p for p in ps), true_norm / 2)
assert abs(got - true_norm) <= 1e-9 * true_norm, "gradients that are None add nothing"
assert ps[1].grad is None and ps[3].grad is None, "gradients that are None stay None"
assert check_close(ps[0].grad, g64[0] * (true_norm / 2) / (true_norm + 1e-6), rtol=1e-6), (
    "a generator of parameters works"
)
single = Tensor(np.zeros((2, 2)), requires_grad=True)
single.grad = np.array([[1.0, 2.0], [2.0, 4.0]], dtype=np.float32)
got = clip_grad_norm(single, 1.0)
assert abs(got - 5.0) < 1e-12, "a single Tensor is accepted"
assert check_close(single.grad, [[0.2, 0.4], [0.4, 0.8]], rtol=1e-5), "a single Tensor is clipped"
none = [Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)]
got = clip_grad_norm(none, 1.0)
assert type(got) is float and got == 0.0, "no gradients at all give a norm of 0.0"
assert none[0].grad is None and none[1].grad is None, "no gradients at all: nothing changes"
# hidden: max_norm must be positive
for bad in (0, 0.0, -0.5, -10):
    try:
        clip_grad_norm(_h_params(9, shapes), bad)
        failed = False
    except ValueError:
        failed = True
    assert failed, "max_norm <= 0 raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `cosine_schedule`: warm-up, then cosine decay (4 points)
#
# A constant learning rate is a compromise: large enough to make progress early, small
# enough not to bounce around the minimum late. A **schedule** changes it during the run.
# The one used for most large models today has two phases:
#
# ```
#   lr
#   max_lr |        .-'''''--.._
#          |      .'            ''-._
#          |    .'                   '-._
#          |  .'                         ''-.._
#   min_lr |.'                                 ''--.............
#          +----+-------------------------------------+-----------> step
#          0    warmup_steps                          total_steps
#           warm-up          cosine decay                 flat at min_lr
# ```
#
# **Warm-up.** At the very start the weights are random, the gradients are large and, for
# Adam, the moment estimates rest on a handful of batches. Full-size steps now can push
# the model into a bad region. So the learning rate climbs linearly from small to `max_lr`
# over `warmup_steps` steps.
#
# **Cosine decay.** Then it falls from `max_lr` to `min_lr` along half a cosine wave:
# slowly at first (the model is still far from a minimum), fastest in the middle, and
# slowly again at the end, where small steps settle into the minimum. After `total_steps`
# it stays at `min_lr`.
#
# The formula, for step $t = 0, 1, 2, \dots$ with $W$ = `warmup_steps` and $T$ =
# `total_steps`:
#
# $$\eta(t) = \begin{cases}
#   \eta_{\max} \cdot \dfrac{t + 1}{W} & t < W \\[2ex]
#   \eta_{\min} + \tfrac{1}{2}\,(\eta_{\max} - \eta_{\min})\,\big(1 + \cos(\pi p)\big),
#   \quad p = \dfrac{\min(t - W,\; T - W)}{T - W} & t \ge W
# \end{cases}$$
#
# The warm-up reaches $\eta_{\max}$ at its last step, $t = W - 1$, rather than starting at 0:
# a step with learning rate 0 would be wasted. The progress $p$ runs from 0 at $t = W$ to 1
# at $t = T$, and stays 1 afterwards; $\cos(0) = 1$ gives $\eta_{\max}$ and $\cos(\pi) = -1$
# gives $\eta_{\min}$. With `max_lr=0.1, min_lr=0.01, total_steps=10, warmup_steps=2`:
#
# ```
#   t      0      1      2      3       4       5       6      7       8       9      10    11..
#   lr   0.050  0.100  0.100  0.0966  0.0868  0.0722  0.055  0.0378  0.0232  0.0134  0.010  0.010
# ```
#
# **How it drives the optimizer.** The schedule owns a step counter, `step_count`. Creating
# it sets `optimizer.lr = lr_at(0)`, the rate of the first optimizer step; each call of
# `step()` adds one to the counter and sets `optimizer.lr = lr_at(step_count)`. So the
# $k$-th optimizer step (counting from 0) always runs with `lr_at(k)`. `lr_at(t)` is a pure
# function of `t`: it computes, it does not change anything, so you can plot the schedule
# before you train with it.
#
# Contract: `CosineSchedule(optimizer, max_lr, min_lr, total_steps, warmup_steps=0)`
# raises `ValueError` unless `0 <= min_lr <= max_lr` and `0 <= warmup_steps < total_steps`
# (a decay phase of at least one step); it stores its arguments (`max_lr` and `min_lr` as
# floats) and `step_count = 0`. `lr_at(t)` returns a Python `float` and raises `ValueError`
# for a negative `t`.


# %% kind="solution" id="cosine_schedule" export=true
class CosineSchedule:
    """Linear warm-up to max_lr over warmup_steps steps, then cosine decay to min_lr at
    total_steps, then min_lr. Drives optimizer.lr (any optimizer with an lr attribute).

    With W = warmup_steps and T = total_steps, the learning rate of step t (t >= 0) is
        max_lr * (t + 1) / W                                            if t < W
        min_lr + 0.5 * (max_lr - min_lr) * (1 + cos(pi * p))            if t >= W
    where p = min(t - W, T - W) / (T - W).

    Attributes:
        optimizer: the optimizer whose lr this schedule sets.
        max_lr, min_lr: floats; total_steps, warmup_steps: ints.
        step_count: how many times step() has been called (0 at first).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        min_lr: float,
        total_steps: int,
        warmup_steps: int = 0,
    ) -> None:
        """Check and store the settings, set step_count = 0 and optimizer.lr = lr_at(0).

        Raises:
            ValueError: unless 0 <= min_lr <= max_lr, naming both.
            ValueError: unless 0 <= warmup_steps < total_steps, naming both.
        """
        # Task cosine_schedule: check, store, start the counter, set the first lr.
        ### BEGIN SOLUTION
        if not 0 <= min_lr <= max_lr:
            raise ValueError(
                f"CosineSchedule: need 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}"
            )
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"CosineSchedule: need 0 <= warmup_steps < total_steps, got "
                f"warmup_steps={warmup_steps}, total_steps={total_steps}"
            )
        self.optimizer = optimizer
        self.max_lr = float(max_lr)
        self.min_lr = float(min_lr)
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.step_count = 0
        optimizer.lr = self.lr_at(0)
        ### END SOLUTION

    def lr_at(self, step: int) -> float:
        """The learning rate of step `step` (see the class docstring), as a Python float.

        A pure function: it changes neither the schedule nor the optimizer.

        Raises:
            ValueError: if step < 0.

        Hint: math.cos and math.pi work on Python floats.
        """
        # Task cosine_schedule: warm-up branch, then the cosine branch with p capped at 1.
        ### BEGIN SOLUTION
        if step < 0:
            raise ValueError(f"CosineSchedule.lr_at: step must be >= 0, got {step}")
        if step < self.warmup_steps:
            return self.max_lr * (step + 1) / self.warmup_steps
        decay_steps = self.total_steps - self.warmup_steps
        progress = min(step - self.warmup_steps, decay_steps) / decay_steps
        return self.min_lr + 0.5 * (self.max_lr - self.min_lr) * (1 + math.cos(math.pi * progress))
        ### END SOLUTION

    def step(self) -> None:
        """Advance the counter by one and set optimizer.lr = lr_at(step_count)."""
        # Task cosine_schedule: count the step and set the optimizer's learning rate.
        ### BEGIN SOLUTION
        self.step_count += 1
        self.optimizer.lr = self.lr_at(self.step_count)
        ### END SOLUTION


# %% [markdown]
# ### Test `cosine_schedule`

# %% kind="test" id="test_cosine_schedule" points=4
opt = SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
schedule = CosineSchedule(opt, max_lr=0.1, min_lr=0.01, total_steps=10, warmup_steps=2)
assert_float(opt.lr, 0.05, "optimizer.lr right after creating the schedule (lr_at(0))")
assert schedule.step_count == 0, f"step_count should start at 0, got {schedule.step_count!r}."
for t, lr in ((0, 0.05), (1, 0.1), (2, 0.1), (6, 0.055), (10, 0.01), (11, 0.01), (25, 0.01)):
    assert_float(schedule.lr_at(t), lr, f"lr_at({t}) (see the table in the text)")
assert_float(schedule.lr_at(3), 0.01 + 0.045 * (1 + math.cos(math.pi / 8)), "lr_at(3)")
assert_float(opt.lr, 0.05, "optimizer.lr after calling lr_at (a pure function: unchanged)")
for k in range(1, 4):
    schedule.step()
    assert schedule.step_count == k, f"step_count after {k} step() calls, got {schedule.step_count}"
    assert_float(opt.lr, schedule.lr_at(k), f"optimizer.lr after {k} step() calls (lr_at({k}))")
no_warmup = CosineSchedule(opt, max_lr=0.2, min_lr=0.0, total_steps=4)
assert_float(opt.lr, 0.2, "without warm-up, the first lr is max_lr")
assert_float(no_warmup.lr_at(2), 0.1, "without warm-up, half way down the cosine")
for kwargs in (
    {"max_lr": 0.1, "min_lr": 0.2, "total_steps": 10},
    {"max_lr": 0.1, "min_lr": 0.0, "total_steps": 10, "warmup_steps": 10},
):
    err = raised(lambda kwargs=kwargs: CosineSchedule(opt, **kwargs))
    assert isinstance(err, ValueError), (
        f"CosineSchedule(opt, **{kwargs}) should raise ValueError, got "
        f"{type(err).__name__ if err else 'no error'}."
    )


### BEGIN HIDDEN TESTS
# hidden: lr_at follows the formula at every step, for many settings
def _h_lr(t, max_lr, min_lr, total, warmup):
    if t < warmup:
        return max_lr * (t + 1) / warmup
    p = min(t - warmup, total - warmup) / (total - warmup)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * p))


configs = [(0.3, 0.02, 20, 5), (1e-3, 1e-5, 7, 1), (0.5, 0.0, 12, 0), (2.0, 0.5, 4, 3)]
configs += [(0.1, 0.1, 6, 2), (0.05, 0.01, 100, 10), (0.2, 0.05, 8, 0)]
for max_lr, min_lr, total, warmup in configs:
    o = Adam([Tensor([1.0], requires_grad=True)], lr=123.0)
    s = CosineSchedule(o, max_lr, min_lr, total, warmup)
    for t in range(total + 6):
        got = s.lr_at(t)
        assert type(got) is float, "lr_at returns a Python float"
        assert check_close(got, _h_lr(t, max_lr, min_lr, total, warmup), rtol=1e-12, atol=0), (
            "lr_at follows the warm-up and cosine formula"
        )
# hidden: the boundaries of the warm-up and of the decay
s = CosineSchedule(SGD([Tensor([1.0], requires_grad=True)], lr=1.0), 0.4, 0.1, 9, 4)
assert check_close(s.lr_at(0), 0.1, rtol=1e-12, atol=0), "the first warm-up step is max_lr / W"
assert check_close(s.lr_at(3), 0.4, rtol=1e-12, atol=0), "the last warm-up step reaches max_lr"
assert check_close(s.lr_at(4), 0.4, rtol=1e-12, atol=0), "the decay starts at max_lr"
assert check_close(s.lr_at(5), _h_lr(5, 0.4, 0.1, 9, 4), rtol=1e-12, atol=0), "the decay goes on"
assert check_close(s.lr_at(9), 0.1, rtol=1e-12, atol=0), "the decay ends at min_lr at total_steps"
assert check_close(s.lr_at(50), 0.1, rtol=1e-12, atol=0), "the lr stays at min_lr afterwards"
s1 = CosineSchedule(SGD([Tensor([1.0], requires_grad=True)], lr=1.0), 0.3, 0.1, 2, 1)
assert check_close(s1.lr_at(0), 0.3, rtol=1e-12, atol=0), "a one-step warm-up starts at max_lr"
assert check_close(s1.lr_at(1), 0.3, rtol=1e-12, atol=0), "a one-step decay starts at max_lr"
assert check_close(s1.lr_at(2), 0.1, rtol=1e-12, atol=0), "a one-step decay ends at min_lr"
# hidden: creating the schedule sets optimizer.lr to lr_at(0); step() advances it
for max_lr, min_lr, total, warmup in configs:
    o = SGD([Tensor([1.0], requires_grad=True)], lr=123.0, momentum=0.9)
    s = CosineSchedule(o, max_lr, min_lr, total, warmup)
    assert s.optimizer is o, "the schedule stores its optimizer"
    assert s.step_count == 0, "step_count starts at 0"
    assert type(o.lr) is float, "the optimizer's lr is a Python float"
    assert check_close(o.lr, _h_lr(0, max_lr, min_lr, total, warmup), rtol=1e-12, atol=0), (
        "creating the schedule sets optimizer.lr = lr_at(0)"
    )
    for k in range(1, total + 3):
        assert s.step() is None, "step() returns None"
        assert s.step_count == k, "step() adds one to step_count"
        assert check_close(o.lr, _h_lr(k, max_lr, min_lr, total, warmup), rtol=1e-12, atol=0), (
            "after k calls of step(), optimizer.lr is lr_at(k)"
        )
    s.lr_at(0)
    s.lr_at(3)
    assert s.step_count == total + 2, "lr_at does not change step_count"
    assert check_close(o.lr, _h_lr(total + 2, max_lr, min_lr, total, warmup), rtol=1e-12, atol=0), (
        "lr_at does not change optimizer.lr"
    )
s = CosineSchedule(SGD([Tensor([1.0], requires_grad=True)], lr=1.0), 1, 0, 5, 2)
assert type(s.max_lr) is float and type(s.min_lr) is float, "max_lr and min_lr are floats"
assert (s.total_steps, s.warmup_steps) == (5, 2), "total_steps and warmup_steps are stored"
# hidden: invalid settings raise ValueError
o = SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
for args in (
    (0.1, 0.2, 10, 0),
    (0.1, 0.2, 10, 3),
    (0.1, -0.01, 10, 0),
    (-0.1, -0.2, 10, 0),
    (0.1, 0.0, 10, 11),
    (0.1, 0.0, 5, 5),
    (0.1, 0.0, 10, -1),
    (0.1, 0.0, 0, 0),
):
    try:
        CosineSchedule(o, *args)
        failed = False
    except ValueError:
        failed = True
    assert failed, "settings outside 0 <= min_lr <= max_lr, 0 <= W < T raise ValueError"
CosineSchedule(o, 0.0, 0.0, 1, 0)  # the smallest valid settings
s = CosineSchedule(o, 0.1, 0.0, 10, 2)
for bad in (-1, -5):
    try:
        s.lr_at(bad)
        failed = False
    except ValueError:
        failed = True
    assert failed, "lr_at of a negative step raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## The `Trainer`: three tasks in one class
#
# `Trainer(model, loss_fn, optimizer, schedule=None, clip=None)` holds everything a run
# needs and remembers where it is: `epoch` (epochs completed), `global_step` (optimizer
# steps taken, over all epochs) and `history` (one dict per epoch). Its constructor is
# given. You write three of its methods, one task each; their tests come after the class.
#
# ### Task `train_epoch` (5 points)
#
# `train_epoch(batches)` runs the loop at the top of this notebook once over `batches`, an
# iterable of `(inputs, targets)` pairs (a list, a generator, later a `DataLoader`):
#
# 1. switch the model to training mode, `model.train()` (an `evaluate` call, or the user,
#    may have left it in evaluation mode, which would silently switch dropout off);
# 2. for each batch: turn the inputs into a `Tensor` if they are not one, then
#    `optimizer.zero_grad()`, `logits = model(inputs)`, `loss = loss_fn(logits, targets)`,
#    `loss.backward()`, `clip_grad_norm(model.parameters(), clip)` if `clip` is not None,
#    `optimizer.step()`, `schedule.step()` if there is a schedule, and `global_step += 1`;
# 3. keep running totals for the epoch's loss and accuracy, **weighted by batch size**;
# 4. add one to `epoch`, append `{"epoch": epoch, "loss": ..., "accuracy": ...}` to
#    `history`, and return that dict.
#
# **Averaging over uneven batches.** A loss function returns the **mean** over its batch.
# The epoch's loss should be the mean over all examples, so each batch counts with its
# size $n_b$ (the number of targets, `len(targets)`):
#
# $$\text{loss}_{\text{epoch}} = \frac{\sum_b n_b\,\text{loss}_b}{\sum_b n_b}, \qquad
#   \text{accuracy}_{\text{epoch}} = \frac{\sum_b n_b\,\text{accuracy}_b}{\sum_b n_b}.$$
#
# With 100 examples in batches of 32, the last batch holds 4; a plain mean of the four
# batch losses would give those 4 examples the weight of 32. Use `loss.item()` to take the
# number out of the 0-d Tensor, and your `accuracy(logits, targets)` for the batch's
# accuracy. These are measured **during** the epoch, each batch before its own update (as
# every training log does): a cheap running estimate, not an evaluation of the final
# weights.
#
# An epoch without a single batch is a mistake (an exhausted generator, an empty list):
# raise `ValueError` and change nothing.
#
# ### Task `evaluate` (2 points)
#
# `evaluate(batches)` measures the model on data it does not learn from, and must leave no
# trace:
#
# - **evaluation mode**: remember `model.training`, call `model.eval()` (dropout off), and
#   put the old mode back with `model.train(old_mode)` when done, **even if a batch raises
#   an error** (`try` / `finally`);
# - **no graph**: run every forward pass inside `with no_grad():`, which saves the memory
#   and time of recording;
# - **no changes**: no `zero_grad`, no `backward`, no optimizer or schedule step; the
#   parameters, their gradients, `epoch`, `global_step` and `history` stay as they were.
#
# It returns `{"loss": ..., "accuracy": ...}` with the same weighted means as
# `train_epoch`, and raises `ValueError` when there is no batch.
#
# ### Task `checkpoint` (4 points)
#
# A long run gets interrupted: a time limit on a shared machine, a crash, a laptop lid. A
# **checkpoint** saves everything needed to continue, and "continue" should mean exactly
# that: the resumed run must produce **the same bits** as a run that was never stopped.
# That is the test: train two epochs, save, train a third (run A); load the checkpoint
# into a **fresh** model and optimizer, train a third epoch (run B); every parameter of A
# and B must be equal, `np.array_equal`, not just close.
#
# What has to be saved:
#
# | what | why |
# |---|---|
# | every parameter's `.data` | the model itself |
# | `optimizer.state_dict()` | momentum buffers, Adam's moments and step counts, and the current `lr` |
# | `epoch`, `global_step` | where the run is; the schedule's counter follows `global_step` |
#
# Miss the optimizer state and Adam restarts with empty moments and a step count of 0: its
# bias correction then treats the next gradient as its first, and the resumed run takes a
# few large steps (a spike in the loss curve). Miss `global_step` and the schedule jumps
# back to warm-up.
#
# **The file.** `np.savez(file, **arrays)` stores a dict of arrays in one `.npz` file, and
# `np.load(path)` gives them back by name. It stores arrays only, so the nested
# `state_dict()` is **flattened** into one key per value, with this exact layout:
#
# ```
#   "model.{i}"                          parameters()[i].data, i = 0, 1, ...
#   "optimizer.state.{i}.{name}"         optimizer.state_dict()["state"][i][name]
#   "optimizer.hyperparameters.{name}"   optimizer.state_dict()["hyperparameters"][name]
#   "trainer.epoch", "trainer.global_step"
# ```
#
# For Adam after some steps, for instance: `"optimizer.state.0.step"` (an int),
# `"optimizer.state.0.exp_avg"` (an array), `"optimizer.hyperparameters.betas"` (a pair of
# floats), `"optimizer.hyperparameters.lr"`. Open the file yourself,
# `with open(path, "wb") as f: np.savez(f, **arrays)`, so that it is written at exactly
# `path` (given a name, `np.savez` adds `.npz` to it when it is missing).
#
# **Loading, and why types matter.** Every value comes back from the file as an array,
# numbers too: `lr` comes back as a 0-d float64 array. That looks harmless and is not. Under
# NumPy 2's type rules a Python `float` adapts to the array it meets, so `lr * m_hat`
# stays float32, as in the run that never stopped; a NumPy float64 does not adapt, so the
# product is computed in float64 and rounded to float32 only when written into the
# parameter. The numbers differ in the last bit, and run B drifts away from run A. So
# convert back to what `state_dict()` held:
#
# - a 0-d array becomes a Python number: `value.item()` (an `int` stays an `int`);
# - a state array with one or more axes stays an array (every parameter in this course
#   has at least one axis, so a 0-d state entry is always a number such as Adam's `step`);
# - a hyperparameter with one or more axes becomes a tuple: `tuple(value.tolist())`
#   (Adam's `betas`).
#
# Then `load_checkpoint(path)`:
#
# 1. reads every array (`with np.load(path) as archive: ...`, then `archive[key]` for each
#    key in `archive.files`);
# 2. **checks first**: the number of `"model.{i}"` entries must equal the number of the
#    model's parameters, and each saved array must have its parameter's shape, else
#    `ValueError` (naming the counts or the index and both shapes), with nothing changed;
# 3. rebuilds `{"state": [...], "hyperparameters": {...}}` (one state dict per optimizer
#    parameter, empty where nothing was saved) and hands it to
#    `optimizer.load_state_dict` (Module 06), which checks it too;
# 4. writes the saved values into the parameters, `p.data[...] = saved` (in place, float32);
# 5. restores `epoch` and `global_step` as `int`s and, when there is a schedule, sets
#    `schedule.step_count = global_step`.
#
# `history` is not saved: it is a log, and the next `train_epoch` continues numbering from
# the restored `epoch`.


# %% kind="solution" id="trainer" export=true
class Trainer:
    """Runs training epochs and evaluations for a model, and saves and restores the run.

    Attributes:
        model: a Layer (callable, with parameters(), train() and eval()).
        loss_fn: a callable, loss_fn(logits, targets) -> 0-d Tensor (a Module 04 loss).
        optimizer: an Optimizer over model.parameters(), in the same order.
        schedule: a CosineSchedule driving optimizer.lr, or None.
        clip: the max_norm for clip_grad_norm, or None for no clipping.
        epoch: the number of epochs completed (0 at first).
        global_step: the number of optimizer steps taken (0 at first).
        history: a list with the dict train_epoch returned for each epoch.
    """

    def __init__(
        self,
        model: Layer,
        loss_fn: Callable,
        optimizer: Optimizer,
        schedule: "CosineSchedule | None" = None,
        clip: float | None = None,
    ) -> None:
        """Store the parts; start at epoch 0, global_step 0, with an empty history (given)."""
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.schedule = schedule
        self.clip = clip
        self.epoch = 0
        self.global_step = 0
        self.history: list[dict] = []

    def train_epoch(self, batches: Iterable) -> dict:
        """One pass over batches, updating the model after every batch.

        Args:
            batches: an iterable of (inputs, targets) pairs; inputs a Tensor (or an array,
                made into a Tensor), targets whatever loss_fn accepts (class indices).

        For each batch, in this order: optimizer.zero_grad(); logits = model(inputs);
        loss = loss_fn(logits, targets); loss.backward(); clip_grad_norm(
        model.parameters(), clip) unless clip is None; optimizer.step(); schedule.step()
        unless schedule is None; global_step += 1. The model is put in training mode first.

        Returns:
            {"epoch": the new epoch number, "loss": the mean loss, "accuracy": the mean
            accuracy}, both means over all examples (each batch weighted by len(targets)),
            as Python floats. The same dict is appended to history, and epoch grows by one.

        Raises:
            ValueError: if batches holds no batch (then epoch and history are unchanged).
        """
        # Task train_epoch: the loop, the weighted totals, then epoch, history and the result.
        ### BEGIN SOLUTION
        self.model.train()
        loss_sum, correct, count = 0.0, 0.0, 0
        for inputs, targets in batches:
            if not isinstance(inputs, Tensor):
                inputs = Tensor(inputs)
            self.optimizer.zero_grad()
            logits = self.model(inputs)
            loss = self.loss_fn(logits, targets)
            loss.backward()
            if self.clip is not None:
                clip_grad_norm(self.model.parameters(), self.clip)
            self.optimizer.step()
            if self.schedule is not None:
                self.schedule.step()
            self.global_step += 1
            n = len(targets)
            loss_sum += loss.item() * n
            correct += accuracy(logits, targets) * n
            count += n
        if count == 0:
            raise ValueError("train_epoch: no batches; is the iterable already used up?")
        self.epoch += 1
        record = {"epoch": self.epoch, "loss": loss_sum / count, "accuracy": correct / count}
        self.history.append(record)
        return record
        ### END SOLUTION

    def evaluate(self, batches: Iterable) -> dict:
        """The mean loss and accuracy over batches, without changing anything.

        Runs in evaluation mode and under no_grad(); afterwards the model's training mode is
        what it was before (also when a batch raises). No gradients, parameters, optimizer
        state, counters or history change.

        Returns:
            {"loss": ..., "accuracy": ...}, means over all examples (weighted by batch size)
            as Python floats.

        Raises:
            ValueError: if batches holds no batch.
        """
        # Task evaluate: eval mode and no_grad, weighted totals, restore the mode in finally.
        ### BEGIN SOLUTION
        was_training = self.model.training
        self.model.eval()
        loss_sum, correct, count = 0.0, 0.0, 0
        try:
            with no_grad():
                for inputs, targets in batches:
                    if not isinstance(inputs, Tensor):
                        inputs = Tensor(inputs)
                    logits = self.model(inputs)
                    n = len(targets)
                    loss_sum += self.loss_fn(logits, targets).item() * n
                    correct += accuracy(logits, targets) * n
                    count += n
        finally:
            self.model.train(was_training)
        if count == 0:
            raise ValueError("evaluate: no batches to evaluate")
        return {"loss": loss_sum / count, "accuracy": correct / count}
        ### END SOLUTION

    def save_checkpoint(self, path: str) -> None:
        """Write parameters, optimizer state and counters to an .npz file at exactly path.

        Keys: "model.{i}", "optimizer.state.{i}.{name}", "optimizer.hyperparameters.{name}",
        "trainer.epoch", "trainer.global_step" (see the text). Changes nothing in memory.
        """
        # Task checkpoint: flatten everything into a dict of arrays; np.savez into open(path).
        ### BEGIN SOLUTION
        arrays = {
            "trainer.epoch": np.asarray(self.epoch),
            "trainer.global_step": np.asarray(self.global_step),
        }
        for i, p in enumerate(self.model.parameters()):
            arrays[f"model.{i}"] = p.data
        saved = self.optimizer.state_dict()
        for i, state in enumerate(saved["state"]):
            for name, value in state.items():
                arrays[f"optimizer.state.{i}.{name}"] = np.asarray(value)
        for name, value in saved["hyperparameters"].items():
            arrays[f"optimizer.hyperparameters.{name}"] = np.asarray(value)
        with open(path, "wb") as file:
            np.savez(file, **arrays)
        ### END SOLUTION

    def load_checkpoint(self, path: str) -> None:
        """Restore what save_checkpoint wrote, so that training continues bit for bit.

        Raises (checked before anything changes):
            ValueError: if the file holds a different number of parameters than the model,
                or a parameter of another shape.
        Afterwards: parameters hold the saved values (in place, float32), the optimizer
        holds the saved state and hyperparameters (0-d arrays as Python numbers, betas as a
        tuple), epoch and global_step are ints, and schedule.step_count = global_step.
        """
        # Task checkpoint: read, check, rebuild the state dict, restore everything.
        ### BEGIN SOLUTION
        with np.load(path) as archive:
            arrays = {key: archive[key] for key in archive.files}
        params = self.model.parameters()
        count = sum(key.startswith("model.") for key in arrays)
        if count != len(params):
            raise ValueError(
                f"load_checkpoint: the file holds {count} parameters, the model has {len(params)}"
            )
        for i, p in enumerate(params):
            shape = arrays[f"model.{i}"].shape
            if shape != p.shape:
                raise ValueError(
                    f"load_checkpoint: parameter {i} has shape {p.shape}, the file holds {shape}"
                )
        state = [{} for _ in self.optimizer.params]
        hyperparameters = {}
        for key, value in arrays.items():
            parts = key.split(".")
            if parts[:2] == ["optimizer", "state"]:
                state[int(parts[2])][parts[3]] = value.item() if value.ndim == 0 else value
            elif parts[:2] == ["optimizer", "hyperparameters"]:
                restored = value.item() if value.ndim == 0 else tuple(value.tolist())
                hyperparameters[parts[2]] = restored
        self.optimizer.load_state_dict({"state": state, "hyperparameters": hyperparameters})
        for i, p in enumerate(params):
            p.data[...] = arrays[f"model.{i}"]
        self.epoch = int(arrays["trainer.epoch"])
        self.global_step = int(arrays["trainer.global_step"])
        if self.schedule is not None:
            self.schedule.step_count = self.global_step
        ### END SOLUTION


# %% [markdown]
# ### Test `train_epoch`
#
# The test writes the same epoch out by hand, on a twin of the model (same seeds), and
# compares: your trainer must leave exactly the parameters the hand-written loop leaves,
# and report the loss and accuracy averaged over examples. The batches have 40, 40 and 16
# examples, so a plain mean over batches would be wrong.

# %% kind="test" id="test_train_epoch" points=5
inputs, labels = blobs(96, seed=0)
batches = batches_of(inputs, labels, [40, 40, 16])
model = make_mlp(seed=1)
trainer = Trainer(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.3))

twin = make_mlp(seed=1)
twin_opt = SGD(twin.parameters(), lr=0.3)
loss_fn = CrossEntropyLoss()
loss_sum, hits = 0.0, 0
for x, y in batches:
    twin_opt.zero_grad()
    logits = twin(x)
    loss = loss_fn(logits, y)
    loss.backward()
    twin_opt.step()
    loss_sum += loss.item() * len(y)
    hits += int(np.sum(np.argmax(logits.data, axis=1) == y))

record = trainer.train_epoch(batches)
assert type(record) is dict and set(record) == {"epoch", "loss", "accuracy"}, (
    f"train_epoch should return a dict with keys 'epoch', 'loss', 'accuracy', got {record!r}."
)
assert record["epoch"] == 1, f"the first epoch's record should say epoch 1, got {record['epoch']}."
assert_float(record["loss"], loss_sum / 96, "the epoch's loss (mean over the 96 examples)")
assert_float(record["accuracy"], hits / 96, "the epoch's accuracy (right answers / 96)")
for i, (p, q) in enumerate(zip(model.parameters(), twin.parameters(), strict=True)):
    assert np.allclose(p.data, q.data, rtol=1e-5, atol=1e-7), (
        f"parameter {i} after one epoch differs from the hand-written loop: check the order "
        "zero_grad, forward, loss, backward, step, once per batch."
    )
assert (trainer.epoch, trainer.global_step) == (1, 3), (
    f"after one epoch of 3 batches: epoch 1 and global_step 3, got {trainer.epoch} and "
    f"{trainer.global_step}."
)
assert len(trainer.history) == 1 and trainer.history[0]["loss"] == record["loss"], (
    f"history should hold the epoch's record, got {trainer.history!r}."
)

trainer.train_epoch(batches)
trainer.train_epoch(batches)
losses = [h["loss"] for h in trainer.history]
assert len(losses) == 3 and losses[0] > losses[1] > losses[2], (
    f"the loss should fall from epoch to epoch on this easy data set, got {losses}."
)
assert (trainer.epoch, trainer.global_step) == (3, 9), (
    f"after three epochs: epoch 3, global_step 9, got {trainer.epoch}, {trainer.global_step}."
)

again = make_mlp(seed=1)
trainer2 = Trainer(again, CrossEntropyLoss(), SGD(again.parameters(), lr=0.3))
for _ in range(3):
    trainer2.train_epoch(batches)
assert [h["loss"] for h in trainer2.history] == losses, (
    "two runs with the same seeds and batches should give exactly the same losses."
)
assert all(
    np.array_equal(p.data, q.data)
    for p, q in zip(model.parameters(), again.parameters(), strict=True)
), "two runs with the same seeds and batches should give exactly the same parameters."


### BEGIN HIDDEN TESTS
# hidden: the trainer matches the hand-written loop with Adam, clipping and a schedule
def _h_lr(t, max_lr, min_lr, total, warmup):
    if t < warmup:
        return max_lr * (t + 1) / warmup
    p = min(t - warmup, total - warmup) / (total - warmup)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * p))


def _h_epoch(model, opt, batches, clip=None, sched=None, step0=0):
    """The epoch by hand: (weighted loss, weighted accuracy, steps taken)."""
    ce = CrossEntropyLoss()
    total, right, count, k = 0.0, 0, 0, step0
    for x, y in batches:
        x = x if isinstance(x, Tensor) else Tensor(x)
        y_arr = y.data if isinstance(y, Tensor) else np.asarray(y)
        opt.zero_grad()
        logits = model(x)
        loss = ce(logits, y)
        loss.backward()
        if clip is not None:
            gs = [p.grad for p in model.parameters() if p.grad is not None]
            norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in gs))
            if norm > clip:
                for g in gs:
                    g *= clip / (norm + 1e-6)
        opt.step()
        k += 1
        if sched is not None:
            opt.lr = _h_lr(k, *sched)
        total += loss.item() * len(y_arr)
        right += int(np.sum(np.argmax(logits.data, axis=-1) == y_arr))
        count += len(y_arr)
    return total / count, right / count, k


def _h_close_params(m1, m2):
    return all(
        check_close(p.data, q.data, rtol=1e-5, atol=1e-7)
        for p, q in zip(m1.parameters(), m2.parameters(), strict=True)
    )


hx, hy = blobs(96, seed=5)
h_batches = batches_of(hx, hy, [40, 25, 31])
sched_args = (0.05, 0.005, 12, 3)
m = make_mlp(seed=7, sizes=(4, 12, 8, 3))
o = Adam(m.parameters(), lr=1.0)
s = CosineSchedule(o, *sched_args)
tr = Trainer(m, CrossEntropyLoss(), o, schedule=s, clip=0.1)
ref = make_mlp(seed=7, sizes=(4, 12, 8, 3))
ref_opt = Adam(ref.parameters(), lr=_h_lr(0, *sched_args))
step = 0
for epoch in range(1, 4):
    rec = tr.train_epoch(h_batches)
    ref_loss, ref_acc, step = _h_epoch(ref, ref_opt, h_batches, 0.1, sched_args, step)
    assert type(rec) is dict and rec["epoch"] == epoch, "each record carries its epoch number"
    assert type(rec["loss"]) is float and type(rec["accuracy"]) is float, "values are floats"
    assert check_close(rec["loss"], ref_loss, rtol=1e-5, atol=0), (
        "the epoch loss is the mean over examples, batches weighted by their size"
    )
    assert check_close(rec["accuracy"], ref_acc, rtol=1e-9, atol=1e-12), (
        "the epoch accuracy is the fraction of right answers over all examples"
    )
    assert _h_close_params(m, ref), (
        "each step runs zero_grad, forward, loss, backward, clip, step, schedule in order"
    )
    assert (tr.epoch, tr.global_step) == (epoch, 3 * epoch), "epoch and global_step count up"
    assert s.step_count == tr.global_step, "the schedule steps once per batch"
    assert check_close(o.lr, _h_lr(3 * epoch, *sched_args), rtol=1e-12, atol=0), (
        "the schedule sets the learning rate after every optimizer step"
    )
assert [h["epoch"] for h in tr.history] == [1, 2, 3], "history holds one record per epoch"
assert tr.history[-1]["loss"] == rec["loss"], "the returned record is the one in history"
# hidden: clipping is applied to every step when clip is set
m = make_mlp(seed=8)
tr = Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.5, momentum=0.5), clip=0.05)
ref = make_mlp(seed=8)
ref_opt = SGD(ref.parameters(), lr=0.5, momentum=0.5)
for _ in range(2):
    rec = tr.train_epoch(h_batches)
    ref_loss, _, _ = _h_epoch(ref, ref_opt, h_batches, clip=0.05)
    assert check_close(rec["loss"], ref_loss, rtol=1e-5, atol=0), "clipped training gives its loss"
    assert _h_close_params(m, ref), "gradients are clipped before every optimizer step"
# hidden: array inputs, Tensor targets and a generator of batches are accepted
m = make_mlp(seed=9)
tr = Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.2))
ref = make_mlp(seed=9)
ref_opt = SGD(ref.parameters(), lr=0.2)
raw = [(hx[i : i + 30], Tensor(hy[i : i + 30])) for i in range(0, 96, 30)]
rec = tr.train_epoch(b for b in raw)
ref_loss, ref_acc, _ = _h_epoch(ref, ref_opt, raw)
assert check_close(rec["loss"], ref_loss, rtol=1e-5, atol=0), "array inputs are made into Tensors"
assert check_close(rec["accuracy"], ref_acc, rtol=1e-9, atol=0), "Tensor targets are accepted"
assert _h_close_params(m, ref), "a generator of batches is consumed once"
assert tr.global_step == 4, "every batch of a generator is one step"
# hidden: the model is switched to training mode before the epoch
m = make_mlp(seed=10, sizes=(4, 8, 8, 3), dropout=0.2)
tr = Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.1))
m.eval()
tr.train_epoch(h_batches)
assert m.training is True, "train_epoch switches the model to training mode"
assert all(layer.training is True for layer in m.layers if isinstance(layer, Dropout)), (
    "train_epoch switches every sublayer to training mode"
)
# hidden: an epoch without batches raises ValueError and changes nothing
before = snapshot(m)
for empty in ([], iter([]), (b for b in [])):
    try:
        tr.train_epoch(empty)
        failed = False
    except ValueError:
        failed = True
    assert failed, "an epoch without batches raises ValueError"
assert (tr.epoch, tr.global_step, len(tr.history)) == (1, 3, 1), (
    "an epoch without batches changes no counter and no history"
)
assert all(check_equal(p.data, v) for p, v in zip(m.parameters(), before, strict=True)), (
    "an epoch without batches changes no parameter"
)
# hidden: training is exactly reproducible and the loss falls
runs = []
for _ in range(2):
    m = make_mlp(seed=12, sizes=(4, 16, 3))
    o = Adam(m.parameters(), lr=0.03)
    tr = Trainer(m, CrossEntropyLoss(), o, schedule=CosineSchedule(o, 0.03, 0.003, 9, 2))
    for _ in range(3):
        tr.train_epoch(h_batches)
    runs.append((tr.history, snapshot(m)))
assert runs[0][0] == runs[1][0], "two identical runs give identical histories"
assert all(check_equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True)), (
    "two identical runs give identical parameters"
)
h_losses = [h["loss"] for h in runs[0][0]]
assert h_losses[0] > h_losses[1] > h_losses[2], "the loss falls over three epochs"


# hidden: each batch counts with its number of targets, which its inputs may not share


class _HTokens(Layer):
    """Batches of sequences of 4-feature tokens: (B, T, 4) -> logits (B * T, 3)."""

    def __init__(self, seed):
        super().__init__()
        self.mlp = make_mlp(seed)

    def forward(self, x):
        return self.mlp(x.reshape(-1, 4))


def _h_tokens(hx, hy, lengths):
    """(B, T, 4) inputs with (B * T,) targets, for each (B, T) of lengths in turn."""
    batches, start = [], 0
    for b, t in lengths:
        stop = start + b * t
        batches.append((Tensor(hx[start:stop].reshape(b, t, 4)), hy[start:stop]))
        start = stop
    return batches


t_batches = _h_tokens(hx, hy, [(4, 3), (2, 5), (8, 1)])
m, ref = _HTokens(14), _HTokens(14)
tr = Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.2))
rec = tr.train_epoch(t_batches)
ref_loss, ref_acc, _ = _h_epoch(ref, SGD(ref.parameters(), lr=0.2), t_batches)
assert check_close(rec["loss"], ref_loss, rtol=1e-5, atol=0), (
    "the epoch loss weights each batch by its number of targets"
)
assert check_close(rec["accuracy"], ref_acc, rtol=1e-9, atol=1e-12), (
    "the epoch accuracy weights each batch by its number of targets"
)
# hidden: an epoch without a right answer, at a loss of exactly 0, is still an epoch
m = make_mlp(seed=15)
with no_grad():
    wrong = [(x, (np.argmax(m(x).data, axis=-1) + 1) % 3) for x, _ in h_batches]
tr = Trainer(m, lambda z, y: (z * 0.0).sum(), SGD(m.parameters(), lr=0.1))
rec = tr.train_epoch(wrong)
assert type(rec) is dict and rec["epoch"] == 1, "an epoch with every answer wrong is an epoch"
assert type(rec["loss"]) is float and rec["loss"] == 0.0, "a loss of 0 averages to 0.0"
assert type(rec["accuracy"]) is float and rec["accuracy"] == 0.0, "no right answer gives 0.0"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `evaluate`
#
# The model has dropout, so evaluation mode matters: with dropout on, two evaluations of
# the same model would disagree.

# %% kind="test" id="test_evaluate" points=2
inputs, labels = blobs(80, seed=3)
batches = batches_of(inputs, labels, [30, 30, 20])
model = make_mlp(seed=4, sizes=(4, 16, 3), dropout=0.5)
opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
trainer = Trainer(model, CrossEntropyLoss(), opt)
trainer.train_epoch(batches)

model.eval()
with no_grad():
    out = [(CrossEntropyLoss()(model(x), y).item(), model(x).data, y) for x, y in batches]
model.train()
expected_loss = sum(loss * len(y) for loss, _, y in out) / 80
expected_acc = sum(int(np.sum(np.argmax(z, axis=1) == y)) for _, z, y in out) / 80

values, grads = snapshot(model), [p.grad for p in model.parameters()]
result = trainer.evaluate(batches)
assert type(result) is dict and set(result) == {"loss", "accuracy"}, (
    f"evaluate should return a dict with keys 'loss' and 'accuracy', got {result!r}."
)
assert_float(result["loss"], expected_loss, "evaluate's loss (in evaluation mode: no dropout)")
assert_float(result["accuracy"], expected_acc, "evaluate's accuracy")
assert model.training is True and model.layers[2].training is True, (
    "the model was in training mode before evaluate, so it should be in training mode after."
)
assert all(np.array_equal(p.data, v) for p, v in zip(model.parameters(), values, strict=True)), (
    "evaluate should not change any parameter."
)
assert all(p.grad is g for p, g in zip(model.parameters(), grads, strict=True)), (
    "evaluate should not touch the gradients (no zero_grad, no backward)."
)
assert (trainer.epoch, trainer.global_step, len(trainer.history)) == (1, 3, 1), (
    "evaluate should not change epoch, global_step or history."
)
model.eval()
trainer.evaluate(batches)
assert model.training is False, "a model in evaluation mode should stay in evaluation mode."

### BEGIN HIDDEN TESTS
# hidden: the weighted mean loss and accuracy in evaluation mode, the same every time
hx, hy = blobs(60, seed=21)
h_batches = batches_of(hx, hy, [17, 40, 3])
m = make_mlp(seed=22, sizes=(4, 10, 10, 3), dropout=0.3)
o = Adam(m.parameters(), lr=0.01)
tr = Trainer(m, CrossEntropyLoss(), o, schedule=CosineSchedule(o, 0.01, 0.001, 10, 2))
tr.train_epoch(h_batches)
m.eval()
with no_grad():
    logits = [m(x) for x, _ in h_batches]
exp_loss = sum(
    CrossEntropyLoss()(z, y).item() * len(y) for z, (_, y) in zip(logits, h_batches, strict=True)
)
exp_loss /= 60
exp_acc = sum(
    int(np.sum(np.argmax(z.data, axis=1) == y)) for z, (_, y) in zip(logits, h_batches, strict=True)
)
exp_acc /= 60
m.train()
drop = [layer for layer in m.layers if isinstance(layer, Dropout)]
rng_states = [layer.rng.bit_generator.state for layer in drop]
first = tr.evaluate(h_batches)
second = tr.evaluate(h_batches)
assert type(first["loss"]) is float and type(first["accuracy"]) is float, "values are floats"
assert check_close(first["loss"], exp_loss, rtol=1e-6, atol=0), (
    "the loss is the mean over examples, in evaluation mode"
)
assert check_close(first["accuracy"], exp_acc, rtol=1e-9, atol=1e-12), (
    "the accuracy is the fraction of right answers over all examples"
)
assert first == second, "evaluating twice gives the same result (dropout is off)"
assert all(
    layer.rng.bit_generator.state == st for layer, st in zip(drop, rng_states, strict=True)
), "evaluation mode switches dropout off"
assert m.training is True and all(layer.training for layer in drop), "training mode comes back"
# hidden: nothing changes: parameters, gradients, optimizer state, counters, schedule
for p in m.parameters():
    p.grad = np.ones(p.shape, dtype=np.float32)
grads = [p.grad for p in m.parameters()]
values = snapshot(m)
state = o.state_dict()
lr, count = o.lr, tr.schedule.step_count
tr.evaluate(h_batches)
assert all(p.grad is g for p, g in zip(m.parameters(), grads, strict=True)), (
    "evaluate leaves the gradients alone"
)
assert all(np.all(g == 1.0) for g in grads), "evaluate leaves the gradients' values alone"
assert all(check_equal(p.data, v) for p, v in zip(m.parameters(), values, strict=True)), (
    "evaluate changes no parameter"
)
after = o.state_dict()
assert all(
    check_equal(after["state"][i][k], state["state"][i][k])
    for i in range(len(state["state"]))
    for k in state["state"][i]
), "evaluate does not step the optimizer"
assert o.lr == lr and tr.schedule.step_count == count, "evaluate does not step the schedule"
assert (tr.epoch, tr.global_step, len(tr.history)) == (1, 3, 1), "evaluate changes no counter"


# hidden: the forward passes run without recording a graph
class _HSpyLoss:
    def __init__(self):
        self.seen = []

    def __call__(self, predictions, targets):
        self.seen.append((is_grad_enabled(), predictions.grad_fn is None))
        return CrossEntropyLoss()(predictions, targets)


spy = _HSpyLoss()
tr_spy = Trainer(m, spy, SGD(m.parameters(), lr=0.1))
raw = [(hx[:25], hy[:25]), (hx[25:], Tensor(hy[25:]))]
res = tr_spy.evaluate(b for b in raw)
assert len(spy.seen) == 2 and all(not on and free for on, free in spy.seen), (
    "evaluate runs the forward passes under no_grad()"
)
assert is_grad_enabled(), "gradient recording is back on after evaluate"
assert check_close(res["loss"], exp_loss, rtol=1e-5, atol=0), "array inputs and a generator work"
# hidden: the training mode comes back even when a batch raises
for mode in (True, False):
    m.train(mode)
    try:
        tr.evaluate([(hx[:5], hy[:5]), (np.zeros((3, 7)), hy[:3])])
        failed = False
    except ValueError:
        failed = True
    assert failed, "an error in a batch reaches the caller"
    assert m.training is mode, "the training mode comes back even when a batch raises"
    assert all(layer.training is mode for layer in drop), "sublayers get their mode back too"
    assert is_grad_enabled(), "gradient recording is back on after an error"
# hidden: evaluating no batches raises ValueError
for empty in ([], iter([])):
    try:
        tr.evaluate(empty)
        failed = False
    except ValueError:
        failed = True
    assert failed, "evaluating no batches raises ValueError"


# hidden: each batch counts with its number of targets, which its inputs may not share


class _HTokens(Layer):
    """Batches of sequences of 4-feature tokens: (B, T, 4) -> logits (B * T, 3)."""

    def __init__(self, seed):
        super().__init__()
        self.mlp = make_mlp(seed)

    def forward(self, x):
        return self.mlp(x.reshape(-1, 4))


def _h_tokens(hx, hy, lengths):
    """(B, T, 4) inputs with (B * T,) targets, for each (B, T) of lengths in turn."""
    batches, start = [], 0
    for b, t in lengths:
        stop = start + b * t
        batches.append((Tensor(hx[start:stop].reshape(b, t, 4)), hy[start:stop]))
        start = stop
    return batches


t_batches = _h_tokens(hx, hy, [(3, 4), (5, 1), (1, 7)])
m = _HTokens(16)
with no_grad():
    per_batch = [(CrossEntropyLoss()(m(x), y).item(), m(x).data, y) for x, y in t_batches]
targets = sum(len(y) for _, _, y in per_batch)
exp_loss = sum(loss * len(y) for loss, _, y in per_batch) / targets
exp_acc = sum(int(np.sum(np.argmax(z, axis=-1) == y)) for _, z, y in per_batch) / targets
res = Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.1)).evaluate(t_batches)
assert check_close(res["loss"], exp_loss, rtol=1e-6, atol=0), (
    "the loss weights each batch by its number of targets"
)
assert check_close(res["accuracy"], exp_acc, rtol=1e-9, atol=1e-12), (
    "the accuracy weights each batch by its number of targets"
)
# hidden: batches without a right answer, at a loss of exactly 0, are still evaluated
m = make_mlp(seed=17)
with no_grad():
    wrong = [(x, (np.argmax(m(x).data, axis=-1) + 1) % 3) for x, _ in h_batches]
res = Trainer(m, lambda z, y: (z * 0.0).sum(), SGD(m.parameters(), lr=0.1)).evaluate(wrong)
assert type(res) is dict, "evaluate returns a dict when every answer is wrong"
assert type(res["loss"]) is float and res["loss"] == 0.0, "a loss of 0 averages to 0.0"
assert type(res["accuracy"]) is float and res["accuracy"] == 0.0, "no right answer gives 0.0"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `checkpoint`
#
# Run A trains three epochs without stopping. Run B is a **fresh** model (other starting
# weights) and a fresh optimizer that load the checkpoint A wrote after two epochs, then
# train the third. The checkpoint goes to a temporary folder, removed at the end.

# %% kind="test" id="test_checkpoint" points=4
inputs, labels = blobs(90, seed=11)
batches = batches_of(inputs, labels, [32, 32, 26])
folder = tempfile.mkdtemp()
path = os.path.join(folder, "run.npz")


def new_trainer(seed: int) -> Trainer:
    model = make_mlp(seed)
    return Trainer(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.2, momentum=0.9))


run_a = new_trainer(seed=1)
run_a.train_epoch(batches)
run_a.train_epoch(batches)
saved = snapshot(run_a.model)
run_a.save_checkpoint(path)
assert os.path.exists(path), f"save_checkpoint should write the file {path}."
with np.load(path) as archive:
    keys = set(archive.files)
expected_keys = {f"model.{i}" for i in range(4)}
expected_keys |= {f"optimizer.state.{i}.momentum_buffer" for i in range(4)}
expected_keys |= {f"optimizer.hyperparameters.{n}" for n in ("lr", "momentum", "weight_decay")}
expected_keys |= {"trainer.epoch", "trainer.global_step"}
assert keys == expected_keys, (
    f"the checkpoint's keys should be {sorted(expected_keys)}, got {sorted(keys)}."
)
run_a.train_epoch(batches)

run_b = new_trainer(seed=2)
run_b.load_checkpoint(path)
assert (run_b.epoch, run_b.global_step) == (2, 6), (
    f"after loading: epoch 2 and global_step 6, got {run_b.epoch} and {run_b.global_step}."
)
assert type(run_b.epoch) is int and type(run_b.global_step) is int, (
    "epoch and global_step should be restored as Python ints (int(...))."
)
for i, (p, v) in enumerate(zip(run_b.model.parameters(), saved, strict=True)):
    assert np.array_equal(p.data, v), f"parameter {i} should hold the saved values after loading."
assert run_b.optimizer.state[0]["momentum_buffer"].dtype == np.float32, (
    "the momentum buffers should come back as float32 arrays."
)
record = run_b.train_epoch(batches)
assert record["epoch"] == 3, f"the resumed run's next epoch is epoch 3, got {record['epoch']}."
for i, (p, q) in enumerate(zip(run_a.model.parameters(), run_b.model.parameters(), strict=True)):
    assert np.array_equal(p.data, q.data), (
        f"parameter {i} of the resumed run differs from the uninterrupted run (largest "
        f"difference {np.max(np.abs(p.data - q.data)):.3g}). Restore the momentum buffers and "
        "the hyperparameters, with 0-d arrays turned into Python numbers (.item())."
    )
shutil.rmtree(folder)


### BEGIN HIDDEN TESTS
# hidden: Adam with a schedule and clipping resumes bit for bit
def _h_trainer(seed, kind, sizes=(4, 12, 3)):
    m = make_mlp(seed, sizes=sizes)
    if kind == "adam":
        o = Adam(m.parameters(), lr=0.02, betas=(0.8, 0.99))
        return Trainer(m, CrossEntropyLoss(), o, CosineSchedule(o, 0.02, 0.002, 12, 2), 0.5)
    if kind == "adamw":
        o = AdamW(m.parameters(), lr=0.01, weight_decay=0.1)
        return Trainer(m, CrossEntropyLoss(), o, CosineSchedule(o, 0.01, 0.0, 9, 3))
    return Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.1, weight_decay=0.01))


hx, hy = blobs(75, seed=31)
h_batches = batches_of(hx, hy, [30, 30, 15])
h_folder = tempfile.mkdtemp()
for kind, name in (("adam", "a.npz"), ("adamw", "resume.ckpt"), ("sgd", "plain")):
    h_path = os.path.join(h_folder, name)
    a = _h_trainer(40, kind)
    for _ in range(2):
        a.train_epoch(h_batches)
    values = snapshot(a.model)
    state = a.optimizer.state_dict()
    lr, counters = a.optimizer.lr, (a.epoch, a.global_step)
    a.save_checkpoint(h_path)
    assert os.path.exists(h_path), "the checkpoint is written at exactly the given path"
    assert all(check_equal(p.data, v) for p, v in zip(a.model.parameters(), values, strict=True)), (
        "saving changes no parameter"
    )
    assert (a.epoch, a.global_step, a.optimizer.lr) == (*counters, lr), "saving changes nothing"
    now = a.optimizer.state_dict()["state"]
    assert all(check_equal(now[i][k], state["state"][i][k]) for i in range(3) for k in now[i]), (
        "saving leaves the optimizer state alone"
    )
    a.train_epoch(h_batches)
    b = _h_trainer(41, kind)
    b.load_checkpoint(h_path)
    assert (b.epoch, b.global_step) == counters, "epoch and global_step are restored"
    assert type(b.optimizer.lr) is float and b.optimizer.lr == lr, "lr is a Python float again"
    if b.schedule is not None:
        assert b.schedule.step_count == b.global_step, "the schedule resumes at global_step"
    if kind != "sgd":
        assert type(b.optimizer.betas) is tuple, "betas come back as a tuple"
        assert b.optimizer.betas == a.optimizer.betas, "betas come back unchanged"
        st = b.optimizer.state[0]
        assert type(st["step"]) is int and st["step"] == 6, "Adam's step count is an int"
        assert st["exp_avg"].dtype == np.float32, "Adam's moments are float32 arrays"
        assert check_equal(st["exp_avg_sq"], state["state"][0]["exp_avg_sq"]), (
            "Adam's moments are restored exactly"
        )
    else:
        assert all(s == {} for s in b.optimizer.state), "an empty optimizer state stays empty"
    assert all(check_equal(p.data, v) for p, v in zip(b.model.parameters(), values, strict=True)), (
        "the parameters hold the saved values"
    )
    b.train_epoch(h_batches)
    assert all(
        check_equal(p.data, q.data)
        for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True)
    ), "training after loading is bit-identical to training without a break"
    assert a.history[-1]["loss"] == b.history[-1]["loss"], "the resumed epoch has the same loss"
    assert b.history[-1]["epoch"] == 3, "the resumed run numbers its epochs on"
# hidden: the keys of an Adam checkpoint follow the layout
a = _h_trainer(42, "adam")
a.train_epoch(h_batches)
h_path = os.path.join(h_folder, "keys.npz")
a.save_checkpoint(h_path)
with np.load(h_path) as archive:
    h_keys = {k: archive[k] for k in archive.files}
want = {f"model.{i}" for i in range(4)} | {"trainer.epoch", "trainer.global_step"}
want |= {f"optimizer.state.{i}.{k}" for i in range(4) for k in ("step", "exp_avg", "exp_avg_sq")}
want |= {f"optimizer.hyperparameters.{k}" for k in ("lr", "betas", "eps", "weight_decay")}
assert set(h_keys) == want, "the checkpoint's keys follow the layout"
assert check_equal(h_keys["model.2"], a.model.parameters()[2].data), "model.i is parameter i"
assert int(h_keys["trainer.global_step"]) == 3, "trainer.global_step is saved"
assert int(h_keys["optimizer.state.1.step"]) == 3, "the optimizer state is saved"
# hidden: a checkpoint of another architecture is rejected before anything changes
for sizes in ((4, 12, 12, 3), (4, 10, 3), (4, 12, 4)):
    other = _h_trainer(43, "adam", sizes=sizes)
    values = snapshot(other.model)
    try:
        other.load_checkpoint(h_path)
        failed = False
    except ValueError:
        failed = True
    assert failed, "parameters of another number or shape raise ValueError"
    assert all(
        check_equal(p.data, v) for p, v in zip(other.model.parameters(), values, strict=True)
    ), "a rejected checkpoint changes no parameter"
    assert all(s == {} for s in other.optimizer.state), "a rejected checkpoint changes no state"
    assert (other.epoch, other.global_step) == (0, 0), "a rejected checkpoint changes no counter"
# hidden: the model's parameters are checked even when the optimizer state is empty
plain = _h_trainer(44, "sgd")
plain.train_epoch(h_batches)
h_path = os.path.join(h_folder, "plain.npz")
plain.save_checkpoint(h_path)
longer = _h_trainer(46, "sgd", sizes=(4, 12, 3, 5))
longer_path = os.path.join(h_folder, "longer.npz")
longer.save_checkpoint(longer_path)
for sizes, source in (
    ((4, 12, 12, 3), h_path),
    ((4, 10, 3), h_path),
    ((4, 12, 4), h_path),
    ((4, 12, 3, 5), h_path),
    ((4, 12, 3), longer_path),
):
    m = make_mlp(45, sizes=sizes)
    other = Trainer(m, CrossEntropyLoss(), SGD(m.parameters(), lr=0.3, weight_decay=0.01))
    values = snapshot(m)
    try:
        other.load_checkpoint(source)
        failed = False
    except ValueError:
        failed = True
    assert failed, "parameters of another number or shape raise ValueError"
    assert all(check_equal(p.data, v) for p, v in zip(m.parameters(), values, strict=True)), (
        "a rejected checkpoint changes no parameter"
    )
    assert other.optimizer.lr == 0.3, "a rejected checkpoint changes no hyperparameter"
shutil.rmtree(h_folder)
### END HIDDEN TESTS

# %% [markdown]
# ## Putting it together: a spiral
#
# Not graded. Three interleaved spiral arms in the plane are a classic small problem that
# no straight line can split. The cell trains an MLP with two hidden layers on them with
# everything this module built: Adam, warm-up and cosine decay, clipping, a held-out test
# set, and a checkpoint at the end; then it trains a linear model (one `Linear` layer) the
# same way, for comparison. The batches are reshuffled every epoch with a seeded generator
# (a job that Module 08's `DataLoader` takes over). It runs in about a second.


# %%
def spiral(n_per_class: int, classes: int, rng: np.random.Generator):
    """Points on `classes` noisy spiral arms: inputs (n, 2), labels (n,)."""
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        angle = np.linspace(c * 2 * np.pi / classes, c * 2 * np.pi / classes + 6.0, n_per_class)
        angle = angle + rng.normal(0.0, 0.3, n_per_class)
        xs.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs), np.concatenate(ys)


def shuffled_batches(inputs, labels, size: int, rng: np.random.Generator) -> list:
    order = rng.permutation(len(labels))
    return [
        (Tensor(inputs[order[i : i + size]]), labels[order[i : i + size]])
        for i in range(0, len(labels), size)
    ]


data_rng = np.random.default_rng(7)
points, classes = spiral(300, 3, data_rng)
order = data_rng.permutation(len(classes))
train_idx, test_idx = order[:600], order[600:]
test_batches = batches_of(points[test_idx], classes[test_idx], [150, 150])

epochs, batch_size = 30, 32
steps_per_epoch = -(-600 // batch_size)  # ceiling division: 19 batches, the last one of 18
net = make_mlp(seed=0, sizes=(2, 64, 64, 3))
adam = Adam(net.parameters(), lr=0.01)
cosine = CosineSchedule(
    adam,
    max_lr=0.02,
    min_lr=0.001,
    total_steps=epochs * steps_per_epoch,
    warmup_steps=steps_per_epoch,
)
spiral_trainer = Trainer(net, CrossEntropyLoss(), adam, schedule=cosine, clip=1.0)

print(
    f"{'epoch':>5} {'train loss':>10} {'train acc':>9} {'test loss':>9} {'test acc':>8} {'lr':>8}"
)
for _ in range(epochs):
    batches = shuffled_batches(points[train_idx], classes[train_idx], batch_size, data_rng)
    train = spiral_trainer.train_epoch(batches)
    if train["epoch"] in (1, 2, 5, 10, 20, 30):
        test = spiral_trainer.evaluate(test_batches)
        print(
            f"{train['epoch']:>5} {train['loss']:>10.4f} {train['accuracy']:>9.3f} "
            f"{test['loss']:>9.4f} {test['accuracy']:>8.3f} {adam.lr:>8.5f}"
        )

demo_folder = tempfile.mkdtemp()
demo_path = os.path.join(demo_folder, "spiral.npz")
spiral_trainer.save_checkpoint(demo_path)
fresh = make_mlp(seed=99, sizes=(2, 64, 64, 3))
fresh_adam = Adam(fresh.parameters())
restored = Trainer(
    fresh,
    CrossEntropyLoss(),
    fresh_adam,
    CosineSchedule(fresh_adam, 0.02, 0.001, epochs * steps_per_epoch),
)
restored.load_checkpoint(demo_path)
print(f"\ncheckpoint: {os.path.getsize(demo_path) / 1024:.1f} KiB on disk")
print(f"trained model,  test set: {spiral_trainer.evaluate(test_batches)}")
print(f"restored model, test set: {restored.evaluate(test_batches)}")
shutil.rmtree(demo_folder)

linear = make_mlp(seed=0, sizes=(2, 3))
linear_adam = Adam(linear.parameters())
linear_trainer = Trainer(
    linear,
    CrossEntropyLoss(),
    linear_adam,
    CosineSchedule(linear_adam, 0.02, 0.001, epochs * steps_per_epoch, steps_per_epoch),
    clip=1.0,
)
for _ in range(epochs):
    linear_trainer.train_epoch(
        shuffled_batches(points[train_idx], classes[train_idx], batch_size, data_rng)
    )
linear_acc = linear_trainer.evaluate(test_batches)["accuracy"]
print(f"\nlinear model 2-3, same training: test accuracy {linear_acc:.3f}")

# %% [markdown]
# Things to notice: the learning rate climbs during the first epoch and then decays; the
# training loss, measured during each epoch, runs a little behind the model it describes
# (early on it is even higher than the test loss); the restored model scores exactly what
# the trained one scores; and the linear model stays near chance, a third, because each of
# its classes owns a wedge of the plane bounded by straight lines. The checkpoint is about
# three times the size of the weights alone: Adam's two moments are as large as the model.
#
# ## Systems analysis: where the time of a training step goes
#
# Nothing below is graded. A training step has three parts: the **forward** pass (with the
# loss), the **backward** pass, and the **optimizer** step (here with clipping). Counting
# FLOPs gives a first prediction. For a linear layer with a batch of $B$ examples and a
# weight matrix of $P$ numbers, the forward pass costs $2BP$ FLOPs (one matrix product),
# the backward pass $4BP$ (one product for the gradient of the input, one for the gradient
# of the weight), and an Adam step with clipping some $20P$ (about twenty operations per
# weight: the two moments, the bias correction, the square root, the division, the norm),
# **whatever the batch**. So by FLOPs the optimizer should be a small share that shrinks
# as the batch grows: $20 / (6B + 20)$, 17% for $B = 16$ and 1% for $B = 256$.
#
# The cell times the three parts of each step of a short run of an MNIST-sized MLP
# (784-256-128-10, 235,146 parameters) on random data, for three batch sizes, and prints
# the median over 8 steps of each part next to what the FLOP count predicts. Predict before
# you run it: will the measured optimizer share match the FLOP share?

# %%
import time  # noqa: E402  (only the systems analysis needs it)


def timed_steps(model, optimizer, batches, clip: float) -> dict[str, float]:
    """Run the training steps of train_epoch on batches; the median seconds of each part."""
    loss_fn = CrossEntropyLoss()
    spent = {"forward": [], "backward": [], "optimizer": []}
    for x, y in batches:
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        middle = time.perf_counter()
        loss.backward()
        end_backward = time.perf_counter()
        clip_grad_norm(model.parameters(), clip)
        optimizer.step()
        end = time.perf_counter()
        spent["forward"].append(middle - start)
        spent["backward"].append(end_backward - middle)
        spent["optimizer"].append(end - end_backward)
    return {part: float(np.median(times)) for part, times in spent.items()}


timing_rng = np.random.default_rng(0)
mlp = make_mlp(seed=0, sizes=(784, 256, 128, 10))
n_params = sum(p.size for p in mlp.parameters())
mlp_adam = Adam(mlp.parameters(), lr=1e-3)
print(f"MLP 784-256-128-10, {n_params:,} parameters, Adam with clipping; median ms per step")
print(
    f"{'batch':>5} {'forward':>15} {'backward':>15} {'optimizer':>15} {'ms/step':>8} "
    f"{'samples/s':>10} {'optimizer share by FLOPs':>25}"
)
for batch in (16, 64, 256):
    batches = [
        (Tensor(timing_rng.standard_normal((batch, 784))), timing_rng.integers(0, 10, batch))
        for _ in range(10)
    ]
    timed_steps(mlp, mlp_adam, batches[:2], clip=1.0)  # warm-up: first touch of the memory
    spent = timed_steps(mlp, mlp_adam, batches[2:], clip=1.0)
    total = sum(spent.values())
    cells = "".join(f"{1e3 * s:>8.2f} ({100 * s / total:>3.0f}%)" for s in spent.values())
    by_flops = 20 / (6 * batch + 20)
    print(f"{batch:>5} {cells} {1e3 * total:>8.2f} {batch / total:>10,.0f} {by_flops:>25.0%}")

# %% [markdown]
# What to look for (the numbers depend on the machine, and on a shared machine other
# programs disturb them: NumPy's matrix products may use several cores, and when other
# programs compete for those cores the forward and backward times jump; run the cell twice
# before drawing conclusions):
#
# - **The optimizer step costs far more than its FLOPs.** It does little arithmetic per
#   number, but every NumPy expression in `Adam.step`, such as `beta1 * m + (1 - beta1) * g`,
#   reads and writes whole arrays of 235,146 numbers and allocates a temporary for each
#   operation. Its speed is set by **memory traffic**, not arithmetic, while the matrix
#   products of forward and backward run in an optimised BLAS library that does many FLOPs
#   per number it reads. With small batches the optimizer step can be the largest part of
#   the time.
# - **Its cost does not depend on the batch**, so its share falls as the batch grows, while
#   forward and backward grow with the batch. Backward costs more than forward, approaching
#   the 2x of the FLOP count as the matrix products take over from fixed costs.
# - **Samples per second rise with the batch**: the same optimizer step and the same Python
#   and graph overhead are shared by more examples. This is one reason to train with the
#   largest batch that fits in memory (Module 05 measured how the graph's memory grows with
#   the batch), and it is why "fused" optimizers, which update each parameter in a single
#   pass over its arrays, are standard in PyTorch.
#
# Module 15 builds a profiler that measures this per layer, and Module 16 makes the slow
# parts faster.
#
# ## Summary
#
# - The training step is `zero_grad`, forward, loss, `backward`, clip, `step`, schedule
#   step, in that order; an epoch is one pass over the batches, and the `Trainer` counts
#   epochs and steps and keeps a history.
# - Accuracy is the fraction of examples whose argmax is the target; classes are on the last
#   axis and ties go to the first class.
# - Clipping by the **global** norm shortens the whole step by one factor,
#   `max_norm / (norm + 1e-6)`, keeping its direction; the norm is summed in float64.
# - Warm-up then cosine decay: $\eta_{\max}(t+1)/W$ during warm-up, then
#   $\eta_{\min} + \frac12(\eta_{\max} - \eta_{\min})(1 + \cos \pi p)$; the $k$-th step uses
#   `lr_at(k)`.
# - Epoch means weight each batch by its size. Evaluation runs in evaluation mode and under
#   `no_grad()`, and puts the mode back in a `finally`.
# - A checkpoint holds parameters, optimizer state and counters. Resuming bit for bit needs
#   all of them **and** the right types: a 0-d float64 array where a Python float was
#   changes the arithmetic's precision under NumPy 2's promotion rules.
# - A training step's time is not its FLOPs: the optimizer step is memory-bound and costs
#   the same for every batch size, so small batches spend a large share of their time in
#   it; larger batches share it, and the fixed costs, among more examples.
#
# **Reflection.**
#
# 1. A classmate calls `schedule.step()` before `optimizer.step()`. Which learning rate does
#    each optimizer step use now, and which value of the schedule is never used?
# 2. Clipping each parameter's gradient to norm 1 separately, versus the global norm to 1:
#    give a two-parameter example where the two produce steps in different directions.
# 3. The model in the demo had no dropout. With dropout, what else would a checkpoint need
#    to contain for the resumed run to be bit-identical? And with per-epoch shuffling?
# 4. `train_epoch` reports the loss measured while the weights were changing. When is that
#    number a good estimate of the loss of the final weights on the training set, and when
#    is it misleading?
