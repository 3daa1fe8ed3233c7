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
# # Module 09: Spatial
#
# An MLP reads an image as a flat list of numbers: move the digit two pixels to the right
# and, to the first `Linear` layer, it is a different list altogether. It has to learn
# "a stroke here" separately for every place the stroke can be, with a separate weight for
# every pixel, and it cannot tell which pixels are neighbours. A **convolution** builds
# those two facts about images into the layer itself. It slides one small set of weights,
# the **kernel**, over every position of the image, so a pattern learned in one place is
# recognised everywhere (**weight sharing**), and each output looks only at a small patch
# of neighbouring pixels (**locality**). A 3x3 convolution from 16 to 32 channels has
# 4,640 parameters whatever the size of the image; a `Linear` layer between two 32x32
# images of those channels would need 537 million.
#
# In this module you build the layers of LeCun's 1998 convolutional networks, on top of the
# tensors, layers and autograd of Modules 01 to 05: **`Conv2d`**, twice (once with loops
# you can read, once vectorised with **im2col** so that it is fast enough to train), the
# pooling layers **`MaxPool2d`** and **`AvgPool2d`**, and **`Flatten`**, which hands the
# result to a `Linear` classifier. The milestone after this module trains such a network on
# handwritten digits and beats the MLP of 1986.
#
# ## Learning goals
#
# By the end of this notebook you can:
#
# - compute a 2-D **convolution** over a batch of multi-channel images in NCHW layout, and
#   predict its output size from the kernel size, the **stride** and the **padding**;
# - write a convolution from Tensor operations (slicing, multiplying, summing), so that
#   Module 05's autograd differentiates it with no extra work;
# - **unfold** the patches of an image into a matrix (**im2col**) so that a convolution
#   becomes one matrix product, and fold gradients back (**col2im**);
# - write the convolution as a `Function` with a forward and a backward pass made of
#   matrix products, and check both against numerical gradients;
# - implement **max pooling** (the gradient goes to the winner of each window) and
#   **average pooling** (the gradient is shared evenly), and flatten feature maps for a
#   classifier;
# - count the **FLOPs** and the **memory** of a convolution, and measure how much faster
#   one big matrix product is than a loop of small operations.

# %% [markdown]
# ## How this notebook is graded
#
# - You write code in seven places, one per task. Each spot to fill in is marked with a
#   comment `# Task <task id>: ...` followed by `raise NotImplementedError()`. The docstring
#   above it is the contract: shapes, formulas, errors, and hints. Everything else (the
#   signatures, the given helpers) is read-only.
# - Each task's test cell, `test_<task id>`, comes right after its code cell. The asserts
#   you can read there are the **visible tests**: run them as often as you like, and read
#   their messages when they fail. Expected values come from `conv2d_reference`, a plain
#   float64 loop over the output positions in the checks cell, and from hand-worked
#   examples; gradients are compared with central differences in float64 for a random
#   upstream gradient.
# - When your notebook is graded, each test cell also runs **hidden tests**: the same
#   behaviours on other inputs (batches of 1 and 3, one and several channels in and out,
#   non-square images and kernels such as 3x5, strides of 2 and (2, 1), paddings of 1, 2
#   and (2, 0), no bias, overlapping and gapped windows, ties in max pooling), with their
#   own float64 reference. A failing hidden check tells you which behaviour it was about.
# - A test cell earns its points only when every check in it passes.
# - Anything a test cell writes to stderr counts as a failure (a NumPy `RuntimeWarning`
#   zeroes the cell), so keep your code free of warnings and prints.
# - Test cells are read-only and are restored before grading: do not edit, delete or copy them.
#
# | task id | what you build | points |
# |---|---|---|
# | `pad2d` | `Pad2d`, a `Function` that adds zeros around images, and `pad2d` | 2 |
# | `conv2d_loops` | `conv_output_size`, and `conv2d_loops` from Tensor operations | 4 |
# | `im2col` | `im2col` and `col2im` on NumPy arrays | 4 |
# | `conv2d_function` | `Conv2dFunction` (forward and backward by matrix products), `conv2d` | 4 |
# | `conv2d_layer` | the `Conv2d` layer: weight init, channel check, both versions | 3 |
# | `max_pool` | `MaxPool2dFunction` and `MaxPool2d` (ties: first maximum) | 3 |
# | `avg_pool` | `AvgPool2dFunction`, `AvgPool2d` and `Flatten` | 2 |
# | | **total** | **22** |
#
# Work in the order of the table: each task uses the ones before it. While you work, a
# task's tests run your own earlier tasks, so fix the first failing test first. When your
# notebook is graded, each task's test cell runs the other tasks of this notebook from the
# course's reference solution: a bug in `im2col` costs the points of `im2col`, not those
# of the convolution and pooling tasks built on it. `Tensor` comes from your Module 01,
# `Layer` from your Module 03 and `Function` and the backward pass from your Module 05
# (`tinytorch.core`); when your work is graded they come from the course's reference
# solution too, so a bug in an earlier module does not cost you points here.

# %% kind="locked" id="setup" export=true
"""tinytorch.core.spatial: convolution and pooling layers for batches of images.

Images are NCHW arrays: (batch, channels, height, width). `conv2d_loops` computes a 2-D
convolution from Tensor operations, one kernel tap at a time, so autograd differentiates it
as it is; `im2col`/`col2im` unfold image patches into a matrix and fold them back, and
`Conv2dFunction` uses them to compute the convolution and its gradients with one matrix
product each. Layers: `Conv2d`, `MaxPool2d`, `AvgPool2d`, `Flatten`.
It imports Module 05's autograd, which switches autograd on.
Written by students in Module 09.
"""

import numpy as np

from tinytorch.core.autograd import Context, Function
from tinytorch.core.layers import Layer
from tinytorch.core.tensor import Tensor

__all__ = [
    "Pad2d",
    "pad2d",
    "conv_output_size",
    "conv2d_loops",
    "im2col",
    "col2im",
    "Conv2dFunction",
    "conv2d",
    "Conv2d",
    "MaxPool2dFunction",
    "MaxPool2d",
    "AvgPool2dFunction",
    "AvgPool2d",
    "Flatten",
]


# %% [markdown]
# ## Images as tensors: NCHW
#
# A batch of images is a 4-D tensor of shape `(N, C, H, W)`: N images, each with C
# **channels** (1 for grey levels, 3 for red, green and blue, or 16 feature maps computed by
# an earlier layer), each channel a grid of H rows and W columns. PyTorch calls this layout
# **NCHW**, and so do we.
#
# ```
#   x[n, c, i, j]   image n, channel c, row i, column j
#
#   a batch of 2 RGB images of 4x5 pixels: shape (2, 3, 4, 5)
#
#   image 0:  channel 0 (red)    channel 1 (green)   channel 2 (blue)
#             [ . . . . . ]      [ . . . . . ]       [ . . . . . ]
#             [ . . . . . ]      [ . . . . . ]       [ . . . . . ]      4 rows (H)
#             [ . . . . . ]      [ . . . . . ]       [ . . . . . ]      5 columns (W)
#             [ . . . . . ]      [ . . . . . ]       [ . . . . . ]
#   image 1:  the same three channels
# ```
#
# ## Convolution, one output at a time
#
# A convolution layer with `C_in` input channels and `C_out` output channels has a
# **weight** of shape `(C_out, C_in, kH, kW)`: one `kH x kW` kernel per pair of channels,
# and a **bias** of shape `(C_out,)`. Output channel `o` at position `(i, j)` is the bias
# plus the sum, over every input channel and every position of the kernel, of kernel times
# the pixel underneath it:
#
# $$\mathrm{out}[n, o, i, j] = b[o] + \sum_{c=0}^{C_{in}-1} \sum_{a=0}^{k_H-1}
#   \sum_{b'=0}^{k_W-1} w[o, c, a, b'] \; x[n, c, \; i s + a, \; j s + b'].$$
#
# Here is one channel in and out, a 4x4 image and a 2x2 kernel, stride 1, no padding:
#
# ```
#   x (4x4)               w (2x2)      out (3x3)
#   [ 1  2  0  1 ]        [ 1  0 ]     [ 0  1  5 ]    out[0, 0] = 1*1 + 2*0
#   [ 0  1  3  1 ]        [ 2 -1 ]     [ 4  0  5 ]              + 0*2 + 1*(-1) = 0
#   [ 2  0  1  0 ]                     [ 3  2 -1 ]    out[1, 2] = 3*1 + 1*0
#   [ 1  1  0  2 ]                                              + 1*2 + 0*(-1) = 5
#
#   the window for out[1, 2]: rows 1-2, columns 2-3 of x
# ```
#
# (Mathematicians would call this a cross-correlation: a "true" convolution flips the
# kernel first. Deep-learning libraries all compute the unflipped version and call it
# convolution; since the kernel is learned, the flip makes no difference.)
#
# **Stride** $s$ moves the window $s$ pixels at a time, so the output shrinks by about a
# factor $s$. **Padding** $p$ surrounds the image with $p$ rows and columns of zeros first,
# so that the kernel can be centred on border pixels too; a 3x3 kernel with padding 1 and
# stride 1 keeps the size. The output size, for each of the two axes:
#
# $$H_{out} = \left\lfloor \frac{H + 2p - k_H}{s} \right\rfloor + 1 .$$
#
# ```
#   H = 5, k = 3:    p = 0, s = 1  ->  (5 + 0 - 3) // 1 + 1 = 3
#                    p = 1, s = 1  ->  (5 + 2 - 3) // 1 + 1 = 5     "same" size
#                    p = 1, s = 2  ->  (5 + 2 - 3) // 2 + 1 = 3
#                    p = 0, s = 2  ->  (5 + 0 - 3) // 2 + 1 = 2
#   H = 6, k = 3, p = 0, s = 2     ->  (6 + 0 - 3) // 2 + 1 = 2     the last column is unused
# ```
#
# When the kernel does not fit at all ($H + 2p < k_H$) there is no output: that is an
# error. Stride, padding and kernel size may differ between the two axes: `stride=(2, 1)`
# means 2 down the rows and 1 along the columns, and a kernel may be 3x5.
#
# **Given: `_pair`.** The layers accept `3` or `(3, 5)` for a size. The read-only cell
# below turns either into a pair of ints, and checks the shapes of a convolution's
# operands, so that your code can rely on them.


# %% kind="locked" id="given_checks" export=true
def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    """(value, value) for an int, the two ints of a pair otherwise; both at least `minimum`.

    Raises:
        ValueError: for anything else, naming the argument, e.g. "stride must be an int
            >= 1 or a pair of them, got 0".
    """
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int | np.integer) for v in pair):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_images(shape: tuple, who: str) -> None:
    """A batch of images has four axes, (N, C, H, W)."""
    if len(shape) != 4:
        raise ValueError(
            f"{who}: expected a batch of images of shape (N, C, H, W), got shape {shape}"
        )


def _check_conv_args(x_shape: tuple, w_shape: tuple, bias_shape, who: str) -> None:
    """x is (N, C, H, W), weight (C_out, C, kH, kW) with the same C, bias None or (C_out,)."""
    _check_images(x_shape, who)
    if len(w_shape) != 4:
        raise ValueError(
            f"{who}: weight should have shape (out_channels, in_channels, kH, kW), got {w_shape}"
        )
    if x_shape[1] != w_shape[1]:
        raise ValueError(
            f"{who}: the input has {x_shape[1]} channels but the weight {w_shape} expects "
            f"{w_shape[1]}"
        )
    if bias_shape is not None and tuple(bias_shape) != (w_shape[0],):
        raise ValueError(f"{who}: bias should have shape ({w_shape[0]},), got {bias_shape}")


# %% [markdown]
# ## Checks
#
# The read-only cell below holds what the tests share. Its first part is the same in every
# module: `assert_tensor`, `assert_array` and `assert_grad` check types, shapes and values
# and say which one went wrong; `check_close` compares numbers the way `np.allclose` does;
# `raised` returns the exception a call raised; `numerical_gradients` estimates the
# gradients of $L = \sum R \odot f(\dots)$ by central differences in float64, for a random
# upstream gradient $R$ (Module 05 explains why random and why float64). Its last part is
# this module's own: `conv2d_reference` is the formula above written as plain float64 loops
# over the output positions (slow, obviously right, and the yardstick for everything you
# write), and `leaf` makes a Tensor that records its gradient.


# %% kind="locked" id="checks" include="checks"
SHAPE_HINT = (
    "Images are (N, C, H, W); along each axis a convolution or pooling output is "
    "(size + 2 * padding - kernel) // stride + 1 long."
)


