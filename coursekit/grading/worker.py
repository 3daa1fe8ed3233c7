"""One grading worker: autogrades the students named on stdin, one JSON line per student.

Started by `coursekit.grading.batch` (several at once for parallel grading). It loads nbgrader once
and calls its own autograde for one student at a time, so the gradebook rows it writes are
the ones serial `nbgrader autograde` writes; only the process count differs.

    python -m coursekit.grading.worker COURSE_ROOT ASSIGNMENT   (student ids on stdin)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from ..course import STAGING, Course


def make_api(root: str) -> NbGraderAPI:
    config = Course(Path(root)).config
    config.CourseDirectory.submitted_directory = STAGING
    # SQLite waits for a busy gradebook instead of failing when two workers write at once.
    if (
        config.CourseDirectory.db_url.startswith("sqlite:///")
        and "?" not in config.CourseDirectory.db_url
    ):
        config.CourseDirectory.db_url += "?timeout=120"
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def grade_one(api: NbGraderAPI, assignment: str, student: str) -> dict:
    """nbgrader's own autograde of one student; what it says, as one JSON-able dict."""
    start = time.perf_counter()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        result = api.autograde(assignment, student, force=True, create=True)
    return {
        "student": student,
        "ok": bool(result.get("success")),
        "seconds": round(time.perf_counter() - start, 3),
        "log": (result.get("log") or "")[-4000:],
        "error": (result.get("error") or "")[-4000:],
    }


def main(argv: list[str]) -> int:
    root, assignment = argv
    os.chdir(root)
    # Results go out on a private copy of stdout; fd 1 and 2 (which kernels inherit and
    # write banners to) go to /dev/null so nothing else can corrupt the JSON lines.
    results = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    api = make_api(root)
    for line in sys.stdin:
        student = line.strip()
        if not student:
            continue
        print(json.dumps(grade_one(api, assignment, student)), file=results, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
