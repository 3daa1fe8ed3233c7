"""Discovering the course's modules from `masters/NN_name/module.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Module:
    """One course module: its master, its nbgrader assignment and its package export."""

    number: int
    name: str
    title: str
    package: str
    master_dir: Path
    requires: tuple[str, ...] = field(default_factory=tuple)
    hours: float = 0.0  # expected student hours, shown in the notebook and by `tito status`
    difficulty: int = 0  # 1 (gentle) to 5 (hard)
    integration: tuple[str, ...] = ()  # test cells that check the tasks together (capped)
    equivalent: dict = field(default_factory=dict)  # mutant id -> why it changes nothing
    foundation: dict = field(default_factory=dict)  # task -> why other tasks' tests need it
    data: tuple[str, ...] = field(default_factory=tuple)  # datasets/ files its tests read

    @property
    def assignment(self) -> str:
        """nbgrader assignment name, e.g. `01_tensor`."""
        return f"{self.number:02d}_{self.name}"

    @property
    def notebook(self) -> str:
        """Notebook file name inside the assignment folder, e.g. `tensor.ipynb`."""
        return f"{self.name}.ipynb"

    @property
    def shared_dir(self) -> Path:
        """masters/shared/: files the build places into every notebook (the checks)."""
        return self.master_dir.parent / "shared"

    @property
    def master(self) -> Path:
        return self.master_dir / f"{self.name}.py"

    @property
    def package_file(self) -> Path:
        """Path of the exported file relative to the repository root."""
        return Path(*self.package.split(".")).with_suffix(".py")


def load_module(master_dir: Path) -> Module:
    with open(master_dir / "module.toml", "rb") as f:
        meta = tomllib.load(f)
    module = Module(
        number=int(meta["number"]),
        name=str(meta["name"]),
        title=str(meta["title"]),
        package=str(meta["package"]),
        master_dir=master_dir,
        requires=tuple(meta.get("requires", [])),
        hours=float(meta.get("hours", 0)),
        difficulty=int(meta.get("difficulty", 0)),
        integration=tuple(meta.get("integration", [])),
        equivalent=dict(meta.get("equivalent", {})),
        foundation=dict(meta.get("foundation", {})),
        data=tuple(meta.get("data", [])),
    )
    if master_dir.name != module.assignment:
        raise ValueError(
            f"{master_dir}: folder name must be {module.assignment!r} (number and name from "
            "module.toml)"
        )
    if not module.master.exists():
        raise ValueError(f"{master_dir}: master {module.master.name} is missing")
    return module


def discover(root: Path = REPO) -> list[Module]:
    """All modules with a master, in course order."""
    dirs = sorted(p.parent for p in (root / "masters").glob("*/module.toml"))
    return sorted((load_module(d) for d in dirs), key=lambda m: m.number)


def find(name: str, root: Path = REPO) -> Module:
    """A module by assignment name (`01_tensor`), short name (`tensor`) or number (`1`, `01`)."""
    for module in discover(root):
        if name in (module.assignment, module.name) or name.lstrip("0") == str(module.number):
            return module
    known = ", ".join(m.assignment for m in discover(root))
    raise SystemExit(f"no module {name!r}; the course has: {known}")


def graded_and_later(assignment: str, root: Path = REPO) -> frozenset[str]:
    """The package modules that grading `assignment` must not import: its own reference and
    every later module's (none for an assignment that is no module of the course)."""
    modules = discover(root)
    number = next((m.number for m in modules if m.assignment == assignment), None)
    if number is None:
        return frozenset()
    return frozenset(m.package for m in modules if m.number >= number)
