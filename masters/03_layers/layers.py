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
# # Module 03: Layers
#
# A neural network is a chain of small functions, most of which own some numbers that
# training will adjust. In this module you build the pieces that every model in the rest
# of the course is assembled from: a `Layer` base class that knows how to find a model's
# trainable numbers and how to switch it between training and evaluation, the `Linear`
# layer that does almost all of the arithmetic in an MLP, `Sequential` to chain layers, and
# `Dropout`, the first layer that behaves differently while training.
#
# Everything here is a forward pass built from the `Tensor` operations of Module 01.
# Module 05 (autograd) will teach those operations to compute gradients; because your
# layers are written in terms of them, the layers will learn without a single change.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - explain what a **layer** is: a callable object with a `forward` method, **parameters**
#   (Tensors with `requires_grad=True`) and a **training flag**;
# - collect the parameters of a **tree of layers** in a fixed order, each exactly once;
# - implement `Linear`, $y = xW + b$, for a single sample, a batch or a batch of sequences,
#   with **PyTorch's default initialisation** and a shape error that says what went wrong;
# - chain layers with `Sequential` and index into the chain;
# - implement **inverted dropout** and say why its outputs are scaled by $1/(1-p)$;
# - count the **parameters** of an MLP and the **bytes** they take, and predict how both
#   grow with the width of the network.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in four class cells, one per task. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The
#   docstrings are the contract: shapes, dtype, order, errors, and hints.
# - Each class cell is followed by its test cell, `test_<task id>`. The asserts you can read
#   there are the **visible tests**: run them as often as you like, and read their messages
#   when they fail.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other sizes and shapes, other probabilities, deeper trees of
#   layers). Code that follows the contract passes them; code tuned to the visible examples
#   does not. A failing hidden check tells you which behaviour it was about.
# - A test cell earns its points only when every check in it passes. The tests of later
#   tasks use the classes of earlier ones (a `Sequential` is a `Layer`, and its tests chain
#   `Linear` layers), so work in the order of the table. When your notebook is graded, each
#   test cell runs the *other* tasks' code from the course's reference solution, so a bug
#   costs only the points of the task it is in; your own runs of the visible tests use your
#   code throughout.
# - Anything a test cell writes to stderr (a warning, for example) counts as a failure, so
#   keep your methods free of warnings and prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `layer_base` | `Layer`: `forward`, `__call__`, `children`, `parameters`, `train`, `eval` | 5 |
# | `linear` | `Linear(in_features, out_features, bias=True)`: init and forward | 6 |
# | `sequential` | `Sequential(*layers)`: forward, `len`, indexing | 4 |
# | `dropout` | `Dropout(p)`: inverted dropout in training, identity in evaluation | 5 |
# | | **total** | **20** |
#
# The `Tensor` class comes from your Module 01 (`tinytorch.core.tensor`); when your work is
# graded it comes from the course's reference solution, so a bug left in Module 01 does not
# cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.layers: the building blocks of a network.

