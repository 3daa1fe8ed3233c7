"""Starting, watching and stopping one hub instance (`coursekit hub start|stop|status`).

`start` prepares everything (accounts and passwords, the environment, the share, the
instructor's course, the exchange, the configuration), starts JupyterHub in the background
as root (PAM and switching users need root) and returns once the hub answers. `stop` asks
the hub to stop (it stops every single-user server and the proxy it started), then makes
sure that nothing of the instance is left: the hub, the proxy and every process of the
instance's accounts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..modules import Module, discover
from ..tools import tool_env
from . import accounts, environment
from .config import exchange_environment, service_token, write_hub_config
from .layout import HubError, Instance

PROXY = Path("node_modules") / ".bin" / "configurable-http-proxy"


@dataclass
class Started:
    instance: Instance
    passwords: dict[str, str]
    seconds: float


def require_root() -> None:
    if os.geteuid() != 0:
        raise HubError(
            "the hub runs as root: it checks passwords with PAM and starts each person's "
            "server as that person (run `sudo make hub`)"
        )


def proxy_command(instance: Instance) -> Path:
    command = instance.repo / PROXY
    if not command.is_file():
        raise HubError(f"{command} is missing: run `make setup` (it runs `npm ci`)")
    return command


def released_modules(instance: Instance) -> list[Module]:
    return [
        m for m in discover(instance.repo) if (instance.repo / "release" / m.assignment).is_dir()
    ]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not running: /proc says so.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def hub_pid(instance: Instance) -> int | None:
    pid = read_pid(instance.pid_file)
    return pid if pid and pid_alive(pid) and _is_jupyterhub(pid) else None


def _is_jupyterhub(pid: int) -> bool:
    try:
        return b"jupyterhub" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hidden_paths(instance: Instance) -> list[Path]:
    """What single-user servers must see empty: the repository the hub is started from."""
    return [instance.repo.resolve()]


def prepare(instance: Instance, modules: list[Module] | None = None, log=print) -> dict[str, str]:
    """Everything the hub needs on disk; returns each person's password."""
    (instance.folder / "home").mkdir(parents=True, exist_ok=True)
    for folder in (instance.root, instance.folder, instance.folder / "home"):
        folder.chmod(0o755)
    instance.hub_dir.mkdir(exist_ok=True)
    instance.hub_dir.chmod(0o700)
    for person in instance.people:
        accounts.ensure(instance, person)
    passwords = accounts.set_passwords(instance)
    environment.ensure_environment(instance, log=log)
    environment.write_share(instance)
    environment.make_exchange(instance)
    environment.ensure_course(instance, modules or released_modules(instance), log=log)
    write_hub_config(instance, proxy_command(instance), hidden_paths(instance))
    instance.save()
    return passwords


def api(instance: Instance, path: str, method: str = "GET", body: dict | None = None):
    """The hub's REST API as the course tooling's service (admin of this hub)."""
    request = urllib.request.Request(
        f"{instance.url}/hub/api{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {service_token(instance)}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def wait_until_up(instance: Instance, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubError(f"JupyterHub exited at start:\n{log_tail(instance)}")
        try:
            api(instance, "/")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise HubError(f"JupyterHub did not answer within {timeout:.0f} s:\n{log_tail(instance)}")


def log_tail(instance: Instance, lines: int = 40) -> str:
    try:
        return "\n".join(instance.log_file.read_text().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(
    instance: Instance, modules: list[Module] | None = None, log=print, timeout: float = 180
) -> Started:
    require_root()
    began = time.monotonic()
    if hub_pid(instance):
        raise HubError(f"the hub {instance.name!r} is already running at {instance.url}/")
    busy = [
        p for p in (instance.port, instance.proxy_api_port, instance.hub_port) if not port_free(p)
    ]
    if busy:
        raise HubError(f"ports in use on 127.0.0.1: {busy}; choose others (--port)")
    passwords = prepare(instance, modules, log=log)
    log(f"starting JupyterHub at {instance.url}/ (log: {instance.log_file})")
    env = tool_env(**exchange_environment(instance))
    for name in ("PYTHONPATH", "JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    with open(instance.log_file, "ab") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(instance.config_file)],
            cwd=instance.hub_dir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    instance.pid_file.write_text(f"{process.pid}\n")
    try:
        wait_until_up(instance, process, timeout)
    except BaseException:
        stop(instance, log=lambda _: None)
        raise
    return Started(instance, passwords, time.monotonic() - began)


def instance_processes(instance: Instance) -> list[int]:
    """Processes of the instance's accounts (their servers, kernels and terminals)."""
    uids = set()
    for person in instance.people:
        found = accounts.existing(person.account)
        if found and found.pw_gecos == accounts.owner_mark(instance):
            uids.add(found.pw_uid)
    found_pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids and pid_alive(int(entry.name)):
                    found_pids.append(int(entry.name))
            except OSError:
                continue
    return found_pids


def _terminate(pids: list[int], grace: float) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def stop(instance: Instance, log=print, grace: float = 60) -> list[str]:
    """Stop the hub and everything it started; returns what was stopped."""
    require_root()
    stopped = []
    pid = hub_pid(instance)
    if pid:
        _terminate([pid], grace)  # the hub stops the servers and the proxy first
        stopped.append(f"JupyterHub (pid {pid})")
    proxy = read_pid(instance.proxy_pid_file)
    if proxy and pid_alive(proxy) and b"configurable-http-proxy" in _cmdline(proxy):
        _terminate([proxy], 10)
        stopped.append(f"proxy (pid {proxy})")
    left = instance_processes(instance)
    if left:
        _terminate(left, 10)
        stopped.append(f"{len(left)} processes of the hub's accounts")
    for path in (instance.pid_file, instance.proxy_pid_file):
        path.unlink(missing_ok=True)
    log("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return stopped


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def status(instance: Instance) -> dict:
    """Whether the hub runs, where, and whose servers are up."""
    pid = hub_pid(instance)
    found = {"running": bool(pid), "pid": pid, "url": f"{instance.url}/", "servers": {}}
    if pid:
        try:
            for user in api(instance, "/users"):
                server = user.get("servers", {}).get("")
                found["servers"][user["name"]] = bool(server and server.get("ready"))
        except (urllib.error.URLError, OSError) as error:
            found["error"] = str(error)
    return found


def remove(instance: Instance, log=print) -> None:
    """Stop the instance, delete its accounts and its folder (the course copy with it)."""
    stop(instance, log=log)
    removed = accounts.remove(instance)
    shutil.rmtree(instance.folder, ignore_errors=True)
    log(f"removed {instance.folder} and the accounts {', '.join(removed) or '(none)'}")
