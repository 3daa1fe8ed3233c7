import pytest

from coursekit.authoring import markers

CELL = """x = 1
### BEGIN HIDDEN TESTS
# hidden: sums over rows
assert f(2) == 3, "rows"
# hidden: keeps dtype
assert g(), "dtype"
### END HIDDEN TESTS
y = 2"""


def test_hidden_regions_are_found_with_their_markers():
    assert markers.hidden_regions(CELL) == [(1, 6)]


def test_drop_hidden_tests_keeps_visible_lines_only():
    assert markers.drop_hidden_tests(CELL) == "x = 1\ny = 2"


def test_behaviour_at_names_the_nearest_hidden_comment():
    assert markers.behaviour_at(CELL, 4) == "sums over rows"
    assert markers.behaviour_at(CELL, 6) == "keeps dtype"
    assert markers.behaviour_at(CELL, 1) is None
    assert markers.behaviour_at(CELL, 8) is None


def test_drop_solution_markers_keeps_the_code():
    src = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    assert markers.drop_solution_markers(src) == "def f():\n    return 1"


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx", "never closed"),
        ("### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ],
)
def test_unbalanced_markers_raise_with_the_line(source, message):
    with pytest.raises(ValueError, match=message):
        markers.solution_regions(source)
