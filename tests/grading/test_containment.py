"""Containment: student code in a grading kernel tries to break out, and cannot.

A real grading kernel (the `tinytorch-sandbox` kernelspec that nbgrader_config.py selects)
is started from a scratch course's configuration, as nbgrader starts it, and each test runs
an attack in it and reports what happened.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import nbformat
import pytest
from jupyter_client.manager import KernelManager

from coursekit.course import Course
from coursekit.grading.standby import SyncStandbyKernelManager
from coursekit.modules import REPO
from coursekit.plugins.preprocessors import PrepareSandbox

pytestmark = pytest.mark.xdist_group("nbgrader")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(REPO / "nbgrader_config.py", root)
    (root / "gradebook").mkdir()
    (root / "gradebook" / "gradebook.db").write_text("hidden tests live here")
    for folder in ("source", "solutions", "release", "submitted"):
        (root / folder / "01_tensor").mkdir(parents=True)
        (root / folder / "01_tensor" / "tensor.ipynb").write_text("secret")
    for student in ("alice", "bob"):
        (root / "autograded" / student / "01_tensor").mkdir(parents=True)
    (root / "autograded" / "bob" / "01_tensor" / "tensor.ipynb").write_text("bob's work")
    return root


@contextlib.contextmanager
def sandbox_kernel(course_root, workdir, manager: str | None = None):
    """A grading kernel started as nbgrader starts it, from the course's own configuration,
    for the assignment named by `workdir` (autograded/<student>/<assignment>): by the
    course's kernel manager (a pre-started standby, coursekit/grading/standby.py), or with
    `manager="launcher"` by jupyter_client's own, which runs the kernelspec's launcher.

    The grading step that prepares the sandbox sets its environment variable; the
    environment is put back afterwards so other tests see the one they started with.
    """
    saved = dict(os.environ)
    config = Course(course_root).config
    assert config.Execute.kernel_name == "tinytorch-sandbox"
    resources = {"nbgrader": {"assignment": workdir.name}}
    PrepareSandbox(config=config).preprocess(nbformat.v4.new_notebook(), resources)
    assert config.Execute.kernel_manager_class == "coursekit.grading.standby.StandbyKernelManager"
    manager_class = KernelManager if manager == "launcher" else SyncStandbyKernelManager
    km = manager_class(kernel_name="tinytorch-sandbox", config=config)
    try:
        km.start_kernel(cwd=str(workdir))
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        yield kc, km
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module", params=["standby", "launcher"])
def kernel(course, request):
    """The same containment whichever way the kernel starts."""
    workdir = course / "autograded" / "alice" / "01_tensor"
    shutil.rmtree(workdir)  # what the other way's kernel wrote there, owned by its user
    workdir.mkdir()
    with sandbox_kernel(course, workdir, request.param) as started:
        yield started


def run(kernel, code: str, timeout: float = 60):
    """Run code in the sandboxed kernel; return what it printed as JSON on its last line."""
    kc, _ = kernel
    printed = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
        if msg["msg_type"] == "error":
            printed.append(json.dumps({"error": msg["content"]["ename"]}))

    kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    return json.loads("".join(printed).strip().splitlines()[-1])


ATTEMPT = """
import json, os
def attempt(action):
    try:
        result = action()
        return {"ok": True, "result": repr(result)[:200]}
    except BaseException as exc:
        return {"ok": False, "error": type(exc).__name__}
"""


def test_kernel_runs_as_an_unprivileged_user_in_its_own_folder(kernel, course):
    got = run(kernel, "import os, json; print(json.dumps([os.getuid(), os.getcwd()]))")
    assert got[0] >= 200_000
    assert got[1] == str(course / "autograded" / "alice" / "01_tensor")


@pytest.mark.parametrize(
    "path",
    [
        "gradebook/gradebook.db",
        "source/01_tensor/tensor.ipynb",
        "solutions/01_tensor/tensor.ipynb",
        "release/01_tensor/tensor.ipynb",
        "submitted/01_tensor/tensor.ipynb",
        "autograded/bob/01_tensor/tensor.ipynb",
    ],
)
def test_course_secrets_and_other_students_cannot_be_read(kernel, course, path):
    got = run(
        kernel, ATTEMPT + f"print(json.dumps(attempt(lambda: open({str(course / path)!r}).read())))"
    )
    assert got["ok"] is False, f"student code read {path}"


def test_the_repository_masters_and_gradebook_are_hidden_too(kernel):
    for path in (REPO / "masters", REPO / "source", REPO / "solutions", REPO / ".git"):
        got = run(
            kernel, ATTEMPT + f"print(json.dumps(attempt(lambda: os.listdir({str(path)!r}))))"
        )
        assert got["ok"] is False or got["result"] == "[]", f"{path} is visible: {got}"


def test_other_students_folders_are_not_listed(kernel, course):
    got = run(
        kernel, f"import os, json; print(json.dumps(os.listdir({str(course / 'autograded')!r})))"
    )
    assert got == ["alice"]


def test_the_reference_package_cannot_be_modified(kernel):
    target = REPO / "tinytorch" / "__init__.py"
    before = target.read_bytes()
    got = run(
        kernel,
        ATTEMPT + f"print(json.dumps(attempt(lambda: open({str(target)!r}, 'a').write('x'))))",
    )
    assert got["ok"] is False
    assert target.read_bytes() == before


def test_grading_a_module_sees_only_the_earlier_modules_of_the_reference(course):
    """Grading 05: Modules 01-04 import; 05's own reference and later ones are absent."""
    workdir = course / "autograded" / "alice" / "05_autograd"
    workdir.mkdir(parents=True, exist_ok=True)
    package = REPO / "tinytorch"
    code = ATTEMPT + (
        "import importlib\n"
        "found = {m: attempt(lambda m=m: importlib.import_module(m)) for m in "
        "('tinytorch.core.tensor', 'tinytorch.core.losses', 'tinytorch.core.autograd', "
        "'tinytorch.core.spatial', 'tinytorch.data.loader')}\n"
        f"found['read'] = attempt(lambda: open({str(package / 'core' / 'autograd.py')!r}).read())\n"
        f"found['listing'] = sorted(os.listdir({str(package / 'core')!r}))\n"
        "print(json.dumps(found))"
    )
    with sandbox_kernel(course, workdir) as started:
        got = run(started, code)
    assert got["tinytorch.core.tensor"]["ok"] and got["tinytorch.core.losses"]["ok"]
    for later in ("tinytorch.core.autograd", "tinytorch.core.spatial", "tinytorch.data.loader"):
        assert got[later] == {"ok": False, "error": "ModuleNotFoundError"}, later
    assert got["read"]["ok"] is False
    assert "autograd.py" not in got["listing"] and "tensor.py" in got["listing"]


