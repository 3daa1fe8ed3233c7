"""`tito setup`: make the student's Jupyter kernels import their own tinytorch package.

tito writes one IPython startup file, `~/.ipython/profile_default/startup/00-tinytorch.py`
(under `$IPYTHONDIR` when that is set), which puts the package root first on `sys.path`.
IPython runs it when any kernel starts, whatever Python environment the kernel uses, so a
later module's `from tinytorch.core.tensor import Tensor` imports the student's own Tensor.
tito's own commands do not need it: they put the package first on PYTHONPATH themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

from .paths import home

STARTUP_NAME = "00-tinytorch.py"


def startup_file() -> Path:
    """The IPython startup file tito writes."""
    ipython = Path(os.environ.get("IPYTHONDIR") or home() / ".ipython")
    return ipython / "profile_default" / "startup" / STARTUP_NAME


def startup_code(root: Path) -> str:
    """The startup file's text: the package root first on sys.path."""
    return (
        "# Written by `tito setup --write`: your kernels import your own tinytorch package.\n"
        f"import sys; sys.path.insert(0, {str(root)!r})\n"
    )


def is_set_up(root: Path) -> bool:
    path = startup_file()
    return path.is_file() and path.read_text(encoding="utf-8") == startup_code(root)


def write(root: Path) -> Path:
    path = startup_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(startup_code(root), encoding="utf-8")
    return path
