"""The integrity gates of a module under otter-grader, through otter's own local grading.

For each module (`coursekit otter gates`, `make otter-gates`, and tests/otter in CI), a
handful of submissions go through `otter run` on the module's autograder zip:

- the solution scores full points and the untouched student notebook 0;
- the import attack (each answer cell ending in an import of the graded module's reference)
  scores 0: the zip ships only the earlier modules, and the local kernel cannot reach this
  repository's installed package;
- a bug with NumPy's comparisons patched scores what the bug alone scores;
- the sample of mutants nbgrader's gate grades (coursekit.quality.gates.nbgrader_sample) loses
  exactly the points it loses there: every test cell's points equal the fast grader's, which
  that gate checks against real `nbgrader autograde` (so a bug costs only its own task under
  otter too);
- the same holds for the solution, the blank notebook and both attacks, cell by cell;

and, without running anything:

- no hidden-test text and no solution code is in `student/` (the notebook, the public test
  files, the shipped package), and each public case of the autograder is exactly the
  visible tests;
- the shipped package (student folder, autograder folder, zip) holds no module from the
  graded one on;
- the zip holds the autograder folder as it is, and its otter configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from ..course import Course
from ..modules import REPO, Module, graded_and_later
from ..quality import attacks, fastgrade, mutants
from ..quality import gates as nbgrader_gates
from ..quality.leaks import leaks_in, secret_lines, visible_text
from . import assignment, grade

MUTANTS = 2  # of the mutants nbgrader's gate grades, the ones otter grades too


@dataclass
class OtterVerdict:
    """What the otter gates found for one module; `ok` is the rule the CLI and tests share."""

    module: str
    points: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)  # submission -> otter's total
    fast: dict[str, float] = field(default_factory=dict)  # submission -> the fast grader's
    bug: float | None = None  # the fast grader's score of the bug alone
    disagreements: list[str] = field(default_factory=list)  # cell by cell, otter vs fast
    problems: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # submission -> otter run time

    def failures(self) -> list[str]:
        found = list(self.problems) + list(self.leaks) + list(self.disagreements)
        checks = (
            ("solution", self.points, "the solution"),
            ("blank", 0.0, "the untouched student notebook"),
            ("importer", 0.0, "the import attack"),
        )
        for name, want, what in checks:
            if self.scores.get(name) != want:
                found.append(f"{what} scores {self.scores.get(name)} under otter, not {want:g}")
        if self.bug is None:
            found.append("no bug for the NumPy-patch attack")
        elif self.scores.get("patcher") != self.bug:
            found.append(
                f"a bug with NumPy patched scores {self.scores.get('patcher')} under otter, "
                f"the bug alone {self.bug}"
            )
        return found

    @property
    def ok(self) -> bool:
        return not self.failures()

    @property
    def mutant_names(self) -> list[str]:
        return sorted(n for n in self.scores if n.startswith("mutant"))


def cases(module: Module, root: Path = REPO) -> tuple[dict[str, NotebookNode], float | None]:
    """The nbgrader-form submissions the otter gate grades, and the bug's score alone."""
    course = Course(root)
    src, rel = course.source_notebook(module), course.release_notebook(module)
    subs = {
        "solution": nbgrader_gates.solution_submission(module, root),
        "blank": rel,
        "importer": attacks.import_attack(module, rel),
    }
    found = mutants.all_mutants(src)
    sample = nbgrader_gates.nbgrader_sample(found)[:MUTANTS]
    subs |= {f"mutant{i}": mutants.mutant_submission(rel, src, m) for i, m in enumerate(sample)}
    bug, bug_score = _patch_bug(module, src, rel, found, root)
    if bug is not None:
        subs["patcher"] = attacks.numpy_patch(rel, src, bug)
    return subs, bug_score


def _patch_bug(module, src, rel, found, root, batch: int = 12):
    """The bug nbgrader's gate patches NumPy around: the first killed mutant that keeps some
    points (coursekit.quality.gates.patch_bug), found by grading mutants a few at a time."""
    cwd = root / "source" / module.assignment
    for start in range(0, len(found), batch):
        chunk = found[start : start + batch]
        subs = {m.id: mutants.mutant_submission(rel, src, m) for m in chunk}
        results = fastgrade.grade_many(subs, src, cwd, graded=module.assignment)
        for m in chunk:
            if 0 < results[m.id].score < results[m.id].max_score:
                return m, results[m.id].score
    return None, None


