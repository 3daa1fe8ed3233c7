"""Integrity gates: the checks every module must pass before students see it.

One verdict per module (`evaluate`), used by `coursekit gates` and by the test suite:

- structure: grade_ids unique, every test cell has points and hidden tests; the shared
  checks cell is there, so hidden tests decide through checks a student cannot replace and
  each test runs the other tasks from the reference;
- the visible tests pass on the solution; neither the solution nor the release is flagged;
- leaks (coursekit.quality.leaks);
- mutants (coursekit.quality.mutants), graded by the fast grader: at least MIN_KILL_RATE
  killed over the whole set, every survivor declared equivalent in module.toml with its
  reason; the kill rate of each kind; the *blast radius* of each mutant (the points it takes
  from test cells of other tasks, integration cells aside), zero for at least MIN_ZERO_BLAST
  of the mutants outside the foundation tasks module.toml declares;
- attacks (coursekit.quality.attacks): the import of the graded module's reference earns
  nothing, a NumPy patch adds nothing to a bug's score;
- through real `nbgrader autograde` in the sandbox on a scratch course: the solution scores
  full points, the untouched release zero, the attacks what the fast grader says and are
  marked for manual review, a sample of mutants what the fast grader says.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.api import Gradebook

from tito import cells

from ..authoring import markers
from ..authoring.masters import read_master, task_plan
from ..course import Course
from ..grading.scan import review
from ..modules import REPO, Module
from . import attacks, fastgrade, mutants
from .leaks import leak_problems
from .pacing import Pacing, pacing

MIN_KILL_RATE = 0.95
MIN_ZERO_BLAST = 0.95
MIN_MUTANTS = 20
NBGRADER_SAMPLE = 3
# The test suite's fast setting grades this many mutants per module (every task and kind
# represented; declared equivalents are graded besides, for staleness); `make gates` and
# `make test-full` grade all. 100 is above the largest number of (task, kind) groups of any
# module (86, Module 05), so every group is still drawn; the draw is a prefix of a larger one.
CI_MUTANTS = 100


@dataclass
class MutantReport:
    """Every mutant of a module's solution and what the fast grader gave it."""

    found: list[mutants.Mutant] = field(default_factory=list)  # the ones graded
    results: dict[str, fastgrade.Result] = field(default_factory=dict)
    equivalent: dict[str, str] = field(default_factory=dict)  # module.toml: id -> reason
    foundation: dict[str, str] = field(default_factory=dict)  # module.toml: task -> reason
    blast: dict[str, float] = field(default_factory=dict)  # id -> points from other tasks
    generated: set[str] = field(default_factory=set)  # every mutant's id, sampled or not
    equivalents_killed: set[str] = field(default_factory=set)  # declared, outside the sample

    @property
    def sampled(self) -> bool:
        return len(self.found) < len(self.generated)

    @property
    def total(self) -> int:
        return len(self.found)

    def is_killed(self, m: mutants.Mutant) -> bool:
        result = self.results[m.id]
        return result.score < result.max_score

    @property
    def killed(self) -> int:
        return sum(self.is_killed(m) for m in self.found)

    @property
    def kill_rate(self) -> float:
        return self.killed / self.total if self.total else 0.0

    @property
    def survivors(self) -> list[mutants.Mutant]:
        """Mutants no test kills and module.toml does not declare equivalent."""
        return [m for m in self.found if not self.is_killed(m) and m.id not in self.equivalent]

    @property
    def stale_equivalents(self) -> list[str]:
        """Declared equivalent, but killed now or no longer generated."""
        alive = {m.id for m in self.found if not self.is_killed(m)}
        graded = {m.id for m in self.found}
        gone = set(self.equivalent) - (self.generated or graded)
        killed_now = (set(self.equivalent) & graded) - alive
        return sorted(gone | killed_now | self.equivalents_killed)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (mutants, killed)."""
        table: dict[str, tuple[int, int]] = {}
        for m in self.found:
            total, killed = table.get(m.kind, (0, 0))
            table[m.kind] = (total + 1, killed + self.is_killed(m))
        return dict(sorted(table.items()))

    @property
    def counted_for_blast(self) -> list[mutants.Mutant]:
        return [m for m in self.found if m.task not in self.foundation]

    @property
    def zero_blast_share(self) -> float:
        counted = self.counted_for_blast
        if not counted:
            return 1.0
        return sum(self.blast[m.id] == 0 for m in counted) / len(counted)

    @property
    def wide_blasts(self) -> list[mutants.Mutant]:
        return [m for m in self.counted_for_blast if self.blast[m.id] > 0]


@dataclass
class GateVerdict:
    """Everything the gates found for one module; `ok` is the one rule CLI and tests share."""

    module: str
    points: float = 0.0
    solution: float | None = None  # through real nbgrader autograde
    blank: float | None = None
    import_attack: float | None = None
    patch: tuple[float, float] | None = None  # (bug with NumPy patched, bug alone)
    unflagged: list[str] = field(default_factory=list)  # attacks nbgrader did not mark
    mutants: MutantReport | None = None
    leaks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pacing: Pacing | None = None

    def failures(self) -> list[str]:
        """Why the module fails its gates, in words (empty when it passes)."""
        found = list(self.problems) + list(self.leaks)
        if self.solution != self.points:
            found.append(f"the solution scores {self.solution} of {self.points}")
        if self.blank != 0:
            found.append(f"the untouched release scores {self.blank}")
        if self.import_attack != 0:
            found.append(f"importing the reference scores {self.import_attack}")
        if self.patch is not None and self.patch[0] != self.patch[1]:
            found.append(
                f"a bug with NumPy patched scores {self.patch[0]}, the bug alone {self.patch[1]}"
            )
        found += [f"nbgrader did not mark {name} for review" for name in self.unflagged]
        report = self.mutants
        if report is None:
            return found + ["mutants were not graded"]
        if report.total < MIN_MUTANTS:
            found.append(f"only {report.total} mutants (at least {MIN_MUTANTS})")
        # The floor bounds how much of the whole set may be declared equivalent: a sample
        # drawn evenly over tasks and kinds over-represents the small groups where equivalents
        # gather, so only a run over every mutant applies it (every survivor is checked always).
        if not report.sampled and report.kill_rate < MIN_KILL_RATE:
            found.append(f"kill rate {report.kill_rate:.1%} < {MIN_KILL_RATE:.0%}")
        for m in report.survivors:
            found.append(f"survivor {m.id} [{m.kind}] in task {m.task}: kill it or declare it")
        for stale in report.stale_equivalents:
            found.append(f"module.toml declares {stale} equivalent, but it is killed or gone")
        if report.zero_blast_share < MIN_ZERO_BLAST:
            wide = "".join(
                f"\n  {m.id} takes {report.blast[m.id]:g} points from other tasks"
                for m in report.wide_blasts[:10]
            )
            found.append(
                f"blast radius: {report.zero_blast_share:.1%} of mutants cost only their own "
                f"task (at least {MIN_ZERO_BLAST:.0%}){wide}"
            )
        return found

    @property
    def ok(self) -> bool:
        return not self.failures()


# --- structure and visible tests ------------------------------------------------------------


def structure_problems(nb: NotebookNode) -> list[str]:
    problems, seen = [], set()
    for cell in nb.cells:
        meta = cells.nbgrader(cell)
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        if grade_id in seen:
            problems.append(f"duplicate grade_id {grade_id!r}")
        seen.add(grade_id)
        if meta.get("grade"):
            if not meta.get("points", 0) > 0:
                problems.append(f"{grade_id}: graded cell without points")
            if not markers.hidden_regions(cell.source):
                problems.append(f"{grade_id}: no hidden tests")
    if not any(cells.is_test(c) for c in nb.cells):
        problems.append("no graded test cells")
    if not any("_grading.seal()" in c.source for c in nb.cells if cells.is_locked(c)):
        problems.append(
            'no shared checks cell (include="checks"): hidden tests can be fooled by a '
            "patched NumPy, and a bug in one task costs the tests of others"
        )
    return problems


def visible_only(source_nb: NotebookNode) -> NotebookNode:
    """The source notebook as a student's self-check sees it: hidden tests removed."""
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        if cells.is_test(cell):
            cell.source = markers.drop_hidden_tests(cell.source)
    return nb


