"""The one exception tito raises for a problem the student can fix, with its exit code."""

from __future__ import annotations

FAILURE = 1  # the work is not there yet: failing tests, unfinished stubs, a missed target
PREREQUISITE = 2  # usage, or something needed first: a module not fetched or not exported
INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT, as shells report it)


class TitoError(Exception):
    """A clear message for the student and the exit code the command line returns."""

    def __init__(self, message: str, code: int = FAILURE):
        super().__init__(message)
        self.message = message
        self.code = code
