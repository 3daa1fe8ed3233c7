"""Every command the three guides show runs, and does what the guide says.

Commands are the `$ ` lines of the guides' ```console blocks. Each guide must show exactly
the commands this harness knows (EXPECTED), so a guide cannot gain a command nobody runs or
lose one the issue asks for. Inline mentions such as `tito test 01_tensor --verbose` must be
a shown command, a leading part of one, or a variant this harness also runs (INLINE).

Where each command runs:
- student commands: `python -m tito ...` / `python -m nbgrader ...` in a fresh home folder
  (HOME and USER set, and the two variables the hub's spawner sets as the instructor guide
  shows them), against a scratch course's exchange. Nothing else configures the student:
  `tito setup --write` must write what nbgrader needs. The student is the current OS user,
  since nbgrader's `submit` takes the id from the login;
- Make targets: the real Makefile, run for real inside the scratch course (`make -C`; the
  course's commands work on the folder they run in), except the ones in DRY_RUN, which are
  only dry-run (`make -n`) against the real Makefile, checking the recipe runs the expected
  command, each with the reason;
- `make check` and `make help` run for real in the repository.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import os
import pwd
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from coursekit.course import Course
from coursekit.grading.flags import load as load_flags
from coursekit.modules import REPO
from coursekit.simulation.students import Student, StudentHome, write_roster
from coursekit.tools import tool_env, write_notebook
from tests.e2e.test_student_path import by_number, released_course, solved, student_env
from tito import exchange, export

DOCS = REPO / "docs"
GUIDES = {
    "student": DOCS / "student-guide.md",
    "instructor": DOCS / "instructor-guide.md",
    "ta": DOCS / "ta-guide.md",
}
EXPECTED = {
    "student": {
        "tito setup --write",
        "nbgrader fetch_assignment 01_tensor",
        "tito test 01_tensor",
        "tito export 01_tensor",
        "tito status",
        "tito milestone",
        "tito milestone perceptron",
        "nbgrader submit 01_tensor",
        "nbgrader fetch_assignment 01_tensor-solution",
        "tito install-solution 01_tensor",
    },
    "instructor": {
        "make release",
        "make check",
        "make gates",
        "make test",
        "make schedule",
        "make release-solutions ASSIGNMENT=01_tensor",
    },
    "ta": {
        "make schedule",
        "make roster CSV=canvas_export.csv",
        "make release-assignment ASSIGNMENT=01_tensor",
        "make collect ASSIGNMENT=01_tensor",
        "make autograde ASSIGNMENT=01_tensor JOBS=2",
        "make report ASSIGNMENT=01_tensor",
        "make flags ASSIGNMENT=01_tensor",
        "make feedback ASSIGNMENT=01_tensor",
        "make export",
        "make release-solutions ASSIGNMENT=01_tensor",
    },
}
# Inline variants the guides mention; each one is run too (or dry-run: DRY_RUN).
INLINE = {
    "tito --help",
    "tito test --help",
    "tito test 01_tensor --verbose",
    "nbgrader fetch_feedback 01_tensor",
    "coursekit try 01_tensor",
    "make setup",
    "make help",
    "coursekit roster canvas_export.csv --dry-run",
    'make gates MODULES="01 05"',
    "coursekit gates 01 05",
    "make autograde ASSIGNMENT=01_tensor FORCE=1",
    "make flags ASSIGNMENT=01_tensor CLEAR=ada",
    'make export MODULES="01 02"',
    "make release-solutions ASSIGNMENT=01_tensor FORCE=1",
    "make bench-grading STUDENTS=40 SCALE=10",
}
# Only dry-run checked (`make -n` on the real Makefile), with the reason, and what the
# recipe must contain:
DRY_RUN = {
    # rebuilds every generated file of the repository (minutes; drift is what `make check`
    # catches, and it runs for real below)
    "make release": ["-m coursekit build"],
    # the gates grade hundreds of mutants per module: tests/quality/test_integrity.py runs them
    "make gates": ["-m coursekit gates"],
    'make gates MODULES="01 05"': ["-m coursekit gates 01 05"],
    # the whole suite, this file included
    "make test": ["-m pytest"],
    # would recreate .venv
    "make setup": ["scripts/setup.sh"],
    # regrades the whole class: the scenario's second grading run shows the resume rules
    "make autograde ASSIGNMENT=01_tensor FORCE=1": ["-m coursekit autograde 01_tensor", "--force"],
    # the scenario clears another student's flags for real (CLEAR=grace)
    "make flags ASSIGNMENT=01_tensor CLEAR=ada": ["-m coursekit flags 01_tensor --clear ada"],
    # the scratch course has Module 01 only; tests/ta/test_export.py chooses modules for real
    'make export MODULES="01 02"': ["-m coursekit export 01 02"],
    # grades a class of 40 three ways, then on 1..cores Dask workers (minutes of timing):
    # tests/e2e/test_grading_cluster.py runs the same modes on a few students
    "make bench-grading STUDENTS=40 SCALE=10": [
        "-m coursekit bench grading --students 40",
        "--baseline --scale 10",
    ],
}
# coursekit commands the guides mention as the spelling of a make target: parsed by the
# command line and checked to mean what the target runs.
PARSED = {"coursekit gates 01 05": ["gates", "01", "05"]}
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
PYTHON = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
MENTION = re.compile(r"`((?:tito|nbgrader|make|python|coursekit) [^`]+)`")


def commands(guide: Path) -> list[str]:
    """The `$ ` lines of a guide's console blocks, in order."""
    return [
        line[2:].strip()
        for block in CONSOLE.findall(guide.read_text())
        for line in block.splitlines()
        if line.startswith("$ ")
    ]


