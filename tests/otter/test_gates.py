"""The otter gates of every module (coursekit.otter.gates.evaluate), the rule `make otter-gates`
applies: solution full, blank and import attack 0, a NumPy patch adds nothing to a bug, a
sample of mutants scores cell by cell what it scores under nbgrader, nothing secret shipped.
Each module is a class of its own so that the test workers share the modules."""

from __future__ import annotations

import pytest

from coursekit.modules import find
from coursekit.otter import gates

from ..conftest import module_ids, record_gate


def check_module(name: str, tmp_path) -> None:
    verdict = gates.evaluate(find(name), tmp_path)
    runs = list(verdict.seconds.values())
    record_gate(
        name,
        otter={
            "scores": verdict.scores,
            "fast": verdict.fast,
            "bug": verdict.bug,
            "seconds": round(sum(runs) / len(runs), 2) if runs else None,
            "ok": verdict.ok,
        },
    )
    failures = "\n".join(verdict.failures())
    assert verdict.ok, f"{name} fails its otter gates:\n{failures}"


def _gate_class(name: str) -> type:
    def test_passes_every_otter_gate(self, tmp_path):
        check_module(name, tmp_path)

    return type(
        f"TestOtterGates_{name}", (), {"test_passes_every_otter_gate": test_passes_every_otter_gate}
    )


for _name in module_ids():
    globals()[f"TestOtterGates_{_name}"] = pytest.mark.xdist_group("otter")(_gate_class(_name))
