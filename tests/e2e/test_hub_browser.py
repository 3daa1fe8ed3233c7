"""The course on a real JupyterHub, walked in a real browser.

A hub instance of its own (`e2e`: accounts e2e-instructor, e2e-ada, e2e-grace, ports of its
own) is started with `coursekit hub start`'s code, then Debian's Chromium, driven by
Playwright, walks the course the way people do:

1. the instructor logs in and releases 01_tensor from the formgrader;
2. Ada logs in, sees 01_tensor under Assignments, fetches it, opens the notebook, runs the
   set-up cell, replaces the Tensor class cell with her solution, runs it, validates, saves
   and submits;
3. Grace fetches it and submits it untouched;
4. the instructor collects in the formgrader; grading runs in a terminal as root (the
   course's grading command: the sandbox needs root, which the formgrader's Autograde
   button does not have); the instructor generates and releases feedback in the formgrader;
5. Ada fetches her feedback and opens the page: full marks, and no hidden test in it.

Each step saves a screenshot under build/hub-walk/ and asserts on what the page shows; the
step timings go to build/hub-walk/timings.json (and the end of the test run). The tests
run in order and share the browser and the hub: a step that fails makes the later ones fail.
Needs root (real accounts, PAM), Debian's Chromium and the proxy from npm (`make setup`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from coursekit.course import Course
from coursekit.hub import server
from coursekit.hub.layout import Instance
from coursekit.modules import REPO, find
from coursekit.quality import leaks, mutants

CHROMIUM = Path("/usr/bin/chromium")
# Chromium on this kind of machine: headless, no sandbox (root), and no background traffic
# to the outside (the network is closed; each refused connection costs time).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = REPO / "build" / "hub-walk"
MODULE = "01_tensor"
UI_TIMEOUT = 120_000  # ms: a loaded two-core machine renders JupyterLab slowly
SPAWN_TIMEOUT = 300_000  # ms: the first server start of a person
TIMINGS: dict[str, float] = {}

pytestmark = pytest.mark.xdist_group("hub")


def missing_prerequisites() -> str | None:
    if os.geteuid() != 0:
        return "the hub needs root (real accounts, PAM, one server per person)"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (make setup installs Debian's chromium)"
    if not (REPO / server.PROXY).is_file():
        return f"{server.PROXY} is missing (make setup runs npm ci)"
    return None


@pytest.fixture(scope="module")
def hub():
    why = missing_prerequisites()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the hub's browser test cannot run in CI: {why}")
        pytest.skip(why)
    ports = sorted({server.free_port() for _ in range(6)})[:3]
    instance = Instance(
        name="e2e",
        prefix="e2e-",
        students=("ada", "grace"),
        port=ports[0],
        proxy_api_port=ports[1],
        hub_port=ports[2],
    )
    server.remove(instance, log=lambda _: None)  # what a failed earlier run left
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    began = time.monotonic()
    started = server.start(instance, [find(MODULE)], log=lambda _: None)
    TIMINGS["0 hub start (accounts, course copy, config, JupyterHub up)"] = time.monotonic() - began
    yield started
    server.remove(instance, log=lambda _: None)
    (SHOTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1) + "\n")


@pytest.fixture(scope="module")
def browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


class Person:
    """One person's browser (a context of their own: their own cookies) on the hub."""

    def __init__(self, browser, hub: server.Started, account: str):
        self.hub, self.account = hub, account
        self.url = hub.instance.url
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.context.set_default_timeout(UI_TIMEOUT)
        self.page = self.context.new_page()

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.url}/hub/login")
        page.fill("#username_input", self.account)
        page.fill("#password_input", self.hub.passwords[self.account])
        page.click("#login_submit")
        # The hub spawns the server, shows its progress, then sends the browser to it.
        page.wait_for_url(f"**/user/{self.account}/**", timeout=SPAWN_TIMEOUT)

    def open(self, path: str) -> None:
        self.page.goto(f"{self.url}/user/{self.account}/{path}")

    def assignments(self):
        """The tree's Assignments tab (Nbgrader > Assignment List), freshly loaded."""
        page = self.page
        self.open("tree")
        page.get_by_text("Nbgrader", exact=True).click()
        page.locator(".lm-Menu").get_by_text("Assignment List").click()
        return page.locator("#assignments")

    def shot(self, name: str, page=None) -> Path:
        path = SHOTS / f"{name}.png"
        (page or self.page).screenshot(path=path)
        return path