def _as_pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_reference(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    """The convolution by its definition, in float64, one output position at a time."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(weight, dtype=np.float64)
    (sh, sw), (ph, pw) = _as_pair(stride), _as_pair(padding)
    n, _, h, width = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    h_out, w_out = (h + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c_out, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C, kH, kW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64).reshape(1, c_out, 1, 1)
    return out


def leaf(values) -> Tensor:
    """A Tensor with requires_grad=True holding `values` (float32)."""
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# %% [markdown]
# ## Task `pad2d`: zeros around the border, as a `Function` (2 points)
#
# Padding comes first in every convolution with $p > 0$, and it has to be differentiable:
# the gradient of the loss must flow back through it to the input. It is also the smallest
# possible example of a `Function` (Module 05), so it is a good warm-up.
#
# **Forward.** `Pad2d.forward(ctx, x, padding)` receives an array `x` of shape
# `(N, C, H, W)` and `padding = (pH, pW)`, and returns an array of shape
# `(N, C, H + 2 pH, W + 2 pW)`: `pH` rows of zeros above and below each image, `pW` columns
# of zeros left and right, and the batch and channel axes untouched. `np.pad(x, widths)`
# does it, with one `(before, after)` pair per axis in `widths`, and keeps `x`'s dtype.
#
# ```
#   x (1, 1, 2, 3)        pad2d(x, 1) (1, 1, 4, 5)      pad2d(x, (0, 2)) (1, 1, 2, 7)
#   [ 1 2 3 ]             [ 0 0 0 0 0 ]                 [ 0 0 1 2 3 0 0 ]
#   [ 4 5 6 ]             [ 0 1 2 3 0 ]                 [ 0 0 4 5 6 0 0 ]
#                         [ 0 4 5 6 0 ]
#                         [ 0 0 0 0 0 ]
# ```
#
# **Backward.** Every input pixel was copied to one place in the output, and the zeros
# depend on nothing. So the gradient of the input is the upstream gradient with the
# border cut off again: the middle `H x W` block. Careful with `pH = 0`: the slice
# `g[..., 0:-0]` is empty, because `-0` is `0`. Slice from `pH` to `(length - pH)` instead.
#
# **The wrapper.** `pad2d(x, padding)` takes a Tensor and an int or a pair, and returns
# `Pad2d.apply(x, padding=(pH, pW))`: a Tensor that autograd can differentiate. Use the
# given `_pair(padding, "padding", 0)` to turn `1` into `(1, 1)` (and reject negatives).


# %% kind="solution" id="pad2d" export=true
class Pad2d(Function):
    """Zero padding of the last two axes of an (N, C, H, W) array."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
        """x (N, C, H, W) -> (N, C, H + 2 pH, W + 2 pW), zeros around each image; padding is
        (pH, pW). Keeps x's dtype. Remember the padding in ctx for backward."""
        # Task pad2d: remember the padding; return x with zeros around the last two axes.
        ### BEGIN SOLUTION
        ph, pw = padding
        ctx.padding = padding
        return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """The middle block of grad_output, of the input's shape, as a one-element tuple."""
        # Task pad2d: cut the border off the gradient.
        ### BEGIN SOLUTION
        ph, pw = ctx.padding
        rows, cols = grad_output.shape[2], grad_output.shape[3]
        return (grad_output[:, :, ph : rows - ph, pw : cols - pw],)
        ### END SOLUTION


def pad2d(x: Tensor, padding: int | tuple[int, int]) -> Tensor:
    """x (N, C, H, W) with zeros around each image: a new Tensor (N, C, H + 2 pH, W + 2 pW).

    padding: an int p (the same on both axes) or a pair (pH, pW), each >= 0.
    Hint: Pad2d.apply(x, padding=...) with the pair from _pair(padding, "padding", 0).
    """
    # Task pad2d: apply Pad2d with the padding as a pair.
    ### BEGIN SOLUTION
    return Pad2d.apply(x, padding=_pair(padding, "padding", 0))
    ### END SOLUTION


# %% [markdown]
# ### Test `pad2d`

# %% kind="test" id="test_pad2d" points=2
x = Tensor(np.arange(1, 7).reshape(1, 1, 2, 3))
expected = [[[[0, 0, 0, 0, 0], [0, 1, 2, 3, 0], [0, 4, 5, 6, 0], [0, 0, 0, 0, 0]]]]
assert_tensor(pad2d(x, 1), expected, "pad2d(x, 1) with x of shape (1, 1, 2, 3)")
expected = [[[[0, 0, 1, 2, 3, 0, 0], [0, 0, 4, 5, 6, 0, 0]]]]
assert_tensor(pad2d(x, (0, 2)), expected, "pad2d(x, (0, 2)): no rows added, 2 columns each side")

x = leaf(np.arange(1, 7).reshape(1, 1, 2, 3))
upstream = np.arange(20.0).reshape(1, 1, 4, 5)
pad2d(x, 1).backward(upstream)
assert_grad(x, upstream[:, :, 1:3, 1:4], "pad2d(x, 1).backward(g): x.grad is the middle of g")
x = leaf(np.arange(1, 7).reshape(1, 1, 2, 3))
upstream = np.arange(14.0).reshape(1, 1, 2, 7)
pad2d(x, (0, 2)).backward(upstream)
assert_grad(x, upstream[:, :, :, 2:5], "pad2d(x, (0, 2)).backward(g), with pH = 0")

out = Pad2d.forward(Context(), np.ones((1, 1, 2, 2)), padding=(1, 1))
assert out.dtype == np.float64, (
    f"Pad2d.forward of a float64 array should return float64 (gradient checks need it), got "
    f"{out.dtype}."
)

### BEGIN HIDDEN TESTS
# hidden: padding adds zeros around every image and channel, on each axis separately
rng = np.random.default_rng(901)
x64 = rng.standard_normal((2, 3, 3, 4))
for padding, pair in ((2, (2, 2)), ((2, 0), (2, 0)), ((0, 1), (0, 1)), ((1, 3), (1, 3))):
    out = pad2d(Tensor(x64), padding)
    widths = ((0, 0), (0, 0), (pair[0], pair[0]), (pair[1], pair[1]))
    assert isinstance(out, Tensor), "pad2d returns a Tensor"
    assert type(out.data) is np.ndarray and out.data.dtype == np.float32, "a float32 Tensor"
    assert out.data.shape == np.pad(x64, widths).shape, "padding adds 2 p rows and columns"
    assert check_close(out.data, np.pad(x64, widths), atol=1e-6), "zeros around each image"
# hidden: padding 0 leaves the values as they are
out = pad2d(Tensor(x64), 0)
assert out.data.shape == x64.shape, "padding 0 keeps the shape"
assert check_close(out.data, x64, atol=1e-6), "padding 0 keeps the values"
# hidden: backward cuts the border off the gradient, for every padding
for padding, pair in ((2, (2, 2)), ((2, 0), (2, 0)), ((0, 1), (0, 1)), (0, (0, 0))):
    x = leaf(x64)
    out = pad2d(x, padding)
    assert out.requires_grad is True, "pad2d records the operation for autograd"
    g = rng.standard_normal(out.shape)
    out.backward(g)
    middle = g[:, :, pair[0] : pair[0] + 3, pair[1] : pair[1] + 4]
    assert isinstance(x.grad, np.ndarray), "the gradient reaches the input"
    assert x.grad.shape == x64.shape, "the gradient has the input's shape"
    assert check_close(x.grad, middle, atol=1e-6), "the gradient is the middle of the upstream"
# hidden: the Function keeps float64 in both directions
ctx = Context()
out = Pad2d.forward(ctx, x64, padding=(1, 2))
assert out.dtype == np.float64, "forward keeps float64"
assert out.shape == (2, 3, 5, 8), "forward pads each axis by its own amount"
g = rng.standard_normal(out.shape)
grads = Pad2d.backward(ctx, g)
assert isinstance(grads, tuple) and len(grads) == 1, "backward returns a one-element tuple"
assert grads[0].dtype == np.float64, "backward keeps float64"
assert check_close(grads[0], g[:, :, 1:4, 2:6]), "backward returns the middle block"
# hidden: negative padding is rejected
assert isinstance(raised(lambda: pad2d(Tensor(x64), -1)), ValueError), "negative padding"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `conv2d_loops`: a convolution made of Tensor operations (4 points)
#
# **The output size first.** `conv_output_size(size, kernel, stride=1, padding=0)` is the
# formula above for one axis. It returns a Python `int`, and raises `ValueError` naming
# the numbers when the kernel does not fit (`size + 2 * padding < kernel`, which makes the
# formula less than 1).
#
# **The convolution.** The formula sums over four things for every output number:
# channels $c$, and the kernel offsets $a$ and $b'$. Looping over output positions
# $(i, j)$ and computing each number separately, as `conv2d_reference` does, produces the
# output one number at a time, and assembling those numbers into a tensor is not an
# operation our Tensor has. Turn the loops around instead: loop over the **kernel taps**
# $(a, b')$, and do everything else at once.
#
# For one tap $(a, b')$, the input pixel that meets $w[:, :, a, b']$ at output position
# $(i, j)$ is $x_p[n, c, i s + a, j s + b']$. Over all output positions that is a strided
# slice of the padded input:
#
# ```
#   xp[:, :, a : a + s * H_out : s, b : b + s * W_out : s]      shape (N, C, H_out, W_out)
#
#   one row of a 5-wide padded input, kernel 3, stride 1, so W_out = 3:
#     tap b = 0 reads columns 0 1 2      [ x x x . . ]
#     tap b = 1 reads columns 1 2 3      [ . x x x . ]
#     tap b = 2 reads columns 2 3 4      [ . . x x x ]
#   output column j gets one term from each tap: columns j, j + 1, j + 2
#   with stride 2 (W_out = 2), tap b reads columns b and b + 2
# ```
#
# Multiply that slice, viewed as `(N, 1, C, H_out, W_out)`, by the tap's weights
# `w[:, :, a, b']`, viewed as `(1, C_out, C, 1, 1)`: broadcasting gives
# `(N, C_out, C, H_out, W_out)`, and summing over the channel axis (axis 2) gives that tap's
# contribution to every output, `(N, C_out, H_out, W_out)`. Add up the contributions of all
# $k_H k_W$ taps, then the bias viewed as `(1, C_out, 1, 1)`.
#
# Every step is a Tensor operation of Module 01: slicing (`t[...]`), `reshape`, `*`, `sum`
# and `+`. Since Module 05 gave each of them a backward rule, **your convolution is
# differentiable without one more line of code**: `out.backward(g)` fills `x.grad`,
# `weight.grad` and `bias.grad`. That is the payoff of building on operations that know
# their derivatives. The price is speed: every tap adds a handful of nodes to the graph,
# and the backward of each slice scatters into an array as big as the input. The next
# three tasks make the same computation fast.
#
# Contract of `conv2d_loops(x, weight, bias=None, stride=1, padding=0)`:
#
# - `x` is a Tensor `(N, C, H, W)`, `weight` a Tensor `(C_out, C, kH, kW)`, `bias` a Tensor
#   `(C_out,)` or `None` (no bias term); the first given line checks these shapes;
# - `stride` and `padding` are ints or pairs; the given second line reads them as the
#   pairs `(sH, sW)` and `(pH, pW)`;
# - returns a float32 Tensor `(N, C_out, H_out, W_out)` built from Tensor operations only
#   (never from `.data`, or autograd loses track), using your `pad2d` for the padding.


# %% kind="solution" id="conv2d_loops" export=true
def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Length of a convolution's output along one axis: (size + 2 p - k) // s + 1.

    Raises:
        ValueError: when that is less than 1 (the kernel does not fit), naming the numbers,
            e.g. "conv_output_size: a kernel of 5 does not fit in 3 + 2 * 0".
    """
    # Task conv2d_loops: apply the formula; reject kernels that do not fit.
    ### BEGIN SOLUTION
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(
            f"conv_output_size: a kernel of {kernel} does not fit in {size} + 2 * {padding}"
        )
    return out
    ### END SOLUTION


def conv2d_loops(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """2-D convolution of x (N, C, H, W) with weight (C_out, C, kH, kW), one tap at a time.

    out[n, o, i, j] = bias[o] + sum over c, a, b of weight[o, c, a, b] * xp[n, c, i*sH + a,
    j*sW + b], where xp is x padded with zeros. Returns a float32 Tensor (N, C_out, H_out,
    W_out), made only of Tensor operations (pad2d, slicing, reshape, *, sum, +), so that
    out.backward() reaches x, weight and bias. bias None: no bias term.

    Hint: for each tap (a, b), the slice xp[:, :, a : a + sH * H_out : sH, b : ...] is
    (N, C, H_out, W_out); reshape it to (N, 1, C, H_out, W_out), multiply by
    weight[:, :, a, b] reshaped to (1, C_out, C, 1, 1), and sum over axis 2.
    """
    _check_conv_args(x.shape, weight.shape, None if bias is None else bias.shape, "conv2d_loops")
    (sh, sw), (ph, pw) = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    # Task conv2d_loops: pad, then add up the contribution of every kernel tap, then the bias.
    ### BEGIN SOLUTION
    n, c, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = conv_output_size(h, kh, sh, ph)
    w_out = conv_output_size(w, kw, sw, pw)
    xp = pad2d(x, (ph, pw))  # (N, C, H + 2 pH, W + 2 pW)
    out = None
    for a in range(kh):
        for b in range(kw):
            window = xp[:, :, a : a + sh * h_out : sh, b : b + sw * w_out : sw]
            tap = weight[:, :, a, b].reshape(1, c_out, c, 1, 1)  # (1, C_out, C, 1, 1)
            term = (window.reshape(n, 1, c, h_out, w_out) * tap).sum(axis=2)
            out = term if out is None else out + term  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.reshape(1, c_out, 1, 1)
    return out
    ### END SOLUTION


# %% [markdown]
# ### Test `conv2d_loops`

# %% kind="test" id="test_conv2d_loops" points=4
for args, expected in (((5, 3), 3), ((5, 3, 1, 1), 5), ((5, 3, 2, 1), 3), ((6, 3, 2, 0), 2)):
    got = conv_output_size(*args)
    assert type(got) is int and got == expected, (
        f"conv_output_size{args}: expected the int {expected}, got {got!r}. The formula is "
        "(size + 2 * padding - kernel) // stride + 1."
    )
err = raised(lambda: conv_output_size(3, 5))
assert isinstance(err, ValueError), (
    f"conv_output_size(3, 5): a kernel of 5 does not fit in 3 pixels; expected ValueError, got "
    f"{type(err).__name__ if err else 'no error'}."
)

x64 = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 0, 1, 0], [1, 1, 0, 2]], dtype=np.float64)
w64 = np.array([[1, 0], [2, -1]], dtype=np.float64)
out = conv2d_loops(Tensor(x64.reshape(1, 1, 4, 4)), Tensor(w64.reshape(1, 1, 2, 2)))
expected = [[[[0, 1, 5], [4, 0, 5], [3, 2, -1]]]]
assert_tensor(out, expected, "conv2d_loops of the 4x4 example with the 2x2 kernel")

rng = np.random.default_rng(0)
x64, w64, b64 = (rng.standard_normal(s) for s in ((2, 3, 5, 5), (4, 3, 3, 3), (4,)))
for stride, padding in ((1, 0), (1, 1), (2, 1)):
    out = conv2d_loops(Tensor(x64), Tensor(w64), Tensor(b64), stride=stride, padding=padding)
    assert_tensor(
        out,
        conv2d_reference(x64, w64, b64, stride, padding),
        f"conv2d_loops(x (2, 3, 5, 5), weight (4, 3, 3, 3), bias (4,), stride={stride}, "
        f"padding={padding}) compared with conv2d_reference",
        atol=1e-5,
    )

x, w, b = leaf(x64[:1, :2, :4, :4]), leaf(w64[:2, :2]), leaf(b64[:2])
out = conv2d_loops(x, w, b, stride=1, padding=1)
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(
    lambda *a: conv2d_reference(*a, stride=1, padding=1), [x.data, w.data, b.data], upstream
)
for t, g, name in ((x, numeric[0], "x"), (w, numeric[1], "weight"), (b, numeric[2], "bias")):
    assert_grad(t, g, f"conv2d_loops(padding=1).backward(g): {name}.grad vs central differences")


### BEGIN HIDDEN TESTS
# hidden: conv2d_loops matches the float64 reference for every shape, stride and padding
def _h_conv(x, w, b, stride, padding):
    """Reference: float64 einsum over sliding windows."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    out = np.einsum("nchwab,ocab->nohw", windows[:, :, ::sh, ::sw], w)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


_H_CASES = [  # (x shape, weight shape, bias?, stride, padding)
    ((3, 2, 5, 7), (4, 2, 3, 3), True, (1, 1), (0, 0)),
    ((1, 1, 6, 6), (1, 1, 3, 3), True, (2, 2), (1, 1)),
    ((2, 3, 5, 6), (2, 3, 3, 5), False, (1, 1), (2, 2)),
    ((2, 2, 7, 5), (3, 2, 2, 3), True, (2, 1), (2, 0)),
    ((1, 3, 6, 7), (5, 3, 1, 1), True, (2, 2), (0, 0)),
    ((2, 1, 4, 5), (2, 1, 4, 2), False, (1, 2), (0, 1)),
]
# hidden: the output size follows (size + 2 p - k) // s + 1 as a Python int
for args in ((7, 3, 2, 0), (8, 3, 2, 1), (3, 3, 1, 0), (9, 5, 3, 2), (4, 1, 1, 0), (1, 3, 1, 1)):
    size, kernel, stride, padding = args
    got = conv_output_size(size, kernel, stride, padding)
    assert type(got) is int, "conv_output_size returns an int"
    assert got == (size + 2 * padding - kernel) // stride + 1, "the output size formula"
assert conv_output_size(10, 4) == 7, "stride 1 and padding 0 are the defaults"
# hidden: a kernel that does not fit raises ValueError
for args in ((2, 5), (3, 4, 1, 0), (1, 4, 2, 1)):
    assert isinstance(raised(lambda a=args: conv_output_size(*a)), ValueError), (
        "a kernel larger than the padded input raises ValueError"
    )
# hidden: conv2d_loops matches the float64 reference for every shape, stride and padding
for index, (xs, ws, has_bias, stride, padding) in enumerate(_H_CASES):
    rng = np.random.default_rng(910 + index)
    x64, w64, b64 = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    b64 = b64 if has_bias else None
    out = conv2d_loops(
        Tensor(x64), Tensor(w64), None if b64 is None else Tensor(b64), stride, padding
    )
    expected = _h_conv(x64, w64, b64, stride, padding)
    assert isinstance(out, Tensor), "conv2d_loops returns a Tensor"
    assert type(out.data) is np.ndarray and out.data.dtype == np.float32, "a float32 Tensor"
    assert out.data.shape == expected.shape, "the output is (N, C_out, H_out, W_out)"
    assert check_close(out.data, expected, rtol=1e-5, atol=1e-5), "the convolution's values"
# hidden: int stride and padding work like pairs
rng = np.random.default_rng(930)
x64, w64 = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3))
out = conv2d_loops(Tensor(x64), Tensor(w64), None, 2, 2)
expected = _h_conv(x64, w64, None, (2, 2), (2, 2))
assert out.data.shape == expected.shape, "an int stride and padding apply to both axes"
assert check_close(out.data, expected, atol=1e-5), "an int stride and padding apply to both axes"
# hidden: gradients for x, weight and bias match float64 central differences
for index in (0, 1, 2, 3, 5):
    xs, ws, has_bias, stride, padding = _H_CASES[index]
    rng = np.random.default_rng(940 + index)
    xs = (1, *xs[1:]) if index == 0 else xs
    x, w = leaf(rng.standard_normal(xs)), leaf(rng.standard_normal(ws))
    b = leaf(rng.standard_normal(ws[0])) if has_bias else None
    out = conv2d_loops(x, w, b, stride, padding)
    assert out.requires_grad is True, "the result records the graph"
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    inputs = [x, w] + ([b] if has_bias else [])

    def _f(*arrays, s=stride, p=padding, nb=has_bias):
        return _h_conv(arrays[0], arrays[1], arrays[2] if nb else None, s, p)

    numeric = numerical_gradients(_f, [t.data for t in inputs], upstream)
    for t, g in zip(inputs, numeric, strict=True):
        assert isinstance(t.grad, np.ndarray), "backward reaches x, weight and bias"
        assert t.grad.shape == t.shape, "each gradient has its tensor's shape"
        assert check_close(t.grad, g, rtol=1e-4, atol=1e-5), "gradients match central differences"