def solution_submission(module: Module, root: Path = REPO) -> NotebookNode:
    course = Course(root)
    src = course.source_notebook(module)
    return mutants.submission(course.release_notebook(module), mutants.solution_sources(src))


def visible_failures(module: Module, root: Path = REPO) -> list[str]:
    """Visible test cells that fail on the instructor's solution (should be none)."""
    visible = visible_only(Course(root).source_notebook(module))
    result = fastgrade.grade(
        solution_submission(module, root),
        visible,
        root / "source" / module.assignment,
        graded=module.assignment,
    )
    return [f"{c.grade_id}: {c.error}" for c in result.cells if c.error]


def flags_on(module: Module, nb: NotebookNode) -> list[str]:
    """What the review scan finds in a notebook's student cells (graded module's imports too)."""
    packages = fastgrade.blocked_packages(module.assignment)
    found = []
    for cell in nb.cells:
        if cells.is_code(cell) and not cells.is_locked(cell):
            found += review(cell.source, packages)
    return found


# --- mutants -------------------------------------------------------------------------------


def sample_mutants(found: list[mutants.Mutant], size: int, seed: int = 0) -> list[mutants.Mutant]:
    """At most `size` of `found`, in their original order, drawn round-robin over the
    (task, kind) groups, each group shuffled with `seed`, so that every task and every kind is
    represented. Small groups are over-represented, so the sample's kill rate does not
    estimate the whole set's (GateVerdict applies the kill-rate floor to full runs only)."""
    if len(found) <= size:
        return list(found)
    groups: dict[tuple[str, str], list[mutants.Mutant]] = {}
    for m in found:
        groups.setdefault((m.task, m.kind), []).append(m)
    rng = random.Random(seed)
    queues = [rng.sample(g, len(g)) for _, g in sorted(groups.items())]
    chosen: set[str] = set()
    while len(chosen) < size:
        for queue in queues:
            if queue and len(chosen) < size:
                chosen.add(queue.pop().id)
    return [m for m in found if m.id in chosen]


