"""The generated hub configuration, without starting anything (no root needed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from jupyterhub.app import JupyterHub
from jupyterhub.auth import Authenticator
from jupyterhub.proxy import ConfigurableHTTPProxy
from jupyterhub.spawner import Spawner
from traitlets.config.loader import PyFileConfigLoader

from coursekit.course import CONFIG_FILE
from coursekit.hub import config, environment
from coursekit.hub.layout import HubError, Instance
from coursekit.hub.spawner import CourseSpawner, blocking_ancestor
from coursekit.modules import REPO

CLASSES = {
    "JupyterHub": JupyterHub,
    "ConfigurableHTTPProxy": ConfigurableHTTPProxy,
    "Authenticator": Authenticator,
    "Spawner": Spawner,
    "CourseSpawner": CourseSpawner,
}


@pytest.fixture
def instance(tmp_path) -> Instance:
    made = Instance(name="unit", prefix="u-", students=("ada",), root=tmp_path / "hubs")
    made.course_root.mkdir(parents=True)
    shutil.copy2(REPO / CONFIG_FILE, made.course_root / CONFIG_FILE)
    return made


def test_every_setting_of_the_generated_config_is_a_real_trait(instance, tmp_path):
    path = config.write_hub_config(instance, Path("/usr/bin/true"), [REPO])
    loaded = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    for section, settings in loaded.items():
        cls = CLASSES[section]
        for name in settings:
            trait = cls.class_traits(config=True).get(name)
            assert trait is not None, f"{section}.{name} is not a setting of {cls.__name__}"
    assert loaded.JupyterHub.ip == loaded.Spawner.ip == "127.0.0.1"  # loopback only
    assert loaded.Authenticator.admin_users == {"u-instructor"}
    assert loaded.CourseSpawner.instructors == {"u-instructor"}
    assert loaded.CourseSpawner.hidden_paths == [str(REPO)]
    roles = loaded.CourseSpawner.role_environment
    assert roles["student"]["PYTHONPATH"] == str(instance.share)
    assert str(instance.course_root) not in json.dumps(roles["student"])
    assert roles["instructor"]["PYTHONPATH"] == str(instance.course_root)
    for role in roles.values():
        assert role["TINYTORCH_EXCHANGE"] == str(instance.exchange)


def test_role_configs_name_the_course_and_switch_off_the_instructor_tools(instance):
    config.write_role_configs(instance)
    student = instance.jupyter_config("student")
    nbgrader = PyFileConfigLoader("nbgrader_config.py", path=str(student)).load_config()
    assert nbgrader.CourseDirectory.course_id == "tinytorch"
    assert nbgrader.Exchange.root == str(instance.exchange)
    server = json.loads((student / "jupyter_server_config.json").read_text())
    assert not any(server["ServerApp"]["jpserver_extensions"].values())
    assert "nbgrader.server_extensions.assignment_list" not in json.dumps(server)
    page = json.loads((student / "labconfig" / "page_config.json").read_text())
    assert "@jupyter/nbgrader:formgrader" in page["disabledExtensions"]
    assert "@jupyter/nbgrader:assignment-list" not in page["disabledExtensions"]
    instructor = instance.jupyter_config("instructor") / "nbgrader_config.py"
    assert str(instance.course_root / CONFIG_FILE) in instructor.read_text()


def test_server_requirements_are_the_lock_without_the_test_tools():
    pins = environment.server_requirements(REPO)
    names = {p.split("==")[0].lower() for p in pins}
    assert {"jupyterhub", "nbgrader", "jupyterlab", "notebook", "numpy"} <= names
    assert not names & environment.NOT_ON_SERVERS


def test_instance_refuses_bad_names_and_a_root_inside_the_repository(tmp_path):
    with pytest.raises(HubError, match="lower-case"):
        Instance(name="Demo", root=tmp_path)
    with pytest.raises(HubError, match="lower-case"):
        Instance(students=("ada+1",), root=tmp_path)
    with pytest.raises(HubError, match="inside the repository"):
        Instance(root=REPO / "build" / "hub")


def test_saved_instance_comes_back(instance):
    instance.hub_dir.mkdir(parents=True)
    instance.save()
    assert Instance.load("unit", instance.root) == instance


def test_blocking_ancestor_is_the_highest_folder_others_cannot_enter(tmp_path):
    closed = tmp_path / "closed"
    (closed / "inner").mkdir(parents=True)
    closed.chmod(0o700)
    found = blocking_ancestor(closed / "inner")
    highest = next(p for p in reversed((closed / "inner").parents) if not p.stat().st_mode & 0o001)
    assert found == highest and (closed / "inner").is_relative_to(found)
    assert blocking_ancestor(Path("/usr/bin/env")) is None
