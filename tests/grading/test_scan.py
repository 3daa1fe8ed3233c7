"""The review scan: what intake and nbgrader's FlagForReview step mark for a human."""

from __future__ import annotations

from coursekit.grading.scan import forbidden_imports, review, suspicious
from coursekit.modules import graded_and_later

LATER = graded_and_later("05_autograd")


def test_later_modules_are_the_graded_one_and_after():
    assert "tinytorch.core.autograd" in LATER and "tinytorch.core.spatial" in LATER
    assert "tinytorch.core.tensor" not in LATER
    assert graded_and_later("nothing") == frozenset()


def test_imports_of_the_graded_module_are_found_in_every_form():
    for code in (
        "from tinytorch.core.autograd import *",
        "from tinytorch.core import autograd",
        "import tinytorch.core.autograd as r",
        "exec(open('tinytorch/core/autograd.py').read())",
        "import importlib\nm = importlib.import_module('tinytorch.core.spatial')",
    ):
        assert forbidden_imports(code, LATER), code
    assert forbidden_imports("from tinytorch.core.tensor import Tensor", LATER) == []
    assert forbidden_imports('"""Uses tinytorch.core.autograd later."""', LATER) == []


def test_tampering_with_the_checks_and_the_grader_is_found():
    code = (
        "np.allclose = lambda *a, **k: True\n"
        "check_close = lambda *a, **k: True\n"
        "def f():\n    global assert_tensor\n    assert_tensor = print\n"
        "get_ipython().showtraceback = lambda *a: None\n"
        "import sys\nsys.excepthook = None\n"
        "_grading.protect = lambda: None\n"
    )
    found = "\n".join(suspicious(code))
    for expected in (
        "line 1: changes np.allclose",
        "line 2: replaces the checks' check_close",
        "line 4: rebinds the checks' assert_tensor",
        "line 6: get_ipython()",
        "line 8: uses sys.excepthook",
        "line 9: uses the grader's _grading",
    ):
        assert expected in found, expected


def test_ordinary_student_code_is_not_flagged():
    code = (
        "import numpy as np\n"
        "def forward(self, x):\n"
        "    close = np.abs(x.data) < 1\n"
        "    self.model.eval()\n"
        "    state = vars(self)\n"
        "    setattr(self, 'weight', state['weight'])\n"
        "    return Tensor(np.where(close, x.data, 0))\n"
    )
    assert review(code, LATER) == []
    assert review("eval('1 + 1')", LATER) == ["line 1: eval() runs code from a string"]
    assert review("setattr(np, 'allclose', f)", LATER) == [
        "line 1: setattr() changes a shared module or the checks"
    ]
