"""Small hand-made notebooks for unit tests: a few cells with nbgrader metadata, no build."""

from __future__ import annotations

import nbformat
from nbformat import NotebookNode

from coursekit.authoring.masters import nbgrader_metadata


def cell(kind: str | None, source: str, grade_id: str | None = None, points: float = 1):
    """A code cell; kind is None (ordinary), "locked", "solution" or "test"."""
    new = nbformat.v4.new_code_cell(source)
    if kind:
        new.metadata["nbgrader"] = nbgrader_metadata(kind, grade_id or kind, points)
        new.id = grade_id or kind
    return new


def markdown(text: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def notebook(*cells: NotebookNode, module: str | None = "01_tensor") -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    if module:
        nb.metadata["tinytorch"] = {"module": module, "package": "tinytorch.core.tensor"}
    return nb
