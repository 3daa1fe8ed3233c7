"""A contained kernel for grading: what Linux offers without Docker.

nbgrader starts every grading kernel through the kernelspec `tinytorch-sandbox` (registered
by `make setup`; selected with `c.Execute.kernel_name` in nbgrader_config.py), whose command
is `python -m coursekit.grading.sandbox {connection_file}`. This launcher then:

1. enters new network, mount and PID namespaces (`unshare`): no network at all (the kernel
   talks to nbgrader over Unix sockets, `KernelManager.transport = "ipc"`), and every process
   the student starts dies with the kernel;
2. hides the course's secrets behind empty read-only mounts: the gradebook, `source/`,
   `solutions/`, `release/`, `masters/`, `otter/`, `submitted/`, `feedback/`, the exchange, other
   students' `autograded/` folders; only the notebook's own folder stays visible, writable;
3. leaves in the reference package only the modules before the one being graded: the graded
   module's own reference (and every later one) can be neither imported nor read;
4. gives the kernel a private `/tmp`;
5. drops to an unprivileged user of its own with resource limits: address space (memory
   bombs fail with MemoryError), CPU seconds, number of processes (fork bombs fail), file
   size and open files;
6. runs ipykernel.

The limits are the typed `Sandbox` settings (`c.Sandbox.memory_mb = ...` in
nbgrader_config.py). The grading side hands them to this launcher, with the course root and
the assignment being graded, in the `TINYTORCH_SANDBOX` environment variable
(`coursekit.plugins.preprocessors.PrepareSandbox`). Without it the launcher refuses to run,
so a misconfigured grader fails loudly instead of grading without containment.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import resource
import shutil
import signal
import stat
import sys
from pathlib import Path

from traitlets import Integer
from traitlets.config import Configurable

ENV = "TINYTORCH_SANDBOX"


class Sandbox(Configurable):
    """Limits of one grading kernel: `c.Sandbox.<name>` in nbgrader_config.py.

    The defaults fit the heaviest module's solution with room to spare.
    """

    memory_mb = Integer(4096, help="address space in MB; a memory bomb gets MemoryError").tag(
        config=True
    )
    cpu_seconds = Integer(900, help="CPU seconds for the whole notebook").tag(config=True)
    processes = Integer(
        256, help="processes and threads of the kernel's user; a fork bomb stops here"
    ).tag(config=True)
    file_mb = Integer(256, help="largest file the student's code may write, MB").tag(config=True)
    tmp_mb = Integer(256, help="size of the kernel's private /tmp, MB").tag(config=True)

    def limits(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.class_trait_names(config=True)}


KERNEL_NAME = "tinytorch-sandbox"
BROAD = {Path("/"), Path("/tmp"), Path("/root"), Path("/home")}
# Each kernel runs as its own unprivileged user id, derived from the launcher's process id,
# so per-user limits (processes) and file ownership never mix two students' kernels.
UID_BASE = 200_000
HIDDEN = (
    "gradebook",
    "source",
    "solutions",
    "release",
    "masters",
    "submitted",
    "staging",
    "feedback",
    "exchange",
    ".git",
    "build",
    "tests",
    "otter",  # the otter-grader assignments hold every module's hidden tests
    "otter-submitted",
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REMOUNT, MS_REC, MS_PRIVATE = (
    1,
    2,
    4,
    4096,
    32,
    16384,
    1 << 18,
)

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None):
    result = _libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        flags,
        data.encode() if data else None,
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def _cover(path: Path, covered: list[Path], size: str = "4k") -> None:
    """Hide a folder behind an empty tmpfs (made read-only once everything is in place)."""
    if path.is_dir():
        _mount("tmpfs", str(path), "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=755")
        covered.append(path)


def make_socket_folder(folder: Path) -> None:
    """The folder the kernels' Unix sockets go in (`KernelManager.ip`'s folder).

    Sandbox users may create sockets there but nobody else may list it (mode 1733); it must
    belong to the grader, or another local user could have prepared it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user; remove it and grade again")
    folder.chmod(0o1733)


def settings() -> dict:
    raw = os.environ.get(ENV)
    if not raw:
        sys.exit(
            f"coursekit.grading.sandbox: {ENV} is not set. This kernel only runs under the "
            "course's grading configuration (nbgrader_config.py)."
        )
    return json.loads(raw)


def _blocking_ancestor(path: Path) -> Path | None:
    """The highest folder above `path` that other users may not traverse, if any."""
    for parent in reversed(path.parents):
        if parent != Path("/") and not os.stat(parent).st_mode & stat.S_IXOTH:
            return parent
    return None


