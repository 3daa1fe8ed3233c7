"""Export a notebook's package cells into the student's own tinytorch package.

The cells whose metadata says `"tinytorch": {"export": "tinytorch.core.tensor"}` are written,
in notebook order, to `$TINYTORCH_HOME/tinytorch/core/tensor.py` under a header that records
where they came from, when, and a sha256 of the cells (so `tito status` can tell whether the
export is up to date with the notebook).

From a notebook cell (save the notebook first: the export reads the saved file):

    from tito.export import export_notebook
    export_notebook()
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import cells, notebooks
from .errors import FAILURE, PREREQUISITE, TitoError
from .paths import package_home, shown

STUB = "# YOUR CODE HERE"
TASK = re.compile(r"#\s*Task\s+([A-Za-z0-9_]+)\s*:")
HEADER = re.compile(
    r"^# Exported by tito from (?P<notebook>.+) at (?P<time>\S+); "
    r"sha256 of the cells: (?P<sha>[0-9a-f]{64})$"
)
META = re.compile(
    r"^# tito: module=(?P<module>\S+) origin=(?P<origin>own|solution) "
    r"unfinished=(?P<unfinished>\S*)$"
)
ORIGIN_TEXT = {
    "own": "your own solution cells",
    "solution": "the released solution (tito install-solution)",
}
SKIP_ENV = ("NBGRADER_EXECUTION", "TITO_RUNNER")  # grading, or `tito test` running the cells


@dataclass(frozen=True)
class ExportInfo:
    """What the header of an exported file says."""

    notebook: str
    time: str
    sha: str
    module: str
    origin: str  # "own" or "solution"
    unfinished: tuple[str, ...]  # tasks that were still stubs (exported with --force)


@dataclass(frozen=True)
class Written:
    path: Path
    package: str
    cells: int
    unfinished: tuple[str, ...]
    backup: Path | None = None


def cells_by_package(nb: dict) -> dict[str, list[tuple[str, str]]]:
    """(cell id, code) of the export cells, grouped by the package module they go to."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for index, cell in enumerate(filter(cells.is_code, nb.get("cells", []))):
        target = cells.export_target(cell)
        if target:
            cell_id = cells.grade_id(cell) or f"cell {index + 1}"
            groups.setdefault(target, []).append((cell_id, cells.source(cell).strip("\n")))
    return groups


def body(cells: list[tuple[str, str]]) -> str:
    """The module text the cells make: their code in order, blank lines between."""
    return "\n\n\n".join(code for _, code in cells) + "\n"


def sha(cells: list[tuple[str, str]]) -> str:
    return hashlib.sha256(body(cells).encode("utf-8")).hexdigest()


def unfinished_tasks(cells: list[tuple[str, str]]) -> tuple[str, ...]:
    """Tasks whose code is still nbgrader's stub (`# YOUR CODE HERE` / NotImplementedError).

    Each stub is named by the nearest `# Task <id>:` comment above it, else by its cell id.
    """
    found: list[str] = []
    for cell_id, code in cells:
        lines = code.splitlines()
        for i, line in enumerate(lines):
            if line.strip() != STUB:
                continue
            task = next((m.group(1) for m in map(TASK.search, reversed(lines[:i])) if m), cell_id)
            if task not in found:
                found.append(task)
    return tuple(found)


def read_header(path: Path) -> ExportInfo | None:
    """The header of a file tito wrote, or None (no such file, or not written by tito)."""
    try:
        with open(path, encoding="utf-8") as f:
            first, second = f.readline().rstrip("\n"), f.readline().rstrip("\n")
    except OSError:
        return None
    head, meta = HEADER.match(first), META.match(second)
    if not head or not meta:
        return None
    unfinished = tuple(t for t in meta["unfinished"].split(",") if t)
    return ExportInfo(
        head["notebook"], head["time"], head["sha"], meta["module"], meta["origin"], unfinished
    )


def target_file(package: str, root: Path | None = None) -> Path:
    """`tinytorch.core.tensor` -> `$TINYTORCH_HOME/tinytorch/core/tensor.py`."""
    return (root or package_home()).joinpath(*package.split(".")).with_suffix(".py")


def course_repository(path: Path) -> Path | None:
    """The course repository `path` lies in (a folder with `masters/`), if any."""
    resolved = Path(path).resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / "masters").is_dir():
            return folder
    return None


def header(module: str, notebook: Path, cells, origin: str, unfinished) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"# Exported by tito from {shown(notebook)} at {stamp}; sha256 of the cells: "
        f"{sha(cells)}\n"
        f"# tito: module={module} origin={origin} unfinished={','.join(unfinished)}\n"
        f"# This file holds {ORIGIN_TEXT[origin]}. Do not edit it: change the notebook and\n"
        f"# export again (tito export {module}).\n"
    )


