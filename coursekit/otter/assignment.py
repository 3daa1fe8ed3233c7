"""Each module's otter-grader assignment, built from the same source notebook nbgrader reads.

`make release` writes, per module, `otter/NN_name/`:

- `student/`: what students get. `<name>.ipynb` is nbgrader's release notebook (the same
  stubs, prose, given cells) with a first cell that starts otter (`grader = otter.Notebook(...)`),
  each test cell replaced by `grader.check("<task>")`, and a last cell that makes the
  submission zip (`grader.export(...)`). `tests/<task>.py` holds each test cell's visible
  tests as one public case, worth the cell's points. `tinytorch/` holds the reference of the
  earlier modules only, which the notebook imports.
- `autograder/`: what goes into the Gradescope zip besides otter's own files. `tests/<task>.py`
  has two cases per test cell: the visible tests (public) and the whole cell as nbgrader runs
  it, hidden tests included (hidden), each starting with the cell's hidden grading set-up;
  all or nothing, the cell's points, so a task scores what it scores under nbgrader.
  `tinytorch/` holds the earlier modules (never the graded one; the zip puts it in `files/`,
  which otter copies beside the submission). `template.ipynb` is the notebook the plugin `tinytorch_otter.py` grades from (the given
  cells put back, checks that call otter directly), `tests.json` the tests the plugin expects
  in the results, `otter_config.json`, `requirements.txt` (the module's pins from
  requirements.lock).
- `NN_name-autograder.zip`: `otter generate`'s zip of that folder (setup.sh, run_autograder,
  environment.yml with otter-grader and the requirements, Python 3.11), written with sorted
  entries and fixed timestamps so that the same masters give the same zip.

Nothing here is edited by hand: `make check` regenerates it and reports any difference.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from tito import cells

from ..authoring import markers
from ..authoring.references import INTEGRATION_WORDS, SETUP_WORDS
from ..modules import REPO, Module, discover
from ..tools import write_notebook
from . import cases

OTTER_DIR = "otter"
PLUGIN = "tinytorch_otter"
PLUGIN_CLASS = f"{PLUGIN}.GradeLikeNbgrader"
PYTHON = "3.11"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # every zip entry's timestamp: the same masters, the same zip
KEY = cells.COURSE_KEY

INIT_SOURCE = """\
# Otter-Grader runs this notebook's self-checks: `grader.check("<task>")` below each task.
import otter

grader = otter.Notebook("{notebook}")"""
CHECK_SOURCE = 'grader.check("{question}")'
# In the autograder's template: undo what student code replaced in NumPy, builtins and the
# checks before otter loads the test file, and reach otter by import, not by a name the
# notebook could rebind.
GRADED_CHECK_SOURCE = """\
_grading.protect()
__import__("otter").Notebook().check("{question}")"""
EXPORT_SOURCE = "grader.export(pdf=False, force_save=True)"

INTRO = """\
## This notebook on Gradescope (otter-grader)

