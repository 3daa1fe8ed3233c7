"""Grading otter submissions with `otter run` (no Docker), and their grades in the gradebook.

- `run_otter`: one submission (a notebook, or the zip `grader.export()` makes) through
  `otter run -a <zip>`, in a child process with a wall-clock limit, the plugin of that very
  zip on PYTHONPATH; the result is the points of each test cell, keyed by nbgrader grade_id.
- `grade_folder`: every student's submission under `otter-submitted/<student>/<assignment>/`
  (the layout of nbgrader's `submitted/`; a `timestamp.txt` beside it counts for lateness),
  results kept as JSON in `gradebook/otter/<assignment>/<student>.json`.
- `record`: those points written into the nbgrader gradebook as the submission's grades
  (with the course's late policy and the review scan's flags), so `coursekit export` (the
  Canvas CSV) and `coursekit report` read otter's grades exactly as they read nbgrader's.

`otter run` contains nothing: student code runs with the grader's rights (see
docs/deploy-otter-gradescope.md); Gradescope's container is the isolation.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from tito import cells

from ..modules import REPO, Module
from ..tools import tool_env
from . import assignment

# The kernel `otter run` starts here: this environment's Python, without the finder that the
# editable install of this repository adds, so a notebook imports tinytorch only from the
# earlier modules the autograder ships (as in Gradescope's image, which has no other).
KERNEL_LAUNCHER = """\
import sys

here = sys.path.pop(0)  # this launcher's folder
sys.modules["rfc3987_syntax"] = None  # jsonschema's IRI checks, unused: 1 s less per kernel
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in str(f.__module__)]
for name in [n for n in sys.modules if n == "tinytorch" or n.startswith("tinytorch.")]:
    del sys.modules[name]
from ipykernel import kernelapp

kernelapp.launch_new_instance()
"""
TIMEOUT = 600.0  # seconds for one submission, all cells (nbgrader: 120 s per cell)
SUBMITTED = "otter-submitted"
KEY = cells.COURSE_KEY


@dataclass
class OtterResult:
    """What `otter run` gave one submission: points per test cell (nbgrader grade_id)."""

    points: dict[str, float] = field(default_factory=dict)
    max_points: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # otter failed (no results, a timeout, a refused submission)
    seconds: float = 0.0
    messages: dict[str, str] = field(default_factory=dict)  # grade_id -> what otter said

    @property
    def score(self) -> float:
        return sum(self.points.values())

    @property
    def max_score(self) -> float:
        return sum(self.max_points.values())

    @property
    def failed(self) -> list[str]:
        return [g for g, m in self.max_points.items() if self.points.get(g, 0.0) < m]

    def to_json(self) -> dict:
        return {
            "points": self.points,
            "max_points": self.max_points,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "messages": self.messages,
        }

    @classmethod
    def from_json(cls, data: dict) -> OtterResult:
        return cls(
            data["points"],
            data["max_points"],
            data.get("error"),
            data.get("seconds", 0.0),
            data.get("messages", {}),
        )


# --- submissions -----------------------------------------------------------------------------


def student_notebook(module: Module, root: Path = REPO) -> NotebookNode:
    folder = assignment.module_dir(module, root) / "student"
    return nbformat.read(folder / module.notebook, as_version=4)


def from_nbgrader(otter_nb: NotebookNode, submission: NotebookNode) -> NotebookNode:
    """The otter notebook with the answers of an nbgrader submission (same cell ids)."""
    answers = {cells.grade_id(c): c.source for c in submission.cells if cells.is_solution(c)}
    nb = copy.deepcopy(otter_nb)
    for cell in nb.cells:
        meta = cell.metadata.get(KEY) or {}
        if meta.get("role") == "answer" and meta.get("cell") in answers:
            cell.source = answers[meta["cell"]]
    return nb


def results_to_points(results: dict, grade_ids: dict[str, str]) -> OtterResult:
    """otter's results.json (Gradescope's format) as points per grade_id."""
    result = OtterResult()
    for test in results.get("tests", []):
        name = test.get("name")
        if name in grade_ids and "max_score" in test:
            gid = grade_ids[name]
            result.points[gid] = float(test.get("score") or 0.0)
            result.max_points[gid] = float(test["max_score"])
            result.messages[gid] = test.get("output", "")
    return result


# `otter run` on several submissions in one process (otter.run.main is what the command
# calls), so otter is imported once: argv = autograder zip, output folder, submissions.
BATCH_DRIVER = """\
import json
import sys
import traceback
from pathlib import Path

