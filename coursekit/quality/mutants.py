"""Mutants of a module's solution: small, plausible bugs the hidden tests must catch.

Every mutation is applied to one AST node inside a `### BEGIN/END SOLUTION` region of a
solution cell (the code a student writes), and belongs to that region's task. Two families:

- operator-level: swapped arithmetic and comparison operators, dropped terms, negation
  removed, off-by-one integer constants (axes, sizes), flipped booleans, swapped dtypes and
  reductions (sum/mean, max/min), a dropped keyword argument, a deleted input check;
- the bugs students make: a dropped helper call (`unbroadcast(g, shape)` -> `g`), `.copy()`
  forgotten, `np.add.at(a, i, v)` written as `a[i] += v`, `=` for `+=`, same-kind variables
  swapped (`sh`/`sw`, `a`/`b`), operands of a non-commutative operation or the first two
  arguments of a call in the other order, and a statement deleted.

Error-message text (f-strings and the arguments of `raise`) is never mutated: a changed
message is an equivalent mutant.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from tito import cells

from ..authoring import markers
from ..authoring.references import region_tasks

BINOP_SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.MatMult: ast.Mult,
    ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
}
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.MatMult, ast.Pow, ast.FloorDiv, ast.Mod)
COMPARE_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
NAME_SWAPS = {
    "sum": "mean",
    "mean": "sum",
    "max": "min",
    "min": "max",
    "argmax": "argmin",
    "argmin": "argmax",
    "maximum": "minimum",
    "minimum": "maximum",
    "float32": "float64",
    "float64": "float32",
    "int64": "int32",
    "exp": "expm1",
    "log": "log1p",
}
BUILTINS = set(dir(builtins))
# Calls whose first two arguments commute: swapping them changes nothing.
COMMUTATIVE = {"maximum", "minimum", "add", "multiply", "hypot", "logical_and", "logical_or"}
COMMUTATIVE |= {"equal", "not_equal", "isclose", "allclose", "array_equal", "max", "min"}
# Variables that name the machinery, not data: swapping them is not a student's slip.
NOT_DATA = {"self", "cls", "ctx"}

# Kinds, for the per-kind kill rates the gates print.
OPERATOR, CONSTANT, CONDITION, DROPPED_TERM = "operator", "constant", "condition", "dropped term"
NAME, KEYWORD, CHECK = "name swap", "dropped keyword", "deleted check"
HELPER, COPY, SCATTER = "dropped helper call", "dropped .copy()", "np.add.at as +="
AUGMENTED, VARIABLES, OPERANDS = "= for +=", "swapped variables", "operand order"
ARGUMENTS, STATEMENT = "argument order", "deleted statement"
STUDENT_KINDS = (HELPER, COPY, SCATTER, AUGMENTED, VARIABLES, OPERANDS, ARGUMENTS, STATEMENT)


@dataclass(frozen=True)
class Mutant:
    id: str  # "<cell id>:<line>:<what>", stable across runs while the master is unchanged
    cell_id: str
    line: int
    description: str
    source: str  # the whole mutated solution cell, markers removed
    task: str = ""  # the task whose region the mutation is in
    kind: str = ""


Transform = Callable[[ast.AST], ast.AST | None]


def _protected_lines(tree: ast.AST) -> set[int]:
    """Lines of error-message text: f-strings and raise statements."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr | ast.Raise):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _swap_groups(tree: ast.AST) -> dict[str, set[str]]:
    """For each variable, the variables of the same kind: bound in the same tuple
    (`sh, sw = stride`) or parameters of the same function."""
    partners: dict[str, set[str]] = {}

    def group(names: list[str]) -> None:
        names = [n for n in names if n not in NOT_DATA and n != "_"]
        for n in names:
            partners.setdefault(n, set()).update(m for m in names if m != n)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.For | ast.comprehension):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Tuple):
                    group([e.id for e in target.elts if isinstance(e, ast.Name)])
        elif isinstance(node, ast.FunctionDef):
            group([a.arg for a in node.args.posonlyargs + node.args.args])
    return partners


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _is_add_at(node: ast.AST) -> bool:
    """`np.add.at(a, index, values)` as a statement."""
    call = node.value if isinstance(node, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and len(call.args) == 3
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "at"
        and isinstance(call.func.value, ast.Attribute)
        and call.func.value.attr == "add"
    )


