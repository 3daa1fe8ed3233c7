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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .course import Course
    from .grading import grade_class, write_flags

    course = Course(args.root)
    module = find(args.assignment, args.root)
    only = args.student or None
    with Progress(
        "[bold]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"autograde {module.assignment}", total=None)

        def on_done(outcome, done, total):
            progress.update(task, completed=done, total=total)

        run = grade_class(
            course, module, jobs=args.jobs, force=args.force, only=only, on_done=on_done
        )
    scores = course.scores(module)
    table = Table(
        title=f"{module.assignment}: {len(run.graded)} graded, {len(run.skipped)} unchanged"
    )
    for col in ("student", "score", "late", "tests that lost points", "needs a human"):
        table.add_column(col)
    outcomes = {o.student: o for o in run.graded}
    for student in sorted(set(outcomes) | set(run.skipped)):
        s, o = scores.get(student), outcomes.get(student)
        notes = (
            (o.flags + ([f"grading failed: {o.error}"] if not o.ok and o.error else []))
            if o
            else []
        )
        table.add_row(
            student,
            f"{s.score:g} / {s.max_score:g}" if s else "-",
            "late" if s and s.late else "",
            ", ".join(s.failed) if s else "",
            "; ".join(notes),
        )
    console.print(table)
    flags = write_flags(course, module, run)
    console.print(f"{run.seconds:.0f} s with {args.jobs} workers; flags: {flags}")
    if run.interrupted:
        console.print("[yellow]Interrupted: run the same command again to resume.")
        return 130
    if run.failures:
        console.print(f"[red]{len(run.failures)} submissions could not be graded: see the table.")
        return 1
    return 0


def cmd_release_solutions(args) -> int:
    from .publish import publish_solutions

    module = find(args.assignment, args.root)
    where = publish_solutions(args.root, module.assignment, force=args.force)
    console.print(
        f"Published solutions of {module.assignment} as {module.assignment}-solution in {where}"
    )
    console.print(f"Students: nbgrader fetch_assignment {module.assignment}-solution")
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
    p = sub.add_parser("autograde", help="autograde a class in parallel (resumable)")
    p.add_argument("assignment")
    p.add_argument("--jobs", type=int, default=2, help="grading workers (default 2)")
    p.add_argument("--force", action="store_true", help="regrade students already graded")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--root", **root)
    p.set_defaults(func=cmd_autograde)
    p = sub.add_parser(
        "release-solutions", help="publish solutions/<A> to students (after the deadline)"
    )
    p.add_argument("assignment")
    p.add_argument("--force", action="store_true", help="publish before the due date")
    p.add_argument("--root", **root)
    p.set_defaults(func=cmd_release_solutions)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
