"""`make bench-grading`: how fast a class is graded, nbgrader serial vs this course's command.

Generates a class of N submissions of one module (perfect, partial, blank and subtly wrong
students in turn), copies it into identical scratch courses and grades each copy:

- `nbgrader autograde` (serial, nbgrader's own command, contained kernels as configured);
- `coursekit autograde --jobs 1` (intake, one worker);
- `coursekit autograde --jobs J` (intake, J workers);
- `coursekit autograde --jobs J --cluster local` (intake, a Dask LocalCluster of J workers,
  or `--cluster tcp://...` for a running scheduler).

It prints notebooks per minute, seconds per notebook, the overhead per notebook over
nbgrader's own serial autograde, and each mode's cost per notebook beyond the notebook's own
execution (a perfect submission run in a fresh, uncontained kernel): wall time times the
cores in use, divided by the notebooks, minus that. It checks that all gradebooks agree.
`--db-url` puts every copy's gradebook on PostgreSQL (a copy of that database each).

    python -m coursekit.bench.grading [--students 300] [--jobs 2] [--module 01_tensor]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
from rich.console import Console
from rich.table import Table

from ..course import Course
from ..grading.batch import grade_class
from ..modules import find
from ..quality import mutants
from ..simulation import submissions

BASELINE = "nbgrader autograde (serial), launcher kernels"
LAUNCHER_KERNELS = (
    "--Execute.kernel_manager_class=jupyter_client.manager.AsyncKernelManager",
    "--Execute.shutdown_kernel=graceful",
)


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


def execution_seconds(course: Course, module, repeats: int = 3) -> float:
    """The notebook's own run time: a perfect student's autograded notebook executed again
    in a fresh kernel (uncontained), best of `repeats`, kernel start-up included."""
    from nbclient import NotebookClient

    graded = sorted(course.root.glob(f"autograded/*/{module.assignment}/{module.notebook}"))
    best = {s: v for s, v in cell_scores(course, module).items() if not v[1]}
    path = next(p for p in graded if p.parts[-3] in best)
    times = []
    for _ in range(repeats):
        nb = nbformat.read(path, 4)
        client = NotebookClient(
            nb, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        start = time.perf_counter()
        client.execute()
        times.append(time.perf_counter() - start)
    return min(times)


def copy_course(base: Course, folder: Path) -> Course:
    """A copy of the course folder; a PostgreSQL gradebook is copied to a database of its own."""
    from ..grading.database import copy_database, is_postgres

    shutil.copytree(base.root, folder)
    course = Course(folder)
    if is_postgres(base.db_url):
        name = urlsplit(base.db_url).path.lstrip("/") + "_" + folder.name.lower()
        course.use_gradebook(copy_database(base.db_url, name))
    return course


def run(
    students: int,
    jobs: int,
    module_name: str,
    console: Console,
    db_url: str | None = None,
    cluster: str | None = "local",
    serial: bool = True,
    one_worker: bool = True,
    execution_repeats: int = 3,
    baseline: bool = False,
) -> dict:
    """Grade the same class in every mode; {label: {"seconds", "scores", "parallel",
    "db_url"}} and {"execution": seconds} (the notebook's own run time). `cluster` is
    "local" (a LocalCluster per run), a scheduler address, or None (no Dask mode).
    `baseline` adds serial nbgrader with its kernels started by the kernelspec's launcher,
    as before the pre-started standby kernels (coursekit/grading/standby.py)."""
    module = find(module_name)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Course.scratch(Path(tmp) / "base", [module], db_url=db_url)
        make_class(base, module, students)
        runs = [(BASELINE, None, None)] if baseline else []
        runs += [("nbgrader autograde (serial)", None, None)] if serial else []
        runs += [("coursekit, 1 worker", 1, None)] if one_worker else []
        runs.append((f"coursekit, {jobs} workers", jobs, None))
        if cluster:
            where = "LocalCluster" if cluster == "local" else cluster
            runs.append((f"coursekit on Dask ({where}), {jobs} workers", jobs, cluster))
        for index, (label, workers, on) in enumerate(runs):
            course = copy_course(base, Path(tmp) / f"mode{index}")
            console.print(f"grading {students} notebooks: {label} ...")
            start = time.perf_counter()
            if workers is None:
                course.ensure_assignment(module)
                course.autograde(module, *(LAUNCHER_KERNELS if label == BASELINE else ()))
            else:
                grade_class(course, module, jobs=workers, force=True, cluster=on)
            seconds = time.perf_counter() - start
            results[label] = {
                "seconds": seconds,
                "scores": cell_scores(course, module),
                "parallel": min(workers or 1, os.cpu_count() or 1),
                "db_url": course.db_url,
            }
        if execution_repeats:
            results["execution"] = execution_seconds(course, module, execution_repeats)
    return results


def report(results: dict, students: int, console: Console) -> bool:
    execution = results["execution"]
    modes = {k: v for k, v in results.items() if k != "execution"}
    serial = modes.get("nbgrader autograde (serial)", next(iter(modes.values())))
    table = Table(title=f"Grading {students} notebooks")
    columns = ("command", "total s", "notebooks/min", "s/notebook", "vs nbgrader serial")
    for col in (*columns, "cost beyond execution"):
        table.add_column(col, justify="right")
    for label, r in modes.items():
        per = r["seconds"] / students
        beyond = per * r["parallel"] - execution
        table.add_row(
            label,
            f"{r['seconds']:.1f}",
            f"{60 * students / r['seconds']:.0f}",
            f"{per:.2f}",
            f"{per - serial['seconds'] / students:+.2f} s/notebook",
            f"{beyond:.2f} s/notebook",
        )
    console.print(table)
    console.print(
        f"The notebook's own execution (fresh kernel, uncontained): {execution:.2f} s; "
        f"cost beyond it = s/notebook x cores in use ({os.cpu_count()} here) - that."
    )
    same = all(r["scores"] == serial["scores"] for r in modes.values())
    console.print("gradebooks agree" if same else "[red]gradebooks differ")
    return same


def scale(per_worker: int, max_workers: int, module_name: str, console: Console) -> list[dict]:
    """Weak scaling on Dask: `per_worker` notebooks for each of 1..`max_workers` workers of a
    LocalCluster (started before the clock, reached by its address as a remote one is), each
    count on a class of its own; the same grades in every run."""
    from ..grading.cluster import local_cluster

    module = find(module_name)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for workers in range(1, max_workers + 1):
            students = per_worker * workers
            course = Course.scratch(Path(tmp) / f"w{workers}", [module])
            make_class(course, module, students)
            course.ensure_assignment(module)
            console.print(f"scale: {students} notebooks on {workers} Dask worker(s) ...")
            cluster = local_cluster(workers)
            try:
                start = time.perf_counter()
                grade_class(course, module, jobs=workers, cluster=cluster.scheduler_address)
                seconds = time.perf_counter() - start
            finally:
                cluster.close()
            rows.append(
                {
                    "workers": workers,
                    "notebooks": students,
                    "seconds": seconds,
                    "per_minute": 60 * students / seconds,
                    "scores": cell_scores(course, module),
                }
            )
    return rows


def report_scale(rows: list[dict], console: Console) -> None:
    table = Table(title="Scaling on Dask: the same notebooks per worker, more workers")
    for col in ("workers", "notebooks", "total s", "notebooks/min", "speed-up", "efficiency"):
        table.add_column(col, justify="right")
    one = rows[0]["per_minute"]
    for r in rows:
        table.add_row(
            str(r["workers"]),
            str(r["notebooks"]),
            f"{r['seconds']:.1f}",
            f"{r['per_minute']:.0f}",
            f"{r['per_minute'] / one:.2f}x",
            f"{r['per_minute'] / one / r['workers']:.0%}",
        )
    console.print(table)
    console.print(
        f"{os.cpu_count()} cores here: linear scaling means efficiency near 100% up to them."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_grading", description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--module", default="01_tensor")
    parser.add_argument(
        "--cluster", default="local", help="Dask mode: 'local' (LocalCluster) or tcp://host:port"
    )
    parser.add_argument("--db-url", help="a PostgreSQL database for the gradebooks (copied)")
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="N",
        help="also the scaling run: N notebooks per worker on 1..cores Dask workers",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also serial nbgrader with kernels started by the launcher (no standby kernels)",
    )
    args = parser.parse_args(argv)
    console = Console()
    results = run(
        args.students,
        args.jobs,
        args.module,
        console,
        args.db_url,
        args.cluster,
        baseline=args.baseline,
    )
    same = report(results, args.students, console)
    if args.scale:
        rows = scale(args.scale, os.cpu_count() or 1, args.module, console)
        report_scale(rows, console)
        first = rows[0]["scores"]  # the same students graded the same in every run
        same = same and all(r["scores"][s] == v for r in rows for s, v in first.items())
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