def _mutations(
    node: ast.AST, partners: dict[str, set[str]]
) -> Iterator[tuple[str, str, Transform]]:
    """(kind, description, transform) for one node; a transform returns the replacement."""
    if isinstance(node, ast.BinOp):
        swap = BINOP_SWAPS.get(type(node.op))
        if swap:
            name = f"{type(node.op).__name__}->{swap.__name__}"
            yield OPERATOR, name, lambda n, s=swap: ast.BinOp(n.left, s(), n.right)
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            yield DROPPED_TERM, "drop right term", lambda n: n.left
            yield DROPPED_TERM, "drop left term", lambda n: n.right
        if isinstance(node.op, NON_COMMUTATIVE):
            yield OPERANDS, "swap operands", lambda n: ast.BinOp(n.right, n.op, n.left)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        yield OPERATOR, f"drop {type(node.op).__name__}", lambda n: n.operand
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap = COMPARE_SWAPS.get(type(node.ops[0]))
        if swap:
            name = f"{type(node.ops[0]).__name__}->{swap.__name__}"
            yield CONDITION, name, lambda n, s=swap: ast.Compare(n.left, [s()], n.comparators)
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield (
            CONDITION,
            f"{type(node.op).__name__}->{other.__name__}",
            lambda n, o=other: ast.BoolOp(o(), n.values),
        )
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            yield CONSTANT, f"{node.value}->{not node.value}", lambda n: ast.Constant(not n.value)
        elif isinstance(node.value, int):
            yield CONSTANT, f"{node.value}->{node.value + 1}", lambda n: ast.Constant(n.value + 1)
            if node.value != 0:
                yield (
                    CONSTANT,
                    f"{node.value}->{node.value - 1}",
                    lambda n: ast.Constant(n.value - 1),
                )
        elif isinstance(node.value, str) and node.value in NAME_SWAPS:
            new = NAME_SWAPS[node.value]
            yield NAME, f"'{node.value}'->'{new}'", lambda n, v=new: ast.Constant(v)
    elif isinstance(node, ast.Attribute) and node.attr in NAME_SWAPS:
        new = NAME_SWAPS[node.attr]
        yield NAME, f".{node.attr}->.{new}", lambda n, v=new: ast.Attribute(n.value, v, n.ctx)
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        for other in sorted(partners.get(node.id, ())):
            yield (
                VARIABLES,
                f"{node.id}->{other} at col {node.col_offset}",
                lambda n, o=other: ast.Name(o, ast.Load()),
            )
    elif isinstance(node, ast.Call):
        yield from _call_mutations(node)
    elif isinstance(node, ast.If) and any(isinstance(s, ast.Raise) for s in node.body):
        if not node.orelse:
            yield CHECK, "drop input check", lambda n: ast.Pass()
    elif isinstance(node, ast.AugAssign):
        yield AUGMENTED, "= for +=", lambda n: ast.Assign([n.target], n.value, lineno=n.lineno)
    if _is_add_at(node):

        def as_fancy_add(n):
            a, index, values = n.value.args
            target = ast.Subscript(a, index, ast.Store())
            return ast.AugAssign(target, ast.Add(), values)

        yield SCATTER, "np.add.at as +=", as_fancy_add
    if isinstance(node, ast.Expr | ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Return):
        if not _is_docstring(node):
            yield STATEMENT, f"delete {type(node).__name__.lower()}", lambda n: ast.Pass()


def _call_mutations(node: ast.Call) -> Iterator[tuple[str, str, Transform]]:
    for i, kw in enumerate(node.keywords):
        if kw.arg is not None:
            yield (
                KEYWORD,
                f"drop {kw.arg}=",
                lambda n, i=i: ast.Call(n.func, n.args, n.keywords[:i] + n.keywords[i + 1 :]),
            )
    func = node.func
    if isinstance(func, ast.Name) and func.id not in BUILTINS and node.args:
        yield HELPER, f"drop call {func.id}()", lambda n: n.args[0]
    if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args:
        yield COPY, "drop .copy()", lambda n: n.func.value
    plain = [a for a in node.args if not isinstance(a, ast.Starred)]
    name = getattr(func, "attr", getattr(func, "id", ""))
    different = len(plain) >= 2 and ast.dump(node.args[0]) != ast.dump(node.args[1])
    if len(plain) == len(node.args) and different and name not in COMMUTATIVE:
        yield (
            ARGUMENTS,
            "swap first two arguments",
            lambda n: ast.Call(n.func, [n.args[1], n.args[0], *n.args[2:]], n.keywords),
        )