def mutant_report(module: Module, root: Path = REPO, sample: int | None = None) -> MutantReport:
    """Grade the solution and every mutant (or a `sample_mutants` sample of `sample`) with
    the fast grader; blast radius per mutant."""
    course = Course(root)
    src, rel = course.source_notebook(module), course.release_notebook(module)
    generated = mutants.all_mutants(src)
    if len({m.id for m in generated}) != len(generated):
        raise ValueError(f"{module.assignment}: two mutants share an id")
    found = generated
    if sample is not None:
        found = sample_mutants(generated, sample)
    # Declared equivalents outside the sample are graded too (not counted): one that a test
    # now kills is stale whether it was drawn or not.
    drawn = {m.id for m in found}
    extra = [m for m in generated if m.id in module.equivalent and m.id not in drawn]
    submissions = {"solution": solution_submission(module, root)}
    submissions |= {m.id: mutants.mutant_submission(rel, src, m) for m in found + extra}
    results = fastgrade.grade_many(
        submissions, src, root / "source" / module.assignment, graded=module.assignment
    )
    plan = task_plan(module, read_master(module))
    report = MutantReport(found, results, dict(module.equivalent), dict(module.foundation))
    report.generated = {m.id for m in generated}
    report.equivalents_killed = {
        m.id for m in extra if results[m.id].score < results[m.id].max_score
    }
    for m in found:
        own = set(plan.get(m.task, [])) | set(plan.get("", []))
        result = results[m.id]
        report.blast[m.id] = sum(
            c.max_points - c.points for c in result.cells if c.grade_id not in own
        )
    return report


