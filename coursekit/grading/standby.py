"""Pre-started grading kernels: a fresh, contained kernel per student without paying for
Python's start-up and ipykernel's imports while the grader waits.

Starting a contained kernel (coursekit/grading/sandbox.py) costs three Python start-ups
(the launcher, the contained launcher, `python -m ipykernel_launcher`) and ipykernel's
imports before the first cell runs: most of a small notebook's grading time. Here the
grading process keeps one *standby* process waiting: a new Python, started as the previous
student's notebook begins, that has imported ipykernel and nothing of any student. When
nbgrader starts the next kernel, `StandbyKernelManager` hands the standby what the
kernelspec's launcher would get (connection file, kernel arguments, working folder,
environment); the standby then does exactly what the launcher does (new network, mount
and PID namespaces; the course hidden; its own unprivileged user; the limits) and becomes
the kernel in the same process, with no second exec. Every student still gets a new process
that no other student's code ever ran in, contained before the first line of theirs runs;
the standby serves one kernel and is never reused.

Selected with `c.Execute.kernel_manager_class` in nbgrader_config.py; kernels other than
the course's sandbox start as usual.

    python -m coursekit.grading.standby   (started by StandbyKernelManager, request on stdin)
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager, KernelManager

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
_waiting: list[subprocess.Popen] = []  # this process's standby, started ahead of need
# Threads and libraries the kernel would start with one thread each (as the sandbox sets).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _start_standby() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "coursekit.grading.standby"],
        stdin=subprocess.PIPE,
        cwd="/",
        env={**os.environ, **ONE_THREAD},
        start_new_session=True,  # its own process group, as jupyter_client starts kernels
    )


def take_standby() -> subprocess.Popen:
    """The waiting standby (one is started now if none waits), and the next one started."""
    ready = [p for p in _waiting if p.poll() is None]
    _waiting.clear()
    proc = ready.pop(0) if ready else _start_standby()
    for extra in ready:
        extra.kill()
    _waiting.append(_start_standby())
    return proc


@atexit.register
def _stop_waiting() -> None:
    for proc in _waiting:
        proc.kill()
        proc.wait()
    _waiting.clear()


def is_sandbox_command(cmd: list[str]) -> bool:
    return cmd[1:3] == ["-m", "coursekit.grading.sandbox"] and len(cmd) >= 4


class _StandbyLaunch:
    """Starts the course's sandbox kernel in a pre-started standby process."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if not is_sandbox_command(kernel_cmd) or os.geteuid() != 0:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        proc = take_standby()
        request = {
            "connection_file": kernel_cmd[3],
            "kernel_args": kernel_cmd[4:],
            "cwd": str(kw.get("cwd") or Path.cwd()),
            "env": kw.get("env") or dict(os.environ),
        }
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.close()
        provisioner = self.provisioner
        provisioner.process, provisioner.pid = proc, proc.pid
        provisioner.pgid = os.getpgid(proc.pid)
        provisioner.cwd = request["cwd"]
        self._reconcile_connection_info(provisioner.connection_info)


class StandbyKernelManager(_StandbyLaunch, AsyncKernelManager):
    """What nbgrader's Execute uses (nbclient drives an async kernel manager)."""


class SyncStandbyKernelManager(_StandbyLaunch, KernelManager):
    """The same for code that drives kernels synchronously."""


def _unshare(flags: int) -> None:
    from .sandbox import _libc

    if _libc.unshare(flags) != 0:
        import ctypes

        errno = ctypes.get_errno()
        sys.exit(f"coursekit.grading.standby: unshare failed: {os.strerror(errno)}")


def serve(request: dict) -> None:
    """What `sandbox.launch` then `sandbox.inside` do, ending in ipykernel in this process."""
    from . import sandbox

    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sandbox.settings()  # refuse, with the message, when not configured
    uid = sandbox.UID_BASE + os.getpid() % 100_000
    # util-linux `unshare --net --mount --pid --fork --kill-child --mount-proc`, by hand.
    _unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID)
    sandbox._mount("none", "/", None, sandbox.MS_REC | sandbox.MS_PRIVATE)
    child = os.fork()
    if child:  # the launcher's part: wait for the namespace's PID 1, exit as it does
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda s, _f: os.kill(child, s))
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except ChildProcessError:
                status = 0
                break
            except InterruptedError:
                continue
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    sandbox._libc.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    sandbox._mount("none", "/proc", None, sandbox.MS_REC | sandbox.MS_PRIVATE)
    sandbox._mount("proc", "/proc", "proc", sandbox.MS_NOSUID | sandbox.MS_NODEV | 8)  # NOEXEC
    private_conn, env = sandbox.contain(uid, request["connection_file"])
    os.environ.clear()
    os.environ.update(env)
    # As `python -m ipykernel_launcher` in the notebook's folder: that folder first on the
    # path, and none of the course tooling this process imported left importable.
    sys.path[0] = str(Path.cwd())
    for name in [m for m in sys.modules if m == "coursekit" or m.startswith("coursekit.")]:
        del sys.modules[name]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=["-f", str(private_conn), *request["kernel_args"]])
    sys.exit(0)


def main() -> None:
    # Die with the grading process that started this standby (it may never be used).
    from .sandbox import PR_SET_PDEATHSIG, _libc

    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # What the kernel will need, imported now while the grader is busy with someone else.
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401

    line = sys.stdin.buffer.readline()
    if not line.strip():
        return  # not needed after all
    serve(json.loads(line))


if __name__ == "__main__":
    main()
