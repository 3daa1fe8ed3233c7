"""The course's autograde steps on hand-made notebooks (no kernel needed)."""

from __future__ import annotations

import json
import os

import nbformat
from traitlets.config import Config

from coursekit.grading import sandbox
from coursekit.plugins.preprocessors import (
    SKIPPED,
    PrepareSandbox,
    SkipUngradedTail,
    TruncateOutputs,
    truncate,
)
from tests.handmade import cell, markdown, notebook


def test_cells_after_the_last_test_are_blanked_and_nothing_before():
    nb = notebook(
        cell(None, "x = 1"),
        cell("solution", "def f():\n    return 1", "f"),
        cell("test", "assert f() == 1", "test_f"),
        markdown("## Systems analysis"),
        cell(None, "measure()"),
        cell("locked", "given = 2", "given"),
    )
    out, _ = SkipUngradedTail().preprocess(nb, {})
    assert [c.source for c in out.cells] == [
        "x = 1",
        "def f():\n    return 1",
        "assert f() == 1",
        "## Systems analysis",
        SKIPPED,
        "given = 2",  # nbgrader cells are restored from the gradebook: never touched
    ]


def test_a_notebook_without_tests_is_left_alone():
    nb = notebook(cell(None, "x = 1"), cell(None, "y = 2"))
    out, _ = SkipUngradedTail().preprocess(nb, {})
    assert [c.source for c in out.cells] == ["x = 1", "y = 2"]


def test_long_outputs_keep_their_start_and_end():
    text = "a" * 1000 + "b" * 1000
    short = truncate(text, 400)
    assert short.startswith("a" * 300) and short.endswith("b" * 100)
    assert "1600 characters removed" in short
    assert truncate("short", 400) == "short"
    c = cell(None, "print(...)")
    c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 5000)]
    out, _ = TruncateOutputs(max_chars=100).preprocess(notebook(c), {})
    assert len(out.cells[0].outputs[0].text) < 300


def test_prepare_sandbox_hands_the_launcher_its_settings(tmp_path, monkeypatch):
    monkeypatch.delenv(sandbox.ENV, raising=False)
    config = Config()
    config.Execute.kernel_name = sandbox.KERNEL_NAME
    config.KernelManager.ip = str(tmp_path / "sockets" / "kernel-1")
    config.CourseDirectory.root = str(tmp_path)
    config.Exchange.root = str(tmp_path / "exchange")
    config.Sandbox.memory_mb = 1234
    resources = {"nbgrader": {"assignment": "05_autograd"}}
    PrepareSandbox(config=config).preprocess(notebook(), resources)
    settings = json.loads(os.environ[sandbox.ENV])
    assert settings["memory_mb"] == 1234 and settings["cpu_seconds"] == 900
    assert settings["assignment"] == "05_autograd"
    assert settings["course_root"] == str(tmp_path)
    assert settings["hide"] == [str(tmp_path / "exchange")]
    assert (tmp_path / "sockets").stat().st_mode & 0o7777 == 0o1733


def test_prepare_sandbox_does_nothing_when_grading_uncontained(tmp_path, monkeypatch):
    monkeypatch.delenv(sandbox.ENV, raising=False)
    config = Config()
    config.KernelManager.ip = str(tmp_path / "sockets" / "kernel-1")
    PrepareSandbox(config=config).preprocess(notebook(), {})
    assert sandbox.ENV not in os.environ and not (tmp_path / "sockets").exists()
