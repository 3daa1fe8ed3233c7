"""Dask workers are refused unless they grade with this environment and see this course."""

from pathlib import Path

from coursekit.grading import cluster
from coursekit.grading.database import redact, socket_folder
from coursekit.modules import REPO

MODULE = "01_tensor"


def here(tmp_path: Path, token: str = "t") -> dict:
    (tmp_path / "staging" / cluster.TOKEN_DIR).mkdir(parents=True)
    (tmp_path / "staging" / cluster.TOKEN_DIR / "name").write_text(token)
    return cluster.environment(str(REPO), MODULE, "name") | {"token": token}


def test_a_worker_like_this_machine_passes(tmp_path):
    mine = here(tmp_path)
    assert mine["packages"]["nbgrader"] == "0.9.6" and mine["packages"]["distributed"]
    assert cluster.compare(mine, dict(mine), "t") == []


def test_another_package_version_python_or_course_is_named(tmp_path):
    mine = here(tmp_path)
    theirs = mine | {"python": "3.12.1", "course": "0" * 64}
    theirs["packages"] = mine["packages"] | {"numpy": "1.26.4"}
    problems = cluster.compare(mine, theirs, "t")
    assert any("Python 3.12.1" in p for p in problems)
    assert any("numpy 1.26.4" in p and "here" in p for p in problems)
    assert any("other course files" in p for p in problems)


def test_a_worker_without_the_shared_course_folder_is_told_so(tmp_path):
    mine = here(tmp_path)
    elsewhere = cluster.environment(str(tmp_path / "not-shared"), MODULE, "name")
    assert elsewhere["token"] is None and elsewhere["course"] == "no course folder"
    problems = cluster.compare(mine, elsewhere, "t")
    assert problems == ["cannot read the course folder at the same path (shared storage is needed)"]


def test_the_course_digest_follows_the_tests(tmp_path):
    import shutil

    for name in ("nbgrader_config.py",):
        shutil.copy2(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "source" / MODULE, tmp_path / "source" / MODULE)
    before = cluster.course_digest(tmp_path, MODULE)
    notebook = next((tmp_path / "source" / MODULE).glob("*.ipynb"))
    notebook.write_text(notebook.read_text().replace("assert", "assert  ", 1))
    assert cluster.course_digest(tmp_path, MODULE) != before


def test_database_urls():
    url = "postgresql://tt:secret@db.example:5432/gradebook"
    assert redact(url) == "postgresql://tt:***@db.example:5432/gradebook"
    assert socket_folder("postgresql://tt@/gb?host=/var/run/postgresql") == Path(
        "/var/run/postgresql"
    )
    assert socket_folder(url) is None and socket_folder("sqlite:///x.db") is None
