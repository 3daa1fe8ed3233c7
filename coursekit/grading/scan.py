"""Reading a student's code for what deserves a human look, without running it.

Used by intake (`coursekit autograde`) and by the `FlagForReview` step inside nbgrader's own
autograde (coursekit.plugins.preprocessors), so both grading paths flag the same things:

- changes to shared modules (`np.allclose = ...`, `builtins.print = ...`), to the given names
  of the notebook (`_grading`, the checks), and `global` statements that rebind them;
- reaching into the grader: frame inspection, the garbage collector, IPython's machinery
  (`get_ipython`, `sys.excepthook`, display hooks), `ctypes`, sockets, subprocesses;
- comparison methods that always return the same constant (`__eq__` returning True);
- imports of the graded module's reference or of a later module (`from
  tinytorch.core.autograd import ...` in Module 05): grading cannot import them, and a
  student who tries is either lost or testing the grader.

Flagging does not change a score, with one exception: code that tampers with the grader
itself (rebinds the checks or `_grading`, reaches into functions' insides, walks frames or
the garbage collector, replaces `sys` hooks or IPython's error reporting) makes the score
untrustworthy, since the verdicts run in the same process. `is_tampering` says which
findings are of that kind; the `FlagForReview` step scores such a notebook 0 until a human
has looked (the TA sets the grade in the formgrader). A patched NumPy is not tampering of
that kind: the checks are immune to it, and the score stands.
"""

from __future__ import annotations

import ast
import re

SUSPICIOUS_CALLS = {
    "setattr": "changes a shared module or the checks",
    "delattr": "changes a shared module or the checks",
    "_getframe": "inspects the caller's frame (can read test values)",
    "currentframe": "inspects the caller's frame (can read test values)",
    "get_referrers": "walks the garbage collector",
    "get_objects": "walks the garbage collector",
    "_exit": "ends the kernel",
    "get_ipython": "reaches into the notebook's machinery",
    "set_custom_exc": "changes how errors are reported",
    "__import__": "imports by name",
    "import_module": "imports by name",
    "exec": "runs code from a string",
    "eval": "runs code from a string",
    "globals": "reads or changes the notebook's global names",
}
# Builtins that are suspicious only when called bare: `model.eval()` is PyTorch's habit.
BARE_ONLY = {"exec", "eval", "globals", "__import__", "setattr", "delattr"}
SUSPICIOUS_MODULES = {"builtins", "ctypes", "gc", "inspect", "socket", "subprocess", "importlib"}
ALWAYS_SUSPECT_IF_CONSTANT = {"__eq__", "__ne__", "__bool__", "__lt__", "__gt__", "__array__"}
PROTECTED_NAMES = {"np", "numpy", "builtins", "__builtins__", "sys", "tinytorch", "math", "os"}
# Names the shared checks define (masters/shared/checks.py): rebinding them is tampering.
GRADING_NAMES = re.compile(
    r"^(_grading|_Grading|_MISSING|_function_of|check_close|check_equal|raised|numerical_gradients|"
    r"assert_array|assert_tensor|assert_grad|as_float64|isinstance|type|len|abs|all|any)$"
)
SYS_HOOKS = {"excepthook", "displayhook", "settrace", "setprofile", "modules", "meta_path"}
# A function's insides: changing them changes what a captured reference does.
FUNCTION_INSIDES = {"__closure__", "__code__", "__globals__", "__defaults__", "__kwdefaults__"}


TAMPERING = (
    "replaces the checks'",
    "rebinds the checks'",
    "uses the grader's",
    "reaches into a function",
    "uses sys.",
    "inspects the caller's frame",
    "walks the garbage collector",
    "reaches into the notebook's machinery",
    "changes how errors are reported",
)


def is_tampering(finding: str) -> bool:
    """A finding that means the in-process verdicts cannot be trusted (see the docstring)."""
    return any(words in finding for words in TAMPERING)


def _line(finding: str) -> int:
    return int(finding.split(":")[0].removeprefix("line "))


def _changed_root(target: ast.AST) -> ast.Name | None:
    """The name at the root of an attribute or item assignment target (`np` in np.a.b = x)."""
    root = target
    while isinstance(root, ast.Attribute | ast.Subscript):
        root = root.value
    return root if root is not target and isinstance(root, ast.Name) else None


def _targets_shared(call: ast.Call) -> bool:
    """setattr/delattr on a shared module or the checks (`setattr(np, "allclose", f)`)."""
    if not call.args:
        return False
    root = call.args[0]
    while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
        root = root.func if isinstance(root, ast.Call) else root.value
    if not isinstance(root, ast.Name):
        return True  # something computed: worth a look
    return root.id in PROTECTED_NAMES or bool(GRADING_NAMES.match(root.id))


def suspicious(source: str) -> list[str]:
    """What in one cell of a student's code deserves a human look, line by line."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in ALWAYS_SUSPECT_IF_CONSTANT:
            body = [n for n in node.body if not isinstance(n, ast.Expr)]  # skip docstrings
            if len(body) == 1 and isinstance(body[0], ast.Return):
                if isinstance(body[0].value, ast.Constant):
                    found.append(
                        f"line {node.lineno}: {node.name} always returns {body[0].value.value!r}"
                    )
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Delete | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                root = _changed_root(target)
                if root is not None and root.id in PROTECTED_NAMES:
                    found.append(f"line {node.lineno}: changes {ast.unparse(target)}")
                elif isinstance(target, ast.Name) and GRADING_NAMES.match(target.id):
                    found.append(f"line {node.lineno}: replaces the checks' {target.id}")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            for name in node.names:
                if GRADING_NAMES.match(name):
                    found.append(f"line {node.lineno}: rebinds the checks' {name} (global)")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            bare = isinstance(node.func, ast.Name)
            if name in ("setattr", "delattr") and not _targets_shared(node):
                continue  # setattr(self, name, value): ordinary object code
            if name in SUSPICIOUS_CALLS and (bare or name not in BARE_ONLY):
                found.append(f"line {node.lineno}: {name}() {SUSPICIOUS_CALLS[name]}")
        elif isinstance(node, ast.Attribute) and node.attr in SYS_HOOKS:
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append(f"line {node.lineno}: uses sys.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in FUNCTION_INSIDES:
            found.append(f"line {node.lineno}: reaches into a function ({node.attr})")
        elif isinstance(node, ast.Name) and GRADING_NAMES.match(node.id) and node.id[0] == "_":
            found.append(f"line {node.lineno}: uses the grader's {node.id}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            for name in names:
                if name.split(".")[0] in SUSPICIOUS_MODULES:
                    found.append(f"line {node.lineno}: imports {name}")
    return sorted(set(found), key=_line)


def forbidden_imports(source: str, packages: frozenset[str]) -> list[str]:
    """Imports (or reads by name) of `packages`: the graded module's reference and later ones."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []

    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call):  # open("tinytorch/core/x.py"), import_module("...")
            names = [
                a.value.replace("/", ".").removesuffix(".py")
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
        hits = sorted({p for p in packages for n in names if n == p or n.startswith(p + ".")})
        for package in hits:
            found.append(
                f"line {node.lineno}: imports {package}, the reference of a module not yet "
                "graded (grading cannot import it; only the student's own code counts)"
            )
    return sorted(set(found), key=_line)


def review(source: str, packages: frozenset[str] = frozenset()) -> list[str]:
    """Everything in one cell a human should look at."""
    return sorted(set(suspicious(source) + forbidden_imports(source, packages)), key=_line)