class Step:
    """Times a step of the walk and saves its screenshot when it ends, failed or not."""

    def __init__(self, name: str, person: Person, page=None):
        self.name, self.person, self.page = name, person, page

    def __enter__(self):
        self.began = time.monotonic()
        return self

    def __exit__(self, *exc):
        TIMINGS[self.name] = time.monotonic() - self.began
        try:
            self.person.shot(self.name.replace(" ", "-"), self.page)
        except Exception:  # a screenshot must not hide the step's own failure
            pass
        return False


@pytest.fixture(scope="module")
def people(browser, hub):
    instance = hub.instance
    made = {
        "instructor": Person(browser, hub, instance.instructor.account),
        "ada": Person(browser, hub, instance.prefix + "ada"),
        "grace": Person(browser, hub, instance.prefix + "grace"),
    }
    yield made
    for person in made.values():
        person.context.close()


@pytest.fixture(scope="module")
def reference():
    """The release, the solved class cell, and the hidden test lines of the module."""
    module = find(MODULE)
    course = Course(REPO)
    release = course.release_notebook(module)
    solved = mutants.submission(release, mutants.solution_sources(course.source_notebook(module)))
    index = next(
        i for i, c in enumerate(release.cells) if c.metadata.get("nbgrader", {}).get("solution")
    )
    setup = next(i for i, c in enumerate(release.cells) if c.cell_type == "code")
    _, hidden = leaks.secret_lines(course.source_notebook(module))
    return {
        "module": module,
        "class_cell": index,
        "setup_cell": setup,
        "solution": solved.cells[index].source,
        "hidden": hidden,
    }


def run_cell(nb, cell, tries: int = 4) -> None:
    """Put the cursor in the cell and press Shift+Enter until its prompt shows it ran.

    A key pressed before the kernel's connection is up is lost (the prompt stays `[ ]`), so
    an unchanged prompt after a while means: press again.
    """
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(tries):
        cell.locator(".cm-content").click()
        nb.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and prompt.inner_text().strip() == "[ ]:":
            time.sleep(0.5)
        if prompt.inner_text().strip() != "[ ]:":
            break
    _expect(prompt).to_have_text(re.compile(r"\[\d+\]"))


def modal_text(page) -> str:
    """The formgrader's result dialog (success or error), then closed."""
    modal = page.locator("#success-modal, #error-modal")
    modal.wait_for()
    # Shown and done moving (Bootstrap fades and slides it in), so the screenshot shows it.
    page.wait_for_function(
        """() => {
            const m = document.querySelector('#success-modal, #error-modal');
            if (!m || !m.classList.contains('in') || getComputedStyle(m).opacity !== '1') return false;
            const t = getComputedStyle(m.querySelector('.modal-dialog')).transform;
            return t === 'none' || t === 'matrix(1, 0, 0, 1, 0, 0)';
        }"""
    )
    return modal.inner_text()


def close_modal(page) -> None:
    page.locator("#success-modal, #error-modal").get_by_role("button", name="OK").click()
    page.locator("#success-modal, #error-modal").wait_for(state="detached")


def assignment_row(page, name: str):
    return page.locator("table tbody tr", has=page.get_by_role("link", name=name, exact=True))


def formgrader_action(person: Person, icon: str) -> str:
    """Click an action of 01_tensor's row in Manage Assignments; the dialog's text."""
    page = person.page
    person.open("formgrader/manage_assignments")
    assignment_row(page, MODULE).locator(f".glyphicon-{icon}").click()
    return modal_text(page)


# --- the walk -------------------------------------------------------------------------------