`Layer` is the base class: it makes a layer callable, finds its trainable Tensors, and
switches it and its sublayers between training and evaluation. Built on it: `Linear`
(y = x @ W + b), `Sequential` (layers applied in a chain) and `Dropout` (inverted dropout).
Written by students in Module 03; forward passes only, until Module 05 adds autograd.
"""

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["Layer", "Linear", "Sequential", "Dropout"]

# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share; run it once before the test cells.
# The first part is the same in every module: `assert_tensor(out, expected, what)` checks
# that a result is a float32 `Tensor` of the expected shape and values (compared the way
# `np.allclose` does), `check_close` and `check_equal` compare arrays, and `raised(lambda:
# ...)` returns the exception a call raised, or `None`. The last part is this module's own:
# `assert_same_objects` checks that a list holds exactly the given objects in order, by
# identity, which is how the tests read `parameters()` and `children()`.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = (
    "Linear maps (..., in_features) to (..., out_features): use x @ weight, weight of shape "
    "(in_features, out_features); Dropout keeps its input's shape."
)


def assert_same_objects(got, expected: list, names: list[str], what: str) -> None:
    """Assert that `got` is a list holding exactly the objects `expected`, in that order.

    Objects are compared by identity (`is`), not by value: parameters() must hand out the
    layer's own Tensors, not copies. `names` describes each expected object for messages.
    """
    assert type(got) is list, f"{what}: expected a list, got {type(got).__name__}."

    def describe(obj) -> str:
        for name, exp in zip(names, expected, strict=True):
            if obj is exp:
                return name
        if isinstance(obj, Tensor):
            return f"<a Tensor of shape {obj.shape}, requires_grad={obj.requires_grad}>"
        return f"<a {type(obj).__name__}>"

    described = [describe(obj) for obj in got]
    same = len(got) == len(expected) and all(g is e for g, e in zip(got, expected, strict=False))
    assert same, (
        f"{what}: expected [{', '.join(names)}] in this order, got [{', '.join(described)}]. "
        "Walk self.__dict__ in order; items marked <...> are objects that should not be there "
        "(copies, constants, or something counted twice)."
    )


# %% [markdown]
# ## Task `layer_base`: what every layer has in common (5 points)
#
# A layer is a function with memory. `Linear` remembers a weight matrix and a bias vector;
# `Dropout` remembers a probability; a whole network is a layer whose memory is other
# layers. Three things are the same for all of them, so they are written once, in a base
# class that every layer inherits from.
#
# **1. Calling.** `layer(x)` runs `layer.forward(x)`. Each subclass writes its own
# `forward`; `__call__` lives in the base class and passes every argument on. PyTorch works
# the same way: you call `model(x)`, never `model.forward(x)`, and the framework has one
# place to add work around every forward pass (profiling in Module 15, for instance). The
# base class's own `forward` only raises `NotImplementedError`, with a message that names
# the subclass that forgot to define it.
#
# **2. Parameters.** An optimizer (Module 06) needs the list of every Tensor it should
# update: the Tensors created with `requires_grad=True`. The base class finds them by
# looking at the layer's attributes, and at the attributes of the layers inside it:
#
# ```
#   block = Block()                             parameters(), in order
#   |-- first: Scale                      ->    first.gain
#   |     |-- gain:   Tensor, requires_grad=True
#   |     |-- offset: Tensor, requires_grad=False     (a constant: skipped)
#   |-- shift: Tensor, requires_grad=True ->    shift
#   |-- rest: [Scale, Scale]              ->    rest[0].gain, rest[1].gain
#   |-- training: True                          (a bool: skipped)
#
#   block.parameters() == [first.gain, shift, rest[0].gain, rest[1].gain]
# ```
#
# Python keeps an object's attributes in a dict, `self.__dict__`, in the order they were
# first assigned. Walking that dict gives the same order on every run, and that matters: an
# optimizer keeps state for each parameter by position (Module 06), and a checkpoint saves
# the parameters as a list (Module 07), so a model must always list them in the same order.
#
# The same Tensor can be reached twice: one layer used at two places in a model, or one
# Tensor shared by two layers (GPT-2 shares its token-embedding matrix with its output
# layer). It must appear **once**, at its first position; otherwise an optimizer would
# update it twice per step.
#
# **3. Training and evaluation mode.** Some layers behave differently while training:
# `Dropout` below switches itself off for evaluation. Every layer has a bool attribute
# `training`, True from construction. `model.train()` and `model.eval()` set it on the
# layer and on every layer inside it, all the way down, through `children()`, the list of
# direct sublayers:
#
# ```
#   block.eval()
#     block.training = False
#     for child in block.children():     # [first, rest[0], rest[1]]
#         child.train(False)             # each does the same for its own children
# ```
#
# Both return the layer itself, so `model = Sequential(...).eval()` works.
#
# Contract (the docstrings below give the details):
#
# - `Layer.__init__` (given) sets `self.training = True`; subclasses call
#   `super().__init__()` first;
# - `forward(x)` raises `NotImplementedError` with a message naming `type(self).__name__`;
# - `layer(*args, **kwargs)` returns `layer.forward(*args, **kwargs)`;
# - `children()` lists the direct sublayers: attributes that are Layers and the Layers in
#   list or tuple attributes, in attribute order;
# - `parameters()` lists every Tensor with `requires_grad=True` reached through the
#   attributes, sublayers and lists, in attribute order, each object once;
# - `train(mode=True)` and `eval()` set `training` here and below, and return `self`.


# %% kind="solution" id="layer_base" export=true
class Layer:
    """Base class of every layer: callable, with parameters and a training flag.

    A subclass calls super().__init__() in its own __init__, stores its parameters as
    Tensor attributes with requires_grad=True (and its sublayers as Layer attributes or
    lists of Layers), and defines forward(x). Everything else comes from this class.

    Attributes:
        training: bool, True in training mode (the default), False after eval().
    """

    def __init__(self) -> None:
        self.training = True

    def forward(self, x: Tensor) -> Tensor:
        """The layer's computation. Every subclass defines its own.

        Raises:
            NotImplementedError: always, here in the base class, with a message naming the
                subclass that did not define forward, e.g.
                "Unfinished.forward() is not implemented: a Layer subclass must define
                forward". type(self).__name__ is that name.
        """
        # Task layer_base: raise NotImplementedError with a message naming type(self).__name__.
        ### BEGIN SOLUTION
        raise NotImplementedError(
            f"{type(self).__name__}.forward() is not implemented: a Layer subclass must "
            "define forward"
        )
        ### END SOLUTION

    def __call__(self, *args, **kwargs):
        """layer(x) runs layer.forward(x): pass every argument on and return its result."""
        # Task layer_base: return the result of forward, called with the same arguments.
        ### BEGIN SOLUTION
        return self.forward(*args, **kwargs)
        ### END SOLUTION

    def children(self) -> list["Layer"]:
        """The direct sublayers, in attribute order.

        Walk self.__dict__.values() in order. A value that is a Layer is a child; a list or
        tuple contributes the Layers it contains, in its own order; anything else is
        skipped. Only direct children: the layers inside a child are the child's children.
        A layer stored twice is listed twice.
        """
        # Task layer_base: return the list of direct sublayers.
        ### BEGIN SOLUTION
        found = []
        for value in self.__dict__.values():
            items = value if isinstance(value, list | tuple) else [value]
            found.extend(item for item in items if isinstance(item, Layer))
        return found
        ### END SOLUTION

    def parameters(self) -> list[Tensor]:
        """Every trainable Tensor of this layer and of the layers inside it, each once.

        Walk self.__dict__.values() in order (the order the attributes were first assigned).
        For each value:
            - a Tensor with requires_grad=True is a parameter;
            - a Layer contributes its own parameters(), in their order;
            - a list or tuple is walked item by item with the same two rules;
            - anything else is skipped: numbers, arrays, None, functions, and Tensors with
              requires_grad=False (constants).
        A Tensor reached a second time (the same object: `is`, not equal values) is left
        out, so each parameter appears once, at its first position.

        Returns:
            a new list of the Tensors themselves (not copies), [] for a layer without any.

        Hint: id(tensor) identifies an object; a set of ids remembers what you have seen.
        """
        # Task layer_base: collect the parameters in attribute order, each object once.
        ### BEGIN SOLUTION
        found, seen = [], set()
        for value in self.__dict__.values():
            items = value if isinstance(value, list | tuple) else [value]
            for item in items:
                if isinstance(item, Layer):
                    candidates = item.parameters()
                elif isinstance(item, Tensor) and item.requires_grad:
                    candidates = [item]
                else:
                    continue
                for tensor in candidates:
                    if id(tensor) not in seen:
                        seen.add(id(tensor))
                        found.append(tensor)
        return found
        ### END SOLUTION

    def train(self, mode: bool = True) -> "Layer":
        """Set training mode (mode=True) or evaluation mode (mode=False), recursively.

        Stores bool(mode) in self.training, calls train(mode) on every child (which does
        the same for its own children), and returns self.
        """
        # Task layer_base: set the flag here and on every child; return self.
        ### BEGIN SOLUTION
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self
        ### END SOLUTION

    def eval(self) -> "Layer":
        """Evaluation mode for this layer and every layer inside it; returns self.

        The same as train(False).
        """
        # Task layer_base: switch to evaluation mode; return self.
        ### BEGIN SOLUTION
        return self.train(False)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# %% [markdown]
# ### Test `layer_base`
#
# The tests build three small layers of their own: `Scale` multiplies by a trainable gain
# and keeps a constant it must not report as a parameter, `Block` is the layer of the
# picture above, and `Unfinished` forgot its `forward`.


# %% kind="test" id="test_layer_base" points=5
class Scale(Layer):
    """Multiplies its input by a trainable gain; also keeps a constant (not a parameter)."""

    def __init__(self, n: int, value: float = 2.0):
        super().__init__()
        self.gain = Tensor(np.full(n, value), requires_grad=True)
        self.offset = Tensor(np.zeros(n))  # requires_grad=False: a constant
        self.n = n

    def forward(self, x):
        return x * self.gain


class Block(Layer):
    """A sublayer, a Tensor of its own and a list of sublayers (the picture above)."""

    def __init__(self):
        super().__init__()
        self.first = Scale(2)
        self.shift = Tensor([0.5, -0.5], requires_grad=True)
        self.rest = [Scale(2, 3.0), Scale(2, 4.0)]

    def forward(self, x):
        x = self.first(x) + self.shift
        for layer in self.rest:
            x = layer(x)
        return x


class Unfinished(Layer):
    """A subclass that forgot to define forward."""


scale = Scale(2)
assert_tensor(scale(Tensor([1.0, -3.0])), [2.0, -6.0], "Scale(2)(x) (__call__ runs forward)")
err = raised(lambda: Unfinished()(Tensor([1.0])))
assert isinstance(err, NotImplementedError), (
    f"calling a Layer subclass without forward should raise NotImplementedError, got "
    f"{type(err).__name__ if err else 'no error'}."
)
assert "Unfinished" in str(err), (
    f"the NotImplementedError should name the subclass 'Unfinished' (type(self).__name__), "
    f"got {str(err)!r}."
)

assert_same_objects(scale.parameters(), [scale.gain], ["gain"], "Scale(2).parameters()")
block = Block()
assert_same_objects(
    block.parameters(),
    [block.first.gain, block.shift, block.rest[0].gain, block.rest[1].gain],
    ["first.gain", "shift", "rest[0].gain", "rest[1].gain"],
    "Block().parameters()",
)
assert_same_objects(
    block.children(),
    [block.first, *block.rest],
    ["first", "rest[0]", "rest[1]"],
    "Block().children()",
)
assert_tensor(block(Tensor([1.0, 1.0])), [30.0, 18.0], "Block()(x)")

assert block.training is True, "a new layer starts in training mode (training = True)."
returned = block.eval()
assert returned is block, "eval() should return the layer itself (return self)."
flags = [block.training, block.first.training, block.rest[0].training, block.rest[1].training]
assert all(flag is False for flag in flags), (
    f"after block.eval(), training of [block, first, rest[0], rest[1]] should all be False, "
    f"got {flags}. train(mode) must call child.train(mode) on every child."
)
returned = block.train()
flags = [block.training, block.first.training, block.rest[0].training, block.rest[1].training]
assert returned is block and all(flag is True for flag in flags), (
    f"block.train() should return block and set training back to True everywhere; got "
    f"flags {flags}."
)


### BEGIN HIDDEN TESTS
# hidden: parameters() returns the trainable Tensors themselves, in attribute order
def _same(got, expected):
    """A list holding exactly the objects of expected, in order (by identity)."""
    return (
        type(got) is list
        and len(got) == len(expected)
        and all(g is e for g, e in zip(got, expected, strict=False))
    )


class _Gain(Layer):
    def __init__(self, n):
        super().__init__()
        self.const = Tensor(np.ones(n))
        self.g = Tensor(np.arange(n) + 1.0, requires_grad=True)

    def forward(self, x):
        return x * self.g


class _Mixed(Layer):
    def __init__(self):
        super().__init__()
        self.a = Tensor([1.0, 2.0], requires_grad=True)
        self.count = 3
        self.label = "mixed"
        self.nothing = None
        self.array = np.ones(3)
        self.fn = np.tanh
        self.frozen = Tensor([5.0], requires_grad=False)
        self.inner = _Gain(2)
        self.b = Tensor([[0.5]], requires_grad=True)
        self.pair = (_Gain(3), Tensor([7.0], requires_grad=True), Tensor([8.0]), 4)
        self.stack = [_Gain(1), Tensor([9.0], requires_grad=True), "text", None]
        self.empty = []

    def forward(self, x):
        return x


m = _Mixed()
expected = [m.a, m.inner.g, m.b, m.pair[0].g, m.pair[1], m.stack[0].g, m.stack[1]]
assert _same(m.parameters(), expected), "parameters follow attribute order through all kinds"
# hidden: constants and non-Tensor attributes are not parameters
gain = _Gain(4)
assert _same(gain.parameters(), [gain.g]), "a Tensor with requires_grad=False is skipped"
assert _same(Unfinished().parameters(), []), "a layer without parameters returns []"
assert _same(Layer().parameters(), []), "a plain Layer returns []"


# hidden: parameters of deeply nested layers come out depth-first in attribute order
class _Deep(Layer):
    def __init__(self, depth):
        super().__init__()
        self.own = Tensor([float(depth)], requires_grad=True)
        self.sub = [_Deep(depth - 1)] if depth > 0 else []
        self.tail = Tensor([-float(depth)], requires_grad=True)


deep = _Deep(3)
nested_expected = [
    deep.own,
    deep.sub[0].own,
    deep.sub[0].sub[0].own,
    deep.sub[0].sub[0].sub[0].own,
    deep.sub[0].sub[0].sub[0].tail,
    deep.sub[0].sub[0].tail,
    deep.sub[0].tail,
    deep.tail,
]
assert _same(deep.parameters(), nested_expected), "nested layers are walked depth-first"


# hidden: a Tensor or layer reached twice is listed once, at its first position
class _Shared(Layer):
    def __init__(self):
        super().__init__()
        self.left = _Gain(2)
        self.w = Tensor([1.0], requires_grad=True)
        self.again = self.w
        self.right = self.left
        self.more = [self.left, _Gain(3), self.w]


s = _Shared()
assert _same(s.parameters(), [s.left.g, s.w, s.more[1].g]), "each parameter appears once"
tied = _Gain(2)
tied_user = _Gain(2)
tied_user.g = tied.g
holder = Layer()
holder.x = tied
holder.y = tied_user
assert _same(holder.parameters(), [tied.g]), "a Tensor shared by two sublayers appears once"
# hidden: attributes added after construction are found, in assignment order
late = Layer()
late.second = Tensor([2.0], requires_grad=True)
late.first = _Gain(1)
assert _same(late.parameters(), [late.second, late.first.g]), "attributes added later count"
# hidden: every call returns a new list
g = _Gain(2)
first_list = g.parameters()
first_list.append(Tensor([0.0], requires_grad=True))
assert _same(g.parameters(), [g.g]), "changing a returned list does not change the next one"
# hidden: children() lists direct sublayers in attribute order, lists and tuples included
m = _Mixed()
assert _same(m.children(), [m.inner, m.pair[0], m.stack[0]]), "children in attribute order"
assert _same(deep.children(), [deep.sub[0]]), "children are direct sublayers only"
assert _same(_Gain(2).children(), []), "a layer without sublayers has no children"
# hidden: __call__ passes positional and keyword arguments to forward and returns its result


class _Echo(Layer):
    def forward(self, x, scale=1.0, *, token=None):
        return (x, scale, token)


marker = object()
result = _Echo()(marker, 3.5, token="t")
assert isinstance(result, tuple) and len(result) == 3, "__call__ returns what forward returns"
assert result[0] is marker and result[1] == 3.5 and result[2] == "t", "__call__ passes arguments"
result = _Echo()(marker, scale=-2.0)
assert result[0] is marker and result[1] == -2.0, "__call__ passes keyword arguments"
out = _Gain(3)(Tensor([[1.0, -1.0, 2.0]]))
assert isinstance(out, Tensor) and check_close(out.data, [[1.0, -2.0, 6.0]]), "calling runs forward"
# hidden: forward of the base class raises NotImplementedError naming the class
for layer, name in ((Layer(), "Layer"), (_Deep(1), "_Deep"), (_Shared(), "_Shared")):
    message = ""
    try:
        layer.forward(Tensor([1.0]))
    except NotImplementedError as exc:
        message = str(exc)
    assert name in message, "forward of the base class raises NotImplementedError naming the class"
    message = ""
    try:
        layer(Tensor([1.0]))
    except NotImplementedError as exc:
        message = str(exc)
    assert name in message, "calling a layer without forward raises NotImplementedError"
# hidden: train() and eval() reach every layer in the tree and return the layer itself
m = _Mixed()
everyone = [m, m.inner, m.pair[0], m.stack[0]]
assert all(layer.training is True for layer in everyone), "layers start in training mode"
assert m.eval() is m, "eval returns self"
assert all(layer.training is False for layer in everyone), "eval reaches every sublayer"
assert m.train() is m, "train returns self"
assert all(layer.training is True for layer in everyone), "train reaches every sublayer"
assert m.train(False) is m, "train(False) returns self"
assert all(layer.training is False for layer in everyone), "train(False) is evaluation mode"
m.train(1)
assert all(layer.training is True for layer in everyone), "train stores the mode as a bool"
m.train(0)
assert all(layer.training is False for layer in everyone), "train stores the mode as a bool"
deep = _Deep(4)
deep.eval()
node, flags = deep, []
while True:
    flags.append(node.training)
    if not node.sub:
        break
    node = node.sub[0]
assert all(flag is False for flag in flags), "eval reaches layers at every depth"
# hidden: switching a sublayer leaves its parent alone
m = _Mixed()
m.inner.eval()
assert m.training is True and m.inner.training is False, "eval affects the layer and below only"
assert m.pair[0].training is True, "eval of one sublayer leaves its siblings alone"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `linear`: the fully connected layer (6 points)
#
# `Linear` computes $y = xW + b$: each output is a weighted sum of **all** the inputs plus
# an offset of its own,
#
# $$y_j = \sum_{i=1}^{n_\text{in}} x_i W_{ij} + b_j, \qquad j = 1, \dots, n_\text{out}.$$
#
# "Fully connected": every input reaches every output through a weight of its own, so the
# layer has $n_\text{in} \cdot n_\text{out}$ weights and $n_\text{out}$ biases. For a batch,
# each row of `x` is one sample and the formula is one matrix product:
#
# ```
#   x (batch=2, in=3)      W (in=3, out=2)     b (out=2,)       y (batch=2, out=2)
#   [ x00 x01 x02 ]   @    [ w00 w01 ]     +   [ b0 b1 ]   =    [ y00 y01 ]
#   [ x10 x11 x12 ]        [ w10 w11 ]                          [ y10 y11 ]
#                          [ w20 w21 ]
#
#   y01 = x00*w01 + x01*w11 + x02*w21 + b1       (row 0 of x, column 1 of W, bias 1)
# ```
#
# **Layout.** This course stores `weight` with shape `(in_features, out_features)`, so the
# code reads like the math, `x @ W`, with no transpose. PyTorch stores the transpose,
# `(out_features, in_features)`, and computes `x @ W.T`: the same numbers in the other
# layout (transpose when you copy weights between the two).
#
# **Any number of leading axes.** `Tensor.matmul` broadcasts over leading axes, and the bias
# of shape `(out,)` broadcasts against any shape that ends in `out`, so one `forward` serves
# every case:
#
# ```
#   x (in,)                  ->  y (out,)                  one sample
#   x (batch, in)            ->  y (batch, out)            a batch
#   x (batch, seq, in)       ->  y (batch, seq, out)       every position of every sequence
# ```
#
# The last case is how a transformer (Module 13) applies one `Linear` to every token.
#
# **Initialisation.** The weights cannot all start at zero: every output would compute the
# same thing, receive the same update, and stay identical forever. They start random, and
# the scale matters. If the inputs $x_i$ and weights $W_{ij}$ are independent with mean 0,
#
# $$\operatorname{Var}(y_j) = n_\text{in} \cdot \operatorname{Var}(W) \cdot
#   \operatorname{Var}(x),$$
#
# so a fixed weight scale makes the outputs grow with the number of inputs. Drawing each
# weight from the uniform distribution on $[-k, k]$, whose variance is $k^2/3$, with
# $k = 1/\sqrt{n_\text{in}}$ gives $\operatorname{Var}(y_j) = \operatorname{Var}(x)/3$
# whatever the width. This is PyTorch's default for `nn.Linear`, and the bias is drawn
# from the same interval. The systems analysis at the end measures the difference.
#
# **Reproducible randomness.** The constructor takes `rng`: a `np.random.Generator`, an
# int seed, or `None` for fresh randomness. `np.random.default_rng(rng)` turns all three
# into a Generator (a Generator passed in comes back unchanged). Draw the weight first and
# the bias second, exactly as the docstring says, so `Linear(784, 128, rng=0)` is the same
# layer on every machine.
#
# **Parameters.** There is nothing to write: `weight` and `bias` are Tensors with
# `requires_grad=True`, so the base class finds them, in the order you assign them (weight
# first). With `bias=False`, `self.bias` is `None` and `parameters()` returns `[weight]`.
#
# **A shape error that helps.** Without a check, a wrong input still fails inside
# `Tensor.matmul`, but that message speaks of matmul and inner dimensions. The layer knows
# more: what it expected. Check first and raise `ValueError` with a message of exactly this
# form (the tests look for `in_features=3` and the shape):
#
# ```
# Linear: expected input with last dimension in_features=3, got shape (4, 5)
# ```


# %% kind="solution" id="linear" export=true
class Linear(Layer):
    """A fully connected layer: y = x @ weight + bias.

    Attributes:
        in_features, out_features: the sizes given to the constructor.
        weight: Tensor of shape (in_features, out_features), requires_grad=True.
        bias: Tensor of shape (out_features,), requires_grad=True; None when bias=False.

    Initialisation (PyTorch's default for nn.Linear): with k = 1 / sqrt(in_features), every
    entry of weight and bias is drawn uniformly from [-k, k], weight first:
        weight = rng.uniform(-k, k, size=(in_features, out_features))
        bias   = rng.uniform(-k, k, size=(out_features,))
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: np.random.Generator | int | None = None,
    ):
        """Create the weight (and the bias, unless bias=False) with the stated init.

        Args:
            in_features: length of the last axis of the input, at least 1.
            out_features: length of the last axis of the output, at least 1.
            bias: whether to add a learned bias (stored as self.bias, else self.bias = None).
            rng: a np.random.Generator, an int seed, or None for fresh randomness;
                np.random.default_rng(rng) accepts all three.

        Raises:
            ValueError: if in_features or out_features is less than 1, naming both.

        Store in_features and out_features, then weight, then bias, each Tensor with
        requires_grad=True. Tensor(...) converts NumPy's float64 draws to float32.
        """
        super().__init__()
        # Task linear: check the sizes, store them, draw weight then bias from the rng.
        ### BEGIN SOLUTION
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"Linear: in_features and out_features must be at least 1, got "
                f"in_features={in_features}, out_features={out_features}"
            )
        self.in_features = in_features
        self.out_features = out_features
        rng = np.random.default_rng(rng)
        k = 1 / np.sqrt(in_features)
        self.weight = Tensor(
            rng.uniform(-k, k, size=(in_features, out_features)), requires_grad=True
        )
        self.bias = (
            Tensor(rng.uniform(-k, k, size=(out_features,)), requires_grad=True) if bias else None
        )
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """y = x @ weight + bias (no bias term when self.bias is None).

        Args:
            x: Tensor of shape (..., in_features): (in_features,) for one sample,
                (batch, in_features) for a batch, or with more leading axes.

        Returns:
            a new float32 Tensor of shape (..., out_features).

        Raises:
            ValueError: when x is 0-d or its last dimension is not in_features, with a
                message exactly like
                "Linear: expected input with last dimension in_features=3, got shape (4, 5)".

        Hint: use the Tensor operations of Module 01 (@ and +), not NumPy on .data: in
        Module 05 those operations learn to compute gradients, and your layer with them.
        """
        # Task linear: check the input's last dimension, then return x @ weight (+ bias).
        ### BEGIN SOLUTION
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: expected input with last dimension in_features={self.in_features}, "
                f"got shape {x.shape}"
            )
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out
        ### END SOLUTION

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None})"
        )


