"""Shared fixtures; a summary of the integrity-gate figures at the end of the run."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from coursekit.modules import REPO, discover
from coursekit.tools import put_tools_on_path

GATE_REPORTS = REPO / "build" / "gate-reports"
STARTED = time.time()  # a browser walk older than this run is not shown
FULL = os.environ.get("TINYTORCH_FULL") == "1"

# nbgrader runs `alembic` (and tests run `nbgrader`, `coursekit`) by name: this environment's.
put_tools_on_path()


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # controller only: start the summary afresh
        for old in GATE_REPORTS.glob("*.json"):
            old.unlink()


# Long scopes first: `pytest -n 2 --dist loadscope` hands out whole files (or gate classes)
# in collection order, so a long one collected last runs alone at the end while the other
# worker idles. The gates of the later (larger) modules, then the end-to-end files, then the
# otter gates, then the rest; collection order within each group.
LONG_FIRST = (
    "tests/quality/test_integrity.py",
    "tests/e2e/",
    "tests/milestones/",
    "tests/otter/test_gates.py",
)


def _run_order(item) -> tuple[int, int]:
    path = item.nodeid.split("::")[0]
    group = next((i for i, p in enumerate(LONG_FIRST) if path.startswith(p)), len(LONG_FIRST))
    cls = getattr(item, "cls", None)
    number = -int(cls.__name__.split("_")[1]) if cls and "Gates_" in cls.__name__ else 0
    return group, number


def pytest_collection_modifyitems(config, items):
    items.sort(key=_run_order)  # stable: collection order within a group


def pytest_terminal_summary(terminalreporter):
    walk = REPO / "build" / "hub-walk" / "timings.json"
    if walk.is_file() and walk.stat().st_mtime >= STARTED:
        terminalreporter.section("browser walk on JupyterHub (screenshots: build/hub-walk/)")
        for step, seconds in json.loads(walk.read_text()).items():
            terminalreporter.write_line(f"{seconds:6.1f} s  {step}")
    reports = sorted(GATE_REPORTS.glob("*.json"))
    if not reports:
        return
    terminalreporter.section("integrity gates")
    for path in reports:
        r = json.loads(path.read_text())
        if "otter" in r:  # tests/otter/test_gates.py: the same submissions through otter run
            o = r["otter"]
            terminalreporter.write_line(
                f"{r['module']}: otter run: solution {o['scores'].get('solution')}, blank "
                f"{o['scores'].get('blank')}, import {o['scores'].get('importer')}, patch "
                f"{o['scores'].get('patcher')}={o['bug']}, {o['seconds']} s per submission"
            )
        if "killed" not in r:  # an interrupted run recorded only part of the figures
            continue
        terminalreporter.write_line(
            f"{r['module']}: mutants {r['killed']}/{r['total']} killed ({r['kill_rate']:.1%})"
            + (
                f", solution {r['solution']}/{r['max']}, release {r['blank']}"
                if "solution" in r
                else ""
            )
        )


def record_gate(module: str, **figures) -> None:
    GATE_REPORTS.mkdir(parents=True, exist_ok=True)
    path = GATE_REPORTS / f"{module}.json"
    data = json.loads(path.read_text()) if path.exists() else {"module": module}
    data.update(figures)
    path.write_text(json.dumps(data))


@pytest.fixture(scope="session")
def modules():
    return discover()


def module_ids():
    return [m.assignment for m in discover()]


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def course(tmp_path: Path):
    """An empty course folder (the repository's nbgrader_config.py, no gradebook yet)."""
    from coursekit.course import CONFIG_FILE, Course

    root = tmp_path / "course"
    (root / "gradebook").mkdir(parents=True)
    shutil.copy2(REPO / CONFIG_FILE, root / CONFIG_FILE)
    return Course(root)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian's package, `make setup` installs it) on a private
    port of 127.0.0.1, started once per test process; each test makes its own database."""
    from coursekit.grading.database import LocalPostgres

    server = LocalPostgres()
    try:
        server.start()
    except RuntimeError as err:
        pytest.fail(f"could not start PostgreSQL (make setup installs it): {err}")
    yield server
    server.stop()
