"""`nbgrader generate_assignment` for many assignments in one process.

The build releases every module through nbgrader's own converter. Started once per module,
nbgrader spends most of its time importing itself and opening the gradebook (about 3 of the
5 seconds each, 19 modules: most of a `make check`). Here one process loads the course's
nbgrader configuration once, exactly as the command would (the same app, the same config
files, `--force`), and runs the same converter for each assignment in turn, so the release
notebooks and the gradebook's hidden tests are what the command writes.

Run in the course folder: python -m coursekit.authoring.generate ASSIGNMENT [ASSIGNMENT ...]
"""

from __future__ import annotations

import sys


def main(assignments: list[str]) -> int:
    from nbgrader.apps.generateassignmentapp import GenerateAssignmentApp
    from nbgrader.converters import GenerateAssignment
    from nbgrader.converters.base import NbGraderException

    if not assignments:
        print("usage: python -m coursekit.authoring.generate ASSIGNMENT [...]", file=sys.stderr)
        return 2
    app = GenerateAssignmentApp()
    app.initialize(["--force"])  # the command's own config loading, in the current folder
    for assignment in assignments:
        app.coursedir.assignment_id = assignment
        try:
            GenerateAssignment(coursedir=app.coursedir, parent=app).start()
        except NbGraderException:
            print(f"nbgrader generate_assignment {assignment} failed", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