sys.modules["rfc3987_syntax"] = None
import otter.run

zip_path, out = sys.argv[1], Path(sys.argv[2])
for name, submission in json.loads(Path(sys.argv[3]).read_text()):
    target = out / name
    target.mkdir(parents=True)
    try:
        otter.run.main(submission, autograder=zip_path, output_dir=str(target), no_logo=True)
    except BaseException:
        (target / "error.txt").write_text(traceback.format_exc()[-2000:])
    print("graded", name, flush=True)
"""


def _otter_env(tmp: Path, autograder: Path) -> dict:
    """The environment `otter run` grades in: the zip's own plugin on PYTHONPATH, the kernel
    of KERNEL_LAUNCHER as `python3`."""
    plugin_dir = tmp / "plugin"  # the plugin of this very zip, for `otter run`'s process
    plugin_dir.mkdir()
    with zipfile.ZipFile(autograder) as zf:
        (plugin_dir / f"{assignment.PLUGIN}.py").write_bytes(zf.read(f"{assignment.PLUGIN}.py"))
    env = tool_env(
        PYTHONPATH=str(plugin_dir),
        PYTHONWARNINGS="ignore",
        JUPYTER_PATH=str(_kernel_folder(tmp / "jupyter")),
    )
    env.pop("TINYTORCH_SANDBOX", None)
    return env


def _run(command: list[str], cwd: Path, env: dict, timeout: float) -> tuple[str, str | None]:
    """Run a command in its own session; (log, error) where error says why it failed."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the kernels too are ended on a timeout
    )
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "", f"timed out after {timeout:g} s"
    return log, None


def _read_result(module: Module, out: Path, root: Path, error: str | None, log: str):
    source_nb = nbformat.read(root / "source" / module.assignment / module.notebook, 4)
    ids = assignment.grade_ids(source_nb)
    maxima = {cells.grade_id(c): cells.points(c) for c in assignment.test_cells(source_nb)}
    results_file = out / "results.json"
    if results_file.is_file():
        data = json.loads(results_file.read_text())
        result = results_to_points(data, ids)
        if not result.points and error is None:
            error = _otter_error(data) or "otter gave no test results"
    else:
        result = OtterResult()
        if (out / "error.txt").is_file():
            log = (out / "error.txt").read_text()
        error = error or f"otter run failed:\n{log[-2000:]}"
    result.points = {**{g: 0.0 for g in maxima}, **result.points}
    result.max_points = {**maxima, **result.max_points}
    result.error = error
    return result


def run_otter(
    module: Module,
    submission: Path,
    root: Path = REPO,
    timeout: float = TIMEOUT,
    autograder: Path | None = None,
) -> OtterResult:
    """`otter run` one submission with the module's autograder zip; points per test cell."""
    autograder = autograder or assignment.module_dir(module, root) / assignment.zip_name(module)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="otter-run-") as tmp:
        tmp = Path(tmp)
        out = tmp / "out"
        out.mkdir()
        otter = str(Path(sys.executable).with_name("otter"))
        command = [otter, "run", "-a", str(autograder), "-o", str(out), "--no-logo"]
        log, error = _run([*command, str(submission)], tmp, _otter_env(tmp, autograder), timeout)
        result = _read_result(module, out, root, error, log)
    result.seconds = time.monotonic() - started
    return result


def run_many(
    module: Module, submissions: dict[str, Path], root: Path = REPO, timeout: float = TIMEOUT
) -> dict[str, OtterResult]:
    """`otter run` several submissions (name -> path) in one process, each result in a
    folder of its own; one submission's failure is its own."""
    autograder = assignment.module_dir(module, root) / assignment.zip_name(module)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="otter-run-") as tmp:
        tmp = Path(tmp)
        out = tmp / "out"
        driver = tmp / "driver.py"
        driver.write_text(BATCH_DRIVER)
        order = tmp / "submissions.json"
        order.write_text(json.dumps([[str(i), str(p)] for i, p in enumerate(submissions.values())]))
        command = [sys.executable, str(driver), str(autograder), str(out), str(order)]
        env = _otter_env(tmp, autograder)
        log, error = _run(command, tmp, env, timeout * len(submissions))
        results = {
            name: _read_result(module, out / str(i), root, error, log)
            for i, name in enumerate(submissions)
        }
    each = (time.monotonic() - started) / max(1, len(submissions))
    for result in results.values():
        result.seconds = each
    return results


