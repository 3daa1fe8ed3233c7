"""`make release`: regenerate everything that comes from the masters, or check it is current.

For each module: `source/NN/` (what nbgrader reads), `release/NN/` (through nbgrader's own
`generate_assignment`, which also stores the hidden tests in the gradebook; one process for
every module, see coursekit.authoring.generate), the package file in `tinytorch/` (the masters' export cells), `solutions/NN/` (the solution with hidden tests
removed, for students after the deadline; run once as a check, written without outputs),
and `otter/NN/`, the same module as an otter-grader assignment for Gradescope
(coursekit.otter.assignment). Every generated file is a function of the masters: building
twice gives the same bytes (zips: the same contents), and a change to one master changes
only that module's files and the copies of its package file that later modules' otter
folders ship.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..modules import REPO, discover
from ..tools import generate_assignments, write_notebook
from .masters import to_source_notebook
from .package import write_package
from .solutions import execute, solution_notebook

GENERATED_DIRS = ("source", "release", "solutions", "tinytorch", "otter")
MASTER_ONLY = ("module.toml",)


# --- the whole build -----------------------------------------------------------------------


def build(
    out: Path = REPO, *, root: Path = REPO, execute_solutions: bool = True, log=print
) -> None:
    """Regenerate every generated file under `out` from the masters under `root`."""
    modules = discover(root)
    if out != root:
        shutil.copy2(root / "nbgrader_config.py", out / "nbgrader_config.py")
    for folder in GENERATED_DIRS:
        shutil.rmtree(out / folder, ignore_errors=True)
    (out / "gradebook").mkdir(exist_ok=True)
    nbs = {}
    for module in modules:
        nb = to_source_notebook(module)
        nbs[module.assignment] = nb
        source_dir = out / "source" / module.assignment
        write_notebook(nb, source_dir / module.notebook)
        for extra in sorted(module.master_dir.iterdir()):
            if extra.name not in (*MASTER_ONLY, module.master.name) and extra.is_file():
                shutil.copy2(extra, source_dir / extra.name)
    write_package(modules, nbs, out)
    log(f"  release/: nbgrader generate_assignment for {len(modules)} modules")
    generate_assignments([module.assignment for module in modules], out)
    for module in modules:
        sol = solution_notebook(module, nbs[module.assignment])
        sol_dir = out / "solutions" / module.assignment
        sol_dir.mkdir(parents=True, exist_ok=True)
        if execute_solutions:
            log(f"  {module.assignment}: solutions (checking that they run)")
            execute(sol, sol_dir, pythonpath=out)  # raises when a cell fails
        write_notebook(sol, sol_dir / module.notebook)
    from ..otter.assignment import write_assignment

    for module in modules:
        log(f"  {module.assignment}: otter-grader assignment and Gradescope zip")
        release_nb = nbformat.read(out / "release" / module.assignment / module.notebook, 4)
        write_assignment(module, nbs[module.assignment], release_nb, out, out, root=root)


def _same(generated: Path, committed: Path) -> bool:
    if not committed.exists():
        return False
    if generated.suffix == ".zip":  # compared by contents: compressors may differ in bytes
        from ..otter.assignment import zip_contents

        return zip_contents(generated) == zip_contents(committed)
    return filecmp.cmp(generated, committed, shallow=False)


def drift(root: Path = REPO) -> list[str]:
    """Generated files that differ from what the masters produce now (empty when current)."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="tinytorch-build-") as tmp:
        out = Path(tmp)
        build(out, root=root, execute_solutions=False, log=lambda *_: None)
        for folder in GENERATED_DIRS:
            fresh = {p.relative_to(out) for p in (out / folder).rglob("*") if p.is_file()}
            have = {
                p.relative_to(root)
                for p in (root / folder).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts
            }
            for rel in sorted(fresh - have):
                problems.append(f"missing: {rel}")
            for rel in sorted(have - fresh):
                problems.append(f"stale (no master makes it): {rel}")
            for rel in sorted(fresh & have):
                if not _same(out / rel, root / rel):
                    problems.append(f"differs from its master: {rel}")
    return problems
