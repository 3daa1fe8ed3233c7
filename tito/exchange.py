"""The student's side of nbgrader: which course to fetch from and where its exchange is.

nbgrader's student commands (`fetch_assignment`, `submit`, `fetch_feedback`, the Assignments
tab) read `~/.jupyter/nbgrader_config.py` (`$JUPYTER_CONFIG_DIR` when set). Without one they
fail: "No course id specified" and an unwritable default exchange. `tito setup --write` writes
it from the hub's environment, which the instructor sets for every student (see the
instructor guide):

    TINYTORCH_COURSE_ID   the course id (default "tinytorch", the course's own)
    TINYTORCH_EXCHANGE    the shared exchange folder, e.g. /srv/nbgrader/exchange

A file tito did not write is never overwritten: tito shows the two lines it needs instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .paths import home

COURSE_ENV = "TINYTORCH_COURSE_ID"
EXCHANGE_ENV = "TINYTORCH_EXCHANGE"
DEFAULT_COURSE_ID = "tinytorch"  # the course id in the course's nbgrader_config.py
MARK = "# Written by `tito setup --write`"


@dataclass(frozen=True)
class Settings:
    course_id: str
    exchange: Path | None  # None when the hub does not say

    def text(self) -> str:
        return (
            f"{MARK}: nbgrader's fetch and submit reach the course.\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {self.course_id!r}\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n"
        )


def settings() -> Settings:
    """The course id and exchange from the environment the hub gives every student."""
    exchange = os.environ.get(EXCHANGE_ENV)
    return Settings(
        os.environ.get(COURSE_ENV) or DEFAULT_COURSE_ID,
        Path(exchange).expanduser() if exchange else None,
    )


def config_file() -> Path:
    """The student's nbgrader configuration file, where nbgrader looks for it."""
    folder = os.environ.get("JUPYTER_CONFIG_DIR")
    return (Path(folder).expanduser() if folder else home() / ".jupyter") / "nbgrader_config.py"


def written_by_tito(path: Path) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8").startswith(MARK)


def is_set_up(wanted: Settings) -> bool:
    path = config_file()
    return path.is_file() and path.read_text(encoding="utf-8") == wanted.text()


def write(wanted: Settings, path: Path | None = None) -> Path:
    """Write the configuration (the caller checked it may: no file, or one tito wrote)."""
    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(wanted.text(), encoding="utf-8")
    return path
