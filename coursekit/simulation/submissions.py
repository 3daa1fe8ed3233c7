"""Simulated student submissions, made from the release the way a student would fill it in.

A solution cell may hold several solution regions (one per task). A simulated student fills
in some regions with the instructor's code and leaves the others as nbgrader's stub, or
brings one of the solution's mutants: the "subtly wrong" student whose code passes every
visible test and still loses points to the hidden ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nbformat import NotebookNode

from ..authoring import markers
from ..quality import fastgrade, gates, mutants

STUB = "raise NotImplementedError()"


def partially_solved(
    source_nb: NotebookNode, release_nb: NotebookNode, keep: Callable[[int], bool]
) -> NotebookNode:
    """The release with solution regions filled in where keep(region number) is true.

    Regions are numbered across the whole notebook, in order, from 0.
    """
    counter = iter(range(10_000))
    filled = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        out, region = [], None
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == markers.BEGIN_SOLUTION:
                region = next(counter)
                if not keep(region):
                    indent = line[: len(line) - len(line.lstrip())]
                    out.append(f"{indent}{STUB}")
                continue
            if stripped == markers.END_SOLUTION:
                region = None
                continue
            if region is None or keep(region):
                out.append(line)
        filled[meta["grade_id"]] = "\n".join(out)
    return mutants.submission(release_nb, filled)


def region_count(source_nb: NotebookNode) -> int:
    return sum(
        len(markers.solution_regions(c.source))
        for c in source_nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    )


def subtle_mutants(
    source_nb: NotebookNode, release_nb: NotebookNode, cwd: Path, limit: int = 2
) -> list[mutants.Mutant]:
    """Mutants that pass every visible test but lose points to the hidden tests."""
    visible = gates.visible_only(source_nb)
    found = []
    for mutant in mutants.all_mutants(source_nb):
        sub = mutants.mutant_submission(release_nb, source_nb, mutant)
        seen = fastgrade.grade(sub, visible, cwd)
        if seen.score < seen.max_score:
            continue
        graded = fastgrade.grade(sub, source_nb, cwd)
        if graded.score < graded.max_score and all(m.line != mutant.line for m in found):
            found.append(mutant)
            if len(found) == limit:
                break
    return found
