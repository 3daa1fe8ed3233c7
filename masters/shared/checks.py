# Test helpers shared by every module's tests. `make release` places this file, unchanged, at
# the top of each notebook's read-only `checks` cell (see docs/authoring.md); the master's own
# helpers for that module follow it in the same cell.
#
# The checks reach their verdict only through things your code cannot change: NumPy array
# arithmetic (methods of numpy.ndarray cannot be replaced) and functions captured here, before
# any of your code runs. Before each test cell runs while it is graded, `_grading` also puts
# back anything replaced in NumPy, `builtins` or this cell (so `np.allclose = ...` in your code
# changes nothing but your own results), and, for the task a test cell is about, runs the
# other tasks' functions from the reference solution, so that one bug costs only the points of
# the behaviour it breaks. You never need to call `_grading` yourself.
import builtins as _builtins
import sys as _sys

import numpy as _np

# C-level functions and types, captured before any student code runs.
_ndindex, _errstate = _np.ndindex, _np.errstate
_array, _zeros, _float64, _float32, _ndarray = (
    _np.array,
    _np.zeros,
    _np.float64,
    _np.float32,
    _np.ndarray,
)
isinstance, type, len, abs, all, any = (  # noqa: A001 - captured: see above
    _builtins.isinstance,
    _builtins.type,
    _builtins.len,
    _builtins.abs,
    _builtins.all,
    _builtins.any,
)


def as_float64(values) -> _np.ndarray:
    """`values` (a list, a number, an array) as a float64 array."""
    return _array(values, dtype=_float64)


