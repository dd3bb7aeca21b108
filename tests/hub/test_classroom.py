"""The parts of deploy/jupyterhub/classroom.py that need no root: who gets which of nbgrader's
extensions, what a roster may hold, and the shared environment that a trial runs when the
developer's interpreter is private. (Users, the exchange and the hub itself: test_class_on_jupyterhub.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deploy_modules import DEPLOY, classroom, shared_env


def settings(role: str) -> dict:
    files = classroom.jupyter_settings(role, "cnn-course", "/srv/nbgrader/exchange")
    return {
        "nbgrader": files[".jupyter/nbgrader_config.py"],
        "lab": json.loads(files[".jupyter/labconfig/page_config.d/cnn-course.json"])["disabledExtensions"],
        "server": json.loads(files[".jupyter/jupyter_server_config.d/cnn-course.json"])["ServerApp"]["jpserver_extensions"],
    }


def test_students_get_assignments_and_validate_only():
    student = settings("student")
    assert student["lab"] == {
        "@jupyter/nbgrader:assignment-list": False,
        "@jupyter/nbgrader:validate-assignment": False,
        "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:course-list": True,
        "@jupyter/nbgrader:create-assignment": True,
    }
    assert student["server"]["nbgrader.server_extensions.formgrader"] is False
    assert student["server"]["nbgrader.server_extensions.assignment_list"] is True
    assert "CourseDirectory.root" not in student["nbgrader"]


def test_the_instructor_gets_every_extension_and_the_course_folder():
    instructor = settings("instructor")
    assert not any(instructor["lab"].values()) and set(instructor["lab"]) == set(classroom.LAB_PLUGINS)
    assert all(instructor["server"].values()) and set(instructor["server"]) == set(classroom.SERVER_EXTENSIONS)
    config = instructor["nbgrader"]
    assert "c.CourseDirectory.root = course" in config and "c.Exchange.root = '/srv/nbgrader/exchange'" in config
    assert "c.CourseDirectory.course_id = 'cnn-course'" in config


def test_the_plugin_ids_are_nbgraders():
    """The ids we disable exist in the installed nbgrader Lab extension (a renamed plugin would
    silently stay enabled for students)."""
    static = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    code = "".join(p.read_text(errors="replace") for p in static.glob("*.js"))
    for plugin in classroom.LAB_PLUGINS:
        assert f'"{plugin}"' in code, plugin


def test_a_roster_is_checked(tmp_path):
    roster = tmp_path / "roster.txt"
    roster.write_text("# week 1\nalice\nbob  # late joiner\n\nalice\n")
    assert classroom.parse_students(["carol,dave", "erin"], str(roster)) == ["carol", "dave", "erin", "alice", "bob"]
    for bad in ("Alice", "bob+1", "-x", "a" * 33, "root dir"):
        with pytest.raises(classroom.SetupError, match="--students"):
            classroom.parse_students([bad], None)
    with pytest.raises(classroom.SetupError, match="--students-file: no file"):
        classroom.parse_students([], str(tmp_path / "missing.txt"))


def test_setup_refuses_without_root_or_with_a_student_as_instructor(tmp_path, monkeypatch):
    monkeypatch.setattr(classroom.os, "geteuid", lambda: 1000)
    with pytest.raises(classroom.SetupError, match="needs root"):
        classroom.setup_class(tmp_path, "teacher", ["alice"], tmp_path / "x", "cnn-course", Path(sys.prefix))
    monkeypatch.setattr(classroom.os, "geteuid", lambda: 0)
    with pytest.raises(classroom.SetupError, match="teacher is the instructor"):
        classroom.setup_class(tmp_path, "teacher", ["teacher"], tmp_path / "x", "cnn-course", Path(sys.prefix))
    with pytest.raises(classroom.SetupError, match="--course-id"):
        classroom.setup_class(tmp_path, "teacher", ["alice"], tmp_path / "x", "cnn+course", Path(sys.prefix))
    assert not (tmp_path / "class.json").exists()


def test_shared_env_runs_this_environment_on_a_public_python(tmp_path):
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if shared_env.public_python(version) is None:
        pytest.skip(f"no Python {version} that every user can run on this machine")
    target = shared_env.build(Path(sys.prefix), tmp_path / "venv")
    probe = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import sys, cnnlib, nbgrader, jupyterhub; print(sys.prefix); print(cnnlib.__file__)"],
        capture_output=True, text=True, timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    prefix, cnnlib_file = probe.stdout.split()
    assert Path(prefix) == target and Path(cnnlib_file).is_relative_to(DEPLOY.parent.parent)
    assert (target / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader").is_dir()
    script = (target / "bin" / "jupyterhub-singleuser").read_text()
    assert script.startswith(f"#!{target / 'bin' / 'python'}\n")
    assert shared_env.build(Path(sys.prefix), target) == target  # a second build keeps what is there


def test_the_profile_block_puts_the_environment_first_once(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    (tmp_path / ".profile").write_text("# the user's own\nexport EDITOR=vi")
    classroom.write_profile(classroom.profile_block("/opt/cnn-course/venv"))
    classroom.write_profile(classroom.profile_block("/opt/cnn-course/venv2"))  # setup again, another environment
    text = (tmp_path / ".profile").read_text()
    assert text.startswith("# the user's own\nexport EDITOR=vi\n") and text.count(classroom.PROFILE_BEGIN) == 1
    assert "/opt/cnn-course/venv2/bin" in text and "/opt/cnn-course/venv/bin" not in text
    login = subprocess.run(["sh", "-c", f". {tmp_path / '.profile'}; . {tmp_path / '.profile'}; echo $PATH"],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert login.stdout.strip() == "/opt/cnn-course/venv2/bin:/usr/bin:/bin", login
