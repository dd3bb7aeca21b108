"""pyproject.toml and environment.yml pin the same versions, and the running environment has them."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def pyproject_requirements() -> list[Requirement]:
    project = pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(line) for line in lines]


def environment() -> dict:
    return yaml.safe_load((REPO / "environment.yml").read_text())


def environment_pip_lines() -> list[str]:
    for entry in environment()["dependencies"]:
        if isinstance(entry, dict) and "pip" in entry:
            return entry["pip"]
    raise AssertionError("environment.yml has no pip: section")


def key(requirement: Requirement) -> tuple[str, frozenset]:
    return re.sub(r"[-_.]+", "-", requirement.name).lower(), frozenset(requirement.extras)


def pinned_version(requirement: Requirement) -> str:
    specs = list(requirement.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"{requirement} is not pinned with =="
    return specs[0].version


def test_every_dependency_is_pinned():
    for requirement in pyproject_requirements():
        pinned_version(requirement)


def test_environment_yml_pins_the_same_versions_as_pyproject():
    ours = {key(r): pinned_version(r) for r in pyproject_requirements()}
    lines = environment_pip_lines()
    conda = {key(Requirement(line)): pinned_version(Requirement(line)) for line in lines if not line.startswith("-")}
    assert conda == ours, (
        f"only in pyproject.toml: {sorted(set(ours) - set(conda))}; only in environment.yml: {sorted(set(conda) - set(ours))}; "
        f"different versions: {sorted((k, ours[k], conda[k]) for k in set(ours) & set(conda) if ours[k] != conda[k])}"
    )
    assert "-e ." in lines, "environment.yml must install the course itself (`-e .`)"


def test_python_version_agrees():
    python = [d for d in environment()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python == ["python=3.11"], python
    assert "3.11" in pyproject()["project"]["requires-python"] or ">=3.11" in pyproject()["project"]["requires-python"]
    assert "(3, 11)" in (REPO / "Makefile").read_text(), "the Makefile checks for Python 3.11"


def test_this_environment_has_the_pinned_versions():
    """What the tests run against is what the pins say (a CUDA build of torch, 2.13.0+cu..., counts)."""
    assert sys.version_info[:2] == (3, 11)
    wrong = []
    for requirement in pyproject_requirements():
        try:
            installed = Version(metadata.version(requirement.name))
        except metadata.PackageNotFoundError:
            wrong.append(f"{requirement.name} is not installed")
            continue
        if Version(installed.base_version) != Version(pinned_version(requirement)):
            wrong.append(f"{requirement.name} {installed} (pinned {pinned_version(requirement)})")
    assert not wrong, "; ".join(wrong) + ": run `make setup` (it reinstalls when pyproject.toml changes)"
