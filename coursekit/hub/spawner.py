"""The hub's spawner: one local single-user server per person, running as that person.

`CourseSpawner` is JupyterHub's `LocalProcessSpawner` (the server runs under the person's
own Linux account, in their home) plus three things, set in `jupyterhub_config.py`:

- each role's environment (`role_environment`): PATH, PYTHONPATH, the Jupyter
  configuration folder of the role, the exchange; a person is the instructor when their
  name is in `instructors`, a student otherwise;
- `hidden_paths`: folders covered by an empty read-only tmpfs in the server's own mount
  namespace, set up as root just before the switch to the person's account. The course
  repository a developer's hub runs from is world-readable on many machines (solutions,
  the reference package); a student's server, and every kernel and terminal it starts,
  sees an empty folder there. The hub itself and every other process are unaffected;
- `reach_paths`: the Python installation the server environment is made of, made
  reachable in that namespace when a folder above it is closed to other users (a
  developer's `/root/.pyenv`): the closed folder is replaced by an empty one holding only
  that installation, as the grading sandbox does for its kernels.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Dict, List, Set, Unicode

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18


def _mount(libc, source: str, target: str, fstype: str | None, flags: int, data: str | None):
    result = libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        flags,
        data.encode() if data else None,
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def blocking_ancestor(path: Path) -> Path | None:
    """The highest folder above `path` that other users may not enter, if any."""
    for parent in reversed(path.parents):
        if parent != Path("/") and not os.stat(parent).st_mode & stat.S_IXOTH:
            return parent
    return None


def contain(reach: list[str], hidden: list[str]) -> None:
    """Give this process its own mount namespace: `reach` reachable, `hidden` empty.

    A folder above a `reach` path that others may not enter (such as /root) is replaced by
    an empty read-only one holding only that path; each `hidden` folder is covered by an
    empty read-only tmpfs. Runs as root, before the switch to the person's account.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare(CLONE_NEWNS): {os.strerror(errno)}")
    # Nothing mounted here may propagate back to the host's namespace.
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE, None)
    paths = [Path(p) for p in reach if Path(p).is_dir()]
    blocked = sorted({b for b in map(blocking_ancestor, paths) if b is not None})
    held = [(os.open(p, os.O_RDONLY | os.O_DIRECTORY), p) for p in paths if blocking_ancestor(p)]
    for folder in blocked:
        _mount(libc, "tmpfs", str(folder), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for fd, path in held:
        path.mkdir(parents=True, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{fd}", str(path), None, MS_BIND, None)
        os.close(fd)
    for folder in blocked:
        flags = MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        _mount(libc, "tmpfs", str(folder), None, flags, None)
    flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
    for path in hidden:
        if os.path.isdir(path):  # one under a replaced folder is gone already
            _mount(libc, "tmpfs", path, "tmpfs", flags, "size=4k,mode=555")


class CourseSpawner(LocalProcessSpawner):
    instructors = Set(Unicode(), help="accounts that get the instructor's environment").tag(
        config=True
    )
    role_environment = Dict(
        help="{'instructor': {...}, 'student': {...}}: environment variables of each role"
    ).tag(config=True)
    hidden_paths = List(
        Unicode(), help="folders every single-user server sees empty (its own mount namespace)"
    ).tag(config=True)
    reach_paths = List(
        Unicode(), help="folders every server must reach (the Python the environment is made of)"
    ).tag(config=True)

    @property
    def role(self) -> str:
        return "instructor" if self.user.name in self.instructors else "student"

    def get_env(self):
        env = super().get_env()
        env.update(self.role_environment.get(self.role, {}))
        return env

    def make_preexec_fn(self, name):
        become_user = super().make_preexec_fn(name)
        reach, hidden = list(self.reach_paths), list(self.hidden_paths)

        def preexec():
            if reach or hidden:
                contain(reach, hidden)
            become_user()

        return preexec
