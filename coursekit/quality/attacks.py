"""Hostile submissions every module is graded against, beside its mutants.

- the import attack: the release with every solution cell ending in an import of the graded
  module's reference (`from tinytorch.core.autograd import *`): the reference is absent while
  the module is graded, so this scores what the stubs score, 0, and it is flagged;
- the numpy patch: a real bug (a killed mutant) plus, in the same cell, NumPy's comparison
  functions replaced by ones that always agree: the checks cannot be fooled, so this scores
  what the bug alone scores, and it is flagged.
"""

from __future__ import annotations

from nbformat import NotebookNode

from tito import cells

from ..modules import Module
from . import mutants

NUMPY_PATCH = """
import numpy as np
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: np.True_
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
"""


def import_attack(module: Module, release_nb: NotebookNode) -> NotebookNode:
    """The untouched release, each solution cell ending in a star import of the reference."""
    answers = {
        cells.grade_id(c): c.source + f"\nfrom {module.package} import *  # noqa\n"
        for c in release_nb.cells
        if cells.is_solution(c)
    }
    return mutants.submission(release_nb, answers)


def numpy_patch(
    release_nb: NotebookNode, source_nb: NotebookNode, bug: mutants.Mutant
) -> NotebookNode:
    """The solution with one bug, and NumPy's comparisons patched in the bug's cell."""
    answers = mutants.solution_sources(source_nb)
    answers[bug.cell_id] = bug.source + "\n" + NUMPY_PATCH
    return mutants.submission(release_nb, answers)
