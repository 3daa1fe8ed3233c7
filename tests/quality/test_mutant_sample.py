"""The fast setting's mutant sample: every task and kind represented, declared equivalents
always graded, the same sample every run, and staleness still found."""

from __future__ import annotations

from coursekit.quality import fastgrade
from coursekit.quality.gates import MutantReport, sample_mutants
from coursekit.quality.mutants import Mutant


def mutant(i: int, task: str, kind: str) -> Mutant:
    return Mutant(
        id=f"{task}:{i}:{kind}",
        cell_id=task,
        line=i,
        description=kind,
        source="",
        task=task,
        kind=kind,
    )


def population() -> list[Mutant]:
    found = []
    for t, task in enumerate(("add", "mul", "sum")):
        for k, kind in enumerate(("operator", "dropped call", "swap")):
            found += [mutant(100 * t + 10 * k + i, task, kind) for i in range(1 + 3 * t + k)]
    return found


def test_a_small_population_is_graded_whole():
    found = population()
    assert sample_mutants(found, len(found), set()) == found


def test_the_sample_has_its_size_every_group_and_the_original_order():
    found = population()
    sample = sample_mutants(found, 12, set())
    assert len(sample) == 12
    assert {(m.task, m.kind) for m in sample} == {(m.task, m.kind) for m in found}
    positions = [found.index(m) for m in sample]
    assert positions == sorted(positions)


def test_declared_equivalents_are_always_in_and_the_draw_is_repeatable():
    found = population()
    keep = {found[-1].id, found[-2].id}
    sample = sample_mutants(found, 10, keep)
    assert keep <= {m.id for m in sample}
    assert [m.id for m in sample_mutants(found, 10, keep)] == [m.id for m in sample]
    assert [m.id for m in sample_mutants(found, 10, keep, seed=1)] != [m.id for m in sample]


def result(killed: bool) -> fastgrade.Result:
    cell = fastgrade.CellScore("test_add", 0.0 if killed else 1.0, 1.0, None)
    return fastgrade.Result(cells=(cell,))


def test_a_stale_equivalent_is_found_in_a_sample():
    found = population()
    sample = sample_mutants(found, 6, {found[0].id})
    results = {m.id: result(killed=m.id != found[0].id) for m in sample}
    declared = {found[0].id: "survives", "gone:1:operator": "no longer generated"}
    report = MutantReport(sample, results, declared)
    report.generated = {m.id for m in found}
    assert report.sampled
    assert report.stale_equivalents == ["gone:1:operator"]
    results[found[0].id] = result(killed=True)
    assert report.stale_equivalents == sorted(declared)