def test_1_instructor_releases_the_module_from_the_formgrader(people, hub):
    instructor = people["instructor"]
    with Step("1 instructor releases 01_tensor", instructor):
        instructor.log_in()
        text = formgrader_action(instructor, "cloud-upload")
    assert f"Successfully released '{MODULE}'" in text, text
    close_modal(instructor.page)
    row = assignment_row(instructor.page, MODULE)
    assert "released" in row.inner_text()
    outbound = hub.instance.exchange / "tinytorch" / "outbound" / MODULE
    assert (outbound / "tensor.ipynb").is_file()


def test_2_student_fetches_solves_validates_and_submits(people, hub, reference):
    ada = people["ada"]
    with Step("2a student sees 01_tensor under Assignments", ada):
        ada.log_in()
        panel = ada.assignments()
        released = panel.locator("#released_assignments_list .list_item", has_text=MODULE)
        released.wait_for()
    with Step("2b student fetches it", ada):
        released.get_by_role("button", name="Fetch").click()
        fetched = panel.locator("#fetched_assignments_list .list_item", has_text=MODULE).first
        fetched.wait_for()
        fetched.locator("a.assignment-notebooks-link").click()
        link = panel.locator(f"#nbgrader-tinytorch-{MODULE}").get_by_role("link", name="tensor")
        link.wait_for()
    assert "Submit" in fetched.inner_text()
    notebook_file = hub.instance.home(ada.account) / MODULE / "tensor.ipynb"
    assert notebook_file.is_file()

    with ada.context.expect_page() as opened:
        link.click()
    nb = opened.value
    nb.set_default_timeout(UI_TIMEOUT)
    with Step("2c student runs the set-up cell and her solution cell", ada, nb):
        cells = nb.locator(".jp-Notebook .jp-Cell")
        setup, solution = cells.nth(reference["setup_cell"]), cells.nth(reference["class_cell"])
        solution.wait_for()
        # The kernel has started and is idle: what the status in the toolbar shows.
        nb.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        run_cell(nb, setup)
        solution.locator(".cm-content").click()
        nb.keyboard.press("Control+a")
        nb.keyboard.insert_text(reference["solution"])
        run_cell(nb, solution)
        errors = solution.locator("[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors.count() == 0, solution.locator(".jp-OutputArea").inner_text()
        nb.keyboard.press("Control+s")
        solution_text = reference["solution"].strip()
        _wait_for(lambda: _solution_in(notebook_file, reference).strip() == solution_text)
    with Step("2d student validates", ada, nb):
        nb.get_by_role("button", name="Validate").click()
        dialog = nb.locator(".jp-Dialog")
        dialog.wait_for()
        _expect(dialog).to_contain_text("Validation Results")
        verdict = dialog.inner_text()
    assert "Success! Your notebook passes all the tests." in verdict, verdict
    dialog.get_by_role("button", name="Ok").click()
    nb.close()

    with Step("2e student submits", ada):
        panel = ada.assignments()
        fetched = panel.locator("#fetched_assignments_list .list_item", has_text=MODULE).first
        fetched.get_by_role("button", name="Submit").click()
        submitted = panel.locator("#submitted_assignments_list .list_item", has_text=MODULE)
        submitted.first.wait_for()
    inbound = hub.instance.exchange / "tinytorch" / "inbound"
    assert list(inbound.glob(f"{ada.account}+{MODULE}+*")), sorted(inbound.iterdir())


def test_3_second_student_submits_a_blank_notebook(people, hub):
    grace = people["grace"]
    with Step("3 second student submits the release untouched", grace):
        grace.log_in()
        panel = grace.assignments()
        released = panel.locator("#released_assignments_list .list_item", has_text=MODULE)
        released.get_by_role("button", name="Fetch").click()
        fetched = panel.locator("#fetched_assignments_list .list_item", has_text=MODULE).first
        fetched.get_by_role("button", name="Submit").click()
        panel.locator("#submitted_assignments_list .list_item", has_text=MODULE).first.wait_for()
    inbound = hub.instance.exchange / "tinytorch" / "inbound"
    assert list(inbound.glob(f"{grace.account}+{MODULE}+*"))


def test_4_instructor_collects_grades_and_releases_feedback(people, hub):
    instructor = people["instructor"]
    instance = hub.instance
    with Step("4a instructor collects in the formgrader", instructor):
        text = formgrader_action(instructor, "cloud-download")
    assert f"Successfully collected submissions of '{MODULE}'" in text, text
    close_modal(instructor.page)
    _expect(assignment_row(instructor.page, MODULE).locator("td").nth(8)).to_have_text("2")

    began = time.monotonic()
    env = dict(os.environ, TINYTORCH_HUB_ROOT=str(instance.root), COLUMNS="160")
    graded = subprocess.run(
        [sys.executable, "-m", "coursekit", "hub", "grade", MODULE, "--name", instance.name],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    TIMINGS["4b grading as root in a terminal (coursekit hub grade, sandboxed)"] = (
        time.monotonic() - began
    )
    (SHOTS / "4b-terminal-grading.txt").write_text(graded.stdout + graded.stderr)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    scores = Course(instance.course_root).scores(MODULE)
    ada, grace = instance.prefix + "ada", instance.prefix + "grace"
    assert scores[ada].score == scores[ada].max_score == 20, scores
    assert scores[grace].score == 0, scores
    owner = os.stat(instance.course_root / "autograded" / ada).st_uid
    assert owner == os.stat(instance.course_root).st_uid  # handed back to the instructor

    with Step("4c instructor sees the grades in the formgrader", instructor):
        instructor.open(f"formgrader/manage_submissions/{MODULE}")
        table = instructor.page.locator("table")
        _expect(table).to_contain_text(ada)
        _expect(table).to_contain_text("20 / 20")
    with Step("4d instructor generates feedback in the formgrader", instructor):
        text = formgrader_action(instructor, "comment")
    assert f"Successfully generated feedback of '{MODULE}'" in text, text
    close_modal(instructor.page)
    with Step("4e instructor releases feedback in the formgrader", instructor):
        text = formgrader_action(instructor, "envelope")
    assert "Success" in text, text
    close_modal(instructor.page)
    feedback = instance.exchange / "tinytorch" / "feedback"
    assert len(list(feedback.glob("*.html"))) == 2


def test_5_student_reads_her_feedback_without_hidden_tests(people, hub, reference):
    ada = people["ada"]
    with Step("5a student fetches her feedback", ada):
        panel = ada.assignments()
        submitted = panel.locator("#submitted_assignments_list .list_item", has_text=MODULE)
        submitted.first.get_by_role("button", name="Fetch Feedback").click()
        view = panel.get_by_text("(view feedback)")
        view.wait_for()
    folder = hub.instance.home(ada.account) / MODULE / "feedback"
    pages = sorted(folder.rglob("tensor.html"))
    assert len(pages) == 1, pages
    relative = pages[0].relative_to(hub.instance.home(ada.account)).as_posix()
    with Step("5b student opens the feedback page", ada):
        ada.open(f"files/{relative}")
        body = ada.page.locator("body")
        _expect(body).to_contain_text("tensor")
        ada.page.screenshot(path=SHOTS / "5b-feedback-page-full.png", full_page=True)
        text = body.inner_text()
    assert re.search(r"Score:\s*20(\.0)?\s*/\s*20", text), text[:2000]
    assert "BEGIN HIDDEN TESTS" not in text
    # A leak is a hidden-test line, whole, on the page (leaks.py's rule for every gate).
    shown = reference["hidden"] & {line.strip() for line in text.splitlines()}
    assert shown == set(), shown
    assert "A hidden test failed" not in text  # full marks: nothing to explain


def test_6_the_terminal_alone_does_steps_3_to_5_again(hub):
    """`coursekit hub grade --collect --feedback`: for an instructor who skips the formgrader.

    Nothing changed since the walk, so nothing is graded again (grading resumes), and the
    feedback is generated and released anew; the course stays the instructor's.
    """
    instance = hub.instance
    env = dict(os.environ, TINYTORCH_HUB_ROOT=str(instance.root), COLUMNS="160")
    command = [sys.executable, "-m", "coursekit", "hub", "grade", MODULE, "--name", instance.name]
    done = subprocess.run(
        [*command, "--collect", "--feedback"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 graded, 2 unchanged" in done.stdout, done.stdout
    assert f"Feedback for {MODULE} generated and released" in done.stdout
    owner = instance.course_root.stat().st_uid
    for path in (instance.course_root / "feedback").rglob("*"):
        assert path.stat().st_uid == owner, path


# --- what a student's server can reach --------------------------------------------------------

PROBE = """
import importlib.util, json, os, pwd, sys
found = {"user": pwd.getpwuid(os.getuid()).pw_name, "python": sys.executable}
for name in ("tinytorch", "coursekit", "tito"):
    found["import " + name] = importlib.util.find_spec(name) is not None
for path in PATHS:
    try:
        if os.path.isdir(path):
            found[path] = f"listed {len(os.listdir(path))} entries"
        else:
            with open(path, "rb") as f:
                found[path] = f"read {len(f.read(16))} bytes"
    except OSError as error:
        found[path] = type(error).__name__
print(json.dumps(found))
"""


def run_in_server(instance: Instance, account: str, code: str) -> str:
    """Run code in a new kernel of the person's own server (their token, the REST API)."""
    import websocket

    issued = server.api(
        instance, f"/users/{account}/tokens", "POST", {"expires_in": 600, "note": "test"}
    )
    token = issued["token"]
    base = f"{instance.url}/user/{account}/api"

    def call(path: str, method: str, body: dict | None = None):
        request = urllib.request.Request(
            base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    kernel = call("/kernels", "POST", {"name": "python3"})
    socket = websocket.create_connection(
        f"{base.replace('http', 'ws', 1)}/kernels/{kernel['id']}/channels",
        header=[f"Authorization: token {token}"],
        timeout=120,
    )
    try:
        msg_id = uuid.uuid4().hex
        socket.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "session": uuid.uuid4().hex,
                        "username": account,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False},
                    "channel": "shell",
                }
            )
        )
        out = []
        while True:
            message = json.loads(socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "stream":
                out.append(message["content"]["text"])
            elif kind == "error":
                out.append("\n".join(message["content"]["traceback"]))
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        socket.close()
        call(f"/kernels/{kernel['id']}", "DELETE")


def test_student_server_cannot_import_or_read_the_reference(people, hub):
    instance = hub.instance
    ada = instance.prefix + "ada"
    course = instance.course_root
    secret = [
        course / "tinytorch",
        course / "source",
        course / "solutions",
        course / "gradebook" / "gradebook.db",
        course / "coursekit",
        REPO / "tinytorch",
        REPO / "source",
        REPO / "solutions",
        REPO / "masters",
        REPO / ".venv",
    ]
    code = f"PATHS = {[str(p) for p in secret]!r}\n{PROBE}"
    found = json.loads(run_in_server(instance, ada, code).strip().splitlines()[-1])
    assert found["user"] == ada
    assert found["import tinytorch"] is False and found["import coursekit"] is False, found
    assert found["import tito"] is True  # what a student may have
    for path in secret:
        assert found[str(path)] in ("PermissionError", "FileNotFoundError"), (path, found)
    # What students may read is there: the released notebook they fetched, the milestones.
    allowed = [
        str(instance.home(ada) / MODULE / "tensor.ipynb"),
        str(instance.share / "milestones"),
    ]
    code = f"PATHS = {allowed!r}\n{PROBE}"
    found = json.loads(run_in_server(instance, ada, code).strip().splitlines()[-1])
    for path in allowed:
        assert found[path].startswith(("read", "listed")), found


def test_stop_leaves_nothing_running(hub):
    instance = hub.instance
    stopped = server.stop(instance, log=lambda _: None)
    assert any("JupyterHub" in s for s in stopped)
    assert server.hub_pid(instance) is None
    assert server.instance_processes(instance) == []
    for port in (instance.port, instance.proxy_api_port, instance.hub_port):
        assert server.port_free(port), port


# --- helpers ------------------------------------------------------------------------------------


def _expect(locator):
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT)
    return expect(locator)


def _solution_in(notebook_file: Path, reference) -> str:
    try:
        nb = json.loads(notebook_file.read_text())
    except (OSError, ValueError):
        return ""
    return "".join(nb["cells"][reference["class_cell"]]["source"])


def _wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.3)
