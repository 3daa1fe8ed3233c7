"""Every command the three guides show runs, and does what the guide says.

Commands are the `$ ` lines of the guides' ```console blocks. Each guide must show exactly
the commands this harness knows (EXPECTED), so a guide cannot gain a command nobody runs or
lose one the issue asks for. Inline mentions such as `tito test 01_tensor --verbose` must be
a shown command, a leading part of one, or a variant this harness also runs (INLINE).

Where each command runs:
- student commands: `python -m tito ...` / `python -m nbgrader ...` in a simulated student's
  home (HOME and USER set, as on JupyterHub), against a scratch course's exchange. The
  student is the current OS user, since nbgrader's `submit` takes the id from the login;
- TA nbgrader commands: in the scratch course's root;
- Make targets that only touch their working folder (`make feedback`, `make export`): the
  real Makefile, run for real inside the scratch course (`make -C`);
- the other Make targets: only dry-run (`make -n`) against the real Makefile, checking the
  recipe runs the expected command; see DRY_RUN for which ones and why. Where a recipe's
  command can be pointed at another course (`coursekit autograde --root`,
  `coursekit report --root`), that command also runs on the scratch course;
- `make check` runs for real in the repository.
"""

from __future__ import annotations

import ast
import csv
import os
import pwd
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coursekit.course import Course
from coursekit.modules import REPO
from coursekit.simulation.students import Student, StudentHome, write_roster
from coursekit.ta.solutions import publish_solutions
from coursekit.tools import tool_env, write_notebook
from tests.e2e.test_student_path import by_number, released_course, solved, student_env
from tito import export

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
        "make release-solutions ASSIGNMENT=01_tensor",
    },
    "ta": {
        "make roster CSV=canvas_export.csv",
        "nbgrader release_assignment 01_tensor",
        "nbgrader collect 01_tensor",
        "make autograde ASSIGNMENT=01_tensor JOBS=2",
        "make report ASSIGNMENT=01_tensor",
        "make feedback ASSIGNMENT=01_tensor",
        "make export",
        "make release-solutions ASSIGNMENT=01_tensor",
    },
}
# Inline variants the guides mention; each one is run too.
INLINE = {
    "tito --help",
    "tito test --help",
    "tito test 01_tensor --verbose",
    "nbgrader fetch_feedback 01_tensor",
    "nbgrader collect 01_tensor --update",
    "nbgrader release_assignment 01_tensor --force",
    "coursekit try 01_tensor",
    "make setup",
    "coursekit roster canvas_export.csv --dry-run",
}
# Only dry-run checked (`make -n` on the real Makefile), with the reason, and what the
# recipe must contain:
DRY_RUN = {
    # rebuilds every generated file of the repository (minutes; drift is what `make check`
    # catches, and it runs for real below)
    "make release": ["-m coursekit build"],
    # the gates grade hundreds of mutants per module: tests/test_integrity.py runs them
    "make gates": ["-m coursekit gates"],
    # the whole suite, this file included
    "make test": ["-m pytest"],
    # would recreate .venv
    "make setup": ["scripts/setup.sh"],
    # grades the repository's own submitted/ (the recipe passes no course root); the
    # scenario runs the same command with --root on the scratch course
    "make autograde ASSIGNMENT=01_tensor JOBS=2": ["-m coursekit autograde 01_tensor --jobs 2"],
    # reads and writes the repository's gradebook/; the scenario runs the same command with
    # --root on the scratch course
    "make report ASSIGNMENT=01_tensor": ["-m coursekit report 01_tensor"],
    # would publish to the real exchange; the scenario calls the function the command runs
    # (coursekit.ta.solutions.publish_solutions) on the scratch course
    "make release-solutions ASSIGNMENT=01_tensor": ["-m coursekit release-solutions 01_tensor"],
}
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
    """Command-like inline code spans outside fenced blocks."""
    return MENTION.findall(FENCED.sub("", guide.read_text()))


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
    outbound: Path | None = None  # the published solution in the exchange

    def run(self, where: str, command: str) -> subprocess.CompletedProcess:
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
        self.ran[command if command not in self.ran else f"{command} (again)"] = result
        return result


