"""The 2018 optimization olympics: optimization_olympics.py (Modules 15 to 19 together).

- As a command on the quick setting (one BLAS thread, reports and plots in a temporary
  folder): exit 0; for both models a table with every variant, its quality, bytes, median
  latency and IQR and whether it is on the front; the figures agree with the JSON report
  (which Module 19's load_report reads and compare_reports compares), the int8 variants hold
  fewer bytes than the baseline and their ratio is the printed one, the pruned variants'
  measured sparsity is the target, the front is Module 19's pareto_front of the reported
  numbers, and the four plots are PNG files;
- with the pruning masks not attached to the optimizer (pruned weights regrow
  during fine-tuning), the milestone fails and the table shows the lower sparsity; the same
  run's int8 bytes are model_bytes of the int8 model, whose convolutions are int8 too;
- without Module 19 the script exits 2 naming it.

The full run (`make milestone-olympics`, a few minutes) is not run here; milestones/README.md
reports its tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MILESTONES = REPO / "milestones"
SCRIPT = "06_2018_optimization/optimization_olympics.py"
TITLES = {"cnn": "2018 olympics: the digits CNN", "gpt": "2018 olympics: the Shakespeare GPT"}
VARIANTS = {
    "cnn": [
        "baseline",
        "int8",
        "pruned 80%",
        "pruned+int8",
        "low rank r8",
        "student labels",
        "student distilled",
    ],
    "gpt": ["baseline", "int8", "pruned 50%", "pruned+int8", "low rank r16", "student distilled"],
}


def table(out: str, title: str) -> dict[str, tuple[str, str]]:
    """{measure: (result, target)} of the printed table named `title`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    rows: dict[str, tuple[str, str]] = {}
    last = None
    for line in lines[start + 2 :]:
        if line.startswith("+") and rows:
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or set(cells[0]) <= {"-", "+"} and cells[0]:
            continue
        if cells[0]:
            rows[cells[0]] = (cells[1], cells[2])
            last = cells[0]
        elif last:  # a wrapped cell continues the row above
            result, target = rows[last]
            rows[last] = (f"{result} {cells[1]}".strip(), f"{target} {cells[2]}".strip())
    return rows