# %% [markdown]
# ### Test `linear`

# %% kind="test" id="test_linear" points=6
lin = Linear(3, 2, rng=np.random.default_rng(0))
for name, shape in (("weight", (3, 2)), ("bias", (2,))):
    param = getattr(lin, name, None)
    assert isinstance(param, Tensor), f"Linear(3, 2).{name} should be a Tensor, got {param!r}."
    assert param.shape == shape and param.data.dtype == np.float32, (
        f"Linear(3, 2).{name}: expected a float32 Tensor of shape {shape}, got shape "
        f"{param.shape}, dtype {param.data.dtype}. weight is (in_features, out_features)."
    )
    assert param.requires_grad is True, f"Linear(3, 2).{name} needs requires_grad=True."
assert lin.in_features == 3 and lin.out_features == 2, (
    "Linear(3, 2) should store in_features=3 and out_features=2."
)

k = 1 / np.sqrt(3)
draws = np.random.default_rng(0)
expected_w = draws.uniform(-k, k, size=(3, 2))
expected_b = draws.uniform(-k, k, size=(2,))
assert np.allclose(lin.weight.data, expected_w) and np.allclose(lin.bias.data, expected_b), (
    "Linear(3, 2, rng=np.random.default_rng(0)): the weight should be "
    "rng.uniform(-k, k, size=(3, 2)) with k = 1/sqrt(3), drawn from the given generator, and "
    f"the bias drawn after it.\nexpected weight:\n{expected_w}\ngot:\n{lin.weight.data}"
)
assert_same_objects(lin.parameters(), [lin.weight, lin.bias], ["weight", "bias"], "parameters()")