# hidden: wrong channel counts are rejected
err = raised(lambda: conv2d_loops(Tensor(np.ones((1, 2, 4, 4))), Tensor(np.ones((3, 3, 2, 2)))))
assert isinstance(err, ValueError), "an input whose channels differ from the weight's raises"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `im2col`: unfold the patches into a matrix (4 points)
#
# Look at the reference formula again with the batch and the positions $(n, i, j)$ on one
# side and $(c, a, b')$ on the other: every output number is the **dot product** of one
# image patch, flattened into a row of $C k_H k_W$ numbers, with one kernel flattened the
# same way. Stack every patch as a row of a matrix and every kernel as a row of another,
# and the whole convolution is one matrix product, which NumPy hands to an optimised BLAS
# library. Unfolding the patches is called **im2col** ("image to columns"; we store them as
# rows, the layout that reads most naturally in NumPy).
#
# ```
#   x (1, 1, 3, 3)      the four 2x2 windows (stride 1)      cols = im2col(x, 2)  (4, 4)
#   [ 0 1 2 ]           (i, j) = (0, 0): 0 1 / 3 4           row 0: [ 0 1 3 4 ]
#   [ 3 4 5 ]    ->              (0, 1): 1 2 / 4 5     ->    row 1: [ 1 2 4 5 ]
#   [ 6 7 8 ]                    (1, 0): 3 4 / 6 7           row 2: [ 3 4 6 7 ]
#                                (1, 1): 4 5 / 7 8           row 3: [ 4 5 7 8 ]
#
#   conv = cols @ weight.reshape(C_out, C * kH * kW).T     (N H_out W_out, C_out)
# ```
#
# The layout is part of the contract, because `Conv2dFunction` relies on it:
#
# - `im2col(x, kernel_size, stride=1, padding=0)` takes a NumPy array `x (N, C, H, W)` and
#   returns `cols` of shape `(N * H_out * W_out, C * kH * kW)`, with x's dtype;
# - **rows** are the patches in the order `(n, i, j)`, row-major: `n * H_out * W_out +
#   i * W_out + j`;
# - **columns** are `(c, a, b')` in row-major order, so that `cols[r] @ weight[o].ravel()`
#   is one output number: channel 0's kH x kW values row by row, then channel 1's, ...;
# - the patch of output position `(i, j)` starts at row `i * sH`, column `j * sW` of the
#   zero-padded input.
#
# **Fast im2col without a loop over positions.** The same trick as in `conv2d_loops`:
# for each tap $(a, b')$, the strided slice `xp[:, :, a : a + sH*H_out : sH, b : ...]`
# holds that tap's pixel for every patch at once. Fill an array `(N, C, kH, kW, H_out,
# W_out)` with $k_H k_W$ such slices, then move the axes into the order
# `(N, H_out, W_out, C, kH, kW)` with one `transpose` and `reshape` to the 2-D matrix.
#
# **col2im, the way back.** Backward receives a gradient `dcols` for every entry of the
# matrix and must return the gradient for every pixel. A pixel that sits in several
# patches (they overlap whenever the stride is smaller than the kernel) appeared in
# several entries of `cols`, so its gradient is the **sum** of those entries' gradients:
# col2im undoes the unfolding by **adding** every entry back onto the pixel it came from
# (in a zero-padded array, whose border is cut off at the end). With a matrix of ones, each
# pixel receives the number of patches that cover it:
#
# ```
#   col2im(ones((4, 9)), x_shape=(1, 1, 4, 4), kernel_size=3)      stride 1, 4 patches
#   [ 1 2 2 1 ]
#   [ 2 4 4 2 ]         a corner pixel is in 1 patch, a middle pixel in all 4
#   [ 2 4 4 2 ]
#   [ 1 2 2 1 ]
# ```
#
# In linear-algebra terms, col2im is the **transpose** (the adjoint) of im2col: for any
# arrays of matching shapes, `np.sum(im2col(x) * D) == np.sum(x * col2im(D))`. The tests
# check exactly that. `col2im(dcols, x_shape, kernel_size, stride=1, padding=0)` returns an
# array of shape `x_shape` with dcols's dtype. Both functions work on NumPy arrays and
# keep their input's dtype (float32 in a network, float64 in the gradient checks).


