"""`coursekit try MODULE`: run a master the way grading will, the quickest check while writing.

The master is built into its source notebook in memory (the shared checks included, the
grading set-up at the top of each test cell), and every code cell runs in order in a fresh
Python with this repository's tinytorch, hidden tests included. A table says which cells
raised and why; the exit status is 1 when one did.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..modules import REPO, Module
from ..tools import tool_env, write_notebook
from .masters import to_source_notebook

RUNNER = """
import json, sys
from tito import cells
from tito.runner import run_cell
import nbformat
nb = nbformat.read(sys.argv[1], 4)
namespace = {"__name__": "__main__"}
code = [c for c in nb.cells if cells.is_code(c)]
print(json.dumps([run_cell(i, c, namespace) for i, c in enumerate(code)]))
"""


def run_master(module: Module, root: Path = REPO, timeout: float = 900) -> list[dict]:
    """The outcome of every code cell of the module's source notebook, run in a child."""
    with tempfile.TemporaryDirectory(prefix="tinytorch-try-") as tmp:
        path = Path(tmp) / module.notebook
        write_notebook(to_source_notebook(module), path)
        # The master folder's data, linked: what the notebook writes (a report, a plot) stays
        # in the scratch folder, never in masters/, from where the build would ship it.
        for entry in module.master_dir.iterdir():
            if entry.name not in (module.master.name, "module.toml"):
                (Path(tmp) / entry.name).symlink_to(entry)
        env = tool_env(PYTHONPATH=str(root), MPLBACKEND="Agg")
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(path)],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if done.returncode != 0:
        raise RuntimeError(f"running {module.master} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(module: Module, root: Path, console: Console) -> int:
    outcomes = run_master(module, root)
    table = Table(title=f"{module.assignment}: every code cell, hidden tests included")
    for column in ("cell", "kind", "ok", "error"):
        table.add_column(column)
    for o in outcomes:
        where = f" (line {o['line']})" if o.get("line") else ""
        table.add_row(
            o["name"], o["kind"], "yes" if o["ok"] else "[red]no", (o["error"] or "") + where
        )
    console.print(table)
    failed = [o for o in outcomes if not o["ok"]]
    console.print(f"{len(outcomes) - len(failed)} of {len(outcomes)} cells ran cleanly")
    return 1 if failed else 0
