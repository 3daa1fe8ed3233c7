"""Pacing: how heavy a module is, beside the hours its module.toml promises.

`make gates` prints, per module: the lines a student writes (non-blank lines of the
solution regions), the tasks, the words of prose (markdown cells), the points and the
expected hours, so a module much heavier than its hours shows up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbformat import NotebookNode

from tito import cells

from ..authoring.references import region_tasks
from ..modules import Module

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@dataclass(frozen=True)
class Pacing:
    lines: int  # lines of code a student writes
    tasks: int
    words: int  # prose the student reads
    points: float
    hours: float
    difficulty: int


def pacing(module: Module, source_nb: NotebookNode) -> Pacing:
    lines, tasks, words, points = 0, set(), 0, 0.0
    for cell in source_nb.cells:
        if cell.cell_type == "markdown":
            words += len(WORD.findall(cell.source))
        elif cells.is_solution(cell):
            text = cell.source.splitlines()
            for first, last, task in region_tasks(cells.grade_id(cell), cell.source):
                tasks.add(task)
                lines += sum(1 for line in text[first + 1 : last] if line.strip())
        elif cells.is_test(cell):
            points += cells.points(cell)
    return Pacing(lines, len(tasks), words, points, module.hours, module.difficulty)