# %% kind="solution" id="im2col" export=true
def im2col(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """The patches of x (N, C, H, W) as the rows of a matrix (N * H_out * W_out, C * kH * kW).

    Row n * H_out * W_out + i * W_out + j is the patch of output position (i, j) of image n,
    from the zero-padded input, flattened in (c, a, b) row-major order. Keeps x's dtype.

    Hint: fill cols = np.empty((N, C, kH, kW, H_out, W_out), dtype=x.dtype) one tap (a, b)
    at a time with a strided slice of the padded input, then transpose to (N, H_out, W_out,
    C, kH, kW) and reshape.
    """
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    (sh, sw), (ph, pw) = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    # Task im2col: pad, gather one slice per kernel tap, reorder the axes, reshape.
    ### BEGIN SOLUTION
    n, c, h, w = x.shape
    h_out = conv_output_size(h, kh, sh, ph)
    w_out = conv_output_size(w, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((n, c, kh, kw, h_out, w_out), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, :, a, b] = xp[:, :, a : a + sh * h_out : sh, b : b + sw * w_out : sw]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * h_out * w_out, c * kh * kw)
    ### END SOLUTION


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> np.ndarray:
    """The adjoint of im2col: add every entry of cols (N * H_out * W_out, C * kH * kW) back
    onto the pixel of an (N, C, H, W) array it was copied from; returns an array of shape
    x_shape with cols's dtype. Pixels in several patches receive the sum of their entries.

    Hint: reshape cols to (N, H_out, W_out, C, kH, kW) and transpose to (N, C, kH, kW, H_out,
    W_out); add each tap's block into a zero array of the padded shape, with the same strided
    slices as im2col (+=); then cut the padding off.
    """
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    (sh, sw), (ph, pw) = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    # Task im2col: reorder the axes, add each tap back into a padded array, cut the border.
    ### BEGIN SOLUTION
    n, c, h, w = x_shape
    h_out = conv_output_size(h, kh, sh, ph)
    w_out = conv_output_size(w, kw, sw, pw)
    blocks = cols.reshape(n, h_out, w_out, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            xp[:, :, a : a + sh * h_out : sh, b : b + sw * w_out : sw] += blocks[:, :, a, b]
    return xp[:, :, ph : xp.shape[2] - ph, pw : xp.shape[3] - pw]
    ### END SOLUTION


# %% [markdown]
# ### Test `im2col`

# %% kind="test" id="test_im2col" points=4
x = np.arange(9.0).reshape(1, 1, 3, 3)
expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
assert_array(im2col(x, 2), expected, "im2col(x, 2) for the 3x3 picture above")

x = np.arange(18.0).reshape(1, 2, 3, 3)  # channel 1 holds 9..17
cols = im2col(x, 2)
assert_array(
    cols[0],
    [0, 1, 3, 4, 9, 10, 12, 13],
    "im2col(x, 2) with 2 channels, row 0: channel 0's patch row by row, then channel 1's",
)
assert_array(cols[3], [4, 5, 7, 8, 13, 14, 16, 17], "im2col(x, 2) with 2 channels, row 3")

x = np.arange(16.0).reshape(1, 1, 4, 4)
cols = im2col(x, 3, stride=1, padding=1)
assert cols.shape == (16, 9), (
    f"im2col of (1, 1, 4, 4), 3x3, padding 1: 16 positions and 9 values each, got {cols.shape}."
)
assert_array(cols[0], [0, 0, 0, 0, 0, 1, 0, 4, 5], "im2col(..., padding=1), the corner patch")
assert_array(im2col(x, 2, stride=2)[1], [2, 3, 6, 7], "im2col(x, 2, stride=2), row 1")

assert im2col(np.ones((1, 1, 3, 3), dtype=np.float32), 2).dtype == np.float32, (
    "im2col of a float32 array should return float32: create cols with dtype=x.dtype."
)
counts = col2im(np.ones((4, 9)), (1, 1, 4, 4), 3)
expected = [[[[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]]]
assert_array(counts, expected, "col2im(ones((4, 9)), (1, 1, 4, 4), 3): patches per pixel")

rng = np.random.default_rng(1)
x = rng.standard_normal((2, 3, 5, 4))
d = rng.standard_normal((2 * 3 * 2, 3 * 3 * 3))  # stride 2, padding 1: H_out 3, W_out 2
left = np.sum(im2col(x, 3, stride=2, padding=1) * d)
right = np.sum(x * col2im(d, x.shape, 3, stride=2, padding=1))
assert np.isclose(left, right), (
    f"col2im should be the adjoint of im2col: sum(im2col(x) * d) = {left:.6f} but "
    f"sum(x * col2im(d)) = {right:.6f} (x (2, 3, 5, 4), kernel 3, stride 2, padding 1)."
)

### BEGIN HIDDEN TESTS
# hidden: im2col matches the loop reference for every shape, kernel, stride and padding
_H_UNFOLD = [  # (x shape, kernel, stride, padding)
    ((2, 3, 5, 6), (3, 3), (1, 1), (0, 0)),
    ((1, 2, 6, 7), (3, 5), (2, 1), (1, 2)),
    ((3, 1, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((2, 2, 7, 5), (2, 3), (3, 2), (2, 0)),
    ((1, 3, 5, 5), (1, 1), (2, 2), (1, 1)),
    ((2, 1, 5, 6), (4, 2), (1, 3), (0, 1)),
]


def _h_unfold(x, kernel, stride, padding):
    """Reference: loops over the positions, patches flattened row-major."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, h_out, w_out = x.shape[0], (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    rows = []
    for k in range(n):
        for i in range(h_out):
            for j in range(w_out):
                rows.append(xp[k, :, i * sh : i * sh + kh, j * sw : j * sw + kw].ravel())
    return np.array(rows)


for index, (xs, kernel, stride, padding) in enumerate(_H_UNFOLD):
    x = np.random.default_rng(950 + index).standard_normal(xs)
    copy_of_x = x.copy()
    cols = im2col(x, kernel, stride, padding)
    expected = _h_unfold(x, kernel, stride, padding)
    assert type(cols) is np.ndarray, "im2col returns a NumPy array"
    assert cols.shape == expected.shape, "cols is (N * H_out * W_out, C * kH * kW)"
    assert check_close(cols, expected), "rows are patches in (n, i, j) order, flattened (c, a, b)"
    assert cols.dtype == np.float64, "im2col keeps float64"
    assert check_equal(x, copy_of_x), "im2col leaves its input unchanged"
# hidden: im2col accepts ints for kernel, stride and padding
x = np.random.default_rng(960).standard_normal((2, 2, 6, 5))
assert check_close(im2col(x, 3, 2, 1), _h_unfold(x, (3, 3), (2, 2), (1, 1))), "ints as pairs"
assert check_close(im2col(x, 2), _h_unfold(x, (2, 2), (1, 1), (0, 0))), "default stride 1, pad 0"
# hidden: col2im is the adjoint of im2col, gaps and overlaps included
for index, (xs, kernel, stride, padding) in enumerate(_H_UNFOLD):
    rng = np.random.default_rng(970 + index)
    x = rng.standard_normal(xs)
    d = rng.standard_normal(_h_unfold(x, kernel, stride, padding).shape)
    copy_of_d = d.copy()
    back = col2im(d, xs, kernel, stride, padding)
    assert type(back) is np.ndarray and back.shape == xs, "col2im returns an array of x_shape"
    assert back.dtype == np.float64, "col2im keeps float64"
    left = np.sum(_h_unfold(x, kernel, stride, padding) * d)
    assert check_close(left, np.sum(x * back)), "col2im is the adjoint of im2col"
    assert check_equal(d, copy_of_d), "col2im leaves its input unchanged"
    # the gradient of every pixel separately, against the reference's unfolding
    for probe in np.ndindex(*xs):
        if (sum(probe) * 7) % 11 != 0:
            continue
        unit = np.zeros(xs)
        unit[probe] = 1.0
        expected = np.sum(_h_unfold(unit, kernel, stride, padding) * d)
        assert check_close(back[probe], expected), "each pixel receives the sum of its entries"
# hidden: col2im counts how many patches cover each pixel
counts = col2im(np.ones((6, 4)), (1, 1, 3, 4), (2, 2), (1, 1), (0, 0))
assert check_close(counts, [[[[1, 2, 2, 1], [2, 4, 4, 2], [1, 2, 2, 1]]]]), "overlapping patches"
gaps = col2im(np.ones((4, 4)), (1, 1, 5, 5), 2, 3)
expected = [[1, 1, 0, 1, 1], [1, 1, 0, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1], [1, 1, 0, 1, 1]]
assert check_close(gaps, [[expected]]), "pixels no patch covers get 0"
# hidden: float32 stays float32 in both directions
x32 = np.random.default_rng(980).standard_normal((2, 3, 4, 5)).astype(np.float32)
cols32 = im2col(x32, 3, 1, 1)
assert cols32.dtype == np.float32, "im2col keeps float32"
assert col2im(cols32, x32.shape, 3, 1, 1).dtype == np.float32, "col2im keeps float32"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `conv2d_function`: the convolution as one `Function` (4 points)
#
# With im2col, forward is three lines, and backward is the matrix product rule of
# Module 05 plus col2im. Write $X_{col}$ for `im2col(x)`, of shape $(M, K)$ with
# $M = N H_{out} W_{out}$ and $K = C k_H k_W$, and $W_{mat}$ for `weight.reshape(C_out, K)`:
#
# $$Y = X_{col} W_{mat}^T + b \quad (M, C_{out}), \qquad \text{then reshape }
#   (N, H_{out}, W_{out}, C_{out}) \text{ and move the channels: } (N, C_{out}, H_{out}, W_{out}).$$
#
# Backward gets $G$ = `grad_output` of shape `(N, C_out, H_out, W_out)`. Undo the last step
# first: move the channels back to the end and reshape to $G_{mat}$, shape $(M, C_{out})$,
# so that row $r$ of $G_{mat}$ belongs to row $r$ of $X_{col}$. Then, exactly as for
# `x @ W.T + b` in Module 05:
#
# $$\frac{\partial L}{\partial W_{mat}} = G_{mat}^T X_{col} \quad (C_{out}, K), \qquad
#   \frac{\partial L}{\partial b} = \sum_{r} G_{mat}[r] \quad (C_{out},), \qquad
#   \frac{\partial L}{\partial X_{col}} = G_{mat} W_{mat} \quad (M, K),$$
#
# and the gradient of the image is `col2im` of the last one: each patch entry's gradient
# goes back to the pixel it came from, summed where patches overlap. The weight's gradient
# is reshaped to `(C_out, C, kH, kW)`.
#
# ```
#   forward:   x --im2col--> X_col (M, K) --@ W_mat.T--> (M, C_out) --reshape, move--> out
#   backward:  dx <--col2im-- G_mat @ W_mat <------------- G_mat (M, C_out) <--------- G
#              dW = (G_mat.T @ X_col).reshape(weight.shape)      db = G_mat.sum(axis=0)
# ```
#
# **What to save.** Backward needs $X_{col}$ and the weight, so forward saves them
# (`ctx.save_for_backward(cols, weight)`), plus the input's shape, the stride, the padding
# and whether there was a bias, as attributes of `ctx`. Saving $X_{col}$ rather than `x`
# costs memory (it is about $k_H k_W$ times bigger: the systems analysis measures it) but
# saves recomputing it.
#
# **Bias or not.** `forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0))`
# receives the bias as a third positional input when there is one. `backward` returns one
# gradient per positional input: `(dx, dweight, dbias)` with a bias, `(dx, dweight)`
# without. `stride` and `padding` arrive as keyword arguments, already pairs.
#
# **The wrapper** `conv2d(x, weight, bias=None, stride=1, padding=0)` has the signature of
# `conv2d_loops` and returns `Conv2dFunction.apply(x, weight[, bias], stride=(sH, sW),
# padding=(pH, pW))`: the same result, one node in the graph instead of dozens.


# %% kind="solution" id="conv2d_function" export=true
class Conv2dFunction(Function):
    """2-D convolution by im2col and one matrix product, with its backward pass."""

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        stride: tuple[int, int] = (1, 1),
        padding: tuple[int, int] = (0, 0),
    ) -> np.ndarray:
        """x (N, C, H, W), weight (C_out, C, kH, kW), bias (C_out,) or None -> (N, C_out,
        H_out, W_out), in x's dtype. Saves cols and weight (save_for_backward) and sets
        ctx.x_shape, ctx.stride, ctx.padding and ctx.has_bias."""
        # Task conv2d_function: im2col, one matrix product, bias, back to NCHW; save for backward.
        ### BEGIN SOLUTION
        n, _, h, w = x.shape
        c_out, _, kh, kw = weight.shape
        h_out = conv_output_size(h, kh, stride[0], padding[0])
        w_out = conv_output_size(w, kw, stride[1], padding[1])
        cols = im2col(x, (kh, kw), stride, padding)  # (M, K)
        out = cols @ weight.reshape(c_out, cols.shape[1]).T  # (M, C_out)
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(cols, weight)
        ctx.x_shape, ctx.stride, ctx.padding = x.shape, stride, padding
        ctx.has_bias = bias is not None
        return out.reshape(n, h_out, w_out, c_out).transpose(0, 3, 1, 2)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(dx, dweight, dbias) with a bias, (dx, dweight) without; each of its input's shape."""
        # Task conv2d_function: G_mat, then the three gradients by matrix products and col2im.
        ### BEGIN SOLUTION
        cols, weight = ctx.saved_tensors
        c_out = weight.shape[0]
        g = grad_output.transpose(0, 2, 3, 1).reshape(cols.shape[0], c_out)  # (M, C_out)
        grad_weight = (g.T @ cols).reshape(weight.shape)
        grad_cols = g @ weight.reshape(c_out, cols.shape[1])  # (M, K)
        grad_x = col2im(grad_cols, ctx.x_shape, weight.shape[2:], ctx.stride, ctx.padding)
        if ctx.has_bias:
            return grad_x, grad_weight, g.sum(axis=0)
        return grad_x, grad_weight
        ### END SOLUTION


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """The same convolution as conv2d_loops, as one Conv2dFunction node.

    Returns Conv2dFunction.apply(x, weight, bias, stride=..., padding=...) with stride and
    padding as pairs; without a bias, bias is left out of the inputs.
    """
    _check_conv_args(x.shape, weight.shape, None if bias is None else bias.shape, "conv2d")
    stride, padding = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    # Task conv2d_function: apply the Function, with the bias as an input only when there is one.
    ### BEGIN SOLUTION
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2dFunction.apply(*inputs, stride=stride, padding=padding)
    ### END SOLUTION


# %% [markdown]
# ### Test `conv2d_function`

# %% kind="test" id="test_conv2d_function" points=4
x64 = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 0, 1, 0], [1, 1, 0, 2]], dtype=np.float64)
w64 = np.array([[1, 0], [2, -1]], dtype=np.float64)
out = conv2d(Tensor(x64.reshape(1, 1, 4, 4)), Tensor(w64.reshape(1, 1, 2, 2)))
assert_tensor(out, [[[[0, 1, 5], [4, 0, 5], [3, 2, -1]]]], "conv2d of the 4x4 example")

rng = np.random.default_rng(2)
x64, w64, b64 = (rng.standard_normal(s) for s in ((2, 3, 5, 6), (4, 3, 3, 3), (4,)))
for stride, padding in ((1, 0), (1, 1), (2, 1)):
    x, w, b = Tensor(x64), Tensor(w64), Tensor(b64)
    out = conv2d(x, w, b, stride=stride, padding=padding)
    what = f"conv2d(x (2, 3, 5, 6), weight (4, 3, 3, 3), bias, stride={stride}, padding={padding})"
    assert_tensor(out, conv2d_reference(x64, w64, b64, stride, padding), what, atol=1e-5)
    loops = conv2d_loops(x, w, b, stride, padding).data
    assert_tensor(out, loops, what + " vs conv2d_loops", atol=1e-5)

x, w, b = leaf(x64[:1]), leaf(w64), leaf(b64)
out = conv2d(x, w, b, stride=2, padding=1)
node = getattr(out, "grad_fn", None)
assert node is not None and node.function is Conv2dFunction, (
    f"conv2d should return Conv2dFunction.apply(...): one node in the graph, got {node!r}."
)
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(
    lambda *a: conv2d_reference(*a, stride=2, padding=1), [x.data, w.data, b.data], upstream
)
for t, g, name in ((x, numeric[0], "x"), (w, numeric[1], "weight"), (b, numeric[2], "bias")):
    assert_grad(t, g, f"conv2d(stride=2, padding=1).backward(g): {name}.grad")

ctx = Context()
out = Conv2dFunction.forward(ctx, x64, w64, stride=(1, 1), padding=(0, 0))
grads = Conv2dFunction.backward(ctx, np.ones(out.shape))
assert isinstance(grads, tuple) and len(grads) == 2, (
    "Conv2dFunction.backward without a bias should return (dx, dweight): one gradient per "
    f"positional input of forward, got {type(grads).__name__} of length {len(grads)}."
)


### BEGIN HIDDEN TESTS
# hidden: conv2d matches the float64 reference for every shape, stride and padding
def _h_conv(x, w, b, stride, padding):
    """Reference: float64 einsum over sliding windows."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    out = np.einsum("nchwab,ocab->nohw", windows[:, :, ::sh, ::sw], w)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


_H_CASES = [  # (x shape, weight shape, bias?, stride, padding)
    ((3, 2, 5, 7), (4, 2, 3, 3), True, (1, 1), (0, 0)),
    ((1, 1, 6, 6), (1, 1, 3, 3), True, (2, 2), (1, 1)),
    ((2, 3, 5, 6), (2, 3, 3, 5), False, (1, 1), (2, 2)),
    ((2, 2, 7, 5), (3, 2, 2, 3), True, (2, 1), (2, 0)),
    ((1, 3, 6, 7), (5, 3, 1, 1), True, (2, 2), (0, 0)),
    ((2, 1, 4, 5), (2, 1, 4, 2), False, (1, 2), (0, 1)),
]
for index, (xs, ws, has_bias, stride, padding) in enumerate(_H_CASES):
    rng = np.random.default_rng(1010 + index)
    x64, w64, b64 = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    b64 = b64 if has_bias else None
    out = conv2d(Tensor(x64), Tensor(w64), None if b64 is None else Tensor(b64), stride, padding)
    expected = _h_conv(x64, w64, b64, stride, padding)
    assert isinstance(out, Tensor), "conv2d returns a Tensor"
    assert type(out.data) is np.ndarray and out.data.dtype == np.float32, "a float32 Tensor"
    assert out.data.shape == expected.shape, "the output is (N, C_out, H_out, W_out)"
    assert check_close(out.data, expected, rtol=1e-5, atol=1e-5), "the convolution's values"
# hidden: int stride and padding work like pairs
rng = np.random.default_rng(1030)
x64, w64 = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3))
out = conv2d(Tensor(x64), Tensor(w64), None, 2, 2)
expected = _h_conv(x64, w64, None, (2, 2), (2, 2))
assert out.data.shape == expected.shape, "an int stride and padding apply to both axes"
assert check_close(out.data, expected, atol=1e-5), "an int stride and padding apply to both axes"
# hidden: forward and backward called directly keep float64 and match central differences
for index, (xs, ws, has_bias, stride, padding) in enumerate(_H_CASES):
    rng = np.random.default_rng(1040 + index)
    xs = (1, *xs[1:]) if index == 0 else xs
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if has_bias:
        arrays.append(rng.standard_normal(ws[0]))
    ctx = Context()
    out = Conv2dFunction.forward(ctx, *arrays, stride=stride, padding=padding)
    assert out.dtype == np.float64, "forward keeps float64"
    expected = _h_conv(arrays[0], arrays[1], arrays[2] if has_bias else None, stride, padding)
    assert out.shape == expected.shape, "forward returns (N, C_out, H_out, W_out)"
    assert check_close(out, expected, rtol=1e-9, atol=1e-9), "forward's values in float64"
    upstream = rng.standard_normal(out.shape)
    copy_of_upstream = upstream.copy()
    grads = Conv2dFunction.backward(ctx, upstream)
    assert isinstance(grads, tuple), "backward returns a tuple"
    assert len(grads) == len(arrays), "one gradient per positional input, bias or not"

    def _f(*a, s=stride, p=padding, nb=has_bias):
        return _h_conv(a[0], a[1], a[2] if nb else None, s, p)

    numeric = numerical_gradients(_f, arrays, upstream)
    for got, g, a in zip(grads, numeric, arrays, strict=True):
        assert isinstance(got, np.ndarray) and got.shape == a.shape, "gradients of input shapes"
        assert got.dtype == np.float64, "backward keeps float64"
        assert check_close(got, g, rtol=1e-6, atol=1e-7), "gradients match central differences"
    assert check_equal(upstream, copy_of_upstream), "backward leaves grad_output unchanged"
# hidden: through autograd, gradients reach x, weight and bias as float32
rng = np.random.default_rng(1060)
x, w, b = leaf(rng.standard_normal((2, 3, 6, 5))), leaf(rng.standard_normal((4, 3, 3, 2))), None
out = conv2d(x, w, b, (2, 1), (1, 0))
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(
    lambda a, c: _h_conv(a, c, None, (2, 1), (1, 0)), [x.data, w.data], upstream
)
assert out.grad_fn.function is Conv2dFunction, "conv2d is one Conv2dFunction node"
assert check_close(x.grad, numeric[0], rtol=1e-4, atol=1e-5), "x.grad through autograd"
assert check_close(w.grad, numeric[1], rtol=1e-4, atol=1e-5), "weight.grad through autograd"
# hidden: with a bias and int stride and padding, values and gradients match float64
rng = np.random.default_rng(1070)
x64, w64, b64 = (rng.standard_normal(s) for s in ((2, 2, 5, 6), (3, 2, 3, 2), (3,)))
x, w, b = leaf(x64), leaf(w64), leaf(b64)
out = conv2d(x, w, b, 2, 2)
upstream = np.cos(np.arange(out.size)).reshape(out.shape)
out.backward(upstream)
arrays = [x.data, w.data, b.data]
expected = _h_conv(*arrays, (2, 2), (2, 2))
assert out.data.shape == expected.shape, "an int stride and padding apply to both axes"
assert check_close(out.data, expected, rtol=1e-5, atol=1e-5), "the values with a bias"
numeric = numerical_gradients(lambda a, c, d: _h_conv(a, c, d, (2, 2), (2, 2)), arrays, upstream)
for t, g in zip((x, w, b), numeric, strict=True):
    assert isinstance(t.grad, np.ndarray) and t.grad.shape == t.shape, "gradients of all three"
    assert check_close(t.grad, g, rtol=1e-4, atol=1e-5), "x, weight and bias gradients with a bias"
# hidden: wrong channel counts are rejected
err = raised(lambda: conv2d(Tensor(np.ones((1, 2, 4, 4))), Tensor(np.ones((3, 3, 2, 2)))))
assert isinstance(err, ValueError), "an input whose channels differ from the weight's raises"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `conv2d_layer`: the `Conv2d` layer (3 points)
#
# The layer holds the parameters and calls one of your two functions.
#
# **Parameters.** `weight` of shape `(out_channels, in_channels, kH, kW)` and `bias` of
# shape `(out_channels,)`, Tensors with `requires_grad=True`; `bias=False` stores
# `self.bias = None`. **Initialisation** (PyTorch's default for `nn.Conv2d`, the same rule
# as `Linear` with the fan-in counted over the whole patch): with
# $k = 1 / \sqrt{C_{in} k_H k_W}$, every entry is drawn uniformly from $[-k, k]$, weight
# first, then bias, from `rng = np.random.default_rng(rng)`:
#
# ```
#   weight = rng.uniform(-k, k, size=(out_channels, in_channels, kH, kW))
#   bias   = rng.uniform(-k, k, size=(out_channels,))
# ```
#
# The fan-in matters: an output sums $C_{in} k_H k_W$ products, so with this scale its
# variance does not grow with the size of the patch.
#
# **Attributes.** `in_channels`, `out_channels` (ints), `kernel_size`, `stride`, `padding`
# (pairs, read with the given `_pair`: kernel size and stride at least 1, padding at least
# 0), `use_loops` (a bool), then `weight` and `bias`. `Conv2d(0, 4, 3)` or
# `Conv2d(3, 0, 3)` raise `ValueError`.
#
# **Forward.** Check the input first, because a wrong channel count is the most common bug
# in convolutional networks and deserves a message that names both numbers. Anything but a
# 4-D input whose axis 1 is `in_channels` raises `ValueError` like:
#
# ```
# Conv2d: expected input (N, 3, H, W) with in_channels=3, got shape (2, 4, 8, 8) with 4 channels
# ```
#
# Then return `conv2d(x, weight, bias, stride, padding)`, or `conv2d_loops(...)` when
# `self.use_loops` is True: the slow version stays available, to compare and to debug.


# %% kind="solution" id="conv2d_layer" export=true
class Conv2d(Layer):
    """A 2-D convolution layer on (N, C, H, W) images.

    Attributes:
        in_channels, out_channels: ints.
        kernel_size, stride, padding: pairs of ints (kH, kW), (sH, sW), (pH, pW).
        use_loops: bool; forward uses conv2d_loops when True, conv2d (im2col) otherwise.
        weight: Tensor (out_channels, in_channels, kH, kW), requires_grad=True.
        bias: Tensor (out_channels,), requires_grad=True; None when bias=False.

    Initialisation: k = 1 / sqrt(in_channels * kH * kW); weight, then bias, drawn uniformly
    from [-k, k] with rng.uniform(-k, k, size=...).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        rng: np.random.Generator | int | None = None,
        use_loops: bool = False,
    ):
        """Store the settings, then draw weight and bias (unless bias=False) from rng.

        Raises:
            ValueError: if in_channels or out_channels is less than 1, naming both; and (from
                _pair) for a kernel size or stride below 1 or a negative padding.
        """
        super().__init__()
        # Task conv2d_layer: check and store the settings; draw weight then bias.
        ### BEGIN SOLUTION
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"Conv2d: in_channels and out_channels must be at least 1, got "
                f"in_channels={in_channels}, out_channels={out_channels}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.use_loops = bool(use_loops)
        rng = np.random.default_rng(rng)
        kh, kw = self.kernel_size
        k = 1 / np.sqrt(in_channels * kh * kw)
        shape = (out_channels, in_channels, kh, kw)
        self.weight = Tensor(rng.uniform(-k, k, size=shape), requires_grad=True)
        self.bias = (
            Tensor(rng.uniform(-k, k, size=(out_channels,)), requires_grad=True) if bias else None
        )
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x (N, in_channels, H, W) -> (N, out_channels, H_out, W_out).

        Raises:
            ValueError: unless x is 4-D with x.shape[1] == in_channels, with a message like
                "Conv2d: expected input (N, 3, H, W) with in_channels=3, got shape
                (2, 4, 8, 8) with 4 channels".
        """
        # Task conv2d_layer: check the input; call conv2d or, with use_loops, conv2d_loops.
        ### BEGIN SOLUTION
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d: expected input (N, {self.in_channels}, H, W) with "
                f"in_channels={self.in_channels}, got shape {x.shape}"
                + (f" with {x.shape[1]} channels" if x.ndim == 4 else "")
            )
        conv = conv2d_loops if self.use_loops else conv2d
        return conv(x, self.weight, self.bias, self.stride, self.padding)
        ### END SOLUTION

    def __repr__(self) -> str:
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None})"
        )


# %% [markdown]
# ### Test `conv2d_layer`

# %% kind="test" id="test_conv2d_layer" points=3
conv = Conv2d(3, 4, 3, rng=np.random.default_rng(0))
for name, shape in (("weight", (4, 3, 3, 3)), ("bias", (4,))):
    param = getattr(conv, name, None)
    assert isinstance(param, Tensor) and param.shape == shape, (
        f"Conv2d(3, 4, 3).{name}: expected a Tensor of shape {shape}, got {param!r:.200}. "
        "The weight is (out_channels, in_channels, kH, kW)."
    )
    assert param.data.dtype == np.float32 and param.requires_grad is True, (
        f"Conv2d(3, 4, 3).{name} should be float32 with requires_grad=True."
    )
k = 1 / np.sqrt(3 * 3 * 3)
draws = np.random.default_rng(0)
expected_w, expected_b = draws.uniform(-k, k, size=(4, 3, 3, 3)), draws.uniform(-k, k, size=4)
assert np.allclose(conv.weight.data, expected_w) and np.allclose(conv.bias.data, expected_b), (
    "Conv2d(3, 4, 3, rng=np.random.default_rng(0)): the weight should be "
    "rng.uniform(-k, k, size=(4, 3, 3, 3)) with k = 1/sqrt(3 * 3 * 3), and the bias drawn "
    "after it."
)
params = conv.parameters()
assert len(params) == 2 and params[0] is conv.weight and params[1] is conv.bias, (
    "conv.parameters() should be [weight, bias]: assign self.weight before self.bias."
)
assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 3), (1, 1), (0, 0)), (
    "Conv2d(3, 4, 3) should store kernel_size (3, 3), stride (1, 1) and padding (0, 0), got "
    f"{conv.kernel_size}, {conv.stride}, {conv.padding}."
)

rng = np.random.default_rng(3)
x64 = rng.standard_normal((2, 3, 6, 7))
conv = Conv2d(3, 2, (3, 5), stride=2, padding=1, rng=1)
assert conv.weight.shape == (2, 3, 3, 5), f"Conv2d(3, 2, (3, 5)).weight: got {conv.weight.shape}"
w64, b64 = conv.weight.data.astype(np.float64), conv.bias.data.astype(np.float64)
expected = conv2d_reference(x64, w64, b64, stride=2, padding=1)
out = conv(Tensor(x64))
assert_tensor(out, expected, "Conv2d(3, 2, (3, 5), stride=2, padding=1)(x (2, 3, 6, 7))", atol=1e-5)
assert out.grad_fn.function is Conv2dFunction, "Conv2d should use conv2d (im2col) by default."
conv.use_loops = True
out = conv(Tensor(x64))
assert_tensor(out, expected, "the same layer with use_loops=True", atol=1e-5)
assert out.grad_fn.function is not Conv2dFunction, "with use_loops=True, call conv2d_loops."

no_bias = Conv2d(3, 2, 3, bias=False, rng=2)
params = no_bias.parameters()
assert no_bias.bias is None and len(params) == 1 and params[0] is no_bias.weight, (
    "Conv2d(..., bias=False) should store bias = None and have parameters() == [weight]."
)
err = raised(lambda: Conv2d(3, 4, 3)(Tensor(np.ones((2, 4, 8, 8)))))
assert isinstance(err, ValueError), (
    "Conv2d(3, 4, 3) on an input with 4 channels should raise ValueError, got "
    f"{type(err).__name__ if err else 'no error'}."
)
for part in ("in_channels=3", "4 channels"):
    assert part in str(err), (
        f"the error should contain {part!r}; got {str(err)!r}. Expected 'Conv2d: expected "
        "input (N, 3, H, W) with in_channels=3, got shape (2, 4, 8, 8) with 4 channels'."
    )


### BEGIN HIDDEN TESTS
# hidden: weight and bias have the stated shapes, dtype and requires_grad
def _h_conv(x, w, b, stride, padding):
    """Reference: float64 einsum over sliding windows."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    out = np.einsum("nchwab,ocab->nohw", windows[:, :, ::sh, ::sw], w)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


_H_CASES = [  # (x shape, weight shape, bias?, stride, padding)
    ((3, 2, 5, 7), (4, 2, 3, 3), True, (1, 1), (0, 0)),
    ((1, 1, 6, 6), (1, 1, 3, 3), True, (2, 2), (1, 1)),
    ((2, 3, 5, 6), (2, 3, 3, 5), False, (1, 1), (2, 2)),
    ((2, 2, 7, 5), (3, 2, 2, 3), True, (2, 1), (2, 0)),
    ((1, 3, 6, 7), (5, 3, 1, 1), True, (2, 2), (0, 0)),
    ((2, 1, 4, 5), (2, 1, 4, 2), False, (1, 2), (0, 1)),
]
for c_in, c_out, kernel, pair in (
    (1, 6, 3, (3, 3)),
    (5, 2, (3, 5), (3, 5)),
    (2, 1, (1, 2), (1, 2)),
):
    layer = Conv2d(c_in, c_out, kernel, rng=np.random.default_rng(c_in + 10 * c_out))
    assert type(layer.in_channels) is int and layer.in_channels == c_in, "in_channels is stored"
    assert type(layer.out_channels) is int and layer.out_channels == c_out, "out_channels stored"
    assert layer.kernel_size == pair, "kernel_size is stored as a pair"
    for param, shape in ((layer.weight, (c_out, c_in, *pair)), (layer.bias, (c_out,))):
        assert isinstance(param, Tensor), "weight and bias are Tensors"
        assert type(param.data) is np.ndarray, "weight and bias hold numpy arrays"
        assert param.data.dtype == np.float32, "weight and bias are float32"
        assert param.data.shape == shape, "weight is (out, in, kH, kW) and bias (out,)"
        assert param.requires_grad is True, "weight and bias have requires_grad=True"
    params = layer.parameters()
    assert len(params) == 2, "parameters() is [weight, bias]"
    assert params[0] is layer.weight and params[1] is layer.bias, "weight first, then bias"
# hidden: the init draws weight then bias from [-k, k] with k = 1/sqrt(in_channels kH kW)
for c_in, c_out, kernel, seed in ((2, 3, (3, 5), 11), (4, 2, (2, 2), 12), (1, 5, (5, 1), 13)):
    layer = Conv2d(c_in, c_out, kernel, rng=np.random.default_rng(seed))
    draws = np.random.default_rng(seed)
    bound = 1 / np.sqrt(c_in * kernel[0] * kernel[1])
    w_expected = draws.uniform(-bound, bound, size=(c_out, c_in, *kernel))
    b_expected = draws.uniform(-bound, bound, size=(c_out,))
    assert check_close(layer.weight.data, w_expected, rtol=1e-6, atol=1e-7), (
        "the weight is rng.uniform(-k, k, size=(out, in, kH, kW)) from the given rng"
    )
    assert check_close(layer.bias.data, b_expected, rtol=1e-6, atol=1e-7), (
        "the bias is rng.uniform(-k, k, size=(out,)), drawn after the weight"
    )
# hidden: an int seed works like a Generator, and no rng gives fresh weights
a, b = Conv2d(2, 3, 3, rng=5), Conv2d(2, 3, 3, rng=np.random.default_rng(5))
assert check_equal(a.weight.data, b.weight.data), "an int seed works like a Generator"
u, v = Conv2d(2, 3, 3), Conv2d(2, 3, 3)
assert not check_close(u.weight.data, v.weight.data), "without rng every layer is different"
# hidden: stride and padding are stored as pairs
layer = Conv2d(2, 3, 3, stride=(2, 1), padding=2)
assert layer.stride == (2, 1) and layer.padding == (2, 2), "stride and padding become pairs"
assert layer.use_loops is False, "use_loops is False by default"
# hidden: forward matches the reference, bias or not, for both versions
for index, (xs, ws, has_bias, stride, padding) in enumerate(_H_CASES):
    rng = np.random.default_rng(1110 + index)
    layer = Conv2d(ws[1], ws[0], ws[2:], stride, padding, bias=has_bias, rng=rng)
    x64 = rng.standard_normal(xs)
    b64 = layer.bias.data.astype(np.float64) if has_bias else None
    expected = _h_conv(x64, layer.weight.data.astype(np.float64), b64, stride, padding)
    for loops in (False, True):
        layer.use_loops = loops
        out = layer(Tensor(x64))
        assert isinstance(out, Tensor) and out.data.dtype == np.float32, "a float32 Tensor"
        assert out.data.shape == expected.shape, "the output is (N, out_channels, H_out, W_out)"
        assert check_close(out.data, expected, rtol=1e-5, atol=1e-5), "the layer's values"
        is_function = out.grad_fn is not None and out.grad_fn.function is Conv2dFunction
        assert is_function is not loops, "use_loops chooses between conv2d_loops and conv2d"
# hidden: bias=False stores None, lists only the weight and adds no bias
layer = Conv2d(2, 3, 3, bias=False, rng=np.random.default_rng(6))
assert layer.bias is None, "bias=False stores bias = None"
assert len(layer.parameters()) == 1, "bias=False gives parameters() == [weight]"
assert layer.parameters()[0] is layer.weight, "bias=False gives parameters() == [weight]"
# hidden: gradients reach the weight and the bias through the layer
layer = Conv2d(2, 3, (2, 3), stride=(1, 2), padding=1, rng=np.random.default_rng(7))
rng = np.random.default_rng(1120)
x64 = rng.standard_normal((2, 2, 4, 5))
out = layer(Tensor(x64))
upstream = rng.standard_normal(out.shape)
out.backward(upstream)
numeric = numerical_gradients(
    lambda w_, b_: _h_conv(x64, w_, b_, (1, 2), (1, 1)),
    [layer.weight.data, layer.bias.data],
    upstream,
)
assert check_close(layer.weight.grad, numeric[0], rtol=1e-4, atol=1e-5), "weight.grad is right"
assert check_close(layer.bias.grad, numeric[1], rtol=1e-4, atol=1e-5), "bias.grad is right"
# hidden: a wrong channel count raises ValueError naming both numbers
for c_in, shape, seen in ((3, (2, 5, 6, 6), "5 channels"), (1, (1, 2, 4, 4), "2 channels")):
    layer = Conv2d(c_in, 2, 3)
    message = ""
    try:
        layer(Tensor(np.ones(shape)))
    except ValueError as exc:
        message = str(exc)
    assert message, "an input with the wrong number of channels raises ValueError"
    assert f"in_channels={c_in}" in message, "the error names in_channels"
    assert seen in message, "the error names the input's number of channels"
# hidden: an input that is not 4-D raises ValueError
for shape in ((3, 6, 6), (6, 6)):
    err = raised(lambda s=shape: Conv2d(3, 2, 3)(Tensor(np.ones(s))))
    assert isinstance(err, ValueError), "an input that is not (N, C, H, W) raises ValueError"
# hidden: channel counts below 1 are rejected
for c_in, c_out in ((0, 3), (3, 0), (-1, 2)):
    err = raised(lambda a=c_in, b=c_out: Conv2d(a, b, 3))
    assert isinstance(err, ValueError), "in_channels and out_channels below 1 raise ValueError"
assert isinstance(Conv2d(1, 1, 1), Conv2d), "one channel in and out is allowed"
# hidden: kernel sizes and strides below 1 and negative paddings are rejected
for kwargs in ({"kernel_size": 0}, {"kernel_size": (3, 0)}, {"kernel_size": 3, "stride": 0}):
    err = raised(lambda k=kwargs: Conv2d(2, 3, **k))
    assert isinstance(err, ValueError), "kernel sizes and strides below 1 raise ValueError"
err = raised(lambda: Conv2d(2, 3, 3, padding=-1))
assert isinstance(err, ValueError), "a negative padding raises ValueError"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `max_pool`: max pooling (3 points)
#
# A **pooling** layer shrinks each channel on its own, summarising every window by one
# number: its largest value (**max pooling**) or its mean (**average pooling**). It has no
# parameters. After a convolution has marked where a pattern occurs, max pooling keeps
# "it occurs somewhere in this 2x2 area" and drops exactly where, which makes the network
# less sensitive to small shifts, and halves the height and width for the next layer.
#
# `MaxPool2d(kernel_size, stride=None)`: windows of `kernel_size` (an int or a pair),
# moved by `stride`, which **defaults to the kernel size** (windows side by side, the usual
# choice); no padding. The output size is `conv_output_size(H, kH, sH)`: rows or columns
# left over at the end are not used, as in PyTorch.
#
# ```
#   x (1, 1, 4, 4)        MaxPool2d(2): 2x2 windows, stride 2      out (1, 1, 2, 2)
#   [ 1  3 | 2  0 ]
#   [ 4  2 | 1  1 ]       max(1, 3, 4, 2) = 4   max(2, 0, 1, 1) = 2     [ 4  2 ]
#   [-----------  ]                                                     [ 6  5 ]
#   [ 0  6 | 5  5 ]       max(0, 6, 1, 2) = 6   max(5, 5, 3, 4) = 5
#   [ 1  2 | 3  4 ]
# ```
#
# **Backward.** Within a window, only the largest value reached the output, so the whole
# gradient of that output goes to the **position of the maximum**, and the other positions
# get 0. With overlapping windows (stride smaller than the kernel) one pixel can win several
# windows, and then it receives the sum.
#
# **Ties.** When several positions share the maximum (the two 5s above), the derivative is
# not defined, and a rule must choose. Ours, like PyTorch's on the CPU: the gradient goes to
# the **first** maximum in row-major order within the window (top row first, left to
# right). So the upper-left 5 gets the gradient of the bottom-right output. `np.argmax`
# returns the first occurrence, which is exactly this rule when the window is flattened
# row-major.
#
# ```
#   gradient of out = [ 10 20 ]     x.grad = [  0  0   20  0 ]
#                     [ 30 40 ]              [ 10  0    0  0 ]
#                                            [  0 30   40  0 ]      40 to the first 5
#                                            [  0  0    0  0 ]
# ```
#
# **How.** Pooling treats every channel as a separate one-channel image, so view `x` as
# `(N * C, 1, H, W)` and reuse your `im2col`: each row of the result is one window,
# flattened row-major, of `kH * kW` values. The row maximum is the forward result
# (reshaped to `(N, C, H_out, W_out)`); the row argmax is what backward needs. Backward
# puts each output's gradient into a zero matrix of the same shape as the windows, at the
# argmax of its row, and `col2im` sends every entry back to its pixel (adding up where
# windows overlap).
#
# `MaxPool2dFunction.forward(ctx, x, kernel_size, stride)` receives the two pairs as keyword
# arguments; the given first line checks that `x` is 4-D. `MaxPool2d` stores
# `kernel_size` and `stride` as pairs (with `_pair(..., 1)`) and calls
# `MaxPool2dFunction.apply(x, kernel_size=..., stride=...)`.


# %% kind="solution" id="max_pool" export=true
class MaxPool2dFunction(Function):
    """Maximum of every kH x kW window, moved by the stride; the gradient goes to the first
    maximum of each window in row-major order."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int]
    ) -> np.ndarray:
        """x (N, C, H, W) -> (N, C, H_out, W_out) in x's dtype. Saves in ctx what backward
        needs: the position of each window's first maximum, the shapes, kernel and stride."""
        _check_images(x.shape, "MaxPool2d")
        # Task max_pool: one window per row (im2col on (N*C, 1, H, W)); max and argmax per row.
        ### BEGIN SOLUTION
        n, c, h, w = x.shape
        h_out = conv_output_size(h, kernel_size[0], stride[0])
        w_out = conv_output_size(w, kernel_size[1], stride[1])
        windows = im2col(x.reshape(n * c, 1, h, w), kernel_size, stride)  # (N C Ho Wo, kH kW)
        ctx.winners = np.argmax(windows, axis=1)
        ctx.windows_shape, ctx.x_shape = windows.shape, x.shape
        ctx.kernel_size, ctx.stride = kernel_size, stride
        return np.max(windows, axis=1).reshape(n, c, h_out, w_out)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(dx,): each output's gradient added at its window's first maximum, 0 elsewhere."""
        # Task max_pool: place the gradients at the winners, fold them back with col2im.
        ### BEGIN SOLUTION
        n, c, h, w = ctx.x_shape
        grad_windows = np.zeros(ctx.windows_shape, dtype=grad_output.dtype)
        rows = np.arange(len(grad_windows))
        grad_windows[rows, ctx.winners] = grad_output.ravel()
        grad_x = col2im(grad_windows, (n * c, 1, h, w), ctx.kernel_size, ctx.stride)
        return (grad_x.reshape(ctx.x_shape),)
        ### END SOLUTION


class MaxPool2d(Layer):
    """Max pooling over kH x kW windows; stride defaults to the kernel size. No parameters.

    Attributes:
        kernel_size, stride: pairs of ints.
    """

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ):
        """Store kernel_size and stride as pairs (stride None: the kernel size)."""
        super().__init__()
        # Task max_pool: store the two pairs.
        ### BEGIN SOLUTION
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) -> (N, C, H_out, W_out), through MaxPool2dFunction."""
        # Task max_pool: apply the Function.
        ### BEGIN SOLUTION
        return MaxPool2dFunction.apply(x, kernel_size=self.kernel_size, stride=self.stride)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


# %% [markdown]
# ### Test `max_pool`

# %% kind="test" id="test_max_pool" points=3
x64 = np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 6, 5, 5], [1, 2, 3, 4]], dtype=np.float64)
pool = MaxPool2d(2)
assert pool.kernel_size == (2, 2) and pool.stride == (2, 2), (
    f"MaxPool2d(2) should store kernel_size (2, 2) and stride (2, 2) (the default stride is "
    f"the kernel size), got {pool.kernel_size} and {pool.stride}."
)
x = leaf(x64.reshape(1, 1, 4, 4))
out = pool(x)
assert_tensor(out, [[[[4, 2], [6, 5]]]], "MaxPool2d(2) of the 4x4 example")
out.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
expected = [[[[0, 0, 20, 0], [10, 0, 0, 0], [0, 30, 40, 0], [0, 0, 0, 0]]]]
assert_grad(x, expected, "MaxPool2d(2): the gradient goes to each window's maximum")