def _rebind(handles: list[tuple[int, Path]]) -> None:
    """Bind each real folder (held open) back at its path, inside whatever covers it now."""
    for fd, path in handles:
        path.mkdir(parents=True, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", str(path), None, MS_BIND)
        os.close(fd)


def _hold(paths) -> list[tuple[int, Path]]:
    ordered = sorted(set(paths), key=lambda p: len(p.parts))  # parents before children
    return [(os.open(path, os.O_RDONLY | os.O_DIRECTORY), path) for path in ordered]


def allowed_reference(package: Path, assignment: str) -> dict[Path, bytes]:
    """The reference files a kernel grading `assignment` may see: the earlier modules.

    Returns {path relative to the package's parent: contents}: each earlier module's file
    and the package `__init__.py` files on the way to it. The graded module and every later
    one are left out, so importing (or reading) their reference earns nothing. An assignment
    that is no module of the course gets no reference at all.
    """
    from ..modules import discover

    modules = discover(package.parent)
    graded = next((m for m in modules if m.assignment == assignment), None)
    if graded is None:
        return {}
    files: dict[Path, bytes] = {}
    for module in modules:
        if module.number >= graded.number:
            continue
        relative = module.package_file
        for part in [relative, *(p / "__init__.py" for p in relative.parents if p.parts)]:
            source = package.parent / part
            if source.is_file():
                files[part] = source.read_bytes()
    return files


def _trim_reference(package: Path, files: dict[Path, bytes], covered: list[Path]) -> None:
    """Cover the reference package and put back only `files` (see allowed_reference)."""
    _cover(package, covered, "8m")
    for relative, data in sorted(files.items()):
        target = package.parent / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o644)