Your course grades this module with [otter-grader](https://otter-grader.readthedocs.io) on
Gradescope. Everything above and below is the same as in the JupyterHub version, except:

- each test cell is a self-check, `grader.check("<task>")`: it runs the task's **visible
  tests** (they are in `tests/<task>.py` beside this notebook) and shows what failed;
- when Gradescope grades your submission, each task also runs its **hidden tests** on other
  inputs, all or nothing, for the points in the table; the given cells (set-up, checks, the
  `grader.check` cells) are put back as they were given, so edit only your answers;
- to submit, run the last cell of the notebook: it saves the notebook into a zip file.
  Upload that zip to the module's assignment on Gradescope. The visible tests' results show
  at once; the per-task scores and the hidden tests' behaviour words when grades are
  published."""

SUBMIT = """\
## Submit

Save the notebook (File > Save), then run the cell below. Upload the zip file it links to
the module's assignment on Gradescope."""


# --- names ----------------------------------------------------------------------------------


def question(grade_id: str) -> str:
    """Otter's question name for a test cell: its id without the `test_` prefix."""
    return grade_id.removeprefix("test_")


def module_dir(module: Module, root: Path = REPO) -> Path:
    return root / OTTER_DIR / module.assignment


def zip_name(module: Module) -> str:
    return f"{module.assignment}-autograder.zip"


def test_cells(source_nb: NotebookNode) -> list[NotebookNode]:
    return [c for c in source_nb.cells if cells.is_test(c)]


def grade_ids(source_nb: NotebookNode) -> dict[str, str]:
    """question name -> nbgrader grade_id of its test cell."""
    return {question(cells.grade_id(c)): cells.grade_id(c) for c in test_cells(source_nb)}


# --- the student notebook and the grading template --------------------------------------------


def _role(cell: NotebookNode) -> str | None:
    meta = cells.nbgrader(cell)
    if cell.cell_type != "code":
        return None
    if cells.is_test(cell):
        return "check"
    if cells.is_solution(cell):
        return "answer"
    if meta.get("grade_id") == "checks":
        return "checks"
    if cells.is_locked(cell):
        return "given"
    return "code"


def _mark(cell: NotebookNode, cell_id: str, role: str | None) -> NotebookNode:
    cell.id = cell_id
    meta = {k: v for k, v in cell.metadata.items() if k != "nbgrader"}
    course = dict(meta.get(KEY) or {})
    course["cell"] = cell_id
    if role:
        course["role"] = role
    meta[KEY] = course
    if role in ("given", "checks", "check"):
        meta["editable"] = False
        meta["deletable"] = False
    cell.metadata = meta
    return cell


def student_notebook(module: Module, source_nb: NotebookNode, release_nb: NotebookNode):
    """nbgrader's release with otter's set-up, self-checks and export cell."""
    release = {c.id: c for c in release_nb.cells}
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(release_nb.metadata)
    nb.metadata["otter"] = {"assignment_name": module.assignment}
    nb.metadata[KEY] = {**nb.metadata.get(KEY, {}), "target": "otter-grader"}
    init = nbformat.v4.new_code_cell(INIT_SOURCE.format(notebook=module.notebook))
    new = [_mark(init, "otter_init", "given")]
    for index, cell in enumerate(source_nb.cells):
        role = _role(cell)
        if role == "check":
            out = nbformat.v4.new_code_cell(CHECK_SOURCE.format(question=question(cell.id)))
            new.append(_mark(out, cell.id, role))
            continue
        out = copy.deepcopy(release[cell.id])
        if out.cell_type == "code":
            out.outputs, out.execution_count = [], None
        new.append(_mark(out, cell.id, role))
        if index == 0:
            new.append(_mark(nbformat.v4.new_markdown_cell(INTRO), "otter_intro", None))
    new.append(_mark(nbformat.v4.new_markdown_cell(SUBMIT), "otter_submit", None))
    new.append(_mark(nbformat.v4.new_code_cell(EXPORT_SOURCE), "otter_export", "given"))
    nb.cells = new
    return nb


def grading_template(student_nb: NotebookNode) -> NotebookNode:
    """The student notebook as the plugin grades it: checks that protect and call otter."""
    nb = copy.deepcopy(student_nb)
    roles = [(c.metadata.get(KEY) or {}).get("role") for c in nb.cells]
    for cell, role in zip(nb.cells, roles, strict=True):
        if role == "check":
            source = GRADED_CHECK_SOURCE.format(question=question(cell.metadata[KEY]["cell"]))
            if "checks" not in roles:  # a module without the shared checks: nothing to protect
                source = source.split("\n", 1)[1]
            cell.source = source
    return nb


# --- test files -------------------------------------------------------------------------------


def split_test_cell(source: str) -> tuple[str, str, list[tuple[int, int, str]]]:
    """(set-up block, visible tests, hidden check groups) of a source notebook's test cell.

    The set-up is the hidden block at the top that `make release` adds (empty in a module
    without the shared checks); groups are (first, last, words), 1-based lines of the cell.
    """
    lines = source.splitlines()
    regions = markers.hidden_regions(source)
    setup = ""
    if regions and regions[0][0] == 0:
        words = markers.BEHAVIOUR.match(lines[1]) if len(lines) > 1 else None
        if words and words.group("words") in (SETUP_WORDS, INTEGRATION_WORDS):
            setup = "\n".join(lines[: regions[0][1] + 1])
    groups = []
    for first, last in regions:
        if setup and first == 0:
            continue
        current = None
        for i in range(first + 1, last):
            match = markers.BEHAVIOUR.match(lines[i])
            if match:
                if current:
                    groups.append((current[0], i, current[1]))
                current = (i + 1, match.group("words"))
        if current:
            groups.append((current[0], last + 1, current[1]))
    visible = markers.drop_hidden_tests(source)
    return setup, visible, groups


def _literal(text: str) -> str:
    """`text` as a Python string literal that reads like the code it holds."""
    if not text:
        return '""'
    for quote in ("'''", '"""'):
        if quote not in text:
            return f"r{quote}\n{text}\n{quote}[1:-1]"
    return repr(text)


def _runner_source() -> str:
    text = Path(cases.__file__).read_text(encoding="utf-8")
    return text.split("# --- inlined ---\n", 1)[1]


def _master_path(module: Module) -> str:
    return module.master.relative_to(module.master_dir.parent.parent).as_posix()


def test_file(module: Module, cell: NotebookNode, grading: bool) -> str:
    """One test cell as an otter test file (autograder's copy when `grading`)."""
    setup, visible, groups = split_test_cell(cell.source)
    name, points = question(cell.id), cells.points(cell)
    points_text = f"{points:g}"
    kind = "the autograder's copy: visible and hidden tests" if grading else "the visible tests"
    lines = [
        f'"""{module.assignment}, test cell {cell.id} ({points_text} points): {kind}.',
        "",
        f"Generated by `make release` from {_master_path(module)}",
        "(coursekit/otter/assignment.py); do not edit.",
        '"""',
        "",
        "from otter.test_files import test_case",
        "",
        "OK_FORMAT = False",
        f"name = {name!r}",
        "all_or_nothing = True  # a test cell earns its points only when every check passes",
        f"GRADE_ID = {cell.id!r}",
        f"GRADING = {grading!r}",
        f"SETUP = {_literal(setup if grading else '')}",
        f"VISIBLE = {_literal(visible)}",
        f"CELL = {_literal(cell.source if grading else '')}",
        f"HIDDEN = {groups if grading else []!r}",
        "",
        _runner_source().rstrip(),
        "",
        "",
        f"@test_case(name={name + ': visible tests'!r}, points={0 if grading else points!r})",
        "def visible_tests(env):",
        '    _verdict(env, "visible")',
    ]
    if grading:
        lines += [
            "",
            "",
            f"@test_case(name={name + ': hidden tests'!r}, points={points!r}, hidden=True)",
            "def hidden_tests(env):",
            '    _verdict(env, "hidden")',
        ]
    text = "\n".join(lines) + "\n"
    _check_test_file(text, setup if grading else "", visible, cell.source if grading else "")
    return text


def test_file_constants(text: str) -> dict:
    """The constants a generated test file sets (name, GRADING, SETUP, VISIBLE, CELL, ...),
    read without running the file."""
    values = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            expression = compile(ast.Expression(node.value), "<test file>", "eval")
            if not expression.co_names:  # literals only
                values[node.targets[0].id] = eval(expression, {"__builtins__": {}})
    return values


def _check_test_file(text: str, setup: str, visible: str, cell: str) -> None:
    """The generated file parses and holds exactly the code it should (literals round-trip)."""
    values = test_file_constants(text)
    got = {k: values.get(k) for k in ("SETUP", "VISIBLE", "CELL")}
    if got != {"SETUP": setup, "VISIBLE": visible, "CELL": cell}:
        raise AssertionError("a generated test file does not hold its test cell's code")


# --- files, config, package ---------------------------------------------------------------------


def requirements(module: Module, lock: Path) -> str:
    """The pins of requirements.lock for the third-party packages the master imports."""
    pins = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.lower().replace("_", "-")] = f"{name}=={version}"
    tree = ast.parse(module.master.read_text(encoding="utf-8"))
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            used.add(node.module.split(".")[0])
    wanted = sorted(pins[n.lower()] for n in used if n.lower() in pins)
    return "".join(f"{p}\n" for p in wanted)