def run_script(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    command = ["-c", code] if code else [str(MILESTONES / SCRIPT)]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "120", "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=400,
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("olympics")
    result = run_script("--quick", "--out", str(out))
    return result, out


@pytest.mark.parametrize("key", ["cnn", "gpt"])
def test_quick_run_prints_a_measured_table_that_matches_its_report(quick, key):
    from tinytorch.benchmarking.benchmark import compare_reports, load_report, pareto_front

    result, out = quick
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert result.stdout.isascii()
    rows = table(result.stdout, TITLES[key])
    quality = "accuracy" if key == "cnn" else "loss"
    assert rows["variant"][0].split() == [
        "accuracy" if key == "cnn" else "val",
        *([] if key == "cnn" else ["loss"]),
        "bytes",
        "CPU",
        "ms",
        "IQR",
        "front",
    ]
    report = load_report(out / f"{key}_report.json")
    results = report["results"]
    assert list(results) == VARIANTS[key]
    printed = {}
    for name in VARIANTS[key]:
        shown, bytes_, ms, iqr, on_front = rows[name][0].split()
        m = results[name]
        value = float(shown.rstrip("%")) / (100 if key == "cnn" else 1)
        assert value == pytest.approx(m[quality]["value"], abs=6e-4 if key == "cnn" else 6e-5)
        assert int(bytes_.replace(",", "")) == m["bytes"]["value"]
        assert float(ms) == pytest.approx(1e3 * m["latency"]["value"], abs=6e-3)
        assert float(iqr) == pytest.approx(1e3 * m["latency"]["iqr"], abs=6e-3)
        assert m["latency"]["low"] <= m["latency"]["value"] <= m["latency"]["high"]
        assert m["latency"]["samples"] == 15
        printed[name] = on_front == "yes"
    # Quality was measured on the held-out data, example by example, with an interval.
    examples = 360 if key == "cnn" else 12_800
    assert results["baseline"][quality]["examples"] == examples
    assert results["baseline"][quality]["low"] < results["baseline"][quality]["high"]
    # int8 is smaller, by the printed ratio, and within the quality target.
    base, q8 = results["baseline"], results["int8"]
    ratio = base["bytes"]["value"] / q8["bytes"]["value"]
    assert ratio >= 3.0
    assert rows["int8 size ratio"][0] == f"{ratio:.2f}x"
    if key == "gpt":
        assert base["bytes"]["value"] == 4 * 114_432  # every parameter, float32
        assert q8["loss"]["value"] - base["loss"]["value"] < 0.05
    else:
        assert base["accuracy"]["value"] - q8["accuracy"]["value"] < 0.01
    # Pruning: the measured sparsity is the target; dense storage saves nothing.
    pruned = VARIANTS[key][2]
    sparsity = float(pruned.split()[1].rstrip("%"))
    zeros, target = rows[f"{pruned}: zeros"]
    assert zeros.startswith(f"{sparsity:.1f}%;") and target == f"= {sparsity:.1f}%"
    assert results[pruned]["bytes"]["value"] == base["bytes"]["value"]
    assert f"as CSR {results[pruned]['csr_bytes']['value']:,.0f} bytes" in zeros
    # The front is Module 19's pareto_front of the reported numbers.
    points = [[results[n][k]["value"] for k in (quality, "bytes", "latency")] for n in results]
    expected = {VARIANTS[key][i] for i in pareto_front(points, [key == "cnn", False, False])}
    assert {n for n, yes in printed.items() if yes} == expected
    assert expected - {"baseline"}
    # The targets are judged, and the report can be compared with another run.
    assert rows["int8 size ratio"][1] == ">= 3.0x"
    assert rows["front besides baseline"][1] == ">= 1"
    verdicts = {row["verdict"] for row in compare_reports(report, report)}
    assert verdicts == {"same"}
    for plot in ("bytes", "latency"):
        png = out / f"{key}_pareto_{plot}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_profile_and_the_verdict_are_printed(quick):
    result, _ = quick
    out = result.stdout
    assert "Profile (Module 15): 21,386 parameters" in out
    assert "Profile (Module 15): 114,432 parameters" in out
    assert "Conv2dFunction" in out and "MatMul" in out
    assert "digits CNN: every target met." in out
    assert "Shakespeare GPT: every target met." in out


# Run as a command with one BLAS thread (in the test process, NumPy may use several, which
# made this run three times slower): the masks' attach is made a no-op, then main() runs and
# the facts the test checks are printed as the last line, in JSON.
REGROW = """
import json, sys
sys.path.insert(0, {milestones!r})
import numpy as np
import common
from tinytorch.optimization import compression
from tinytorch.optimization.quantization import QuantizedLinear, model_bytes, sublayers

compression.PruningMasks.attach = lambda self, optimizer: optimizer  # the bug
results = common.load_script({script!r}).main(sys.argv[1:])
cnn = results["models"]["cnn"]
variants = {{v.name: v for v in cnn["variants"]}}
pruned = variants["pruned 80%"]
weights = [p.data for p in pruned.model.parameters() if p.ndim >= 2]
int8 = [l for l in sublayers(variants["int8"].model) if isinstance(l, QuantizedLinear)]
print(json.dumps({{
    "passed": results["passed"],
    "checks": cnn["checks"],
    "sparsity": pruned.sparsity,
    "bytes": {{n: cnn["bench"].results[n]["bytes"]["value"] for n in variants}},
    "model_bytes": {{n: model_bytes(v.model) for n, v in variants.items()}},
    "csr_bytes": cnn["bench"].results["pruned 80%"]["csr_bytes"]["value"],
    "nnz": sum(int(np.count_nonzero(w)) for w in weights),
    "dense": sum(w.nbytes for w in weights),
    "pointers": sum(4 * (w.shape[0] + 1) for w in weights),
    "int8_layers": [str(l.weight_q.dtype) for l in int8],
}}))
"""


def test_masks_not_kept_regrow_and_fail_the_milestone(tmp_path):
    code = REGROW.format(milestones=str(MILESTONES), script=SCRIPT)
    result = run_script("--quick", "--model", "cnn", "--out", str(tmp_path), code=code)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    facts = json.loads(result.stdout.splitlines()[-1])
    assert facts["passed"] is False and facts["checks"]["sparsity held"] is False
    assert facts["sparsity"] < 0.79  # the pruned weights grew back during fine-tuning
    rows = table(result.stdout, TITLES["cnn"])
    assert rows["pruned 80%: zeros"][0].startswith(f"{100 * facts['sparsity']:.1f}%;")
    assert "missed sparsity held" in result.stdout
    # The bytes in the table are model_bytes of the models themselves.
    assert facts["bytes"] == facts["model_bytes"]
    # Both convolutions (as im2col + Linear) and the classifier are int8.
    assert facts["int8_layers"] == ["int8", "int8", "int8"]
    # CSR bytes from the actual nonzeros: values + int32 column indices + row pointers.
    csr = facts["model_bytes"]["pruned 80%"] - facts["dense"] + 8 * facts["nnz"]
    assert facts["csr_bytes"] == csr + facts["pointers"]


def test_without_module_19_it_exits_2_naming_it():
    code = (
        "import sys, runpy; sys.modules['tinytorch.benchmarking.benchmark'] = None; "
        "sys.argv = ['optimization_olympics.py'] + sys.argv[1:]; "
        f"runpy.run_path({str(MILESTONES / SCRIPT)!r}, run_name='__main__')"
    )
    result = run_script("--quick", code=code)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs Module 19 (tinytorch.benchmarking.benchmark)" in result.stderr