def test_grading_the_first_module_sees_no_reference_at_all(kernel):
    got = run(kernel, ATTEMPT + "print(json.dumps(attempt(lambda: __import__('tinytorch'))))")
    assert got == {"ok": False, "error": "ModuleNotFoundError"}


def test_writing_another_students_folder_fails(kernel, course):
    target = course / "autograded" / "bob" / "01_tensor" / "evil.txt"
    got = run(
        kernel,
        ATTEMPT + f"print(json.dumps(attempt(lambda: open({str(target)!r}, 'w').write('x'))))",
    )
    assert got["ok"] is False and not target.exists()


def test_own_folder_is_writable(kernel, course):
    got = run(
        kernel,
        ATTEMPT + "print(json.dumps(attempt(lambda: open('checkpoint.npz', 'w').write('x'))))",
    )
    assert got["ok"] is True
    assert (course / "autograded" / "alice" / "01_tensor" / "checkpoint.npz").exists()


def test_no_network_not_even_the_graders_loopback(kernel):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    code = ATTEMPT + (
        "import socket\n"
        f"print(json.dumps(attempt(lambda: socket.create_connection(('127.0.0.1', {port}), timeout=3))))"
    )
    got = run(kernel, code)
    server.close()
    assert got["ok"] is False
    assert accepted == []


def test_memory_bomb_gets_memory_error_and_the_kernel_survives(kernel):
    got = run(
        kernel, ATTEMPT + "import numpy as np\nprint(json.dumps(attempt(lambda: np.ones(10**10))))"
    )
    assert got == {"ok": False, "error": "MemoryError"}
    assert run(kernel, "print(1 + 1)") == 2


def test_fork_bomb_is_stopped_and_its_processes_die_with_the_kernel(course):
    code = (
        "import os, time, json\n"
        "children, error = 0, None\n"
        "for _ in range(5000):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError as exc:\n"
        "        error = type(exc).__name__; break\n"
        "    if pid == 0:\n"
        "        time.sleep(600); os._exit(0)\n"
        "    children += 1\n"
        "print(json.dumps({'children': children, 'error': error, 'uid': os.getuid()}))\n"
    )
    with sandbox_kernel(course, course / "autograded" / "alice" / "01_tensor") as started:
        got = run(started, code, timeout=120)
    assert got["error"] == "BlockingIOError" and got["children"] < 5000
    # The kernel was PID 1 of its namespace: the OS kills every process left in it.
    deadline, left = time.monotonic() + 15, "?"
    while left and time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-u", str(got["uid"])], capture_output=True, text=True)
        left = left.stdout.strip()
        time.sleep(0.2)
    assert left == "", f"processes survived the kernel: {left}"


def test_kernels_start_reliably_for_a_course_inside_the_repository(tmp_path):
    """The demo's course lives in the repository's build/ folder, under one of the covers.

    Each start must find its own folder and hide the rest, whatever the order of covers.
    """
    root = REPO / "build" / "containment-test" / tmp_path.name
    shutil.rmtree(root, ignore_errors=True)
    (root / "gradebook").mkdir(parents=True)
    shutil.copy2(REPO / "nbgrader_config.py", root)
    workdir = root / "autograded" / "alice" / "01_tensor"
    workdir.mkdir(parents=True)
    code = f"import os, json; print(json.dumps(os.path.isdir({str(root / 'gradebook')!r})))"
    try:
        for _ in range(5):
            with sandbox_kernel(root, workdir) as started:
                assert run(started, code) is False
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
