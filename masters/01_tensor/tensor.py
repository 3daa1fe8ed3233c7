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
# # Module 01: Tensor
#
# Every model in this course, from the 1957 perceptron to a small GPT, comes down to
# arithmetic on blocks of numbers. In this module you build the object that holds those
# numbers: `Tensor`, a thin, readable wrapper around a NumPy array. Every later module
# (activations, layers, losses, autograd, attention) is written in terms of the operations
# you write today, so they need to be right in every corner: odd shapes, negative axes,
# a number on the left of a minus sign.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - say what a tensor is: values plus a **shape**, a **dtype** and a number of **bytes**;
# - implement element-wise `+ - * /` with NumPy's **broadcasting** rule, including reversed
#   operands such as `2 - t` and `1 / t`;
# - implement **matrix multiplication** with a shape check whose error message tells you
#   what went wrong;
# - **reshape** (with an inferred `-1`), **transpose** and **index** tensors, and say which of
#   these operations copy memory in NumPy and which do not;
# - **reduce** along axes with `sum`, `mean` and `max`, predicting the result's shape with and
#   without `keepdims`;
# - count the **bytes** a tensor occupies and the **FLOPs** a matrix product costs, and
#   measure how fast this machine multiplies matrices.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in one place: the `Tensor` class cell below. Each spot to fill in is
#   marked with a comment `# Task <task id>: ...` followed by `raise NotImplementedError()`.
#   The docstring above it is the contract: shapes, dtype, errors, and hints.
# - Each task has one test cell, `test_<task id>`, after the class. The asserts you can read
#   there are the **visible tests**: run them as often as you like, and read their messages
#   when they fail.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (other shapes, negative numbers, other axes, numbers on the
#   other side of an operator). Code that follows the contract passes them; code tuned to the
#   visible examples does not. A failing hidden check tells you which behaviour it was about.
# - A test cell earns its points only when every check in it passes.
# - Anything a test cell writes to stderr (for example NumPy's `RuntimeWarning` about a
#   division by zero) counts as a failure, so keep your methods free of warnings and prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `tensor_init` | constructor, `shape`, `size`, `ndim`, `dtype`, `repr`, `len` | 2 |
# | `tensor_arithmetic` | `+ - * /` and unary `-`, with numbers, arrays, broadcasting | 4 |
# | `tensor_matmul` | `matmul` and `@`, with a clear error for mismatched shapes | 3 |
# | `tensor_reshape` | `reshape` (with `-1`), `transpose`, `.T` | 3 |
# | `tensor_reductions` | `sum`, `mean`, `max` with `axis` and `keepdims` | 4 |
# | `tensor_indexing` | `t[key]`, `numpy()`, `item()` | 2 |
# | `tensor_memory` | `memory_footprint()` | 2 |
# | | **total** | **20** |
#
# Work in the order of the table: every other task builds Tensors, so `tensor_init` comes
# first.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.tensor: the Tensor, an n-dimensional float32 array.