def check_close(got, expected, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """True when `got` has the shape of `expected` and |got - expected| <= atol + rtol *
    |expected| everywhere (np.allclose's rule, without broadcasting; equal infinities match,
    NaN never does). Computed with array arithmetic only."""
    a, b = as_float64(got), as_float64(expected)
    if a.shape != b.shape:
        return False
    with _errstate(invalid="ignore", over="ignore"):
        equal = a == b  # equal infinities; NaN is never equal
        near = (a - b).__abs__() <= atol + rtol * b.__abs__()
    return bool((equal | near).all())


def check_equal(got, expected) -> bool:
    """True when `got` and `expected` have the same shape and equal values everywhere."""
    a, b = _array(got), _array(expected)
    return a.shape == b.shape and bool((a == b).all())


def raised(fn) -> Exception | None:
    """Call fn() and return the exception it raised, or None if it returned normally."""
    try:
        fn()
    except Exception as exc:
        return exc
    return None


def numerical_gradients(f, arrays, upstream, eps: float = 1e-6) -> list[_np.ndarray]:
    """Central differences in float64 of L = sum(upstream * f(*arrays)), for every array."""
    arrays = [as_float64(a).copy() for a in arrays]
    upstream = as_float64(upstream)
    grads = []
    for a in arrays:
        g = _zeros(a.shape)
        for index in _ndindex(a.shape):
            original = a[index]
            a[index] = original + eps
            plus = (upstream * as_float64(f(*arrays))).sum()
            a[index] = original - eps
            minus = (upstream * as_float64(f(*arrays))).sum()
            a[index] = original
            g[index] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def assert_array(got, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """`got` is a NumPy array with the shape and values of `expected` (compared in float64).

    A module may set SHAPE_HINT in its checks cell: a sentence added to shape mismatches.
    """
    assert isinstance(got, _ndarray), f"{what}: expected a NumPy array, got {type(got).__name__}."
    expected = as_float64(expected)
    assert got.shape == expected.shape, (
        f"{what}: expected shape {expected.shape}, got {got.shape}. "
        + globals().get("SHAPE_HINT", "")
    ).rstrip()
    assert check_close(got, expected, rtol, atol), (
        f"{what}: wrong values (largest difference "
        f"{(as_float64(got) - expected).__abs__().max() if got.size else 0:.3g}).\n"
        f"expected:\n{expected}\ngot:\n{got}"
    )


def assert_tensor(out, expected, what: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """`out` is a Tensor whose .data is a float32 array with the shape and values of
    `expected` (compared in float64 with rtol and atol)."""
    tensor = globals()["Tensor"]
    assert isinstance(out, tensor), (
        f"{what}: expected a Tensor, got {type(out).__name__}. Wrap a NumPy result in "
        "Tensor(...), or build the result from Tensor operations."
    )
    data = getattr(out, "data", None)
    assert type(data) is _ndarray and data.dtype == _float32, (
        f"{what}: .data should be a float32 numpy.ndarray, got {type(data).__name__} of dtype "
        f"{getattr(data, 'dtype', None)}."
    )
    assert_array(data, expected, what, rtol=rtol, atol=atol)


def assert_grad(t, expected, what: str, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """t.grad (after backward) is an array of t's shape close to `expected` (float64)."""
    assert isinstance(getattr(t, "grad", None), _ndarray), (
        f"{what}: .grad should be an array after backward, got "
        f"{type(getattr(t, 'grad', None)).__name__}. Was the result built from Tensor "
        "operations (or Function.apply), so that autograd saw it?"
    )
    assert_array(t.grad, expected, what, rtol=rtol, atol=atol)


class _Grading:
    """Keeps grading honest: see the comment at the top of this cell."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.modules = {m.__name__: m for m in (_np, _np.linalg, _np.random, _builtins)}
        for name in ("numpy.testing", "math", "random"):
            if name in _sys.modules:
                self.modules[name] = _sys.modules[name]
        self.originals = {name: dict(vars(m)) for name, m in self.modules.items()}
        self.helpers: dict = {}
        self.swapped: list = []  # (how, target, name, old) to undo, newest last

    def seal(self) -> None:
        """Remember the names defined so far (given code, helpers) as they are now."""
        self.helpers.update({k: v for k, v in self.namespace.items() if not k.startswith("__")})

    def protect(self) -> None:
        """Undo changes to NumPy, builtins and the given names (before a test cell)."""
        for name, module in self.modules.items():
            _sys.modules[name] = module
            current = vars(module)
            for key, value in self.originals[name].items():
                if key not in current or current[key] is not value:
                    setattr(module, key, value)
        for key, value in self.helpers.items():
            if self.namespace.get(key) is not value:
                self.namespace[key] = value

    def begin_test(self, given: dict | None = None) -> None:
        """Before a test cell: protect, put the student's code back, add `given` names."""
        self.protect()
        self.restore_student()
        self.namespace.update(given or {})

    def restore_student(self) -> None:
        while self.swapped:
            how, target, name, old = self.swapped.pop()
            if how == "code":
                target.__code__, target.__defaults__, target.__kwdefaults__ = old
            elif isinstance(target, dict):
                target.pop(name, None) if old is _MISSING else target.__setitem__(name, old)
            elif old is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, old)

    def use_reference(self, owner: str, reference: type, names: list[str]) -> None:
        """Run `names` (functions of `owner`, a class of the notebook, or its top level when
        owner is "") from `reference`, a class holding the reference solution's versions."""
        target = self.namespace if not owner else self.namespace.get(owner)
        if target is None:
            return  # the class is missing: the test of that task fails on its own
        for name in names:
            new = reference.__dict__[name]
            own = target if isinstance(target, dict) else target.__dict__
            old = own.get(name, _MISSING)
            old_fn, new_fn = _function_of(old), _function_of(new)
            if old_fn is not None and new_fn is not None and (
                old_fn.__code__.co_freevars == new_fn.__code__.co_freevars
            ):
                saved = (old_fn.__code__, old_fn.__defaults__, old_fn.__kwdefaults__)
                self.swapped.append(("code", old_fn, name, saved))
                old_fn.__code__ = new_fn.__code__
                old_fn.__defaults__ = new_fn.__defaults__
                old_fn.__kwdefaults__ = new_fn.__kwdefaults__
            else:
                self.swapped.append(("bind", target, name, old))
                if isinstance(target, dict):
                    target[name] = new
                else:
                    setattr(target, name, new)


_MISSING = object()


def _function_of(obj):
    """The plain function inside a function, staticmethod, classmethod or property."""
    obj = getattr(obj, "__func__", None) or getattr(obj, "fget", None) or obj
    return obj if type(obj).__name__ == "function" else None


_grading = _Grading(globals())
