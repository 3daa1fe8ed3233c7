"""Integrity gates for every module (picked up automatically from masters/)."""

import pytest

from coursekit.modules import find
from coursekit.quality import gates, mutants

from ..conftest import module_ids, record_gate


@pytest.mark.parametrize("name", module_ids())
def test_structure_grade_ids_unique_and_every_test_has_points_and_hidden_tests(name):
    assert gates.structure_problems(gates.source_notebook(find(name))) == []


@pytest.mark.parametrize("name", module_ids())
def test_visible_tests_pass_on_the_solution(name):
    assert gates.visible_failures(find(name)) == []


@pytest.mark.parametrize("name", module_ids())
def test_no_solution_code_in_release_and_no_hidden_tests_in_release_or_solutions(name):
    assert gates.leak_problems(find(name)) == []


@pytest.mark.parametrize("name", module_ids())
def test_mutants_of_the_solution_lose_points(name):
    report = gates.mutant_report(find(name))
    record_gate(name, total=report.total, killed=report.killed, kill_rate=report.kill_rate)
    survivors = "\n".join(m.id for m in report.survivors)
    assert report.total >= gates.MIN_MUTANTS, f"only {report.total} mutants"
    assert report.kill_rate >= gates.MIN_KILL_RATE, (
        f"kill rate {report.kill_rate:.1%}; survivors:\n{survivors}"
    )


@pytest.mark.xdist_group("nbgrader")
@pytest.mark.parametrize("name", module_ids())
def test_nbgrader_gives_solution_full_release_zero_and_agrees_with_fast_grader(name, tmp_path):
    module = find(name)
    src = gates.source_notebook(module)
    sample = gates.nbgrader_sample(mutants.all_mutants(src))
    scores, course = gates.nbgrader_gate(module, tmp_path, sample)
    solution, blank = scores["solution"], scores["blank"]
    record_gate(name, solution=solution.score, max=solution.max_score, blank=blank.score)
    assert solution.max_score > 0
    assert solution.score == solution.max_score, f"solution lost points in {solution.failed}"
    assert blank.score == 0, (
        f"the untouched release earned points in {set(src_cells(src)) - set(blank.failed)}"
    )
    rel = course.release_notebook(module)
    for i, mutant in enumerate(sample):
        fast = gates.fastgrade.grade(mutants.mutant_submission(rel, src, mutant), src, tmp_path)
        assert scores[f"mutant{i}"].score == fast.score, f"graders disagree on {mutant.id}"


def src_cells(src):
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in src.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
