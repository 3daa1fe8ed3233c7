"""`coursekit otter build|gates|grade`: the otter-grader target's three commands.

- `build [MODULES]`: rewrite `otter/NN_name/` from the committed source/, release/ and
  tinytorch/ (`make release` does it too, after regenerating those);
- `gates [MODULES]`: the otter gates (coursekit.otter.gates) as a table, with the time
  `otter run` took per submission;
- `grade MODULE [--submissions DIR]`: `otter run` every submission under
  DIR/<student>/<assignment>/ (default `otter-submitted/`) and record the grades in the
  gradebook, where `coursekit export` and `coursekit report` find them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from rich.table import Table

from ..modules import discover, find
from . import assignment


def run(args, console) -> int:
    root = args.root
    if args.action == "grade":
        return _grade(args, console)
    modules = [find(m, root) for m in args.modules] if args.modules else discover(root)
    if args.action == "build":
        for module in modules:
            src = nbformat.read(root / "source" / module.assignment / module.notebook, 4)
            rel = nbformat.read(root / "release" / module.assignment / module.notebook, 4)
            folder = assignment.write_assignment(module, src, rel, root, root, root=root)
            console.print(f"{module.assignment}: {folder.relative_to(root)}")
        return 0
    return _gates(root, modules, console)


def _gates(root: Path, modules, console) -> int:
    from rich.console import Console

    from . import gates

    if not console.is_terminal:  # piped or in a log: wide enough for every column
        console = Console(width=200)
    verdicts = []
    for module in modules:
        console.print(f"[bold]{module.assignment}[/bold]: grading through otter run ...")
        with tempfile.TemporaryDirectory(prefix="otter-gates-") as tmp:
            verdicts.append(gates.evaluate(module, Path(tmp), root))
    console.print(gate_table(verdicts))
    for v in verdicts:
        for problem in v.failures():
            console.print(f"  [red]{v.module}: {problem}")
    return 0 if all(v.ok for v in verdicts) else 1


def gate_table(verdicts) -> Table:
    table = Table(title="Integrity gates under otter-grader (otter run on the autograder zip)")
    columns = ("module", "points", "solution", "blank", "import", "patch", "mutants")
    for col in (*columns, "cells as nbgrader", "leaks", "s / submission", "ok"):
        table.add_column(col)
    for v in verdicts:
        names = v.mutant_names
        same = sum(1 for n in v.scores if not any(d.startswith(f"{n}:") for d in v.disagreements))
        runs = [s for s in v.seconds.values()]
        table.add_row(
            v.module,
            f"{v.points:g}",
            _num(v.scores.get("solution")),
            _num(v.scores.get("blank")),
            _num(v.scores.get("importer")),
            f"{_num(v.scores.get('patcher'))}={_num(v.bug)}",
            " ".join(f"{_num(v.scores[n])}/{_num(v.fast[n])}" for n in names),
            f"{same}/{len(v.scores)}",
            str(len(v.leaks)),
            f"{sum(runs) / len(runs):.1f}" if runs else "-",
            "[green]yes" if v.ok else "[red]no",
        )
    return table


def _num(value) -> str:
    return "-" if value is None else f"{value:g}"


def _grade(args, console) -> int:
    from ..course import Course
    from .grade import SUBMITTED, grade_folder

    if len(args.modules) != 1:
        console.print("[red]otter grade takes one module")
        return 2
    course = Course(args.root)
    module = find(args.modules[0], args.root)
    folder = args.submissions or args.root / SUBMITTED
    if not folder.is_dir():
        console.print(f"[red]no folder {folder}")
        return 1
    graded = grade_folder(course, module, folder, args.root, log=console.print)
    console.print(
        f"{len(graded)} submission(s) of {module.assignment} graded with otter run and "
        "recorded in the gradebook: `make export`, `make report ASSIGNMENT=...` read them"
    )
    return 0