def _kernel_folder(folder: Path) -> Path:
    """A Jupyter data folder whose `python3` kernel is KERNEL_LAUNCHER (see above)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "launch.py").write_text(KERNEL_LAUNCHER)
    kernel = {
        "argv": [sys.executable, str(spec / "launch.py"), "-f", "{connection_file}"],
        "display_name": "Python 3 (otter run)",
        "language": "python",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return folder


def _otter_error(data: dict) -> str | None:
    for test in data.get("tests", []):
        if test.get("name") in ("Autograder Error", "Autograder Failed"):
            return test.get("output", "")[:500]
    return None


def grade_notebooks(
    module: Module, notebooks: dict[str, NotebookNode], workdir: Path, root: Path = REPO
) -> dict[str, OtterResult]:
    """Grade otter notebooks (name -> notebook) with `otter run`, one process for all."""
    paths = {}
    for name, nb in notebooks.items():
        folder = workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        paths[name] = folder / module.notebook
        paths[name].write_text(nbformat.writes(nb), encoding="utf-8")
    try:
        return run_many(module, paths, root)
    finally:
        for path in paths.values():
            shutil.rmtree(path.parent, ignore_errors=True)


# --- a class: review, grading, the gradebook ------------------------------------------------

OTTER_NAMES = {"otter", "grader", "Checker", "GradingResults", "TestFile", "test_case"}
OTTER_MODULES = {"otter", "pickle", "dill", "marshal", "shelve"}


def review_submission(module: Module, nb: NotebookNode, root: Path = REPO) -> list[str]:
    """What deserves a human look in an otter submission (the score is never changed).

    The course's review scan on every cell a student wrote (coursekit.grading.scan), and what
    is otter's own: reaching into otter or its result files, reading the test files, a given
    cell edited or deleted (it is put back for grading), another module's notebook.
    """
    import ast

    from ..grading.scan import review
    from ..modules import graded_and_later

    template = {
        (c.metadata.get(KEY) or {}).get("cell"): c for c in student_notebook(module, root).cells
    }
    packages = graded_and_later(module.assignment, root)
    found = []
    name = (nb.metadata.get("otter") or {}).get("assignment_name")
    if name != module.assignment:
        found.append(f"the notebook is for {name!r}, not {module.assignment}")
    seen = set()
    for cell in nb.cells:
        key = (cell.metadata.get(KEY) or {}).get("cell") or cell.get("id")
        given = template.get(key)
        role = (given.metadata.get(KEY) or {}).get("role") if given is not None else None
        seen.add(key)
        if role in ("given", "checks", "check"):
            if cell.source.strip() != given.source.strip():
                found.append(f"{key}: the given cell was edited (put back for grading)")
            continue
        if cell.cell_type != "code":
            continue
        where = key if given is not None else "an added cell"
        found += [f"{where}, {f}" for f in review(cell.source, packages)]
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            for imported in sorted(set(names) & OTTER_MODULES):
                found.append(f"{where}, line {node.lineno}: imports {imported} (otter's machinery)")
            if isinstance(node, ast.Name) and node.id in OTTER_NAMES:
                found.append(f"{where}, line {node.lineno}: uses otter's {node.id}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if "tests/" in node.value or node.value.endswith(".OTTER_LOG"):
                    found.append(f"{where}, line {node.lineno}: names otter's test files")
    for key, cell in template.items():
        role = (cell.metadata.get(KEY) or {}).get("role")
        if role in ("given", "checks", "check") and key not in seen and key != "otter_export":
            found.append(f"{key}: the given cell was deleted (put back for grading)")
    return sorted(set(found))


def notebook_of(submission: Path) -> NotebookNode | None:
    """The notebook inside a submission (the file itself, or the one .ipynb in a zip)."""
    try:
        if submission.suffix == ".zip":
            with zipfile.ZipFile(submission) as zf:
                names = [n for n in zf.namelist() if n.endswith(".ipynb") and "/" not in n]
                if len(names) != 1:
                    return None
                return nbformat.reads(zf.read(names[0]).decode("utf-8"), 4)
        return nbformat.read(submission, 4)
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError):
        return None


def extra_files(submission: Path) -> list[str]:
    """Files of a submission zip besides its notebook and otter's own (the plugin removes
    them before grading; a `numpy.py` there would have been imported instead of NumPy)."""
    if submission.suffix != ".zip":
        return []
    try:
        with zipfile.ZipFile(submission) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        return []
    ours = {"__zip_filename__", ".OTTER_LOG"}
    return sorted(n for n in names if n not in ours and not n.endswith((".ipynb", ".pdf")))


def find_submissions(folder: Path, module: Module) -> dict[str, Path | None]:
    """student -> their submission under folder/<student>/<assignment>/ (None: unusable)."""
    found: dict[str, Path | None] = {}
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        here = student_dir / module.assignment
        if not here.is_dir():
            continue
        files = sorted(p for p in here.iterdir() if p.suffix in (".zip", ".ipynb"))
        found[student_dir.name] = files[-1] if len(files) >= 1 else None
    return found


def record(course, module: Module, student: str, result: OtterResult, timestamp, findings):
    """Write one student's otter grades into the gradebook, as autograde would have."""
    from nbgrader.api import Gradebook

    from ..plugins.late import CoursePolicyLatePenalty
    from ..plugins.preprocessors import REVIEW_NOTE

    with Gradebook(course.db_url) as gb:
        gb.find_student(student)  # MissingEntry for a student not on the roster
        extra = {"timestamp": timestamp} if timestamp is not None else {}
        with warnings.catch_warnings():  # SQLAlchemy's autoflush notes on a new submission
            warnings.simplefilter("ignore")
            submission = gb.update_or_create_submission(module.assignment, student, **extra)
        notebook = gb.find_submission_notebook(module.name, module.assignment, student)
        flagged = bool(findings) or result.error is not None
        for grade in notebook.grades:
            if grade.name in result.max_points:
                grade.auto_score = result.points.get(grade.name, 0.0)
                grade.manual_score = None
            grade.needs_manual_grade = flagged
        gb.db.commit()
        notebook.late_submission_penalty = None
        late = submission.total_seconds_late or 0.0
        if late > 0:
            policy = CoursePolicyLatePenalty(config=course.config)
            notebook.late_submission_penalty = policy.late_submission_penalty(
                student, notebook.score, late, max_score=notebook.max_score
            )
        notes = list(findings) + ([f"otter: {result.error}"] if result.error else [])
        comments = sorted(notebook.comments, key=lambda c: c.cell.name)
        if comments:
            comments[0].auto_comment = (REVIEW_NOTE + "\n".join(notes)) if notes else None
        gb.db.commit()


