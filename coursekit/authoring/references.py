"""Points follow the behaviour that broke: the grading set-up at the top of every test cell.

Each solution region belongs to a task, named by the `# Task <id>:` comment above it (or, in
a cell without such comments, by the cell's id). Each test cell checks one task: the task in
its `task="..."` attribute, else the id after `test_`; integration cells (module.toml
`integration = [...]`) check them all together.

`make release` puts a hidden block at the top of every test cell that, while the notebook is
graded (never in the students' copy):

1. puts back anything a student's code replaced in NumPy, `builtins` or the given names
   (`_grading.begin_test()`, defined by the shared checks in masters/shared/checks.py);
2. for a task's test, runs every other task's functions defined above the cell from the
   reference solution (the master's own code), so a bug in one task costs only its own test
   cell; an integration cell runs the student's code throughout.

A unit of reference code is a function holding task regions: a top-level function or a method
of a top-level class, swapped in place (its code object) where possible so that references
held elsewhere follow too.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

from . import markers

TASK_COMMENT = re.compile(r"^\s*# Task (?P<task>[a-z0-9_]+):")
SETUP_WORDS = "set-up: checks restored; the other tasks run the reference solution"
INTEGRATION_WORDS = "set-up: checks restored; every task runs your own code"


class ReferenceError_(ValueError):
    """A master whose regions cannot be used as reference code (the message says why)."""


@dataclass(frozen=True)
class Unit:
    """One function of the solution that holds task regions."""

    owner: str  # "" for a top-level function, else the class that defines it
    name: str
    tasks: frozenset[str]
    source: str  # the reference definition, dedented, decorators included


def region_tasks(cell_id: str, source: str) -> list[tuple[int, int, str]]:
    """(first, last, task) for each solution region of a cell (0-based lines, markers
    included). The task is the nearest `# Task <id>:` comment above the region, else the
    cell's id."""
    lines = source.splitlines()
    found = []
    for first, last in markers.solution_regions(source):
        task = cell_id
        for line in reversed(lines[:first]):
            match = TASK_COMMENT.match(line)
            if match:
                task = match.group("task")
                break
            if line.strip() and not line.strip().startswith("#"):
                break
        found.append((first, last, task))
    return found


class _ExplicitSuper(ast.NodeTransformer):
    """`super()` -> `super(Owner, first_argument)`: the code runs outside its class."""

    def __init__(self, owner: str, first_arg: str | None):
        self.owner, self.first_arg = owner, first_arg

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "super" and not node.args:
            if not self.first_arg:
                raise ReferenceError_(f"super() in a method of {self.owner} without arguments")
            node.args = [ast.Name(self.owner, ast.Load()), ast.Name(self.first_arg, ast.Load())]
        return node


def solution_units(cell_id: str, source: str) -> list[Unit]:
    """The functions of one solution cell that hold task regions, as reference code."""
    regions = region_tasks(cell_id, source)
    if not regions:
        return []
    code = markers.drop_solution_markers(source)
    # Line numbers of the code without marker lines, for each region's first inner line.
    kept, cleaned = {}, 0
    marker_lines = {i for first, last, _ in regions for i in (first, last)}
    for i in range(len(source.splitlines())):
        if i not in marker_lines:
            cleaned += 1
            kept[i] = cleaned
    starts = [(kept.get(first + 1), task) for first, last, task in regions if first + 1 < last]
    tree = ast.parse(code)
    functions: list[tuple[str, ast.FunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions.append(("", node))
        elif isinstance(node, ast.ClassDef):
            functions += [
                (node.name, item) for item in node.body if isinstance(item, ast.FunctionDef)
            ]
    units = []
    for owner, fn in functions:
        tasks = frozenset(
            task for line, task in starts if line and fn.lineno <= line <= fn.end_lineno
        )
        if not tasks:
            continue
        units.append(Unit(owner, fn.name, tasks, _reference_source(owner, fn)))
    placed = {t for u in units for t in u.tasks}
    stray = sorted({task for _, task in starts} - placed)
    if stray:
        raise ReferenceError_(
            f"cell {cell_id}: regions of {', '.join(stray)} are not inside a top-level function "
            "or a method of a top-level class"
        )
    return units


def _reference_source(owner: str, fn: ast.FunctionDef) -> str:
    fn = ast.parse(ast.unparse(fn)).body[0]  # a private copy
    if len(fn.body) > 1 and isinstance(fn.body[0], ast.Expr):
        if isinstance(fn.body[0].value, ast.Constant):
            fn.body = fn.body[1:]  # the docstring: the contract is in the student's copy
    if owner:
        args = fn.args.posonlyargs + fn.args.args
        decorators = {getattr(d, "id", "") for d in fn.decorator_list}
        first = None if "staticmethod" in decorators or not args else args[0].arg
        fn = _ExplicitSuper(owner, first).visit(fn)
    for node in ast.walk(fn):
        name = getattr(node, "attr", None) or getattr(node, "id", None)
        if isinstance(name, str) and name.startswith("__") and not name.endswith("__"):
            raise ReferenceError_(f"{owner or 'top level'}.{fn.name}: private name {name}")
    return ast.unparse(ast.fix_missing_locations(fn))


def prelude(units: list[Unit], task: str | None) -> str:
    """The hidden block for a test cell of `task` (None: an integration cell)."""
    lines = [
        markers.BEGIN_HIDDEN,
        f"# hidden: {INTEGRATION_WORDS if task is None else SETUP_WORDS}",
    ]
    lines.append("_grading.begin_test()")
    others = [u for u in units if task is not None and task not in u.tasks]
    owners: dict[str, list[Unit]] = {}
    for unit in others:
        owners.setdefault(unit.owner, []).append(unit)
    for index, (owner, group) in enumerate(owners.items()):
        holder = f"_reference_{index}"
        lines.append(f"class {holder}:")
        for unit in group:
            lines.append(textwrap.indent(unit.source, "    "))
        names = ", ".join(repr(u.name) for u in group)
        lines.append(f"_grading.use_reference({owner!r}, {holder}, [{names}])")
        lines.append(f"del {holder}")
    lines.append(markers.END_HIDDEN)
    return "\n".join(lines)