def mentions(guide: Path) -> list[str]:
    """Command-like inline code spans outside fenced blocks (one space between words, also
    where the text wraps inside a span)."""
    return [" ".join(m.split()) for m in MENTION.findall(FENCED.sub("", guide.read_text()))]


def shown() -> set[str]:
    return {c for guide in GUIDES.values() for c in commands(guide)}


# --- what the guides show ------------------------------------------------------------------


@pytest.mark.parametrize("guide", sorted(GUIDES))
def test_guide_shows_exactly_the_commands_the_harness_runs(guide):
    found = commands(GUIDES[guide])
    assert found, f"{guide} guide shows no command"
    assert set(found) == EXPECTED[guide]


def test_inline_mentions_are_shown_or_run():
    every = shown()
    for guide in GUIDES.values():
        for mention in mentions(guide):
            words = mention.split()
            prefix = any(c.split()[: len(words)] == words for c in every)
            assert mention in INLINE or prefix, f"{guide.name}: `{mention}` is never run"


def test_links_between_guides_resolve():
    for guide in GUIDES.values():
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", guide.read_text()):
            assert (guide.parent / target).is_file(), f"{guide.name} links to {target}"
    assert "(authoring.md)" in GUIDES["instructor"].read_text()


def test_python_blocks_are_valid_python():
    for guide in GUIDES.values():
        for block in PYTHON.findall(guide.read_text()):
            if "YOUR CODE HERE" not in block:
                ast.parse(block)


def test_instructor_and_ta_steps_are_make_targets_and_the_environment_is_named():
    """After `make setup` alone, `nbgrader` and `coursekit` are not on PATH: every step the
    instructor and TA guides show is a make target, and both guides say how to enter the
    environment for the tools themselves; that line works and finds them."""
    for name in ("instructor", "ta"):
        text = GUIDES[name].read_text()
        assert all(c.startswith("make ") for c in commands(GUIDES[name])), name
        assert "`source .venv/bin/activate`" in text, name
    found = subprocess.run(
        ["bash", "-c", "source .venv/bin/activate && command -v coursekit nbgrader tito"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert [Path(p).parent for p in found.stdout.split()] == [REPO / ".venv" / "bin"] * 3


def spawner_environment() -> dict[str, str]:
    """The `c.Spawner.environment = {...}` the instructor guide shows for JupyterHub."""
    for block in PYTHON.findall(GUIDES["instructor"].read_text()):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]).endswith(
                "Spawner.environment"
            ):
                return ast.literal_eval(node.value)
    raise AssertionError("the instructor guide shows no c.Spawner.environment")


def test_the_hub_environment_in_the_guide_is_what_tito_setup_reads():
    env = spawner_environment()
    assert env[exchange.COURSE_ENV] == Course(REPO).course_id
    assert exchange.EXCHANGE_ENV in env


# --- instructor commands -----------------------------------------------------------------