x64 = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]])
w64, b64 = lin.weight.data.astype(np.float64), lin.bias.data.astype(np.float64)
assert_tensor(lin(Tensor(x64)), x64 @ w64 + b64, "Linear(3, 2)(x) with x of shape (2, 3)")
assert_tensor(lin(Tensor(x64[0])), x64[0] @ w64 + b64, "Linear(3, 2)(x) with x of shape (3,)")

lin.weight = Tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], requires_grad=True)
lin.bias = Tensor([0.5, -0.5], requires_grad=True)
assert_tensor(
    lin(Tensor([[1.0, 2.0, 3.0]])),
    [[4.5, 4.5]],
    "x @ W + b with x = [[1, 2, 3]], W = [[1, 0], [0, 1], [1, 1]], b = [0.5, -0.5]",
)

no_bias = Linear(3, 2, bias=False, rng=np.random.default_rng(1))
assert no_bias.bias is None, f"Linear(3, 2, bias=False).bias should be None, got {no_bias.bias!r}."
assert_same_objects(no_bias.parameters(), [no_bias.weight], ["weight"], "parameters(), bias=False")
w64 = no_bias.weight.data.astype(np.float64)
assert_tensor(no_bias(Tensor(x64)), x64 @ w64, "Linear(3, 2, bias=False)(x)")

err = raised(lambda: Linear(3, 2)(Tensor(np.ones((4, 5)))))
assert isinstance(err, ValueError), (
    f"Linear(3, 2) on an input of shape (4, 5) should raise ValueError, got "
    f"{type(err).__name__ if err else 'no error'}."
)
for part in ("in_features=3", "(4, 5)"):
    assert part in str(err), (
        f"the error should contain {part!r}; got {str(err)!r}. Expected "
        "'Linear: expected input with last dimension in_features=3, got shape (4, 5)'."
    )

### BEGIN HIDDEN TESTS
# hidden: weight and bias are float32 Tensors of the stated shapes with requires_grad=True
for n_in, n_out in ((5, 4), (1, 7), (6, 1), (1, 1)):
    layer = Linear(n_in, n_out, rng=np.random.default_rng(n_in + 10 * n_out))
    sizes = (layer.in_features, layer.out_features)
    assert all(type(n) is int for n in sizes), "the sizes are stored as ints"
    assert sizes == (n_in, n_out), "the sizes are stored"
    for param, shape in ((layer.weight, (n_in, n_out)), (layer.bias, (n_out,))):
        assert isinstance(param, Tensor), "weight and bias are Tensors"
        assert type(param.data) is np.ndarray, "weight and bias hold numpy arrays"
        assert param.data.dtype == np.float32, "weight and bias are float32"
        assert param.data.shape == shape, "weight is (in_features, out_features), bias (out,)"
        assert param.requires_grad is True, "weight and bias have requires_grad=True"
    assert layer.parameters()[0] is layer.weight, "parameters() lists the weight first"
    assert layer.parameters()[1] is layer.bias, "parameters() lists the bias second"
    assert len(layer.parameters()) == 2, "parameters() is [weight, bias]"
# hidden: the init draws weight then bias uniformly from [-k, k] with k = 1/sqrt(in_features)
for n_in, n_out, seed in ((5, 4, 3), (16, 9, 4), (1, 6, 5), (7, 1, 6)):
    layer = Linear(n_in, n_out, rng=np.random.default_rng(seed))
    draws = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(n_in)
    w_expected = draws.uniform(-bound, bound, size=(n_in, n_out))
    b_expected = draws.uniform(-bound, bound, size=(n_out,))
    assert check_close(layer.weight.data, w_expected, rtol=1e-6, atol=1e-7), (
        "the weight is rng.uniform(-k, k, size=(in_features, out_features)) from the given rng"
    )
    assert check_close(layer.bias.data, b_expected, rtol=1e-6, atol=1e-7), (
        "the bias is rng.uniform(-k, k, size=(out_features,)), drawn after the weight"
    )
# hidden: all weights lie within [-k, k], spread over the interval, not all equal
for n_in, n_out in ((256, 64), (3, 200), (1, 300)):
    layer = Linear(n_in, n_out, rng=np.random.default_rng(n_in))
    bound = 1.0 / np.sqrt(n_in)
    for values in (layer.weight.data, layer.bias.data):
        assert np.all(np.abs(values) <= bound * (1 + 1e-6)), "every value lies within [-k, k]"
        assert np.ptp(values) > bound, "the values spread over the interval [-k, k]"
        assert values.min() < 0 < values.max(), "the values take both signs"
# hidden: an int seed gives the same layer as a Generator with that seed
a = Linear(4, 3, rng=21)
b = Linear(4, 3, rng=np.random.default_rng(21))
assert check_equal(a.weight.data, b.weight.data), "an int seed works like a Generator"
assert check_equal(a.bias.data, b.bias.data), "an int seed works like a Generator"
# hidden: the same seed gives the same layer and a shared Generator gives different layers
rng = np.random.default_rng(8)
first, second = Linear(4, 4, rng=rng), Linear(4, 4, rng=rng)
assert not check_close(first.weight.data, second.weight.data), "a shared generator moves on"
again = Linear(4, 4, rng=np.random.default_rng(8))
assert check_equal(first.weight.data, again.weight.data), "the same seed gives the same layer"
# hidden: without rng every layer gets fresh random weights
u, v = Linear(6, 5), Linear(6, 5)
assert not check_close(u.weight.data, v.weight.data), "without rng the weights differ per layer"
assert np.all(np.abs(u.weight.data) <= 1 / np.sqrt(6) + 1e-6), "without rng the init is the same"
# hidden: bias=False stores None, lists only the weight and adds no bias
layer = Linear(5, 3, bias=False, rng=np.random.default_rng(2))
assert layer.bias is None, "bias=False stores bias = None"
params = layer.parameters()
assert type(params) is list and len(params) == 1 and params[0] is layer.weight, (
    "bias=False gives parameters() == [weight]"
)
draws = np.random.default_rng(2)
assert check_close(layer.weight.data, draws.uniform(-1 / np.sqrt(5), 1 / np.sqrt(5), (5, 3))), (
    "bias=False draws the weight the same way"
)