def earlier_package(package_root: Path, module: Module, root: Path = REPO) -> dict[Path, bytes]:
    """The reference package's files of the modules before `module` (never its own): each
    earlier module's file and the `__init__.py` files on the way to it, as the grading
    sandbox leaves them (coursekit.grading.sandbox.allowed_reference).

    The package's `__init__.py` always comes along: beside the notebook it is the `tinytorch`
    a kernel imports first, so an installed full reference (this repository's, under a local
    `otter run`) is never reached by `import tinytorch...`.
    """
    files: dict[Path, bytes] = {}
    for earlier in discover(root):
        if earlier.number >= module.number:
            continue
        relative = earlier.package_file
        for part in [relative, *(p / "__init__.py" for p in relative.parents if p.parts)]:
            if (package_root / part).is_file():
                files[part] = (package_root / part).read_bytes()
    init = Path("tinytorch", "__init__.py")
    files.setdefault(init, (package_root / init).read_bytes())
    return files


def corpus_files(module: Module, root: Path = REPO) -> dict[Path, bytes]:
    """The datasets/ files a module's tests read (`data` in module.toml), as `<corpus>/<split>.txt`
    beside the notebook: load_corpus finds them in the working folder otter grades in."""
    files = {}
    for relative in module.data:
        source = root / "datasets" / relative
        if not source.is_file():  # a scratch course's masters read this repository's data
            source = REPO / "datasets" / relative
        if not source.is_file():
            raise FileNotFoundError(
                f"{module.assignment}: module.toml lists data {relative!r}, but neither "
                f"{root / 'datasets' / relative} nor {source} exists"
            )
        files[Path(relative)] = source.read_bytes()
    return files