It provides the operations every later module builds on: element-wise arithmetic with
broadcasting, matrix multiplication, reshape and transpose, reductions and indexing.
Written by students in Module 01; Module 05 (autograd) adds gradients to these operations.
"""

import numpy as np

__all__ = ["Tensor"]

# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share; run it once, before the class cell.
# It is the same in every module: `assert_tensor(out, expected, what)` checks, in order,
# that `out` is a `Tensor`, that its `.data` is a float32 `numpy.ndarray`, its shape and then
# its values (compared in float64, the way `np.allclose` does); `check_close` and
# `check_equal` compare arrays; `raised(lambda: ...)` returns the exception a call raised,
# or `None`. The last line of the cell is this module's own: the advice a shape mismatch
# adds to its message.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = "Check which axes the operation keeps, drops or swaps."

# %% [markdown]
# ## Your tasks
#
# Read this section once before you start: each part gives the math, a picture, and the
# contract the tests check. The code skeleton follows after it.
#
# ### Task `tensor_init`: the container (2 points)
#
# A tensor is a block of numbers together with the facts needed to read it: its **shape**
# (the length of each axis), its **dtype** (how each number is stored) and, following from
# those, its **size** (number of elements) and its **memory** (size times bytes per element).
# Here is a tensor of shape `(2, 3)`:
#
# ```
#              axis 1 (length 3) -->
#   axis 0     [ 1.0   2.0   3.0 ]
#  (length 2)  [ 4.0   5.0   6.0 ]
#     |
#     v        shape (2, 3)   ndim 2   size 2 * 3 = 6   dtype float32   6 * 4 = 24 bytes
# ```
#
# A single number is a tensor too: shape `()`, ndim 0, size 1 (the product of no lengths).
#
# **Why float32.** A float32 number takes 4 bytes and carries about 7 significant decimal
# digits, which is plenty for training networks; float64 doubles the memory and the memory
# traffic for no gain in this course. PyTorch makes the same choice by default. So the
# constructor converts *everything* to float32 at the door: Python numbers, nested lists,
# integer or float64 NumPy arrays, and other Tensors.
#
# **Copy at the door.** The constructor copies the values (as `torch.tensor(...)` does), so a
# tensor never changes because someone modified the array it was made from.
#
# Contract:
#
# - `Tensor(data, requires_grad=False)` stores a float32 `numpy.ndarray` in `.data`, sets
#   `.grad = None` and stores `.requires_grad` as a `bool`;
# - properties `shape` (tuple), `size` (int), `ndim` (int), `dtype` (always `np.float32`);
# - `repr(t)` looks like `Tensor([[1., 2.]], shape=(1, 2))`, with `, requires_grad=True`
#   before the closing parenthesis when that flag is set;
# - `len(t)` is the length of the first axis (a 0-d tensor has no length: `TypeError`).
#
# ### Task `tensor_arithmetic`: element-wise operations and broadcasting (4 points)
#
# For two tensors of the same shape, each operator works element by element:
# $(a \circ b)_{ij} = a_{ij} \circ b_{ij}$ for $\circ \in \{+, -, \times, \div\}$.
#
# When the shapes differ, **broadcasting** decides whether the operation makes sense:
#
# 1. line the two shapes up from the **right**; a missing axis on the left counts as length 1;
# 2. two lengths are compatible when they are **equal** or one of them is **1**;
# 3. the result takes the larger length on each axis; a length-1 axis is repeated to match
#    (NumPy does this without copying anything).
#
# ```
#   (2, 3)  with  (3,)     ->  (2, 3)     the (3,) is read as (1, 3): one row, reused
#   (3, 1)  with  (1, 4)   ->  (3, 4)     both operands are stretched
#   (2, 1, 3) with (4, 1)  ->  (2, 4, 3)  (4, 1) is read as (1, 4, 1)
#   (2, 3)  with  (2,)     ->  error      3 and 2 differ and neither is 1
# ```
#
# The picture for `a + b` with `a` of shape `(3, 1)` and `b` of shape `(1, 4)`:
#
# ```
#   a (3, 1)     b (1, 4)                a stretched       b stretched       a + b (3, 4)
#   [ 0 ]        [ 0 10 20 30 ]          [ 0  0  0  0 ]    [ 0 10 20 30 ]    [ 0 10 20 30 ]
#   [ 1 ]                          ->    [ 1  1  1  1 ]  + [ 0 10 20 30 ] =  [ 1 11 21 31 ]
#   [ 2 ]                                [ 2  2  2  2 ]    [ 0 10 20 30 ]    [ 2 12 22 32 ]
# ```
#
# NumPy already implements this rule, so your methods hand the two arrays to NumPy. What
# you must get right is the plumbing around it:
#
# - **The other operand** can be a Tensor, a Python number or a NumPy array. The given
#   helper `Tensor._to_array(other)` turns any of them into a float32 array.
# - **Reversed operands.** For `2 - t` Python first tries `int.__sub__(2, t)`, which does
#   not know Tensors and returns `NotImplemented`; Python then calls `t.__rsub__(2)`. Inside
#   `__rsub__`, `self` is `t` and `other` is `2`, so the answer is `other - self`, not
#   `self - other`. The same holds for `__rtruediv__` (`1 / t`). Addition and
#   multiplication do not care about order, but they still need `__radd__` and `__rmul__`,
#   or `2 * t` fails.
# - **NumPy on the left.** `np.ones(3) + t` would normally be handled by NumPy itself,
#   element by element, producing an array of Tensors. The class attribute
#   `__array_ufunc__ = None` (given) tells NumPy to step aside, so Python calls
#   `t.__radd__` instead.
# - **A new Tensor every time.** Never write into `self.data` (`self.data += ...` would
#   change the caller's tensor). The result is always a fresh float32 Tensor.
#
# ### Task `tensor_matmul`: matrix multiplication (3 points)
#
# For $A$ of shape $(m, k)$ and $B$ of shape $(k, n)$, the product $C = AB$ has shape
# $(m, n)$ and
#
# $$C_{ij} = \sum_{p=1}^{k} A_{ip} B_{pj}.$$
#
# Each entry is the dot product of a row of $A$ with a column of $B$, so the two must have
# the same length $k$, the **inner dimension**. Each entry costs $k$ multiplications and
# $k$ additions, so the product costs $2mnk$ floating-point operations (FLOPs).
#
# ```
#        A (2, 3)              B (3, 2)            C (2, 2)
#   row 0 [ 1  2  3 ]     [ 1  0 ]             [ 1*1 + 2*0 + 3*1   . ]   [ 4  5 ]
#         [ 4  5  6 ]  @  [ 0  1 ]       =     [        .          . ] = [10 11 ]
#                         [ 1  1 ]
#                       column 0
#           (2, 3) @ (3, 2): inner dimensions 3 and 3 agree; the result is (2, 2)
# ```
#
# `np.matmul` extends this to vectors and to batches, and so does `Tensor.matmul`:
#
# ```
#   (m, k) @ (k, n)     -> (m, n)      matrix times matrix
#   (k,)   @ (k, n)     -> (n,)        a 1-D left operand acts as a row
#   (m, k) @ (k,)       -> (m,)        a 1-D right operand acts as a column
#   (k,)   @ (k,)       -> ()          dot product, a 0-d result
#   (b, m, k) @ (k, n)  -> (b, m, n)   leading (batch) axes broadcast
# ```
#
# NumPy does the arithmetic; your job is the **check before it**, because a shape mistake
# is the most common bug in deep-learning code and NumPy's own message does not name the
# shapes. The inner dimension of the left operand is its last axis; for the right operand
# it is its only axis when it is 1-D and its second-to-last axis otherwise. When they
# differ, raise `ValueError` with exactly this kind of message:
#
# ```
# matmul: (2, 3) @ (4, 5): inner dimensions 3 and 4 differ
# ```
#
# A 0-d tensor is a number, not a matrix: reject it with a `ValueError` that says to use
# `*` instead.
#
# ### Task `tensor_reshape`: reshape, transpose and `.T` (3 points)
#
# **Reshape** keeps the values and their **row-major** order (the order you read text:
# along the last axis first) and changes only how they are grouped:
#
# ```
#   flat (6,):  [ 0 1 2 3 4 5 ]
#
#   reshape(2, 3):  [ 0 1 2 ]        reshape(3, 2):  [ 0 1 ]
#                   [ 3 4 5 ]                        [ 2 3 ]
#                                                    [ 4 5 ]
# ```
#
# The new shape must hold exactly the same number of elements. One entry may be `-1`,
# meaning "whatever is left": for a `(2, 3, 4)` tensor (24 elements), `reshape(4, -1)`
# infers $24 / 4 = 6$ and gives `(4, 6)`; `reshape(-1)` flattens to `(24,)`. Accept the
# shape as separate integers `reshape(2, 3)` or as one tuple or list `reshape((2, 3))`, as
# PyTorch does. Impossible requests raise `ValueError` naming the old shape, the requested
# shape and the element counts:
#
# ```
# reshape: cannot reshape (2, 3) (6 elements) into (4, 2) (8 elements)
# reshape: cannot reshape (2, 3) (6 elements) into (4, -1): 6 is not a multiple of 4
# ```
#
# Two `-1` entries, or a `-1` beside a `0` (nothing is left over to infer from), are
# errors too.
#
# **Transpose** swaps two axes: for a matrix, $(A^T)_{ij} = A_{ji}$.
#
# ```
#   A (2, 3)          A.transpose() (3, 2)
#   [ 1 2 3 ]         [ 1 4 ]
#   [ 4 5 6 ]   ->    [ 2 5 ]
#                     [ 3 6 ]
# ```
#
# `transpose(dim0=-2, dim1=-1)` swaps the two given axes (negative numbers count from the
# end) and by default the **last two**, like `torch.Tensor.transpose(-2, -1)`: a batch of
# matrices `(b, m, n)` becomes `(b, n, m)`, each matrix transposed. A 1-D tensor has
# nothing to swap and comes back as an unchanged copy. The property `.T` is NumPy's:
# it reverses **all** axes, so for a `(2, 3, 4)` tensor `transpose()` gives `(2, 4, 3)` but
# `.T` gives `(4, 3, 2)`. For a matrix the two agree.
#
# ### Task `tensor_reductions`: sum, mean, max (4 points)
#
# A reduction combines the elements along some axes into one number per remaining
# position. The reduced axes disappear from the shape, unless `keepdims=True`, which keeps
# them with length 1:
#
# ```
#   x = [ 1 2 3 ]   shape (2, 3)
#       [ 4 5 6 ]
#
#   x.sum()                     -> 21                  shape ()
#   x.sum(axis=0)               -> [ 5 7 9 ]           shape (3,)    down each column
#   x.sum(axis=1)               -> [ 6 15 ]            shape (2,)    along each row
#   x.sum(axis=1, keepdims=True)-> [ [ 6] [15] ]       shape (2, 1)
#   x.mean(axis=1)              -> [ 2 5 ]             shape (2,)    sum / 3 elements
#   x.max(axis=0)               -> [ 4 5 6 ]           shape (3,)
# ```
#
# $\mathrm{sum}(x)_j = \sum_i x_{ij}$, $\mathrm{mean}(x)_j = \frac{1}{n}\sum_i x_{ij}$ with
# $n$ the number of elements reduced, $\mathrm{max}(x)_j = \max_i x_{ij}$ (for `axis=0`).
#
# Why `keepdims` matters: the result broadcasts back against the input. With
# `m = x.mean(axis=1, keepdims=True)` of shape `(2, 1)`, `x - m` subtracts each row's mean
# from that row; without `keepdims`, `m` has shape `(2,)` and `x - m` fails or, worse for a
# square `x`, silently subtracts the wrong numbers. `axis` may be `None` (everything), an
# int or a tuple of ints, and negative values count from the end.
#
# ### Task `tensor_indexing`: indexing, `numpy()`, `item()` (2 points)
#
# `t[key]` follows NumPy's indexing rules and returns a Tensor:
#
# ```
#   t = [ 1 2 3 ]    t[1]        -> [ 4 5 6 ]   shape (3,)   a row
#       [ 4 5 6 ]    t[:, 1]     -> [ 2 5 ]     shape (2,)   a column
#                    t[1, 2]     -> 6.          shape ()     one element, still a Tensor
#                    t[:, ::-1]  -> [ 3 2 1 ]   shape (2, 3) columns in reverse
#                                   [ 6 5 4 ]
#                    t[mask]     -> the elements where a boolean array is True, 1-D
# ```
#
# `numpy()` hands out the underlying array itself (no copy), the bridge to plotting and
# other libraries. `item()` turns a one-element tensor (a loss value, an accuracy) into a
# plain Python `float`, and raises `ValueError` naming the shape for any other tensor.
#
# ### Task `tensor_memory`: bytes (2 points)
#
# $\text{bytes} = \text{size} \times \text{bytes per element}$, and a float32 element takes
# 4 bytes. A `(1000, 1000)` tensor holds a million elements in 4,000,000 bytes (about
# 3.8 MiB). `memory_footprint()` returns that count of bytes as a Python `int`. The systems
# analysis at the end of the notebook uses it.

# %% [markdown]
# ## The `Tensor` class
#
# Fill in each region marked `# Task <task id>:`. Keep the signatures and docstrings as
# they are: later modules and the tests rely on them.


# %% kind="solution" id="tensor_class" export=true
class Tensor:
    """An n-dimensional array of float32 numbers, the value type of every tinytorch model.

    Attributes:
        data: the values, always a numpy.ndarray of dtype float32 (a single number is a 0-d
            array of shape ()).
        grad: the gradient, an array of the same shape as data, or None. Stays None until
            Module 05 (autograd).
        requires_grad: bool; whether autograd should track operations on this tensor.

    Every operation returns a new Tensor and leaves its operands unchanged.
    """

    # NumPy would handle `ndarray + Tensor` itself, element by element. None makes NumPy
    # return NotImplemented instead, so Python calls Tensor.__radd__ (and its siblings).
    __array_ufunc__ = None

    # ----------------------------------------------------------------------------------
    # tensor_init: construction and properties
    # ----------------------------------------------------------------------------------

    def __init__(self, data: "Tensor | np.ndarray | list | float", requires_grad: bool = False):
        """Store a float32 copy of `data`.

        Args:
            data: a Python number, a (nested) list of numbers, a NumPy array of any numeric
                dtype, or another Tensor.
            requires_grad: stored as a bool (so `requires_grad=1` is stored as True).

        Afterwards `self.data` is a new float32 numpy.ndarray with data's shape and values:
        changing the source afterwards does not change this tensor. `self.grad` is None.

        Hint: np.array(values, dtype=np.float32) converts and copies in one step. For a
        Tensor, convert its .data.
        """
        # Task tensor_init: set self.data (a float32 copy), self.grad and self.requires_grad.
        ### BEGIN SOLUTION
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.array(data, dtype=np.float32)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        ### END SOLUTION

    @property
    def shape(self) -> tuple[int, ...]:
        """Length of each axis, a tuple: (2, 3) for a 2x3 matrix, () for a single number."""
        # Task tensor_init: return the shape of the data.
        ### BEGIN SOLUTION
        return self.data.shape
        ### END SOLUTION

    @property
    def size(self) -> int:
        """Number of elements, an int: the product of the shape (1 for a 0-d tensor)."""
        # Task tensor_init: return the number of elements.
        ### BEGIN SOLUTION
        return self.data.size
        ### END SOLUTION

    @property
    def ndim(self) -> int:
        """Number of axes, an int: len(self.shape)."""
        # Task tensor_init: return the number of axes.
        ### BEGIN SOLUTION
        return self.data.ndim
        ### END SOLUTION

    @property
    def dtype(self) -> np.dtype:
        """NumPy dtype of the data; always np.float32."""
        # Task tensor_init: return the dtype of the data.
        ### BEGIN SOLUTION
        return self.data.dtype
        ### END SOLUTION

    def __repr__(self) -> str:
        """Text such as `Tensor([[1., 2.]], shape=(1, 2))`.

        Format: "Tensor(" + values + ", shape=" + str(self.shape) + ")", where values is
        np.array2string(self.data, separator=", ", prefix="Tensor(") (the prefix lines up
        the rows of a matrix). When requires_grad is True, ", requires_grad=True" comes
        before the closing parenthesis: `Tensor([1.5], shape=(1,), requires_grad=True)`.
        """
        # Task tensor_init: build the text described above.
        ### BEGIN SOLUTION
        values = np.array2string(self.data, separator=", ", prefix="Tensor(")
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({values}, shape={self.shape}{flag})"
        ### END SOLUTION

    def __len__(self) -> int:
        """Length of the first axis, like len() of a NumPy array; TypeError for a 0-d tensor."""
        # Task tensor_init: return the length of the first axis.
        ### BEGIN SOLUTION
        return len(self.data)
        ### END SOLUTION

    # ----------------------------------------------------------------------------------
    # tensor_arithmetic: + - * / and unary minus
    # ----------------------------------------------------------------------------------

    @staticmethod
    def _to_array(other: "Tensor | np.ndarray | float") -> np.ndarray:
        """The values of `other` as an array: a Tensor's .data, anything else as float32.

        Given, not a task: arithmetic and matmul use it so that a Tensor, a Python number and
        a NumPy array are all accepted as the other operand.
        """
        if isinstance(other, Tensor):
            return other.data
        return np.asarray(other, dtype=np.float32)

    def __add__(self, other: "Tensor | np.ndarray | float") -> "Tensor":
        """self + other, element-wise with broadcasting.

        other: a Tensor, a Python number or a NumPy array. Returns a new float32 Tensor of
        the broadcast shape; shapes that cannot broadcast raise ValueError (NumPy's).

        Hint: Tensor(self.data + self._to_array(other)).
        """
        # Task tensor_arithmetic: return self + other as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self.data + self._to_array(other))
        ### END SOLUTION

    def __radd__(self, other: "np.ndarray | float") -> "Tensor":
        """other + self, called by Python for `2 + t` and `np.ones(3) + t`."""
        # Task tensor_arithmetic: return other + self as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self._to_array(other) + self.data)
        ### END SOLUTION

    def __sub__(self, other: "Tensor | np.ndarray | float") -> "Tensor":
        """self - other, element-wise with broadcasting."""
        # Task tensor_arithmetic: return self - other as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self.data - self._to_array(other))
        ### END SOLUTION

    def __rsub__(self, other: "np.ndarray | float") -> "Tensor":
        """other - self, called by Python for `2 - t`: here self is t and other is 2.

        Mind the order: the result is other minus self.
        """
        # Task tensor_arithmetic: return other - self as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self._to_array(other) - self.data)
        ### END SOLUTION

    def __mul__(self, other: "Tensor | np.ndarray | float") -> "Tensor":
        """self * other, element-wise with broadcasting (not the matrix product: see matmul)."""
        # Task tensor_arithmetic: return self * other as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self.data * self._to_array(other))
        ### END SOLUTION

    def __rmul__(self, other: "np.ndarray | float") -> "Tensor":
        """other * self, called by Python for `2 * t`."""
        # Task tensor_arithmetic: return other * self as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self._to_array(other) * self.data)
        ### END SOLUTION

    def __truediv__(self, other: "Tensor | np.ndarray | float") -> "Tensor":
        """self / other, element-wise with broadcasting (true division, float32 result)."""
        # Task tensor_arithmetic: return self / other as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self.data / self._to_array(other))
        ### END SOLUTION

    def __rtruediv__(self, other: "np.ndarray | float") -> "Tensor":
        """other / self, called by Python for `1 / t`: the result is other divided by self."""
        # Task tensor_arithmetic: return other / self as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(self._to_array(other) / self.data)
        ### END SOLUTION

    def __neg__(self) -> "Tensor":
        """-self: every element with its sign flipped."""
        # Task tensor_arithmetic: return -self as a new Tensor.
        ### BEGIN SOLUTION
        return Tensor(-self.data)
        ### END SOLUTION

    # ----------------------------------------------------------------------------------
    # tensor_matmul: matrix product
    # ----------------------------------------------------------------------------------

    def matmul(self, other: "Tensor | np.ndarray") -> "Tensor":
        """Matrix product self @ other, with np.matmul's shape rules.

        Shapes: (m, k) @ (k, n) -> (m, n); (k,) @ (k, n) -> (n,); (m, k) @ (k,) -> (m,);
        (k,) @ (k,) -> () (the dot product); leading batch axes broadcast, e.g.
        (b, m, k) @ (k, n) -> (b, m, n). other may be a Tensor or a NumPy array.

        The inner dimension of self is its last axis; that of other is its only axis when
        other is 1-D, otherwise its second-to-last axis.

        Raises:
            ValueError: when either operand is 0-d, with a message naming both shapes and
                saying to use * for scaling.
            ValueError: when the inner dimensions differ, with a message naming the
                operation, both shapes and both dimensions, exactly like
                "matmul: (2, 3) @ (4, 5): inner dimensions 3 and 4 differ".

        Hint: check the shapes first, then let np.matmul do the arithmetic.
        """
        # Task tensor_matmul: check the operands' shapes, then return the product as a Tensor.
        ### BEGIN SOLUTION
        a, b = self.data, self._to_array(other)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul: {a.shape} @ {b.shape}: 0-d operands are numbers, not matrices; "
                "use * to scale a tensor"
            )
        k_left = a.shape[-1]
        k_right = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_left != k_right:
            raise ValueError(
                f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_left} and {k_right} differ"
            )
        return Tensor(np.matmul(a, b))
        ### END SOLUTION

    def __matmul__(self, other: "Tensor | np.ndarray") -> "Tensor":
        """self @ other: the same as self.matmul(other)."""
        # Task tensor_matmul: delegate to matmul.
        ### BEGIN SOLUTION
        return self.matmul(other)
        ### END SOLUTION

    # ----------------------------------------------------------------------------------
    # tensor_reshape: reshape, transpose, T
    # ----------------------------------------------------------------------------------

    def reshape(self, *shape: "int | tuple[int, ...] | list[int]") -> "Tensor":
        """The same values, in row-major order, arranged in a new shape.

        Accepts t.reshape(2, 3), t.reshape((2, 3)) and t.reshape([2, 3]). At most one entry
        may be -1: it stands for size // (product of the other entries).

        Raises:
            ValueError: when no such shape exists, naming the old shape, the requested shape
                and the element counts, e.g.
                "reshape: cannot reshape (2, 3) (6 elements) into (4, 2) (8 elements)" or
                "reshape: cannot reshape (2, 3) (6 elements) into (4, -1): 6 is not a
                multiple of 4". More than one -1 also raises ValueError, and so does a -1
                beside a 0, as in (0, -1), which no length can fill.

        Hint: np.prod of a list gives its product (1.0 for an empty list). Work out the
        final shape yourself, then return Tensor(self.data.reshape(final_shape)).
        """
        # Task tensor_reshape: read the shape, infer any -1, check the sizes, reshape.
        ### BEGIN SOLUTION
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = shape[0]
        requested = tuple(int(n) for n in shape)
        size = self.data.size
        if requested.count(-1) > 1:
            raise ValueError(f"reshape: {requested}: only one dimension can be -1")
        if -1 in requested:
            known = int(np.prod([n for n in requested if n != -1]))
            # The -1 takes what the other dimensions leave over, if that is a whole number.
            if known == 0 or size % known != 0:
                raise ValueError(
                    f"reshape: cannot reshape {self.data.shape} ({size} elements) into "
                    f"{requested}: {size} is not a multiple of {known}"
                )
            final = tuple(size // known if n == -1 else n for n in requested)
        else:
            final = requested
        wanted = int(np.prod(final))
        if wanted != size:
            raise ValueError(
                f"reshape: cannot reshape {self.data.shape} ({size} elements) into "
                f"{requested} ({wanted} elements)"
            )
        return Tensor(self.data.reshape(final))
        ### END SOLUTION

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        """Swap axes dim0 and dim1 (negative values count from the end).

        The default swaps the last two axes, so a batch of matrices (b, m, n) becomes
        (b, n, m), like torch's t.transpose(-2, -1). A tensor with fewer than two axes has
        nothing to swap: return an unchanged copy.

        Hint: np.swapaxes.
        """
        # Task tensor_reshape: swap the two axes (copy a tensor with fewer than two axes).
        ### BEGIN SOLUTION
        if self.data.ndim < 2:
            return Tensor(self.data)
        return Tensor(np.swapaxes(self.data, dim0, dim1))
        ### END SOLUTION

    @property
    def T(self) -> "Tensor":
        """All axes reversed, like NumPy's .T: (2, 3, 4) -> (4, 3, 2); 1-D stays as it is."""
        # Task tensor_reshape: return the tensor with all axes reversed.
        ### BEGIN SOLUTION
        return Tensor(self.data.T)
        ### END SOLUTION

    # ----------------------------------------------------------------------------------
    # tensor_reductions: sum, mean, max
    # ----------------------------------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        """Sum of the elements over `axis`.

        axis: None (all elements), an int or a tuple of ints; negative values count from the
        end. The reduced axes leave the shape, or stay with length 1 when keepdims=True.
        Returns a float32 Tensor; reducing everything gives a 0-d Tensor.
        """
        # Task tensor_reductions: sum over axis, honouring keepdims.
        ### BEGIN SOLUTION
        return Tensor(np.sum(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        """Mean over `axis`: the sum divided by the number of elements reduced.

        Same axis and keepdims rules as sum.
        """
        # Task tensor_reductions: average over axis, honouring keepdims.
        ### BEGIN SOLUTION
        return Tensor(np.mean(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        """Largest element over `axis` (values only, not positions).

        Same axis and keepdims rules as sum. An empty tensor raises ValueError (NumPy's).
        """
        # Task tensor_reductions: take the maximum over axis, honouring keepdims.
        ### BEGIN SOLUTION
        return Tensor(np.max(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    # ----------------------------------------------------------------------------------
    # tensor_indexing: t[key], numpy(), item()
    # ----------------------------------------------------------------------------------

    def __getitem__(self, key) -> "Tensor":
        """t[key] with NumPy's indexing rules, as a new Tensor.

        key: an int, a slice, a tuple of those, an integer array or a boolean mask (NumPy
        arrays). A single element comes back as a 0-d Tensor (shape ()), not as a number.

        Hint: self.data[key] does the indexing, but gives a NumPy scalar rather than an
        array for a single element; Tensor(...) turns that into a 0-d array.
        """
        # Task tensor_indexing: index the data and wrap the result in a Tensor.
        ### BEGIN SOLUTION
        return Tensor(self.data[key])
        ### END SOLUTION

    def numpy(self) -> np.ndarray:
        """The underlying float32 array itself (self.data, not a copy).

        Writing into it changes the tensor: copy it first if that is not what you want.
        """
        # Task tensor_indexing: return the underlying array.
        ### BEGIN SOLUTION
        return self.data
        ### END SOLUTION

    def item(self) -> float:
        """The value of a one-element tensor (any shape of size 1) as a Python float.

        Raises:
            ValueError: when the tensor does not have exactly one element, naming its shape,
                e.g. "item: needs a tensor with one element, got shape (2, 3) (6 elements)".
        """
        # Task tensor_indexing: check the size, then return the element as a Python float.
        ### BEGIN SOLUTION
        if self.data.size != 1:
            raise ValueError(
                f"item: needs a tensor with one element, got shape {self.data.shape} "
                f"({self.data.size} elements)"
            )
        return self.data.item()  # .item() of a float32 array is a Python float
        ### END SOLUTION

    # ----------------------------------------------------------------------------------
    # tensor_memory
    # ----------------------------------------------------------------------------------

    def memory_footprint(self) -> int:
        """Bytes used by the values, as an int: size times 4 bytes per float32 element.

        Counts the data buffer only, not the Python object around it.
        """
        # Task tensor_memory: return the number of bytes the data occupies.
        ### BEGIN SOLUTION
        return self.data.nbytes
        ### END SOLUTION


# %% [markdown]
# ## Tests
#
# Run the class cell, then each test cell. A failing assert says what was expected, what
# came back and the likely cause. The visible tests use `assert_tensor` and `raised` from
# the checks cell near the top of the notebook.


# %% [markdown]
# ### Test `tensor_init`

# %% kind="test" id="test_tensor_init" points=2
t = Tensor([[1, 2, 3], [4, 5, 6]])
assert_tensor(t, [[1, 2, 3], [4, 5, 6]], "Tensor([[1, 2, 3], [4, 5, 6]])")
assert type(t.shape) is tuple and t.shape == (2, 3), (
    f"shape: expected the tuple (2, 3), got {t.shape!r}. Return self.data.shape."
)
assert type(t.size) is int and t.size == 6, (
    f"size: expected the int 6 (2 * 3 elements), got {t.size!r}."
)
assert type(t.ndim) is int and t.ndim == 2, f"ndim: expected 2 axes, got {t.ndim!r}."
assert t.dtype == np.float32, f"dtype: expected float32, got {t.dtype!r}."
assert t.grad is None, f"grad: a new tensor has no gradient yet (None), got {t.grad!r}."
assert t.requires_grad is False, (
    f"requires_grad: the default is the bool False, got {t.requires_grad!r}."
)
assert Tensor([1.0], requires_grad=1).requires_grad is True, (
    "requires_grad=1 should be stored as the bool True: use bool(requires_grad)."
)
assert len(t) == 2, f"len(t): expected 2 (the length of axis 0), got {len(t)}."
err = raised(lambda: len(Tensor(3.0)))
assert isinstance(err, TypeError), (
    f"len() of a 0-d tensor should raise TypeError as NumPy does, got "
    f"{type(err).__name__ if err else 'no error'}. len(self.data) does that for you."
)

s = Tensor(3)
assert_tensor(s, 3.0, "Tensor(3)")
assert s.shape == () and s.size == 1 and s.ndim == 0, (
    f"Tensor(3): a single number has shape (), size 1, ndim 0; got shape {s.shape!r}, "
    f"size {s.size!r}, ndim {s.ndim!r}."
)

source = np.array([1.0, 2.0], dtype=np.float32)
copied = Tensor(source)
source[0] = 100.0
assert copied.data[0] == 1.0, (
    "Tensor(array) must copy the values: changing the source array afterwards changed the "
    "tensor. np.asarray reuses a float32 array; np.array(..., dtype=np.float32) copies it."
)

text = repr(Tensor([[1, 2]]))
assert text == "Tensor([[1., 2.]], shape=(1, 2))", (
    f"repr: expected 'Tensor([[1., 2.]], shape=(1, 2))', got {text!r}. Use "
    "np.array2string(self.data, separator=', ', prefix='Tensor(') for the values."
)
text = repr(Tensor([1.5], requires_grad=True))
assert text == "Tensor([1.5], shape=(1,), requires_grad=True)", (
    f"repr: expected 'Tensor([1.5], shape=(1,), requires_grad=True)', got {text!r}."
)
text = repr(Tensor([[1, 2], [3, 4]]))
assert text == "Tensor([[1., 2.],\n        [3., 4.]], shape=(2, 2))", (
    f"repr of a matrix: expected the rows lined up under each other, got {text!r}. "
    "Pass prefix='Tensor(' to np.array2string."
)

inner = Tensor([1, 2])
outer = Tensor(inner)
assert_tensor(outer, [1, 2], "Tensor(Tensor([1, 2]))")
assert not np.shares_memory(outer.data, inner.data), (
    "Tensor(other_tensor) must copy other_tensor's data, not share it."
)
### BEGIN HIDDEN TESTS
# hidden: integer and float64 arrays are converted to float32 with the same values
for source in (
    np.arange(-12, 12, dtype=np.int64).reshape(2, 3, 4),
    np.array([[-1.5, 2.25], [1e3, -7.0]], dtype=np.float64),
    np.array([3, -4, 5], dtype=np.int32),
):
    out = Tensor(source)
    assert isinstance(out, Tensor), "the constructor builds a Tensor"
    assert type(out.data) is np.ndarray, "data is stored as a numpy.ndarray"
    assert out.data.dtype == np.float32, "data is converted to float32 whatever the input dtype"
    assert out.data.shape == source.shape, "the data keeps the input's shape"
    assert check_equal(out.data, source.astype(np.float64)), "the data keeps the input values"
# hidden: nested lists with negative and fractional numbers are stored exactly
out = Tensor([[-0.5, 0.25, 8], [3, -2, 1.75], [0, 0, -9]])
expected = np.array([[-0.5, 0.25, 8], [3, -2, 1.75], [0, 0, -9]], dtype=np.float64)
assert type(out.data) is np.ndarray, "a nested list becomes a numpy.ndarray"
assert out.data.dtype == np.float32, "a nested list becomes float32 data"
assert out.data.shape == (3, 3), "a nested list keeps its shape"
assert check_equal(out.data, expected), "a nested list keeps its values"
# hidden: Python and NumPy scalars become 0-d float32 arrays
for number, value in ((-2.5, -2.5), (7, 7.0), (np.float64(0.125), 0.125)):
    out = Tensor(number)
    assert type(out.data) is np.ndarray, "a number is stored as a 0-d numpy.ndarray"
    assert out.data.dtype == np.float32, "a number is stored as float32"
    assert out.data.shape == (), "a number is stored with shape ()"
    assert float(out.data) == value, "a number keeps its value"
# hidden: building from another Tensor copies its values into new float32 memory
inner = Tensor(np.array([[1.0, -2.0, 3.5]]))
out = Tensor(inner)
assert isinstance(out, Tensor), "Tensor(tensor) builds a Tensor"
assert type(out.data) is np.ndarray, "Tensor(tensor) stores an ndarray, not a Tensor"
assert out.data.dtype == np.float32, "Tensor(tensor) stores float32 data"
assert out.data.shape == (1, 3), "Tensor(tensor) keeps the shape"
assert check_equal(out.data, np.array([[1.0, -2.0, 3.5]])), "Tensor(tensor) keeps the values"
assert not np.shares_memory(out.data, inner.data), "Tensor(tensor) copies the data"
out = Tensor(Tensor(-4.0))
assert type(out.data) is np.ndarray, "Tensor of a 0-d tensor stores an ndarray"
assert out.data.shape == () and float(out.data) == -4.0, "Tensor of a 0-d tensor keeps it"
# hidden: the constructor copies a float32 source array
source = np.full((2, 2), 3.0, dtype=np.float32)
out = Tensor(source)
source[1, 1] = -1.0
assert not np.shares_memory(out.data, source), "the constructor copies a float32 array"
assert check_equal(out.data, np.full((2, 2), 3.0)), "changing the source leaves the copy"
# hidden: shape, size, ndim and dtype describe a 3-D tensor and a 0-d tensor
out = Tensor(np.zeros((4, 3, 2), dtype=np.int64))
assert type(out.shape) is tuple and out.shape == (4, 3, 2), "shape is the tuple of lengths"
assert type(out.size) is int and out.size == 24, "size is the number of elements as an int"
assert type(out.ndim) is int and out.ndim == 3, "ndim is the number of axes as an int"
assert out.dtype == np.dtype(np.float32), "dtype is float32"
out = Tensor(5.5)
assert type(out.shape) is tuple and out.shape == (), "a 0-d tensor has shape ()"
assert type(out.size) is int and out.size == 1, "a 0-d tensor has size 1"
assert type(out.ndim) is int and out.ndim == 0, "a 0-d tensor has ndim 0"
# hidden: requires_grad is stored as a bool and grad starts as None
out = Tensor([1.0, 2.0], requires_grad=1)
assert out.requires_grad is True, "a truthy requires_grad is stored as True"
out = Tensor([1.0, 2.0], requires_grad=0)
assert out.requires_grad is False, "a falsy requires_grad is stored as False"
assert Tensor([[3.0]]).requires_grad is False, "requires_grad defaults to False"
assert Tensor([[3.0]], requires_grad=True).grad is None, "grad starts as None"
# hidden: len is the length of the first axis and a 0-d tensor has no length
assert len(Tensor(np.zeros((4, 3, 2)))) == 4, "len is the length of axis 0"
assert len(Tensor([7.0])) == 1, "len of a one-element 1-D tensor is 1"
failed = False
try:
    len(Tensor(2.0))
except TypeError:
    failed = True
assert failed, "len of a 0-d tensor raises TypeError"
# hidden: repr shows the values, the shape and requires_grad only when it is set
text = repr(Tensor([[-0.5, 3.0], [2.0, 1.0]]))
assert isinstance(text, str) and text.startswith("Tensor([["), "repr starts with Tensor( and values"
assert "-0.5" in text, "repr shows the values"
assert text.endswith(", shape=(2, 2))"), "repr ends with the shape"
assert "requires_grad" not in text, "repr leaves out requires_grad when it is False"
text = repr(Tensor([4.0, -1.0, 0.5], requires_grad=True))
assert text.startswith("Tensor(["), "repr starts with Tensor( and values"
assert text.endswith(", shape=(3,), requires_grad=True)"), "repr adds requires_grad=True"
text = repr(Tensor(2.5))
assert text == "Tensor(2.5, shape=())", "repr of a 0-d tensor shows the number and shape ()"
text = repr(Tensor([[1.0, -2.0], [3.0, 4.5]]))
assert "\n        [ 3. ,  4.5]]" in text, "repr lines up the rows of a matrix under each other"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `tensor_arithmetic`

# %% kind="test" id="test_tensor_arithmetic" points=4
a = Tensor([[1, 2, 3], [4, 5, 6]])
b = Tensor([[10, 20, 30], [40, 50, 60]])
assert_tensor(a + b, [[11, 22, 33], [44, 55, 66]], "a + b")
assert_tensor(b - a, [[9, 18, 27], [36, 45, 54]], "b - a")
assert_tensor(a * b, [[10, 40, 90], [160, 250, 360]], "a * b")
assert_tensor(b / a, [[10, 10, 10], [10, 10, 10]], "b / a")
assert_tensor(a + 1, [[2, 3, 4], [5, 6, 7]], "a + 1 (a Python number on the right)")
assert_tensor(a / 2, [[0.5, 1, 1.5], [2, 2.5, 3]], "a / 2 (true division)")
assert_tensor(2 * a, [[2, 4, 6], [8, 10, 12]], "2 * a (needs __rmul__)")
assert_tensor(10 - a, [[9, 8, 7], [6, 5, 4]], "10 - a (needs __rsub__; it computes other - self)")
assert_tensor(-a, [[-1, -2, -3], [-4, -5, -6]], "-a (needs __neg__)")
assert_tensor(
    np.array([10, 20, 30]) - a,
    [[9, 18, 27], [6, 15, 24]],
    "np.array([10, 20, 30]) - a (a NumPy array on the left calls a.__rsub__)",
)

col = Tensor([[0], [1], [2]])  # shape (3, 1)
row = Tensor([[0, 10, 20, 30]])  # shape (1, 4)
assert_tensor(
    col + row,
    [[0, 10, 20, 30], [1, 11, 21, 31], [2, 12, 22, 32]],
    "(3, 1) + (1, 4) broadcast to (3, 4)",
)
assert np.array_equal(a.data, [[1, 2, 3], [4, 5, 6]]), (
    "a + b changed a: write the result into a new Tensor, never into self.data."
)


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors with the right shape and values
def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-6))
    )


rng = np.random.default_rng(1101)
sign = np.where(rng.random((2, 1, 3)) < 0.5, -1.0, 1.0)
x64 = sign * rng.integers(1, 12, size=(2, 1, 3)) / 4.0  # (2, 1, 3), no zeros, negatives
y64 = rng.integers(1, 9, size=(4, 1)) / 2.0  # (4, 1), positive
x, y = Tensor(x64), Tensor(y64)
# hidden: adding tensors of different shapes broadcasts both ways
assert _ok(x + y, x64 + y64), "tensor + tensor broadcasts both operands"
assert _ok(y + x, y64 + x64), "tensor + tensor broadcasts with the shapes swapped"
# hidden: subtracting tensors keeps the operand order
assert _ok(x - y, x64 - y64), "tensor - tensor computes left minus right"
assert _ok(y - x, y64 - x64), "tensor - tensor computes left minus right with broadcasting"
# hidden: multiplying and dividing tensors works element-wise with broadcasting
assert _ok(x * y, x64 * y64), "tensor * tensor multiplies element-wise"
assert _ok(x / y, x64 / y64), "tensor / tensor divides left by right"
assert _ok(y / x, y64 / x64), "tensor / tensor divides left by right with broadcasting"
# hidden: a Python number on the right works with every operator
assert _ok(x + 2.5, x64 + 2.5), "tensor + number"
assert _ok(x - 1.5, x64 - 1.5), "tensor - number"
assert _ok(x * -3, x64 * -3), "tensor * number"
assert _ok(x / 4, x64 / 4), "tensor / number"
# hidden: a Python number on the left works with every operator, in the right order
assert _ok(2.5 + x, 2.5 + x64), "number + tensor"
assert _ok(2 - x, 2 - x64), "number - tensor computes the number minus the tensor"
assert _ok(-0.5 - y, -0.5 - y64), "number - tensor computes the number minus the tensor"
assert _ok(-3 * x, -3 * x64), "number * tensor"
assert _ok(1 / x, 1 / x64), "number / tensor divides the number by the tensor"
assert _ok(3.0 / y, 3.0 / y64), "number / tensor divides the number by the tensor"
# hidden: NumPy arrays work on either side and the result is a float32 Tensor
row64 = np.array([0.5, -2.0, 4.0], dtype=np.float64)
row_int = np.array([3, -1, 2], dtype=np.int64)
assert _ok(x + row64, x64 + row64), "tensor + float64 array gives a float32 Tensor"
assert _ok(row64 + x, row64 + x64), "float64 array + tensor gives a float32 Tensor"
assert _ok(row_int - x, row_int - x64), "array - tensor computes the array minus the tensor"
assert _ok(x - row_int, x64 - row_int), "tensor - array computes the tensor minus the array"
assert _ok(row_int * x, row_int * x64), "array * tensor"
assert _ok(x * row_int, x64 * row_int), "tensor * array"
assert _ok(row64 / x, row64 / x64), "array / tensor divides the array by the tensor"
assert _ok(x / row_int, x64 / row_int), "tensor / array divides the tensor by the array"
# hidden: integer inputs give true float32 division
assert _ok(Tensor([1, 2, 3]) / Tensor([2, 4, 4]), [0.5, 0.5, 0.75]), "int values divide exactly"
assert _ok(Tensor([[7, -3]]) / 2, [[3.5, -1.5]]), "int values divided by an int give floats"
# hidden: negation flips the sign of every element
assert _ok(-x, -x64), "-tensor flips every sign"
assert _ok(-Tensor(-2.5), 2.5), "-tensor works on a 0-d tensor"
# hidden: operations return a new Tensor and leave their operands unchanged
before_x, before_y = x64.copy(), y64.copy()
results = [x + y, x - y, x * y, x / y, 2 - x, 1 / y, -x, x + 0]
assert all(out is not x and out is not y for out in results), "operators return new Tensors"
assert check_equal(x.data, before_x), "operators leave the left operand unchanged"
assert check_equal(y.data, before_y), "operators leave the right operand unchanged"
# hidden: shapes that cannot broadcast raise ValueError
failed = False
try:
    _ = Tensor(np.ones((2, 3))) + Tensor(np.ones(2))
except ValueError:
    failed = True
assert failed, "shapes that cannot broadcast raise ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `tensor_matmul`

# %% kind="test" id="test_tensor_matmul" points=3
A = Tensor([[1, 2, 3], [4, 5, 6]])  # (2, 3)
B = Tensor([[1, 0], [0, 1], [1, 1]])  # (3, 2)
assert_tensor(A @ B, [[4, 5], [10, 11]], "A @ B with A (2, 3) and B (3, 2)")
assert_tensor(A.matmul(B), [[4, 5], [10, 11]], "A.matmul(B)")
assert_tensor(
    A @ Tensor([1, 0, -1]), [-2, -2], "A @ v with v of shape (3,) (the vector acts as a column)"
)
batch = Tensor([[[1, 2, 3], [4, 5, 6]], [[0, 0, 1], [1, 0, 0]]])  # (2, 2, 3)
assert_tensor(
    batch @ B,
    [[[4, 5], [10, 11]], [[1, 1], [1, 0]]],
    "batch @ B with batch (2, 2, 3) and B (3, 2): B multiplies each matrix of the batch",
)
err = raised(lambda: Tensor(2.0) @ B)
assert isinstance(err, ValueError), (
    f"a 0-d operand should raise ValueError (use * to scale), got "
    f"{type(err).__name__ if err else 'no error'}."
)

err = raised(lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))))
assert isinstance(err, ValueError), (
    f"(2, 3) @ (4, 5) should raise ValueError (inner dimensions 3 and 4 differ), got "
    f"{type(err).__name__ if err else 'no error'}. Check the shapes before calling np.matmul."
)
message = str(err)
for part in ("matmul", "(2, 3)", "(4, 5)", "inner dimensions 3 and 4"):
    assert part in message, (
        f"the error message should contain {part!r}; got {message!r}. Expected a message "
        "like 'matmul: (2, 3) @ (4, 5): inner dimensions 3 and 4 differ'."
    )


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors with the right shape and values
def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-6))
    )


rng = np.random.default_rng(2202)


def _values(*shape):
    return rng.integers(-8, 9, size=shape) / 4.0


# hidden: non-square matrices multiply rows by columns
m34, m42, m15, m53 = _values(3, 4), _values(4, 2), _values(1, 5), _values(5, 3)
assert _ok(Tensor(m34) @ Tensor(m42), m34 @ m42), (
    "a tall matrix times a wide one gives rows by columns"
)
assert _ok(Tensor(m15).matmul(Tensor(m53)), m15 @ m53), "a one-row matrix times a matrix"
assert _ok(Tensor(m53) @ Tensor(m34[:, :3].T), m53 @ m34[:, :3].T), "a matrix times a square matrix"
# hidden: a 1-D left operand acts as a row vector
v3, m32 = _values(3), _values(3, 2)
assert _ok(Tensor(v3) @ Tensor(m32), v3 @ m32), "a vector on the left gives a vector"
# hidden: a 1-D right operand acts as a column vector
m23 = _values(2, 3)
assert _ok(Tensor(m23) @ Tensor(v3), m23 @ v3), "a vector on the right gives a vector"
# hidden: two vectors give their dot product as a 0-d tensor
v4a, v4b = _values(4), _values(4)
assert _ok(Tensor(v4a) @ Tensor(v4b), v4a @ v4b), "two vectors give a 0-d dot product"
# hidden: batched operands broadcast over their leading axes
b234, m45, b245 = _values(2, 3, 4), _values(4, 5), _values(2, 4, 5)
assert _ok(Tensor(b234) @ Tensor(m45), b234 @ m45), (
    "a batch times one matrix multiplies every matrix"
)
assert _ok(Tensor(b234) @ Tensor(b245), b234 @ b245), "a batch times a batch pairs the matrices"
# hidden: a NumPy array is accepted as the right operand and the inputs stay unchanged
left = Tensor(m34)
assert _ok(left @ m42, m34 @ m42), "tensor @ array gives a float32 Tensor"
assert _ok(left.matmul((m42 * 4).astype(np.int64)), m34 @ (m42 * 4)), "int arrays work"
assert check_equal(left.data, m34), "matmul leaves its left operand unchanged"
# hidden: integer-valued tensors give a float32 product
assert _ok(Tensor([[1, 2], [3, 4]]) @ Tensor([[2, 0], [1, 3]]), [[4, 6], [10, 12]]), (
    "an integer-valued product is stored as float32"
)
# hidden: mismatched inner dimensions raise ValueError naming both shapes and dimensions
message = ""
try:
    _ = Tensor(_values(3)) @ Tensor(_values(4, 2))
except ValueError as exc:
    message = str(exc)
assert message, "a vector times a matrix with a different inner dimension raises ValueError"
assert "(3,)" in message and "(4, 2)" in message, "the error message names both shapes"
assert "3 and 4" in message, "the error message names both inner dimensions, left first"
message = ""
try:
    _ = Tensor(_values(2, 3, 4)).matmul(Tensor(_values(5, 6)))
except ValueError as exc:
    message = str(exc)
assert message, "a batched product with different inner dimensions raises ValueError"
assert "(2, 3, 4)" in message and "(5, 6)" in message, "the error message names both shapes"
assert "4 and 5" in message, "the error message names both inner dimensions, left first"
assert "matmul" in message, "the error message names the operation"
message = ""
try:
    _ = Tensor(_values(2, 3)) @ Tensor(_values(2))
except ValueError as exc:
    message = str(exc)
assert message, "a matrix times a vector of the wrong length raises ValueError"
assert "(2, 3)" in message and "(2,)" in message, "the error message names both shapes"
assert "3 and 2" in message, "the error message names both inner dimensions, left first"
# hidden: a 0-d operand on either side raises ValueError
for left, right in ((Tensor(2.0), Tensor(_values(2, 2))), (Tensor(_values(3)), Tensor(-1.5))):
    message = ""
    try:
        _ = left @ right
    except ValueError as exc:
        message = str(exc)
    assert message, "a 0-d operand raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `tensor_reshape`

# %% kind="test" id="test_tensor_reshape" points=3
flat = Tensor(np.arange(6))
assert_tensor(flat.reshape(2, 3), [[0, 1, 2], [3, 4, 5]], "flat.reshape(2, 3)")
assert_tensor(flat.reshape((3, 2)), [[0, 1], [2, 3], [4, 5]], "flat.reshape((3, 2)) (a tuple)")
assert_tensor(flat.reshape(-1, 2), [[0, 1], [2, 3], [4, 5]], "flat.reshape(-1, 2) (infer -1)")
assert flat.data.shape == (6,), (
    f"reshape must not change the original; its shape became {flat.data.shape}."
)

m = Tensor([[1, 2, 3], [4, 5, 6]])
err = raised(lambda: m.reshape(4, 2))
assert isinstance(err, ValueError), (
    f"reshaping (2, 3) into (4, 2) should raise ValueError (6 elements vs 8), got "
    f"{type(err).__name__ if err else 'no error'}."
)
for part in ("(2, 3)", "(4, 2)", "6", "8"):
    assert part in str(err), (
        f"the reshape error should contain {part!r}; got {str(err)!r}. Expected e.g. "
        "'reshape: cannot reshape (2, 3) (6 elements) into (4, 2) (8 elements)'."
    )

assert_tensor(m.transpose(), [[1, 4], [2, 5], [3, 6]], "m.transpose() of a (2, 3) matrix")
assert_tensor(m.T, [[1, 4], [2, 5], [3, 6]], "m.T of a (2, 3) matrix")
assert_tensor(flat.reshape([2, 3]), [[0, 1, 2], [3, 4, 5]], "flat.reshape([2, 3]) (a list)")
err = raised(lambda: flat.reshape(-1, -1))
assert isinstance(err, ValueError), (
    f"reshape(-1, -1) should raise ValueError (only one -1 can be inferred), got "
    f"{type(err).__name__ if err else 'no error'}."
)
cube = Tensor(np.arange(24).reshape(4, 2, 3))
out = cube.transpose()
assert_tensor(out, np.arange(24).reshape(4, 2, 3).swapaxes(1, 2), "cube.transpose() of (4, 2, 3)")
assert_tensor(cube.T, np.arange(24).reshape(4, 2, 3).T, "cube.T of (4, 2, 3) (all axes reversed)")
vec = Tensor([1, 2, 3])
out = vec.transpose()
assert_tensor(out, [1, 2, 3], "vec.transpose() of a 1-D tensor (unchanged)")
assert out is not vec, "transpose of a 1-D tensor should return a new Tensor (a copy), not self."


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors with the right shape and values
def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-6))
    )


def _message(fn):
    """The text of the ValueError fn() raises, or None when it raises nothing."""
    try:
        fn()
    except ValueError as exc:
        return str(exc)
    return None


x64 = np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 11.5
x = Tensor(x64)
# hidden: -1 is inferred in the first, middle or last position
assert _ok(x.reshape(-1, 6), x64.reshape(4, 6)), "-1 in the first position is inferred"
assert _ok(x.reshape(4, -1, 2), x64.reshape(4, 3, 2)), "-1 in the middle is inferred"
assert _ok(x.reshape(3, 8, -1), x64.reshape(3, 8, 1)), "-1 in the last position is inferred"
assert _ok(x.reshape(-1), x64.reshape(24)), "reshape(-1) flattens"
assert _ok(x.reshape((2, -1)), x64.reshape(2, 12)), "-1 inside a tuple is inferred"
# hidden: the shape can be separate integers, a tuple or a list
assert _ok(x.reshape(6, 4), x64.reshape(6, 4)), "separate integers"
assert _ok(x.reshape((4, 3, 2)), x64.reshape(4, 3, 2)), "one tuple"
assert _ok(x.reshape([12, 2]), x64.reshape(12, 2)), "one list"
assert _ok(Tensor([[5.0]]).reshape(()), 5.0), "an empty tuple gives a 0-d tensor"
# hidden: reshape returns a new Tensor and leaves the original alone
out = x.reshape(24)
assert out is not x, "reshape returns a new Tensor"
assert x.data.shape == (2, 3, 4), "reshape leaves the original's shape"
assert check_equal(x.data, x64), "reshape leaves the original's values"
# hidden: an impossible explicit shape raises ValueError naming both shapes and both counts
message = _message(lambda: x.reshape(5, 5))
assert message is not None, "an explicit shape with a different element count raises ValueError"
assert "(2, 3, 4)" in message, "the reshape error names the original shape"
assert "(5, 5)" in message, "the reshape error names the requested shape"
assert "24" in message and "25" in message, "the reshape error names both element counts"
# hidden: an impossible -1 raises ValueError naming both shapes and the element count
message = _message(lambda: x.reshape(5, -1))
assert message is not None, "a -1 that cannot be a whole number raises ValueError"
assert "(2, 3, 4)" in message, "the reshape error names the original shape"
assert "(5, -1)" in message, "the reshape error names the requested shape as given"
assert "24" in message, "the reshape error names the element count"
# hidden: more than one -1 raises ValueError, even when the sizes would fit
assert _message(lambda: x.reshape(-1, -1, 2)) is not None, "two -1 entries raise ValueError"
assert _message(lambda: Tensor([5.0]).reshape(-1, -1)) is not None, "two -1 entries raise"
# hidden: a -1 next to a zero-length dimension raises ValueError
assert _message(lambda: x.reshape(0, -1)) is not None, "a -1 beside a 0 raises ValueError"
# hidden: transpose() swaps the last two axes of a 3-D tensor
assert _ok(x.transpose(), np.swapaxes(x64, -2, -1)), "the default swaps the last two axes"
# hidden: transpose(dim0, dim1) swaps the given axes, negative ones included
assert _ok(x.transpose(0, 2), np.swapaxes(x64, 0, 2)), "transpose swaps the given axes"
assert _ok(x.transpose(-3, -2), np.swapaxes(x64, 0, 1)), "negative axes count from the end"
assert _ok(x.transpose(dim0=1, dim1=0), np.swapaxes(x64, 0, 1)), "dim0 and dim1 keywords"
assert _ok(x.transpose(1, -1), np.swapaxes(x64, 1, 2)), "a mix of signs works"
# hidden: transpose of a non-square matrix and of a 1-D tensor
rect = np.array([[-1.0, 2.0, 0.5, 4.0], [3.0, -6.0, 7.0, 8.0]])
assert _ok(Tensor(rect).transpose(), rect.T), "a matrix's transpose swaps rows and columns"
vec = Tensor([3.0, -1.0, 2.0])
out = vec.transpose()
assert _ok(out, [3.0, -1.0, 2.0]), "transpose of a 1-D tensor leaves it unchanged"
assert out is not vec, "transpose of a 1-D tensor returns a new Tensor"
assert not np.shares_memory(out.data, vec.data), "transpose of a 1-D tensor is a copy"
# hidden: .T reverses all the axes
assert _ok(x.T, np.transpose(x64)), ".T reverses all axes"
assert _ok(Tensor(rect).T, rect.T), ".T of a matrix is its transpose"
assert _ok(vec.T, [3.0, -1.0, 2.0]), ".T of a 1-D tensor leaves it unchanged"
assert check_equal(x.data, x64), "transposing leaves the original unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `tensor_reductions`

# %% kind="test" id="test_tensor_reductions" points=4
x = Tensor([[1, 2, 3], [4, 5, 6]])
assert_tensor(x.sum(), 21, "x.sum() (all elements, shape ())")
assert_tensor(x.sum(axis=0), [5, 7, 9], "x.sum(axis=0) (down each column)")
assert_tensor(x.sum(axis=1, keepdims=True), [[6], [15]], "x.sum(axis=1, keepdims=True)")
assert_tensor(x.mean(), 3.5, "x.mean()")
assert_tensor(x.mean(axis=1), [2, 5], "x.mean(axis=1) (along each row)")
assert_tensor(x.max(), 6, "x.max()")
assert_tensor(x.max(axis=0), [4, 5, 6], "x.max(axis=0)")
assert_tensor(x.max(axis=-1), [3, 6], "x.max(axis=-1) (negative axes count from the end)")
assert_tensor(x.mean(axis=(0, 1)), 3.5, "x.mean(axis=(0, 1)) (a tuple of axes)")
assert_tensor(x.mean(axis=0, keepdims=True), [[2.5, 3.5, 4.5]], "x.mean(axis=0, keepdims=True)")


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors with the right shape and values
def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-6))
    )


rng = np.random.default_rng(3303)
x64 = rng.integers(-20, 21, size=(3, 4, 5)) / 4.0
x64[0, 0, 0] = 9.75  # one clear maximum
x = Tensor(x64)
# hidden: sum over everything gives a 0-d tensor
assert _ok(x.sum(), x64.sum()), "sum() adds every element into a 0-d tensor"
# hidden: sum over one axis, negative axes included
assert _ok(x.sum(axis=1), x64.sum(axis=1)), "sum over a middle axis removes that axis"
assert _ok(x.sum(axis=-1), x64.sum(axis=-1)), "sum over a negative axis counts from the end"
assert _ok(x.sum(0), x64.sum(axis=0)), "axis can be passed by position"
# hidden: sum over a tuple of axes, with and without keepdims
assert _ok(x.sum(axis=(0, 2)), x64.sum(axis=(0, 2))), "sum over a tuple of axes"
assert _ok(x.sum(axis=(0, 2), keepdims=True), x64.sum(axis=(0, 2), keepdims=True)), (
    "sum over a tuple of axes with keepdims keeps them with length 1"
)
# hidden: keepdims=True keeps the reduced axes with length 1
assert _ok(x.sum(axis=1, keepdims=True), x64.sum(axis=1, keepdims=True)), "sum keepdims"
assert _ok(x.sum(keepdims=True), x64.sum(keepdims=True)), "a full sum with keepdims"
assert _ok(x.mean(axis=-1, keepdims=True), x64.mean(axis=-1, keepdims=True)), "mean keepdims"
assert _ok(x.max(axis=0, keepdims=True), x64.max(axis=0, keepdims=True)), "max keepdims"
# hidden: keepdims defaults to False
assert _ok(x.mean(axis=2), x64.mean(axis=2)), "mean drops the reduced axis by default"
assert _ok(x.max(axis=1), x64.max(axis=1)), "max drops the reduced axis by default"
# hidden: mean divides by the number of elements reduced
assert _ok(x.mean(), x64.mean()), "mean() averages every element"
assert _ok(x.mean(axis=0), x64.mean(axis=0)), "mean over axis 0"
assert _ok(x.mean(axis=(1, 2)), x64.mean(axis=(1, 2))), "mean over a tuple of axes"
assert _ok(x.mean(axis=(-3, -1), keepdims=True), x64.mean(axis=(0, 2), keepdims=True)), (
    "mean over negative axes with keepdims"
)
# hidden: max finds the largest element, also when every element is negative
neg64 = -1.0 - rng.integers(0, 40, size=(4, 3)) / 8.0
neg = Tensor(neg64)
assert _ok(x.max(), 9.75), "max() finds the largest element"
assert _ok(neg.max(), neg64.max()), "max() of negative numbers is still the largest one"
assert _ok(neg.max(axis=1), neg64.max(axis=1)), "max over axis 1 of negative numbers"
assert _ok(neg.max(axis=-2), neg64.max(axis=0)), "max over a negative axis"
assert _ok(x.max(axis=(0, 1)), x64.max(axis=(0, 1))), "max over a tuple of axes"
# hidden: reductions of integer-valued data give float32 results
ints = Tensor(np.array([[1, 2], [4, 4]], dtype=np.int64))
assert _ok(ints.mean(), 2.75), "the mean of integer values is a float32 fraction"
assert _ok(ints.mean(axis=1), [1.5, 4.0]), "the mean along an axis of integer values"
assert _ok(ints.sum(axis=0), [5.0, 6.0]), "the sum of integer values is float32"
# hidden: reductions return new Tensors and leave the input unchanged
results = [x.sum(), x.mean(axis=1), x.max(axis=2, keepdims=True)]
assert all(out is not x for out in results), "reductions return new Tensors"
assert check_equal(x.data, x64), "reductions leave the input unchanged"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `tensor_indexing`

# %% kind="test" id="test_tensor_indexing" points=2
t = Tensor([[1, 2, 3], [4, 5, 6]])
assert_tensor(t[0], [1, 2, 3], "t[0] (the first row)")
assert_tensor(t[:, 1], [2, 5], "t[:, 1] (the middle column)")
assert_tensor(t[1, 2], 6, "t[1, 2] (one element: a 0-d Tensor, not a number)")
assert_tensor(t[t.data > 3], [4, 5, 6], "t[t.data > 3] (a boolean mask)")
assert_tensor(t[:, ::-1], [[3, 2, 1], [6, 5, 4]], "t[:, ::-1] (a negative step)")
assert t.numpy() is t.data, "t.numpy() should return self.data itself, not a copy."
value = Tensor([[7]]).item()
assert type(value) is float and value == 7.0, (
    f"Tensor([[7]]).item(): expected the Python float 7.0, got {value!r} of type "
    f"{type(value).__name__}."
)
err = raised(lambda: t.item())
assert isinstance(err, ValueError), (
    f"item() on a (2, 3) tensor should raise ValueError, got "
    f"{type(err).__name__ if err else 'no error'}."
)
assert "(2, 3)" in str(err), f"the item() error should name the shape (2, 3); got {str(err)!r}."


### BEGIN HIDDEN TESTS
# hidden: results are float32 Tensors with the right shape and values
def _ok(out, expected):
    """A float32 Tensor with expected's shape and values (expected computed in float64)."""
    expected = np.asarray(expected, dtype=np.float64)
    data = getattr(out, "data", None)
    return (
        isinstance(out, Tensor)
        and type(data) is np.ndarray
        and data.dtype == np.float32
        and data.shape == expected.shape
        and bool(check_close(data, expected, rtol=1e-5, atol=1e-6))
    )


x64 = np.arange(60, dtype=np.float64).reshape(3, 4, 5) - 29.5
x = Tensor(x64)
# hidden: negative integer indices count from the end
assert _ok(x[-1], x64[-1]), "a negative index selects from the end"
assert _ok(x[-2, -1], x64[-2, -1]), "several negative indices"
# hidden: slices with steps, negative steps included
assert _ok(x[::-1], x64[::-1]), "a negative step reverses an axis"
assert _ok(x[:, ::-2, 1], x64[:, ::-2, 1]), "a negative step of 2 with an integer index"
assert _ok(x[1:, :3:2, 3:], x64[1:, :3:2, 3:]), "a tuple of slices with steps"
# hidden: a boolean mask selects the matching elements as a 1-D tensor
mask = x64 > 7.0
assert _ok(x[mask], x64[mask]), "a boolean mask selects the elements where it is True"
assert _ok(x[x64[:, 0, 0] < 0], x64[x64[:, 0, 0] < 0]), "a boolean mask over the first axis"
# hidden: an integer array gathers rows, repeats included
rows = np.array([2, 0, 2])
assert _ok(x[rows], x64[rows]), "an integer array gathers rows in the given order"
assert _ok(x[1, np.array([3, 1])], x64[1, np.array([3, 1])]), "an integer array on an axis"
# hidden: a single element is a 0-d Tensor
assert _ok(x[2, 3, 4], x64[2, 3, 4]), "one element gives a 0-d Tensor"
assert _ok(x[0, -1, -2], x64[0, -1, -2]), "one element by negative indices gives a 0-d Tensor"
# hidden: indexing leaves the original unchanged
assert x[0] is not x and check_equal(x.data, x64), "indexing leaves the original unchanged"
# hidden: numpy() returns the underlying float32 array itself
arr = Tensor(np.arange(6, dtype=np.int64).reshape(3, 2)).numpy()
assert type(arr) is np.ndarray, "numpy() returns a numpy.ndarray"
assert arr.dtype == np.float32 and arr.shape == (3, 2), "numpy() returns the float32 data"
assert x.numpy() is x.data, "numpy() returns self.data without copying"
# hidden: item() returns a Python float for any one-element tensor
for source, value in (([[[-2.5]]], -2.5), (0.75, 0.75), ([4], 4.0)):
    number = Tensor(source).item()
    assert type(number) is float, "item() returns a Python float"
    assert number == value, "item() returns the tensor's only value"
assert x[1, 2, 3].item() == x64[1, 2, 3], "item() of an indexed element"
# hidden: item() raises ValueError naming the shape unless there is exactly one element
for shape, text in (((3,), "(3,)"), ((2, 2), "(2, 2)"), ((0, 2), "(0, 2)")):
    message = ""
    try:
        Tensor(np.ones(shape)).item()
    except ValueError as exc:
        message = str(exc)
    assert message, "item() of a tensor without exactly one element raises ValueError"
    assert text in message, "the item() error names the tensor's shape"
### END HIDDEN TESTS

# %% [markdown]
# ### Test `tensor_memory`

# %% kind="test" id="test_tensor_memory" points=2
nbytes = Tensor(np.zeros((2, 3))).memory_footprint()
assert type(nbytes) is int, f"memory_footprint() should return an int, got {type(nbytes).__name__}."
assert nbytes == 24, (
    f"a (2, 3) float32 tensor uses 6 elements * 4 bytes = 24 bytes, got {nbytes}. "
    "Did you return the number of elements instead of bytes?"
)
### BEGIN HIDDEN TESTS
# hidden: every element costs 4 bytes, whatever the shape
for shape in ((5, 7, 3), (1000,), (1, 1), (2, 3, 4, 5)):
    nbytes = Tensor(np.ones(shape)).memory_footprint()
    assert type(nbytes) is int, "memory_footprint returns a Python int"
    assert nbytes == 4 * int(np.prod(shape)), "memory_footprint is 4 bytes per element"
# hidden: float64 and integer inputs still cost 4 bytes per element once stored
assert Tensor(np.zeros((3, 3), dtype=np.float64)).memory_footprint() == 36, "float64 input"
assert Tensor(np.arange(10, dtype=np.int64)).memory_footprint() == 40, "int64 input"
assert Tensor([[1, 2, 3]]).memory_footprint() == 12, "a nested list"
# hidden: a 0-d tensor takes 4 bytes and an empty tensor none
assert Tensor(-3.0).memory_footprint() == 4, "a 0-d tensor takes 4 bytes"
nbytes = Tensor(np.zeros((0, 5))).memory_footprint()
assert type(nbytes) is int and nbytes == 0, "an empty tensor takes 0 bytes"
# hidden: the footprint is measured from the current data, not remembered from __init__
base = Tensor(np.ones((4, 6)))
assert base.memory_footprint() == 96, "memory_footprint is 4 bytes per element"
base.data = np.zeros((2, 5), dtype=np.float32)
assert base.memory_footprint() == 40, "memory_footprint follows the current data"
### END HIDDEN TESTS

# %% [markdown]
# ## Systems analysis: bytes, copies and FLOPs
#
# Nothing below is graded. These cells measure what you just built; run them and compare
# the numbers with your own predictions before reading the comments. Each cell finishes in
# well under a second.
#
# ### Bytes per element
#
# Memory is size times bytes per element, so the dtype is a multiplier on every tensor a
# model keeps: weights, activations, gradients and optimizer state. Predict the float64
# column before running the cell.


# %%
def human_bytes(n: int) -> str:
    """A byte count as B, KiB, MiB or GiB with one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


shapes = [(1000,), (256, 256), (32, 3, 64, 64), (1024, 1024)]
print(f"{'shape':>16} {'elements':>10} {'float32':>11} {'float64':>11}")
for shape in shapes:
    tensor = Tensor(np.zeros(shape))
    f32 = tensor.memory_footprint()
    f64 = np.zeros(shape, dtype=np.float64).nbytes
    print(f"{str(shape):>16} {tensor.size:>10,} {human_bytes(f32):>11} {human_bytes(f64):>11}")

# Whole models, weights only: parameters x bytes per parameter.
print()
print(f"{'model':>18} {'parameters':>14} {'float32':>11} {'float64':>11}")
for name, params in [("MLP 784-128-64-10", 109_386), ("GPT-2 small", 124_000_000), ("7B LLM", 7e9)]:
    print(
        f"{name:>18} {params:>14,.0f} {human_bytes(4 * params):>11} {human_bytes(8 * params):>11}"
    )

# %% [markdown]
# The batch of 32 RGB 64x64 images already takes 1.5 MiB in float32; a 7-billion-parameter
# model needs 26 GiB just to hold its weights in float32, which is why Module 17 quantizes
# weights to 1 byte each.
#
# ### Views versus copies
#
# A NumPy array is a pointer to a buffer plus a shape and **strides** (how many bytes to
# step along each axis). Reshaping a contiguous array, transposing it or slicing it with
# basic indexing only changes shape and strides: the result is a **view** on the same
# buffer, made in constant time. Boolean masks and integer arrays pick arbitrary elements,
# so NumPy has to copy. Our `Tensor` copies every time, because its constructor calls
# `np.array(...)`. Which rows of the table do you expect to say `True`?

# %%
base = np.arange(12, dtype=np.float32).reshape(3, 4)
cases = [
    ("reshape(4, 3)", lambda a: a.reshape(4, 3)),
    ("transpose / .T", lambda a: a.T),
    ("slice [:, 1:3]", lambda a: a[:, 1:3]),
    ("mask [a > 5]", lambda a: a[a > 5]),
    ("int array [[0, 2]]", lambda a: a[[0, 2]]),
]
wrapped = Tensor(base)
tensor_cases = {
    "reshape(4, 3)": wrapped.reshape(4, 3),
    "transpose / .T": wrapped.T,
    "slice [:, 1:3]": wrapped[:, 1:3],
    "mask [a > 5]": wrapped[wrapped.data > 5],
    "int array [[0, 2]]": wrapped[np.array([0, 2])],
}
print(f"{'operation':>20} {'numpy shares memory':>20} {'Tensor shares memory':>21}")
for name, op in cases:
    numpy_shares = np.shares_memory(op(base), base)
    tensor_shares = np.shares_memory(tensor_cases[name].data, wrapped.data)
    print(f"{name:>20} {str(numpy_shares):>20} {str(tensor_shares):>21}")

# What sharing means: writing through a view changes the original.
view = base.reshape(4, 3)
view[0, 0] = -1.0
print(f"\nafter view[0, 0] = -1: base[0, 0] = {base[0, 0]} (the view wrote into base)")

# %% [markdown]
# Sharing is fast and dangerous: an in-place write through a view silently changes every
# other array that shares the buffer. Copying is safe, and later it matters for autograd,
# which needs the inputs of each operation to stay as they were until the backward pass.
# The price of copying is time and memory proportional to the size. The next cell measures
# it on a 16 MiB tensor.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)


def median_seconds(fn, *args, repeats: int = 7) -> float:
    """Median wall time of fn(*args) over `repeats` runs, after one warm-up run."""
    fn(*args)  # warm-up: first-touch page faults, caches, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


big = Tensor(np.ones((2048, 2048)))
view_s = median_seconds(big.data.reshape, 4096, 1024)
copy_s = median_seconds(big.reshape, 4096, 1024)
print(f"reshape of {human_bytes(big.memory_footprint())} tensor")
print(f"{'numpy view':>14}: {view_s * 1e6:10.1f} us")
print(f"{'Tensor copy':>14}: {copy_s * 1e6:10.1f} us  ({copy_s / view_s:,.0f}x slower)")
del big

# %% [markdown]
# ### Matmul FLOPs and throughput
#
# An $(m, k) @ (k, n)$ product costs $2mnk$ FLOPs: $mn$ outputs, each with $k$ multiplies
# and $k$ adds. Dividing FLOPs by the measured time gives the throughput in GFLOP/s. NumPy
# hands the work to an optimised BLAS library, so our Tensor pays only for the shape check
# and the copy in the constructor. The last row is the first layer of a small MNIST
# classifier: a batch of 32 flattened 28x28 images times a (784, 128) weight matrix.

# %%
rng = np.random.default_rng(0)
print(f"{'(m, k) @ (k, n)':>26} {'MFLOPs':>9} {'Tensor ms':>10} {'GFLOP/s':>8} {'numpy ms':>9}")
for m, k, n in [(64, 64, 64), (128, 128, 128), (256, 256, 256), (512, 512, 512), (32, 784, 128)]:
    left = Tensor(rng.standard_normal((m, k)))
    right = Tensor(rng.standard_normal((k, n)))
    flops = 2 * m * n * k
    ours = median_seconds(left.matmul, right)
    raw = median_seconds(np.matmul, left.data, right.data)
    label = f"({m}, {k}) @ ({k}, {n})"
    print(
        f"{label:>26} {flops / 1e6:9.1f} {ours * 1e3:10.3f} {flops / ours / 1e9:8.1f} "
        f"{raw * 1e3:9.3f}"
    )

# %% [markdown]
# Things to notice: small products run far below the machine's peak because fixed costs
# (Python calls, the shape check, allocating the result) dominate; large ones approach
# what the BLAS library can do, and the Tensor's overhead disappears in the noise. Doubling
# every side of a square matrix multiplies the work by 8, so the time grows as $n^3$ while
# the memory only grows as $n^2$. Module 16 returns to this with tiled matrix products and
# arithmetic intensity.
#
# ## Summary
#
# - A `Tensor` is a float32 `numpy.ndarray` plus a few facts about it: shape, size, dtype
#   and bytes (size times 4).
# - Element-wise operators follow the broadcasting rule: align shapes from the right, and
#   lengths must match or be 1. Reversed operators (`__rsub__`, `__rtruediv__`) receive the
#   operands in swapped roles, so the result is `other - self` and `other / self`.
# - `matmul` needs equal inner dimensions; checking them first gives an error that names
#   the shapes, which saves hours of debugging later.
# - `reshape` keeps the row-major order of the values and can infer one `-1`; `transpose`
#   swaps two axes (by default the last two); `.T` reverses all of them.
# - Reductions remove the reduced axes unless `keepdims=True`, which keeps the result
#   broadcastable against its input.
# - NumPy's reshape, transpose and slicing return views; our Tensor always copies: slower
#   and more memory, but no operation can change another tensor behind its back.
# - A matrix product costs $2mnk$ FLOPs, and its speed depends as much on the fixed
#   overheads as on the arithmetic.
#
# **Reflection.**
#
# 1. `x - x.mean(axis=0)` works for an `(n, d)` matrix without `keepdims`, but
#    `x - x.mean(axis=1)` does not. Why, in terms of the broadcasting rule?
# 2. Module 05 will make every operation here record how to compute its gradient. Why will
#    it matter then that operations never modify their inputs?
# 3. A layer computes `x @ W` with `x` of shape `(batch, in_features)` and `W` of shape
#    `(in_features, out_features)`. How many FLOPs does it cost, and how many bytes do `x`,
#    `W` and the output take in float32?
