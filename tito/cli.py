"""tito: check, export and run your TinyTorch modules (the student's command line).

Exit codes: 0 success; 1 the work is not there yet (a failing test, unfinished code, a
milestone that missed its target); 2 wrong usage or something needed first (a module not
fetched, an earlier module not exported); 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table

from . import __version__, exchange, export, kernel, milestones, notebooks, status, testing
from .errors import FAILURE, INTERRUPTED, PREREQUISITE, TitoError
from .paths import home, package_home, shown
from .ui import console, fail, ok_mark, say

EPILOG = "Run `tito COMMAND --help` for a command's options. Guide: docs/student-guide.md"


def cmd_status(args: argparse.Namespace) -> int:
    root = package_home()
    found = status.rows(home(), root)
    if not found:
        say("No modules in your home folder yet. Fetch the first one there:")
        say("  nbgrader fetch_assignment 01_tensor")
        return 0
    table = Table(title=f"TinyTorch modules in {shown(home())} (your package: {shown(root)})")
    for column in ("module", "time", "fetched", "exported", "up to date", "visible tests", "code"):
        table.add_column(column)
    for row in found:
        table.add_row(
            row.assignment, row.pace, row.fetched, row.exported, row.current, row.tests, row.code
        )
    console.print(table)
    eras = Table(title="Milestones by era (run: tito milestone NAME)")
    for column in ("era", "milestones", "needs modules", "ready"):
        eras.add_column(column, overflow="fold")
    for era in status.era_rows(root):
        eras.add_row(era.era, era.milestones, era.needs, era.ready)
    console.print(eras)
    step = status.next_step(found)
    if step:
        say(f"Next: {step}")
    return 0


def warn_copies(module: notebooks.ModuleNotebook) -> None:
    """Name the other notebooks of the module in its folder: nothing uses or grades them."""
    for copy in notebooks.copies(module.path.parent, module.assignment):
        say(
            f"warning: {shown(copy)} is another notebook of {module.assignment}: tito and "
            f"grading use {module.path.name} only, so your work in it counts for nothing.",
            "yellow",
        )


def cmd_test(args: argparse.Namespace) -> int:
    module = notebooks.own(home(), args.module)
    warn_copies(module)
    root = package_home()
    say(f"Running {shown(module.path)} with tinytorch from your package {shown(root)}")
    run = testing.run(module, root, timeout=args.timeout)
    testing.save(run)
    show_run(run, args.verbose)
    return 0 if run.ok else FAILURE


def show_run(run: testing.TestRun, verbose: bool) -> None:
    """The test table, each error with its line, where tinytorch came from, a summary."""
    for note in run.warnings:
        say(f"warning: {note}", style="yellow")
    table = Table(title=f"{run.module.assignment}: visible tests")
    for column in ("test", "result"):
        table.add_column(column)
    for cell in run.tests:
        table.add_row(cell["name"], ok_mark(cell["ok"]))
    console.print(table)
    for cell in run.cells:
        if verbose:
            state = "ran" if cell["ok"] else "raised an error"
            say(f"--- {cell['kind']} cell {cell['name']}: {state}")
            if cell["output"].strip():
                say(cell["output"].rstrip())
        if not cell["ok"]:
            where = f" (line {cell['line']})" if cell["line"] else ""
            kind = "" if cell["kind"] == "test" else f" ({cell['kind']} cell, not a test)"
            error = cell["error"]
            if error.startswith("NotImplementedError") and cell.get("task"):
                error += f" (task {cell['task']} still holds its stub: write that code first)"
            elif error.startswith("NotImplementedError"):
                error += " (a task it uses still holds its stub: write that code first)"
            say(f"{cell['name']}{kind}{where}: {error}", style="red")
    for name, file in run.imports.items():
        if file and Path(file).name != "__init__.py":  # the packages on the way are noise
            say(f"imported {name} from {shown(Path(file))}")
    summary = f"{run.passed}/{len(run.tests)} visible tests passed in {run.seconds:.1f} s."
    if run.broken:
        summary += f" {len(run.broken)} other cell(s) raised an error."
    say(summary, style="green" if run.ok else "bold red")
    if run.ok:
        say(
            f"Hidden tests run when your notebook is graded. Next: tito export {run.module.assignment}"
        )


def cmd_export(args: argparse.Namespace) -> int:
    module = notebooks.own(home(), args.module)
    warn_copies(module)
    return _report_export(module, export.write_module(module, force=args.force), "own")


def cmd_install_solution(args: argparse.Namespace) -> int:
    module = notebooks.solution(home(), args.module)
    return _report_export(module, export.write_module(module, origin="solution"), "solution")


def _report_export(module, written: list[export.Written], origin: str) -> int:
    what = "your code" if origin == "own" else "the released solution"
    for item in written:
        say(
            f"Exported {item.cells} cells of {module.assignment} ({what}) from "
            f"{shown(module.path)} to {shown(item.path)}",
            style="green",
        )
        if item.unfinished:
            say(f"warning: unfinished tasks exported: {', '.join(item.unfinished)}", "yellow")
        if item.backup:
            say(f"Your previous export is kept in {shown(item.backup)}")
        say(f"Later modules and milestones now import {item.package} from your package.")
    return 0


def cmd_milestone(args: argparse.Namespace) -> int:
    root = package_home()
    if not args.name:
        table = Table(title=f"Milestones (run: tito milestone NAME), on {shown(root)}")
        for column in ("name", "script", "needs", "ready"):
            table.add_column(column, overflow="fold")
        for m in milestones.discover():
            needs = ", ".join(r.package.removeprefix("tinytorch.") for r in m.requires) or "-"
            problems = milestones.problems(m, root, imports=False)
            table.add_row(m.name, m.relative, needs, "yes" if not problems else "no")
        console.print(table)
        return 0
    milestone = milestones.find(args.name)
    say(f"Milestone {milestone.name} ({milestone.relative}): {milestone.summary}")
    say(f"Running on your package {shown(root)}")
    extra = ["--seed", str(args.seed)] if args.seed is not None else []
    extra += ["--plot"] if args.plot else []
    sys.stdout.flush()
    code = milestones.run(milestone, root, [*extra, *args.script_args])
    if code == 0:
        say(f"{milestone.name}: the historical result appeared on your tinytorch.", "green")
    elif code == FAILURE:
        say(f"{milestone.name}: the result missed its target (see the table above).", "red")
    elif code == INTERRUPTED:
        say(f"{milestone.name}: stopped by Ctrl-C before its result could be judged.", "yellow")
    return code


def cmd_setup(args: argparse.Namespace) -> int:
    root = package_home()
    path = kernel.startup_file()
    say(f"Your package root: {shown(root)} (set TINYTORCH_HOME to change it)")
    say(f"Your Jupyter kernels import it through the IPython startup file {shown(path)}:")
    say("  " + kernel.startup_code(root).splitlines()[1])
    if args.write:
        kernel.write(root)
        say(f"Wrote {shown(path)}. Restart your notebook's kernel to use it.", "green")
    elif kernel.is_set_up(root):
        say("It is in place.", "green")
    else:
        say("Not written yet: run tito setup --write, then restart your kernel.", "yellow")
    return _setup_nbgrader(args.write)


def _setup_nbgrader(write: bool) -> int:
    """The student's nbgrader configuration: the course id and the exchange."""
    wanted, path = exchange.settings(), exchange.config_file()
    if wanted.exchange is None:
        say(
            f"nbgrader: the course's exchange is not known here ({exchange.EXCHANGE_ENV} is not "
            "set). On the course's JupyterHub it is set for you; elsewhere ask your instructor "
            f"for the exchange folder and run: export {exchange.EXCHANGE_ENV}=FOLDER",
            "yellow",
        )
        return PREREQUISITE
    say(
        f"nbgrader fetches and submits course {wanted.course_id} through the exchange "
        f"{wanted.exchange}, as {shown(path)} says:"
    )
    for line in wanted.text().splitlines()[2:]:
        say("  " + line)
    if not wanted.exchange.is_dir():
        say(f"warning: {wanted.exchange} does not exist yet: ask your instructor.", "yellow")
    if exchange.is_set_up(wanted):
        say("It is in place.", "green")
    elif path.exists() and not exchange.written_by_tito(path):
        say(
            f"{shown(path)} exists and was not written by tito, so it is left as it is: add "
            "the two lines above to it.",
            "yellow",
        )
        return PREREQUISITE if write else 0
    elif write:
        exchange.write(wanted, path)
        say(f"Wrote {shown(path)}. Fetch a module: nbgrader fetch_assignment 01_tensor", "green")
    else:
        say("Not written yet: run tito setup --write.", "yellow")
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="tito",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main_parser.add_argument("--version", action="version", version=f"tito {__version__}")
    sub = main_parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func, help: str, description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description)
        p.set_defaults(func=func)
        return p

    command(
        "status",
        cmd_status,
        "your modules: fetched, exported, tested",
        "A table of the modules in your home folder: fetched?, exported to your package "
        "(and up to date with the notebook)?, visible tests passing at the last `tito "
        "test`?, your own code or the released solution?",
    )
    p = command(
        "test",
        cmd_test,
        "run a module's visible tests outside Jupyter",
        "Run the code cells of ~/NN_name/name.ipynb in order, up to the last test "
        "cell, with tinytorch from your package, and report every test cell. Reads "
        "the saved notebook. Exit 1 when a test fails.",
    )
    p.add_argument("module", help="the module, e.g. 01_tensor")
    p.add_argument(
        "--timeout",
        type=float,
        default=testing.DEFAULT_TIMEOUT,
        help="seconds before the run is stopped (default %(default)g)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show what each cell printed")
    p = command(
        "export",
        cmd_export,
        "write a module's code into your tinytorch package",
        "Write the export cells of ~/NN_name/name.ipynb into your package "
        "($TINYTORCH_HOME, default ~/tinytorch-package). Refuses while a task still "
        "holds its stub, unless --force.",
    )
    p.add_argument("module", help="the module, e.g. 01_tensor")
    p.add_argument("--force", action="store_true", help="export even with unfinished tasks")
    p = command(
        "install-solution",
        cmd_install_solution,
        "put a module's released solution into your package",
        "After your instructor released a module's solution and you fetched it "
        "(nbgrader fetch_assignment NN_name-solution), export the solution's code "
        "into your package instead of yours, so later modules work.",
    )
    p.add_argument("module", help="the module, e.g. 02_activations")
    p = command(
        "milestone",
        cmd_milestone,
        "run a historical milestone on your tinytorch",
        "Run a milestone script on your own package. Without NAME, list them. Exit 2 "
        "when a module it needs is missing or unfinished in your package.",
    )
    p.add_argument("name", nargs="?", help="e.g. perceptron, perceptron-forward, xor-crisis")
    p.add_argument("--seed", type=int, help="random seed passed to the script")
    p.add_argument("--plot", action="store_true", help="draw the ASCII decision plot")
    p.add_argument("script_args", nargs="*", help="further options for the script, after --")
    p = command(
        "setup",
        cmd_setup,
        "set up your kernels and nbgrader for the course",
        "Show (and with --write, write) the IPython startup file that puts your "
        "package first on sys.path in every kernel, and your nbgrader configuration "
        "(~/.jupyter/nbgrader_config.py: the course id and the exchange folder, from "
        "TINYTORCH_COURSE_ID and TINYTORCH_EXCHANGE, which JupyterHub sets), without which "
        "nbgrader fetch_assignment and submit fail.",
    )
    p.add_argument("--write", action="store_true", help="write both files")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tito` command; returns the exit code."""
    main_parser = parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after `--` goes to the milestone script untouched. Split here: argparse
    # rejects `tito milestone NAME --seed 1 -- --epochs 2` (the positional list is already
    # filled, empty, when it meets `--`).
    passed: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, passed = argv[:at], argv[at + 1 :]
    args = main_parser.parse_args(argv)
    if passed:
        if getattr(args, "command", None) != "milestone":
            main_parser.error("only `tito milestone NAME -- OPTIONS` passes options after --")
        args.script_args = [*args.script_args, *passed]
    if not getattr(args, "func", None):
        main_parser.print_help()
        return PREREQUISITE
    try:
        return args.func(args)
    except TitoError as error:
        fail(error.message)
        return error.code
    except KeyboardInterrupt:
        return INTERRUPTED