def hide_course(
    config: dict, keep: list[Path], reach: list[Path], tops: list[Path], packages: list[Path]
) -> None:
    """Give the kernel a private /tmp, cover the course's secrets, keep what it needs.

    `reach` (Python, the venv, the reference package) stays readable: when it lies under
    /tmp or under a folder others may not enter (such as /root), the folder above is
    replaced by an empty one and the path alone is bound back. Then the secrets under each
    of `tops` (the course root, the reference package's repository) are covered, and `keep`
    (the notebook's own folder, the kernel's socket folder) is bound back on top. Last, each
    of `packages` (the reference tinytorch) keeps only what `allowed_reference` allows.
    """
    # Read what stays of the reference before anything is covered (masters/ names modules).
    trims = {p: allowed_reference(p, config.get("assignment", "")) for p in packages}
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    tmp = Path("/tmp")
    blocked = {b for b in map(_blocking_ancestor, reach) if b is not None}
    hidden_reach = [p for p in reach if p.is_relative_to(tmp) or _blocking_ancestor(p)]
    reach_handles, keep_handles = _hold(hidden_reach), _hold(keep)
    size = int(config["tmp_mb"])
    _mount("tmpfs", str(tmp), "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=1777")
    covered: list[Path] = []
    for folder in sorted(blocked):
        _cover(folder, covered, "64k")
    _rebind(reach_handles)
    root = Path(config["course_root"])
    # Outer folders first: a course inside the repository's build/ is then hidden whole, and
    # nothing is covered twice (a cover mounted under a later cover could not be remounted).
    for top in sorted({root, *tops}, key=lambda p: len(p.parts)):
        for name in HIDDEN:
            _cover(top / name, covered)
    for extra in config.get("hide", []):
        _cover(Path(extra), covered)
    _cover(root / "autograded", covered, "64k")  # other students' folders
    _rebind(keep_handles)
    for package, files in trims.items():
        _trim_reference(package, files, covered)
    for folder in covered:
        _mount("tmpfs", str(folder), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def reference_packages() -> list[Path]:
    """The reference `tinytorch/` folders this Python would import."""
    spec = importlib.util.find_spec("tinytorch")
    if spec is None:
        return []
    locations = spec.submodule_search_locations or [Path(spec.origin).parent]
    return sorted({Path(p).resolve() for p in locations if Path(p).is_dir()})


def package_roots() -> list[Path]:
    """The folders holding the reference tinytorch: a course repository, masters and all."""
    return sorted({p.parent for p in reference_packages()})


def needed_paths() -> list[Path]:
    """What the kernel must be able to read: Python, the venv, tinytorch, PYTHONPATH."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), *package_roots()}
    paths |= {Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    return sorted(p.resolve() for p in paths if p.exists())


def limit(config: dict) -> None:
    mb = 1024 * 1024
    limits = {
        resource.RLIMIT_AS: int(config["memory_mb"]) * mb,
        resource.RLIMIT_CPU: int(config["cpu_seconds"]),
        resource.RLIMIT_NPROC: int(config["processes"]),
        resource.RLIMIT_FSIZE: int(config["file_mb"]) * mb,
        resource.RLIMIT_NOFILE: 1024,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def inside(uid: int, connection_file: str, kernel_args: list[str]) -> None:
    """Runs as PID 1 of the new namespaces, still root: contain, drop, exec the kernel."""
    private_conn, env = contain(uid, connection_file)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(private_conn), *kernel_args]
    os.execve(sys.executable, argv, env)


def contain(uid: int, connection_file: str) -> tuple[Path, dict[str, str]]:
    """As PID 1 of new namespaces, still root: hide the course, drop to `uid`, set the limits.
    Returns the kernel's own copy of the connection file and the kernel's environment."""
    config = settings()
    workdir = Path.cwd()
    # The kernel reads its own copy of the connection file (the original is the grader's,
    # mode 600). Its Unix sockets go where the grader looks for them: the `ip` prefix, in a
    # runtime folder the grader made writable but not listable (nbgrader_config.py).
    secret = Path(connection_file).read_bytes()
    info = json.loads(secret)
    sockets = Path(info.get("ip", "")).parent
    if info.get("transport") != "ipc" or not sockets.is_absolute() or sockets in BROAD:
        sys.exit(
            "coursekit.grading.sandbox: the kernel has no network, so it needs Unix sockets in a "
            "dedicated folder: set KernelManager.transport='ipc' and an absolute "
            f"KernelManager.ip (got transport={info.get('transport')!r}, ip={info.get('ip')!r})"
        )
    hide_course(
        config,
        keep=[workdir, sockets],
        reach=needed_paths(),
        tops=package_roots(),
        packages=reference_packages(),
    )
    private_conn = Path("/tmp/kernel.json")
    private_conn.write_bytes(secret)
    for path in (private_conn, workdir):
        os.chown(path, uid, uid)
    os.chdir(workdir)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    # Changing user clears the parent-death signal `unshare --kill-child` set; set it again
    # so the kernel (and with it, its whole PID namespace) dies when its launcher is killed.
    if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        sys.exit("coursekit.grading.sandbox: could not set the parent-death signal")
    limit(config)
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        in ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "JUPYTER_RUNTIME_DIR", "NBGRADER_EXECUTION")
    }
    env.update(
        HOME="/tmp",
        IPYTHONDIR="/tmp/.ipython",
        MPLCONFIGDIR="/tmp/.matplotlib",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return private_conn, env


def launch(connection_file: str, kernel_args: list[str]) -> None:
    """Enter fresh namespaces (util-linux `unshare`) and continue in `inside`."""
    settings()  # refuse early, with the message, when not configured
    if os.geteuid() != 0:
        sys.exit(
            "coursekit.grading.sandbox: grading must run as root to contain student code "
            "(namespaces and a user switch); see docs/ta-guide.md"
        )
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    namespaces = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
    uid = str(UID_BASE + os.getpid() % 100_000)
    inner = [
        sys.executable,
        "-m",
        "coursekit.grading.sandbox",
        "--inside",
        uid,
        connection_file,
    ]
    os.execv(unshare, [unshare, *namespaces, *inner, *kernel_args])


def install_kernelspec(prefix: str = sys.prefix) -> Path:
    """Register the `tinytorch-sandbox` kernel in this environment (called by `make setup`)."""
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "coursekit.grading.sandbox", "{connection_file}"],
        "display_name": "TinyTorch grading sandbox",
        "language": "python",
        # Interrupts (nbgrader's cell timeout) travel as messages: no signal has to reach
        # into the kernel's PID namespace.
        "interrupt_mode": "message",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def main(argv: list[str]) -> None:
    if argv == ["--install-kernelspec"]:
        print(f"installed kernelspec in {install_kernelspec()}")
    elif argv and argv[0] == "--inside":
        inside(int(argv[1]), argv[2], argv[3:])
    elif argv:
        launch(argv[0], argv[1:])
    else:
        sys.exit("usage: python -m coursekit.grading.sandbox CONNECTION_FILE [kernel args]")


if __name__ == "__main__":
    main(sys.argv[1:])
