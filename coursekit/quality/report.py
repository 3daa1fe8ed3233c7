"""`coursekit gates`: every gate on every module (or the ones named), as tables.

The main table has one row per module: points, what the solution, the untouched release and
the import attack score through nbgrader, the NumPy-patch check, mutants killed, the share
of mutants whose blast radius is zero, leaks, and the module's pacing. A second table gives
the kill rate of each kind of mutant. Survivors and wide blasts are listed under the tables.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..modules import discover, find
from . import gates
from .mutants import STUDENT_KINDS


def _score(value) -> str:
    return "-" if value is None else f"{value:g}"


def run_gates(root: Path, names: list[str], survivors: bool, console: Console) -> int:
    if not console.is_terminal:  # piped or in a log: wide enough for every column
        console = Console(width=200)
    modules = [find(m, root) for m in names] if names else discover(root)
    verdicts = []
    for module in modules:
        console.print(f"[bold]{module.assignment}[/bold]: grading mutants and running nbgrader ...")
        with tempfile.TemporaryDirectory() as tmp:
            verdicts.append(gates.evaluate(module, Path(tmp), root))
    console.print(_main_table(verdicts))
    console.print(_kinds_table(verdicts))
    for verdict in verdicts:
        for problem in verdict.failures():
            console.print(f"  [red]{verdict.module}: {problem}")
        if survivors and verdict.mutants:
            for m in verdict.mutants.found:
                if not verdict.mutants.is_killed(m):
                    why = verdict.mutants.equivalent.get(m.id, "not declared")
                    console.print(f"  {verdict.module} survivor {m.id} [{m.kind}]: {why}")
    return 0 if all(v.ok for v in verdicts) else 1


def _main_table(verdicts: list[gates.GateVerdict]) -> Table:
    table = Table(title="Integrity gates")
    columns = ("module", "points", "solution", "release", "import", "patch", "mutants")
    columns += ("killed", "zero blast", "leaks", "lines", "tasks", "words", "hours", "ok")
    for col in columns:
        table.add_column(col)
    for v in verdicts:
        report, pace = v.mutants, v.pacing
        patch = f"{v.patch[0]:g}={v.patch[1]:g}" if v.patch else "-"
        table.add_row(
            v.module,
            _score(v.points),
            _score(v.solution),
            _score(v.blank),
            _score(v.import_attack),
            patch,
            str(report.total),
            f"{report.kill_rate:.1%}",
            f"{report.zero_blast_share:.1%}",
            str(len(v.leaks)),
            str(pace.lines),
            str(pace.tasks),
            str(pace.words),
            f"{pace.hours:g}",
            "[green]yes" if v.ok else "[red]no",
        )
    return table


def _kinds_table(verdicts: list[gates.GateVerdict]) -> Table:
    kinds = sorted({k for v in verdicts for k in v.mutants.by_kind()})
    table = Table(title="Mutants killed by kind (killed/total; * a kind students make)")
    table.add_column("module")
    for kind in kinds:
        table.add_column(kind + ("*" if kind in STUDENT_KINDS else ""))
    for v in verdicts:
        counts = v.mutants.by_kind()
        row = [f"{counts[k][1]}/{counts[k][0]}" if k in counts else "" for k in kinds]
        table.add_row(v.module, *row)
    return table
