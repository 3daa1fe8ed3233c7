"""Integrity gates for every module (picked up automatically from masters/).

One verdict per module (coursekit.quality.gates.evaluate), the same rule `make gates`
applies; each module is a class of its own so that the test workers share the modules.
The fast setting grades a sample of each module's mutants (gates.CI_MUTANTS, every task and
kind represented); TINYTORCH_FULL=1 (`make test-full`) and `make gates` grade them all.
"""

from __future__ import annotations

import pytest

from coursekit.modules import find
from coursekit.quality import gates

from ..conftest import FULL, module_ids, record_gate


def check_module(name: str, tmp_path) -> None:
    sample = None if FULL else gates.CI_MUTANTS
    verdict = gates.evaluate(find(name), tmp_path, mutant_sample=sample)
    report, pace = verdict.mutants, verdict.pacing
    record_gate(
        name,
        total=report.total,
        generated=len(report.generated),
        killed=report.killed,
        kill_rate=report.kill_rate,
        zero_blast=report.zero_blast_share,
        kinds={k: list(v) for k, v in report.by_kind().items()},
        solution=verdict.solution,
        max=verdict.points,
        blank=verdict.blank,
        importer=verdict.import_attack,
        patch=list(verdict.patch) if verdict.patch else None,
        lines=pace.lines,
        tasks=pace.tasks,
        words=pace.words,
        hours=pace.hours,
    )
    failures = "\n".join(verdict.failures())
    assert verdict.ok, f"{name} fails its gates:\n{failures}"


def _gate_class(name: str) -> type:
    def test_passes_every_gate(self, tmp_path):
        check_module(name, tmp_path)

    return type(f"TestGates_{name}", (), {"test_passes_every_gate": test_passes_every_gate})


for _name in module_ids():
    globals()[f"TestGates_{_name}"] = pytest.mark.xdist_group("nbgrader")(_gate_class(_name))