def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-5))
    )


rng = np.random.default_rng(303)
x = rng.standard_normal((2, 4, 5))
w64 = layer.weight.data.astype(np.float64)
assert _ok(layer(Tensor(x)), x @ w64), "bias=False computes x @ weight only"
# hidden: forward computes x @ weight + bias for 1-D, 2-D, 3-D and 4-D inputs
layer = Linear(5, 3, rng=np.random.default_rng(9))
w64, b64 = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
for shape in ((5,), (7, 5), (2, 4, 5), (3, 1, 2, 5), (1, 5)):
    x = rng.standard_normal(shape) * 3.0
    assert _ok(layer(Tensor(x)), x @ w64 + b64), "forward maps (..., in) to (..., out)"
    assert _ok(layer.forward(Tensor(x)), x @ w64 + b64), "forward maps (..., in) to (..., out)"
# hidden: forward uses the current weight and bias and leaves the input unchanged
layer = Linear(2, 3, rng=np.random.default_rng(4))
layer.weight = Tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], requires_grad=True)
layer.bias = Tensor([-1.0, 2.0, 0.25], requires_grad=True)
x = np.array([[2.0, -1.0], [0.5, 4.0], [0.0, 0.0]])
source = Tensor(x)
out = layer(source)
expected = x @ np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]) + np.array([-1.0, 2.0, 0.25])
assert _ok(out, expected), "forward uses the weight and bias stored at call time"
assert out is not source and check_equal(source.data, x), "forward leaves its input unchanged"
# hidden: a single output feature and a single input feature work
one = Linear(1, 1, rng=np.random.default_rng(5))
w, b = float(one.weight.data[0, 0]), float(one.bias.data[0])
assert _ok(one(Tensor([[2.0], [-3.0]])), [[2.0 * w + b], [-3.0 * w + b]]), "Linear(1, 1) works"
# hidden: the wrong last dimension raises ValueError naming in_features and the shape
cases = (
    (Linear(7, 2, rng=0), (2, 3, 6), "in_features=7", "(2, 3, 6)"),
    (Linear(4, 4, rng=0), (5,), "in_features=4", "(5,)"),
    (Linear(2, 5, rng=0), (2, 5), "in_features=2", "(2, 5)"),
    (Linear(3, 1, rng=0), (), "in_features=3", "()"),
)
for layer, shape, text_in, text_shape in cases:
    message = ""
    try:
        layer(Tensor(np.ones(shape)))
    except ValueError as exc:
        message = str(exc)
    assert message, "an input whose last dimension is not in_features raises ValueError"
    assert text_in in message, "the error names in_features=<expected size>"
    assert text_shape in message, "the error names the shape of the input"
# hidden: sizes below 1 raise ValueError
for n_in, n_out in ((0, 3), (3, 0), (-2, 4), (0, 0)):
    failed = False
    try:
        Linear(n_in, n_out, rng=0)
    except ValueError:
        failed = True
    assert failed, "in_features or out_features below 1 raises ValueError"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `sequential`: layers in a chain (4 points)
#
# Most networks in this course are, at the top level, a chain: the output of one layer is
# the input of the next.
#
# ```
#   model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
#
#   x (batch, 784) -> Linear -> (batch, 128) -> ReLU -> (batch, 128) -> Linear -> (batch, 10)
#
#   model(x)  ==  layer2(layer1(layer0(x)))
# ```
#
# Order matters: adding 1 and then doubling is not doubling and then adding 1.
#
# **What counts as a layer.** Anything callable can be a step of the chain: a `Layer`, an
# activation object from Module 02, or a plain function such as `lambda t: t * 2`. Only
# `Layer`s have parameters and a training flag; the other steps are simply called.
# Something that cannot be called, such as a list, is a mistake, and the most common one is
# `Sequential([a, b])` where `Sequential(a, b)` was meant. Catch it in the constructor with
# a `TypeError` that names the position and the type of the bad argument.
#
# **Parameters and modes for free.** Store the steps as a list in `self.layers`. The base
# class's `parameters()` walks lists of Layers, and `train()`/`eval()` reach every Layer in
# `children()`, so a `Sequential` lists the parameters of its layers in order (nested
# `Sequential`s included) and switches its `Dropout` layers without a line of code of its
# own. That is the pay-off of writing the walk once, in `Layer`.
#
# **A Python container.** `len(model)` is the number of steps, `model[0]` the first,
# `model[-1]` the last, and `model[1:]` a new `Sequential` made of the same layer objects
# (not copies), as in PyTorch. With no steps at all, `Sequential()` returns its input.


# %% kind="solution" id="sequential" export=true
class Sequential(Layer):
    """Layers applied in order: Sequential(a, b, c)(x) == c(b(a(x))).

    Attributes:
        layers: the steps as a list, in the order given.

    parameters(), children(), train() and eval() come from Layer, which walks self.layers.
    """

    def __init__(self, *layers):
        """Store the steps in self.layers, a list.

        Args:
            *layers: the steps, each a Layer or any other callable (an activation object,
                a function). Pass them as separate arguments: Sequential(a, b).

        Raises:
            TypeError: if a step is not callable (callable(step) is False), with a message
                naming its position and its type, e.g. "Sequential: argument 0 is a list,
                not a layer; pass the layers as separate arguments, Sequential(a, b)".
        """
        super().__init__()
        # Task sequential: check that every step is callable, then store them in self.layers.
        ### BEGIN SOLUTION
        for position, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(
                    f"Sequential: argument {position} is a {type(layer).__name__}, not a "
                    "layer; pass the layers as separate arguments, Sequential(a, b)"
                )
        self.layers = list(layers)
        ### END SOLUTION

    def forward(self, x):
        """Feed x through every step in order and return the last output (x if no steps)."""
        # Task sequential: apply the steps one after the other.
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer(x)
        return x
        ### END SOLUTION

    def __len__(self) -> int:
        """The number of steps."""
        # Task sequential: return the number of steps.
        ### BEGIN SOLUTION
        return len(self.layers)
        ### END SOLUTION

    def __getitem__(self, index: int | slice):
        """model[i] is step i (negative i counts from the end; IndexError when out of range).

        model[a:b] (a slice) is a new Sequential holding the same step objects.
        """
        # Task sequential: return one step, or a new Sequential for a slice.
        ### BEGIN SOLUTION
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]
        ### END SOLUTION

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)" if lines else "Sequential()"


# %% [markdown]
# ### Test `sequential`


# %% kind="test" id="test_sequential" points=4
class AddOne(Layer):
    """Adds 1 (no parameters)."""

    def forward(self, x):
        return x + 1


class Double(Layer):
    """Multiplies by 2 (no parameters)."""

    def forward(self, x):
        return x * 2


add, double = AddOne(), Double()
model = Sequential(add, double)
assert_tensor(
    model(Tensor([1.0, 2.0])),
    [4.0, 6.0],
    "Sequential(AddOne(), Double())(x) should be (x + 1) * 2; [3, 5] means the order is reversed",
)
assert len(model) == 2, f"len(Sequential(add, double)) should be 2, got {len(model)}."
assert model[0] is add and model[-1] is double, (
    "model[0] should be the first layer and model[-1] the last (the objects themselves)."
)
tail = model[1:]
assert isinstance(tail, Sequential) and len(tail) == 1 and tail[0] is double, (
    f"model[1:] should be a new Sequential holding just the double layer, got {tail!r}."
)
assert_tensor(
    Sequential(double, lambda t: t - 1)(Tensor([3.0])),
    [5.0],
    "Sequential(double, lambda t: t - 1)(x) (a plain function is a step too)",
)
assert_tensor(Sequential()(Tensor([[1.0, -2.0]])), [[1.0, -2.0]], "Sequential()(x) (no steps)")

first, second = Linear(4, 3, rng=0), Linear(3, 2, rng=1)
mlp = Sequential(first, double, second)
assert_same_objects(
    mlp.parameters(),
    [first.weight, first.bias, second.weight, second.bias],
    ["first.weight", "first.bias", "second.weight", "second.bias"],
    "Sequential(Linear(4, 3), Double(), Linear(3, 2)).parameters()",
)
x64 = np.array([[1.0, 0.0, -1.0, 2.0]])
hidden = (x64 @ first.weight.data.astype(np.float64) + first.bias.data) * 2
assert_tensor(
    mlp(Tensor(x64)),
    hidden @ second.weight.data.astype(np.float64) + second.bias.data,
    "Sequential(Linear(4, 3), Double(), Linear(3, 2))(x)",
)

