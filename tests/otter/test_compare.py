"""otter-grader and nbgrader give the same points to every test cell of the same submissions.

The same students' answers go through real `nbgrader autograde` (contained kernels, a scratch
course) and through `otter run` on the module's autograder zip: the solution, the untouched
notebook, the import attack, the NumPy-patch attack, two of the sampled mutants and a student
with a bug in each of two tasks. Points per test cell must be equal: one bug costs only its
own task under otter exactly as under nbgrader.
"""

from __future__ import annotations

from coursekit.course import Course
from coursekit.modules import find
from coursekit.otter import gates as otter_gates
from coursekit.otter import grade
from coursekit.quality import fastgrade, gates, mutants

MODULE = "02_activations"


def _killed(module, src, rel, candidates):
    subs = {m.id: mutants.mutant_submission(rel, src, m) for m in candidates}
    cwd = Course().root / "source" / module.assignment
    results = fastgrade.grade_many(subs, src, cwd, graded=module.assignment)
    return next(m for m in candidates if results[m.id].score < results[m.id].max_score)


def _two_bugs(module):
    """A student with one killed mutant in the first task and one in the last."""
    course = Course()
    src, rel = course.source_notebook(module), course.release_notebook(module)
    found = mutants.all_mutants(src)
    tasks = list(dict.fromkeys(m.task for m in found))
    first = _killed(module, src, rel, [m for m in found if m.task == tasks[0]][:10])
    second = _killed(module, src, rel, [m for m in found if m.task == tasks[-1]][:10])
    answers = mutants.solution_sources(src)
    answers[first.cell_id] = first.source
    answers[second.cell_id] = second.source
    return mutants.submission(rel, answers), {first.task, second.task}


def test_otter_and_nbgrader_agree_cell_by_cell(tmp_path):
    module = find(MODULE)
    subs, _ = otter_gates.cases(module)
    subs = {k: v for k, v in subs.items() if k != "mutant2"}
    subs["two_bugs"], buggy_tasks = _two_bugs(module)
    nbgrader_scores, _ = gates.nbgrader_gate(module, tmp_path / "nbgrader", subs)
    student = grade.student_notebook(module)
    otter = grade.grade_notebooks(
        module,
        {k: grade.from_nbgrader(student, v) for k, v in subs.items()},
        tmp_path / "otter",
    )
    max_points = next(iter(otter.values())).max_points
    for name in subs:
        assert otter[name].error is None, (name, otter[name].error)
        failed = set(nbgrader_scores[name].failed)
        expected = {g: (0.0 if g in failed else m) for g, m in max_points.items()}
        assert otter[name].points == expected, name
        assert otter[name].score == nbgrader_scores[name].score, name
    # the two bugs cost their own tasks only, under both graders
    assert set(otter["two_bugs"].failed) == {f"test_{t}" for t in buggy_tasks}
    assert otter["solution"].score == otter["solution"].max_score
    assert otter["blank"].score == otter["importer"].score == 0
