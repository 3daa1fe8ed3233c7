"""`tito test`: run a module's visible tests on the student's notebook, outside Jupyter.

The notebook's code cells run in a child Python (tito.runner) whose tinytorch is the
student's package only, so a later module's notebook uses the student's own earlier
modules. Each test cell passes when it raises nothing. The outcome is kept in
`~/.tito/results.json` for `tito status`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import cells, export, notebooks
from .errors import FAILURE, PREREQUISITE, TitoError
from .paths import home, results_file, shown

DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class TestRun:
    """The outcome of running one notebook's cells."""

    module: notebooks.ModuleNotebook
    cells: list[dict]  # as tito.runner reports them
    imports: dict[str, str | None]  # tinytorch module -> file it was imported from
    seconds: float
    warnings: list[str]  # e.g. an earlier module that was exported unfinished

    @property
    def tests(self) -> list[dict]:
        return [c for c in self.cells if c["kind"] == "test"]

    @property
    def passed(self) -> int:
        return sum(c["ok"] for c in self.tests)

    @property
    def broken(self) -> list[dict]:
        """Non-test cells that raised (the tests after them may fail because of it)."""
        return [c for c in self.cells if c["kind"] != "test" and not c["ok"]]

    @property
    def ok(self) -> bool:
        return bool(self.tests) and self.passed == len(self.tests) and not self.broken


def notebook_sha(path: Path) -> str:
    """sha256 of a notebook's code, to tell whether a cached result is still current."""
    nb = notebooks.read(path)
    code = "\n\n".join(cells.source(c) for c in nb.get("cells", []) if cells.is_code(c))
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def earlier_modules(module: notebooks.ModuleNotebook, root: Path) -> list[str]:
    """Check the earlier modules the notebook imports are in the package; warnings if unfinished.

    Raises TitoError (exit 2) naming the first missing one.
    """
    found: list[str] = []
    nb = notebooks.read(module.path)
    for package in notebooks.imported_packages(nb):
        if package == module.package or package.startswith(module.package + "."):
            continue
        target = export.target_file(package, root)
        if not target.is_file():
            hint = notebooks.fix_hint(home(), package)
            raise TitoError(
                f"{module.assignment} imports {package}, which is not in your package "
                f"({shown(root)}): {hint}.",
                PREREQUISITE,
            )
        info = export.read_header(target)
        if info and info.unfinished:
            found.append(
                f"{package} in your package is unfinished (exported with --force; still stubs: "
                f"{', '.join(info.unfinished)}); tests that use it will fail."
            )
    return found


def run(module: notebooks.ModuleNotebook, root: Path, timeout: float = DEFAULT_TIMEOUT) -> TestRun:
    """Run the notebook's cells in a child process with `root` as the only tinytorch."""
    if not any(cells.is_test(c) for c in notebooks.read(module.path).get("cells", [])):
        folder = shown(module.path.parent)
        raise TitoError(
            f"{shown(module.path)} has no test cells: the cells' nbgrader metadata is gone "
            "(some editors, and pasting cells into a new notebook, drop it), so nothing can "
            "be tested here. Grading can only guess where your code goes. Get a fresh copy: "
            f"rename {folder} to {folder}-old, run nbgrader fetch_assignment "
            f"{module.assignment}, and copy your code into the new notebook's cells.",
            FAILURE,
        )
    notes = earlier_modules(module, root)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env["MPLBACKEND"] = "Agg"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tito-") as tmp:
        results = Path(tmp) / "results.json"
        command = [sys.executable, "-m", "tito.runner", str(module.path), str(results), str(root)]
        try:
            child = subprocess.run(
                command,
                cwd=module.path.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as error:
            raise TitoError(
                f"{module.assignment}: the cells did not finish within {timeout:g} s (an endless "
                "loop?). Use --timeout to allow longer.",
                FAILURE,
            ) from error
        if not results.is_file():
            tail = (child.stdout + child.stderr).strip()[-1500:]
            raise TitoError(
                f"{module.assignment}: the notebook's code stopped Python itself (exit code "
                f"{child.returncode}) before the tests could finish.\n{tail}",
                FAILURE,
            )
        data = json.loads(results.read_text(encoding="utf-8"))
    return TestRun(module, data["cells"], data["imports"], time.perf_counter() - started, notes)


def load_results() -> dict[str, dict]:
    """The last `tito test` outcome of each module, by assignment."""
    try:
        return json.loads(results_file().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def save(run: TestRun) -> None:
    """Remember this run's outcome for `tito status`."""
    saved = load_results()
    saved[run.module.assignment] = {
        "passed": run.passed,
        "total": len(run.tests),
        "broken": len(run.broken),
        "notebook_sha": notebook_sha(run.module.path),
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path = results_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1), encoding="utf-8")
