"""`tito status`'s milestone table (each era, the modules it needs, what unlocks it) and
`tito milestone`'s options for the script."""

import shutil

from coursekit.modules import REPO
from tito import status


def expand(ranges: str) -> set[int]:
    """ "01-03, 05" -> {1, 2, 3, 5}: the inverse of status.module_ranges."""
    found = set()
    for part in ranges.split(", "):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return found


def test_module_ranges_are_short():
    assert status.module_ranges({1, 2, 3, 5, 10, 11}) == "01-03, 05, 10-11"
    assert status.module_ranges(set()) == "-"
    assert expand(status.module_ranges({1, 2, 3, 5, 10, 11})) == {1, 2, 3, 5, 10, 11}


def test_an_era_is_ready_when_every_module_it_needs_is_in_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_MILESTONES", str(REPO / "milestones"))
    empty = {row.era: row for row in status.era_rows(tmp_path)}
    assert empty["1957 perceptron"].needs == "01"
    assert empty["1957 perceptron"].ready == "after 01"
    assert empty["1998 cnn"].ready == f"after {empty['1998 cnn'].needs}"

    shutil.copytree(REPO / "tinytorch", tmp_path / "tinytorch")
    assert all(row.ready == "yes" for row in status.era_rows(tmp_path))
    (tmp_path / "tinytorch" / "core" / "spatial.py").unlink()
    after = {row.era: row.ready for row in status.era_rows(tmp_path)}
    assert after["1998 cnn"] == "after 09" and after["1986 mlp"] == "yes"
    optimization = {row.era: row for row in status.era_rows(tmp_path)}["2018 optimization"]
    assert "quantize-gpt" in optimization.milestones
    assert 17 in expand(optimization.needs)  # quantize-gpt names Module 17


def test_options_after_a_double_dash_reach_the_milestone_script(monkeypatch, capsys):
    from tito import cli, milestones

    monkeypatch.setenv("TINYTORCH_MILESTONES", str(REPO / "milestones"))
    seen = []
    monkeypatch.setattr(milestones, "run", lambda m, root, args: seen.append(args) or 0)
    assert cli.main(["milestone", "mlp-digits", "--seed", "1", "--", "--epochs", "2"]) == 0
    assert cli.main(["milestone", "mlp-digits", "--", "--epochs", "3"]) == 0
    assert seen == [["--seed", "1", "--epochs", "2"], ["--epochs", "3"]]
    try:
        cli.main(["status", "--", "--epochs", "2"])
    except SystemExit as stop:
        assert stop.code == 2
    else:
        raise AssertionError("options after -- were accepted by a command that has none")
    assert "only `tito milestone NAME -- OPTIONS`" in capsys.readouterr().err
