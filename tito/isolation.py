"""Import tinytorch from the student's package only.

On JupyterHub a student has no other tinytorch, so their package is the only one Python can
find. Elsewhere (a course repository whose environment installs the reference package) a
module missing from the student's package could be served from the reference instead.
`only_from(root)` closes that door for the current process: every `tinytorch` import is
looked up in `root` alone and fails when it is not there.

`python -m tito.isolation ROOT MODULE...` imports each module that way and prints, as JSON,
the file it came from or the error it raised.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import sys
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path


class PackageOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds `tinytorch` and its submodules under one folder, and nowhere else."""

    def __init__(self, root: Path):
        self.root = str(Path(root).absolute())

    def find_spec(self, fullname: str, path=None, target=None) -> ModuleSpec | None:
        if fullname != "tinytorch" and not fullname.startswith("tinytorch."):
            return None
        spec = PathFinder.find_spec(fullname, [self.root] if fullname == "tinytorch" else path)
        if spec is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} in your package ({self.root})", name=fullname
            )
        return spec


def only_from(root: Path) -> None:
    """From now on, this process imports tinytorch from `root` only."""
    sys.meta_path.insert(0, PackageOnlyFinder(root))


def probe(root: Path, modules: list[str]) -> dict[str, dict[str, str | None]]:
    """Import each module from `root` only: {module: {"file": ..., "error": ...}}."""
    only_from(root)
    outcome: dict[str, dict[str, str | None]] = {}
    for name in modules:
        try:
            module = importlib.import_module(name)
            outcome[name] = {"file": getattr(module, "__file__", None), "error": None}
        except BaseException as error:  # noqa: BLE001 - the student's module may raise anything
            outcome[name] = {"file": None, "error": f"{type(error).__name__}: {error}"}
    return outcome


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]), sys.argv[2:])))
