"""`tito milestone`: the course's historical milestones, run on the student's own package.

Milestones are found in `$TINYTORCH_MILESTONES` (one folder per era, `NN_YEAR_era/`, holding
scripts). A script's name on the command line is its file name with dashes, with two
shortenings: `<x>_trained.py` is `<x>` and `forward_pass.py` is `<era>-forward`, so
`01_1957_perceptron/perceptron_trained.py` is `perceptron`, its `forward_pass.py` is
`perceptron-forward` and `02_1969_xor/xor_crisis.py` is `xor-crisis`.

What a milestone needs is read from its source: the `need(name, "tinytorch.core.X",
"Module NN")` calls of milestones/common.py, its `tinytorch` imports, and those of the other
milestone scripts it loads with `load_script(...)`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import export, notebooks
from .errors import PREREQUISITE, TitoError
from .paths import home, milestones_dir, shown

ERA = re.compile(r"^\d{2}_\d{4}_(?P<era>[a-z0-9_]+)$")
COURSE_MODULE = re.compile(r"Module\s+(\d+)")


@dataclass(frozen=True)
class Requirement:
    package: str  # "tinytorch.core.tensor"
    number: int | None  # the course module number, when the milestone names it


@dataclass(frozen=True)
class Milestone:
    name: str  # "perceptron"
    script: Path
    summary: str  # first line of the script's docstring
    requires: tuple[Requirement, ...]

    @property
    def relative(self) -> str:
        return f"{self.script.parent.name}/{self.script.name}"


def script_name(script: Path) -> str:
    """The command-line name of a milestone script (see the module docstring)."""
    era = ERA.match(script.parent.name)
    stem = script.stem
    if stem == "forward_pass" and era:
        return f"{era['era'].replace('_', '-')}-forward"
    return stem.removesuffix("_trained").replace("_", "-")


def _string_args(call: ast.Call) -> list[str | None]:
    return [
        a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
        for a in call.args
    ]


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks (imports for type hints only)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(test):
            for statement in node.body:
                hidden.update(id(inner) for inner in ast.walk(statement))
    return hidden


def requirements(script: Path, folder: Path, seen: set[Path] | None = None) -> list[Requirement]:
    """The tinytorch modules a script needs at run time, in the order it names them."""
    seen = seen if seen is not None else set()
    if script in seen or not script.is_file():
        return []
    seen.add(script)
    found: list[Requirement] = []

    def add(requirement: Requirement) -> None:
        for i, known in enumerate(found):
            if known.package == requirement.package:
                if known.number is None:  # a need() call names the course module
                    found[i] = requirement
                return
        found.append(requirement)

    tree = ast.parse(script.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = _string_args(node)
            if node.func.id == "need" and len(args) >= 2 and args[1]:
                number = COURSE_MODULE.search(args[2] or "") if len(args) > 2 else None
                add(Requirement(args[1], int(number.group(1)) if number else None))
            elif node.func.id == "load_script" and args and args[0]:
                for requirement in requirements(folder / args[0], folder, seen):
                    add(requirement)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinytorch."):
            add(Requirement(node.module, None))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinytorch."):
                    add(Requirement(alias.name, None))
    return found


def runnable(tree: ast.Module) -> bool:
    """True for a script with a top-level `if __name__ == "__main__":` block: a milestone.
    Helpers the milestones import (`cifar10.py`, the data loader) have none."""
    return any(
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
        and any(
            isinstance(c, ast.Constant) and c.value == "__main__" for c in node.test.comparators
        )
        for node in tree.body
    )


def discover(folder: Path | None = None) -> list[Milestone]:
    """Every milestone script, in course order (era folder, then file name); helper modules
    in the era folders are not milestones (see `runnable`)."""
    folder = folder or milestones_dir()
    if not folder.is_dir():
        raise TitoError(
            f"no milestones folder at {folder}. Set TINYTORCH_MILESTONES to the course's "
            "milestones folder.",
            PREREQUISITE,
        )
    found = []
    for script in sorted(folder.glob("*/*.py")):
        if not ERA.match(script.parent.name) or script.name.startswith("_"):
            continue
        tree = ast.parse(script.read_text(encoding="utf-8"))
        if not runnable(tree):
            continue
        doc = ast.get_docstring(tree) or ""
        summary = doc.splitlines()[0] if doc else ""
        found.append(
            Milestone(script_name(script), script, summary, tuple(requirements(script, folder)))
        )
    return found


def find(name: str, folder: Path | None = None) -> Milestone:
    """A milestone by name (`perceptron`), script stem or `era/script.py` path."""
    known = discover(folder)
    for milestone in known:
        if name in (milestone.name, milestone.script.stem, milestone.relative):
            return milestone
    names = ", ".join(m.name for m in known) or "none"
    raise TitoError(f"no milestone called {name!r}; the milestones are: {names}", PREREQUISITE)


def _label(requirement: Requirement) -> str:
    if requirement.number is None:
        return requirement.package
    return f"Module {requirement.number:02d} ({requirement.package})"


def export_state(requirement: Requirement, root: Path) -> tuple[str, export.ExportInfo | None]:
    """("missing", "unfinished" (exported with --force over stubs) or "exported") for the
    module a requirement names in the package under `root`, with its export header."""
    target = export.target_file(requirement.package, root)
    if not target.is_file():
        return "missing", None
    info = export.read_header(target)
    return ("unfinished" if info and info.unfinished else "exported"), info


def problems(milestone: Milestone, root: Path, imports: bool = True) -> list[str]:
    """Why the milestone cannot run on the package under `root` yet (empty when it can).

    Missing and unfinished modules are found from the files; with `imports`, the modules
    present are also imported (from the package only) in a child Python.
    """
    found, present = [], []
    for requirement in milestone.requires:
        state, info = export_state(requirement, root)
        hint = notebooks.fix_hint(home(), requirement.package, requirement.number)
        if state == "missing":
            found.append(
                f"{milestone.name} needs {_label(requirement)}, which is not in your package "
                f"({shown(root)}): {hint}."
            )
        elif state == "unfinished":
            found.append(
                f"{milestone.name} needs {_label(requirement)}, which is unfinished in your "
                f"package: it was exported with --force while these tasks were still stubs: "
                f"{', '.join(info.unfinished)}. Finish them and export again, or {hint}."
            )
        else:
            present.append(requirement)
    if present and imports:
        outcome = probe(root, [r.package for r in present])
        for requirement in present:
            error = outcome[requirement.package]["error"]
            if error:
                found.append(
                    f"{milestone.name} needs {_label(requirement)}, which fails to import "
                    f"from your package: {error}"
                )
    return found


def probe(root: Path, modules: list[str]) -> dict[str, dict]:
    """Import modules from the package under `root` only, in a child Python."""
    child = subprocess.run(
        [sys.executable, "-m", "tito.isolation", str(root), *modules],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(root),
    )
    if child.returncode != 0:
        raise TitoError(f"could not check your package: {child.stderr.strip()[-1000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


def run(milestone: Milestone, root: Path, args: list[str]) -> int:
    """Run the script with the student's package first on PYTHONPATH; its exit code."""
    found = problems(milestone, root)
    if found:
        raise TitoError("\n".join(found), PREREQUISITE)
    command = [sys.executable, str(milestone.script), *args]
    # Ctrl-C reaches the script too (same terminal, same process group), and a script may
    # answer it (the TinyTalks dashboard prints a summary). Waiting through it, rather than
    # letting subprocess.run kill the script 0.25 s later, leaves the script time to finish.
    # A Python handler, not SIG_IGN: an ignored signal would stay ignored in the script.
    previous = signal.signal(signal.SIGINT, lambda number, frame: None)
    try:
        return subprocess.run(command, cwd=home(), env=_env(root)).returncode
    finally:
        signal.signal(signal.SIGINT, previous)
