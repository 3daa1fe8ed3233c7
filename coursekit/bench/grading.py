"""`make bench-grading`: how fast a class is graded, nbgrader serial vs this course's command.

Generates a class of N submissions of one module (perfect, partial, blank and subtly wrong
students in turn), copies it into identical scratch courses and grades each copy:

- `nbgrader autograde` (serial, nbgrader's own command, contained kernels as configured);
- `coursekit autograde --jobs 1` (intake, one worker);
- `coursekit autograde --jobs J` (intake, J workers).

It prints notebooks per minute, seconds per notebook and the overhead per notebook over
nbgrader's own serial autograde, and checks that all three gradebooks agree.

    python -m coursekit.bench.grading [--students 300] [--jobs 2] [--module 01_tensor]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..course import Course
from ..grading.batch import grade_class
from ..modules import find
from ..quality import mutants
from ..simulation import submissions


def make_class(course: Course, module, students: int) -> None:
    src, rel = course.source_notebook(module), course.release_notebook(module)
    regions = submissions.region_count(src)
    perfect = mutants.submission(rel, mutants.solution_sources(src))
    half = submissions.partially_solved(src, rel, lambda r: r < regions // 2)
    sample = mutants.all_mutants(src)[:: max(1, len(mutants.all_mutants(src)) // 20)]
    for i in range(students):
        kind = i % 4
        if kind == 0:
            nb = perfect
        elif kind == 1:
            nb = half
        elif kind == 2:
            nb = rel
        else:
            nb = mutants.mutant_submission(rel, src, sample[i % len(sample)])
        course.submit_directly(f"s{i:04d}", module, nb)


def cell_scores(course: Course, module) -> dict:
    return {s.student: (s.score, s.failed) for s in course.scores(module).values()}


def run(students: int, jobs: int, module_name: str, console: Console) -> dict:
    module = find(module_name)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Course.scratch(Path(tmp) / "base", [module])
        make_class(base, module, students)
        runs = [("nbgrader autograde (serial)", None), ("coursekit, 1 worker", 1)]
        runs.append((f"coursekit, {jobs} workers", jobs))
        for label, workers in runs:
            folder = Path(tmp) / f"{label.split()[0]}{workers}"
            shutil.copytree(base.root, folder)
            course = Course(folder)
            console.print(f"grading {students} notebooks: {label} ...")
            start = time.perf_counter()
            if workers is None:
                course.ensure_assignment(module)
                course.autograde(module)
            else:
                grade_class(course, module, jobs=workers, force=True)
            seconds = time.perf_counter() - start
            results[label] = {"seconds": seconds, "scores": cell_scores(course, module)}
    return results


def report(results: dict, students: int, console: Console) -> bool:
    serial = results["nbgrader autograde (serial)"]
    table = Table(title=f"Grading {students} notebooks")
    for col in ("command", "total s", "notebooks/min", "s/notebook", "vs nbgrader serial"):
        table.add_column(col, justify="right")
    for label, r in results.items():
        per = r["seconds"] / students
        table.add_row(
            label,
            f"{r['seconds']:.1f}",
            f"{60 * students / r['seconds']:.0f}",
            f"{per:.2f}",
            f"{per - serial['seconds'] / students:+.2f} s/notebook",
        )
    console.print(table)
    same = all(r["scores"] == serial["scores"] for r in results.values())
    console.print("gradebooks agree" if same else "[red]gradebooks differ")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_grading", description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--module", default="01_tensor")
    args = parser.parse_args(argv)
    console = Console()
    results = run(args.students, args.jobs, args.module, console)
    return 0 if report(results, args.students, console) else 1


if __name__ == "__main__":
    raise SystemExit(main())
