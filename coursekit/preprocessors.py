"""The course's extra steps in nbgrader's autograde (listed in nbgrader_config.py).

- `SkipUngradedTail` (before Execute): ordinary code cells after the last test cell (the
  systems-analysis measurements) cannot change a grade; they are not run while grading, which
  makes a class several times faster to grade.
- `TruncateOutputs` (after Execute): nbgrader's own LimitOutput counts lines; a single line
  of 20 MB passes it and bloats the autograded notebook, the feedback page and the disk. This
  caps the text of every output, keeping its start and end.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

NOTE = "\n... [{dropped} characters removed by the grader: output is limited to {limit}] ...\n"


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return text[:head] + NOTE.format(dropped=len(text) - head - tail, limit=limit) + text[-tail:]


class TruncateOutputs(Preprocessor):
    """Limit each output's text to `max_chars` characters."""

    enabled = Bool(True).tag(config=True)
    max_chars = Integer(100_000, help="characters kept per output").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if "text" in output and isinstance(output["text"], str):
                output["text"] = truncate(output["text"], self.max_chars)
            data = output.get("data", {})
            if isinstance(data.get("text/plain"), str):
                data["text/plain"] = truncate(data["text/plain"], self.max_chars)
            if "traceback" in output:
                output["traceback"] = [
                    truncate(t, self.max_chars) for t in output["traceback"][:200]
                ]
        return cell, resources


SKIPPED = "# (Not run during grading: cells after the last test cannot change a grade.)"


class SkipUngradedTail(Preprocessor):
    """Blank the ordinary code cells that follow the last graded test cell."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        graded = [
            i
            for i, c in enumerate(nb.cells)
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")
        ]
        last = max(graded, default=len(nb.cells))
        for cell in nb.cells[last + 1 :]:
            if cell.cell_type == "code" and "nbgrader" not in cell.get("metadata", {}):
                cell.source = SKIPPED
        return nb, resources