err = raised(lambda: Sequential([add, double]))
assert isinstance(err, TypeError), (
    f"Sequential([add, double]) (a list instead of separate arguments) should raise "
    f"TypeError, got {type(err).__name__ if err else 'no error'}."
)
assert "list" in str(err), f"the TypeError should name the type 'list'; got {str(err)!r}."

### BEGIN HIDDEN TESTS
# hidden: the steps run in the given order, each on the previous output


def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-5))
    )


def _same(got, expected):
    """A list holding exactly the objects of expected, in order (by identity)."""
    return (
        type(got) is list
        and len(got) == len(expected)
        and all(g is e for g, e in zip(got, expected, strict=False))
    )


def _negate(t):
    return -t


class _Affine(Layer):
    def __init__(self, scale, shift):
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x):
        return x * self.scale + self.shift


x = np.array([[-1.5, 0.0, 2.0], [3.0, -4.0, 0.5]])
steps = [_Affine(2.0, 1.0), _Affine(-1.0, 3.0), _Affine(0.5, -2.0)]
expected = ((x * 2.0 + 1.0) * -1.0 + 3.0) * 0.5 - 2.0
assert _ok(Sequential(*steps)(Tensor(x)), expected), "three steps run first to last"
expected = ((x * 0.5 - 2.0) * -1.0 + 3.0) * 2.0 + 1.0
assert _ok(Sequential(*steps[::-1])(Tensor(x)), expected), "reversing the steps reverses order"
assert _ok(Sequential(steps[1])(Tensor(x)), x * -1.0 + 3.0), "a single step is applied once"
assert _ok(Sequential(steps[0]).forward(Tensor(x)), x * 2.0 + 1.0), "forward applies the steps"
# hidden: plain functions and other callables are steps too
model = Sequential(lambda t: t * 3.0, steps[0], _negate)
out = model(Tensor(x))
assert isinstance(out, Tensor) and check_close(out.data, -(x * 3.0 * 2.0 + 1.0)), "callables"
# hidden: no steps returns the input values
out = Sequential()(Tensor(x))
assert isinstance(out, Tensor) and check_close(out.data, x), "an empty Sequential is the identity"
# hidden: nested Sequentials run their own steps in order
inner = Sequential(_Affine(3.0, 0.0), _Affine(1.0, -1.0))
model = Sequential(_Affine(1.0, 2.0), inner, _Affine(-2.0, 0.0))
assert _ok(model(Tensor(x)), ((x + 2.0) * 3.0 - 1.0) * -2.0), "nested Sequentials run in order"
# hidden: len and integer indexing follow the list of steps
model = Sequential(*steps, inner)
assert len(model) == 4 and len(Sequential()) == 0, "len is the number of steps"
assert model[0] is steps[0] and model[2] is steps[2], "model[i] is step i itself"
assert model[-1] is inner and model[-3] is steps[1], "negative indices count from the end"
failed = False
try:
    model[4]
except IndexError:
    failed = True
assert failed, "an index past the end raises IndexError"
# hidden: a slice is a new Sequential of the same step objects
part = model[1:3]
assert isinstance(part, Sequential), "a slice gives a Sequential"
assert part is not model and len(part) == 2, "a slice gives a new Sequential of the right length"
assert part[0] is steps[1] and part[1] is steps[2], "a slice holds the same step objects"
part = model[::-2]
assert len(part) == 2 and part[0] is inner and part[1] is steps[1], "a slice may have a step"
assert _ok(model[:2](Tensor(x)), (x * 2.0 + 1.0) * -1.0 + 3.0), "a slice can be called"
assert len(model[4:]) == 0, "an empty slice gives an empty Sequential"
# hidden: the layers are stored as a list in self.layers
model = Sequential(*steps)
assert type(model.layers) is list, "the steps are stored as a list in self.layers"
assert _same(model.layers, steps), "self.layers holds the steps in order"
assert _same(model.children(), steps), "the children of a Sequential are its Layer steps"
# hidden: parameters concatenate in step order through nested Sequentials, each once
a, b, c = Linear(2, 3, rng=1), Linear(3, 3, bias=False, rng=2), Linear(3, 1, rng=3)
model = Sequential(a, Sequential(lambda t: t * 2.0, b, Sequential(c)), _negate)
expected = [a.weight, a.bias, b.weight, c.weight, c.bias]
assert _same(model.parameters(), expected), "parameters go through nested Sequentials in order"
model = Sequential(a, Sequential(c, a), c)
assert _same(model.parameters(), [a.weight, a.bias, c.weight, c.bias]), "a repeated layer once"
assert _same(Sequential(_negate, steps[0]).parameters(), []), "steps without parameters add none"
x = np.array([[0.5, -1.0], [2.0, 0.25]])
model = Sequential(a, b, c)
h = x @ a.weight.data.astype(np.float64) + a.bias.data
h = h @ b.weight.data.astype(np.float64)
expected = h @ c.weight.data.astype(np.float64) + c.bias.data
assert _ok(model(Tensor(x)), expected), "a chain of Linear layers computes the composition"
# hidden: a step that cannot be called raises TypeError naming its type
for args, name in (((steps[0], 3), "int"), ((Tensor([1.0]),), "Tensor"), (((a, b),), "tuple")):
    message = ""
    try:
        Sequential(*args)
    except TypeError as exc:
        message = str(exc)
    assert message, "a step that is not callable raises TypeError"
    assert name in message, "the TypeError names the type of the bad step"
### END HIDDEN TESTS


# %% [markdown]
# ## Task `dropout`: inverted dropout (5 points)
#
# A large network can memorise its training set by letting units depend on each other's
# exact values. **Dropout** (Srivastava et al., 2014) breaks those dependencies: during
# training it sets each element of its input to zero, independently, with probability
# $p$, so no unit can count on any other being there. Each training step sees a different
# random sub-network.
#
# Zeroing a fraction $p$ of the elements shrinks the layer's output on average by a factor
# $1 - p$. **Inverted** dropout makes up for it at once, during training, by scaling the
# elements that survive by $1/(1-p)$:
#
# $$y_i = \frac{m_i\, x_i}{1 - p}, \qquad m_i = \begin{cases} 1 & \text{with probability }
#   1 - p \\ 0 & \text{with probability } p \end{cases}$$
#
# $$\mathbb{E}[y_i] = (1 - p) \cdot \frac{x_i}{1 - p} + p \cdot 0 = x_i.$$
#
# ```
#   p = 0.25
#   x                [ 1.0    2.0    3.0    4.0  ]
#   mask m           [  1      0      1      1   ]    each 1 with probability 0.75
#   y = x * m / 0.75 [ 1.333  0.0    4.0    5.333 ]
# ```
#
# The expected value of every output equals its input, so at **evaluation** time dropout
# simply steps aside and returns its input unchanged: no rescaling, no work. (The original
# paper scaled the weights by $1 - p$ at test time instead; the inverted form moves that
# cost into training and makes inference free.) The `training` flag from `layer_base`
# decides which behaviour you get, and `model.eval()` flips it for every `Dropout` inside a
# model.
#
# Contract (details in the docstrings):
#
# - `Dropout(p=0.5, rng=None)`: $0 \le p < 1$, else `ValueError` naming `p` ($p = 1$ would
#   drop everything and divide by zero); `rng` as for `Linear`. Store `self.p` as a float
#   and the Generator in `self.rng`.
# - In training mode with $p > 0$: a new float32 Tensor of the input's shape in which every
#   element is either exactly 0 or $x_i / (1 - p)$, with a fresh random mask on every call.
# - In evaluation mode, or when $p = 0$: return `x` itself.


