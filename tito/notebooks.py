"""The modules a student has fetched: notebooks in `~/NN_name/`, found from their metadata.

Every course notebook carries `"tinytorch": {"module": "01_tensor", "package": ...}` in its
notebook metadata, and each code cell that belongs in the package carries
`"tinytorch": {"export": "tinytorch.core.tensor"}` in its cell metadata. Nothing here knows
the list of modules: it is read from what is in the home folder.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import cells
from .errors import PREREQUISITE, TitoError
from .paths import shown

ASSIGNMENT = re.compile(r"^(?P<number>\d{2})_(?P<name>[a-z0-9_]+)$")
SOLUTION_SUFFIX = "-solution"


@dataclass(frozen=True)
class ModuleNotebook:
    """One module's notebook in the student's home (their own, or a released solution)."""

    assignment: str  # "01_tensor"
    path: Path  # ~/01_tensor/tensor.ipynb
    package: str  # "tinytorch.core.tensor"

    @property
    def number(self) -> int:
        return int(self.assignment[:2])


def read(path: Path) -> dict:
    """A notebook as a plain dict (nbformat v4 JSON)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise TitoError(f"cannot read {shown(path)}: {error}", PREREQUISITE) from error


def without_magics(code: str) -> str:
    """Replace IPython magics and shell escapes (`%timeit`, `!ls`) by `pass`, keeping indents."""
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # IPython magic skipped by tito"
        lines.append(line)
    return "\n".join(lines)


def _module_of(path: Path) -> dict:
    return cells.notebook_info(read(path))


def _claims(path: Path, assignment: str) -> dict | None:
    """The notebook's course metadata when it is a notebook of `assignment`, else None."""
    try:
        meta = _module_of(path)
    except TitoError:
        return None
    return meta if meta.get("module") == assignment and meta.get("package") else None


def _notebook_in(folder: Path, assignment: str) -> ModuleNotebook | None:
    """The notebook of `assignment` inside `folder`: `<name>.ipynb`, the name nbgrader
    fetched and grades (a copy under another name is never used: see `copies`)."""
    match = ASSIGNMENT.match(assignment)
    if not match or not folder.is_dir():
        return None
    path = folder / f"{match['name']}.ipynb"
    meta = _claims(path, assignment) if path.is_file() else None
    return ModuleNotebook(assignment, path, meta["package"]) if meta else None


def copies(folder: Path, assignment: str) -> list[Path]:
    """Other notebooks of `assignment` in `folder` (`tensor (1).ipynb`, `tensor-Copy1.ipynb`):
    grading ignores them, so tito names them instead of using one."""
    match = ASSIGNMENT.match(assignment)
    if not match or not folder.is_dir():
        return []
    expected = folder / f"{match['name']}.ipynb"
    return [
        p
        for p in sorted(folder.glob("*.ipynb"))
        if p != expected and _claims(p, assignment) is not None
    ]


def fetched(home: Path) -> list[ModuleNotebook]:
    """The student's own module notebooks, `~/NN_name/<name>.ipynb`, in course order."""
    found = []
    for folder in sorted(p for p in home.iterdir() if p.is_dir() and ASSIGNMENT.match(p.name)):
        module = _notebook_in(folder, folder.name)
        if module:
            found.append(module)
    return found


def solutions(home: Path) -> dict[str, ModuleNotebook]:
    """Released solutions the student fetched, `~/NN_name-solution/`, by assignment."""
    found = {}
    for folder in sorted(home.glob(f"*{SOLUTION_SUFFIX}")):
        assignment = folder.name.removesuffix(SOLUTION_SUFFIX)
        module = _notebook_in(folder, assignment)
        if module:
            found[assignment] = module
    return found


def assignment_name(home: Path, name: str) -> str:
    """`01_tensor` from what the student typed: `01_tensor`, `tensor`, `1` or `01`."""
    if ASSIGNMENT.match(name):
        return name
    known = {m.assignment for m in fetched(home)} | set(solutions(home))
    for assignment in sorted(known):
        number, short = assignment.split("_", 1)
        if name == short or (name.isdigit() and int(name) == int(number)):
            return assignment
    raise TitoError(
        f"no module called {name!r} in your home folder ({', '.join(sorted(known)) or 'none'} "
        "fetched). Use the assignment name, e.g. 01_tensor, and fetch it first: "
        "nbgrader fetch_assignment 01_tensor",
        PREREQUISITE,
    )


def own(home: Path, name: str) -> ModuleNotebook:
    """The student's own notebook of a module, or a clear message saying how to fetch it."""
    assignment = assignment_name(home, name)
    module = _notebook_in(home / assignment, assignment)
    found = copies(home / assignment, assignment)
    if module is None and found:
        expected = home / assignment / f"{ASSIGNMENT.match(assignment)['name']}.ipynb"
        raise TitoError(
            f"{shown(expected)} is missing, but {shown(found[0])} is a notebook of "
            f"{assignment}. Grading reads {expected.name} only: rename your notebook to "
            f"{expected.name} (in Jupyter: right-click it, Rename), then run the command again.",
            PREREQUISITE,
        )
    if module is None:
        raise TitoError(
            f"{shown(home / assignment)}/ has no notebook of module {assignment}. Fetch it in "
            f"your home folder first: nbgrader fetch_assignment {assignment}",
            PREREQUISITE,
        )
    return module


def solution(home: Path, name: str) -> ModuleNotebook:
    """The released solution of a module, fetched into `~/NN_name-solution/`."""
    assignment = assignment_name(home, name)
    module = _notebook_in(home / f"{assignment}{SOLUTION_SUFFIX}", assignment)
    if module is None:
        raise TitoError(
            f"the solution of {assignment} is not in your home folder. Once your instructor "
            f"has released it (after the deadline), fetch it: "
            f"nbgrader fetch_assignment {assignment}{SOLUTION_SUFFIX}",
            PREREQUISITE,
        )
    return module


def imported_packages(nb: dict) -> list[str]:
    """The tinytorch modules the notebook's code imports (`from tinytorch.core.tensor ...`)."""
    found: list[str] = []
    for cell in filter(cells.is_code, nb.get("cells", [])):
        try:
            tree = ast.parse(without_magics(cells.source(cell)))
        except SyntaxError:
            continue  # the runner reports it; it cannot name imports
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("tinytorch.") and name not in found:
                    found.append(name)
    return found


def assignment_for(home: Path, package: str, number: int | None = None) -> str | None:
    """The assignment that builds `package` (or has `number`), among what the student fetched."""
    known = fetched(home) + list(solutions(home).values())
    for module in known:
        if module.package == package or (number is not None and module.number == number):
            return module.assignment
    return None


def fix_hint(home: Path, package: str, number: int | None = None) -> str:
    """What to run to get `package` into the student's package."""
    assignment = assignment_for(home, package, number)
    if assignment is None:
        label = (
            f"module {number:02d}" if number is not None else f"the module that builds {package}"
        )
        return f"fetch {label} with nbgrader fetch_assignment, complete it and tito export it"
    return (
        f"run tito export {assignment}, or, if you could not finish it, tito install-solution "
        f"{assignment} once its solution is released"
    )
