"""A check that needs a data set the grading machine lacks is the machine's problem, not the
student's: ``cnncourse grade`` stops before grading anything and says what to put where, and a
check that meets the missing data mid-grading raises instead of recording 0 points."""

from __future__ import annotations

import shutil

import pytest

from autograder.cli import main as cnncourse
from autograder.course import Course, course_notebooks
from cnnlib.checks import check, nb13
from cnnlib.checks.core import CheckSetupError, collecting
from cnnlib.data import cache
from cnnlib.data.errors import DatasetNotFoundError


@pytest.fixture
def offline_without_data(tmp_path, monkeypatch):
    """No local copy anywhere and no network."""
    (tmp_path / "no-data").mkdir()
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "no-cache"))

    def no_network(url, dest):
        raise OSError(f"no network in this test ({url})")

    monkeypatch.setattr(cache, "_fetch", no_network)


def test_check_raises_setup_error_instead_of_failing_the_answer(offline_without_data):
    @check(points=1)
    def needs_data(answer):
        """a check that loads CIFAR-10"""
        from cnnlib.data import load_cifar10

        load_cifar10("test")

    with collecting() as reporter, pytest.raises(CheckSetupError, match="cifar-10-python.tar.gz") as info:
        needs_data(lambda: None)
    assert reporter.results == []  # no 0-point verdict was recorded
    assert isinstance(info.value.__cause__, DatasetNotFoundError)


def test_nb13_prepare_names_the_missing_files(offline_without_data):
    with pytest.raises(CheckSetupError, match="notebook 13") as info:
        nb13.prepare()
    assert "CNNLIB_DATA" in str(info.value)


@pytest.mark.slow
def test_grade_stops_before_grading_when_checks_lack_their_data(offline_without_data, tmp_path, capsys):
    (source,) = [p for p in course_notebooks() if p.name.startswith("13_")]
    course = Course(tmp_path / "course")
    assert cnncourse(["release", "--course", str(course.root), "--no-manifest", str(source)]) == 0
    submitted = course.submitted / "alice" / source.stem / f"{source.stem}.ipynb"
    submitted.parent.mkdir(parents=True)
    shutil.copy(course.release_notebook(source.stem), submitted)
    capsys.readouterr()

    assert cnncourse(["grade", "--course", str(course.root), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "nothing was graded" in err and "CIFAR-10" in err and "cifar-10-python.tar.gz" in err, err
    assert not any(course.state.rglob("results/**/*.json"))  # no result was written, so a later run grades alice
    assert submitted.is_file()  # the submission is untouched

    assert cnncourse(["check", str(submitted), "--no-bwrap"]) == 2
    assert "the checks cannot run on this machine" in capsys.readouterr().err
