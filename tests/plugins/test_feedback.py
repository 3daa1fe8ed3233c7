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


def test_a_visible_failure_shows_its_line_but_not_the_message():
    """The message can carry values the student's code saw earlier (hidden inputs too)."""
    out = filtered([error(1, evalue="leaked hidden value -14")])
    (shown,) = out.outputs
    assert "line 1 (AssertionError)" in shown.traceback[0]
    assert 'assert double(2) == 4, "double(2) should be 4"' in shown.traceback[0]
    assert "leaked" not in str(shown) and "-14" not in str(shown)


def test_only_pythons_own_exception_names_are_shown():
    crafted = filtered([error(1, ename="Hidden_input_was_minus_7")]).outputs[0]
    assert "minus_7" not in str(crafted)
    assert "an exception raised by your code" in crafted.traceback[0]
    hidden = filtered([error(4, ename="Secret_minus_14")]).outputs[0]
    assert "minus_14" not in str(hidden)
    builtin = filtered([error(1, ename="ValueError")]).outputs[0]
    assert "(ValueError)" in builtin.traceback[0]


def test_a_cell_that_only_wrote_to_stderr_says_why_it_lost_its_points():
    noise = nbformat.v4.new_output("stream", name="stderr", text="DEBUG shapes ok\n")
    (shown,) = filtered([noise]).outputs
    assert shown.ename == "WroteToStderr"
    assert "wrote to stderr" in shown.traceback[0]
    assert "DEBUG" not in str(shown)  # the student's output is never echoed
    assert "tito test" in shown.traceback[0]


def test_printed_output_is_dropped():
    printed = nbformat.v4.new_output("stream", name="stdout", text="-14\n")
    assert filtered([printed]).outputs == []


def test_safe_error_without_a_line_is_generic():
    shown = safe_error(SOURCE, {"ename": "ValueError", "evalue": "x", "traceback": []})
    assert shown["ename"] == "HiddenTestFailed" and "x" not in shown["traceback"][0]