def _make_packages(target: Path, root: Path) -> None:
    """Create the `__init__.py` of every folder from the package root down to `target`."""
    folder = target.parent
    while folder != root and root in folder.parents:
        init = folder / "__init__.py"
        if not init.exists():
            dotted = folder.relative_to(root).as_posix().replace("/", ".")
            init.write_text(
                f'"""{dotted}: your own framework, exported by tito from your notebooks."""\n',
                encoding="utf-8",
            )
        folder = folder.parent


def _drop_bytecode(target: Path) -> None:
    """Remove cached bytecode of `target`: a rewrite within the same second could reuse it."""
    for cached in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def write_module(
    module: notebooks.ModuleNotebook,
    *,
    origin: str = "own",
    force: bool = False,
    root: Path | None = None,
) -> list[Written]:
    """Write the notebook's export cells into the package under `root`; return what was written.

    Refuses (TitoError, exit 1) when a cell still holds a stub, unless `force`; refuses
    (exit 2) to write inside a course repository, where the reference package lives.
    """
    root = (root or package_home()).absolute()
    groups = cells_by_package(notebooks.read(module.path))
    if not groups:
        raise TitoError(
            f"{shown(module.path)} has no cells marked for export (cell metadata "
            '"tinytorch": {"export": ...}). Was the notebook saved by an editor that drops '
            "metadata? Fetch a fresh copy and paste your code into it.",
            FAILURE,
        )
    repository = course_repository(root)
    if repository is not None:
        raise TitoError(
            f"refusing to export into {root}: it is inside the course repository {repository} "
            "(it has masters/), whose tinytorch is the reference package. Set TINYTORCH_HOME "
            "to a folder of your own, e.g. export TINYTORCH_HOME=~/tinytorch-package",
            PREREQUISITE,
        )
    unfinished = {package: unfinished_tasks(cells) for package, cells in groups.items()}
    stubs = [task for tasks in unfinished.values() for task in tasks]
    if stubs and not force:
        raise TitoError(
            f"not exported: in {shown(module.path)} these tasks still hold the stub "
            f"'{STUB}' / raise NotImplementedError(): {', '.join(stubs)}. Finish them and save "
            f"the notebook, then export again. To export unfinished code anyway, add --force "
            "(later modules and milestones that need it will say it is unfinished).",
            FAILURE,
        )
    written = []
    for package, group in groups.items():
        target = target_file(package, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        _make_packages(target, root)
        backup = None
        previous = read_header(target)
        if origin == "solution" and previous and previous.origin == "own":
            backup = target.with_name(target.name + ".own")
            shutil.copy2(target, backup)
        text = header(module.assignment, module.path, group, origin, unfinished[package])
        target.write_text(text + body(group), encoding="utf-8")
        _drop_bytecode(target)
        written.append(Written(target, package, len(group), unfinished[package], backup))
    return written


def _course_notebook(path: Path) -> notebooks.ModuleNotebook | None:
    meta = cells.notebook_info(notebooks.read(path))
    if meta.get("module") and meta.get("package"):
        return notebooks.ModuleNotebook(meta["module"], path, meta["package"])
    return None


def _notebook_here(folder: Path) -> notebooks.ModuleNotebook:
    """The course notebook in `folder` (a Jupyter kernel's working folder is the notebook's)."""
    assignment = folder.name.removesuffix(notebooks.SOLUTION_SUFFIX)
    found = [m for m in map(_course_notebook, sorted(folder.glob("*.ipynb"))) if m]
    for module in sorted(found, key=lambda m: m.assignment != assignment):
        return module
    raise TitoError(
        f"no course notebook in {shown(folder)}; pass its path: export_notebook('tensor.ipynb')",
        PREREQUISITE,
    )


def export_notebook(notebook: str | Path | None = None, *, force: bool = False) -> list[Path]:
    """The notebook's export step: write this notebook's export cells into your package.

    notebook: the .ipynb to export; by default the course notebook in the current folder
    (in Jupyter, the folder of the running notebook). Reads the saved file, so save first.
    Does nothing while the notebook is being graded or run by `tito test`.
    """
    if any(os.environ.get(var) for var in SKIP_ENV):
        print("export skipped (the notebook is being graded or tested)")
        return []
    if notebook is None:
        module = _notebook_here(Path.cwd())
    else:
        module = _course_notebook(Path(notebook).absolute())
        if module is None:
            raise TitoError(f"{notebook} is not a course notebook (no tinytorch metadata)")
    origin = "solution" if module.path.parent.name.endswith(notebooks.SOLUTION_SUFFIX) else "own"
    written = write_module(module, origin=origin, force=force)
    for item in written:
        note = f" (unfinished: {', '.join(item.unfinished)})" if item.unfinished else ""
        print(f"exported {item.cells} cells of {module.assignment} to {shown(item.path)}{note}")
    return [item.path for item in written]
