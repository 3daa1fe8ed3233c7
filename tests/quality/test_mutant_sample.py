"""The fast setting's mutant sample: every task and kind represented, the same sample every
run, and staleness of declared equivalents still found."""

from __future__ import annotations

from coursekit.quality import fastgrade
from coursekit.quality.gates import GateVerdict, MutantReport, sample_mutants
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
    assert sample_mutants(found, len(found)) == found


def test_the_sample_has_its_size_every_group_and_the_original_order():
    found = population()
    sample = sample_mutants(found, 12)
    assert len(sample) == 12
    assert {(m.task, m.kind) for m in sample} == {(m.task, m.kind) for m in found}
    positions = [found.index(m) for m in sample]
    assert positions == sorted(positions)


def test_the_draw_is_repeatable_and_depends_on_the_seed():
    found = population()
    sample = sample_mutants(found, 10)
    assert [m.id for m in sample_mutants(found, 10)] == [m.id for m in sample]
    assert [m.id for m in sample_mutants(found, 10, seed=1)] != [m.id for m in sample]


def result(killed: bool) -> fastgrade.Result:
    cell = fastgrade.CellScore("test_add", 0.0 if killed else 1.0, 1.0, None)
    return fastgrade.Result(cells=(cell,))


def test_a_stale_equivalent_is_found_in_a_sample():
    found = population()
    sample = sample_mutants(found, 6)
    survivor = sample[0]
    results = {m.id: result(killed=m is not survivor) for m in sample}
    declared = {survivor.id: "survives", "gone:1:operator": "no longer generated"}
    report = MutantReport(sample, results, declared)
    report.generated = {m.id for m in found}
    assert report.sampled
    assert report.stale_equivalents == ["gone:1:operator"]
    results[survivor.id] = result(killed=True)
    assert report.stale_equivalents == sorted(declared)


def test_an_equivalent_outside_the_sample_that_a_test_kills_is_stale():
    found = population()
    sample = sample_mutants(found, 6)
    outside = next(m for m in found if m not in sample)
    report = MutantReport(sample, {m.id: result(killed=True) for m in sample}, {outside.id: "x"})
    report.generated = {m.id for m in found}
    assert report.stale_equivalents == []
    report.equivalents_killed = {outside.id}
    assert report.stale_equivalents == [outside.id]


def test_a_sample_is_held_to_every_survivor_declared_and_the_whole_set_to_the_floor():
    found = population()
    sample = sample_mutants(found, 10)
    declared = {m.id: "changes nothing" for m in sample[:2]}  # 80% killed
    results = {m.id: result(killed=m.id not in declared) for m in sample}
    report = MutantReport(sample, results, declared)
    report.generated = {m.id for m in found}
    report.blast = {m.id: 0.0 for m in sample}
    verdict = GateVerdict("m", points=1.0, solution=1.0, blank=0.0, import_attack=0.0)
    verdict.mutants = report
    assert not [f for f in verdict.failures() if "kill rate" in f or "survivor" in f]
    report.generated = {m.id for m in sample}  # the same mutants as the whole set
    assert any("kill rate 80.0%" in f for f in verdict.failures())
    report.equivalent = {}
    report.generated = {m.id for m in found}
    assert sum("survivor" in f for f in verdict.failures()) == 2