def static_problems(module: Module, root: Path = REPO) -> tuple[list[str], list[str]]:
    """(problems, leaks) found without running anything."""
    src = Course(root).source_notebook(module)
    folder = assignment.module_dir(module, root)
    problems = nbgrader_gates.structure_problems(src)
    solution, hidden = secret_lines(src)
    # the notebook and the public tests (the shipped package is the earlier modules' reference,
    # public by then, and is checked below to hold nothing from the graded module on)
    leaks = []
    for part in ("tests", module.notebook):
        if (folder / "student" / part).is_dir():
            leaks += leaks_in(folder / "student" / part, solution, "solution code")
            leaks += leaks_in(folder / "student" / part, hidden, "hidden test")
        else:
            leaks += _leaks_in_file(folder / "student" / part, solution, "solution code")
            leaks += _leaks_in_file(folder / "student" / part, hidden, "hidden test")
    for cell in assignment.test_cells(src):
        name = assignment.question(cell.id)
        setup, visible, _ = assignment.split_test_cell(cell.source)
        public = assignment.test_file_constants(
            (folder / "student" / "tests" / f"{name}.py").read_text()
        )
        full = assignment.test_file_constants(
            (folder / "autograder" / "tests" / f"{name}.py").read_text()
        )
        if public.get("VISIBLE") != visible or public.get("SETUP") or public.get("CELL"):
            problems.append(f"student/tests/{name}.py is not exactly the visible tests")
        if full.get("VISIBLE") != visible or full.get("SETUP") != setup:
            problems.append(
                f"the public case of autograder/tests/{name}.py is not the visible tests"
            )
        seen = {line.strip() for line in visible.splitlines()}
        leaks += [f"hidden test in the public case of {name}: {x!r}" for x in sorted(hidden & seen)]
    later = graded_and_later(module.assignment, root)
    zip_path = folder / assignment.zip_name(module)
    inside = assignment.zip_contents(zip_path)
    shipped = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    for name in shipped + [f"{zip_path.name}:{n}" for n in inside]:
        if "tinytorch/" in name and name.endswith(".py"):
            dotted = "tinytorch." + name.split("tinytorch/", 1)[1].removesuffix(".py")
            dotted = dotted.replace("/", ".")
            if any(dotted == p or dotted.startswith(p + ".") for p in later):
                problems.append(f"{name} is the reference of the graded module or a later one")
    grader_dir = folder / "autograder"
    for path in sorted(p for p in grader_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(grader_dir).as_posix()
        if rel == "requirements.txt":
            continue  # otter writes the requirements into environment.yml
        top = rel.split("/")[0]
        arc = rel if top == "tests" or rel in ROOT_FILES else f"files/{rel}"
        if inside.get(arc) != path.read_bytes():
            problems.append(f"{zip_path.name} does not hold autograder/{rel} as it is")
    return problems, leaks


def _leaks_in_file(path: Path, secrets: set[str], what: str) -> list[str]:
    seen = {line.strip() for line in visible_text(path).splitlines()}
    return [f"{what} in {path}: {line!r}" for line in sorted(secrets & seen)]


ROOT_FILES = ("otter_config.json", "template.ipynb", "tests.json", f"{assignment.PLUGIN}.py")


def evaluate(module: Module, workdir: Path, root: Path = REPO) -> OtterVerdict:
    """Every otter gate on one module (workdir: scratch space for the submissions)."""
    course = Course(root)
    src = course.source_notebook(module)
    verdict = OtterVerdict(module.assignment)
    verdict.points = sum(c.metadata["nbgrader"]["points"] for c in assignment.test_cells(src))
    verdict.problems, verdict.leaks = static_problems(module, root)
    subs, verdict.bug = cases(module, root)
    fast = fastgrade.grade_many(
        subs, src, root / "source" / module.assignment, graded=module.assignment
    )
    verdict.fast = {k: r.score for k, r in fast.items()}
    student = grade.student_notebook(module, root)
    results = grade.grade_notebooks(
        module, {k: grade.from_nbgrader(student, v) for k, v in subs.items()}, workdir, root
    )
    for name, result in results.items():
        verdict.seconds[name] = result.seconds
        verdict.scores[name] = result.score
        if result.error:
            verdict.problems.append(f"otter could not grade {name}: {result.error}")
        for cell in fast[name].cells:
            got = result.points.get(cell.grade_id)
            if got != cell.points:
                verdict.disagreements.append(
                    f"{name}: {cell.grade_id} gets {got} under otter, {cell.points:g} under "
                    "nbgrader (fast grader)"
                )
    return verdict