# %% kind="solution" id="dropout" export=true
class Dropout(Layer):
    """Inverted dropout: in training, zero each element with probability p and scale the
    survivors by 1 / (1 - p); in evaluation, return the input unchanged.

    Attributes:
        p: the probability of zeroing an element, a float with 0 <= p < 1.
        rng: the np.random.Generator the masks are drawn from.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None):
        """Check and store p, and make the random generator.

        Args:
            p: probability of zeroing each element during training.
            rng: a np.random.Generator, an int seed, or None for fresh randomness.

        Raises:
            ValueError: unless 0 <= p < 1, with a message naming p.
        """
        super().__init__()
        # Task dropout: check p, store self.p (a float) and self.rng (a Generator).
        ### BEGIN SOLUTION
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must satisfy 0 <= p < 1, got p={p}")
        self.p = float(p)
        self.rng = np.random.default_rng(rng)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """Drop and rescale in training mode; identity in evaluation mode.

        In evaluation mode (self.training is False), or when p == 0, return x itself.
        Otherwise draw a new mask from self.rng, one independent draw per element, that is
        1 with probability 1 - p and 0 with probability p, and return a new Tensor
        x * mask / (1 - p) of x's shape.

        Hint: self.rng.random(x.shape) gives uniform numbers in [0, 1); compare them with a
        threshold. Multiply the Tensor x by a NumPy array (Tensor * array works) rather than
        working on x.data, so that Module 05's autograd can follow the operation.
        """
        # Task dropout: return x in evaluation mode or for p == 0; otherwise mask and rescale.
        ### BEGIN SOLUTION
        if not self.training or self.p == 0:
            return x
        keep = self.rng.binomial(1, 1 - self.p, size=x.shape)  # 1 with probability 1 - p
        return x * (keep / (1 - self.p))
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# %% [markdown]
# ### Test `dropout`

# %% kind="test" id="test_dropout" points=5
drop = Dropout(0.25, rng=np.random.default_rng(0))
assert drop.p == 0.25 and drop.training is True, "Dropout(0.25) stores p and starts in training."
x64 = np.arange(1.0, 13.0).reshape(3, 4)  # no zeros, so every zero in the output was dropped
x = Tensor(x64)
out = drop(x)
assert isinstance(out, Tensor) and out.data.dtype == np.float32 and out.shape == (3, 4), (
    f"Dropout(0.25)(x) with x of shape (3, 4): expected a float32 Tensor of shape (3, 4), got "
    f"{out!r}."
)
kept = out.data != 0
assert np.allclose(out.data[kept], x64[kept] / 0.75, rtol=1e-6, atol=0), (
    "in training, every element that survives should be x / (1 - p) = x / 0.75 exactly "
    f"(inverted dropout).\ninput:\n{x64}\ngot:\n{out.data}"
)
assert np.array_equal(x.data, x64), "Dropout changed its input: return a new Tensor."

big = Dropout(0.25, rng=np.random.default_rng(1))(Tensor(np.ones((200, 500))))
kept_fraction = float(np.mean(big.data != 0))
assert 0.73 < kept_fraction < 0.77, (
    f"Dropout(0.25) on 100,000 ones kept {kept_fraction:.3f} of the elements; expected about "
    "1 - p = 0.75. Each element should survive with probability 1 - p."
)
mean = float(np.mean(big.data))
assert 0.97 < mean < 1.03, (
    f"the mean of Dropout(0.25) applied to ones should stay about 1 (expected value "
    f"unchanged), got {mean:.3f}. Scale the survivors by 1 / (1 - p)."
)

assert drop.eval() is drop and drop.training is False, "drop.eval() should return drop."
assert drop(x) is x, "in evaluation mode Dropout should return its input itself."
assert Dropout(0.0)(x) is x, "Dropout(0.0) drops nothing: it should return its input itself."
for bad in (1.0, -0.1):
    err = raised(lambda bad=bad: Dropout(bad))
    assert isinstance(err, ValueError), (
        f"Dropout({bad}) should raise ValueError (0 <= p < 1), got "
        f"{type(err).__name__ if err else 'no error'}."
    )

model = Sequential(Linear(4, 4, rng=0), Dropout(0.5, rng=0))
x = Tensor(np.ones((2, 4)))
model.eval()
assert model[1].training is False, "model.eval() should reach the Dropout inside a Sequential."
assert_tensor(model(x), model[0](x).data, "model(x) in evaluation mode (Dropout steps aside)")
model.train()
assert model[1].training is True, "model.train() should reach the Dropout inside a Sequential."

### BEGIN HIDDEN TESTS
# hidden: survivors are exactly x / (1 - p) and the others exactly 0, for several p and shapes
rng = np.random.default_rng(404)
for p, shape in ((0.3, (4, 5, 6)), (0.8, (50,)), (0.1, (2, 3, 4, 5)), (0.6, (7, 9))):
    x64 = rng.uniform(0.5, 3.0, size=shape) * np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    x = Tensor(x64)
    out = Dropout(p, rng=np.random.default_rng(int(p * 100)))(x)
    assert isinstance(out, Tensor), "training mode returns a Tensor"
    assert type(out.data) is np.ndarray, "training mode returns a Tensor holding an array"
    assert out.data.dtype == np.float32, "training mode returns float32"
    assert out.data.shape == shape, "training mode keeps the input's shape"
    assert out is not x, "training mode returns a new Tensor"
    kept = out.data != 0
    assert kept.any() and not kept.all(), "training mode drops some elements and keeps others"
    assert check_close(out.data[kept], x64[kept] / (1 - p), rtol=1e-6, atol=0), (
        "surviving elements are scaled by exactly 1 / (1 - p)"
    )
    assert check_equal(x.data, x64.astype(np.float32)), "the input is left unchanged"
# hidden: each element survives with probability 1 - p
for p, seed in ((0.1, 11), (0.4, 12), (0.7, 13), (0.9, 14)):
    out = Dropout(p, rng=np.random.default_rng(seed))(Tensor(np.ones((250, 400))))
    fraction = float(np.mean(out.data != 0))
    assert abs(fraction - (1 - p)) < 0.02, "each element survives with probability 1 - p"
    assert abs(float(np.mean(out.data)) - 1.0) < 0.06, "the expected value is unchanged"
    survivors = out.data[out.data != 0]
    scaled = np.full(survivors.shape, 1 / (1 - p))
    assert check_close(survivors, scaled, rtol=1e-6), "survivors are scaled"
# hidden: the elements are dropped independently of their position
out = Dropout(0.4, rng=np.random.default_rng(15))(Tensor(np.ones((400, 300))))
rows, cols = np.mean(out.data != 0, axis=1), np.mean(out.data != 0, axis=0)
assert rows.min() > 0.4 and rows.max() < 0.8, "every row keeps about 1 - p of its elements"
assert cols.min() > 0.4 and cols.max() < 0.8, "every column keeps about 1 - p of its elements"
# hidden: every call draws a new mask
drop = Dropout(0.3, rng=np.random.default_rng(16))
ones = Tensor(np.ones((20, 30)))
first, second = drop(ones), drop(ones)
assert not check_equal(first.data != 0, second.data != 0), "every call draws a new mask"
# hidden: the same seed gives the same masks, as an int or a Generator
a = Dropout(0.35, rng=77)(ones)
b = Dropout(0.35, rng=np.random.default_rng(77))(ones)
assert check_equal(a.data, b.data), "the same seed gives the same mask"
c = Dropout(0.35, rng=78)(ones)
assert not check_equal(a.data, c.data), "a different seed gives a different mask"
# hidden: without rng the masks are random
a, b = Dropout(0.5)(ones), Dropout(0.5)(ones)
assert not check_equal(a.data, b.data), "without rng the masks are random"
# hidden: p is stored as a float and must satisfy 0 <= p < 1
assert type(Dropout(0).p) is float and Dropout(0).p == 0.0, "p is stored as a float"
for p, stored in ((0.999, 0.999), (0.5, 0.5), (1e-9, 1e-9)):
    value = Dropout(p).p
    assert type(value) is float and value == stored, "p up to just below 1 is accepted"
assert Dropout().p == 0.5, "the default p is 0.5"
assert type(Dropout().rng) is np.random.Generator, "the generator is stored in self.rng"
for bad in (1, 1.5, -0.5, -1e-9, float("nan")):
    failed = False
    try:
        Dropout(bad)
    except ValueError:
        failed = True
    assert failed, "p outside [0, 1) raises ValueError"
# hidden: in evaluation mode, or with p = 0, the input comes back itself
x = Tensor(rng.standard_normal((3, 4, 5)))
drop = Dropout(0.6, rng=1)
assert drop.eval() is drop, "eval returns the layer"
assert drop(x) is x and drop.forward(x) is x, "evaluation mode returns the input itself"
drop.train()
out = drop(x)
assert out is not x and np.any(out.data == 0), "train() switches dropping back on"
zero = Dropout(0.0, rng=2)
assert zero(x) is x, "p = 0 returns the input itself in training mode"
assert zero.eval()(x) is x, "p = 0 returns the input itself in evaluation mode"
# hidden: a 0-d input works in training mode
out = Dropout(0.2, rng=3)(Tensor(2.5))
assert isinstance(out, Tensor) and out.data.shape == (), "a 0-d input gives a 0-d output"
value = float(out.data)
assert value == 0.0 or abs(value - 3.125) < 1e-6, "a 0-d input is dropped or scaled"
# hidden: train() and eval() on nested Sequentials reach every Dropout
inner_drop, outer_drop = Dropout(0.7, rng=4), Dropout(0.45, rng=5)
model = Sequential(
    Linear(6, 8, rng=6),
    outer_drop,
    Sequential(Linear(8, 8, rng=7), Sequential(inner_drop)),
    Linear(8, 3, rng=8),
)
x = Tensor(rng.standard_normal((5, 6)))
assert model.eval() is model, "eval on a Sequential returns it"
assert outer_drop.training is False and inner_drop.training is False, "eval reaches nested Dropout"
w = [layer.weight.data.astype(np.float64) for layer in (model[0], model[2][0], model[3])]
b = [layer.bias.data.astype(np.float64) for layer in (model[0], model[2][0], model[3])]
expected = ((x.data @ w[0] + b[0]) @ w[1] + b[1]) @ w[2] + b[2]
out = model(x)
assert isinstance(out, Tensor) and check_close(out.data, expected, rtol=1e-5, atol=1e-5), (
    "in evaluation mode a model with Dropout computes without dropping"
)
assert model.train() is model, "train on a Sequential returns it"
assert outer_drop.training is True and inner_drop.training is True, "train reaches nested Dropout"
h = Sequential(model[0], outer_drop)(Tensor(np.abs(x.data) + 1.0))
assert np.any(h.data == 0), "train turns dropping back on"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: parameters and memory
#
# Nothing below is graded. These cells measure the layers you just built; predict each
# number before you run the cell. Everything finishes in about a second.
#
# ### Counting parameters
#
# A `Linear(n_in, n_out)` holds $n_\text{in} n_\text{out}$ weights and $n_\text{out}$
# biases. An MLP with widths $w_0, w_1, \dots, w_L$ (input, hidden layers, output) has
#
# $$N = \sum_{l=1}^{L} \left( w_{l-1} w_l + w_l \right)$$
#
# parameters; the activations between the layers have none. Each float32 parameter takes
# 4 bytes. Training needs more than the weights: one gradient per parameter (Module 05),
# and Adam keeps two running averages per parameter (Module 06), so a model in training
# holds at least four numbers per parameter, before counting the activations of a batch.
# The table builds each model with your `Linear` and `Sequential` and counts with your
# `parameters()`; the formula column checks the count.


# %%
def human_bytes(n: float) -> str:
    """A byte count as B, KiB, MiB or GiB with one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def mlp(widths: tuple[int, ...], seed: int = 0) -> Sequential:
    """Linear layers of the given widths (activations left out: they have no parameters)."""
    rng = np.random.default_rng(seed)
    pairs = zip(widths[:-1], widths[1:], strict=False)
    return Sequential(*[Linear(n_in, n_out, rng=rng) for n_in, n_out in pairs])


