"""The course's nbgrader settings do what nbgrader_config.py says, checked through nbgrader."""

import shutil

import pytest

from coursekit.authoring import build
from coursekit.course import Course
from coursekit.modules import REPO, discover
from coursekit.quality import mutants

TOY = '''# %% kind="locked" id="setup" export=true
import numpy as np

# %% kind="solution" id="grow" export=true
def grow(x):
    """Multiply by 10 in float32 (overflows to inf for huge x)."""
    ### BEGIN SOLUTION
    return np.float32(x) * np.float32(10)
    ### END SOLUTION

# %% kind="test" id="test_grow" points=1
# numpy warns "overflow encountered" on stderr: nbgrader would zero this cell.
assert np.isinf(grow(3e38)), "float32 overflow gives inf"
### BEGIN HIDDEN TESTS
# hidden: grows small numbers tenfold
assert grow(2.0) == 20.0, "tenfold"
### END HIDDEN TESTS
'''


@pytest.mark.xdist_group("nbgrader")
def test_a_library_warning_does_not_zero_a_correct_test_cell(tmp_path):
    folder = tmp_path / "masters" / "09_toy"
    folder.mkdir(parents=True)
    (folder / "module.toml").write_text(
        'number = 9\nname = "toy"\ntitle = "Toy"\npackage = "tinytorch.core.toy"\n'
    )
    (folder / "toy.py").write_text(TOY)
    shutil.copy2(REPO / "nbgrader_config.py", tmp_path)
    build.build(tmp_path, root=tmp_path, execute_solutions=False, log=lambda *_: None)
    module = discover(tmp_path)[0]
    course = Course.scratch(tmp_path / "course", [module], repo=tmp_path)
    src, rel = course.source_notebook(module), course.release_notebook(module)
    course.submit_directly("warned", module, mutants.submission(rel, mutants.solution_sources(src)))
    course.autograde(module)
    assert course.scores(module)["warned"].score == 1.0


def test_config_paths_come_from_the_config_files_location(tmp_path, monkeypatch):
    shutil.copy2(REPO / "nbgrader_config.py", tmp_path)
    monkeypatch.delenv("TINYTORCH_UNCONTAINED", raising=False)
    c = Course(tmp_path).config
    assert c.CourseDirectory.root == str(tmp_path)
    assert c.CourseDirectory.db_url == f"sqlite:///{tmp_path}/gradebook/gradebook.db"
    assert c.Exchange.root == str(tmp_path / "exchange")
    assert c.Execute.timeout > 30
    assert c.OverwriteCells.add_missing_cells is True
    assert c.Execute.kernel_name == "tinytorch-sandbox"
    assert c.KernelManager.transport == "ipc"
    assert c.KernelManager.ip.startswith("/tmp/tinytorch-grading-")
    assert Course(tmp_path).sandbox().memory_mb == c.Sandbox.memory_mb > 0