x = leaf(np.array([[[[1.0, 5.0, 2.0], [0.0, 3.0, 4.0]]]]))
out = MaxPool2d((2, 2), stride=1)(x)
assert_tensor(out, [[[[5, 5]]]], "MaxPool2d(2, stride=1) of a (1, 1, 2, 3) input")
out.backward(np.array([[[[1.0, 2.0]]]]))
assert_grad(
    x,
    [[[[0, 3, 0], [0, 0, 0]]]],
    "MaxPool2d(2, stride=1): the 5 wins both overlapping windows and receives 1 + 2",
)

x = leaf(np.array([[[[7.0, 7.0], [7.0, 7.0]]]]))
MaxPool2d(2)(x).backward(np.array([[[[1.0]]]]))
assert_grad(x, [[[[1, 0], [0, 0]]]], "MaxPool2d(2) of four equal values: the first one wins")


### BEGIN HIDDEN TESTS
# hidden: the maximum of every window, remainders dropped, non-square kernels and strides
def _h_max_pool(x, kernel, stride):
    """Reference: loops over the windows; also the index of the first maximum of each."""
    (kh, kw), (sh, sw) = kernel, stride
    images, channels, height, width = x.shape
    h_out, w_out = (height - kh) // sh + 1, (width - kw) // sw + 1
    out, grad_where = np.zeros((images, channels, h_out, w_out)), []
    for k in range(images):
        for ch in range(channels):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[k, ch, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[k, ch, i, j] = window.max()
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    grad_where.append((k, ch, i, j, i * sh + a, j * sw + b))
    return out, grad_where


def _h_max_grad(x_shape, grad_where, upstream):
    grad = np.zeros(x_shape)
    for k, ch, i, j, r, q in grad_where:
        grad[k, ch, r, q] += upstream[k, ch, i, j]
    return grad


_H_POOLS = [  # (x shape, kernel, stride or None)
    ((2, 3, 4, 6), (2, 2), None),
    ((1, 2, 7, 5), (3, 2), None),
    ((3, 1, 5, 5), (2, 2), (1, 1)),
    ((2, 2, 6, 7), (3, 3), (2, 1)),
    ((1, 1, 5, 8), (2, 3), (3, 2)),
]
for index, (xs, kernel, stride) in enumerate(_H_POOLS):
    x64 = np.random.default_rng(1210 + index).permutation(np.prod(xs)).reshape(xs) / 7.0 - 3.0
    pool = MaxPool2d(kernel, stride)
    assert pool.stride == (kernel if stride is None else stride), "stride defaults to the kernel"
    expected, where = _h_max_pool(x64, kernel, kernel if stride is None else stride)
    x = leaf(x64)
    out = pool(x)
    assert isinstance(out, Tensor), "MaxPool2d returns a Tensor"
    assert type(out.data) is np.ndarray and out.data.dtype == np.float32, "a float32 Tensor"
    assert out.data.shape == expected.shape, "the output is (N, C, H_out, W_out)"
    assert check_close(out.data, expected, atol=1e-6), "each output is its window's maximum"
    # hidden: the gradient goes to the maximum of each window, summed over windows
    assert out.requires_grad is True, "max pooling records the graph"
    upstream = np.random.default_rng(1220 + index).standard_normal(out.shape)
    out.backward(upstream)
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == xs, "x.grad has x's shape"
    assert check_close(x.grad, _h_max_grad(xs, where, upstream), atol=1e-5), "the gradient"
# hidden: the gradient matches central differences (no ties)
rng = np.random.default_rng(1230)
x64 = rng.permutation(60).reshape(1, 3, 4, 5) / 10.0
upstream = rng.standard_normal((1, 3, 3, 2))
x = leaf(x64)
MaxPool2d((2, 3), stride=(1, 2))(x).backward(upstream)
numeric = numerical_gradients(lambda a: _h_max_pool(a, (2, 3), (1, 2))[0], [x64], upstream)[0]
assert check_close(x.grad, numeric, atol=1e-5), "the gradient matches central differences"
# hidden: ties send the gradient to the first maximum in row-major order
x64 = np.array([[[[2.0, 9, 9, 1], [9, 9, 3, 9], [4, 4, 4, 4], [0, 4, 4, 2]]]])
expected_where = _h_max_pool(x64, (2, 2), (2, 2))[1]
for kernel, stride in (((2, 2), (2, 2)), ((2, 2), (1, 1)), ((3, 2), (1, 2))):
    x = leaf(x64)
    out = MaxPool2d(kernel, stride)(x)
    upstream = np.arange(1.0, out.size + 1).reshape(out.shape)
    out.backward(upstream)
    expected = _h_max_grad(x64.shape, _h_max_pool(x64, kernel, stride)[1], upstream)
    assert check_close(x.grad, expected), "ties: the first maximum in row-major order wins"
x = leaf(np.full((2, 2, 4, 4), 1.5))
MaxPool2d(2)(x).backward(np.ones((2, 2, 2, 2)))
corner = np.zeros((4, 4))
corner[::2, ::2] = 1.0
assert check_close(x.grad, np.broadcast_to(corner, (2, 2, 4, 4))), "ties: top-left of each"
# hidden: the Function keeps float64 and returns a one-element tuple
ctx = Context()
x64 = np.random.default_rng(1240).standard_normal((2, 2, 4, 4))
out = MaxPool2dFunction.forward(ctx, x64, kernel_size=(2, 2), stride=(2, 2))
assert out.dtype == np.float64, "forward keeps float64"
grads = MaxPool2dFunction.backward(ctx, np.ones(out.shape))
assert isinstance(grads, tuple) and len(grads) == 1, "backward returns a one-element tuple"
assert grads[0].dtype == np.float64 and grads[0].shape == x64.shape, "float64, x's shape"
ctx = Context()
out = MaxPool2dFunction.forward(ctx, x64.astype(np.float32), kernel_size=(2, 2), stride=(2, 2))
grads = MaxPool2dFunction.backward(ctx, np.ones(out.shape, dtype=np.float32))
assert out.dtype == np.float32 and grads[0].dtype == np.float32, "float32 stays float32"
# hidden: a window of one row or column works; sizes and strides below 1 are rejected
x64 = np.random.default_rng(1250).permutation(24).reshape(1, 2, 3, 4) / 3.0
out = MaxPool2d((1, 2))(Tensor(x64))
assert out.data.shape == (1, 2, 3, 2), "a 1x2 window halves the width only"
assert check_close(out.data, _h_max_pool(x64, (1, 2), (1, 2))[0], atol=1e-6), "1x2 windows"
for args in ((0,), ((2, 0),), (2, 0)):
    err = raised(lambda a=args: MaxPool2d(*a))
    assert isinstance(err, ValueError), "kernel sizes and strides below 1 raise ValueError"
# hidden: a kernel larger than the input raises ValueError; the layer has no parameters
err = raised(lambda: MaxPool2d(3)(Tensor(np.ones((1, 1, 2, 4)))))
assert isinstance(err, ValueError), "a window larger than the image raises ValueError"
assert len(MaxPool2d(2).parameters()) == 0, "max pooling has no parameters"
### END HIDDEN TESTS

# %% [markdown]
# ## Task `avg_pool`: average pooling and `Flatten` (2 points)
#
# **Average pooling** replaces each window by its mean. Every value of a window contributed
# $1 / (k_H k_W)$ of the output, so backward gives every position of the window the
# output's gradient divided by $k_H k_W$, and `col2im` adds the shares of overlapping
# windows. It is max pooling's gentler sibling, and what the original LeNet used.
#
# ```
#   x (1, 1, 2, 4)              AvgPool2d(2)         gradient 8 and 4 back:
#   [ 1  3 | 2  0 ]      ->     [ 2.5  1.0 ]         [ 2  2 | 1  1 ]
#   [ 4  2 | 1  1 ]                                  [ 2  2 | 1  1 ]
# ```
#
# `AvgPool2dFunction` has the same interface as `MaxPool2dFunction`, and `AvgPool2d` the
# same as `MaxPool2d`.
#
# **`Flatten()`** turns feature maps into feature vectors for a `Linear` layer: an input
# of shape `(N, C, H, W)` (or any shape with a first axis) becomes `(N, C * H * W)`, the
# values of each sample in row-major order. Use `reshape` on the Tensor, so that autograd
# sees it; the batch axis is kept as it is.


# %% kind="solution" id="avg_pool" export=true
class AvgPool2dFunction(Function):
    """Mean of every kH x kW window, moved by the stride; the gradient is shared evenly."""

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int]
    ) -> np.ndarray:
        """x (N, C, H, W) -> (N, C, H_out, W_out) in x's dtype."""
        _check_images(x.shape, "AvgPool2d")
        # Task avg_pool: one window per row; the mean of each row.
        ### BEGIN SOLUTION
        n, c, h, w = x.shape
        h_out = conv_output_size(h, kernel_size[0], stride[0])
        w_out = conv_output_size(w, kernel_size[1], stride[1])
        windows = im2col(x.reshape(n * c, 1, h, w), kernel_size, stride)
        ctx.windows_shape, ctx.x_shape = windows.shape, x.shape
        ctx.kernel_size, ctx.stride = kernel_size, stride
        return np.mean(windows, axis=1).reshape(n, c, h_out, w_out)
        ### END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        """(dx,): each output's gradient divided by kH * kW, added to every pixel of its window."""
        # Task avg_pool: share each gradient over its window, fold back with col2im.
        ### BEGIN SOLUTION
        n, c, h, w = ctx.x_shape
        share = grad_output.ravel()[:, np.newaxis] / ctx.windows_shape[1]  # (N C Ho Wo, 1)
        grad_windows = np.broadcast_to(share, ctx.windows_shape)
        grad_x = col2im(grad_windows, (n * c, 1, h, w), ctx.kernel_size, ctx.stride)
        return (grad_x.reshape(ctx.x_shape),)
        ### END SOLUTION


