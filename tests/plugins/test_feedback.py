"""The feedback filter on hand-made graded cells: hidden tests, their traces and prints go."""

from __future__ import annotations

import nbformat

from coursekit.plugins.feedback import HIDDEN_NOTE, HideHiddenTests, safe_error
from tests.handmade import cell, notebook

SOURCE = """assert double(2) == 4, "double(2) should be 4"
### BEGIN HIDDEN TESTS
# hidden: doubles negative numbers
assert double(-7) == -14, "negative"
### END HIDDEN TESTS"""


def error(line: int, ename: str = "AssertionError", evalue: str = "secret -14") -> dict:
    return nbformat.v4.new_output(
        "error",
        ename=ename,
        evalue=evalue,
        traceback=[f"\x1b[0;31mCell In[3], line {line}\x1b[0m", f"{ename}: {evalue}"],
    )


def filtered(outputs: list) -> nbformat.NotebookNode:
    test = cell("test", SOURCE, "test_double", 2)
    test.outputs = outputs
    nb, _ = HideHiddenTests().preprocess(notebook(test), {})
    return nb.cells[0]


def test_hidden_blocks_are_removed_and_announced():
    out = filtered([])
    assert "double(-7)" not in out.source and "hidden:" not in out.source
    assert out.source.endswith(HIDDEN_NOTE)
    assert 'assert double(2) == 4, "double(2) should be 4"' in out.source


def test_a_hidden_failure_names_the_behaviour_never_the_values():
    out = filtered([error(4)])
    (shown,) = out.outputs
    assert shown.ename == "HiddenTestFailed"
    assert "doubles negative numbers" in shown.traceback[0]
    assert "-14" not in str(shown) and "secret" not in str(shown)


def test_a_visible_failure_shows_its_line_and_message():
    out = filtered([error(1, evalue="double(2) should be 4")])
    (shown,) = out.outputs
    assert "line 1" in shown.traceback[0]
    assert "double(2) should be 4" in shown.traceback[0]


def test_printed_output_is_dropped():
    printed = nbformat.v4.new_output("stream", name="stdout", text="-14\n")
    assert filtered([printed]).outputs == []


def test_safe_error_without_a_line_is_generic():
    shown = safe_error(SOURCE, {"ename": "ValueError", "evalue": "x", "traceback": []})
    assert shown["ename"] == "HiddenTestFailed" and "x" not in shown["traceback"][0]
