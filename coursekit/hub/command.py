"""`coursekit hub ACTION`: what `make hub` and `make hub-stop` run, with tables for people."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console
from rich.table import Table

from ..modules import find
from . import server
from .accounts import passwords
from .environment import ensure_environment
from .layout import HubError, Instance


def people_table(instance: Instance, chosen: dict[str, str]) -> Table:
    table = Table(title=f"Log in at {instance.url}/ (instance {instance.name})")
    for column in ("account", "role", "password", "then"):
        table.add_column(column)
    for person in instance.people:
        then = (
            f"/user/{person.account}/formgrader"
            if person.role == "instructor"
            else "Nbgrader > Assignment List"
        )
        table.add_row(person.account, person.role, chosen[person.account], then)
    return table


def configured(args, repo) -> Instance:
    """The instance as saved, with what this command line changes."""
    instance = Instance.load(args.name)
    changes = {"repo": repo}
    if args.port:
        changes.update(port=args.port, proxy_api_port=args.port + 1)
    if args.students:
        changes["students"] = tuple(s.strip() for s in args.students.split(",") if s.strip())
    if args.prefix is not None:
        changes["prefix"] = args.prefix
    return replace(instance, **changes)


def run(args, console: Console) -> int:
    try:
        return _run(args, console)
    except HubError as error:
        console.print(f"[red]{error}")
        return 2


def _run(args, console: Console) -> int:
    instance = configured(args, args.root)
    if args.action == "start":
        modules = [find(m, instance.repo) for m in args.modules] if args.modules else None
        started = server.start(instance, modules, log=console.print)
        console.print(people_table(instance, started.passwords))
        console.print(
            f"Hub up in {started.seconds:.0f} s. Students: Assignments tab (fetch, validate, "
            "submit, feedback). Instructor: formgrader (release, collect, feedback); grade as "
            f"root with `coursekit hub grade ASSIGNMENT --name {instance.name}`. "
            f"Stop: make hub-stop."
        )
        return 0
    if args.action == "stop":
        server.stop(instance, log=console.print)
        return 0
    if args.action == "status":
        found = server.status(instance)
        if not found["running"]:
            console.print(f"The hub {instance.name!r} is not running (make hub starts it).")
            return 1
        console.print(people_table(instance, passwords(instance)))
        up = [name for name, ready in found["servers"].items() if ready]
        console.print(f"Running (pid {found['pid']}); servers up: {', '.join(up) or 'none'}")
        return 0
    if args.action == "grade":
        if not args.assignment:
            console.print("[red]coursekit hub grade needs the assignment (01_tensor)")
            return 2
        from .grading import grade

        return grade(instance, args.assignment, args.jobs, args.collect, args.feedback, console)
    if args.action == "env":
        server.require_root()
        console.print(f"single-user environment: {ensure_environment(instance, console.print)}")
        return 0
    server.remove(instance, log=console.print)
    return 0
