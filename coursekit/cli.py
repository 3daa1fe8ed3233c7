"""`coursekit VERB`: every instructor and TA action, one verb each (the Makefile calls these).

Every verb takes `--root COURSE` (default: this repository) and `--help`. Verbs that work
on one assignment take its name (`01_tensor`, `tensor` or `1`); `--jobs`, `--force` and
`--student` mean the same wherever they appear.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.markup import escape

from .modules import REPO, discover, find
from .schedule import Refused, ScheduleError
from .tools import output_console, put_tools_on_path

console = output_console()


def _course(args):
    from .course import Course

    return Course(args.root)


# --- authoring and quality ---------------------------------------------------------------


def cmd_build(args) -> int:
    from .authoring.build import build

    console.print(
        f"[bold]Regenerating source/, release/, tinytorch/, solutions/, otter/ in {args.root}"
    )
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


def cmd_otter(args) -> int:
    from .otter import commands

    return commands.run(args, console)


# --- grading and the TA's work --------------------------------------------------------------


def cmd_roster(args) -> int:
    from .ta import roster

    return roster.run(_course(args), args.csv, dry_run=args.dry_run)


def cmd_autograde(args) -> int:
    from .grading.command import run_autograde

    course = _course(args)
    module = find(args.assignment, args.root)
    return run_autograde(
        course, module, args.jobs, args.force, args.student, console, cluster=args.cluster
    )


def cmd_feedback(args) -> int:
    course = _course(args)
    module = find(args.assignment, args.root)
    course.nbgrader("generate_feedback", module.assignment, "--force")
    course.nbgrader("release_feedback", module.assignment)
    console.print(f"Feedback for {module.assignment} generated (hidden tests removed) and released")
    return 0


def cmd_export(args) -> int:
    from .ta import export

    course = _course(args)
    if args.modules:
        modules = [find(name, args.root) for name in args.modules]
    else:
        modules = export.exported_modules(course, discover(args.root))
    return export.run(course, modules, args.format, args.out, console)


def cmd_report(args) -> int:
    from .ta import report

    # Any assignment in the gradebook has a report, a course module or not.
    known = {m.assignment: m for m in discover(args.root)}
    name = find(args.assignment, args.root).assignment if known else args.assignment
    return report.run(_course(args), name, args.out)


def cmd_release_solutions(args) -> int:
    from .ta.solutions import FORCING, publish_solutions, too_early

    course = _course(args)
    module = find(args.assignment, args.root)
    reason = too_early(course, module.assignment) if args.force else None
    if reason:
        console.print(f"[yellow]Forced: {escape(reason)}")
        console.print(f"[yellow]{escape(FORCING.format(a=module.assignment))}")
    where = publish_solutions(args.root, module.assignment, force=args.force)
    console.print(
        f"Published solutions of {module.assignment} as {module.assignment}-solution in {where}"
    )
    console.print(f"Students: nbgrader fetch_assignment {module.assignment}-solution")
    return 0


def cmd_release_assignment(args) -> int:
    from .ta.release import release_assignment

    course = _course(args)
    module = find(args.assignment, args.root)
    again = release_assignment(course, module, force=args.force)
    due = course.schedule.local(course.due(module))
    verb = "Released again (students who fetched it keep their copy)" if again else "Released"
    console.print(
        f"{verb}: {module.assignment}, due {due}, in {course.outbound(module.assignment)}"
    )
    console.print(f"Students: nbgrader fetch_assignment {module.assignment}")
    return 0


def cmd_collect(args) -> int:
    course = _course(args)
    module = find(args.assignment, args.root)
    log = course.nbgrader("collect", module.assignment, "--update")
    collected = sorted(
        {
            line.split("Collecting submission:")[1].split()[0]
            for line in log.splitlines()
            if "Collecting submission:" in line
        }
    )
    console.print(
        f"{module.assignment}: collected {len(collected)} new or newer submission(s)"
        + (f": {', '.join(collected)}" if collected else "")
        + f" into {course.folder('submitted')}/<student>/{module.assignment}/"
    )
    return 0


def cmd_schedule(args) -> int:
    from .ta.release import schedule_table

    course = _course(args)
    table, problems = schedule_table(course, discover(args.root))
    console.print(table)
    for problem in problems:
        console.print(f"[yellow]{escape(problem)}")
    return 0


def cmd_flags(args) -> int:
    import getpass

    from .grading.command import run_flags

    course = _course(args)
    module = find(args.assignment, args.root)
    who = args.by or getpass.getuser()
    return run_flags(course, module, args.clear, args.all, who, console)


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

    p = verb("build", cmd_build, "regenerate source/, release/, tinytorch/, solutions/, otter/")
    p.add_argument(
        "--no-execute", action="store_true", help="skip running each solution as a check"
    )
    verb("check", cmd_check, "fail when a generated file differs from what the masters make")
    p = verb("try", cmd_try, "run a master's cells, hidden tests included, as grading will")
    p.add_argument("module", help="module: 01_tensor, tensor or 1")
    p = verb("gates", cmd_gates, "integrity gates per module, with a table")
    p.add_argument("modules", nargs="*", help="modules to gate (default: all)")
    p.add_argument("--survivors", action="store_true", help="list the mutants no test kills")

    p = verb("otter", cmd_otter, "otter-grader and Gradescope: build, gates, grade (otter X -h)")
    p.add_argument("action", choices=("build", "gates", "grade"))
    p.add_argument(
        "modules", nargs="*", help="build, gates: modules (default: all); grade: one module"
    )
    p.add_argument(
        "--submissions",
        type=Path,
        help="grade: folder of <student>/<assignment>/ submissions (default: otter-submitted/)",
    )

    p = verb("roster", cmd_roster, "create or update students from a Canvas gradebook export")
    p.add_argument("csv", type=Path, help="the CSV from Canvas: Grades > Export")
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    verb("schedule", cmd_schedule, "each module's release and due dates, and where it stands")
    p = verb(
        "release-assignment",
        cmd_release_assignment,
        "put a module in the exchange for students, once its release date has come",
    )
    assignment(p)
    p.add_argument(
        "--force", action="store_true", help="release before the release date or without a due date"
    )
    p = verb("collect", cmd_collect, "copy every student's latest submission into submitted/")
    assignment(p)
    p = verb(
        "autograde",
        cmd_autograde,
        "grade a class: intake, contained workers, resumable; regrades when the submission, "
        "the tests or the due date changed",
    )
    assignment(p)
    p.add_argument("--jobs", type=int, default=2, help="grading workers (default 2)")
    p.add_argument("--force", action="store_true", help="regrade every student, changed or not")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="grade on Dask: 'local' (a LocalCluster of --jobs workers) or a scheduler "
        "address such as tcp://10.0.0.5:8786 (workers need the course on shared storage)",
    )
    p = verb("flags", cmd_flags, "what needs a human on an assignment; --clear once you looked")
    assignment(p)
    p.add_argument("--clear", metavar="STUDENT", help="clear this student's open flags")
    p.add_argument("--by", help="who clears them (default: your login)")
    p.add_argument("--all", action="store_true", help="also list cleared flags")
    p = verb("feedback", cmd_feedback, "feedback without hidden tests, released to students")
    assignment(p)
    p = verb(
        "export",
        cmd_export,
        "grades for the LMS (Canvas import CSV and a plain CSV) of the released or graded modules",
    )
    p.add_argument(
        "modules", nargs="*", help="modules to export (default: the released or graded ones)"
    )
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
    p = verb(
        "release-solutions",
        cmd_release_solutions,
        "publish a module's solution once its late window (due date, grace, late days) closed",
    )
    assignment(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="publish now: late students still in the window could copy it (their "
        "submissions are flagged 'matches the released solution')",
    )

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
    p = verb(
        "bench",
        cmd_bench,
        "benchmarks: grading, training, conv, tokenizer, transformer, generation or "
        "acceleration (-h)",
    )
    p.add_argument(
        "which",
        choices=(
            "grading",
            "training",
            "conv",
            "tokenizer",
            "transformer",
            "generation",
            "acceleration",
        ),
    )
    p.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "format", "x") is None:
        args.format = ["canvas", "plain"]
    put_tools_on_path()
    try:
        return args.func(args)
    except (Refused, ScheduleError, FileNotFoundError) as why:
        console.print(f"[red]{escape(str(why))}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