class _Replace(ast.NodeTransformer):
    def __init__(self, target_index: int, transform):
        self.target_index, self.transform, self.index = target_index, transform, -1

    def visit(self, node):
        self.index += 1
        if self.index == self.target_index:
            return self.transform(node)
        return super().visit(node)


def _numbered(tree: ast.AST) -> list[ast.AST]:
    """Nodes in the order _Replace visits them (pre-order, fields in order)."""
    found = []

    def walk(node):
        found.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return found


def _tasks_by_line(cell_id: str, source: str) -> dict[int, str]:
    """Task of every line inside a solution region, as 1-based lines of the marker-free code."""
    regions = region_tasks(cell_id, source)
    markers_at = {i for first, last, _ in regions for i in (first, last)}
    found, cleaned = {}, 0
    for i in range(len(source.splitlines())):
        if i in markers_at:
            continue
        cleaned += 1
        for first, last, task in regions:
            if first < i < last:
                found[cleaned] = task
    return found


def cell_mutants(cell_id: str, source: str) -> list[Mutant]:
    """All mutants of one solution cell."""
    tasks = _tasks_by_line(cell_id, source)
    code = markers.drop_solution_markers(source)
    tree = ast.parse(code)
    protected = _protected_lines(tree)
    partners = _swap_groups(tree)
    found = []
    for index, node in enumerate(_numbered(tree)):
        line = getattr(node, "lineno", None)
        if line is None or line not in tasks or line in protected:
            continue
        for kind, what, transform in _mutations(node, partners):
            mutated = _Replace(index, transform).visit(copy.deepcopy(tree))
            ast.fix_missing_locations(mutated)
            try:
                new_source = ast.unparse(mutated)
                compile(new_source, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            found.append(Mutant("", cell_id, line, what, new_source, tasks[line], kind))
    # Identical sources (two mutations that end up equal) are counted once.
    unique: dict[str, Mutant] = {}
    for m in found:
        unique.setdefault(m.source, m)
    return _with_ids(list(unique.values()))


def _with_ids(found: list[Mutant]) -> list[Mutant]:
    """Ids "<cell>:<line>:<what>", with "#2", "#3"... when a line has the same mutation twice
    (two subtractions on one line): every mutant is graded under an id of its own."""
    seen: dict[str, int] = {}
    named = []
    for m in found:
        base = f"{m.cell_id}:{m.line}:{m.description}"
        seen[base] = seen.get(base, 0) + 1
        mutant_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        named.append(Mutant(mutant_id, m.cell_id, m.line, m.description, m.source, m.task, m.kind))
    return named


def all_mutants(source_nb: NotebookNode) -> list[Mutant]:
    """Mutants of every solution cell of a source notebook, in notebook order."""
    found = []
    for cell in source_nb.cells:
        if cells.is_solution(cell):
            found.extend(cell_mutants(cells.grade_id(cell), cell.source))
    return found


def submission(release_nb: NotebookNode, solutions: dict[str, str]) -> NotebookNode:
    """A student's notebook: the release with the given solution cells filled in.

    `solutions` maps a solution cell's grade_id to the code the "student" wrote.
    """
    nb = nbformat.from_dict(copy.deepcopy(release_nb))
    for cell in nb.cells:
        grade_id = cells.grade_id(cell)
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return nb


def solution_sources(source_nb: NotebookNode) -> dict[str, str]:
    """The instructor's solution code of every solution cell, markers removed."""
    return {
        cells.grade_id(c): markers.drop_solution_markers(c.source)
        for c in source_nb.cells
        if cells.is_solution(c)
    }


def mutant_submission(
    release_nb: NotebookNode, source_nb: NotebookNode, mutant: Mutant
) -> NotebookNode:
    """A student who solved every task correctly except for this one mutation."""
    return submission(release_nb, {**solution_sources(source_nb), mutant.cell_id: mutant.source})
