"""Where a student's things live: their home, their own package, the course's milestones.

- The course folder is the home folder: `nbgrader fetch_assignment 01_tensor` run there puts
  the module in `~/01_tensor/`.
- The student's package root is `$TINYTORCH_HOME` (default `~/tinytorch-package`); the
  package itself is `$TINYTORCH_HOME/tinytorch/`.
- The milestones are `$TINYTORCH_MILESTONES` (default: the `milestones/` folder next to the
  installed tito, i.e. the course repository's).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ENV = "TINYTORCH_HOME"
MILESTONES_ENV = "TINYTORCH_MILESTONES"
DEFAULT_PACKAGE_FOLDER = "tinytorch-package"


def home() -> Path:
    """The student's home folder (`$HOME`), where nbgrader puts fetched modules."""
    return Path.home()


def package_home() -> Path:
    """The root folder of the student's own package: the folder that holds `tinytorch/`."""
    value = os.environ.get(PACKAGE_ENV)
    folder = Path(value).expanduser() if value else home() / DEFAULT_PACKAGE_FOLDER
    return folder.absolute()


def milestones_dir() -> Path:
    """The folder of milestone scripts (one subfolder per era, plus `common.py`)."""
    value = os.environ.get(MILESTONES_ENV)
    if value:
        return Path(value).expanduser().absolute()
    return Path(__file__).resolve().parents[1] / "milestones"


def results_file() -> Path:
    """Where `tito test` keeps the outcome of each module's last run, for `tito status`."""
    return home() / ".tito" / "results.json"


def shown(path: Path) -> str:
    """A path as the student would type it: `~/01_tensor/tensor.ipynb` under their home."""
    path = Path(path).absolute()
    try:
        relative = path.relative_to(home().absolute()).as_posix()
    except ValueError:
        return str(path)
    return "~" if relative == "." else f"~/{relative}"
