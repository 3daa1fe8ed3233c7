"""`coursekit gates`: every gate on every module (or the ones named), as one table."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..modules import discover, find
from . import gates


def run_gates(root: Path, names: list[str], survivors: bool, console: Console) -> int:
    modules = [find(m, root) for m in names] if names else discover(root)
    table = Table(title="Integrity gates")
    for col in ("module", "points", "solution", "release", "mutants", "killed", "kill rate"):
        table.add_column(col)
    table.add_column("leaks")
    table.add_column("ok")
    failed = False
    for module in modules:
        console.print(f"[bold]{module.assignment}[/bold]: grading mutants and running nbgrader ...")
        with tempfile.TemporaryDirectory() as tmp:
            verdict = gates.evaluate(module, Path(tmp), root)
        report = verdict.mutants
        failed |= not verdict.ok
        table.add_row(
            module.assignment,
            f"{verdict.points:g}",
            f"{verdict.solution:g}",
            f"{verdict.blank:g}",
            str(report.total),
            str(report.killed),
            f"{report.kill_rate:.1%}",
            str(len(verdict.leaks)),
            "[green]yes" if verdict.ok else "[red]no",
        )
        for problem in verdict.failures():
            console.print(f"  [red]{problem}")
        if survivors:
            for m in report.survivors:
                console.print(f"  survivor: {m.id}")
    console.print(table)
    return 1 if failed else 0