class AvgPool2d(Layer):
    """Average pooling over kH x kW windows; stride defaults to the kernel size.

    Attributes:
        kernel_size, stride: pairs of ints.
    """

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ):
        """Store kernel_size and stride as pairs (stride None: the kernel size)."""
        super().__init__()
        # Task avg_pool: store the two pairs.
        ### BEGIN SOLUTION
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) -> (N, C, H_out, W_out), through AvgPool2dFunction."""
        # Task avg_pool: apply the Function.
        ### BEGIN SOLUTION
        return AvgPool2dFunction.apply(x, kernel_size=self.kernel_size, stride=self.stride)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


class Flatten(Layer):
    """(N, ...) -> (N, product of the other axes): one feature vector per sample."""

    def forward(self, x: Tensor) -> Tensor:
        """A Tensor of shape (N, C * H * W) for x of shape (N, C, H, W), values in row-major
        order, made with Tensor.reshape so that autograd follows it."""
        # Task avg_pool: keep the batch axis, flatten the rest.
        ### BEGIN SOLUTION
        return x.reshape(x.shape[0], -1)
        ### END SOLUTION

    def __repr__(self) -> str:
        return "Flatten()"


# %% [markdown]
# ### Test `avg_pool`

# %% kind="test" id="test_avg_pool" points=2
x = leaf(np.array([[[[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 1.0]]]]))
pool = AvgPool2d(2)
assert pool.kernel_size == (2, 2) and pool.stride == (2, 2), (
    f"AvgPool2d(2) should store kernel_size (2, 2) and stride (2, 2), got {pool.kernel_size} "
    f"and {pool.stride}."
)
out = pool(x)
assert_tensor(out, [[[[2.5, 1.0]]]], "AvgPool2d(2) of the (1, 1, 2, 4) example")
out.backward(np.array([[[[8.0, 4.0]]]]))
assert_grad(x, [[[[2, 2, 1, 1], [2, 2, 1, 1]]]], "AvgPool2d(2): each gradient shared by 4")

x = leaf(np.arange(9.0).reshape(1, 1, 3, 3))
out = AvgPool2d(2, stride=1)(x)
assert_tensor(out, [[[[2, 3], [5, 6]]]], "AvgPool2d(2, stride=1) of a 3x3 input")
out.backward(np.ones((1, 1, 2, 2)))
expected = np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]) / 4
assert_grad(x, expected, "AvgPool2d(2, stride=1): overlapping windows add their shares")

x = leaf(np.arange(24.0).reshape(2, 3, 2, 2))
out = Flatten()(x)
assert_tensor(out, np.arange(24.0).reshape(2, 12), "Flatten() of a (2, 3, 2, 2) input")
out.backward(np.ones((2, 12)))
assert_grad(x, np.ones((2, 3, 2, 2)), "Flatten(): the gradient comes back in the input's shape")


### BEGIN HIDDEN TESTS
# hidden: the mean of every window, remainders dropped, non-square kernels and strides
def _h_avg_pool(x, kernel, stride):
    (kh, kw), (sh, sw) = kernel, stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return windows[:, :, ::sh, ::sw].mean(axis=(4, 5))


_H_POOLS = [  # (x shape, kernel, stride or None)
    ((2, 3, 4, 6), (2, 2), None),
    ((1, 2, 7, 5), (3, 2), None),
    ((3, 1, 5, 5), (2, 2), (1, 1)),
    ((2, 2, 6, 7), (3, 3), (2, 1)),
    ((1, 1, 5, 8), (2, 3), (3, 2)),
]
for index, (xs, kernel, stride) in enumerate(_H_POOLS):
    rng = np.random.default_rng(1310 + index)
    x64 = rng.standard_normal(xs)
    pool = AvgPool2d(kernel, stride)
    assert pool.stride == (kernel if stride is None else stride), "stride defaults to the kernel"
    real_stride = kernel if stride is None else stride
    expected = _h_avg_pool(x64, kernel, real_stride)
    x = leaf(x64)
    out = pool(x)
    assert isinstance(out, Tensor), "AvgPool2d returns a Tensor"
    assert type(out.data) is np.ndarray and out.data.dtype == np.float32, "a float32 Tensor"
    assert out.data.shape == expected.shape, "the output is (N, C, H_out, W_out)"
    assert check_close(out.data, expected, atol=1e-5), "each output is its window's mean"
    # hidden: the gradient is shared evenly over each window, summed where windows overlap
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    numeric = numerical_gradients(
        lambda a, k=kernel, s=real_stride: _h_avg_pool(a, k, s), [x64], upstream
    )[0]
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == xs, "x.grad has x's shape"
    assert check_close(x.grad, numeric, rtol=1e-4, atol=1e-5), "the gradient is shared evenly"
# hidden: the Function keeps float64 and returns a one-element tuple
ctx = Context()
x64 = np.random.default_rng(1320).standard_normal((2, 2, 4, 6))
out = AvgPool2dFunction.forward(ctx, x64, kernel_size=(2, 3), stride=(2, 3))
assert out.dtype == np.float64, "forward keeps float64"
grads = AvgPool2dFunction.backward(ctx, np.ones(out.shape))
assert isinstance(grads, tuple) and len(grads) == 1, "backward returns a one-element tuple"
assert grads[0].dtype == np.float64 and grads[0].shape == x64.shape, "float64, x's shape"
assert check_close(grads[0], np.full(x64.shape, 1 / 6)), "each pixel gets 1 / (kH kW) per window"
ctx = Context()
out = AvgPool2dFunction.forward(ctx, x64.astype(np.float32), kernel_size=(2, 2), stride=(1, 2))
grads = AvgPool2dFunction.backward(ctx, np.ones(out.shape, dtype=np.float32))
assert out.dtype == np.float32 and grads[0].dtype == np.float32, "float32 stays float32"
# hidden: a window of one row or column works; sizes and strides below 1 are rejected
x64 = np.random.default_rng(1340).standard_normal((2, 1, 4, 3))
out = AvgPool2d((2, 1))(Tensor(x64))
assert out.data.shape == (2, 1, 2, 3), "a 2x1 window halves the height only"
assert check_close(out.data, _h_avg_pool(x64, (2, 1), (2, 1)), atol=1e-6), "2x1 windows"
for args in ((0,), ((0, 2),), (2, 0)):
    err = raised(lambda a=args: AvgPool2d(*a))
    assert isinstance(err, ValueError), "kernel sizes and strides below 1 raise ValueError"
# hidden: a kernel larger than the input raises ValueError; the layer has no parameters
err = raised(lambda: AvgPool2d((1, 5))(Tensor(np.ones((1, 1, 2, 4)))))
assert isinstance(err, ValueError), "a window larger than the image raises ValueError"
assert len(AvgPool2d(2).parameters()) == 0, "average pooling has no parameters"
# hidden: Flatten keeps the batch axis and flattens the rest in row-major order
for shape in ((3, 2, 4, 5), (1, 6, 1, 1), (4, 7), (2, 3, 4)):
    x64 = np.random.default_rng(1330).standard_normal(shape)
    x = leaf(x64)
    out = Flatten()(x)
    assert isinstance(out, Tensor) and out.data.dtype == np.float32, "a float32 Tensor"
    assert out.data.shape == (shape[0], int(np.prod(shape[1:]))), "(N, product of the rest)"
    assert check_close(out.data, x64.reshape(shape[0], -1), atol=1e-6), "row-major order"
    upstream = np.random.default_rng(1331).standard_normal(out.shape)
    out.backward(upstream)
    assert check_close(x.grad, upstream.reshape(shape), atol=1e-6), "the gradient is reshaped"
assert len(Flatten().parameters()) == 0, "Flatten has no parameters"
### END HIDDEN TESTS

# %% [markdown]
# ## A small convolutional network
#
# Not graded. Your layers, stacked the way LeCun stacked them: convolution, ReLU, pooling,
# twice, then a classifier. The cell follows one batch of 8x8 images through the network
# and prints every shape, the parameters of each layer, and the gradient that reaches the
# first convolution. The milestone `milestones/04_1998_cnn/cnn_digits.py` trains exactly
# this network on handwritten digits.

# %%
from tinytorch.core import activations, layers, losses  # noqa: E402

lenet = layers.Sequential(
    Conv2d(1, 6, 3, padding=1, rng=0),
    activations.ReLU(),
    MaxPool2d(2),
    Conv2d(6, 16, 3, padding=1, rng=1),
    activations.ReLU(),
    MaxPool2d(2),
    Flatten(),
    layers.Linear(16 * 2 * 2, 10, rng=2),
)
images = Tensor(np.random.default_rng(0).random((4, 1, 8, 8)))
h = images
print(f"{'layer':<76} {'output shape':>14} {'parameters':>11}")
print(f"{'input':<76} {str(h.shape):>14}")
for layer in lenet.layers:
    h = layer(h)
    count = sum(p.size for p in layer.parameters()) if isinstance(layer, Layer) else 0
    print(f"{layer!r:<76} {str(h.shape):>14} {count:>11,}")
loss = losses.CrossEntropyLoss()(h, np.array([0, 1, 2, 3]))
loss.backward()
first = lenet.layers[0]
print(
    f"\nloss {loss.item():.4f}; first conv: weight.grad {first.weight.grad.shape}, "
    f"|grad| = {np.abs(first.weight.grad).mean():.2e}"
)

# %% [markdown]
# The whole network has 1,590 parameters, fewer than a single `Linear(64, 32)` layer
# (2,080), because each convolution reuses its few kernels at every position.
#
# ## Systems analysis: what a convolution costs
#
# Nothing below is graded. These cells measure what you just built; run them and compare
# the numbers with your own predictions before reading the comments. Together they take
# a few seconds.
#
# ### FLOPs and memory as a function of the shape
#
# Every output number is a dot product of length $C_{in} k_H k_W$: that many
# multiplications and as many additions. There are $N C_{out} H_{out} W_{out}$ outputs, so
#
# $$\text{FLOPs} = 2 \, N \, C_{out} \, H_{out} \, W_{out} \, C_{in} \, k_H \, k_W .$$
#
# The parameters do not depend on the image size at all: $C_{out} C_{in} k_H k_W + C_{out}$.
# The im2col matrix is the price of the fast version: every pixel is copied once for every
# window that covers it, so the matrix holds $N H_{out} W_{out} \times C_{in} k_H k_W$
# numbers, about $k_H k_W$ times the input. Predict the last column for a 3x3 kernel before
# you run the cell.


# %%
def conv_costs(n, c_in, c_out, size, k, stride=1, padding=0):
    """FLOPs, parameters and bytes (float32) of one Conv2d on (n, c_in, size, size) input."""
    out = conv_output_size(size, k, stride, padding)
    flops = 2 * n * c_out * out * out * c_in * k * k
    params = c_out * c_in * k * k + c_out
    input_bytes = 4 * n * c_in * size * size
    cols_bytes = 4 * (n * out * out) * (c_in * k * k)
    output_bytes = 4 * n * c_out * out * out
    return out, flops, params, input_bytes, cols_bytes, output_bytes


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.2f}"


shapes = [
    ("LeNet conv1, digits 8x8", 64, 1, 6, 8, 3, 1, 1),
    ("LeNet conv1, MNIST 28x28", 64, 1, 6, 28, 5, 1, 2),
    ("CIFAR 3->16, 32x32", 32, 3, 16, 32, 3, 1, 1),
    ("CIFAR 16->32 stride 2", 32, 16, 32, 32, 3, 2, 1),
    ("VGG 64->64, 56x56", 8, 64, 64, 56, 3, 1, 1),
    ("ResNet 256->256, 14x14", 8, 256, 256, 14, 3, 1, 1),
]
print(
    f"{'layer (batch N)':>26} {'N':>3} {'out':>4} {'params':>9} {'MFLOPs':>9} "
    f"{'input MiB':>10} {'im2col MiB':>11} {'output MiB':>11} {'im2col/input':>13}"
)
for name, n, c_in, c_out, size, k, stride, padding in shapes:
    out, flops, params, in_b, cols_b, out_b = conv_costs(n, c_in, c_out, size, k, stride, padding)
    print(
        f"{name:>26} {n:>3} {out:>4} {params:>9,} {flops / 1e6:>9.1f} {mib(in_b):>10} "
        f"{mib(cols_b):>11} {mib(out_b):>11} {cols_b / in_b:>12.1f}x"
    )

# %% [markdown]
# Parameters and FLOPs tell different stories. The VGG and ResNet layers cost the same
# 1.85 GFLOPs for a batch of 8, although the ResNet layer has 16 times the parameters:
# FLOPs grow with the image area times the channel counts, parameters only with the
# channel counts. The im2col matrix is $k_H k_W$ times the input with stride 1 and
# "same" padding (9x for 3x3, 25x for LeNet's 5x5), and about $k^2 / s^2$ with stride $s$,
# where windows overlap less. That memory is why libraries such as cuDNN avoid building
# the whole matrix and compute the same product tile by tile (Module 16 returns to this).
#
# ### Loops versus im2col, measured
#
# Both versions compute the same numbers. `conv2d_loops` records about five graph nodes
# per kernel tap, and the backward of every slice scatters into an array the size of the
# padded input; `conv2d` does one im2col, one matrix product, and in backward two matrix
# products and one col2im. The cell times forward alone and forward plus backward on a
# small batch, and the achieved GFLOP/s of the forward pass (FLOPs by the formula above).
# Predict: how does the loop version's time grow from the 3x3 to the 5x5 kernel?
#
# **A warning about threads.** NumPy's matrix product may split its work over several
# threads. On a machine whose cores are busy with other programs those threads wait for
# each other, and a product that takes 1 ms can take 100 ms. If an im2col row looks absurd
# (slower than the loops), restart the kernel with the environment variable
# `OPENBLAS_NUM_THREADS=1`, as the course's benchmarks do.

# %%
import time  # noqa: E402  (the systems analysis is the only part that needs it)


def best_seconds(fn, repeats: int = 5) -> float:
    """The fastest of `repeats` runs of fn() after a warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def forward_only(conv, x):
    conv(x)


