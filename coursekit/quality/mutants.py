"""Mutants of a module's solution: small, plausible bugs the hidden tests must catch.

Every mutation is applied to one AST node inside a `### BEGIN/END SOLUTION` region of a
solution cell (the code a student writes). Mutations: swapped arithmetic and comparison
operators, dropped terms, negation removed, off-by-one integer constants (axes, sizes),
flipped booleans, wrong dtype, swapped reductions (sum/mean, max/min), a dropped keyword
argument, and a deleted input check (`if ...: raise`). Error-message text (f-strings and the
arguments of `raise`) is never mutated: a changed message is an equivalent mutant.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from ..authoring import markers

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


@dataclass(frozen=True)
class Mutant:
    id: str  # "<cell id>:<line>:<what>", stable across runs
    cell_id: str
    line: int
    description: str
    source: str  # the whole mutated solution cell, markers removed


def _protected_lines(tree: ast.AST) -> set[int]:
    """Lines of error-message text: f-strings and raise statements."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr | ast.Raise):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _mutations(node: ast.AST) -> Iterator[tuple[str, Callable[[ast.AST], ast.AST | None]]]:
    """(description, transform) pairs for one node; a transform returns the replacement."""
    if isinstance(node, ast.BinOp):
        swap = BINOP_SWAPS.get(type(node.op))
        if swap:
            name = f"{type(node.op).__name__}->{swap.__name__}"
            yield name, lambda n, s=swap: ast.BinOp(n.left, s(), n.right)
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            yield "drop right term", lambda n: n.left
            yield "drop left term", lambda n: n.right
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        yield f"drop {type(node.op).__name__}", lambda n: n.operand
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap = COMPARE_SWAPS.get(type(node.ops[0]))
        if swap:
            name = f"{type(node.ops[0]).__name__}->{swap.__name__}"
            yield name, lambda n, s=swap: ast.Compare(n.left, [s()], n.comparators)
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield (
            f"{type(node.op).__name__}->{other.__name__}",
            lambda n, o=other: ast.BoolOp(o(), n.values),
        )
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            yield f"{node.value}->{not node.value}", lambda n: ast.Constant(not n.value)
        elif isinstance(node.value, int):
            yield f"{node.value}->{node.value + 1}", lambda n: ast.Constant(n.value + 1)
            if node.value != 0:
                yield f"{node.value}->{node.value - 1}", lambda n: ast.Constant(n.value - 1)
        elif isinstance(node.value, str) and node.value in NAME_SWAPS:
            new = NAME_SWAPS[node.value]
            yield f"'{node.value}'->'{new}'", lambda n, v=new: ast.Constant(v)
    elif isinstance(node, ast.Attribute) and node.attr in NAME_SWAPS:
        new = NAME_SWAPS[node.attr]
        yield f".{node.attr}->.{new}", lambda n, v=new: ast.Attribute(n.value, v, n.ctx)
    elif isinstance(node, ast.Call):
        for i, kw in enumerate(node.keywords):
            if kw.arg is not None:
                yield (
                    f"drop {kw.arg}=",
                    lambda n, i=i: ast.Call(n.func, n.args, n.keywords[:i] + n.keywords[i + 1 :]),
                )
    elif isinstance(node, ast.If) and any(isinstance(s, ast.Raise) for s in node.body):
        if not node.orelse:
            yield "drop input check", lambda n: ast.Pass()


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


def cell_mutants(cell_id: str, source: str) -> list[Mutant]:
    """All mutants of one solution cell."""
    regions = markers.solution_regions(source)
    code = markers.drop_solution_markers(source)
    # Line numbers shift when marker lines are dropped; map regions onto the cleaned code.
    inside, cleaned_line = set(), 0
    for i, _ in enumerate(source.splitlines()):
        if any(i in (a, b) for a, b in regions):
            continue
        cleaned_line += 1
        if any(a < i < b for a, b in regions):
            inside.add(cleaned_line)
    tree = ast.parse(code)
    protected = _protected_lines(tree)
    found = []
    for index, node in enumerate(_numbered(tree)):
        line = getattr(node, "lineno", None)
        if line is None or line not in inside or line in protected:
            continue
        for what, transform in _mutations(node):
            mutated = _Replace(index, transform).visit(copy.deepcopy(tree))
            ast.fix_missing_locations(mutated)
            try:
                new_source = ast.unparse(mutated)
                compile(new_source, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):
                continue
            found.append(Mutant(f"{cell_id}:{line}:{what}", cell_id, line, what, new_source))
    # Identical sources (two mutations that end up equal) are counted once.
    unique: dict[str, Mutant] = {}
    for m in found:
        unique.setdefault(m.source, m)
    return list(unique.values())


def all_mutants(source_nb: NotebookNode) -> list[Mutant]:
    """Mutants of every solution cell of a source notebook, in notebook order."""
    found = []
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            found.extend(cell_mutants(meta["grade_id"], cell.source))
    return found


def submission(release_nb: NotebookNode, solutions: dict[str, str]) -> NotebookNode:
    """A student's notebook: the release with the given solution cells filled in.

    `solutions` maps a solution cell's grade_id to the code the "student" wrote.
    """
    nb = nbformat.from_dict(copy.deepcopy(release_nb))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return nb


def solution_sources(source_nb: NotebookNode) -> dict[str, str]:
    """The instructor's solution code of every solution cell, markers removed."""
    return {
        c.metadata["nbgrader"]["grade_id"]: markers.drop_solution_markers(c.source)
        for c in source_nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }


def mutant_submission(
    release_nb: NotebookNode, source_nb: NotebookNode, mutant: Mutant
) -> NotebookNode:
    """A student who solved every task correctly except for this one mutation."""
    return submission(release_nb, {**solution_sources(source_nb), mutant.cell_id: mutant.source})
