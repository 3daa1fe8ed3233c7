"""The solutions handed out after a deadline: the solution notebook, no hidden tests.

The build runs each solution once to check it (`execute`) but writes it without outputs:
executed cells print timings that differ on every run, and a generated file must be the same
bytes whenever its master is, so a one-line change to a master changes that module's files
only. Students see the measurements when they run the solution on their own machine.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
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
    """Run a copy of a notebook top to bottom in a fresh kernel that imports tinytorch from
    `pythonpath`; return the executed copy. A cell that raises raises here.

    The kernel talks over Unix sockets in a short private folder (not TCP, which makes every
    kernel warn that it is unencrypted).
    """
    nb = copy.deepcopy(nb)
    metadata = nb.metadata.copy()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(pythonpath)
    sockets = tempfile.mkdtemp(prefix="tt-sol-")
    try:
        km = KernelManager(
            kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel")
        )
        client = NotebookClient(
            nb,
            km=km,
            timeout=600,
            record_timing=False,
            resources={"metadata": {"path": str(cwd)}},
        )
        # Given a kernel manager, nbclient leaves its kernel running unless told to clean up:
        # without this every module's kernel lived until the build ended.
        client.execute(cleanup_kc=True)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    # The kernel rewrites language_info with its exact version; keep the header stable.
    nb.metadata = metadata
    return nb
