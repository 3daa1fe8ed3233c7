"""The solutions handed out after a deadline: the executed solution notebook, no hidden tests."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from ..modules import Module
from . import markers


def solution_notebook(module: Module, source_nb: NotebookNode) -> NotebookNode:
    """The solution to hand out: solution code kept, hidden tests and grading metadata gone."""
    nb = nbformat.from_dict(source_nb)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.source = markers.drop_hidden_tests(markers.drop_solution_markers(cell.source))
    banner = nbformat.v4.new_markdown_cell(
        f"**Solution: Module {module.number:02d} {module.title}.** Released after the "
        "deadline so you can check your work and continue the course. The hidden tests used "
        "for grading are not included."
    )
    banner.id = "solution-banner"
    nb.cells.insert(0, banner)
    return nb


def execute(nb: NotebookNode, cwd: Path, pythonpath: Path) -> NotebookNode:
    """Run a notebook top to bottom in a fresh kernel that imports tinytorch from `pythonpath`."""
    metadata = nb.metadata.copy()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(pythonpath)
    try:
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(cwd)}},
        )
        client.execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    # The kernel rewrites language_info with its exact version; keep the header stable.
    nb.metadata = metadata
    return nb