def course_tool(module: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m <module> ARGS`: a command a Make recipe runs, with its own arguments."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )


def os_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    """A module's cycle, in the guides' words: enrol, release, the student's loop, submit,
    collect, grade, feedback, export, solutions, install-solution."""
    module = by_number(1)
    work = tmp_path_factory.mktemp("guides")
    course = released_course(work / "course", [module], release=False)  # the TA releases it
    student = os_user()
    s = Scenario(course, StudentHome(course, student, work / "homes"), student)
    people = [
        Student(student, "Ada", "Lovelace", f"{student}@example.edu", "5101"),
        Student("grace", "Grace", "Hopper, Jr.", "grace@example.edu", "5102"),
    ]
    write_roster(people, course.root / "canvas_export.csv")
    s.run("ta", "coursekit roster canvas_export.csv --dry-run")
    s.run("make", "make roster CSV=canvas_export.csv")
    s.run("ta", "nbgrader release_assignment 01_tensor")
    s.run("ta", "nbgrader release_assignment 01_tensor --force")
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
    s.run("ta", "nbgrader collect 01_tensor")
    time.sleep(1.1)  # nbgrader's timestamps have a resolution of one second
    s.run("student", "nbgrader submit 01_tensor")  # a second submission, after collect
    s.run("ta", "nbgrader collect 01_tensor --update")
    # `make autograde` and `make report` are dry-run checked (DRY_RUN); their recipes'
    # commands run here on the scratch course, so feedback and exports have grades.
    root = str(course.root)
    s.ran["grading"] = course_tool(
        "coursekit", "autograde", "01_tensor", "--jobs", "2", "--root", root
    )
    s.ran["report"] = course_tool(
        "coursekit", "report", "01_tensor", "--root", root, "--out", f"{root}/reports"
    )
    s.run("make", "make feedback ASSIGNMENT=01_tensor")
    s.run("student", "nbgrader fetch_feedback 01_tensor")
    s.run("make", "make export")
    # `make release-solutions` is dry-run checked; here is the function its recipe calls.
    s.outbound = publish_solutions(course.root, module.assignment)
    s.run("student", "nbgrader fetch_assignment 01_tensor-solution")
    s.run("student", "tito install-solution 01_tensor")
    return s


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.mark.xdist_group("nbgrader")
def test_every_shown_command_is_run(scenario):
    run_for_real = set(scenario.ran) | {"make check"} | {"coursekit try 01_tensor"}
    missing = (shown() | INLINE) - run_for_real - set(DRY_RUN)
    assert not missing, f"commands the guides show that no test runs: {missing}"
    for command, result in scenario.ran.items():
        assert result.returncode == 0, f"{command}:\n{output(result)}"


@pytest.mark.xdist_group("nbgrader")
def test_ta_commands_enrol_release_collect(scenario):
    course, student = scenario.course, scenario.student
    outbound = course.exchange / "tinytorch" / "outbound" / "01_tensor" / "tensor.ipynb"
    assert outbound.is_file()
    submitted = course.root / "submitted" / student / "01_tensor"
    assert (submitted / "tensor.ipynb").is_file()
    inbound = sorted((course.exchange / "tinytorch" / "inbound").glob(f"{student}+01_tensor+*"))
    assert len(inbound) == 2  # submitted twice; `collect --update` took the later one
    latest = (inbound[-1] / "timestamp.txt").read_text().strip()
    assert (submitted / "timestamp.txt").read_text().strip() == latest
    assert "grading" in scenario.ran and scenario.ran["grading"].returncode == 0
    report = scenario.ran["report"]
    assert report.returncode == 0, output(report)
    pages = list((course.root / "reports").glob("*.html"))
    assert len(pages) == 1 and "01_tensor" in pages[0].read_text()


@pytest.mark.xdist_group("nbgrader")
def test_feedback_and_lms_export_in_the_scratch_course(scenario):
    course, student = scenario.course, scenario.student
    assert (course.root / "feedback" / student / "01_tensor" / "tensor.html").is_file()
    fetched = list((scenario.home.home / "01_tensor" / "feedback").rglob("tensor.html"))
    assert fetched, output(scenario.ran["nbgrader fetch_feedback 01_tensor"])
    with open(course.root / "gradebook" / "canvas_grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("01_tensor")
    by_login = {row[2]: row for row in rows[2:]}
    assert float(by_login[student][column]) == 20.0  # a full solution earns full marks
    assert by_login["grace"][column] == ""  # no submission: left blank for Canvas
    assert (course.root / "gradebook" / "grades.csv").is_file()


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
    assert "(your own package)" in ran["tito milestone perceptron"].stdout
    inbound = scenario.course.exchange / "tinytorch" / "inbound"
    assert list(inbound.glob(f"{scenario.student}+01_tensor+*"))
    info = export.read_header(home / "tinytorch-package" / "tinytorch" / "core" / "tensor.py")
    assert info is not None and info.origin == "solution"
    assert (scenario.outbound / "tensor.ipynb").is_file()