def otter_config(module: Module) -> dict:
    return {
        "lang": "python",
        "assignment_name": module.assignment,
        "show_hidden": True,  # per-task scores and behaviour words once grades are published
        "show_stdout": False,  # stdout can hold whatever student code printed
        "pdf": False,
        "plugins": [{PLUGIN_CLASS: {"template": "template.ipynb"}}],
    }


def _write_files(folder: Path, files: dict[Path, bytes]) -> None:
    for relative, data in sorted(files.items()):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# --- the whole assignment ----------------------------------------------------------------------


def write_assignment(
    module: Module,
    source_nb: NotebookNode,
    release_nb: NotebookNode,
    package_root: Path,
    out: Path,
    root: Path = REPO,
) -> Path:
    """Write `otter/NN_name/` for one module under `out`; returns that folder."""
    folder = module_dir(module, out)
    shutil.rmtree(folder, ignore_errors=True)
    student, grader = folder / "student", folder / "autograder"
    nb = student_notebook(module, source_nb, release_nb)
    write_notebook(nb, student / module.notebook)
    write_notebook(grading_template(nb), grader / "template.ipynb")
    extras = {  # a module's own data files sit beside the notebook
        Path(p.name): p.read_bytes()
        for p in sorted(module.master_dir.iterdir())
        if p.is_file() and p.name not in ("module.toml", module.master.name)
    }
    # both folders get the same files: the earlier modules' package, extras, corpora
    beside = {**earlier_package(package_root, module, root), **extras, **corpus_files(module, root)}
    _write_files(student, beside)
    _write_files(grader, beside)
    expected = {}
    for cell in test_cells(source_nb):
        name = question(cell.id)
        (student / "tests").mkdir(parents=True, exist_ok=True)
        (grader / "tests").mkdir(parents=True, exist_ok=True)
        (student / "tests" / f"{name}.py").write_text(test_file(module, cell, False))
        (grader / "tests" / f"{name}.py").write_text(test_file(module, cell, True))
        expected[name] = [cells.points(cell), 2]
    (grader / "tests.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    (grader / "otter_config.json").write_text(json.dumps(otter_config(module), indent=1) + "\n")
    lock = root / "requirements.lock"
    lock = lock if lock.is_file() else REPO / "requirements.lock"  # a scratch course's masters
    (grader / "requirements.txt").write_text(requirements(module, lock))
    plugin = Path(__file__).with_name(f"{PLUGIN}.py").read_text(encoding="utf-8")
    (grader / f"{PLUGIN}.py").write_text(plugin)
    shipped = sorted({p.parts[0] for p in beside})
    write_zip(grader, folder / zip_name(module), shipped)
    return folder


@contextlib.contextmanager
def plugin_importable(folder: Path):
    """Run with `folder` (holding tinytorch_otter.py) first on sys.path, as otter needs."""
    sys.path.insert(0, str(folder))
    sys.modules.pop(PLUGIN, None)
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(PLUGIN, None)


@contextlib.contextmanager
def _cwd(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        with plugin_importable(path):
            yield
    finally:
        os.chdir(before)


def write_zip(grader: Path, target: Path, shipped: list[str]) -> None:
    """`otter generate` on the autograder folder, then the zip rewritten deterministically
    (sorted entries, fixed timestamps) with our plugin, template and test list at its top."""
    import otter.generate

    root_files = [f"{PLUGIN}.py", "template.ipynb", "tests.json", "otter_config.json"]
    with tempfile.TemporaryDirectory(prefix="otter-generate-") as tmp:
        raw = Path(tmp) / "raw.zip"
        with _cwd(grader), contextlib.redirect_stdout(sys.stderr):
            otter.generate.main(
                tests_dir="tests",
                output_path=str(raw),
                config="otter_config.json",
                requirements="requirements.txt",
                no_environment=True,
                files=shipped,
                python_version=PYTHON,
            )
        entries = {}
        with zipfile.ZipFile(raw) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    entries[info.filename] = zf.read(info)
        for name in root_files:
            entries[name] = (grader / name).read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name == "run_autograder" else 0o644) << 16
            zf.writestr(info, entries[name])


def zip_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
