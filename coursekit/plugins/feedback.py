"""Feedback that never leaks hidden tests: an nbgrader preprocessor for `generate_feedback`.

nbgrader's own feedback shows the autograded notebook as graded, hidden tests and their
tracebacks included (docs/nbgrader-notes.md). `HideHiddenTests` runs inside `generate_feedback`
(see nbgrader_config.py) and, in every test cell that has hidden blocks:

- removes the hidden blocks from the cell's source and says that they exist;
- replaces each error with a short account: for a failing visible check, its line (the
  student reruns it to read the message: a message can carry values the student's code
  saw earlier, hidden inputs included); for a failing hidden check, the behaviour it checks,
  in the words of its `# hidden: ...` comment, and the error type, never the message,
  inputs or expected values;
- drops printed output, which a student's code could use to echo hidden inputs;
- names an exception by its class only when it is one of Python's own (a student's code
  could name an exception class after a hidden input), otherwise "an exception";
- says in words when a cell lost its points by writing to stderr (nbgrader's rule).
"""

from __future__ import annotations

import builtins
import re

from nbconvert.preprocessors import Preprocessor
from nbformat import from_dict
from traitlets import Bool

from ..authoring import markers

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_LINE = re.compile(r"Cell\s+In\s*\[\d*\],\s*line\s+(\d+)")
HIDDEN_NOTE = "# (Hidden tests on other inputs ran here; they are not shown.)"
BUILTIN_ERRORS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
STDERR_NOTE = (
    "This cell wrote to stderr (a print to sys.stderr, a log message or a warning), and "
    "nbgrader gives a test cell that writes to stderr "
    "0 points even when every check passes. Remove the print(..., file=sys.stderr), logging "
    "call or warning your code makes while the tests run; `tito test` shows the same."
)


def error_name(ename: str) -> str:
    """The exception's class name if it is one of Python's own, else a generic label."""
    return ename if ename in BUILTIN_ERRORS else "an exception raised by your code"


def failing_line(traceback: list[str]) -> int | None:
    """The line of the test cell where the error surfaced (its outermost frame), or None."""
    for entry in traceback:
        match = CELL_LINE.search(ANSI.sub("", entry))
        if match:
            return int(match.group(1))
    return None


def safe_error(source: str, output: dict) -> dict:
    """An error output a student may see, built from the test cell's source and the error."""
    line = failing_line(output.get("traceback", []))
    ename = error_name(output.get("ename", "Error"))
    lines = source.splitlines()
    behaviour = markers.behaviour_at(source, line) if line else None
    if line is None or behaviour is not None or not 0 < line <= len(lines):
        what = behaviour or "a check in this test cell"
        text = f"A hidden test failed: {what} ({ename})."
        return {
            "output_type": "error",
            "ename": "HiddenTestFailed",
            "evalue": what,
            "traceback": [text],
        }
    text = (
        f"Visible check failed at line {line} ({ename}):\n    {lines[line - 1].strip()}\n"
        "Run this cell in your notebook, or `tito test`, to read its full message."
    )
    return {"output_type": "error", "ename": ename, "evalue": "", "traceback": [text]}


def stderr_note(outputs: list) -> dict | None:
    """An explanation for a cell that lost its points only by writing to stderr."""
    if any(o.get("output_type") == "error" for o in outputs):
        return None
    written = [o for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    if not written:
        return None
    # Never echo what was written: it is the student's output, which could carry hidden inputs.
    text = STDERR_NOTE
    return {"output_type": "error", "ename": "WroteToStderr", "evalue": text, "traceback": [text]}


class HideHiddenTests(Preprocessor):
    """Strip hidden tests, their traces and their printed output from feedback notebooks."""

    # nbconvert registers preprocessors named in config as disabled unless they say otherwise.
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            return cell, resources
        source = cell.source
        if not markers.hidden_regions(source):
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                outputs.append(from_dict(safe_error(source, output)))
        note = stderr_note(cell.get("outputs", []))
        if note is not None:
            outputs.append(from_dict(note))
        cell.outputs = outputs
        cell.source = markers.drop_hidden_tests(source) + "\n" + HIDDEN_NOTE
        return cell, resources
