"""tito's messages where a newcomer tripped: set-up on a hub, stubs, copies, stripped cells,
and what counts as a milestone. Each runs `python -m tito` as the student would, with HOME
set to a fresh home folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.modules import REPO
from coursekit.tools import tool_env
from tito import exchange, milestones

RELEASE = REPO / "release" / "01_tensor" / "tensor.ipynb"


def tito(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = tool_env(HOME=str(home), COLUMNS="160", **env)
    for name in ("PYTHONPATH", "TINYTORCH_HOME", "IPYTHONDIR", "JUPYTER_CONFIG_DIR"):
        environment.pop(name, None)
    for name in (exchange.COURSE_ENV, exchange.EXCHANGE_ENV):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "tito", *args],
        cwd=home,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def home(tmp_path) -> Path:
    folder = tmp_path / "ada"
    folder.mkdir()
    return folder


def test_setup_writes_the_students_nbgrader_config_from_the_hub(home, tmp_path):
    shared = tmp_path / "exchange"
    shared.mkdir()
    hub = {exchange.EXCHANGE_ENV: str(shared), exchange.COURSE_ENV: "tinytorch"}
    result = tito(home, "setup", "--write", **hub)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (home / ".jupyter" / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'tinytorch'" in text
    assert f"c.Exchange.root = {str(shared)!r}" in text
    assert "It is in place." in tito(home, "setup", **hub).stdout
    # Off the hub, with no exchange known: say so, exit 2, write no nbgrader config.
    other = tmp_path / "bob"
    other.mkdir()
    elsewhere = tito(other, "setup", "--write")
    assert elsewhere.returncode == 2 and exchange.EXCHANGE_ENV in elsewhere.stdout
    assert not (other / ".jupyter" / "nbgrader_config.py").exists()


def test_setup_never_overwrites_a_config_it_did_not_write(home, tmp_path):
    mine = home / ".jupyter" / "nbgrader_config.py"
    mine.parent.mkdir()
    mine.write_text("c = get_config()\nc.Exchange.root = '/my/own'\n")
    result = tito(home, "setup", "--write", **{exchange.EXCHANGE_ENV: str(tmp_path)})
    assert result.returncode == 2 and "was not written by tito" in result.stdout
    assert mine.read_text() == "c = get_config()\nc.Exchange.root = '/my/own'\n"


def test_the_course_id_default_is_the_courses():
    from coursekit.course import Course

    assert exchange.DEFAULT_COURSE_ID == Course(REPO).course_id


def fetched(home: Path, name: str = "tensor.ipynb", nb=None) -> Path:
    folder = home / "01_tensor"
    folder.mkdir(exist_ok=True)
    nbformat.write(nb or nbformat.read(RELEASE, 4), folder / name)
    return folder


def test_a_failing_stub_names_its_task(home):
    fetched(home)
    result = tito(home, "test", "01_tensor")
    assert result.returncode == 1
    assert "test_tensor_init" in result.stdout
    assert "task tensor_init still holds its stub" in result.stdout, result.stdout


def test_a_notebook_without_cell_metadata_says_why_nothing_is_tested(home):
    nb = nbformat.read(RELEASE, 4)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    fetched(home, nb=nb)
    result = tito(home, "test", "01_tensor")
    assert result.returncode == 1
    assert "has no test cells" in result.stderr and "metadata" in result.stderr
    assert "0/0" not in result.stdout


def test_a_copy_of_the_notebook_is_never_used_silently(home):
    folder = fetched(home, "tensor (1).ipynb")
    only_copy = tito(home, "test", "01_tensor")
    assert only_copy.returncode == 2
    assert "~/01_tensor/tensor.ipynb is missing" in only_copy.stderr
    assert "rename your notebook to tensor.ipynb" in only_copy.stderr
    shutil.copy(folder / "tensor (1).ipynb", folder / "tensor.ipynb")
    both = tito(home, "test", "01_tensor")
    assert "warning: ~/01_tensor/tensor (1).ipynb is another notebook of 01_tensor" in both.stdout
    assert "Running ~/01_tensor/tensor.ipynb" in both.stdout


def test_helpers_in_the_milestone_folders_are_not_milestones(tmp_path):
    names = {m.script.name for m in milestones.discover(REPO / "milestones")}
    assert "cifar10.py" not in names and "lecun_cifar10.py" in names
    era = tmp_path / "05_2001_test"
    era.mkdir(parents=True)
    (era / "helper.py").write_text('"""Loads data."""\ndef load():\n    return 1\n')
    (era / "demo.py").write_text('"""A milestone."""\nif __name__ == "__main__":\n    pass\n')
    assert [m.name for m in milestones.discover(tmp_path)] == ["demo"]
