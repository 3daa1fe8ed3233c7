"""Running the environment's own tools: nbgrader as a subprocess, notebooks written to disk.

Every command the tooling starts (nbgrader, which itself runs `alembic` by name) must come
from this environment's venv, whatever PATH the caller had: `tool_env` is the one place
that says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from rich.console import Console


def tool_env(**extra: str) -> dict[str, str]:
    """This environment with the venv's bin first on PATH, plus `extra` variables."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bindir]
    env["PATH"] = os.pathsep.join([bindir, *rest])
    env.update(extra)
    return env


def _run_python(module_args: list[str], cwd: Path, env: dict, what: str) -> str:
    """`python -m ...` of this environment in `cwd`; raise with its log if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", *module_args], cwd=cwd, capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def run_nbgrader(args: list[str], cwd: Path, env: dict | None = None) -> str:
    """Run an nbgrader command in `cwd`; raise with its log if it fails."""
    return _run_python(["nbgrader", *args], cwd, env or tool_env(), f"nbgrader {' '.join(args)}")


def generate_assignments(assignments: list[str], cwd: Path) -> str:
    """`nbgrader generate_assignment NAME --force` for each assignment, in one process
    (coursekit.authoring.generate); raise with its log if one fails."""
    package_parent = str(Path(__file__).resolve().parents[1])  # this coursekit, not another
    env = tool_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    module = ["coursekit.authoring.generate", *assignments]
    return _run_python(module, cwd, env, "nbgrader generate_assignment")


def write_notebook(nb: NotebookNode, path: Path) -> None:
    """Validate and write a notebook (parents made), ending with a newline like git likes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def put_tools_on_path() -> None:
    """Make this environment's tools win for this process and its children (nbgrader's
    Gradebook runs `alembic` by name, also when Python was started as .venv/bin/python)."""
    os.environ["PATH"] = tool_env()["PATH"]


def output_console() -> Console:
    """The console for a command's output: rich never wraps a message (a path or a command
    stays whole), and piped or in a log, tables are wide enough to keep one line per row."""
    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(width=200, soft_wrap=True)