def forward_backward(conv, x):
    conv.weight.grad = conv.bias.grad = x.grad = None
    out = conv(x)
    out.backward(np.ones(out.shape, dtype=np.float32))


rng = np.random.default_rng(0)
print(
    f"{'input, conv':>30} {'version':>8} {'fwd ms':>8} {'fwd+bwd ms':>11} "
    f"{'GFLOP/s fwd':>12} {'speedup fwd':>12} {'speedup f+b':>12}"
)
for n, c_in, c_out, size, k in [(8, 3, 8, 16, 3), (16, 8, 16, 16, 3), (8, 16, 16, 16, 5)]:
    x = Tensor(rng.standard_normal((n, c_in, size, size)), requires_grad=True)
    flops = conv_costs(n, c_in, c_out, size, k, 1, k // 2)[1]
    times = {}
    for loops in (True, False):
        conv = Conv2d(c_in, c_out, k, padding=k // 2, rng=0, use_loops=loops)
        times[loops] = (
            best_seconds(lambda c=conv, a=x: forward_only(c, a)),
            best_seconds(lambda c=conv, a=x: forward_backward(c, a)),
        )
    label = f"({n}, {c_in}, {size}, {size}), {c_in}->{c_out} {k}x{k}"
    for loops, name in ((True, "loops"), (False, "im2col")):
        fwd, both = times[loops]
        speedups = (
            f"{times[True][0] / fwd:>11.1f}x {times[True][1] / both:>11.1f}x" if not loops else ""
        )
        print(
            f"{label if loops else '':>30} {name:>8} {fwd * 1e3:>8.2f} {both * 1e3:>11.2f} "
            f"{flops / fwd / 1e9:>12.2f} {speedups}"
        )

# %% [markdown]
# With one BLAS thread on the course's 2-core test machine, im2col's forward pass was about
# 20 to 35 times faster than the loops', and forward plus backward 10 to 60 times. The loop
# version pays for every kernel tap: the last two rows do the same work per tap (each tap
# multiplies 524,288 pairs of numbers), and their 25 taps took about 2.5 times as long as
# 9. im2col hands one large product to BLAS, which keeps the processor's vector units
# busy: compare the GFLOP/s. Backward costs the loop version 1.4 to 4 times its forward
# pass, because every slice scatters its gradient into a zero array as large as the padded
# input (`np.add.at`); im2col's backward is two products and one col2im.
# `python -m coursekit.bench_conv` compares both versions with PyTorch.
#
# ## Summary
#
# - Images are NCHW tensors. A convolution's output is
#   $\lfloor (H + 2p - k)/s \rfloor + 1$ long on each axis; every output number is a
#   bias plus a dot product of a $C_{in} k_H k_W$ patch with one kernel.
# - Built from Tensor operations (slices, reshapes, products, sums), the convolution is
#   differentiable for free, thanks to Module 05; looping over the $k_H k_W$ kernel taps
#   rather than the output positions keeps the number of operations small.
# - im2col unfolds the patches into a matrix, and the convolution becomes one matrix
#   product; its backward is two more matrix products and col2im, the adjoint of im2col,
#   which adds gradients back where patches overlap.
# - Max pooling sends each gradient to the first maximum of its window; average pooling
#   shares it evenly; `Flatten` hands feature maps to a `Linear` classifier.
# - A convolution costs $2 N C_{out} H_{out} W_{out} C_{in} k_H k_W$ FLOPs with few
#   parameters; im2col buys speed with memory, about $k_H k_W$ times the input.
#
# **Reflection.**
#
# 1. A 3x3 convolution from 64 to 64 channels with padding 1 keeps a 56x56 image's size.
#    How many parameters and FLOPs (batch 1) does it have, and how many would a `Linear`
#    layer from the whole input to the whole output need?
# 2. Why does `col2im` add (`+=`) where `im2col` copies? What would go wrong in the
#    gradient of `x` if it assigned instead, and for which strides would nobody notice?
# 3. Max pooling with ties sends the whole gradient to one position. Another rule would
#    split it evenly among the tied positions. Why do both rules give valid subgradients,
#    and why does it hardly matter in practice with float32 activations?
# 4. Two 3x3 convolutions in a row see a 5x5 patch of the input, like one 5x5 convolution.
#    Compare their parameter counts for C channels in and out.
