"""Each otter test case starts with the hidden grading set-up, so results do not depend on
the order the cases and the tests run in.

Otter runs a test where its check cell is, or, for a check cell that did not run, at the end
of the notebook. The graded notebook of the solution and of one killed mutant per task is
run here three ways, in a forked child each: every test at its check cell; the same with
each test's cases reversed (hidden before visible); and every test after the last cell, in
reverse order, cases reversed. Each way gives every test the same points, and each mutant
loses the points of its own task only.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import warnings

import nbformat
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import create_test_file

from coursekit.course import Course
from coursekit.modules import REPO, find
from coursekit.otter import assignment, grade, tinytorch_otter
from coursekit.quality import fastgrade, mutants
from coursekit.quality import gates as nbgrader_gates
from tito.runner import run_cell

MODULE = "02_activations"


def _run(nb, folder, mode, conn):
    os.chdir(folder)
    warnings.simplefilter("ignore")
    namespace = {"__name__": "__main__"}
    scores = {}

    def check(name, reverse_cases):
        test = create_test_file(f"tests/{name}.py", NBMetadataConfig())
        if reverse_cases:
            test.test_cases = list(reversed(test.test_cases))
        test.run(namespace)
        scores[name] = test.score

    checks = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("tinytorch") or {}
        if cell.cell_type != "code" or meta.get("cell") == "otter_init":
            continue
        if meta.get("role") == "check":
            name = assignment.question(meta["cell"])
            checks.append(name)
            if mode != "at the end":
                namespace["_grading"].protect()
                check(name, reverse_cases=mode == "cases reversed")
            continue
        run_cell(index, {"cell_type": "code", "source": cell.source, "metadata": {}}, namespace)
    if mode == "at the end":
        for name in reversed(checks):
            check(name, reverse_cases=True)
    conn.send(scores)
    conn.close()


def _scores(nb, folder, mode):
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run, args=(nb, folder, mode, child))
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(300) else None
    proc.join(5)
    return result


def test_points_do_not_depend_on_the_order_of_cases_and_tests(tmp_path):
    module = find(MODULE)
    course = Course()
    src, rel = course.source_notebook(module), course.release_notebook(module)
    otter_dir = assignment.module_dir(module)
    folder = tmp_path / "grading"
    shutil.copytree(otter_dir / "autograder" / "tests", folder / "tests")
    template = nbformat.read(otter_dir / "autograder" / "template.ipynb", 4)
    student = grade.student_notebook(module)

    found = mutants.all_mutants(src)
    subs = {"solution": nbgrader_gates.solution_submission(module)}
    for task in dict.fromkeys(m.task for m in found):
        candidates = [m for m in found if m.task == task][:8]
        graded = fastgrade.grade_many(
            {m.id: mutants.mutant_submission(rel, src, m) for m in candidates},
            src,
            REPO / "source" / module.assignment,
            graded=module.assignment,
        )
        killed = next(m for m in candidates if graded[m.id].score < graded[m.id].max_score)
        subs[task] = mutants.mutant_submission(rel, src, killed)

    points = {
        assignment.question(c.id): c.metadata["nbgrader"]["points"]
        for c in assignment.test_cells(src)
    }
    for name, sub in subs.items():
        nb = tinytorch_otter.graded_notebook(grade.from_nbgrader(student, sub), template)
        ways = {
            mode: _scores(nb, folder, mode)
            for mode in ("at the check cells", "cases reversed", "at the end")
        }
        first = ways["at the check cells"]
        assert first is not None and set(first) == set(points), name
        assert all(way == first for way in ways.values()), (name, ways)
        lost = {q for q, p in points.items() if first[q] < p}
        assert lost == (set() if name == "solution" else {name}), (name, first)