def nbgrader_sample(all_mutants: list[mutants.Mutant], seed: int = 0) -> list[mutants.Mutant]:
    return random.Random(seed).sample(all_mutants, min(NBGRADER_SAMPLE, len(all_mutants)))


def patch_bug(report: MutantReport) -> mutants.Mutant | None:
    """A bug for the NumPy-patch attack: the first killed mutant that keeps some points."""
    for m in report.found:
        result = report.results[m.id]
        if 0 < result.score < result.max_score:
            return m
    return None


def nbgrader_gate(
    module: Module, workdir: Path, submissions: dict[str, NotebookNode], root: Path = REPO
) -> tuple[dict, set[str]]:
    """Grade submissions with real `nbgrader autograde` in the sandbox on a scratch course.

    Returns (scores by student id, the students whose grades need a manual look)."""
    course = Course.scratch(workdir, [module], repo=root)
    for student, nb in submissions.items():
        course.submit_directly(student, module, nb)
    course.autograde(module)
    with Gradebook(course.db_url) as gb:
        marked = {
            sub.student.id
            for sub in gb.assignment_submissions(module.assignment)
            if sub.needs_manual_grade
        }
    return course.scores(module), marked


# --- the verdict ------------------------------------------------------------------------------


def evaluate(
    module: Module, workdir: Path, root: Path = REPO, mutant_sample: int | None = None
) -> GateVerdict:
    """Run every gate on one module (workdir: a scratch folder for the nbgrader course).

    mutant_sample: grade only that many mutants (`sample_mutants`); None grades them all."""
    course = Course(root)
    src, rel = course.source_notebook(module), course.release_notebook(module)
    verdict = GateVerdict(module.assignment, pacing=pacing(module, src))
    verdict.problems = structure_problems(src) + visible_failures(module, root)
    solution = solution_submission(module, root)
    for name, nb in (("the solution", solution), ("the release", rel)):
        verdict.problems += [f"{name} is flagged: {f}" for f in flags_on(module, nb)]
    verdict.leaks = leak_problems(module, root)
    report = verdict.mutants = mutant_report(module, root, mutant_sample)

    cases = {"solution": solution, "blank": rel, "importer": attacks.import_attack(module, rel)}
    bug = patch_bug(report)
    if bug is not None:
        cases["bug"] = mutants.mutant_submission(rel, src, bug)
        cases["patcher"] = attacks.numpy_patch(rel, src, bug)
    sample = nbgrader_sample(report.found)
    cases |= {f"mutant{i}": mutants.mutant_submission(rel, src, m) for i, m in enumerate(sample)}
    cwd = root / "source" / module.assignment
    fast = fastgrade.grade_many(
        {k: v for k, v in cases.items() if not k.startswith("mutant")},
        src,
        cwd,
        graded=module.assignment,
    )
    fast |= {f"mutant{i}": report.results[m.id] for i, m in enumerate(sample)}
    for attack in ("importer", "patcher"):
        if attack in cases and not flags_on(module, cases[attack]):
            verdict.problems.append(f"the review scan does not flag the {attack}")

    scores, marked = nbgrader_gate(module, workdir, cases, root)
    verdict.points = scores["solution"].max_score
    verdict.solution, verdict.blank = scores["solution"].score, scores["blank"].score
    verdict.import_attack = scores["importer"].score
    if bug is not None:
        verdict.patch = (scores["patcher"].score, scores["bug"].score)
    verdict.unflagged = [a for a in ("importer", "patcher") if a in cases and a not in marked]
    for name, result in fast.items():
        if scores[name].score != result.score:
            verdict.problems.append(
                f"nbgrader gives {name} {scores[name].score}, the fast grader {result.score}"
            )
    if bug is None:
        verdict.problems.append("no mutant keeps some points: the NumPy-patch attack has no bug")
    return verdict
