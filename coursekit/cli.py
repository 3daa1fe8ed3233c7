"""`python -m coursekit <command>`: the instructor's and TA's commands (the Makefile calls these)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .modules import REPO, discover, find

console = Console()


def cmd_build(args) -> int:
    from .build import build

    console.print(f"[bold]Regenerating source/, release/, tinytorch/, solutions/ in {args.root}")
    build(args.root, root=args.root, execute_solutions=not args.no_execute, log=console.print)
    console.print("[green]done[/green]")
    return 0


def cmd_check(args) -> int:
    from .build import drift

    problems = drift(args.root)
    for p in problems:
        console.print(f"[red]{p}")
    if problems:
        console.print("Generated files are out of date: run `make release` and commit.")
        return 1
    console.print("[green]Generated files match the masters.")
    return 0


def cmd_gates(args) -> int:
    from . import gates

    root = args.root
    modules = [find(m, root) for m in args.modules] if args.modules else discover(root)
    table = Table(title="Integrity gates")
    for col in (
        "module",
        "points",
        "solution",
        "release",
        "mutants",
        "killed",
        "kill rate",
        "leaks",
        "ok",
    ):
        table.add_column(col)
    failed = False
    for module in modules:
        console.print(f"[bold]{module.assignment}[/bold]: grading mutants and running nbgrader ...")
        src = gates.source_notebook(module, root)
        problems = gates.structure_problems(src)
        problems += gates.visible_failures(module, root)
        leaks = gates.leak_problems(module, root)
        report = gates.mutant_report(module, root)
        sample = gates.nbgrader_sample(gates.mutants.all_mutants(src))
        with tempfile.TemporaryDirectory() as tmp:
            scores, _ = gates.nbgrader_gate(module, Path(tmp), sample, root)
        sol, blank = scores["solution"], scores["blank"]
        for i, m in enumerate(sample):
            fast = report.results[m.id].score
            if scores[f"mutant{i}"].score != fast:
                problems.append(f"nbgrader and fast grader disagree on {m.id}")
        ok = (
            not problems
            and not leaks
            and sol.score == sol.max_score
            and blank.score == 0
            and report.total >= gates.MIN_MUTANTS
            and report.kill_rate >= gates.MIN_KILL_RATE
        )
        failed |= not ok
        table.add_row(
            module.assignment,
            f"{sol.max_score:g}",
            f"{sol.score:g}",
            f"{blank.score:g}",
            str(report.total),
            str(report.killed),
            f"{report.kill_rate:.1%}",
            str(len(leaks)),
            "[green]yes" if ok else "[red]no",
        )
        for p in problems + leaks:
            console.print(f"  [red]{p}")
        if args.survivors:
            for m in report.survivors:
                console.print(f"  survivor: {m.id}")
    console.print(table)
    return 1 if failed else 0


def cmd_demo(args) -> int:
    from .demo import main

    return main(args.module)


def cmd_autograde(args) -> int:
    from .course import Course

    module = find(args.assignment)
    course = Course(REPO)
    course.ensure_assignment(module)
    console.print(course.autograde(module) if args.verbose else "autograde finished")
    table = Table(title=f"{module.assignment}")
    for col in ("student", "score", "late", "tests that lost points"):
        table.add_column(col)
    for s in sorted(course.scores(module).values(), key=lambda s: s.student):
        table.add_row(
            s.student,
            f"{s.score:g} / {s.max_score:g}",
            "late" if s.late else "",
            ", ".join(s.failed),
        )
    console.print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coursekit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    root = {
        "type": Path,
        "default": REPO,
        "help": "course root holding masters/ (default: this repo)",
    }
    p = sub.add_parser("build", help="regenerate everything generated from masters/")
    p.add_argument("--root", **root)
    p.add_argument("--no-execute", action="store_true", help="do not execute solution notebooks")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("check", help="fail when a generated file differs from its master")
    p.add_argument("--root", **root)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("gates", help="integrity gates: solution full, release zero, mutants, leaks")
    p.add_argument("modules", nargs="*", help="modules (default: all)")
    p.add_argument("--survivors", action="store_true", help="list mutants the tests miss")
    p.add_argument("--root", **root)
    p.set_defaults(func=cmd_gates)
    p = sub.add_parser("demo", help="a simulated class through the whole pipeline")
    p.add_argument("--module", default="01_tensor")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("autograde", help="autograde every submission of an assignment")
    p.add_argument("assignment")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_autograde)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
