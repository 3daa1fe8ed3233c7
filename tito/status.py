"""`tito status`: where the student stands, module by module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import cells, export, milestones, notebooks, testing


@dataclass(frozen=True)
class Row:
    assignment: str
    fetched: str  # "yes", "yes + solution", "solution only", "no"
    exported: str  # "no", "yes", "yes, unfinished (2 tasks)", "yes (not by tito)"
    current: str  # "yes", "no: notebook changed since export", "-"
    tests: str  # "7/7 passed", "not run", "5/7 passed (notebook changed since)"
    code: str  # "own", "released solution", "-"
    tests_current: bool = False  # the last `tito test` passed on the notebook as it is now
    pace: str = "-"  # "~3 h, 2/5": expected hours and difficulty, from the notebook

    @property
    def done(self) -> bool:
        return (
            self.exported.startswith("yes")
            and self.current == "yes"
            and "unfinished" not in self.exported
        )


def _exported(package: str | None, root: Path, own, solution) -> tuple[str, str, str]:
    """(exported, up to date, whose code) for one module."""
    if package is None:
        return "no", "-", "-"
    target = export.target_file(package, root)
    if not target.is_file():
        return "no", "-", "-"
    info = export.read_header(target)
    if info is None:
        return "yes (not by tito)", "-", "?"
    count = len(info.unfinished)
    exported = f"yes, unfinished ({count} task{'s' * (count > 1)})" if count else "yes"
    source = solution if info.origin == "solution" else own
    code = "released solution" if info.origin == "solution" else "own"
    if source is None:
        return exported, "-", code
    cells = export.cells_by_package(notebooks.read(source.path)).get(package, [])
    current = "yes" if export.sha(cells) == info.sha else "no: notebook changed since export"
    return exported, current, code


def _tests(own, results: dict) -> tuple[str, bool]:
    """(what the last `tito test` found, whether it all passed on the current notebook)."""
    if own is None or own.assignment not in results:
        return "not run", False
    last = results[own.assignment]
    text = f"{last['passed']}/{last['total']} passed"
    if last.get("broken"):
        text += f", {last['broken']} cells raised"
    current = last.get("notebook_sha") == testing.notebook_sha(own.path)
    if not current:
        text += " (notebook changed since)"
    passing = last["total"] > 0 and last["passed"] == last["total"] and not last.get("broken")
    return text, current and passing


def _pace(info: dict) -> str:
    """Expected hours and difficulty as the notebook states them, e.g. "~3 h, 2/5"."""
    hours, difficulty = info.get("hours"), info.get("difficulty")
    if not hours:
        return "-"
    return f"~{hours:g} h, {difficulty}/5" if difficulty else f"~{hours:g} h"


def rows(home: Path, root: Path) -> list[Row]:
    """One row per module found in the home folder (own notebook or fetched solution)."""
    own = {m.assignment: m for m in notebooks.fetched(home)}
    solutions = notebooks.solutions(home)
    results = testing.load_results()
    found = []
    for assignment in sorted(set(own) | set(solutions)):
        mine, solution = own.get(assignment), solutions.get(assignment)
        fetched = {
            (True, True): "yes + solution",
            (True, False): "yes",
            (False, True): "solution only",
        }[(mine is not None, solution is not None)]
        package = (mine or solution).package
        exported, current, code = _exported(package, root, mine, solution)
        tests, tests_current = _tests(mine, results)
        pace = _pace(cells.notebook_info(notebooks.read((mine or solution).path)))
        found.append(Row(assignment, fetched, exported, current, tests, code, tests_current, pace))
    return found


def next_step(found: list[Row]) -> str | None:
    """The command to run next: test or export the first module that is not done."""
    todo = next((row for row in found if not row.done and row.fetched != "solution only"), None)
    if todo is None:
        return None
    return f"tito {'export' if todo.tests_current else 'test'} {todo.assignment}"


@dataclass(frozen=True)
class EraRow:
    era: str  # "1957 perceptron", from the folder 01_1957_perceptron
    milestones: str  # "perceptron-forward, perceptron"
    needs: str  # the course modules its scripts import, e.g. "01-06, 10"
    ready: str  # "yes", or what unlocks it: "after 09, 12"


def module_ranges(numbers: set[int]) -> str:
    """Module numbers as short ranges: {1, 2, 3, 5, 10} -> "01-03, 05, 10"."""
    spans: list[list[int]] = []
    for n in sorted(numbers):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a:02d}" if a == b else f"{a:02d}-{b:02d}" for a, b in spans) or "-"


def era_rows(root: Path) -> list[EraRow]:
    """One row per milestone era (folder): its milestones, the modules they need, and
    whether the package under `root` runs them all, else the modules that unlock them
    (missing or exported unfinished; read from the files, nothing is imported)."""
    eras: dict[str, list[milestones.Milestone]] = {}
    for milestone in milestones.discover():
        eras.setdefault(milestone.script.parent.name, []).append(milestone)
    found = []
    for folder, members in eras.items():
        match = milestones.ERA.match(folder)
        era = f"{folder.split('_')[1]} {match['era'].replace('_', ' ')}" if match else folder
        needs, missing = set(), set()
        for milestone in members:
            for requirement in milestone.requires:
                if requirement.number is None:
                    continue
                needs.add(requirement.number)
                if milestones.export_state(requirement, root)[0] != "exported":
                    missing.add(requirement.number)
        ready = "yes" if not missing else f"after {module_ranges(missing)}"
        names = ", ".join(m.name for m in members)
        found.append(EraRow(era, names, module_ranges(needs), ready))
    return found
