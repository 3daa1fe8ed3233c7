"""The sandbox's typed settings and what it leaves of the reference package."""

from __future__ import annotations

from traitlets.config import Config

from coursekit.course import Course
from coursekit.grading.sandbox import Sandbox, allowed_reference
from coursekit.modules import REPO


def test_one_set_of_defaults_and_the_config_overrides_them():
    assert Sandbox().limits() == {
        "cpu_seconds": 900,
        "file_mb": 256,
        "memory_mb": 4096,
        "processes": 256,
        "tmp_mb": 256,
    }
    config = Config()
    config.Sandbox.cpu_seconds = 30
    assert Sandbox(config=config).limits()["cpu_seconds"] == 30


def test_the_course_config_states_every_limit_it_uses():
    limits = Course(REPO).sandbox().limits()
    assert limits["memory_mb"] == 4096 and limits["cpu_seconds"] == 900


def test_grading_a_module_leaves_only_the_earlier_modules_of_the_reference():
    files = allowed_reference(REPO / "tinytorch", "05_autograd")
    names = {p.as_posix() for p in files}
    assert "tinytorch/core/tensor.py" in names and "tinytorch/core/losses.py" in names
    assert "tinytorch/__init__.py" in names and "tinytorch/core/__init__.py" in names
    assert "tinytorch/core/autograd.py" not in names  # the graded module
    assert "tinytorch/core/spatial.py" not in names  # a later one
    assert not any(n.startswith("tinytorch/data/") for n in names)  # 08, later too


def test_the_first_module_and_unknown_assignments_see_no_reference():
    assert allowed_reference(REPO / "tinytorch", "01_tensor") == {}
    assert allowed_reference(REPO / "tinytorch", "99_nothing") == {}
