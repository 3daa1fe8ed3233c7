"""nbgrader's cell markers: solution regions and hidden-test blocks, found line by line."""

from __future__ import annotations

import re

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEHAVIOUR = re.compile(r"^\s*# hidden:\s*(?P<words>.+?)\s*$")


def _is(line: str, marker: str) -> bool:
    return line.strip() == marker


def regions(source: str, begin: str, end: str) -> list[tuple[int, int]]:
    """0-based (first, last) line numbers of each begin..end region, markers included.

    Raises ValueError on unbalanced or nested markers, naming the line.
    """
    found, start = [], None
    for i, line in enumerate(source.splitlines()):
        if _is(line, begin):
            if start is not None:
                raise ValueError(f"line {i + 1}: {begin!r} inside another {begin!r}")
            start = i
        elif _is(line, end):
            if start is None:
                raise ValueError(f"line {i + 1}: {end!r} without {begin!r}")
            found.append((start, i))
            start = None
    if start is not None:
        raise ValueError(f"line {start + 1}: {begin!r} is never closed")
    return found


def solution_regions(source: str) -> list[tuple[int, int]]:
    return regions(source, BEGIN_SOLUTION, END_SOLUTION)


def hidden_regions(source: str) -> list[tuple[int, int]]:
    return regions(source, BEGIN_HIDDEN, END_HIDDEN)


def drop_solution_markers(source: str) -> str:
    """The solution code as the instructor wrote it, marker lines removed."""
    keep = [
        line
        for line in source.splitlines()
        if not (_is(line, BEGIN_SOLUTION) or _is(line, END_SOLUTION))
    ]
    return "\n".join(keep)


def drop_hidden_tests(source: str) -> str:
    """A test cell with its hidden blocks (markers included) removed."""
    lines = source.splitlines()
    hidden = {i for first, last in hidden_regions(source) for i in range(first, last + 1)}
    return "\n".join(line for i, line in enumerate(lines) if i not in hidden).rstrip()


def behaviour_at(source: str, line_number: int) -> str | None:
    """The `# hidden: ...` words that govern a 1-based line inside a hidden block, if any."""
    lines = source.splitlines()
    for first, last in hidden_regions(source):
        if first < line_number - 1 <= last:
            for i in range(line_number - 1, first, -1):
                match = BEHAVIOUR.match(lines[i])
                if match:
                    return match.group("words")
            return "a hidden check"
    return None
