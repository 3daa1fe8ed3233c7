"""One hub instance: where its files are, which ports it listens on, who is in it.

An instance is a folder under the hub root (`$TINYTORCH_HUB_ROOT`, default
`/srv/tinytorch-hub`):

    <root>/python-<digest>/      the single-user Python environment (shared by instances)
    <root>/<name>/hub/           jupyterhub_config.py, the hub's database, secrets, logs (root only)
    <root>/<name>/jupyter/ROLE/  each role's Jupyter configuration (JUPYTER_CONFIG_PATH)
    <root>/<name>/share/         what every student may read: tito/, milestones/, datasets/, bin/tito
    <root>/<name>/exchange/      nbgrader's exchange (mode 1777, as nbgrader expects)
    <root>/<name>/home/USER/     each person's home (mode 700); the instructor's course is
                                 home/<instructor>/<course folder>/

Nothing of an instance lives in the repository: students must reach all of it, and none
of the repository.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..modules import REPO

ROOT_ENV = "TINYTORCH_HUB_ROOT"
DEFAULT_ROOT = Path("/srv/tinytorch-hub")
DEMO_STUDENTS = ("ada", "grace", "alan")
# How the gradebook and the formgrader name the demo's people (others: their account).
NAMES = {
    "instructor": ("Course", "Instructor"),
    "ada": ("Ada", "Lovelace"),
    "grace": ("Grace", "Hopper"),
    "alan": ("Alan", "Turing"),
}
INSTRUCTOR = "instructor"
COURSE_FOLDER = "tinytorch-course"  # the instructor's clone of the course, in their home
NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class HubError(RuntimeError):
    """Something the person running the hub must fix; the message says what."""


def hub_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


@dataclass(frozen=True)
class Person:
    account: str  # the Linux account, the JupyterHub user and nbgrader's student id
    role: str  # "instructor" or "student"
    short: str = ""  # the account without the instance's prefix

    @property
    def names(self) -> tuple[str, str]:
        """(first, last) name for the gradebook."""
        return NAMES.get(self.short, (self.short.capitalize(), ""))


@dataclass(frozen=True)
class Instance:
    """An instance's facts; `save`d at start so `stop` and `status` find it again."""

    name: str = "demo"
    prefix: str = ""  # put before every account name (the tests use their own accounts)
    students: tuple[str, ...] = DEMO_STUDENTS
    port: int = 8000  # the proxy: the one address people open
    proxy_api_port: int = 8001
    hub_port: int = 8081
    root: Path = field(default_factory=hub_root)
    repo: Path = REPO

    def __post_init__(self):
        for account in (self.name, *(p.account for p in self.people)):
            if not NAME.match(account):
                raise HubError(
                    f"{account!r}: names here are lower-case letters, digits and dashes, "
                    "starting with a letter (they become Linux accounts)"
                )
        if self.root.resolve().is_relative_to(self.repo.resolve()):
            raise HubError(
                f"the hub root {self.root} is inside the repository {self.repo}: students must "
                f"reach the hub's files and never the repository; set {ROOT_ENV} elsewhere"
            )

    # --- people ---------------------------------------------------------------------------

    @property
    def instructor(self) -> Person:
        return Person(self.prefix + INSTRUCTOR, "instructor", INSTRUCTOR)

    @property
    def student_people(self) -> list[Person]:
        return [Person(self.prefix + s, "student", s) for s in self.students]

    @property
    def people(self) -> list[Person]:
        return [self.instructor, *self.student_people]

    # --- folders ----------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def hub_dir(self) -> Path:
        return self.folder / "hub"

    @property
    def share(self) -> Path:
        return self.folder / "share"

    @property
    def exchange(self) -> Path:
        return self.folder / "exchange"

    def jupyter_config(self, role: str) -> Path:
        return self.folder / "jupyter" / role

    def home(self, account: str) -> Path:
        return self.folder / "home" / account

    @property
    def course_root(self) -> Path:
        return self.home(self.instructor.account) / COURSE_FOLDER

    @property
    def config_file(self) -> Path:
        return self.hub_dir / "jupyterhub_config.py"

    @property
    def pid_file(self) -> Path:
        return self.hub_dir / "jupyterhub.pid"

    @property
    def proxy_pid_file(self) -> Path:
        return self.hub_dir / "proxy.pid"

    @property
    def log_file(self) -> Path:
        return self.hub_dir / "jupyterhub.log"

    @property
    def passwords_file(self) -> Path:
        return self.hub_dir / "passwords.json"

    @property
    def token_file(self) -> Path:
        """The API token of the `coursekit` service (admin of this hub), root only."""
        return self.hub_dir / "service-token"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- saved facts ------------------------------------------------------------------------

    def save(self) -> None:
        data = asdict(self)
        data.update(root=str(self.root), repo=str(self.repo), students=list(self.students))
        (self.hub_dir / "instance.json").write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, name: str = "demo", root: Path | None = None) -> Instance:
        """The instance as its last start saved it (its defaults when it never started)."""
        root = root or hub_root()
        saved = root / name / "hub" / "instance.json"
        if not saved.is_file():
            return cls(name=name, root=root)
        data = json.loads(saved.read_text())
        data.update(
            root=Path(data["root"]), repo=Path(data["repo"]), students=tuple(data["students"])
        )
        return cls(**data)
