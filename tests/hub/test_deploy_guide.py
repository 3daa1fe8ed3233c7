"""docs/deploy-jupyterhub.md agrees with the code, where it can be checked here.

The guide marks each checked block with `<!-- checked: NAME -->` on the line before it:
- the systemd unit: `systemd-analyze verify` accepts it once pointed at this repository,
  its two commands parse with coursekit's own command line, its PIDFile is the hub's;
- the Helm values and the student image: the exchange path, the course id and the
  extensions switched off for students are the ones the course and the local hub use.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from coursekit.cli import parser
from coursekit.course import Course
from coursekit.hub import config, environment
from coursekit.hub.layout import Instance
from coursekit.modules import REPO

GUIDE = REPO / "docs" / "deploy-jupyterhub.md"
INSTALLED = "/opt/tinytorch-course"  # where the guide clones the course


def block(name: str) -> str:
    text = GUIDE.read_text()
    found = re.search(rf"<!-- checked: {name} -->\n```\w+\n(.*?)```", text, re.S)
    assert found, f"no checked block {name!r} in {GUIDE}"
    return found.group(1)


def unit_settings(unit: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_unit_commands_are_coursekit_hub_start_and_stop_of_one_instance():
    settings = unit_settings(block("systemd unit"))
    environment_lines = dict(e.split("=", 1) for e in settings["Environment"])
    root = Path(environment_lines["TINYTORCH_HUB_ROOT"])
    parsed = {}
    for key in ("ExecStart", "ExecStop"):
        words = shlex.split(settings[key][0].replace("${STUDENTS}", "ada,grace"))
        assert words[0] == f"{INSTALLED}/.venv/bin/coursekit"
        parsed[key] = parser().parse_args(words[1:])
    start, stop = parsed["ExecStart"], parsed["ExecStop"]
    assert (start.command, start.action, stop.command, stop.action) == (
        "hub",
        "start",
        "hub",
        "stop",
    )
    assert start.name == stop.name and start.root == stop.root == Path(INSTALLED)
    instance = Instance(name=start.name, root=root, repo=Path(INSTALLED))
    assert settings["PIDFile"] == [str(instance.pid_file)]
    assert settings["Type"] == ["forking"]  # start returns once the hub answers


def test_systemd_accepts_the_unit(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    unit = block("systemd unit").replace(INSTALLED, str(REPO))
    env_file = tmp_path / "course.env"
    env_file.write_text("STUDENTS=ada,grace\n")
    unit = re.sub(r"EnvironmentFile=.*", f"EnvironmentFile={env_file}", unit)
    path = tmp_path / "tinytorch-hub.service"
    path.write_text(unit)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=120
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "tinytorch-hub.service" in line
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_helm_values_agree_with_the_course_and_the_local_hub():
    values = yaml.safe_load(block("helm values"))
    single = values["singleuser"]
    exchange = single["extraEnv"]["TINYTORCH_EXCHANGE"]
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    assert mounts["nbgrader-exchange"] == exchange
    files = single["extraFiles"]
    student_config = files["student-nbgrader"]["stringData"]
    assert f'c.Exchange.root = "{exchange}"' in student_config
    assert f'c.CourseDirectory.course_id = "{Course(REPO).course_id}"' in student_config
    student_dir = single["extraEnv"]["JUPYTER_CONFIG_PATH"]
    assert files["student-server"]["mountPath"] == f"{student_dir}/jupyter_server_config.json"
    off = files["student-server"]["data"]["ServerApp"]["jpserver_extensions"]
    assert off == {f"nbgrader.server_extensions.{n}": False for n in config.STUDENT_OFF_SERVER}
    page = files["student-page"]["data"]["disabledExtensions"]
    assert page == {f"@jupyter/nbgrader:{n}": True for n in config.STUDENT_OFF_PAGE}
    hook = values["hub"]["extraConfig"]["tinytorch-roles"]
    compile(hook, "tinytorch-roles", "exec")  # the hook is Python the hub can load
    instructor = files["instructor-nbgrader"]
    assert f'JUPYTER_CONFIG_PATH"] = "{Path(instructor["mountPath"]).parent}"' in hook


def test_student_image_holds_what_the_local_share_holds_and_leaves_out_the_same():
    dockerfile = block("student image")
    copied = re.findall(r"^COPY (\S+) (\S+)", dockerfile, re.M)
    sources = {source for source, _ in copied}
    assert sources == {"requirements.lock", *environment.SHARED}
    for source in sources:
        assert (REPO / source).exists(), source
    left_out = re.search(r"grep -v -E '\^\(([^)]*)\)=='", dockerfile).group(1).split("|")
    assert set(left_out) == environment.NOT_ON_SERVERS
    instance = Instance(name="check")
    pins = environment.server_requirements(instance.repo)
    assert not [p for p in pins if p.split("==")[0] in {"tinytorch-course", "coursekit"}]