def formula(widths: tuple[int, ...]) -> int:
    """Parameters of an MLP with these widths: sum of n_in * n_out + n_out per layer."""
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False))


shapes = [(784, 128, 10), (784, 512, 512, 10), (3072, 1024, 1024, 10)]
print(f"{'MLP':>22} {'parameters':>12} {'formula':>12} {'weights f32':>12} {'training x4':>12}")
for widths in shapes:
    model = mlp(widths)
    params = model.parameters()
    count = sum(p.size for p in params)
    nbytes = sum(p.memory_footprint() for p in params)
    name = "-".join(map(str, widths))
    print(
        f"{name:>22} {count:>12,} {formula(widths):>12,} {human_bytes(nbytes):>12} "
        f"{human_bytes(4 * nbytes):>12}"
    )

# %% [markdown]
# The 3072-1024-1024-10 network (CIFAR-10 images flattened to $32 \cdot 32 \cdot 3 = 3072$
# numbers) needs 16 MiB for its weights alone and 64 MiB to train with Adam. Where do its
# parameters sit? The next cell lists them layer by layer.

# %%
model = mlp((3072, 1024, 1024, 10))
total = sum(p.size for p in model.parameters())
print(f"{'layer':<62} {'parameters':>12} {'share':>7}")
for i, layer in enumerate(model.layers):
    count = sum(p.size for p in layer.parameters())
    print(f"{f'({i}) {layer!r}':<62} {count:>12,} {count / total:>7.1%}")

# %% [markdown]
# The first layer holds three quarters of the model: every one of the 3072 input numbers
# gets its own weight to every hidden unit, so a layer's cost follows the size of its
# input. Convolutions (Module 09) exist largely to avoid this: they reuse one small set of
# weights at every position of an image.
#
# ### How memory grows with width
#
# Widen the two hidden layers of a 784-h-h-10 MLP and watch the total. Predict the last
# column (growth when h doubles) before you run the cell.

# %%
print(f"{'h':>6} {'parameters':>13} {'weights f32':>12} {'growth':>7} {'h x h share':>12}")
previous = None
for h in (64, 128, 256, 512, 1024, 2048, 4096):
    widths = (784, h, h, 10)
    count = formula(widths)
    growth = f"{count / previous:.2f}x" if previous else ""
    share = (h * h + h) / count
    print(f"{h:>6} {count:>13,} {human_bytes(4 * count):>12} {growth:>7} {share:>12.1%}")
    previous = count

# %% [markdown]
# At small widths the input layer ($784h$, linear in $h$) dominates and doubling $h$
# roughly doubles the model. As $h$ grows, the hidden-to-hidden matrix ($h^2$) takes over
# and the growth factor per doubling climbs towards 4: **parameters, and the memory for
# weights, gradients and optimizer state, grow quadratically with width and linearly with
# depth**. A 4096-wide version of this small MLP already needs about 76 MiB of weights,
# about 300 MiB to train with Adam.
#
# ### Parameters are also compute
#
# In a forward pass every weight takes part in one multiply and one add per sample, so a
# batch costs about $2 \times \text{batch} \times N$ FLOPs: the parameter count predicts
# the time as well as the memory. The cell measures a batch of 64 through each model.

# %%
import time  # noqa: E402  (only the systems analysis needs it)


def median_seconds(fn, *args, repeats: int = 5) -> float:
    """Median wall time of fn(*args) over `repeats` runs, after one warm-up run."""
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


batch = 64
rng = np.random.default_rng(1)
print(f"{'MLP':>22} {'MFLOPs':>9} {'ms':>8} {'GFLOP/s':>8}")
for widths in shapes:
    model = mlp(widths)
    x = Tensor(rng.standard_normal((batch, widths[0])))
    flops = 2 * batch * formula(widths)
    seconds = median_seconds(model, x)
    name = "-".join(map(str, widths))
    print(f"{name:>22} {flops / 1e6:>9.1f} {seconds * 1e3:>8.2f} {flops / seconds / 1e9:>8.1f}")

# %% [markdown]
# ### Why $k = 1/\sqrt{n_\text{in}}$
#
# The last cell checks the claim of the `linear` task: with PyTorch's initialisation the
# spread of a layer's output does not depend on how many inputs it sums, while a fixed
# interval such as $[-1, 1]$ makes it grow like $\sqrt{n_\text{in}}$. The inputs have
# standard deviation 1; the prediction for our init is $1/\sqrt{3} \approx 0.577$.

# %%
print(f"{'in_features':>12} {'std, k = 1/sqrt(in)':>20} {'std, k = 1':>11}")
for n_in in (16, 256, 4096):
    x = Tensor(rng.standard_normal((256, n_in)))
    layer = Linear(n_in, 64, bias=False, rng=n_in)
    ours = float(np.std(layer(x).data))
    layer.weight = Tensor(rng.uniform(-1.0, 1.0, size=(n_in, 64)), requires_grad=True)
    fixed = float(np.std(layer(x).data))
    print(f"{n_in:>12} {ours:>20.3f} {fixed:>11.2f}")

# %% [markdown]
# With a fixed interval, a 4096-input layer amplifies its input about 37 times; ten such
# layers in a row would multiply it by about $10^{15}$. With $k = 1/\sqrt{n_\text{in}}$
# the factor is $1/\sqrt{3}$ at every width. (That factor is below 1, so a deep stack still
# shrinks its signal; He initialisation, $\operatorname{Var}(W) = 2/n_\text{in}$, is tuned
# for ReLU networks and keeps it steady.)
#
# ## Summary
#
# - A `Layer` is callable (`__call__` runs `forward`), lists its trainable Tensors with
#   `parameters()` by walking its attributes in order, each Tensor once, and switches
#   itself and every layer inside it between training and evaluation.
# - `Linear` computes $y = xW + b$ with `weight` of shape `(in_features, out_features)`,
#   for any number of leading axes, and starts from $U(-k, k)$ with
#   $k = 1/\sqrt{n_\text{in}}$ so the output's spread does not depend on the width.
# - `Sequential` chains callables; its parameters and modes come from the base class.
# - Inverted dropout zeros each element with probability $p$ and scales the rest by
#   $1/(1-p)$, so expectations are unchanged and evaluation is the identity.
# - An MLP's parameter count, and its memory at 4 bytes per float32 parameter (times about
#   4 during training with Adam), grows linearly with depth and quadratically with width;
#   the same count predicts the forward pass's FLOPs.
#
# **Reflection.**
#
# 1. `parameters()` removes repeats by identity (`is`), not by value. Give an example of
#    two different parameters with equal values, and say what would go wrong if they were
#    merged.
# 2. A `Dropout` left in training mode during evaluation still gives the right output *on
#    average*. Why is that not good enough when you measure a model's accuracy?
# 3. How many parameters, and how many bytes in float32, does a `Linear(4096, 4096)` hold?
#    How many FLOPs does it cost for a batch of 32 sequences of 128 tokens each?
