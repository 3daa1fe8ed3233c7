"""`coursekit VERB`: every instructor and TA action, one verb each (the Makefile calls these).

Every verb takes `--root COURSE` (default: this repository) and `--help`. Verbs that work
on one assignment take its name (`01_tensor`, `tensor` or `1`); `--jobs`, `--force` and
`--student` mean the same wherever they appear.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from .modules import REPO, discover, find
from .tools import put_tools_on_path

console = Console()


def _course(args):
    from .course import Course

    return Course(args.root)


# --- authoring and quality ---------------------------------------------------------------


def cmd_build(args) -> int:
    from .authoring.build import build

    console.print(f"[bold]Regenerating source/, release/, tinytorch/, solutions/ in {args.root}")
    build(args.root, root=args.root, execute_solutions=not args.no_execute, log=console.print)
    console.print("[green]done[/green]")
    return 0


def cmd_check(args) -> int:
    from .authoring.build import drift

    problems = drift(args.root)
    for p in problems:
        console.print(f"[red]{p}")
    if problems:
        console.print("Generated files are out of date: run `make release` and commit.")
        return 1
    console.print("[green]Generated files match the masters.")
    return 0


def cmd_try(args) -> int:
    from .authoring.trial import run

    return run(find(args.module, args.root), args.root, console)


def cmd_gates(args) -> int:
    from .quality.report import run_gates

    return run_gates(args.root, args.modules, survivors=args.survivors, console=console)


# --- grading and the TA's work --------------------------------------------------------------


def cmd_roster(args) -> int:
    from .ta import roster

    return roster.run(_course(args), args.csv, dry_run=args.dry_run)


def cmd_autograde(args) -> int:
    from .grading.command import run_autograde

    course = _course(args)
    module = find(args.assignment, args.root)
    return run_autograde(course, module, args.jobs, args.force, args.student, console)


def cmd_feedback(args) -> int:
    course = _course(args)
    module = find(args.assignment, args.root)
    course.nbgrader("generate_feedback", module.assignment, "--force")
    course.nbgrader("release_feedback", module.assignment)
    console.print(f"Feedback for {module.assignment} generated (hidden tests removed) and released")
    return 0


def cmd_export(args) -> int:
    from .plugins.exporters import EXPORTERS

    course = _course(args)
    out = args.out or course.gradebook_dir
    for fmt in args.format:
        plugin, filename = EXPORTERS[fmt]
        target = Path(out) / filename
        course.nbgrader("export", f"--exporter={plugin}", f"--to={target}")
        console.print(f"{fmt}: {target}")
    return 0


def cmd_report(args) -> int:
    from .ta import report

    # Any assignment in the gradebook has a report, a course module or not.
    known = {m.assignment: m for m in discover(args.root)}
    name = find(args.assignment, args.root).assignment if known else args.assignment
    return report.run(_course(args), name, args.out)


def cmd_release_solutions(args) -> int:
    from .ta.solutions import publish_solutions

    module = find(args.assignment, args.root)
    where = publish_solutions(args.root, module.assignment, force=args.force)
    console.print(
        f"Published solutions of {module.assignment} as {module.assignment}-solution in {where}"
    )
    console.print(f"Students: nbgrader fetch_assignment {module.assignment}-solution")
    return 0


def cmd_demo(args) -> int:
    from .simulation.demo import main

    return main(args.module)


def cmd_hub(args) -> int:
    from .hub.command import run

    return run(args, console)


def cmd_bench(args) -> int:
    import importlib

    bench = importlib.import_module(f".bench.{args.which}", __package__)
    return bench.main(args.options)


# --- the parser ---------------------------------------------------------------------------


def default_root() -> Path:
    """The current folder when it holds a course (as nbgrader does), else this repository."""
    here = Path.cwd()
    return here if (here / "nbgrader_config.py").is_file() else REPO


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="coursekit", description=__doc__.split("\n")[0])
    verbs = top.add_subparsers(dest="command", required=True, metavar="VERB")

    def verb(name: str, func, help: str) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=help, description=help)
        p.add_argument(
            "--root",
            type=Path,
            default=default_root(),
            help="the course folder (nbgrader_config.py, masters/); default: the current "
            "folder when it is a course, else this repository",
        )
        p.set_defaults(func=func)
        return p

    def assignment(p: argparse.ArgumentParser) -> None:
        p.add_argument("assignment", help="module: 01_tensor, tensor or 1")

    p = verb("build", cmd_build, "regenerate source/, release/, tinytorch/, solutions/")
    p.add_argument("--no-execute", action="store_true", help="do not execute solution notebooks")
    verb("check", cmd_check, "fail when a generated file differs from what the masters make")
    p = verb("try", cmd_try, "run a master's cells, hidden tests included, as grading will")
    p.add_argument("module", help="module: 01_tensor, tensor or 1")
    p = verb("gates", cmd_gates, "integrity gates per module, with a table")
    p.add_argument("modules", nargs="*", help="modules to gate (default: all)")
    p.add_argument("--survivors", action="store_true", help="list the mutants no test kills")

    p = verb("roster", cmd_roster, "create or update students from a Canvas gradebook export")
    p.add_argument("csv", type=Path, help="the CSV from Canvas: Grades > Export")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p = verb("autograde", cmd_autograde, "grade a class: intake, contained workers, resumable")
    assignment(p)
    p.add_argument("--jobs", type=int, default=2, help="grading workers (default 2)")
    p.add_argument("--force", action="store_true", help="regrade students already graded")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p = verb("feedback", cmd_feedback, "feedback without hidden tests, released to students")
    assignment(p)
    p = verb("export", cmd_export, "grades for the LMS: Canvas import CSV and a plain CSV")
    p.add_argument(
        "--format",
        action="append",
        choices=("canvas", "plain", "moodle"),
        help="repeatable (default: canvas and plain)",
    )
    p.add_argument("--out", type=Path, help="folder for the files (default: gradebook/)")
    p = verb("report", cmd_report, "TA report: totals, test pass rates, histogram, HTML")
    assignment(p)
    p.add_argument("--out", type=Path, help="folder (default: gradebook/reports/<assignment>)")
    p = verb("release-solutions", cmd_release_solutions, "after the deadline: publish solutions")
    assignment(p)
    p.add_argument("--force", action="store_true", help="publish before the due date")

    p = verb("demo", cmd_demo, "a simulated class through the whole pipeline")
    p.add_argument("--module", default="01_tensor", help="module to simulate (default 01_tensor)")
    p = verb("hub", cmd_hub, "the course on a local JupyterHub (coursekit/hub/)")
    p.add_argument(
        "action",
        choices=("start", "stop", "status", "grade", "env", "remove"),
        help="start (make hub), stop (make hub-stop), status, grade ASSIGNMENT (as root), "
        "env (build the servers' Python environment: make setup does), remove (stop, delete "
        "the instance's accounts and folder)",
    )
    p.add_argument("assignment", nargs="?", help="grade: the module to grade (01_tensor)")
    p.add_argument("--name", default="demo", help="the hub instance (default demo)")
    p.add_argument("--port", type=int, help="start: the hub's port (default 8000; +1 and 8081)")
    p.add_argument("--students", help="start: comma-separated student accounts")
    p.add_argument("--prefix", help="start: put before every account name")
    p.add_argument("--modules", nargs="*", help="start: the modules of the course copy")
    p.add_argument("--jobs", type=int, default=2, help="grade: grading workers (default 2)")
    p.add_argument("--collect", action="store_true", help="grade: nbgrader collect first")
    p.add_argument("--feedback", action="store_true", help="grade: then generate and release")
    p = verb("bench", cmd_bench, "benchmarks: grading, training, conv or tokenizer (bench X -h)")
    p.add_argument("which", choices=("grading", "training", "conv", "tokenizer"))
    p.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "format", "x") is None:
        args.format = ["canvas", "plain"]
    put_tools_on_path()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