def grade_folder(course, module: Module, folder: Path, root: Path = REPO, log=print) -> dict:
    """Grade every student's otter submission in `folder` and record the grades.

    Returns {student: OtterResult}; students not on the roster are listed and not graded.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    course.ensure_assignment(module)
    results_dir = course.gradebook_dir / "otter" / module.assignment
    results_dir.mkdir(parents=True, exist_ok=True)
    with Gradebook(course.db_url) as gb:
        roster = {s.id for s in gb.students}
    graded = {}
    for student, path in find_submissions(folder, module).items():
        if student not in roster:
            log(f"{student}: not on the roster (make roster), not graded")
            continue
        stamp_file = folder / student / module.assignment / "timestamp.txt"
        timestamp = parse_utc(stamp_file.read_text().strip()) if stamp_file.is_file() else None
        nb = notebook_of(path) if path is not None else None
        if nb is None:
            result = OtterResult(error="no notebook found in the submission")
            findings = ["the submission holds no readable notebook"]
        else:
            findings = review_submission(module, nb, root)
            extra = extra_files(path)
            if extra:
                findings.append(f"the zip holds other files (not graded): {', '.join(extra)}")
            result = run_otter(module, path, root)
        payload = {**result.to_json(), "findings": findings, "submission": str(path)}
        (results_dir / f"{student}.json").write_text(json.dumps(payload, indent=1))
        try:
            record(course, module, student, result, timestamp, findings)
        except MissingEntry:
            log(f"{student}: not on the roster, not graded")
            continue
        graded[student] = result
        flag = " (flagged for review)" if findings or result.error else ""
        log(f"{student}: {result.score:g} / {result.max_score:g}{flag}")
    return graded