def dry_run(command: str) -> subprocess.CompletedProcess:
    """`make -n TARGET VARS` against the real Makefile: the recipe, without running it."""
    return subprocess.run(
        ["make", "-n", *shlex.split(command)[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", sorted(DRY_RUN))
def test_make_target_recipe(command):
    """Dry-run only (see DRY_RUN for why): the target exists and runs the expected command."""
    result = dry_run(command)
    assert result.returncode == 0, result.stdout + result.stderr
    for expected in DRY_RUN[command]:
        assert expected in result.stdout, f"{command}: {expected!r} not in {result.stdout!r}"


@pytest.mark.parametrize("command", sorted(PARSED))
def test_coursekit_spelling_of_a_target(command):
    from coursekit.cli import parser

    args = parser().parse_args(shlex.split(command)[1:])
    assert [args.command, *args.modules] == PARSED[command]


def test_make_help_lists_every_target_aligned():
    # as typed in a shell: under `make test` the inherited MAKELEVEL would make this a
    # sub-make, which prints "Entering directory" lines of its own
    shell = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(["make", "help"], cwd=REPO, capture_output=True, text=True, env=shell)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    targets = re.findall(r"^([a-z0-9-]+):.*## ", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert [line.split()[0] for line in lines] == targets
    columns = {len(line) - len(line[len(line.split()[0]) :].lstrip()) for line in lines}
    assert len(columns) == 1, result.stdout  # every description starts in the same column


@pytest.mark.xdist_group("nbgrader")
def test_make_check_passes():
    result = subprocess.run(
        ["make", "check"], cwd=REPO, capture_output=True, text=True, env=tool_env(), timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Generated files match the masters" in result.stdout


def test_trying_a_master_runs_every_cell_cleanly():
    result = subprocess.run(
        [sys.executable, "-m", "coursekit", "try", "01_tensor"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=tool_env(COLUMNS="200"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cells ran cleanly" in result.stdout and "test_tensor_init" in result.stdout


# --- the TA's and the student's commands, in one scratch course ----------------------------


@dataclass
class Scenario:
    course: Course
    home: StudentHome
    student: str
    ran: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    # commands that must refuse (with their reason), or other steps of the walk
    other: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def run(self, where: str, command: str, into: str = "ran") -> subprocess.CompletedProcess:
        argv = shlex.split(command)
        if where == "student":
            full = [sys.executable, "-m", argv[0], *argv[1:]]
            cwd, env = self.home.home, student_env(self.home)
        elif where == "ta":
            full, cwd, env = [sys.executable, "-m", *argv], self.course.root, tool_env()
        else:  # a Make target run for real in the scratch course
            makefile = str(REPO / "Makefile")
            full = ["make", "-f", makefile, "-C", str(self.course.root), f"PY={sys.executable}"]
            full += argv[1:]
            cwd, env = self.course.root, tool_env()
        result = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        book = getattr(self, into)
        book[command if command not in book else f"{command} (again)"] = result
        return result


def os_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


DUE_IN = dt.timedelta(days=2)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    """A module's cycle, in the guides' words: dates, enrol, release, the student's loop from
    a fresh home, submit, collect, grade, review, feedback, export, solutions (refused, then
    forced), a late student handing in the solution, grading again."""
    module = by_number(1)
    work = tmp_path_factory.mktemp("guides")
    now = dt.datetime.now(dt.UTC)
    dates = {"release": now - dt.timedelta(days=1), "due": now + DUE_IN, "canvas": "4242"}
    course = released_course(
        work / "course", [module], release=False, schedule={module.assignment: dates}
    )
    student = os_user()
    home = StudentHome(course, student, work / "homes", configured=False)  # a fresh home
    s = Scenario(course, home, student)
    people = [
        Student(student, "Ada", "Lovelace", f"{student}@example.edu", "5101"),
        Student("grace", "Grace", "Hopper, Jr.", "grace@example.edu", "5102"),
    ]
    write_roster(people, course.root / "canvas_export.csv")
    s.run("make", "make schedule")
    s.run("ta", "coursekit roster canvas_export.csv --dry-run")
    s.run("make", "make roster CSV=canvas_export.csv")
    s.run("make", "make release-assignment ASSIGNMENT=01_tensor")
    s.run("student", "nbgrader fetch_assignment 01_tensor", into="other")  # before set-up
    for command in ("tito --help", "tito test --help", "tito setup --write"):
        s.run("student", command)
    s.run("student", "nbgrader fetch_assignment 01_tensor")
    folder = s.home.home / module.assignment
    if (folder / module.notebook).exists():  # the student's work: every task solved
        write_notebook(solved(course, module), folder / module.notebook)
    step = PYTHON.findall(GUIDES["student"].read_text())
    export_step = next(block for block in step if "export_notebook" in block)
    s.ran["notebook export step"] = subprocess.run(
        [sys.executable, "-c", export_step],
        cwd=folder,
        env=student_env(s.home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    for command in (
        "tito test 01_tensor",
        "tito test 01_tensor --verbose",
        "tito export 01_tensor",
        "tito status",
        "tito milestone",
        "tito milestone perceptron",
        "nbgrader submit 01_tensor",
    ):
        s.run("student", command)
    s.run("make", "make collect ASSIGNMENT=01_tensor")
    time.sleep(1.1)  # nbgrader's timestamps have a resolution of one second
    s.run("student", "nbgrader submit 01_tensor")  # a second submission, after collect
    s.run("make", "make collect ASSIGNMENT=01_tensor")
    # Someone who is not on the roster hands in a notebook too.
    course.submit_directly("eve", module, solved(course, module), enrol=False)
    s.run("make", "make autograde ASSIGNMENT=01_tensor JOBS=2")
    s.run("make", "make report ASSIGNMENT=01_tensor")
    s.run("make", "make flags ASSIGNMENT=01_tensor")
    s.run("make", "make feedback ASSIGNMENT=01_tensor")
    s.run("student", "nbgrader fetch_feedback 01_tensor")
    s.run("make", "make export")
    # The late window is open: the solution waits, unless forced.
    s.run("make", "make release-solutions ASSIGNMENT=01_tensor", into="other")
    s.run("make", "make release-solutions ASSIGNMENT=01_tensor FORCE=1")
    s.run("student", "nbgrader fetch_assignment 01_tensor-solution")
    s.run("student", "tito install-solution 01_tensor")
    # Grace hands in the solution she fetched, a day and an hour after the due date.
    fetched = nbformat.read(s.home.home / "01_tensor-solution" / module.notebook, 4)
    late = (now + DUE_IN + dt.timedelta(days=1, hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    course.submit_directly("grace", module, fetched, timestamp=late)
    s.run("make", "make autograde ASSIGNMENT=01_tensor JOBS=2")
    s.run("make", "make flags ASSIGNMENT=01_tensor CLEAR=grace", into="other")
    s.run("make", "make flags ASSIGNMENT=01_tensor")
    return s


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.mark.xdist_group("nbgrader")
def test_every_shown_command_is_run(scenario):
    run_for_real = set(scenario.ran) | set(scenario.other)
    run_for_real |= {"make check", "make help", "coursekit try 01_tensor"}
    missing = (shown() | INLINE) - run_for_real - set(DRY_RUN) - set(PARSED)
    assert not missing, f"commands the guides show that no test runs: {missing}"
    for command, result in scenario.ran.items():
        assert result.returncode == 0, f"{command}:\n{output(result)}"


@pytest.mark.xdist_group("nbgrader")
def test_a_fresh_student_home_needs_only_tito_setup(scenario):
    """Before `tito setup --write`, nbgrader cannot fetch (the reported failure); after it,
    fetch and submit work with nothing else configured."""
    before = scenario.other["nbgrader fetch_assignment 01_tensor"]
    assert before.returncode != 0
    assert "No course id" in output(before) or "exchange" in output(before), output(before)
    config = scenario.home.home / ".jupyter" / "nbgrader_config.py"
    assert str(scenario.course.exchange) in config.read_text()
    setup = scenario.ran["tito setup --write"]
    assert "Wrote ~/.jupyter/nbgrader_config.py" in setup.stdout, output(setup)
    assert (scenario.home.home / "01_tensor" / "tensor.ipynb").is_file()
    inbound = scenario.course.exchange / "tinytorch" / "inbound"
    assert len(list(inbound.glob(f"{scenario.student}+01_tensor+*"))) == 2


@pytest.mark.xdist_group("nbgrader")
def test_ta_commands_enrol_release_collect(scenario):
    course, student = scenario.course, scenario.student
    assert "01_tensor" in scenario.ran["make schedule"].stdout
    outbound = course.exchange / "tinytorch" / "outbound" / "01_tensor" / "tensor.ipynb"
    assert outbound.is_file()
    submitted = course.root / "submitted" / student / "01_tensor"
    assert (submitted / "tensor.ipynb").is_file()
    inbound = sorted((course.exchange / "tinytorch" / "inbound").glob(f"{student}+01_tensor+*"))
    assert len(inbound) == 2  # submitted twice; the second `make collect` took the later one
    latest = (inbound[-1] / "timestamp.txt").read_text().strip()
    assert (submitted / "timestamp.txt").read_text().strip() == latest
    pages = list((course.gradebook_dir / "reports" / "01_tensor").glob("*.html"))
    assert len(pages) == 1 and "01_tensor" in pages[0].read_text()


@pytest.mark.xdist_group("nbgrader")
def test_grading_lists_who_is_not_on_the_roster_and_keeps_them_out(scenario):
    graded = scenario.ran["make autograde ASSIGNMENT=01_tensor JOBS=2"].stdout
    assert "not on the roster" in graded and "eve" in graded
    assert "eve" not in scenario.course.scores("01_tensor")
    for name in ("canvas_grades.csv", "grades.csv"):
        text = (scenario.course.gradebook_dir / name).read_text()
        assert "eve" not in text, name
    flags = scenario.ran["make flags ASSIGNMENT=01_tensor"].stdout
    assert "eve" in flags and "not on the roster" in flags


@pytest.mark.xdist_group("nbgrader")
def test_feedback_and_lms_export_in_the_scratch_course(scenario):
    course, student = scenario.course, scenario.student
    assert (course.root / "feedback" / student / "01_tensor" / "tensor.html").is_file()
    fetched = list((scenario.home.home / "01_tensor" / "feedback").rglob("tensor.html"))
    assert fetched, output(scenario.ran["nbgrader fetch_feedback 01_tensor"])
    with open(course.gradebook_dir / "canvas_grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("01_tensor (4242)")  # the Canvas id from the schedule
    by_login = {row[2]: row for row in rows[2:]}
    assert float(by_login[student][column]) == 20.0  # a full solution earns full marks
    assert by_login["grace"][column] == ""  # no submission: left blank for Canvas
    assert (course.gradebook_dir / "grades.csv").is_file()


@pytest.mark.xdist_group("nbgrader")
def test_solutions_wait_for_the_late_window_unless_forced(scenario):
    refused = scenario.other["make release-solutions ASSIGNMENT=01_tensor"]
    assert refused.returncode != 0
    assert "late submissions can earn points until" in refused.stdout, output(refused)
    assert "Traceback" not in output(refused)
    forced = scenario.ran["make release-solutions ASSIGNMENT=01_tensor FORCE=1"]
    assert "Forced:" in forced.stdout and "matches the released solution" in forced.stdout
    assert (scenario.course.published_solution("01_tensor") / "tensor.ipynb").is_file()


@pytest.mark.xdist_group("nbgrader")
def test_a_late_copy_of_the_solution_is_penalised_and_flagged_and_the_rest_resumes(scenario):
    again = scenario.ran["make autograde ASSIGNMENT=01_tensor JOBS=2 (again)"].stdout
    assert "1 graded (1 not graded before), 1 unchanged" in again, again
    grace = next(line for line in again.splitlines() if line.startswith("│ grace"))
    assert "16 / 20" in grace and "late 2 days: -4" in grace, grace
    flags = load_flags(scenario.course.gradebook_dir / "flags-01_tensor.csv")
    raised = [f.flag for f in flags if f.student == "grace"]
    assert raised[0].startswith("matches the released solution"), raised
    cleared = scenario.other["make flags ASSIGNMENT=01_tensor CLEAR=grace"]
    assert cleared.returncode == 0 and "Cleared" in cleared.stdout, output(cleared)
    remaining = scenario.ran["make flags ASSIGNMENT=01_tensor (again)"].stdout
    assert "matches the released solution" not in remaining and "eve" in remaining


@pytest.mark.xdist_group("nbgrader")
def test_student_commands_do_what_the_guide_says(scenario):
    home, ran = scenario.home.home, scenario.ran
    assert (home / ".ipython" / "profile_default" / "startup" / "00-tinytorch.py").is_file()
    assert "usage: tito" in ran["tito --help"].stdout
    assert "7/7 visible tests passed" in ran["tito test 01_tensor"].stdout
    verbose = ran["tito test 01_tensor --verbose"].stdout
    assert "--- solution cell " in verbose and "--- test cell test_tensor_init: ran" in verbose
    assert "exported 2 cells of 01_tensor" in ran["notebook export step"].stdout
    assert "01_tensor" in ran["tito status"].stdout
    assert "perceptron" in ran["tito milestone"].stdout
    assert "04_1998_cnn/cifar10.py" not in ran["tito milestone"].stdout  # a data helper
    assert "(your own package)" in ran["tito milestone perceptron"].stdout
    info = export.read_header(home / "tinytorch-package" / "tinytorch" / "core" / "tensor.py")
    assert info is not None and info.origin == "solution"
